// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON reader of compare and plot: what it accepts, what it refuses
 * and where it says the problem is.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static int parse(const char *text, struct json *j, char *err)
{
	return json_parse(text, strlen(text), j, err, 128);
}

static void accepts_every_kind(void **state)
{
	static const char *const ok[] = {
		"0",
		"-0",
		"1.5",
		"-12.5e-3",
		"1E+2",
		"true",
		"false",
		"null",
		"\"\"",
		"[]",
		"{}",
		" [ 1 , [2] , {\"a\" : []} ] ",
		"{\"a\":1,\"a\":2}",
		"\"\\u00e9\\ud83d\\ude00\\n\\/\"",
	};
	struct json j;
	char err[128];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int ret = parse(ok[i], &j, err);

		if (ret)
			fail_msg("`%s' refused: %s", ok[i], err);
		json_free(&j);
	}
}

/* Each with the message it must give: where, what, and the text there. */
static const struct {
	const char *text, *err;
} bad[] = {
	{ "", "1:1: expected a value at the end" },
	{ "01", "1:2: unexpected text after the value: `1'" },
	{ "1.", "1:3: expected a digit at the end" },
	{ "-", "1:1: expected a value: `-'" },
	{ "1e", "1:3: expected a digit at the end" },
	{ "[1,]", "1:4: expected a value: `]'" },
	{ "[1 2]", "1:4: expected ',' or ']': `2]'" },
	{ "{\"a\" 1}", "1:6: expected ':': `1}'" },
	{ "{1:2}", "1:2: expected a key: `1:2}'" },
	{ "\"abc", "1:1: unterminated string: `\"abc'" },
	{ "\"a\tb\"", "1:3: control character in a string: `\tb\"'" },
	{ "\"\\x\"", "1:3: bad escape: `x\"'" },
	{ "\"\\ud800\"", "1:8: lone high surrogate: `\"'" },
	{ "\"\\udc00\"", "1:8: lone low surrogate: `\"'" },
	{ "tru", "1:1: expected a value: `tru'" },
	{ "[]x", "1:3: unexpected text after the value: `x'" },
	{ "{}\n\n  ]", "3:3: unexpected text after the value: `]'" },
};

static void refuses_with_position(void **state)
{
	struct json j;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i].text, &j, err);

		if (ret != -EINVAL)
			fail_msg("`%s' accepted", bad[i].text);
		if (strcmp(err, bad[i].err))
			fail_msg("`%s': got \"%s\", want \"%s\"", bad[i].text,
				 err, bad[i].err);
		/* a refused input leaves nothing to free */
		assert_int_equal(j.n, 0);
	}
}

static void depth_is_bounded(void **state)
{
	char text[2 * JSON_MAX_DEPTH + 8];
	struct json j;
	char err[128];
	int d;

	/* exactly the limit is fine; one more is refused, not a crash */
	for (d = 0; d < JSON_MAX_DEPTH; d++)
		text[d] = '[';
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		text[d + i] = ']';
	text[2 * d] = '\0';
	assert_int_equal(parse(text, &j, err), 0);
	json_free(&j);
	memmove(text + 1, text, strlen(text) + 1);
	text[0] = '[';
	strcat(text, "]");
	assert_int_equal(parse(text, &j, err), -EINVAL);
	assert_non_null(strstr(err, "nested too deeply"));
}

static void values_and_paths(void **state)
{
	const char *text = "{\"case\":\"moat-1\",\"ratio\":{\"median\":0.95,"
			   "\"min\":0.9},\"a\":[1,2,3],\"s\":\"\\u00e9\"}";
	struct json j;
	char err[128];

	assert_int_equal(parse(text, &j, err), 0);
	assert_string_equal(json_text(json_get(&j, "case"), "?"), "moat-1");
	assert_true(json_num(json_at(&j, "ratio.median"), 0) == 0.95);
	assert_true(json_num(json_at(&j, "ratio.max"), -1) == -1);
	assert_null(json_at(&j, "case.median")); /* not an object */
	assert_int_equal(json_get(&j, "a")->n, 3);
	assert_true(json_get(&j, "a")->v[2].num == 3);
	assert_string_equal(json_text(json_get(&j, "s"), ""), "\xc3\xa9");
	json_free(&j);
}

static void many_items_grow(void **state)
{
	char text[8192] = "[";
	struct json j;
	char err[128];

	/* past several doublings of the item array */
	for (int i = 0; i < 1000; i++)
		strcat(text, i ? ",7" : "7");
	strcat(text, "]");
	assert_int_equal(parse(text, &j, err), 0);
	assert_int_equal(j.n, 1000);
	assert_true(j.v[999].num == 7);
	json_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_every_kind),
		cmocka_unit_test(refuses_with_position),
		cmocka_unit_test(depth_is_bounded),
		cmocka_unit_test(values_and_paths),
		cmocka_unit_test(many_items_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
