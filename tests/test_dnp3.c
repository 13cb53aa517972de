/* tests/test_dnp3.c - unit tests for protocols/dnp3.c (DNP3 link / transport / application layer parser).
 *
 * Real payloads come from tests/data/proto/dnp3/<name>.hex, cut from the shared captures with tshark (see the README
 * there: capture and frame numbers); synthetic frames are built with mkframe() (CRCs computed by ots_dnp3_crc,
 * which test_crc checks against the CRC-16/DNP check value). Every test asserts the exact PDUs, identities and
 * protocol events the parser reports through a test-side struct ots_app_ops.
 */
#include "protocols/dnp3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/reasm.h"
#include "export/record.h"
#include "tests/harness.h"

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif

#define REC_PARSER ots_parser_dnp3
#define REC_PROTO OTS_APP_DNP3
#define REC_EV_MAX OTS_DNP3_EV_MAX
#include "tests/recorder.h"

static struct {
	_Alignas(16) uint8_t st[OTS_APP_STATE_MAX];
	uint8_t transport;
} F; /* the flow under test, zeroed per test by reset() */

static void reset(uint8_t transport)
{
	rec_reset();
	memset(&F, 0, sizeof(F));
	F.transport = transport;
}

static int feed(int dir, const uint8_t *p, size_t n, uint32_t flags)
{
	return rec_parse(F.st, dir, flags, F.transport, p, n);
}

static int gap(int dir, size_t n)
{
	return feed(dir, NULL, n, OTS_REASM_F_GAP);
}

#define EXPECT_NO_EVENTS() CU_ASSERT_EQUAL(cap.nev, 0)

/* ---- fixtures ---- */

/* loads tests/data/proto/dnp3/<name>.hex ("frame dir transport hex" lines) into rec_segs; returns the record count */
static int load(const char *name)
{
	return (int)rec_load(REC_DIR_TRANSPORT, "%s/proto/dnp3/%s.hex", OTS_TEST_DATA, name);
}

/* feed every record of a fixture; returns the record count */
static int feed_fixture(const char *name)
{
	int n = load(name);
	reset((uint8_t)rec_segs[0].tr);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(feed(rec_segs[i].dir, rec_segs[i].b, rec_segs[i].len, 0), 0);
	return n;
}

/* ---- synthetic frames ---- */

/* a link frame: header + user data split in 16-byte blocks, every CRC computed; returns its length */
static size_t mkframe(uint8_t *out, uint8_t ctrl, uint16_t dst, uint16_t src, const uint8_t *ud, size_t n)
{
	size_t o = 0;
	out[o++] = 0x05;
	out[o++] = 0x64;
	out[o++] = (uint8_t)(n + 5);
	out[o++] = ctrl;
	out[o++] = (uint8_t)dst;
	out[o++] = (uint8_t)(dst >> 8);
	out[o++] = (uint8_t)src;
	out[o++] = (uint8_t)(src >> 8);
	uint16_t c = ots_dnp3_crc(out, 8);
	out[o++] = (uint8_t)c;
	out[o++] = (uint8_t)(c >> 8);
	for (size_t i = 0; i < n; i += 16) {
		size_t b = n - i < 16 ? n - i : 16;
		memcpy(out + o, ud + i, b);
		c = ots_dnp3_crc(ud + i, b);
		o += b;
		out[o++] = (uint8_t)c;
		out[o++] = (uint8_t)(c >> 8);
	}
	return o;
}

/* one transport segment (th = transport header) of application bytes, master (dir 0, 0xc4) or outstation (0x44) */
static size_t mkseg(uint8_t *out, int dir, uint8_t th, const uint8_t *al, size_t n)
{
	uint8_t ud[250];
	ud[0] = th;
	memcpy(ud + 1, al, n);
	return dir == 0 ? mkframe(out, 0xc4, 10, 1, ud, n + 1) : mkframe(out, 0x44, 1, 10, ud, n + 1);
}

/* ---- tests ---- */

static void test_parser_table(void)
{
	CU_ASSERT_PTR_NOT_NULL(ots_parser_dnp3.parse);
	CU_ASSERT_PTR_NOT_NULL(ots_parser_dnp3.probe);
	CU_ASSERT(ots_parser_dnp3.state_size > 0 && ots_parser_dnp3.state_size <= OTS_APP_STATE_MAX);
	CU_ASSERT(ots_parser_dnp3.state_size <= 1024); /* no fragment buffer: the walk is streamed */
	CU_ASSERT_EQUAL(ots_parser_dnp3.nevents, OTS_DNP3_EV_MAX);
	CU_ASSERT(ots_parser_dnp3.nevents <= 32);
	for (unsigned i = 0; i < ots_parser_dnp3.nevents; i++) {
		CU_ASSERT_PTR_NOT_NULL(ots_parser_dnp3.events[i]);
		for (unsigned j = 0; j < i; j++)
			CU_ASSERT(strcmp(ots_parser_dnp3.events[i], ots_parser_dnp3.events[j]) != 0);
	}
	CU_ASSERT_STRING_EQUAL(ots_parser_dnp3.events[OTS_DNP3_EV_BAD_DATA_CRC], "bad_data_crc");
	CU_ASSERT_STRING_EQUAL(ots_dnp3_func_name(13), "Cold Restart");
	CU_ASSERT_STRING_EQUAL(ots_dnp3_func_name(130), "Unsolicited Response");
	CU_ASSERT_PTR_NULL(ots_dnp3_func_name(34));
	CU_ASSERT_PTR_NULL(ots_dnp3_func_name(128));
}

static void test_crc(void)
{
	CU_ASSERT_EQUAL(ots_dnp3_crc((const uint8_t *)"123456789", 9), 0xea82); /* CRC-16/DNP check value */
	static const uint8_t hdr[] = { 0x05, 0x64, 0x08, 0xc4, 0x0a, 0x00, 0x01, 0x00 }; /* cold_restart frame 4 */
	CU_ASSERT_EQUAL(ots_dnp3_crc(hdr, sizeof(hdr)), 0x42fc);
	CU_ASSERT_EQUAL(ots_dnp3_crc(hdr, 0), 0xffff);
	/* the sliced implementation against the bitwise definition (reflected poly 0xA6BC), every length 0..40 */
	uint8_t rnd[40];
	uint32_t seed = 12345;
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	for (size_t n = 0; n <= sizeof(rnd); n++) {
		uint16_t c = 0;
		for (size_t i = 0; i < n; i++) {
			c ^= rnd[i];
			for (int b = 0; b < 8; b++)
				c = (uint16_t)(c & 1 ? (c >> 1) ^ 0xa6bc : c >> 1);
		}
		CU_ASSERT_EQUAL(ots_dnp3_crc(rnd, n), (uint16_t)~c);
	}
}

static void test_probe(void)
{
	load("cold_restart");
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(rec_segs[0].b, rec_segs[0].len, 0), 1);
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(rec_segs[0].b, 10, 0), 1);
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(rec_segs[0].b, 9, 0), -1);
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(rec_segs[0].b, 1, 0), -1);
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(rec_segs[0].b, 0, 0), -1);
	uint8_t bad[16];
	memcpy(bad, rec_segs[0].b, 10);
	bad[8] ^= 1; /* header CRC */
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(bad, 10, 0), 0);
	bad[8] ^= 1;
	bad[2] = 4; /* LEN < 5 */
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe(bad, 10, 0), 0);
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe((const uint8_t *)"GET / HTTP/1.1", 14, 0), 0);
	CU_ASSERT_EQUAL(ots_parser_dnp3.probe((const uint8_t *)"\x05\x65", 2, 0), 0);
}

/* ITI cold_restart_and_response: request 13 to outstation 10; the response sets IIN2 "function not supported" */
static void test_cold_restart(void)
{
	feed_fixture("cold_restart");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 13, 10, 0, 0, OTS_PDUF_CONTROL);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "Cold Restart");
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_EXCEPTION, 129, 1, 0, 0, 0);
	CU_ASSERT_STRING_EQUAL(cap.pdu[1].name, "Response");
	CU_ASSERT_EQUAL(cap.pdu[0].iin, 0);
	CU_ASSERT_EQUAL(cap.pdu[1].iin, 0x0001); /* IIN2 bit 0: function code not supported */
	CU_ASSERT_EQUAL(cap.pdu[0].nobjs, 0);
	CU_ASSERT_EQUAL(cap.nid, 0);
	EXPECT_NO_EVENTS();
}

static void test_warm_restart(void)
{
	feed_fixture("warm_restart");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 14, 10, 0, 0, OTS_PDUF_CONTROL);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_EXCEPTION, 129, 1, 0, 0, 0);
	EXPECT_NO_EVENTS();
}

static void test_direct_operate(void)
{
	feed_fixture("directoperate");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 5, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 1, 0x0c01, 1, 0);
	EXPECT_NO_EVENTS();
}

static void test_select_operate(void)
{
	feed_fixture("select_operate");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 4);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 3, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 1, 0x0c01, 1, 0);
	EXPECT_PDU(&cap.pdu[2], 0, OTS_PDU_REQUEST, 4, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[3], 1, OTS_PDU_RESPONSE, 129, 1, 0x0c01, 1, 0);
	EXPECT_NO_EVENTS();
}

/* file open (g70v3), write (g70v5: WRITE|PROGRAM), close (g70v4), each with its g70 response: size-prefixed objects */
static void test_file_write(void)
{
	feed_fixture("file_write");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 6);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 25, 4, 0x4603, 1, OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 3, 0x4604, 1, 0);
	EXPECT_PDU(&cap.pdu[2], 0, OTS_PDU_REQUEST, 2, 4, 0x4605, 1, OTS_PDUF_WRITE | OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[3], 1, OTS_PDU_RESPONSE, 129, 3, 0x4606, 1, 0);
	EXPECT_PDU(&cap.pdu[4], 0, OTS_PDU_REQUEST, 26, 4, 0x4604, 1, OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[5], 1, OTS_PDU_RESPONSE, 129, 3, 0x4604, 1, 0);
	EXPECT_NO_EVENTS();
}

static void test_file_delete(void)
{
	feed_fixture("file_delete");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 27, 4, 0x4603, 1, OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 3, 0x4604, 1, 0);
	EXPECT_NO_EVENTS();
}

static void test_unsolicited(void)
{
	feed_fixture("unsolicited");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_UNSOLICITED, 130, 1, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 0, 10, 0, 0, 0);
	CU_ASSERT_STRING_EQUAL(cap.pdu[1].name, "Confirm");
	EXPECT_NO_EVENTS();
}

static void test_disable_unsolicited(void)
{
	feed_fixture("disable_unsol");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 21, 10, 0x3c02, 3, OTS_PDUF_CONTROL);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 1, 0, 0, 0);
	/* the request's three object headers (classes 1, 2, 3); the array lives in the request direction's state */
	CU_ASSERT_EQUAL_FATAL(cap.pdu[0].nobjs, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cap.pdu[0].objs);
	CU_ASSERT_EQUAL(cap.pdu[0].objs[0], 0x3c02);
	CU_ASSERT_EQUAL(cap.pdu[0].objs[2], 0x3c04);
	CU_ASSERT_EQUAL(cap.pdu[1].nobjs, 0);
	EXPECT_NO_EVENTS();
}

/* nDPI dnp3.pcap frames 16-25: confirm, write of g50v1 (time: CONFIG), response; zeek rec_time: FC 24 */
static void test_time_config(void)
{
	feed_fixture("ndpi_write_time");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 0, 4, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 2, 4, 0x3201, 1, OTS_PDUF_WRITE | OTS_PDUF_CONFIG);
	EXPECT_PDU(&cap.pdu[2], 1, OTS_PDU_RESPONSE, 129, 3, 0, 0, 0);
	CU_ASSERT_EQUAL(cap.pdu[1].nobjs, 1);
	EXPECT_NO_EVENTS();
	feed_fixture("rec_time");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 24, 2, 0, 0, OTS_PDUF_CONFIG);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 3, 0, 0, 0);
	EXPECT_NO_EVENTS();
}

/* write of g80v1 (clear the restart IIN bit): bit-packed object data */
static void test_write_iin(void)
{
	feed_fixture("write_iin");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 2, 10, 0x5001, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_RESPONSE, 129, 1, 0, 0, 0);
	EXPECT_NO_EVENTS();
}

/* Bro dnp3_link_only: link status exchanges (PRI 9 / SEC 11), a class 0 read, and two responses of 9 and 10 link
 * frames (2294 and 2231 application bytes) whose object headers are walked across all segments (tshark: g1v1,
 * g10v2, g30v5 | g30v5, g40v3) */
static void test_link_only_and_big_fragment(void)
{
	feed_fixture("link_only");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 9);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_OTHER, 0x149, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_OTHER, 0x10b, 1, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[2], 1, OTS_PDU_OTHER, 0x149, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[3], 0, OTS_PDU_OTHER, 0x10b, 1, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[4], 0, OTS_PDU_REQUEST, 1, 1, 0x3c01, 1, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[5], 1, OTS_PDU_RESPONSE, 129, 100, 0x0101, 3, 0);
	EXPECT_PDU(&cap.pdu[6], 1, OTS_PDU_RESPONSE, 129, 100, 0x1e05, 2, 0);
	EXPECT_PDU(&cap.pdu[7], 1, OTS_PDU_OTHER, 0x149, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[8], 0, OTS_PDU_OTHER, 0x10b, 1, 0, 0, 0);
	CU_ASSERT_STRING_EQUAL(cap.pdu[0].name, "Link");
	EXPECT_NO_EVENTS();
}

/* zeek UDP captures: one or more frames per datagram */
static void test_udp(void)
{
	feed_fixture("udp_read");
	CU_ASSERT_EQUAL(F.transport, 17);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 9);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_OTHER, 0x149, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_OTHER, 0x10b, 1, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[4], 0, OTS_PDU_REQUEST, 1, 1, 0x3c02, 4, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[5], 1, OTS_PDU_RESPONSE, 129, 100, 0x0101, 3, 0);
	EXPECT_PDU(&cap.pdu[6], 1, OTS_PDU_RESPONSE, 129, 100, 0x1e05, 2, 0);
	EXPECT_NO_EVENTS();
	feed_fixture("udp_en_spon");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 4);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 20, 1, 0x3c02, 3, OTS_PDUF_CONTROL);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_EXCEPTION, 129, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[2], 1, OTS_PDU_OTHER, 0x149, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[3], 0, OTS_PDU_OTHER, 0x10b, 1, 0, 0, 0);
	EXPECT_NO_EVENTS();

	/* two frames in one datagram: both reported */
	uint8_t dg[128];
	size_t n = rec_segs[2].len;
	memcpy(dg, rec_segs[2].b, n);
	memcpy(dg + n, rec_segs[0].b, rec_segs[0].len);
	reset(17);
	CU_ASSERT_EQUAL(feed(1, dg, n + rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_OTHER, 0x149, 100, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_REQUEST, 20, 1, 0x3c02, 3, OTS_PDUF_CONTROL);
	EXPECT_NO_EVENTS();
}

/* ITI direct_operate_crob_malform_but_good_crc: count 2 but one CROB in the fragment */
static void test_crob_malformed(void)
{
	feed_fixture("crob_malform");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 5, 4, 0x0c01, 1, OTS_PDUF_WRITE);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_MALFORMED_OBJECTS], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL(cap.bad_proto, 0);
}

/* OpenICS DNP3-Malformed: frame 1 has LEN 2 (not a link header), 2..5 and 157 malformed objects, 59 group 255 */
static void test_openics_malformed(void)
{
	feed_fixture("malformed");
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_RESYNC], 1); /* frame 1, not mid-stream: reported */
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 6);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 4, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[3], 0, OTS_PDU_REQUEST, 4, 10, 0, 0, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[4], 0, OTS_PDU_REQUEST, 4, 10, 0x0c01, 2, OTS_PDUF_WRITE);
	EXPECT_PDU(&cap.pdu[5], 0, OTS_PDU_REQUEST, 4, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_MALFORMED_OBJECTS], 5);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_UNKNOWN_OBJECT], 1);
	CU_ASSERT_EQUAL(cap.nev, 7);
	/* mid-stream pickup of the same bytes: the junk before the first header is skipped quietly */
	reset(6);
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b, rec_segs[0].len, OTS_REASM_F_MIDSTREAM), 0);
	CU_ASSERT_EQUAL(cap.nev, 0);
	CU_ASSERT_EQUAL(cap.npdu, 0);
}

/* Bro dnp3_test_data_part2 frames 19-20: read of group 255 (undefined), IIN2 object unknown in the response */
static void test_unknown_object(void)
{
	feed_fixture("read_g255");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 1, 4, 0xff00, 1, OTS_PDUF_READ);
	EXPECT_PDU(&cap.pdu[1], 1, OTS_PDU_EXCEPTION, 129, 3, 0, 0, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_UNKNOWN_OBJECT], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* nDPI frame 55 starts 05 05 (corrupt), frame 460 is a broadcast Disable Unsolicited with a reserved qualifier */
static void test_bad_start_and_broadcast(void)
{
	feed_fixture("ndpi_bad_start");
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	/* the next good frame is found again */
	load("directoperate");
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b, rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 5, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	CU_ASSERT_EQUAL(cap.nev, 1);

	feed_fixture("ndpi_broadcast");
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 21, 0xffff, 0x3c02, 2, OTS_PDUF_CONTROL | OTS_PDUF_BROADCAST);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_MALFORMED_OBJECTS], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* ---- stream handling: splits, coalescing, mid-stream, gaps ---- */

struct stream {
	uint8_t b[8192];
	size_t n;
};

static void pdus_equal(const struct ots_pdu *a, const struct ots_pdu *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(a[i].dir, b[i].dir);
		CU_ASSERT_EQUAL(a[i].kind, b[i].kind);
		CU_ASSERT_EQUAL(a[i].code, b[i].code);
		CU_ASSERT_EQUAL(a[i].unit, b[i].unit);
		CU_ASSERT_EQUAL(a[i].address, b[i].address);
		CU_ASSERT_EQUAL(a[i].quantity, b[i].quantity);
		CU_ASSERT_EQUAL(a[i].flags, b[i].flags);
	}
}

/* every fixture direction as one byte stream, cut in two at every byte, and fed one byte at a time */
static void split_fixture(const char *name)
{
	static struct ots_pdu ref[REC_MAX_PDUS];
	static struct stream s[2];
	int n = load(name);
	s[0].n = s[1].n = 0;
	for (int i = 0; i < n; i++) {
		struct stream *d = &s[rec_segs[i].dir];
		CU_ASSERT_FATAL(d->n + rec_segs[i].len <= sizeof(d->b));
		memcpy(d->b + d->n, rec_segs[i].b, rec_segs[i].len);
		d->n += rec_segs[i].len;
	}
	for (int dir = 0; dir < 2; dir++) {
		if (!s[dir].n)
			continue;
		reset(6);
		feed(dir, s[dir].b, s[dir].n, 0);
		unsigned nref = cap.npdu;
		CU_ASSERT(nref > 0);
		CU_ASSERT_EQUAL(cap.nev, 0);
		memcpy(ref, cap.pdu, nref * sizeof(ref[0]));
		for (size_t k = 1; k < s[dir].n; k++) {
			reset(6);
			feed(dir, s[dir].b, k, 0);
			feed(dir, s[dir].b + k, s[dir].n - k, 0);
			CU_ASSERT_EQUAL(cap.npdu, nref);
			CU_ASSERT_EQUAL(cap.nev, 0);
			if (cap.npdu == nref)
				pdus_equal(ref, cap.pdu, nref);
		}
		reset(6);
		for (size_t k = 0; k < s[dir].n; k++)
			feed(dir, s[dir].b + k, 1, 0);
		CU_ASSERT_EQUAL(cap.npdu, nref);
		CU_ASSERT_EQUAL(cap.nev, 0);
		if (cap.npdu == nref)
			pdus_equal(ref, cap.pdu, nref);
	}
}

static void test_split_every_byte(void)
{
	split_fixture("file_write");
	split_fixture("select_operate");
	split_fixture("link_only");
	split_fixture("unsolicited");
}

static void test_two_pdus_one_segment(void)
{
	load("file_write");
	uint8_t seg[512];
	size_t n = 0;
	memcpy(seg, rec_segs[0].b, rec_segs[0].len); /* open */
	n += rec_segs[0].len;
	memcpy(seg + n, rec_segs[2].b, rec_segs[2].len); /* write */
	n += rec_segs[2].len;
	memcpy(seg + n, rec_segs[4].b, 7); /* start of close */
	n += 7;
	reset(6);
	CU_ASSERT_EQUAL(feed(0, seg, n, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 25, 4, 0x4603, 1, OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 2, 4, 0x4605, 1, OTS_PDUF_WRITE | OTS_PDUF_PROGRAM);
	CU_ASSERT_EQUAL(feed(0, rec_segs[4].b + 7, rec_segs[4].len - 7, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	EXPECT_PDU(&cap.pdu[2], 0, OTS_PDU_REQUEST, 26, 4, 0x4604, 1, OTS_PDUF_PROGRAM);
	EXPECT_NO_EVENTS();
}

/* the capture starts 7 bytes into the first frame: skipped quietly, the next frames are found */
static void test_midstream(void)
{
	load("file_write");
	reset(6);
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b + 7, rec_segs[0].len - 7, OTS_REASM_F_MIDSTREAM), 0);
	CU_ASSERT_EQUAL(feed(0, rec_segs[2].b, rec_segs[2].len, 0), 0);
	CU_ASSERT_EQUAL(feed(0, rec_segs[4].b, rec_segs[4].len, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 2, 4, 0x4605, 1, OTS_PDUF_WRITE | OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 26, 4, 0x4604, 1, OTS_PDUF_PROGRAM);
	EXPECT_NO_EVENTS();

	/* picked up inside a multi-frame fragment: its middle segments are dropped quietly until a FIR */
	int n = load("link_only"), first = -1, seen[2] = { 0, 0 };
	for (int i = 0; i < n && first < 0; i++)
		if (rec_segs[i].frame == 10) /* second segment (seq 35) of the first response */
			first = i;
	CU_ASSERT_FATAL(first > 0);
	reset(6);
	for (int i = first; i < n; i++) {
		const struct rec_seg *r = &rec_segs[i];
		CU_ASSERT_EQUAL(feed(r->dir, r->b, r->len, seen[r->dir] ? 0 : OTS_REASM_F_MIDSTREAM), 0);
		seen[r->dir] = 1;
	}
	EXPECT_NO_EVENTS();
	unsigned resp = 0;
	for (unsigned i = 0; i < cap.npdu; i++)
		if (cap.pdu[i].code == 129) {
			resp++;
			EXPECT_PDU(&cap.pdu[i], 1, OTS_PDU_RESPONSE, 129, 100, 0x1e05, 2, 0);
		}
	CU_ASSERT_EQUAL(resp, 1); /* only the second response had its FIR in the capture */
}

/* bytes lost inside a frame: resync event, the frame is lost, the next one is found */
static void test_gap_resync(void)
{
	load("file_write");
	reset(6);
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b, rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL(feed(0, rec_segs[2].b, 12, 0), 0);
	CU_ASSERT_EQUAL(gap(0, 9), 0);
	CU_ASSERT_EQUAL(feed(0, rec_segs[2].b + 21, rec_segs[2].len - 21, 0), 0);
	CU_ASSERT_EQUAL(feed(0, rec_segs[4].b, rec_segs[4].len, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 25, 4, 0x4603, 1, OTS_PDUF_PROGRAM);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 26, 4, 0x4604, 1, OTS_PDUF_PROGRAM);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);

	/* a gap inside a multi-frame fragment: that fragment is dropped quietly, the next one is reported */
	load("link_only");
	reset(6);
	for (int i = 0; i < 23; i++) {
		if (rec_segs[i].frame == 12) { /* third segment of the first response */
			CU_ASSERT_EQUAL(gap(1, rec_segs[i].len), 0);
			continue;
		}
		CU_ASSERT_EQUAL(feed(rec_segs[i].dir, rec_segs[i].b, rec_segs[i].len, 0), 0);
	}
	unsigned resp = 0;
	for (unsigned i = 0; i < cap.npdu; i++)
		resp += cap.pdu[i].code == 129;
	CU_ASSERT_EQUAL(resp, 1);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* ---- CRC errors ---- */

static void test_bad_data_crc(void)
{
	load("directoperate");
	uint8_t f[64];
	memcpy(f, rec_segs[0].b, rec_segs[0].len);
	f[12] ^= 0x40; /* a user data byte of the first block */
	reset(6);
	CU_ASSERT_EQUAL(feed(0, f, rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_BAD_DATA_CRC], 1);
	CU_ASSERT_EQUAL(feed(1, rec_segs[1].b, rec_segs[1].len, 0), 0); /* the response still counts */
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 129, 1, 0x0c01, 1, 0);
	/* the CRC of the last (short) block */
	memcpy(f, rec_segs[0].b, rec_segs[0].len);
	f[rec_segs[0].len - 1] ^= 1;
	CU_ASSERT_EQUAL(feed(0, f, rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_BAD_DATA_CRC], 2);
	CU_ASSERT_EQUAL(cap.nev, 2);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	/* UDP: same */
	reset(17);
	CU_ASSERT_EQUAL(feed(0, f, rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_BAD_DATA_CRC], 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
}

static void test_bad_header_crc(void)
{
	load("directoperate");
	uint8_t s[128];
	memcpy(s, rec_segs[0].b, rec_segs[0].len);
	s[4] ^= 0x01; /* destination address: header CRC now wrong */
	memcpy(s + rec_segs[0].len, rec_segs[0].b, rec_segs[0].len);
	reset(6);
	CU_ASSERT_EQUAL(feed(0, s, 2 * rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_RESYNC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1); /* the good copy behind it */
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 5, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	reset(17);
	CU_ASSERT_EQUAL(feed(0, s, 2 * rec_segs[0].len, 0), 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_BAD_HEADER_CRC], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	CU_ASSERT_EQUAL(cap.npdu, 0); /* the rest of a datagram after a bad header is not trusted */
}

/* ---- transport layer ---- */

static void test_transport_reassembly(void)
{
	/* read of three class objects, split over three segments in the middle of object headers */
	static const uint8_t al[] = { 0xc3, 0x01, 0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06 };
	uint8_t f[300];
	size_t n;
	reset(6);
	n = mkseg(f, 0, 0x40 | 5, al, 4);
	feed(0, f, n, 0);
	n = mkseg(f, 0, 6, al + 4, 4);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	n = mkseg(f, 0, 0x80 | 7, al + 8, 3);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 1, 10, 0x3c02, 3, OTS_PDUF_READ);
	EXPECT_NO_EVENTS();

	/* sequence wraps 63 -> 0 */
	n = mkseg(f, 0, 0x40 | 63, al, 5);
	feed(0, f, n, 0);
	n = mkseg(f, 0, 0x80 | 0, al + 5, 6);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.npdu, 2);
	EXPECT_NO_EVENTS();

	/* a repeated segment (link retry) is taken once */
	n = mkseg(f, 0, 0x40 | 10, al, 5);
	feed(0, f, n, 0);
	feed(0, f, n, 0);
	n = mkseg(f, 0, 0x80 | 11, al + 5, 6);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	EXPECT_PDU(&cap.pdu[2], 0, OTS_PDU_REQUEST, 1, 10, 0x3c02, 3, OTS_PDUF_READ);
	EXPECT_NO_EVENTS();

	/* out of sequence: event, the fragment is dropped (its FIN quietly), the next FIR works */
	n = mkseg(f, 0, 0x40 | 20, al, 5);
	feed(0, f, n, 0);
	n = mkseg(f, 0, 22, al + 5, 3);
	feed(0, f, n, 0);
	n = mkseg(f, 0, 0x80 | 23, al + 8, 3);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.npdu, 3);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_TRANSPORT_SEQ], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
	n = mkseg(f, 0, 0xc0 | 24, al, sizeof(al));
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.npdu, 4);

	/* FIR while a fragment is in progress: the old one is abandoned */
	n = mkseg(f, 0, 0x40 | 30, al, 5);
	feed(0, f, n, 0);
	n = mkseg(f, 0, 0xc0 | 40, al, sizeof(al));
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.npdu, 5);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_TRANSPORT_ABANDONED], 1);

	/* other link addresses in the middle of a fragment: out of sequence */
	uint8_t ud[8] = { 0x40 | 1, 0xc3, 0x01, 0x3c };
	n = mkframe(f, 0xc4, 10, 1, ud, 4);
	feed(0, f, n, 0);
	ud[0] = 2;
	n = mkframe(f, 0xc4, 11, 1, ud, 4);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_TRANSPORT_SEQ], 2);
	CU_ASSERT_EQUAL(cap.nev, 3);

	/* a connection seen from its start: a first non-FIR segment is reported */
	reset(6);
	n = mkseg(f, 0, 0x80 | 3, al, 4);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_TRANSPORT_SEQ], 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	/* user data function without user data */
	n = mkframe(f, 0xc4, 10, 1, ud, 0);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_NO_TRANSPORT], 1);
	CU_ASSERT_EQUAL(cap.npdu, 0);
}

/* ---- application layer ---- */

static void test_app_header(void)
{
	uint8_t f[300];
	size_t n;
	reset(6);
	static const uint8_t only_ac[] = { 0xc0 };
	n = mkseg(f, 0, 0xc0, only_ac, 1);
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL(cap.npdu, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_MALFORMED_AL], 1);
	static const uint8_t resp_no_iin[] = { 0xc0, 0x81, 0x00 };
	n = mkseg(f, 1, 0xc0, resp_no_iin, 3);
	feed(1, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 129, 1, 0, 0, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_MALFORMED_AL], 2);
	/* undefined function codes */
	static const uint8_t fc50[] = { 0xc0, 0x50 }, fcf0[] = { 0xc0, 0xf0 };
	n = mkseg(f, 0, 0xc1, fc50, 2);
	feed(0, f, n, 0);
	n = mkseg(f, 1, 0xc1, fcf0, 2);
	feed(1, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 0x50, 10, 0, 0, 0);
	CU_ASSERT_PTR_NULL(cap.pdu[1].name);
	EXPECT_PDU(&cap.pdu[2], 1, OTS_PDU_OTHER, 0xf0, 1, 0, 0, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_UNKNOWN_FUNCTION], 2);
	/* authentication response (131), activate config (31), freeze with time (11: g50v2 data, then a range) */
	static const uint8_t auth[] = { 0xc0, 0x83, 0x00, 0x00 };
	static const uint8_t act[] = { 0xc0, 0x1f, 0x6e, 0x03, 0x07, 0x01, 'a', 'b', 'c' };
	static const uint8_t frz[] = { 0xc0, 0x0b, 0x32, 0x02, 0x07, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
				       0x14, 0x00, 0x00, 0x00, 0x05 };
	n = mkseg(f, 1, 0xc2, auth, sizeof(auth));
	feed(1, f, n, 0);
	n = mkseg(f, 0, 0xc2, act, sizeof(act));
	feed(0, f, n, 0);
	n = mkseg(f, 0, 0xc3, frz, sizeof(frz));
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 6);
	EXPECT_PDU(&cap.pdu[3], 1, OTS_PDU_RESPONSE, 131, 1, 0, 0, 0);
	EXPECT_PDU(&cap.pdu[4], 0, OTS_PDU_REQUEST, 31, 10, 0x6e03, 1, OTS_PDUF_CONFIG);
	EXPECT_PDU(&cap.pdu[5], 0, OTS_PDU_REQUEST, 11, 10, 0x3202, 2, 0);
	CU_ASSERT_EQUAL(cap.nev, 4);
}

/* object layouts: bit-packed ranges, index prefixes, size prefixes, fixed sizes, and their malformed forms */
static void test_object_walk(void)
{
	uint8_t f[300];
	size_t n;
	static const uint8_t resp[] = {
		0xc0, 0x81, 0x00, 0x00,
		0x01, 0x01, 0x00, 0x00, 0x09, 0xff, 0x03,             /* g1v1 0..9: 2 bytes of bits */
		0x03, 0x01, 0x00, 0x00, 0x04, 0x55, 0x01,             /* g3v1 0..4: 10 bits -> 2 bytes */
		0x20, 0x07, 0x28, 0x02, 0x00,                         /* g32v7 2-byte count 2, 2-byte index */
		0x01, 0x00, 0x01, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6,       /*   index 1 + 11 bytes */
		0x02, 0x00, 0x01, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6,       /*   index 2 + 11 bytes */
		0x46, 0x04, 0x5b, 0x01, 0x03, 0x00, 9, 9, 9,          /* g70v4 size prefix: 3 bytes */
		0x6e, 0x02, 0x17, 0x01, 0x05, 'h', 'i',               /* g110v2 (length 2), 1-byte index */
		0x1e, 0x01, 0x01, 0x10, 0x00, 0x10, 0x00, 1, 2, 3, 4, 5, /* g30v1 16..16 */
		0x3c, 0x01, 0x06,                                     /* g60v1 no range */
	};
	reset(6);
	n = mkseg(f, 1, 0xc0, resp, sizeof(resp));
	feed(1, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 129, 1, 0x0101, 7, 0);
	EXPECT_NO_EVENTS();

	/* a range with stop < start, a reserved range code, bits with an index prefix, data past the end */
	static const uint8_t bad_range[] = { 0xc0, 0x81, 0, 0, 0x1e, 0x01, 0x00, 0x05, 0x04 };
	static const uint8_t bad_code[] = { 0xc0, 0x81, 0, 0, 0x1e, 0x01, 0x0a, 0x05, 0x04 };
	static const uint8_t bad_bits[] = { 0xc0, 0x81, 0, 0, 0x01, 0x01, 0x17, 0x01, 0x00, 0x01 };
	static const uint8_t short_data[] = { 0xc0, 0x81, 0, 0, 0x1e, 0x01, 0x00, 0x00, 0x01, 1, 2, 3, 4, 5, 6 };
	static const uint8_t short_hdr[] = { 0xc0, 0x81, 0, 0, 0x1e, 0x01 };
	static const uint8_t short_pfx[] = { 0xc0, 0x81, 0, 0, 0x46, 0x04, 0x5b, 0x02, 0x01, 0x00, 0x07 };
	const uint8_t *bad[] = { bad_range, bad_code, bad_bits, short_data, short_hdr, short_pfx };
	const size_t badn[] = { sizeof(bad_range), sizeof(bad_code), sizeof(bad_bits), sizeof(short_data),
				sizeof(short_hdr), sizeof(short_pfx) };
	for (unsigned i = 0; i < 6; i++) {
		reset(6);
		n = mkseg(f, 1, 0xc0, bad[i], badn[i]);
		feed(1, f, n, 0);
		CU_ASSERT_EQUAL(cap.npdu, 1);
		CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_MALFORMED_OBJECTS], 1);
		CU_ASSERT_EQUAL(cap.nev, 1);
	}
	/* a defined group of unknown size (g83 private registration) stops the walk quietly */
	static const uint8_t g83[] = { 0xc0, 0x81, 0, 0, 0x53, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 0x1e, 0x01, 0x06 };
	reset(6);
	n = mkseg(f, 1, 0xc0, g83, sizeof(g83));
	feed(1, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 129, 1, 0x5301, 1, 0);
	EXPECT_NO_EVENTS();
	/* an undefined variation of a sized group in a response */
	static const uint8_t g1v9[] = { 0xc0, 0x81, 0, 0, 0x01, 0x09, 0x00, 0x00, 0x00, 1 };
	reset(6);
	n = mkseg(f, 1, 0xc0, g1v9, sizeof(g1v9));
	feed(1, f, n, 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_UNKNOWN_OBJECT], 1);
	CU_ASSERT_EQUAL(cap.nev, 1);
}

/* group 0 device attributes in a response, split over two link frames in the middle of a string */
static void test_device_attributes(void)
{
	uint8_t al[200], f[300];
	size_t a = 0, n;
	al[a++] = 0xc0;
	al[a++] = 0x81;
	al[a++] = 0x00;
	al[a++] = 0x00;
	static const struct {
		uint8_t var, type;
		const char *v;
	} attrs[] = {
		{ 252, 1, "ACME Grid Systems" }, { 250, 1, "RTU-5000 " }, { 242, 1, "2.1.0" },
		{ 248, 1, "SN0042" }, { 247, 1, "Substation 7 RTU" }, { 240, 2, "\x08\x00" }, { 245, 1, "Hill" },
	};
	for (unsigned i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		size_t l = attrs[i].type == 2 ? 2 : strlen(attrs[i].v);
		al[a++] = 0x00;
		al[a++] = attrs[i].var;
		al[a++] = 0x00; /* qualifier 0x00: 8-bit start/stop */
		al[a++] = 0x00;
		al[a++] = 0x00;
		al[a++] = attrs[i].type;
		al[a++] = (uint8_t)l;
		memcpy(al + a, attrs[i].v, l);
		a += l;
	}
	reset(6);
	n = mkseg(f, 1, 0x40 | 1, al, 20); /* cuts "ACME Grid Systems" */
	feed(1, f, n, 0);
	n = mkseg(f, 1, 0x80 | 2, al + 20, a - 20);
	feed(1, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 1, OTS_PDU_RESPONSE, 129, 1, 0x00fc, 7, 0);
	EXPECT_NO_EVENTS();
	CU_ASSERT_EQUAL_FATAL(cap.nid, 5);
	static const int kinds[] = { OTS_ATTR_VENDOR, OTS_ATTR_MODEL, OTS_ATTR_FIRMWARE, OTS_ATTR_SERIAL,
				     OTS_ATTR_NAME };
	static const char *const vals[] = { "ACME Grid Systems", "RTU-5000", "2.1.0", "SN0042", "Substation 7 RTU" };
	for (unsigned i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(cap.id[i].ep, OTS_EP_SERVER);
		CU_ASSERT_EQUAL(cap.id[i].kind, kinds[i]);
		CU_ASSERT_EQUAL(cap.id[i].conf, 90);
		CU_ASSERT_STRING_EQUAL(cap.id[i].v, vals[i]);
	}
	/* the read request for all attributes walks without data; no identity from requests */
	static const uint8_t rd[] = { 0xc0, 0x01, 0x00, 0xfe, 0x06 };
	n = mkseg(f, 0, 0xc3, rd, sizeof(rd));
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 2);
	EXPECT_PDU(&cap.pdu[1], 0, OTS_PDU_REQUEST, 1, 10, 0x00fe, 1, OTS_PDUF_READ);
	/* a write of an attribute is CONFIG and reports nothing about the outstation */
	static const uint8_t wr[] = { 0xc0, 0x02, 0x00, 0xf5, 0x00, 0x00, 0x00, 0x01, 0x03, 'X', 'Y', 'Z' };
	n = mkseg(f, 0, 0xc4, wr, sizeof(wr));
	feed(0, f, n, 0);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 3);
	EXPECT_PDU(&cap.pdu[2], 0, OTS_PDU_REQUEST, 2, 10, 0x00f5, 1, OTS_PDUF_WRITE | OTS_PDUF_CONFIG);
	CU_ASSERT_EQUAL(cap.nid, 5);
	EXPECT_NO_EVENTS();
}

/* ---- bad input ---- */

static void test_udp_bad_datagrams(void)
{
	load("directoperate");
	uint8_t d[256];
	reset(17);
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b, rec_segs[0].len - 3, 0), 0); /* truncated frame */
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_BAD_LENGTH], 1);
	memcpy(d, rec_segs[0].b, rec_segs[0].len);
	memcpy(d + rec_segs[0].len, "\x01\x02\x03", 3);
	CU_ASSERT_EQUAL(feed(0, d, rec_segs[0].len + 3, 0), 0); /* frame + trailing bytes */
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_TRAILING], 1);
	CU_ASSERT_EQUAL_FATAL(cap.npdu, 1);
	EXPECT_PDU(&cap.pdu[0], 0, OTS_PDU_REQUEST, 5, 10, 0x0c01, 1, OTS_PDUF_WRITE);
	memcpy(d, rec_segs[0].b, 10);
	d[2] = 4;
	uint16_t c = ots_dnp3_crc(d, 8);
	d[8] = (uint8_t)c;
	d[9] = (uint8_t)(c >> 8);
	CU_ASSERT_EQUAL(feed(0, d, 10, 0), 0); /* LEN 4 */
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_BAD_LENGTH], 2);
	CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"hello world!", 12, 0), 0);
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_NOT_DNP3], 1);
	CU_ASSERT_EQUAL(feed(0, d, 3, 0), 0); /* shorter than a header */
	CU_ASSERT_EQUAL(cap.ev[OTS_DNP3_EV_NOT_DNP3], 2);
	CU_ASSERT_EQUAL(cap.nev, 5);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	/* a flow that had a valid frame is never rejected */
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"junk junk junk", 14, 0), 0);
}

static void test_reject_not_dnp3(void)
{
	/* UDP: four datagrams that are not DNP3 before any valid frame */
	reset(17);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"M-SEARCH * HTTP/1.1", 19, 0), 0);
	CU_ASSERT_EQUAL(feed(0, (const uint8_t *)"M-SEARCH * HTTP/1.1", 19, 0), -1);
	/* TCP: more than 4 KiB without one valid link header */
	static uint8_t junk[1500];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)("GET /index.html HTTP/1.1\r\n"[i % 26]);
	reset(6);
	int rc = 0, calls = 0;
	while (rc == 0 && calls < 10) {
		rc = feed(calls & 1, junk, sizeof(junk), calls < 2 ? OTS_REASM_F_MIDSTREAM : 0);
		calls++;
	}
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(calls, 3);
	/* DNP3 after some junk is kept */
	load("file_write");
	reset(6);
	CU_ASSERT_EQUAL(feed(0, junk, 1000, OTS_REASM_F_MIDSTREAM), 0);
	CU_ASSERT_EQUAL(feed(0, rec_segs[0].b, rec_segs[0].len, 0), 0);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(feed(0, junk, sizeof(junk), 0), 0);
	CU_ASSERT_EQUAL(cap.npdu, 1);
	/* a gap with no data never crashes, also before anything else */
	reset(6);
	CU_ASSERT_EQUAL(gap(1, 100), 0);
	reset(17);
	CU_ASSERT_EQUAL(feed(0, NULL, 0, 0), 0);
}

static const struct ots_test dnp3_tests[] = {
	{ "parser_table", test_parser_table },
	{ "crc", test_crc },
	{ "probe", test_probe },
	{ "cold_restart", test_cold_restart },
	{ "warm_restart", test_warm_restart },
	{ "direct_operate", test_direct_operate },
	{ "select_operate", test_select_operate },
	{ "file_write", test_file_write },
	{ "file_delete", test_file_delete },
	{ "unsolicited", test_unsolicited },
	{ "disable_unsolicited", test_disable_unsolicited },
	{ "time_config", test_time_config },
	{ "write_iin", test_write_iin },
	{ "link_only_and_big_fragment", test_link_only_and_big_fragment },
	{ "udp", test_udp },
	{ "crob_malformed", test_crob_malformed },
	{ "openics_malformed", test_openics_malformed },
	{ "unknown_object", test_unknown_object },
	{ "bad_start_and_broadcast", test_bad_start_and_broadcast },
	{ "split_every_byte", test_split_every_byte },
	{ "two_pdus_one_segment", test_two_pdus_one_segment },
	{ "midstream", test_midstream },
	{ "gap_resync", test_gap_resync },
	{ "bad_data_crc", test_bad_data_crc },
	{ "bad_header_crc", test_bad_header_crc },
	{ "transport_reassembly", test_transport_reassembly },
	{ "app_header", test_app_header },
	{ "object_walk", test_object_walk },
	{ "device_attributes", test_device_attributes },
	{ "udp_bad_datagrams", test_udp_bad_datagrams },
	{ "reject_not_dnp3", test_reject_not_dnp3 },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "dnp3", dnp3_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_dnp3", suites);
}
