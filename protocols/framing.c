/* protocols/framing.c - PDU framing over a TCP byte stream (see framing.h). */
#include "protocols/framing.h"

#include <string.h>

#include "dataplane/reasm.h"

/* enter resync mode (reported once per loss); the caller decides what to keep of the buffer */
static void lose(struct ots_framer *f, const struct ots_frame_spec *spec, struct ots_app_ctx *c)
{
	if (!f->lost) {
		f->resyncs++;
		ots_app_event(c, spec->ev_resync);
	}
	f->lost = 1;
}

void ots_framer_feed(struct ots_framer *f, uint8_t *buf, const struct ots_frame_spec *spec, struct ots_app_ctx *c,
		     const uint8_t *data, size_t len, ots_frame_pdu_fn cb, void *arg)
{
	if (c->flags & OTS_REASM_F_GAP) {
		f->have = f->need = f->skip = 0;
		lose(f, spec, c);
		return;
	}
	if (!f->started) {
		f->started = 1;
		if (c->flags & OTS_REASM_F_MIDSTREAM)
			f->lost = 1; /* may start inside a PDU: find a start first, quietly */
	}
	size_t i = 0;
	while (i < len) {
		if (f->skip) {
			size_t n = len - i < f->skip ? len - i : f->skip;
			f->skip -= (uint32_t)n;
			i += n;
			continue;
		}
		if (f->have == 0) {
			/* fast path and resync both look at the input directly */
			size_t left = len - i;
			if (left < spec->hdr) {
				memcpy(buf, data + i, left);
				f->have = (uint32_t)left;
				return;
			}
			int r = spec->frame_len(data + i, left);
			if (r < 0 || (size_t)r < spec->hdr) {
				lose(f, spec, c);
				i++;
				continue;
			}
			f->lost = 0;
			if ((size_t)r <= left) {
				f->pdus++;
				cb(arg, c, data + i, (size_t)r);
				i += (size_t)r;
				continue;
			}
			if ((size_t)r > spec->cap) {
				ots_app_event(c, spec->ev_oversize);
				f->skip = (uint32_t)((size_t)r - left);
				return;
			}
			memcpy(buf, data + i, left);
			f->have = (uint32_t)left;
			f->need = (uint32_t)r;
			return;
		}
		if (f->need == 0) {
			/* header incomplete in the buffer: top it up to hdr bytes */
			size_t take = spec->hdr - f->have;
			if (take > len - i)
				take = len - i;
			memcpy(buf + f->have, data + i, take);
			f->have += (uint32_t)take;
			i += take;
			if (f->have < spec->hdr)
				return;
			int r = spec->frame_len(buf, f->have);
			if (r < 0 || (size_t)r < spec->hdr) {
				/* not a start: slide by one byte within what we hold */
				lose(f, spec, c);
				memmove(buf, buf + 1, f->have - 1); /* have >= hdr >= 1 here */
				f->have--;
				continue;
			}
			f->lost = 0;
			if ((size_t)r > spec->cap) {
				ots_app_event(c, spec->ev_oversize);
				f->skip = (uint32_t)((size_t)r - f->have);
				f->have = 0;
				continue;
			}
			f->need = (uint32_t)r;
			if (f->have >= f->need) { /* hdr == whole PDU */
				f->pdus++;
				cb(arg, c, buf, f->need);
				size_t extra = f->have - f->need;
				memmove(buf, buf + f->need, extra);
				f->have = (uint32_t)extra;
				f->need = 0;
			}
			continue;
		}
		size_t take = f->need - f->have;
		if (take > len - i)
			take = len - i;
		memcpy(buf + f->have, data + i, take);
		f->have += (uint32_t)take;
		i += take;
		if (f->have == f->need) {
			f->pdus++;
			cb(arg, c, buf, f->need);
			f->have = f->need = 0;
		}
	}
}

int ots_framer_accept(struct ots_framer *f, uint64_t *resyncs_seen, ots_frame_len_fn strict, const uint8_t *pdu,
		      size_t len, const uint8_t *chunk, size_t chunk_len, size_t *visible)
{
	uintptr_t at = (uintptr_t)pdu, lo = (uintptr_t)chunk;
	int in_chunk = chunk && at >= lo && at < lo + chunk_len;
	*visible = in_chunk ? chunk_len - (size_t)(at - lo) : len;
	if (f->resyncs == *resyncs_seen)
		return 1;
	if (strict(pdu, *visible) != (int)len) {
		f->lost = 1; /* and the next candidate is held to the strict check too */
		return 0;
	}
	*resyncs_seen = f->resyncs;
	return 1;
}
