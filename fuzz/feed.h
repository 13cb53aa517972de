/* fuzz/feed.h - what the fuzz targets share.
 *
 * Any target: CHECK(x), which aborts (a crash for libFuzzer) when x is false.
 *
 * A protocol target defines FUZZ_PARSER (its struct ots_parser) and FUZZ_PROTO (its OTS_APP_* id) before including
 * this header, and then fuzz_pdu() and fuzz_identity(), its protocol's invariants (fuzz_check_pdu() and
 * fuzz_check_identity() hold the common part; FUZZ_ASCII_IDENTITY defined to a length instead of fuzz_identity():
 * printable ASCII identities of at most that many bytes). It gets:
 *  - fuzz_ops: those two and fuzz_event (an event of the protocol, one of its table);
 *  - fuzz_parse(): one parse() call as the worker makes it, on an exactly sized heap copy of the bytes, so ASan sees
 *    any read outside the delivery (the state is the caller's: a heap block of exactly state_size bytes);
 *  - the record loops of the TCP parsers (every input format is documented at its loop):
 *    fuzz_stream_records() ([u8 h][u8 len][bytes]: Modbus, IEC-104) and fuzz_ctl_records() ([u8 ctl][u16 len][bytes]:
 *    S7comm, EtherNet/IP).
 */
#ifndef OTS_FUZZ_FEED_H
#define OTS_FUZZ_FEED_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#ifdef FUZZ_PARSER

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/app.h"

static uint8_t cur_dir;  /* the direction of the parse() call in progress: every PDU must carry it */
static uint64_t npdu[2]; /* PDUs per direction, for the targets whose fuzz_pdu() counts them */

/* the protocol's invariants, defined by the target */
static void fuzz_pdu(void *ud, const struct ots_pdu *p);
static void fuzz_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len);

static void fuzz_event(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud;
	CHECK(proto == FUZZ_PROTO);
	CHECK(ev < FUZZ_PARSER.nevents && FUZZ_PARSER.events[ev]);
}

static const struct ots_app_ops fuzz_ops = { fuzz_pdu, fuzz_identity, fuzz_event };

/* every PDU: the protocol, the direction of the call, a known kind */
static inline void fuzz_check_pdu(const struct ots_pdu *p)
{
	CHECK(p->proto == FUZZ_PROTO);
	CHECK(p->dir == cur_dir);
	CHECK(p->kind < OTS_PDU_KIND_MAX);
}

/* every identity: one of the two endpoints, a known attribute, a confidence, 1 to max bytes */
static inline void fuzz_check_identity(int ep, int kind, int conf, const char *v, size_t len, size_t max)
{
	CHECK(ep == OTS_EP_CLIENT || ep == OTS_EP_SERVER);
	CHECK(kind >= 0 && kind < OTS_ATTR_MAX);
	CHECK(conf > 0 && conf <= 100);
	CHECK(v && len > 0 && len <= max);
}

/* printable ASCII only */
static inline void fuzz_check_ascii(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		CHECK((uint8_t)v[i] >= 0x20 && (uint8_t)v[i] < 0x7f);
}

#ifdef FUZZ_ASCII_IDENTITY
/* a target whose identities are printable ASCII of 1 to FUZZ_ASCII_IDENTITY bytes, and no more, defines that */
static void fuzz_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	fuzz_check_identity(ep, kind, conf, v, len, FUZZ_ASCII_IDENTITY);
	fuzz_check_ascii(v, len);
}
#endif

/* one parse() call (p NULL: a gap of n bytes); returns its result, 0 or -1 */
static inline int fuzz_parse(void *st, int dir, uint32_t flags, int transport, const uint8_t *p, size_t n)
{
	uint8_t *b = NULL;
	if (p) {
		b = malloc(n ? n : 1);
		CHECK(b);
		memcpy(b, p, n);
	}
	struct ots_app_ctx c = { .ops = &fuzz_ops, .proto = FUZZ_PROTO, .dir = (uint8_t)dir,
				 .transport = (uint8_t)transport, .flags = flags };
	cur_dir = (uint8_t)dir;
	int r = FUZZ_PARSER.parse(&c, b, n, st);
	free(b);
	CHECK(r == 0 || r == -1);
	return r;
}

#define FUZZ_WRAP_MAX 512 /* what fuzz_stream_records' wrap may write */

/* Input: u8 mode, then records [u8 h][u8 len][len bytes] (cut short at the end of the input), over TCP.
 *   mode bit 0: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode bit 1: wrap(out, record, len, record index) makes the delivery of each record (a valid header around it);
 *               otherwise the bytes go in raw
 *   h bit 0: direction; bit 1: deliver a gap of len bytes instead of data (OTS_REASM_F_GAP);
 *   bits 2..7: split the record's bytes in two deliveries at that offset
 * Invariants: a gap is accepted; no more PDUs (counted in npdu by fuzz_pdu) than one per pdu_bytes bytes fed in a
 * direction; parse() is not called again after -1. */
static inline void fuzz_stream_records(const uint8_t *data, size_t size,
				       size_t (*wrap)(uint8_t *out, const uint8_t *r, size_t len, unsigned rec),
				       unsigned pdu_bytes)
{
	if (size < 1)
		return;
	uint8_t mode = data[0];
	size_t off = 1;
	void *state = calloc(1, FUZZ_PARSER.state_size);
	CHECK(state);
	int started[2] = { 0, 0 }, dead = 0;
	uint64_t fed[2] = { 0, 0 };
	npdu[0] = npdu[1] = 0;
	uint8_t buf[FUZZ_WRAP_MAX];
	for (unsigned rec = 0; off + 2 <= size && !dead; rec++) {
		uint8_t h = data[off], len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = (uint8_t)(size - off);
		const uint8_t *p = data + off;
		size_t n = len;
		off += len;
		int dir = h & 1;
		if (h & 2) {
			CHECK(fuzz_parse(state, dir, OTS_REASM_F_GAP, 6, NULL, len) == 0);
			started[dir] = 1;
			continue;
		}
		if (mode & 2) {
			n = wrap(buf, p, len, rec);
			p = buf;
		}
		uint32_t flags = !started[dir] && (mode & 1) ? OTS_REASM_F_MIDSTREAM : 0;
		started[dir] = 1;
		size_t cut = (size_t)(h >> 2) < n ? (size_t)(h >> 2) : n;
		int ret = fuzz_parse(state, dir, flags, 6, p, cut);
		if (ret == 0 && n > cut)
			ret = fuzz_parse(state, dir, 0, 6, p + cut, n - cut);
		fed[dir] += n;
		dead = ret < 0;
		CHECK(npdu[dir] * pdu_bytes <= fed[dir]);
	}
	free(state);
}

/* Input: u8 mode, then records [u8 ctl][u16 len (LE)][len bytes] (cut short at the end of the input, and at max).
 *   ctl bit 0: direction (0 to the server, 1 to the client)
 *   ctl bit 1: (TCP) a gap of len bytes (data == NULL, OTS_REASM_F_GAP) instead of data
 *   mode bit 0: wrapped: wrap(out, record, len, ctl) makes the delivery of each record (at most len + room bytes);
 *               otherwise the bytes are the raw stream / datagram
 *   mode bit 1: (TCP) the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode & udp_bit (when not 0): UDP, every record is one datagram
 * Invariants: parse() is not called again after -1 (as the worker does). */
static inline void fuzz_ctl_records(const uint8_t *data, size_t size, unsigned udp_bit, size_t max, size_t room,
				    size_t (*wrap)(uint8_t *out, const uint8_t *r, size_t len, unsigned ctl))
{
	if (size < 1)
		return;
	CHECK(FUZZ_PARSER.state_size <= OTS_APP_STATE_MAX);
	void *st = calloc(1, FUZZ_PARSER.state_size);
	CHECK(st);
	unsigned mode = data[0];
	int transport = (mode & udp_bit) ? 17 : 6;
	int started[2] = { 0, 0 };
	size_t i = 1;
	while (i + 3 <= size) {
		unsigned ctl = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		i += 3;
		int dir = ctl & 1;
		uint32_t flags = 0;
		if (transport == 6 && !started[dir] && (mode & 2))
			flags |= OTS_REASM_F_MIDSTREAM;
		started[dir] = 1;
		int r;
		if ((ctl & 2) && transport == 6) {
			r = fuzz_parse(st, dir, OTS_REASM_F_GAP, 6, NULL, len);
		} else {
			if (len > size - i)
				len = size - i;
			if (len > max)
				len = max;
			if (mode & 1) {
				uint8_t *w = malloc(len + room);
				CHECK(w);
				size_t wn = wrap(w, data + i, len, ctl);
				r = fuzz_parse(st, dir, flags, transport, w, wn);
				free(w);
			} else {
				r = fuzz_parse(st, dir, flags, transport, data + i, len);
			}
			i += len;
		}
		if (r < 0)
			break;
	}
	free(st);
}

#endif /* FUZZ_PARSER */

#endif
