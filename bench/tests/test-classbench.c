// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ClassBench-style generator of moat-bench: deterministic, the
 * requested size, valid rules, and frames that the reference matcher
 * (not the generator's own shortcut) sends to the rule they aim at.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "bench_kern_user.h"
#include "classbench.h"
#include "reference.h"

static void generate(size_t n, uint64_t seed, unsigned int ipv6,
		     struct moat_ruleset *rs)
{
	struct cb_opts o = { .seed = seed,
			     .nrules = n,
			     .ipv6_pct = ipv6,
			     .action = MOAT_DROP,
			     .policy = MOAT_DROP };

	assert_int_equal(cb_generate(&o, rs), 0);
}

#define SAME_LIST(a, b, f)       \
	((a)->f.n == (b)->f.n && \
	 (!(a)->f.n ||           \
	  !memcmp((a)->f.v, (b)->f.v, (a)->f.n * sizeof(*(a)->f.v))))

static bool same_rule(const struct moat_rule *a, const struct moat_rule *b)
{
	return !strcmp(a->name, b->name) && a->action == b->action &&
	       SAME_LIST(a, b, protos) && SAME_LIST(a, b, src) &&
	       SAME_LIST(a, b, dst) && SAME_LIST(a, b, sport) &&
	       SAME_LIST(a, b, dport) && SAME_LIST(a, b, icmp_type) &&
	       SAME_LIST(a, b, icmp_code);
}

static size_t same_rules(const struct moat_ruleset *a,
			 const struct moat_ruleset *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nrules && i < b->nrules; i++)
		n += same_rule(&a->rules[i], &b->rules[i]);
	return n;
}

static void deterministic_from_seed(void **state)
{
	struct moat_ruleset a, b, c;

	generate(3000, 42, 20, &a);
	generate(3000, 42, 20, &b);
	generate(3000, 43, 20, &c);
	assert_int_equal(same_rules(&a, &b), 3000);
	/* another seed: another ruleset, not a shuffle of the same rules */
	assert_true(same_rules(&a, &c) < 30);
	moat_ruleset_free(&a);
	moat_ruleset_free(&b);
	moat_ruleset_free(&c);
}

static void requested_count(void **state)
{
	const size_t counts[] = { 1, 2, 7, 100, 10000 };
	struct cb_opts bad = { .nrules = 0 };
	struct moat_ruleset rs;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		generate(counts[i], 1, 0, &rs);
		assert_int_equal(rs.nrules, counts[i]);
		assert_int_equal(rs.policy, MOAT_DROP);
		moat_ruleset_free(&rs);
	}
	assert_int_equal(cb_generate(&bad, &rs), -EINVAL);
}

static void prefix_valid(const struct moat_prefix *p)
{
	unsigned int max = p->family == AF_INET ? 32 : 128;

	assert_true(p->family == AF_INET || p->family == AF_INET6);
	assert_true(p->len <= max);
	/* host bits past the length are a parse error in moat's language */
	for (unsigned int bit = p->len; bit < 128; bit++)
		assert_false(p->addr[bit / 8] & (0x80 >> (bit % 8)));
}

static void rules_valid(void **state)
{
	struct moat_ruleset rs;
	size_t tcp = 0;

	generate(10000, 7, 25, &rs);
	for (size_t i = 0; i < rs.nrules; i++) {
		const struct moat_rule *r = &rs.rules[i];
		uint8_t proto = r->protos.n ? r->protos.v[0] : 0;
		bool ports = proto == MOAT_PROTO_TCP || proto == MOAT_PROTO_UDP;
		bool icmp =
			proto == MOAT_PROTO_ICMP || proto == MOAT_PROTO_ICMPV6;
		char name[24];

		assert_int_equal(r->action, MOAT_DROP);

		/* names are unique because they are the position */
		snprintf(name, sizeof(name), "r%06zu", i + 1);
		assert_string_equal(r->name, name);
		assert_true(r->protos.n <= 1 && r->src.n <= 1 && r->dst.n <= 1);
		for (size_t k = 0; k < r->src.n; k++)
			prefix_valid(&r->src.v[k]);
		for (size_t k = 0; k < r->dst.n; k++)
			prefix_valid(&r->dst.v[k]);
		if (r->src.n && r->dst.n)
			assert_int_equal(r->src.v[0].family,
					 r->dst.v[0].family);
		/* ports only with a protocol that has them (docs/ruleset.md) */
		if (r->sport.n || r->dport.n)
			assert_true(ports);
		if (r->icmp_type.n || r->icmp_code.n)
			assert_true(icmp);
		for (size_t k = 0; k < r->sport.n; k++)
			assert_true(r->sport.v[k].lo <= r->sport.v[k].hi);
		for (size_t k = 0; k < r->dport.n; k++)
			assert_true(r->dport.v[k].lo <= r->dport.v[k].hi);
		/* no complete wildcard: it would shadow everything after it */
		assert_true(r->src.n || r->dst.n || r->dport.n);
		tcp += proto == MOAT_PROTO_TCP;
	}
	/* 70% tcp, drawn 10000 times: well within 65-75% */
	assert_true(tcp > 6500 && tcp < 7500);
	moat_ruleset_free(&rs);
}

/*
 * The frame aimed at rule i is first-matched by a rule <= i, by the
 * reference matcher reading the frame: this checks the frame builder,
 * the point drawn inside each field, and the shadow index that decides
 * ->owned, all against the naive meaning of the rules.
 */
static void check_frames(size_t n, uint64_t seed, unsigned int ipv6)
{
	uint8_t frame[BENCH_TEMPLATE_SIZE];
	struct moat_ruleset rs;
	struct cb_traffic tr;
	size_t owned = 0;

	generate(n, seed, ipv6, &rs);
	assert_int_equal(cb_traffic_build(&rs, seed, &tr), 0);
	assert_int_equal(tr.n, n);
	for (size_t i = 0; i < n; i++) {
		struct moat_ref_verdict v;

		assert_int_equal(cb_frame(&tr, i, frame), 0);
		v = moat_reference_classify(&rs, frame, tr.frame_len, NULL);
		assert_int_equal(v.kind, MOAT_REF_RULE);
		assert_true(v.rule <= i);
		assert_true(v.drop);
		owned += v.rule == i;
	}
	assert_int_equal(owned, tr.owned);
	/* overlap exists, as in real ACLs, but most rules stay reachable */
	assert_true(tr.owned * 10 >= n * 9);
	cb_traffic_free(&tr);
	moat_ruleset_free(&rs);
}

static void frames_hit_their_rule_v4(void **state)
{
	struct moat_ruleset rs;
	struct cb_traffic tr;

	check_frames(2000, 3, 0);
	/* IPv4 only: the 64-byte frames of the runs */
	generate(50, 3, 0, &rs);
	assert_int_equal(cb_traffic_build(&rs, 3, &tr), 0);
	assert_int_equal(tr.frame_len, BENCH_FRAME_SHORT);
	cb_traffic_free(&tr);
	moat_ruleset_free(&rs);
}

static void frames_hit_their_rule_mixed(void **state)
{
	struct moat_ruleset rs;
	struct cb_traffic tr;

	check_frames(2000, 4, 40);
	/* IPv6 TCP needs 74 bytes of headers: the runs use 80 */
	generate(200, 4, 40, &rs);
	assert_int_equal(cb_traffic_build(&rs, 4, &tr), 0);
	assert_int_equal(tr.frame_len, BENCH_FRAME_LONG);
	cb_traffic_free(&tr);
	moat_ruleset_free(&rs);
}

/* The canonical text of a generated ruleset parses without a word. */
static void text_round_trip(void **state)
{
	struct moat_ruleset rs, back;
	struct moat_diags d = { 0 };
	char *text;

	generate(500, 9, 25, &rs);
	text = moat_ruleset_format(&rs);
	assert_non_null(text);
	assert_int_equal(moat_ruleset_parse(text, strlen(text), &back, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(same_rules(&rs, &back), rs.nrules);
	free(text);
	moat_diags_free(&d);
	moat_ruleset_free(&back);
	moat_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deterministic_from_seed),
		cmocka_unit_test(requested_count),
		cmocka_unit_test(rules_valid),
		cmocka_unit_test(frames_hit_their_rule_v4),
		cmocka_unit_test(frames_hit_their_rule_mixed),
		cmocka_unit_test(text_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
