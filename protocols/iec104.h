/* protocols/iec104.h - IEC 60870-5-104 parser (APCI/ASDU over TCP/2404).
 *
 * Contract (see protocols/app.h for the parser contract in general):
 *  - Framing: APCI start 0x68, length 4..253, cut with ots_framer (one framer + 255-byte buffer per direction).
 *    The frame check knows the three formats: I (length >= 10: room for the ASDU header; octet 3 bit 0 clear;
 *    type id, object count and cause non-zero when visible), S (length 4, octets 0x01 0x00, octet 3 bit 0
 *    clear), U (length 4, octet 1 bits 0-1 = 11, octets 2..4 zero). While hunting for a start (mid-stream,
 *    after a gap or a bad frame) an I frame of a standard type must also have the length its object count
 *    implies, and a candidate must be followed by 0x68 when the chunk shows that byte. The first APDU after a
 *    loss in the middle of a chunk is re-checked the same way and dropped (hunting on) when it fails.
 *  - ASDU (standard 104 sizes): type id, variable structure qualifier (SQ bit + object count), cause of
 *    transmission on 2 octets (cause, P/N, T bits + originator address), common address on 2 octets,
 *    information object addresses on 3 octets. The first IOA is reported; the length is checked against
 *    count x element size for every standard type.
 *  - One struct ots_pdu per APDU:
 *      I frame: code = type id, unit = common address, address = first IOA, quantity = object count,
 *               sub = cause of transmission (the 6-bit cause, without the P/N and T bits),
 *               name = type mnemonic ("C_SC_NA_1"), kind from the cause of transmission:
 *                 REQUEST      6 act, 8 deact; 5 req(uested) when the type is a control-direction type
 *                 RESPONSE     7 actcon, 9 deactcon, 10 actterm, 20..36 interrogated (inrogen/inro1..16),
 *                              37..41 counter-interrogated, 5 requested (monitor-direction type)
 *                 EXCEPTION    P/N bit set (negative confirmation), 44..47 unknown type/cause/CA/IOA
 *                 UNSOLICITED  1 periodic, 2 background scan, 3 spontaneous, 4 initialised,
 *                              11 / 12 return information caused by a remote / local command
 *                 OTHER        13 file transfer, undefined causes (event unknown_cot)
 *               flags: 45-47, 58-60 (single/double/regulating step commands) WRITE|CONTROL;
 *                      48-51, 61-64 (set points, bitstring) WRITE; 100 interrogation, 101 counter
 *                      interrogation, 102 read: READ; 103 clock sync, 106 delay acquisition, 110-113
 *                      parameters: CONFIG; 104 / 107 test command: DIAG; 105 reset process: CONTROL;
 *                      120-127 file transfer: PROGRAM; common address 0xFFFF (global): | BROADCAST.
 *      U frame: code = 0x100 | function (0x01 STARTDT act, 0x02 STARTDT con, 0x04 STOPDT act, 0x08 STOPDT con,
 *               0x10 TESTFR act, 0x20 TESTFR con: the U bits of control octet 1 shifted right by 2, as tshark
 *               shows them), kind OTHER, unit/address/quantity 0.
 *      S frame: code = 0x200, kind OTHER, unit/address/quantity 0.
 *  - I-frame send sequence numbers are followed per direction (event seq_gap on a jump; reset by a gap).
 *  - Malformed input is never fatal: it is a named event (enum ots_iec104_event).
 *  - parse() returns -1 (not IEC-104) once 1024 bytes have been seen on the flow without a single valid APDU.
 */
#ifndef OTS_IEC104_H
#define OTS_IEC104_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/registry.h"

#define OTS_IEC104_MAX_APDU 255 /* start + length octet + 253 */

#define OTS_IEC104_CODE_U 0x100u
#define OTS_IEC104_CODE_S 0x200u

enum ots_iec104_event {
	OTS_IEC_EV_RESYNC = 0,        /* framer lost sync (gap, bad frame) and looked for the next APDU */
	OTS_IEC_EV_OVERSIZE,          /* cannot happen with length <= 253; kept for the framer */
	OTS_IEC_EV_BAD_START,         /* no 0x68 where an APDU should start */
	OTS_IEC_EV_BAD_LENGTH,        /* APCI length / format combination impossible where an APDU should start */
	OTS_IEC_EV_BAD_U_FRAME,       /* U frame without exactly one function bit */
	OTS_IEC_EV_ASDU_TOO_SHORT,    /* I frame too short for the ASDU header + one IOA */
	OTS_IEC_EV_ASDU_LENGTH,       /* length disagrees with object count x element size */
	OTS_IEC_EV_UNKNOWN_TYPE,      /* type id not defined by IEC 60870-5-101/104 */
	OTS_IEC_EV_UNKNOWN_COT,       /* cause of transmission not defined */
	OTS_IEC_EV_ZERO_COUNT,        /* variable structure qualifier with 0 objects */
	OTS_IEC_EV_SEQ_GAP,           /* I-frame send sequence number not the expected one */
	OTS_IEC_EV_MAX
};

extern const struct ots_parser ots_parser_iec104;

/* exposed for tests */
int ots_iec104_probe(const uint8_t *p, size_t len, int dir);
const char *ots_iec104_type_name(unsigned type_id); /* NULL when not a standard type */
const char *ots_iec104_cot_name(unsigned cot);      /* "Act", "Spont"... (as tshark); NULL when not defined */

#endif
