// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule analysis: a table of rulesets and the exact warnings they must
 * give (analyze-cases.h), the bound on the rules analysed, and the
 * findings held to the reference matcher on random rulesets and frames.
 * A shadowed rule's holder must match every frame the rule does, and
 * taking a reported rule out must change no verdict.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "analyze.h"
#include "analyze-cases.h"
#include "frame.h"
#include "matchspace.h"
#include "randgen.h"
#include "reference.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The warnings as "line:col: msg" lines; returns a malloc'd string. */
static char *diags_text(const struct moat_diags *d)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	assert_non_null(f);
	for (size_t i = 0; i < d->n; i++) {
		assert_int_equal(d->v[i].severity, MOAT_WARNING);
		fprintf(f, "%u:%u: %s\n", d->v[i].line, d->v[i].col,
			d->v[i].msg);
	}
	fclose(f);
	return s;
}

static void test_cases(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(analyze_cases); i++) {
		const struct analyze_case *c = &analyze_cases[i];
		struct moat_diags pd = { 0 }, d = { 0 };
		struct moat_ruleset rs;
		char *got;

		if (moat_ruleset_parse(c->text, strlen(c->text), &rs, &pd)) {
			moat_diags_print(&pd, c->name, stderr);
			fail_msg("case '%s' does not parse", c->name);
		}
		assert_true(moat_ruleset_analyze(&rs, &d) >= 0);
		got = diags_text(&d);
		if (strcmp(got, c->want)) {
			fprintf(stderr, "case '%s':\n got:\n%s want:\n%s",
				c->name, got, c->want);
			bad++;
		}
		free(got);
		moat_diags_free(&d);
		moat_diags_free(&pd);
		moat_ruleset_free(&rs);
	}
	assert_int_equal(bad, 0);
}

static void parse_ok(const char *text, struct moat_ruleset *rs)
{
	struct moat_diags pd = { 0 };

	assert_int_equal(moat_ruleset_parse(text, strlen(text), rs, &pd), 0);
	moat_diags_free(&pd);
}

/*
 * "drop rN tcp sport N-65535 dport 0-N" for N from 0 to @n - 1: every
 * rule matches the lowest packet of every other, and none holds another
 * (an earlier one has more source ports and fewer destination ports).
 */
static void crossing_rules(struct moat_ruleset *rs, size_t n)
{
	memset(rs, 0, sizeof(*rs));
	rs->rules = calloc(n, sizeof(*rs->rules));
	assert_non_null(rs->rules);
	for (size_t i = 0; i < n; i++) {
		struct moat_rule *r = &rs->rules[i];

		snprintf(r->name, sizeof(r->name), "r%zu", i);
		r->action = MOAT_DROP;
		r->line = (uint32_t)i + 1;
		r->col = 1;
		r->protos.v = calloc(1, 1);
		r->sport.v = calloc(1, sizeof(*r->sport.v));
		r->dport.v = calloc(1, sizeof(*r->dport.v));
		assert_true(r->protos.v && r->sport.v && r->dport.v);
		r->protos.v[0] = MOAT_PROTO_TCP;
		r->sport.v[0] = (struct moat_range){ (uint16_t)i, 65535 };
		r->dport.v[0] = (struct moat_range){ 0, (uint16_t)i };
		r->protos.n = r->sport.n = r->dport.n = 1;
	}
	rs->nrules = n;
}

static void test_bound(void **state)
{
	const char *text = "allow a tcp\nallow b tcp dport 22\nallow c tcp\n";
	struct moat_ruleset rs;
	struct moat_analysis a;
	struct moat_diags d = { 0 };
	char want[200];
	size_t u;

	(void)state;
	/* past max_rules, the index: the same findings */
	parse_ok(text, &rs);
	for (size_t max = 0; max <= 3; max += 3) {
		assert_int_equal(moat_ruleset_find(&rs, max, &a), 0);
		assert_int_equal(a.redundant_upto, 3);
		assert_int_equal(a.shadowed_upto, 3);
		assert_int_equal(a.n, 2);
		assert_int_equal(a.v[0].kind, MOAT_SHADOWED);
		assert_int_equal(a.v[0].rule, 1);
		assert_int_equal(a.v[0].by, 0);
		assert_int_equal(a.v[1].kind, MOAT_SHADOWED);
		assert_int_equal(a.v[1].rule, 2);
		assert_int_equal(a.v[1].by, 0);
		moat_analysis_free(&a);
	}
	moat_ruleset_free(&rs);

	/*
	 * The index's worst case: every earlier rule is a candidate and none
	 * holds, so rule b costs b comparisons, and the search stops at the
	 * first rule u with u (u + 1) / 2 past MOAT_ANALYZE_WORK (3,162).
	 * Warnings without a line say how far the searches got.
	 */
	crossing_rules(&rs, MOAT_ANALYZE_MAX_RULES + 1000);
	assert_int_equal(moat_ruleset_find(&rs, MOAT_ANALYZE_MAX_RULES, &a), 0);
	assert_int_equal(a.n, 0);
	u = a.shadowed_upto;
	assert_true(u * (u - 1) / 2 <= MOAT_ANALYZE_WORK &&
		    u * (u + 1) / 2 > MOAT_ANALYZE_WORK);
	/* redundancy needs to know which holders are shadowed */
	assert_true(a.redundant_upto <= a.shadowed_upto);
	assert_true(moat_ruleset_analyze(&rs, &d) >= 0);
	assert_int_equal(d.n, 2);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(d.v[k].line, 0);
		snprintf(
			want, sizeof(want),
			"rule analysis looked for %s rules among the first %zu rules only, of 6000",
			k ? "redundant" : "shadowed",
			k ? a.redundant_upto : a.shadowed_upto);
		assert_string_equal(d.v[k].msg, want);
	}
	moat_analysis_free(&a);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
}

/* @rs without rule @skip, sharing its rules' lists: free only .rules. */
static void without(const struct moat_ruleset *rs, size_t skip,
		    struct moat_ruleset *out)
{
	*out = *rs;
	out->rules = calloc(rs->nrules, sizeof(*out->rules));
	assert_non_null(out->rules);
	memcpy(out->rules, rs->rules, skip * sizeof(*rs->rules));
	memcpy(out->rules + skip, rs->rules + skip + 1,
	       (rs->nrules - skip - 1) * sizeof(*rs->rules));
	out->nrules = rs->nrules - 1;
}

struct tally {
	size_t shadowed, redundant; /* findings */
	size_t held, kept; /* frames that tested one */
	size_t bad;
};

/*
 * Frames aimed at the reported rule (through a ruleset of it alone, so
 * that rg_frame aims at it every time it aims) and frames aimed anywhere:
 * without the rule, every verdict must stay; for a shadowed rule, its
 * holder must match every frame it matches.
 */
static void check_finding(struct rg *g, const struct moat_ruleset *rs,
			  const struct moat_finding *f, size_t nframes,
			  struct tally *t)
{
	const struct moat_rule *b = &rs->rules[f->rule];
	struct moat_ruleset alone = *rs, less;
	uint8_t buf[MOAT_FRAME_MAX];

	alone.rules = (struct moat_rule *)b;
	alone.nrules = 1;
	without(rs, f->rule, &less);
	for (size_t i = 0; i < nframes; i++) {
		const char *iface = NULL;
		size_t len = rg_frame(g, i % 2 ? rs : &alone, buf, sizeof(buf),
				      &iface);
		struct moat_ref_verdict v1, v2;
		struct moat_ref_packet pkt;

		v1 = moat_reference_classify(rs, buf, len, iface);
		v2 = moat_reference_classify(&less, buf, len, iface);
		t->kept++;
		if (v1.drop != v2.drop && t->bad++ < 5)
			fprintf(stderr,
				"rule '%s' reported %s by '%s', but without it a frame gets %s rather than %s\n",
				b->name,
				f->kind == MOAT_SHADOWED ? "shadowed" :
							   "redundant",
				rs->rules[f->by].name,
				v2.drop ? "drop" : "allow",
				v1.drop ? "drop" : "allow");

		if (f->kind != MOAT_SHADOWED ||
		    moat_reference_read(buf, len, &pkt) != MOAT_REF_RULE ||
		    !moat_reference_rule_matches(b, &pkt, iface))
			continue;
		t->held++;
		if (!moat_reference_rule_matches(&rs->rules[f->by], &pkt,
						 iface) &&
		    t->bad++ < 5)
			fprintf(stderr,
				"rule '%s' reported shadowed by '%s', which does not match a frame it matches\n",
				b->name, rs->rules[f->by].name);
	}
	free(less.rules);
}

static void run_seed(uint64_t seed, size_t nrules, unsigned int v6_pct,
		     bool ifaces, struct tally *t)
{
	static const char *const names[] = { "eth0", "eth1", "eth2" };
	struct rg_ruleset_opts ro = {
		.nrules = nrules,
		.v6_pct = v6_pct,
		.overlap_pct = 90,
		.ifaces = ifaces ? names : NULL,
		.nifaces = ifaces ? ARRAY_SIZE(names) : 0,
	};
	struct moat_ruleset rs;
	struct moat_analysis a;
	struct rg g;

	rg_init(&g, seed);
	assert_int_equal(rg_ruleset(&g, &ro, &rs), 0);
	assert_int_equal(moat_ruleset_find(&rs, SIZE_MAX, &a), 0);
	assert_int_equal(a.shadowed_upto, nrules);
	assert_int_equal(a.redundant_upto, nrules);
	for (size_t i = 0; i < a.n; i++) {
		const struct moat_finding *f = &a.v[i];

		/* what the kinds promise about positions and actions */
		if (f->kind == MOAT_SHADOWED) {
			assert_true(f->by < f->rule);
			t->shadowed++;
		} else {
			assert_true(f->by > f->rule);
			assert_int_equal(rs.rules[f->by].action,
					 rs.rules[f->rule].action);
			t->redundant++;
		}
		check_finding(&g, &rs, f, 400, t);
	}
	moat_analysis_free(&a);
	moat_ruleset_free(&rs);
}

static void test_differential(void **state)
{
	struct tally t = { 0 };

	(void)state;
	/* IPv4 only to IPv6 only, with and without interfaces */
	for (uint64_t seed = 1; seed <= 12; seed++)
		run_seed(seed, 40 + 30 * seed, (seed % 4) * 33, seed % 3 == 0,
			 &t);
	fprintf(stderr,
		"%zu shadowed and %zu redundant rules, %zu frames without them, %zu frames a shadowed rule matches\n",
		t.shadowed, t.redundant, t.kept, t.held);
	assert_int_equal(t.bad, 0);
	/*
	 * Crowded rulesets of these seeds have both kinds; a test that finds
	 * nothing to check proves nothing.
	 */
	assert_true(t.shadowed >= 10);
	assert_true(t.redundant >= 10);
	assert_true(t.held >= 1000);
}

/* Would the parser take @r?  The formatter's text says. */
static bool parses(const struct moat_rule *r)
{
	struct moat_ruleset one = { .rules = (struct moat_rule *)r,
				    .nrules = 1 };
	struct moat_diags d = { 0 };
	struct moat_ruleset back;
	char *text = moat_ruleset_format(&one);
	int ret;

	assert_non_null(text);
	ret = moat_ruleset_parse(text, strlen(text), &back, &d);
	if (!ret)
		moat_ruleset_free(&back);
	moat_diags_free(&d);
	free(text);
	return ret == 0;
}

/*
 * Narrow one list of @r that has more than one item, if any, to a subset,
 * unless that leaves a rule the parser refuses (an icmpv6 rule left with
 * IPv4 addresses only).
 */
static void narrow(struct moat_rule *r, size_t k)
{
	size_t *lists[] = { &r->protos.n,    &r->src.n,	  &r->dst.n,
			    &r->sport.n,     &r->dport.n, &r->icmp_type.n,
			    &r->icmp_code.n, &r->ifaces.n };

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		size_t *n = lists[(k + i) % ARRAY_SIZE(lists)];

		if (*n > 1) {
			(*n)--;
			if (parses(r))
				return;
			(*n)++;
		}
	}
}

/*
 * The other direction, where it can be stated: a copy of each rule, one
 * of its lists maybe cut short, appended to the ruleset must be found
 * shadowed, by the rule it copies or an earlier one.  A containment test
 * that missed equal or narrower lists would miss these.
 */
static void test_copies_shadowed(void **state)
{
	struct rg_ruleset_opts ro = { .nrules = 300,
				      .v6_pct = 40,
				      .overlap_pct = 70 };
	struct moat_ruleset rs, twice;
	struct moat_analysis a;
	size_t n, i, found = 0;
	struct rg g;

	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		rg_init(&g, seed);
		assert_int_equal(rg_ruleset(&g, &ro, &rs), 0);
		n = rs.nrules;
		twice = rs;
		twice.rules = calloc(2 * n, sizeof(*twice.rules));
		assert_non_null(twice.rules);
		memcpy(twice.rules, rs.rules, n * sizeof(*rs.rules));
		memcpy(twice.rules + n, rs.rules, n * sizeof(*rs.rules));
		for (i = 0; i < n; i++)
			narrow(&twice.rules[n + i], i);
		twice.nrules = 2 * n;

		assert_int_equal(moat_ruleset_find(&twice, SIZE_MAX, &a), 0);
		for (i = 0; i < a.n; i++) {
			const struct moat_finding *f = &a.v[i];

			if (f->rule < n)
				continue;
			assert_int_equal(f->kind, MOAT_SHADOWED);
			assert_true(f->by <= f->rule - n);
			found++;
		}
		moat_analysis_free(&a);
		free(twice.rules);
		moat_ruleset_free(&rs);
		/* every copy has exactly one finding: so all were found */
		assert_int_equal(found, (size_t)seed * n);
	}
}

/* Give @list one item, @item, if it has none. */
#define GIVE_ONE(list, item)                                     \
	do {                                                     \
		if (!(list).n) {                                 \
			free((list).v);                          \
			(list).v = calloc(1, sizeof(*(list).v)); \
			assert_non_null((list).v);               \
			(list).v[0] = (item);                    \
			(list).n = 1;                            \
		}                                                \
	} while (0)

/*
 * Leave fields out of every rule, and make every protocol list tcp, so
 * that every rule is filed under one field (its home in the index): 1
 * destination ports, 2 destinations, 3 sources, 4 protocols; or, 5, take
 * every field the index files under out of every other rule, which then
 * has no home.  The rules of shapes 1 to 4 get that field, so that no
 * holder is homeless.  The rules stay valid but for shape 5's flags, and
 * lists left out stay allocated for moat_ruleset_free().
 */
static void keep_one_field(struct moat_ruleset *rs, unsigned int shape)
{
	const struct moat_prefix net = { .family = AF_INET,
					 .len = 8,
					 .addr = { 10 } };
	const struct moat_range port = { 7, 7 };

	for (size_t i = 0; shape && i < rs->nrules; i++) {
		struct moat_rule *r = &rs->rules[i];

		if (shape == 5) {
			if (i % 2) {
				r->src.n = r->dst.n = r->protos.n = 0;
				r->sport.n = r->dport.n = 0;
				r->icmp_type.n = r->icmp_code.n = 0;
				r->tcp_flags_mask = r->tcp_flags_value = 0;
			}
			continue;
		}
		r->ifaces.n = 0;
		if (shape != 3)
			r->src.n = 0;
		if (shape != 2)
			r->dst.n = 0;
		if (shape != 1)
			r->sport.n = r->dport.n = 0;
		GIVE_ONE(r->protos, MOAT_PROTO_TCP);
		if (shape == 4)
			continue;
		r->icmp_type.n = r->icmp_code.n = 0;
		r->protos.v[0] = MOAT_PROTO_TCP;
		r->protos.n = 1;
		if (shape == 1)
			GIVE_ONE(r->dport, port);
		if (shape == 2)
			GIVE_ONE(r->dst, net);
		if (shape == 3)
			GIVE_ONE(r->src, net);
	}
}

/*
 * The index must find what comparing every pair finds: the same shadowed
 * and redundant rules, each with the same other rule.  It only leaves out
 * rules that cannot hold the one asked about; a witness or a filing that
 * left out one that can would show here.
 */
static void test_index_as_pairs(void **state)
{
	static const char *const names[] = { "eth0", "eth1" };
	struct moat_ruleset rs;
	struct moat_analysis pairs, idx;
	size_t i, shadowed = 0, redundant = 0;
	struct rg g;

	(void)state;
	for (uint64_t seed = 1; seed <= 30; seed++) {
		struct rg_ruleset_opts ro = {
			.nrules = 100 + 100 * seed,
			.v6_pct = (unsigned int)(seed % 5) * 25,
			.overlap_pct = seed % 2 ? 90 : 50,
			.ifaces = seed % 3 ? NULL : names,
			.nifaces = seed % 3 ? 0 : ARRAY_SIZE(names),
		};

		rg_init(&g, 100 + seed);
		assert_int_equal(rg_ruleset(&g, &ro, &rs), 0);
		keep_one_field(&rs, seed % 6);
		assert_int_equal(moat_ruleset_find(&rs, SIZE_MAX, &pairs), 0);
		assert_int_equal(moat_ruleset_find(&rs, 0, &idx), 0);
		assert_int_equal(idx.shadowed_upto, rs.nrules);
		assert_int_equal(idx.redundant_upto, rs.nrules);
		assert_int_equal(idx.n, pairs.n);
		for (i = 0; i < pairs.n; i++) {
			assert_int_equal(idx.v[i].kind, pairs.v[i].kind);
			assert_int_equal(idx.v[i].rule, pairs.v[i].rule);
			assert_int_equal(idx.v[i].by, pairs.v[i].by);
			shadowed += pairs.v[i].kind == MOAT_SHADOWED;
			redundant += pairs.v[i].kind == MOAT_REDUNDANT;
		}
		moat_analysis_free(&pairs);
		moat_analysis_free(&idx);
		moat_ruleset_free(&rs);
	}
	assert_true(shadowed >= 500);
	assert_true(redundant >= 100);
}

/*
 * A large ruleset is searched whole within the default work: the index
 * hands each rule only the rules whose home holds its witness, so the
 * comparisons grow with the rules, not with their square.  Each finding
 * is what its kind promises, checked pair by pair.
 */
static void test_index_whole(void **state)
{
	struct rg_ruleset_opts ro = { .nrules = 50000, .v6_pct = 30,
				      .overlap_pct = 50 };
	struct moat_ruleset rs;
	struct moat_analysis a;
	struct match_space x, y;
	size_t shadowed = 0;
	struct rg g;

	(void)state;
	rg_init(&g, 7);
	assert_int_equal(rg_ruleset(&g, &ro, &rs), 0);
	assert_int_equal(moat_ruleset_find(&rs, MOAT_ANALYZE_MAX_RULES, &a),
			 0);
	fprintf(stderr, "%zu findings in %zu rules\n", a.n, rs.nrules);
	assert_int_equal(a.shadowed_upto, rs.nrules);
	assert_int_equal(a.redundant_upto, rs.nrules);
	for (size_t i = 0; i < a.n; i++) {
		const struct moat_finding *f = &a.v[i];

		assert_int_equal(match_space_init(&x, &rs.rules[f->rule]), 0);
		assert_int_equal(match_space_init(&y, &rs.rules[f->by]), 0);
		assert_true(match_space_within(&x, &y));
		if (f->kind == MOAT_SHADOWED) {
			assert_true(f->by < f->rule);
			shadowed++;
		} else {
			assert_true(f->by > f->rule);
		}
		match_space_free(&x);
		match_space_free(&y);
	}
	assert_true(shadowed >= 100);
	moat_analysis_free(&a);
	moat_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_copies_shadowed),
		cmocka_unit_test(test_index_as_pairs),
		cmocka_unit_test(test_index_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
