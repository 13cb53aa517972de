/* export/record.h - the records otsense emits, as fixed-size C structs.
 *
 * Contract:
 *  - Workers fill a struct ots_record and copy it into their SP/SC ring (export/handoff.h); they never encode,
 *    allocate or block. The exporter thread encodes (export/encode.h: protobuf Envelope or JSON, field names from
 *    export/proto/otsense/v1/ *.proto files) and hands the bytes to the sink (export/sink.h).
 *  - Every string is NUL-terminated inside its fixed field (truncated, never overflowing); every array has a
 *    count. Addresses are raw bytes here (family 4: first 4 bytes); the encoder prints them as text.
 *  - Times are nanoseconds since the Unix epoch (packet time for pcap runs).
 *  - Adding a field: append it here and in the .proto with a new number (see README: schema evolution).
 */
#ifndef OTS_RECORD_H
#define OTS_RECORD_H

#include <stdint.h>

#define OTS_RECORD_TYPES(X)                                                                                        \
	X(asset, "otsense.assets", "device inventory entry, emitted when new or changed")                          \
	X(alert, "otsense.alerts", "something dangerous or notable happened")                                      \
	X(flow, "otsense.flows", "summary of a flow at its end (close, timeout, eviction, shutdown)")              \
	X(health, "otsense.health", "sensor health: rates, drops, table use, export queue, spool")

enum ots_rec_type {
#define OTS_X_ENUM(name, topic, help) OTS_REC_##name,
	OTS_RECORD_TYPES(OTS_X_ENUM)
#undef OTS_X_ENUM
	OTS_REC_MAX
};

extern const char *const ots_rec_type_names[OTS_REC_MAX];
extern const char *const ots_rec_default_topics[OTS_REC_MAX];

/* ---- shared pieces ---- */

struct ots_addr {
	uint8_t family; /* 0 none, 4, 6 */
	uint8_t ip[16];
};

struct ots_tuple {
	struct ots_addr src, dst; /* src = client / initiator */
	uint16_t src_port, dst_port;
	uint8_t proto;            /* IP protocol */
	uint8_t pad;
	uint16_t vlan[2];
};

struct ots_asset_key {
	uint8_t mac[6];
	uint8_t has_mac;
	struct ots_addr ip;
};

/* ---- flow ---- */

enum ots_flow_end_reason { OTS_FLOW_END_TIMEOUT = 0, OTS_FLOW_END_EVICTED, OTS_FLOW_END_REUSED,
			   OTS_FLOW_END_SHUTDOWN, OTS_FLOW_END_CLOSED };

#define OTS_FLOWEV_MIDSTREAM 0x1u /* TCP picked up without its handshake */
#define OTS_FLOWEV_GAP       0x2u /* reassembly skipped bytes */
#define OTS_FLOWEV_MALFORMED 0x4u /* an app-layer parser reported malformed data */

struct ots_rec_flow {
	struct ots_tuple t;
	uint8_t src_mac[6], dst_mac[6];
	uint64_t start_ns, end_ns;
	uint64_t pkts_to_server, pkts_to_client;
	uint64_t bytes_to_server, bytes_to_client;
	uint64_t flow_hash;           /* Kafka key: stable for the 5-tuple + VLANs + start time */
	uint16_t app;                 /* enum ots_app_proto (protocols/registry.h) */
	uint8_t tcp_flags_to_server, tcp_flags_to_client;
	uint8_t end_reason;           /* enum ots_flow_end_reason */
	uint8_t tcp_state;            /* enum ots_tcp_state (dataplane/flow.h): 0 none, new, est, closing, closed */
	uint16_t events;              /* OTS_FLOWEV_* */
	uint64_t gap_bytes;
	uint32_t worker;
};

/* ---- alert ---- */

enum ots_alert_engine { OTS_ENGINE_SIGNATURE = 0, OTS_ENGINE_OT, OTS_ENGINE_ANOMALY, OTS_ENGINE_SENSOR };
enum ots_severity { OTS_SEV_INFO = 0, OTS_SEV_LOW, OTS_SEV_MEDIUM, OTS_SEV_HIGH, OTS_SEV_CRITICAL };

#define OTS_ALERT_MAX_MITRE 4
#define OTS_ALERT_MAX_EVIDENCE 6

struct ots_kv {
	char key[24];
	char value[72];
};

struct ots_rec_alert {
	char id[40];                  /* stable id (hex); same alert on the same flow/asset pair = same id */
	uint64_t time_ns;             /* last occurrence */
	uint64_t first_ns;            /* first occurrence in this aggregation window */
	uint32_t count;               /* occurrences aggregated into this record */
	uint8_t engine;               /* enum ots_alert_engine */
	uint8_t severity;             /* enum ots_severity */
	uint16_t app;                 /* protocol involved */
	char category[32];
	char title[96];
	char description[192];
	char mitre[OTS_ALERT_MAX_MITRE][8]; /* ATT&CK for ICS technique ids, e.g. "T0881" */
	uint8_t nmitre;
	uint8_t nevidence;
	uint16_t pad;
	uint32_t sid, rev, gid;       /* rule identity when a signature fired (0 otherwise) */
	struct ots_tuple t;
	struct ots_asset_key src_asset, dst_asset;
	struct ots_kv evidence[OTS_ALERT_MAX_EVIDENCE];
};

/* ---- asset ---- */

enum ots_asset_role { OTS_ROLE_UNKNOWN = 0, OTS_ROLE_PLC, OTS_ROLE_RTU, OTS_ROLE_HMI, OTS_ROLE_ENG_STATION,
		      OTS_ROLE_HISTORIAN, OTS_ROLE_IT_HOST, OTS_ROLE_NETWORK, OTS_ROLE_IOT, OTS_ROLE_SERVER };

enum ots_attr_kind { OTS_ATTR_NAME = 0, OTS_ATTR_VENDOR, OTS_ATTR_MODEL, OTS_ATTR_FIRMWARE, OTS_ATTR_SERIAL,
		     OTS_ATTR_HOSTNAME, OTS_ATTR_PRODUCT_CODE, OTS_ATTR_DEVICE_TYPE, OTS_ATTR_OS,
		     OTS_ATTR_DESCRIPTION, OTS_ATTR_MAX };

#define OTS_ASSET_MAX_ATTRS 10
#define OTS_ASSET_MAX_IPS 4

struct ots_attr {
	uint8_t kind;                 /* enum ots_attr_kind */
	uint8_t confidence;           /* 0..100 */
	uint16_t source;              /* app protocol that told us (enum ots_app_proto) */
	uint32_t pad;
	uint64_t time_ns;             /* packet time it was seen */
	char value[64];
};

struct ots_rec_asset {
	char id[48];                  /* stable id: "mac:001122334455", "ip:10.0.0.1" or "ip:2001:db8::1" (Kafka key) */
	struct ots_asset_key key;
	struct ots_addr ips[OTS_ASSET_MAX_IPS];
	uint8_t nips;
	uint8_t role;                 /* enum ots_asset_role */
	uint8_t role_confidence;
	uint8_t nattrs;
	uint64_t protocols_served;    /* bit per enum ots_app_proto */
	uint64_t protocols_used;
	uint64_t first_ns, last_ns;
	struct ots_attr attrs[OTS_ASSET_MAX_ATTRS];
};

/* ---- health (built by the main lcore, not by workers) ---- */

#define OTS_HEALTH_MAX_WORKERS 64

struct ots_health_worker {
	uint32_t id;
	double pps, bps;
	uint64_t packets, drops, flows_active, flow_capacity, evicted, records_dropped;
};

struct ots_rec_health {
	uint64_t time_ns;
	double uptime_s;
	uint64_t packets, bytes, drops, port_imissed, port_ierrors, port_nombuf;
	uint64_t mempool_in_use, mempool_size;
	uint64_t export_queue_depth, export_sent, export_failed, export_dropped_ring;
	uint64_t spool_bytes, spool_records;
	uint64_t parse_errors[64];    /* per app protocol (enum ots_app_proto) */
	char sink_state[160];         /* "kafka: ok", "kafka: broker unreachable ...", ... */
	uint32_t nworkers;
	struct ots_health_worker w[OTS_HEALTH_MAX_WORKERS];
};

/* what travels on a worker ring */
struct ots_record {
	uint32_t type;                /* enum ots_rec_type (never health on rings) */
	uint32_t worker;
	union {
		struct ots_rec_flow flow;
		struct ots_rec_alert alert;
		struct ots_rec_asset asset;
	} u;
};

#endif
