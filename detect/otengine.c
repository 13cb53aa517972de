/* detect/otengine.c - the operational OT engine: the one table of dangerous controller operations (see otengine.h). */
#include "detect/otengine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocols/bacnet.h"
#include "protocols/enip.h"
#include "protocols/iec104.h"
#include "protocols/modbus.h"
#include "protocols/registry.h"
#include "protocols/s7comm.h"

/* ---- the table ----
 * Sorted by protocol (ots_ot_classify() finds a protocol's first row by binary search); within a protocol the first
 * match wins. Ids are stable: never renumber, never reuse (retired ids stay out). */

#define ONE(c) { { (c), (c) } }
#define RG(lo, hi) { (lo), (hi) }
#define CIP(svc) OTS_ENIP_CIP_CODE(svc)
#define S7UD(g, s) OTS_S7_UD_CODE(g, s)

#define P_S7 OTS_APP_S7COMM
#define P_MB OTS_APP_MODBUS
#define P_CIP OTS_APP_ENIP
#define P_DNP3 OTS_APP_DNP3
#define P_104 OTS_APP_IEC104
#define P_BAC OTS_APP_BACNET

#define SEV_INFO OTS_SEV_INFO
#define SEV_LOW OTS_SEV_LOW
#define SEV_MED OTS_SEV_MEDIUM
#define SEV_HIGH OTS_SEV_HIGH
#define SEV_CRIT OTS_SEV_CRITICAL

/* CIP Set_Attributes_All / Set_Attribute_List / Set_Attribute_Single */
#define CIP_SET_ATTR { RG(CIP(0x02), CIP(0x02)), RG(CIP(0x04), CIP(0x04)), RG(CIP(0x10), CIP(0x10)) }

static const struct ots_ot_def defs[] = {
	/* ---- Modbus (20-39): sub = FC 8 sub-function / FC 90 UMAS function ---- */
	{ "ot-device-reset", SEV_HIGH, "Modbus Restart Communications Option (FC 8/1)",
	  "Diagnostics sub-function 1 restarts the server's communication port and may clear its event log: the "
	  "device drops off the network for a moment.",
	  { "T0816", "T0814" }, 20,
	  { .proto = P_MB, .test = OTS_OTW_SUB, .code = ONE(8), .sub = RG(1, 1) } },
	{ "ot-comm-disable", SEV_HIGH, "Modbus Force Listen Only Mode (FC 8/4)",
	  "Diagnostics sub-function 4 makes the server stop answering: it stays silent until it is restarted.",
	  { "T0814" }, 21,
	  { .proto = P_MB, .test = OTS_OTW_SUB, .code = ONE(8), .sub = RG(4, 4) } },
	{ "ot-plc-stop", SEV_CRIT, "Modbus UMAS STOP_PLC",
	  "Schneider UMAS function 0x41 (Modbus FC 90) stops the PLC program: outputs go to their fallback state.",
	  { "T0881", "T0858" }, 22,
	  { .proto = P_MB, .test = OTS_OTW_SUB, .code = ONE(90), .sub = RG(0x41, 0x41) } },
	{ "ot-plc-start", SEV_HIGH, "Modbus UMAS START_PLC",
	  "Schneider UMAS function 0x40 (Modbus FC 90) starts the PLC program.",
	  { "T0858", "T0875" }, 23,
	  { .proto = P_MB, .test = OTS_OTW_SUB, .code = ONE(90), .sub = RG(0x40, 0x40) } },
	{ "ot-program-download", SEV_HIGH, "Modbus UMAS program download (INITIALIZE_UPLOAD)",
	  "UMAS 0x30 starts sending an application from the engineering station to the PLC (an 'upload' in UMAS "
	  "terms): the controller's program is replaced.",
	  { "T0843" }, 24,
	  { .proto = P_MB, .test = OTS_OTW_SUB, .code = ONE(90), .sub = RG(0x30, 0x30) } },
	{ "ot-program-upload", SEV_MED, "Modbus UMAS program upload (INITIALIZE_DOWNLOAD)",
	  "UMAS 0x33 starts copying the PLC application to the engineering station (a 'download' in UMAS terms).",
	  { "T0845" }, 25,
	  { .proto = P_MB, .test = OTS_OTW_SUB, .code = ONE(90), .sub = RG(0x33, 0x33) } },
	{ "ot-program-download", SEV_MED, "Modbus Modicon programming function (FC 125/126)",
	  "Legacy Modicon programming functions 125/126: programming software reads or writes ladder logic or "
	  "changes the PLC state.",
	  { "T0843", "T0845" }, 26,
	  { .proto = P_MB, .code = { RG(125, 126) } } },

	/* ---- DNP3 (60-79) ---- */
	{ "ot-cold-restart", SEV_HIGH, "DNP3 Cold Restart",
	  "Function 13 makes the outstation restart completely: it neither reports nor controls until it is back.",
	  { "T0816" }, 60,
	  { .proto = P_DNP3, .code = ONE(13) } },
	{ "ot-warm-restart", SEV_HIGH, "DNP3 Warm Restart",
	  "Function 14 restarts the outstation's DNP3 application without a full reboot.",
	  { "T0816" }, 61,
	  { .proto = P_DNP3, .code = ONE(14) } },
	{ "ot-plc-stop", SEV_HIGH, "DNP3 Stop Application",
	  "Function 18 stops an application running on the outstation.",
	  { "T0881", "T0875" }, 62,
	  { .proto = P_DNP3, .code = ONE(18) } },
	{ "ot-plc-start", SEV_MED, "DNP3 Start Application",
	  "Function 17 starts an application on the outstation.",
	  { "T0875" }, 63,
	  { .proto = P_DNP3, .code = ONE(17) } },
	{ "ot-plc-start", SEV_MED, "DNP3 Initialize Application",
	  "Function 16 prepares an application on the outstation to start.",
	  { "T0875" }, 64,
	  { .proto = P_DNP3, .code = ONE(16) } },
	{ "ot-config-change", SEV_MED, "DNP3 Initialize Data",
	  "Function 15 resets the outstation's data (counters, set points, parameters) to their initial values.",
	  { "T0836" }, 65,
	  { .proto = P_DNP3, .code = ONE(15) } },
	{ "ot-config-change", SEV_MED, "DNP3 Save Configuration",
	  "Function 19 makes the outstation save its current configuration.",
	  { "T0836" }, 66,
	  { .proto = P_DNP3, .code = ONE(19) } },
	{ "ot-config-change", SEV_HIGH, "DNP3 Activate Configuration",
	  "Function 31 makes the outstation activate configuration files or objects that were sent to it.",
	  { "T0836" }, 67,
	  { .proto = P_DNP3, .code = ONE(31) } },
	{ "ot-comm-disable", SEV_LOW, "DNP3 Disable Unsolicited",
	  "Function 21 stops spontaneous event reporting. Masters send it at start-up too: suspicious when it comes "
	  "from an unknown station or outside a master restart.",
	  { "T0804" }, 68,
	  { .proto = P_DNP3, .code = ONE(21) } },
	{ "ot-time-set", SEV_LOW, "DNP3 time write (group 50)",
	  "A Write of a time object (group 50) sets the outstation's clock; routine when the master answers a "
	  "need-time indication.",
	  { "T0836" }, 69,
	  { .proto = P_DNP3, .test = OTS_OTW_GROUP, .group = 50, .code = ONE(2) } },
	{ "ot-program-download", SEV_MED, "DNP3 file write (group 70)",
	  "A Write of file-transfer objects (group 70) sends file data to the outstation: configuration, program or "
	  "firmware.",
	  { "T0843", "T0857" }, 70,
	  { .proto = P_DNP3, .test = OTS_OTW_GROUP, .group = 70, .code = ONE(2) } },
	{ "ot-program-modify", SEV_MED, "DNP3 Delete File",
	  "Function 27 deletes a file on the outstation.",
	  { "T0809" }, 71,
	  { .proto = P_DNP3, .code = ONE(27) } },
	{ "ot-control-command", SEV_LOW, "DNP3 operate command",
	  "Operate, Direct Operate or Direct Operate No Ack (functions 4-6) executes a control (relay output, "
	  "analog output) on the outstation.",
	  { "T0855", "T0831" }, 72,
	  { .proto = P_DNP3, .code = { RG(4, 6) } } },

	/* ---- S7comm (1-19): sub = PI service (OTS_S7_PI_*) / block type ---- */
	{ "ot-plc-stop", SEV_CRIT, "S7comm PLC STOP",
	  "Job 0x29 puts the PLC into STOP: the control program stops and outputs go to their safe state. Expected "
	  "only from engineering stations during maintenance.",
	  { "T0881", "T0858" }, 1,
	  { .proto = P_S7, .code = ONE(0x29) } },
	{ "ot-plc-start", SEV_HIGH, "S7comm PLC start (PI P_PROGRAM)",
	  "PI service P_PROGRAM (Job 0x28) restarts the PLC program (STOP to RUN), often the last step of a "
	  "download.",
	  { "T0858", "T0875" }, 2,
	  { .proto = P_S7, .test = OTS_OTW_SUB, .code = ONE(0x28), .sub = RG(OTS_S7_PI_P_PROGRAM, OTS_S7_PI_P_PROGRAM) } },
	{ "ot-program-download", SEV_HIGH, "S7comm block activated (PI _INSE)",
	  "PI service _INSE makes downloaded blocks part of the program the PLC runs: it completes a program or "
	  "hardware configuration download.",
	  { "T0843", "T0889" }, 3,
	  { .proto = P_S7, .test = OTS_OTW_SUB, .code = ONE(0x28), .sub = RG(OTS_S7_PI_INSE, OTS_S7_PI_INSE) } },
	{ "ot-program-modify", SEV_HIGH, "S7comm block deleted (PI _DELE)",
	  "PI service _DELE deletes blocks (code, data or system data) from the PLC.",
	  { "T0889", "T0809" }, 4,
	  { .proto = P_S7, .test = OTS_OTW_SUB, .code = ONE(0x28), .sub = RG(OTS_S7_PI_DELE, OTS_S7_PI_DELE) } },
	{ "ot-program-modify", SEV_MED, "S7comm memory compressed (PI _GARB)",
	  "PI service _GARB compresses the PLC's load memory, done by engineering software around program changes.",
	  { "T0889" }, 5,
	  { .proto = P_S7, .test = OTS_OTW_SUB, .code = ONE(0x28), .sub = RG(OTS_S7_PI_GARB, OTS_S7_PI_GARB) } },
	{ "ot-program-modify", SEV_HIGH, "S7comm copy RAM to ROM (PI _MODU)",
	  "PI service _MODU writes the program held in RAM to the PLC's persistent memory: changes survive a "
	  "restart.",
	  { "T0889" }, 6,
	  { .proto = P_S7, .test = OTS_OTW_SUB, .code = ONE(0x28), .sub = RG(OTS_S7_PI_MODU, OTS_S7_PI_MODU) } },
	{ "ot-program-download", SEV_HIGH, "S7comm program download (Request download)",
	  "Job 0x1a starts a block download to the PLC: its program, data or configuration is being replaced.",
	  { "T0843" }, 7,
	  { .proto = P_S7, .code = ONE(0x1a) } },
	{ "ot-program-upload", SEV_MED, "S7comm program upload (Start upload)",
	  "Job 0x1d starts uploading a block from the PLC: the control program is copied off the controller.",
	  { "T0845" }, 8,
	  { .proto = P_S7, .code = ONE(0x1d) } },
	{ "ot-time-set", SEV_MED, "S7comm PLC clock set",
	  "Userdata time function 'set clock' changes the PLC's clock, and with it the time stamps of its alarms "
	  "and diagnostic events.",
	  { "T0836" }, 9,
	  { .proto = P_S7, .code = { RG(S7UD(7, 2), S7UD(7, 2)), RG(S7UD(7, 4), S7UD(7, 4)) } } },

	/* ---- EtherNet/IP CIP (40-59): code = OTS_ENIP_CIP_CODE(service), unit = class, sub = attribute ---- */
	{ "ot-plc-stop", SEV_CRIT, "CIP Stop service",
	  "CIP Stop (0x07), e.g. on a Logix controller (class 0x8E): the controller or object stops running.",
	  { "T0881", "T0858" }, 40,
	  { .proto = P_CIP, .code = ONE(CIP(0x07)) } },
	{ "ot-plc-start", SEV_HIGH, "CIP Start service",
	  "CIP Start (0x06), e.g. on a Logix controller (class 0x8E): the controller or object goes back to run.",
	  { "T0858", "T0875" }, 41,
	  { .proto = P_CIP, .code = ONE(CIP(0x06)) } },
	{ "ot-device-reset", SEV_HIGH, "CIP Identity Reset",
	  "CIP Reset (0x05) of the Identity object restarts the device (type 0 as a power cycle, 1 and 2 back to "
	  "factory defaults).",
	  { "T0816" }, 42,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = ONE(CIP(0x05)), .unit = { 0x01, 0x01 } } },
	{ "ot-device-reset", SEV_HIGH, "CIP Reset service",
	  "CIP Reset (0x05) of an object other than Identity; Logix engineering software resets the controller "
	  "this way around a download.",
	  { "T0816" }, 43,
	  { .proto = P_CIP, .code = ONE(CIP(0x05)) } },
	{ "ot-time-set", SEV_MED, "CIP controller clock set (Wall Clock Time)",
	  "Set Attribute(s) on the Logix Wall Clock Time object (class 0x8B) changes the controller's date and time.",
	  { "T0836" }, 44,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = CIP_SET_ATTR, .unit = { 0x8b, 0x8b } } },
	{ "ot-config-change", SEV_MED, "CIP network configuration change",
	  "Set Attribute(s) on the TCP/IP Interface (0xF5) or Ethernet Link (0xF6) object changes the device's "
	  "network settings.",
	  { "T0836" }, 45,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = CIP_SET_ATTR, .unit = { 0xf5, 0xf6 } } },
	{ "ot-config-change", SEV_MED, "CIP controller lock/unlock (class 0x74 path)",
	  "Service 0x4B/0x4C on a path naming class 0x74: Logix engineering tools lock or unlock the controller "
	  "for editing this way, before a download.",
	  { "T0855" }, 46,
	  { .proto = P_CIP, .test = OTS_OTW_FLAGS, .code = { RG(CIP(0x4b), CIP(0x4c)) },
	    .all_flags = OTS_PDUF_CONFIG } },
	{ "ot-program-download", SEV_MED, "CIP File object download",
	  "Initiate Download / Partial Write (0x4C/0x4E) on the File object (class 0x37) writes a file to the "
	  "device: EDS, configuration or firmware image.",
	  { "T0843", "T0857" }, 47,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = { RG(CIP(0x4c), CIP(0x4c)), RG(CIP(0x4e), CIP(0x4e)) },
	    .unit = { 0x37, 0x37 } } },
	{ "ot-program-upload", SEV_LOW, "CIP File object upload",
	  "Initiate Upload / Partial Read (0x4B/0x4D) on the File object (class 0x37) reads a file off the device.",
	  { "T0845" }, 48,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = { RG(CIP(0x4b), CIP(0x4b)), RG(CIP(0x4d), CIP(0x4d)) },
	    .unit = { 0x37, 0x37 } } },
	{ "ot-program-download", SEV_HIGH, "Logix program download (routine write)",
	  "Service 0x50 on Logix program/routine objects (classes 0x68/0x6A): Studio 5000 / RSLogix writes routine "
	  "logic into the controller.",
	  { "T0843", "T0889" }, 49,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = ONE(CIP(0x50)), .unit = { 0x68, 0x6a } } },
	{ "ot-program-upload", SEV_LOW, "Logix program upload (routine read)",
	  "Service 0x4F on Logix program/routine objects (classes 0x68/0x6A): engineering software reads routine "
	  "logic from the controller.",
	  { "T0845" }, 50,
	  { .proto = P_CIP, .test = OTS_OTW_UNIT, .code = ONE(CIP(0x4f)), .unit = { 0x68, 0x6a } } },
	{ "ot-config-change", SEV_LOW, "CIP Set Attribute",
	  "Set Attributes All / List / Single (0x02/0x04/0x10) changes attributes of an object on the device: "
	  "configuration or parameters.",
	  { "T0836" }, 51,
	  { .proto = P_CIP, .code = CIP_SET_ATTR } },

	/* ---- BACnet/IP (100-119): sub = reinitialize state / enable-disable ---- */
	{ "ot-cold-restart", SEV_HIGH, "BACnet ReinitializeDevice coldstart",
	  "reinitializeDevice (service 20) with state coldstart reboots the device.",
	  { "T0816" }, 100,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(20), .sub = RG(0, 0) } },
	{ "ot-warm-restart", SEV_HIGH, "BACnet ReinitializeDevice warmstart",
	  "reinitializeDevice (service 20) with state warmstart restarts the device's application.",
	  { "T0816" }, 101,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(20), .sub = RG(1, 1) } },
	{ "ot-program-upload", SEV_MED, "BACnet ReinitializeDevice startbackup",
	  "reinitializeDevice startbackup prepares the device for a backup: its configuration files are read off "
	  "it next.",
	  { "T0845" }, 102,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(20), .sub = RG(2, 2) } },
	{ "ot-program-download", SEV_HIGH, "BACnet ReinitializeDevice startrestore",
	  "reinitializeDevice startrestore prepares the device for a restore: its configuration is replaced next.",
	  { "T0843" }, 103,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(20), .sub = RG(4, 4) } },
	{ "ot-config-change", SEV_MED, "BACnet ReinitializeDevice activate-changes",
	  "reinitializeDevice activate-changes makes the device apply configuration changes written to it.",
	  { "T0836" }, 104,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(20), .sub = RG(7, 7) } },
	{ "ot-device-reset", SEV_MED, "BACnet ReinitializeDevice",
	  "reinitializeDevice ending or aborting a backup or restore, or with a state that was not decoded.",
	  { "T0816" }, 105,
	  { .proto = P_BAC, .code = ONE(20) } },
	{ "ot-comm-disable", SEV_HIGH, "BACnet DeviceCommunicationControl disable",
	  "deviceCommunicationControl (service 17) disable: the device stops all communication except DCC and "
	  "reinitialize, for the given duration.",
	  { "T0814", "T0804" }, 106,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(17), .sub = RG(1, 1) } },
	{ "ot-comm-disable", SEV_MED, "BACnet DeviceCommunicationControl disable-initiation",
	  "deviceCommunicationControl disable-initiation: the device stops sending I-Am, COV and event "
	  "notifications on its own.",
	  { "T0804" }, 107,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(17), .sub = RG(2, 2) } },
	{ "ot-comm-disable", SEV_MED, "BACnet DeviceCommunicationControl",
	  "deviceCommunicationControl whose enable-disable value was not decoded.",
	  { "T0814" }, 108,
	  { .proto = P_BAC, .test = OTS_OTW_SUB, .code = ONE(17), .sub = RG(OTS_BACNET_SUB_NONE, OTS_BACNET_SUB_NONE) } },
	{ "ot-program-download", SEV_MED, "BACnet AtomicWriteFile",
	  "atomicWriteFile (service 7) writes a file on the device: program, configuration or firmware image.",
	  { "T0843", "T0857" }, 109,
	  { .proto = P_BAC, .code = ONE(7) } },
	{ "ot-time-set", SEV_LOW, "BACnet time synchronization",
	  "timeSynchronization / utcTimeSynchronization sets the device's clock; routine from a time master.",
	  { "T0836" }, 110,
	  { .proto = P_BAC, .code = { RG(0x106, 0x106), RG(0x109, 0x109) } } },

	/* ---- IEC 60870-5-104 (80-99): sub = cause of transmission, 6 = activation ---- */
	{ "ot-device-reset", SEV_HIGH, "IEC-104 reset process command (C_RP_NA_1)",
	  "Type 105 activation resets the outstation's process (general reset, or reset of pending time-tagged "
	  "events).",
	  { "T0816" }, 80,
	  { .proto = P_104, .test = OTS_OTW_SUB, .code = ONE(105), .sub = RG(6, 6) } },
	{ "ot-time-set", SEV_LOW, "IEC-104 clock synchronization (C_CS_NA_1)",
	  "Type 103 activation sets the outstation's clock; routine from the controlling station.",
	  { "T0836" }, 81,
	  { .proto = P_104, .test = OTS_OTW_SUB, .code = ONE(103), .sub = RG(6, 6) } },
	{ "ot-config-change", SEV_MED, "IEC-104 parameter change (P_ME / P_AC)",
	  "Parameter of measured values or parameter activation (types 110-113) changes thresholds, smoothing or "
	  "limits of measurements.",
	  { "T0836" }, 82,
	  { .proto = P_104, .test = OTS_OTW_SUB, .code = { RG(110, 113) }, .sub = RG(6, 6) } },
	{ "ot-control-command", SEV_LOW, "IEC-104 command (single/double/step)",
	  "Single, double or regulating-step command activation (types 45-47, 58-60) operates breakers, "
	  "disconnectors or tap changers.",
	  { "T0855", "T0831" }, 83,
	  { .proto = P_104, .test = OTS_OTW_SUB, .code = { RG(45, 47), RG(58, 60) }, .sub = RG(6, 6) } },
	{ "ot-control-command", SEV_LOW, "IEC-104 set-point command",
	  "Set-point or bitstring command activation (types 48-51, 61-64) changes a set point or output value of "
	  "the process.",
	  { "T0855", "T0836" }, 84,
	  { .proto = P_104, .test = OTS_OTW_SUB, .code = { RG(48, 51), RG(61, 64) }, .sub = RG(6, 6) } },
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

_Static_assert(OTS_APP_MODBUS < OTS_APP_DNP3 && OTS_APP_DNP3 < OTS_APP_S7COMM && OTS_APP_S7COMM < OTS_APP_ENIP &&
		       OTS_APP_ENIP < OTS_APP_BACNET && OTS_APP_BACNET < OTS_APP_IEC104,
	       "the definition table is written in protocol order");

const struct ots_ot_def *ots_ot_defs(unsigned *n)
{
	*n = (unsigned)NDEFS;
	return defs;
}

/* ---- classification ---- */

static int in(const struct ots_ot_range *r, uint32_t v)
{
	return v >= r->lo && v <= r->hi;
}

static int matches(const struct ots_ot_when *w, const struct ots_pdu *p)
{
	int code = in(&w->code[0], p->code);
	for (unsigned i = 1; i < 3 && !code && w->code[i].hi; i++)
		code = in(&w->code[i], p->code);
	if (!code)
		return 0;
	if ((w->test & OTS_OTW_SUB) && !in(&w->sub, p->sub))
		return 0;
	if ((w->test & OTS_OTW_UNIT) && p->unit != w->unit[0] && p->unit != w->unit[1])
		return 0;
	if ((w->test & OTS_OTW_FLAGS) && (p->flags & w->all_flags) != w->all_flags)
		return 0;
	if (w->test & OTS_OTW_GROUP) {
		unsigned i = 0, n = p->objs ? p->nobjs : 0;
		while (i < n && p->objs[i] >> 8 != w->group)
			i++;
		if (i == n)
			return 0;
	}
	return 1;
}

const struct ots_ot_def *ots_ot_classify(const struct ots_pdu *p)
{
	if (p->kind != OTS_PDU_REQUEST)
		return NULL;
	size_t lo = 0, hi = NDEFS; /* first row of the protocol */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (defs[mid].when.proto < p->proto)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < NDEFS && defs[i].when.proto == p->proto; i++)
		if (matches(&defs[i].when, p))
			return &defs[i];
	return NULL;
}

/* ---- evidence ---- */

struct ev {
	struct ots_kv *kv;
	unsigned n, max;
};

__attribute__((format(printf, 3, 4))) static void put(struct ev *e, const char *key, const char *fmt, ...)
{
	if (e->n >= e->max)
		return;
	struct ots_kv *kv = &e->kv[e->n++];
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(kv->value, sizeof(kv->value), fmt, ap);
	va_end(ap);
}

/* "<number> <name>" or "<number>" (fmt prints the number) */
static void put_named(struct ev *e, const char *key, const char *numfmt, uint32_t v, const char *name)
{
	char num[16];
	snprintf(num, sizeof(num), numfmt, v);
	if (name)
		put(e, key, "%s %s", num, name);
	else
		put(e, key, "%s", num);
}

static void ev_modbus(struct ev *e, const struct ots_pdu *p)
{
	put_named(e, "function", "%u", p->code, p->name);
	if (p->code == 8 || p->code == 90)
		put_named(e, p->code == 8 ? "sub_function" : "umas_function", p->code == 8 ? "%u" : "0x%02x", p->sub,
			  ots_modbus_sub_name(p->code, p->sub));
	put(e, "unit_id", "%u", p->unit);
	if (p->code != 8 && p->code != 90 && (p->address || p->quantity)) {
		put(e, "address", "%u", p->address);
		put(e, "quantity", "%u", p->quantity);
	}
}

static void ev_s7(struct ev *e, const struct ots_pdu *p)
{
	if (p->code >= 0x20000) { /* S7comm-plus */
		put_named(e, "function", "0x%05x", p->code, p->name);
		put(e, "version", "%u", p->unit);
		if (p->address)
			put(e, "session", "0x%x", p->address);
		return;
	}
	if (p->code >= 0x1000) { /* userdata */
		put(e, "function", "group %u sub %u %s", (p->code >> 8) & 0xf, p->code & 0xff, p->name ? p->name : "");
	} else {
		put_named(e, "function", "0x%02x", p->code, p->name);
	}
	const char *sn = ots_s7_sub_name(p->code, p->sub);
	if (sn)
		put(e, p->code == 0x28 ? "pi_service" : "block_type", "%s", sn);
	if (p->address || p->quantity) {
		put(e, p->code >= 0x1000 ? "szl_id" : "db", "0x%x", p->address);
		put(e, p->code >= 0x1000 ? "szl_index" : "quantity", "%u", p->quantity);
	}
}

static void ev_cip(struct ev *e, const struct ots_pdu *p)
{
	if (!(p->code & 0x10000)) { /* encapsulation command */
		put_named(e, "command", "0x%04x", p->code, p->name);
		put(e, "session", "0x%08x", p->address);
		return;
	}
	put_named(e, "service", "0x%02x", p->code & 0x7f, p->name);
	put(e, "class", "0x%02x", p->unit);
	put(e, "instance", "%u", p->address);
	if (p->sub)
		put(e, "attribute", "%u", p->sub);
	if (p->quantity)
		put(e, "services", "%u", p->quantity);
}

static void ev_dnp3(struct ev *e, const struct ots_pdu *p)
{
	put_named(e, "function", "%u", p->code, p->name);
	put(e, "destination", "%u", p->unit);
	if (p->objs && p->nobjs) {
		char v[sizeof(e->kv[0].value)];
		size_t o = 0;
		for (unsigned i = 0; i < p->nobjs; i++) {
			char one[16];
			int k = snprintf(one, sizeof(one), "%sg%uv%u", i ? "," : "", p->objs[i] >> 8, p->objs[i] & 0xffu);
			if (o + (size_t)k + 4 >= sizeof(v)) {
				memcpy(v + o, ",...", 4);
				o += 4;
				break;
			}
			memcpy(v + o, one, (size_t)k);
			o += (size_t)k;
		}
		v[o] = 0;
		put(e, "objects", "%s", v);
	}
	if (p->quantity > p->nobjs)
		put(e, "object_headers", "%u", p->quantity);
	if (p->iin)
		put(e, "iin", "0x%04x", p->iin);
}

static void ev_iec104(struct ev *e, const struct ots_pdu *p)
{
	if (p->code >= OTS_IEC104_CODE_U) {
		put_named(e, "apci", "0x%03x", p->code, p->name);
		return;
	}
	put_named(e, "type_id", "%u", p->code, p->name);
	put_named(e, "cot", "%u", p->sub, ots_iec104_cot_name(p->sub));
	put(e, "common_address", "%u", p->unit);
	put(e, "ioa", "%u", p->address);
	put(e, "objects", "%u", p->quantity);
}

static void ev_bacnet(struct ev *e, const struct ots_pdu *p)
{
	if (p->code >= 0x100 && p->code < 0x200)
		put_named(e, "service", "U:%u", p->code & 0xff, p->name);
	else
		put_named(e, "service", "%u", p->code, p->name);
	const char *sn = ots_bacnet_sub_name(p->code, p->sub);
	if (sn)
		put(e, p->code == 20 ? "state" : "enable_disable", "%s", sn);
	if (p->unit)
		put(e, "device", "%u", p->unit);
	if (p->address)
		put(e, "object", "%u:%u", p->address >> 22, p->address & 0x3fffffu);
}

unsigned ots_ot_evidence(const struct ots_pdu *p, struct ots_kv *kv, unsigned max)
{
	struct ev e = { kv, 0, max };
	switch (p->proto) {
	case OTS_APP_MODBUS: ev_modbus(&e, p); break;
	case OTS_APP_S7COMM: ev_s7(&e, p); break;
	case OTS_APP_ENIP: ev_cip(&e, p); break;
	case OTS_APP_DNP3: ev_dnp3(&e, p); break;
	case OTS_APP_IEC104: ev_iec104(&e, p); break;
	case OTS_APP_BACNET: ev_bacnet(&e, p); break;
	default:
		put_named(&e, "code", "%u", p->code, p->name);
		if (p->unit)
			put(&e, "unit", "%u", p->unit);
		if (p->address)
			put(&e, "address", "%u", p->address);
		if (p->quantity)
			put(&e, "quantity", "%u", p->quantity);
		break;
	}
	return e.n;
}
