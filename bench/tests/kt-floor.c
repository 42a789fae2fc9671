// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_floor (bench/bench_floor.bpf.c) against the kernel, by
 * BPF_PROG_TEST_RUN: the rule-spread frames of a ClassBench-style
 * ruleset, half IPv6, each run once.  The floor is only a fair lower
 * bound if it parses what moat parses and spreads the frames over its
 * counters as moat's rules do; a parser that failed would put every
 * frame in slot 0 and measure one hot counter instead.
 *
 * Then the same frames through the generator's bench_gen_tail, the
 * floor under test (the test-run scenario's spread passes): one call of
 * as many frames as there are templates must count exactly what running
 * each frame once did, counter by counter.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_floor.skel.h"
#include "bench_gen.skel.h"
#include "gen.h"
#include "kt.h"
#include "scenario.h"

#define RULES 1000

struct slots {
	uint64_t packets[RULES], bytes[RULES];
};

/* Every counter, summed over the CPUs' rows. */
static int read_slots(struct bench_floor *skel, struct slots *s)
{
	int ncpus = libbpf_num_possible_cpus(), fd;
	struct moat_counter v;

	if (ncpus < 0)
		return ncpus;
	fd = bpf_map__fd(skel->maps.counters);
	memset(s, 0, sizeof(*s));
	for (uint32_t k = 0; k < RULES * (uint32_t)ncpus; k++) {
		if (bpf_map_lookup_elem(fd, &k, &v))
			return -errno;
		s->packets[k % RULES] += v.packets;
		s->bytes[k % RULES] += v.bytes;
	}
	return 0;
}

/* Run the frames of family @family once each; how many, in *n. */
static int run_family(struct bench_floor *skel, const struct traffic *tr,
		      int family, size_t *n)
{
	int prog = bpf_program__fd(skel->progs.bench_floor);
	uint8_t frame[BENCH_FRAME_MAX];

	*n = 0;
	for (size_t i = 0; i < tr->n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = tr->frame_len, .repeat = 1);

		if (tr->t[i].family != family)
			continue;
		traffic_frame(tr, i, frame);
		if (bpf_prog_test_run_opts(prog, &o))
			return -errno;
		if (o.retval != XDP_DROP)
			return -EPROTO;
		(*n)++;
	}
	return 0;
}

/* Counters that moved from @a to @b. */
static size_t moved(const struct slots *a, const struct slots *b)
{
	size_t n = 0;

	for (int k = 0; k < RULES; k++)
		n += b->packets[k] != a->packets[k];
	return n;
}

static uint64_t total(const uint64_t *v)
{
	uint64_t t = 0;

	for (int k = 0; k < RULES; k++)
		t += v[k];
	return t;
}

/* A frame the floor cannot parse, of @len bytes, through the program. */
static int run_bad(struct bench_floor *skel, const uint8_t *frame, uint32_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_floor),
				   &o))
		return -errno;
	return o.retval == XDP_DROP ? 0 : -EPROTO;
}

/*
 * Every frame of @tr once, through bench_gen_tail into the floor: each
 * counter moves as it did from @a to @b (each frame once, directly).
 */
static int spread(struct bench_floor *skel, const struct traffic *tr,
		  const struct slots *a, const struct slots *b)
{
	static struct slots s0, s1;
	struct bench_gen *g = NULL;
	uint8_t frame[BENCH_FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = tr->frame_len, .repeat = (int)tr->n);
	int prog = bpf_program__fd(skel->progs.bench_floor), err;
	uint64_t aborted = 0;
	uint32_t zero = 0;
	size_t off = 0;

	err = gen_skel_open(&g, tr, 0);
	if (!kt_check(!err, "the generator loads with the frames", "%s",
		      strerror(-err)))
		return err;
	traffic_frame(tr, 0, frame);
	err = read_slots(skel, &s0);
	if (!err && (bpf_map_update_elem(bpf_map__fd(g->maps.under_test), &zero,
					 &prog, BPF_ANY) ||
		     bpf_prog_test_run_opts(bpf_program__fd(g->progs.bench_gen_tail),
					    &o)))
		err = -errno;
	err = err ?: read_slots(skel, &s1) ?:
		      bench_percpu_sum(bpf_map__fd(g->maps.aborted), &aborted);
	if (kt_check(!err, "bench_gen_tail runs the frames into the floor", "%s",
		     strerror(-err))) {
		kt_check(o.retval == XDP_DROP && !aborted,
			 "every frame written and handed on", "retval %u, %llu aborted",
			 o.retval, (unsigned long long)aborted);
		for (int k = 0; k < RULES; k++)
			off += s1.packets[k] - s0.packets[k] !=
				       b->packets[k] - a->packets[k] ||
			       s1.bytes[k] - s0.bytes[k] != b->bytes[k] - a->bytes[k];
		kt_check(!off, "the spread frames count as the frames one by one",
			 "%zu of %d counters differ", off, RULES);
	}
	bench_gen__destroy(g);
	return err;
}

int main(void)
{
	struct cb_opts co = { .seed = 1,
			      .nrules = RULES,
			      .ipv6_pct = 50,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	static struct slots s0, s4, s6, sbad;
	struct traffic_opts to = { .seed = 1 };
	struct moat_ruleset rs = { 0 };
	struct cb_traffic cb = { 0 };
	struct bench_floor *skel = NULL;
	struct traffic tr = { 0 };
	uint8_t frame[BENCH_FRAME_MAX];
	size_t n4 = 0, n6 = 0, tcp4 = SIZE_MAX;
	int err;

	kt_require_kernel();
	err = cb_generate(&co, &rs)		    ?:
		      cb_traffic_build(&rs, 1, &cb) ?:
		      traffic_from_rules(&rs, &cb, &to, &tr);
	if (!kt_check(!err, "the rule-spread frames are built", "%s",
		      strerror(-err)))
		goto out;
	skel = bench_floor__open();
	err = skel ? 0 : -errno;
	if (!err) {
		skel->rodata->nrules = RULES;
		err = bpf_map__set_max_entries(skel->maps.counters,
					       RULES * (uint32_t)libbpf_num_possible_cpus()) ?:
			      bench_floor__load(skel);
	}
	if (!kt_check(!err, "bench_floor loads with 1000 counters", "%s",
		      strerror(-err)))
		goto out;

	err = read_slots(skel, &s0)		    ?:
		      run_family(skel, &tr, 4, &n4) ?:
		      read_slots(skel, &s4)	    ?:
		      run_family(skel, &tr, 6, &n6) ?:
						      read_slots(skel, &s6);
	if (!kt_check(!err, "every frame runs and is dropped", "%s",
		      strerror(-err)))
		goto out;
	kt_check(n4 > 100 && n6 > 100, "both families are in the traffic",
		 "%zu IPv4, %zu IPv6 frames", n4, n6);
	kt_check(total(s6.packets) == n4 + n6, "each frame counted once",
		 "%llu counted, %zu sent",
		 (unsigned long long)total(s6.packets), n4 + n6);
	kt_check(total(s6.bytes) == (uint64_t)(n4 + n6) * tr.frame_len,
		 "each frame's bytes counted", "%llu bytes",
		 (unsigned long long)total(s6.bytes));
	/*
	 * n distinct 5-tuples hashed into 1000 counters touch about
	 * 1000 (1 - e^(-n/1000)) of them: some 390 for 500 frames.  Half of
	 * n is far below that and far above the one counter (slot 0) that
	 * every frame would hit if the family's parse failed.
	 */
	kt_check(moved(&s0, &s4) > n4 / 2, "IPv4 frames spread over counters",
		 "%zu counters for %zu frames", moved(&s0, &s4), n4);
	kt_check(moved(&s4, &s6) > n6 / 2, "IPv6 frames spread over counters",
		 "%zu counters for %zu frames", moved(&s4, &s6), n6);

	/* frames the floor cannot parse still count, in slot 0 */
	for (size_t i = 0; i < tr.n && tcp4 == SIZE_MAX; i++)
		if (tr.t[i].family == 4 && tr.t[i].proto == 6)
			tcp4 = i;
	if (!kt_check(tcp4 != SIZE_MAX, "an IPv4 TCP frame to cut short",
		      "none in the traffic"))
		goto out;
	traffic_frame(&tr, tcp4, frame);
	/* Ethernet, IPv4 and two bytes of TCP: the ports are cut off */
	err = run_bad(skel, frame, 14 + 20 + 2);
	/* an Ethernet type that is neither IPv4 nor IPv6 */
	frame[12] = 0x88;
	frame[13] = 0xb5;
	err = err ?: run_bad(skel, frame, tr.frame_len);
	err = err ?: read_slots(skel, &sbad);
	if (kt_check(!err, "unparsed frames run and are dropped", "%s",
		     strerror(-err)))
		kt_check(sbad.packets[0] == s6.packets[0] + 2 &&
				 total(sbad.packets) == total(s6.packets) + 2,
			 "unparsed frames counted in slot 0",
			 "slot 0 %llu -> %llu",
			 (unsigned long long)s6.packets[0],
			 (unsigned long long)sbad.packets[0]);
	err = err ?: spread(skel, &tr, &s0, &s6);
out:
	bench_floor__destroy(skel);
	traffic_free(&tr);
	cb_traffic_free(&cb);
	moat_ruleset_free(&rs);
	return kt_done();
}
