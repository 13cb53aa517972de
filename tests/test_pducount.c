/* tests/test_pducount.c - the PDU counters: every key counted exactly (against a plain array), and a full table
 * counts the overflow in `full`. */
#include <stdlib.h>
#include <string.h>

#include "protocols/pducount.h"
#include "tests/harness.h"

static void mkkey(struct ots_pdu_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->family = 4;
	k->src[0] = 10;
	k->src[3] = (uint8_t)(i % 7);
	k->dst[0] = 10;
	k->dst[3] = (uint8_t)(100 + i % 5);
	k->code = i % 11;
	k->unit = i % 3;
	k->proto = 1;
	k->kind = (uint8_t)(i & 1);
}

static uint64_t count_of(const struct ots_pducount *t, const struct ots_pdu_key *k)
{
	for (uint32_t i = 0; i <= t->mask; i++)
		if (t->slots[i].n && !memcmp(&t->slots[i].k, k, sizeof(*k)))
			return t->slots[i].n;
	return 0;
}

/* 200,000 PDUs over 7*5*11*3*2 = 2310 keys, in runs and at random: each key's count equals an array's */
static void test_counts_exactly(void)
{
	struct ots_pducount t;
	static uint64_t want[2310];
	CU_ASSERT_FATAL(ots_pducount_init(&t, 4096) == 0);
	srand(7);
	for (uint32_t n = 0; n < 200000; n++) {
		struct ots_pdu_key k;
		uint32_t i = (uint32_t)rand() % 2310;
		if (n % 3) /* runs of the same key, as a polling master produces */
			i = n / 3 % 2310;
		mkkey(&k, i);
		ots_pducount_add(&t, &k, 1);
		want[i]++;
	}
	int bad = 0;
	uint32_t keys = 0;
	for (uint32_t i = 0; i < 2310; i++) {
		struct ots_pdu_key k;
		mkkey(&k, i);
		bad += count_of(&t, &k) != want[i];
		keys += want[i] > 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(t.used, keys);
	CU_ASSERT_EQUAL(t.full, 0);
	ots_pducount_fini(&t);
}

static void test_full_counted(void)
{
	struct ots_pducount t;
	CU_ASSERT_FATAL(ots_pducount_init(&t, 1024) == 0);
	for (uint32_t i = 0; i < 2000; i++) {
		struct ots_pdu_key k;
		mkkey(&k, 0);
		k.code = 1000 + i; /* all distinct */
		ots_pducount_add(&t, &k, 1);
	}
	CU_ASSERT_EQUAL(t.used, t.mask - t.mask / 8);
	CU_ASSERT_EQUAL(t.used + t.full, 2000);
	ots_pducount_fini(&t);
}

static const struct ots_test pc_tests[] = {
	{ "counts_exactly", test_counts_exactly },
	{ "full_counted", test_full_counted },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "pducount", pc_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_pducount", suites);
}
