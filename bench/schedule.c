// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interleaved schedule.  Each measured run is preceded by a short
 * warm-up with the receiver attached (its maps and code into the caches,
 * veth's NAPI woken up), and its counters are read only once the frames
 * in flight have landed, so that a run counts exactly its frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "schedule.h"

#define WARMUP_SECONDS 0.05
/* The first warm-up of a receiver: long enough for the pace to settle. */
#define WARMUP_FIRST_SECONDS 0.3
/*
 * A receiver with a flow cache (moat) warms up, the first time, until
 * the cache has settled: fewer than one frame in WARMUP_SETTLED of a
 * warm-up missed it, or after WARMUP_CACHE_MAX more warm-ups.  Its part
 * in use doubles at most once a window (134 ms), so 100,000 flows from a
 * new instance take a second of misses that are no part of its steady
 * state (docs/benchmarks.md).
 */
#define WARMUP_SETTLED 1000
#define WARMUP_CACHE_MAX 20
/* veth-b's NAPI drains its ring well within this after a test run */
#define SETTLE_US 20000
/* a slow receiver (a peer with many rules) may take this long to drain */
#define SETTLE_MAX_US 10000000

void rx_counts_sub(const struct rx_counts *after,
		   const struct rx_counts *before, struct rx_counts *out)
{
	*out = *after;
	out->received -= before->received;
	out->xdp_seen -= before->xdp_seen;
	out->returned -= before->returned;
	out->returned_unstamped -= before->returned_unstamped;
	for (int b = 0; b < BENCH_HIST_BUCKETS; b++)
		out->hist.n[b] -= before->hist.n[b];
	out->fc_miss -= before->fc_miss;
	out->fc_second -= before->fc_second;
}

/* Counts once they stop moving: frames in veth's rings have landed. */
static int settled_counts(const struct bench_env *env, struct receiver *rx,
			  struct rx_counts *c, struct link_counters *l)
{
	uint64_t last[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
	int ret = 0;

	for (int waited = 0; waited <= SETTLE_MAX_US; waited += SETTLE_US) {
		usleep(SETTLE_US);
		ret = rx_count(rx, env->topo, c);
		if (ret)
			return ret;
		if (c->xdp_seen == last[0] && c->received == last[1] &&
		    c->returned == last[2])
			break;
		last[0] = c->xdp_seen;
		last[1] = c->received;
		last[2] = c->returned;
	}
	return link_counters_read(env->topo, l);
}

/* The first warm-up's frames and misses, @before to @after: settled? */
static bool cache_settled(const struct rx_counts *before,
			  const struct rx_counts *after)
{
	uint64_t frames = after->xdp_seen - before->xdp_seen;

	return !after->has_fc ||
	       (after->fc_miss - before->fc_miss) * WARMUP_SETTLED <= frames;
}

/* More warm-ups while the cache misses; @c, @l: the counts after the last. */
static int warm_cache(const struct bench_env *env, struct generator *g,
		      struct receiver *rx, const struct gen_limit *warm_lim,
		      const struct rx_counts *start, struct rx_counts *c,
		      struct link_counters *l)
{
	struct rx_counts before = *start;
	struct gen_result warm;
	int ret = 0;

	for (int i = 0; i < WARMUP_CACHE_MAX && !cache_settled(&before, c); i++) {
		bench_progress("%s: warming its flow cache: %llu of %llu frames missed it",
			       rx->name,
			       (unsigned long long)(c->fc_miss - before.fc_miss),
			       (unsigned long long)(c->xdp_seen - before.xdp_seen));
		before = *c;
		ret = gen_run(g, env->topo, env->cpus, env->ncpus, warm_lim, &warm);
		ret = ret ?: settled_counts(env, rx, c, l);
		if (ret || bench_stop)
			break;
	}
	return ret;
}

int schedule_measure(const struct bench_env *env, struct generator *g,
		     struct receiver *rx, struct gen_pace *pace,
		     struct sample *out)
{
	struct gen_limit warm_lim = { .seconds = pace->repeat[0] ?
							 WARMUP_SECONDS :
							 WARMUP_FIRST_SECONDS,
				      .pace = pace };
	struct gen_limit lim = env->limit;
	struct link_counters l0, l1;
	struct rx_counts c0, c1;
	struct gen_result warm;
	bool first = !pace->cache_warm;
	struct rx_counts start;
	int ret, ret2;

	memset(out, 0, sizeof(*out));
	ret = rx_attach(rx, env->topo);
	if (ret)
		return ret;
	ret = first ? rx_count(rx, env->topo, &start) : 0;
	ret = ret ?: gen_run(g, env->topo, env->cpus, env->ncpus, &warm_lim, &warm);
	ret = ret ?: settled_counts(env, rx, &c0, &l0);
	if (!ret && first)
		ret = warm_cache(env, g, rx, &warm_lim, &start, &c0, &l0);
	pace->cache_warm = true;
	lim.pace = pace;
	ret = ret   ?:
		      gen_run(g, env->topo, env->cpus, env->ncpus, &lim,
			      &out->gen);
	ret = ret ?: settled_counts(env, rx, &c1, &l1);
	ret2 = rx_detach(rx, env->topo);
	if (ret || ret2)
		return ret ?: ret2;
	if (bench_stop)
		return -EINTR;

	rx_counts_sub(&c1, &c0, &out->rx);
	link_counters_sub(&l1, &l0, &out->link);
	if (out->gen.elapsed_ns)
		out->mpps = (double)out->rx.received * 1e3 /
			    (double)out->gen.elapsed_ns;
	/* busy time is CPU time summed over senders: per CPU, times CPUs */
	if (out->gen.busy_ns > 0)
		out->busy_mpps = (double)out->rx.received * 1e3 * env->ncpus /
				 out->gen.busy_ns;
	return 0;
}

static void add(struct totals *t, const struct sample *s, bool first)
{
	const struct link_counters *l = &s->link;

	t->generated += s->gen.generated;
	t->gen_errors += s->gen.gen_errors;
	t->xdp_seen += s->rx.xdp_seen;
	t->received += s->rx.received;
	t->xmit_errors += l->xmit_errors;
	t->return_errors += l->return_errors;
	t->rx_drops += l->rx_drops;
	t->tx_dropped += l->tx_dropped;
	t->returned += s->rx.returned;
	t->returned_unstamped += s->rx.returned_unstamped;
	t->elapsed_ns += (double)s->gen.elapsed_ns;
	t->busy_ns += s->gen.busy_ns;
	t->xmit_known = (first || t->xmit_known) && l->xdp_known;
	t->link_known = (first || t->link_known) && l->link_known;
	t->has_returned = s->rx.has_returned;
	t->has_fc = (first || t->has_fc) && s->rx.has_fc;
	t->fc_miss += s->rx.fc_miss;
	t->fc_second += s->rx.fc_second;
	if (l->xdp_known) {
		t->ncpus = l->nqueues < 64 ? l->nqueues : 64;
		for (int q = 0; q < t->ncpus; q++)
			t->per_cpu[q] += l->rx_xdp[q];
	}
	if (s->rx.has_hist) {
		t->has_hist = true;
		for (int b = 0; b < BENCH_HIST_BUCKETS; b++)
			t->hist.n[b] += s->rx.hist.n[b];
	}
}

static int alloc_rounds(struct case_result *res, int rounds)
{
	res->base_mpps = calloc((size_t)rounds + 1, sizeof(double));
	res->case_mpps = calloc((size_t)rounds, sizeof(double));
	res->ratios = calloc((size_t)rounds, sizeof(double));
	res->base_busy = calloc((size_t)rounds + 1, sizeof(double));
	res->case_busy = calloc((size_t)rounds, sizeof(double));
	res->ratios_busy = calloc((size_t)rounds, sizeof(double));
	if (!res->base_mpps || !res->case_mpps || !res->ratios ||
	    !res->base_busy || !res->case_busy || !res->ratios_busy)
		return -ENOMEM;
	return 0;
}

int schedule_run(const struct bench_env *env, struct generator *g,
		 struct receiver *base, struct receiver *cas,
		 struct case_result *res)
{
	int rounds = env->rounds, ret;
	/* each receiver its own pace: a slow peer is not the baseline */
	struct gen_pace bpace = { { 0 } }, cpace = { { 0 } };
	struct sample s;

	ret = alloc_rounds(res, rounds);
	if (ret)
		return ret;
	res->frame_len = g->tr->frame_len;
	res->flows = g->tr->flows;
	res->aimed = g->tr->rule ? g->tr->n : 0;
	res->rounds = 0;

	for (int i = 0; i <= rounds; i++) {
		ret = schedule_measure(env, g, base, &bpace, &s);
		if (ret)
			break;
		res->base_mpps[i] = s.mpps;
		res->base_busy[i] = s.busy_mpps;
		add(&res->base, &s, i == 0);
		if (i == rounds)
			break;
		ret = schedule_measure(env, g, cas, &cpace, &s);
		if (ret)
			break;
		res->case_mpps[i] = s.mpps;
		res->case_busy[i] = s.busy_mpps;
		add(&res->cas, &s, i == 0);
		bench_progress(
			"%s%s%s: round %d/%d: baseline %.3f Mpps (%.3f busy), "
			"%s %.3f Mpps (%.3f busy)",
			res->label, res->tx ? "/" : "",
			res->tx ? gen_tx_name(res->tx) : "", i + 1, rounds,
			res->base_mpps[i], res->base_busy[i], cas->name, s.mpps,
			s.busy_mpps);
	}
	/* a round counts once the baseline after it is in */
	res->rounds = ret ? 0 : rounds;
	for (int i = 0; ret && i < rounds; i++)
		if (res->base_mpps[i + 1] > 0 && res->case_mpps[i] > 0)
			res->rounds = i + 1;
	if (res->rounds && !stats_round_ratios(res->base_mpps, res->case_mpps,
					       res->rounds, res->ratios))
		stats_summary(res->ratios, res->rounds, &res->ratio);
	if (res->rounds && !stats_round_ratios(res->base_busy, res->case_busy,
					       res->rounds, res->ratios_busy))
		stats_summary(res->ratios_busy, res->rounds, &res->ratio_busy);
	if (res->cas.has_hist && hist_total(&res->cas.hist)) {
		res->has_latency = true;
		res->p50 = hist_percentile(&res->cas.hist, 0.50);
		res->p90 = hist_percentile(&res->cas.hist, 0.90);
		res->p99 = hist_percentile(&res->cas.hist, 0.99);
	}
	return ret;
}

void case_result_free(struct case_result *res)
{
	free(res->base_mpps);
	free(res->case_mpps);
	free(res->ratios);
	free(res->base_busy);
	free(res->case_busy);
	free(res->ratios_busy);
	res->base_mpps = res->case_mpps = res->ratios = NULL;
	res->base_busy = res->case_busy = res->ratios_busy = NULL;
}
