// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the ruleset parser and formatter.  Whatever parses must
 * format to text that parses again, to the same ruleset, and formats to
 * itself: the promise of moat_ruleset_format(), checked on inputs no one
 * thought of.  Rule analysis reads whatever parses too: its findings must
 * point the way their kinds say, and its index must find what comparing
 * every pair finds.
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

static void bad_finding(const char *what, const struct moat_finding *f)
{
	fprintf(stderr, "%s: kind %d, rule %zu by %zu\n", what, f->kind,
		f->rule, f->by);
	abort();
}

/* Shadowed by an earlier rule; redundant by a later one of its action. */
static bool points_right(const struct moat_ruleset *rs,
			 const struct moat_finding *f)
{
	if (f->kind == MOAT_SHADOWED)
		return f->by < f->rule;
	return f->by > f->rule && f->by < rs->nrules &&
	       rs->rules[f->by].action == rs->rules[f->rule].action;
}

/*
 * Every pair compared, then through the index alone (max_rules 0): the
 * index must find the same rules, each with the same other rule.
 */
static void analyze(const struct moat_ruleset *rs)
{
	struct moat_analysis a, idx;

	if (rs->nrules > FUZZ_ANALYZE_RULES ||
	    moat_ruleset_find(rs, SIZE_MAX, &a))
		return;
	if (moat_ruleset_find(rs, 0, &idx)) {
		moat_analysis_free(&a);
		return;
	}
	for (size_t i = 0; i < a.n; i++) {
		const struct moat_finding *f = &a.v[i];

		if (!points_right(rs, f))
			bad_finding("pointing the wrong way", f);
		if (i == idx.n || idx.v[i].kind != f->kind ||
		    idx.v[i].rule != f->rule || idx.v[i].by != f->by)
			bad_finding("the index does not find", f);
	}
	if (a.n != idx.n)
		bad_finding("the index alone finds", &idx.v[a.n]);
	moat_analysis_free(&idx);
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
