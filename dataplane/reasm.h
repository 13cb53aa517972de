/* dataplane/reasm.h - TCP stream reassembly, one direction at a time. Pure C, no DPDK include.
 *
 * Contract:
 *  - In-order payload is delivered at once, straight from the packet (no copy), to the deliver callback.
 *  - Out-of-order segments are copied into slots of a per-worker preallocated pool (struct ots_seg_pool)
 *    and held, sorted by sequence number, up to cfg caps (bytes and segments per direction) and while the
 *    pool has free slots. Segments longer than a slot take several slots.
 *  - When a cap or the pool would be exceeded, the hole before the first held segment is reported to the
 *    callback as a gap (data == NULL, len = missing bytes, OTS_REASM_F_GAP) and skipped, so parsers resync;
 *    then everything contiguous is delivered. ots_reasm_flush() does the same for everything held (FIN, RST,
 *    expiry, end of run).
 *  - Overlaps: bytes already delivered or already held are dropped (first copy wins); counted.
 *  - Mid-stream pickup: a direction that saw no SYN starts at the first segment with payload; that first
 *    delivery carries OTS_REASM_F_MIDSTREAM.
 *  - Sequence arithmetic is modulo 2^32.
 *  - No malloc on this path; all memory is the pool given at init.
 */
#ifndef OTS_REASM_H
#define OTS_REASM_H

#include <stdint.h>

#define OTS_SEG_SLOT_BYTES 1984 /* slot header + data = 2 KiB */
#define OTS_SEG_NONE UINT32_MAX

/* deliver flags */
#define OTS_REASM_F_GAP       0x1u /* data == NULL; len bytes are missing before the next delivery */
#define OTS_REASM_F_MIDSTREAM 0x2u /* first data of a direction picked up without a SYN */

/* tcp flags as on the wire */
#define OTS_TCP_FIN 0x01u
#define OTS_TCP_SYN 0x02u
#define OTS_TCP_RST 0x04u
#define OTS_TCP_PSH 0x08u
#define OTS_TCP_ACK 0x10u

struct ots_reasm_cfg {
	uint32_t max_bytes;    /* out-of-order bytes held per direction */
	uint32_t max_segments; /* held segments (slots) per direction */
};

struct ots_seg_slot {
	uint32_t next; /* next held slot of the same direction (sorted by seq), or OTS_SEG_NONE */
	uint32_t seq;  /* sequence number of data[0] */
	uint16_t len;
	uint8_t data[OTS_SEG_SLOT_BYTES];
};

struct ots_seg_pool {
	struct ots_seg_slot *slots;
	uint32_t *free_stack; /* indices of free slots */
	uint32_t nslots;
	uint32_t nfree;
};

/* per-direction state; zero-initialised == "nothing seen" */
struct ots_reasm_dir {
	uint32_t next_seq;  /* next in-order sequence number expected (valid when OTS_RD_SEQ_KNOWN) */
	uint32_t head;      /* first held slot (lowest seq) or OTS_SEG_NONE when nsegs == 0 */
	uint32_t tail;      /* last held slot (highest seq), valid when nsegs > 0: data beyond a hole lands there */
	uint32_t held_bytes;
	uint16_t nsegs;
	uint8_t state;      /* OTS_RD_* bits */
	uint8_t pad;
};

#define OTS_RD_SEQ_KNOWN 0x1u
#define OTS_RD_SYN_SEEN  0x2u
#define OTS_RD_FIN_SEEN  0x4u
#define OTS_RD_STARTED   0x8u /* something was delivered */

/* worker-wide counters, updated by the functions below */
struct ots_reasm_stats {
	uint64_t delivered_bytes;
	uint64_t ooo_segments;    /* segments held because they arrived early */
	uint64_t overlap_bytes;   /* bytes dropped because already delivered/held */
	uint64_t gaps;            /* holes reported */
	uint64_t gap_bytes;
	uint64_t midstream;       /* directions picked up without SYN */
	uint64_t pool_exhausted;  /* times the pool had no slot (forced a gap) */
	uint64_t cap_reached;     /* times a per-direction cap forced a gap */
};

typedef void (*ots_reasm_deliver_fn)(void *ud, const uint8_t *data, uint32_t len, uint32_t flags);

int ots_seg_pool_init(struct ots_seg_pool *p, uint32_t nslots);  /* 0 / -ENOMEM (uses malloc once) */
void ots_seg_pool_fini(struct ots_seg_pool *p);

/* Feed one segment of this direction (payload may be empty; SYN/FIN/RST in flags). Returns 0. */
int ots_reasm_segment(struct ots_reasm_dir *d, struct ots_seg_pool *pool, const struct ots_reasm_cfg *cfg,
		      struct ots_reasm_stats *st, uint32_t seq, uint8_t tcp_flags, const uint8_t *payload,
		      uint32_t len, ots_reasm_deliver_fn fn, void *ud);

/* Deliver everything held, reporting gaps, then release slots. */
void ots_reasm_flush(struct ots_reasm_dir *d, struct ots_seg_pool *pool, struct ots_reasm_stats *st,
		     ots_reasm_deliver_fn fn, void *ud);

/* Drop everything held without delivering (flow evicted under pressure). */
void ots_reasm_release(struct ots_reasm_dir *d, struct ots_seg_pool *pool);

#endif
