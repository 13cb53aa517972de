/* fuzz/fuzz_rules.c - libFuzzer target for detect/rule_parse.c and detect/rule_match.c.
 *
 * Input: rule text, then optionally a NUL byte and a payload. The text is parsed with a small variable table
 * (nested and self-referencing variables included). When it parses, the payload is verified against it as a
 * datagram (pkt_off 0) and as a stream buffer (pkt_off = half), with a PDU of the rule's protocol built from the
 * payload bytes, and the header is matched with IPv4 and IPv6 addresses taken from the payload.
 * Invariants: no read or write outside the input; parse returns 0, -EINVAL or -ENOTSUP with a non-empty reason;
 * a parsed rule is consistent (option count, content lengths, fast pattern index, pcre code present); match
 * functions return 0 or 1; ots_rule_free releases everything (LeakSanitizer).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. detect/rule_parse.c detect/rule_match.c protocols/registry.c
 *        protocols/{modbus,dnp3,s7comm,enip,bacnet,iec104,framing}.c fuzz/fuzz_rules.c -lpcre2-8
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rule.h"
#include "fuzz/feed.h" /* CHECK */
#include "protocols/registry.h"

static const struct ots_rule_var var_tab[] = {
	{ "HOME_NET", "[10.0.0.0/8,192.168.0.0/16,fd00::/8]" },
	{ "EXTERNAL_NET", "!$HOME_NET" },
	{ "MODBUS_PORTS", "[502,1502:1510]" },
	{ "LOOP", "[1.1.1.1,$LOOP]" },
};
static const struct ots_rule_vars vars = { 4, var_tab };

static struct ots_rule r;
static void *md;

static void check_rule(const struct ots_rule *x)
{
	CHECK(x->nopts <= OTS_RULE_MAX_OPTS);
	CHECK(x->sid != 0);
	CHECK(x->fast >= -1 && x->fast < (int)x->nopts);
	CHECK(x->src.npos <= OTS_RULE_MAX_ADDRS && x->src.nneg <= OTS_RULE_MAX_ADDRS);
	CHECK(x->dport.npos <= OTS_RULE_MAX_PORTS && x->dport.nneg <= OTS_RULE_MAX_PORTS);
	CHECK(x->nmeta <= OTS_RULE_MAX_META);
	CHECK(memchr(x->msg, 0, sizeof(x->msg)) != NULL);
	for (unsigned i = 0; i < x->nopts; i++) {
		const struct ots_opt *o = &x->opts[i];
		CHECK(o->type >= OTS_OPT_CONTENT && o->type <= OTS_OPT_ISDATAAT);
		if (o->type == OTS_OPT_CONTENT)
			CHECK(o->u.c.len >= 1 && o->u.c.len <= OTS_RULE_MAX_CONTENT);
		if (o->type == OTS_OPT_PCRE)
			CHECK(o->u.re.code != NULL && o->u.re.mctx != NULL);
		if (o->type == OTS_OPT_BYTE_TEST || o->type == OTS_OPT_BYTE_JUMP)
			CHECK(o->u.b.nbytes >= 1 && o->u.b.nbytes <= 10);
	}
	const struct ots_content *c = NULL;
	int fp = ots_rule_fast_pattern(x, &c);
	CHECK(fp == (x->fast >= 0));
	if (fp)
		CHECK(c == &x->opts[x->fast].u.c && !(c->flags & OTS_CF_NEGATED));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!md)
		md = ots_pcre_md_create();
	const uint8_t *nul = memchr(data, 0, size);
	size_t tl = nul ? (size_t)(nul - data) : size;
	const uint8_t *pl = nul ? nul + 1 : data + size;
	size_t plen = nul ? size - tl - 1 : 0;
	char *text = malloc(tl + 1);
	if (!text)
		return 0;
	memcpy(text, data, tl);
	text[tl] = '\0';
	char why[256];
	why[0] = '\0';
	int rc = ots_rule_parse(text, "fuzz:1", &vars, &r, why, sizeof(why));
	free(text);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOTSUP);
	if (rc) {
		CHECK(why[0] != '\0');
		return 0;
	}
	check_rule(&r);

	/* the payload in a heap block of its exact size: ASan sees any overread */
	uint8_t *buf = malloc(plen ? plen : 1);
	if (!buf) {
		ots_rule_free(&r);
		return 0;
	}
	memcpy(buf, pl, plen);
	uint16_t objs[4] = { 0 };
	for (size_t i = 0; i < 4 && 2 * i + 1 < plen; i++)
		objs[i] = (uint16_t)(buf[2 * i] << 8 | buf[2 * i + 1]);
	struct ots_pdu pdu;
	memset(&pdu, 0, sizeof(pdu));
	pdu.proto = r.app;
	pdu.dir = plen && (buf[0] & 1) ? OTS_DIR_TO_CLIENT : OTS_DIR_TO_SERVER;
	pdu.kind = plen > 1 ? buf[1] % OTS_PDU_KIND_MAX : 0;
	pdu.code = plen > 2 ? (buf[2] & 0x80 ? 0x10000u | (buf[2] & 0x7f) : buf[2]) : 0;
	pdu.unit = plen > 3 ? buf[3] : 0;
	pdu.address = plen > 5 ? (uint32_t)(buf[4] << 8 | buf[5]) : 0;
	pdu.quantity = plen > 6 ? buf[6] : 0;
	pdu.sub = plen > 7 ? buf[7] : 0;
	pdu.iin = plen > 9 ? (uint16_t)(buf[8] << 8 | buf[9]) : 0;
	pdu.objs = objs;
	pdu.nobjs = plen > 10 ? buf[10] % 5 : 0;

	for (int mode = 0; mode < 4; mode++) {
		struct ots_match_in in;
		memset(&in, 0, sizeof(in));
		in.buf = buf;
		in.len = (uint32_t)plen;
		in.pkt_off = (mode & 1) ? (uint32_t)(plen / 2) : 0;
		in.dsize = in.len - in.pkt_off;
		in.to_server = (uint8_t)(mode >> 1);
		in.established = (uint8_t)(mode & 1);
		in.pdu = (mode & 2) ? &pdu : NULL;
		in.pcre_md = md;
		int m = ots_rule_match(&r, &in);
		CHECK(m == 0 || m == 1);
	}
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	memcpy(a, buf, plen < 16 ? plen : 16);
	if (plen > 16)
		memcpy(b, buf + 16, plen - 16 < 16 ? plen - 16 : 16);
	for (uint8_t fam = 4; fam <= 6; fam += 2) {
		int h = ots_rule_match_header(&r, fam, a, (uint16_t)(a[0] << 8 | a[1]), b, (uint16_t)(b[0] << 8 | b[1]));
		CHECK(h == 0 || h == 1);
	}
	free(buf);
	ots_rule_free(&r);
	return 0;
}
