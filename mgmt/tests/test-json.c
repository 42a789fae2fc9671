// SPDX-License-Identifier: GPL-2.0-only
/* moatctl's JSON writer: structure, numbers, and string escaping. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct json j;
};

static void open_out(struct out *o)
{
	o->buf = NULL;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	json_init(&o->j, o->f);
}

/* Close, compare, free. */
static void expect(struct out *o, const char *want)
{
	fclose(o->f);
	assert_string_equal(o->buf, want);
	free(o->buf);
}

static void test_structure(void **state)
{
	struct out o;

	open_out(&o);
	json_obj_open(&o.j);
	json_kstr(&o.j, "name", "ssh");
	json_kuint(&o.j, "packets", UINT64_MAX);
	json_key(&o.j, "delta");
	json_int(&o.j, INT64_MIN);
	json_kbool(&o.j, "fixed", false);
	json_key(&o.j, "pps");
	json_null(&o.j);
	json_key(&o.j, "rate");
	json_double(&o.j, 2.5);
	json_key(&o.j, "nan");
	json_double(&o.j, NAN);
	json_key(&o.j, "empty");
	json_arr_open(&o.j);
	json_arr_close(&o.j);
	json_key(&o.j, "rows");
	json_arr_open(&o.j);
	json_obj_open(&o.j);
	json_obj_close(&o.j);
	json_uint(&o.j, 1);
	json_arr_open(&o.j);
	json_str(&o.j, "x");
	json_arr_close(&o.j);
	json_arr_close(&o.j);
	json_obj_close(&o.j);
	json_end(&o.j);
	expect(&o, "{\"name\":\"ssh\",\"packets\":18446744073709551615,"
		   "\"delta\":-9223372036854775808,\"fixed\":false,"
		   "\"pps\":null,\"rate\":2.500,\"nan\":null,\"empty\":[],"
		   "\"rows\":[{},1,[\"x\"]]}\n");
}

static void test_two_documents(void **state)
{
	struct out o;

	/* --watch --json: one document a line, the writer reset between */
	open_out(&o);
	json_obj_open(&o.j);
	json_kuint(&o.j, "a", 1);
	json_obj_close(&o.j);
	json_end(&o.j);
	json_obj_open(&o.j);
	json_kuint(&o.j, "a", 2);
	json_obj_close(&o.j);
	json_end(&o.j);
	expect(&o, "{\"a\":1}\n{\"a\":2}\n");
}

static const struct {
	const char *in;
	size_t len;
	const char *want;
} escapes[] = {
	{ "plain", 5, "\"plain\"" },
	{ "q\"b\\s/", 6, "\"q\\\"b\\\\s/\"" },
	{ "\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"" },
	{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
	{ "nul\0x", 5, "\"nul\\u0000x\"" },
	/* valid UTF-8 passes as it is: é, €, 😀 */
	{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
	  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"" },
	/* invalid bytes become U+FFFD, one each, and the rest goes on */
	{ "a\xff"
	  "b",
	  3, "\"a\\ufffdb\"" },
	{ "\xc3", 1, "\"\\ufffd\"" }, /* cut short */
	{ "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" }, /* overlong '/' */
	{ "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
	{ "\xf4\x90\x80\x80", 4,
	  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* > U+10FFFF */
	{ "\xe2\x28\xa1", 3, "\"\\ufffd(\\ufffd\"" },
};

static void test_escaping(void **state)
{
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		struct out o;

		open_out(&o);
		json_strn(&o.j, escapes[i].in, escapes[i].len);
		expect(&o, escapes[i].want);
	}
}

static void test_key_escaping(void **state)
{
	struct out o;

	open_out(&o);
	json_obj_open(&o.j);
	json_kstr(&o.j, "a\"b", "/run/moat/x\n.sock");
	json_obj_close(&o.j);
	expect(&o, "{\"a\\\"b\":\"/run/moat/x\\n.sock\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_two_documents),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_key_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
