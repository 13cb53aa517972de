/* tests/test_s7comm.c - unit tests for protocols/s7comm.c (S7comm / S7comm-plus over TPKT + COTP).
 *
 * Real payloads come from fixtures under tests/data/proto/s7comm/fixtures, cut from the shared captures with
 * tests/data/proto/s7comm/cut.py (README there: capture, filter, frames). A fixture is the byte stream the worker's
 * reassembly would deliver ("> hex" to the server, "< hex" from it, "> !gap N" lost bytes, "= stream syn|mid").
 * Expected counts are the tshark oracle's rows for the same capture (tests/data/proto/s7comm/oracle).
 * Synthetic cases: splits at every byte boundary, several PDUs per segment, truncation, wrong lengths, mid-stream
 * start, gaps, oversize TPKTs, COTP fragment reassembly and its cap, non-S7 data.
 */
#include "protocols/s7comm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "tests/harness.h"

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif
#define FIXTURE(name) OTS_TEST_DATA "/proto/s7comm/fixtures/" name ".txt"

#define REC_PARSER ots_parser_s7comm
#define REC_PROTO OTS_APP_S7COMM
#define REC_EV_MAX S7_EV_MAX
#include "tests/recorder.h"

static _Alignas(16) uint8_t state[OTS_APP_STATE_MAX]; /* the synthetic cases' stream */

#define REQ OTS_PDU_REQUEST
#define RSP OTS_PDU_RESPONSE
#define EXC OTS_PDU_EXCEPTION
#define UNS OTS_PDU_UNSOLICITED
#define UD OTS_S7_UD_CODE
#define NE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- real captures ---- */

/* nDPI s7comm.pcap: setup, SZL reads, block list, download of OB1 (_0A00001P), PI service _INSE */
static const struct rec_want ndpi_exp[] = {
	{ 0, 0xf0, REQ, 1, 0 },       { 1, 0xf0, RSP, 1, 0 },       { 0, 0x1a, REQ, 1, 0 },
	{ 1, 0x1a, RSP, 1, 0 },       { 1, 0x1b, REQ, 3, 0 },       { 0, 0x1b, RSP, 3, 0 },
	{ 1, 0x1c, REQ, 1, 0 },       { 0, 0x1c, RSP, 1, 0 },       { 0, 0x28, REQ, 1, 0 },
	{ 1, 0x28, RSP, 1, 0 },       { 0, UD(4, 1), REQ, 5, 0 },   { 1, UD(4, 1), RSP, 5, 0 },
	{ 0, UD(3, 1), REQ, 4, 0 },   { 1, UD(3, 1), RSP, 4, 0 },   { 0, UD(3, 2), REQ, 1, 0 },
	{ 1, UD(3, 2), RSP, 1, 0 },   { 0, UD(3, 3), REQ, 1, 0 },   { 1, UD(3, 3), EXC, 1, 0 },
};

static void test_ndpi_s7comm(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("ndpi_s7comm")), 0);
	rec_expect_units(ndpi_exp, NE(ndpi_exp));
	CU_ASSERT_EQUAL(cap.nev, 0);
	const struct ots_pdu *pi = rec_find(0x28, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pi);
	CU_ASSERT_STRING_EQUAL(pi->name, "PI-Service _INSE (activate block)");
	CU_ASSERT_EQUAL(pi->flags, OTS_PDUF_CONTROL | OTS_PDUF_PROGRAM);
	CU_ASSERT_EQUAL(rec_find(0x1b, 1)->flags, OTS_PDUF_PROGRAM);
	CU_ASSERT_STRING_EQUAL(rec_find(0x1a, 0)->name, "Request download");
	CU_ASSERT_EQUAL(pi->sub, OTS_S7_PI_INSE);
	CU_ASSERT_EQUAL(rec_find(0x1a, 0)->sub, OTS_S7_BLK_DB); /* _0A00001P */
	CU_ASSERT_EQUAL(rec_find(0x1b, 1)->sub, OTS_S7_BLK_DB); /* the PLC's Job asks for the same block */
	CU_ASSERT_EQUAL(rec_find(0x1a, 1)->sub, 0);             /* Ack_Data: no file name */
	const struct ots_pdu *szl = rec_find(UD(4, 1), 0);
	CU_ASSERT_EQUAL(szl->address, 0x0132);
	CU_ASSERT_EQUAL(szl->quantity, 4);
	CU_ASSERT_EQUAL(szl->flags, OTS_PDUF_DIAG);
	CU_ASSERT_EQUAL(rec_find(UD(3, 1), 0)->flags, OTS_PDUF_READ);
	/* only the PLC (server) answering S7 makes it a Siemens device */
	CU_ASSERT_EQUAL(cap.nid, 1);
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_VENDOR, "Siemens"));
}

static void test_plc_stop_snap7(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("snap7_s300_stop")), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0x29);
	CU_ASSERT_EQUAL(cap.pdu[0].dir, OTS_DIR_TO_SERVER);
	CU_ASSERT_EQUAL(cap.pdu[0].kind, REQ);
	CU_ASSERT_EQUAL(cap.pdu[0].flags, OTS_PDUF_CONTROL);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "PLC Stop");
	CU_ASSERT_EQUAL(cap.pdu[0].sub, 0);
	CU_ASSERT_EQUAL(cap.pdu[1].code, 0x29);
	CU_ASSERT_EQUAL(cap.pdu[1].dir, OTS_DIR_TO_CLIENT);
	CU_ASSERT_EQUAL(cap.pdu[1].kind, RSP);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* STEP 7 stop: the PLC then pushes a diagnostic message and a mode-transition (head 01 00 10, no subfunction) */
static void test_plc_stop_step7_push(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("step7_s300_stop")), 0);
	static const struct rec_want e[] = {
		{ 0, 0x29, REQ, 1, 0 }, { 1, 0x29, RSP, 1, 0 }, { 1, UD(4, 3), UNS, 1, 0 }, { 1, UD(0, 0), UNS, 1, 0 },
	};
	rec_expect_units(e, NE(e));
	CU_ASSERT_EQUAL(rec_find(UD(4, 3), 1)->flags, OTS_PDUF_DIAG);
	CU_ASSERT_STRING_EQUAL(rec_find(UD(0, 0), 1)->name, "Mode transition");
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* STEP 7 download with 59 segments missing from the capture: one resync per gap, every PDU tshark sees */
static void test_step7_download_gaps(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("step7_s300_download")), 0);
	static const struct rec_want e[] = {
		{ 0, 0x1a, REQ, 1, 0 },     { 0, 0x28, REQ, 1, 0 },     { 0, 0xf0, REQ, 1, 0 },
		{ 0, 0x1b, RSP, 1, 0 },     { 0, 0x1c, RSP, 1, 0 },     { 1, 0x1b, REQ, 1, 0 },
		{ 1, 0x1c, REQ, 1, 0 },     { 1, 0x1a, RSP, 1, 0 },     { 1, 0x28, RSP, 1, 0 },
		{ 1, 0xf0, RSP, 1, 0 },     { 0, UD(3, 3), REQ, 24, 0 }, { 1, UD(3, 3), RSP, 24, 0 },
		{ 0, UD(3, 2), REQ, 16, 0 }, { 1, UD(3, 2), RSP, 16, 0 }, { 0, UD(4, 2), REQ, 2, 0 },
		{ 1, UD(4, 2), RSP, 2, 0 },  { 0, UD(1, 16), REQ, 1, 0 }, { 1, UD(1, 16), RSP, 1, 0 },
	};
	rec_expect_units(e, NE(e));
	CU_ASSERT_EQUAL(cap.ev[S7_EV_RESYNC], 59);
	CU_ASSERT_EQUAL(cap.nev, 59);
	CU_ASSERT_EQUAL(rec_find(UD(1, 16), 0)->flags, OTS_PDUF_WRITE); /* programmer command: forces */
}

static void test_download_block_db1(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("s7comm_downloading_block_db1")), 0);
	static const struct rec_want e[] = {
		{ 0, 0xf0, REQ, 3, 0 },     { 1, 0xf0, RSP, 3, 0 },     { 0, 0x1a, REQ, 1, 0 },
		{ 1, 0x1a, RSP, 1, 0 },     { 1, 0x1b, REQ, 3, 0 },     { 0, 0x1b, RSP, 3, 0 },
		{ 1, 0x1c, REQ, 1, 0 },     { 0, 0x1c, RSP, 1, 0 },     { 0, 0x28, REQ, 1, 0 },
		{ 1, 0x28, RSP, 1, 0 },     { 0, UD(3, 1), REQ, 5, 0 }, { 1, UD(3, 1), RSP, 5, 0 },
		{ 0, UD(3, 2), REQ, 2, 0 }, { 1, UD(3, 2), RSP, 2, 0 }, { 0, UD(3, 3), REQ, 1, 0 },
		{ 1, UD(3, 3), EXC, 1, 0 }, { 0, UD(4, 1), REQ, 7, 0 }, { 1, UD(4, 1), RSP, 7, 0 },
	};
	rec_expect_units(e, NE(e));
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* read DB1.DBD0 (4 bytes of DB 1): first item's DB number and element count */
static void test_read_var_item(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("s7comm_read_db1dbd0")), 0);
	static const struct rec_want e[] = {
		{ 0, 0xf0, REQ, 1, 0 }, { 1, 0xf0, RSP, 1, 0 }, { 0, 0x04, REQ, 8, 0 }, { 1, 0x04, RSP, 7, 0 },
	};
	rec_expect_units(e, NE(e));
	const struct ots_pdu *rd = rec_find(0x04, 0);
	CU_ASSERT_EQUAL(rd->address, 1);
	CU_ASSERT_EQUAL(rd->quantity, 4);
	CU_ASSERT_EQUAL(rd->flags, OTS_PDUF_READ);
	CU_ASSERT_STRING_EQUAL(rd->name, "Read Var");
}

/* S7-1200 OB1 upload over S7comm-plus: version/function per PDU, the CreateObject request of frames 127-129 spans
 * three 0x72 PDUs (one PDU for otsense, three rows for the raw-byte oracle), identity from CreateObject */
static void test_s7plus_upload(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("s7_1200_uploading_ob1")), 0);
#define P OTS_S7P_FN_CODE
	static const struct rec_want e[] = {
		{ 0, P(0x054c), REQ, 22, 2 }, { 1, P(0x054c), RSP, 22, 2 }, { 0, P(0x0586), REQ, 9, 2 },
		{ 1, P(0x0586), RSP, 9, 2 },  { 0, P(0x04bb), REQ, 2, 2 },  { 1, P(0x04bb), RSP, 2, 2 },
		{ 0, P(0x0524), REQ, 2, 2 },  { 1, P(0x0524), RSP, 2, 2 },  { 0, P(0x0556), REQ, 2, 2 },
		{ 1, P(0x0556), RSP, 2, 2 },  { 0, P(0x0560), REQ, 2, 2 },  { 1, P(0x0560), RSP, 2, 2 },
		{ 0, P(0x04ca), REQ, 1, 1 },  { 1, P(0x04ca), RSP, 1, 1 },  { 0, P(0x04ca), REQ, 1, 2 },
		{ 1, P(0x04ca), RSP, 1, 2 },  { 0, P(0x04d4), REQ, 1, 2 },  { 1, P(0x04d4), RSP, 1, 2 },
		{ 0, P(0x0542), REQ, 1, 2 },  { 1, P(0x0542), RSP, 1, 2 },
	};
	rec_expect_units(e, NE(e));
	const struct ots_pdu *gm = rec_find(P(0x054c), 0);
	CU_ASSERT_EQUAL(gm->address, 0x3c0); /* session id */
	CU_ASSERT_EQUAL(gm->flags, OTS_PDUF_READ);
	CU_ASSERT_STRING_EQUAL(gm->name, "GetMultiVariables");
	CU_ASSERT_EQUAL(rec_find(P(0x0542), 0)->flags, OTS_PDUF_WRITE);
	CU_ASSERT_EQUAL(rec_find(P(0x04ca), 0)->address, 0x120); /* v1 CreateObject: ObjectServerSessionContainer */
#undef P
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_VENDOR, "Siemens"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_PRODUCT_CODE, "6ES7 214-1HE30-0XB0"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_MODEL, "6ES7 214-1HE30-0XB0"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_FIRMWARE, "V2.2"));
	CU_ASSERT_EQUAL(cap.nid, 4);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* SZL 0x0011 / 0x0111 / 0x001c: identity; the 0x001c answer comes in two userdata fragments (data unit 6) */
static void test_szl_identity(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("s7comm_reading_plc_status")), 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_VENDOR, "Siemens"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_PRODUCT_CODE, "6ES7 151-8AB01-0AB0"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_MODEL, "6ES7 151-8AB01-0AB0"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_FIRMWARE, "V3.2.6"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_NAME, "IM151-8-CPU"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_DESCRIPTION, "IM151-8 PN/DP CPU"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_SERIAL, "S C-C6TW74882012"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_MODEL, "IM151-8 PN/DP CPU"));
	for (unsigned i = 0; i < cap.nid; i++) {
		CU_ASSERT_EQUAL(cap.id[i].ep, OTS_EP_SERVER);
		if (cap.id[i].kind == OTS_ATTR_MODEL)
			CU_ASSERT_EQUAL(cap.id[i].conf, strncmp(cap.id[i].v, "6ES7", 4) ? 90 : 40);
	}
	/* SZL 0x0011 request and answer are identity exchanges, 0x0132 diagnostics */
	unsigned ident = 0, diag = 0, none = 0;
	for (unsigned i = 0; i < cap.npdu; i++) {
		if (cap.pdu[i].code != UD(4, 1))
			continue;
		if (cap.pdu[i].address == 0 && cap.pdu[i].flags == 0) {
			none++; /* follow-up request (return code 0x0a, no SZL id) or error answer without data */
		} else if ((cap.pdu[i].address & 0xff) == 0x11 || (cap.pdu[i].address & 0xff) == 0x1c) {
			CU_ASSERT_EQUAL(cap.pdu[i].flags, OTS_PDUF_IDENTITY);
			ident++;
		} else {
			CU_ASSERT_EQUAL(cap.pdu[i].flags, OTS_PDUF_DIAG);
			diag++;
		}
	}
	/* oracle: 0x0011 0x001c 0x0111 0x0f11 0x0f1c requested and answered once each; 0x001c in 2 answer fragments,
	 * its follow-up request has no SZL id (no flag, not counted here) */
	CU_ASSERT_EQUAL(ident, 11);
	CU_ASSERT_EQUAL(none, 3);
	/* the oracle's SZL-id table has 131 rows (68 + 68 Read SZL PDUs, 5 of them without SZL id); otsense also gives
	 * the 2 follow-up answer fragments (records only) the id of their first fragment */
	CU_ASSERT_EQUAL(ident + diag, 131 + 2);
	CU_ASSERT_EQUAL(ident + diag + none, 136);
}

static void test_security_and_time(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("step7_s300_authpassword")), 0);
	const struct ots_pdu *pw = rec_find(UD(5, 1), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	CU_ASSERT_EQUAL(pw->flags, OTS_PDUF_CONFIG);
	CU_ASSERT_EQUAL(pw->kind, REQ);
	CU_ASSERT_STRING_EQUAL(pw->name, "PLC password");
	CU_ASSERT_EQUAL(rec_count(1, UD(5, 1), RSP, 0), 1);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_RESYNC], 2); /* 2 segments missing from the capture */

	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("s7comm_reading_setting_plc_time")), 0);
	CU_ASSERT_EQUAL(rec_count(0, UD(7, 1), REQ, 0), 5);
	CU_ASSERT_EQUAL(rec_count(1, UD(7, 1), RSP, 0), 5);
	CU_ASSERT_EQUAL(rec_count(0, UD(7, 2), REQ, 0), 1);
	CU_ASSERT_EQUAL(rec_count(1, UD(7, 2), RSP, 0), 1);
	CU_ASSERT_EQUAL(rec_find(UD(7, 2), 0)->flags, OTS_PDUF_CONFIG);
	CU_ASSERT_EQUAL(rec_find(UD(7, 1), 0)->flags, 0);
	CU_ASSERT_STRING_EQUAL(rec_find(UD(7, 2), 0)->name, "Set clock");
	/* SZL 0x011c index 2 (one record of 0x001c) */
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_DESCRIPTION, "IM151-8 PN/DP CPU"));
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* MMS (ISO session over COTP) on port 102: not S7, the flow is given up after two messages */
static void test_mms_rejected(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("mms_stop_request")), 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_NOT_S7], 2);
}

/* ---- synthetic ---- */

static const uint8_t stop_job[] = { 0x03, 0x00, 0x00, 0x21, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00, 0x00,
				    0x07, 0x00, 0x10, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
				    0x50, 0x5f, 0x50, 0x52, 0x4f, 0x47, 0x52, 0x41, 0x4d };
static const uint8_t setup_job[] = { 0x03, 0x00, 0x00, 0x19, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00,
				     0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x01, 0x00,
				     0x01, 0x01, 0xe0 };

struct seq {
	unsigned n;
	uint32_t code[512];
	uint8_t kind[512];
	uint8_t dir[512];
};

static void snap(struct seq *s)
{
	s->n = cap.npdu < 512 ? cap.npdu : 512;
	for (unsigned i = 0; i < s->n; i++) {
		s->code[i] = cap.pdu[i].code;
		s->kind[i] = cap.pdu[i].kind;
		s->dir[i] = cap.pdu[i].dir;
	}
}

static int same(const struct seq *a, const struct seq *b)
{
	if (a->n != b->n)
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		if (a->code[i] != b->code[i] || a->kind[i] != b->kind[i] || a->dir[i] != b->dir[i])
			return 0;
	return 1;
}

/* each direction of real streams split in two at every byte boundary, and byte by byte: same PDUs, no event */
static void split_everywhere(const char *fixture)
{
	static uint8_t s[65536];
	for (int dir = 0; dir < 2; dir++) {
		size_t n = rec_fixture_stream(fixture, dir, s, sizeof(s));
		CU_ASSERT_FATAL(n > 0);
		static struct seq ref, got;
		rec_reset();
		memset(state, 0, sizeof(state));
		rec_feed(state, dir, 0, s, n);
		snap(&ref);
		CU_ASSERT(ref.n > 0);
		CU_ASSERT_EQUAL(cap.nev, 0);
		unsigned bad = 0;
		for (size_t k = 1; k < n; k++) {
			rec_reset();
			memset(state, 0, sizeof(state));
			rec_feed(state, dir, 0, s, k);
			rec_feed(state, dir, 0, s + k, n - k);
			snap(&got);
			if (!same(&ref, &got) || cap.nev)
				bad++;
		}
		CU_ASSERT_EQUAL(bad, 0);
		rec_reset();
		memset(state, 0, sizeof(state));
		for (size_t k = 0; k < n; k++)
			rec_feed(state, dir, 0, s + k, 1);
		snap(&got);
		CU_ASSERT(same(&ref, &got));
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
}

static void test_split_every_byte(void)
{
	split_everywhere(FIXTURE("ndpi_s7comm"));
	split_everywhere(FIXTURE("s7_1200_uploading_ob1"));
}

static void test_two_pdus_one_segment(void)
{
	uint8_t b[sizeof(setup_job) + sizeof(stop_job)];
	memcpy(b, setup_job, sizeof(setup_job));
	memcpy(b + sizeof(setup_job), stop_job, sizeof(stop_job));
	rec_reset();
	memset(state, 0, sizeof(state));
	CU_ASSERT_EQUAL(rec_feed(state, 0, 0, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0xf0);
	CU_ASSERT_EQUAL(cap.pdu[1].code, 0x29);
	CU_ASSERT_EQUAL(cap.pdu[1].flags, OTS_PDUF_CONTROL);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void test_truncated(void)
{
	/* a stream that ends inside a PDU: nothing reported */
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, stop_job, sizeof(stop_job) - 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* a TPKT whose S7 header is cut short */
	uint8_t b[16];
	memcpy(b, stop_job, 12);
	b[3] = 12;
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, b, 12);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_S7_MALFORMED], 1);
	/* a Job without parameter */
	uint8_t j[17];
	memcpy(j, stop_job, 17);
	j[3] = 17;
	j[13] = j[14] = 0; /* parameter length 0 */
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, j, 17);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_S7_MALFORMED], 1);
}

static void test_wrong_lengths(void)
{
	/* S7 parameter length larger than the message: event, the function is still known */
	uint8_t b[sizeof(stop_job)];
	memcpy(b, stop_job, sizeof(b));
	b[14] = 0x40;
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, b, sizeof(b));
	CU_ASSERT_EQUAL(cap.ev[S7_EV_S7_BAD_LENGTH], 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0x29);
	/* TPKT length below the minimum, then a good PDU: one resync, the good PDU found */
	uint8_t c[4 + sizeof(setup_job)] = { 0x03, 0x00, 0x00, 0x04 };
	memcpy(c + 4, setup_job, sizeof(setup_job));
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, c, sizeof(c));
	CU_ASSERT_EQUAL(cap.ev[S7_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	/* unknown ROSCTR */
	memcpy(b, stop_job, sizeof(b));
	b[8] = 0x05;
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, b, sizeof(b));
	CU_ASSERT_EQUAL(cap.ev[S7_EV_S7_BAD_ROSCTR], 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	/* read var item list longer than the parameter */
	static const uint8_t rv[] = { 0x03, 0x00, 0x00, 0x1f, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00, 0x00, 0x02,
				      0x00, 0x0e, 0x00, 0x00, 0x04, 0x02, 0x12, 0x0a, 0x10, 0x02, 0x00, 0x04, 0x00,
				      0x01, 0x84, 0x00, 0x00, 0x00 };
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, rv, sizeof(rv));
	CU_ASSERT_EQUAL(cap.ev[S7_EV_ITEM_MALFORMED], 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].address, 1);  /* DB 1 */
	CU_ASSERT_EQUAL(cap.pdu[0].quantity, 4); /* 4 bytes */
}

/* Ack (ROSCTR 2) without parameter: the function of the Job with the same PDU reference; error -> exception */
static void test_ack_without_parameter(void)
{
	static const uint8_t ack[] = { 0x03, 0x00, 0x00, 0x13, 0x02, 0xf0, 0x80, 0x32, 0x02, 0x00, 0x00,
				       0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x81, 0x04 };
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, stop_job, sizeof(stop_job));
	rec_feed(state, 1, 0, ack, sizeof(ack));
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[1].code, 0x29);
	CU_ASSERT_EQUAL(cap.pdu[1].kind, EXC);
	CU_ASSERT_EQUAL(cap.pdu[1].dir, OTS_DIR_TO_CLIENT);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* mid-stream pickup inside a PDU: the tail is skipped quietly, the next PDU found */
static void test_midstream(void)
{
	uint8_t b[sizeof(stop_job) + sizeof(setup_job)];
	memcpy(b, stop_job, sizeof(stop_job));
	memcpy(b + sizeof(stop_job), setup_job, sizeof(setup_job));
	for (size_t off = 1; off < sizeof(stop_job); off++) {
		rec_reset();
		memset(state, 0, sizeof(state));
		rec_feed(state, 0, OTS_REASM_F_MIDSTREAM, b + off, sizeof(b) - off);
		CU_ASSERT_EQUAL(cap.npdu, 1);
		if (cap.npdu)
			CU_ASSERT_EQUAL(cap.pdu[cap.npdu - 1].code, 0xf0);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
}

/* a gap: one resync event, the PDU after the lost bytes is found */
static void test_gap_resync(void)
{
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, setup_job, sizeof(setup_job));
	rec_feed(state, 0, 0, stop_job, 10); /* first bytes of a PDU, the rest is lost */
	CU_ASSERT_EQUAL(rec_gap(state, 0, sizeof(stop_job) - 10), 0);
	uint8_t b[5 + sizeof(stop_job)] = { 0x11, 0x22, 0x03, 0x00, 0x33 }; /* junk, then a PDU */
	memcpy(b + 5, stop_job, sizeof(stop_job));
	rec_feed(state, 0, 0, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0xf0);
	CU_ASSERT_EQUAL(cap.pdu[1].code, 0x29);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* a TPKT longer than the cap is skipped (event), the next one is parsed */
static void test_oversize(void)
{
	static uint8_t b[3000 + sizeof(stop_job)];
	memset(b, 0, sizeof(b));
	b[0] = 0x03;
	b[2] = 3000 >> 8;
	b[3] = 3000 & 0xff;
	b[4] = 0x02;
	b[5] = 0xf0;
	b[6] = 0x80;
	b[7] = 0x32;
	memcpy(b + 3000, stop_job, sizeof(stop_job));
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, b, 1000);
	rec_feed(state, 0, 0, b + 1000, sizeof(b) - 1000);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_OVERSIZE], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0x29);
}

/* build a TPKT/COTP DT around part of an S7 message */
static size_t dt(uint8_t *out, const uint8_t *p, size_t n, int eot)
{
	size_t len = 7 + n;
	out[0] = 0x03;
	out[1] = 0x00;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[4] = 0x02;
	out[5] = 0xf0;
	out[6] = eot ? 0x80 : 0x00;
	memcpy(out + 7, p, n);
	return len;
}

static void test_cotp_fragments(void)
{
	/* the PLC stop job in three DT TPDUs (EOT on the last), an empty DT first */
	const uint8_t *s7 = stop_job + 7;
	size_t n = sizeof(stop_job) - 7;
	uint8_t b[256];
	size_t k = dt(b, s7, 0, 0);
	k += dt(b + k, s7, 5, 0);
	k += dt(b + k, s7 + 5, 10, 0);
	k += dt(b + k, s7 + 15, n - 15, 1);
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, b, k);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0x29);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "PLC Stop");
	CU_ASSERT_EQUAL(cap.nev, 0);

	/* a message longer than the reassembly cap: first OTS_S7_MSG_CAP bytes decoded, truncation event */
	static uint8_t big[2 * OTS_S7_MSG_CAP], wire[4 * OTS_S7_MSG_CAP];
	size_t bn = sizeof(big);
	memset(big, 0, bn);
	memcpy(big, setup_job + 7, sizeof(setup_job) - 7);
	big[8] = (uint8_t)((bn - 18) >> 8); /* data length covers the rest */
	big[9] = (uint8_t)(bn - 18);
	size_t w = 0;
	for (size_t off = 0; off < bn; off += 400)
		w += dt(wire + w, big + off, bn - off < 400 ? bn - off : 400, off + 400 >= bn);
	rec_reset();
	memset(state, 0, sizeof(state));
	rec_feed(state, 0, 0, wire, w);
	CU_ASSERT_EQUAL(cap.ev[S7_EV_COTP_TRUNCATED], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0xf0);
}

static void test_garbage_rejected(void)
{
	static uint8_t b[OTS_S7_REJECT_BYTES];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11) | 0x10; /* never 0x03 0x00 */
	rec_reset();
	memset(state, 0, sizeof(state));
	CU_ASSERT_EQUAL(rec_feed(state, 0, 0, b, 4000), 0);
	CU_ASSERT_EQUAL(rec_feed(state, 0, 0, b + 4000, sizeof(b) - 4000), -1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
}

static void test_probe_and_contract(void)
{
	CU_ASSERT(ots_parser_s7comm.state_size <= OTS_APP_STATE_MAX);
	CU_ASSERT_EQUAL(ots_parser_s7comm.nevents, S7_EV_MAX);
	for (unsigned i = 0; i < ots_parser_s7comm.nevents; i++)
		CU_ASSERT_PTR_NOT_NULL(ots_parser_s7comm.events[i]);
	CU_ASSERT_PTR_EQUAL(ots_protocols[OTS_APP_S7COMM].parser, &ots_parser_s7comm);
	CU_ASSERT_EQUAL(ots_parser_s7comm.probe(stop_job, sizeof(stop_job), 0), 1);
	CU_ASSERT_EQUAL(ots_parser_s7comm.probe(stop_job, 4, 0), -1);
	static const uint8_t cr[] = { 0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
				      0xc1, 0x02, 0x01, 0x00, 0xc2, 0x02, 0x01, 0x02, 0xc0, 0x01, 0x0a };
	CU_ASSERT_EQUAL(ots_parser_s7comm.probe(cr, sizeof(cr), 0), -1); /* CR: S7 or MMS */
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	CU_ASSERT_EQUAL(ots_parser_s7comm.probe(http, sizeof(http) - 1, 0), 0);
	uint8_t mms[] = { 0x03, 0x00, 0x00, 0x0c, 0x02, 0xf0, 0x80, 0x01, 0x00, 0x01, 0x00, 0x61 };
	CU_ASSERT_EQUAL(ots_parser_s7comm.probe(mms, sizeof(mms), 0), 0);
}

static const struct ots_test real_tests[] = {
	{ "ndpi s7comm: counts = oracle, PI _INSE, download", test_ndpi_s7comm },
	{ "snap7 PLC stop", test_plc_stop_snap7 },
	{ "step7 PLC stop + push", test_plc_stop_step7_push },
	{ "step7 download with capture gaps", test_step7_download_gaps },
	{ "download block DB1", test_download_block_db1 },
	{ "read var DB1.DBD0 item", test_read_var_item },
	{ "S7comm-plus upload OB1 + identity", test_s7plus_upload },
	{ "SZL identity", test_szl_identity },
	{ "security + time set", test_security_and_time },
	{ "MMS on 102 rejected", test_mms_rejected },
	{ NULL, NULL },
};

static const struct ots_test bad_tests[] = {
	{ "split at every byte boundary", test_split_every_byte },
	{ "two PDUs in one segment", test_two_pdus_one_segment },
	{ "truncated", test_truncated },
	{ "wrong lengths", test_wrong_lengths },
	{ "ack without parameter", test_ack_without_parameter },
	{ "mid-stream start", test_midstream },
	{ "gap then resync", test_gap_resync },
	{ "oversize TPKT", test_oversize },
	{ "COTP fragments and cap", test_cotp_fragments },
	{ "garbage rejected", test_garbage_rejected },
	{ "probe and contract", test_probe_and_contract },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "s7comm real captures", real_tests, NULL, NULL },
	{ "s7comm bad input", bad_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_s7comm", suites);
}
