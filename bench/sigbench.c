/* bench/sigbench.c - otsense-sigbench: signature compile time and scan cost (detect/sigdb.h) on generated rules.
 *
 *   otsense-sigbench [N] [--cache DIR]
 *
 * Generates N literal rules (default 1000, deterministic: 60% tcp any port, 20% tcp port 502, 10% udp, 10% ip;
 * 6..16-byte patterns, a quarter nocase, some with binary bytes), builds the databases, then scans benign-looking
 * payloads (HTTP-like text, Modbus/TCP frames, random binary) of 64, 256 and 1460 bytes as TCP packets of a
 * Modbus flow (the group holding the most rules) for about 0.5 s per size. Prints a table and one JSON line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/rule.h"
#include "detect/sigdb.h"
#include "protocols/registry.h"

#define NPAY 64

static uint64_t rs_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rs_state ^= rs_state << 13;
	rs_state ^= rs_state >> 7;
	rs_state ^= rs_state << 17;
	return (uint32_t)(rs_state >> 16);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gen_rule(char *out, size_t cap, int i)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char pat[96];
	size_t n = 0;
	int len = 6 + (int)(rnd() % 11);
	int binary = rnd() % 5 == 0;
	for (int k = 0; k < len; k++) {
		if (binary && k % 3 == 0)
			n += (size_t)snprintf(pat + n, sizeof(pat) - n, "|%02x|", 0x80 + rnd() % 0x7f);
		else
			pat[n++] = alnum[rnd() % (sizeof(alnum) - 1)];
	}
	pat[n] = 0;
	unsigned r = rnd() % 10;
	const char *hdr = r < 6 ? "tcp any any -> any any" : r < 8 ? "tcp any any -> any 502"
						   : r < 9 ? "udp any any -> any any" : "ip any any -> any any";
	snprintf(out, cap, "alert %s (msg:\"bench %d\"; content:\"%s\";%s sid:%d;)", hdr, i, pat,
		 rnd() % 4 == 0 ? " nocase;" : "", 1000000 + i);
}

static void gen_payload(uint8_t *p, uint32_t len, int kind)
{
	static const char *const words[] = { "GET ", "/api/v1/", "status", " HTTP/1.1\r\n", "Host: ", "plc-07",
					     ".plant.local\r\n", "temperature=", "21.5", "&pressure=", "1013",
					     "Content-Type: application/json\r\n", "{\"tag\":\"", "valve_3", "\"}" };
	uint32_t n = 0;
	switch (kind % 3) {
	case 0: /* text */
		while (n < len) {
			const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
			for (; *w && n < len; w++)
				p[n++] = (uint8_t)*w;
		}
		break;
	case 1: /* Modbus/TCP: read holding registers responses, back to back */
		while (n < len) {
			uint8_t f[] = { 0, (uint8_t)rnd(), 0, 0, 0, 23, 1, 3, 20 };
			for (unsigned k = 0; k < sizeof(f) && n < len; k++)
				p[n++] = f[k];
			for (int k = 0; k < 20 && n < len; k++)
				p[n++] = (uint8_t)(k & 1 ? rnd() % 100 : 0);
		}
		break;
	default:
		for (; n < len; n++)
			p[n] = (uint8_t)rnd();
	}
}

static void on_hit(void *ud, const struct ots_rule *r)
{
	(void)r;
	(*(uint64_t *)ud)++;
}

int main(int argc, char **argv)
{
	int nrules = 1000;
	const char *cache = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc)
			cache = argv[++i];
		else if (atoi(argv[i]) > 0)
			nrules = atoi(argv[i]);
		else {
			fprintf(stderr, "usage: otsense-sigbench [N] [--cache DIR]\n");
			return 2;
		}
	}
	struct ots_ruleset rs;
	ots_ruleset_init(&rs);
	rs.rules = calloc((size_t)nrules, sizeof(*rs.rules));
	if (!rs.rules)
		return 1;
	rs.cap = (uint32_t)nrules;
	char text[512], why[256];
	static const struct ots_rule_vars novars = { 0, NULL };
	for (int i = 0; i < nrules; i++) {
		gen_rule(text, sizeof(text), i);
		if (ots_rule_parse(text, "bench", &novars, &rs.rules[rs.n], why, sizeof(why)) == 0)
			rs.n++;
		else
			fprintf(stderr, "otsense-sigbench: %s: %s\n", text, why);
	}

	struct ots_sigdb_opts o = { cache };
	struct ots_sigdb_report rep;
	struct ots_sigdb *db;
	struct ots_sigscan *sc;
	char err[256];
	if (ots_sigdb_build(&rs, &o, &db, &rep, err, sizeof(err)) < 0) {
		fprintf(stderr, "otsense-sigbench: %s\n", err);
		return 1;
	}
	if (ots_sigscan_create(db, &sc) < 0) {
		fprintf(stderr, "otsense-sigbench: no memory for the scan state\n");
		return 1;
	}
	printf("rules %u  groups %u  databases %u  patterns %u  db %.1f KiB  compile %.1f ms%s%s\n", rep.rules,
	       rep.groups, rep.databases, rep.patterns, (double)rep.db_bytes / 1024, rep.compile_ms,
	       rep.cache_hit ? " (cache)" : "", rep.warning[0] ? "  warning: " : "");
	if (rep.warning[0])
		printf("%s\n", rep.warning);

	static const uint32_t sizes[] = { 64, 256, 1460 };
	static uint8_t pay[NPAY][1460];
	static const uint8_t ip_a[16] = { 10, 0, 0, 1 }, ip_b[16] = { 10, 0, 0, 2 };
	char json[1024];
	int jl = snprintf(json, sizeof(json),
			  "{\"bench\":\"sigdb\",\"rules\":%u,\"groups\":%u,\"databases\":%u,\"patterns\":%u,"
			  "\"db_bytes\":%llu,\"compile_ms\":%.2f,\"cache_hit\":%d,\"scan\":[",
			  rep.rules, rep.groups, rep.databases, rep.patterns, (unsigned long long)rep.db_bytes,
			  rep.compile_ms, rep.cache_hit);
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t len = sizes[s];
		for (int k = 0; k < NPAY; k++)
			gen_payload(pay[k], len, k);
		struct ots_sig_pkt p;
		memset(&p, 0, sizeof(p));
		p.l4 = OTS_RL4_TCP;
		p.app = OTS_APP_MODBUS;
		p.family = 4;
		p.sip = ip_a;
		p.dip = ip_b;
		p.sport = 40000;
		p.dport = 502;
		p.in.len = len;
		p.in.dsize = len;
		p.in.to_server = 1;
		p.in.established = 1;
		uint64_t hits = 0, scans = 0;
		double t0 = now_s(), t1;
		do {
			for (int r = 0; r < 1000; r++) {
				p.in.buf = pay[scans % NPAY];
				ots_sigdb_scan(db, sc, &p, on_hit, &hits);
				scans++;
			}
			t1 = now_s();
		} while (t1 - t0 < 0.5);
		double ns = (t1 - t0) * 1e9 / (double)scans;
		double gbps = (double)len * 8 / ns;
		printf("%5u bytes: %8.1f ns/scan  %6.2f Gbit/s  hits %llu / %llu scans\n", len, ns, gbps,
		       (unsigned long long)hits, (unsigned long long)scans);
		jl += snprintf(json + jl, sizeof(json) - (size_t)jl,
			       "%s{\"len\":%u,\"ns_per_scan\":%.1f,\"gbit_s\":%.3f,\"hits\":%llu}", s ? "," : "", len, ns,
			       gbps, (unsigned long long)hits);
	}
	snprintf(json + jl, sizeof(json) - (size_t)jl, "]}");
	printf("%s\n", json);
	ots_sigscan_free(sc);
	ots_sigdb_free(db);
	ots_ruleset_free(&rs);
	return 0;
}
