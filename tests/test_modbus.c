/* tests/test_modbus.c - unit tests for protocols/modbus.c (Modbus/TCP parser).
 *
 * Real payloads cut from the shared captures (tests/data/proto/modbus/NAME.txt, see the README there) are fed segment
 * by segment, one parser state per TCP stream, and every PDU / identity / event the parser reports is recorded by a
 * capture-side struct ots_app_ops and asserted exactly. Synthetic byte strings (MBAP built by hand) cover what the
 * captures lack: Read Device Identification objects, splits at every byte, mid-stream tails, gaps, bad headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "protocols/modbus.h"
#include "tests/harness.h"

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif
#define FIX_DIR OTS_TEST_DATA "/proto/modbus/"

#define REC_PARSER ots_parser_modbus
#define REC_PROTO OTS_APP_MODBUS
#define REC_EV_MAX OTS_MB_EV_MAX
#include "tests/recorder.h"

/* fixtures: "frame<TAB>stream<TAB>dir<TAB>hex" per TCP segment (rec_load, rec_run_segments) */

/* the PDUs with that code and kind, either direction */
static unsigned count(unsigned code, int kind)
{
	return rec_count(REC_ANY, code, kind, REC_ANY_UNIT);
}

static const struct ots_pdu *nth(unsigned code, int kind, unsigned k)
{
	return rec_nth(REC_ANY, code, kind, k);
}

/* ---- building ADUs ---- */

static size_t adu(uint8_t *out, uint16_t tid, uint8_t unit, const uint8_t *pdu, size_t n)
{
	out[0] = (uint8_t)(tid >> 8);
	out[1] = (uint8_t)tid;
	out[2] = out[3] = 0;
	out[4] = (uint8_t)((n + 1) >> 8);
	out[5] = (uint8_t)(n + 1);
	out[6] = unit;
	memcpy(out + 7, pdu, n);
	return n + 7;
}

#define ADU(buf, tid, unit, ...)                                                        \
	adu(buf, tid, unit, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* ---- real captures ---- */

/* zeek modbusSmall: 8 connections of Read Coils + Write Multiple Coils, one request/response each */
static void t_fixture_modbus_small(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "modbusSmall.txt", 0);
	CU_ASSERT_EQUAL(cap.npdu, 32);
	CU_ASSERT_EQUAL(count(1, OTS_PDU_REQUEST), 8);
	CU_ASSERT_EQUAL(count(1, OTS_PDU_RESPONSE), 8);
	CU_ASSERT_EQUAL(count(15, OTS_PDU_REQUEST), 8);
	CU_ASSERT_EQUAL(count(15, OTS_PDU_RESPONSE), 8);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* 0001 0000 0006 01 | 01 0000 0003 -> 0001 0000 0004 01 | 01 01 00 */
	EXPECT_PDU(nth(1, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 1, 1, 0, 3, OTS_PDUF_READ);
	EXPECT_PDU(nth(1, OTS_PDU_RESPONSE, 0), OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 1, 1, 0, 3, OTS_PDUF_READ);
	CU_ASSERT_STRING_EQUAL(nth(1, OTS_PDU_REQUEST, 0)->name, "Read Coils");
	/* 0001 0000 0008 01 | 0f 0000 0003 01 00: 3 coils from 0 */
	EXPECT_PDU(nth(15, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 15, 1, 0, 3, OTS_PDUF_WRITE);
	EXPECT_PDU(nth(15, OTS_PDU_RESPONSE, 0), OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 15, 1, 0, 3, OTS_PDUF_WRITE);
	CU_ASSERT_STRING_EQUAL(nth(15, OTS_PDU_RESPONSE, 0)->name, "Write Multiple Coils");
}

/* EmreEkin WriteMultipleCoil: Read Coils polling (one request unanswered) and one FC 15 */
static void t_fixture_write_multiple_coil(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "write_multiple_coil.txt", 0);
	CU_ASSERT_EQUAL(count(1, OTS_PDU_REQUEST), 9);
	CU_ASSERT_EQUAL(count(1, OTS_PDU_RESPONSE), 8);
	CU_ASSERT_EQUAL(count(15, OTS_PDU_REQUEST), 1);
	CU_ASSERT_EQUAL(count(15, OTS_PDU_RESPONSE), 1);
	CU_ASSERT_EQUAL(cap.npdu, 19);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* frame 33: 0009 0000 0008 01 | 0f 0000 000a 02 ff03 */
	EXPECT_PDU(nth(15, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 15, 1, 0, 10, OTS_PDUF_WRITE);
	EXPECT_PDU(nth(1, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 1, 1, 0, 10, OTS_PDUF_READ);
}

/* EmreEkin IllegalFunction: 20 Read Holding Registers answered by exception 1, one Write Single Coil */
static void t_fixture_illegal_function(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "illegal_function.txt", 0);
	CU_ASSERT_EQUAL(count(3, OTS_PDU_REQUEST), 20);
	CU_ASSERT_EQUAL(count(3, OTS_PDU_EXCEPTION), 20);
	CU_ASSERT_EQUAL(count(3, OTS_PDU_RESPONSE), 0);
	CU_ASSERT_EQUAL(count(5, OTS_PDU_REQUEST), 1);
	CU_ASSERT_EQUAL(count(5, OTS_PDU_RESPONSE), 1);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* 0001 0000 0006 01 | 03 0000 000a -> 0001 0000 0003 01 | 83 01: the exception carries the request's range */
	EXPECT_PDU(nth(3, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 3, 1, 0, 10, OTS_PDUF_READ);
	EXPECT_PDU(nth(3, OTS_PDU_EXCEPTION, 0), OTS_DIR_TO_CLIENT, OTS_PDU_EXCEPTION, 3, 1, 0, 10, OTS_PDUF_READ);
	CU_ASSERT_STRING_EQUAL(nth(3, OTS_PDU_EXCEPTION, 0)->name, "Read Holding Registers");
	/* 0e37 0000 0006 01 | 05 0009 ff00, echoed */
	EXPECT_PDU(nth(5, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 5, 1, 9, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(nth(5, OTS_PDU_RESPONSE, 0), OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 5, 1, 9, 1, OTS_PDUF_WRITE);
}

/* ITI modbus_test_data_part1: diagnostics, Report Server ID, 43/14 requests, garbage, exceptions */
static void t_fixture_test_data_part1(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "test_data_part1.txt", 0);
	/* FC 8: sub-functions 1 (Restart Communications) x3, 4 (Force Listen Only Mode) x3 - both take a device off
	 * the bus: DIAG|CONTROL - and 10 (Clear Counters) x2; 4 answered, 4 answered by exception 11 */
	CU_ASSERT_EQUAL(count(8, OTS_PDU_REQUEST), 8);
	CU_ASSERT_EQUAL(count(8, OTS_PDU_RESPONSE), 4);
	CU_ASSERT_EQUAL(count(8, OTS_PDU_EXCEPTION), 4);
	unsigned sub[3] = { 0 };
	for (unsigned i = 0; i < cap.npdu; i++) {
		const struct ots_pdu *p = &cap.pdu[i];
		if (p->code != 8 || p->kind != OTS_PDU_REQUEST)
			continue;
		CU_ASSERT_EQUAL(p->flags, p->address == 10 ? OTS_PDUF_DIAG : OTS_PDUF_DIAG | OTS_PDUF_CONTROL);
		CU_ASSERT_EQUAL(p->sub, p->address); /* sub = the sub-function */
		sub[p->address == 1 ? 0 : p->address == 4 ? 1 : 2]++;
	}
	CU_ASSERT_EQUAL(sub[0], 3);
	CU_ASSERT_EQUAL(sub[1], 3);
	CU_ASSERT_EQUAL(sub[2], 2);
	EXPECT_PDU(nth(8, OTS_PDU_EXCEPTION, 0), OTS_DIR_TO_CLIENT, OTS_PDU_EXCEPTION, 8, 10, 4, 0,
		   OTS_PDUF_DIAG | OTS_PDUF_CONTROL);
	CU_ASSERT_EQUAL(nth(8, OTS_PDU_EXCEPTION, 0)->sub, 4); /* from the request it answers */
	CU_ASSERT_EQUAL(nth(17, OTS_PDU_REQUEST, 0)->sub, 0);
	/* FC 17: frames 41/44 answer 'Wingpath Limited' */
	CU_ASSERT_EQUAL(count(17, OTS_PDU_REQUEST), 2);
	CU_ASSERT_EQUAL(count(17, OTS_PDU_RESPONSE), 2);
	EXPECT_PDU(nth(17, OTS_PDU_RESPONSE, 0), OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 17, 10, 0, 0, OTS_PDUF_IDENTITY);
	CU_ASSERT_EQUAL(cap.nid, 2);
	CU_ASSERT_EQUAL(cap.id[0].ep, OTS_EP_SERVER);
	CU_ASSERT_EQUAL(cap.id[0].kind, OTS_ATTR_DESCRIPTION);
	CU_ASSERT_EQUAL(cap.id[0].conf, 40);
	CU_ASSERT_STRING_EQUAL(cap.id[0].v, "Wingpath Limited");
	/* frames 32/34: 43/14 read code 3, object 1, with one byte too many */
	CU_ASSERT_EQUAL(count(43, OTS_PDU_REQUEST), 2);
	EXPECT_PDU(nth(43, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 43, 10, 0x0e01, 0,
		   OTS_PDUF_IDENTITY);
	/* the stream opened from port 502 (dir 1 here, by port) answers with exceptions carrying an extra byte */
	CU_ASSERT_EQUAL(count(1, OTS_PDU_EXCEPTION), 10);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_EXCEPTION], 10);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_PDU_TOO_SHORT], 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_LENGTH_MISMATCH], 2);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_LENGTH], 1);       /* stream 4: MBAP length 0x8804 */
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_PROTOCOL_ID], 1);  /* frame 113: after 111's 3 trailing bytes */
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 2);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNKNOWN_FUNCTION], 2); /* fc 42 in frames 111 and 113 */
	CU_ASSERT_EQUAL(count(42, OTS_PDU_RESPONSE), 2);
}

/* nDPI umas: Schneider UMAS (FC 90), MBAP length 255 */
static void t_fixture_umas(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "umas_head.txt", 0);
	CU_ASSERT_EQUAL(cap.npdu, 16);
	CU_ASSERT_EQUAL(count(90, OTS_PDU_REQUEST), 8);
	CU_ASSERT_EQUAL(count(90, OTS_PDU_RESPONSE), 8);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* frame 4: 0000 0000 0004 00 | 5a 00 02 (UMAS READ_ID) */
	EXPECT_PDU(nth(90, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 90, 0, 2, 0,
		   OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM);
	EXPECT_PDU(nth(90, OTS_PDU_RESPONSE, 0), OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 90, 0, 2, 0,
		   OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM);
	/* frame 19: MBAP length 0xff (255), UMAS 0x0a */
	EXPECT_PDU(nth(90, OTS_PDU_REQUEST, 7), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 90, 0, 0x0a, 0,
		   OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM);
	CU_ASSERT_STRING_EQUAL(nth(90, OTS_PDU_REQUEST, 0)->name, "Schneider UMAS");
	/* sub = the UMAS function, the response's from its request */
	CU_ASSERT_EQUAL(nth(90, OTS_PDU_REQUEST, 0)->sub, 0x02);
	CU_ASSERT_EQUAL(nth(90, OTS_PDU_RESPONSE, 0)->sub, 0x02);
	CU_ASSERT_EQUAL(nth(90, OTS_PDU_REQUEST, 7)->sub, 0x0a);
	CU_ASSERT_STRING_EQUAL(ots_modbus_sub_name(90, 0x02), "READ_ID");
	/* frame 6, READ_ID answered 0xfe: a Modicon; length 0x0e at body offset 24, then the CPU model */
	CU_ASSERT_EQUAL_FATAL(cap.nid, 2);
	CU_ASSERT_EQUAL(cap.id[0].ep, OTS_EP_SERVER);
	CU_ASSERT_EQUAL(cap.id[0].kind, OTS_ATTR_VENDOR);
	CU_ASSERT_EQUAL(cap.id[0].conf, 80);
	CU_ASSERT_STRING_EQUAL(cap.id[0].v, "Schneider Electric");
	CU_ASSERT_EQUAL(cap.id[1].kind, OTS_ATTR_MODEL);
	CU_ASSERT_EQUAL(cap.id[1].conf, 90);
	CU_ASSERT_STRING_EQUAL(cap.id[1].v, "140 CPU 311 10");

	/* the same exchange, synthetic: an error status gives nothing, a length past the end or an unprintable
	 * model gives the vendor only, and a READ_ID-shaped answer to another UMAS function is not an identity */
	struct rec_flow f;
	uint8_t b[64];
	size_t n;
	const uint8_t tail[] = { 0x10, 0xff, 0x5a, 0x01, 0x01, 0x00, 0x00, 0x00, 0x70, 0x02, 0x00, 0x00, 0x27, 0x00,
				 0x09, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 'M', '5', '8', '0' };
	const struct {
		uint8_t req, status, len, bad;
		int nid;
	} cases[] = { { 0x02, 0xfe, 4, 0, 2 }, { 0x02, 0xfd, 4, 0, 0 }, { 0x02, 0xfe, 9, 0, 1 },
		      { 0x02, 0xfe, 4, 1, 1 }, { 0x03, 0xfe, 4, 0, 0 } };
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rec_reset();
		rec_flow_init(&f, 0);
		n = ADU(b, 1, 0, 0x5a, 0x00, cases[i].req);
		rec_flow_feed(&f, 0, b, n);
		uint8_t body[3 + sizeof(tail)] = { 0x5a, 0x00, cases[i].status };
		memcpy(body + 3, tail, sizeof(tail));
		body[3 + 22] = cases[i].len;
		if (cases[i].bad)
			body[3 + 24] = 0x01;
		n = adu(b, 1, 0, body, sizeof(body));
		rec_flow_feed(&f, 1, b, n);
		CU_ASSERT_EQUAL(cap.nid, cases[i].nid);
		if (cases[i].nid == 2)
			CU_ASSERT_STRING_EQUAL(cap.id[1].v, "M580");
	}
}

/* zeek modbus-eit: 43/14 with a malformed object list, and an exception 4 to 43 */
static void t_fixture_modbus_eit(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "modbus_eit.txt", 0);
	CU_ASSERT_EQUAL(count(43, OTS_PDU_REQUEST), 2);
	CU_ASSERT_EQUAL(count(43, OTS_PDU_RESPONSE), 1);
	CU_ASSERT_EQUAL(count(43, OTS_PDU_EXCEPTION), 1);
	EXPECT_PDU(nth(43, OTS_PDU_REQUEST, 1), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 43, 255, 0x0e00, 0,
		   OTS_PDUF_IDENTITY);
	EXPECT_PDU(nth(43, OTS_PDU_EXCEPTION, 0), OTS_DIR_TO_CLIENT, OTS_PDU_EXCEPTION, 43, 255, 0x0e00, 0,
		   OTS_PDUF_IDENTITY);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_DEVID_MALFORMED], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL(cap.nid, 0);
}

static void t_fixture_small_functions(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "mask_write_register.txt", 0);
	/* 0000 0000 0008 01 | 16 0000 0000 0000 */
	EXPECT_PDU(nth(22, OTS_PDU_REQUEST, 0), OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 22, 1, 0, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(nth(22, OTS_PDU_RESPONSE, 0), OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 22, 1, 0, 1, OTS_PDUF_WRITE);
	CU_ASSERT_EQUAL(cap.nev, 0);
	rec_reset();
	rec_run_segments(FIX_DIR "read_write_multiple_registers.txt", 0);
	CU_ASSERT_EQUAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 23);
	CU_ASSERT_EQUAL(cap.pdu[0].flags, OTS_PDUF_READ | OTS_PDUF_WRITE);
	CU_ASSERT_EQUAL(cap.pdu[1].kind, OTS_PDU_RESPONSE);
	CU_ASSERT_EQUAL(cap.pdu[1].address, cap.pdu[0].address);
	CU_ASSERT_EQUAL(cap.pdu[1].quantity, cap.pdu[0].quantity);
	CU_ASSERT_EQUAL(cap.nev, 0);
	rec_reset();
	rec_run_segments(FIX_DIR "encapsulated_transport.txt", 0);
	CU_ASSERT_EQUAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[1].kind, OTS_PDU_RESPONSE);
	CU_ASSERT_EQUAL(cap.pdu[1].flags, OTS_PDUF_IDENTITY);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_DEVID_MALFORMED], 1); /* the response is the request echoed */
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* ---- Read Device Identification (synthetic: no shared capture has a complete 43/14 response) ---- */

static void t_device_identification(void)
{
	struct rec_flow f;
	uint8_t b[300];
	size_t n;
	rec_reset();
	rec_flow_init(&f, 0);
	n = ADU(b, 7, 1, 0x2b, 0x0e, 0x01, 0x00);
	rec_flow_feed(&f, 0, b, n);
	/* basic + regular objects: vendor, product code, revision, url, product name, model name, app name */
	n = ADU(b, 7, 1, 0x2b, 0x0e, 0x01, 0x02, 0x00, 0x00, 7,
		0x00, 18, 'S', 'c', 'h', 'n', 'e', 'i', 'd', 'e', 'r', ' ', 'E', 'l', 'e', 'c', 't', 'r', 'i', 'c',
		0x01, 12, 'B', 'M', 'X', ' ', 'P', '3', '4', ' ', '2', '0', '2', '0',
		0x02, 5, 'v', '2', '.', '8', 0, /* NUL padding is dropped */
		0x03, 10, 'w', 'w', 'w', '.', 's', 'e', '.', 'c', 'o', 'm',
		0x04, 8, 'M', '3', '4', '0', ' ', 'C', 'P', 'U',
		0x05, 9, 'B', 'M', 'X', 'P', '3', '4', '2', '0', ' ', /* trailing blank dropped */
		0x06, 5, 'P', 'u', 'm', 'p', '1');
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.nev, 0);
	CU_ASSERT_EQUAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], OTS_DIR_TO_SERVER, OTS_PDU_REQUEST, 43, 1, 0x0e00, 0, OTS_PDUF_IDENTITY);
	EXPECT_PDU(&cap.pdu[1], OTS_DIR_TO_CLIENT, OTS_PDU_RESPONSE, 43, 1, 0x0e00, 0, OTS_PDUF_IDENTITY);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 6);
	static const struct {
		int kind;
		const char *v;
	} want[] = { { OTS_ATTR_VENDOR, "Schneider Electric" }, { OTS_ATTR_PRODUCT_CODE, "BMX P34 2020" },
		     { OTS_ATTR_FIRMWARE, "v2.8" },            { OTS_ATTR_DESCRIPTION, "M340 CPU" },
		     { OTS_ATTR_MODEL, "BMXP3420" },           { OTS_ATTR_NAME, "Pump1" } };
	for (unsigned i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(cap.id[i].ep, OTS_EP_SERVER);
		CU_ASSERT_EQUAL(cap.id[i].kind, want[i].kind);
		CU_ASSERT_EQUAL(cap.id[i].conf, 90);
		CU_ASSERT_STRING_EQUAL(cap.id[i].v, want[i].v);
	}
	/* no ModelName: ProductName is the model */
	rec_reset();
	n = ADU(b, 8, 1, 0x2b, 0x0e, 0x01, 0x00);
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 8, 1, 0x2b, 0x0e, 0x02, 0x02, 0x00, 0x00, 1, 0x04, 4, 'M', '2', '2', '1');
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.nev, 0);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 1);
	CU_ASSERT_EQUAL(cap.id[0].kind, OTS_ATTR_MODEL);
	CU_ASSERT_STRING_EQUAL(cap.id[0].v, "M221");
	/* truncated object list: objects that fit are reported, the rest is an event */
	rec_reset();
	n = ADU(b, 9, 1, 0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 3, 0x00, 3, 'A', 'B', 'B', 0x01, 20, 'x');
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_DEVID_MALFORMED], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNMATCHED_RESPONSE], 1);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 1);
	CU_ASSERT_STRING_EQUAL(cap.id[0].v, "ABB");
	/* values: leading blanks trimmed, control characters replaced, cut at the first NUL, at most 64 bytes */
	rec_reset();
	n = ADU(b, 11, 1, 0x2b, 0x0e, 0x01, 0x00, 0x00, 0x00, 1, 0x00, 16, ' ', ' ', 'A', 'c', 'm', 'e', 0x01, 'C',
		'o', 'r', 'p', 0, 'j', 'u', 'n', 'k');
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 1);
	CU_ASSERT_STRING_EQUAL(cap.id[0].v, "Acme?Corp");
	rec_reset();
	uint8_t big[8 + 100];
	memcpy(big, (const uint8_t[]){ 0x2b, 0x0e, 0x01, 0x00, 0x00, 0x00, 1, 0x00 }, 8);
	big[8] = 98;
	memset(big + 9, 'x', 98);
	n = adu(b, 12, 1, big, 9 + 98);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 1);
	CU_ASSERT_EQUAL(strlen(cap.id[0].v), OTS_MODBUS_MAX_VALUE);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_DEVID_MALFORMED], 0);
	/* too short for the header */
	rec_reset();
	n = ADU(b, 10, 1, 0x2b, 0x0e, 0x01);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_DEVID_MALFORMED], 1);
	CU_ASSERT_EQUAL(cap.nid, 0);
	CU_ASSERT_EQUAL(cap.npdu, 1);
}

/* ---- stream handling ---- */

/* a request/response exchange of 3 PDUs each way, concatenated per direction */
/* 12 + 17 + 11 bytes */
static size_t stream3(uint8_t *b)
{
	size_t n = 0;
	n += ADU(b + n, 1, 1, 0x03, 0x00, 0x10, 0x00, 0x02);
	n += ADU(b + n, 2, 1, 0x10, 0x00, 0x20, 0x00, 0x02, 0x04, 0x12, 0x34, 0x56, 0x78);
	n += ADU(b + n, 3, 1, 0x2b, 0x0e, 0x01, 0x00);
	return n;
}

static void check_stream3(void)
{
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 3, 1, 0x10, 2, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 16, 1, 0x20, 2, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[2], 0, OTS_PDU_REQUEST, 43, 1, 0x0e00, 0, OTS_PDUF_IDENTITY);
}

static void t_split_every_boundary(void)
{
	uint8_t b[256];
	size_t n = stream3(b);
	struct rec_flow f;
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			rec_reset();
			rec_flow_init(&f, 0);
			rec_flow_feed(&f, 0, b, i);
			rec_flow_feed(&f, 0, b + i, j - i);
			rec_flow_feed(&f, 0, b + j, n - j);
			check_stream3();
			CU_ASSERT_EQUAL(cap.nev, 0);
		}
	}
	rec_reset(); /* one byte per call */
	rec_flow_init(&f, 0);
	for (size_t i = 0; i < n; i++)
		rec_flow_feed(&f, 0, b + i, 1);
	check_stream3();
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* a real direction (the UMAS client's 8 requests, one of MBAP length 255) concatenated, then cut in two at every
 * byte: the same 8 PDUs, no event */
static void t_real_stream_split(void)
{
	static uint8_t all[4096];
	size_t n = 0;
	unsigned ns = rec_load(REC_STREAM_DIR, FIX_DIR "umas_head.txt");
	for (unsigned i = 0; i < ns; i++)
		if (rec_segs[i].dir == 0) {
			memcpy(all + n, rec_segs[i].b, rec_segs[i].len);
			n += rec_segs[i].len;
		}
	CU_ASSERT_FATAL(n > 300);
	struct rec_flow f;
	for (size_t cut = 0; cut <= n; cut++) {
		rec_reset();
		rec_flow_init(&f, 0);
		rec_flow_feed(&f, 0, all, cut);
		rec_flow_feed(&f, 0, all + cut, n - cut);
		CU_ASSERT_EQUAL(cap.npdu, 8);
		CU_ASSERT_EQUAL(count(90, OTS_PDU_REQUEST), 8);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
}

static void t_two_pdus_one_segment(void)
{
	uint8_t req[64], rsp[64];
	size_t nq = 0, nr = 0;
	struct rec_flow f;
	rec_reset();
	rec_flow_init(&f, 0);
	nq += ADU(req + nq, 0x11, 2, 0x04, 0x00, 0x64, 0x00, 0x03);
	nq += ADU(req + nq, 0x12, 2, 0x01, 0x00, 0x00, 0x00, 0x09);
	nr += ADU(rsp + nr, 0x12, 2, 0x01, 0x02, 0xff, 0x01); /* answered out of order */
	nr += ADU(rsp + nr, 0x11, 2, 0x04, 0x06, 0, 1, 0, 2, 0, 3);
	rec_flow_feed(&f, 0, req, nq);
	rec_flow_feed(&f, 1, rsp, nr);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 4);
	EXPECT_PDU(&cap.pdu[2], 1, OTS_PDU_RESPONSE, 1, 2, 0, 9, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[3], 1, OTS_PDU_RESPONSE, 4, 2, 100, 3, OTS_PDUF_READ);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* the capture starts inside a PDU: its tail is skipped quietly, the next PDUs are found */
static void t_midstream_tail(void)
{
	uint8_t b[256];
	size_t n = stream3(b);
	struct rec_flow f;
	for (size_t cut = 1; cut < 29; cut++) { /* inside the first PDU (12 bytes) and the second (17 bytes) */
		rec_reset();
		rec_flow_init(&f, 1);
		rec_flow_feed(&f, 0, b + cut, n - cut);
		CU_ASSERT_EQUAL(cap.npdu, cut <= 12 ? 2 : 1);
		CU_ASSERT_EQUAL(cap.pdu[cap.npdu - 1].code, 43);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
	/* register data full of zeros that looks like MBAP headers: the tail of a Read Holding Registers response
	 * (00 00 00 05 ...) must not be taken for a PDU */
	uint8_t r[64];
	size_t m = ADU(r, 0x20, 1, 0x03, 0x0c, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 3);
	m += ADU(r + m, 0x21, 1, 0x03, 0x02, 0x00, 0x07);
	rec_reset();
	rec_flow_init(&f, 1);
	rec_flow_feed(&f, 1, r + 9, m - 9);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 3, 1, 0, 1, OTS_PDUF_READ);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNMATCHED_RESPONSE], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

static void t_gap_resync(void)
{
	uint8_t b[256];
	size_t n = stream3(b);
	struct rec_flow f;
	rec_reset();
	rec_flow_init(&f, 0);
	rec_flow_feed(&f, 0, b, 15);   /* first PDU (12) + 3 bytes of the second */
	CU_ASSERT_EQUAL(rec_flow_gap(&f, 0, 10), 0);       /* the middle of the second is lost */
	rec_flow_feed(&f, 0, b + 25, n - 25);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 3);
	CU_ASSERT_EQUAL(cap.pdu[1].code, 43);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	/* a gap on a PDU boundary: the next PDU is found at once, the loss still counted */
	rec_reset();
	rec_flow_init(&f, 0);
	rec_flow_feed(&f, 0, b, 12);
	CU_ASSERT_EQUAL(rec_flow_gap(&f, 0, 17), 0);
	rec_flow_feed(&f, 0, b + 29, n - 29);
	CU_ASSERT_EQUAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
}

static void t_bad_headers(void)
{
	uint8_t b[512];
	size_t n;
	struct rec_flow f;
	/* protocol id 1 */
	rec_reset();
	rec_flow_init(&f, 0);
	n = ADU(b, 1, 1, 0x03, 0, 0, 0, 1);
	b[3] = 1;
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 2, 1, 0x03, 0, 0, 0, 1);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_PROTOCOL_ID], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 3);
	/* length 0, 1 and 300 */
	static const uint16_t lens[] = { 0, 1, 300 };
	for (unsigned i = 0; i < 3; i++) {
		rec_reset();
		rec_flow_init(&f, 0);
		memset(b, 0, sizeof(b));
		b[4] = (uint8_t)(lens[i] >> 8);
		b[5] = (uint8_t)lens[i];
		b[6] = 1;
		b[7] = 3;
		rec_flow_feed(&f, 0, b, 12);
		CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_LENGTH], 1);
		CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
		CU_ASSERT_EQUAL(cap.npdu, 0);
	}
	/* the bad header right after a good PDU in the same segment, and split over two segments */
	rec_reset();
	rec_flow_init(&f, 0);
	n = ADU(b, 1, 1, 0x03, 0, 0, 0, 1);
	n += ADU(b + n, 2, 1, 0x03, 0, 0, 0, 1);
	b[15] = 7; /* protocol id of the second */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_PROTOCOL_ID], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
	rec_reset();
	rec_flow_init(&f, 0);
	rec_flow_feed(&f, 0, b, 15);
	rec_flow_feed(&f, 0, b + 15, n - 15);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_PROTOCOL_ID], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
}

static void t_malformed_pdus(void)
{
	uint8_t b[64];
	size_t n;
	struct rec_flow f;
	rec_reset();
	rec_flow_init(&f, 0);
	n = ADU(b, 1, 1, 0x03, 0x00, 0x01); /* truncated Read Holding Registers */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_PDU_TOO_SHORT], 1);
	n = ADU(b, 2, 1, 0x03, 0x00, 0x01, 0x00, 0x01, 0x99); /* one byte too many */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_LENGTH_MISMATCH], 1);
	n = ADU(b, 3, 1, 0x03, 0x00, 0x01, 0x00, 0x00); /* quantity 0 */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_QUANTITY], 1);
	n = ADU(b, 4, 1, 0x05, 0x00, 0x01, 0x12, 0x34); /* coil value not 0 / ff00 */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_VALUE], 1);
	n = ADU(b, 5, 1, 0x10, 0x00, 0x01, 0x00, 0x02, 0x02, 0x00, 0x01); /* byte count 2 for 2 registers */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_LENGTH_MISMATCH], 2);
	n = ADU(b, 6, 1, 0x63, 0x00); /* fc 99 */
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNKNOWN_FUNCTION], 1);
	n = ADU(b, 7, 1, 0x2b, 0x0d, 0x00); /* MEI 13 (CANopen) is known, 15 is not */
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 8, 1, 0x2b, 0x0f, 0x00);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNKNOWN_MEI], 1);
	CU_ASSERT_EQUAL(cap.npdu, 8);
	CU_ASSERT_EQUAL(cap.pdu[5].code, 99);
	CU_ASSERT_PTR_NULL(cap.pdu[5].name);
	CU_ASSERT_EQUAL(cap.nev, 7);
	/* exceptions: 2 bytes, defined code */
	rec_reset();
	n = ADU(b, 1, 1, 0x83, 0x02);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_EXCEPTION], 0);
	n = ADU(b, 2, 1, 0x83, 0x09); /* code 9 is not defined */
	rec_flow_feed(&f, 1, b, n);
	n = ADU(b, 3, 1, 0x83, 0x02, 0x00);
	rec_flow_feed(&f, 1, b, n);
	n = ADU(b, 4, 1, 0x83);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_EXCEPTION], 3);
	CU_ASSERT_EQUAL(cap.npdu, 4);
	for (unsigned i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(cap.pdu[i].kind, OTS_PDU_EXCEPTION);
		CU_ASSERT_EQUAL(cap.pdu[i].code, 3);
	}
	/* an exception sent to the server */
	rec_reset();
	n = ADU(b, 5, 1, 0x81, 0x01);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_EXCEPTION_IN_REQUEST], 1);
	CU_ASSERT_EQUAL(cap.pdu[0].kind, OTS_PDU_EXCEPTION);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 1);
}

static void t_correlation(void)
{
	uint8_t b[64];
	size_t n;
	struct rec_flow f;
	rec_reset();
	rec_flow_init(&f, 0);
	/* unmatched, then mismatched function */
	n = ADU(b, 0x100, 1, 0x03, 0x02, 0x00, 0x01);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNMATCHED_RESPONSE], 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 3, 1, 0, 1, OTS_PDUF_READ); /* quantity from the byte count */
	n = ADU(b, 0x101, 1, 0x03, 0x00, 0x05, 0x00, 0x01);
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 0x101, 1, 0x04, 0x02, 0x00, 0x01);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESPONSE_MISMATCH], 1);
	CU_ASSERT_EQUAL(cap.pdu[2].address, 0);
	/* a response whose count disagrees with its request */
	n = ADU(b, 0x102, 1, 0x01, 0x00, 0x00, 0x00, 0x10);
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 0x102, 1, 0x01, 0x01, 0xff);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESPONSE_MISMATCH], 2);
	EXPECT_PDU(&cap.pdu[4], 1, OTS_PDU_RESPONSE, 1, 1, 0, 16, OTS_PDUF_READ);
	/* 17 outstanding requests: the oldest is evicted, its response is then unmatched */
	rec_reset();
	rec_flow_init(&f, 0);
	for (uint16_t t = 0; t < 17; t++) {
		n = ADU(b, t, 1, 0x03, 0x00, (uint8_t)t, 0x00, 0x01);
		rec_flow_feed(&f, 0, b, n);
	}
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_OUTSTANDING_EVICTED], 1);
	n = ADU(b, 0, 1, 0x03, 0x02, 0x00, 0x00);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_UNMATCHED_RESPONSE], 1);
	n = ADU(b, 16, 1, 0x03, 0x02, 0x00, 0x00);
	rec_flow_feed(&f, 1, b, n);
	EXPECT_PDU(&cap.pdu[18], 1, OTS_PDU_RESPONSE, 3, 1, 16, 1, OTS_PDUF_READ);
	/* a reused transaction id: the newer request wins */
	rec_reset();
	rec_flow_init(&f, 0);
	n = ADU(b, 0, 1, 0x03, 0x00, 0x01, 0x00, 0x01);
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 0, 1, 0x03, 0x00, 0x09, 0x00, 0x01);
	rec_flow_feed(&f, 0, b, n);
	n = ADU(b, 0, 1, 0x03, 0x02, 0x00, 0x00);
	rec_flow_feed(&f, 1, b, n);
	CU_ASSERT_EQUAL(cap.pdu[2].address, 9);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void t_flags(void)
{
	static const struct {
		uint8_t fc;
		uint8_t body[8];
		uint8_t len;
		uint32_t flags;
	} t[] = {
		{ 5, { 0, 1, 0xff, 0 }, 4, OTS_PDUF_WRITE },
		{ 6, { 0, 1, 0, 7 }, 4, OTS_PDUF_WRITE },
		{ 7, { 0 }, 0, OTS_PDUF_READ },
		{ 8, { 0, 4, 0, 0 }, 4, OTS_PDUF_DIAG | OTS_PDUF_CONTROL }, /* Force Listen Only Mode */
		{ 8, { 0, 1, 0, 0 }, 4, OTS_PDUF_DIAG | OTS_PDUF_CONTROL }, /* Restart Communications */
		{ 8, { 0, 0x0a, 0, 0 }, 4, OTS_PDUF_DIAG },
		{ 11, { 0 }, 0, OTS_PDUF_DIAG },
		{ 12, { 0 }, 0, OTS_PDUF_DIAG },
		{ 17, { 0 }, 0, OTS_PDUF_IDENTITY },
		{ 22, { 0, 4, 0, 0xf2, 0, 0x25 }, 6, OTS_PDUF_WRITE },
		{ 24, { 0x04, 0xde }, 2, OTS_PDUF_READ },
		{ 90, { 0, 0x41 }, 2, OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
		{ 125, { 0 }, 0, OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
		{ 126, { 0 }, 0, OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM },
	};
	struct rec_flow f;
	uint8_t b[64], pdu[16];
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rec_reset();
		rec_flow_init(&f, 0);
		pdu[0] = t[i].fc;
		memcpy(pdu + 1, t[i].body, t[i].len);
		size_t n = adu(b, (uint16_t)i, 1, pdu, 1u + t[i].len);
		rec_flow_feed(&f, 0, b, n);
		CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
		CU_ASSERT_EQUAL(cap.pdu[0].flags, t[i].flags);
		CU_ASSERT_PTR_NOT_NULL(cap.pdu[0].name);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
	/* file records: address = first file number, quantity = sub-requests */
	rec_reset();
	rec_flow_init(&f, 0);
	size_t n = ADU(b, 1, 1, 0x14, 0x0e, 0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, 0x06, 0x00, 0x03, 0x00, 0x09,
		       0x00, 0x02);
	rec_flow_feed(&f, 0, b, n);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 20, 1, 4, 2, OTS_PDUF_READ);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* names of all public codes */
	static const unsigned pub[] = { 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43 };
	for (unsigned i = 0; i < sizeof(pub) / sizeof(pub[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(ots_modbus_function_name(pub[i]));
	CU_ASSERT_PTR_NULL(ots_modbus_function_name(0));
	CU_ASSERT_PTR_NULL(ots_modbus_function_name(200));
}

static void t_not_modbus(void)
{
	struct rec_flow f;
	static const char http[] = "GET / HTTP/1.1\r\nHost: plc\r\nUser-Agent: scanner\r\nAccept: */*\r\n\r\n";
	rec_reset();
	rec_flow_init(&f, 0);
	int r = 0;
	for (int i = 0; i < 20 && r == 0; i++)
		r = rec_flow_feed(&f, 0, (const uint8_t *)http, sizeof(http) - 1);
	CU_ASSERT_EQUAL(r, -1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_BAD_PROTOCOL_ID], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_MB_EV_RESYNC], 1);
}

static void t_probe_and_table(void)
{
	uint8_t b[64];
	size_t n = ADU(b, 1, 1, 0x03, 0x00, 0x01, 0x00, 0x01);
	CU_ASSERT_EQUAL(ots_modbus_probe(b, n, 0), 1);
	CU_ASSERT_EQUAL(ots_modbus_probe(b, 5, 0), -1);
	b[2] = 1;
	CU_ASSERT_EQUAL(ots_modbus_probe(b, n, 0), 0);
	CU_ASSERT(ots_parser_modbus.state_size <= OTS_APP_STATE_MAX);
	CU_ASSERT_PTR_EQUAL(ots_parser_modbus.probe, ots_modbus_probe);
	CU_ASSERT_EQUAL(ots_parser_modbus.nevents, OTS_MB_EV_MAX);
	CU_ASSERT(ots_parser_modbus.nevents <= 32);
	for (unsigned i = 0; i < ots_parser_modbus.nevents; i++)
		CU_ASSERT_PTR_NOT_NULL(ots_parser_modbus.events[i]);
	CU_ASSERT_STRING_EQUAL(ots_parser_modbus.events[OTS_MB_EV_BAD_PROTOCOL_ID], "mbap_bad_protocol_id");
	CU_ASSERT_PTR_EQUAL(ots_protocols[OTS_APP_MODBUS].parser, &ots_parser_modbus);
}

static const struct ots_test captures[] = {
	{ "modbusSmall (zeek)", t_fixture_modbus_small },
	{ "WriteMultipleCoil (EmreEkin)", t_fixture_write_multiple_coil },
	{ "IllegalFunction exceptions (EmreEkin)", t_fixture_illegal_function },
	{ "modbus_test_data_part1 (ITI)", t_fixture_test_data_part1 },
	{ "UMAS FC 90, length 255 (nDPI)", t_fixture_umas },
	{ "modbus-eit 43/14 malformed (zeek)", t_fixture_modbus_eit },
	{ "FC 22, 23, 43 (EmreEkin)", t_fixture_small_functions },
	{ NULL, NULL },
};

static const struct ots_test synthetic[] = {
	{ "read device identification", t_device_identification },
	{ "split at every byte boundary", t_split_every_boundary },
	{ "real stream split at every byte (UMAS)", t_real_stream_split },
	{ "two PDUs in one segment", t_two_pdus_one_segment },
	{ "mid-stream start inside a PDU", t_midstream_tail },
	{ "gap then resync", t_gap_resync },
	{ "bad MBAP headers", t_bad_headers },
	{ "malformed PDUs and exceptions", t_malformed_pdus },
	{ "request/response correlation", t_correlation },
	{ "flags and names", t_flags },
	{ "not Modbus: rejected", t_not_modbus },
	{ "probe, state size, event table", t_probe_and_table },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "modbus captures", captures, NULL, NULL },
	{ "modbus synthetic", synthetic, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_modbus", suites);
}
