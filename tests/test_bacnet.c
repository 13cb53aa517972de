/* tests/test_bacnet.c - unit tests for protocols/bacnet.c (BACnet/IP: BVLC, NPDU, APDU, identities).
 *
 * Real datagrams come from tests/data/proto/bacnet/<name>.hex, cut from the shared captures with tshark (see the
 * README there: capture and frame numbers); synthetic datagrams are built byte by byte. Every test asserts the exact
 * PDUs, identities and protocol events reported through a test-side struct ots_app_ops.
 */
#include "protocols/bacnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/record.h"
#include "tests/harness.h"

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif

#define REC_PARSER ots_parser_bacnet
#define REC_PROTO OTS_APP_BACNET
#define REC_EV_MAX OTS_BACNET_EV_MAX
#include "tests/recorder.h"

static _Alignas(16) uint8_t state[OTS_APP_STATE_MAX]; /* the flow under test, zeroed per test by reset() */

static void reset(void)
{
	rec_reset();
	memset(state, 0, sizeof(state));
}

static int feed_tr(int dir, const uint8_t *p, size_t n, uint8_t transport)
{
	return rec_parse(state, dir, 0, transport, p, n);
}

static int feed(int dir, const uint8_t *p, size_t n)
{
	return feed_tr(dir, p, n, 17);
}

#define EXPECT_ID(i, ep_, kind_, conf_, v_)                                                                        \
	do {                                                                                                       \
		const struct rec_ident *i_ = (i);                                                                  \
		CU_ASSERT_EQUAL(i_->ep, (ep_));                                                                    \
		CU_ASSERT_EQUAL(i_->kind, (kind_));                                                                \
		CU_ASSERT_EQUAL(i_->conf, (conf_));                                                                \
		CU_ASSERT_STRING_EQUAL(i_->v, (v_));                                                               \
	} while (0)

/* ---- fixtures: tests/data/proto/bacnet/<name>.hex, "frame dir transport hex" lines ---- */

static int NR;

static int load(const char *name)
{
	NR = (int)rec_load(REC_DIR_TRANSPORT, "%s/proto/bacnet/%s.hex", OTS_TEST_DATA, name);
	return NR;
}

/* feeds the fixture; returns the index of the first PDU of each record in *first (-1: none) */
static void feed_fixture(const char *name, int *first)
{
	int n = load(name);
	reset();
	for (int i = 0; i < n; i++) {
		unsigned before = cap.npdu;
		CU_ASSERT_EQUAL(feed(rec_segs[i].dir, rec_segs[i].b, rec_segs[i].len), 0);
		if (first)
			first[i] = cap.npdu > before ? (int)before : -1;
	}
}

static int rec_of(int frame)
{
	for (int i = 0; i < NR; i++)
		if (rec_segs[i].frame == frame)
			return i;
	CU_FAIL("frame not in fixture");
	return 0;
}

/* ---- synthetic datagrams ---- */

/* BVLC original unicast (0x0a) around an NPDU with no addresses + apdu */
static size_t mkdg(uint8_t *out, uint8_t fn, const uint8_t *apdu, size_t n)
{
	out[0] = 0x81;
	out[1] = fn;
	out[2] = (uint8_t)((n + 6) >> 8);
	out[3] = (uint8_t)(n + 6);
	out[4] = 0x01;
	out[5] = 0x00;
	memcpy(out + 6, apdu, n);
	return n + 6;
}

/* ---- tests ---- */

static void test_parser_table(void)
{
	CU_ASSERT_PTR_NOT_NULL(ots_parser_bacnet.parse);
	CU_ASSERT_PTR_NOT_NULL(ots_parser_bacnet.probe);
	CU_ASSERT(ots_parser_bacnet.state_size > 0 && ots_parser_bacnet.state_size <= 64);
	CU_ASSERT_EQUAL(ots_parser_bacnet.nevents, OTS_BACNET_EV_MAX);
	for (unsigned i = 0; i < ots_parser_bacnet.nevents; i++) {
		CU_ASSERT_PTR_NOT_NULL(ots_parser_bacnet.events[i]);
		for (unsigned j = 0; j < i; j++)
			CU_ASSERT(strcmp(ots_parser_bacnet.events[i], ots_parser_bacnet.events[j]) != 0);
	}
	CU_ASSERT_STRING_EQUAL(ots_parser_bacnet.events[OTS_BACNET_EV_MALFORMED_APDU], "malformed_apdu");
}

static void test_vendor_table(void)
{
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(0), "ASHRAE");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(2), "The Trane Company");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(5), "Johnson Controls, Inc.");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(7),
			       "Siemens Schweiz AG (Formerly: Landis & Staefa Division Europe)");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(8), "Delta Controls");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(10), "Schneider Electric");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(17), "Honeywell Inc.");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(24), "Automated Logic Corporation");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(36), "Tridium Inc.");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(42), "Acuity Brands Lighting, Inc.");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(260), "BACnet Stack at SourceForge");
	CU_ASSERT_STRING_EQUAL(ots_bacnet_vendor_name(562), "Crestron Electronics, Inc.");
	CU_ASSERT_PTR_NULL(ots_bacnet_vendor_name(100));
	CU_ASSERT_PTR_NULL(ots_bacnet_vendor_name(9999));
	CU_ASSERT_PTR_NULL(ots_bacnet_vendor_name(UINT32_MAX));
}

static void test_probe(void)
{
	load("bacnet_test");
	CU_ASSERT_EQUAL(ots_parser_bacnet.probe(rec_segs[0].b, rec_segs[0].len, 0), 1);
	CU_ASSERT_EQUAL(ots_parser_bacnet.probe(rec_segs[0].b, rec_segs[0].len - 1, 0), 0);
	CU_ASSERT_EQUAL(ots_parser_bacnet.probe(rec_segs[0].b, 3, 0), -1);
	CU_ASSERT_EQUAL(ots_parser_bacnet.probe(rec_segs[0].b, 0, 0), -1);
	CU_ASSERT_EQUAL(ots_parser_bacnet.probe((const uint8_t *)"\x81\x0d\x00\x04", 4, 0), 0);
	CU_ASSERT_EQUAL(ots_parser_bacnet.probe((const uint8_t *)"\x80\x0a\x00\x04", 4, 0), 0);
}

/* ITI BACnet/bacnet_test: readProperty of the device object (wildcard instance) and its properties, then BVLC
 * Read-BDT and Register-Foreign-Device, both NAKed by BVLC-Result */
static void test_device_properties(void)
{
	int first[REC_MAX_SEGS];
	feed_fixture("bacnet_test", first);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 22);
	for (int i = 0; i < 18; i++) {
		const struct ots_pdu *p = &cap.pdu[first[i]];
		if (rec_segs[i].dir == 0) {
			EXPECT_PDU(p, 0, OTS_PDU_REQUEST, 12, 0, 0x023fffff, 0, OTS_PDUF_READ);
			CU_ASSERT_STRING_EQUAL(p->name, "readProperty");
		} else {
			EXPECT_PDU(p, 1, OTS_PDU_RESPONSE, 12, 0, 0x023fffff, 0, 0);
		}
	}
	EXPECT_PDU(&cap.pdu[first[rec_of(21)]], 0, OTS_PDU_OTHER, 0x402, 0, 0, 0, 0);
	CU_ASSERT_STRING_EQUAL(cap.pdu[first[rec_of(21)]].name, "Read-Broadcast-Distribution-Table");
	EXPECT_PDU(&cap.pdu[first[rec_of(22)]], 1, OTS_PDU_EXCEPTION, 0x400, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(25)]], 0, OTS_PDU_OTHER, 0x405, 0, 0, 0, OTS_PDUF_CONFIG);
	EXPECT_PDU(&cap.pdu[first[rec_of(26)]], 1, OTS_PDU_EXCEPTION, 0x400, 0, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 4); /* application-software-version, description, location: empty */
	EXPECT_ID(&cap.id[0], OTS_EP_SERVER, OTS_ATTR_VENDOR, 95, "JCI");
	EXPECT_ID(&cap.id[1], OTS_EP_SERVER, OTS_ATTR_FIRMWARE, 95, "5.1.0.4400");
	EXPECT_ID(&cap.id[2], OTS_EP_SERVER, OTS_ATTR_NAME, 95, "KBRNAE");
	EXPECT_ID(&cap.id[3], OTS_EP_SERVER, OTS_ATTR_MODEL, 95, "MS-NAE4510-2");
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* ct-samples bacnet-ip: I-Am (vendor 42) and readProperty acks of device 111 (UTF-8 strings) */
static void test_iam_and_properties(void)
{
	int first[REC_MAX_SEGS];
	feed_fixture("bacnet_ip_dev", first);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 15);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_RESPONSE, 0x100, 111, 0x0200006f, 0, OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "i-Am");
	EXPECT_PDU(&cap.pdu[first[rec_of(9)]], 1, OTS_PDU_REQUEST, 12, 111, 0x0200006f, 0, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[first[rec_of(10)]], 0, OTS_PDU_RESPONSE, 12, 111, 0x0200006f, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(38)]], 0, OTS_PDU_EXCEPTION, 12, 0, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 6);
	EXPECT_ID(&cap.id[0], OTS_EP_CLIENT, OTS_ATTR_VENDOR, 90, "Acuity Brands Lighting, Inc.");
	EXPECT_ID(&cap.id[1], OTS_EP_CLIENT, OTS_ATTR_NAME, 95, "SimpleServer");
	EXPECT_ID(&cap.id[2], OTS_EP_CLIENT, OTS_ATTR_VENDOR, 95, "Lithonia Lighting");
	EXPECT_ID(&cap.id[3], OTS_EP_CLIENT, OTS_ATTR_MODEL, 95, "Simple BACnet Server");
	EXPECT_ID(&cap.id[4], OTS_EP_CLIENT, OTS_ATTR_FIRMWARE, 95, "1.00");
	EXPECT_ID(&cap.id[5], OTS_EP_CLIENT, OTS_ATTR_DESCRIPTION, 95, "none"); /* application-software-version */
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* nDPI bacnet: scanners' readProperty, broadcast who-Is / i-Am / Error, network layer messages */
static void test_ndpi(void)
{
	int first[REC_MAX_SEGS];
	feed_fixture("ndpi_bacnet", first);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 23);
	for (int i = 0; i < 9; i++)
		EXPECT_PDU(&cap.pdu[i], 0, OTS_PDU_REQUEST, 12, 0, 0x023fffff, 0, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[first[rec_of(10)]], 1, OTS_PDU_REQUEST, 0x108, 0, 0, 0,
		   OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	CU_ASSERT_STRING_EQUAL(cap.pdu[first[rec_of(10)]].name, "who-Is");
	EXPECT_PDU(&cap.pdu[first[rec_of(11)]], 1, OTS_PDU_RESPONSE, 0x100, 0, 0x02000000, 0,
		   OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(17)]], 1, OTS_PDU_RESPONSE, 0x100, 4194303, 0x023fffff, 0,
		   OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(18)]], 1, OTS_PDU_EXCEPTION, 12, 0, 0, 0, OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(19)]], 1, OTS_PDU_REQUEST, 0x108, 0, 0, 0,
		   OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(22)]], 1, OTS_PDU_OTHER, 0x301, 0, 0, 0, OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(23)]], 1, OTS_PDU_OTHER, 0x313, 0, 0, 0, OTS_PDUF_BROADCAST);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 5);
	for (int i = 0; i < 5; i++)
		EXPECT_ID(&cap.id[i], OTS_EP_SERVER, OTS_ATTR_VENDOR, 90, "BACnet Stack at SourceForge");
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* ct-samples bacnet-stack-services: the BACnet stack's demo tools through a router (SNET 13) */
static void test_services(void)
{
	int first[REC_MAX_SEGS];
	feed_fixture("stack_services", first);
	CU_ASSERT_EQUAL(first[rec_of(1)], -1); /* NPDU version 0x10 */
	CU_ASSERT_EQUAL(first[rec_of(77)], -1); /* NPDU without APDU */
	CU_ASSERT_EQUAL(cap.ev[OTS_BACNET_EV_BAD_NPDU_VERSION], 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_BACNET_EV_MALFORMED_APDU], 1);
	CU_ASSERT_EQUAL(cap.nev, 2);
	CU_ASSERT_EQUAL(cap.nid, 0); /* the only I-Am with a vendor is routed: not the IP sender's identity */
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 23);
	EXPECT_PDU(&cap.pdu[first[rec_of(4)]], 1, OTS_PDU_RESPONSE, 0x101, 61, 0x0200003d, 0, OTS_PDUF_IDENTITY);
	EXPECT_PDU(&cap.pdu[first[rec_of(8)]], 0, OTS_PDU_REQUEST, 0x106, 0, 0, 0,
		   OTS_PDUF_CONFIG | OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(13)]], 1, OTS_PDU_RESPONSE, 0x100, 61, 0x0200003d, 0,
		   OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(14)]], 0, OTS_PDU_REQUEST, 7, 0, 0x02800000, 0,
		   OTS_PDUF_WRITE | OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[first[rec_of(15)]], 1, OTS_PDU_RESPONSE, 7, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(34)]], 0, OTS_PDU_REQUEST, 20, 0, 0, 0, OTS_PDUF_CONTROL);
	CU_ASSERT_STRING_EQUAL(cap.pdu[first[rec_of(34)]].name, "reinitializeDevice");
	CU_ASSERT_EQUAL(cap.pdu[first[rec_of(34)]].sub, 0); /* coldstart */
	CU_ASSERT_EQUAL(cap.pdu[first[rec_of(35)]].sub, OTS_BACNET_SUB_NONE); /* its Error: no state */
	CU_ASSERT_EQUAL(cap.pdu[first[rec_of(66)]].sub, 0); /* DCC enable (password 'filister') */
	CU_ASSERT_EQUAL(cap.pdu[first[rec_of(76)]].sub, 1); /* DCC disable */
	CU_ASSERT_EQUAL(cap.pdu[first[rec_of(67)]].sub, OTS_BACNET_SUB_NONE);
	CU_ASSERT_EQUAL(cap.pdu[first[rec_of(8)]].sub, 0);  /* other services: 0 */
	EXPECT_PDU(&cap.pdu[first[rec_of(35)]], 1, OTS_PDU_EXCEPTION, 20, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(40)]], 0, OTS_PDU_REQUEST, 12, 61, 0x0200003d, 0, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[first[rec_of(41)]], 1, OTS_PDU_EXCEPTION, 12, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(53)]], 1, OTS_PDU_RESPONSE, 12, 0, 0x00400065, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(54)]], 0, OTS_PDU_UNSOLICITED, 0x102, 0, 0, 0, OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(60)]], 0, OTS_PDU_REQUEST, 15, 0, 0x00400000, 0, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[first[rec_of(61)]], 1, OTS_PDU_EXCEPTION, 15, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(66)]], 0, OTS_PDU_REQUEST, 17, 0, 0, 0, OTS_PDUF_CONTROL);
	CU_ASSERT_STRING_EQUAL(cap.pdu[first[rec_of(66)]].name, "deviceCommunicationControl");
	EXPECT_PDU(&cap.pdu[first[rec_of(67)]], 1, OTS_PDU_RESPONSE, 17, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(76)]], 1, OTS_PDU_REQUEST, 17, 0, 0, 0, OTS_PDUF_CONTROL);
	EXPECT_PDU(&cap.pdu[first[rec_of(87)]], 0, OTS_PDU_EXCEPTION, 17, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(89)]], 0, OTS_PDU_RESPONSE, 17, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(96)]], 0, OTS_PDU_RESPONSE, 0x101, 123, 0x0200007b, 0,
		   OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	EXPECT_PDU(&cap.pdu[first[rec_of(103)]], 0, OTS_PDU_RESPONSE, 6, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[first[rec_of(111)]], 0, OTS_PDU_EXCEPTION, 0x206, 0, 0, 0, 0);
	CU_ASSERT_STRING_EQUAL(cap.pdu[first[rec_of(111)]].name, "Reject");
	EXPECT_PDU(&cap.pdu[first[rec_of(112)]], 1, OTS_PDU_REQUEST, 14, 0, 0, 0, OTS_PDUF_READ);
}

/* automayt BACnetL_SchedRPM: readPropertyMultiple of schedule 88 and its ack (not a device: no identity) */
static void test_rpm_schedule(void)
{
	feed_fixture("sched_rpm", NULL);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 14, 0, 0x04400058, 0, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 14, 0, 0x04400058, 0, 0);
	CU_ASSERT_EQUAL(cap.nid, 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* RPM ack of device 1234: character sets, an error entry, array index, other objects in between */
static void test_rpm_device_charsets(void)
{
	static const uint8_t apdu[] = {
		0x30, 0x07, 0x0e,                               /* Complex-ACK, invoke 7, readPropertyMultiple */
		0x0c, 0x00, 0x00, 0x00, 0x05,                   /* [0] analog-input 5 */
		0x1e,                                           /* [1] { */
		0x29, 0x4d, 0x4e, 0x75, 0x04, 0x00, 'A', 'I', '5', 0x4f, /* object-name (not a device) */
		0x1f,                                           /* } */
		0x0c, 0x02, 0x00, 0x04, 0xd2,                   /* [0] device 1234 */
		0x1e,
		0x29, 0x79, 0x4e, 0x75, 0x0a, 0x00, 'M', 0xc3, 0xbc, 'l', 'l', 'e', 'r', ' ', ' ', 0x4f, /* vendor UTF-8 */
		0x29, 0x46, 0x4e, 0x75, 0x05, 0x05, 'C', 'a', 'f', 0xe9, 0x4f, /* model ISO 8859-1 */
		0x29, 0x4d, 0x4e, 0x75, 0x07, 0x04, 0x00, 'N', 0x00, 'A', 0x00, 'E', 0x4f, /* object-name UCS-2 */
		0x29, 0x2c, 0x4e, 0x75, 0x09, 0x03, 0, 0, 0, '2', 0, 0, 0, '.', 0x4f, /* firmware UCS-4 "2." */
		0x29, 0x0c, 0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, /* application-software-version: error */
		0x29, 0x4b, 0x39, 0x01, 0x4e, 0xc4, 0x02, 0x00, 0x04, 0xd2, 0x4f, /* object-list[1] */
		0x29, 0x1c, 0x4e, 0x75, 0x04, 0x01, 0x00, 0x00, 'x', 0x4f, /* description DBCS: never reported */
		0x1f,
	};
	uint8_t dg[256];
	size_t n = mkdg(dg, 0x0a, apdu, sizeof(apdu));
	reset();
	CU_ASSERT_EQUAL(feed(1, dg, n), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 14, 0, 0x00000005, 0, 0); /* first object: analog-input 5 */
	CU_ASSERT_EQUAL(cap.nev, 0);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 4);
	EXPECT_ID(&cap.id[0], OTS_EP_SERVER, OTS_ATTR_VENDOR, 95, "M\xc3\xbcller");
	EXPECT_ID(&cap.id[1], OTS_EP_SERVER, OTS_ATTR_MODEL, 95, "Caf\xc3\xa9");
	EXPECT_ID(&cap.id[2], OTS_EP_SERVER, OTS_ATTR_NAME, 95, "NAE");
	EXPECT_ID(&cap.id[3], OTS_EP_SERVER, OTS_ATTR_FIRMWARE, 95, "2.");

	/* a broken RPM ack: event, nothing reported after the break */
	uint8_t bad[sizeof(apdu)];
	memcpy(bad, apdu, sizeof(apdu));
	bad[8] = 0x2e; /* [1] opening replaced by [2] opening */
	n = mkdg(dg, 0x0a, bad, sizeof(bad));
	reset();
	CU_ASSERT_EQUAL(feed(1, dg, n), 0);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.nid, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_BACNET_EV_MALFORMED_SERVICE], 1);
	/* truncated in the middle of the device entry */
	n = mkdg(dg, 0x0a, apdu, 44); /* inside the model-name entry */
	reset();
	CU_ASSERT_EQUAL(feed(1, dg, n), 0);
	CU_ASSERT_EQUAL(cap.nid, 1); /* the vendor before the cut */
	CU_ASSERT_EQUAL(cap.ev[OTS_BACNET_EV_MALFORMED_SERVICE], 1);
}

/* string conversion details through readProperty acks of a device's object-name */
static void rp_name(const uint8_t *val, size_t vlen, const char *expect)
{
	uint8_t apdu[200], dg[256];
	size_t a = 0;
	static const uint8_t hdr[] = { 0x30, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x07, 0x19, 0x4d, 0x3e };
	memcpy(apdu, hdr, sizeof(hdr));
	a = sizeof(hdr);
	if (vlen < 5) {
		apdu[a++] = (uint8_t)(0x70 | vlen);
	} else {
		apdu[a++] = 0x75;
		apdu[a++] = (uint8_t)vlen;
	}
	memcpy(apdu + a, val, vlen);
	a += vlen;
	apdu[a++] = 0x3f;
	size_t n = mkdg(dg, 0x0a, apdu, a);
	reset();
	CU_ASSERT_EQUAL(feed(1, dg, n), 0);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	CU_ASSERT_EQUAL(cap.nev, 0);
	if (!expect) {
		CU_ASSERT_EQUAL(cap.nid, 0);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(cap.nid, 1);
	EXPECT_ID(&cap.id[0], OTS_EP_SERVER, OTS_ATTR_NAME, 95, expect);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 12, 7, 0x02000007, 0, 0);
}

static void test_strings(void)
{
	rp_name((const uint8_t *)"\x00" "AHU-1", 6, "AHU-1");
	rp_name((const uint8_t *)"\x00" "a\x01" "b\xff" "c", 6, "a?b?c");            /* control, invalid byte */
	rp_name((const uint8_t *)"\x00" "ab\xe2\x82", 5, "ab??");                   /* cut UTF-8 sequence */
	rp_name((const uint8_t *)"\x00" "\xf0\x9f\x98\x80!", 6, "\xf0\x9f\x98\x80!"); /* 4-byte UTF-8 */
	rp_name((const uint8_t *)"\x00" "\xc0\x80", 3, "??");                       /* overlong NUL */
	rp_name((const uint8_t *)"\x00" "x\0\0", 4, "x");                           /* NUL padding */
	rp_name((const uint8_t *)"\x04" "\xd8\x00\x00z", 5, "\xef\xbf\xbdz");         /* UCS-2 surrogate */
	rp_name((const uint8_t *)"\x03" "\x00\x11\x00\x00", 5, "\xef\xbf\xbd");       /* UCS-4 > 0x10ffff */
	rp_name((const uint8_t *)"\x00", 1, NULL);                                  /* empty */
	rp_name((const uint8_t *)"\x00   ", 4, NULL);                               /* only spaces */
	rp_name((const uint8_t *)"\x02" "abc", 4, NULL);                            /* JIS X 0208 */
	/* longer than the identity field: cut at 63 bytes, never inside a UTF-8 sequence */
	uint8_t v[120];
	v[0] = 0;
	for (int i = 0; i < 40; i++) {
		v[1 + 2 * i] = 0xc3;
		v[2 + 2 * i] = 0xa9;
	}
	char expect[64];
	for (int i = 0; i < 31; i++)
		memcpy(expect + 2 * i, "\xc3\xa9", 2);
	expect[62] = 0;
	rp_name(v, 81, expect);
}

static void test_iam_vendor_ids(void)
{
	/* I-Am device 77, max APDU 1476, segmentation both (0), vendor 5 */
	static const uint8_t iam5[] = { 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x4d, 0x22, 0x05, 0xc4, 0x91, 0x00, 0x21,
					0x05 };
	/* vendor 9999 (2 bytes), not in the table */
	static const uint8_t iam9999[] = { 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x4d, 0x22, 0x05, 0xc4, 0x91, 0x00,
					   0x22, 0x27, 0x0f };
	uint8_t dg[64];
	size_t n;
	reset();
	n = mkdg(dg, 0x0b, iam5, sizeof(iam5));
	CU_ASSERT_EQUAL(feed(0, dg, n), 0);
	n = mkdg(dg, 0x0b, iam9999, sizeof(iam9999));
	CU_ASSERT_EQUAL(feed(1, dg, n), 0);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 2);
	EXPECT_ID(&cap.id[0], OTS_EP_CLIENT, OTS_ATTR_VENDOR, 90, "Johnson Controls, Inc.");
	EXPECT_ID(&cap.id[1], OTS_EP_SERVER, OTS_ATTR_VENDOR, 90, "vendor-id 9999");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_RESPONSE, 0x100, 77, 0x0200004d, 0, OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	CU_ASSERT_EQUAL(cap.nev, 0);

	/* Forwarded-NPDU (from a BBMD) and a routed I-Am (SNET): PDU yes, identity of the IP sender no */
	uint8_t fw[64] = { 0x81, 0x04, 0x00, 0x00, 192, 168, 1, 9, 0xba, 0xc0, 0x01, 0x00 };
	memcpy(fw + 12, iam5, sizeof(iam5));
	fw[3] = (uint8_t)(12 + sizeof(iam5));
	uint8_t rt[64] = { 0x81, 0x0b, 0x00, 0x00, 0x01, 0x08, 0x00, 0x05, 0x01, 0x22 };
	memcpy(rt + 10, iam5, sizeof(iam5));
	rt[3] = (uint8_t)(10 + sizeof(iam5));
	reset();
	CU_ASSERT_EQUAL(feed(0, fw, fw[3]), 0);
	CU_ASSERT_EQUAL(feed(0, rt, rt[3]), 0);
	CU_ASSERT_EQUAL(cap.nid, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_RESPONSE, 0x100, 77, 0x0200004d, 0, OTS_PDUF_IDENTITY);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_RESPONSE, 0x100, 77, 0x0200004d, 0, OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	CU_ASSERT_EQUAL(cap.nev, 0);

	/* broken I-Am: wrong tag order, short object id */
	static const uint8_t bad1[] = { 0x10, 0x00, 0x22, 0x05, 0xc4, 0xc4, 0x02, 0x00, 0x00, 0x4d, 0x91, 0x00, 0x21,
					0x05 };
	static const uint8_t bad2[] = { 0x10, 0x00, 0xc3, 0x02, 0x00, 0x00 };
	reset();
	n = mkdg(dg, 0x0b, bad1, sizeof(bad1));
	CU_ASSERT_EQUAL(feed(0, dg, n), 0);
	n = mkdg(dg, 0x0b, bad2, sizeof(bad2));
	CU_ASSERT_EQUAL(feed(0, dg, n), 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_BACNET_EV_MALFORMED_SERVICE], 2);
	CU_ASSERT_EQUAL(cap.nid, 0);
	CU_ASSERT_EQUAL(cap.npdu, 2); /* still an I-Am */
}

static void test_apdu_types(void)
{
	uint8_t dg[64];
	size_t n;
	reset();
	/* segmented confirmed request (seq 0): service after sequence number and window */
	static const uint8_t seg_req[] = { 0x0e, 0x05, 0x21, 0x00, 0x04, 0x10, 0x0c, 0x02, 0x00, 0x00, 0x09 };
	n = mkdg(dg, 0x0a, seg_req, sizeof(seg_req));
	feed(0, dg, n);
	/* segment ack, abort, reject, simple ack */
	static const uint8_t sack[] = { 0x40, 0x21, 0x00, 0x04 }, abrt[] = { 0x71, 0x21, 0x04 },
			     rej[] = { 0x60, 0x21, 0x09 }, simple[] = { 0x20, 0x21, 0x10 };
	n = mkdg(dg, 0x0a, sack, sizeof(sack));
	feed(1, dg, n);
	n = mkdg(dg, 0x0a, abrt, sizeof(abrt));
	feed(1, dg, n);
	n = mkdg(dg, 0x0a, rej, sizeof(rej));
	feed(1, dg, n);
	n = mkdg(dg, 0x0a, simple, sizeof(simple));
	feed(1, dg, n);
	/* segmented complex ack: first segment parsed (vendor-name), a later one not */
	static const uint8_t seg0[] = { 0x38, 0x21, 0x00, 0x04, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x09, 0x19, 0x79, 0x3e,
					0x74, 0x00, 'A', 'B', 'C', 0x3f };
	static const uint8_t seg1[] = { 0x38, 0x21, 0x01, 0x04, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x09, 0x19, 0x79, 0x3e,
					0x74, 0x00, 'X', 'Y', 'Z', 0x3f };
	static const uint8_t seg0_cut[] = { 0x3c, 0x21, 0x00, 0x04, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x09, 0x19, 0x79,
					    0x3e, 0x75, 0x30, 0x00, 'A' };
	n = mkdg(dg, 0x0a, seg0, sizeof(seg0));
	feed(1, dg, n);
	n = mkdg(dg, 0x0a, seg1, sizeof(seg1));
	feed(1, dg, n);
	n = mkdg(dg, 0x0a, seg0_cut, sizeof(seg0_cut));
	feed(1, dg, n);
	/* other unconfirmed services: writeGroup (WRITE), utcTimeSynchronization (CONFIG), private transfer, event
	 * notification (UNSOLICITED), an unknown one */
	static const uint8_t wg[] = { 0x10, 0x0a }, utc[] = { 0x10, 0x09 }, upt[] = { 0x10, 0x04 },
			     evn[] = { 0x10, 0x03 }, u40[] = { 0x10, 0x28 };
	const uint8_t *u[] = { wg, utc, upt, evn, u40 };
	for (int i = 0; i < 5; i++) {
		n = mkdg(dg, 0x0a, u[i], 2);
		feed(0, dg, n);
	}
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 13);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 16, 9, 0x02000009, 0, OTS_PDUF_WRITE);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "writePropertyMultiple");
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_OTHER, 0x204, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[2], 1, OTS_PDU_EXCEPTION, 0x207, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[3], 1, OTS_PDU_EXCEPTION, 0x206, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[4], 1, OTS_PDU_RESPONSE, 16, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[5], 1, OTS_PDU_RESPONSE, 12, 9, 0x02000009, 0, 0);
	EXPECT_PDU(&cap.pdu[6], 1, OTS_PDU_RESPONSE, 12, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[7], 1, OTS_PDU_RESPONSE, 12, 9, 0x02000009, 0, 0);
	EXPECT_PDU(&cap.pdu[8], 0, OTS_PDU_REQUEST, 0x10a, 0, 0, 0, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[9], 0, OTS_PDU_REQUEST, 0x109, 0, 0, 0, OTS_PDUF_CONFIG);
	EXPECT_PDU(&cap.pdu[10], 0, OTS_PDU_REQUEST, 0x104, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[11], 0, OTS_PDU_UNSOLICITED, 0x103, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[12], 0, OTS_PDU_REQUEST, 0x128, 0, 0, 0, 0);
	CU_ASSERT_PTR_NULL(cap.pdu[12].name);
	CU_ASSERT_EQUAL_FATAL(cap.nid, 1);
	EXPECT_ID(&cap.id[0], OTS_EP_SERVER, OTS_ATTR_VENDOR, 95, "ABC");
	CU_ASSERT_EQUAL(cap.nev, 0); /* a cut segment is not an error */
}

static void test_bvlc_functions(void)
{
	uint8_t dg[64];
	reset();
	static const uint8_t fn[] = { 0x01, 0x03, 0x06, 0x07, 0x08, 0x0c };
	static const uint32_t flags[] = { OTS_PDUF_CONFIG, 0, 0, 0, OTS_PDUF_CONFIG, 0 };
	for (int i = 0; i < 6; i++) {
		dg[0] = 0x81;
		dg[1] = fn[i];
		dg[2] = 0;
		dg[3] = 4;
		CU_ASSERT_EQUAL(feed(0, dg, 4), 0);
	}
	/* BVLC-Result ACK (0) and NAK (0x0030) */
	memcpy(dg, "\x81\x00\x00\x06\x00\x00", 6);
	feed(1, dg, 6);
	memcpy(dg, "\x81\x00\x00\x06\x00\x30", 6);
	feed(1, dg, 6);
	/* Distribute-Broadcast-To-Network with a who-Is */
	memcpy(dg, "\x81\x09\x00\x08\x01\x00\x10\x08", 8);
	feed(0, dg, 8);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 9);
	for (int i = 0; i < 6; i++)
		EXPECT_PDU(&cap.pdu[i], 0, OTS_PDU_OTHER, 0x400u | fn[i], 0, 0, 0, flags[i]);
	EXPECT_PDU(&cap.pdu[6], 1, OTS_PDU_OTHER, 0x400, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[7], 1, OTS_PDU_EXCEPTION, 0x400, 0, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[8], 0, OTS_PDU_REQUEST, 0x108, 0, 0, 0, OTS_PDUF_IDENTITY | OTS_PDUF_BROADCAST);
	CU_ASSERT_EQUAL(cap.nev, 0);
	/* network layer messages: Initialize-Routing-Table is CONFIG; a vendor message needs its vendor id */
	memcpy(dg, "\x81\x0a\x00\x07\x01\x80\x06", 7);
	feed(0, dg, 7);
	memcpy(dg, "\x81\x0a\x00\x09\x01\x80\x80\x01\x04", 9);
	feed(0, dg, 9);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 11);
	EXPECT_PDU(&cap.pdu[9], 0, OTS_PDU_OTHER, 0x306, 0, 0, 0, OTS_PDUF_CONFIG);
	EXPECT_PDU(&cap.pdu[10], 0, OTS_PDU_OTHER, 0x380, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
}

/* truncated and malformed datagrams: one named event each, never a PDU built from missing bytes */
static void test_malformed(void)
{
	static const struct {
		const char *bytes;
		size_t len;
		unsigned ev;
		int pdu;
	} cases[] = {
		{ "\x81\x0a\x00", 3, OTS_BACNET_EV_BAD_BVLC, 0 },
		{ "\x82\x0a\x00\x06\x01\x00", 6, OTS_BACNET_EV_BAD_BVLC, 0 },
		{ "\x81\x0a\x00\x09\x01\x00\x10\x08", 8, OTS_BACNET_EV_BAD_LENGTH, 0 },  /* length > datagram */
		{ "\x81\x0a\x00\x03\x01\x00\x10\x08", 8, OTS_BACNET_EV_BAD_LENGTH, 0 },  /* length < 4 */
		{ "\x81\x0a\x00\x08\x01\x00\x10\x08\x00", 9, OTS_BACNET_EV_BAD_LENGTH, 1 }, /* trailing byte */
		{ "\x81\x04\x00\x08\x01\x02\x03\x04", 8, OTS_BACNET_EV_BAD_LENGTH, 0 },  /* forwarded: no address */
		{ "\x81\x20\x00\x04", 4, OTS_BACNET_EV_UNKNOWN_BVLC, 0 },
		{ "\x81\x0a\x00\x05\x01", 5, OTS_BACNET_EV_MALFORMED_NPDU, 0 },
		{ "\x81\x0a\x00\x08\x02\x00\x10\x08", 8, OTS_BACNET_EV_BAD_NPDU_VERSION, 0 },
		{ "\x81\x0a\x00\x08\x01\x20\xff\xff", 8, OTS_BACNET_EV_MALFORMED_NPDU, 0 },       /* DNET cut */
		{ "\x81\x0a\x00\x0a\x01\x20\x00\x05\x03\x01", 10, OTS_BACNET_EV_MALFORMED_NPDU, 0 }, /* DADR cut */
		{ "\x81\x0a\x00\x0b\x01\x08\x00\x05\x00\x10\x08", 11, OTS_BACNET_EV_MALFORMED_NPDU, 0 }, /* SLEN 0 */
		{ "\x81\x0a\x00\x09\x01\x20\x00\x05\x00", 9, OTS_BACNET_EV_MALFORMED_NPDU, 0 },  /* no hop count */
		{ "\x81\x0a\x00\x06\x01\x80", 6, OTS_BACNET_EV_MALFORMED_NPDU, 0 },              /* no message type */
		{ "\x81\x0a\x00\x08\x01\x80\x90\x01", 8, OTS_BACNET_EV_MALFORMED_NPDU, 0 },      /* vendor id cut */
		{ "\x81\x0a\x00\x06\x01\x04", 6, OTS_BACNET_EV_MALFORMED_APDU, 0 },              /* no APDU */
		{ "\x81\x0a\x00\x09\x01\x04\x00\x05\x01", 9, OTS_BACNET_EV_MALFORMED_APDU, 0 },  /* confirmed cut */
		{ "\x81\x0a\x00\x0b\x01\x04\x08\x05\x01\x00\x04", 11, OTS_BACNET_EV_MALFORMED_APDU, 0 }, /* segmented */
		{ "\x81\x0a\x00\x07\x01\x00\x10", 7, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x08\x01\x00\x20\x01", 8, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x09\x01\x00\x38\x01\x00", 9, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x09\x01\x00\x40\x01\x00", 9, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x08\x01\x00\x50\x01", 8, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x08\x01\x00\x60\x01", 8, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x08\x01\x00\x70\x01", 8, OTS_BACNET_EV_MALFORMED_APDU, 0 },
		{ "\x81\x0a\x00\x09\x01\x00\x90\x01\x02", 9, OTS_BACNET_EV_UNKNOWN_APDU, 0 },
		/* readProperty ack: no property id / value not in [3] / truncated extended length */
		{ "\x81\x0a\x00\x0e\x01\x00\x30\x01\x0c\x0c\x02\x00\x00\x01", 14, OTS_BACNET_EV_MALFORMED_SERVICE, 1 },
		{ "\x81\x0a\x00\x10\x01\x00\x30\x01\x0c\x0c\x02\x00\x00\x01\x19\x4d", 16,
		  OTS_BACNET_EV_MALFORMED_SERVICE, 1 },
		{ "\x81\x0a\x00\x13\x01\x00\x30\x01\x0c\x0c\x02\x00\x00\x01\x19\x4d\x3e\x75\xfe", 19,
		  OTS_BACNET_EV_MALFORMED_SERVICE, 1 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset();
		CU_ASSERT_EQUAL(feed(0, (const uint8_t *)cases[i].bytes, cases[i].len), 0);
		CU_ASSERT_EQUAL(cap.ev[cases[i].ev], 1);
		CU_ASSERT_EQUAL(cap.nev, 1);
		CU_ASSERT_EQUAL(cap.npdu, (unsigned)cases[i].pdu);
		CU_ASSERT_EQUAL(cap.nid, 0);
		CU_ASSERT_EQUAL(cap.bad_proto, 0);
		if (cap.ev[cases[i].ev] != 1 || cap.nev != 1 || cap.npdu != (unsigned)cases[i].pdu)
			printf("\n  malformed case %u: events %u, pdus %u\n", i, cap.nev, cap.npdu);
	}
	/* every prefix of every fixture datagram: no crash, no PDU from the cut BVLC (length mismatch) */
	const char *fx[] = { "bacnet_test", "ndpi_bacnet", "stack_services", "bacnet_ip_dev", "sched_rpm" };
	for (unsigned f = 0; f < 5; f++) {
		int n = load(fx[f]);
		for (int i = 0; i < n; i++)
			for (size_t k = 0; k < rec_segs[i].len; k++) {
				reset();
				CU_ASSERT_EQUAL(feed(rec_segs[i].dir, rec_segs[i].b, k), 0);
				CU_ASSERT_EQUAL(cap.npdu, 0);
				CU_ASSERT_EQUAL(cap.nev, 1);
			}
	}
}

static void test_reject(void)
{
	reset();
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"M-SEARCH * HTTP/1.1", 19), 0);
	CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"M-SEARCH * HTTP/1.1", 19), -1);
	CU_ASSERT_EQUAL(cap.ev[OTS_BACNET_EV_BAD_BVLC], 4);
	/* a flow with one good datagram stays */
	load("bacnet_test");
	reset();
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b, rec_segs[0].len), 0);
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"junk", 4), 0);
	/* BACnet/IP is UDP only */
	reset();
	CU_ASSERT_EQUAL(feed_tr(0, rec_segs[0].b, rec_segs[0].len, 6), -1);
	reset();
	CU_ASSERT_EQUAL(feed(0, NULL, 0), 0);
}

static const struct ots_test bacnet_tests[] = {
	{ "parser_table", test_parser_table },
	{ "vendor_table", test_vendor_table },
	{ "probe", test_probe },
	{ "device_properties", test_device_properties },
	{ "iam_and_properties", test_iam_and_properties },
	{ "ndpi", test_ndpi },
	{ "services", test_services },
	{ "rpm_schedule", test_rpm_schedule },
	{ "rpm_device_charsets", test_rpm_device_charsets },
	{ "strings", test_strings },
	{ "iam_vendor_ids", test_iam_vendor_ids },
	{ "apdu_types", test_apdu_types },
	{ "bvlc_functions", test_bvlc_functions },
	{ "malformed", test_malformed },
	{ "reject", test_reject },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "bacnet", bacnet_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_bacnet", suites);
}
