/* fuzz/fuzz_modbus.c - libFuzzer target for protocols/modbus.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records [u8 h][u8 len][len bytes].
 *   mode bit 0: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode bit 1: wrap each record in a valid MBAP header (transaction id = record index & 0x1f, protocol 0, length
 *               = record length): the record is unit id, function code, data - so PDU bodies, the request table
 *               and device identification are reached; otherwise the bytes go in raw
 *   h bit 0: direction; bit 1: deliver a gap of len bytes instead of data (random flags: OTS_REASM_F_GAP);
 *   bits 2..7: split the record's bytes in two deliveries at that offset
 * (the loop: fuzz_stream_records in fuzz/feed.h)
 * Invariants: no read or write outside a delivery (an exactly sized copy) or the state (a heap block of exactly
 * state_size bytes); reported PDUs / identities / events are well formed; no more PDUs than 8-byte units fed per
 * direction; parse returns 0 or -1 and is not called again after -1.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/modbus.c protocols/framing.c fuzz/fuzz_modbus.c
 */
#include <stdint.h>
#include <string.h>

#include "protocols/modbus.h"

#define FUZZ_PARSER ots_parser_modbus
#define FUZZ_PROTO OTS_APP_MODBUS
#include "fuzz/feed.h"

static void fuzz_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	fuzz_check_pdu(p);
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

static void fuzz_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	fuzz_check_identity(ep, kind, conf, v, len, OTS_MODBUS_MAX_VALUE);
	CHECK(ep == OTS_EP_SERVER);
	CHECK(conf == 90 || conf == 40);
	for (size_t i = 0; i < len; i++)
		CHECK((uint8_t)v[i] >= 0x20 && (uint8_t)v[i] != 0x7f);
	CHECK(v[0] != ' ' && v[len - 1] != ' ');
}

/* a valid MBAP header (transaction id = record index & 0x1f, protocol 0, length = record length) */
static size_t mbap(uint8_t *out, const uint8_t *r, size_t len, unsigned rec)
{
	out[0] = 0;
	out[1] = (uint8_t)(rec & 0x1f);
	out[2] = out[3] = 0;
	out[4] = 0;
	out[5] = (uint8_t)len;
	memcpy(out + 6, r, len);
	return 6 + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stream_records(data, size, mbap, 8);
	return 0;
}
