/* tests/test_reasm.c - unit tests for dataplane/reasm.c (TCP stream reassembly).
 *
 * Every test feeds segments to one or two directions and asserts the exact delivered byte stream, the sequence of
 * callback events (data / gap, lengths, flags, zero-copy pointers) and the counters.
 */
#include "dataplane/reasm.h"
#include "tests/harness.h"

#include <string.h>

#define CAP_BUF  65536
#define CAP_EVTS 256

struct evt {
	const uint8_t *ptr; /* data pointer as passed (NULL for gaps) */
	uint32_t at;        /* offset in cap.buf where the data was appended */
	uint32_t len;
	uint32_t flags;
};

struct cap {
	uint8_t buf[CAP_BUF];
	uint32_t len;
	struct evt ev[CAP_EVTS];
	unsigned nev;
	unsigned ngaps;
	uint32_t gap_bytes;
};

static void cap_fn(void *ud, const uint8_t *data, uint32_t len, uint32_t flags)
{
	struct cap *c = ud;

	CU_ASSERT_FATAL(c->nev < CAP_EVTS);
	c->ev[c->nev] = (struct evt){ .ptr = data, .at = c->len, .len = len, .flags = flags };
	c->nev++;
	if (flags & OTS_REASM_F_GAP) {
		CU_ASSERT_PTR_NULL(data);
		c->ngaps++;
		c->gap_bytes += len;
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_FATAL(c->len + len <= CAP_BUF);
	memcpy(c->buf + c->len, data, len);
	c->len += len;
}

/* one test's world: a pool, caps, two directions, counters and a capture per direction */
static struct ots_seg_pool pool;
static struct ots_reasm_cfg cfg;
static struct ots_reasm_stats st;
static struct ots_reasm_dir dir[2];
static struct cap cap[2];

static void setup(uint32_t nslots, uint32_t max_bytes, uint32_t max_segments)
{
	ots_seg_pool_fini(&pool);
	CU_ASSERT_FATAL(ots_seg_pool_init(&pool, nslots) == 0);
	cfg = (struct ots_reasm_cfg){ .max_bytes = max_bytes, .max_segments = max_segments };
	memset(&st, 0, sizeof(st));
	memset(dir, 0, sizeof(dir));
	memset(cap, 0, sizeof(cap));
}

static void setup_default(void)
{
	setup(64, 65536, 64);
}

static void feed(int i, uint32_t seq, uint8_t flags, const void *data, uint32_t len)
{
	CU_ASSERT(ots_reasm_segment(&dir[i], &pool, &cfg, &st, seq, flags, data, len, cap_fn, &cap[i]) == 0);
}

static void feed_str(int i, uint32_t seq, uint8_t flags, const char *s)
{
	feed(i, seq, flags, s, (uint32_t)strlen(s));
}

static void flush(int i)
{
	ots_reasm_flush(&dir[i], &pool, &st, cap_fn, &cap[i]);
}

static void assert_stream(int i, const char *want)
{
	size_t n = strlen(want);

	CU_ASSERT_EQUAL(cap[i].len, n);
	if (cap[i].len == n)
		CU_ASSERT(memcmp(cap[i].buf, want, n) == 0);
}

static void assert_evt(int i, unsigned k, uint32_t len, uint32_t flags)
{
	CU_ASSERT_FATAL(k < cap[i].nev);
	CU_ASSERT_EQUAL(cap[i].ev[k].len, len);
	CU_ASSERT_EQUAL(cap[i].ev[k].flags, flags);
}

static void assert_empty(int i)
{
	CU_ASSERT_EQUAL(dir[i].nsegs, 0);
	CU_ASSERT_EQUAL(dir[i].held_bytes, 0);
}

static uint8_t pat(uint32_t seq)
{
	return (uint8_t)(seq * 7u + (seq >> 8) * 13u + 1u);
}

static void fill_pat(uint8_t *buf, uint32_t seq, uint32_t len)
{
	for (uint32_t k = 0; k < len; k++)
		buf[k] = pat(seq + k);
}

static int check_pat(const uint8_t *buf, uint32_t seq, uint32_t len)
{
	for (uint32_t k = 0; k < len; k++)
		if (buf[k] != pat(seq + k))
			return 0;
	return 1;
}

/* ---- tests ---- */

static void test_pool_init(void)
{
	struct ots_seg_pool p;

	CU_ASSERT(ots_seg_pool_init(&p, 8) == 0);
	CU_ASSERT_EQUAL(p.nslots, 8);
	CU_ASSERT_EQUAL(p.nfree, 8);
	CU_ASSERT_PTR_NOT_NULL(p.slots);
	ots_seg_pool_fini(&p);
	CU_ASSERT_PTR_NULL(p.slots);
	CU_ASSERT(ots_seg_pool_init(&p, 0) == 0);
	CU_ASSERT_EQUAL(p.nfree, 0);
	ots_seg_pool_fini(&p);
}

static void test_inorder_handshake(void)
{
	static const char a[] = "hello ", b[] = "world";

	setup_default();
	feed(0, 1000, OTS_TCP_SYN, NULL, 0);
	feed(1, 5000, OTS_TCP_SYN | OTS_TCP_ACK, NULL, 0);
	feed(0, 1001, OTS_TCP_ACK, NULL, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1001);
	CU_ASSERT_EQUAL(dir[1].next_seq, 5001);
	CU_ASSERT_EQUAL(dir[0].state, OTS_RD_SEQ_KNOWN | OTS_RD_SYN_SEEN);
	feed(0, 1001, OTS_TCP_ACK | OTS_TCP_PSH, a, 6);
	feed(1, 5001, OTS_TCP_ACK, "ok", 2);
	feed(0, 1007, OTS_TCP_ACK | OTS_TCP_PSH, b, 5);
	assert_stream(0, "hello world");
	assert_stream(1, "ok");
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	assert_evt(0, 0, 6, 0);
	assert_evt(0, 1, 5, 0);
	/* zero copy: delivered straight from the payload */
	CU_ASSERT_PTR_EQUAL(cap[0].ev[0].ptr, (const uint8_t *)a);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[1].ptr, (const uint8_t *)b);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1012);
	CU_ASSERT(dir[0].state & OTS_RD_STARTED);
	CU_ASSERT_EQUAL(st.delivered_bytes, 13);
	CU_ASSERT_EQUAL(st.midstream, 0);
	CU_ASSERT_EQUAL(st.overlap_bytes, 0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_split_pdu(void)
{
	/* a 12-byte Modbus/TCP request split in 3 segments */
	static const uint8_t pdu[12] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a };

	setup_default();
	feed(0, 99, OTS_TCP_SYN, NULL, 0);
	feed(0, 100, OTS_TCP_ACK, pdu, 3);
	feed(0, 103, OTS_TCP_ACK, pdu + 3, 4);
	feed(0, 107, OTS_TCP_ACK | OTS_TCP_PSH, pdu + 7, 5);
	CU_ASSERT_EQUAL(cap[0].len, 12);
	CU_ASSERT(memcmp(cap[0].buf, pdu, 12) == 0);
	CU_ASSERT_EQUAL(cap[0].nev, 3);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[1].ptr, pdu + 3);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[2].ptr, pdu + 7);
	CU_ASSERT_EQUAL(st.ooo_segments, 0);
}

static void test_retransmission(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK, "abcd");
	feed_str(0, 1, OTS_TCP_ACK, "abcd");
	feed_str(0, 5, OTS_TCP_ACK, "ef");
	feed_str(0, 1, OTS_TCP_ACK, "abcd");
	assert_stream(0, "abcdef");
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	CU_ASSERT_EQUAL(st.overlap_bytes, 8);
	CU_ASSERT_EQUAL(st.delivered_bytes, 6);
	CU_ASSERT_EQUAL(dir[0].next_seq, 7);
	/* a retransmitted SYN after data changes nothing */
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 7);
}

static void test_partial_front_overlap(void)
{
	static const char a[] = "abcdef", b[] = "defghi";

	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed(0, 1, OTS_TCP_ACK, a, 6);
	feed(0, 4, OTS_TCP_ACK, b, 6);
	assert_stream(0, "abcdefghi");
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	assert_evt(0, 1, 3, 0);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[1].ptr, (const uint8_t *)b + 3);
	CU_ASSERT_EQUAL(st.overlap_bytes, 3);
	CU_ASSERT_EQUAL(dir[0].next_seq, 10);
}

static void test_overlapping_ooo(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 3, OTS_TCP_ACK, "cdef");   /* held [3,7) */
	feed_str(0, 5, OTS_TCP_ACK, "XXgh");   /* [5,7) already held: first copy wins, [7,9) appended */
	feed_str(0, 4, OTS_TCP_ACK, "YYY");    /* fully held: dropped */
	CU_ASSERT_EQUAL(cap[0].nev, 0);
	CU_ASSERT_EQUAL(dir[0].held_bytes, 6);
	CU_ASSERT_EQUAL(st.overlap_bytes, 5);
	feed_str(0, 1, OTS_TCP_ACK, "ab");
	assert_stream(0, "abcdefgh");
	CU_ASSERT_EQUAL(st.ooo_segments, 2);
	CU_ASSERT_EQUAL(dir[0].next_seq, 9);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_ooo_spanning_held(void)
{
	/* a future segment covering a held slot on both sides only fills the holes around it */
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 5, OTS_TCP_ACK, "ef");      /* [5,7) */
	feed_str(0, 3, OTS_TCP_ACK, "CDxxGH");  /* [3,5) and [7,9) new, [5,7) dropped */
	CU_ASSERT_EQUAL(dir[0].held_bytes, 6);
	CU_ASSERT_EQUAL(st.overlap_bytes, 2);
	feed_str(0, 1, OTS_TCP_ACK, "ab");
	assert_stream(0, "abCDefGH");
	assert_empty(0);
}

static void test_inorder_overlaps_held(void)
{
	/* an in-order segment reaching into held data is delivered whole; the held copy is trimmed */
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 5, OTS_TCP_ACK, "EFGH");
	feed_str(0, 1, OTS_TCP_ACK, "abcdef");
	assert_stream(0, "abcdefGH");
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	assert_evt(0, 0, 6, 0);
	assert_evt(0, 1, 2, 0);
	CU_ASSERT_EQUAL(st.overlap_bytes, 2);
	CU_ASSERT_EQUAL(dir[0].next_seq, 9);
	assert_empty(0);
}

static void test_ooo_then_fill(void)
{
	static const char fill[] = "abcd";

	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 5, OTS_TCP_ACK, "efgh");
	CU_ASSERT_EQUAL(cap[0].nev, 0);
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	CU_ASSERT_EQUAL(dir[0].held_bytes, 4);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots - 1);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1);
	feed(0, 1, OTS_TCP_ACK, fill, 4);
	assert_stream(0, "abcdefgh");
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[0].ptr, (const uint8_t *)fill);
	CU_ASSERT_EQUAL(st.ooo_segments, 1);
	CU_ASSERT_EQUAL(st.gaps, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 9);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

/* behind a hole, each later segment is placed at the tail of the held list (no walk from the head); a segment that
 * overlaps the tail, one that lands in the middle, and the fill all still give the exact stream */
static void test_hole_then_tail_appends(void)
{
	static uint8_t b[64 * 600];
	setup(64, 65536, 64);
	fill_pat(b, 1, sizeof(b));
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed(0, 1, OTS_TCP_ACK, b, 100);           /* delivered: next_seq 101 */
	for (uint32_t k = 1; k <= 38; k++)         /* hole at [101, 601), then 38 in-order 500-byte segments */
		feed(0, 101 + k * 500, OTS_TCP_ACK, b + 100 + k * 500, 500);
	CU_ASSERT_EQUAL(cap[0].len, 100);
	CU_ASSERT_EQUAL(dir[0].nsegs, 10); /* 38 x 500 bytes packed into 1984-byte slots */
	CU_ASSERT_EQUAL(dir[0].held_bytes, 38 * 500);
	feed(0, 19601 - 50, OTS_TCP_ACK, b + 19600 - 50, 300); /* overlaps the tail by 50 */
	feed(0, 2601, OTS_TCP_ACK, b + 2600, 400);              /* inside what is held: all duplicate */
	CU_ASSERT_EQUAL(dir[0].held_bytes, 38 * 500 + 250);
	feed(0, 101, OTS_TCP_ACK, b + 100, 500); /* the fill */
	CU_ASSERT_EQUAL(cap[0].len, 100 + 500 + 38 * 500 + 250);
	CU_ASSERT(check_pat(cap[0].buf, 1, cap[0].len));
	CU_ASSERT_EQUAL(st.gaps, 0);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_ooo_reverse_many(void)
{
	static const char want[] = "000111222333444555666777888999";

	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	for (int k = 9; k >= 1; k--)
		feed(0, 1 + 3 * (uint32_t)k, OTS_TCP_ACK, want + 3 * k, 3);
	CU_ASSERT_EQUAL(cap[0].nev, 0);
	CU_ASSERT_EQUAL(dir[0].nsegs, 9);
	CU_ASSERT_EQUAL(dir[0].held_bytes, 27);
	feed(0, 1, OTS_TCP_ACK, want, 3);
	assert_stream(0, want);
	CU_ASSERT_EQUAL(cap[0].nev, 10);
	CU_ASSERT_EQUAL(st.ooo_segments, 9);
	CU_ASSERT_EQUAL(dir[0].next_seq, 31);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_gap_max_segments(void)
{
	static const char k[] = "kk";

	setup(64, 65536, 2);
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed(0, 11, OTS_TCP_ACK, k, 2);        /* held */
	feed_str(0, 21, OTS_TCP_ACK, "uu");    /* held */
	CU_ASSERT_EQUAL(dir[0].nsegs, 2);
	feed_str(0, 31, OTS_TCP_ACK, "ee");    /* cap: hole [1,11) skipped, "kk" delivered, "ee" held */
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	assert_evt(0, 0, 10, OTS_REASM_F_GAP);
	assert_evt(0, 1, 2, 0);
	assert_stream(0, "kk");
	CU_ASSERT_EQUAL(dir[0].nsegs, 2);
	CU_ASSERT_EQUAL(dir[0].next_seq, 13);
	CU_ASSERT_EQUAL(st.cap_reached, 1);
	CU_ASSERT_EQUAL(st.gaps, 1);
	CU_ASSERT_EQUAL(st.gap_bytes, 10);
	CU_ASSERT_EQUAL(st.pool_exhausted, 0);
	flush(0);
	assert_stream(0, "kkuuee");
	CU_ASSERT_EQUAL(cap[0].nev, 6);
	assert_evt(0, 2, 8, OTS_REASM_F_GAP);
	assert_evt(0, 4, 8, OTS_REASM_F_GAP);
	CU_ASSERT_EQUAL(st.gaps, 3);
	CU_ASSERT_EQUAL(st.gap_bytes, 26);
	CU_ASSERT_EQUAL(dir[0].next_seq, 33);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_gap_max_bytes(void)
{
	static const char seg3[] = "33333";

	setup(64, 8, 64);
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 11, OTS_TCP_ACK, "22222"); /* held, 5 bytes */
	feed(0, 21, OTS_TCP_ACK, seg3, 5);     /* 10 > 8: hole [1,11) skipped, "22222" delivered, seg3 held */
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	assert_evt(0, 0, 10, OTS_REASM_F_GAP);
	assert_evt(0, 1, 5, 0);
	CU_ASSERT_EQUAL(dir[0].held_bytes, 5);
	CU_ASSERT(dir[0].held_bytes <= cfg.max_bytes);
	CU_ASSERT_EQUAL(st.cap_reached, 1);
	/* a future segment larger than max_bytes on its own: nothing can be held, it is delivered from the packet */
	static const char big[] = "0123456789";
	feed(0, 40, OTS_TCP_ACK, big, 10);
	/* gap [16,21), "33333", gap [26,40), big */
	CU_ASSERT_EQUAL(cap[0].nev, 6);
	assert_evt(0, 2, 5, OTS_REASM_F_GAP);
	assert_evt(0, 3, 5, 0);
	assert_evt(0, 4, 14, OTS_REASM_F_GAP);
	assert_evt(0, 5, 10, 0);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[5].ptr, (const uint8_t *)big);
	assert_stream(0, "22222333330123456789");
	CU_ASSERT_EQUAL(st.cap_reached, 3);
	CU_ASSERT_EQUAL(st.gap_bytes, 29);
	CU_ASSERT_EQUAL(dir[0].next_seq, 50);
	assert_empty(0);
}

static void test_gap_pool_exhausted(void)
{
	static const char b2[] = "BB";

	/* two slots shared by both directions of a flow */
	setup(2, 65536, 64);
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed(1, 100, OTS_TCP_SYN | OTS_TCP_ACK, NULL, 0);
	feed_str(0, 11, OTS_TCP_ACK, "aa");
	feed_str(0, 21, OTS_TCP_ACK, "cc");
	CU_ASSERT_EQUAL(pool.nfree, 0);
	/* direction 1 holds nothing: the hole before its own segment is skipped and the segment delivered */
	feed(1, 111, OTS_TCP_ACK, b2, 2);
	CU_ASSERT_EQUAL(cap[1].nev, 2);
	assert_evt(1, 0, 10, OTS_REASM_F_GAP);
	assert_evt(1, 1, 2, 0);
	CU_ASSERT_PTR_EQUAL(cap[1].ev[1].ptr, (const uint8_t *)b2);
	CU_ASSERT_EQUAL(st.pool_exhausted, 1);
	CU_ASSERT_EQUAL(st.cap_reached, 0);
	CU_ASSERT_EQUAL(dir[1].next_seq, 113);
	assert_empty(1);
	/* direction 0 with an empty pool: its own first hole is skipped */
	feed_str(0, 31, OTS_TCP_ACK, "ee");
	assert_evt(0, 0, 10, OTS_REASM_F_GAP);
	assert_stream(0, "aa");
	CU_ASSERT_EQUAL(st.pool_exhausted, 2);
	CU_ASSERT_EQUAL(dir[0].nsegs, 2);
	CU_ASSERT_EQUAL(pool.nfree, 0);
	flush(0);
	assert_stream(0, "aaccee");
	CU_ASSERT_EQUAL(pool.nfree, 2);
	assert_empty(0);
}

static void test_flush_with_holes(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK, "ab");
	feed_str(0, 5, OTS_TCP_ACK, "ef");
	feed_str(0, 12, OTS_TCP_ACK, "lmn");
	feed_str(0, 7, OTS_TCP_ACK | OTS_TCP_FIN, "gh"); /* contiguous with [5,7): held together */
	CU_ASSERT_EQUAL(dir[0].nsegs, 2);
	CU_ASSERT(dir[0].state & OTS_RD_FIN_SEEN);
	flush(0);
	assert_stream(0, "abefghlmn");
	CU_ASSERT_EQUAL(cap[0].nev, 5);
	assert_evt(0, 0, 2, 0);
	assert_evt(0, 1, 2, OTS_REASM_F_GAP);
	assert_evt(0, 2, 4, 0);
	assert_evt(0, 3, 3, OTS_REASM_F_GAP);
	assert_evt(0, 4, 3, 0);
	CU_ASSERT_EQUAL(st.gaps, 2);
	CU_ASSERT_EQUAL(st.gap_bytes, 5);
	CU_ASSERT_EQUAL(st.cap_reached + st.pool_exhausted, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 15);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
	/* flushing an empty direction does nothing */
	flush(0);
	CU_ASSERT_EQUAL(cap[0].nev, 5);
	flush(1);
	CU_ASSERT_EQUAL(cap[1].nev, 0);
}

static void test_release(void)
{
	static uint8_t big[3000];

	setup(8, 65536, 64);
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 10, OTS_TCP_ACK, "x");
	feed_str(0, 20, OTS_TCP_ACK, "y");
	feed(0, 100, OTS_TCP_ACK, big, sizeof(big));
	CU_ASSERT_EQUAL(dir[0].nsegs, 4);
	CU_ASSERT_EQUAL(pool.nfree, 4);
	ots_reasm_release(&dir[0], &pool);
	CU_ASSERT_EQUAL(cap[0].nev, 0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
	CU_ASSERT_EQUAL(dir[0].head, OTS_SEG_NONE);
	assert_empty(0);
	CU_ASSERT_EQUAL(st.delivered_bytes, 0);
	/* releasing a zeroed direction is harmless */
	ots_reasm_release(&dir[1], &pool);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_midstream(void)
{
	static const char a[] = "mid";

	setup_default();
	feed(0, 500, OTS_TCP_ACK, NULL, 0); /* pure ACK: no anchor */
	CU_ASSERT_EQUAL(dir[0].state, 0);
	CU_ASSERT_EQUAL(st.midstream, 0);
	feed(0, 1000, OTS_TCP_ACK | OTS_TCP_PSH, a, 3);
	feed_str(0, 1003, OTS_TCP_ACK, "stream");
	assert_stream(0, "midstream");
	CU_ASSERT_EQUAL(cap[0].nev, 2);
	assert_evt(0, 0, 3, OTS_REASM_F_MIDSTREAM);
	assert_evt(0, 1, 6, 0);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[0].ptr, (const uint8_t *)a);
	CU_ASSERT_EQUAL(st.midstream, 1);
	CU_ASSERT_EQUAL(dir[0].state, OTS_RD_SEQ_KNOWN | OTS_RD_STARTED);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1009);
	/* the other direction picked up mid-stream too: counted once per direction */
	feed_str(1, 7000, OTS_TCP_ACK, "r1");
	feed_str(1, 7002, OTS_TCP_ACK, "r2");
	assert_evt(1, 0, 2, OTS_REASM_F_MIDSTREAM);
	assert_evt(1, 1, 2, 0);
	CU_ASSERT_EQUAL(st.midstream, 2);
}

static void test_midstream_then_ooo(void)
{
	setup_default();
	feed_str(0, 1000, OTS_TCP_ACK, "ab");
	feed_str(0, 1004, OTS_TCP_ACK, "ef");
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	feed_str(0, 1002, OTS_TCP_ACK, "cd");
	feed_str(0, 990, OTS_TCP_ACK, "0123456789"); /* earlier than the pickup: old */
	assert_stream(0, "abcdef");
	CU_ASSERT_EQUAL(cap[0].nev, 3);
	assert_evt(0, 0, 2, OTS_REASM_F_MIDSTREAM);
	assert_evt(0, 1, 2, 0);
	assert_evt(0, 2, 2, 0);
	CU_ASSERT_EQUAL(st.midstream, 1);
	CU_ASSERT_EQUAL(st.ooo_segments, 1);
	CU_ASSERT_EQUAL(st.overlap_bytes, 10);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1006);
	assert_empty(0);
}

static void test_wraparound(void)
{
	const uint32_t isn = 0xfffffff8u;

	setup_default();
	feed(0, isn, OTS_TCP_SYN, NULL, 0);
	feed_str(0, isn + 1, OTS_TCP_ACK, "abcd");          /* 0xfffffff9 .. 0xfffffffc */
	feed_str(0, isn + 5, OTS_TCP_ACK, "efghij");        /* crosses 2^32 */
	CU_ASSERT_EQUAL(dir[0].next_seq, 3u);
	/* out of order after the wrap: [6,8) arrives first... */
	feed_str(0, 6, OTS_TCP_ACK, "no");
	/* ...a retransmission from before the wrap is old */
	feed_str(0, isn + 1, OTS_TCP_ACK, "abcd");
	feed_str(0, 3, OTS_TCP_ACK, "klm");
	assert_stream(0, "abcdefghijklmno");
	CU_ASSERT_EQUAL(st.overlap_bytes, 4);
	CU_ASSERT_EQUAL(dir[0].next_seq, 8u);

	/* held data straddling the wrap, filled from before it */
	setup_default();
	feed(0, 0xfffffff0u, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 0xfffffffeu, OTS_TCP_ACK, "WXYZ"); /* [2^32-2, 2) */
	feed_str(0, 0xfffffff1u, OTS_TCP_ACK, "0123456789abc");
	assert_stream(0, "0123456789abcWXYZ");
	CU_ASSERT_EQUAL(dir[0].next_seq, 2u);
	assert_empty(0);
	/* flush with a hole across the wrap */
	setup_default();
	feed(0, 0xfffffff0u, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 4, OTS_TCP_ACK, "z");
	flush(0);
	assert_evt(0, 0, 19, OTS_REASM_F_GAP);
	assert_stream(0, "z");
	CU_ASSERT_EQUAL(dir[0].next_seq, 5u);
}

static void test_big_segment_ooo(void)
{
	static uint8_t head[100], big[5000];

	setup(8, 65536, 64);
	fill_pat(head, 1, sizeof(head));
	fill_pat(big, 101, sizeof(big));
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed(0, 101, OTS_TCP_ACK, big, sizeof(big));
	CU_ASSERT_EQUAL(dir[0].nsegs, 3); /* 1984 + 1984 + 1032 */
	CU_ASSERT_EQUAL(dir[0].held_bytes, 5000);
	CU_ASSERT_EQUAL(pool.nfree, 5);
	CU_ASSERT_EQUAL(st.ooo_segments, 1);
	feed(0, 1, OTS_TCP_ACK, head, sizeof(head));
	CU_ASSERT_EQUAL(cap[0].len, 5100);
	CU_ASSERT(check_pat(cap[0].buf, 1, 5100));
	CU_ASSERT_EQUAL(cap[0].nev, 4);
	assert_evt(0, 1, OTS_SEG_SLOT_BYTES, 0);
	assert_evt(0, 3, 5000 - 2 * OTS_SEG_SLOT_BYTES, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 5101);
	assert_empty(0);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
}

static void test_small_ooo_share_slot(void)
{
	/* contiguous small out-of-order segments are packed into one slot */
	setup(4, 65536, 1);
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 3, OTS_TCP_ACK, "cd");
	feed_str(0, 5, OTS_TCP_ACK, "ef");
	feed_str(0, 7, OTS_TCP_ACK, "gh");
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	CU_ASSERT_EQUAL(dir[0].held_bytes, 6);
	CU_ASSERT_EQUAL(st.cap_reached, 0);
	CU_ASSERT_EQUAL(st.ooo_segments, 3);
	feed_str(0, 1, OTS_TCP_ACK, "ab");
	assert_stream(0, "abcdefgh");
	assert_empty(0);
}

static void test_fin(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK | OTS_TCP_FIN, "bye");
	assert_stream(0, "bye");
	CU_ASSERT(dir[0].state & OTS_RD_FIN_SEEN);
	CU_ASSERT_EQUAL(dir[0].next_seq, 5); /* 1 + 3 + FIN */
	/* retransmitted FIN (with or without data) does not consume again */
	feed(0, 4, OTS_TCP_ACK | OTS_TCP_FIN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK | OTS_TCP_FIN, "bye");
	CU_ASSERT_EQUAL(dir[0].next_seq, 5);
	CU_ASSERT_EQUAL(st.overlap_bytes, 3);
	assert_stream(0, "bye");

	/* bare FIN in order */
	feed(1, 50, OTS_TCP_SYN, NULL, 0);
	feed(1, 51, OTS_TCP_ACK | OTS_TCP_FIN, NULL, 0);
	CU_ASSERT_EQUAL(dir[1].next_seq, 52);
	CU_ASSERT_EQUAL(cap[1].nev, 0);

	/* FIN on a future segment: data held, sequence number not consumed; flush delivers */
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 4, OTS_TCP_ACK | OTS_TCP_FIN, "de");
	CU_ASSERT(dir[0].state & OTS_RD_FIN_SEEN);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1);
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	feed(0, 7, OTS_TCP_ACK | OTS_TCP_FIN, NULL, 0); /* future bare FIN: ignored */
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	feed_str(0, 1, OTS_TCP_ACK, "abc");
	assert_stream(0, "abcde");
	CU_ASSERT_EQUAL(dir[0].next_seq, 6);
	/* FIN retransmitted in order now consumes it */
	feed_str(0, 4, OTS_TCP_ACK | OTS_TCP_FIN, "de");
	CU_ASSERT_EQUAL(dir[0].next_seq, 7);
	assert_stream(0, "abcde");
}

static void test_rst_ignored(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK, "ab");
	feed_str(0, 5, OTS_TCP_ACK, "ef");
	feed_str(0, 3, OTS_TCP_RST, "connection reset"); /* diagnostic payload: not stream data, no flush */
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	CU_ASSERT_EQUAL(dir[0].next_seq, 3);
	assert_stream(0, "ab");
	flush(0);
	assert_stream(0, "abef");
}

static void test_empty_payload(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed(0, 1, OTS_TCP_ACK, NULL, 0);
	feed(0, 77, OTS_TCP_ACK, NULL, 0);       /* window probe / keepalive at odd seqs */
	feed(0, 0, OTS_TCP_ACK, NULL, 0);
	feed(0, 1, OTS_TCP_ACK | OTS_TCP_PSH, "", 0);
	CU_ASSERT_EQUAL(cap[0].nev, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 1);
	CU_ASSERT_EQUAL(dir[0].state, OTS_RD_SEQ_KNOWN | OTS_RD_SYN_SEEN);
	assert_empty(0);
	CU_ASSERT_EQUAL(st.overlap_bytes + st.ooo_segments + st.gaps + st.delivered_bytes, 0);
	/* empty data with a hole pending changes nothing either */
	feed_str(0, 5, OTS_TCP_ACK, "x");
	feed(0, 1, OTS_TCP_ACK, NULL, 0);
	feed(0, 5, OTS_TCP_ACK, NULL, 0);
	CU_ASSERT_EQUAL(dir[0].nsegs, 1);
	CU_ASSERT_EQUAL(cap[0].nev, 0);
}

static void test_max_bytes_zero(void)
{
	static const char x[] = "xyz";

	setup(4, 0, 64);
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK, "ab");
	feed(0, 10, OTS_TCP_ACK, x, 3);
	CU_ASSERT_EQUAL(cap[0].nev, 3);
	assert_evt(0, 1, 7, OTS_REASM_F_GAP);
	assert_evt(0, 2, 3, 0);
	CU_ASSERT_PTR_EQUAL(cap[0].ev[2].ptr, (const uint8_t *)x);
	assert_stream(0, "abxyz");
	CU_ASSERT_EQUAL(st.cap_reached, 1);
	CU_ASSERT_EQUAL(st.ooo_segments, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 13);
	CU_ASSERT_EQUAL(pool.nfree, pool.nslots);
	assert_empty(0);
}

static void test_garbage_far_ahead(void)
{
	setup_default();
	feed(0, 0, OTS_TCP_SYN, NULL, 0);
	feed_str(0, 1, OTS_TCP_ACK, "ok");
	struct ots_reasm_stats before = st;
	feed_str(0, 3 + 0x50000000u, OTS_TCP_ACK, "junk");
	CU_ASSERT_EQUAL(cap[0].nev, 1);
	CU_ASSERT_EQUAL(dir[0].next_seq, 3);
	assert_empty(0);
	CU_ASSERT(memcmp(&before, &st, sizeof(st)) == 0);
}

static void test_syn_payload(void)
{
	/* data on a SYN (TCP Fast Open) starts at seq + 1 */
	setup_default();
	feed_str(0, 41, OTS_TCP_SYN, "tfo");
	feed_str(0, 45, OTS_TCP_ACK, "!");
	assert_stream(0, "tfo!");
	assert_evt(0, 0, 3, 0);
	CU_ASSERT_EQUAL(dir[0].next_seq, 46);
	CU_ASSERT_EQUAL(st.midstream, 0);
}

static int suite_cleanup(void)
{
	ots_seg_pool_fini(&pool);
	return 0;
}

static const struct ots_test reasm_tests[] = {
	{ "pool_init", test_pool_init },
	{ "inorder_handshake", test_inorder_handshake },
	{ "split_pdu", test_split_pdu },
	{ "retransmission", test_retransmission },
	{ "partial_front_overlap", test_partial_front_overlap },
	{ "overlapping_ooo", test_overlapping_ooo },
	{ "ooo_spanning_held", test_ooo_spanning_held },
	{ "inorder_overlaps_held", test_inorder_overlaps_held },
	{ "ooo_then_fill", test_ooo_then_fill },
	{ "hole_then_tail_appends", test_hole_then_tail_appends },
	{ "ooo_reverse_many", test_ooo_reverse_many },
	{ "gap_max_segments", test_gap_max_segments },
	{ "gap_max_bytes", test_gap_max_bytes },
	{ "gap_pool_exhausted", test_gap_pool_exhausted },
	{ "flush_with_holes", test_flush_with_holes },
	{ "release", test_release },
	{ "midstream", test_midstream },
	{ "midstream_then_ooo", test_midstream_then_ooo },
	{ "wraparound", test_wraparound },
	{ "big_segment_ooo", test_big_segment_ooo },
	{ "small_ooo_share_slot", test_small_ooo_share_slot },
	{ "fin", test_fin },
	{ "rst_ignored", test_rst_ignored },
	{ "empty_payload", test_empty_payload },
	{ "max_bytes_zero", test_max_bytes_zero },
	{ "garbage_far_ahead", test_garbage_far_ahead },
	{ "syn_payload", test_syn_payload },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "reasm", reasm_tests, NULL, suite_cleanup },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_reasm", suites);
}
