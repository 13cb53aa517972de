/* tests/test_encode.c - unit tests for export/encode.c: every record type fully populated and minimal, checked
 * through an independent decoder (protoc --decode against export/proto) and a JSON parser (python3); protobuf ->
 * JSON equals direct JSON byte for byte; every too-small buffer size; invalid UTF-8 repair; header peek; Kafka
 * keys; address formatting; truncated, bit-flipped, random and hostile protobuf input; the direct protobuf writer
 * (ots_encode_pb) against protobuf-c (ots_encode_pb_ref): the same bytes on random and random-byte records.
 */
#include "export/encode.h"
#include "export/proto/envelope.pb-c.h"
#include "protocols/registry.h"
#include "tests/harness.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif
/* the schema the bytes are decoded against: <repo>/export/proto (OTS_TEST_DATA is <repo>/tests/data) */
#ifndef OTS_PROTO_DIR
#define OTS_PROTO_DIR OTS_TEST_DATA "/../../export/proto"
#endif

#define BIG 65536

static const struct ots_envelope_meta META = { "plant1-span-a", 0x0123456789abcdefULL, 42,
					       1700000000123456789ULL };

/* ---- helpers -------------------------------------------------------------------------------------------- */

static bool has(const char *text, const char *needle)
{
	if (text && strstr(text, needle))
		return true;
	fprintf(stderr, "\n  missing: [%s]\n  in: [%s]\n", needle, text ? text : "(null)");
	return false;
}

static bool same(const char *got, const char *want)
{
	if (got && !strcmp(got, want))
		return true;
	fprintf(stderr, "\n  got:  [%s]\n  want: [%s]\n", got ? got : "(null)", want);
	return false;
}

static int write_tmp(char *path, size_t cap, const void *data, size_t len)
{
	snprintf(path, cap, "/tmp/ots_test_encode_XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* run cmd (a shell command line), collect stdout+stderr into out; returns the exit status or -1 */
static int run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* protoc's text rendering of pb as an otsense.v1.Envelope; NULL (and the reason printed) when protoc fails */
static char *protoc_decode(const uint8_t *pb, size_t len)
{
	static char out[BIG];
	char path[64], cmd[1024];
	if (write_tmp(path, sizeof(path), pb, len) < 0)
		return NULL;
	snprintf(cmd, sizeof(cmd),
		 "protoc --decode=otsense.v1.Envelope --proto_path='%s' otsense/v1/envelope.proto < '%s' 2>&1",
		 OTS_PROTO_DIR, path);
	int st = run(cmd, out, sizeof(out));
	unlink(path);
	if (st != 0) {
		fprintf(stderr, "\n  protoc --decode failed (%d): %s\n", st, out);
		return NULL;
	}
	return out;
}

/* parse json with python3's json module and evaluate a Python expression over it (as d); true when it holds */
static bool json_check(const char *json, const char *expr)
{
	char jpath[64], spath[64], script[2048], cmd[512], out[4096];
	if (write_tmp(jpath, sizeof(jpath), json, strlen(json)) < 0)
		return false;
	int n = snprintf(script, sizeof(script),
			 "import json, sys\n"
			 "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "ok = bool(%s)\n"
			 "print('' if ok else 'expression false: ' + sys.argv[2])\n"
			 "sys.exit(0 if ok else 3)\n",
			 expr);
	if (n < 0 || (size_t)n >= sizeof(script) || write_tmp(spath, sizeof(spath), script, (size_t)n) < 0) {
		unlink(jpath);
		return false;
	}
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' 'check' 2>&1", spath, jpath);
	int st = run(cmd, out, sizeof(out));
	unlink(jpath);
	unlink(spath);
	if (st != 0)
		fprintf(stderr, "\n  json check failed: %s\n  %s\n  json: %s\n", expr, out, json);
	return st == 0;
}

static void set_ip4(struct ots_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->ip[0] = b0;
	a->ip[1] = b1;
	a->ip[2] = b2;
	a->ip[3] = b3;
}

/* "2001:db8::<last>" */
static void set_ip6(struct ots_addr *a, uint16_t first, uint16_t last)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	a->ip[0] = (uint8_t)(first >> 8);
	a->ip[1] = (uint8_t)first;
	if (first == 0x2001) {
		a->ip[2] = 0x0d;
		a->ip[3] = 0xb8;
	}
	a->ip[14] = (uint8_t)(last >> 8);
	a->ip[15] = (uint8_t)last;
}

static void set_mac(uint8_t m[6], uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e, uint8_t f)
{
	m[0] = a, m[1] = b, m[2] = c, m[3] = d, m[4] = e, m[5] = f;
}

/* ---- fully populated records ----------------------------------------------------------------------------- */

static void fill_flow(struct ots_rec_flow *r)
{
	memset(r, 0, sizeof(*r));
	set_ip4(&r->t.src, 10, 0, 0, 1);
	set_ip4(&r->t.dst, 10, 0, 0, 2);
	r->t.src_port = 50123;
	r->t.dst_port = 502;
	r->t.proto = 6;
	r->t.vlan[0] = 100;
	r->t.vlan[1] = 200;
	set_mac(r->src_mac, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55);
	set_mac(r->dst_mac, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff);
	r->start_ns = 1700000000000000001ULL;
	r->end_ns = 1700000060000000002ULL;
	r->pkts_to_server = 10;
	r->pkts_to_client = 9;
	r->bytes_to_server = UINT64_MAX;
	r->bytes_to_client = 1234;
	r->flow_hash = 0x00c0ffee12345678ULL;
	r->app = OTS_APP_MODBUS;
	r->tcp_flags_to_server = 0x1b;
	r->tcp_flags_to_client = 0x12;
	r->end_reason = OTS_FLOW_END_CLOSED;
	r->tcp_state = 4; /* OTS_TCP_CLOSED */
	r->events = OTS_FLOWEV_MIDSTREAM | OTS_FLOWEV_GAP | OTS_FLOWEV_MALFORMED;
	r->gap_bytes = 4096;
	r->worker = 3;
}

#define TITLE "S7comm PLC STOP \xe2\x80\x94 \xc3\x9c" "berwachung \xe5\x81\x9c\xe6\xad\xa2"
#define TITLE_OCTAL "S7comm PLC STOP \\342\\200\\224 \\303\\234berwachung \\345\\201\\234\\346\\255\\242"

static void fill_alert(struct ots_rec_alert *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "a1b2c3d4e5f60718293a4b5c6d7e8f90");
	r->time_ns = 1700000100000000000ULL;
	r->first_ns = 1700000000000000000ULL;
	r->count = 7;
	r->engine = OTS_ENGINE_OT;
	r->severity = OTS_SEV_CRITICAL;
	r->app = OTS_APP_S7COMM;
	snprintf(r->category, sizeof(r->category), "ot-plc-stop");
	snprintf(r->title, sizeof(r->title), "%s", TITLE);
	snprintf(r->description, sizeof(r->description), "He said \"stop\"\n\tnow \\ done");
	snprintf(r->mitre[0], sizeof(r->mitre[0]), "T0881");
	snprintf(r->mitre[1], sizeof(r->mitre[1]), "T0816");
	snprintf(r->mitre[2], sizeof(r->mitre[2]), "T0858");
	r->nmitre = 3;
	r->sid = 2000001;
	r->rev = 3;
	r->gid = 1;
	set_ip6(&r->t.src, 0x2001, 0x10);
	set_ip6(&r->t.dst, 0x2001, 0x1);
	r->t.src_port = 49152;
	r->t.dst_port = 102;
	r->t.proto = 6;
	r->t.vlan[0] = 4094;
	set_mac(r->src_asset.mac, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
	r->src_asset.has_mac = 1;
	set_ip6(&r->src_asset.ip, 0x2001, 0x10);
	set_ip6(&r->dst_asset.ip, 0x2001, 0x1);
	static const char *ev[6][2] = { { "function", "0x29 PLC STOP" }, { "pdu_ref", "1234" },
					{ "src_role", "it_host" }, { "station", "Pump \xc3\xa9tage 3" },
					{ "rack_slot", "0/2" }, { "note", "" } };
	for (int i = 0; i < 6; i++) {
		snprintf(r->evidence[i].key, sizeof(r->evidence[i].key), "%s", ev[i][0]);
		snprintf(r->evidence[i].value, sizeof(r->evidence[i].value), "%s", ev[i][1]);
	}
	r->nevidence = 6;
}

static void add_attr(struct ots_rec_asset *r, uint8_t kind, uint8_t conf, uint16_t src, uint64_t t, const char *v)
{
	struct ots_attr *a = &r->attrs[r->nattrs++];
	a->kind = kind;
	a->confidence = conf;
	a->source = src;
	a->time_ns = t;
	snprintf(a->value, sizeof(a->value), "%s", v);
}

static void fill_asset(struct ots_rec_asset *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "mac:001122334455");
	set_mac(r->key.mac, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55);
	r->key.has_mac = 1;
	set_ip4(&r->key.ip, 192, 168, 1, 10);
	set_ip4(&r->ips[0], 192, 168, 1, 10);
	set_ip4(&r->ips[1], 10, 1, 1, 1);
	set_ip6(&r->ips[2], 0xfe80, 1);
	r->nips = 4; /* ips[3] has family 0: skipped */
	r->role = OTS_ROLE_PLC;
	r->role_confidence = 80;
	uint64_t t = 1700000000000000000ULL;
	add_attr(r, OTS_ATTR_NAME, 90, OTS_APP_S7COMM, t + 1, "PLC-Line1");
	add_attr(r, OTS_ATTR_VENDOR, 60, OTS_APP_SNMP, t + 2, "Siemens");
	add_attr(r, OTS_ATTR_VENDOR, 100, OTS_APP_S7COMM, t + 3, "Siemens AG");
	add_attr(r, OTS_ATTR_MODEL, 100, OTS_APP_S7COMM, t + 4, "CPU 315-2 PN/DP");
	add_attr(r, OTS_ATTR_FIRMWARE, 100, OTS_APP_S7COMM, t + 5, "V3.2.6");
	add_attr(r, OTS_ATTR_SERIAL, 100, OTS_APP_S7COMM, t + 6, "S C-X4U421302009");
	add_attr(r, OTS_ATTR_PRODUCT_CODE, 100, OTS_APP_S7COMM, t + 7, "6ES7 315-2EH14-0AB0");
	add_attr(r, OTS_ATTR_NAME, 70, OTS_APP_PROFINET_CM, t + 8, "Pumpe \xc3\x9f" "3");
	add_attr(r, OTS_ATTR_DEVICE_TYPE, 50, OTS_APP_S7COMM, t + 9, "Programmable Logic Controller");
	add_attr(r, OTS_ATTR_OS, 40, OTS_APP_SNMP, t + 10, "VxWorks");
	r->protocols_served = (1ull << OTS_APP_MODBUS) | (1ull << OTS_APP_S7COMM);
	r->protocols_used = (1ull << OTS_APP_DNS) | (1ull << OTS_APP_NTP);
	r->first_ns = t;
	r->last_ns = t + 3600000000000ULL;
}

static void fill_health(struct ots_rec_health *r)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = 1700000000500000000ULL;
	r->uptime_s = 3600.5;
	r->packets = 123456789;
	r->bytes = 98765432100ULL;
	r->drops = 11;
	r->port_imissed = 12;
	r->port_ierrors = 13;
	r->port_nombuf = 14;
	r->mempool_in_use = 2048;
	r->mempool_size = 65535;
	r->export_queue_depth = 15;
	r->export_sent = 1000000;
	r->export_failed = 16;
	r->export_dropped_ring = 17;
	r->spool_bytes = 1 << 20;
	r->spool_records = 18;
	r->parse_errors[OTS_APP_MODBUS] = 5;
	r->parse_errors[OTS_APP_DNP3] = 2;
	snprintf(r->sink_state, sizeof(r->sink_state), "kafka: broker unreachable since 12:00:03");
	r->nworkers = 2;
	r->w[0] = (struct ots_health_worker){ 0, 1234.5, 1e9, 1000, 1, 50, 1048576, 2, 3 };
	r->w[1] = (struct ots_health_worker){ 1, 0.25, 2048, 2000, 4, 60, 1048576, 5, 6 };
}

/* every record type, full and minimal (all zero) */
struct rec_case {
	const char *name;
	int type;
	const void *rec;
};

static struct ots_rec_flow g_flow, g_flow0;
static struct ots_rec_alert g_alert, g_alert0;
static struct ots_rec_asset g_asset, g_asset0;
static struct ots_rec_health g_health, g_health0;

static const struct rec_case *cases(void)
{
	static const struct rec_case c[] = {
		{ "flow", OTS_REC_flow, &g_flow },        { "flow0", OTS_REC_flow, &g_flow0 },
		{ "alert", OTS_REC_alert, &g_alert },     { "alert0", OTS_REC_alert, &g_alert0 },
		{ "asset", OTS_REC_asset, &g_asset },     { "asset0", OTS_REC_asset, &g_asset0 },
		{ "health", OTS_REC_health, &g_health },  { "health0", OTS_REC_health, &g_health0 },
		{ NULL, 0, NULL },
	};
	fill_flow(&g_flow);
	fill_alert(&g_alert);
	fill_asset(&g_asset);
	fill_health(&g_health);
	memset(&g_flow0, 0, sizeof(g_flow0));
	memset(&g_alert0, 0, sizeof(g_alert0));
	memset(&g_asset0, 0, sizeof(g_asset0));
	memset(&g_health0, 0, sizeof(g_health0));
	return c;
}

static uint8_t pb[BIG];
static char js[BIG], js2[BIG];

static int enc_pb(int type, const void *rec)
{
	return ots_encode_pb(&META, type, rec, pb, sizeof(pb));
}

static int enc_json(int type, const void *rec)
{
	return ots_encode_json(&META, type, rec, js, sizeof(js));
}

/* ---- protobuf through protoc ----------------------------------------------------------------------------- */

static const char *ENVELOPE_TEXT = "schema_version: 1\n"
				   "sensor_id: \"plant1-span-a\"\n"
				   "boot_id: 81985529216486895\n"
				   "sequence: 42\n"
				   "time_unix_nano: 1700000000123456789\n";

static void test_flow_protoc(void)
{
	fill_flow(&g_flow);
	int n = enc_pb(OTS_REC_flow, &g_flow);
	CU_ASSERT_FATAL(n > 0);
	char *t = protoc_decode(pb, (size_t)n);
	CU_ASSERT_FATAL(t != NULL);
	char want[4096];
	snprintf(want, sizeof(want),
		 "%sflow {\n"
		 "  tuple {\n"
		 "    src_ip: \"10.0.0.1\"\n"
		 "    dst_ip: \"10.0.0.2\"\n"
		 "    src_port: 50123\n"
		 "    dst_port: 502\n"
		 "    ip_proto: 6\n"
		 "    vlan_outer: 100\n"
		 "    vlan_inner: 200\n"
		 "  }\n"
		 "  src_mac: \"00:11:22:33:44:55\"\n"
		 "  dst_mac: \"aa:bb:cc:dd:ee:ff\"\n"
		 "  app_protocol: \"modbus\"\n"
		 "  start_time_unix_nano: 1700000000000000001\n"
		 "  end_time_unix_nano: 1700000060000000002\n"
		 "  packets_to_server: 10\n"
		 "  packets_to_client: 9\n"
		 "  bytes_to_server: 18446744073709551615\n"
		 "  bytes_to_client: 1234\n"
		 "  tcp_flags_to_server: 27\n"
		 "  tcp_flags_to_client: 18\n"
		 "  tcp_state: TCP_STATE_CLOSED\n"
		 "  end_reason: FLOW_END_REASON_CLOSED\n"
		 "  events: FLOW_EVENT_MIDSTREAM\n"
		 "  events: FLOW_EVENT_GAP\n"
		 "  events: FLOW_EVENT_MALFORMED\n"
		 "  gap_bytes: 4096\n"
		 "  flow_hash: %" PRIu64 "\n"
		 "  worker: 3\n"
		 "}\n",
		 ENVELOPE_TEXT, (uint64_t)0x00c0ffee12345678ULL);
	CU_ASSERT(same(t, want));
}

static void test_flow_v6_protoc(void)
{
	struct ots_rec_flow r;
	memset(&r, 0, sizeof(r));
	set_ip6(&r.t.src, 0x2001, 0x1);
	set_ip6(&r.t.dst, 0xfe80, 0xabcd);
	r.t.proto = 58;
	r.app = OTS_APP_UNKNOWN;
	r.end_reason = OTS_FLOW_END_EVICTED;
	r.tcp_state = 0;
	int n = enc_pb(OTS_REC_flow, &r);
	CU_ASSERT_FATAL(n > 0);
	char *t = protoc_decode(pb, (size_t)n);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(has(t, "flow {\n  tuple {\n    src_ip: \"2001:db8::1\"\n    dst_ip: \"fe80::abcd\"\n"
			 "    ip_proto: 58\n  }\n  app_protocol: \"unknown\"\n"
			 "  end_reason: FLOW_END_REASON_EVICTED\n}\n"));
	CU_ASSERT(strstr(t, "src_mac") == NULL);
	CU_ASSERT(strstr(t, "tcp_state") == NULL);
	CU_ASSERT(strstr(t, "events") == NULL);
}

static void test_alert_protoc(void)
{
	fill_alert(&g_alert);
	int n = enc_pb(OTS_REC_alert, &g_alert);
	CU_ASSERT_FATAL(n > 0);
	char *t = protoc_decode(pb, (size_t)n);
	CU_ASSERT_FATAL(t != NULL);
	char want[4096];
	snprintf(want, sizeof(want),
		 "%salert {\n"
		 "  id: \"a1b2c3d4e5f60718293a4b5c6d7e8f90\"\n"
		 "  time_unix_nano: 1700000100000000000\n"
		 "  first_time_unix_nano: 1700000000000000000\n"
		 "  count: 7\n"
		 "  engine: DETECTION_ENGINE_OT\n"
		 "  category: \"ot-plc-stop\"\n"
		 "  severity: SEVERITY_CRITICAL\n"
		 "  title: \"" TITLE_OCTAL "\"\n"
		 "  description: \"He said \\\"stop\\\"\\n\\tnow \\\\ done\"\n"
		 "  mitre_techniques: \"T0881\"\n"
		 "  mitre_techniques: \"T0816\"\n"
		 "  mitre_techniques: \"T0858\"\n"
		 "  rule {\n"
		 "    gid: 1\n"
		 "    sid: 2000001\n"
		 "    rev: 3\n"
		 "  }\n"
		 "  tuple {\n"
		 "    src_ip: \"2001:db8::10\"\n"
		 "    dst_ip: \"2001:db8::1\"\n"
		 "    src_port: 49152\n"
		 "    dst_port: 102\n"
		 "    ip_proto: 6\n"
		 "    vlan_outer: 4094\n"
		 "  }\n"
		 "  src_asset {\n"
		 "    mac: \"02:00:00:00:00:01\"\n"
		 "    ip: \"2001:db8::10\"\n"
		 "  }\n"
		 "  dst_asset {\n"
		 "    ip: \"2001:db8::1\"\n"
		 "  }\n"
		 "  protocol: \"s7comm\"\n"
		 "  evidence {\n    key: \"function\"\n    value: \"0x29 PLC STOP\"\n  }\n"
		 "  evidence {\n    key: \"pdu_ref\"\n    value: \"1234\"\n  }\n"
		 "  evidence {\n    key: \"src_role\"\n    value: \"it_host\"\n  }\n"
		 "  evidence {\n    key: \"station\"\n    value: \"Pump \\303\\251tage 3\"\n  }\n"
		 "  evidence {\n    key: \"rack_slot\"\n    value: \"0/2\"\n  }\n"
		 "  evidence {\n    key: \"note\"\n  }\n"
		 "}\n",
		 ENVELOPE_TEXT);
	CU_ASSERT(same(t, want));
}

static void test_asset_protoc(void)
{
	fill_asset(&g_asset);
	int n = enc_pb(OTS_REC_asset, &g_asset);
	CU_ASSERT_FATAL(n > 0);
	char *t = protoc_decode(pb, (size_t)n);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(has(t, ENVELOPE_TEXT));
	CU_ASSERT(has(t, "asset {\n"
			 "  id: \"mac:001122334455\"\n"
			 "  key {\n    mac: \"00:11:22:33:44:55\"\n    ip: \"192.168.1.10\"\n  }\n"
			 "  ips: \"192.168.1.10\"\n"
			 "  ips: \"10.1.1.1\"\n"
			 "  ips: \"fe80::1\"\n"
			 "  role: ASSET_ROLE_PLC\n"
			 "  role_confidence: 80\n"
			 "  names {\n    value: \"PLC-Line1\"\n    source_protocol: \"s7comm\"\n    confidence: 90\n"
			 "    time_unix_nano: 1700000000000000001\n  }\n"
			 "  names {\n    value: \"Pumpe \\303\\2373\"\n    source_protocol: \"profinet_cm\"\n"
			 "    confidence: 70\n    time_unix_nano: 1700000000000000008\n  }\n"
			 "  vendor {\n    value: \"Siemens AG\"\n    source_protocol: \"s7comm\"\n    confidence: 100\n"
			 "    time_unix_nano: 1700000000000000003\n  }\n"
			 "  model {\n    value: \"CPU 315-2 PN/DP\"\n"));
	CU_ASSERT(has(t, "  firmware {\n    value: \"V3.2.6\"\n"));
	CU_ASSERT(has(t, "  serial_number {\n    value: \"S C-X4U421302009\"\n"));
	CU_ASSERT(has(t, "  product_code {\n    value: \"6ES7 315-2EH14-0AB0\"\n"));
	CU_ASSERT(has(t, "  device_type {\n    value: \"Programmable Logic Controller\"\n"));
	CU_ASSERT(has(t, "  os {\n    value: \"VxWorks\"\n    source_protocol: \"snmp\"\n    confidence: 40\n"));
	CU_ASSERT(has(t, "  protocols_served: \"modbus\"\n"
			 "  protocols_served: \"s7comm\"\n"
			 "  protocols_used: \"dns\"\n"
			 "  protocols_used: \"ntp\"\n"
			 "  first_seen_unix_nano: 1700000000000000000\n"
			 "  last_seen_unix_nano: 1700003600000000000\n"
			 "}\n"));
	CU_ASSERT(strstr(t, "\"Siemens\"") == NULL); /* the lower-confidence vendor lost */
	CU_ASSERT(strstr(t, "hostname") == NULL);
	CU_ASSERT(strstr(t, "description") == NULL);
}

static void test_health_protoc(void)
{
	fill_health(&g_health);
	int n = enc_pb(OTS_REC_health, &g_health);
	CU_ASSERT_FATAL(n > 0);
	char *t = protoc_decode(pb, (size_t)n);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(has(t, ENVELOPE_TEXT));
	CU_ASSERT(has(t, "health {\n"
			 "  time_unix_nano: 1700000000500000000\n"
			 "  uptime_seconds: 3600.5\n"
			 "  packets: 123456789\n"
			 "  bytes: 98765432100\n"
			 "  drops: 11\n"
			 "  port_imissed: 12\n"
			 "  port_ierrors: 13\n"
			 "  port_nombuf: 14\n"
			 "  mempool_in_use: 2048\n"
			 "  mempool_size: 65535\n"
			 "  export_queue_depth: 15\n"
			 "  export_sent: 1000000\n"
			 "  export_failed: 16\n"
			 "  export_ring_drops: 17\n"
			 "  spool_bytes: 1048576\n"
			 "  spool_records: 18\n"
			 "  sink_state: \"kafka: broker unreachable since 12:00:03\"\n"
			 "  parse_errors {\n    protocol: \"modbus\"\n    count: 5\n  }\n"
			 "  parse_errors {\n    protocol: \"dnp3\"\n    count: 2\n  }\n"
			 "  workers {\n"
			 "    packets_per_second: 1234.5\n"
			 "    bits_per_second: 1000000000\n"
			 "    packets: 1000\n"
			 "    drops: 1\n"
			 "    flows_active: 50\n"
			 "    flow_capacity: 1048576\n"
			 "    flows_evicted: 2\n"
			 "    records_dropped: 3\n"
			 "  }\n"
			 "  workers {\n"
			 "    id: 1\n"
			 "    packets_per_second: 0.25\n"
			 "    bits_per_second: 2048\n"
			 "    packets: 2000\n"
			 "    drops: 4\n"
			 "    flows_active: 60\n"
			 "    flow_capacity: 1048576\n"
			 "    flows_evicted: 5\n"
			 "    records_dropped: 6\n"
			 "  }\n"
			 "}\n"));
}

static void test_minimal_protoc(void)
{
	static const struct {
		int type;
		const char *text;
	} want[] = {
		{ OTS_REC_flow, "flow {\n  tuple {\n  }\n  app_protocol: \"unknown\"\n"
				"  end_reason: FLOW_END_REASON_TIMEOUT\n}\n" },
		{ OTS_REC_alert, "alert {\n  engine: DETECTION_ENGINE_SIGNATURE\n  severity: SEVERITY_INFO\n"
				 "  protocol: \"unknown\"\n}\n" },
		{ OTS_REC_asset, "asset {\n}\n" },
		{ OTS_REC_health, "health {\n}\n" },
	};
	static union {
		struct ots_rec_flow f;
		struct ots_rec_alert a;
		struct ots_rec_asset s;
		struct ots_rec_health h;
	} zero;
	struct ots_envelope_meta m0 = { NULL, 0, 0, 0 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int n = ots_encode_pb(&m0, want[i].type, &zero, pb, sizeof(pb));
		CU_ASSERT_FATAL(n > 0);
		char *t = protoc_decode(pb, (size_t)n);
		CU_ASSERT_FATAL(t != NULL);
		char w[512];
		snprintf(w, sizeof(w), "schema_version: 1\n%s", want[i].text);
		CU_ASSERT(same(t, w));
	}
}

/* ---- JSON ------------------------------------------------------------------------------------------------ */

#define JSON_HEAD                                                                                                \
	"\"schemaVersion\":1,\"sensorId\":\"plant1-span-a\",\"bootId\":81985529216486895,\"sequence\":42,"        \
	"\"timeUnixNano\":1700000000123456789,"

static void test_flow_json(void)
{
	fill_flow(&g_flow);
	int n = enc_json(OTS_REC_flow, &g_flow);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL((size_t)n, strlen(js));
	char want[2048];
	snprintf(want, sizeof(want),
		 "{\"type\":\"flow\"," JSON_HEAD "\"flow\":{"
		 "\"tuple\":{\"srcIp\":\"10.0.0.1\",\"dstIp\":\"10.0.0.2\",\"srcPort\":50123,\"dstPort\":502,"
		 "\"ipProto\":6,\"vlanOuter\":100,\"vlanInner\":200},"
		 "\"srcMac\":\"00:11:22:33:44:55\",\"dstMac\":\"aa:bb:cc:dd:ee:ff\",\"appProtocol\":\"modbus\","
		 "\"startTimeUnixNano\":1700000000000000001,\"endTimeUnixNano\":1700000060000000002,"
		 "\"packetsToServer\":10,\"packetsToClient\":9,\"bytesToServer\":18446744073709551615,"
		 "\"bytesToClient\":1234,\"tcpFlagsToServer\":27,\"tcpFlagsToClient\":18,"
		 "\"tcpState\":\"TCP_STATE_CLOSED\",\"endReason\":\"FLOW_END_REASON_CLOSED\","
		 "\"events\":[\"FLOW_EVENT_MIDSTREAM\",\"FLOW_EVENT_GAP\",\"FLOW_EVENT_MALFORMED\"],"
		 "\"gapBytes\":4096,\"flowHash\":%" PRIu64 ",\"worker\":3}}",
		 (uint64_t)0x00c0ffee12345678ULL);
	CU_ASSERT(same(js, want));
	CU_ASSERT(json_check(js, "d['type'] == 'flow' and d['flow']['tuple']['vlanInner'] == 200 and "
				 "d['flow']['bytesToServer'] == 18446744073709551615 and len(d['flow']['events']) == 3"));
}

static void test_alert_json(void)
{
	fill_alert(&g_alert);
	int n = enc_json(OTS_REC_alert, &g_alert);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(has(js, "{\"type\":\"alert\"," JSON_HEAD "\"alert\":{\"id\":\"a1b2c3d4e5f60718293a4b5c6d7e8f90\","
			  "\"timeUnixNano\":1700000100000000000,\"firstTimeUnixNano\":1700000000000000000,"
			  "\"count\":7,\"engine\":\"DETECTION_ENGINE_OT\",\"category\":\"ot-plc-stop\","
			  "\"severity\":\"SEVERITY_CRITICAL\",\"title\":\"" TITLE "\","
			  "\"description\":\"He said \\\"stop\\\"\\n\\tnow \\\\ done\","
			  "\"mitreTechniques\":[\"T0881\",\"T0816\",\"T0858\"],"
			  "\"rule\":{\"gid\":1,\"sid\":2000001,\"rev\":3},"
			  "\"tuple\":{\"srcIp\":\"2001:db8::10\",\"dstIp\":\"2001:db8::1\",\"srcPort\":49152,"
			  "\"dstPort\":102,\"ipProto\":6,\"vlanOuter\":4094},"
			  "\"srcAsset\":{\"mac\":\"02:00:00:00:00:01\",\"ip\":\"2001:db8::10\"},"
			  "\"dstAsset\":{\"ip\":\"2001:db8::1\"},\"protocol\":\"s7comm\",\"evidence\":["
			  "{\"key\":\"function\",\"value\":\"0x29 PLC STOP\"},{\"key\":\"pdu_ref\",\"value\":\"1234\"},"
			  "{\"key\":\"src_role\",\"value\":\"it_host\"},"
			  "{\"key\":\"station\",\"value\":\"Pump \xc3\xa9tage 3\"},"
			  "{\"key\":\"rack_slot\",\"value\":\"0/2\"},{\"key\":\"note\"}]}}"));
	CU_ASSERT(json_check(js, "d['alert']['title'] == 'S7comm PLC STOP \\u2014 \\u00dcberwachung \\u505c\\u6b62' "
				 "and d['alert']['description'] == 'He said \"stop\"\\n\\tnow \\\\ done' "
				 "and d['alert']['evidence'][3]['value'] == 'Pump \\u00e9tage 3' "
				 "and 'value' not in d['alert']['evidence'][5] and d['alert']['rule']['sid'] == 2000001"));
}

static void test_asset_json(void)
{
	fill_asset(&g_asset);
	int n = enc_json(OTS_REC_asset, &g_asset);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(has(js, "{\"type\":\"asset\"," JSON_HEAD "\"asset\":{\"id\":\"mac:001122334455\","
			  "\"key\":{\"mac\":\"00:11:22:33:44:55\",\"ip\":\"192.168.1.10\"},"
			  "\"ips\":[\"192.168.1.10\",\"10.1.1.1\",\"fe80::1\"],\"role\":\"ASSET_ROLE_PLC\","
			  "\"roleConfidence\":80,\"names\":[{\"value\":\"PLC-Line1\",\"sourceProtocol\":\"s7comm\","
			  "\"confidence\":90,\"timeUnixNano\":1700000000000000001},"));
	CU_ASSERT(has(js, "\"vendor\":{\"value\":\"Siemens AG\",\"sourceProtocol\":\"s7comm\",\"confidence\":100,"
			  "\"timeUnixNano\":1700000000000000003},"));
	CU_ASSERT(has(js, "\"serialNumber\":{\"value\":\"S C-X4U421302009\""));
	CU_ASSERT(has(js, "\"productCode\":{\"value\":\"6ES7 315-2EH14-0AB0\""));
	CU_ASSERT(has(js, "\"deviceType\":{\"value\":\"Programmable Logic Controller\""));
	CU_ASSERT(has(js, "\"protocolsServed\":[\"modbus\",\"s7comm\"],\"protocolsUsed\":[\"dns\",\"ntp\"],"
			  "\"firstSeenUnixNano\":1700000000000000000,\"lastSeenUnixNano\":1700003600000000000}}"));
	CU_ASSERT(json_check(js, "d['asset']['names'][1]['value'] == 'Pumpe \\u00df3' and "
				 "d['asset']['model']['value'] == 'CPU 315-2 PN/DP' and "
				 "d['asset']['os']['sourceProtocol'] == 'snmp' and 'hostname' not in d['asset']"));
}

static void test_health_json(void)
{
	fill_health(&g_health);
	int n = enc_json(OTS_REC_health, &g_health);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(has(js, "{\"type\":\"health\"," JSON_HEAD "\"health\":{\"timeUnixNano\":1700000000500000000,"
			  "\"uptimeSeconds\":3600.5,\"packets\":123456789,\"bytes\":98765432100,\"drops\":11,"
			  "\"portImissed\":12,\"portIerrors\":13,\"portNombuf\":14,\"mempoolInUse\":2048,"
			  "\"mempoolSize\":65535,\"exportQueueDepth\":15,\"exportSent\":1000000,\"exportFailed\":16,"
			  "\"exportRingDrops\":17,\"spoolBytes\":1048576,\"spoolRecords\":18,"
			  "\"sinkState\":\"kafka: broker unreachable since 12:00:03\","
			  "\"parseErrors\":[{\"protocol\":\"modbus\",\"count\":5},{\"protocol\":\"dnp3\",\"count\":2}],"
			  "\"workers\":[{\"packetsPerSecond\":1234.5,\"bitsPerSecond\":1000000000,\"packets\":1000,"
			  "\"drops\":1,\"flowsActive\":50,\"flowCapacity\":1048576,\"flowsEvicted\":2,"
			  "\"recordsDropped\":3},{\"id\":1,\"packetsPerSecond\":0.25,"));
	CU_ASSERT(json_check(js, "d['health']['workers'][0]['bitsPerSecond'] == 1e9 and "
				 "d['health']['workers'][1]['recordsDropped'] == 6 and len(d['health']['parseErrors']) == 2"));
}

static void test_minimal_json(void)
{
	struct ots_envelope_meta m = { "s", 1, 1, 1 }, m0 = { NULL, 0, 0, 0 };
	static union {
		struct ots_rec_flow f;
		struct ots_rec_alert a;
		struct ots_rec_asset s;
		struct ots_rec_health h;
	} zero;
	CU_ASSERT(ots_encode_json(&m, OTS_REC_flow, &zero, js, sizeof(js)) > 0);
	CU_ASSERT(same(js, "{\"type\":\"flow\",\"schemaVersion\":1,\"sensorId\":\"s\",\"bootId\":1,\"sequence\":1,"
			   "\"timeUnixNano\":1,\"flow\":{\"tuple\":{},\"appProtocol\":\"unknown\","
			   "\"endReason\":\"FLOW_END_REASON_TIMEOUT\"}}"));
	CU_ASSERT(ots_encode_json(&m0, OTS_REC_alert, &zero, js, sizeof(js)) > 0);
	CU_ASSERT(same(js, "{\"type\":\"alert\",\"schemaVersion\":1,\"alert\":{\"engine\":\"DETECTION_ENGINE_SIGNATURE\","
			   "\"severity\":\"SEVERITY_INFO\",\"protocol\":\"unknown\"}}"));
	CU_ASSERT(ots_encode_json(&m0, OTS_REC_asset, &zero, js, sizeof(js)) > 0);
	CU_ASSERT(same(js, "{\"type\":\"asset\",\"schemaVersion\":1,\"asset\":{}}"));
	CU_ASSERT(ots_encode_json(&m0, OTS_REC_health, &zero, js, sizeof(js)) > 0);
	CU_ASSERT(same(js, "{\"type\":\"health\",\"schemaVersion\":1,\"health\":{}}"));
	CU_ASSERT(json_check(js, "d == {'type': 'health', 'schemaVersion': 1, 'health': {}}"));
}

/* every case: valid JSON (python), and protobuf -> JSON gives the same bytes as direct JSON */
static void test_pb_to_json_equals_json(void)
{
	for (const struct rec_case *c = cases(); c->name; c++) {
		int n = enc_pb(c->type, c->rec);
		int j = enc_json(c->type, c->rec);
		CU_ASSERT_FATAL(n > 0 && j > 0);
		memset(js2, 'x', sizeof(js2));
		int k = ots_pb_to_json(pb, (size_t)n, js2, sizeof(js2));
		CU_ASSERT_EQUAL(k, j);
		if (!same(js2, js))
			fprintf(stderr, "  case %s\n", c->name);
		CU_ASSERT(!strcmp(js2, js));
		char expr[64];
		snprintf(expr, sizeof(expr), "d['type'] == '%s'", ots_rec_type_names[c->type]);
		CU_ASSERT(json_check(js, expr));
	}
}

/* ---- buffer sizes --------------------------------------------------------------------------------------- */

static void test_enobufs_every_size(void)
{
	for (const struct rec_case *c = cases(); c->name; c++) {
		int n = enc_pb(c->type, c->rec);
		int j = enc_json(c->type, c->rec);
		CU_ASSERT_FATAL(n > 0 && j > 0);
		if (n <= 0 || j <= 0)
			return;
		uint8_t *ref = malloc((size_t)n);
		memcpy(ref, pb, (size_t)n);
		/* exact-size heap buffers: ASan reports any write past cap */
		for (size_t cap = 0; cap <= (size_t)n; cap++) {
			uint8_t *b = malloc(cap ? cap : 1);
			int rc = ots_encode_pb(&META, c->type, c->rec, b, cap);
			if (cap < (size_t)n) {
				CU_ASSERT_EQUAL(rc, -ENOBUFS);
			} else {
				CU_ASSERT(rc == n && !memcmp(b, ref, (size_t)n));
			}
			free(b);
		}
		/* JSON needs its length + 1 (NUL); the same for protobuf -> JSON */
		for (size_t cap = 0; cap <= (size_t)j + 1; cap++) {
			char *b = malloc(cap ? cap : 1);
			int rc = ots_encode_json(&META, c->type, c->rec, b, cap);
			int rc2 = ots_pb_to_json(ref, (size_t)n, b, cap);
			if (cap <= (size_t)j) {
				CU_ASSERT_EQUAL(rc, -ENOBUFS);
				CU_ASSERT_EQUAL(rc2, -ENOBUFS);
			} else {
				CU_ASSERT(rc == j && rc2 == j && !strcmp(b, js));
			}
			free(b);
		}
		free(ref);
	}
}

/* the largest possible health record fits the exporter's buffers (OTS_MAX_RECORD_BYTES pb, twice that JSON) */
static void test_worst_case_sizes(void)
{
	static struct ots_rec_health h;
	memset(&h, 0xff, sizeof(h));
	memset(h.sink_state, 'x', sizeof(h.sink_state) - 1);
	h.sink_state[sizeof(h.sink_state) - 1] = 0;
	h.uptime_s = -1.2345678901234567e300;
	h.nworkers = OTS_HEALTH_MAX_WORKERS;
	for (int i = 0; i < OTS_HEALTH_MAX_WORKERS; i++) {
		h.w[i].pps = -1.2345678901234567e300;
		h.w[i].bps = -1.2345678901234567e300;
	}
	struct ots_envelope_meta m = { "a-sensor-name-of-sixty-four-characters-0123456789012345678901234", UINT64_MAX,
				       UINT64_MAX, UINT64_MAX };
	int n = ots_encode_pb(&m, OTS_REC_health, &h, pb, sizeof(pb));
	int j = ots_encode_json(&m, OTS_REC_health, &h, js, sizeof(js));
	printf("\n  worst-case health record: protobuf %d bytes, JSON %d bytes\n", n, j);
	CU_ASSERT(n > 0 && n <= OTS_MAX_RECORD_BYTES);
	CU_ASSERT(j > 0 && j < 2 * OTS_MAX_RECORD_BYTES);
	CU_ASSERT(json_check(js, "len(d['health']['workers']) == 64"));

	static struct ots_rec_alert a;
	memset(&a, 0xff, sizeof(a)); /* unterminated, invalid UTF-8 everywhere: every byte becomes U+FFFD */
	n = ots_encode_pb(&m, OTS_REC_alert, &a, pb, sizeof(pb));
	j = ots_encode_json(&m, OTS_REC_alert, &a, js, sizeof(js));
	printf("  worst-case alert record: protobuf %d bytes, JSON %d bytes\n", n, j);
	CU_ASSERT(n > 0 && n <= OTS_MAX_RECORD_BYTES);
	CU_ASSERT(j > 0 && j < 2 * OTS_MAX_RECORD_BYTES);
	CU_ASSERT(protoc_decode(pb, (size_t)n) != NULL);
	CU_ASSERT(json_check(js, "len(d['alert']['title']) == 96 and set(d['alert']['title']) == {'\\ufffd'}"));
}

/* ---- strings: invalid UTF-8, unterminated fields, control bytes ------------------------------------------ */

static void test_invalid_utf8(void)
{
	struct ots_rec_alert r;
	memset(&r, 0, sizeof(r));
	snprintf(r.title, sizeof(r.title), "bad \xff\xfe utf8 \xc3");            /* invalid bytes, cut sequence */
	snprintf(r.description, sizeof(r.description), "overlong \xc0\xaf surrogate \xed\xa0\x80 big \xf4\x90\x80\x80"
		 " ok \xf0\x9f\x98\x80 ctl \x01");
	memset(r.category, 'A', sizeof(r.category));                              /* no NUL at all */
	snprintf(r.evidence[0].key, sizeof(r.evidence[0].key), "k\xe2\x82");
	snprintf(r.evidence[0].value, sizeof(r.evidence[0].value), "\xe2\x82\xac ok");
	r.nevidence = 1;
	struct ots_envelope_meta m = META;
	m.sensor_id = "sensor-\xff";
	int n = enc_pb(OTS_REC_alert, &r);
	n = ots_encode_pb(&m, OTS_REC_alert, &r, pb, sizeof(pb));
	CU_ASSERT_FATAL(n > 0);
	/* protoc rejects a proto3 string that is not UTF-8: decoding at all proves the repair */
	char *t = protoc_decode(pb, (size_t)n);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(has(t, "sensor_id: \"sensor-\\357\\277\\275\"\n"));
	CU_ASSERT(has(t, "  category: \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\n"));
	CU_ASSERT(has(t, "  title: \"bad \\357\\277\\275\\357\\277\\275 utf8 \\357\\277\\275\"\n"));
	CU_ASSERT(has(t, "    key: \"k\\357\\277\\275\\357\\277\\275\"\n    value: \"\\342\\202\\254 ok\"\n"));
	int j = ots_encode_json(&m, OTS_REC_alert, &r, js, sizeof(js));
	CU_ASSERT_FATAL(j > 0);
	CU_ASSERT(has(js, "\"sensorId\":\"sensor-\xef\xbf\xbd\""));
	CU_ASSERT(has(js, "\"title\":\"bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd\""));
	CU_ASSERT(has(js, "\"description\":\"overlong \xef\xbf\xbd\xef\xbf\xbd surrogate \xef\xbf\xbd\xef\xbf\xbd"
			  "\xef\xbf\xbd big \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok \xf0\x9f\x98\x80 ctl "
			  "\\u0001\""));
	CU_ASSERT(has(js, "\"category\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""));
	CU_ASSERT(json_check(js, "d['alert']['evidence'][0]['value'] == '\\u20ac ok' and "
				 "d['alert']['description'].endswith('\\U0001f600 ctl \\x01')"));
	CU_ASSERT_EQUAL(ots_pb_to_json(pb, (size_t)n, js2, sizeof(js2)), j);
	CU_ASSERT(same(js2, js));
}

/* a foreign message with invalid UTF-8 strings (protobuf-c does not check): the JSON is still valid UTF-8 */
static void test_foreign_invalid_utf8(void)
{
	static const uint8_t msg[] = {
		0x8a, 0x01, 20,                                      /* Envelope.alert, 20 bytes */
		0x6a, 7, 0xed, 0xa0, 0x80, ' ', 'x', ' ', 0xc0,      /* title: surrogate, lone lead byte */
		0x7a, 2, 'T', 0xff,                                  /* mitre_techniques[0] */
		0xf2, 0x01, 4, 0x12, 2, 0xe0, 0x80,                  /* evidence[0].value: cut sequence */
	};
	int rc = ots_pb_to_json(msg, sizeof(msg), js2, sizeof(js2));
	CU_ASSERT_FATAL(rc > 0);
	CU_ASSERT(same(js2, "{\"type\":\"alert\",\"alert\":{\"title\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd x "
			    "\xef\xbf\xbd\",\"mitreTechniques\":[\"T\xef\xbf\xbd\"],"
			    "\"evidence\":[{\"value\":\"\xef\xbf\xbd\xef\xbf\xbd\"}]}}"));
	CU_ASSERT(json_check(js2, "d['alert']['title'] == '\\ufffd' * 3 + ' x \\ufffd'"));
}

/* ---- mapping details -------------------------------------------------------------------------------------- */

static void test_mapping_edges(void)
{
	/* out-of-range enums become *_UNSPECIFIED (absent); counts are clamped to the arrays */
	struct ots_rec_alert a;
	fill_alert(&a);
	a.engine = 200;
	a.severity = 99;
	a.nmitre = 250;
	a.nevidence = 250;
	a.app = 60000;
	a.sid = a.rev = a.gid = 0;
	memset(&a.t, 0, sizeof(a.t));
	memset(&a.dst_asset, 0, sizeof(a.dst_asset));
	CU_ASSERT_FATAL(enc_json(OTS_REC_alert, &a) > 0);
	CU_ASSERT(strstr(js, "\"engine\"") == NULL);
	CU_ASSERT(strstr(js, "\"severity\"") == NULL);
	CU_ASSERT(strstr(js, "\"rule\"") == NULL);
	CU_ASSERT(strstr(js, "\"tuple\"") == NULL);
	CU_ASSERT(strstr(js, "\"dstAsset\"") == NULL);
	CU_ASSERT(has(js, "\"protocol\":\"invalid\""));
	CU_ASSERT(json_check(js, "len(d['alert']['mitreTechniques']) == 4 and len(d['alert']['evidence']) == 6"));

	struct ots_rec_flow f;
	fill_flow(&f);
	f.end_reason = 77;
	f.tcp_state = 9;
	f.events = 0x8000;
	memset(f.src_mac, 0, 6);
	CU_ASSERT_FATAL(enc_json(OTS_REC_flow, &f) > 0);
	CU_ASSERT(strstr(js, "endReason") == NULL && strstr(js, "tcpState") == NULL && strstr(js, "events") == NULL);
	CU_ASSERT(strstr(js, "srcMac") == NULL && has(js, "\"dstMac\":\"aa:bb:cc:dd:ee:ff\""));

	/* asset: ties on confidence go to the latest observation; unknown kinds ignored; counts clamped */
	struct ots_rec_asset s;
	memset(&s, 0, sizeof(s));
	add_attr(&s, OTS_ATTR_VENDOR, 50, OTS_APP_ENIP, 20, "Rockwell");
	add_attr(&s, OTS_ATTR_VENDOR, 50, OTS_APP_SNMP, 10, "older");
	add_attr(&s, 99, 100, OTS_APP_SNMP, 30, "unknown kind");
	add_attr(&s, OTS_ATTR_HOSTNAME, 10, OTS_APP_DHCP, 40, "plc-01");
	add_attr(&s, OTS_ATTR_DESCRIPTION, 10, OTS_APP_SNMP, 50, "desc");
	s.nattrs = 250;
	s.nips = 250;
	set_ip4(&s.ips[3], 1, 2, 3, 4);
	s.role = 77;
	s.key.has_mac = 0;
	set_ip4(&s.key.ip, 10, 9, 8, 7);
	s.protocols_served = ~0ull;
	CU_ASSERT_FATAL(enc_json(OTS_REC_asset, &s) > 0);
	CU_ASSERT(has(js, "\"key\":{\"ip\":\"10.9.8.7\"},\"ips\":[\"1.2.3.4\"],"));
	CU_ASSERT(has(js, "\"vendor\":{\"value\":\"Rockwell\",\"sourceProtocol\":\"enip\",\"confidence\":50,"
			  "\"timeUnixNano\":20}"));
	CU_ASSERT(has(js, "\"hostname\":{\"value\":\"plc-01\",\"sourceProtocol\":\"dhcp\""));
	CU_ASSERT(has(js, "\"description\":{\"value\":\"desc\""));
	CU_ASSERT(strstr(js, "unknown kind") == NULL && strstr(js, "\"role\"") == NULL);
	char expr[128];
	snprintf(expr, sizeof(expr), "len(d['asset']['protocolsServed']) == %d and d['asset']['protocolsServed'][0] "
		 "== 'unknown'", OTS_APP_MAX);
	CU_ASSERT(json_check(js, expr));

	/* health: more workers than the array holds are clamped */
	static struct ots_rec_health h;
	memset(&h, 0, sizeof(h));
	h.nworkers = 1000;
	CU_ASSERT_FATAL(enc_json(OTS_REC_health, &h) > 0);
	CU_ASSERT(json_check(js, "len(d['health']['workers']) == 64 and 'parseErrors' not in d['health']"));
}

static void test_bad_args(void)
{
	CU_ASSERT_EQUAL(ots_encode_pb(&META, OTS_REC_MAX, &g_flow, pb, sizeof(pb)), -EINVAL);
	CU_ASSERT_EQUAL(ots_encode_pb(&META, -1, &g_flow, pb, sizeof(pb)), -EINVAL);
	CU_ASSERT_EQUAL(ots_encode_json(&META, 17, &g_flow, js, sizeof(js)), -EINVAL);
	CU_ASSERT_EQUAL(ots_encode_pb(&META, OTS_REC_flow, NULL, pb, sizeof(pb)), -EINVAL);
	CU_ASSERT_EQUAL(ots_encode_json(NULL, OTS_REC_flow, &g_flow, js, sizeof(js)), -EINVAL);
	CU_ASSERT_EQUAL(ots_record_key(9, &g_flow, "s", js, sizeof(js)), -EINVAL);
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_flow, NULL, "s", js, sizeof(js)), -EINVAL);
}

/* ---- peek, keys, text forms ------------------------------------------------------------------------------ */

static void test_peek(void)
{
	uint64_t seq = 1;
	for (const struct rec_case *c = cases(); c->name; c++, seq += 1000) {
		struct ots_envelope_meta m = META;
		m.sequence = seq;
		m.boot_id = 0xfeedface00000000ULL + seq;
		int n = ots_encode_pb(&m, c->type, c->rec, pb, sizeof(pb));
		CU_ASSERT_FATAL(n > 0);
		if (n <= 0)
			return;
		int type = -1;
		uint64_t boot = 0, s = 0;
		CU_ASSERT_EQUAL(ots_pb_peek(pb, (size_t)n, &type, &boot, &s), 0);
		CU_ASSERT_EQUAL(type, c->type);
		CU_ASSERT_EQUAL(boot, m.boot_id);
		CU_ASSERT_EQUAL(s, seq);
		CU_ASSERT_EQUAL(ots_pb_peek(pb, (size_t)n, NULL, NULL, NULL), 0);
		for (int cut = 0; cut < n; cut++)
			CU_ASSERT_EQUAL(ots_pb_peek(pb, (size_t)cut, &type, &boot, &s), -EBADMSG);
		/* an unknown field after the record (a newer producer) is skipped by peek and by pb_to_json */
		uint8_t *ext = malloc((size_t)n + 3);
		memcpy(ext, pb, (size_t)n);
		ext[n] = 0x98; /* field 99, varint */
		ext[n + 1] = 0x06;
		ext[n + 2] = 0x07;
		CU_ASSERT_EQUAL(ots_pb_peek(ext, (size_t)n + 3, &type, NULL, NULL), 0);
		CU_ASSERT_EQUAL(type, c->type);
		int j = ots_encode_json(&m, c->type, c->rec, js, sizeof(js));
		CU_ASSERT_EQUAL(ots_pb_to_json(ext, (size_t)n + 3, js2, sizeof(js2)), j);
		CU_ASSERT(!strcmp(js, js2));
		free(ext);
	}
	static const uint8_t no_record[] = { 0x08, 0x01, 0x18, 0x05, 0x20, 0x07 };
	static const uint8_t bad_wire[] = { 0x1a, 0x00, 0x92, 0x01, 0x00 };  /* boot_id as length-delimited */
	static const uint8_t group[] = { 0x0b, 0x0c, 0x92, 0x01, 0x00 };     /* wire type 3 */
	static const uint8_t long_varint[] = { 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					       0x01, 0x92, 0x01, 0x00 };
	static const uint8_t ok_min[] = { 0x92, 0x01, 0x00 }; /* just an empty flow */
	int type = -1;
	CU_ASSERT_EQUAL(ots_pb_peek(no_record, sizeof(no_record), &type, NULL, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_peek(bad_wire, sizeof(bad_wire), &type, NULL, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_peek(group, sizeof(group), &type, NULL, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_peek(long_varint, sizeof(long_varint), &type, NULL, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_peek(NULL, 0, &type, NULL, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_peek(ok_min, sizeof(ok_min), &type, NULL, NULL), 0);
	CU_ASSERT_EQUAL(type, OTS_REC_flow);
}

static void test_record_keys(void)
{
	char k[64];
	struct ots_rec_flow f;
	fill_flow(&f);
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_flow, &f, "s", k, sizeof(k)), 16);
	CU_ASSERT(same(k, "00c0ffee12345678"));
	f.flow_hash = UINT64_MAX;
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_flow, &f, "s", k, sizeof(k)), 16);
	CU_ASSERT(same(k, "ffffffffffffffff"));
	f.flow_hash = 0;
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_flow, &f, "s", k, 17), 16);
	CU_ASSERT(same(k, "0000000000000000"));
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_flow, &f, "s", k, 16), -ENOBUFS);

	struct ots_rec_asset s;
	fill_asset(&s);
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_asset, &s, "s", k, sizeof(k)), 16);
	CU_ASSERT(same(k, "mac:001122334455"));
	memset(s.id, 'z', sizeof(s.id)); /* unterminated: bounded by the field */
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_asset, &s, "s", k, sizeof(k)), (int)sizeof(s.id));

	struct ots_rec_alert a;
	fill_alert(&a);
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_alert, &a, "s", k, sizeof(k)), 32);
	CU_ASSERT(same(k, "a1b2c3d4e5f60718293a4b5c6d7e8f90"));
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_alert, &a, "s", k, 32), -ENOBUFS);

	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_health, &g_health, "plant1-span-a", k, sizeof(k)), 13);
	CU_ASSERT(same(k, "plant1-span-a"));
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_health, NULL, "plant1-span-a", k, sizeof(k)), 13);
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_health, &g_health, NULL, k, sizeof(k)), 0);
	CU_ASSERT(same(k, ""));
	CU_ASSERT_EQUAL(ots_record_key(OTS_REC_health, &g_health, "x", k, 0), -ENOBUFS);
}

static void test_fmt(void)
{
	struct ots_addr a;
	char b[64];
	set_ip4(&a, 10, 0, 0, 1);
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "10.0.0.1"));
	set_ip4(&a, 255, 255, 255, 255);
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "255.255.255.255"));
	ots_fmt_ip(&a, b, 16);
	CU_ASSERT(same(b, "255.255.255.255"));
	ots_fmt_ip(&a, b, 5);
	CU_ASSERT(same(b, "255."));
	set_ip4(&a, 0, 0, 0, 0);
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "0.0.0.0"));
	set_ip6(&a, 0x2001, 1);
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "2001:db8::1"));
	memset(&a, 0, sizeof(a));
	a.family = 6;
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "::"));
	a.ip[10] = a.ip[11] = 0xff;
	a.ip[12] = 10;
	a.ip[15] = 1;
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "::ffff:10.0.0.1"));
	memset(a.ip, 0xff, 16);
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	a.family = 0;
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, ""));
	a.family = 5;
	ots_fmt_ip(&a, b, sizeof(b));
	CU_ASSERT(same(b, ""));
	b[0] = 'q';
	ots_fmt_ip(&a, b, 0);
	CU_ASSERT_EQUAL(b[0], 'q');

	uint8_t mac[6] = { 0x00, 0x1b, 0x1b, 0xab, 0xcd, 0xef };
	ots_fmt_mac(mac, b, sizeof(b));
	CU_ASSERT(same(b, "00:1b:1b:ab:cd:ef"));
	ots_fmt_mac(mac, b, 18);
	CU_ASSERT(same(b, "00:1b:1b:ab:cd:ef"));
	ots_fmt_mac(mac, b, 6);
	CU_ASSERT(same(b, "00:1b"));
	b[0] = 'q';
	ots_fmt_mac(mac, b, 0);
	CU_ASSERT_EQUAL(b[0], 'q');
}

/* ---- hostile protobuf input ------------------------------------------------------------------------------- */

/* xorshift64: one generator, a state per test so each keeps its own sequence */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
	return xorshift(&rng_state);
}

/* rc is -EBADMSG, or a JSON document of exactly rc bytes (collected for one python validation) */
static bool sane_result(int rc, const char *buf, FILE *collect)
{
	if (rc == -EBADMSG)
		return true;
	if (rc < 0 || strlen(buf) != (size_t)rc)
		return false;
	if (collect)
		fprintf(collect, "%s\n", buf);
	return true;
}

static void test_truncated_and_garbage(void)
{
	char lines[64];
	snprintf(lines, sizeof(lines), "/tmp/ots_test_encode_lines_XXXXXX");
	int fd = mkstemp(lines);
	CU_ASSERT_FATAL(fd >= 0);
	FILE *collect = fdopen(fd, "w");
	unsigned ok = 0, bad = 0;

	for (const struct rec_case *c = cases(); c->name; c++) {
		int n = enc_pb(c->type, c->rec);
		CU_ASSERT_FATAL(n > 0);
		if (n <= 0)
			return;
		/* every strict prefix is cut inside the record (packed last): never a whole Envelope */
		for (int cut = 0; cut < n; cut++) {
			uint8_t *b = malloc(cut ? (size_t)cut : 1);
			memcpy(b, pb, (size_t)cut);
			CU_ASSERT_EQUAL(ots_pb_to_json(b, (size_t)cut, js2, sizeof(js2)), -EBADMSG);
			free(b);
		}
		/* every single-bit flip: no crash, -EBADMSG or a consistent document */
		uint8_t *b = malloc((size_t)n);
		for (int i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit++) {
				memcpy(b, pb, (size_t)n);
				b[i] ^= (uint8_t)(1u << bit);
				int rc = ots_pb_to_json(b, (size_t)n, js2, sizeof(js2));
				CU_ASSERT(sane_result(rc, js2, (rng() & 15) == 0 ? collect : NULL));
				rc >= 0 ? ok++ : bad++;
				int t;
				uint64_t x, y;
				ots_pb_peek(b, (size_t)n, &t, &x, &y);
			}
		}
		free(b);
	}
	/* random bytes, and random bytes behind a valid record-field tag */
	for (int i = 0; i < 20000; i++) {
		size_t len = rng() % 300;
		uint8_t *b = malloc(len ? len : 1);
		for (size_t k = 0; k < len; k++)
			b[k] = (uint8_t)rng();
		if (len > 3 && (i & 1)) {
			b[0] = (uint8_t)(0x82 + 8 * (rng() % 4)); /* fields 16..19, length-delimited */
			b[1] = 0x01;
			b[2] = (uint8_t)(len - 3);
		}
		int rc = ots_pb_to_json(b, len, js2, sizeof(js2));
		CU_ASSERT(sane_result(rc, js2, collect));
		rc >= 0 ? ok++ : bad++;
		int t;
		ots_pb_peek(b, len, &t, NULL, NULL);
		free(b);
	}
	static const uint8_t ff[] = { 0xff, 0xff, 0xff, 0xff };
	CU_ASSERT_EQUAL(ots_pb_to_json(ff, sizeof(ff), js2, sizeof(js2)), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_to_json(NULL, 0, js2, sizeof(js2)), -EBADMSG);
	CU_ASSERT_EQUAL(ots_pb_to_json(NULL, 5, js2, sizeof(js2)), -EBADMSG);
	fclose(collect);
	printf("\n  hostile input: %u decoded, %u rejected\n", ok, bad);
	CU_ASSERT(bad > 0 && ok > 0);

	char cmd[256], out[4096];
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys\nfor l in open(sys.argv[1], encoding=\"utf-8\"): json.loads(l)' '%s' 2>&1",
		 lines);
	int st = run(cmd, out, sizeof(out));
	if (st)
		fprintf(stderr, "\n  invalid JSON from hostile input: %s\n", out);
	CU_ASSERT_EQUAL(st, 0);
	unlink(lines);
}

/* a valid but huge message (20000 empty workers): unpacks past the stack arena, without leaking */
static void test_hostile_large(void)
{
	enum { N = 20000 };
	size_t inner = 3 * N;
	uint8_t *b = malloc(inner + 8);
	size_t o = 0;
	b[o++] = 0x9a; /* field 19 (health), length-delimited */
	b[o++] = 0x01;
	for (size_t v = inner; ; v >>= 7) {
		b[o++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	for (int i = 0; i < N; i++) {
		b[o++] = 0xc2; /* field 40 (workers), length-delimited */
		b[o++] = 0x02;
		b[o++] = 0x00;
	}
	static char big[4 * N + 256];
	int rc = ots_pb_to_json(b, o, big, sizeof(big));
	CU_ASSERT_FATAL(rc > 0);
	static const char head[] = "{\"type\":\"health\",\"health\":{\"workers\":[{},{},";
	CU_ASSERT(!strncmp(big, head, strlen(head)));
	CU_ASSERT_EQUAL((size_t)rc, strlen("{\"type\":\"health\",\"health\":{\"workers\":[]}}") + 3 * N - 1);
	CU_ASSERT_EQUAL(ots_pb_to_json(b, o, big, 1000), -ENOBUFS);
	int t;
	CU_ASSERT_EQUAL(ots_pb_peek(b, o, &t, NULL, NULL), 0);
	CU_ASSERT_EQUAL(t, OTS_REC_health);
	free(b);
}

/* ---- the direct writer (ots_encode_pb) against protobuf-c (ots_encode_pb_ref) ----------------------------- */

/* ots_encode_pb writes asset, alert and flow records itself (export/pbwire.h); ots_encode_pb_ref builds the
 * protobuf-c message structs and packs them. Both must give the same bytes for every record, including absent
 * and maximal fields, every address form, strings that are empty, full, unterminated or invalid UTF-8 (repaired),
 * counts beyond the arrays and enum values beyond the tables. */

static uint64_t dw_state = 0x2545f4914f6cdd1dULL;
static uint64_t drng(void)
{
	return xorshift(&dw_state);
}

/* a value that exercises varint sizes: 0, 1, every power of two and its neighbours, the maximum, random */
static uint64_t d_u64(void)
{
	unsigned b = (unsigned)(drng() % 64);
	switch (drng() % 8) {
	case 0: return 0;
	case 1: return 1;
	case 2: return UINT64_MAX;
	case 3: return 1ull << b;
	case 4: return (1ull << b) - 1;
	case 5: return drng() & 0x7f;
	case 6: return drng() >> b;
	default: return drng();
	}
}

static void d_bytes(void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)drng();
}

static void d_addr(struct ots_addr *a)
{
	static const uint8_t oct[] = { 0, 1, 9, 10, 99, 100, 199, 200, 255 };
	d_bytes(a, sizeof(*a)); /* bytes beyond what the family uses are noise the encoder must ignore */
	switch (drng() % 10) {
	case 0:
		a->family = 0;
		return;
	case 1:
		a->family = (uint8_t)(drng() % 2 ? 5 : drng()); /* not 4 or 6: absent */
		if (a->family == 4 || a->family == 6)
			a->family = 0;
		return;
	case 2:
	case 3:
	case 4:
		a->family = 4;
		for (int i = 0; i < 4; i++)
			a->ip[i] = drng() % 2 ? oct[drng() % sizeof(oct)] : (uint8_t)drng();
		return;
	default:
		break;
	}
	/* IPv6: groups zero, 0xffff, small or random, so that zero runs of every length and place occur (the
	 * "::" choice, ties, trailing runs) plus the embedded-IPv4 forms ::a.b.c.d and ::ffff:a.b.c.d */
	a->family = 6;
	unsigned mode = (unsigned)(drng() % 8);
	for (int g = 0; g < 8; g++) {
		uint16_t v;
		switch (mode < 6 ? drng() % 4 : 0) {
		case 0: v = 0; break;
		case 1: v = 0xffff; break;
		case 2: v = (uint16_t)(drng() % 0x1000 >> (drng() % 12)); break;
		default: v = (uint16_t)drng(); break;
		}
		a->ip[2 * g] = (uint8_t)(v >> 8);
		a->ip[2 * g + 1] = (uint8_t)v;
	}
	if (mode == 6 || mode == 7) { /* ::ffff:a.b.c.d, ::a.b.c.d, ::ffff:0:a.b.c.d, all zero, ::1 */
		memset(a->ip, 0, 12);
		unsigned f = (unsigned)(drng() % 5);
		if (f == 0)
			a->ip[10] = a->ip[11] = 0xff;
		else if (f == 1)
			a->ip[8] = a->ip[9] = 0xff;
		else if (f == 3)
			memset(a->ip + 12, 0, 3 + (drng() & 1));
	}
}

/* a fixed string field: empty, ASCII, full (cap - 1), unterminated, valid multi-byte UTF-8, invalid bytes */
static void d_str(char *s, size_t cap)
{
	static const char *const pieces[] = { "a", "Z", "0", " ", "\"", "\\", "\n", "\x01", "\x7f",
					      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e", /* valid: 2, 3, 4 bytes */
					      "\x80", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
					      "\xf0\x9d" };
	d_bytes(s, cap); /* noise after the terminator */
	unsigned mode = (unsigned)(drng() % 8);
	if (mode == 0) {
		s[0] = 0;
		return;
	}
	size_t len = mode == 1 ? cap - 1 : mode == 2 ? cap : (size_t)(drng() % cap);
	size_t o = 0;
	int ascii = (int)(drng() % 2);
	while (o < len) {
		const char *p = ascii ? pieces[drng() % 3] : pieces[drng() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t n = strlen(p);
		if (o + n > len)
			break;
		memcpy(s + o, p, n);
		o += n;
	}
	while (o < len)
		s[o++] = 'x';
	if (len < cap)
		s[len] = 0; /* mode 2: cap bytes, no terminator */
}

static void d_mac(uint8_t mac[6])
{
	if (drng() % 3 == 0)
		memset(mac, 0, 6);
	else
		d_bytes(mac, 6);
}

static void d_tuple(struct ots_tuple *t)
{
	if (drng() % 6 == 0) {
		memset(t, 0, sizeof(*t)); /* an alert's "no flow" */
		return;
	}
	d_addr(&t->src);
	d_addr(&t->dst);
	t->src_port = (uint16_t)d_u64();
	t->dst_port = (uint16_t)d_u64();
	t->proto = (uint8_t)d_u64();
	t->pad = (uint8_t)drng();
	t->vlan[0] = (uint16_t)d_u64();
	t->vlan[1] = (uint16_t)d_u64();
}

static void d_key(struct ots_asset_key *k)
{
	d_mac(k->mac);
	k->has_mac = (uint8_t)(drng() % 3 ? drng() % 2 : drng()); /* any non-zero byte means "has" */
	d_addr(&k->ip);
}

static uint16_t d_app(void)
{
	return (uint16_t)(drng() % 8 ? drng() % OTS_APP_MAX : drng() % 4 ? OTS_APP_MAX + drng() % 3 : drng());
}

static void d_flow(struct ots_rec_flow *r)
{
	d_bytes(r, sizeof(*r));
	d_tuple(&r->t);
	d_mac(r->src_mac);
	d_mac(r->dst_mac);
	r->start_ns = d_u64();
	r->end_ns = d_u64();
	r->pkts_to_server = d_u64();
	r->pkts_to_client = d_u64();
	r->bytes_to_server = d_u64();
	r->bytes_to_client = d_u64();
	r->flow_hash = d_u64();
	r->app = d_app();
	r->tcp_flags_to_server = (uint8_t)d_u64();
	r->tcp_flags_to_client = (uint8_t)d_u64();
	r->end_reason = (uint8_t)(drng() % 4 ? drng() % 8 : drng());
	r->tcp_state = (uint8_t)(drng() % 4 ? drng() % 8 : drng());
	r->events = (uint16_t)(drng() % 2 ? drng() % 8 : drng());
	r->gap_bytes = d_u64();
	r->worker = (uint32_t)d_u64();
}

static void d_alert(struct ots_rec_alert *r)
{
	d_bytes(r, sizeof(*r));
	d_str(r->id, sizeof(r->id));
	r->time_ns = d_u64();
	r->first_ns = d_u64();
	r->count = (uint32_t)d_u64();
	r->engine = (uint8_t)(drng() % 4 ? drng() % 6 : drng());
	r->severity = (uint8_t)(drng() % 4 ? drng() % 7 : drng());
	r->app = d_app();
	d_str(r->category, sizeof(r->category));
	d_str(r->title, sizeof(r->title));
	d_str(r->description, sizeof(r->description));
	for (int i = 0; i < OTS_ALERT_MAX_MITRE; i++)
		d_str(r->mitre[i], sizeof(r->mitre[i]));
	r->nmitre = (uint8_t)(drng() % 4 ? drng() % (OTS_ALERT_MAX_MITRE + 2) : drng());
	r->nevidence = (uint8_t)(drng() % 4 ? drng() % (OTS_ALERT_MAX_EVIDENCE + 2) : drng());
	r->sid = drng() % 3 ? 0 : (uint32_t)d_u64();
	r->rev = drng() % 3 ? 0 : (uint32_t)d_u64();
	r->gid = drng() % 3 ? 0 : (uint32_t)d_u64();
	d_tuple(&r->t);
	d_key(&r->src_asset);
	d_key(&r->dst_asset);
	for (int i = 0; i < OTS_ALERT_MAX_EVIDENCE; i++) {
		d_str(r->evidence[i].key, sizeof(r->evidence[i].key));
		d_str(r->evidence[i].value, sizeof(r->evidence[i].value));
	}
}

static void d_asset(struct ots_rec_asset *r)
{
	d_bytes(r, sizeof(*r));
	d_str(r->id, sizeof(r->id));
	d_key(&r->key);
	for (int i = 0; i < OTS_ASSET_MAX_IPS; i++)
		d_addr(&r->ips[i]);
	r->nips = (uint8_t)(drng() % 4 ? drng() % (OTS_ASSET_MAX_IPS + 2) : drng());
	r->role = (uint8_t)(drng() % 4 ? drng() % 12 : drng());
	r->role_confidence = (uint8_t)d_u64();
	r->nattrs = (uint8_t)(drng() % 4 ? drng() % (OTS_ASSET_MAX_ATTRS + 2) : drng());
	r->protocols_served = drng() % 3 ? drng() : d_u64();
	r->protocols_used = drng() % 3 ? drng() & drng() : d_u64();
	r->first_ns = d_u64();
	r->last_ns = d_u64();
	for (int i = 0; i < OTS_ASSET_MAX_ATTRS; i++) {
		struct ots_attr *a = &r->attrs[i];
		/* few kinds and confidences, so that several attributes compete for one kind (ties on time too) */
		a->kind = (uint8_t)(drng() % 8 ? drng() % 4 : drng() % 3 ? drng() % (OTS_ATTR_MAX + 3) : drng());
		a->confidence = (uint8_t)(drng() % 2 ? 50 + drng() % 3 : drng());
		a->source = d_app();
		a->time_ns = drng() % 2 ? 1000 + drng() % 3 : d_u64();
		d_str(a->value, sizeof(a->value));
	}
}

/* sensor ids: absent, empty, usual, long, non-ASCII, invalid UTF-8; and long invalid ones whose repaired copy
 * fills the encoder's string pool to any level, so that the record's own strings find it full at any point */
static const char *d_sensor(void)
{
	static char buf[1500];
	switch (drng() % 9) {
	case 8: {
		size_t n = 300 + drng() % 1100;
		memset(buf, 0xff, n);
		buf[n] = 0;
		return buf;
	}
	case 0: return NULL;
	case 1: return "";
	case 2: return "plant1-span-a";
	case 3:
		memset(buf, 's', 299);
		buf[299] = 0;
		return buf;
	case 4:
		d_str(buf, 64);
		buf[63] = 0;
		return buf;
	default: return "sensor-\xc3\xa9";
	}
}

static void d_meta(struct ots_envelope_meta *m)
{
	m->sensor_id = d_sensor();
	m->boot_id = d_u64();
	m->sequence = d_u64();
	m->time_ns = d_u64();
}

static uint8_t pb_ref[BIG];
static unsigned dw_mismatch;

/* ots_encode_pb(x) == ots_encode_pb_ref(x), byte for byte; the first differences are shown in detail */
static bool same_as_ref(const struct ots_envelope_meta *m, int type, const void *rec, int *len)
{
	int n = ots_encode_pb(m, type, rec, pb, sizeof(pb));
	int k = ots_encode_pb_ref(m, type, rec, pb_ref, sizeof(pb_ref));
	*len = n;
	if (n > 0 && n == k && !memcmp(pb, pb_ref, (size_t)n))
		return true;
	if (dw_mismatch++ < 3) {
		size_t at = 0;
		while (n > 0 && k > 0 && at < (size_t)(n < k ? n : k) && pb[at] == pb_ref[at])
			at++;
		fprintf(stderr, "\n  %s: direct %d bytes, protobuf-c %d bytes, first difference at byte %zu\n",
			ots_rec_type_names[type], n, k, at);
		for (int w = 0; w < 2; w++) {
			const uint8_t *b = w ? pb_ref : pb;
			int len2 = w ? k : n;
			fprintf(stderr, "  %s:", w ? "protobuf-c" : "direct    ");
			for (size_t i = at > 8 ? at - 8 : 0; i < at + 24 && (int)i < len2; i++)
				fprintf(stderr, " %02x", b[i]);
			fprintf(stderr, "\n");
		}
	}
	return false;
}

/* protobuf-c decodes the bytes into the fields of the record (the ones that are numbers, and the strings that
 * are not repaired), and packing what it decoded gives the same bytes back (canonical encoding) */
static bool decodes_back(const struct ots_envelope_meta *m, int type, const void *rec, int n)
{
	Otsense__V1__Envelope *e = otsense__v1__envelope__unpack(NULL, (size_t)n, pb);
	if (!e)
		return false;
	bool ok = e->schema_version == OTS_SCHEMA_VERSION && e->boot_id == m->boot_id &&
		  e->sequence == m->sequence && e->time_unix_nano == m->time_ns;
	ok = ok && otsense__v1__envelope__get_packed_size(e) == (size_t)n;
	if (ok) {
		otsense__v1__envelope__pack(e, pb_ref);
		ok = !memcmp(pb, pb_ref, (size_t)n);
	}
	char ip[64];
	if (ok && type == OTS_REC_flow) {
		const struct ots_rec_flow *r = rec;
		const Otsense__V1__Flow *f = e->flow;
		ok = e->record_case == OTSENSE__V1__ENVELOPE__RECORD_FLOW && f && f->tuple &&
		     f->start_time_unix_nano == r->start_ns && f->end_time_unix_nano == r->end_ns &&
		     f->packets_to_server == r->pkts_to_server && f->packets_to_client == r->pkts_to_client &&
		     f->bytes_to_server == r->bytes_to_server && f->bytes_to_client == r->bytes_to_client &&
		     f->flow_hash == r->flow_hash && f->gap_bytes == r->gap_bytes && f->worker == r->worker &&
		     f->tcp_flags_to_server == r->tcp_flags_to_server &&
		     f->tcp_flags_to_client == r->tcp_flags_to_client && f->tuple->src_port == r->t.src_port &&
		     f->tuple->dst_port == r->t.dst_port && f->tuple->ip_proto == r->t.proto &&
		     f->tuple->vlan_outer == r->t.vlan[0] && f->tuple->vlan_inner == r->t.vlan[1] &&
		     !strcmp(f->app_protocol, ots_app_name(r->app)) &&
		     f->n_events == (size_t)__builtin_popcount(r->events & 7u);
		ots_fmt_ip(&r->t.src, ip, sizeof(ip));
		ok = ok && !strcmp(f->tuple->src_ip, ip);
		ots_fmt_ip(&r->t.dst, ip, sizeof(ip));
		ok = ok && !strcmp(f->tuple->dst_ip, ip);
	} else if (ok && type == OTS_REC_alert) {
		const struct ots_rec_alert *r = rec;
		const Otsense__V1__Alert *a = e->alert;
		size_t nm = r->nmitre < OTS_ALERT_MAX_MITRE ? r->nmitre : OTS_ALERT_MAX_MITRE;
		size_t ne = r->nevidence < OTS_ALERT_MAX_EVIDENCE ? r->nevidence : OTS_ALERT_MAX_EVIDENCE;
		ok = e->record_case == OTSENSE__V1__ENVELOPE__RECORD_ALERT && a && a->time_unix_nano == r->time_ns &&
		     a->first_time_unix_nano == r->first_ns && a->count == r->count &&
		     a->n_mitre_techniques == nm && a->n_evidence == ne &&
		     (a->rule != NULL) == (r->sid || r->rev || r->gid) &&
		     (!a->rule || (a->rule->gid == r->gid && a->rule->sid == r->sid && a->rule->rev == r->rev)) &&
		     !strcmp(a->protocol, ots_app_name(r->app));
		bool ascii = memchr(r->id, 0, sizeof(r->id)) != NULL; /* terminated ASCII: sent as it is */
		for (const char *c = r->id; ascii && *c; c++)
			ascii = (unsigned char)*c < 0x80;
		if (ok && ascii)
			ok = !strcmp(a->id, r->id);
	} else if (ok && type == OTS_REC_asset) {
		const struct ots_rec_asset *r = rec;
		const Otsense__V1__Asset *a = e->asset;
		size_t ni = 0, nn = 0, ns = 0, nu = 0;
		for (size_t i = 0; i < r->nips && i < OTS_ASSET_MAX_IPS; i++)
			ni += r->ips[i].family == 4 || r->ips[i].family == 6;
		for (size_t i = 0; i < r->nattrs && i < OTS_ASSET_MAX_ATTRS; i++)
			nn += r->attrs[i].kind == OTS_ATTR_NAME;
		for (unsigned i = 0; i < 64 && i < OTS_APP_MAX; i++) {
			ns += r->protocols_served >> i & 1;
			nu += r->protocols_used >> i & 1;
		}
		ok = e->record_case == OTSENSE__V1__ENVELOPE__RECORD_ASSET && a &&
		     a->first_seen_unix_nano == r->first_ns && a->last_seen_unix_nano == r->last_ns &&
		     a->role_confidence == r->role_confidence && a->n_ips == ni && a->n_names == nn &&
		     a->n_protocols_served == ns && a->n_protocols_used == nu;
		for (size_t i = 0, j = 0; ok && i < r->nips && i < OTS_ASSET_MAX_IPS; i++) {
			if (r->ips[i].family != 4 && r->ips[i].family != 6)
				continue;
			ots_fmt_ip(&r->ips[i], ip, sizeof(ip));
			ok = !strcmp(a->ips[j++], ip);
		}
	}
	otsense__v1__envelope__free_unpacked(e, NULL);
	return ok;
}

/* -ENOBUFS below the size, the same bytes at it, nothing written past cap (exact-size heap buffers: ASan) */
static bool every_cap(const struct ots_envelope_meta *m, int type, const void *rec, int n)
{
	bool ok = true;
	for (size_t cap = 0; cap <= (size_t)n && ok; cap++) {
		uint8_t *b = malloc(cap ? cap : 1);
		int rc = ots_encode_pb(m, type, rec, b, cap);
		ok = cap < (size_t)n ? rc == -ENOBUFS : rc == n && !memcmp(b, pb_ref, (size_t)n);
		free(b);
	}
	return ok;
}

#ifndef DW_RECORDS
#define DW_RECORDS 20000
#endif

static void direct_vs_ref(int type, void (*gen)(void *), size_t size, bool raw)
{
	void *rec = malloc(size);
	struct ots_envelope_meta m;
	unsigned bad = 0, bad_dec = 0, bad_cap = 0, bad_json = 0;
	size_t total = 0;
	for (int i = 0; i < DW_RECORDS; i++) {
		if (raw) { /* every byte random: counts, enums, families, strings */
			d_bytes(rec, size);
			d_bytes(&m.boot_id, 3 * sizeof(uint64_t));
			m.sensor_id = d_sensor();
		} else {
			gen(rec);
			d_meta(&m);
		}
		int n;
		if (!same_as_ref(&m, type, rec, &n)) {
			bad++;
			continue;
		}
		total += (size_t)n;
		if (!decodes_back(&m, type, rec, n))
			bad_dec++;
		if (i % 64 == 0) {
			memcpy(pb_ref, pb, (size_t)n);
			if (!every_cap(&m, type, rec, n))
				bad_cap++;
		}
		if (i % 16 == 0) {
			int j = ots_encode_json(&m, type, rec, js, sizeof(js));
			int k = ots_pb_to_json(pb, (size_t)n, js2, sizeof(js2));
			if (j <= 0 || j != k || strcmp(js, js2))
				bad_json++;
		}
	}
	printf("\n  %s%s: %d records, %zu bytes on average; differ from protobuf-c %u, decode %u, sizes %u, json %u",
	       ots_rec_type_names[type], raw ? " (random bytes)" : "", DW_RECORDS, total / DW_RECORDS, bad, bad_dec,
	       bad_cap, bad_json);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(bad_dec, 0);
	CU_ASSERT_EQUAL(bad_cap, 0);
	CU_ASSERT_EQUAL(bad_json, 0);
	free(rec);
}

static void gen_flow(void *r)
{
	d_flow(r);
}
static void gen_alert(void *r)
{
	d_alert(r);
}
static void gen_asset(void *r)
{
	d_asset(r);
}

static void test_direct_flow(void)
{
	direct_vs_ref(OTS_REC_flow, gen_flow, sizeof(struct ots_rec_flow), false);
	direct_vs_ref(OTS_REC_flow, gen_flow, sizeof(struct ots_rec_flow), true);
}

static void test_direct_alert(void)
{
	direct_vs_ref(OTS_REC_alert, gen_alert, sizeof(struct ots_rec_alert), false);
	direct_vs_ref(OTS_REC_alert, gen_alert, sizeof(struct ots_rec_alert), true);
}

static void test_direct_asset(void)
{
	direct_vs_ref(OTS_REC_asset, gen_asset, sizeof(struct ots_rec_asset), false);
	direct_vs_ref(OTS_REC_asset, gen_asset, sizeof(struct ots_rec_asset), true);
}

/* the fixed cases (full, all zero, worst case) and health, which goes through protobuf-c either way */
static void test_direct_cases(void)
{
	for (const struct rec_case *c = cases(); c->name; c++) {
		int n;
		CU_ASSERT(same_as_ref(&META, c->type, c->rec, &n));
	}
	static struct ots_rec_alert a;
	static struct ots_rec_asset s;
	static struct ots_rec_flow f;
	struct ots_envelope_meta m = { "a-sensor-name", UINT64_MAX, UINT64_MAX, UINT64_MAX };
	for (int fill = 0; fill < 256; fill += 0x7f) { /* 0x00, 0x7f, 0xfe: every field at an extreme */
		memset(&a, fill, sizeof(a));
		memset(&s, fill, sizeof(s));
		memset(&f, fill, sizeof(f));
		int n;
		CU_ASSERT(same_as_ref(&m, OTS_REC_alert, &a, &n));
		CU_ASSERT(same_as_ref(&m, OTS_REC_asset, &s, &n));
		CU_ASSERT(same_as_ref(&m, OTS_REC_flow, &f, &n));
	}
	/* every IPv6 address with groups from {0, 1, 0xffff} (6561): the text is inet_ntop's */
	memset(&f, 0, sizeof(f));
	f.t.src.family = 6;
	unsigned bad = 0;
	for (unsigned x = 0; x < 6561; x++) {
		for (unsigned g = 0, v = x; g < 8; g++, v /= 3) {
			uint16_t w = v % 3 == 0 ? 0 : v % 3 == 1 ? 1 : 0xffff;
			f.t.src.ip[2 * g] = (uint8_t)(w >> 8);
			f.t.src.ip[2 * g + 1] = (uint8_t)w;
		}
		int n;
		bad += !same_as_ref(&META, OTS_REC_flow, &f, &n);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* a NULL buffer is too small, a NULL record or meta invalid, as before */
	CU_ASSERT_EQUAL(ots_encode_pb(&META, OTS_REC_flow, &g_flow, NULL, 0), -ENOBUFS);
	CU_ASSERT_EQUAL(ots_encode_pb(&META, OTS_REC_flow, NULL, pb, sizeof(pb)), -EINVAL);
	CU_ASSERT_EQUAL(ots_encode_pb(NULL, OTS_REC_alert, &g_alert, pb, sizeof(pb)), -EINVAL);
	CU_ASSERT_EQUAL(ots_encode_pb(&META, OTS_REC_MAX, &g_alert, pb, sizeof(pb)), -EINVAL);
}

static const struct ots_test protobuf_tests[] = {
	{ "flow: every field through protoc --decode", test_flow_protoc },
	{ "flow: IPv6, unknown protocol, absent fields", test_flow_v6_protoc },
	{ "alert: every field through protoc --decode (unicode, evidence, rule, v6 tuple)", test_alert_protoc },
	{ "asset: every field through protoc --decode (attributes, best vendor, protocols)", test_asset_protoc },
	{ "health: every field through protoc --decode (workers, parse errors)", test_health_protoc },
	{ "minimal records of every type through protoc", test_minimal_protoc },
	{ NULL, NULL },
};

static const struct ots_test json_tests[] = {
	{ "flow: exact JSON, parsed by python", test_flow_json },
	{ "alert: JSON escaping and unicode", test_alert_json },
	{ "asset: JSON", test_asset_json },
	{ "health: JSON", test_health_json },
	{ "minimal records: exact JSON", test_minimal_json },
	{ "pb_to_json(encode_pb(x)) == encode_json(x) for every case", test_pb_to_json_equals_json },
	{ NULL, NULL },
};

static const struct ots_test robustness_tests[] = {
	{ "-ENOBUFS at every buffer size below the need, exact output at it", test_enobufs_every_size },
	{ "worst-case records fit the exporter buffers", test_worst_case_sizes },
	{ "invalid UTF-8 and unterminated fields are repaired", test_invalid_utf8 },
	{ "foreign message with invalid UTF-8: JSON stays valid UTF-8", test_foreign_invalid_utf8 },
	{ "enum ranges, count clamps, attribute selection", test_mapping_edges },
	{ "bad arguments: -EINVAL", test_bad_args },
	{ "pb_peek on every type, prefixes, unknown fields, bad wire types", test_peek },
	{ "record keys", test_record_keys },
	{ "ots_fmt_ip / ots_fmt_mac", test_fmt },
	{ "truncated, bit-flipped and random protobuf: -EBADMSG or valid JSON", test_truncated_and_garbage },
	{ "huge valid message beyond the unpack arena", test_hostile_large },
	{ NULL, NULL },
};

static const struct ots_test direct_tests[] = {
	{ "direct writer == protobuf-c: fixed, extreme and all-IPv6-forms records", test_direct_cases },
	{ "direct writer == protobuf-c: 20000 random + 20000 random-byte flows", test_direct_flow },
	{ "direct writer == protobuf-c: 20000 random + 20000 random-byte alerts", test_direct_alert },
	{ "direct writer == protobuf-c: 20000 random + 20000 random-byte assets", test_direct_asset },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "encode_protobuf", protobuf_tests, NULL, NULL },
	{ "encode_direct", direct_tests, NULL, NULL },
	{ "encode_json", json_tests, NULL, NULL },
	{ "encode_robustness", robustness_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_encode", suites);
}
