/* fuzz/fuzz_discovery.c - libFuzzer target for protocols/discovery.c.
 *
 * Input: u8 selector, then the PDU. selector & 3: 0 LLDP, 1 CDP, 2 DHCP, 3 ARP. selector bit 2 (DHCP): prefix the
 * 236-byte BOOTP header (op 1, Ethernet) and the magic cookie so the options are reached; (LLDP): prefix a valid
 * chassis id TLV. The PDU is an exactly sized heap copy (ASan sees any over-read).
 * Invariants: return 0 or -EBADMSG; source set; every string field NUL-terminated inside its cap and printable
 * ASCII; ip_family 4 or 6 exactly when has_ip; identities match the non-empty fields.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. protocols/discovery.c fuzz/fuzz_discovery.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/record.h"
#include "fuzz/feed.h" /* CHECK */
#include "protocols/discovery.h"

static void str_check(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e);
}

static void on_id(void *ud, int kind, int conf, const char *v)
{
	(*(size_t *)ud)++;
	CHECK(kind >= 0 && kind < OTS_ATTR_MAX);
	CHECK(conf > 0 && conf <= 100);
	CHECK(v && v[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++, size--;
	size_t pre = 0;
	uint8_t head[240];
	if ((sel & 4) && (sel & 3) == 2) {
		memset(head, 0, sizeof(head));
		head[0] = 1, head[1] = 1, head[2] = 6;
		memcpy(head + 236, "\x63\x82\x53\x63", 4);
		pre = 240;
	} else if ((sel & 4) && (sel & 3) == 0) {
		memcpy(head, "\x02\x07\x04\x00\x11\x22\x33\x44\x55", 9);
		pre = 9;
	}
	uint8_t *p = malloc(pre + size + 1);
	if (!p)
		return 0;
	memcpy(p, head, pre);
	memcpy(p + pre, data, size);
	struct ots_disc d;
	int rc;
	switch (sel & 3) {
	case 0:
		rc = ots_lldp_parse(p, pre + size, &d);
		CHECK(d.source == OTS_DISC_LLDP);
		break;
	case 1:
		rc = ots_cdp_parse(p, pre + size, &d);
		CHECK(d.source == OTS_DISC_CDP);
		break;
	case 2:
		rc = ots_dhcp_parse(p, pre + size, &d);
		CHECK(d.source == OTS_DISC_DHCP);
		break;
	default:
		rc = ots_arp_parse(p, pre + size, &d);
		CHECK(d.source == OTS_DISC_ARP);
		break;
	}
	free(p);
	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(d.has_ip <= 1 && d.has_mac <= 1);
	CHECK(d.has_ip ? (d.ip_family == 4 || d.ip_family == 6) : d.ip_family == 0);
#define S(f) str_check(d.f, sizeof(d.f))
	S(name), S(description), S(model), S(firmware), S(vendor), S(serial), S(hostname), S(device_type), S(os);
	S(fingerprint), S(vendor_class), S(client_id), S(chassis), S(port), S(port_desc);
#undef S
	size_t calls = 0;
	size_t n = ots_disc_identities(&d, on_id, &calls);
	CHECK(n == calls && n <= 9);
	return 0;
}
