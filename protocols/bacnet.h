/* protocols/bacnet.h - BACnet/IP (ASHRAE 135 Annex J) on UDP 47808: BVLC, NPDU, APDU.
 *
 * Contract (see protocols/app.h for the parser contract in general):
 *  - One datagram per call: BVLC (type 0x81, function, length = whole BVLL), then for the NPDU-carrying
 *    functions (0x04 Forwarded-NPDU after its 6-byte original address, 0x09, 0x0a, 0x0b) the NPDU: version 1,
 *    control, optional DNET/DLEN/DADR, SNET/SLEN/SADR, hop count, network layer message type (+ vendor id), and
 *    the APDU header: type, flags, invoke id, segmentation fields, service choice.
 *  - One struct ots_pdu per datagram:
 *      APDU            kind                                          code
 *      0 Confirmed-REQ REQUEST                                       service choice (tshark "12")
 *      1 Unconfirmed   RESPONSE i-Am/i-Have, UNSOLICITED COV/event   0x100 | service (tshark "U:8"): unconfirmed
 *                      notifications (2, 3, 11, 12), REQUEST others   and confirmed numbers never mix
 *      2 Simple-ACK    RESPONSE                                      service choice
 *      3 Complex-ACK   RESPONSE                                      service choice (each segment counts)
 *      4 Segment-ACK   OTHER                                         0x204
 *      5 Error         EXCEPTION                                     service choice
 *      6 Reject        EXCEPTION                                     0x206 (tshark shows no service)
 *      7 Abort         EXCEPTION                                     0x207
 *      network layer message (no APDU)  OTHER                        0x300 | message type
 *      BVLC without NPDU                OTHER (EXCEPTION for a       0x400 | BVLC function
 *                                       BVLC-Result NAK)
 *    unit    = device instance when the PDU names a device object itself (I-Am, I-Have, or the first object
 *              identifier of readProperty(Multiple)/writeProperty(Multiple)/readRange/add/removeListElement
 *              requests and acks); 0 otherwise, and for the wildcard instance 4194303
 *    address = that first BACnetObjectIdentifier, raw (object type << 22 | instance); 0 when none
 *    sub     = reinitializeDevice (20) requests: reinitializedStateOfDevice (0 coldstart, 1 warmstart,
 *              2 startbackup, 3 endbackup, 4 startrestore, 5 endrestore, 6 abortrestore, 7 activate-changes);
 *              deviceCommunicationControl (17) requests: enable-disable (0 enable, 1 disable, 2 disable-initiation);
 *              OTS_BACNET_SUB_NONE when not decodable (a later segment, a broken tag) and for the acks/errors of
 *              these two services (0 is a real value for them); 0 for every other PDU
 *    flags   = (requests) READ 12,13,14,26,6; WRITE 15,16,8,9, writeGroup; PROGRAM|WRITE 7 atomicWriteFile;
 *              CONTROL 17 deviceCommunicationControl, 20 reinitializeDevice, 27 lifeSafetyOperation;
 *              CONFIG 10 createObject, 11 deleteObject, time synchronization, BVLC table writes and foreign
 *              device registration; IDENTITY who-Is/i-Am/who-Has/i-Have; BROADCAST for BVLC broadcast
 *              functions and DNET 0xffff
 *  - Identities of the sender (never for a routed NPDU with SNET or a Forwarded-NPDU: the device is not the IP
 *    endpoint): I-Am vendor id -> VENDOR (name from the ASHRAE vendor id list as Wireshark prints it for the
 *    ids in the table, else "vendor-id N"); ReadProperty / ReadPropertyMultiple acks of a device object:
 *    vendor-name (121) -> VENDOR, model-name (70) -> MODEL, firmware-revision (44) -> FIRMWARE,
 *    application-software-version (12) -> DESCRIPTION (FIRMWARE is taken by firmware-revision),
 *    object-name (77) -> NAME. Character sets UTF-8, ISO 8859-1, UCS-2 and UCS-4 are converted to UTF-8.
 *  - State: two counters per flow; a flow whose first datagrams are not BVLC is rejected (-1).
 */
#ifndef OTS_BACNET_H
#define OTS_BACNET_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/registry.h"

enum ots_bacnet_event {
	OTS_BACNET_EV_BAD_BVLC = 0,       /* not BVLC type 0x81 / shorter than the BVLC header */
	OTS_BACNET_EV_BAD_LENGTH,         /* BVLC length < 4 or not the datagram length */
	OTS_BACNET_EV_UNKNOWN_BVLC,       /* BVLC function not defined */
	OTS_BACNET_EV_BAD_NPDU_VERSION,   /* NPDU protocol version not 1 */
	OTS_BACNET_EV_MALFORMED_NPDU,     /* NPDU addresses / message type truncated, SLEN 0 */
	OTS_BACNET_EV_MALFORMED_APDU,     /* APDU header truncated, or no APDU */
	OTS_BACNET_EV_UNKNOWN_APDU,       /* APDU type 8..15 */
	OTS_BACNET_EV_MALFORMED_SERVICE,  /* service data that was decoded (I-Am, device property acks) is broken */
	OTS_BACNET_EV_MAX
};

/* struct ots_pdu.sub of a reinitializeDevice / deviceCommunicationControl PDU whose state is not known */
#define OTS_BACNET_SUB_NONE 0xffffffffu

extern const struct ots_parser ots_parser_bacnet;

/* name of a sub-code: the reinitialize state ("coldstart") of service 20, the enable-disable value ("disable") of
 * service 17; NULL otherwise */
const char *ots_bacnet_sub_name(unsigned code, uint32_t sub);

/* vendor name for an ASHRAE vendor id, NULL when not in the table */
const char *ots_bacnet_vendor_name(uint32_t id);

#endif
