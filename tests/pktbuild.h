/* tests/pktbuild.h - build test frames byte by byte (Ethernet, VLAN, IPv4, IPv6, TCP, UDP). Each builder writes
 * one header at p and returns its length; lengths and checksums are the caller's business. */
#ifndef OTS_TEST_PKTBUILD_H
#define OTS_TEST_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* builders: return length written */
static inline size_t eth(uint8_t *p, uint16_t et)
{
	memset(p, 0, 14);
	memcpy(p, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 12);
	p[12] = (uint8_t)(et >> 8);
	p[13] = (uint8_t)et;
	return 14;
}

static inline size_t vlan(uint8_t *p, uint16_t tpid, uint16_t id, uint16_t et)
{
	p[0] = (uint8_t)(tpid >> 8);
	p[1] = (uint8_t)tpid;
	p[2] = (uint8_t)(id >> 8);
	p[3] = (uint8_t)id;
	p[4] = (uint8_t)(et >> 8);
	p[5] = (uint8_t)et;
	return 6; /* overwrites the ethertype slot of the previous header: caller passes p at offset 12 */
}

static inline size_t ipv4(uint8_t *p, uint8_t proto, uint16_t l4len, const char *src, const char *dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	uint16_t tot = (uint16_t)(20 + l4len);
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	return 20;
}

static inline size_t ipv6(uint8_t *p, uint8_t nh, uint16_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)(plen >> 8);
	p[5] = (uint8_t)plen;
	p[6] = nh;
	p[7] = 64;
	p[23] = 1; /* ::1 style addresses */
	p[39] = 2;
	return 40;
}

static inline size_t tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
	memset(p, 0, 20);
	p[0] = (uint8_t)(sport >> 8);
	p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	p[4] = (uint8_t)(seq >> 24);
	p[5] = (uint8_t)(seq >> 16);
	p[6] = (uint8_t)(seq >> 8);
	p[7] = (uint8_t)seq;
	p[12] = 0x50;
	p[13] = flags;
	return 20;
}

static inline size_t udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t plen)
{
	uint16_t l = (uint16_t)(8 + plen);
	p[0] = (uint8_t)(sport >> 8);
	p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	p[4] = (uint8_t)(l >> 8);
	p[5] = (uint8_t)l;
	p[6] = p[7] = 0;
	return 8;
}

#endif
