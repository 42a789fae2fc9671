/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One case of `moat-bench run`: the baseline and the case take turns on
 * veth-b, B C B C ... B, with the same generator and the same frames;
 * stats.h says how the rounds become a ratio.
 */
#ifndef BENCH_SCHEDULE_H
#define BENCH_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane.h"
#include "gen.h"
#include "linkstats.h"
#include "rx.h"
#include "stats.h"
#include "topology.h"

struct bench_env {
	struct topology *topo;
	const int *cpus;
	int ncpus;
	struct gen_limit limit; /* of each measured run */
	int rounds;
};

/* One measured run of one receiver. */
struct sample {
	struct gen_result gen;
	struct rx_counts rx; /* the receiver's counts during the run */
	struct link_counters link; /* the interfaces' */
	double mpps; /* received per microsecond of wall-clock time */
	double busy_mpps; /* received per microsecond of busy time (gen.h) */
};

/* BENCH_TESTRUN: test-run's result (sc_testrun.c). */
/* Frames of a test-run spread pass: 0.1-0.5 s at the costs seen here. */
#define SPREAD_FRAMES (1 << 20)

#define TESTRUN_ROUNDS_KEPT 64

struct testrun_result {
	double ns, min, max; /* classifier alone: median of rounds, range */
	double moat_ns, empty_ns; /* medians of the raw costs */
	uint64_t frames; /* calls per pass */
	int repeat; /* runs of each frame a call */
	int rounds;
	bool has_hit; /* the ruleset has a flow cache */
	double hit_ns; /* moat with it, over empty: median of rounds */
	bool has_spread; /* SPREAD_FRAMES frames a pass */
	/* moat as it runs over empty, frames spread: median, range; raw */
	double spread_ns, spread_min, spread_max;
	double spread_moat_ns, spread_empty_ns;
	double spread_floor_ns; /* the floor over empty, same passes */
	double spread_entry_ns; /* moat through its entry program, over empty */
	/* each round's spread cost, moat's and the floor's (the first
	 * TESTRUN_ROUNDS_KEPT), for reports that pool rounds */
	double spread_round_ns[TESTRUN_ROUNDS_KEPT];
	double spread_floor_round_ns[TESTRUN_ROUNDS_KEPT];
	int spread_kept;
};

/*
 * A conntrack case (sc_conntrack.c): the table and moat's rows from the
 * end of its setup (flows primed, table filled) to the end of its runs,
 * warm-ups included.
 */
struct ct_result {
	uint32_t max; /* the table's size, flows */
	uint64_t primed; /* flows established before the runs (ct-est) */
	uint64_t entries_start, entries_end;
	uint64_t processed; /* frames moat counted */
	uint64_t established; /* ... in the established row */
	uint64_t elsewhere; /* ... in any other row: rules, policy */
	bool all_established; /* every frame must land in the established row */
	uint64_t created, reused, evicted, insert_failed, invalid;
	/* memory, as the kernel charges the map */
	uint64_t table_bytes, bytes_per_flow;
};

struct case_result {
	char label[48]; /* "moat-10000", "nft-sets-1000", "a/a" */
	char scenario[24]; /* the scenario table's name */
	char system[24]; /* "moat", a peer's name, "baseline", "reflect" */
	enum gen_tx tx;
	uint32_t nrules; /* 0: no ruleset */
	double target; /* the ratio the team must reach; 0: none */
	unsigned int frame_len;
	uint64_t flows;
	size_t aimed; /* rules the traffic aims at (--active) */
	size_t owned; /* rules whose frame they match first */
	bool has_apply; /* moat's apply statistics */
	struct moat_apply_stats apply;
	bool has_peer_apply;
	uint64_t peer_apply_ns;
	char skipped[200]; /* why the case did not run; "" when it did */
	bool failed; /* it should have run, and did not */

	int rounds; /* completed */
	double *base_mpps; /* rounds + 1 */
	double *case_mpps; /* rounds */
	double *ratios; /* rounds */
	struct ratio_stats ratio;
	/* the same from busy time: what the path costs, tenants left out */
	double *base_busy, *case_busy, *ratios_busy;
	struct ratio_stats ratio_busy;
	struct totals base, cas;

	bool has_latency; /* percentiles of the case's frames, ns */
	double p50, p90, p99;
	bool has_testrun;
	struct testrun_result testrun;
	bool has_ct;
	struct ct_result ct;
	/*
	 * moat's flow cache over the case (the moat scenario):
	 * its size and part in use at the end, its events from the apply
	 * on (warm-ups included), as `moatctl status` has them.
	 */
	bool has_fc;
	struct moat_dp_fc_status fc;
};

/* One run of @rx, after a warm-up; @pace carries over between runs. */
int schedule_measure(const struct bench_env *env, struct generator *g,
		     struct receiver *rx, struct gen_pace *pace,
		     struct sample *out);

/*
 * Run @env->rounds rounds of @base against @cas into @res (whose label
 * and the like the caller has set).  Returns -EINTR when stopped.
 */
int schedule_run(const struct bench_env *env, struct generator *g,
		 struct receiver *base, struct receiver *cas,
		 struct case_result *res);

void case_result_free(struct case_result *res);

#endif /* BENCH_SCHEDULE_H */
