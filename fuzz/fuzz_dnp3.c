/* fuzz/fuzz_dnp3.c - libFuzzer target for protocols/dnp3.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records [u8 h][u8 len][len bytes].
 *   mode bit 0: UDP (one datagram per record) instead of TCP (a byte stream per direction)
 *   mode bit 1: build link frames: a record is CTRL DST(2) SRC(2) USERDATA(<= 250) and becomes a frame with every
 *               CRC right, so the transport and application layers are reached; otherwise bytes go in raw
 *   mode bit 2: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   h bit 0: direction; bit 1: (TCP) deliver a gap of len bytes instead of data; bits 2..7: (TCP) split the
 *   record's bytes in two deliveries at that offset
 * Every record is also given to probe(). Invariants: no read or write outside the input or the state (the state
 * is a heap block of exactly state_size bytes), reported PDUs/identities/events are well formed, identities are
 * printable ASCII, parse returns 0 or -1 and is not called after -1.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/dnp3.c protocols/framing.c fuzz/fuzz_dnp3.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/dnp3.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static uint8_t cur_dir;

static void on_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	CHECK(p->proto == OTS_APP_DNP3);
	CHECK(p->dir == cur_dir);
	CHECK(p->kind < OTS_PDU_KIND_MAX);
	CHECK(p->code < 0x200);
	CHECK(p->unit <= 0xffff);
	CHECK(p->address <= 0xffff);
	if (p->code >= 0x100)
		CHECK(p->kind == OTS_PDU_OTHER && p->quantity == 0);
	if (p->name)
		CHECK(strlen(p->name) < 64);
}

static void on_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	CHECK(ep == OTS_EP_CLIENT || ep == OTS_EP_SERVER);
	CHECK(kind >= 0 && kind < OTS_ATTR_MAX);
	CHECK(conf > 0 && conf <= 100);
	CHECK(len > 0 && len <= 64);
	for (size_t i = 0; i < len; i++) /* printable ASCII only */
		CHECK((uint8_t)v[i] >= 0x20 && (uint8_t)v[i] < 0x7f);
	CHECK(v[len - 1] != ' ');
}

static void on_event(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud;
	CHECK(proto == OTS_APP_DNP3);
	CHECK(ev < ots_parser_dnp3.nevents && ots_parser_dnp3.events[ev]);
}

static const struct ots_app_ops ops = { on_pdu, on_identity, on_event };

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
		/* exactly sized copy so ASan sees over-reads of the delivery */
		uint8_t *buf = malloc(blen ? blen : 1);
		memcpy(buf, bytes, blen);
		cur_dir = h & 1;
		int pr = ots_parser_dnp3.probe(buf, blen, cur_dir);
		CHECK(pr >= -1 && pr <= 1);
		struct ots_app_ctx c = { .ops = &ops, .proto = OTS_APP_DNP3, .dir = cur_dir, .transport = transport };
		if ((mode & 4) && !started[cur_dir])
			c.flags |= OTS_REASM_F_MIDSTREAM;
		started[cur_dir] = 1;
		int rc;
		if (transport == 6 && (h & 2)) {
			c.flags = OTS_REASM_F_GAP;
			rc = ots_parser_dnp3.parse(&c, NULL, blen, state);
		} else if (transport == 6 && (h >> 2) && (size_t)(h >> 2) < blen) {
			size_t k = h >> 2;
			rc = ots_parser_dnp3.parse(&c, buf, k, state);
			c.flags = 0;
			if (rc == 0)
				rc = ots_parser_dnp3.parse(&c, buf + k, blen - k, state);
		} else {
			rc = ots_parser_dnp3.parse(&c, buf, blen, state);
		}
		free(buf);
		CHECK(rc == 0 || rc == -1);
		if (rc < 0)
			break;
	}
	free(state);
	return 0;
}
