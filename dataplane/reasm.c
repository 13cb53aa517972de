/* dataplane/reasm.c - TCP stream reassembly, one direction at a time (see reasm.h for the contract).
 *
 * Fast path: a segment that starts exactly at next_seq while nothing is held is handed to the callback
 * straight from the packet (no copy) and next_seq advances; O(1).
 *
 * Slow path: a segment that starts after next_seq is copied into pool slots and linked into the direction's
 * list, sorted by sequence number. Held slots never overlap each other and always start after next_seq
 * (anything that becomes contiguous is delivered and freed before returning). A new segment only fills the
 * holes between held slots (first copy wins); contiguous data is appended to the tail of the preceding slot
 * when it has room, so streams of small out-of-order PDUs do not burn one 2 KiB slot each.
 *
 * An in-order segment that overlaps held data is delivered whole; the held copy is trimmed afterwards.
 *
 * When holding a chunk would break max_bytes / max_segments or the pool is empty, the hole before the lowest of
 * (first held slot, the chunk) is reported as a gap and skipped, what became contiguous is delivered (the
 * chunk itself from the packet when it is now in order) and the remainder of the segment is retried. Each
 * retry either drains at least one held slot or consumes bytes of the segment, so the loop terminates, and
 * the caps are never exceeded.
 *
 * Emptiness is nsegs == 0, never head: a zero-initialised direction has head == 0.
 *
 * Invariant used by callers and the fuzz target: while the callback runs, d->next_seq is the sequence number
 * of data[0] (or of the first missing byte for a gap); next_seq is advanced after the callback returns. The
 * data pointer is only valid during the callback (slots are freed right after).
 *
 * Garbage: a segment more than OTS_REASM_MAX_AHEAD beyond next_seq, or with an absurd length, is ignored
 * without touching any counter (it is not stream data we can place; stats stay as defined in reasm.h).
 * Payload carried by a RST is diagnostic text, not stream data (RFC 1122 4.2.2.12): RST segments are ignored.
 */
#include "dataplane/reasm.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define OTS_REASM_MAX_AHEAD (1u << 30) /* int32 seq diff beyond which a future segment is garbage */
#define OTS_REASM_MAX_LEN   (1u << 30) /* keeps seq + len within int32 range of next_seq */

#define REASM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define REASM_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum hold_fail {
	HOLD_OK,
	HOLD_CAP,  /* per-direction max_bytes / max_segments */
	HOLD_POOL, /* no free slot */
};

/* everything one call works on, to keep helper signatures short */
struct reasm_ctx {
	struct ots_reasm_dir *d;
	struct ots_seg_pool *pool;
	const struct ots_reasm_cfg *cfg;
	struct ots_reasm_stats *st;
	ots_reasm_deliver_fn fn;
	void *ud;
};

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- pool ---- */

int ots_seg_pool_init(struct ots_seg_pool *p, uint32_t nslots)
{
	size_t slots_sz, total;

	memset(p, 0, sizeof(*p));
	if (nslots == OTS_SEG_NONE)
		return -ENOMEM;
	if (nslots == 0)
		return 0;
	slots_sz = (size_t)nslots * sizeof(struct ots_seg_slot);
	if (slots_sz / sizeof(struct ots_seg_slot) != nslots)
		return -ENOMEM;
	total = slots_sz + (size_t)nslots * sizeof(uint32_t);
	if (total < slots_sz)
		return -ENOMEM;
	/* one allocation: slots, then the free stack (uint32_t alignment is satisfied by the slot size) */
	p->slots = malloc(total);
	if (!p->slots)
		return -ENOMEM;
	p->free_stack = (uint32_t *)((uint8_t *)p->slots + slots_sz);
	/* pop order 0, 1, 2, ...: low slots are reused first and stay warm */
	for (uint32_t i = 0; i < nslots; i++)
		p->free_stack[i] = nslots - 1 - i;
	p->nslots = nslots;
	p->nfree = nslots;
	return 0;
}

void ots_seg_pool_fini(struct ots_seg_pool *p)
{
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

static inline uint32_t slot_alloc(struct ots_seg_pool *p)
{
	if (!p->nfree)
		return OTS_SEG_NONE;
	return p->free_stack[--p->nfree];
}

static inline void slot_free(struct ots_seg_pool *p, uint32_t idx)
{
	p->free_stack[p->nfree++] = idx;
}

static inline struct ots_seg_slot *slot_at(struct ots_seg_pool *p, uint32_t idx)
{
	return &p->slots[idx];
}

/* ---- delivery ---- */

/* data starting at d->next_seq */
static inline void deliver(struct reasm_ctx *c, const uint8_t *data, uint32_t len)
{
	struct ots_reasm_dir *d = c->d;
	uint32_t flags = 0;

	if (!(d->state & (OTS_RD_STARTED | OTS_RD_SYN_SEEN)))
		flags = OTS_REASM_F_MIDSTREAM;
	d->state |= OTS_RD_STARTED;
	c->st->delivered_bytes += len;
	c->fn(c->ud, data, len, flags);
	d->next_seq += len;
}

/* report [next_seq, to) as missing and skip it */
static void report_gap(struct reasm_ctx *c, uint32_t to)
{
	struct ots_reasm_dir *d = c->d;
	uint32_t len = to - d->next_seq;

	d->state |= OTS_RD_STARTED;
	c->st->gaps++;
	c->st->gap_bytes += len;
	c->fn(c->ud, NULL, len, OTS_REASM_F_GAP);
	d->next_seq = to;
}

/* pop the first held slot; the caller has read what it needs from it */
static void unlink_head(struct reasm_ctx *c)
{
	struct ots_reasm_dir *d = c->d;
	struct ots_seg_slot *s = slot_at(c->pool, d->head);
	uint32_t idx = d->head;

	d->head = s->next;
	d->held_bytes -= s->len;
	d->nsegs--;
	slot_free(c->pool, idx);
}

/* deliver the head slot (starting at or before next_seq), trimming what was already delivered */
static void deliver_head(struct reasm_ctx *c)
{
	struct ots_seg_slot *s = slot_at(c->pool, c->d->head);
	uint32_t done = (uint32_t)seq_diff(c->d->next_seq, s->seq);

	if (done < s->len) {
		c->st->overlap_bytes += done;
		deliver(c, s->data + done, s->len - done);
	} else {
		c->st->overlap_bytes += s->len;
	}
	unlink_head(c);
}

/* deliver and free every held slot that is now contiguous with next_seq */
static void drain(struct reasm_ctx *c)
{
	struct ots_reasm_dir *d = c->d;

	while (d->nsegs && seq_diff(slot_at(c->pool, d->head)->seq, d->next_seq) <= 0)
		deliver_head(c);
}

/* segment starting at or before next_seq: deliver what is new, straight from the packet */
static void deliver_inorder(struct reasm_ctx *c, uint32_t seq, const uint8_t *data, uint32_t len)
{
	uint32_t done = c->d->next_seq - seq; /* bytes already delivered; seq_diff(seq, next_seq) <= 0 */

	if (done >= len) {
		c->st->overlap_bytes += len;
		return;
	}
	c->st->overlap_bytes += done;
	deliver(c, data + done, len - done);
}

/* ---- holding out-of-order data ---- */

static enum hold_fail hold_check(const struct reasm_ctx *c, uint32_t len, int new_slot)
{
	const struct ots_reasm_dir *d = c->d;
	uint32_t max_segs = min_u32(c->cfg->max_segments, UINT16_MAX);

	if (len > c->cfg->max_bytes - min_u32(d->held_bytes, c->cfg->max_bytes))
		return HOLD_CAP;
	if (!new_slot)
		return HOLD_OK;
	if (d->nsegs >= max_segs)
		return HOLD_CAP;
	if (!c->pool->nfree)
		return HOLD_POOL;
	return HOLD_OK;
}

/*
 * Copy the parts of [seq, seq + len) not already held into slots. Stops at the first chunk that cannot be held
 * and returns the number of bytes consumed (held or dropped as overlap); *why says why it stopped.
 */
static uint32_t hold(struct reasm_ctx *c, uint32_t seq, const uint8_t *data, uint32_t len, enum hold_fail *why,
		     int *held_any)
{
	struct ots_reasm_dir *d = c->d;
	uint32_t prev = OTS_SEG_NONE, cur = d->nsegs ? d->head : OTS_SEG_NONE;
	uint32_t off = 0, idx;

	/* beyond everything held (the common case behind a hole: each segment after it arrives in order): start at
	 * the tail instead of walking up to max_segments slots of 2 KiB from the head */
	if (d->nsegs) {
		const struct ots_seg_slot *t = slot_at(c->pool, d->tail);
		if (seq_diff(t->seq + t->len, seq) <= 0) {
			prev = d->tail;
			cur = OTS_SEG_NONE;
		}
	}
	*why = HOLD_OK;
	while (off < len) {
		uint32_t pos = seq + off, chunk = len - off;
		struct ots_seg_slot *s;

		/* skip held slots that end at or before pos */
		while (cur != OTS_SEG_NONE) {
			s = slot_at(c->pool, cur);
			if (seq_diff(s->seq + s->len, pos) > 0)
				break;
			prev = cur;
			cur = s->next;
		}
		if (cur != OTS_SEG_NONE) {
			s = slot_at(c->pool, cur);
			if (seq_diff(s->seq, pos) <= 0) {
				/* pos is inside a held slot: first copy wins */
				uint32_t dup = min_u32((uint32_t)seq_diff(s->seq + s->len, pos), chunk);

				c->st->overlap_bytes += dup;
				off += dup;
				continue;
			}
			chunk = min_u32(chunk, (uint32_t)seq_diff(s->seq, pos));
		}

		/* append to the preceding slot when it ends exactly here and has room */
		if (prev != OTS_SEG_NONE) {
			s = slot_at(c->pool, prev);
			if (s->seq + s->len == pos && s->len < OTS_SEG_SLOT_BYTES) {
				uint32_t n = min_u32(chunk, OTS_SEG_SLOT_BYTES - s->len);

				*why = hold_check(c, n, 0);
				if (*why != HOLD_OK)
					return off;
				memcpy(s->data + s->len, data + off, n);
				s->len += n;
				d->held_bytes += n;
				off += n;
				*held_any = 1;
				continue;
			}
		}

		/* new slot between prev and cur */
		chunk = min_u32(chunk, OTS_SEG_SLOT_BYTES);
		*why = hold_check(c, chunk, 1);
		if (*why != HOLD_OK)
			return off;
		idx = slot_alloc(c->pool);
		s = slot_at(c->pool, idx);
		s->seq = pos;
		s->len = (uint16_t)chunk;
		s->next = cur;
		memcpy(s->data, data + off, chunk);
		if (prev == OTS_SEG_NONE)
			d->head = idx;
		else
			slot_at(c->pool, prev)->next = idx;
		if (cur == OTS_SEG_NONE)
			d->tail = idx;
		d->held_bytes += chunk;
		d->nsegs++;
		prev = idx;
		off += chunk;
		*held_any = 1;
	}
	return off;
}

/*
 * A chunk starting at pos (after next_seq) cannot be held: report the hole up to the lowest of the first held
 * slot and pos, skip it and deliver what became contiguous.
 */
static void force_gap(struct reasm_ctx *c, uint32_t pos, enum hold_fail why)
{
	struct ots_reasm_dir *d = c->d;
	uint32_t to = pos;

	if (d->nsegs && seq_diff(slot_at(c->pool, d->head)->seq, pos) < 0)
		to = slot_at(c->pool, d->head)->seq;
	if (why == HOLD_POOL)
		c->st->pool_exhausted++;
	else
		c->st->cap_reached++;
	report_gap(c, to);
	drain(c);
}

/* one segment's data (len may be 0 for a bare FIN); next_seq is known */
static void process(struct reasm_ctx *c, uint32_t seq, const uint8_t *data, uint32_t len, int fin)
{
	struct ots_reasm_dir *d = c->d;
	uint32_t fin_seq = seq + len;
	int held_any = 0;

	for (;;) {
		int32_t diff = seq_diff(seq, d->next_seq);
		enum hold_fail why;
		uint32_t n;

		if (diff <= 0) {
			deliver_inorder(c, seq, data, len);
			/* the FIN consumes a sequence number once everything before it was delivered */
			if (fin && d->next_seq == fin_seq)
				d->next_seq++;
			drain(c);
			break;
		}
		if (!len || (uint32_t)diff > OTS_REASM_MAX_AHEAD)
			break; /* future bare FIN, or garbage: ignored */
		n = hold(c, seq, data, len, &why, &held_any);
		seq += n;
		data += n;
		len -= n;
		if (!len)
			break;
		force_gap(c, seq, why);
	}
	if (held_any)
		c->st->ooo_segments++;
}

int ots_reasm_segment(struct ots_reasm_dir *d, struct ots_seg_pool *pool, const struct ots_reasm_cfg *cfg,
		      struct ots_reasm_stats *st, uint32_t seq, uint8_t tcp_flags, const uint8_t *payload,
		      uint32_t len, ots_reasm_deliver_fn fn, void *ud)
{
	struct reasm_ctx c = { .d = d, .pool = pool, .cfg = cfg, .st = st, .fn = fn, .ud = ud };

	/* fast path: next in-order data, nothing held */
	if (REASM_LIKELY(!(tcp_flags & (OTS_TCP_SYN | OTS_TCP_FIN | OTS_TCP_RST)) && (d->state & OTS_RD_SEQ_KNOWN) &&
			 seq == d->next_seq && d->nsegs == 0 && len && len < OTS_REASM_MAX_LEN)) {
		deliver(&c, payload, len);
		return 0;
	}

	if (tcp_flags & OTS_TCP_RST)
		return 0;
	if (REASM_UNLIKELY(len >= OTS_REASM_MAX_LEN))
		return 0;

	if (tcp_flags & OTS_TCP_SYN) {
		/* (re)sync on a SYN unless the stream already started; data on a SYN starts at seq + 1 */
		if (!(d->state & OTS_RD_STARTED) && d->nsegs == 0)
			d->next_seq = seq + 1;
		d->state |= OTS_RD_SEQ_KNOWN | OTS_RD_SYN_SEEN;
		seq++;
	}
	if (tcp_flags & OTS_TCP_FIN)
		d->state |= OTS_RD_FIN_SEEN;

	if (!(d->state & OTS_RD_SEQ_KNOWN)) {
		if (!len)
			return 0; /* pure ACK / bare FIN before pickup: nothing to anchor on */
		d->next_seq = seq;
		d->state |= OTS_RD_SEQ_KNOWN;
		st->midstream++;
	}

	if (!len && !(tcp_flags & OTS_TCP_FIN))
		return 0;
	process(&c, seq, payload, len, !!(tcp_flags & OTS_TCP_FIN));
	return 0;
}

void ots_reasm_flush(struct ots_reasm_dir *d, struct ots_seg_pool *pool, struct ots_reasm_stats *st,
		     ots_reasm_deliver_fn fn, void *ud)
{
	struct reasm_ctx c = { .d = d, .pool = pool, .cfg = NULL, .st = st, .fn = fn, .ud = ud };

	while (d->nsegs) {
		uint32_t seq = slot_at(pool, d->head)->seq;

		if (seq_diff(seq, d->next_seq) > 0)
			report_gap(&c, seq);
		deliver_head(&c);
	}
	d->head = OTS_SEG_NONE;
	d->held_bytes = 0;
}

void ots_reasm_release(struct ots_reasm_dir *d, struct ots_seg_pool *pool)
{
	uint32_t idx = d->head;

	while (d->nsegs) {
		uint32_t next = slot_at(pool, idx)->next;

		slot_free(pool, idx);
		idx = next;
		d->nsegs--;
	}
	d->head = OTS_SEG_NONE;
	d->nsegs = 0;
	d->held_bytes = 0;
}
