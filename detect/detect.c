/* detect/detect.c - signatures + OT engine -> thresholded, aggregated alert records (see detect.h). */
#include "detect/detect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/fnv.h"
#include "detect/otengine.h"
#include "protocols/registry.h"

#define TICK_BATCH 64

/* ---- build ---- */

int ots_detect_build(const struct ots_detect_cfg *c, struct ots_detect **out, ots_rule_diag_fn diag, void *ud,
		     char *err, size_t errlen)
{
	struct ots_detect *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "detection: out of memory");
		return -ENOMEM;
	}
	ots_registry_init(); /* rule groups classify ports */
	ots_ruleset_init(&d->rs);
	snprintf(d->sensor_id, sizeof(d->sensor_id), "%s", c->sensor_id ? c->sensor_id : "otsense");
	d->alert_window_s = c->alert_window_s;
	d->agg_capacity = c->agg_capacity ? c->agg_capacity : 4096;
	d->threshold_capacity = c->threshold_capacity ? c->threshold_capacity : 4096;
	d->ot_engine = c->ot_engine;
	for (unsigned i = 0; i < c->nrule_files; i++) {
		int r = ots_rules_load_file(&d->rs, c->rule_files[i], &c->vars, diag, ud, err, errlen);
		if (r < 0) {
			ots_detect_free(d);
			return r;
		}
	}
	if (d->rs.n) {
		struct ots_sigdb_opts o = { .cache_dir = c->cache_dir };
		int r = ots_sigdb_build(&d->rs, &o, &d->db, &d->rep, err, errlen);
		if (r < 0) {
			ots_detect_free(d);
			return r;
		}
	}
	*out = d;
	return 0;
}

void ots_detect_free(struct ots_detect *d)
{
	if (!d)
		return;
	if (d->db)
		ots_sigdb_free(d->db);
	ots_ruleset_free(&d->rs);
	free(d);
}

uint32_t ots_detect_overlap(const struct ots_detect *d)
{
	return d && d->db ? ots_sigdb_overlap(d->db) : 0;
}

/* ---- per worker ---- */

int ots_detect_worker_init(struct ots_detect_worker *w, const struct ots_detect *d, ots_alert_emit_fn emit,
			   void *ud)
{
	memset(w, 0, sizeof(*w));
	w->d = d;
	w->emit = emit;
	w->ud = ud;
	int r = ots_alert_agg_init(&w->agg, d->agg_capacity, d->alert_window_s, OTS_AGG_DELTA, emit, ud);
	if (r < 0)
		return r;
	r = ots_window_init(&w->thr, d->threshold_capacity);
	if (r == 0 && d->db)
		r = ots_sigscan_create(d->db, &w->scan);
	if (r < 0) {
		ots_detect_worker_fini(w);
		return r;
	}
	return 0;
}

void ots_detect_worker_fini(struct ots_detect_worker *w)
{
	if (w->scan)
		ots_sigscan_free(w->scan);
	w->scan = NULL;
	ots_window_fini(&w->thr);
	ots_alert_agg_fini(&w->agg);
}

/* ---- alert records ---- */


void ots_detect_alert_id(const char *sensor_id, int engine, uint32_t gid, uint32_t sid, const struct ots_det_flow *f,
			 char id[33])
{
	uint8_t k[64];
	size_t n = 0;
	k[n++] = (uint8_t)engine;
	memcpy(k + n, &gid, 4), n += 4;
	memcpy(k + n, &sid, 4), n += 4;
	k[n++] = f->family;
	memcpy(k + n, f->cip, 16), n += 16;
	memcpy(k + n, f->sip, 16), n += 16;
	memcpy(k + n, &f->app, 2), n += 2;
	uint64_t h1 = ots_fnv1a(OTS_FNV1A_SEED, sensor_id, strlen(sensor_id));
	uint64_t h2 = ots_fnv1a(0x84222325cbf29ce4ull ^ h1, k, n);
	h1 = ots_fnv1a(h1, k, n);
	h2 = ots_fnv1a(h2, sensor_id, strlen(sensor_id));
	snprintf(id, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

/* copy a string into a fixed field, truncating */
static void put(char *d, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);
	memcpy(d, s, l);
	d[l] = 0;
}

static void set_addr(struct ots_addr *a, uint8_t family, const uint8_t ip[16])
{
	a->family = family;
	memcpy(a->ip, ip, 16);
}

/* the parts every alert shares: time, tuple, assets */
static void alert_base(struct ots_detect_worker *w, int engine, uint32_t gid, uint32_t sid, uint16_t app)
{
	struct ots_rec_alert *a = &w->a;
	const struct ots_det_flow *f = w->f;
	memset(a, 0, sizeof(*a));
	ots_detect_alert_id(w->d->sensor_id, engine, gid, sid, f, a->id);
	a->time_ns = a->first_ns = w->now_ns;
	a->count = 1;
	a->engine = (uint8_t)engine;
	a->app = app;
	set_addr(&a->t.src, f->family, f->cip);
	set_addr(&a->t.dst, f->family, f->sip);
	a->t.src_port = f->cport;
	a->t.dst_port = f->sport;
	a->t.proto = f->ip_proto;
	a->t.vlan[0] = f->vlan[0];
	a->t.vlan[1] = f->vlan[1];
	a->src_asset.ip = a->t.src;
	a->dst_asset.ip = a->t.dst;
	if (f->has_mac) {
		memcpy(a->src_asset.mac, f->cmac, 6);
		memcpy(a->dst_asset.mac, f->smac, 6);
		a->src_asset.has_mac = a->dst_asset.has_mac = 1;
	}
}

static void evidence(struct ots_rec_alert *a, const char *k, const char *v)
{
	if (a->nevidence >= OTS_ALERT_MAX_EVIDENCE)
		return;
	struct ots_kv *kv = &a->evidence[a->nevidence++];
	put(kv->key, sizeof(kv->key), k);
	put(kv->value, sizeof(kv->value), v);
}

/* printable view of the first payload bytes: ASCII kept, the rest as \xNN */
static void payload_text(const uint8_t *p, uint32_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (uint32_t i = 0; i < n && o + 5 < cap; i++) {
		uint8_t c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = 0;
}

static uint8_t severity_of(uint8_t priority)
{
	switch (priority) {
	case 1: return OTS_SEV_HIGH;
	case 2: return OTS_SEV_MEDIUM;
	case 3: return OTS_SEV_LOW;
	default: return OTS_SEV_INFO;
	}
}

/* "mitre_technique T0855" (also "mitre_technique_id") entries of the rule's metadata */
static void rule_mitre(const struct ots_rule *r, struct ots_rec_alert *a)
{
	for (unsigned i = 0; i < r->nmeta && a->nmitre < OTS_ALERT_MAX_MITRE; i++) {
		const char *m = r->meta[i];
		if (strncmp(m, "mitre_technique", 15))
			continue;
		const char *v = strchr(m, ' ');
		while (v && *v == ' ')
			v++;
		if (v && *v)
			put(a->mitre[a->nmitre++], sizeof(a->mitre[0]), v);
	}
}

/* threshold / detection_filter: 1 = raise this occurrence */
static int threshold_pass(struct ots_detect_worker *w, const struct ots_rule *r, const struct ots_threshold *t)
{
	if (t->type == OTS_THR_NONE || !t->seconds)
		return 1;
	const struct ots_det_flow *f = w->f;
	const uint8_t *src = w->to_server ? f->cip : f->sip, *dst = w->to_server ? f->sip : f->cip;
	uint64_t k = ots_fnv1a(OTS_FNV1A_SEED, &r->sid, 4);
	k = ots_fnv1a(k, &r->gid, 4);
	k = ots_fnv1a(k, &t->type, 1);
	if (t->track == OTS_TRACK_BY_SRC || t->track == OTS_TRACK_BY_BOTH)
		k = ots_fnv1a(k, src, 16);
	if (t->track == OTS_TRACK_BY_DST || t->track == OTS_TRACK_BY_BOTH)
		k = ots_fnv1a(k, dst, 16);
	int fresh;
	struct ots_window_ent *e = ots_window_hit(&w->thr, k, w->now_ns, (uint64_t)t->seconds * 1000000000ull, &fresh);
	uint32_t n = ++e->count;
	switch (t->type) {
	case OTS_THR_LIMIT: /* the first count per window */
		return n <= t->count;
	case OTS_THR_THRESHOLD: /* every count-th */
		return t->count && n % t->count == 0;
	case OTS_THR_BOTH: /* once per window, at the count-th */
		return n == t->count;
	case OTS_THR_DETECTION_FILTER: /* every one after the count-th */
		return n > t->count;
	default:
		return 1;
	}
}

static void raise_alert(struct ots_detect_worker *w)
{
	w->st.alerts++;
	uint64_t before = w->agg.absorbed;
	ots_alert_agg_offer(&w->agg, &w->a);
	w->st.aggregated += w->agg.absorbed - before;
}

static void on_rule(void *ud, const struct ots_rule *r)
{
	struct ots_detect_worker *w = ud;
	w->st.sig_matches++;
	if (!threshold_pass(w, r, &r->threshold) || !threshold_pass(w, r, &r->detection_filter)) {
		w->st.thresholded++;
		return;
	}
	alert_base(w, OTS_ENGINE_SIGNATURE, r->gid, r->sid, w->pdu ? w->pdu->proto : w->f->app);
	struct ots_rec_alert *a = &w->a;
	a->sid = r->sid;
	a->rev = r->rev;
	a->gid = r->gid;
	a->severity = severity_of(r->priority);
	put(a->category, sizeof(a->category), r->classtype[0] ? r->classtype : "signature");
	put(a->title, sizeof(a->title), r->msg);
	snprintf(a->description, sizeof(a->description), "Signature %u:%u:%u matched (%.80s)%s%.60s", r->gid, r->sid,
		 r->rev, r->origin, r->reference[0] ? "; reference " : "", r->reference);
	rule_mitre(r, a);
	char v[72];
	evidence(a, "direction", w->to_server ? "to_server" : "to_client");
	if (w->pdu) {
		a->nevidence = (uint8_t)(a->nevidence + ots_ot_evidence(w->pdu, a->evidence + a->nevidence,
									 OTS_ALERT_MAX_EVIDENCE - a->nevidence));
	} else {
		snprintf(v, sizeof(v), "%u", w->len - w->pkt_off);
		evidence(a, "payload_bytes", v);
		uint32_t from = w->pkt_off > 16 ? w->pkt_off - 16 : 0;
		payload_text(w->buf + from, w->len - from, v, 60);
		evidence(a, "payload", v);
	}
	raise_alert(w);
}

/* the signature engine's view of the bytes: addresses in the direction they travel */
static void sig_pkt(const struct ots_det_flow *f, int to_server, uint16_t app, const uint8_t *buf, uint32_t len,
		    uint32_t pkt_off, struct ots_sig_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l4 = f->l4;
	p->app = app;
	p->family = f->family;
	p->sip = to_server ? f->cip : f->sip;
	p->dip = to_server ? f->sip : f->cip;
	p->sport = to_server ? f->cport : f->sport;
	p->dport = to_server ? f->sport : f->cport;
	p->in.buf = buf;
	p->in.len = len;
	p->in.pkt_off = pkt_off;
	p->in.dsize = len - pkt_off;
	p->in.to_server = (uint8_t)!!to_server;
	p->in.established = f->established;
}

void ots_detect_payload(struct ots_detect_worker *w, const struct ots_det_flow *f, int to_server, const uint8_t *buf,
			uint32_t len, uint32_t pkt_off, uint64_t now_ns)
{
	if (!w->scan || !ots_sigdb_wants(w->d->db, f->l4, f->app))
		return;
	struct ots_sig_pkt p;
	sig_pkt(f, to_server, f->app, buf, len, pkt_off, &p);
	w->f = f;
	w->pdu = NULL;
	w->buf = buf;
	w->len = len;
	w->pkt_off = pkt_off;
	w->to_server = (uint8_t)!!to_server;
	w->now_ns = now_ns;
	w->st.scans++;
	w->st.scan_bytes += len - pkt_off;
	ots_sigdb_scan(w->d->db, w->scan, &p, on_rule, w);
}

void ots_detect_pdu(struct ots_detect_worker *w, ots_det_flow_fn flow, void *ud, const struct ots_pdu *pdu,
		    const uint8_t *buf, uint32_t len, uint64_t now_ns)
{
	const struct ots_ot_def *def = w->d->ot_engine ? ots_ot_classify(pdu) : NULL;
	int rules = w->scan && ots_sigdb_wants_code(w->d->db, pdu->proto, pdu->code);
	if (!def && !rules)
		return; /* nothing can be raised: the flow view is not even built */
	const struct ots_det_flow *f = flow(ud);
	int to_server = pdu->dir == OTS_DIR_TO_SERVER;
	w->f = f;
	w->pdu = pdu;
	w->buf = buf;
	w->len = len;
	w->pkt_off = 0;
	w->to_server = (uint8_t)to_server;
	w->now_ns = now_ns;
	w->st.pdus++;
	if (def) {
		w->st.ot_events++;
		alert_base(w, OTS_ENGINE_OT, 0, def->id, pdu->proto);
		struct ots_rec_alert *a = &w->a;
		a->severity = def->severity;
		put(a->category, sizeof(a->category), def->category);
		put(a->title, sizeof(a->title), def->title);
		put(a->description, sizeof(a->description), def->description);
		for (unsigned i = 0; i < OTS_ALERT_MAX_MITRE && def->mitre[i]; i++)
			put(a->mitre[a->nmitre++], sizeof(a->mitre[0]), def->mitre[i]);
		a->nevidence = (uint8_t)ots_ot_evidence(pdu, a->evidence, OTS_ALERT_MAX_EVIDENCE);
		raise_alert(w);
	}
	if (rules) {
		struct ots_sig_pkt p;
		sig_pkt(f, to_server, pdu->proto, buf, len, 0, &p);
		p.in.pdu = pdu;
		ots_sigdb_pdu(w->d->db, w->scan, &p, on_rule, w);
	}
	w->pdu = NULL;
}

void ots_detect_tick(struct ots_detect_worker *w, uint64_t now_ns)
{
	ots_alert_agg_tick(&w->agg, now_ns, TICK_BATCH); /* thresholds restart lazily in ots_window_hit */
}

void ots_detect_flush(struct ots_detect_worker *w)
{
	ots_alert_agg_flush(&w->agg);
}
