/* protocols/bacnet.c - BACnet/IP parser (see bacnet.h). */
#include "protocols/bacnet.h"

#include <string.h>

#include "export/record.h"

/* ---- ASHRAE vendor ids (names as Wireshark 4.0 prints them; ids not listed are reported as "vendor-id N") ---- */

struct vendor {
	uint16_t id;
	const char *name;
};

static const struct vendor vendors[] = {
	{ 0, "ASHRAE" },
	{ 1, "NIST" },
	{ 2, "The Trane Company" },
	{ 3, "Daikin Applied Americas" },
	{ 4, "PolarSoft" },
	{ 5, "Johnson Controls, Inc." },
	{ 6, "ABB (Formerly American Auto-Matrix)" },
	{ 7, "Siemens Schweiz AG (Formerly: Landis & Staefa Division Europe)" },
	{ 8, "Delta Controls" },
	{ 9, "Siemens Schweiz AG" },
	{ 10, "Schneider Electric" },
	{ 11, "TAC" },
	{ 12, "Orion Analysis Corporation" },
	{ 13, "Teletrol Systems Inc." },
	{ 14, "Cimetrics Technology" },
	{ 15, "Cornell University" },
	{ 16, "United Technologies Carrier" },
	{ 17, "Honeywell Inc." },
	{ 18, "Alerton / Honeywell" },
	{ 19, "TAC AB" },
	{ 20, "Hewlett-Packard Company" },
	{ 21, "Dorsette's Inc." },
	{ 22, "Siemens Schweiz AG (Formerly: Cerberus AG)" },
	{ 23, "York Controls Group" },
	{ 24, "Automated Logic Corporation" },
	{ 25, "CSI Control Systems International" },
	{ 26, "Phoenix Controls Corporation" },
	{ 27, "Innovex Technologies, Inc." },
	{ 28, "KMC Controls, Inc." },
	{ 29, "Xn Technologies, Inc." },
	{ 30, "Hyundai Information Technology Co., Ltd." },
	{ 31, "Tokimec Inc." },
	{ 32, "Simplex" },
	{ 33, "North Building Technologies Limited" },
	{ 34, "Notifier" },
	{ 35, "Reliable Controls Corporation" },
	{ 36, "Tridium Inc." },
	{ 37, "MSA Safety" },
	{ 38, "Silicon Energy" },
	{ 39, "Kieback & Peter GmbH & Co KG" },
	{ 40, "Anacon Systems, Inc." },
	{ 41, "Systems Controls & Instruments, LLC" },
	{ 42, "Acuity Brands Lighting, Inc." },
	{ 43, "Micropower Manufacturing" },
	{ 44, "Matrix Controls" },
	{ 45, "METALAIRE" },
	{ 46, "ESS Engineering" },
	{ 47, "Sphere Systems Pty Ltd." },
	{ 48, "Walker Technologies Corporation" },
	{ 49, "H I Solutions, Inc." },
	{ 50, "MBS GmbH" },
	{ 51, "SAMSON AG" },
	{ 52, "Badger Meter Inc." },
	{ 53, "DAIKIN Industries Ltd." },
	{ 54, "NARA Controls Inc." },
	{ 55, "Mammoth Inc." },
	{ 56, "Liebert Corporation" },
	{ 57, "SEMCO Incorporated" },
	{ 58, "Air Monitor Corporation" },
	{ 59, "TRIATEK, LLC" },
	{ 60, "NexLight" },
	{ 61, "Multistack" },
	{ 62, "TSI Incorporated" },
	{ 63, "Weather-Rite, Inc." },
	{ 64, "Dunham-Bush" },
	{ 65, "Reliance Electric" },
	{ 66, "LCS Inc." },
	{ 67, "Regulator Australia PTY Ltd." },
	{ 68, "Touch-Plate Lighting Controls" },
	{ 69, "Amann GmbH" },
	{ 70, "RLE Technologies" },
	{ 71, "Cardkey Systems" },
	{ 72, "SECOM Co., Ltd." },
	{ 73, "ABB Gebäudetechnik AG Bereich NetServ" },
	{ 74, "KNX Association cvba" },
	{ 75, "Institute of Electrical Installation Engineers of Japan (IEIEJ)" },
	{ 76, "Nohmi Bosai, Ltd." },
	{ 77, "Carel Industries S.p.A." },
	{ 78, "UTC Fire & Security España, S.L." },
	{ 79, "Hochiki Corporation" },
	{ 80, "Fr. Sauter AG" },
	{ 81, "Matsushita Electric Works, Ltd." },
	{ 82, "Mitsubishi Electric Corporation, Inazawa Works" },
	{ 83, "Mitsubishi Heavy Industries, Ltd." },
	{ 84, "Xylem, Inc." },
	{ 85, "Yamatake Building Systems Co., Ltd." },
	{ 86, "The Watt Stopper, Inc." },
	{ 87, "Aichi Tokei Denki Co., Ltd." },
	{ 88, "Activation Technologies, LLC" },
	{ 89, "Saia-Burgess Controls, Ltd." },
	{ 90, "Hitachi, Ltd." },
	{ 91, "Novar Corp./Trend Control Systems Ltd." },
	{ 92, "Mitsubishi Electric Lighting Corporation" },
	{ 93, "Argus Control Systems, Ltd." },
	{ 94, "Kyuki Corporation" },
	{ 95, "Richards-Zeta Building Intelligence, Inc." },
	{ 96, "Scientech R&D, Inc." },
	{ 97, "VCI Controls, Inc." },
	{ 98, "Toshiba Corporation" },
	{ 99, "Mitsubishi Electric Corporation Air Conditioning & Refrigeration Systems Works" },
	{ 105, "PRIVA BV" },
	{ 112, "Fujitsu Limited" },
	{ 113, "Vertiv (Formerly Emerson Network Power)" },
	{ 127, "ABB, Inc." },
	{ 140, "Viconics Electronics, Inc." },
	{ 160, "Rockwell Automation" },
	{ 171, "ABB (Formerly Cylon Controls, Ltd)" },
	{ 176, "Lutron Electronics Co., Inc." },
	{ 178, "LOYTEC Electronics GmbH" },
	{ 189, "Schneider Toshiba Inverter Europe" },
	{ 190, "Danfoss Drives A/S" },
	{ 191, "Eaton Corporation" },
	{ 196, "Yokogawa Electric Corporation" },
	{ 197, "Bosch Building Automation GmbH" },
	{ 222, "WAGO Kontakttechnik GmbH & Co. KG" },
	{ 226, "Phoenix Contact GmbH & Co. KG" },
	{ 245, "Contemporary Control Systems, Inc." },
	{ 255, "Lennox International, Inc." },
	{ 260, "BACnet Stack at SourceForge" },
	{ 264, "Regin AB" },
	{ 284, "BELIMO Automation AG" },
	{ 294, "LEGRAND" },
	{ 313, "Siemens Industry, Inc." },
	{ 332, "Distech Controls SAS" },
	{ 335, "Schneider Electric" },
	{ 364, "Distech Controls Inc." },
	{ 389, "Chipkin Automation Systems" },
	{ 402, "Delta Controls Integration Products" },
	{ 415, "Beckhoff Automation" },
	{ 423, "BELIMO Automation AG" },
	{ 432, "LG Electronics Inc." },
	{ 435, "Delta Electronics, Inc." },
	{ 529, "GE Intelligent Platforms" },
	{ 562, "Crestron Electronics, Inc." },
};

const char *ots_bacnet_vendor_name(uint32_t id)
{
	size_t lo = 0, hi = sizeof(vendors) / sizeof(vendors[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (vendors[mid].id == id)
			return vendors[mid].name;
		if (vendors[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- names ---- */

static const char *const confirmed_names[] = {
	"acknowledgeAlarm", "confirmedCOVNotification", "confirmedEventNotification", "getAlarmSummary",
	"getEnrollmentSummary", "subscribeCOV", "atomicReadFile", "atomicWriteFile", "addListElement",
	"removeListElement", "createObject", "deleteObject", "readProperty", "readPropertyConditional",
	"readPropertyMultiple", "writeProperty", "writePropertyMultiple", "deviceCommunicationControl",
	"confirmedPrivateTransfer", "confirmedTextMessage", "reinitializeDevice", "vtOpen", "vtClose", "vtData",
	"authenticate", "requestKey", "readRange", "lifeSafetyOperation", "subscribeCOVProperty",
	"getEventInformation", "subscribeCOVPropertyMultiple", "confirmedCOVNotificationMultiple",
	"confirmedAuditNotification", "auditLogQuery",
};

static const char *const unconfirmed_names[] = {
	"i-Am", "i-Have", "unconfirmedCOVNotification", "unconfirmedEventNotification", "unconfirmedPrivateTransfer",
	"unconfirmedTextMessage", "timeSynchronization", "who-Has", "who-Is", "utcTimeSynchronization", "writeGroup",
	"unconfirmedCOVNotificationMultiple", "unconfirmedAuditNotification", "who-Am-I", "you-Are",
};

static const char *const bvlc_names[] = {
	"BVLC-Result", "Write-Broadcast-Distribution-Table", "Read-Broadcast-Distribution-Table",
	"Read-Broadcast-Distribution-Table-Ack", "Forwarded-NPDU", "Register-Foreign-Device",
	"Read-Foreign-Device-Table", "Read-Foreign-Device-Table-Ack", "Delete-Foreign-Device-Table-Entry",
	"Distribute-Broadcast-To-Network", "Original-Unicast-NPDU", "Original-Broadcast-NPDU", "Secured-BVLL",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const bacnet_events[OTS_BACNET_EV_MAX] = {
	[OTS_BACNET_EV_BAD_BVLC] = "bad_bvlc",
	[OTS_BACNET_EV_BAD_LENGTH] = "bad_bvlc_length",
	[OTS_BACNET_EV_UNKNOWN_BVLC] = "unknown_bvlc_function",
	[OTS_BACNET_EV_BAD_NPDU_VERSION] = "bad_npdu_version",
	[OTS_BACNET_EV_MALFORMED_NPDU] = "malformed_npdu",
	[OTS_BACNET_EV_MALFORMED_APDU] = "malformed_apdu",
	[OTS_BACNET_EV_UNKNOWN_APDU] = "unknown_apdu_type",
	[OTS_BACNET_EV_MALFORMED_SERVICE] = "malformed_service",
};

/* ---- tags (clause 20.2.1) ---- */

struct btag {
	uint8_t num;   /* tag number */
	uint8_t ctx;   /* context-specific */
	uint8_t open;  /* context opening tag */
	uint8_t close; /* context closing tag */
	uint32_t len;  /* content length (application boolean: 0, its value is in lvt) */
	size_t val;    /* offset of the content */
};

static int tag_next(const uint8_t *p, size_t n, size_t *off, struct btag *t)
{
	size_t i = *off;
	if (i >= n)
		return -1;
	uint8_t b = p[i++];
	memset(t, 0, sizeof(*t));
	t->num = b >> 4;
	t->ctx = (b & 0x08) != 0;
	if (t->num == 15) {
		if (i >= n)
			return -1;
		t->num = p[i++];
	}
	uint8_t lvt = b & 7;
	if (t->ctx && (lvt == 6 || lvt == 7)) {
		t->open = lvt == 6;
		t->close = lvt == 7;
		t->val = i;
		*off = i;
		return 0;
	}
	uint32_t len = lvt;
	if (!t->ctx && t->num == 1)
		len = 0; /* application boolean: the value is the lvt */
	else if (lvt == 5) {
		if (i >= n)
			return -1;
		len = p[i++];
		if (len == 254) {
			if (n - i < 2)
				return -1;
			len = (uint32_t)p[i] << 8 | p[i + 1];
			i += 2;
		} else if (len == 255) {
			if (n - i < 4)
				return -1;
			len = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
			i += 4;
		}
	}
	if (len > n - i)
		return -1;
	t->len = len;
	t->val = i;
	*off = i + len;
	return 0;
}

/* after an opening tag `num`: skip to just past its closing tag */
static int skip_to_close(const uint8_t *p, size_t n, size_t *off, uint8_t num)
{
	unsigned depth = 0;
	struct btag t;
	while (tag_next(p, n, off, &t) == 0) {
		if (t.open) {
			if (++depth > 32)
				return -1;
		} else if (t.close) {
			if (!depth)
				return t.num == num ? 0 : -1;
			depth--;
		}
	}
	return -1;
}

static uint32_t be_uint(const uint8_t *p, uint32_t len)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < len && i < 4; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_utf8(char *out, size_t cap, size_t *o, uint32_t cp)
{
	uint8_t b[4];
	size_t k;
	if (cp < 0x20 || cp == 0x7f) {
		if (!cp)
			return; /* NUL padding */
		cp = '?';
	}
	if (cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		if (cp >= 0xd800 && cp < 0xe000)
			cp = 0xfffd;
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*o + k > cap)
		return;
	memcpy(out + *o, b, k);
	*o += k;
}

/* CharacterString content (charset byte + bytes) -> UTF-8, trimmed; returns the length, 0 when not decodable */
static size_t char_string(const uint8_t *v, uint32_t len, char *out, size_t cap)
{
	size_t o = 0;
	if (!len)
		return 0;
	uint8_t cs = v[0];
	const uint8_t *s = v + 1;
	uint32_t n = len - 1;
	switch (cs) {
	case 0: /* ISO 10646 UTF-8 (formerly ANSI X3.4): decoded and re-encoded, invalid bytes become '?' */
		for (uint32_t i = 0; i < n;) {
			uint8_t c0 = s[i];
			uint32_t cp = '?', k = 1, need = 0, min = 0;
			if (c0 < 0x80) {
				cp = c0;
			} else if ((c0 & 0xe0) == 0xc0) {
				need = 1, cp = c0 & 0x1f, min = 0x80;
			} else if ((c0 & 0xf0) == 0xe0) {
				need = 2, cp = c0 & 0x0f, min = 0x800;
			} else if ((c0 & 0xf8) == 0xf0) {
				need = 3, cp = c0 & 0x07, min = 0x10000;
			} else {
				cp = '?';
			}
			if (need) {
				uint32_t j;
				for (j = 1; j <= need && i + j < n && (s[i + j] & 0xc0) == 0x80; j++)
					cp = cp << 6 | (s[i + j] & 0x3f);
				if (j <= need || cp < min || cp > 0x10ffff) {
					cp = '?';
				} else {
					k = need + 1;
				}
			}
			put_utf8(out, cap, &o, cp);
			i += k;
		}
		break;
	case 5: /* ISO 8859-1 */
		for (uint32_t i = 0; i < n; i++)
			put_utf8(out, cap, &o, s[i]);
		break;
	case 4: /* UCS-2, big endian */
		for (uint32_t i = 0; i + 1 < n; i += 2)
			put_utf8(out, cap, &o, (uint32_t)s[i] << 8 | s[i + 1]);
		break;
	case 3: /* UCS-4, big endian */
		for (uint32_t i = 0; i + 3 < n; i += 4)
			put_utf8(out, cap, &o, be_uint(s + i, 4));
		break;
	default: /* DBCS, JIS X 0208: not decoded */
		return 0;
	}
	while (o && out[o - 1] == ' ')
		o--;
	return o;
}

/* ---- per-datagram context ---- */

struct bn {
	struct ots_app_ctx *c;
	int remote;      /* the APDU's source is not the IP sender (SNET or Forwarded-NPDU) */
	int endpoint;    /* OTS_EP_* of the sender */
	struct ots_pdu pdu;
};

/* an identity fact, at most 63 bytes (an asset attribute's size; some registered vendor names are longer) */
static void identity(struct bn *b, int kind, int confidence, const char *v, size_t len)
{
	if (len > 63)
		len = 63;
	while (len && v[len - 1] == ' ')
		len--;
	if (!b->remote)
		ots_app_identity(b->c, b->endpoint, kind, confidence, v, len);
}

static void vendor_identity(struct bn *b, uint32_t id, int confidence)
{
	const char *name = ots_bacnet_vendor_name(id);
	char buf[24];
	if (name) {
		identity(b, OTS_ATTR_VENDOR, confidence, name, strlen(name));
		return;
	}
	/* "vendor-id N" without stdio */
	char digits[12];
	size_t nd = 0, o = 0;
	do {
		digits[nd++] = (char)('0' + id % 10);
		id /= 10;
	} while (id && nd < sizeof(digits));
	memcpy(buf, "vendor-id ", 10);
	o = 10;
	while (nd)
		buf[o++] = digits[--nd];
	identity(b, OTS_ATTR_VENDOR, confidence, buf, o);
}

static void note_object(struct bn *b, uint32_t objid)
{
	b->pdu.address = objid;
	if (objid >> 22 == 8 && (objid & 0x3fffff) != 0x3fffff)
		b->pdu.unit = objid & 0x3fffff;
}

/* first element of the service data: context tag 0 or application tag 12, 4 bytes */
static int first_objid(const uint8_t *p, size_t n, int ctx, uint32_t *objid)
{
	size_t off = 0;
	struct btag t;
	if (tag_next(p, n, &off, &t) < 0 || t.open || t.close || t.len != 4)
		return -1;
	if (ctx ? !(t.ctx && t.num == 0) : (t.ctx || t.num != 12))
		return -1;
	*objid = be_uint(p + t.val, 4);
	return 0;
}

static int device_property_kind(uint32_t prop)
{
	switch (prop) {
	case 121: return OTS_ATTR_VENDOR;
	case 70: return OTS_ATTR_MODEL;
	case 44: return OTS_ATTR_FIRMWARE;
	case 12: return OTS_ATTR_DESCRIPTION;
	case 77: return OTS_ATTR_NAME;
	default: return -1;
	}
}

/* the value of a device property, at off just past its opening tag (the caller checks the value's tags) */
static void property_value(struct bn *b, const uint8_t *p, size_t n, size_t off, uint32_t prop)
{
	int kind = device_property_kind(prop);
	struct btag t;
	if (kind < 0 || tag_next(p, n, &off, &t) < 0 || t.ctx || t.num != 7)
		return;
	char s[64];
	size_t len = char_string(p + t.val, t.len, s, sizeof(s) - 1);
	identity(b, kind, 95, s, len);
}

/* I-Am: objectIdentifier, max APDU, segmentation, vendor id (all application tagged) */
static void i_am(struct bn *b, const uint8_t *p, size_t n)
{
	size_t off = 0;
	struct btag t[4];
	static const uint8_t want[4] = { 12, 2, 9, 2 };
	for (int i = 0; i < 4; i++) {
		if (tag_next(p, n, &off, &t[i]) < 0 || t[i].ctx || t[i].num != want[i] || t[i].len < 1 ||
		    t[i].len > 4 || (i == 0 && t[i].len != 4)) {
			ots_app_event(b->c, OTS_BACNET_EV_MALFORMED_SERVICE);
			return;
		}
	}
	note_object(b, be_uint(p + t[0].val, 4));
	if (b->pdu.address >> 22 == 8)
		b->pdu.unit = b->pdu.address & 0x3fffff; /* I-Am names its own instance, even 4194303 */
	vendor_identity(b, be_uint(p + t[3].val, t[3].len), 90);
}

/* ReadProperty-ACK: [0] object, [1] property, [2] index?, [3] { value } */
static void rp_ack(struct bn *b, const uint8_t *p, size_t n, int segmented)
{
	size_t off = 0;
	struct btag t;
	uint32_t obj, prop;
	if (tag_next(p, n, &off, &t) < 0 || !t.ctx || t.num != 0 || t.len != 4)
		goto bad;
	obj = be_uint(p + t.val, 4);
	if (tag_next(p, n, &off, &t) < 0 || !t.ctx || t.num != 1 || t.len < 1 || t.len > 4)
		goto bad;
	prop = be_uint(p + t.val, t.len);
	if (tag_next(p, n, &off, &t) < 0)
		goto bad;
	if (t.ctx && t.num == 2 && !t.open && tag_next(p, n, &off, &t) < 0)
		goto bad;
	if (!t.open || t.num != 3)
		goto bad;
	size_t val = off;
	if (skip_to_close(p, n, &off, 3) < 0)
		goto bad;
	if (obj >> 22 == 8)
		property_value(b, p, n, val, prop);
	return;
bad:
	if (!segmented)
		ots_app_event(b->c, OTS_BACNET_EV_MALFORMED_SERVICE);
}

/* ReadPropertyMultiple-ACK: { [0] object, [1] { ([2] property, [3] index?, [4] {value} | [5] {error})* } }* */
static void rpm_ack(struct bn *b, const uint8_t *p, size_t n, int segmented)
{
	size_t off = 0;
	struct btag t;
	unsigned guard = 0;
	while (off < n) {
		if (tag_next(p, n, &off, &t) < 0 || !t.ctx || t.num != 0 || t.len != 4)
			goto bad;
		uint32_t obj = be_uint(p + t.val, 4);
		if (tag_next(p, n, &off, &t) < 0 || !t.open || t.num != 1)
			goto bad;
		for (;;) {
			if (++guard > 4096)
				return;
			if (tag_next(p, n, &off, &t) < 0)
				goto bad;
			if (t.close && t.num == 1)
				break;
			if (!t.ctx || t.num != 2 || t.open || t.close || t.len < 1 || t.len > 4)
				goto bad;
			uint32_t prop = be_uint(p + t.val, t.len);
			if (tag_next(p, n, &off, &t) < 0)
				goto bad;
			if (t.ctx && t.num == 3 && !t.open && !t.close && tag_next(p, n, &off, &t) < 0)
				goto bad;
			if (!t.open || (t.num != 4 && t.num != 5))
				goto bad;
			size_t val = off;
			if (skip_to_close(p, n, &off, t.num) < 0)
				goto bad;
			if (t.num == 4 && obj >> 22 == 8)
				property_value(b, p, n, val, prop);
		}
	}
	return;
bad:
	if (!segmented)
		ots_app_event(b->c, OTS_BACNET_EV_MALFORMED_SERVICE);
}

/* reinitializeDevice ([0] reinitializedStateOfDevice) / deviceCommunicationControl ([0] timeDuration?,
 * [1] enable-disable): the enumerated value, or OTS_BACNET_SUB_NONE */
static uint32_t control_state(uint8_t svc, const uint8_t *p, size_t n)
{
	uint8_t want = svc == 20 ? 0 : 1;
	size_t off = 0;
	struct btag t;
	for (int i = 0; i < 2; i++) {
		if (tag_next(p, n, &off, &t) < 0 || !t.ctx || t.open || t.close)
			return OTS_BACNET_SUB_NONE;
		if (t.num == want)
			return t.len >= 1 && t.len <= 4 ? be_uint(p + t.val, t.len) : OTS_BACNET_SUB_NONE;
		if (svc == 20 || t.num != 0)
			return OTS_BACNET_SUB_NONE; /* only DCC's optional timeDuration may come first */
	}
	return OTS_BACNET_SUB_NONE;
}

static const char *const reinit_names[] = { "coldstart", "warmstart", "startbackup", "endbackup", "startrestore",
					    "endrestore", "abortrestore", "activate-changes" };
static const char *const dcc_names[] = { "enable", "disable", "disable-initiation" };

const char *ots_bacnet_sub_name(unsigned code, uint32_t sub)
{
	if (code == 20)
		return sub < NELEM(reinit_names) ? reinit_names[sub] : NULL;
	if (code == 17)
		return sub < NELEM(dcc_names) ? dcc_names[sub] : NULL;
	return NULL;
}

static uint32_t confirmed_flags(uint8_t s)
{
	switch (s) {
	case 6: case 12: case 13: case 14: case 26:
		return OTS_PDUF_READ;
	case 7:
		return OTS_PDUF_WRITE | OTS_PDUF_PROGRAM;
	case 8: case 9: case 15: case 16:
		return OTS_PDUF_WRITE;
	case 10: case 11:
		return OTS_PDUF_CONFIG;
	case 17: case 20: case 27:
		return OTS_PDUF_CONTROL;
	default:
		return 0;
	}
}

static int first_is_ctx_objid(uint8_t s)
{
	return s == 12 || s == 14 || s == 15 || s == 16 || s == 26 || s == 8 || s == 9;
}

static void apdu(struct bn *b, const uint8_t *p, size_t n)
{
	struct ots_app_ctx *c = b->c;
	uint8_t type = p[0] >> 4;
	size_t hl;
	uint8_t svc;
	uint32_t objid;
	switch (type) {
	case 0: /* Confirmed-Request: type|flags, max segs/resp, invoke id, [seq, window], service */
		hl = (p[0] & 0x08) ? 6 : 4;
		if (n < hl) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		svc = p[hl - 1];
		b->pdu.kind = OTS_PDU_REQUEST;
		b->pdu.code = svc;
		b->pdu.flags |= confirmed_flags(svc);
		b->pdu.name = svc < NELEM(confirmed_names) ? confirmed_names[svc] : NULL;
		if (svc == 17 || svc == 20)
			b->pdu.sub = OTS_BACNET_SUB_NONE;
		if (!(p[0] & 0x08) || p[hl - 3] == 0) { /* unsegmented or the first segment */
			if (first_is_ctx_objid(svc) ? first_objid(p + hl, n - hl, 1, &objid) == 0
			    : (svc == 6 || svc == 7 || svc == 11) && first_objid(p + hl, n - hl, 0, &objid) == 0)
				note_object(b, objid);
			if (svc == 17 || svc == 20)
				b->pdu.sub = control_state(svc, p + hl, n - hl);
		}
		break;
	case 1: /* Unconfirmed-Request: type, service */
		if (n < 2) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		svc = p[1];
		b->pdu.code = 0x100u | svc;
		b->pdu.name = svc < NELEM(unconfirmed_names) ? unconfirmed_names[svc] : NULL;
		switch (svc) {
		case 0: case 1:
			b->pdu.kind = OTS_PDU_RESPONSE;
			b->pdu.flags |= OTS_PDUF_IDENTITY;
			break;
		case 2: case 3: case 11: case 12:
			b->pdu.kind = OTS_PDU_UNSOLICITED;
			break;
		case 7: case 8:
			b->pdu.kind = OTS_PDU_REQUEST;
			b->pdu.flags |= OTS_PDUF_IDENTITY;
			break;
		case 6: case 9:
			b->pdu.kind = OTS_PDU_REQUEST;
			b->pdu.flags |= OTS_PDUF_CONFIG;
			break;
		case 10:
			b->pdu.kind = OTS_PDU_REQUEST;
			b->pdu.flags |= OTS_PDUF_WRITE;
			break;
		default:
			b->pdu.kind = OTS_PDU_REQUEST;
			break;
		}
		if (svc == 0)
			i_am(b, p + 2, n - 2);
		else if (svc == 1 && first_objid(p + 2, n - 2, 0, &objid) == 0)
			note_object(b, objid);
		break;
	case 2: /* Simple-ACK: type, invoke id, service */
		if (n < 3) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		svc = p[2];
		b->pdu.kind = OTS_PDU_RESPONSE;
		b->pdu.code = svc;
		b->pdu.name = svc < NELEM(confirmed_names) ? confirmed_names[svc] : NULL;
		if (svc == 17 || svc == 20)
			b->pdu.sub = OTS_BACNET_SUB_NONE;
		break;
	case 3: { /* Complex-ACK: type|flags, invoke id, [seq, window], service */
		int seg = (p[0] & 0x08) != 0;
		hl = seg ? 5 : 3;
		if (n < hl) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		svc = p[hl - 1];
		b->pdu.kind = OTS_PDU_RESPONSE;
		b->pdu.code = svc;
		b->pdu.name = svc < NELEM(confirmed_names) ? confirmed_names[svc] : NULL;
		if (seg && p[2] != 0)
			break; /* a later segment: the service data continues the first one */
		if ((svc == 12 || svc == 14 || svc == 26) && first_objid(p + hl, n - hl, 1, &objid) == 0)
			note_object(b, objid);
		if (svc == 12)
			rp_ack(b, p + hl, n - hl, seg);
		else if (svc == 14)
			rpm_ack(b, p + hl, n - hl, seg);
		break;
	}
	case 4: /* Segment-ACK: type|flags, invoke id, seq, window */
		if (n < 4) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		b->pdu.kind = OTS_PDU_OTHER;
		b->pdu.code = 0x204;
		b->pdu.name = "Segment-ACK";
		break;
	case 5: /* Error: type, invoke id, service, error class, error code */
		if (n < 3) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		svc = p[2];
		b->pdu.kind = OTS_PDU_EXCEPTION;
		b->pdu.code = svc;
		b->pdu.name = svc < NELEM(confirmed_names) ? confirmed_names[svc] : NULL;
		if (svc == 17 || svc == 20)
			b->pdu.sub = OTS_BACNET_SUB_NONE;
		break;
	case 6: /* Reject: type, invoke id, reason */
	case 7: /* Abort: type|srv, invoke id, reason */
		if (n < 3) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
			return;
		}
		b->pdu.kind = OTS_PDU_EXCEPTION;
		b->pdu.code = 0x200u | type;
		b->pdu.name = type == 6 ? "Reject" : "Abort";
		break;
	default:
		ots_app_event(c, OTS_BACNET_EV_UNKNOWN_APDU);
		return;
	}
	ots_app_pdu(c, &b->pdu);
}

/* NPDU (clause 6.2) */
static void npdu(struct bn *b, const uint8_t *p, size_t n)
{
	struct ots_app_ctx *c = b->c;
	if (n < 2) {
		ots_app_event(c, OTS_BACNET_EV_MALFORMED_NPDU);
		return;
	}
	if (p[0] != 1) {
		ots_app_event(c, OTS_BACNET_EV_BAD_NPDU_VERSION);
		return;
	}
	uint8_t ctl = p[1];
	size_t i = 2;
	if (ctl & 0x20) { /* DNET, DLEN, DADR */
		if (n - i < 3 || n - i - 3 < p[i + 2]) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_NPDU);
			return;
		}
		if (p[i] == 0xff && p[i + 1] == 0xff)
			b->pdu.flags |= OTS_PDUF_BROADCAST;
		i += 3u + p[i + 2];
	}
	if (ctl & 0x08) { /* SNET, SLEN, SADR */
		if (n - i < 3 || !p[i + 2] || n - i - 3 < p[i + 2]) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_NPDU);
			return;
		}
		b->remote = 1;
		i += 3u + p[i + 2];
	}
	if (ctl & 0x20) { /* hop count */
		if (i >= n) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_NPDU);
			return;
		}
		i++;
	}
	if (ctl & 0x80) { /* network layer message */
		if (i >= n) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_NPDU);
			return;
		}
		uint8_t mt = p[i];
		if (mt >= 0x80 && n - i < 3) {
			ots_app_event(c, OTS_BACNET_EV_MALFORMED_NPDU);
			return;
		}
		b->pdu.kind = OTS_PDU_OTHER;
		b->pdu.code = 0x300u | mt;
		b->pdu.name = "Network-Layer-Message";
		if (mt == 0x06) /* Initialize-Routing-Table */
			b->pdu.flags |= OTS_PDUF_CONFIG;
		ots_app_pdu(c, &b->pdu);
		return;
	}
	if (i >= n) {
		ots_app_event(c, OTS_BACNET_EV_MALFORMED_APDU);
		return;
	}
	apdu(b, p + i, n - i);
}

struct bacnet_state {
	uint32_t good; /* datagrams with a valid BVLC header */
	uint32_t bad;
};

static int bacnet_parse(struct ots_app_ctx *c, const uint8_t *p, size_t len, void *state)
{
	struct bacnet_state *s = state;
	if (c->transport != 17)
		return -1; /* BACnet/IP is UDP only */
	if (!p)
		return 0;
	if (len < 4 || p[0] != 0x81) {
		ots_app_event(c, OTS_BACNET_EV_BAD_BVLC);
		if (!s->good && ++s->bad >= 4)
			return -1;
		return 0;
	}
	size_t blen = (size_t)p[2] << 8 | p[3];
	if (blen < 4 || blen > len) {
		ots_app_event(c, OTS_BACNET_EV_BAD_LENGTH);
		if (!s->good && ++s->bad >= 4)
			return -1;
		return 0;
	}
	if (blen < len)
		ots_app_event(c, OTS_BACNET_EV_BAD_LENGTH); /* trailing bytes: parse the BVLL the header describes */
	s->good++;
	struct bn b = {
		.c = c,
		.endpoint = c->dir == OTS_DIR_TO_SERVER ? OTS_EP_CLIENT : OTS_EP_SERVER,
		.pdu = { .proto = c->proto, .dir = c->dir },
	};
	uint8_t fn = p[1];
	switch (fn) {
	case 0x04: /* Forwarded-NPDU: original B/IP address (6), NPDU */
		if (blen < 10) {
			ots_app_event(c, OTS_BACNET_EV_BAD_LENGTH);
			return 0;
		}
		b.remote = 1;
		npdu(&b, p + 10, blen - 10);
		return 0;
	case 0x09: /* Distribute-Broadcast-To-Network */
	case 0x0b: /* Original-Broadcast-NPDU */
		b.pdu.flags |= OTS_PDUF_BROADCAST;
		/* fall through */
	case 0x0a: /* Original-Unicast-NPDU */
		npdu(&b, p + 4, blen - 4);
		return 0;
	default:
		break;
	}
	if (fn > 0x0c) {
		ots_app_event(c, OTS_BACNET_EV_UNKNOWN_BVLC);
		return 0;
	}
	b.pdu.kind = OTS_PDU_OTHER;
	b.pdu.code = 0x400u | fn;
	b.pdu.name = bvlc_names[fn];
	if (fn == 0x00 && blen >= 6 && (p[4] | p[5]))
		b.pdu.kind = OTS_PDU_EXCEPTION; /* BVLC-Result NAK */
	if (fn == 0x01 || fn == 0x05 || fn == 0x08)
		b.pdu.flags |= OTS_PDUF_CONFIG; /* BDT write, foreign device registration / deletion */
	ots_app_pdu(c, &b.pdu);
	return 0;
}

static int bacnet_probe(const uint8_t *p, size_t len, int dir)
{
	(void)dir;
	if (len == 0)
		return -1;
	if (p[0] != 0x81 || (len >= 2 && p[1] > 0x0c))
		return 0;
	if (len < 4)
		return -1;
	size_t blen = (size_t)p[2] << 8 | p[3];
	return blen == len ? 1 : 0;
}

const struct ots_parser ots_parser_bacnet = {
	.probe = bacnet_probe,
	.parse = bacnet_parse,
	.state_size = sizeof(struct bacnet_state),
	.events = bacnet_events,
	.nevents = OTS_BACNET_EV_MAX,
};
