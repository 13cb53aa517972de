/* protocols/enip.c - EtherNet/IP encapsulation + CIP parser (see enip.h for what is reported). */
#include "protocols/enip.h"

#include <stdio.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/framing.h"

static const char *const enip_events[ENIP_EV_MAX] = {
	[ENIP_EV_RESYNC] = "resync",
	[ENIP_EV_OVERSIZE] = "encap_oversize",
	[ENIP_EV_ENCAP_MALFORMED] = "encap_malformed",
	[ENIP_EV_CPF_MALFORMED] = "cpf_malformed",
	[ENIP_EV_CIP_MALFORMED] = "cip_malformed",
	[ENIP_EV_EPATH_MALFORMED] = "epath_malformed",
	[ENIP_EV_MSP_MALFORMED] = "msp_malformed",
	[ENIP_EV_NESTING] = "cip_nesting_too_deep",
	[ENIP_EV_IDENTITY_MALFORMED] = "identity_malformed",
	[ENIP_EV_UCS_MALFORMED] = "unconnected_send_malformed",
};

#define ENIP_PEND 32
#define PEND_SYM 0x80 /* aux: the request named a tag (symbolic path) */

struct enip_pend {
	uint16_t cls;
	uint8_t svc;
	uint8_t aux; /* PEND_SYM | attribute id (when < 0x80) */
};

struct enip_state {
	struct ots_framer fr[2];
	struct enip_pend pend[ENIP_PEND]; /* requests awaiting a reply, oldest first (replies come in order) */
	uint8_t npend;
	uint8_t reject;
	uint8_t bad_dgrams;
	uint8_t seen;
	uint32_t garbage; /* TCP bytes fed before the first PDU */
	uint8_t buf[2][OTS_ENIP_CAP];
};

_Static_assert(sizeof(struct enip_state) <= OTS_APP_STATE_MAX, "enip state too large");

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- tables ---- */

static const char *command_name(unsigned cmd)
{
	switch (cmd) {
	case 0x0000: return "NOP";
	case 0x0004: return "List Services";
	case 0x0063: return "List Identity";
	case 0x0064: return "List Interfaces";
	case 0x0065: return "Register Session";
	case 0x0066: return "Unregister Session";
	case 0x006f: return "Send RR Data";
	case 0x0070: return "Send Unit Data";
	case 0x00c8: return "Start DTLS";
	default: return NULL;
	}
}

/* ODVA vendor ids (CIP Identity object attribute 1), the common ones */
static const struct {
	uint16_t id;
	const char *name;
} vendors[] = {
	{ 1, "Rockwell Automation/Allen-Bradley" },
	{ 2, "Namco Controls Corp." },
	{ 5, "Rockwell Automation/Reliance Electric" },
	{ 8, "Molex Incorporated" },
	{ 26, "Festo" },
	{ 40, "WAGO Corporation" },
	{ 43, "BALLUFF" },
	{ 46, "ABB, Inc." },
	{ 47, "Omron Corporation" },
	{ 48, "TURCK" },
	{ 68, "Eaton Electrical" },
	{ 82, "Mitsubishi Electric Automation, Inc." },
	{ 83, "OPTO 22" },
	{ 90, "HMS Networks" },
	{ 108, "Beckhoff Automation" },
	{ 109, "National Instruments" },
	{ 145, "Siemens Energy & Automation/Drives" },
	{ 161, "Mitsubishi Electric Corporation" },
	{ 243, "Schneider Electric" },
	{ 255, "Bosch Rexroth" },
	{ 283, "Hilscher GmbH" },
	{ 309, "ProSoft Technology" },
	{ 315, "SEW Eurodrive GmbH" },
	{ 322, "ifm electronic gmbh" },
	{ 356, "FANUC Robotics America" },
	{ 367, "Keyence Corporation" },
};

static const char *device_type_name(unsigned t)
{
	switch (t) {
	case 0x00: return "Generic Device (deprecated)";
	case 0x02: return "AC Drive";
	case 0x03: return "Motor Overload";
	case 0x04: return "Limit Switch";
	case 0x05: return "Inductive Proximity Switch";
	case 0x06: return "Photoelectric Sensor";
	case 0x07: return "General Purpose Discrete I/O";
	case 0x09: return "Resolver";
	case 0x0c: return "Communications Adapter";
	case 0x0e: return "Programmable Logic Controller";
	case 0x10: return "Position Controller";
	case 0x13: return "DC Drive";
	case 0x15: return "Contactor";
	case 0x16: return "Motor Starter";
	case 0x17: return "Soft Start";
	case 0x18: return "Human-Machine Interface";
	case 0x1a: return "Mass Flow Controller";
	case 0x1b: return "Pneumatic Valve";
	case 0x1c: return "Vacuum Pressure Gauge";
	case 0x22: return "Encoder";
	case 0x23: return "Safety Discrete I/O Device";
	case 0x25: return "CIP Motion Drive";
	case 0x2b: return "Generic Device (keyable)";
	case 0x2c: return "Managed Switch";
	default: return NULL;
	}
}

/* cls: the object class, CLS_UNKNOWN for a reply whose request was not seen */
#define CLS_UNKNOWN 0xffffffffu

static const char *service_name(unsigned svc, unsigned cls, int symbolic)
{
	if (cls == 0x06) {
		switch (svc) {
		case 0x4e: return "Forward Close";
		case 0x52: return "Unconnected Send";
		case 0x54: return "Forward Open";
		case 0x5a: return "Get Connection Owner";
		case 0x5b: return "Large Forward Open";
		default: break;
		}
	}
	switch (svc) {
	case 0x01: return "Get Attributes All";
	case 0x02: return "Set Attributes All";
	case 0x03: return "Get Attribute List";
	case 0x04: return "Set Attribute List";
	case 0x05: return "Reset";
	case 0x06: return "Start";
	case 0x07: return "Stop";
	case 0x08: return "Create";
	case 0x09: return "Delete";
	case 0x0a: return "Multiple Service Packet";
	case 0x0d: return "Apply Attributes";
	case 0x0e: return "Get Attribute Single";
	case 0x10: return "Set Attribute Single";
	case 0x11: return "Find Next Object Instance";
	case 0x14: return "Error Response";
	case 0x15: return "Restore";
	case 0x16: return "Save";
	case 0x17: return "No Operation";
	case 0x18: return "Get Member";
	case 0x19: return "Set Member";
	case 0x1a: return "Insert Member";
	case 0x1b: return "Remove Member";
	case 0x1c: return "Group Sync";
	default: break;
	}
	if (symbolic || cls == 0x6b) { /* Logix tag services on a symbolic path / Symbol object */
		switch (svc) {
		case 0x4c: return "Read Tag";
		case 0x4d: return "Write Tag";
		case 0x4e: return "Read Modify Write Tag";
		case 0x52: return "Read Tag Fragmented";
		case 0x53: return "Write Tag Fragmented";
		case 0x55: return "Get Instance Attribute List";
		default: break;
		}
	}
	return NULL;
}

/* ---- EPATH ---- */

struct epath {
	uint32_t cls, inst, attr;
	uint8_t has_cls, has_inst, has_attr;
	uint8_t symbolic; /* ANSI extended symbol segment: a tag name */
	uint8_t cls74;    /* names class 0x74 somewhere */
};

static void logical(struct epath *e, unsigned type, uint32_t v)
{
	switch (type) {
	case 0: /* class */
		if (v == 0x74)
			e->cls74 = 1;
		if (!e->has_cls) {
			e->cls = v;
			e->has_cls = 1;
		}
		break;
	case 1: /* instance */
		if (!e->has_inst) {
			e->inst = v;
			e->has_inst = 1;
		}
		break;
	case 4: /* attribute */
		if (!e->has_attr) {
			e->attr = v;
			e->has_attr = 1;
		}
		break;
	default:
		break;
	}
}

/* 0 ok, -1 malformed */
static int epath_parse(const uint8_t *p, size_t n, struct epath *e)
{
	size_t i = 0;
	memset(e, 0, sizeof(*e));
	while (i < n) {
		uint8_t s = p[i];
		unsigned kind = s >> 5;
		if (kind == 1) { /* logical: 001 type(3) format(2) */
			unsigned type = (s >> 2) & 7, fmt = s & 3;
			if (type == 5) { /* special: electronic key 0x34, format byte + 8 bytes */
				if (i + 10 > n)
					return -1;
				i += 10;
				continue;
			}
			uint32_t v;
			if (fmt == 0) {
				if (i + 2 > n)
					return -1;
				v = p[i + 1];
				i += 2;
			} else if (fmt == 1) {
				if (i + 4 > n)
					return -1;
				v = le16(p + i + 2);
				i += 4;
			} else if (fmt == 2) {
				if (i + 6 > n)
					return -1;
				v = le32(p + i + 2);
				i += 6;
			} else {
				return -1;
			}
			logical(e, type, v);
		} else if (kind == 0) { /* port segment */
			size_t hdr = 1, link;
			if (s & 0x10) {
				if (i + 2 > n)
					return -1;
				link = p[i + 1];
				hdr = 2;
			} else {
				link = 1;
			}
			if ((s & 0x0f) == 0x0f)
				hdr += 2;
			size_t len = hdr + link;
			len += len & 1;
			if (i + len > n)
				return -1;
			i += len;
		} else if (s == 0x91) { /* ANSI extended symbol */
			if (i + 2 > n)
				return -1;
			size_t len = 2u + p[i + 1];
			len += len & 1;
			if (i + len > n)
				return -1;
			e->symbolic = 1;
			i += len;
		} else if (s == 0x80) { /* simple data segment: size in words */
			if (i + 2 > n)
				return -1;
			size_t len = 2u + 2u * p[i + 1];
			if (i + len > n)
				return -1;
			i += len;
		} else {
			return 0; /* network / symbolic / other data segments: stop looking, not an error */
		}
	}
	return 0;
}

/* ---- pending requests (to give replies their class) ----
 * Replies come in request order (also inside a Multiple Service Packet), so a reply takes the oldest pending
 * request of its service and drops the older ones it skipped (unanswered). A full table keeps its oldest entries:
 * the replies to the requests that did not fit get class 0 (unit 0). */

static void pend_push(struct enip_state *s, unsigned svc, const struct epath *e)
{
	if (s->npend == ENIP_PEND)
		return;
	struct enip_pend *q = &s->pend[s->npend++];
	q->svc = (uint8_t)svc;
	q->cls = (uint16_t)(e->has_cls && e->cls <= 0xffff ? e->cls : 0);
	q->aux = (uint8_t)((e->symbolic ? PEND_SYM : 0) | (e->has_attr && e->attr < 0x80 ? e->attr : 0));
}

static int pend_pop(struct enip_state *s, unsigned svc, struct enip_pend *out)
{
	for (unsigned i = 0; i < s->npend; i++)
		if (s->pend[i].svc == svc) {
			*out = s->pend[i];
			memmove(&s->pend[0], &s->pend[i + 1], sizeof(s->pend[0]) * (s->npend - i - 1u));
			s->npend = (uint8_t)(s->npend - i - 1u);
			return 0;
		}
	return -1;
}

/* ---- identity ---- */

static int sender_endpoint(const struct ots_app_ctx *c)
{
	return c->dir == OTS_DIR_TO_CLIENT ? OTS_EP_SERVER : OTS_EP_CLIENT;
}

static void id_vendor(struct ots_app_ctx *c, unsigned v)
{
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (vendors[i].id == v) {
			ots_app_identity(c, sender_endpoint(c), OTS_ATTR_VENDOR, 90, vendors[i].name,
					 strlen(vendors[i].name));
			return;
		}
	char b[24];
	int k = snprintf(b, sizeof(b), "vendor-id %u", v);
	ots_app_identity(c, sender_endpoint(c), OTS_ATTR_VENDOR, 60, b, (size_t)k);
}

static void id_devtype(struct ots_app_ctx *c, unsigned t)
{
	const char *n = device_type_name(t);
	char b[24];
	if (!n) {
		snprintf(b, sizeof(b), "device-type %u", t);
		n = b;
	}
	ots_app_identity(c, sender_endpoint(c), OTS_ATTR_DEVICE_TYPE, 90, n, strlen(n));
}

static void id_num(struct ots_app_ctx *c, int kind, const char *fmt, unsigned a, unsigned b)
{
	char s[24];
	int k = snprintf(s, sizeof(s), fmt, a, b);
	ots_app_identity(c, sender_endpoint(c), kind, 90, s, (size_t)k);
}

static void id_name(struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	while (n && (p[n - 1] == ' ' || p[n - 1] == 0))
		n--;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return;
	ots_app_identity(c, sender_endpoint(c), OTS_ATTR_MODEL, 90, (const char *)p, n);
}

/* Identity object attributes 1..7 as in Get_Attribute_All / ListIdentity: vendor, device type, product code,
 * revision, status, serial, product name (SHORT_STRING) */
static void identity_fields(struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	if (n < 15) {
		ots_app_event(c, ENIP_EV_IDENTITY_MALFORMED);
		return;
	}
	id_vendor(c, le16(p));
	id_devtype(c, le16(p + 2));
	id_num(c, OTS_ATTR_PRODUCT_CODE, "%u", le16(p + 4), 0);
	id_num(c, OTS_ATTR_FIRMWARE, "%u.%u", p[6], p[7]);
	id_num(c, OTS_ATTR_SERIAL, "0x%08x", le32(p + 10), 0);
	size_t nl = p[14];
	if (15 + nl > n) {
		ots_app_event(c, ENIP_EV_IDENTITY_MALFORMED);
		return;
	}
	id_name(c, p + 15, nl);
}

static void identity_attr(struct ots_app_ctx *c, unsigned attr, const uint8_t *p, size_t n)
{
	switch (attr) {
	case 1:
		if (n >= 2)
			id_vendor(c, le16(p));
		break;
	case 2:
		if (n >= 2)
			id_devtype(c, le16(p));
		break;
	case 3:
		if (n >= 2)
			id_num(c, OTS_ATTR_PRODUCT_CODE, "%u", le16(p), 0);
		break;
	case 4:
		if (n >= 2)
			id_num(c, OTS_ATTR_FIRMWARE, "%u.%u", p[0], p[1]);
		break;
	case 6:
		if (n >= 4)
			id_num(c, OTS_ATTR_SERIAL, "0x%08x", le32(p), 0);
		break;
	case 7:
		if (n >= 1 && 1u + p[0] <= n)
			id_name(c, p + 1, p[0]);
		break;
	default:
		break;
	}
}

/* ---- CIP ---- */

static uint32_t service_flags(unsigned svc, const struct epath *e)
{
	unsigned cls = e->has_cls ? e->cls : 0;
	uint32_t f = 0;
	switch (svc) {
	case 0x05: case 0x06: case 0x07:
		f |= OTS_PDUF_CONTROL;
		break;
	case 0x02: case 0x04: case 0x10:
		f |= OTS_PDUF_WRITE;
		break;
	case 0x01: case 0x0e:
		if (cls == 0x01)
			f |= OTS_PDUF_IDENTITY;
		break;
	default:
		break;
	}
	if (cls == 0x37 && svc >= 0x4b && svc <= 0x51)
		f |= OTS_PDUF_PROGRAM;
	else if ((svc == 0x4d || svc == 0x4e || svc == 0x53) && cls != 0x06 && (e->symbolic || cls == 0x6b))
		f |= OTS_PDUF_WRITE;
	if ((svc == 0x4b || svc == 0x4c) && e->cls74)
		f |= OTS_PDUF_CONFIG;
	return f;
}

static void cip_message(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *p, size_t n, int depth);

/* Multiple Service Packet data: count16, offsets16 (from the start of the data), services. error: a reply with a
 * general status, which may come without data */
static void msp(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *d, size_t n, int depth,
		struct ots_pdu *pdu, int error)
{
	unsigned count = n >= 2 ? le16(d) : 0;
	pdu->quantity = count;
	ots_app_pdu(c, pdu); /* the packet itself first, then what it carries */
	if (n < 2) {
		if (!error)
			ots_app_event(c, ENIP_EV_MSP_MALFORMED);
		return;
	}
	if (2u + 2u * count > n) {
		ots_app_event(c, ENIP_EV_MSP_MALFORMED);
		count = (unsigned)((n - 2) / 2);
	}
	if (count > OTS_ENIP_MAX_MSP)
		count = OTS_ENIP_MAX_MSP;
	for (unsigned i = 0; i < count; i++) {
		/* each service runs from its offset to the next one (or to the end when that one is unusable) */
		size_t off = le16(d + 2 + 2 * i);
		size_t end = i + 1 < count ? le16(d + 4 + 2 * i) : n;
		if (end <= off || end > n)
			end = n;
		if (off < 2u + 2u * count || off >= n) {
			ots_app_event(c, ENIP_EV_MSP_MALFORMED);
			continue;
		}
		cip_message(c, s, d + off, end - off, depth + 1);
	}
}

static void cip_request(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *p, size_t n, int depth)
{
	unsigned svc = p[0] & 0x7f;
	size_t ps = 2u * p[1];
	struct epath e;
	if (2 + ps > n || epath_parse(p + 2, ps, &e) < 0) {
		ots_app_event(c, ENIP_EV_EPATH_MALFORMED);
		if (2 + ps > n)
			return;
	}
	const uint8_t *d = p + 2 + ps;
	size_t dn = n - 2 - ps;
	unsigned cls = e.has_cls ? e.cls : 0;
	struct ots_pdu pdu = {
		.proto = c->proto, .dir = c->dir, .kind = OTS_PDU_REQUEST, .code = OTS_ENIP_CIP_CODE(svc),
		.unit = cls, .address = e.has_inst ? e.inst : 0, .flags = service_flags(svc, &e),
		.name = service_name(svc, cls, e.symbolic), .sub = e.has_attr ? e.attr : 0,
	};
	if (svc == 0x0a) {
		pend_push(s, svc, &e);
		msp(c, s, d, dn, depth, &pdu, 0);
		return;
	}
	if (svc == 0x52 && cls == 0x06) {
		/* Unconnected Send: priority/tick, timeout ticks, message size16, message, [pad], route path */
		ots_app_pdu(c, &pdu);
		if (dn < 4 || 4u + le16(d + 2) > dn) {
			ots_app_event(c, ENIP_EV_UCS_MALFORMED);
			return;
		}
		cip_message(c, s, d + 4, le16(d + 2), depth + 1);
		return;
	}
	pend_push(s, svc, &e);
	ots_app_pdu(c, &pdu);
}

static void cip_reply(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *p, size_t n, int depth)
{
	unsigned svc = p[0] & 0x7f;
	if (n < 4) {
		ots_app_event(c, ENIP_EV_CIP_MALFORMED);
		return;
	}
	unsigned gs = p[2];
	size_t ext = 2u * p[3];
	struct enip_pend q = { 0 };
	int have = pend_pop(s, svc, &q) == 0;
	unsigned attr = q.aux & 0x7f;
	struct epath e = { .cls = q.cls, .attr = attr, .has_cls = have && q.cls, .has_attr = have && attr,
			   .symbolic = (q.aux & PEND_SYM) != 0 };
	struct ots_pdu pdu = {
		.proto = c->proto, .dir = c->dir, .kind = (gs == 0 || gs == 0x06) ? OTS_PDU_RESPONSE : OTS_PDU_EXCEPTION,
		.code = OTS_ENIP_CIP_CODE(svc), .unit = q.cls, .flags = service_flags(svc, &e),
		.name = service_name(svc, have ? q.cls : CLS_UNKNOWN, e.symbolic), .sub = attr,
	};
	if (4 + ext > n) {
		ots_app_event(c, ENIP_EV_CIP_MALFORMED);
		ots_app_pdu(c, &pdu);
		return;
	}
	const uint8_t *d = p + 4 + ext;
	size_t dn = n - 4 - ext;
	if (svc == 0x0a) {
		msp(c, s, d, dn, depth, &pdu, gs != 0);
		return;
	}
	ots_app_pdu(c, &pdu);
	if (gs == 0 && have && q.cls == 0x01) {
		if (svc == 0x01)
			identity_fields(c, d, dn);
		else if (svc == 0x0e)
			identity_attr(c, attr, d, dn);
	}
}

static void cip_message(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *p, size_t n, int depth)
{
	if (depth > OTS_ENIP_MAX_DEPTH) {
		ots_app_event(c, ENIP_EV_NESTING);
		return;
	}
	if (n < 2) {
		ots_app_event(c, ENIP_EV_CIP_MALFORMED);
		return;
	}
	if (p[0] & 0x80)
		cip_reply(c, s, p, n, depth);
	else
		cip_request(c, s, p, n, depth);
}

/* ---- encapsulation ---- */

/* common packet format: item count16, items (type16, length16, data); each item (at most OTS_ENIP_MAX_ITEMS) to
 * item(), until one does not fit */
static void cpf_walk(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *p, size_t n,
		     void (*item)(struct ots_app_ctx *c, struct enip_state *s, unsigned type, const uint8_t *d, size_t len))
{
	if (n < 2) {
		ots_app_event(c, ENIP_EV_CPF_MALFORMED);
		return;
	}
	unsigned count = le16(p);
	size_t off = 2;
	for (unsigned i = 0; i < count && i < OTS_ENIP_MAX_ITEMS; i++) {
		if (off + 4 > n || off + 4 + le16(p + off + 2) > n) {
			ots_app_event(c, ENIP_EV_CPF_MALFORMED);
			return;
		}
		size_t len = le16(p + off + 2);
		item(c, s, le16(p + off), p + off + 4, len);
		off += 4 + len;
	}
}

/* Send RR Data / Send Unit Data: the CIP messages of the data items */
static void data_item(struct ots_app_ctx *c, struct enip_state *s, unsigned type, const uint8_t *d, size_t len)
{
	if (type == 0x00b2) { /* unconnected data */
		cip_message(c, s, d, len, 0);
	} else if (type == 0x00b1) { /* connected data: sequence count16, CIP */
		if (len < 2)
			ots_app_event(c, ENIP_EV_CPF_MALFORMED);
		else
			cip_message(c, s, d + 2, len - 2, 0);
	}
}

/* ListIdentity reply: 0x0c items, encapsulation version16, socket address (16, big endian), then the identity
 * attributes */
static void identity_item(struct ots_app_ctx *c, struct enip_state *s, unsigned type, const uint8_t *d, size_t len)
{
	(void)s;
	if (type == 0x000c) {
		if (len < 18)
			ots_app_event(c, ENIP_EV_IDENTITY_MALFORMED);
		else
			identity_fields(c, d + 18, len - 18);
	}
}

static void encap_pdu(struct ots_app_ctx *c, struct enip_state *s, const uint8_t *p, size_t n)
{
	unsigned cmd = le16(p);
	size_t len = le16(p + 2);
	uint32_t status = le32(p + 8);
	const uint8_t *b = p + OTS_ENIP_HDR;
	size_t bn = n - OTS_ENIP_HDR < len ? n - OTS_ENIP_HDR : len;
	int resp;
	if (cmd == 0x0004 || cmd == 0x0063 || cmd == 0x0064)
		resp = len != 0;
	else
		resp = c->dir == OTS_DIR_TO_CLIENT;
	s->seen = 1;
	struct ots_pdu pdu = {
		.proto = c->proto, .dir = c->dir, .code = cmd, .address = le32(p + 4), .name = command_name(cmd),
		.kind = !resp ? OTS_PDU_REQUEST : status ? OTS_PDU_EXCEPTION : OTS_PDU_RESPONSE,
		.flags = cmd == 0x0063 ? OTS_PDUF_IDENTITY : 0,
	};
	ots_app_pdu(c, &pdu);
	switch (cmd) {
	case 0x0063:
		if (resp && !status)
			cpf_walk(c, s, b, bn, identity_item);
		break;
	case 0x006f:
	case 0x0070:
		/* interface handle32, timeout16, CPF */
		if (bn == 0 && status)
			break;
		if (bn < 8) {
			ots_app_event(c, ENIP_EV_ENCAP_MALFORMED);
			break;
		}
		cpf_walk(c, s, b + 6, bn - 6, data_item);
		break;
	default:
		break;
	}
}

/* command < 0x200 (all defined ones are), options 0, status fits 16 bits */
static int encap_len(const uint8_t *p, size_t n)
{
	(void)n;
	if (p[1] > 0x01 || le32(p + 20) != 0 || p[10] || p[11])
		return -1;
	return OTS_ENIP_HDR + le16(p + 2);
}

static const struct ots_frame_spec encap_spec = {
	.hdr = OTS_ENIP_HDR,
	.cap = OTS_ENIP_CAP,
	.frame_len = encap_len,
	.ev_resync = ENIP_EV_RESYNC,
	.ev_oversize = ENIP_EV_OVERSIZE,
};

static void on_pdu(void *arg, struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	encap_pdu(c, arg, p, n);
}

static int enip_parse(struct ots_app_ctx *c, const uint8_t *data, size_t len, void *state)
{
	struct enip_state *s = state;
	if (s->reject)
		return -1;
	if (c->transport == 17) {
		if (!data)
			return 0;
		if (len < OTS_ENIP_HDR || encap_len(data, len) < 0 || (size_t)encap_len(data, len) > len) {
			ots_app_event(c, ENIP_EV_ENCAP_MALFORMED);
			if (!s->seen && ++s->bad_dgrams >= 3)
				s->reject = 1;
			return s->reject ? -1 : 0;
		}
		encap_pdu(c, s, data, (size_t)encap_len(data, len));
		return 0;
	}
	unsigned d = c->dir & 1;
	uint64_t before = s->fr[0].pdus + s->fr[1].pdus;
	ots_framer_feed(&s->fr[d], s->buf[d], &encap_spec, c, data, len, on_pdu, s);
	if (data && before == 0 && s->fr[0].pdus + s->fr[1].pdus == 0) {
		s->garbage += len > OTS_ENIP_REJECT_BYTES ? OTS_ENIP_REJECT_BYTES : (uint32_t)len;
		if (s->garbage >= OTS_ENIP_REJECT_BYTES)
			s->reject = 1;
	}
	return s->reject ? -1 : 0;
}

static int enip_probe(const uint8_t *p, size_t len, int dir)
{
	(void)dir;
	if (len < OTS_ENIP_HDR)
		return -1;
	if (encap_len(p, len) < 0 || !command_name(le16(p)))
		return 0;
	return 1;
}

const struct ots_parser ots_parser_enip = {
	.probe = enip_probe,
	.parse = enip_parse,
	.state_size = sizeof(struct enip_state),
	.events = enip_events,
	.nevents = ENIP_EV_MAX,
};
