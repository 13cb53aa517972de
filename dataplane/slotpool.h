/* dataplane/slotpool.h - a per-worker pool of fixed-size slots handed to flows (parser states, detection stream
 * context).
 *
 * Contract:
 *  - Allocated once (ots_slot_pool_init, start-up); get/put never allocate. One owner (a worker): not thread-safe.
 *  - A flow holds a slot as a reference ref = slot index + 1 (0 = none) in its cold state.
 *  - ots_slot_get() returns 0 when the pool is empty: the caller counts that and goes on without a slot.
 */
#ifndef OTS_SLOTPOOL_H
#define OTS_SLOTPOOL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct ots_slot_pool {
	uint8_t *mem;       /* nslots x size bytes */
	uint32_t *free;     /* stack of free slot indexes */
	uint32_t nfree, nslots;
	size_t size;
};

/* nslots may be 0 (every get fails). 0 or -ENOMEM */
static inline int ots_slot_pool_init(struct ots_slot_pool *p, uint32_t nslots, size_t size)
{
	p->nslots = nslots;
	p->size = size;
	p->mem = nslots ? malloc((size_t)nslots * size) : NULL;
	p->free = malloc(((size_t)nslots + 1) * sizeof(uint32_t));
	if ((nslots && !p->mem) || !p->free)
		return -ENOMEM;
	for (uint32_t i = 0; i < nslots; i++)
		p->free[i] = nslots - 1 - i;
	p->nfree = nslots;
	return 0;
}

static inline void ots_slot_pool_fini(struct ots_slot_pool *p)
{
	free(p->mem);
	free(p->free);
	p->mem = NULL;
	p->free = NULL;
	p->nfree = p->nslots = 0;
}

/* a free slot's reference (index + 1), or 0 when none is left */
static inline uint32_t ots_slot_get(struct ots_slot_pool *p)
{
	return p->nfree ? p->free[--p->nfree] + 1 : 0;
}

static inline void *ots_slot_mem(const struct ots_slot_pool *p, uint32_t ref)
{
	return p->mem + (size_t)(ref - 1) * p->size;
}

/* give back the slot *ref holds (if any) and clear *ref */
static inline void ots_slot_put(struct ots_slot_pool *p, uint32_t *ref)
{
	if (*ref) {
		p->free[p->nfree++] = *ref - 1;
		*ref = 0;
	}
}

#endif
