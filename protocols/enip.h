/* protocols/enip.h - EtherNet/IP encapsulation + CIP explicit messaging (TCP/UDP 44818).
 *
 * Contract (see protocols/app.h for the parser contract):
 *  - TCP: encapsulation PDUs (24-byte header, little endian: command, length, session handle, status, sender
 *    context, options) are cut with protocols/framing.h: frame length 24 + length, cap OTS_ENIP_CAP (a longer PDU
 *    is skipped with ENIP_EV_OVERSIZE), resync after a gap / at a mid-stream pickup. UDP: one PDU per datagram.
 *    UDP 2222 (class 0/1 implicit I/O) is classified by port only (row enip_io), not parsed here.
 *  - Two kinds of struct ots_pdu, both proto = the ENIP row (what tests/proto_regress.py compares with the oracle's
 *    "EtherNet/IP encapsulation commands" and "CIP services" sections):
 *      encapsulation: code = command (0x0004 ListServices, 0x0063 ListIdentity, 0x0064 ListInterfaces,
 *          0x0065 RegisterSession, 0x0066 UnRegisterSession, 0x006f SendRRData, 0x0070 SendUnitData, any other
 *          value as is); kind: ListServices/ListIdentity/ListInterfaces -> REQUEST when length is 0 else RESPONSE,
 *          other commands by direction (to the 44818 side -> REQUEST); a response with status != 0 -> EXCEPTION;
 *          address = session handle; flags IDENTITY for ListIdentity.
 *      CIP service: code = OTS_ENIP_CIP_CODE(service) = 0x10000 | (service & 0x7f), one per service met: the
 *          Multiple Service Packet (0x0a) and each service embedded in it, Unconnected Send (0x52 on class 6)
 *          and its embedded request (the reply comes back as the embedded service's reply, no 0x52 reply);
 *          kind = REQUEST / RESPONSE by the 0x80 bit, EXCEPTION when general status != 0 and != 0x06 (partial
 *          transfer); unit = class (request EPATH's first logical class segment; a reply takes the class of the
 *          oldest pending request of its service - replies come in request order - 0 when unknown), address =
 *          instance (requests); sub = attribute id (request EPATH's first logical attribute segment; a reply takes
 *          it from its pending request when it is < 0x80; 0 when the path names none); quantity = number of
 *          embedded services for 0x0a.
 *      flags: CONTROL Reset 0x05 / Start 0x06 / Stop 0x07 on any class; WRITE Set_Attribute_All 0x02,
 *          Set_Attribute_List 0x04, Set_Attribute_Single 0x10, and on a symbolic path or the Symbol class 0x6b
 *          Write Tag 0x4d, Read-Modify-Write Tag 0x4e, Write Tag Fragmented 0x53 (0x4e on class 6 is Forward
 *          Close); PROGRAM services 0x4b..0x51 on the File object 0x37; CONFIG class-specific 0x4b/0x4c
 *          (lock/unlock) on a path naming class 0x74 (ITI cip_unlock_cpu / OpenICS LockPLC); IDENTITY
 *          Get_Attribute_All 0x01 / Get_Attribute_Single 0x0e on the Identity object (class 1).
 *  - Identity (endpoint = the sender of the answer): ListIdentity response item 0x0c and the Identity object's
 *    Get_Attribute_All reply (Get_Attribute_Single of attributes 1..7 too): VENDOR (ODVA vendor name for the ids
 *    in the table, else "vendor-id N"), DEVICE_TYPE (name or "device-type N"), PRODUCT_CODE decimal, FIRMWARE
 *    "major.minor", SERIAL "0x%08x", MODEL = product name.
 *  - parse() returns -1 when the first OTS_ENIP_REJECT_BYTES bytes (TCP) or 3 datagrams (UDP) hold no
 *    encapsulation header at all.
 */
#ifndef OTS_ENIP_H
#define OTS_ENIP_H

#include "protocols/registry.h"

#define OTS_ENIP_HDR 24
#define OTS_ENIP_CAP 1944 /* per direction; 2 x (framer + cap) + pending-request table fits OTS_APP_STATE_MAX */
#define OTS_ENIP_REJECT_BYTES 8192
#define OTS_ENIP_MAX_DEPTH 4   /* CIP nesting (MSP in Unconnected Send in MSP...) */
#define OTS_ENIP_MAX_ITEMS 8   /* CPF items looked at per PDU */
#define OTS_ENIP_MAX_MSP 64    /* embedded services looked at per Multiple Service Packet */

#define OTS_ENIP_CIP_CODE(svc) (0x10000u | ((unsigned)(svc) & 0x7fu))

enum ots_enip_event {
	ENIP_EV_RESYNC = 0,     /* framer lost alignment */
	ENIP_EV_OVERSIZE,       /* encapsulation PDU longer than OTS_ENIP_CAP: skipped */
	ENIP_EV_ENCAP_MALFORMED, /* datagram shorter than its header says, bad command data */
	ENIP_EV_CPF_MALFORMED,  /* common packet format item list inconsistent */
	ENIP_EV_CIP_MALFORMED,  /* CIP message too short */
	ENIP_EV_EPATH_MALFORMED, /* request path overruns the message or has a bad segment */
	ENIP_EV_MSP_MALFORMED,  /* Multiple Service Packet offsets inconsistent */
	ENIP_EV_NESTING,        /* embedded messages deeper than OTS_ENIP_MAX_DEPTH */
	ENIP_EV_IDENTITY_MALFORMED, /* identity item/reply inconsistent */
	ENIP_EV_UCS_MALFORMED,  /* Unconnected Send embedded message size inconsistent */
	ENIP_EV_MAX
};

extern const struct ots_parser ots_parser_enip;

#endif
