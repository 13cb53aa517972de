/* detect/otengine.h - the operational OT engine: which parsed PDUs are dangerous operations on a controller.
 *
 * Contract:
 *  - One table (otengine.c) maps (protocol, PDU kind/direction, code, sub-code) to an alert definition:
 *    category, severity, title, description and MITRE ATT&CK for ICS technique ids. Nothing else in the tree
 *    lists OT operations.
 *  - ots_ot_classify() is pure: it looks at one struct ots_pdu (protocols/app.h) and returns the definition it
 *    raises, or NULL. Only requests (or unsolicited/other control frames where the protocol has no request)
 *    raise alerts; responses and exceptions never do. Every definition of this release matches kind REQUEST
 *    only: each parser derives the kind from the message itself (S7 ROSCTR Job/userdata type, CIP reply bit,
 *    DNP3 function code, IEC-104 cause of transmission, BACnet APDU type) or, for Modbus, from the direction,
 *    so the flow's orientation does not matter (BACnet and DNP3 peers often use the same port on both sides).
 *  - A definition's `when` says which PDUs raise it: protocol, code in one of up to three ranges, and the
 *    optional tests its `test` bits name (sub-code range, unit one of two values, a DNP3 object group, PDU
 *    flags). The table is sorted by protocol; within a protocol the first matching definition wins, so
 *    specific definitions come before general ones.
 *  - Definition ids are stable (never renumbered, never reused); ranges per protocol: S7comm 1-19, Modbus
 *    20-39, EtherNet/IP-CIP 40-59, DNP3 60-79, IEC-104 80-99, BACnet 100-119.
 *  - ots_ot_evidence() writes the PDU's protocol fields as (key, value) pairs for the alert's evidence, in order
 *    of importance (function, sub-code, unit, address, quantity, DNP3 objects / IIN), keys named per protocol
 *    ("umas_function", "pi_service", "class", "cot", "state"...), sub-codes named by the parser's name table.
 *  - No allocation, no locks: both functions only read constant tables.
 *  - Categories (Alert.category): ot-plc-stop, ot-plc-start (run / program state change), ot-program-download,
 *    ot-program-upload, ot-program-modify (block delete, memory compress, RAM to ROM, file delete),
 *    ot-cold-restart, ot-warm-restart, ot-device-reset (reset / restart whose depth is not known),
 *    ot-time-set, ot-config-change, ot-comm-disable (device silenced or reporting stopped), ot-control-command
 *    (operate / set-point commands: low severity, routine for SCADA). No protocol parsed here marks a firmware
 *    update apart from a file or program download: those definitions list T0857 (System Firmware) too.
 */
#ifndef OTS_OTENGINE_H
#define OTS_OTENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "export/record.h"
#include "protocols/app.h"

/* tests of struct ots_ot_when (besides protocol, kind REQUEST and code) */
#define OTS_OTW_SUB   0x01u /* sub in [sub.lo, sub.hi] */
#define OTS_OTW_UNIT  0x02u /* unit == unit[0] || unit == unit[1] */
#define OTS_OTW_GROUP 0x04u /* DNP3: one of the object headers (objs) has group `group` */
#define OTS_OTW_FLAGS 0x08u /* (flags & all_flags) == all_flags */

struct ots_ot_range {
	uint32_t lo, hi; /* inclusive */
};

struct ots_ot_when {
	uint16_t proto;                /* enum ots_app_proto */
	uint8_t test;                  /* OTS_OTW_* */
	uint8_t group;                 /* OTS_OTW_GROUP */
	struct ots_ot_range code[3];   /* code in one of them; unused entries are {0, 0} after the first */
	struct ots_ot_range sub;       /* OTS_OTW_SUB */
	uint32_t unit[2];              /* OTS_OTW_UNIT */
	uint32_t all_flags;            /* OTS_OTW_FLAGS */
};

struct ots_ot_def {
	const char *category;    /* "ot-plc-stop", "ot-program-download", ... (Alert.category) */
	uint8_t severity;        /* enum ots_severity */
	const char *title;       /* one line, e.g. "S7comm PLC STOP" */
	const char *description; /* why it matters, for the analyst */
	const char *mitre[OTS_ALERT_MAX_MITRE]; /* NULL-terminated when fewer */
	uint16_t id;             /* stable number of this definition (part of the alert's stable id) */
	struct ots_ot_when when; /* which PDUs raise it */
};

/* the definition this PDU raises, or NULL */
const struct ots_ot_def *ots_ot_classify(const struct ots_pdu *p);

/* evidence pairs for p (function code and name, sub-code, unit, address, quantity, ...): returns how many were
 * written (at most max) */
unsigned ots_ot_evidence(const struct ots_pdu *p, struct ots_kv *kv, unsigned max);

/* every definition (tests, docs): count in *n */
const struct ots_ot_def *ots_ot_defs(unsigned *n);

#endif
