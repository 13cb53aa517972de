/* tests/test_framing.c - PDU framing over a byte stream: every chunking, garbage between PDUs, gaps, mid-stream
 * starts, oversize PDUs, headers split at every byte. Toy protocol: 0xAA, total length byte (>= 3), payload. */
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "protocols/framing.h"
#include "tests/harness.h"

#define CAP 64

static int toy_len(const uint8_t *p, size_t n)
{
	(void)n;
	return p[0] == 0xAA && p[1] >= 3 ? p[1] : -1;
}

static const struct ots_frame_spec spec = { 2, CAP, toy_len, 1, 2 };

struct got {
	int n;
	uint8_t pdus[256][256];
	size_t lens[256];
	int events[4];
};

static void on_pdu(void *arg, struct ots_app_ctx *c, const uint8_t *p, size_t len)
{
	struct got *g = arg;
	(void)c;
	if (g->n < 256) {
		memcpy(g->pdus[g->n], p, len);
		g->lens[g->n] = len;
	}
	g->n++;
}

static void on_event(void *ud, uint16_t proto, unsigned ev)
{
	struct got *g = ud;
	(void)proto;
	if (ev < 4)
		g->events[ev]++;
}

static const struct ots_app_ops ops = { NULL, NULL, on_event };

struct state {
	struct ots_framer f;
	uint8_t buf[CAP];
};

static void feed(struct state *st, struct got *g, const uint8_t *p, size_t n, uint32_t flags)
{
	struct ots_app_ctx c = { &ops, g, 0, flags, 1, 0, 6 };
	ots_framer_feed(&st->f, st->buf, &spec, &c, p, n, on_pdu, g);
}

/* stream: pdu(5) pdu(3) pdu(10) */
static size_t stream(uint8_t *s)
{
	static const uint8_t a[] = { 0xAA, 5, 1, 2, 3, 0xAA, 3, 9, 0xAA, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	memcpy(s, a, sizeof(a));
	return sizeof(a);
}

static void test_every_split(void)
{
	uint8_t s[64];
	size_t n = stream(s);
	for (size_t cut1 = 0; cut1 <= n; cut1++)
		for (size_t cut2 = cut1; cut2 <= n; cut2++) {
			struct state st;
			static struct got g;
			memset(&st, 0, sizeof(st));
			memset(&g, 0, sizeof(g));
			feed(&st, &g, s, cut1, 0);
			feed(&st, &g, s + cut1, cut2 - cut1, 0);
			feed(&st, &g, s + cut2, n - cut2, 0);
			CU_ASSERT_EQUAL(g.n, 3);
			CU_ASSERT_EQUAL(g.lens[0], 5);
			CU_ASSERT_EQUAL(g.lens[2], 10);
			CU_ASSERT(!memcmp(g.pdus[2], s + 8, 10));
			CU_ASSERT_EQUAL(g.events[1], 0);
		}
}

/* garbage before and between PDUs, fed byte by byte: every PDU still found, one resync event per loss */
static void test_garbage_byte_by_byte(void)
{
	uint8_t s[128], pdus[64];
	size_t n = stream(pdus), k = 0;
	memcpy(s + k, "\x01\x02\xAA\x01", 4); /* 0xAA with a bad length is garbage too */
	k += 4;
	memcpy(s + k, pdus, 5);
	k += 5;
	memcpy(s + k, "\x07\x07\x07", 3);
	k += 3;
	memcpy(s + k, pdus + 5, n - 5);
	k += n - 5;
	for (int mode = 0; mode < 2; mode++) {
		struct state st;
		static struct got g;
		memset(&st, 0, sizeof(st));
		memset(&g, 0, sizeof(g));
		if (mode)
			feed(&st, &g, s, k, 0);
		else
			for (size_t i = 0; i < k; i++)
				feed(&st, &g, s + i, 1, 0);
		CU_ASSERT_EQUAL(g.n, 3);
		CU_ASSERT_EQUAL(g.lens[1], 3);
		CU_ASSERT_EQUAL(g.pdus[1][2], 9);
		CU_ASSERT_EQUAL(g.events[1], 2); /* two separate losses */
	}
}

static void test_gap_midstream_oversize(void)
{
	uint8_t s[64];
	size_t n = stream(s);
	struct state st;
	static struct got g;
	/* mid-stream: starts inside the first PDU; no event for the quiet initial resync */
	memset(&st, 0, sizeof(st));
	memset(&g, 0, sizeof(g));
	feed(&st, &g, s + 2, n - 2, OTS_REASM_F_MIDSTREAM);
	CU_ASSERT_EQUAL(g.n, 2);
	CU_ASSERT_EQUAL(g.events[1], 0);
	/* a gap drops the partial PDU, reports, and the next whole PDU is found */
	memset(&st, 0, sizeof(st));
	memset(&g, 0, sizeof(g));
	feed(&st, &g, s, 3, 0);
	feed(&st, &g, NULL, 7, OTS_REASM_F_GAP);
	feed(&st, &g, s + 8, n - 8, 0);
	CU_ASSERT_EQUAL(g.n, 1);
	CU_ASSERT_EQUAL(g.lens[0], 10);
	CU_ASSERT_EQUAL(g.events[1], 1);
	/* oversize: announced 200 > cap 64: skipped whole, counted, next PDU fine */
	uint8_t big[260];
	memset(big, 0x55, sizeof(big));
	big[0] = 0xAA;
	big[1] = 200;
	memcpy(big + 200, s, 5);
	memset(&st, 0, sizeof(st));
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < 205; i += 7)
		feed(&st, &g, big + i, i + 7 > 205 ? 205 - i : 7, 0);
	CU_ASSERT_EQUAL(g.events[2], 1);
	CU_ASSERT_EQUAL(g.n, 1);
	CU_ASSERT_EQUAL(g.lens[0], 5);
}

/* random chunking of random streams: never crashes, every PDU delivered intact (ASan build checks bounds) */
static void test_random(void)
{
	uint32_t x = 99;
	for (int it = 0; it < 2000; it++) {
		uint8_t s[512];
		size_t n = 0;
		int expect = 0;
		while (n < 400) {
			x = x * 1103515245u + 12345u;
			if ((x >> 16) % 5 == 0) {
				s[n++] = (uint8_t)(x >> 8) | 1; /* garbage (never 0xAA: odd... 0xAB) */
				if (s[n - 1] == 0xAA)
					s[n - 1] = 0x01;
				continue;
			}
			uint8_t l = (uint8_t)(3 + (x >> 20) % 40);
			s[n] = 0xAA;
			s[n + 1] = l;
			for (int k = 2; k < l; k++)
				s[n + k] = (uint8_t)(k == 2 ? 0x33 : 0x11); /* payload never looks like a start */
			n += l;
			expect++;
		}
		struct state st;
		static struct got g;
		memset(&st, 0, sizeof(st));
		memset(&g, 0, sizeof(g));
		for (size_t i = 0; i < n;) {
			x = x * 1103515245u + 12345u;
			size_t k = 1 + (x >> 16) % 50;
			if (k > n - i)
				k = n - i;
			uint8_t *chunk = malloc(k);
			memcpy(chunk, s + i, k);
			feed(&st, &g, chunk, k, 0);
			free(chunk);
			i += k;
		}
		CU_ASSERT_EQUAL(g.n, expect);
	}
}

static const struct ots_test fr_tests[] = {
	{ "every_split", test_every_split },
	{ "garbage_byte_by_byte", test_garbage_byte_by_byte },
	{ "gap_midstream_oversize", test_gap_midstream_oversize },
	{ "random", test_random },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "framing", fr_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_framing", suites);
}
