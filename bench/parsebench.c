/* bench/parsebench.c - otsense-parsebench: what each protocol parser costs, ns per PDU, on real captures.
 *
 * Method:
 *  1. Extraction (not timed). Every capture is read with libpcap and decoded with the sensor's own ots_decode();
 *     flows are keyed with ots_flow_key_make() and classified with ots_registry_classify(), like the worker.
 *     Only flows whose app protocol has a parser are kept. The client side is chosen as ots_flow_update() does
 *     (SYN sender; SYN-ACK receiver; mid-stream: the higher port), a SYN with a new ISN on a closed TCP flow
 *     starts a new flow (worker.c tcp_reused). TCP payload goes through the sensor's reassembler
 *     (dataplane/reasm.c, the sensor's default caps: 65536 bytes / 64 segments per direction): in-order bytes
 *     in sequence order, retransmitted and duplicate bytes dropped, out-of-order segments held and placed,
 *     holes reported as gaps (OTS_REASM_F_GAP), the first delivery of a direction without SYN flagged
 *     OTS_REASM_F_MIDSTREAM; FIN/RST and the end of the capture flush what is held, as the worker does.
 *     UDP: one datagram per chunk. Every delivery is copied, in capture order across both directions, with
 *     its direction, flags and packet time.
 *  2. Replay (timed). Per protocol, the chunks are laid out flow after flow in one buffer, and every pass runs
 *     each flow through the real parser (ots_protocols[app].parser->parse): state_size bytes zeroed at the
 *     flow's first chunk (the memset is timed: the worker does it too), then its chunks in order with a ctx
 *     as the worker builds it (ops, ts_ns, flags, proto, dir, transport). A flow whose parser returns -1 is
 *     not called again in that pass (the worker marks it dead). The ops only count PDUs, identities and
 *     events: what is measured is the parser, not what the sensor does with its PDUs (counters, detection).
 *     One untimed warm-up pass, then passes until --seconds have elapsed, timed in blocks of passes of at
 *     least 0.2 ms (clock_gettime(CLOCK_MONOTONIC) and rdtsc around every block). The figures come from the
 *     median block (robust to the odd interrupt or neighbour on a shared machine); the mean over all passes
 *     and the fastest block are reported too.
 * Output: a table on stdout, then one JSON line per protocol (also to --json FILE): ns per PDU, cycles per PDU,
 * ns per payload byte, MB/s of payload, PDUs per pass (with kinds), identities, events, rejected flows.
 *
 *   otsense-parsebench [--pcap FILE]... [FILE...] [--seconds S] [--proto NAME] [--cpu N] [--json FILE]
 * Without captures: bench/out/otmix.pcap (bench/mkmix.py makes it), in the current directory or the repository.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/reasm.h"
#include "protocols/app.h"
#include "protocols/registry.h"

#define DEFAULT_PCAP "bench/out/otmix.pcap"
#ifndef OTS_SOURCE_ROOT /* meson passes the repository's path: the default capture is found from any directory */
#define OTS_SOURCE_ROOT "."
#endif
#define BLOCK_NS 200000 /* passes are timed in blocks of at least this long: clock reads stay < 0.1% */
#define MAX_PCAPS 64
#define GAP_OFF UINT64_MAX
/* the sensor's defaults (config/config.c: reassembly.*) */
#define REASM_MAX_BYTES 65536
#define REASM_MAX_SEGS 64
#define REASM_POOL 65536

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "otsense-parsebench: out of memory\n");
		exit(1);
	}
	return p;
}

/* ------------------------------------------------------------------------------------------ extraction */

struct chunk {          /* one delivery to a parser, in capture order */
	uint64_t off;   /* into bytes[], GAP_OFF for a gap */
	uint64_t ts_ns;
	uint32_t inst;  /* flow instance */
	uint32_t len;
	uint8_t dir;
	uint8_t flags;
};

struct inst {           /* one flow as the sensor sees it (a reused 5-tuple is a new one) */
	uint16_t app;
	uint8_t transport;
	uint8_t midstream;
	uint32_t nchunks;
};

struct flow {           /* tracking state while reading; slot empty when used == 0 */
	struct ots_flow_key k;
	struct ots_reasm_dir rd[2];
	uint64_t last_ns;
	uint32_t inst;
	uint32_t client_isn;
	uint8_t used, client_side, tcp_state, isn_known;
	uint8_t tcp_flags[2];
	uint8_t seen;
};

static struct {
	struct chunk *chunks;
	size_t nchunks, chunks_cap;
	uint8_t *bytes;
	size_t nbytes, bytes_cap;
	struct inst *insts;
	size_t ninsts, insts_cap;
	struct flow *ft; /* open addressing, power-of-two size */
	size_t ft_size, ft_used;
	struct ots_seg_pool pool;
	struct ots_reasm_cfg rcfg;
	struct ots_reasm_stats rst;
	uint64_t packets, frames_no_flow, now_ns, timeouts, reused;
} X;

/* the sensor's default flow timeouts, seconds (config/config.c flow.timeout.*), by enum ots_tcp_state */
static const uint64_t timeout_s[] = {
	[OTS_TCP_NONE] = 120, /* udp */
	[OTS_TCP_NEW] = 30,
	[OTS_TCP_EST] = 3600,
	[OTS_TCP_CLOSING] = 3600,
	[OTS_TCP_CLOSED] = 10,
};

struct deliver_ud {
	uint32_t inst;
	uint8_t dir;
	uint64_t ts_ns;
};

static void add_chunk(uint32_t inst, uint8_t dir, uint64_t ts, const uint8_t *data, uint32_t len, uint32_t flags)
{
	if (X.nchunks == X.chunks_cap) {
		X.chunks_cap = X.chunks_cap ? X.chunks_cap * 2 : 65536;
		X.chunks = xrealloc(X.chunks, X.chunks_cap * sizeof(*X.chunks));
	}
	struct chunk *c = &X.chunks[X.nchunks++];
	c->inst = inst;
	c->dir = dir;
	c->ts_ns = ts;
	c->len = len;
	c->flags = (uint8_t)flags;
	if (!data) {
		c->off = GAP_OFF;
	} else {
		if (X.nbytes + len > X.bytes_cap) {
			while (X.nbytes + len > X.bytes_cap)
				X.bytes_cap = X.bytes_cap ? X.bytes_cap * 2 : 1u << 20;
			X.bytes = xrealloc(X.bytes, X.bytes_cap);
		}
		memcpy(X.bytes + X.nbytes, data, len);
		c->off = X.nbytes;
		X.nbytes += len;
	}
	if (flags & OTS_REASM_F_MIDSTREAM)
		X.insts[inst].midstream = 1;
	X.insts[inst].nchunks++;
}

static void on_deliver(void *ud, const uint8_t *data, uint32_t len, uint32_t flags)
{
	const struct deliver_ud *d = ud;
	add_chunk(d->inst, d->dir, d->ts_ns, data, len, flags);
}

static uint32_t new_inst(uint16_t app, uint8_t transport)
{
	if (X.ninsts == X.insts_cap) {
		X.insts_cap = X.insts_cap ? X.insts_cap * 2 : 1024;
		X.insts = xrealloc(X.insts, X.insts_cap * sizeof(*X.insts));
	}
	X.insts[X.ninsts] = (struct inst){ .app = app, .transport = transport };
	return (uint32_t)X.ninsts++;
}

static uint64_t key_hash(const struct ots_flow_key *k)
{
	uint64_t w[sizeof(*k) / 8];
	memcpy(w, k, sizeof(w));
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < sizeof(w) / 8; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static struct flow *flow_find(const struct ots_flow_key *k, int *created)
{
	if (2 * (X.ft_used + 1) > X.ft_size) { /* grow: load factor <= 1/2 */
		size_t osz = X.ft_size;
		struct flow *old = X.ft;
		X.ft_size = osz ? osz * 2 : 4096;
		X.ft = calloc(X.ft_size, sizeof(*X.ft));
		if (!X.ft) {
			fprintf(stderr, "otsense-parsebench: out of memory\n");
			exit(1);
		}
		for (size_t i = 0; i < osz; i++) {
			if (!old[i].used)
				continue;
			size_t j = key_hash(&old[i].k) & (X.ft_size - 1);
			while (X.ft[j].used)
				j = (j + 1) & (X.ft_size - 1);
			X.ft[j] = old[i];
		}
		free(old);
	}
	size_t j = key_hash(k) & (X.ft_size - 1);
	while (X.ft[j].used) {
		if (memcmp(&X.ft[j].k, k, sizeof(*k)) == 0) {
			*created = 0;
			return &X.ft[j];
		}
		j = (j + 1) & (X.ft_size - 1);
	}
	*created = 1;
	X.ft_used++;
	memset(&X.ft[j], 0, sizeof(X.ft[j]));
	X.ft[j].k = *k;
	X.ft[j].used = 1;
	return &X.ft[j];
}

/* end of a TCP flow (reuse, end of capture): deliver what reassembly still holds, as worker.c on_flow_end */
static void flow_flush(struct flow *f, uint64_t ts)
{
	for (uint8_t d = 0; d < 2; d++) {
		if (f->rd[d].nsegs) {
			struct deliver_ud u = { f->inst, d, ts };
			ots_reasm_flush(&f->rd[d], &X.pool, &X.rst, on_deliver, &u);
		}
	}
}

static void flow_start(struct flow *f, uint16_t app, uint8_t proto)
{
	struct ots_flow_key k = f->k;
	memset(f, 0, sizeof(*f));
	f->k = k;
	f->used = 1;
	f->tcp_state = proto == 6 ? OTS_TCP_NEW : OTS_TCP_NONE;
	f->inst = new_inst(app, proto);
}

static int flow_expired(const struct flow *f, uint64_t now)
{
	return f->seen && f->last_ns + timeout_s[f->tcp_state] * 1000000000ull <= now;
}

static void packet(const uint8_t *frame, uint32_t caplen, int linktype, uint64_t ts)
{
	struct ots_pkt p;
	X.packets++;
	ots_decode(frame, caplen, linktype, &p);
	if (!p.flow_ok || (p.flags & OTS_PF_FRAG_LATE) || (p.ip_proto != 6 && p.ip_proto != 17)) {
		X.frames_no_flow++;
		return;
	}
	struct ots_flow_key k;
	int side = ots_flow_key_make(&p, &k);
	uint16_t app = ots_registry_classify(k.proto, k.port[0], k.port[1]);
	if (!ots_protocols[app].parser)
		return;
	int created;
	struct flow *f = flow_find(&k, &created);
	uint8_t fl = p.tcp_flags;
	if (ts > X.now_ns) /* the worker's packet clock */
		X.now_ns = ts;
	if (created) {
		flow_start(f, app, p.ip_proto);
	} else if (flow_expired(f, X.now_ns)) { /* the worker's expiry would have ended it: a new flow */
		flow_flush(f, ts);
		flow_start(f, app, p.ip_proto);
		X.timeouts++;
	} else if (p.ip_proto == 6 && f->tcp_state == OTS_TCP_CLOSED &&
		   (fl & (OTS_TCP_SYN | OTS_TCP_ACK)) == OTS_TCP_SYN && (!f->isn_known || f->client_isn != p.seq)) {
		flow_flush(f, ts); /* closed, and a new connection on the same ports */
		flow_start(f, app, p.ip_proto);
		X.reused++;
	}
	if (X.now_ns > f->last_ns)
		f->last_ns = X.now_ns;
	if (!f->seen) { /* ots_flow_update: the first packet decides who the client is */
		f->seen = 1;
		if (p.ip_proto == 6) {
			int syn = (fl & OTS_TCP_SYN) && !(fl & (OTS_TCP_FIN | OTS_TCP_RST));
			if (syn && (fl & OTS_TCP_ACK))
				f->client_side = (uint8_t)!side;
			else if (syn)
				f->client_side = (uint8_t)side;
			else
				f->client_side = (uint8_t)(k.port[side] > k.port[!side]   ? side
							   : k.port[side] < k.port[!side] ? !side
											  : side);
			if (!syn)
				f->tcp_state = OTS_TCP_EST;
		} else {
			f->client_side = (uint8_t)side;
		}
	}
	uint8_t dir = side != f->client_side;
	if (p.ip_proto == 17) {
		if (p.payload_len)
			add_chunk(f->inst, dir, ts, p.payload, p.payload_len, 0);
		return;
	}
	/* TCP state as flow.c tcp_track */
	if (f->tcp_state == OTS_TCP_NEW &&
	    ((!dir && (fl & OTS_TCP_ACK) && (f->tcp_flags[1] & OTS_TCP_SYN)) || p.payload_len))
		f->tcp_state = OTS_TCP_EST;
	if (fl & OTS_TCP_RST)
		f->tcp_state = OTS_TCP_CLOSED;
	else if (fl & OTS_TCP_FIN)
		f->tcp_state = (f->tcp_flags[!dir] & OTS_TCP_FIN) ? OTS_TCP_CLOSED : OTS_TCP_CLOSING;
	f->tcp_flags[dir] |= fl;
	if ((fl & (OTS_TCP_SYN | OTS_TCP_ACK)) == OTS_TCP_SYN && !dir) {
		f->client_isn = p.seq;
		f->isn_known = 1;
	}
	if (!p.payload_len && !(fl & (OTS_TCP_SYN | OTS_TCP_FIN | OTS_TCP_RST)))
		return;
	struct deliver_ud u = { f->inst, dir, ts };
	ots_reasm_segment(&f->rd[dir], &X.pool, &X.rcfg, &X.rst, p.seq, fl, p.payload, p.payload_len, on_deliver, &u);
	if (fl & (OTS_TCP_FIN | OTS_TCP_RST)) {
		if (f->rd[dir].nsegs)
			ots_reasm_flush(&f->rd[dir], &X.pool, &X.rst, on_deliver, &u);
		if ((fl & OTS_TCP_RST) && f->rd[!dir].nsegs) {
			u.dir = !dir;
			ots_reasm_flush(&f->rd[!dir], &X.pool, &X.rst, on_deliver, &u);
		}
	}
}

static int read_capture(const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p) {
		fprintf(stderr, "otsense-parsebench: cannot read '%s': %s\n", path, eb);
		return -1;
	}
	int lt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t last = 0;
	int r;
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		last = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		packet(d, h->caplen, lt, last);
	}
	if (r == -1)
		fprintf(stderr, "otsense-parsebench: '%s': %s (kept what was read)\n", path, pcap_geterr(p));
	pcap_close(p);
	/* end of this capture: flush every flow (flows do not continue into the next file) */
	for (size_t i = 0; i < X.ft_size; i++)
		if (X.ft[i].used)
			flow_flush(&X.ft[i], last);
	free(X.ft);
	X.ft = NULL;
	X.ft_size = X.ft_used = 0;
	X.now_ns = 0; /* the next capture has its own clock */
	return 0;
}

/* ------------------------------------------------------------------------------------------ replay */

struct rchunk {
	const uint8_t *data; /* NULL: gap */
	uint64_t ts_ns;
	uint32_t len;
	uint8_t dir;
	uint8_t flags;
};

struct rflow {
	uint32_t first, n;
	uint8_t transport;
};

struct pset {            /* one protocol's replay set */
	uint16_t app;
	struct rflow *flows;
	uint32_t nflows;
	struct rchunk *chunks;
	uint32_t nchunks;
	uint8_t *bytes;
	uint64_t nbytes, gap_bytes;
	uint32_t midstream, tcp_flows, udp_flows;
};

struct counts {
	uint64_t pdus, identities, events, rejected;
	uint64_t kinds[OTS_PDU_KIND_MAX];
};

static void op_pdu(void *ud, const struct ots_pdu *pdu)
{
	struct counts *c = ud;
	c->pdus++;
	c->kinds[pdu->kind < OTS_PDU_KIND_MAX ? pdu->kind : OTS_PDU_OTHER]++;
}

static void op_identity(void *ud, int endpoint, int kind, int confidence, const char *value, size_t len)
{
	(void)endpoint, (void)kind, (void)confidence, (void)value, (void)len;
	((struct counts *)ud)->identities++;
}

static void op_event(void *ud, uint16_t proto, unsigned event)
{
	(void)proto, (void)event;
	((struct counts *)ud)->events++;
}

static const struct ots_app_ops count_ops = { op_pdu, op_identity, op_event };

static _Alignas(64) uint8_t state_buf[OTS_APP_STATE_MAX];

static void replay_pass(const struct pset *s, const struct ots_parser *ps, struct counts *cnt)
{
	struct ots_app_ctx ctx = { .ops = &count_ops, .ud = cnt, .proto = s->app };
	for (uint32_t i = 0; i < s->nflows; i++) {
		const struct rflow *f = &s->flows[i];
		const struct rchunk *c = s->chunks + f->first, *end = c + f->n;
		memset(state_buf, 0, ps->state_size);
		ctx.transport = f->transport;
		for (; c < end; c++) {
			ctx.ts_ns = c->ts_ns;
			ctx.flags = c->flags;
			ctx.dir = c->dir;
			if (ps->parse(&ctx, c->data, c->len, state_buf) < 0) {
				cnt->rejected++;
				break;
			}
		}
	}
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static inline uint64_t tsc(void)
{
#if HAVE_TSC
	return __rdtsc();
#else
	return 0;
#endif
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n) /* v sorted, n > 0 */
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void build_sets(struct pset *sets, int *nsets, int only)
{
	/* per instance: its place among its protocol's flows; chunks counted per protocol */
	uint32_t *inst_flow = xrealloc(NULL, (X.ninsts + 1) * sizeof(uint32_t));
	int set_of[OTS_APP_MAX];
	for (int a = 0; a < OTS_APP_MAX; a++)
		set_of[a] = -1;
	*nsets = 0;
	for (int a = 1; a < OTS_APP_MAX; a++) {
		if (!ots_protocols[a].parser || (only >= 0 && a != only))
			continue;
		struct pset *s = &sets[*nsets];
		memset(s, 0, sizeof(*s));
		s->app = (uint16_t)a;
		set_of[a] = (*nsets)++;
	}
	for (size_t i = 0; i < X.ninsts; i++) {
		const struct inst *in = &X.insts[i];
		int si = set_of[in->app];
		if (si < 0 || !in->nchunks)
			continue;
		sets[si].nflows++;
		sets[si].nchunks += in->nchunks;
	}
	for (int si = 0; si < *nsets; si++) {
		struct pset *s = &sets[si];
		s->flows = xrealloc(NULL, (s->nflows + 1) * sizeof(*s->flows));
		s->chunks = xrealloc(NULL, ((size_t)s->nchunks + 1) * sizeof(*s->chunks));
		s->nflows = 0;
		s->nchunks = 0;
	}
	for (size_t i = 0; i < X.ninsts; i++) {
		const struct inst *in = &X.insts[i];
		int si = set_of[in->app];
		if (si < 0 || !in->nchunks)
			continue;
		struct pset *s = &sets[si];
		inst_flow[i] = s->nflows;
		s->flows[s->nflows] = (struct rflow){ s->nchunks, 0, in->transport };
		s->nchunks += in->nchunks;
		s->nflows++;
		s->midstream += in->midstream;
		if (in->transport == 6)
			s->tcp_flows++;
		else
			s->udp_flows++;
	}
	/* payload bytes per protocol, then copy flow after flow (each flow's chunks in capture order) */
	uint64_t nb[OTS_APP_MAX] = { 0 };
	for (size_t i = 0; i < X.nchunks; i++)
		if (X.chunks[i].off != GAP_OFF)
			nb[X.insts[X.chunks[i].inst].app] += X.chunks[i].len;
	for (int si = 0; si < *nsets; si++)
		sets[si].bytes = xrealloc(NULL, nb[sets[si].app] + 64);
	/* place chunks: first pass assigns each chunk its slot inside its flow */
	for (size_t i = 0; i < X.nchunks; i++) {
		const struct chunk *c = &X.chunks[i];
		int si = set_of[X.insts[c->inst].app];
		if (si < 0)
			continue;
		struct pset *s = &sets[si];
		struct rflow *f = &s->flows[inst_flow[c->inst]];
		struct rchunk *r = &s->chunks[f->first + f->n++];
		r->ts_ns = c->ts_ns;
		r->len = c->len;
		r->dir = c->dir;
		r->flags = c->flags;
		r->data = c->off == GAP_OFF ? NULL : X.bytes + c->off; /* rebased below */
	}
	for (int si = 0; si < *nsets; si++) {
		struct pset *s = &sets[si];
		uint64_t o = 0;
		for (uint32_t j = 0; j < s->nchunks; j++) {
			struct rchunk *r = &s->chunks[j];
			if (!r->data) {
				s->gap_bytes += r->len;
				continue;
			}
			memcpy(s->bytes + o, r->data, r->len);
			r->data = s->bytes + o;
			o += r->len;
		}
		s->nbytes = o;
	}
	free(inst_flow);
}

/* ------------------------------------------------------------------------------------------ main */

static void usage(FILE *o)
{
	fprintf(o, "usage: otsense-parsebench [--pcap FILE]... [FILE...] [--seconds S] [--proto NAME] [--cpu N] "
		   "[--json FILE]\n"
		   "  per-parser ns per PDU on the flows of the captures (default: " DEFAULT_PCAP ")\n"
		   "  --seconds S   timed replay per protocol (default 0.5)\n"
		   "  --proto NAME  only this protocol\n"
		   "  --cpu N       pin to CPU N\n"
		   "  --json FILE   also write the JSON lines (one per protocol) to FILE\n");
}

int main(int argc, char **argv)
{
	const char *pcaps[MAX_PCAPS];
	int npcaps = 0, cpu = -1, only = -1;
	double seconds = 0.5;
	const char *json = NULL;
	static const struct option lo[] = { { "pcap", required_argument, NULL, 'p' },
					    { "seconds", required_argument, NULL, 's' },
					    { "proto", required_argument, NULL, 'P' },
					    { "cpu", required_argument, NULL, 'c' },
					    { "json", required_argument, NULL, 'j' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int o;
	ots_registry_init();
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (npcaps == MAX_PCAPS) {
				fprintf(stderr, "otsense-parsebench: at most %d captures\n", MAX_PCAPS);
				return 2;
			}
			pcaps[npcaps++] = optarg;
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			if (!(seconds > 0)) {
				fprintf(stderr, "otsense-parsebench: --seconds: a positive number\n");
				return 2;
			}
			break;
		case 'P':
			only = ots_app_by_name(optarg);
			if (only < 0 || !ots_protocols[only].parser) {
				fprintf(stderr, "otsense-parsebench: --proto: '%s' is not a protocol with a parser\n", optarg);
				return 2;
			}
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		if (npcaps == MAX_PCAPS) {
			fprintf(stderr, "otsense-parsebench: at most %d captures\n", MAX_PCAPS);
			return 2;
		}
		pcaps[npcaps++] = argv[optind];
	}
	if (!npcaps) {
		if (access(DEFAULT_PCAP, R_OK) == 0) {
			pcaps[npcaps++] = DEFAULT_PCAP;
		} else if (access(OTS_SOURCE_ROOT "/" DEFAULT_PCAP, R_OK) == 0) {
			pcaps[npcaps++] = OTS_SOURCE_ROOT "/" DEFAULT_PCAP;
		} else {
			fprintf(stderr, "otsense-parsebench: no capture given and %s not found (make it with bench/run "
					"or bench/mkmix.py --out bench/out, or pass --pcap FILE)\n", DEFAULT_PCAP);
			return 2;
		}
	}
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			fprintf(stderr, "otsense-parsebench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
	}

	X.rcfg.max_bytes = REASM_MAX_BYTES;
	X.rcfg.max_segments = REASM_MAX_SEGS;
	if (ots_seg_pool_init(&X.pool, REASM_POOL) != 0) {
		fprintf(stderr, "otsense-parsebench: cannot allocate the reassembly pool\n");
		return 1;
	}
	for (int i = 0; i < npcaps; i++)
		if (read_capture(pcaps[i]) < 0)
			return 1;
	ots_seg_pool_fini(&X.pool);

	struct pset sets[OTS_APP_MAX];
	int nsets;
	build_sets(sets, &nsets, only);

	FILE *jf = NULL;
	if (json && !(jf = fopen(json, "w"))) {
		fprintf(stderr, "otsense-parsebench: cannot write '%s': %s\n", json, strerror(errno));
		return 1;
	}
	char jl[OTS_APP_MAX][1024];
	int njl = 0;
	double *blk_ns = NULL, *blk_cyc = NULL;
	size_t blk_cap = 0;
	printf("otsense-parsebench: %d capture(s) (%s%s), %" PRIu64 " packets; reassembly: %" PRIu64
	       " out-of-order segments held, %" PRIu64 " duplicate bytes dropped, %" PRIu64 " gaps (%" PRIu64
	       " bytes); flows ended by timeout %" PRIu64 ", reused %" PRIu64 "; %.2f s per protocol\n",
	       npcaps, pcaps[0], npcaps > 1 ? ", ..." : "", X.packets, X.rst.ooo_segments, X.rst.overlap_bytes,
	       X.rst.gaps, X.rst.gap_bytes, X.timeouts, X.reused, seconds);
	printf("%-8s %6s %7s %10s %9s %8s %8s %8s %8s %8s %9s %7s %8s\n", "parser", "flows", "chunks", "bytes",
	       "PDUs/pass", "ns/PDU", "mean", "best", "cyc/PDU", "ns/byte", "MB/s", "B/PDU", "rejected");
	for (int si = 0; si < nsets; si++) {
		struct pset *s = &sets[si];
		const struct ots_parser *ps = ots_protocols[s->app].parser;
		if (!s->nflows) {
			printf("%-8s %6s (no flow in the captures)\n", ots_app_name(s->app), "-");
			continue;
		}
		struct counts warm = { 0 }, cnt = { 0 };
		uint64_t w0 = now_ns();
		replay_pass(s, ps, &warm); /* warm-up, the per-pass counts, and how many passes make a timed block */
		uint64_t w1 = now_ns();
		uint64_t reps = w1 - w0 >= BLOCK_NS ? 1 : BLOCK_NS / (w1 - w0 + 1) + 1;
		uint64_t passes = 0, ns = 0, cyc = 0, budget = (uint64_t)(seconds * 1e9);
		size_t nblk = 0;
		do { /* blocks of `reps` passes; per block: ns and cycles per pass */
			if (nblk == blk_cap) {
				blk_cap = blk_cap ? blk_cap * 2 : 4096;
				blk_ns = xrealloc(blk_ns, blk_cap * sizeof(*blk_ns));
				blk_cyc = xrealloc(blk_cyc, blk_cap * sizeof(*blk_cyc));
			}
			uint64_t t0 = now_ns(), c0 = tsc();
			for (uint64_t r = 0; r < reps; r++)
				replay_pass(s, ps, &cnt);
			uint64_t c1 = tsc(), t1 = now_ns();
			ns += t1 - t0;
			cyc += c1 - c0;
			blk_ns[nblk] = (double)(t1 - t0) / (double)reps;
			blk_cyc[nblk++] = (double)(c1 - c0) / (double)reps;
			passes += reps;
		} while (ns < budget);
		if (cnt.pdus != passes * warm.pdus)
			fprintf(stderr, "otsense-parsebench: %s: PDU count differs between passes (%" PRIu64 " vs %" PRIu64
					" per pass): a parser reading state it did not reset?\n",
				ots_app_name(s->app), cnt.pdus / passes, warm.pdus);
		double pdus = warm.pdus ? (double)warm.pdus : 1, nbytes = s->nbytes ? (double)s->nbytes : 1;
		double mean_pass = (double)ns / (double)passes;
		qsort(blk_ns, nblk, sizeof(*blk_ns), cmp_double);
		qsort(blk_cyc, nblk, sizeof(*blk_cyc), cmp_double);
		double med_pass = median(blk_ns, nblk), best_pass = blk_ns[0];
		double ns_pdu = med_pass / pdus, cyc_pdu = HAVE_TSC ? median(blk_cyc, nblk) / pdus : 0;
		double ns_byte = med_pass / nbytes, mbs = (double)s->nbytes / med_pass * 1e3;
		printf("%-8s %6u %7u %10" PRIu64 " %9" PRIu64 " %8.1f %8.1f %8.1f %8.1f %8.3f %9.1f %7.1f %8" PRIu64 "\n",
		       ots_app_name(s->app), s->nflows, s->nchunks, s->nbytes, warm.pdus, ns_pdu, mean_pass / pdus,
		       best_pass / pdus, cyc_pdu, ns_byte, mbs, (double)s->nbytes / pdus, warm.rejected);
		snprintf(jl[njl++], sizeof(jl[0]),
			 "{\"parser\":\"%s\",\"flows\":%u,\"tcp_flows\":%u,\"udp_flows\":%u,\"midstream_flows\":%u,"
			 "\"chunks\":%u,\"payload_bytes\":%" PRIu64 ",\"gap_bytes\":%" PRIu64 ",\"state_size\":%zu,"
			 "\"pdus_per_pass\":%" PRIu64 ",\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
			 ",\"exceptions\":%" PRIu64 ",\"unsolicited\":%" PRIu64 ",\"other\":%" PRIu64
			 ",\"identities_per_pass\":%" PRIu64 ",\"events_per_pass\":%" PRIu64
			 ",\"rejected_flows\":%" PRIu64 ",\"passes\":%" PRIu64 ",\"blocks\":%zu,\"seconds\":%.3f,"
			 "\"ns_per_pass\":%.0f,\"ns_per_pdu\":%.2f,\"mean_ns_per_pdu\":%.2f,\"best_ns_per_pdu\":%.2f,"
			 "\"cycles_per_pdu\":%.1f,\"ns_per_byte\":%.4f,\"mb_per_s\":%.1f,\"bytes_per_pdu\":%.1f}",
			 ots_app_name(s->app), s->nflows, s->tcp_flows, s->udp_flows, s->midstream, s->nchunks, s->nbytes,
			 s->gap_bytes, ps->state_size, warm.pdus, warm.kinds[OTS_PDU_REQUEST],
			 warm.kinds[OTS_PDU_RESPONSE], warm.kinds[OTS_PDU_EXCEPTION], warm.kinds[OTS_PDU_UNSOLICITED],
			 warm.kinds[OTS_PDU_OTHER], warm.identities, warm.events, warm.rejected, passes, nblk,
			 (double)ns / 1e9, med_pass, ns_pdu, mean_pass / pdus, best_pass / pdus, cyc_pdu, ns_byte, mbs,
			 (double)s->nbytes / pdus);
		fflush(stdout);
	}
	printf("(every pass = all flows of the protocol, each from a zeroed state; passes timed in blocks of >= %.1f ms: "
	       "ns/PDU, cyc/PDU (TSC), ns/byte, MB/s from the median block; mean = all passes, best = fastest block)\n",
	       BLOCK_NS / 1e6);
	for (int i = 0; i < njl; i++) {
		printf("%s\n", jl[i]);
		if (jf)
			fprintf(jf, "%s\n", jl[i]);
	}
	if (jf && fclose(jf) != 0) {
		fprintf(stderr, "otsense-parsebench: writing '%s' failed\n", json);
		return 1;
	}
	for (int si = 0; si < nsets; si++) {
		free(sets[si].flows);
		free(sets[si].chunks);
		free(sets[si].bytes);
	}
	free(blk_ns);
	free(blk_cyc);
	free(X.chunks);
	free(X.bytes);
	free(X.insts);
	return 0;
}
