/* tools/otsense-cat.c - print otsense records as JSON lines, from Kafka, a length-delimited protobuf file or a
 * spool directory. Each record is decoded with ots_pb_to_json(), so the lines are exactly what the sensor's JSON
 * sink would have written.
 *
 *   otsense-cat -b BROKERS -t TOPIC [-t TOPIC...] [-e] [-c COUNT] [-g GROUP] [--keys] [-X PROP=VALUE...]
 *   otsense-cat -f FILE|- [-c COUNT]
 *   otsense-cat --spool DIR [-c COUNT] [--keys]
 *
 * Exit status: 0 when every record decoded, 1 on any error (bad arguments, Kafka unreachable, unknown topic,
 * a record that is not an otsense Envelope, truncated file). Errors are one line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "export/encode.h"
#include "export/record.h"
#include "export/spool.h"

#define PROG "otsense-cat"
#define MAX_TOPICS 64
#define MAX_PROPS 64

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	const char *brokers, *file, *spool, *group;
	const char *topics[MAX_TOPICS];
	int ntopics;
	const char *props[MAX_PROPS];
	int nprops;
	int eof_exit, keys;
	long long count; /* -1 = all */
	int timeout_s;
};

static unsigned long long printed, bad;
static char last_kafka_err[512];

/* connection failures are summed up in one line by the caller; anything else librdkafka says is shown */
static void cat_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 4 && strcmp(fac, "FAIL") && strcmp(fac, "ERROR"))
		fprintf(stderr, PROG ": librdkafka %s: %s\n", fac, buf);
}

static void cat_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || !last_kafka_err[0])
		snprintf(last_kafka_err, sizeof(last_kafka_err), "%s", reason);
}
static char *jbuf;
static size_t jcap = 1 << 20;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " -b BROKERS -t TOPIC [-t TOPIC...] [-e] [-c COUNT] [-g GROUP] [--keys] [-X PROP=VALUE]\n"
		"       " PROG " -f FILE|- [-c COUNT]\n"
		"       " PROG " --spool DIR [-c COUNT] [--keys]\n"
		"\n"
		"Print otsense records (protobuf Envelopes) as JSON lines, one per record, the same JSON the sensor's\n"
		"JSON sink writes.\n"
		"\n"
		"Sources:\n"
		"  -b, --brokers HOST:PORT[,..]  Kafka bootstrap servers\n"
		"  -t, --topic TOPIC        topic to read, from the beginning (repeatable; e.g. otsense.flows)\n"
		"  -f, --file FILE          length-delimited Envelopes (export.protobuf_file / --protobuf), - = stdin\n"
		"      --spool DIR          records waiting in a sensor's spool (export.spool.dir), read-only\n"
		"\n"
		"Options:\n"
		"  -e, --exit-eof           Kafka: exit once every partition is read to its end (default: keep\n"
		"                           waiting for new records until Ctrl-C)\n"
		"  -c, --count N            stop after N records\n"
		"  -g, --group GROUP        Kafka: consume as consumer group GROUP from its committed offsets (earliest\n"
		"                           when none) and commit; without -g every partition is read from offset 0\n"
		"                           and nothing is committed\n"
		"      --keys               wrap each line: {\"key\":...,\"topic\":...,\"partition\":N,\"offset\":N,\n"
		"                           \"value\":RECORD} (spool: {\"key\":...,\"type\":...,\"value\":RECORD})\n"
		"  -X, --property P=V       librdkafka consumer property (TLS, SASL, ...), repeatable\n"
		"      --timeout SEC        Kafka: give up when the cluster does not answer (default 10)\n"
		"  -h, --help               this help\n"
		"\n"
		"Exit status: 0 when every record decoded, 1 on any error.\n");
}

/* ---- output -------------------------------------------------------------------------------------------- */

static void put_jstr(const void *p, size_t n)
{
	const unsigned char *s = p;
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c); /* keys are ASCII; anything else is shown byte by byte */
		else
			putchar(c);
	}
	putchar('"');
}

/* decode one Envelope into jbuf; -EBADMSG when it is not one */
static int to_json(const void *pb, size_t len)
{
	for (;;) {
		int n = ots_pb_to_json(pb, len, jbuf, jcap);
		if (n != -ENOBUFS)
			return n;
		jcap *= 4;
		if (jcap > (256u << 20) || !(jbuf = realloc(jbuf, jcap)))
			die("out of memory decoding a %zu-byte record", len);
	}
}

/* ---- Kafka --------------------------------------------------------------------------------------------- */

struct eofset {
	char (*topic)[256];
	int32_t *part;
	int n, cap;
};

static int eof_find(struct eofset *e, const char *topic, int32_t p)
{
	for (int i = 0; i < e->n; i++)
		if (e->part[i] == p && !strcmp(e->topic[i], topic))
			return i;
	return -1;
}

static void eof_set(struct eofset *e, const char *topic, int32_t p, int on)
{
	int i = eof_find(e, topic, p);
	if (on && i < 0) {
		if (e->n == e->cap) {
			e->cap = e->cap ? e->cap * 2 : 64;
			e->topic = realloc(e->topic, (size_t)e->cap * sizeof(*e->topic));
			e->part = realloc(e->part, (size_t)e->cap * sizeof(*e->part));
			if (!e->topic || !e->part)
				die("out of memory");
		}
		snprintf(e->topic[e->n], sizeof(e->topic[0]), "%s", topic);
		e->part[e->n++] = p;
	} else if (!on && i >= 0) {
		e->n--;
		memmove(e->topic[i], e->topic[e->n], sizeof(e->topic[0]));
		e->part[i] = e->part[e->n];
	}
}

/* every partition of the assignment has reached its end */
static int all_eof(rd_kafka_t *rk, struct eofset *e)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	if (rd_kafka_assignment(rk, &a) || !a)
		return 0;
	int done = a->cnt > 0;
	for (int i = 0; done && i < a->cnt; i++)
		done = eof_find(e, a->elems[i].topic, a->elems[i].partition) >= 0;
	rd_kafka_topic_partition_list_destroy(a);
	return done;
}

static void print_kafka(const rd_kafka_message_t *m, int keys)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	int n = to_json(m->payload, m->len);
	if (n < 0) {
		bad++;
		fprintf(stderr, PROG ": %s [%" PRId32 "] offset %" PRId64 ": not an otsense record (%zu bytes)\n", topic,
			m->partition, m->offset, m->len);
		return;
	}
	if (keys) {
		fputs("{\"key\":", stdout);
		if (m->key)
			put_jstr(m->key, m->key_len);
		else
			fputs("null", stdout);
		fputs(",\"topic\":", stdout);
		put_jstr(topic, strlen(topic));
		printf(",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"value\":", m->partition, m->offset);
		fwrite(jbuf, 1, (size_t)n, stdout);
		fputs("}\n", stdout);
	} else {
		fwrite(jbuf, 1, (size_t)n, stdout);
		putchar('\n');
	}
	printed++;
}

static int run_kafka(const struct opts *o)
{
	char es[512];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char gid[64];
	snprintf(gid, sizeof(gid), "otsense-cat-%ld", (long)getpid());
	struct {
		const char *k, *v;
	} base[] = {
		{ "bootstrap.servers", o->brokers },
		{ "group.id", o->group ? o->group : gid },
		{ "enable.auto.commit", o->group ? "true" : "false" },
		{ "auto.offset.reset", "earliest" },
		{ "enable.partition.eof", "true" },
		{ "client.id", PROG },
	};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (rd_kafka_conf_set(c, base[i].k, base[i].v, es, sizeof(es)) != RD_KAFKA_CONF_OK)
			die("%s: %s", base[i].k, es);
	for (int i = 0; i < o->nprops; i++) {
		char name[256];
		const char *eq = strchr(o->props[i], '=');
		if (!eq || eq == o->props[i] || (size_t)(eq - o->props[i]) >= sizeof(name))
			die("-X %s: want PROPERTY=VALUE", o->props[i]);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->props[i]), o->props[i]);
		if (rd_kafka_conf_set(c, name, eq + 1, es, sizeof(es)) != RD_KAFKA_CONF_OK)
			die("-X %s: %s", name, es);
	}
	rd_kafka_conf_set_log_cb(c, cat_log_cb);
	rd_kafka_conf_set_error_cb(c, cat_error_cb);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, es, sizeof(es));
	if (!rk)
		die("cannot create the Kafka consumer: %s", es);

	/* the cluster must answer and know every topic */
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_s * 1000);
	if (err)
		rd_kafka_poll(rk, 100); /* the connection errors, for the message */
	if (err)
		die("cannot reach Kafka at %s within %d s: %s", o->brokers, o->timeout_s,
		    last_kafka_err[0] ? last_kafka_err : rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(16);
	for (int t = 0; t < o->ntopics; t++) {
		const struct rd_kafka_metadata_topic *mt = NULL;
		for (int i = 0; i < md->topic_cnt; i++)
			if (!strcmp(md->topics[i].topic, o->topics[t]))
				mt = &md->topics[i];
		if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || mt->partition_cnt == 0)
			die("topic '%s' does not exist on %s", o->topics[t], o->brokers);
		if (mt->err)
			die("topic '%s': %s", o->topics[t], rd_kafka_err2str(mt->err));
		for (int p = 0; p < mt->partition_cnt; p++)
			rd_kafka_topic_partition_list_add(assign, o->topics[t], mt->partitions[p].id)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_metadata_destroy(md);
	rd_kafka_poll_set_consumer(rk);

	if (o->group) {
		rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(o->ntopics);
		for (int t = 0; t < o->ntopics; t++)
			rd_kafka_topic_partition_list_add(sub, o->topics[t], RD_KAFKA_PARTITION_UA);
		err = rd_kafka_subscribe(rk, sub);
		rd_kafka_topic_partition_list_destroy(sub);
	} else {
		err = rd_kafka_assign(rk, assign);
	}
	rd_kafka_topic_partition_list_destroy(assign);
	if (err)
		die("cannot %s: %s", o->group ? "subscribe" : "assign the partitions", rd_kafka_err2str(err));

	struct eofset eof = { 0 };
	int rc = 0;
	while (!stop && (o->count < 0 || (long long)printed < o->count)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m) {
			fflush(stdout);
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eof_set(&eof, rd_kafka_topic_name(m->rkt), m->partition, 1);
			rd_kafka_message_destroy(m);
			if (o->eof_exit && all_eof(rk, &eof))
				break;
			continue;
		}
		if (m->err) {
			const char *what = rd_kafka_message_errstr(m);
			if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
			    m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || rd_kafka_fatal_error(rk, NULL, 0)) {
				fprintf(stderr, PROG ": %s\n", what);
				rd_kafka_message_destroy(m);
				rc = 1;
				break;
			}
			fprintf(stderr, PROG ": %s (continuing)\n", what);
			rd_kafka_message_destroy(m);
			continue;
		}
		eof_set(&eof, rd_kafka_topic_name(m->rkt), m->partition, 0);
		print_kafka(m, o->keys);
		rd_kafka_message_destroy(m);
	}
	fflush(stdout);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(eof.topic);
	free(eof.part);
	return rc;
}

/* ---- length-delimited file ----------------------------------------------------------------------------- */

static int run_file(const struct opts *o)
{
	FILE *f = strcmp(o->file, "-") ? fopen(o->file, "rb") : stdin;
	if (!f)
		die("%s: %s", o->file, strerror(errno));
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	if (!buf)
		die("out of memory");
	uint64_t off = 0;
	int rc = 0;
	while (!stop && (o->count < 0 || (long long)printed < o->count)) {
		uint64_t len = 0;
		int shift = 0, c = 0, nb = 0;
		while ((c = getc(f)) != EOF) {
			nb++;
			len |= (uint64_t)(c & 0x7f) << shift;
			if (!(c & 0x80))
				break;
			shift += 7;
			if (shift > 63)
				break;
		}
		if (c == EOF && nb == 0)
			break; /* clean end */
		if (c == EOF || (c & 0x80) || len > (64u << 20)) {
			fprintf(stderr, PROG ": %s: bad or truncated length prefix at offset %" PRIu64 "\n", o->file, off);
			rc = 1;
			break;
		}
		if (len > cap) {
			cap = (size_t)len;
			if (!(buf = realloc(buf, cap)))
				die("out of memory");
		}
		size_t got = fread(buf, 1, (size_t)len, f);
		if (got != len) {
			fprintf(stderr, PROG ": %s: truncated record at offset %" PRIu64 " (%zu of %" PRIu64 " bytes)\n",
				o->file, off, got, len);
			rc = 1;
			break;
		}
		int n = to_json(buf, (size_t)len);
		if (n < 0) {
			bad++;
			fprintf(stderr, PROG ": %s: record at offset %" PRIu64 " is not an otsense record (%" PRIu64
					" bytes)\n",
				o->file, off, len);
		} else {
			fwrite(jbuf, 1, (size_t)n, stdout);
			putchar('\n');
			printed++;
		}
		off += (uint64_t)nb + len;
	}
	if (ferror(f)) {
		fprintf(stderr, PROG ": %s: %s\n", o->file, strerror(errno));
		rc = 1;
	}
	if (f != stdin)
		fclose(f);
	free(buf);
	return rc;
}

/* ---- spool --------------------------------------------------------------------------------------------- */

static int run_spool(const struct opts *o)
{
	struct ots_spool_opts so = { .dir = o->spool, .readonly = 1 };
	struct ots_spool *sp;
	char err[600];
	if (ots_spool_open(&sp, &so, err, sizeof(err)) < 0)
		die("%s", err);
	struct ots_spool_rec r;
	int g;
	while (!stop && (o->count < 0 || (long long)printed < o->count) && (g = ots_spool_next(sp, &r)) == 1) {
		int n = to_json(r.val, r.vlen);
		if (n < 0) {
			bad++;
			fprintf(stderr, PROG ": %s: a spooled record (type %d, %zu bytes) is not an otsense record\n",
				o->spool, r.type, r.vlen);
			continue;
		}
		if (o->keys) {
			fputs("{\"key\":", stdout);
			put_jstr(r.key, r.klen);
			const char *tn = r.type >= 0 && r.type < OTS_REC_MAX ? ots_rec_type_names[r.type] : "?";
			fputs(",\"type\":", stdout);
			put_jstr(tn, strlen(tn));
			fputs(",\"value\":", stdout);
			fwrite(jbuf, 1, (size_t)n, stdout);
			fputs("}\n", stdout);
		} else {
			fwrite(jbuf, 1, (size_t)n, stdout);
			putchar('\n');
		}
		printed++;
	}
	ots_spool_close(sp);
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct opts o = { .count = -1, .timeout_s = 10 };
	enum { O_SPOOL = 256, O_KEYS, O_TIMEOUT };
	static const struct option lo[] = {
		{ "brokers", required_argument, NULL, 'b' }, { "topic", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },    { "spool", required_argument, NULL, O_SPOOL },
		{ "exit-eof", no_argument, NULL, 'e' },      { "count", required_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },   { "keys", no_argument, NULL, O_KEYS },
		{ "property", required_argument, NULL, 'X' }, { "timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "b:t:f:ec:g:X:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o.brokers = optarg; break;
		case 't':
			if (o.ntopics == MAX_TOPICS)
				die("at most %d topics", MAX_TOPICS);
			o.topics[o.ntopics++] = optarg;
			break;
		case 'f': o.file = optarg; break;
		case O_SPOOL: o.spool = optarg; break;
		case 'e': o.eof_exit = 1; break;
		case 'c':
			errno = 0;
			o.count = strtoll(optarg, &end, 10);
			if (errno || *end || o.count < 0)
				die("-c %s: want a number of records", optarg);
			break;
		case 'g': o.group = optarg; break;
		case O_KEYS: o.keys = 1; break;
		case 'X':
			if (o.nprops == MAX_PROPS)
				die("at most %d -X properties", MAX_PROPS);
			o.props[o.nprops++] = optarg;
			break;
		case O_TIMEOUT:
			o.timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || o.timeout_s <= 0)
				die("--timeout %s: want seconds > 0", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, PROG ": see " PROG " --help\n");
			return 1;
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'; see " PROG " --help", argv[optind]);
	int sources = !!o.brokers + !!o.file + !!o.spool;
	if (sources != 1)
		die("give exactly one source: -b BROKERS -t TOPIC, -f FILE or --spool DIR; see " PROG " --help");
	if (o.brokers && !o.ntopics)
		die("-b needs at least one -t TOPIC (e.g. -t otsense.flows)");
	if (!o.brokers && (o.ntopics || o.group || o.eof_exit || o.nprops))
		die("-t, -g, -e and -X are for Kafka (-b BROKERS)");

	if (!(jbuf = malloc(jcap)))
		die("out of memory");
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);

	int rc = o.brokers ? run_kafka(&o) : o.file ? run_file(&o) : run_spool(&o);
	fflush(stdout);
	if (ferror(stdout))
		die("writing the output: %s", strerror(errno));
	if (bad)
		fprintf(stderr, PROG ": %llu of %llu records were not otsense records\n", bad, bad + printed);
	free(jbuf);
	return rc || bad ? 1 : 0;
}
