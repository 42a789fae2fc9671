// SPDX-License-Identifier: GPL-2.0-only
/*
 * Request bodies: the parse limits, and every getter's error naming the
 * field, what was expected and what came.
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
#include <json-c/json.h>

#include "jsonv.h"

#define MAX_LEN (1u << 20)

struct parse_case {
	const char *text;
	const char *err; /* NULL: parses */
};

static const struct parse_case parse_cases[] = {
	{ "{}", NULL },
	{ " {\"a\": [1, {\"b\": null}]} \r\n", NULL },
	{ "", "request body: empty, expected a JSON object" },
	{ "   ", "request body: ends inside a JSON value" },
	{ "{\"a\": 1", "request body: ends inside a JSON value" },
	{ "[]", "request body: expected a JSON object, got array" },
	{ "\"s\"", "request body: expected a JSON object, got string" },
	{ "{} {}", "request body: unexpected character at offset 3" },
	{ "{}x", "request body: unexpected character at offset 2" },
	/* json-c's strict mode still takes single quotes: harmless, known */
	{ "{'a': 1}", NULL },
	/* and NaN, a double, which no getter takes */
	{ "{\"a\": NaN}", NULL },
	{ "{\"a\": 1,}", "request body: " },
	{ "{\"a\": \"\xff\"}", "request body: " }, /* not UTF-8 */
	/* depth 8: the object and seven levels in it; eight are too many */
	{ "{\"a\":[[[[[[[1]]]]]]]}", NULL },
	{ "{\"a\":[[[[[[[[1]]]]]]]]}", "request body: " },
};

static void test_parse(void **state)
{
	struct jsonv_err e = { { 0 } };
	struct json_object *o;
	int ret;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *t = &parse_cases[i];

		e.msg[0] = '\0';
		ret = jsonv_parse(t->text, strlen(t->text), MAX_LEN,
				  JSONV_MAX_DEPTH, &o, &e);
		if (!t->err) {
			if (ret)
				fail_msg("'%s': %s", t->text, e.msg);
			assert_true(json_object_is_type(o, json_type_object));
			json_object_put(o);
			continue;
		}
		if (ret != -EINVAL || strncmp(e.msg, t->err, strlen(t->err)))
			fail_msg("'%s': %d '%s', expected '%s'", t->text, ret,
				 e.msg, t->err);
		assert_null(o);
	}
	/* a NUL inside, and the size limit, before json-c sees anything */
	assert_int_equal(jsonv_parse("{}\0", 3, MAX_LEN, 8, &o, &e), -EINVAL);
	assert_string_equal(e.msg, "request body: a NUL byte at offset 2");
	assert_int_equal(jsonv_parse("{ }", 3, 2, 8, &o, &e), -EINVAL);
	assert_string_equal(e.msg, "request body: 3 bytes, more than 2");
	/* the text need not end in a NUL: only @len bytes are read */
	assert_int_equal(jsonv_parse("{}garbage", 2, MAX_LEN, 8, &o, &e), 0);
	json_object_put(o);
}

static struct json_object *body(const char *text)
{
	struct jsonv_err e;
	struct json_object *o;

	if (jsonv_parse(text, strlen(text), MAX_LEN, JSONV_MAX_DEPTH, &o, &e))
		fail_msg("%s", e.msg);
	return o;
}

static const struct jsonv_int ttl = { 1, 2592000, "an integer of seconds" };

static void test_int(void **state)
{
	struct json_object *o = body(
		"{\"ttl\": \"abc\", \"zero\": 0, \"max\": 2592000, \"big\": 2592001,"
		" \"neg\": -1, \"float\": 1.5, \"huge\": 18446744073709551615,"
		" \"null\": null, \"ok\": 3600}");
	struct jsonv_err e = { { 0 } };
	int64_t v;

	assert_int_equal(jsonv_get_int(o, "ttl", &ttl, &v, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'ttl': expected an integer of seconds, 1-2592000, got \"abc\"");
	assert_int_equal(jsonv_get_int(o, "zero", &ttl, &v, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'zero': expected an integer of seconds, 1-2592000, got 0");
	assert_int_equal(jsonv_get_int(o, "max", &ttl, &v, &e), 0);
	assert_int_equal(v, 2592000);
	assert_int_equal(jsonv_get_int(o, "big", &ttl, &v, &e), -EINVAL);
	assert_int_equal(jsonv_get_int(o, "neg", &ttl, &v, &e), -EINVAL);
	assert_int_equal(jsonv_get_int(o, "float", &ttl, &v, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'float': expected an integer of seconds, 1-2592000, got 1.5");
	/* past int64: refused even with no upper bound to speak of */
	assert_int_equal(
		jsonv_get_int(o, "huge",
			      &(struct jsonv_int){ 0, INT64_MAX, NULL }, &v,
			      &e),
		-EINVAL);
	assert_string_equal(
		e.msg,
		"field 'huge': expected an integer, 0-9223372036854775807, got 18446744073709551615");
	assert_int_equal(jsonv_get_int(o, "absent", &ttl, &v, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'absent': required, an integer of seconds, 1-2592000");
	assert_int_equal(jsonv_get_int(o, "null", &ttl, &v, &e), -EINVAL);

	/* optional: absent or null is the default, present must be right */
	assert_int_equal(jsonv_opt_int(o, "absent", &ttl, 3600, &v, &e), 0);
	assert_int_equal(v, 3600);
	v = 0;
	assert_int_equal(jsonv_opt_int(o, "null", &ttl, 7, &v, &e), 0);
	assert_int_equal(v, 7);
	assert_int_equal(jsonv_opt_int(o, "ok", &ttl, 7, &v, &e), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(jsonv_opt_int(o, "ttl", &ttl, 7, &v, &e), -EINVAL);
	json_object_put(o);
}

static const struct jsonv_str ws_name = { 1, 63, "a-z0-9-",
					  "a workspace name" };
static const struct jsonv_str desc = { 0, 256, NULL, "a description" };

static void test_str(void **state)
{
	struct json_object *o = body(
		"{\"name\": \"prod-1\", \"bad\": \"Prod\", \"dash\": \"-x\","
		" \"empty\": \"\", \"num\": 5, \"d\": \"tab\\there\","
		" \"nul\": \"a\\u0000b\", \"ok\": \"caf\\u00e9 \\\"x\\\"\","
		" \"yes\": true}");
	struct jsonv_err e = { { 0 } };
	const char *s;
	bool b;

	assert_int_equal(jsonv_get_str(o, "name", &ws_name, &s, &e), 0);
	assert_string_equal(s, "prod-1");
	assert_int_equal(jsonv_get_str(o, "bad", &ws_name, &s, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'bad': expected a workspace name, 1-63 bytes of [a-z0-9-] starting with a letter or digit, got \"Prod\"");
	assert_int_equal(jsonv_get_str(o, "dash", &ws_name, &s, &e), -EINVAL);
	assert_int_equal(jsonv_get_str(o, "empty", &ws_name, &s, &e), -EINVAL);
	assert_int_equal(jsonv_get_str(o, "num", &ws_name, &s, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'num': expected a workspace name, 1-63 bytes of [a-z0-9-] starting with a letter or digit, got 5");
	assert_int_equal(jsonv_get_str(o, "absent", &ws_name, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "field 'absent': required"));

	/* free text: anything but control characters, NUL included */
	assert_int_equal(jsonv_opt_str(o, "d", &desc, "", &s, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'd': expected a description, 0-256 bytes, got \"tab\\there\"");
	assert_int_equal(jsonv_opt_str(o, "nul", &desc, "", &s, &e), -EINVAL);
	assert_int_equal(jsonv_opt_str(o, "ok", &desc, "", &s, &e), 0);
	assert_string_equal(s, "caf\xc3\xa9 \"x\"");
	assert_int_equal(jsonv_opt_str(o, "empty", &desc, "def", &s, &e), 0);
	assert_string_equal(s, "");
	assert_int_equal(jsonv_opt_str(o, "absent", &desc, "def", &s, &e), 0);
	assert_string_equal(s, "def");

	assert_int_equal(jsonv_opt_bool(o, "yes", false, &b, &e), 0);
	assert_true(b);
	assert_int_equal(jsonv_opt_bool(o, "absent", true, &b, &e), 0);
	assert_true(b);
	assert_int_equal(jsonv_opt_bool(o, "num", false, &b, &e), -EINVAL);
	assert_string_equal(e.msg,
			    "field 'num': expected true or false, got 5");
	json_object_put(o);

	/* what came is quoted, cut */
	o = body(
		"{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
	assert_int_equal(jsonv_get_str(o, "name", &ws_name, &s, &e), -EINVAL);
	assert_non_null(strstr(
		e.msg,
		"got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."));
	json_object_put(o);
}

struct label_case {
	const char *text;
	const char *err;
};

static const struct label_case label_cases[] = {
	{ "{\"labels\": {\"role\": \"web\", \"example.com/tier\": \"\"}}",
	  NULL },
	{ "{\"labels\": null}", NULL },
	{ "{\"labels\": [\"a\"]}",
	  "field 'labels': expected an object of label strings, got [\"a\"]" },
	{ "{\"labels\": {\"a\": 1}}",
	  "field 'labels': label 'a': expected a string of 0-255 printable ASCII bytes, got 1" },
	{ "{\"labels\": {\"a\": \"x\\ny\"}}",
	  "field 'labels': label 'a': expected" },
	{ "{\"labels\": {\"a\": \"caf\\u00e9\"}}",
	  "field 'labels': label 'a': expected" },
	{ "{\"labels\": {\"-a\": \"x\"}}",
	  "field 'labels': label key \"-a\": expected a label key, 1-63 bytes" },
	{ "{\"labels\": {\"a b\": \"x\"}}",
	  "field 'labels': label key \"a b\"" },
	{ "{\"labels\": {\"\": \"x\"}}", "field 'labels': label key \"\"" },
};

static void test_labels(void **state)
{
	struct jsonv_err e = { { 0 } };
	struct json_object *o, *l;
	char big[8192], *p = big;

	for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]);
	     i++) {
		const struct label_case *t = &label_cases[i];
		int ret;

		o = body(t->text);
		ret = jsonv_opt_labels(o, "labels", &l, &e);
		if (!t->err)
			assert_int_equal(ret, 0);
		else if (ret != -EINVAL ||
			 strncmp(e.msg, t->err, strlen(t->err)))
			fail_msg("%s: %d '%s', expected '%s'", t->text, ret,
				 e.msg, t->err);
		json_object_put(o);
	}

	/* 64 labels, then 65; a key of 63 bytes, then 64; a value of 255, then 256 */
	for (int n = JSONV_MAX_LABELS; n <= JSONV_MAX_LABELS + 1; n++) {
		p = big + sprintf(big, "{\"labels\": {");
		for (int i = 0; i < n; i++)
			p += sprintf(p, "%s\"k%d\": \"v\"", i ? "," : "", i);
		sprintf(p, "}}");
		o = body(big);
		assert_int_equal(jsonv_opt_labels(o, "labels", &l, &e),
				 n > JSONV_MAX_LABELS ? -EINVAL : 0);
		json_object_put(o);
	}
	assert_string_equal(e.msg, "field 'labels': 65 labels, more than 64");
	for (int n = 63; n <= 64; n++) {
		sprintf(big, "{\"labels\": {\"%0*d\": \"v\"}}", n, 0);
		o = body(big);
		assert_int_equal(jsonv_opt_labels(o, "labels", &l, &e),
				 n > JSONV_LABEL_KEY_MAX ? -EINVAL : 0);
		json_object_put(o);
	}
	for (int n = 255; n <= 256; n++) {
		sprintf(big, "{\"labels\": {\"k\": \"%0*d\"}}", n, 0);
		o = body(big);
		assert_int_equal(jsonv_opt_labels(o, "labels", &l, &e),
				 n > JSONV_LABEL_VALUE_MAX ? -EINVAL : 0);
		json_object_put(o);
	}
	o = body("{}");
	l = o;
	assert_int_equal(jsonv_opt_labels(o, "labels", &l, &e), 0);
	assert_null(l);
	json_object_put(o);
}

static const struct jsonv_str perm = { 1, 32, "a-z:*", "a permission" };

static void test_arrays(void **state)
{
	struct json_object *o = body(
		"{\"permissions\": [\"token:create\", \"host:read\"],"
		" \"bad\": [\"token:create\", \"Host\"], \"many\": [\"a\",\"b\",\"c\"],"
		" \"notarray\": \"x\", \"bindings\": [{\"workspace\": \"*\","
		" \"role\": \"admin\"}, {\"workspace\": 3}], \"objs\": [{}, 1]}");
	struct jsonv_err e = { { 0 } };
	struct json_object *a, *b;
	const char *s;

	assert_int_equal(jsonv_get_strings(o, "permissions", 16, &perm, &a, &e),
			 0);
	assert_int_equal(json_object_array_length(a), 2);
	assert_int_equal(jsonv_get_strings(o, "bad", 16, &perm, &a, &e),
			 -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'bad[1]': expected a permission, 1-32 bytes of [a-z:*] starting with a letter or digit, got \"Host\"");
	assert_int_equal(jsonv_get_strings(o, "many", 2, &perm, &a, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "field 'many': 3 items, more than 2");
	assert_int_equal(jsonv_get_strings(o, "notarray", 2, &perm, &a, &e),
			 -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'notarray': expected an array of strings, got \"x\"");
	assert_int_equal(jsonv_get_strings(o, "absent", 2, &perm, &a, &e),
			 -EINVAL);
	a = o;
	assert_int_equal(jsonv_opt_strings(o, "absent", 2, &perm, &a, &e), 0);
	assert_null(a);

	/* objects, read with a prefix that names the item */
	assert_int_equal(jsonv_get_objects(o, "objs", 8, &a, &e), -EINVAL);
	assert_string_equal(e.msg,
			    "field 'objs[1]': expected an object, got 1");
	assert_int_equal(jsonv_get_objects(o, "bindings", 8, &a, &e), 0);
	jsonv_prefix(&e, "bindings[%d].", 0);
	b = json_object_array_get_idx(a, 0);
	assert_int_equal(jsonv_get_str(b, "role", &ws_name, &s, &e), 0);
	jsonv_prefix(&e, "bindings[%d].", 1);
	b = json_object_array_get_idx(a, 1);
	assert_int_equal(jsonv_get_str(b, "workspace", &ws_name, &s, &e),
			 -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'bindings[1].workspace': expected a workspace name, 1-63 bytes of [a-z0-9-] starting with a letter or digit, got 3");
	assert_int_equal(jsonv_get_str(b, "role", &ws_name, &s, &e), -EINVAL);
	assert_string_equal(
		e.msg,
		"field 'bindings[1].role': required, a workspace name, 1-63 bytes of [a-z0-9-] starting with a letter or digit");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),  cmocka_unit_test(test_int),
		cmocka_unit_test(test_str),    cmocka_unit_test(test_labels),
		cmocka_unit_test(test_arrays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
