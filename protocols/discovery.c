/* protocols/discovery.c - LLDP, CDP, DHCP and ARP device-discovery parsers (see discovery.h). */
#include "protocols/discovery.h"

#include <stdio.h>
#include <string.h>

#include "export/record.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* copy n bytes of src into dst[cap] (cap >= 1), sanitised, NUL-terminated; trailing NULs/spaces dropped */
static void scopy(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	while (n && (src[n - 1] == 0 || src[n - 1] == ' ' || src[n - 1] == '\n' || src[n - 1] == '\r' ||
		     src[n - 1] == '\t'))
		n--;
	if (n > cap - 1)
		n = cap - 1;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = src[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		dst[i] = (char)c;
	}
	dst[n] = 0;
}

static void fmt_hex(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	dst[0] = 0;
	for (size_t i = 0; i < n && o + 3 <= cap; i++) {
		if (i) {
			if (o + 4 > cap)
				break;
			dst[o++] = ':';
		}
		dst[o++] = hx[src[i] >> 4];
		dst[o++] = hx[src[i] & 15];
	}
	dst[o] = 0;
}

static void set_ip4(struct ots_disc *d, const uint8_t *a)
{
	memset(d->ip, 0, sizeof(d->ip));
	memcpy(d->ip, a, 4);
	d->ip_family = 4;
	d->has_ip = 1;
}

static void set_ip6(struct ots_disc *d, const uint8_t *a)
{
	memcpy(d->ip, a, 16);
	d->ip_family = 6;
	d->has_ip = 1;
}

static void caps_device_type(struct ots_disc *d)
{
	uint32_t c = d->cap_enabled ? d->cap_enabled : d->capabilities;
	const char *t = NULL;
	if (c & OTS_DISC_CAP_STATION)
		return; /* an end station (PLCs with a built-in switch set bridge too) */
	if (c & OTS_DISC_CAP_BRIDGE)
		t = "switch";
	else if (c & OTS_DISC_CAP_ROUTER)
		t = "router";
	else if (c & OTS_DISC_CAP_WLAN_AP)
		t = "access point";
	else if (c & OTS_DISC_CAP_TELEPHONE)
		t = "phone";
	else if (c & OTS_DISC_CAP_DOCSIS)
		t = "cable modem";
	if (t && !d->device_type[0])
		snprintf(d->device_type, sizeof(d->device_type), "%s", t);
}

/* ---- LLDP ---- */

/* chassis/port id value as text: MAC subtypes as aa:bb:.., network address subtype as an address */
static void lldp_id_text(char *dst, size_t cap, int is_mac, int is_net, const uint8_t *v, size_t n)
{
	if (is_mac && n == 6) {
		fmt_hex(dst, cap, v, 6);
	} else if (is_net && n == 5 && v[0] == 1) {
		snprintf(dst, cap, "%u.%u.%u.%u", v[1], v[2], v[3], v[4]);
	} else {
		scopy(dst, cap, v, n);
	}
}

static int lldp_mgmt(struct ots_disc *d, const uint8_t *v, size_t n, int *have_v4)
{
	/* address string length (subtype + address), subtype, address, if subtype, if number, oid length, oid */
	if (n < 9)
		return -EBADMSG;
	size_t alen = v[0];
	if (alen < 2 || alen > 32 || 1 + alen + 6 > n)
		return -EBADMSG;
	size_t oid = v[1 + alen + 5];
	if (1 + alen + 6 + oid > n)
		return -EBADMSG;
	uint8_t sub = v[1];
	if (sub == 1 && alen == 5 && !*have_v4) {
		set_ip4(d, v + 2);
		*have_v4 = 1;
	} else if (sub == 2 && alen == 17 && !d->has_ip) {
		set_ip6(d, v + 2);
	}
	return 0;
}

static void lldp_med(struct ots_disc *d, uint8_t sub, const uint8_t *v, size_t n, int *have_fw)
{
	switch (sub) {
	case 6: /* firmware revision */
		if (n) {
			scopy(d->firmware, sizeof(d->firmware), v, n);
			*have_fw = d->firmware[0] != 0;
		}
		break;
	case 7: /* software revision */
		if (n && !*have_fw)
			scopy(d->firmware, sizeof(d->firmware), v, n);
		break;
	case 8:
		scopy(d->serial, sizeof(d->serial), v, n);
		break;
	case 9:
		scopy(d->vendor, sizeof(d->vendor), v, n);
		break;
	case 10:
		scopy(d->model, sizeof(d->model), v, n);
		break;
	default:
		break;
	}
}

int ots_lldp_parse(const uint8_t *p, size_t len, struct ots_disc *out)
{
	memset(out, 0, sizeof(*out));
	out->source = OTS_DISC_LLDP;
	size_t off = 0;
	int have_chassis = 0, have_v4 = 0, have_fw = 0;
	int rc = 0;
	while (off < len) {
		if (len - off < 2)
			return -EBADMSG;
		uint16_t h = rd16(p + off);
		unsigned type = h >> 9;
		size_t n = h & 0x1ffu;
		off += 2;
		if (n > len - off)
			return -EBADMSG;
		const uint8_t *v = p + off;
		off += n;
		switch (type) {
		case 0: /* End of LLDPDU */
			if (n != 0)
				return -EBADMSG;
			goto done;
		case 1: /* chassis id: subtype + 1..255 */
			if (n < 2 || n > 256)
				return -EBADMSG;
			have_chassis = 1;
			lldp_id_text(out->chassis, sizeof(out->chassis), v[0] == 4, v[0] == 5, v + 1, n - 1);
			if (v[0] == 4 && n == 7) {
				memcpy(out->mac, v + 1, 6);
				out->has_mac = 1;
			} else if (v[0] == 5 && !out->has_ip) {
				if (n == 6 && v[1] == 1)
					set_ip4(out, v + 2);
				else if (n == 18 && v[1] == 2)
					set_ip6(out, v + 2);
			}
			break;
		case 2: /* port id */
			if (n < 2 || n > 256)
				return -EBADMSG;
			lldp_id_text(out->port, sizeof(out->port), v[0] == 3, v[0] == 4, v + 1, n - 1);
			break;
		case 3:
			if (n < 2)
				return -EBADMSG;
			out->ttl = rd16(v);
			break;
		case 4:
			scopy(out->port_desc, sizeof(out->port_desc), v, n);
			break;
		case 5:
			scopy(out->name, sizeof(out->name), v, n);
			break;
		case 6:
			scopy(out->description, sizeof(out->description), v, n);
			break;
		case 7:
			if (n != 4)
				return -EBADMSG;
			out->capabilities = rd16(v);
			out->cap_enabled = rd16(v + 2);
			break;
		case 8:
			if ((rc = lldp_mgmt(out, v, n, &have_v4)) != 0)
				return rc;
			break;
		case 127: /* organisationally specific: OUI + subtype */
			if (n < 4)
				return -EBADMSG;
			if (v[0] == 0x00 && v[1] == 0x12 && v[2] == 0xbb)
				lldp_med(out, v[3], v + 4, n - 4, &have_fw);
			break;
		default:
			break;
		}
	}
done:
	if (!have_chassis)
		return -EBADMSG;
	caps_device_type(out);
	return 0;
}

/* ---- CDP ---- */

static uint32_t cdp_caps(uint32_t c)
{
	uint32_t r = 0;
	if (c & 0x01)
		r |= OTS_DISC_CAP_ROUTER;
	if (c & 0x0e) /* transparent bridge, source route bridge, switch */
		r |= OTS_DISC_CAP_BRIDGE;
	if (c & 0x10)
		r |= OTS_DISC_CAP_STATION;
	if (c & 0x40)
		r |= OTS_DISC_CAP_REPEATER;
	if (c & 0x80)
		r |= OTS_DISC_CAP_TELEPHONE;
	if (c & 0x20) /* IGMP capable: nothing matching */
		r |= OTS_DISC_CAP_OTHER;
	return r;
}

/* Addresses / Management Addresses: u32 count, then (ptype, plen, proto[plen], u16 alen, addr[alen]).
 * Sets the first IPv4 (or, without IPv4, IPv6) unless one is set already. */
static int cdp_addrs(struct ots_disc *d, const uint8_t *v, size_t n)
{
	static const uint8_t snap6[8] = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd};
	if (n < 4)
		return -EBADMSG;
	uint32_t cnt = rd32(v);
	size_t off = 4;
	for (uint32_t i = 0; i < cnt; i++) {
		if (n - off < 2)
			return -EBADMSG;
		uint8_t ptype = v[off], plen = v[off + 1];
		off += 2;
		if (n - off < (size_t)plen + 2)
			return -EBADMSG;
		const uint8_t *proto = v + off;
		off += plen;
		size_t alen = rd16(v + off);
		off += 2;
		if (n - off < alen)
			return -EBADMSG;
		const uint8_t *a = v + off;
		off += alen;
		static const uint8_t zero16[16] = {0};
		if (!memcmp(a, zero16, alen < 16 ? alen : 16))
			continue; /* 0.0.0.0 / :: says nothing */
		if (ptype == 1 && plen == 1 && proto[0] == 0xcc && alen == 4) {
			if (!d->has_ip || d->ip_family != 4)
				set_ip4(d, a);
		} else if (ptype == 2 && plen == 8 && !memcmp(proto, snap6, 8) && alen == 16) {
			if (!d->has_ip)
				set_ip6(d, a);
		}
	}
	return 0;
}

/* firmware: the token after "Version " (up to ',' or whitespace) */
static void cdp_version(struct ots_disc *d, const uint8_t *v, size_t n)
{
	static const char key[] = "Version ";
	const size_t kl = sizeof(key) - 1;
	for (size_t i = 0; i + kl < n; i++) {
		if (memcmp(v + i, key, kl))
			continue;
		size_t s = i + kl, e = s;
		while (e < n && v[e] != ',' && v[e] != ' ' && v[e] != '\n' && v[e] != '\r' && v[e] != 0)
			e++;
		if (e > s) {
			scopy(d->firmware, sizeof(d->firmware), v + s, e - s);
			return;
		}
	}
}

int ots_cdp_parse(const uint8_t *p, size_t len, struct ots_disc *out)
{
	memset(out, 0, sizeof(*out));
	out->source = OTS_DISC_CDP;
	if (len < 4)
		return -EBADMSG;
	out->version = p[0];
	out->ttl = p[1];
	if (p[0] != 1 && p[0] != 2)
		return -EBADMSG;
	/* checksum (p[2..3]) deliberately not verified: captures carry frames with bad checksums */
	size_t off = 4;
	int have_addr = 0, rc;
	while (off < len) {
		if (len - off < 4)
			return -EBADMSG;
		uint16_t type = rd16(p + off);
		size_t tl = rd16(p + off + 2);
		if (tl < 4 || tl > len - off)
			return -EBADMSG;
		const uint8_t *v = p + off + 4;
		size_t n = tl - 4;
		off += tl;
		switch (type) {
		case 0x0001:
			scopy(out->name, sizeof(out->name), v, n);
			break;
		case 0x0002:
			if ((rc = cdp_addrs(out, v, n)) != 0)
				return rc;
			have_addr = out->has_ip;
			break;
		case 0x0003:
			scopy(out->port, sizeof(out->port), v, n);
			break;
		case 0x0004:
			if (n != 4)
				return -EBADMSG;
			out->capabilities = out->cap_enabled = cdp_caps(rd32(v));
			break;
		case 0x0005:
			scopy(out->description, sizeof(out->description), v, n);
			cdp_version(out, v, n);
			break;
		case 0x0006:
			scopy(out->model, sizeof(out->model), v, n);
			break;
		case 0x0016: /* management addresses: used when Addresses gave none */
			if (have_addr) {
				if (n < 4)
					return -EBADMSG;
				break;
			}
			if ((rc = cdp_addrs(out, v, n)) != 0)
				return rc;
			break;
		default:
			break;
		}
	}
	caps_device_type(out);
	return 0;
}

/* ---- DHCP ---- */

static void dhcp_vendor(struct ots_disc *d, const uint8_t *v, size_t n)
{
	scopy(d->vendor_class, sizeof(d->vendor_class), v, n);
	static const struct {
		const char *prefix;
		const char *os;
	} map[] = {
		{"MSFT", "Windows"},
		{"android-dhcp", "Android"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t pl = strlen(map[i].prefix);
		if (n >= pl && !memcmp(v, map[i].prefix, pl)) {
			snprintf(d->os, sizeof(d->os), "%s", map[i].os);
			return;
		}
	}
	scopy(d->description, sizeof(d->description), v, n);
}

static void dhcp_prl(struct ots_disc *d, const uint8_t *v, size_t n)
{
	size_t o = 0;
	char *s = d->fingerprint;
	const size_t cap = sizeof(d->fingerprint);
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char tmp[5];
		int w = snprintf(tmp, sizeof(tmp), "%s%u", i ? "," : "", v[i]);
		if (w < 0 || o + (size_t)w >= cap)
			break; /* whole numbers only */
		memcpy(s + o, tmp, (size_t)w);
		o += (size_t)w;
		s[o] = 0;
	}
}

/* option 81: flags, rcode1, rcode2, domain name (ASCII, or DNS wire format when flag E (0x04) is set) */
static void dhcp_fqdn(struct ots_disc *d, const uint8_t *v, size_t n)
{
	if (n < 4)
		return;
	const uint8_t *name = v + 3;
	size_t nl = n - 3;
	if (!(v[0] & 0x04)) {
		scopy(d->name, sizeof(d->name), name, nl);
		return;
	}
	char buf[256];
	size_t o = 0, i = 0;
	while (i < nl && name[i] && o < sizeof(buf) - 1) {
		size_t ll = name[i++];
		if (ll > 63 || ll > nl - i)
			break;
		if (o && o < sizeof(buf) - 1)
			buf[o++] = '.';
		for (size_t k = 0; k < ll && o < sizeof(buf) - 1; k++)
			buf[o++] = (char)name[i + k];
		i += ll;
	}
	scopy(d->name, sizeof(d->name), (const uint8_t *)buf, o);
}

int ots_dhcp_parse(const uint8_t *p, size_t len, struct ots_disc *out)
{
	static const uint8_t cookie[4] = {0x63, 0x82, 0x53, 0x63};
	memset(out, 0, sizeof(*out));
	out->source = OTS_DISC_DHCP;
	if (len < 236)
		return -EBADMSG;
	uint8_t op = p[0], htype = p[1], hlen = p[2];
	if ((op != 1 && op != 2) || hlen > 16)
		return -EBADMSG;
	out->dhcp_op = op;
	out->xid = rd32(p + 4);
	if (htype == 1 && hlen == 6) {
		memcpy(out->mac, p + 28, 6);
		out->has_mac = 1;
	}
	static const uint8_t zero4[4] = {0};
	if (memcmp(p + 12, zero4, 4))
		set_ip4(out, p + 12); /* ciaddr */
	else if (op == 2 && memcmp(p + 16, zero4, 4))
		set_ip4(out, p + 16); /* yiaddr */
	if (len < 240 || memcmp(p + 236, cookie, 4))
		return 0; /* plain BOOTP */
	size_t off = 240;
	const uint8_t *req_ip = NULL, *fqdn = NULL;
	size_t fqdn_len = 0;
	while (off < len) {
		uint8_t code = p[off++];
		if (code == 0)
			continue;
		if (code == 255)
			break;
		if (off >= len)
			return -EBADMSG;
		size_t n = p[off++];
		if (n > len - off)
			return -EBADMSG;
		const uint8_t *v = p + off;
		off += n;
		switch (code) {
		case 53:
			if (n != 1)
				return -EBADMSG;
			out->dhcp_type = v[0];
			break;
		case 12:
			scopy(out->hostname, sizeof(out->hostname), v, n);
			break;
		case 50:
			if (n != 4)
				return -EBADMSG;
			req_ip = v;
			break;
		case 81:
			fqdn = v;
			fqdn_len = n;
			break;
		case 60:
			if (op == 1)
				dhcp_vendor(out, v, n);
			break;
		case 55:
			if (op == 1)
				dhcp_prl(out, v, n);
			break;
		case 61:
			if (op == 1)
				fmt_hex(out->client_id, sizeof(out->client_id), v, n);
			break;
		default:
			break;
		}
	}
	if (!out->has_ip && req_ip && memcmp(req_ip, zero4, 4))
		set_ip4(out, req_ip);
	if (fqdn) {
		dhcp_fqdn(out, fqdn, fqdn_len);
		if (!out->hostname[0] && out->name[0]) {
			size_t l = strcspn(out->name, ".");
			if (l >= sizeof(out->hostname))
				l = sizeof(out->hostname) - 1;
			memcpy(out->hostname, out->name, l);
			out->hostname[l] = 0;
		}
	}
	return 0;
}

/* ---- ARP ---- */

int ots_arp_parse(const uint8_t *p, size_t len, struct ots_disc *out)
{
	memset(out, 0, sizeof(*out));
	out->source = OTS_DISC_ARP;
	if (len < 28)
		return -EBADMSG;
	if (rd16(p) != 1 || rd16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4)
		return -EBADMSG;
	uint16_t op = rd16(p + 6);
	if (op < 1 || op > 4)
		return -EBADMSG;
	out->arp_op = op;
	memcpy(out->mac, p + 8, 6);
	out->has_mac = 1;
	static const uint8_t zero4[4] = {0};
	if (memcmp(p + 14, zero4, 4))
		set_ip4(out, p + 14);
	memcpy(out->target_mac, p + 18, 6);
	memcpy(out->target_ip, p + 24, 4);
	out->gratuitous = out->has_ip && !memcmp(p + 14, p + 24, 4);
	return 0;
}

/* ---- identities ---- */

size_t ots_disc_identities(const struct ots_disc *d, void (*fn)(void *ud, int kind, int confidence, const char *v),
			   void *ud)
{
	const struct {
		const char *v;
		int kind, conf;
	} f[] = {
		{d->name, OTS_ATTR_NAME, 80},
		{d->hostname, OTS_ATTR_HOSTNAME, 80},
		{d->description, OTS_ATTR_DESCRIPTION, 70},
		{d->model, OTS_ATTR_MODEL, 70},
		{d->vendor, OTS_ATTR_VENDOR, 70},
		{d->serial, OTS_ATTR_SERIAL, 70},
		{d->firmware, OTS_ATTR_FIRMWARE, 60},
		{d->os, OTS_ATTR_OS, 50},
		{d->device_type, OTS_ATTR_DEVICE_TYPE, 50},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].v[0])
			continue;
		if (fn)
			fn(ud, f[i].kind, f[i].conf, f[i].v);
		n++;
	}
	return n;
}

const char *ots_disc_source_name(unsigned source)
{
	static const char *const names[] = {"none", "lldp", "cdp", "dhcp", "arp"};
	return source < sizeof(names) / sizeof(names[0]) ? names[source] : "?";
}
