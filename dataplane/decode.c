/* dataplane/decode.c - bounds-checked packet decode (see decode.h for the contract).
 *
 * Layout: one function per layer, each taking (p, len) of what is left and returning how it went.
 * Nothing here reads beyond p + len; every length field from the wire is checked before use.
 */
#include "dataplane/decode.h"

#include <stddef.h>

#define OTS_X_NAME(name, bad, help) #name,
const char *const ots_decode_event_names[OTS_DEV_MAX] = { OTS_DECODE_EVENTS(OTS_X_NAME) };
#undef OTS_X_NAME
#define OTS_X_HELP(name, bad, help) help,
const char *const ots_decode_event_help[OTS_DEV_MAX] = { OTS_DECODE_EVENTS(OTS_X_HELP) };
#undef OTS_X_HELP
#define OTS_X_BAD(name, bad, help) bad,
const uint8_t ots_decode_event_malformed[OTS_DEV_MAX] = { OTS_DECODE_EVENTS(OTS_X_BAD) };
#undef OTS_X_BAD

#define EV(pkt, e) ((pkt)->events |= (1ull << OTS_DEV_##e))

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define ETH_P_IPV6 0x86dd

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_    1
#define IPPROTO_TCP_     6
#define IPPROTO_UDP_     17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAG_    44
#define IPPROTO_AH_      51
#define IPPROTO_ICMPV6_  58
#define IPPROTO_NONE_    59
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MH_      135

#define OTS_MAX_IPV6_EXT 8

static void decode_l4(const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	switch (pkt->ip_proto) {
	case IPPROTO_TCP_: {
		if (len < 20) {
			EV(pkt, tcp_truncated);
			return;
		}
		uint32_t off = (uint32_t)(p[12] >> 4) * 4;
		if (off < 20 || off > len) {
			EV(pkt, tcp_bad_offset);
			return;
		}
		pkt->sport = ots_be16(p);
		pkt->dport = ots_be16(p + 2);
		pkt->seq = ots_be32(p + 4);
		pkt->ack = ots_be32(p + 8);
		pkt->tcp_flags = p[13];
		pkt->payload = p + off;
		pkt->payload_len = len - off;
		pkt->flow_ok = 1;
		return;
	}
	case IPPROTO_UDP_: {
		if (len < 8) {
			EV(pkt, udp_truncated);
			return;
		}
		uint32_t ulen = ots_be16(p + 4);
		if (ulen < 8 || ulen > len) {
			/* ulen > len is also what a snaplen-cut capture looks like: keep the flow, flag it */
			if (ulen < 8) {
				EV(pkt, udp_bad_length);
				return;
			}
			if (!(pkt->events & ((1ull << OTS_DEV_ipv4_len_exceeds_capture) |
					     (1ull << OTS_DEV_ipv6_len_exceeds_capture)))) {
				EV(pkt, udp_bad_length);
				return;
			}
			ulen = len;
		}
		pkt->sport = ots_be16(p);
		pkt->dport = ots_be16(p + 2);
		pkt->payload = p + 8;
		pkt->payload_len = ulen - 8;
		pkt->flow_ok = 1;
		return;
	}
	case IPPROTO_ICMP_:
		if (len < 4) {
			EV(pkt, icmp_truncated);
			return;
		}
		pkt->flow_ok = 1;
		return;
	case IPPROTO_ICMPV6_:
		if (len < 4) {
			EV(pkt, icmpv6_truncated);
			return;
		}
		pkt->flow_ok = 1;
		return;
	default:
		EV(pkt, ip_unknown_proto);
		pkt->flow_ok = 1; /* an "other" flow keyed by addresses and protocol */
		return;
	}
}

static void decode_ipv4_options(const uint8_t *o, uint32_t olen, struct ots_pkt *pkt)
{
	EV(pkt, ipv4_options);
	uint32_t i = 0;
	while (i < olen) {
		uint8_t type = o[i];
		if (type == 0) /* end of list */
			return;
		if (type == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= olen || o[i + 1] < 2 || i + o[i + 1] > olen) {
			EV(pkt, ipv4_bad_option);
			return;
		}
		i += o[i + 1];
	}
}

static void decode_ipv4(const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	pkt->l3 = p;
	pkt->l3_type = OTS_L3_IPV4;
	if (len < 20) {
		EV(pkt, ipv4_truncated);
		return;
	}
	if ((p[0] >> 4) != 4) {
		EV(pkt, ipv4_bad_version);
		return;
	}
	uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len) {
		EV(pkt, ipv4_bad_ihl);
		return;
	}
	uint32_t tot = ots_be16(p + 2);
	if (tot < ihl) {
		/* TSO/LRO captures on the sending host show total length 0: treat as "to the end of the capture" */
		if (tot != 0) {
			EV(pkt, ipv4_bad_total_len);
			return;
		}
		tot = len;
	}
	if (tot > len) {
		EV(pkt, ipv4_len_exceeds_capture);
		tot = len;
	}
	if (ihl > 20)
		decode_ipv4_options(p + 20, ihl - 20, pkt);
	pkt->family = 4;
	pkt->ip_proto = p[9];
	memcpy(&pkt->src[0], p + 12, 4);
	memcpy(&pkt->dst[0], p + 16, 4);
	uint16_t frag = ots_be16(p + 6);
	if (frag & 0x3fff) { /* MF set or offset != 0 */
		EV(pkt, ipv4_fragment);
		pkt->flags |= OTS_PF_FRAG;
		if (frag & 0x1fff) {
			pkt->flags |= OTS_PF_FRAG_LATE;
			return; /* no L4 header here */
		}
	}
	decode_l4(p + ihl, tot - ihl, pkt);
}

static void decode_ipv6(const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	pkt->l3 = p;
	pkt->l3_type = OTS_L3_IPV6;
	if (len < 40) {
		EV(pkt, ipv6_truncated);
		return;
	}
	if ((p[0] >> 4) != 6) {
		EV(pkt, ipv6_bad_version);
		return;
	}
	uint32_t plen = ots_be16(p + 4);
	if (plen == 0 || plen > len - 40) { /* 0: jumbogram or TSO capture; use what was captured */
		if (plen != 0)
			EV(pkt, ipv6_len_exceeds_capture);
		plen = len - 40;
	}
	pkt->family = 6;
	memcpy(pkt->src, p + 8, 16);
	memcpy(pkt->dst, p + 24, 16);
	uint8_t nh = p[6];
	const uint8_t *q = p + 40;
	uint32_t left = plen;
	for (int n = 0;; n++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_MH_:
		case IPPROTO_AH_:
		case IPPROTO_FRAG_: {
			if (n >= OTS_MAX_IPV6_EXT) {
				EV(pkt, ipv6_ext_too_many);
				return;
			}
			EV(pkt, ipv6_ext_headers);
			if (left < 8) {
				EV(pkt, ipv6_ext_truncated);
				return;
			}
			uint32_t hlen;
			if (nh == IPPROTO_FRAG_) {
				hlen = 8;
				uint16_t off = ots_be16(q + 2);
				EV(pkt, ipv6_fragment);
				pkt->flags |= OTS_PF_FRAG;
				if (off & 0xfff8) {
					pkt->flags |= OTS_PF_FRAG_LATE;
					pkt->ip_proto = q[0];
					return;
				}
			} else if (nh == IPPROTO_AH_) {
				hlen = ((uint32_t)q[1] + 2) * 4;
			} else {
				hlen = ((uint32_t)q[1] + 1) * 8;
			}
			if (hlen > left) {
				EV(pkt, ipv6_ext_truncated);
				return;
			}
			nh = q[0];
			q += hlen;
			left -= hlen;
			continue;
		}
		case IPPROTO_NONE_:
			pkt->ip_proto = nh;
			pkt->flow_ok = 1;
			return;
		default:
			pkt->ip_proto = nh;
			decode_l4(q, left, pkt);
			return;
		}
	}
}

static void decode_arp(const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	pkt->l3 = p;
	pkt->l3_type = OTS_L3_ARP;
	if (len < 8 || len < 8u + 2u * ((uint32_t)p[4] + p[5])) {
		EV(pkt, arp_truncated);
		return;
	}
}

static void decode_ethertype(uint16_t et, const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	pkt->ethertype = et;
	switch (et) {
	case ETH_P_IPV4:
		decode_ipv4(p, len, pkt);
		return;
	case ETH_P_IPV6:
		decode_ipv6(p, len, pkt);
		return;
	case ETH_P_ARP:
		decode_arp(p, len, pkt);
		return;
	default:
		pkt->l3 = p;
		pkt->l3_type = OTS_L3_OTHER;
		return;
	}
}

static void decode_ethernet(const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	if (len < 14) {
		EV(pkt, link_truncated);
		return;
	}
	uint16_t et = ots_be16(p + 12);
	uint32_t off = 14;
	int tags = 0;
	while (et == ETH_P_VLAN || et == ETH_P_QINQ || et == ETH_P_QINQ_OLD) {
		if (tags == 2) {
			EV(pkt, vlan_too_deep);
			return;
		}
		if (len < off + 4) {
			EV(pkt, vlan_truncated);
			return;
		}
		pkt->vlan[tags++] = ots_be16(p + off) & 0x0fff;
		et = ots_be16(p + off + 2);
		off += 4;
	}
	if (et < 0x0600) { /* 802.3 length field: LLC/SNAP (CDP, STP, ...): no IP here */
		pkt->ethertype = 0;
		pkt->l3 = p + off;
		pkt->l3_type = OTS_L3_OTHER;
		return;
	}
	decode_ethertype(et, p + off, len - off, pkt);
}

static void decode_ip_by_version(const uint8_t *p, uint32_t len, struct ots_pkt *pkt)
{
	if (len < 1) {
		EV(pkt, link_truncated);
		return;
	}
	if ((p[0] >> 4) == 4)
		decode_ipv4(p, len, pkt);
	else if ((p[0] >> 4) == 6)
		decode_ipv6(p, len, pkt);
	else
		EV(pkt, link_unsupported);
}

static void decode_null(const uint8_t *p, uint32_t len, struct ots_pkt *pkt, int loop)
{
	if (len < 4) {
		EV(pkt, link_truncated);
		return;
	}
	uint32_t fam;
	if (loop) {
		fam = ots_be32(p);
	} else { /* DLT_NULL: host byte order of the capturing machine: accept either */
		memcpy(&fam, p, 4);
		if (fam > 0xffff)
			fam = __builtin_bswap32(fam);
	}
	switch (fam) {
	case 2: /* AF_INET */
		decode_ipv4(p + 4, len - 4, pkt);
		return;
	case 10: case 24: case 28: case 30: /* AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin */
		decode_ipv6(p + 4, len - 4, pkt);
		return;
	default:
		EV(pkt, link_unsupported);
	}
}

int ots_decode(const uint8_t *p, uint32_t caplen, int linktype, struct ots_pkt *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	switch (linktype) {
	case OTS_LINK_ETHERNET:
		decode_ethernet(p, caplen, pkt);
		break;
	case OTS_LINK_LINUX_SLL:
		if (caplen < 16) {
			EV(pkt, link_truncated);
			break;
		}
		decode_ethertype(ots_be16(p + 14), p + 16, caplen - 16, pkt);
		break;
	case OTS_LINK_LINUX_SLL2:
		if (caplen < 20) {
			EV(pkt, link_truncated);
			break;
		}
		decode_ethertype(ots_be16(p), p + 20, caplen - 20, pkt);
		break;
	case OTS_LINK_RAW:
	case OTS_LINK_IPV4:
	case OTS_LINK_IPV6:
		decode_ip_by_version(p, caplen, pkt);
		break;
	case OTS_LINK_NULL:
	case OTS_LINK_LOOP:
		decode_null(p, caplen, pkt, linktype == OTS_LINK_LOOP);
		break;
	default:
		EV(pkt, link_unsupported);
		break;
	}
	return pkt->l3_type;
}
