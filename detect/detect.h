/* detect/detect.h - detection as the worker sees it: signatures + the OT engine -> aggregated alert records.
 *
 * Contract:
 *  - ots_detect_build() runs once at start (main): loads the rule files (skipped rules reported through diag),
 *    compiles them (detect/sigdb.h, with the on-disk cache) and keeps the result read-only for every worker.
 *    0, or -errno with err naming what failed (unreadable rule file, Hyperscan compile error).
 *  - Each worker owns one struct ots_detect_worker (Hyperscan scratch, threshold and aggregation tables) built
 *    before launch; calls on it never allocate and never block. Alerts leave through the emit callback as
 *    struct ots_rec_alert (export/record.h), already aggregated (alertagg.h, DELTA mode).
 *  - Inputs: ots_detect_payload() for every packet payload / in-order TCP chunk (buf may start with carried
 *    stream context: pkt_off bytes); ots_detect_pdu() for every PDU a parser understood (OT engine + rules with
 *    OT keywords). Times are packet times (ns).
 *  - Stable alert id: 32 hex digits over (sensor id, engine, gid:sid or OT definition id, client IP, server IP,
 *    application protocol): the same alert on the same asset pair gets the same id in every run.
 *  - Severity of a signature alert: priority 1 high, 2 medium, 3 low, 4+ info; MITRE ids from
 *    "metadata: mitre_technique Txxxx".
 */
#ifndef OTS_DETECT_H
#define OTS_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/alertagg.h"
#include "detect/rule.h"
#include "detect/sigdb.h"
#include "detect/window.h"
#include "export/record.h"
#include "protocols/app.h"

struct ots_detect_cfg {
	const char *sensor_id;
	const char *const *rule_files;
	unsigned nrule_files;
	struct ots_rule_vars vars;
	const char *cache_dir;        /* "" = no Hyperscan cache */
	uint32_t alert_window_s;      /* aggregation window, 0 = off */
	uint32_t agg_capacity;        /* distinct alerts in open windows, per worker */
	uint32_t threshold_capacity;  /* threshold/detection_filter trackers, per worker */
	bool ot_engine;
};

struct ots_detect {
	struct ots_ruleset rs;
	struct ots_sigdb *db;         /* NULL when no rule loaded */
	struct ots_sigdb_report rep;
	char sensor_id[64];
	uint32_t alert_window_s, agg_capacity, threshold_capacity;
	bool ot_engine;
};

/* the flow as detection sees it: client = initiator */
struct ots_det_flow {
	uint8_t family;               /* 4 or 6 */
	uint8_t l4;                   /* enum ots_rule_l4 */
	uint8_t ip_proto;
	uint8_t established;
	uint16_t app;                 /* enum ots_app_proto */
	uint16_t cport, sport;
	uint8_t cip[16], sip[16];
	uint8_t cmac[6], smac[6];
	uint8_t has_mac;
	uint16_t vlan[2];
};

#define OTS_DETECT_STATS(X)                                                                                    \
	X(scans, "payloads given to the signature engine")                                                     \
	X(scan_bytes, "payload bytes scanned")                                                                 \
	X(pdus, "parsed PDUs checked (OT engine, rules with OT keywords)")                                     \
	X(sig_matches, "rule matches, before threshold and aggregation")                                       \
	X(ot_events, "OT engine events, before aggregation")                                                   \
	X(thresholded, "matches held back by threshold / detection_filter")                                    \
	X(alerts, "occurrences raised (after threshold, before aggregation)")                                  \
	X(aggregated, "occurrences absorbed into an open aggregation window")                                  \
	X(stream_no_state, "TCP payloads scanned without carried context (detect.stream_pool empty)")

struct ots_detect_stats {
#define OTS_X_FIELD(name, help) uint64_t name;
	OTS_DETECT_STATS(OTS_X_FIELD)
#undef OTS_X_FIELD
};

struct ots_detect_worker {
	const struct ots_detect *d;
	struct ots_sigscan *scan;
	struct ots_window_tab thr;
	struct ots_alert_agg agg;
	ots_alert_emit_fn emit;
	void *ud;
	struct ots_detect_stats st;
	/* the call being served (hit callback context) */
	const struct ots_det_flow *f;
	const struct ots_pdu *pdu;
	const uint8_t *buf;
	uint32_t len, pkt_off;
	uint8_t to_server;
	uint64_t now_ns;
	struct ots_rec_alert a;
};

int ots_detect_build(const struct ots_detect_cfg *c, struct ots_detect **out, ots_rule_diag_fn diag, void *ud,
		     char *err, size_t errlen);
void ots_detect_free(struct ots_detect *d);

int ots_detect_worker_init(struct ots_detect_worker *w, const struct ots_detect *d, ots_alert_emit_fn emit,
			   void *ud);
void ots_detect_worker_fini(struct ots_detect_worker *w);

/* 1 when packets of (l4, app) may match a rule: skip building the input otherwise */
static inline int ots_detect_wants(const struct ots_detect_worker *w, uint8_t l4, uint16_t app)
{
	return w->d && w->d->db && ots_sigdb_wants(w->d->db, l4, app);
}

/* bytes of TCP stream context to carry between segments (0: none needed) */
uint32_t ots_detect_overlap(const struct ots_detect *d);

void ots_detect_payload(struct ots_detect_worker *w, const struct ots_det_flow *f, int to_server, const uint8_t *buf,
			uint32_t len, uint32_t pkt_off, uint64_t now_ns);
/* the flow view, built on demand (ud: the caller's context) */
typedef const struct ots_det_flow *(*ots_det_flow_fn)(void *ud);
/* One parsed PDU: OT engine + rules with OT keywords for its code. flow(ud) is called only when one of them may
 * raise something. buf/len: the bytes being parsed when the PDU completed (content options of OT rules look
 * there). */
void ots_detect_pdu(struct ots_detect_worker *w, ots_det_flow_fn flow, void *ud, const struct ots_pdu *p,
		    const uint8_t *buf, uint32_t len, uint64_t now_ns);
/* close aggregation windows that ended (bounded work) */
void ots_detect_tick(struct ots_detect_worker *w, uint64_t now_ns);
/* end of run: emit every open window */
void ots_detect_flush(struct ots_detect_worker *w);

/* the stable id of an alert (32 hex digits + NUL into id) */
void ots_detect_alert_id(const char *sensor_id, int engine, uint32_t gid, uint32_t sid, const struct ots_det_flow *f,
			 char id[33]);

#endif
