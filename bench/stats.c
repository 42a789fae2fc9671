// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void stats_sort(double *v, int n)
{
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), cmp_double);
}

double stats_median(const double *v, int n)
{
	double *s, m;

	if (n <= 0)
		return 0;
	s = malloc((size_t)n * sizeof(*s));
	if (!s)
		return 0;
	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

double stats_quantile(const double *sorted, int n, double q)
{
	double at, frac;
	int lo;

	if (n <= 0)
		return 0;
	q = q < 0 ? 0 : q > 1 ? 1 : q;
	at = q * (n - 1);
	lo = (int)at;
	frac = at - lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

double stats_superiority(const double *a, int na, const double *b, int nb)
{
	double wins = 0;

	if (na <= 0 || nb <= 0)
		return 0.5;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			wins += b[j] > a[i] ? 1 : b[j] == a[i] ? 0.5 : 0;
	return wins / ((double)na * nb);
}

int stats_round_ratios(const double *base, const double *cas, int rounds,
		       double *ratios)
{
	for (int i = 0; i < rounds; i++) {
		double around = (base[i] + base[i + 1]) / 2;

		if (!(base[i] > 0) || !(base[i + 1] > 0))
			return -EINVAL;
		ratios[i] = cas[i] / around;
	}
	return 0;
}

void stats_summary(const double *ratios, int n, struct ratio_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n <= 0)
		return;
	out->median = stats_median(ratios, n);
	out->min = out->max = ratios[0];
	for (int i = 1; i < n; i++) {
		if (ratios[i] < out->min)
			out->min = ratios[i];
		if (ratios[i] > out->max)
			out->max = ratios[i];
	}
}

int64_t totals_unaccounted(const struct totals *t)
{
	return (int64_t)(t->generated - t->xdp_seen - t->xmit_errors -
			 t->tx_dropped);
}

int64_t totals_unaccounted_return(const struct totals *t)
{
	if (!t->has_returned)
		return 0;
	/* unstamped frames are namespace B's own (IPv6 neighbour discovery) */
	return (int64_t)(t->received - t->returned - t->return_errors);
}

uint64_t totals_stack_lost(const struct totals *t)
{
	return t->xdp_seen > t->received ? t->xdp_seen - t->received : 0;
}

bool totals_consistent(const struct totals *t)
{
	/* a lost frame nobody counted could hide behind an unknown counter */
	if (!t->xmit_known || !t->link_known || t->gen_errors)
		return false;
	if (t->received > t->xdp_seen)
		return false; /* a peer counted frames XDP never saw */
	return totals_unaccounted(t) == 0 && totals_unaccounted_return(t) == 0;
}

uint64_t hist_bucket_low(uint32_t b)
{
	uint32_t e, s;

	if (b < BENCH_HIST_SUB)
		return b;
	e = (b - BENCH_HIST_SUB) / BENCH_HIST_SUB + 3;
	s = (b - BENCH_HIST_SUB) % BENCH_HIST_SUB;
	return (uint64_t)(BENCH_HIST_SUB + s) << (e - 3);
}

uint64_t hist_total(const struct bench_hist *h)
{
	uint64_t n = 0;

	for (int b = 0; b < BENCH_HIST_BUCKETS; b++)
		n += h->n[b];
	return n;
}

double hist_percentile(const struct bench_hist *h, double q)
{
	uint64_t total = hist_total(h), rank, acc = 0;

	if (!total)
		return 0;
	rank = (uint64_t)ceil(q * (double)total);
	if (rank < 1)
		rank = 1;
	for (uint32_t b = 0; b < BENCH_HIST_BUCKETS; b++) {
		acc += h->n[b];
		if (acc >= rank)
			return (double)hist_bucket_low(b + 1);
	}
	return (double)hist_bucket_low(BENCH_HIST_BUCKETS);
}

void stats_move(double old_med, double old_min, double old_max, double new_med,
		double new_min, double new_max, double rel_floor,
		struct move *m)
{
	bool ranged = old_min < old_max || new_min < new_max;

	m->old_v = old_med;
	m->new_v = new_med;
	m->delta = new_med - old_med;
	m->pct = old_med != 0 ? 100.0 * m->delta / fabs(old_med) : 0;
	if (ranged)
		m->flagged = (new_med < old_min || new_med > old_max) &&
			     (old_med < new_min || old_med > new_max);
	else
		m->flagged = fabs(m->delta) > rel_floor * fabs(old_med);
}

/*
 * The pace of live-frames senders (gen.h).  How many frames the next
 * test run sends.  A live-frames test run
 * returns only when all its frames are sent, and the receiver runs
 * inside it (veth's NAPI, on the same CPU): against a slow receiver (a
 * peer firewall with 100,000 linear rules) a fixed 2^20 frames would take
 * minutes.  And each test run has a fixed cost of its own (its page
 * pool; and two RCU waits, some 27 ms here, unless the program is
 * parked: park.c), so calls must be long to keep the wall-clock rate
 * honest.
 *
 * So the repeat follows the time per frame the test run reports (its
 * busy time, which leaves that fixed cost out), aiming at GEN_CALL_NS of
 * frames a call; a call that overran its aim (the receiver's softirq
 * pushed out to ksoftirqd, where the test run's timer does not see it)
 * scales it down by the wall clock.  Never past the quota or, by much,
 * the deadline; never more than 8 times the last call.
 */
uint32_t gen_next_repeat(uint32_t repeat, uint64_t call_ns, double frame_ns,
			 uint64_t left, uint64_t ns_to_deadline)
{
	/* no measure yet: start small, the receiver may be slow */
	double want = GEN_START;

	if (repeat && frame_ns > 0) {
		want = (double)GEN_CALL_NS / frame_ns;
		if (call_ns > 2 * GEN_CALL_NS &&
		    want > (double)repeat * GEN_CALL_NS / (double)call_ns)
			want = (double)repeat * GEN_CALL_NS / (double)call_ns;
		/* a time-limited run ends near its deadline, not a call later */
		if (!left && (double)ns_to_deadline / frame_ns < want)
			want = (double)ns_to_deadline / frame_ns;
		/* one fast call is not a trend */
		if (want > 8.0 * repeat)
			want = 8.0 * repeat;
	}
	if (want > GEN_REPEAT)
		want = GEN_REPEAT;
	if (want < GEN_BATCH)
		want = GEN_BATCH;
	if (left && want > (double)left)
		want = (double)left;
	return (uint32_t)want;
}
