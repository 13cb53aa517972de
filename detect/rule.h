/* detect/rule.h - signatures: the supported subset of Suricata's rule language, parsed and verified.
 *
 * Contract:
 *  - Pure C over bytes: no DPDK, no Hyperscan here (detect/sigdb.c compiles the fast patterns). libpcre2 for pcre.
 *  - ots_rules_load_file() appends the rules of one file to a struct ots_ruleset. A syntax error (unbalanced
 *    quotes/parentheses, bad header, bad option value) skips that rule and reports "FILE:LINE: sid N: why";
 *    a keyword outside the subset skips the rule and reports "FILE:LINE: sid N: unsupported keyword 'K'
 *    (rule skipped)". Both are counted in the ruleset; the other rules still load. Only an unreadable file
 *    is an error (-errno).
 *  - Variables ($HOME_NET, $MODBUS_PORTS, ...) come from struct ots_rule_vars (config); an undefined variable is
 *    a rule error naming it.
 *  - ots_rule_match() verifies one rule against one inspected buffer (struct ots_match_in), in Suricata's
 *    semantics for content/pcre/byte_* chains (in rule order, relative cursor, backtracking over earlier
 *    matches). It allocates nothing; pcre2 match data comes from the caller (one per worker).
 *  - A struct ots_ruleset is built once at start, then read-only: workers share it.
 */
#ifndef OTS_RULE_H
#define OTS_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/app.h"

#define OTS_RULE_MSG_MAX 192
#define OTS_RULE_MAX_OPTS 32      /* payload options (content, pcre, byte_test, byte_jump, isdataat) per rule */
#define OTS_RULE_MAX_CONTENT 255  /* bytes in one content */
#define OTS_RULE_MAX_ADDRS 32     /* entries in one address list (after variable expansion) */
#define OTS_RULE_MAX_PORTS 32     /* ranges in one port list */
#define OTS_RULE_MAX_META 8

enum ots_rule_action { OTS_ACT_ALERT = 0, OTS_ACT_PASS, OTS_ACT_DROP, OTS_ACT_REJECT, OTS_ACT_LOG };

/* rule protocol: an IP protocol class or an application protocol (then transport follows the app) */
enum ots_rule_l4 { OTS_RL4_IP = 0, OTS_RL4_TCP, OTS_RL4_UDP, OTS_RL4_ICMP };

struct ots_cidr {
	uint8_t family;   /* 4 or 6 */
	uint8_t prefix;   /* bits */
	uint8_t ip[16];   /* network, big-endian bytes (IPv4 in the first 4) */
};

struct ots_addr_set {
	uint8_t any;
	uint8_t npos, nneg;
	struct ots_cidr pos[OTS_RULE_MAX_ADDRS]; /* empty + any = every address */
	struct ots_cidr neg[OTS_RULE_MAX_ADDRS];
};

struct ots_port_range {
	uint16_t lo, hi;
};

struct ots_port_set {
	uint8_t any;
	uint8_t npos, nneg;
	struct ots_port_range pos[OTS_RULE_MAX_PORTS];
	struct ots_port_range neg[OTS_RULE_MAX_PORTS];
};

/* payload options, evaluated in rule order */
enum ots_opt_type { OTS_OPT_CONTENT = 1, OTS_OPT_PCRE, OTS_OPT_BYTE_TEST, OTS_OPT_BYTE_JUMP, OTS_OPT_ISDATAAT };

#define OTS_CF_NOCASE   0x01u
#define OTS_CF_NEGATED  0x02u
#define OTS_CF_OFFSET   0x04u
#define OTS_CF_DEPTH    0x08u
#define OTS_CF_DISTANCE 0x10u
#define OTS_CF_WITHIN   0x20u
#define OTS_CF_FAST     0x40u /* fast_pattern given explicitly */
#define OTS_CF_RELATIVE (OTS_CF_DISTANCE | OTS_CF_WITHIN)

struct ots_content {
	uint8_t flags;       /* OTS_CF_* */
	uint16_t len;
	int32_t offset, depth, distance, within;
	uint8_t pat[OTS_RULE_MAX_CONTENT];
};

#define OTS_PF_RELATIVE 0x01u /* /R: starts at the previous match's end */
#define OTS_PF_NEGATED  0x02u

struct ots_pcre {
	uint8_t flags;       /* OTS_PF_* */
	void *code;          /* pcre2_code * (owned by the ruleset) */
	void *mctx;          /* pcre2_match_context * with the match/depth limits (owned by the ruleset) */
};

enum ots_cmp { OTS_CMP_EQ = 0, OTS_CMP_LT, OTS_CMP_GT, OTS_CMP_LE, OTS_CMP_GE, OTS_CMP_AND, OTS_CMP_OR,
	       OTS_CMP_RANGE /* lo <> hi: lo < x < hi (Suricata's dsize/modbus range) */ };

#define OTS_BF_RELATIVE 0x01u
#define OTS_BF_LITTLE   0x02u
#define OTS_BF_STRING   0x04u /* ASCII number, base in .base */
#define OTS_BF_NEGATE   0x08u /* byte_test: '!' before the operator */
#define OTS_BF_FROM_BEGINNING 0x10u /* byte_jump */
#define OTS_BF_ALIGN    0x20u /* byte_jump: align to 4 */

struct ots_byte_op {
	uint8_t flags;       /* OTS_BF_* */
	uint8_t nbytes;      /* 1..8 (1..10 for string) */
	uint8_t op;          /* byte_test: enum ots_cmp */
	uint8_t base;        /* 8, 10, 16 with OTS_BF_STRING */
	int32_t offset;
	uint64_t value;      /* byte_test: value compared */
	uint32_t multiplier; /* byte_jump, default 1 */
	int32_t post_offset; /* byte_jump */
	uint64_t bitmask;    /* 0 = none */
};

struct ots_isdataat {
	uint8_t relative, negated;
	uint32_t n;
};

struct ots_opt {
	uint8_t type;        /* enum ots_opt_type */
	union {
		struct ots_content c;
		struct ots_pcre re;
		struct ots_byte_op b;
		struct ots_isdataat d;
	} u;
};

/* flow: keyword */
#define OTS_FLOW_TO_SERVER   0x01u
#define OTS_FLOW_TO_CLIENT   0x02u
#define OTS_FLOW_ESTABLISHED 0x04u
#define OTS_FLOW_NOT_EST     0x08u
#define OTS_FLOW_STATELESS   0x10u

struct ots_num_cmp {     /* dsize, modbus address/value, ... */
	uint8_t set;
	uint8_t op;          /* enum ots_cmp (EQ, LT, GT, RANGE) */
	uint32_t lo, hi;     /* EQ/LT/GT use lo */
};

enum ots_track { OTS_TRACK_BY_SRC = 0, OTS_TRACK_BY_DST, OTS_TRACK_BY_RULE, OTS_TRACK_BY_BOTH };
enum ots_thr_type { OTS_THR_NONE = 0, OTS_THR_LIMIT, OTS_THR_THRESHOLD, OTS_THR_BOTH, OTS_THR_DETECTION_FILTER };

struct ots_threshold {
	uint8_t type;        /* enum ots_thr_type */
	uint8_t track;       /* enum ots_track */
	uint32_t count, seconds;
};

/* app-layer (OT) keywords: the rule is checked on each parsed PDU of its protocol, not on raw packets */
#define OTS_OTK_MODBUS_FUNC   0x0001u
#define OTS_OTK_MODBUS_SUB    0x0002u
#define OTS_OTK_MODBUS_UNIT   0x0004u
#define OTS_OTK_MODBUS_ACCESS 0x0008u
#define OTS_OTK_DNP3_FUNC     0x0010u
#define OTS_OTK_DNP3_IND      0x0020u
#define OTS_OTK_DNP3_OBJ      0x0040u
#define OTS_OTK_ENIP_COMMAND  0x0080u
#define OTS_OTK_CIP_SERVICE   0x0100u

/* modbus access */
#define OTS_MB_ACC_READ     0x01u
#define OTS_MB_ACC_WRITE    0x02u
#define OTS_MB_ACC_DISCRETES 0x10u
#define OTS_MB_ACC_COILS    0x20u
#define OTS_MB_ACC_INPUT    0x40u
#define OTS_MB_ACC_HOLDING  0x80u

/* modbus function categories (Suricata: function assigned|unassigned|public|user|reserved|all) */
#define OTS_MB_CAT_PUBLIC_ASSIGNED   0x01u
#define OTS_MB_CAT_PUBLIC_UNASSIGNED 0x02u
#define OTS_MB_CAT_USER              0x04u
#define OTS_MB_CAT_RESERVED          0x08u

struct ots_ot_match {
	uint32_t keys;           /* OTS_OTK_* present */
	uint8_t mb_func, mb_func_neg, mb_func_cat; /* function code, or a category set (mb_func_cat != 0) */
	uint16_t mb_sub;
	struct ots_num_cmp mb_unit;
	uint8_t mb_access;       /* OTS_MB_ACC_* */
	struct ots_num_cmp mb_address, mb_value;
	uint8_t dnp3_func;
	uint16_t dnp3_ind;       /* IIN bits any-of (IIN1 << 8 | IIN2) */
	uint8_t dnp3_group, dnp3_var;
	uint16_t enip_command;
	uint8_t cip_service;
	int32_t cip_class, cip_attribute; /* -1 = any */
};

struct ots_rule {
	uint32_t sid, rev, gid;
	uint8_t action;          /* enum ots_rule_action */
	uint8_t l4;              /* enum ots_rule_l4 */
	uint16_t app;            /* enum ots_app_proto, OTS_APP_UNKNOWN (0) = none: any payload of l4 */
	uint8_t bidir;           /* <> */
	uint8_t priority;        /* 1 (high) .. 4; default from classtype, else 3 */
	uint8_t flow;            /* OTS_FLOW_* */
	uint8_t nopts;
	struct ots_addr_set src, dst;
	struct ots_port_set sport, dport;
	struct ots_num_cmp dsize;
	struct ots_threshold threshold, detection_filter;
	struct ots_ot_match ot;
	int fast;                /* index in opts of the fast pattern content, -1 when the rule has none */
	char msg[OTS_RULE_MSG_MAX];
	char classtype[48];
	char reference[96];      /* first reference, "type,value" */
	uint8_t nmeta;
	char meta[OTS_RULE_MAX_META][64];
	char origin[160];        /* "file:line" */
	struct ots_opt opts[OTS_RULE_MAX_OPTS];
};

struct ots_rule_var {
	char name[48];           /* without '$' */
	char value[512];         /* "[10.0.0.0/8,!10.1.0.0/16]", "502", "any", ... */
};

struct ots_rule_vars {
	unsigned n;
	const struct ots_rule_var *v;
};

/* one diagnostic about a skipped rule (also printed by --check-rules) */
typedef void (*ots_rule_diag_fn)(void *ud, const char *line);

struct ots_ruleset {
	struct ots_rule *rules;  /* loaded, valid rules (malloc'd array) */
	uint32_t n, cap;
	uint32_t skipped_syntax;       /* rules with a syntax / value error */
	uint32_t skipped_unsupported;  /* rules using a keyword outside the subset */
	uint32_t lines;                /* rule lines read */
	uint32_t files;
};

void ots_ruleset_init(struct ots_ruleset *rs);
void ots_ruleset_free(struct ots_ruleset *rs);

/* Parse every rule in FILE (comments, blank lines and '\' line continuations allowed) into rs. Skipped rules are
 * reported through diag (may be NULL). 0, or -errno when the file cannot be read (err filled). */
int ots_rules_load_file(struct ots_ruleset *rs, const char *path, const struct ots_rule_vars *vars,
			ots_rule_diag_fn diag, void *ud, char *err, size_t errlen);

/* Parse one rule (text without trailing newline). origin names it in messages ("file:line").
 * 0 = parsed into *out; -EINVAL = syntax/value error; -ENOTSUP = unsupported keyword; why filled in both. */
int ots_rule_parse(const char *text, const char *origin, const struct ots_rule_vars *vars, struct ots_rule *out,
		   char *why, size_t whylen);
/* free what ots_rule_parse allocated inside one rule (pcre code) */
void ots_rule_free(struct ots_rule *r);

/* --- verification --- */

/* the packet / flow side of a match */
struct ots_match_in {
	const uint8_t *buf;      /* inspected bytes: carried stream context + this packet's payload */
	uint32_t len;
	uint32_t pkt_off;        /* this packet's payload starts at buf + pkt_off (0 for datagrams and PDUs);
	                            absolute offsets (offset/depth, non-relative byte_* and isdataat) count from here;
	                            a match must end beyond pkt_off (bytes before it were inspected already) */
	uint32_t dsize;          /* this packet's payload size */
	uint8_t to_server;       /* 1 when the bytes flow client -> server */
	uint8_t established;     /* TCP: handshake seen / both sides sent; UDP: both sides sent */
	uint8_t src_is_client;   /* unused by ots_rule_match (header matching is separate) */
	const struct ots_pdu *pdu; /* the parsed PDU for rules with OT keywords, NULL otherwise */
	void *pcre_md;           /* pcre2_match_data * from ots_pcre_md_create() */
};

void *ots_pcre_md_create(void);
void ots_pcre_md_free(void *md);

/* 1 when the rule's flow/dsize/payload/OT options match in, 0 otherwise. The header (addresses, ports,
 * protocol) is checked by ots_rule_match_header(). */
int ots_rule_match(const struct ots_rule *r, const struct ots_match_in *in);

/* 1 when src/dst (ip: 16 bytes, IPv4 in the first 4) and ports satisfy the rule header in the rule's
 * direction (either direction for <>). */
int ots_rule_match_header(const struct ots_rule *r, uint8_t family, const uint8_t *sip, uint16_t sport,
			  const uint8_t *dip, uint16_t dport);

/* The PDU codes (struct ots_pdu.code) a rule's OT keywords allow, when they pin it to at most max codes: the
 * number written to codes; 0 when any code may match (no code keyword, or more than max codes). A rule can only
 * match PDUs with one of these codes (used to index rules by code). */
unsigned ots_rule_pdu_codes(const struct ots_rule *r, uint32_t *codes, unsigned max);

/* the fast pattern of a rule (what Hyperscan prefilters on): 1 and *c set, or 0 when the rule has no
 * non-negated content */
int ots_rule_fast_pattern(const struct ots_rule *r, const struct ots_content **c);

#endif
