/* dataplane/flow.c - per-worker flow table on rte_hash with class-ordered expiry lists (see flow.h). */
#include "dataplane/flow.h"

#include "protocols/registry.h"

#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

_Static_assert(sizeof(struct ots_flow) == 64, "hot flow state must stay one cache line");
_Static_assert(sizeof(struct ots_flow_key) == 48, "flow key layout");


static void list_unlink(struct ots_flow_table *ft, uint32_t pos)
{
	struct ots_flow *f = &ft->flows[pos];
	uint8_t c = f->fclass;
	if (f->prev != OTS_FLOW_NONE)
		ft->flows[f->prev].next = f->next;
	else
		ft->head[c] = f->next;
	if (f->next != OTS_FLOW_NONE)
		ft->flows[f->next].prev = f->prev;
	else
		ft->tail[c] = f->prev;
	f->prev = f->next = OTS_FLOW_NONE;
}

static void list_append(struct ots_flow_table *ft, uint32_t pos, uint8_t c)
{
	struct ots_flow *f = &ft->flows[pos];
	f->fclass = c;
	f->next = OTS_FLOW_NONE;
	f->prev = ft->tail[c];
	if (ft->tail[c] != OTS_FLOW_NONE)
		ft->flows[ft->tail[c]].next = pos;
	else
		ft->head[c] = pos;
	ft->tail[c] = pos;
}

/* The table's hash of a key (also its rte_hash hash_func, so every rte_hash call agrees;
 * ots_flow_lookup_bulk computes it inline and passes it): CRC32-C over the words
 * that can differ, 3 instructions for IPv4 (its addresses sit in the first word of each side), 6 for IPv6. */
static inline uint32_t key_hash(const struct ots_flow_key *k)
{
	uint64_t w[6];
	memcpy(w, k, sizeof(w));
	uint32_t h;
	if (k->family == 4) {
		h = rte_hash_crc_8byte((w[0] & 0xffffffffu) | (w[2] << 32), 0);
	} else {
		h = rte_hash_crc_8byte(w[0], 0);
		h = rte_hash_crc_8byte(w[1], h);
		h = rte_hash_crc_8byte(w[2], h);
		h = rte_hash_crc_8byte(w[3], h);
	}
	h = rte_hash_crc_8byte(w[4], h);
	return rte_hash_crc_8byte(w[5], h);
}

static uint32_t flow_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	(void)len;
	(void)init;
	return key_hash(key);
}

int ots_flow_table_init(struct ots_flow_table *ft, const char *name, uint32_t capacity, int socket,
			const uint32_t timeout_s[OTS_FC_MAX], ots_flow_end_fn on_end, void *ud)
{
	memset(ft, 0, sizeof(*ft));
	if (capacity < 8)
		return -EINVAL;
	/* 1/8 more hash slots than flows: a full table (make_room keeps it at capacity) then never runs the cuckoo
	 * displacement search on every insert; and touch everything now so no page fault waits for a packet */
	uint32_t slots = capacity + capacity / 8;
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = slots,
		.key_len = sizeof(struct ots_flow_key),
		.hash_func = flow_hash_fn,
		.hash_func_init_val = 0,
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	ft->h = rte_hash_create(&hp);
	if (!ft->h)
		return rte_errno ? -rte_errno : -ENOMEM;
	ft->flows = rte_zmalloc_socket("ots_flows", (size_t)slots * sizeof(struct ots_flow), 64, socket);
	ft->cold = rte_zmalloc_socket("ots_flow_cold", (size_t)slots * sizeof(struct ots_flow_cold), 64, socket);
	if (!ft->flows || !ft->cold) {
		ots_flow_table_fini(ft);
		return -ENOMEM;
	}
	rte_hash_reset(ft->h);
	memset(ft->flows, 0, (size_t)slots * sizeof(struct ots_flow));
	memset(ft->cold, 0, (size_t)slots * sizeof(struct ots_flow_cold));
	ft->capacity = capacity;
	for (int c = 0; c < OTS_FC_MAX; c++) {
		ft->head[c] = ft->tail[c] = OTS_FLOW_NONE;
		ft->timeout_ns[c] = (uint64_t)timeout_s[c] * 1000000000ull;
	}
	ft->on_end = on_end;
	ft->ud = ud;
	return 0;
}

void ots_flow_table_fini(struct ots_flow_table *ft)
{
	if (ft->h)
		rte_hash_free(ft->h);
	rte_free(ft->flows);
	rte_free(ft->cold);
	memset(ft, 0, sizeof(*ft));
}

int ots_flow_lookup_bulk(struct ots_flow_table *ft, const struct ots_flow_key **keys, uint32_t n, int32_t *pos)
{
	hash_sig_t sig[RTE_HASH_LOOKUP_BULK_MAX];
	if (n > RTE_HASH_LOOKUP_BULK_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		sig[i] = key_hash(keys[i]);
	ft->st.lookups += n;
	return rte_hash_lookup_with_hash_bulk(ft->h, (const void **)keys, sig, n, pos);
}

int ots_flow_get_key(const struct ots_flow_table *ft, uint32_t pos, const struct ots_flow_key **k)
{
	void *kp;
	int r = rte_hash_get_key_with_position(ft->h, (int32_t)pos, &kp);
	if (r < 0)
		return r;
	*k = kp;
	return 0;
}

void ots_flow_end(struct ots_flow_table *ft, uint32_t pos, int why)
{
	const struct ots_flow_key *k;
	if (ft->on_end)
		ft->on_end(ft->ud, ft, pos, why);
	list_unlink(ft, pos);
	if (ots_flow_get_key(ft, pos, &k) == 0) {
		struct ots_flow_key copy = *k;
		rte_hash_del_key(ft->h, &copy);
	}
	memset(&ft->flows[pos], 0, sizeof(ft->flows[pos]));
	memset(&ft->cold[pos], 0, sizeof(ft->cold[pos]));
	ft->st.ended[why]++;
	ft->st.active--;
}

static uint32_t oldest(const struct ots_flow_table *ft)
{
	uint32_t best = OTS_FLOW_NONE;
	uint64_t best_ns = UINT64_MAX;
	for (int c = 0; c < OTS_FC_MAX; c++) {
		uint32_t h = ft->head[c];
		if (h != OTS_FLOW_NONE && ft->flows[h].last_ns < best_ns) {
			best = h;
			best_ns = ft->flows[h].last_ns;
		}
	}
	return best;
}

void ots_flow_make_room(struct ots_flow_table *ft, uint32_t n)
{
	while (ft->st.active && ft->st.active + n > ft->capacity) {
		uint32_t victim = oldest(ft);
		if (victim == OTS_FLOW_NONE)
			return;
		ots_flow_end(ft, victim, OTS_END_EVICTED);
	}
}

static uint8_t proto_class(uint8_t proto)
{
	return proto == 6 ? OTS_FC_TCP_NEW : proto == 17 ? OTS_FC_UDP : OTS_FC_OTHER;
}

int32_t ots_flow_insert(struct ots_flow_table *ft, const struct ots_flow_key *k, uint64_t now_ns)
{
	int32_t pos = rte_hash_add_key(ft->h, k);
	if (unlikely(pos == -ENOSPC)) {
		uint32_t victim = oldest(ft);
		if (victim == OTS_FLOW_NONE)
			return -ENOSPC;
		ots_flow_end(ft, victim, OTS_END_EVICTED);
		pos = rte_hash_add_key(ft->h, k);
	}
	if (unlikely(pos < 0))
		return pos;
	struct ots_flow *f = &ft->flows[pos];
	if (f->flags & OTS_FF_INUSE) /* the key was already there (twice in one burst) */
		return pos;
	memset(f, 0, sizeof(*f));
	f->flags = OTS_FF_INUSE;
	f->first_ns = f->last_ns = now_ns;
	f->prev = f->next = OTS_FLOW_NONE;
	f->list_sec = (uint32_t)(now_ns >> OTS_FLOW_SEC_SHIFT);
	f->tcp_state = k->proto == 6 ? OTS_TCP_NEW : OTS_TCP_NONE;
	list_append(ft, (uint32_t)pos, proto_class(k->proto));
	ft->st.created++;
	ft->st.by_proto[k->proto == 6 ? 0 : k->proto == 17 ? 1 : 2]++;
	ft->st.active++;
	return pos;
}

/* the client's key side of a TCP flow picked up mid-stream, from the sender's side of the first packet seen:
 * the side on a registered service port (protocols/registry.c) is the server (EtherNet/IP's 44818 against an
 * ephemeral 1054); when both or neither are registered, the lower port is the server's */
static int midstream_client(const struct ots_flow_key *k, int side)
{
	int mine = ots_registry_classify(6, k->port[side], k->port[side]) != OTS_APP_UNKNOWN;
	int theirs = ots_registry_classify(6, k->port[!side], k->port[!side]) != OTS_APP_UNKNOWN;
	if (mine != theirs)
		return mine ? !side : side;
	return k->port[side] > k->port[!side] ? side : k->port[side] < k->port[!side] ? !side : side;
}

void ots_flow_first_packet(struct ots_flow_table *ft, uint32_t pos, int side, const struct ots_pkt *pkt)
{
	struct ots_flow *f = &ft->flows[pos];
	uint8_t fl = pkt->tcp_flags;
	if (pkt->ip_proto == 6) {
		int syn = (fl & OTS_TCP_SYN) && !(fl & (OTS_TCP_FIN | OTS_TCP_RST));
		const struct ots_flow_key *k;
		if (syn && (fl & OTS_TCP_ACK))
			f->client_side = (uint8_t)!side; /* SYN-ACK: the receiver opened */
		else if (syn || ots_flow_get_key(ft, pos, &k) < 0)
			f->client_side = (uint8_t)side;
		else /* picked up mid-stream: the server is on a registered service port, else the lower port */
			f->client_side = (uint8_t)midstream_client(k, side);
		if (!syn) {
			f->flags |= OTS_FF_MIDSTREAM;
			f->tcp_state = OTS_TCP_EST;
		}
	} else {
		f->client_side = (uint8_t)side;
	}
}

void ots_flow_relist(struct ots_flow_table *ft, uint32_t pos, uint8_t cls, uint32_t sec)
{
	list_unlink(ft, pos);
	list_append(ft, pos, cls);
	ft->flows[pos].list_sec = sec;
}

uint32_t ots_flow_expire(struct ots_flow_table *ft, uint64_t now_ns, uint32_t budget)
{
	uint32_t done = 0;
	for (int c = 0; c < OTS_FC_MAX && done < budget; c++) {
		while (done < budget) {
			uint32_t h = ft->head[c];
			if (h == OTS_FLOW_NONE || ft->flows[h].last_ns + ft->timeout_ns[c] > now_ns)
				break;
			ots_flow_end(ft, h, OTS_END_TIMEOUT);
			done++;
		}
	}
	return done;
}

void ots_flow_flush_all(struct ots_flow_table *ft)
{
	for (int c = 0; c < OTS_FC_MAX; c++)
		while (ft->head[c] != OTS_FLOW_NONE)
			ots_flow_end(ft, ft->head[c], OTS_END_SHUTDOWN);
}
