/* dataplane/exporter.h - the exporter thread: drains the workers' hand-off rings, numbers and encodes the
 * records, gives them to the sinks, and emits SensorHealth.
 *
 * Contract:
 *  - Runs as one plain pthread (off the worker lcores; it shares the main lcore's CPU when cores are few). It
 *    alone owns the sinks (JSON file, protobuf file, Kafka): workers never encode, call librdkafka or block.
 *  - Every record gets (boot_id, sequence): boot_id is random per start, sequence counts 1, 2, 3... in emit
 *    order across all types, so a consumer can check completeness and drop duplicates.
 *  - SensorHealth every export.health_interval seconds and once at stop, filled by the health callback (which
 *    only reads counters).
 *  - ots_exporter_stop() drains the rings completely, emits the last health record, flushes the sinks (Kafka:
 *    undelivered records go to the spool) and closes them.
 */
#ifndef OTS_EXPORTER_H
#define OTS_EXPORTER_H

#include <pthread.h>
#include <stdint.h>

#include "config/config.h"
#include "detect/alertagg.h"
#include "export/inventory.h"
#include "export/record.h"
#include "export/sink.h"

struct rte_ring;

#define OTS_MAX_SINKS 3

typedef void (*ots_health_fn)(void *ud, struct ots_rec_health *h);

struct ots_exporter_stats {
	uint64_t emitted[OTS_REC_MAX];   /* records given to the sinks, by type */
	uint64_t encode_failed;
	uint64_t last_sequence;
	uint64_t observations;           /* asset observations merged into the inventory */
};

struct ots_exporter {
	const struct ots_config *cfg;
	struct rte_ring *rings[OTS_MAX_WORKERS];
	unsigned nrings;
	struct ots_sink *sinks[OTS_MAX_SINKS];
	const char *sink_names[OTS_MAX_SINKS];
	unsigned nsinks;
	uint64_t boot_id;
	uint64_t sequence;
	ots_health_fn health;
	void *health_ud;
	volatile int stop;
	int started;
	pthread_t thread;
	struct ots_exporter_stats st;  /* written by the exporter thread only */
	struct ots_inventory inv;       /* assets, merged from the workers' observations */
	struct ots_oui oui;             /* MAC vendors */
	struct ots_alert_agg agg;       /* alerts merged across workers (TOTAL mode, detect.alert_window) */
	uint64_t clock_ns;              /* latest packet time seen in a record: closes aggregation windows */
	uint8_t *pb;                    /* encode buffers */
	char *json;
};

/* Open the sinks the config asks for (JSON, protobuf file, Kafka). 0 or -errno + one line in err. */
int ots_exporter_init(struct ots_exporter *e, const struct ots_config *cfg, ots_health_fn health, void *ud,
		      char *err, size_t errlen);
int ots_exporter_add_ring(struct ots_exporter *e, struct rte_ring *r);
int ots_exporter_start(struct ots_exporter *e);
/* drain, last health, flush (timeout_ms), close */
void ots_exporter_stop(struct ots_exporter *e, int timeout_ms);
void ots_exporter_fini(struct ots_exporter *e);

/* records waiting in the rings now */
uint64_t ots_exporter_queue_depth(const struct ots_exporter *e);

/* is any sink writing JSON to stdout (then the human summary goes to stderr) */
int ots_exporter_json_on_stdout(const struct ots_config *cfg);

#endif
