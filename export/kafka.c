/* export/kafka.c - the Kafka sink: librdkafka idempotent producer + the on-disk spool (export/spool.h).
 *
 * Delivery design ("nothing lost, nothing twice"):
 *  - enable.idempotence=true, acks=all: librdkafka retries internally and the broker drops retried duplicates,
 *    per partition, in order.
 *  - message.timeout.ms=0 (infinite): a record never times out inside librdkafka. A timeout would be the one
 *    thing that turns "the broker is slow or down" into an error for a record that may already be written
 *    (POSSIBLY_PERSISTED): re-sending it would duplicate, dropping it could lose it. Instead outages are absorbed
 *    by a bounded queue (queue.buffering.max.messages = export.kafka.queue_max_messages) and, beyond it, by the
 *    spool: put() gets RD_KAFKA_RESP_ERR__QUEUE_FULL and appends the record to disk.
 *  - Order: while the spool holds unread records every put() goes to the spool too, so nothing overtakes it; once
 *    replay has handed everything to librdkafka, put() produces directly again (queued behind the replay).
 *    Records produced directly carry a spool mark (ots_spool_mark): if they come back undelivered at shutdown
 *    they are filed at that mark, before what was spooled after them, so the next start sends them in order.
 *  - Replay: poll() reads the spool in order while librdkafka holds fewer than half its bound, producing each
 *    record with its spool ticket as opaque. The delivery report acks the ticket, which marks the record done on
 *    disk (per record, so reports that arrive out of order across partitions are fine); a restart never resends
 *    a record whose delivery was confirmed.
 *  - flush(timeout) at shutdown: deliver (and keep replaying) until the deadline while a broker is reachable;
 *    then rd_kafka_purge(QUEUE): records that never left come back with ERR__PURGE_QUEUE and go to the spool
 *    (replayed ones simply stay there); then wait for the answer to what is in flight until the deadline
 *    (at least 500 ms); only what still has no answer is purged and spooled: that rare case (broker died with
 *    a request in flight during shutdown) may be delivered twice, and is logged with its count.
 *  - Permanent errors (topic does not exist and is not auto-created, record too large, not authorized) fail the
 *    record: counted and logged, never retried in a loop. A fatal idempotence error makes the sink purge the
 *    producer into the spool, re-create it, and go on.
 *  - Broker unreachable is not an error: error_cb's ALL_BROKERS_DOWN flips stats().healthy and state, one
 *    warning line; the first successful delivery flips them back, one info line.
 * All librdkafka callbacks (delivery reports, errors, logs via log.queue) run inside rd_kafka_poll/flush, i.e.
 * on the exporter thread that owns the sink.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "config/log.h"
#include "export/record.h"
#include "export/sink.h"
#include "export/spool.h"
#include "export/util.h"

#define REPLAY_BATCH 10000u     /* records moved from the spool to librdkafka per poll() */
#define FLUSH_INFLIGHT_MIN_MS 500
#define DOWN_REMIND_NS (60ull * 1000000000ull)
#define LOG_EVERY_NS (60ull * 1000000000ull)
#define DROP_UNHEALTHY_NS (10ull * 1000000000ull)

struct ksink {
	struct ots_sink base;
	rd_kafka_t *rk;
	rd_kafka_conf_t *tmpl; /* for re-creating the producer after a fatal error */
	rd_kafka_topic_t *rkt[OTS_REC_MAX];
	char topic[OTS_REC_MAX][128];
	struct ots_spool *sp;
	char brokers[256];
	uint32_t queue_max, low_wm, spool_max_mb;

	uint64_t accepted, delivered, failed, dropped, spooled, replayed;
	uint64_t direct_q, replay_q; /* our records inside librdkafka now */
	uint64_t maybe_dup;

	int ever_up, down;
	time_t down_wall;
	uint64_t down_ns, down_remind_ns;
	char down_why[160], last_transport[160];

	int fatal;
	uint64_t fatal_n, recreate_after_ns;
	char fatal_why[256];

	int overflow_logged;
	uint64_t last_drop_ns, drop_log_ns;
	struct faillog { /* one log line per (error, type) a minute */
		int err, type;
		uint64_t ns;
	} fl[8];
	unsigned fl_next;
	uint64_t err_log_ns;
	int last_err;

	/* records produced directly get a put sequence number; marks[] maps sequence ranges to spool marks */
	uint64_t put_seq;
	struct seqmark {
		uint64_t seq, mark;
	} *marks;
	size_t nmarks, capmarks;
	/* direct records that came back undelivered, filed in put order by back_flush() */
	struct back {
		uint64_t seq;
		int type;
		uint8_t *kv;
		size_t klen, vlen;
	} *bk;
	size_t nbk, capbk;
	int bk_nomem;
};

rd_kafka_t *ots_sink_kafka_handle(struct ots_sink *s); /* tests: the producer, e.g. for rd_kafka_test_fatal_error */

/* opaque per message: bit 0 = 1: replayed from the spool, ticket in the rest;
 *                     bit 0 = 0: produced directly, type in bits 1-8, put sequence number above */
static inline void *op_direct(uint64_t seq, int type)
{
	return (void *)(uintptr_t)((seq << 9) | ((uint64_t)type << 1));
}
static inline void *op_replay(uint64_t ticket)
{
	return (void *)(uintptr_t)((ticket << 1) | 1u);
}

static const char *topic_cfg_key(int type)
{
	static const char *const k[OTS_REC_MAX] = { "export.kafka.topic.assets", "export.kafka.topic.alerts",
						    "export.kafka.topic.flows", "export.kafka.topic.health" };
	return type >= 0 && type < OTS_REC_MAX ? k[type] : "export.kafka.topic.*";
}

static double spool_mb(const struct ksink *ks)
{
	struct ots_spool_stats st;
	ots_spool_stats(ks->sp, &st);
	return (double)st.bytes / 1048576.0;
}

static uint64_t spool_records(const struct ksink *ks)
{
	struct ots_spool_stats st;
	ots_spool_stats(ks->sp, &st);
	return st.records;
}

/* ------------------------------------------------------------------ health */

/* "127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state
 * CONNECT)" -> "127.0.0.1:9092 failed: Connection refused" */
static void short_reason(char *dst, size_t cap, const char *r)
{
	const char *c = strstr(r, ": ");
	if (c && memchr(r, '/', (size_t)(c - r)))
		r = c + 2;
	if (!strncmp(r, "Connect to ", 11)) {
		r += 11;
		if (!strncmp(r, "ipv4#", 5) || !strncmp(r, "ipv6#", 5))
			r += 5;
	}
	size_t n = strlen(r);
	const char *a = strstr(r, " (after ");
	if (a)
		n = (size_t)(a - r);
	snprintf(dst, cap, "%.*s", (int)n, r);
}

static void broker_down(struct ksink *ks, const char *reason)
{
	if (ks->down)
		return;
	ks->down = 1;
	ks->down_wall = time(NULL);
	ks->down_ns = ks->down_remind_ns = ots_mono_ns();
	short_reason(ks->down_why, sizeof(ks->down_why), ks->last_transport[0] ? ks->last_transport : reason);
	OTS_WARN("kafka: no broker reachable at %s (%s): records wait in memory (up to %u) and then in the spool %s; "
		 "they are sent when a broker is back",
		 ks->brokers, ks->down_why, ks->queue_max, ots_spool_dir(ks->sp));
}

static void broker_ok(struct ksink *ks)
{
	ks->ever_up = 1;
	ks->last_transport[0] = 0;
	if (!ks->down)
		return;
	ks->down = 0;
	OTS_INFO("kafka: broker reachable again after %.1f s; %" PRIu64 " records in memory and %" PRIu64
		 " in the spool are being sent",
		 (double)(ots_mono_ns() - ks->down_ns) / 1e9, ks->direct_q + ks->replay_q, spool_records(ks));
}

static void note_drop(struct ksink *ks, int r)
{
	ks->dropped++;
	uint64_t now = ots_mono_ns();
	ks->last_drop_ns = now;
	if (ks->drop_log_ns && now - ks->drop_log_ns < LOG_EVERY_NS)
		return;
	ks->drop_log_ns = now;
	if (r == -ENOSPC)
		OTS_ERR("kafka: spool %s is full (export.spool.max_mb %u): records are dropped (%" PRIu64
			" so far); they are counted in the health records",
			ots_spool_dir(ks->sp), ks->spool_max_mb, ks->dropped);
	else if (r == -EIO)
		OTS_ERR("kafka: cannot write to the spool %s (see the spool error): records are dropped (%" PRIu64
			" so far)",
			ots_spool_dir(ks->sp), ks->dropped);
	else
		OTS_ERR("kafka: cannot spool a record in %s: %s: records are dropped (%" PRIu64 " so far)",
			ots_spool_dir(ks->sp), strerror(-r), ks->dropped);
}

static void note_fail(struct ksink *ks, rd_kafka_resp_err_t err, const char *topic, int type)
{
	ks->failed++;
	uint64_t now = ots_mono_ns();
	struct faillog *f = NULL;
	for (unsigned i = 0; i < sizeof(ks->fl) / sizeof(ks->fl[0]); i++)
		if (ks->fl[i].ns && ks->fl[i].err == (int)err && ks->fl[i].type == type)
			f = &ks->fl[i];
	if (f && now - f->ns < LOG_EVERY_NS)
		return;
	if (!f)
		f = &ks->fl[ks->fl_next++ % (sizeof(ks->fl) / sizeof(ks->fl[0]))];
	*f = (struct faillog){ (int)err, type, now };
	if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
		OTS_ERR("kafka: topic '%s' does not exist and the cluster does not create it: records to it fail "
			"(%" PRIu64 " failed so far); create the topic or set %s to an existing one",
			topic, ks->failed, topic_cfg_key(type));
	else
		OTS_ERR("kafka: a record for topic '%s' failed permanently: %s (%" PRIu64 " failed so far)", topic,
			rd_kafka_err2str(err), ks->failed);
}

/* ------------------------------------------------------------------ librdkafka callbacks */

/* ---- direct records that come back undelivered ---- */

static uint64_t mark_of(const struct ksink *ks, uint64_t seq)
{
	size_t lo = 0, hi = ks->nmarks; /* last entry with .seq <= seq */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (ks->marks[mid].seq <= seq)
			lo = mid;
		else
			hi = mid;
	}
	return ks->nmarks ? ks->marks[lo].mark : 1;
}

static void back_add(struct ksink *ks, uint64_t seq, int type, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	if (ks->nbk == ks->capbk) {
		size_t nc = ks->capbk ? ks->capbk * 2 : 256;
		struct back *n = realloc(ks->bk, nc * sizeof(*n));
		if (!n)
			goto nomem;
		ks->bk = n;
		ks->capbk = nc;
	}
	uint8_t *kv = malloc(klen + vlen + 1);
	if (!kv)
		goto nomem;
	if (klen)
		memcpy(kv, key, klen);
	if (vlen)
		memcpy(kv + klen, val, vlen);
	ks->bk[ks->nbk++] = (struct back){ seq, type, kv, klen, vlen };
	return;
nomem:
	ks->bk_nomem++;
	note_drop(ks, -ENOMEM);
}

static int back_cmp(const void *a, const void *b)
{
	const struct back *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* file them in the spool at their marks, in put order (purge reports need not come in that order) */
static void back_flush(struct ksink *ks)
{
	if (!ks->nbk)
		return;
	qsort(ks->bk, ks->nbk, sizeof(*ks->bk), back_cmp);
	for (size_t i = 0; i < ks->nbk; i++) {
		struct back *b = &ks->bk[i];
		int r = ots_spool_append_at(ks->sp, mark_of(ks, b->seq), b->type, b->kv, b->klen, b->kv + b->klen,
					    b->vlen);
		if (r == 0)
			ks->spooled++;
		else
			note_drop(ks, r);
		free(b->kv);
	}
	ks->nbk = 0;
}

static int retry_later(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: /* only with a user-set message.timeout.ms */
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
	case RD_KAFKA_RESP_ERR__FATAL:
	case RD_KAFKA_RESP_ERR__DESTROY:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
		return 1;
	default:
		return 0;
	}
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct ksink *ks = opaque;
	uintptr_t v = (uintptr_t)m->_private;
	int replay = (int)(v & 1u);
	if (replay)
		ks->replay_q--;
	else
		ks->direct_q--;
	if (!m->err) {
		ks->delivered++;
		if (replay) {
			ks->replayed++;
			ots_spool_ack(ks->sp, (uint64_t)v >> 1);
		}
		broker_ok(ks);
		return;
	}
	if (ks->fatal || retry_later(m->err)) {
		if (rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED)
			ks->maybe_dup++;
		if (replay) {
			ots_spool_nack(ks->sp, (uint64_t)v >> 1); /* still in the spool: sent again later */
			return;
		}
		back_add(ks, (uint64_t)v >> 9, (int)((v >> 1) & 0xffu), m->key, m->key_len, m->payload, m->len);
		return;
	}
	const char *tn = m->rkt ? rd_kafka_topic_name(m->rkt) : "?";
	int type = replay ? -1 : (int)((v >> 1) & 0xffu);
	for (int t = 0; type < 0 && t < OTS_REC_MAX; t++)
		if (!strcmp(tn, ks->topic[t]))
			type = t;
	note_fail(ks, m->err, tn, type);
	if (replay)
		ots_spool_ack(ks->sp, (uint64_t)v >> 1); /* done: a permanent error does not get better */
}

static void set_fatal(struct ksink *ks, rd_kafka_t *rk)
{
	if (ks->fatal)
		return;
	char why[256];
	if (rd_kafka_fatal_error(rk, why, sizeof(why)) == RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(why, sizeof(why), "unknown");
	ks->fatal = 1;
	ks->fatal_n++;
	snprintf(ks->fatal_why, sizeof(ks->fatal_why), "%s", why);
	OTS_ERR("kafka: fatal producer error: %s; the producer is re-created and its undelivered records go to "
		"the spool first",
		why);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct ksink *ks = opaque;
	switch (err) {
	case RD_KAFKA_RESP_ERR__FATAL:
		set_fatal(ks, rk);
		break;
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
		broker_down(ks, reason);
		break;
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__RESOLVE:
		snprintf(ks->last_transport, sizeof(ks->last_transport), "%s", reason);
		OTS_DEBUG("kafka: %s", reason);
		break;
	default: {
		uint64_t now = ots_mono_ns();
		if (err == ks->last_err && ks->err_log_ns && now - ks->err_log_ns < LOG_EVERY_NS)
			break;
		ks->last_err = err;
		ks->err_log_ns = now;
		OTS_ERR("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
		if (err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
			snprintf(ks->last_transport, sizeof(ks->last_transport), "%s", reason);
		break;
	}
	}
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* connection failures and fatal errors arrive through error_cb too; the producer id request is retried
	 * by librdkafka (e.g. "Coordinator load in progress" on a broker that just started) */
	if (!strcmp(fac, "FAIL") || !strcmp(fac, "ERROR") || !strcmp(fac, "FATAL") || level > 4)
		OTS_DEBUG("kafka: librdkafka %s: %s", fac, buf);
	else if (!strcmp(fac, "GETPID"))
		OTS_INFO("kafka: librdkafka %s: %s", fac, buf);
	else
		OTS_WARN("kafka: librdkafka %s: %s", fac, buf);
}

/* ------------------------------------------------------------------ producer */

static rd_kafka_topic_t *topic(struct ksink *ks, int type)
{
	if (!ks->rkt[type])
		ks->rkt[type] = rd_kafka_topic_new(ks->rk, ks->topic[type], NULL);
	return ks->rkt[type];
}

static void producer_destroy(struct ksink *ks)
{
	for (int i = 0; i < OTS_REC_MAX; i++)
		if (ks->rkt[i]) {
			rd_kafka_topic_destroy(ks->rkt[i]);
			ks->rkt[i] = NULL;
		}
	if (ks->rk) {
		rd_kafka_destroy(ks->rk);
		ks->rk = NULL;
	}
}

static int producer_create(struct ksink *ks, char *err, size_t errlen)
{
	char es[512];
	rd_kafka_conf_t *c = rd_kafka_conf_dup(ks->tmpl);
	ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof(es));
	if (!ks->rk) {
		rd_kafka_conf_destroy(c);
		ots_seterr(err, errlen, "kafka: cannot start the producer: %s", es);
		return -EINVAL;
	}
	rd_kafka_set_log_queue(ks->rk, NULL); /* librdkafka's log lines are served by rd_kafka_poll() */
	return 0;
}

/* serve delivery reports until our records are out of librdkafka or the time is up */
static void drain(struct ksink *ks, uint64_t deadline)
{
	while (ks->direct_q + ks->replay_q > 0) {
		uint64_t now = ots_mono_ns();
		if (now >= deadline)
			break;
		uint64_t left = (deadline - now) / 1000000u;
		rd_kafka_poll(ks->rk, left > 20 ? 20 : (int)left + 1);
	}
	while (rd_kafka_poll(ks->rk, 0) > 0)
		;
}

static void purge(struct ksink *ks, int flags)
{
	rd_kafka_purge(ks->rk, flags);
	while (rd_kafka_poll(ks->rk, 0) > 0) /* purged records' delivery reports: to the spool */
		;
}

static void recover(struct ksink *ks)
{
	if (ks->rk) {
		purge(ks, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		drain(ks, ots_mono_ns() + 5000000000ull);
		if (ks->direct_q + ks->replay_q)
			OTS_ERR("kafka: %" PRIu64 " records did not come back from the failed producer",
				ks->direct_q + ks->replay_q);
		ks->direct_q = ks->replay_q = 0;
		back_flush(ks);
		producer_destroy(ks);
	}
	if (ots_mono_ns() < ks->recreate_after_ns)
		return;
	char err[600];
	if (producer_create(ks, err, sizeof(err)) < 0) {
		OTS_ERR("%s; retrying in 5 s (records go to the spool meanwhile)", err);
		ks->recreate_after_ns = ots_mono_ns() + 5000000000ull;
		return;
	}
	ks->fatal = 0;
	OTS_INFO("kafka: producer re-created; sending resumes with the spool (%" PRIu64 " records)",
		 spool_records(ks));
}

static void replay(struct ksink *ks, unsigned max)
{
	if (!ks->rk || ks->fatal)
		return;
	uint64_t inq = ks->direct_q + ks->replay_q;
	if (inq >= ks->low_wm)
		return;
	uint64_t budget = ks->low_wm - inq;
	if (budget > max)
		budget = max;
	struct ots_spool_rec r;
	while (budget-- > 0 && ots_spool_next(ks->sp, &r) == 1) {
		if (r.type < 0 || r.type >= OTS_REC_MAX || !topic(ks, r.type)) {
			ots_spool_ack(ks->sp, r.ticket);
			note_fail(ks, RD_KAFKA_RESP_ERR__INVALID_ARG, "?", r.type);
			continue;
		}
		rd_kafka_resp_err_t e = rd_kafka_producev(
			ks->rk, RD_KAFKA_V_RKT(ks->rkt[r.type]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_KEY(r.klen ? r.key : NULL, r.klen), RD_KAFKA_V_VALUE((void *)r.val, r.vlen),
			RD_KAFKA_V_OPAQUE(op_replay(r.ticket)), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			ks->replay_q++;
			continue;
		}
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL || e == RD_KAFKA_RESP_ERR__FATAL) {
			ots_spool_nack(ks->sp, r.ticket);
			if (e == RD_KAFKA_RESP_ERR__FATAL)
				set_fatal(ks, ks->rk);
			break;
		}
		ots_spool_ack(ks->sp, r.ticket);
		note_fail(ks, e, ks->topic[r.type], r.type);
	}
}

/* ------------------------------------------------------------------ sink ops */

static int to_spool(struct ksink *ks, int type, const void *key, size_t klen, const void *val, size_t vlen)
{
	int r = ots_spool_append(ks->sp, type, key, klen, val, vlen);
	if (r == 0) {
		ks->spooled++;
		return 0;
	}
	note_drop(ks, r);
	return r;
}

static int k_put(struct ots_sink *s, int type, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct ksink *ks = (struct ksink *)s;
	ks->accepted++;
	if (type < 0 || type >= OTS_REC_MAX) {
		ks->failed++;
		return -EINVAL;
	}
	if (!ks->rk || ks->fatal || ots_spool_unread(ks->sp) > 0)
		return to_spool(ks, type, key, klen, val, vlen); /* nothing overtakes the spool */
	rd_kafka_topic_t *t = topic(ks, type);
	if (!t) {
		note_fail(ks, rd_kafka_last_error(), ks->topic[type], type);
		return -EINVAL;
	}
	uint64_t mark = ots_spool_mark(ks->sp);
	if (!ks->nmarks || ks->marks[ks->nmarks - 1].mark != mark) {
		if (ks->nmarks == ks->capmarks) {
			size_t nc = ks->capmarks ? ks->capmarks * 2 : 16;
			struct seqmark *n = realloc(ks->marks, nc * sizeof(*n));
			if (!n)
				return to_spool(ks, type, key, klen, val, vlen);
			ks->marks = n;
			ks->capmarks = nc;
		}
		ks->marks[ks->nmarks++] = (struct seqmark){ ks->put_seq, mark };
	}
	uint64_t seq = ks->put_seq;
	rd_kafka_resp_err_t e = rd_kafka_producev(ks->rk, RD_KAFKA_V_RKT(t), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						  RD_KAFKA_V_KEY(klen ? key : NULL, klen),
						  RD_KAFKA_V_VALUE((void *)val, vlen),
						  RD_KAFKA_V_OPAQUE(op_direct(seq, type)), RD_KAFKA_V_END);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		ks->put_seq++;
		ks->direct_q++;
		ks->overflow_logged = 0;
		return 0;
	}
	if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL || e == RD_KAFKA_RESP_ERR__FATAL) {
		if (e == RD_KAFKA_RESP_ERR__FATAL)
			set_fatal(ks, ks->rk);
		else if (!ks->overflow_logged) {
			ks->overflow_logged = 1;
			OTS_WARN("kafka: %" PRIu64 " records wait in memory (export.kafka.queue_max_messages %u)%s: "
				 "further records go to the spool %s until it is drained",
				 ks->direct_q + ks->replay_q, ks->queue_max,
				 ks->down ? ", no broker reachable" : ", the broker is not keeping up",
				 ots_spool_dir(ks->sp));
		}
		return to_spool(ks, type, key, klen, val, vlen);
	}
	note_fail(ks, e, ks->topic[type], type);
	return e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? -EMSGSIZE : -EIO;
}

static void k_poll(struct ots_sink *s)
{
	struct ksink *ks = (struct ksink *)s;
	if (ks->rk)
		rd_kafka_poll(ks->rk, 0);
	back_flush(ks);
	if (ks->fatal || !ks->rk)
		recover(ks);
	if (ks->direct_q == 0 && ks->nmarks > 1) { /* no direct record left that could need an older mark */
		ks->marks[0] = ks->marks[ks->nmarks - 1];
		ks->nmarks = 1;
	}
	replay(ks, REPLAY_BATCH);
	ots_spool_tick(ks->sp);
	if (ks->down) {
		uint64_t now = ots_mono_ns();
		if (now - ks->down_remind_ns >= DOWN_REMIND_NS) {
			ks->down_remind_ns = now;
			OTS_WARN("kafka: still no broker reachable at %s after %.0f s: %" PRIu64
				 " records in memory, %" PRIu64 " in the spool (%.1f MB), %" PRIu64 " dropped",
				 ks->brokers, (double)(now - ks->down_ns) / 1e9, ks->direct_q + ks->replay_q,
				 spool_records(ks), spool_mb(ks), ks->dropped);
		}
	}
}

static int k_flush(struct ots_sink *s, int timeout_ms)
{
	struct ksink *ks = (struct ksink *)s;
	uint64_t dropped0 = ks->dropped, t0 = ots_mono_ns();
	uint64_t deadline = t0 + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
	if (ks->fatal)
		recover(ks);
	if (ks->rk) {
		/* 1. deliver, and keep replaying the spool, while a broker answers */
		while (!ks->down && !ks->fatal && ots_mono_ns() < deadline &&
		       (ks->direct_q + ks->replay_q > 0 || ots_spool_unread(ks->sp) > 0)) {
			rd_kafka_poll(ks->rk, 10);
			replay(ks, REPLAY_BATCH);
		}
		/* 2. what never left goes to the spool (replayed records are still there) */
		if (ks->direct_q + ks->replay_q > 0)
			purge(ks, RD_KAFKA_PURGE_F_QUEUE);
		/* 3. what is in flight: wait for the broker's answer */
		uint64_t inflight_deadline = deadline;
		if (inflight_deadline < ots_mono_ns() + FLUSH_INFLIGHT_MIN_MS * 1000000ull)
			inflight_deadline = ots_mono_ns() + FLUSH_INFLIGHT_MIN_MS * 1000000ull;
		drain(ks, inflight_deadline);
		/* 4. no answer: spool them too; the broker may have written them */
		uint64_t left = ks->direct_q + ks->replay_q;
		if (left) {
			uint64_t dup0 = ks->maybe_dup;
			purge(ks, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
			OTS_WARN("kafka: %" PRIu64 " records got no answer from the broker by shutdown; they are in the "
				 "spool and %" PRIu64 " of them may be delivered twice",
				 left, ks->maybe_dup - dup0);
		}
	}
	back_flush(ks); /* all of it at once, sorted: purge reports come in batches */
	ots_spool_sync(ks->sp);
	uint64_t n = spool_records(ks);
	if (n)
		OTS_INFO("kafka: %" PRIu64 " records (%.1f MB) wait in the spool %s; they are sent first at the next "
			 "start",
			 n, spool_mb(ks), ots_spool_dir(ks->sp));
	return ks->dropped > dropped0 ? -ENOSPC : 0;
}

static void state_set(struct ots_sink_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void state_set(struct ots_sink_stats *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->state, sizeof(st->state), fmt, ap); /* truncated to the field: one human line */
	va_end(ap);
}

static void k_stats(struct ots_sink *s, struct ots_sink_stats *st)
{
	struct ksink *ks = (struct ksink *)s;
	struct ots_spool_stats ss;
	ots_spool_stats(ks->sp, &ss);
	memset(st, 0, sizeof(*st));
	st->accepted = ks->accepted;
	st->delivered = ks->delivered;
	st->failed = ks->failed;
	st->dropped = ks->dropped;
	st->queued = ks->direct_q + ks->replay_q;
	st->spooled = ks->spooled;
	st->replayed = ks->replayed;
	st->spool_bytes = ss.bytes;
	st->spool_records = ss.records;
	int dropping = ks->last_drop_ns && ots_mono_ns() - ks->last_drop_ns < DROP_UNHEALTHY_NS;
	st->healthy = !ks->down && !ks->fatal && ks->rk && !dropping;
	double mb = (double)ss.bytes / 1048576.0;
	if (ks->fatal || !ks->rk) {
		state_set(st, "producer failed (%.60s); re-creating it, spooling: %" PRIu64
			 " records, %.1f MB", ks->fatal_why, ss.records, mb);
	} else if (ks->down) {
		struct tm tm;
		char ts[16];
		gmtime_r(&ks->down_wall, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		state_set(st, "broker unreachable since %sZ (%.56s), spooling: %" PRIu64
			 " records, %.1f MB", ts, ks->down_why, ss.records, mb);
	} else if (dropping) {
		state_set(st, "spool full (%u MiB): dropping records (%" PRIu64 " so far)",
			 ks->spool_max_mb, ks->dropped);
	} else if (ss.records) {
		state_set(st, "ok, replaying the spool: %" PRIu64 " records, %.1f MB",
			 ss.records, mb);
	} else if (!ks->ever_up && ks->accepted + ss.appended == 0) {
		state_set(st, "ok (nothing sent yet to %.80s)", ks->brokers);
	} else if (!ks->ever_up) {
		state_set(st, "connecting to %.100s", ks->brokers);
	} else {
		state_set(st, "ok");
	}
}

static void k_close(struct ots_sink *s)
{
	struct ksink *ks = (struct ksink *)s;
	if (!ks)
		return;
	if (ks->rk && ks->sp && ks->direct_q + ks->replay_q > 0)
		k_flush(s, 0);
	producer_destroy(ks);
	if (ks->sp)
		back_flush(ks);
	for (size_t i = 0; i < ks->nbk; i++)
		free(ks->bk[i].kv);
	free(ks->bk);
	free(ks->marks);
	if (ks->tmpl)
		rd_kafka_conf_destroy(ks->tmpl);
	ots_spool_close(ks->sp);
	free(ks);
}

static const struct ots_sink_ops kafka_ops = {
	.name = "kafka",
	.wants = OTS_SINK_PB,
	.put = k_put,
	.poll = k_poll,
	.flush = k_flush,
	.stats = k_stats,
	.close = k_close,
};

rd_kafka_t *ots_sink_kafka_handle(struct ots_sink *s)
{
	return s && s->ops == &kafka_ops ? ((struct ksink *)s)->rk : NULL;
}

/* ------------------------------------------------------------------ open */

static int conf_set(rd_kafka_conf_t *c, const char *name, const char *value, int user, char *err, size_t errlen)
{
	char es[512];
	if (rd_kafka_conf_set(c, name, value, es, sizeof(es)) == RD_KAFKA_CONF_OK)
		return 0;
	if (user)
		ots_seterr(err, errlen, "kafka: export.kafka.properties.%s: %s", name, es);
	else
		ots_seterr(err, errlen, "kafka: cannot set %s=%s: %s", name, value, es);
	return -EINVAL;
}

struct ots_sink *ots_sink_kafka_open(const struct ots_config *cfg, char *err, size_t errlen)
{
	if (!cfg->kafka_brokers[0]) {
		ots_seterr(err, errlen, "kafka: no brokers configured (export.kafka.brokers / --kafka)");
		return NULL;
	}
	struct ksink *ks = calloc(1, sizeof(*ks));
	if (!ks) {
		ots_seterr(err, errlen, "kafka: out of memory");
		return NULL;
	}
	ks->base.ops = &kafka_ops;
	snprintf(ks->brokers, sizeof(ks->brokers), "%s", cfg->kafka_brokers);
	const char *tp[OTS_REC_MAX] = { cfg->kafka_topic_assets, cfg->kafka_topic_alerts, cfg->kafka_topic_flows,
					cfg->kafka_topic_health };
	for (int i = 0; i < OTS_REC_MAX; i++)
		snprintf(ks->topic[i], sizeof(ks->topic[i]), "%s", tp[i][0] ? tp[i] : ots_rec_default_topics[i]);
	ks->queue_max = cfg->kafka_queue_messages ? cfg->kafka_queue_messages : 100000;
	ks->low_wm = ks->queue_max / 2 ? ks->queue_max / 2 : 1;
	ks->spool_max_mb = cfg->spool_max_mb;

	char num[32];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	struct {
		const char *k, *v;
	} base[] = {
		{ "bootstrap.servers", cfg->kafka_brokers },
		{ "client.id", cfg->sensor_id[0] ? cfg->sensor_id : "otsense" },
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		{ "compression.type", "lz4" },
		{ "message.timeout.ms", "0" }, /* see the top of this file */
		{ "log.queue", "true" },
		{ "socket.keepalive.enable", "true" },
		{ "reconnect.backoff.max.ms", "2000" },
	};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (conf_set(c, base[i].k, base[i].v, 0, err, errlen) < 0)
			goto fail_conf;
	snprintf(num, sizeof(num), "%u", cfg->kafka_linger_ms);
	if (conf_set(c, "linger.ms", num, 0, err, errlen) < 0)
		goto fail_conf;
	snprintf(num, sizeof(num), "%u", cfg->kafka_batch_messages ? cfg->kafka_batch_messages : 10000);
	if (conf_set(c, "batch.num.messages", num, 0, err, errlen) < 0)
		goto fail_conf;
	snprintf(num, sizeof(num), "%u", ks->queue_max);
	if (conf_set(c, "queue.buffering.max.messages", num, 0, err, errlen) < 0)
		goto fail_conf;
	for (uint32_t i = 0; i < cfg->kafka_nprops && i < OTS_MAX_KAFKA_PROPS; i++)
		if (conf_set(c, cfg->kafka_props[i].name, cfg->kafka_props[i].value, 1, err, errlen) < 0)
			goto fail_conf;
	rd_kafka_conf_set_opaque(c, ks);
	rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
	rd_kafka_conf_set_error_cb(c, error_cb);
	rd_kafka_conf_set_log_cb(c, log_cb);
	ks->tmpl = c;

	struct ots_spool_opts so = {
		.dir = cfg->spool_dir,
		.max_bytes = (uint64_t)cfg->spool_max_mb << 20,
		.fsync_mode = cfg->spool_fsync,
		.fsync_ms = cfg->spool_fsync_ms,
	};
	char serr[600];
	if (ots_spool_open(&ks->sp, &so, serr, sizeof(serr)) < 0) {
		ots_seterr(err, errlen, "kafka: %s", serr);
		goto fail;
	}
	if (producer_create(ks, err, errlen) < 0)
		goto fail;

	struct ots_spool_stats ss;
	ots_spool_stats(ks->sp, &ss);
	static const char *const fs[] = { "never", "interval", "always" };
	OTS_INFO("kafka: producing to %s (topics %s, %s, %s, %s); spool %s (max %u MiB, fsync %s)", ks->brokers,
		 ks->topic[0], ks->topic[1], ks->topic[2], ks->topic[3], ots_spool_dir(ks->sp), cfg->spool_max_mb,
		 cfg->spool_fsync >= 0 && cfg->spool_fsync <= 2 ? fs[cfg->spool_fsync] : "?");
	if (ss.records)
		OTS_INFO("kafka: %" PRIu64 " records (%.1f MB) left in the spool by an earlier run are sent first",
			 ss.records, (double)ss.bytes / 1048576.0);
	return &ks->base;

fail_conf:
	rd_kafka_conf_destroy(c);
fail:
	k_close(&ks->base);
	return NULL;
}
