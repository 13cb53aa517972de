/* tests/test_rules.c - the rule language (detect/rule.h): every header form, every option and modifier, variables
 * (nested, negated, undefined, recursive), unsupported keywords, syntax errors with their message, rule files
 * (counts, diagnostics, continuation lines) and the fast pattern choice. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/rule.h"
#include "protocols/registry.h"
#include "tests/harness.h"

static const struct ots_rule_var var_tab[] = {
	{ "HOME_NET", "[10.0.0.0/8,192.168.0.0/16]" },
	{ "EXTERNAL_NET", "!$HOME_NET" },
	{ "PLC_SUB", "10.1.0.0/16" },
	{ "PLC_NET", "[$PLC_SUB, 172.16.5.0/24, !10.1.2.3]" },
	{ "MODBUS_PORTS", "502" },
	{ "OT_PORTS", "[$MODBUS_PORTS,20000,44818,2404]" },
	{ "HIGH_PORTS", "1024:" },
	{ "LOOP_A", "$LOOP_B" },
	{ "LOOP_B", "[1.1.1.1,$LOOP_A]" },
	{ "V6_NET", "[2001:db8::/32,fe80::/10]" },
};
static const struct ots_rule_vars vars = { sizeof(var_tab) / sizeof(var_tab[0]), var_tab };

static struct ots_rule R; /* big: static */
static char why[256];

static int parse(const char *text)
{
	ots_rule_free(&R);
	why[0] = '\0';
	return ots_rule_parse(text, "t.rules:1", &vars, &R, why, sizeof(why));
}

/* options wrapped in a plain tcp header; sid 7 appended */
static int popts(const char *opts)
{
	char t[2048];
	snprintf(t, sizeof(t), "alert tcp any any -> any any (%s sid:7;)", opts);
	return parse(t);
}

#define OK(expr)                                                                   \
	do {                                                                       \
		int rc_ = (expr);                                                  \
		CU_ASSERT_EQUAL(rc_, 0);                                           \
		if (rc_)                                                           \
			printf("\n  %s:%d: unexpected %d: %s\n", __FILE__, __LINE__, rc_, why); \
	} while (0)

#define FAILS(expr, rc, needle)                                                                        \
	do {                                                                                           \
		int rc_ = (expr);                                                                      \
		CU_ASSERT_EQUAL(rc_, rc);                                                              \
		CU_ASSERT_PTR_NOT_NULL(strstr(why, needle));                                           \
		if (rc_ != (rc) || !strstr(why, needle))                                               \
			printf("\n  %s:%d: got %d '%s', want %d '%s'\n", __FILE__, __LINE__, rc_, why, rc, needle); \
	} while (0)

static int cidr_is(const struct ots_cidr *c, const char *ip, int prefix)
{
	struct ots_cidr x;
	memset(&x, 0, sizeof(x));
	char b[64];
	snprintf(b, sizeof(b), "%s", ip);
	if (strchr(b, ':')) {
		x.family = 6;
		if (inet_pton(AF_INET6, b, x.ip) != 1)
			return 0;
	} else {
		x.family = 4;
		if (inet_pton(AF_INET, b, x.ip) != 1)
			return 0;
	}
	return c->family == x.family && c->prefix == prefix && !memcmp(c->ip, x.ip, 16);
}

/* ---------------------------------------------------------------- header */

static void test_header_basic(void)
{
	OK(parse("alert tcp 10.0.0.1 any -> 192.168.1.0/24 502 (msg:\"Modbus to PLC\"; sid:1000001; rev:2;)"));
	CU_ASSERT_EQUAL(R.action, OTS_ACT_ALERT);
	CU_ASSERT_EQUAL(R.l4, OTS_RL4_TCP);
	CU_ASSERT_EQUAL(R.app, OTS_APP_UNKNOWN);
	CU_ASSERT_EQUAL(R.bidir, 0);
	CU_ASSERT_EQUAL(R.src.any, 0);
	CU_ASSERT_EQUAL(R.src.npos, 1);
	CU_ASSERT(cidr_is(&R.src.pos[0], "10.0.0.1", 32));
	CU_ASSERT_EQUAL(R.sport.any, 1);
	CU_ASSERT_EQUAL(R.sport.npos, 0);
	CU_ASSERT(cidr_is(&R.dst.pos[0], "192.168.1.0", 24));
	CU_ASSERT_EQUAL(R.dport.npos, 1);
	CU_ASSERT_EQUAL(R.dport.pos[0].lo, 502);
	CU_ASSERT_EQUAL(R.dport.pos[0].hi, 502);
	CU_ASSERT_EQUAL(R.sid, 1000001);
	CU_ASSERT_EQUAL(R.rev, 2);
	CU_ASSERT_EQUAL(R.gid, 1);
	CU_ASSERT_EQUAL(R.priority, 3);
	CU_ASSERT_STRING_EQUAL(R.msg, "Modbus to PLC");
	CU_ASSERT_STRING_EQUAL(R.origin, "t.rules:1");
	CU_ASSERT_EQUAL(R.nopts, 0);
	CU_ASSERT_EQUAL(R.fast, -1);
	/* no blank before '(' , spaces inside lists */
	OK(parse("alert udp [10.0.0.1, 10.0.0.2] any <> any [ 53 , 5353 ](sid:2;)"));
	CU_ASSERT_EQUAL(R.bidir, 1);
	CU_ASSERT_EQUAL(R.src.npos, 2);
	CU_ASSERT_EQUAL(R.dport.npos, 2);
	CU_ASSERT_EQUAL(R.dport.pos[1].lo, 5353);
}

static void test_actions(void)
{
	static const struct {
		const char *a;
		int act;
	} t[] = { { "alert", OTS_ACT_ALERT }, { "pass", OTS_ACT_PASS }, { "drop", OTS_ACT_DROP },
		  { "reject", OTS_ACT_REJECT }, { "log", OTS_ACT_LOG } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "%s ip any any -> any any (sid:3;)", t[i].a);
		OK(parse(b));
		CU_ASSERT_EQUAL(R.action, t[i].act);
	}
	FAILS(parse("block ip any any -> any any (sid:3;)"), -EINVAL, "bad action 'block'");
}

static void test_protocols(void)
{
	static const struct {
		const char *p;
		int l4, app;
	} t[] = {
		{ "ip", OTS_RL4_IP, OTS_APP_UNKNOWN },	     { "tcp", OTS_RL4_TCP, OTS_APP_UNKNOWN },
		{ "TCP", OTS_RL4_TCP, OTS_APP_UNKNOWN },     { "udp", OTS_RL4_UDP, OTS_APP_UNKNOWN },
		{ "icmp", OTS_RL4_ICMP, OTS_APP_UNKNOWN },   { "modbus", OTS_RL4_TCP, OTS_APP_MODBUS },
		{ "dnp3", OTS_RL4_IP, OTS_APP_DNP3 },	     { "enip", OTS_RL4_IP, OTS_APP_ENIP },
		{ "cip", OTS_RL4_IP, OTS_APP_ENIP },	     { "s7comm", OTS_RL4_TCP, OTS_APP_S7COMM },
		{ "iec104", OTS_RL4_TCP, OTS_APP_IEC104 },   { "bacnet", OTS_RL4_UDP, OTS_APP_BACNET },
		{ "mms", OTS_RL4_IP, OTS_APP_MMS },	     { "http", OTS_RL4_TCP, OTS_APP_HTTP },
		{ "stratum", OTS_RL4_TCP, OTS_APP_STRATUM }, { "opcua", OTS_RL4_TCP, OTS_APP_OPCUA },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "alert %s any any -> any any (sid:4;)", t[i].p);
		OK(parse(b));
		CU_ASSERT_EQUAL(R.l4, t[i].l4);
		CU_ASSERT_EQUAL(R.app, t[i].app);
	}
	FAILS(parse("alert foo any any -> any any (sid:4;)"), -EINVAL, "unknown protocol 'foo'");
	FAILS(parse("alert unknown any any -> any any (sid:4;)"), -EINVAL, "unknown protocol 'unknown'");
}

static void test_addresses(void)
{
	OK(parse("alert ip [2001:db8::/32, !2001:db8::1] any -> !1.2.3.4 any (sid:5;)"));
	CU_ASSERT_EQUAL(R.src.npos, 1);
	CU_ASSERT(cidr_is(&R.src.pos[0], "2001:db8::", 32));
	CU_ASSERT_EQUAL(R.src.nneg, 1);
	CU_ASSERT(cidr_is(&R.src.neg[0], "2001:db8::1", 128));
	CU_ASSERT_EQUAL(R.dst.any, 1); /* only a negation: everything else */
	CU_ASSERT_EQUAL(R.dst.npos, 0);
	CU_ASSERT_EQUAL(R.dst.nneg, 1);
	CU_ASSERT(cidr_is(&R.dst.neg[0], "1.2.3.4", 32));

	/* negated list: every element negated; a negation inside it turns positive */
	OK(parse("alert ip ![1.2.3.4,5.6.7.0/24,!5.6.7.8] any -> any any (sid:5;)"));
	CU_ASSERT_EQUAL(R.src.nneg, 2);
	CU_ASSERT_EQUAL(R.src.npos, 1);
	CU_ASSERT(cidr_is(&R.src.pos[0], "5.6.7.8", 32));

	/* nested lists */
	OK(parse("alert ip [10.0.0.0/8,[172.16.0.0/12,![172.16.1.0/24]]] any -> any any (sid:5;)"));
	CU_ASSERT_EQUAL(R.src.npos, 2);
	CU_ASSERT_EQUAL(R.src.nneg, 1);
	CU_ASSERT(cidr_is(&R.src.pos[1], "172.16.0.0", 12));
	CU_ASSERT(cidr_is(&R.src.neg[0], "172.16.1.0", 24));

	/* dotted netmask, host bits dropped */
	OK(parse("alert ip 10.0.0.0/255.255.0.0 any -> 10.1.2.3/8 any (sid:5;)"));
	CU_ASSERT(cidr_is(&R.src.pos[0], "10.0.0.0", 16));
	CU_ASSERT(cidr_is(&R.dst.pos[0], "10.0.0.0", 8));

	/* any inside a list with a negation */
	OK(parse("alert ip [any,!192.168.0.0/16] any -> any any (sid:5;)"));
	CU_ASSERT_EQUAL(R.src.any, 1);
	CU_ASSERT_EQUAL(R.src.nneg, 1);

	FAILS(parse("alert ip 10.0.0.300 any -> any any (sid:5;)"), -EINVAL, "bad address '10.0.0.300'");
	FAILS(parse("alert ip 1.2.3.4/33 any -> any any (sid:5;)"), -EINVAL, "bad address '1.2.3.4/33'");
	FAILS(parse("alert ip 1.2.3.0/255.0.255.0 any -> any any (sid:5;)"), -EINVAL, "bad address");
	FAILS(parse("alert ip !any any -> any any (sid:5;)"), -EINVAL, "'!any'");
	FAILS(parse("alert ip [1.2.3.4 any -> any any (sid:5;)"), -EINVAL, "unbalanced '['");
	FAILS(parse("alert ip [1.2.3.4,,5.6.7.8] any -> any any (sid:5;)"), -EINVAL, "empty element");
}

static void test_ports(void)
{
	OK(parse("alert tcp any 1024: -> any :1023 (sid:6;)"));
	CU_ASSERT_EQUAL(R.sport.pos[0].lo, 1024);
	CU_ASSERT_EQUAL(R.sport.pos[0].hi, 65535);
	CU_ASSERT_EQUAL(R.dport.pos[0].lo, 0);
	CU_ASSERT_EQUAL(R.dport.pos[0].hi, 1023);
	OK(parse("alert tcp any [80,443,8000:8100] -> any !22 (sid:6;)"));
	CU_ASSERT_EQUAL(R.sport.npos, 3);
	CU_ASSERT_EQUAL(R.sport.pos[2].lo, 8000);
	CU_ASSERT_EQUAL(R.sport.pos[2].hi, 8100);
	CU_ASSERT_EQUAL(R.dport.any, 1);
	CU_ASSERT_EQUAL(R.dport.nneg, 1);
	CU_ASSERT_EQUAL(R.dport.neg[0].lo, 22);
	OK(parse("alert tcp any [1:100,!50] -> any ![1:10,[20,30]] (sid:6;)"));
	CU_ASSERT_EQUAL(R.sport.npos, 1);
	CU_ASSERT_EQUAL(R.sport.nneg, 1);
	CU_ASSERT_EQUAL(R.sport.neg[0].lo, 50);
	CU_ASSERT_EQUAL(R.dport.nneg, 3);
	CU_ASSERT_EQUAL(R.dport.neg[2].lo, 30);
	FAILS(parse("alert tcp any 70000 -> any any (sid:6;)"), -EINVAL, "bad port '70000'");
	FAILS(parse("alert tcp any 100:50 -> any any (sid:6;)"), -EINVAL, "bad port range '100:50'");
	FAILS(parse("alert tcp any http -> any any (sid:6;)"), -EINVAL, "bad port 'http'");
	FAILS(parse("alert tcp any !any -> any any (sid:6;)"), -EINVAL, "'!any'");
	FAILS(parse("alert tcp any : -> any any (sid:6;)"), -EINVAL, "bad port ':'");
}

static void test_variables(void)
{
	OK(parse("alert tcp $EXTERNAL_NET any -> $HOME_NET $MODBUS_PORTS (sid:8;)"));
	CU_ASSERT_EQUAL(R.src.any, 1);
	CU_ASSERT_EQUAL(R.src.nneg, 2);
	CU_ASSERT(cidr_is(&R.src.neg[1], "192.168.0.0", 16));
	CU_ASSERT_EQUAL(R.dst.npos, 2);
	CU_ASSERT(cidr_is(&R.dst.pos[0], "10.0.0.0", 8));
	CU_ASSERT_EQUAL(R.dport.pos[0].lo, 502);

	/* nested: a variable whose value holds a variable and a negation */
	OK(parse("alert tcp $PLC_NET $HIGH_PORTS -> ![$PLC_NET] $OT_PORTS (sid:8;)"));
	CU_ASSERT_EQUAL(R.src.npos, 2);
	CU_ASSERT(cidr_is(&R.src.pos[0], "10.1.0.0", 16));
	CU_ASSERT_EQUAL(R.src.nneg, 1);
	CU_ASSERT(cidr_is(&R.src.neg[0], "10.1.2.3", 32));
	CU_ASSERT_EQUAL(R.dst.nneg, 2);	 /* negated list: the positives turn negative ... */
	CU_ASSERT_EQUAL(R.dst.npos, 1);	 /* ... and the inner negation positive */
	CU_ASSERT_EQUAL(R.sport.pos[0].lo, 1024);
	CU_ASSERT_EQUAL(R.dport.npos, 4);
	CU_ASSERT_EQUAL(R.dport.pos[3].lo, 2404);
	OK(parse("alert ip $V6_NET any -> any any (sid:8;)"));
	CU_ASSERT(cidr_is(&R.src.pos[1], "fe80::", 10));

	FAILS(parse("alert tcp $NOPE any -> any any (sid:8;)"), -EINVAL, "undefined variable '$NOPE'");
	FAILS(parse("alert tcp any $NO_PORTS -> any any (sid:8;)"), -EINVAL, "undefined variable '$NO_PORTS'");
	FAILS(parse("alert tcp [1.2.3.4,$LOOP_A] any -> any any (sid:8;)"), -EINVAL, "variable recursion too deep");
	FAILS(parse("alert tcp $ any -> any any (sid:8;)"), -EINVAL, "empty variable name");
	/* without a variable table every variable is undefined */
	ots_rule_free(&R);
	CU_ASSERT_EQUAL(ots_rule_parse("alert tcp $HOME_NET any -> any any (sid:8;)", "x:1", NULL, &R, why, sizeof(why)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "undefined variable '$HOME_NET'"));
}

static void test_direction_and_shape(void)
{
	FAILS(parse("alert tcp any any <- any any (sid:9;)"), -EINVAL, "bad direction '<-'");
	FAILS(parse("alert tcp any any -> any (sid:9;)"), -EINVAL, "bad header");
	FAILS(parse("alert tcp any any -> any any any (sid:9;)"), -EINVAL, "bad header");
	FAILS(parse("alert tcp any any -> any any sid:9;"), -EINVAL, "missing '('");
	FAILS(parse("alert tcp any any -> any any (msg:\"x\"; sid:9;"), -EINVAL, "missing closing ')'");
	CU_ASSERT_EQUAL(R.sid, 9); /* known even though the rule failed */
	FAILS(parse("alert tcp any any -> any any (msg:\"x\"; sid:9)"), -EINVAL, "not terminated by ';'");
	FAILS(parse("alert tcp any any -> any any (msg:\"x\";)"), -EINVAL, "missing sid");
	CU_ASSERT_EQUAL(R.sid, 0);
	FAILS(parse("alert tcp any any -> any any (sid:0;)"), -EINVAL, "bad sid '0'");
	FAILS(parse("alert tcp any any -> any any (sid:abc;)"), -EINVAL, "bad sid 'abc'");
	FAILS(parse("alert tcp any any -> any any (sid:1; sid:2;)"), -EINVAL, "sid given twice");
	FAILS(parse("alert tcp any any -> any any (; sid:1;)"), -EINVAL, "empty option");
	FAILS(parse("alert tcp any any -> any any (msg:\"unterminated; sid:1;)"), -EINVAL, "msg: missing closing quote");
}

/* ---------------------------------------------------------------- simple options */

static void test_meta_options(void)
{
	OK(popts("msg:\"a \\\"quoted\\\" \\; semi \\\\ back\"; gid:3; rev:9; reference:url, example.com/x; "
		 "reference:cve,2024-1; metadata: created_at 2024_01_01, former_category SCADA;"
		 "metadata:a 1, b 2, c 3, d 4, e 5, f 6, g 7;"));
	CU_ASSERT_STRING_EQUAL(R.msg, "a \"quoted\" ; semi \\ back");
	CU_ASSERT_EQUAL(R.gid, 3);
	CU_ASSERT_EQUAL(R.rev, 9);
	CU_ASSERT_STRING_EQUAL(R.reference, "url,example.com/x"); /* the first one */
	CU_ASSERT_EQUAL(R.nmeta, 8);			       /* 9 given, 8 kept */
	CU_ASSERT_STRING_EQUAL(R.meta[0], "created_at 2024_01_01");
	CU_ASSERT_STRING_EQUAL(R.meta[1], "former_category SCADA");
	CU_ASSERT_STRING_EQUAL(R.meta[7], "f 6");
	FAILS(popts("reference:nocomma;"), -EINVAL, "reference: expected type,value");
	FAILS(popts("rev:x;"), -EINVAL, "bad rev 'x'");
	FAILS(popts("msg:\"x;"), -EINVAL, "msg: missing closing quote");
}

static void test_classtype_priority(void)
{
	static const struct {
		const char *ct;
		int prio;
	} t[] = {
		{ "attempted-admin", 1 },	 { "trojan-activity", 1 }, { "attempted-recon", 2 },
		{ "policy-violation", 1 },	 { "protocol-command-decode", 3 }, { "misc-activity", 3 },
		{ "bad-unknown", 2 },		 { "network-scan", 3 },	   { "unknown", 3 },
		{ "tcp-connection", 4 },	 { "attempted-dos", 2 },   { "web-application-attack", 1 },
		{ "command-and-control", 1 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "classtype:%s;", t[i].ct);
		OK(popts(b));
		CU_ASSERT_EQUAL(R.priority, t[i].prio);
		CU_ASSERT_STRING_EQUAL(R.classtype, t[i].ct);
	}
	/* an explicit priority wins, before or after the classtype */
	OK(popts("priority:4; classtype:attempted-admin;"));
	CU_ASSERT_EQUAL(R.priority, 4);
	OK(popts("classtype:attempted-admin; priority:2;"));
	CU_ASSERT_EQUAL(R.priority, 2);
	OK(popts("classtype:site-specific;")); /* not in the table: default */
	CU_ASSERT_EQUAL(R.priority, 3);
	FAILS(popts("priority:0;"), -EINVAL, "bad priority '0'");
	FAILS(popts("classtype:bad class;"), -EINVAL, "bad classtype");
}

/* ---------------------------------------------------------------- content */

static void test_content(void)
{
	OK(popts("content:\"|00 01|abc|FF|\\\"\\;\\\\\\:\";"));
	CU_ASSERT_EQUAL(R.nopts, 1);
	CU_ASSERT_EQUAL(R.opts[0].type, OTS_OPT_CONTENT);
	const struct ots_content *c = &R.opts[0].u.c;
	CU_ASSERT_EQUAL(c->len, 10);
	CU_ASSERT(!memcmp(c->pat, "\x00\x01" "abc\xff\";\\:", 10));
	CU_ASSERT_EQUAL(c->flags, 0);
	OK(popts("content:!\"evil\";"));
	CU_ASSERT_EQUAL(R.opts[0].u.c.flags, OTS_CF_NEGATED);
	OK(popts("content:\"|4d 5a|\"; content:\"a|7c|b\";")); /* a pipe byte in hex */
	CU_ASSERT_EQUAL(R.opts[1].u.c.len, 3);
	CU_ASSERT_EQUAL(R.opts[1].u.c.pat[1], '|');

	FAILS(popts("content:\"abc;"), -EINVAL, "content: missing closing quote");
	FAILS(popts("content:abc;"), -EINVAL, "content: missing opening quote");
	FAILS(popts("content:\"ab\\\";"), -EINVAL, "content: missing closing quote"); /* escaped closing quote */
	FAILS(popts("content:\"|0g|\";"), -EINVAL, "content: bad hex character 'g'");
	FAILS(popts("content:\"|012|\";"), -EINVAL, "content: odd number of hex digits");
	FAILS(popts("content:\"|01 02\";"), -EINVAL, "content: missing closing '|'");
	FAILS(popts("content:\"\";"), -EINVAL, "content: empty");
	FAILS(popts("content:\"a\\xb\";"), -EINVAL, "content: bad escape");
	FAILS(popts("content:\"a\"b\";"), -EINVAL, "content: unescaped '\"'");
	FAILS(popts("content:;"), -EINVAL, "content: missing value");
	char big[400] = "content:\"";
	memset(big + 9, 'A', 256);
	strcpy(big + 265, "\";");
	FAILS(popts(big), -EINVAL, "content: longer than 255 bytes");
}

static void test_content_modifiers(void)
{
	OK(popts("content:\"GET\"; nocase; offset:2; depth:10; content:\"HTTP\"; distance:-3; within:20; rawbytes;"));
	const struct ots_content *a = &R.opts[0].u.c, *b = &R.opts[1].u.c;
	CU_ASSERT_EQUAL(a->flags, OTS_CF_NOCASE | OTS_CF_OFFSET | OTS_CF_DEPTH);
	CU_ASSERT_EQUAL(a->offset, 2);
	CU_ASSERT_EQUAL(a->depth, 10);
	CU_ASSERT_EQUAL(b->flags, OTS_CF_DISTANCE | OTS_CF_WITHIN);
	CU_ASSERT_EQUAL(b->distance, -3);
	CU_ASSERT_EQUAL(b->within, 20);
	/* a modifier after a pcre still applies to the last content */
	OK(popts("content:\"abc\"; pcre:\"/x/\"; nocase;"));
	CU_ASSERT_EQUAL(R.opts[0].u.c.flags, OTS_CF_NOCASE);

	FAILS(popts("nocase; content:\"a\";"), -EINVAL, "nocase: no preceding content");
	FAILS(popts("offset:1;"), -EINVAL, "offset: no preceding content");
	FAILS(popts("content:\"abcd\"; depth:3;"), -EINVAL, "depth 3 is less than the content length 4");
	FAILS(popts("content:\"abcd\"; within:2;"), -EINVAL, "within 2 is less than the content length 4");
	FAILS(popts("content:\"a\"; offset:1; distance:2;"), -EINVAL, "cannot mix offset/depth with distance/within");
	FAILS(popts("content:\"a\"; within:2; depth:5;"), -EINVAL, "cannot mix");
	FAILS(popts("content:\"a\"; offset:1; offset:2;"), -EINVAL, "offset: given twice");
	FAILS(popts("content:\"a\"; nocase; nocase;"), -EINVAL, "nocase: given twice");
	FAILS(popts("content:\"a\"; offset:-1;"), -EINVAL, "bad offset '-1'");
	FAILS(popts("content:\"a\"; distance:x;"), -EINVAL, "bad distance 'x'");
	FAILS(popts("content:\"a\"; depth;"), -EINVAL, "depth: missing value");
}

static void test_fast_pattern(void)
{
	const struct ots_content *c = NULL;
	/* the longest non-negated content; ties go to the first */
	OK(popts("content:\"ab\"; content:!\"negatedlongest\"; content:\"abcd\"; content:\"wxyz\";"));
	CU_ASSERT_EQUAL(R.fast, 2);
	CU_ASSERT_EQUAL(ots_rule_fast_pattern(&R, &c), 1);
	CU_ASSERT_PTR_EQUAL(c, &R.opts[2].u.c);
	/* fast_pattern wins over length, and :only is accepted */
	OK(popts("content:\"longer-pattern\"; content:\"ab\"; fast_pattern;"));
	CU_ASSERT_EQUAL(R.fast, 1);
	CU_ASSERT(R.opts[1].u.c.flags & OTS_CF_FAST);
	OK(popts("content:\"x\"; content:\"yy\"; content:\"abc\"; fast_pattern:only;"));
	CU_ASSERT_EQUAL(R.fast, 2);
	OK(popts("content:\"longer-pattern\"; content:\"abcd\"; fast_pattern:1,2;"));
	CU_ASSERT_EQUAL(R.fast, 1);
	/* only negated contents, or none: no fast pattern */
	OK(popts("content:!\"abc\"; pcre:\"/x/\";"));
	CU_ASSERT_EQUAL(R.fast, -1);
	CU_ASSERT_EQUAL(ots_rule_fast_pattern(&R, &c), 0);
	OK(popts("dsize:>3;"));
	CU_ASSERT_EQUAL(R.fast, -1);
	CU_ASSERT_EQUAL(ots_rule_fast_pattern(&R, &c), 0);
	FAILS(popts("content:\"a\"; fast_pattern; content:\"b\"; fast_pattern;"), -EINVAL,
	      "fast_pattern: given for more than one content");
	FAILS(popts("content:\"ab\"; fast_pattern:1,5;"), -EINVAL, "bad fast_pattern '1,5'");
}

/* ---------------------------------------------------------------- pcre, flow, dsize, byte_*, isdataat */

static void test_pcre(void)
{
	OK(popts("pcre:\"/^user=(\\w+)\\x3b/ismxR\";"));
	CU_ASSERT_EQUAL(R.opts[0].type, OTS_OPT_PCRE);
	CU_ASSERT_EQUAL(R.opts[0].u.re.flags, OTS_PF_RELATIVE);
	CU_ASSERT_PTR_NOT_NULL(R.opts[0].u.re.code);
	CU_ASSERT_PTR_NOT_NULL(R.opts[0].u.re.mctx);
	OK(popts("pcre:!\"/a\\/b/\";"));
	CU_ASSERT_EQUAL(R.opts[0].u.re.flags, OTS_PF_NEGATED);
	OK(popts("pcre:\"/x/AEGB\";"));
	FAILS(popts("pcre:\"/uri/U\";"), -ENOTSUP, "unsupported keyword 'pcre' (modifier 'U')");
	FAILS(popts("pcre:\"/x/Z\";"), -ENOTSUP, "modifier 'Z'");
	FAILS(popts("pcre:\"/a(b/\";"), -EINVAL, "pcre: bad regex at offset");
	FAILS(popts("pcre:\"abc\";"), -EINVAL, "pcre: the regex must be written /.../flags");
	FAILS(popts("pcre:\"/abc\";"), -EINVAL, "pcre: missing closing '/'");
	FAILS(popts("pcre:\"//i\";"), -EINVAL, "pcre: empty regex");
	FAILS(popts("pcre:\"/abc/;"), -EINVAL, "pcre: missing closing quote");
}

static void test_flow(void)
{
	OK(popts("flow:to_server,established;"));
	CU_ASSERT_EQUAL(R.flow, OTS_FLOW_TO_SERVER | OTS_FLOW_ESTABLISHED);
	OK(popts("flow: from_server , not_established, only_stream;"));
	CU_ASSERT_EQUAL(R.flow, OTS_FLOW_TO_CLIENT | OTS_FLOW_NOT_EST);
	OK(popts("flow:from_client; flow:stateless, no_stream;"));
	CU_ASSERT_EQUAL(R.flow, OTS_FLOW_TO_SERVER | OTS_FLOW_STATELESS);
	OK(popts("flow:to_client;"));
	CU_ASSERT_EQUAL(R.flow, OTS_FLOW_TO_CLIENT);
	FAILS(popts("flow:to_server,to_client;"), -EINVAL, "flow: to_server and to_client together");
	FAILS(popts("flow:established,not_established;"), -EINVAL, "together");
	FAILS(popts("flow:sideways;"), -EINVAL, "flow: unknown option 'sideways'");
	FAILS(popts("flow:only_frag;"), -ENOTSUP, "unsupported keyword 'flow: only_frag'");
}

static void test_dsize(void)
{
	static const struct {
		const char *v;
		int op;
		unsigned lo, hi;
	} t[] = { { "10", OTS_CMP_EQ, 10, 10 },	    { "<10", OTS_CMP_LT, 10, 10 },    { ">10", OTS_CMP_GT, 10, 10 },
		  { "10<>20", OTS_CMP_RANGE, 10, 20 }, { "<=7", OTS_CMP_LE, 7, 7 }, { ">= 7", OTS_CMP_GE, 7, 7 } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char b[64];
		snprintf(b, sizeof(b), "dsize:%s;", t[i].v);
		OK(popts(b));
		CU_ASSERT_EQUAL(R.dsize.set, 1);
		CU_ASSERT_EQUAL(R.dsize.op, t[i].op);
		CU_ASSERT_EQUAL(R.dsize.lo, t[i].lo);
		if (t[i].op == OTS_CMP_RANGE)
			CU_ASSERT_EQUAL(R.dsize.hi, t[i].hi);
	}
	FAILS(popts("dsize:20<>10;"), -EINVAL, "bad dsize '20<>10'");
	FAILS(popts("dsize:big;"), -EINVAL, "bad dsize 'big'");
	FAILS(popts("dsize:70000;"), -EINVAL, "bad dsize");
	FAILS(popts("dsize:1; dsize:2;"), -EINVAL, "dsize given twice");
}

static void test_byte_test(void)
{
	OK(popts("byte_test:2,>,100,0,relative,little;"));
	const struct ots_byte_op *b = &R.opts[0].u.b;
	CU_ASSERT_EQUAL(R.opts[0].type, OTS_OPT_BYTE_TEST);
	CU_ASSERT_EQUAL(b->nbytes, 2);
	CU_ASSERT_EQUAL(b->op, OTS_CMP_GT);
	CU_ASSERT_EQUAL(b->value, 100);
	CU_ASSERT_EQUAL(b->offset, 0);
	CU_ASSERT_EQUAL(b->flags, OTS_BF_RELATIVE | OTS_BF_LITTLE);
	OK(popts("byte_test:4,!&,0x0f,2;"));
	CU_ASSERT_EQUAL(R.opts[0].u.b.op, OTS_CMP_AND);
	CU_ASSERT_EQUAL(R.opts[0].u.b.flags, OTS_BF_NEGATE);
	CU_ASSERT_EQUAL(R.opts[0].u.b.value, 0x0f);
	OK(popts("byte_test:3,=,123,0,string,dec;"));
	CU_ASSERT_EQUAL(R.opts[0].u.b.flags, OTS_BF_STRING);
	CU_ASSERT_EQUAL(R.opts[0].u.b.base, 10);
	FAILS(popts("byte_test:4,<=,ff,0,string,hex;"), -EINVAL, "byte_test: bad value 'ff'"); /* a number, not hex text */
}

static void test_byte_test_more(void)
{
	OK(popts("byte_test:4,<=,0xff,0,string,hex;"));
	CU_ASSERT_EQUAL(R.opts[0].u.b.base, 16);
	CU_ASSERT_EQUAL(R.opts[0].u.b.op, OTS_CMP_LE);
	OK(popts("byte_test:1,&,0x80,0,bitmask 0xf0;"));
	CU_ASSERT_EQUAL(R.opts[0].u.b.bitmask, 0xf0);
	OK(popts("byte_test:1,!,5,-1,relative;")); /* bare '!' is "not equal"; negative offset when relative */
	CU_ASSERT_EQUAL(R.opts[0].u.b.op, OTS_CMP_EQ);
	CU_ASSERT_EQUAL(R.opts[0].u.b.flags, OTS_BF_NEGATE | OTS_BF_RELATIVE);
	CU_ASSERT_EQUAL(R.opts[0].u.b.offset, -1);
	OK(popts("byte_test:8,^,1,0,big; byte_test:1,>=,1,0; byte_test:1,<,1,0;"));
	CU_ASSERT_EQUAL(R.opts[0].u.b.op, OTS_CMP_OR);
	CU_ASSERT_EQUAL(R.opts[1].u.b.op, OTS_CMP_GE);
	CU_ASSERT_EQUAL(R.opts[2].u.b.op, OTS_CMP_LT);
	FAILS(popts("byte_test:2,~,1,0;"), -EINVAL, "byte_test: bad operator '~'");
	FAILS(popts("byte_test:9,=,1,0;"), -EINVAL, "byte_test: a binary number is 1..8 bytes");
	FAILS(popts("byte_test:11,=,1,0,string,dec;"), -EINVAL, "byte_test: bad nbytes '11'");
	FAILS(popts("byte_test:2,=,1,-1;"), -EINVAL, "negative offset without 'relative'");
	FAILS(popts("byte_test:2,=,1;"), -EINVAL, "byte_test: needs nbytes, operator, value, offset");
	FAILS(popts("byte_test:2,=,x,0;"), -EINVAL, "byte_test: bad value 'x'");
	FAILS(popts("byte_test:2,=,1,0,sideways;"), -EINVAL, "byte_test: unknown option 'sideways'");
	FAILS(popts("byte_test:2,=,1,0,string,dec,little;"), -EINVAL, "'string' and an endianness");
	FAILS(popts("byte_test:2,=,1,0,dce;"), -ENOTSUP, "unsupported keyword 'byte_test: dce'");
}

static void test_byte_jump_isdataat(void)
{
	OK(popts("byte_jump:2,0,relative,multiplier 2,little,align,from_beginning,post_offset -2,bitmask 0x0fff;"));
	const struct ots_byte_op *b = &R.opts[0].u.b;
	CU_ASSERT_EQUAL(R.opts[0].type, OTS_OPT_BYTE_JUMP);
	CU_ASSERT_EQUAL(b->flags, OTS_BF_RELATIVE | OTS_BF_LITTLE | OTS_BF_ALIGN | OTS_BF_FROM_BEGINNING);
	CU_ASSERT_EQUAL(b->multiplier, 2);
	CU_ASSERT_EQUAL(b->post_offset, -2);
	CU_ASSERT_EQUAL(b->bitmask, 0x0fff);
	OK(popts("byte_jump:4,1,string,hex;"));
	CU_ASSERT_EQUAL(R.opts[0].u.b.multiplier, 1);
	CU_ASSERT_EQUAL(R.opts[0].u.b.base, 16);
	FAILS(popts("byte_jump:2,0,from_end;"), -ENOTSUP, "unsupported keyword 'byte_jump: from_end'");
	FAILS(popts("byte_jump:2;"), -EINVAL, "byte_jump: needs nbytes, offset");
	FAILS(popts("byte_jump:2,0,multiplier 0;"), -EINVAL, "byte_jump: bad multiplier");
	FAILS(popts("byte_jump:2,0,align,post_offset x;"), -EINVAL, "byte_jump: bad post_offset");

	OK(popts("isdataat:10; isdataat:!1,relative;"));
	CU_ASSERT_EQUAL(R.opts[0].type, OTS_OPT_ISDATAAT);
	CU_ASSERT_EQUAL(R.opts[0].u.d.n, 10);
	CU_ASSERT_EQUAL(R.opts[0].u.d.relative, 0);
	CU_ASSERT_EQUAL(R.opts[0].u.d.negated, 0);
	CU_ASSERT_EQUAL(R.opts[1].u.d.n, 1);
	CU_ASSERT_EQUAL(R.opts[1].u.d.relative, 1);
	CU_ASSERT_EQUAL(R.opts[1].u.d.negated, 1);
	FAILS(popts("isdataat:x;"), -EINVAL, "isdataat: bad value 'x'");
	FAILS(popts("isdataat:1,backwards;"), -EINVAL, "isdataat: unknown option 'backwards'");
}

static void test_threshold(void)
{
	OK(popts("threshold: type limit, track by_src, count 1, seconds 60;"));
	CU_ASSERT_EQUAL(R.threshold.type, OTS_THR_LIMIT);
	CU_ASSERT_EQUAL(R.threshold.track, OTS_TRACK_BY_SRC);
	CU_ASSERT_EQUAL(R.threshold.count, 1);
	CU_ASSERT_EQUAL(R.threshold.seconds, 60);
	OK(popts("threshold:type both,track by_both,count 3,seconds 10;"));
	CU_ASSERT_EQUAL(R.threshold.type, OTS_THR_BOTH);
	CU_ASSERT_EQUAL(R.threshold.track, OTS_TRACK_BY_BOTH);
	OK(popts("threshold:type threshold,track by_rule,count 3,seconds 10;"));
	CU_ASSERT_EQUAL(R.threshold.type, OTS_THR_THRESHOLD);
	CU_ASSERT_EQUAL(R.threshold.track, OTS_TRACK_BY_RULE);
	OK(popts("detection_filter: track by_dst, count 5, seconds 30;"));
	CU_ASSERT_EQUAL(R.detection_filter.type, OTS_THR_DETECTION_FILTER);
	CU_ASSERT_EQUAL(R.detection_filter.track, OTS_TRACK_BY_DST);
	CU_ASSERT_EQUAL(R.detection_filter.count, 5);
	CU_ASSERT_EQUAL(R.detection_filter.seconds, 30);
	CU_ASSERT_EQUAL(R.threshold.type, OTS_THR_NONE);
	FAILS(popts("threshold: type limit, track by_src, count 1;"), -EINVAL, "threshold: needs track, count and seconds");
	FAILS(popts("threshold: track by_src, count 1, seconds 1;"), -EINVAL, "threshold: missing type");
	FAILS(popts("threshold: type often, track by_src, count 1, seconds 1;"), -EINVAL, "threshold: bad type 'often'");
	FAILS(popts("detection_filter: track by_flow, count 1, seconds 1;"), -EINVAL, "bad track 'by_flow'");
	FAILS(popts("threshold: type limit, track by_src, count 1, seconds 60; detection_filter: track by_src, count 1, seconds 1;"),
	      -EINVAL, "cannot be combined");
}

/* ---------------------------------------------------------------- OT keywords */

static void test_modbus_keyword(void)
{
	const struct ots_ot_match *m = &R.ot;
	OK(parse("alert modbus any any -> any 502 (modbus: function 6; sid:10;)"));
	CU_ASSERT_EQUAL(m->keys, OTS_OTK_MODBUS_FUNC);
	CU_ASSERT_EQUAL(m->mb_func, 6);
	CU_ASSERT_EQUAL(m->mb_func_neg, 0);
	CU_ASSERT_EQUAL(m->mb_func_cat, 0);
	OK(parse("alert modbus any any -> any 502 (modbus: function !6; sid:10;)"));
	CU_ASSERT_EQUAL(m->mb_func_neg, 1);
	static const struct {
		const char *c;
		uint8_t cat;
	} cats[] = {
		{ "assigned", OTS_MB_CAT_PUBLIC_ASSIGNED },
		{ "unassigned", OTS_MB_CAT_PUBLIC_UNASSIGNED },
		{ "public", OTS_MB_CAT_PUBLIC_ASSIGNED | OTS_MB_CAT_PUBLIC_UNASSIGNED },
		{ "user", OTS_MB_CAT_USER },
		{ "reserved", OTS_MB_CAT_RESERVED },
		{ "all", 0x0f },
		{ "!reserved", OTS_MB_CAT_PUBLIC_ASSIGNED | OTS_MB_CAT_PUBLIC_UNASSIGNED | OTS_MB_CAT_USER },
	};
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
		char b[160];
		snprintf(b, sizeof(b), "alert modbus any any -> any any (modbus: function %s; sid:10;)", cats[i].c);
		OK(parse(b));
		CU_ASSERT_EQUAL(m->mb_func_cat, cats[i].cat);
	}
	/* a tcp rule becomes a modbus rule */
	OK(parse("alert tcp any any -> any 502 (modbus: function 8, subfunction 4; sid:10;)"));
	CU_ASSERT_EQUAL(R.app, OTS_APP_MODBUS);
	CU_ASSERT_EQUAL(R.l4, OTS_RL4_TCP);
	CU_ASSERT_EQUAL(m->keys, OTS_OTK_MODBUS_FUNC | OTS_OTK_MODBUS_SUB);
	CU_ASSERT_EQUAL(m->mb_sub, 4);
	OK(parse("alert modbus any any -> any any (modbus: access read; sid:10;)"));
	CU_ASSERT_EQUAL(m->keys, OTS_OTK_MODBUS_ACCESS);
	CU_ASSERT_EQUAL(m->mb_access, OTS_MB_ACC_READ);
	CU_ASSERT_EQUAL(m->mb_address.set, 0);
	OK(parse("alert modbus any any -> any any (modbus: access write holding, address 100; sid:10;)"));
	CU_ASSERT_EQUAL(m->mb_access, OTS_MB_ACC_WRITE | OTS_MB_ACC_HOLDING);
	CU_ASSERT_EQUAL(m->mb_address.set, 1);
	CU_ASSERT_EQUAL(m->mb_address.op, OTS_CMP_EQ);
	CU_ASSERT_EQUAL(m->mb_address.lo, 100);
	OK(parse("alert modbus any any -> any any (modbus: access read coils, address <100; sid:10;)"));
	CU_ASSERT_EQUAL(m->mb_access, OTS_MB_ACC_READ | OTS_MB_ACC_COILS);
	CU_ASSERT_EQUAL(m->mb_address.op, OTS_CMP_LT);
	OK(parse("alert modbus any any -> any any (modbus: access read discretes, address 10<>20; sid:10;)"));
	CU_ASSERT_EQUAL(m->mb_access, OTS_MB_ACC_READ | OTS_MB_ACC_DISCRETES);
	CU_ASSERT_EQUAL(m->mb_address.op, OTS_CMP_RANGE);
	CU_ASSERT_EQUAL(m->mb_address.hi, 20);
	OK(parse("alert modbus any any -> any any (modbus: access read input, address >5; sid:10;)"));
	CU_ASSERT_EQUAL(m->mb_access, OTS_MB_ACC_READ | OTS_MB_ACC_INPUT);
	CU_ASSERT_EQUAL(m->mb_address.op, OTS_CMP_GT);
	OK(parse("alert modbus any any -> any any (modbus: unit 10; sid:10;)"));
	CU_ASSERT_EQUAL(m->keys, OTS_OTK_MODBUS_UNIT);
	CU_ASSERT_EQUAL(m->mb_unit.lo, 10);
	OK(parse("alert modbus any any -> any any (modbus: unit 10, function 3; sid:10;)"));
	CU_ASSERT_EQUAL(m->keys, OTS_OTK_MODBUS_UNIT | OTS_OTK_MODBUS_FUNC);
	CU_ASSERT_EQUAL(m->mb_func, 3);
	OK(parse("alert modbus any any -> any any (modbus: unit <5, access write coils; sid:10;)"));
	CU_ASSERT_EQUAL(m->mb_unit.op, OTS_CMP_LT);
	CU_ASSERT_EQUAL(m->mb_access, OTS_MB_ACC_WRITE | OTS_MB_ACC_COILS);

	FAILS(parse("alert modbus any any -> any any (modbus: access write holding, address 10, value >200; sid:10;)"),
	      -ENOTSUP, "unsupported keyword 'modbus: value'");
	FAILS(parse("alert modbus any any -> any any (modbus: subfunction 4; sid:10;)"), -EINVAL,
	      "subfunction needs a preceding 'function N'");
	FAILS(parse("alert modbus any any -> any any (modbus: address 4; sid:10;)"), -EINVAL,
	      "address needs a preceding 'access'");
	FAILS(parse("alert modbus any any -> any any (modbus: access write discretes; sid:10;)"), -EINVAL,
	      "discretes can only be read");
	FAILS(parse("alert modbus any any -> any any (modbus: access fiddle; sid:10;)"), -EINVAL, "bad access 'fiddle'");
	FAILS(parse("alert modbus any any -> any any (modbus: function 0; sid:10;)"), -EINVAL, "bad function '0'");
	FAILS(parse("alert modbus any any -> any any (modbus: function 256; sid:10;)"), -EINVAL, "bad function '256'");
	FAILS(parse("alert modbus any any -> any any (modbus: function !all; sid:10;)"), -EINVAL, "matches nothing");
	FAILS(parse("alert modbus any any -> any any (modbus: frobnicate 1; sid:10;)"), -EINVAL, "unknown clause");
	FAILS(parse("alert modbus any any -> any any (modbus: function 3; modbus: function 4; sid:10;)"), -EINVAL,
	      "function given twice");
	FAILS(parse("alert dnp3 any any -> any any (modbus: function 3; sid:10;)"), -EINVAL,
	      "the rule's protocol is dnp3, not modbus");
	FAILS(parse("alert udp any any -> any any (modbus: function 3; sid:10;)"), -EINVAL, "does not run over");
}

static void test_dnp3_keywords(void)
{
	static const struct {
		const char *n;
		int code;
	} f[] = { { "confirm", 0 },	      { "read", 1 },		{ "write", 2 },		 { "select", 3 },
		  { "operate", 4 },	      { "direct_operate", 5 },	{ "direct_operate_nr", 6 }, { "immed_freeze", 7 },
		  { "cold_restart", 13 },     { "warm_restart", 14 },	{ "initialize_data", 15 }, { "initialize_appl", 16 },
		  { "start_appl", 17 },	      { "stop_appl", 18 },	{ "save_config", 19 },	 { "enable_unsolicited", 20 },
		  { "disable_unsolicited", 21 }, { "assign_class", 22 }, { "delay_measure", 23 },
		  { "record_current_time", 24 }, { "open_file", 25 },	{ "close_file", 26 },	 { "delete_file", 27 },
		  { "get_file_info", 28 },    { "authenticate_file", 29 }, { "abort_file", 30 },	 { "activate_config", 31 },
		  { "authenticate_req", 32 }, { "authenticate_err", 33 }, { "response", 129 },
		  { "unsolicited_response", 130 }, { "authenticate_resp", 131 }, { "COLD_RESTART", 13 }, { "2", 2 } };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char b[160];
		snprintf(b, sizeof(b), "alert dnp3 any any -> any any (dnp3_func:%s; sid:11;)", f[i].n);
		OK(parse(b));
		CU_ASSERT_EQUAL(R.ot.keys, OTS_OTK_DNP3_FUNC);
		CU_ASSERT_EQUAL(R.ot.dnp3_func, f[i].code);
	}
	OK(parse("alert dnp3 any any -> any any (dnp3_ind:device_restart, need_time,no_func_code_support; sid:11;)"));
	CU_ASSERT_EQUAL(R.ot.dnp3_ind, 0x9001);
	OK(parse("alert dnp3 any any -> any any (dnp3.ind:all_stations,class_1_events,class_2_events,class_3_events,"
		 "local_control,device_trouble,object_unknown,parameter_error,event_buffer_overflow,already_executing,"
		 "config_corrupt,reserved_2,reserved_1; sid:11;)"));
	CU_ASSERT_EQUAL(R.ot.dnp3_ind, 0x6ffe);
	OK(parse("alert dnp3 any any -> any any (dnp3_ind:0x8421; sid:11;)"));
	CU_ASSERT_EQUAL(R.ot.dnp3_ind, 0x8421);
	OK(parse("alert tcp any any -> any 20000 (dnp3_obj:60,2; dnp3.func:read; sid:11;)"));
	CU_ASSERT_EQUAL(R.app, OTS_APP_DNP3);
	CU_ASSERT_EQUAL(R.ot.keys, OTS_OTK_DNP3_OBJ | OTS_OTK_DNP3_FUNC);
	CU_ASSERT_EQUAL(R.ot.dnp3_group, 60);
	CU_ASSERT_EQUAL(R.ot.dnp3_var, 2);
	FAILS(parse("alert dnp3 any any -> any any (dnp3_func:explode; sid:11;)"), -EINVAL, "unknown function 'explode'");
	FAILS(parse("alert dnp3 any any -> any any (dnp3_func:256; sid:11;)"), -EINVAL, "unknown function '256'");
	FAILS(parse("alert dnp3 any any -> any any (dnp3_ind:need_time,sleepy; sid:11;)"), -EINVAL,
	      "unknown indication 'sleepy'");
	FAILS(parse("alert dnp3 any any -> any any (dnp3_obj:60; sid:11;)"), -EINVAL, "expected group,variation");
	FAILS(parse("alert dnp3 any any -> any any (dnp3_obj:60,256; sid:11;)"), -EINVAL, "expected group,variation");
}

static void test_enip_keywords(void)
{
	OK(parse("alert enip any any -> any any (enip_command:99; sid:12;)"));
	CU_ASSERT_EQUAL(R.ot.keys, OTS_OTK_ENIP_COMMAND);
	CU_ASSERT_EQUAL(R.ot.enip_command, 99);
	OK(parse("alert cip any any -> any any (cip_service:0x4c; sid:12;)"));
	CU_ASSERT_EQUAL(R.app, OTS_APP_ENIP);
	CU_ASSERT_EQUAL(R.ot.keys, OTS_OTK_CIP_SERVICE);
	CU_ASSERT_EQUAL(R.ot.cip_service, 0x4c);
	CU_ASSERT_EQUAL(R.ot.cip_class, -1);
	CU_ASSERT_EQUAL(R.ot.cip_attribute, -1);
	OK(parse("alert tcp any any -> any 44818 (cip_service:14,1; sid:12;)"));
	CU_ASSERT_EQUAL(R.app, OTS_APP_ENIP);
	CU_ASSERT_EQUAL(R.ot.cip_class, 1);
	CU_ASSERT_EQUAL(R.ot.cip_attribute, -1);
	OK(parse("alert enip any any -> any any (cip_service:14,1,7; sid:12;)"));
	CU_ASSERT_EQUAL(R.ot.cip_attribute, 7);
	FAILS(parse("alert enip any any -> any any (cip_service:14,1,7,9; sid:12;)"), -EINVAL,
	      "expected service[,class[,attribute]]");
	FAILS(parse("alert enip any any -> any any (cip_service:300; sid:12;)"), -EINVAL, "bad service '300'");
	FAILS(parse("alert enip any any -> any any (enip_command:70000; sid:12;)"), -EINVAL, "bad command '70000'");
	FAILS(parse("alert modbus any any -> any any (enip_command:99; sid:12;)"), -EINVAL, "not enip");
}

static void test_unsupported(void)
{
	static const char *const kws[] = {
		"http.uri; content:\"/x\"", "tls.sni; content:\"a\"", "flowbits:set,x", "xbits:set,x,track ip_src",
		"lua:x.lua", "base64_decode", "app-layer-event:modbus.invalid_length", "dataset:isset,x",
		"uricontent:\"/a\"", "foobar:1", "byte_extract:2,0,len", "tag:session,10,packets",
	};
	static const char *const names[] = { "http.uri", "tls.sni", "flowbits", "xbits", "lua", "base64_decode",
					     "app-layer-event", "dataset", "uricontent", "foobar", "byte_extract", "tag" };
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		char b[256], want[80];
		snprintf(b, sizeof(b), "alert tcp any any -> any any (msg:\"x\"; %s; sid:%zu;)", kws[i], 100 + i);
		snprintf(want, sizeof(want), "unsupported keyword '%s'", names[i]);
		CU_ASSERT_EQUAL(parse(b), -ENOTSUP);
		CU_ASSERT_STRING_EQUAL(why, want);
		CU_ASSERT_EQUAL(R.sid, 100 + i);
	}
	FAILS(popts("bad$kw;"), -EINVAL, "bad keyword 'bad$kw'");
}

/* ---------------------------------------------------------------- files */

struct diag_lines {
	int n;
	char l[16][320];
};

static void on_diag(void *ud, const char *line)
{
	struct diag_lines *d = ud;
	if (d->n < 16)
		snprintf(d->l[d->n], sizeof(d->l[0]), "%s", line);
	d->n++;
}

static void test_load_file(void)
{
	char path[] = "/tmp/ots_rules_XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	static const char text[] =
		"# otsense test rules\n"                                                                   /* 1 */
		"\n"                                                                                       /* 2 */
		"alert modbus $HOME_NET any -> any $MODBUS_PORTS (msg:\"write\"; modbus: function 6; sid:1;)\n" /* 3 */
		"   # indented comment\n"                                                                  /* 4 */
		"alert tcp any any -> any any (msg:\"broken\"; content:\"abc; sid:2;)\n"                   /* 5 */
		"alert http any any -> any any (msg:\"web\"; http.uri; content:\"/cgi\"; sid:3;)\n"        /* 6 */
		"alert tcp any any -> any any (msg:\"no sid\";)\n"                                          /* 7 */
		"alert tcp any any -> any any \\\n"                                                         /* 8 */
		"    (msg:\"continued\"; \\\n"                                                              /* 9 */
		"    content:\"mining.subscribe\"; sid:4;)\n"                                               /* 10 */
		"alert tcp $NOPE any -> any any (sid:5;)\n"                                                 /* 11 */
		"\t\n"                                                                                     /* 12 */
		"alert dnp3 any any -> any any (dnp3_func:cold_restart; sid:6; rev:3;)\r\n"                /* 13 */
		"alert tcp any any -> any any (pcre:\"/x/U\"; sid:7;)";                                   /* 14: no newline */
	CU_ASSERT_EQUAL_FATAL(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);

	struct ots_ruleset rs;
	ots_ruleset_init(&rs);
	static struct diag_lines d;
	memset(&d, 0, sizeof(d));
	char err[256] = "";
	CU_ASSERT_EQUAL(ots_rules_load_file(&rs, path, &vars, on_diag, &d, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(rs.files, 1);
	CU_ASSERT_EQUAL(rs.lines, 8);
	CU_ASSERT_EQUAL(rs.n, 3);
	CU_ASSERT_EQUAL(rs.skipped_syntax, 3);
	CU_ASSERT_EQUAL(rs.skipped_unsupported, 2);
	CU_ASSERT_EQUAL(d.n, 5);
	char want[5][320];
	snprintf(want[0], sizeof(want[0]), "%s:5: sid 2: content: missing closing quote (rule skipped)", path);
	snprintf(want[1], sizeof(want[1]), "%s:6: sid 3: unsupported keyword 'http.uri' (rule skipped)", path);
	snprintf(want[2], sizeof(want[2]), "%s:7: sid ?: missing sid (rule skipped)", path);
	snprintf(want[3], sizeof(want[3]), "%s:11: sid 5: undefined variable '$NOPE' (rule skipped)", path);
	snprintf(want[4], sizeof(want[4]), "%s:14: sid 7: unsupported keyword 'pcre' (modifier 'U') (rule skipped)",
		 path);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_STRING_EQUAL(d.l[i], want[i]);
		if (strcmp(d.l[i], want[i]))
			printf("\n  diag %d: '%s'\n  want    '%s'\n", i, d.l[i], want[i]);
	}
	if (rs.n == 3) {
		char o[200];
		CU_ASSERT_EQUAL(rs.rules[0].sid, 1);
		CU_ASSERT_EQUAL(rs.rules[0].ot.mb_func, 6);
		snprintf(o, sizeof(o), "%s:3", path);
		CU_ASSERT_STRING_EQUAL(rs.rules[0].origin, o);
		CU_ASSERT_EQUAL(rs.rules[1].sid, 4); /* the continued rule, origin = its first line */
		CU_ASSERT_STRING_EQUAL(rs.rules[1].msg, "continued");
		CU_ASSERT_EQUAL(rs.rules[1].opts[0].u.c.len, 16);
		snprintf(o, sizeof(o), "%s:8", path);
		CU_ASSERT_STRING_EQUAL(rs.rules[1].origin, o);
		CU_ASSERT_EQUAL(rs.rules[2].sid, 6);
		CU_ASSERT_EQUAL(rs.rules[2].rev, 3);
		CU_ASSERT_EQUAL(rs.rules[2].ot.dnp3_func, 13);
	}
	/* a second file appends; diag may be NULL */
	CU_ASSERT_EQUAL(ots_rules_load_file(&rs, path, &vars, NULL, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(rs.files, 2);
	CU_ASSERT_EQUAL(rs.n, 6);
	CU_ASSERT_EQUAL(rs.skipped_syntax, 6);
	CU_ASSERT_EQUAL(rs.skipped_unsupported, 4);
	CU_ASSERT_EQUAL(rs.lines, 16);
	ots_ruleset_free(&rs);
	CU_ASSERT_EQUAL(rs.n, 0);
	CU_ASSERT_PTR_NULL(rs.rules);
	unlink(path);

	/* an unreadable file is the only error */
	ots_ruleset_init(&rs);
	CU_ASSERT_EQUAL(ots_rules_load_file(&rs, "/nonexistent/x.rules", &vars, on_diag, &d, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.rules"));
	CU_ASSERT_EQUAL(rs.files, 0);
	ots_ruleset_free(&rs);
}

/* many rules: the array grows, every rule keeps its own pcre */
static void test_load_many(void)
{
	char path[] = "/tmp/ots_rules_XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	FILE *f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	for (int i = 1; i <= 300; i++)
		fprintf(f, "alert tcp any any -> any any (msg:\"r%d\"; content:\"k%d\"; pcre:\"/k%d$/\"; sid:%d;)\n", i, i,
			i, i);
	fclose(f);
	struct ots_ruleset rs;
	ots_ruleset_init(&rs);
	char err[128];
	CU_ASSERT_EQUAL(ots_rules_load_file(&rs, path, &vars, NULL, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(rs.n, 300);
	CU_ASSERT(rs.cap >= 300);
	CU_ASSERT_EQUAL(rs.rules[299].sid, 300);
	CU_ASSERT_STRING_EQUAL(rs.rules[299].msg, "r300");
	CU_ASSERT_PTR_NOT_NULL(rs.rules[299].opts[1].u.re.code);
	CU_ASSERT_PTR_NOT_EQUAL(rs.rules[299].opts[1].u.re.code, rs.rules[298].opts[1].u.re.code);
	ots_ruleset_free(&rs);
	unlink(path);
}

static int cleanup(void)
{
	ots_rule_free(&R);
	return 0;
}

static const struct ots_test header_tests[] = {
	{ "header_basic", test_header_basic },
	{ "actions", test_actions },
	{ "protocols", test_protocols },
	{ "addresses", test_addresses },
	{ "ports", test_ports },
	{ "variables", test_variables },
	{ "direction_and_shape", test_direction_and_shape },
	{ NULL, NULL },
};

static const struct ots_test option_tests[] = {
	{ "meta_options", test_meta_options },
	{ "classtype_priority", test_classtype_priority },
	{ "content", test_content },
	{ "content_modifiers", test_content_modifiers },
	{ "fast_pattern", test_fast_pattern },
	{ "pcre", test_pcre },
	{ "flow", test_flow },
	{ "dsize", test_dsize },
	{ "byte_test", test_byte_test },
	{ "byte_test_more", test_byte_test_more },
	{ "byte_jump_isdataat", test_byte_jump_isdataat },
	{ "threshold", test_threshold },
	{ "modbus_keyword", test_modbus_keyword },
	{ "dnp3_keywords", test_dnp3_keywords },
	{ "enip_keywords", test_enip_keywords },
	{ "unsupported", test_unsupported },
	{ NULL, NULL },
};

static const struct ots_test file_tests[] = {
	{ "load_file", test_load_file },
	{ "load_many", test_load_many },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "rule_header", header_tests, NULL, cleanup },
	{ "rule_options", option_tests, NULL, cleanup },
	{ "rule_files", file_tests, NULL, cleanup },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_rules", suites);
}
