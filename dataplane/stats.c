/* dataplane/stats.c - totals, summary and periodic stats (see stats.h). */
#include "dataplane/stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/encode.h"
#include "export/jsonw.h"

static const char *const l3_names[OTS_L3_MAX] = { "none", "arp", "ipv4", "ipv6", "other" };
static const char *const end_names[OTS_END_MAX] = { "timeout", "evicted", "reused", "shutdown" };

void ots_totals_collect(struct ots_totals *t, struct ots_worker *const *ws, unsigned n)
{
	struct ots_port_stats port = t->port;
	double secs = t->seconds;
	struct ots_export_totals exp = t->exp;
	int have_export = t->have_export;
	memset(t, 0, sizeof(*t));
	t->port = port;
	t->seconds = secs;
	t->exp = exp;
	t->have_export = have_export;
	t->nworkers = n;
	memset(t->exp.records, 0, sizeof(t->exp.records));
	memset(t->exp.ring_dropped, 0, sizeof(t->exp.ring_dropped));
	for (unsigned i = 0; i < n; i++) {
		const struct ots_worker *w = ws[i];
		const struct ots_worker_stats *s = &w->st;
		struct ots_worker_totals *wt = &t->w[i];
		t->received += s->rx_port;
		t->processed += s->processed;
		t->bytes += s->bytes;
		t->no_flow += s->no_flow;
		t->multiseg += s->multiseg;
		t->flow_insert_failed += s->flow_insert_failed;
		wt->received = s->rx_port + s->rx_ring;
		wt->processed = s->processed;
		wt->bytes = s->bytes;
		wt->forwarded = s->forwarded;
		for (int d = 0; d < OTS_DROP_MAX; d++) {
			t->drops[d] += s->drops[d];
			wt->drops += s->drops[d];
		}
		for (int e = 0; e < OTS_DEV_MAX; e++)
			t->events[e] += s->events[e];
		for (int l = 0; l < OTS_L3_MAX; l++)
			t->l3[l] += s->l3[l];
		for (int a = 0; a < OTS_APP_MAX; a++) {
			t->app_flows[a] += s->app_flows[a];
			t->app_bytes[a] += s->app_bytes[a];
			t->pdus[a] += s->pdus[a];
			t->parse_errors[a] += s->parse_errors[a];
			t->app_rejected[a] += s->app_rejected[a];
		}
		t->app_state_exhausted += s->app_state_exhausted;
		t->app_handoffs += s->app_handoffs;
#define OTS_X_SUM(name, help) t->det.name += w->det.st.name;
		OTS_DETECT_STATS(OTS_X_SUM)
#undef OTS_X_SUM
		const struct ots_flow_stats *f = &w->ft.st;
		t->flows.created += f->created;
		for (int k = 0; k < 3; k++)
			t->flows.by_proto[k] += f->by_proto[k];
		for (int k = 0; k < OTS_END_MAX; k++)
			t->flows.ended[k] += f->ended[k];
		t->flows.active += f->active;
		t->flows.lookups += f->lookups;
		wt->flows_active = f->active;
		wt->flows_created = f->created;
		wt->evicted = f->ended[OTS_END_EVICTED];
		for (int k = 0; k < OTS_REC_MAX; k++) {
			t->exp.records[k] += s->records[k];
			t->exp.ring_dropped[k] += s->records_dropped[k];
		}
		const struct ots_reasm_stats *r = &w->rst;
		t->reasm.delivered_bytes += r->delivered_bytes;
		t->reasm.ooo_segments += r->ooo_segments;
		t->reasm.overlap_bytes += r->overlap_bytes;
		t->reasm.gaps += r->gaps;
		t->reasm.gap_bytes += r->gap_bytes;
		t->reasm.midstream += r->midstream;
		t->reasm.pool_exhausted += r->pool_exhausted;
		t->reasm.cap_reached += r->cap_reached;
	}
}

static uint64_t sum_drops(const struct ots_totals *t)
{
	uint64_t d = 0;
	for (int i = 0; i < OTS_DROP_MAX; i++)
		d += t->drops[i];
	return d;
}

static int cmp_desc(const void *a, const void *b, void *ctx)
{
	const uint64_t *v = ctx;
	uint64_t x = v[*(const int *)a], y = v[*(const int *)b];
	return x < y ? 1 : x > y ? -1 : 0;
}

void ots_totals_print(const struct ots_totals *t, const char *what, FILE *out)
{
	double s = t->seconds > 0 ? t->seconds : 1e-9;
	fprintf(out, "otsense: %s: %llu packets, %llu bytes in %.3f s (%.3f Mpps, %.3f Gbit/s)\n", what,
		(unsigned long long)t->processed, (unsigned long long)t->bytes, t->seconds, t->processed / s / 1e6,
		t->bytes * 8.0 / s / 1e9);
	fprintf(out, "  flows: %llu (tcp %llu, udp %llu, other %llu); evicted %llu, timed out %llu\n",
		(unsigned long long)t->flows.created, (unsigned long long)t->flows.by_proto[0],
		(unsigned long long)t->flows.by_proto[1], (unsigned long long)t->flows.by_proto[2],
		(unsigned long long)t->flows.ended[OTS_END_EVICTED], (unsigned long long)t->flows.ended[OTS_END_TIMEOUT]);
	int order[OTS_APP_MAX];
	for (int i = 0; i < OTS_APP_MAX; i++)
		order[i] = i;
	qsort_r(order, OTS_APP_MAX, sizeof(int), cmp_desc, (void *)t->app_flows);
	fprintf(out, "  flows by app protocol:");
	for (int i = 0; i < OTS_APP_MAX && t->app_flows[order[i]]; i++)
		fprintf(out, " %s %llu", ots_app_name((uint16_t)order[i]), (unsigned long long)t->app_flows[order[i]]);
	fprintf(out, "\n  decode events:");
	int any = 0;
	for (int e = 0; e < OTS_DEV_MAX; e++)
		if (t->events[e]) {
			fprintf(out, " %s %llu", ots_decode_event_names[e], (unsigned long long)t->events[e]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	fprintf(out, "  tcp reassembly: %llu bytes in order, %llu out-of-order segments, %llu gaps (%llu bytes), "
		"%llu streams picked up mid-connection\n", (unsigned long long)t->reasm.delivered_bytes,
		(unsigned long long)t->reasm.ooo_segments, (unsigned long long)t->reasm.gaps,
		(unsigned long long)t->reasm.gap_bytes, (unsigned long long)t->reasm.midstream);
	fprintf(out, "  accounting: received %llu = processed %llu + dropped %llu", (unsigned long long)t->received,
		(unsigned long long)t->processed, (unsigned long long)sum_drops(t));
	for (int d = 0; d < OTS_DROP_MAX; d++)
		if (t->drops[d])
			fprintf(out, " (%s %llu)", ots_drop_names[d], (unsigned long long)t->drops[d]);
	fprintf(out, "; port imissed %llu, ierrors %llu, no mbuf %llu\n", (unsigned long long)t->port.imissed,
		(unsigned long long)t->port.ierrors, (unsigned long long)t->port.nombuf);
	fprintf(out, "  detection: %llu payloads scanned (%llu bytes), %llu rule matches (%llu held by thresholds), "
		"%llu OT operations, %llu alerts raised, %llu aggregated into open windows\n",
		(unsigned long long)t->det.scans, (unsigned long long)t->det.scan_bytes,
		(unsigned long long)t->det.sig_matches, (unsigned long long)t->det.thresholded,
		(unsigned long long)t->det.ot_events, (unsigned long long)t->det.alerts,
		(unsigned long long)t->det.aggregated);
	if (!t->have_export)
		return;
	fprintf(out, "  records:");
	for (int k = 0; k < OTS_REC_MAX; k++)
		fprintf(out, " %s %llu", ots_rec_type_names[k], (unsigned long long)t->exp.emitted[k]);
	uint64_t rd = 0;
	for (int k = 0; k < OTS_REC_MAX; k++)
		rd += t->exp.ring_dropped[k];
	fprintf(out, " (ring drops %llu)\n", (unsigned long long)rd);
	for (unsigned i = 0; i < t->exp.nsinks; i++) {
		const struct ots_sink_stats *ss = &t->exp.sinks[i];
		fprintf(out, "  sink %s: %llu delivered, %llu failed, %llu dropped, %llu spooled, %llu replayed; %s\n",
			t->exp.sink_names[i], (unsigned long long)ss->delivered, (unsigned long long)ss->failed,
			(unsigned long long)ss->dropped, (unsigned long long)ss->spooled,
			(unsigned long long)ss->replayed, ss->state);
	}
}

static const char *const attr_names[OTS_ATTR_MAX] = { "name", "vendor", "model", "firmware", "serial", "hostname",
						      "product_code", "device_type", "os", "description" };

static void fmt_ip(uint8_t family, const uint8_t *ip, char *buf, size_t n)
{
	struct ots_addr a = { .family = family };
	memcpy(a.ip, ip, 16);
	ots_fmt_ip(&a, buf, n);
}

/* PDUs merged over the workers, identities, protocol events */
static void app_json(struct jw *w, struct ots_worker *const *ws, unsigned n)
{
	struct ots_pducount all;
	uint64_t cap = 0;
	for (unsigned i = 0; i < n; i++)
		cap += ws[i]->pdus.used;
	char a[64], b[64];
	jw_arr_open(w, "pdus");
	if (ots_pducount_init(&all, (uint32_t)(cap * 2 + 1024)) == 0) {
		for (unsigned i = 0; i < n; i++)
			for (uint32_t k = 0; k <= ws[i]->pdus.mask && ws[i]->pdus.slots; k++)
				if (ws[i]->pdus.slots[k].n)
					ots_pducount_add(&all, &ws[i]->pdus.slots[k].k, ws[i]->pdus.slots[k].n);
		for (uint32_t k = 0; k <= all.mask; k++) {
			const struct ots_pdu_count *c = &all.slots[k];
			if (!c->n)
				continue;
			fmt_ip(c->k.family, c->k.src, a, sizeof(a));
			fmt_ip(c->k.family, c->k.dst, b, sizeof(b));
			jw_obj_open(w, NULL);
			jw_str(w, "protocol", ots_app_name(c->k.proto));
			jw_str(w, "src", a);
			jw_str(w, "dst", b);
			jw_u64(w, "unit", c->k.unit);
			jw_u64(w, "code", c->k.code);
			jw_str(w, "kind", c->k.kind < OTS_PDU_KIND_MAX ? ots_pdu_kind_names[c->k.kind] : "?");
			jw_u64(w, "count", c->n);
			jw_obj_close(w);
		}
		ots_pducount_fini(&all);
	}
	jw_arr_close(w);
	jw_arr_open(w, "identities");
	for (unsigned i = 0; i < n; i++)
		for (uint32_t k = 0; k < ws[i]->nids; k++) {
			const struct ots_identity_fact *f = &ws[i]->ids[k];
			int dup = 0; /* the same fact from another worker */
			for (unsigned j = 0; j < i && !dup; j++)
				for (uint32_t m = 0; m < ws[j]->nids && !dup; m++)
					dup = !memcmp(&ws[j]->ids[m], f, sizeof(*f));
			if (dup)
				continue;
			fmt_ip(f->family, f->ip, a, sizeof(a));
			jw_obj_open(w, NULL);
			jw_str(w, "protocol", ots_app_name(f->proto));
			jw_str(w, "ip", a);
			if (f->has_mac) {
				snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", f->mac[0], f->mac[1], f->mac[2],
					 f->mac[3], f->mac[4], f->mac[5]);
				jw_str(w, "mac", b);
			}
			jw_str(w, "kind", f->kind < OTS_ATTR_MAX ? attr_names[f->kind] : "?");
			jw_str(w, "value", f->value);
			jw_u64(w, "confidence", f->confidence);
			jw_obj_close(w);
		}
	jw_arr_close(w);
	jw_obj_open(w, "protocol_events");
	for (int p = 0; p < OTS_APP_MAX; p++) {
		const struct ots_parser *ps = ots_protocols[p].parser;
		uint64_t any = 0;
		for (unsigned i = 0; i < n; i++)
			any += ws[i]->st.parse_errors[p];
		if (!ps || !any)
			continue;
		jw_obj_open(w, ots_app_name((uint16_t)p));
		for (unsigned e = 0; e < OTS_MAX_PROTO_EVENTS; e++) {
			uint64_t v = 0;
			for (unsigned i = 0; i < n; i++)
				v += ws[i]->st.proto_events[p][e];
			if (v)
				jw_u64(w, e < ps->nevents && ps->events[e] ? ps->events[e] : "other", v);
		}
		jw_obj_close(w);
	}
	jw_obj_close(w);
	uint64_t full = 0;
	for (unsigned i = 0; i < n; i++)
		full += ws[i]->pdus.full;
	jw_u64(w, "pdu_counters_full", full);
}

int ots_totals_json(const struct ots_totals *t, const char *sensor_id, const char *port, const char *path,
		    struct ots_worker *const *ws, unsigned nw)
{
	size_t cap = 256 * 1024;
	for (unsigned i = 0; i < nw; i++)
		cap += (size_t)ws[i]->pdus.used * 256 + (size_t)ws[i]->nids * 256;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	struct jw w;
	jw_init(&w, buf, cap);
	jw_obj_open(&w, NULL);
	jw_str(&w, "sensor_id", sensor_id);
	jw_str(&w, "port", port);
	jw_dbl(&w, "seconds", t->seconds);
	jw_u64(&w, "packets", t->processed);
	jw_u64(&w, "bytes", t->bytes);
	jw_u64(&w, "received", t->received);
	jw_u64(&w, "processed", t->processed);
	jw_u64(&w, "dropped", sum_drops(t));
	jw_obj_open(&w, "drops");
	for (int d = 0; d < OTS_DROP_MAX; d++)
		jw_u64(&w, ots_drop_names[d], t->drops[d]);
	jw_u64(&w, "port_imissed", t->port.imissed);
	jw_u64(&w, "port_ierrors", t->port.ierrors);
	jw_u64(&w, "port_nombuf", t->port.nombuf);
	jw_obj_close(&w);
	jw_obj_open(&w, "l3");
	for (int l = 0; l < OTS_L3_MAX; l++)
		jw_u64(&w, l3_names[l], t->l3[l]);
	jw_obj_close(&w);
	jw_u64(&w, "packets_without_flow", t->no_flow);
	jw_obj_open(&w, "flows");
	jw_u64(&w, "total", t->flows.created);
	jw_u64(&w, "tcp", t->flows.by_proto[0]);
	jw_u64(&w, "udp", t->flows.by_proto[1]);
	jw_u64(&w, "other", t->flows.by_proto[2]);
	jw_obj_open(&w, "ended");
	for (int k = 0; k < OTS_END_MAX; k++)
		jw_u64(&w, end_names[k], t->flows.ended[k]);
	jw_obj_close(&w);
	jw_u64(&w, "insert_failed", t->flow_insert_failed);
	jw_obj_close(&w);
	jw_obj_open(&w, "app_protocols");
	for (int a = 0; a < OTS_APP_MAX; a++)
		if (t->app_flows[a])
			jw_u64(&w, ots_app_name((uint16_t)a), t->app_flows[a]);
	jw_obj_close(&w);
	jw_obj_open(&w, "app_payload_bytes");
	for (int a = 0; a < OTS_APP_MAX; a++)
		if (t->app_flows[a])
			jw_u64(&w, ots_app_name((uint16_t)a), t->app_bytes[a]);
	jw_obj_close(&w);
	jw_obj_open(&w, "app_pdus");
	for (int a = 0; a < OTS_APP_MAX; a++)
		if (t->pdus[a])
			jw_u64(&w, ots_app_name((uint16_t)a), t->pdus[a]);
	jw_obj_close(&w);
	jw_obj_open(&w, "parse_errors");
	for (int a = 0; a < OTS_APP_MAX; a++)
		if (t->parse_errors[a])
			jw_u64(&w, ots_app_name((uint16_t)a), t->parse_errors[a]);
	jw_obj_close(&w);
	jw_obj_open(&w, "app_rejected");
	for (int a = 0; a < OTS_APP_MAX; a++)
		if (t->app_rejected[a])
			jw_u64(&w, ots_app_name((uint16_t)a), t->app_rejected[a]);
	jw_obj_close(&w);
	jw_u64(&w, "protocol_state_exhausted", t->app_state_exhausted);
	jw_u64(&w, "protocol_handoffs", t->app_handoffs);
	if (ws)
		app_json(&w, ws, nw);
	jw_obj_open(&w, "detection");
	const struct ots_detect *d = nw && ws ? ws[0]->det.d : NULL;
	jw_u64(&w, "rules_loaded", d ? d->rs.n : 0);
	jw_u64(&w, "rules_skipped", d ? d->rs.skipped_syntax + d->rs.skipped_unsupported : 0);
#define OTS_X_JSON(name, help) jw_u64(&w, #name, t->det.name);
	OTS_DETECT_STATS(OTS_X_JSON)
#undef OTS_X_JSON
	jw_obj_close(&w);
	jw_obj_open(&w, "decode_events");
	for (int e = 0; e < OTS_DEV_MAX; e++)
		jw_u64(&w, ots_decode_event_names[e], t->events[e]);
	jw_obj_close(&w);
	jw_obj_open(&w, "reassembly");
	jw_u64(&w, "delivered_bytes", t->reasm.delivered_bytes);
	jw_u64(&w, "out_of_order_segments", t->reasm.ooo_segments);
	jw_u64(&w, "overlap_bytes", t->reasm.overlap_bytes);
	jw_u64(&w, "gaps", t->reasm.gaps);
	jw_u64(&w, "gap_bytes", t->reasm.gap_bytes);
	jw_u64(&w, "midstream", t->reasm.midstream);
	jw_u64(&w, "pool_exhausted", t->reasm.pool_exhausted);
	jw_u64(&w, "cap_reached", t->reasm.cap_reached);
	jw_obj_close(&w);
	if (t->have_export) {
		jw_obj_open(&w, "export");
		jw_u64(&w, "boot_id", t->exp.boot_id);
		jw_u64(&w, "last_sequence", t->exp.last_sequence);
		jw_obj_open(&w, "records");
		for (int k = 0; k < OTS_REC_MAX; k++)
			jw_u64(&w, ots_rec_type_names[k], t->exp.emitted[k]);
		jw_obj_close(&w);
		jw_obj_open(&w, "ring_dropped");
		for (int k = 0; k < OTS_REC_MAX; k++)
			jw_u64(&w, ots_rec_type_names[k], t->exp.ring_dropped[k]);
		jw_obj_close(&w);
		jw_u64(&w, "encode_failed", t->exp.encode_failed);
		jw_obj_open(&w, "sinks");
		for (unsigned i = 0; i < t->exp.nsinks; i++) {
			const struct ots_sink_stats *ss = &t->exp.sinks[i];
			jw_obj_open(&w, t->exp.sink_names[i]);
			jw_u64(&w, "accepted", ss->accepted);
			jw_u64(&w, "delivered", ss->delivered);
			jw_u64(&w, "failed", ss->failed);
			jw_u64(&w, "dropped", ss->dropped);
			jw_u64(&w, "queued", ss->queued);
			jw_u64(&w, "spooled", ss->spooled);
			jw_u64(&w, "replayed", ss->replayed);
			jw_u64(&w, "spool_bytes", ss->spool_bytes);
			jw_u64(&w, "spool_records", ss->spool_records);
			jw_bool(&w, "healthy", ss->healthy);
			jw_str(&w, "state", ss->state);
			jw_obj_close(&w);
		}
		jw_obj_close(&w);
		jw_obj_close(&w);
	}
	jw_arr_open(&w, "workers");
	for (unsigned i = 0; i < t->nworkers; i++) {
		const struct ots_worker_totals *wt = &t->w[i];
		jw_obj_open(&w, NULL);
		jw_u64(&w, "id", i);
		jw_u64(&w, "received", wt->received);
		jw_u64(&w, "processed", wt->processed);
		jw_u64(&w, "bytes", wt->bytes);
		jw_u64(&w, "forwarded", wt->forwarded);
		jw_u64(&w, "dropped", wt->drops);
		jw_u64(&w, "flows", wt->flows_created);
		jw_u64(&w, "evicted", wt->evicted);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_obj_close(&w);
	int r = 0;
	if (!jw_ok(&w)) {
		r = -ENOBUFS;
	} else {
		FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
		if (!f) {
			r = -errno;
		} else {
			fprintf(f, "%s\n", buf);
			if (f != stdout && fclose(f) != 0)
				r = -errno;
		}
	}
	free(buf);
	return r;
}

void ots_stats_lines(const struct ots_totals *now, const struct ots_totals *prev, double dt, FILE *out)
{
	if (dt <= 0)
		return;
	for (unsigned i = 0; i < now->nworkers; i++) {
		const struct ots_worker_totals *a = &now->w[i], *b = &prev->w[i];
		fprintf(out, "stats t=%.0fs worker %u: %.3f Mpps %.3f Gbit/s, drops %llu, flows %llu active "
			"(%llu new/s), evicted %llu\n", now->seconds, i, (a->processed - b->processed) / dt / 1e6,
			(a->bytes - b->bytes) * 8.0 / dt / 1e9, (unsigned long long)a->drops,
			(unsigned long long)a->flows_active, (unsigned long long)((a->flows_created - b->flows_created) / dt),
			(unsigned long long)a->evicted);
	}
	fprintf(out, "stats t=%.0fs port: imissed %llu (+%llu), ierrors %llu, no mbuf %llu\n", now->seconds,
		(unsigned long long)now->port.imissed, (unsigned long long)(now->port.imissed - prev->port.imissed),
		(unsigned long long)now->port.ierrors, (unsigned long long)now->port.nombuf);
}
