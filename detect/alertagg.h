/* detect/alertagg.h - alert hygiene: the same alert is not re-raised within a window, it is aggregated.
 *
 * Contract:
 *  - An alert's identity is its stable id (ots_rec_alert.id, see detect.h): same rule or OT definition on the same
 *    asset pair and protocol = same id, across flows and sensor restarts.
 *  - ots_alert_agg_offer(): the first occurrence of an id in a window is emitted at once; later ones in the same
 *    window are absorbed (counted, first/last time kept) and emitted as one record when the window ends
 *    (ots_alert_agg_tick with the current packet time), when the entry must make room, or at flush.
 *  - Two modes: DELTA (workers): the window-end record carries only the occurrences absorbed since the first
 *    record (count, first/last of those), so an upstream aggregator can add counts; TOTAL (the exporter, which
 *    merges all workers): the window-end record carries the whole window (count = every occurrence, first =
 *    window start), so for a consumer the last record of an id supersedes the earlier ones of that window.
 *  - Fixed capacity, allocated at init; no allocation afterwards. Not thread-safe: one per owner.
 */
#ifndef OTS_ALERTAGG_H
#define OTS_ALERTAGG_H

#include <stdint.h>

#include "detect/window.h"
#include "export/record.h"

enum ots_agg_mode { OTS_AGG_DELTA = 0, OTS_AGG_TOTAL };

typedef void (*ots_alert_emit_fn)(void *ud, const struct ots_rec_alert *a);

struct ots_alert_agg {
	struct ots_window_tab t;
	struct ots_rec_alert *saved; /* parallel to t.e: the record each window is about */
	uint64_t window_ns;
	int mode;
	ots_alert_emit_fn emit;
	void *ud;
	uint64_t offered, emitted, absorbed;
};

/* window_s == 0: no aggregation (every occurrence is emitted). 0 or -ENOMEM */
int ots_alert_agg_init(struct ots_alert_agg *g, uint32_t capacity, uint32_t window_s, int mode,
		       ots_alert_emit_fn emit, void *ud);
void ots_alert_agg_fini(struct ots_alert_agg *g);
/* a->time_ns: (last) occurrence time; a->first_ns: first occurrence; a->count: occurrences it stands for (>= 1) */
void ots_alert_agg_offer(struct ots_alert_agg *g, const struct ots_rec_alert *a);
/* emit windows that ended before now_ns; visits at most max entries */
void ots_alert_agg_tick(struct ots_alert_agg *g, uint64_t now_ns, uint32_t max);
void ots_alert_agg_flush(struct ots_alert_agg *g);

#endif
