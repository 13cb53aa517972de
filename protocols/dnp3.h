/* protocols/dnp3.h - DNP3 (IEEE 1815) over TCP and UDP port 20000: link, transport and application layer.
 *
 * Contract (see protocols/app.h for the parser contract in general):
 *  - Link layer: frames 0x05 0x64 LEN CTRL DST SRC HCRC, then LEN-5 user data bytes in blocks of 16 each followed
 *    by a CRC-16/DNP. Every CRC is checked; a frame with a bad CRC is dropped (event). TCP: frames are cut from the
 *    stream by protocols/framing.h (frame_len accepts a start only when the header CRC is good, so a header with a
 *    bad CRC, a corrupt start or a gap makes the framer slide to the next valid header: event "resync"). UDP: a
 *    datagram holds one or more whole frames.
 *  - Transport: FIR/FIN/SEQ reassembly per direction. A non-FIR segment out of sequence (or with other link
 *    addresses) is an event and the fragment is dropped until the next FIR; a new FIR before the FIN of the
 *    previous fragment abandons it (event). Right after a mid-stream pickup or a gap, non-FIR segments are
 *    dropped quietly until the first FIR. The application fragment is never buffered: its header and object
 *    headers are walked as the segments arrive (a few bytes of state), so fragments of any size are counted.
 *  - Application: control, function code, IIN (responses), object headers (group, variation, qualifier, range).
 *    Object data is skipped by size for the groups in the size table (all common groups, bit-packed inputs,
 *    size-prefixed objects such as files and authentication); the walk stops quietly at the first object whose
 *    size is unknown. Object data that runs past the end of the fragment, a reserved qualifier, or a range with
 *    stop < start, bit-packed objects with an index prefix is event "malformed_objects"; a group or variation
 *    that IEEE 1815-2012 does not define (where its size matters) is event "unknown_object". The PDU is still
 *    reported with the headers walked so far.
 *    Group 0 (device attributes) visible strings in responses become identities of the sender:
 *    252 -> VENDOR, 250 -> MODEL, 242 -> FIRMWARE, 248 -> SERIAL, 247 -> NAME.
 *  - One struct ots_pdu per complete application fragment:
 *      code     = application function code (what tshark shows as dnp3.al.func)
 *      unit     = DESTINATION link address of the frame that carried the fragment (tshark dnp3.dst), so for a
 *                 request it is the outstation, for a response the master
 *      kind     = REQUEST for master functions (0..33 incl. confirm), RESPONSE for 129 and 131, EXCEPTION for a
 *                 129 response whose IIN2 reports no-function-support, object-unknown or parameter-error,
 *                 UNSOLICITED for 130; an undefined function code is REQUEST (< 128) or OTHER (event)
 *      address  = group << 8 | variation of the first object header (0 when none)
 *      quantity = number of object headers walked
 *      objs     = group << 8 | variation of each object header walked, the first OTS_PDU_MAX_OBJS of them (nobjs);
 *                 the array lives in the parser's per-direction state: valid during the pdu() callback only
 *      iin      = IIN1 << 8 | IIN2 of responses (129, 130, 131), 0 for requests
 *      flags    = READ (1, 28), WRITE (2..6), CONTROL (13..21), PROGRAM (25..27, 29, 30, write of group 70),
 *                 CONFIG (22, 24, 31, write of group 50 time or group 0 attributes), DIAG (23),
 *                 BROADCAST (destination 0xfffd..0xffff); responses carry no flags
 *    Link frames without application data (reset/test link, link status, ACK/NACK...) are reported with
 *    kind OTHER, code = 0x100 | (CTRL & 0x4f), i.e. 0x100 | PRM << 6 | link function: 0x149 request link status,
 *    0x140 reset link states, 0x142 test link states, 0x100 ACK, 0x101 NACK, 0x10b link status.
 *  - State: 992 bytes per flow (two framers with a 292-byte frame buffer each + the walker state); no fragment
 *    buffer, so the transport layer has no size cap to hit.
 */
#ifndef OTS_DNP3_H
#define OTS_DNP3_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/registry.h"

enum ots_dnp3_event {
	OTS_DNP3_EV_RESYNC = 0,          /* TCP: bytes skipped to find a valid link header (bad start/length/CRC, gap) */
	OTS_DNP3_EV_OVERSIZE,            /* framer: frame larger than its buffer (cannot happen: LEN <= 255) */
	OTS_DNP3_EV_BAD_HEADER_CRC,      /* UDP: link header CRC wrong: rest of the datagram dropped */
	OTS_DNP3_EV_BAD_DATA_CRC,        /* a user data block CRC wrong: frame dropped */
	OTS_DNP3_EV_BAD_LENGTH,          /* UDP: LEN < 5 or the frame runs past the datagram */
	OTS_DNP3_EV_TRAILING,            /* UDP: bytes after the last frame that are not a frame */
	OTS_DNP3_EV_NOT_DNP3,            /* UDP: datagram does not start with a link header */
	OTS_DNP3_EV_NO_TRANSPORT,        /* user data link function without any user data */
	OTS_DNP3_EV_TRANSPORT_SEQ,       /* non-FIR segment out of sequence or without a fragment: dropped */
	OTS_DNP3_EV_TRANSPORT_ABANDONED, /* FIR before the FIN of the fragment in progress */
	OTS_DNP3_EV_MALFORMED_AL,        /* fragment too short for control + function (+ IIN for responses) */
	OTS_DNP3_EV_MALFORMED_OBJECTS,   /* reserved qualifier, bad range, object data past the fragment end */
	OTS_DNP3_EV_UNKNOWN_FUNCTION,    /* undefined application function code */
	OTS_DNP3_EV_UNKNOWN_OBJECT,      /* object group / variation the object library does not define (walk stops) */
	OTS_DNP3_EV_MAX
};

extern const struct ots_parser ots_parser_dnp3;

/* CRC-16/DNP of n bytes (as transmitted: low byte first) */
uint16_t ots_dnp3_crc(const uint8_t *p, size_t n);

/* static name of an application function code, NULL if undefined */
const char *ots_dnp3_func_name(unsigned fc);

#endif
