/* tests/test_rule_match.c - rule verification (detect/rule.h ots_rule_match / ots_rule_match_header): every
 * payload keyword and modifier matched and not matched, backtracking, the stream rule (pkt_off), the OT keywords
 * against PDUs built the way the parsers report them, and header matching. Rules go through ots_rule_parse. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "detect/rule.h"
#include "protocols/enip.h"
#include "protocols/registry.h"
#include "tests/harness.h"

static struct ots_rule R;
static void *md;
static char why[256];

static int rule_text(const char *text)
{
	ots_rule_free(&R);
	int rc = ots_rule_parse(text, "m.rules:1", NULL, &R, why, sizeof(why));
	if (rc)
		printf("\n  rule failed (%d: %s): %s\n", rc, why, text);
	return rc;
}

static int rule(const char *opts)
{
	char t[2048];
	snprintf(t, sizeof(t), "alert tcp any any -> any any (%s sid:1;)", opts);
	return rule_text(t);
}

#define RULE(o) CU_ASSERT_FATAL(rule(o) == 0)
#define RULE_TEXT(t) CU_ASSERT_FATAL(rule_text(t) == 0)

static struct ots_match_in in_of(const void *buf, size_t len, uint32_t pkt_off)
{
	struct ots_match_in in;
	memset(&in, 0, sizeof(in));
	in.buf = buf;
	in.len = (uint32_t)len;
	in.pkt_off = pkt_off;
	in.dsize = (uint32_t)len - pkt_off;
	in.to_server = 1;
	in.established = 1;
	in.pcre_md = md;
	return in;
}

/* match bytes (pkt_off 0) / a string / a stream buffer: old context + new packet */
static int MB(const void *b, size_t n)
{
	struct ots_match_in in = in_of(b, n, 0);
	return ots_rule_match(&R, &in);
}

static int M(const char *s)
{
	return MB(s, strlen(s));
}

static int MS(const char *old, const char *pkt)
{
	char b[512];
	size_t o = strlen(old), p = strlen(pkt);
	memcpy(b, old, o);
	memcpy(b + o, pkt, p);
	struct ots_match_in in = in_of(b, o + p, (uint32_t)o);
	return ots_rule_match(&R, &in);
}

static int MP(const struct ots_pdu *pdu, const void *b, size_t n)
{
	struct ots_match_in in = in_of(b, n, 0);
	in.pdu = pdu;
	return ots_rule_match(&R, &in);
}

/* ---------------------------------------------------------------- content */

static void test_content_plain(void)
{
	RULE("content:\"abc\";");
	CU_ASSERT_EQUAL(M("xxabcxx"), 1);
	CU_ASSERT_EQUAL(M("abc"), 1);
	CU_ASSERT_EQUAL(M("xxabxcx"), 0);
	CU_ASSERT_EQUAL(M("ab"), 0);
	CU_ASSERT_EQUAL(M(""), 0);
	CU_ASSERT_EQUAL(M("ABC"), 0);
	RULE("content:\"|00 01 00 00|\";"); /* hex: Modbus/TCP transaction 1, protocol 0 */
	CU_ASSERT_EQUAL(MB("\x00\x01\x00\x00\x00\x06", 6), 1);
	CU_ASSERT_EQUAL(MB("\x00\x01\x00\x01\x00\x06", 6), 0);
}

static void test_offset_depth(void)
{
	RULE("content:\"AB\"; offset:2;");
	CU_ASSERT_EQUAL(M("xxAB"), 1);
	CU_ASSERT_EQUAL(M("xxxxxAB"), 1);
	CU_ASSERT_EQUAL(M("ABxx"), 0);
	CU_ASSERT_EQUAL(M("xABx"), 0);
	RULE("content:\"AB\"; depth:3;");
	CU_ASSERT_EQUAL(M("xAB"), 1);
	CU_ASSERT_EQUAL(M("AB"), 1);
	CU_ASSERT_EQUAL(M("xxAB"), 0);
	RULE("content:\"AB\"; offset:1; depth:3;"); /* window [1, 4) */
	CU_ASSERT_EQUAL(M("xABx"), 1);
	CU_ASSERT_EQUAL(M("xxAB"), 1);
	CU_ASSERT_EQUAL(M("xxxAB"), 0);
	CU_ASSERT_EQUAL(M("ABxx"), 0);
}

static void test_distance_within(void)
{
	RULE("content:\"A\"; content:\"B\"; distance:2;");
	CU_ASSERT_EQUAL(M("AxxB"), 1);
	CU_ASSERT_EQUAL(M("AxxxxB"), 1);
	CU_ASSERT_EQUAL(M("AxB"), 0);
	CU_ASSERT_EQUAL(M("AB"), 0);
	CU_ASSERT_EQUAL(M("BxxA"), 0);
	RULE("content:\"A\"; content:\"B\"; within:2;");
	CU_ASSERT_EQUAL(M("AB"), 1);
	CU_ASSERT_EQUAL(M("AxB"), 1);
	CU_ASSERT_EQUAL(M("AxxB"), 0);
	RULE("content:\"A\"; content:\"B\"; distance:1; within:2;"); /* B in [A_end + 1, A_end + 3) */
	CU_ASSERT_EQUAL(M("AxB"), 1);
	CU_ASSERT_EQUAL(M("AxxB"), 1);
	CU_ASSERT_EQUAL(M("AxxBx"), 1); /* within counts from A_end + distance, not from A_end */
	CU_ASSERT_EQUAL(M("AB"), 0);
	CU_ASSERT_EQUAL(M("AxxxB"), 0);
	CU_ASSERT_EQUAL(M("AxxxBx"), 0);
	RULE("content:\"cd\"; content:\"bc\"; distance:-3; within:3;"); /* looking back */
	CU_ASSERT_EQUAL(M("abcd"), 1);
	CU_ASSERT_EQUAL(M("bxcd"), 0);
}

static void test_nocase(void)
{
	RULE("content:\"modbus\"; nocase;");
	CU_ASSERT_EQUAL(M("MODBUS"), 1);
	CU_ASSERT_EQUAL(M("xMoDbUsx"), 1);
	CU_ASSERT_EQUAL(M("MODBU"), 0);
	RULE("content:\"modbus\";");
	CU_ASSERT_EQUAL(M("MODBUS"), 0);
	RULE("content:\"|4d 5a|\"; nocase; content:\"this program\"; nocase; distance:0;");
	CU_ASSERT_EQUAL(M("mz....THIS PROGRAM cannot"), 1);
	CU_ASSERT_EQUAL(M("mz....THIS PROGRAN cannot"), 0);
}

static void test_negated(void)
{
	RULE("content:!\"evil\";");
	CU_ASSERT_EQUAL(M("good"), 1);
	CU_ASSERT_EQUAL(M("so evil"), 0);
	RULE("content:\"GET\"; content:!\"admin\"; within:10;");
	CU_ASSERT_EQUAL(M("GET /index"), 1);
	CU_ASSERT_EQUAL(M("GET /admin"), 0);
	CU_ASSERT_EQUAL(M("GET /xxxxxxxxxxadmin"), 1); /* outside the window */
	RULE("content:\"A\"; content:!\"B\"; within:1;");
	CU_ASSERT_EQUAL(M("ABAC"), 1); /* the second A is not followed by B */
	CU_ASSERT_EQUAL(M("ABAB"), 0);
	RULE("content:!\"MZ\"; depth:2;");
	CU_ASSERT_EQUAL(M("MZxx"), 0);
	CU_ASSERT_EQUAL(M("xMZx"), 1);
}

static void test_backtracking(void)
{
	/* the first A is not followed by B, the second one is */
	RULE("content:\"A\"; content:\"B\"; distance:0; within:1;");
	CU_ASSERT_EQUAL(M("AxAB"), 1);
	CU_ASSERT_EQUAL(M("AxAx"), 0);
	/* three levels */
	RULE("content:\"k=\"; content:\"v\"; within:1; content:\"\\;\"; within:1;");
	CU_ASSERT_EQUAL(M("k=x;k=v;"), 1);
	CU_ASSERT_EQUAL(M("k=v k=v;"), 1);
	CU_ASSERT_EQUAL(M("k=v k=v "), 0);
	/* a relative byte_test after a content: retried on the second occurrence */
	RULE("content:\"|ff|\"; byte_test:1,=,7,0,relative;");
	CU_ASSERT_EQUAL(MB("\xff\x01\xff\x07", 4), 1);
	CU_ASSERT_EQUAL(MB("\xff\x01\xff\x08", 4), 0);
	/* pathological: bounded work, no match */
	RULE("content:\"a\"; content:\"a\"; distance:0; content:\"a\"; distance:0; content:\"a\"; distance:0; "
	     "content:\"a\"; distance:0; content:\"a\"; distance:0; content:\"b\"; distance:0; within:1;");
	char many[300];
	memset(many, 'a', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	CU_ASSERT_EQUAL(M(many), 0);
	CU_ASSERT_EQUAL(M("aaaaaab"), 1);
	CU_ASSERT_EQUAL(M("aaaaab"), 0);
}

/* ---------------------------------------------------------------- pcre */

static void test_pcre(void)
{
	RULE("pcre:\"/foo\\d+/\";");
	CU_ASSERT_EQUAL(M("xxfoo12"), 1);
	CU_ASSERT_EQUAL(M("xxfoo"), 0);
	RULE("pcre:\"/FOO/i\";");
	CU_ASSERT_EQUAL(M("a foo"), 1);
	RULE("pcre:\"/FOO/\";");
	CU_ASSERT_EQUAL(M("a foo"), 0);
	RULE("content:\"user=\"; pcre:\"/^admin/R\";");
	CU_ASSERT_EQUAL(M("user=admin"), 1);
	CU_ASSERT_EQUAL(M("user=guest admin"), 0);
	CU_ASSERT_EQUAL(M("user=guest;user=admin"), 1); /* backtracks to the second user= */
	RULE("pcre:\"/^admin/\";");
	CU_ASSERT_EQUAL(M("user=admin"), 0);
	CU_ASSERT_EQUAL(M("admin"), 1);
	RULE("pcre:!\"/\\d{3}/\";");
	CU_ASSERT_EQUAL(M("abc"), 1);
	CU_ASSERT_EQUAL(M("a123"), 0);
	RULE("content:\"id=\"; pcre:!\"/^\\d+/R\";");
	CU_ASSERT_EQUAL(M("id=abc"), 1);
	CU_ASSERT_EQUAL(M("id=42"), 0);
	RULE("pcre:\"/a.b/s\";");
	CU_ASSERT_EQUAL(M("a\nb"), 1);
	RULE("pcre:\"/a.b/\";");
	CU_ASSERT_EQUAL(M("a\nb"), 0);
	RULE("pcre:\"/^b$/m\";");
	CU_ASSERT_EQUAL(M("a\nb\nc"), 1);
	RULE("pcre:\"/^b$/\";");
	CU_ASSERT_EQUAL(M("a\nb\nc"), 0);
	/* a pcre is retried at its next match when what follows fails */
	RULE("pcre:\"/a\\d/\"; content:\"X\"; within:1;");
	CU_ASSERT_EQUAL(M("a1Ya2X"), 1);
	CU_ASSERT_EQUAL(M("a1Ya2Y"), 0);
	/* the cursor after a pcre is the end of its match */
	RULE("pcre:\"/id=\\d+/\"; content:\"\\;\"; within:1;");
	CU_ASSERT_EQUAL(M("id=12;"), 1);
	CU_ASSERT_EQUAL(M("id=12x;"), 0);
	/* no match data: a pcre rule cannot match (never allocates) */
	RULE("pcre:\"/x/\";");
	struct ots_match_in in = in_of("x", 1, 0);
	in.pcre_md = NULL;
	CU_ASSERT_EQUAL(ots_rule_match(&R, &in), 0);
	CU_ASSERT_EQUAL(M("x"), 1);
}

/* ---------------------------------------------------------------- byte_test, byte_jump, isdataat */

static void test_byte_test(void)
{
	static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04 };
	static const struct {
		const char *o;
		int want;
	} t[] = {
		{ "byte_test:2,=,0x0102,0;", 1 },	 { "byte_test:2,=,0x0201,0;", 0 },
		{ "byte_test:2,=,0x0201,0,little;", 1 }, { "byte_test:2,=,0x0102,0,little;", 0 },
		{ "byte_test:4,=,0x01020304,0;", 1 },	 { "byte_test:4,=,0x04030201,0,little;", 1 },
		{ "byte_test:1,>,0,0;", 1 },		 { "byte_test:1,>,1,0;", 0 },
		{ "byte_test:1,<,2,0;", 1 },		 { "byte_test:1,<,1,0;", 0 },
		{ "byte_test:1,<=,1,0;", 1 },		 { "byte_test:1,<=,0,0;", 0 },
		{ "byte_test:1,>=,2,1;", 1 },		 { "byte_test:1,>=,3,1;", 0 },
		{ "byte_test:1,&,0x04,3;", 1 },		 { "byte_test:1,&,0x03,3;", 0 },
		{ "byte_test:1,^,0x05,3;", 1 },		 { "byte_test:1,^,0x04,3;", 0 },
		{ "byte_test:1,!=,2,0;", 1 },		 { "byte_test:1,!=,1,0;", 0 },
		{ "byte_test:1,!>,5,0;", 1 },		 { "byte_test:1,!<,5,0;", 0 },
		{ "byte_test:2,=,0x0304,2;", 1 },	 { "byte_test:2,=,0,3;", 0 }, /* past the end */
		{ "byte_test:8,>,0,0;", 0 },		 /* 8 bytes are not there */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		RULE(t[i].o);
		int got = MB(b, sizeof(b));
		CU_ASSERT_EQUAL(got, t[i].want);
		if (got != t[i].want)
			printf("\n  %s: got %d\n", t[i].o, got);
	}
	/* bitmask: (0xa5 & 0xf0) >> 4 */
	RULE("byte_test:1,=,0x0a,0,bitmask 0xf0;");
	CU_ASSERT_EQUAL(MB("\xa5", 1), 1);
	RULE("byte_test:1,=,0xa0,0,bitmask 0xf0;");
	CU_ASSERT_EQUAL(MB("\xa5", 1), 0);
	/* ASCII numbers */
	RULE("content:\"len=\"; byte_test:3,=,123,0,relative,string,dec;");
	CU_ASSERT_EQUAL(M("len=123;"), 1);
	CU_ASSERT_EQUAL(M("len=124;"), 0);
	RULE("byte_test:2,=,255,0,string,hex;");
	CU_ASSERT_EQUAL(M("ff"), 1);
	CU_ASSERT_EQUAL(M("fe"), 0);
	RULE("byte_test:2,=,15,0,string,oct;");
	CU_ASSERT_EQUAL(M("17"), 1);
	CU_ASSERT_EQUAL(M("18"), 0); /* '8' is no octal digit: 1 */
	RULE("byte_test:3,=,12,0,string,dec;");
	CU_ASSERT_EQUAL(M("12x"), 1); /* trailing garbage ignored, like strtoull */
	CU_ASSERT_EQUAL(M("x12"), 0); /* no digit at all */
	/* relative with a negative offset: the cursor is the end of the match */
	RULE("content:\"|ff|\"; byte_test:1,=,0xee,-3,relative;");
	CU_ASSERT_EQUAL(MB("\xee\x00\xff", 3), 1);
	CU_ASSERT_EQUAL(MB("\xed\x00\xff", 3), 0);
}

static void test_byte_jump(void)
{
	/* a length-prefixed field, then what follows it */
	RULE("byte_jump:2,0; content:\"XYZ\"; within:3;");
	CU_ASSERT_EQUAL(MB("\x00\x03" "abcXYZ", 8), 1);
	CU_ASSERT_EQUAL(MB("\x00\x02" "abcXYZ", 8), 0);
	RULE("byte_jump:2,0,little; content:\"Z\"; within:1;");
	CU_ASSERT_EQUAL(MB("\x03\x00" "abcZ", 6), 1);
	CU_ASSERT_EQUAL(MB("\x00\x03" "abcZ", 6), 0);
	RULE("byte_jump:1,0,from_beginning; content:\"Z\"; within:1;");
	CU_ASSERT_EQUAL(MB("\x03" "abZ", 4), 1);
	CU_ASSERT_EQUAL(MB("\x02" "abZ", 4), 0);
	RULE("byte_jump:1,0,multiplier 2; content:\"Z\"; within:1;");
	CU_ASSERT_EQUAL(MB("\x02" "abcdZ", 6), 1);
	CU_ASSERT_EQUAL(MB("\x02" "abZ", 4), 0);
	RULE("byte_jump:1,0,align; content:\"Z\"; within:1;"); /* 2 -> 4 */
	CU_ASSERT_EQUAL(MB("\x02" "abcdZ", 6), 1);
	CU_ASSERT_EQUAL(MB("\x02" "abZd", 5), 0);
	RULE("byte_jump:1,0,post_offset -1; content:\"Z\"; within:1;");
	CU_ASSERT_EQUAL(MB("\x03" "abZ", 4), 1);
	CU_ASSERT_EQUAL(MB("\x03" "abcZ", 5), 0);
	RULE("byte_jump:2,0,string,dec; content:\"Z\"; within:1;");
	CU_ASSERT_EQUAL(M("03abcZ"), 1);
	CU_ASSERT_EQUAL(M("02abcZ"), 0);
	RULE("byte_jump:1,0,bitmask 0x0f; content:\"Z\"; within:1;");
	CU_ASSERT_EQUAL(MB("\xf2" "abZ", 4), 1);
	/* past the end fails; exactly to the end is allowed */
	RULE("byte_jump:1,0; isdataat:!1,relative;");
	CU_ASSERT_EQUAL(MB("\x09" "ab", 3), 0);
	CU_ASSERT_EQUAL(MB("\x02" "ab", 3), 1);
	CU_ASSERT_EQUAL(MB("\x01" "ab", 3), 0); /* one byte left */
	/* relative to a content */
	RULE("content:\"|ca fe|\"; byte_jump:1,0,relative; content:\"OK\"; within:2;");
	CU_ASSERT_EQUAL(MB("xx\xca\xfe\x02..OK", 9), 1);
	CU_ASSERT_EQUAL(MB("xx\xca\xfe\x01..OK", 9), 0);
}

static void test_isdataat(void)
{
	RULE("isdataat:5;");
	CU_ASSERT_EQUAL(M("abcdef"), 1);
	CU_ASSERT_EQUAL(M("abcde"), 0);
	RULE("isdataat:!5;");
	CU_ASSERT_EQUAL(M("abcde"), 1);
	CU_ASSERT_EQUAL(M("abcdef"), 0);
	RULE("content:\"A\"; isdataat:2,relative;");
	CU_ASSERT_EQUAL(M("Axx"), 1);
	CU_ASSERT_EQUAL(M("Ax"), 0);
	RULE("content:\"END\"; isdataat:!1,relative;");
	CU_ASSERT_EQUAL(M("xxEND"), 1);
	CU_ASSERT_EQUAL(M("xxENDy"), 0);
}

/* ---------------------------------------------------------------- dsize, flow */

static void test_dsize(void)
{
	static const struct {
		const char *o, *s;
		int want;
	} t[] = {
		{ "dsize:4;", "abcd", 1 },	{ "dsize:4;", "abc", 0 },	 { "dsize:<4;", "abc", 1 },
		{ "dsize:<4;", "abcd", 0 },	{ "dsize:>4;", "abcde", 1 },	 { "dsize:>4;", "abcd", 0 },
		{ "dsize:2<>5;", "abc", 1 },	{ "dsize:2<>5;", "ab", 0 },	 { "dsize:2<>5;", "abcde", 0 },
		{ "dsize:<=4;", "abcd", 1 },	{ "dsize:<=4;", "abcde", 0 },	 { "dsize:>=4;", "abcd", 1 },
		{ "dsize:>=4;", "abc", 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		RULE(t[i].o);
		CU_ASSERT_EQUAL(M(t[i].s), t[i].want);
	}
	/* dsize is this packet's size, not the inspected buffer's */
	RULE("dsize:2;");
	CU_ASSERT_EQUAL(MS("context", "ab"), 1);
}

static void test_flow(void)
{
	struct ots_match_in in = in_of("x", 1, 0);
	static const struct {
		const char *o;
		int ts, est, want;
	} t[] = {
		{ "flow:to_server;", 1, 1, 1 },	      { "flow:to_server;", 0, 1, 0 },
		{ "flow:from_client;", 1, 0, 1 },     { "flow:to_client;", 0, 1, 1 },
		{ "flow:to_client;", 1, 1, 0 },	      { "flow:from_server;", 1, 1, 0 },
		{ "flow:established;", 0, 1, 1 },     { "flow:established;", 1, 0, 0 },
		{ "flow:not_established;", 1, 0, 1 }, { "flow:not_established;", 1, 1, 0 },
		{ "flow:stateless;", 0, 0, 1 },	      { "flow:stateless;", 1, 1, 1 },
		{ "flow:to_server,established;", 1, 1, 1 }, { "flow:to_server,established;", 1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		RULE(t[i].o);
		in.to_server = (uint8_t)t[i].ts;
		in.established = (uint8_t)t[i].est;
		CU_ASSERT_EQUAL(ots_rule_match(&R, &in), t[i].want);
	}
}

/* ---------------------------------------------------------------- the stream rule */

static void test_stream_pkt_off(void)
{
	RULE("content:\"MAGIC\";");
	CU_ASSERT_EQUAL(MS("xxMAGIC", "yyy"), 0); /* wholly in the carried context */
	CU_ASSERT_EQUAL(MS("", "xxMAGICyyy"), 1);
	CU_ASSERT_EQUAL(MS("xxMAG", "ICyy"), 1);  /* straddles pkt_off */
	CU_ASSERT_EQUAL(MS("MAGICxx", "zMAGIC"), 1); /* the second occurrence is new */
	CU_ASSERT_EQUAL(MS("xxMAGI", ""), 0);
	/* absolute offset/depth count from pkt_off */
	RULE("content:\"CD\"; depth:2;");
	CU_ASSERT_EQUAL(MS("AB", "CD"), 1);
	RULE("content:\"AB\"; depth:2;");
	CU_ASSERT_EQUAL(MS("AB", "CD"), 0);
	CU_ASSERT_EQUAL(MS("CD", "ABx"), 1);
	RULE("content:\"AB\";");
	CU_ASSERT_EQUAL(MS("AB", "CD"), 0);
	/* a relative chain counts when its last match ends in the new bytes */
	RULE("content:\"A\"; content:\"B\"; within:1;");
	CU_ASSERT_EQUAL(MS("xxA", "B"), 1);
	CU_ASSERT_EQUAL(MS("xxAB", "zz"), 0);
	/* absolute byte_test reads at pkt_off */
	RULE("byte_test:1,=,7,0;");
	CU_ASSERT_EQUAL(MS("\x05", "\x07"), 1);
	RULE("byte_test:1,=,5,0;");
	CU_ASSERT_EQUAL(MS("\x05", "\x07"), 0);
	/* pcre over the whole buffer, same rule */
	RULE("pcre:\"/MAG.C/\";");
	CU_ASSERT_EQUAL(MS("xxMAGIC", "yy"), 0);
	CU_ASSERT_EQUAL(MS("xxMA", "GICyy"), 1);
	/* no payload options: the rule ignores the stream rule */
	RULE("dsize:>0;");
	CU_ASSERT_EQUAL(MS("old", "new"), 1);
	/* only negative options: new bytes needed, and the negation covers the whole buffer */
	RULE("content:!\"evil\";");
	CU_ASSERT_EQUAL(MS("ok", "fine"), 1);
	CU_ASSERT_EQUAL(MS("evil", "ok"), 0);
	CU_ASSERT_EQUAL(MS("ok", ""), 0);
}

/* ---------------------------------------------------------------- OT keywords */

/* Modbus/TCP Write Single Register: transaction 1, unit 1, register 100 <- 200 */
static const uint8_t mb_write[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x06, 0x00, 0x64, 0x00, 0xc8 };

static struct ots_pdu mb_pdu(uint32_t fc, uint32_t unit, uint32_t addr, uint32_t qty)
{
	struct ots_pdu p;
	memset(&p, 0, sizeof(p));
	p.proto = OTS_APP_MODBUS;
	p.dir = OTS_DIR_TO_SERVER;
	p.kind = OTS_PDU_REQUEST;
	p.code = fc;
	p.unit = unit;
	p.address = addr;
	p.quantity = qty;
	return p;
}

static int mbr(const char *kw, const struct ots_pdu *p)
{
	char t[256];
	snprintf(t, sizeof(t), "alert modbus any any -> any 502 (modbus: %s; sid:20;)", kw);
	if (rule_text(t))
		return -1;
	return MP(p, mb_write, sizeof(mb_write));
}

static void test_modbus(void)
{
	struct ots_pdu w = mb_pdu(6, 1, 100, 1); /* as protocols/modbus.c reports mb_write */
	w.flags = OTS_PDUF_WRITE;
	RULE_TEXT("alert modbus any any -> any 502 (msg:\"write reg 100\"; modbus: function 6; "
		  "content:\"|06 00 64|\"; offset:7; depth:3; sid:20;)");
	CU_ASSERT_EQUAL(MP(&w, mb_write, sizeof(mb_write)), 1);
	CU_ASSERT_EQUAL(MP(NULL, mb_write, sizeof(mb_write)), 0); /* OT keywords need a PDU */
	struct ots_pdu other = w;
	other.address = 101;
	CU_ASSERT_EQUAL(mbr("function 6", &other), 1);

	CU_ASSERT_EQUAL(mbr("function 6", &w), 1);
	CU_ASSERT_EQUAL(mbr("function 3", &w), 0);
	CU_ASSERT_EQUAL(mbr("function !6", &w), 0);
	CU_ASSERT_EQUAL(mbr("function !3", &w), 1);
	CU_ASSERT_EQUAL(mbr("unit 1", &w), 1);
	CU_ASSERT_EQUAL(mbr("unit 10", &w), 0);
	CU_ASSERT_EQUAL(mbr("unit <5", &w), 1);
	CU_ASSERT_EQUAL(mbr("unit >5", &w), 0);
	CU_ASSERT_EQUAL(mbr("unit 0<>2", &w), 1);
	CU_ASSERT_EQUAL(mbr("unit 1<>9", &w), 0); /* exclusive */
	CU_ASSERT_EQUAL(mbr("unit 1, function 6", &w), 1);
	CU_ASSERT_EQUAL(mbr("unit 2, function 6", &w), 0);

	/* a response or exception never matches (Suricata inspects requests) */
	struct ots_pdu resp = w;
	resp.dir = OTS_DIR_TO_CLIENT;
	resp.kind = OTS_PDU_RESPONSE;
	CU_ASSERT_EQUAL(mbr("function 6", &resp), 0);
	struct ots_pdu dnp = w;
	dnp.proto = OTS_APP_DNP3;
	CU_ASSERT_EQUAL(mbr("function 6", &dnp), 0);

	/* categories */
	struct ots_pdu user = mb_pdu(65, 1, 0, 0), resv = mb_pdu(90, 1, 0, 0), unas = mb_pdu(30, 1, 0, 0);
	CU_ASSERT_EQUAL(mbr("function assigned", &w), 1);
	CU_ASSERT_EQUAL(mbr("function assigned", &user), 0);
	CU_ASSERT_EQUAL(mbr("function user", &user), 1);
	CU_ASSERT_EQUAL(mbr("function user", &w), 0);
	CU_ASSERT_EQUAL(mbr("function reserved", &resv), 1);
	CU_ASSERT_EQUAL(mbr("function reserved", &unas), 0);
	CU_ASSERT_EQUAL(mbr("function unassigned", &unas), 1);
	CU_ASSERT_EQUAL(mbr("function public", &unas), 1);
	CU_ASSERT_EQUAL(mbr("function public", &user), 0);
	CU_ASSERT_EQUAL(mbr("function !reserved", &w), 1);
	CU_ASSERT_EQUAL(mbr("function !reserved", &resv), 0);
	CU_ASSERT_EQUAL(mbr("function all", &resv), 1);

	/* FC 8: the parser puts the sub-function in address */
	struct ots_pdu diag = mb_pdu(8, 1, 4, 0), diag_rsv = mb_pdu(8, 1, 0x16, 0);
	CU_ASSERT_EQUAL(mbr("function 8, subfunction 4", &diag), 1);
	CU_ASSERT_EQUAL(mbr("function 8, subfunction 1", &diag), 0);
	CU_ASSERT_EQUAL(mbr("function 8, subfunction 4", &w), 0);
	CU_ASSERT_EQUAL(mbr("function assigned", &diag), 1);
	CU_ASSERT_EQUAL(mbr("function reserved", &diag_rsv), 1);
	diag.sub = 1; /* a parser that fills sub wins */
	CU_ASSERT_EQUAL(mbr("function 8, subfunction 1", &diag), 1);

	/* access */
	struct ots_pdu rc = mb_pdu(1, 1, 50, 10), rd = mb_pdu(2, 1, 0, 8), rh = mb_pdu(3, 1, 100, 10),
		       ri = mb_pdu(4, 1, 0, 2), wc = mb_pdu(5, 1, 7, 1), wm = mb_pdu(16, 1, 195, 10),
		       rw = mb_pdu(23, 1, 300, 4);
	CU_ASSERT_EQUAL(mbr("access write holding", &w), 1);
	CU_ASSERT_EQUAL(mbr("access write holding", &wc), 0); /* coils */
	CU_ASSERT_EQUAL(mbr("access write holding", &rh), 0); /* a read */
	CU_ASSERT_EQUAL(mbr("access write", &wc), 1);
	CU_ASSERT_EQUAL(mbr("access write coils", &wc), 1);
	CU_ASSERT_EQUAL(mbr("access read", &rh), 1);
	CU_ASSERT_EQUAL(mbr("access read", &w), 0);
	CU_ASSERT_EQUAL(mbr("access read discretes", &rd), 1);
	CU_ASSERT_EQUAL(mbr("access read discretes", &rc), 0);
	CU_ASSERT_EQUAL(mbr("access read input", &ri), 1);
	CU_ASSERT_EQUAL(mbr("access read input", &rh), 0);
	CU_ASSERT_EQUAL(mbr("access read holding", &rw), 1); /* FC 23 reads and writes */
	CU_ASSERT_EQUAL(mbr("access write holding", &rw), 1);
	CU_ASSERT_EQUAL(mbr("access read", &diag), 0);
	/* address over [address, address + quantity) */
	CU_ASSERT_EQUAL(mbr("access read coils, address <100", &rc), 1);
	struct ots_pdu rc_hi = mb_pdu(1, 1, 100, 10);
	CU_ASSERT_EQUAL(mbr("access read coils, address <100", &rc_hi), 0);
	CU_ASSERT_EQUAL(mbr("access read holding, address 105", &rh), 1);
	CU_ASSERT_EQUAL(mbr("access read holding, address 109", &rh), 1);
	CU_ASSERT_EQUAL(mbr("access read holding, address 110", &rh), 0);
	CU_ASSERT_EQUAL(mbr("access read holding, address 99", &rh), 0);
	CU_ASSERT_EQUAL(mbr("access write holding, address >200", &wm), 1); /* 195..204 */
	struct ots_pdu wm_lo = mb_pdu(16, 1, 100, 10);
	CU_ASSERT_EQUAL(mbr("access write holding, address >200", &wm_lo), 0);
	CU_ASSERT_EQUAL(mbr("access write holding, address 100", &w), 1);
	CU_ASSERT_EQUAL(mbr("access write holding, address 101", &w), 0);
	struct ots_pdu one = mb_pdu(3, 1, 103, 1), edge = mb_pdu(3, 1, 105, 1);
	CU_ASSERT_EQUAL(mbr("access read holding, address 100<>105", &one), 1);
	CU_ASSERT_EQUAL(mbr("access read holding, address 100<>105", &edge), 0);
	CU_ASSERT_EQUAL(mbr("unit 1, access write holding, address 100", &w), 1);
	CU_ASSERT_EQUAL(mbr("unit 3, access write holding, address 100", &w), 0);
}

static void test_dnp3(void)
{
	static const uint16_t objs[] = { 0x3c02, 0x3c03, 0x3c04 }; /* class 1, 2, 3 data */
	struct ots_pdu rd;
	memset(&rd, 0, sizeof(rd));
	rd.proto = OTS_APP_DNP3;
	rd.dir = OTS_DIR_TO_SERVER;
	rd.kind = OTS_PDU_REQUEST;
	rd.code = 1;
	rd.unit = 1024;
	rd.address = 0x3c02;
	rd.quantity = 3;
	rd.objs = objs;
	rd.nobjs = 3;
	static const uint8_t frame[] = { 0x05, 0x64, 0x14, 0xc4, 0x00, 0x04, 0x01, 0x00 };
	static const struct {
		const char *o;
		int want;
	} t[] = {
		{ "dnp3_func:read;", 1 },	 { "dnp3_func:1;", 1 },		{ "dnp3_func:write;", 0 },
		{ "dnp3_obj:60,3;", 1 },	 { "dnp3_obj:60,4;", 1 },	{ "dnp3_obj:60,1;", 0 },
		{ "dnp3_obj:1,3;", 0 },		 { "dnp3_func:read; dnp3_obj:60,2;", 1 },
		{ "dnp3_func:write; dnp3_obj:60,2;", 0 }, { "dnp3_ind:device_restart;", 0 }, /* requests carry no IIN */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char b[200];
		snprintf(b, sizeof(b), "alert dnp3 any any -> any any (%s sid:21;)", t[i].o);
		RULE_TEXT(b);
		CU_ASSERT_EQUAL(MP(&rd, frame, sizeof(frame)), t[i].want);
	}
	struct ots_pdu none = rd;
	none.nobjs = 0;
	RULE_TEXT("alert dnp3 any any -> any any (dnp3_obj:60,2; sid:21;)");
	CU_ASSERT_EQUAL(MP(&none, frame, sizeof(frame)), 0);

	struct ots_pdu resp = rd;
	resp.dir = OTS_DIR_TO_CLIENT;
	resp.kind = OTS_PDU_RESPONSE;
	resp.code = 129;
	resp.iin = 0x9000; /* device restart + need time */
	resp.nobjs = 0;
	static const struct {
		const char *o;
		int want;
	} u[] = {
		{ "dnp3_ind:device_restart;", 1 },
		{ "dnp3_ind:class_1_events;", 0 },
		{ "dnp3_ind:class_1_events,need_time;", 1 }, /* any of them */
		{ "dnp3_ind:no_func_code_support;", 0 },
		{ "dnp3_func:response; dnp3_ind:need_time;", 1 },
		{ "dnp3_func:unsolicited_response; dnp3_ind:need_time;", 0 },
	};
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		char b[200];
		snprintf(b, sizeof(b), "alert dnp3 any any -> any any (%s sid:21;)", u[i].o);
		RULE_TEXT(b);
		CU_ASSERT_EQUAL(MP(&resp, frame, sizeof(frame)), u[i].want);
	}
	resp.iin = 0x0001;
	RULE_TEXT("alert dnp3 any any -> any any (dnp3_ind:no_func_code_support; sid:21;)");
	CU_ASSERT_EQUAL(MP(&resp, frame, sizeof(frame)), 1);
}

static void test_enip(void)
{
	struct ots_pdu cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.proto = OTS_APP_ENIP;
	cmd.dir = OTS_DIR_TO_SERVER;
	cmd.kind = OTS_PDU_REQUEST;
	cmd.code = 0x65; /* RegisterSession */
	struct ots_pdu cip = cmd;
	cip.code = OTS_ENIP_CIP_CODE(0x4c); /* Read Tag on the Symbol class */
	cip.unit = 0x6b;
	static const uint8_t b[] = { 0x65, 0x00, 0x04, 0x00 };
	const struct {
		const char *o;
		const struct ots_pdu *p;
		int want;
	} t[] = {
		{ "enip_command:101;", &cmd, 1 },    { "enip_command:0x65;", &cmd, 1 }, { "enip_command:0x6f;", &cmd, 0 },
		{ "enip_command:76;", &cip, 0 },     { "cip_service:0x65;", &cmd, 0 },  { "cip_service:76;", &cip, 1 },
		{ "cip_service:76,107;", &cip, 1 },  { "cip_service:76,1;", &cip, 0 },	 { "cip_service:0x4d;", &cip, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char r[200];
		snprintf(r, sizeof(r), "alert enip any any -> any any (%s sid:22;)", t[i].o);
		RULE_TEXT(r);
		CU_ASSERT_EQUAL(MP(t[i].p, b, sizeof(b)), t[i].want);
	}
	/* replies: the request service does not match them, the reply code does */
	struct ots_pdu reply = cip;
	reply.dir = OTS_DIR_TO_CLIENT;
	reply.kind = OTS_PDU_RESPONSE;
	RULE_TEXT("alert enip any any -> any any (cip_service:76; sid:22;)");
	CU_ASSERT_EQUAL(MP(&reply, b, sizeof(b)), 0);
	RULE_TEXT("alert enip any any -> any any (cip_service:0xcc; sid:22;)");
	CU_ASSERT_EQUAL(MP(&reply, b, sizeof(b)), 1);
	CU_ASSERT_EQUAL(MP(&cip, b, sizeof(b)), 0);
	/* attribute: only when a parser reports it in sub */
	struct ots_pdu gas = cmd;
	gas.code = OTS_ENIP_CIP_CODE(0x0e);
	gas.unit = 1;
	RULE_TEXT("alert enip any any -> any any (cip_service:14,1,7; sid:22;)");
	CU_ASSERT_EQUAL(MP(&gas, b, sizeof(b)), 0);
	gas.sub = 7;
	CU_ASSERT_EQUAL(MP(&gas, b, sizeof(b)), 1);
	gas.sub = 6;
	CU_ASSERT_EQUAL(MP(&gas, b, sizeof(b)), 0);
	RULE_TEXT("alert enip any any -> any any (cip_service:14,1; sid:22;)");
	CU_ASSERT_EQUAL(MP(&gas, b, sizeof(b)), 1);
}

/* ---------------------------------------------------------------- a stratum line */

static void test_stratum(void)
{
	RULE_TEXT("alert tcp any any -> any any (msg:\"coin miner subscribe\"; flow:to_server,established; "
		  "content:\"mining.subscribe\"; fast_pattern; content:\"\\\"method\\\"\"; "
		  "pcre:\"/\\\"method\\\"\\s*:\\s*\\\"mining\\.subscribe\\\"/\"; classtype:coin-mining; sid:23;)");
	CU_ASSERT_EQUAL(R.priority, 2);
	const char *sub = "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"cgminer/4.10.0\"]}\n";
	const char *auth = "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"mining.subscribe\"]}\n";
	CU_ASSERT_EQUAL(M(sub), 1);
	CU_ASSERT_EQUAL(M(auth), 0);
	struct ots_match_in in = in_of(sub, strlen(sub), 0);
	in.to_server = 0;
	CU_ASSERT_EQUAL(ots_rule_match(&R, &in), 0);
}

/* ---------------------------------------------------------------- header */

static int hdr(int fam, const char *s, uint16_t sp, const char *d, uint16_t dp)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	int af = fam == 6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, s, a) != 1 || inet_pton(af, d, b) != 1)
		return -1;
	return ots_rule_match_header(&R, (uint8_t)fam, a, sp, b, dp);
}

static void test_header(void)
{
	RULE_TEXT("alert tcp [10.0.0.0/8,!10.1.0.0/16] any -> 192.168.1.10 [502,1024:2048] (sid:30;)");
	CU_ASSERT_EQUAL(hdr(4, "10.2.3.4", 40000, "192.168.1.10", 502), 1);
	CU_ASSERT_EQUAL(hdr(4, "10.1.2.3", 40000, "192.168.1.10", 502), 0);
	CU_ASSERT_EQUAL(hdr(4, "11.0.0.1", 40000, "192.168.1.10", 502), 0);
	CU_ASSERT_EQUAL(hdr(4, "10.2.3.4", 40000, "192.168.1.10", 1500), 1);
	CU_ASSERT_EQUAL(hdr(4, "10.2.3.4", 40000, "192.168.1.10", 2049), 0);
	CU_ASSERT_EQUAL(hdr(4, "10.2.3.4", 40000, "192.168.1.11", 502), 0);
	CU_ASSERT_EQUAL(hdr(4, "192.168.1.10", 502, "10.2.3.4", 40000), 0); /* one direction only */

	RULE_TEXT("alert tcp 10.0.0.1 any <> 10.0.0.2 502 (sid:31;)");
	CU_ASSERT_EQUAL(hdr(4, "10.0.0.1", 5000, "10.0.0.2", 502), 1);
	CU_ASSERT_EQUAL(hdr(4, "10.0.0.2", 502, "10.0.0.1", 5000), 1);
	CU_ASSERT_EQUAL(hdr(4, "10.0.0.2", 5000, "10.0.0.1", 502), 0);
	RULE_TEXT("alert tcp 10.0.0.1 any -> 10.0.0.2 502 (sid:31;)");
	CU_ASSERT_EQUAL(hdr(4, "10.0.0.2", 502, "10.0.0.1", 5000), 0);

	RULE_TEXT("alert ip 2001:db8::/32 any -> !fe80::/10 any (sid:32;)");
	CU_ASSERT_EQUAL(hdr(6, "2001:db8::5", 1, "2001:db9::1", 2), 1);
	CU_ASSERT_EQUAL(hdr(6, "2001:db8:ffff::5", 1, "::1", 2), 1);
	CU_ASSERT_EQUAL(hdr(6, "2001:db8::5", 1, "fe80::1", 2), 0);
	CU_ASSERT_EQUAL(hdr(6, "2001:db9::5", 1, "2001:db9::1", 2), 0);
	CU_ASSERT_EQUAL(hdr(4, "32.1.13.184", 1, "10.0.0.1", 2), 0); /* IPv4 bytes 20 01 0d b8 are not IPv6 */

	RULE_TEXT("alert tcp any !22 -> any ![80,443] (sid:33;)");
	CU_ASSERT_EQUAL(hdr(4, "1.1.1.1", 22, "2.2.2.2", 8080), 0);
	CU_ASSERT_EQUAL(hdr(4, "1.1.1.1", 23, "2.2.2.2", 8080), 1);
	CU_ASSERT_EQUAL(hdr(4, "1.1.1.1", 23, "2.2.2.2", 443), 0);
	CU_ASSERT_EQUAL(hdr(6, "::1", 23, "::2", 8080), 1);

	RULE_TEXT("alert ip 0.0.0.0/0 any -> 10.0.0.128/25 any (sid:34;)");
	CU_ASSERT_EQUAL(hdr(4, "8.8.8.8", 1, "10.0.0.200", 2), 1);
	CU_ASSERT_EQUAL(hdr(4, "8.8.8.8", 1, "10.0.0.100", 2), 0);
	CU_ASSERT_EQUAL(hdr(6, "::8", 1, "::9", 2), 0);

	RULE_TEXT("alert tcp any any -> any any (sid:35;)");
	CU_ASSERT_EQUAL(hdr(4, "1.2.3.4", 1, "5.6.7.8", 2), 1);
	CU_ASSERT_EQUAL(hdr(6, "::1", 1, "::2", 2), 1);
}

static int init(void)
{
	md = ots_pcre_md_create();
	return md ? 0 : 1;
}

static int cleanup(void)
{
	ots_rule_free(&R);
	ots_pcre_md_free(md);
	md = NULL;
	return 0;
}

static const struct ots_test payload_tests[] = {
	{ "content_plain", test_content_plain },
	{ "offset_depth", test_offset_depth },
	{ "distance_within", test_distance_within },
	{ "nocase", test_nocase },
	{ "negated", test_negated },
	{ "backtracking", test_backtracking },
	{ "pcre", test_pcre },
	{ "byte_test", test_byte_test },
	{ "byte_jump", test_byte_jump },
	{ "isdataat", test_isdataat },
	{ "dsize", test_dsize },
	{ "flow", test_flow },
	{ "stream_pkt_off", test_stream_pkt_off },
	{ "stratum", test_stratum },
	{ NULL, NULL },
};

static const struct ots_test ot_tests[] = {
	{ "modbus", test_modbus },
	{ "dnp3", test_dnp3 },
	{ "enip", test_enip },
	{ NULL, NULL },
};

static const struct ots_test header_tests[] = {
	{ "header", test_header },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "rule_match_payload", payload_tests, init, cleanup },
	{ "rule_match_ot", ot_tests, init, cleanup },
	{ "rule_match_header", header_tests, init, cleanup },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_rule_match", suites);
}
