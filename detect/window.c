/* detect/window.c - fixed-capacity table of per-key counting windows (see window.h).
 *
 * Open addressing with linear probing over a short range; a full probe range replaces its least recently hit
 * entry. Freed slots are marked free (used = 0); a lookup scans the whole probe range, so holes do not break it.
 */
#include "detect/window.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8

static inline uint32_t slot_of(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (uint32_t)key;
}

int ots_window_init(struct ots_window_tab *t, uint32_t capacity)
{
	uint32_t cap = 16;
	memset(t, 0, sizeof(*t));
	while (cap < capacity && cap < (1u << 30))
		cap <<= 1;
	t->e = calloc(cap, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->mask = cap - 1;
	return 0;
}

void ots_window_fini(struct ots_window_tab *t)
{
	free(t->e);
	t->e = NULL;
}

static void restart(struct ots_window_ent *e, uint64_t key, uint64_t now_ns)
{
	e->key = key;
	e->first_ns = e->last_ns = now_ns;
	e->count = e->pending = e->aux = 0;
	e->used = 1;
}

struct ots_window_ent *ots_window_hit(struct ots_window_tab *t, uint64_t key, uint64_t now_ns, uint64_t window_ns,
				      int *fresh)
{
	uint32_t s = slot_of(key);
	struct ots_window_ent *free_e = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < PROBE; i++) {
		struct ots_window_ent *e = &t->e[(s + i) & t->mask];
		if (!e->used) {
			if (!free_e)
				free_e = e;
			continue;
		}
		if (e->key == key) {
			if (now_ns >= e->first_ns + window_ns) { /* window over: a new one starts */
				if (e->pending && t->on_evict)
					t->on_evict(t->ud, e);
				restart(e, key, now_ns);
				*fresh = 1;
			} else {
				*fresh = 0;
				if (now_ns > e->last_ns)
					e->last_ns = now_ns;
			}
			return e;
		}
		if (!oldest || e->last_ns < oldest->last_ns)
			oldest = e;
	}
	struct ots_window_ent *e = free_e;
	if (!e) {
		e = oldest;
		t->evicted++;
		if (e->pending && t->on_evict)
			t->on_evict(t->ud, e);
	} else {
		t->active++;
	}
	restart(e, key, now_ns);
	*fresh = 1;
	return e;
}

uint32_t ots_window_expire(struct ots_window_tab *t, uint64_t now_ns, uint64_t window_ns, uint32_t max,
			   ots_window_cb cb, void *ud)
{
	uint32_t freed = 0;
	if (!t->active)
		return 0;
	for (uint32_t i = 0; i < max && i <= t->mask; i++) {
		struct ots_window_ent *e = &t->e[t->cursor];
		t->cursor = (t->cursor + 1) & t->mask;
		if (e->used && now_ns >= e->first_ns + window_ns) {
			if (cb)
				cb(ud, e);
			e->used = 0;
			t->active--;
			freed++;
		}
	}
	return freed;
}

void ots_window_flush(struct ots_window_tab *t, ots_window_cb cb, void *ud)
{
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct ots_window_ent *e = &t->e[i];
		if (!e->used)
			continue;
		if (cb)
			cb(ud, e);
		e->used = 0;
	}
	t->active = 0;
}
