/* detect/sigdb.c - rule groups, Hyperscan literal databases, the serialized cache, per-worker scan (sigdb.h).
 *
 * Layout:
 *  - group = (transport, app): transports TCP, UDP, ICMP, OTHER (the last two only with app 0). A packet's group
 *    comes from (p->l4, p->app); the group enforces the rule's protocol (ots_rule_match_header does not).
 *  - groups whose rule lists are identical share one "unit": one Hyperscan database, its pattern id -> rules
 *    table and its always-verify list. A ruleset of "any"-port rules thus compiles once per transport, not once
 *    per application protocol.
 *  - Within a unit, identical fast patterns (bytes, or bytes folded when nocase, + nocase flag) get one
 *    Hyperscan id that maps to every rule carrying it.
 *  - No HS_FLAG_SINGLEMATCH: with stream context (pkt_off > 0) the first match of a pattern may lie wholly in
 *    the carried tail and must be dropped; SINGLEMATCH would then hide a later match in the new bytes. Repeats
 *    of an id are cut in the callback by a per-scan stamp instead.
 */
#include "detect/sigdb.h"
#include "detect/fnv.h"

#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "protocols/registry.h"

enum { T_TCP = 0, T_UDP, T_ICMP, T_OTHER, T_MAX };
#define NGROUPS (T_MAX * OTS_APP_MAX)
#define PORT_ENUM_MAX 16 /* a port list with more ports than this joins every group of its transport */

struct sig_unit {
	hs_database_t *hs;       /* NULL when the unit has no fast pattern */
	uint32_t npat;
	uint32_t *pat_first;     /* npat + 1 offsets into pat_rules */
	uint32_t *pat_rules;     /* rule indices, pass rules of an id first */
	const struct ots_content **pat_c; /* representative content per id (compile, hash) */
	uint32_t nnofp;
	uint32_t *nofp;          /* rules verified on every packet of the unit's groups */
	uint32_t nmemb;
	uint32_t *memb;          /* every rule of the unit (build only: dedupe of groups) */
	uint64_t key;
};

/* A fast pattern shorter than this is not worth a Hyperscan prefilter: a 1-2 byte literal ("|00 00|", "|81|")
 * occurs in nearly every OT packet, so its rule is verified on every packet of its group instead, behind the
 * cheap anchor check below (unless the rule names its fast_pattern explicitly). */
#define MIN_FP 3
#define MAX_ANCHORS 3

/* contents a rule requires at an exact position (offset N; depth = length), checked before the full verify */
struct anchor {
	uint8_t n;
	struct {
		uint16_t off;
		uint8_t len;
		uint8_t b[4];
	} a[MAX_ANCHORS];
};

static int prefilter_fp(const struct ots_rule *r, const struct ots_content **c)
{
	return ots_rule_fast_pattern(r, c) == 1 && *c && (*c)->len > 0 &&
	       ((*c)->len >= MIN_FP || ((*c)->flags & OTS_CF_FAST));
}

static void anchors_of(const struct ots_rule *r, struct anchor *an)
{
	an->n = 0;
	for (unsigned i = 0; i < r->nopts && an->n < MAX_ANCHORS; i++) {
		const struct ots_opt *o = &r->opts[i];
		if (o->type != OTS_OPT_CONTENT)
			continue;
		const struct ots_content *c = &o->u.c;
		if ((c->flags & (OTS_CF_NEGATED | OTS_CF_NOCASE | OTS_CF_RELATIVE)) ||
		    (c->flags & (OTS_CF_OFFSET | OTS_CF_DEPTH)) != (OTS_CF_OFFSET | OTS_CF_DEPTH) || c->depth != c->len ||
		    c->len > 4 || c->offset < 0 || c->offset > 65535)
			continue;
		an->a[an->n].off = (uint16_t)c->offset;
		an->a[an->n].len = (uint8_t)c->len;
		memcpy(an->a[an->n].b, c->pat, c->len);
		an->n++;
	}
}

static inline int anchors_ok(const struct anchor *an, const struct ots_match_in *in)
{
	for (unsigned i = 0; i < an->n; i++) {
		uint32_t at = in->pkt_off + an->a[i].off;
		if (at + an->a[i].len > in->len || memcmp(in->buf + at, an->a[i].b, an->a[i].len))
			return 0;
	}
	return 1;
}

/* a PDU rule's hot fields, contiguous; each app's list is sorted (pass rules first) by the PDU code the rule's OT
 * keywords pin (NO_CODE last), so a PDU looks at the rules of its own code and the unpinned ones, not all */
#define NO_CODE UINT32_MAX
#define PDU_MAX_CODES 16 /* a rule allowing more codes is checked on every PDU of its protocol */

struct pdu_pre {
	uint32_t code;           /* the pdu->code this rule requires, NO_CODE when any */
	uint32_t rule;           /* index in the ruleset */
	uint8_t l4, flow, mb_func, mb_func_neg, mb_func_cat, dnp3_func, cip_service, pass;
	uint16_t app, enip_command;
	uint32_t keys;
};

struct ots_sigdb {
	const struct ots_ruleset *rs;
	uint32_t nrules;
	uint8_t *is_pass;                /* per rule */
	int32_t group_unit[NGROUPS];     /* -1 = empty group */
	struct sig_unit *units;
	uint32_t nunits;
	uint32_t max_pat;
	struct anchor *anchors;          /* per rule */
	struct pdu_pre *pre[OTS_APP_MAX]; /* per app: OT rules, pass rules first, each part sorted by code */
	uint32_t npdu[OTS_APP_MAX], npdu_pass[OTS_APP_MAX];
	hs_scratch_t *scratch;           /* prototype, cloned per worker */
	uint32_t overlap;
};

struct ots_sigscan {
	const struct ots_sigdb *db;
	hs_scratch_t *scratch;
	void *md;
	uint32_t gen;
	uint32_t *rule_gen;   /* nrules */
	uint32_t *pat_gen;    /* max_pat */
	uint32_t *cand;       /* nrules: pass rules from the front, the others from the back */
	uint32_t npass, nother;
	const struct sig_unit *u; /* callback context of the current scan */
	uint32_t pkt_off;
};

/* ---- small helpers ---- */


static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct u32vec {
	uint32_t *v;
	uint32_t n, cap;
};

static int vpush(struct u32vec *a, uint32_t x)
{
	if (a->n == a->cap) {
		uint32_t cap = a->cap ? a->cap * 2 : 16;
		uint32_t *v = realloc(a->v, (size_t)cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static void warn_add(struct ots_sigdb_report *rep, const char *msg)
{
	size_t l = strlen(rep->warning);
	if (l)
		snprintf(rep->warning + l, sizeof(rep->warning) - l, "; %s", msg);
	else
		snprintf(rep->warning, sizeof(rep->warning), "%s", msg);
}

/* ---- grouping ---- */

typedef uint8_t gset_t[NGROUPS];

static void add_transport(gset_t g, int t)
{
	int napps = (t == T_TCP || t == T_UDP) ? OTS_APP_MAX : 1;
	for (int a = 0; a < napps; a++)
		g[t * OTS_APP_MAX + a] = 1;
}

/* ports of a list that names a few specific ports: count, or -1 when it is any / negated / wide */
static int port_enum(const struct ots_port_set *ps, uint16_t *out)
{
	if (ps->any || ps->nneg || !ps->npos)
		return -1;
	int n = 0;
	for (unsigned i = 0; i < ps->npos; i++) {
		if (ps->pos[i].hi < ps->pos[i].lo)
			return -1;
		if ((uint32_t)(ps->pos[i].hi - ps->pos[i].lo) + 1 > (uint32_t)(PORT_ENUM_MAX - n))
			return -1;
		for (uint32_t p = ps->pos[i].lo; p <= ps->pos[i].hi; p++)
			out[n++] = (uint16_t)p;
	}
	return n;
}

static void rule_groups(const struct ots_rule *r, gset_t g)
{
	memset(g, 0, sizeof(gset_t));
	if (r->app != OTS_APP_UNKNOWN && r->app < OTS_APP_MAX) {
		unsigned tr = ots_protocols[r->app].transports; /* the app's transports, whatever r->l4 says */
		if (!tr) /* classified by probe only: wherever it may appear */
			tr = OTS_T_TCP | OTS_T_UDP;
		if (tr & OTS_T_TCP)
			g[T_TCP * OTS_APP_MAX + r->app] = 1;
		if (tr & OTS_T_UDP)
			g[T_UDP * OTS_APP_MAX + r->app] = 1;
		return;
	}
	switch (r->l4) {
	case OTS_RL4_TCP:
	case OTS_RL4_UDP: {
		int t = r->l4 == OTS_RL4_TCP ? T_TCP : T_UDP;
		uint8_t ipp = r->l4 == OTS_RL4_TCP ? 6 : 17;
		uint16_t sp[PORT_ENUM_MAX], dp[PORT_ENUM_MAX];
		int ns = port_enum(&r->sport, sp), nd = port_enum(&r->dport, dp);
		if (ns < 0 && nd < 0) {
			add_transport(g, t);
		} else if (ns >= 0 && nd >= 0) {
			for (int i = 0; i < ns; i++)
				for (int j = 0; j < nd; j++)
					g[t * OTS_APP_MAX + ots_registry_classify(ipp, sp[i], dp[j])] = 1;
		} else {
			const uint16_t *p = ns >= 0 ? sp : dp;
			int n = ns >= 0 ? ns : nd;
			for (int i = 0; i < n; i++)
				g[t * OTS_APP_MAX + ots_registry_classify(ipp, p[i], p[i])] = 1;
		}
		break;
	}
	case OTS_RL4_ICMP:
		add_transport(g, T_ICMP);
		break;
	default:
		for (int t = 0; t < T_MAX; t++)
			add_transport(g, t);
		break;
	}
}

/* application protocol whose PDUs an OT rule inspects */
static int pdu_apps(const struct ots_rule *r, uint16_t *apps)
{
	if (r->app != OTS_APP_UNKNOWN && r->app < OTS_APP_MAX) {
		apps[0] = r->app;
		return 1;
	}
	uint32_t k = r->ot.keys;
	if (k & (OTS_OTK_MODBUS_FUNC | OTS_OTK_MODBUS_SUB | OTS_OTK_MODBUS_UNIT | OTS_OTK_MODBUS_ACCESS)) {
		apps[0] = OTS_APP_MODBUS;
		return 1;
	}
	if (k & (OTS_OTK_DNP3_FUNC | OTS_OTK_DNP3_IND | OTS_OTK_DNP3_OBJ)) {
		apps[0] = OTS_APP_DNP3;
		return 1;
	}
	apps[0] = OTS_APP_ENIP;
	apps[1] = OTS_APP_ENIP_IO;
	return 2;
}

/* ---- fast patterns of one unit ---- */

struct fp_ent {
	uint32_t rule;
	uint8_t pass;
	const struct ots_content *c;
};

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int pat_cmp(const struct ots_content *a, const struct ots_content *b)
{
	int na = !!(a->flags & OTS_CF_NOCASE), nb = !!(b->flags & OTS_CF_NOCASE);
	if (na != nb)
		return na - nb;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	for (unsigned i = 0; i < a->len; i++) {
		int x = na ? lc(a->pat[i]) : a->pat[i], y = na ? lc(b->pat[i]) : b->pat[i];
		if (x != y)
			return x - y;
	}
	return 0;
}

static int fp_cmp(const void *pa, const void *pb)
{
	const struct fp_ent *a = pa, *b = pb;
	int c = pat_cmp(a->c, b->c);
	if (c)
		return c;
	if (a->pass != b->pass)
		return a->pass ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static int unit_prepare(struct sig_unit *u, const struct ots_ruleset *rs, const uint8_t *is_pass)
{
	struct fp_ent *e = malloc((size_t)(u->nmemb ? u->nmemb : 1) * sizeof(*e));
	u->nofp = malloc((size_t)(u->nmemb ? u->nmemb : 1) * sizeof(uint32_t));
	if (!e || !u->nofp) {
		free(e);
		return -ENOMEM;
	}
	uint32_t ne = 0;
	for (uint32_t i = 0; i < u->nmemb; i++) {
		const struct ots_content *c = NULL;
		uint32_t ri = u->memb[i];
		if (prefilter_fp(&rs->rules[ri], &c))
			e[ne++] = (struct fp_ent){ ri, is_pass[ri], c };
		else
			u->nofp[u->nnofp++] = ri;
	}
	qsort(e, ne, sizeof(*e), fp_cmp);
	u->pat_first = malloc((size_t)(ne + 1) * sizeof(uint32_t));
	u->pat_rules = malloc((size_t)(ne ? ne : 1) * sizeof(uint32_t));
	u->pat_c = malloc((size_t)(ne ? ne : 1) * sizeof(*u->pat_c));
	if (!u->pat_first || !u->pat_rules || !u->pat_c) {
		free(e);
		return -ENOMEM;
	}
	u->npat = 0;
	for (uint32_t i = 0; i < ne; i++) {
		if (i == 0 || pat_cmp(e[i - 1].c, e[i].c) != 0) {
			u->pat_first[u->npat] = i;
			u->pat_c[u->npat] = e[i].c;
			u->npat++;
		}
		u->pat_rules[i] = e[i].rule;
	}
	u->pat_first[u->npat] = ne;
	free(e);
	return 0;
}

static uint64_t unit_hash(uint64_t h, const struct sig_unit *u, uint32_t idx)
{
	h = ots_fnv1a(h, &idx, sizeof(idx));
	h = ots_fnv1a(h, &u->npat, sizeof(u->npat));
	for (uint32_t id = 0; id < u->npat; id++) {
		const struct ots_content *c = u->pat_c[id];
		uint32_t fl = (c->flags & OTS_CF_NOCASE) ? 1 : 0, len = c->len;
		h = ots_fnv1a(h, &id, sizeof(id));
		h = ots_fnv1a(h, &fl, sizeof(fl));
		h = ots_fnv1a(h, &len, sizeof(len));
		h = ots_fnv1a(h, c->pat, len);
	}
	return h;
}

static int unit_compile(struct sig_unit *u, const struct ots_ruleset *rs, char *err, size_t errlen)
{
	const char **pats = malloc((size_t)u->npat * sizeof(*pats));
	unsigned *flags = malloc((size_t)u->npat * sizeof(*flags));
	unsigned *ids = malloc((size_t)u->npat * sizeof(*ids));
	size_t *lens = malloc((size_t)u->npat * sizeof(*lens));
	int rc = 0;
	if (!pats || !flags || !ids || !lens) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory compiling signatures");
		goto out;
	}
	for (uint32_t id = 0; id < u->npat; id++) {
		pats[id] = (const char *)u->pat_c[id]->pat;
		flags[id] = (u->pat_c[id]->flags & OTS_CF_NOCASE) ? HS_FLAG_CASELESS : 0;
		ids[id] = id;
		lens[id] = u->pat_c[id]->len;
	}
	hs_compile_error_t *ce = NULL;
	if (hs_compile_lit_multi(pats, flags, ids, lens, u->npat, HS_MODE_BLOCK, NULL, &u->hs, &ce) !=
	    HS_SUCCESS) {
		if (ce && ce->expression >= 0 && (uint32_t)ce->expression < u->npat)
			snprintf(err, errlen, "hyperscan: %s (rule sid %u)", ce->message,
				 rs->rules[u->pat_rules[u->pat_first[ce->expression]]].sid);
		else
			snprintf(err, errlen, "hyperscan: %s", ce && ce->message ? ce->message : "compile failed");
		hs_free_compile_error(ce);
		u->hs = NULL;
		rc = -EINVAL;
	}
out:
	free(pats);
	free(flags);
	free(ids);
	free(lens);
	return rc;
}

/* ---- cache file ---- */

#define CACHE_MAGIC "OTSHSDB1"
#define CACHE_HDR 32 /* magic 8, hash 8, entries 4, reserved 4, body checksum 8 */

static int mkdir_p(const char *dir)
{
	char tmp[512];
	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t units_with_db(const struct ots_sigdb *db)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < db->nunits; i++)
		n += db->units[i].npat > 0;
	return n;
}

/* 0 loaded, -ENOENT no file, other < 0: corrupt (why filled) */
static int cache_load(struct ots_sigdb *db, const char *path, uint64_t hash, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? -ENOENT : (snprintf(why, whylen, "cannot read: %s", strerror(errno)), -EIO);
	uint8_t *buf = NULL;
	long sz = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		sz = ftell(f);
	int rc = -EINVAL;
	if (sz < CACHE_HDR || fseek(f, 0, SEEK_SET) != 0) {
		snprintf(why, whylen, "truncated");
		goto out;
	}
	buf = malloc((size_t)sz);
	if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		snprintf(why, whylen, "cannot read");
		goto out;
	}
	if (memcmp(buf, CACHE_MAGIC, 8) != 0 || get64(buf + 8) != hash || get32(buf + 16) != units_with_db(db)) {
		snprintf(why, whylen, "bad header");
		goto out;
	}
	if (ots_fnv1a(OTS_FNV1A_SEED, buf + CACHE_HDR, (size_t)sz - CACHE_HDR) != get64(buf + 24)) {
		snprintf(why, whylen, "bad checksum");
		goto out;
	}
	size_t off = CACHE_HDR;
	for (uint32_t i = 0; i < db->nunits; i++) {
		struct sig_unit *u = &db->units[i];
		if (!u->npat)
			continue;
		if ((size_t)sz - off < 16 || get32(buf + off) != i) {
			snprintf(why, whylen, "bad entry");
			goto out;
		}
		uint64_t len = get64(buf + off + 8);
		off += 16;
		if (len > (uint64_t)sz - off) {
			snprintf(why, whylen, "bad entry length");
			goto out;
		}
		if (hs_deserialize_database((const char *)buf + off, (size_t)len, &u->hs) != HS_SUCCESS) {
			u->hs = NULL;
			snprintf(why, whylen, "database does not load");
			goto out;
		}
		off += (size_t)len;
	}
	rc = off == (size_t)sz ? 0 : (snprintf(why, whylen, "trailing bytes"), -EINVAL);
out:
	if (rc < 0)
		for (uint32_t i = 0; i < db->nunits; i++)
			if (db->units[i].hs) {
				hs_free_database(db->units[i].hs);
				db->units[i].hs = NULL;
			}
	free(buf);
	fclose(f);
	return rc;
}

static int cache_write(const struct ots_sigdb *db, const char *dir, const char *path, uint64_t hash, char *why,
		       size_t whylen)
{
	int rc = mkdir_p(dir);
	if (rc < 0) {
		snprintf(why, whylen, "cannot create directory: %s", strerror(-rc));
		return rc;
	}
	uint32_t n = units_with_db(db);
	char **ser = calloc(db->nunits ? db->nunits : 1, sizeof(*ser));
	size_t *len = calloc(db->nunits ? db->nunits : 1, sizeof(*len));
	uint8_t *buf = NULL;
	size_t total = CACHE_HDR;
	rc = -ENOMEM;
	if (!ser || !len)
		goto out;
	for (uint32_t i = 0; i < db->nunits; i++) {
		if (!db->units[i].npat)
			continue;
		if (hs_serialize_database(db->units[i].hs, &ser[i], &len[i]) != HS_SUCCESS) {
			snprintf(why, whylen, "cannot serialize database");
			rc = -EINVAL;
			goto out;
		}
		total += 16 + len[i];
	}
	buf = malloc(total);
	if (!buf)
		goto out;
	memcpy(buf, CACHE_MAGIC, 8);
	put64(buf + 8, hash);
	put32(buf + 16, n);
	put32(buf + 20, 0);
	size_t off = CACHE_HDR;
	for (uint32_t i = 0; i < db->nunits; i++) {
		if (!db->units[i].npat)
			continue;
		put32(buf + off, i);
		put32(buf + off + 4, 0);
		put64(buf + off + 8, len[i]);
		memcpy(buf + off + 16, ser[i], len[i]);
		off += 16 + len[i];
	}
	put64(buf + 24, ots_fnv1a(OTS_FNV1A_SEED, buf + CACHE_HDR, total - CACHE_HDR));

	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	size_t done = 0;
	while (done < total) {
		ssize_t w = write(fd, buf + done, total - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int e = done == total ? 0 : (errno ? errno : EIO);
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		snprintf(why, whylen, "%s", strerror(e));
		rc = -e;
		goto out;
	}
	rc = 0;
out:
	if (rc == -ENOMEM && !why[0])
		snprintf(why, whylen, "out of memory");
	if (ser)
		for (uint32_t i = 0; i < db->nunits; i++)
			free(ser[i]); /* hs default allocator is malloc */
	free(ser);
	free(len);
	free(buf);
	return rc;
}

/* ---- build ---- */

void ots_sigdb_free(struct ots_sigdb *db)
{
	if (!db)
		return;
	for (uint32_t i = 0; i < db->nunits; i++) {
		struct sig_unit *u = &db->units[i];
		if (u->hs)
			hs_free_database(u->hs);
		free(u->pat_first);
		free(u->pat_rules);
		free(u->pat_c);
		free(u->nofp);
		free(u->memb);
	}
	free(db->units);
	for (int a = 0; a < OTS_APP_MAX; a++) {
		free(db->pre[a]);
	}
	if (db->scratch)
		hs_free_scratch(db->scratch);
	free(db->is_pass);
	free(db->anchors);
	free(db);
}

/* pass rules first, then by code (NO_CODE last), then rule order */
static int pre_cmp(const void *a, const void *b)
{
	const struct pdu_pre *x = a, *y = b;
	if (x->pass != y->pass)
		return x->pass ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int build_groups(struct ots_sigdb *db, struct ots_sigdb_report *rep, char *err, size_t errlen)
{
	const struct ots_ruleset *rs = db->rs;
	struct u32vec *gl = calloc(NGROUPS, sizeof(*gl));
	struct u32vec pdu[OTS_APP_MAX];
	gset_t g;
	int rc = -ENOMEM;
	memset(pdu, 0, sizeof(pdu));
	if (!gl)
		goto out;
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct ots_rule *r = &rs->rules[i];
		if (r->ot.keys) {
			uint16_t apps[2];
			int na = pdu_apps(r, apps);
			for (int k = 0; k < na; k++)
				if (vpush(&pdu[apps[k]], i) < 0)
					goto out;
			rep->rules_pdu++;
			rep->rules++;
			continue;
		}
		rule_groups(r, g);
		int placed = 0;
		for (int k = 0; k < NGROUPS; k++)
			if (g[k]) {
				if (vpush(&gl[k], i) < 0)
					goto out;
				placed = 1;
			}
		if (placed) {
			rep->rules++;
			const struct ots_content *c = NULL;
			if (prefilter_fp(r, &c)) {
				if (c->len - 1u > db->overlap)
					db->overlap = c->len - 1u;
			} else {
				rep->rules_no_fp++;
			}
		}
	}
	if (db->overlap > 255)
		db->overlap = 255;

	/* PDU lists: one entry per (rule, code it allows), pass rules first, each part sorted by code */
	for (int a = 0; a < OTS_APP_MAX; a++) {
		if (!pdu[a].n)
			continue;
		uint32_t cap = pdu[a].n * PDU_MAX_CODES, n = 0;
		db->pre[a] = calloc(cap, sizeof(struct pdu_pre));
		if (!db->pre[a])
			goto out;
		for (uint32_t k = 0; k < pdu[a].n; k++) {
			const struct ots_rule *r = &rs->rules[pdu[a].v[k]];
			uint32_t codes[PDU_MAX_CODES];
			unsigned nc = ots_rule_pdu_codes(r, codes, PDU_MAX_CODES);
			for (unsigned j = 0; j < (nc ? nc : 1); j++) {
				struct pdu_pre *q = &db->pre[a][n++];
				q->code = nc ? codes[j] : NO_CODE;
				q->rule = pdu[a].v[k];
				q->pass = db->is_pass[q->rule];
				q->l4 = r->l4;
				q->flow = r->flow;
				q->app = r->app;
				q->keys = r->ot.keys;
				q->mb_func = r->ot.mb_func;
				q->mb_func_neg = r->ot.mb_func_neg;
				q->mb_func_cat = r->ot.mb_func_cat;
				q->dnp3_func = r->ot.dnp3_func;
				q->enip_command = r->ot.enip_command;
				q->cip_service = r->ot.cip_service;
				db->npdu_pass[a] += q->pass;
			}
		}
		qsort(db->pre[a], n, sizeof(struct pdu_pre), pre_cmp);
		db->npdu[a] = n;
	}

	/* groups with identical rule lists share a unit */
	db->units = calloc(NGROUPS, sizeof(*db->units));
	if (!db->units)
		goto out;
	for (int k = 0; k < NGROUPS; k++) {
		db->group_unit[k] = -1;
		if (!gl[k].n)
			continue;
		rep->groups++;
		uint64_t key = ots_fnv1a(OTS_FNV1A_SEED, gl[k].v, (size_t)gl[k].n * sizeof(uint32_t));
		uint32_t u;
		for (u = 0; u < db->nunits; u++)
			if (db->units[u].key == key && db->units[u].nmemb == gl[k].n &&
			    memcmp(db->units[u].memb, gl[k].v, (size_t)gl[k].n * sizeof(uint32_t)) == 0)
				break;
		if (u == db->nunits) {
			db->units[u].key = key;
			db->units[u].nmemb = gl[k].n;
			db->units[u].memb = gl[k].v;
			gl[k].v = NULL;
			db->nunits++;
		}
		db->group_unit[k] = (int32_t)u;
	}
	for (uint32_t u = 0; u < db->nunits; u++) {
		if (unit_prepare(&db->units[u], rs, db->is_pass) < 0)
			goto out;
		rep->patterns += db->units[u].npat;
		rep->databases += db->units[u].npat > 0;
		if (db->units[u].npat > db->max_pat)
			db->max_pat = db->units[u].npat;
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory grouping signatures");
	if (gl)
		for (int k = 0; k < NGROUPS; k++)
			free(gl[k].v);
	free(gl);
	for (int a = 0; a < OTS_APP_MAX; a++)
		free(pdu[a].v);
	return rc;
}

static uint64_t ruleset_hash(const struct ots_sigdb *db)
{
	hs_platform_info_t plat;
	memset(&plat, 0, sizeof(plat));
	hs_populate_platform(&plat);
	const char *ver = hs_version();
	uint64_t h = ots_fnv1a(OTS_FNV1A_SEED, ver, strlen(ver));
	h = ots_fnv1a(h, &plat.tune, sizeof(plat.tune));
	h = ots_fnv1a(h, &plat.cpu_features, sizeof(plat.cpu_features));
	h = ots_fnv1a(h, &db->nunits, sizeof(db->nunits));
	for (uint32_t u = 0; u < db->nunits; u++)
		h = unit_hash(h, &db->units[u], u);
	return h;
}

int ots_sigdb_build(const struct ots_ruleset *rs, const struct ots_sigdb_opts *opts, struct ots_sigdb **out,
		    struct ots_sigdb_report *rep, char *err, size_t errlen)
{
	struct ots_sigdb_report dummy;
	char why[200];
	int rc;
	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	if (err && errlen)
		err[0] = 0;
	*out = NULL;
	char errbuf[256];
	if (!err || !errlen) {
		err = errbuf;
		errlen = sizeof(errbuf);
	}
	ots_registry_init();

	struct ots_sigdb *db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	db->rs = rs;
	db->nrules = rs->n;
	db->is_pass = calloc(rs->n ? rs->n : 1, 1);
	db->anchors = calloc(rs->n ? rs->n : 1, sizeof(*db->anchors));
	if (!db->is_pass || !db->anchors) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < rs->n; i++) {
		db->is_pass[i] = rs->rules[i].action == OTS_ACT_PASS;
		anchors_of(&rs->rules[i], &db->anchors[i]);
	}
	rc = build_groups(db, rep, err, errlen);
	if (rc < 0)
		goto fail;

	const char *dir = opts && opts->cache_dir && opts->cache_dir[0] ? opts->cache_dir : NULL;
	uint64_t hash = 0;
	int loaded = 0;
	double t0 = now_ms();
	if (dir && units_with_db(db)) {
		hash = ruleset_hash(db);
		snprintf(rep->cache_path, sizeof(rep->cache_path), "%s/otsense-%016llx.hsdb", dir,
			 (unsigned long long)hash);
		why[0] = 0;
		int lr = cache_load(db, rep->cache_path, hash, why, sizeof(why));
		if (lr == 0) {
			loaded = 1;
		} else if (lr != -ENOENT) {
			char w[256];
			snprintf(w, sizeof(w), "signature cache %.150s: %.60s, recompiled", rep->cache_path, why);
			warn_add(rep, w);
		}
	}
	if (!loaded) {
		for (uint32_t u = 0; u < db->nunits; u++)
			if (db->units[u].npat && (rc = unit_compile(&db->units[u], rs, err, errlen)) < 0)
				goto fail;
	}
	/* one prototype scratch big enough for every database */
	for (uint32_t u = 0; u < db->nunits; u++) {
		if (!db->units[u].hs)
			continue;
		if (hs_alloc_scratch(db->units[u].hs, &db->scratch) != HS_SUCCESS) {
			snprintf(err, errlen, "hyperscan: cannot allocate scratch");
			rc = -ENOMEM;
			goto fail;
		}
		size_t sz = 0;
		if (hs_database_size(db->units[u].hs, &sz) == HS_SUCCESS)
			rep->db_bytes += sz;
	}
	rep->compile_ms = now_ms() - t0;
	rep->cache_hit = loaded;
	if (dir && !loaded && units_with_db(db)) {
		why[0] = 0;
		if (cache_write(db, dir, rep->cache_path, hash, why, sizeof(why)) < 0) {
			char w[256];
			snprintf(w, sizeof(w), "signature cache %.150s not written: %.60s", rep->cache_path, why);
			warn_add(rep, w);
		}
	}
	*out = db;
	return 0;
fail:
	ots_sigdb_free(db);
	return rc;
}

/* ---- per worker ---- */

int ots_sigscan_create(const struct ots_sigdb *db, struct ots_sigscan **out)
{
	*out = NULL;
	struct ots_sigscan *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->db = db;
	s->rule_gen = calloc(db->nrules ? db->nrules : 1, sizeof(uint32_t));
	s->cand = calloc(db->nrules ? db->nrules : 1, sizeof(uint32_t));
	s->pat_gen = calloc(db->max_pat ? db->max_pat : 1, sizeof(uint32_t));
	s->md = ots_pcre_md_create();
	if (!s->rule_gen || !s->cand || !s->pat_gen || !s->md)
		goto fail;
	if (db->scratch && hs_clone_scratch(db->scratch, &s->scratch) != HS_SUCCESS)
		goto fail;
	*out = s;
	return 0;
fail:
	ots_sigscan_free(s);
	return -ENOMEM;
}

void ots_sigscan_free(struct ots_sigscan *s)
{
	if (!s)
		return;
	if (s->scratch)
		hs_free_scratch(s->scratch);
	if (s->md)
		ots_pcre_md_free(s->md);
	free(s->rule_gen);
	free(s->cand);
	free(s->pat_gen);
	free(s);
}

static int group_of(uint8_t l4, uint16_t app)
{
	switch (l4) {
	case OTS_RL4_TCP:
		return T_TCP * OTS_APP_MAX + (app < OTS_APP_MAX ? app : 0);
	case OTS_RL4_UDP:
		return T_UDP * OTS_APP_MAX + (app < OTS_APP_MAX ? app : 0);
	case OTS_RL4_ICMP:
		return T_ICMP * OTS_APP_MAX;
	default:
		return T_OTHER * OTS_APP_MAX;
	}
}

int ots_sigdb_wants(const struct ots_sigdb *db, uint8_t l4, uint16_t app)
{
	return db && db->group_unit[group_of(l4, app)] >= 0;
}

static uint32_t code_lower(const struct pdu_pre *pre, uint32_t lo, uint32_t hi, uint32_t code);

int ots_sigdb_wants_code(const struct ots_sigdb *db, uint16_t app, uint32_t code)
{
	if (!db || app >= OTS_APP_MAX || !db->npdu[app])
		return 0;
	const struct pdu_pre *pre = db->pre[app];
	for (int part = 0; part < 2; part++) {
		uint32_t lo = part ? db->npdu_pass[app] : 0, hi = part ? db->npdu[app] : db->npdu_pass[app];
		if (lo == hi)
			continue;
		if (pre[hi - 1].code == NO_CODE) /* unpinned rules see every code */
			return 1;
		uint32_t k = code_lower(pre, lo, hi, code);
		if (k < hi && pre[k].code == code)
			return 1;
	}
	return 0;
}

int ots_sigdb_wants_pdu(const struct ots_sigdb *db, uint16_t app)
{
	return db && app < OTS_APP_MAX && db->npdu[app] > 0;
}

uint32_t ots_sigdb_overlap(const struct ots_sigdb *db)
{
	return db ? db->overlap : 0;
}

static void next_gen(struct ots_sigscan *s)
{
	if (++s->gen == 0) { /* wrapped: once every 2^32 scans */
		memset(s->rule_gen, 0, (size_t)(s->db->nrules ? s->db->nrules : 1) * sizeof(uint32_t));
		memset(s->pat_gen, 0, (size_t)(s->db->max_pat ? s->db->max_pat : 1) * sizeof(uint32_t));
		s->gen = 1;
	}
	s->npass = s->nother = 0;
}

static inline void add_cand(struct ots_sigscan *s, uint32_t ri)
{
	if (s->rule_gen[ri] == s->gen)
		return;
	s->rule_gen[ri] = s->gen;
	if (s->db->is_pass[ri])
		s->cand[s->npass++] = ri;
	else
		s->cand[s->db->nrules - 1 - s->nother++] = ri;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
		    void *ctx)
{
	struct ots_sigscan *s = ctx;
	(void)from;
	(void)flags;
	if (to <= s->pkt_off || s->pat_gen[id] == s->gen)
		return 0;
	s->pat_gen[id] = s->gen;
	const struct sig_unit *u = s->u;
	for (uint32_t k = u->pat_first[id]; k < u->pat_first[id + 1]; k++)
		add_cand(s, u->pat_rules[k]);
	return 0;
}

static inline int verify(const struct ots_rule *r, const struct ots_sig_pkt *p, const struct ots_match_in *in)
{
	return ots_rule_match_header(r, p->family, p->sip, p->sport, p->dip, p->dport) && ots_rule_match(r, in);
}

/* first index in [lo, hi) whose code is >= code (the part is sorted by code) */
static uint32_t code_lower(const struct pdu_pre *pre, uint32_t lo, uint32_t hi, uint32_t code)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pre[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* necessary conditions of a PDU rule from its compact copy: 0 = cannot match */
static inline int pre_ok(const struct pdu_pre *q, const struct ots_sig_pkt *p, const struct ots_pdu *pdu)
{
	if ((q->l4 == OTS_RL4_TCP || q->l4 == OTS_RL4_UDP) && p->l4 != q->l4)
		return 0;
	if (((q->flow & OTS_FLOW_TO_SERVER) && !p->in.to_server) || ((q->flow & OTS_FLOW_TO_CLIENT) && p->in.to_server))
		return 0;
	if (q->app != OTS_APP_UNKNOWN && pdu->proto != q->app)
		return 0;
	if ((q->keys & OTS_OTK_MODBUS_FUNC) && !q->mb_func_cat && !q->mb_func_neg && pdu->code != q->mb_func)
		return 0;
	if ((q->keys & OTS_OTK_DNP3_FUNC) && pdu->code != q->dnp3_func)
		return 0;
	if ((q->keys & OTS_OTK_ENIP_COMMAND) && pdu->code != q->enip_command)
		return 0;
	if ((q->keys & OTS_OTK_CIP_SERVICE) && pdu->code != (0x10000u | (q->cip_service & 0x7fu)))
		return 0;
	return 1;
}

/* PDU rules are not grouped by transport: "alert udp ... (dnp3_func:...)" must not fire on DNP3 over TCP */
static inline int verify_pdu(const struct ots_rule *r, const struct ots_sig_pkt *p, const struct ots_match_in *in)
{
	if ((r->l4 == OTS_RL4_TCP || r->l4 == OTS_RL4_UDP) && p->l4 != r->l4)
		return 0;
	return ots_rule_match(r, in) && ots_rule_match_header(r, p->family, p->sip, p->sport, p->dip, p->dport);
}

int ots_sigdb_scan(const struct ots_sigdb *db, struct ots_sigscan *s, const struct ots_sig_pkt *p,
		   ots_sig_hit_fn hit, void *ud)
{
	int32_t ui = db->group_unit[group_of(p->l4, p->app)];
	if (ui < 0)
		return 0;
	const struct sig_unit *u = &db->units[ui];
	next_gen(s);
	if (u->hs && p->in.len > p->in.pkt_off) {
		s->u = u;
		s->pkt_off = p->in.pkt_off;
		hs_scan(u->hs, (const char *)p->in.buf, p->in.len, 0, s->scratch, on_match, s);
	}
	for (uint32_t k = 0; k < u->nnofp; k++)
		if (anchors_ok(&db->anchors[u->nofp[k]], &p->in))
			add_cand(s, u->nofp[k]);
	if (!s->npass && !s->nother)
		return 0;

	struct ots_match_in in = p->in;
	in.pcre_md = s->md;
	const struct ots_rule *rules = db->rs->rules;
	for (uint32_t k = 0; k < s->npass; k++)
		if (verify(&rules[s->cand[k]], p, &in))
			return 0;
	int n = 0;
	for (uint32_t k = 0; k < s->nother; k++) {
		const struct ots_rule *r = &rules[s->cand[db->nrules - 1 - k]];
		if (verify(r, p, &in)) {
			if (hit)
				hit(ud, r);
			n++;
		}
	}
	return n;
}

int ots_sigdb_pdu(const struct ots_sigdb *db, struct ots_sigscan *s, const struct ots_sig_pkt *p,
		  ots_sig_hit_fn hit, void *ud)
{
	uint16_t app = p->in.pdu ? p->in.pdu->proto : p->app;
	if (app >= OTS_APP_MAX || !db->npdu[app])
		return 0;
	struct ots_match_in in = p->in;
	in.pcre_md = s->md;
	const struct ots_rule *rules = db->rs->rules;
	const struct pdu_pre *pre = db->pre[app];
	const uint32_t code = in.pdu ? in.pdu->code : NO_CODE;
	int n = 0;
	/* the pass part, then the others: in each, the rules pinned to this PDU's code, then the unpinned tail */
	for (int part = 0; part < 2; part++) {
		uint32_t lo = part ? db->npdu_pass[app] : 0, hi = part ? db->npdu[app] : db->npdu_pass[app];
		uint32_t any = code_lower(pre, lo, hi, NO_CODE);
		for (uint32_t k = code_lower(pre, lo, any, code);; k++) {
			if (k < any && pre[k].code != code)
				k = any; /* past this code's rules: on to the unpinned */
			if (k >= hi)
				break;
			const struct ots_rule *r = &rules[pre[k].rule];
			if (!pre_ok(&pre[k], p, in.pdu) || !verify_pdu(r, p, &in))
				continue;
			if (!part)
				return 0; /* a pass rule matched: nothing is reported */
			if (hit)
				hit(ud, r);
			n++;
		}
	}
	return n;
}
