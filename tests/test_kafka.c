/* tests/test_kafka.c - the Kafka sink (export/kafka.c) against librdkafka's mock cluster.
 *
 * The cluster lives on its own rd_kafka_t for the whole run, so a sink can be closed and reopened against the same
 * topics, and records are consumed back with a real consumer to check what reached Kafka: every record exactly
 * once, in put() order per topic. Covered: delivery; broker down -> queue full -> spool -> broker up -> replay in
 * order; shutdown while down -> everything spooled -> reopen -> replayed first, before newer records; broker
 * unreachable at start; spool cap -> dropped and counted; corrupt spool tail; fatal producer error -> producer
 * re-created, nothing lost; topic that does not exist; bad properties, bad TLS file, bad spool dir -> open fails
 * with one line.
 */
#include "config/config.h"
#include "config/log.h"
#include "export/record.h"
#include "export/sink.h"
#include "export/spool.h"
#include "tests/harness.h"
#include "tests/tmplog.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

rd_kafka_t *ots_sink_kafka_handle(struct ots_sink *s); /* export/kafka.c, for tests */

static rd_kafka_t *mrk;
static rd_kafka_mock_cluster_t *mc;
static const char *bootstraps;

/* ---- helpers -------------------------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* config for test `tag`: its own topics tag.assets/alerts/flows/health and spool dir */
static void mkcfg(struct ots_config *c, const char *tag)
{
	ots_config_defaults(c);
	snprintf(c->kafka_brokers, sizeof(c->kafka_brokers), "%s", bootstraps);
	snprintf(c->kafka_topic_assets, sizeof(c->kafka_topic_assets), "%s.assets", tag);
	snprintf(c->kafka_topic_alerts, sizeof(c->kafka_topic_alerts), "%s.alerts", tag);
	snprintf(c->kafka_topic_flows, sizeof(c->kafka_topic_flows), "%s.flows", tag);
	snprintf(c->kafka_topic_health, sizeof(c->kafka_topic_health), "%s.health", tag);
	snprintf(c->spool_dir, sizeof(c->spool_dir), "%s/%s", tmproot, tag);
	c->kafka_queue_messages = 1000;
	c->kafka_linger_ms = 1;
	c->spool_fsync = OTS_FSYNC_NEVER;
	c->spool_max_mb = 64;
	for (int t = 0; t < OTS_REC_MAX; t++) {
		char name[160];
		snprintf(name, sizeof(name), "%s.%s", tag, t == OTS_REC_asset ? "assets" : t == OTS_REC_alert ? "alerts"
							   : t == OTS_REC_flow  ? "flows" : "health");
		rd_kafka_mock_topic_create(mc, name, 1, 1);
	}
}

static void add_prop(struct ots_config *c, const char *name, const char *value)
{
	snprintf(c->kafka_props[c->kafka_nprops].name, sizeof(c->kafka_props[0].name), "%s", name);
	snprintf(c->kafka_props[c->kafka_nprops].value, sizeof(c->kafka_props[0].value), "%s", value);
	c->kafka_nprops++;
}

static struct ots_sink *open_sink(const struct ots_config *c)
{
	char err[1024] = "";
	struct ots_sink *s = ots_sink_kafka_open(c, err, sizeof(err));
	if (!s)
		fprintf(stderr, "\n  open: %s\n", err);
	return s;
}

/* record `seq`: flows, every 7th a health record; key K<seq>, value S<seq> + `pad` bytes */
static int rtype(int seq)
{
	return seq % 7 == 6 ? OTS_REC_health : OTS_REC_flow;
}

static int put_seq(struct ots_sink *s, int seq, size_t pad)
{
	char key[32], val[4096];
	int kl = snprintf(key, sizeof(key), "K%08d", seq);
	int vl = snprintf(val, sizeof(val), "S%08d", seq);
	if (pad > sizeof(val) - (size_t)vl)
		pad = sizeof(val) - (size_t)vl;
	memset(val + vl, 'p', pad);
	return s->ops->put(s, rtype(seq), key, (size_t)kl, val, (size_t)vl + pad);
}

static struct ots_sink_stats stats(struct ots_sink *s)
{
	struct ots_sink_stats st;
	s->ops->stats(s, &st);
	return st;
}

/* poll until delivered + failed reaches n and nothing waits anywhere (or ms pass) */
static int wait_settled(struct ots_sink *s, uint64_t n, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	for (;;) {
		s->ops->poll(s);
		struct ots_sink_stats st = stats(s);
		if (st.delivered + st.failed >= n && st.queued == 0 && st.spool_records == 0)
			return 1;
		if (now_ms() > end) {
			fprintf(stderr, "\n  not settled: delivered %lu failed %lu queued %lu spool %lu (want %lu)\n",
				(unsigned long)st.delivered, (unsigned long)st.failed, (unsigned long)st.queued,
				(unsigned long)st.spool_records, (unsigned long)n);
			return 0;
		}
		usleep(1000);
	}
}

static int wait_health(struct ots_sink *s, int healthy, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	while (now_ms() < end) {
		s->ops->poll(s);
		if (stats(s).healthy == healthy)
			return 1;
		usleep(2000);
	}
	return 0;
}

static void broker_down(struct ots_sink *s)
{
	rd_kafka_mock_broker_set_down(mc, 1);
	CU_ASSERT(wait_health(s, 0, 15000));
}

/* read a topic back from the beginning: sequence numbers in partition order (-1: bad payload) */
static int consume(const char *topic, int *seqs, int cap)
{
	char es[512];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, es, sizeof(es));
	rd_kafka_conf_set(c, "group.id", "test_kafka", es, sizeof(es));
	rd_kafka_conf_set(c, "enable.partition.eof", "true", es, sizeof(es));
	rd_kafka_conf_set(c, "enable.auto.commit", "false", es, sizeof(es));
	rd_kafka_conf_set(c, "log_level", "3", es, sizeof(es));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, es, sizeof(es));
	if (!rk)
		return -1;
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	int n = 0;
	uint64_t end = now_ms() + 20000;
	while (now_ms() < end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			break;
		}
		if (!m->err) {
			int seq = -1;
			char key[16];
			if (m->len >= 9 && ((char *)m->payload)[0] == 'S' && m->key_len == 9) {
				seq = atoi((char *)m->payload + 1);
				snprintf(key, sizeof(key), "K%08d", seq);
				if (memcmp(key, m->key, 9) != 0)
					seq = -1;
			}
			if (n < cap)
				seqs[n] = seq;
			n++;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

/* every seq in [0, total) of this tag appears exactly once, in increasing order per topic (drop[] = seqs that
 * were dropped on purpose, may be NULL) */
static int check_topics(const char *tag, int total, const unsigned char *dropped)
{
	static int seqs[200000];
	unsigned char *seen = calloc((size_t)total + 1, 1);
	int ok = 1;
	const char *suffix[2] = { "flows", "health" };
	for (int t = 0; t < 2; t++) {
		char topic[160];
		snprintf(topic, sizeof(topic), "%s.%s", tag, suffix[t]);
		int n = consume(topic, seqs, 200000);
		int prev = -1;
		for (int i = 0; i < n; i++) {
			int q = seqs[i];
			if (q < 0 || q >= total || seen[q] || q <= prev || rtype(q) != (t ? OTS_REC_health : OTS_REC_flow)) {
				if (ok)
					fprintf(stderr, "\n  %s[%d]: seq %d after %d (%s)\n", topic, i, q, prev,
						q < 0 || q >= total ? "bad" : seen[q] ? "duplicate" : "out of order");
				ok = 0;
			}
			if (q >= 0 && q < total)
				seen[q] = 1;
			prev = q;
		}
	}
	int missing = 0;
	for (int q = 0; q < total; q++)
		if (!seen[q] && !(dropped && dropped[q]))
			missing++;
	if (missing) {
		fprintf(stderr, "\n  %s: %d of %d records missing\n", tag, missing, total);
		ok = 0;
	}
	free(seen);
	return ok;
}

/* accepted + what the spool held at open == delivered + failed + dropped + queued + spool now */
static int accounting(struct ots_sink *s, uint64_t spool_at_open)
{
	struct ots_sink_stats st = stats(s);
	int ok = st.accepted + spool_at_open == st.delivered + st.failed + st.dropped + st.queued + st.spool_records;
	if (!ok)
		fprintf(stderr, "\n  accounting: accepted %lu + %lu != delivered %lu failed %lu dropped %lu queued %lu "
				"spool %lu\n",
			(unsigned long)st.accepted, (unsigned long)spool_at_open, (unsigned long)st.delivered,
			(unsigned long)st.failed, (unsigned long)st.dropped, (unsigned long)st.queued,
			(unsigned long)st.spool_records);
	return ok;
}

/* ---- tests ---------------------------------------------------------------------------------------------- */

static void test_delivered(void)
{
	struct ots_config c;
	mkcfg(&c, "deliv");
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->ops->name, "kafka");
	CU_ASSERT_EQUAL(s->ops->wants, OTS_SINK_PB);
	for (int i = 0; i < 700; i++) {
		CU_ASSERT_EQUAL(put_seq(s, i, 50), 0);
		s->ops->poll(s);
	}
	CU_ASSERT(wait_settled(s, 700, 20000));
	struct ots_sink_stats st = stats(s);
	CU_ASSERT_EQUAL(st.accepted, 700);
	CU_ASSERT_EQUAL(st.delivered, 700);
	CU_ASSERT_EQUAL(st.failed + st.dropped + st.spooled + st.replayed + st.queued, 0);
	CU_ASSERT(st.healthy);
	CU_ASSERT_STRING_EQUAL(st.state, "ok");
	CU_ASSERT_EQUAL(s->ops->put(s, OTS_REC_MAX, "k", 1, "v", 1), -EINVAL);
	CU_ASSERT_EQUAL(stats(s).failed, 1);
	CU_ASSERT_EQUAL(s->ops->flush(s, 2000), 0);
	CU_ASSERT(accounting(s, 0));
	s->ops->close(s);
	CU_ASSERT(check_topics("deliv", 700, NULL));
}

static void test_outage_spool_replay(void)
{
	struct ots_config c;
	mkcfg(&c, "outage");
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int seq = 0;
	for (; seq < 100; seq++)
		CU_ASSERT_EQUAL(put_seq(s, seq, 100), 0);
	CU_ASSERT(wait_settled(s, 100, 20000));

	long lo = log_size();
	broker_down(s);
	struct ots_sink_stats st = stats(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(st.state, "broker unreachable since"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "no broker reachable"));
	for (; seq < 3100; seq++) {
		CU_ASSERT_EQUAL(put_seq(s, seq, 100), 0);
		if (seq % 100 == 0)
			s->ops->poll(s);
	}
	st = stats(s);
	CU_ASSERT_EQUAL(st.queued, 1000);     /* the librdkafka bound */
	CU_ASSERT_EQUAL(st.spooled, 2000);    /* the rest went to disk */
	CU_ASSERT_EQUAL(st.spool_records, 2000);
	CU_ASSERT_EQUAL(st.dropped, 0);
	CU_ASSERT_FALSE(st.healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "further records go to the spool"));
	for (int i = 0; i < 200; i++) { /* still down: nothing moves, nothing is lost */
		s->ops->poll(s);
		usleep(1000);
	}
	CU_ASSERT(accounting(s, 0));

	lo = log_size();
	rd_kafka_mock_broker_set_up(mc, 1);
	/* records keep coming while the spool drains: they queue behind it */
	for (; seq < 3300; seq++) {
		CU_ASSERT_EQUAL(put_seq(s, seq, 100), 0);
		s->ops->poll(s);
	}
	CU_ASSERT(wait_settled(s, 3300, 60000));
	st = stats(s);
	CU_ASSERT_EQUAL(st.delivered, 3300);
	CU_ASSERT(st.replayed >= 2000);
	CU_ASSERT_EQUAL(st.replayed, st.spooled);
	CU_ASSERT(st.healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "broker reachable again"));
	CU_ASSERT(accounting(s, 0));
	s->ops->close(s);
	CU_ASSERT(check_topics("outage", 3300, NULL));
}

static void test_shutdown_down_reopen(void)
{
	struct ots_config c;
	mkcfg(&c, "restart");
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int seq = 0;
	for (; seq < 50; seq++)
		CU_ASSERT_EQUAL(put_seq(s, seq, 20), 0);
	CU_ASSERT(wait_settled(s, 50, 20000));
	broker_down(s);
	for (; seq < 1550; seq++) /* 1000 in memory, 500 spooled */
		CU_ASSERT_EQUAL(put_seq(s, seq, 20), 0);
	CU_ASSERT_EQUAL(s->ops->flush(s, 300), 0);
	struct ots_sink_stats st = stats(s);
	CU_ASSERT_EQUAL(st.queued, 0);
	CU_ASSERT_EQUAL(st.spool_records, 1500);
	CU_ASSERT_EQUAL(st.delivered, 50);
	CU_ASSERT(accounting(s, 0));
	s->ops->close(s);

	rd_kafka_mock_broker_set_up(mc, 1);
	long lo = log_size();
	s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "1500 records"));
	CU_ASSERT_EQUAL(stats(s).spool_records, 1500);
	for (; seq < 1800; seq++) /* new records wait behind the old spool */
		CU_ASSERT_EQUAL(put_seq(s, seq, 20), 0);
	CU_ASSERT(wait_settled(s, 1750, 60000));
	st = stats(s);
	CU_ASSERT_EQUAL(st.delivered, 1750);
	CU_ASSERT(accounting(s, 1500));
	s->ops->close(s);
	CU_ASSERT(check_topics("restart", 1800, NULL));
}

static void test_unreachable_at_start(void)
{
	struct ots_config c;
	mkcfg(&c, "unreach");
	snprintf(c.kafka_brokers, sizeof(c.kafka_brokers), "127.0.0.1:1");
	long lo = log_size();
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s); /* not an error */
	CU_ASSERT(stats(s).healthy);
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(put_seq(s, i, 0), 0);
	CU_ASSERT(wait_health(s, 0, 15000));
	struct ots_sink_stats st = stats(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(st.state, "broker unreachable since"));
	CU_ASSERT_PTR_NOT_NULL(strstr(st.state, "Connection refused"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "no broker reachable at 127.0.0.1:1"));
	CU_ASSERT_EQUAL(st.queued, 20);
	CU_ASSERT_EQUAL(s->ops->flush(s, 5000), 0);
	st = stats(s);
	CU_ASSERT_EQUAL(st.spool_records, 20);
	CU_ASSERT_EQUAL(st.queued, 0);
	s->ops->close(s);
	/* the right broker next time: all of it arrives */
	snprintf(c.kafka_brokers, sizeof(c.kafka_brokers), "%s", bootstraps);
	s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(wait_settled(s, 20, 20000));
	s->ops->close(s);
	CU_ASSERT(check_topics("unreach", 20, NULL));
}

static void test_spool_cap(void)
{
	struct ots_config c;
	mkcfg(&c, "cap");
	c.spool_max_mb = 1;
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(put_seq(s, 0, 2000), 0);
	CU_ASSERT(wait_settled(s, 1, 20000));
	broker_down(s);
	long lo = log_size();
	unsigned char dropped[2001] = { 0 };
	int ndrop = 0;
	for (int seq = 1; seq < 2001; seq++) {
		int r = put_seq(s, seq, 2000);
		CU_ASSERT(r == 0 || r == -ENOSPC);
		if (r == -ENOSPC) {
			dropped[seq] = 1;
			ndrop++;
		}
	}
	struct ots_sink_stats st = stats(s);
	CU_ASSERT_EQUAL(st.dropped, (uint64_t)ndrop);
	CU_ASSERT(ndrop > 300);                   /* 1000 in memory, ~515 fit in 1 MiB */
	CU_ASSERT(st.spool_bytes <= (1u << 20));
	CU_ASSERT_FALSE(st.healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "is full (export.spool.max_mb 1)"));
	CU_ASSERT(accounting(s, 0));
	rd_kafka_mock_broker_set_up(mc, 1);
	CU_ASSERT(wait_settled(s, 2001 - (uint64_t)ndrop, 60000));
	st = stats(s);
	CU_ASSERT_EQUAL(st.delivered, 2001 - (uint64_t)ndrop);
	CU_ASSERT(accounting(s, 0));
	s->ops->close(s);
	CU_ASSERT(check_topics("cap", 2001, dropped));
}

static void test_corrupt_spool(void)
{
	struct ots_config c;
	mkcfg(&c, "corrupt");
	/* a spool left by an earlier run: 30 good records, then a torn write */
	struct ots_spool_opts o = { .dir = c.spool_dir, .max_bytes = 1 << 20 };
	struct ots_spool *sp;
	char err[512];
	CU_ASSERT_FATAL(ots_spool_open(&sp, &o, err, sizeof(err)) == 0);
	for (int seq = 0; seq < 30; seq++) {
		char key[16], val[16];
		snprintf(key, sizeof(key), "K%08d", seq);
		snprintf(val, sizeof(val), "S%08d", seq);
		CU_ASSERT_EQUAL(ots_spool_append(sp, rtype(seq), key, 9, val, 9), 0);
	}
	ots_spool_close(sp);
	char path[600];
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", c.spool_dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "OTS1\x40\x00\x00\x00garbage", 15) == 15);
	close(fd);
	long lo = log_size();
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	const char *lg = log_since(lo);
	CU_ASSERT_PTR_NOT_NULL(strstr(lg, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(lg, "skipped 15 bytes"));
	CU_ASSERT_EQUAL(stats(s).spool_records, 30);
	CU_ASSERT(wait_settled(s, 30, 20000));
	CU_ASSERT_EQUAL(stats(s).delivered, 30);
	s->ops->close(s);
	CU_ASSERT(check_topics("corrupt", 30, NULL));
}

static void test_fatal_recovery(void)
{
	struct ots_config c;
	mkcfg(&c, "fatal");
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int seq = 0;
	for (; seq < 100; seq++)
		CU_ASSERT_EQUAL(put_seq(s, seq, 10), 0);
	CU_ASSERT(wait_settled(s, 100, 20000));
	long lo = log_size();
	rd_kafka_t *rk = ots_sink_kafka_handle(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
	CU_ASSERT_EQUAL(rd_kafka_test_fatal_error(rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "test"), 0);
	for (; seq < 300; seq++) {
		CU_ASSERT_EQUAL(put_seq(s, seq, 10), 0);
		if (seq == 150)
			s->ops->poll(s); /* sees the error, re-creates the producer */
	}
	CU_ASSERT(wait_settled(s, 300, 30000));
	const char *lg = log_since(lo);
	CU_ASSERT_PTR_NOT_NULL(strstr(lg, "fatal producer error"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lg, "producer re-created"));
	CU_ASSERT(ots_sink_kafka_handle(s) != NULL);
	CU_ASSERT(stats(s).healthy);
	CU_ASSERT(accounting(s, 0));
	s->ops->close(s);
	CU_ASSERT(check_topics("fatal", 300, NULL));
}

static void test_unknown_topic(void)
{
	struct ots_config c;
	mkcfg(&c, "unknown");
	snprintf(c.kafka_topic_flows, sizeof(c.kafka_topic_flows), "unknown.nosuchtopic");
	snprintf(c.kafka_topic_health, sizeof(c.kafka_topic_health), "unknown.nosuchhealth");
	rd_kafka_mock_topic_set_error(mc, "unknown.nosuchtopic", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	rd_kafka_mock_topic_set_error(mc, "unknown.nosuchhealth", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	add_prop(&c, "topic.metadata.propagation.max.ms", "300");
	struct ots_sink *s = open_sink(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	long lo = log_size();
	for (int seq = 0; seq < 14; seq++) /* 12 flows, 2 health: all fail */
		CU_ASSERT_EQUAL(put_seq(s, seq, 0), 0);
	CU_ASSERT(wait_settled(s, 14, 20000));
	struct ots_sink_stats st = stats(s);
	CU_ASSERT_EQUAL(st.failed, 14);
	CU_ASSERT_EQUAL(st.delivered, 0);
	const char *lg = log_since(lo);
	/* one line per topic, naming the setting to fix */
	const char *l1 = strstr(lg, "topic 'unknown.nosuchtopic' does not exist");
	const char *l2 = strstr(lg, "topic 'unknown.nosuchhealth' does not exist");
	CU_ASSERT(l1 && l2);
	CU_ASSERT(l1 && !strstr(l1 + 1, "topic 'unknown.nosuchtopic' does not exist"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lg, "export.kafka.topic.flows"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lg, "export.kafka.topic.health"));
	s->ops->close(s);
}

static void test_bad_settings(void)
{
	struct ots_config c;
	char err[1024];
	struct {
		const char *name, *value, *want1, *want2;
	} cases[] = {
		{ "no.such.property", "1", "export.kafka.properties.no.such.property", "No such configuration property" },
		{ "linger.ms", "soon", "export.kafka.properties.linger.ms", "linger.ms" },
		{ "acks", "1", "cannot start the producer", "acks" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mkcfg(&c, "bad");
		add_prop(&c, cases[i].name, cases[i].value);
		err[0] = 0;
		struct ots_sink *s = ots_sink_kafka_open(&c, err, sizeof(err));
		CU_ASSERT_PTR_NULL(s);
		if (s)
			s->ops->close(s);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want1));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want2));
		CU_ASSERT_PTR_NULL(strchr(err, '\n'));
		if (!strstr(err, cases[i].want1) || !strstr(err, cases[i].want2))
			fprintf(stderr, "\n  %s=%s: %s\n", cases[i].name, cases[i].value, err);
	}
	/* TLS file that does not exist: checked when the producer starts */
	mkcfg(&c, "badtls");
	add_prop(&c, "security.protocol", "ssl");
	add_prop(&c, "ssl.ca.location", "/nonexistent/ca.pem");
	err[0] = 0;
	CU_ASSERT_PTR_NULL(ots_sink_kafka_open(&c, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ssl.ca.location"));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	/* spool dir that cannot be created */
	mkcfg(&c, "badspool");
	char file[400];
	snprintf(file, sizeof(file), "%s/afile", tmproot);
	FILE *f = fopen(file, "w");
	fclose(f);
	snprintf(c.spool_dir, sizeof(c.spool_dir), "%s/spool", file);
	err[0] = 0;
	CU_ASSERT_PTR_NULL(ots_sink_kafka_open(&c, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "export.spool.dir"));
	/* no brokers */
	mkcfg(&c, "nobroker");
	c.kafka_brokers[0] = 0;
	CU_ASSERT_PTR_NULL(ots_sink_kafka_open(&c, err, sizeof(err)));
}

/* ---- runner --------------------------------------------------------------------------------------------- */

static int suite_init(void)
{
	if (tmplog_open("kafka", getenv("OTS_TEST_DEBUG") ? OTS_LOG_DEBUG : OTS_LOG_INFO) < 0)
		return -1;
	char es[256];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "log_level", "0", es, sizeof(es));
	mrk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof(es));
	if (!mrk)
		return -1;
	mc = rd_kafka_mock_cluster_new(mrk, 1);
	if (!mc)
		return -1;
	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	return 0;
}

static int suite_cleanup(void)
{
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
	return tmplog_close();
}

static const struct ots_test kafka_tests[] = {
	{ "records delivered, in order, once", test_delivered },
	{ "broker down: queue, spool, replay in order", test_outage_spool_replay },
	{ "shutdown while down, reopen replays first", test_shutdown_down_reopen },
	{ "broker unreachable at start", test_unreachable_at_start },
	{ "spool cap: dropped and counted", test_spool_cap },
	{ "corrupt spool tail", test_corrupt_spool },
	{ "fatal producer error: re-created, nothing lost", test_fatal_recovery },
	{ "topic that does not exist", test_unknown_topic },
	{ "bad settings fail open with one line", test_bad_settings },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "kafka sink (mock cluster)", kafka_tests, suite_init, suite_cleanup },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_kafka", suites);
}
