/* protocols/s7comm.h - Siemens S7comm and S7comm-plus over ISO-on-TCP (RFC 1006 TPKT + ISO 8073 COTP), TCP 102.
 *
 * Contract (see protocols/app.h for the parser contract):
 *  - TPKT (0x03 0x00 len16) frames are cut with protocols/framing.h (cap OTS_S7_TPKT_CAP, resync after a gap or
 *    at a mid-stream pickup). COTP: CR/CC/DR/DC/ER/ED... are understood but not reported as PDUs; DT TPDUs are
 *    reassembled until EOT into a per-direction buffer of OTS_S7_MSG_CAP bytes (a longer message keeps its first
 *    OTS_S7_MSG_CAP bytes, is decoded from them and raises S7_EV_COTP_TRUNCATED).
 *  - One reassembled COTP message = one S7comm PDU (protocol id 0x32) or one S7comm-plus PDU (0x72).
 *  - struct ots_pdu as reported (what tests/proto_regress.py compares with the tshark oracle):
 *      S7comm Job/Ack/Ack_Data (ROSCTR 1/2/3):
 *          code = the parameter's function byte (0xf0 setup communication, 0x04 read var, 0x05 write var, 0x1a..0x1f
 *                 block download/upload, 0x28 PI service, 0x29 PLC stop); an Ack without parameter takes the
 *                 function of the Job with the same PDU reference (0 if unknown)
 *          kind = Job -> REQUEST, Ack/Ack_Data -> RESPONSE, or EXCEPTION when error class or code != 0
 *          unit = 0; address/quantity = first read/write var item's DB number and element count (S7ANY items);
 *          for a PI service quantity = 0 and name = the PI service ("_INSE", "P_PROGRAM"...) when known
 *          sub (Jobs only; responses 0): 0x28 PI service -> OTS_S7_PI_* of the service name (0 unknown);
 *              0x1a..0x1d -> block type OTS_S7_BLK_* (the character after '0' in the block file name
 *              "_0A00001P": '8' OB, 'A' DB, 'B' SDB, 'C' FC, 'D' SFC, 'E' FB, 'F' SFB; 0 when not parsable);
 *              0x29 PLC stop, 0x1e/0x1f (no file name), everything else: 0
 *      S7comm Userdata (ROSCTR 7):
 *          code = OTS_S7_UD_CODE(group, subfunction) = 0x1000 | group << 8 | subfunction
 *          kind = type 4 -> REQUEST, 8 -> RESPONSE (EXCEPTION when the parameter error code != 0), 0 (push) ->
 *                 UNSOLICITED; address/quantity = SZL-ID/index of a Read SZL (when present)
 *      S7comm-plus: unit = protocol version (1, 2, 3, 0xfe keep-alive); sub = 0 (object ids and attribute
 *          values are not decoded: stop/start/download of S7-1200/1500 are not told apart from other
 *          SetVariable/CreateObject requests)
 *          opcode 0x31 request / 0x32 response: code = OTS_S7P_FN_CODE(function) = 0x20000 | function
 *              (0x04ca CreateObject, 0x054c GetMultiVariables...), address = session id (requests)
 *          other opcodes (0x33 notification, 0x02 response2...): code = OTS_S7P_OP_CODE(opcode) = 0x30000 | opcode
 *          kind = 0x31 REQUEST, 0x32/0x02 RESPONSE, 0x33 UNSOLICITED, else OTHER
 *          A PDU without the 0x72 ver 0x00 0x00 trailer is continued by the next 0x72 PDU of the direction: the
 *          continuation is not a PDU of its own (the tshark oracle, decoding raw bytes, lists it: see tests).
 *      flags: WRITE write var / S7+ SetVariable(s); READ read var / S7+ Get*; PROGRAM 0x1a..0x1f and PI services
 *             that change blocks (_INSE _DELE _GARB _MODU); CONTROL 0x28 PI service, 0x29 PLC stop; CONFIG userdata
 *             security group (5), time functions "set clock" (7/2, 7/4); IDENTITY SZL reads of module/component
 *             identification (SZL-ID low byte 0x11 or 0x1c); DIAG other SZL reads.
 *  - Identity (endpoint = the sender of the answer): "Siemens" VENDOR once a device answers S7; SZL 0x0011
 *    index 1 order number -> PRODUCT_CODE (and MODEL, low confidence), index 7 'V'x.y.z -> FIRMWARE; SZL 0x001c
 *    index 1 -> NAME, 2 module name -> DESCRIPTION, 5 -> SERIAL, 7 module type name -> MODEL. SZL records are
 *    followed across userdata fragments (data unit reference). S7comm-plus CreateObject response
 *    "1;<order number>;V<fw>" -> PRODUCT_CODE, MODEL, FIRMWARE.
 *  - parse() returns -1 when the flow's COTP data is clearly not S7 (two messages with another protocol id before
 *    any S7 one, e.g. MMS on port 102), or nothing TPKT-like came in the first OTS_S7_REJECT_BYTES bytes.
 */
#ifndef OTS_S7COMM_H
#define OTS_S7COMM_H

#include "protocols/registry.h"

#define OTS_S7_TPKT_CAP 1040     /* COTP TPDU size 1024 + TPKT/COTP headers */
#define OTS_S7_MSG_CAP 840       /* COTP reassembly cap per direction */
#define OTS_S7_REJECT_BYTES 8192

#define OTS_S7_UD_CODE(group, sub) (0x1000u | ((unsigned)(group) & 0xfu) << 8 | ((unsigned)(sub) & 0xffu))
#define OTS_S7P_FN_CODE(fn) (0x20000u | ((unsigned)(fn) & 0xffffu))
#define OTS_S7P_OP_CODE(op) (0x30000u | ((unsigned)(op) & 0xffu))

/* PI services (struct ots_pdu.sub of a 0x28 Job); stable numbers, 0 = not one of these */
enum ots_s7_pi {
	OTS_S7_PI_UNKNOWN = 0,
	OTS_S7_PI_INSE,      /* activate (insert) a downloaded block */
	OTS_S7_PI_DELE,      /* delete a block */
	OTS_S7_PI_P_PROGRAM, /* start the program (warm/cold restart to RUN) */
	OTS_S7_PI_GARB,      /* compress memory */
	OTS_S7_PI_MODU,      /* copy RAM to ROM */
	OTS_S7_PI_N_LOGIN,   /* _N_LOGIN_ (SINUMERIK) */
	OTS_S7_PI_N_LOGOUT,  /* _N_LOGOUT (SINUMERIK) */
	OTS_S7_PI_MAX
};

/* block types (struct ots_pdu.sub of 0x1a..0x1d Jobs): the ASCII character after '0' in the block file name */
#define OTS_S7_BLK_OB '8'
#define OTS_S7_BLK_DB 'A'
#define OTS_S7_BLK_SDB 'B'
#define OTS_S7_BLK_FC 'C'
#define OTS_S7_BLK_SFC 'D'
#define OTS_S7_BLK_FB 'E'
#define OTS_S7_BLK_SFB 'F'

enum ots_s7_event {
	S7_EV_RESYNC = 0,      /* framer lost TPKT alignment */
	S7_EV_OVERSIZE,        /* TPKT longer than OTS_S7_TPKT_CAP: skipped */
	S7_EV_COTP_MALFORMED,  /* bad COTP header */
	S7_EV_COTP_TRUNCATED,  /* reassembled DT message longer than OTS_S7_MSG_CAP */
	S7_EV_S7_MALFORMED,    /* S7 header shorter than its ROSCTR needs, bad userdata parameter head */
	S7_EV_S7_BAD_LENGTH,   /* parameter + data lengths exceed the message */
	S7_EV_S7_BAD_ROSCTR,   /* ROSCTR not 1/2/3/7 */
	S7_EV_NOT_S7,          /* COTP data that is neither S7comm nor S7comm-plus */
	S7_EV_S7P_MALFORMED,   /* S7comm-plus header too short / length mismatch */
	S7_EV_SZL_MALFORMED,   /* SZL answer header inconsistent */
	S7_EV_ITEM_MALFORMED,  /* read/write var item list inconsistent */
	S7_EV_MAX
};

extern const struct ots_parser ots_parser_s7comm;

/* name of a sub-code: the PI service ("_INSE") of a 0x28 Job, the block type ("DB") of 0x1a..0x1f; else NULL */
const char *ots_s7_sub_name(unsigned code, unsigned sub);

#endif
