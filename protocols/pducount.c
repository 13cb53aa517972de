/* protocols/pducount.c - PDU counters (see pducount.h). */
#include "protocols/pducount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct ots_pdu_key) == 44, "pdu key layout");

int ots_pducount_init(struct ots_pducount *t, uint32_t capacity)
{
	uint32_t cap = 1024;
	memset(t, 0, sizeof(*t));
	while (cap < capacity && cap < (1u << 30))
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = cap - 1;
	return 0;
}

void ots_pducount_fini(struct ots_pducount *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint32_t key_hash(const struct ots_pdu_key *k)
{
	uint64_t w[6] = { 0 };
	memcpy(w, k, sizeof(*k));
#ifdef __SSE4_2__
	/* CRC32-C, one instruction per word (the multiply chain below takes ~5 cycles a word) */
	uint64_t h = 0x9e3779b9u;
	for (int i = 0; i < 6; i++)
		h = __builtin_ia32_crc32di(h, w[i]);
	return (uint32_t)(h ^ (h >> 16) * 0x45d9f3bu);
#else
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 6; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return (uint32_t)h;
#endif
}

void ots_pducount_add(struct ots_pducount *t, const struct ots_pdu_key *k, uint64_t n)
{
	if (!t->slots)
		return;
	uint32_t i = key_hash(k) & t->mask;
	for (uint32_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
		struct ots_pdu_count *s = &t->slots[i];
		if (!s->n) {
			if (t->used >= t->mask - t->mask / 8) /* keep probes short: 87% load at most */
				break;
			s->k = *k;
			s->n = n;
			t->used++;
			return;
		}
		if (!memcmp(&s->k, k, sizeof(*k))) {
			s->n += n;
			return;
		}
	}
	t->full += n;
}
