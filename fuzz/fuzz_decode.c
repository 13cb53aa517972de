/* fuzz/fuzz_decode.c - libFuzzer target for dataplane/decode.c and the flow key / RSS hash built from it.
 *
 * Input: u8 link-type selector, then one frame. Invariants: decode never reads outside the frame (ASan),
 * sets only known event bits, keeps payload inside the frame, and the symmetric hash of a flow equals the hash
 * of the same flow seen the other way.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. dataplane/decode.c dataplane/rss.c fuzz/fuzz_decode.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/decode.h"
#include "dataplane/rss.h"

static const int links[] = { OTS_LINK_ETHERNET, OTS_LINK_LINUX_SLL, OTS_LINK_LINUX_SLL2, OTS_LINK_RAW,
			     OTS_LINK_NULL, OTS_LINK_LOOP, OTS_LINK_IPV4, OTS_LINK_IPV6 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		ots_rss_init();
		init = 1;
	}
	if (size < 1)
		return 0;
	int lt = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	/* copy to an exactly sized heap buffer so ASan sees any over-read */
	size_t n = size - 1;
	uint8_t *frame = malloc(n ? n : 1);
	memcpy(frame, data + 1, n);
	struct ots_pkt p;
	ots_decode(frame, (uint32_t)n, lt, &p);
	if (p.events >> OTS_DEV_MAX)
		abort();
	if (p.payload && (p.payload < frame || p.payload + p.payload_len > frame + n))
		abort();
	if (p.flow_ok) {
		struct ots_pkt r = p;
		memcpy(r.src, p.dst, 16);
		memcpy(r.dst, p.src, 16);
		r.sport = p.dport;
		r.dport = p.sport;
		if (ots_rss_hash(&p) != ots_rss_hash(&r))
			abort();
	}
	free(frame);
	return 0;
}
