/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ratio math of moat-bench.  A run alternates the baseline and the
 * case: B0 C0 B1 C1 ... C(R-1) BR.  Round i's ratio is C(i) over the mean
 * of the baselines around it, B(i) and B(i+1), so that a drift of the
 * machine's speed that is linear over a round cancels.  The case is
 * reported as the median of the round ratios, with their min and max:
 * the median ignores a round disturbed by another tenant of the machine,
 * the spread shows how much there was.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

struct ratio_stats {
	double median, min, max;
	int n;
};

/* Median of @n values (0 when n is 0); @v is not reordered. */
double stats_median(const double *v, int n);

/*
 * @base has @rounds + 1 rates, @cas has @rounds; writes @rounds ratios.
 * Returns 0, or -EINVAL when a baseline rate is not positive.
 */
int stats_round_ratios(const double *base, const double *cas, int rounds,
		       double *ratios);

void stats_summary(const double *ratios, int n, struct ratio_stats *out);

#endif /* BENCH_STATS_H */
