/* fuzz/fuzz_dnp3.c - libFuzzer target for protocols/dnp3.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records [u8 h][u8 len][len bytes].
 *   mode bit 0: UDP (one datagram per record) instead of TCP (a byte stream per direction)
 *   mode bit 1: build link frames: a record is CTRL DST(2) SRC(2) USERDATA(<= 250) and becomes a frame with every
 *               CRC right, so the transport and application layers are reached; otherwise bytes go in raw
 *   mode bit 2: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   h bit 0: direction; bit 1: (TCP) deliver a gap of len bytes instead of data; bits 2..7: (TCP) split the
 *   record's bytes in two deliveries at that offset
 * Every record is also given to probe(). Invariants: no read or write outside a delivery (an exactly sized heap
 * copy) or the state (a heap block of exactly state_size bytes), reported PDUs/identities/events are well formed,
 * identities are printable ASCII, parse returns 0 or -1 and is not called after -1.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/dnp3.c protocols/framing.c fuzz/fuzz_dnp3.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/dnp3.h"

#define FUZZ_PARSER ots_parser_dnp3
#define FUZZ_PROTO OTS_APP_DNP3
#include "fuzz/feed.h"

static void fuzz_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	fuzz_check_pdu(p);
	CHECK(p->code < 0x200);
	CHECK(p->unit <= 0xffff);
	CHECK(p->address <= 0xffff);
	if (p->code >= 0x100)
		CHECK(p->kind == OTS_PDU_OTHER && p->quantity == 0);
	if (p->name)
		CHECK(strlen(p->name) < 64);
}

static void fuzz_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	fuzz_check_identity(ep, kind, conf, v, len, 64);
	fuzz_check_ascii(v, len);
	CHECK(v[len - 1] != ' ');
}

static size_t mkframe(uint8_t *out, const uint8_t *r, size_t n)
{
	uint8_t hdr[8] = { 0x05, 0x64, 0, 0, 0, 0, 0, 0 };
	size_t ud = n > 5 ? n - 5 : 0;
	if (ud > 250)
		ud = 250;
	memcpy(hdr + 3, r, n < 5 ? n : 5);
	hdr[2] = (uint8_t)(ud + 5);
	size_t o = 0;
	memcpy(out, hdr, 8);
	o = 8;
	uint16_t c = ots_dnp3_crc(hdr, 8);
	out[o++] = (uint8_t)c;
	out[o++] = (uint8_t)(c >> 8);
	for (size_t i = 0; i < ud; i += 16) {
		size_t b = ud - i < 16 ? ud - i : 16;
		memcpy(out + o, r + 5 + i, b);
		c = ots_dnp3_crc(r + 5 + i, b);
		o += b;
		out[o++] = (uint8_t)c;
		out[o++] = (uint8_t)(c >> 8);
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	uint8_t transport = (mode & 1) ? 17 : 6;
	uint8_t *state = calloc(1, ots_parser_dnp3.state_size);
	int started[2] = { 0, 0 };
	size_t i = 1;
	while (i + 2 <= size) {
		uint8_t h = data[i], len = data[i + 1];
		i += 2;
		size_t n = size - i < len ? size - i : len;
		const uint8_t *rec = data + i;
		i += n;
		uint8_t frame[300];
		const uint8_t *bytes = rec;
		size_t blen = n;
		if (mode & 2) {
			blen = mkframe(frame, rec, n);
			bytes = frame;
		}
		/* exactly sized copy so ASan sees over-reads */
		uint8_t *buf = malloc(blen ? blen : 1);
		memcpy(buf, bytes, blen);
		int dir = h & 1;
		int pr = ots_parser_dnp3.probe(buf, blen, dir);
		CHECK(pr >= -1 && pr <= 1);
		uint32_t flags = (mode & 4) && !started[dir] ? OTS_REASM_F_MIDSTREAM : 0;
		started[dir] = 1;
		int rc;
		if (transport == 6 && (h & 2)) {
			rc = fuzz_parse(state, dir, OTS_REASM_F_GAP, transport, NULL, blen);
		} else if (transport == 6 && (h >> 2) && (size_t)(h >> 2) < blen) {
			size_t k = h >> 2;
			rc = fuzz_parse(state, dir, flags, transport, buf, k);
			if (rc == 0)
				rc = fuzz_parse(state, dir, 0, transport, buf + k, blen - k);
		} else {
			rc = fuzz_parse(state, dir, flags, transport, buf, blen);
		}
		free(buf);
		if (rc < 0)
			break;
	}
	free(state);
	return 0;
}
