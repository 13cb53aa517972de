/* fuzz/fuzz_bacnet.c - libFuzzer target for protocols/bacnet.c.
 *
 * Input: u8 mode, then datagrams [u16 len (LE)][len bytes].
 *   mode bit 0: fix the BVLC header: a datagram is FUNCTION + NPDU bytes and gets type 0x81 and the right length,
 *               so NPDU, APDU and the service decoders are reached; otherwise bytes go in raw
 *   mode bit 1: also prefix the NPDU header 01 00 (no addresses), to reach the APDU directly
 *   mode bit 2: deliver as TCP (the parser must refuse the flow)
 *   the datagram's direction is the low bit of its first length byte
 * Every datagram is also given to probe(). Invariants: no read outside the datagram (exactly sized heap copy) or
 * the state (exactly state_size bytes), reported PDUs/identities/events are well formed, identity strings are
 * valid UTF-8 without control characters.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/bacnet.c fuzz/fuzz_bacnet.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/bacnet.h"

#define FUZZ_PARSER ots_parser_bacnet
#define FUZZ_PROTO OTS_APP_BACNET
#include "fuzz/feed.h"

static void fuzz_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	fuzz_check_pdu(p);
	CHECK(p->code < 0x500);
	CHECK(p->unit <= 0x3fffff);
	CHECK(p->quantity == 0);
	if (p->name)
		CHECK(strlen(p->name) < 64);
}

/* valid UTF-8, no C0 control characters, no NUL */
static int utf8_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80)
			k = 1;
		else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			k = 2;
		else if ((c & 0xf0) == 0xe0)
			k = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			k = 4;
		else
			return 0;
		if (i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

static void fuzz_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	fuzz_check_identity(ep, kind, conf, v, len, 63);
	CHECK(utf8_ok((const uint8_t *)v, len));
	CHECK(v[len - 1] != ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	uint8_t *state = calloc(1, ots_parser_bacnet.state_size);
	size_t i = 1;
	while (i + 2 <= size) {
		size_t len = (size_t)data[i] | (size_t)data[i + 1] << 8;
		int dir = data[i] & 1;
		i += 2;
		size_t n = size - i < len ? size - i : len;
		const uint8_t *rec = data + i;
		i += n;
		size_t dl = n;
		uint8_t *dg = malloc(n + 6);
		if (mode & 1) {
			dg[0] = 0x81;
			dg[1] = n ? rec[0] : 0x0a;
			size_t body = n ? n - 1 : 0;
			size_t o = 4;
			if (mode & 2) {
				dg[o++] = 0x01;
				dg[o++] = 0x00;
			}
			memcpy(dg + o, rec + (n ? 1 : 0), body);
			dl = o + body;
			dg[2] = (uint8_t)(dl >> 8);
			dg[3] = (uint8_t)dl;
			uint8_t *exact = malloc(dl);
			memcpy(exact, dg, dl);
			free(dg);
			dg = exact;
		} else {
			memcpy(dg, rec, n);
		}
		int pr = ots_parser_bacnet.probe(dg, dl, dir);
		CHECK(pr >= -1 && pr <= 1);
		int rc = fuzz_parse(state, dir, 0, (mode & 4) ? 6 : 17, dg, dl);
		free(dg);
		if (mode & 4)
			CHECK(rc == -1);
		if (rc < 0)
			break;
	}
	free(state);
	return 0;
}
