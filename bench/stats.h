/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The arithmetic of moat-bench, kept apart from the kernel so that the
 * unit tests exercise it: ratios, frame accounting, latency percentiles,
 * and what counts as a move between two runs.
 *
 * A run alternates the baseline and the case: B0 C0 B1 C1 ... C(R-1) BR.
 * Round i's ratio is C(i) over the mean of the baselines around it, B(i)
 * and B(i+1), so that a drift of the machine's speed that is linear over
 * a round cancels.  The case is reported as the median of the round
 * ratios, with their min and max: the median ignores a round disturbed
 * by another tenant of the machine, the spread shows how much there was.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_kern_user.h"

struct ratio_stats {
	double median, min, max;
	int n;
};

/* Median of @n values (0 when n is 0); @v is not reordered. */
double stats_median(const double *v, int n);

/* @n values sorted ascending, in place. */
void stats_sort(double *v, int n);

/*
 * The @q quantile (0 to 1) of @n values sorted ascending in @sorted,
 * interpolated between the two nearest (Hyndman and Fan's type 7, R's
 * default): 0.5 is the median.  0 when n is 0.
 */
double stats_quantile(const double *sorted, int n, double q);

/*
 * The share of pairs, one of @a and one of @b, in which @b's is the
 * higher, ties counting half: 0.5 when neither tends to be higher, 1
 * when every one of @b's is above every one of @a's (the common-language
 * effect size, Mann-Whitney's U over na * nb).  0.5 when either is empty.
 */
double stats_superiority(const double *a, int na, const double *b, int nb);

/*
 * @base has @rounds + 1 rates, @cas has @rounds; writes @rounds ratios.
 * Returns 0, or -EINVAL when a baseline rate is not positive.
 */
int stats_round_ratios(const double *base, const double *cas, int rounds,
		       double *ratios);

void stats_summary(const double *ratios, int n, struct ratio_stats *out);

/*
 * Frames of one side of a case, over all its runs.  The accounting:
 * every frame generated reached the receiver's XDP stage or was lost in
 * a counted place on the way, and every frame reflected came back or
 * was lost in a counted place on the way back:
 *
 *   generated = xdp_seen + xmit_errors + tx_dropped
 *   received  = returned + return_errors  (reflect; frames that come
 *               back without a stamp are namespace B's own, not ours)
 *
 * and a peer after XDP processed received <= xdp_seen frames, the rest
 * lost in the stack in front of its hook (stack_lost).
 */
struct totals {
	uint64_t generated, gen_errors;
	uint64_t xdp_seen, received;
	uint64_t xmit_errors, tx_dropped, rx_drops, return_errors;
	uint64_t returned, returned_unstamped;
	bool xmit_known, link_known, has_returned, has_hist;
	/* moat's flow cache in the measured runs alone (warm-ups left out) */
	bool has_fc;
	uint64_t fc_miss, fc_second;
	uint64_t per_cpu[64]; /* frames veth-b's XDP saw, per queue = CPU */
	int ncpus; /* 0: not known */
	double elapsed_ns, busy_ns;
	struct bench_hist hist;
};

/* Frames the accounting cannot place: 0 when the side is consistent. */
int64_t totals_unaccounted(const struct totals *t);
/* The same for the return path of a reflecting receiver. */
int64_t totals_unaccounted_return(const struct totals *t);
/* Frames lost between XDP and a peer's hook. */
uint64_t totals_stack_lost(const struct totals *t);
/* Consistent, and every counter it needs is known. */
bool totals_consistent(const struct totals *t);

/*
 * The value below which a fraction @q of the histogram's samples lie:
 * the upper edge of the bucket that holds it (within 1/8 of the value
 * above 8 ns).  0 for an empty histogram.
 */
double hist_percentile(const struct bench_hist *h, double q);
uint64_t hist_total(const struct bench_hist *h);
/* The lowest value of bucket @b, and the lowest of the next one. */
uint64_t hist_bucket_low(uint32_t b);

/*
 * One number of two runs: a move is flagged when neither run's spread
 * explains it, i.e. the new median is outside the old run's range and the
 * old median outside the new one's.  Without ranges (min = max = median)
 * any difference beyond @rel_floor of the old value is flagged.
 */
struct move {
	double old_v, new_v, delta, pct;
	bool flagged;
};

void stats_move(double old_med, double old_min, double old_max, double new_med,
		double new_min, double new_max, double rel_floor,
		struct move *m);

#endif /* BENCH_STATS_H */
