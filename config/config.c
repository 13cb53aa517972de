/* config/config.c - otsense startup configuration: key table, validating setters, YAML loader, dump.
 *
 * Every configuration key lives in exactly one place: the keys[] table below. An entry names the dotted key,
 * its type, where it lives in struct ots_config, its default (a string parsed by the same setter as user input,
 * so the defaults are validated too), its range or allowed values, a unit for messages and a one-line help.
 * Everything else (defaults, the YAML loader, CLI overrides, --check-config dump, --help-config) walks that
 * table.
 *
 * The loader uses libyaml's event parser. Nested mappings flatten to dotted keys, dotted keys are accepted
 * directly, only scalars are leaf values, a key may appear once per file, and a file is applied atomically: on
 * any error the caller's struct is left untouched. Errors are one line, "WHERE: what is wrong; how to fix it".
 *
 * No global mutable state; functions return 0 or -errno and never exit.
 */
#include "config/config.h"
#include "config/errmsg.h"
#include "protocols/registry.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define KEY_MAX 128     /* longest dotted key path the loader builds */
#define QUOTE_MAX 64    /* longest value quoted back in a message */
#define WHY_MAX 256     /* room for a setter's explanation */
#define IFNAME_MAX 15   /* IFNAMSIZ - 1 */
#define CONFIG_FILE_MAX (16 << 20) /* refuse larger files: a config is a few KiB */

enum key_type {
	KT_UINT,   /* decimal uint32_t, min..max */
	KT_POW2,   /* decimal uint32_t, min..max, power of two */
	KT_SIZE,   /* uint32_t bytes, optional k/m/g suffix (KiB/MiB/GiB), min..max */
	KT_BOOL,   /* bool: true/false yes/no on/off 1/0 */
	KT_ENUM,   /* int index into vals[] */
	KT_STRING, /* char[len], min..max characters */
	KT_PORT,   /* dataplane.port: port_kind + port_name */
};

struct key {
	const char *name;         /* dotted key */
	enum key_type type;
	size_t off;               /* offsetof(struct ots_config, field) */
	size_t len;               /* KT_STRING: sizeof(field) */
	const char *def;          /* default, parsed by the setter */
	uint64_t min, max;        /* numeric range; KT_STRING: length range */
	const char *const *vals;  /* KT_ENUM: allowed values, index == stored value, NULL-terminated */
	const char *unit;         /* shown after the range in messages, may be NULL */
	const char *help;         /* one line for --help-config */
	int (*check)(const char *v, char *why, size_t n); /* KT_STRING: further validation, may be NULL */
};

/* Compile-time check that field f of struct ots_config has type T, evaluating to its offset. */
#define FIELD(f, T)                                                                                            \
	(offsetof(struct ots_config, f) +                                                                      \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((struct ots_config *)0)->f), T) ? 1 : -1]))
#define U32(f) .off = FIELD(f, uint32_t), .len = 0
#define BOOL(f) .off = FIELD(f, bool), .len = 0
#define INT(f) .off = FIELD(f, int), .len = 0
#define FSIZE(f) sizeof(((struct ots_config *)0)->f)
#define STR(f) .off = FIELD(f, char[FSIZE(f)]), .len = FSIZE(f)

static const char *const hugepages_vals[] = { [OTS_HUGE_AUTO] = "auto", [OTS_HUGE_ON] = "on",
					      [OTS_HUGE_OFF] = "off", NULL };
static const char *const fsync_vals[] = { [OTS_FSYNC_NEVER] = "never", [OTS_FSYNC_INTERVAL] = "interval",
					  [OTS_FSYNC_ALWAYS] = "always", NULL };
static const char *const log_level_vals[] = { [OTS_LOG_ERROR] = "error", [OTS_LOG_WARN] = "warn",
					      [OTS_LOG_INFO] = "info", [OTS_LOG_DEBUG] = "debug", NULL };

static int check_parsers(const char *v, char *why, size_t n)
{
	uint64_t set;
	return ots_registry_parse_set(v, &set, why, n);
}

/* The table. Grouped by section and in dump order: keys sharing a section must be adjacent. */
static const struct key keys[] = {
	{ "sensor.id", KT_STRING, STR(sensor_id), "otsense", 1, 63, NULL, NULL,
	  "Sensor name carried by every record, e.g. plant-a-cell-3." },

	{ "dataplane.port", KT_PORT, INT(port_kind), "", 0, 0, NULL, NULL,
	  "Capture source: pcap:FILE, iface:NAME (AF_PACKET), pci:ADDR (DPDK-bound NIC) or memif:SOCKET; "
	  "required here or via --pcap/--iface." },
	{ "dataplane.pcap_loop", KT_BOOL, BOOL(pcap_loop), "false", 0, 0, NULL, NULL,
	  "Replay a pcap port forever (benchmarks); only valid with a pcap port." },
	{ "dataplane.workers", KT_UINT, U32(workers), "1", 1, OTS_MAX_WORKERS, NULL, "worker lcores",
	  "Worker lcores that decode traffic; each owns its flows and reassembly state." },
	{ "dataplane.lcores", KT_STRING, STR(lcores), "", 0, 127, NULL, NULL,
	  "EAL --lcores map, e.g. \"0@0,1@2,2@4\"; empty = automatic placement." },
	{ "dataplane.shared_cores", KT_BOOL, BOOL(shared_cores), "false", 0, 0, NULL, NULL,
	  "Allow more lcores than CPUs (lcores then share CPUs; for tests and small VMs)." },
	{ "dataplane.hugepages", KT_ENUM, INT(hugepages), "auto", 0, 0, hugepages_vals, NULL,
	  "Hugepages: auto = use if available, on = required, off = never (slower)." },
	{ "dataplane.memory_mb", KT_UINT, U32(memory_mb), "0", 0, 1048576, NULL, "MiB, 0 = sized from the config",
	  "EAL memory in MiB; 0 = computed from this configuration." },
	{ "dataplane.eal_args", KT_STRING, STR(eal_args), "", 0, 255, NULL, NULL,
	  "Extra EAL arguments, space separated (expert use)." },
	{ "dataplane.rx_queues", KT_UINT, U32(rx_queues), "0", 0, OTS_MAX_WORKERS, NULL, "queues, 0 = one per worker",
	  "Receive queues on the port; 0 = one per worker." },
	{ "dataplane.rx_descriptors", KT_UINT, U32(rx_descriptors), "4096", 64, 32768, NULL, "descriptors per queue",
	  "Receive descriptors per queue; more absorbs longer bursts." },
	{ "dataplane.burst", KT_UINT, U32(burst), "32", 1, 256, NULL, "packets",
	  "Packets fetched per receive burst." },
	{ "dataplane.mbufs", KT_UINT, U32(mbufs), "65535", 1024, 16777216, NULL, "mbufs",
	  "Packet buffers in the port's mempool." },
	{ "dataplane.mbuf_cache", KT_UINT, U32(mbuf_cache), "256", 0, 512, NULL, "mbufs per lcore",
	  "Per-lcore mempool cache size." },
	{ "dataplane.mbuf_data_size", KT_UINT, U32(mbuf_data_size), "2176", 512, 65535, NULL, "bytes",
	  "Data room per mbuf in bytes, headroom included." },
	{ "dataplane.ring_size", KT_POW2, U32(ring_size), "4096", 64, 1048576, NULL, "slots",
	  "Slots in each software-distribution ring; a power of two." },

	{ "flow.capacity", KT_UINT, U32(flow_capacity), "1048576", 1024, 268435456, NULL, "flows per worker",
	  "Flows tracked per worker; new flows beyond this are counted and not tracked." },
	{ "flow.timeout.tcp_new", KT_UINT, U32(timeout_tcp_new), "30", 1, 86400, NULL, "seconds",
	  "Idle timeout of a TCP flow whose handshake has not completed." },
	{ "flow.timeout.tcp_established", KT_UINT, U32(timeout_tcp_est), "3600", 1, 604800, NULL, "seconds",
	  "Idle timeout of an established TCP flow." },
	{ "flow.timeout.tcp_closed", KT_UINT, U32(timeout_tcp_closed), "10", 0, 86400, NULL, "seconds",
	  "Time a TCP flow is kept after FIN/RST." },
	{ "flow.timeout.udp", KT_UINT, U32(timeout_udp), "120", 1, 86400, NULL, "seconds",
	  "Idle timeout of a UDP flow." },
	{ "flow.timeout.other", KT_UINT, U32(timeout_other), "60", 1, 86400, NULL, "seconds",
	  "Idle timeout of any other flow." },
	{ "flow.expiry_batch", KT_UINT, U32(expiry_batch), "64", 1, 4096, NULL, "flows per loop iteration",
	  "Most flows expired per worker loop iteration (bounds latency spikes)." },

	{ "reassembly.max_bytes_per_direction", KT_SIZE, U32(reasm_max_bytes), "65536", 0, 16777216, NULL, "bytes",
	  "Out-of-order TCP bytes held per direction; 0 = hold none." },
	{ "reassembly.max_segments_per_direction", KT_UINT, U32(reasm_max_segments), "64", 1, 4096, NULL,
	  "segments", "Out-of-order TCP segments held per direction." },
	{ "reassembly.segment_pool", KT_UINT, U32(reasm_pool_segments), "65536", 64, 16777216, NULL,
	  "segments per worker", "Buffered-segment slots per worker, shared by all its flows." },

	{ "protocols.state_pool", KT_UINT, U32(app_state_pool), "8192", 0, 1048576, NULL, "states per worker",
	  "Parser states (4 KiB each) per worker; flows beyond it are classified but not parsed, and counted." },
	{ "protocols.parsers", KT_STRING, STR(parsers), "all", 1, 255, NULL, NULL,
	  "Protocols whose payload is reassembled and parsed: all, none (decode + flow tracking + classification by "
	  "port only, the fastest mode) or a comma-separated list, e.g. modbus,s7comm,arp,lldp.", check_parsers },
	{ "protocols.pdu_counters", KT_UINT, U32(pdu_counters), "65536", 1024, 16777216, NULL, "counters per worker",
	  "Distinct (protocol, source, destination, unit, code, kind) PDU counters per worker." },

	{ "export.json", KT_STRING, STR(export_json), "auto", 0, OTS_PATH_MAX - 1, NULL, NULL,
	  "JSON lines sink: a file, \"-\" = stdout, \"auto\" = stdout when no Kafka brokers are set, \"\" = off." },
	{ "export.protobuf_file", KT_STRING, STR(export_pb_file), "", 0, OTS_PATH_MAX - 1, NULL, NULL,
	  "Length-delimited protobuf Envelope file (varint length + message); empty = off." },
	{ "export.flows", KT_BOOL, BOOL(export_flows), "true", 0, 0, NULL, NULL,
	  "Emit a Flow record for every ended flow." },
	{ "export.ring_size", KT_POW2, U32(export_ring_size), "8192", 64, 1048576, NULL, "records per worker",
	  "Worker-to-exporter ring slots; a full ring drops the record and counts it per type." },
	{ "export.health_interval", KT_UINT, U32(health_interval), "10", 0, 86400, NULL, "seconds, 0 = off",
	  "Seconds between SensorHealth records." },
	{ "export.asset_interval", KT_UINT, U32(asset_interval), "5", 0, 86400, NULL, "seconds",
	  "Least time between two Asset records of the same asset (changes in between are merged)." },
	{ "export.max_assets", KT_UINT, U32(max_assets), "65536", 64, 16777216, NULL, "assets",
	  "Asset inventory capacity; observations of further assets are counted as dropped." },
	{ "export.oui_file", KT_STRING, STR(oui_file), "/usr/share/ieee-data/oui.csv", 0, OTS_PATH_MAX - 1, NULL,
	  NULL, "IEEE OUI registry CSV (Debian package ieee-data) naming the vendor of each MAC; empty = off." },
	{ "export.kafka.brokers", KT_STRING, STR(kafka_brokers), "", 0, 255, NULL, NULL,
	  "Kafka bootstrap servers, host:port[,host:port...]; empty = no Kafka." },
	{ "export.kafka.topic.assets", KT_STRING, STR(kafka_topic_assets), "otsense.assets", 1, 127, NULL, NULL,
	  "Topic for Asset records." },
	{ "export.kafka.topic.alerts", KT_STRING, STR(kafka_topic_alerts), "otsense.alerts", 1, 127, NULL, NULL,
	  "Topic for Alert records." },
	{ "export.kafka.topic.flows", KT_STRING, STR(kafka_topic_flows), "otsense.flows", 1, 127, NULL, NULL,
	  "Topic for Flow records." },
	{ "export.kafka.topic.health", KT_STRING, STR(kafka_topic_health), "otsense.health", 1, 127, NULL, NULL,
	  "Topic for SensorHealth records." },
	{ "export.kafka.queue_max_messages", KT_UINT, U32(kafka_queue_messages), "100000", 1000, 10000000, NULL,
	  "messages", "librdkafka's in-memory queue bound; beyond it records go to the spool." },
	{ "export.kafka.linger_ms", KT_UINT, U32(kafka_linger_ms), "5", 0, 5000, NULL, "ms",
	  "How long librdkafka waits to fill a batch." },
	{ "export.kafka.batch_messages", KT_UINT, U32(kafka_batch_messages), "10000", 1, 1000000, NULL, "messages",
	  "Most messages in one produce batch." },
	{ "export.spool.dir", KT_STRING, STR(spool_dir), "/var/lib/otsense/spool", 1, OTS_PATH_MAX - 1, NULL, NULL,
	  "Directory of the on-disk spool used while Kafka is unreachable (created if missing)." },
	{ "export.spool.max_mb", KT_UINT, U32(spool_max_mb), "1024", 1, 1048576, NULL, "MiB",
	  "Spool size cap; beyond it new records are dropped and counted." },
	{ "export.spool.fsync", KT_ENUM, INT(spool_fsync), "interval", 0, 0, fsync_vals, NULL,
	  "When the spool is fsync'ed: never, every fsync_interval_ms, or after every record (slow)." },
	{ "export.spool.fsync_interval_ms", KT_UINT, U32(spool_fsync_ms), "1000", 1, 60000, NULL, "ms",
	  "fsync period for export.spool.fsync: interval." },

	{ "detect.rule_files", KT_STRING, STR(rule_files), "auto", 0, 1023, NULL, NULL,
	  "Comma-separated signature files (Suricata rule subset, config/rules/README.md); \"auto\" = the shipped "
	  "OT ruleset; \"\" = no signatures. --rules FILE adds more." },
	{ "detect.cache_dir", KT_STRING, STR(rule_cache_dir), "/var/cache/otsense", 0, OTS_PATH_MAX - 1, NULL, NULL,
	  "Where compiled Hyperscan databases are cached, keyed by ruleset hash; \"\" = no cache." },
	{ "detect.alert_window", KT_UINT, U32(alert_window), "60", 0, 86400, NULL, "seconds, 0 = every occurrence",
	  "Repeats of the same alert (same rule or OT operation, same asset pair) within this window are aggregated "
	  "into one record with a count." },
	{ "detect.alert_capacity", KT_UINT, U32(alert_capacity), "4096", 64, 1048576, NULL, "alerts per worker",
	  "Distinct alerts with an open aggregation window per worker." },
	{ "detect.threshold_capacity", KT_UINT, U32(threshold_capacity), "4096", 64, 1048576, NULL,
	  "trackers per worker", "threshold / detection_filter trackers per worker." },
	{ "detect.stream_pool", KT_UINT, U32(stream_pool), "16384", 0, 4194304, NULL, "flows per worker",
	  "TCP flows per worker whose last segment bytes are kept so a pattern split across segments matches." },
	{ "detect.ot_engine", KT_BOOL, BOOL(ot_engine), "true", 0, 0, NULL, NULL,
	  "Raise alerts for dangerous OT operations decoded by the parsers (PLC stop, program download, ...)." },

	{ "stats.interval", KT_UINT, U32(stats_interval), "10", 0, 86400, NULL, "seconds, 0 = off",
	  "Seconds between periodic statistics lines; 0 = off." },

	{ "log.level", KT_ENUM, INT(log_level), "info", 0, 0, log_level_vals, NULL,
	  "Least severe message level logged." },
	{ "log.file", KT_STRING, STR(log_file), "", 0, OTS_PATH_MAX - 1, NULL, NULL,
	  "Log file path; empty or \"-\" = stderr." },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Free-form maps: "PREFIX.NAME: VALUE" pairs kept as they are (export.kafka.properties.* go to librdkafka,
 * which validates them when the sink starts; detect.vars.* are rule variables, checked when rules load).
 * Setting a name twice replaces its value. */
struct map_section {
	const char *prefix;       /* with the trailing dot */
	const char *what;         /* for messages */
	size_t arr, count;        /* offsets of the pair array and of its uint32_t count */
	size_t stride, name_len, value_len;
	uint32_t max;
};

#define MAP(pfx, what, arr_f, count_f, max)                                                                    \
	{ pfx, what, offsetof(struct ots_config, arr_f), FIELD(count_f, uint32_t),                             \
	  sizeof(((struct ots_config *)0)->arr_f[0]), sizeof(((struct ots_config *)0)->arr_f[0].name),           \
	  sizeof(((struct ots_config *)0)->arr_f[0].value), max }

static const struct map_section maps[] = {
	MAP("export.kafka.properties.", "Kafka client properties", kafka_props, kafka_nprops, OTS_MAX_KAFKA_PROPS),
	MAP("detect.vars.", "rule variables", rule_vars, nrule_vars, OTS_MAX_RULE_VARS),
};

#define NMAPS (sizeof(maps) / sizeof(maps[0]))

/* built-in rule variables (config/rules/README.md); detect.vars.NAME overrides one */
static const char *const default_vars[][2] = {
	{ "HOME_NET", "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7]" },
	{ "EXTERNAL_NET", "!$HOME_NET" },
	{ "OT_NET", "$HOME_NET" },
	{ "ENG_STATIONS", "$HOME_NET" },
	{ "HTTP_PORTS", "[80,8080,8000,8008,8443,443]" },
	{ "MODBUS_PORTS", "502" },
	{ "DNP3_PORTS", "20000" },
	{ "S7_PORTS", "102" },
	{ "ENIP_PORTS", "[44818,2222]" },
	{ "IEC104_PORTS", "2404" },
	{ "BACNET_PORTS", "47808" },
};

static int set_map_entry(struct ots_config *c, const struct map_section *m, const char *name, const char *value,
			 const char *pre, const char *sep, char *err, size_t errlen);

static const struct map_section *find_map(const char *key)
{
	for (size_t i = 0; i < NMAPS; i++)
		if (!strncmp(key, maps[i].prefix, strlen(maps[i].prefix)))
			return &maps[i];
	return NULL;
}



static const char *const port_kind_names[] = { [OTS_PORT_NONE] = "none", [OTS_PORT_PCAP] = "pcap",
					       [OTS_PORT_IFACE] = "iface", [OTS_PORT_PCI] = "pci",
					       [OTS_PORT_MEMIF] = "memif" };

#define NPORT_KINDS (sizeof(port_kind_names) / sizeof(port_kind_names[0]))

const char *ots_port_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= NPORT_KINDS)
		return "unknown";
	return port_kind_names[kind];
}

/* ---- small helpers ---------------------------------------------------------------------------------------- */

static int set_map_entry(struct ots_config *c, const struct map_section *m, const char *name, const char *value,
			 const char *pre, const char *sep, char *err, size_t errlen)
{
	uint32_t i, *count = (uint32_t *)((char *)c + m->count);
	char *arr = (char *)c + m->arr;
	size_t nl = strlen(name), vl = strlen(value);

	if (nl == 0 || nl >= m->name_len || vl >= m->value_len) {
		ots_seterr(err, errlen, "%s%skey '%s%s': name must be 1..%zu and value at most %zu characters", pre, sep,
		       m->prefix, name, m->name_len - 1, m->value_len - 1);
		return -EINVAL;
	}
	for (i = 0; i < *count; i++)
		if (!strcmp(arr + i * m->stride, name))
			break;
	if (i == m->max) {
		ots_seterr(err, errlen, "%s%skey '%s%s': at most %u %s", pre, sep, m->prefix, name, m->max, m->what);
		return -E2BIG;
	}
	memcpy(arr + i * m->stride, name, nl + 1);
	memcpy(arr + i * m->stride + m->name_len, value, vl + 1);
	if (i == *count)
		(*count)++;
	return 0;
}

/* Copy s for display in a one-line message: control characters escaped, long values cut with "...". */
static void quote(const char *s, char *out, size_t n)
{
	size_t o = 0, i;

	for (i = 0; s[i] && o + 8 < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* A section is a proper dotted prefix of some key: "flow", "flow.timeout". */
static bool is_section(const char *name)
{
	size_t n = strlen(name);

	if (!n)
		return false;
	for (size_t i = 0; i < NMAPS; i++) /* free-form maps */
		if (!strncmp(maps[i].prefix, name, n) && maps[i].prefix[n] == '.')
			return true;
	for (size_t i = 0; i < NKEYS; i++)
		if (!strncmp(keys[i].name, name, n) && keys[i].name[n] == '.')
			return true;
	return false;
}

static void *field(struct ots_config *c, const struct key *k)
{
	return (char *)c + k->off;
}

static const void *cfield(const struct ots_config *c, const struct key *k)
{
	return (const char *)c + k->off;
}

static bool has_ctrl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Parse a plain decimal number: digits only, no sign, no spaces, no overflow. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return 0;
}

/* ---- setters: parse value, write the field only when valid, else explain in why ------------------------- */

static void range_text(const struct key *k, char *buf, size_t n)
{
	snprintf(buf, n, "%llu..%llu%s%s%s", (unsigned long long)k->min, (unsigned long long)k->max,
		 k->unit ? " (" : "", k->unit ? k->unit : "", k->unit ? ")" : "");
}

static int set_uint(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	char range[96];
	const char *end;
	uint64_t x;

	range_text(k, range, sizeof(range));
	if (parse_u64(v, &end, &x) || *end || x < k->min || x > k->max) {
		snprintf(why, n, "must be an integer %s", range);
		return -EINVAL;
	}
	*(uint32_t *)field(c, k) = (uint32_t)x;
	return 0;
}

static int set_pow2(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	char range[96];
	const char *end;
	uint64_t x;

	range_text(k, range, sizeof(range));
	if (parse_u64(v, &end, &x) || *end || x < k->min || x > k->max || (x & (x - 1))) {
		snprintf(why, n, "must be a power of two %s, e.g. %s", range, k->def);
		return -EINVAL;
	}
	*(uint32_t *)field(c, k) = (uint32_t)x;
	return 0;
}

static int set_size(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	const char *end;
	uint64_t x, mult = 1;
	int rc;

	rc = parse_u64(v, &end, &x);
	if (!rc && *end) {
		switch (tolower((unsigned char)*end)) {
		case 'k': mult = 1ull << 10; break;
		case 'm': mult = 1ull << 20; break;
		case 'g': mult = 1ull << 30; break;
		default: rc = -EINVAL;
		}
		if (!rc && end[1])
			rc = -EINVAL;
		if (!rc && x > UINT64_MAX / mult)
			rc = -ERANGE;
	}
	if (rc || x * mult < k->min || x * mult > k->max) {
		snprintf(why, n, "must be a size %llu..%llu (bytes, or with a k/m/g suffix for KiB/MiB/GiB, e.g. 64k)",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return -EINVAL;
	}
	*(uint32_t *)field(c, k) = (uint32_t)(x * mult);
	return 0;
}

static int set_bool(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*(bool *)field(c, k) = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	snprintf(why, n, "must be true or false (yes/no, on/off, 1/0 also accepted)");
	return -EINVAL;
}

static int enum_count(const struct key *k)
{
	int n = 0;

	while (k->vals[n])
		n++;
	return n;
}

static void enum_text(const struct key *k, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; k->vals[i] && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "|" : "", k->vals[i]);
}

static int set_enum(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	char vals[96];

	for (int i = 0; k->vals[i]; i++) {
		if (!strcasecmp(v, k->vals[i])) {
			*(int *)field(c, k) = i;
			return 0;
		}
	}
	enum_text(k, vals, sizeof(vals));
	snprintf(why, n, "must be one of %s", vals);
	return -EINVAL;
}

static int set_string(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	size_t len = strlen(v);

	if (len > k->max || len >= k->len) {
		snprintf(why, n, "too long: %zu characters, at most %llu", len, (unsigned long long)k->max);
		return -EINVAL;
	}
	if (len < k->min) {
		snprintf(why, n, "must not be empty");
		return -EINVAL;
	}
	if (has_ctrl(v)) {
		snprintf(why, n, "must not contain control characters");
		return -EINVAL;
	}
	if (k->check && k->check(v, why, n) < 0)
		return -EINVAL;
	memset(field(c, k), 0, k->len);
	memcpy(field(c, k), v, len);
	return 0;
}

static bool is_hex_run(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* PCI address as DPDK prints it: [DDDD:]BB:DD.F, device <= 0x1f, function 0..7. */
static bool pci_addr_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 12) {
		if (!is_hex_run(s, 4) || s[4] != ':')
			return false;
		s += 5;
		len -= 5;
	}
	if (len != 7 || !is_hex_run(s, 2) || s[2] != ':' || !is_hex_run(s + 3, 2) || s[5] != '.' ||
	    s[6] < '0' || s[6] > '7')
		return false;
	return s[3] <= '1'; /* device 00..1f */
}

static int port_name_check(int kind, const char *name, char *why, size_t n)
{
	if (!*name) {
		snprintf(why, n, "nothing after '%s:'", port_kind_names[kind]);
		return -EINVAL;
	}
	if (strlen(name) >= OTS_PATH_MAX) {
		snprintf(why, n, "too long: %zu characters after '%s:', at most %d", strlen(name),
			 port_kind_names[kind], OTS_PATH_MAX - 1);
		return -EINVAL;
	}
	if (has_ctrl(name)) {
		snprintf(why, n, "must not contain control characters");
		return -EINVAL;
	}
	if (kind == OTS_PORT_IFACE && (strlen(name) > IFNAME_MAX || strpbrk(name, "/ ") || !strcmp(name, ".") ||
				       !strcmp(name, ".."))) {
		snprintf(why, n, "not a valid interface name (at most %d characters, no '/' or spaces)", IFNAME_MAX);
		return -EINVAL;
	}
	if (kind == OTS_PORT_PCI && !pci_addr_ok(name)) {
		snprintf(why, n, "PCI address must look like 0000:03:00.0 (see dpdk-devbind.py --status)");
		return -EINVAL;
	}
	return 0;
}

static int set_port(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n)
{
	const char *colon = strchr(v, ':');
	int rc;

	(void)k;
	if (!*v) {
		c->port_kind = OTS_PORT_NONE;
		memset(c->port_name, 0, sizeof(c->port_name));
		return 0;
	}
	for (int kind = OTS_PORT_PCAP; colon && (size_t)kind < NPORT_KINDS; kind++) {
		if (strlen(port_kind_names[kind]) != (size_t)(colon - v) ||
		    strncasecmp(v, port_kind_names[kind], (size_t)(colon - v)))
			continue;
		rc = port_name_check(kind, colon + 1, why, n);
		if (rc)
			return rc;
		c->port_kind = kind;
		memset(c->port_name, 0, sizeof(c->port_name));
		memcpy(c->port_name, colon + 1, strlen(colon + 1));
		return 0;
	}
	snprintf(why, n, "must be pcap:FILE, iface:NAME, pci:ADDR or memif:SOCKET");
	return -EINVAL;
}

/* ---- formatting a field back to text (dump, defaults in messages) -------------------------------------- */

static void format_value(const struct key *k, const struct ots_config *c, char *buf, size_t n)
{
	const void *p = cfield(c, k);
	int e;

	switch (k->type) {
	case KT_UINT:
	case KT_POW2:
	case KT_SIZE:
		snprintf(buf, n, "%u", *(const uint32_t *)p);
		break;
	case KT_BOOL:
		snprintf(buf, n, "%s", *(const bool *)p ? "true" : "false");
		break;
	case KT_ENUM:
		e = *(const int *)p;
		snprintf(buf, n, "%s", e >= 0 && e < enum_count(k) ? k->vals[e] : "?");
		break;
	case KT_STRING:
		snprintf(buf, n, "%.*s", (int)k->len, (const char *)p);
		break;
	case KT_PORT:
		if (c->port_kind == OTS_PORT_NONE)
			snprintf(buf, n, "%s", "");
		else
			snprintf(buf, n, "%s:%s", ots_port_kind_name(c->port_kind), c->port_name);
		break;
	}
}

typedef int (*setter_fn)(const struct key *k, struct ots_config *c, const char *v, char *why, size_t n);

static const setter_fn setters[] = {
	[KT_UINT] = set_uint,
	[KT_POW2] = set_pow2,
	[KT_SIZE] = set_size,
	[KT_BOOL] = set_bool,
	[KT_ENUM] = set_enum,
	[KT_STRING] = set_string,
	[KT_PORT] = set_port,
};

void ots_config_defaults(struct ots_config *c)
{
	char why[WHY_MAX];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		/* A default that fails its own setter is a table bug; the unit tests catch it. */
		(void)setters[keys[i].type](&keys[i], c, keys[i].def, why, sizeof(why));
	for (size_t i = 0; i < sizeof(default_vars) / sizeof(default_vars[0]); i++)
		(void)set_map_entry(c, find_map("detect.vars."), default_vars[i][0], default_vars[i][1], "", "", why,
				    sizeof(why));
}

/* ---- unknown keys: closest known name ------------------------------------------------------------------- */

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, KEY_MAX), lb = strnlen(b, KEY_MAX);
	size_t d[3][KEY_MAX + 1]; /* rows i-2, i-1, i, rotated */

	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return d[la % 3][lb];
}

/* Closest key name (sections: closest section name) within a few edits, written to buf; else NULL. */
static const char *suggest(const char *name, bool sections, char *buf, size_t n)
{
	size_t best = (size_t)-1, limit = strlen(name) / 4, nl = strlen(name);
	const char *unique = NULL;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < NKEYS; i++) {
		const char *kn = keys[i].name, *end = kn + strlen(kn);

		/* Candidates: the key itself, or each of its section prefixes ("flow", "flow.timeout"). */
		for (const char *p = sections ? strchr(kn, '.') : end; p; p = *p ? strchr(p + 1, '.') : NULL) {
			char cand[KEY_MAX];
			size_t d;

			snprintf(cand, sizeof(cand), "%.*s", (int)(p - kn), kn);
			d = edit_distance(name, cand);
			if (d < best) {
				best = d;
				snprintf(buf, n, "%s", cand);
			}
			if (!*p)
				break;
		}
	}
	if (best <= limit)
		return buf;
	/* "capacity" at the top level or "timeout.udp": the one key that ends that way. */
	for (size_t i = 0; !sections && i < NKEYS; i++) {
		size_t kl = strlen(keys[i].name);

		if (nl && nl < kl && keys[i].name[kl - nl - 1] == '.' && !strcmp(keys[i].name + kl - nl, name)) {
			if (unique)
				return NULL;
			unique = keys[i].name;
		}
	}
	if (!unique)
		return NULL;
	snprintf(buf, n, "%s", unique);
	return buf;
}

static int unknown_key(const char *where, const char *name, bool section, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8], hint[KEY_MAX];
	const char *s = suggest(name, section, hint, sizeof(hint));

	quote(name, q, sizeof(q));
	if (s)
		ots_seterr(err, errlen, "%s%sunknown key '%s': did you mean '%s'? (otsense --help-config lists every key)",
		       where ? where : "", where ? ": " : "", q, s);
	else
		ots_seterr(err, errlen, "%s%sunknown key '%s' (otsense --help-config lists every key)", where ? where : "",
		       where ? ": " : "", q);
	return -EINVAL;
}

/* ---- ots_config_set ------------------------------------------------------------------------------------- */

static const char *first_key_in(const char *section)
{
	size_t n = strlen(section);

	for (size_t i = 0; i < NKEYS; i++)
		if (!strncmp(keys[i].name, section, n) && keys[i].name[n] == '.')
			return keys[i].name;
	return "";
}

int ots_config_set(struct ots_config *c, const char *key, const char *value, const char *where, char *err,
		   size_t errlen)
{
	char why[WHY_MAX], q[QUOTE_MAX * 4 + 8], def[QUOTE_MAX + 8];
	const char *pre = where && *where ? where : "", *sep = where && *where ? ": " : "";
	const struct key *k;
	int rc;

	if (!c || !key || !value) {
		ots_seterr(err, errlen, "%s%sinternal error: missing key or value", pre, sep);
		return -EINVAL;
	}
	const struct map_section *m = find_map(key);
	if (m)
		return set_map_entry(c, m, key + strlen(m->prefix), value, pre, sep, err, errlen);
	k = find_key(key);
	if (!k) {
		if (is_section(key)) {
			ots_seterr(err, errlen, "%s%skey '%s' is a section, not a value: set one of its keys, e.g. '%s'",
			       pre, sep, key, first_key_in(key));
			return -EINVAL;
		}
		return unknown_key(where && *where ? where : NULL, key, false, err, errlen);
	}
	rc = setters[k->type](k, c, value, why, sizeof(why));
	if (!rc)
		return 0;
	quote(value, q, sizeof(q));
	if (k->type == KT_PORT) {
		ots_seterr(err, errlen,
		       "%s%skey '%s': bad value '%s': %s; e.g. pcap:/var/lib/otsense/capture.pcap, iface:eth1, "
		       "pci:0000:03:00.0 or memif:/run/otsense/memif.sock",
		       pre, sep, key, q, why);
		return rc;
	}
	if (k->type == KT_STRING)
		snprintf(def, sizeof(def), "'%s'", k->def);
	else
		snprintf(def, sizeof(def), "%s", k->def);
	ots_seterr(err, errlen, "%s%skey '%s': bad value '%s': %s; fix the value or remove the key to use the default %s",
	       pre, sep, key, q, why, def);
	return rc;
}

/* ---- YAML loader ---------------------------------------------------------------------------------------- */

struct seen_key {
	char name[KEY_MAX];
	size_t line;
};

struct loader {
	struct ots_config *c;
	const char *path;
	char *err;
	size_t errlen;
	const char *text;      /* the whole file */
	size_t size;
	yaml_parser_t parser;
	struct seen_key *seen; /* every key path met in this file, for duplicates */
	size_t nseen, capseen;
	char where[PATH_MAX + 32]; /* "FILE:LINE" scratch for messages */
};

/* "FILE:LINE" for messages, in the loader's scratch buffer. */
static const char *at(struct loader *ld, size_t line)
{
	snprintf(ld->where, sizeof(ld->where), "%s:%zu", ld->path, line);
	return ld->where;
}

static size_t line_of(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* 1-based line of a byte offset into the file text. */
static size_t line_at(const struct loader *ld, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off && i < ld->size; i++)
		line += ld->text[i] == '\n';
	return line;
}

/* True when a libyaml mark sits after the last line break, i.e. at the end of the file. */
static bool at_eof(const struct loader *ld, const yaml_mark_t *m)
{
	return m->line + 1 >= line_at(ld, ld->size) && (!ld->size || ld->text[ld->size - 1] == '\n');
}

static int syntax_error(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		ots_seterr(ld->err, ld->errlen, "%s: out of memory reading the config", ld->path);
		return -ENOMEM;
	case YAML_READER_ERROR: /* bad encoding or a control character */
		ots_seterr(ld->err, ld->errlen, "%s:%zu: cannot read config: %s (byte %zu); the file must be UTF-8 text",
		       ld->path, line_at(ld, p->problem_offset), problem, p->problem_offset);
		return -EINVAL;
	default:
		break;
	}
	if (p->context && at_eof(ld, &p->problem_mark)) {
		/* An unterminated quote or bracket: the useful line is where it starts, not the end of file. */
		ots_seterr(ld->err, ld->errlen,
		       "%s:%zu: YAML syntax error: %s: the file ends %s that starts on this line; is a quote or "
		       "bracket left open?",
		       ld->path, p->context_mark.line + 1, problem, p->context);
	} else if (p->context) {
		ots_seterr(ld->err, ld->errlen,
		       "%s:%zu: YAML syntax error: %s (%s at line %zu); check indentation and quoting", ld->path,
		       p->problem_mark.line + 1, problem, p->context, p->context_mark.line + 1);
	} else {
		ots_seterr(ld->err, ld->errlen, "%s:%zu: YAML syntax error: %s; check indentation and quoting", ld->path,
		       p->problem_mark.line + 1, problem);
	}
	return -EINVAL;
}

static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return syntax_error(ld);
	return 0;
}

/* Plain ~, null or nothing is YAML's null: an empty value. */
static bool is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL"));
}

static int remember_key(struct loader *ld, const char *name, size_t line)
{
	for (size_t i = 0; i < ld->nseen; i++) {
		if (strcmp(ld->seen[i].name, name))
			continue;
		if (is_section(name))
			ots_seterr(ld->err, ld->errlen,
			       "%s:%zu: section '%s' appears twice (first at line %zu); merge them into one",
			       ld->path, line, name, ld->seen[i].line);
		else
			ots_seterr(ld->err, ld->errlen, "%s:%zu: key '%s' is set twice (first at line %zu); keep only one",
			       ld->path, line, name, ld->seen[i].line);
		return -EINVAL;
	}
	if (ld->nseen == ld->capseen) {
		size_t cap = ld->capseen ? ld->capseen * 2 : 32;
		struct seen_key *s = realloc(ld->seen, cap * sizeof(*s));

		if (!s) {
			ots_seterr(ld->err, ld->errlen, "%s: out of memory reading the config", ld->path);
			return -ENOMEM;
		}
		ld->seen = s;
		ld->capseen = cap;
	}
	memcpy(ld->seen[ld->nseen].name, name, strnlen(name, KEY_MAX - 1));
	ld->seen[ld->nseen].name[strnlen(name, KEY_MAX - 1)] = '\0';
	ld->seen[ld->nseen++].line = line;
	return 0;
}

static int not_scalar(struct loader *ld, const char *name, size_t line, const char *what)
{
	if (find_key(name))
		ots_seterr(ld->err, ld->errlen, "%s:%zu: key '%s': expected a single value, got a %s", ld->path, line,
		       name, what);
	else if (is_section(name))
		ots_seterr(ld->err, ld->errlen, "%s:%zu: key '%s': expected a mapping of its keys (e.g. '%s'), got a %s",
		       ld->path, line, name, first_key_in(name), what);
	else
		return unknown_key(at(ld, line), name, false, ld->err, ld->errlen);
	return -EINVAL;
}

static int apply_scalar(struct loader *ld, const char *name, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *where = at(ld, line_of(ev));

	if (strlen(v) != ev->data.scalar.length) {
		ots_seterr(ld->err, ld->errlen, "%s: key '%s': value contains a NUL character", where, name);
		return -EINVAL;
	}
	if (!find_key(name) && is_section(name) && is_null(ev))
		return 0; /* "flow:" with every key under it commented out */
	return ots_config_set(ld->c, name, is_null(ev) ? "" : v, where, ld->err, ld->errlen);
}

static int load_mapping(struct loader *ld, const char *prefix);

/* One "key: value" pair; kev is the key's scalar event. */
static int load_pair(struct loader *ld, const char *prefix, const yaml_event_t *kev)
{
	const char *kname = (const char *)kev->data.scalar.value;
	size_t line = line_of(kev);
	char name[KEY_MAX];
	yaml_event_t ev;
	int rc, n;

	n = snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", kname);
	if (n < 0 || (size_t)n >= sizeof(name) || strlen(kname) != kev->data.scalar.length || !*kname)
		return unknown_key(at(ld, line), name, false, ld->err, ld->errlen);
	rc = remember_key(ld, name, line);
	if (rc)
		return rc;
	rc = next_event(ld, &ev);
	if (rc)
		return rc;
	switch (ev.type) {
	case YAML_SCALAR_EVENT:
		rc = apply_scalar(ld, name, &ev);
		break;
	case YAML_MAPPING_START_EVENT:
		if (is_section(name))
			rc = load_mapping(ld, name);
		else if (find_key(name))
			rc = not_scalar(ld, name, line, "mapping");
		else
			rc = unknown_key(at(ld, line), name, true, ld->err, ld->errlen);
		break;
	case YAML_SEQUENCE_START_EVENT:
		rc = not_scalar(ld, name, line, "sequence");
		break;
	default: /* alias */
		ots_seterr(ld->err, ld->errlen, "%s:%zu: key '%s': YAML aliases (*name) are not supported", ld->path,
		       line_of(&ev), name);
		rc = -EINVAL;
		break;
	}
	yaml_event_delete(&ev);
	return rc;
}

/* Called after MAPPING_START; consumes through MAPPING_END. */
static int load_mapping(struct loader *ld, const char *prefix)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		rc = next_event(ld, &ev);
		if (rc)
			return rc;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type == YAML_SCALAR_EVENT) {
			rc = load_pair(ld, prefix, &ev);
		} else {
			ots_seterr(ld->err, ld->errlen, "%s:%zu: keys must be plain names, not a %s", ld->path,
			       line_of(&ev), ev.type == YAML_ALIAS_EVENT ? "YAML alias" : "mapping or sequence");
			rc = -EINVAL;
		}
		yaml_event_delete(&ev);
		if (rc)
			return rc;
	}
}

/* The document's root node: a mapping of keys, or nothing at all. */
static int load_root(struct loader *ld)
{
	yaml_event_t ev;
	int rc = next_event(ld, &ev);

	if (rc)
		return rc;
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = load_mapping(ld, "");
	else if (ev.type == YAML_SCALAR_EVENT && is_null(&ev))
		rc = 0;
	else {
		ots_seterr(ld->err, ld->errlen, "%s:%zu: expected a mapping of keys like 'flow:' or 'flow.capacity: 1000' "
		       "at the top level", ld->path, line_of(&ev));
		rc = -EINVAL;
	}
	yaml_event_delete(&ev);
	return rc;
}

/* Stream: at most one document. */
static int load_stream(struct loader *ld)
{
	bool had_doc = false;
	yaml_event_t ev;
	int rc;

	for (;;) {
		rc = next_event(ld, &ev);
		if (rc)
			return rc;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (had_doc) {
				ots_seterr(ld->err, ld->errlen, "%s:%zu: only one YAML document is allowed; remove the "
				       "second '---'", ld->path, line_of(&ev));
				rc = -EINVAL;
				break;
			}
			had_doc = true;
			rc = load_root(ld);
			break;
		default: /* STREAM_START, DOCUMENT_END */
			break;
		}
		yaml_event_delete(&ev);
		if (rc)
			return rc;
	}
}

/* Read the whole file into *buf (NUL-terminated). 0 or -errno with the message written. */
static int read_file(const char *path, char **buf, size_t *size, char *err, size_t errlen)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	char *b = NULL;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		goto fail;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto fail;
	}
	for (;;) {
		char *nb;

		if (n + 1 >= cap || !b) {
			if (n > CONFIG_FILE_MAX) {
				fclose(f);
				free(b);
				ots_seterr(err, errlen, "cannot read config '%s': larger than %d MiB, not a config file?",
				       path, CONFIG_FILE_MAX >> 20);
				return -EFBIG;
			}
			cap = b ? cap * 2 : cap;
			nb = realloc(b, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			b = nb;
		}
		n += fread(b + n, 1, cap - n - 1, f);
		if (ferror(f)) {
			rc = -EIO;
			goto fail;
		}
		if (feof(f))
			break;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*size = n;
	return 0;
fail:
	if (f)
		fclose(f);
	free(b);
	ots_seterr(err, errlen, "cannot read config '%s': %s", path, strerror(-rc));
	return rc;
}

int ots_config_load_file(struct ots_config *c, const char *path, char *err, size_t errlen)
{
	struct ots_config tmp = *c;
	struct loader ld = { .c = &tmp, .path = path, .err = err, .errlen = errlen };
	char *text = NULL;
	int rc;

	rc = read_file(path, &text, &ld.size, err, errlen);
	if (rc)
		return rc;
	ld.text = text;
	if (!yaml_parser_initialize(&ld.parser)) {
		free(text);
		ots_seterr(err, errlen, "%s: out of memory reading the config", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, ld.size);
	rc = load_stream(&ld);
	yaml_parser_delete(&ld.parser);
	free(ld.seen);
	free(text);
	if (!rc)
		*c = tmp;
	return rc;
}

/* ---- cross-key validation ------------------------------------------------------------------------------- */

/* Re-check every field against the table: callers may have written the struct directly. */
static int check_field(const struct key *k, const struct ots_config *c, char *err, size_t errlen)
{
	const void *p = cfield(c, k);
	uint32_t u;
	size_t len;

	switch (k->type) {
	case KT_UINT:
	case KT_POW2:
	case KT_SIZE:
		u = *(const uint32_t *)p;
		if (u < k->min || u > k->max || (k->type == KT_POW2 && (u & (u - 1)))) {
			ots_seterr(err, errlen, "%s = %u is out of range %llu..%llu%s", k->name, u,
			       (unsigned long long)k->min, (unsigned long long)k->max,
			       k->type == KT_POW2 ? " or not a power of two" : "");
			return -EINVAL;
		}
		break;
	case KT_ENUM:
		if (*(const int *)p < 0 || *(const int *)p >= enum_count(k)) {
			ots_seterr(err, errlen, "%s = %d is not a valid value", k->name, *(const int *)p);
			return -EINVAL;
		}
		break;
	case KT_STRING:
		len = strnlen(p, k->len);
		if (len == k->len || len < k->min || has_ctrl(p)) {
			ots_seterr(err, errlen, "%s is empty, unterminated or contains control characters", k->name);
			return -EINVAL;
		}
		break;
	case KT_PORT:
		if (c->port_kind < 0 || (size_t)c->port_kind >= NPORT_KINDS ||
		    strnlen(c->port_name, OTS_PATH_MAX) == OTS_PATH_MAX) {
			ots_seterr(err, errlen, "%s is corrupt (kind %d)", k->name, c->port_kind);
			return -EINVAL;
		}
		break;
	case KT_BOOL:
		break;
	}
	return 0;
}

int ots_config_validate(const struct ots_config *c, char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < NKEYS; i++) {
		rc = check_field(&keys[i], c, err, errlen);
		if (rc)
			return rc;
	}
	if (c->port_kind == OTS_PORT_NONE) {
		ots_seterr(err, errlen, "no capture port configured: use --pcap FILE, --iface NAME or set dataplane.port "
		       "(e.g. dataplane.port: iface:eth1) in the config file");
		return -EINVAL;
	}
	if (c->workers > OTS_MAX_WORKERS || c->rx_queues > OTS_MAX_WORKERS) {
		ots_seterr(err, errlen, "dataplane.workers (%u) and dataplane.rx_queues (%u) must be at most %d",
		       c->workers, c->rx_queues, OTS_MAX_WORKERS);
		return -EINVAL;
	}
	if (c->pcap_loop && c->port_kind != OTS_PORT_PCAP) {
		ots_seterr(err, errlen, "dataplane.pcap_loop is true but dataplane.port is %s:%s; pcap_loop only applies "
		       "to pcap ports, set it to false", ots_port_kind_name(c->port_kind), c->port_name);
		return -EINVAL;
	}
	if (c->reasm_pool_segments < c->reasm_max_segments) {
		ots_seterr(err, errlen, "reassembly.segment_pool (%u) is smaller than "
		       "reassembly.max_segments_per_direction (%u); raise the pool or lower the per-direction limit",
		       c->reasm_pool_segments, c->reasm_max_segments);
		return -EINVAL;
	}
	return 0;
}

/* ---- dump / describe ------------------------------------------------------------------------------------ */

/* Write s as a YAML double-quoted scalar. Setters reject control characters; escape them anyway. */
static void put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* Number of leading dotted components two keys' sections share ("flow.timeout.udp", "flow.capacity" -> 1). */
static int shared_sections(const char *a, const char *b)
{
	int n = 0;

	for (;;) {
		const char *da = strchr(a, '.'), *db = strchr(b, '.');

		if (!da || !db || da - a != db - b || strncmp(a, b, (size_t)(da - a)))
			return n;
		n++;
		a = da + 1;
		b = db + 1;
	}
}

void ots_config_dump(const struct ots_config *c, FILE *out)
{
	char val[OTS_PATH_MAX + 16], defval[OTS_PATH_MAX + 16];
	struct ots_config defs;
	const char *prev = "";

	ots_config_defaults(&defs);
	fprintf(out, "# otsense effective configuration (values differing from the default are marked)\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		int depth = shared_sections(prev, k->name), d = 0;
		const char *p = k->name;

		if (depth == 0)
			fputc('\n', out);
		/* Skip the shared sections, open the new ones. */
		for (; d < depth; d++)
			p = strchr(p, '.') + 1;
		for (const char *dot; (dot = strchr(p, '.')); d++, p = dot + 1)
			fprintf(out, "%*s%.*s:\n", 2 * d, "", (int)(dot - p), p);
		format_value(k, c, val, sizeof(val));
		format_value(k, &defs, defval, sizeof(defval));
		fprintf(out, "%*s%s: ", 2 * d, "", p);
		if (k->type == KT_STRING || k->type == KT_PORT)
			put_quoted(out, val);
		else
			fputs(val, out);
		if (strcmp(val, defval) && k->type != KT_PORT) {
			fputs("  # default ", out);
			if (k->type == KT_STRING || k->type == KT_PORT)
				put_quoted(out, defval);
			else
				fputs(defval, out);
		}
		fputc('\n', out);
		prev = k->name;
	}
	for (size_t j = 0; j < NMAPS; j++) {
		const struct map_section *m = &maps[j];
		uint32_t count = *(const uint32_t *)((const char *)c + m->count);
		const char *arr = (const char *)c + m->arr;
		if (count)
			fputc('\n', out);
		for (uint32_t i = 0; i < count; i++) {
			fprintf(out, "%s%s: ", m->prefix, arr + i * m->stride);
			put_quoted(out, arr + i * m->stride + m->name_len);
			fputc('\n', out);
		}
	}
}

static void describe_type(const struct key *k, char *buf, size_t n)
{
	char extra[128];

	switch (k->type) {
	case KT_UINT:
		range_text(k, extra, sizeof(extra));
		snprintf(buf, n, "integer %s, default %s", extra, k->def);
		break;
	case KT_POW2:
		range_text(k, extra, sizeof(extra));
		snprintf(buf, n, "power of two %s, default %s", extra, k->def);
		break;
	case KT_SIZE:
		range_text(k, extra, sizeof(extra));
		snprintf(buf, n, "size %s, k/m/g suffix accepted, default %s", extra, k->def);
		break;
	case KT_BOOL:
		snprintf(buf, n, "boolean true|false, default %s", k->def);
		break;
	case KT_ENUM:
		enum_text(k, extra, sizeof(extra));
		snprintf(buf, n, "one of %s, default %s", extra, k->def);
		break;
	case KT_STRING:
		snprintf(buf, n, "string, %s%llu characters, default \"%s\"", k->min ? "1.." : "at most ",
			 (unsigned long long)k->max, k->def);
		break;
	case KT_PORT:
		snprintf(buf, n, "port pcap:FILE|iface:NAME|pci:ADDR|memif:SOCKET, no default");
		break;
	}
}

void ots_config_describe(FILE *out)
{
	char type[256];

	fprintf(out, "otsense configuration keys. In the YAML file write them nested\n"
		     "  flow:\n    capacity: 1000000\n"
		     "or dotted\n  flow.capacity: 1000000\n"
		     "Sizes take an optional k/m/g suffix (KiB/MiB/GiB); booleans accept true/false, yes/no, on/off, "
		     "1/0.\n\n");
	for (size_t i = 0; i < NKEYS; i++) {
		describe_type(&keys[i], type, sizeof(type));
		fprintf(out, "%s  (%s)\n    %s\n", keys[i].name, type, keys[i].help);
	}
}
