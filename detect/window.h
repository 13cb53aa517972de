/* detect/window.h - fixed-capacity table of per-key counting windows (alert aggregation, threshold,
 * detection_filter).
 *
 * Contract:
 *  - Allocated once (ots_window_init); lookups and updates never allocate. Keys are 64-bit hashes (0 allowed).
 *  - ots_window_hit() finds the key's entry. When it is absent, or its window (first_ns + window_ns) has ended,
 *    the entry (re)starts at now: *fresh = 1, count = 0, pending = 0. The caller then updates count/pending.
 *  - When the table is full, the entry with the oldest last_ns within the probe range is replaced (counted in
 *    evicted); its pending occurrences are handed to the expire callback first when one is set.
 *  - ots_window_expire() visits at most max entries from a rotating cursor and calls cb for every entry whose
 *    window has ended (then frees it); ots_window_flush() does it for every entry (end of run).
 *  - One table per owner (worker or exporter thread): not thread-safe.
 */
#ifndef OTS_WINDOW_H
#define OTS_WINDOW_H

#include <stdint.h>

struct ots_window_ent {
	uint64_t key;
	uint64_t first_ns, last_ns; /* window start, last hit */
	uint32_t count;             /* owner-defined: hits in this window */
	uint32_t pending;           /* owner-defined: hits not reported yet */
	uint32_t used;              /* 0 = free slot */
	uint32_t aux;               /* owner-defined (e.g. index of a saved record) */
};

struct ots_window_tab {
	struct ots_window_ent *e;
	uint32_t mask;              /* capacity - 1 (power of 2) */
	uint32_t cursor;
	uint32_t active;
	uint64_t evicted;
	void (*on_evict)(void *ud, struct ots_window_ent *e); /* called before an entry with pending > 0 is reused */
	void *ud;
};

/* capacity is rounded up to a power of 2 (>= 16). 0 or -ENOMEM. */
int ots_window_init(struct ots_window_tab *t, uint32_t capacity);
void ots_window_fini(struct ots_window_tab *t);

struct ots_window_ent *ots_window_hit(struct ots_window_tab *t, uint64_t key, uint64_t now_ns, uint64_t window_ns,
				      int *fresh);

typedef void (*ots_window_cb)(void *ud, struct ots_window_ent *e);
/* entries whose window ended before now: cb (if set) then free; visits at most max slots; returns slots freed */
uint32_t ots_window_expire(struct ots_window_tab *t, uint64_t now_ns, uint64_t window_ns, uint32_t max,
			   ots_window_cb cb, void *ud);
/* every entry: cb then free */
void ots_window_flush(struct ots_window_tab *t, ots_window_cb cb, void *ud);

#endif
