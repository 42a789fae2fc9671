// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test-run scenario: nanoseconds per frame of moat's classifier
 * alone.  BPF_PROG_TEST_RUN runs the running generation's program
 * (moat_dp_generation_fd) on each rule-spread frame in turn, REPEAT times
 * in a row, so that every rule's path is measured; the same is done with
 * an empty XDP program, and its cost (the test run's own: the loop, the
 * context) is subtracted.  Passes alternate E M E M ... E, and each
 * round's cost is M minus the mean of the E around it, as the ratios of
 * the other scenarios are.
 *
 * The spread passes time the program as it runs (with its flow cache
 * where it has one) on frames spread over every rule as the live frames
 * are, without veth around it: the generator's bench_gen_tail writes
 * each frame and tail-calls the program, SPREAD_FRAMES frames a call;
 * the same with the empty program is taken off.  A third pass hands
 * each frame to moat's entry program instead, which hands it to the
 * program as on an attached interface: the entry's hop on top.  What is
 * left is the
 * classifier's cost with its misses, and much less of the noise that a
 * live frame's 200-300 ns of veth and page handling bring.
 *
 * Repeating a frame keeps its path in the caches: this is what the
 * classifier's instructions cost, misses left out.  The same passes run
 * moat's instance with its flow cache (H), where 63 of a frame's 64 runs
 * find it there: what a cache hit costs, also over the empty program.
 * One frame a call would not measure the misses of spread traffic
 * either, but those of the test run's fresh packet buffer, which the
 * empty program never reads; the live-frames cases carry the misses of
 * spread traffic.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_count.skel.h"
#include "bench_gen.skel.h"
#include "gen.h"
#include "scenario.h"

/* Runs of each frame in a row. */
#define REPEAT 64

/* Calls per pass: at least a few hundred, whatever the rule count, and
 * at most 2^16 (100,000 rules: under a second a pass). */
#define PASS_MIN 512u
#define PASS_MAX 65536u

/* Calls a pass over @tr's frames. */
static size_t pass_calls(const struct traffic *tr)
{
	return tr->n < PASS_MIN ? PASS_MIN : tr->n > PASS_MAX ? PASS_MAX : tr->n;
}

/* Mean ns per frame of @prog over @n frames of @tr; @prog -1: none, 0. */
static int pass(int prog, const struct traffic *tr, size_t n, uint8_t *frame,
		double *ns)
{
	double sum = 0;

	*ns = 0;
	if (prog < 0)
		return 0;
	for (size_t i = 0; i < n && !bench_stop; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = tr->frame_len, .repeat = REPEAT);

		traffic_frame(tr, i % tr->n, frame);
		if (bpf_prog_test_run_opts(prog, &o))
			return -errno;
		/* whole ns, truncated: half a ns back on average */
		sum += (double)o.duration + 0.5;
	}
	*ns = n ? sum / (double)n : 0;
	return bench_stop ? -EINTR : 0;
}

/* E M H E M H ... E; @hit -1: no H. */
static int rounds(int empty, int moat, int hit, const struct traffic *tr, int r,
		  struct testrun_result *out)
{
	size_t n = pass_calls(tr);
	double *e = calloc((size_t)r + 1, sizeof(double));
	double *m = calloc((size_t)r, sizeof(double));
	double *d = calloc((size_t)r, sizeof(double));
	double *h = calloc((size_t)r, sizeof(double));
	uint8_t frame[BENCH_FRAME_MAX];
	struct ratio_stats st;
	int ret = e && m && d && h ? 0 : -ENOMEM;

	for (int i = 0; !ret && i <= r; i++) {
		ret = pass(empty, tr, n, frame, &e[i]);
		if (!ret && i < r)
			ret = pass(moat, tr, n, frame, &m[i]) ?:
				      pass(hit, tr, n, frame, &h[i]);
	}
	for (int i = 0; !ret && i < r; i++) {
		d[i] = m[i] - (e[i] + e[i + 1]) / 2;
		h[i] -= (e[i] + e[i + 1]) / 2;
	}
	if (!ret) {
		stats_summary(d, r, &st);
		*out = (struct testrun_result){ .ns = st.median,
						.min = st.min,
						.max = st.max,
						.moat_ns = stats_median(m, r),
						.empty_ns =
							stats_median(e, r + 1),
						.frames = n,
						.repeat = REPEAT,
						.rounds = r };
		out->has_hit = hit >= 0;
		out->hit_ns = hit >= 0 ? stats_median(h, r) : 0;
	}
	free(e);
	free(m);
	free(d);
	free(h);
	return ret;
}

/* Mean ns per frame of the generator's write and @prog after it. */
static int spread_pass(struct bench_gen *g, int prog, const struct traffic *tr,
		       uint8_t *frame, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = tr->frame_len, .repeat = SPREAD_FRAMES);
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(g->maps.under_test), &zero, &prog,
				BPF_ANY))
		return -errno;
	traffic_frame(tr, 0, frame);
	if (bpf_prog_test_run_opts(bpf_program__fd(g->progs.bench_gen_tail), &o))
		return -errno;
	*ns = (double)o.duration + 0.5; /* truncated, as in pass() */
	return bench_stop ? -EINTR : 0;
}

/*
 * E P A F E P A F ... E through the generator: @prog's spread cost, the
 * same through @entry (moat's entry program, which hands each frame to
 * @prog as on an attached interface), and the floor's (@floor: its
 * program) at the same rule count, into @out.
 */
static int spread_rounds(int empty, int prog, int entry, int floor,
			 const struct traffic *tr, int r,
			 struct testrun_result *out)
{
	double *e = calloc((size_t)r + 1, sizeof(double));
	double *m = calloc((size_t)r, sizeof(double));
	double *d = calloc((size_t)r, sizeof(double));
	double *f = calloc((size_t)r, sizeof(double));
	double *a = calloc((size_t)r, sizeof(double));
	uint8_t frame[BENCH_FRAME_MAX];
	struct bench_gen *g = NULL;
	uint64_t aborted = 0;
	struct ratio_stats st;
	int ret = e && m && d && f && a ? 0 : -ENOMEM;

	ret = ret ?: gen_skel_open(&g, tr, 0);
	/* a first pass of each, not counted: the cache and the frames settle */
	ret = ret ?: spread_pass(g, empty, tr, frame, &e[0]) ?:
		      spread_pass(g, prog, tr, frame, &m[0]);
	for (int i = 0; !ret && i <= r; i++) {
		ret = spread_pass(g, empty, tr, frame, &e[i]);
		if (!ret && i < r)
			ret = spread_pass(g, prog, tr, frame, &m[i]) ?:
				      spread_pass(g, entry, tr, frame, &a[i]) ?:
				      spread_pass(g, floor, tr, frame, &f[i]);
	}
	/* a frame not written, or no program under test, is not measured */
	ret = ret ?: bench_percpu_sum(bpf_map__fd(g->maps.aborted), &aborted);
	if (!ret && aborted) {
		bench_err("test-run: %llu spread frames not written or not handed on",
			  (unsigned long long)aborted);
		ret = -EIO;
	}
	for (int i = 0; !ret && i < r; i++) {
		d[i] = m[i] - (e[i] + e[i + 1]) / 2;
		f[i] -= (e[i] + e[i + 1]) / 2;
		a[i] -= (e[i] + e[i + 1]) / 2;
	}
	if (!ret) {
		stats_summary(d, r, &st);
		out->has_spread = true;
		out->spread_entry_ns = stats_median(a, r);
		out->spread_ns = st.median;
		out->spread_min = st.min;
		out->spread_max = st.max;
		out->spread_moat_ns = stats_median(m, r);
		out->spread_empty_ns = stats_median(e, r + 1);
		out->spread_floor_ns = stats_median(f, r);
		out->spread_kept =
			r < TESTRUN_ROUNDS_KEPT ? r : TESTRUN_ROUNDS_KEPT;
		memcpy(out->spread_round_ns, d,
		       (size_t)out->spread_kept * sizeof(double));
		memcpy(out->spread_floor_round_ns, f,
		       (size_t)out->spread_kept * sizeof(double));
	}
	if (ret && ret != -EINTR && ret != -EIO)
		bench_err("test-run: the spread passes: %s", strerror(-ret));
	bench_gen__destroy(g);
	free(e);
	free(m);
	free(d);
	free(f);
	free(a);
	return ret;
}

/*
 * An entry program of moat's instance @rx (an fd, or -errno), checked:
 * one frame through it must be counted once by moat's rows, for an
 * entry whose tail call found no generation would pass frames uncounted
 * and its passes would time nothing.
 */
static int entry_open(struct receiver *rx, const struct topology *topo,
		      const struct traffic *tr)
{
	uint8_t frame[BENCH_FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = tr->frame_len, .repeat = 1);
	struct rx_counts before, after;
	int entry = moat_dp_entry_fd(rx_moat_dp(rx)), ret;

	if (entry < 0) {
		bench_err("loading moat's entry program: %s", strerror(-entry));
		return entry;
	}
	traffic_frame(tr, 0, frame);
	ret = rx_count(rx, topo, &before);
	if (!ret && bpf_prog_test_run_opts(entry, &o))
		ret = -errno;
	ret = ret ?: rx_count(rx, topo, &after);
	if (!ret && after.received != before.received + 1) {
		bench_err("test-run: moat's entry program did not hand a frame to the generation (%llu counted)",
			  (unsigned long long)(after.received - before.received));
		ret = -EIO;
	}
	if (ret) {
		close(entry);
		return ret;
	}
	return entry;
}

/*
 * Passes of the cached instance until one misses on 1% of its calls at
 * most (a fresh cache grows to its flows first), 20 at most.
 */
static int warm(struct moat_dp *dp, int prog, const struct traffic *tr)
{
	size_t n = pass_calls(tr);
	uint8_t frame[BENCH_FRAME_MAX];
	struct moat_dp_fc_status a, b;
	double ns;
	int ret = 0;

	for (int i = 0; i < 20 && !ret; i++) {
		moat_dp_fc_status(dp, &a);
		ret = pass(prog, tr, n, frame, &ns);
		moat_dp_fc_status(dp, &b);
		if (b.stat[MOAT_FCS_MISS] - a.stat[MOAT_FCS_MISS] <= n / 100)
			break;
	}
	return ret;
}

static int measure(struct bench_run *run, struct bench_case *c);

int sc_testrun_measure(struct bench_run *run, struct bench_case *c)
{
	cpu_set_t one, was;
	int ret;

	/*
	 * On the first --cpus CPU throughout: the flow cache is a CPU's own,
	 * and a pass that moved would start on a cold one.
	 */
	CPU_ZERO(&one);
	CPU_SET(run->o->cpus[0], &one);
	if (pthread_getaffinity_np(pthread_self(), sizeof(was), &was) ||
	    pthread_setaffinity_np(pthread_self(), sizeof(one), &one))
		return -EINVAL;
	ret = measure(run, c);
	pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	return ret;
}

static int measure(struct bench_run *run, struct bench_case *c)
{
	struct bench_count *empty = NULL;
	struct receiver *moat, *cached = NULL, *floor = NULL;
	int hit = -1, entry = -1;
	struct traffic_opts to;
	struct traffic tr = { 0 };
	int ret;

	bench_traffic_opts(run, &to);
	to.flows = 0; /* the frames as they are: one per rule */
	ret = bench_run_moat_nc(run, &moat);
	if (ret)
		return ret;
	ret = rx_moat_apply(moat, c->rs, &c->res->apply);
	c->res->has_apply = !ret;
	/*
	 * The instance with the cache, for the hit: a ruleset small enough
	 * to be compiled into the program has none, and is the same program.
	 */
	if (!ret && !bench_run_moat(run, &cached) &&
	    !rx_moat_apply(cached, c->rs, &(struct moat_apply_stats){ 0 })) {
		struct moat_dp_fc_status fc;

		moat_dp_fc_status(rx_moat_dp(cached), &fc);
		if (fc.buckets4 || fc.entries6)
			hit = rx_moat_prog_fd(cached);
	}
	c->res->owned = c->cb->owned;
	ret = ret ?: traffic_from_rules(c->rs, c->cb, &to, &tr);
	if (ret)
		return ret;
	empty = bench_count__open_and_load();
	if (!empty) {
		ret = -errno;
		bench_err("loading the empty program: %s", strerror(-ret));
		goto out;
	}
	c->res->frame_len = tr.frame_len;
	/* a parked program's test runs skip two RCU waits each (park.c) */
	ret = topo_park(&run->topo, TOPO_PARK_EMPTY,
			bpf_program__fd(empty->progs.bench_empty)) ?:
		      topo_park(&run->topo, TOPO_PARK_MOAT,
				rx_moat_prog_fd(moat)) ?:
		      (hit >= 0 ? topo_park(&run->topo, TOPO_PARK_HIT, hit) : 0);
	ret = ret ?: (hit >= 0 ? warm(rx_moat_dp(cached), hit, &tr) : 0);
	ret = ret   ?:
		      rounds(bpf_program__fd(empty->progs.bench_empty),
			     rx_moat_prog_fd(moat), hit, &tr, run->o->rounds,
			     &c->res->testrun);
	ret = ret ?: rx_floor_open(&floor, c->nrules, run->o->floor_stride);
	if (!ret) {
		entry = entry_open(hit >= 0 ? cached : moat, &run->topo, &tr);
		ret = entry < 0 ? entry : 0;
	}
	ret = ret ?: spread_rounds(bpf_program__fd(empty->progs.bench_empty),
				   hit >= 0 ? hit : rx_moat_prog_fd(moat), entry,
				   rx_floor_prog_fd(floor), &tr, run->o->rounds,
				   &c->res->testrun);
	topo_park(&run->topo, TOPO_PARK_EMPTY, -1);
	topo_park(&run->topo, TOPO_PARK_MOAT, -1);
	if (hit >= 0)
		topo_park(&run->topo, TOPO_PARK_HIT, -1);
	c->res->has_testrun = !ret;
	if (!ret)
		bench_progress("%s: classifier %.1f ns/frame (moat %.1f, empty "
			       "program %.1f), %llu calls a pass; spread %.1f "
			       "ns/frame",
			       c->res->label, c->res->testrun.ns,
			       c->res->testrun.moat_ns,
			       c->res->testrun.empty_ns,
			       (unsigned long long)c->res->testrun.frames,
			       c->res->testrun.spread_ns);
out:
	if (entry >= 0)
		close(entry);
	if (floor)
		floor->ops->destroy(floor);
	bench_count__destroy(empty);
	traffic_free(&tr);
	return ret;
}
