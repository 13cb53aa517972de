/* detect/sigdb.h - signatures compiled for the fast path: rule groups, Hyperscan databases, verification.
 *
 * Contract:
 *  - ots_sigdb_build() groups a loaded ruleset by transport and application protocol (a rule with a port list
 *    joins the group of the protocol its ports classify to, protocols/registry.h; a rule with "any" or a range
 *    joins every group of its transport; an "ip" rule joins every group). Each group's fast patterns (one
 *    content per rule, rule.h ots_rule_fast_pattern) are compiled into one Hyperscan block-mode literal database.
 *    Rules without a fast pattern are verified on every packet of their group; rules with OT keywords are not
 *    in the packet groups: ots_sigdb_pdu() checks them on each parsed PDU of their protocol.
 *  - The db refers to the ruleset's rules (hit() gets pointers into rs->rules): rs must outlive the db.
 *  - The databases are built once, then read-only and shared by every worker; each worker owns one
 *    struct ots_sigscan (Hyperscan scratch, pcre2 match data, candidate list). Nothing allocates while scanning.
 *  - Cache: with opts->cache_dir set, the serialized databases are stored in
 *    cache_dir/otsense-<ruleset hash>.hsdb (hash over every group's patterns, flags and the Hyperscan version)
 *    and loaded from there when the ruleset did not change. A cache that cannot be written is a warning in the
 *    report, not an error.
 *  - A payload is scanned once per call, never per rule. hit() is called once per matching rule per call, pass
 *    rules first: when a pass rule matches, no alert rule is reported for that call (nor the pass rule: 0).
 *  - Thresholds (threshold:, detection_filter:) are applied by the caller (it owns the per-worker state).
 */
#ifndef OTS_SIGDB_H
#define OTS_SIGDB_H

#include <stddef.h>
#include <stdint.h>

#include "detect/rule.h"

struct ots_sigdb;
struct ots_sigscan;

struct ots_sigdb_opts {
	const char *cache_dir;       /* NULL or "" = no cache */
};

struct ots_sigdb_report {
	uint32_t rules;              /* rules in the databases and PDU lists */
	uint32_t groups;             /* non-empty groups */
	uint32_t patterns;           /* fast patterns compiled (sum over databases; identical ones share an id) */
	uint32_t databases;          /* Hyperscan databases: groups with identical rule lists share one */
	uint32_t rules_no_fp;        /* rules verified on every packet of their group(s) */
	uint32_t rules_pdu;          /* rules with OT keywords */
	double compile_ms;           /* Hyperscan compile (or cache load) time */
	int cache_hit;               /* 1 = loaded from cache_dir */
	uint64_t db_bytes;           /* sum of database sizes */
	char cache_path[512];
	char warning[256];           /* e.g. cache not writable; "" when none */
};

/* a packet or a PDU to inspect: addresses in the direction the bytes travel (sender first) */
struct ots_sig_pkt {
	uint8_t l4;                  /* enum ots_rule_l4 of the packet (TCP, UDP, ICMP, IP for others) */
	uint16_t app;                /* the flow's application protocol (enum ots_app_proto), 0 unknown */
	uint8_t family;              /* 4 or 6 */
	const uint8_t *sip, *dip;    /* 16 bytes each, IPv4 in the first 4 */
	uint16_t sport, dport;
	struct ots_match_in in;      /* payload and flow state (in.pdu set for ots_sigdb_pdu) */
};

typedef void (*ots_sig_hit_fn)(void *ud, const struct ots_rule *r);

int ots_sigdb_build(const struct ots_ruleset *rs, const struct ots_sigdb_opts *opts, struct ots_sigdb **out,
		    struct ots_sigdb_report *rep, char *err, size_t errlen);
void ots_sigdb_free(struct ots_sigdb *db);

/* per worker, at start. 0 or -errno */
int ots_sigscan_create(const struct ots_sigdb *db, struct ots_sigscan **out);
void ots_sigscan_free(struct ots_sigscan *s);

/* 1 when some rule could match packets of (l4, app): the caller may skip building a match input otherwise */
int ots_sigdb_wants(const struct ots_sigdb *db, uint8_t l4, uint16_t app);
/* 1 when some rule has OT keywords for this application protocol */
int ots_sigdb_wants_pdu(const struct ots_sigdb *db, uint16_t app);
/* 1 when some rule with OT keywords could match a PDU of this application protocol and code */
int ots_sigdb_wants_code(const struct ots_sigdb *db, uint16_t app, uint32_t code);
/* bytes of stream context worth carrying between TCP segments: longest fast pattern - 1 */
uint32_t ots_sigdb_overlap(const struct ots_sigdb *db);

/* scan one payload (packet / in-order stream chunk): returns the number of rules reported */
int ots_sigdb_scan(const struct ots_sigdb *db, struct ots_sigscan *s, const struct ots_sig_pkt *p,
		   ots_sig_hit_fn hit, void *ud);
/* one parsed PDU (p->in.pdu set; p->in.buf = the bytes being parsed when it completed) */
int ots_sigdb_pdu(const struct ots_sigdb *db, struct ots_sigscan *s, const struct ots_sig_pkt *p,
		  ots_sig_hit_fn hit, void *ud);

#endif
