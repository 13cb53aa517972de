/* tests/test_config.c - unit tests for config/config.c: key table defaults, setters, YAML loader errors
 * (exact line numbers and message contents), CLI overrides, validation, dump/load round trip and the shipped
 * example config/otsense.yaml.
 */
#include "config/config.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif
#ifndef OTS_EXAMPLE_CONFIG
#define OTS_EXAMPLE_CONFIG OTS_TEST_DATA "/../../config/otsense.yaml"
#endif

#define DATA(name) OTS_TEST_DATA "/config/" name
#define ERRLEN 1024
#define NKEYS_EXPECTED 59

/* ---- helpers -------------------------------------------------------------------------------------------- */

static bool contains(const char *s, const char *needle)
{
	if (strstr(s, needle))
		return true;
	fprintf(stderr, "\n  message: %s\n  missing: %s\n", s, needle);
	return false;
}

/* err is one line and starts with "FILE:LINE: ", then holds every needle (NULL-terminated list). */
static void check_msg(const char *err, const char *file, int line, ...)
{
	char prefix[600];
	const char *needle;
	va_list ap;

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	else
		snprintf(prefix, sizeof(prefix), "%s", file);
	if (strncmp(err, prefix, strlen(prefix)))
		fprintf(stderr, "\n  message: %s\n  expected prefix: %s\n", err, prefix);
	CU_ASSERT(!strncmp(err, prefix, strlen(prefix)));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	va_start(ap, line);
	while ((needle = va_arg(ap, const char *)))
		CU_ASSERT(contains(err, needle));
	va_end(ap);
}

/* Load file on top of defaults, expect -EINVAL, the given line and needles, and an untouched config. */
#define LOAD_FAILS(file, line, ...)                                                                            \
	do {                                                                                                   \
		struct ots_config c_, d_;                                                                      \
		char e_[ERRLEN] = "";                                                                          \
		ots_config_defaults(&c_);                                                                      \
		ots_config_defaults(&d_);                                                                      \
		CU_ASSERT_EQUAL(ots_config_load_file(&c_, file, e_, sizeof(e_)), -EINVAL);                     \
		check_msg(e_, file, line, __VA_ARGS__, NULL);                                                  \
		CU_ASSERT(!memcmp(&c_, &d_, sizeof(c_)));                                                      \
	} while (0)

/* ots_config_set from the command line must fail, leave c untouched and say all needles. */
#define SET_FAILS(key, value, ...)                                                                             \
	do {                                                                                                   \
		struct ots_config c_, d_;                                                                      \
		char e_[ERRLEN] = "";                                                                          \
		ots_config_defaults(&c_);                                                                      \
		ots_config_defaults(&d_);                                                                      \
		CU_ASSERT_EQUAL(ots_config_set(&c_, key, value, "command line", e_, sizeof(e_)), -EINVAL);     \
		check_msg(e_, "command line", 0, __VA_ARGS__, NULL);                                           \
		CU_ASSERT(!memcmp(&c_, &d_, sizeof(c_)));                                                      \
	} while (0)

static int set(struct ots_config *c, const char *key, const char *value)
{
	char err[ERRLEN];
	int rc = ots_config_set(c, key, value, "test", err, sizeof(err));

	if (rc)
		fprintf(stderr, "\n  unexpected: %s\n", err);
	return rc;
}

static int set_u32(const char *key, const char *value, uint32_t *out, size_t off)
{
	struct ots_config c;
	char err[ERRLEN];
	int rc;

	ots_config_defaults(&c);
	rc = ots_config_set(&c, key, value, "command line", err, sizeof(err));
	if (rc)
		fprintf(stderr, "\n  unexpected: %s\n", err);
	*out = *(uint32_t *)((char *)&c + off);
	return rc;
}

#define U32_OK(key, field, value, expect)                                                                      \
	do {                                                                                                   \
		uint32_t v_;                                                                                   \
		CU_ASSERT_EQUAL(set_u32(key, value, &v_, offsetof(struct ots_config, field)), 0);              \
		CU_ASSERT_EQUAL(v_, expect);                                                                   \
	} while (0)

static void expect_defaults(const struct ots_config *c)
{
	CU_ASSERT_STRING_EQUAL(c->sensor_id, "otsense");
	CU_ASSERT_EQUAL(c->workers, 1);
	CU_ASSERT_STRING_EQUAL(c->lcores, "");
	CU_ASSERT_EQUAL(c->shared_cores, false);
	CU_ASSERT_EQUAL(c->hugepages, OTS_HUGE_AUTO);
	CU_ASSERT_EQUAL(c->memory_mb, 0);
	CU_ASSERT_STRING_EQUAL(c->eal_args, "");
	CU_ASSERT_EQUAL(c->port_kind, OTS_PORT_NONE);
	CU_ASSERT_STRING_EQUAL(c->port_name, "");
	CU_ASSERT_EQUAL(c->pcap_loop, false);
	CU_ASSERT_EQUAL(c->rx_queues, 0);
	CU_ASSERT_EQUAL(c->rx_descriptors, 4096);
	CU_ASSERT_EQUAL(c->burst, 32);
	CU_ASSERT_EQUAL(c->mbufs, 65535);
	CU_ASSERT_EQUAL(c->mbuf_cache, 256);
	CU_ASSERT_EQUAL(c->mbuf_data_size, 2176);
	CU_ASSERT_EQUAL(c->ring_size, 4096);
	CU_ASSERT_EQUAL(c->flow_capacity, 1048576);
	CU_ASSERT_EQUAL(c->timeout_tcp_new, 30);
	CU_ASSERT_EQUAL(c->timeout_tcp_est, 3600);
	CU_ASSERT_EQUAL(c->timeout_tcp_closed, 10);
	CU_ASSERT_EQUAL(c->timeout_udp, 120);
	CU_ASSERT_EQUAL(c->timeout_other, 60);
	CU_ASSERT_EQUAL(c->expiry_batch, 64);
	CU_ASSERT_EQUAL(c->reasm_max_bytes, 65536);
	CU_ASSERT_EQUAL(c->reasm_max_segments, 64);
	CU_ASSERT_EQUAL(c->reasm_pool_segments, 65536);
	CU_ASSERT_EQUAL(c->stats_interval, 10);
	CU_ASSERT_EQUAL(c->log_level, OTS_LOG_INFO);
	CU_ASSERT_STRING_EQUAL(c->log_file, "");
}

/* Key names listed by ots_config_describe: lines "dotted.key  (type ...)". Returns the count. */
static int described_keys(char names[][64], int max)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0;

	if (!f)
		return -1;
	ots_config_describe(f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strstr(line, "  (");
		size_t klen = sp ? (size_t)(sp - line) : 0;

		/* key lines: "dotted.key  (...)"; skip the intro and the indented help lines */
		if (line[0] == ' ' || !sp || memchr(line, ' ', klen) || !memchr(line, '.', klen))
			continue;
		if (n < max)
			snprintf(names[n], 64, "%.*s", (int)(sp - line), line);
		n++;
		CU_ASSERT(contains(sp, "default"));
		CU_ASSERT_PTR_NOT_NULL(strtok_r(NULL, "\n", &save)); /* help line follows */
	}
	free(buf);
	return n;
}

/* ---- defaults / describe -------------------------------------------------------------------------------- */

static void test_defaults_documented(void)
{
	struct ots_config c;

	memset(&c, 0xa5, sizeof(c));
	ots_config_defaults(&c);
	expect_defaults(&c);
}

static void test_describe_lists_every_key(void)
{
	char names[64][64];
	struct ots_config c;
	int n = described_keys(names, 64);

	CU_ASSERT_EQUAL(n, NKEYS_EXPECTED);
	ots_config_defaults(&c);
	for (int i = 0; i < n && i < 64; i++) {
		char err[ERRLEN];

		/* Every described key is settable: an unknown-key error would mean describe and the table disagree. */
		int rc = ots_config_set(&c, names[i], "", "t", err, sizeof(err));

		CU_ASSERT(rc == 0 || !strstr(err, "unknown key"));
	}
}

static void test_port_kind_names(void)
{
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(OTS_PORT_NONE), "none");
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(OTS_PORT_PCAP), "pcap");
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(OTS_PORT_IFACE), "iface");
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(OTS_PORT_PCI), "pci");
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(OTS_PORT_MEMIF), "memif");
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(42), "unknown");
	CU_ASSERT_STRING_EQUAL(ots_port_kind_name(-1), "unknown");
}

/* ---- setters -------------------------------------------------------------------------------------------- */

static void test_set_uint(void)
{
	static const char *const bad[] = { "+5", "-5", " 5", "5 ", "5x", "0x10", "1e3", "1_000", "", "1.5",
					   "99999999999999999999999999", "4294967297", "65", "0" };

	U32_OK("dataplane.workers", workers, "1", 1);
	U32_OK("dataplane.workers", workers, "64", 64);
	U32_OK("dataplane.workers", workers, "007", 7);
	U32_OK("flow.capacity", flow_capacity, "268435456", 268435456);
	U32_OK("flow.timeout.tcp_closed", timeout_tcp_closed, "0", 0);
	U32_OK("flow.timeout.tcp_established", timeout_tcp_est, "604800", 604800);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		SET_FAILS("dataplane.workers", bad[i], "key 'dataplane.workers'", "must be an integer 1..64",
			  "use the default 1");
}

static void test_set_error_format(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_set(&c, "flow.capacity", "12", "command line", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "command line: key 'flow.capacity': bad value '12': must be an integer "
				    "1024..268435456 (flows per worker); fix the value or remove the key to use "
				    "the default 1048576");
	CU_ASSERT_EQUAL(ots_config_set(&c, "flow.capacity", "12", NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT(!strncmp(err, "key 'flow.capacity': bad value '12'", 35));
	/* A tiny or absent buffer is not an overflow. */
	CU_ASSERT_EQUAL(ots_config_set(&c, "flow.capacity", "12", "x", err, 8), -EINVAL);
	CU_ASSERT_EQUAL(strlen(err), 7);
	CU_ASSERT_EQUAL(ots_config_set(&c, "flow.capacity", "12", "x", NULL, 0), -EINVAL);
	/* Control characters in a bad value are escaped: the message stays one line. */
	SET_FAILS("flow.capacity", "12\nfoo", "bad value '12\\x0afoo'");
}

static void test_set_size_suffixes(void)
{
	static const char *const bad[] = { "17m", "1g", "16777217", "1kb", "k", "-1k", "1 k", "1.5m", "1t",
					   "18446744073709551615k", "" };

	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "0", 0);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "1000", 1000);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "64k", 65536);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "64K", 65536);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "1m", 1048576);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "16M", 16777216);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "16777216", 16777216);
	U32_OK("reassembly.max_bytes_per_direction", reasm_max_bytes, "0g", 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		SET_FAILS("reassembly.max_bytes_per_direction", bad[i], "must be a size 0..16777216",
			  "k/m/g suffix", "default 65536");
}

static void test_set_pow2(void)
{
	U32_OK("dataplane.ring_size", ring_size, "64", 64);
	U32_OK("dataplane.ring_size", ring_size, "1048576", 1048576);
	SET_FAILS("dataplane.ring_size", "3000", "bad value '3000'", "power of two 64..1048576", "default 4096");
	SET_FAILS("dataplane.ring_size", "32", "power of two");
	SET_FAILS("dataplane.ring_size", "2097152", "power of two");
	SET_FAILS("dataplane.ring_size", "0", "power of two");
}

static void test_set_bool(void)
{
	static const char *const yes[] = { "true", "TRUE", "True", "yes", "YES", "on", "On", "1" };
	static const char *const no[] = { "false", "FALSE", "no", "No", "off", "OFF", "0" };
	struct ots_config c;

	ots_config_defaults(&c);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		c.shared_cores = false;
		CU_ASSERT_EQUAL(set(&c, "dataplane.shared_cores", yes[i]), 0);
		CU_ASSERT_EQUAL(c.shared_cores, true);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		c.shared_cores = true;
		CU_ASSERT_EQUAL(set(&c, "dataplane.shared_cores", no[i]), 0);
		CU_ASSERT_EQUAL(c.shared_cores, false);
	}
	SET_FAILS("dataplane.pcap_loop", "maybe", "bad value 'maybe'", "true or false", "default false");
	SET_FAILS("dataplane.pcap_loop", "2", "true or false");
	SET_FAILS("dataplane.pcap_loop", "", "true or false");
	SET_FAILS("dataplane.pcap_loop", "yess", "true or false");
}

static void test_set_enum(void)
{
	struct ots_config c;

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(set(&c, "dataplane.hugepages", "on"), 0);
	CU_ASSERT_EQUAL(c.hugepages, OTS_HUGE_ON);
	CU_ASSERT_EQUAL(set(&c, "dataplane.hugepages", "off"), 0);
	CU_ASSERT_EQUAL(c.hugepages, OTS_HUGE_OFF);
	CU_ASSERT_EQUAL(set(&c, "dataplane.hugepages", "AUTO"), 0);
	CU_ASSERT_EQUAL(c.hugepages, OTS_HUGE_AUTO);
	CU_ASSERT_EQUAL(set(&c, "log.level", "error"), 0);
	CU_ASSERT_EQUAL(c.log_level, OTS_LOG_ERROR);
	CU_ASSERT_EQUAL(set(&c, "log.level", "warn"), 0);
	CU_ASSERT_EQUAL(c.log_level, OTS_LOG_WARN);
	CU_ASSERT_EQUAL(set(&c, "log.level", "debug"), 0);
	CU_ASSERT_EQUAL(c.log_level, OTS_LOG_DEBUG);
	SET_FAILS("log.level", "verbose", "key 'log.level'", "bad value 'verbose'",
		  "must be one of error|warn|info|debug", "default info");
	SET_FAILS("dataplane.hugepages", "yes", "must be one of auto|on|off", "default auto");
}

static void expect_port(const char *spec, int kind, const char *name)
{
	struct ots_config c;

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(set(&c, "dataplane.port", spec), 0);
	CU_ASSERT_EQUAL(c.port_kind, kind);
	CU_ASSERT_STRING_EQUAL(c.port_name, name);
}

static void test_set_port(void)
{
	char longname[600];

	expect_port("pcap:/data/capture.pcap", OTS_PORT_PCAP, "/data/capture.pcap");
	expect_port("pcap:relative dir/x.pcap", OTS_PORT_PCAP, "relative dir/x.pcap");
	expect_port("iface:eth1", OTS_PORT_IFACE, "eth1");
	expect_port("iface:enp3s0f1.100", OTS_PORT_IFACE, "enp3s0f1.100");
	expect_port("pci:0000:03:00.0", OTS_PORT_PCI, "0000:03:00.0");
	expect_port("pci:af:1f.7", OTS_PORT_PCI, "af:1f.7");
	expect_port("memif:/run/otsense/memif.sock", OTS_PORT_MEMIF, "/run/otsense/memif.sock");
	expect_port("IFACE:eth0", OTS_PORT_IFACE, "eth0");
	expect_port("", OTS_PORT_NONE, "");

	SET_FAILS("dataplane.port", "eth1", "key 'dataplane.port'", "bad value 'eth1'",
		  "pcap:FILE, iface:NAME, pci:ADDR or memif:SOCKET");
	SET_FAILS("dataplane.port", "usb:1", "pcap:FILE, iface:NAME");
	/* protocols.parsers: registry names of inspectable protocols only */
	struct ots_config pc;
	ots_config_defaults(&pc);
	CU_ASSERT_STRING_EQUAL(pc.parsers, "all");
	CU_ASSERT_EQUAL(set(&pc, "protocols.parsers", "none"), 0);
	CU_ASSERT_EQUAL(set(&pc, "protocols.parsers", " All, "), 0);
	CU_ASSERT_EQUAL(set(&pc, "protocols.parsers", "modbus, s7comm,lldp"), 0);
	CU_ASSERT_STRING_EQUAL(pc.parsers, "modbus, s7comm,lldp");
	SET_FAILS("protocols.parsers", "modbus,modbu", "key 'protocols.parsers'", "bad value 'modbus,modbu'",
		  "'modbu' is not a protocol otsense inspects", "modbus", "dnp3", "lldp");
	SET_FAILS("protocols.parsers", "ntp", "'ntp' is not a protocol otsense inspects"); /* classified, no parser */
	SET_FAILS("protocols.parsers", ",", "empty list");
	SET_FAILS("dataplane.port", "pcap:", "nothing after 'pcap:'");
	SET_FAILS("dataplane.port", "iface:", "nothing after 'iface:'");
	SET_FAILS("dataplane.port", "iface:averyveryverylongname", "not a valid interface name");
	SET_FAILS("dataplane.port", "iface:a/b", "not a valid interface name");
	SET_FAILS("dataplane.port", "pci:xyz", "PCI address must look like 0000:03:00.0");
	SET_FAILS("dataplane.port", "pci:0000:03:20.0", "PCI address");
	SET_FAILS("dataplane.port", "pci:0000:03:00.8", "PCI address");
	SET_FAILS("dataplane.port", "pci:00000:03:00.0", "PCI address");
	snprintf(longname, sizeof(longname), "pcap:/%0511d", 0);
	SET_FAILS("dataplane.port", longname, "too long: 512 characters after 'pcap:', at most 511");
	longname[strlen(longname) - 1] = '\0';
	expect_port(longname, OTS_PORT_PCAP, longname + 5);
}

static void test_set_string(void)
{
	char s63[64], s64[65], path[600];
	struct ots_config c;

	memset(s63, 'a', 63);
	s63[63] = '\0';
	memset(s64, 'b', 64);
	s64[64] = '\0';
	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(set(&c, "sensor.id", s63), 0);
	CU_ASSERT_STRING_EQUAL(c.sensor_id, s63);
	CU_ASSERT_EQUAL(set(&c, "sensor.id", "plant-a: cell #3 \"north\""), 0);
	CU_ASSERT_STRING_EQUAL(c.sensor_id, "plant-a: cell #3 \"north\"");
	SET_FAILS("sensor.id", s64, "key 'sensor.id'", "too long: 64 characters, at most 63", "default 'otsense'");
	SET_FAILS("sensor.id", "", "must not be empty");
	SET_FAILS("sensor.id", "a\tb", "control characters");
	snprintf(path, sizeof(path), "/%0510d", 0);
	CU_ASSERT_EQUAL(set(&c, "log.file", path), 0);
	CU_ASSERT_EQUAL(strlen(c.log_file), 511);
	snprintf(path, sizeof(path), "/%0511d", 0);
	SET_FAILS("log.file", path, "too long: 512 characters, at most 511");
	CU_ASSERT_EQUAL(set(&c, "log.file", ""), 0);
	CU_ASSERT_STRING_EQUAL(c.log_file, "");
}

static void test_set_unknown_key(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_set(&c, "flow.capcity", "1", "command line", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "command line: unknown key 'flow.capcity': did you mean 'flow.capacity'? "
				    "(otsense --help-config lists every key)");
	SET_FAILS("flow.timeout.tcp_establised", "1", "did you mean 'flow.timeout.tcp_established'?");
	SET_FAILS("dataplane.wrokers", "1", "did you mean 'dataplane.workers'?");
	SET_FAILS("capacity", "1", "did you mean 'flow.capacity'?");
	SET_FAILS("timeout.udp", "1", "did you mean 'flow.timeout.udp'?");
	SET_FAILS("Flow.Capacity", "1", "did you mean 'flow.capacity'?");
	CU_ASSERT_EQUAL(ots_config_set(&c, "zzz", "1", "command line", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "command line: unknown key 'zzz' (otsense --help-config lists every key)");
	SET_FAILS("flow", "5", "key 'flow' is a section", "e.g. 'flow.capacity'");
	SET_FAILS("", "5", "unknown key ''");
}

/* ---- loading files -------------------------------------------------------------------------------------- */

static void expect_good(const struct ots_config *c)
{
	CU_ASSERT_STRING_EQUAL(c->sensor_id, "plant-a-cell-3");
	CU_ASSERT_EQUAL(c->port_kind, OTS_PORT_IFACE);
	CU_ASSERT_STRING_EQUAL(c->port_name, "eth1");
	CU_ASSERT_EQUAL(c->workers, 4);
	CU_ASSERT_EQUAL(c->shared_cores, true);
	CU_ASSERT_EQUAL(c->hugepages, OTS_HUGE_OFF);
	CU_ASSERT_EQUAL(c->rx_queues, 4);
	CU_ASSERT_EQUAL(c->ring_size, 8192);
	CU_ASSERT_STRING_EQUAL(c->eal_args, "--no-telemetry");
	CU_ASSERT_EQUAL(c->flow_capacity, 2000000);
	CU_ASSERT_EQUAL(c->timeout_tcp_est, 7200);
	CU_ASSERT_EQUAL(c->timeout_udp, 30);
	CU_ASSERT_EQUAL(c->reasm_max_bytes, 1048576);
	CU_ASSERT_EQUAL(c->log_level, OTS_LOG_DEBUG);
	CU_ASSERT_STRING_EQUAL(c->log_file, "/var/log/otsense.log");
	/* untouched keys keep their defaults */
	CU_ASSERT_EQUAL(c->timeout_tcp_new, 30);
	CU_ASSERT_EQUAL(c->burst, 32);
	CU_ASSERT_EQUAL(c->stats_interval, 10);
}

static void test_load_good_nested_and_dotted(void)
{
	struct ots_config a, b;
	char err[ERRLEN] = "";

	ots_config_defaults(&a);
	CU_ASSERT_EQUAL(ots_config_load_file(&a, DATA("good_nested.yaml"), err, sizeof(err)), 0);
	expect_good(&a);
	CU_ASSERT_EQUAL(ots_config_validate(&a, err, sizeof(err)), 0);
	ots_config_defaults(&b);
	CU_ASSERT_EQUAL(ots_config_load_file(&b, DATA("good_dotted.yaml"), err, sizeof(err)), 0);
	expect_good(&b);
	CU_ASSERT(!memcmp(&a, &b, sizeof(a)));
}

static void test_load_empty(void)
{
	struct ots_config c, d;
	char err[ERRLEN] = "";

	ots_config_defaults(&d);
	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("empty.yaml"), err, sizeof(err)), 0);
	CU_ASSERT(!memcmp(&c, &d, sizeof(c)));
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("comments_only.yaml"), err, sizeof(err)), 0);
	CU_ASSERT(!memcmp(&c, &d, sizeof(c)));
}

static void test_load_unknown_key(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("bad_unknown.yaml"), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, DATA("bad_unknown.yaml") ":3: unknown key 'flow.capcity': did you mean "
			       "'flow.capacity'? (otsense --help-config lists every key)");
	LOAD_FAILS(DATA("bad_unknown_far.yaml"), 3, "unknown key 'frobnicator_setting' (otsense --help-config");
	LOAD_FAILS(DATA("bad_section.yaml"), 2, "unknown key 'flw': did you mean 'flow'?");
}

static void test_load_unknown_far_has_no_hint(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("bad_unknown_far.yaml"), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NULL(strstr(err, "did you mean"));
}

static void test_load_wrong_type(void)
{
	LOAD_FAILS(DATA("bad_type.yaml"), 2, "key 'dataplane.workers'", "bad value 'four'",
		   "must be an integer 1..64", "use the default 1");
}

static void test_load_out_of_range(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("bad_range.yaml"), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, DATA("bad_range.yaml") ":4: key 'flow.capacity': bad value '12': must be an "
			       "integer 1024..268435456 (flows per worker); fix the value or remove the key to use "
			       "the default 1048576");
	LOAD_FAILS(DATA("bad_range_high.yaml"), 2, "key 'dataplane.burst'", "bad value '512'",
		   "must be an integer 1..256", "default 32");
}

static void test_load_not_power_of_two(void)
{
	LOAD_FAILS(DATA("bad_pow2.yaml"), 3, "key 'dataplane.ring_size'", "bad value '3000'", "power of two",
		   "default 4096");
}

static void test_load_bad_enum_bool_port(void)
{
	LOAD_FAILS(DATA("bad_enum.yaml"), 2, "key 'log.level'", "bad value 'verbose'", "error|warn|info|debug");
	LOAD_FAILS(DATA("bad_bool.yaml"), 3, "key 'dataplane.pcap_loop'", "bad value 'maybe'", "true or false");
	LOAD_FAILS(DATA("bad_port.yaml"), 3, "key 'dataplane.port'", "bad value 'eth1'",
		   "pcap:FILE, iface:NAME, pci:ADDR or memif:SOCKET", "e.g. pcap:");
}

static void test_load_overlong_string(void)
{
	LOAD_FAILS(DATA("bad_long.yaml"), 2, "key 'sensor.id'", "bad value 'aaaaaaaa", "...'",
		   "too long: 69 characters, at most 63");
}

static void test_load_not_a_scalar(void)
{
	LOAD_FAILS(DATA("bad_seq.yaml"), 3, "key 'dataplane.port'", "expected a single value, got a sequence");
	LOAD_FAILS(DATA("bad_map.yaml"), 2, "key 'flow.capacity'", "expected a single value, got a mapping");
	LOAD_FAILS(DATA("bad_section_scalar.yaml"), 1, "key 'flow' is a section", "e.g. 'flow.capacity'");
	LOAD_FAILS(DATA("bad_toplevel.yaml"), 1, "expected a mapping of keys");
	LOAD_FAILS(DATA("bad_alias.yaml"), 4, "key 'flow.timeout.other'", "aliases");
	LOAD_FAILS(DATA("bad_two_docs.yaml"), 2, "only one YAML document");
}

static void test_load_syntax_error(void)
{
	LOAD_FAILS(DATA("bad_syntax.yaml"), 4, "YAML syntax error", "found unexpected end of stream",
		   "quoted scalar", "quote or bracket left open");
	LOAD_FAILS(DATA("bad_syntax_indent.yaml"), 3, "YAML syntax error", "did not find expected key",
		   "block mapping at line 1", "indentation");
	LOAD_FAILS(DATA("bad_syntax_flow.yaml"), 3, "YAML syntax error", "flow mapping");
}

static void test_load_duplicate_key(void)
{
	LOAD_FAILS(DATA("bad_dup.yaml"), 5, "key 'flow.capacity' is set twice (first at line 2)");
	LOAD_FAILS(DATA("bad_dup_section.yaml"), 5, "section 'flow' appears twice (first at line 1)");
}

static void test_load_missing_file(void)
{
	struct ots_config c, d;
	char err[ERRLEN];
	const char *path = DATA("does_not_exist.yaml");

	ots_config_defaults(&c);
	ots_config_defaults(&d);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, path, err, sizeof(err)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "cannot read config '" DATA("does_not_exist.yaml")
				    "': No such file or directory");
	CU_ASSERT_EQUAL(ots_config_load_file(&c, OTS_TEST_DATA "/config", err, sizeof(err)), -EISDIR);
	CU_ASSERT(contains(err, "Is a directory"));
	CU_ASSERT(!memcmp(&c, &d, sizeof(c)));
}

static void test_load_unreadable_file(void)
{
	char path[] = "/tmp/ots_cfg_XXXXXX";
	struct ots_config c;
	char err[ERRLEN], expect[ERRLEN];
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "flow.capacity: 2048\n", 20), 20);
	close(fd);
	chmod(path, 0);
	ots_config_defaults(&c);
	if (geteuid() != 0) { /* root reads anything */
		CU_ASSERT_EQUAL(ots_config_load_file(&c, path, err, sizeof(err)), -EACCES);
		snprintf(expect, sizeof(expect), "cannot read config '%s': Permission denied", path);
		CU_ASSERT_STRING_EQUAL(err, expect);
	}
	unlink(path);
}

/* A file bigger than the loader's first read buffer: line numbers stay exact. */
static void test_load_large_file_line(void)
{
	char path[] = "/tmp/ots_cfg_big_XXXXXX", err[ERRLEN], expect[ERRLEN];
	struct ots_config c;
	int fd = mkstemp(path);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "flow:\n");
	for (int i = 0; i < 3000; i++)
		fprintf(f, "  # comment line %d, long enough to push the file well past a few pages\n", i);
	fprintf(f, "  capacity: 2048\nstats.interval: -1\n");
	fclose(f);
	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s:3003: key 'stats.interval': bad value '-1'", path);
	CU_ASSERT(contains(err, expect));
	CU_ASSERT_EQUAL(c.flow_capacity, 1048576);
	unlink(path);
}

static void test_failed_load_is_atomic(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("good_nested.yaml"), err, sizeof(err)), 0);
	/* bad_pow2.yaml sets workers: 2 before failing on ring_size: nothing of it may stick. */
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("bad_pow2.yaml"), err, sizeof(err)), -EINVAL);
	expect_good(&c);
}

static void test_cli_override_after_file(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, DATA("good_nested.yaml"), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ots_config_set(&c, "dataplane.workers", "8", "command line", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ots_config_set(&c, "dataplane.port", "pcap:/tmp/t.pcap", "command line", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.workers, 8);
	CU_ASSERT_EQUAL(c.port_kind, OTS_PORT_PCAP);
	CU_ASSERT_STRING_EQUAL(c.port_name, "/tmp/t.pcap");
	CU_ASSERT_EQUAL(c.flow_capacity, 2000000); /* from the file */
	CU_ASSERT_EQUAL(c.log_level, OTS_LOG_DEBUG);
}

/* ---- validate ------------------------------------------------------------------------------------------- */

static void test_validate(void)
{
	struct ots_config c;
	char err[ERRLEN];

	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "--pcap FILE"));
	CU_ASSERT(contains(err, "--iface NAME"));
	CU_ASSERT(contains(err, "dataplane.port"));

	CU_ASSERT_EQUAL(set(&c, "dataplane.port", "pcap:/x.pcap"), 0);
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(set(&c, "dataplane.pcap_loop", "true"), 0);
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), 0);

	CU_ASSERT_EQUAL(set(&c, "dataplane.port", "iface:eth1"), 0);
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "dataplane.pcap_loop"));
	CU_ASSERT_EQUAL(set(&c, "dataplane.pcap_loop", "false"), 0);

	CU_ASSERT_EQUAL(set(&c, "reassembly.max_segments_per_direction", "4096"), 0);
	CU_ASSERT_EQUAL(set(&c, "reassembly.segment_pool", "1024"), 0);
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "reassembly.segment_pool (1024)"));
	CU_ASSERT(contains(err, "reassembly.max_segments_per_direction (4096)"));
	CU_ASSERT_EQUAL(set(&c, "reassembly.segment_pool", "4096"), 0);
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), 0);

	/* Fields written directly (not through the setters) are re-checked. */
	c.workers = OTS_MAX_WORKERS + 1;
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "dataplane.workers"));
	c.workers = 2;
	c.rx_queues = 65;
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "dataplane.rx_queues"));
	c.rx_queues = 0;
	c.ring_size = 3000;
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "dataplane.ring_size"));
	c.ring_size = 4096;
	c.log_level = 9;
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), -EINVAL);
	CU_ASSERT(contains(err, "log.level"));
	c.log_level = OTS_LOG_INFO;
	CU_ASSERT_EQUAL(ots_config_validate(&c, err, sizeof(err)), 0);
}

/* ---- dump / example --------------------------------------------------------------------------------------- */

/* Dump c to a file, load the file over fresh defaults, compare. */
static void round_trip(const struct ots_config *c)
{
	char path[] = "/tmp/ots_cfg_dump_XXXXXX", err[ERRLEN] = "";
	struct ots_config back;
	int fd = mkstemp(path);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	ots_config_dump(c, f);
	fclose(f);
	ots_config_defaults(&back);
	CU_ASSERT_EQUAL(ots_config_load_file(&back, path, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "\n  reload: %s\n", err);
	CU_ASSERT(!memcmp(&back, c, sizeof(back)));
	unlink(path);
}

static void test_dump_round_trip(void)
{
	static const char *const kv[][2] = {
		{ "sensor.id", "cell \"3\" \\ north: #1 — ÄÖ" },
		{ "dataplane.workers", "7" },
		{ "dataplane.lcores", "0@0,1@2" },
		{ "dataplane.shared_cores", "yes" },
		{ "dataplane.hugepages", "off" },
		{ "dataplane.memory_mb", "2048" },
		{ "dataplane.eal_args", "--no-telemetry --log-level=lib.eal:debug" },
		{ "dataplane.port", "pcap:/data/a b/'x'.pcap" },
		{ "dataplane.pcap_loop", "on" },
		{ "dataplane.rx_queues", "3" },
		{ "dataplane.rx_descriptors", "1024" },
		{ "dataplane.burst", "64" },
		{ "dataplane.mbufs", "131071" },
		{ "dataplane.mbuf_cache", "0" },
		{ "dataplane.mbuf_data_size", "9216" },
		{ "dataplane.ring_size", "65536" },
		{ "flow.capacity", "4096" },
		{ "flow.timeout.tcp_new", "5" },
		{ "flow.timeout.tcp_established", "604800" },
		{ "flow.timeout.tcp_closed", "0" },
		{ "flow.timeout.udp", "1" },
		{ "flow.timeout.other", "86400" },
		{ "flow.expiry_batch", "4096" },
		{ "reassembly.max_bytes_per_direction", "3m" },
		{ "reassembly.max_segments_per_direction", "128" },
		{ "reassembly.segment_pool", "64" },
		{ "protocols.state_pool", "100" },
		{ "protocols.pdu_counters", "2048" },
		{ "export.json", "/var/log/otsense/records.json" },
		{ "export.protobuf_file", "/var/log/otsense/records.pb" },
		{ "export.flows", "false" },
		{ "export.ring_size", "1024" },
		{ "export.health_interval", "30" },
		{ "export.asset_interval", "0" },
		{ "export.max_assets", "1000" },
		{ "export.oui_file", "" },
		{ "export.kafka.brokers", "k1:9092,k2:9092" },
		{ "export.kafka.topic.assets", "plant.assets" },
		{ "export.kafka.topic.alerts", "plant.alerts" },
		{ "export.kafka.topic.flows", "plant.flows" },
		{ "export.kafka.topic.health", "plant.health" },
		{ "export.kafka.queue_max_messages", "5000" },
		{ "export.kafka.linger_ms", "50" },
		{ "export.kafka.batch_messages", "500" },
		{ "export.spool.dir", "/data/spool" },
		{ "export.spool.max_mb", "64" },
		{ "export.spool.fsync", "always" },
		{ "export.spool.fsync_interval_ms", "250" },
		{ "detect.rule_files", "/etc/otsense/a.rules,/etc/otsense/b.rules" },
		{ "detect.cache_dir", "" },
		{ "detect.alert_window", "0" },
		{ "detect.alert_capacity", "128" },
		{ "detect.threshold_capacity", "256" },
		{ "detect.stream_pool", "0" },
		{ "detect.ot_engine", "false" },
		{ "protocols.parsers", "modbus,arp" },
		{ "stats.interval", "0" },
		{ "log.level", "warn" },
		{ "log.file", "-" },
		{ "export.kafka.properties.security.protocol", "SASL_SSL" },
		{ "detect.vars.HOME_NET", "[10.1.0.0/16]" },
	};
	struct ots_config c, d;

	CU_ASSERT_EQUAL(sizeof(kv) / sizeof(kv[0]), NKEYS_EXPECTED + 2); /* + one Kafka property, one rule var */
	ots_config_defaults(&c);
	round_trip(&c); /* all defaults, port unset */
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		CU_ASSERT_EQUAL(set(&c, kv[i][0], kv[i][1]), 0);
	ots_config_defaults(&d);
	/* every key changed: the dump must carry all of them */
	CU_ASSERT(memcmp(&c, &d, sizeof(c)) != 0);
	round_trip(&c);
	for (const char *ports[] = { "iface:eth1", "pci:0000:03:00.0", "memif:/run/m.sock", NULL }, **p = ports;
	     *p; p++) {
		CU_ASSERT_EQUAL(set(&c, "dataplane.port", *p), 0);
		round_trip(&c);
	}
}

static void test_dump_marks_non_defaults(void)
{
	char *buf = NULL;
	size_t len = 0;
	struct ots_config c;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(f != NULL);
	ots_config_defaults(&c);
	CU_ASSERT_EQUAL(set(&c, "flow.capacity", "2048"), 0);
	ots_config_dump(&c, f);
	fclose(f);
	CU_ASSERT(contains(buf, "\nflow:\n  capacity: 2048  # default 1048576\n"));
	CU_ASSERT(contains(buf, "\n  timeout:\n    tcp_new: 30\n"));
	CU_ASSERT(contains(buf, "  port: \"\"\n"));
	free(buf);
}

static void test_example_config(void)
{
	struct ots_config c, d;
	char err[ERRLEN] = "", names[64][64], *text = NULL;
	int n = described_keys(names, 64);
	size_t len = 0;
	FILE *f;

	ots_config_defaults(&c);
	ots_config_defaults(&d);
	CU_ASSERT_EQUAL(ots_config_load_file(&c, OTS_EXAMPLE_CONFIG, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "\n  example: %s\n", err);
	CU_ASSERT(!memcmp(&c, &d, sizeof(c)));
	expect_defaults(&c);

	/* Every key is documented in the example: its last name component appears as "name:". */
	f = fopen(OTS_EXAMPLE_CONFIG, "r");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(getdelim(&text, &len, '\0', f) > 0);
	fclose(f);
	CU_ASSERT_EQUAL(n, NKEYS_EXPECTED);
	for (int i = 0; i < n && i < 64 && text; i++) {
		char leaf[80];

		snprintf(leaf, sizeof(leaf), " %s:", strrchr(names[i], '.') + 1);
		CU_ASSERT(contains(text, leaf));
	}
	free(text);
}

/* ---- registry ------------------------------------------------------------------------------------------- */

static const struct ots_test defaults_tests[] = {
	{ "defaults match config.h", test_defaults_documented },
	{ "describe lists every key", test_describe_lists_every_key },
	{ "port kind names", test_port_kind_names },
	{ NULL, NULL },
};

static const struct ots_test setter_tests[] = {
	{ "uint: signs, junk, overflow, range", test_set_uint },
	{ "error message format", test_set_error_format },
	{ "size suffixes", test_set_size_suffixes },
	{ "power of two", test_set_pow2 },
	{ "bool spellings", test_set_bool },
	{ "enum values", test_set_enum },
	{ "port specs", test_set_port },
	{ "string lengths", test_set_string },
	{ "unknown key suggestions", test_set_unknown_key },
	{ NULL, NULL },
};

static const struct ots_test load_tests[] = {
	{ "good nested and dotted", test_load_good_nested_and_dotted },
	{ "empty and comment-only files", test_load_empty },
	{ "unknown key with suggestion", test_load_unknown_key },
	{ "unknown key without suggestion", test_load_unknown_far_has_no_hint },
	{ "wrong type", test_load_wrong_type },
	{ "out of range low/high", test_load_out_of_range },
	{ "not a power of two", test_load_not_power_of_two },
	{ "bad enum, bool, port", test_load_bad_enum_bool_port },
	{ "overlong string", test_load_overlong_string },
	{ "sequence/mapping where scalar expected", test_load_not_a_scalar },
	{ "YAML syntax error line", test_load_syntax_error },
	{ "duplicate keys", test_load_duplicate_key },
	{ "missing file", test_load_missing_file },
	{ "unreadable file", test_load_unreadable_file },
	{ "line numbers in a large file", test_load_large_file_line },
	{ "failed load is atomic", test_failed_load_is_atomic },
	{ "CLI override after file", test_cli_override_after_file },
	{ NULL, NULL },
};

static const struct ots_test other_tests[] = {
	{ "validate cross-key checks", test_validate },
	{ "dump/load round trip", test_dump_round_trip },
	{ "dump marks non-defaults", test_dump_marks_non_defaults },
	{ "example config/otsense.yaml", test_example_config },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "config defaults", defaults_tests, NULL, NULL },
	{ "config setters", setter_tests, NULL, NULL },
	{ "config load", load_tests, NULL, NULL },
	{ "config validate/dump", other_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_config", suites);
}
