/* protocols/discovery.h - device-discovery parsers: LLDP, CDP, DHCP (BOOTP), ARP.
 *
 * Contract:
 *  - Pure functions over one PDU: no DPDK include, no allocation, no globals but read-only tables; every length
 *    is checked before a byte is read. Each parse function zeroes *out first, then fills what it finds.
 *  - Return 0 when the PDU was understood (possibly partially: a PDU that ends cleanly on a TLV/option boundary
 *    without its End TLV/option is accepted), -EBADMSG when it is malformed (a TLV/option length running past
 *    the buffer, a fixed-size field of the wrong size, a bad header). On -EBADMSG *out holds what was parsed
 *    before the error; the caller counts the malformed PDU.
 *  - Strings are copied with their field's cap, always NUL-terminated; bytes 0x20..0x7e are kept, \t \r \n become
 *    ' ', any other byte becomes '?'; trailing NULs and spaces are dropped.
 *  - What a device is:
 *      LLDP  the sender: mac = chassis id (subtype MAC), ip = first management address (IPv4 preferred), else a
 *            chassis id of subtype network address. name = System Name, description = System Description,
 *            capabilities = system capabilities (LLDP bit values), cap_enabled = enabled ones. LLDP-MED inventory
 *            (TLV 127, OUI 00-12-BB): firmware (FW rev, else SW rev), model, vendor, serial.
 *      CDP   the sender: name = Device ID, ip = first IPv4 of Addresses (else Management Addresses; IPv6 when no
 *            IPv4; all-zero addresses skipped), port = Port ID, capabilities mapped to LLDP bit values, description = Software Version,
 *            firmware = the token after "Version " in it, model = Platform.
 *      DHCP  the client: mac = chaddr (htype 1, hlen 6), ip = ciaddr, else yiaddr (replies), else option 50;
 *            hostname = option 12 (else the first label of option 81), name = option 81 domain name. From client
 *            messages (op 1) only: vendor_class (60) -> os ("MSFT" -> Windows, "android-dhcp" -> Android) or,
 *            without a known prefix, description; fingerprint = option 55 as "1,3,6,15"; client_id = option 61
 *            as hex "01:00:11:..". Without the magic cookie the BOOTP header alone is returned (dhcp_type 0).
 *      ARP   the sender (sha, spa; has_ip only when spa != 0.0.0.0); target_mac/target_ip kept; gratuitous when
 *            spa == tpa.
 *  - device_type for LLDP/CDP comes from capabilities (enabled ones when non-zero): none when station is set
 *    (PLCs with a built-in switch announce bridge + station), else bridge -> "switch", else router -> "router", else WLAN AP
 *    -> "access point", else telephone -> "phone", else DOCSIS -> "cable modem".
 */
#ifndef OTS_DISCOVERY_H
#define OTS_DISCOVERY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

enum ots_disc_source { OTS_DISC_NONE = 0, OTS_DISC_LLDP, OTS_DISC_CDP, OTS_DISC_DHCP, OTS_DISC_ARP };

/* capability bits (LLDP 802.1AB values; CDP capabilities are mapped onto them) */
#define OTS_DISC_CAP_OTHER     0x0001u
#define OTS_DISC_CAP_REPEATER  0x0002u
#define OTS_DISC_CAP_BRIDGE    0x0004u
#define OTS_DISC_CAP_WLAN_AP   0x0008u
#define OTS_DISC_CAP_ROUTER    0x0010u
#define OTS_DISC_CAP_TELEPHONE 0x0020u
#define OTS_DISC_CAP_DOCSIS    0x0040u
#define OTS_DISC_CAP_STATION   0x0080u

/* DHCP message types (option 53) */
#define OTS_DHCP_DISCOVER 1
#define OTS_DHCP_OFFER    2
#define OTS_DHCP_REQUEST  3
#define OTS_DHCP_DECLINE  4
#define OTS_DHCP_ACK      5
#define OTS_DHCP_NAK      6
#define OTS_DHCP_RELEASE  7
#define OTS_DHCP_INFORM   8

struct ots_disc {
	uint8_t source;      /* enum ots_disc_source */
	uint8_t has_mac;
	uint8_t has_ip;
	uint8_t ip_family;   /* 4 or 6 when has_ip */
	uint8_t mac[6];      /* the device described */
	uint8_t ip[16];      /* IPv4 in the first 4 bytes, network order */
	uint32_t capabilities; /* OTS_DISC_CAP_* */
	uint32_t cap_enabled;  /* LLDP enabled capabilities (CDP: = capabilities) */
	uint16_t ttl;        /* LLDP/CDP hold time, seconds */
	uint8_t version;     /* CDP version */
	uint8_t dhcp_op;     /* BOOTP op: 1 request, 2 reply */
	uint8_t dhcp_type;   /* option 53, 0 when absent */
	uint8_t gratuitous;  /* ARP */
	uint16_t arp_op;     /* 1 request, 2 reply, 3/4 RARP */
	uint32_t xid;        /* DHCP transaction id */
	uint8_t target_mac[6]; /* ARP */
	uint8_t target_ip[4];  /* ARP, network order */
	char name[64];
	char description[128];
	char model[64];
	char firmware[64];
	char vendor[64];
	char serial[32];
	char hostname[64];
	char device_type[64];
	char os[32];
	char fingerprint[64]; /* DHCP option 55 "1,3,6,15,..." */
	char vendor_class[64]; /* DHCP option 60 as sent */
	char client_id[48];   /* DHCP option 61, hex with ':' */
	char chassis[64];     /* LLDP chassis id as text (MAC as aa:bb:.., network address dotted) */
	char port[32];        /* LLDP/CDP port id */
	char port_desc[64];   /* LLDP port description */
};

/* p: LLDPDU (after the Ethernet header, ethertype 0x88cc) */
int ots_lldp_parse(const uint8_t *p, size_t len, struct ots_disc *out);
/* p: CDP header + TLVs (after 802.3 + LLC AA AA 03 + SNAP 00 00 0C 20 00) */
int ots_cdp_parse(const uint8_t *p, size_t len, struct ots_disc *out);
/* p: UDP payload of port 67/68 (BOOTP) */
int ots_dhcp_parse(const uint8_t *p, size_t len, struct ots_disc *out);
/* p: ARP packet (after the Ethernet header, ethertype 0x0806); Ethernet/IPv4 only */
int ots_arp_parse(const uint8_t *p, size_t len, struct ots_disc *out);

/* Calls fn once per non-empty identity field, kind = enum ots_attr_kind (export/record.h):
 *   name 80, hostname 80, description 70, model 70, vendor 70, serial 70, firmware 60, os 50, device_type 50.
 * v is NUL-terminated. Returns the number of calls. */
size_t ots_disc_identities(const struct ots_disc *d, void (*fn)(void *ud, int kind, int confidence, const char *v),
			   void *ud);

const char *ots_disc_source_name(unsigned source);

#endif
