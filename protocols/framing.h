/* protocols/framing.h - cut a TCP byte stream into length-prefixed PDUs (Modbus/TCP MBAP, TPKT, IEC-104 APCI,
 * DNP3 link frames, EtherNet/IP encapsulation...).
 *
 * Contract:
 *  - A parser keeps one struct ots_framer per direction in its state, followed by its buffer (cap bytes).
 *  - ots_framer_feed() hands every complete PDU to cb exactly once: straight from the input when the PDU lies
 *    whole inside one chunk (no copy), else from the framer's buffer after accumulating it across chunks.
 *  - spec->frame_len(p, n) looks at the first n >= spec->hdr bytes of a candidate PDU and returns its total
 *    length, or -1 when these bytes cannot start a PDU. A PDU longer than cap is skipped (event ev_oversize).
 *  - Resync: after a gap (OTS_REASM_F_GAP), at a mid-stream pickup, or when frame_len says -1, the framer
 *    slides one byte at a time until frame_len accepts a start again (event ev_resync once per loss).
 *  - Never reads outside the input or the buffer; no allocation.
 */
#ifndef OTS_FRAMING_H
#define OTS_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/app.h"

struct ots_framer {
	uint32_t have;   /* bytes accumulated in buf */
	uint32_t need;   /* total length of the PDU being accumulated, 0 while the header is incomplete */
	uint32_t skip;   /* bytes of an oversize PDU still to drop */
	uint8_t lost;    /* looking for a PDU start */
	uint8_t started; /* saw the first chunk */
	uint8_t pad[2];
	uint64_t pdus;   /* PDUs delivered */
	uint64_t resyncs;
};

typedef int (*ots_frame_len_fn)(const uint8_t *p, size_t n);
typedef void (*ots_frame_pdu_fn)(void *arg, struct ots_app_ctx *c, const uint8_t *pdu, size_t len);

struct ots_frame_spec {
	size_t hdr;                 /* bytes frame_len needs to decide */
	size_t cap;                 /* size of the buffer that follows the framer */
	ots_frame_len_fn frame_len;
	unsigned ev_resync;         /* protocol event numbers to report */
	unsigned ev_oversize;
};

/* buf: the cap-byte buffer belonging to f */
void ots_framer_feed(struct ots_framer *f, uint8_t *buf, const struct ots_frame_spec *spec, struct ots_app_ctx *c,
		     const uint8_t *data, size_t len, ots_frame_pdu_fn cb, void *arg);

/* In a PDU callback: the PDU at pdu (len bytes) was found by the plain frame_len. When the framer resynced since
 * the last accepted PDU (*resyncs_seen != f->resyncs), hold it to strict (called with what the chunk shows
 * from pdu on) and drop it when that disagrees, leaving the framer hunting. Returns 1 when the PDU is accepted.
 * *visible: bytes of the current chunk from pdu on (len when the PDU was assembled in the framer's buffer). */
int ots_framer_accept(struct ots_framer *f, uint64_t *resyncs_seen, ots_frame_len_fn strict, const uint8_t *pdu,
		      size_t len, const uint8_t *chunk, size_t chunk_len, size_t *visible);

#endif
