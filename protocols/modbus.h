/* protocols/modbus.h - Modbus/TCP parser (MBAP over TCP/502).
 *
 * Contract (see protocols/app.h for the parser contract in general):
 *  - Framing: MBAP header (transaction id, protocol id == 0, length 2..OTS_MODBUS_MAX_LEN, unit id) cut with
 *    ots_framer, one framer + buffer per direction. While hunting for a start (mid-stream pickup, after a gap or
 *    a bad header) the frame check is stricter: a candidate that ends exactly where the chunk ends is taken;
 *    otherwise it needs a known function code and, when the chunk shows the bytes after it, a plausible MBAP
 *    header there too. The first PDU after a loss in the middle of a chunk is re-checked the same way and
 *    dropped (hunting on) when it fails.
 *  - One struct ots_pdu per PDU: kind REQUEST (client -> server), RESPONSE (server -> client) or EXCEPTION
 *    (fc | 0x80, whichever way it travels: toward the server it also counts exception_in_request);
 *    code = function code without 0x80; unit = unit id; address/quantity = start address and count
 *    (from the request; a response takes them from the request it answers, matched by transaction id in a table
 *    of OTS_MODBUS_OUTSTANDING outstanding requests per flow, oldest evicted); flags OTS_PDUF_*; name = static
 *    function name. Per-function address/quantity meaning is documented at mb_request() in modbus.c.
 *    sub = FC 8 sub-function or FC 90 (Schneider UMAS) function code (the byte after the session byte), for
 *    requests and for the responses matched to them (an unmatched FC 8 response: the sub-function it echoes);
 *    0 for every other function (FC 125/126 Modicon programming carry no documented sub-code).
 *  - FC 43 / MEI 14 Read Device Identification responses report identity facts about the server:
 *    VendorName -> VENDOR, ProductCode -> PRODUCT_CODE, MajorMinorRevision -> FIRMWARE, ModelName -> MODEL,
 *    ProductName -> MODEL when the response carries no ModelName (else DESCRIPTION), UserApplicationName -> NAME
 *    (confidence 90; VendorUrl is not reported). FC 17 Report Server ID: a printable run of >= 4 characters in the
 *    server-specific data -> DESCRIPTION (confidence 40). Values end at the first NUL, are trimmed of blanks, cut
 *    to OTS_MODBUS_MAX_VALUE bytes, control characters replaced by '?'.
 *  - Malformed input is never fatal: it is a named event (enum ots_modbus_event, names in ots_parser_modbus).
 *  - parse() returns -1 (not Modbus) once 1024 bytes have been seen on the flow without a single valid PDU.
 */
#ifndef OTS_MODBUS_H
#define OTS_MODBUS_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/registry.h"

#define OTS_MODBUS_OUTSTANDING 16 /* outstanding requests remembered per flow */
#define OTS_MODBUS_MAX_VALUE 64   /* identity value bytes reported at most */
#define OTS_MODBUS_MAX_LEN 256    /* MBAP length field: 254 by the standard, 255 seen from Schneider UMAS */
#define OTS_MODBUS_MAX_ADU (OTS_MODBUS_MAX_LEN + 6)

enum ots_modbus_event {
	OTS_MB_EV_RESYNC = 0,          /* framer lost sync (gap, bad header) and looked for the next PDU */
	OTS_MB_EV_OVERSIZE,            /* a PDU longer than the buffer (cannot happen: the length is capped) */
	OTS_MB_EV_BAD_PROTOCOL_ID,     /* MBAP protocol id != 0 where a PDU should start */
	OTS_MB_EV_BAD_LENGTH,          /* MBAP length outside 2..254 where a PDU should start */
	OTS_MB_EV_PDU_TOO_SHORT,       /* fewer bytes than the function needs */
	OTS_MB_EV_LENGTH_MISMATCH,     /* byte count / MBAP length disagree with the function's layout */
	OTS_MB_EV_BAD_EXCEPTION,       /* exception code not defined, or exception PDU not 2 bytes */
	OTS_MB_EV_UNKNOWN_FUNCTION,    /* function code neither public nor a known vendor code */
	OTS_MB_EV_EXCEPTION_IN_REQUEST, /* fc | 0x80 sent to the server (flow roles swapped?) */
	OTS_MB_EV_UNMATCHED_RESPONSE,  /* no outstanding request with this transaction id */
	OTS_MB_EV_RESPONSE_MISMATCH,   /* response disagrees with its request (function, address, count) */
	OTS_MB_EV_OUTSTANDING_EVICTED, /* request table full: the oldest outstanding request was dropped */
	OTS_MB_EV_BAD_QUANTITY,        /* quantity outside the range the function allows */
	OTS_MB_EV_BAD_VALUE,           /* Write Single Coil value not 0x0000 / 0xFF00 */
	OTS_MB_EV_DEVID_MALFORMED,     /* Read Device Identification object list truncated or inconsistent */
	OTS_MB_EV_UNKNOWN_MEI,         /* FC 43 with a MEI type other than 13 / 14 */
	OTS_MB_EV_MAX
};

extern const struct ots_parser ots_parser_modbus;

/* exposed for tests */
int ots_modbus_probe(const uint8_t *p, size_t len, int dir);
const char *ots_modbus_function_name(unsigned fc); /* NULL when not a known function */
/* name of a sub-code (struct ots_pdu.sub): FC 8 sub-function ("Force Listen Only Mode") or FC 90 UMAS function
 * ("STOP_PLC"); NULL when unknown or fc has no sub-code */
const char *ots_modbus_sub_name(unsigned fc, unsigned sub);

#endif
