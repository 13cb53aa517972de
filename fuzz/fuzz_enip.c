/* fuzz/fuzz_enip.c - libFuzzer target for protocols/enip.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records: u8 ctl, u16 len (LE), len bytes (cut short at the end of the input).
 *   ctl bit 0: direction (0 to the server, 1 to the client)
 *   ctl bit 1: a gap of len bytes (data == NULL, OTS_REASM_F_GAP) instead of data (TCP)
 *   ctl bit 2: (wrapped mode) Send Unit Data with a connected data item instead of Send RR Data
 *   mode bit 0: wrapped: each record's bytes become one CIP message inside an encapsulation PDU, so mutations reach
 *               the CIP decoder directly; otherwise the bytes are the raw stream / datagram
 *   mode bit 1: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode bit 2: UDP: every record is one datagram
 * Every chunk is copied to an exactly sized heap buffer and the parser state is a heap block of exactly
 * state_size bytes, so ASan sees any read or write outside them.
 *
 * Invariants: encapsulation codes < 0x200 (what the framer accepts), CIP codes 0x10000 | service (7 bits),
 * kind < OTS_PDU_KIND_MAX, dir = the call's, name NULL or a string; identity values non-empty, at most 64 bytes,
 * printable ASCII; event numbers < nevents; after parse() says -1 it is never called again.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/enip.c protocols/framing.c fuzz/fuzz_enip.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/enip.h"

#define CHECK(x)                  \
	do {                      \
		if (!(x))         \
			abort();  \
	} while (0)

static uint8_t cur_dir;

static void on_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	CHECK(p->code < 0x200 || (p->code >= 0x10000 && p->code <= 0x1007f));
	CHECK(p->kind < OTS_PDU_KIND_MAX);
	CHECK(p->dir == cur_dir);
	CHECK(p->proto == OTS_APP_ENIP);
	if (p->name)
		CHECK(strlen(p->name) < 128);
}

static void on_id(void *ud, int ep, int kind, int conf, const char *v, size_t n)
{
	(void)ud;
	CHECK(ep == OTS_EP_CLIENT || ep == OTS_EP_SERVER);
	CHECK(kind >= 0 && kind < OTS_ATTR_MAX);
	CHECK(conf > 0 && conf <= 100);
	CHECK(v && n > 0 && n <= 64);
	for (size_t i = 0; i < n; i++)
		CHECK(v[i] >= 0x20 && v[i] <= 0x7e);
}

static void on_ev(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud;
	CHECK(proto == OTS_APP_ENIP);
	CHECK(ev < ots_parser_enip.nevents);
}

static const struct ots_app_ops ops = { on_pdu, on_id, on_ev };

static int call(void *st, int dir, uint32_t flags, int transport, const uint8_t *p, size_t n)
{
	uint8_t *b = NULL;
	if (p) {
		b = malloc(n ? n : 1);
		CHECK(b);
		memcpy(b, p, n);
	}
	struct ots_app_ctx c = { .ops = &ops, .proto = OTS_APP_ENIP, .dir = (uint8_t)dir,
				 .transport = (uint8_t)transport, .flags = flags };
	cur_dir = (uint8_t)dir;
	int r = ots_parser_enip.parse(&c, b, n, st);
	free(b);
	CHECK(r == 0 || r == -1);
	return r;
}

/* one encapsulation PDU around a CIP message: Send RR Data (null address + unconnected data item) or Send Unit
 * Data (connected address + connected data item with a sequence count) */
static size_t wrap(uint8_t *w, const uint8_t *cip, size_t n, int connected)
{
	memset(w, 0, 24 + 24);
	w[0] = connected ? 0x70 : 0x6f;
	uint8_t *b = w + 24;
	b[6] = 2; /* item count */
	size_t o = 8;
	if (connected) {
		b[o] = 0xa1;
		b[o + 2] = 4;
		o += 8; /* connected address item: type, length 4, connection id */
		b[o] = 0xb1;
		b[o + 2] = (uint8_t)(n + 2);
		b[o + 3] = (uint8_t)((n + 2) >> 8);
		o += 6; /* type, length, sequence count */
	} else {
		o += 4; /* null address item */
		b[o] = 0xb2;
		b[o + 2] = (uint8_t)n;
		b[o + 3] = (uint8_t)(n >> 8);
		o += 4;
	}
	memcpy(b + o, cip, n);
	size_t body = o + n;
	w[2] = (uint8_t)body;
	w[3] = (uint8_t)(body >> 8);
	return 24 + body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	CHECK(ots_parser_enip.state_size <= OTS_APP_STATE_MAX);
	void *st = calloc(1, ots_parser_enip.state_size);
	CHECK(st);
	unsigned mode = data[0];
	int udp = (mode & 4) != 0;
	int started[2] = { 0, 0 };
	size_t i = 1;
	while (i + 3 <= size) {
		unsigned ctl = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		i += 3;
		int dir = ctl & 1;
		uint32_t fl = 0;
		if (!udp && !started[dir] && (mode & 2))
			fl |= OTS_REASM_F_MIDSTREAM;
		started[dir] = 1;
		int r;
		if ((ctl & 2) && !udp) {
			r = call(st, dir, OTS_REASM_F_GAP, 6, NULL, len);
		} else {
			if (len > size - i)
				len = size - i;
			if (len > 4000)
				len = 4000;
			if (mode & 1) {
				uint8_t *w = malloc(len + 64);
				CHECK(w);
				size_t wn = wrap(w, data + i, len, (ctl & 4) != 0);
				r = call(st, dir, fl, udp ? 17 : 6, w, wn);
				free(w);
			} else {
				r = call(st, dir, fl, udp ? 17 : 6, data + i, len);
			}
			i += len;
		}
		if (r < 0)
			break;
	}
	free(st);
	return 0;
}
