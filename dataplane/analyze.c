// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule analysis (analyze.h): every rule's match space against those of
 * the rules before it (shadowed) and after it (redundant), one pair at a
 * time.  Every pair, up to max_rules rules: the work grows with the
 * square of their number.  Past that, only the pairs an index
 * (ruleidx.c) leaves: the same findings, in less time.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "matchspace.h"

/* The first earlier rule that matches every packet rule @b does, or @b. */
static size_t shadowed_by(const struct match_space *sp, size_t b)
{
	for (size_t a = 0; a < b; a++)
		if (match_space_within(&sp[b], &sp[a]))
			return a;
	return b;
}

/*
 * A later rule C of B's action that matches every packet B does, with no
 * rule of the other action between them that matches any packet B does;
 * or @b.  Without B, a packet that reached B goes on to a rule between
 * them, which has B's action, or to C: no verdict changes.  The walk
 * stops at the first rule of the other action that meets B: it stands
 * between B and every later rule.
 */
static size_t redundant_with(const struct match_space *sp, const bool *shadowed,
			     size_t n, size_t b)
{
	enum moat_action act = sp[b].r->action;

	for (size_t c = b + 1; c < n; c++) {
		/*
		 * A shadowed rule of the other action still counts: B may be
		 * what shadows it.  A shadowed C does not: the rule to remove
		 * is C, not B (two equal rules would each point at the other).
		 */
		if (sp[c].r->action != act) {
			if (match_space_meets(&sp[c], &sp[b]))
				return b;
		} else if (!shadowed[c] && match_space_within(&sp[b], &sp[c])) {
			return c;
		}
	}
	return b;
}

/*
 * Options (a rate limit, audit, a log) change what happens to a rule's
 * packets: removing B would hand them to C, or to a rule with options
 * between them that meets B.  Then B is not redundant.
 */
static bool has_options(const struct moat_rule *r)
{
	return r->limit.rate || r->audit || r->log_every;
}

/*
 * @nopt[i]: how many of the first i rules have options, so that the
 * common case, none between B and C, is found without a walk (a walk
 * each finding made a ruleset of many redundant rules quadratic).
 */
static bool options_between(const struct match_space *sp, const uint32_t *nopt,
			    size_t b, size_t c)
{
	if (has_options(sp[b].r) || has_options(sp[c].r))
		return true;
	if (nopt[c] == nopt[b + 1])
		return false;
	for (size_t x = b + 1; x < c; x++)
		if (has_options(sp[x].r) && match_space_meets(&sp[x], &sp[b]))
			return true;
	return false;
}

static int add_finding(struct moat_analysis *a, enum moat_finding_kind kind,
		       size_t rule, size_t by)
{
	struct moat_finding *v;

	/* the capacity is the next power of two, as in diag.c */
	if (a->n == 0 || (a->n & (a->n - 1)) == 0) {
		v = realloc(a->v, (a->n ? 2 * a->n : 4) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
	}
	a->v[a->n++] = (struct moat_finding){ kind, rule, by };
	return 0;
}

/* Every pair: shadowed first, then redundant among the rest. */
static void find_pairwise(const struct match_space *sp, size_t n,
			  struct index_findings *f)
{
	for (size_t i = 0; i < n; i++) {
		/* no version left: the parser reports that, as an error */
		f->shadowed_by[i] = sp[i].versions ? shadowed_by(sp, i) : i;
		f->shadowed[i] = f->shadowed_by[i] != i;
	}
	for (size_t i = 0; i < n; i++)
		f->redundant_by[i] =
			sp[i].versions && !f->shadowed[i] ?
				redundant_with(sp, f->shadowed, n, i) :
				i;
	f->shadowed_upto = f->redundant_upto = n;
}

int moat_ruleset_find(const struct moat_ruleset *rs, size_t max_rules,
		      struct moat_analysis *out)
{
	size_t n = rs->nrules < MOAT_ANALYZE_MAX_INDEXED ?
			   rs->nrules :
			   MOAT_ANALYZE_MAX_INDEXED,
	       i;
	struct index_findings f = { 0 };
	struct match_space *sp;
	uint32_t *nopt;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (rs->nrules <= max_rules)
		n = rs->nrules;
	sp = calloc(n + 1, sizeof(*sp));
	f.shadowed_by = calloc(n + 1, sizeof(*f.shadowed_by));
	f.shadowed = calloc(n + 1, sizeof(*f.shadowed));
	f.redundant_by = calloc(n + 1, sizeof(*f.redundant_by));
	nopt = calloc(n + 1, sizeof(*nopt));
	if (!sp || !f.shadowed_by || !f.shadowed || !f.redundant_by || !nopt) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ret = match_space_init(&sp[i], &rs->rules[i]);
		if (ret < 0)
			goto out;
		nopt[i + 1] = nopt[i] + has_options(&rs->rules[i]);
	}
	if (rs->nrules <= max_rules)
		find_pairwise(sp, n, &f);
	else
		ret = index_find(sp, n, MOAT_ANALYZE_WORK, &f);
	for (i = 0; i < n && ret == 0; i++) {
		if (i < f.shadowed_upto && f.shadowed[i])
			ret = add_finding(out, MOAT_SHADOWED, i,
					  f.shadowed_by[i]);
		else if (i < f.redundant_upto && f.redundant_by[i] != i &&
			 !options_between(sp, nopt, i, f.redundant_by[i]))
			ret = add_finding(out, MOAT_REDUNDANT, i,
					  f.redundant_by[i]);
	}
	out->shadowed_upto = f.shadowed_upto;
	out->redundant_upto = f.redundant_upto;
out:
	for (i = 0; sp && i < n; i++)
		match_space_free(&sp[i]);
	free(nopt);
	free(f.redundant_by);
	free(f.shadowed);
	free(f.shadowed_by);
	free(sp);
	if (ret < 0)
		moat_analysis_free(out);
	return ret;
}

void moat_analysis_free(struct moat_analysis *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int moat_ruleset_analyze(const struct moat_ruleset *rs, struct moat_diags *d)
{
	struct moat_analysis a;
	int ret = moat_ruleset_find(rs, MOAT_ANALYZE_MAX_RULES, &a);

	if (ret < 0)
		return ret;
	/* first, so that the warnings' cap cannot hide them */
	if (a.shadowed_upto < rs->nrules)
		moat_diag_add(
			d, MOAT_WARNING, 0, 0,
			"rule analysis looked for shadowed rules among the first %zu rules only, of %zu",
			a.shadowed_upto, rs->nrules);
	if (a.redundant_upto < rs->nrules)
		moat_diag_add(
			d, MOAT_WARNING, 0, 0,
			"rule analysis looked for redundant rules among the first %zu rules only, of %zu",
			a.redundant_upto, rs->nrules);
	for (size_t i = 0; i < a.n; i++) {
		const struct moat_rule *r = &rs->rules[a.v[i].rule];
		const struct moat_rule *by = &rs->rules[a.v[i].by];

		if (a.v[i].kind == MOAT_SHADOWED)
			moat_diag_add(
				d, MOAT_WARNING, r->line, r->col,
				"rule '%s' can never match: rule '%s' (line %u) matches every packet it does",
				r->name, by->name, by->line);
		else
			moat_diag_add(
				d, MOAT_WARNING, r->line, r->col,
				"rule '%s' is redundant: rule '%s' (line %u) %s everything it does",
				r->name, by->name, by->line,
				by->action == MOAT_DROP ? "drops" : "allows");
	}
	ret = (int)a.n;
	moat_analysis_free(&a);
	return ret;
}
