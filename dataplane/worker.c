/* dataplane/worker.c - the per-lcore packet path (see worker.h for the contract).
 *
 * A burst goes through three passes, l3fwd style: decode every packet and build flow keys; one bulk hash
 * lookup; then per packet: insert misses, update counters and TCP state, feed reassembly / the app layer.
 */
#include "dataplane/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dataplane/handoff.h"
#include "dataplane/rss.h"
#include "protocols/discovery.h"

#define OTS_X_NAME(name, help) #name,
const char *const ots_drop_names[OTS_DROP_MAX] = { OTS_DROPS(OTS_X_NAME) };
#undef OTS_X_NAME

#define LOOKUP_MAX 64 /* RTE_HASH_LOOKUP_BULK_MAX */
#define SCRATCH_BYTES 65536
#define PREFETCH_AHEAD 3

struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wire_len;
	uint64_t ts;
};

struct app_ctx {
	struct ots_worker *w;
	uint32_t pos;
	uint8_t dir;
	uint16_t app;
	const uint8_t *data; /* the bytes being parsed (PDU rules look there) */
	uint32_t len;
	const struct ots_flow_key *key; /* the flow's key, looked up once per call (NULL until needed) */
	uint8_t df_ok;                  /* df is built */
	struct ots_det_flow df;         /* the flow as detection sees it, built once per call */
};

static void hand_off(struct ots_worker *w, const struct ots_record *r);

/* ---- parser callbacks (protocols/app.h): ud is the struct app_ctx of the call ---- */

static const struct ots_flow_key *ctx_key(struct app_ctx *c)
{
	if (!c->key && ots_flow_get_key(&c->w->ft, c->pos, &c->key) < 0)
		c->key = NULL;
	return c->key;
}

/* the flow's endpoint addresses: client (0) or server (1) */
static const uint32_t *endpoint_ip(struct app_ctx *c, int server, uint8_t *family)
{
	const struct ots_flow_key *k = ctx_key(c);
	if (!k)
		return NULL;
	int cs = c->w->ft.flows[c->pos].client_side;
	*family = k->family;
	return k->addr[server ? !cs : cs];
}

static const uint8_t *endpoint_mac(const struct app_ctx *c, int server)
{
	const struct ots_flow_cold *cd = &c->w->ft.cold[c->pos];
	if (!(cd->cflags & OTS_FC_MAC))
		return NULL;
	int cs = c->w->ft.flows[c->pos].client_side;
	return cd->mac[server ? !cs : cs];
}

/* an asset observation about one endpoint of the flow: the exporter merges it into the inventory */
static void observe(struct app_ctx *c, int server, uint8_t role, uint8_t role_conf, uint64_t served,
		    uint64_t used, const struct ots_attr *attr)
{
	struct ots_worker *w = c->w;
	if (!w->rec_ring)
		return;
	union ots_record_buf b;
	memset(&b, 0, ots_record_len(OTS_REC_asset));
	b.rec.type = OTS_REC_asset;
	b.rec.worker = w->id;
	struct ots_rec_asset *a = &b.rec.u.asset;
	uint8_t fam = 0;
	const uint32_t *ip = endpoint_ip(c, server, &fam);
	const uint8_t *mac = endpoint_mac(c, server);
	if (ip) {
		a->key.ip.family = fam;
		memcpy(a->key.ip.ip, ip, 16);
	}
	if (mac) {
		memcpy(a->key.mac, mac, 6);
		a->key.has_mac = 1;
	}
	a->role = role;
	a->role_confidence = role_conf;
	a->protocols_served = served;
	a->protocols_used = used;
	a->first_ns = a->last_ns = w->now_ns;
	if (attr) {
		a->attrs[0] = *attr;
		a->nattrs = 1;
	}
	hand_off(w, &b.rec);
}

/* ---- discovery (ARP, LLDP, CDP, DHCP): observations about the sender, deduplicated per worker ---- */

struct disc_obs {
	struct ots_worker *w;
	union ots_record_buf b;
	uint16_t source;
};

/* the summary's identities list: record a fact once per worker; returns 1 when it is new */
static int remember_fact(struct ots_worker *w, uint16_t proto, int kind, int confidence,
			 const struct ots_asset_key *k, const char *v, size_t len)
{
	struct ots_identity_fact f;
	memset(&f, 0, sizeof(f));
	f.proto = proto;
	f.kind = (uint8_t)kind;
	f.confidence = (uint8_t)confidence;
	f.family = k->ip.family;
	memcpy(f.ip, k->ip.ip, 16);
	f.has_mac = k->has_mac;
	memcpy(f.mac, k->mac, 6);
	memcpy(f.value, v, len < sizeof(f.value) ? len : sizeof(f.value) - 1);
	for (uint32_t i = 0; i < w->nids; i++) /* identity exchanges are rare: a scan is fine */
		if (!memcmp(&w->ids[i], &f, sizeof(f)))
			return 0;
	if (w->nids < OTS_MAX_IDENTITIES)
		w->ids[w->nids++] = f;
	return 1;
}

static void disc_fact(void *ud, int kind, int confidence, const char *v)
{
	struct disc_obs *o = ud;
	struct ots_rec_asset *a = &o->b.rec.u.asset;
	if (a->nattrs == OTS_ASSET_MAX_ATTRS)
		return;
	struct ots_attr *at = &a->attrs[a->nattrs++];
	at->kind = (uint8_t)kind;
	at->confidence = (uint8_t)confidence;
	at->source = o->source;
	at->time_ns = o->w->now_ns;
	snprintf(at->value, sizeof(at->value), "%s", v);
	remember_fact(o->w, o->source, kind, confidence, &a->key, v, strlen(v));
}

/* one observation per distinct (source, device, content): ARP storms and periodic LLDP stay off the ring */
static void disc_observe(struct ots_worker *w, const struct ots_disc *d, uint16_t source, const uint8_t *frame_src)
{
	if (!w->rec_ring)
		return;
	uint64_t h = ((uint64_t)rte_hash_crc(d, sizeof(*d), source) << 32) |
		     rte_hash_crc(d, sizeof(*d), 0x9e3779b9u ^ source); /* crc32 8 bytes at a time */
	uint64_t *slot = &w->disc_seen[h & (OTS_DISC_CACHE - 1)];
	if (*slot == h)
		return;
	*slot = h;
	struct disc_obs o;
	o.w = w;
	o.source = source;
	memset(&o.b, 0, ots_record_len(OTS_REC_asset));
	o.b.rec.type = OTS_REC_asset;
	o.b.rec.worker = w->id;
	struct ots_rec_asset *a = &o.b.rec.u.asset;
	if (d->has_mac || frame_src) {
		memcpy(a->key.mac, d->has_mac ? d->mac : frame_src, 6);
		a->key.has_mac = 1;
	}
	if (d->has_ip) {
		a->key.ip.family = d->ip_family;
		memcpy(a->key.ip.ip, d->ip, 16);
	}
	if (d->capabilities & (OTS_DISC_CAP_BRIDGE | OTS_DISC_CAP_ROUTER) && !(d->capabilities & OTS_DISC_CAP_STATION)) {
		a->role = OTS_ROLE_NETWORK;
		a->role_confidence = 60;
	}
	a->first_ns = a->last_ns = w->now_ns;
	if (source != OTS_APP_ARP)
		a->protocols_used = 1ull << source;
	ots_disc_identities(d, disc_fact, &o);
	w->st.discovery[source == OTS_APP_ARP ? 0 : source == OTS_APP_LLDP ? 1 : source == OTS_APP_CDP ? 2 : 3]++;
	hand_off(w, &o.b.rec);
}

static const uint8_t cdp_snap[8] = { 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00 };

static inline int inspects(const struct ots_worker *w, uint16_t app)
{
	return (int)((w->inspect >> app) & 1);
}

/* a frame without an IP flow: ARP, LLDP or CDP tell who is on the segment */
static void l2_discovery(struct ots_worker *w, const uint8_t *frame, uint32_t caplen, const struct ots_pkt *p)
{
	struct ots_disc d;
	if (w->linktype != OTS_LINK_ETHERNET || !p->l3 || caplen < 14)
		return;
	size_t off = (size_t)(p->l3 - frame), len = caplen - off;
	int r;
	uint16_t src;
	if (p->l3_type == OTS_L3_ARP) {
		if (!inspects(w, OTS_APP_ARP))
			return;
		r = ots_arp_parse(p->l3, len, &d);
		src = OTS_APP_ARP;
	} else if (p->ethertype == 0x88cc) {
		if (!inspects(w, OTS_APP_LLDP))
			return;
		r = ots_lldp_parse(p->l3, len, &d);
		src = OTS_APP_LLDP;
	} else if (p->ethertype == 0 && len > 8 && !memcmp(p->l3, cdp_snap, 8)) {
		if (!inspects(w, OTS_APP_CDP))
			return;
		r = ots_cdp_parse(p->l3 + 8, len - 8, &d);
		src = OTS_APP_CDP;
	} else {
		return;
	}
	if (r < 0) {
		w->st.proto_events[src][0]++;
		w->st.parse_errors[src]++;
		return;
	}
	disc_observe(w, &d, src, src == OTS_APP_ARP ? NULL : frame + 6);
}

/* role a server / client of this protocol most likely has */
static uint8_t server_role(uint16_t app)
{
	switch (app) {
	case OTS_APP_DNP3:
	case OTS_APP_IEC104:
		return OTS_ROLE_RTU;
	case OTS_APP_MODBUS:
	case OTS_APP_S7COMM:
	case OTS_APP_ENIP:
	case OTS_APP_MMS:
	case OTS_APP_FINS:
	case OTS_APP_ADS:
	case OTS_APP_GE_SRTP:
	case OTS_APP_PROCONOS:
		return OTS_ROLE_PLC;
	case OTS_APP_BACNET:
	case OTS_APP_KNXIP:
		return OTS_ROLE_IOT;
	case OTS_APP_OPCUA:
		return OTS_ROLE_SERVER;
	default:
		return OTS_ROLE_UNKNOWN;
	}
}

static void flow_roles(struct app_ctx *c, const struct ots_pdu *p)
{
	struct ots_flow_cold *cd = &c->w->ft.cold[c->pos];
	uint64_t bit = p->proto < 64 ? 1ull << p->proto : 0;
	if (!(cd->app_flags & OTS_AF_ROLES)) {
		cd->app_flags |= OTS_AF_ROLES;
		uint8_t sr = server_role(p->proto);
		observe(c, 1, sr, sr ? 50 : 0, bit, 0, NULL);
		observe(c, 0, sr ? OTS_ROLE_HMI : OTS_ROLE_UNKNOWN, sr ? 30 : 0, 0, bit, NULL);
	}
	if (p->dir == OTS_DIR_TO_SERVER && (p->flags & (OTS_PDUF_PROGRAM | OTS_PDUF_CONTROL)) &&
	    !(cd->app_flags & OTS_AF_ENG)) {
		cd->app_flags |= OTS_AF_ENG; /* programs or starts/stops controllers: an engineering station */
		observe(c, 0, OTS_ROLE_ENG_STATION, 70, 0, bit, NULL);
	} else if (p->dir == OTS_DIR_TO_SERVER && (p->flags & OTS_PDUF_WRITE) && !(cd->app_flags & OTS_AF_WRITER)) {
		cd->app_flags |= OTS_AF_WRITER; /* writes process values: an HMI / SCADA master */
		observe(c, 0, OTS_ROLE_HMI, 40, 0, bit, NULL);
	}
}

/* ---- detection (detect/detect.h): the flow as detection sees it, stream context, alert hand-off ---- */

static uint8_t l4_of(uint8_t proto)
{
	return proto == 6 ? OTS_RL4_TCP : proto == 17 ? OTS_RL4_UDP : proto == 1 || proto == 58 ? OTS_RL4_ICMP
											  : OTS_RL4_IP;
}

static void det_flow(const struct ots_worker *w, uint32_t pos, const struct ots_flow_key *k, struct ots_det_flow *f)
{
	memset(f, 0, sizeof(*f));
	if (!k)
		return;
	const struct ots_flow *fl = &w->ft.flows[pos];
	const struct ots_flow_cold *cd = &w->ft.cold[pos];
	int cs = fl->client_side;
	f->family = k->family;
	f->ip_proto = k->proto;
	f->l4 = l4_of(k->proto);
	f->app = fl->app;
	f->established = fl->tcp_state != OTS_TCP_NONE ? fl->tcp_state >= OTS_TCP_EST : fl->pkts[0] && fl->pkts[1];
	memcpy(f->cip, k->addr[cs], 16);
	memcpy(f->sip, k->addr[!cs], 16);
	f->cport = k->port[cs];
	f->sport = k->port[!cs];
	f->vlan[0] = k->vlan[0];
	f->vlan[1] = k->vlan[1];
	if (cd->cflags & OTS_FC_MAC) {
		memcpy(f->cmac, cd->mac[cs], 6);
		memcpy(f->smac, cd->mac[!cs], 6);
		f->has_mac = 1;
	}
}

static const struct ots_det_flow *ctx_det_flow(struct app_ctx *c)
{
	if (!c->df_ok) {
		det_flow(c->w, c->pos, ctx_key(c), &c->df);
		c->df_ok = 1;
	}
	return &c->df;
}

static const struct ots_det_flow *pdu_flow(void *ud)
{
	return ctx_det_flow(ud);
}

static void det_emit(void *ud, const struct ots_rec_alert *a)
{
	struct ots_worker *w = ud;
	if (!w->rec_ring)
		return;
	union ots_record_buf b;
	b.rec.type = OTS_REC_alert;
	b.rec.worker = w->id;
	b.rec.u.alert = *a;
	hand_off(w, &b.rec);
}

static struct ots_det_tail *det_tail(struct ots_worker *w, struct ots_flow_cold *cd)
{
	if (!cd->det_state) {
		cd->det_state = ots_slot_get(&w->det_tails);
		if (!cd->det_state)
			return NULL;
		struct ots_det_tail *t = ots_slot_mem(&w->det_tails, cd->det_state);
		t->len[0] = t->len[1] = 0;
		return t;
	}
	return ots_slot_mem(&w->det_tails, cd->det_state);
}

/* signatures on one payload: a datagram, or an in-order TCP chunk scanned after the tail of the previous one */
static void detect_payload(struct app_ctx *c, const uint8_t *data, uint32_t len)
{
	struct ots_worker *w = c->w;
	const struct ots_flow *fl = &w->ft.flows[c->pos];
	uint8_t l4 = fl->tcp_state != OTS_TCP_NONE ? OTS_RL4_TCP : fl->fclass == OTS_FC_UDP ? OTS_RL4_UDP : 0xff;
	if (l4 != 0xff && !ots_detect_wants(&w->det, l4, fl->app))
		return;
	const struct ots_det_flow *f = ctx_det_flow(c);
	if (l4 == 0xff && !ots_detect_wants(&w->det, f->l4, f->app))
		return;
	int to_server = c->dir == OTS_DIR_TO_SERVER;
	if (l4 != OTS_RL4_TCP || !w->det_overlap) {
		ots_detect_payload(&w->det, f, to_server, data, len, 0, w->now_ns);
		return;
	}
	struct ots_det_tail *t = det_tail(w, &w->ft.cold[c->pos]);
	if (!t) {
		w->det.st.stream_no_state++;
		ots_detect_payload(&w->det, f, to_server, data, len, 0, w->now_ns);
		return;
	}
	uint32_t tl = t->len[c->dir], keep = w->det_overlap;
	uint8_t *tb = t->b + c->dir * keep;
	if (tl && len <= SCRATCH_BYTES) {
		memcpy(w->det_buf, tb, tl);
		memcpy(w->det_buf + tl, data, len);
		ots_detect_payload(&w->det, f, to_server, w->det_buf, tl + len, tl, w->now_ns);
	} else {
		ots_detect_payload(&w->det, f, to_server, data, len, 0, w->now_ns);
	}
	/* keep the last `keep` bytes of (tail + data) for the next chunk */
	if (len >= keep) {
		memcpy(tb, data + len - keep, keep);
		t->len[c->dir] = (uint8_t)keep;
	} else {
		uint32_t from_tail = tl + len > keep ? keep - len : tl;
		memmove(tb, tb + tl - from_tail, from_tail);
		memcpy(tb + from_tail, data, len);
		t->len[c->dir] = (uint8_t)(from_tail + len);
	}
}

static void cb_pdu(void *ud, const struct ots_pdu *p)
{
	struct app_ctx *c = ud;
	struct ots_pdu_key k;
	uint8_t fam = 0;
	const uint32_t *src = endpoint_ip(c, p->dir == OTS_DIR_TO_CLIENT, &fam);
	const uint32_t *dst = endpoint_ip(c, p->dir != OTS_DIR_TO_CLIENT, &fam);
	if (!src || !dst || p->proto >= OTS_APP_MAX)
		return;
	memset(&k, 0, sizeof(k));
	memcpy(k.src, src, 16);
	memcpy(k.dst, dst, 16);
	k.code = p->code;
	k.unit = p->unit;
	k.proto = p->proto;
	k.kind = p->kind;
	k.family = fam;
	ots_pducount_add(&c->w->pdus, &k, 1);
	c->w->st.pdus[p->proto]++;
	flow_roles(c, p);
	if (c->w->det.d)
		ots_detect_pdu(&c->w->det, pdu_flow, c, p, c->data, c->data ? c->len : 0, c->w->now_ns);
}

static void cb_identity(void *ud, int endpoint, int kind, int confidence, const char *value, size_t len)
{
	struct app_ctx *c = ud;
	struct ots_worker *w = c->w;
	struct ots_asset_key k;
	uint8_t fam = 0;
	const uint32_t *ip = endpoint_ip(c, endpoint == OTS_EP_SERVER, &fam);
	const uint8_t *mac = endpoint_mac(c, endpoint == OTS_EP_SERVER);
	memset(&k, 0, sizeof(k));
	if (ip) {
		k.ip.family = fam;
		memcpy(k.ip.ip, ip, 16);
	}
	if (mac) {
		memcpy(k.mac, mac, 6);
		k.has_mac = 1;
	}
	if (!remember_fact(w, c->app, kind, confidence, &k, value, len))
		return;
	struct ots_attr at;
	memset(&at, 0, sizeof(at));
	at.kind = (uint8_t)kind;
	at.confidence = (uint8_t)confidence;
	at.source = c->app;
	at.time_ns = w->now_ns;
	memcpy(at.value, value, len < sizeof(at.value) ? len : sizeof(at.value) - 1);
	observe(c, endpoint == OTS_EP_SERVER, OTS_ROLE_UNKNOWN, 0, 0, 0, &at);
}

static void cb_event(void *ud, uint16_t proto, unsigned ev)
{
	struct app_ctx *c = ud;
	if (proto >= OTS_APP_MAX)
		return;
	c->w->st.proto_events[proto][ev < OTS_MAX_PROTO_EVENTS ? ev : OTS_MAX_PROTO_EVENTS - 1]++;
	c->w->st.parse_errors[proto]++;
}

static const struct ots_app_ops app_ops = { cb_pdu, cb_identity, cb_event };

/* in-order bytes (or a gap) of one direction, or one datagram: count, then the protocol's parser */
static void app_deliver(void *ud, const uint8_t *data, uint32_t len, uint32_t flags)
{
	struct app_ctx *c = ud;
	struct ots_worker *w = c->w;
	struct ots_flow_cold *cd = &w->ft.cold[c->pos];
	if (!(flags & OTS_REASM_F_GAP)) {
		w->st.app_bytes[c->app] += len;
		if (w->det.d && len)
			detect_payload(c, data, len);
	} else {
		cd->gap_bytes += len;
		if (cd->det_state) /* bytes lost: the carried context no longer precedes what comes next */
			((struct ots_det_tail *)ots_slot_mem(&w->det_tails, cd->det_state))->len[c->dir] = 0;
	}
	c->data = data;
	c->len = len;
	const struct ots_parser *ps = ots_protocols[c->app].parser;
	if (!ps || !inspects(w, c->app) || (cd->app_flags & (OTS_AF_DEAD | OTS_AF_NOSTATE)))
		return;
	if (!cd->app_state) {
		cd->app_state = ots_slot_get(&w->app_states);
		if (!cd->app_state) {
			cd->app_flags |= OTS_AF_NOSTATE;
			w->st.app_state_exhausted++;
			return;
		}
		memset(ots_slot_mem(&w->app_states, cd->app_state), 0, ps->state_size);
	}
	struct ots_app_ctx ctx = {
		.ops = &app_ops, .ud = c, .ts_ns = w->now_ns, .flags = flags, .proto = c->app, .dir = c->dir,
		.transport = w->ft.flows[c->pos].tcp_state == OTS_TCP_NONE ? 17 : 6,
	};
	void *state = ots_slot_mem(&w->app_states, cd->app_state);
	if (ps->parse(&ctx, data, len, state) < 0) {
		w->st.app_rejected[c->app]++;
		uint16_t to = ps->handoff ? ps->handoff(state) : OTS_APP_UNKNOWN;
		ots_slot_put(&w->app_states, &cd->app_state);
		if (to != OTS_APP_UNKNOWN && to < OTS_APP_MAX && to != c->app) {
			/* another protocol on the same port: reclassify; its parser (if any) starts with the next bytes */
			w->ft.flows[c->pos].app = to;
			w->st.app_flows[c->app]--;
			w->st.app_flows[to]++;
			w->st.app_handoffs++;
			c->app = to;
			if (!ots_protocols[to].parser)
				cd->app_flags |= OTS_AF_DEAD;
		} else {
			cd->app_flags |= OTS_AF_DEAD;
		}
	}
}

static void hand_off(struct ots_worker *w, const struct ots_record *r)
{
	while (ots_handoff_put(w->rec_ring, r) < 0) {
		if (!w->export_blocking) {
			w->st.records_dropped[r->type]++;
			return;
		}
		rte_pause(); /* main's final flush: the exporter is draining */
	}
	w->st.records[r->type]++;
}

static uint8_t end_reason(const struct ots_flow *f, int why)
{
	switch (why) {
	case OTS_END_EVICTED:
		return OTS_FLOW_END_EVICTED;
	case OTS_END_REUSED:
		return OTS_FLOW_END_REUSED;
	case OTS_END_SHUTDOWN:
		return OTS_FLOW_END_SHUTDOWN;
	default:
		return f->tcp_state == OTS_TCP_CLOSED ? OTS_FLOW_END_CLOSED : OTS_FLOW_END_TIMEOUT;
	}
}

static void set_addr(struct ots_addr *a, uint8_t family, const uint32_t ip[4])
{
	a->family = family;
	memcpy(a->ip, ip, 16);
}

/* the Flow record of an ending flow, client as source */
static void emit_flow(struct ots_worker *w, struct ots_flow_table *ft, uint32_t pos, int why)
{
	const struct ots_flow_key *k;
	if (ots_flow_get_key(ft, pos, &k) < 0)
		return;
	const struct ots_flow *f = &ft->flows[pos];
	const struct ots_flow_cold *cd = &ft->cold[pos];
	union ots_record_buf b;
	memset(&b, 0, ots_record_len(OTS_REC_flow));
	b.rec.type = OTS_REC_flow;
	b.rec.worker = w->id;
	struct ots_rec_flow *r = &b.rec.u.flow;
	int cs = f->client_side, ss = !cs;
	set_addr(&r->t.src, k->family, k->addr[cs]);
	set_addr(&r->t.dst, k->family, k->addr[ss]);
	r->t.src_port = k->port[cs];
	r->t.dst_port = k->port[ss];
	r->t.proto = k->proto;
	r->t.vlan[0] = k->vlan[0];
	r->t.vlan[1] = k->vlan[1];
	if (cd->cflags & OTS_FC_MAC) {
		memcpy(r->src_mac, cd->mac[cs], 6);
		memcpy(r->dst_mac, cd->mac[ss], 6);
	}
	r->start_ns = f->first_ns;
	r->end_ns = f->last_ns;
	r->pkts_to_server = f->pkts[0];
	r->pkts_to_client = f->pkts[1];
	r->bytes_to_server = f->bytes[0];
	r->bytes_to_client = f->bytes[1];
	uint32_t h = rte_hash_crc(k, sizeof(*k), 0);
	r->flow_hash = ((uint64_t)h << 32) | rte_hash_crc(&f->first_ns, sizeof(f->first_ns), h);
	r->app = f->app;
	r->tcp_flags_to_server = f->tcp_flags[0];
	r->tcp_flags_to_client = f->tcp_flags[1];
	r->end_reason = end_reason(f, why);
	r->tcp_state = f->tcp_state;
	r->events = (uint16_t)(((f->flags & OTS_FF_MIDSTREAM) ? OTS_FLOWEV_MIDSTREAM : 0) |
			       (cd->gap_bytes ? OTS_FLOWEV_GAP : 0));
	r->gap_bytes = cd->gap_bytes;
	r->worker = w->id;
	hand_off(w, &b.rec);
}

/* flow end: deliver what reassembly still holds (gaps reported), emit its Flow record; then the slot is reused */
static void on_flow_end(void *ud, struct ots_flow_table *ft, uint32_t pos, int why)
{
	struct ots_worker *w = ud;
	struct ots_flow *f = &ft->flows[pos];
	if (f->tcp_state != OTS_TCP_NONE) {
		for (uint8_t d = 0; d < 2; d++) {
			struct ots_reasm_dir *rd = &ft->cold[pos].rd[d];
			if (rd->nsegs) {
				struct app_ctx c = { w, pos, d, f->app };
				ots_reasm_flush(rd, &w->segs, &w->rst, app_deliver, &c);
			}
		}
	}
	if (w->rec_ring && w->cfg->export_flows)
		emit_flow(w, ft, pos, why);
	ots_slot_put(&w->app_states, &ft->cold[pos].app_state);
	ots_slot_put(&w->det_tails, &ft->cold[pos].det_state);
}

int ots_worker_init(struct ots_worker *w, unsigned id, const struct ots_config *cfg, struct ots_run *run, int socket,
		    char *err, size_t errlen)
{
	char name[32];
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	w->run = run;
	w->ts_offset = -1;
	w->linktype = OTS_LINK_ETHERNET;
	w->tsc_hz = rte_get_tsc_hz();
	w->tsc0 = rte_rdtsc();
	w->ns_per_tsc_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / (w->tsc_hz ? w->tsc_hz : 1));
	w->rcfg.max_bytes = cfg->reasm_max_bytes;
	w->rcfg.max_segments = cfg->reasm_max_segments;
	const uint32_t tmo[OTS_FC_MAX] = {
		[OTS_FC_TCP_NEW] = cfg->timeout_tcp_new,
		[OTS_FC_TCP_EST] = cfg->timeout_tcp_est,
		[OTS_FC_TCP_CLOSED] = cfg->timeout_tcp_closed,
		[OTS_FC_UDP] = cfg->timeout_udp,
		[OTS_FC_OTHER] = cfg->timeout_other,
	};
	snprintf(name, sizeof(name), "ots_flows_w%u", id);
	int r = ots_flow_table_init(&w->ft, name, cfg->flow_capacity, socket, tmo, on_flow_end, w);
	if (r < 0) {
		snprintf(err, errlen, "worker %u: cannot allocate a flow table of %u flows (%s); lower flow.capacity "
			 "or give EAL more memory (dataplane.memory_mb)", id, cfg->flow_capacity, strerror(-r));
		return r;
	}
	r = ots_seg_pool_init(&w->segs, cfg->reasm_pool_segments);
	w->scratch = malloc(SCRATCH_BYTES);
	if (r < 0 || !w->scratch) {
		snprintf(err, errlen, "worker %u: cannot allocate %u reassembly segments; lower reassembly.segment_pool",
			 id, cfg->reasm_pool_segments);
		ots_worker_fini(w);
		return -ENOMEM;
	}
	char why[256];
	if (ots_registry_parse_set(cfg->parsers, &w->inspect, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "protocols.parsers: %s", why);
		ots_worker_fini(w);
		return -EINVAL;
	}
	r = ots_slot_pool_init(&w->app_states, cfg->app_state_pool, OTS_APP_STATE_MAX);
	w->ids = calloc(OTS_MAX_IDENTITIES, sizeof(*w->ids));
	if (r < 0 || !w->ids || ots_pducount_init(&w->pdus, cfg->pdu_counters) < 0) {
		snprintf(err, errlen, "worker %u: cannot allocate %u parser states (%u MiB); lower protocols.state_pool",
			 id, cfg->app_state_pool, (unsigned)((uint64_t)cfg->app_state_pool * OTS_APP_STATE_MAX >> 20));
		ots_worker_fini(w);
		return -ENOMEM;
	}
	if (run && run->detect) {
		r = ots_detect_worker_init(&w->det, run->detect, det_emit, w);
		uint32_t ov = ots_detect_overlap(run->detect);
		w->det_overlap = ov > OTS_DET_TAIL_MAX ? OTS_DET_TAIL_MAX : ov;
		if (r == 0 && w->det_overlap && cfg->stream_pool) {
			/* slots sized to what is kept (the longest fast pattern - 1), not the 255-byte cap: denser */
			r = ots_slot_pool_init(&w->det_tails, cfg->stream_pool,
					       (sizeof(struct ots_det_tail) + 2u * w->det_overlap + 7u) & ~(size_t)7);
			w->det_buf = malloc(SCRATCH_BYTES + OTS_DET_TAIL_MAX);
			if (r == 0 && !w->det_buf)
				r = -ENOMEM;
		}
		if (r < 0) {
			snprintf(err, errlen, "worker %u: cannot allocate detection state (%s); lower detect.stream_pool, "
				 "detect.alert_capacity or detect.threshold_capacity", id, strerror(-r));
			ots_worker_fini(w);
			return r;
		}
	}
	/* whose payload reaches the app layer: the protocols parsed, plus the flows some signature scans */
	for (uint8_t l4 = 0; l4 < 4; l4++) {
		w->deliver[l4] = w->inspect;
		for (uint16_t app = 0; w->det.scan && app < OTS_APP_MAX; app++)
			if (ots_sigdb_wants(w->det.d->db, l4, app))
				w->deliver[l4] |= 1ull << app;
	}
	return 0;
}

void ots_worker_fini(struct ots_worker *w)
{
	ots_flow_table_fini(&w->ft);
	ots_seg_pool_fini(&w->segs);
	free(w->scratch);
	ots_slot_pool_fini(&w->app_states);
	free(w->ids);
	ots_pducount_fini(&w->pdus);
	if (w->det.d)
		ots_detect_worker_fini(&w->det);
	ots_slot_pool_fini(&w->det_tails);
	free(w->det_buf);
	w->det_buf = NULL;
	w->det.d = NULL;
	w->scratch = NULL;
	w->ids = NULL;
}

static inline uint64_t tsc_now_ns(const struct ots_worker *w)
{
	uint64_t d = rte_rdtsc() - w->tsc0; /* ns = d * (10^9 * 2^32 / hz) >> 32: no division on the idle loop */
	return w->ns0 + (uint64_t)(((unsigned __int128)d * w->ns_per_tsc_q32) >> 32);
}

static void count_events(struct ots_worker *w, uint64_t ev)
{
	while (ev) {
		w->st.events[__builtin_ctzll(ev)]++;
		ev &= ev - 1;
	}
}

static int32_t new_flow(struct ots_worker *w, const struct ots_flow_key *k, const uint8_t *frame, int side)
{
	int32_t p = ots_flow_insert(&w->ft, k, w->now_ns);
	if (unlikely(p < 0)) {
		w->st.flow_insert_failed++;
		return p;
	}
	struct ots_flow *f = &w->ft.flows[p];
	if (!(f->flags & OTS_FF_COUNTED)) {
		f->flags |= OTS_FF_COUNTED;
		f->app = ots_registry_classify(k->proto, k->port[0], k->port[1]);
		w->st.app_flows[f->app]++;
		if (w->linktype == OTS_LINK_ETHERNET) { /* frame: dst MAC, src MAC */
			struct ots_flow_cold *cd = &w->ft.cold[p];
			memcpy(cd->mac[side], frame + 6, 6);
			memcpy(cd->mac[!side], frame, 6);
			cd->cflags |= OTS_FC_MAC;
		}
	}
	return p;
}

static void app_layer(struct ots_worker *w, uint32_t pos, int dir, const struct ots_pkt *pkt)
{
	struct ots_flow *f = &w->ft.flows[pos];
	struct app_ctx c = { .w = w, .pos = pos, .dir = (uint8_t)dir, .app = f->app }; /* c.df is built on demand */
	if (pkt->ip_proto == 6) {
		uint8_t fl = pkt->tcp_flags;
		if (!pkt->payload_len && !(fl & (OTS_TCP_SYN | OTS_TCP_FIN | OTS_TCP_RST)))
			return;
		struct ots_reasm_dir *rd = w->ft.cold[pos].rd;
		ots_reasm_segment(&rd[dir], &w->segs, &w->rcfg, &w->rst, pkt->seq, fl, pkt->payload,
				  pkt->payload_len, app_deliver, &c);
		if (unlikely(fl & (OTS_TCP_FIN | OTS_TCP_RST))) {
			if (rd[dir].nsegs)
				ots_reasm_flush(&rd[dir], &w->segs, &w->rst, app_deliver, &c);
			if ((fl & OTS_TCP_RST) && rd[!dir].nsegs) {
				c.dir = (uint8_t)!dir;
				ots_reasm_flush(&rd[!dir], &w->segs, &w->rst, app_deliver, &c);
			}
		}
	} else if (pkt->payload_len) {
		if (unlikely(f->app == OTS_APP_DHCP) && inspects(w, OTS_APP_DHCP)) {
			struct ots_disc d;
			if (ots_dhcp_parse(pkt->payload, pkt->payload_len, &d) == 0)
				disc_observe(w, &d, OTS_APP_DHCP, NULL);
			else
				w->st.parse_errors[OTS_APP_DHCP]++;
		}
		app_deliver(&c, pkt->payload, pkt->payload_len, 0);
	}
}

/* a SYN (no ACK) with a new initial sequence number on a closed TCP flow is a new connection on the same
 * ports; the same ISN again is the client retrying after a RST (what tshark also counts as one conversation) */
static inline int tcp_reused(const struct ots_flow_table *ft, uint32_t pos, const struct ots_pkt *pkt)
{
	const struct ots_flow_cold *c = &ft->cold[pos];
	return ft->flows[pos].tcp_state == OTS_TCP_CLOSED &&
	       (pkt->tcp_flags & (OTS_TCP_SYN | OTS_TCP_ACK)) == OTS_TCP_SYN &&
	       (!(c->cflags & OTS_FC_ISN) || c->client_isn != pkt->seq);
}

static void process_frames(struct ots_worker *w, const struct frame *fr, uint32_t n)
{
	struct ots_pkt pk[LOOKUP_MAX];
	struct ots_flow_key keys[LOOKUP_MAX];
	const struct ots_flow_key *kp[LOOKUP_MAX];
	int32_t pos[LOOKUP_MAX];
	uint8_t side[LOOKUP_MAX], idx[LOOKUP_MAX];
	uint32_t m = 0;

	for (uint32_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(fr[i].data);
	for (uint32_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(fr[i + PREFETCH_AHEAD].data);
		struct ots_pkt *p = &pk[i];
		ots_decode(fr[i].data, fr[i].caplen, w->linktype, p);
		w->st.processed++;
		w->st.bytes += fr[i].wire_len;
		w->st.l3[p->l3_type]++;
		if (unlikely(p->events))
			count_events(w, p->events);
		if (likely(p->flow_ok && !(p->flags & OTS_PF_FRAG_LATE))) {
			side[m] = (uint8_t)ots_flow_key_make(p, &keys[m]);
			kp[m] = &keys[m];
			idx[m] = (uint8_t)i;
			m++;
		} else {
			w->st.no_flow++;
			if (p->l3_type == OTS_L3_ARP || p->l3_type == OTS_L3_OTHER)
				l2_discovery(w, fr[i].data, fr[i].caplen, p);
		}
	}
	if (!m)
		return;
	ots_flow_lookup_bulk(&w->ft, kp, m, pos);
	if (unlikely(w->ft.st.active + m > w->ft.capacity)) {
		/* table nearly full: make room for this burst's new flows before inserting any, so no insert
		 * evicts a flow that a later packet of the burst already looked up; then look up again */
		uint32_t misses = 0;
		for (uint32_t j = 0; j < m; j++)
			misses += pos[j] < 0;
		if (w->ft.st.active + misses > w->ft.capacity) {
			ots_flow_make_room(&w->ft, misses);
			ots_flow_lookup_bulk(&w->ft, kp, m, pos);
		}
	}
	int stale = 0;
	for (uint32_t j = 0; j < m; j++) {
		const struct ots_pkt *p = &pk[idx[j]];
		int32_t q = pos[j];
		if (fr[idx[j]].ts > w->now_ns) /* packet clock, packet by packet (a burst can span seconds) */
			w->now_ns = fr[idx[j]].ts;
		if (unlikely(stale))
			q = rte_hash_lookup(w->ft.h, &keys[j]);
		if (q < 0) {
			q = new_flow(w, &keys[j], fr[idx[j]].data, side[j]);
			if (q < 0)
				continue;
		} else if (unlikely(p->ip_proto == 6 && tcp_reused(&w->ft, (uint32_t)q, p))) {
			ots_flow_end(&w->ft, (uint32_t)q, OTS_END_REUSED);
			stale = 1;
			q = new_flow(w, &keys[j], fr[idx[j]].data, side[j]);
			if (q < 0)
				continue;
		}
		int dir = ots_flow_update(&w->ft, (uint32_t)q, side[j], p, fr[idx[j]].wire_len, w->now_ns);
		if (unlikely((p->tcp_flags & (OTS_TCP_SYN | OTS_TCP_ACK)) == OTS_TCP_SYN && p->ip_proto == 6 && !dir)) {
			w->ft.cold[q].client_isn = p->seq;
			w->ft.cold[q].cflags |= OTS_FC_ISN;
		}
		/* payload to the app layer unless neither a parser (protocols.parsers) nor a signature wants it */
		if ((p->payload_len || p->ip_proto == 6) && ((w->deliver[l4_of(p->ip_proto)] >> w->ft.flows[q].app) & 1))
			app_layer(w, (uint32_t)q, dir, p);
	}
}

static inline uint64_t mbuf_ts(const struct ots_worker *w, const struct rte_mbuf *m)
{
	if (w->ts_offset >= 0 && (m->ol_flags & w->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, w->ts_offset, rte_mbuf_timestamp_t *) * w->ts_mult;
	return 0;
}

/* Give a burst back to its mempool. A PMD's received mbufs are almost always single-segment, direct, not shared
 * and from one pool: then they go back in one rte_mempool_put_bulk, reading only their first cache line (what
 * DPDK's MBUF_FAST_FREE does on tx); anything else takes the general rte_pktmbuf_free_bulk. */
static inline void free_rx(struct rte_mbuf **pkts, uint32_t n)
{
	if (!n)
		return;
	struct rte_mempool *mp = pkts[0]->pool;
	uint32_t plain = 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		plain &= (m->pool == mp) & (m->nb_segs == 1) & (rte_mbuf_refcnt_read(m) == 1) &
			 !(m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL));
	}
	if (likely(plain))
		rte_mempool_put_bulk(mp, (void **)pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

void ots_worker_process(struct ots_worker *w, struct rte_mbuf **pkts, uint32_t n)
{
	struct frame fr[LOOKUP_MAX];
	uint32_t k = 0;
	if (w->ts_offset < 0)
		w->now_ns = tsc_now_ns(w);
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (unlikely(m->nb_segs > 1)) {
			/* jumbo frame in chained mbufs: linearise it and process it alone */
			if (k) {
				process_frames(w, fr, k);
				k = 0;
			}
			uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)SCRATCH_BYTES);
			const uint8_t *d = rte_pktmbuf_read(m, 0, len, w->scratch);
			struct frame one = { d, d ? len : 0, m->pkt_len, mbuf_ts(w, m) };
			w->st.multiseg++;
			process_frames(w, &one, 1);
			continue;
		}
		fr[k].data = rte_pktmbuf_mtod(m, const uint8_t *);
		fr[k].caplen = m->data_len;
		fr[k].wire_len = m->pkt_len;
		fr[k].ts = mbuf_ts(w, m);
		if (++k == LOOKUP_MAX) {
			process_frames(w, fr, k);
			k = 0;
		}
	}
	if (k)
		process_frames(w, fr, k);
	free_rx(pkts, n);
}

void ots_worker_process_bytes(struct ots_worker *w, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
			      uint64_t ts_ns)
{
	struct frame f = { data, caplen, wire_len, ts_ns };
	process_frames(w, &f, 1);
}

/* port has fewer queues than workers: hand each packet to the worker its symmetric hash names */
static void dispatch(struct ots_worker *w, struct rte_mbuf **pkts, uint32_t n)
{
	struct rte_mbuf *mine[OTS_MAX_BURST], *theirs[OTS_MAX_BURST];
	uint8_t target[OTS_MAX_BURST];
	uint32_t nw = w->run->nworkers, nm = 0;
	struct ots_pkt p;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		ots_decode(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, w->linktype, &p);
		uint32_t h = ots_rss_hash(&p);
		m->hash.rss = h;
		target[i] = (uint8_t)(((uint64_t)h * nw) >> 32);
		if (target[i] == w->id)
			mine[nm++] = m;
	}
	for (uint32_t t = 0; t < nw; t++) {
		if (t == w->id || !w->out[t])
			continue;
		uint32_t k = 0;
		for (uint32_t i = 0; i < n; i++)
			if (target[i] == t)
				theirs[k++] = pkts[i];
		if (!k)
			continue;
		uint32_t sent = rte_ring_sp_enqueue_burst(w->out[t], (void **)theirs, k, NULL);
		w->st.forwarded += sent;
		if (unlikely(sent < k)) {
			w->st.drops[OTS_DROP_sw_ring_full] += k - sent;
			rte_pktmbuf_free_bulk(theirs + sent, k - sent);
		}
	}
	if (nm)
		ots_worker_process(w, mine, nm);
}

static uint32_t drain_rings(struct ots_worker *w, struct rte_mbuf **pkts, unsigned burst)
{
	uint32_t got = 0;
	for (unsigned j = 0; j < w->run->nworkers; j++) {
		if (!w->in[j])
			continue;
		unsigned n = rte_ring_sc_dequeue_burst(w->in[j], (void **)pkts, burst, NULL);
		if (n) {
			w->st.rx_ring += n;
			ots_worker_process(w, pkts, n);
			got += n;
		}
	}
	return got;
}

int ots_worker_main(void *arg)
{
	struct ots_worker *w = arg;
	struct rte_mbuf *pkts[OTS_MAX_BURST];
	const unsigned burst = w->cfg->burst;
	const uint32_t batch = w->cfg->expiry_batch;

	while (likely(!w->run->stop)) {
		uint32_t got = 0;
		for (unsigned q = 0; q < w->nrxq; q++) {
			uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, (uint16_t)burst);
			if (!n)
				continue;
			w->st.rx_port += n;
			got += n;
			if (w->distribute)
				dispatch(w, pkts, n);
			else
				ots_worker_process(w, pkts, n);
		}
		if (w->nin)
			got += drain_rings(w, pkts, burst);
		if (!got) {
			w->st.idle_loops++;
			if (w->ts_offset < 0)
				w->now_ns = tsc_now_ns(w);
		}
		ots_flow_expire(&w->ft, w->now_ns, batch);
		if (w->det.d)
			ots_detect_tick(&w->det, w->now_ns);
		w->st.loops++;
	}
	__atomic_store_n(&w->run->rx_done[w->id], 1, __ATOMIC_RELEASE);
	/* drain hand-off rings until every producer has stopped and nothing is left */
	for (;;) {
		int all = 1;
		for (unsigned j = 0; j < w->run->nworkers; j++)
			if (!__atomic_load_n(&w->run->rx_done[j], __ATOMIC_ACQUIRE))
				all = 0;
		uint32_t got = w->nin ? drain_rings(w, pkts, burst) : 0;
		if (all && !got)
			break;
	}
	return 0;
}

void ots_worker_flush(struct ots_worker *w)
{
	ots_flow_flush_all(&w->ft);
	if (w->det.d)
		ots_detect_flush(&w->det);
}
