/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatctl rules, between rules.c (options, reading, the full table) and
 * rules-unused.c (--unused: the rules that no packet has matched).
 */
#ifndef MOAT_RULES_H
#define MOAT_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane.h"

/*
 * What the policy is, for its row; the rest of the fixed rows pass or drop
 * whatever the ruleset says (docs/ruleset.md, "What a packet is").
 */
struct verdicts {
	bool has_generation;
	uint64_t generation;
	bool policy_drop;
};

static inline const char *rules_action(const struct verdicts *v,
				       const struct moat_dp_row *row)
{
	const char *a = moat_dp_row_action(row, v->has_generation,
					   v->policy_drop);

	return a ? a : "-";
}

/*
 * The rules of a reading with no hits since they were applied, in rule
 * order.  Fixed rows are never among them: they count what is not a rule.
 */
struct unused {
	const struct moat_dp_row **v;
	int n;
	int rules; /* rules in the generation, fixed rows left out */
	int younger; /* also unused, in place for less than the min age or unknown */
};

/*
 * Seconds @row has been in place at @now_ns (CLOCK_REALTIME); 0 when the
 * clock has gone back since, -1 when unknown (no applied time).
 */
int64_t unused_age_s(const struct moat_dp_row *row, uint64_t now_ns);

/*
 * Fill @u from @rows: rules with no packets, in place for at least
 * @min_age_s (a rule of unknown age only when @min_age_s is 0).
 * Returns 0 or -ENOMEM; release with unused_free().
 */
int unused_select(const struct moat_dp_row *rows, int n, uint64_t now_ns,
		  uint64_t min_age_s, struct unused *u);
void unused_free(struct unused *u);

/* How --unused was asked for, for the output. */
struct unused_opts {
	const char *instance;
	uint64_t min_age_s;
	const char *min_age; /* as typed, for the summary; NULL: none */
};

/*
 * The table on @out and the summary ("3 of 5 rules unused") on @err, or
 * with @json one JSON object on @out and nothing on @err.  Returns 0 or
 * -ENOMEM.
 */
int unused_print(const struct unused_opts *o, const struct verdicts *v,
		 uint64_t now_ns, const struct moat_dp_row *rows, int n,
		 bool json, FILE *out, FILE *err);

#endif /* MOAT_RULES_H */
