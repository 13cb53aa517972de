/* dataplane/flow.h - one worker's flow table.
 *
 * Contract:
 *  - One table per worker, never shared: no locks. rte_hash (extendable buckets, so capacity is exact) maps a
 *    symmetric key (VLANs + ordered address/port pair + protocol) to a position; flows[] and cold[] are
 *    preallocated arrays indexed by that position. No allocation after ots_flow_table_init().
 *  - Direction: key side 0 is the lower (address, port); ots_flow_key_make() says which side sent the packet.
 *    A flow remembers which side is the client (the SYN sender, else the first packet's sender).
 *  - Hot state (struct ots_flow) is 64 bytes: counters, timestamps, TCP state and expiry links. Cold state
 *    (reassembly, later parser state) lives in cold[].
 *  - Expiry: flows sit on one list per timeout class, oldest first (moved to the tail at most once per second
 *    of activity, so the hot path rarely touches list neighbours). ots_flow_expire() ends at most `budget`
 *    flows whose class timeout has passed. When the table is full, the least recently active flow is evicted
 *    (counted) to make room: a SYN flood cannot stop the sensor.
 *  - Ended flows (expired, evicted, closed and reused, or flushed at exit) go through the end callback
 *    before their slot is reused.
 */
#ifndef OTS_FLOW_H
#define OTS_FLOW_H

#include <stdint.h>

#include "dataplane/decode.h"
#include "dataplane/reasm.h"

struct rte_hash;

struct ots_flow_key {
	uint32_t addr[2][4]; /* side 0 = lower (addr, port), side 1 = higher; network order */
	uint16_t port[2];    /* host order */
	uint16_t vlan[2];    /* outer, inner */
	uint8_t proto;
	uint8_t family;
	uint8_t pad[6];
} __attribute__((aligned(8))); /* 48 bytes: rte_hash_crc reads it 8 bytes at a time */

enum ots_tcp_state {
	OTS_TCP_NONE = 0,   /* not TCP */
	OTS_TCP_NEW,        /* SYN seen, handshake not complete */
	OTS_TCP_EST,        /* established, or picked up mid-stream */
	OTS_TCP_CLOSING,    /* FIN seen one way */
	OTS_TCP_CLOSED,     /* FIN both ways, or RST */
};

enum ots_flow_class { OTS_FC_TCP_NEW = 0, OTS_FC_TCP_EST, OTS_FC_TCP_CLOSED, OTS_FC_UDP, OTS_FC_OTHER, OTS_FC_MAX };

enum ots_flow_end { OTS_END_TIMEOUT = 0, OTS_END_EVICTED, OTS_END_REUSED, OTS_END_SHUTDOWN, OTS_END_MAX };

#define OTS_FF_MIDSTREAM 0x01u /* TCP flow picked up without seeing its SYN */
#define OTS_FF_COUNTED   0x02u /* app classification counted */
#define OTS_FF_INUSE     0x04u /* slot holds a live flow */

struct ots_flow {
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t bytes[2];   /* [0] client->server, [1] server->client */
	uint32_t pkts[2];
	uint32_t prev, next; /* expiry list links (positions), OTS_FLOW_NONE at the ends */
	uint32_t list_sec;   /* second in which the flow was last moved to its list tail */
	uint16_t app;        /* enum ots_app_proto */
	uint8_t tcp_state;
	uint8_t tcp_flags[2];/* OR of flags seen, per direction (client, server) */
	uint8_t fclass;      /* enum ots_flow_class */
	uint8_t client_side; /* key side (0/1) of the client */
	uint8_t flags;       /* OTS_FF_* */
};

struct ots_flow_cold {
	struct ots_reasm_dir rd[2]; /* [0] client->server, [1] server->client */
	uint32_t client_isn;        /* sequence number of the client's SYN (valid with OTS_FC_ISN) */
	uint32_t cflags;
	uint64_t gap_bytes;         /* bytes reassembly skipped, both directions */
	uint32_t app_state;         /* parser state slot + 1, 0 = none */
	uint32_t det_state;         /* detection stream-context slot + 1, 0 = none */
	uint8_t app_flags;          /* OTS_AF_* */
	uint8_t mac[2][6];          /* Ethernet address of each key side (Ethernet ports) */
};

#define OTS_FC_ISN 0x1u
#define OTS_FC_MAC 0x2u

#define OTS_AF_DEAD    0x1u /* the parser rejected the flow: not its protocol */
#define OTS_AF_NOSTATE 0x2u /* no parser state was free when the flow started */
#define OTS_AF_ROLES   0x4u /* server/client roles observed for this flow */
#define OTS_AF_ENG     0x8u /* client seen programming/controlling */
#define OTS_AF_WRITER  0x10u /* client seen writing */

#define OTS_FLOW_NONE UINT32_MAX

struct ots_flow_stats {
	uint64_t created;
	uint64_t by_proto[3];       /* tcp, udp, other */
	uint64_t ended[OTS_END_MAX];
	uint64_t active;
	uint64_t lookups;
};

struct ots_flow_table;
typedef void (*ots_flow_end_fn)(void *ud, struct ots_flow_table *ft, uint32_t pos, int why);

struct ots_flow_table {
	struct rte_hash *h;
	struct ots_flow *flows;
	struct ots_flow_cold *cold;
	uint32_t capacity;
	uint32_t head[OTS_FC_MAX], tail[OTS_FC_MAX];
	uint64_t timeout_ns[OTS_FC_MAX];
	struct ots_flow_stats st;
	ots_flow_end_fn on_end;
	void *ud;
};

/* Build the symmetric key; returns the sending side (0 or 1). */
static inline int ots_flow_key_make(const struct ots_pkt *pkt, struct ots_flow_key *k)
{
	int cmp;
	if (pkt->family == 4) {
		uint32_t a = __builtin_bswap32(pkt->src[0]), b = __builtin_bswap32(pkt->dst[0]);
		cmp = a < b ? -1 : a > b ? 1 : (pkt->sport < pkt->dport ? -1 : pkt->sport > pkt->dport);
	} else {
		cmp = memcmp(pkt->src, pkt->dst, 16);
		if (cmp == 0)
			cmp = pkt->sport < pkt->dport ? -1 : pkt->sport > pkt->dport;
	}
	int side = cmp > 0; /* sender is the higher side */
	memcpy(k->addr[side], pkt->src, 16);
	memcpy(k->addr[!side], pkt->dst, 16);
	k->port[side] = pkt->sport;
	k->port[!side] = pkt->dport;
	k->vlan[0] = pkt->vlan[0];
	k->vlan[1] = pkt->vlan[1];
	k->proto = pkt->ip_proto;
	k->family = pkt->family;
	memset(k->pad, 0, sizeof(k->pad));
	return side;
}

/* name: unique per process (rte_hash names are global). socket: NUMA socket. */
int ots_flow_table_init(struct ots_flow_table *ft, const char *name, uint32_t capacity, int socket,
			const uint32_t timeout_s[OTS_FC_MAX], ots_flow_end_fn on_end, void *ud);
void ots_flow_table_fini(struct ots_flow_table *ft);

/* Look up n (<= 64) keys at once; pos[i] = position or -ENOENT. */
int ots_flow_lookup_bulk(struct ots_flow_table *ft, const struct ots_flow_key **keys, uint32_t n, int32_t *pos);

/* Evict least recently active flows until n more fit (call before a burst's lookup, so no insert evicts a flow
 * a later packet of the same burst already looked up). */
void ots_flow_make_room(struct ots_flow_table *ft, uint32_t n);

/* Insert a flow; an existing key returns its position unchanged. Evicts the oldest as a last resort when full.
 * Returns position (>= 0) or -errno. */
int32_t ots_flow_insert(struct ots_flow_table *ft, const struct ots_flow_key *k, uint64_t now_ns);

#define OTS_FLOW_SEC_SHIFT 30 /* a flow moves to its expiry list's tail at most once per 2^30 ns (~1.07 s) */

/* ots_flow_update's rare steps, out of line: the first packet picks the client; a flow changes expiry list */
void ots_flow_first_packet(struct ots_flow_table *ft, uint32_t pos, int side, const struct ots_pkt *pkt);
void ots_flow_relist(struct ots_flow_table *ft, uint32_t pos, uint8_t cls, uint32_t sec);

static inline uint8_t ots_flow_tcp_class(uint8_t state)
{
	return state == OTS_TCP_NEW ? OTS_FC_TCP_NEW : state == OTS_TCP_CLOSED ? OTS_FC_TCP_CLOSED : OTS_FC_TCP_EST;
}

static inline void ots_flow_tcp_track(struct ots_flow *f, int dir, uint8_t fl, uint32_t payload_len)
{
	/* handshake completes with the client's ACK after the server's SYN-ACK, or with data */
	if (f->tcp_state == OTS_TCP_NEW &&
	    ((dir == 0 && (fl & OTS_TCP_ACK) && (f->tcp_flags[1] & OTS_TCP_SYN)) || payload_len))
		f->tcp_state = OTS_TCP_EST;
	if (fl & OTS_TCP_RST)
		f->tcp_state = OTS_TCP_CLOSED;
	else if (fl & OTS_TCP_FIN)
		f->tcp_state = (f->tcp_flags[!dir] & OTS_TCP_FIN) ? OTS_TCP_CLOSED : OTS_TCP_CLOSING;
}

/* Account one packet on flow pos. side = key side of the sender. Returns direction: 0 to server, 1 to client.
 * Inline: it runs for every packet. */
static inline int ots_flow_update(struct ots_flow_table *ft, uint32_t pos, int side, const struct ots_pkt *pkt,
				  uint32_t wire_len, uint64_t now_ns)
{
	struct ots_flow *f = &ft->flows[pos];
	uint8_t fl = pkt->tcp_flags;
	if (__builtin_expect(f->pkts[0] == 0 && f->pkts[1] == 0, 0))
		ots_flow_first_packet(ft, pos, side, pkt);
	int dir = side != f->client_side;
	f->pkts[dir]++;
	f->bytes[dir] += wire_len;
	if (now_ns > f->last_ns)
		f->last_ns = now_ns;
	uint8_t cls = f->fclass;
	if (pkt->ip_proto == 6) {
		ots_flow_tcp_track(f, dir, fl, pkt->payload_len);
		f->tcp_flags[dir] |= fl;
		cls = ots_flow_tcp_class(f->tcp_state);
	}
	uint32_t sec = (uint32_t)(now_ns >> OTS_FLOW_SEC_SHIFT);
	if (__builtin_expect(cls != f->fclass || sec != f->list_sec, 0))
		ots_flow_relist(ft, pos, cls, sec);
	return dir;
}

/* End a flow now (callback, hash delete, list unlink). */
void ots_flow_end(struct ots_flow_table *ft, uint32_t pos, int why);

/* End at most budget flows whose timeout passed at now_ns. Returns how many ended. */
uint32_t ots_flow_expire(struct ots_flow_table *ft, uint64_t now_ns, uint32_t budget);

/* End every flow (exit). */
void ots_flow_flush_all(struct ots_flow_table *ft);

/* Key of the flow at pos (for records); 0 or -errno. */
int ots_flow_get_key(const struct ots_flow_table *ft, uint32_t pos, const struct ots_flow_key **k);

static inline uint32_t ots_flow_count(const struct ots_flow_table *ft)
{
	return (uint32_t)ft->st.active;
}

#endif
