// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the ruleset parser and formatter.  Whatever parses must
 * format to text that parses again, to the same ruleset, and formats to
 * itself: the promise of moat_ruleset_format(), checked on inputs no one
 * thought of.  Rule analysis reads whatever parses too, and its findings
 * must point the way their kinds say.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

#define LIST_EQUAL(a, b)   \
	((a).n == (b).n && \
	 (!(a).n || !memcmp((a).v, (b).v, (a).n * sizeof(*(a).v))))

/*
 * Equal texts alone would not catch a field the formatter drops: both
 * texts would lack it.  So the reparse must also give the same ruleset,
 * comments included (the parser keeps them the way the formatter prints
 * them).
 */
static bool ruleset_equal(const struct moat_ruleset *a,
			  const struct moat_ruleset *b)
{
	size_t i;

	if (a->policy != b->policy || a->policy_given != b->policy_given ||
	    a->nrules != b->nrules ||
	    !str_equal(a->policy_comments, b->policy_comments) ||
	    !str_equal(a->policy_trailing, b->policy_trailing) ||
	    !str_equal(a->tail_comments, b->tail_comments))
		return false;
	for (i = 0; i < a->nrules; i++) {
		const struct moat_rule *x = &a->rules[i], *y = &b->rules[i];

		if (strcmp(x->name, y->name) || x->action != y->action ||
		    !LIST_EQUAL(x->protos, y->protos) ||
		    !LIST_EQUAL(x->src, y->src) ||
		    !LIST_EQUAL(x->dst, y->dst) ||
		    !LIST_EQUAL(x->sport, y->sport) ||
		    !LIST_EQUAL(x->dport, y->dport) ||
		    !LIST_EQUAL(x->icmp_type, y->icmp_type) ||
		    !LIST_EQUAL(x->icmp_code, y->icmp_code) ||
		    x->tcp_flags_mask != y->tcp_flags_mask ||
		    x->tcp_flags_value != y->tcp_flags_value ||
		    !LIST_EQUAL(x->ifaces, y->ifaces) ||
		    !str_equal(x->comments, y->comments) ||
		    !str_equal(x->trailing, y->trailing))
			return false;
	}
	return true;
}

/* Few rules: the analysis is quadratic, and a fuzzer wants many runs. */
#define FUZZ_ANALYZE_RULES 256

static void analyze(const struct moat_ruleset *rs)
{
	struct moat_analysis a;

	if (moat_ruleset_find(rs, FUZZ_ANALYZE_RULES, &a))
		return;
	for (size_t i = 0; i < a.n; i++) {
		const struct moat_finding *f = &a.v[i];
		const struct moat_rule *r = rs->rules;
		bool ok = f->by < a.nanalysed;

		if (f->kind == MOAT_SHADOWED)
			ok = ok && f->by < f->rule;
		else
			ok = ok && f->by > f->rule &&
			     r[f->by].action == r[f->rule].action;
		if (!ok) {
			fprintf(stderr,
				"finding %zu: kind %d, rule %zu by %zu\n", i,
				f->kind, f->rule, f->by);
			abort();
		}
	}
	moat_analysis_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_ruleset rs, again;
	struct moat_diags d = { 0 };
	char *t1, *t2;

	if (moat_ruleset_parse((const char *)data, size, &rs, &d)) {
		moat_diags_free(&d);
		return 0;
	}
	moat_diags_free(&d);
	analyze(&rs);

	t1 = moat_ruleset_format(&rs);
	if (!t1)
		abort();
	if (moat_ruleset_parse(t1, strlen(t1), &again, &d)) {
		fprintf(stderr, "formatted text does not parse:\n%s", t1);
		moat_diags_print(&d, "formatted", stderr);
		abort();
	}
	if (!ruleset_equal(&rs, &again)) {
		fprintf(stderr, "formatted text parses to another ruleset:\n%s",
			t1);
		abort();
	}
	t2 = moat_ruleset_format(&again);
	if (!t2)
		abort();
	if (strcmp(t1, t2)) {
		fprintf(stderr, "format is not a fixed point:\n%s---\n%s", t1,
			t2);
		abort();
	}
	free(t2);
	free(t1);
	moat_ruleset_free(&again);
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
	return 0;
}
