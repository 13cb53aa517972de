/* protocols/iec104.c - IEC 60870-5-104 parser (see iec104.h). */
#include "protocols/iec104.h"

#include <stdint.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "protocols/framing.h"

#define APCI_HDR 6   /* start, length, 4 control octets: what the frame check needs */
#define ASDU_HDR 6   /* type id, VSQ, COT (2), common address (2) */
#define IOA_LEN 3
#define VAR (-1)     /* element size not fixed */

struct iec_dir {
	uint16_t next_ns; /* expected N(S) of the next I frame */
	uint8_t have_ns;
	uint8_t pad;
};

struct iec_state {
	struct ots_framer fr[2];
	uint8_t buf[2][OTS_IEC104_MAX_APDU + 1];
	uint64_t resyncs_seen[2]; /* framer resync count at the last APDU: a change means the next one ends a loss */
	struct iec_dir d[2];
	uint64_t fed;  /* payload bytes seen, both directions */
	uint64_t pdus; /* APDUs framed, both directions */
};

_Static_assert(sizeof(struct iec_state) <= OTS_APP_STATE_MAX, "iec104 state too large");

struct iec_feed {
	struct iec_state *s;
	const uint8_t *data;
	size_t len;
};

struct iec_type {
	const char *name;
	int8_t elem;    /* bytes of one information element after its IOA; VAR when variable */
	uint8_t pad[3];
	uint32_t flags;
};

#define WC (OTS_PDUF_WRITE | OTS_PDUF_CONTROL)

static const struct iec_type iec_types[256] = {
	[1] = { "M_SP_NA_1", 1, { 0 }, 0 },
	[2] = { "M_SP_TA_1", 4, { 0 }, 0 },
	[3] = { "M_DP_NA_1", 1, { 0 }, 0 },
	[4] = { "M_DP_TA_1", 4, { 0 }, 0 },
	[5] = { "M_ST_NA_1", 2, { 0 }, 0 },
	[6] = { "M_ST_TA_1", 5, { 0 }, 0 },
	[7] = { "M_BO_NA_1", 5, { 0 }, 0 },
	[8] = { "M_BO_TA_1", 8, { 0 }, 0 },
	[9] = { "M_ME_NA_1", 3, { 0 }, 0 },
	[10] = { "M_ME_TA_1", 6, { 0 }, 0 },
	[11] = { "M_ME_NB_1", 3, { 0 }, 0 },
	[12] = { "M_ME_TB_1", 6, { 0 }, 0 },
	[13] = { "M_ME_NC_1", 5, { 0 }, 0 },
	[14] = { "M_ME_TC_1", 8, { 0 }, 0 },
	[15] = { "M_IT_NA_1", 5, { 0 }, 0 },
	[16] = { "M_IT_TA_1", 8, { 0 }, 0 },
	[17] = { "M_EP_TA_1", 6, { 0 }, 0 },
	[18] = { "M_EP_TB_1", 7, { 0 }, 0 },
	[19] = { "M_EP_TC_1", 7, { 0 }, 0 },
	[20] = { "M_PS_NA_1", 5, { 0 }, 0 },
	[21] = { "M_ME_ND_1", 2, { 0 }, 0 },
	[30] = { "M_SP_TB_1", 8, { 0 }, 0 },
	[31] = { "M_DP_TB_1", 8, { 0 }, 0 },
	[32] = { "M_ST_TB_1", 9, { 0 }, 0 },
	[33] = { "M_BO_TB_1", 12, { 0 }, 0 },
	[34] = { "M_ME_TD_1", 10, { 0 }, 0 },
	[35] = { "M_ME_TE_1", 10, { 0 }, 0 },
	[36] = { "M_ME_TF_1", 12, { 0 }, 0 },
	[37] = { "M_IT_TB_1", 12, { 0 }, 0 },
	[38] = { "M_EP_TD_1", 10, { 0 }, 0 },
	[39] = { "M_EP_TE_1", 11, { 0 }, 0 },
	[40] = { "M_EP_TF_1", 11, { 0 }, 0 },
	[45] = { "C_SC_NA_1", 1, { 0 }, WC },
	[46] = { "C_DC_NA_1", 1, { 0 }, WC },
	[47] = { "C_RC_NA_1", 1, { 0 }, WC },
	[48] = { "C_SE_NA_1", 3, { 0 }, OTS_PDUF_WRITE },
	[49] = { "C_SE_NB_1", 3, { 0 }, OTS_PDUF_WRITE },
	[50] = { "C_SE_NC_1", 5, { 0 }, OTS_PDUF_WRITE },
	[51] = { "C_BO_NA_1", 4, { 0 }, OTS_PDUF_WRITE },
	[58] = { "C_SC_TA_1", 8, { 0 }, WC },
	[59] = { "C_DC_TA_1", 8, { 0 }, WC },
	[60] = { "C_RC_TA_1", 8, { 0 }, WC },
	[61] = { "C_SE_TA_1", 10, { 0 }, OTS_PDUF_WRITE },
	[62] = { "C_SE_TB_1", 10, { 0 }, OTS_PDUF_WRITE },
	[63] = { "C_SE_TC_1", 12, { 0 }, OTS_PDUF_WRITE },
	[64] = { "C_BO_TA_1", 11, { 0 }, OTS_PDUF_WRITE },
	[70] = { "M_EI_NA_1", 1, { 0 }, 0 },
	[100] = { "C_IC_NA_1", 1, { 0 }, OTS_PDUF_READ },
	[101] = { "C_CI_NA_1", 1, { 0 }, OTS_PDUF_READ },
	[102] = { "C_RD_NA_1", 0, { 0 }, OTS_PDUF_READ },
	[103] = { "C_CS_NA_1", 7, { 0 }, OTS_PDUF_CONFIG },
	[104] = { "C_TS_NA_1", 2, { 0 }, OTS_PDUF_DIAG },
	[105] = { "C_RP_NA_1", 1, { 0 }, OTS_PDUF_CONTROL },
	[106] = { "C_CD_NA_1", 2, { 0 }, OTS_PDUF_CONFIG },
	[107] = { "C_TS_TA_1", 9, { 0 }, OTS_PDUF_DIAG },
	[110] = { "P_ME_NA_1", 3, { 0 }, OTS_PDUF_CONFIG },
	[111] = { "P_ME_NB_1", 3, { 0 }, OTS_PDUF_CONFIG },
	[112] = { "P_ME_NC_1", 5, { 0 }, OTS_PDUF_CONFIG },
	[113] = { "P_AC_NA_1", 1, { 0 }, OTS_PDUF_CONFIG },
	[120] = { "F_FR_NA_1", 6, { 0 }, OTS_PDUF_PROGRAM },
	[121] = { "F_SR_NA_1", 7, { 0 }, OTS_PDUF_PROGRAM },
	[122] = { "F_SC_NA_1", 4, { 0 }, OTS_PDUF_PROGRAM },
	[123] = { "F_LS_NA_1", 5, { 0 }, OTS_PDUF_PROGRAM },
	[124] = { "F_AF_NA_1", 4, { 0 }, OTS_PDUF_PROGRAM },
	[125] = { "F_SG_NA_1", VAR, { 0 }, OTS_PDUF_PROGRAM },
	[126] = { "F_DR_TA_1", 13, { 0 }, OTS_PDUF_PROGRAM },
	[127] = { "F_SC_NB_1", 16, { 0 }, OTS_PDUF_PROGRAM },
};

static const char *const iec_events[OTS_IEC_EV_MAX] = {
	[OTS_IEC_EV_RESYNC] = "resync",
	[OTS_IEC_EV_OVERSIZE] = "oversize",
	[OTS_IEC_EV_BAD_START] = "apci_bad_start",
	[OTS_IEC_EV_BAD_LENGTH] = "apci_bad_length",
	[OTS_IEC_EV_BAD_U_FRAME] = "bad_u_frame",
	[OTS_IEC_EV_ASDU_TOO_SHORT] = "asdu_too_short",
	[OTS_IEC_EV_ASDU_LENGTH] = "asdu_length_mismatch",
	[OTS_IEC_EV_UNKNOWN_TYPE] = "unknown_type_id",
	[OTS_IEC_EV_UNKNOWN_COT] = "unknown_cot",
	[OTS_IEC_EV_ZERO_COUNT] = "zero_count",
	[OTS_IEC_EV_SEQ_GAP] = "seq_gap",
};

static const char *const u_names[6] = { "STARTDT act", "STARTDT con", "STOPDT act", "STOPDT con", "TESTFR act",
					"TESTFR con" };

const char *ots_iec104_type_name(unsigned t)
{
	return t < 256 ? iec_types[t].name : NULL;
}

/* causes of transmission (IEC 60870-5-101, 7.2.3), named as tshark names them */
static const char *const cot_names[48] = {
	[1] = "Per/Cyc", [2] = "Back", [3] = "Spont", [4] = "Init", [5] = "Req", [6] = "Act", [7] = "ActCon",
	[8] = "Deact", [9] = "DeactCon", [10] = "ActTerm", [11] = "Retrem", [12] = "Retloc", [13] = "File",
	[20] = "Inrogen", [21] = "Inro1", [22] = "Inro2", [23] = "Inro3", [24] = "Inro4", [25] = "Inro5",
	[26] = "Inro6", [27] = "Inro7", [28] = "Inro8", [29] = "Inro9", [30] = "Inro10", [31] = "Inro11",
	[32] = "Inro12", [33] = "Inro13", [34] = "Inro14", [35] = "Inro15", [36] = "Inro16", [37] = "Reqcogen",
	[38] = "Reqco1", [39] = "Reqco2", [40] = "Reqco3", [41] = "Reqco4", [44] = "UkTypeId", [45] = "UkCauseTx",
	[46] = "UkComAdrASDU", [47] = "UkIOA",
};

const char *ots_iec104_cot_name(unsigned cot)
{
	return cot < 48 ? cot_names[cot] : NULL;
}

/* ---- framing ---- */

/* total APDU length from the first n >= 6 bytes, or -1 */
static int iec_frame_len(const uint8_t *p, size_t n)
{
	unsigned l = p[1];
	if (p[0] != 0x68 || l < 4 || l > 253)
		return -1;
	if (!(p[2] & 1)) { /* I */
		if (l < 4 + ASDU_HDR || (p[4] & 1))
			return -1;
		if ((n > 6 && !p[6]) || (n > 7 && !(p[7] & 0x7f)) || (n > 8 && !(p[8] & 0x3f)))
			return -1;
	} else if ((p[2] & 3) == 1) { /* S */
		if (l != 4 || p[2] != 1 || p[3] || (p[4] & 1))
			return -1;
	} else if (l != 4 || p[3] || p[4] || p[5]) { /* U */
		return -1;
	}
	return (int)l + 2;
}

/* an I frame of a standard type whose length disagrees with its object count (only checked when visible) */
static int iec_i_length_wrong(const uint8_t *p, size_t n, size_t t)
{
	if ((p[2] & 1) || n < 8)
		return 0;
	const struct iec_type *ty = &iec_types[p[6]];
	size_t cnt = p[7] & 0x7f, body = t - APCI_HDR - ASDU_HDR;
	if (!ty->name || ty->elem == VAR)
		return 0;
	return body != (p[7] & 0x80 ? IOA_LEN + cnt * (size_t)ty->elem : cnt * (IOA_LEN + (size_t)ty->elem));
}

/* while hunting for a start (mid-stream, after a gap or a bad frame), trust a candidate only when the bytes after
 * it in the chunk agree: walking on from it, up to STRICT_CHAIN APDUs must all pass the frame check (I frames of a
 * standard type with the length their object count implies) until the visible bytes end (exactly, or inside the
 * last frame). The walk is capped: at most STRICT_CHAIN frame checks per byte hunted. */
#define STRICT_CHAIN 8

static int iec_frame_len_strict(const uint8_t *p, size_t n)
{
	int t = iec_frame_len(p, n);
	if (t < 0 || iec_i_length_wrong(p, n, (size_t)t))
		return -1;
	size_t pos = (size_t)t;
	for (int k = 0; k < STRICT_CHAIN && pos < n; k++) {
		if (p[pos] != 0x68)
			return -1;
		if (n - pos < APCI_HDR)
			break;
		int u = iec_frame_len(p + pos, n - pos);
		if (u < 0 || iec_i_length_wrong(p + pos, n - pos, (size_t)u))
			return -1;
		pos += (size_t)u;
	}
	return t;
}

static const struct ots_frame_spec iec_spec = {
	.hdr = APCI_HDR, .cap = OTS_IEC104_MAX_APDU, .frame_len = iec_frame_len,
	.ev_resync = OTS_IEC_EV_RESYNC, .ev_oversize = OTS_IEC_EV_OVERSIZE,
};

static const struct ots_frame_spec iec_spec_strict = {
	.hdr = APCI_HDR, .cap = OTS_IEC104_MAX_APDU, .frame_len = iec_frame_len_strict,
	.ev_resync = OTS_IEC_EV_RESYNC, .ev_oversize = OTS_IEC_EV_OVERSIZE,
};

/* where an APDU must start: say why these bytes cannot (the framer then counts a resync). Only a whole header
 * is judged; a partial one is judged when a later chunk completes it (in iec_parse). */
static void name_bad_header(struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	if (n < APCI_HDR)
		return;
	if (p[0] != 0x68)
		ots_app_event(c, OTS_IEC_EV_BAD_START);
	else if (iec_frame_len(p, n) < 0)
		ots_app_event(c, OTS_IEC_EV_BAD_LENGTH);
}

/* ---- ASDU ---- */

static int control_direction(unsigned t)
{
	return (t >= 45 && t <= 69) || (t >= 100 && t <= 113);
}

static int cot_defined(unsigned cot)
{
	return (cot >= 1 && cot <= 13) || (cot >= 20 && cot <= 41) || (cot >= 44 && cot <= 47);
}

static uint8_t kind_of(unsigned cot, int negative, unsigned type)
{
	if ((cot >= 44 && cot <= 47) || (negative && (cot == 7 || cot == 9 || cot == 10)))
		return OTS_PDU_EXCEPTION;
	switch (cot) {
	case 6:
	case 8:
		return OTS_PDU_REQUEST;
	case 5:
		return control_direction(type) ? OTS_PDU_REQUEST : OTS_PDU_RESPONSE;
	case 7:
	case 9:
	case 10:
		return OTS_PDU_RESPONSE;
	case 1:
	case 2:
	case 3:
	case 4:
	case 11:
	case 12:
		return OTS_PDU_UNSOLICITED;
	default:
		return cot >= 20 && cot <= 41 ? OTS_PDU_RESPONSE : OTS_PDU_OTHER;
	}
}

static void iec_asdu(struct ots_app_ctx *c, struct ots_pdu *pd, const uint8_t *a, size_t alen)
{
	unsigned type = a[0], sq = a[1] >> 7, n = a[1] & 0x7f, cot = a[2] & 0x3f;
	const struct iec_type *ty = &iec_types[type];
	pd->code = type;
	pd->name = ty->name;
	pd->flags = ty->flags;
	pd->unit = (uint32_t)a[4] | (uint32_t)a[5] << 8;
	pd->quantity = n;
	pd->sub = cot;
	pd->kind = kind_of(cot, a[2] & 0x40, type);
	if (pd->unit == 0xffff)
		pd->flags |= OTS_PDUF_BROADCAST;
	if (!ty->name)
		ots_app_event(c, OTS_IEC_EV_UNKNOWN_TYPE);
	if (!cot_defined(cot))
		ots_app_event(c, OTS_IEC_EV_UNKNOWN_COT);
	if (!n)
		ots_app_event(c, OTS_IEC_EV_ZERO_COUNT);
	if (alen < ASDU_HDR + IOA_LEN) {
		ots_app_event(c, OTS_IEC_EV_ASDU_TOO_SHORT);
		return;
	}
	pd->address = (uint32_t)a[6] | (uint32_t)a[7] << 8 | (uint32_t)a[8] << 16;
	if (ty->name && ty->elem != VAR && n) {
		size_t e = (size_t)ty->elem, want = sq ? IOA_LEN + n * e : n * (IOA_LEN + e);
		if (alen - ASDU_HDR != want)
			ots_app_event(c, OTS_IEC_EV_ASDU_LENGTH);
	}
}

static void iec_apdu(struct iec_state *s, struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	struct ots_pdu pd = { .proto = c->proto, .dir = c->dir, .kind = OTS_PDU_OTHER };
	struct iec_dir *d = &s->d[c->dir ? 1 : 0];
	if (!(p[2] & 1)) {
		uint16_t ns = (uint16_t)((p[2] | p[3] << 8) >> 1);
		if (d->have_ns && ns != d->next_ns)
			ots_app_event(c, OTS_IEC_EV_SEQ_GAP);
		d->next_ns = (uint16_t)((ns + 1) & 0x7fff);
		d->have_ns = 1;
		iec_asdu(c, &pd, p + APCI_HDR, n - APCI_HDR);
	} else if ((p[2] & 3) == 1) {
		pd.code = OTS_IEC104_CODE_S;
		pd.name = "S";
	} else {
		unsigned f = p[2] >> 2;
		if (!f || (f & (f - 1))) {
			ots_app_event(c, OTS_IEC_EV_BAD_U_FRAME);
			return;
		}
		pd.code = OTS_IEC104_CODE_U | f;
		pd.name = u_names[__builtin_ctz(f)];
	}
	ots_app_pdu(c, &pd);
}

static void iec_on_pdu(void *arg, struct ots_app_ctx *c, const uint8_t *pdu, size_t len)
{
	struct iec_feed *fa = arg;
	struct iec_state *s = fa->s;
	unsigned d = c->dir ? 1 : 0;
	size_t visible;
	/* the first PDU after a loss inside a chunk is held to the strict check, else dropped (the loss was counted) */
	if (!ots_framer_accept(&s->fr[d], &s->resyncs_seen[d], iec_frame_len_strict, pdu, len, fa->data, fa->len, &visible))
		return;
	s->pdus++;
	if (visible > len)
		name_bad_header(c, pdu + len, visible - len);
	iec_apdu(s, c, pdu, len);
}

static int iec_parse(struct ots_app_ctx *c, const uint8_t *data, size_t len, void *state)
{
	struct iec_state *s = state;
	unsigned d = c->dir ? 1 : 0;
	struct ots_framer *f = &s->fr[d];
	struct iec_feed fa = { s, data, len };
	if (c->flags & OTS_REASM_F_GAP) {
		s->d[d].have_ns = 0;
		ots_framer_feed(f, s->buf[d], &iec_spec, c, NULL, len, iec_on_pdu, &fa);
		return 0;
	}
	if (!data || !len)
		return 0;
	if (!f->lost && f->have && !f->need && f->have < APCI_HDR && f->have + len >= APCI_HDR) {
		/* a header split over chunks is completed now: name what is wrong with it (the framer counts the loss) */
		uint8_t h[APCI_HDR];
		memcpy(h, s->buf[d], f->have);
		memcpy(h + f->have, data, APCI_HDR - f->have);
		if (iec_frame_len(h, APCI_HDR) < 0)
			name_bad_header(c, h, APCI_HDR);
	}
	int hunting = f->lost || (!f->started && (c->flags & OTS_REASM_F_MIDSTREAM));
	if (hunting)
		s->d[d].have_ns = 0;
	else if (!f->have && !f->skip)
		name_bad_header(c, data, len);
	ots_framer_feed(f, s->buf[d], hunting ? &iec_spec_strict : &iec_spec, c, data, len, iec_on_pdu, &fa);
	s->fed += len;
	return s->pdus == 0 && s->fed >= 1024 ? -1 : 0;
}

int ots_iec104_probe(const uint8_t *p, size_t len, int dir)
{
	(void)dir;
	if (len < APCI_HDR)
		return -1;
	int t = iec_frame_len_strict(p, len);
	return t > 0 && (size_t)t <= len ? 1 : 0;
}

const struct ots_parser ots_parser_iec104 = {
	.probe = ots_iec104_probe,
	.parse = iec_parse,
	.state_size = sizeof(struct iec_state),
	.events = iec_events,
	.nevents = OTS_IEC_EV_MAX,
};
