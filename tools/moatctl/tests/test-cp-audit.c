// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl audit verify: the API's records read into audit.h's records,
 * their hash against vectors computed apart from this code (Python's
 * hashlib over the spec's layout), so that moatctl and the store agree
 * with the spec and not only with each other; then a chain that holds,
 * and each way one can be broken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* before cmocka.h, whose fail() macro would rename moatctl's fail() */
#include "cp-audit.h"

#include <cmocka.h>

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
#define HASH1 "c6bc8db6865d80e37de86a24f4da5071cd74aeb8f061939932b557850cd826ae"
#define HASH2 "e84fe3f29ef41272aab60cfb9add68b3cae648e872db7240254941227490b6e2"

/* Two records as GET /v1/audit gives them. */
static const char chain_json[] =
	"[{\"seq\":1,\"time\":1795867200,\"actor\":\"key:kaaaaaaaaaa/admin\","
	"\"source\":\"127.0.0.1:40000\",\"action\":\"token.create\","
	"\"workspace\":\"wbbbbbbbbbb\",\"target\":\"tcccccccccc\","
	"\"result\":\"ok\",\"detail\":\"{\\\"ttl\\\":3600}\",\"prev\":\"" ZEROS
	"\",\"hash\":\"" HASH1 "\"},"
	"{\"seq\":2,\"time\":1795867260,\"actor\":\"system\",\"source\":\"\","
	"\"action\":\"auth.deny\",\"workspace\":\"\",\"target\":\"\","
	"\"result\":\"denied: host:remove\",\"detail\":\"{}\",\"prev\":\"" HASH1
	"\",\"hash\":\"" HASH2 "\"}]";

static void test_hash_vectors(void **state)
{
	const struct audit_record r1 = {
		.seq = 1,
		.time = 1795867200,
		.actor = "key:kaaaaaaaaaa/admin",
		.source = "127.0.0.1:40000",
		.action = "token.create",
		.workspace = "wbbbbbbbbbb",
		.target = "tcccccccccc",
		.result = "ok",
		.detail = "{\"ttl\":3600}",
		.prev = ZEROS,
	};
	struct audit_record r2 = {
		.seq = 2,
		.time = 1795867260,
		.actor = "system",
		.source = "",
		.action = "auth.deny",
		.workspace = "",
		.target = "",
		.result = "denied: host:remove",
		.detail = "{}",
		.prev = HASH1,
	};
	char hex[65];

	assert_int_equal(audit_hash(&r1, hex), 0);
	assert_string_equal(hex, HASH1);
	assert_int_equal(audit_hash(&r2, hex), 0);
	assert_string_equal(hex, HASH2);
	/* lengths keep fields apart: moving a byte across changes the hash */
	r2.action = "auth.den";
	r2.workspace = "y";
	assert_int_equal(audit_hash(&r2, hex), 0);
	assert_string_not_equal(hex, HASH2);
}

/* Feed @list's records to a new verifier: how many passed, and *@why. */
static int64_t run(json_object *list, char *why, size_t size)
{
	struct audit_verifier v;
	struct audit_record r;

	audit_verify_init(&v);
	why[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		if (cp_audit_record(json_object_array_get_idx(list, i), &r, why,
				    size) < 0)
			break;
		if (audit_verify_next(&v, &r) < 0) {
			snprintf(why, size, "%s", v.why);
			break;
		}
	}
	return v.checked;
}

static json_object *load(void)
{
	json_object *o = json_tokener_parse(chain_json);

	assert_non_null(o);
	return o;
}

static void test_chain_ok(void **state)
{
	json_object *list = load();
	struct audit_verifier v;
	struct audit_record r;
	char why[256] = "";

	audit_verify_init(&v);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(
			cp_audit_record(json_object_array_get_idx(list, i), &r,
					why, sizeof(why)),
			0);
		assert_int_equal(audit_verify_next(&v, &r), 0);
	}
	assert_int_equal(v.checked, 2);
	assert_string_equal(v.prev, HASH2);
	assert_string_equal(why, "");
	json_object_put(list);
}

/* detail may come as JSON text (the spec) or as the object itself */
static void test_detail_object(void **state)
{
	json_object *list = load();
	struct audit_record r;
	char why[256] = "", hex[65];

	json_object_object_add(json_object_array_get_idx(list, 0), "detail",
			       json_tokener_parse("{\"ttl\":3600}"));
	assert_int_equal(cp_audit_record(json_object_array_get_idx(list, 0), &r,
					 why, sizeof(why)),
			 0);
	assert_string_equal(r.detail, "{\"ttl\":3600}");
	assert_int_equal(audit_hash(&r, hex), 0);
	assert_string_equal(hex, HASH1);
	json_object_put(list);
}

static void set(json_object *list, size_t i, const char *key, json_object *v)
{
	json_object_object_add(json_object_array_get_idx(list, i), key, v);
}

static void test_chain_broken(void **state)
{
	json_object *list;
	char why[256];

	/* an edited field: the record's hash no longer matches */
	list = load();
	set(list, 1, "result", json_object_new_string("ok"));
	assert_int_equal(run(list, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "record 2: hash does not match"));
	json_object_put(list);

	/* an edited record whose hash was recomputed: the next prev breaks */
	list = load();
	set(list, 0, "target", json_object_new_string("tdddddddddd"));
	set(list, 0, "hash", json_object_new_string(HASH2));
	assert_int_equal(run(list, why, sizeof(why)), 0);
	json_object_put(list);

	/* the first record removed: seq 2 cannot come first */
	list = load();
	json_object_array_del_idx(list, 0, 1);
	assert_int_equal(run(list, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "record 2: follows record 0"));
	json_object_put(list);

	/* renumbered after a removal: the prev link still tells */
	list = load();
	json_object_array_del_idx(list, 0, 1);
	set(list, 0, "seq", json_object_new_int(1));
	assert_int_equal(run(list, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "is not the hash of record 0"));
	json_object_put(list);

	/* reordered */
	list = load();
	json_object_get(json_object_array_get_idx(list, 0));
	json_object_array_add(list, json_object_array_get_idx(list, 0));
	json_object_array_del_idx(list, 0, 1);
	assert_int_equal(run(list, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "record 2: follows record 0"));
	json_object_put(list);

	/* a field missing, or of the wrong type */
	list = load();
	json_object_object_del(json_object_array_get_idx(list, 1), "actor");
	assert_int_equal(run(list, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "record 2: a field missing"));
	json_object_put(list);
	list = load();
	set(list, 0, "seq", json_object_new_string("1"));
	assert_int_equal(run(list, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "without seq or time"));
	json_object_put(list);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_chain_ok),
		cmocka_unit_test(test_detail_object),
		cmocka_unit_test(test_chain_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
