/* bench/export_bench.c - otsense-exportbench: what one exporter core can do.
 *
 *   otsense-exportbench [--records N] [--brokers HOST:PORT] [--topic-prefix P] [--spool DIR] [--json]
 *
 * 1. encode: ns per record for ots_encode_pb and ots_encode_json on Flow records (every record different).
 * 2. Kafka (with --brokers): the exporter's real path on one thread, encode + the Kafka sink's put + poll, for N
 *    Flow records, until every delivery report is back: records/s from first put to last acknowledgement, and
 *    the same through the JSON lines sink to /dev/null. Run it pinned to one CPU (bench/run does taskset).
 * Prints a table and one JSON line ("RESULT {...}").
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct result {
	double pb_ns, json_ns;
	int pb_bytes, json_bytes;
	double kafka_rps, kafka_s, json_rps;
	uint64_t delivered, failed, spooled;
};

static void bench_encode(uint64_t n, struct result *r)
{
	static uint8_t pb[OTS_MAX_RECORD_BYTES];
	static char js[OTS_MAX_RECORD_BYTES * 2];
	struct ots_rec_flow f;
	struct ots_envelope_meta m = { "bench-sensor", 42, 0, 1700000000000000000ull };
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_flow(&f, i);
		m.sequence = i + 1;
		r->pb_bytes = ots_encode_pb(&m, OTS_REC_flow, &f, pb, sizeof(pb));
	}
	double t1 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_flow(&f, i);
		m.sequence = i + 1;
		r->json_bytes = ots_encode_json(&m, OTS_REC_flow, &f, js, sizeof(js));
	}
	double t2 = now_s();
	/* the record building alone, to subtract */
	volatile uint64_t sink = 0;
	for (uint64_t i = 0; i < n; i++) {
		make_flow(&f, i);
		sink += f.flow_hash;
	}
	double t3 = now_s();
	double base = (t3 - t2) / (double)n;
	r->pb_ns = ((t1 - t0) / (double)n - base) * 1e9;
	r->json_ns = ((t2 - t1) / (double)n - base) * 1e9;
}

/* the exporter's loop body: encode, key, put, poll */
static int run_sink(struct ots_sink *s, uint64_t n, int json, double *secs, struct ots_sink_stats *st)
{
	static uint8_t pb[OTS_MAX_RECORD_BYTES];
	static char js[OTS_MAX_RECORD_BYTES * 2];
	struct ots_rec_flow f;
	struct ots_envelope_meta m = { "bench-sensor", 43, 0, 1700000000000000000ull };
	char key[64];
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_flow(&f, i);
		m.sequence = i + 1;
		int kl = ots_record_key(OTS_REC_flow, &f, "bench-sensor", key, sizeof(key));
		int len = json ? ots_encode_json(&m, OTS_REC_flow, &f, js, sizeof(js))
			       : ots_encode_pb(&m, OTS_REC_flow, &f, pb, sizeof(pb));
		if (len < 0)
			return len;
		s->ops->put(s, OTS_REC_flow, key, (size_t)kl, json ? (void *)js : (void *)pb, (size_t)len);
		if ((i & 1023) == 0 && s->ops->poll)
			s->ops->poll(s);
	}
	/* wait for every acknowledgement */
	for (;;) {
		if (s->ops->poll)
			s->ops->poll(s);
		s->ops->stats(s, st);
		if (st->delivered + st->failed + st->dropped >= n || now_s() - t0 > 300)
			break;
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	*secs = now_s() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000;
	const char *brokers = NULL, *spool = "/tmp/otsense-exportbench-spool", *prefix = "bench";
	static const struct option lo[] = { { "records", required_argument, NULL, 'n' },
					    { "brokers", required_argument, NULL, 'b' },
					    { "spool", required_argument, NULL, 's' },
					    { "topic-prefix", required_argument, NULL, 'p' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "n:b:s:p:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'b': brokers = optarg; break;
		case 's': spool = optarg; break;
		case 'p': prefix = optarg; break;
		default:
			fprintf(stderr, "usage: otsense-exportbench [--records N] [--brokers HOST:PORT] [--spool DIR] "
				"[--topic-prefix P]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	struct result r;
	memset(&r, 0, sizeof(r));
	bench_encode(n, &r);
	printf("encode   Flow record -> protobuf Envelope: %7.0f ns/record (%d bytes)\n", r.pb_ns, r.pb_bytes);
	printf("encode   Flow record -> JSON line:         %7.0f ns/record (%d bytes)\n", r.json_ns, r.json_bytes);

	char err[512];
	struct ots_sink_stats st;
	double secs = 0;
	struct ots_sink *js = ots_sink_json_open("/dev/null", err, sizeof(err));
	if (js && run_sink(js, n, 1, &secs, &st) == 0) {
		r.json_rps = (double)n / secs;
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
		if (run_sink(ks, n, 0, &secs, &st) == 0) {
			r.kafka_rps = (double)n / secs;
			r.kafka_s = secs;
			r.delivered = st.delivered;
			r.failed = st.failed;
			r.spooled = st.spooled;
			printf("sink     Kafka %s, acks=all, lz4:     %7.0f records/s (%llu delivered, %llu failed, "
			       "%llu spooled, %.2f s)\n", brokers, r.kafka_rps, (unsigned long long)st.delivered,
			       (unsigned long long)st.failed, (unsigned long long)st.spooled, secs);
		}
		ks->ops->flush(ks, 10000);
		ks->ops->close(ks);
	}
	printf("RESULT {\"records\":%llu,\"encode_pb_ns\":%.0f,\"encode_json_ns\":%.0f,\"pb_bytes\":%d,"
	       "\"json_bytes\":%d,\"json_sink_rps\":%.0f,\"kafka_rps\":%.0f,\"kafka_seconds\":%.3f,"
	       "\"kafka_delivered\":%llu,\"kafka_failed\":%llu,\"kafka_spooled\":%llu}\n",
	       (unsigned long long)n, r.pb_ns, r.json_ns, r.pb_bytes, r.json_bytes, r.json_rps, r.kafka_rps, r.kafka_s,
	       (unsigned long long)r.delivered, (unsigned long long)r.failed, (unsigned long long)r.spooled);
	return 0;
}
