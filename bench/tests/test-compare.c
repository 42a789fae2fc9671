// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading reports back: compare's matching and flagging, and the series
 * the plots draw, on small reports written here (and on the format of
 * the first moat-bench, which has no "system" or "tx").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "compare.h"
#include "json.h"

static void load(const char *text, struct json *j)
{
	char err[128];

	if (json_parse(text, strlen(text), j, err, sizeof(err)))
		fail_msg("test report does not parse: %s", err);
}

/* compare's output and its count of moves. */
static int compare(const char *a, const char *b, char **out)
{
	struct json ja, jb;
	size_t len;
	FILE *f = open_memstream(out, &len);
	int moved;

	load(a, &ja);
	load(b, &jb);
	moved = compare_reports(&ja, &jb, f);
	fclose(f);
	json_free(&ja);
	json_free(&jb);
	return moved;
}

#define RUN(cases) \
	"{\"benchmark\":\"run\",\"kernel\":\"6.18\",\"cases\":[" cases "]}"
/* one case: ratio median/min/max and its case rates */
#define CASE(name, tx, med, lo, hi, mpps)                               \
	"{\"case\":\"" name "\",\"tx\":\"" tx "\",\"rules\":1000,"      \
	"\"system\":\"moat\",\"ratio\":{\"median\":" med ",\"min\":" lo \
	",\"max\":" hi "},\"case_mpps\":" mpps ",\"baseline_mpps\":[6,6,6]}"

static void within_spread_is_not_a_move(void **state)
{
	char *out;
	/* 0.80 lies inside the old run's rounds, 0.79 inside the new one's */
	int moved = compare(
		RUN(CASE("moat-1000", "live", "0.79", "0.75", "0.82", "[5,5]")),
		RUN(CASE("moat-1000", "live", "0.80", "0.78", "0.83",
			 "[5,5.1]")),
		&out);

	assert_int_equal(moved, 0);
	assert_non_null(strstr(out, "moat-1000"));
	assert_null(strstr(out, "MOVED"));
	free(out);
}

static void beyond_both_spreads_is_a_move(void **state)
{
	char *out;
	/* ratio and rate both fell out of each other's ranges */
	int moved = compare(RUN(CASE("moat-1000", "live", "0.79", "0.78",
				     "0.80", "[5.0,5.1]")),
			    RUN(CASE("moat-1000", "live", "0.60", "0.59",
				     "0.61", "[3.8,3.9]")),
			    &out);

	assert_int_equal(moved, 2);
	assert_non_null(strstr(out, "MOVED"));
	/* -24.1%: (0.60 - 0.79) / 0.79 */
	assert_non_null(strstr(out, "-24.1%"));
	free(out);
}

static void cases_match_by_name_and_transmitter(void **state)
{
	char *out;
	int moved = compare(
		RUN(CASE("moat-1", "live", "0.9", "0.9", "0.9", "[6]")),
		RUN(CASE("moat-1", "afxdp", "0.5", "0.5", "0.5", "[1]")), &out);

	/* the AF_XDP case is not the live one: nothing to compare */
	assert_int_equal(moved, 0);
	assert_non_null(strstr(out, "only in the new run"));
	assert_non_null(strstr(out, "only in the old run"));
	free(out);
}

static void settings_shown_and_flagged(void **state)
{
	char *out;
	const char *a = "{\"benchmark\":\"run\",\"cases\":[]}";
	const char *b = "{\"benchmark\":\"run\",\"flow_cache\":\"off\","
			"\"baseline\":\"drop\",\"cases\":[]}";

	/* a report from before the keys: the defaults then */
	assert_int_equal(compare(a, b, &out), 0);
	assert_non_null(strstr(out, "flow_cache    auto -> off"));
	assert_non_null(strstr(out, "different flow caches"));
	assert_non_null(strstr(out, "baseline      drop\n"));
	assert_null(strstr(out, "different baselines"));
	free(out);
}

static void different_benchmarks_refused(void **state)
{
	char *out;

	assert_int_equal(
		compare(RUN(""), "{\"benchmark\":\"apply-time\"}", &out),
		-EINVAL);
	free(out);
}

static void apply_rows_by_system_and_count(void **state)
{
	char *out;
	const char *a =
		"{\"benchmark\":\"apply-time\",\"rows\":["
		"{\"rules\":10000,\"end_to_end_ms\":80},"
		"{\"system\":\"nft-sets\",\"rules\":10000,\"end_to_end_ms\":300}]}";
	const char *b =
		"{\"benchmark\":\"apply-time\",\"rows\":["
		"{\"system\":\"moat\",\"rules\":10000,\"end_to_end_ms\":81,"
		"\"end_to_end_min_ms\":79,\"end_to_end_max_ms\":90},"
		"{\"system\":\"nft-sets\",\"rules\":10000,\"end_to_end_ms\":600}]}";

	/*
	 * moat's old row has no range (the first format), but its new one
	 * holds the old median: not a move.  nft-sets has no ranges, and
	 * doubled, beyond the 5% floor.
	 */
	assert_int_equal(compare(a, b, &out), 1);
	assert_non_null(strstr(out, "moat-10000"));
	assert_non_null(strstr(out, "nft-sets-10000"));
	free(out);
}

/* Both times of an apply, when both reports have them. */
static void apply_enforced_row(void **state)
{
	char *out;
	const char *a = "{\"benchmark\":\"apply-time\",\"rows\":["
			"{\"system\":\"moat\",\"rules\":10000,"
			"\"end_to_end_ms\":90,\"enforced_ms\":75}]}";
	const char *b = "{\"benchmark\":\"apply-time\",\"rows\":["
			"{\"system\":\"moat\",\"rules\":10000,"
			"\"end_to_end_ms\":91,\"enforced_ms\":150}]}";

	/* e2e within 5%, enforcement twice as slow: one move */
	assert_int_equal(compare(a, b, &out), 1);
	assert_non_null(strstr(out, "enforced ms"));
	assert_non_null(strstr(out, "e2e ms"));
	free(out);
}

static void mpps_series_per_system(void **state)
{
	struct plot_series s[PLOT_MAX_SERIES];
	struct json j;
	int n;

	load(RUN("{\"case\":\"moat-100\",\"rules\":100,\"case_mpps\":[5,6,7],"
		 "\"baseline_mpps\":[8,8]},"
		 "{\"case\":\"moat-1\",\"rules\":1,\"case_mpps\":[6],"
		 "\"baseline_mpps\":[7]},"
		 "{\"case\":\"nft-sets-100\",\"system\":\"nft-sets\",\"rules\":100,"
		 "\"case_mpps\":[1],\"baseline_mpps\":[9]},"
		 "{\"case\":\"xdp-filter-100\",\"system\":\"xdp-filter\","
		 "\"rules\":100,\"skipped\":\"cannot\"},"
		 "{\"case\":\"test-run-100\",\"rules\":100,\"test_run\":{}},"
		 "{\"case\":\"moat-1\",\"system\":\"moat\",\"tx\":\"afxdp\","
		 "\"rules\":1,\"case_mpps\":[2],\"baseline_mpps\":[3]}"),
	     &j);
	n = plot_mpps_series(&j, s, PLOT_MAX_SERIES);
	/* moat, baseline, nft-sets, moat (afxdp), baseline (afxdp) */
	assert_int_equal(n, 5);
	assert_string_equal(s[0].name, "moat");
	/* sorted by rule count, medians of the rounds */
	assert_int_equal(s[0].n, 2);
	assert_true(s[0].x[0] == 1 && s[0].y[0] == 6);
	assert_true(s[0].x[1] == 100 && s[0].y[1] == 6);
	/* the baseline at 100 rules is the first case's (8), not nft-sets' */
	assert_string_equal(s[1].name, "baseline");
	assert_int_equal(s[1].n, 2);
	assert_true(s[1].y[1] == 8);
	assert_string_equal(s[2].name, "nft-sets");
	assert_string_equal(s[3].name, "moat (afxdp)");
	json_free(&j);
}

/* pool: a run report of one case with its rounds' busy and wall ratios */
#define POOLED(settings, name, busy, wall)                                   \
	"{\"benchmark\":\"run\",\"cpu_model\":\"X\"" settings ",\"cases\":[" \
	"{\"case\":\"" name "\",\"tx\":\"live\",\"target\":0.95,"            \
	"\"ratios_busy\":" busy ",\"ratios\":" wall "}]}"

/* pool_add() each of @n reports under @groups; the output, and 0 or
 * the first error. */
static int pool(int n, const char *const *groups, const char *const *reports,
		bool wall, bool json, char **out)
{
	struct pool *p = pool_new(wall);
	size_t len;
	FILE *f = open_memstream(out, &len);
	int ret = 0;

	assert_non_null(p);
	for (int i = 0; i < n && !ret; i++) {
		struct json j;

		load(reports[i], &j);
		ret = pool_add(p, groups[i], &j, "test.json");
		json_free(&j);
	}
	if (!ret)
		pool_print(p, json, f);
	fclose(f);
	pool_free(p);
	return ret;
}

/* pool's JSON @out parsed into @j: its cases, checked to be @n of them. */
static const struct json *pooled_cases(const char *out, struct json *j,
				       size_t n)
{
	const struct json *c;

	load(out, j);
	c = json_get(j, "cases");
	assert_non_null(c);
	assert_int_equal(c->n, n);
	return c;
}

static void pool_rounds_of_runs(void **state)
{
	const char *g[] = { "-", "-" };
	const char *r[] = {
		POOLED("", "moat-1", "[0.96,0.90,0.94]", "[0.5,0.5,0.5]"),
		POOLED("", "moat-1", "[0.98,0.92]", "[0.5,0.5]"),
	};
	char *out;

	(void)state;
	assert_int_equal(pool(2, g, r, false, false, &out), 0);
	/*
	 * 0.90 0.92 0.94 0.96 0.98: median 0.94, quartiles 0.92 and 0.96,
	 * two rounds of five at 0.95 or more; the runs' medians 0.94, 0.95
	 */
	assert_non_null(strstr(out, "busy-time ratios"));
	assert_non_null(strstr(out,
			       "moat-1                   live      2      5   "
			       "0.940   0.920   0.960   0.900   0.980   "
			       "0.95     2/5  0.940 0.950\n"));
	assert_null(strstr(out, "between groups"));
	free(out);
}

static void pool_wall_clock(void **state)
{
	const char *g[] = { "-" };
	const char *r[] = { POOLED("", "moat-1", "[0.9]", "[0.5,0.7]") };
	char *out;

	(void)state;
	assert_int_equal(pool(1, g, r, true, false, &out), 0);
	assert_non_null(strstr(out, "wall-clock ratios"));
	assert_non_null(
		strstr(out, "   0.600   0.550   0.650   0.500   0.700"));
	free(out);
}

static void pool_groups_against_the_first(void **state)
{
	const char *g[] = { "auto", "fc16", "fc16" };
	const char *r[] = {
		POOLED("", "moat-100000", "[0.5,0.6]", "[0]"),
		POOLED(",\"flow_cache\":\"16\"", "moat-100000", "[0.7]", "[0]"),
		POOLED(",\"flow_cache\":\"16\"", "moat-100000", "[0.8]", "[0]"),
	};
	char *out;

	(void)state;
	assert_int_equal(pool(3, g, r, false, false, &out), 0);
	assert_non_null(strstr(out, "auto       moat-100000"));
	assert_non_null(strstr(out, "fc16       moat-100000"));
	/* every fc16 round above every auto round: P 1; medians 0.75, 0.55 */
	assert_non_null(strstr(out,
			       "moat-100000              live   fc16       auto"
			       "         0.750   +0.200   1.00\n"));
	free(out);
	assert_int_equal(pool(3, g, r, false, true, &out), 0);
	{
		struct json j;
		const struct json *c = pooled_cases(out, &j, 2);

		assert_true(json_num(json_get(&c->v[1], "median"), 0) == 0.75);
		assert_int_equal(json_num(json_get(&c->v[1], "rounds"), 0), 2);
		assert_true(json_num(json_at(&c->v[1], "against.p_higher"),
				     0) == 1);
		assert_null(json_get(&c->v[0], "against"));
		json_free(&j);
	}
	free(out);
}

/* each case against floor-N of the same runs; none for cases without one */
static void pool_against_the_floor(void **state)
{
	const char *g[] = { "-" };
	const char *r[] = {
		"{\"benchmark\":\"run\",\"cases\":["
		"{\"case\":\"a/a\",\"ratios_busy\":[1.0]},"
		"{\"case\":\"moat-10000\",\"ratios_busy\":[0.7,0.8]},"
		"{\"case\":\"floor-10000\",\"ratios_busy\":[0.9,0.95]},"
		"{\"case\":\"xdp-filter-1\",\"ratios_busy\":[0.9]}]}",
	};
	char *out;

	(void)state;
	assert_int_equal(pool(1, g, r, false, false, &out), 0);
	assert_non_null(
		strstr(out, "against the floor at the same rule count"));
	/* medians 0.75 and 0.925; no moat round above a floor round: P 0 */
	assert_non_null(strstr(out, "-          moat-10000               live "
				    "    0.750   0.925   -0.175   0.00\n"));
	/* no floor-1 in these runs, and a/a and the floor have none */
	assert_null(strstr(out, "xdp-filter-1             live     0.900"));
	assert_null(strstr(out, "floor-10000              live     0.925"));
	free(out);
	assert_int_equal(pool(1, g, r, false, true, &out), 0);
	{
		struct json j;
		const struct json *c = pooled_cases(out, &j, 4);

		assert_null(json_get(&c->v[0], "against_floor"));
		assert_string_equal(
			json_text(json_at(&c->v[1], "against_floor.case"), ""),
			"floor-10000");
		assert_true(json_num(json_at(&c->v[1], "against_floor.delta"),
				     0) < -0.1749 &&
			    json_num(json_at(&c->v[1], "against_floor.delta"),
				     0) > -0.1751);
		assert_true(
			json_num(json_at(&c->v[1], "against_floor.p_higher"),
				 1) == 0);
		assert_null(json_get(&c->v[2], "against_floor"));
		assert_null(json_get(&c->v[3], "against_floor"));
		json_free(&j);
	}
	free(out);
}

/* test-run's spread passes: nanoseconds, moat's and the floor's */
static void pool_test_run_rounds(void **state)
{
	const char *g[] = { "-", "-" };
	const char *r[] = {
		"{\"benchmark\":\"run\",\"cases\":[{\"case\":\"test-run-10000\","
		"\"test_run\":{\"classifier_ns\":40},\"ratios_busy\":[],"
		"\"test_run_spread\":{\"ns\":21,\"rounds_ns\":[21,20,22],"
		"\"floor_rounds_ns\":[10,11,9]}}]}",
		/* a report from before the rounds were written: nothing to add */
		"{\"benchmark\":\"run\",\"cases\":[{\"case\":\"test-run-10000\","
		"\"test_run\":{\"classifier_ns\":40},\"ratios_busy\":[],"
		"\"test_run_spread\":{\"ns\":21}},"
		"{\"case\":\"moat-1\",\"ratios_busy\":[0.9]}]}",
	};
	char *out;

	(void)state;
	assert_int_equal(pool(2, g, r, false, false, &out), 0);
	assert_non_null(strstr(out, "cases ending in ns"));
	assert_non_null(strstr(out,
			       "test-run-10000 ns        live      1      3 "
			       " 21.000  20.500  21.500  20.000  22.000"));
	assert_non_null(strstr(out,
			       "test-run-10000 floor ns  live      1      3 "
			       " 10.000   9.500  10.500   9.000  11.000"));
	free(out);
}

static void pool_refuses_what_does_not_pool(void **state)
{
	const char *same[] = { "-", "-" }, *apart[] = { "a", "b" };
	const char *stride[] = {
		POOLED("", "floor-100000", "[0.8]", "[0.8]"),
		POOLED(",\"floor_stride\":5", "floor-100000", "[0.6]", "[0.6]"),
	};
	const char *apply[] = { "{\"benchmark\":\"apply-time\",\"rows\":[]}" };
	const char *old[] = { "{\"benchmark\":\"run\",\"cases\":[{\"case\":"
			      "\"moat-1\",\"ratio\":{\"median\":0.9}}]}" };
	char *out;

	(void)state;
	/* a floor at stride 5 is another measurement than one at 1 */
	assert_int_equal(pool(2, same, stride, false, false, &out), -EINVAL);
	free(out);
	assert_int_equal(pool(2, apart, stride, false, false, &out), 0);
	free(out);
	assert_int_equal(pool(1, same, apply, false, false, &out), -EINVAL);
	free(out);
	/* a report from before the rounds were written out */
	assert_int_equal(pool(1, same, old, false, false, &out), -EINVAL);
	free(out);
}

/* The command's exit status: 2 for bad usage, 1 for a file it cannot use. */
static void pool_command_exit_status(void **state)
{
	char none[] = "pool", group[] = "--group", bogus[] = "--bogus",
	     wall[] = "--wall", missing[] = "/nonexistent/run.json";
	char *no_files[] = { none, NULL };
	char *no_name[] = { none, group, NULL };
	char *unknown[] = { none, bogus, missing, NULL };
	char *not_there[] = { none, missing, NULL };
	char file[] = "/tmp/moat-test-pool-XXXXXX";
	char *late_wall[] = { none, file, wall, NULL };
	char *one[] = { none, file, NULL };
	const char *report = POOLED("", "moat-1", "[0.9]", "[0.9]");
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, report, strlen(report)),
			 (ssize_t)strlen(report));
	close(fd);
	assert_int_equal(cmd_pool(2, one), BENCH_EXIT_OK);
	assert_int_equal(cmd_pool(1, no_files), BENCH_EXIT_USAGE);
	assert_int_equal(cmd_pool(2, no_name), BENCH_EXIT_USAGE);
	assert_int_equal(cmd_pool(3, unknown), BENCH_EXIT_USAGE);
	assert_int_equal(cmd_pool(2, not_there), BENCH_EXIT_FAIL);
	/* --wall after a file would apply to some files and not others */
	assert_int_equal(cmd_pool(3, late_wall), BENCH_EXIT_USAGE);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(within_spread_is_not_a_move),
		cmocka_unit_test(beyond_both_spreads_is_a_move),
		cmocka_unit_test(cases_match_by_name_and_transmitter),
		cmocka_unit_test(different_benchmarks_refused),
		cmocka_unit_test(settings_shown_and_flagged),
		cmocka_unit_test(apply_rows_by_system_and_count),
		cmocka_unit_test(apply_enforced_row),
		cmocka_unit_test(mpps_series_per_system),
		cmocka_unit_test(pool_rounds_of_runs),
		cmocka_unit_test(pool_wall_clock),
		cmocka_unit_test(pool_groups_against_the_first),
		cmocka_unit_test(pool_against_the_floor),
		cmocka_unit_test(pool_test_run_rounds),
		cmocka_unit_test(pool_refuses_what_does_not_pool),
		cmocka_unit_test(pool_command_exit_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
