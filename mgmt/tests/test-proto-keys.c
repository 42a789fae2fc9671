// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's keys: every required key missing and mistyped,
 * unknown keys ignored, every bound at its limit and one past it, values
 * outside their character sets.  Each case is a valid sample with one
 * key changed (proto-sample.c).
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

#include "proto-sample.h"

struct key {
	const char *name;
	const char *kind; /* as the refusal says it */
};

#define S "a string"
#define B "binary"
#define U "an unsigned integer"
#define I "an integer"

static const struct key enroll_keys[] = {
	{ "token", S },	     { "csr", B },	     { "hostname", S },
	{ "machine_id", S }, { "agent_version", S }, {}
};
static const struct key enrolled_keys[] = { { "host_id", S },
					    { "workspace_id", S },
					    { "workspace", S },
					    { "cert", B },
					    { "ca", B },
					    { "labels", "a map" },
					    { "not_after", I },
					    { "heartbeat_interval", U },
					    {} };
static const struct key hello_keys[] = { { "agent_version", S },
					 { "hostname", S },
					 { "boot_time", I },
					 {} };
static const struct key welcome_keys[] = { { "host_id", S },
					   { "workspace_id", S },
					   { "heartbeat_interval", U },
					   { "server_time", I },
					   { "renew_after", I },
					   {} };
static const struct key heartbeat_keys[] = { { "seq", U },
					     { "time", I },
					     { "agent_version", S },
					     { "uptime", U },
					     { "kernel", S },
					     { "load", "an array" },
					     { "mem_total", U },
					     { "mem_available", U },
					     { "dataplane", "a map" },
					     {} };
static const struct key dataplane_keys[] = { { "instance", S },
					     { "generation", U },
					     { "interfaces", "an array" },
					     { "ct_entries", U },
					     { "ct_max", U },
					     { "state", S },
					     {} };
static const struct key heartbeat_ack_keys[] = { { "seq", U },
						 { "server_time", I },
						 {} };
static const struct key renew_keys[] = { { "csr", B }, {} };
static const struct key renewed_keys[] = { { "cert", B },
					   { "not_after", I },
					   { "renew_after", I },
					   {} };
static const struct key error_keys[] = { { "code", S }, { "msg", S }, {} };
static const struct key desired_keys[] = { { "generation", U }, {} };
static const struct key ruleset_keys[] = { { "name", S },   { "version", U },
					   { "text", S },   { "sha256", S },
					   { "mode", S },   {} };
static const struct key applied_keys[] = { { "generation", U },
					   { "result", S },
					   { "error", S },
					   { "drift", U },
					   {} };
static const struct key counters_keys[] = { { "generation", U },
					    { "ruleset_hash", S },
					    { "rules", "an array" },
					    {} };

static const struct {
	enum proto_type type;
	const char *sub;
	const struct key *keys;
} required[] = {
	{ PROTO_ENROLL, NULL, enroll_keys },
	{ PROTO_ENROLLED, NULL, enrolled_keys },
	{ PROTO_HELLO, NULL, hello_keys },
	{ PROTO_WELCOME, NULL, welcome_keys },
	{ PROTO_HEARTBEAT, NULL, heartbeat_keys },
	{ PROTO_HEARTBEAT, "dataplane", dataplane_keys },
	{ PROTO_HEARTBEAT_ACK, NULL, heartbeat_ack_keys },
	{ PROTO_RENEW, NULL, renew_keys },
	{ PROTO_RENEWED, NULL, renewed_keys },
	{ PROTO_ERROR, NULL, error_keys },
	{ PROTO_DESIRED, NULL, desired_keys },
	{ PROTO_DESIRED, "ruleset", ruleset_keys },
	{ PROTO_APPLIED, NULL, applied_keys },
	{ PROTO_COUNTERS, NULL, counters_keys },
};

static void test_required_keys(void **state)
{
	static const uint64_t one = 1;
	char want[200];

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		enum proto_type t = required[i].type;
		char where[64];

		snprintf(where, sizeof(where), "%s%s%s", proto_type_name(t),
			 required[i].sub ? ": " : "",
			 required[i].sub ? required[i].sub : "");
		for (const struct key *k = required[i].keys; k->name; k++) {
			struct edit drop = { required[i].sub, k->name };
			/* a string where it is not one, else a number */
			bool str = !strcmp(k->kind, S);
			struct edit mistype = { required[i].sub, k->name,
						str ? put_uint : put_str,
						str ? (const void *)&one :
						      "x" };

			snprintf(want, sizeof(want), "%s: missing key '%s'",
				 where, k->name);
			expect_refused(t, &drop, want);
			snprintf(want, sizeof(want), "%s: key '%s' is not %s",
				 where, k->name, k->kind);
			expect_refused(t, &mistype, want);
		}
	}
}

static void test_optional_and_unknown_keys(void **state)
{
	struct edit drop_hash = { "dataplane", "ruleset_hash" };
	struct edit bool_hash = { "dataplane", "ruleset_hash", put_bool };
	struct edit extra = { NULL, "zone", put_str, "eu-west" };
	struct edit extra_sub = { "dataplane", "xdp_drops", put_bool };
	struct wire_err e = { "" };
	struct proto_msg out;

	assert_int_equal(decode_edited(PROTO_HEARTBEAT, &drop_hash, &out, &e),
			 0);
	assert_string_equal(out.heartbeat.dataplane.ruleset_hash, "");
	proto_msg_free(&out);
	expect_refused(
		PROTO_HEARTBEAT, &bool_hash,
		"heartbeat: dataplane: key 'ruleset_hash' is not a string");

	/* keys of a later minor revision are ignored, at any depth */
	for (int t = 0; t < NTYPES; t++)
		expect_accepted((enum proto_type)t, &extra);
	expect_accepted(PROTO_HEARTBEAT, &extra_sub);
}

/* A string of @n times 'a', for the edits that test a bound. */
static char *repeat(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = '\0';
	return s;
}

static const struct {
	enum proto_type type;
	const char *sub;
	const char *key;
	size_t max;
} string_bounds[] = {
	{ PROTO_ENROLL, NULL, "token", PROTO_TOKEN_MAX },
	{ PROTO_ENROLL, NULL, "hostname", PROTO_HOSTNAME_MAX },
	{ PROTO_ENROLL, NULL, "machine_id", PROTO_MACHINE_ID_MAX },
	{ PROTO_ENROLL, NULL, "agent_version", PROTO_VERSION_MAX },
	{ PROTO_ENROLLED, NULL, "host_id", PROTO_ID_MAX },
	{ PROTO_ENROLLED, NULL, "workspace_id", PROTO_ID_MAX },
	{ PROTO_ENROLLED, NULL, "workspace", PROTO_WORKSPACE_MAX },
	{ PROTO_HELLO, NULL, "agent_version", PROTO_VERSION_MAX },
	{ PROTO_HELLO, NULL, "hostname", PROTO_HOSTNAME_MAX },
	{ PROTO_WELCOME, NULL, "host_id", PROTO_ID_MAX },
	{ PROTO_WELCOME, NULL, "workspace_id", PROTO_ID_MAX },
	{ PROTO_HEARTBEAT, NULL, "agent_version", PROTO_VERSION_MAX },
	{ PROTO_HEARTBEAT, NULL, "kernel", PROTO_KERNEL_MAX },
	{ PROTO_HEARTBEAT, "dataplane", "instance", PROTO_INSTANCE_MAX },
	{ PROTO_ERROR, NULL, "code", PROTO_CODE_MAX },
	{ PROTO_ERROR, NULL, "msg", PROTO_MSG_MAX },
	{ PROTO_DESIRED, "ruleset", "name", PROTO_RULESET_NAME_MAX },
	{ PROTO_APPLIED, NULL, "error", PROTO_MSG_MAX },
};

static void test_string_bounds(void **state)
{
	for (size_t i = 0; i < sizeof(string_bounds) / sizeof(string_bounds[0]);
	     i++) {
		enum proto_type t = string_bounds[i].type;
		const char *sub = string_bounds[i].sub;
		char *at = repeat(string_bounds[i].max);
		char *over = repeat(string_bounds[i].max + 1);
		struct edit ok = { sub, string_bounds[i].key, put_str, at };
		struct edit bad = { sub, string_bounds[i].key, put_str, over };
		char want[200];

		expect_accepted(t, &ok);
		snprintf(want, sizeof(want),
			 "%s: %s%skey '%s' is longer than %zu bytes",
			 proto_type_name(t), sub ? sub : "", sub ? ": " : "",
			 string_bounds[i].key, string_bounds[i].max);
		expect_refused(t, &bad, want);
		free(at);
		free(over);
	}
}

static void put_bin(struct wire_writer *w, const void *arg)
{
	size_t n = *(const size_t *)arg;
	char *p = calloc(1, n + 1);

	assert_non_null(p);
	wire_bin(w, p, n);
	free(p);
}

static void test_blob_bounds(void **state)
{
	static const size_t at = PROTO_BLOB_MAX, over = PROTO_BLOB_MAX + 1,
			    none = 0;
	static const struct {
		enum proto_type type;
		const char *key;
	} blobs[] = {
		{ PROTO_ENROLL, "csr" },   { PROTO_ENROLLED, "cert" },
		{ PROTO_ENROLLED, "ca" },  { PROTO_RENEW, "csr" },
		{ PROTO_RENEWED, "cert" },
	};

	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		struct edit ok = { NULL, blobs[i].key, put_bin, &at };
		struct edit big = { NULL, blobs[i].key, put_bin, &over };
		struct edit empty = { NULL, blobs[i].key, put_bin, &none };
		const char *name = proto_type_name(blobs[i].type);
		char want[200];

		expect_accepted(blobs[i].type, &ok);
		snprintf(want, sizeof(want),
			 "%s: key '%s' is longer than 16384 bytes", name,
			 blobs[i].key);
		expect_refused(blobs[i].type, &big, want);
		snprintf(want, sizeof(want), "%s: key '%s' is empty", name,
			 blobs[i].key);
		expect_refused(blobs[i].type, &empty, want);
	}
}

struct labels_arg {
	uint32_t n;
	size_t key_len, value_len;
	const char *key0; /* the first key, instead of a made-up one */
};

static void put_labels(struct wire_writer *w, const void *arg)
{
	const struct labels_arg *a = arg;
	char *v = repeat(a->value_len);

	wire_map_open(w);
	for (uint32_t i = 0; i < a->n; i++) {
		char k[128];

		/* unique keys of key_len bytes: a number, padded with 'k' */
		snprintf(
			k, sizeof(k), "%u%s", i,
			"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
		k[a->key_len] = '\0';
		wire_put_str(w, i == 0 && a->key0 ? a->key0 : k, v);
	}
	wire_map_close(w);
	free(v);
}

static void test_label_bounds(void **state)
{
	static const struct labels_arg full = { 64, 63, 255 },
				       many = { 65, 8, 1 },
				       long_key = { 1, 64, 1 },
				       long_value = { 2, 8, 256 },
				       bad_key = { 1, 8, 1, "-x" },
				       none = { 0 };
	struct edit e_full = { NULL, "labels", put_labels, &full };
	struct edit e_none = { NULL, "labels", put_labels, &none };
	struct edit e_many = { NULL, "labels", put_labels, &many };
	struct edit e_long_key = { NULL, "labels", put_labels, &long_key };
	struct edit e_long_value = { NULL, "labels", put_labels, &long_value };
	struct edit e_bad_key = { NULL, "labels", put_labels, &bad_key };

	expect_accepted(PROTO_ENROLLED, &e_full);
	expect_accepted(PROTO_ENROLLED, &e_none);
	expect_refused(PROTO_ENROLLED, &e_many,
		       "enrolled: key 'labels' holds more than 64 pairs");
	expect_refused(PROTO_ENROLLED, &e_long_key,
		       "enrolled: label key 0 is longer than 63 bytes");
	expect_refused(PROTO_ENROLLED, &e_long_value,
		       "enrolled: label '0kkkkkkk' is longer than 255 bytes");
	expect_refused(
		PROTO_ENROLLED, &e_bad_key,
		"enrolled: label key '-x' is not 1-63 of A-Z a-z 0-9 . _ / - starting with a letter or digit");
}

static void put_dup_labels(struct wire_writer *w, const void *arg)
{
	wire_map_open(w);
	wire_put_str(w, "env", "prod");
	wire_put_str(w, "env", "dev");
	wire_map_close(w);
}

static void put_tab_label(struct wire_writer *w, const void *arg)
{
	wire_map_open(w);
	wire_put_str(w, "env", "pr\tod");
	wire_map_close(w);
}

static void test_label_values(void **state)
{
	struct edit dup = { NULL, "labels", put_dup_labels };
	struct edit tab = { NULL, "labels", put_tab_label };

	expect_refused(PROTO_ENROLLED, &dup,
		       "enrolled: label 'env' is given twice");
	expect_refused(
		PROTO_ENROLLED, &tab,
		"enrolled: label 'env' is not 0-255 bytes of printable ASCII");
	assert_true(proto_label_value_valid("", 0));
	assert_true(proto_label_key_valid("k8s.io/role", 11));
	assert_false(proto_label_key_valid("", 0));
	assert_false(proto_label_key_valid("a b", 3));
	assert_false(proto_label_key_valid("a\0b", 3));
}

struct ifaces_arg {
	uint32_t n;
	const char *name; /* of the first */
};

static void put_ifaces(struct wire_writer *w, const void *arg)
{
	const struct ifaces_arg *a = arg;

	wire_array_open(w);
	for (uint32_t i = 0; i < a->n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "veth%u", i);
		wire_map_open(w);
		wire_put_str(w, "name", i == 0 && a->name ? a->name : name);
		wire_put_str(w, "mode", "generic");
		wire_map_close(w);
	}
	wire_array_close(w);
}

static void test_iface_bounds(void **state)
{
	static const struct ifaces_arg full = { 256 }, over = { 257 },
				       at15 = { 1, "abcdefghijklmno" },
				       at16 = { 1, "abcdefghijklmnop" },
				       slash = { 2, "a/b" };
	struct edit e_full = { "dataplane", "interfaces", put_ifaces, &full };
	struct edit e_over = { "dataplane", "interfaces", put_ifaces, &over };
	struct edit e_15 = { "dataplane", "interfaces", put_ifaces, &at15 };
	struct edit e_16 = { "dataplane", "interfaces", put_ifaces, &at16 };
	struct edit e_slash = { "dataplane", "interfaces", put_ifaces, &slash };
	struct edit e_item = { "dataplane", "interfaces", put_str, "eth0" };

	expect_accepted(PROTO_HEARTBEAT, &e_full);
	expect_refused(
		PROTO_HEARTBEAT, &e_over,
		"heartbeat: dataplane: key 'interfaces' holds more than 256 items");
	expect_accepted(PROTO_HEARTBEAT, &e_15);
	expect_refused(
		PROTO_HEARTBEAT, &e_16,
		"heartbeat: dataplane: interfaces item 0: key 'name' is longer than 15 bytes");
	expect_refused(
		PROTO_HEARTBEAT, &e_slash,
		"heartbeat: dataplane: interfaces item 0: key 'name' is not an interface name: 'a/b'");
	expect_refused(
		PROTO_HEARTBEAT, &e_item,
		"heartbeat: dataplane: key 'interfaces' is not an array");
}

struct load_arg {
	int n;
	uint64_t v;
};

static void put_load(struct wire_writer *w, const void *arg)
{
	const struct load_arg *a = arg;

	wire_array_open(w);
	for (int i = 0; i < a->n; i++)
		wire_uint(w, a->v);
	wire_array_close(w);
}

static void put_int(struct wire_writer *w, const void *arg)
{
	wire_int(w, *(const int64_t *)arg);
}

static void test_number_bounds(void **state)
{
	static const struct load_arg top = { 3, UINT32_MAX },
				     wide = { 3, UINT32_MAX + 1ull },
				     two = { 2, 1 };
	static const uint64_t interval_max = PROTO_INTERVAL_MAX,
			      interval_over = PROTO_INTERVAL_MAX + 1, zero = 0,
			      past_int64 = INT64_MAX + 1ull;
	static const int64_t negative = -5;
	struct edit load_top = { NULL, "load", put_load, &top };
	struct edit load_wide = { NULL, "load", put_load, &wide };
	struct edit load_two = { NULL, "load", put_load, &two };
	struct edit iv_max = { NULL, "heartbeat_interval", put_uint,
			       &interval_max };
	struct edit iv_over = { NULL, "heartbeat_interval", put_uint,
				&interval_over };
	struct edit iv_zero = { NULL, "heartbeat_interval", put_uint, &zero };
	struct edit time_wide = { NULL, "not_after", put_uint, &past_int64 };
	struct edit seq_negative = { NULL, "seq", put_int, &negative };

	expect_accepted(PROTO_HEARTBEAT, &load_top);
	expect_refused(
		PROTO_HEARTBEAT, &load_wide,
		"heartbeat: load item 0 is not an unsigned 32-bit integer");
	expect_refused(PROTO_HEARTBEAT, &load_two,
		       "heartbeat: key 'load' holds 2 items, not 3");
	expect_accepted(PROTO_WELCOME, &iv_max);
	expect_accepted(PROTO_ENROLLED, &iv_max);
	expect_refused(
		PROTO_WELCOME, &iv_over,
		"welcome: key 'heartbeat_interval' is not 1-86400 seconds: 86401");
	expect_refused(
		PROTO_ENROLLED, &iv_zero,
		"enrolled: key 'heartbeat_interval' is not 1-86400 seconds: 0");
	expect_refused(
		PROTO_RENEWED, &time_wide,
		"renewed: key 'not_after' is out of range: 9223372036854775808");
	expect_refused(PROTO_HEARTBEAT_ACK, &seq_negative,
		       "heartbeat_ack: key 'seq' is not an unsigned integer");
}

static void test_values(void **state)
{
	struct edit space = { NULL, "hostname", put_str, "web 1" };
	struct edit empty = { NULL, "machine_id", put_str, "" };
	struct edit ws = { NULL, "workspace", put_str, "-prod" };
	struct edit id = { NULL, "host_id", put_str, "H1" };
	struct edit hash = { "dataplane", "ruleset_hash", put_str, "ABCD" };
	struct edit st = { "dataplane", "state", put_str, "broken" };
	struct edit no_hash = { "dataplane", "ruleset_hash", put_str, "" };
	struct edit code = { NULL, "code", put_str, "teapot" };
	struct edit code_bad = { NULL, "code", put_str, "Tea pot" };
	struct edit ctl = { NULL, "kernel", put_str, "6.8\x1b[2J" };
	struct wire_err e = { "" };
	struct proto_msg out;

	expect_refused(
		PROTO_ENROLL, &space,
		"enroll: key 'hostname' is not 1 or more bytes of printable ASCII without spaces: 'web 1'");
	expect_refused(
		PROTO_ENROLL, &empty,
		"enroll: key 'machine_id' is not 1 or more bytes of printable ASCII without spaces: ''");
	expect_refused(
		PROTO_ENROLLED, &ws,
		"enrolled: key 'workspace' is not a workspace name: '-prod'");
	expect_refused(PROTO_WELCOME, &id,
		       "welcome: key 'host_id' is not 1-32 of a-z 0-9: 'H1'");
	expect_refused(
		PROTO_HEARTBEAT, &hash,
		"heartbeat: dataplane: key 'ruleset_hash' is not 64 lowercase hex digits: 'ABCD'");
	expect_refused(
		PROTO_HEARTBEAT, &no_hash,
		"heartbeat: dataplane: key 'ruleset_hash' is not 64 lowercase hex digits: ''");
	expect_refused(
		PROTO_HEARTBEAT, &st,
		"heartbeat: dataplane: key 'state' is not enforcing, none or error: 'broken'");
	/* control bytes are quoted, not passed on to a terminal */
	expect_refused(
		PROTO_HEARTBEAT, &ctl,
		"heartbeat: key 'kernel' is not 1 or more bytes of printable ASCII: '6.8\\x1b[2J'");
	expect_refused(PROTO_ERROR, &code_bad,
		       "error: key 'code' is not 1-31 of a-z _: 'Tea pot'");

	/* a code of a later revision is kept, and said again as it came */
	assert_int_equal(decode_edited(PROTO_ERROR, &code, &out, &e), 0);
	assert_int_equal(out.error.code, PROTO_E_OTHER);
	assert_string_equal(out.error.code_name, "teapot");
	proto_msg_free(&out);
	expect_accepted(PROTO_ERROR, &code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_optional_and_unknown_keys),
		cmocka_unit_test(test_string_bounds),
		cmocka_unit_test(test_blob_bounds),
		cmocka_unit_test(test_label_bounds),
		cmocka_unit_test(test_label_values),
		cmocka_unit_test(test_iface_bounds),
		cmocka_unit_test(test_number_bounds),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
