/* protocols/registry.h - the one table of application protocols.
 *
 * Contract:
 *  - Every app protocol otsense knows is one row of OTS_PROTOCOLS (registry.c): name, transport(s), well-known
 *    ports, and optional probe/parse functions. Parsers plug in by filling their row; nothing else lists them.
 *  - ots_registry_init() builds read-only port lookup tables once at start; workers only read them.
 *  - Classification (this release): by port. The server side is the well-known port; when both ports are
 *    registered the lower one wins (the ephemeral side is the higher one in practice).
 *  - A parser (protocols/app.h is its contract) is a const struct ots_parser in its own file; its row points at
 *    it. Per-protocol event names come from the parser and are counted per protocol.
 */
#ifndef OTS_REGISTRY_H
#define OTS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/app.h"

#define OTS_T_TCP 0x1u
#define OTS_T_UDP 0x2u

enum ots_app_proto {
	OTS_APP_UNKNOWN = 0,
	OTS_APP_MODBUS,
	OTS_APP_DNP3,
	OTS_APP_S7COMM,   /* ISO-TSAP/COTP on 102: S7comm, S7comm-plus (MMS shares the port: told apart by probe) */
	OTS_APP_ENIP,
	OTS_APP_ENIP_IO,
	OTS_APP_BACNET,
	OTS_APP_IEC104,
	OTS_APP_OPCUA,
	OTS_APP_MQTT,
	OTS_APP_FINS,
	OTS_APP_HARTIP,
	OTS_APP_KNXIP,
	OTS_APP_ADS,
	OTS_APP_PROCONOS,
	OTS_APP_GE_SRTP,
	OTS_APP_IEEE_C37118,
	OTS_APP_EGD,
	OTS_APP_PROFINET_CM,
	OTS_APP_MMS,
	OTS_APP_DNS,
	OTS_APP_MDNS,
	OTS_APP_DHCP,
	OTS_APP_NTP,
	OTS_APP_SNMP,
	OTS_APP_NETBIOS,
	OTS_APP_HTTP,
	OTS_APP_TLS,
	OTS_APP_SSH,
	OTS_APP_TELNET,
	OTS_APP_FTP,
	OTS_APP_SMB,
	OTS_APP_RDP,
	OTS_APP_VNC,
	OTS_APP_SYSLOG,
	OTS_APP_COAP,
	OTS_APP_STRATUM,
	OTS_APP_OUI,      /* not on the wire: the IEEE OUI registry, as the source of a MAC vendor */
	OTS_APP_LLDP,     /* L2 discovery: told apart by ethertype / LLC, not by port */
	OTS_APP_CDP,
	OTS_APP_ARP,
	OTS_APP_MAX
};

#define OTS_MAX_PORTS 6

/* what a parser module exports (protocols/<name>.c): one const struct per protocol */
struct ots_parser {
	ots_probe_fn probe;          /* may be NULL */
	ots_parse_fn parse;
	size_t state_size;           /* per-flow state, zeroed before first use, <= OTS_APP_STATE_MAX */
	const char *const *events;   /* names of the protocol's events, index = event number */
	unsigned nevents;
	/* may be NULL: after parse() returned -1, the protocol the rejected flow most likely carries (e.g. S7comm's
	 * port 102 carrying ISO sessions that are not S7: IEC 61850 MMS), or OTS_APP_UNKNOWN; the worker then
	 * reclassifies the flow and hands it to that protocol's parser, if it has one */
	uint16_t (*handoff)(const void *state);
};

#define OTS_APP_STATE_MAX 4096

struct ots_proto {
	const char *name;        /* lower case, stable: appears in records and JSON */
	const char *description;
	uint8_t transports;      /* OTS_T_* */
	uint16_t ports[OTS_MAX_PORTS]; /* well-known ports, 0-terminated */
	const struct ots_parser *parser; /* NULL: classified by port only */
};

extern const struct ots_proto ots_protocols[OTS_APP_MAX];

/* Build the port tables (idempotent). */
void ots_registry_init(void);

/* App protocol for a flow from its two ports (host order) and IP protocol (6/17); OTS_APP_UNKNOWN if none. */
uint16_t ots_registry_classify(uint8_t ip_proto, uint16_t port_a, uint16_t port_b);

static inline const char *ots_app_name(uint16_t app)
{
	return app < OTS_APP_MAX ? ots_protocols[app].name : "invalid";
}

/* Id for a name, or -1. */
int ots_app_by_name(const char *name);

/* A protocol otsense can inspect (protocols.parsers may name it): it has a parser, or it feeds asset discovery
 * (DHCP, LLDP, CDP, ARP). */
int ots_app_inspectable(uint16_t app);

/* protocols.parsers: "all" (every flow's payload is reassembled and handed to its parser; UINT64_MAX), "none" (0:
 * flows are tracked and classified by port only) or a comma-separated list of inspectable protocol names (bit
 * app set for each). Returns 0, or -EINVAL with why = what is wrong and the names allowed. */
int ots_registry_parse_set(const char *list, uint64_t *set, char *why, size_t n);

#endif
