// SPDX-License-Identifier: GPL-2.0-only
/*
 * Durations both ways: what --min-age takes (duration.c), and what AGE and
 * uptimes show (table_duration(), table.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "table.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000000000ull

static void test_format(void **state)
{
	static const struct {
		uint64_t s;
		const char *want;
	} cases[] = {
		{ 0, "0s" },
		{ 40, "40s" },
		{ 59, "59s" },
		{ 60, "1m00s" },
		{ 725, "12m05s" },
		{ 3599, "59m59s" },
		{ 3600, "1h00m" },
		{ 18420, "5h07m" },
		/* the seconds of an hour or more are left out, not rounded */
		{ 86399, "23h59m" },
		{ 86400, "1d00h" },
		{ 3 * 86400 + 4 * 3600 + 59 * 60, "3d04h" },
		{ DURATION_MAX_S, "36500d00h" },
		{ UINT64_MAX / SEC, "213503d23h" },
	};
	char b[32];

	for (size_t i = 0; i < N(cases); i++) {
		table_duration(b, sizeof(b), cases[i].s * SEC);
		assert_string_equal(b, cases[i].want);
	}
	/* whole seconds: cut, not rounded */
	table_duration(b, sizeof(b), 60 * SEC - 1);
	assert_string_equal(b, "59s");
}

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{ "0s", 0 },
		{ "30s", 30 },
		{ "10m", 600 },
		{ "2h", 7200 },
		{ "7d", 604800 },
		{ "1d12h", 129600 },
		{ "1h90m", 9000 },
		/* what table_duration() prints reads back */
		{ "12m05s", 725 },
		{ "3d04h", 273600 },
		{ "1d2h3m4s", 93784 },
		{ "007s", 7 },
		{ "36500d", DURATION_MAX_S },
	};
	uint64_t s;
	const char *why;

	for (size_t i = 0; i < N(cases); i++) {
		s = 12345;
		assert_int_equal(duration_parse(cases[i].text, &s, &why), 0);
		assert_int_equal(s, cases[i].want);
	}
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *why; /* a part of the reason given */
	} cases[] = {
		{ "", -EINVAL, "empty" },
		{ "30", -EINVAL, "needs a unit" },
		{ "1d12", -EINVAL, "needs a unit" },
		{ "10x", -EINVAL, "units are d, h, m and s" },
		{ "10M", -EINVAL, "units are" },
		{ "1w", -EINVAL, "units are" },
		{ "s", -EINVAL, "expected a number" },
		{ "-5s", -EINVAL, "expected a number" },
		{ "+5s", -EINVAL, "expected a number" },
		{ " 5s", -EINVAL, "expected a number" },
		{ "5s ", -EINVAL, "expected a number" },
		{ "1.5h", -EINVAL, "units are" },
		{ "5 s", -EINVAL, "units are" },
		{ "10s5m", -EINVAL, "largest first" },
		{ "1h1h", -EINVAL, "largest first" },
		{ "36500d1s", -ERANGE, "longer than 36500d" },
		{ "36501d", -ERANGE, "longer than" },
		{ "3153600001s", -ERANGE, "longer than" },
		/* far past uint64_t: no wrap-around back into range */
		{ "99999999999999999999999999s", -ERANGE, "longer than" },
	};
	uint64_t s;
	const char *why;

	for (size_t i = 0; i < N(cases); i++) {
		why = NULL;
		s = 12345;
		assert_int_equal(duration_parse(cases[i].text, &s, &why),
				 cases[i].err);
		assert_non_null(why);
		if (!strstr(why, cases[i].why))
			fail_msg("'%s': reason '%s', want '%s'", cases[i].text,
				 why, cases[i].why);
		assert_int_equal(s, 0);
	}
}

/* Every age AGE can show can be typed back, as the same AGE. */
static void test_round_trip(void **state)
{
	static const uint64_t ages[] = { 0,
					 1,
					 59,
					 61,
					 3599,
					 3601,
					 86399,
					 86401,
					 30 * 86400 + 7,
					 DURATION_MAX_S };
	char a[32], b[32];
	const char *why;
	uint64_t s;

	for (size_t i = 0; i < N(ages); i++) {
		table_duration(a, sizeof(a), ages[i] * SEC);
		assert_int_equal(duration_parse(a, &s, &why), 0);
		assert_true(s <= ages[i]);
		table_duration(b, sizeof(b), s * SEC);
		assert_string_equal(a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
