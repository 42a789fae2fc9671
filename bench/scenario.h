/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One case of `moat-bench run`: the baseline and the case take turns on
 * veth-b, B C B C ... B, with the same generator and the same frames;
 * stats.h says how the rounds become a ratio.
 */
#ifndef BENCH_SCENARIO_H
#define BENCH_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane.h"
#include "gen.h"
#include "rx.h"
#include "stats.h"
#include "topology.h"

struct bench_env {
	struct topology *topo;
	const int *cpus;
	int ncpus;
	double seconds; /* per measured run */
	int rounds;
};

/* One measured run of one receiver. */
struct sample {
	uint64_t elapsed_ns;
	uint64_t generated; /* frames bench_gen wrote */
	uint64_t received; /* frames the receiver counted */
	uint64_t xmit_errors; /* frames veth-a could not hand to veth-b */
	bool xmit_known; /* the driver reports xmit errors */
	double mpps; /* received per microsecond of wall-clock time */
	double busy_mpps; /* received per microsecond of busy time (gen.h) */
};

/* Totals over the runs of one side, for the self-consistency check. */
struct totals {
	uint64_t generated, received, xmit_errors;
};

struct case_result {
	char label[32]; /* "moat-10000", "a/a" */
	uint32_t nrules; /* 0: not a moat case */
	double target; /* the ratio the team must reach; 0: none */
	unsigned int frame_len;
	size_t owned; /* rules whose frame they match first */
	bool has_apply;
	struct moat_apply_stats apply;

	int rounds; /* completed */
	double *base_mpps; /* rounds + 1 */
	double *case_mpps; /* rounds */
	double *ratios; /* rounds */
	struct ratio_stats ratio;
	/* the same from busy time: what the path costs, tenants left out */
	double *base_busy, *case_busy, *ratios_busy;
	struct ratio_stats ratio_busy;
	struct totals base, cas;
	bool xmit_known;
};

int scenario_measure(const struct bench_env *env, struct generator *g,
		     struct receiver *rx, struct sample *out);

/*
 * Run @env->rounds rounds of @base against @cas into @res (whose label,
 * nrules and target the caller has set).  Returns -EINTR when stopped.
 */
int scenario_run(const struct bench_env *env, struct generator *g,
		 struct receiver *base, struct receiver *cas,
		 struct case_result *res);

void scenario_free(struct case_result *res);

#endif /* BENCH_SCENARIO_H */
