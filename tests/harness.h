/* tests/harness.h - shared CUnit runner for otsense test binaries.
 *
 * Contract: a test binary defines its suites with OTS_SUITE/OTS_TEST tables and calls ots_test_main(). It runs
 * them with CU_basic, prints "RESULT <name>: N passed, N failed" (tests, not asserts) and exits with the number of
 * failed tests (CU_basic_run_tests returns success even when asserts fail, so never trust its return value).
 */
#ifndef OTS_TEST_HARNESS_H
#define OTS_TEST_HARNESS_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

struct ots_test {
	const char *name;
	void (*fn)(void);
};

struct ots_suite {
	const char *name;
	const struct ots_test *tests; /* terminated by {NULL, NULL} */
	int (*init)(void);
	int (*cleanup)(void);
};

static inline int ots_test_main(const char *binary, const struct ots_suite *suites)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (const struct ots_suite *s = suites; s->name; s++) {
		CU_pSuite cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs)
			return 2;
		for (const struct ots_test *t = s->tests; t->name; t++)
			if (!CU_add_test(cs, t->name, t->fn))
				return 2;
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned run = CU_get_number_of_tests_run();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned asserts_failed = CU_get_number_of_failures();
	unsigned suites_failed = CU_get_number_of_suites_failed();
	if (asserts_failed && !failed)
		failed = 1;
	failed += suites_failed;
	printf("\nRESULT %s: %u passed, %u failed\n", binary, run >= failed ? run - failed : 0, failed);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#endif
