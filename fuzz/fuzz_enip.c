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
 * (the loop: fuzz_ctl_records in fuzz/feed.h). Every chunk is copied to an exactly sized heap buffer and the
 * parser state is a heap block of exactly state_size bytes, so ASan sees any read or write outside them.
 *
 * Invariants: encapsulation codes < 0x200 (what the framer accepts), CIP codes 0x10000 | service (7 bits),
 * kind < OTS_PDU_KIND_MAX, dir = the call's, name NULL or a string; identity values non-empty, at most 64 bytes,
 * printable ASCII; events of the table; after parse() says -1 it is never called again.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/enip.c protocols/framing.c fuzz/fuzz_enip.c
 */
#include <stdint.h>
#include <string.h>

#include "protocols/enip.h"

#define FUZZ_PARSER ots_parser_enip
#define FUZZ_PROTO OTS_APP_ENIP
#define FUZZ_ASCII_IDENTITY 64 /* identities: printable ASCII */
#include "fuzz/feed.h"

static void fuzz_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	fuzz_check_pdu(p);
	CHECK(p->code < 0x200 || (p->code >= 0x10000 && p->code <= 0x1007f));
	if (p->name)
		CHECK(strlen(p->name) < 128);
}

/* one encapsulation PDU around a CIP message: Send RR Data (null address + unconnected data item) or Send Unit
 * Data (connected address + connected data item with a sequence count) */
static size_t wrap(uint8_t *w, const uint8_t *cip, size_t n, unsigned ctl)
{
	int connected = (ctl & 4) != 0;
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
	fuzz_ctl_records(data, size, 4, 4000, 64, wrap);
	return 0;
}
