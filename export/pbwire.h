/* export/pbwire.h - a protobuf wire-format writer that writes backwards (header only, used by encode.c).
 *
 * A message is written last field first, from the end of the caller's buffer toward its start: when a nested
 * message is done its length is known (the bytes written since its mark), so length prefixes need neither a
 * size pass nor a memmove per level; one memmove at the end brings the whole record to the buffer's start.
 *
 * Rules the caller follows to produce exactly protobuf-c's bytes (and protoc's: canonical proto3 encoding):
 *  - fields in decreasing field number, repeated elements in reverse order (the bytes come out forward);
 *  - pbw_u64/pbw_i32/pbw_fixed64/pbw_str skip the proto3 default (0, ""), as protobuf-c's unlabeled fields do;
 *    pbw_bytes always writes (an element of a repeated string, even ""); a singular message present is written
 *    even when empty (tag + length 0), absent is simply not written;
 *  - uint32/uint64 are varints, int32/enum varints of the value sign-extended to 64 bits (10 bytes when
 *    negative), fixed64 8 bytes little endian; packed repeated scalars: pbw_mark, the values in reverse,
 *    pbw_msg with the field number (skipped entirely when the list is empty).
 * Running out of room sets full and stops writing; the caller checks it once at the end.
 */
#ifndef OTS_PBWIRE_H
#define OTS_PBWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pbw {
	uint8_t *lo; /* start of the buffer */
	uint8_t *p;  /* first byte written so far: writing goes down from lo + cap */
	int full;
};

/* Everything is inlined into the record writer, which keeps its struct pbw in a local copy: its fields then
 * live in registers (a pbw whose address reaches an out-of-line call would be reloaded after every store). */
#define PBW_INLINE static inline __attribute__((always_inline))

#define PBW_VARINT 0u
#define PBW_I64 1u
#define PBW_LEN 2u

PBW_INLINE void pbw_init(struct pbw *w, uint8_t *buf, size_t cap)
{
	w->lo = buf;
	w->p = buf + cap;
	w->full = 0;
}

/* bytes of v as a varint: 1..10 */
PBW_INLINE size_t pbw_vsize(uint64_t v)
{
	return ((unsigned)(63 - __builtin_clzll(v | 1)) * 9 + 73) / 64;
}

/* room for n more bytes below p */
PBW_INLINE int pbw_room(struct pbw *w, size_t n)
{
	if (__builtin_expect((size_t)(w->p - w->lo) >= n, 1))
		return 1;
	w->full = 1;
	return 0;
}

/* v as a varint at q (n = pbw_vsize(v) bytes). (A branch-free 8-bytes-at-once variant measured no faster.) */
PBW_INLINE void pbw_put_varint(uint8_t *q, uint64_t v)
{
	while (v >= 0x80) {
		*q++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*q = (uint8_t)v;
}

PBW_INLINE void pbw_varint(struct pbw *w, uint64_t v)
{
	size_t n = pbw_vsize(v);
	if (!pbw_room(w, n))
		return;
	w->p -= n;
	pbw_put_varint(w->p, v);
}

/* a tag of wire type wt followed by a varint v (a varint field's value, or a length-delimited field's length),
 * one room check (the tag's size folds to a constant) */
PBW_INLINE void pbw_tag_varint(struct pbw *w, uint32_t field, uint32_t wt, uint64_t v)
{
	uint64_t tag = (uint64_t)field << 3 | wt;
	size_t tn = pbw_vsize(tag), n = pbw_vsize(v);
	if (!pbw_room(w, tn + n))
		return;
	w->p -= tn + n;
	pbw_put_varint(w->p, tag);
	pbw_put_varint(w->p + tn, v);
}

PBW_INLINE void pbw_tagged_varint(struct pbw *w, uint32_t field, uint64_t v)
{
	pbw_tag_varint(w, field, PBW_VARINT, v);
}

PBW_INLINE void pbw_raw(struct pbw *w, const void *s, size_t n)
{
	if (!pbw_room(w, n))
		return;
	w->p -= n;
	if (n)
		memcpy(w->p, s, n);
}

/* uint32, uint64 (and bool): absent when 0 */
PBW_INLINE void pbw_u64(struct pbw *w, uint32_t field, uint64_t v)
{
	if (v)
		pbw_tagged_varint(w, field, v);
}

/* int32 and enums: absent when 0; negative values take 10 bytes (sign-extended), as protobuf specifies */
PBW_INLINE void pbw_i32(struct pbw *w, uint32_t field, int32_t v)
{
	if (v)
		pbw_tagged_varint(w, field, (uint64_t)(int64_t)v);
}

PBW_INLINE void pbw_fixed64(struct pbw *w, uint32_t field, uint64_t v)
{
	uint64_t tag = (uint64_t)field << 3 | PBW_I64;
	size_t tn = pbw_vsize(tag);
	if (!v || !pbw_room(w, tn + 8))
		return;
	w->p -= tn + 8;
	pbw_put_varint(w->p, tag);
	for (int i = 0; i < 8; i++)
		w->p[tn + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* the tag and length of a length-delimited field whose n bytes are written */
PBW_INLINE void pbw_len(struct pbw *w, uint32_t field, size_t n)
{
	pbw_tag_varint(w, field, PBW_LEN, n);
}

/* length-delimited, always written (an element of a repeated string or bytes field) */
PBW_INLINE void pbw_bytes(struct pbw *w, uint32_t field, const void *s, size_t n)
{
	pbw_raw(w, s, n);
	pbw_len(w, field, n);
}

/* singular string: absent when empty */
PBW_INLINE void pbw_str(struct pbw *w, uint32_t field, const char *s, size_t n)
{
	if (n)
		pbw_bytes(w, field, s, n);
}

/* a nested message (or packed list): mark before writing its contents, pbw_msg after */
PBW_INLINE uint8_t *pbw_mark(const struct pbw *w)
{
	return w->p;
}

PBW_INLINE void pbw_msg(struct pbw *w, uint32_t field, const uint8_t *mark)
{
	pbw_len(w, field, (size_t)(mark - w->p));
}

/* bytes written so far; moves them to the start of the buffer. -1 when they did not fit */
PBW_INLINE long pbw_finish(struct pbw *w, size_t cap)
{
	if (w->full)
		return -1;
	size_t n = (size_t)(w->lo + cap - w->p);
	if (n && w->p != w->lo)
		memmove(w->lo, w->p, n);
	return (long)n;
}

#endif
