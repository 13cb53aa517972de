/* tests/test_jsonw.c - the streaming JSON writer: nesting and commas, escaping, UTF-8 repair, overflow. */
#include <string.h>

#include "export/jsonw.h"
#include "tests/harness.h"

static void test_nesting_and_types(void)
{
	char buf[512];
	struct jw w;
	jw_init(&w, buf, sizeof(buf));
	jw_obj_open(&w, NULL);
	jw_str(&w, "a", "x");
	jw_u64(&w, "b", 18446744073709551615ull);
	jw_i64(&w, "c", -5);
	jw_dbl(&w, "d", 0.5);
	jw_bool(&w, "e", 1);
	jw_arr_open(&w, "f");
	jw_u64(&w, NULL, 1);
	jw_obj_open(&w, NULL);
	jw_obj_close(&w);
	jw_arr_close(&w);
	jw_obj_open(&w, "g");
	jw_obj_close(&w);
	jw_dbl(&w, "h", 1.0 / 0.0);
	jw_obj_close(&w);
	CU_ASSERT(jw_ok(&w));
	CU_ASSERT_STRING_EQUAL(buf, "{\"a\":\"x\",\"b\":18446744073709551615,\"c\":-5,\"d\":0.5,\"e\":true,"
				    "\"f\":[1,{}],\"g\":{},\"h\":null}");
}

static void test_escaping(void)
{
	char buf[256];
	struct jw w;
	jw_init(&w, buf, sizeof(buf));
	jw_obj_open(&w, NULL);
	jw_strn(&w, "k\"", "q\"b\\n\n\t\x01\x1f", 9);
	jw_str(&w, "u", "\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80"); /* ä € 😀 stay as they are */
	jw_str(&w, "bad", "a\xff\xc3(\xe2\x82z");                 /* invalid bytes -> U+FFFD each */
	jw_strn(&w, "nul", "a\0b", 3);
	jw_obj_close(&w);
	CU_ASSERT(jw_ok(&w));
	CU_ASSERT_STRING_EQUAL(buf, "{\"k\\\"\":\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\","
				    "\"u\":\"\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\","
				    "\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbdz\","
				    "\"nul\":\"a\\u0000b\"}");
}

/* every buffer size: never writes past cap, always NUL-terminated, ok only when everything fit */
static void test_overflow_every_size(void)
{
	char full[256], buf[256];
	struct jw w;
	jw_init(&w, full, sizeof(full));
	jw_obj_open(&w, NULL);
	jw_str(&w, "name", "value with \"quotes\"");
	jw_u64(&w, "n", 123456789);
	jw_obj_close(&w);
	size_t need = strlen(full) + 1;
	for (size_t cap = 1; cap <= need + 2; cap++) {
		memset(buf, 'Z', sizeof(buf));
		jw_init(&w, buf, cap);
		jw_obj_open(&w, NULL);
		jw_str(&w, "name", "value with \"quotes\"");
		jw_u64(&w, "n", 123456789);
		jw_obj_close(&w);
		CU_ASSERT_EQUAL(jw_ok(&w), cap >= need);
		CU_ASSERT_EQUAL(buf[cap], 'Z');
		CU_ASSERT(memchr(buf, 0, cap) != NULL);
		if (cap >= need)
			CU_ASSERT_STRING_EQUAL(buf, full);
	}
}

/* overlong forms and UTF-16 surrogates are not UTF-8: every byte of them becomes U+FFFD */
static void test_utf8_strict(void)
{
	char buf[128];
	struct jw w;
	jw_init(&w, buf, sizeof(buf));
	jw_str(&w, NULL, "\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xed\x9f\xbf");
	CU_ASSERT(jw_ok(&w));
	CU_ASSERT_STRING_EQUAL(buf, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
				    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xed\x9f\xbf\"");
}

static const struct ots_test jw_tests[] = {
	{ "utf8_strict", test_utf8_strict },
	{ "nesting_and_types", test_nesting_and_types },
	{ "escaping", test_escaping },
	{ "overflow_every_size", test_overflow_every_size },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "jsonw", jw_tests, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_jsonw", suites);
}
