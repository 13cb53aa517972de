/* tests/test_detect.c - detection as the worker drives it: rules from a file -> Hyperscan -> verification ->
 * threshold / detection_filter -> aggregation -> alert records; the OT engine on parsed PDUs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/detect.h"
#include "harness.h"
#include "protocols/registry.h"

#define S 1000000000ull

struct sink {
	unsigned n;
	struct ots_rec_alert a[256];
};

static void sink_emit(void *ud, const struct ots_rec_alert *a)
{
	struct sink *s = ud;
	if (s->n < 256)
		s->a[s->n++] = *a;
}

static char rule_path[64];

static struct ots_detect *build(const char *text, uint32_t window, int ot_engine)
{
	snprintf(rule_path, sizeof(rule_path), "/tmp/ots-test-detect-%d.rules", (int)getpid());
	FILE *f = fopen(rule_path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	const char *files[] = { rule_path };
	struct ots_rule_var v[] = { { "HOME_NET", "[10.0.0.0/8]" }, { "EXTERNAL_NET", "!$HOME_NET" } };
	struct ots_detect_cfg c = {
		.sensor_id = "test", .rule_files = files, .nrule_files = 1, .vars = { 2, v }, .cache_dir = "",
		.alert_window_s = window, .agg_capacity = 256, .threshold_capacity = 256, .ot_engine = ot_engine,
	};
	struct ots_detect *d = NULL;
	char err[256];
	int r = ots_detect_build(&c, &d, NULL, NULL, err, sizeof(err));
	unlink(rule_path);
	if (r < 0) {
		fprintf(stderr, "build: %s\n", err);
		return NULL;
	}
	return d;
}

static struct ots_det_flow flow(uint8_t client_last, uint8_t server_last, uint16_t app)
{
	struct ots_det_flow f;
	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.l4 = OTS_RL4_TCP;
	f.ip_proto = 6;
	f.established = 1;
	f.app = app;
	f.cip[0] = 10, f.cip[3] = client_last;
	f.sip[0] = 10, f.sip[3] = server_last;
	f.cport = 40000;
	f.sport = 502;
	return f;
}

static const uint8_t wr[] = "\x00\x01\x00\x00\x00\x06\x01\x06\x00\x10\xde\xad"; /* Modbus write single register */

static unsigned feed(struct ots_detect *d, struct sink *s, const struct ots_det_flow *f, int n, uint64_t t0,
		     uint64_t step)
{
	struct ots_detect_worker w;
	CU_ASSERT_FATAL(ots_detect_worker_init(&w, d, sink_emit, s) == 0);
	for (int i = 0; i < n; i++)
		ots_detect_payload(&w, f, 1, wr, sizeof(wr) - 1, 0, t0 + (uint64_t)i * step);
	ots_detect_flush(&w);
	unsigned m = (unsigned)w.st.sig_matches;
	ots_detect_worker_fini(&w);
	return m;
}

static void test_fields(void)
{
	struct ots_detect *d = build("alert tcp any any -> $HOME_NET 502 (msg:\"modbus write register\"; "
				     "flow:to_server,established; content:\"|01 06|\"; offset:6; depth:2; "
				     "priority:1; classtype:attempted-admin; reference:url,example.org/x; "
				     "metadata: mitre_technique T0836, mitre_technique T0855; sid:42; rev:3;)\n",
				     0, 0);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_EQUAL(d->rs.n, 1);
	struct sink s = { 0 };
	struct ots_det_flow f = flow(1, 2, OTS_APP_MODBUS);
	CU_ASSERT_EQUAL(feed(d, &s, &f, 1, 5 * S, 0), 1);
	CU_ASSERT_EQUAL_FATAL(s.n, 1);
	const struct ots_rec_alert *a = &s.a[0];
	CU_ASSERT_EQUAL(a->engine, OTS_ENGINE_SIGNATURE);
	CU_ASSERT_EQUAL(a->sid, 42);
	CU_ASSERT_EQUAL(a->rev, 3);
	CU_ASSERT_EQUAL(a->gid, 1);
	CU_ASSERT_STRING_EQUAL(a->title, "modbus write register");
	CU_ASSERT_STRING_EQUAL(a->category, "attempted-admin");
	CU_ASSERT_EQUAL(a->severity, OTS_SEV_HIGH);
	CU_ASSERT_EQUAL(a->nmitre, 2);
	CU_ASSERT_STRING_EQUAL(a->mitre[0], "T0836");
	CU_ASSERT_STRING_EQUAL(a->mitre[1], "T0855");
	CU_ASSERT_EQUAL(a->time_ns, 5 * S);
	CU_ASSERT_EQUAL(a->count, 1);
	CU_ASSERT_EQUAL(a->t.src.ip[3], 1); /* client side is the source */
	CU_ASSERT_EQUAL(a->t.dst_port, 502);
	CU_ASSERT_EQUAL(a->app, OTS_APP_MODBUS);
	CU_ASSERT(strstr(a->description, "1:42:3") != NULL);
	int has_dir = 0;
	for (unsigned i = 0; i < a->nevidence; i++)
		has_dir |= !strcmp(a->evidence[i].key, "direction") && !strcmp(a->evidence[i].value, "to_server");
	CU_ASSERT(has_dir);
	/* the server outside $HOME_NET: header does not match */
	s.n = 0;
	f.sip[0] = 192;
	CU_ASSERT_EQUAL(feed(d, &s, &f, 1, 5 * S, 0), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	ots_detect_free(d);
}

static unsigned thr_alerts(const char *opt, int n)
{
	char text[512];
	snprintf(text, sizeof(text), "alert tcp any any -> any any (msg:\"t\"; content:\"|00 06|\"; %s sid:7;)\n", opt);
	struct ots_detect *d = build(text, 0, 0);
	CU_ASSERT_FATAL(d != NULL);
	struct sink s = { 0 };
	struct ots_det_flow f = flow(1, 2, OTS_APP_MODBUS);
	feed(d, &s, &f, n, 100 * S, S / 10); /* n matches, 10 per second */
	ots_detect_free(d);
	return s.n;
}

static void test_threshold_types(void)
{
	CU_ASSERT_EQUAL(thr_alerts("threshold: type limit, track by_src, count 2, seconds 60;", 10), 2);
	CU_ASSERT_EQUAL(thr_alerts("threshold: type threshold, track by_src, count 3, seconds 60;", 10), 3);
	CU_ASSERT_EQUAL(thr_alerts("threshold: type both, track by_dst, count 3, seconds 60;", 10), 1);
	CU_ASSERT_EQUAL(thr_alerts("detection_filter: track by_src, count 3, seconds 60;", 10), 7);
	CU_ASSERT_EQUAL(thr_alerts("", 10), 10);
	/* limit per window: 30 matches over 3 s with a 1 s window = 2 per window */
	CU_ASSERT_EQUAL(thr_alerts("threshold: type limit, track by_src, count 2, seconds 1;", 30), 6);
}

static void test_threshold_tracks_sources(void)
{
	struct ots_detect *d = build("alert tcp any any -> any any (msg:\"t\"; content:\"|00 06|\"; "
				     "threshold: type limit, track by_src, count 1, seconds 60; sid:8;)\n", 0, 0);
	CU_ASSERT_FATAL(d != NULL);
	struct sink s = { 0 };
	struct ots_detect_worker w;
	CU_ASSERT_FATAL(ots_detect_worker_init(&w, d, sink_emit, &s) == 0);
	for (uint8_t src = 1; src <= 3; src++) {
		struct ots_det_flow f = flow(src, 100, OTS_APP_MODBUS);
		for (int i = 0; i < 5; i++)
			ots_detect_payload(&w, &f, 1, wr, sizeof(wr) - 1, 0, S + (uint64_t)i);
	}
	CU_ASSERT_EQUAL(s.n, 3); /* one per source */
	CU_ASSERT_EQUAL(w.st.thresholded, 12);
	ots_detect_worker_fini(&w);
	ots_detect_free(d);
}

static void test_pass_rule(void)
{
	struct ots_detect *d = build("alert tcp any any -> any any (msg:\"a\"; content:\"|00 06|\"; sid:1;)\n"
				     "pass tcp 10.0.0.9 any -> any any (msg:\"trusted\"; content:\"|00 06|\"; sid:2;)\n",
				     0, 0);
	CU_ASSERT_FATAL(d != NULL);
	struct sink s = { 0 };
	struct ots_det_flow f = flow(1, 2, OTS_APP_MODBUS);
	feed(d, &s, &f, 1, S, 0);
	CU_ASSERT_EQUAL(s.n, 1);
	s.n = 0;
	f = flow(9, 2, OTS_APP_MODBUS); /* the trusted engineering station */
	feed(d, &s, &f, 1, S, 0);
	CU_ASSERT_EQUAL(s.n, 0);
	ots_detect_free(d);
}

static void test_aggregation_in_worker(void)
{
	struct ots_detect *d = build("alert tcp any any -> any any (msg:\"a\"; content:\"|00 06|\"; sid:1;)\n", 60, 0);
	CU_ASSERT_FATAL(d != NULL);
	struct sink s = { 0 };
	struct ots_det_flow f = flow(1, 2, OTS_APP_MODBUS);
	feed(d, &s, &f, 50, 10 * S, S / 10); /* a polling HMI: 50 writes in 5 s */
	CU_ASSERT_EQUAL_FATAL(s.n, 2);         /* the first at once, the rest at flush */
	CU_ASSERT_EQUAL(s.a[0].count, 1);
	CU_ASSERT_EQUAL(s.a[1].count, 49);
	CU_ASSERT_STRING_EQUAL(s.a[0].id, s.a[1].id);
	CU_ASSERT_EQUAL(s.a[1].time_ns, 10 * S + 49 * (S / 10));
	ots_detect_free(d);
}

static unsigned flow_builds;
static const struct ots_det_flow *given_flow(void *ud)
{
	flow_builds++;
	return ud;
}

static void test_ot_engine_pdu(void)
{
	struct ots_detect *d = build("# no rules\n", 0, 1);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_PTR_NULL(d->db);
	struct sink s = { 0 };
	struct ots_detect_worker w;
	CU_ASSERT_FATAL(ots_detect_worker_init(&w, d, sink_emit, &s) == 0);
	struct ots_det_flow f = flow(1, 2, OTS_APP_S7COMM);
	f.sport = 102;
	struct ots_pdu stop = { .proto = OTS_APP_S7COMM, .dir = OTS_DIR_TO_SERVER, .kind = OTS_PDU_REQUEST,
				.code = 0x29, .flags = OTS_PDUF_CONTROL, .name = "PLC Stop" };
	struct ots_pdu read = { .proto = OTS_APP_S7COMM, .dir = OTS_DIR_TO_SERVER, .kind = OTS_PDU_REQUEST,
				.code = 0x04, .flags = OTS_PDUF_READ, .name = "Read Var" };
	struct ots_pdu ack = stop;
	ack.dir = OTS_DIR_TO_CLIENT;
	ack.kind = OTS_PDU_RESPONSE;
	flow_builds = 0;
	ots_detect_pdu(&w, given_flow, &f, &read, NULL, 0, S);
	ots_detect_pdu(&w, given_flow, &f, &ack, NULL, 0, S);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(flow_builds, 0); /* nothing could be raised: the flow view was not built */
	ots_detect_pdu(&w, given_flow, &f, &stop, NULL, 0, 2 * S);
	CU_ASSERT_EQUAL_FATAL(s.n, 1);
	CU_ASSERT_EQUAL(s.a[0].engine, OTS_ENGINE_OT);
	CU_ASSERT_STRING_EQUAL(s.a[0].category, "ot-plc-stop");
	CU_ASSERT(s.a[0].severity >= OTS_SEV_HIGH);
	CU_ASSERT(s.a[0].nmitre >= 1);
	CU_ASSERT(s.a[0].nevidence >= 1);
	CU_ASSERT_EQUAL(s.a[0].app, OTS_APP_S7COMM);
	CU_ASSERT_EQUAL(strlen(s.a[0].id), 32);
	ots_detect_worker_fini(&w);
	ots_detect_free(d);
	/* engine off: nothing */
	d = build("# no rules\n", 0, 0);
	CU_ASSERT_FATAL(d != NULL);
	s.n = 0;
	CU_ASSERT_FATAL(ots_detect_worker_init(&w, d, sink_emit, &s) == 0);
	ots_detect_pdu(&w, given_flow, &f, &stop, NULL, 0, 2 * S);
	CU_ASSERT_EQUAL(s.n, 0);
	ots_detect_worker_fini(&w);
	ots_detect_free(d);
}

static void test_stream_context(void)
{
	struct ots_detect *d = build("alert tcp any any -> any any (msg:\"s\"; content:\"mining.subscribe\"; sid:5;)\n",
				     0, 0);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_EQUAL(ots_detect_overlap(d), 15);
	struct sink s = { 0 };
	struct ots_detect_worker w;
	CU_ASSERT_FATAL(ots_detect_worker_init(&w, d, sink_emit, &s) == 0);
	struct ots_det_flow f = flow(1, 2, 0);
	f.sport = 3333;
	const char *buf = "ing.subscr{\"id\":1,\"method\":\"mining.subscribe\"}"; /* tail + new segment */
	/* 11 bytes of carried context "ing.subscr" + '{' ... : the full pattern lies in the new bytes */
	ots_detect_payload(&w, &f, 1, (const uint8_t *)buf, (uint32_t)strlen(buf), 10, S);
	CU_ASSERT_EQUAL(s.n, 1);
	const char *split = "{\"method\":\"mining.subscribe\"}";
	/* the context ends inside the pattern: "mining.sub" was carried, "scribe\"}" is new */
	uint32_t off = (uint32_t)(strstr(split, "scribe") - split);
	ots_detect_payload(&w, &f, 1, (const uint8_t *)split, (uint32_t)strlen(split), off, 2 * S);
	CU_ASSERT_EQUAL(s.n, 2);
	/* already seen entirely in the carried bytes: not again */
	off = (uint32_t)strlen(split) - 2;
	ots_detect_payload(&w, &f, 1, (const uint8_t *)split, (uint32_t)strlen(split), off, 3 * S);
	CU_ASSERT_EQUAL(s.n, 2);
	ots_detect_worker_fini(&w);
	ots_detect_free(d);
}

/* rules with OT keywords: those pinned to the PDU's function code and the unpinned ones fire, the others not;
 * a pass rule pinned to a code suppresses only that code */
static void hit_sids(void *ud, const struct ots_rule *r)
{
	uint32_t *mask = ud;
	*mask |= 1u << (r->sid - 10);
}

static void test_pdu_rules_by_code(void)
{
	struct ots_detect *d = build(
		"alert modbus any any -> any any (msg:\"fc5\"; modbus: function 5; sid:10;)\n"
		"alert modbus any any -> any any (msg:\"fc6\"; modbus: function 6; sid:11;)\n"
		"alert modbus any any -> any any (msg:\"write\"; modbus: access write; sid:12;)\n"
		"alert modbus any any -> any any (msg:\"fc16\"; modbus: function 16; sid:13;)\n"
		"alert modbus any any -> any any (msg:\"not 3\"; modbus: function !3; sid:14;)\n"
		"pass modbus 10.0.0.9 any -> any any (msg:\"trusted fc6\"; modbus: function 6; sid:15;)\n",
		0, 0);
	CU_ASSERT_FATAL(d != NULL && d->db != NULL);
	struct ots_sigscan *sc = NULL;
	CU_ASSERT_FATAL(ots_sigscan_create(d->db, &sc) == 0);
	struct ots_det_flow f = flow(1, 2, OTS_APP_MODBUS);
	uint8_t sip[16] = { 10, 0, 0, 1 }, dip[16] = { 10, 0, 0, 2 };
	struct ots_sig_pkt p;
	memset(&p, 0, sizeof(p));
	p.l4 = OTS_RL4_TCP;
	p.app = OTS_APP_MODBUS;
	p.family = 4;
	p.sip = sip;
	p.dip = dip;
	p.sport = 40000;
	p.dport = 502;
	p.in.to_server = 1;
	p.in.established = 1;
	struct ots_pdu pdu = { .proto = OTS_APP_MODBUS, .dir = OTS_DIR_TO_SERVER, .kind = OTS_PDU_REQUEST, .unit = 1,
			       .flags = OTS_PDUF_WRITE };
	const struct { uint32_t code, want; } cases[] = {
		{ 5, 1u << 0 | 1u << 2 | 1u << 4 }, { 6, 1u << 1 | 1u << 2 | 1u << 4 },
		{ 16, 1u << 2 | 1u << 3 | 1u << 4 }, { 3, 0 }, { 15, 1u << 2 | 1u << 4 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t mask = 0;
		pdu.code = cases[i].code;
		pdu.flags = cases[i].code == 3 ? OTS_PDUF_READ : OTS_PDUF_WRITE;
		p.in.pdu = &pdu;
		ots_sigdb_pdu(d->db, sc, &p, hit_sids, &mask);
		CU_ASSERT_EQUAL(mask, cases[i].want);
	}
	sip[3] = 9; /* the trusted host: fc 6 passes, fc 5 still alerts */
	uint32_t mask = 0;
	pdu.code = 6;
	ots_sigdb_pdu(d->db, sc, &p, hit_sids, &mask);
	CU_ASSERT_EQUAL(mask, 0);
	pdu.code = 5;
	ots_sigdb_pdu(d->db, sc, &p, hit_sids, &mask);
	CU_ASSERT_EQUAL(mask, 1u << 0 | 1u << 2 | 1u << 4);
	(void)f;
	ots_sigscan_free(sc);
	ots_detect_free(d);
}

/* rules whose contents are all shorter than 3 bytes skip Hyperscan; their exact-position contents are checked
 * first (UMAS "stop PLC": MBAP protocol 0, function 90, UMAS function 0x41) */
static void test_short_anchored_contents(void)
{
	struct ots_detect *d = build("alert tcp any any -> any 502 (msg:\"umas stop\"; flow:to_server; "
				     "content:\"|00 00|\"; offset:2; depth:2; content:\"|5a|\"; offset:7; depth:1; "
				     "content:\"|41|\"; offset:9; depth:1; sid:30;)\n", 0, 0);
	CU_ASSERT_FATAL(d != NULL && d->db != NULL);
	CU_ASSERT_EQUAL(d->rep.rules_no_fp, 1);
	CU_ASSERT_EQUAL(d->rep.patterns, 0);
	struct sink s = { 0 };
	struct ots_detect_worker w;
	CU_ASSERT_FATAL(ots_detect_worker_init(&w, d, sink_emit, &s) == 0);
	struct ots_det_flow f = flow(1, 2, OTS_APP_MODBUS);
	const uint8_t stop[] = { 0x00, 0x07, 0x00, 0x00, 0x00, 0x04, 0x01, 0x5a, 0x00, 0x41 };
	const uint8_t start[] = { 0x00, 0x07, 0x00, 0x00, 0x00, 0x04, 0x01, 0x5a, 0x00, 0x40 };
	const uint8_t read[] = { 0x00, 0x07, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x41, 0x00, 0x01 };
	ots_detect_payload(&w, &f, 1, start, sizeof(start), 0, S);
	ots_detect_payload(&w, &f, 1, read, sizeof(read), 0, S);
	ots_detect_payload(&w, &f, 1, stop, 9, 0, S); /* truncated before the UMAS function */
	CU_ASSERT_EQUAL(s.n, 0);
	ots_detect_payload(&w, &f, 1, stop, sizeof(stop), 0, S);
	CU_ASSERT_EQUAL(s.n, 1);
	/* the same frame after 5 bytes of carried stream context: positions count from the new bytes */
	uint8_t ctx[5 + sizeof(stop)] = { 0x41, 0x41, 0x5a, 0x00, 0x00 };
	memcpy(ctx + 5, stop, sizeof(stop));
	ots_detect_payload(&w, &f, 1, ctx, sizeof(ctx), 5, 2 * S);
	CU_ASSERT_EQUAL(s.n, 2);
	ots_detect_payload(&w, &f, 1, ctx, sizeof(ctx), 4, 3 * S); /* shifted by one: no */
	CU_ASSERT_EQUAL(s.n, 2);
	ots_detect_worker_fini(&w);
	ots_detect_free(d);
}

static int init(void)
{
	ots_registry_init();
	return 0;
}

static const struct ots_test tests[] = {
	{ "signature alert fields", test_fields },
	{ "threshold / detection_filter types", test_threshold_types },
	{ "threshold tracks sources", test_threshold_tracks_sources },
	{ "pass rule suppresses", test_pass_rule },
	{ "aggregation in the worker", test_aggregation_in_worker },
	{ "OT engine on PDUs", test_ot_engine_pdu },
	{ "stream context", test_stream_context },
	{ "PDU rules indexed by code", test_pdu_rules_by_code },
	{ "short anchored contents", test_short_anchored_contents },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "detect", tests, init, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_detect", suites);
}
