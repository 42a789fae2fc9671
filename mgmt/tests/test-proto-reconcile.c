// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's messages of declared configuration (desired,
 * applied, counters, counters_request, hello's applied_generation):
 * their optional keys, values and bounds, each case a valid sample with
 * one key changed (proto-sample.c).  Required keys and string bounds are
 * in test-proto-keys.c's tables with the other messages'.
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

static void put_text(struct wire_writer *w, const void *arg)
{
	size_t n = *(const size_t *)arg;
	char *p = malloc(n);

	assert_non_null(p);
	memset(p, '#', n);
	wire_strn(w, p, n);
	free(p);
}

static void test_desired(void **state)
{
	static const size_t at = PROTO_TEXT_MAX, over = PROTO_TEXT_MAX + 1,
			    none = 0;
	struct edit text_at = { "ruleset", "text", put_text, &at };
	struct edit text_over = { "ruleset", "text", put_text, &over };
	struct edit text_empty = { "ruleset", "text", put_text, &none };
	struct edit no_ruleset = { NULL, "ruleset" };
	struct edit mode = { "ruleset", "mode", put_str, "permissive" };
	struct edit name = { "ruleset", "name", put_str, "Web" };
	struct edit hash = { "ruleset", "sha256", put_str, "abc" };
	struct edit rs_str = { NULL, "ruleset", put_str, "web" };
	struct wire_err e = { "" };
	struct proto_msg out;

	/* 900,000 bytes of text and the rest still fit a 1 MiB frame */
	expect_accepted(PROTO_DESIRED, &text_at);
	expect_refused(
		PROTO_DESIRED, &text_over,
		"desired: ruleset: key 'text' is longer than 900000 bytes");
	/* an empty ruleset is a ruleset: the default policy alone */
	expect_accepted(PROTO_DESIRED, &text_empty);
	/* no ruleset: the host keeps what it has */
	assert_int_equal(decode_edited(PROTO_DESIRED, &no_ruleset, &out, &e),
			 0);
	assert_false(out.desired.has_ruleset);
	assert_int_equal(out.desired.generation, 7);
	proto_msg_free(&out);
	expect_accepted(PROTO_DESIRED, &no_ruleset);
	expect_refused(
		PROTO_DESIRED, &mode,
		"desired: ruleset: key 'mode' is not enforce or audit: 'permissive'");
	expect_refused(
		PROTO_DESIRED, &name,
		"desired: ruleset: key 'name' is not a ruleset name ([a-z0-9][a-z0-9-]{0,62}): 'Web'");
	expect_refused(
		PROTO_DESIRED, &hash,
		"desired: ruleset: key 'sha256' is not 64 lowercase hex digits: 'abc'");
	expect_refused(PROTO_DESIRED, &rs_str,
		       "desired: key 'ruleset' is not a map");
}

static void test_applied(void **state)
{
	static const uint64_t two = 2;
	struct edit ok = { NULL, "result", put_str, "ok" };
	struct edit maybe = { NULL, "result", put_str, "maybe" };
	struct edit drift = { NULL, "drift", put_uint, &two };
	struct edit no_hash = { NULL, "ruleset_hash" };
	struct edit empty_error = { NULL, "error", put_str, "" };
	struct wire_err e = { "" };
	struct proto_msg out;

	/* a success needs no error, and one sent anyway is not kept */
	assert_int_equal(decode_edited(PROTO_APPLIED, &ok, &out, &e), 0);
	assert_true(out.applied.ok);
	assert_string_equal(out.applied.error, "");
	proto_msg_free(&out);
	expect_refused(PROTO_APPLIED, &maybe,
		       "applied: key 'result' is not ok or error: 'maybe'");
	expect_refused(PROTO_APPLIED, &drift,
		       "applied: key 'drift' is not 0 or 1: 2");
	expect_refused(PROTO_APPLIED, &empty_error,
		       "applied: key 'error' is empty");
	/* a host with nothing in force has no hash to say */
	assert_int_equal(decode_edited(PROTO_APPLIED, &no_hash, &out, &e), 0);
	assert_string_equal(out.applied.ruleset_hash, "");
	proto_msg_free(&out);
	expect_accepted(PROTO_APPLIED, &no_hash);
}

static void put_rules(struct wire_writer *w, const void *arg)
{
	const char *name = arg;

	wire_array_open(w);
	wire_map_open(w);
	wire_put_str(w, "name", "ssh");
	wire_put_uint(w, "packets", 1);
	wire_put_uint(w, "bytes", 60);
	wire_map_close(w);
	wire_map_open(w);
	if (name)
		wire_put_str(w, "name", name);
	wire_put_uint(w, "packets", 1);
	wire_put_uint(w, "bytes", 60);
	wire_map_close(w);
	wire_array_close(w);
}

static void put_rules_str(struct wire_writer *w, const void *arg)
{
	wire_array_open(w);
	wire_str(w, "ssh");
	wire_array_close(w);
}

static void test_counters(void **state)
{
	struct edit fixed = { NULL, "rules", put_rules, "(established)" };
	struct edit longest = {
		NULL, "rules", put_rules,
		"("
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		")"
	};
	struct edit space = { NULL, "rules", put_rules, "web in" };
	struct edit missing = { NULL, "rules", put_rules, NULL };
	struct edit not_map = { NULL, "rules", put_rules_str, NULL };
	struct edit no_hash = { NULL, "ruleset_hash", put_str, "" };

	expect_accepted(PROTO_COUNTERS, &fixed);
	/* a rule name of 63 bytes in parentheses is the longest */
	expect_accepted(PROTO_COUNTERS, &longest);
	expect_refused(
		PROTO_COUNTERS, &space,
		"counters: rules item 1: key 'name' is not 1-65 bytes of printable ASCII without spaces: 'web in'");
	expect_refused(PROTO_COUNTERS, &missing,
		       "counters: rules item 1: missing key 'name'");
	expect_refused(PROTO_COUNTERS, &not_map,
		       "counters: rules item 0 is not a map");
	expect_refused(
		PROTO_COUNTERS, &no_hash,
		"counters: key 'ruleset_hash' is not 64 lowercase hex digits: ''");
}

static void test_hello_generation(void **state)
{
	static const uint64_t gen = 41, none = 0;
	struct edit zero = { NULL, "applied_generation", put_uint, &none };
	struct edit other = { NULL, "zone", put_str, "eu" };
	struct edit given = { NULL, "applied_generation", put_uint, &gen };
	struct edit str = { NULL, "applied_generation", put_str, "41" };
	struct wire_err e = { "" };
	struct proto_msg out;

	assert_int_equal(decode_edited(PROTO_HELLO, &given, &out, &e), 0);
	assert_true(out.hello.has_applied_generation);
	assert_int_equal(out.hello.applied_generation, 41);
	proto_msg_free(&out);
	/* 0 is said too: this client knows desired, and has none in force */
	assert_int_equal(decode_edited(PROTO_HELLO, &zero, &out, &e), 0);
	assert_true(out.hello.has_applied_generation);
	assert_int_equal(out.hello.applied_generation, 0);
	proto_msg_free(&out);
	expect_accepted(PROTO_HELLO, &zero);
	/* absent: a client that may not know desired */
	assert_int_equal(decode_edited(PROTO_HELLO, &other, &out, &e), 0);
	assert_false(out.hello.has_applied_generation);
	proto_msg_free(&out);
	expect_accepted(PROTO_HELLO, &given);
	expect_refused(
		PROTO_HELLO, &str,
		"hello: key 'applied_generation' is not an unsigned integer");
}

/* A desired state as big as the protocol allows still makes one frame. */
static void test_desired_fits(void **state)
{
	struct proto_msg in, out;
	struct wire_err e = { "" };
	struct wire_writer w;
	const char *f;
	size_t n;

	sample(PROTO_DESIRED, &in);
	in.desired.ruleset.text = malloc(PROTO_TEXT_MAX);
	assert_non_null(in.desired.ruleset.text);
	memset(in.desired.ruleset.text, 'x', PROTO_TEXT_MAX);
	in.desired.ruleset.text_len = PROTO_TEXT_MAX;
	wire_writer_init(&w);
	assert_int_equal(proto_encode_desired(&w, &in.desired, &f, &n, &e), 0);
	assert_true(n <= WIRE_HDR_LEN + WIRE_MAX_FRAME);
	assert_int_equal(decode_frame(f, n, &out, &e), 0);
	assert_true(proto_msg_equal(&in, &out));
	proto_msg_free(&out);
	/* one byte more is refused by the encoder, as the peer would */
	in.desired.ruleset.text_len++;
	in.desired.ruleset.text =
		realloc(in.desired.ruleset.text, PROTO_TEXT_MAX + 1);
	assert_non_null(in.desired.ruleset.text);
	in.desired.ruleset.text[PROTO_TEXT_MAX] = 'x';
	assert_int_equal(proto_encode_desired(&w, &in.desired, &f, &n, &e),
			 -EINVAL);
	assert_string_equal(
		e.msg,
		"desired: ruleset: key 'text' is longer than 900000 bytes");
	free(in.desired.ruleset.text);
	wire_writer_free(&w);
}

static void test_direction(void **state)
{
	assert_true(proto_from_client(PROTO_APPLIED));
	assert_true(proto_from_client(PROTO_COUNTERS));
	assert_false(proto_from_client(PROTO_DESIRED));
	assert_false(proto_from_client(PROTO_COUNTERS_REQUEST));
	assert_string_equal(proto_type_name(PROTO_COUNTERS_REQUEST),
			    "counters_request");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desired),
		cmocka_unit_test(test_applied),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_hello_generation),
		cmocka_unit_test(test_desired_fits),
		cmocka_unit_test(test_direction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
