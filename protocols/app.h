/* protocols/app.h - the contract between the worker's application layer and the protocol parsers.
 *
 * Contract:
 *  - A parser is a pure function over bytes plus its own per-flow state: no DPDK include, no allocation, no
 *    globals but read-only tables. It is registered in one row of protocols/registry.c (name, transports,
 *    ports, probe, parse, state size).
 *  - TCP: parse() gets the in-order stream of one direction in chunks as reassembly delivers them (a PDU may
 *    be split across calls, several PDUs may come in one); ctx->flags carries OTS_REASM_F_GAP (bytes were
 *    lost: data == NULL, len = bytes missing; resync) and OTS_REASM_F_MIDSTREAM (the capture started inside
 *    the connection). UDP: parse() gets one datagram per call.
 *    Most TCP parsers frame with protocols/framing.h, which accumulates a PDU across calls up to a cap.
 *  - What a parser learns goes out through ctx->ops, never returned in memory it owns:
 *      pdu()       one understood PDU (function code, type id, service...): counted per (src, dst, code) and
 *                  fed to detection;
 *      identity()  a fact about one endpoint (vendor, model, firmware, serial, name...) for the asset inventory;
 *      event()     a named protocol event (malformed, resync, oversize...): counted per protocol, never silent.
 *  - Every buffer in a parser state has a fixed cap; state_size bytes are zeroed before the first call.
 */
#ifndef OTS_APP_H
#define OTS_APP_H

#include <stddef.h>
#include <stdint.h>

#define OTS_DIR_TO_SERVER 0
#define OTS_DIR_TO_CLIENT 1

/* which endpoint of the flow a fact describes */
#define OTS_EP_CLIENT 0
#define OTS_EP_SERVER 1

enum ots_pdu_kind {
	OTS_PDU_REQUEST = 0,
	OTS_PDU_RESPONSE,
	OTS_PDU_EXCEPTION,   /* error / exception response */
	OTS_PDU_UNSOLICITED, /* spontaneous data from the outstation/server */
	OTS_PDU_OTHER,       /* control frames, keep-alives, broadcasts */
	OTS_PDU_KIND_MAX
};

extern const char *const ots_pdu_kind_names[OTS_PDU_KIND_MAX];

/* what the PDU does, for detection (OR of bits) */
#define OTS_PDUF_READ      0x0001u
#define OTS_PDUF_WRITE     0x0002u /* writes process values / registers / points */
#define OTS_PDUF_PROGRAM   0x0004u /* program/block/firmware upload or download */
#define OTS_PDUF_CONTROL   0x0008u /* run/stop/start/restart/mode change */
#define OTS_PDUF_CONFIG    0x0010u /* configuration / time set / security change */
#define OTS_PDUF_IDENTITY  0x0020u /* device identification exchange */
#define OTS_PDUF_DIAG      0x0040u /* diagnostics */
#define OTS_PDUF_BROADCAST 0x0080u

struct ots_pdu {
	uint16_t proto;    /* enum ots_app_proto */
	uint8_t dir;       /* OTS_DIR_* of the sender */
	uint8_t kind;      /* enum ots_pdu_kind */
	uint32_t code;     /* the protocol's function code / type id / service number (what tshark shows) */
	uint32_t unit;     /* unit id, link/common address, station: protocol-specific, 0 when none */
	uint32_t address;  /* start address / IOA / object instance, when there is one */
	uint32_t quantity; /* count of registers/points/objects, when there is one */
	uint32_t flags;    /* OTS_PDUF_* */
	const char *name;  /* static name of code ("Read Holding Registers"), may be NULL */
	/* detail for detection (rule keywords, OT engine); 0 / NULL when the protocol has none */
	uint32_t sub;      /* sub-code: Modbus FC 8 sub-function or FC 90 UMAS function, S7comm PI service index
	                      (OTS_S7_PI_*) or block type of an upload/download, CIP attribute id when the request
	                      path names one, BACnet reinitialize state, IEC-104 cause of transmission */
	uint16_t iin;      /* DNP3 responses: internal indications (IIN1 << 8 | IIN2) */
	uint16_t nobjs;    /* DNP3: object headers in objs */
	const uint16_t *objs; /* DNP3: (group << 8 | variation) per object header, at most OTS_PDU_MAX_OBJS */
};

#define OTS_PDU_MAX_OBJS 16

struct ots_app_ops {
	void (*pdu)(void *ud, const struct ots_pdu *pdu);
	/* kind: enum ots_attr_kind (export/record.h); value need not be NUL-terminated */
	void (*identity)(void *ud, int endpoint, int kind, int confidence, const char *value, size_t len);
	/* event: index into the protocol's own event table (registry row) */
	void (*event)(void *ud, uint16_t proto, unsigned event);
};

struct ots_app_ctx {
	const struct ots_app_ops *ops;
	void *ud;
	uint64_t ts_ns;  /* packet time */
	uint32_t flags;  /* OTS_REASM_F_GAP / OTS_REASM_F_MIDSTREAM for this call */
	uint16_t proto;
	uint8_t dir;     /* OTS_DIR_* of the bytes given */
	uint8_t transport; /* 6 TCP, 17 UDP */
};

static inline void ots_app_pdu(struct ots_app_ctx *c, const struct ots_pdu *p)
{
	if (c->ops && c->ops->pdu)
		c->ops->pdu(c->ud, p);
}

static inline void ots_app_identity(struct ots_app_ctx *c, int endpoint, int kind, int confidence, const char *v,
				    size_t len)
{
	if (c->ops && c->ops->identity && len)
		c->ops->identity(c->ud, endpoint, kind, confidence, v, len);
}

static inline void ots_app_event(struct ots_app_ctx *c, unsigned event)
{
	if (c->ops && c->ops->event)
		c->ops->event(c->ud, c->proto, event);
}

/* parse: data == NULL only with OTS_REASM_F_GAP. Returns 0, or -1 when the flow is clearly not this
 * protocol (the worker then stops calling it for the flow and counts it). */
typedef int (*ots_parse_fn)(struct ots_app_ctx *c, const uint8_t *data, size_t len, void *state);
/* probe: 1 looks like it, 0 does not, -1 cannot tell yet */
typedef int (*ots_probe_fn)(const uint8_t *p, size_t len, int dir);

#endif
