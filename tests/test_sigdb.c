/* tests/test_sigdb.c - signature databases: prefilter + verification, groups by transport/app, stream context
 * across TCP segments, pass rules, rules without content, PDU rules, the serialized cache, a large ruleset. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/rule.h"
#include "detect/sigdb.h"
#include "protocols/registry.h"
#include "tests/harness.h"

/* ---- fixtures ---- */

static const struct ots_rule_vars novars = { 0, NULL };

/* a ruleset from rule text (one rule per line) through ots_rules_load_file on a temp file */
static int load_rules(struct ots_ruleset *rs, const char *text)
{
	char path[] = "/tmp/otsense-sigdb-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	int ok = write(fd, text, n) == (ssize_t)n;
	close(fd);
	char err[256] = "";
	ots_ruleset_init(rs);
	int rc = ok ? ots_rules_load_file(rs, path, &novars, NULL, NULL, err, sizeof(err)) : -EIO;
	unlink(path);
	if (rc < 0)
		fprintf(stderr, "load: %s\n", err);
	return rc;
}

struct env {
	struct ots_ruleset rs;
	struct ots_sigdb *db;
	struct ots_sigscan *scan;
	struct ots_sigdb_report rep;
	char err[256];
};

static int env_open(struct env *e, const char *rules, const char *cache_dir)
{
	memset(e, 0, sizeof(*e));
	int rc = load_rules(&e->rs, rules);
	if (rc < 0)
		return rc;
	struct ots_sigdb_opts o = { cache_dir };
	rc = ots_sigdb_build(&e->rs, &o, &e->db, &e->rep, e->err, sizeof(e->err));
	if (rc < 0) {
		fprintf(stderr, "build: %s\n", e->err);
		return rc;
	}
	return ots_sigscan_create(e->db, &e->scan);
}

static void env_close(struct env *e)
{
	ots_sigscan_free(e->scan);
	ots_sigdb_free(e->db);
	ots_ruleset_free(&e->rs);
}

struct hits {
	int n;
	uint32_t sid[64];
};

static void on_hit(void *ud, const struct ots_rule *r)
{
	struct hits *h = ud;
	if (h->n < 64)
		h->sid[h->n] = r->sid;
	h->n++;
}

static int has(const struct hits *h, uint32_t sid)
{
	for (int i = 0; i < h->n && i < 64; i++)
		if (h->sid[i] == sid)
			return 1;
	return 0;
}

static const uint8_t ip_a[16] = { 10, 0, 0, 1 }, ip_b[16] = { 10, 0, 0, 2 };

static struct ots_sig_pkt pkt(uint8_t l4, uint16_t app, uint16_t sport, uint16_t dport, const void *buf,
			      uint32_t len, uint32_t pkt_off)
{
	struct ots_sig_pkt p;
	memset(&p, 0, sizeof(p));
	p.l4 = l4;
	p.app = app;
	p.family = 4;
	p.sip = ip_a;
	p.dip = ip_b;
	p.sport = sport;
	p.dport = dport;
	p.in.buf = buf;
	p.in.len = len;
	p.in.pkt_off = pkt_off;
	p.in.dsize = len - pkt_off;
	p.in.to_server = 1;
	p.in.established = 1;
	return p;
}

/* scan one payload, return hits (and the return value must equal the hit count) */
static struct hits scan(struct env *e, uint8_t l4, uint16_t app, uint16_t sport, uint16_t dport, const char *s)
{
	struct hits h;
	memset(&h, 0, sizeof(h));
	struct ots_sig_pkt p = pkt(l4, app, sport, dport, s, (uint32_t)strlen(s), 0);
	int n = ots_sigdb_scan(e->db, e->scan, &p, on_hit, &h);
	CU_ASSERT_EQUAL(n, h.n);
	return h;
}

#define TCP OTS_RL4_TCP
#define UDP OTS_RL4_UDP

/* ---- tests ---- */

static void test_match_nomatch(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e, "alert tcp any any -> any any (msg:\"evil\"; content:\"EVIL\"; sid:1;)\n",
				 NULL) == 0);
	CU_ASSERT_EQUAL(e.rep.rules, 1);
	CU_ASSERT_EQUAL(e.rep.patterns, 1);
	CU_ASSERT_EQUAL(e.rep.rules_no_fp, 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 0);
	CU_ASSERT_EQUAL(ots_sigdb_overlap(e.db), 3);
	struct hits h = scan(&e, TCP, 0, 40000, 80, "xxEVILxx");
	CU_ASSERT_EQUAL(h.n, 1);
	CU_ASSERT(has(&h, 1));
	CU_ASSERT_EQUAL(scan(&e, TCP, 0, 40000, 80, "nothing to see here").n, 0);
	CU_ASSERT_EQUAL(scan(&e, TCP, 0, 40000, 80, "evil").n, 0);
	CU_ASSERT_EQUAL(scan(&e, TCP, 0, 40000, 80, "EVI").n, 0);
	/* several occurrences: reported once */
	CU_ASSERT_EQUAL(scan(&e, TCP, 0, 40000, 80, "EVIL EVIL EVIL").n, 1);
	env_close(&e);
}

static void test_nocase_and_shared(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert tcp any any -> any any (msg:\"nc\"; content:\"attack\"; nocase; sid:1;)\n"
				 "alert tcp any any -> any any (msg:\"cs\"; content:\"Attack\"; sid:2;)\n"
				 "alert tcp any any -> any any (msg:\"nc2\"; content:\"ATTACK\"; nocase; sid:3;)\n",
				 NULL) == 0);
	CU_ASSERT_EQUAL(e.rep.rules, 3);
	CU_ASSERT_EQUAL(e.rep.patterns, 2); /* the two nocase "attack" share one id */
	struct hits h = scan(&e, TCP, 0, 1, 2, "an ATTACK!");
	CU_ASSERT_EQUAL(h.n, 2);
	CU_ASSERT(has(&h, 1) && has(&h, 3) && !has(&h, 2));
	h = scan(&e, TCP, 0, 1, 2, "an Attack!");
	CU_ASSERT_EQUAL(h.n, 3);
	h = scan(&e, TCP, 0, 1, 2, "aTtAcK");
	CU_ASSERT_EQUAL(h.n, 2);
	CU_ASSERT(!has(&h, 2));
	env_close(&e);
}

static void test_grouping_port(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e, "alert tcp any any -> any 502 (msg:\"mb\"; content:\"MB\"; sid:3;)\n", NULL) ==
			0);
	CU_ASSERT_EQUAL(e.rep.groups, 1);
	CU_ASSERT(ots_sigdb_wants(e.db, TCP, OTS_APP_MODBUS));
	CU_ASSERT(!ots_sigdb_wants(e.db, TCP, OTS_APP_UNKNOWN));
	CU_ASSERT(!ots_sigdb_wants(e.db, UDP, OTS_APP_UNKNOWN));
	CU_ASSERT(!ots_sigdb_wants(e.db, TCP, OTS_APP_DNP3));
	CU_ASSERT_EQUAL(scan(&e, TCP, OTS_APP_MODBUS, 40000, 502, "..MB..").n, 1);
	CU_ASSERT_EQUAL(scan(&e, UDP, OTS_APP_UNKNOWN, 40000, 502, "..MB..").n, 0);
	CU_ASSERT_EQUAL(scan(&e, TCP, OTS_APP_UNKNOWN, 40000, 1234, "..MB..").n, 0);
	/* the group, not only the header, keeps it off other protocols' packets */
	CU_ASSERT_EQUAL(scan(&e, TCP, OTS_APP_DNP3, 40000, 502, "..MB..").n, 0);
	env_close(&e);

	/* an unregistered port: the unknown-app group of its transport */
	CU_ASSERT_FATAL(env_open(&e, "alert udp any any -> any 31337 (msg:\"x\"; content:\"XX\"; sid:4;)\n", NULL) ==
			0);
	CU_ASSERT(ots_sigdb_wants(e.db, UDP, OTS_APP_UNKNOWN));
	CU_ASSERT(!ots_sigdb_wants(e.db, TCP, OTS_APP_UNKNOWN));
	CU_ASSERT_EQUAL(scan(&e, UDP, 0, 5, 31337, "XX").n, 1);
	env_close(&e);

	/* an app rule: the groups of that app (dnp3: tcp and udp) */
	CU_ASSERT_FATAL(env_open(&e, "alert dnp3 any any -> any any (msg:\"d\"; content:\"DD\"; sid:5;)\n", NULL) ==
			0);
	CU_ASSERT(ots_sigdb_wants(e.db, TCP, OTS_APP_DNP3));
	CU_ASSERT(ots_sigdb_wants(e.db, UDP, OTS_APP_DNP3));
	CU_ASSERT(!ots_sigdb_wants(e.db, TCP, OTS_APP_MODBUS));
	CU_ASSERT_EQUAL(scan(&e, UDP, OTS_APP_DNP3, 5, 20000, "DD").n, 1);
	CU_ASSERT_EQUAL(scan(&e, TCP, OTS_APP_MODBUS, 5, 20000, "DD").n, 0);
	env_close(&e);
}

static void test_any_port_every_group(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert tcp any any -> any any (msg:\"t\"; content:\"TCPX\"; sid:1;)\n"
				 "alert tcp any any -> any !80 (msg:\"n\"; content:\"NEGX\"; sid:2;)\n"
				 "alert tcp any any -> any 1024: (msg:\"w\"; content:\"WIDE\"; sid:3;)\n",
				 NULL) == 0);
	/* identical rule lists share one database: one per transport, not one per app */
	CU_ASSERT_EQUAL(e.rep.databases, 1);
	CU_ASSERT_EQUAL(e.rep.groups, OTS_APP_MAX);
	for (uint16_t app = 0; app < OTS_APP_MAX; app++) {
		struct hits h = scan(&e, TCP, app, 40000, 2000, "TCPX NEGX WIDE");
		CU_ASSERT_EQUAL(h.n, 3);
	}
	CU_ASSERT_EQUAL(scan(&e, UDP, 0, 40000, 2000, "TCPX NEGX WIDE").n, 0);
	CU_ASSERT_EQUAL(scan(&e, OTS_RL4_ICMP, 0, 0, 0, "TCPX NEGX WIDE").n, 0);
	env_close(&e);
}

static void test_ip_rule_everywhere(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert ip any any -> any any (msg:\"ip\"; content:\"IPANY\"; sid:1;)\n"
				 "alert icmp any any -> any any (msg:\"icmp\"; content:\"PING\"; sid:2;)\n",
				 NULL) == 0);
	CU_ASSERT_EQUAL(scan(&e, UDP, 0, 1, 2, "..IPANY..").n, 1);
	CU_ASSERT_EQUAL(scan(&e, UDP, OTS_APP_BACNET, 1, 47808, "..IPANY..").n, 1);
	CU_ASSERT_EQUAL(scan(&e, TCP, OTS_APP_S7COMM, 1, 102, "..IPANY..").n, 1);
	CU_ASSERT_EQUAL(scan(&e, OTS_RL4_ICMP, 0, 0, 0, "..IPANY..").n, 1);
	CU_ASSERT_EQUAL(scan(&e, OTS_RL4_IP, 0, 0, 0, "..IPANY..").n, 1);
	/* icmp only on icmp */
	CU_ASSERT_EQUAL(scan(&e, OTS_RL4_ICMP, 0, 0, 0, "PING").n, 1);
	CU_ASSERT_EQUAL(scan(&e, OTS_RL4_IP, 0, 0, 0, "PING").n, 0);
	CU_ASSERT_EQUAL(scan(&e, UDP, 0, 1, 2, "PING").n, 0);
	env_close(&e);
}

static int scan_seg(struct env *e, const char *tail, const char *seg, struct hits *h)
{
	char buf[512];
	size_t tl = strlen(tail), sl = strlen(seg);
	memcpy(buf, tail, tl);
	memcpy(buf + tl, seg, sl);
	memset(h, 0, sizeof(*h));
	struct ots_sig_pkt p = pkt(TCP, 0, 40000, 80, buf, (uint32_t)(tl + sl), (uint32_t)tl);
	int n = ots_sigdb_scan(e->db, e->scan, &p, on_hit, h);
	CU_ASSERT_EQUAL(n, h->n);
	return n;
}

static void test_split_segments(void)
{
	struct env e;
	struct hits h;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert tcp any any -> any any (msg:\"s\"; content:\"SPLITME\"; sid:1;)\n"
				 "alert tcp any any -> any any (msg:\"a\"; content:\"ABC\"; sid:2;)\n",
				 NULL) == 0);
	uint32_t ov = ots_sigdb_overlap(e.db);
	CU_ASSERT_EQUAL(ov, 6);
	/* segment 1 "hello SPL", segment 2 "ITME world": the caller carries the last ov bytes of segment 1 */
	const char *seg1 = "hello SPL";
	CU_ASSERT_EQUAL(scan_seg(&e, "", seg1, &h), 0);
	char tail[16];
	snprintf(tail, sizeof(tail), "%s", seg1 + strlen(seg1) - ov);
	CU_ASSERT_EQUAL(scan_seg(&e, tail, "ITME world", &h), 1);
	CU_ASSERT(has(&h, 1));
	/* every split point of the pattern */
	for (int cut = 1; cut < 7; cut++) {
		char s1[32], s2[32];
		snprintf(s1, sizeof(s1), "zzzzzzzz%.*s", cut, "SPLITME");
		snprintf(s2, sizeof(s2), "%szzzz", "SPLITME" + cut);
		CU_ASSERT_EQUAL(scan_seg(&e, "", s1, &h), 0);
		CU_ASSERT_EQUAL(scan_seg(&e, s1 + strlen(s1) - ov, s2, &h), 1);
	}
	/* wholly inside the carried bytes: inspected with the previous packet, not reported again */
	CU_ASSERT_EQUAL(scan_seg(&e, "xSPLITMEx", "nothing", &h), 0);
	CU_ASSERT_EQUAL(scan_seg(&e, "xxABCx", "yyyy", &h), 0);
	/* in the tail and again in the new bytes: the new occurrence counts (once) */
	CU_ASSERT_EQUAL(scan_seg(&e, "xxABCx", "yABCyABC", &h), 1);
	CU_ASSERT(has(&h, 2));
	CU_ASSERT_EQUAL(scan_seg(&e, "xSPLITMEx", "..SPLITME", &h), 1);
	CU_ASSERT(has(&h, 1));
	/* empty new payload: nothing new to inspect */
	CU_ASSERT_EQUAL(scan_seg(&e, "xxABCx", "", &h), 0);
	env_close(&e);
}

static void test_pass_suppresses(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert tcp any any -> any any (msg:\"bad\"; content:\"BAD\"; sid:11;)\n"
				 "alert tcp any any -> any any (msg:\"worse\"; content:\"WORSE\"; sid:12;)\n"
				 "pass tcp any any -> any any (msg:\"ok\"; content:\"TRUSTED\"; sid:10;)\n",
				 NULL) == 0);
	struct hits h = scan(&e, TCP, 0, 1, 2, "BAD and WORSE");
	CU_ASSERT_EQUAL(h.n, 2);
	h = scan(&e, TCP, 0, 1, 2, "BAD and WORSE from TRUSTED");
	CU_ASSERT_EQUAL(h.n, 0);
	h = scan(&e, TCP, 0, 1, 2, "TRUSTED only");
	CU_ASSERT_EQUAL(h.n, 0);
	env_close(&e);

	/* a pass rule limited to one host pair does not suppress others */
	CU_ASSERT_FATAL(env_open(&e,
				 "pass tcp 192.168.9.9 any -> any any (msg:\"ok\"; content:\"BAD\"; sid:20;)\n"
				 "alert tcp any any -> any any (msg:\"bad\"; content:\"BAD\"; sid:21;)\n",
				 NULL) == 0);
	h = scan(&e, TCP, 0, 1, 2, "BAD");
	CU_ASSERT_EQUAL(h.n, 1);
	CU_ASSERT(has(&h, 21));
	env_close(&e);
}

static void test_no_content_rules(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert udp any any -> any any (msg:\"big\"; dsize:>100; sid:20;)\n"
				 "alert udp any any -> any any (msg:\"c\"; content:\"CC\"; sid:21;)\n",
				 NULL) == 0);
	CU_ASSERT_EQUAL(e.rep.rules_no_fp, 2); /* "CC" is too short to prefilter: verified on every packet */
	char big[201];
	memset(big, 'a', 200);
	big[200] = 0;
	struct hits h = scan(&e, UDP, 0, 1, 2, big);
	CU_ASSERT_EQUAL(h.n, 1);
	CU_ASSERT(has(&h, 20));
	big[50] = 0;
	CU_ASSERT_EQUAL(scan(&e, UDP, 0, 1, 2, big).n, 0);
	memcpy(big + 10, "CC", 2);
	big[50] = 'a';
	h = scan(&e, UDP, 0, 1, 2, big);
	CU_ASSERT_EQUAL(h.n, 2);
	env_close(&e);
}

static void test_pdu_rules(void)
{
	struct env e;
	CU_ASSERT_FATAL(env_open(&e,
				 "alert modbus any any -> any any (msg:\"write coil\"; modbus: function 5; sid:30;)\n"
				 "alert tcp any any -> any 502 (msg:\"w\"; modbus: function 5; content:\"|00|\"; sid:31;)\n"
				 "alert tcp any any -> any 502 (msg:\"raw\"; content:\"|05|\"; sid:32;)\n",
				 NULL) == 0);
	CU_ASSERT_EQUAL(e.rep.rules_pdu, 2);
	CU_ASSERT_EQUAL(e.rep.rules, 3);
	CU_ASSERT(ots_sigdb_wants_pdu(e.db, OTS_APP_MODBUS));
	CU_ASSERT(!ots_sigdb_wants_pdu(e.db, OTS_APP_DNP3));
	/* Modbus/TCP write single coil request: MBAP + fc 5, address 1, value 0xFF00 */
	static const uint8_t req[] = { 0, 1, 0, 0, 0, 6, 1, 5, 0, 1, 0xff, 0 };
	struct ots_pdu pdu;
	memset(&pdu, 0, sizeof(pdu));
	pdu.proto = OTS_APP_MODBUS;
	pdu.dir = OTS_DIR_TO_SERVER;
	pdu.kind = OTS_PDU_REQUEST;
	pdu.code = 5;
	pdu.unit = 1;
	pdu.address = 1;
	pdu.quantity = 1;
	pdu.flags = OTS_PDUF_WRITE;
	struct hits h;
	memset(&h, 0, sizeof(h));
	struct ots_sig_pkt p = pkt(TCP, OTS_APP_MODBUS, 40000, 502, req, sizeof(req), 0);
	p.in.pdu = &pdu;
	int n = ots_sigdb_pdu(e.db, e.scan, &p, on_hit, &h);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(has(&h, 30) && has(&h, 31) && !has(&h, 32));
	/* another function: no */
	pdu.code = 3;
	pdu.flags = OTS_PDUF_READ;
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(ots_sigdb_pdu(e.db, e.scan, &p, on_hit, &h), 0);
	/* PDU rules are not packet rules: the raw packet only fires the content rule */
	memset(&h, 0, sizeof(h));
	p.in.pdu = NULL;
	n = ots_sigdb_scan(e.db, e.scan, &p, on_hit, &h);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(has(&h, 32));
	env_close(&e);

	/* the rule's transport still counts: dnp3 runs over tcp and udp */
	CU_ASSERT_FATAL(env_open(&e,
				 "alert udp any any -> any any (msg:\"u\"; dnp3_func:2; sid:40;)\n"
				 "alert dnp3 any any -> any any (msg:\"d\"; dnp3_func:2; sid:41;)\n",
				 NULL) == 0);
	CU_ASSERT(ots_sigdb_wants_pdu(e.db, OTS_APP_DNP3));
	memset(&pdu, 0, sizeof(pdu));
	pdu.proto = OTS_APP_DNP3;
	pdu.dir = OTS_DIR_TO_SERVER;
	pdu.kind = OTS_PDU_REQUEST;
	pdu.code = 2;
	p = pkt(UDP, OTS_APP_DNP3, 40000, 20000, req, sizeof(req), 0);
	p.in.pdu = &pdu;
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(ots_sigdb_pdu(e.db, e.scan, &p, on_hit, &h), 2);
	p.l4 = TCP;
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(ots_sigdb_pdu(e.db, e.scan, &p, on_hit, &h), 1);
	CU_ASSERT(has(&h, 41));
	pdu.code = 1;
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(ots_sigdb_pdu(e.db, e.scan, &p, on_hit, &h), 0);
	env_close(&e);
}

/* ---- cache ---- */

static const char cache_rules[] =
	"alert tcp any any -> any any (msg:\"a\"; content:\"alpha\"; sid:1;)\n"
	"alert tcp any any -> any 502 (msg:\"b\"; content:\"BRAVO\"; nocase; sid:2;)\n"
	"alert udp any any -> any any (msg:\"c\"; content:\"charlie\"; sid:3;)\n"
	"alert ip any any -> any any (msg:\"d\"; content:\"delta\"; sid:4;)\n"
	"alert udp any any -> any any (msg:\"e\"; dsize:>1000; sid:5;)\n";

static const char *const cache_payloads[] = { "alpha", "bravo", "xxBRAVOxx", "charlie", "delta", "alpha delta",
					      "nothing", "charlie delta bravo alpha" };

/* a signature of the results over payloads x groups */
static uint64_t results(struct env *e)
{
	uint64_t sig = 0;
	const uint8_t l4s[] = { TCP, UDP, OTS_RL4_ICMP };
	const uint16_t apps[] = { 0, OTS_APP_MODBUS, OTS_APP_DNP3 };
	for (size_t i = 0; i < sizeof(cache_payloads) / sizeof(cache_payloads[0]); i++)
		for (int l = 0; l < 3; l++)
			for (int a = 0; a < 3; a++) {
				struct hits h = scan(e, l4s[l], apps[a], 40000, apps[a] == OTS_APP_MODBUS ? 502 : 20000,
						     cache_payloads[i]);
				for (int k = 0; k < h.n; k++)
					sig = sig * 31 + h.sid[k] + 1000 * i + 100 * l + 10 * a;
				sig = sig * 7 + (uint64_t)h.n;
			}
	return sig;
}

static void test_cache(void)
{
	char base[] = "/tmp/otsense-sigcache-XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(base) != NULL);
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/a/b", base); /* created as needed */

	struct env e;
	CU_ASSERT_FATAL(env_open(&e, cache_rules, dir) == 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 0);
	CU_ASSERT_STRING_EQUAL(e.rep.warning, "");
	CU_ASSERT(strstr(e.rep.cache_path, "/otsense-") != NULL);
	CU_ASSERT(strstr(e.rep.cache_path, ".hsdb") != NULL);
	CU_ASSERT(access(e.rep.cache_path, R_OK) == 0);
	uint64_t r1 = results(&e);
	CU_ASSERT(r1 != 0);
	char path[512];
	snprintf(path, sizeof(path), "%s", e.rep.cache_path);
	uint32_t pats = e.rep.patterns;
	uint64_t bytes = e.rep.db_bytes;
	env_close(&e);

	/* again: from the cache, same results */
	CU_ASSERT_FATAL(env_open(&e, cache_rules, dir) == 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 1);
	CU_ASSERT_STRING_EQUAL(e.rep.warning, "");
	CU_ASSERT_STRING_EQUAL(e.rep.cache_path, path);
	CU_ASSERT_EQUAL(e.rep.patterns, pats);
	CU_ASSERT_EQUAL(e.rep.db_bytes, bytes);
	CU_ASSERT_EQUAL(results(&e), r1);
	env_close(&e);

	/* another ruleset: another file */
	struct env e2;
	CU_ASSERT_FATAL(env_open(&e2, "alert tcp any any -> any any (msg:\"z\"; content:\"zulu\"; sid:9;)\n", dir) ==
			0);
	CU_ASSERT_EQUAL(e2.rep.cache_hit, 0);
	CU_ASSERT(strcmp(e2.rep.cache_path, path) != 0);
	env_close(&e2);

	/* corrupt one byte in the middle: recompiled with a warning, same results, file rewritten */
	int fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	struct stat st;
	CU_ASSERT_FATAL(fstat(fd, &st) == 0);
	uint8_t b;
	off_t mid = st.st_size / 2;
	CU_ASSERT(pread(fd, &b, 1, mid) == 1);
	b ^= 0x5a;
	CU_ASSERT(pwrite(fd, &b, 1, mid) == 1);
	close(fd);
	CU_ASSERT_FATAL(env_open(&e, cache_rules, dir) == 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 0);
	CU_ASSERT(e.rep.warning[0] != 0);
	CU_ASSERT_EQUAL(results(&e), r1);
	env_close(&e);
	CU_ASSERT_FATAL(env_open(&e, cache_rules, dir) == 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 1);
	CU_ASSERT_STRING_EQUAL(e.rep.warning, "");
	env_close(&e);

	/* truncated file: same */
	CU_ASSERT(truncate(path, 20) == 0);
	CU_ASSERT_FATAL(env_open(&e, cache_rules, dir) == 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 0);
	CU_ASSERT(e.rep.warning[0] != 0);
	CU_ASSERT_EQUAL(results(&e), r1);
	env_close(&e);

	/* a cache that cannot be written: a warning, not an error */
	char blocked[160];
	snprintf(blocked, sizeof(blocked), "%s/file", base);
	FILE *f = fopen(blocked, "w");
	CU_ASSERT_FATAL(f != NULL);
	fclose(f);
	char under[200];
	snprintf(under, sizeof(under), "%s/sub", blocked); /* a directory under a regular file */
	CU_ASSERT_FATAL(env_open(&e, cache_rules, under) == 0);
	CU_ASSERT_EQUAL(e.rep.cache_hit, 0);
	CU_ASSERT(e.rep.warning[0] != 0);
	CU_ASSERT_EQUAL(results(&e), r1);
	env_close(&e);

	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	CU_ASSERT(system(cmd) == 0);
}

/* ---- many rules ---- */

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void test_thousand_rules(void)
{
	size_t cap = 1000 * 160;
	char *text = malloc(cap), pats[1000][16];
	CU_ASSERT_FATAL(text != NULL);
	size_t len = 0;
	for (int i = 0; i < 1000; i++) {
		int n = 8 + (int)(rnd() % 5);
		for (int k = 0; k < n; k++)
			pats[i][k] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd() % 36];
		pats[i][n] = 0;
		const char *proto = i % 3 == 0 ? "tcp" : i % 3 == 1 ? "udp" : "ip";
		const char *port = i % 5 == 0 && i % 3 != 2 ? "502" : "any";
		len += (size_t)snprintf(text + len, cap - len,
					"alert %s any any -> any %s (msg:\"gen %d\"; content:\"%s\";%s sid:%d;)\n", proto,
					port, i, pats[i], i % 4 == 0 ? " nocase;" : "", 100000 + i);
	}
	struct env e;
	CU_ASSERT_FATAL(env_open(&e, text, NULL) == 0);
	free(text);
	CU_ASSERT_EQUAL(e.rep.rules, 1000);
	CU_ASSERT(e.rep.patterns >= 1000);
	CU_ASSERT(e.rep.compile_ms > 0);
	CU_ASSERT(e.rep.db_bytes > 0);
	/* benign traffic: nothing */
	static const char *const benign[] = {
		"GET /index.html HTTP/1.1\r\nHost: plc.local\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
		"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0a",
		"The quick brown fox jumps over the lazy dog 0123456789",
	};
	int total = 0;
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++) {
		uint32_t l = i == 2 ? 12 : (uint32_t)strlen(benign[i]);
		const uint8_t l4s[] = { TCP, UDP, OTS_RL4_IP };
		for (int k = 0; k < 3; k++) {
			struct hits h;
			memset(&h, 0, sizeof(h));
			struct ots_sig_pkt p = pkt(l4s[k], k == 0 ? OTS_APP_MODBUS : 0, 40000, 502, benign[i], l, 0);
			total += ots_sigdb_scan(e.db, e.scan, &p, on_hit, &h);
		}
	}
	CU_ASSERT_EQUAL(total, 0);
	/* and each generated rule fires on its pattern, in its group */
	int bad = 0;
	for (int i = 0; i < 1000; i++) {
		char pl[64];
		snprintf(pl, sizeof(pl), "--%.15s--", pats[i]);
		uint8_t l4 = i % 3 == 1 ? UDP : TCP;
		uint16_t app = i % 5 == 0 && i % 3 == 0 ? OTS_APP_MODBUS : 0;
		struct hits h = scan(&e, l4, app, 40000, 502, pl);
		if (!has(&h, 100000 + (uint32_t)i))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	env_close(&e);
}

static const struct ots_test tests[] = {
	{ "match / no match", test_match_nomatch },
	{ "nocase, shared patterns", test_nocase_and_shared },
	{ "groups by port and app", test_grouping_port },
	{ "any port: every tcp group", test_any_port_every_group },
	{ "ip rule everywhere, icmp on icmp", test_ip_rule_everywhere },
	{ "pattern split across segments", test_split_segments },
	{ "pass rules suppress", test_pass_suppresses },
	{ "rules without content", test_no_content_rules },
	{ "PDU rules", test_pdu_rules },
	{ "cache", test_cache },
	{ "1000 rules", test_thousand_rules },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "sigdb", tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_sigdb", suites);
}
