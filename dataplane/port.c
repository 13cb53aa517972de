/* dataplane/port.c - open and start the capture port (see port.h). */
#include "dataplane/port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dataplane/rss.h"

static const char *device_name(const struct ots_config *cfg)
{
	switch (cfg->port_kind) {
	case OTS_PORT_PCAP:
		return "net_pcap0";
	case OTS_PORT_IFACE:
		return "net_af_packet0";
	case OTS_PORT_MEMIF:
		return "net_memif0";
	default:
		return cfg->port_name;
	}
}

static int configure(const struct ots_config *cfg, struct ots_port *p, const struct rte_eth_dev_info *di,
		     char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (p->nrxq > 1 && di->flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)ots_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = di->hash_key_size ? di->hash_key_size : OTS_RSS_KEY_LEN;
		if (conf.rx_adv_conf.rss_conf.rss_key_len > sizeof(ots_rss_key))
			conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(ots_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & di->flow_type_rss_offloads;
	}
	if (cfg->port_kind == OTS_PORT_PCAP && (di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	uint16_t ntx = di->max_tx_queues ? 1 : 0;
	int r = rte_eth_dev_configure(p->id, p->nrxq, ntx, &conf);
	if (r < 0) {
		snprintf(err, errlen, "port %s: configure with %u rx queues failed: %s", p->name, p->nrxq, strerror(-r));
		return r;
	}
	uint16_t nrx = (uint16_t)cfg->rx_descriptors, ndummy = 64;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nrx, &ndummy);
	int socket = rte_eth_dev_socket_id(p->id);
	if (socket < 0)
		socket = 0;
	for (uint16_t q = 0; q < p->nrxq; q++) {
		r = rte_eth_rx_queue_setup(p->id, q, nrx, (unsigned)socket, NULL, p->mp);
		if (r < 0) {
			snprintf(err, errlen, "port %s: rx queue %u setup (%u descriptors) failed: %s; lower "
				 "dataplane.rx_descriptors", p->name, q, nrx, strerror(-r));
			return r;
		}
	}
	if (ntx) {
		r = rte_eth_tx_queue_setup(p->id, 0, ndummy, (unsigned)socket, NULL);
		if (r < 0) {
			snprintf(err, errlen, "port %s: tx queue setup failed: %s", p->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

int ots_port_open(const struct ots_config *cfg, struct ots_port *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->ts_offset = -1;
	snprintf(p->name, sizeof(p->name), "%s", device_name(cfg));
	if (rte_eth_dev_get_port_by_name(p->name, &p->id) != 0) {
		snprintf(err, errlen, "port %s (%s) was not created by DPDK; for PCI NICs bind the device to vfio-pci "
			 "(dpdk-devbind.py), for pcap/iface check the EAL log above", p->name, cfg->port_name);
		return -ENODEV;
	}
	p->opened = 1;
	struct rte_eth_dev_info di;
	int r = rte_eth_dev_info_get(p->id, &di);
	if (r < 0) {
		snprintf(err, errlen, "port %s: cannot read device info: %s", p->name, strerror(-r));
		goto fail;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", di.driver_name ? di.driver_name : "?");
	unsigned want = cfg->rx_queues ? cfg->rx_queues : cfg->workers;
	p->nrxq = (uint16_t)(want < di.max_rx_queues ? want : di.max_rx_queues);
	if (p->nrxq == 0)
		p->nrxq = 1;
	int socket = rte_eth_dev_socket_id(p->id);
	p->mp = rte_pktmbuf_pool_create("ots_mbufs", cfg->mbufs, cfg->mbuf_cache, 0, (uint16_t)cfg->mbuf_data_size,
					socket < 0 ? 0 : socket);
	if (!p->mp) {
		snprintf(err, errlen, "port %s: cannot create a pool of %u mbufs: %s; lower dataplane.mbufs or raise "
			 "dataplane.memory_mb", p->name, cfg->mbufs, rte_strerror(rte_errno));
		r = -ENOMEM;
		goto fail;
	}
	if ((r = configure(cfg, p, &di, err, errlen)) < 0)
		goto fail;
	r = rte_eth_dev_start(p->id);
	if (r < 0) {
		snprintf(err, errlen, "port %s: start failed: %s", p->name, strerror(-r));
		goto fail;
	}
	p->started = 1;
	rte_eth_promiscuous_enable(p->id); /* a SPAN port carries other hosts' traffic; not all PMDs support it */
	if (cfg->port_kind == OTS_PORT_PCAP && !cfg->pcap_loop) {
		int off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
		if (off >= 0 && bit >= 0) {
			p->ts_offset = off;
			p->ts_flag = 1ull << bit;
			p->ts_mult = 1000; /* net_pcap (22.11) stores tv_sec * 10^6 + tv_usec */
		}
	}
	return 0;
fail:
	ots_port_close(p);
	return r;
}

void ots_port_close(struct ots_port *p)
{
	if (p->started)
		rte_eth_dev_stop(p->id);
	if (p->opened)
		rte_eth_dev_close(p->id);
	p->started = p->opened = 0;
	if (p->mp)
		rte_mempool_free(p->mp);
	p->mp = NULL;
}

void ots_port_stats(const struct ots_port *p, struct ots_port_stats *s)
{
	struct rte_eth_stats es;
	memset(s, 0, sizeof(*s));
	if (!p->opened || rte_eth_stats_get(p->id, &es) != 0)
		return;
	s->ipackets = es.ipackets;
	s->ibytes = es.ibytes;
	s->imissed = es.imissed;
	s->ierrors = es.ierrors;
	s->nombuf = es.rx_nombuf;
}
