/* fuzz/fuzz_s7comm.c - libFuzzer target for protocols/s7comm.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records: u8 ctl, u16 len (LE), len bytes (cut short at the end of the input).
 *   ctl bit 0: direction (0 to the server, 1 to the client)
 *   ctl bit 1: a gap of len bytes (data == NULL, OTS_REASM_F_GAP) instead of data
 *   ctl bit 2: (wrapped mode) COTP DT without EOT: a fragment of a longer message
 *   mode bit 0: wrapped: each record's bytes become the payload of one TPKT + COTP DT, so mutations reach the S7 /
 *               S7comm-plus decoders directly; otherwise the bytes are the raw TCP stream
 *   mode bit 1: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 * (the loop: fuzz_ctl_records in fuzz/feed.h). Every chunk is copied to an exactly sized heap buffer and the
 * parser state is a heap block of exactly state_size bytes, so ASan sees any read or write outside them.
 *
 * Invariants: PDU codes in the documented ranges (s7comm.h), kind < OTS_PDU_KIND_MAX, dir = the call's, name NULL
 * or a string; identity values non-empty, at most 64 bytes, printable ASCII, endpoint 0/1, kind < OTS_ATTR_MAX;
 * events of the table; after parse() says -1 it is never called again (as the worker does).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/s7comm.c protocols/framing.c fuzz/fuzz_s7comm.c
 */
#include <stdint.h>
#include <string.h>

#include "protocols/s7comm.h"

#define FUZZ_PARSER ots_parser_s7comm
#define FUZZ_PROTO OTS_APP_S7COMM
#define FUZZ_ASCII_IDENTITY 64 /* identities: printable ASCII */
#include "fuzz/feed.h"

static void fuzz_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	fuzz_check_pdu(p);
	uint32_t c = p->code;
	CHECK(c < 0x100 || (c >= 0x1000 && c <= 0x1fff) || (c >= 0x20000 && c <= 0x2ffff) ||
	      (c >= 0x30000 && c <= 0x300ff));
	if (p->name)
		CHECK(strlen(p->name) < 128);
}

/* TPKT + COTP DT around the record: with EOT, or (ctl bit 2) without, a fragment of a longer message */
static size_t tpkt(uint8_t *w, const uint8_t *r, size_t len, unsigned ctl)
{
	size_t tl = len + 7 > 0xffff ? 0xffff : len + 7;
	w[0] = 0x03;
	w[1] = 0x00;
	w[2] = (uint8_t)(tl >> 8);
	w[3] = (uint8_t)tl;
	w[4] = 0x02;
	w[5] = 0xf0;
	w[6] = (ctl & 4) ? 0x00 : 0x80;
	memcpy(w + 7, r, len);
	return len + 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ctl_records(data, size, 0, SIZE_MAX, 7, tpkt);
	return 0;
}
