/* export/encode.c - records to protobuf Envelope bytes and JSON (see encode.h).
 *
 * How it works:
 *  - build(): one small function per record type maps the C record onto the protobuf-c message structs
 *    generated from export/proto/otsense/v1/ *.proto. Everything lives in one struct on the caller's stack
 *    (struct built): repeated fields use fixed arrays sized by record.h's limits, strings point into the record's
 *    fixed fields (or, when a field is not valid UTF-8 or not terminated, at a repaired copy in a small pool),
 *    addresses are formatted into fixed buffers. No allocation.
 *  - ots_encode_pb() writes asset, alert and flow records straight to protobuf bytes (w_flow() & co, with the
 *    backwards wire writer of export/pbwire.h): the same bytes as packing the build() message with protobuf-c
 *    (ots_encode_pb_ref(), which health records still use), 4-6x faster; tests/test_encode.c compares the two
 *    on random and random-byte records.
 *  - ots_encode_pb_ref() packs the build() message; ots_encode_json() walks it with json_message(), a generic
 *    walker over the protobuf-c descriptors that knows nothing about otsense: field names are the proto names in
 *    lowerCamelCase, so JSON and protobuf cannot drift apart. ots_pb_to_json() unpacks bytes (into a stack
 *    arena) and runs the same walker, so both give byte-identical JSON.
 *  - Enum values are mapped explicitly from record.h's C enums (whose 0 is a real value) to the proto enums
 *    (whose 0 is *_UNSPECIFIED); a C value the table does not know becomes *_UNSPECIFIED.
 */
#include "export/encode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export/jsonw.h"
#include "export/pbwire.h"
#include "export/proto/envelope.pb-c.h"
#include "protocols/registry.h"

#define IPSTR 46  /* INET6_ADDRSTRLEN */
#define MACSTR 18 /* "00:11:22:33:44:55" */

/* ---- text forms ------------------------------------------------------------------------------------------ */

static size_t put_u8_dec(char *o, unsigned v)
{
	size_t n = 0;
	if (v >= 100)
		o[n++] = (char)('0' + v / 100);
	if (v >= 10)
		o[n++] = (char)('0' + v / 10 % 10);
	o[n++] = (char)('0' + v % 10);
	return n;
}

void ots_fmt_ip(const struct ots_addr *a, char *buf, size_t cap)
{
	char tmp[IPSTR];
	size_t n = 0;
	if (!buf || !cap)
		return;
	if (a && a->family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				tmp[n++] = '.';
			n += put_u8_dec(tmp + n, a->ip[i]);
		}
	} else if (a && a->family == 6) {
		if (inet_ntop(AF_INET6, a->ip, tmp, sizeof(tmp)))
			n = strlen(tmp);
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, tmp, n);
	buf[n] = 0;
}

void ots_fmt_mac(const uint8_t mac[6], char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[MACSTR];
	if (!buf || !cap)
		return;
	for (int i = 0; i < 6; i++) {
		tmp[i * 3] = hex[mac[i] >> 4];
		tmp[i * 3 + 1] = hex[mac[i] & 15];
		tmp[i * 3 + 2] = i < 5 ? ':' : 0;
	}
	size_t n = cap - 1 < MACSTR - 1 ? cap - 1 : MACSTR - 1;
	memcpy(buf, tmp, n);
	buf[n] = 0;
}

/* ---- strings: valid UTF-8, NUL-terminated --------------------------------------------------------------- */

/* proto3 parsers (Go, Java, protoc) reject a whole message when a string field is not valid UTF-8, and record
 * strings come from the network. Strings are checked (RFC 3629: no overlongs, surrogates or > U+10FFFF) and
 * repaired copies made in this pool when needed: each invalid byte becomes U+FFFD, as jsonw does for JSON. */
struct strpool {
	size_t used;
	char buf[4096]; /* the largest record's strings (alert: ~1 KB) three times over, plus the sensor id */
};

/* length of the valid UTF-8 sequence at p (n bytes available), 0 when invalid */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
	    (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return need;
}

/* pstr_n() past the first byte i that is not 0x01..0x7f: validate, or make a repaired copy */
static __attribute__((noinline)) char *pstr_slow(struct strpool *pl, const char *s, size_t cap, size_t i,
						 size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = i;
	while (n < cap && p[n])
		n++;
	int ok = n < cap;
	for (size_t j = i; ok && j < n;) {
		size_t k = utf8_seq(p + j, n - j);
		ok = k != 0;
		j += k;
	}
	if (ok) {
		*len = n;
		return (char *)s;
	}
	char *out = pl->buf + pl->used;
	size_t room = sizeof(pl->buf) - pl->used, o = 0;
	*len = 0;
	if (!room)
		return (char *)"";
	for (size_t j = 0; j < n;) {
		size_t k = utf8_seq(p + j, n - j);
		const char *src = k ? s + j : "\xef\xbf\xbd";
		size_t len = k ? k : 3;
		if (o + len + 1 > room)
			break;
		memcpy(out + o, src, len);
		o += len;
		j += k ? k : 1;
	}
	out[o] = 0;
	pl->used += o + 1;
	*len = o;
	return out;
}

/* s is a fixed field of cap bytes (SIZE_MAX: a NUL-terminated string). Returns s itself when it is terminated
 * within cap and valid UTF-8 (the common case: no copy), else a repaired, truncated-to-fit copy; *len is the
 * returned string's length. */
static inline char *pstr_n(struct strpool *pl, const char *s, size_t cap, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	/* 8 bytes at a time while all are 0x01..0x7f: (b | (b - 1)) has its top bit set for 0 and for >= 0x80, and
	 * only a 0 byte borrows, so the lowest top bit set is the first byte that is not (not for SIZE_MAX: the
	 * string's storage may end right after its NUL) */
	if (cap != SIZE_MAX) {
		while (i + 8 <= cap) {
			uint64_t x;
			memcpy(&x, p + i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			x = __builtin_bswap64(x);
#endif
			uint64_t stop = (x | (x - 0x0101010101010101ull)) & 0x8080808080808080ull;
			if (stop) {
				i += (size_t)__builtin_ctzll(stop) / 8;
				break;
			}
			i += 8;
		}
	}
	while (i < cap && p[i] && p[i] < 0x80)
		i++;
	if (i < cap && !p[i]) {
		*len = i;
		return (char *)s; /* ASCII */
	}
	return pstr_slow(pl, s, cap, i, len);
}

static char *pstr(struct strpool *pl, const char *s, size_t cap)
{
	size_t len;
	return pstr_n(pl, s, cap, &len);
}

#define PSTR(pl, field) pstr((pl), (field), sizeof(field))

/* ---- C record -> protobuf-c message ---------------------------------------------------------------------- */

struct tuple_b {
	Otsense__V1__FlowTuple m;
	char src[IPSTR], dst[IPSTR];
};

struct key_b {
	Otsense__V1__AssetKey m;
	char mac[MACSTR], ip[IPSTR];
};

struct flow_b {
	Otsense__V1__Flow m;
	struct tuple_b t;
	char src_mac[MACSTR], dst_mac[MACSTR];
	Otsense__V1__FlowEvent events[3];
};

struct alert_b {
	Otsense__V1__Alert m;
	Otsense__V1__RuleRef rule;
	struct tuple_b t;
	struct key_b src, dst;
	char *mitre[OTS_ALERT_MAX_MITRE];
	Otsense__V1__KeyValue ev[OTS_ALERT_MAX_EVIDENCE];
	Otsense__V1__KeyValue *evp[OTS_ALERT_MAX_EVIDENCE];
};

struct asset_b {
	Otsense__V1__Asset m;
	struct key_b key;
	char ips[OTS_ASSET_MAX_IPS][IPSTR];
	char *ipp[OTS_ASSET_MAX_IPS];
	Otsense__V1__AssetAttribute attrs[OTS_ASSET_MAX_ATTRS];
	Otsense__V1__AssetAttribute *names[OTS_ASSET_MAX_ATTRS];
	char *served[64], *used[64];
};

#define HEALTH_PROTOS 64 /* sizeof(ots_rec_health.parse_errors) entries */

struct health_b {
	Otsense__V1__SensorHealth m;
	Otsense__V1__ProtocolCount pc[HEALTH_PROTOS];
	Otsense__V1__ProtocolCount *pcp[HEALTH_PROTOS];
	Otsense__V1__WorkerHealth w[OTS_HEALTH_MAX_WORKERS];
	Otsense__V1__WorkerHealth *wp[OTS_HEALTH_MAX_WORKERS];
};

struct built {
	Otsense__V1__Envelope env;
	struct strpool pool;
	union {
		struct flow_b flow;
		struct alert_b alert;
		struct asset_b asset;
		struct health_b health;
	} u;
};

static const Otsense__V1__FlowEndReason end_reason_map[] = {
	[OTS_FLOW_END_TIMEOUT] = OTSENSE__V1__FLOW_END_REASON__FLOW_END_REASON_TIMEOUT,
	[OTS_FLOW_END_EVICTED] = OTSENSE__V1__FLOW_END_REASON__FLOW_END_REASON_EVICTED,
	[OTS_FLOW_END_REUSED] = OTSENSE__V1__FLOW_END_REASON__FLOW_END_REASON_REUSED,
	[OTS_FLOW_END_SHUTDOWN] = OTSENSE__V1__FLOW_END_REASON__FLOW_END_REASON_SHUTDOWN,
	[OTS_FLOW_END_CLOSED] = OTSENSE__V1__FLOW_END_REASON__FLOW_END_REASON_CLOSED,
};

/* ots_rec_flow.tcp_state is enum ots_tcp_state (dataplane/flow.h): none, new, established, closing, closed */
static const Otsense__V1__TcpState tcp_state_map[] = {
	OTSENSE__V1__TCP_STATE__TCP_STATE_UNSPECIFIED, OTSENSE__V1__TCP_STATE__TCP_STATE_NEW,
	OTSENSE__V1__TCP_STATE__TCP_STATE_ESTABLISHED, OTSENSE__V1__TCP_STATE__TCP_STATE_CLOSING,
	OTSENSE__V1__TCP_STATE__TCP_STATE_CLOSED,
};

static const struct {
	uint16_t bit;
	Otsense__V1__FlowEvent ev;
} flow_event_map[3] = {
	{ OTS_FLOWEV_MIDSTREAM, OTSENSE__V1__FLOW_EVENT__FLOW_EVENT_MIDSTREAM },
	{ OTS_FLOWEV_GAP, OTSENSE__V1__FLOW_EVENT__FLOW_EVENT_GAP },
	{ OTS_FLOWEV_MALFORMED, OTSENSE__V1__FLOW_EVENT__FLOW_EVENT_MALFORMED },
};

static const Otsense__V1__DetectionEngine engine_map[] = {
	[OTS_ENGINE_SIGNATURE] = OTSENSE__V1__DETECTION_ENGINE__DETECTION_ENGINE_SIGNATURE,
	[OTS_ENGINE_OT] = OTSENSE__V1__DETECTION_ENGINE__DETECTION_ENGINE_OT,
	[OTS_ENGINE_ANOMALY] = OTSENSE__V1__DETECTION_ENGINE__DETECTION_ENGINE_ANOMALY,
	[OTS_ENGINE_SENSOR] = OTSENSE__V1__DETECTION_ENGINE__DETECTION_ENGINE_SENSOR,
};

static const Otsense__V1__Severity severity_map[] = {
	[OTS_SEV_INFO] = OTSENSE__V1__SEVERITY__SEVERITY_INFO,
	[OTS_SEV_LOW] = OTSENSE__V1__SEVERITY__SEVERITY_LOW,
	[OTS_SEV_MEDIUM] = OTSENSE__V1__SEVERITY__SEVERITY_MEDIUM,
	[OTS_SEV_HIGH] = OTSENSE__V1__SEVERITY__SEVERITY_HIGH,
	[OTS_SEV_CRITICAL] = OTSENSE__V1__SEVERITY__SEVERITY_CRITICAL,
};

static const Otsense__V1__AssetRole role_map[] = {
	[OTS_ROLE_UNKNOWN] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_UNSPECIFIED,
	[OTS_ROLE_PLC] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_PLC,
	[OTS_ROLE_RTU] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_RTU,
	[OTS_ROLE_HMI] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_HMI,
	[OTS_ROLE_ENG_STATION] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_ENGINEERING_WORKSTATION,
	[OTS_ROLE_HISTORIAN] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_HISTORIAN,
	[OTS_ROLE_IT_HOST] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_IT_HOST,
	[OTS_ROLE_NETWORK] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_NETWORK_DEVICE,
	[OTS_ROLE_IOT] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_IOT_DEVICE,
	[OTS_ROLE_SERVER] = OTSENSE__V1__ASSET_ROLE__ASSET_ROLE_SERVER,
};

#define MAP(table, v) ((size_t)(v) < sizeof(table) / sizeof((table)[0]) ? (table)[v] : 0)

/* registry names are static strings; protobuf-c wants char * but never writes through it */
static char *app_name(uint16_t app)
{
	return (char *)ots_app_name(app);
}

static int mac_zero(const uint8_t mac[6])
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* NULL (absent) for an all-zero MAC: the sensor did not capture it */
static char *mac_str(char *buf, const uint8_t mac[6])
{
	if (mac_zero(mac))
		return NULL;
	ots_fmt_mac(mac, buf, MACSTR);
	return buf;
}

static char *ip_str(char *buf, const struct ots_addr *a)
{
	if (a->family != 4 && a->family != 6)
		return NULL;
	ots_fmt_ip(a, buf, IPSTR);
	return buf;
}

static Otsense__V1__FlowTuple *build_tuple(struct tuple_b *b, const struct ots_tuple *t)
{
	b->m = (Otsense__V1__FlowTuple)OTSENSE__V1__FLOW_TUPLE__INIT;
	b->m.src_ip = ip_str(b->src, &t->src);
	b->m.dst_ip = ip_str(b->dst, &t->dst);
	b->m.src_port = t->src_port;
	b->m.dst_port = t->dst_port;
	b->m.ip_proto = t->proto;
	b->m.vlan_outer = t->vlan[0];
	b->m.vlan_inner = t->vlan[1];
	return &b->m;
}

static int tuple_empty(const struct ots_tuple *t)
{
	return !t->src.family && !t->dst.family && !t->src_port && !t->dst_port && !t->proto && !t->vlan[0] &&
	       !t->vlan[1];
}

/* NULL (absent) when the key holds neither a MAC nor an IP */
static Otsense__V1__AssetKey *build_key(struct key_b *b, const struct ots_asset_key *k)
{
	if (!k->has_mac && k->ip.family != 4 && k->ip.family != 6)
		return NULL;
	b->m = (Otsense__V1__AssetKey)OTSENSE__V1__ASSET_KEY__INIT;
	if (k->has_mac) {
		ots_fmt_mac(k->mac, b->mac, MACSTR);
		b->m.mac = b->mac;
	}
	b->m.ip = ip_str(b->ip, &k->ip);
	return &b->m;
}

static void build_flow(struct built *b, const struct ots_rec_flow *r)
{
	struct flow_b *f = &b->u.flow;
	Otsense__V1__Flow *m = &f->m;
	*m = (Otsense__V1__Flow)OTSENSE__V1__FLOW__INIT;
	m->tuple = build_tuple(&f->t, &r->t);
	m->src_mac = mac_str(f->src_mac, r->src_mac);
	m->dst_mac = mac_str(f->dst_mac, r->dst_mac);
	m->app_protocol = app_name(r->app);
	m->start_time_unix_nano = r->start_ns;
	m->end_time_unix_nano = r->end_ns;
	m->packets_to_server = r->pkts_to_server;
	m->packets_to_client = r->pkts_to_client;
	m->bytes_to_server = r->bytes_to_server;
	m->bytes_to_client = r->bytes_to_client;
	m->tcp_flags_to_server = r->tcp_flags_to_server;
	m->tcp_flags_to_client = r->tcp_flags_to_client;
	m->tcp_state = MAP(tcp_state_map, r->tcp_state);
	m->end_reason = MAP(end_reason_map, r->end_reason);
	for (size_t i = 0; i < sizeof(flow_event_map) / sizeof(flow_event_map[0]); i++)
		if (r->events & flow_event_map[i].bit)
			f->events[m->n_events++] = flow_event_map[i].ev;
	m->events = f->events;
	m->gap_bytes = r->gap_bytes;
	m->flow_hash = r->flow_hash;
	m->worker = r->worker;
	b->env.record_case = OTSENSE__V1__ENVELOPE__RECORD_FLOW;
	b->env.flow = m;
}

static void build_alert(struct built *b, const struct ots_rec_alert *r)
{
	struct alert_b *a = &b->u.alert;
	Otsense__V1__Alert *m = &a->m;
	*m = (Otsense__V1__Alert)OTSENSE__V1__ALERT__INIT;
	m->id = PSTR(&b->pool, r->id);
	m->time_unix_nano = r->time_ns;
	m->first_time_unix_nano = r->first_ns;
	m->count = r->count;
	m->engine = MAP(engine_map, r->engine);
	m->category = PSTR(&b->pool, r->category);
	m->severity = MAP(severity_map, r->severity);
	m->title = PSTR(&b->pool, r->title);
	m->description = PSTR(&b->pool, r->description);
	size_t n = r->nmitre < OTS_ALERT_MAX_MITRE ? r->nmitre : OTS_ALERT_MAX_MITRE;
	for (size_t i = 0; i < n; i++)
		a->mitre[i] = PSTR(&b->pool, r->mitre[i]);
	m->n_mitre_techniques = n;
	m->mitre_techniques = a->mitre;
	if (r->sid || r->rev || r->gid) {
		a->rule = (Otsense__V1__RuleRef)OTSENSE__V1__RULE_REF__INIT;
		a->rule.gid = r->gid;
		a->rule.sid = r->sid;
		a->rule.rev = r->rev;
		m->rule = &a->rule;
	}
	if (!tuple_empty(&r->t))
		m->tuple = build_tuple(&a->t, &r->t);
	m->src_asset = build_key(&a->src, &r->src_asset);
	m->dst_asset = build_key(&a->dst, &r->dst_asset);
	m->protocol = app_name(r->app);
	n = r->nevidence < OTS_ALERT_MAX_EVIDENCE ? r->nevidence : OTS_ALERT_MAX_EVIDENCE;
	for (size_t i = 0; i < n; i++) {
		a->ev[i] = (Otsense__V1__KeyValue)OTSENSE__V1__KEY_VALUE__INIT;
		a->ev[i].key = PSTR(&b->pool, r->evidence[i].key);
		a->ev[i].value = PSTR(&b->pool, r->evidence[i].value);
		a->evp[i] = &a->ev[i];
	}
	m->n_evidence = n;
	m->evidence = a->evp;
	b->env.record_case = OTSENSE__V1__ENVELOPE__RECORD_ALERT;
	b->env.alert = m;
}

static void build_attr(struct built *b, Otsense__V1__AssetAttribute *m, const struct ots_attr *at)
{
	*m = (Otsense__V1__AssetAttribute)OTSENSE__V1__ASSET_ATTRIBUTE__INIT;
	m->value = PSTR(&b->pool, at->value);
	m->source_protocol = app_name(at->source);
	m->confidence = at->confidence;
	m->time_unix_nano = at->time_ns;
}

static void build_asset(struct built *b, const struct ots_rec_asset *r)
{
	struct asset_b *a = &b->u.asset;
	Otsense__V1__Asset *m = &a->m;
	*m = (Otsense__V1__Asset)OTSENSE__V1__ASSET__INIT;
	m->id = PSTR(&b->pool, r->id);
	m->key = build_key(&a->key, &r->key);
	size_t n = r->nips < OTS_ASSET_MAX_IPS ? r->nips : OTS_ASSET_MAX_IPS;
	for (size_t i = 0; i < n; i++) {
		char *s = ip_str(a->ips[i], &r->ips[i]);
		if (s)
			a->ipp[m->n_ips++] = s;
	}
	m->ips = a->ipp;
	m->role = MAP(role_map, r->role);
	m->role_confidence = r->role_confidence;

	/* names: all of them, in record order; single-valued kinds: highest confidence, then latest, wins */
	Otsense__V1__AssetAttribute **single[OTS_ATTR_MAX] = {
		[OTS_ATTR_VENDOR] = &m->vendor,
		[OTS_ATTR_MODEL] = &m->model,
		[OTS_ATTR_FIRMWARE] = &m->firmware,
		[OTS_ATTR_SERIAL] = &m->serial_number,
		[OTS_ATTR_HOSTNAME] = &m->hostname,
		[OTS_ATTR_PRODUCT_CODE] = &m->product_code,
		[OTS_ATTR_DEVICE_TYPE] = &m->device_type,
		[OTS_ATTR_OS] = &m->os,
		[OTS_ATTR_DESCRIPTION] = &m->description,
	};
	const struct ots_attr *best[OTS_ATTR_MAX] = { 0 };
	n = r->nattrs < OTS_ASSET_MAX_ATTRS ? r->nattrs : OTS_ASSET_MAX_ATTRS;
	size_t nused = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ots_attr *at = &r->attrs[i];
		if (at->kind == OTS_ATTR_NAME) {
			build_attr(b, &a->attrs[nused], at);
			a->names[m->n_names++] = &a->attrs[nused++];
		} else if (at->kind < OTS_ATTR_MAX) {
			const struct ots_attr *cur = best[at->kind];
			if (!cur || at->confidence > cur->confidence ||
			    (at->confidence == cur->confidence && at->time_ns >= cur->time_ns))
				best[at->kind] = at;
		}
	}
	m->names = a->names;
	for (int k = 0; k < OTS_ATTR_MAX; k++) {
		if (!best[k] || !single[k])
			continue;
		build_attr(b, &a->attrs[nused], best[k]);
		*single[k] = &a->attrs[nused++];
	}

	for (unsigned i = 0; i < 64 && i < OTS_APP_MAX; i++) {
		if (r->protocols_served >> i & 1)
			a->served[m->n_protocols_served++] = app_name((uint16_t)i);
		if (r->protocols_used >> i & 1)
			a->used[m->n_protocols_used++] = app_name((uint16_t)i);
	}
	m->protocols_served = a->served;
	m->protocols_used = a->used;
	m->first_seen_unix_nano = r->first_ns;
	m->last_seen_unix_nano = r->last_ns;
	b->env.record_case = OTSENSE__V1__ENVELOPE__RECORD_ASSET;
	b->env.asset = m;
}

static void build_health(struct built *b, const struct ots_rec_health *r)
{
	struct health_b *h = &b->u.health;
	Otsense__V1__SensorHealth *m = &h->m;
	*m = (Otsense__V1__SensorHealth)OTSENSE__V1__SENSOR_HEALTH__INIT;
	m->time_unix_nano = r->time_ns;
	m->uptime_seconds = r->uptime_s;
	m->packets = r->packets;
	m->bytes = r->bytes;
	m->drops = r->drops;
	m->port_imissed = r->port_imissed;
	m->port_ierrors = r->port_ierrors;
	m->port_nombuf = r->port_nombuf;
	m->mempool_in_use = r->mempool_in_use;
	m->mempool_size = r->mempool_size;
	m->export_queue_depth = r->export_queue_depth;
	m->export_sent = r->export_sent;
	m->export_failed = r->export_failed;
	m->export_ring_drops = r->export_dropped_ring;
	m->spool_bytes = r->spool_bytes;
	m->spool_records = r->spool_records;
	m->sink_state = PSTR(&b->pool, r->sink_state);
	_Static_assert(sizeof(r->parse_errors) / sizeof(r->parse_errors[0]) == HEALTH_PROTOS, "parse_errors size");
	for (unsigned i = 0; i < HEALTH_PROTOS && i < OTS_APP_MAX; i++) {
		if (!r->parse_errors[i])
			continue;
		Otsense__V1__ProtocolCount *pc = &h->pc[m->n_parse_errors];
		*pc = (Otsense__V1__ProtocolCount)OTSENSE__V1__PROTOCOL_COUNT__INIT;
		pc->protocol = app_name((uint16_t)i);
		pc->count = r->parse_errors[i];
		h->pcp[m->n_parse_errors++] = pc;
	}
	m->parse_errors = h->pcp;
	size_t n = r->nworkers < OTS_HEALTH_MAX_WORKERS ? r->nworkers : OTS_HEALTH_MAX_WORKERS;
	for (size_t i = 0; i < n; i++) {
		const struct ots_health_worker *s = &r->w[i];
		Otsense__V1__WorkerHealth *w = &h->w[i];
		*w = (Otsense__V1__WorkerHealth)OTSENSE__V1__WORKER_HEALTH__INIT;
		w->id = s->id;
		w->packets_per_second = s->pps;
		w->bits_per_second = s->bps;
		w->packets = s->packets;
		w->drops = s->drops;
		w->flows_active = s->flows_active;
		w->flow_capacity = s->flow_capacity;
		w->flows_evicted = s->evicted;
		w->records_dropped = s->records_dropped;
		h->wp[i] = w;
	}
	m->n_workers = n;
	m->workers = h->wp;
	b->env.record_case = OTSENSE__V1__ENVELOPE__RECORD_HEALTH;
	b->env.health = m;
}

static int build(struct built *b, const struct ots_envelope_meta *meta, int type, const void *rec)
{
	if (!meta || !rec)
		return -EINVAL;
	b->pool.used = 0;
	b->env = (Otsense__V1__Envelope)OTSENSE__V1__ENVELOPE__INIT;
	b->env.schema_version = OTS_SCHEMA_VERSION;
	b->env.sensor_id = meta->sensor_id ? pstr(&b->pool, meta->sensor_id, SIZE_MAX) : NULL;
	b->env.boot_id = meta->boot_id;
	b->env.sequence = meta->sequence;
	b->env.time_unix_nano = meta->time_ns;
	switch (type) {
	case OTS_REC_asset:
		build_asset(b, rec);
		return 0;
	case OTS_REC_alert:
		build_alert(b, rec);
		return 0;
	case OTS_REC_flow:
		build_flow(b, rec);
		return 0;
	case OTS_REC_health:
		build_health(b, rec);
		return 0;
	default:
		return -EINVAL;
	}
}

int ots_encode_pb_ref(const struct ots_envelope_meta *m, int type, const void *rec, uint8_t *buf, size_t cap)
{
	struct built b;
	int rc = build(&b, m, type, rec);
	if (rc < 0)
		return rc;
	size_t need = protobuf_c_message_get_packed_size(&b.env.base);
	if (need > cap || need > INT32_MAX)
		return -ENOBUFS;
	return (int)protobuf_c_message_pack(&b.env.base, buf);
}

/* ---- C record -> protobuf bytes directly (asset, alert, flow) ------------------------------------------- */

/* The same bytes as build() + protobuf_c_message_pack(), without the message structs and the descriptor walk
 * (tests/test_encode.c compares both on random and hostile records). Each writer mirrors its build_*()
 * function field for field, in reverse field-number order (export/pbwire.h writes backwards), and calls
 * pstr() in the same order as build() does, so even a string pool that runs out truncates identically. */

/* decimal text of 0..255 followed by a dot, as the bytes of a little-endian uint32 (4 bytes stored, the digits
 * and the dot used): a compile-time table */
#define DEC3(v)                                                                                                    \
	((v) >= 100 ? (uint32_t)('0' + (v) / 100) | (uint32_t)('0' + (v) / 10 % 10) << 8 |                        \
			      (uint32_t)('0' + (v) % 10) << 16 | (uint32_t)'.' << 24                               \
	 : (v) >= 10 ? (uint32_t)('0' + (v) / 10) | (uint32_t)('0' + (v) % 10) << 8 | (uint32_t)'.' << 16          \
		     : (uint32_t)('0' + (v)) | (uint32_t)'.' << 8)
#define DEC3_4(v) DEC3(v), DEC3((v) + 1), DEC3((v) + 2), DEC3((v) + 3)
#define DEC3_16(v) DEC3_4(v), DEC3_4((v) + 4), DEC3_4((v) + 8), DEC3_4((v) + 12)
#define DEC3_64(v) DEC3_16(v), DEC3_16((v) + 16), DEC3_16((v) + 32), DEC3_16((v) + 48)
static const uint32_t dec3[256] = { DEC3_64(0), DEC3_64(64), DEC3_64(128), DEC3_64(192) };

/* "a.b.c.d" (7..15 bytes) at o, its length; stores up to o[15] */
PBW_INLINE size_t fmt_ip4(const uint8_t ip[4], char *o)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t d = dec3[ip[i]];
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		d = __builtin_bswap32(d);
#endif
		memcpy(o + n, &d, 4);
		n += 2u + (ip[i] >= 10) + (ip[i] >= 100);
	}
	return n - 1; /* without the last dot */
}

/* inet_ntop(AF_INET6)'s text (glibc's rules: the first longest run of two or more zero groups becomes "::",
 * ::a.b.c.d and ::ffff:a.b.c.d keep a dotted IPv4 tail, lower-case hex) without its sprintf per group */
static size_t fmt_ip6(const uint8_t ip[16], char *o)
{
	static const char hex[] = "0123456789abcdef";
	unsigned g[8];
	int best = -1, blen = 0, cur = -1;
	for (int i = 0; i < 8; i++) {
		g[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
		if (g[i]) {
			cur = -1;
			continue;
		}
		if (cur < 0)
			cur = i;
		if (i - cur + 1 > blen) {
			best = cur;
			blen = i - cur + 1;
		}
	}
	if (blen < 2)
		best = -1;
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + blen) {
			if (i == best)
				o[n++] = ':';
			continue;
		}
		if (i)
			o[n++] = ':';
		if (i == 6 && best == 0 && (blen == 6 || (blen == 5 && g[5] == 0xffff)))
			return n + fmt_ip4(ip + 12, o + n);
		unsigned v = g[i];
		for (int sh = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0; sh >= 0; sh -= 4)
			o[n++] = hex[v >> sh & 15];
	}
	if (best >= 0 && best + blen == 8)
		o[n++] = ':';
	return n;
}

/* string field: the address as text; absent unless family 4 or 6 */
PBW_INLINE void w_ip(struct pbw *w, uint32_t field, const struct ots_addr *a)
{
	char t[IPSTR];
#if defined(__SIZEOF_INT128__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (a->family == 4 && pbw_room(w, 16)) {
		/* the text (7..15 bytes) is assembled in a 128-bit register and stored whole, ending at p: the bytes
		 * below it are free space that later writes overwrite. (Storing pieces to a buffer and copying them
		 * would stall: a wide load of bytes just stored by narrower stores is not forwarded.) */
		unsigned __int128 x = 0;
		unsigned n = 0;
		for (int i = 0; i < 4; i++) {
			x |= (unsigned __int128)dec3[a->ip[i]] << (8 * n);
			n += 2u + (a->ip[i] >= 10) + (a->ip[i] >= 100);
		}
		n--; /* the last dot */
		x <<= 8 * (16 - n);
		memcpy(w->p - 16, &x, 16);
		w->p -= n;
		pbw_len(w, field, n);
		return;
	}
#endif
	if (a->family == 4)
		pbw_str(w, field, t, fmt_ip4(a->ip, t));
	else if (a->family == 6)
		pbw_str(w, field, t, fmt_ip6(a->ip, t));
}

/* string field "00:11:22:33:44:55", formatted in place */
PBW_INLINE void w_mac(struct pbw *w, uint32_t field, const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	if (pbw_room(w, MACSTR - 1)) {
		w->p -= MACSTR - 1;
		char *o = (char *)w->p;
		for (int i = 0; i < 6; i++) {
			o[i * 3] = hex[mac[i] >> 4];
			o[i * 3 + 1] = hex[mac[i] & 15];
			if (i < 5)
				o[i * 3 + 2] = ':';
		}
	}
	pbw_len(w, field, MACSTR - 1);
}

PBW_INLINE void w_app(struct pbw *w, uint32_t field, uint16_t app)
{
	const char *s = app_name(app);
	if (s)
		pbw_str(w, field, s, strlen(s));
}

/* build_tuple() */
PBW_INLINE void w_tuple(struct pbw *w, uint32_t field, const struct ots_tuple *t)
{
	uint8_t *mk = pbw_mark(w);
	pbw_u64(w, 7, t->vlan[1]);
	pbw_u64(w, 6, t->vlan[0]);
	pbw_u64(w, 5, t->proto);
	pbw_u64(w, 4, t->dst_port);
	pbw_u64(w, 3, t->src_port);
	w_ip(w, 2, &t->dst);
	w_ip(w, 1, &t->src);
	pbw_msg(w, field, mk);
}

/* build_key(): absent when the key holds neither a MAC nor an IP */
PBW_INLINE void w_key(struct pbw *w, uint32_t field, const struct ots_asset_key *k)
{
	if (!k->has_mac && k->ip.family != 4 && k->ip.family != 6)
		return;
	uint8_t *mk = pbw_mark(w);
	w_ip(w, 2, &k->ip);
	if (k->has_mac)
		w_mac(w, 1, k->mac);
	pbw_msg(w, field, mk);
}

/* build_flow() */
static void w_flow(struct pbw *out, const struct ots_rec_flow *r)
{
	struct pbw local = *out, *w = &local; /* in registers: see pbwire.h */
	uint8_t *mk = pbw_mark(w);
	pbw_u64(w, 51, r->worker);
	pbw_fixed64(w, 50, r->flow_hash);
	pbw_u64(w, 42, r->gap_bytes);
	uint8_t *ev = pbw_mark(w); /* packed repeated enum */
	for (size_t i = sizeof(flow_event_map) / sizeof(flow_event_map[0]); i-- > 0;)
		if (r->events & flow_event_map[i].bit)
			pbw_varint(w, (uint64_t)(int64_t)flow_event_map[i].ev);
	if (pbw_mark(w) != ev)
		pbw_msg(w, 41, ev);
	pbw_i32(w, 40, MAP(end_reason_map, r->end_reason));
	pbw_i32(w, 32, MAP(tcp_state_map, r->tcp_state));
	pbw_u64(w, 31, r->tcp_flags_to_client);
	pbw_u64(w, 30, r->tcp_flags_to_server);
	pbw_u64(w, 23, r->bytes_to_client);
	pbw_u64(w, 22, r->bytes_to_server);
	pbw_u64(w, 21, r->pkts_to_client);
	pbw_u64(w, 20, r->pkts_to_server);
	pbw_u64(w, 11, r->end_ns);
	pbw_u64(w, 10, r->start_ns);
	w_app(w, 4, r->app);
	if (!mac_zero(r->dst_mac))
		w_mac(w, 3, r->dst_mac);
	if (!mac_zero(r->src_mac))
		w_mac(w, 2, r->src_mac);
	w_tuple(w, 1, &r->t);
	pbw_msg(w, OTSENSE__V1__ENVELOPE__RECORD_FLOW, mk);
	*out = local;
}

/* Alert and asset records are rare next to flows: their writers call these out-of-line copies (a fraction of
 * the code size of inlining every field, at a few ns per record); the flow writer inlines everything. */
static __attribute__((noinline)) void w_str(struct pbw *w, uint32_t field, const char *s, size_t n)
{
	pbw_str(w, field, s, n);
}

static __attribute__((noinline)) void w_bytes(struct pbw *w, uint32_t field, const char *s, size_t n)
{
	pbw_bytes(w, field, s, n);
}

static __attribute__((noinline)) void w_tuple_ool(struct pbw *w, uint32_t field, const struct ots_tuple *t)
{
	w_tuple(w, field, t);
}

static __attribute__((noinline)) void w_key_ool(struct pbw *w, uint32_t field, const struct ots_asset_key *k)
{
	w_key(w, field, k);
}

static __attribute__((noinline)) void w_app_ool(struct pbw *w, uint32_t field, uint16_t app)
{
	w_app(w, field, app);
}

struct sref {
	const char *s;
	size_t n;
};

#define SREF(pl, ref, field) ((ref).s = pstr_n((pl), (field), sizeof(field), &(ref).n))

/* build_alert() */
static __attribute__((noinline)) void w_alert(struct pbw *w, struct strpool *pl, const struct ots_rec_alert *r)
{
	struct sref id, cat, title, desc, mitre[OTS_ALERT_MAX_MITRE], ek[OTS_ALERT_MAX_EVIDENCE],
		ev[OTS_ALERT_MAX_EVIDENCE];
	SREF(pl, id, r->id);
	SREF(pl, cat, r->category);
	SREF(pl, title, r->title);
	SREF(pl, desc, r->description);
	size_t nm = r->nmitre < OTS_ALERT_MAX_MITRE ? r->nmitre : OTS_ALERT_MAX_MITRE;
	for (size_t i = 0; i < nm; i++)
		SREF(pl, mitre[i], r->mitre[i]);
	size_t ne = r->nevidence < OTS_ALERT_MAX_EVIDENCE ? r->nevidence : OTS_ALERT_MAX_EVIDENCE;
	for (size_t i = 0; i < ne; i++) {
		SREF(pl, ek[i], r->evidence[i].key);
		SREF(pl, ev[i], r->evidence[i].value);
	}

	uint8_t *mk = pbw_mark(w);
	for (size_t i = ne; i-- > 0;) {
		uint8_t *e = pbw_mark(w);
		w_str(w, 2, ev[i].s, ev[i].n);
		w_str(w, 1, ek[i].s, ek[i].n);
		pbw_msg(w, 30, e);
	}
	w_app_ool(w, 23, r->app);
	w_key_ool(w, 22, &r->dst_asset);
	w_key_ool(w, 21, &r->src_asset);
	if (!tuple_empty(&r->t))
		w_tuple_ool(w, 20, &r->t);
	if (r->sid || r->rev || r->gid) {
		uint8_t *rule = pbw_mark(w);
		pbw_u64(w, 3, r->rev);
		pbw_u64(w, 2, r->sid);
		pbw_u64(w, 1, r->gid);
		pbw_msg(w, 16, rule);
	}
	for (size_t i = nm; i-- > 0;)
		w_bytes(w, 15, mitre[i].s, mitre[i].n);
	w_str(w, 14, desc.s, desc.n);
	w_str(w, 13, title.s, title.n);
	pbw_i32(w, 12, MAP(severity_map, r->severity));
	w_str(w, 11, cat.s, cat.n);
	pbw_i32(w, 10, MAP(engine_map, r->engine));
	pbw_u64(w, 4, r->count);
	pbw_u64(w, 3, r->first_ns);
	pbw_u64(w, 2, r->time_ns);
	w_str(w, 1, id.s, id.n);
	pbw_msg(w, OTSENSE__V1__ENVELOPE__RECORD_ALERT, mk);
}

/* build_attr() */
static __attribute__((noinline)) void w_attr(struct pbw *w, uint32_t field, const struct ots_attr *at,
					      const struct sref *v)
{
	uint8_t *mk = pbw_mark(w);
	pbw_u64(w, 4, at->time_ns);
	pbw_u64(w, 3, at->confidence);
	w_app_ool(w, 2, at->source);
	w_str(w, 1, v->s, v->n);
	pbw_msg(w, field, mk);
}

/* repeated string: the names of the protocols whose bit is set (below OTS_APP_MAX), in bit order */
static void w_protocols(struct pbw *w, uint32_t field, uint64_t bits)
{
	if (OTS_APP_MAX < 64)
		bits &= (1ull << (OTS_APP_MAX < 64 ? OTS_APP_MAX : 0)) - 1;
	while (bits) { /* highest bit first: written backwards */
		unsigned i = 63u - (unsigned)__builtin_clzll(bits);
		bits &= ~(1ull << i);
		const char *s = app_name((uint16_t)i);
		w_bytes(w, field, s, s ? strlen(s) : 0);
	}
}

/* build_asset(); the single-valued attribute of kind k is field 20 + k (vendor 21 ... description 29) */
static __attribute__((noinline)) void w_asset(struct pbw *w, struct strpool *pl, const struct ots_rec_asset *r)
{
	_Static_assert(OTS_ATTR_VENDOR == 1 && OTS_ATTR_DESCRIPTION == 9 && OTS_ATTR_MAX == 10, "attribute kinds");
	struct sref id, names[OTS_ASSET_MAX_ATTRS], single[OTS_ATTR_MAX];
	const struct ots_attr *namep[OTS_ASSET_MAX_ATTRS], *best[OTS_ATTR_MAX] = { 0 };
	SREF(pl, id, r->id);
	size_t n = r->nattrs < OTS_ASSET_MAX_ATTRS ? r->nattrs : OTS_ASSET_MAX_ATTRS, nn = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ots_attr *at = &r->attrs[i];
		if (at->kind == OTS_ATTR_NAME) {
			namep[nn] = at;
			SREF(pl, names[nn], at->value);
			nn++;
		} else if (at->kind < OTS_ATTR_MAX) {
			const struct ots_attr *cur = best[at->kind];
			if (!cur || at->confidence > cur->confidence ||
			    (at->confidence == cur->confidence && at->time_ns >= cur->time_ns))
				best[at->kind] = at;
		}
	}
	for (int k = OTS_ATTR_NAME + 1; k < OTS_ATTR_MAX; k++)
		if (best[k])
			SREF(pl, single[k], best[k]->value);

	uint8_t *mk = pbw_mark(w);
	pbw_u64(w, 51, r->last_ns);
	pbw_u64(w, 50, r->first_ns);
	w_protocols(w, 41, r->protocols_used);
	w_protocols(w, 40, r->protocols_served);
	for (int k = OTS_ATTR_MAX - 1; k > OTS_ATTR_NAME; k--)
		if (best[k])
			w_attr(w, 20 + (uint32_t)k, best[k], &single[k]);
	for (size_t i = nn; i-- > 0;)
		w_attr(w, 20, namep[i], &names[i]);
	pbw_u64(w, 11, r->role_confidence);
	pbw_i32(w, 10, MAP(role_map, r->role));
	n = r->nips < OTS_ASSET_MAX_IPS ? r->nips : OTS_ASSET_MAX_IPS;
	for (size_t i = n; i-- > 0;) {
		const struct ots_addr *a = &r->ips[i];
		char t[IPSTR];
		if (a->family == 4)
			w_bytes(w, 3, t, fmt_ip4(a->ip, t));
		else if (a->family == 6)
			w_bytes(w, 3, t, fmt_ip6(a->ip, t));
	}
	w_key_ool(w, 2, &r->key);
	w_str(w, 1, id.s, id.n);
	pbw_msg(w, OTSENSE__V1__ENVELOPE__RECORD_ASSET, mk);
}

int ots_encode_pb(const struct ots_envelope_meta *m, int type, const void *rec, uint8_t *buf, size_t cap)
{
	if (!m || !rec)
		return -EINVAL;
	if (type != OTS_REC_flow && type != OTS_REC_alert && type != OTS_REC_asset)
		return ots_encode_pb_ref(m, type, rec, buf, cap); /* health (one every few seconds), bad types */
	if (!buf || !cap)
		return -ENOBUFS; /* an Envelope has at least its schema_version */
	struct strpool pool;
	pool.used = 0;
	size_t sid_n = 0;
	const char *sid = m->sensor_id ? pstr_n(&pool, m->sensor_id, SIZE_MAX, &sid_n) : NULL;
	struct pbw w;
	pbw_init(&w, buf, cap);
	if (type == OTS_REC_flow)
		w_flow(&w, rec);
	else if (type == OTS_REC_alert)
		w_alert(&w, &pool, rec);
	else
		w_asset(&w, &pool, rec);
	pbw_u64(&w, 5, m->time_ns);
	pbw_u64(&w, 4, m->sequence);
	pbw_u64(&w, 3, m->boot_id);
	pbw_str(&w, 2, sid, sid_n);
	pbw_u64(&w, 1, OTS_SCHEMA_VERSION);
	long n = pbw_finish(&w, cap);
	if (n < 0 || n > INT32_MAX)
		return -ENOBUFS;
	return (int)n;
}

/* ---- generic protobuf-c message -> JSON walker ------------------------------------------------------------ */

/* protobuf's JSON name: lowerCamelCase of the field name ("src_ip" -> "srcIp"), as protoc's ToJsonName */
static void json_name(const char *name, char *out, size_t cap)
{
	size_t o = 0;
	int up = 0;
	for (; *name && o + 1 < cap; name++) {
		if (*name == '_') {
			up = 1;
			continue;
		}
		out[o++] = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
		up = 0;
	}
	out[o] = 0;
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default: /* int32, sint32, sfixed32, uint32, fixed32, float, enum */
		return 4;
	}
}

/* proto3 default value: absent from the wire and from JSON */
static int is_default(const ProtobufCFieldDescriptor *f, const void *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)v == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)v == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)v == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)v;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)v)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)v == NULL;
	default:
		return *(const uint32_t *)v == 0;
	}
}

static void json_message(struct jw *w, const char *key, const ProtobufCMessage *m);

static void json_bytes(struct jw *w, const char *key, const ProtobufCBinaryData *d)
{
	/* standard base64, as proto3 JSON; the otsense schema has no bytes fields, so a bounded buffer is enough */
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4096];
	size_t o = 0;
	if (d->len > sizeof(out) / 4 * 3) {
		w->overflow = 1;
		return;
	}
	for (size_t i = 0; i < d->len; i += 3) {
		uint32_t v = (uint32_t)d->data[i] << 16;
		if (i + 1 < d->len)
			v |= (uint32_t)d->data[i + 1] << 8;
		if (i + 2 < d->len)
			v |= d->data[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < d->len ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < d->len ? b64[v & 63] : '=';
	}
	jw_strn(w, key, out, o);
}

static void json_value(struct jw *w, const char *key, const ProtobufCFieldDescriptor *f, const void *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		jw_i64(w, key, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		jw_u64(w, key, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		jw_i64(w, key, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		jw_u64(w, key, *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		jw_dbl(w, key, *(const float *)v);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		jw_dbl(w, key, *(const double *)v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		jw_bool(w, key, *(const protobuf_c_boolean *)v);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t e = *(const int32_t *)v;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
		if (ev)
			jw_str(w, key, ev->name);
		else
			jw_i64(w, key, e); /* a value newer than this build: proto3 JSON allows the number */
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		jw_str(w, key, *(char *const *)v);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		json_bytes(w, key, v);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		json_message(w, key, *(ProtobufCMessage *const *)v);
		break;
	}
}

/* the members of message m, in field-number order: proto3 canonical JSON names, defaults omitted */
static void json_fields(struct jw *w, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	for (unsigned i = 0; i < d->n_fields && jw_ok(w); i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *v = base + f->offset;
		char key[64];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(const char *const *)v;
			if (!n || !arr)
				continue;
			size_t sz = elem_size(f->type);
			json_name(f->name, key, sizeof(key));
			jw_arr_open(w, key);
			for (size_t j = 0; j < n; j++)
				json_value(w, NULL, f, arr + j * sz);
			jw_arr_close(w);
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			/* a set oneof member is written even at its default value */
			if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			if ((f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) &&
			    !*(void *const *)v)
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset) {
			/* proto2 optional / proto3 explicit presence scalar: has_ flag */
			if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
				continue;
		} else if (f->label != PROTOBUF_C_LABEL_REQUIRED && is_default(f, v)) {
			continue;
		} else if ((f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) &&
			   !*(void *const *)v) {
			continue;
		}
		json_name(f->name, key, sizeof(key));
		json_value(w, key, f, v);
	}
}

static void json_message(struct jw *w, const char *key, const ProtobufCMessage *m)
{
	jw_obj_open(w, key);
	if (m)
		json_fields(w, m);
	jw_obj_close(w);
}

/* {"type":<name of the set member of the Envelope's oneof>, <Envelope fields>} */
static int json_envelope(const ProtobufCMessage *env, char *buf, size_t cap)
{
	const ProtobufCMessageDescriptor *d = env->descriptor;
	const char *type = NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    *(const uint32_t *)((const char *)env + f->quantifier_offset) == f->id &&
		    *(void *const *)((const char *)env + f->offset))
			type = f->name;
	}
	if (!type)
		return -EBADMSG;
	struct jw w;
	jw_init(&w, buf, cap);
	jw_obj_open(&w, NULL);
	jw_str(&w, "type", type);
	json_fields(&w, env);
	jw_obj_close(&w);
	if (!jw_ok(&w) || w.len > INT32_MAX)
		return -ENOBUFS;
	return (int)w.len;
}

int ots_encode_json(const struct ots_envelope_meta *m, int type, const void *rec, char *buf, size_t cap)
{
	struct built b;
	int rc = build(&b, m, type, rec);
	if (rc < 0)
		return rc;
	return json_envelope(&b.env.base, buf, cap);
}

/* ---- protobuf bytes -> JSON -------------------------------------------------------------------------------- */

/* protobuf-c allocator over a stack arena: any record otsense encodes unpacks within it; only a hostile or
 * foreign message that needs more falls back to malloc (freed by free_unpacked). */
struct arena {
	unsigned char *mem;
	size_t cap, used;
};

static void *arena_alloc(void *ud, size_t size)
{
	struct arena *a = ud;
	size_t off = (a->used + 15) & ~(size_t)15;
	if (off <= a->cap && size <= a->cap - off) {
		a->used = off + size;
		return a->mem + off;
	}
	return malloc(size);
}

static void arena_free(void *ud, void *p)
{
	struct arena *a = ud;
	uintptr_t u = (uintptr_t)p, lo = (uintptr_t)a->mem;
	if (p && (u < lo || u >= lo + a->cap))
		free(p);
}

/* Strings of a foreign or damaged message may be invalid UTF-8 (protobuf-c does not check): replace each by a
 * repaired copy from the same allocator, so the JSON is valid UTF-8 whatever the input. -ENOMEM on failure. */
static int utf8_repair(ProtobufCMessage *m, ProtobufCAllocator *al, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *base = (char *)m;
	if (depth > 16)
		return 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		void **slot = (void **)(base + f->offset);
		size_t n = 1;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(size_t *)(base + f->quantifier_offset);
			slot = *(void ***)slot;
			if (!slot)
				continue;
		}
		for (size_t j = 0; j < n; j++) {
			if (!slot[j])
				continue;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				if (utf8_repair(slot[j], al, depth + 1) < 0)
					return -ENOMEM;
				continue;
			}
			const unsigned char *s = slot[j];
			size_t len = strlen(slot[j]), k = 0;
			while (k < len) {
				size_t q = utf8_seq(s + k, len - k);
				if (!q)
					break;
				k += q;
			}
			if (k == len)
				continue;
			char *out = al->alloc(al->allocator_data, 3 * len + 1);
			if (!out)
				return -ENOMEM;
			size_t o = 0;
			for (k = 0; k < len;) {
				size_t q = utf8_seq(s + k, len - k);
				memcpy(out + o, q ? (const char *)s + k : "\xef\xbf\xbd", q ? q : 3);
				o += q ? q : 3;
				k += q ? q : 1;
			}
			out[o] = 0;
			al->free(al->allocator_data, slot[j]);
			slot[j] = out;
		}
	}
	return 0;
}

int ots_pb_to_json(const uint8_t *pb, size_t len, char *buf, size_t cap)
{
	_Alignas(16) unsigned char mem[32768];
	struct arena a = { mem, sizeof(mem), 0 };
	ProtobufCAllocator al = { arena_alloc, arena_free, &a };
	if (!pb && len)
		return -EBADMSG;
	ProtobufCMessage *env = protobuf_c_message_unpack(&otsense__v1__envelope__descriptor, &al, len,
							  pb ? pb : (const uint8_t *)"");
	if (!env)
		return -EBADMSG;
	int rc = utf8_repair(env, &al, 0);
	if (rc == 0)
		rc = json_envelope(env, buf, cap);
	protobuf_c_message_free_unpacked(env, &al);
	return rc;
}

/* ---- envelope header without decoding the record ----------------------------------------------------------- */

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned s = 0; s < 64 && *p < end; s += 7) {
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

int ots_pb_peek(const uint8_t *pb, size_t len, int *type, uint64_t *boot_id, uint64_t *sequence)
{
	const uint8_t *p = pb, *end = pb + len;
	int t = -1;
	uint64_t boot = 0, seq = 0;
	if (!pb && len)
		return -EBADMSG;
	while (p < end) {
		uint64_t tag, v;
		if (rd_varint(&p, end, &tag) < 0 || tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
			return -EBADMSG;
		uint32_t field = (uint32_t)(tag >> 3), wt = (uint32_t)(tag & 7);
		int known_varint = field == 1 || field == 3 || field == 4 || field == 5;
		int known_len = field == 2 || (field >= OTSENSE__V1__ENVELOPE__RECORD_ASSET &&
					       field <= OTSENSE__V1__ENVELOPE__RECORD_HEALTH);
		if ((known_varint && wt != 0) || (known_len && wt != 2))
			return -EBADMSG;
		switch (wt) {
		case 0:
			if (rd_varint(&p, end, &v) < 0)
				return -EBADMSG;
			if (field == 3)
				boot = v;
			else if (field == 4)
				seq = v;
			break;
		case 1:
			if (end - p < 8)
				return -EBADMSG;
			p += 8;
			break;
		case 2:
			if (rd_varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
				return -EBADMSG;
			p += v;
			switch (field) {
			case OTSENSE__V1__ENVELOPE__RECORD_ASSET: t = OTS_REC_asset; break;
			case OTSENSE__V1__ENVELOPE__RECORD_ALERT: t = OTS_REC_alert; break;
			case OTSENSE__V1__ENVELOPE__RECORD_FLOW: t = OTS_REC_flow; break;
			case OTSENSE__V1__ENVELOPE__RECORD_HEALTH: t = OTS_REC_health; break;
			default: break;
			}
			break;
		case 5:
			if (end - p < 4)
				return -EBADMSG;
			p += 4;
			break;
		default:
			return -EBADMSG;
		}
	}
	if (t < 0)
		return -EBADMSG;
	if (type)
		*type = t;
	if (boot_id)
		*boot_id = boot;
	if (sequence)
		*sequence = seq;
	return 0;
}

/* ---- Kafka keys ------------------------------------------------------------------------------------------- */

int ots_record_key(int type, const void *rec, const char *sensor_id, char *buf, size_t cap)
{
	char tmp[17];
	const char *k;
	size_t n;
	if (!rec && type != OTS_REC_health)
		return -EINVAL;
	switch (type) {
	case OTS_REC_asset: {
		const struct ots_rec_asset *a = rec;
		k = a->id;
		n = strnlen(a->id, sizeof(a->id));
		break;
	}
	case OTS_REC_alert: {
		const struct ots_rec_alert *a = rec;
		k = a->id;
		n = strnlen(a->id, sizeof(a->id));
		break;
	}
	case OTS_REC_flow: {
		static const char hex[] = "0123456789abcdef";
		uint64_t h = ((const struct ots_rec_flow *)rec)->flow_hash;
		for (int i = 15; i >= 0; i--, h >>= 4)
			tmp[i] = hex[h & 15];
		k = tmp;
		n = 16;
		break;
	}
	case OTS_REC_health:
		k = sensor_id ? sensor_id : "";
		n = strlen(k);
		break;
	default:
		return -EINVAL;
	}
	if (!buf || n >= cap || n > INT32_MAX)
		return -ENOBUFS;
	memcpy(buf, k, n);
	buf[n] = 0;
	return (int)n;
}
