/* detect/rule_match.c - verify one parsed rule against one inspected buffer / PDU (see rule.h for the contract).
 *
 * Payload options run in rule order over in->buf (Suricata's content inspection):
 *  - content: absolute without offset/depth searches the whole buffer (carried stream context included); with
 *    offset/depth the window is [pkt_off + offset, pkt_off + offset + depth); distance/within are relative to the
 *    cursor (end of the previous content/pcre match, or the byte_jump target; pkt_off before any). A negated
 *    content must not occur in its window and leaves the cursor alone.
 *  - pcre: the subject is the whole buffer, or starts at the cursor with /R. Match limits are the rule's.
 *  - byte_test / byte_jump read at pkt_off + offset, or cursor + offset with 'relative'; byte_jump moves the
 *    cursor to (from_beginning ? pkt_off : the end of the bytes read) + value * multiplier (aligned) + post_offset;
 *    before the buffer start it is clamped there, past the end it fails (Suricata 7).
 *  - isdataat: absolute N needs a byte at pkt_off + N; relative N needs N bytes left after the cursor
 *    (Suricata's own asymmetry).
 *  - backtracking: when a later option fails, an earlier content/pcre is retried at its next occurrence; the
 *    total work is bounded (MATCH_BUDGET steps, then no match, like Suricata's recursion limit).
 *  - stream rule: with pkt_off > 0, some positive option must have used a byte at or after pkt_off (a content or
 *    pcre match, bytes read by byte_*, data required by isdataat end beyond pkt_off): matches entirely inside the
 *    carried context were reported with the packet that brought them. A rule whose payload options are all
 *    negative needs new bytes (len > pkt_off). Rules without payload options ignore this.
 */
#include "detect/rule.h"
#include "protocols/enip.h"
#include "protocols/registry.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#define MATCH_BUDGET 4096   /* option evaluations per rule per buffer */
#define PCRE_OVECTOR 16

void *ots_pcre_md_create(void)
{
	return pcre2_match_data_create(PCRE_OVECTOR, NULL);
}

void ots_pcre_md_free(void *md)
{
	if (md)
		pcre2_match_data_free(md);
}

/* ---------------------------------------------------------------- byte search */

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* first occurrence of n[0..nl) in h[0..hl), or -1 */
static int64_t find(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl, int nocase)
{
	if (nl == 0 || hl < nl)
		return -1;
	if (!nocase) {
		const uint8_t *f = memmem(h, hl, n, nl);
		return f ? f - h : -1;
	}
	uint8_t first = lc(n[0]);
	for (size_t i = 0; i + nl <= hl; i++) {
		if (lc(h[i]) != first)
			continue;
		size_t j = 1;
		while (j < nl && lc(h[i + j]) == lc(n[j]))
			j++;
		if (j == nl)
			return (int64_t)i;
	}
	return -1;
}

/* ---------------------------------------------------------------- numbers in the payload */

static int digit_in(uint8_t c, unsigned base)
{
	unsigned d;
	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10u;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10u;
	else
		return -1;
	return d < base ? (int)d : -1;
}

/* nbytes at p: binary (big/little endian) or an ASCII number (leading blanks, at least one digit, trailing
 * garbage ignored as Suricata's strtoull does). 0 ok, -1 no number. */
static int extract(const uint8_t *p, const struct ots_byte_op *b, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = b->nbytes;
	if (b->flags & OTS_BF_STRING) {
		unsigned base = b->base ? b->base : 10, i = 0, nd = 0;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (base == 16 && i + 1 < n && p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X') &&
		    digit_in(i + 2 < n ? p[i + 2] : 0, 16) >= 0)
			i += 2;
		for (; i < n; i++, nd++) {
			int d = digit_in(p[i], base);
			if (d < 0)
				break;
			if (v > (UINT64_MAX - (unsigned)d) / base)
				return -1;
			v = v * base + (unsigned)d;
		}
		if (!nd)
			return -1;
	} else if (b->flags & OTS_BF_LITTLE) {
		for (unsigned i = n; i-- > 0;)
			v = v << 8 | p[i];
	} else {
		for (unsigned i = 0; i < n; i++)
			v = v << 8 | p[i];
	}
	if (b->bitmask) {
		v &= b->bitmask;
		if (v)
			v >>= __builtin_ctzll(b->bitmask);
	}
	*out = v;
	return 0;
}

static int cmp_num(const struct ots_num_cmp *c, uint64_t x)
{
	switch (c->op) {
	case OTS_CMP_EQ:
		return x == c->lo;
	case OTS_CMP_LT:
		return x < c->lo;
	case OTS_CMP_GT:
		return x > c->lo;
	case OTS_CMP_LE:
		return x <= c->lo;
	case OTS_CMP_GE:
		return x >= c->lo;
	case OTS_CMP_RANGE:
		return x > c->lo && x < c->hi;
	default:
		return 0;
	}
}

/* a rule's number constraint against a range [lo, hi] of the PDU (Suricata's modbus address: any overlap) */
static int cmp_range(const struct ots_num_cmp *c, uint64_t lo, uint64_t hi)
{
	switch (c->op) {
	case OTS_CMP_EQ:
		return c->lo >= lo && c->lo <= hi;
	case OTS_CMP_LT:
		return lo < c->lo;
	case OTS_CMP_GT:
		return hi > c->lo;
	case OTS_CMP_RANGE:
		return c->lo < hi && lo < c->hi;
	default:
		return cmp_num(c, lo);
	}
}

/* ---------------------------------------------------------------- payload options */

struct mstate {
	const struct ots_rule *r;
	const struct ots_match_in *in;
	unsigned budget;
	int stop;    /* a failure no other choice of earlier matches can fix, or the budget is spent */
};

static int leaf_ok(const struct ots_match_in *in, int64_t maxend)
{
	if (in->pkt_off == 0)
		return 1;
	if (maxend < 0)
		return in->len > in->pkt_off;
	return maxend > (int64_t)in->pkt_off;
}

static int run(struct mstate *m, unsigned i, int64_t cur, int64_t maxend);

static int do_content(struct mstate *m, unsigned i, const struct ots_content *c, int64_t cur, int64_t maxend)
{
	const struct ots_match_in *in = m->in;
	int64_t len = in->len, s, e;
	int rel = (c->flags & OTS_CF_RELATIVE) != 0;
	if (rel) {
		int64_t dist = (c->flags & OTS_CF_DISTANCE) ? c->distance : 0;
		s = cur + dist;
		e = len;
		if ((c->flags & OTS_CF_WITHIN) && cur + dist + c->within < e)
			e = cur + dist + c->within;
		if (s < 0)
			s = 0;
	} else if (c->flags & (OTS_CF_OFFSET | OTS_CF_DEPTH)) {
		s = (int64_t)in->pkt_off + ((c->flags & OTS_CF_OFFSET) ? c->offset : 0);
		e = (c->flags & OTS_CF_DEPTH) ? s + c->depth : len;
		if (e > len)
			e = len;
	} else {
		s = 0;
		e = len;
	}
	int nocase = (c->flags & OTS_CF_NOCASE) != 0;
	if (c->flags & OTS_CF_NEGATED) {
		if (e - s >= c->len && find(in->buf + s, (size_t)(e - s), c->pat, c->len, nocase) >= 0) {
			if (!rel)
				m->stop = 1; /* found whatever the earlier matches were */
			return 0;
		}
		return run(m, i + 1, cur, maxend);
	}
	for (int64_t from = s;;) {
		int64_t f = e - from >= c->len ? find(in->buf + from, (size_t)(e - from), c->pat, c->len, nocase) : -1;
		if (f < 0) {
			if (from == s && !rel)
				m->stop = 1; /* not in the buffer at all */
			return 0;
		}
		int64_t at = from + f, end = at + c->len;
		if (run(m, i + 1, end, end > maxend ? end : maxend))
			return 1;
		if (m->stop)
			return 0;
		from = at + 1;
	}
}

static int do_pcre(struct mstate *m, unsigned i, const struct ots_pcre *re, int64_t cur, int64_t maxend)
{
	const struct ots_match_in *in = m->in;
	int rel = (re->flags & OTS_PF_RELATIVE) != 0;
	int64_t base = rel ? cur : 0;
	if (!in->pcre_md || !re->code) {
		m->stop = 1;
		return 0;
	}
	if (base > (int64_t)in->len)
		base = in->len;
	PCRE2_SPTR subj = (PCRE2_SPTR)(in->buf ? in->buf + base : (const uint8_t *)"");
	PCRE2_SIZE slen = (PCRE2_SIZE)(in->len - base);
	pcre2_match_data *md = in->pcre_md;
	if (re->flags & OTS_PF_NEGATED) {
		int rc = pcre2_match(re->code, subj, slen, 0, 0, md, re->mctx);
		if (rc != PCRE2_ERROR_NOMATCH) { /* a match, or an error (match limit): no match */
			if (!rel && rc >= 0)
				m->stop = 1;
			return 0;
		}
		return run(m, i + 1, cur, maxend);
	}
	for (PCRE2_SIZE from = 0; from <= slen;) {
		int rc = pcre2_match(re->code, subj, slen, from, 0, md, re->mctx);
		if (rc < 0) {
			if (from == 0 && !rel && rc == PCRE2_ERROR_NOMATCH)
				m->stop = 1;
			return 0;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		PCRE2_SIZE ms = ov[0], me = ov[1]; /* copy: nested options reuse md */
		int64_t end = base + (int64_t)(me > ms ? me : ms);
		if (run(m, i + 1, end, end > maxend ? end : maxend))
			return 1;
		if (m->stop)
			return 0;
		from = (ms > from ? ms : from) + 1;
	}
	return 0;
}

static int do_byte(struct mstate *m, unsigned i, const struct ots_byte_op *b, int jump, int64_t cur,
		   int64_t maxend)
{
	const struct ots_match_in *in = m->in;
	int rel = (b->flags & OTS_BF_RELATIVE) != 0;
	int64_t pos = (rel ? cur : (int64_t)in->pkt_off) + b->offset;
	uint64_t v;
	if (pos < 0 || pos + b->nbytes > (int64_t)in->len || extract(in->buf + pos, b, &v)) {
		if (!rel)
			m->stop = 1;
		return 0;
	}
	int64_t end = pos + b->nbytes;
	if (end > maxend)
		maxend = end;
	if (!jump) {
		int ok;
		switch (b->op) {
		case OTS_CMP_EQ:
			ok = v == b->value;
			break;
		case OTS_CMP_LT:
			ok = v < b->value;
			break;
		case OTS_CMP_GT:
			ok = v > b->value;
			break;
		case OTS_CMP_LE:
			ok = v <= b->value;
			break;
		case OTS_CMP_GE:
			ok = v >= b->value;
			break;
		case OTS_CMP_AND:
			ok = (v & b->value) != 0;
			break;
		case OTS_CMP_OR: /* Suricata's '^' */
			ok = (v ^ b->value) != 0;
			break;
		default:
			ok = 0;
		}
		if (b->flags & OTS_BF_NEGATE)
			ok = !ok;
		if (!ok) {
			if (!rel)
				m->stop = 1;
			return 0;
		}
		return run(m, i + 1, cur, maxend);
	}
	uint32_t mul = b->multiplier ? b->multiplier : 1;
	if (v > (uint64_t)UINT32_MAX * 4) /* far beyond any buffer */
		return 0;
	v *= mul;
	if ((b->flags & OTS_BF_ALIGN) && (v % 4))
		v += 4 - v % 4;
	int64_t to = ((b->flags & OTS_BF_FROM_BEGINNING) ? (int64_t)in->pkt_off : end) + (int64_t)v + b->post_offset;
	if (to < 0)
		to = 0;
	if (to > (int64_t)in->len)
		return 0;
	return run(m, i + 1, to, maxend);
}

static int do_isdataat(struct mstate *m, unsigned i, const struct ots_isdataat *d, int64_t cur, int64_t maxend)
{
	const struct ots_match_in *in = m->in;
	int64_t need = d->relative ? cur + d->n : (int64_t)in->pkt_off + d->n + 1; /* bytes [0, need) must exist */
	int have = need <= (int64_t)in->len;
	if (d->negated) {
		if (have) {
			if (!d->relative)
				m->stop = 1;
			return 0;
		}
		return run(m, i + 1, cur, maxend);
	}
	if (!have) {
		if (!d->relative)
			m->stop = 1;
		return 0;
	}
	return run(m, i + 1, cur, need > maxend ? need : maxend);
}

static int run(struct mstate *m, unsigned i, int64_t cur, int64_t maxend)
{
	const struct ots_rule *r = m->r;
	if (i >= r->nopts)
		return leaf_ok(m->in, maxend);
	if (m->budget == 0) {
		m->stop = 1;
		return 0;
	}
	m->budget--;
	const struct ots_opt *o = &r->opts[i];
	switch (o->type) {
	case OTS_OPT_CONTENT:
		return do_content(m, i, &o->u.c, cur, maxend);
	case OTS_OPT_PCRE:
		return do_pcre(m, i, &o->u.re, cur, maxend);
	case OTS_OPT_BYTE_TEST:
		return do_byte(m, i, &o->u.b, 0, cur, maxend);
	case OTS_OPT_BYTE_JUMP:
		return do_byte(m, i, &o->u.b, 1, cur, maxend);
	case OTS_OPT_ISDATAAT:
		return do_isdataat(m, i, &o->u.d, cur, maxend);
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- OT keywords */

/* Suricata's (sawp) function code categories */
static uint8_t mb_category(uint32_t fc, uint32_t sub)
{
	if (fc == 0 || fc > 127)
		return 0;
	if (fc == 8) /* diagnostics: sub-functions 5..9 and 0x16.. are reserved */
		return (sub >= 5 && sub <= 9) || sub >= 0x16 ? OTS_MB_CAT_RESERVED : OTS_MB_CAT_PUBLIC_ASSIGNED;
	if (fc <= 24 || fc == 43)
		return OTS_MB_CAT_PUBLIC_ASSIGNED;
	if ((fc >= 41 && fc <= 42) || (fc >= 90 && fc <= 91) || fc >= 125)
		return OTS_MB_CAT_RESERVED;
	if ((fc >= 65 && fc <= 72) || (fc >= 100 && fc <= 110))
		return OTS_MB_CAT_USER;
	return OTS_MB_CAT_PUBLIC_UNASSIGNED;
}

static uint8_t mb_access(uint32_t fc)
{
	switch (fc) {
	case 1:
		return OTS_MB_ACC_READ | OTS_MB_ACC_COILS;
	case 2:
		return OTS_MB_ACC_READ | OTS_MB_ACC_DISCRETES;
	case 3:
		return OTS_MB_ACC_READ | OTS_MB_ACC_HOLDING;
	case 4:
		return OTS_MB_ACC_READ | OTS_MB_ACC_INPUT;
	case 5:
	case 15:
		return OTS_MB_ACC_WRITE | OTS_MB_ACC_COILS;
	case 6:
	case 16:
	case 22:
		return OTS_MB_ACC_WRITE | OTS_MB_ACC_HOLDING;
	case 23:
		return OTS_MB_ACC_READ | OTS_MB_ACC_WRITE | OTS_MB_ACC_HOLDING;
	default:
		return 0;
	}
}

static int match_modbus(const struct ots_ot_match *m, const struct ots_pdu *pdu)
{
	if (pdu->proto != OTS_APP_MODBUS || pdu->dir != OTS_DIR_TO_SERVER || pdu->kind != OTS_PDU_REQUEST)
		return 0;
	/* FC 8: the parser reports the sub-function in address (sub when it fills that field) */
	uint32_t sub = pdu->code == 8 ? (pdu->sub ? pdu->sub : pdu->address) : 0;
	if ((m->keys & OTS_OTK_MODBUS_UNIT) && !cmp_num(&m->mb_unit, pdu->unit))
		return 0;
	if (m->keys & OTS_OTK_MODBUS_FUNC) {
		if (m->mb_func_cat) {
			if (!(mb_category(pdu->code, sub) & m->mb_func_cat))
				return 0;
		} else if ((pdu->code == m->mb_func) == (m->mb_func_neg != 0)) {
			return 0;
		}
	}
	if ((m->keys & OTS_OTK_MODBUS_SUB) && (pdu->code != 8 || sub != m->mb_sub))
		return 0;
	if (m->keys & OTS_OTK_MODBUS_ACCESS) {
		uint8_t a = mb_access(pdu->code);
		uint8_t rw = m->mb_access & (OTS_MB_ACC_READ | OTS_MB_ACC_WRITE);
		uint8_t type = m->mb_access & (OTS_MB_ACC_DISCRETES | OTS_MB_ACC_COILS | OTS_MB_ACC_INPUT | OTS_MB_ACC_HOLDING);
		if (!(a & rw) || (type && !(a & type)))
			return 0;
		if (m->mb_address.set) {
			uint64_t lo = pdu->address, hi = lo + (pdu->quantity ? pdu->quantity : 1) - 1;
			if (!cmp_range(&m->mb_address, lo, hi))
				return 0;
		}
	}
	return 1;
}

unsigned ots_rule_pdu_codes(const struct ots_rule *r, uint32_t *codes, unsigned max)
{
	const struct ots_ot_match *m = &r->ot;
	unsigned n = 0;
	if (m->keys & (OTS_OTK_MODBUS_FUNC | OTS_OTK_MODBUS_SUB | OTS_OTK_MODBUS_ACCESS)) {
		/* the code-dependent half of match_modbus; the sub-function of FC 8 is left to the full check */
		uint8_t rw = m->mb_access & (OTS_MB_ACC_READ | OTS_MB_ACC_WRITE);
		uint8_t type = m->mb_access & (OTS_MB_ACC_DISCRETES | OTS_MB_ACC_COILS | OTS_MB_ACC_INPUT | OTS_MB_ACC_HOLDING);
		for (uint32_t fc = 0; fc < 256; fc++) {
			if (m->keys & OTS_OTK_MODBUS_FUNC) {
				if (m->mb_func_cat) {
					if (fc != 8 && !(mb_category(fc, 0) & m->mb_func_cat))
						continue;
				} else if ((fc == m->mb_func) == (m->mb_func_neg != 0)) {
					continue;
				}
			}
			if ((m->keys & OTS_OTK_MODBUS_SUB) && fc != 8)
				continue;
			if (m->keys & OTS_OTK_MODBUS_ACCESS) {
				uint8_t a = mb_access(fc);
				if (!(a & rw) || (type && !(a & type)))
					continue;
			}
			if (n == max)
				return 0;
			codes[n++] = fc;
		}
		return n;
	}
	if ((m->keys & OTS_OTK_DNP3_FUNC) && max)
		codes[n++] = m->dnp3_func;
	else if ((m->keys & OTS_OTK_ENIP_COMMAND) && max)
		codes[n++] = m->enip_command;
	else if ((m->keys & OTS_OTK_CIP_SERVICE) && max)
		codes[n++] = 0x10000u | (m->cip_service & 0x7fu);
	return n;
}

static int match_dnp3(const struct ots_ot_match *m, const struct ots_pdu *pdu)
{
	if (pdu->proto != OTS_APP_DNP3)
		return 0;
	if ((m->keys & OTS_OTK_DNP3_FUNC) && pdu->code != m->dnp3_func)
		return 0;
	if ((m->keys & OTS_OTK_DNP3_IND) && !(pdu->iin & m->dnp3_ind))
		return 0;
	if (m->keys & OTS_OTK_DNP3_OBJ) {
		uint16_t want = (uint16_t)(m->dnp3_group << 8 | m->dnp3_var);
		unsigned n = pdu->objs ? pdu->nobjs : 0;
		if (n > OTS_PDU_MAX_OBJS)
			n = OTS_PDU_MAX_OBJS;
		unsigned k;
		for (k = 0; k < n; k++)
			if (pdu->objs[k] == want)
				break;
		if (k == n)
			return 0;
	}
	return 1;
}

static int match_enip(const struct ots_ot_match *m, const struct ots_pdu *pdu)
{
	if (pdu->proto != OTS_APP_ENIP)
		return 0;
	if ((m->keys & OTS_OTK_ENIP_COMMAND) && (pdu->code >= 0x10000u || pdu->code != m->enip_command))
		return 0;
	if (m->keys & OTS_OTK_CIP_SERVICE) {
		/* a request service (< 0x80) matches requests; a reply code (0x80 | service) matches replies */
		int reply = (m->cip_service & 0x80) != 0;
		if (pdu->code != OTS_ENIP_CIP_CODE(m->cip_service))
			return 0;
		if (reply ? pdu->kind == OTS_PDU_REQUEST : pdu->kind != OTS_PDU_REQUEST)
			return 0;
		if (m->cip_class >= 0 && pdu->unit != (uint32_t)m->cip_class)
			return 0;
		if (m->cip_attribute >= 0 && (pdu->sub == 0 || pdu->sub != (uint32_t)m->cip_attribute))
			return 0;
	}
	return 1;
}

static int match_ot(const struct ots_rule *r, const struct ots_pdu *pdu)
{
	const struct ots_ot_match *m = &r->ot;
	if (!pdu)
		return 0;
	if (r->app != OTS_APP_UNKNOWN && pdu->proto != r->app)
		return 0;
	if ((m->keys & (OTS_OTK_MODBUS_FUNC | OTS_OTK_MODBUS_SUB | OTS_OTK_MODBUS_UNIT | OTS_OTK_MODBUS_ACCESS)) &&
	    !match_modbus(m, pdu))
		return 0;
	if ((m->keys & (OTS_OTK_DNP3_FUNC | OTS_OTK_DNP3_IND | OTS_OTK_DNP3_OBJ)) && !match_dnp3(m, pdu))
		return 0;
	if ((m->keys & (OTS_OTK_ENIP_COMMAND | OTS_OTK_CIP_SERVICE)) && !match_enip(m, pdu))
		return 0;
	return 1;
}

/* ---------------------------------------------------------------- entry points */

int ots_rule_match(const struct ots_rule *r, const struct ots_match_in *in)
{
	if (r->flow & OTS_FLOW_TO_SERVER && !in->to_server)
		return 0;
	if (r->flow & OTS_FLOW_TO_CLIENT && in->to_server)
		return 0;
	if (r->flow & OTS_FLOW_ESTABLISHED && !in->established)
		return 0;
	if (r->flow & OTS_FLOW_NOT_EST && in->established)
		return 0;
	if (r->dsize.set && !cmp_num(&r->dsize, in->dsize))
		return 0;
	if (r->ot.keys && !match_ot(r, in->pdu))
		return 0;
	if (r->nopts == 0)
		return 1;
	if (in->pkt_off > in->len || (!in->buf && in->len))
		return 0;
	struct mstate m = { r, in, MATCH_BUDGET, 0 };
	return run(&m, 0, in->pkt_off, -1);
}

static inline int cidr_has(const struct ots_cidr *c, uint8_t family, const uint8_t *ip)
{
	if (c->family != family)
		return 0;
	unsigned p = c->prefix;
	uint64_t a, b;
	memcpy(&a, ip, 8);
	memcpy(&b, c->ip, 8);
	uint64_t m = p >= 64 ? ~0ULL : p ? ~0ULL << (64 - p) : 0;
	if ((__builtin_bswap64(a) ^ __builtin_bswap64(b)) & m)
		return 0;
	if (p <= 64)
		return 1;
	memcpy(&a, ip + 8, 8);
	memcpy(&b, c->ip + 8, 8);
	m = p >= 128 ? ~0ULL : ~0ULL << (128 - p);
	return !((__builtin_bswap64(a) ^ __builtin_bswap64(b)) & m);
}

static int addr_ok(const struct ots_addr_set *s, uint8_t family, const uint8_t *ip)
{
	for (unsigned i = 0; i < s->nneg; i++)
		if (cidr_has(&s->neg[i], family, ip))
			return 0;
	if (s->any || s->npos == 0)
		return 1;
	for (unsigned i = 0; i < s->npos; i++)
		if (cidr_has(&s->pos[i], family, ip))
			return 1;
	return 0;
}

static int port_ok(const struct ots_port_set *s, uint16_t port)
{
	for (unsigned i = 0; i < s->nneg; i++)
		if (port >= s->neg[i].lo && port <= s->neg[i].hi)
			return 0;
	if (s->any || s->npos == 0)
		return 1;
	for (unsigned i = 0; i < s->npos; i++)
		if (port >= s->pos[i].lo && port <= s->pos[i].hi)
			return 1;
	return 0;
}

int ots_rule_match_header(const struct ots_rule *r, uint8_t family, const uint8_t *sip, uint16_t sport,
			  const uint8_t *dip, uint16_t dport)
{
	if (addr_ok(&r->src, family, sip) && port_ok(&r->sport, sport) && addr_ok(&r->dst, family, dip) &&
	    port_ok(&r->dport, dport))
		return 1;
	return r->bidir && addr_ok(&r->src, family, dip) && port_ok(&r->sport, dport) &&
	       addr_ok(&r->dst, family, sip) && port_ok(&r->dport, sport);
}
