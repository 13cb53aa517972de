/* dataplane/rss.c - table-driven Toeplitz hash with the symmetric key (see rss.h). */
#include "dataplane/rss.h"

#include <string.h>

const uint8_t ots_rss_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

#define MAX_IN 36
static uint32_t tbl[MAX_IN][256]; /* built once by ots_rss_init(), read-only afterwards */
static int built;

/* the 32-bit window of the key starting at bit position `bit` */
static uint32_t key_window(uint32_t bit)
{
	uint64_t v = 0;
	uint32_t byte = bit / 8;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | ots_rss_key[byte + i];
	return (uint32_t)(v >> (32 - bit % 8));
}

void ots_rss_init(void)
{
	if (built)
		return;
	for (uint32_t pos = 0; pos < MAX_IN; pos++)
		for (uint32_t val = 0; val < 256; val++) {
			uint32_t h = 0;
			for (int b = 0; b < 8; b++)
				if (val & (0x80u >> b))
					h ^= key_window(pos * 8 + (uint32_t)b);
			tbl[pos][val] = h;
		}
	built = 1;
}

uint32_t ots_rss_toeplitz(const uint8_t *in, uint32_t len)
{
	uint32_t h = 0;
	if (len > MAX_IN)
		len = MAX_IN;
	for (uint32_t i = 0; i < len; i++)
		h ^= tbl[i][in[i]];
	return h;
}

uint32_t ots_rss_hash(const struct ots_pkt *pkt)
{
	uint8_t in[MAX_IN];
	uint32_t n;
	if (!pkt->flow_ok)
		return 0;
	if (pkt->family == 4) {
		memcpy(in, &pkt->src[0], 4);
		memcpy(in + 4, &pkt->dst[0], 4);
		n = 8;
	} else {
		memcpy(in, pkt->src, 16);
		memcpy(in + 16, pkt->dst, 16);
		n = 32;
	}
	in[n++] = (uint8_t)(pkt->sport >> 8);
	in[n++] = (uint8_t)pkt->sport;
	in[n++] = (uint8_t)(pkt->dport >> 8);
	in[n++] = (uint8_t)pkt->dport;
	return ots_rss_toeplitz(in, n);
}
