/* bench/gen.c - otsense-gen: a pktgen-style replay generator over net_memif.
 *
 * Loads a pcap into memory once (one prebuilt mbuf per frame), creates a net_memif SERVER port, waits for the
 * sensor (the memif client) to connect, then replays the capture in a loop:
 *   --rate MPPS   open loop, like a wire: a token bucket on the TSC releases packets at MPPS; what tx_burst
 *                 refuses (memif ring full = the sensor did not take it in time) is counted as failed and NOT
 *                 retried, so sent = what the sensor received and failed = what it lost;
 *   no --rate     closed loop, as fast as the pair goes: refused packets are retried (counted as retried), so
 *                 sent is the pair's throughput with back-pressure.
 * Stops after --count packets, --duration seconds or SIGINT/SIGTERM, then waits for the sensor to disconnect
 * (it drains its ring and exits on --idle-exit) and reports attempted / sent / failed as text and JSON.
 *
 * Mbufs are never copied or allocated while sending: every prebuilt mbuf carries a large reference count that
 * this thread tops up (no other thread touches them), memif copies the frame out on tx and drops one reference.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define MAX_BURST 256
#define EAL_MAX 64
#define REFCNT_HIGH 0xF000u
#define REFCNT_LOW 1024u

static volatile sig_atomic_t stop; /* signals received: 1 ends sending, 2 also ends waiting for the peer */

static void on_signal(int sig)
{
	(void)sig;
	stop++;
}

struct opts {
	const char *pcap;
	const char *socket;
	const char *json;
	const char *eal;
	double rate_mpps;  /* 0 = as fast as possible */
	uint64_t count;
	double duration;
	unsigned burst;
	int cpu;
	double wait_s;     /* for the client to connect */
	double settle_s;   /* after link up, before sending: the sensor finishes its start-up */
	double linger_s;   /* after sending, for the client to disconnect */
	double warmup_s;   /* open-loop warm-up before the measured run, reported apart */
	double warmup_rate;
	int quiet;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: otsense-gen --pcap FILE --socket PATH [--rate MPPS] [--count N | --duration SEC] [--burst N]\n"
		"                   [--json FILE] [--cpu N] [--wait SEC] [--settle SEC] [--linger SEC] [--eal 'ARGS']\n"
		"\n"
		"Replay FILE in a loop from memory over a net_memif server port at SOCKET (the sensor connects as client:\n"
		"otsense --memif SOCKET). Reports attempted, sent (accepted by the memif ring) and failed (refused: the\n"
		"receiver did not take them in time).\n"
		"\n"
		"  --pcap FILE      capture to replay (Ethernet); frames are loaded into memory once\n"
		"  --socket PATH    memif control socket (created here: this side is the memif server)\n"
		"  --rate MPPS      offered rate in Mpps (token bucket, no retry: refused = failed); omitted or 0 = as fast\n"
		"                   as the receiver takes them (refused packets are retried)\n"
		"  --count N        stop after N packets attempted\n"
		"  --duration SEC   stop after SEC seconds of sending (default 10 when --count is not given)\n"
		"  --burst N        packets per tx burst, 1..%d (default 32)\n"
		"  --json FILE      write the report as one JSON object ('-' = stdout)\n"
		"  --cpu N          CPU for the sending lcore (default 0)\n"
		"  --wait SEC       wait this long for the client to connect (default 30)\n"
		"  --settle SEC     after the link comes up, wait this long before sending (default 1)\n"
		"  --linger SEC     after sending, wait up to this long for the client to disconnect (default 10)\n"
		"  --warmup SEC     first send SEC seconds at --warmup-rate (default 0.5 Mpps, open loop), reported apart:\n"
		"                   the sensor creates its flows and touches its memory before the measured run\n"
		"  --eal 'ARGS'     EAL arguments replacing the built-in ones (--no-huge -m 1024 --no-pci\n"
		"                   --file-prefix=otsgen<pid> -l CPU --vdev=net_memif0,role=server,id=0,socket=PATH)\n"
		"  -q, --quiet      no text report\n",
		MAX_BURST);
}

static int parse_num(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || *v < 0 || !isfinite(*v) ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_PCAP = 256, O_SOCKET, O_RATE, O_COUNT, O_DURATION, O_BURST, O_JSON, O_CPU, O_WAIT, O_SETTLE,
	       O_LINGER, O_WARMUP, O_WARMUP_RATE, O_EAL };
	static const struct option lo[] = {
		{ "pcap", required_argument, NULL, O_PCAP }, { "socket", required_argument, NULL, O_SOCKET },
		{ "rate", required_argument, NULL, O_RATE }, { "count", required_argument, NULL, O_COUNT },
		{ "duration", required_argument, NULL, O_DURATION }, { "burst", required_argument, NULL, O_BURST },
		{ "json", required_argument, NULL, O_JSON }, { "cpu", required_argument, NULL, O_CPU },
		{ "wait", required_argument, NULL, O_WAIT }, { "settle", required_argument, NULL, O_SETTLE },
		{ "linger", required_argument, NULL, O_LINGER }, { "warmup", required_argument, NULL, O_WARMUP },
		{ "warmup-rate", required_argument, NULL, O_WARMUP_RATE }, { "eal", required_argument, NULL, O_EAL },
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->burst = 32;
	o->wait_s = 30;
	o->settle_s = 1;
	o->linger_s = 10;
	o->warmup_rate = 0.5;
	int c;
	double v = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", lo, NULL)) != -1) {
		if (c >= O_RATE && c <= O_WARMUP_RATE && c != O_JSON && parse_num(optarg, &v) < 0) {
			fprintf(stderr, "otsense-gen: %s '%s': give a non-negative number\n", argv[optind - 1], optarg);
			return -1;
		}
		switch (c) {
		case O_PCAP: o->pcap = optarg; break;
		case O_SOCKET: o->socket = optarg; break;
		case O_RATE: o->rate_mpps = v; break;
		case O_COUNT: o->count = (uint64_t)v; break;
		case O_DURATION: o->duration = v; break;
		case O_BURST:
			if (v < 1 || v > MAX_BURST) {
				fprintf(stderr, "otsense-gen: --burst %s: give 1..%d\n", optarg, MAX_BURST);
				return -1;
			}
			o->burst = (unsigned)v;
			break;
		case O_JSON: o->json = optarg; break;
		case O_CPU: o->cpu = (int)v; break;
		case O_WAIT: o->wait_s = v; break;
		case O_SETTLE: o->settle_s = v; break;
		case O_LINGER: o->linger_s = v; break;
		case O_WARMUP: o->warmup_s = v; break;
		case O_WARMUP_RATE: o->warmup_rate = v; break;
		case O_EAL: o->eal = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'h': usage(stdout); exit(0);
		case ':':
			fprintf(stderr, "otsense-gen: option '%s' needs a value; see --help\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "otsense-gen: unknown option '%s'; see --help\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc || !o->pcap || !o->socket) {
		fprintf(stderr, "otsense-gen: --pcap FILE and --socket PATH are required; see --help\n");
		return -1;
	}
	if (o->socket[0] != '/' || strchr(o->socket, ',')) {
		fprintf(stderr, "otsense-gen: --socket '%s': give an absolute path without commas\n", o->socket);
		return -1;
	}
	if (!o->count && o->duration == 0)
		o->duration = 10;
	return 0;
}

struct eal_argv {
	int argc;
	char *argv[EAL_MAX + 1];
	char store[EAL_MAX][640];
};

static void eal_add(struct eal_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void eal_add(struct eal_argv *a, const char *fmt, ...)
{
	if (a->argc >= EAL_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->store[a->argc], sizeof(a->store[0]), fmt, ap);
	va_end(ap);
	a->argv[a->argc] = a->store[a->argc];
	a->argv[++a->argc] = NULL;
}

static void eal_build(const struct opts *o, const char *prog, struct eal_argv *a)
{
	memset(a, 0, sizeof(*a));
	eal_add(a, "%s", prog);
	if (o->eal) {
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s", o->eal);
		for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
			eal_add(a, "%s", t);
		return;
	}
	eal_add(a, "--no-huge");
	eal_add(a, "-m");
	eal_add(a, "1024");
	eal_add(a, "--no-pci");
	eal_add(a, "--file-prefix=otsgen%d", (int)getpid()); /* memif needs the multi-process channel */
	eal_add(a, "-l");
	eal_add(a, "%d", o->cpu);
	eal_add(a, "--vdev=net_memif0,role=server,id=0,socket=%s", o->socket);
	eal_add(a, "--no-telemetry");
	eal_add(a, "--log-level=*:warning");
}

struct frames {
	struct rte_mbuf **m;
	uint32_t n;
	uint64_t bytes;
	uint32_t skipped; /* larger than one mbuf */
};

static int load_pcap(const char *path, struct rte_mempool *mp, struct frames *f)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, eb);
	if (!p) {
		fprintf(stderr, "otsense-gen: cannot read '%s': %s\n", path, eb);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB)
		fprintf(stderr, "otsense-gen: warning: '%s' has link type %d, sent as if it were Ethernet\n", path,
			pcap_datalink(p));
	uint32_t cap = 4096;
	f->m = malloc(cap * sizeof(*f->m));
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;
	uint16_t room = (uint16_t)(rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM);
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		if (h->caplen > room || h->caplen == 0) {
			f->skipped++;
			continue;
		}
		if (f->n == cap) {
			cap *= 2;
			f->m = realloc(f->m, cap * sizeof(*f->m));
		}
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (!m) {
			fprintf(stderr, "otsense-gen: out of mbufs after %u frames of '%s'\n", f->n, path);
			pcap_close(p);
			return -1;
		}
		memcpy(rte_pktmbuf_mtod(m, void *), d, h->caplen);
		m->data_len = (uint16_t)h->caplen;
		m->pkt_len = h->caplen;
		rte_mbuf_refcnt_set(m, REFCNT_HIGH);
		f->m[f->n++] = m;
		f->bytes += h->caplen;
	}
	if (r == -1)
		fprintf(stderr, "otsense-gen: '%s': %s (using the %u frames read)\n", path, pcap_geterr(p), f->n);
	pcap_close(p);
	if (!f->n) {
		fprintf(stderr, "otsense-gen: '%s' holds no frame that fits an mbuf\n", path);
		return -1;
	}
	return 0;
}

static uint32_t count_frames(const char *path, uint32_t *maxlen)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, eb);
	uint32_t n = 0;
	*maxlen = 0;
	if (!p)
		return 0;
	struct pcap_pkthdr *h;
	const u_char *d;
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		if (h->caplen > *maxlen)
			*maxlen = h->caplen;
	}
	pcap_close(p);
	return n;
}

static int port_setup(uint16_t port, struct rte_mempool *rxmp)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	int r = rte_eth_dev_configure(port, 1, 1, &conf);
	if (r < 0)
		return r;
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = 0;
	if ((r = rte_eth_rx_queue_setup(port, 0, 1024, (unsigned)socket, NULL, rxmp)) < 0)
		return r;
	if ((r = rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)socket, NULL)) < 0)
		return r;
	return rte_eth_dev_start(port);
}

static int link_up(uint16_t port)
{
	struct rte_eth_link l;
	memset(&l, 0, sizeof(l));
	return rte_eth_link_get_nowait(port, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
}

#define TIMELINE_SLOTS 600 /* failed packets per 100 ms of the run (first 60 s): startup transient or jitter? */

struct result {
	uint64_t attempted, sent, failed, retried, bytes;
	double seconds;
	int peer_lost;
	uint64_t tsc_hz;
	uint32_t timeline[TIMELINE_SLOTS];
	unsigned nslots;
};

struct phase_cfg {
	double rate_mpps; /* 0 = closed loop */
	double duration;  /* 0 = until count */
	uint64_t count;   /* 0 = until duration */
	unsigned burst;
};

static void send_loop(const struct phase_cfg *o, uint16_t port, const struct frames *f, uint32_t *pidx,
		      struct result *res)
{
	struct rte_mbuf *burst[MAX_BURST];
	const uint64_t hz = rte_get_tsc_hz();
	const uint64_t t0 = rte_rdtsc();
	const uint64_t deadline = o->duration > 0 ? t0 + (uint64_t)(o->duration * (double)hz) : UINT64_MAX;
	const double per_tsc = o->rate_mpps * 1e6 / (double)hz; /* packets per TSC tick */
	const double bucket = o->burst * 4.0;                    /* most credit kept: bursts stay short */
	double tokens = 0;
	uint64_t last = t0, now = t0;
	uint32_t idx = *pidx;
	unsigned pending = 0; /* closed loop: refused packets retried first */
	uint64_t zeros = 0;
	memset(res, 0, sizeof(*res));
	while (!stop) {
		now = rte_rdtsc();
		if (now >= deadline)
			break;
		if (o->count && res->attempted >= o->count && !pending)
			break;
		unsigned n = o->burst;
		if (per_tsc > 0) {
			tokens += (double)(now - last) * per_tsc;
			last = now;
			if (tokens > bucket)
				tokens = bucket;
			if (tokens < 1)
				continue;
			if (tokens < n)
				n = (unsigned)tokens;
		}
		if (o->count && !pending && res->attempted + n > o->count)
			n = (unsigned)(o->count - res->attempted);
		if (!pending) {
			for (unsigned i = 0; i < n; i++) {
				struct rte_mbuf *m = f->m[idx];
				if (unlikely(rte_mbuf_refcnt_read(m) < REFCNT_LOW))
					rte_mbuf_refcnt_set(m, REFCNT_HIGH);
				burst[i] = m;
				if (++idx == f->n)
					idx = 0;
			}
			res->attempted += n;
		} else {
			n = pending;
		}
		uint16_t k = rte_eth_tx_burst(port, 0, burst, (uint16_t)n);
		res->sent += k;
		if (unlikely(k == 0) && (++zeros & 0xffff) == 0 && !link_up(port)) {
			res->peer_lost = 1; /* the receiver went away: nothing will drain the ring again */
			if (per_tsc > 0)
				res->failed += n;
			break;
		}
		for (uint16_t i = 0; i < k; i++)
			res->bytes += burst[i]->pkt_len;
		if (k < n) {
			if (per_tsc > 0) {
				res->failed += n - k; /* a wire does not wait: the receiver lost them */
				uint64_t slot = (now - t0) / (hz / 10);
				if (slot < TIMELINE_SLOTS)
					res->timeline[slot] += n - k;
			} else {
				res->retried += n - k;
				memmove(burst, burst + k, (n - k) * sizeof(burst[0]));
				pending = n - k;
				continue;
			}
		}
		pending = 0;
		if (per_tsc > 0)
			tokens -= n;
	}
	*pidx = idx;
	res->seconds = (double)(now - t0) / (double)hz;
	res->tsc_hz = hz;
	res->nslots = (unsigned)RTE_MIN((uint64_t)TIMELINE_SLOTS, (now - t0) / (hz / 10) + 1);
}

static void report(const struct opts *o, const struct frames *f, const struct result *w, const struct result *r,
		   const struct rte_eth_stats *es, int peer_left)
{
	double s = r->seconds > 0 ? r->seconds : 1e-9;
	char buf[2048 + TIMELINE_SLOTS * 11];
	snprintf(buf, sizeof(buf),
		 "{\"pcap\":\"%s\",\"frames\":%u,\"frames_skipped\":%u,\"mode\":\"%s\",\"rate_mpps\":%.6f,"
		 "\"burst\":%u,\"seconds\":%.6f,\"attempted\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"failed\":%" PRIu64
		 ",\"retried\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ",\"offered_mpps\":%.6f,\"sent_mpps\":%.6f,"
		 "\"sent_gbps\":%.6f,\"port_opackets\":%" PRIu64 ",\"port_oerrors\":%" PRIu64 ",\"peer_disconnected\":%s,"
		 "\"warmup\":{\"seconds\":%.6f,\"rate_mpps\":%.6f,\"attempted\":%" PRIu64 ",\"sent\":%" PRIu64
		 ",\"failed\":%" PRIu64 "},\"sent_total\":%" PRIu64 ",\"failed_per_100ms\":[",
		 o->pcap, f->n, f->skipped, o->rate_mpps > 0 ? "rate" : "max", o->rate_mpps, o->burst, r->seconds,
		 r->attempted, r->sent, r->failed, r->retried, r->bytes, r->attempted / s / 1e6, r->sent / s / 1e6,
		 r->bytes * 8.0 / s / 1e9, es->opackets, es->oerrors, peer_left ? "true" : "false", w->seconds,
		 o->warmup_s > 0 ? o->warmup_rate : 0, w->attempted, w->sent, w->failed, w->sent + r->sent);
	size_t len = strlen(buf);
	for (unsigned i = 0; i < r->nslots && len < sizeof(buf) - 16; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u", i ? "," : "", r->timeline[i]);
	snprintf(buf + len, sizeof(buf) - len, "]}");
	if (!o->quiet && w->attempted)
		fprintf(stderr, "otsense-gen: warm-up %.3f s at %.3f Mpps: attempted %" PRIu64 ", sent %" PRIu64
			", failed %" PRIu64 "\n", w->seconds, o->warmup_rate, w->attempted, w->sent, w->failed);
	if (!o->quiet) {
		fprintf(stderr, "otsense-gen: %s %.3f s: attempted %" PRIu64 " (%.3f Mpps), sent %" PRIu64
			" (%.3f Mpps, %.3f Gbit/s), failed %" PRIu64 ", retried %" PRIu64 "\n",
			o->rate_mpps > 0 ? "rate" : "max", r->seconds, r->attempted, r->attempted / s / 1e6, r->sent,
			r->sent / s / 1e6, r->bytes * 8.0 / s / 1e9, r->failed, r->retried);
	}
	if (o->json) {
		FILE *out = strcmp(o->json, "-") ? fopen(o->json, "w") : stdout;
		if (!out) {
			fprintf(stderr, "otsense-gen: cannot write '%s': %s\n", o->json, strerror(errno));
			return;
		}
		fprintf(out, "%s\n", buf);
		if (out != stdout)
			fclose(out);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	uint32_t maxlen;
	uint32_t nframes = count_frames(o.pcap, &maxlen);
	if (!nframes) {
		fprintf(stderr, "otsense-gen: '%s' is not a readable capture with packets\n", o.pcap);
		return 2;
	}
	struct stat st;
	if (stat(o.socket, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(o.socket); /* stale socket of an earlier run: the server binds it afresh */

	struct eal_argv ea;
	eal_build(&o, argv[0], &ea);
	if (rte_eal_init(ea.argc, ea.argv) < 0) {
		fprintf(stderr, "otsense-gen: EAL failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int rc = 1;
	uint16_t port;
	if (rte_eth_dev_get_port_by_name("net_memif0", &port) != 0) {
		fprintf(stderr, "otsense-gen: net_memif0 was not created (is librte_net_memif installed? with --eal, "
			"give --vdev=net_memif0,role=server,...)\n");
		goto out;
	}
	uint16_t room = (uint16_t)RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
					  RTE_MIN(maxlen, 9216u) + RTE_PKTMBUF_HEADROOM);
	struct rte_mempool *mp = rte_pktmbuf_pool_create("gen_frames", nframes + 64, 0, 0, room, (int)rte_socket_id());
	struct rte_mempool *rxmp = rte_pktmbuf_pool_create("gen_rx", 2047, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
							   (int)rte_socket_id());
	if (!mp || !rxmp) {
		fprintf(stderr, "otsense-gen: cannot allocate mbufs for %u frames: %s; raise -m with --eal\n", nframes,
			rte_strerror(rte_errno));
		goto out;
	}
	struct frames f;
	memset(&f, 0, sizeof(f));
	if (load_pcap(o.pcap, mp, &f) < 0)
		goto out;
	int r = port_setup(port, rxmp);
	if (r < 0) {
		fprintf(stderr, "otsense-gen: net_memif0 setup failed: %s\n", strerror(-r));
		goto out;
	}
	if (!o.quiet)
		fprintf(stderr, "otsense-gen: %u frames (%" PRIu64 " bytes) from %s; waiting for a memif client on %s\n",
			f.n, f.bytes, o.pcap, o.socket);
	uint64_t hz = rte_get_tsc_hz(), t = rte_rdtsc();
	while (!stop && !link_up(port)) {
		if (rte_rdtsc() - t > (uint64_t)(o.wait_s * (double)hz)) {
			fprintf(stderr, "otsense-gen: no memif client connected to %s within %.1f s; start the sensor with "
				"otsense --memif %s\n", o.socket, o.wait_s, o.socket);
			rc = 3;
			goto stop_port;
		}
		rte_delay_us_sleep(10000);
	}
	if (o.settle_s > 0 && !stop)
		rte_delay_us_sleep((unsigned)(o.settle_s * 1e6));
	rte_eth_stats_reset(port);
	static struct result warm, res;
	uint32_t idx = 0;
	if (o.warmup_s > 0 && !stop) {
		struct phase_cfg w = { o.warmup_rate, o.warmup_s, 0, o.burst };
		send_loop(&w, port, &f, &idx, &warm);
	}
	struct phase_cfg m = { o.rate_mpps, o.duration, o.count, o.burst };
	send_loop(&m, port, &f, &idx, &res);
	/* the receiver drains its ring, sees no more traffic and disconnects */
	int peer_left = 0;
	t = rte_rdtsc();
	while (stop < 2 && !res.peer_lost && rte_rdtsc() - t < (uint64_t)(o.linger_s * (double)hz)) {
		if (!link_up(port)) {
			peer_left = 1;
			break;
		}
		rte_delay_us_sleep(10000);
	}
	struct rte_eth_stats es;
	memset(&es, 0, sizeof(es));
	rte_eth_stats_get(port, &es);
	report(&o, &f, &warm, &res, &es, peer_left || res.peer_lost);
	if (warm.peer_lost || res.peer_lost)
		fprintf(stderr, "otsense-gen: the memif client disconnected while packets were being sent\n");
	rc = warm.peer_lost || res.peer_lost ? 4 : 0;
stop_port:
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
out:
	rte_eal_cleanup();
	return rc;
}
