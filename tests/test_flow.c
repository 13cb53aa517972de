/* tests/test_flow.c - flow keying, table full/eviction, timeouts, and the worker path (TCP state, port reuse,
 * reassembly into the app layer, SYN flood) on a real rte_hash under EAL (no hugepages). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_hash.h>

#include "config/config.h"
#include "dataplane/flow.h"
#include "dataplane/worker.h"
#include "protocols/registry.h"
#include "tests/harness.h"
#include "tests/pktbuild.h"

#define S (1000000000ull)

static int eal_up(void)
{
	char *argv[] = { "test_flow", "--no-huge", "--no-pci", "--no-shconf", "-m", "512", "--no-telemetry",
			 "-l", "0", "--log-level=*:error", NULL };
	if (rte_eal_init(10, argv) < 0)
		return -1;
	ots_registry_init();
	return 0;
}

static int eal_down(void)
{
	rte_eal_cleanup();
	return 0;
}

/* one Ethernet/IPv4 or VLAN frame with plen payload bytes; returns length */
static size_t framen(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		     uint16_t vid, uint32_t seq, uint8_t flags, const char *payload, size_t plen)
{
	size_t o;
	uint8_t s4[4], d4[4];
	uint32_t ns = htonl(src), nd = htonl(dst);
	memcpy(s4, &ns, 4);
	memcpy(d4, &nd, 4);
	o = eth(b, 0x0800);
	if (vid) {
		vlan(b + 12, 0x8100, vid, 0x0800);
		o += 4;
	}
	size_t l4 = proto == 6 ? 20 : 8;
	o += ipv4(b + o, proto, (uint16_t)(l4 + plen), (const char *)s4, (const char *)d4);
	if (proto == 6)
		o += tcp(b + o, sport, dport, seq, flags);
	else
		o += udp(b + o, sport, dport, (uint16_t)plen);
	if (plen)
		memcpy(b + o, payload, plen);
	return o + plen;
}

/* same with a NUL-terminated payload */
static size_t frame(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		    uint16_t vid, uint32_t seq, uint8_t flags, const char *payload)
{
	return framen(b, proto, src, dst, sport, dport, vid, seq, flags, payload, payload ? strlen(payload) : 0);
}

static void decode_key(const uint8_t *b, size_t n, struct ots_pkt *p, struct ots_flow_key *k, int *side)
{
	ots_decode(b, (uint32_t)n, OTS_LINK_ETHERNET, p);
	*side = ots_flow_key_make(p, k);
}

static void test_key_symmetric(void)
{
	uint8_t b[128];
	struct ots_pkt p;
	struct ots_flow_key k1, k2;
	int s1, s2;
	decode_key(b, frame(b, 6, 0x0a000001, 0x0a000002, 40000, 502, 0, 1, 2, NULL), &p, &k1, &s1);
	decode_key(b, frame(b, 6, 0x0a000002, 0x0a000001, 502, 40000, 0, 1, 0x12, NULL), &p, &k2, &s2);
	CU_ASSERT_EQUAL(memcmp(&k1, &k2, sizeof(k1)), 0);
	CU_ASSERT_NOT_EQUAL(s1, s2);
	/* same addresses, ports ordered by port */
	decode_key(b, frame(b, 17, 0x0a000001, 0x0a000001, 9, 7, 0, 0, 0, NULL), &p, &k1, &s1);
	decode_key(b, frame(b, 17, 0x0a000001, 0x0a000001, 7, 9, 0, 0, 0, NULL), &p, &k2, &s2);
	CU_ASSERT_EQUAL(memcmp(&k1, &k2, sizeof(k1)), 0);
	CU_ASSERT_EQUAL(k1.port[0], 7);
	CU_ASSERT_NOT_EQUAL(s1, s2);
}

static void test_key_vlan_and_proto(void)
{
	uint8_t b[128];
	struct ots_pkt p;
	struct ots_flow_key k1, k2, k3;
	int s;
	decode_key(b, frame(b, 17, 1, 2, 1000, 2000, 10, 0, 0, NULL), &p, &k1, &s);
	decode_key(b, frame(b, 17, 1, 2, 1000, 2000, 20, 0, 0, NULL), &p, &k2, &s);
	decode_key(b, frame(b, 6, 1, 2, 1000, 2000, 10, 0, 2, NULL), &p, &k3, &s);
	CU_ASSERT_EQUAL(k1.vlan[0], 10);
	CU_ASSERT_NOT_EQUAL(memcmp(&k1, &k2, sizeof(k1)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(&k1, &k3, sizeof(k1)), 0);
}

static const uint32_t tmo[OTS_FC_MAX] = { 30, 3600, 10, 120, 60 };

struct ended {
	int n;
	int why[4096];
};

static void count_end(void *ud, struct ots_flow_table *ft, uint32_t pos, int why)
{
	struct ended *e = ud;
	(void)ft;
	(void)pos;
	if (e->n < 4096)
		e->why[e->n] = why;
	e->n++;
}

static int32_t add_udp(struct ots_flow_table *ft, uint32_t i, uint64_t t)
{
	uint8_t b[128];
	struct ots_pkt p;
	struct ots_flow_key k;
	int side;
	decode_key(b, frame(b, 17, 0x0a000000 + i, 0x0a0000ff, (uint16_t)(1024 + i), 53, 0, 0, 0, NULL), &p, &k,
		   &side);
	const struct ots_flow_key *kp = &k;
	int32_t pos;
	ots_flow_lookup_bulk(ft, &kp, 1, &pos);
	if (pos < 0) {
		ots_flow_make_room(ft, 1);
		pos = ots_flow_insert(ft, &k, t);
	}
	if (pos >= 0)
		ots_flow_update(ft, (uint32_t)pos, side, &p, 60, t);
	return pos;
}

static int32_t find_udp(struct ots_flow_table *ft, uint32_t i)
{
	uint8_t b[128];
	struct ots_pkt p;
	struct ots_flow_key k;
	int side;
	decode_key(b, frame(b, 17, 0x0a000000 + i, 0x0a0000ff, (uint16_t)(1024 + i), 53, 0, 0, 0, NULL), &p, &k,
		   &side);
	const struct ots_flow_key *kp = &k;
	int32_t pos;
	ots_flow_lookup_bulk(ft, &kp, 1, &pos);
	return pos;
}

static void test_table_lookup_and_counters(void)
{
	struct ots_flow_table ft;
	struct ended e = { 0 };
	CU_ASSERT_FATAL(ots_flow_table_init(&ft, "t_counters", 1024, 0, tmo, count_end, &e) == 0);
	int32_t pos = add_udp(&ft, 1, 1 * S);
	CU_ASSERT(pos >= 0);
	CU_ASSERT_EQUAL(find_udp(&ft, 1), pos);
	CU_ASSERT(find_udp(&ft, 2) < 0);
	/* reply direction lands on the same flow, counted as server->client */
	uint8_t b[128];
	struct ots_pkt p;
	struct ots_flow_key k;
	int side;
	decode_key(b, frame(b, 17, 0x0a0000ff, 0x0a000001, 53, 1025, 0, 0, 0, "x"), &p, &k, &side);
	const struct ots_flow_key *kp = &k;
	int32_t pos2;
	ots_flow_lookup_bulk(&ft, &kp, 1, &pos2);
	CU_ASSERT_EQUAL(pos2, pos);
	CU_ASSERT_EQUAL(ots_flow_update(&ft, (uint32_t)pos, side, &p, 61, 2 * S), 1);
	CU_ASSERT_EQUAL(ft.flows[pos].pkts[0], 1);
	CU_ASSERT_EQUAL(ft.flows[pos].pkts[1], 1);
	CU_ASSERT_EQUAL(ft.flows[pos].bytes[1], 61);
	CU_ASSERT_EQUAL(ft.flows[pos].last_ns, 2 * S);
	CU_ASSERT_EQUAL(ft.st.created, 1);
	CU_ASSERT_EQUAL(ft.st.by_proto[1], 1);
	/* inserting the same key again returns the same flow untouched */
	CU_ASSERT_EQUAL(ots_flow_insert(&ft, &k, 3 * S), pos);
	CU_ASSERT_EQUAL(ft.flows[pos].pkts[1], 1);
	CU_ASSERT_EQUAL(ft.st.created, 1);
	ots_flow_table_fini(&ft);
}

/* the table hashes keys itself (IPv4: its two address words only) and hands the hash to rte_hash's bulk lookup:
 * inserts, single and bulk lookups and deletes must agree on every key, IPv4 and IPv6, even when keys differ only
 * in a word the IPv4 hash skips or in the last bytes of an IPv6 address */
static void mixed_key(uint32_t i, struct ots_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (i & 1) ? 6 : 4;
	k->proto = (i & 2) ? 6 : 17;
	k->addr[0][0] = htonl(0x0a000001);
	k->addr[1][0] = htonl(0x0a000002 + (i % 7));
	if (k->family == 6) {
		k->addr[0][3] = htonl(i);  /* differ only in the last word of the lower address */
		k->addr[1][1] = htonl(i >> 4);
	}
	k->port[0] = (uint16_t)(1000 + (i >> 3));
	k->port[1] = 502;
	k->vlan[0] = (uint16_t)(i % 5);
}

static void test_table_hash_agrees(void)
{
	enum { N = 3000 };
	struct ots_flow_table ft;
	static int32_t at[N];
	CU_ASSERT_FATAL(ots_flow_table_init(&ft, "t_hash", 4096, 0, tmo, NULL, NULL) == 0);
	for (uint32_t i = 0; i < N; i++) {
		struct ots_flow_key k;
		mixed_key(i, &k);
		at[i] = ots_flow_insert(&ft, &k, S);
		CU_ASSERT_FATAL(at[i] >= 0);
	}
	CU_ASSERT_EQUAL(ft.st.active, N);
	int bad = 0;
	for (uint32_t i = 0; i < N; i += 64) {
		struct ots_flow_key ks[64];
		const struct ots_flow_key *kp[64];
		int32_t pos[64];
		uint32_t n = N - i < 64 ? N - i : 64;
		for (uint32_t j = 0; j < n; j++) {
			mixed_key(i + j, &ks[j]);
			kp[j] = &ks[j];
		}
		CU_ASSERT_EQUAL(ots_flow_lookup_bulk(&ft, kp, n, pos), 0);
		for (uint32_t j = 0; j < n; j++)
			bad += pos[j] != at[i + j] || rte_hash_lookup(ft.h, &ks[j]) != at[i + j];
	}
	CU_ASSERT_EQUAL(bad, 0);
	for (uint32_t i = 0; i < N; i += 2)
		ots_flow_end(&ft, (uint32_t)at[i], OTS_END_SHUTDOWN);
	for (uint32_t i = 0; i < N; i++) {
		struct ots_flow_key k;
		const struct ots_flow_key *kp = &k;
		int32_t pos;
		mixed_key(i, &k);
		ots_flow_lookup_bulk(&ft, &kp, 1, &pos);
		bad += (i & 1) ? pos != at[i] : pos >= 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(ft.st.active, N / 2);
	ots_flow_table_fini(&ft);
}

static void test_table_full_evicts_oldest(void)
{
	struct ots_flow_table ft;
	struct ended e = { 0 };
	const uint32_t cap = 256;
	CU_ASSERT_FATAL(ots_flow_table_init(&ft, "t_full", cap, 0, tmo, count_end, &e) == 0);
	for (uint32_t i = 0; i < cap; i++)
		CU_ASSERT(add_udp(&ft, i, (10 + i) * S / 100) >= 0);
	CU_ASSERT_EQUAL(ft.st.active, cap);
	CU_ASSERT_EQUAL(e.n, 0);
	/* touch flow 0 again so flow 1 becomes the least recently active */
	add_udp(&ft, 0, 100 * S);
	CU_ASSERT_EQUAL(e.n, 0);
	for (uint32_t i = cap; i < cap + 10; i++)
		CU_ASSERT(add_udp(&ft, i, 101 * S) >= 0);
	CU_ASSERT_EQUAL(ft.st.active, cap);
	CU_ASSERT_EQUAL(ft.st.ended[OTS_END_EVICTED], 10);
	CU_ASSERT_EQUAL(e.n, 10);
	CU_ASSERT(find_udp(&ft, 0) >= 0);  /* recently active: kept */
	CU_ASSERT(find_udp(&ft, 1) < 0);   /* oldest: evicted */
	CU_ASSERT(find_udp(&ft, 10) < 0);
	CU_ASSERT(find_udp(&ft, 11) >= 0);
	CU_ASSERT(find_udp(&ft, cap + 9) >= 0);
	ots_flow_table_fini(&ft);
}

static void test_timeouts_by_class_and_budget(void)
{
	struct ots_flow_table ft;
	struct ended e = { 0 };
	CU_ASSERT_FATAL(ots_flow_table_init(&ft, "t_tmo", 1024, 0, tmo, count_end, &e) == 0);
	for (uint32_t i = 0; i < 100; i++)
		add_udp(&ft, i, 5 * S);
	CU_ASSERT_EQUAL(ots_flow_expire(&ft, 124 * S, 64), 0); /* udp timeout 120 s: not yet */
	CU_ASSERT_EQUAL(ots_flow_expire(&ft, 126 * S, 30), 30); /* bounded work per call */
	CU_ASSERT_EQUAL(ots_flow_expire(&ft, 126 * S, 1000), 70);
	CU_ASSERT_EQUAL(ft.st.active, 0);
	CU_ASSERT_EQUAL(ft.st.ended[OTS_END_TIMEOUT], 100);
	ots_flow_table_fini(&ft);
}

/* ---- worker path ---- */

static struct ots_config wcfg;
static struct ots_run wrun;

static struct ots_worker *new_worker(uint32_t capacity)
{
	static struct ots_worker w;
	char err[256];
	ots_config_defaults(&wcfg);
	wcfg.flow_capacity = capacity;
	wcfg.reasm_pool_segments = 256;
	memset(&wrun, 0, sizeof(wrun));
	wrun.nworkers = 1;
	if (ots_worker_init(&w, 0, &wcfg, &wrun, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return &w;
}

static void feedn(struct ots_worker *w, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint32_t seq,
		  uint8_t flags, const char *payload, size_t plen, uint64_t t)
{
	uint8_t b[256];
	size_t n = framen(b, 6, src, dst, sp, dp, 0, seq, flags, payload, plen);
	ots_worker_process_bytes(w, b, (uint32_t)n, (uint32_t)n, t);
}

#define feed(w, src, dst, sp, dp, seq, flags, payload, t)                                                     \
	feedn(w, src, dst, sp, dp, seq, flags, payload, sizeof(payload "") - 1, t)
#define NOPAY ""

static void test_worker_tcp_session(void)
{
	struct ots_worker *w = new_worker(1024);
	CU_ASSERT_FATAL(w != NULL);
	const uint32_t c = 0xc0a80001, s = 0xc0a80002;
	feed(w, c, s, 50000, 502, 100, OTS_TCP_SYN, NOPAY, 1 * S);
	feed(w, s, c, 502, 50000, 900, OTS_TCP_SYN | OTS_TCP_ACK, NOPAY, 1 * S);
	feed(w, c, s, 50000, 502, 101, OTS_TCP_ACK, NOPAY, 1 * S);
	feed(w, c, s, 50000, 502, 101, OTS_TCP_ACK | OTS_TCP_PSH, "\x00\x01\x00\x00\x00\x06", 2 * S);
	feed(w, c, s, 50000, 502, 107, OTS_TCP_ACK | OTS_TCP_PSH, "\x01\x03\x00\x00\x00\x01", 2 * S);
	feed(w, s, c, 502, 50000, 901, OTS_TCP_ACK | OTS_TCP_PSH, "\x00\x01\x00\x00\x00\x05\x01\x03\x02\x00\x2a",
	     3 * S);
	CU_ASSERT_EQUAL(w->ft.st.created, 1);
	CU_ASSERT_EQUAL(w->st.app_flows[OTS_APP_MODBUS], 1);
	CU_ASSERT_EQUAL(w->st.app_bytes[OTS_APP_MODBUS], 12 + 11);
	CU_ASSERT_EQUAL(w->rst.midstream, 0);
	/* find the flow and check direction and state */
	uint32_t pos = w->ft.head[OTS_FC_TCP_EST];
	CU_ASSERT_FATAL(pos != OTS_FLOW_NONE);
	struct ots_flow *f = &w->ft.flows[pos];
	CU_ASSERT_EQUAL(f->tcp_state, OTS_TCP_EST);
	CU_ASSERT_EQUAL(f->pkts[0], 4);
	CU_ASSERT_EQUAL(f->pkts[1], 2);
	/* close both ways, then a new SYN on the same ports is a new flow */
	feed(w, c, s, 50000, 502, 113, OTS_TCP_FIN | OTS_TCP_ACK, NOPAY, 4 * S);
	CU_ASSERT_EQUAL(f->tcp_state, OTS_TCP_CLOSING);
	feed(w, s, c, 502, 50000, 912, OTS_TCP_FIN | OTS_TCP_ACK, NOPAY, 4 * S);
	CU_ASSERT_EQUAL(f->tcp_state, OTS_TCP_CLOSED);
	CU_ASSERT_EQUAL(f->fclass, OTS_FC_TCP_CLOSED);
	feed(w, c, s, 50000, 502, 5000, OTS_TCP_SYN, NOPAY, 5 * S);
	CU_ASSERT_EQUAL(w->ft.st.created, 2);
	CU_ASSERT_EQUAL(w->ft.st.ended[OTS_END_REUSED], 1);
	CU_ASSERT_EQUAL(w->st.app_flows[OTS_APP_MODBUS], 2);
	ots_worker_flush(w);
	CU_ASSERT_EQUAL(w->ft.st.active, 0);
	ots_worker_fini(w);
}

static void test_worker_midstream_and_reorder(void)
{
	struct ots_worker *w = new_worker(1024);
	CU_ASSERT_FATAL(w != NULL);
	const uint32_t c = 0x0a010101, s = 0x0a010102;
	/* capture starts mid-connection: the server's reply comes first, no SYN anywhere */
	feed(w, s, c, 2404, 40001, 7000, OTS_TCP_ACK | OTS_TCP_PSH, "\x68\x04\x83\x00\x00\x00", 1 * S);
	feed(w, c, s, 40001, 2404, 100, OTS_TCP_ACK | OTS_TCP_PSH, "BBBB", 1 * S + 1);
	feed(w, c, s, 40001, 2404, 108, OTS_TCP_ACK | OTS_TCP_PSH, "DDDD", 1 * S + 2); /* early */
	CU_ASSERT_EQUAL(w->rst.midstream, 2);
	CU_ASSERT_EQUAL(w->rst.ooo_segments, 1);
	/* no SYN seen: the well-known port (2404) is the server even though it spoke first */
	uint32_t fpos = w->ft.head[OTS_FC_TCP_EST];
	CU_ASSERT_FATAL(fpos != OTS_FLOW_NONE);
	CU_ASSERT_EQUAL(w->ft.flows[fpos].pkts[0], 2); /* client -> server */
	CU_ASSERT_EQUAL(w->ft.flows[fpos].pkts[1], 1); /* server -> client */
	CU_ASSERT(w->ft.flows[fpos].flags & OTS_FF_MIDSTREAM);
	CU_ASSERT_EQUAL(w->st.app_bytes[OTS_APP_IEC104], 6 + 4);
	feed(w, c, s, 40001, 2404, 104, OTS_TCP_ACK | OTS_TCP_PSH, "CCCC", 1 * S + 3); /* fills the hole */
	CU_ASSERT_EQUAL(w->st.app_bytes[OTS_APP_IEC104], 6 + 12);
	/* a hole that never fills is reported as a gap when the flow ends */
	feed(w, c, s, 40001, 2404, 200, OTS_TCP_ACK | OTS_TCP_PSH, "ZZZZ", 2 * S);
	ots_worker_flush(w);
	CU_ASSERT_EQUAL(w->rst.gaps, 1);
	CU_ASSERT_EQUAL(w->rst.gap_bytes, 200 - 112);
	CU_ASSERT_EQUAL(w->st.app_bytes[OTS_APP_IEC104], 6 + 16);
	CU_ASSERT_EQUAL(w->segs.nfree, w->segs.nslots);
	ots_worker_fini(w);
}

static void test_worker_syn_flood(void)
{
	const uint32_t cap = 1024;
	struct ots_worker *w = new_worker(cap);
	CU_ASSERT_FATAL(w != NULL);
	uint8_t b[64 * 128];
	uint32_t n = 20000;
	for (uint32_t i = 0; i < n; i++) {
		size_t len = frame(b, 6, 0x0b000000 + (i >> 10), 0x0a000001, (uint16_t)(1024 + (i & 1023)), 102, 0, i,
				   OTS_TCP_SYN, NULL);
		ots_worker_process_bytes(w, b, (uint32_t)len, (uint32_t)len, (uint64_t)i * 1000);
	}
	CU_ASSERT_EQUAL(w->ft.st.created, n);
	CU_ASSERT_EQUAL(w->ft.st.active, cap);
	CU_ASSERT_EQUAL(w->ft.st.ended[OTS_END_EVICTED], n - cap);
	CU_ASSERT_EQUAL(w->st.flow_insert_failed, 0);
	CU_ASSERT_EQUAL(w->st.processed, n);
	ots_worker_flush(w);
	ots_worker_fini(w);
}

static void test_worker_malformed_counted(void)
{
	struct ots_worker *w = new_worker(1024);
	CU_ASSERT_FATAL(w != NULL);
	uint8_t b[128];
	size_t n = frame(b, 6, 1, 2, 3, 4, 0, 0, OTS_TCP_SYN, NULL);
	ots_worker_process_bytes(w, b, 20, 20, 1); /* cut inside the IPv4 header */
	b[46] = 0x20; /* TCP data offset 8 bytes */
	ots_worker_process_bytes(w, b, (uint32_t)n, (uint32_t)n, 2);
	CU_ASSERT_EQUAL(w->st.processed, 2);
	CU_ASSERT_EQUAL(w->st.events[OTS_DEV_ipv4_truncated], 1);
	CU_ASSERT_EQUAL(w->st.events[OTS_DEV_tcp_bad_offset], 1);
	CU_ASSERT_EQUAL(w->st.no_flow, 2);
	CU_ASSERT_EQUAL(w->ft.st.created, 0);
	ots_worker_fini(w);
}

static const struct ots_test key_tests[] = {
	{ "key_symmetric", test_key_symmetric },
	{ "key_vlan_and_proto", test_key_vlan_and_proto },
	{ NULL, NULL },
};

static const struct ots_test table_tests[] = {
	{ "lookup_and_counters", test_table_lookup_and_counters },
	{ "hash_agrees_v4_v6", test_table_hash_agrees },
	{ "full_evicts_oldest", test_table_full_evicts_oldest },
	{ "timeouts_by_class_and_budget", test_timeouts_by_class_and_budget },
	{ NULL, NULL },
};

static const struct ots_test worker_tests[] = {
	{ "tcp_session_close_and_reuse", test_worker_tcp_session },
	{ "midstream_and_reorder", test_worker_midstream_and_reorder },
	{ "syn_flood_evicts", test_worker_syn_flood },
	{ "malformed_counted", test_worker_malformed_counted },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "flow_key", key_tests, NULL, NULL },
	{ "flow_table", table_tests, NULL, NULL },
	{ "worker", worker_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	if (eal_up() < 0) {
		fprintf(stderr, "test_flow: EAL did not start\n");
		printf("RESULT test_flow: 0 passed, 1 failed\n");
		return 1;
	}
	int r = ots_test_main("test_flow", suites);
	eal_down();
	return r;
}
