/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rule analysis: rules that can never match because an earlier rule
 * matches all they do (shadowed), and rules whose removal changes no
 * verdict because a later rule with the same action takes all they do
 * (redundant).  Pairwise and exact: one rule against one other, each
 * rule's match space taken field by field as docs/ruleset.md ("Rule
 * analysis") and the reference matcher define it.
 */
#ifndef MOAT_ANALYZE_H
#define MOAT_ANALYZE_H

#include <stddef.h>

#include "ruleset.h"

/*
 * Rules analysed, from the start of the ruleset.  The analysis compares
 * pairs of rules, so its time grows with the square of this: 5,000 rules
 * take about a fifth of a second, and 100,000 would take minutes.
 */
#define MOAT_ANALYZE_MAX_RULES 5000

enum moat_finding_kind {
	MOAT_SHADOWED, /* .by is earlier and matches every packet .rule does */
	MOAT_REDUNDANT, /* .by is later, same action, see analyze.c */
};

struct moat_finding {
	enum moat_finding_kind kind;
	size_t rule, by; /* indexes into rs->rules */
};

struct moat_analysis {
	struct moat_finding *v; /* in rule order */
	size_t n;
	size_t nanalysed; /* the first nanalysed rules were compared */
};

/*
 * Compare the first @max_rules rules of @rs with each other.  Returns 0
 * or -ENOMEM; @out must be released with moat_analysis_free().
 */
int moat_ruleset_find(const struct moat_ruleset *rs, size_t max_rules,
		      struct moat_analysis *out);
void moat_analysis_free(struct moat_analysis *a);

/*
 * The findings of the first MOAT_ANALYZE_MAX_RULES rules as warnings at
 * each rule's line, plus one warning without a line when the ruleset has
 * more rules than that.  Returns the number of findings or -ENOMEM.
 */
int moat_ruleset_analyze(const struct moat_ruleset *rs, struct moat_diags *d);

#endif /* MOAT_ANALYZE_H */
