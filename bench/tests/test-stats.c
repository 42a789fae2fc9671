// SPDX-License-Identifier: GPL-2.0-only
/* The ratio math of moat-bench run (stats.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats.h"

static void median_odd_even_unsorted(void **state)
{
	double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 };

	assert_true(stats_median(odd, 3) == 2);
	/* even count: the mean of the two middle values */
	assert_true(stats_median(even, 4) == 2.5);
	/* the input keeps its order: callers report rounds in run order */
	assert_true(odd[0] == 3 && odd[1] == 1 && odd[2] == 2);
	assert_true(stats_median(odd, 0) == 0);
}

static void ratio_uses_both_neighbours(void **state)
{
	double base[] = { 10, 10, 10 }, cas[] = { 9, 9.5 }, r[2];

	assert_int_equal(stats_round_ratios(base, cas, 2, r), 0);
	assert_true(r[0] == 0.9);
	assert_true(r[1] == 0.95);
}

static void linear_drift_cancels(void **state)
{
	/*
	 * The machine speeds up by 1 Mpps every half round and the case is
	 * as fast as the baseline: measured at the midpoint, the case runs
	 * at 11, between baselines of 10 and 12, and its ratio is exactly 1.
	 */
	double base[] = { 10, 12, 14 }, cas[] = { 11, 13 }, r[2];

	assert_int_equal(stats_round_ratios(base, cas, 2, r), 0);
	assert_true(r[0] == 1.0);
	assert_true(r[1] == 1.0);
}

static void zero_baseline_rejected(void **state)
{
	double base[] = { 10, 0 }, cas[] = { 9 }, r[1];

	/* a baseline that received nothing means the run is broken */
	assert_int_equal(stats_round_ratios(base, cas, 1, r), -EINVAL);
}

static void summary_median_min_max(void **state)
{
	double r[] = { 0.91, 0.97, 0.85, 0.93, 0.95 };
	struct ratio_stats s;

	stats_summary(r, 5, &s);
	assert_int_equal(s.n, 5);
	assert_true(s.median == 0.93);
	assert_true(s.min == 0.85);
	assert_true(s.max == 0.97);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(median_odd_even_unsorted),
		cmocka_unit_test(ratio_uses_both_neighbours),
		cmocka_unit_test(linear_drift_cancels),
		cmocka_unit_test(zero_baseline_rejected),
		cmocka_unit_test(summary_median_min_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
