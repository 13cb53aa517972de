/* dataplane/worker.h - the worker lcore: rx burst -> decode -> flow table -> TCP reassembly -> app layer.
 *
 * Contract:
 *  - One struct ots_worker per worker lcore, built by main before launch and passed explicitly; the worker
 *    writes only its own struct (stats included); main reads the stats (64-bit counters, torn reads impossible).
 *  - Queues: a worker polls the rx queues assigned to it. When the port has fewer queues than workers, the
 *    workers that own a queue hash each packet with the symmetric Toeplitz hash (rss.h) and hand it to the
 *    owning worker over an SP/SC rte_ring (one ring per producer/consumer pair). Ring full = drop, counted.
 *  - Accounting: every packet taken from a port is processed by exactly one worker or dropped with a reason:
 *    sum(rx_port) == sum(processed) + sum(drops) once the run is drained.
 *  - Stop: main sets run->stop; each worker stops polling its ports, drains its input rings until every
 *    producer has stopped, flushes its flows (end callbacks) and returns.
 */
#ifndef OTS_WORKER_H
#define OTS_WORKER_H

#include <stdint.h>

#include <rte_common.h>

#include "config/config.h"
#include "detect/detect.h"
#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/reasm.h"
#include "dataplane/slotpool.h"
#include "export/record.h"
#include "protocols/pducount.h"
#include "protocols/registry.h"

struct rte_ring;
struct rte_mbuf;

#define OTS_MAX_BURST 256
#define OTS_MAX_PROTO_EVENTS 32
#define OTS_MAX_IDENTITIES 2048
#define OTS_DISC_CACHE 4096 /* recently observed discovery facts, direct-mapped */
#define OTS_MAX_RXQ 16
#define OTS_DET_TAIL_MAX 255 /* stream context kept per direction (sigdb overlap is capped to it) */

/* the last bytes of each direction of a TCP flow, so a pattern split across segments matches */
struct ots_det_tail {
	uint8_t len[2];
	uint8_t b[];     /* direction d's bytes at b + d x det_overlap: a slot is 2 + 2 x det_overlap bytes */
};

#define OTS_DROPS(X) X(sw_ring_full, "hand-off ring to another worker was full")

enum ots_drop {
#define OTS_X_ENUM(name, help) OTS_DROP_##name,
	OTS_DROPS(OTS_X_ENUM)
#undef OTS_X_ENUM
	OTS_DROP_MAX
};
extern const char *const ots_drop_names[OTS_DROP_MAX];

struct ots_worker_stats {
	uint64_t rx_port;     /* packets taken from this worker's rx queues */
	uint64_t rx_ring;     /* packets handed over by other workers */
	uint64_t forwarded;   /* packets handed to other workers */
	uint64_t processed;   /* packets decoded and accounted here */
	uint64_t bytes;       /* wire bytes of processed packets */
	uint64_t drops[OTS_DROP_MAX];
	uint64_t events[OTS_DEV_MAX];
	uint64_t l3[OTS_L3_MAX];
	uint64_t no_flow;     /* processed packets without an IP flow (ARP, L2, late fragments, malformed) */
	uint64_t flow_insert_failed;
	uint64_t multiseg;    /* multi-segment mbufs linearised */
	uint64_t app_flows[OTS_APP_MAX];
	uint64_t app_bytes[OTS_APP_MAX]; /* in-order payload bytes delivered to the app layer */
	uint64_t pdus[OTS_APP_MAX];            /* PDUs parsers understood, per protocol */
	uint64_t proto_events[OTS_APP_MAX][OTS_MAX_PROTO_EVENTS]; /* named parser events (malformed...) */
	uint64_t parse_errors[OTS_APP_MAX];    /* sum of the above per protocol */
	uint64_t app_rejected[OTS_APP_MAX];    /* flows a parser said were not its protocol */
	uint64_t app_state_exhausted;          /* flows not parsed: protocols.state_pool was empty */
	uint64_t app_handoffs;                 /* flows a parser rejected and handed to another protocol */
	uint64_t discovery[4];                 /* new discovery facts: ARP, LLDP, CDP, DHCP */
	uint64_t records[OTS_REC_MAX];         /* records handed to the exporter, by type */
	uint64_t records_dropped[OTS_REC_MAX]; /* hand-off ring full, by type */
	uint64_t loops, idle_loops;
} __rte_cache_aligned;

/* an identity fact a parser reported (summary "identities"; the asset inventory gets it as a record) */
struct ots_identity_fact {
	uint16_t proto;
	uint8_t kind;          /* enum ots_attr_kind */
	uint8_t confidence;
	uint8_t mac[6];
	uint8_t has_mac;
	uint8_t family;
	uint8_t ip[16];
	char value[64];
};

struct ots_run {
	const struct ots_detect *detect;        /* signatures + OT engine, read-only (NULL = detection off) */
	volatile int stop;                      /* set by main */
	volatile int rx_done[OTS_MAX_WORKERS];  /* worker i stopped producing */
	unsigned nworkers;
};

struct ots_rxq {
	uint16_t port;
	uint16_t queue;
};

struct ots_worker {
	unsigned id;
	const struct ots_config *cfg;
	struct ots_run *run;
	int linktype;                    /* OTS_LINK_* of the port */
	int ts_offset;                   /* mbuf timestamp dynfield offset, -1 when the port gives none */
	uint64_t ts_flag;
	uint64_t ts_mult;                /* dynfield units -> ns (net_pcap stores microseconds) */
	uint64_t tsc_hz;
	uint64_t ns_per_tsc_q32;         /* 10^9 * 2^32 / tsc_hz */

	struct ots_rxq rxq[OTS_MAX_RXQ];
	unsigned nrxq;
	int distribute;                  /* hash packets to other workers */
	struct rte_ring *out[OTS_MAX_WORKERS]; /* out[j]: this worker -> worker j (NULL for self / none) */
	struct rte_ring *in[OTS_MAX_WORKERS];  /* in[j]: worker j -> this worker */
	unsigned nin;

	struct ots_flow_table ft;
	struct ots_seg_pool segs;
	struct ots_reasm_cfg rcfg;
	struct ots_reasm_stats rst;
	uint64_t now_ns;                 /* packet clock: pcap timestamps when the port has them, else TSC */
	uint64_t tsc0, ns0;

	uint64_t inspect;                /* protocols.parsers: bit app set = reassemble and parse that protocol */
	uint64_t deliver[4];             /* [enum ots_rule_l4]: bit app set = payload goes to the app layer (parsed,
	                                    or scanned by a signature) */
	struct ots_slot_pool app_states; /* parser states: protocols.state_pool slots of OTS_APP_STATE_MAX bytes */
	struct ots_pducount pdus;        /* (protocol, src, dst, unit, code, kind) counters */
	struct ots_identity_fact *ids;   /* distinct identity facts seen */
	uint32_t nids;
	uint64_t disc_seen[OTS_DISC_CACHE];

	struct rte_ring *rec_ring;       /* records to the exporter (NULL: records off) */
	int export_blocking;             /* main's final flush: wait for ring space instead of dropping */

	struct ots_detect_worker det;    /* detection state (det.d == NULL: off) */
	struct ots_slot_pool det_tails;  /* stream context: detect.stream_pool slots of struct ots_det_tail */
	uint32_t det_overlap;
	uint8_t *det_buf;                /* carried context + payload, for one scan */

	struct ots_worker_stats st;
	uint8_t *scratch;                /* linearisation buffer for multi-segment mbufs */
};

/* Set up tables and pools (runs on main before launch). 0 or -errno with err filled. */
int ots_worker_init(struct ots_worker *w, unsigned id, const struct ots_config *cfg, struct ots_run *run, int socket,
		    char *err, size_t errlen);
void ots_worker_fini(struct ots_worker *w);

/* lcore entry point (arg = struct ots_worker *) */
int ots_worker_main(void *arg);

/* Process n mbufs on this worker (used by the loop and by in-process tests/benchmarks). Frees them. */
void ots_worker_process(struct ots_worker *w, struct rte_mbuf **pkts, uint32_t n);

/* Process one frame given as bytes (tests, benchmarks): decode + flow + reassembly, no mbuf. */
void ots_worker_process_bytes(struct ots_worker *w, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
			      uint64_t ts_ns);

/* End of run: flush every flow. */
void ots_worker_flush(struct ots_worker *w);

#endif
