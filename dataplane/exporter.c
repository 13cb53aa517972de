/* dataplane/exporter.c - the exporter thread (see exporter.h). */
#include "dataplane/exporter.h"
#include "export/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ring.h>

#include "config/log.h"
#include "dataplane/handoff.h"
#include "export/encode.h"

#define DRAIN_BATCH 256

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		if (fread(&v, sizeof(v), 1, f) != 1)
			v = 0;
		fclose(f);
	}
	if (!v)
		v = wall_ns() ^ ((uint64_t)getpid() << 32);
	return v ? v : 1;
}

static const char *json_target(const struct ots_config *cfg)
{
	if (!strcmp(cfg->export_json, "auto"))
		return cfg->kafka_brokers[0] ? "" : "-";
	return cfg->export_json;
}

int ots_exporter_json_on_stdout(const struct ots_config *cfg)
{
	return !strcmp(json_target(cfg), "-");
}

static int add_sink(struct ots_exporter *e, struct ots_sink *s, const char *name)
{
	e->sinks[e->nsinks] = s;
	e->sink_names[e->nsinks] = name;
	e->nsinks++;
	return 0;
}

static void emit_alert(void *ud, const struct ots_rec_alert *a);

int ots_exporter_init(struct ots_exporter *e, const struct ots_config *cfg, ots_health_fn health, void *ud,
		      char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->health = health;
	e->health_ud = ud;
	e->boot_id = random_u64();
	if (ots_inventory_init(&e->inv, cfg->max_assets) < 0) {
		snprintf(err, errlen, "exporter: cannot allocate an inventory of %u assets; lower export.max_assets",
			 cfg->max_assets);
		return -ENOMEM;
	}
	if (ots_alert_agg_init(&e->agg, cfg->alert_capacity * 4, cfg->alert_window, OTS_AGG_TOTAL, emit_alert, e) < 0) {
		ots_inventory_fini(&e->inv);
		snprintf(err, errlen, "exporter: cannot allocate %u alert aggregation windows; lower detect.alert_capacity",
			 cfg->alert_capacity * 4);
		return -ENOMEM;
	}
	if (cfg->oui_file[0]) {
		int r = ots_oui_load(&e->oui, cfg->oui_file);
		if (r < 0)
			OTS_WARN("export.oui_file '%s': %s; assets get no MAC vendor (install Debian's ieee-data or set "
				 "export.oui_file: \"\")", cfg->oui_file, strerror(-r));
		else
			e->inv.oui = &e->oui;
	}
	e->pb = malloc(OTS_MAX_RECORD_BYTES);
	e->json = malloc(OTS_MAX_RECORD_BYTES * 2);
	if (!e->pb || !e->json) {
		snprintf(err, errlen, "exporter: out of memory");
		ots_exporter_fini(e);
		return -ENOMEM;
	}
	const char *jt = json_target(cfg);
	struct ots_sink *s;
	if (jt[0]) {
		if (!(s = ots_sink_json_open(jt, err, errlen)))
			goto fail;
		add_sink(e, s, "json");
	}
	if (cfg->export_pb_file[0]) {
		if (!(s = ots_sink_pbfile_open(cfg->export_pb_file, err, errlen)))
			goto fail;
		add_sink(e, s, "protobuf_file");
	}
	if (cfg->kafka_brokers[0]) {
		if (!(s = ots_sink_kafka_open(cfg, err, errlen)))
			goto fail;
		add_sink(e, s, "kafka");
	}
	return 0;
fail:
	ots_exporter_fini(e);
	return -EINVAL;
}

int ots_exporter_add_ring(struct ots_exporter *e, struct rte_ring *r)
{
	if (e->nrings == OTS_MAX_WORKERS)
		return -E2BIG;
	e->rings[e->nrings++] = r;
	return 0;
}

uint64_t ots_exporter_queue_depth(const struct ots_exporter *e)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < e->nrings; i++)
		n += rte_ring_count(e->rings[i]);
	return n / 3; /* slots -> records, at the size of a flow record */
}

/* number, encode once per format wanted, hand to every sink */
static void emit(struct ots_exporter *e, int type, const void *rec)
{
	struct ots_envelope_meta m = { e->cfg->sensor_id, e->boot_id, e->sequence + 1, wall_ns() };
	char key[128];
	int pblen = -1, jlen = -1;
	int klen = ots_record_key(type, rec, e->cfg->sensor_id, key, sizeof(key));
	e->sequence++;
	for (unsigned i = 0; i < e->nsinks; i++) {
		struct ots_sink *s = e->sinks[i];
		if (s->ops->wants & OTS_SINK_PB) {
			if (pblen < 0)
				pblen = ots_encode_pb(&m, type, rec, e->pb, OTS_MAX_RECORD_BYTES);
			if (pblen < 0) {
				e->st.encode_failed++;
				continue;
			}
			s->ops->put(s, type, key, klen > 0 ? (size_t)klen : 0, e->pb, (size_t)pblen);
		} else {
			if (jlen < 0)
				jlen = ots_encode_json(&m, type, rec, e->json, OTS_MAX_RECORD_BYTES * 2);
			if (jlen < 0) {
				e->st.encode_failed++;
				continue;
			}
			s->ops->put(s, type, key, klen > 0 ? (size_t)klen : 0, e->json, (size_t)jlen);
		}
	}
	e->st.emitted[type]++;
	e->st.last_sequence = e->sequence;
}

static void emit_health(struct ots_exporter *e)
{
	static struct ots_rec_health h; /* exporter thread only */
	if (!e->health)
		return;
	memset(&h, 0, sizeof(h));
	e->health(e->health_ud, &h);
	h.time_ns = wall_ns();
	h.export_queue_depth = ots_exporter_queue_depth(e);
	for (unsigned i = 0; i < e->nsinks; i++) {
		struct ots_sink_stats ss;
		e->sinks[i]->ops->stats(e->sinks[i], &ss);
		h.export_sent += ss.delivered;
		h.export_failed += ss.failed + ss.dropped;
		h.spool_bytes += ss.spool_bytes;
		h.spool_records += ss.spool_records;
		if (!ss.healthy || !h.sink_state[0])
			snprintf(h.sink_state, sizeof(h.sink_state), "%.16s: %.128s", e->sink_names[i], ss.state);
	}
	emit(e, OTS_REC_health, &h);
}

static void emit_asset(void *ud, const struct ots_rec_asset *a)
{
	emit(ud, OTS_REC_asset, a);
}

static void emit_alert(void *ud, const struct ots_rec_alert *a)
{
	emit(ud, OTS_REC_alert, a);
}

static unsigned drain(struct ots_exporter *e, unsigned budget)
{
	union ots_record_buf buf;
	unsigned done = 0;
	for (unsigned i = 0; i < e->nrings; i++)
		for (unsigned k = 0; k < budget && ots_handoff_get(e->rings[i], &buf.rec); k++, done++) {
			if (buf.rec.type == OTS_REC_asset) { /* an observation: merged, emitted when it changes */
				ots_inventory_observe(&e->inv, &buf.rec.u.asset);
				e->st.observations++;
			} else if (buf.rec.type == OTS_REC_alert) { /* merged across workers, emitted once per window */
				if (buf.rec.u.alert.time_ns > e->clock_ns)
					e->clock_ns = buf.rec.u.alert.time_ns;
				ots_alert_agg_offer(&e->agg, &buf.rec.u.alert);
			} else if (buf.rec.type < OTS_REC_MAX && buf.rec.type != OTS_REC_health) {
				if (buf.rec.type == OTS_REC_flow && buf.rec.u.flow.end_ns > e->clock_ns)
					e->clock_ns = buf.rec.u.flow.end_ns;
				emit(e, (int)buf.rec.type, &buf.rec.u);
			}
		}
	return done;
}

/* the inventory scan is O(capacity): at most every 100 ms, or everything at stop */
static void emit_assets(struct ots_exporter *e, int all)
{
	static __thread uint64_t last;
	uint64_t now = ots_mono_ns();
	if (!all && (now - last < 100000000ull || !e->inv.count))
		return;
	last = now;
	ots_inventory_emit(&e->inv, now, all ? 0 : (uint64_t)e->cfg->asset_interval * 1000000000ull, emit_asset, e);
}

static void poll_sinks(struct ots_exporter *e)
{
	for (unsigned i = 0; i < e->nsinks; i++)
		if (e->sinks[i]->ops->poll)
			e->sinks[i]->ops->poll(e->sinks[i]);
}

static void *exporter_main(void *arg)
{
	struct ots_exporter *e = arg;
	uint64_t interval = (uint64_t)e->cfg->health_interval * 1000000000ull;
	uint64_t next_health = ots_mono_ns() + interval;
	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		unsigned n = drain(e, DRAIN_BATCH);
		ots_alert_agg_tick(&e->agg, e->clock_ns, 256);
		emit_assets(e, 0);
		poll_sinks(e);
		if (interval) {
			uint64_t now = ots_mono_ns();
			if (now >= next_health) {
				emit_health(e);
				next_health = now + interval;
			}
		}
		if (!n)
			usleep(200);
	}
	while (drain(e, DRAIN_BATCH))
		;
	return NULL;
}

int ots_exporter_start(struct ots_exporter *e)
{
	int r = pthread_create(&e->thread, NULL, exporter_main, e);
	if (r)
		return -r;
	pthread_setname_np(e->thread, "ots-exporter");
	e->started = 1;
	return 0;
}

void ots_exporter_stop(struct ots_exporter *e, int timeout_ms)
{
	if (e->started) {
		__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
		pthread_join(e->thread, NULL);
		e->started = 0;
	}
	while (drain(e, DRAIN_BATCH)) /* records put after the thread's last look */
		;
	ots_alert_agg_flush(&e->agg);
	emit_assets(e, 1);
	if (e->cfg->health_interval)
		emit_health(e);
	for (unsigned i = 0; i < e->nsinks; i++) {
		int r = e->sinks[i]->ops->flush(e->sinks[i], timeout_ms);
		if (r < 0)
			OTS_WARN("export: %s sink: flush: %s", e->sink_names[i], strerror(-r));
	}
}

void ots_exporter_fini(struct ots_exporter *e)
{
	for (unsigned i = 0; i < e->nsinks; i++)
		e->sinks[i]->ops->close(e->sinks[i]);
	e->nsinks = 0;
	ots_inventory_fini(&e->inv);
	ots_alert_agg_fini(&e->agg);
	ots_oui_free(&e->oui);
	free(e->pb);
	free(e->json);
	e->pb = NULL;
	e->json = NULL;
}
