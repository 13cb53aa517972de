/* tests/recorder.h - the test side of an application parser, shared by the parser tests.
 *
 * Fixtures (any test): unhex(), and rec_load() for segment fixtures into rec_segs, one "FRAME A B HEX" line a TCP
 * segment (A B: stream and direction) or a datagram (A B: direction and transport); "#" lines are comments.
 *
 * Recorder (a test that defines REC_PARSER, its struct ots_parser, REC_PROTO, its OTS_APP_* id, and REC_EV_MAX, the
 * count of its events, before including this header):
 *  - cap: every PDU, identity and event the parser reports through rec_ops, in order; rec_reset() clears it. An event
 *    of another protocol (bad_proto) or out of range, or more PDUs / identities than cap holds, fail the test;
 *  - rec_parse(): one parse() call as the worker makes it (recording ops, the direction, reassembly flags,
 *    transport); rec_feed() / rec_gap() for TCP;
 *  - struct rec_flow: one stream's parser state, which adds OTS_REASM_F_MIDSTREAM to each direction's first segment
 *    when the stream started mid-way (rec_flow_init, rec_flow_feed, rec_flow_gap);
 *  - stream fixtures, the bytes the worker's reassembly would deliver: "= name syn|mid" starts or selects a stream
 *    (a name starting with 'u' is UDP), "> hex" to the server, "< hex" from it, "> !gap N" N lost bytes
 *    (rec_run_fixture, rec_fixture_stream);
 *  - queries on cap: rec_count, rec_nth, rec_find, rec_has_id, rec_expect / rec_expect_units (a table of counts is
 *    exactly what was seen), EXPECT_PDU (the fields of one PDU).
 * Everything is static inline (or a macro), so a test uses what it needs.
 */
#ifndef OTS_TEST_RECORDER_H
#define OTS_TEST_RECORDER_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

/* ---- fixtures ---- */

/* hex digits up to the end of the string or line (or a non-hex pair) into out; returns the byte count */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[1] && s[0] != '\n' && n < cap) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

#define REC_MAX_SEGS 256
#define REC_MAX_SEG 2048

struct rec_seg {
	int frame;
	unsigned stream; /* 0 in datagram fixtures */
	int dir, tr;     /* tr: 6 in TCP fixtures */
	size_t len;
	uint8_t b[REC_MAX_SEG];
};

enum rec_cols {
	REC_STREAM_DIR,    /* FRAME STREAM DIR HEX */
	REC_DIR_TRANSPORT, /* FRAME DIR TRANSPORT HEX */
};

__attribute__((unused)) static struct rec_seg rec_segs[REC_MAX_SEGS];

/* loads a segment fixture (its path printf-style) into rec_segs; returns the segment count (the test fails on none) */
__attribute__((format(printf, 2, 3))) static inline unsigned rec_load(enum rec_cols cols, const char *fmt, ...)
{
	static char path[512], line[2 * REC_MAX_SEG + 128], hex[2 * REC_MAX_SEG + 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	FILE *fp = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	unsigned n = 0;
	while (fgets(line, sizeof(line), fp)) {
		struct rec_seg *s = &rec_segs[n];
		int a, b;
		if (line[0] == '#' || sscanf(line, "%d %d %d %4100s", &s->frame, &a, &b, hex) != 4)
			continue;
		CU_ASSERT_FATAL(strlen(hex) <= 2 * REC_MAX_SEG);
		s->stream = cols == REC_STREAM_DIR ? (unsigned)a : 0;
		s->dir = cols == REC_STREAM_DIR ? b : a;
		s->tr = cols == REC_STREAM_DIR ? 6 : b;
		s->len = unhex(hex, s->b, REC_MAX_SEG);
		CU_ASSERT_FATAL(++n < REC_MAX_SEGS);
	}
	fclose(fp);
	CU_ASSERT_FATAL(n > 0);
	return n;
}

#ifdef REC_PARSER

#include "dataplane/reasm.h"
#include "protocols/app.h"

/* ---- the recorder ---- */

#define REC_MAX_PDUS 8192
#define REC_MAX_IDS 256

struct rec_ident {
	int ep, kind, conf;
	char v[128]; /* truncated */
};

static struct {
	struct ots_pdu pdu[REC_MAX_PDUS];
	unsigned npdu;
	struct rec_ident id[REC_MAX_IDS];
	unsigned nid;
	unsigned ev[REC_EV_MAX + 1]; /* [REC_EV_MAX]: out of range */
	unsigned nev;
	unsigned bad_proto; /* events carrying another protocol id */
} cap;

static inline void rec_reset(void)
{
	memset(&cap, 0, sizeof(cap));
}

static inline void rec_pdu(void *ud, const struct ots_pdu *p)
{
	(void)ud;
	CU_ASSERT_FATAL(cap.npdu < REC_MAX_PDUS);
	cap.pdu[cap.npdu++] = *p;
}

static inline void rec_identity(void *ud, int ep, int kind, int conf, const char *v, size_t len)
{
	(void)ud;
	CU_ASSERT_FATAL(cap.nid < REC_MAX_IDS);
	struct rec_ident *i = &cap.id[cap.nid++];
	i->ep = ep;
	i->kind = kind;
	i->conf = conf;
	snprintf(i->v, sizeof(i->v), "%.*s", (int)len, v);
}

static inline void rec_event(void *ud, uint16_t proto, unsigned ev)
{
	(void)ud;
	if (proto != REC_PROTO)
		cap.bad_proto++;
	CU_ASSERT_EQUAL(proto, REC_PROTO);
	CU_ASSERT(ev < REC_EV_MAX);
	cap.ev[ev < REC_EV_MAX ? ev : REC_EV_MAX]++;
	cap.nev++;
}

static const struct ots_app_ops rec_ops = { rec_pdu, rec_identity, rec_event };

/* ---- feeding ---- */

static inline int rec_parse(void *st, int dir, uint32_t flags, int transport, const uint8_t *p, size_t n)
{
	struct ots_app_ctx c = { .ops = &rec_ops, .ud = &cap, .flags = flags, .proto = REC_PROTO, .dir = (uint8_t)dir,
				 .transport = (uint8_t)transport };
	return REC_PARSER.parse(&c, p, n, st);
}

static inline int rec_feed(void *st, int dir, uint32_t flags, const uint8_t *p, size_t n)
{
	return rec_parse(st, dir, flags, 6, p, n);
}

static inline int rec_gap(void *st, int dir, size_t n)
{
	return rec_parse(st, dir, OTS_REASM_F_GAP, 6, NULL, n);
}

struct rec_flow {
	_Alignas(64) uint8_t st[OTS_APP_STATE_MAX];
	int started[2];
	int midstream;
	int transport;
};

static inline void rec_flow_init(struct rec_flow *f, int midstream)
{
	memset(f, 0, sizeof(*f));
	f->midstream = midstream;
	f->transport = 6;
}

static inline int rec_flow_parse(struct rec_flow *f, int dir, uint32_t flags, const uint8_t *p, size_t n)
{
	if (!f->started[dir] && f->midstream)
		flags |= OTS_REASM_F_MIDSTREAM;
	f->started[dir] = 1;
	return rec_parse(f->st, dir, flags, f->transport, p, n);
}

static inline int rec_flow_feed(struct rec_flow *f, int dir, const uint8_t *p, size_t n)
{
	return rec_flow_parse(f, dir, 0, p, n);
}

/* n lost bytes in one direction */
static inline int rec_flow_gap(struct rec_flow *f, int dir, size_t n)
{
	return rec_flow_parse(f, dir, OTS_REASM_F_GAP, NULL, n);
}

#define REC_MAX_STREAMS 32

__attribute__((unused)) static struct rec_flow rec_flows[REC_MAX_STREAMS];

/* feeds every segment of a TCP segment fixture (REC_STREAM_DIR), one state per stream in rec_flows, each started
 * mid-stream or not; every parse() must say 0. Returns the segment count. */
static inline unsigned rec_run_segments(const char *path, int midstream)
{
	unsigned n = rec_load(REC_STREAM_DIR, "%s", path);
	for (unsigned i = 0; i < REC_MAX_STREAMS; i++)
		rec_flow_init(&rec_flows[i], midstream);
	for (unsigned i = 0; i < n; i++) {
		const struct rec_seg *s = &rec_segs[i];
		CU_ASSERT_FATAL(s->stream < REC_MAX_STREAMS);
		CU_ASSERT_EQUAL(rec_flow_feed(&rec_flows[s->stream], s->dir, s->b, s->len), 0);
	}
	return n;
}

/* ---- stream fixtures ---- */

/* feeds a whole stream fixture, every stream with its own state; returns the number of streams the parser gave up
 * on (parse() said -1: the stream gets no more bytes) */
static inline int rec_run_fixture(const char *path)
{
	static char line[140000];
	static uint8_t buf[70000];
	char stream[REC_MAX_STREAMS][16];
	int dead[REC_MAX_STREAMS];
	unsigned ns = 0, cur = 0;
	int rejected = 0;
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '=') {
			char name[16] = "", kind[8] = "";
			sscanf(line + 1, "%15s %7s", name, kind);
			unsigned i;
			for (i = 0; i < ns; i++)
				if (!strcmp(stream[i], name))
					break;
			if (i == ns) {
				CU_ASSERT_FATAL(ns < REC_MAX_STREAMS);
				snprintf(stream[ns], sizeof(stream[ns]), "%s", name);
				rec_flow_init(&rec_flows[ns], !strcmp(kind, "mid"));
				rec_flows[ns].transport = name[0] == 'u' ? 17 : 6;
				dead[ns] = 0;
				ns++;
			}
			cur = i;
			continue;
		}
		CU_ASSERT_FATAL(ns > 0);
		int dir = line[0] == '<';
		if (dead[cur])
			continue;
		int r;
		if (!strncmp(line + 2, "!gap ", 5)) /* not the direction's first segment */
			r = rec_parse(rec_flows[cur].st, dir, OTS_REASM_F_GAP, rec_flows[cur].transport, NULL,
				      (size_t)atol(line + 7));
		else
			r = rec_flow_feed(&rec_flows[cur], dir, buf, unhex(line + 2, buf, sizeof(buf)));
		if (r < 0) {
			dead[cur] = 1;
			rejected++;
		}
	}
	fclose(f);
	return rejected;
}

/* one direction of a stream fixture (every stream), concatenated without the gaps */
static inline size_t rec_fixture_stream(const char *path, int want_dir, uint8_t *out, size_t size)
{
	static char line[140000];
	size_t n = 0;
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '>' && line[0] != '<')
			continue;
		if ((line[0] == '<') != want_dir || line[2] == '!')
			continue;
		n += unhex(line + 2, out + n, size - n);
	}
	fclose(f);
	return n;
}

/* ---- what was recorded ---- */

#define REC_ANY (-1)             /* any direction / kind */
#define REC_ANY_UNIT 0xffffffffu /* any unit */

static inline int rec_match(const struct ots_pdu *p, int dir, uint32_t code, int kind, uint32_t unit)
{
	return (dir == REC_ANY || p->dir == dir) && p->code == code && (kind == REC_ANY || p->kind == kind) &&
	       (unit == REC_ANY_UNIT || p->unit == unit);
}

static inline unsigned rec_count(int dir, uint32_t code, int kind, uint32_t unit)
{
	unsigned n = 0;
	for (unsigned i = 0; i < cap.npdu; i++)
		n += rec_match(&cap.pdu[i], dir, code, kind, unit);
	return n;
}

/* the k-th (from 0) PDU with that code, direction and kind; NULL when there are fewer */
static inline const struct ots_pdu *rec_nth(int dir, uint32_t code, int kind, unsigned k)
{
	for (unsigned i = 0; i < cap.npdu; i++)
		if (rec_match(&cap.pdu[i], dir, code, kind, REC_ANY_UNIT) && k-- == 0)
			return &cap.pdu[i];
	return NULL;
}

/* the first PDU with that code sent in that direction */
static inline const struct ots_pdu *rec_find(uint32_t code, int dir)
{
	return rec_nth(dir, code, REC_ANY, 0);
}

static inline int rec_has_id(int ep, int kind, const char *v)
{
	for (unsigned i = 0; i < cap.nid; i++)
		if (cap.id[i].ep == ep && cap.id[i].kind == kind && !strcmp(cap.id[i].v, v))
			return 1;
	return 0;
}

/* a row of a table of counts: n PDUs with that direction, code and kind (and unit: rec_expect_units) */
struct rec_want {
	int dir;
	uint32_t code;
	int kind;
	unsigned n;
	uint32_t unit;
};

static inline void rec_expect_(const struct rec_want *w, size_t nw, int by_unit)
{
	unsigned total = 0;
	for (size_t i = 0; i < nw; i++) {
		unsigned got = rec_count(w[i].dir, w[i].code, w[i].kind, by_unit ? w[i].unit : REC_ANY_UNIT);
		if (got != w[i].n) {
			printf("\n  dir %d code 0x%x kind %d", w[i].dir, w[i].code, w[i].kind);
			if (by_unit)
				printf(" unit %u", w[i].unit);
			printf(": expected %u, got %u", w[i].n, got);
		}
		CU_ASSERT_EQUAL(got, w[i].n);
		total += w[i].n;
	}
	CU_ASSERT_EQUAL(cap.npdu, total);
}

/* the PDUs seen are exactly the table (any unit): every row's count, and nothing else */
static inline void rec_expect(const struct rec_want *w, size_t nw)
{
	rec_expect_(w, nw, 0);
}

/* the same, rows counting only their unit */
static inline void rec_expect_units(const struct rec_want *w, size_t nw)
{
	rec_expect_(w, nw, 1);
}

#define EXPECT_PDU(p, dir_, kind_, code_, unit_, addr_, qty_, flags_)                                          \
	do {                                                                                                       \
		const struct ots_pdu *p_ = (p);                                                                    \
		CU_ASSERT_PTR_NOT_NULL_FATAL(p_);                                                                  \
		CU_ASSERT_EQUAL(p_->proto, REC_PROTO);                                                             \
		CU_ASSERT_EQUAL(p_->dir, (dir_));                                                                  \
		CU_ASSERT_EQUAL(p_->kind, (kind_));                                                                \
		CU_ASSERT_EQUAL(p_->code, (uint32_t)(code_));                                                      \
		CU_ASSERT_EQUAL(p_->unit, (uint32_t)(unit_));                                                      \
		CU_ASSERT_EQUAL(p_->address, (uint32_t)(addr_));                                                   \
		CU_ASSERT_EQUAL(p_->quantity, (uint32_t)(qty_));                                                   \
		CU_ASSERT_EQUAL(p_->flags, (uint32_t)(flags_));                                                    \
	} while (0)

#endif /* REC_PARSER */

#endif
