/* export/inventory.c - asset inventory (see inventory.h). Open addressing over a fixed table by asset id. */
#include "export/inventory.h"
#include "export/encode.h"

#include "protocols/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ots_inventory_init(struct ots_inventory *inv, uint32_t capacity)
{
	uint32_t cap = 64;
	memset(inv, 0, sizeof(*inv));
	while (cap < capacity * 2 && cap < (1u << 28))
		cap <<= 1;
	inv->e = calloc(cap, sizeof(*inv->e));
	if (!inv->e)
		return -ENOMEM;
	inv->cap = cap;
	return 0;
}

void ots_inventory_fini(struct ots_inventory *inv)
{
	free(inv->e);
	memset(inv, 0, sizeof(*inv));
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct ots_inv_entry *lookup(const struct ots_inventory *inv, const char *id, int create)
{
	uint32_t i = str_hash(id) & (inv->cap - 1);
	for (uint32_t n = 0; n < inv->cap; n++, i = (i + 1) & (inv->cap - 1)) {
		struct ots_inv_entry *e = &inv->e[i];
		if (!e->used)
			return create ? e : NULL;
		if (!strcmp(e->a.id, id))
			return e;
	}
	return NULL;
}

static void fmt_mac_id(const uint8_t *m, char *buf, size_t n)
{
	snprintf(buf, n, "mac:%02x%02x%02x%02x%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int fmt_ip_id(const struct ots_addr *a, char *buf, size_t n)
{
	char t[64];
	if (a->family != 4 && a->family != 6)
		return -1;
	ots_fmt_ip(a, t, sizeof(t));
	return snprintf(buf, n, "ip:%s", t);
}

static int mac_is_router(const struct ots_inventory *inv, const uint8_t *mac)
{
	char id[24];
	fmt_mac_id(mac, id, sizeof(id));
	const struct ots_inv_entry *e = lookup(inv, id, 0);
	return e && e->router;
}

int ots_inventory_id(const struct ots_inventory *inv, const struct ots_asset_key *k, char *buf, size_t cap)
{
	if (k->has_mac && !(k->ip.family && mac_is_router(inv, k->mac))) {
		fmt_mac_id(k->mac, buf, cap);
		return (int)strlen(buf);
	}
	return fmt_ip_id(&k->ip, buf, cap);
}

static int same_addr(const struct ots_addr *a, const struct ots_addr *b)
{
	return a->family == b->family && !memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16);
}

/* record ip on the asset; returns 1 if new */
static int add_ip(struct ots_inv_entry *e, const struct ots_addr *ip)
{
	if (!ip->family)
		return 0;
	for (unsigned i = 0; i < e->a.nips; i++)
		if (same_addr(&e->a.ips[i], ip))
			return 0;
	e->nmacips++;
	if (e->a.nips < OTS_ASSET_MAX_IPS)
		e->a.ips[e->a.nips++] = *ip;
	return 1;
}

static int merge_attr(struct ots_rec_asset *a, const struct ots_attr *n)
{
	for (unsigned i = 0; i < a->nattrs; i++) {
		struct ots_attr *o = &a->attrs[i];
		if (o->kind != n->kind)
			continue;
		if (!strcmp(o->value, n->value)) { /* same fact again: keep the best provenance */
			if (n->confidence > o->confidence) {
				*o = *n;
				return 1;
			}
			return 0;
		}
		if (n->confidence > o->confidence || (n->confidence == o->confidence && n->time_ns >= o->time_ns)) {
			*o = *n;
			return 1;
		}
		return 0;
	}
	if (a->nattrs == OTS_ASSET_MAX_ATTRS)
		return 0;
	a->attrs[a->nattrs++] = *n;
	return 1;
}

int ots_inventory_observe(struct ots_inventory *inv, const struct ots_rec_asset *obs)
{
	char id[sizeof(obs->id)];
	int changed = 0;

	/* a MAC fronting many IPs is a router: learn that on the MAC's own entry */
	if (obs->key.has_mac && obs->key.ip.family) {
		char mid[24];
		fmt_mac_id(obs->key.mac, mid, sizeof(mid));
		struct ots_inv_entry *m = lookup(inv, mid, 0);
		if (m && !m->router && add_ip(m, &obs->key.ip) && m->nmacips > OTS_ROUTER_IPS) {
			m->router = 1;
			m->a.role = OTS_ROLE_NETWORK;
			m->a.role_confidence = 60;
			m->dirty = 1;
			changed = 1;
		}
	}
	if (ots_inventory_id(inv, &obs->key, id, sizeof(id)) < 0)
		return changed;
	struct ots_inv_entry *e = lookup(inv, id, 1);
	if (!e || (!e->used && inv->count + 1 > inv->cap / 2)) {
		inv->dropped++;
		return -ENOSPC;
	}
	if (!e->used) {
		memset(e, 0, sizeof(*e));
		e->used = 1;
		snprintf(e->a.id, sizeof(e->a.id), "%s", id);
		e->a.key = obs->key;
		if (!strncmp(id, "ip:", 3)) /* keyed by IP behind a router: the MAC is the router's */
			e->a.key.has_mac = 0, memset(e->a.key.mac, 0, 6);
		e->a.first_ns = obs->first_ns;
		inv->count++;
		changed = 1;
		const char *vendor = e->a.key.has_mac ? ots_oui_lookup(inv->oui, e->a.key.mac) : NULL;
		if (vendor) { /* the NIC's vendor: a weak hint that protocol identity overrides */
			struct ots_attr *at = &e->a.attrs[e->a.nattrs++];
			at->kind = OTS_ATTR_VENDOR;
			at->confidence = 30;
			at->source = OTS_APP_OUI;
			at->time_ns = obs->first_ns;
			snprintf(at->value, sizeof(at->value), "%s", vendor);
		}
	}
	struct ots_rec_asset *a = &e->a;
	if (!strncmp(id, "mac:", 4))
		changed |= add_ip(e, &obs->key.ip);
	else if (!a->nips && obs->key.ip.family)
		changed |= add_ip(e, &obs->key.ip);
	if (!a->key.ip.family && obs->key.ip.family && !strncmp(id, "mac:", 4))
		a->key.ip = obs->key.ip;
	if ((a->protocols_served | obs->protocols_served) != a->protocols_served ||
	    (a->protocols_used | obs->protocols_used) != a->protocols_used) {
		a->protocols_served |= obs->protocols_served;
		a->protocols_used |= obs->protocols_used;
		changed = 1;
	}
	if (obs->role && obs->role_confidence > a->role_confidence && !e->router) {
		a->role = obs->role;
		a->role_confidence = obs->role_confidence;
		changed = 1;
	}
	for (unsigned i = 0; i < obs->nattrs && i < OTS_ASSET_MAX_ATTRS; i++)
		changed |= merge_attr(a, &obs->attrs[i]);
	if (!a->first_ns || (obs->first_ns && obs->first_ns < a->first_ns))
		a->first_ns = obs->first_ns;
	if (obs->last_ns > a->last_ns)
		a->last_ns = obs->last_ns; /* last seen alone is not a change worth a record */
	if (changed) {
		e->dirty = 1;
		inv->changes++;
	}
	return changed;
}

unsigned ots_inventory_emit(struct ots_inventory *inv, uint64_t now_ns, uint64_t min_interval_ns,
			    ots_inventory_fn fn, void *ud)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < inv->cap; i++) {
		struct ots_inv_entry *e = &inv->e[i];
		if (!e->used || !e->dirty)
			continue;
		if (e->last_emit_ns && now_ns - e->last_emit_ns < min_interval_ns)
			continue;
		fn(ud, &e->a);
		e->dirty = 0;
		e->last_emit_ns = now_ns ? now_ns : 1;
		n++;
	}
	return n;
}

const struct ots_rec_asset *ots_inventory_find(const struct ots_inventory *inv, const char *id)
{
	const struct ots_inv_entry *e = lookup(inv, id, 0);
	return e ? &e->a : NULL;
}
