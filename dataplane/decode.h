/* dataplane/decode.h - packet decode: link layer, 802.1Q/QinQ, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6.
 *
 * Contract:
 *  - Pure C over (bytes, captured length, link type): no DPDK include, no allocation, no global state.
 *  - Every header length is checked against the captured length; nothing is read past p + caplen.
 *  - Anything malformed or notable sets a named event bit in pkt->events (table OTS_DECODE_EVENTS below);
 *    the caller counts them. Malformed input never crashes and never makes a flow out of garbage.
 *  - pkt->flow_ok is set when the packet carries a usable IP flow key (addresses, proto, ports for TCP/UDP).
 *    Non-first IPv4/IPv6 fragments have no ports: flow_ok stays 0 (counted as ipv4_fragment/ipv6_fragment).
 *  - Addresses are kept in network byte order; IPv4 uses src[0]/dst[0] with the rest zero.
 */
#ifndef OTS_DECODE_H
#define OTS_DECODE_H

#include <stdint.h>
#include <string.h>

/* link types (values of libpcap's DLT_*, the only numbering the tools agree on) */
#define OTS_LINK_NULL      0
#define OTS_LINK_ETHERNET  1
#define OTS_LINK_RAW       101
#define OTS_LINK_LOOP      108
#define OTS_LINK_LINUX_SLL 113
#define OTS_LINK_IPV4      228
#define OTS_LINK_IPV6      229
#define OTS_LINK_LINUX_SLL2 276

/* name, is it a malformation (1) or just notable (0), help */
#define OTS_DECODE_EVENTS(X)                                                                       \
	X(link_truncated, 1, "frame shorter than its link-layer header")                                \
	X(link_unsupported, 1, "link type or loopback family not decoded")                               \
	X(vlan_truncated, 1, "802.1Q/802.1ad tag cut short")                                             \
	X(vlan_too_deep, 1, "more than two VLAN tags")                                                   \
	X(arp_truncated, 1, "ARP shorter than its fixed header or addresses")                            \
	X(ipv4_truncated, 1, "IPv4 header cut short")                                                     \
	X(ipv4_bad_version, 1, "IPv4 version field is not 4")                                             \
	X(ipv4_bad_ihl, 1, "IPv4 header length below 20 bytes or beyond the capture")                     \
	X(ipv4_bad_total_len, 1, "IPv4 total length smaller than its header")                            \
	X(ipv4_len_exceeds_capture, 0, "IPv4 total length beyond captured bytes (snaplen?)")              \
	X(ipv4_options, 0, "IPv4 header carries options")                                                \
	X(ipv4_bad_option, 1, "IPv4 option with a bad length")                                            \
	X(ipv4_fragment, 0, "IPv4 fragment")                                                               \
	X(ipv6_truncated, 1, "IPv6 header cut short")                                                      \
	X(ipv6_bad_version, 1, "IPv6 version field is not 6")                                              \
	X(ipv6_len_exceeds_capture, 0, "IPv6 payload length beyond captured bytes (snaplen?)")            \
	X(ipv6_ext_headers, 0, "IPv6 extension headers present")                                          \
	X(ipv6_ext_truncated, 1, "IPv6 extension header cut short")                                        \
	X(ipv6_ext_too_many, 1, "more than 8 IPv6 extension headers")                                     \
	X(ipv6_fragment, 0, "IPv6 fragment")                                                               \
	X(tcp_truncated, 1, "TCP header cut short")                                                        \
	X(tcp_bad_offset, 1, "TCP data offset below 20 bytes or beyond the packet")                      \
	X(udp_truncated, 1, "UDP header cut short")                                                        \
	X(udp_bad_length, 1, "UDP length below 8 or beyond the IP payload")                              \
	X(icmp_truncated, 1, "ICMP header cut short")                                                      \
	X(icmpv6_truncated, 1, "ICMPv6 header cut short")                                                  \
	X(ip_unknown_proto, 0, "IP protocol other than TCP/UDP/ICMP")

enum ots_decode_event {
#define OTS_X_ENUM(name, bad, help) OTS_DEV_##name,
	OTS_DECODE_EVENTS(OTS_X_ENUM)
#undef OTS_X_ENUM
	OTS_DEV_MAX
};

extern const char *const ots_decode_event_names[OTS_DEV_MAX];
extern const char *const ots_decode_event_help[OTS_DEV_MAX];
extern const uint8_t ots_decode_event_malformed[OTS_DEV_MAX];

/* network-layer kind */
enum ots_l3 { OTS_L3_NONE = 0, OTS_L3_ARP, OTS_L3_IPV4, OTS_L3_IPV6, OTS_L3_OTHER, OTS_L3_MAX };

#define OTS_PF_FRAG      0x01u /* a fragment (any) */
#define OTS_PF_FRAG_LATE 0x02u /* not the first fragment: no L4 header */

struct ots_pkt {
	uint64_t events;           /* OTS_DEV_* bits */
	const uint8_t *l3;         /* start of the network header */
	const uint8_t *payload;    /* L4 payload (TCP/UDP), within the capture */
	uint32_t payload_len;      /* captured payload bytes, padding trimmed */
	uint16_t ethertype;        /* innermost ethertype (0 for raw IP links) */
	uint16_t vlan[2];          /* outer and inner VLAN id, 0 when absent */
	uint8_t l3_type;           /* enum ots_l3 */
	uint8_t ip_proto;          /* 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ... */
	uint8_t family;            /* 4 or 6 */
	uint8_t tcp_flags;
	uint8_t flags;             /* OTS_PF_* */
	uint8_t flow_ok;
	uint16_t sport, dport;     /* host order; ICMP: 0 */
	uint32_t seq, ack;         /* TCP, host order */
	uint32_t src[4], dst[4];   /* network order */
};

/* Decode one frame. Returns pkt->l3_type. Always fills *pkt (zeroed first). */
int ots_decode(const uint8_t *p, uint32_t caplen, int linktype, struct ots_pkt *pkt);

/* bounds-checked big-endian loads: callers check the length first; these only avoid unaligned casts */
static inline uint16_t ots_be16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}

static inline uint32_t ots_be32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

#endif
