/* export/inventory.h - the asset inventory, merged from the workers' observations on the exporter thread.
 *
 * Contract:
 *  - Workers send observations (struct ots_rec_asset with one fact: an attribute, a role hint, protocols
 *    served/used) for the endpoints of their flows; the exporter merges them here, across workers.
 *  - An asset is keyed by MAC ("mac:001122334455"); a MAC seen behind more than OTS_ROUTER_IPS addresses is a
 *    router's, and the devices behind it are keyed by IP ("ip:10.0.0.1"). Without Ethernet, assets are keyed by
 *    IP.
 *  - Attributes keep their provenance (protocol, packet time) and confidence: per kind the highest confidence
 *    wins, a tie goes to the newer value. Role: the hint with the highest confidence wins.
 *  - Capacity is fixed at init; a full inventory counts the observation as dropped.
 *  - ots_inventory_emit() hands every asset that changed since it was last emitted, and was not emitted in
 *    the last min_interval, to the callback: new or changed assets, rate limited.
 *  - Pure C, single-threaded (the exporter's), no DPDK include.
 */
#ifndef OTS_INVENTORY_H
#define OTS_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "export/oui.h"
#include "export/record.h"

#define OTS_ROUTER_IPS 4

struct ots_inv_entry {
	struct ots_rec_asset a;
	uint64_t last_emit_ns;  /* monotonic time of the last emission, 0 = never */
	uint8_t dirty;
	uint8_t router;         /* this MAC fronts many IPs: devices behind it are keyed by IP */
	uint8_t used;
	uint8_t pad[5];
	uint32_t nmacips;       /* distinct IPs seen with this MAC */
};

struct ots_inventory {
	struct ots_inv_entry *e;
	uint32_t cap;           /* power of two */
	uint32_t count;
	uint64_t dropped;       /* observations not stored: inventory full */
	const struct ots_oui *oui; /* MAC vendor names, may be NULL */
	uint64_t changes;
};

int ots_inventory_init(struct ots_inventory *inv, uint32_t capacity);
void ots_inventory_fini(struct ots_inventory *inv);

/* Merge one observation. Returns 1 when an asset was created or changed, 0 when not, -ENOSPC when full. */
int ots_inventory_observe(struct ots_inventory *inv, const struct ots_rec_asset *obs);

typedef void (*ots_inventory_fn)(void *ud, const struct ots_rec_asset *a);

/* Emit dirty assets not emitted within min_interval_ns of now_ns (monotonic); returns how many. */
unsigned ots_inventory_emit(struct ots_inventory *inv, uint64_t now_ns, uint64_t min_interval_ns,
			    ots_inventory_fn fn, void *ud);

/* Find by id ("mac:..." / "ip:..."), NULL if absent (tests, tools). */
const struct ots_rec_asset *ots_inventory_find(const struct ots_inventory *inv, const char *id);

/* the id an observation maps to (follows the router rule); returns length */
int ots_inventory_id(const struct ots_inventory *inv, const struct ots_asset_key *k, char *buf, size_t cap);

#endif
