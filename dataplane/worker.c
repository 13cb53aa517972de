/* dataplane/worker.c - the per-lcore packet path (see worker.h for the contract).
 *
 * A burst goes through three passes, l3fwd style: decode every packet and build flow keys; one bulk hash
 * lookup; then per packet: insert misses, update counters and TCP state, feed reassembly / the app layer.
 */
#include "dataplane/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dataplane/handoff.h"
#include "dataplane/rss.h"

#define OTS_X_NAME(name, help) #name,
const char *const ots_drop_names[OTS_DROP_MAX] = { OTS_DROPS(OTS_X_NAME) };
#undef OTS_X_NAME

#define LOOKUP_MAX 64 /* RTE_HASH_LOOKUP_BULK_MAX */
#define SCRATCH_BYTES 65536
#define PREFETCH_AHEAD 3

struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wire_len;
	uint64_t ts;
};

struct app_ctx {
	struct ots_worker *w;
	uint32_t pos;
	uint8_t dir;
	uint16_t app;
};

static void app_deliver(void *ud, const uint8_t *data, uint32_t len, uint32_t flags)
{
	struct app_ctx *c = ud;
	const struct ots_proto *pr = &ots_protocols[c->app];
	if (!(flags & OTS_REASM_F_GAP))
		c->w->st.app_bytes[c->app] += len;
	else
		c->w->ft.cold[c->pos].gap_bytes += len;
	if (pr->parse)
		pr->parse(data, len, flags | ((uint32_t)c->dir << 8), NULL);
}

static void hand_off(struct ots_worker *w, const struct ots_record *r)
{
	while (ots_handoff_put(w->rec_ring, r) < 0) {
		if (!w->export_blocking) {
			w->st.records_dropped[r->type]++;
			return;
		}
		rte_pause(); /* main's final flush: the exporter is draining */
	}
	w->st.records[r->type]++;
}

static uint8_t end_reason(const struct ots_flow *f, int why)
{
	switch (why) {
	case OTS_END_EVICTED:
		return OTS_FLOW_END_EVICTED;
	case OTS_END_REUSED:
		return OTS_FLOW_END_REUSED;
	case OTS_END_SHUTDOWN:
		return OTS_FLOW_END_SHUTDOWN;
	default:
		return f->tcp_state == OTS_TCP_CLOSED ? OTS_FLOW_END_CLOSED : OTS_FLOW_END_TIMEOUT;
	}
}

static void set_addr(struct ots_addr *a, uint8_t family, const uint32_t ip[4])
{
	a->family = family;
	memcpy(a->ip, ip, 16);
}

/* the Flow record of an ending flow, client as source */
static void emit_flow(struct ots_worker *w, struct ots_flow_table *ft, uint32_t pos, int why)
{
	const struct ots_flow_key *k;
	if (ots_flow_get_key(ft, pos, &k) < 0)
		return;
	const struct ots_flow *f = &ft->flows[pos];
	const struct ots_flow_cold *cd = &ft->cold[pos];
	union ots_record_buf b;
	memset(&b, 0, ots_record_len(OTS_REC_flow));
	b.rec.type = OTS_REC_flow;
	b.rec.worker = w->id;
	struct ots_rec_flow *r = &b.rec.u.flow;
	int cs = f->client_side, ss = !cs;
	set_addr(&r->t.src, k->family, k->addr[cs]);
	set_addr(&r->t.dst, k->family, k->addr[ss]);
	r->t.src_port = k->port[cs];
	r->t.dst_port = k->port[ss];
	r->t.proto = k->proto;
	r->t.vlan[0] = k->vlan[0];
	r->t.vlan[1] = k->vlan[1];
	if (cd->cflags & OTS_FC_MAC) {
		memcpy(r->src_mac, cd->mac[cs], 6);
		memcpy(r->dst_mac, cd->mac[ss], 6);
	}
	r->start_ns = f->first_ns;
	r->end_ns = f->last_ns;
	r->pkts_to_server = f->pkts[0];
	r->pkts_to_client = f->pkts[1];
	r->bytes_to_server = f->bytes[0];
	r->bytes_to_client = f->bytes[1];
	uint32_t h = rte_hash_crc(k, sizeof(*k), 0);
	r->flow_hash = ((uint64_t)h << 32) | rte_hash_crc(&f->first_ns, sizeof(f->first_ns), h);
	r->app = f->app;
	r->tcp_flags_to_server = f->tcp_flags[0];
	r->tcp_flags_to_client = f->tcp_flags[1];
	r->end_reason = end_reason(f, why);
	r->tcp_state = f->tcp_state;
	r->events = (uint16_t)(((f->flags & OTS_FF_MIDSTREAM) ? OTS_FLOWEV_MIDSTREAM : 0) |
			       (cd->gap_bytes ? OTS_FLOWEV_GAP : 0));
	r->gap_bytes = cd->gap_bytes;
	r->worker = w->id;
	hand_off(w, &b.rec);
}

/* flow end: deliver what reassembly still holds (gaps reported), emit its Flow record; then the slot is reused */
static void on_flow_end(void *ud, struct ots_flow_table *ft, uint32_t pos, int why)
{
	struct ots_worker *w = ud;
	struct ots_flow *f = &ft->flows[pos];
	if (f->tcp_state != OTS_TCP_NONE) {
		for (uint8_t d = 0; d < 2; d++) {
			struct ots_reasm_dir *rd = &ft->cold[pos].rd[d];
			if (rd->nsegs) {
				struct app_ctx c = { w, pos, d, f->app };
				ots_reasm_flush(rd, &w->segs, &w->rst, app_deliver, &c);
			}
		}
	}
	if (w->rec_ring && w->cfg->export_flows)
		emit_flow(w, ft, pos, why);
}

int ots_worker_init(struct ots_worker *w, unsigned id, const struct ots_config *cfg, struct ots_run *run, int socket,
		    char *err, size_t errlen)
{
	char name[32];
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	w->run = run;
	w->ts_offset = -1;
	w->linktype = OTS_LINK_ETHERNET;
	w->tsc_hz = rte_get_tsc_hz();
	w->tsc0 = rte_rdtsc();
	w->rcfg.max_bytes = cfg->reasm_max_bytes;
	w->rcfg.max_segments = cfg->reasm_max_segments;
	const uint32_t tmo[OTS_FC_MAX] = {
		[OTS_FC_TCP_NEW] = cfg->timeout_tcp_new,
		[OTS_FC_TCP_EST] = cfg->timeout_tcp_est,
		[OTS_FC_TCP_CLOSED] = cfg->timeout_tcp_closed,
		[OTS_FC_UDP] = cfg->timeout_udp,
		[OTS_FC_OTHER] = cfg->timeout_other,
	};
	snprintf(name, sizeof(name), "ots_flows_w%u", id);
	int r = ots_flow_table_init(&w->ft, name, cfg->flow_capacity, socket, tmo, on_flow_end, w);
	if (r < 0) {
		snprintf(err, errlen, "worker %u: cannot allocate a flow table of %u flows (%s); lower flow.capacity "
			 "or give EAL more memory (dataplane.memory_mb)", id, cfg->flow_capacity, strerror(-r));
		return r;
	}
	r = ots_seg_pool_init(&w->segs, cfg->reasm_pool_segments);
	w->scratch = malloc(SCRATCH_BYTES);
	if (r < 0 || !w->scratch) {
		snprintf(err, errlen, "worker %u: cannot allocate %u reassembly segments; lower reassembly.segment_pool",
			 id, cfg->reasm_pool_segments);
		ots_worker_fini(w);
		return -ENOMEM;
	}
	return 0;
}

void ots_worker_fini(struct ots_worker *w)
{
	ots_flow_table_fini(&w->ft);
	ots_seg_pool_fini(&w->segs);
	free(w->scratch);
	w->scratch = NULL;
}

static inline uint64_t tsc_now_ns(const struct ots_worker *w)
{
	uint64_t d = rte_rdtsc() - w->tsc0;
	return w->ns0 + (uint64_t)((unsigned __int128)d * 1000000000u / w->tsc_hz);
}

static void count_events(struct ots_worker *w, uint64_t ev)
{
	while (ev) {
		w->st.events[__builtin_ctzll(ev)]++;
		ev &= ev - 1;
	}
}

static int32_t new_flow(struct ots_worker *w, const struct ots_flow_key *k, const uint8_t *frame, int side)
{
	int32_t p = ots_flow_insert(&w->ft, k, w->now_ns);
	if (unlikely(p < 0)) {
		w->st.flow_insert_failed++;
		return p;
	}
	struct ots_flow *f = &w->ft.flows[p];
	if (!(f->flags & OTS_FF_COUNTED)) {
		f->flags |= OTS_FF_COUNTED;
		f->app = ots_registry_classify(k->proto, k->port[0], k->port[1]);
		w->st.app_flows[f->app]++;
		if (w->linktype == OTS_LINK_ETHERNET) { /* frame: dst MAC, src MAC */
			struct ots_flow_cold *cd = &w->ft.cold[p];
			memcpy(cd->mac[side], frame + 6, 6);
			memcpy(cd->mac[!side], frame, 6);
			cd->cflags |= OTS_FC_MAC;
		}
	}
	return p;
}

static void app_layer(struct ots_worker *w, uint32_t pos, int dir, const struct ots_pkt *pkt)
{
	struct ots_flow *f = &w->ft.flows[pos];
	struct app_ctx c = { w, pos, (uint8_t)dir, f->app };
	if (pkt->ip_proto == 6) {
		uint8_t fl = pkt->tcp_flags;
		if (!pkt->payload_len && !(fl & (OTS_TCP_SYN | OTS_TCP_FIN | OTS_TCP_RST)))
			return;
		struct ots_reasm_dir *rd = w->ft.cold[pos].rd;
		ots_reasm_segment(&rd[dir], &w->segs, &w->rcfg, &w->rst, pkt->seq, fl, pkt->payload,
				  pkt->payload_len, app_deliver, &c);
		if (unlikely(fl & (OTS_TCP_FIN | OTS_TCP_RST))) {
			if (rd[dir].nsegs)
				ots_reasm_flush(&rd[dir], &w->segs, &w->rst, app_deliver, &c);
			if ((fl & OTS_TCP_RST) && rd[!dir].nsegs) {
				c.dir = (uint8_t)!dir;
				ots_reasm_flush(&rd[!dir], &w->segs, &w->rst, app_deliver, &c);
			}
		}
	} else if (pkt->payload_len) {
		app_deliver(&c, pkt->payload, pkt->payload_len, 0);
	}
}

/* a SYN (no ACK) with a new initial sequence number on a closed TCP flow is a new connection on the same
 * ports; the same ISN again is the client retrying after a RST (what tshark also counts as one conversation) */
static inline int tcp_reused(const struct ots_flow_table *ft, uint32_t pos, const struct ots_pkt *pkt)
{
	const struct ots_flow_cold *c = &ft->cold[pos];
	return ft->flows[pos].tcp_state == OTS_TCP_CLOSED &&
	       (pkt->tcp_flags & (OTS_TCP_SYN | OTS_TCP_ACK)) == OTS_TCP_SYN &&
	       (!(c->cflags & OTS_FC_ISN) || c->client_isn != pkt->seq);
}

static void process_frames(struct ots_worker *w, const struct frame *fr, uint32_t n)
{
	struct ots_pkt pk[LOOKUP_MAX];
	struct ots_flow_key keys[LOOKUP_MAX];
	const struct ots_flow_key *kp[LOOKUP_MAX];
	int32_t pos[LOOKUP_MAX];
	uint8_t side[LOOKUP_MAX], idx[LOOKUP_MAX];
	uint32_t m = 0;

	for (uint32_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(fr[i].data);
	for (uint32_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(fr[i + PREFETCH_AHEAD].data);
		struct ots_pkt *p = &pk[i];
		ots_decode(fr[i].data, fr[i].caplen, w->linktype, p);
		w->st.processed++;
		w->st.bytes += fr[i].wire_len;
		w->st.l3[p->l3_type]++;
		if (unlikely(p->events))
			count_events(w, p->events);
		if (likely(p->flow_ok && !(p->flags & OTS_PF_FRAG_LATE))) {
			side[m] = (uint8_t)ots_flow_key_make(p, &keys[m]);
			kp[m] = &keys[m];
			idx[m] = (uint8_t)i;
			m++;
		} else {
			w->st.no_flow++;
		}
	}
	if (!m)
		return;
	ots_flow_lookup_bulk(&w->ft, kp, m, pos);
	if (unlikely(w->ft.st.active + m > w->ft.capacity)) {
		/* table nearly full: make room for this burst's new flows before inserting any, so no insert
		 * evicts a flow that a later packet of the burst already looked up; then look up again */
		uint32_t misses = 0;
		for (uint32_t j = 0; j < m; j++)
			misses += pos[j] < 0;
		if (w->ft.st.active + misses > w->ft.capacity) {
			ots_flow_make_room(&w->ft, misses);
			ots_flow_lookup_bulk(&w->ft, kp, m, pos);
		}
	}
	int stale = 0;
	for (uint32_t j = 0; j < m; j++) {
		const struct ots_pkt *p = &pk[idx[j]];
		int32_t q = pos[j];
		if (fr[idx[j]].ts > w->now_ns) /* packet clock, packet by packet (a burst can span seconds) */
			w->now_ns = fr[idx[j]].ts;
		if (unlikely(stale))
			q = rte_hash_lookup(w->ft.h, &keys[j]);
		if (q < 0) {
			q = new_flow(w, &keys[j], fr[idx[j]].data, side[j]);
			if (q < 0)
				continue;
		} else if (unlikely(p->ip_proto == 6 && tcp_reused(&w->ft, (uint32_t)q, p))) {
			ots_flow_end(&w->ft, (uint32_t)q, OTS_END_REUSED);
			stale = 1;
			q = new_flow(w, &keys[j], fr[idx[j]].data, side[j]);
			if (q < 0)
				continue;
		}
		int dir = ots_flow_update(&w->ft, (uint32_t)q, side[j], p, fr[idx[j]].wire_len, w->now_ns);
		if (unlikely((p->tcp_flags & (OTS_TCP_SYN | OTS_TCP_ACK)) == OTS_TCP_SYN && p->ip_proto == 6 && !dir)) {
			w->ft.cold[q].client_isn = p->seq;
			w->ft.cold[q].cflags |= OTS_FC_ISN;
		}
		if (p->payload_len || p->ip_proto == 6)
			app_layer(w, (uint32_t)q, dir, p);
	}
}

static inline uint64_t mbuf_ts(const struct ots_worker *w, const struct rte_mbuf *m)
{
	if (w->ts_offset >= 0 && (m->ol_flags & w->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, w->ts_offset, rte_mbuf_timestamp_t *) * w->ts_mult;
	return 0;
}

void ots_worker_process(struct ots_worker *w, struct rte_mbuf **pkts, uint32_t n)
{
	struct frame fr[LOOKUP_MAX];
	uint32_t k = 0;
	if (w->ts_offset < 0)
		w->now_ns = tsc_now_ns(w);
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (unlikely(m->nb_segs > 1)) {
			/* jumbo frame in chained mbufs: linearise it and process it alone */
			if (k) {
				process_frames(w, fr, k);
				k = 0;
			}
			uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)SCRATCH_BYTES);
			const uint8_t *d = rte_pktmbuf_read(m, 0, len, w->scratch);
			struct frame one = { d, d ? len : 0, m->pkt_len, mbuf_ts(w, m) };
			w->st.multiseg++;
			process_frames(w, &one, 1);
			continue;
		}
		fr[k].data = rte_pktmbuf_mtod(m, const uint8_t *);
		fr[k].caplen = m->data_len;
		fr[k].wire_len = m->pkt_len;
		fr[k].ts = mbuf_ts(w, m);
		if (++k == LOOKUP_MAX) {
			process_frames(w, fr, k);
			k = 0;
		}
	}
	if (k)
		process_frames(w, fr, k);
	rte_pktmbuf_free_bulk(pkts, n);
}

void ots_worker_process_bytes(struct ots_worker *w, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
			      uint64_t ts_ns)
{
	struct frame f = { data, caplen, wire_len, ts_ns };
	process_frames(w, &f, 1);
}

/* port has fewer queues than workers: hand each packet to the worker its symmetric hash names */
static void dispatch(struct ots_worker *w, struct rte_mbuf **pkts, uint32_t n)
{
	struct rte_mbuf *mine[OTS_MAX_BURST], *theirs[OTS_MAX_BURST];
	uint8_t target[OTS_MAX_BURST];
	uint32_t nw = w->run->nworkers, nm = 0;
	struct ots_pkt p;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		ots_decode(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, w->linktype, &p);
		uint32_t h = ots_rss_hash(&p);
		m->hash.rss = h;
		target[i] = (uint8_t)(((uint64_t)h * nw) >> 32);
		if (target[i] == w->id)
			mine[nm++] = m;
	}
	for (uint32_t t = 0; t < nw; t++) {
		if (t == w->id || !w->out[t])
			continue;
		uint32_t k = 0;
		for (uint32_t i = 0; i < n; i++)
			if (target[i] == t)
				theirs[k++] = pkts[i];
		if (!k)
			continue;
		uint32_t sent = rte_ring_sp_enqueue_burst(w->out[t], (void **)theirs, k, NULL);
		w->st.forwarded += sent;
		if (unlikely(sent < k)) {
			w->st.drops[OTS_DROP_sw_ring_full] += k - sent;
			rte_pktmbuf_free_bulk(theirs + sent, k - sent);
		}
	}
	if (nm)
		ots_worker_process(w, mine, nm);
}

static uint32_t drain_rings(struct ots_worker *w, struct rte_mbuf **pkts, unsigned burst)
{
	uint32_t got = 0;
	for (unsigned j = 0; j < w->run->nworkers; j++) {
		if (!w->in[j])
			continue;
		unsigned n = rte_ring_sc_dequeue_burst(w->in[j], (void **)pkts, burst, NULL);
		if (n) {
			w->st.rx_ring += n;
			ots_worker_process(w, pkts, n);
			got += n;
		}
	}
	return got;
}

int ots_worker_main(void *arg)
{
	struct ots_worker *w = arg;
	struct rte_mbuf *pkts[OTS_MAX_BURST];
	const unsigned burst = w->cfg->burst;
	const uint32_t batch = w->cfg->expiry_batch;

	while (likely(!w->run->stop)) {
		uint32_t got = 0;
		for (unsigned q = 0; q < w->nrxq; q++) {
			uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, (uint16_t)burst);
			if (!n)
				continue;
			w->st.rx_port += n;
			got += n;
			if (w->distribute)
				dispatch(w, pkts, n);
			else
				ots_worker_process(w, pkts, n);
		}
		if (w->nin)
			got += drain_rings(w, pkts, burst);
		if (!got) {
			w->st.idle_loops++;
			if (w->ts_offset < 0)
				w->now_ns = tsc_now_ns(w);
		}
		ots_flow_expire(&w->ft, w->now_ns, batch);
		w->st.loops++;
	}
	__atomic_store_n(&w->run->rx_done[w->id], 1, __ATOMIC_RELEASE);
	/* drain hand-off rings until every producer has stopped and nothing is left */
	for (;;) {
		int all = 1;
		for (unsigned j = 0; j < w->run->nworkers; j++)
			if (!__atomic_load_n(&w->run->rx_done[j], __ATOMIC_ACQUIRE))
				all = 0;
		uint32_t got = w->nin ? drain_rings(w, pkts, burst) : 0;
		if (all && !got)
			break;
	}
	return 0;
}

void ots_worker_flush(struct ots_worker *w)
{
	ots_flow_flush_all(&w->ft);
}
