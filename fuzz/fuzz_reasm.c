/* fuzz/fuzz_reasm.c - libFuzzer target for dataplane/reasm.c.
 *
 * Input: an 8-byte header, then records fed to one direction of one flow.
 *   header: u32 base seq (LE), u8 nslots (1..8), u8 max_segments (0..7), u16 max_bytes (LE, 0..8191)
 *   record: i16 seq delta (LE), u8 flags, u8 len code, [len raw bytes when flags & 0x80]
 *     seq = previous seq + previous len + delta (delta << 16 when flags & 0x40: wraps, garbage)
 *     flags & 0x1f: tcp flags; 0x20: flush after the segment; 0x80: payload taken from the input
 *     len = code < 192 ? code : (code - 192) * 97 (up to 6111: several slots)
 * Without raw payloads every byte at sequence number s is pat(s), so the delivered stream is checked byte by
 * byte (any overlap policy must yield the same bytes).
 *
 * Invariants: delivered bytes <= fed bytes; delivery is contiguous (gap/data events follow each other, skipping
 * at most one sequence number per FIN fed); the MIDSTREAM flag is only on the first delivery of a direction
 * without SYN; held list sorted, non-overlapping, after next_seq, its tail the last slot, consistent with
 * nsegs/held_bytes, within caps;
 * pool nfree + nsegs == nslots; after flush (or release) the pool is full again.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. dataplane/reasm.c fuzz/fuzz_reasm.c
 */
#include "dataplane/reasm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/feed.h" /* CHECK */

struct fz {
	struct ots_reasm_dir d;
	struct ots_seg_pool pool;
	struct ots_reasm_cfg cfg;
	struct ots_reasm_stats st;
	uint64_t fed;       /* payload bytes fed */
	uint64_t delivered; /* data bytes seen by the callback */
	uint64_t events;
	uint32_t expect;    /* seq right after the previous event */
	uint32_t fins;      /* FIN segments fed and not yet matched by a +1 skip between events */
	int raw;            /* some payload came from the input: content not checkable */
};

static uint8_t pat(uint32_t seq)
{
	return (uint8_t)(seq * 7u + (seq >> 8) * 13u + 1u);
}

static void deliver_cb(void *ud, const uint8_t *data, uint32_t len, uint32_t flags)
{
	struct fz *f = ud;
	uint32_t seq = f->d.next_seq; /* reasm.c: next_seq is the seq of data[0] during the callback */

	CHECK(len > 0);
	CHECK(!(flags & ~(OTS_REASM_F_GAP | OTS_REASM_F_MIDSTREAM)));
	if (f->events) {
		uint32_t skip = seq - f->expect; /* each consumed FIN moves next_seq by one */

		CHECK(skip <= f->fins);
		f->fins -= skip;
		CHECK(!(flags & OTS_REASM_F_MIDSTREAM));
	} else if (!(flags & OTS_REASM_F_GAP)) {
		CHECK(!!(flags & OTS_REASM_F_MIDSTREAM) == !(f->d.state & OTS_RD_SYN_SEEN));
	}
	f->events++;
	f->expect = seq + len;
	if (flags & OTS_REASM_F_GAP) {
		CHECK(data == NULL);
		CHECK(!(flags & OTS_REASM_F_MIDSTREAM));
		return;
	}
	CHECK(data != NULL);
	f->delivered += len;
	CHECK(f->delivered <= f->fed);
	if (!f->raw)
		for (uint32_t k = 0; k < len; k++)
			CHECK(data[k] == pat(seq + k));
}

static void check_state(const struct fz *f)
{
	const struct ots_reasm_dir *d = &f->d;
	uint32_t idx = d->head, n = 0, bytes = 0, prev_end = d->next_seq;

	CHECK(d->nsegs <= f->cfg.max_segments);
	CHECK(d->held_bytes <= f->cfg.max_bytes);
	CHECK(f->pool.nfree + d->nsegs == f->pool.nslots);
	CHECK(f->st.delivered_bytes == f->delivered);
	CHECK(f->delivered <= f->fed);
	CHECK(f->st.midstream <= 1);
	for (n = 0; n < d->nsegs; n++) {
		const struct ots_seg_slot *s;

		CHECK(idx < f->pool.nslots);
		s = &f->pool.slots[idx];
		CHECK(s->len > 0 && s->len <= OTS_SEG_SLOT_BYTES);
		/* sorted, non-overlapping, strictly after next_seq (contiguous data would have been delivered) */
		CHECK((int32_t)(s->seq - prev_end) > (n == 0 ? 0 : -1));
		if (!f->raw)
			for (uint32_t k = 0; k < s->len; k++)
				CHECK(s->data[k] == pat(s->seq + k));
		bytes += s->len;
		prev_end = s->seq + s->len;
		CHECK((s->next == OTS_SEG_NONE) == (idx == d->tail)); /* the tail is the last slot */
		idx = s->next;
	}
	CHECK(idx == OTS_SEG_NONE || d->nsegs == 0);
	CHECK(bytes == d->held_bytes);
}

static uint8_t payload[8192];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;
	uint32_t seq, last_len = 0;
	size_t off = 8;

	if (size < 8)
		return 0;
	memset(&f, 0, sizeof(f));
	seq = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	if (ots_seg_pool_init(&f.pool, 1 + (data[4] & 7)) != 0)
		return 0;
	f.cfg.max_segments = data[5] & 7;
	f.cfg.max_bytes = ((uint32_t)data[6] | (uint32_t)data[7] << 8) & 8191;

	while (off + 4 <= size) {
		int32_t delta = (int16_t)((uint16_t)data[off] | (uint16_t)data[off + 1] << 8);
		uint8_t fl = data[off + 2], code = data[off + 3];
		uint8_t tcp = fl & 0x1f;
		uint32_t len = code < 192 ? code : (uint32_t)(code - 192) * 97;
		const uint8_t *pl = payload;

		off += 4;
		if (fl & 0x40)
			delta = (int32_t)((uint32_t)delta << 16);
		seq = seq + last_len + (uint32_t)delta;
		if (fl & 0x80) {
			if (len > size - off)
				len = (uint32_t)(size - off);
			pl = data + off;
			off += len;
			f.raw = 1;
		} else {
			uint32_t dseq = seq + ((tcp & OTS_TCP_SYN) ? 1 : 0);

			for (uint32_t k = 0; k < len; k++)
				payload[k] = pat(dseq + k);
		}
		if (!(tcp & OTS_TCP_RST)) {
			f.fed += len;
			f.fins += !!(tcp & OTS_TCP_FIN);
		}
		ots_reasm_segment(&f.d, &f.pool, &f.cfg, &f.st, seq, tcp, len ? pl : NULL, len, deliver_cb, &f);
		check_state(&f);
		if (fl & 0x20) {
			ots_reasm_flush(&f.d, &f.pool, &f.st, deliver_cb, &f);
			CHECK(f.d.nsegs == 0 && f.d.held_bytes == 0);
			check_state(&f);
		}
		last_len = len;
	}

	if (data[4] & 0x80) {
		ots_reasm_release(&f.d, &f.pool);
	} else {
		ots_reasm_flush(&f.d, &f.pool, &f.st, deliver_cb, &f);
		CHECK(f.st.delivered_bytes == f.delivered);
	}
	CHECK(f.d.nsegs == 0 && f.d.held_bytes == 0);
	CHECK(f.pool.nfree == f.pool.nslots);
	CHECK(f.st.gaps == 0 || f.st.gap_bytes > 0);
	ots_seg_pool_fini(&f.pool);
	return 0;
}
