// SPDX-License-Identifier: GPL-2.0-only
/* moatctl's tables: alignment, and numbers for people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

static char *render(struct table *t)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	table_print(t, f);
	fclose(f);
	return buf;
}

static void test_alignment(void **state)
{
	static const char *const heads[] = { "RULE", "ACTION", "PACKETS",
					     "NOTE" };
	struct table *t = table_new("llrl", heads);
	char *s;

	assert_non_null(t);
	table_row(t);
	table_cell(t, "ssh-office");
	table_cell(t, "allow");
	table_cell(t, "%d", 5);
	table_cell(t, "x");
	table_row(t);
	table_cell(t, "(policy)");
	table_cell(t, "drop");
	table_cell(t, "%s", "12.3M");
	table_cell(t, "%s", "");
	/*
	 * Columns as wide as their widest cell, two spaces apart; numbers
	 * to the right; the last column unpadded, no blanks at line ends.
	 */
	s = render(t);
	assert_string_equal(s, "RULE        ACTION  PACKETS  NOTE\n"
			       "ssh-office  allow         5  x\n"
			       "(policy)    drop      12.3M\n");
	free(s);
	table_free(t);
}

static void test_short_row_and_utf8(void **state)
{
	static const char *const heads[] = { "A", "B" };
	struct table *t = table_new("lr", heads);
	char *s;

	table_row(t);
	table_cell(t, "\xc3\xa9t\xc3\xa9"); /* "été": 3 columns, 5 bytes */
	table_row(t); /* the row above had one cell: padded */
	table_cell(t, "abcd");
	table_cell(t, "1");
	s = render(t);
	assert_string_equal(s, "A     B\n"
			       "\xc3\xa9t\xc3\xa9\n"
			       "abcd  1\n");
	free(s);
	table_free(t);
}

static void test_human(void **state)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cases[] = {
		{ 0, "0" },
		{ 999, "999" },
		{ 1000, "1.0k" },
		{ 1234, "1.2k" },
		{ 9949, "9.9k" },
		{ 9950, "10k" },
		{ 999499, "999k" },
		{ 999500, "1.0M" },
		{ 3400000, "3.4M" },
		{ 12000000000ull, "12G" },
		{ UINT64_MAX, "18E" },
	};
	char b[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(table_human(b, cases[i].v), cases[i].want);
	assert_string_equal(table_human_rate(b, -1), "-");
	assert_string_equal(table_human_rate(b, 0), "0");
	assert_string_equal(table_human_rate(b, 0.25), "0.2");
	assert_string_equal(table_human_rate(b, 0.01), "<0.1");
	assert_string_equal(table_human_rate(b, 12.6), "13");
	assert_string_equal(table_human_rate(b, 1500), "1.5k");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_short_row_and_utf8),
		cmocka_unit_test(test_human),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
