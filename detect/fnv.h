/* detect/fnv.h - FNV-1a 64, the one hash detect/ uses for its keys and ids.
 *
 * Contract: ots_fnv1a(OTS_FNV1A_SEED, p, n) hashes n bytes; chain calls by passing the previous result as h.
 * The values are stable across builds and runs: alert ids and the Hyperscan cache file name depend on them.
 */
#ifndef OTS_FNV_H
#define OTS_FNV_H

#include <stddef.h>
#include <stdint.h>

#define OTS_FNV1A_SEED 0xcbf29ce484222325ull

static inline uint64_t ots_fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif
