/* dataplane/stats.h - run totals: collected from the workers' counters, printed and written as JSON.
 *
 * Contract: ots_totals_collect() only reads worker counters (safe while they run: 64-bit loads). After the
 * run has drained, received == processed + sum(drops) holds. ots_totals_json() writes the one JSON object that
 * --summary-json documents (README); ots_totals_print() the human summary; ots_stats_line() the periodic line.
 */
#ifndef OTS_STATS_H
#define OTS_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "export/sink.h"

struct ots_worker_totals {
	uint64_t received, processed, bytes, drops, flows_active, flows_created, evicted, forwarded;
};

struct ots_export_totals {
	uint64_t records[OTS_REC_MAX];   /* handed to the exporter by the workers (flow, later asset/alert) */
	uint64_t ring_dropped[OTS_REC_MAX];
	uint64_t emitted[OTS_REC_MAX];   /* given to the sinks by the exporter (health included) */
	uint64_t encode_failed;
	uint64_t boot_id, last_sequence;
	unsigned nsinks;
	const char *sink_names[3];
	struct ots_sink_stats sinks[3];
};

struct ots_totals {
	double seconds;
	uint64_t received;  /* taken from the port by software */
	uint64_t processed;
	uint64_t bytes;
	uint64_t drops[OTS_DROP_MAX];
	struct ots_port_stats port;
	uint64_t events[OTS_DEV_MAX];
	uint64_t l3[OTS_L3_MAX];
	uint64_t no_flow;
	uint64_t multiseg;
	struct ots_flow_stats flows;
	uint64_t flow_insert_failed;
	uint64_t app_flows[OTS_APP_MAX];
	uint64_t app_bytes[OTS_APP_MAX];
	uint64_t pdus[OTS_APP_MAX];
	uint64_t parse_errors[OTS_APP_MAX];
	uint64_t app_rejected[OTS_APP_MAX];
	uint64_t app_state_exhausted;
	uint64_t app_handoffs;
	struct ots_reasm_stats reasm;
	struct ots_detect_stats det;
	unsigned nworkers;
	struct ots_worker_totals w[OTS_MAX_WORKERS];
	int have_export;
	struct ots_export_totals exp;   /* filled by main after the exporter stopped */
};

void ots_totals_collect(struct ots_totals *t, struct ots_worker *const *w, unsigned n);

/* human summary at the end of a run */
void ots_totals_print(const struct ots_totals *t, const char *what, FILE *out);

/* JSON object; 0 or -errno (file not writable) */
int ots_totals_json(const struct ots_totals *t, const char *sensor_id, const char *port, const char *path,
		    struct ots_worker *const *w, unsigned n);

/* one periodic line per worker: rates over the interval since prev */
void ots_stats_lines(const struct ots_totals *now, const struct ots_totals *prev, double dt, FILE *out);

#endif
