/* bench/export_bench.c - otsense-exportbench: what one exporter core can do.
 *
 *   otsense-exportbench [--records N] [--brokers HOST:PORT] [--topic-prefix P] [--spool DIR] [--kafka-only]
 *                       [--protobuf-c] [--rate RECORDS_PER_S]
 *
 * 1. encode (skipped with --kafka-only): ns per record for Flow, Alert and Asset records (every record
 *    different) through ots_encode_pb (the direct wire writer), ots_encode_pb_ref (protobuf-c: message structs +
 *    protobuf_c_message_pack, what ots_encode_pb was before) and ots_encode_json. Each is timed in 5 rounds,
 *    interleaved, and the fastest round is reported (a shared VM's neighbours only ever add time); building the
 *    records alone is subtracted. The two protobuf encoders are first checked to give the same bytes on the
 *    first 10,000 records of each type. Then N Flow records through the JSON lines sink to /dev/null.
 * 2. Kafka (with --brokers): the exporter's real path on one thread, encode + key + the Kafka sink's put + poll,
 *    for N Flow records, until every delivery report is back (--protobuf-c: encoding with ots_encode_pb_ref).
 *    As fast as it can put (the queue then holds most of the N records), or paced at --rate records/s (the
 *    steady state of a sensor: the exporter serves delivery reports and sleeps between batches).
 *    Reported: records/s from first put to last acknowledgement (wall clock: with the broker on the same
 *    machine it shares the CPUs); the CPU time of the exporter thread itself (CLOCK_THREAD_CPUTIME_ID, put loop
 *    + serving delivery reports), whose inverse is what one exporter core sustains when nothing else runs on
 *    it; librdkafka's own threads (process CPU from getrusage minus the exporter thread); and every thread's
 *    CPU per record (/proc/self/task/ * /schedstat: rdk:broker<N> batches, compresses and sends). Pin it or not
 *    with taskset: pinned, librdkafka's threads share the exporter's CPU (see bench/README.md, "Exporter").
 * Prints a table and one JSON line ("RESULT {...}").
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config/config.h"
#include "export/encode.h"
#include "export/record.h"
#include "export/sink.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of the calling thread */
static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of the whole process (every thread, user + system) */
static double process_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU time of every thread of this process (/proc/self/task/TID/schedstat: ns on a CPU), with its name */
struct thr {
	int tid;
	char name[20];
	uint64_t ns;
};
#define MAX_THR 64

static int threads_cpu(struct thr *t)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	struct dirent *e;
	while (d && n < MAX_THR && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300];
		unsigned long long ns = 0;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		int ok = fscanf(f, "%llu", &ns) == 1;
		fclose(f);
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		t[n].name[0] = 0;
		if ((f = fopen(path, "r"))) {
			if (fgets(t[n].name, sizeof(t[n].name), f))
				t[n].name[strcspn(t[n].name, "\n")] = 0;
			fclose(f);
		}
		t[n].tid = atoi(e->d_name);
		t[n].ns = ns;
		n += ok;
	}
	if (d)
		closedir(d);
	return n;
}

static void make_flow(struct ots_rec_flow *f, uint64_t i)
{
	memset(f, 0, sizeof(*f));
	f->t.src.family = f->t.dst.family = 4;
	f->t.src.ip[0] = 10;
	f->t.src.ip[2] = (uint8_t)(i >> 8);
	f->t.src.ip[3] = (uint8_t)i;
	f->t.dst.ip[0] = 10;
	f->t.dst.ip[3] = 200;
	f->t.src_port = (uint16_t)(1024 + i % 60000);
	f->t.dst_port = 502;
	f->t.proto = 6;
	memcpy(f->src_mac, "\x00\x1b\x1b\x01\x02\x03", 6);
	memcpy(f->dst_mac, "\x00\x80\xf4\x0a\x0b\x0c", 6);
	f->start_ns = 1700000000000000000ull + i * 1000;
	f->end_ns = f->start_ns + 5000000;
	f->pkts_to_server = 6 + i % 7;
	f->pkts_to_client = 4;
	f->bytes_to_server = 418 + i % 100;
	f->bytes_to_client = 284;
	f->flow_hash = i * 0x9e3779b97f4a7c15ull;
	f->app = 1; /* modbus */
	f->tcp_flags_to_server = 0x1b;
	f->tcp_flags_to_client = 0x1b;
	f->end_reason = OTS_FLOW_END_CLOSED;
	f->tcp_state = 4;
}

static void hex16(char *o, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--, v >>= 4)
		o[i] = hex[v & 15];
}

/* a string literal into a fixed field, with its NUL (checked at compile time) */
#define SETS(field, lit)                                                                                           \
	do {                                                                                                       \
		_Static_assert(sizeof(lit) <= sizeof(field), "too long for " #field);                             \
		memcpy((field), (lit), sizeof(lit));                                                               \
	} while (0)

/* a typical OT alert: signature on a Modbus write, both assets known, four pieces of evidence */
static void make_alert(struct ots_rec_alert *a, uint64_t i)
{
	static const char *const ev[4][2] = { { "function_code", "6" }, { "register", "40001" },
					      { "value", "0xff00" }, { "unit_id", "1" } };
	memset(a, 0, sizeof(*a));
	hex16(a->id, i * 0x9e3779b97f4a7c15ull);
	hex16(a->id + 16, i);
	a->time_ns = 1700000000000000000ull + i * 1000;
	a->first_ns = a->time_ns - 2000000000ull;
	a->count = 1 + (uint32_t)(i % 5);
	a->engine = OTS_ENGINE_OT;
	a->severity = OTS_SEV_HIGH;
	a->app = 1; /* modbus */
	SETS(a->category, "ot-write");
	SETS(a->title, "Modbus write to a PLC from a non-engineering host");
	SETS(a->description, "A host that never programmed this controller wrote a holding register; check that the "
			     "change was planned.");
	SETS(a->mitre[0], "T0836");
	SETS(a->mitre[1], "T0855");
	a->nmitre = 2;
	a->gid = 1;
	a->sid = 2100001;
	a->rev = 2;
	a->t.src.family = a->t.dst.family = 4;
	a->t.src.ip[0] = a->t.dst.ip[0] = 10;
	a->t.src.ip[3] = (uint8_t)i;
	a->t.dst.ip[3] = 200;
	a->t.src_port = (uint16_t)(1024 + i % 60000);
	a->t.dst_port = 502;
	a->t.proto = 6;
	memcpy(a->src_asset.mac, "\x00\x1b\x1b\x01\x02\x03", 6);
	a->src_asset.has_mac = 1;
	a->src_asset.ip = a->t.src;
	memcpy(a->dst_asset.mac, "\x00\x80\xf4\x0a\x0b\x0c", 6);
	a->dst_asset.has_mac = 1;
	a->dst_asset.ip = a->t.dst;
	for (int k = 0; k < 4; k++) {
		memcpy(a->evidence[k].key, ev[k][0], strlen(ev[k][0]) + 1);
		memcpy(a->evidence[k].value, ev[k][1], strlen(ev[k][1]) + 1);
	}
	a->nevidence = 4;
}

/* a typical PLC in the inventory: MAC key, two addresses, name, vendor, model, firmware, serial */
static void make_asset(struct ots_rec_asset *a, uint64_t i)
{
	static const char *const v[5] = { "PLC-Line1", "Siemens AG", "CPU 315-2 PN/DP", "V3.2.6",
					  "S C-X4U421302009" };
	memset(a, 0, sizeof(*a));
	SETS(a->id, "mac:");
	hex16(a->id + 4, i); /* "mac:" + 16 hex digits, NUL from the memset */
	memcpy(a->key.mac, "\x00\x1b\x1b\x01\x02\x03", 6);
	a->key.mac[5] = (uint8_t)i;
	a->key.has_mac = 1;
	a->ips[0].family = a->ips[1].family = 4;
	a->ips[0].ip[0] = 10;
	a->ips[0].ip[3] = (uint8_t)i;
	a->ips[1].ip[0] = 192;
	a->ips[1].ip[1] = 168;
	a->ips[1].ip[3] = (uint8_t)(i >> 8);
	a->nips = 2;
	a->role = OTS_ROLE_PLC;
	a->role_confidence = 90;
	for (int k = 0; k < 5; k++) {
		struct ots_attr *at = &a->attrs[k];
		at->kind = (uint8_t)(k == 0 ? OTS_ATTR_NAME : k); /* name, vendor, model, firmware, serial */
		at->confidence = 100;
		at->source = 3; /* s7comm */
		at->time_ns = 1700000000000000000ull + i;
		memcpy(at->value, v[k], strlen(v[k]) + 1);
	}
	a->nattrs = 5;
	a->protocols_served = 1u << 3;
	a->protocols_used = (1u << 20) | (1u << 23);
	a->first_ns = 1700000000000000000ull;
	a->last_ns = a->first_ns + i * 1000;
}

union rec {
	struct ots_rec_flow flow;
	struct ots_rec_alert alert;
	struct ots_rec_asset asset;
};

static void make_rec(int type, union rec *r, uint64_t i)
{
	if (type == OTS_REC_alert)
		make_alert(&r->alert, i);
	else if (type == OTS_REC_asset)
		make_asset(&r->asset, i);
	else
		make_flow(&r->flow, i);
}

enum { ENC_NONE, ENC_PB, ENC_PB_REF, ENC_JSON, ENC_N };
static const int bench_types[3] = { OTS_REC_flow, OTS_REC_alert, OTS_REC_asset };

struct result {
	double enc_ns[3][ENC_N]; /* per bench_types[], per encoder */
	int enc_bytes[3][ENC_N];
	double kafka_rps, kafka_s, json_rps;
	double put_s, put_cpu_s, thread_cpu_s, process_cpu_s; /* Kafka run */
	uint64_t queued_after_puts;
	uint64_t delivered, failed, spooled;
};

/* seconds for n records of type through encoder e (ENC_NONE: building the records only) */
static double encode_round(int type, int e, uint64_t n, int *bytes)
{
	static uint8_t pb[OTS_MAX_RECORD_BYTES];
	static char js[OTS_MAX_RECORD_BYTES * 2];
	static union rec r;
	struct ots_envelope_meta m = { "bench-sensor", 42, 0, 1700000000000000000ull };
	volatile uint64_t sink = 0;
	int len = 0;
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_rec(type, &r, i);
		m.sequence = i + 1;
		switch (e) {
		case ENC_PB: len = ots_encode_pb(&m, type, &r, pb, sizeof(pb)); break;
		case ENC_PB_REF: len = ots_encode_pb_ref(&m, type, &r, pb, sizeof(pb)); break;
		case ENC_JSON: len = ots_encode_json(&m, type, &r, js, sizeof(js)); break;
		default: sink += r.flow.flow_hash; break;
		}
	}
	double t = now_s() - t0;
	if (bytes)
		*bytes = len;
	return t;
}

/* the direct writer and protobuf-c agree byte for byte (tests/test_encode.c checks this thoroughly) */
static int check_same_bytes(uint64_t n)
{
	static uint8_t a[OTS_MAX_RECORD_BYTES], b[OTS_MAX_RECORD_BYTES];
	static union rec r;
	struct ots_envelope_meta m = { "bench-sensor", 42, 0, 1700000000000000000ull };
	for (int t = 0; t < 3; t++) {
		for (uint64_t i = 0; i < n; i++) {
			make_rec(bench_types[t], &r, i);
			m.sequence = i + 1;
			int x = ots_encode_pb(&m, bench_types[t], &r, a, sizeof(a));
			int y = ots_encode_pb_ref(&m, bench_types[t], &r, b, sizeof(b));
			if (x <= 0 || x != y || memcmp(a, b, (size_t)x)) {
				fprintf(stderr, "exportbench: %s record %llu: ots_encode_pb and ots_encode_pb_ref differ\n",
					ots_rec_type_names[bench_types[t]], (unsigned long long)i);
				return -1;
			}
		}
	}
	return 0;
}

/* per type: 5 rounds of every encoder interleaved, the fastest round each, minus building the records */
static void bench_encode(uint64_t n, struct result *r)
{
	for (int t = 0; t < 3; t++) {
		int type = bench_types[t];
		uint64_t nt = t == 0 ? n : n / 4 + 1; /* alerts and assets: a quarter is plenty */
		double best[ENC_N];
		for (int e = 0; e < ENC_N; e++)
			best[e] = 1e30;
		encode_round(type, ENC_PB, nt / 10 + 1, NULL); /* warm up */
		for (int round = 0; round < 5; round++) {
			for (int e = 0; e < ENC_N; e++) {
				/* JSON is 10x slower: a fifth of the records is plenty */
				uint64_t k = e == ENC_JSON ? nt / 5 + 1 : nt;
				double s = encode_round(type, e, k, &r->enc_bytes[t][e]) / (double)k;
				if (s < best[e])
					best[e] = s;
			}
		}
		for (int e = 0; e < ENC_N; e++)
			r->enc_ns[t][e] = (best[e] - best[ENC_NONE]) * 1e9;
	}
}

/* the exporter's loop body: encode, key, put, poll; then serve delivery reports until all are back */
static int run_sink(struct ots_sink *s, uint64_t n, int json, int ref, double rate, struct result *r,
		    struct ots_sink_stats *st)
{
	static uint8_t pb[OTS_MAX_RECORD_BYTES];
	static char js[OTS_MAX_RECORD_BYTES * 2];
	struct ots_rec_flow f;
	struct ots_envelope_meta m = { "bench-sensor", 43, 0, 1700000000000000000ull };
	char key[64];
	s->ops->stats(s, st);
	uint64_t done0 = st->delivered + st->failed + st->dropped; /* a warm-up run before this one */
	double t0 = now_s(), c0 = thread_cpu_s(), p0 = process_cpu_s();
	for (uint64_t i = 0; i < n; i++) {
		make_flow(&f, i);
		m.sequence = i + 1;
		int kl = ots_record_key(OTS_REC_flow, &f, "bench-sensor", key, sizeof(key));
		int len = json ? ots_encode_json(&m, OTS_REC_flow, &f, js, sizeof(js))
			  : ref	 ? ots_encode_pb_ref(&m, OTS_REC_flow, &f, pb, sizeof(pb))
				 : ots_encode_pb(&m, OTS_REC_flow, &f, pb, sizeof(pb));
		if (len < 0)
			return len;
		s->ops->put(s, OTS_REC_flow, key, (size_t)kl, json ? (void *)js : (void *)pb, (size_t)len);
		if ((i & 1023) == 0 && s->ops->poll)
			s->ops->poll(s);
		if (rate > 0 && (i & 255) == 255) {
			/* paced (--rate): the next record is due at t0 + (i + 1) / rate; until then serve delivery
			 * reports and sleep, as the exporter does when its rings are empty (behind schedule: no wait) */
			double due = t0 + (double)(i + 1) / rate, left;
			while ((left = due - now_s()) > 0) {
				if (s->ops->poll)
					s->ops->poll(s);
				if (left > 100e-6) {
					double sl = left - 60e-6;
					struct timespec ts = { (time_t)sl, (long)((sl - (double)(time_t)sl) * 1e9) };
					nanosleep(&ts, NULL);
				}
			}
		}
	}
	r->put_s = now_s() - t0;
	r->put_cpu_s = thread_cpu_s() - c0;
	s->ops->stats(s, st);
	r->queued_after_puts = st->queued;
	/* wait for every acknowledgement */
	for (;;) {
		if (s->ops->poll)
			s->ops->poll(s);
		s->ops->stats(s, st);
		if (st->delivered + st->failed + st->dropped - done0 >= n || now_s() - t0 > 300)
			break;
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	r->kafka_s = now_s() - t0;
	r->thread_cpu_s = thread_cpu_s() - c0;
	r->process_cpu_s = process_cpu_s() - p0;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000;
	const char *brokers = NULL, *spool = "/tmp/otsense-exportbench-spool", *prefix = "bench";
	int kafka_only = 0, use_ref = 0;
	double rate = 0;
	static const struct option lo[] = { { "records", required_argument, NULL, 'n' },
					    { "brokers", required_argument, NULL, 'b' },
					    { "spool", required_argument, NULL, 's' },
					    { "topic-prefix", required_argument, NULL, 'p' },
					    { "kafka-only", no_argument, NULL, 'k' },
					    { "protobuf-c", no_argument, NULL, 'r' },
					    { "rate", required_argument, NULL, 'R' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "n:b:s:p:krR:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'b': brokers = optarg; break;
		case 's': spool = optarg; break;
		case 'p': prefix = optarg; break;
		case 'k': kafka_only = 1; break;
		case 'r': use_ref = 1; break;
		case 'R': rate = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: otsense-exportbench [--records N] [--brokers HOST:PORT] [--spool DIR] "
				"[--topic-prefix P] [--kafka-only] [--protobuf-c] [--rate RECORDS_PER_S]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	struct result r;
	memset(&r, 0, sizeof(r));
	if (check_same_bytes(n < 10000 ? n : 10000) < 0)
		return 1;
	if (!kafka_only)
		bench_encode(n, &r);
	for (int t = 0; t < 3 && !kafka_only; t++) {
		const char *name = ots_rec_type_names[bench_types[t]];
		printf("encode   %-5s -> protobuf, direct writer: %6.1f ns/record (%d bytes)\n", name,
		       r.enc_ns[t][ENC_PB], r.enc_bytes[t][ENC_PB]);
		printf("encode   %-5s -> protobuf, protobuf-c:    %6.1f ns/record (same bytes; %.1fx)\n", name,
		       r.enc_ns[t][ENC_PB_REF], r.enc_ns[t][ENC_PB] > 0 ? r.enc_ns[t][ENC_PB_REF] / r.enc_ns[t][ENC_PB] : 0);
		printf("encode   %-5s -> JSON line:               %6.1f ns/record (%d bytes)\n", name,
		       r.enc_ns[t][ENC_JSON], r.enc_bytes[t][ENC_JSON]);
	}

	char err[512];
	struct ots_sink_stats st;
	struct ots_sink *js = kafka_only ? NULL : ots_sink_json_open("/dev/null", err, sizeof(err));
	struct result jr;
	memset(&jr, 0, sizeof(jr));
	if (js && run_sink(js, n, 1, 0, 0, &jr, &st) == 0) {
		r.json_rps = (double)n / jr.kafka_s;
		printf("sink     JSON lines to /dev/null:          %7.0f records/s (encode + write)\n", r.json_rps);
	}
	if (js)
		js->ops->close(js);

	if (brokers) {
		struct ots_config cfg;
		ots_config_defaults(&cfg);
		char v[600];
		int ok = 1;
		const char *sets[][2] = { { "export.kafka.brokers", brokers }, { "export.spool.dir", spool } };
		for (size_t i = 0; i < 2; i++)
			ok &= ots_config_set(&cfg, sets[i][0], sets[i][1], "bench", err, sizeof(err)) == 0;
		const char *types[] = { "assets", "alerts", "flows", "health" };
		for (int i = 0; i < 4; i++) {
			char k[64];
			snprintf(k, sizeof(k), "export.kafka.topic.%s", types[i]);
			snprintf(v, sizeof(v), "%s.%s", prefix, types[i]);
			ok &= ots_config_set(&cfg, k, v, "bench", err, sizeof(err)) == 0;
		}
		/* enough queue for the burst: the spool is for outages, not for a benchmark */
		ok &= ots_config_set(&cfg, "export.kafka.queue_max_messages", "2000000", "bench", err, sizeof(err)) == 0;
		if (!ok) {
			fprintf(stderr, "exportbench: %s\n", err);
			return 1;
		}
		struct ots_sink *ks = ots_sink_kafka_open(&cfg, err, sizeof(err));
		if (!ks) {
			fprintf(stderr, "exportbench: %s\n", err);
			return 1;
		}
		/* warm-up, not timed: the topic is created (auto-create) or its metadata fetched, the connection and
		 * the idempotent producer id are set up */
		struct result warm;
		memset(&warm, 0, sizeof(warm));
		if (run_sink(ks, 10000, 0, use_ref, 0, &warm, &st) < 0 || st.delivered < 10000) {
			fprintf(stderr, "exportbench: warm-up: %llu of 10000 records delivered: is the broker up?\n",
				(unsigned long long)st.delivered);
			return 1;
		}
		struct ots_sink_stats w0 = st;
		struct thr t0[MAX_THR], t1[MAX_THR];
		int n0 = threads_cpu(t0);
		if (run_sink(ks, n, 0, use_ref, rate, &r, &st) == 0) {
			r.kafka_rps = (double)n / r.kafka_s;
			r.delivered = st.delivered - w0.delivered;
			r.failed = st.failed - w0.failed;
			r.spooled = st.spooled - w0.spooled;
			double tns = r.thread_cpu_s / (double)n * 1e9, pns = r.process_cpu_s / (double)n * 1e9;
			printf("sink     Kafka %s, acks=all, lz4, %s: %7.0f records/s wall (%llu delivered, %llu failed, "
			       "%llu spooled, %.2f s; puts done after %.2f s, %llu then queued)\n", brokers,
			       use_ref ? "protobuf-c encoder" : "direct encoder", r.kafka_rps,
			       (unsigned long long)r.delivered, (unsigned long long)r.failed,
			       (unsigned long long)r.spooled, r.kafka_s, r.put_s, (unsigned long long)r.queued_after_puts);
			printf("cpu      exporter thread: %6.0f ns/record (put loop %.0f, delivery reports %.0f) -> one "
			       "exporter core: %7.0f records/s\n", tns, r.put_cpu_s / (double)n * 1e9,
			       (r.thread_cpu_s - r.put_cpu_s) / (double)n * 1e9, tns > 0 ? 1e9 / tns : 0);
			printf("cpu      librdkafka threads: %6.0f ns/record; whole process %.0f ns/record (%.2f CPUs "
			       "busy over the run)\n", pns - tns, pns, r.process_cpu_s / r.kafka_s);
			int n1 = threads_cpu(t1);
			printf("cpu      per thread (ns/record):");
			for (int i = 0; i < n1; i++) {
				uint64_t before = 0;
				for (int j = 0; j < n0; j++)
					if (t0[j].tid == t1[i].tid)
						before = t0[j].ns;
				double d = (double)(t1[i].ns - before) / (double)n;
				if (d >= 1)
					printf(" %s %.0f", t1[i].name, d);
			}
			printf("\n");
		}
		ks->ops->flush(ks, 10000);
		ks->ops->close(ks);
	}
	double tns = r.thread_cpu_s / (double)n * 1e9, pns = r.process_cpu_s / (double)n * 1e9;
	printf("RESULT {\"records\":%llu", (unsigned long long)n);
	for (int t = 0; t < 3; t++) {
		const char *name = ots_rec_type_names[bench_types[t]];
		printf(",\"%s_pb_ns\":%.1f,\"%s_pb_protobuf_c_ns\":%.1f,\"%s_json_ns\":%.1f,\"%s_pb_bytes\":%d,"
		       "\"%s_json_bytes\":%d", name, r.enc_ns[t][ENC_PB], name, r.enc_ns[t][ENC_PB_REF], name,
		       r.enc_ns[t][ENC_JSON], name, r.enc_bytes[t][ENC_PB], name, r.enc_bytes[t][ENC_JSON]);
	}
	printf(",\"kafka_encoder\":\"%s\",\"kafka_rate\":%.0f,\"kafka_queued_after_puts\":%llu",
	       use_ref ? "protobuf-c" : "direct", rate, (unsigned long long)r.queued_after_puts);
	printf(",\"json_sink_rps\":%.0f,\"kafka_rps\":%.0f,\"kafka_seconds\":%.3f,\"kafka_put_seconds\":%.3f,"
	       "\"kafka_exporter_cpu_ns\":%.0f,\"kafka_exporter_core_rps\":%.0f,\"kafka_librdkafka_cpu_ns\":%.0f,"
	       "\"kafka_process_cpu_ns\":%.0f,\"kafka_delivered\":%llu,\"kafka_failed\":%llu,\"kafka_spooled\":%llu}\n",
	       r.json_rps, r.kafka_rps, r.kafka_s, r.put_s, tns, tns > 0 ? 1e9 / tns : 0, pns - tns, pns,
	       (unsigned long long)r.delivered, (unsigned long long)r.failed, (unsigned long long)r.spooled);
	return 0;
}
