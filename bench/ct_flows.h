/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The conntrack table as the conntrack scenarios see it (ct_flows.c):
 * established flows made through the real code path before a case runs,
 * and the table and moat's rows read around it.
 */
#ifndef BENCH_CT_FLOWS_H
#define BENCH_CT_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "schedule.h"
#include "templates.h"

/* The table and moat's rows at one moment. */
struct ct_snapshot {
	bool taken;
	struct moat_dp_ct_status s;
	uint64_t established; /* frames counted in the established row */
	uint64_t elsewhere; /* ... in every other row */
};

int ct_snapshot(struct moat_dp *dp, struct ct_snapshot *out);

/* What happened between two snapshots. */
void ct_result_of(const struct ct_snapshot *a, const struct ct_snapshot *b,
		  struct ct_result *r);

/*
 * Establish every flow of @tr (each template, or each of tr->flows
 * variants) as the host would: its own packet of the flow, the arriving
 * frame reversed, through moat's TC egress program (BPF_PROG_TEST_RUN),
 * which learns the flow; then the arriving frame through the running
 * generation, which finds the flow replied.  Then check that every entry
 * is established (TCP) or replied, and that every arriving frame landed
 * in the established row and in no rule.  *flows: how many were primed.
 * On failure, @why says what did not hold.
 */
int ct_prime(struct moat_dp *dp, const struct traffic *tr, uint64_t *flows,
	     char *why, size_t len);

#endif /* BENCH_CT_FLOWS_H */
