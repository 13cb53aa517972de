/* export/oui.h - MAC vendor lookup from the IEEE OUI registry (Debian's ieee-data oui.csv), loaded once at start.
 *
 * Contract: ots_oui_load() reads the CSV (quoted fields allowed) into one sorted array; lookups are a binary
 * search on the first three bytes of a MAC. Locally administered and multicast MACs have no vendor. No network.
 */
#ifndef OTS_OUI_H
#define OTS_OUI_H

#include <stddef.h>
#include <stdint.h>

struct ots_oui_entry {
	uint32_t oui;      /* 24 bits */
	uint32_t name_off; /* into names */
};

struct ots_oui {
	struct ots_oui_entry *e;
	size_t n;
	char *names;
};

/* 0, or -errno (file missing/unreadable); bad lines are skipped */
int ots_oui_load(struct ots_oui *o, const char *path);
void ots_oui_free(struct ots_oui *o);
/* vendor name or NULL */
const char *ots_oui_lookup(const struct ots_oui *o, const uint8_t mac[6]);

#endif
