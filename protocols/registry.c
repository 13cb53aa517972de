/* protocols/registry.c - the application protocol table and port classification (see registry.h). */
#include "protocols/registry.h"
#include "protocols/bacnet.h"
#include "protocols/dnp3.h"
#include "protocols/iec104.h"
#include "protocols/modbus.h"
#include "protocols/enip.h"
#include "protocols/s7comm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TCP OTS_T_TCP
#define UDP OTS_T_UDP

const struct ots_proto ots_protocols[OTS_APP_MAX] = {
	[OTS_APP_UNKNOWN] = { "unknown", "not classified", 0, { 0 }, NULL },
	[OTS_APP_MODBUS] = { "modbus", "Modbus/TCP", TCP, { 502 }, &ots_parser_modbus },
	[OTS_APP_DNP3] = { "dnp3", "DNP3 over TCP/UDP", TCP | UDP, { 20000 }, &ots_parser_dnp3 },
	[OTS_APP_S7COMM] = { "s7comm", "Siemens S7comm / S7comm-plus over ISO-TSAP", TCP, { 102 }, &ots_parser_s7comm },
	[OTS_APP_ENIP] = { "enip", "EtherNet/IP encapsulation + CIP", TCP | UDP, { 44818 }, &ots_parser_enip },
	[OTS_APP_ENIP_IO] = { "enip_io", "EtherNet/IP implicit (class 0/1) I/O", UDP, { 2222 }, NULL },
	[OTS_APP_BACNET] = { "bacnet", "BACnet/IP", UDP, { 47808, 47809 }, &ots_parser_bacnet },
	[OTS_APP_IEC104] = { "iec104", "IEC 60870-5-104", TCP, { 2404 }, &ots_parser_iec104 },
	[OTS_APP_OPCUA] = { "opcua", "OPC UA binary", TCP, { 4840 }, NULL },
	[OTS_APP_MQTT] = { "mqtt", "MQTT", TCP, { 1883, 8883 }, NULL },
	[OTS_APP_FINS] = { "fins", "Omron FINS", TCP | UDP, { 9600 }, NULL },
	[OTS_APP_HARTIP] = { "hartip", "HART-IP", TCP | UDP, { 5094 }, NULL },
	[OTS_APP_KNXIP] = { "knxip", "KNXnet/IP", UDP | TCP, { 3671 }, NULL },
	[OTS_APP_ADS] = { "ads", "Beckhoff ADS/AMS", TCP | UDP, { 48898 }, NULL },
	[OTS_APP_PROCONOS] = { "proconos", "ProConOS", TCP, { 20547 }, NULL },
	[OTS_APP_GE_SRTP] = { "ge_srtp", "GE SRTP", TCP, { 18245, 18246 }, NULL },
	[OTS_APP_IEEE_C37118] = { "c37118", "IEEE C37.118 synchrophasor", TCP | UDP, { 4712, 4713 }, NULL },
	[OTS_APP_EGD] = { "egd", "GE Ethernet Global Data", UDP, { 18246 }, NULL },
	[OTS_APP_PROFINET_CM] = { "profinet_cm", "PROFINET IO CM (DCE/RPC)", UDP, { 34964 }, NULL },
	[OTS_APP_MMS] = { "mms", "IEC 61850 MMS (ISO on TCP, told from S7 by probe)", 0, { 0 }, NULL },
	[OTS_APP_DNS] = { "dns", "DNS", TCP | UDP, { 53 }, NULL },
	[OTS_APP_MDNS] = { "mdns", "multicast DNS", UDP, { 5353 }, NULL },
	[OTS_APP_DHCP] = { "dhcp", "DHCP/BOOTP", UDP, { 67, 68 }, NULL },
	[OTS_APP_NTP] = { "ntp", "NTP", UDP, { 123 }, NULL },
	[OTS_APP_SNMP] = { "snmp", "SNMP", UDP, { 161, 162 }, NULL },
	[OTS_APP_NETBIOS] = { "netbios", "NetBIOS name/datagram", UDP, { 137, 138 }, NULL },
	[OTS_APP_HTTP] = { "http", "HTTP", TCP, { 80, 8080 }, NULL },
	[OTS_APP_TLS] = { "tls", "TLS", TCP, { 443, 8443 }, NULL },
	[OTS_APP_SSH] = { "ssh", "SSH", TCP, { 22 }, NULL },
	[OTS_APP_TELNET] = { "telnet", "Telnet", TCP, { 23 }, NULL },
	[OTS_APP_FTP] = { "ftp", "FTP control", TCP, { 21 }, NULL },
	[OTS_APP_SMB] = { "smb", "SMB/CIFS", TCP, { 445, 139 }, NULL },
	[OTS_APP_RDP] = { "rdp", "Remote Desktop", TCP, { 3389 }, NULL },
	[OTS_APP_VNC] = { "vnc", "VNC/RFB", TCP, { 5900 }, NULL },
	[OTS_APP_SYSLOG] = { "syslog", "syslog", UDP, { 514 }, NULL },
	[OTS_APP_COAP] = { "coap", "CoAP", UDP, { 5683 }, NULL },
	[OTS_APP_STRATUM] = { "stratum", "Stratum mining pool (common ports)", TCP, { 3333, 4444, 14444 }, NULL },
	[OTS_APP_OUI] = { "oui", "IEEE OUI registry (MAC address vendor)", 0, { 0 }, NULL },
	[OTS_APP_LLDP] = { "lldp", "Link Layer Discovery Protocol", 0, { 0 }, NULL },
	[OTS_APP_CDP] = { "cdp", "Cisco Discovery Protocol", 0, { 0 }, NULL },
	[OTS_APP_ARP] = { "arp", "ARP", 0, { 0 }, NULL },
};

const char *const ots_pdu_kind_names[OTS_PDU_KIND_MAX] = { "request", "response", "exception", "unsolicited",
							   "other" };

/* port -> app id, per transport; built once, read-only afterwards */
static uint8_t port_app[2][65536];
static int port_tables_built;

void ots_registry_init(void)
{
	if (port_tables_built)
		return;
	for (int app = OTS_APP_MAX - 1; app > 0; app--) {
		const struct ots_proto *pr = &ots_protocols[app];
		for (int i = 0; i < OTS_MAX_PORTS && pr->ports[i]; i++) {
			if (pr->transports & OTS_T_TCP)
				port_app[0][pr->ports[i]] = (uint8_t)app;
			if (pr->transports & OTS_T_UDP)
				port_app[1][pr->ports[i]] = (uint8_t)app;
		}
	}
	port_tables_built = 1;
}

uint16_t ots_registry_classify(uint8_t ip_proto, uint16_t port_a, uint16_t port_b)
{
	int t;
	if (ip_proto == 6)
		t = 0;
	else if (ip_proto == 17)
		t = 1;
	else
		return OTS_APP_UNKNOWN;
	uint16_t lo = port_a < port_b ? port_a : port_b;
	uint16_t hi = port_a < port_b ? port_b : port_a;
	uint8_t app = port_app[t][lo];
	return app ? app : port_app[t][hi];
}

int ots_app_by_name(const char *name)
{
	for (int i = 0; i < OTS_APP_MAX; i++)
		if (strcmp(ots_protocols[i].name, name) == 0)
			return i;
	return -1;
}

int ots_app_inspectable(uint16_t app)
{
	return app < OTS_APP_MAX && (ots_protocols[app].parser || app == OTS_APP_DHCP || app == OTS_APP_LLDP ||
				     app == OTS_APP_CDP || app == OTS_APP_ARP);
}

_Static_assert(OTS_APP_MAX <= 64, "protocols.parsers keeps one bit per protocol in a uint64_t");

int ots_registry_parse_set(const char *list, uint64_t *set, char *why, size_t n)
{
	char name[32];
	uint64_t s = 0;
	size_t lead = strspn(list, " ,"), end = strlen(list);
	while (end > lead && (list[end - 1] == ' ' || list[end - 1] == ','))
		end--;
	if (end - lead == 3 && !strncasecmp(list + lead, "all", 3)) {
		*set = UINT64_MAX;
		return 0;
	}
	if (end - lead == 4 && !strncasecmp(list + lead, "none", 4)) {
		*set = 0;
		return 0;
	}
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (!len)
			break;
		int app = len < sizeof(name) ? (memcpy(name, p, len), name[len] = '\0', ots_app_by_name(name)) : -1;
		if (app < 0 || !ots_app_inspectable((uint16_t)app)) {
			size_t o = (size_t)snprintf(why, n, "'%.*s' is not a protocol otsense inspects; use all, none or "
						    "a list of", (int)(len < 32 ? len : 32), p);
			for (int a = 1; a < OTS_APP_MAX && o < n; a++)
				if (ots_app_inspectable((uint16_t)a))
					o += (size_t)snprintf(why + o, n - o, " %s", ots_protocols[a].name);
			return -EINVAL;
		}
		s |= 1ull << app;
		p += len;
	}
	if (!s) {
		snprintf(why, n, "empty list; use all, none or protocol names");
		return -EINVAL;
	}
	*set = s;
	return 0;
}
