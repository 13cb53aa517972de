/* tests/test_inventory.c - asset inventory: keys, router rule, attribute provenance/confidence, roles,
 * protocols, rate-limited emission, capacity. */
#include <errno.h>
#include <string.h>

#include "export/inventory.h"
#include "protocols/registry.h"
#include "tests/harness.h"

static struct ots_rec_asset obs(const char *mac, uint8_t ip4, uint64_t t)
{
	struct ots_rec_asset a;
	memset(&a, 0, sizeof(a));
	if (mac) {
		memcpy(a.key.mac, mac, 6);
		a.key.has_mac = 1;
	}
	if (ip4) {
		a.key.ip.family = 4;
		a.key.ip.ip[0] = 10;
		a.key.ip.ip[3] = ip4;
	}
	a.first_ns = a.last_ns = t;
	return a;
}

static void with_attr(struct ots_rec_asset *a, int kind, int conf, const char *v, uint64_t t)
{
	a->nattrs = 1;
	a->attrs[0].kind = (uint8_t)kind;
	a->attrs[0].confidence = (uint8_t)conf;
	a->attrs[0].source = OTS_APP_MODBUS;
	a->attrs[0].time_ns = t;
	strcpy(a->attrs[0].value, v);
}

struct seen {
	int n;
	char ids[16][24];
};

static void collect(void *ud, const struct ots_rec_asset *a)
{
	struct seen *s = ud;
	if (s->n < 16)
		strcpy(s->ids[s->n], a->id);
	s->n++;
}

#define MAC1 "\x00\x1b\x1b\x01\x02\x03"
#define MACR "\x00\x00\x5e\x00\x01\x01"

static void test_key_and_attrs(void)
{
	struct ots_inventory inv;
	CU_ASSERT_FATAL(ots_inventory_init(&inv, 100) == 0);
	struct ots_rec_asset o = obs(MAC1, 5, 100);
	with_attr(&o, OTS_ATTR_VENDOR, 90, "Schneider Electric", 100);
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 1);
	const struct ots_rec_asset *a = ots_inventory_find(&inv, "mac:001b1b010203");
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->nattrs, 1);
	CU_ASSERT_STRING_EQUAL(a->attrs[0].value, "Schneider Electric");
	CU_ASSERT_EQUAL(a->nips, 1);
	/* the same fact again: no change */
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 0);
	/* a lower-confidence different vendor loses */
	with_attr(&o, OTS_ATTR_VENDOR, 30, "OUI vendor", 200);
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 0);
	CU_ASSERT_STRING_EQUAL(a->attrs[0].value, "Schneider Electric");
	/* equal confidence, newer value wins (firmware upgraded) */
	with_attr(&o, OTS_ATTR_FIRMWARE, 90, "v1.0", 300);
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 1);
	with_attr(&o, OTS_ATTR_FIRMWARE, 90, "v2.1", 400);
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 1);
	CU_ASSERT_EQUAL(a->nattrs, 2);
	CU_ASSERT_STRING_EQUAL(a->attrs[1].value, "v2.1");
	CU_ASSERT_EQUAL(a->attrs[1].time_ns, 400);
	/* no Ethernet: keyed by IP */
	struct ots_rec_asset p = obs(NULL, 9, 10);
	ots_inventory_observe(&inv, &p);
	CU_ASSERT(ots_inventory_find(&inv, "ip:10.0.0.9") != NULL);
	ots_inventory_fini(&inv);
}

static void test_router_rule(void)
{
	struct ots_inventory inv;
	CU_ASSERT_FATAL(ots_inventory_init(&inv, 100) == 0);
	for (uint8_t i = 1; i <= OTS_ROUTER_IPS + 2; i++) {
		struct ots_rec_asset o = obs(MACR, i, i);
		ots_inventory_observe(&inv, &o);
	}
	const struct ots_rec_asset *r = ots_inventory_find(&inv, "mac:00005e000101");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->role, OTS_ROLE_NETWORK);
	/* behind the router, devices are keyed by IP, without the router's MAC */
	struct ots_rec_asset o = obs(MACR, 200, 1000);
	with_attr(&o, OTS_ATTR_MODEL, 90, "1756-L71", 1000);
	ots_inventory_observe(&inv, &o);
	const struct ots_rec_asset *d = ots_inventory_find(&inv, "ip:10.0.0.200");
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_EQUAL(d->key.has_mac, 0);
	CU_ASSERT_STRING_EQUAL(d->attrs[0].value, "1756-L71");
	ots_inventory_fini(&inv);
}

static void test_roles_protocols_and_emit(void)
{
	struct ots_inventory inv;
	struct seen s = { 0 };
	CU_ASSERT_FATAL(ots_inventory_init(&inv, 100) == 0);
	struct ots_rec_asset o = obs(MAC1, 5, 1);
	o.role = OTS_ROLE_HMI;
	o.role_confidence = 30;
	o.protocols_used = 1ull << OTS_APP_MODBUS;
	ots_inventory_observe(&inv, &o);
	o.role = OTS_ROLE_ENG_STATION;
	o.role_confidence = 70;
	o.protocols_used = 1ull << OTS_APP_S7COMM;
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 1);
	o.role = OTS_ROLE_HMI; /* a weaker hint later does not demote it */
	o.role_confidence = 40;
	o.protocols_used = 0;
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 0);
	const struct ots_rec_asset *a = ots_inventory_find(&inv, "mac:001b1b010203");
	CU_ASSERT_EQUAL(a->role, OTS_ROLE_ENG_STATION);
	CU_ASSERT_EQUAL(a->protocols_used, (1ull << OTS_APP_MODBUS) | (1ull << OTS_APP_S7COMM));
	/* emitted once, then rate limited until the interval passed, and only when changed */
	CU_ASSERT_EQUAL(ots_inventory_emit(&inv, 1000, 500, collect, &s), 1);
	CU_ASSERT_STRING_EQUAL(s.ids[0], "mac:001b1b010203");
	CU_ASSERT_EQUAL(ots_inventory_emit(&inv, 1100, 500, collect, &s), 0); /* not dirty */
	with_attr(&o, OTS_ATTR_NAME, 80, "ES-01", 5);
	ots_inventory_observe(&inv, &o);
	CU_ASSERT_EQUAL(ots_inventory_emit(&inv, 1200, 500, collect, &s), 0); /* dirty but too soon */
	CU_ASSERT_EQUAL(ots_inventory_emit(&inv, 1600, 500, collect, &s), 1);
	CU_ASSERT_EQUAL(s.n, 2);
	ots_inventory_fini(&inv);
}

static void test_capacity(void)
{
	struct ots_inventory inv;
	CU_ASSERT_FATAL(ots_inventory_init(&inv, 40) == 0);
	int full = 0;
	for (int i = 1; i < 250; i++) {
		struct ots_rec_asset o = obs(NULL, (uint8_t)i, 1);
		if (ots_inventory_observe(&inv, &o) < 0)
			full++;
	}
	CU_ASSERT(full > 0);
	CU_ASSERT_EQUAL(inv.dropped, (uint64_t)full);
	CU_ASSERT(inv.count <= inv.cap / 2);
	ots_inventory_fini(&inv);
}

/* an IPv6 asset without a MAC (routed, or a raw-IP capture) keeps its whole address in its id */
static void test_ipv6_id(void)
{
	struct ots_inventory inv;
	CU_ASSERT_FATAL(ots_inventory_init(&inv, 64) == 0);
	struct ots_rec_asset o = obs(NULL, 0, 1);
	o.key.ip.family = 6;
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33,
				 0x44 };
	memcpy(o.key.ip.ip, v6, 16);
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 1);
	const struct ots_rec_asset *a = ots_inventory_find(&inv, "ip:2001:db8:1234:5678:9abc:def0:1122:3344");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(a->id, "ip:2001:db8:1234:5678:9abc:def0:1122:3344");
	/* another address sharing the first 21 characters is another asset */
	o.key.ip.ip[15] = 0x45;
	CU_ASSERT_EQUAL(ots_inventory_observe(&inv, &o), 1);
	CU_ASSERT_EQUAL(inv.count, 2);
	ots_inventory_fini(&inv);
}

/* MAC vendors from Debian's ieee-data (installed by scripts/setup); protocol identity overrides them */
static void test_oui_vendor(void)
{
	struct ots_oui oui;
	CU_ASSERT_FATAL(ots_oui_load(&oui, "/usr/share/ieee-data/oui.csv") == 0);
	CU_ASSERT(oui.n > 20000);
	const char *v = ots_oui_lookup(&oui, (const uint8_t *)"\x00\x1b\x1b\x23\xeb\x3b");
	CU_ASSERT(v && strstr(v, "Siemens"));
	CU_ASSERT_PTR_NULL(ots_oui_lookup(&oui, (const uint8_t *)"\x02\x1b\x1b\x23\xeb\x3b")); /* local */
	CU_ASSERT_PTR_NULL(ots_oui_lookup(&oui, (const uint8_t *)"\x01\x00\x5e\x00\x00\x01")); /* multicast */
	CU_ASSERT_EQUAL(ots_oui_load(&(struct ots_oui){ 0 }, "/nonexistent/oui.csv"), -ENOENT);
	struct ots_inventory inv;
	CU_ASSERT_FATAL(ots_inventory_init(&inv, 10) == 0);
	inv.oui = &oui;
	struct ots_rec_asset o = obs("\x00\x1b\x1b\x23\xeb\x3b", 40, 1);
	ots_inventory_observe(&inv, &o);
	const struct ots_rec_asset *a = ots_inventory_find(&inv, "mac:001b1b23eb3b");
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->attrs[0].kind, OTS_ATTR_VENDOR);
	CU_ASSERT_EQUAL(a->attrs[0].source, OTS_APP_OUI);
	CU_ASSERT_EQUAL(a->attrs[0].confidence, 30);
	with_attr(&o, OTS_ATTR_VENDOR, 90, "Siemens", 2);
	ots_inventory_observe(&inv, &o);
	CU_ASSERT_STRING_EQUAL(a->attrs[0].value, "Siemens");
	CU_ASSERT_EQUAL(a->attrs[0].source, OTS_APP_MODBUS);
	ots_inventory_fini(&inv);
	ots_oui_free(&oui);
}

static const struct ots_test inv_tests[] = {
	{ "oui_vendor", test_oui_vendor },
	{ "key_and_attrs", test_key_and_attrs },
	{ "router_rule", test_router_rule },
	{ "roles_protocols_and_emit", test_roles_protocols_and_emit },
	{ "capacity", test_capacity },
	{ "IPv6 asset id", test_ipv6_id },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "inventory", inv_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_inventory", suites);
}
