/* detect/alertagg.c - alert aggregation windows (see alertagg.h). */
#include "detect/alertagg.h"
#include "detect/fnv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t id_key(const char *id)
{
	return ots_fnv1a(OTS_FNV1A_SEED, id, strlen(id));
}

/* the window of e ends (or its slot is reused): emit what it absorbed */
static void window_end(void *ud, struct ots_window_ent *e)
{
	struct ots_alert_agg *g = ud;
	if (!e->pending)
		return;
	struct ots_rec_alert *a = &g->saved[e - g->t.e];
	a->count = g->mode == OTS_AGG_TOTAL ? e->count : e->pending;
	if (g->mode == OTS_AGG_TOTAL)
		a->first_ns = e->first_ns;
	e->pending = 0;
	g->emitted++;
	g->emit(g->ud, a);
}

int ots_alert_agg_init(struct ots_alert_agg *g, uint32_t capacity, uint32_t window_s, int mode,
		       ots_alert_emit_fn emit, void *ud)
{
	memset(g, 0, sizeof(*g));
	g->window_ns = (uint64_t)window_s * 1000000000ull;
	g->mode = mode;
	g->emit = emit;
	g->ud = ud;
	if (!window_s)
		return 0;
	int r = ots_window_init(&g->t, capacity);
	if (r < 0)
		return r;
	g->saved = calloc((size_t)g->t.mask + 1, sizeof(*g->saved));
	if (!g->saved) {
		ots_window_fini(&g->t);
		return -ENOMEM;
	}
	g->t.on_evict = window_end;
	g->t.ud = g;
	return 0;
}

void ots_alert_agg_fini(struct ots_alert_agg *g)
{
	ots_window_fini(&g->t);
	free(g->saved);
	g->saved = NULL;
}

void ots_alert_agg_offer(struct ots_alert_agg *g, const struct ots_rec_alert *a)
{
	g->offered++;
	if (!g->window_ns) {
		g->emitted++;
		g->emit(g->ud, a);
		return;
	}
	int fresh;
	uint64_t first = a->first_ns && a->first_ns < a->time_ns ? a->first_ns : a->time_ns;
	struct ots_window_ent *e = ots_window_hit(&g->t, id_key(a->id), first, g->window_ns, &fresh);
	struct ots_rec_alert *s = &g->saved[e - g->t.e];
	uint32_t n = a->count ? a->count : 1;
	if (fresh) {
		*s = *a;
		s->first_ns = first;
		s->count = n;
		e->count = n;
		g->emitted++;
		g->emit(g->ud, s);
		return;
	}
	g->absorbed += n;
	if (!e->pending && g->mode == OTS_AGG_DELTA)
		s->first_ns = first;
	e->pending += n;
	e->count += n;
	if (a->time_ns > s->time_ns)
		s->time_ns = a->time_ns;
	if (e->last_ns < s->time_ns)
		e->last_ns = s->time_ns;
}

void ots_alert_agg_tick(struct ots_alert_agg *g, uint64_t now_ns, uint32_t max)
{
	if (g->window_ns)
		ots_window_expire(&g->t, now_ns, g->window_ns, max, window_end, g);
}

void ots_alert_agg_flush(struct ots_alert_agg *g)
{
	if (g->window_ns)
		ots_window_flush(&g->t, window_end, g);
}
