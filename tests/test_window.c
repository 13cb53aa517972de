/* tests/test_window.c - counting windows, alert aggregation (DELTA for workers, TOTAL for the exporter) and
 * stable alert ids. */
#include <string.h>

#include "detect/alertagg.h"
#include "detect/detect.h"
#include "detect/window.h"
#include "harness.h"

#define S 1000000000ull

/* ---- window table ---- */

static void test_window_restart_after_window(void)
{
	struct ots_window_tab t;
	int fresh;
	CU_ASSERT_FATAL(ots_window_init(&t, 64) == 0);
	struct ots_window_ent *e = ots_window_hit(&t, 42, 10 * S, 5 * S, &fresh);
	CU_ASSERT_EQUAL(fresh, 1);
	e->count++;
	e = ots_window_hit(&t, 42, 14 * S, 5 * S, &fresh);
	CU_ASSERT_EQUAL(fresh, 0);
	CU_ASSERT_EQUAL(e->count, 1);
	CU_ASSERT_EQUAL(e->last_ns, 14 * S);
	e->count++;
	e = ots_window_hit(&t, 42, 15 * S, 5 * S, &fresh); /* 10 + 5: the window is over */
	CU_ASSERT_EQUAL(fresh, 1);
	CU_ASSERT_EQUAL(e->count, 0);
	CU_ASSERT_EQUAL(e->first_ns, 15 * S);
	CU_ASSERT_EQUAL(t.active, 1);
	ots_window_fini(&t);
}

static unsigned expired;
static void count_cb(void *ud, struct ots_window_ent *e)
{
	(void)ud;
	(void)e;
	expired++;
}

static void test_window_expire_bounded(void)
{
	struct ots_window_tab t;
	int fresh;
	CU_ASSERT_FATAL(ots_window_init(&t, 1024) == 0);
	for (uint64_t k = 0; k < 100; k++)
		ots_window_hit(&t, k * 7919, 1 * S, 10 * S, &fresh);
	CU_ASSERT_EQUAL(t.active, 100);
	expired = 0;
	CU_ASSERT_EQUAL(ots_window_expire(&t, 5 * S, 10 * S, 4096, count_cb, NULL), 0); /* not over yet */
	uint32_t n = ots_window_expire(&t, 11 * S, 10 * S, 16, count_cb, NULL);   /* visits 16 slots only */
	CU_ASSERT(n <= 16);
	CU_ASSERT_EQUAL(expired, n);
	while (t.active)
		ots_window_expire(&t, 11 * S, 10 * S, 16, count_cb, NULL);
	CU_ASSERT_EQUAL(expired, 100);
	ots_window_fini(&t);
}

static void test_window_full_evicts_oldest(void)
{
	struct ots_window_tab t;
	int fresh;
	CU_ASSERT_FATAL(ots_window_init(&t, 16) == 0);
	for (uint64_t k = 0; k < 1000; k++) /* far more keys than slots: never fails, evicts */
		CU_ASSERT_PTR_NOT_NULL(ots_window_hit(&t, k, k, 1000 * S, &fresh));
	CU_ASSERT(t.evicted > 0);
	CU_ASSERT(t.active <= 16);
	/* the most recent key is still there */
	ots_window_hit(&t, 999, 1000, 1000 * S, &fresh);
	CU_ASSERT_EQUAL(fresh, 0);
	ots_window_fini(&t);
}

/* ---- aggregation ---- */

struct sink {
	unsigned n;
	struct ots_rec_alert a[64];
};

static void sink_emit(void *ud, const struct ots_rec_alert *a)
{
	struct sink *s = ud;
	if (s->n < 64)
		s->a[s->n++] = *a;
}

static struct ots_rec_alert mk(const char *id, uint64_t t)
{
	struct ots_rec_alert a;
	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "%s", id);
	a.time_ns = a.first_ns = t;
	a.count = 1;
	snprintf(a.title, sizeof(a.title), "test");
	return a;
}

static void test_agg_delta_polling_hmi(void)
{
	struct ots_alert_agg g;
	struct sink s = { 0 };
	CU_ASSERT_FATAL(ots_alert_agg_init(&g, 64, 60, OTS_AGG_DELTA, sink_emit, &s) == 0);
	/* an HMI writes every second for 100 s: one alert at once, one aggregate per window */
	for (uint64_t i = 0; i < 100; i++) {
		struct ots_rec_alert a = mk("aaaa", (100 + i) * S);
		ots_alert_agg_offer(&g, &a);
		ots_alert_agg_tick(&g, (100 + i) * S, 64);
	}
	ots_alert_agg_flush(&g);
	/* t=100 first (1), window [100,160): 59 absorbed, emitted when t=160 restarts it; t=160 first again (1),
	 * [160, 200) absorbed 39 emitted at flush */
	CU_ASSERT_EQUAL(s.n, 4);
	CU_ASSERT_EQUAL(s.a[0].count, 1);
	CU_ASSERT_EQUAL(s.a[0].time_ns, 100 * S);
	CU_ASSERT_EQUAL(s.a[1].count, 59);
	CU_ASSERT_EQUAL(s.a[1].first_ns, 101 * S);
	CU_ASSERT_EQUAL(s.a[1].time_ns, 159 * S);
	CU_ASSERT_EQUAL(s.a[2].count, 1);
	CU_ASSERT_EQUAL(s.a[3].count, 39);
	uint64_t total = 0;
	for (unsigned i = 0; i < s.n; i++) {
		total += s.a[i].count;
		CU_ASSERT_STRING_EQUAL(s.a[i].id, "aaaa");
	}
	CU_ASSERT_EQUAL(total, 100);
	CU_ASSERT_EQUAL(g.offered, 100);
	CU_ASSERT_EQUAL(g.absorbed, 98);
	ots_alert_agg_fini(&g);
}

static void test_agg_total_merges_workers(void)
{
	struct ots_alert_agg g;
	struct sink s = { 0 };
	CU_ASSERT_FATAL(ots_alert_agg_init(&g, 64, 60, OTS_AGG_TOTAL, sink_emit, &s) == 0);
	/* two workers each raise the same id: first records (count 1) and one delta each */
	struct ots_rec_alert a = mk("bbbb", 10 * S), b = mk("bbbb", 11 * S), c = mk("bbbb", 12 * S);
	c.first_ns = 12 * S;
	c.time_ns = 30 * S;
	c.count = 7;
	ots_alert_agg_offer(&g, &a);
	ots_alert_agg_offer(&g, &b);
	ots_alert_agg_offer(&g, &c);
	struct ots_rec_alert other = mk("cccc", 13 * S);
	ots_alert_agg_offer(&g, &other);
	CU_ASSERT_EQUAL(s.n, 2); /* bbbb once, cccc once */
	ots_alert_agg_tick(&g, 69 * S, 1024);
	CU_ASSERT_EQUAL(s.n, 2); /* bbbb's window [10, 70) is still open */
	ots_alert_agg_tick(&g, 70 * S, 1024);
	CU_ASSERT_EQUAL(s.n, 3);
	CU_ASSERT_STRING_EQUAL(s.a[2].id, "bbbb");
	CU_ASSERT_EQUAL(s.a[2].count, 9); /* every occurrence of the window */
	CU_ASSERT_EQUAL(s.a[2].first_ns, 10 * S);
	CU_ASSERT_EQUAL(s.a[2].time_ns, 30 * S);
	ots_alert_agg_flush(&g);
	CU_ASSERT_EQUAL(s.n, 3); /* cccc had nothing absorbed: nothing more to say */
	ots_alert_agg_fini(&g);
}

static void test_agg_off(void)
{
	struct ots_alert_agg g;
	struct sink s = { 0 };
	CU_ASSERT_FATAL(ots_alert_agg_init(&g, 64, 0, OTS_AGG_DELTA, sink_emit, &s) == 0);
	for (int i = 0; i < 5; i++) {
		struct ots_rec_alert a = mk("dddd", (uint64_t)i * S);
		ots_alert_agg_offer(&g, &a);
	}
	CU_ASSERT_EQUAL(s.n, 5);
	ots_alert_agg_fini(&g);
}

/* ---- stable ids ---- */

static void test_alert_id_stable(void)
{
	struct ots_det_flow f, g;
	char a[33], b[33], c[33], d[33], e[33];
	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.cip[0] = 10, f.cip[3] = 1;
	f.sip[0] = 10, f.sip[3] = 2;
	f.cport = 50000;
	f.sport = 102;
	f.app = 3;
	g = f;
	g.cport = 50001; /* another connection of the same asset pair */
	ots_detect_alert_id("plant-a", OTS_ENGINE_OT, 0, 7, &f, a);
	ots_detect_alert_id("plant-a", OTS_ENGINE_OT, 0, 7, &g, b);
	ots_detect_alert_id("plant-a", OTS_ENGINE_OT, 0, 8, &f, c);
	ots_detect_alert_id("plant-b", OTS_ENGINE_OT, 0, 7, &f, d);
	g.sip[3] = 3;
	ots_detect_alert_id("plant-a", OTS_ENGINE_OT, 0, 7, &g, e);
	CU_ASSERT_EQUAL(strlen(a), 32);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_STRING_NOT_EQUAL(a, d);
	CU_ASSERT_STRING_NOT_EQUAL(a, e);
	/* the same inputs give the same id in every run: pinned value */
	char again[33];
	ots_detect_alert_id("plant-a", OTS_ENGINE_OT, 0, 7, &f, again);
	CU_ASSERT_STRING_EQUAL(a, again);
}

static const struct ots_test window_tests[] = {
	{ "restart after the window", test_window_restart_after_window },
	{ "expiry is bounded", test_window_expire_bounded },
	{ "full table evicts the oldest", test_window_full_evicts_oldest },
	{ NULL, NULL },
};

static const struct ots_test agg_tests[] = {
	{ "delta: polling HMI aggregated", test_agg_delta_polling_hmi },
	{ "total: workers merged", test_agg_total_merges_workers },
	{ "window 0 = every occurrence", test_agg_off },
	{ "stable alert id", test_alert_id_stable },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "window", window_tests, NULL, NULL },
	{ "alert aggregation", agg_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_window", suites);
}
