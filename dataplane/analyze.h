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
 * Rulesets up to this size are analysed pair by pair, every rule against
 * every other: the time grows with the square of this, and 5,000 rules
 * take about a fifth of a second.
 */
#define MOAT_ANALYZE_MAX_RULES 5000
/*
 * Larger ones through an index (ruleidx.c): the first this many rules,
 * as long as this many rules looked at last for each kind of finding.
 * About 20 ms for 10,000 rules and 0.6 s for 100,000 on a slow machine,
 * and 1 KiB a rule while it runs.
 */
#define MOAT_ANALYZE_MAX_INDEXED 131072
#define MOAT_ANALYZE_WORK 5000000

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
	/* the rules before these were checked for each kind of finding */
	size_t shadowed_upto, redundant_upto;
};

/*
 * Find the shadowed and redundant rules of @rs: pair by pair when it has
 * at most @max_rules rules, through the index otherwise (within the
 * bounds above).  Returns 0 or -ENOMEM; @out must be released with
 * moat_analysis_free().
 */
int moat_ruleset_find(const struct moat_ruleset *rs, size_t max_rules,
		      struct moat_analysis *out);
void moat_analysis_free(struct moat_analysis *a);

/*
 * The findings as warnings at each rule's line, with MOAT_ANALYZE_MAX_RULES,
 * plus a warning without a line for each kind of finding not looked for
 * in the whole ruleset.  Returns the number of findings or -ENOMEM.
 */
int moat_ruleset_analyze(const struct moat_ruleset *rs, struct moat_diags *d);

#endif /* MOAT_ANALYZE_H */
