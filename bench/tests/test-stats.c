// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arithmetic of moat-bench (stats.h): ratios, frame accounting,
 * latency percentiles, moves between runs, and the test-run pacing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gen.h"
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

/* Type 7 quantiles, as R's quantile() gives them for the same values. */
static void quantiles_interpolate(void **state)
{
	const double v[] = { 1, 2, 4, 8, 16 };

	(void)state;
	assert_true(stats_quantile(v, 5, 0) == 1);
	assert_true(stats_quantile(v, 5, 0.5) == 4);
	assert_true(stats_quantile(v, 5, 1) == 16);
	assert_true(stats_quantile(v, 5, 0.25) == 2);
	/* 0.75 * 4 = 3: 8 exactly; 0.625 * 4 = 2.5: between 4 and 8 */
	assert_true(stats_quantile(v, 5, 0.75) == 8);
	assert_true(stats_quantile(v, 5, 0.625) == 6);
	/* four values: q1 at 0.75, between the first two */
	assert_true(stats_quantile(v, 4, 0.25) == 1.75);
	assert_true(stats_quantile(v, 1, 0.9) == 1);
	assert_true(stats_quantile(v, 0, 0.5) == 0);
	/* out of range clamps */
	assert_true(stats_quantile(v, 5, -1) == 1);
	assert_true(stats_quantile(v, 5, 2) == 16);
}

static void superiority_counts_pairs(void **state)
{
	const double a[] = { 1, 2, 3 }, b[] = { 2, 4 }, c[] = { 10, 11 };

	(void)state;
	/* b over a: 2>1, 2=2 (half), 2<3; 4 over all three: 1.5 + 3 of 6 */
	assert_true(stats_superiority(a, 3, b, 2) == 4.5 / 6);
	assert_true(stats_superiority(b, 2, a, 3) == 1.5 / 6);
	assert_true(stats_superiority(a, 3, c, 2) == 1);
	assert_true(stats_superiority(c, 2, a, 3) == 0);
	assert_true(stats_superiority(a, 3, a, 3) == 0.5);
	assert_true(stats_superiority(a, 0, b, 2) == 0.5);
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

static void accounting_adds_up(void **state)
{
	/*
	 * 1000 generated: 990 reached XDP, 10 did not fit veth-b's ring.
	 * A peer after XDP processed 980 of them: 10 lost in the stack.
	 */
	struct totals t = { .generated = 1000,
			    .xdp_seen = 990,
			    .received = 980,
			    .xmit_errors = 10,
			    .xmit_known = true,
			    .link_known = true };

	assert_int_equal(totals_unaccounted(&t), 0);
	assert_int_equal(totals_stack_lost(&t), 10);
	assert_true(totals_consistent(&t));
	/* one frame that nobody counted */
	t.generated++;
	assert_int_equal(totals_unaccounted(&t), 1);
	assert_false(totals_consistent(&t));
	t.generated--;
	/* an unknown drop counter could hide a loss: not consistent */
	t.xmit_known = false;
	assert_false(totals_consistent(&t));
	t.xmit_known = true;
	/* a receiver counting more than XDP saw is broken */
	t.received = 991;
	assert_false(totals_consistent(&t));
}

static void accounting_of_the_return_path(void **state)
{
	/*
	 * 500 reflected: 485 back with a stamp, 15 did not fit veth-a's
	 * ring; 5 frames without a stamp were namespace B's own, not ours.
	 */
	struct totals t = { .generated = 500,
			    .xdp_seen = 500,
			    .received = 500,
			    .returned = 485,
			    .returned_unstamped = 5,
			    .return_errors = 15,
			    .has_returned = true,
			    .xmit_known = true,
			    .link_known = true };

	assert_int_equal(totals_unaccounted_return(&t), 0);
	assert_true(totals_consistent(&t));
	t.return_errors = 14;
	assert_int_equal(totals_unaccounted_return(&t), 1);
	assert_false(totals_consistent(&t));
}

static void hist_buckets_cover_values(void **state)
{
	/* every value falls in the bucket whose range holds it */
	for (uint64_t v = 0; v < (1ull << 36); v = v * 3 / 2 + 1) {
		uint32_t b = bench_hist_bucket(v);

		assert_true(b < BENCH_HIST_BUCKETS);
		assert_true(hist_bucket_low(b) <= v);
		if (b + 1 < BENCH_HIST_BUCKETS)
			assert_true(v < hist_bucket_low(b + 1));
	}
	/* exact below 8 ns; 8 buckets per power of two above */
	assert_int_equal(bench_hist_bucket(7), 7);
	assert_int_equal(bench_hist_bucket(8), 8);
	assert_int_equal(bench_hist_bucket(16), 16);
	assert_int_equal(hist_bucket_low(17), 18);
	/* beyond the range: the last bucket, not out of bounds */
	assert_int_equal(bench_hist_bucket(~0ull), BENCH_HIST_BUCKETS - 1);
}

static void percentiles(void **state)
{
	struct bench_hist h = { 0 };

	assert_true(hist_percentile(&h, 0.5) == 0);
	/* 90 samples at 1000 ns, 10 at 50,000 ns */
	h.n[bench_hist_bucket(1000)] = 90;
	h.n[bench_hist_bucket(50000)] = 10;
	/* reported as the top of their bucket: 1000 lies in [960, 1024) */
	assert_true(hist_percentile(&h, 0.5) == 1024);
	assert_true(hist_percentile(&h, 0.9) == 1024);
	/* the 91st sample and beyond: 50,000 lies in [49152, 53248) */
	assert_true(hist_percentile(&h, 0.99) == 53248);
	assert_int_equal(hist_total(&h), 100);
}

static void moves(void **state)
{
	struct move m;

	/* ranges overlap each other's medians: not a move */
	stats_move(0.80, 0.78, 0.82, 0.81, 0.79, 0.83, 0.05, &m);
	assert_false(m.flagged);
	assert_true(m.delta > 0.0099 && m.delta < 0.0101);
	/* the new median outside the old range, but the old inside the new */
	stats_move(0.80, 0.79, 0.81, 0.83, 0.70, 0.90, 0.05, &m);
	assert_false(m.flagged);
	/* both outside: a move, -25% */
	stats_move(0.80, 0.79, 0.81, 0.60, 0.59, 0.61, 0.05, &m);
	assert_true(m.flagged);
	assert_true(m.pct > -25.0001 && m.pct < -24.9999);
	/* no ranges at all: the floor decides */
	stats_move(100, 100, 100, 104, 104, 104, 0.05, &m);
	assert_false(m.flagged);
	stats_move(100, 100, 100, 106, 106, 106, 0.05, &m);
	assert_true(m.flagged);
}

static void pacing(void **state)
{
	const uint64_t sec = 1000000000ull;

	/* no measure yet: a few batches, the receiver may be slow */
	assert_int_equal(gen_next_repeat(0, 0, 0, 0, sec), GEN_START);
	assert_int_equal(gen_next_repeat(0, 0, 0, 200000, sec), GEN_START);
	/* 200 ns a frame: GEN_CALL_NS of frames, but at most 8x the last */
	assert_int_equal(gen_next_repeat(1000, 30000000, 200, 0, sec), 8000);
	assert_int_equal(gen_next_repeat(1u << 19, 100000000, 200, 0, sec),
			 (uint32_t)(GEN_CALL_NS / 200.0));
	/* never past the largest test run */
	assert_int_equal(gen_next_repeat(1u << 20, 150000000, 100, 0, 10 * sec),
			 GEN_REPEAT);
	/* a slow receiver, 1 ms a frame: 170 frames, and a batch at least */
	assert_int_equal(gen_next_repeat(256, 256000000, 1e6, 0, sec), 170);
	assert_int_equal(gen_next_repeat(256, 256000000, 1e7, 0, sec),
			 GEN_BATCH);
	/*
	 * A call that overran (the receiver's softirq left the test run's
	 * timer): 10,000 frames took 1.7 s of wall clock although the test
	 * run counted 150 ns each; the wall clock scales it down to 1,000.
	 */
	assert_int_equal(gen_next_repeat(10000, 1700000000, 150, 0, 10 * sec),
			 1000);
	/* near the deadline: only what fits */
	assert_int_equal(gen_next_repeat(100000, 15000000, 150, 0, 3000000),
			 20000);
	/* a quota: never more than is left */
	assert_int_equal(gen_next_repeat(10000, 1500000, 150, 123, sec), 123);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(median_odd_even_unsorted),
		cmocka_unit_test(quantiles_interpolate),
		cmocka_unit_test(superiority_counts_pairs),
		cmocka_unit_test(ratio_uses_both_neighbours),
		cmocka_unit_test(linear_drift_cancels),
		cmocka_unit_test(zero_baseline_rejected),
		cmocka_unit_test(summary_median_min_max),
		cmocka_unit_test(accounting_adds_up),
		cmocka_unit_test(accounting_of_the_return_path),
		cmocka_unit_test(hist_buckets_cover_values),
		cmocka_unit_test(percentiles),
		cmocka_unit_test(moves),
		cmocka_unit_test(pacing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
