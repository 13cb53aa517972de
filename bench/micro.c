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
 * and, with --rules FILE / --shipped-rules (or --detect-only), detection on a "fresh" replay of every capture:
 *   detect   ots_worker_process() as "worker" above, but every replay pass renumbers the TCP sequence and
 *            acknowledgement numbers in its copy of the frames (--seq-mode, capture_plan()): "continue" (default)
 *            advances each direction by the sequence space it uses per pass, so the next pass goes on in order
 *            (a connection the capture closes reopens with a new ISN); "step" adds pass * --seq-step to seq and
 *            ack in both directions (a jump forward: reassembly holds, then reports a gap); "none" leaves them.
 *            So TCP payload is delivered, parsed and scanned on every pass. (Replayed unchanged, from the second
 *            pass on every TCP segment is an old retransmission: reassembly drops it and nothing is parsed or
 *            scanned.) Measured without detection (run.detect NULL) and with the ruleset built by
 *            ots_detect_from_config() (signatures + OT engine), each on a new worker; per-pass counters (payload
 *            bytes delivered, PDUs parsed, scans, bytes scanned, rule matches) show the payload really went
 *            through on every pass.
 *   --gen-rules N writes N synthetic rules (deterministic) to stdout and exits.
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
#include "detect/detect_config.h"
#include "dataplane/flow.h"
#include "dataplane/handoff.h"
#include "dataplane/worker.h"
#include "protocols/registry.h"

#define BURST 32
#define PREFETCH_AHEAD 3 /* as worker.c */
#define MAX_PCAPS 8
#define MAX_CAPS 8
#define EAL_MAX 48
#define MAX_RULE_FILES 16
#define SEQ_STEP_DEFAULT 0x01000000u

/* how a fresh replay renumbers TCP from one pass to the next (see capture_plan) */
enum seq_mode { SEQ_CONTINUE = 0, SEQ_STEP, SEQ_NONE };
static const char *const seq_mode_names[] = { "continue", "step", "none" };

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
	const char *rules[MAX_RULE_FILES];
	int nrules;
	int shipped;
	int detect_only;
	int seq_mode;        /* enum seq_mode */
	uint32_t seq_step;
	const char *cache_dir;
};


static uint64_t hz;
static char json[131072];
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
		"                     [--rules FILE]... [--shipped-rules] [--detect-only] [--seq-step N] [--rule-cache DIR]\n"
		"       otsense-micro --gen-rules N > FILE\n"
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
		"  --eal 'ARGS'            EAL arguments replacing the built-in --no-huge --no-pci --no-shconf -m 2048\n"
		"detection (fresh replay: every pass rewrites TCP seq/ack so payload is parsed and scanned every pass):\n"
		"  --rules FILE            signature file of the ruleset measured (repeatable, up to %d)\n"
		"  --shipped-rules         add the shipped OT ruleset (config/rules/otsense-ot.rules)\n"
		"  --detect-only           only the fresh-replay runs (no decode/flow/worker, flood, large-table runs);\n"
		"                          without rules: the fresh replay without detection alone\n"
		"  --seq-mode M            how each pass renumbers TCP: continue (default: every direction goes on where the\n"
		"                          previous pass ended, in order; a closed connection reopens with a new ISN), step\n"
		"                          (seq and ack + pass x --seq-step in both directions), none (replay unchanged:\n"
		"                          from pass 2 on TCP segments are old retransmissions)\n"
		"  --seq-step N            step mode's increment per pass (default 0x01000000)\n"
		"  --rule-cache DIR        Hyperscan cache directory (default none: compile time is measured)\n"
		"  --gen-rules N           write N synthetic rules to stdout and exit (no EAL)\n",
		MAX_PCAPS, MAX_RULE_FILES);
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

/* ------------------------------------------------------------------------------------------------ rules */

/* --gen-rules: a deterministic synthetic ruleset shaped like a site's custom + community rules for an OT network
 * (bench/mkrules.py's job when it exists; this is the fallback bench/run uses otherwise). Mix, per 100 rules:
 *   30 generic TCP (any port, established, to_server), one 6..16-byte content, a quarter nocase
 *   15 HTTP ($HTTP_PORTS): a method or header token + a relative content
 *   20 OT TCP ports (Modbus, S7, DNP3, EtherNet/IP, IEC 104, OPC UA, ...): 4..8 binary bytes, some with offset/depth
 *   13 UDP (any port or BACnet, SNMP, EtherNet/IP I/O, PROFINET, DNS): text or binary content
 *    7 content + pcre, 5 Modbus content + byte_test, 5 "ip any any" binary content
 *    5 protocol-header fast patterns that occur in most packets of their protocol (TPKT 03 00, Modbus protocol
 *      id 00 00, DNP3 start 05 64, BVLC 81 0a, "HTTP/1.") followed by a rare content: the verification path
 * plus, 1 rule in 200, a noisy rule that matches every Modbus/TCP request (alert + aggregation path).
 * Patterns are random, so apart from the noisy rules almost nothing alerts on benign traffic. */
static uint64_t gen_state = 0x9e3779b97f4a7c15ULL;

static uint32_t gen_rnd(void)
{
	gen_state ^= gen_state << 13;
	gen_state ^= gen_state >> 7;
	gen_state ^= gen_state << 17;
	return (uint32_t)(gen_state >> 16);
}

static const char *gen_alnum(char *out, int lo, int hi)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	int n = lo + (int)(gen_rnd() % (uint32_t)(hi - lo + 1));
	for (int i = 0; i < n; i++)
		out[i] = a[gen_rnd() % (sizeof(a) - 1)];
	out[n] = 0;
	return out;
}

static const char *gen_hex(char *out, int lo, int hi)
{
	int n = lo + (int)(gen_rnd() % (uint32_t)(hi - lo + 1)), k = 0;
	out[k++] = '|';
	for (int i = 0; i < n; i++)
		k += sprintf(out + k, i ? " %02x" : "%02x", gen_rnd() & 0xff);
	out[k++] = '|';
	out[k] = 0;
	return out;
}

static int gen_rules(FILE *f, int n)
{
	static const int ot_ports[] = { 502, 102, 20000, 44818, 2404, 4840, 1911, 789, 9600, 5007, 18245, 2222 };
	static const char *const udp_ports[] = { "any", "47808", "161", "2222", "34964", "53", "any", "5353" };
	static const char *const http_tok[] = { "GET ", "POST ", "User-Agent|3a| ", "Host|3a| ", "Cookie|3a| ",
						"/cgi-bin/", ".php?", "Authorization|3a| Basic " };
	static const char *const common[][4] = { /* proto, port, fast pattern, options of the rare content */
		{ "tcp", "102", "content:\"|03 00|\"; depth:2; fast_pattern;", "distance:5; within:40;" },
		{ "tcp", "502", "content:\"|00 00|\"; offset:2; depth:2; fast_pattern;", "distance:2; within:24;" },
		{ "tcp", "20000", "content:\"|05 64|\"; depth:2; fast_pattern;", "distance:8;" },
		{ "udp", "47808", "content:\"|81 0a|\"; depth:2; fast_pattern;", "distance:2;" },
		{ "tcp", "any", "content:\"HTTP/1.\"; fast_pattern;", "distance:0;" },
	};
	char a[64], b[64], opts[512];
	if (fprintf(f, "# %d synthetic rules: otsense-micro --gen-rules %d (bench/micro.c, deterministic)\n", n, n) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *proto = "tcp", *src = "any", *dst = "any", *dport = "any";
		char portbuf[16];
		unsigned r = gen_rnd() % 100;
		if (i % 200 == 7) {
			dport = "502";
			snprintf(opts, sizeof(opts), "flow:to_server,established; content:\"|00 00|\"; offset:2; depth:2; "
				 "dsize:>7;");
		} else if (r < 30) {
			snprintf(opts, sizeof(opts), "flow:established,to_server; content:\"%s\";%s", gen_alnum(a, 6, 16),
				 gen_rnd() % 4 ? "" : " nocase;");
		} else if (r < 45) {
			src = "$HOME_NET";
			dst = "$EXTERNAL_NET";
			dport = "$HTTP_PORTS";
			snprintf(opts, sizeof(opts), "flow:established,to_server; content:\"%s\"; content:\"%s\"; distance:0;%s",
				 http_tok[gen_rnd() % 8], gen_alnum(a, 5, 12), gen_rnd() % 3 ? "" : " nocase;");
		} else if (r < 65) {
			dst = "$HOME_NET";
			snprintf(portbuf, sizeof(portbuf), "%d", ot_ports[gen_rnd() % 12]);
			dport = portbuf;
			if (gen_rnd() % 2)
				snprintf(opts, sizeof(opts), "flow:to_server,established; content:\"%s\"; offset:%u; depth:%u;",
					 gen_hex(a, 4, 8), gen_rnd() % 8, 16 + gen_rnd() % 48);
			else
				snprintf(opts, sizeof(opts), "flow:established; content:\"%s\";", gen_hex(a, 4, 8));
		} else if (r < 78) {
			proto = "udp";
			dport = udp_ports[gen_rnd() % 8];
			snprintf(opts, sizeof(opts), "content:\"%s\";", gen_rnd() % 2 ? gen_alnum(a, 6, 14) : gen_hex(a, 4, 8));
		} else if (r < 85) {
			gen_alnum(a, 6, 10);
			snprintf(opts, sizeof(opts), "flow:established,to_server; content:\"%s\"; pcre:\"/%s[0-9]{2,4}/i\";",
				 a, gen_alnum(b, 3, 6));
		} else if (r < 90) {
			dst = "$HOME_NET";
			dport = "502";
			snprintf(opts, sizeof(opts), "flow:to_server,established; content:\"%s\"; byte_test:2,>,%u,0,relative;",
				 gen_hex(a, 3, 5), 100 + gen_rnd() % 60000);
		} else if (r < 95) {
			proto = "ip";
			snprintf(opts, sizeof(opts), "content:\"%s\";", gen_hex(a, 6, 10));
		} else {
			unsigned k = gen_rnd() % 5;
			proto = common[k][0];
			dport = common[k][1];
			snprintf(opts, sizeof(opts), "%s content:\"%s\"; %s", common[k][2],
				 k == 4 ? gen_alnum(b, 6, 12) : gen_hex(b, 3, 6), common[k][3]);
		}
		if (fprintf(f, "alert %s %s any -> %s %s (msg:\"BENCH synthetic rule %d\"; %s classtype:misc-activity; "
			    "sid:%d; rev:1;)\n", proto, src, dst, dport, i, opts, 2000000 + i) < 0)
			return -1;
	}
	return fflush(f);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_PCAP = 256, O_SECONDS, O_CAPACITY, O_FLOOD, O_BIG, O_JSON, O_CPU, O_EAL, O_JITTER, O_RULES, O_SHIPPED,
	       O_DONLY, O_SEQSTEP, O_RCACHE, O_GEN, O_SEQMODE };
	static const struct option lo[] = {
		{ "pcap", required_argument, NULL, O_PCAP }, { "seconds", required_argument, NULL, O_SECONDS },
		{ "capacity", required_argument, NULL, O_CAPACITY },
		{ "flood-capacity", required_argument, NULL, O_FLOOD }, { "bigtable", required_argument, NULL, O_BIG },
		{ "json", required_argument, NULL, O_JSON }, { "cpu", required_argument, NULL, O_CPU },
		{ "eal", required_argument, NULL, O_EAL }, { "jitter", required_argument, NULL, O_JITTER },
		{ "rules", required_argument, NULL, O_RULES }, { "shipped-rules", no_argument, NULL, O_SHIPPED },
		{ "detect-only", no_argument, NULL, O_DONLY }, { "seq-step", required_argument, NULL, O_SEQSTEP },
		{ "rule-cache", required_argument, NULL, O_RCACHE }, { "gen-rules", required_argument, NULL, O_GEN },
		{ "seq-mode", required_argument, NULL, O_SEQMODE },
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
	o->seq_step = SEQ_STEP_DEFAULT;
	o->cache_dir = "";
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
		case O_RULES:
			if (o->nrules == MAX_RULE_FILES) {
				fprintf(stderr, "otsense-micro: at most %d --rules\n", MAX_RULE_FILES);
				return -1;
			}
			o->rules[o->nrules++] = optarg;
			break;
		case O_SHIPPED: o->shipped = 1; break;
		case O_DONLY: o->detect_only = 1; break;
		case O_SEQSTEP: {
			char *end;
			unsigned long x = strtoul(optarg, &end, 0);
			if (*end || x > UINT32_MAX) {
				fprintf(stderr, "otsense-micro: --seq-step '%s': give a 32-bit number\n", optarg);
				return -1;
			}
			o->seq_step = (uint32_t)x;
			break;
		}
		case O_RCACHE: o->cache_dir = optarg; break;
		case O_SEQMODE:
			for (o->seq_mode = 0; o->seq_mode < 3 && strcmp(optarg, seq_mode_names[o->seq_mode]); o->seq_mode++)
				;
			if (o->seq_mode == 3) {
				fprintf(stderr, "otsense-micro: --seq-mode '%s': continue, step or none\n", optarg);
				return -1;
			}
			break;
		case O_GEN: {
			char *end;
			long x = strtol(optarg, &end, 10);
			if (*end || x < 1 || x > 1000000) {
				fprintf(stderr, "otsense-micro: --gen-rules '%s': give a rule count (1..1000000)\n", optarg);
				return -1;
			}
			exit(gen_rules(stdout, (int)x) < 0 ? 1 : 0);
		}
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
	uint16_t *tcp;   /* offset of the TCP header in frame k, 0 = not a TCP segment (fresh replay rewrites it) */
	uint32_t ntcp;   /* TCP segments per pass */
	uint32_t (*adv)[2]; /* fresh replay: frame k's seq and ack advance per pass (capture_plan) */
	uint32_t ndirs, ndirs_step; /* TCP directions; of which renumbered by the fixed step (continue mode) */
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
	/* where each frame's TCP header is, as the sensor's decoder finds it (VLAN, QinQ, IPv6 extensions...) */
	c->tcp = calloc(c->n, sizeof(*c->tcp));
	if (!c->tcp) {
		fprintf(stderr, "otsense-micro: out of memory loading '%s'\n", path);
		return -1;
	}
	for (uint32_t k = 0; k < c->n; k++) {
		struct ots_pkt pk;
		const uint8_t *f = c->data + c->off[k];
		ots_decode(f, c->len[k], c->linktype, &pk);
		if (pk.ip_proto != 6 || !pk.flow_ok || (pk.flags & OTS_PF_FRAG_LATE) || !pk.payload)
			continue;
		for (uint32_t doff = 20; doff <= 60; doff += 4) {
			const uint8_t *t = pk.payload - doff;
			if (t >= f && (uint32_t)(t[12] >> 4) * 4 == doff && ots_be16(t) == pk.sport &&
			    ots_be16(t + 2) == pk.dport && ots_be32(t + 4) == pk.seq && ots_be32(t + 8) == pk.ack) {
				c->tcp[k] = (uint16_t)(t - f);
				c->ntcp++;
				break;
			}
		}
	}
	return 0;
}

static void capture_free(struct capture *c)
{
	free(c->data);
	free(c->off);
	free(c->len);
	free(c->tcp);
	free(c->adv);
	memset(c, 0, sizeof(*c));
}

/* ---- the fresh replay's renumbering plan: how much each TCP segment's seq and ack advance per pass ---- */

struct tdir {            /* one direction of a TCP connection in the capture */
	uint8_t key[44];     /* family, VLANs, sender address, receiver address, sender port, receiver port */
	uint8_t used, syn_first, reconnect;
	uint32_t base;       /* seq of the direction's first segment */
	int64_t end;         /* furthest sequence number consumed (data, SYN, FIN), relative to base */
	uint32_t adv;        /* advance per pass */
};

static void tdir_key(const struct ots_pkt *p, int reverse, uint8_t k[44])
{
	uint16_t a = reverse ? p->dport : p->sport, b = reverse ? p->sport : p->dport;
	memset(k, 0, 44);
	k[0] = p->family;
	memcpy(k + 2, p->vlan, 4);
	memcpy(k + 6, reverse ? p->dst : p->src, 16);
	memcpy(k + 22, reverse ? p->src : p->dst, 16);
	memcpy(k + 38, &a, 2);
	memcpy(k + 40, &b, 2);
}

static int64_t tdir_find(struct tdir *t, uint32_t mask, const uint8_t k[44], int insert)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 44; i++)
		h = (h ^ k[i]) * 16777619u;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		if (!t[i].used) {
			if (!insert)
				return -1;
			memcpy(t[i].key, k, 44);
			return i;
		}
		if (!memcmp(t[i].key, k, 44))
			return i;
	}
}

/*
 * continue: every direction of every connection advances by the sequence space it consumes in one pass (data,
 *   SYN, FIN), so pass p+1 starts exactly where pass p ended: in-order delivery on reassembly's fast path, as a
 *   long-lived connection (OT polling) is seen. A direction that starts with a SYN advances one less (the SYN of
 *   the next pass is then the byte before the next data; on a connection the capture closed, the SYN has a new
 *   ISN and reopens it as a new flow). Directions where the capture holds two connections (a second ISN), or
 *   that consume nothing, fall back to the fixed step. Acknowledgements advance with the opposite direction.
 * step: seq and ack of every segment advance by step (both directions): each pass jumps ahead; reassembly holds
 *   the jumped-ahead segments as out of order until its per-direction cap forces a gap (copies, late delivery).
 * none: no change: from the second pass on, every TCP segment is an old retransmission.
 */
static int capture_plan(struct capture *c, int mode, uint32_t step)
{
	free(c->adv);
	c->adv = calloc(c->n, sizeof(*c->adv));
	c->ndirs = c->ndirs_step = 0;
	if (!c->adv)
		return -1;
	if (mode == SEQ_NONE)
		return 0;
	if (mode == SEQ_STEP) {
		for (uint32_t k = 0; k < c->n; k++)
			if (c->tcp[k])
				c->adv[k][0] = c->adv[k][1] = step;
		return 0;
	}
	uint32_t size = 64;
	while (size < 2 * c->ntcp + 64)
		size *= 2;
	struct tdir *t = calloc(size, sizeof(*t));
	uint32_t *dir = malloc((size_t)c->n * sizeof(*dir));
	if (!t || !dir) {
		free(t);
		free(dir);
		return -1;
	}
	uint8_t key[44];
	for (uint32_t k = 0; k < c->n; k++) {
		if (!c->tcp[k])
			continue;
		struct ots_pkt p;
		ots_decode(c->data + c->off[k], c->len[k], c->linktype, &p);
		tdir_key(&p, 0, key);
		struct tdir *d = &t[dir[k] = (uint32_t)tdir_find(t, size - 1, key, 1)];
		uint32_t syn = !!(p.tcp_flags & OTS_TCP_SYN), fin = !!(p.tcp_flags & OTS_TCP_FIN);
		if (!d->used) {
			d->used = 1;
			d->base = p.seq;
			d->syn_first = (uint8_t)syn;
			c->ndirs++;
		} else if (syn && p.seq != d->base) {
			d->reconnect = 1;
		}
		int64_t rel = (int64_t)(int32_t)(p.seq - d->base) + p.payload_len + syn + fin;
		if (rel > d->end)
			d->end = rel;
	}
	for (uint32_t i = 0; i < size; i++) {
		struct tdir *d = &t[i];
		int64_t a = d->end - d->syn_first;
		if (!d->used)
			continue;
		if (d->reconnect || a <= 0 || a >= (1 << 30)) {
			d->adv = step;
			c->ndirs_step++;
		} else {
			d->adv = (uint32_t)a;
		}
	}
	for (uint32_t k = 0; k < c->n; k++) {
		if (!c->tcp[k])
			continue;
		struct ots_pkt p;
		ots_decode(c->data + c->off[k], c->len[k], c->linktype, &p);
		tdir_key(&p, 1, key);
		int64_t r = tdir_find(t, size - 1, key, 0);
		c->adv[k][0] = t[dir[k]].adv;
		c->adv[k][1] = r >= 0 ? t[r].adv : 0;
	}
	free(t);
	free(dir);
	return 0;
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

/* ------------------------------------------------------------------------------------------------ fresh replay */

/* rx as rx_burst(), but a pass ends with the capture (its last burst may be short) and every TCP segment of pass p
 * has seq and ack increased by p * its advance (capture_plan; mod 2^32) in its mbuf, the replay's private copy:
 * each pass goes on with (or reopens) the connection instead of retransmitting the previous pass */
static inline uint32_t rx_fresh(const struct capture *c, uint32_t *at, uint32_t *pass, struct rte_mbuf **b)
{
	uint32_t k = *at, n = RTE_MIN((uint32_t)BURST, c->n - k);
	if (unlikely(rte_pktmbuf_alloc_bulk(pool, b, n) != 0))
		rte_panic("mempool empty: an mbuf leaked\n");
	const uint32_t p = *pass;
	for (uint32_t i = 0; i < n; i++, k++) {
		uint16_t len = c->len[k];
		uint8_t *d = rte_pktmbuf_mtod(b[i], uint8_t *);
		rte_memcpy(d, c->data + c->off[k], len);
		if (c->tcp[k] && p) {
			uint8_t *t = d + c->tcp[k];
			uint32_t v[2];
			memcpy(v, t + 4, 8);
			v[0] = __builtin_bswap32(__builtin_bswap32(v[0]) + p * c->adv[k][0]);
			v[1] = __builtin_bswap32(__builtin_bswap32(v[1]) + p * c->adv[k][1]);
			memcpy(t + 4, v, 8);
		}
		b[i]->data_len = len;
		b[i]->pkt_len = len;
	}
	if (k == c->n) {
		k = 0;
		(*pass)++;
	}
	*at = k;
	return n;
}

/* what went through the app layer and detection: read from the worker's counters */
#define DCTR(X) X(app_bytes) X(pdus) X(scans) X(scan_bytes) X(sig_matches) X(ot_events) X(alerts) X(gaps) X(ooo)
struct dctr {
#define X(f) uint64_t f;
	DCTR(X)
#undef X
};

static void dctr_read(const struct ots_worker *w, struct dctr *x)
{
	memset(x, 0, sizeof(*x));
	for (int a = 0; a < OTS_APP_MAX; a++) {
		x->app_bytes += w->st.app_bytes[a];
		x->pdus += w->st.pdus[a];
	}
	x->scans = w->det.st.scans;
	x->scan_bytes = w->det.st.scan_bytes;
	x->sig_matches = w->det.st.sig_matches;
	x->ot_events = w->det.st.ot_events;
	x->alerts = w->det.st.alerts;
	x->gaps = w->rst.gaps;
	x->ooo = w->rst.ooo_segments;
}

struct fresh {
	uint64_t pkts, cycles;
	uint32_t passes;                 /* complete passes */
	struct dctr first, later, total; /* pass 0; sum over passes 1..passes-1; whole run */
	uint64_t app_min, app_max, scan_min, scan_max; /* per pass, passes 1.. */
	uint64_t gaps, gap_bytes, ooo, overlap_bytes, midstream, flows, reused, alert_records, no_stream_state;
};

/* secs of fresh replay through w (NULL: the rx emulation alone); returns cycles per packet */
static double run_fresh(const struct capture *c, struct ots_worker *w, double secs, struct fresh *r)
{
	struct rte_mbuf *b[BURST];
	struct dctr prev, cur;
	uint32_t at = 0, pass = 0;
	uint64_t n = 0;
	memset(r, 0, sizeof(*r));
	memset(&prev, 0, sizeof(prev));
	r->app_min = r->scan_min = UINT64_MAX;
	const uint64_t t0 = rte_rdtsc(), end = until(secs);
	do {
		for (int k = 0; k < 64; k++) {
			uint32_t m = rx_fresh(c, &at, &pass, b);
			n += m;
			if (!w) {
				rte_pktmbuf_free_bulk(b, m);
				continue;
			}
			ots_worker_process(w, b, m);
			ots_flow_expire(&w->ft, w->now_ns, w->cfg->expiry_batch);
			if (w->det.d)
				ots_detect_tick(&w->det, w->now_ns);
			rec_drop(w);
			if (at)
				continue;
			/* pass `pass - 1` complete: its share of the counters (once per capture length: not measurable) */
			dctr_read(w, &cur);
			struct dctr d;
#define X(f) d.f = cur.f - prev.f;
			DCTR(X)
#undef X
			if (pass == 1) {
				r->first = d;
			} else {
#define X(f) r->later.f += d.f;
				DCTR(X)
#undef X
				r->app_min = RTE_MIN(r->app_min, d.app_bytes);
				r->app_max = RTE_MAX(r->app_max, d.app_bytes);
				r->scan_min = RTE_MIN(r->scan_min, d.scan_bytes);
				r->scan_max = RTE_MAX(r->scan_max, d.scan_bytes);
			}
			prev = cur;
		}
	} while (rte_rdtsc() < end);
	r->cycles = rte_rdtsc() - t0;
	r->pkts = n;
	r->passes = pass;
	if (w) {
		dctr_read(w, &r->total);
		r->gaps = w->rst.gaps;
		r->gap_bytes = w->rst.gap_bytes;
		r->ooo = w->rst.ooo_segments;
		r->overlap_bytes = w->rst.overlap_bytes;
		r->midstream = w->rst.midstream;
		r->flows = w->ft.st.created;
		r->reused = w->ft.st.ended[OTS_END_REUSED];
		r->alert_records = w->st.records[OTS_REC_alert] + w->st.records_dropped[OTS_REC_alert];
		r->no_stream_state = w->det.st.stream_no_state;
	}
	if (r->passes < 2)
		r->app_min = r->app_max = r->scan_min = r->scan_max = 0;
	return cpp(r->cycles, r->pkts);
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

/* ------------------------------------------------------------------------------------------------ detection */

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void json_dctr(const char *key, const struct dctr *d, double div)
{
	jprintf(",\"%s\":{", key);
	const char *sep = "";
#define X(f) jprintf("%s\"" #f "\":%.1f", sep, div > 0 ? (double)d->f / div : 0), sep = ",";
	DCTR(X)
#undef X
	jprintf("}");
}

static void json_fresh(const char *key, const struct fresh *r, double rx)
{
	double raw = cpp(r->cycles, r->pkts), net = raw - rx;
	double secs = net > 0 ? (double)r->pkts * net / (double)hz : 0; /* time on the worker path alone */
	jprintf(",\"%s\":{\"cpp\":%.2f,\"mpps\":%.3f,\"with_rx_cpp\":%.2f,\"with_rx_mpps\":%.3f,\"pkts\":%" PRIu64
		",\"passes\":%u", key, net, mpps_of(net), raw, mpps_of(raw), r->pkts, r->passes);
	json_dctr("first_pass", &r->first, 1);
	json_dctr("later_pass_mean", &r->later, r->passes > 1 ? r->passes - 1 : 0);
	json_dctr("totals", &r->total, 1);
	jprintf(",\"later_pass_app_bytes_min\":%" PRIu64 ",\"later_pass_app_bytes_max\":%" PRIu64
		",\"later_pass_scan_bytes_min\":%" PRIu64 ",\"later_pass_scan_bytes_max\":%" PRIu64
		",\"app_mbps\":%.1f,\"scan_mbps\":%.1f,\"reasm\":{\"gaps\":%" PRIu64 ",\"gap_bytes\":%" PRIu64
		",\"ooo_segments\":%" PRIu64 ",\"overlap_bytes\":%" PRIu64 ",\"midstream\":%" PRIu64 "},\"flows\":%" PRIu64
		",\"flows_reused\":%" PRIu64 ",\"alert_records\":%" PRIu64 ",\"stream_no_state\":%" PRIu64 "}",
		r->app_min, r->app_max, r->scan_min, r->scan_max,
		secs > 0 ? (double)r->total.app_bytes / secs / 1e6 : 0, secs > 0 ? (double)r->total.scan_bytes / secs / 1e6 : 0,
		r->gaps, r->gap_bytes, r->ooo, r->overlap_bytes, r->midstream, r->flows, r->reused, r->alert_records,
		r->no_stream_state);
}

static void print_fresh(const char *what, const struct fresh *r, double rx)
{
	double raw = cpp(r->cycles, r->pkts), net = raw - rx;
	double secs = net > 0 ? (double)r->pkts * net / (double)hz : 0;
	printf("    %-44s %7.1f cycles/pkt %7.2f Mpps; with rx %7.1f cycles/pkt %6.2f Mpps; scanned %7.1f MB/s\n", what,
	       net, mpps_of(net), raw, mpps_of(raw), secs > 0 ? (double)r->total.scan_bytes / secs / 1e6 : 0);
}

static void print_pass(const char *what, const struct fresh *r)
{
	double k = r->passes > 1 ? r->passes - 1 : 0;
	if (k == 0) {
		printf("      %-10s fewer than 2 complete passes: give more --seconds\n", what);
		return;
	}
	printf("      %-10s %u passes; pass 1 / mean of passes 2..%u: payload delivered %" PRIu64 " / %.0f B (min %" PRIu64
	       ", max %" PRIu64 "), PDUs %" PRIu64 " / %.0f, scans %" PRIu64 " / %.0f, scanned %" PRIu64 " / %.0f B,"
	       " rule matches %" PRIu64 " / %.1f, OT events %" PRIu64 " / %.1f; reassembly gaps %" PRIu64 " / %.1f, "
	       "out-of-order held %" PRIu64 " / %.1f\n", what, r->passes, r->passes,
	       r->first.app_bytes, r->later.app_bytes / k, r->app_min, r->app_max, r->first.pdus, r->later.pdus / k,
	       r->first.scans, r->later.scans / k, r->first.scan_bytes, r->later.scan_bytes / k, r->first.sig_matches,
	       r->later.sig_matches / k, r->first.ot_events, r->later.ot_events / k, r->first.gaps, r->later.gaps / k,
	       r->first.ooo, r->later.ooo / k);
	printf("      %-10s whole run: reassembly gaps %" PRIu64 " (%" PRIu64 " B), out-of-order held %" PRIu64
	       ", mid-stream pickups %" PRIu64 "; flows created %" PRIu64 " (reused 5-tuples %" PRIu64 "); alerts raised %"
	       PRIu64 ", alert records %" PRIu64 "\n", "", r->gaps, r->gap_bytes, r->ooo, r->midstream, r->flows, r->reused,
	       r->total.alerts, r->alert_records);
}

static void rule_diag(void *ud, const char *line)
{
	unsigned *n = ud;
	if (++*n <= 10)
		fprintf(stderr, "otsense-micro: rules: %s\n", line);
}

/* the fresh-replay runs of one capture: rx alone, worker without detection, worker with det (if any) */
static int detect_capture(const struct opts *o, const struct ots_config *cfg, const struct ots_detect *det,
			  const char *rules_label, struct capture *c, unsigned *wid, int first)
{
	struct fresh rx, off, on;
	struct ots_run run_off, run_on;
	memset(&run_off, 0, sizeof(run_off));
	memset(&run_on, 0, sizeof(run_on));
	run_off.nworkers = run_on.nworkers = 1;
	run_on.detect = det;
	if (capture_plan(c, o->seq_mode, o->seq_step) < 0) {
		fprintf(stderr, "otsense-micro: out of memory\n");
		return -1;
	}
	double grx = run_fresh(c, NULL, o->seconds, &rx);
	struct ots_worker *w = worker_new(cfg, &run_off, (*wid)++, c->linktype, NULL);
	if (!w)
		return -1;
	run_fresh(c, w, o->seconds, &off);
	worker_free(w);
	if (det) {
		w = worker_new(cfg, &run_on, (*wid)++, c->linktype, NULL);
		if (!w)
			return -1;
		run_fresh(c, w, o->seconds, &on);
		worker_free(w);
	}
	if (o->seq_mode == SEQ_CONTINUE)
		printf("\n  %s, fresh replay (TCP renumbered so each pass continues the previous one; %u of %u frames are TCP "
		       "segments, %u directions, %u of them by the fixed step 0x%08x):\n", base(c->path), c->ntcp, c->n,
		       c->ndirs, c->ndirs_step, o->seq_step);
	else if (o->seq_mode == SEQ_STEP)
		printf("\n  %s, fresh replay (every pass: TCP seq/ack + pass x 0x%08x; %u of %u frames are TCP segments):\n",
		       base(c->path), o->seq_step, c->ntcp, c->n);
	else
		printf("\n  %s, plain replay (TCP unchanged: from pass 2 on old retransmissions; %u of %u frames TCP):\n",
		       base(c->path), c->ntcp, c->n);
	printf("    %-44s %7.1f cycles/pkt\n", "rx emulation + seq/ack rewrite", grx);
	print_fresh("worker path, no detection", &off, grx);
	char label[128];
	if (det) {
		snprintf(label, sizeof(label), "worker path + detection (%s)", rules_label);
		print_fresh(label, &on, grx);
	}
	print_pass("no detect", &off);
	if (det)
		print_pass("detection", &on);
	jprintf("%s{\"pcap\":\"%s\",\"packets\":%u,\"tcp_segments\":%u,\"tcp_directions\":%u,"
		"\"tcp_directions_fixed_step\":%u,\"avg_bytes\":%.2f,\"rx_cpp\":%.2f", first ? "" : ",", c->path, c->n, c->ntcp,
		c->ndirs, c->ndirs_step, (double)c->bytes / c->n, grx);
	json_fresh("off", &off, grx);
	if (det)
		json_fresh("on", &on, grx);
	jprintf("}");
	return 0;
}

/* ------------------------------------------------------------------------------------------------ main */

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
	if (o.detect_only) {
		o.ncaps = 0;
		o.bigtable = 0;
	}
	jprintf(",\"captures\":[");
	for (int i = 0; i < o.npcaps && !rc && !o.detect_only; i++) {
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
	double synth_rx = 0;
	if (o.ncaps || o.bigtable) {
		synth_run(NULL, tmpl_syn, &id, 0, 0, 0, o.seconds / 4, 1, &srx);
		synth_rx = cpp(srx.cycles, srx.pkts);
	}
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

	/* detection on the fresh replay: the ruleset built as the sensor builds it (ots_detect_from_config) */
	if ((o.detect_only || o.nrules || o.shipped) && !rc) {
		struct ots_detect *det = NULL;
		char err[1024] = "", label[96] = "";
		unsigned skipped = 0;
		double build_ms = 0;
		if (o.nrules || o.shipped) {
			static struct ots_config dc; /* rule_files / cache_dir are large: off the stack */
			dc = cfg;
			snprintf(dc.rule_files, sizeof(dc.rule_files), "%s", o.shipped ? "auto" : "");
			snprintf(dc.rule_cache_dir, sizeof(dc.rule_cache_dir), "%s", o.cache_dir);
			if (o.shipped && !ots_shipped_rules()) {
				fprintf(stderr, "otsense-micro: --shipped-rules: config/rules/otsense-ot.rules not found\n");
				rc = 1;
			} else {
				uint64_t t = rte_rdtsc();
				if (ots_detect_from_config(&dc, o.rules, (unsigned)o.nrules, &det, rule_diag, &skipped, err,
							   sizeof(err)) < 0) {
					fprintf(stderr, "otsense-micro: %s\n", err);
					rc = 1;
				}
				build_ms = (double)(rte_rdtsc() - t) * 1e3 / (double)hz;
			}
		}
		if (det) {
			const struct ots_sigdb_report *r = &det->rep;
			snprintf(label, sizeof(label), "%s%s%u rules", o.shipped ? "shipped" : "", o.shipped && o.nrules ?
				 " + files, " : o.shipped ? ", " : "", det->rs.n);
			printf("\n  detection: %u rules loaded (%u skipped) from %s%d file%s; %u groups, %u databases, %u fast "
			       "patterns, %u rules without a fast pattern, %u on parsed PDUs; Hyperscan %s %.1f ms (%.1f KiB), "
			       "load + compile %.1f ms; OT engine %s\n", det->rs.n, skipped, o.shipped ? "the shipped ruleset + " : "",
			       o.nrules, o.nrules == 1 ? "" : "s", r->groups, r->databases, r->patterns, r->rules_no_fp,
			       r->rules_pdu, r->cache_hit ? "cache load" : "compile", r->compile_ms, r->db_bytes / 1024.0, build_ms,
			       det->ot_engine ? "on" : "off");
			if (r->warning[0])
				printf("  detection warning: %s\n", r->warning);
		}
		jprintf(",\"detect\":{\"seq_mode\":\"%s\",\"seq_step\":%u", seq_mode_names[o.seq_mode], o.seq_step);
		if (det) {
			const struct ots_sigdb_report *r = &det->rep;
			jprintf(",\"ruleset\":{\"label\":\"%s\",\"shipped\":%s,\"shipped_path\":\"%s\",\"files\":[", label,
				o.shipped ? "true" : "false", o.shipped ? ots_shipped_rules() : "");
			for (int i = 0; i < o.nrules; i++)
				jprintf("%s\"%s\"", i ? "," : "", o.rules[i]);
			jprintf("],\"rules\":%u,\"skipped\":%u,\"groups\":%u,\"databases\":%u,\"patterns\":%u,"
				"\"rules_no_fp\":%u,\"rules_pdu\":%u,\"compile_ms\":%.2f,\"build_ms\":%.2f,\"cache_hit\":%d,"
				"\"db_bytes\":%" PRIu64 ",\"ot_engine\":%s}", det->rs.n, skipped, r->groups, r->databases, r->patterns,
				r->rules_no_fp, r->rules_pdu, r->compile_ms, build_ms, r->cache_hit, r->db_bytes,
				det->ot_engine ? "true" : "false");
		}
		jprintf(",\"captures\":[");
		for (int i = 0; i < o.npcaps && !rc; i++) {
			struct capture c;
			if (load_capture(o.pcaps[i], &c) < 0 || detect_capture(&o, &cfg, det, label, &c, &wid, i == 0) < 0)
				rc = 1;
			capture_free(&c);
		}
		jprintf("]}");
		ots_detect_free(det);
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
