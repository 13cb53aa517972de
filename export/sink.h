/* export/sink.h - where encoded records go: JSON lines file, length-delimited protobuf file, Kafka.
 *
 * Contract:
 *  - A sink is owned by the exporter thread; nothing else calls it. put() never blocks for long: the Kafka sink
 *    queues in librdkafka and, when that bounded queue is full or the broker is unreachable, appends to the
 *    on-disk spool (export/spool.h) and replays it in order once deliveries succeed again.
 *  - poll() serves delivery reports and spool replay; call it every exporter loop iteration.
 *  - flush(timeout) at shutdown: waits for outstanding deliveries; whatever is still undelivered goes to the
 *    spool (never silently dropped); the next start replays it.
 *  - stats() is what SensorHealth and the run summary report; state is one human line ("ok",
 *    "broker unreachable since 12:00:03, spooling: ...").
 */
#ifndef OTS_SINK_H
#define OTS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define OTS_SINK_PB   0x1u /* wants protobuf Envelope bytes */
#define OTS_SINK_JSON 0x2u /* wants a JSON line */

struct ots_sink_stats {
	uint64_t accepted;      /* records handed to put() */
	uint64_t delivered;     /* confirmed written (Kafka: delivery report ok) */
	uint64_t failed;        /* permanently failed: logged and counted */
	uint64_t dropped;       /* lost on purpose: spool full */
	uint64_t queued;        /* waiting in memory now (librdkafka queue) */
	uint64_t spooled;       /* records written to the spool, total */
	uint64_t replayed;      /* records sent again from the spool, total */
	uint64_t spool_bytes;   /* spool size now */
	uint64_t spool_records; /* records in the spool now */
	int healthy;            /* 0 while the destination is failing */
	char state[128];
};

struct ots_sink;

struct ots_sink_ops {
	const char *name;
	unsigned wants; /* OTS_SINK_PB or OTS_SINK_JSON */
	/* key may be NULL for file sinks; type is enum ots_rec_type. 0 or -errno (record counted as failed) */
	int (*put)(struct ots_sink *s, int type, const void *key, size_t klen, const void *val, size_t vlen);
	void (*poll)(struct ots_sink *s);
	int (*flush)(struct ots_sink *s, int timeout_ms);
	void (*stats)(struct ots_sink *s, struct ots_sink_stats *st);
	void (*close)(struct ots_sink *s);
};

struct ots_sink {
	const struct ots_sink_ops *ops;
};

/* JSON lines to path ("-" = stdout). */
struct ots_sink *ots_sink_json_open(const char *path, char *err, size_t errlen);
/* varint length + Envelope bytes per record, to path. */
struct ots_sink *ots_sink_pbfile_open(const char *path, char *err, size_t errlen);
/* Kafka (export.kafka.*) with the spool (export.spool.*). A broker that is down is not an error here: the
 * sink starts, reports it in its state, and spools. Bad settings (unknown property, unreadable TLS file,
 * spool dir not writable) are: -errno and one line in err. */
struct ots_sink *ots_sink_kafka_open(const struct ots_config *cfg, char *err, size_t errlen);

#endif
