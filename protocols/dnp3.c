/* protocols/dnp3.c - DNP3 link / transport / application layer parser (see dnp3.h). */
#include "protocols/dnp3.h"

#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/framing.h"

#define LINK_HDR 10
#define LINK_MAX 292 /* LEN 255: 10 + 250 data + 16 block CRCs */

/* ---- CRC-16/DNP: reflected poly 0xa6bc, init 0, result complemented, sent low byte first ---- */

static const uint16_t crc_tab[256] = {
	0x0000, 0x365e, 0x6cbc, 0x5ae2, 0xd978, 0xef26, 0xb5c4, 0x839a,
	0xff89, 0xc9d7, 0x9335, 0xa56b, 0x26f1, 0x10af, 0x4a4d, 0x7c13,
	0xb26b, 0x8435, 0xded7, 0xe889, 0x6b13, 0x5d4d, 0x07af, 0x31f1,
	0x4de2, 0x7bbc, 0x215e, 0x1700, 0x949a, 0xa2c4, 0xf826, 0xce78,
	0x29af, 0x1ff1, 0x4513, 0x734d, 0xf0d7, 0xc689, 0x9c6b, 0xaa35,
	0xd626, 0xe078, 0xba9a, 0x8cc4, 0x0f5e, 0x3900, 0x63e2, 0x55bc,
	0x9bc4, 0xad9a, 0xf778, 0xc126, 0x42bc, 0x74e2, 0x2e00, 0x185e,
	0x644d, 0x5213, 0x08f1, 0x3eaf, 0xbd35, 0x8b6b, 0xd189, 0xe7d7,
	0x535e, 0x6500, 0x3fe2, 0x09bc, 0x8a26, 0xbc78, 0xe69a, 0xd0c4,
	0xacd7, 0x9a89, 0xc06b, 0xf635, 0x75af, 0x43f1, 0x1913, 0x2f4d,
	0xe135, 0xd76b, 0x8d89, 0xbbd7, 0x384d, 0x0e13, 0x54f1, 0x62af,
	0x1ebc, 0x28e2, 0x7200, 0x445e, 0xc7c4, 0xf19a, 0xab78, 0x9d26,
	0x7af1, 0x4caf, 0x164d, 0x2013, 0xa389, 0x95d7, 0xcf35, 0xf96b,
	0x8578, 0xb326, 0xe9c4, 0xdf9a, 0x5c00, 0x6a5e, 0x30bc, 0x06e2,
	0xc89a, 0xfec4, 0xa426, 0x9278, 0x11e2, 0x27bc, 0x7d5e, 0x4b00,
	0x3713, 0x014d, 0x5baf, 0x6df1, 0xee6b, 0xd835, 0x82d7, 0xb489,
	0xa6bc, 0x90e2, 0xca00, 0xfc5e, 0x7fc4, 0x499a, 0x1378, 0x2526,
	0x5935, 0x6f6b, 0x3589, 0x03d7, 0x804d, 0xb613, 0xecf1, 0xdaaf,
	0x14d7, 0x2289, 0x786b, 0x4e35, 0xcdaf, 0xfbf1, 0xa113, 0x974d,
	0xeb5e, 0xdd00, 0x87e2, 0xb1bc, 0x3226, 0x0478, 0x5e9a, 0x68c4,
	0x8f13, 0xb94d, 0xe3af, 0xd5f1, 0x566b, 0x6035, 0x3ad7, 0x0c89,
	0x709a, 0x46c4, 0x1c26, 0x2a78, 0xa9e2, 0x9fbc, 0xc55e, 0xf300,
	0x3d78, 0x0b26, 0x51c4, 0x679a, 0xe400, 0xd25e, 0x88bc, 0xbee2,
	0xc2f1, 0xf4af, 0xae4d, 0x9813, 0x1b89, 0x2dd7, 0x7735, 0x416b,
	0xf5e2, 0xc3bc, 0x995e, 0xaf00, 0x2c9a, 0x1ac4, 0x4026, 0x7678,
	0x0a6b, 0x3c35, 0x66d7, 0x5089, 0xd313, 0xe54d, 0xbfaf, 0x89f1,
	0x4789, 0x71d7, 0x2b35, 0x1d6b, 0x9ef1, 0xa8af, 0xf24d, 0xc413,
	0xb800, 0x8e5e, 0xd4bc, 0xe2e2, 0x6178, 0x5726, 0x0dc4, 0x3b9a,
	0xdc4d, 0xea13, 0xb0f1, 0x86af, 0x0535, 0x336b, 0x6989, 0x5fd7,
	0x23c4, 0x159a, 0x4f78, 0x7926, 0xfabc, 0xcce2, 0x9600, 0xa05e,
	0x6e26, 0x5878, 0x029a, 0x34c4, 0xb75e, 0x8100, 0xdbe2, 0xedbc,
	0x91af, 0xa7f1, 0xfd13, 0xcb4d, 0x48d7, 0x7e89, 0x246b, 0x1235,
};

/* slicing-by-8: crc8[k][b] is the CRC of byte b followed by k zero bytes; a link header (8 bytes) or a data
 * block (16) is 1 or 2 steps of 8 table lookups instead of 8 or 16 dependent ones. Built once at load, read-only. */
static uint16_t crc8[8][256];

__attribute__((constructor)) static void crc_tables(void)
{
	for (int b = 0; b < 256; b++) {
		crc8[0][b] = crc_tab[b];
		for (int k = 1; k < 8; k++)
			crc8[k][b] = (uint16_t)((crc8[k - 1][b] >> 8) ^ crc_tab[crc8[k - 1][b] & 0xff]);
	}
}

uint16_t ots_dnp3_crc(const uint8_t *p, size_t n)
{
	uint16_t c = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		unsigned x = c ^ (unsigned)(p[i] | p[i + 1] << 8);
		c = (uint16_t)(crc8[7][x & 0xff] ^ crc8[6][x >> 8] ^ crc8[5][p[i + 2]] ^ crc8[4][p[i + 3]] ^
			       crc8[3][p[i + 4]] ^ crc8[2][p[i + 5]] ^ crc8[1][p[i + 6]] ^ crc8[0][p[i + 7]]);
	}
	for (; i < n; i++)
		c = (uint16_t)((c >> 8) ^ crc_tab[(c ^ p[i]) & 0xff]);
	return (uint16_t)~c;
}

static int crc_ok(const uint8_t *p, size_t n)
{
	uint16_t c = ots_dnp3_crc(p, n);
	return p[n] == (c & 0xff) && p[n + 1] == (c >> 8);
}

/* ---- names ---- */

static const char *const func_names[] = {
	[0] = "Confirm", [1] = "Read", [2] = "Write", [3] = "Select", [4] = "Operate", [5] = "Direct Operate",
	[6] = "Direct Operate No Ack", [7] = "Immediate Freeze", [8] = "Immediate Freeze No Ack",
	[9] = "Freeze and Clear", [10] = "Freeze and Clear No Ack", [11] = "Freeze With Time",
	[12] = "Freeze With Time No Ack", [13] = "Cold Restart", [14] = "Warm Restart", [15] = "Initialize Data",
	[16] = "Initialize Application", [17] = "Start Application", [18] = "Stop Application",
	[19] = "Save Configuration", [20] = "Enable Unsolicited", [21] = "Disable Unsolicited",
	[22] = "Assign Class", [23] = "Delay Measurement", [24] = "Record Current Time", [25] = "Open File",
	[26] = "Close File", [27] = "Delete File", [28] = "Get File Info", [29] = "Authenticate File",
	[30] = "Abort File", [31] = "Activate Config", [32] = "Authentication Request",
	[33] = "Authentication Request No Ack",
};

const char *ots_dnp3_func_name(unsigned fc)
{
	if (fc < sizeof(func_names) / sizeof(func_names[0]))
		return func_names[fc];
	switch (fc) {
	case 129:
		return "Response";
	case 130:
		return "Unsolicited Response";
	case 131:
		return "Authentication Response";
	default:
		return NULL;
	}
}

static const char *const dnp3_events[OTS_DNP3_EV_MAX] = {
	[OTS_DNP3_EV_RESYNC] = "resync",
	[OTS_DNP3_EV_OVERSIZE] = "oversize",
	[OTS_DNP3_EV_BAD_HEADER_CRC] = "bad_header_crc",
	[OTS_DNP3_EV_BAD_DATA_CRC] = "bad_data_crc",
	[OTS_DNP3_EV_BAD_LENGTH] = "bad_length",
	[OTS_DNP3_EV_TRAILING] = "trailing_bytes",
	[OTS_DNP3_EV_NOT_DNP3] = "not_dnp3",
	[OTS_DNP3_EV_NO_TRANSPORT] = "no_transport_header",
	[OTS_DNP3_EV_TRANSPORT_SEQ] = "transport_sequence",
	[OTS_DNP3_EV_TRANSPORT_ABANDONED] = "transport_abandoned",
	[OTS_DNP3_EV_MALFORMED_AL] = "malformed_app_header",
	[OTS_DNP3_EV_MALFORMED_OBJECTS] = "malformed_objects",
	[OTS_DNP3_EV_UNKNOWN_FUNCTION] = "unknown_function",
	[OTS_DNP3_EV_UNKNOWN_OBJECT] = "unknown_object",
};

/* ---- object sizes ---- */

/* M_UNKNOWN: a defined group whose object size is not known here (the walk stops quietly); M_INVALID: a group or
 * variation the object library does not define (event) */
enum { M_NONE = 0, M_FIXED, M_BITS, M_SIZEPFX, M_G0, M_UNKNOWN, M_INVALID };

#define B1 0x81 /* bit-packed, 1 bit per object */
#define B2 0x82 /* bit-packed, 2 bits per object */

struct gsize {
	uint8_t group;
	uint8_t nvar;
	uint8_t size[12]; /* by variation 1..nvar: bytes per object, or B1/B2 */
};

static const struct gsize gsizes[] = {
	{ 1, 2, { B1, 1 } },
	{ 2, 3, { 1, 7, 3 } },
	{ 3, 2, { B2, 1 } },
	{ 4, 3, { 1, 7, 3 } },
	{ 10, 2, { B1, 1 } },
	{ 11, 2, { 1, 7 } },
	{ 12, 3, { 11, 11, B1 } },
	{ 13, 2, { 1, 7 } },
	{ 20, 8, { 5, 3, 5, 3, 4, 2, 4, 2 } },
	{ 21, 12, { 5, 3, 5, 3, 11, 9, 11, 9, 4, 2, 4, 2 } },
	{ 22, 8, { 5, 3, 5, 3, 11, 9, 11, 9 } },
	{ 23, 8, { 5, 3, 5, 3, 11, 9, 11, 9 } },
	{ 30, 6, { 5, 3, 4, 2, 5, 9 } },
	{ 31, 8, { 5, 3, 11, 9, 4, 2, 5, 9 } },
	{ 32, 8, { 5, 3, 11, 9, 5, 9, 11, 15 } },
	{ 33, 8, { 5, 3, 11, 9, 5, 9, 11, 15 } },
	{ 34, 3, { 2, 4, 4 } },
	{ 40, 4, { 5, 3, 5, 9 } },
	{ 41, 4, { 5, 3, 5, 9 } },
	{ 42, 8, { 5, 3, 11, 9, 5, 9, 11, 15 } },
	{ 43, 8, { 5, 3, 11, 9, 5, 9, 11, 15 } },
	{ 50, 4, { 6, 10, 6, 11 } },
	{ 51, 2, { 6, 6 } },
	{ 52, 2, { 2, 2 } },
	{ 80, 1, { B1 } },
	{ 101, 3, { 2, 4, 8 } },
	{ 102, 1, { 1 } },
	{ 121, 1, { 7 } },
	{ 122, 2, { 7, 13 } },
};

/* groups of the IEEE 1815-2012 object library */
static int group_defined(uint8_t g)
{
	static const uint8_t defined[] = { 0, 1, 2, 3, 4, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33, 34, 40, 41,
					   42, 43, 50, 51, 52, 60, 70, 80, 81, 82, 83, 85, 86, 87, 88, 90, 91, 100,
					   101, 102, 110, 111, 112, 113, 120, 121, 122 };
	for (size_t i = 0; i < sizeof(defined); i++)
		if (defined[i] == g)
			return 1;
	return 0;
}

static int is_response(uint8_t fc)
{
	return fc == 129 || fc == 130 || fc == 131;
}

/* request functions whose object headers are followed by object data */
static int request_carries_data(uint8_t fc, uint8_t g)
{
	switch (fc) {
	case 2: case 3: case 4: case 5: case 6:
	case 25: case 26: case 27: case 28: case 29: case 30: case 31: case 32: case 33:
		return 1;
	case 11: case 12: /* freeze at time: the group 50 time object carries data, the ranges after it do not */
		return g == 50;
	default:
		return 0;
	}
}

/* how the objects of one header are laid out; *sz = bytes per object (M_FIXED) or bits (M_BITS) */
static int obj_mode(uint8_t fc, uint8_t g, uint8_t v, uint8_t pc, uint8_t *sz)
{
	if (!group_defined(g))
		return M_INVALID;
	if (g == 60)
		return M_NONE; /* class data: never carries objects */
	if (pc >= 4 && pc <= 6)
		return M_SIZEPFX; /* object size prefix: the object follows, whatever the function (file read too) */
	if (!is_response(fc) && !request_carries_data(fc, g))
		return M_NONE;
	if (g == 0)
		return v == 0 || v == 254 ? M_INVALID : M_G0; /* 254 (all attributes) is a read request only */
	if (g >= 110 && g <= 113) { /* octet strings / virtual terminal: the variation is the length */
		if (!v)
			return M_INVALID;
		*sz = v;
		return M_FIXED;
	}
	for (size_t i = 0; i < sizeof(gsizes) / sizeof(gsizes[0]); i++) {
		if (gsizes[i].group != g)
			continue;
		if (v == 0 || v > gsizes[i].nvar)
			return M_INVALID;
		uint8_t s = gsizes[i].size[v - 1];
		if (s & 0x80) {
			*sz = s & 0x7f;
			return M_BITS;
		}
		*sz = s;
		return M_FIXED;
	}
	return M_UNKNOWN;
}

/* ---- per-direction transport + streaming application walker ---- */

enum { PH_AL = 0, PH_OH, PH_SKIP, PH_OBJ, PH_ATTR, PH_STOP, PH_BAD, PH_INVALID };

struct dnp3_tp {
	uint8_t active;  /* a fragment is in progress (FIR seen, FIN not yet): segments taken so far (saturating) */
	uint8_t synced;  /* out-of-sequence segments are reported (cleared at mid-stream pickup / after a gap) */
	uint8_t started;
	uint8_t seq;     /* last transport sequence number */
	uint16_t src, dst;
	uint8_t phase, hn, hneed, mode;
	uint8_t ac, fc, qual, psize;
	uint8_t osize, after_obj, attr_type, attr_var;
	uint16_t iin;
	uint8_t attr_len, attr_got;
	uint8_t hb[12];  /* small fields being assembled: AL header, object header + range, object prefix */
	uint32_t nleft;  /* objects left in the current header (per-object layouts) */
	uint64_t skip;   /* object bytes still to skip */
	uint32_t nhdr, first, xflags;
	uint16_t nobjs;  /* headers recorded in objs (the first OTS_PDU_MAX_OBJS) */
	uint16_t objs[OTS_PDU_MAX_OBJS]; /* group << 8 | variation per object header: struct ots_pdu.objs points here */
	char attr[64];
};

struct dnp3_dir {
	struct ots_framer fr;
	uint8_t fbuf[LINK_MAX];
	struct dnp3_tp tp;
};

struct dnp3_state {
	struct dnp3_dir d[2];
	uint64_t fed;       /* TCP bytes seen before the first valid frame */
	uint32_t frames;    /* frames with a valid header */
	uint32_t bad_dgrams;
};

_Static_assert(sizeof(struct dnp3_state) <= OTS_APP_STATE_MAX, "dnp3 state too large");

static uint32_t le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void tp_reset(struct dnp3_tp *t)
{
	t->active = 0;
	t->phase = PH_AL;
	t->hn = 0;
	t->hneed = 2;
	t->skip = 0;
	t->nleft = 0;
	t->nhdr = t->first = t->xflags = 0;
	t->nobjs = 0;
	t->iin = 0;
	t->fc = t->ac = 0;
}

static void set_oh(struct dnp3_tp *t)
{
	t->phase = PH_OH;
	t->hn = 0;
	t->hneed = 3;
}

static void next_object(struct dnp3_tp *t)
{
	if (t->nleft && --t->nleft) {
		t->phase = PH_OBJ;
		t->hn = 0;
		t->hneed = (uint8_t)(t->mode == M_G0 ? t->psize + 2 : t->psize);
		return;
	}
	set_oh(t);
}

static void emit_attr(struct ots_app_ctx *c, struct dnp3_tp *t)
{
	int kind;
	if (t->attr_type != 1 || !is_response(t->fc)) /* 1 = visible string */
		return;
	switch (t->attr_var) {
	case 252: kind = OTS_ATTR_VENDOR; break;
	case 250: kind = OTS_ATTR_MODEL; break;
	case 242: kind = OTS_ATTR_FIRMWARE; break;
	case 248: kind = OTS_ATTR_SERIAL; break;
	case 247: kind = OTS_ATTR_NAME; break;
	default: return;
	}
	size_t n = t->attr_got < sizeof(t->attr) ? t->attr_got : sizeof(t->attr);
	while (n && (t->attr[n - 1] == ' ' || t->attr[n - 1] == 0))
		n--;
	for (size_t i = 0; i < n; i++) /* a visible string is ASCII: keep identities valid UTF-8 */
		if ((uint8_t)t->attr[i] < 0x20 || (uint8_t)t->attr[i] >= 0x7f)
			t->attr[i] = '?';
	ots_app_identity(c, c->dir == OTS_DIR_TO_CLIENT ? OTS_EP_SERVER : OTS_EP_CLIENT, kind, 90, t->attr, n);
}

/* bytes the range field of qualifier code rc takes; -1 reserved */
static int range_bytes(uint8_t rc)
{
	static const int8_t rb[16] = { 2, 4, 8, 2, 4, 8, 0, 1, 2, 4, -1, 1, -1, -1, -1, -1 };
	return rb[rc & 0xf];
}

static void header_done(struct dnp3_tp *t)
{
	uint8_t g = t->hb[0], v = t->hb[1];
	uint8_t pc = (t->qual >> 4) & 7, rc = t->qual & 0xf;
	const uint8_t *r = t->hb + 3;
	uint64_t n;
	switch (rc) {
	case 0: case 3:
		if (r[1] < r[0]) { t->phase = PH_BAD; return; }
		n = (uint64_t)r[1] - r[0] + 1;
		break;
	case 1: case 4:
		if (le(r + 2, 2) < le(r, 2)) { t->phase = PH_BAD; return; }
		n = (uint64_t)le(r + 2, 2) - le(r, 2) + 1;
		break;
	case 2: case 5:
		if (le(r + 4, 4) < le(r, 4)) { t->phase = PH_BAD; return; }
		n = (uint64_t)le(r + 4, 4) - le(r, 4) + 1;
		break;
	case 6: n = 0; break;
	case 7: case 11: n = r[0]; break;
	case 8: n = le(r, 2); break;
	default: n = le(r, 4); break; /* 9 */
	}
	t->nhdr++;
	if (t->nhdr == 1)
		t->first = (uint32_t)g << 8 | v;
	if (t->nobjs < OTS_PDU_MAX_OBJS)
		t->objs[t->nobjs++] = (uint16_t)(g << 8 | v);
	if (t->fc == 2) {
		if (g == 50 || g == 0)
			t->xflags |= OTS_PDUF_CONFIG;
		else if (g == 70)
			t->xflags |= OTS_PDUF_PROGRAM;
	}
	static const uint8_t psz[8] = { 0, 1, 2, 4, 1, 2, 4, 0 };
	t->psize = psz[pc];
	uint8_t sz = 0;
	t->mode = (uint8_t)obj_mode(t->fc, g, v, pc, &sz);
	t->osize = sz;
	switch (t->mode) {
	case M_NONE:
		t->skip = n * t->psize;
		break;
	case M_FIXED:
		t->skip = n * (t->psize + sz);
		break;
	case M_BITS:
		if (t->psize) { /* bit-packed objects cannot be indexed */
			t->phase = PH_BAD;
			return;
		}
		t->skip = (n * sz + 7) / 8;
		break;
	case M_SIZEPFX:
	case M_G0:
		if (!n) {
			set_oh(t);
			return;
		}
		if (n > UINT32_MAX - 1)
			n = UINT32_MAX - 1;
		t->nleft = (uint32_t)n + 1; /* next_object() consumes one before the first object */
		t->attr_var = v;
		next_object(t);
		return;
	case M_INVALID:
		t->phase = PH_INVALID;
		return;
	default:
		t->phase = PH_STOP;
		return;
	}
	t->after_obj = 0;
	if (t->skip) {
		t->phase = PH_SKIP;
		return;
	}
	set_oh(t);
}

/* per-object prefix complete (size prefix, or index prefix + device attribute type/length) */
static void object_prefix_done(struct dnp3_tp *t)
{
	if (t->mode == M_SIZEPFX) {
		t->skip = le(t->hb, t->psize);
		t->after_obj = 1;
		if (t->skip)
			t->phase = PH_SKIP;
		else
			next_object(t);
		return;
	}
	t->attr_type = t->hb[t->psize];
	t->attr_len = t->hb[t->psize + 1];
	t->attr_got = 0;
	if (!t->attr_len) {
		next_object(t);
		return;
	}
	t->phase = PH_ATTR;
}

static void al_feed(struct ots_app_ctx *c, struct dnp3_tp *t, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		switch (t->phase) {
		case PH_AL:
			t->hb[t->hn++] = p[i++];
			if (t->hn == 2) {
				t->ac = t->hb[0];
				t->fc = t->hb[1];
				t->hneed = is_response(t->fc) ? 4 : 2;
			}
			if (t->hn >= 2 && t->hn == t->hneed) {
				if (t->hneed == 4)
					t->iin = (uint16_t)(t->hb[2] << 8 | t->hb[3]);
				set_oh(t);
			}
			break;
		case PH_OH:
			t->hb[t->hn++] = p[i++];
			if (t->hn == 3) {
				t->qual = t->hb[2];
				int rb = range_bytes(t->qual & 0xf);
				if (rb < 0 || (t->qual & 0x80) || ((t->qual >> 4) & 7) == 7) {
					t->phase = PH_BAD;
					break;
				}
				t->hneed = (uint8_t)(3 + rb);
			}
			if (t->hn >= 3 && t->hn == t->hneed)
				header_done(t);
			break;
		case PH_SKIP: {
			size_t k = n - i;
			if (k > t->skip)
				k = (size_t)t->skip;
			i += k;
			t->skip -= k;
			if (!t->skip) {
				if (t->after_obj)
					next_object(t);
				else
					set_oh(t);
			}
			break;
		}
		case PH_OBJ:
			t->hb[t->hn++] = p[i++];
			if (t->hn >= t->hneed)
				object_prefix_done(t);
			break;
		case PH_ATTR: {
			size_t k = n - i;
			if (k > (size_t)(t->attr_len - t->attr_got))
				k = (size_t)(t->attr_len - t->attr_got);
			for (size_t j = 0; j < k; j++)
				if ((size_t)t->attr_got + j < sizeof(t->attr))
					t->attr[t->attr_got + j] = (char)p[i + j];
			t->attr_got = (uint8_t)(t->attr_got + k);
			i += k;
			if (t->attr_got == t->attr_len) {
				emit_attr(c, t);
				next_object(t);
			}
			break;
		}
		default: /* PH_STOP, PH_BAD, PH_INVALID: ignore the rest of the fragment */
			return;
		}
	}
}

static uint32_t func_flags(uint8_t fc)
{
	switch (fc) {
	case 1: case 28:
		return OTS_PDUF_READ;
	case 2: case 3: case 4: case 5: case 6:
		return OTS_PDUF_WRITE;
	case 13: case 14: case 15: case 16: case 17: case 18: case 19: case 20: case 21:
		return OTS_PDUF_CONTROL;
	case 22: case 24: case 31:
		return OTS_PDUF_CONFIG;
	case 23:
		return OTS_PDUF_DIAG;
	case 25: case 26: case 27: case 29: case 30:
		return OTS_PDUF_PROGRAM;
	default:
		return 0;
	}
}

/* the fragment is complete (FIN): report it */
static void al_end(struct ots_app_ctx *c, struct dnp3_tp *t)
{
	if (t->phase == PH_AL && t->hn < 2) {
		ots_app_event(c, OTS_DNP3_EV_MALFORMED_AL);
		return;
	}
	if (t->phase == PH_AL)
		ots_app_event(c, OTS_DNP3_EV_MALFORMED_AL); /* response without its IIN */
	else if (t->phase == PH_BAD || t->phase == PH_SKIP || t->phase == PH_OBJ || t->phase == PH_ATTR ||
		 (t->phase == PH_OH && t->hn))
		ots_app_event(c, OTS_DNP3_EV_MALFORMED_OBJECTS);
	else if (t->phase == PH_INVALID)
		ots_app_event(c, OTS_DNP3_EV_UNKNOWN_OBJECT);
	struct ots_pdu pdu = {
		.proto = c->proto,
		.dir = c->dir,
		.code = t->fc,
		.unit = t->dst,
		.address = t->first,
		.quantity = t->nhdr,
		.name = ots_dnp3_func_name(t->fc),
		.nobjs = t->nobjs,
		.objs = t->nobjs ? t->objs : NULL,
	};
	if (is_response(t->fc))
		pdu.iin = t->iin;
	if (!pdu.name)
		ots_app_event(c, OTS_DNP3_EV_UNKNOWN_FUNCTION);
	if (t->fc == 129)
		pdu.kind = (t->iin & 0x07) ? OTS_PDU_EXCEPTION : OTS_PDU_RESPONSE;
	else if (t->fc == 131)
		pdu.kind = OTS_PDU_RESPONSE;
	else if (t->fc == 130)
		pdu.kind = OTS_PDU_UNSOLICITED;
	else if (t->fc < 128)
		pdu.kind = OTS_PDU_REQUEST;
	else
		pdu.kind = OTS_PDU_OTHER;
	if (pdu.kind == OTS_PDU_REQUEST) {
		pdu.flags = func_flags(t->fc) | t->xflags;
		if (t->dst >= 0xfffd)
			pdu.flags |= OTS_PDUF_BROADCAST;
	}
	ots_app_pdu(c, &pdu);
}

static void transport(struct ots_app_ctx *c, struct dnp3_tp *t, uint16_t src, uint16_t dst, const uint8_t *d,
		      size_t n)
{
	uint8_t th = d[0], seq = th & 0x3f;
	if (th & 0x40) { /* FIR */
		if (t->active == 1 && seq == t->seq && src == t->src && dst == t->dst)
			return; /* the first segment again (link retry): already taken */
		if (t->active)
			ots_app_event(c, OTS_DNP3_EV_TRANSPORT_ABANDONED);
		tp_reset(t);
		t->synced = 1;
		t->src = src;
		t->dst = dst;
	} else {
		if (!t->active) {
			if (t->synced)
				ots_app_event(c, OTS_DNP3_EV_TRANSPORT_SEQ);
			return;
		}
		if (seq == t->seq && src == t->src && dst == t->dst)
			return; /* repeated segment (link retry): already taken */
		if (seq != ((t->seq + 1) & 0x3f) || src != t->src || dst != t->dst) {
			ots_app_event(c, OTS_DNP3_EV_TRANSPORT_SEQ);
			tp_reset(t);
			t->synced = 0; /* drop the rest of this fragment quietly until the next FIR */
			return;
		}
	}
	t->seq = seq;
	if (t->active < 255)
		t->active++;
	al_feed(c, t, d + 1, n - 1);
	if (th & 0x80) { /* FIN */
		al_end(c, t);
		tp_reset(t);
	}
}

/* one whole link frame whose header CRC is good; n = its total length */
static void on_frame(struct dnp3_state *s, struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	uint8_t data[250];
	size_t ud = (size_t)p[2] - 5, got = 0;
	const uint8_t *q = p + LINK_HDR;
	(void)n;
	s->frames++;
	while (got < ud) {
		size_t blk = ud - got < 16 ? ud - got : 16;
		if (!crc_ok(q, blk)) {
			ots_app_event(c, OTS_DNP3_EV_BAD_DATA_CRC);
			return;
		}
		memcpy(data + got, q, blk);
		got += blk;
		q += blk + 2;
	}
	uint8_t ctrl = p[3];
	uint16_t dst = (uint16_t)(p[4] | p[5] << 8), src = (uint16_t)(p[6] | p[7] << 8);
	uint8_t fn = ctrl & 0x0f;
	if ((ctrl & 0x40) && (fn == 3 || fn == 4)) {
		if (!ud) {
			ots_app_event(c, OTS_DNP3_EV_NO_TRANSPORT);
			return;
		}
		transport(c, &s->d[c->dir & 1].tp, src, dst, data, ud);
		return;
	}
	struct ots_pdu pdu = {
		.proto = c->proto,
		.dir = c->dir,
		.kind = OTS_PDU_OTHER,
		.code = 0x100u | (ctrl & 0x4fu),
		.unit = dst,
		.name = "Link",
	};
	if (dst >= 0xfffd)
		pdu.flags = OTS_PDUF_BROADCAST;
	ots_app_pdu(c, &pdu);
}

static size_t frame_total(uint8_t len)
{
	size_t ud = (size_t)len - 5;
	return LINK_HDR + ud + 2 * ((ud + 15) / 16);
}

static int hdr_valid(const uint8_t *p)
{
	return p[0] == 0x05 && p[1] == 0x64 && p[2] >= 5 && crc_ok(p, 8);
}

static int dnp3_frame_len(const uint8_t *p, size_t n)
{
	if (n < LINK_HDR || !hdr_valid(p))
		return -1;
	return (int)frame_total(p[2]);
}

static const struct ots_frame_spec dnp3_spec = {
	.hdr = LINK_HDR,
	.cap = LINK_MAX,
	.frame_len = dnp3_frame_len,
	.ev_resync = OTS_DNP3_EV_RESYNC,
	.ev_oversize = OTS_DNP3_EV_OVERSIZE,
};

static void tcp_frame(void *arg, struct ots_app_ctx *c, const uint8_t *pdu, size_t len)
{
	on_frame(arg, c, pdu, len);
}

static int parse_udp(struct ots_app_ctx *c, struct dnp3_state *s, const uint8_t *p, size_t len)
{
	struct dnp3_tp *t = &s->d[c->dir & 1].tp;
	if (!t->started)
		t->started = 1; /* a capture may start inside a fragment: quiet until the first FIR */
	if (len < LINK_HDR || p[0] != 0x05 || p[1] != 0x64) {
		ots_app_event(c, OTS_DNP3_EV_NOT_DNP3);
		if (!s->frames && ++s->bad_dgrams >= 4)
			return -1;
		return 0;
	}
	size_t i = 0;
	while (i < len) {
		size_t left = len - i;
		const uint8_t *q = p + i;
		if (left < LINK_HDR || q[0] != 0x05 || q[1] != 0x64) {
			ots_app_event(c, OTS_DNP3_EV_TRAILING);
			break;
		}
		if (q[2] < 5) {
			ots_app_event(c, OTS_DNP3_EV_BAD_LENGTH);
			break;
		}
		if (!crc_ok(q, 8)) {
			ots_app_event(c, OTS_DNP3_EV_BAD_HEADER_CRC);
			break;
		}
		size_t tot = frame_total(q[2]);
		if (tot > left) {
			ots_app_event(c, OTS_DNP3_EV_BAD_LENGTH);
			break;
		}
		on_frame(s, c, q, tot);
		i += tot;
	}
	return 0;
}

static int dnp3_parse(struct ots_app_ctx *c, const uint8_t *data, size_t len, void *state)
{
	struct dnp3_state *s = state;
	if (c->transport == 17)
		return data ? parse_udp(c, s, data, len) : 0;
	struct dnp3_dir *d = &s->d[c->dir & 1];
	if (!d->tp.started) {
		d->tp.started = 1;
		d->tp.synced = !(c->flags & OTS_REASM_F_MIDSTREAM);
	}
	if (c->flags & OTS_REASM_F_GAP) {
		tp_reset(&d->tp);
		d->tp.synced = 0;
		ots_framer_feed(&d->fr, d->fbuf, &dnp3_spec, c, NULL, len, tcp_frame, s);
		return 0;
	}
	if (!data)
		return 0;
	ots_framer_feed(&d->fr, d->fbuf, &dnp3_spec, c, data, len, tcp_frame, s);
	if (!s->frames) {
		s->fed += len;
		if (s->fed > 4096) /* frames are <= 292 bytes: this much without one valid header is not DNP3 */
			return -1;
	}
	return 0;
}

static int dnp3_probe(const uint8_t *p, size_t len, int dir)
{
	(void)dir;
	if (len == 0)
		return -1;
	if (p[0] != 0x05 || (len >= 2 && p[1] != 0x64) || (len >= 3 && p[2] < 5))
		return 0;
	if (len < LINK_HDR)
		return -1;
	return crc_ok(p, 8) ? 1 : 0;
}

const struct ots_parser ots_parser_dnp3 = {
	.probe = dnp3_probe,
	.parse = dnp3_parse,
	.state_size = sizeof(struct dnp3_state),
	.events = dnp3_events,
	.nevents = OTS_DNP3_EV_MAX,
};
