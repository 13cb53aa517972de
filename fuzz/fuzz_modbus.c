/* fuzz/fuzz_modbus.c - libFuzzer target for protocols/modbus.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records [u8 h][u8 len][len bytes].
 *   mode bit 0: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode bit 1: wrap each record in a valid MBAP header (transaction id = record index & 0x1f, protocol 0, length
 *               = record length): the record is unit id, function code, data - so PDU bodies, the request table
 *               and device identification are reached; otherwise the bytes go in raw
 *   h bit 0: direction; bit 1: deliver a gap of len bytes instead of data (random flags: OTS_REASM_F_GAP);
 *   bits 2..7: split the record's bytes in two deliveries at that offset
 * Invariants: no read or write outside the input or the state (a heap block of exactly state_size bytes);
 * reported PDUs / identities / events are well formed; no more PDUs than 8-byte units fed per direction; parse
 * returns 0 or -1 and is not called again after -1.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/modbus.c protocols/framing.c fuzz/fuzz_modbus.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/modbus.h"

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
	CHECK(p->proto == OTS_APP_MODBUS);
	CHECK(p->dir == cur_dir);
	CHECK(p->kind == OTS_PDU_REQUEST || p->kind == OTS_PDU_RESPONSE || p->kind == OTS_PDU_EXCEPTION);
	CHECK(p->code < 128);
	CHECK(p->unit <= 0xff);
	CHECK(p->address <= 0xffff && p->quantity <= 0xffff);
	if (p->kind == OTS_PDU_RESPONSE)
		CHECK(p->dir == OTS_DIR_TO_CLIENT);
	if (p->name)
		CHECK(strlen(p->name) < 64 && p->name == ots_modbus_function_name(p->code));
	npdu[p->dir & 1]++;
}

static void on_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	CHECK(ep == OTS_EP_SERVER);
	CHECK(kind >= 0 && kind < OTS_ATTR_MAX);
	CHECK(conf == 90 || conf == 40);
	CHECK(len > 0 && len <= OTS_MODBUS_MAX_VALUE);
	for (size_t i = 0; i < len; i++)
		CHECK((uint8_t)v[i] >= 0x20 && (uint8_t)v[i] != 0x7f);
	CHECK(v[0] != ' ' && v[len - 1] != ' ');
}

static void on_event(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud;
	CHECK(proto == OTS_APP_MODBUS);
	CHECK(ev < ots_parser_modbus.nevents && ots_parser_modbus.events[ev]);
}

static const struct ots_app_ops ops = { on_pdu, on_identity, on_event };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	size_t off = 1;
	void *state = calloc(1, ots_parser_modbus.state_size);
	CHECK(state);
	int started[2] = { 0, 0 }, dead = 0;
	uint64_t fed[2] = { 0, 0 };
	npdu[0] = npdu[1] = 0;
	uint8_t buf[512];
	for (unsigned rec = 0; off + 2 <= size && !dead; rec++) {
		uint8_t h = data[off], len = data[off + 1];
		off += 2;
		if (len > size - off)
			len = (uint8_t)(size - off);
		const uint8_t *r = data + off;
		off += len;
		int dir = h & 1;
		cur_dir = (uint8_t)dir;
		struct ots_app_ctx c = { .ops = &ops, .proto = OTS_APP_MODBUS, .dir = (uint8_t)dir, .transport = 6 };
		if (h & 2) {
			c.flags = OTS_REASM_F_GAP;
			CHECK(ots_parser_modbus.parse(&c, NULL, len, state) == 0);
			started[dir] = 1;
			continue;
		}
		const uint8_t *p = r;
		size_t n = len;
		if (mode & 2) {
			buf[0] = 0;
			buf[1] = (uint8_t)(rec & 0x1f);
			buf[2] = buf[3] = 0;
			buf[4] = 0;
			buf[5] = len;
			memcpy(buf + 6, r, len);
			p = buf;
			n = 6u + len;
		}
		if (!started[dir] && (mode & 1))
			c.flags |= OTS_REASM_F_MIDSTREAM;
		started[dir] = 1;
		size_t cut = (size_t)(h >> 2) < n ? (size_t)(h >> 2) : n;
		int ret = ots_parser_modbus.parse(&c, p, cut, state);
		CHECK(ret == 0 || ret == -1);
		if (ret == 0 && n > cut) {
			c.flags &= ~OTS_REASM_F_MIDSTREAM;
			ret = ots_parser_modbus.parse(&c, p + cut, n - cut, state);
			CHECK(ret == 0 || ret == -1);
		}
		fed[dir] += n;
		dead = ret < 0;
		CHECK(npdu[dir] * 8 <= fed[dir]);
	}
	free(state);
	return 0;
}
