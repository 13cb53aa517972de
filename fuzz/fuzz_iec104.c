/* fuzz/fuzz_iec104.c - libFuzzer target for protocols/iec104.c (with protocols/framing.c).
 *
 * Input: u8 mode, then records [u8 h][u8 len][len bytes].
 *   mode bit 0: the first delivery of each direction carries OTS_REASM_F_MIDSTREAM
 *   mode bit 1: wrap each record in an APCI header (0x68, length = record length, clamped to 4..253; short
 *               records padded with zeros): the record is 4 control octets then the ASDU - so ASDU parsing is
 *               reached; otherwise the bytes go in raw
 *   h bit 0: direction; bit 1: deliver a gap of len bytes instead of data (random flags: OTS_REASM_F_GAP);
 *   bits 2..7: split the record's bytes in two deliveries at that offset
 * (the loop: fuzz_stream_records in fuzz/feed.h)
 * Invariants: no read or write outside a delivery (an exactly sized copy) or the state (a heap block of exactly
 * state_size bytes); reported PDUs / events are well formed; no more APDUs than 6-byte units fed per direction;
 * parse returns 0 or -1 and is not called again after -1.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/iec104.c protocols/framing.c fuzz/fuzz_iec104.c
 */
#include <stdint.h>
#include <string.h>

#include "protocols/iec104.h"

#define FUZZ_PARSER ots_parser_iec104
#define FUZZ_PROTO OTS_APP_IEC104
#include "fuzz/feed.h"

static void fuzz_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	fuzz_check_pdu(p);
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

static void fuzz_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud, (void)ep, (void)kind, (void)conf, (void)v, (void)len;
	abort(); /* IEC-104 reports no identity */
}

/* an APCI header (0x68, length = record length clamped to 4..253, short records padded with zeros) */
static size_t apci(uint8_t *out, const uint8_t *r, size_t len, unsigned rec)
{
	(void)rec;
	size_t l = len < 4 ? 4 : len > 253 ? 253 : len;
	memset(out, 0, l + 2);
	out[0] = 0x68;
	out[1] = (uint8_t)l;
	memcpy(out + 2, r, len < l ? len : l);
	return l + 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stream_records(data, size, apci, 6);
	return 0;
}
