/* dataplane/handoff.h - worker -> exporter record hand-off over an SP/SC rte_ring.
 *
 * Contract:
 *  - One ring per worker; the worker (or main, after the worker has returned) is the only producer, the
 *    exporter thread the only consumer. Lock-free, no allocation.
 *  - A record travels as ceil(len / 64) consecutive 64-byte ring elements, enqueued in one bulk operation
 *    (all or nothing), so a flow record costs 3 slots and a full alert record 18, not the size of the union.
 *  - ots_handoff_put() never blocks: a full ring returns -ENOBUFS and the caller counts the drop per type.
 */
#ifndef OTS_HANDOFF_H
#define OTS_HANDOFF_H

#include <errno.h>
#include <stddef.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "export/record.h"

#define OTS_HANDOFF_SLOT 64

struct ots_slot {
	uint8_t b[OTS_HANDOFF_SLOT];
};

/* bytes of a record of this type that must travel (header + its union member) */
static inline size_t ots_record_len(uint32_t type)
{
	size_t body = type == OTS_REC_flow ? sizeof(struct ots_rec_flow)
		    : type == OTS_REC_alert ? sizeof(struct ots_rec_alert)
		    : sizeof(struct ots_rec_asset);
	return offsetof(struct ots_record, u) + body;
}

static inline unsigned ots_record_slots(uint32_t type)
{
	return (unsigned)((ots_record_len(type) + OTS_HANDOFF_SLOT - 1) / OTS_HANDOFF_SLOT);
}

/* rec must be a struct ots_record (it is read as whole slots: keep it in a buffer of sizeof(struct ots_record)
 * rounded up to a slot) */
static inline int ots_handoff_put(struct rte_ring *r, const struct ots_record *rec)
{
	unsigned n = ots_record_slots(rec->type);
	return rte_ring_sp_enqueue_bulk_elem(r, rec, OTS_HANDOFF_SLOT, n, NULL) == n ? 0 : -ENOBUFS;
}

/* Take one record into out (a buffer of at least sizeof(struct ots_record) rounded up to a slot). 1 if one was
 * taken, 0 if the ring is empty. */
static inline int ots_handoff_get(struct rte_ring *r, struct ots_record *out)
{
	if (rte_ring_sc_dequeue_bulk_elem(r, out, OTS_HANDOFF_SLOT, 1, NULL) != 1)
		return 0;
	unsigned n = out->type < OTS_REC_MAX ? ots_record_slots(out->type) : 1;
	if (n > 1) /* the rest was enqueued in the same bulk operation: it is there */
		while (rte_ring_sc_dequeue_bulk_elem(r, (uint8_t *)out + OTS_HANDOFF_SLOT, OTS_HANDOFF_SLOT, n - 1,
						     NULL) != n - 1)
			rte_pause();
	return 1;
}

/* a record buffer sized for whole slots */
union ots_record_buf {
	struct ots_record rec;
	struct ots_slot slots[(sizeof(struct ots_record) + OTS_HANDOFF_SLOT - 1) / OTS_HANDOFF_SLOT];
};

#endif
