/* fuzz/fuzz_iec104.c - libFuzzer target for protocols/iec104.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records [u8 h][u8 len][len bytes].
 *   mode bit 0: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode bit 1: wrap each record in an APCI header (0x68, length = record length, clamped to 4..253; short
 *               records padded with zeros): the record is 4 control octets then the ASDU - so ASDU parsing is
 *               reached; otherwise the bytes go in raw
 *   h bit 0: direction; bit 1: deliver a gap of len bytes instead of data (random flags: OTS_REASM_F_GAP);
 *   bits 2..7: split the record's bytes in two deliveries at that offset
 * Invariants: no read or write outside the input or the state (a heap block of exactly state_size bytes);
 * reported PDUs / events are well formed; no more APDUs than 6-byte units fed per direction; parse returns 0 or
 * -1 and is not called again after -1.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/iec104.c protocols/framing.c fuzz/fuzz_iec104.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "protocols/iec104.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static uint8_t cur_dir;
static uint64_t npdu[2];

static void on_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	CHECK(p->proto == OTS_APP_IEC104);
	CHECK(p->dir == cur_dir);
	CHECK(p->kind < OTS_PDU_KIND_MAX);
	if (p->code < 0x100) {
		CHECK(p->unit <= 0xffff && p->address <= 0xffffff && p->quantity <= 0x7f);
		CHECK(p->name == ots_iec104_type_name(p->code));
	} else {
		CHECK(p->code == OTS_IEC104_CODE_S ||
		      (p->code > OTS_IEC104_CODE_U && p->code <= (OTS_IEC104_CODE_U | 0x20) &&
		       !((p->code & 0xff) & ((p->code & 0xff) - 1))));
		CHECK(p->kind == OTS_PDU_OTHER && p->unit == 0 && p->address == 0 && p->quantity == 0 && p->flags == 0);
		CHECK(p->name && strlen(p->name) < 16);
	}
	npdu[p->dir & 1]++;
}

static void on_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud, (void)ep, (void)kind, (void)conf, (void)v, (void)len;
	abort(); /* IEC-104 reports no identity */
}

static void on_event(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud;
	CHECK(proto == OTS_APP_IEC104);
	CHECK(ev < ots_parser_iec104.nevents && ots_parser_iec104.events[ev]);
}

static const struct ots_app_ops ops = { on_pdu, on_identity, on_event };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	size_t off = 1;
	void *state = calloc(1, ots_parser_iec104.state_size);
	CHECK(state);
	int started[2] = { 0, 0 }, dead = 0;
	uint64_t fed[2] = { 0, 0 };
	npdu[0] = npdu[1] = 0;
	uint8_t buf[512];
	while (off + 2 <= size && !dead) {
		uint8_t h = data[off], len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = (uint8_t)(size - off);
		const uint8_t *r = data + off;
		off += len;
		int dir = h & 1;
		cur_dir = (uint8_t)dir;
		struct ots_app_ctx c = { .ops = &ops, .proto = OTS_APP_IEC104, .dir = (uint8_t)dir, .transport = 6 };
		if (h & 2) {
			c.flags = OTS_REASM_F_GAP;
			CHECK(ots_parser_iec104.parse(&c, NULL, len, state) == 0);
			started[dir] = 1;
			continue;
		}
		const uint8_t *p = r;
		size_t n = len;
		if (mode & 2) {
			size_t l = len < 4 ? 4 : len > 253 ? 253 : len;
			memset(buf, 0, sizeof(buf));
			buf[0] = 0x68;
			buf[1] = (uint8_t)l;
			memcpy(buf + 2, r, len < l ? len : l);
			p = buf;
			n = l + 2;
		}
		if (!started[dir] && (mode & 1))
			c.flags |= OTS_REASM_F_MIDSTREAM;
		started[dir] = 1;
		size_t cut = (size_t)(h >> 2) < n ? (size_t)(h >> 2) : n;
		int ret = ots_parser_iec104.parse(&c, p, cut, state);
		CHECK(ret == 0 || ret == -1);
		if (ret == 0 && n > cut) {
			c.flags &= ~OTS_REASM_F_MIDSTREAM;
			ret = ots_parser_iec104.parse(&c, p + cut, n - cut, state);
			CHECK(ret == 0 || ret == -1);
		}
		fed[dir] += n;
		dead = ret < 0;
		CHECK(npdu[dir] * 6 <= fed[dir]);
	}
	free(state);
	return 0;
}
