/* tests/test_enip.c - unit tests for protocols/enip.c (EtherNet/IP encapsulation + CIP).
 *
 * Real payloads come from fixtures under tests/data/proto/enip/fixtures, cut from the shared captures with
 * tests/data/proto/s7comm/cut.py (tests/data/proto/enip/README.md: capture, filter, frames). A fixture is what the
 * worker's reassembly would deliver ("> hex" to the server, "< hex" from it, "> !gap N", "= stream syn|mid").
 * Expected counts are the tshark oracle's rows for the same capture (tests/data/proto/enip/oracle), summed over the
 * servers of the capture. Synthetic cases: splits at every byte boundary, several PDUs per segment, truncation,
 * wrong lengths and offsets, nesting, mid-stream start, gaps, oversize PDUs, UDP datagrams, non-ENIP data.
 */
#include "protocols/enip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "tests/harness.h"

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif
#define FIXTURE(name) OTS_TEST_DATA "/proto/enip/fixtures/" name ".txt"

#define REC_PARSER ots_parser_enip
#define REC_PROTO OTS_APP_ENIP
#define REC_EV_MAX ENIP_EV_MAX
#include "tests/recorder.h"

static _Alignas(16) uint8_t state[OTS_APP_STATE_MAX]; /* the synthetic cases' stream */

static void fresh(void)
{
	rec_reset();
	memset(state, 0, sizeof(state));
}

#define CIP OTS_ENIP_CIP_CODE
#define REQ OTS_PDU_REQUEST
#define RSP OTS_PDU_RESPONSE
#define EXC OTS_PDU_EXCEPTION
#define NE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- real captures ---- */

/* nDPI ethernetIP.pcap: one HMI and four Logix controllers; Multiple Service Packets of Read Tag (0x4c on class
 * 0x72) and Read-Modify-Write Tag on symbolic paths, Unconnected Send carrying Get_Attribute_All */
static void test_ndpi_ethernetip(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("ethernetip")), 0);
	static const struct rec_want e[] = {
		{ 0, 0x0070, REQ, 36 },    { 1, 0x0070, RSP, 35 },   { 0, 0x006f, REQ, 2 },   { 1, 0x006f, RSP, 2 },
		{ 0, CIP(0x4c), REQ, 308 }, { 1, CIP(0x4c), RSP, 260 }, { 0, CIP(0x0a), REQ, 36 }, { 1, CIP(0x0a), RSP, 35 },
		{ 0, CIP(0x4e), REQ, 17 },  { 1, CIP(0x4e), RSP, 17 },  { 0, CIP(0x01), REQ, 2 },  { 1, CIP(0x01), RSP, 2 },
		{ 0, CIP(0x52), REQ, 2 },
	};
	rec_expect(e, NE(e));
	CU_ASSERT_EQUAL(cap.nev, 0);
	CU_ASSERT_EQUAL(cap.nid, 0); /* Get_Attribute_All of class 0xac, not the Identity object */
	const struct ots_pdu *rmw = rec_find(CIP(0x4e), 0);
	CU_ASSERT_EQUAL(rmw->flags, OTS_PDUF_WRITE); /* Read-Modify-Write Tag on 'LMS_DISABLE_2DSCANNER1'... */
	CU_ASSERT_STRING_EQUAL(rmw->name, "Read Modify Write Tag");
	CU_ASSERT_EQUAL(rmw->unit, 0);
	const struct ots_pdu *ucs = rec_find(CIP(0x52), 0);
	CU_ASSERT_STRING_EQUAL(ucs->name, "Unconnected Send");
	CU_ASSERT_EQUAL(ucs->unit, 6);
	CU_ASSERT_EQUAL(rec_find(CIP(0x01), 0)->unit, 0xac);
	CU_ASSERT_EQUAL(rec_find(CIP(0x01), 1)->unit, 0xac); /* the reply takes the embedded request's class */
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x4c), REQ, 0x72), 308);
	CU_ASSERT_EQUAL(rec_find(CIP(0x0a), 0)->unit, 2);
	CU_ASSERT_STRING_EQUAL(rec_find(0x0070, 0)->name, "Send Unit Data");
}

static void single(const char *fixture, uint32_t code, uint32_t flags, uint32_t unit, uint32_t inst)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(fixture), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0x0070);
	CU_ASSERT_EQUAL(cap.pdu[0].kind, REQ);
	CU_ASSERT_EQUAL(cap.pdu[1].code, code);
	CU_ASSERT_EQUAL(cap.pdu[1].kind, REQ);
	CU_ASSERT_EQUAL(cap.pdu[1].flags, flags);
	CU_ASSERT_EQUAL(cap.pdu[1].unit, unit);
	CU_ASSERT_EQUAL(cap.pdu[1].address, inst);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void test_stop_start_unlock(void)
{
	single(FIXTURE("cip_stop_plc"), CIP(0x07), OTS_PDUF_CONTROL, 0x8e, 1);
	CU_ASSERT_STRING_EQUAL(cap.pdu[1].name, "Stop");
	CU_ASSERT_EQUAL(cap.pdu[1].sub, 0); /* the path names no attribute */
	single(FIXTURE("cip_start_plc"), CIP(0x06), OTS_PDUF_CONTROL, 0x8e, 1);
	CU_ASSERT_STRING_EQUAL(cap.pdu[1].name, "Start");
	/* class-specific 0x4c on class 0x8e instance 1, class 0x74 instance 1: "unlock cpu" */
	single(FIXTURE("cip_unlock_cpu"), CIP(0x4c), OTS_PDUF_CONFIG, 0x8e, 1);
	CU_ASSERT_PTR_NULL(cap.pdu[1].name);
}

/* OpenICS LockPLCAttempt: 0x4b (lock) and 0x4c (unlock) on 0x8e/0x74 are config changes, 0x4b on 0xac is not */
static void test_lock_plc(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("openics_eip_lockplc")), 0);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x4b), REQ, 0x8e), 3);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x4b), REQ, 0xac), 3);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x4c), REQ, 0x8e), 3);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x4b), RSP, 0x8e), 3);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x4b), RSP, 0xac), 3);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x4c), RSP, 0x8e), 3);
	CU_ASSERT_EQUAL(rec_count(0, 0x0070, REQ, REC_ANY_UNIT), 9);
	CU_ASSERT_EQUAL(rec_count(1, 0x0070, RSP, REC_ANY_UNIT), 9);
	CU_ASSERT_EQUAL(cap.npdu, 36);
	for (unsigned i = 0; i < cap.npdu; i++)
		if (cap.pdu[i].dir == 0 && cap.pdu[i].code >= CIP(0))
			CU_ASSERT_EQUAL(cap.pdu[i].flags, cap.pdu[i].unit == 0x8e ? OTS_PDUF_CONFIG : 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* ITI cip-multiple-1/-2: one Multiple Service Packet of 11 Get_Attribute_List and its reply */
static void test_multiple_service_packet(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("cip_multiple_1")), 0);
	static const struct rec_want q[] = {
		{ 0, 0x0070, REQ, 1 }, { 0, CIP(0x0a), REQ, 1 }, { 0, CIP(0x03), REQ, 11 },
	};
	rec_expect(q, NE(q));
	CU_ASSERT_EQUAL(rec_find(CIP(0x0a), 0)->quantity, 11);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x03), REQ, 0x01), 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x03), REQ, 0x8e), 1);
	CU_ASSERT_EQUAL(cap.nev, 0);
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("cip_multiple_2")), 0);
	static const struct rec_want r[] = {
		{ 1, 0x0070, RSP, 1 }, { 1, CIP(0x0a), RSP, 1 }, { 1, CIP(0x03), RSP, 11 },
	};
	rec_expect(r, NE(r));
	CU_ASSERT_EQUAL(rec_find(CIP(0x0a), 1)->quantity, 11);
	CU_ASSERT_EQUAL(rec_find(CIP(0x03), 1)->unit, 0); /* request not in this capture */
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void test_set_attribute_reply(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("cip_eth_set_2")), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	CU_ASSERT_EQUAL(cap.pdu[0].code, 0x006f);
	CU_ASSERT_EQUAL(cap.pdu[0].kind, RSP);
	CU_ASSERT_EQUAL(cap.pdu[1].code, CIP(0x10));
	CU_ASSERT_EQUAL(cap.pdu[1].kind, RSP);
	CU_ASSERT_EQUAL(cap.pdu[1].flags, OTS_PDUF_WRITE);
	CU_ASSERT_STRING_EQUAL(cap.pdu[1].name, "Set Attribute Single");
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void check_enbt(void)
{
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_VENDOR, "Rockwell Automation/Allen-Bradley"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_DEVICE_TYPE, "Communications Adapter"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_PRODUCT_CODE, "58"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_FIRMWARE, "4.3")); /* bytes 04 03 (tshark: raw 0x0403) */
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_SERIAL, "0x00524d8e"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_MODEL, "1756-ENBT/A"));
	CU_ASSERT_EQUAL(cap.nid, 6);
}

/* ITI enip_test: ListIdentity over TCP; the 1756-ENBT answers */
static void test_list_identity(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("enip_test")), 0);
	static const struct rec_want e[] = { { 0, 0x0063, REQ, 1 }, { 1, 0x0063, RSP, 1 } };
	rec_expect(e, NE(e));
	CU_ASSERT_EQUAL(cap.pdu[0].flags, OTS_PDUF_IDENTITY);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "List Identity");
	check_enbt();
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* the same ListIdentity exchange as UDP datagrams (broadcast discovery) */
static void test_list_identity_udp(void)
{
	static uint8_t req[64], rsp[256];
	size_t qn = rec_fixture_stream(FIXTURE("enip_test"), 0, req, sizeof(req));
	size_t rn = rec_fixture_stream(FIXTURE("enip_test"), 1, rsp, sizeof(rsp));
	CU_ASSERT_EQUAL_FATAL(qn, 24);
	fresh();
	CU_ASSERT_EQUAL(rec_parse(state, 0, 0, 17, req, qn), 0);
	CU_ASSERT_EQUAL(rec_parse(state, 1, 0, 17, rsp, rn), 0);
	static const struct rec_want e[] = { { 0, 0x0063, REQ, 1 }, { 1, 0x0063, RSP, 1 } };
	rec_expect(e, NE(e));
	check_enbt();
	/* a device answering from 44818 to a peer's 44818: the answer is told by its length, the sender is the client */
	fresh();
	CU_ASSERT_EQUAL(rec_parse(state, 0, 0, 17, rsp, rn), 0);
	CU_ASSERT_EQUAL(rec_count(0, 0x0063, RSP, REC_ANY_UNIT), 1);
	CU_ASSERT(rec_has_id(OTS_EP_CLIENT, OTS_ATTR_MODEL, "1756-ENBT/A"));
	/* a datagram shorter than its header says: event, nothing else */
	fresh();
	CU_ASSERT_EQUAL(rec_parse(state, 1, 0, 17, rsp, rn - 1), 0);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_ENCAP_MALFORMED], 1);
	/* three bad datagrams before any good one: not EtherNet/IP */
	static const uint8_t junk[30] = { 0xff, 0xfe, 0xfd };
	fresh();
	CU_ASSERT_EQUAL(rec_parse(state, 0, 0, 17, junk, sizeof(junk)), 0);
	CU_ASSERT_EQUAL(rec_parse(state, 0, 0, 17, junk, 10), 0);
	CU_ASSERT_EQUAL(rec_parse(state, 0, 0, 17, junk, sizeof(junk)), -1);
}

/* EmreEkin ENIP_CIP-CM: ListServices, RegisterSession, Forward Open to an Assembly */
static void test_forward_open(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("enip_cip_cm")), 0);
	static const struct rec_want e[] = {
		{ 0, 0x0004, REQ, 1 }, { 1, 0x0004, RSP, 1 }, { 0, 0x0065, REQ, 1 },   { 1, 0x0065, RSP, 1 },
		{ 0, 0x006f, REQ, 3 }, { 1, 0x006f, RSP, 1 }, { 0, CIP(0x54), REQ, 3 }, { 1, CIP(0x54), RSP, 1 },
	};
	rec_expect(e, NE(e));
	const struct ots_pdu *fo = rec_find(CIP(0x54), 1);
	CU_ASSERT_STRING_EQUAL(fo->name, "Forward Open");
	CU_ASSERT_EQUAL(fo->unit, 6);
	CU_ASSERT_EQUAL(rec_find(0x0065, 1)->address, 1); /* session handle */
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* OpenICS RebootorRestart (Send RR Data only): Get_Attribute_All of the Identity object inside Unconnected Send */
static void test_identity_object(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("openics_eip_rebootorrestart_sendrrdata")), 0);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x52), REQ, 6), 21);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x01), REQ, 1), 8);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x01), RSP, 1), 8);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x4e), REQ, 6), 4);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x54), REQ, 6), 5);
	CU_ASSERT_STRING_EQUAL(rec_find(CIP(0x4e), 0)->name, "Forward Close");
	CU_ASSERT_STRING_EQUAL(rec_find(CIP(0x4e), 1)->name, "Forward Close");
	CU_ASSERT_EQUAL(rec_find(CIP(0x01), 0)->flags, OTS_PDUF_IDENTITY);
	CU_ASSERT_EQUAL(rec_find(CIP(0x01), 1)->flags, OTS_PDUF_IDENTITY);
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_VENDOR, "Rockwell Automation/Allen-Bradley"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_DEVICE_TYPE, "Programmable Logic Controller"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_PRODUCT_CODE, "54"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_FIRMWARE, "16.20"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_SERIAL, "0x0051823f"));
	CU_ASSERT(rec_has_id(OTS_EP_SERVER, OTS_ATTR_MODEL, "1756-L61/B LOGIX5561"));
	CU_ASSERT_EQUAL(cap.nid, 6 * 8);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* FactoryTalk HMI: Multiple Service Packets of class-specific 0x4e on class 0xb2 (not a tag write) */
static void test_msp_class_specific(void)
{
	rec_reset();
	CU_ASSERT_EQUAL(rec_run_fixture(FIXTURE("factorytalk_hmi_msp")), 0);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x4e), REQ, 0xb2), 44);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x4e), RSP, 0xb2), 44);
	for (unsigned i = 0; i < cap.npdu; i++)
		if (cap.pdu[i].code == CIP(0x4e)) {
			CU_ASSERT_EQUAL(cap.pdu[i].flags, 0);
			CU_ASSERT_PTR_NULL(cap.pdu[i].name);
		}
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x0a), REQ, 2), 3);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x0a), RSP, 2), 3);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* ---- synthetic ---- */

static size_t put_encap(uint8_t *o, uint16_t cmd, uint32_t session, const uint8_t *body, size_t bn)
{
	memset(o, 0, 24);
	o[0] = (uint8_t)cmd;
	o[1] = (uint8_t)(cmd >> 8);
	o[2] = (uint8_t)bn;
	o[3] = (uint8_t)(bn >> 8);
	o[4] = (uint8_t)session;
	o[5] = (uint8_t)(session >> 8);
	memcpy(o + 12, "otsense!", 8); /* sender context */
	memcpy(o + 24, body, bn);
	return 24 + bn;
}

/* Send RR Data: interface handle, timeout, 2 items: null address, unconnected data = cip */
static size_t put_rr(uint8_t *o, const uint8_t *cip, size_t n)
{
	uint8_t body[4096];
	memset(body, 0, 16);
	body[6] = 2;         /* item count */
	body[12] = 0xb2;     /* unconnected data item */
	body[14] = (uint8_t)n;
	body[15] = (uint8_t)(n >> 8);
	memcpy(body + 16, cip, n);
	return put_encap(o, 0x006f, 0x1234, body, 16 + n);
}

static const uint8_t cip_stop[] = { 0x07, 0x02, 0x20, 0x8e, 0x24, 0x01 };
static const uint8_t cip_gaa_id[] = { 0x01, 0x02, 0x20, 0x01, 0x24, 0x01 };

static void test_split_every_byte(void)
{
	static uint8_t s[65536];
	for (int dir = 0; dir < 2; dir++) {
		size_t n = rec_fixture_stream(FIXTURE("factorytalk_hmi_msp"), dir, s, sizeof(s));
		CU_ASSERT_FATAL(n > 0);
		fresh();
		rec_feed(state, dir, 0, s, n);
		unsigned ref = cap.npdu;
		static uint32_t codes[REC_MAX_PDUS];
		for (unsigned i = 0; i < ref; i++)
			codes[i] = cap.pdu[i].code;
		CU_ASSERT(ref > 20);
		CU_ASSERT_EQUAL(cap.nev, 0);
		unsigned bad = 0;
		for (size_t k = 1; k < n; k++) {
			fresh();
			rec_feed(state, dir, 0, s, k);
			rec_feed(state, dir, 0, s + k, n - k);
			int ok = cap.npdu == ref && cap.nev == 0;
			for (unsigned i = 0; ok && i < ref; i++)
				ok = cap.pdu[i].code == codes[i];
			bad += !ok;
		}
		CU_ASSERT_EQUAL(bad, 0);
		fresh();
		for (size_t k = 0; k < n; k++)
			rec_feed(state, dir, 0, s + k, 1);
		CU_ASSERT_EQUAL(cap.npdu, ref);
		CU_ASSERT_EQUAL(cap.nev, 0);
	}
}

static void test_two_pdus_one_segment(void)
{
	uint8_t b[256];
	size_t n = put_rr(b, cip_stop, sizeof(cip_stop));
	n += put_rr(b + n, cip_gaa_id, sizeof(cip_gaa_id));
	fresh();
	CU_ASSERT_EQUAL(rec_feed(state, 0, 0, b, n), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 4);
	CU_ASSERT_EQUAL(cap.pdu[1].code, CIP(0x07));
	CU_ASSERT_EQUAL(cap.pdu[1].flags, OTS_PDUF_CONTROL);
	CU_ASSERT_EQUAL(cap.pdu[3].code, CIP(0x01));
	CU_ASSERT_EQUAL(cap.pdu[3].flags, OTS_PDUF_IDENTITY);
	CU_ASSERT_EQUAL(cap.pdu[0].address, 0x1234);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

static void test_truncated_and_wrong_lengths(void)
{
	uint8_t b[512];
	/* stream ending inside a PDU: nothing */
	size_t n = put_rr(b, cip_stop, sizeof(cip_stop));
	fresh();
	rec_feed(state, 0, 0, b, n - 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* CPF item longer than the PDU */
	n = put_rr(b, cip_stop, sizeof(cip_stop));
	b[24 + 14] = 0x40;
	fresh();
	rec_feed(state, 0, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_CPF_MALFORMED], 1);
	/* request path longer than the message */
	static const uint8_t badpath[] = { 0x07, 0x05, 0x20, 0x8e, 0x24, 0x01 };
	n = put_rr(b, badpath, sizeof(badpath));
	fresh();
	rec_feed(state, 0, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_EPATH_MALFORMED], 1);
	/* reply shorter than its header */
	static const uint8_t shortrep[] = { 0x87, 0x00, 0x00 };
	n = put_rr(b, shortrep, sizeof(shortrep));
	fresh();
	rec_feed(state, 1, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_CIP_MALFORMED], 1);
	/* Multiple Service Packet with an offset past the end: the packet counts, the bad entry is an event */
	static const uint8_t msp[] = { 0x0a, 0x02, 0x20, 0x02, 0x24, 0x01, 0x02, 0x00, 0x06, 0x00,
				       0x40, 0x00, 0x07, 0x02, 0x20, 0x8e, 0x24, 0x01 };
	n = put_rr(b, msp, sizeof(msp));
	fresh();
	rec_feed(state, 0, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_MSP_MALFORMED], 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x0a), REQ, 2), 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x07), REQ, 0x8e), 1);
	/* Unconnected Send whose embedded size runs past the data */
	static const uint8_t ucs[] = { 0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x0a, 0xf0, 0x40, 0x00, 0x07, 0x02 };
	n = put_rr(b, ucs, sizeof(ucs));
	fresh();
	rec_feed(state, 0, 0, b, n);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_UCS_MALFORMED], 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x52), REQ, 6), 1);
	/* Send RR Data too short for interface handle + timeout + item count */
	static const uint8_t tiny[4] = { 0 };
	n = put_encap(b, 0x006f, 1, tiny, sizeof(tiny));
	fresh();
	rec_feed(state, 0, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_ENCAP_MALFORMED], 1);
	/* ListIdentity answer whose identity item is cut */
	static const uint8_t li[] = { 0x01, 0x00, 0x0c, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x02, 0xaf, 0x12, 0x0a,
				      0x01, 0x01, 0xa4, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00 };
	n = put_encap(b, 0x0063, 0, li, sizeof(li));
	fresh();
	rec_feed(state, 1, 0, b, n);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_IDENTITY_MALFORMED], 1);
	CU_ASSERT_EQUAL(cap.nid, 0);
	/* Multiple Service Packet error reply without data: counted, no event */
	static const uint8_t msperr[] = { 0x8a, 0x00, 0x08, 0x00 };
	n = put_rr(b, msperr, sizeof(msperr));
	fresh();
	rec_feed(state, 1, 0, b, n);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x0a), EXC, REC_ANY_UNIT), 1);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* error status in a reply: exception; general status 0x06 (partial transfer) is not */
	static const uint8_t err[] = { 0xcc, 0x00, 0x05, 0x00 }, part[] = { 0xd2, 0x00, 0x06, 0x00, 0x01 };
	n = put_rr(b, err, sizeof(err));
	n += put_rr(b + n, part, sizeof(part));
	fresh();
	rec_feed(state, 1, 0, b, n);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x4c), EXC, REC_ANY_UNIT), 1);
	CU_ASSERT_EQUAL(rec_count(1, CIP(0x52), RSP, REC_ANY_UNIT), 1);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* Multiple Service Packets nested deeper than OTS_ENIP_MAX_DEPTH: an event, no recursion beyond */
static void test_nesting(void)
{
	uint8_t cip[256], tmp[256];
	size_t n = sizeof(cip_stop);
	memcpy(cip, cip_stop, n);
	for (int level = 0; level < OTS_ENIP_MAX_DEPTH + 2; level++) {
		static const uint8_t head[] = { 0x0a, 0x02, 0x20, 0x02, 0x24, 0x01, 0x01, 0x00, 0x04, 0x00 };
		memcpy(tmp, head, sizeof(head));
		memcpy(tmp + sizeof(head), cip, n);
		n += sizeof(head);
		memcpy(cip, tmp, n);
	}
	uint8_t b[512];
	size_t bn = put_rr(b, cip, n);
	fresh();
	rec_feed(state, 0, 0, b, bn);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_NESTING], 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x0a), REQ, 2), OTS_ENIP_MAX_DEPTH + 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x07), REQ, REC_ANY_UNIT), 0);
}

static void test_midstream_gap_oversize(void)
{
	uint8_t b[512];
	size_t n1 = put_rr(b, cip_stop, sizeof(cip_stop));
	size_t n2 = put_rr(b + n1, cip_gaa_id, sizeof(cip_gaa_id));
	/* pick-up inside the first PDU: quietly skipped, the second found */
	for (size_t off = 1; off < n1; off++) {
		fresh();
		rec_feed(state, 0, OTS_REASM_F_MIDSTREAM, b + off, n1 + n2 - off);
		CU_ASSERT_EQUAL(cap.nev, 0);
		CU_ASSERT_EQUAL(rec_count(0, CIP(0x01), REQ, 1), 1);
		CU_ASSERT_EQUAL(rec_count(0, CIP(0x07), REQ, REC_ANY_UNIT), 0);
	}
	/* gap: one resync event, the next PDU after junk is found */
	fresh();
	rec_feed(state, 0, 0, b, 30);
	CU_ASSERT_EQUAL(rec_gap(state, 0, 100), 0);
	uint8_t j[3 + 64] = { 0x70, 0x00, 0xff };
	memcpy(j + 3, b + n1, n2);
	rec_feed(state, 0, 0, j, 3 + n2);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x01), REQ, 1), 1);
	/* a PDU longer than the cap: skipped with an event, the next one parsed */
	static uint8_t big[3000 + 64];
	static uint8_t body[3000];
	memset(body, 0, sizeof(body));
	size_t bn = put_encap(big, 0x0070, 7, body, sizeof(body) - 24);
	memcpy(big + bn, b + n1, n2);
	fresh();
	rec_feed(state, 0, 0, big, 700);
	rec_feed(state, 0, 0, big + 700, bn + n2 - 700);
	CU_ASSERT_EQUAL(cap.ev[ENIP_EV_OVERSIZE], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL(rec_count(0, CIP(0x01), REQ, 1), 1);
	CU_ASSERT_EQUAL(rec_count(0, 0x0070, REQ, REC_ANY_UNIT), 0);
}

static void test_garbage_rejected(void)
{
	static uint8_t b[OTS_ENIP_REJECT_BYTES];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = 0x47; /* 'G': command 0x4747 is never accepted */
	fresh();
	CU_ASSERT_EQUAL(rec_feed(state, 0, 0, b, 5000), 0);
	CU_ASSERT_EQUAL(rec_feed(state, 1, 0, b, sizeof(b) - 5000), -1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
}

static void test_probe_and_contract(void)
{
	CU_ASSERT(ots_parser_enip.state_size <= OTS_APP_STATE_MAX);
	CU_ASSERT_EQUAL(ots_parser_enip.nevents, ENIP_EV_MAX);
	for (unsigned i = 0; i < ots_parser_enip.nevents; i++)
		CU_ASSERT_PTR_NOT_NULL(ots_parser_enip.events[i]);
	CU_ASSERT_PTR_EQUAL(ots_protocols[OTS_APP_ENIP].parser, &ots_parser_enip);
	CU_ASSERT_PTR_NULL(ots_protocols[OTS_APP_ENIP_IO].parser); /* UDP 2222: classified by port only */
	uint8_t b[128];
	size_t n = put_rr(b, cip_stop, sizeof(cip_stop));
	CU_ASSERT_EQUAL(ots_parser_enip.probe(b, n, 0), 1);
	CU_ASSERT_EQUAL(ots_parser_enip.probe(b, 10, 0), -1);
	b[20] = 1; /* options must be 0 */
	CU_ASSERT_EQUAL(ots_parser_enip.probe(b, n, 0), 0);
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: plc\r\n\r\n";
	CU_ASSERT_EQUAL(ots_parser_enip.probe(http, sizeof(http) - 1, 0), 0);
}

static const struct ots_test real_tests[] = {
	{ "ndpi ethernetIP: counts = oracle", test_ndpi_ethernetip },
	{ "CIP stop / start / unlock", test_stop_start_unlock },
	{ "OpenICS lock PLC", test_lock_plc },
	{ "Multiple Service Packet request/reply", test_multiple_service_packet },
	{ "Set Attribute Single reply", test_set_attribute_reply },
	{ "ListIdentity identity", test_list_identity },
	{ "ListIdentity over UDP", test_list_identity_udp },
	{ "ListServices/RegisterSession/Forward Open", test_forward_open },
	{ "Identity object Get_Attribute_All", test_identity_object },
	{ "MSP class-specific 0x4e", test_msp_class_specific },
	{ NULL, NULL },
};

static const struct ots_test bad_tests[] = {
	{ "split at every byte boundary", test_split_every_byte },
	{ "two PDUs in one segment", test_two_pdus_one_segment },
	{ "truncated and wrong lengths", test_truncated_and_wrong_lengths },
	{ "nesting too deep", test_nesting },
	{ "mid-stream, gap, oversize", test_midstream_gap_oversize },
	{ "garbage rejected", test_garbage_rejected },
	{ "probe and contract", test_probe_and_contract },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "enip real captures", real_tests, NULL, NULL },
	{ "enip bad input", bad_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_enip", suites);
}
