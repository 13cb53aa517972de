/* tests/test_otengine.c - unit tests for detect/otengine.c (the OT operations table) and the parser detail it uses
 * (struct ots_pdu sub / iin / objs).
 *
 * Every case is a real payload cut from the shared captures (../shared/pcaps, capture and frame in the table below;
 * bytes as `tshark -r CAPTURE -Y 'frame.number == N' -T fields -e tcp.payload -e udp.payload` prints them). It goes
 * through the real parser (its parse function with a recording struct ots_app_ops, a fresh zeroed state per case)
 * and every PDU the parser reports is classified inside the pdu() callback, as the worker does. A case names the
 * one definition id its payload must raise (0: none), and what the parser must report as sub-code.
 * Then: the table itself (well-formed, ids unique, sorted by protocol), evidence on real PDUs, and synthetic PDUs
 * for the conditions the captures do not show (responses, other kinds, object-group tests).
 */
#include "detect/otengine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/record.h"
#include "protocols/bacnet.h"
#include "protocols/dnp3.h"
#include "protocols/enip.h"
#include "protocols/iec104.h"
#include "protocols/modbus.h"
#include "protocols/registry.h"
#include "protocols/s7comm.h"
#include "tests/harness.h"
#include "tests/recorder.h" /* unhex */

/* ---- recording: classify every PDU in the callback ---- */

#define MAXREC 32

struct rec {
	struct ots_pdu pdu;              /* objs cleared: the parser's array is only valid during the callback */
	uint16_t objs[OTS_PDU_MAX_OBJS]; /* a copy */
	const struct ots_ot_def *def;
	struct ots_kv ev[OTS_ALERT_MAX_EVIDENCE];
	unsigned nev;
};

static struct {
	struct rec r[MAXREC];
	unsigned n;
	unsigned events;
} R;

static void rec_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	if (R.n >= MAXREC)
		return;
	struct rec *r = &R.r[R.n++];
	r->pdu = *p;
	r->pdu.objs = NULL;
	if (p->objs)
		memcpy(r->objs, p->objs, sizeof(uint16_t) * (p->nobjs < OTS_PDU_MAX_OBJS ? p->nobjs : OTS_PDU_MAX_OBJS));
	r->def = ots_ot_classify(p);
	r->nev = ots_ot_evidence(p, r->ev, OTS_ALERT_MAX_EVIDENCE);
}

static void rec_id(void *ud, int ep, int kind, int conf, const char *v, size_t n)
{
	(void)ud, (void)ep, (void)kind, (void)conf, (void)v, (void)n;
}

static void rec_ev(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud, (void)proto, (void)ev;
	R.events++;
}

static const struct ots_app_ops ops = { rec_pdu, rec_id, rec_ev };

static _Alignas(16) uint8_t state[OTS_APP_STATE_MAX];

static const struct ots_parser *parser_of(uint16_t proto)
{
	switch (proto) {
	case OTS_APP_MODBUS: return &ots_parser_modbus;
	case OTS_APP_S7COMM: return &ots_parser_s7comm;
	case OTS_APP_ENIP: return &ots_parser_enip;
	case OTS_APP_DNP3: return &ots_parser_dnp3;
	case OTS_APP_IEC104: return &ots_parser_iec104;
	case OTS_APP_BACNET: return &ots_parser_bacnet;
	default: return NULL;
	}
}

/* one payload through the protocol's parser (fresh state); returns parse()'s result */
static int feed(uint16_t proto, int dir, const char *hex)
{
	static uint8_t buf[2048];
	memset(&R, 0, sizeof(R));
	const struct ots_parser *ps = parser_of(proto);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
	memset(state, 0, ps->state_size);
	size_t n = unhex(hex, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	struct ots_app_ctx c = { .ops = &ops, .proto = proto, .dir = (uint8_t)dir,
				 .transport = proto == OTS_APP_BACNET ? 17 : 6 };
	return ps->parse(&c, buf, n, state);
}

/* the records that raised a definition */
static unsigned alerts(const struct rec **first)
{
	unsigned k = 0;
	*first = NULL;
	for (unsigned i = 0; i < R.n; i++)
		if (R.r[i].def) {
			if (!k)
				*first = &R.r[i];
			k++;
		}
	return k;
}

static const char *ev_value(const struct rec *r, const char *key)
{
	for (unsigned i = 0; i < r->nev; i++)
		if (!strcmp(r->ev[i].key, key))
			return r->ev[i].value;
	return NULL;
}

static const struct ots_ot_def *def_by_id(unsigned id)
{
	unsigned n;
	const struct ots_ot_def *d = ots_ot_defs(&n);
	for (unsigned i = 0; i < n; i++)
		if (d[i].id == id)
			return &d[i];
	return NULL;
}

static int has_mitre(const struct ots_ot_def *d, const char *t)
{
	for (unsigned i = 0; i < OTS_ALERT_MAX_MITRE && d->mitre[i]; i++)
		if (!strcmp(d->mitre[i], t))
			return 1;
	return 0;
}

/* ---- real payloads ---- */

#define TS OTS_DIR_TO_SERVER
#define TC OTS_DIR_TO_CLIENT
#define NOSUB 0xfffffffeu /* sub not checked */

struct pcase {
	const char *what; /* capture (under ../shared/pcaps) and frame */
	uint16_t proto;
	uint8_t dir;
	const char *hex;
	uint32_t code;    /* code of the PDU the case is about */
	uint32_t sub;     /* its sub-code as the parser reports it (NOSUB: not checked) */
	unsigned id;      /* definition it raises, 0 none */
	const char *category;
	unsigned events;  /* protocol events the parser reports on these bytes */
};

static const struct pcase cases[] = {
	/* S7comm */
	{ "ITI s7__snap7_s300_stop.pcapng #1 Job 0x29 PLC Stop", OTS_APP_S7COMM, TS,
	  "0300002102f0803201000000020010000029000000000009505f50524f4752414d", 0x29, 0, 1, "ot-plc-stop" },
	{ "nDPI s7comm.pcap #39 Job 0x1a Request download _0A00001P (DB 1)", OTS_APP_S7COMM, TS,
	  "0300003102f080320100000e00002000001a00010000000000095f30413030303031500d31303030353030303030343030", 0x1a,
	  OTS_S7_BLK_DB, 7, "ot-program-download" },
	{ "nDPI s7comm.pcap #54 Job 0x28 PI _INSE", OTS_APP_S7COMM, TS,
	  "0300002b02f080320100000f00001a000028000000000000fd000a01003041303030303150055f494e5345", 0x28, OTS_S7_PI_INSE,
	  3, "ot-program-download" },
	{ "gymgit tia_s300_downloadHwConfig.pcapng #136 Job 0x28 PI P_PROGRAM", OTS_APP_S7COMM, TS,
	  "0300002502f0803201000091000014000028000000000000fd000009505f50524f4752414d", 0x28, OTS_S7_PI_P_PROGRAM, 2,
	  "ot-plc-start" },
	{ "gymgit tia_s300_downloadHwConfig.pcapng #60 Job 0x28 PI _DELE (SDB)", OTS_APP_S7COMM, TS,
	  "0300002b02f080320100007400001a000028000000000000fd000a01003042303230303041055f44454c45", 0x28,
	  OTS_S7_PI_DELE, 4, "ot-program-modify" },
	{ "ITI s7__step7_s300_copyRamToRom.pcapng #1 Job 0x28 PI _MODU", OTS_APP_S7COMM, TS,
	  "0300002302f080320100000a000012000028000000000000fd00024550055f4d4f4455", 0x28, OTS_S7_PI_MODU, 6,
	  "ot-program-modify" },
	{ "ITI s7__s7comm_reading_setting_plc_time.pcap #43 userdata 7/2 set clock", OTS_APP_S7COMM, TS,
	  "0300002702f080320700000c000008000e0001120411470200ff09000a00191408201159330400", OTS_S7_UD_CODE(7, 2), 0, 9,
	  "ot-time-set" },
	{ "ITI s7__s7comm_reading_setting_plc_time.pcap #25 userdata 7/1 read clock (normal)", OTS_APP_S7COMM, TS,
	  "0300001d02f0803207000007000008000400011204114701000a000000", OTS_S7_UD_CODE(7, 1), 0, 0, NULL },
	{ "EmreEkin S7COMM__1-S7comm-VarService-Read-DB1DBD0.pcap #10 Read Var (normal)", OTS_APP_S7COMM, TS,
	  "0300001f02f080320100000000000e00000401120a10020004000184000000", 0x04, 0, 0, NULL },
	{ "nDPI s7comm.pcap #6 userdata Read SZL (normal)", OTS_APP_S7COMM, TS,
	  "0300002102f080320700000300000800080001120411440100ff09000401320004", OTS_S7_UD_CODE(4, 1), 0, 0, NULL },

	/* Modbus */
	{ "nDPI modbus.pcap #1 FC 3 Read Holding Registers (normal)", OTS_APP_MODBUS, TS, "00d100000006010300010001", 3,
	  0, 0, NULL },
	{ "ITI ModbusTCP__modbus_test_data_part1.pcap #8 FC 8/4 Force Listen Only Mode", OTS_APP_MODBUS, TS,
	  "0000000000060a0800040000", 8, 4, 21, "ot-comm-disable" },
	{ "ITI ModbusTCP__modbus_test_data_part1.pcap #15 FC 8/1 Restart Communications Option", OTS_APP_MODBUS, TS,
	  "0000000000060a0800010000", 8, 1, 20, "ot-device-reset" },
	{ "ITI ModbusTCP__modbus_test_data_part1.pcap #23 FC 8/10 Clear Counters (normal)", OTS_APP_MODBUS, TS,
	  "0000000000060a08000a0000", 8, 10, 0, NULL },
	{ "nDPI umas.pcap #76 FC 90 UMAS 0x33 INITIALIZE_DOWNLOAD (PLC -> PC)", OTS_APP_MODBUS, TS,
	  "002300000008005a01330001fb00", 90, 0x33, 25, "ot-program-upload" },
	{ "nDPI umas.pcap #78 FC 90 UMAS 0x34 DOWNLOAD_BLOCK (transfer continues: no new alert)", OTS_APP_MODBUS, TS,
	  "002400000008005a013400010100", 90, 0x34, 0, NULL },
	{ "nDPI umas.pcap #25 FC 90 UMAS 0x20 READ_MEMORY_BLOCK (normal)", OTS_APP_MODBUS, TS,
	  "000a0000000d005a0020001300000000006400", 90, 0x20, 0, NULL },

	/* EtherNet/IP CIP (the encapsulation PDU never raises; the CIP service does) */
	{ "ITI EthernetIP__cip_stop_plc.pcap #1 CIP Stop class 0x8E", OTS_APP_ENIP, TS,
	  "70001c0001002a00000000000000000000000000000000000000000001000200a1000400224095ffb100080006010702208e2401",
	  OTS_ENIP_CIP_CODE(0x07), 0, 40, "ot-plc-stop" },
	{ "ITI EthernetIP__cip_start_plc.pcap #1 CIP Start class 0x8E", OTS_APP_ENIP, TS,
	  "70001c0001002a00000000000000000000000000000000000000000001000200a1000400224095ffb1000800e7000602208e2401",
	  OTS_ENIP_CIP_CODE(0x06), 0, 41, "ot-plc-start" },
	{ "ITI openics__EIP-RebootorRestart.pcap #454 CIP Reset class 0x72", OTS_APP_ENIP, TS,
	  "70001c0000010211000000000000000000000000000000000000000001000200a1000400010b7900b1000800a100050220722401",
	  OTS_ENIP_CIP_CODE(0x05), 0, 43, "ot-device-reset" },
	{ "ITI EthernetIP__cip_unlock_cpu.pcap #1 service 0x4C on 0x8E/0x74 (lock/unlock)", OTS_APP_ENIP, TS,
	  "7000200000010212000000000000000000000000000000000000000001000200a1000400016b0700b1000c004c1c4c04208e240120742401",
	  OTS_ENIP_CIP_CODE(0x4c), 0, 46, "ot-config-change" },
	{ "ITI openics__EIP-ChangeTimeAttempt.pcap #386 Set_Attribute_List class 0x8B", OTS_APP_ENIP, TS,
	  "7000280000010211000000000000000000000000000000000000000001000200a1000400010b7c00b1001400b2040402208b240101"
	  "000600c0325cfff3590400",
	  OTS_ENIP_CIP_CODE(0x04), 0, 44, "ot-time-set" },
	{ "ITI openics__EIP-RebootorRestart.pcap #476 service 0x50 on class 0x6A (routine write)", OTS_APP_ENIP, TS,
	  "70007d0000010211000000000000000000000000000000000000000001000200a1000400010b7900b1006900a9005003206a2500fa1b"
	  "000000000058001300000054686520414e44206973204e4f542054525545000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  OTS_ENIP_CIP_CODE(0x50), 0, 49, "ot-program-download" },
	{ "ITI openics__EIP-RebootorRestart.pcap #822 service 0x4F on 0x68/0x6A (routine read)", OTS_APP_ENIP, TS,
	  "70002a0000010211000000000000000000000000000000000000000001000200a1000400010b7900b100160043014f06206825002024"
	  "206a25002459000000000100",
	  OTS_ENIP_CIP_CODE(0x4f), 0, 50, "ot-program-upload" },
	{ "EmreEkin Ethernet_IP__ControlLogix_FactoryTalk_HMI.pcap #1 Read Tag (normal)", OTS_APP_ENIP, TS,
	  "70001e0000010212000000000000000000000000000000000000000000000200a100040001035101b1000a0086004c0320b225002100",
	  OTS_ENIP_CIP_CODE(0x4c), 0, 0, NULL },
	{ "ITI EthernetIP__cip-eth-set-2.pcap #1 Set_Attribute_Single reply (responses never raise)", OTS_APP_ENIP, TC,
	  "6f0014000001021200000000ec6d8601701ee10000000000000000000500020000000000b200040090000000",
	  OTS_ENIP_CIP_CODE(0x10), NOSUB, 0, NULL },

	/* DNP3 */
	{ "ITI dnp3__cold_restart_and_response.pcap #4 Cold Restart", OTS_APP_DNP3, TS, "056408c40a000100fc42c0c00d9c86",
	  13, 0, 60, "ot-cold-restart" },
	{ "ITI dnp3__cold_restart_and_response.pcap #6 its response (IIN 0x0000 time delay fine)", OTS_APP_DNP3, TC,
	  "05640a4401000a006e25c0c0810001c2de", 129, 0, 0, NULL },
	{ "ITI dnp3__warm_restart_and_response.pcap #4 Warm Restart", OTS_APP_DNP3, TS, "056408c40a000100fc42c0c00e7edc",
	  14, 0, 61, "ot-warm-restart" },
	{ "ITI bro__dnp3__dnp3.pcap #163 Stop Application (object g1v7 is undefined: unknown_object event)",
	  OTS_APP_DNP3, TS, "056411c4040003004eefc1c1123c02060107063c04ed8763", 18, 0, 62, "ot-plc-stop", 1 },
	{ "ITI dnp3__disable_unsolcited_and_response.pcap #4 Disable Unsolicited", OTS_APP_DNP3, TS,
	  "056411c40a0001000615c0c0153c02063c03063c04061a55", 21, 0, 68, "ot-comm-disable" },
	{ "ITI dnp3__directoperate_and_response.pcap #4 Direct Operate g12v1", OTS_APP_DNP3, TS,
	  "05641ac40a0001008a1cc0c0050c012801000000030164000000dded6400000000005b", 5, 0, 72, "ot-control-command" },
	{ "ITI bro__dnp3__dnp3.pcap #7 Write g50v1 (time)", OTS_APP_DNP3, TS,
	  "056412c4040003001e7cc1c10232010701ebe45a87ff002801", 2, 0, 69, "ot-time-set" },
	{ "ITI dnp3__file_write.pcap #3 Write g70v5 (file data)", OTS_APP_DNP3, TS,
	  "05641fc4040003004b1ee9ca0246055b011100785634120000003def80686920746865726520653d", 2, 0, 70,
	  "ot-program-download" },
	{ "ITI dnp3__write_iin_and_response.pcap #4 Write g80v1 (clear restart IIN, normal)", OTS_APP_DNP3, TS,
	  "05640ec40a0001002529c0c0025001000707002c49", 2, 0, 0, NULL },
	{ "ITI dnp3__read_and_response.pcap #4 Read class 1/2/3/0 (integrity poll, normal)", OTS_APP_DNP3, TS,
	  "056414c40a0001008fedc0c0013c02063c03063c04063c01068a51", 1, 0, 0, NULL },

	/* IEC 60870-5-104 (sub = cause of transmission) */
	{ "EmreEkin IEC60870-104__iec104_baselines.pcap #17 C_SC_NA_1 act", OTS_APP_IEC104, TS,
	  "680e040042002d0106000a0002000001", 45, 6, 83, "ot-control-command" },
	{ "EmreEkin IEC60870-104__58_59.pcap #60 C_DC_TA_1 act", OTS_APP_IEC104, TS,
	  "6815100032003b010600010001000001b036120c020b13", 59, 6, 83, "ot-control-command" },
	{ "EmreEkin IEC60870-104__58_59.pcap #79 C_DC_TA_1 deact (no alert)", OTS_APP_IEC104, TS,
	  "681516003c003b0108000100d00700814871120c020b13", 59, 8, 0, NULL },
	{ "EmreEkin IEC60870-104__50.pcap #1 C_SE_NC_1 act", OTS_APP_IEC104, TS, "681206001e003201060001002823000000504200",
	  50, 6, 84, "ot-control-command" },
	{ "EmreEkin IEC60870-104__50.pcap #2 C_SE_NC_1 actcon (response)", OTS_APP_IEC104, TC,
	  "68121e0008003201070001002823000000504200", 50, 7, 0, NULL },
	{ "ITI IEC60870-5-104__TestDissectIec104.pcap #139 C_CS_NA_1 act", OTS_APP_IEC104, TS,
	  "68140c001600670106040d91000000c83239081d0808", 103, 6, 81, "ot-time-set" },
	{ "EmreEkin IEC60870-104__104IPValue.pcap #406 P_ME_NC_1 act", OTS_APP_IEC104, TS,
	  "68120a0036007001060001002100000000000003", 112, 6, 82, "ot-config-change" },
	{ "ITI IEC60870-5-104__JavaRMI_and_IEC_Misc.pcap #10 C_IC_NA_1 interrogation (normal)", OTS_APP_IEC104, TS,
	  "680e00000000640106010d9100000014", 100, 6, 0, NULL },
	{ "nDPI IEC104.pcap #7 M_ME_TF_1 spontaneous measurements (normal)", OTS_APP_IEC104, TC,
	  "68192c7e42b9240103001429cbb202cdcc2c3e0094dc028a230a0b", 36, 3, 0, NULL },

	/* BACnet/IP */
	{ "ct-samples bacnet-stack-services.cap #34 reinitializeDevice coldstart", OTS_APP_BACNET, TS,
	  "810a001d0124000d013dff0003011409001d0a0077697265736861726b", 20, 0, 100, "ot-cold-restart" },
	{ "ct-samples bacnet-stack-services.cap #35 its Error (no alert, state unknown)", OTS_APP_BACNET, TC,
	  "810a00110108000d013d5001149105911a", 20, OTS_BACNET_SUB_NONE, 0, NULL },
	{ "ct-samples bacnet-stack-services.cap #76 deviceCommunicationControl disable", OTS_APP_BACNET, TS,
	  "810a001c010c000d013d0203311119012d0a0077697265736861726b", 17, 1, 106, "ot-comm-disable" },
	{ "ct-samples bacnet-stack-services.cap #66 deviceCommunicationControl enable (no alert)", OTS_APP_BACNET, TS,
	  "810a001c0124000d013dff0003011119002d090066696c6973746572", 17, 0, 0, NULL },
	{ "ct-samples bacnet-stack-services.cap #8 timeSynchronization", OTS_APP_BACNET, TS,
	  "810a00160120ffff00ff1006a46a091706b417093600", 0x106, 0, 110, "ot-time-set" },
	{ "ITI BACnet__bacnet_test.pcap #3 readProperty (normal)", OTS_APP_BACNET, TS, "810a001101040005010c0c023fffff194b",
	  12, 0, 0, NULL },
};

static void test_real_payloads(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		int r = feed(c->proto, c->dir, c->hex);
		const struct rec *hit = NULL, *pdu = NULL;
		unsigned k = alerts(&hit);
		for (unsigned j = 0; j < R.n && !pdu; j++)
			if (R.r[j].pdu.code == c->code)
				pdu = &R.r[j];
		int ok = r == 0 && R.events == c->events && pdu && (c->sub == NOSUB || pdu->pdu.sub == c->sub) &&
			 k == (c->id ? 1u : 0u) && (!c->id || (hit == pdu && hit->def->id == c->id));
		if (!ok)
			printf("\n  case %zu (%s): parse %d, events %u, pdus %u, pdu %s sub %u, alerts %u (id %u)", i, c->what,
			       r, R.events, R.n, pdu ? "found" : "missing", pdu ? pdu->pdu.sub : 0, k,
			       hit ? hit->def->id : 0);
		CU_ASSERT(ok);
		if (ok && c->id)
			CU_ASSERT_STRING_EQUAL(hit->def->category, c->category);
	}
}

/* the techniques an analyst filters on */
static void test_mitre_of_key_operations(void)
{
	CU_ASSERT(has_mitre(def_by_id(1), "T0881"));  /* S7 PLC stop: Service Stop */
	CU_ASSERT(has_mitre(def_by_id(22), "T0881")); /* UMAS stop */
	CU_ASSERT(has_mitre(def_by_id(40), "T0881")); /* CIP stop */
	CU_ASSERT(has_mitre(def_by_id(7), "T0843"));  /* S7 download: Program Download */
	CU_ASSERT(has_mitre(def_by_id(8), "T0845"));  /* S7 upload: Program Upload */
	CU_ASSERT(has_mitre(def_by_id(25), "T0845"));
	CU_ASSERT(has_mitre(def_by_id(60), "T0816")); /* DNP3 cold restart: Device Restart/Shutdown */
	CU_ASSERT(has_mitre(def_by_id(100), "T0816"));
	CU_ASSERT(has_mitre(def_by_id(2), "T0858")); /* start: Change Operating Mode */
	CU_ASSERT(has_mitre(def_by_id(83), "T0855")); /* IEC-104 command: Unauthorized Command Message */
	CU_ASSERT_EQUAL(def_by_id(1)->severity, OTS_SEV_CRITICAL);
	CU_ASSERT_EQUAL(def_by_id(83)->severity, OTS_SEV_LOW);
}

/* what the parsers report beyond the code, on real payloads */
static void test_parser_detail(void)
{
	/* DNP3: object headers of a request, IIN of a response */
	CU_ASSERT_EQUAL(feed(OTS_APP_DNP3, TS, "056414c40a0001008fedc0c0013c02063c03063c04063c01068a51"), 0);
	CU_ASSERT_EQUAL_FATAL(R.n, 1);
	CU_ASSERT_EQUAL(R.r[0].pdu.nobjs, 4);
	CU_ASSERT_EQUAL(R.r[0].objs[0], 0x3c02);
	CU_ASSERT_EQUAL(R.r[0].objs[3], 0x3c01);
	CU_ASSERT_EQUAL(R.r[0].pdu.iin, 0);
	CU_ASSERT_EQUAL(feed(OTS_APP_DNP3, TC, "05640a4401000a006e25c0c0810001c2de"), 0); /* IIN1 0x00, IIN2 0x01 */
	CU_ASSERT_EQUAL_FATAL(R.n, 1);
	CU_ASSERT_EQUAL(R.r[0].pdu.iin, 0x0001);
	CU_ASSERT_EQUAL(R.r[0].pdu.nobjs, 0);
	/* Modbus: a UMAS response takes its request's UMAS function */
	CU_ASSERT_EQUAL(feed(OTS_APP_MODBUS, TS, "002300000008005a01330001fb00"), 0);
	struct ots_app_ctx c = { .ops = &ops, .proto = OTS_APP_MODBUS, .dir = TC, .transport = 6 };
	static const uint8_t resp[] = { 0x00, 0x23, 0x00, 0x00, 0x00, 0x04, 0x00, 0x5a, 0x01, 0xfe };
	CU_ASSERT_EQUAL(ots_parser_modbus.parse(&c, resp, sizeof(resp), state), 0);
	CU_ASSERT_EQUAL_FATAL(R.n, 2);
	CU_ASSERT_EQUAL(R.r[1].pdu.kind, OTS_PDU_RESPONSE);
	CU_ASSERT_EQUAL(R.r[1].pdu.sub, 0x33);
	CU_ASSERT_PTR_NULL(R.r[1].def);
	/* CIP: sub = attribute of the request path (the FactoryTalk HMI frame above with its Read Tag replaced by
	 * Get_Attribute_Single class 0xF5 instance 1 attribute 1) */
	CU_ASSERT_EQUAL(feed(OTS_APP_ENIP, TS,
			     "70001e0000010212000000000000000000000000000000000000000000000200a100040001035101b1000a0086"
			     "000e0320f524013001"), 0);
	CU_ASSERT_EQUAL_FATAL(R.n, 2);
	CU_ASSERT_EQUAL(R.r[1].pdu.code, OTS_ENIP_CIP_CODE(0x0e));
	CU_ASSERT_EQUAL(R.r[1].pdu.unit, 0xf5);
	CU_ASSERT_EQUAL(R.r[1].pdu.sub, 1);
	/* S7: block type of a download request from the PLC side (Job 0x1b, SDB 7) */
	CU_ASSERT_EQUAL(feed(OTS_APP_S7COMM, TC,
			     "0300002302f08032010000c100001200001b00000000000000095f3042303030303750"), 0);
	CU_ASSERT_EQUAL_FATAL(R.n, 1);
	CU_ASSERT_EQUAL(R.r[0].pdu.sub, OTS_S7_BLK_SDB);
	CU_ASSERT_PTR_NULL(R.r[0].def); /* 0x1b is the PLC asking for the next block: the 0x1a request alerted */
	CU_ASSERT_STRING_EQUAL(ots_s7_sub_name(0x1b, OTS_S7_BLK_SDB), "SDB");
	CU_ASSERT_STRING_EQUAL(ots_s7_sub_name(0x28, OTS_S7_PI_P_PROGRAM), "P_PROGRAM");
	CU_ASSERT_PTR_NULL(ots_s7_sub_name(0x28, 0));
	CU_ASSERT_STRING_EQUAL(ots_modbus_sub_name(90, 0x41), "STOP_PLC");
	CU_ASSERT_STRING_EQUAL(ots_modbus_sub_name(8, 4), "Force Listen Only Mode");
	CU_ASSERT_PTR_NULL(ots_modbus_sub_name(3, 4));
	CU_ASSERT_STRING_EQUAL(ots_bacnet_sub_name(20, 1), "warmstart");
	CU_ASSERT_PTR_NULL(ots_bacnet_sub_name(20, OTS_BACNET_SUB_NONE));
	CU_ASSERT_STRING_EQUAL(ots_iec104_cot_name(6), "Act");
}

/* ---- the table ---- */

static void test_table_well_formed(void)
{
	unsigned n;
	const struct ots_ot_def *d = ots_ot_defs(&n);
	CU_ASSERT_FATAL(n > 0);
	for (unsigned i = 0; i < n; i++) {
		const struct ots_ot_def *x = &d[i];
		CU_ASSERT_PTR_NOT_NULL_FATAL(x->category);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x->title);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x->description);
		CU_ASSERT(x->id > 0);
		/* fits the alert record's fields without truncation */
		CU_ASSERT(strlen(x->category) > 3 && strlen(x->category) < sizeof(((struct ots_rec_alert *)0)->category));
		CU_ASSERT(!strncmp(x->category, "ot-", 3));
		CU_ASSERT(strlen(x->title) > 0 && strlen(x->title) < sizeof(((struct ots_rec_alert *)0)->title));
		size_t dl = strlen(x->description);
		if (!(dl > 20 && dl < sizeof(((struct ots_rec_alert *)0)->description)))
			printf("\n  def %u: description is %zu characters", x->id, dl);
		CU_ASSERT(dl > 20 && dl < sizeof(((struct ots_rec_alert *)0)->description));
		CU_ASSERT(x->severity <= OTS_SEV_CRITICAL);
		/* at least one ATT&CK for ICS technique, all of the form T0nnn */
		CU_ASSERT_PTR_NOT_NULL(x->mitre[0]);
		for (unsigned m = 0; m < OTS_ALERT_MAX_MITRE && x->mitre[m]; m++) {
			const char *t = x->mitre[m];
			CU_ASSERT(strlen(t) == 5 && t[0] == 'T' && t[1] == '0' && strspn(t + 1, "0123456789") == 4);
		}
		/* ids unique; protocol order; the id range of the protocol */
		for (unsigned j = i + 1; j < n; j++)
			CU_ASSERT(d[j].id != x->id);
		if (i)
			CU_ASSERT(d[i - 1].when.proto <= x->when.proto);
		static const struct {
			uint16_t proto, lo, hi;
		} ranges[] = { { OTS_APP_S7COMM, 1, 19 }, { OTS_APP_MODBUS, 20, 39 }, { OTS_APP_ENIP, 40, 59 },
			       { OTS_APP_DNP3, 60, 79 },  { OTS_APP_IEC104, 80, 99 }, { OTS_APP_BACNET, 100, 119 } };
		int in_range = 0;
		for (unsigned k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++)
			if (ranges[k].proto == x->when.proto)
				in_range = x->id >= ranges[k].lo && x->id <= ranges[k].hi;
		CU_ASSERT(in_range);
		/* matching: a non-empty first code range, ranges ordered, tests with their operands */
		CU_ASSERT(x->when.code[0].lo <= x->when.code[0].hi);
		CU_ASSERT(x->when.code[0].hi > 0);
		for (unsigned k = 1; k < 3; k++)
			CU_ASSERT(x->when.code[k].lo <= x->when.code[k].hi);
		if (x->when.test & OTS_OTW_SUB)
			CU_ASSERT(x->when.sub.lo <= x->when.sub.hi);
		if (x->when.test & OTS_OTW_GROUP)
			CU_ASSERT(x->when.group > 0 && x->when.proto == OTS_APP_DNP3);
		if (x->when.test & OTS_OTW_FLAGS)
			CU_ASSERT(x->when.all_flags != 0);
		CU_ASSERT((x->when.test & ~(unsigned)(OTS_OTW_SUB | OTS_OTW_UNIT | OTS_OTW_GROUP | OTS_OTW_FLAGS)) == 0);
	}
}

/* every definition is reachable: a request PDU built from its own `when` classifies to it (not to an earlier row) */
static void test_every_def_reachable(void)
{
	unsigned n;
	const struct ots_ot_def *d = ots_ot_defs(&n);
	for (unsigned i = 0; i < n; i++) {
		const struct ots_ot_when *w = &d[i].when;
		uint16_t objs[1] = { (uint16_t)(w->group << 8 | 1) };
		struct ots_pdu p = {
			.proto = w->proto, .kind = OTS_PDU_REQUEST, .code = w->code[0].lo,
			.sub = (w->test & OTS_OTW_SUB) ? w->sub.lo : 0x7fffffffu,
			.unit = (w->test & OTS_OTW_UNIT) ? w->unit[0] : 0x7777u,
			.flags = (w->test & OTS_OTW_FLAGS) ? w->all_flags : 0,
			.objs = (w->test & OTS_OTW_GROUP) ? objs : NULL, .nobjs = (w->test & OTS_OTW_GROUP) ? 1 : 0,
		};
		const struct ots_ot_def *got = ots_ot_classify(&p);
		if (got != &d[i])
			printf("\n  def %u not reachable (got %u)", d[i].id, got ? got->id : 0);
		CU_ASSERT_PTR_EQUAL(got, &d[i]);
		/* never from a response, an exception or an unsolicited PDU */
		for (uint8_t k = OTS_PDU_RESPONSE; k < OTS_PDU_KIND_MAX; k++) {
			p.kind = k;
			CU_ASSERT_PTR_NULL(ots_ot_classify(&p));
		}
	}
}

/* conditions the captures do not show */
static void test_synthetic_conditions(void)
{
	/* DNP3 write: the group test looks at every object header, not only the first */
	uint16_t objs[3] = { 0x5001, 0x0c01, 0x3201 };
	struct ots_pdu p = { .proto = OTS_APP_DNP3, .kind = OTS_PDU_REQUEST, .code = 2, .objs = objs, .nobjs = 3 };
	const struct ots_ot_def *d = ots_ot_classify(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->id, 69);
	p.nobjs = 2; /* g80v1, g12v1: no time, no file */
	CU_ASSERT_PTR_NULL(ots_ot_classify(&p));
	p.objs = NULL;
	p.nobjs = 0;
	CU_ASSERT_PTR_NULL(ots_ot_classify(&p));
	/* CIP Reset on Identity (class 1) is its own definition */
	struct ots_pdu r = { .proto = OTS_APP_ENIP, .kind = OTS_PDU_REQUEST, .code = OTS_ENIP_CIP_CODE(0x05), .unit = 1 };
	CU_ASSERT_EQUAL(ots_ot_classify(&r)->id, 42);
	r.unit = 0xf5; /* Set_Attribute_Single on TCP/IP Interface: network change, not the generic one */
	r.code = OTS_ENIP_CIP_CODE(0x10);
	CU_ASSERT_EQUAL(ots_ot_classify(&r)->id, 45);
	r.unit = 0x04;
	CU_ASSERT_EQUAL(ots_ot_classify(&r)->id, 51);
	r.code = OTS_ENIP_CIP_CODE(0x4b); /* 0x4B without a class 0x74 path: nothing */
	r.unit = 0x8e;
	CU_ASSERT_PTR_NULL(ots_ot_classify(&r));
	r.unit = 0x37; /* File object: Initiate Upload */
	CU_ASSERT_EQUAL(ots_ot_classify(&r)->id, 48);
	/* BACnet reinitialize: a state the parser did not decode, and end-restore, raise the generic definition */
	struct ots_pdu b = { .proto = OTS_APP_BACNET, .kind = OTS_PDU_REQUEST, .code = 20, .sub = OTS_BACNET_SUB_NONE };
	CU_ASSERT_EQUAL(ots_ot_classify(&b)->id, 105);
	b.sub = 5;
	CU_ASSERT_EQUAL(ots_ot_classify(&b)->id, 105);
	b.sub = 4;
	CU_ASSERT_EQUAL(ots_ot_classify(&b)->id, 103);
	/* Modbus UMAS stop, and the same code of a protocol without definitions */
	struct ots_pdu m = { .proto = OTS_APP_MODBUS, .kind = OTS_PDU_REQUEST, .code = 90, .sub = 0x41 };
	CU_ASSERT_EQUAL(ots_ot_classify(&m)->id, 22);
	m.proto = OTS_APP_OPCUA;
	CU_ASSERT_PTR_NULL(ots_ot_classify(&m));
	m.proto = OTS_APP_ARP;
	CU_ASSERT_PTR_NULL(ots_ot_classify(&m));
	/* IEC-104 reset process needs activation */
	struct ots_pdu q = { .proto = OTS_APP_IEC104, .kind = OTS_PDU_REQUEST, .code = 105, .sub = 6 };
	CU_ASSERT_EQUAL(ots_ot_classify(&q)->id, 80);
	q.sub = 8;
	CU_ASSERT_PTR_NULL(ots_ot_classify(&q));
}

/* ---- evidence ---- */

static void test_evidence(void)
{
	const struct rec *hit;
	/* S7 stop */
	feed(OTS_APP_S7COMM, TS, "0300002102f0803201000000020010000029000000000009505f50524f4752414d");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "function"), "0x29 PLC Stop");
	/* S7 PI service named */
	feed(OTS_APP_S7COMM, TS, "0300002b02f080320100000f00001a000028000000000000fd000a01003041303030303150055f494e5345");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "pi_service"), "_INSE");
	/* S7 download: block type */
	feed(OTS_APP_S7COMM, TS,
	     "0300003102f080320100000e00002000001a00010000000000095f30413030303031500d31303030353030303030343030");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "block_type"), "DB");
	/* UMAS */
	feed(OTS_APP_MODBUS, TS, "002300000008005a01330001fb00");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "function"), "90 Schneider UMAS");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "umas_function"), "0x33 INITIALIZE_DOWNLOAD");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "unit_id"), "0");
	/* Modbus FC 8 */
	feed(OTS_APP_MODBUS, TS, "0000000000060a0800040000");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "sub_function"), "4 Force Listen Only Mode");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "unit_id"), "10");
	/* CIP stop */
	feed(OTS_APP_ENIP, TS,
	     "70001c0001002a00000000000000000000000000000000000000000001000200a1000400224095ffb100080006010702208e2401");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "service"), "0x07 Stop");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "class"), "0x8e");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "instance"), "1");
	/* DNP3 time write: objects */
	feed(OTS_APP_DNP3, TS, "056412c4040003001e7cc1c10232010701ebe45a87ff002801");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "function"), "2 Write");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "objects"), "g50v1");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "destination"), "4");
	/* IEC-104 */
	feed(OTS_APP_IEC104, TS, "680e040042002d0106000a0002000001");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "type_id"), "45 C_SC_NA_1");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "cot"), "6 Act");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "common_address"), "10");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "ioa"), "2");
	/* BACnet */
	feed(OTS_APP_BACNET, TS, "810a001d0124000d013dff0003011409001d0a0077697265736861726b");
	CU_ASSERT_EQUAL_FATAL(alerts(&hit), 1);
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "service"), "20 reinitializeDevice");
	CU_ASSERT_STRING_EQUAL(ev_value(hit, "state"), "coldstart");
	/* every record: at most max pairs, keys and values terminated and non-empty */
	for (unsigned i = 0; i < R.n; i++)
		for (unsigned j = 0; j < R.r[i].nev; j++)
			CU_ASSERT(R.r[i].ev[j].key[0] && R.r[i].ev[j].value[0]);
	/* max is respected (a signature alert passes what is left after its own pairs) */
	struct ots_kv kv[2];
	uint16_t many[OTS_PDU_MAX_OBJS];
	for (unsigned i = 0; i < OTS_PDU_MAX_OBJS; i++)
		many[i] = (uint16_t)(0x7800 | i); /* g120 variations: a long list is cut with "..." */
	struct ots_pdu p = { .proto = OTS_APP_DNP3, .kind = OTS_PDU_REQUEST, .code = 1, .unit = 3, .objs = many,
			     .nobjs = OTS_PDU_MAX_OBJS, .quantity = 20 };
	CU_ASSERT_EQUAL(ots_ot_evidence(&p, kv, 2), 2);
	CU_ASSERT_EQUAL(ots_ot_evidence(&p, kv, 0), 0);
	struct ots_kv all[OTS_ALERT_MAX_EVIDENCE];
	unsigned k = ots_ot_evidence(&p, all, OTS_ALERT_MAX_EVIDENCE);
	CU_ASSERT_EQUAL(k, 4);
	CU_ASSERT_STRING_EQUAL(all[2].key, "objects");
	size_t vl = strlen(all[2].value);
	CU_ASSERT(vl < sizeof(all[2].value) && !strcmp(all[2].value + vl - 4, ",..."));
	CU_ASSERT_STRING_EQUAL(all[3].key, "object_headers");
	CU_ASSERT_STRING_EQUAL(all[3].value, "20");
}

static const struct ots_test tests[] = {
	{ "real payloads classify as expected", test_real_payloads },
	{ "MITRE ids and severities of key operations", test_mitre_of_key_operations },
	{ "parser detail: sub, iin, objs", test_parser_detail },
	{ "definition table well-formed", test_table_well_formed },
	{ "every definition reachable, requests only", test_every_def_reachable },
	{ "synthetic conditions", test_synthetic_conditions },
	{ "evidence", test_evidence },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "otengine", tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_otengine", suites);
}
