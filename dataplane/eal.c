/* dataplane/eal.c - build the EAL argv from the config (see eal.h). */
#include "dataplane/eal.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/flow.h"

int ots_cpu_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int nth_cpu(int n)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return n;
	for (int c = 0, seen = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set) && seen++ == n)
			return c;
	return n;
}

unsigned long ots_hugepages_free(void)
{
	unsigned long total = 0;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/free_hugepages", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		unsigned long n = 0;
		if (fscanf(f, "%lu", &n) == 1)
			total += n;
		fclose(f);
	}
	closedir(d);
	return total;
}

unsigned ots_eal_memory_needed(const struct ots_config *cfg)
{
	/* mbuf: data room + headroom + struct + mempool header; flows: hot + cold + rte_hash key slot and buckets */
	uint64_t mbuf = (uint64_t)cfg->mbufs * (cfg->mbuf_data_size + 128 + 128 + 64);
	uint64_t per_flow = sizeof(struct ots_flow) + sizeof(struct ots_flow_cold) + 64 + 32;
	uint64_t slots = (uint64_t)cfg->flow_capacity + cfg->flow_capacity / 8; /* flow.c: 1/8 headroom */
	uint64_t flows = (uint64_t)cfg->workers * slots * per_flow;
	uint64_t rings = (uint64_t)cfg->workers * cfg->workers * cfg->ring_size * 8;
	uint64_t mb = (mbuf + flows + rings) / (1024 * 1024) + 256;
	return (unsigned)(mb > 1u << 20 ? 1u << 20 : mb);
}

static int add(struct ots_eal_args *a, const char *fmt, ...)
{
	if (a->argc >= OTS_EAL_MAX_ARGS)
		return -E2BIG;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(a->store[a->argc], sizeof(a->store[0]), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(a->store[0]))
		return -ENAMETOOLONG;
	a->argv[a->argc] = a->store[a->argc];
	a->argc++;
	a->argv[a->argc] = NULL;
	return 0;
}

/* lcore map: main on the first CPU, workers on the next ones, wrapping when shared_cores allows */
static int lcore_map(const struct ots_config *cfg, struct ots_eal_args *a)
{
	char map[1024];
	int ncpu = ots_cpu_count(), off = 0;
	off += snprintf(map + off, sizeof(map) - (size_t)off, "0@%d", nth_cpu(0));
	for (unsigned i = 1; i <= cfg->workers && off < (int)sizeof(map) - 16; i++)
		off += snprintf(map + off, sizeof(map) - (size_t)off, ",%u@%d", i,
				nth_cpu(ncpu > 1 ? 1 + (int)(i - 1) % (ncpu - 1) : 0));
	return add(a, "--lcores=%s", map);
}

static int lcore_args(const struct ots_config *cfg, struct ots_eal_args *a, char *err, size_t errlen)
{
	if (cfg->lcores[0])
		return add(a, "--lcores=%s", cfg->lcores);
	int ncpu = ots_cpu_count();
	unsigned need = cfg->workers + 1;
	if ((int)need > ncpu && !cfg->shared_cores) {
		snprintf(err, errlen, "dataplane.workers=%u needs %u CPUs (one main lcore + %u workers) but this process "
			 "may use %d; lower --workers, set dataplane.lcores, or set dataplane.shared_cores: true to share "
			 "CPUs (slower)", cfg->workers, need, cfg->workers, ncpu);
		return -EINVAL;
	}
	return lcore_map(cfg, a);
}

static unsigned log2_ring(unsigned n)
{
	unsigned l = 0;
	while (l < 14 && (2u << l) <= n)
		l++;
	return l;
}

static int port_args(const struct ots_config *cfg, struct ots_eal_args *a, char *err, size_t errlen)
{
	unsigned q = cfg->rx_queues ? cfg->rx_queues : cfg->workers;
	if (strchr(cfg->port_name, ',')) {
		snprintf(err, errlen, "dataplane.port: '%s' contains a comma, which DPDK device arguments cannot carry; "
			 "rename or link the file", cfg->port_name);
		return -EINVAL;
	}
	switch (cfg->port_kind) {
	case OTS_PORT_PCAP:
		return add(a, "--vdev=net_pcap0,rx_pcap=%s%s", cfg->port_name, cfg->pcap_loop ? ",infinite_rx=1" : "");
	case OTS_PORT_IFACE:
		return add(a, "--vdev=net_af_packet0,iface=%s,qpairs=%u,framecnt=%u", cfg->port_name, q,
			   cfg->rx_descriptors);
	case OTS_PORT_MEMIF:
		return add(a, "--vdev=net_memif0,role=client,id=0,socket=%s,rsize=%u", cfg->port_name,
			   log2_ring(cfg->rx_descriptors));
	case OTS_PORT_PCI:
		return add(a, "-a%s", cfg->port_name);
	default:
		snprintf(err, errlen, "no port configured: use --pcap FILE, --iface NAME or set dataplane.port");
		return -EINVAL;
	}
}

int ots_eal_build(const struct ots_config *cfg, const char *prog, struct ots_eal_args *a, char *err, size_t errlen)
{
	int r;
	memset(a, 0, sizeof(*a));
	add(a, "%s", prog);
	if ((r = lcore_args(cfg, a, err, errlen)) < 0)
		return r == -EINVAL ? r : (snprintf(err, errlen, "dataplane.lcores too long"), r);

	unsigned long huge = ots_hugepages_free();
	int no_huge = cfg->hugepages == OTS_HUGE_OFF || (cfg->hugepages == OTS_HUGE_AUTO && huge == 0);
	if (cfg->hugepages == OTS_HUGE_ON && huge == 0) {
		snprintf(err, errlen, "dataplane.hugepages is 'on' but no free hugepages exist; reserve some (e.g. "
			 "echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) or set it to auto");
		return -EINVAL;
	}
	if (no_huge && cfg->port_kind == OTS_PORT_PCI) {
		snprintf(err, errlen, "dataplane.port '%s' is a PCI NIC, which needs hugepages, but none are free; "
			 "reserve hugepages (dpdk-hugepages.py --setup 2G) or use --pcap/--iface", cfg->port_name);
		return -EINVAL;
	}
	a->no_huge = no_huge;
	if (no_huge) {
		a->memory_mb = cfg->memory_mb ? cfg->memory_mb : ots_eal_memory_needed(cfg);
		add(a, "--no-huge");
		add(a, "-m%u", a->memory_mb);
	} else {
		if (cfg->memory_mb)
			add(a, "-m%u", cfg->memory_mb);
		add(a, "--huge-unlink"); /* no hugepage files outlive the process: its pages return to the pool at exit */
	}
	if (cfg->port_kind != OTS_PORT_PCI)
		add(a, "--no-pci");
	if (cfg->port_kind == OTS_PORT_MEMIF)
		add(a, "--file-prefix=otsense%d", (int)getpid()); /* memif needs the multi-process channel */
	else
		add(a, "--no-shconf");
	if ((r = port_args(cfg, a, err, errlen)) < 0) {
		if (r == -E2BIG || r == -ENAMETOOLONG)
			goto too_long;
		return r;
	}
	add(a, "--no-telemetry");
	add(a, "--log-level=%s", cfg->log_level >= OTS_LOG_DEBUG ? "*:info" : "*:warning");
	/* extra args, space separated */
	char extra[sizeof(cfg->eal_args)];
	snprintf(extra, sizeof(extra), "%s", cfg->eal_args);
	for (char *save = NULL, *t = strtok_r(extra, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (add(a, "%s", t) < 0)
			goto too_long;
	return 0;
too_long:
	snprintf(err, errlen, "EAL command line too long; shorten dataplane.eal_args or the port path");
	return -E2BIG;
}
