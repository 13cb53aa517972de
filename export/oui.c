/* export/oui.c - IEEE OUI registry lookup (see oui.h). */
#include "export/oui.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* next CSV field of line at *pp into out (unquoted); returns 0 at end of line */
static int csv_field(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	size_t n = 0;
	if (!*p || *p == '\n' || *p == '\r')
		return 0;
	if (*p == '"') {
		p++;
		while (*p && !(*p == '"' && p[1] != '"')) {
			if (*p == '"')
				p++; /* "" -> " */
			if (n + 1 < cap)
				out[n++] = *p;
			p++;
		}
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ',' && *p != '\n' && *p != '\r') {
			if (n + 1 < cap)
				out[n++] = *p;
			p++;
		}
	}
	out[n] = 0;
	if (*p == ',')
		p++;
	*pp = p;
	return 1;
}

static int cmp_entry(const void *a, const void *b)
{
	uint32_t x = ((const struct ots_oui_entry *)a)->oui, y = ((const struct ots_oui_entry *)b)->oui;
	return x < y ? -1 : x > y;
}

int ots_oui_load(struct ots_oui *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t cap = 1 << 15, ncap = 1 << 20, nlen = 0;
	o->e = malloc(cap * sizeof(*o->e));
	o->names = malloc(ncap);
	char line[1024], reg[16], hex[16], name[256];
	while (o->e && o->names && fgets(line, sizeof(line), f)) {
		const char *p = line;
		if (!csv_field(&p, reg, sizeof(reg)) || !csv_field(&p, hex, sizeof(hex)) ||
		    !csv_field(&p, name, sizeof(name)) || strlen(hex) != 6)
			continue;
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		if (*end)
			continue; /* the header line */
		size_t l = strlen(name);
		while (l && name[l - 1] == ' ')
			name[--l] = 0;
		if (o->n == cap) {
			struct ots_oui_entry *ne = realloc(o->e, cap * 2 * sizeof(*o->e));
			if (!ne)
				break;
			o->e = ne;
			cap *= 2;
		}
		if (nlen + l + 1 > ncap) {
			char *nn = realloc(o->names, ncap * 2);
			if (!nn)
				break;
			o->names = nn;
			ncap *= 2;
		}
		memcpy(o->names + nlen, name, l + 1);
		o->e[o->n].oui = (uint32_t)v;
		o->e[o->n].name_off = (uint32_t)nlen;
		o->n++;
		nlen += l + 1;
	}
	fclose(f);
	if (!o->e || !o->names) {
		ots_oui_free(o);
		return -ENOMEM;
	}
	qsort(o->e, o->n, sizeof(*o->e), cmp_entry);
	return 0;
}

void ots_oui_free(struct ots_oui *o)
{
	free(o->e);
	free(o->names);
	memset(o, 0, sizeof(*o));
}

const char *ots_oui_lookup(const struct ots_oui *o, const uint8_t mac[6])
{
	if (!o || !o->n || (mac[0] & 0x03)) /* multicast or locally administered */
		return NULL;
	uint32_t key = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (o->e[mid].oui < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->n && o->e[lo].oui == key ? o->names + o->e[lo].name_off : NULL;
}
