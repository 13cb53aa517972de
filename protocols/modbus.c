/* protocols/modbus.c - Modbus/TCP parser (see modbus.h). */
#include "protocols/modbus.h"

#include <stdint.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/framing.h"

#define MBAP_HDR 7
#define MB_HDR 8 /* MBAP + function code: what the frame check looks at */

struct mb_req {
	uint16_t tid;
	uint16_t addr;
	uint16_t qty;
	uint8_t fc;
	uint8_t used;
	uint32_t seq; /* insertion order: the smallest is evicted first */
};

struct mb_state {
	struct ots_framer fr[2];
	uint8_t buf[2][OTS_MODBUS_MAX_ADU];
	struct mb_req req[OTS_MODBUS_OUTSTANDING];
	uint64_t resyncs_seen[2]; /* framer resync count at the last PDU: a change means the next PDU ends a loss */
	uint32_t seq;
	uint32_t pad;
	uint64_t fed;  /* payload bytes seen, both directions */
	uint64_t pdus; /* PDUs framed, both directions */
};

_Static_assert(sizeof(struct mb_state) <= OTS_APP_STATE_MAX, "modbus state too large");

/* what ots_framer_feed() hands back to the PDU callback */
struct mb_feed {
	struct mb_state *s;
	const uint8_t *data; /* the chunk being fed: to name a bad header that follows a PDU in it */
	size_t len;
};

struct mb_fn {
	const char *name;
	uint32_t flags;
};

static const struct mb_fn mb_fns[128] = {
	[1] = { "Read Coils", OTS_PDUF_READ },
	[2] = { "Read Discrete Inputs", OTS_PDUF_READ },
	[3] = { "Read Holding Registers", OTS_PDUF_READ },
	[4] = { "Read Input Registers", OTS_PDUF_READ },
	[5] = { "Write Single Coil", OTS_PDUF_WRITE },
	[6] = { "Write Single Register", OTS_PDUF_WRITE },
	[7] = { "Read Exception Status", OTS_PDUF_READ },
	[8] = { "Diagnostics", OTS_PDUF_DIAG },
	[11] = { "Get Comm Event Counter", OTS_PDUF_DIAG },
	[12] = { "Get Comm Event Log", OTS_PDUF_DIAG },
	[15] = { "Write Multiple Coils", OTS_PDUF_WRITE },
	[16] = { "Write Multiple Registers", OTS_PDUF_WRITE },
	[17] = { "Report Server ID", OTS_PDUF_IDENTITY },
	[20] = { "Read File Record", OTS_PDUF_READ },
	[21] = { "Write File Record", OTS_PDUF_WRITE },
	[22] = { "Mask Write Register", OTS_PDUF_WRITE },
	[23] = { "Read/Write Multiple Registers", OTS_PDUF_READ | OTS_PDUF_WRITE },
	[24] = { "Read FIFO Queue", OTS_PDUF_READ },
	[43] = { "Encapsulated Interface Transport", 0 },
	[90] = { "Schneider UMAS", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	[125] = { "Modicon Program (125)", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	[126] = { "Modicon Program (126)", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
};

static const char *const mb_events[OTS_MB_EV_MAX] = {
	[OTS_MB_EV_RESYNC] = "resync",
	[OTS_MB_EV_OVERSIZE] = "oversize",
	[OTS_MB_EV_BAD_PROTOCOL_ID] = "mbap_bad_protocol_id",
	[OTS_MB_EV_BAD_LENGTH] = "mbap_bad_length",
	[OTS_MB_EV_PDU_TOO_SHORT] = "pdu_too_short",
	[OTS_MB_EV_LENGTH_MISMATCH] = "pdu_length_mismatch",
	[OTS_MB_EV_BAD_EXCEPTION] = "bad_exception",
	[OTS_MB_EV_UNKNOWN_FUNCTION] = "unknown_function",
	[OTS_MB_EV_EXCEPTION_IN_REQUEST] = "exception_in_request",
	[OTS_MB_EV_UNMATCHED_RESPONSE] = "unmatched_response",
	[OTS_MB_EV_RESPONSE_MISMATCH] = "response_mismatch",
	[OTS_MB_EV_OUTSTANDING_EVICTED] = "outstanding_evicted",
	[OTS_MB_EV_BAD_QUANTITY] = "bad_quantity",
	[OTS_MB_EV_BAD_VALUE] = "bad_value",
	[OTS_MB_EV_DEVID_MALFORMED] = "devid_malformed",
	[OTS_MB_EV_UNKNOWN_MEI] = "unknown_mei_type",
};

const char *ots_modbus_function_name(unsigned fc)
{
	return fc < 128 ? mb_fns[fc].name : NULL;
}

/* FC 8 sub-functions (Modbus Application Protocol v1.1b3, 6.8) */
static const char *const mb_diag_names[21] = {
	[0] = "Return Query Data",
	[1] = "Restart Communications Option",
	[2] = "Return Diagnostic Register",
	[3] = "Change ASCII Input Delimiter",
	[4] = "Force Listen Only Mode",
	[10] = "Clear Counters and Diagnostic Register",
	[11] = "Return Bus Message Count",
	[12] = "Return Bus Communication Error Count",
	[13] = "Return Bus Exception Error Count",
	[14] = "Return Server Message Count",
	[15] = "Return Server No Response Count",
	[16] = "Return Server NAK Count",
	[17] = "Return Server Busy Count",
	[18] = "Return Bus Character Overrun Count",
	[20] = "Clear Overrun Counter and Flag",
};

/* Schneider UMAS function codes (FC 90). UMAS says "upload" for engineering station -> PLC and "download" for
 * PLC -> engineering station: the opposite of ATT&CK's Program Download / Program Upload. */
static const char *const umas_names[0x74] = {
	[0x01] = "INIT_COMM",
	[0x02] = "READ_ID",
	[0x03] = "READ_PROJECT_INFO",
	[0x04] = "READ_PLC_INFO",
	[0x06] = "READ_CARD_INFO",
	[0x0a] = "REPEAT",
	[0x10] = "TAKE_PLC_RESERVATION",
	[0x11] = "RELEASE_PLC_RESERVATION",
	[0x12] = "KEEP_ALIVE",
	[0x20] = "READ_MEMORY_BLOCK",
	[0x22] = "READ_VARIABLES",
	[0x23] = "WRITE_VARIABLES",
	[0x24] = "READ_COILS_REGISTERS",
	[0x25] = "WRITE_COILS_REGISTERS",
	[0x30] = "INITIALIZE_UPLOAD",
	[0x31] = "UPLOAD_BLOCK",
	[0x32] = "END_STRATEGY_UPLOAD",
	[0x33] = "INITIALIZE_DOWNLOAD",
	[0x34] = "DOWNLOAD_BLOCK",
	[0x35] = "END_STRATEGY_DOWNLOAD",
	[0x39] = "READ_ETH_MASTER_DATA",
	[0x40] = "START_PLC",
	[0x41] = "STOP_PLC",
	[0x50] = "MONITOR_PLC",
	[0x58] = "CHECK_PLC",
	[0x70] = "READ_IO_OBJECT",
	[0x71] = "WRITE_IO_OBJECT",
	[0x73] = "GET_STATUS_MODULE",
};

const char *ots_modbus_sub_name(unsigned fc, unsigned sub)
{
	if (fc == 8)
		return sub < sizeof(mb_diag_names) / sizeof(mb_diag_names[0]) ? mb_diag_names[sub] : NULL;
	if (fc == 90)
		return sub < sizeof(umas_names) / sizeof(umas_names[0]) ? umas_names[sub] : NULL;
	return NULL;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- framing ---- */

/* total ADU length from the MBAP header (6 bytes visible), or -1. The standard caps the length at 254;
 * Schneider UMAS sends 255 (and tshark decodes it), so up to OTS_MODBUS_MAX_LEN is accepted. */
static int mbap_total(const uint8_t *p)
{
	unsigned len = rd16(p + 4);
	if (p[2] || p[3] || len < 2 || len > OTS_MODBUS_MAX_LEN)
		return -1;
	return (int)len + 6;
}

static int mb_frame_len(const uint8_t *p, size_t n)
{
	(void)n;
	return mbap_total(p);
}

/* while hunting for a start (mid-stream, after a gap or a bad header), trust a candidate only when the bytes after
 * it in the chunk agree: walking on from it, up to STRICT_CHAIN headers must all be plausible until the visible
 * bytes end (exactly, or inside the last frame). A lone candidate running past the end of the chunk also needs a
 * known function code (an exception then is exactly 9 bytes). The walk is capped, so hunting through a chunk
 * costs at most STRICT_CHAIN header checks per byte. */
#define STRICT_CHAIN 8

static int mb_frame_len_strict(const uint8_t *p, size_t n)
{
	int t = mbap_total(p);
	if (t < 0 || (size_t)t == n)
		return t;
	if ((size_t)t > n) /* nothing after it to agree */
		return mb_fns[p[7] & 0x7f].name && (!(p[7] & 0x80) || t == 9) ? t : -1;
	size_t pos = (size_t)t;
	for (int k = 0; k < STRICT_CHAIN && pos < n; k++) {
		if (n - pos < 6) { /* a partial header: what shows must fit */
			if ((n - pos > 2 && p[pos + 2]) || (n - pos > 3 && p[pos + 3]))
				return -1;
			break;
		}
		int u = mbap_total(p + pos);
		if (u < 0)
			return -1;
		pos += (size_t)u;
	}
	return t;
}

static const struct ots_frame_spec mb_spec = {
	.hdr = MB_HDR, .cap = OTS_MODBUS_MAX_ADU, .frame_len = mb_frame_len,
	.ev_resync = OTS_MB_EV_RESYNC, .ev_oversize = OTS_MB_EV_OVERSIZE,
};

static const struct ots_frame_spec mb_spec_strict = {
	.hdr = MB_HDR, .cap = OTS_MODBUS_MAX_ADU, .frame_len = mb_frame_len_strict,
	.ev_resync = OTS_MB_EV_RESYNC, .ev_oversize = OTS_MB_EV_OVERSIZE,
};

/* where a PDU must start: say why these bytes cannot (the framer then counts a resync). Only a whole header is
 * judged; a partial one is judged when a later chunk completes it (in mb_parse). */
static void name_bad_header(struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	if (n < MB_HDR)
		return;
	if (p[2] || p[3])
		ots_app_event(c, OTS_MB_EV_BAD_PROTOCOL_ID);
	else if (mbap_total(p) < 0)
		ots_app_event(c, OTS_MB_EV_BAD_LENGTH);
}

/* ---- outstanding requests ---- */

static void remember(struct mb_state *s, struct ots_app_ctx *c, uint16_t tid, uint8_t fc, uint16_t addr,
		     uint16_t qty)
{
	struct mb_req *slot = NULL, *free_slot = NULL, *oldest = NULL;
	for (unsigned i = 0; i < OTS_MODBUS_OUTSTANDING; i++) {
		struct mb_req *r = &s->req[i];
		if (!r->used) {
			if (!free_slot)
				free_slot = r;
			continue;
		}
		if (r->tid == tid) { /* reused id (clients that always send 0): the newer request wins */
			slot = r;
			break;
		}
		if (!oldest || (int32_t)(r->seq - oldest->seq) < 0)
			oldest = r;
	}
	if (!slot)
		slot = free_slot;
	if (!slot) {
		ots_app_event(c, OTS_MB_EV_OUTSTANDING_EVICTED);
		slot = oldest;
	}
	*slot = (struct mb_req){ .tid = tid, .addr = addr, .qty = qty, .fc = fc, .used = 1, .seq = ++s->seq };
}

static int take(struct mb_state *s, uint16_t tid, struct mb_req *out)
{
	for (unsigned i = 0; i < OTS_MODBUS_OUTSTANDING; i++)
		if (s->req[i].used && s->req[i].tid == tid) {
			*out = s->req[i];
			s->req[i].used = 0;
			return 1;
		}
	return 0;
}

/* ---- PDU bodies ---- */

/* exactly `want` body bytes: fewer is too short, more a length mismatch; returns 1 when at least `want` */
static int body_exact(struct ots_app_ctx *c, size_t bl, size_t want)
{
	if (bl < want) {
		ots_app_event(c, OTS_MB_EV_PDU_TOO_SHORT);
		return 0;
	}
	if (bl > want)
		ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
	return 1;
}

static int body_min(struct ots_app_ctx *c, size_t bl, size_t want)
{
	if (bl < want) {
		ots_app_event(c, OTS_MB_EV_PDU_TOO_SHORT);
		return 0;
	}
	return 1;
}

static void quantity_range(struct ots_app_ctx *c, unsigned q, unsigned lo, unsigned hi)
{
	if (q < lo || q > hi)
		ots_app_event(c, OTS_MB_EV_BAD_QUANTITY);
}

static uint32_t diag_flags(unsigned sub)
{
	/* 0x0001 Restart Communications Option, 0x0004 Force Listen Only Mode: take a device off the bus */
	return sub == 1 || sub == 4 ? OTS_PDUF_DIAG | OTS_PDUF_CONTROL : OTS_PDUF_DIAG;
}

/* FC 8, the request and its echo: the sub-function as address, and its flags */
static void diag_body(struct ots_app_ctx *c, struct ots_pdu *pd, const uint8_t *b, size_t bl)
{
	if (body_min(c, bl, 2)) {
		pd->address = rd16(b);
		pd->flags = diag_flags(pd->address);
	}
}

/* FC 43, request or response: 1 when the MEI type is 14 (Read Device Identification: the PDU is flagged identity);
 * an event for a type other than 13 and 14 */
static int mei_devid(struct ots_app_ctx *c, struct ots_pdu *pd, const uint8_t *b, size_t bl)
{
	if (!body_min(c, bl, 1))
		return 0;
	if (b[0] == 14) {
		pd->flags |= OTS_PDUF_IDENTITY;
		return 1;
	}
	if (b[0] != 13)
		ots_app_event(c, OTS_MB_EV_UNKNOWN_MEI);
	return 0;
}

/* sub-code of a PDU (struct ots_pdu.sub) from its function and address: the FC 8 sub-function and the FC 90 UMAS
 * function are both carried in address (requests: parsed; responses: from the matched request) */
static uint32_t sub_of(unsigned fc, uint32_t address)
{
	return fc == 8 || fc == 90 ? address : 0;
}

/* Request: address / quantity per function
 *   1-4     start address, quantity of coils / inputs / registers
 *   5, 6    output address, quantity 1
 *   15, 16  start address, quantity of outputs / registers (byte count checked against it)
 *   8       address = sub = sub-function, quantity 0
 *   20, 21  address = file number of the first sub-request, quantity = number of sub-requests
 *   22      reference address, quantity 1
 *   23      read start address, read quantity (the write part is checked, not reported)
 *   24      FIFO pointer address, quantity 0
 *   43      address = MEI type << 8 | object id (MEI 14) / 0, quantity 0
 *   90      address = sub = UMAS function code ([90][session][UMAS function]...), quantity 0
 * (sub is set by the caller from address for FC 8 and 90: see sub_of())
 */
static void mb_request(struct mb_state *s, struct ots_app_ctx *c, struct ots_pdu *pd, uint16_t tid, uint8_t fc,
		       const uint8_t *b, size_t bl)
{
	switch (fc) {
	case 1:
	case 2:
	case 3:
	case 4:
		if (body_exact(c, bl, 4)) {
			pd->address = rd16(b);
			pd->quantity = rd16(b + 2);
			quantity_range(c, pd->quantity, 1, fc <= 2 ? 2000 : 125);
		}
		break;
	case 5:
	case 6:
		if (body_exact(c, bl, 4)) {
			pd->address = rd16(b);
			pd->quantity = 1;
			if (fc == 5 && rd16(b + 2) != 0 && rd16(b + 2) != 0xff00)
				ots_app_event(c, OTS_MB_EV_BAD_VALUE);
		}
		break;
	case 7:
	case 11:
	case 12:
	case 17:
		body_exact(c, bl, 0);
		break;
	case 8:
		diag_body(c, pd, b, bl);
		break;
	case 15:
	case 16:
		if (body_min(c, bl, 5)) {
			pd->address = rd16(b);
			pd->quantity = rd16(b + 2);
			unsigned bc = b[4];
			quantity_range(c, pd->quantity, 1, fc == 15 ? 1968 : 123);
			if (bc != (fc == 15 ? (pd->quantity + 7) / 8 : pd->quantity * 2) || bl != 5 + (size_t)bc)
				ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
		}
		break;
	case 20:
	case 21:
		if (body_min(c, bl, 1)) {
			size_t bc = b[0];
			if (bl != 1 + bc)
				ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
			size_t end = bl < 1 + bc ? bl : 1 + bc, off = 1;
			unsigned n = 0;
			while (off + 7 <= end) { /* ref type, file, record, length [, data] */
				if (!n)
					pd->address = rd16(b + off + 1);
				size_t rl = rd16(b + off + 5);
				off += 7 + (fc == 21 ? 2 * rl : 0);
				n++;
			}
			if (off != end || !n)
				ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
			pd->quantity = n;
		}
		break;
	case 22:
		if (body_exact(c, bl, 6)) {
			pd->address = rd16(b);
			pd->quantity = 1;
		}
		break;
	case 23:
		if (body_min(c, bl, 9)) {
			pd->address = rd16(b);
			pd->quantity = rd16(b + 2);
			unsigned wq = rd16(b + 6), bc = b[8];
			quantity_range(c, pd->quantity, 1, 125);
			quantity_range(c, wq, 1, 121);
			if (bc != wq * 2 || bl != 9 + (size_t)bc)
				ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
		}
		break;
	case 24:
		if (body_exact(c, bl, 2))
			pd->address = rd16(b);
		break;
	case 43:
		if (mei_devid(c, pd, b, bl) && body_exact(c, bl, 3))
			pd->address = 14u << 8 | b[2];
		break;
	case 90:
		if (body_min(c, bl, 2))
			pd->address = b[1];
		break;
	default:
		break;
	}
	remember(s, c, tid, fc, (uint16_t)pd->address, (uint16_t)pd->quantity);
}

/* a device string as a value: up to the first NUL, at most OTS_MODBUS_MAX_VALUE bytes, blanks around it trimmed,
 * control characters replaced by '?' (bytes >= 0x80 are kept: UTF-8 names) */
static void identity(struct ots_app_ctx *c, int kind, int conf, const uint8_t *v, size_t n)
{
	char out[OTS_MODBUS_MAX_VALUE];
	const uint8_t *nul = memchr(v, 0, n);
	if (nul)
		n = (size_t)(nul - v);
	while (n && v[0] == ' ') {
		v++;
		n--;
	}
	if (n > sizeof(out))
		n = sizeof(out);
	for (size_t i = 0; i < n; i++)
		out[i] = v[i] < 0x20 || v[i] == 0x7f ? '?' : (char)v[i];
	while (n && out[n - 1] == ' ')
		n--;
	ots_app_identity(c, OTS_EP_SERVER, kind, conf, out, n);
}

/* FC 43 / MEI 14 response: 0x0E, read code, conformity, more follows, next object id, object count, objects */
static void devid_response(struct ots_app_ctx *c, const uint8_t *b, size_t bl)
{
	if (bl < 6) {
		ots_app_event(c, OTS_MB_EV_DEVID_MALFORMED);
		return;
	}
	unsigned nobj = b[5];
	int bad = b[3] != 0 && b[3] != 0xff, has_model = 0;
	size_t off = 6;
	for (unsigned i = 0; i < nobj; i++) { /* pass 1: bounds, and is there a ModelName */
		if (off + 2 > bl || off + 2 + b[off + 1] > bl) {
			bad = 1;
			break;
		}
		has_model |= b[off] == 0x05;
		off += 2 + (size_t)b[off + 1];
	}
	if (off != bl)
		bad = 1;
	off = 6;
	for (unsigned i = 0; i < nobj && off + 2 <= bl && off + 2 + b[off + 1] <= bl; i++) {
		const uint8_t *v = b + off + 2;
		size_t n = b[off + 1];
		switch (b[off]) {
		case 0x00:
			identity(c, OTS_ATTR_VENDOR, 90, v, n);
			break;
		case 0x01:
			identity(c, OTS_ATTR_PRODUCT_CODE, 90, v, n);
			break;
		case 0x02:
			identity(c, OTS_ATTR_FIRMWARE, 90, v, n);
			break;
		case 0x04:
			identity(c, has_model ? OTS_ATTR_DESCRIPTION : OTS_ATTR_MODEL, 90, v, n);
			break;
		case 0x05:
			identity(c, OTS_ATTR_MODEL, 90, v, n);
			break;
		case 0x06:
			identity(c, OTS_ATTR_NAME, 90, v, n);
			break;
		default: /* 0x03 VendorUrl, reserved and private objects */
			break;
		}
		off += 2 + n;
	}
	if (bad)
		ots_app_event(c, OTS_MB_EV_DEVID_MALFORMED);
}

/* FC 17 response data is server specific: the longest printable run of >= 4 characters, as a description */
static void server_id_response(struct ots_app_ctx *c, const uint8_t *d, size_t n)
{
	size_t best = 0, best_len = 0, run = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && d[i] >= 0x20 && d[i] < 0x7f) {
			run++;
			continue;
		}
		if (run > best_len) {
			best_len = run;
			best = i - run;
		}
		run = 0;
	}
	if (best_len >= 4)
		identity(c, OTS_ATTR_DESCRIPTION, 40, d + best, best_len);
}

/* UMAS READ_ID (FC 90 function 0x02) answered OK (status 0xfe): a Schneider Electric Modicon PLC. Its CPU model is a
 * length-prefixed string at body offset 24 (session, status, range, ident, ... then the length byte; the offset
 * nmap's modicon-info reads), e.g. "140 CPU 311 10". A layout that does not fit (length past the end, not
 * printable) yields no model. */
#define UMAS_READ_ID 0x02
static void umas_id_response(struct ots_app_ctx *c, const uint8_t *b, size_t bl)
{
	static const char vendor[] = "Schneider Electric";
	if (bl < 2 || b[1] != 0xfe)
		return;
	identity(c, OTS_ATTR_VENDOR, 80, (const uint8_t *)vendor, sizeof(vendor) - 1);
	size_t n = bl > 24 ? b[24] : 0;
	if (!n || 25 + n > bl)
		return;
	for (size_t i = 0; i < n; i++)
		if (b[25 + i] < 0x20 || b[25 + i] > 0x7e)
			return;
	identity(c, OTS_ATTR_MODEL, 90, b + 25, n);
}

/* byte-count-prefixed response data: bc == bl - 1 */
static int counted(struct ots_app_ctx *c, const uint8_t *b, size_t bl)
{
	if (!body_min(c, bl, 1))
		return -1;
	if ((size_t)b[0] + 1 != bl)
		ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
	return b[0];
}

static void mb_response(struct ots_app_ctx *c, struct ots_pdu *pd, const struct mb_req *rq, uint8_t fc,
			const uint8_t *b, size_t bl)
{
	int bc;
	switch (fc) {
	case 1:
	case 2:
		bc = counted(c, b, bl);
		if (bc >= 0 && rq && (unsigned)bc != (rq->qty + 7u) / 8)
			ots_app_event(c, OTS_MB_EV_RESPONSE_MISMATCH);
		break;
	case 3:
	case 4:
	case 23:
		bc = counted(c, b, bl);
		if (bc < 0)
			break;
		if (bc & 1)
			ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
		if (!rq)
			pd->quantity = (unsigned)bc / 2;
		else if ((unsigned)bc != rq->qty * 2u)
			ots_app_event(c, OTS_MB_EV_RESPONSE_MISMATCH);
		break;
	case 5:
	case 6:
	case 22:
		if (body_exact(c, bl, fc == 22 ? 6 : 4)) {
			if (rq && rd16(b) != rq->addr)
				ots_app_event(c, OTS_MB_EV_RESPONSE_MISMATCH);
			pd->address = rd16(b);
			pd->quantity = 1;
		}
		break;
	case 15:
	case 16:
		if (body_exact(c, bl, 4)) {
			if (rq && (rd16(b) != rq->addr || rd16(b + 2) != rq->qty))
				ots_app_event(c, OTS_MB_EV_RESPONSE_MISMATCH);
			pd->address = rd16(b);
			pd->quantity = rd16(b + 2);
		}
		break;
	case 7:
		body_exact(c, bl, 1);
		break;
	case 8:
		diag_body(c, pd, b, bl);
		break;
	case 11:
		body_exact(c, bl, 4);
		break;
	case 12:
	case 20:
	case 21:
		counted(c, b, bl);
		break;
	case 17:
		bc = counted(c, b, bl);
		if (bc > 0)
			server_id_response(c, b + 1, (size_t)bc < bl - 1 ? (size_t)bc : bl - 1);
		break;
	case 24:
		if (body_min(c, bl, 4)) {
			if ((size_t)rd16(b) + 2 != bl)
				ots_app_event(c, OTS_MB_EV_LENGTH_MISMATCH);
			pd->quantity = rd16(b + 2);
		}
		break;
	case 43:
		if (mei_devid(c, pd, b, bl))
			devid_response(c, b, bl);
		break;
	case 90:
		if (rq && rq->addr == UMAS_READ_ID)
			umas_id_response(c, b, bl);
		break;
	default:
		break;
	}
}

static int exception_code_ok(uint8_t e)
{
	return (e >= 1 && e <= 6) || e == 8 || e == 10 || e == 11;
}

/* one whole ADU (MBAP + PDU) */
static void mb_adu(struct mb_state *s, struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	uint16_t tid = rd16(p);
	uint8_t fc = p[7], f7 = fc & 0x7f;
	const uint8_t *b = p + MB_HDR;
	size_t bl = n - MB_HDR;
	struct ots_pdu pd = {
		.proto = c->proto, .dir = c->dir, .code = f7, .unit = p[6], .flags = mb_fns[f7].flags,
		.name = mb_fns[f7].name,
	};
	if (!pd.name)
		ots_app_event(c, OTS_MB_EV_UNKNOWN_FUNCTION);
	if (c->dir == OTS_DIR_TO_SERVER) {
		if (fc & 0x80) { /* only a server answers with an exception: the roles of this flow look swapped */
			ots_app_event(c, OTS_MB_EV_EXCEPTION_IN_REQUEST);
			pd.kind = OTS_PDU_EXCEPTION;
			if (bl != 1 || !exception_code_ok(b[0]))
				ots_app_event(c, OTS_MB_EV_BAD_EXCEPTION);
		} else {
			pd.kind = OTS_PDU_REQUEST;
			mb_request(s, c, &pd, tid, fc, b, bl);
			pd.sub = sub_of(f7, pd.address);
		}
		ots_app_pdu(c, &pd);
		return;
	}
	struct mb_req rq;
	int matched = take(s, tid, &rq);
	if (!matched) {
		ots_app_event(c, OTS_MB_EV_UNMATCHED_RESPONSE);
	} else if (rq.fc != f7) {
		ots_app_event(c, OTS_MB_EV_RESPONSE_MISMATCH);
		matched = 0;
	} else {
		pd.address = rq.addr;
		pd.quantity = rq.qty;
		if (f7 == 8)
			pd.flags = diag_flags(rq.addr);
		if (f7 == 43 && rq.addr >> 8 == 14)
			pd.flags |= OTS_PDUF_IDENTITY;
	}
	if (fc & 0x80) {
		pd.kind = OTS_PDU_EXCEPTION;
		if (bl != 1 || !exception_code_ok(b[0]))
			ots_app_event(c, OTS_MB_EV_BAD_EXCEPTION);
	} else {
		pd.kind = OTS_PDU_RESPONSE;
		mb_response(c, &pd, matched ? &rq : NULL, fc, b, bl);
	}
	if (matched || f7 == 8) /* an unmatched FC 8 response echoes its sub-function */
		pd.sub = sub_of(f7, pd.address);
	ots_app_pdu(c, &pd);
}

static void mb_on_pdu(void *arg, struct ots_app_ctx *c, const uint8_t *pdu, size_t len)
{
	struct mb_feed *fa = arg;
	struct mb_state *s = fa->s;
	unsigned d = c->dir ? 1 : 0;
	size_t visible;
	/* the first PDU after a loss inside a chunk is held to the strict check, else dropped (the loss was counted) */
	if (!ots_framer_accept(&s->fr[d], &s->resyncs_seen[d], mb_frame_len_strict, pdu, len, fa->data, fa->len, &visible))
		return;
	s->pdus++;
	/* a PDU cut straight from the chunk: name what is wrong with the header after it, if anything */
	if (visible > len)
		name_bad_header(c, pdu + len, visible - len);
	mb_adu(s, c, pdu, len);
}

static int mb_parse(struct ots_app_ctx *c, const uint8_t *data, size_t len, void *state)
{
	struct mb_state *s = state;
	unsigned d = c->dir ? 1 : 0;
	struct ots_framer *f = &s->fr[d];
	struct mb_feed fa = { s, data, len };
	if (c->flags & OTS_REASM_F_GAP) {
		ots_framer_feed(f, s->buf[d], &mb_spec, c, NULL, len, mb_on_pdu, &fa);
		return 0;
	}
	if (!data || !len)
		return 0;
	if (!f->lost && f->have && !f->need && f->have < MB_HDR && f->have + len >= MB_HDR) {
		/* a header split over chunks is completed now: name what is wrong with it (the framer counts the loss) */
		uint8_t h[MB_HDR];
		memcpy(h, s->buf[d], f->have);
		memcpy(h + f->have, data, MB_HDR - f->have);
		if (mb_frame_len(h, MB_HDR) < 0)
			name_bad_header(c, h, MB_HDR);
	}
	int hunting = f->lost || (!f->started && (c->flags & OTS_REASM_F_MIDSTREAM));
	if (!hunting && !f->have && !f->skip)
		name_bad_header(c, data, len);
	ots_framer_feed(f, s->buf[d], hunting ? &mb_spec_strict : &mb_spec, c, data, len, mb_on_pdu, &fa);
	s->fed += len;
	return s->pdus == 0 && s->fed >= 1024 ? -1 : 0;
}

int ots_modbus_probe(const uint8_t *p, size_t len, int dir)
{
	(void)dir;
	if (len < MB_HDR)
		return -1;
	int t = mb_frame_len_strict(p, len);
	return t > 0 && (size_t)t <= len ? 1 : 0;
}

const struct ots_parser ots_parser_modbus = {
	.probe = ots_modbus_probe,
	.parse = mb_parse,
	.state_size = sizeof(struct mb_state),
	.events = mb_events,
	.nevents = OTS_MB_EV_MAX,
};
