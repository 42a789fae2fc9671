// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl rules --unused: which rows it lists, their ages, and what it
 * prints, from made-up rows (kernel-tests/kt-unused.sh reads real ones).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rules.h"

#define SEC 1000000000ull
/* 2026-11-28 12:00:00 UTC */
#define NOW (1795867200ull * SEC)

static const struct verdicts gen7 = { .has_generation = true,
				      .generation = 7,
				      .policy_drop = true };

/* Six rules, then the fixed rows, as moat_dp_rows() gives them. */
static const struct moat_dp_row rows[] = {
	{ .name = "ssh",
	  .slot = 2,
	  .packets = 40,
	  .bytes = 3000,
	  .applied_ns = NOW - 90 * 86400 * SEC },
	{ .name = "old-vpn",
	  .action = 0,
	  .slot = 3,
	  .applied_ns = NOW - (41 * 86400 + 3 * 3600) * SEC },
	{ .name = "telnet",
	  .action = 1,
	  .slot = 4,
	  .applied_ns = NOW - 725 * SEC },
	{ .name = "fresh", .slot = 5, .applied_ns = NOW - 3 * SEC },
	/* the clock was set back after this apply */
	{ .name = "future", .slot = 6, .applied_ns = NOW + 60 * SEC },
	{ .name = "web",
	  .slot = 7,
	  .packets = 1,
	  .bytes = 60,
	  .applied_ns = NOW - 3 * SEC },
	{ .name = "policy",
	  .action = -1,
	  .fixed = true,
	  .slot = 0,
	  .packets = 9 },
	{ .name = "arp", .fixed = true, .slot = 1, .packets = 4 },
	/* a fixed row of no packets is not an unused rule */
	{ .name = "non-ip", .fixed = true, .slot = 8 },
	{ .name = "malformed", .action = 1, .fixed = true, .slot = 9 },
};

#define NROWS ((int)(sizeof(rows) / sizeof(rows[0])))

static char *names(const struct unused *u)
{
	static char buf[256];

	buf[0] = '\0';
	for (int i = 0; i < u->n; i++) {
		strcat(buf, i ? " " : "");
		strcat(buf, u->v[i]->name);
	}
	return buf;
}

static void test_age(void **state)
{
	struct moat_dp_row r = { .applied_ns = NOW - 90 * SEC - 1 };

	assert_int_equal(unused_age_s(&r, NOW), 90);
	r.applied_ns = NOW - 90 * SEC + 1; /* not yet 90 s: whole seconds */
	assert_int_equal(unused_age_s(&r, NOW), 89);
	r.applied_ns = NOW + SEC;
	assert_int_equal(unused_age_s(&r, NOW), 0);
	r.applied_ns = 0;
	assert_int_equal(unused_age_s(&r, NOW), -1);
}

static void test_select(void **state)
{
	struct unused u;

	/* no hits: rule order; the rules with hits and every fixed row out */
	assert_int_equal(unused_select(rows, NROWS, NOW, 0, &u), 0);
	assert_string_equal(names(&u), "old-vpn telnet fresh future");
	assert_int_equal(u.rules, 6);
	assert_int_equal(u.younger, 0);
	unused_free(&u);

	/* --min-age 10m: 12m05s is in, 3 s and a clock set back are not */
	assert_int_equal(unused_select(rows, NROWS, NOW, 600, &u), 0);
	assert_string_equal(names(&u), "old-vpn telnet");
	assert_int_equal(u.younger, 2);
	unused_free(&u);

	/* at least: exactly 725 s old is old enough for 725 s, not 726 */
	assert_int_equal(unused_select(rows, NROWS, NOW, 725, &u), 0);
	assert_string_equal(names(&u), "old-vpn telnet");
	unused_free(&u);
	assert_int_equal(unused_select(rows, NROWS, NOW, 726, &u), 0);
	assert_string_equal(names(&u), "old-vpn");
	assert_int_equal(u.younger, 3);
	unused_free(&u);

	/* only fixed rows: no generation */
	assert_int_equal(unused_select(rows + 6, 4, NOW, 0, &u), 0);
	assert_int_equal(u.n, 0);
	assert_int_equal(u.rules, 0);
	unused_free(&u);
}

static void test_unknown_age(void **state)
{
	struct moat_dp_row r = { .name = "legacy" };
	struct unused u;

	/* listed, since it has no hits; but not as old as any age */
	assert_int_equal(unused_select(&r, 1, NOW, 0, &u), 0);
	assert_string_equal(names(&u), "legacy");
	unused_free(&u);
	assert_int_equal(unused_select(&r, 1, NOW, 1, &u), 0);
	assert_int_equal(u.n, 0);
	assert_int_equal(u.younger, 1);
	unused_free(&u);
}

struct output {
	char *out, *err;
	size_t nout, nerr;
};

static void print(const struct unused_opts *o, const struct verdicts *v,
		  const struct moat_dp_row *r, int n, bool json,
		  struct output *x)
{
	FILE *out = open_memstream(&x->out, &x->nout);
	FILE *err = open_memstream(&x->err, &x->nerr);

	assert_non_null(out);
	assert_non_null(err);
	assert_int_equal(unused_print(o, v, NOW, r, n, json, out, err), 0);
	fclose(out);
	fclose(err);
}

static void output_free(struct output *x)
{
	free(x->out);
	free(x->err);
}

static void test_table(void **state)
{
	struct unused_opts o = { .instance = "default" };
	struct output x;

	print(&o, &gen7, rows, NROWS, false, &x);
	assert_string_equal(
		x.out, "RULE     ACTION     AGE  APPLIED\n"
		       "old-vpn  allow   41d03h  2026-10-18 09:00:00 +0000\n"
		       "telnet   drop    12m05s  2026-11-28 11:47:55 +0000\n"
		       "fresh    allow       3s  2026-11-28 11:59:57 +0000\n"
		       "future   allow       0s  2026-11-28 12:01:00 +0000\n");
	assert_string_equal(x.err, "4 of 6 rules unused\n");
	output_free(&x);

	o.min_age_s = 600;
	o.min_age = "10m";
	print(&o, &gen7, rows, NROWS, false, &x);
	assert_string_equal(
		x.err,
		"2 of 6 rules unused and in place for at least 10m (2 more unused, in place for less)\n");
	output_free(&x);
}

/* Nothing unused: no header alone on stdout, the count on stderr. */
static void test_table_none(void **state)
{
	struct unused_opts o = { .instance = "default" };
	struct verdicts none = { 0 };
	struct output x;

	print(&o, &gen7, rows, 1, false, &x);
	assert_string_equal(x.out, "");
	assert_string_equal(x.err, "0 of 1 rule unused\n");
	output_free(&x);

	print(&o, &none, rows + 6, 4, false, &x);
	assert_string_equal(x.out, "");
	assert_string_equal(x.err, "no generation applied: no rules\n");
	output_free(&x);
}

/* A rule pinned without an applied time: listed, of no age we know. */
static void test_table_unknown_age(void **state)
{
	struct unused_opts o = { .instance = "default" };
	struct moat_dp_row legacy = { .name = "legacy", .slot = 3 };
	struct output x;

	print(&o, &gen7, &legacy, 1, false, &x);
	assert_string_equal(x.out, "RULE    ACTION  AGE  APPLIED\n"
				   "legacy  allow     -  -\n");
	assert_string_equal(x.err, "1 of 1 rule unused\n");
	output_free(&x);
}

static void test_json(void **state)
{
	struct unused_opts o = { .instance = "ns1",
				 .min_age_s = 600,
				 .min_age = "10m" };
	struct moat_dp_row legacy = { .name = "legacy", .slot = 3 };
	struct output x;

	/* exact numbers; nothing on stderr, which is for people */
	print(&o, &gen7, rows, NROWS, true, &x);
	assert_string_equal(
		x.out,
		"{\"instance\":\"ns1\",\"generation\":7,\"time_ns\":1795867200000000000,"
		"\"min_age_s\":600,\"rules_total\":6,\"unused_younger\":2,\"rules\":["
		"{\"name\":\"old-vpn\",\"action\":\"allow\",\"slot\":3,"
		"\"applied_ns\":1792314000000000000,\"age_s\":3553200},"
		"{\"name\":\"telnet\",\"action\":\"drop\",\"slot\":4,"
		"\"applied_ns\":1795866475000000000,\"age_s\":725}]}\n");
	assert_string_equal(x.err, "");
	output_free(&x);

	o.min_age_s = 0;
	o.min_age = NULL;
	print(&o, &gen7, &legacy, 1, true, &x);
	assert_string_equal(
		x.out,
		"{\"instance\":\"ns1\",\"generation\":7,\"time_ns\":1795867200000000000,"
		"\"min_age_s\":0,\"rules_total\":1,\"unused_younger\":0,\"rules\":["
		"{\"name\":\"legacy\",\"action\":\"allow\",\"slot\":3,"
		"\"applied_ns\":0,\"age_s\":null}]}\n");
	output_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_unknown_age),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_none),
		cmocka_unit_test(test_table_unknown_age),
		cmocka_unit_test(test_json),
	};

	/* APPLIED is local time */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
