/* fuzz/fuzz_s7comm.c - libFuzzer target for protocols/s7comm.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records: u8 ctl, u16 len (LE), len bytes (cut short at the end of the input).
 *   ctl bit 0: direction (0 to the server, 1 to the client)
 *   ctl bit 1: a gap of len bytes (data == NULL, OTS_REASM_F_GAP) instead of data
 *   ctl bit 2: (wrapped mode) COTP DT without EOT: a fragment of a longer message
 *   mode bit 0: wrapped: each record's bytes become the payload of one TPKT + COTP DT, so mutations reach the S7 /
 *               S7comm-plus decoders directly; otherwise the bytes are the raw TCP stream
 *   mode bit 1: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 * Every chunk is copied to an exactly sized heap buffer and the parser state is a heap block of exactly
 * state_size bytes, so ASan sees any read or write outside them.
 *
 * Invariants: PDU codes in the documented ranges (s7comm.h), kind < OTS_PDU_KIND_MAX, dir = the call's, name NULL
 * or a string; identity values non-empty, at most 64 bytes, printable ASCII, endpoint 0/1, kind < OTS_ATTR_MAX;
 * event numbers < nevents; after parse() says -1 it is never called again (as the worker does).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/s7comm.c protocols/framing.c fuzz/fuzz_s7comm.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/s7comm.h"

#define CHECK(x)                  \
	do {                      \
		if (!(x))         \
			abort();  \
	} while (0)

static uint8_t cur_dir;

static void on_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	uint32_t c = p->code;
	CHECK(c < 0x100 || (c >= 0x1000 && c <= 0x1fff) || (c >= 0x20000 && c <= 0x2ffff) ||
	      (c >= 0x30000 && c <= 0x300ff));
	CHECK(p->kind < OTS_PDU_KIND_MAX);
	CHECK(p->dir == cur_dir);
	CHECK(p->proto == OTS_APP_S7COMM);
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
	CHECK(proto == OTS_APP_S7COMM);
	CHECK(ev < ots_parser_s7comm.nevents);
}

static const struct ots_app_ops ops = { on_pdu, on_id, on_ev };

static int call(void *st, int dir, uint32_t flags, const uint8_t *p, size_t n)
{
	uint8_t *b = NULL;
	if (p) {
		b = malloc(n ? n : 1);
		CHECK(b);
		memcpy(b, p, n);
	}
	struct ots_app_ctx c = { .ops = &ops, .proto = OTS_APP_S7COMM, .dir = (uint8_t)dir, .transport = 6,
				 .flags = flags };
	cur_dir = (uint8_t)dir;
	int r = ots_parser_s7comm.parse(&c, b, n, st);
	free(b);
	CHECK(r == 0 || r == -1);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	CHECK(ots_parser_s7comm.state_size <= OTS_APP_STATE_MAX);
	void *st = calloc(1, ots_parser_s7comm.state_size);
	CHECK(st);
	unsigned mode = data[0];
	int started[2] = { 0, 0 };
	size_t i = 1;
	while (i + 3 <= size) {
		unsigned ctl = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		i += 3;
		int dir = ctl & 1;
		uint32_t fl = 0;
		if (!started[dir] && (mode & 2))
			fl |= OTS_REASM_F_MIDSTREAM;
		started[dir] = 1;
		int r;
		if (ctl & 2) {
			r = call(st, dir, OTS_REASM_F_GAP, NULL, len);
		} else {
			if (len > size - i)
				len = size - i;
			if (mode & 1) {
				uint8_t *w = malloc(len + 7);
				CHECK(w);
				size_t tl = len + 7 > 0xffff ? 0xffff : len + 7;
				w[0] = 0x03;
				w[1] = 0x00;
				w[2] = (uint8_t)(tl >> 8);
				w[3] = (uint8_t)tl;
				w[4] = 0x02;
				w[5] = 0xf0;
				w[6] = (ctl & 4) ? 0x00 : 0x80;
				memcpy(w + 7, data + i, len);
				r = call(st, dir, fl, w, len + 7);
				free(w);
			} else {
				r = call(st, dir, fl, data + i, len);
			}
			i += len;
		}
		if (r < 0)
			break;
	}
	free(st);
	return 0;
}
