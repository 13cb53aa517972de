/* protocols/pducount.h - per-worker counters of understood PDUs by (protocol, source, destination, unit, code,
 * kind): what the summary's "pdus" array and the tshark regression compare.
 *
 * Contract: open addressing over a fixed power-of-two table sized at init (protocols.pdu_counters); no
 * allocation after init; a full table counts the PDU in `full` instead of dropping it silently.
 */
#ifndef OTS_PDUCOUNT_H
#define OTS_PDUCOUNT_H

#include <stdint.h>

struct ots_pdu_key {
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
	uint32_t code;
	uint32_t unit;
	uint16_t proto;
	uint8_t kind;
	uint8_t family;
};

struct ots_pdu_count {
	struct ots_pdu_key k;
	uint64_t n; /* 0 = empty slot */
};

struct ots_pducount {
	struct ots_pdu_count *slots;
	uint32_t mask;
	uint32_t used;
	uint64_t full; /* PDUs not counted because the table was full */
};

int ots_pducount_init(struct ots_pducount *t, uint32_t capacity); /* rounds up to a power of two; -ENOMEM */
void ots_pducount_fini(struct ots_pducount *t);
void ots_pducount_add(struct ots_pducount *t, const struct ots_pdu_key *k, uint64_t n);

#endif
