/* dataplane/port.h - the capture port: open, configure, start, stop, close.
 *
 * Contract:
 *  - ots_port_open() finds the device EAL created from the config (vdev or PCI), gives it a mempool and
 *    min(wanted, device max) rx queues; NICs with several queues get RSS with the symmetric key (rss.h) so
 *    both directions of a flow reach one queue; pcap ports get the rx timestamp offload so packet time is
 *    capture time. On failure everything opened is closed again and err says what and how to fix it.
 *  - ots_port_close() stops the port before closing it (net_pcap requires that order).
 */
#ifndef OTS_PORT_H
#define OTS_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct rte_mempool;

struct ots_port {
	uint16_t id;
	uint16_t nrxq;
	int opened;
	int started;
	int ts_offset;    /* rx timestamp dynfield, -1 if none */
	uint64_t ts_flag;
	uint64_t ts_mult;  /* timestamp units -> ns */
	struct rte_mempool *mp;
	char name[OTS_PATH_MAX];
	char driver[32];
};

struct ots_port_stats {
	uint64_t ipackets, ibytes, imissed, ierrors, nombuf;
};

int ots_port_open(const struct ots_config *cfg, struct ots_port *p, char *err, size_t errlen);
void ots_port_close(struct ots_port *p);
void ots_port_stats(const struct ots_port *p, struct ots_port_stats *s);

#endif
