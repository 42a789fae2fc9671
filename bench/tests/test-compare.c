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

#include <cmocka.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
