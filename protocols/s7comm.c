/* protocols/s7comm.c - S7comm / S7comm-plus parser over TPKT + COTP (see s7comm.h for what is reported). */
#include "protocols/s7comm.h"

#include <stdio.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/framing.h"

static const char *const s7_events[S7_EV_MAX] = {
	[S7_EV_RESYNC] = "resync",
	[S7_EV_OVERSIZE] = "tpkt_oversize",
	[S7_EV_COTP_MALFORMED] = "cotp_malformed",
	[S7_EV_COTP_TRUNCATED] = "cotp_reassembly_truncated",
	[S7_EV_S7_MALFORMED] = "s7_malformed",
	[S7_EV_S7_BAD_LENGTH] = "s7_bad_length",
	[S7_EV_S7_BAD_ROSCTR] = "s7_bad_rosctr",
	[S7_EV_NOT_S7] = "not_s7",
	[S7_EV_S7P_MALFORMED] = "s7plus_malformed",
	[S7_EV_SZL_MALFORMED] = "szl_malformed",
	[S7_EV_ITEM_MALFORMED] = "item_malformed",
};

#define S7_REC_KEEP 40 /* bytes of one SZL record kept (0x0011: 28, 0x001c: 34) */
#define S7_JOBS 8

struct s7_dir {
	struct ots_framer fr;
	uint32_t msg_len;   /* bytes stored in msg */
	uint32_t msg_total; /* bytes of the message being reassembled (may exceed the cap) */
	uint8_t in_msg;     /* a DT without EOT started a message */
	uint8_t unsynced;   /* after a gap / mid-stream: DT fragments until the next EOT may be a message's tail */
	uint8_t plus_cont;  /* the last S7comm-plus PDU had no trailer: the next one continues it */
	uint8_t szl_more;   /* an SZL answer continues in the next fragment with data unit reference szl_dur */
	uint8_t szl_dur;
	uint8_t rec_pad;
	uint16_t szl_id;
	uint16_t szl_reclen;
	uint16_t szl_left;  /* records still expected */
	uint16_t rec_pos;   /* bytes of the current record seen */
	uint8_t rec[S7_REC_KEEP];
	uint8_t tpkt[OTS_S7_TPKT_CAP];
	uint8_t msg[OTS_S7_MSG_CAP];
};

struct s7_state {
	struct s7_dir d[2];
	uint32_t garbage;   /* bytes fed before the first TPKT */
	uint8_t s7_seen;
	uint8_t non_s7;
	uint8_t reject;
	uint8_t vendor_done;
	uint8_t plus_ident_done;
	uint8_t jobs_next;
	struct {
		uint16_t ref;
		uint8_t fn;
		uint8_t used;
	} jobs[S7_JOBS];
};

_Static_assert(sizeof(struct s7_state) <= OTS_APP_STATE_MAX, "s7comm state too large");

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- TPKT framing ---- */

static int cotp_type_known(uint8_t t)
{
	switch (t & 0xf0) {
	case 0xe0: /* CR */
	case 0xd0: /* CC */
	case 0x80: /* DR */
	case 0xc0: /* DC */
	case 0xf0: /* DT */
	case 0x10: /* ED */
	case 0x60: /* AK */
	case 0x20: /* EA */
	case 0x50: /* RJ */
	case 0x70: /* ER */
		return 1;
	default:
		return 0;
	}
}

/* 03 00 len16 | LI type ... ; LI covers the COTP header after the LI byte */
static int tpkt_len(const uint8_t *p, size_t n)
{
	(void)n;
	if (p[0] != 0x03 || p[1] != 0x00)
		return -1;
	unsigned len = be16(p + 2);
	if (len < 7)
		return -1;
	unsigned li = p[4];
	if (li < 2 || 5u + li > len + 0u || !cotp_type_known(p[5]))
		return -1;
	return (int)len;
}

static const struct ots_frame_spec tpkt_spec = {
	.hdr = 6,
	.cap = OTS_S7_TPKT_CAP,
	.frame_len = tpkt_len,
	.ev_resync = S7_EV_RESYNC,
	.ev_oversize = S7_EV_OVERSIZE,
};

/* ---- identity helpers ---- */

static int sender_endpoint(const struct ots_app_ctx *c)
{
	return c->dir == OTS_DIR_TO_CLIENT ? OTS_EP_SERVER : OTS_EP_CLIENT;
}

static void vendor_siemens(struct ots_app_ctx *c, struct s7_state *s)
{
	if (s->vendor_done || c->dir != OTS_DIR_TO_CLIENT)
		return;
	s->vendor_done = 1;
	ots_app_identity(c, OTS_EP_SERVER, OTS_ATTR_VENDOR, 90, "Siemens", 7);
}

/* a fixed-width text field: up to the first NUL, trailing blanks dropped; 0 if empty or not printable */
static size_t text_field(const uint8_t *p, size_t n)
{
	size_t k = 0;
	while (k < n && p[k])
		k++;
	while (k && (p[k - 1] == ' ' || p[k - 1] == '\t'))
		k--;
	size_t lead = 0;
	while (lead < k && p[lead] == ' ')
		lead++;
	if (lead == k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return k;
}

static void ident_text(struct ots_app_ctx *c, int kind, int conf, const uint8_t *p, size_t n)
{
	size_t k = text_field(p, n);
	size_t lead = 0;
	while (lead < k && p[lead] == ' ')
		lead++;
	if (k > lead)
		ots_app_identity(c, sender_endpoint(c), kind, conf, (const char *)p + lead, k - lead);
}

static void szl_record(struct ots_app_ctx *c, uint16_t id, const uint8_t *r, size_t n)
{
	unsigned low = id & 0xff;
	if (low == 0x11 && n >= 28) {
		uint16_t idx = be16(r);
		if (idx == 0x0001) {
			ident_text(c, OTS_ATTR_PRODUCT_CODE, 90, r + 2, 20);
			ident_text(c, OTS_ATTR_MODEL, 40, r + 2, 20);
		} else if (idx == 0x0007) {
			uint16_t ausbg = be16(r + 24), ausbe = be16(r + 26);
			if ((ausbg >> 8) == 'V') {
				char v[24];
				int k = snprintf(v, sizeof(v), "V%u.%u.%u", ausbg & 0xffu, (unsigned)(ausbe >> 8),
						 ausbe & 0xffu);
				ots_app_identity(c, sender_endpoint(c), OTS_ATTR_FIRMWARE, 90, v, (size_t)k);
			}
		}
	} else if (low == 0x1c && n >= 34) {
		switch (be16(r)) {
		case 1:
			ident_text(c, OTS_ATTR_NAME, 90, r + 2, 32);
			break;
		case 2:
			ident_text(c, OTS_ATTR_DESCRIPTION, 50, r + 2, 32);
			break;
		case 5:
			ident_text(c, OTS_ATTR_SERIAL, 90, r + 2, 32);
			break;
		case 7:
			ident_text(c, OTS_ATTR_MODEL, 90, r + 2, 32);
			break;
		default:
			break;
		}
	}
}

/* feed SZL record bytes (possibly split over several userdata fragments) */
static void szl_feed(struct ots_app_ctx *c, struct s7_dir *d, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && d->szl_left && d->szl_reclen) {
		size_t want = (size_t)d->szl_reclen - d->rec_pos;
		size_t take = n - i < want ? n - i : want;
		if (d->rec_pos < S7_REC_KEEP) {
			size_t keep = S7_REC_KEEP - d->rec_pos;
			memcpy(d->rec + d->rec_pos, p + i, take < keep ? take : keep);
		}
		d->rec_pos = (uint16_t)(d->rec_pos + take);
		i += take;
		if (d->rec_pos == d->szl_reclen) {
			szl_record(c, d->szl_id, d->rec, d->szl_reclen < S7_REC_KEEP ? d->szl_reclen : S7_REC_KEEP);
			d->rec_pos = 0;
			d->szl_left--;
		}
	}
}

/* ---- names ---- */

static const char *job_name(unsigned fn)
{
	switch (fn) {
	case 0x00: return "CPU services";
	case 0xf0: return "Setup communication";
	case 0x04: return "Read Var";
	case 0x05: return "Write Var";
	case 0x1a: return "Request download";
	case 0x1b: return "Download block";
	case 0x1c: return "Download ended";
	case 0x1d: return "Start upload";
	case 0x1e: return "Upload";
	case 0x1f: return "End upload";
	case 0x28: return "PI-Service";
	case 0x29: return "PLC Stop";
	default: return NULL;
	}
}

static uint32_t job_flags(unsigned fn)
{
	switch (fn) {
	case 0x04: return OTS_PDUF_READ;
	case 0x05: return OTS_PDUF_WRITE;
	case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f: return OTS_PDUF_PROGRAM;
	case 0x28: case 0x29: return OTS_PDUF_CONTROL;
	default: return 0;
	}
}

static const struct {
	const char *svc;
	const char *name;
	uint32_t flags;
} pi_services[OTS_S7_PI_MAX] = {
	[OTS_S7_PI_INSE] = { "_INSE", "PI-Service _INSE (activate block)", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	[OTS_S7_PI_DELE] = { "_DELE", "PI-Service _DELE (delete block)", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	[OTS_S7_PI_P_PROGRAM] = { "P_PROGRAM", "PI-Service P_PROGRAM (start/stop program)", OTS_PDUF_CONTROL },
	[OTS_S7_PI_GARB] = { "_GARB", "PI-Service _GARB (compress memory)", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	[OTS_S7_PI_MODU] = { "_MODU", "PI-Service _MODU (copy RAM to ROM)", OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	[OTS_S7_PI_N_LOGIN] = { "_N_LOGIN_", "PI-Service _N_LOGIN_", OTS_PDUF_CONTROL | OTS_PDUF_CONFIG },
	[OTS_S7_PI_N_LOGOUT] = { "_N_LOGOUT", "PI-Service _N_LOGOUT", OTS_PDUF_CONTROL | OTS_PDUF_CONFIG },
};

/* block types of the block file name ('0' + this character): S7comm's "block type" field */
static const char *block_type_name(unsigned t)
{
	switch (t) {
	case OTS_S7_BLK_OB: return "OB";
	case OTS_S7_BLK_DB: return "DB";
	case OTS_S7_BLK_SDB: return "SDB";
	case OTS_S7_BLK_FC: return "FC";
	case OTS_S7_BLK_SFC: return "SFC";
	case OTS_S7_BLK_FB: return "FB";
	case OTS_S7_BLK_SFB: return "SFB";
	default: return NULL;
	}
}

const char *ots_s7_sub_name(unsigned code, unsigned sub)
{
	if (code == 0x28)
		return sub && sub < OTS_S7_PI_MAX ? pi_services[sub].svc : NULL;
	if (code >= 0x1a && code <= 0x1f)
		return block_type_name(sub);
	return NULL;
}

static const char *ud_name(unsigned group, unsigned sub)
{
	switch (group) {
	case 0: return "Mode transition";
	case 1: return sub == 0x10 ? "Forces" : "Programmer commands";
	case 2: return "Cyclic data";
	case 3:
		return sub == 1 ? "List blocks" : sub == 2 ? "List blocks of type" : sub == 3 ? "Get block info"
										       : "Block functions";
	case 4:
		return sub == 1 ? "Read SZL" : sub == 2 ? "Message service" : sub == 3 ? "Diagnostic message"
										      : "CPU functions";
	case 5: return sub == 1 ? "PLC password" : sub == 2 ? "Clean session" : "Security";
	case 6: return "PBC BSEND/BRECV";
	case 7:
		return sub == 1 ? "Read clock" : (sub == 2 || sub == 4) ? "Set clock"
						   : sub == 3 ? "Read clock (following)" : "Time functions";
	default: return "Userdata";
	}
}

static const char *s7p_fn_name(unsigned fn)
{
	switch (fn) {
	case 0x04bb: return "Explore";
	case 0x04ca: return "CreateObject";
	case 0x04d4: return "DeleteObject";
	case 0x04f2: return "SetVariable";
	case 0x04fc: return "GetVariable";
	case 0x0506: return "AddLink";
	case 0x051a: return "RemoveLink";
	case 0x0524: return "GetLink";
	case 0x0542: return "SetMultiVariables";
	case 0x054c: return "GetMultiVariables";
	case 0x0556: return "BeginSequence";
	case 0x0560: return "EndSequence";
	case 0x056b: return "Invoke";
	case 0x057c: return "SetVarSubStreamed";
	case 0x0586: return "GetVarSubStreamed";
	case 0x0590: return "GetVariablesAddress";
	case 0x059a: return "Abort";
	default: return NULL;
	}
}

static uint32_t s7p_fn_flags(unsigned fn)
{
	switch (fn) {
	case 0x04f2: case 0x0542: case 0x057c: return OTS_PDUF_WRITE;
	case 0x04fc: case 0x054c: case 0x0586: return OTS_PDUF_READ;
	case 0x0556: case 0x0560: return OTS_PDUF_PROGRAM; /* sequences wrap block download/upload transactions */
	default: return 0;
	}
}

/* ---- S7comm (0x32) ---- */

static void job_remember(struct s7_state *s, uint16_t ref, uint8_t fn)
{
	unsigned i = s->jobs_next++ % S7_JOBS;
	s->jobs[i].ref = ref;
	s->jobs[i].fn = fn;
	s->jobs[i].used = 1;
}

static int job_lookup(const struct s7_state *s, uint16_t ref)
{
	for (unsigned i = 0; i < S7_JOBS; i++)
		if (s->jobs[i].used && s->jobs[i].ref == ref)
			return s->jobs[i].fn;
	return -1;
}

/* read/write var job: first S7ANY item's DB number and element count */
static void var_items(struct ots_app_ctx *c, const uint8_t *par, size_t pn, struct ots_pdu *pdu)
{
	if (pn < 2)
		return;
	unsigned count = par[1];
	size_t off = 2;
	for (unsigned i = 0; i < count; i++) {
		if (off + 2 > pn || par[off] != 0x12 || off + 2 + par[off + 1] > pn) {
			ots_app_event(c, S7_EV_ITEM_MALFORMED);
			return;
		}
		const uint8_t *it = par + off;
		if (i == 0 && it[1] >= 10 && it[2] == 0x10) {
			pdu->quantity = be16(it + 4);
			pdu->address = be16(it + 6);
		}
		off += 2u + it[1];
	}
}

static void pi_service(const uint8_t *par, size_t pn, struct ots_pdu *pdu)
{
	/* fn, 7 bytes unknown, param block length16, param block, name length, name */
	if (pn < 10)
		return;
	size_t blen = be16(par + 8);
	size_t off = 10 + blen;
	if (off >= pn)
		return;
	size_t nlen = par[off];
	if (off + 1 + nlen > pn)
		return;
	const uint8_t *name = par + off + 1;
	for (unsigned i = 1; i < OTS_S7_PI_MAX; i++) {
		size_t k = strlen(pi_services[i].svc);
		if (k == nlen && memcmp(name, pi_services[i].svc, k) == 0) {
			pdu->name = pi_services[i].name;
			pdu->flags |= pi_services[i].flags;
			pdu->sub = i;
			return;
		}
	}
}

/* block up/download job: fn, function status, 2 bytes, 4-byte upload id, then (0x1a..0x1d) the file name length
 * and the file name "_0A00001P": file id, block type '0' + type, 5-digit number, destination file system */
static void block_control(const uint8_t *par, size_t pn, struct ots_pdu *pdu)
{
	if (pn < 12 || pdu->code > 0x1d)
		return;
	size_t nlen = par[8];
	if (nlen < 3 || 9 + nlen > pn || par[10] != '0' || !block_type_name(par[11]))
		return;
	pdu->sub = par[11];
}

static void userdata(struct ots_app_ctx *c, struct s7_state *s, struct s7_dir *d, const uint8_t *par, size_t pn,
		     const uint8_t *dat, size_t dn)
{
	/* head (00 01 12; a mode-transition push has 01 00 10), length, method, type|group, subfunction, sequence */
	if (pn < 8) {
		ots_app_event(c, S7_EV_S7_MALFORMED);
		return;
	}
	unsigned type = par[5] >> 4, group = par[5] & 0x0f, sub = par[6];
	unsigned dur = 0, last = 0, err = 0;
	if (par[3] >= 8 && pn >= 12) {
		dur = par[8];
		last = par[9];
		err = be16(par + 10);
	}
	struct ots_pdu pdu = {
		.proto = c->proto, .dir = c->dir, .code = OTS_S7_UD_CODE(group, sub), .name = ud_name(group, sub),
	};
	switch (type) {
	case 4: pdu.kind = OTS_PDU_REQUEST; break;
	case 8: pdu.kind = err ? OTS_PDU_EXCEPTION : OTS_PDU_RESPONSE; break;
	case 0: pdu.kind = OTS_PDU_UNSOLICITED; break;
	default: pdu.kind = OTS_PDU_OTHER; break;
	}
	if (group == 5)
		pdu.flags |= OTS_PDUF_CONFIG;
	else if (group == 7 && (sub == 2 || sub == 4))
		pdu.flags |= OTS_PDUF_CONFIG;
	else if (group == 1 && sub == 0x10)
		pdu.flags |= OTS_PDUF_WRITE;
	else if (group == 3 || group == 2)
		pdu.flags |= OTS_PDUF_READ;
	else if (group == 4 && sub == 3)
		pdu.flags |= OTS_PDUF_DIAG;

	int szl = 0;
	if (group == 4 && sub == 1 && dn >= 4) {
		/* Read SZL: data = return code, transport size, length16, payload */
		unsigned rc = dat[0];
		size_t bl = be16(dat + 2);
		const uint8_t *b = dat + 4;
		if (bl > dn - 4)
			bl = dn - 4;
		if (type == 4 && rc == 0xff && bl >= 4) {
			pdu.address = be16(b);
			pdu.quantity = be16(b + 2);
			szl = 1;
		} else if (type == 8 && rc == 0xff) {
			szl = 1;
			if (d->szl_more && dur && dur == d->szl_dur) {
				pdu.address = d->szl_id; /* follow-up fragment: records only */
				szl_feed(c, d, b, bl);
			} else if (bl >= 8) {
				d->szl_id = be16(b);
				d->szl_reclen = be16(b + 4);
				d->szl_left = be16(b + 6);
				if ((d->szl_id & 0x0f00) == 0x0f00)
					d->szl_left = 0; /* 0x0Fxx: only the list header (record count), no records */
				d->rec_pos = 0;
				pdu.address = d->szl_id;
				pdu.quantity = be16(b + 2);
				if ((size_t)d->szl_reclen * d->szl_left > bl - 8 && !(last == 0x01 && dur))
					ots_app_event(c, S7_EV_SZL_MALFORMED);
				szl_feed(c, d, b + 8, bl - 8);
			} else {
				ots_app_event(c, S7_EV_SZL_MALFORMED);
				szl = 0;
			}
			d->szl_more = last == 0x01 && dur && d->szl_left;
			d->szl_dur = (uint8_t)dur;
		}
		if (szl) {
			unsigned low = pdu.address & 0xff;
			pdu.flags |= (low == 0x11 || low == 0x1c) ? OTS_PDUF_IDENTITY : OTS_PDUF_DIAG;
		}
	}
	if (type == 8 && !err)
		vendor_siemens(c, s);
	ots_app_pdu(c, &pdu);
}

static void s7_classic(struct ots_app_ctx *c, struct s7_state *s, struct s7_dir *d, const uint8_t *p, size_t n,
		       int trunc)
{
	if (n < 10) {
		ots_app_event(c, S7_EV_S7_MALFORMED);
		return;
	}
	unsigned rosctr = p[1];
	if (rosctr != 1 && rosctr != 2 && rosctr != 3 && rosctr != 7) {
		ots_app_event(c, S7_EV_S7_BAD_ROSCTR);
		return;
	}
	size_t hl = (rosctr == 2 || rosctr == 3) ? 12 : 10;
	if (n < hl) {
		ots_app_event(c, S7_EV_S7_MALFORMED);
		return;
	}
	uint16_t ref = be16(p + 4);
	size_t plen = be16(p + 6), dlen = be16(p + 8);
	unsigned errcls = hl == 12 ? p[10] : 0, errcod = hl == 12 ? p[11] : 0;
	if (hl + plen + dlen > n && !trunc)
		ots_app_event(c, S7_EV_S7_BAD_LENGTH);
	const uint8_t *par = p + hl;
	size_t pn = plen < n - hl ? plen : n - hl;
	const uint8_t *dat = par + pn;
	size_t dn = pn == plen ? (dlen < n - hl - pn ? dlen : n - hl - pn) : 0;

	if (rosctr == 7) {
		userdata(c, s, d, par, pn, dat, dn);
		return;
	}
	struct ots_pdu pdu = { .proto = c->proto, .dir = c->dir };
	int fn;
	if (pn >= 1)
		fn = par[0];
	else if (rosctr == 2)
		fn = job_lookup(s, ref);
	else
		fn = -1;
	if (fn < 0) {
		if (rosctr == 1) {
			ots_app_event(c, S7_EV_S7_MALFORMED);
			return;
		}
		fn = 0;
	}
	pdu.code = (uint32_t)fn;
	pdu.name = job_name((unsigned)fn);
	pdu.flags = job_flags((unsigned)fn);
	if (rosctr == 1) {
		pdu.kind = OTS_PDU_REQUEST;
		job_remember(s, ref, (uint8_t)fn);
		if (fn == 0x04 || fn == 0x05)
			var_items(c, par, pn, &pdu);
		else if (fn == 0x28)
			pi_service(par, pn, &pdu);
		else if (fn >= 0x1a && fn <= 0x1f)
			block_control(par, pn, &pdu);
	} else {
		pdu.kind = (errcls || errcod) ? OTS_PDU_EXCEPTION : OTS_PDU_RESPONSE;
		vendor_siemens(c, s);
	}
	ots_app_pdu(c, &pdu);
}

/* ---- S7comm-plus (0x72) ---- */

/* CreateObject response: the device describes itself as "1;<order number>;V<firmware>" */
static void s7p_ident(struct ots_app_ctx *c, struct s7_state *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 6 < n; i++) {
		if (!(p[i] >= '0' && p[i] <= '9' && p[i + 1] == ';'))
			continue;
		if (i > 0 && p[i - 1] >= 0x20 && p[i - 1] <= 0x7e)
			continue; /* not the start of the string */
		size_t j = i + 2;
		while (j < n && p[j] >= 0x20 && p[j] <= 0x7e && p[j] != ';')
			j++;
		if (j >= n || p[j] != ';' || j + 2 >= n || p[j + 1] != 'V' || p[j + 2] < '0' || p[j + 2] > '9')
			continue;
		size_t k = j + 1;
		while (k < n && p[k] >= 0x21 && p[k] <= 0x7e)
			k++;
		size_t ms = i + 2, me = j;
		while (me > ms && p[me - 1] == ' ')
			me--;
		while (ms < me && p[ms] == ' ')
			ms++;
		if (me == ms)
			continue;
		int ep = sender_endpoint(c);
		ots_app_identity(c, ep, OTS_ATTR_PRODUCT_CODE, 80, (const char *)p + ms, me - ms);
		ots_app_identity(c, ep, OTS_ATTR_MODEL, 40, (const char *)p + ms, me - ms);
		ots_app_identity(c, ep, OTS_ATTR_FIRMWARE, 80, (const char *)p + j + 1, k - j - 1);
		s->plus_ident_done = 1;
		return;
	}
}

/* n: bytes held (the first OTS_S7_MSG_CAP of a long reassembled message), total: the message's length */
static void s7_plus(struct ots_app_ctx *c, struct s7_state *s, struct s7_dir *d, const uint8_t *p, size_t n,
		    size_t total)
{
	if (n < 5) {
		ots_app_event(c, S7_EV_S7P_MALFORMED);
		d->plus_cont = 0;
		return;
	}
	unsigned ver = p[1];
	size_t dl = be16(p + 2);
	int cont = d->plus_cont;
	/* a PDU ends with the 4-byte trailer 72 ver 00 00 unless the next PDU continues it */
	if (total == 4 + dl) {
		d->plus_cont = 1;
	} else if (total == 8 + dl) {
		d->plus_cont = 0;
		if (n == total && !(p[n - 4] == 0x72 && p[n - 2] == 0 && p[n - 1] == 0))
			ots_app_event(c, S7_EV_S7P_MALFORMED);
	} else {
		d->plus_cont = 0; /* shorter or longer than announced (keep-alives...): take it as it is */
		if (total < 4 + dl)
			ots_app_event(c, S7_EV_S7P_MALFORMED);
	}
	if (cont)
		return; /* continuation of the previous PDU's data */
	size_t off = 4;
	if (ver == 3 && n > off + 34 && p[off] == 0x20)
		off += 33; /* integrity part: digest length + 32-byte digest */
	unsigned op = p[off];
	struct ots_pdu pdu = { .proto = c->proto, .dir = c->dir, .unit = ver };
	if ((op == 0x31 || op == 0x32) && off + 5 <= n) {
		unsigned fn = be16(p + off + 3);
		pdu.code = OTS_S7P_FN_CODE(fn);
		pdu.name = s7p_fn_name(fn);
		pdu.flags = s7p_fn_flags(fn);
		if (op == 0x31 && off + 13 <= n)
			pdu.address = be32(p + off + 9);
		if (op == 0x32 && fn == 0x04ca && !s->plus_ident_done && c->dir == OTS_DIR_TO_CLIENT)
			s7p_ident(c, s, p + off, n - off);
	} else if (op == 0x31 || op == 0x32) {
		ots_app_event(c, S7_EV_S7P_MALFORMED);
		return;
	} else {
		pdu.code = OTS_S7P_OP_CODE(op);
		pdu.name = op == 0x33 ? "Notification" : op == 0x02 ? "Response2" : NULL;
	}
	switch (op) {
	case 0x31: pdu.kind = OTS_PDU_REQUEST; break;
	case 0x32: case 0x02: pdu.kind = OTS_PDU_RESPONSE; break;
	case 0x33: pdu.kind = OTS_PDU_UNSOLICITED; break;
	default: pdu.kind = OTS_PDU_OTHER; break;
	}
	if (op == 0x32 || op == 0x02 || op == 0x33)
		vendor_siemens(c, s);
	ots_app_pdu(c, &pdu);
}

/* one reassembled COTP DT message */
static void cotp_message(struct ots_app_ctx *c, struct s7_state *s, struct s7_dir *d, const uint8_t *p, size_t n,
			 size_t total)
{
	int trunc = total > n;
	if (n == 0)
		return;
	if (p[0] == 0x32) {
		s->s7_seen = 1;
		s7_classic(c, s, d, p, n, trunc);
	} else if (p[0] == 0x72) {
		s->s7_seen = 1;
		s7_plus(c, s, d, p, n, total);
	} else {
		ots_app_event(c, S7_EV_NOT_S7);
		if (!s->s7_seen && ++s->non_s7 >= 2)
			s->reject = 1;
	}
}

static void msg_append(struct s7_dir *d, const uint8_t *p, size_t n)
{
	if (d->msg_len < OTS_S7_MSG_CAP) {
		size_t room = OTS_S7_MSG_CAP - d->msg_len;
		size_t k = n < room ? n : room;
		memcpy(d->msg + d->msg_len, p, k);
		d->msg_len += (uint32_t)k;
	}
	if (d->msg_total < 0x7fffffffu - n)
		d->msg_total += (uint32_t)n;
}

static void dir_reset(struct s7_dir *d)
{
	d->in_msg = 0;
	d->msg_len = d->msg_total = 0;
	d->plus_cont = 0;
	d->szl_more = 0;
}

static void on_tpkt(void *arg, struct ots_app_ctx *c, const uint8_t *p, size_t n)
{
	struct s7_state *s = arg;
	struct s7_dir *d = &s->d[c->dir & 1];
	size_t li = p[4];
	unsigned type = p[5] & 0xf0;
	if (5 + li > n) { /* frame_len checked it; kept for safety */
		ots_app_event(c, S7_EV_COTP_MALFORMED);
		return;
	}
	switch (type) {
	case 0xf0: { /* DT: LI, 0xf0, EOT|TPDU-NR */
		int eot = (p[6] & 0x80) != 0;
		const uint8_t *pl = p + 5 + li;
		size_t pn = n - 5 - li;
		if (d->unsynced) {
			/* after a gap: the first fragments may be the tail of a message whose start was lost */
			if (d->in_msg || pn == 0 || (pl[0] != 0x32 && pl[0] != 0x72)) {
				if (eot) {
					d->unsynced = 0;
					d->in_msg = 0;
				}
				return;
			}
			d->unsynced = 0;
		}
		if (!eot) {
			if (!d->in_msg) {
				d->in_msg = 1;
				d->msg_len = d->msg_total = 0;
			}
			msg_append(d, pl, pn);
			return;
		}
		if (d->in_msg && d->msg_total) {
			msg_append(d, pl, pn);
			if (d->msg_total > d->msg_len)
				ots_app_event(c, S7_EV_COTP_TRUNCATED);
			d->in_msg = 0;
			cotp_message(c, s, d, d->msg, d->msg_len, d->msg_total);
			d->msg_len = d->msg_total = 0;
		} else {
			d->in_msg = 0; /* nothing held (empty DT fragments before): straight from the TPDU */
			cotp_message(c, s, d, pl, pn, pn);
		}
		break;
	}
	case 0xe0: /* CR */
	case 0xd0: /* CC */
	case 0x80: /* DR */
	case 0xc0: /* DC */
		dir_reset(d);
		d->unsynced = 0;
		break;
	default: /* ED, AK, EA, RJ, ER: nothing S7 in them */
		break;
	}
}

static int s7_parse(struct ots_app_ctx *c, const uint8_t *data, size_t len, void *state)
{
	struct s7_state *s = state;
	struct s7_dir *d = &s->d[c->dir & 1];
	if (s->reject)
		return -1;
	if (c->flags & OTS_REASM_F_GAP) {
		dir_reset(d);
		d->unsynced = 1;
	} else if (!d->fr.started && (c->flags & OTS_REASM_F_MIDSTREAM)) {
		d->unsynced = 1;
	}
	uint64_t before = s->d[0].fr.pdus + s->d[1].fr.pdus;
	ots_framer_feed(&d->fr, d->tpkt, &tpkt_spec, c, data, len, on_tpkt, s);
	if (data && before == 0 && s->d[0].fr.pdus + s->d[1].fr.pdus == 0) {
		s->garbage += len > OTS_S7_REJECT_BYTES ? OTS_S7_REJECT_BYTES : (uint32_t)len;
		if (s->garbage >= OTS_S7_REJECT_BYTES)
			s->reject = 1;
	}
	return s->reject ? -1 : 0;
}

/* probe: TPKT + COTP; DT carrying 0x32/0x72 is S7, CR/CC cannot tell S7 from MMS */
static int s7_probe(const uint8_t *p, size_t len, int dir)
{
	(void)dir;
	if (len < 6)
		return -1;
	if (tpkt_len(p, len) < 0)
		return 0;
	if ((p[5] & 0xf0) != 0xf0)
		return -1;
	size_t off = 5u + p[4];
	if (len <= off)
		return -1;
	return (p[off] == 0x32 || p[off] == 0x72) ? 1 : 0;
}

/* rejected after ISO-on-TCP messages (TPKT + COTP DT) that carried no S7 PDU: an ISO session (MMS) */
static uint16_t s7_handoff(const void *state)
{
	const struct s7_state *s = state;
	return s->reject && !s->s7_seen && s->non_s7 >= 2 ? OTS_APP_MMS : OTS_APP_UNKNOWN;
}

const struct ots_parser ots_parser_s7comm = {
	.probe = s7_probe,
	.parse = s7_parse,
	.handoff = s7_handoff,
	.state_size = sizeof(struct s7_state),
	.events = s7_events,
	.nevents = S7_EV_MAX,
};
