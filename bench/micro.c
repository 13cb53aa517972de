/* bench/micro.c - otsense-micro: in-process cycle counts of the sensor's packet path, on the project's libraries.
 *
 * Packets reach every measurement the way a PMD delivers them: per burst of 32, mbufs are taken from a mempool
 * with a per-lcore cache (rte_pktmbuf_alloc_bulk), the frame is copied in from the capture held in memory (what
 * net_pcap infinite_rx does; a NIC would DMA it) and the mbufs go back to the pool at the end (free_bulk, or the
 * worker's own free). That "rx" stage is measured alone and subtracted, so the figures are the sensor's code:
 *   rx       alloc_bulk + copy + free_bulk, nothing else: the emulation's own cost (subtracted below).
 *   decode   ots_decode() of every packet (with the worker's 3-ahead prefetch).
 *   flow     decode + ots_flow_key_make + make_room + ots_flow_lookup_bulk + ots_flow_insert on a miss +
 *            ots_flow_update, + ots_flow_expire per burst, with the flow API directly: "decode + flow tracking",
 *            exactly the steps of worker.c process_frames without counters and the app layer.
 *   worker   ots_worker_process() (decode, flow table, TCP reassembly, app classification, parsers, asset
 *            observations and Flow records handed to a record ring as in the sensor, mbuf free) +
 *            ots_flow_expire() per burst, as the worker loop does: the real per-packet path. (The exporter's
 *            side, on another core in the sensor, is not measured: the ring is emptied in place.)
 * and with synthetic 60-byte frames through ots_worker_process():
 *   flood    every packet a TCP SYN of a new 5-tuple against a table of fixed capacity (--flood-capacity, a
 *            list): fill phase (inserts only), then steady state (every packet inserts and evicts the least
 *            recently active flow): inserts/s, evictions/s, cycles per packet.
 *   bigtable --bigtable UDP flows established, then packets hitting them in scattered order: the lookup cost
 *            when the table is far larger than the caches (a large site).
 * Results: a text table on stdout and one JSON object (last line of stdout, and --json FILE).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_debug.h>
#include <rte_prefetch.h>

#include "config/config.h"
#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/handoff.h"
#include "dataplane/worker.h"
#include "protocols/registry.h"

#define BURST 32
#define PREFETCH_AHEAD 3 /* as worker.c */
#define MAX_PCAPS 8
#define MAX_CAPS 8
#define EAL_MAX 48

struct opts {
	const char *pcaps[MAX_PCAPS];
	int npcaps;
	double seconds;
	uint32_t caps[MAX_CAPS];
	int ncaps;
	uint32_t bigtable;
	uint32_t capacity;
	const char *json;
	const char *eal;
	int cpu;
	double jitter;
};


static uint64_t hz;
static char json[16384];
static size_t jlen;

static void jprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void jprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(json + jlen, sizeof(json) - jlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(json) - jlen)
		jlen += (size_t)n;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: otsense-micro [--pcap FILE]... [--seconds S] [--capacity N] [--flood-capacity N[,N...]]\n"
		"                     [--bigtable N] [--json FILE] [--cpu N] [--eal 'ARGS']\n"
		"\n"
		"  --pcap FILE             capture to measure decode / flow / worker on (repeatable, up to %d)\n"
		"  --seconds S             time per measurement (default 2)\n"
		"  --capacity N            flow table for the capture runs (default 1048576 = flow.capacity default)\n"
		"  --flood-capacity LIST   flood runs, one per table size (default 1048576,65536; 0 = no flood)\n"
		"  --bigtable N            established flows for the large-table run (default 1048576; 0 = none)\n"
		"  --json FILE             also write the JSON result to FILE\n"
		"  --cpu N                 CPU to run on (default: the last one this process may use)\n"
		"  --jitter S              first spin S seconds reading the TSC and report how long this CPU was taken\n"
		"                          away (interrupts, other tasks, the hypervisor): what a poll-mode worker loses\n"
		"  --eal 'ARGS'            EAL arguments replacing the built-in --no-huge --no-pci --no-shconf -m 2048\n",
		MAX_PCAPS);
}

static int parse_u32_list(const char *s, uint32_t *v, int max)
{
	int n = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long x = strtoul(t, &end, 10);
		if (*end || n == max || x > UINT32_MAX)
			return -1;
		if (x)
			v[n++] = (uint32_t)x;
	}
	return n;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_PCAP = 256, O_SECONDS, O_CAPACITY, O_FLOOD, O_BIG, O_JSON, O_CPU, O_EAL, O_JITTER };
	static const struct option lo[] = {
		{ "pcap", required_argument, NULL, O_PCAP }, { "seconds", required_argument, NULL, O_SECONDS },
		{ "capacity", required_argument, NULL, O_CAPACITY },
		{ "flood-capacity", required_argument, NULL, O_FLOOD }, { "bigtable", required_argument, NULL, O_BIG },
		{ "json", required_argument, NULL, O_JSON }, { "cpu", required_argument, NULL, O_CPU },
		{ "eal", required_argument, NULL, O_EAL }, { "jitter", required_argument, NULL, O_JITTER },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->seconds = 2;
	o->capacity = 1u << 20;
	o->caps[0] = 1u << 20;
	o->caps[1] = 1u << 16;
	o->ncaps = 2;
	o->bigtable = 1u << 20;
	o->cpu = -1;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case O_PCAP:
			if (o->npcaps == MAX_PCAPS) {
				fprintf(stderr, "otsense-micro: at most %d --pcap\n", MAX_PCAPS);
				return -1;
			}
			o->pcaps[o->npcaps++] = optarg;
			break;
		case O_SECONDS:
			o->seconds = strtod(optarg, NULL);
			if (o->seconds <= 0) {
				fprintf(stderr, "otsense-micro: --seconds '%s': give a positive number\n", optarg);
				return -1;
			}
			break;
		case O_CAPACITY:
		case O_BIG: {
			char *end;
			unsigned long x = strtoul(optarg, &end, 10);
			if (*end || x > (1ul << 28) || (c == O_CAPACITY && x < 1024)) {
				fprintf(stderr, "otsense-micro: %s '%s': give a flow count (capacity 1024..2^28)\n",
					argv[optind - 1], optarg);
				return -1;
			}
			if (c == O_CAPACITY)
				o->capacity = (uint32_t)x;
			else
				o->bigtable = (uint32_t)x;
			break;
		}
		case O_FLOOD:
			if ((o->ncaps = parse_u32_list(optarg, o->caps, MAX_CAPS)) < 0) {
				fprintf(stderr, "otsense-micro: --flood-capacity '%s': give N[,N...]\n", optarg);
				return -1;
			}
			break;
		case O_JSON: o->json = optarg; break;
		case O_CPU: o->cpu = atoi(optarg); break;
		case O_EAL: o->eal = optarg; break;
		case O_JITTER: o->jitter = strtod(optarg, NULL); break;
		case 'h': usage(stdout); exit(0);
		default:
			fprintf(stderr, "otsense-micro: bad option '%s'; see --help\n", argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------ setup */

static int last_cpu(void)
{
	cpu_set_t set;
	int last = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				last = c;
	return last;
}

static int eal_start(const struct opts *o, const char *prog)
{
	static char store[EAL_MAX][256];
	char *argv[EAL_MAX + 1];
	int argc = 0;
#define ADD(...) (snprintf(store[argc], sizeof(store[0]), __VA_ARGS__), argv[argc] = store[argc], argc++)
	ADD("%s", prog);
	if (o->eal) {
		char buf[2048];
		snprintf(buf, sizeof(buf), "%s", o->eal);
		for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t && argc < EAL_MAX;
		     t = strtok_r(NULL, " \t", &save))
			ADD("%s", t);
	} else {
		ADD("--no-huge");
		ADD("--no-pci");
		ADD("--no-shconf");
		ADD("-m");
		ADD("2048");
		ADD("--no-telemetry");
		ADD("-l");
		ADD("%d", o->cpu >= 0 ? o->cpu : last_cpu());
		ADD("--log-level=*:warning");
	}
#undef ADD
	argv[argc] = NULL;
	return rte_eal_init(argc, argv);
}

/* the capture in memory: frames back to back, as a replay tool holds it */
struct capture {
	const char *path;
	uint8_t *data;
	uint64_t *off;
	uint16_t *len;
	uint32_t n;
	uint64_t bytes;
	int linktype;
};

static struct rte_mempool *pool; /* the "port's" mempool: same geometry as the sensor's (2176-byte data room) */

static int load_capture(const char *path, struct capture *c)
{
	char eb[PCAP_ERRBUF_SIZE];
	memset(c, 0, sizeof(*c));
	c->path = path;
	pcap_t *p = pcap_open_offline(path, eb);
	if (!p) {
		fprintf(stderr, "otsense-micro: cannot read '%s': %s\n", path, eb);
		return -1;
	}
	c->linktype = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint32_t cap = 0;
	uint64_t dcap = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (h->caplen == 0 || h->caplen > 2176 - RTE_PKTMBUF_HEADROOM)
			continue;
		if (c->n == cap) {
			cap = cap ? cap * 2 : 4096;
			c->off = realloc(c->off, cap * sizeof(*c->off));
			c->len = realloc(c->len, cap * sizeof(*c->len));
		}
		if (c->bytes + h->caplen > dcap) {
			dcap = dcap ? dcap * 2 : 1 << 20;
			c->data = realloc(c->data, dcap);
		}
		if (!c->off || !c->len || !c->data) {
			fprintf(stderr, "otsense-micro: out of memory loading '%s'\n", path);
			pcap_close(p);
			return -1;
		}
		memcpy(c->data + c->bytes, d, h->caplen);
		c->off[c->n] = c->bytes;
		c->len[c->n] = (uint16_t)h->caplen;
		c->bytes += h->caplen;
		c->n++;
	}
	pcap_close(p);
	if (!c->n) {
		fprintf(stderr, "otsense-micro: '%s' holds no usable packets\n", path);
		return -1;
	}
	return 0;
}

static void capture_free(struct capture *c)
{
	free(c->data);
	free(c->off);
	free(c->len);
	memset(c, 0, sizeof(*c));
}

/* what a PMD rx burst does for the sensor: fresh mbufs from the pool cache, frame bytes written into them */
static inline void rx_burst(const struct capture *c, uint32_t *at, struct rte_mbuf **b, uint32_t n)
{
	if (unlikely(rte_pktmbuf_alloc_bulk(pool, b, n) != 0))
		rte_panic("mempool empty: an mbuf leaked\n");
	uint32_t k = *at;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t len = c->len[k];
		rte_memcpy(rte_pktmbuf_mtod(b[i], void *), c->data + c->off[k], len);
		b[i]->data_len = len;
		b[i]->pkt_len = len;
		if (++k == c->n)
			k = 0;
	}
	*at = k;
}

static struct ots_worker *worker_new(const struct ots_config *cfg, struct ots_run *run, unsigned id, int linktype,
				     size_t *heap_bytes)
{
	char err[512];
	struct rte_malloc_socket_stats s0, s1;
	rte_malloc_get_socket_stats((int)rte_socket_id(), &s0);
	struct ots_worker *w = rte_zmalloc("micro_worker", sizeof(*w), 64);
	if (!w || ots_worker_init(w, id, cfg, run, (int)rte_socket_id(), err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense-micro: %s\n", w ? err : "out of memory");
		rte_free(w);
		return NULL;
	}
	rte_malloc_get_socket_stats((int)rte_socket_id(), &s1);
	if (heap_bytes)
		*heap_bytes = s1.heap_allocsz_bytes - s0.heap_allocsz_bytes;
	w->linktype = linktype;
	/* records on, as in the sensor (a ring like main.c's); nobody drains it here: rec_drop() empties it */
	char name[32];
	snprintf(name, sizeof(name), "micro_rec%u", id);
	w->rec_ring = rte_ring_create_elem(name, OTS_HANDOFF_SLOT, cfg->export_ring_size * 4, (int)rte_socket_id(),
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!w->rec_ring) {
		fprintf(stderr, "otsense-micro: cannot create the record ring: %s\n", rte_strerror(rte_errno));
		ots_worker_fini(w);
		rte_free(w);
		return NULL;
	}
	return w;
}

/* the exporter's share: records leave the ring on another core in the sensor; here the ring is emptied at once
 * (single thread, so a reset is safe) and the records counted */
static uint64_t records_dropped_here;

static inline void rec_drop(struct ots_worker *w)
{
	if (unlikely(rte_ring_count(w->rec_ring) > rte_ring_get_capacity(w->rec_ring) / 2)) {
		records_dropped_here += rte_ring_count(w->rec_ring);
		rte_ring_reset(w->rec_ring);
	}
}

static void worker_free(struct ots_worker *w)
{
	if (!w)
		return;
	ots_worker_flush(w);
	struct rte_ring *r = w->rec_ring;
	ots_worker_fini(w);
	rte_ring_free(r);
	rte_free(w);
}

static inline uint64_t until(double s)
{
	return rte_rdtsc() + (uint64_t)(s * (double)hz);
}

static double cpp(uint64_t cycles, uint64_t pkts)
{
	return pkts ? (double)cycles / (double)pkts : 0;
}

static double mpps_of(double cycles_per_pkt)
{
	return cycles_per_pkt > 0 ? (double)hz / cycles_per_pkt / 1e6 : 0;
}

static uint64_t sink;

/* ------------------------------------------------------------------------------------------------ capture runs */

static void flow_burst(struct ots_flow_table *ft, struct rte_mbuf **b, uint32_t n, int linktype, uint64_t now)
{
	struct ots_pkt pk[BURST];
	struct ots_flow_key keys[BURST];
	const struct ots_flow_key *kp[BURST];
	int32_t pos[BURST];
	uint8_t side[BURST], idx[BURST];
	uint32_t m = 0;
	for (uint32_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(b[i], void *));
	for (uint32_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(b[i + PREFETCH_AHEAD], void *));
		ots_decode(rte_pktmbuf_mtod(b[i], const uint8_t *), b[i]->data_len, linktype, &pk[i]);
		if (likely(pk[i].flow_ok && !(pk[i].flags & OTS_PF_FRAG_LATE))) {
			side[m] = (uint8_t)ots_flow_key_make(&pk[i], &keys[m]);
			kp[m] = &keys[m];
			idx[m] = (uint8_t)i;
			m++;
		}
	}
	if (!m)
		return;
	if (unlikely(ft->st.active + m > ft->capacity))
		ots_flow_make_room(ft, m);
	ots_flow_lookup_bulk(ft, kp, m, pos);
	for (uint32_t j = 0; j < m; j++) {
		int32_t q = pos[j];
		if (q < 0 && (q = ots_flow_insert(ft, &keys[j], now)) < 0)
			continue;
		ots_flow_update(ft, (uint32_t)q, side[j], &pk[idx[j]], b[idx[j]]->pkt_len, now);
	}
}

enum mode { M_RX, M_DECODE, M_FLOW, M_WORKER, M_MAX };

static inline uint64_t tsc_ns(uint64_t t0)
{
	return (uint64_t)((double)(rte_rdtsc() - t0) * 1e9 / (double)hz);
}

/* run one mode for secs over the capture; returns cycles per packet */
static double run_mode(enum mode md, const struct capture *c, struct ots_flow_table *ft, struct ots_worker *w,
		       double secs)
{
	struct rte_mbuf *b[BURST];
	struct ots_pkt p;
	uint64_t n = 0, acc = 0;
	uint32_t at = 0;
	const uint64_t t0 = rte_rdtsc(), end = until(secs);
	do {
		for (int k = 0; k < 64; k++) {
			rx_burst(c, &at, b, BURST);
			switch (md) {
			case M_RX:
				rte_pktmbuf_free_bulk(b, BURST);
				break;
			case M_DECODE:
				for (uint32_t i = 0; i < BURST; i++) {
					if (i + PREFETCH_AHEAD < BURST)
						rte_prefetch0(rte_pktmbuf_mtod(b[i + PREFETCH_AHEAD], void *));
					ots_decode(rte_pktmbuf_mtod(b[i], const uint8_t *), b[i]->data_len, c->linktype, &p);
					acc += p.flow_ok + p.l3_type + p.sport;
				}
				rte_pktmbuf_free_bulk(b, BURST);
				break;
			case M_FLOW: {
				uint64_t now = tsc_ns(t0);
				flow_burst(ft, b, BURST, c->linktype, now);
				ots_flow_expire(ft, now, 64);
				rte_pktmbuf_free_bulk(b, BURST);
				break;
			}
			case M_WORKER:
				ots_worker_process(w, b, BURST);
				ots_flow_expire(&w->ft, w->now_ns, w->cfg->expiry_batch);
				rec_drop(w);
				break;
			default:
				break;
			}
		}
		n += 64 * BURST;
	} while (rte_rdtsc() < end);
	uint64_t cycles = rte_rdtsc() - t0;
	sink += acc;
	return cpp(cycles, n);
}

/* ------------------------------------------------------------------------------------------------ synthetic */

static uint8_t tmpl_syn[60], tmpl_udp[60];

/* 60-byte frames: Ethernet / IPv4 / TCP SYN to 192.168.100.10:502, or UDP (BACnet/IP, 18 bytes) to :47808 */
static void synth_init(void)
{
	const uint8_t l2[14] = { 2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	const uint8_t dst[4] = { 192, 168, 100, 10 };
	for (int udp = 0; udp < 2; udp++) {
		uint8_t *f = udp ? tmpl_udp : tmpl_syn;
		memset(f, 0, 60);
		memcpy(f, l2, 14);
		uint8_t *ip = f + 14, *l4 = ip + 20;
		ip[0] = 0x45;
		ip[3] = udp ? 46 : 40;
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = udp ? 17 : 6;
		ip[12] = 10;
		memcpy(ip + 16, dst, 4);
		if (udp) {
			l4[2] = 47808 >> 8;
			l4[3] = 47808 & 0xff;
			l4[5] = 26;
			const uint8_t bvlc[4] = { 0x81, 0x0a, 0x00, 0x12 };
			memcpy(l4 + 8, bvlc, 4);
		} else {
			l4[2] = 502 >> 8;
			l4[3] = 502 & 0xff;
			l4[12] = 5 << 4;
			l4[13] = OTS_TCP_SYN;
			l4[14] = 0xfa;
			l4[15] = 0xf0;
		}
	}
}

/* a frame of flow number id: source 10.a.b.c from the low 24 bits, source port from the rest (IP checksum left
 * as in the template: the sensor does not verify it) */
static inline void synth_burst(struct rte_mbuf **b, uint32_t n, const uint8_t *tmpl, uint64_t first_id, uint64_t mul,
			       uint64_t mod)
{
	if (unlikely(rte_pktmbuf_alloc_bulk(pool, b, n) != 0))
		rte_panic("mempool empty: an mbuf leaked\n");
	for (uint32_t i = 0; i < n; i++) {
		uint64_t id = mod ? ((first_id + i) * mul) % mod : first_id + i;
		uint8_t *f = rte_pktmbuf_mtod(b[i], uint8_t *);
		rte_memcpy(f, tmpl, 60);
		b[i]->data_len = b[i]->pkt_len = 60;
		uint8_t *ip = f + 14;
		ip[13] = (uint8_t)(id >> 16);
		ip[14] = (uint8_t)(id >> 8);
		ip[15] = (uint8_t)id;
		uint16_t sport = (uint16_t)(1024 + (id >> 24));
		ip[20] = (uint8_t)(sport >> 8);
		ip[21] = (uint8_t)sport;
	}
}

struct phase {
	uint64_t pkts, cycles, inserts, evictions;
};

/* npkts packets (or secs seconds when npkts is 0) of flows first_id, first_id+1, ... (mod: scattered ids) */
static void synth_run(struct ots_worker *w, const uint8_t *tmpl, uint64_t *next, uint64_t mul, uint64_t mod,
		      uint64_t npkts, double secs, int rx_only, struct phase *ph)
{
	struct rte_mbuf *b[BURST];
	const uint64_t c0 = w ? w->ft.st.created : 0, e0 = w ? w->ft.st.ended[OTS_END_EVICTED] : 0;
	const uint64_t end = secs > 0 ? until(secs) : UINT64_MAX, t0 = rte_rdtsc();
	uint64_t n = 0;
	while (npkts ? n < npkts : rte_rdtsc() < end) {
		synth_burst(b, BURST, tmpl, *next, mul, mod);
		*next += BURST;
		if (rx_only) {
			rte_pktmbuf_free_bulk(b, BURST);
		} else {
			ots_worker_process(w, b, BURST);
			ots_flow_expire(&w->ft, w->now_ns, w->cfg->expiry_batch);
			rec_drop(w);
		}
		n += BURST;
	}
	ph->cycles = rte_rdtsc() - t0;
	ph->pkts = n;
	ph->inserts = w ? w->ft.st.created - c0 : 0;
	ph->evictions = w ? w->ft.st.ended[OTS_END_EVICTED] - e0 : 0;
}

/* ------------------------------------------------------------------------------------------------ jitter */

/* spin on the TSC; every gap between two reads is time this CPU did something else */
static void jitter_probe(double secs)
{
	const double us = (double)hz / 1e6;
	uint64_t over[4] = { 0 }, maxg = 0, last = rte_rdtsc(), lost = 0;
	const uint64_t lim[4] = { (uint64_t)(10 * us), (uint64_t)(100 * us), (uint64_t)(250 * us), (uint64_t)(1000 * us) };
	const uint64_t t0 = last, end = until(secs);
	for (;;) {
		uint64_t t = rte_rdtsc(), g = t - last;
		last = t;
		if (t >= end)
			break;
		if (g < lim[0])
			continue;
		lost += g;
		for (int i = 0; i < 4; i++)
			over[i] += g >= lim[i];
		if (g > maxg)
			maxg = g;
	}
	double total = (double)(last - t0);
	printf("\n  CPU jitter over %.1f s (a poll-mode worker's lost time): gaps >10us %" PRIu64 ", >100us %" PRIu64
	       ", >250us %" PRIu64 ", >1ms %" PRIu64 ", longest %.0f us, %.3f%% of the time\n", secs, over[0], over[1],
	       over[2], over[3], maxg / us, 100.0 * lost / total);
	jprintf(",\"jitter\":{\"seconds\":%.2f,\"gaps_over_10us\":%" PRIu64 ",\"gaps_over_100us\":%" PRIu64
		",\"gaps_over_250us\":%" PRIu64 ",\"gaps_over_1ms\":%" PRIu64 ",\"max_gap_us\":%.0f,\"lost_pct\":%.4f}",
		secs, over[0], over[1], over[2], over[3], maxg / us, 100.0 * lost / total);
}

/* ------------------------------------------------------------------------------------------------ main */

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (eal_start(&o, argv[0]) < 0) {
		fprintf(stderr, "otsense-micro: EAL failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	hz = rte_get_tsc_hz();
	ots_registry_init();
	synth_init();
	pool = rte_pktmbuf_pool_create("micro_rx", 8191, 256, 0, 2176, (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "otsense-micro: cannot create the mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct ots_config cfg;
	ots_config_defaults(&cfg);
	cfg.flow_capacity = o.capacity;
	struct ots_run run;
	memset(&run, 0, sizeof(run));
	run.nworkers = 1;
	unsigned wid = 0;
	int rc = 0;

	printf("otsense-micro: lcore %u, TSC %.3f GHz, %.1f s per measurement, bursts of %d, rx emulated "
	       "(mempool alloc_bulk + copy + free)\n", rte_lcore_id(), hz / 1e9, o.seconds, BURST);
	printf("  sizeof(struct ots_flow) = %zu bytes (hot state per flow; limit 128), ots_flow_cold = %zu, "
	       "ots_flow_key = %zu\n", sizeof(struct ots_flow), sizeof(struct ots_flow_cold),
	       sizeof(struct ots_flow_key));
	jprintf("{\"tsc_hz\":%" PRIu64 ",\"seconds_per_measurement\":%.3f,\"burst\":%d,\"sizeof_flow\":%zu,"
		"\"sizeof_flow_cold\":%zu,\"sizeof_flow_key\":%zu", hz, o.seconds, BURST, sizeof(struct ots_flow),
		sizeof(struct ots_flow_cold), sizeof(struct ots_flow_key));

	if (o.jitter > 0)
		jitter_probe(o.jitter);
	jprintf(",\"captures\":[");
	for (int i = 0; i < o.npcaps && !rc; i++) {
		struct capture c;
		if (load_capture(o.pcaps[i], &c) < 0) {
			rc = 1;
			break;
		}
		struct ots_flow_table ft;
		const uint32_t tmo[OTS_FC_MAX] = { cfg.timeout_tcp_new, cfg.timeout_tcp_est, cfg.timeout_tcp_closed,
						   cfg.timeout_udp, cfg.timeout_other };
		size_t heap = 0;
		int r = ots_flow_table_init(&ft, "micro_flow", cfg.flow_capacity, (int)rte_socket_id(), tmo, NULL, NULL);
		struct ots_worker *w = r < 0 ? NULL : worker_new(&cfg, &run, wid++, c.linktype, &heap);
		if (!w) {
			fprintf(stderr, "otsense-micro: cannot build flow tables of %u flows\n", cfg.flow_capacity);
			if (r == 0)
				ots_flow_table_fini(&ft);
			capture_free(&c);
			rc = 1;
			break;
		}
		double g[M_MAX];
		for (int md = 0; md < M_MAX; md++)
			g[md] = run_mode((enum mode)md, &c, &ft, w, o.seconds);
		uint64_t flows = ft.st.created, wflows = w->ft.st.created;
		ots_flow_table_fini(&ft);
		worker_free(w);
		double avg = (double)c.bytes / c.n;
		printf("\n  %s: %u packets, avg %.1f bytes/frame; cycles/pkt net of rx (Mpps one core would do)\n",
		       base(c.path), c.n, avg);
		printf("    %-40s %7.1f cycles/pkt\n", "rx emulation (alloc + copy + free)", g[M_RX]);
		printf("    %-40s %7.1f cycles/pkt  %7.2f Mpps\n", "decode", g[M_DECODE] - g[M_RX],
		       mpps_of(g[M_DECODE] - g[M_RX]));
		printf("    %-40s %7.1f cycles/pkt  %7.2f Mpps  (%" PRIu64 " flows)\n", "decode + flow lookup/insert/update",
		       g[M_FLOW] - g[M_RX], mpps_of(g[M_FLOW] - g[M_RX]), flows);
		printf("    %-40s %7.1f cycles/pkt  %7.2f Mpps\n", "worker path (ots_worker_process)",
		       g[M_WORKER] - g[M_RX], mpps_of(g[M_WORKER] - g[M_RX]));
		printf("    %-40s %7.1f cycles/pkt  %7.2f Mpps\n", "worker path + rx emulation", g[M_WORKER],
		       mpps_of(g[M_WORKER]));
		printf("    flow table memory (capacity %u): %.1f MiB = %.0f bytes/flow (hash + hot + cold)\n",
		       cfg.flow_capacity, heap / 1048576.0, (double)heap / cfg.flow_capacity);
		jprintf("%s{\"pcap\":\"%s\",\"packets\":%u,\"avg_bytes\":%.2f,\"flows\":%" PRIu64
			",\"worker_flows\":%" PRIu64 ",\"rx_cpp\":%.2f,\"decode_cpp\":%.2f,\"decode_mpps\":%.3f,"
			"\"flow_cpp\":%.2f,\"flow_mpps\":%.3f,\"worker_cpp\":%.2f,\"worker_mpps\":%.3f,"
			"\"worker_with_rx_cpp\":%.2f,\"worker_with_rx_mpps\":%.3f,\"table_capacity\":%u,"
			"\"table_bytes\":%zu}",
			i ? "," : "", c.path, c.n, avg, flows, wflows, g[M_RX], g[M_DECODE] - g[M_RX],
			mpps_of(g[M_DECODE] - g[M_RX]), g[M_FLOW] - g[M_RX], mpps_of(g[M_FLOW] - g[M_RX]),
			g[M_WORKER] - g[M_RX], mpps_of(g[M_WORKER] - g[M_RX]), g[M_WORKER], mpps_of(g[M_WORKER]),
			cfg.flow_capacity, heap);
		capture_free(&c);
	}
	jprintf("]");

	/* rx cost of the synthetic frames, subtracted from the flood and large-table figures */
	struct phase srx;
	uint64_t id = 0;
	synth_run(NULL, tmpl_syn, &id, 0, 0, 0, o.seconds / 4, 1, &srx);
	double synth_rx = cpp(srx.cycles, srx.pkts);
	jprintf(",\"synthetic_rx_cpp\":%.2f,\"flood\":[", synth_rx);
	for (int i = 0; i < o.ncaps && !rc; i++) {
		struct ots_config fc = cfg;
		fc.flow_capacity = o.caps[i];
		struct ots_worker *w = worker_new(&fc, &run, wid++, OTS_LINK_ETHERNET, NULL);
		if (!w) {
			rc = 1;
			break;
		}
		struct phase fill, steady;
		id = 0;
		synth_run(w, tmpl_syn, &id, 0, 0, fc.flow_capacity & ~(uint64_t)(BURST - 1), 0, 0, &fill);
		synth_run(w, tmpl_syn, &id, 0, 0, 0, o.seconds, 0, &steady);
		double fcpp = cpp(fill.cycles, fill.pkts) - synth_rx, scpp = cpp(steady.cycles, steady.pkts) - synth_rx;
		/* rates on the sensor's own time (net of the synthetic rx), like the cycle counts */
		double fs = fill.pkts * fcpp / hz, ss = steady.pkts * scpp / hz;
		printf("\n  flood, every packet a TCP SYN of a new flow, table capacity %u (net of rx %.1f cycles):\n",
		       fc.flow_capacity, synth_rx);
		printf("    fill   %9" PRIu64 " pkts: %7.1f cycles/pkt %6.2f Mpps; inserts %5.2f M/s, evictions %5.2f M/s\n",
		       fill.pkts, fcpp, mpps_of(fcpp), fill.inserts / fs / 1e6, fill.evictions / fs / 1e6);
		printf("    steady %9" PRIu64 " pkts: %7.1f cycles/pkt %6.2f Mpps; inserts %5.2f M/s, evictions %5.2f M/s\n",
		       steady.pkts, scpp, mpps_of(scpp), steady.inserts / ss / 1e6, steady.evictions / ss / 1e6);
		jprintf("%s{\"capacity\":%u,\"fill_pkts\":%" PRIu64 ",\"fill_cpp\":%.2f,\"fill_inserts_per_s\":%.0f,"
			"\"fill_evictions_per_s\":%.0f,\"steady_pkts\":%" PRIu64 ",\"steady_cpp\":%.2f,"
			"\"steady_mpps\":%.3f,\"steady_inserts_per_s\":%.0f,\"steady_evictions_per_s\":%.0f,"
			"\"insert_failed\":%" PRIu64 "}",
			i ? "," : "", fc.flow_capacity, fill.pkts, fcpp, fill.inserts / fs, fill.evictions / fs,
			steady.pkts, scpp, mpps_of(scpp), steady.inserts / ss, steady.evictions / ss,
			w->st.flow_insert_failed);
		worker_free(w);
	}
	jprintf("]");

	if (o.bigtable && !rc) {
		struct ots_config bc = cfg;
		bc.flow_capacity = o.bigtable + o.bigtable / 8 > o.capacity ? o.bigtable + o.bigtable / 8 : o.capacity;
		struct ots_worker *w = worker_new(&bc, &run, wid++, OTS_LINK_ETHERNET, NULL);
		if (!w) {
			rc = 1;
		} else {
			struct phase fill, hits;
			id = 0;
			synth_run(w, tmpl_udp, &id, 0, 0, o.bigtable, 0, 0, &fill);
			uint64_t created = w->ft.st.created;
			id = 0;
			synth_run(w, tmpl_udp, &id, 2654435761u, o.bigtable, 0, o.seconds, 0, &hits);
			double hcpp = cpp(hits.cycles, hits.pkts) - synth_rx;
			printf("\n  large table: %" PRIu64 " established UDP flows (capacity %u), scattered hits:\n",
			       w->ft.st.active, bc.flow_capacity);
			printf("    %7.1f cycles/pkt  %6.2f Mpps  (new flows during the run: %" PRIu64 ")\n", hcpp,
			       mpps_of(hcpp), w->ft.st.created - created);
			jprintf(",\"bigtable\":{\"flows\":%" PRIu64 ",\"capacity\":%u,\"cpp\":%.2f,\"mpps\":%.3f}",
				w->ft.st.active, bc.flow_capacity, hcpp, mpps_of(hcpp));
		}
		worker_free(w);
	}
	jprintf(",\"sink\":%" PRIu64 "}", sink & 1);
	printf("%s\n", json);
	if (o.json) {
		FILE *f = fopen(o.json, "w");
		if (!f || fprintf(f, "%s\n", json) < 0) {
			fprintf(stderr, "otsense-micro: cannot write '%s'\n", o.json);
			rc = 1;
		}
		if (f)
			fclose(f);
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
