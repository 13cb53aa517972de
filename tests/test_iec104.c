/* tests/test_iec104.c - unit tests for protocols/iec104.c (IEC 60870-5-104 parser).
 *
 * Real payloads cut from the shared captures (tests/data/proto/iec104/NAME.txt, see the README there) are fed
 * segment by segment, one parser state per TCP stream (mid-stream when the capture has no SYN), and every APDU /
 * event the parser reports is recorded by a capture-side struct ots_app_ops and asserted exactly: per fixture a
 * table of (direction, code, kind) -> count whose totals agree with the tshark oracle (see the README), plus field
 * checks of single APDUs. Synthetic APDUs cover splits at every byte, mid-stream tails, gaps, malformed frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "protocols/iec104.h"
#include "tests/harness.h"

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif
#define FIX_DIR OTS_TEST_DATA "/proto/iec104/"

#define U(f) (OTS_IEC104_CODE_U | (f))
#define S OTS_IEC104_CODE_S
#define REQ OTS_PDU_REQUEST
#define RSP OTS_PDU_RESPONSE
#define EXC OTS_PDU_EXCEPTION
#define UNS OTS_PDU_UNSOLICITED
#define OTH OTS_PDU_OTHER

#define REC_PARSER ots_parser_iec104
#define REC_PROTO OTS_APP_IEC104
#define REC_EV_MAX OTS_IEC_EV_MAX
#include "tests/recorder.h"

/* fixtures: "frame<TAB>stream<TAB>dir<TAB>hex" per TCP segment (rec_load, rec_run_segments) */

static void assert_pdu(const struct ots_pdu *p, int dir, int kind, unsigned code, unsigned unit, unsigned addr,
		       unsigned qty, uint32_t flags, const char *name)
{
	EXPECT_PDU(p, dir, kind, code, unit, addr, qty, flags);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->name);
	CU_ASSERT_STRING_EQUAL(p->name, name);
}

#define WC (OTS_PDUF_WRITE | OTS_PDUF_CONTROL)
#define NW(w) (sizeof(w) / sizeof((w)[0]))

/* ---- real captures ---- */

/* nDPI IEC104: mid-stream, two connections, spontaneous M_ME_TF_1 (one segment carries two APDUs) */
static void t_fixture_ndpi(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "ndpi_IEC104.txt", 1);
	static const struct rec_want w[] = { { 1, S, OTH, 2 }, { 1, 36, UNS, 6 } };
	rec_expect(w, NW(w));
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* frame 7: 68 19 2c7e 42b9 | 24 01 0300 1429 | cbb202 ... */
	assert_pdu(&cap.pdu[2], 1, UNS, 36, 10516, 176843, 1, 0, "M_ME_TF_1");
	/* frame 9: 11 objects, common address 0x2a14 */
	assert_pdu(&cap.pdu[3], 1, UNS, 36, 10772, 1641999, 11, 0, "M_ME_TF_1");
	/* frame 13 carries two APDUs: 5 objects of CA 10516, then 1 of CA 10772 */
	assert_pdu(&cap.pdu[5], 1, UNS, 36, 10516, 1773327, 5, 0, "M_ME_TF_1");
	assert_pdu(&cap.pdu[6], 1, UNS, 36, 10772, 1117711, 1, 0, "M_ME_TF_1");
	assert_pdu(&cap.pdu[0], 1, OTH, S, 0, 0, 0, 0, "S");
}

/* IEC1044: one segment with four I frames, SQ=1 with 16 single points each, answers to a general interrogation */
static void t_fixture_iec1044(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "IEC1044.txt", 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_pdu(&cap.pdu[i], 1, RSP, 1, 1054, 16 * i, 16, 0, "M_SP_NA_1");
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* iec104_baselines: STARTDT, TESTFR both ways, general interrogation, every command type 45-51 (act, actcon,
 * actterm), spontaneous data of 12 types, end of initialisation. Two segments are missing from the capture: the
 * send sequence jumps twice (seq_gap). */
static void t_fixture_baselines(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "iec104_baselines.txt", 0);
	static const struct rec_want w[] = {
		{ 0, U(0x01), OTH, 1 }, { 1, U(0x02), OTH, 1 }, { 0, U(0x10), OTH, 1 }, { 1, U(0x10), OTH, 3 },
		{ 0, U(0x20), OTH, 3 }, { 1, U(0x20), OTH, 1 }, { 0, S, OTH, 9 },       { 1, S, OTH, 5 },
		{ 0, 100, REQ, 2 },     { 1, 100, RSP, 1 },     { 1, 1, RSP, 1 },       { 1, 3, RSP, 1 },
		{ 0, 45, REQ, 2 },      { 1, 45, RSP, 4 },      { 0, 46, REQ, 2 },      { 1, 46, RSP, 4 },
		{ 0, 47, REQ, 2 },      { 0, 48, REQ, 2 },      { 1, 48, RSP, 4 },      { 0, 49, REQ, 2 },
		{ 1, 49, RSP, 4 },      { 0, 50, REQ, 2 },      { 1, 50, RSP, 4 },      { 0, 51, REQ, 2 },
		{ 1, 51, RSP, 4 },      { 1, 1, UNS, 1 },       { 1, 3, UNS, 1 },       { 1, 7, UNS, 1 },
		{ 1, 9, UNS, 1 },       { 1, 11, UNS, 1 },      { 1, 13, UNS, 1 },      { 1, 30, UNS, 1 },
		{ 1, 31, UNS, 1 },      { 1, 33, UNS, 1 },      { 1, 34, UNS, 1 },      { 1, 35, UNS, 1 },
		{ 1, 36, UNS, 1 },      { 1, 70, UNS, 1 },
	};
	rec_expect(w, NW(w));
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_SEQ_GAP], 2);
	CU_ASSERT_EQUAL(cap.nev, 2);
	/* frame 9: 68 0e 0000 0000 | 64 01 0600 0a00 | 000000 14 */
	assert_pdu(rec_nth(0, 100, REQ, 0), 0, REQ, 100, 10, 0, 1, OTS_PDUF_READ, "C_IC_NA_1");
	/* frame 12: 4 single points (SQ=0) from IOA 1 answering the interrogation (COT 20) */
	assert_pdu(rec_nth(1, 1, RSP, 0), 1, RSP, 1, 10, 1, 4, 0, "M_SP_NA_1");
	/* frame 17: 68 0e 0400 4200 | 2d 01 0600 0a00 | 020000 01: single command ON to IOA 2 */
	assert_pdu(rec_nth(0, 45, REQ, 0), 0, REQ, 45, 10, 2, 1, WC, "C_SC_NA_1");
	assert_pdu(rec_nth(1, 45, RSP, 0), 1, RSP, 45, 10, 2, 1, WC, "C_SC_NA_1");
	CU_ASSERT_EQUAL(rec_nth(0, 45, REQ, 0)->sub, 6);  /* sub = cause of transmission: act */
	CU_ASSERT_EQUAL(rec_nth(1, 45, RSP, 0)->sub, 7);  /* actcon */
	CU_ASSERT_EQUAL(rec_nth(1, 1, RSP, 0)->sub, 20);  /* inrogen */
	assert_pdu(rec_nth(0, 48, REQ, 0), 0, REQ, 48, 10, 1, 1, OTS_PDUF_WRITE, "C_SE_NA_1");
	assert_pdu(rec_nth(1, 70, UNS, 0), 1, UNS, 70, 10, 0, 1, 0, "M_EI_NA_1");
	assert_pdu(rec_nth(0, U(0x01), OTH, 0), 0, OTH, U(0x01), 0, 0, 0, 0, "STARTDT act");
	assert_pdu(rec_nth(1, U(0x02), OTH, 0), 1, OTH, U(0x02), 0, 0, 0, 0, "STARTDT con");
	assert_pdu(rec_nth(1, U(0x10), OTH, 0), 1, OTH, U(0x10), 0, 0, 0, 0, "TESTFR act");
	assert_pdu(rec_nth(0, U(0x20), OTH, 0), 0, OTH, U(0x20), 0, 0, 0, 0, "TESTFR con");
}

/* 58_59: time-tagged single/double commands: act, deact, actcon, deactcon, actterm, unknown IOA (COT 47) */
static void t_fixture_58_59(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "58_59.txt", 1);
	static const struct rec_want w[] = {
		{ 0, S, OTH, 7 },  { 1, S, OTH, 7 },  { 0, 58, REQ, 4 }, { 1, 58, RSP, 5 }, { 1, 58, EXC, 1 },
		{ 0, 59, REQ, 7 }, { 1, 59, RSP, 8 }, { 1, 59, EXC, 2 }, { 0, 45, REQ, 1 }, { 1, 45, EXC, 1 },
		{ 1, 30, UNS, 2 }, { 1, 31, UNS, 3 },
	};
	rec_expect(w, NW(w));
	CU_ASSERT_EQUAL(cap.nev, 0);
	assert_pdu(rec_nth(0, 58, REQ, 0), 0, REQ, 58, 1, 1000, 1, WC, "C_SC_TA_1");
	assert_pdu(rec_nth(1, 59, EXC, 0), 1, EXC, 59, 1, 1, 1, WC, "C_DC_TA_1");
	assert_pdu(rec_nth(1, 45, EXC, 0), 1, EXC, 45, 1, 2000, 1, WC, "C_SC_NA_1");
	assert_pdu(rec_nth(1, 31, UNS, 0), 1, UNS, 31, 1, 200, 1, 0, "M_DP_TB_1");
}

/* 104IPValue: parameter loading (P_ME_*), negative confirmations (P/N + COT 47), set point, spontaneous data of
 * every time-tagged monitor type; mid-stream, starting with a 1-byte keep-alive (skipped quietly) */
static void t_fixture_104ipvalue(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "104IPValue.txt", 1);
	static const struct rec_want w[] = {
		{ 0, U(0x10), OTH, 6 }, { 1, U(0x20), OTH, 6 }, { 1, U(0x10), OTH, 1 }, { 0, U(0x20), OTH, 1 },
		{ 0, S, OTH, 9 },       { 1, S, OTH, 4 },       { 0, 112, REQ, 6 },     { 1, 112, RSP, 1 },
		{ 1, 112, EXC, 5 },     { 0, 110, REQ, 1 },     { 1, 110, RSP, 1 },     { 0, 50, REQ, 1 },
		{ 1, 50, RSP, 2 },      { 1, 30, UNS, 1 },      { 1, 31, UNS, 1 },      { 1, 32, UNS, 1 },
		{ 1, 33, UNS, 1 },      { 1, 34, UNS, 1 },      { 1, 35, UNS, 1 },      { 1, 36, UNS, 2 },
	};
	rec_expect(w, NW(w));
	CU_ASSERT_EQUAL(cap.nev, 0);
	assert_pdu(rec_nth(0, 112, REQ, 0), 0, REQ, 112, 1, 33, 1, OTS_PDUF_CONFIG, "P_ME_NC_1");
	assert_pdu(rec_nth(1, 112, EXC, 0), 1, EXC, 112, 1, 33, 1, OTS_PDUF_CONFIG, "P_ME_NC_1");
	assert_pdu(rec_nth(0, 50, REQ, 0), 0, REQ, 50, 1, 6000, 1, OTS_PDUF_WRITE, "C_SE_NC_1");
}

/* Wireshark's robustness capture: junk before APDUs, impossible lengths (rejected: events), and a real session
 * with an S frame + 3 I frames in one segment (frame 110) and negative confirmations (P/N) */
static void t_fixture_testdissect(void)
{
	rec_reset();
	rec_run_segments(FIX_DIR "TestDissectIec104.txt", 0);
	static const struct rec_want w[] = {
		{ 0, U(0x01), OTH, 6 }, { 1, U(0x02), OTH, 6 }, { 0, U(0x10), OTH, 7 }, { 1, U(0x20), OTH, 7 },
		{ 0, S, OTH, 5 },       { 1, S, OTH, 7 },       { 1, 70, UNS, 2 },      { 0, 100, REQ, 1 },
		{ 1, 100, RSP, 2 },     { 1, 1, RSP, 1 },       { 1, 3, RSP, 1 },       { 0, 46, REQ, 1 },
		{ 1, 46, EXC, 1 },      { 0, 45, REQ, 4 },      { 1, 45, RSP, 2 },      { 1, 45, EXC, 1 },
		{ 1, 30, UNS, 1 },      { 0, 103, REQ, 1 },     { 1, 103, RSP, 1 },
	};
	rec_expect(w, NW(w));
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_BAD_START], 9);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_RESYNC], 9);
	CU_ASSERT_EQUAL(cap.nev, 18);
	/* frame 110: 68 04 0100 0200 | 68 0e ... 64 01 0700 | 68 16 ... 01 89 1400 (SQ, 9 single points) | 68 10 ... */
	assert_pdu(rec_nth(1, 1, RSP, 0), 1, RSP, 1, 37133, 10010, 9, 0, "M_SP_NA_1");
	assert_pdu(rec_nth(1, 3, RSP, 0), 1, RSP, 3, 37133, 20010, 3, 0, "M_DP_NA_1");
	/* frame 118: C_DC_NA_1 with COT 0x47 = actcon + P/N */
	assert_pdu(rec_nth(1, 46, EXC, 0), 1, EXC, 46, 37133, 15000, 1, WC, "C_DC_NA_1");
	assert_pdu(rec_nth(0, 103, REQ, 0), 0, REQ, 103, 37133, 0, 1, OTS_PDUF_CONFIG, "C_CS_NA_1");
}

/* ---- synthetic ---- */

/* STARTDT act, an I frame (C_SC_NA_1 act to IOA 0x010203, CA 5), an S frame, TESTFR con: 6 + 16 + 6 + 6 bytes */
static const uint8_t stream4[] = {
	0x68, 0x04, 0x07, 0x00, 0x00, 0x00,
	0x68, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x01, 0x06, 0x00, 0x05, 0x00, 0x03, 0x02, 0x01, 0x81,
	0x68, 0x04, 0x01, 0x00, 0x02, 0x00,
	0x68, 0x04, 0x83, 0x00, 0x00, 0x00,
};

static void check_stream4(unsigned first)
{
	static const unsigned codes[] = { U(0x01), 45, S, U(0x20) };
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 4 - first);
	for (unsigned i = first; i < 4; i++)
		CU_ASSERT_EQUAL(cap.pdu[i - first].code, codes[i]);
	if (first <= 1)
		assert_pdu(&cap.pdu[1 - first], 0, REQ, 45, 5, 0x010203, 1, WC, "C_SC_NA_1");
}

static void t_split_every_boundary(void)
{
	size_t n = sizeof(stream4);
	struct rec_flow f;
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i; j <= n; j++) {
			rec_reset();
			rec_flow_init(&f, 0);
			rec_flow_feed(&f, 0, stream4, i);
			rec_flow_feed(&f, 0, stream4 + i, j - i);
			rec_flow_feed(&f, 0, stream4 + j, n - j);
			check_stream4(0);
			CU_ASSERT_EQUAL(cap.nev, 0);
		}
	rec_reset();
	rec_flow_init(&f, 0);
	for (size_t i = 0; i < n; i++)
		rec_flow_feed(&f, 0, stream4 + i, 1);
	check_stream4(0);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* a real segment with four APDUs (TestDissectIec104 frame 110) cut in two at every byte */
static void t_real_segment_split(void)
{
	unsigned ns = rec_load(REC_STREAM_DIR, FIX_DIR "TestDissectIec104.txt");
	const struct rec_seg *s = NULL;
	for (unsigned i = 0; i < ns; i++)
		if (rec_segs[i].frame == 110)
			s = &rec_segs[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(s->len, 64);
	struct rec_flow f;
	for (size_t cut = 0; cut <= s->len; cut++) {
		rec_reset();
		rec_flow_init(&f, 0);
		rec_flow_feed(&f, 1, s->b, cut);
		rec_flow_feed(&f, 1, s->b + cut, s->len - cut);
		CU_ASSERT_EQUAL_FATAL(cap.npdu, 4);
		CU_ASSERT_EQUAL(cap.pdu[0].code, S);
		CU_ASSERT_EQUAL(cap.pdu[1].code, 100);
		CU_ASSERT_EQUAL(cap.pdu[2].code, 1);
		CU_ASSERT_EQUAL(cap.pdu[3].code, 3);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
}

static void t_midstream_tail(void)
{
	size_t n = sizeof(stream4);
	struct rec_flow f;
	for (size_t cut = 1; cut < 22; cut++) { /* inside the STARTDT and the I frame */
		rec_reset();
		rec_flow_init(&f, 1);
		rec_flow_feed(&f, 0, stream4 + cut, n - cut);
		check_stream4(cut <= 6 ? 1 : 2);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
	/* measured values with 0x68 bytes inside: the tail of an M_ME_NC_1 whose float is 0x68 0x04 ... */
	static const uint8_t m[] = { 0x68, 0x12, 0x02, 0x00, 0x00, 0x00, 0x0d, 0x01, 0x03, 0x00, 0x05, 0x00, 0x01,
				     0x00, 0x00, 0x68, 0x04, 0x01, 0x00, 0x00, 0x68, 0x04, 0x01, 0x00, 0x04, 0x00 };
	rec_reset();
	rec_flow_init(&f, 1);
	rec_flow_feed(&f, 1, m + 2, sizeof(m) - 2);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.pdu[0].code, S);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void t_gap_resync(void)
{
	size_t n = sizeof(stream4);
	struct rec_flow f;
	rec_reset();
	rec_flow_init(&f, 0);
	rec_flow_feed(&f, 0, stream4, 10);
	rec_flow_gap(&f, 0, 8);
	rec_flow_feed(&f, 0, stream4 + 18, n - 18);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	CU_ASSERT_EQUAL(cap.pdu[0].code, U(0x01));
	CU_ASSERT_EQUAL(cap.pdu[1].code, S);
	CU_ASSERT_EQUAL(cap.pdu[2].code, U(0x20));
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* I frames with given ASDU bytes (after the 4 control octets), send sequence number ns */
static size_t iframe(uint8_t *b, uint16_t ns, const uint8_t *asdu, size_t n)
{
	b[0] = 0x68;
	b[1] = (uint8_t)(n + 4);
	b[2] = (uint8_t)(ns << 1);
	b[3] = (uint8_t)(ns >> 7);
	b[4] = b[5] = 0;
	memcpy(b + 6, asdu, n);
	return n + 6;
}

#define IFRAME(b, ns, ...) iframe(b, ns, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void t_kinds_and_flags(void)
{
	static const struct {
		uint8_t type, cot;
		uint8_t elem[12];
		uint8_t elen;
		int kind;
		uint32_t flags;
	} t[] = {
		{ 100, 6, { 20 }, 1, REQ, OTS_PDUF_READ },
		{ 100, 8, { 20 }, 1, REQ, OTS_PDUF_READ },
		{ 100, 7, { 20 }, 1, RSP, OTS_PDUF_READ },
		{ 100, 9, { 20 }, 1, RSP, OTS_PDUF_READ },
		{ 100, 10, { 20 }, 1, RSP, OTS_PDUF_READ },
		{ 100, 7 | 0x40, { 20 }, 1, EXC, OTS_PDUF_READ },
		{ 100, 44, { 20 }, 1, EXC, OTS_PDUF_READ },
		{ 102, 5, { 0 }, 0, REQ, OTS_PDUF_READ },        /* read command: requested */
		{ 1, 5, { 1 }, 1, RSP, 0 },                      /* its answer */
		{ 1, 1, { 1 }, 1, UNS, 0 },                      /* periodic */
		{ 1, 2, { 1 }, 1, UNS, 0 },                      /* background scan */
		{ 1, 3, { 1 }, 1, UNS, 0 },                      /* spontaneous */
		{ 1, 11, { 1 }, 1, UNS, 0 },                     /* return info, remote command */
		{ 1, 20, { 1 }, 1, RSP, 0 },                     /* interrogated by station */
		{ 1, 36, { 1 }, 1, RSP, 0 },                     /* interrogated by group 16 */
		{ 15, 37, { 1, 0, 0, 0, 0 }, 5, RSP, 0 },        /* counter interrogation */
		{ 70, 4, { 0 }, 1, UNS, 0 },                     /* initialised */
		{ 101, 6, { 5 }, 1, REQ, OTS_PDUF_READ },
		{ 103, 6, { 0, 0, 0, 0, 0, 0, 0 }, 7, REQ, OTS_PDUF_CONFIG },
		{ 105, 6, { 1 }, 1, REQ, OTS_PDUF_CONTROL },     /* reset process */
		{ 107, 6, { 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 9, REQ, OTS_PDUF_DIAG },
		{ 47, 6, { 1 }, 1, REQ, WC },                    /* regulating step */
		{ 51, 6, { 0, 0, 0, 1 }, 4, REQ, OTS_PDUF_WRITE },
		{ 113, 6, { 1 }, 1, REQ, OTS_PDUF_CONFIG },
		{ 122, 13, { 1, 0, 1, 1 }, 4, OTH, OTS_PDUF_PROGRAM },
	};
	uint8_t b[64], a[32];
	struct rec_flow f;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rec_reset();
		rec_flow_init(&f, 0);
		size_t n = 0;
		a[n++] = t[i].type;
		a[n++] = 1;
		a[n++] = t[i].cot;
		a[n++] = 0;
		a[n++] = 0x34;
		a[n++] = 0x12;
		a[n++] = 0x11;
		a[n++] = 0x22;
		a[n++] = 0x00;
		memcpy(a + n, t[i].elem, t[i].elen);
		n += t[i].elen;
		n = iframe(b, 0, a, n);
		rec_flow_feed(&f, 0, b, n);
		CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
		CU_ASSERT_EQUAL(cap.pdu[0].kind, t[i].kind);
		CU_ASSERT_EQUAL(cap.pdu[0].flags, t[i].flags);
		CU_ASSERT_EQUAL(cap.pdu[0].unit, 0x1234);
		CU_ASSERT_EQUAL(cap.pdu[0].address, 0x2211);
		CU_ASSERT_EQUAL(cap.pdu[0].quantity, 1);
		CU_ASSERT_EQUAL(cap.nev, 0);
		if (cap.nev || cap.pdu[0].kind != t[i].kind)
			fprintf(stderr, "  row %u (type %u cot %u)\n", i, t[i].type, t[i].cot);
	}
	/* global common address */
	rec_reset();
	rec_flow_init(&f, 0);
	size_t n = IFRAME(b, 0, 100, 1, 6, 0, 0xff, 0xff, 0, 0, 0, 20);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.pdu[0].flags, OTS_PDUF_READ | OTS_PDUF_BROADCAST);
	CU_ASSERT_EQUAL(cap.pdu[0].unit, 0xffff);
	/* every U function */
	static const uint8_t uf[] = { 0x07, 0x0b, 0x13, 0x23, 0x43, 0x83 };
	static const char *const un[] = { "STARTDT act", "STARTDT con", "STOPDT act", "STOPDT con", "TESTFR act",
					  "TESTFR con" };
	for (unsigned i = 0; i < 6; i++) {
		rec_reset();
		const uint8_t u[] = { 0x68, 4, uf[i], 0, 0, 0 };
		rec_flow_feed(&f, 1, u, 6);
		CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
		assert_pdu(&cap.pdu[0], 1, OTH, U(1u << i), 0, 0, 0, 0, un[i]);
	}
	CU_ASSERT_STRING_EQUAL(ots_iec104_type_name(45), "C_SC_NA_1");
	CU_ASSERT_PTR_NULL(ots_iec104_type_name(24));
	CU_ASSERT_PTR_NULL(ots_iec104_type_name(300));
}

static void t_malformed(void)
{
	uint8_t b[300];
	struct rec_flow f;
	size_t n;
	/* not 0x68 where an APDU starts, then a good one */
	rec_reset();
	rec_flow_init(&f, 0);
	static const uint8_t junk[] = { 0x11, 0x22, 0x33 };
	rec_flow_feed(&f, 0, junk, 3);
	rec_flow_feed(&f, 0, stream4, 6);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_BAD_START], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	/* impossible lengths: I of length 6, S of length 5, U with a non-zero octet, length 255 */
	static const uint8_t bad[][8] = { { 0x68, 0x06, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x01 },
					  { 0x68, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00 },
					  { 0x68, 0x04, 0x07, 0x01, 0x00, 0x00 },
					  { 0x68, 0xff, 0x00, 0x00, 0x00, 0x00 },
					  { 0x68, 0x04, 0x01, 0x00, 0x01, 0x00 } };
	static const size_t blen[] = { 8, 7, 6, 6, 6 };
	for (unsigned i = 0; i < 5; i++) {
		rec_reset();
		rec_flow_init(&f, 0);
		rec_flow_feed(&f, 0, bad[i], blen[i]);
		CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_BAD_LENGTH], 1);
		CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_RESYNC], 1);
		CU_ASSERT_EQUAL(cap.npdu, 0);
	}
	/* U frame with two function bits */
	rec_reset();
	static const uint8_t u2[] = { 0x68, 0x04, 0x0f, 0x00, 0x00, 0x00 };
	rec_flow_feed(&f, 1, u2, 6);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_BAD_U_FRAME], 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	/* ASDU length disagrees with 2 objects of C_SC_NA_1; undefined type 24 and cause 14; no IOA */
	rec_reset();
	rec_flow_init(&f, 0);
	n = IFRAME(b, 0, 45, 2, 6, 0, 1, 0, 1, 0, 0, 1);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_ASDU_LENGTH], 1);
	CU_ASSERT_EQUAL(cap.pdu[0].quantity, 2);
	n = IFRAME(b, 1, 24, 1, 3, 0, 1, 0, 1, 0, 0, 1);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_UNKNOWN_TYPE], 1);
	CU_ASSERT_PTR_NULL(cap.pdu[1].name);
	n = IFRAME(b, 2, 1, 1, 14, 0, 1, 0, 1, 0, 0, 1);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_UNKNOWN_COT], 1);
	CU_ASSERT_EQUAL(cap.pdu[2].kind, OTH);
	n = IFRAME(b, 3, 1, 1, 3, 0, 1, 0);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_ASDU_TOO_SHORT], 1);
	CU_ASSERT_EQUAL(cap.pdu[3].address, 0);
	CU_ASSERT_EQUAL(cap.npdu, 4);
	CU_ASSERT_EQUAL(cap.nev, 4);
	/* zero objects: the frame check rejects it when it can see the VSQ... */
	rec_reset();
	rec_flow_init(&f, 0);
	n = IFRAME(b, 0, 1, 0, 3, 0, 1, 0, 1, 0, 0, 1);
	rec_flow_feed(&f, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_BAD_LENGTH], 1);
	/* ...but not when the header arrives in 6-byte pieces: then the ASDU check names it */
	rec_reset();
	rec_flow_init(&f, 0);
	rec_flow_feed(&f, 0, b, 6);
	rec_flow_feed(&f, 0, b + 6, n - 6);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_ZERO_COUNT], 1);
	/* send sequence numbers: 0, 1, then 5 */
	rec_reset();
	rec_flow_init(&f, 0);
	for (uint16_t ns = 0; ns < 6; ns++) {
		if (ns >= 2 && ns < 5)
			continue;
		n = IFRAME(b, ns, 1, 1, 3, 0, 1, 0, 1, 0, 0, 1);
		rec_flow_feed(&f, 1, b, n);
	}
	CU_ASSERT_EQUAL(cap.npdu, 3);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_SEQ_GAP], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

static void t_not_iec104(void)
{
	struct rec_flow f;
	uint8_t b[512];
	memset(b, 0x55, sizeof(b));
	rec_reset();
	rec_flow_init(&f, 0);
	CU_ASSERT_EQUAL(rec_flow_feed(&f, 0, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(rec_flow_feed(&f, 0, b, sizeof(b)), -1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_BAD_START], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_IEC_EV_RESYNC], 1);
}

static void t_probe_and_table(void)
{
	CU_ASSERT_EQUAL(ots_iec104_probe(stream4, sizeof(stream4), 0), 1);
	CU_ASSERT_EQUAL(ots_iec104_probe(stream4, 3, 0), -1);
	CU_ASSERT_EQUAL(ots_iec104_probe(stream4 + 1, sizeof(stream4) - 1, 0), 0);
	CU_ASSERT(ots_parser_iec104.state_size <= OTS_APP_STATE_MAX);
	CU_ASSERT_EQUAL(ots_parser_iec104.nevents, OTS_IEC_EV_MAX);
	CU_ASSERT(ots_parser_iec104.nevents <= 32);
	for (unsigned i = 0; i < ots_parser_iec104.nevents; i++)
		CU_ASSERT_PTR_NOT_NULL(ots_parser_iec104.events[i]);
	CU_ASSERT_PTR_EQUAL(ots_protocols[OTS_APP_IEC104].parser, &ots_parser_iec104);
}

static const struct ots_test captures[] = {
	{ "nDPI IEC104 (mid-stream, spontaneous)", t_fixture_ndpi },
	{ "IEC1044 (4 APDUs in a segment, SQ)", t_fixture_iec1044 },
	{ "iec104_baselines (commands 45-51, U frames)", t_fixture_baselines },
	{ "58_59 (time-tagged commands, deact, COT 47)", t_fixture_58_59 },
	{ "104IPValue (parameters, P/N)", t_fixture_104ipvalue },
	{ "TestDissectIec104 (junk, frame 110)", t_fixture_testdissect },
	{ NULL, NULL },
};

static const struct ots_test synthetic[] = {
	{ "split at every byte boundary", t_split_every_boundary },
	{ "real segment (4 APDUs) split at every byte", t_real_segment_split },
	{ "mid-stream start inside an APDU", t_midstream_tail },
	{ "gap then resync", t_gap_resync },
	{ "kinds by cause of transmission, flags, U functions", t_kinds_and_flags },
	{ "malformed APCI / ASDU", t_malformed },
	{ "not IEC-104: rejected", t_not_iec104 },
	{ "probe, state size, event table", t_probe_and_table },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "iec104 captures", captures, NULL, NULL },
	{ "iec104 synthetic", synthetic, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_iec104", suites);
}
