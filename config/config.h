/* config/config.h - otsense startup configuration.
 *
 * Contract:
 *  - One table of keys (config.c) holds every key's name, type, default, range and help; one validating
 *    setter per key. Nothing else in the tree lists keys.
 *  - ots_config_defaults() fills every field from the table.
 *  - ots_config_load_file() applies a YAML file (libyaml) on top: nested maps flatten to dotted keys
 *    ("flow:\n  capacity: 1000" == "flow.capacity: 1000").
 *  - ots_config_set() applies one key/value (used for CLI overrides and by the loader).
 *  - Errors: return -errno and write one line into err:
 *      "FILE:LINE: key 'flow.capacity': bad value 'abc': expected an integer 1024..268435456 (flows per worker)"
 *    An unknown key names the closest known key as a hint.
 *  - Read once at start by main; workers only ever see a const struct ots_config *.
 */
#ifndef OTS_CONFIG_H
#define OTS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OTS_PATH_MAX 512
#define OTS_MAX_WORKERS 64
#define OTS_MAX_KAFKA_PROPS 32
#define OTS_MAX_RULE_VARS 32

enum ots_port_kind {
	OTS_PORT_NONE = 0, /* no port configured (error at start unless CLI gives one) */
	OTS_PORT_PCAP,     /* "pcap:/path/file.pcap"  net_pcap, finite (or looped with pcap_loop) */
	OTS_PORT_IFACE,    /* "iface:eth1"            net_af_packet, rx_queues queue pairs, kernel fanout */
	OTS_PORT_PCI,      /* "pci:0000:03:00.0"      a DPDK-bound NIC, RSS with a symmetric Toeplitz key */
	OTS_PORT_MEMIF,    /* "memif:/run/x.sock"     net_memif client (benchmarks: generator is the server) */
};

enum ots_hugepages { OTS_HUGE_AUTO = 0, OTS_HUGE_ON, OTS_HUGE_OFF };
enum ots_log_level { OTS_LOG_ERROR = 0, OTS_LOG_WARN, OTS_LOG_INFO, OTS_LOG_DEBUG };
enum ots_fsync { OTS_FSYNC_NEVER = 0, OTS_FSYNC_INTERVAL, OTS_FSYNC_ALWAYS };

struct ots_config {
	/* sensor.* */
	char sensor_id[64];          /* sensor.id: name carried by every record; default "otsense" */

	/* dataplane.* */
	uint32_t workers;            /* dataplane.workers: worker lcores, 1..64, default 1 */
	char lcores[128];            /* dataplane.lcores: EAL --lcores map, "" = automatic */
	bool shared_cores;           /* dataplane.shared_cores: allow more lcores than CPUs, default false */
	int hugepages;               /* dataplane.hugepages: auto|on|off, default auto */
	uint32_t memory_mb;          /* dataplane.memory_mb: EAL memory, 0 = sized from the config, default 0 */
	char eal_args[256];          /* dataplane.eal_args: extra EAL arguments, space separated, default "" */
	int port_kind;               /* dataplane.port: "pcap:FILE" | "iface:NAME" | "pci:ADDR" | "memif:SOCKET" */
	char port_name[OTS_PATH_MAX];/*   the part after the colon */
	bool pcap_loop;              /* dataplane.pcap_loop: replay the pcap forever (benchmarks), default false */
	uint32_t rx_queues;          /* dataplane.rx_queues: queues on the port, 0 = one per worker, 0..64 */
	uint32_t rx_descriptors;     /* dataplane.rx_descriptors: 64..32768, default 4096 */
	uint32_t burst;              /* dataplane.burst: packets per rx burst, 1..256, default 32 */
	uint32_t mbufs;              /* dataplane.mbufs: mbufs in the port's pool, 1024..16777216, default 65535 */
	uint32_t mbuf_cache;         /* dataplane.mbuf_cache: per-lcore mempool cache, 0..512, default 256 */
	uint32_t mbuf_data_size;     /* dataplane.mbuf_data_size: bytes, 512..65535, default 2176 */
	uint32_t ring_size;          /* dataplane.ring_size: software-distribution ring slots, power of 2,
	                                64..1048576, default 4096 */

	/* flow.* */
	uint32_t flow_capacity;      /* flow.capacity: flows per worker, 1024..268435456, default 1048576 */
	uint32_t timeout_tcp_new;    /* flow.timeout.tcp_new: s, handshake not complete, 1..86400, default 30 */
	uint32_t timeout_tcp_est;    /* flow.timeout.tcp_established: s, 1..604800, default 3600 */
	uint32_t timeout_tcp_closed; /* flow.timeout.tcp_closed: s after FIN/RST, 0..86400, default 10 */
	uint32_t timeout_udp;        /* flow.timeout.udp: s, 1..86400, default 120 */
	uint32_t timeout_other;      /* flow.timeout.other: s, 1..86400, default 60 */
	uint32_t expiry_batch;       /* flow.expiry_batch: max flows expired per loop iteration, 1..4096, default 64 */

	/* reassembly.* */
	uint32_t reasm_max_bytes;    /* reassembly.max_bytes_per_direction: out-of-order bytes held per direction,
	                                0..16777216 (size suffixes k/m/g accepted), default 65536 */
	uint32_t reasm_max_segments; /* reassembly.max_segments_per_direction: 1..4096, default 64 */
	uint32_t reasm_pool_segments;/* reassembly.segment_pool: buffered-segment slots per worker, 64..16777216,
	                                default 65536 */

	/* protocols.* */
	uint32_t app_state_pool;          /* protocols.state_pool: per-flow parser states per worker, 0..1048576,
	                                     default 8192 (4 KiB each) */
	char parsers[256];                /* protocols.parsers: "all", "none" or comma-separated protocol names
	                                     (ots_registry_parse_set), default "all" */
	uint32_t pdu_counters;            /* protocols.pdu_counters: distinct (protocol, src, dst, unit, code, kind)
	                                     counters per worker, 1024..16777216, default 65536 */

	/* export.* */
	char export_json[OTS_PATH_MAX];   /* export.json: JSON lines file, "-" = stdout, "auto" = stdout when no Kafka
	                                     brokers are configured, "" = off; default auto */
	char export_pb_file[OTS_PATH_MAX];/* export.protobuf_file: length-delimited Envelope file, "" = off */
	bool export_flows;                /* export.flows: emit a Flow record per ended flow, default true */
	uint32_t export_ring_size;        /* export.ring_size: records per worker hand-off ring, power of 2,
	                                     64..1048576, default 8192 */
	uint32_t health_interval;         /* export.health_interval: s between SensorHealth records, 0 = off,
	                                     default 10 */
	uint32_t asset_interval;          /* export.asset_interval: s at least between two Asset records of one
	                                     asset, 0..86400, default 5 */
	uint32_t max_assets;              /* export.max_assets: inventory capacity, 64..16777216, default 65536 */
	char oui_file[OTS_PATH_MAX];      /* export.oui_file: IEEE OUI registry CSV for MAC vendors, "" = off,
	                                     default /usr/share/ieee-data/oui.csv (Debian ieee-data) */
	char kafka_brokers[256];          /* export.kafka.brokers: "host:port,..."; "" = no Kafka (default) */
	char kafka_topic_assets[128];     /* export.kafka.topic.assets, default otsense.assets */
	char kafka_topic_alerts[128];     /* export.kafka.topic.alerts, default otsense.alerts */
	char kafka_topic_flows[128];      /* export.kafka.topic.flows, default otsense.flows */
	char kafka_topic_health[128];     /* export.kafka.topic.health, default otsense.health */
	uint32_t kafka_queue_messages;    /* export.kafka.queue_max_messages: librdkafka queue bound before the
	                                     spool takes over, 1000..10000000, default 100000 */
	uint32_t kafka_linger_ms;         /* export.kafka.linger_ms: 0..5000, default 5 */
	uint32_t kafka_batch_messages;    /* export.kafka.batch_messages: 1..1000000, default 10000 */
	uint32_t kafka_nprops;            /* export.kafka.properties.NAME: VALUE pairs passed to librdkafka as is */
	struct {
		char name[64];
		char value[256];
	} kafka_props[OTS_MAX_KAFKA_PROPS];
	char spool_dir[OTS_PATH_MAX];     /* export.spool.dir: where records wait while Kafka is unreachable,
	                                     default /var/lib/otsense/spool */
	uint32_t spool_max_mb;            /* export.spool.max_mb: spool size cap, 1..1048576, default 1024 */
	int spool_fsync;                  /* export.spool.fsync: never|interval|always, default interval */
	uint32_t spool_fsync_ms;          /* export.spool.fsync_interval_ms: 1..60000, default 1000 */

	/* detect.* */
	char rule_files[1024];            /* detect.rule_files: comma-separated rule files, "auto" = the shipped ruleset
	                                     (config/rules/otsense-ot.rules), "" = no signatures; default auto */
	char rule_cache_dir[OTS_PATH_MAX];/* detect.cache_dir: compiled Hyperscan databases, "" = no cache,
	                                     default /var/cache/otsense */
	uint32_t alert_window;            /* detect.alert_window: s an alert is aggregated before it is raised again,
	                                     0..86400, 0 = every occurrence, default 60 */
	uint32_t alert_capacity;          /* detect.alert_capacity: distinct alerts in open windows per worker,
	                                     64..1048576, default 4096 */
	uint32_t threshold_capacity;      /* detect.threshold_capacity: threshold/detection_filter trackers per
	                                     worker, 64..1048576, default 4096 */
	uint32_t stream_pool;             /* detect.stream_pool: TCP flows per worker whose segment tail is kept so a
	                                     pattern split across segments matches, 0..4194304, default 16384 */
	bool ot_engine;                   /* detect.ot_engine: alerts from parsed OT operations, default true */
	uint32_t nrule_vars;              /* detect.vars.NAME: VALUE rule variables ($HOME_NET ...) */
	struct {
		char name[48];
		char value[512];
	} rule_vars[OTS_MAX_RULE_VARS];
	/* stats.* / log.* */
	uint32_t stats_interval;     /* stats.interval: s between periodic stats lines, 0 = off, default 10 */
	int log_level;               /* log.level: error|warn|info|debug, default info */
	char log_file[OTS_PATH_MAX]; /* log.file: "" or "-" = stderr */
};

/* Fill every key with its default. */
void ots_config_defaults(struct ots_config *c);

/* Apply YAML file on top of c. 0, or -errno with a one-line message in err. */
int ots_config_load_file(struct ots_config *c, const char *path, char *err, size_t errlen);

/* Apply one key=value. where names the origin for messages ("file.yaml:12", "command line"). */
int ots_config_set(struct ots_config *c, const char *key, const char *value, const char *where, char *err,
		   size_t errlen);

/* Cross-key checks after everything is applied (e.g. a port is required). 0 or -EINVAL + message. */
int ots_config_validate(const struct ots_config *c, char *err, size_t errlen);

/* Print the effective configuration as YAML (used by --check-config). */
void ots_config_dump(const struct ots_config *c, FILE *out);

/* Print every key with its type, default, range and help (used by --help-config and docs). */
void ots_config_describe(FILE *out);

const char *ots_port_kind_name(int kind);

#endif
