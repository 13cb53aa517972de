/* tests/test_discovery.c - LLDP, CDP, DHCP and ARP discovery parsers (protocols/discovery.c).
 *
 * Real frames from the shared captures (tests/data/proto/discovery, see its README) checked field by field against
 * what tshark 4.0 shows; every fixture cut at every length (exact-size heap copies, so ASan sees any over-read);
 * synthetic PDUs for bad lengths, missing End TLV/option, BOOTP without cookie, long strings, LLDP-MED, DHCP FQDN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/record.h"
#include "protocols/discovery.h"
#include "tests/harness.h"
#include "tests/recorder.h" /* unhex */

#ifndef OTS_TEST_DATA
#define OTS_TEST_DATA "tests/data"
#endif

#define MAXF 16
#define MAXLEN 2048

struct fixture {
	int n;
	unsigned frame[MAXF];
	size_t len[MAXF];
	uint8_t b[MAXF][MAXLEN];
};

static struct fixture fx;

static int load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/proto/discovery/%s.hex", OTS_TEST_DATA, name);
	memset(&fx, 0, sizeof(fx));
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return 0;
	}
	static char line[2 * MAXLEN + 64];
	while (fx.n < MAXF && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		fx.frame[fx.n] = (unsigned)strtoul(line, NULL, 10);
		fx.len[fx.n] = unhex(sp + 1, fx.b[fx.n], MAXLEN);
		fx.n++;
	}
	fclose(f);
	return fx.n;
}

/* payload of frame i for a protocol; *len set. Ethernet II, skipping 802.1Q / QinQ tags (arp_emre has two) */
static size_t eth_off(int i)
{
	size_t o = 12;
	while (o + 4 <= fx.len[i] && ((fx.b[i][o] == 0x81 && fx.b[i][o + 1] == 0x00) ||
				      (fx.b[i][o] == 0x88 && fx.b[i][o + 1] == 0xa8)))
		o += 4;
	return o + 2;
}

static const uint8_t *lldp_pl(int i, size_t *len)
{
	size_t o = eth_off(i);
	*len = fx.len[i] - o;
	return fx.b[i] + o;
}

static const uint8_t *cdp_pl(int i, size_t *len)
{
	const uint8_t *f = fx.b[i];
	size_t l8023 = (size_t)f[12] << 8 | f[13];
	CU_ASSERT_FATAL(l8023 >= 8 && 14 + l8023 <= fx.len[i]);
	CU_ASSERT_FATAL(!memcmp(f + 14, "\xaa\xaa\x03\x00\x00\x0c\x20\x00", 8));
	*len = l8023 - 8;
	return f + 22;
}

static const uint8_t *udp_pl(int i, size_t *len)
{
	const uint8_t *f = fx.b[i];
	size_t eo = eth_off(i);
	CU_ASSERT_FATAL(f[eo - 2] == 0x08 && f[eo - 1] == 0x00);
	size_t ihl = (size_t)(f[eo] & 15) * 4;
	const uint8_t *u = f + eo + ihl;
	size_t ulen = (size_t)u[4] << 8 | u[5];
	CU_ASSERT_FATAL(ulen >= 8 && eo + ihl + ulen <= fx.len[i]);
	*len = ulen - 8;
	return u + 8;
}

static void mac_eq(const uint8_t *m, const char *s)
{
	char b[32];
	snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	CU_ASSERT_STRING_EQUAL(b, s);
}

static void ip4_eq(const struct ots_disc *d, const char *s)
{
	CU_ASSERT_EQUAL(d->has_ip, 1);
	CU_ASSERT_EQUAL(d->ip_family, 4);
	char b[32];
	snprintf(b, sizeof(b), "%u.%u.%u.%u", d->ip[0], d->ip[1], d->ip[2], d->ip[3]);
	CU_ASSERT_STRING_EQUAL(b, s);
}

/* ---- LLDP ---- */

static void t_lldp_zeek(void)
{
	CU_ASSERT_FATAL(load("lldp_zeek") == 1);
	size_t len;
	const uint8_t *p = lldp_pl(0, &len);
	struct ots_disc d;
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.source, OTS_DISC_LLDP);
	CU_ASSERT_EQUAL(d.has_mac, 1);
	mac_eq(d.mac, "00:22:2d:81:db:10");
	CU_ASSERT_STRING_EQUAL(d.chassis, "00:22:2d:81:db:10");
	CU_ASSERT_STRING_EQUAL(d.port, "1");
	CU_ASSERT_EQUAL(d.ttl, 120);
	CU_ASSERT_STRING_EQUAL(d.port_desc, "Port #1");
	CU_ASSERT_STRING_EQUAL(d.name, "SMCGS8P-Smart");
	CU_ASSERT_STRING_EQUAL(d.description, "SMCGS8P-Smart - SMCGS8P-Smart v3.20");
	CU_ASSERT_EQUAL(d.capabilities, OTS_DISC_CAP_BRIDGE);
	CU_ASSERT_EQUAL(d.cap_enabled, OTS_DISC_CAP_BRIDGE);
	CU_ASSERT_STRING_EQUAL(d.device_type, "switch");
	ip4_eq(&d, "192.168.2.10");
	CU_ASSERT_EQUAL(d.model[0], 0);
	CU_ASSERT_EQUAL(d.firmware[0], 0);
}

static void t_lldp_siemens(void)
{
	CU_ASSERT_FATAL(load("lldp_siemens") == 2);
	size_t len;
	struct ots_disc d;
	const uint8_t *p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	/* chassis id: locally assigned, 71 bytes, capped to 63 */
	CU_ASSERT_EQUAL(d.has_mac, 0);
	CU_ASSERT_EQUAL(strlen(d.chassis), 63);
	CU_ASSERT_EQUAL(strncmp(d.chassis, "S7-1200                   6ES7 214-1AG40-0XB0  S V-K2C13707", 59), 0);
	CU_ASSERT_STRING_EQUAL(d.port, "port-001.plcxb1d0ed");
	CU_ASSERT_EQUAL(d.ttl, 20);
	CU_ASSERT_STRING_EQUAL(d.port_desc, "Siemens, SIMATIC S7, Ethernet Port, X1 P1");
	CU_ASSERT_EQUAL(d.name[0], 0); /* no System Name TLV */
	CU_ASSERT_STRING_EQUAL(d.description,
			       "Siemens, SIMATIC S7, CPU-1200, 6ES7 214-1AG40-0XB0, HW: 7, FW: V.4.2.1, S V-K2C13707");
	CU_ASSERT_EQUAL(d.capabilities, OTS_DISC_CAP_BRIDGE | OTS_DISC_CAP_STATION);
	CU_ASSERT_EQUAL(d.cap_enabled, 0x84);
	CU_ASSERT_EQUAL(d.device_type[0], 0); /* station: no "switch" for a PLC */
	ip4_eq(&d, "192.168.0.1");

	p = lldp_pl(1, &len);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.chassis, "hmixb110d0");
	CU_ASSERT_STRING_EQUAL(d.port, "port-001");
	CU_ASSERT_STRING_EQUAL(d.description,
			       "Siemens, SIMATIC HMI, KTP700 Basic, 6AV2 123-2GB03-0AX0, HW:0, SW.V 13.0.1");
	ip4_eq(&d, "192.168.0.2");
}

static void t_lldp_cisco(void)
{
	CU_ASSERT_FATAL(load("lldp_cisco") == 2);
	size_t len;
	struct ots_disc d;
	const uint8_t *p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	mac_eq(d.mac, "00:19:2f:a7:b2:8d");
	CU_ASSERT_STRING_EQUAL(d.port, "Uplink to S1");
	CU_ASSERT_STRING_EQUAL(d.port_desc, "GigabitEthernet0/13");
	CU_ASSERT_STRING_EQUAL(d.name, "S2.cisco.com");
	CU_ASSERT_EQUAL(d.capabilities, 0x14);
	CU_ASSERT_EQUAL(d.cap_enabled, 0x04);
	CU_ASSERT_STRING_EQUAL(d.device_type, "switch");
	CU_ASSERT_EQUAL(d.has_ip, 0);
	/* newlines become spaces; capped at 127 */
	const char *want = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE "
			   "SOFTWARE (fc1) Copyright (c) 1986-2008 by Cisco Systems, Inc. Compiled Sat 05-Jan-08 00:15 "
			   "by weiliu";
	CU_ASSERT_EQUAL(strlen(d.description), 127);
	CU_ASSERT_EQUAL(strncmp(d.description, want, 127), 0);

	p = lldp_pl(1, &len);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	mac_eq(d.mac, "00:18:ba:98:68:8f");
	CU_ASSERT_STRING_EQUAL(d.port, "Fa0/13");
	CU_ASSERT_STRING_EQUAL(d.name, "S1.cisco.com");
}

static void t_lldp_others(void)
{
	size_t len;
	struct ots_disc d;
	CU_ASSERT_FATAL(load("lldp_extreme") == 1);
	const uint8_t *p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	mac_eq(d.mac, "00:01:30:f9:ad:a0");
	CU_ASSERT_STRING_EQUAL(d.port, "1/1");
	CU_ASSERT_STRING_EQUAL(d.port_desc, "Summit300-48-Port 1001");
	CU_ASSERT_STRING_EQUAL(d.name, "Summit300-48");
	CU_ASSERT_STRING_EQUAL(d.description, "Summit300-48 - Version 7.4e.1 (Build 5) by Release_Master 05/27/05 04:53:11");
	CU_ASSERT_EQUAL(d.capabilities, 0x14);
	CU_ASSERT_EQUAL(d.cap_enabled, 0x14);
	CU_ASSERT_STRING_EQUAL(d.device_type, "switch");
	CU_ASSERT_EQUAL(d.has_ip, 0);

	CU_ASSERT_FATAL(load("lldp_procurve") == 1);
	p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, len, &d), 0);
	mac_eq(d.mac, "00:13:21:57:ca:40");
	CU_ASSERT_STRING_EQUAL(d.port, "1");
	CU_ASSERT_STRING_EQUAL(d.name, "ProCurve Switch 2600-8-PWR");
	CU_ASSERT_STRING_EQUAL(d.description, "ProCurve J8762A Switch 2600-8-PWR, revision H.08.89, ROM H.08.5X "
					      "(/sw/code/build/fish(ts_08_5))");
	ip4_eq(&d, "15.255.122.148");
}

/* append one LLDP TLV */
static size_t tlv(uint8_t *b, size_t o, unsigned type, const void *v, size_t n)
{
	b[o] = (uint8_t)(type << 1 | n >> 8);
	b[o + 1] = (uint8_t)n;
	memcpy(b + o + 2, v, n);
	return o + 2 + n;
}

static size_t lldp_head(uint8_t *b)
{
	size_t o = tlv(b, 0, 1, "\x04\x00\x11\x22\x33\x44\x55", 7);
	o = tlv(b, o, 2, "\x07" "p1", 3);
	return tlv(b, o, 3, "\x00\x78", 2);
}

static void t_lldp_malformed(void)
{
	uint8_t b[1200];
	struct ots_disc d;
	size_t o = lldp_head(b);
	/* missing End TLV: accepted */
	size_t o2 = tlv(b, o, 5, "plc1", 4);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "plc1");
	/* a lone trailing byte */
	b[o2] = 0;
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2 + 1, &d), -EBADMSG);
	/* TLV length past the end */
	b[o] = 5 << 1;
	b[o + 1] = 10;
	memcpy(b + o + 2, "abc", 3);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o + 5, &d), -EBADMSG);
	CU_ASSERT_EQUAL(d.ttl, 120); /* partial: what came before is kept */
	/* 9-bit length past the end */
	b[o] = 5 << 1 | 1;
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o + 5, &d), -EBADMSG);
	/* capabilities of length 3 */
	o2 = tlv(b, o, 7, "\x00\x04\x00", 3);
	o2 = tlv(b, o2, 0, "", 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* management address whose address length runs past the TLV */
	o2 = tlv(b, o, 8, "\x09\x01\xc0\xa8\x00\x01\x02\x00\x00\x00\x01\x00", 12);
	o2 = tlv(b, o2, 0, "", 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* management address whose OID length runs past the TLV */
	o2 = tlv(b, o, 8, "\x05\x01\xc0\xa8\x00\x01\x02\x00\x00\x00\x01\x05", 12);
	o2 = tlv(b, o2, 0, "", 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* End TLV with a length */
	o2 = tlv(b, o, 0, "x", 1);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* chassis id of length 1 */
	o2 = tlv(b, 0, 1, "\x04", 1);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* no chassis id at all */
	o2 = tlv(b, 0, 0, "", 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, 0, &d), -EBADMSG);
	/* TTL of length 1 */
	o2 = tlv(b, 0, 1, "\x04\x00\x11\x22\x33\x44\x55", 7);
	o2 = tlv(b, o2, 3, "\x01", 1);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* org-specific TLV shorter than OUI + subtype */
	o2 = tlv(b, o, 127, "\x00\x12", 2);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2, &d), -EBADMSG);
	/* padding after End is ignored */
	o = lldp_head(b);
	o2 = tlv(b, o, 0, "", 0);
	memset(b + o2, 0xff, 20);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o2 + 20, &d), 0);
}

static void t_lldp_strings_med_ipv6(void)
{
	uint8_t b[1400], s[511];
	struct ots_disc d;
	size_t o = lldp_head(b);
	memset(s, 'A', sizeof(s));
	s[0] = 0x01;
	s[1] = 0xc3; /* UTF-8 lead byte */
	s[2] = '\n';
	o = tlv(b, o, 5, s, 300);
	o = tlv(b, o, 6, s, 511);
	/* IPv6 management address, then IPv4: IPv4 preferred */
	o = tlv(b, o, 8,
		"\x11\x02\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		"\x02\x00\x00\x00\x01\x00",
		24);
	/* LLDP-MED inventory: HW rev 5, FW 6, SW 7, serial 8, manufacturer 9, model 10 */
	o = tlv(b, o, 127, "\x00\x12\xbb\x07" "sw-2.0", 10);
	o = tlv(b, o, 127, "\x00\x12\xbb\x06" "fw-1.5", 10);
	o = tlv(b, o, 127, "\x00\x12\xbb\x08" "SN123", 9);
	o = tlv(b, o, 127, "\x00\x12\xbb\x09" "Acme Corp", 13);
	o = tlv(b, o, 127, "\x00\x12\xbb\x0a" "Phone 9000\0\0", 16);
	o = tlv(b, o, 127, "\x00\x80\xc2\x01\x00\x01", 6); /* 802.1 port VLAN: ignored */
	o = tlv(b, o, 7, "\x00\x24\x00\x20", 4);
	o = tlv(b, o, 0, "", 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o, &d), 0);
	CU_ASSERT_EQUAL(strlen(d.name), 63);
	CU_ASSERT_EQUAL(strncmp(d.name, "?? AAAA", 7), 0);
	CU_ASSERT_EQUAL(strlen(d.description), 127);
	CU_ASSERT_EQUAL(d.ip_family, 6);
	CU_ASSERT_EQUAL(d.ip[0], 0xfe);
	CU_ASSERT_EQUAL(d.ip[15], 0x01);
	CU_ASSERT_STRING_EQUAL(d.firmware, "fw-1.5");
	CU_ASSERT_STRING_EQUAL(d.serial, "SN123");
	CU_ASSERT_STRING_EQUAL(d.vendor, "Acme Corp");
	CU_ASSERT_STRING_EQUAL(d.model, "Phone 9000");
	CU_ASSERT_STRING_EQUAL(d.device_type, "phone");

	/* IPv4 after IPv6 wins; chassis of subtype network address */
	o = tlv(b, 0, 1, "\x05\x01\x0a\x00\x00\x07", 6);
	o = tlv(b, o, 0, "", 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.chassis, "10.0.0.7");
	ip4_eq(&d, "10.0.0.7");
	o = lldp_head(b);
	o = tlv(b, o, 8,
		"\x11\x02\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		"\x02\x00\x00\x00\x01\x00",
		24);
	o = tlv(b, o, 8, "\x05\x01\xc0\xa8\x01\x02\x02\x00\x00\x00\x01\x00", 12);
	CU_ASSERT_EQUAL(ots_lldp_parse(b, o, &d), 0);
	ip4_eq(&d, "192.168.1.2");
}

/* ---- CDP ---- */

static void t_cdp_v1(void)
{
	CU_ASSERT_FATAL(load("cdp_v1") == 1);
	size_t len;
	struct ots_disc d;
	const uint8_t *p = cdp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_cdp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.source, OTS_DISC_CDP);
	CU_ASSERT_EQUAL(d.version, 1);
	CU_ASSERT_EQUAL(d.ttl, 180);
	CU_ASSERT_STRING_EQUAL(d.name, "R1");
	ip4_eq(&d, "192.168.10.1");
	CU_ASSERT_STRING_EQUAL(d.port, "Ethernet0");
	CU_ASSERT_EQUAL(d.capabilities, OTS_DISC_CAP_ROUTER);
	CU_ASSERT_STRING_EQUAL(d.device_type, "router");
	CU_ASSERT_STRING_EQUAL(d.model, "cisco 1601");
	CU_ASSERT_STRING_EQUAL(d.firmware, "11.2(12)P");
	const char *want = "Cisco Internetwork Operating System Software  IOS (tm) 1600 Software (C1600-NY-L), Version "
			   "11.2(12)P, RELEASE SOFTWARE (fc1) Copyright (c) 1986-1998 by cisco Systems, Inc.";
	CU_ASSERT_EQUAL(strlen(d.description), 127);
	CU_ASSERT_EQUAL(strncmp(d.description, want, 127), 0);
	CU_ASSERT_EQUAL(d.has_mac, 0); /* the caller takes the Ethernet source */
}

static void t_cdp_v2(void)
{
	size_t len;
	struct ots_disc d;
	CU_ASSERT_FATAL(load("cdp_v2") == 1);
	const uint8_t *p = cdp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_cdp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.version, 2);
	CU_ASSERT_EQUAL(d.ttl, 180);
	CU_ASSERT_STRING_EQUAL(d.name, "myswitch");
	ip4_eq(&d, "192.168.0.253");
	CU_ASSERT_STRING_EQUAL(d.port, "FastEthernet0/1");
	CU_ASSERT_EQUAL(d.capabilities, OTS_DISC_CAP_BRIDGE | OTS_DISC_CAP_OTHER); /* 0x28: switch, IGMP */
	CU_ASSERT_STRING_EQUAL(d.device_type, "switch");
	CU_ASSERT_STRING_EQUAL(d.model, "cisco WS-C2950-12");
	CU_ASSERT_STRING_EQUAL(d.firmware, "12.1(22)EA14");
	CU_ASSERT_EQUAL(strncmp(d.description, "Cisco Internetwork Operating System Software  IOS (tm) C2950", 60), 0);

	CU_ASSERT_FATAL(load("cdp_cisco") == 2);
	p = cdp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_cdp_parse(p, len, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "S1");
	CU_ASSERT_EQUAL(d.has_ip, 0); /* tshark: 0.0.0.0,0.0.0.0 */
	CU_ASSERT_STRING_EQUAL(d.port, "FastEthernet0/13");
	CU_ASSERT_STRING_EQUAL(d.model, "cisco WS-C3560-24TS");
	CU_ASSERT_STRING_EQUAL(d.firmware, "12.2(44)SE");
	p = cdp_pl(1, &len);
	CU_ASSERT_EQUAL(ots_cdp_parse(p, len, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "S2");
	CU_ASSERT_STRING_EQUAL(d.port, "GigabitEthernet0/13");
	CU_ASSERT_STRING_EQUAL(d.model, "cisco WS-C3560G-24PS");
}

static size_t ctlv(uint8_t *b, size_t o, unsigned type, const void *v, size_t n)
{
	b[o] = (uint8_t)(type >> 8);
	b[o + 1] = (uint8_t)type;
	b[o + 2] = (uint8_t)((n + 4) >> 8);
	b[o + 3] = (uint8_t)(n + 4);
	memcpy(b + o + 4, v, n);
	return o + 4 + n;
}

static void t_cdp_malformed(void)
{
	uint8_t b[600];
	struct ots_disc d;
	memcpy(b, "\x02\xb4\x12\x34", 4); /* bad checksum: not rejected */
	size_t o = ctlv(b, 4, 1, "dev", 3);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "dev");
	CU_ASSERT_EQUAL(ots_cdp_parse(b, 3, &d), -EBADMSG);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, 4, &d), 0); /* header only */
	/* version 3 */
	b[0] = 3;
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o, &d), -EBADMSG);
	b[0] = 2;
	/* TLV length < 4 */
	b[o] = 0, b[o + 1] = 6, b[o + 2] = 0, b[o + 3] = 3;
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o + 4, &d), -EBADMSG);
	/* TLV length past the end */
	b[o + 3] = 40;
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o + 10, &d), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(d.name, "dev"); /* partial */
	/* trailing 3 bytes */
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o + 3, &d), -EBADMSG);
	/* capabilities of length 2 */
	size_t o2 = ctlv(b, o, 4, "\x00\x01", 2);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), -EBADMSG);
	/* addresses: count 2, only one present */
	o2 = ctlv(b, o, 2, "\x00\x00\x00\x02\x01\x01\xcc\x00\x04\x0a\x00\x00\x01", 13);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), -EBADMSG);
	/* address length past the TLV */
	o2 = ctlv(b, o, 2, "\x00\x00\x00\x01\x01\x01\xcc\x00\x08\x0a\x00\x00\x01", 13);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), -EBADMSG);
	/* IPv6 (802.2 SNAP 86dd) then IPv4: IPv4 kept; management addresses ignored once addresses gave one */
	o2 = ctlv(b, o, 2,
		  "\x00\x00\x00\x02"
		  "\x02\x08\xaa\xaa\x03\x00\x00\x00\x86\xdd\x00\x10"
		  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		  "\x01\x01\xcc\x00\x04\x0a\x00\x00\x09",
		  4 + 28 + 9);
	o2 = ctlv(b, o2, 0x16, "\x00\x00\x00\x01\x01\x01\xcc\x00\x04\x0a\x00\x00\x0a", 13);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), 0);
	ip4_eq(&d, "10.0.0.9");
	/* only management addresses */
	o2 = ctlv(b, o, 0x16, "\x00\x00\x00\x01\x01\x01\xcc\x00\x04\x0a\x00\x00\x0a", 13);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), 0);
	ip4_eq(&d, "10.0.0.10");
	/* only IPv6 */
	o2 = ctlv(b, o, 2,
		  "\x00\x00\x00\x01"
		  "\x02\x08\xaa\xaa\x03\x00\x00\x00\x86\xdd\x00\x10"
		  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
		  32);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), 0);
	CU_ASSERT_EQUAL(d.ip_family, 6);
	CU_ASSERT_EQUAL(d.ip[0], 0x20);
	/* overlong platform and a NUL-terminated device id */
	char big[300];
	memset(big, 'M', sizeof(big));
	o2 = ctlv(b, 4, 6, big, sizeof(big));
	o2 = ctlv(b, o2, 1, "sw1\0", 4);
	CU_ASSERT_EQUAL(ots_cdp_parse(b, o2, &d), 0);
	CU_ASSERT_EQUAL(strlen(d.model), 63);
	CU_ASSERT_STRING_EQUAL(d.name, "sw1");
}

/* ---- DHCP ---- */

static void t_dhcp_zeek(void)
{
	CU_ASSERT_FATAL(load("dhcp_zeek") == 9);
	/* tshark: dhcp.option.dhcp, op, ip (ciaddr / yiaddr / requested), hostname, xid */
	static const struct {
		uint8_t type, op;
		const char *ip, *host;
		uint32_t xid;
	} want[9] = {
		{1, 1, "192.168.211.194", "btest.is.cool", 0x7c0}, {2, 2, "128.2.6.97", "", 0x7c0},
		{3, 1, "192.168.211.194", "btest.is.cool", 0x7c0}, {6, 2, NULL, "", 0x7c0},
		{3, 1, "128.2.6.189", "btest.is.cool", 0x7c0},     {5, 2, "128.2.6.189", "", 0x7c0},
		{4, 1, NULL, "", 0x7c0},                           {7, 1, NULL, "", 0x79c},
		{8, 1, "128.2.6.189", "btest.is.cool", 0x7c4},
	};
	for (int i = 0; i < 9; i++) {
		size_t len;
		struct ots_disc d;
		const uint8_t *p = udp_pl(i, &len);
		CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
		CU_ASSERT_EQUAL(d.source, OTS_DISC_DHCP);
		CU_ASSERT_EQUAL(d.dhcp_type, want[i].type);
		CU_ASSERT_EQUAL(d.dhcp_op, want[i].op);
		CU_ASSERT_EQUAL(d.xid, want[i].xid);
		CU_ASSERT_EQUAL(d.has_mac, 1);
		mac_eq(d.mac, "90:b1:1c:99:49:29");
		if (want[i].ip)
			ip4_eq(&d, want[i].ip);
		else
			CU_ASSERT_EQUAL(d.has_ip, 0);
		CU_ASSERT_STRING_EQUAL(d.hostname, want[i].host);
		/* the server's vendor class (ArubaAP in the offer/ack) is not the client's */
		CU_ASSERT_EQUAL(d.vendor_class[0], 0);
		CU_ASSERT_EQUAL(d.description[0], 0);
	}
}

static void t_dhcp_fingerprint(void)
{
	size_t len;
	struct ots_disc d;
	CU_ASSERT_FATAL(load("dhcp_msft") == 1);
	const uint8_t *p = udp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, OTS_DHCP_DISCOVER);
	mac_eq(d.mac, "02:00:4c:4f:4f:50");
	CU_ASSERT_STRING_EQUAL(d.hostname, "DESKTOP-M5C7L14");
	CU_ASSERT_STRING_EQUAL(d.vendor_class, "MSFT 5.0");
	CU_ASSERT_STRING_EQUAL(d.os, "Windows");
	CU_ASSERT_EQUAL(d.description[0], 0);
	CU_ASSERT_STRING_EQUAL(d.fingerprint, "1,3,6,15,31,33,43,44,46,47,119,121,249,252");
	CU_ASSERT_STRING_EQUAL(d.client_id, "01:02:00:4c:4f:4f:50");
	CU_ASSERT_EQUAL(d.xid, 0x57d23977);
	CU_ASSERT_EQUAL(d.has_ip, 0);

	CU_ASSERT_FATAL(load("dhcp_emre") == 4);
	p = udp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
	mac_eq(d.mac, "00:0b:82:01:fc:42");
	CU_ASSERT_STRING_EQUAL(d.fingerprint, "1,3,6,42");
	CU_ASSERT_STRING_EQUAL(d.client_id, "01:00:0b:82:01:fc:42");
	CU_ASSERT_EQUAL(d.has_ip, 0); /* requested 0.0.0.0 */
	p = udp_pl(1, &len);
	CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, OTS_DHCP_OFFER);
	ip4_eq(&d, "192.168.0.10");
	p = udp_pl(2, &len);
	CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, OTS_DHCP_REQUEST);
	ip4_eq(&d, "192.168.0.10");
	p = udp_pl(3, &len);
	CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, OTS_DHCP_ACK);
	CU_ASSERT_EQUAL(d.xid, 0x3d1e);
}

static size_t bootp(uint8_t *b, int cookie)
{
	memset(b, 0, 240);
	b[0] = 1, b[1] = 1, b[2] = 6;
	memcpy(b + 28, "\x00\x11\x22\x33\x44\x55", 6);
	if (cookie)
		memcpy(b + 236, "\x63\x82\x53\x63", 4);
	return cookie ? 240 : 236;
}

static void t_dhcp_malformed(void)
{
	uint8_t b[700];
	struct ots_disc d;
	/* BOOTP without cookie: header only */
	size_t o = bootp(b, 0);
	memcpy(b + 12, "\x0a\x01\x02\x03", 4);
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, 0);
	mac_eq(d.mac, "00:11:22:33:44:55");
	ip4_eq(&d, "10.1.2.3");
	memcpy(b + 236, "\x63\x82\x53\x64\x35\x01\x01", 7); /* wrong cookie: options not read */
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, 243, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, 0);
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, 235, &d), -EBADMSG);
	b[0] = 3; /* op */
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), -EBADMSG);
	o = bootp(b, 1);
	b[2] = 17; /* hlen */
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), -EBADMSG);
	b[2] = 8; /* not Ethernet: no MAC */
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), 0);
	CU_ASSERT_EQUAL(d.has_mac, 0);
	b[2] = 6;
	/* no End option, with pads */
	memcpy(b + o, "\x35\x01\x03\x00\x00\x0c\x03" "abc", 10);
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o + 10, &d), 0);
	CU_ASSERT_EQUAL(d.dhcp_type, 3);
	CU_ASSERT_STRING_EQUAL(d.hostname, "abc");
	/* option length past the end */
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o + 9, &d), -EBADMSG);
	CU_ASSERT_EQUAL(d.dhcp_type, 3); /* partial */
	/* code without its length byte */
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o + 6, &d), -EBADMSG);
	/* message type of length 2, requested IP of length 3 */
	memcpy(b + o, "\x35\x02\x03\x03\xff", 5);
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o + 5, &d), -EBADMSG);
	memcpy(b + o, "\x32\x03\x01\x02\x03\xff", 6);
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o + 6, &d), -EBADMSG);
	/* bytes after End are not read */
	memcpy(b + o, "\xff\x35\x05", 3);
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o + 3, &d), 0);
}

static void t_dhcp_options(void)
{
	uint8_t b[900];
	struct ots_disc d;
	size_t o = bootp(b, 1);
	/* vendor class without a known prefix -> description; long PRL cut at a whole number; FQDN wire format */
	uint8_t prl[2 + 255];
	prl[0] = 55, prl[1] = 255;
	for (int i = 0; i < 255; i++)
		prl[2 + i] = (uint8_t)(i + 1);
	memcpy(b + o, prl, sizeof(prl));
	o += sizeof(prl);
	memcpy(b + o, "\x3c\x0d" "udhcp 1.30.1\x01", 15);
	o += 15;
	memcpy(b + o, "\x51\x0f\x05\x00\x00\x04host\x03lan\x00\x00", 17);
	o += 17;
	memcpy(b + o, "\x32\x04\xc0\xa8\x01\x63\xff", 7);
	o += 7;
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.description, "udhcp 1.30.1?");
	CU_ASSERT_EQUAL(d.os[0], 0);
	CU_ASSERT_STRING_EQUAL(d.fingerprint, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24");
	CU_ASSERT(strlen(d.fingerprint) < sizeof(d.fingerprint));
	CU_ASSERT_STRING_EQUAL(d.name, "host.lan");
	CU_ASSERT_STRING_EQUAL(d.hostname, "host"); /* no option 12: first label of the FQDN */
	ip4_eq(&d, "192.168.1.99");
	/* ASCII FQDN, option 12 wins for hostname; android vendor class */
	o = bootp(b, 1);
	memcpy(b + o, "\x51\x0b\x01\x00\x00pc.corp\x00", 13);
	o += 13;
	memcpy(b + o, "\x0c\x02pc\x3c\x11" "android-dhcp-13\x00\x00\xff", 24);
	o += 24;
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "pc.corp");
	CU_ASSERT_STRING_EQUAL(d.hostname, "pc");
	CU_ASSERT_STRING_EQUAL(d.os, "Android");
	/* a reply's option 60/55/61 is the server's: ignored */
	o = bootp(b, 1);
	b[0] = 2;
	memcpy(b + o, "\x3c\x04MSFT\x37\x01\x01\x3d\x01\x01\xff", 12);
	o += 12;
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), 0);
	CU_ASSERT_EQUAL(d.os[0], 0);
	CU_ASSERT_EQUAL(d.fingerprint[0], 0);
	CU_ASSERT_EQUAL(d.client_id[0], 0);
	/* client id of 255 bytes: hex capped */
	o = bootp(b, 1);
	b[o] = 61, b[o + 1] = 255;
	memset(b + o + 2, 0xab, 255);
	o += 257;
	CU_ASSERT_EQUAL(ots_dhcp_parse(b, o, &d), 0);
	CU_ASSERT_EQUAL(strlen(d.client_id), 47);
}

/* ---- ARP ---- */

static void t_arp(void)
{
	size_t len;
	struct ots_disc d;
	CU_ASSERT_FATAL(load("arp_who_has") == 2);
	const uint8_t *p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_arp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.source, OTS_DISC_ARP);
	CU_ASSERT_EQUAL(d.arp_op, 1);
	mac_eq(d.mac, "78:31:c1:c6:3f:c2");
	ip4_eq(&d, "10.0.0.2");
	mac_eq(d.target_mac, "00:00:00:00:00:00");
	CU_ASSERT_EQUAL(memcmp(d.target_ip, "\x0a\x00\x00\x01", 4), 0);
	CU_ASSERT_EQUAL(d.gratuitous, 0);
	p = lldp_pl(1, &len);
	CU_ASSERT_EQUAL(ots_arp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.arp_op, 2);
	mac_eq(d.mac, "f8:ed:a5:c0:a4:f1");
	ip4_eq(&d, "10.0.0.1");
	mac_eq(d.target_mac, "78:31:c1:c6:3f:c2");
	CU_ASSERT_EQUAL(memcmp(d.target_ip, "\x0a\x00\x00\x02", 4), 0);

	CU_ASSERT_FATAL(load("arp_emre") == 1);
	p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_arp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(d.arp_op, 1);
	mac_eq(d.mac, "ca:03:0d:b4:00:1c");
	ip4_eq(&d, "192.168.2.200");
	CU_ASSERT_EQUAL(memcmp(d.target_ip, "\xc0\xa8\x02\xfe", 4), 0);
	CU_ASSERT_EQUAL(d.gratuitous, 0);

	/* gratuitous: spa == tpa; probe: spa 0 -> no ip, not gratuitous */
	uint8_t b[28];
	memcpy(b, "\x00\x01\x08\x00\x06\x04\x00\x02\x00\x11\x22\x33\x44\x55\x0a\x00\x00\x05"
		  "\xff\xff\xff\xff\xff\xff\x0a\x00\x00\x05", 28);
	CU_ASSERT_EQUAL(ots_arp_parse(b, 28, &d), 0);
	CU_ASSERT_EQUAL(d.gratuitous, 1);
	memset(b + 14, 0, 4);
	memset(b + 24, 0, 4);
	CU_ASSERT_EQUAL(ots_arp_parse(b, 28, &d), 0);
	CU_ASSERT_EQUAL(d.has_ip, 0);
	CU_ASSERT_EQUAL(d.gratuitous, 0);
	CU_ASSERT_EQUAL(ots_arp_parse(b, 27, &d), -EBADMSG);
	b[3] = 0xdd; /* ptype */
	CU_ASSERT_EQUAL(ots_arp_parse(b, 28, &d), -EBADMSG);
	b[3] = 0x00;
	b[7] = 9; /* opcode */
	CU_ASSERT_EQUAL(ots_arp_parse(b, 28, &d), -EBADMSG);
	b[7] = 1;
	b[5] = 16; /* plen */
	CU_ASSERT_EQUAL(ots_arp_parse(b, 28, &d), -EBADMSG);
}

/* ---- identities ---- */

struct idrec {
	int n;
	int kind[16], conf[16];
	char v[16][130];
};

static void on_id(void *ud, int kind, int conf, const char *v)
{
	struct idrec *r = ud;
	if (r->n >= 16)
		return;
	r->kind[r->n] = kind;
	r->conf[r->n] = conf;
	snprintf(r->v[r->n], sizeof(r->v[0]), "%s", v);
	r->n++;
}

static void t_identities(void)
{
	size_t len;
	struct ots_disc d;
	struct idrec r = {0};
	CU_ASSERT_FATAL(load("cdp_v1") == 1);
	const uint8_t *p = cdp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_cdp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(ots_disc_identities(&d, on_id, &r), 5);
	CU_ASSERT_EQUAL(r.n, 5);
	CU_ASSERT_EQUAL(r.kind[0], OTS_ATTR_NAME);
	CU_ASSERT_EQUAL(r.conf[0], 80);
	CU_ASSERT_STRING_EQUAL(r.v[0], "R1");
	CU_ASSERT_EQUAL(r.kind[1], OTS_ATTR_DESCRIPTION);
	CU_ASSERT_EQUAL(r.conf[1], 70);
	CU_ASSERT_EQUAL(r.kind[2], OTS_ATTR_MODEL);
	CU_ASSERT_STRING_EQUAL(r.v[2], "cisco 1601");
	CU_ASSERT_EQUAL(r.kind[3], OTS_ATTR_FIRMWARE);
	CU_ASSERT_EQUAL(r.conf[3], 60);
	CU_ASSERT_STRING_EQUAL(r.v[3], "11.2(12)P");
	CU_ASSERT_EQUAL(r.kind[4], OTS_ATTR_DEVICE_TYPE);
	CU_ASSERT_EQUAL(r.conf[4], 50);
	CU_ASSERT_STRING_EQUAL(r.v[4], "router");

	CU_ASSERT_FATAL(load("dhcp_msft") == 1);
	p = udp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_dhcp_parse(p, len, &d), 0);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(ots_disc_identities(&d, on_id, &r), 2);
	CU_ASSERT_EQUAL(r.kind[0], OTS_ATTR_HOSTNAME);
	CU_ASSERT_EQUAL(r.conf[0], 80);
	CU_ASSERT_STRING_EQUAL(r.v[0], "DESKTOP-M5C7L14");
	CU_ASSERT_EQUAL(r.kind[1], OTS_ATTR_OS);
	CU_ASSERT_EQUAL(r.conf[1], 50);
	CU_ASSERT_STRING_EQUAL(r.v[1], "Windows");
	CU_ASSERT_EQUAL(ots_disc_identities(&d, NULL, NULL), 2);

	CU_ASSERT_FATAL(load("arp_emre") == 1);
	p = lldp_pl(0, &len);
	CU_ASSERT_EQUAL(ots_arp_parse(p, len, &d), 0);
	CU_ASSERT_EQUAL(ots_disc_identities(&d, on_id, &r), 0);
	CU_ASSERT_STRING_EQUAL(ots_disc_source_name(OTS_DISC_LLDP), "lldp");
	CU_ASSERT_STRING_EQUAL(ots_disc_source_name(99), "?");
}

/* ---- every fixture cut at every length ---- */

static int str_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int disc_ok(const struct ots_disc *d)
{
#define S(f) str_ok(d->f, sizeof(d->f))
	return S(name) && S(description) && S(model) && S(firmware) && S(vendor) && S(serial) && S(hostname) &&
	       S(device_type) && S(os) && S(fingerprint) && S(vendor_class) && S(client_id) && S(chassis) && S(port) &&
	       S(port_desc);
#undef S
}

typedef int (*parse_fn)(const uint8_t *, size_t, struct ots_disc *);

static void cut_all(const char *name, parse_fn fn, const uint8_t *(*pl)(int, size_t *), int *zero_at_full)
{
	CU_ASSERT_FATAL(load(name) > 0);
	for (int i = 0; i < fx.n; i++) {
		size_t len;
		const uint8_t *p = pl(i, &len);
		struct ots_disc d;
		int full = fn(p, len, &d);
		CU_ASSERT_EQUAL(full, 0);
		if (full == 0 && zero_at_full)
			(*zero_at_full)++;
		for (size_t c = 0; c <= len; c++) {
			uint8_t *h = malloc(c ? c : 1);
			CU_ASSERT_FATAL(h != NULL);
			memcpy(h, p, c);
			int rc = fn(h, c, &d);
			if (rc != 0 && rc != -EBADMSG) {
				CU_FAIL("unexpected return");
				fprintf(stderr, "%s frame %u cut %zu: rc %d\n", name, fx.frame[i], c, rc);
			}
			CU_ASSERT(disc_ok(&d));
			free(h);
		}
	}
}

static void t_truncated(void)
{
	int ok = 0;
	cut_all("lldp_zeek", ots_lldp_parse, lldp_pl, &ok);
	cut_all("lldp_siemens", ots_lldp_parse, lldp_pl, &ok);
	cut_all("lldp_cisco", ots_lldp_parse, lldp_pl, &ok);
	cut_all("lldp_extreme", ots_lldp_parse, lldp_pl, &ok);
	cut_all("lldp_procurve", ots_lldp_parse, lldp_pl, &ok);
	cut_all("cdp_v1", ots_cdp_parse, cdp_pl, &ok);
	cut_all("cdp_v2", ots_cdp_parse, cdp_pl, &ok);
	cut_all("cdp_cisco", ots_cdp_parse, cdp_pl, &ok);
	cut_all("dhcp_zeek", ots_dhcp_parse, udp_pl, &ok);
	cut_all("dhcp_emre", ots_dhcp_parse, udp_pl, &ok);
	cut_all("dhcp_msft", ots_dhcp_parse, udp_pl, &ok);
	cut_all("arp_who_has", ots_arp_parse, lldp_pl, &ok);
	cut_all("arp_emre", ots_arp_parse, lldp_pl, &ok);
	CU_ASSERT_EQUAL(ok, 1 + 2 + 2 + 1 + 1 + 1 + 1 + 2 + 9 + 4 + 1 + 2 + 1);

	/* LLDP cut in the middle of a TLV is malformed; cut right before End it is accepted with every field */
	CU_ASSERT_FATAL(load("lldp_zeek") == 1);
	size_t len;
	const uint8_t *p = lldp_pl(0, &len);
	struct ots_disc d;
	CU_ASSERT_EQUAL(ots_lldp_parse(p, 10, &d), -EBADMSG);
	size_t end = 2 + 7 + 2 + 2 + 2 + 2 + 2 + 7 + 2 + 13 + 2 + 35 + 2 + 4 + 2 + 12;
	CU_ASSERT_EQUAL(p[end], 0);
	CU_ASSERT_EQUAL(ots_lldp_parse(p, end, &d), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "SMCGS8P-Smart");
	ip4_eq(&d, "192.168.2.10");
	CU_ASSERT_EQUAL(ots_lldp_parse(p, end - 1, &d), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(d.name, "SMCGS8P-Smart"); /* partial */
}

static const struct ots_test lldp_tests[] = {
	{"lldp zeek (SMC switch)", t_lldp_zeek},
	{"lldp siemens S7-1200 / KTP700", t_lldp_siemens},
	{"lldp cisco C3560", t_lldp_cisco},
	{"lldp extreme / procurve", t_lldp_others},
	{"lldp malformed TLVs", t_lldp_malformed},
	{"lldp long strings, MED inventory, IPv6", t_lldp_strings_med_ipv6},
	{NULL, NULL},
};
static const struct ots_test cdp_tests[] = {
	{"cdp v1 (cisco 1601)", t_cdp_v1},
	{"cdp v2 (C2950, C3560)", t_cdp_v2},
	{"cdp malformed TLVs, addresses", t_cdp_malformed},
	{NULL, NULL},
};
static const struct ots_test dhcp_tests[] = {
	{"dhcp zeek exchange", t_dhcp_zeek},
	{"dhcp MSFT fingerprint", t_dhcp_fingerprint},
	{"dhcp malformed / no cookie", t_dhcp_malformed},
	{"dhcp options 55/60/61/81", t_dhcp_options},
	{NULL, NULL},
};
static const struct ots_test misc_tests[] = {
	{"arp", t_arp},
	{"identities", t_identities},
	{"every fixture truncated at every byte", t_truncated},
	{NULL, NULL},
};

static const struct ots_suite suites[] = {
	{"lldp", lldp_tests, NULL, NULL},
	{"cdp", cdp_tests, NULL, NULL},
	{"dhcp", dhcp_tests, NULL, NULL},
	{"arp+misc", misc_tests, NULL, NULL},
	{NULL, NULL, NULL, NULL},
};

int main(void)
{
	return ots_test_main("test_discovery", suites);
}
