/* detect/rule_parse.c - the supported subset of Suricata's rule language: header, options, variables, files
 * (see rule.h for the contract).
 *
 * Parsing happens at start-up only, so it may allocate (the rule text copy, the rules array, pcre2 code).
 * Semantics follow Suricata where the subset overlaps; the deliberate differences are listed here:
 *  - an unknown classtype is accepted (priority 3) instead of being an error: there is no classification.config;
 *  - modbus "value" and byte_jump "from_end"/"dce" and the other keywords outside the subset are -ENOTSUP;
 *  - modbus "function !N" (negated number) is accepted besides Suricata's negated categories;
 *  - cip_service's attribute is kept; rule_match.c checks it only when a parser reports one in pdu->sub.
 */
#include "detect/rule.h"
#include "protocols/registry.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define MAX_OPTIONS 256     /* options in one rule (all kinds) */
#define MAX_VAR_DEPTH 16    /* $VAR expansion nesting */
#define MAX_LIST_DEPTH 16   /* [ ] nesting */
#define PCRE_MATCH_LIMIT 3500 /* Suricata's defaults (pcre.match-limit / match-limit-recursion) */
#define PCRE_DEPTH_LIMIT 1500

struct pctx {
	const struct ots_rule_vars *vars;
	struct ots_rule *r;
	char *why;
	size_t whylen;
	int last_content;        /* index in r->opts of the last content, -1 */
	int prio_given;
	int sid_seen;
};

static int perr(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct pctx *p, const char *fmt, ...)
{
	if (p->why && p->whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->why, p->whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int punsup(struct pctx *p, const char *kw)
{
	if (p->why && p->whylen)
		snprintf(p->why, p->whylen, "unsupported keyword '%s'", kw);
	return -ENOTSUP;
}

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* trim a NUL-terminated string in place */
static char *trim(char *s)
{
	while (is_ws((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && is_ws((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* trim a slice */
static void trim_slice(const char **s, size_t *n)
{
	while (*n && is_ws((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ws((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* a whole unsigned number: decimal, or hex with 0x; 0 ok, -1 bad or > max */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d = base == 16 ? hexval((unsigned char)*s) : (is_digit((unsigned char)*s) ? *s - '0' : -1);
		if (d < 0)
			return -1;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return -1;
		v = v * base + (unsigned)d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int neg = 0;
	uint64_t v;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (parse_u64(s, (uint64_t)INT64_MAX, &v))
		return -1;
	int64_t x = neg ? -(int64_t)v : (int64_t)v;
	if (x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

/* split s at top-level commas in place (trimmed parts); returns the count or -1 when more than max */
static int split_commas(char *s, char **parts, int max)
{
	int n = 0;
	char *start = s;
	for (char *q = s;; q++) {
		if (*q == ',' || *q == '\0') {
			int end = *q == '\0';
			*q = '\0';
			if (n == max)
				return -1;
			parts[n++] = trim(start);
			if (end)
				break;
			start = q + 1;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- variables, addresses, ports */

static const struct ots_rule_var *var_find(const struct ots_rule_vars *vars, const char *name, size_t n)
{
	if (!vars || !vars->v)
		return NULL;
	for (unsigned i = 0; i < vars->n; i++)
		if (strlen(vars->v[i].name) == n && memcmp(vars->v[i].name, name, n) == 0)
			return &vars->v[i];
	return NULL;
}

/* a variable reference "$NAME" (slice without further text): the variable, or an error */
static int var_lookup(struct pctx *p, const char *s, size_t n, int depth, const struct ots_rule_var **out)
{
	const char *name = s + 1;
	size_t nl = n - 1;
	if (nl == 0)
		return perr(p, "empty variable name '$'");
	for (size_t i = 0; i < nl; i++) {
		char c = name[i];
		if (!(c == '_' || c == '-' || is_digit((unsigned char)c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return perr(p, "bad variable name '%.*s'", (int)n, s);
	}
	if (depth >= MAX_VAR_DEPTH)
		return perr(p, "variable recursion too deep at '%.*s'", (int)n, s);
	*out = var_find(p->vars, name, nl);
	if (!*out)
		return perr(p, "undefined variable '%.*s'", (int)n, s);
	return 0;
}

/* an address or port set: one walker (negation, [lists], $VARS) drives both, the kind parses the leaves */
struct set_kind {
	const char *what; /* "address" / "port", for messages */
	/* "any" or one literal (CIDR / port / range) into the set */
	int (*leaf)(struct pctx *p, void *set, const char *s, size_t n, int neg);
};

static int set_elem(struct pctx *p, void *set, const char *s, size_t n, int neg, int depth, int ldepth,
		    const struct set_kind *k);

/* iterate over the top-level elements of a list body "a, [b, c], d": one set_elem per element */
static int each_elem(struct pctx *p, void *set, const char *s, size_t n, int neg, int depth, int ldepth,
		     const struct set_kind *k)
{
	const char *what = k->what;
	size_t start = 0;
	int br = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] == '[')
			br++;
		else if (i < n && s[i] == ']')
			br--;
		if (br < 0)
			return perr(p, "unbalanced ']' in %s list", what);
		if (i == n || (s[i] == ',' && br == 0)) {
			const char *e = s + start;
			size_t el = i - start;
			trim_slice(&e, &el);
			if (el == 0)
				return perr(p, "empty element in %s list", what);
			int rc = set_elem(p, set, e, el, neg, depth, ldepth, k);
			if (rc)
				return rc;
			start = i + 1;
		}
	}
	if (br != 0)
		return perr(p, "unbalanced '[' in %s list", what);
	return 0;
}

static int set_elem(struct pctx *p, void *set, const char *s, size_t n, int neg, int depth, int ldepth,
		    const struct set_kind *k)
{
	while (n && s[0] == '!') {
		neg ^= 1;
		s++;
		n--;
		trim_slice(&s, &n);
	}
	if (n == 0)
		return perr(p, "empty %s", k->what);
	if (s[0] == '[') {
		if (s[n - 1] != ']')
			return perr(p, "%s list '%.*s' missing ']'", k->what, (int)n, s);
		if (ldepth >= MAX_LIST_DEPTH)
			return perr(p, "%s lists nested too deep", k->what);
		return each_elem(p, set, s + 1, n - 2, neg, depth, ldepth + 1, k);
	}
	if (s[0] == '$') {
		const struct ots_rule_var *v;
		int rc = var_lookup(p, s, n, depth, &v);
		if (rc)
			return rc;
		const char *vs = v->value;
		size_t vn = strnlen(v->value, sizeof(v->value));
		trim_slice(&vs, &vn);
		if (vn == 0)
			return perr(p, "variable '%.*s' is empty", (int)n, s);
		return set_elem(p, set, vs, vn, neg, depth + 1, ldepth, k);
	}
	if (n == 3 && strncasecmp(s, "any", 3) == 0) {
		if (neg)
			return perr(p, "'!any' matches no %s", k->what);
		_Static_assert(offsetof(struct ots_addr_set, any) == 0 && offsetof(struct ots_port_set, any) == 0,
			       "both sets start with their 'any' flag");
		*(uint8_t *)set = 1;
		return 0;
	}
	return k->leaf(p, set, s, n, neg);
}

static int cidr_parse(const char *s, size_t n, struct ots_cidr *c)
{
	char b[80];
	if (n >= sizeof(b))
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	char *slash = strchr(b, '/');
	if (slash)
		*slash++ = '\0';
	memset(c, 0, sizeof(*c));
	unsigned maxbits;
	if (inet_pton(AF_INET, b, c->ip) == 1) {
		c->family = 4;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, b, c->ip) == 1) {
		c->family = 6;
		maxbits = 128;
	} else {
		return -1;
	}
	unsigned bits = maxbits;
	if (slash) {
		uint64_t v;
		uint8_t m[4];
		if (parse_u64(slash, maxbits, &v) == 0 && is_digit((unsigned char)slash[0])) {
			bits = (unsigned)v;
		} else if (c->family == 4 && inet_pton(AF_INET, slash, m) == 1) { /* dotted netmask */
			uint32_t mask = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
			bits = 0;
			while (bits < 32 && (mask & (0x80000000u >> bits)))
				bits++;
			if (bits < 32 && (mask << bits) != 0)
				return -1; /* not contiguous */
		} else {
			return -1;
		}
	}
	c->prefix = (uint8_t)bits;
	for (unsigned i = 0; i < 16; i++) { /* keep the network part only */
		unsigned lo = i * 8;
		if (lo >= bits)
			c->ip[i] = 0;
		else if (lo + 8 > bits)
			c->ip[i] &= (uint8_t)(0xff00u >> (bits - lo));
	}
	return 0;
}

static int addr_leaf(struct pctx *p, void *vset, const char *s, size_t n, int neg)
{
	struct ots_addr_set *set = vset;
	struct ots_cidr c;
	if (cidr_parse(s, n, &c))
		return perr(p, "bad address '%.*s'", (int)n, s);
	if ((neg ? set->nneg : set->npos) >= OTS_RULE_MAX_ADDRS)
		return perr(p, "too many addresses (max %d)", OTS_RULE_MAX_ADDRS);
	if (neg)
		set->neg[set->nneg++] = c;
	else
		set->pos[set->npos++] = c;
	return 0;
}

static int addr_parse(struct pctx *p, struct ots_addr_set *set, const char *s)
{
	size_t n = strlen(s);
	memset(set, 0, sizeof(*set));
	static const struct set_kind kind = { "address", addr_leaf };
	int rc = set_elem(p, set, s, n, 0, 0, 0, &kind);
	if (rc)
		return rc;
	if (set->npos == 0)
		set->any = 1; /* only negations: everything but them */
	return 0;
}

static int port_num(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int port_leaf(struct pctx *p, void *vset, const char *s, size_t n, int neg)
{
	struct ots_port_set *set = vset;
	struct ots_port_range r = { 0, 65535 };
	const char *colon = memchr(s, ':', n);
	if (colon) {
		size_t ln = (size_t)(colon - s), hn = n - ln - 1;
		if ((ln && port_num(s, ln, &r.lo)) || (hn && port_num(colon + 1, hn, &r.hi)) || (!ln && !hn))
			return perr(p, "bad port '%.*s'", (int)n, s);
		if (r.lo > r.hi)
			return perr(p, "bad port range '%.*s'", (int)n, s);
	} else {
		if (port_num(s, n, &r.lo))
			return perr(p, "bad port '%.*s'", (int)n, s);
		r.hi = r.lo;
	}
	if ((neg ? set->nneg : set->npos) >= OTS_RULE_MAX_PORTS)
		return perr(p, "too many ports (max %d)", OTS_RULE_MAX_PORTS);
	if (neg)
		set->neg[set->nneg++] = r;
	else
		set->pos[set->npos++] = r;
	return 0;
}

static int port_parse(struct pctx *p, struct ots_port_set *set, const char *s)
{
	memset(set, 0, sizeof(*set));
	static const struct set_kind kind = { "port", port_leaf };
	int rc = set_elem(p, set, s, strlen(s), 0, 0, 0, &kind);
	if (rc)
		return rc;
	if (set->npos == 0)
		set->any = 1;
	return 0;
}

/* ---------------------------------------------------------------- header */

static int proto_parse(struct pctx *p, const char *tok)
{
	struct ots_rule *r = p->r;
	char name[32];
	size_t n = strlen(tok);
	if (n >= sizeof(name))
		return perr(p, "unknown protocol '%s'", tok);
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)((tok[i] >= 'A' && tok[i] <= 'Z') ? tok[i] - 'A' + 'a' : tok[i]);
	if (!strcmp(name, "ip") || !strcmp(name, "pkthdr")) {
		r->l4 = OTS_RL4_IP;
		return 0;
	}
	if (!strcmp(name, "tcp")) {
		r->l4 = OTS_RL4_TCP;
		return 0;
	}
	if (!strcmp(name, "udp")) {
		r->l4 = OTS_RL4_UDP;
		return 0;
	}
	if (!strcmp(name, "icmp")) {
		r->l4 = OTS_RL4_ICMP;
		return 0;
	}
	if (!strcmp(name, "cip"))
		strcpy(name, "enip");
	int app = ots_app_by_name(name);
	if (app <= OTS_APP_UNKNOWN)
		return perr(p, "unknown protocol '%s'", tok);
	r->app = (uint16_t)app;
	uint8_t t = ots_protocols[app].transports;
	r->l4 = t == OTS_T_TCP ? OTS_RL4_TCP : t == OTS_T_UDP ? OTS_RL4_UDP : OTS_RL4_IP;
	return 0;
}

static int header_parse(struct pctx *p, char *h)
{
	char *tok[8];
	int nt = 0;
	char *q = h;
	for (;;) {
		while (is_ws((unsigned char)*q))
			q++;
		if (!*q)
			break;
		if (nt == 7)
			return perr(p, "bad header: extra text '%s'", q);
		char *start = q;
		int br = 0;
		while (*q && (br > 0 || !is_ws((unsigned char)*q))) {
			if (*q == '[')
				br++;
			else if (*q == ']')
				br--;
			q++;
		}
		if (br != 0)
			return perr(p, "bad header: unbalanced '[' in '%s'", start);
		if (*q)
			*q++ = '\0';
		tok[nt++] = start;
	}
	if (nt < 7)
		return perr(p, "bad header: expected 'action proto src sport -> dst dport', got %d fields", nt);
	struct ots_rule *r = p->r;
	static const struct {
		const char *name;
		uint8_t act;
	} acts[] = {
		{ "alert", OTS_ACT_ALERT }, { "pass", OTS_ACT_PASS }, { "drop", OTS_ACT_DROP },
		{ "reject", OTS_ACT_REJECT }, { "rejectsrc", OTS_ACT_REJECT }, { "rejectdst", OTS_ACT_REJECT },
		{ "rejectboth", OTS_ACT_REJECT }, { "log", OTS_ACT_LOG },
	};
	size_t a;
	for (a = 0; a < sizeof(acts) / sizeof(acts[0]); a++)
		if (!strcmp(tok[0], acts[a].name))
			break;
	if (a == sizeof(acts) / sizeof(acts[0]))
		return perr(p, "bad action '%s'", tok[0]);
	r->action = acts[a].act;
	int rc = proto_parse(p, tok[1]);
	if (rc)
		return rc;
	if (!strcmp(tok[4], "->"))
		r->bidir = 0;
	else if (!strcmp(tok[4], "<>"))
		r->bidir = 1;
	else
		return perr(p, "bad direction '%s'", tok[4]);
	if ((rc = addr_parse(p, &r->src, tok[2])) || (rc = port_parse(p, &r->sport, tok[3])) ||
	    (rc = addr_parse(p, &r->dst, tok[5])) || (rc = port_parse(p, &r->dport, tok[6])))
		return rc;
	return 0;
}

/* ---------------------------------------------------------------- simple options */

/* 1 when the last character of v[0..n) (a closing quote) is escaped by an odd run of backslashes */
static int last_escaped(const char *v, size_t n)
{
	size_t bs = 0;
	while (bs + 2 < n && v[n - 2 - bs] == '\\')
		bs++;
	return (int)(bs & 1);
}

/* kw's value v is "..." (its closing quote not escaped); *n = strlen(v) */
static int quotes_ok(struct pctx *p, const char *kw, const char *v, size_t *n)
{
	*n = strlen(v);
	if (*n == 0 || v[0] != '"')
		return perr(p, "%s: missing opening quote", kw);
	if (*n < 2 || v[*n - 1] != '"' || last_escaped(v, *n))
		return perr(p, "%s: missing closing quote", kw);
	return 0;
}

/* a leading '!' and the blanks after it: skipped; 1 when there was one */
static int skip_not(const char **s)
{
	if (**s != '!')
		return 0;
	(*s)++;
	while (is_ws((unsigned char)**s))
		(*s)++;
	return 1;
}

/* a quoted string value: "..." where a backslash escapes the next character; out NUL-terminated (cut to outlen) */
static int quoted(struct pctx *p, const char *kw, const char *v, char *out, size_t outlen)
{
	size_t n;
	int rc = quotes_ok(p, kw, v, &n);
	if (rc)
		return rc;
	size_t k = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		char c = v[i];
		if (c == '\\') {
			c = v[++i];
		} else if (c == '"') {
			return perr(p, "%s: unescaped '\"' inside the string", kw);
		}
		if (k + 1 < outlen)
			out[k++] = c;
	}
	if (outlen)
		out[k] = '\0';
	return 0;
}

static const struct {
	const char *name;
	uint8_t prio;
} classtypes[] = {
	{ "not-suspicious", 3 }, { "unknown", 3 }, { "bad-unknown", 2 }, { "attempted-recon", 2 },
	{ "successful-recon-limited", 2 }, { "successful-recon-largescale", 2 }, { "attempted-dos", 2 },
	{ "successful-dos", 2 }, { "attempted-user", 1 }, { "unsuccessful-user", 1 }, { "successful-user", 1 },
	{ "attempted-admin", 1 }, { "successful-admin", 1 }, { "rpc-portmap-decode", 2 }, { "shellcode-detect", 1 },
	{ "string-detect", 3 }, { "suspicious-filename-detect", 2 }, { "suspicious-login", 2 },
	{ "system-call-detect", 2 }, { "tcp-connection", 4 }, { "trojan-activity", 1 },
	{ "unusual-client-port-connection", 2 }, { "network-scan", 3 }, { "denial-of-service", 2 },
	{ "non-standard-protocol", 2 }, { "protocol-command-decode", 3 }, { "web-application-activity", 2 },
	{ "web-application-attack", 1 }, { "misc-activity", 3 }, { "misc-attack", 2 }, { "icmp-event", 3 },
	{ "inappropriate-content", 1 }, { "policy-violation", 1 }, { "default-login-attempt", 2 },
	{ "targeted-activity", 1 }, { "exploit-kit", 1 }, { "external-ip-check", 2 }, { "domain-c2", 1 },
	{ "pup-activity", 2 }, { "credential-theft", 1 }, { "social-engineering", 2 }, { "coin-mining", 2 },
	{ "command-and-control", 1 },
};

static int classtype_prio(const char *name)
{
	for (size_t i = 0; i < sizeof(classtypes) / sizeof(classtypes[0]); i++)
		if (!strcasecmp(classtypes[i].name, name))
			return classtypes[i].prio;
	return 0;
}

static int num_opt(struct pctx *p, const char *kw, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!v || !*v)
		return perr(p, "%s: missing value", kw);
	if (parse_u64(v, max, out) || *out < min)
		return perr(p, "bad %s '%s'", kw, v);
	return 0;
}

/* N, <N, >N, <=N, >=N, N<>M (lo < x < hi) */
static int cmp_parse(const char *v, uint32_t max, struct ots_num_cmp *c)
{
	char b[64];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(b))
		return -1;
	memcpy(b, v, n + 1);
	char *s = trim(b);
	uint64_t x, y;
	memset(c, 0, sizeof(*c));
	c->set = 1;
	char *rng = strstr(s, "<>");
	if (rng) {
		*rng = '\0';
		if (parse_u64(trim(s), max, &x) || parse_u64(trim(rng + 2), max, &y) || x >= y)
			return -1;
		c->op = OTS_CMP_RANGE;
		c->lo = (uint32_t)x;
		c->hi = (uint32_t)y;
		return 0;
	}
	c->op = OTS_CMP_EQ;
	if (s[0] == '<' && s[1] == '=') {
		c->op = OTS_CMP_LE;
		s += 2;
	} else if (s[0] == '>' && s[1] == '=') {
		c->op = OTS_CMP_GE;
		s += 2;
	} else if (s[0] == '<') {
		c->op = OTS_CMP_LT;
		s++;
	} else if (s[0] == '>') {
		c->op = OTS_CMP_GT;
		s++;
	} else if (s[0] == '=') {
		s++;
	}
	if (parse_u64(trim(s), max, &x))
		return -1;
	c->lo = c->hi = (uint32_t)x;
	return 0;
}

/* ---------------------------------------------------------------- content and modifiers */

/* the next payload option slot, or NULL (why filled) when the rule has OTS_RULE_MAX_OPTS already */
static struct ots_opt *opt_add(struct pctx *p, uint8_t type)
{
	struct ots_rule *r = p->r;
	if (r->nopts >= OTS_RULE_MAX_OPTS) {
		perr(p, "too many payload options (max %d)", OTS_RULE_MAX_OPTS);
		return NULL;
	}
	struct ots_opt *o = &r->opts[r->nopts++];
	memset(o, 0, sizeof(*o));
	o->type = type;
	return o;
}

static int content_parse(struct pctx *p, const char *v)
{
	if (!v || !*v)
		return perr(p, "content: missing value");
	int neg = skip_not(&v);
	size_t n;
	int rc = quotes_ok(p, "content", v, &n);
	if (rc)
		return rc;
	uint8_t pat[OTS_RULE_MAX_CONTENT];
	size_t k = 0;
	int hex = 0, nib = -1;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (hex) {
			if (c == '|') {
				if (nib >= 0)
					return perr(p, "content: odd number of hex digits");
				hex = 0;
				continue;
			}
			if (is_ws(c))
				continue;
			int h = hexval(c);
			if (h < 0)
				return perr(p, "content: bad hex character '%c'", c);
			if (nib < 0) {
				nib = h;
				continue;
			}
			if (k == sizeof(pat))
				return perr(p, "content: longer than %d bytes", OTS_RULE_MAX_CONTENT);
			pat[k++] = (uint8_t)(nib << 4 | h);
			nib = -1;
			continue;
		}
		if (c == '|') {
			hex = 1;
			continue;
		}
		if (c == '\\') {
			unsigned char e = (unsigned char)v[++i];
			if (i + 1 >= n || !(e == '"' || e == ';' || e == '\\' || e == ':'))
				return perr(p, "content: bad escape '\\%c' (only \\\" \\; \\\\ \\: are allowed)",
					    i + 1 >= n ? ' ' : e);
			c = e;
		} else if (c == '"') {
			return perr(p, "content: unescaped '\"'");
		}
		if (k == sizeof(pat))
			return perr(p, "content: longer than %d bytes", OTS_RULE_MAX_CONTENT);
		pat[k++] = c;
	}
	if (hex)
		return perr(p, "content: missing closing '|'");
	if (k == 0)
		return perr(p, "content: empty");
	struct ots_opt *o = opt_add(p, OTS_OPT_CONTENT);
	if (!o)
		return -EINVAL;
	o->u.c.len = (uint16_t)k;
	memcpy(o->u.c.pat, pat, k);
	if (neg)
		o->u.c.flags |= OTS_CF_NEGATED;
	p->last_content = (int)(o - p->r->opts);
	return 0;
}

static int modifier(struct pctx *p, const char *kw, const char *v)
{
	if (p->last_content < 0)
		return perr(p, "%s: no preceding content", kw);
	struct ots_content *c = &p->r->opts[p->last_content].u.c;
	int64_t x;
	if (!strcmp(kw, "nocase")) {
		if (v)
			return perr(p, "nocase: takes no value");
		if (c->flags & OTS_CF_NOCASE)
			return perr(p, "nocase: given twice for one content");
		c->flags |= OTS_CF_NOCASE;
		return 0;
	}
	if (!strcmp(kw, "fast_pattern")) {
		if (v && strcmp(v, "only") != 0) { /* fast_pattern:N,M chops: the whole content is verified anyway */
			char b[32];
			snprintf(b, sizeof(b), "%s", v);
			char *parts[3];
			uint64_t a0, a1;
			if (split_commas(b, parts, 3) != 2 || parse_u64(parts[0], 255, &a0) || parse_u64(parts[1], 255, &a1) ||
			    a0 + a1 > c->len || a1 == 0)
				return perr(p, "bad fast_pattern '%s'", v);
		}
		for (unsigned i = 0; i < p->r->nopts; i++)
			if (p->r->opts[i].type == OTS_OPT_CONTENT && (p->r->opts[i].u.c.flags & OTS_CF_FAST))
				return perr(p, "fast_pattern: given for more than one content");
		c->flags |= OTS_CF_FAST;
		return 0;
	}
	if (!v || !*v)
		return perr(p, "%s: missing value", kw);
	int absolute = !strcmp(kw, "offset") || !strcmp(kw, "depth");
	uint8_t flag = !strcmp(kw, "offset") ? OTS_CF_OFFSET : !strcmp(kw, "depth") ? OTS_CF_DEPTH :
		       !strcmp(kw, "distance")	   ? OTS_CF_DISTANCE :
							     OTS_CF_WITHIN;
	if (parse_i64(v, !strcmp(kw, "distance") ? -65535 : 0, 65535, &x))
		return perr(p, "bad %s '%s'", kw, v);
	if (c->flags & flag)
		return perr(p, "%s: given twice for one content", kw);
	if (absolute ? (c->flags & OTS_CF_RELATIVE) : (c->flags & (OTS_CF_OFFSET | OTS_CF_DEPTH)))
		return perr(p, "%s: cannot mix offset/depth with distance/within on one content", kw);
	switch (flag) {
	case OTS_CF_OFFSET:
		c->offset = (int32_t)x;
		break;
	case OTS_CF_DEPTH:
		if (x < c->len)
			return perr(p, "depth %lld is less than the content length %u", (long long)x, c->len);
		c->depth = (int32_t)x;
		break;
	case OTS_CF_DISTANCE:
		c->distance = (int32_t)x;
		break;
	default:
		if (x < c->len)
			return perr(p, "within %lld is less than the content length %u", (long long)x, c->len);
		c->within = (int32_t)x;
		break;
	}
	c->flags |= flag;
	return 0;
}

/* ---------------------------------------------------------------- pcre */

static int pcre_parse(struct pctx *p, const char *v)
{
	if (!v || !*v)
		return perr(p, "pcre: missing value");
	int neg = skip_not(&v);
	size_t n;
	int rc = quotes_ok(p, "pcre", v, &n);
	if (rc)
		return rc;
	const char *re = v + 1, *end = v + n - 1; /* between the quotes */
	if (re == end || *re != '/')
		return perr(p, "pcre: the regex must be written /.../flags");
	const char *last = end - 1;
	while (last > re && *last != '/')
		last--;
	if (last == re)
		return perr(p, "pcre: missing closing '/'");
	size_t rlen = (size_t)(last - re - 1);
	if (rlen == 0)
		return perr(p, "pcre: empty regex");
	uint32_t opts = 0;
	uint8_t pf = neg ? OTS_PF_NEGATED : 0;
	for (const char *f = last + 1; f < end; f++) {
		switch (*f) {
		case 'i':
			opts |= PCRE2_CASELESS;
			break;
		case 's':
			opts |= PCRE2_DOTALL;
			break;
		case 'm':
			opts |= PCRE2_MULTILINE;
			break;
		case 'x':
			opts |= PCRE2_EXTENDED;
			break;
		case 'A':
			opts |= PCRE2_ANCHORED;
			break;
		case 'E':
			opts |= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'G':
			opts |= PCRE2_UNGREEDY;
			break;
		case 'R':
			pf |= OTS_PF_RELATIVE;
			break;
		case 'B': /* rawbytes: the payload is always raw here */
		case 'O': /* override the configured match limits: the limits stay */
			break;
		default: /* U, H, P, C, ...: HTTP buffers, or unknown */
			if (p->why && p->whylen)
				snprintf(p->why, p->whylen, "unsupported keyword 'pcre' (modifier '%c')", *f);
			return -ENOTSUP;
		}
	}
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)(re + 1), rlen, opts, &ec, &eo, NULL);
	if (!code) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return perr(p, "pcre: bad regex at offset %zu: %s", (size_t)eo, (const char *)msg);
	}
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback when JIT is unavailable */
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	if (!mc) {
		pcre2_code_free(code);
		return perr(p, "pcre: out of memory");
	}
	pcre2_set_match_limit(mc, PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, PCRE_DEPTH_LIMIT);
	struct ots_opt *o = opt_add(p, OTS_OPT_PCRE);
	if (!o) {
		pcre2_match_context_free(mc);
		pcre2_code_free(code);
		return -EINVAL;
	}
	o->u.re.flags = pf;
	o->u.re.code = code;
	o->u.re.mctx = mc;
	return 0;
}

/* ---------------------------------------------------------------- byte_test, byte_jump, isdataat */

static int byte_flag(struct pctx *p, const char *kw, struct ots_byte_op *b, const char *t, int jump)
{
	if (!strcmp(t, "relative")) {
		b->flags |= OTS_BF_RELATIVE;
	} else if (!strcmp(t, "big")) {
		b->flags &= (uint8_t)~OTS_BF_LITTLE;
	} else if (!strcmp(t, "little")) {
		b->flags |= OTS_BF_LITTLE;
	} else if (!strcmp(t, "string")) {
		b->flags |= OTS_BF_STRING;
		if (!b->base)
			b->base = 10;
	} else if (!strcmp(t, "dec") || !strcmp(t, "hex") || !strcmp(t, "oct")) {
		b->base = t[0] == 'd' ? 10 : t[0] == 'h' ? 16 : 8;
	} else if (!strncmp(t, "bitmask", 7)) {
		const char *val = t + 7;
		while (is_ws((unsigned char)*val))
			val++;
		uint64_t m;
		if (parse_u64(val, UINT64_MAX, &m) || m == 0)
			return perr(p, "%s: bad bitmask '%s'", kw, t);
		b->bitmask = m;
	} else if (jump && !strcmp(t, "align")) {
		b->flags |= OTS_BF_ALIGN;
	} else if (jump && !strcmp(t, "from_beginning")) {
		b->flags |= OTS_BF_FROM_BEGINNING;
	} else if (jump && !strncmp(t, "multiplier", 10)) {
		uint64_t m;
		const char *val = t + 10;
		while (is_ws((unsigned char)*val))
			val++;
		if (parse_u64(val, 65535, &m) || m == 0)
			return perr(p, "%s: bad multiplier '%s'", kw, t);
		b->multiplier = (uint32_t)m;
	} else if (jump && !strncmp(t, "post_offset", 11)) {
		int64_t x;
		const char *val = t + 11;
		while (is_ws((unsigned char)*val))
			val++;
		if (parse_i64(val, -65535, 65535, &x))
			return perr(p, "%s: bad post_offset '%s'", kw, t);
		b->post_offset = (int32_t)x;
	} else if (!strcmp(t, "dce") || (jump && !strcmp(t, "from_end"))) {
		char k[48];
		snprintf(k, sizeof(k), "%s: %s", kw, t);
		return punsup(p, k);
	} else {
		return perr(p, "%s: unknown option '%s'", kw, t);
	}
	return 0;
}

static int byte_check(struct pctx *p, const char *kw, struct ots_byte_op *b, int64_t off)
{
	if (b->flags & OTS_BF_STRING) {
		if (b->nbytes > 10)
			return perr(p, "%s: a string number is 1..10 bytes", kw);
		if (b->flags & OTS_BF_LITTLE)
			return perr(p, "%s: 'string' and an endianness cannot be combined", kw);
	} else {
		if (b->nbytes > 8)
			return perr(p, "%s: a binary number is 1..8 bytes", kw);
		if (b->base && b->base != 10)
			return perr(p, "%s: a base needs 'string'", kw);
		b->base = 0;
	}
	if (off < 0 && !(b->flags & OTS_BF_RELATIVE))
		return perr(p, "%s: negative offset without 'relative'", kw);
	b->offset = (int32_t)off;
	return 0;
}

/* the end of a byte_test / byte_jump (jump), after its own fields: the offset (parts[at]), the flags after it, the
 * checks of the whole; adds the option */
static int byte_add(struct pctx *p, int jump, struct ots_byte_op *b, char **parts, int at, int np)
{
	const char *kw = jump ? "byte_jump" : "byte_test";
	int64_t off;
	if (parse_i64(parts[at], -65535, 65535, &off))
		return perr(p, "%s: bad offset '%s'", kw, parts[at]);
	for (int i = at + 1; i < np; i++) {
		int rc = byte_flag(p, kw, b, parts[i], jump);
		if (rc)
			return rc;
	}
	int rc = byte_check(p, kw, b, off);
	if (rc)
		return rc;
	struct ots_opt *o = opt_add(p, jump ? OTS_OPT_BYTE_JUMP : OTS_OPT_BYTE_TEST);
	if (!o)
		return -EINVAL;
	o->u.b = *b;
	return 0;
}

static int byte_test_parse(struct pctx *p, char *v)
{
	if (!v || !*v)
		return perr(p, "byte_test: missing value");
	char *parts[16];
	int np = split_commas(v, parts, 16);
	if (np < 4)
		return perr(p, "byte_test: needs nbytes, operator, value, offset");
	struct ots_byte_op b;
	memset(&b, 0, sizeof(b));
	uint64_t nb, val;
	if (parse_u64(parts[0], 10, &nb) || nb == 0)
		return perr(p, "byte_test: bad nbytes '%s'", parts[0]);
	b.nbytes = (uint8_t)nb;
	const char *op = parts[1];
	if (skip_not(&op))
		b.flags |= OTS_BF_NEGATE;
	if (!strcmp(op, "=") || (!*op && (b.flags & OTS_BF_NEGATE)))
		b.op = OTS_CMP_EQ;
	else if (!strcmp(op, "<"))
		b.op = OTS_CMP_LT;
	else if (!strcmp(op, ">"))
		b.op = OTS_CMP_GT;
	else if (!strcmp(op, "<="))
		b.op = OTS_CMP_LE;
	else if (!strcmp(op, ">="))
		b.op = OTS_CMP_GE;
	else if (!strcmp(op, "&"))
		b.op = OTS_CMP_AND;
	else if (!strcmp(op, "^"))
		b.op = OTS_CMP_OR;
	else
		return perr(p, "byte_test: bad operator '%s'", parts[1]);
	if (parse_u64(parts[2], UINT64_MAX, &val))
		return perr(p, "byte_test: bad value '%s'", parts[2]);
	b.value = val;
	return byte_add(p, 0, &b, parts, 3, np);
}

static int byte_jump_parse(struct pctx *p, char *v)
{
	if (!v || !*v)
		return perr(p, "byte_jump: missing value");
	char *parts[20];
	int np = split_commas(v, parts, 20);
	if (np < 2)
		return perr(p, "byte_jump: needs nbytes, offset");
	struct ots_byte_op b;
	memset(&b, 0, sizeof(b));
	b.multiplier = 1;
	uint64_t nb;
	if (parse_u64(parts[0], 10, &nb) || nb == 0)
		return perr(p, "byte_jump: bad nbytes '%s'", parts[0]);
	b.nbytes = (uint8_t)nb;
	return byte_add(p, 1, &b, parts, 1, np);
}

static int isdataat_parse(struct pctx *p, char *v)
{
	if (!v || !*v)
		return perr(p, "isdataat: missing value");
	char *parts[4];
	int np = split_commas(v, parts, 4);
	if (np < 1)
		return perr(p, "isdataat: missing value");
	struct ots_isdataat d = { 0, 0, 0 };
	const char *n = parts[0];
	d.negated = (uint8_t)skip_not(&n);
	uint64_t x;
	if (parse_u64(n, 65535, &x))
		return perr(p, "isdataat: bad value '%s'", parts[0]);
	d.n = (uint32_t)x;
	for (int i = 1; i < np; i++) {
		if (!strcmp(parts[i], "relative"))
			d.relative = 1;
		else if (strcmp(parts[i], "rawbytes") != 0)
			return perr(p, "isdataat: unknown option '%s'", parts[i]);
	}
	struct ots_opt *o = opt_add(p, OTS_OPT_ISDATAAT);
	if (!o)
		return -EINVAL;
	o->u.d = d;
	return 0;
}

/* ---------------------------------------------------------------- flow, threshold */

static int flow_parse(struct pctx *p, char *v)
{
	if (!v || !*v)
		return perr(p, "flow: missing value");
	char *parts[8];
	int np = split_commas(v, parts, 8);
	if (np < 0)
		return perr(p, "flow: too many options");
	uint8_t f = p->r->flow;
	for (int i = 0; i < np; i++) {
		const char *t = parts[i];
		if (!strcmp(t, "to_server") || !strcmp(t, "from_client"))
			f |= OTS_FLOW_TO_SERVER;
		else if (!strcmp(t, "to_client") || !strcmp(t, "from_server"))
			f |= OTS_FLOW_TO_CLIENT;
		else if (!strcmp(t, "established"))
			f |= OTS_FLOW_ESTABLISHED;
		else if (!strcmp(t, "not_established"))
			f |= OTS_FLOW_NOT_EST;
		else if (!strcmp(t, "stateless"))
			f |= OTS_FLOW_STATELESS;
		else if (!strcmp(t, "only_stream") || !strcmp(t, "no_stream"))
			; /* the inspected buffer is always the (carried) stream */
		else if (!strcmp(t, "only_frag") || !strcmp(t, "no_frag")) {
			char k[32];
			snprintf(k, sizeof(k), "flow: %s", t);
			return punsup(p, k);
		} else
			return perr(p, "flow: unknown option '%s'", t);
	}
	if ((f & OTS_FLOW_TO_SERVER) && (f & OTS_FLOW_TO_CLIENT))
		return perr(p, "flow: to_server and to_client together");
	if ((f & OTS_FLOW_ESTABLISHED) && (f & OTS_FLOW_NOT_EST))
		return perr(p, "flow: established and not_established together");
	if ((f & OTS_FLOW_STATELESS) && (f & (OTS_FLOW_ESTABLISHED | OTS_FLOW_NOT_EST)))
		return perr(p, "flow: stateless with established/not_established");
	p->r->flow = f;
	return 0;
}

static int threshold_parse(struct pctx *p, const char *kw, char *v, struct ots_threshold *t, int filter)
{
	if (!v || !*v)
		return perr(p, "%s: missing value", kw);
	if (t->type != OTS_THR_NONE)
		return perr(p, "%s: given twice", kw);
	char *parts[8];
	int np = split_commas(v, parts, 8);
	if (np < 0)
		return perr(p, "%s: too many fields", kw);
	int have_track = 0, have_count = 0, have_secs = 0;
	t->type = filter ? OTS_THR_DETECTION_FILTER : OTS_THR_NONE;
	for (int i = 0; i < np; i++) {
		char *k = parts[i], *val = k;
		while (*val && !is_ws((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = trim(val);
		uint64_t x;
		if (!strcmp(k, "type") && !filter) {
			if (!strcmp(val, "limit"))
				t->type = OTS_THR_LIMIT;
			else if (!strcmp(val, "threshold"))
				t->type = OTS_THR_THRESHOLD;
			else if (!strcmp(val, "both"))
				t->type = OTS_THR_BOTH;
			else
				return perr(p, "%s: bad type '%s'", kw, val);
		} else if (!strcmp(k, "track")) {
			if (!strcmp(val, "by_src"))
				t->track = OTS_TRACK_BY_SRC;
			else if (!strcmp(val, "by_dst"))
				t->track = OTS_TRACK_BY_DST;
			else if (!strcmp(val, "by_rule"))
				t->track = OTS_TRACK_BY_RULE;
			else if (!strcmp(val, "by_both"))
				t->track = OTS_TRACK_BY_BOTH;
			else
				return perr(p, "%s: bad track '%s'", kw, val);
			have_track = 1;
		} else if (!strcmp(k, "count")) {
			if (parse_u64(val, UINT32_MAX, &x) || x == 0)
				return perr(p, "%s: bad count '%s'", kw, val);
			t->count = (uint32_t)x;
			have_count = 1;
		} else if (!strcmp(k, "seconds")) {
			if (parse_u64(val, UINT32_MAX, &x) || x == 0)
				return perr(p, "%s: bad seconds '%s'", kw, val);
			t->seconds = (uint32_t)x;
			have_secs = 1;
		} else {
			return perr(p, "%s: unknown field '%s'", kw, k);
		}
	}
	if (t->type == OTS_THR_NONE)
		return perr(p, "%s: missing type", kw);
	if (!have_track || !have_count || !have_secs)
		return perr(p, "%s: needs track, count and seconds", kw);
	return 0;
}

/* ---------------------------------------------------------------- OT keywords */

static int want_app(struct pctx *p, const char *kw, uint16_t app)
{
	struct ots_rule *r = p->r;
	if (r->app == app)
		return 0;
	if (r->app != OTS_APP_UNKNOWN)
		return perr(p, "%s: the rule's protocol is %s, not %s", kw, ots_app_name(r->app), ots_app_name(app));
	uint8_t t = ots_protocols[app].transports;
	if ((r->l4 == OTS_RL4_TCP && !(t & OTS_T_TCP)) || (r->l4 == OTS_RL4_UDP && !(t & OTS_T_UDP)) ||
	    r->l4 == OTS_RL4_ICMP)
		return perr(p, "%s: %s does not run over the rule's protocol", kw, ots_app_name(app));
	r->app = app;
	if (r->l4 == OTS_RL4_IP)
		r->l4 = t == OTS_T_TCP ? OTS_RL4_TCP : t == OTS_T_UDP ? OTS_RL4_UDP : OTS_RL4_IP;
	return 0;
}

static int modbus_parse(struct pctx *p, char *v)
{
	if (!v || !*v)
		return perr(p, "modbus: missing value");
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
	}
	char *parts[8];
	int np = split_commas(v, parts, 8);
	if (np < 1)
		return perr(p, "modbus: too many clauses");
	struct ots_ot_match *m = &p->r->ot;
	int func_num = 0, access = 0;
	for (int i = 0; i < np; i++) {
		char *k = parts[i], *a = k;
		while (*a && !is_ws((unsigned char)*a) && *a != '!' && *a != '<' && *a != '>')
			a++;
		char save = *a;
		*a = '\0';
		char kw[16];
		snprintf(kw, sizeof(kw), "%s", k);
		*a = save;
		a = trim(a);
		uint64_t x;
		if (!strcmp(kw, "function")) {
			if (m->keys & OTS_OTK_MODBUS_FUNC)
				return perr(p, "modbus: function given twice");
			int neg = 0;
			if (*a == '!') {
				neg = 1;
				a = trim(a + 1);
			}
			static const struct {
				const char *name;
				uint8_t cat;
			} cats[] = {
				{ "assigned", OTS_MB_CAT_PUBLIC_ASSIGNED },
				{ "unassigned", OTS_MB_CAT_PUBLIC_UNASSIGNED },
				{ "public", OTS_MB_CAT_PUBLIC_ASSIGNED | OTS_MB_CAT_PUBLIC_UNASSIGNED },
				{ "user", OTS_MB_CAT_USER },
				{ "reserved", OTS_MB_CAT_RESERVED },
				{ "all", 0x0f },
			};
			size_t c;
			for (c = 0; c < sizeof(cats) / sizeof(cats[0]); c++)
				if (!strcmp(a, cats[c].name))
					break;
			if (c < sizeof(cats) / sizeof(cats[0])) {
				m->mb_func_cat = neg ? (uint8_t)(~cats[c].cat & 0x0f) : cats[c].cat;
				if (!m->mb_func_cat)
					return perr(p, "modbus: function '!%s' matches nothing", a);
			} else {
				if (parse_u64(a, 255, &x) || x == 0)
					return perr(p, "modbus: bad function '%s'", a);
				m->mb_func = (uint8_t)x;
				m->mb_func_neg = (uint8_t)neg;
				func_num = !neg;
			}
			m->keys |= OTS_OTK_MODBUS_FUNC;
		} else if (!strcmp(kw, "subfunction")) {
			if (!func_num)
				return perr(p, "modbus: subfunction needs a preceding 'function N'");
			if (m->keys & OTS_OTK_MODBUS_SUB)
				return perr(p, "modbus: subfunction given twice");
			if (parse_u64(a, 65535, &x))
				return perr(p, "modbus: bad subfunction '%s'", a);
			m->mb_sub = (uint16_t)x;
			m->keys |= OTS_OTK_MODBUS_SUB;
		} else if (!strcmp(kw, "unit")) {
			if (m->keys & OTS_OTK_MODBUS_UNIT)
				return perr(p, "modbus: unit given twice");
			if (cmp_parse(a, 65535, &m->mb_unit) || m->mb_unit.op == OTS_CMP_LE || m->mb_unit.op == OTS_CMP_GE)
				return perr(p, "modbus: bad unit '%s'", a);
			m->keys |= OTS_OTK_MODBUS_UNIT;
		} else if (!strcmp(kw, "access")) {
			if (m->keys & OTS_OTK_MODBUS_ACCESS)
				return perr(p, "modbus: access given twice");
			char *w2 = a;
			while (*w2 && !is_ws((unsigned char)*w2))
				w2++;
			if (*w2)
				*w2++ = '\0';
			w2 = trim(w2);
			if (!strcmp(a, "read"))
				m->mb_access = OTS_MB_ACC_READ;
			else if (!strcmp(a, "write"))
				m->mb_access = OTS_MB_ACC_WRITE;
			else
				return perr(p, "modbus: bad access '%s' (read or write)", a);
			if (!*w2)
				; /* any register type */
			else if (!strcmp(w2, "coils"))
				m->mb_access |= OTS_MB_ACC_COILS;
			else if (!strcmp(w2, "holding"))
				m->mb_access |= OTS_MB_ACC_HOLDING;
			else if (!strcmp(w2, "discretes") || !strcmp(w2, "input")) {
				if (m->mb_access & OTS_MB_ACC_WRITE)
					return perr(p, "modbus: %s can only be read", w2);
				m->mb_access |= w2[0] == 'd' ? OTS_MB_ACC_DISCRETES : OTS_MB_ACC_INPUT;
			} else
				return perr(p, "modbus: bad register type '%s'", w2);
			access = 1;
			m->keys |= OTS_OTK_MODBUS_ACCESS;
		} else if (!strcmp(kw, "address")) {
			if (!access)
				return perr(p, "modbus: address needs a preceding 'access'");
			if (m->mb_address.set)
				return perr(p, "modbus: address given twice");
			if (cmp_parse(a, 65535, &m->mb_address) || m->mb_address.op == OTS_CMP_LE ||
			    m->mb_address.op == OTS_CMP_GE)
				return perr(p, "modbus: bad address '%s'", a);
		} else if (!strcmp(kw, "value")) {
			return punsup(p, "modbus: value");
		} else {
			return perr(p, "modbus: unknown clause '%s'", parts[i]);
		}
	}
	return want_app(p, "modbus", OTS_APP_MODBUS);
}

static const struct {
	const char *name;
	uint8_t code;
} dnp3_funcs[] = {
	{ "confirm", 0 }, { "read", 1 }, { "write", 2 }, { "select", 3 }, { "operate", 4 }, { "direct_operate", 5 },
	{ "direct_operate_nr", 6 }, { "immed_freeze", 7 }, { "immed_freeze_nr", 8 }, { "freeze_clear", 9 },
	{ "freeze_clear_nr", 10 }, { "freeze_at_time", 11 }, { "freeze_at_time_nr", 12 }, { "cold_restart", 13 },
	{ "warm_restart", 14 }, { "initialize_data", 15 }, { "initialize_appl", 16 }, { "start_appl", 17 },
	{ "stop_appl", 18 }, { "save_config", 19 }, { "enable_unsolicited", 20 }, { "disable_unsolicited", 21 },
	{ "assign_class", 22 }, { "delay_measure", 23 }, { "record_current_time", 24 }, { "open_file", 25 },
	{ "close_file", 26 }, { "delete_file", 27 }, { "get_file_info", 28 }, { "authenticate_file", 29 },
	{ "abort_file", 30 }, { "activate_config", 31 }, { "authenticate_req", 32 }, { "authenticate_err", 33 },
	{ "response", 129 }, { "unsolicited_response", 130 }, { "authenticate_resp", 131 },
};

static const struct {
	const char *name;
	uint16_t bit;
} dnp3_inds[] = {
	{ "device_restart", 0x8000 }, { "device_trouble", 0x4000 }, { "local_control", 0x2000 },
	{ "need_time", 0x1000 }, { "class_3_events", 0x0800 }, { "class_2_events", 0x0400 },
	{ "class_1_events", 0x0200 }, { "all_stations", 0x0100 }, { "reserved_1", 0x0080 },
	{ "reserved_2", 0x0040 }, { "config_corrupt", 0x0020 }, { "already_executing", 0x0010 },
	{ "event_buffer_overflow", 0x0008 }, { "parameter_error", 0x0004 }, { "object_unknown", 0x0002 },
	{ "no_func_code_support", 0x0001 },
};

static int dnp3_parse(struct pctx *p, const char *kw, char *v)
{
	if (!v || !*v)
		return perr(p, "%s: missing value", kw);
	struct ots_ot_match *m = &p->r->ot;
	uint64_t x;
	char k = kw[5]; /* dnp3_f / dnp3_i / dnp3_o (also dnp3.func ...) */
	if (k == 'f') {
		if (m->keys & OTS_OTK_DNP3_FUNC)
			return perr(p, "%s: given twice", kw);
		if (parse_u64(v, 255, &x) == 0) {
			m->dnp3_func = (uint8_t)x;
		} else {
			size_t i;
			for (i = 0; i < sizeof(dnp3_funcs) / sizeof(dnp3_funcs[0]); i++)
				if (!strcasecmp(v, dnp3_funcs[i].name))
					break;
			if (i == sizeof(dnp3_funcs) / sizeof(dnp3_funcs[0]))
				return perr(p, "%s: unknown function '%s'", kw, v);
			m->dnp3_func = dnp3_funcs[i].code;
		}
		m->keys |= OTS_OTK_DNP3_FUNC;
	} else if (k == 'i') {
		if (m->keys & OTS_OTK_DNP3_IND)
			return perr(p, "%s: given twice", kw);
		if (parse_u64(v, 0xffff, &x) == 0) {
			m->dnp3_ind = (uint16_t)x;
		} else {
			char *parts[16];
			int np = split_commas(v, parts, 16);
			if (np < 0)
				return perr(p, "%s: too many flags", kw);
			for (int j = 0; j < np; j++) {
				size_t i;
				for (i = 0; i < sizeof(dnp3_inds) / sizeof(dnp3_inds[0]); i++)
					if (!strcasecmp(parts[j], dnp3_inds[i].name))
						break;
				if (i == sizeof(dnp3_inds) / sizeof(dnp3_inds[0]))
					return perr(p, "%s: unknown indication '%s'", kw, parts[j]);
				m->dnp3_ind |= dnp3_inds[i].bit;
			}
		}
		m->keys |= OTS_OTK_DNP3_IND;
	} else {
		if (m->keys & OTS_OTK_DNP3_OBJ)
			return perr(p, "%s: given twice", kw);
		char *parts[3];
		uint64_t g, var;
		if (split_commas(v, parts, 3) != 2 || parse_u64(parts[0], 255, &g) || parse_u64(parts[1], 255, &var))
			return perr(p, "%s: expected group,variation", kw);
		m->dnp3_group = (uint8_t)g;
		m->dnp3_var = (uint8_t)var;
		m->keys |= OTS_OTK_DNP3_OBJ;
	}
	return want_app(p, kw, OTS_APP_DNP3);
}

static int enip_parse(struct pctx *p, const char *kw, char *v)
{
	if (!v || !*v)
		return perr(p, "%s: missing value", kw);
	struct ots_ot_match *m = &p->r->ot;
	uint64_t x;
	if (!strcmp(kw, "enip_command")) {
		if (m->keys & OTS_OTK_ENIP_COMMAND)
			return perr(p, "enip_command: given twice");
		if (parse_u64(v, 65535, &x))
			return perr(p, "enip_command: bad command '%s'", v);
		m->enip_command = (uint16_t)x;
		m->keys |= OTS_OTK_ENIP_COMMAND;
	} else {
		if (m->keys & OTS_OTK_CIP_SERVICE)
			return perr(p, "cip_service: given twice");
		char *parts[4];
		int np = split_commas(v, parts, 4);
		if (np < 1 || np > 3)
			return perr(p, "cip_service: expected service[,class[,attribute]]");
		if (parse_u64(parts[0], 255, &x))
			return perr(p, "cip_service: bad service '%s'", parts[0]);
		m->cip_service = (uint8_t)x;
		m->cip_class = m->cip_attribute = -1;
		if (np > 1) {
			if (parse_u64(parts[1], 0xffff, &x))
				return perr(p, "cip_service: bad class '%s'", parts[1]);
			m->cip_class = (int32_t)x;
		}
		if (np > 2) {
			if (parse_u64(parts[2], 0xffff, &x))
				return perr(p, "cip_service: bad attribute '%s'", parts[2]);
			m->cip_attribute = (int32_t)x;
		}
		m->keys |= OTS_OTK_CIP_SERVICE;
	}
	return want_app(p, kw, OTS_APP_ENIP);
}

/* ---------------------------------------------------------------- options */

struct kv {
	char *k, *v; /* v NULL: the option has no ':' */
};

/* split the text between ( and ) into options, in place */
static int options_split(struct pctx *p, char *s, struct kv *kv, int *nkv)
{
	int n = 0;
	char *q = s;
	for (;;) {
		while (is_ws((unsigned char)*q))
			q++;
		if (!*q)
			break;
		char *k = q;
		while (*q && *q != ':' && *q != ';')
			q++;
		char sep = *q;
		*q = '\0';
		k = trim(k);
		if (!*k)
			return perr(p, "empty option");
		char *v = NULL;
		if (sep == ':') {
			v = ++q;
			while (*q && *q != ';') {
				if (*q == '\\' && q[1])
					q++;
				q++;
			}
			if (!*q)
				return perr(p, "option '%s' not terminated by ';'", k);
			*q++ = '\0';
			v = trim(v);
		} else if (sep == ';') {
			q++;
		} else {
			return perr(p, "option '%s' not terminated by ';'", k);
		}
		if (n == MAX_OPTIONS)
			return perr(p, "too many options (max %d)", MAX_OPTIONS);
		kv[n].k = k;
		kv[n].v = v;
		n++;
	}
	*nkv = n;
	return 0;
}

static int option(struct pctx *p, const char *k, char *v)
{
	struct ots_rule *r = p->r;
	uint64_t x;
	int rc;
	if (!strcmp(k, "msg")) {
		if (!v)
			return perr(p, "msg: missing value");
		if (v[0] == '"')
			return quoted(p, "msg", v, r->msg, sizeof(r->msg));
		snprintf(r->msg, sizeof(r->msg), "%s", v);
		return 0;
	}
	if (!strcmp(k, "sid")) {
		if (p->sid_seen)
			return perr(p, "sid given twice");
		if ((rc = num_opt(p, "sid", v, 1, UINT32_MAX, &x)))
			return rc;
		r->sid = (uint32_t)x;
		p->sid_seen = 1;
		return 0;
	}
	if (!strcmp(k, "rev")) {
		if ((rc = num_opt(p, "rev", v, 0, UINT32_MAX, &x)))
			return rc;
		r->rev = (uint32_t)x;
		return 0;
	}
	if (!strcmp(k, "gid")) {
		if ((rc = num_opt(p, "gid", v, 0, UINT32_MAX, &x)))
			return rc;
		r->gid = (uint32_t)x;
		return 0;
	}
	if (!strcmp(k, "priority")) {
		if ((rc = num_opt(p, "priority", v, 1, 255, &x)))
			return rc;
		r->priority = (uint8_t)x;
		p->prio_given = 1;
		return 0;
	}
	if (!strcmp(k, "classtype")) {
		if (!v || !*v)
			return perr(p, "classtype: missing value");
		for (const char *c = v; *c; c++)
			if (!(*c == '-' || *c == '_' || is_digit((unsigned char)*c) || (*c >= 'a' && *c <= 'z') ||
			      (*c >= 'A' && *c <= 'Z')))
				return perr(p, "bad classtype '%s'", v);
		snprintf(r->classtype, sizeof(r->classtype), "%s", v);
		return 0;
	}
	if (!strcmp(k, "reference")) {
		if (!v || !*v)
			return perr(p, "reference: missing value");
		char *comma = strchr(v, ',');
		if (!comma)
			return perr(p, "reference: expected type,value");
		if (!r->reference[0]) {
			*comma = '\0';
			snprintf(r->reference, sizeof(r->reference), "%s,%s", trim(v), trim(comma + 1));
		}
		return 0;
	}
	if (!strcmp(k, "metadata")) {
		if (!v || !*v)
			return perr(p, "metadata: missing value");
		char *parts[64];
		int np = split_commas(v, parts, 64);
		for (int i = 0; i < np && r->nmeta < OTS_RULE_MAX_META; i++)
			if (*parts[i])
				snprintf(r->meta[r->nmeta++], sizeof(r->meta[0]), "%s", parts[i]);
		return 0;
	}
	if (!strcmp(k, "content"))
		return content_parse(p, v);
	if (!strcmp(k, "nocase") || !strcmp(k, "offset") || !strcmp(k, "depth") || !strcmp(k, "distance") ||
	    !strcmp(k, "within") || !strcmp(k, "fast_pattern"))
		return modifier(p, k, v);
	if (!strcmp(k, "rawbytes"))
		return 0;
	if (!strcmp(k, "pcre"))
		return pcre_parse(p, v);
	if (!strcmp(k, "flow"))
		return flow_parse(p, v);
	if (!strcmp(k, "dsize")) {
		if (!v || !*v)
			return perr(p, "dsize: missing value");
		if (r->dsize.set)
			return perr(p, "dsize given twice");
		if (cmp_parse(v, 65535, &r->dsize))
			return perr(p, "bad dsize '%s'", v);
		return 0;
	}
	if (!strcmp(k, "byte_test"))
		return byte_test_parse(p, v);
	if (!strcmp(k, "byte_jump"))
		return byte_jump_parse(p, v);
	if (!strcmp(k, "isdataat"))
		return isdataat_parse(p, v);
	if (!strcmp(k, "threshold")) {
		if (r->detection_filter.type)
			return perr(p, "threshold and detection_filter cannot be combined");
		return threshold_parse(p, "threshold", v, &r->threshold, 0);
	}
	if (!strcmp(k, "detection_filter")) {
		if (r->threshold.type)
			return perr(p, "threshold and detection_filter cannot be combined");
		return threshold_parse(p, "detection_filter", v, &r->detection_filter, 1);
	}
	if (!strcmp(k, "modbus"))
		return modbus_parse(p, v);
	if (!strcmp(k, "dnp3_func") || !strcmp(k, "dnp3.func") || !strcmp(k, "dnp3_ind") || !strcmp(k, "dnp3.ind") ||
	    !strcmp(k, "dnp3_obj") || !strcmp(k, "dnp3.obj"))
		return dnp3_parse(p, k, v);
	if (!strcmp(k, "enip_command") || !strcmp(k, "cip_service"))
		return enip_parse(p, k, v);
	for (const char *c = k; *c; c++)
		if (!(*c == '_' || *c == '.' || *c == '-' || is_digit((unsigned char)*c) || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z')))
			return perr(p, "bad keyword '%s'", k);
	return punsup(p, k);
}

/* sid of a rule text, even a broken one, for messages: 0 when none found */
static uint32_t scan_sid(const char *t)
{
	for (const char *s = strstr(t, "sid"); s; s = strstr(s + 1, "sid")) {
		const char *b = s;
		while (b > t && is_ws((unsigned char)b[-1]))
			b--;
		if (b > t && b[-1] != ';' && b[-1] != '(')
			continue;
		const char *q = s + 3;
		while (is_ws((unsigned char)*q))
			q++;
		if (*q != ':')
			continue;
		q++;
		while (is_ws((unsigned char)*q))
			q++;
		uint64_t v = 0;
		int nd = 0;
		while (is_digit((unsigned char)*q) && nd < 11) {
			v = v * 10 + (uint64_t)(*q++ - '0');
			nd++;
		}
		if (nd && v <= UINT32_MAX)
			return (uint32_t)v;
	}
	return 0;
}

static void choose_fast(struct ots_rule *r)
{
	int best = -1;
	for (unsigned i = 0; i < r->nopts; i++) {
		const struct ots_opt *o = &r->opts[i];
		if (o->type != OTS_OPT_CONTENT || (o->u.c.flags & OTS_CF_NEGATED))
			continue;
		if (o->u.c.flags & OTS_CF_FAST) {
			best = (int)i;
			break;
		}
		if (best < 0 || o->u.c.len > r->opts[best].u.c.len)
			best = (int)i;
	}
	r->fast = best;
}

static int parse_into(struct pctx *p, char *buf)
{
	struct ots_rule *r = p->r;
	/* ( ... ): the options start at the first '(' (none can occur in the header), end at the last ')' */
	char *lp = strchr(buf, '(');
	if (!lp)
		return perr(p, "missing '(' before the options");
	size_t n = strlen(lp);
	while (n && is_ws((unsigned char)lp[n - 1]))
		n--;
	if (n < 2 || lp[n - 1] != ')')
		return perr(p, "missing closing ')'");
	lp[n - 1] = '\0';
	*lp = '\0';
	char *opts = lp + 1;

	struct kv kv[MAX_OPTIONS];
	int nkv = 0;
	int rc = options_split(p, opts, kv, &nkv);
	if (rc)
		return rc;
	if ((rc = header_parse(p, buf)))
		return rc;
	for (int i = 0; i < nkv; i++)
		if ((rc = option(p, kv[i].k, kv[i].v)))
			return rc;
	if (!p->sid_seen)
		return perr(p, "missing sid");
	if (!p->prio_given && r->classtype[0]) {
		int pr = classtype_prio(r->classtype);
		if (pr)
			r->priority = (uint8_t)pr;
	}
	choose_fast(r);
	return 0;
}

int ots_rule_parse(const char *text, const char *origin, const struct ots_rule_vars *vars, struct ots_rule *out,
		   char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	out->gid = 1;
	out->priority = 3;
	out->fast = -1;
	out->ot.cip_class = out->ot.cip_attribute = -1;
	if (origin)
		snprintf(out->origin, sizeof(out->origin), "%s", origin);
	if (why && whylen)
		why[0] = '\0';
	struct pctx p = { vars, out, why, whylen, -1, 0, 0 };
	if (!text)
		return perr(&p, "empty rule");
	uint32_t sid = scan_sid(text);
	char *buf = strdup(text);
	if (!buf)
		return perr(&p, "out of memory");
	int rc = parse_into(&p, buf);
	free(buf);
	if (rc) {
		ots_rule_free(out);
		out->sid = p.sid_seen ? out->sid : sid;
	}
	return rc;
}

void ots_rule_free(struct ots_rule *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->nopts && i < OTS_RULE_MAX_OPTS; i++) {
		struct ots_opt *o = &r->opts[i];
		if (o->type != OTS_OPT_PCRE)
			continue;
		if (o->u.re.code)
			pcre2_code_free(o->u.re.code);
		if (o->u.re.mctx)
			pcre2_match_context_free(o->u.re.mctx);
		o->u.re.code = NULL;
		o->u.re.mctx = NULL;
	}
}

int ots_rule_fast_pattern(const struct ots_rule *r, const struct ots_content **c)
{
	if (r->fast < 0 || r->fast >= (int)r->nopts || r->opts[r->fast].type != OTS_OPT_CONTENT ||
	    (r->opts[r->fast].u.c.flags & OTS_CF_NEGATED))
		return 0;
	if (c)
		*c = &r->opts[r->fast].u.c;
	return 1;
}

/* ---------------------------------------------------------------- ruleset and files */

void ots_ruleset_init(struct ots_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void ots_ruleset_free(struct ots_ruleset *rs)
{
	for (uint32_t i = 0; i < rs->n; i++)
		ots_rule_free(&rs->rules[i]);
	free(rs->rules);
	memset(rs, 0, sizeof(*rs));
}

static int rs_reserve(struct ots_ruleset *rs)
{
	if (rs->n < rs->cap)
		return 0;
	uint32_t cap = rs->cap ? rs->cap * 2 : 64;
	struct ots_rule *nr = realloc(rs->rules, (size_t)cap * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	rs->rules = nr;
	rs->cap = cap;
	return 0;
}

static int one_rule(struct ots_ruleset *rs, const char *path, unsigned line, const char *text,
		    const struct ots_rule_vars *vars, ots_rule_diag_fn diag, void *ud)
{
	int rc = rs_reserve(rs);
	if (rc)
		return rc;
	char origin[sizeof(rs->rules[0].origin)];
	char why[256];
	snprintf(origin, sizeof(origin), "%s:%u", path, line);
	struct ots_rule *r = &rs->rules[rs->n];
	rs->lines++;
	rc = ots_rule_parse(text, origin, vars, r, why, sizeof(why));
	if (rc == 0) {
		rs->n++;
		return 0;
	}
	if (rc == -ENOTSUP)
		rs->skipped_unsupported++;
	else
		rs->skipped_syntax++;
	if (diag) {
		char msg[512];
		char sid[16] = "?";
		if (r->sid)
			snprintf(sid, sizeof(sid), "%u", r->sid);
		snprintf(msg, sizeof(msg), "%s: sid %s: %s (rule skipped)", origin, sid, why);
		diag(ud, msg);
	}
	return 0;
}

int ots_rules_load_file(struct ots_ruleset *rs, const char *path, const struct ots_rule_vars *vars,
			ots_rule_diag_fn diag, void *ud, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	rs->files++;
	char *line = NULL, *acc = NULL;
	size_t cap = 0, acclen = 0, acccap = 0;
	unsigned lineno = 0, start = 0;
	int rc = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t n = (size_t)got;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		line[n] = '\0';
		char *s = line;
		if (acclen == 0) {
			while (is_ws((unsigned char)*s))
				s++;
			if (!*s || *s == '#')
				continue;
			start = lineno;
		}
		n = strlen(s);
		while (n && is_ws((unsigned char)s[n - 1]))
			n--;
		int cont = n && s[n - 1] == '\\';
		if (cont)
			n--;
		if (acclen + n + 1 > acccap) {
			size_t nc = acccap ? acccap : 1024;
			while (nc < acclen + n + 1)
				nc *= 2;
			char *na = realloc(acc, nc);
			if (!na) {
				rc = -ENOMEM;
				break;
			}
			acc = na;
			acccap = nc;
		}
		memcpy(acc + acclen, s, n);
		acclen += n;
		acc[acclen] = '\0';
		if (cont)
			continue;
		rc = one_rule(rs, path, start, acc, vars, diag, ud);
		acclen = 0;
		if (rc)
			break;
	}
	if (!rc && acclen) /* the file ends inside a continued rule */
		rc = one_rule(rs, path, start, acc, vars, diag, ud);
	if (!rc && ferror(f))
		rc = -EIO;
	if (rc && err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	free(line);
	free(acc);
	fclose(f);
	return rc;
}
