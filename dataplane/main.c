/* dataplane/main.c - otsense: command line, start-up checks, lcore launch, run control, summary.
 *
 * Order of start-up: parse the command line, load the config, apply overrides, check everything that can be
 * checked without DPDK (pcap readable, interface exists, enough CPUs), then start EAL, the port and the
 * workers. Any failure is one line on stderr naming the problem and the fix, exit code 2 (bad input) or 1
 * (runtime); whatever was started is stopped again. Only this file exits.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "config/config.h"
#include "config/log.h"
#include "detect/detect_config.h"
#include "dataplane/eal.h"
#include "dataplane/exporter.h"
#include "dataplane/handoff.h"
#include "dataplane/pcapfile.h"
#include "dataplane/port.h"
#include "dataplane/rss.h"
#include "dataplane/stats.h"
#include "dataplane/worker.h"
#include "protocols/registry.h"

#define EXIT_BAD_INPUT 2
#define EXIT_RUNTIME 1
#define MAX_SETS 64
#define MAX_RULE_ARGS 16

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct opts {
	const char *config;
	const char *pcap;
	const char *iface;
	const char *memif;
	const char *pci;
	const char *summary_json;
	const char *check_config;
	const char *json;
	const char *kafka;
	const char *protobuf;
	long workers;
	int pcap_loop;
	double duration;
	double idle_exit;
	int quiet;
	const char *sets[MAX_SETS];
	int nsets;
	const char *rules[MAX_RULE_ARGS];
	unsigned nrules;
	int check_rules;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: otsense [-c FILE] [--pcap FILE | --iface NAME | --memif SOCKET | --pci ADDR] [--workers N]\n"
		"               [--json FILE|-] [--kafka HOST:PORT[,...]] [--protobuf FILE]\n"
		"               [--summary-json FILE] [--set KEY=VALUE]... [--pcap-loop] [--duration SEC]\n"
		"               [--idle-exit SEC] [--quiet] [--rules FILE]...\n"
		"       otsense [-c FILE] [--rules FILE]... --check-rules\n"
		"       otsense --check-config FILE\n"
		"       otsense --help-config\n"
		"\n"
		"Passive OT/IoT network sensor. Reads packets from a capture file or a port, tracks flows per worker\n"
		"core, reassembles TCP, classifies application protocols and prints what it saw.\n"
		"\n"
		"  -c, --config FILE        startup config (YAML); defaults are built in (otsense --help-config)\n"
		"      --pcap FILE          read a capture file (pcap/pcapng) once, then print the summary and exit\n"
		"      --pcap-loop          replay the --pcap file forever from memory (benchmarks; stop with ^C,\n"
		"                           --duration)\n"
		"      --iface NAME         capture live on a Linux interface (AF_PACKET, one queue per worker)\n"
		"      --memif SOCKET       receive over net_memif as client (benchmark generator is the server)\n"
		"      --pci ADDR           a DPDK-bound NIC (RSS with a symmetric key; needs hugepages)\n"
		"      --workers N          worker cores (dataplane.workers)\n"
		"      --json FILE|-        records as JSON lines to FILE or stdout (default: stdout when no Kafka)\n"
		"      --kafka BROKERS      records to Kafka (host:port[,...]), topics otsense.{assets,alerts,flows,\n"
		"                           health}; spooled to export.spool.dir while the brokers are unreachable\n"
		"      --protobuf FILE      records as length-delimited protobuf Envelopes (varint length + message)\n"
		"      --summary-json FILE  write the final counters as one JSON object ('-' = stdout)\n"
		"      --set KEY=VALUE      override any config key (repeatable), e.g. --set flow.capacity=65536\n"
		"      --duration SEC       stop after SEC seconds\n"
		"      --idle-exit SEC      stop when no packet arrived for SEC seconds (after the first one)\n"
		"  -q, --quiet              no summary on stdout\n"
		"      --rules FILE         load this signature file too (repeatable; besides detect.rule_files)\n"
		"      --check-rules        load and compile the signatures, report what was skipped and why, exit 0\n"
		"                           (all loaded), 1 (some rules skipped) or 2 (a file unreadable / compile error)\n"
		"      --check-config FILE  load and validate FILE, print the effective config, exit 0 or 2\n"
		"      --help-config        list every config key with its default, range and meaning\n"
		"  -h, --help               this text\n"
		"\n"
		"Stops at the end of a --pcap file, on SIGINT/SIGTERM, or after --duration; prints final counters.\n");
}

static int parse_double(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || *v < 0 ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_PCAP = 256, O_IFACE, O_MEMIF, O_PCI, O_WORKERS, O_SUMMARY, O_SET, O_LOOP, O_DURATION, O_IDLE,
	       O_CHECK, O_HELPCFG, O_JSON, O_KAFKA, O_PROTOBUF, O_RULES, O_CHECK_RULES };
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "pcap", required_argument, NULL, O_PCAP },
		{ "iface", required_argument, NULL, O_IFACE }, { "memif", required_argument, NULL, O_MEMIF },
		{ "pci", required_argument, NULL, O_PCI }, { "workers", required_argument, NULL, O_WORKERS },
		{ "summary-json", required_argument, NULL, O_SUMMARY }, { "set", required_argument, NULL, O_SET },
		{ "pcap-loop", no_argument, NULL, O_LOOP }, { "duration", required_argument, NULL, O_DURATION },
		{ "idle-exit", required_argument, NULL, O_IDLE }, { "quiet", no_argument, NULL, 'q' },
		{ "check-config", required_argument, NULL, O_CHECK }, { "help-config", no_argument, NULL, O_HELPCFG },
		{ "json", required_argument, NULL, O_JSON }, { "kafka", required_argument, NULL, O_KAFKA },
		{ "protobuf", required_argument, NULL, O_PROTOBUF }, { "rules", required_argument, NULL, O_RULES },
		{ "check-rules", no_argument, NULL, O_CHECK_RULES }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	memset(o, 0, sizeof(*o));
	o->workers = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case O_PCAP: o->pcap = optarg; break;
		case O_IFACE: o->iface = optarg; break;
		case O_MEMIF: o->memif = optarg; break;
		case O_PCI: o->pci = optarg; break;
		case O_SUMMARY: o->summary_json = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_KAFKA: o->kafka = optarg; break;
		case O_PROTOBUF: o->protobuf = optarg; break;
		case O_LOOP: o->pcap_loop = 1; break;
		case 'q': o->quiet = 1; break;
		case O_CHECK: o->check_config = optarg; break;
		case O_CHECK_RULES: o->check_rules = 1; break;
		case O_RULES:
			if (o->nrules == MAX_RULE_ARGS) {
				fprintf(stderr, "otsense: --rules: at most %d files\n", MAX_RULE_ARGS);
				return -1;
			}
			o->rules[o->nrules++] = optarg;
			break;
		case O_HELPCFG: ots_config_describe(stdout); exit(0);
		case 'h': usage(stdout); exit(0);
		case O_WORKERS: {
			char *end;
			errno = 0;
			o->workers = strtol(optarg, &end, 10);
			if (errno || *end || o->workers < 1 || o->workers > OTS_MAX_WORKERS) {
				fprintf(stderr, "otsense: --workers '%s': give a number 1..%d\n", optarg, OTS_MAX_WORKERS);
				return -1;
			}
			break;
		}
		case O_SET:
			if (o->nsets == MAX_SETS || !strchr(optarg, '=')) {
				fprintf(stderr, "otsense: --set '%s': give KEY=VALUE (at most %d)\n", optarg, MAX_SETS);
				return -1;
			}
			o->sets[o->nsets++] = optarg;
			break;
		case O_DURATION:
		case O_IDLE:
			if (parse_double(optarg, c == O_DURATION ? &o->duration : &o->idle_exit) < 0) {
				fprintf(stderr, "otsense: --%s '%s': give seconds (e.g. 10 or 0.5)\n",
					c == O_DURATION ? "duration" : "idle-exit", optarg);
				return -1;
			}
			break;
		case ':':
			fprintf(stderr, "otsense: option '%s' needs a value; see otsense --help\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "otsense: unknown option '%s'; see otsense --help\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "otsense: unexpected argument '%s'; see otsense --help\n", argv[optind]);
		return -1;
	}
	int ports = !!o->pcap + !!o->iface + !!o->memif + !!o->pci;
	if (ports > 1) {
		fprintf(stderr, "otsense: give only one of --pcap, --iface, --memif, --pci\n");
		return -1;
	}
	return 0;
}

static int apply_overrides(struct ots_config *cfg, const struct opts *o, char *err, size_t errlen)
{
	char buf[OTS_PATH_MAX + 16];
	int r = 0;
	const char *kind = o->pcap ? "pcap" : o->iface ? "iface" : o->memif ? "memif" : o->pci ? "pci" : NULL;
	const char *name = o->pcap ? o->pcap : o->iface ? o->iface : o->memif ? o->memif : o->pci;
	if (kind) {
		snprintf(buf, sizeof(buf), "%s:%s", kind, name);
		if ((r = ots_config_set(cfg, "dataplane.port", buf, "command line", err, errlen)) < 0)
			return r;
	}
	if (o->pcap_loop && (r = ots_config_set(cfg, "dataplane.pcap_loop", "true", "command line", err, errlen)) < 0)
		return r;
	if (o->workers > 0) {
		snprintf(buf, sizeof(buf), "%ld", o->workers);
		if ((r = ots_config_set(cfg, "dataplane.workers", buf, "command line", err, errlen)) < 0)
			return r;
	}
	const struct { const char *v, *key; } exp[] = {
		{ o->json, "export.json" }, { o->kafka, "export.kafka.brokers" }, { o->protobuf, "export.protobuf_file" },
	};
	for (size_t i = 0; i < sizeof(exp) / sizeof(exp[0]); i++)
		if (exp[i].v && (r = ots_config_set(cfg, exp[i].key, exp[i].v, "command line", err, errlen)) < 0)
			return r;
	if (o->kafka && !o->json && (r = ots_config_set(cfg, "export.json", "auto", "command line", err, errlen)) < 0)
		return r;
	for (int i = 0; i < o->nsets; i++) {
		char key[128];
		const char *eq = strchr(o->sets[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
		if ((r = ots_config_set(cfg, key, eq + 1, "command line (--set)", err, errlen)) < 0)
			return r;
	}
	return 0;
}

/* checks that need no DPDK: a bad pcap or interface is refused before anything starts */
static int precheck(const struct ots_config *cfg, struct ots_pcap_info *pi, char *err, size_t errlen)
{
	if (cfg->port_kind == OTS_PORT_PCAP)
		return ots_pcap_probe(cfg->port_name, pi, err, errlen);
	if (cfg->port_kind == OTS_PORT_IFACE && if_nametoindex(cfg->port_name) == 0) {
		snprintf(err, errlen, "interface '%s' does not exist; 'ip link' lists this machine's interfaces",
			 cfg->port_name);
		return -ENODEV;
	}
	const char *files[] = { strcmp(cfg->export_json, "auto") && strcmp(cfg->export_json, "-") ? cfg->export_json
										     : "",
				cfg->export_pb_file };
	for (size_t i = 0; i < 2; i++) {
		if (!files[i][0])
			continue;
		FILE *f = fopen(files[i], "a");
		if (!f) {
			int e = errno;
			snprintf(err, errlen, "cannot write %s '%s': %s; give a writable path", i ? "export.protobuf_file"
				 : "export.json", files[i], strerror(e));
			return -e;
		}
		fclose(f);
	}
	if (cfg->port_kind == OTS_PORT_MEMIF && cfg->port_name[0] != '/') {
		snprintf(err, errlen, "memif socket '%s' must be an absolute path", cfg->port_name);
		return -EINVAL;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct sensor {
	struct ots_config cfg;
	struct ots_port port;
	struct ots_run run;
	struct ots_worker *w[OTS_MAX_WORKERS];
	unsigned nworkers;
	struct rte_ring *rings[OTS_MAX_WORKERS * OTS_MAX_WORKERS];
	unsigned nrings;
	struct rte_ring *rec_rings[OTS_MAX_WORKERS];
	struct ots_exporter exp;
	int exp_inited;
	int linktype;
	double t0;
	struct ots_totals last_health; /* exporter thread only: previous health sample for rates */
	double last_health_t;
};

static void sensor_teardown(struct sensor *s)
{
	if (s->exp_inited) {
		ots_exporter_fini(&s->exp);
		s->exp_inited = 0;
	}
	for (unsigned i = 0; i < OTS_MAX_WORKERS; i++)
		if (s->rec_rings[i]) {
			rte_ring_free(s->rec_rings[i]);
			s->rec_rings[i] = NULL;
		}
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->w[i]) {
			ots_worker_fini(s->w[i]);
			rte_free(s->w[i]);
		}
	s->nworkers = 0;
	ots_port_close(&s->port);
	for (unsigned i = 0; i < s->nrings; i++)
		rte_ring_free(s->rings[i]);
	s->nrings = 0;
}

/* workers own queues round-robin; with fewer queues than workers, queue owners hash packets to the rest */
static int sensor_setup_workers(struct sensor *s, char *err, size_t errlen)
{
	const struct ots_config *cfg = &s->cfg;
	unsigned nw = cfg->workers, nq = s->port.nrxq;
	s->run.nworkers = nw;
	for (unsigned i = 0; i < nw; i++) {
		s->w[i] = rte_zmalloc_socket("ots_worker", sizeof(struct ots_worker), 64, (int)rte_socket_id());
		if (!s->w[i]) {
			snprintf(err, errlen, "out of EAL memory for worker %u; raise dataplane.memory_mb", i);
			return -ENOMEM;
		}
		s->nworkers = i + 1;
		int r = ots_worker_init(s->w[i], i, cfg, &s->run, (int)rte_socket_id(), err, errlen);
		if (r < 0) {
			rte_free(s->w[i]);
			s->w[i] = NULL;
			s->nworkers = i;
			return r;
		}
		s->w[i]->linktype = s->linktype;
		s->w[i]->ts_offset = s->port.ts_offset;
		s->w[i]->ts_flag = s->port.ts_flag;
		s->w[i]->ts_mult = s->port.ts_mult;
	}
	for (unsigned q = 0; q < nq; q++) {
		struct ots_worker *w = s->w[q % nw];
		if (w->nrxq < OTS_MAX_RXQ)
			w->rxq[w->nrxq++] = (struct ots_rxq){ s->port.id, (uint16_t)q };
	}
	if (nq >= nw)
		return 0;
	for (unsigned p = 0; p < nq; p++) {
		s->w[p]->distribute = 1;
		for (unsigned c = 0; c < nw; c++) {
			if (c == p)
				continue;
			char name[32];
			snprintf(name, sizeof(name), "ots_r%u_%u", p, c);
			struct rte_ring *r = rte_ring_create(name, cfg->ring_size, (int)rte_socket_id(),
							     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!r) {
				snprintf(err, errlen, "cannot create hand-off ring %s of %u slots: %s; lower "
					 "dataplane.ring_size", name, cfg->ring_size, rte_strerror(rte_errno));
				return -ENOMEM;
			}
			s->rings[s->nrings++] = r;
			s->w[p]->out[c] = r;
			s->w[c]->in[p] = r;
			s->w[c]->nin++;
		}
	}
	return 0;
}

static double now_s(void);

/* SensorHealth, filled on the exporter thread from counters it only reads */
static void fill_health(void *ud, struct ots_rec_health *h)
{
	struct sensor *s = ud;
	static struct ots_totals t;
	double now = now_s(), dt = now - s->last_health_t;
	ots_port_stats(&s->port, &t.port);
	ots_totals_collect(&t, s->w, s->nworkers);
	h->uptime_s = now - s->t0;
	h->packets = t.processed;
	h->bytes = t.bytes;
	for (int d = 0; d < OTS_DROP_MAX; d++)
		h->drops += t.drops[d];
	h->port_imissed = t.port.imissed;
	h->port_ierrors = t.port.ierrors;
	h->port_nombuf = t.port.nombuf;
	if (s->port.mp) {
		h->mempool_in_use = rte_mempool_in_use_count(s->port.mp);
		h->mempool_size = s->port.mp->size;
	}
	for (int k = 0; k < OTS_REC_MAX; k++)
		h->export_dropped_ring += t.exp.ring_dropped[k];
	h->nworkers = t.nworkers;
	for (unsigned i = 0; i < t.nworkers && i < OTS_HEALTH_MAX_WORKERS; i++) {
		const struct ots_worker_totals *a = &t.w[i], *b = &s->last_health.w[i];
		struct ots_health_worker *hw = &h->w[i];
		hw->id = i;
		hw->pps = dt > 0 ? (double)(a->processed - b->processed) / dt : 0;
		hw->bps = dt > 0 ? (double)(a->bytes - b->bytes) * 8 / dt : 0;
		hw->packets = a->processed;
		hw->drops = a->drops;
		hw->flows_active = a->flows_active;
		hw->flow_capacity = s->cfg.flow_capacity;
		hw->evicted = a->evicted;
		for (int k = 0; k < OTS_REC_MAX; k++)
			hw->records_dropped += s->w[i]->st.records_dropped[k];
	}
	s->last_health = t;
	s->last_health_t = now;
}

/* one SP/SC record ring per worker, the exporter and its sinks, started before the workers */
static int sensor_setup_export(struct sensor *s, char *err, size_t errlen)
{
	int r = ots_exporter_init(&s->exp, &s->cfg, fill_health, s, err, errlen);
	if (r < 0)
		return r;
	s->exp_inited = 1;
	for (unsigned i = 0; i < s->nworkers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ots_rec%u", i);
		s->rec_rings[i] = rte_ring_create_elem(name, OTS_HANDOFF_SLOT, s->cfg.export_ring_size * 4,
						       (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!s->rec_rings[i]) {
			snprintf(err, errlen, "cannot create record ring %s (%u records): %s; lower export.ring_size",
				 name, s->cfg.export_ring_size, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		s->w[i]->rec_ring = s->rec_rings[i];
		ots_exporter_add_ring(&s->exp, s->rec_rings[i]);
	}
	s->t0 = s->last_health_t = now_s();
	r = ots_exporter_start(&s->exp);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the exporter thread: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void port_desc(const struct ots_config *cfg, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%s", ots_port_kind_name(cfg->port_kind), cfg->port_name);
}

/* main lcore: watch the run, print periodic stats, decide when to stop */
static void run_loop(struct sensor *s, const struct opts *o, const struct ots_pcap_info *pi, struct ots_totals *t)
{
	const struct ots_config *cfg = &s->cfg;
	int finite_pcap = cfg->port_kind == OTS_PORT_PCAP && !cfg->pcap_loop;
	double t0 = now_s(), last_stats = t0, last_progress = t0;
	uint64_t last_rx = 0;
	struct ots_totals *prev = calloc(1, sizeof(*prev));
	if (prev)
		ots_totals_collect(prev, s->w, s->nworkers);
	for (;;) {
		usleep(finite_pcap ? 2000 : 50000);
		double now = now_s();
		t->seconds = now - t0;
		ots_port_stats(&s->port, &t->port);
		ots_totals_collect(t, s->w, s->nworkers);
		if (got_signal) {
			OTS_INFO("signal %d: stopping", (int)got_signal);
			break;
		}
		if (finite_pcap && t->received >= pi->packets)
			break;
		if (t->received != last_rx) {
			last_rx = t->received;
			last_progress = now;
		} else if (finite_pcap && now - last_progress > 5.0) {
			OTS_WARN("pcap '%s': delivered %llu of %llu packets, then nothing for 5 s; stopping",
				 cfg->port_name, (unsigned long long)t->received, (unsigned long long)pi->packets);
			break;
		} else if (o->idle_exit > 0 && last_rx && now - last_progress > o->idle_exit) {
			OTS_INFO("no packet for %.1f s: stopping", o->idle_exit);
			break;
		}
		if (o->duration > 0 && now - t0 >= o->duration)
			break;
		if (cfg->stats_interval && prev && now - last_stats >= cfg->stats_interval) {
			ots_stats_lines(t, prev, now - last_stats, ots_log_stream());
			*prev = *t;
			last_stats = now;
		}
	}
	free(prev);
}

static struct ots_detect *g_detect; /* freed at exit, whichever way main returns */

static void free_detect(void)
{
	ots_detect_free(g_detect);
	g_detect = NULL;
}

static void rule_diag(void *ud, const char *line)
{
	unsigned *n = ud;
	(*n)++;
	if (*n <= 50)
		OTS_WARN("rules: %s", line);
	else if (*n == 51)
		OTS_WARN("rules: more skipped rules; otsense --check-rules lists them all");
}

static void rule_diag_all(void *ud, const char *line)
{
	(*(unsigned *)ud)++;
	fprintf(stderr, "otsense: %s\n", line);
}

/* rules with OT keywords (modbus:, dnp3_func, cip_service, ...) match parsed PDUs: a protocol left out of
 * protocols.parsers gives them nothing, so say so once at start instead of staying silent */
static void warn_unparsed_pdu_rules(const struct ots_config *cfg, const struct ots_detect *d)
{
	uint64_t parsed;
	char why[256], names[256];
	size_t o = 0;
	if (!d->db || ots_registry_parse_set(cfg->parsers, &parsed, why, sizeof(why)) < 0)
		return;
	names[0] = '\0';
	for (uint16_t app = 1; app < OTS_APP_MAX && o < sizeof(names); app++)
		if (!((parsed >> app) & 1) && ots_sigdb_wants_pdu(d->db, app))
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", o ? ", " : "", ots_app_name(app));
	if (o)
		OTS_WARN("rules: rules on %s PDUs cannot fire: not in protocols.parsers ('%s'); add them or set it to all",
			 names, cfg->parsers);
}

static void detect_report(const struct ots_detect *d, FILE *out)
{
	const struct ots_ruleset *rs = &d->rs;
	const struct ots_sigdb_report *r = &d->rep;
	fprintf(out, "otsense: rules: %u loaded from %u file%s (%u rule lines); skipped: %u syntax/value error%s, "
		"%u unsupported keyword%s\n", rs->n, rs->files, rs->files == 1 ? "" : "s", rs->lines,
		rs->skipped_syntax, rs->skipped_syntax == 1 ? "" : "s", rs->skipped_unsupported,
		rs->skipped_unsupported == 1 ? "" : "s");
	if (d->db)
		fprintf(out, "otsense: compiled: %u groups, %u fast patterns, %u rules without a fast pattern, %u rules "
			"on parsed PDUs; Hyperscan %.1f ms (%s%s%s), %.1f KiB\n", r->groups, r->patterns, r->rules_no_fp,
			r->rules_pdu, r->compile_ms, r->cache_hit ? "loaded from cache " : "compiled",
			!r->cache_hit && r->cache_path[0] && !r->warning[0] ? ", cached in " : "",
			!r->cache_hit && !r->warning[0] ? r->cache_path : "", r->db_bytes / 1024.0);
	if (r->warning[0])
		fprintf(out, "otsense: warning: %s\n", r->warning);
	fprintf(out, "otsense: OT engine: %s; alert window %u s\n", d->ot_engine ? "on" : "off", d->alert_window_s);
}

int main(int argc, char **argv)
{
	char err[1024] = "";
	struct opts o;
	struct ots_pcap_info pi;
	static struct sensor s; /* large; lives for the process */
	memset(&pi, 0, sizeof(pi));

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_BAD_INPUT;
	ots_config_defaults(&s.cfg);
	if (o.check_config) {
		if (ots_config_load_file(&s.cfg, o.check_config, err, sizeof(err)) < 0) {
			fprintf(stderr, "otsense: %s\n", err);
			return EXIT_BAD_INPUT;
		}
		ots_config_dump(&s.cfg, stdout);
		fprintf(stderr, "otsense: %s: configuration OK\n", o.check_config);
		return 0;
	}
	if (o.config && ots_config_load_file(&s.cfg, o.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (o.check_rules) {
		unsigned skipped = 0;
		struct ots_detect *d = NULL;
		if (apply_overrides(&s.cfg, &o, err, sizeof(err)) < 0 ||
		    ots_detect_from_config(&s.cfg, o.rules, o.nrules, &d, rule_diag_all, &skipped, err, sizeof(err)) < 0) {
			fprintf(stderr, "otsense: %s\n", err);
			return EXIT_BAD_INPUT;
		}
		detect_report(d, stdout);
		ots_detect_free(d);
		return skipped ? 1 : 0;
	}
	if (apply_overrides(&s.cfg, &o, err, sizeof(err)) < 0 || ots_config_validate(&s.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (ots_log_open(s.cfg.log_level, s.cfg.log_file, err, sizeof(err)) < 0 ||
	    precheck(&s.cfg, &pi, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	unsigned skipped = 0;
	struct ots_detect *detect = NULL;
	if (ots_detect_from_config(&s.cfg, o.rules, o.nrules, &detect, rule_diag, &skipped, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	s.run.detect = detect;
	g_detect = detect;
	atexit(free_detect);
	s.linktype = s.cfg.port_kind == OTS_PORT_PCAP ? pi.linktype : OTS_LINK_ETHERNET;
	if (s.cfg.port_kind == OTS_PORT_PCAP && !s.cfg.pcap_loop && pi.packets == 0) {
		fprintf(stderr, "otsense: pcap '%s' holds no packets; nothing to do\n", s.cfg.port_name);
		return EXIT_BAD_INPUT;
	}
	if (s.cfg.pcap_loop && pi.max_caplen > s.cfg.mbuf_data_size - 128) {
		fprintf(stderr, "otsense: pcap '%s' has %u-byte frames, more than one mbuf holds in replay mode; raise "
			"dataplane.mbuf_data_size to %u\n", s.cfg.port_name, pi.max_caplen, pi.max_caplen + 128);
		return EXIT_BAD_INPUT;
	}

	struct ots_eal_args ea;
	if (ots_eal_build(&s.cfg, argv[0], &ea, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (rte_eal_init(ea.argc, ea.argv) < 0) {
		fprintf(stderr, "otsense: DPDK EAL failed to start: %s; rerun with --set log.level=debug for EAL's "
			"own messages\n", rte_strerror(rte_errno));
		return EXIT_RUNTIME;
	}
	int rc = 0;
	ots_registry_init();
	ots_rss_init();
	if (ots_port_open(&s.cfg, &s.port, err, sizeof(err)) < 0 || sensor_setup_workers(&s, err, sizeof(err)) < 0 ||
	    sensor_setup_export(&s, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense: %s\n", err);
		sensor_teardown(&s);
		rte_eal_cleanup();
		return EXIT_RUNTIME;
	}
	char pdesc[OTS_PATH_MAX + 16];
	port_desc(&s.cfg, pdesc, sizeof(pdesc));
	OTS_INFO("sensor '%s' on %s (%s, %u rx queue%s), %u worker%s, %s, flow table %u per worker", s.cfg.sensor_id,
		 pdesc, s.port.driver, s.port.nrxq, s.port.nrxq == 1 ? "" : "s", s.cfg.workers,
		 s.cfg.workers == 1 ? "" : "s", ea.no_huge ? "no hugepages" : "hugepages", s.cfg.flow_capacity);
	if (detect->rs.n || detect->rs.skipped_syntax || detect->rs.skipped_unsupported)
		OTS_INFO("rules: %u loaded (%u skipped), %u fast patterns in %u groups, Hyperscan %.1f ms%s", detect->rs.n,
			 detect->rs.skipped_syntax + detect->rs.skipped_unsupported, detect->rep.patterns,
			 detect->rep.groups, detect->rep.compile_ms, detect->rep.cache_hit ? " (cache)" : "");
	if (detect->rep.warning[0])
		OTS_WARN("rules: %s", detect->rep.warning);
	warn_unparsed_pdu_rules(&s.cfg, detect);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	unsigned lcore, i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i == s.nworkers)
			break;
		rte_eal_remote_launch(ots_worker_main, s.w[i++], lcore);
	}
	static struct ots_totals t;
	run_loop(&s, &o, &pi, &t);
	s.run.stop = 1;
	rte_eal_mp_wait_lcore();
	/* the workers have returned: end every flow (Flow records wait for ring space now, none dropped) */
	for (i = 0; i < s.nworkers; i++) {
		s.w[i]->export_blocking = 1;
		ots_worker_flush(s.w[i]);
	}
	ots_exporter_stop(&s.exp, 10000);
	ots_port_stats(&s.port, &t.port);
	ots_totals_collect(&t, s.w, s.nworkers);
	t.have_export = 1;
	memcpy(t.exp.emitted, s.exp.st.emitted, sizeof(t.exp.emitted));
	t.exp.encode_failed = s.exp.st.encode_failed;
	t.exp.boot_id = s.exp.boot_id;
	t.exp.last_sequence = s.exp.st.last_sequence;
	t.exp.nsinks = s.exp.nsinks;
	for (unsigned k = 0; k < s.exp.nsinks; k++) {
		t.exp.sink_names[k] = s.exp.sink_names[k];
		s.exp.sinks[k]->ops->stats(s.exp.sinks[k], &t.exp.sinks[k]);
	}

	if (!o.quiet)
		ots_totals_print(&t, pdesc, ots_exporter_json_on_stdout(&s.cfg) ? stderr : stdout);
	if (o.summary_json) {
		int r = ots_totals_json(&t, s.cfg.sensor_id, pdesc, o.summary_json, s.w, s.nworkers);
		if (r < 0) {
			fprintf(stderr, "otsense: cannot write --summary-json '%s': %s\n", o.summary_json, strerror(-r));
			rc = EXIT_RUNTIME;
		}
	}
	uint64_t drops = 0;
	for (int d = 0; d < OTS_DROP_MAX; d++)
		drops += t.drops[d];
	if (t.received != t.processed + drops) {
		OTS_ERR("accounting mismatch: received %llu != processed %llu + dropped %llu",
			(unsigned long long)t.received, (unsigned long long)t.processed, (unsigned long long)drops);
		rc = EXIT_RUNTIME;
	}
	sensor_teardown(&s);
	rte_eal_cleanup();
	ots_log_close();
	return rc;
}
