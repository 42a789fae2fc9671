// SPDX-License-Identifier: GPL-2.0-only
/*
 * The compiler against the reference matcher, without a kernel: random
 * rulesets are compiled into images and random frames are classified by
 * the image (with the XDP program's own parse and lookup code,
 * bpf/moat_parse.h and bpf/moat_classify.h) and by the reference.  Every
 * frame must get the same kind and the same rule.  Plus a table of
 * compiler errors, and the shapes the indexes take.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compile-int.h" /* enum moat_home */
#include "frame.h"
#include "randgen.h"
#include "reference.h"

static const char *const ifnames[] = { "eth0", "eth1", "veth-moat-a" };
static const uint32_t ifindexes[] = { 11, 12, 13 };

static uint32_t ifindex_of(const char *name)
{
	size_t i;

	for (i = 0; name && i < 3; i++)
		if (!strcmp(name, ifnames[i]))
			return ifindexes[i];
	return 0;
}

/*
 * One seed: a ruleset of @nrules, @nframes frames.  Returns the number of
 * frames whose classification differed (printing the first few).
 */
static size_t run_seed(uint64_t seed, size_t nrules, unsigned v6_pct,
		       size_t nframes, bool with_ifaces)
{
	struct rg_ruleset_opts ro = {
		.nrules = nrules,
		.v6_pct = v6_pct,
		.overlap_pct = 70,
		.ifaces = with_ifaces ? ifnames : NULL,
		.nifaces = with_ifaces ? 3 : 0,
	};
	struct moat_compile_opts co = {
		.ifnames = ifnames,
		.ifindex = ifindexes,
		.nifaces = 3,
	};
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	struct moat_image img;
	uint8_t buf[MOAT_FRAME_MAX];
	size_t i, bad = 0;
	struct rg g;
	int err;

	rg_init(&g, seed);
	assert_int_equal(rg_ruleset(&g, &ro, &rs), 0);
	err = moat_compile(&rs, &co, &img, &d);
	if (err)
		moat_diags_print(&d, "randgen", stderr);
	assert_int_equal(err, 0);

	for (i = 0; i < nframes; i++) {
		const char *iface = NULL;
		size_t len = rg_frame(&g, &rs, buf, sizeof(buf), &iface);
		struct moat_ref_verdict v = moat_reference_classify(&rs, buf, len, iface);
		uint32_t want_rule, got_rule;
		int want = rg_expect_kind(&v, &want_rule);
		uint64_t m;
		int got = moat_image_classify(&img, buf, len, ifindex_of(iface), &m);

		got_rule = m == MOAT_NO_MATCH ? RG_NO_RULE : MOAT_MATCH_RULE(m);

		if (got == want && got_rule == want_rule)
			continue;
		if (bad++ < 5)
			fprintf(stderr,
				"seed %llu frame %zu (len %zu, iface %s, aimed %ld): reference kind %d rule %d, image kind %d rule %d\n",
				(unsigned long long)seed, i, len, iface ? iface : "-",
				g.aimed, want, (int)want_rule, got, (int)got_rule);
	}
	moat_image_free(&img);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	return bad;
}

static void test_differential_small(void **state)
{
	uint64_t seed;

	/* many small rulesets: every corner of the indexes gets exercised */
	for (seed = 1; seed <= 300; seed++)
		assert_int_equal(run_seed(seed, 1 + seed % 40, 30, 300, seed % 3 == 0), 0);
}

static void test_differential_large(void **state)
{
	/* thousands of rules: long lists, deep tries, shared lists */
	assert_int_equal(run_seed(1001, 2000, 30, 20000, false), 0);
	assert_int_equal(run_seed(1002, 5000, 50, 20000, true), 0);
	assert_int_equal(run_seed(1003, 3000, 0, 20000, false), 0);
	assert_int_equal(run_seed(1004, 3000, 100, 20000, false), 0);
}

/* Build a ruleset of one rule from parts, the way a test wants it. */
static void one_rule(struct moat_ruleset *rs, struct moat_rule *r)
{
	memset(rs, 0, sizeof(*rs));
	rs->policy = MOAT_DROP;
	rs->rules = r;
	rs->nrules = 1;
}

static void test_terms_per_rule_limit(void **state)
{
	/* 300 x 300 sources and destinations: 90,000 terms, over 65,536 */
	struct moat_prefix *src = calloc(300, sizeof(*src)), *dst = calloc(300, sizeof(*dst));
	struct moat_rule r = { .name = "wide", .line = 3, .col = 1 };
	struct moat_ruleset rs;
	struct moat_diags d = { 0 };
	struct moat_image img;
	int i;

	for (i = 0; i < 300; i++) {
		src[i].family = dst[i].family = 2; /* AF_INET */
		src[i].len = dst[i].len = 32;
		src[i].addr[0] = 10;
		src[i].addr[2] = (uint8_t)(i >> 8);
		src[i].addr[3] = (uint8_t)i;
		dst[i].addr[0] = 192;
		dst[i].addr[3] = (uint8_t)i;
		dst[i].addr[2] = (uint8_t)(i >> 8);
	}
	r.src.v = src;
	r.src.n = 300;
	r.dst.v = dst;
	r.dst.n = 300;
	one_rule(&rs, &r);
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), -EINVAL);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.v[0].line, 3);
	assert_string_equal(d.v[0].msg,
			    "rule expands into 90000 terms, more than 65536 (its lists multiply); split it: 'wide'");
	moat_diags_free(&d);
	free(src);
	free(dst);
}

static void test_list_overflow(void **state)
{
	/*
	 * 255 rules each taking one protocol but TCP, and 45 rules taking TCP
	 * with exact flags: no rule covers another, none names an address or
	 * a port, so all 300 fall into one list, which holds at most 255.
	 */
	struct moat_rule *r = calloc(300, sizeof(*r));
	uint8_t *protos = calloc(300, 1);
	struct moat_ruleset rs = { .policy = MOAT_DROP, .rules = r, .nrules = 300 };
	struct moat_diags d = { 0 };
	struct moat_image img;
	int i, p = 0;

	for (i = 0; i < 300; i++) {
		snprintf(r[i].name, sizeof(r[i].name), "r%d", i);
		r[i].protos.v = &protos[i];
		r[i].protos.n = 1;
		if (i < 255) {
			if (p == 6)
				p++;
			protos[i] = (uint8_t)p++;
			continue;
		}
		protos[i] = 6;
		r[i].tcp_flags_mask = 0xff;
		r[i].tcp_flags_value = (uint8_t)(i - 255);
	}
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), -E2BIG);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.v[0].msg,
			    "over capacity: more than 255 terms constrain no address or port, or none that an index can take");
	moat_diags_free(&d);
	free(protos);
	free(r);
}

/*
 * Classify a TCP frame to @dst from port @sport to @dport against @img
 * and the reference: both must give @rule (RG_NO_RULE: none).
 */
static void expect_tcp_from(const struct moat_image *img, const struct moat_ruleset *rs,
			    int family, const char *dst, uint16_t sport, uint16_t dport,
			    uint32_t rule)
{
	struct moat_frame_spec f = { .family = family, .proto = 6, .sport = sport,
				     .dport = dport, .tcp_flags = 0x02 };
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_ref_verdict v;
	uint32_t want_rule;
	uint64_t m;
	size_t len;

	assert_int_equal(inet_pton(family, dst, f.dst), 1);
	f.src[0] = family == AF_INET ? 192 : 0xfd;
	len = moat_frame_build(&f, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(moat_image_classify(img, buf, len, 0, &m), MOAT_K_CLASSIFY);
	assert_int_equal(m == MOAT_NO_MATCH ? RG_NO_RULE : MOAT_MATCH_RULE(m), rule);
	v = moat_reference_classify(rs, buf, len, NULL);
	assert_int_equal(rg_expect_kind(&v, &want_rule), MOAT_K_CLASSIFY);
	assert_int_equal(want_rule, rule);
}

static void expect_tcp(const struct moat_image *img, const struct moat_ruleset *rs,
		       int family, const char *dst, uint16_t dport, uint32_t rule)
{
	expect_tcp_from(img, rs, family, dst, 40000, dport, rule);
}

static void test_crowded_prefix_spills(void **state)
{
	/*
	 * 300 rules to one IPv4 /16 and 300 to one IPv6 /48, each with a port
	 * of its own: an address weighs more than a port here, so all would
	 * go into one list of the destination trie, which holds at most 255.
	 * The trie leaves them out, and the port index takes them.
	 */
	size_t cap = 600 * 64 + 64, len = 0;
	char *text = malloc(cap);
	struct moat_ruleset rs;
	struct moat_diags d = { 0 };
	struct moat_image img;
	int i;

	len += (size_t)snprintf(text + len, cap - len, "policy allow\n");
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"drop a%d tcp to 10.1.0.0/16 dport %d\n", i, 1000 + i);
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"drop b%d tcp to 2001:db8:1::/48 dport %d\n", i, 1000 + i);
	assert_int_equal(moat_ruleset_parse(text, len, &rs, &d), 0);
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(img.nhome[MOAT_HOME_DST], 0);
	assert_int_equal(img.nhome[MOAT_HOME_DPORT], 600);
	assert_true(img.max_list <= 2);
	for (i = 0; i < 300; i += 7) {
		expect_tcp(&img, &rs, AF_INET, "10.1.2.3", (uint16_t)(1000 + i), (uint32_t)i);
		expect_tcp(&img, &rs, AF_INET6, "2001:db8:1:2::3", (uint16_t)(1000 + i),
			   (uint32_t)(300 + i));
	}
	expect_tcp(&img, &rs, AF_INET, "10.1.2.3", 999, RG_NO_RULE);
	expect_tcp(&img, &rs, AF_INET, "10.2.0.1", 1000, RG_NO_RULE);
	expect_tcp(&img, &rs, AF_INET6, "2001:db8:2::1", 1000, RG_NO_RULE);
	moat_image_free(&img);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	free(text);
}

/*
 * 200 rules to 10.1.0.0/16, each from a source port of its own, and ten
 * hosts inside it: the /16's terms would be copied into each host's list
 * (2,000 copies, over the limit of 1,024), so they go to their next home,
 * the destination port.  With @crowd, 100 more rules already there make
 * port 80 hold 300 terms, more than a list may: the compiler then builds
 * again without the limit, and the /16 keeps them.
 */
static void copies_case(bool crowd)
{
	size_t cap = 320 * 64, len = 0;
	char *text = malloc(cap);
	struct moat_ruleset rs;
	struct moat_diags d = { 0 };
	struct moat_image img;
	char host[32];
	int i;

	len += (size_t)snprintf(text + len, cap - len, "policy allow\n");
	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"drop a%d tcp to 10.1.0.0/16 sport %d dport 80\n",
					i, 1000 + i);
	for (i = 0; i < 10; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"drop h%d tcp to 10.1.%d.1 dport 443\n", i, i);
	for (i = 0; crowd && i < 100; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"drop p%d tcp sport %d dport 80\n", i, 2000 + i);
	assert_int_equal(moat_ruleset_parse(text, len, &rs, &d), 0);
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), 0);
	assert_int_equal(d.nerrors, 0);
	/* 200 to port 80: the a rules, or the p rules (no address: a term in
	 * each family) */
	assert_int_equal(img.nhome[MOAT_HOME_DST], crowd ? 210 : 10);
	assert_int_equal(img.nhome[MOAT_HOME_DPORT], 200);
	assert_true(img.max_list <= (crowd ? 201 : 200));
	/* what the frames get does not change */
	for (i = 0; i < 10; i++) {
		snprintf(host, sizeof(host), "10.1.%d.1", i);
		expect_tcp_from(&img, &rs, AF_INET, host, (uint16_t)(1000 + 17 * i), 80,
				(uint32_t)(17 * i));
		expect_tcp_from(&img, &rs, AF_INET, host, 999, 443, (uint32_t)(200 + i));
		expect_tcp_from(&img, &rs, AF_INET, host, 2000 + (uint16_t)i, 80,
				crowd ? (uint32_t)(210 + i) : RG_NO_RULE);
	}
	expect_tcp_from(&img, &rs, AF_INET, "10.2.0.1", 1000, 80, RG_NO_RULE);
	moat_image_free(&img);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	free(text);
}

static void test_copies_limit(void **state)
{
	copies_case(false);
	copies_case(true);
}

static void test_v6_prefix_weighs_like_v4(void **state)
{
	/*
	 * An IPv6 /32 is filed by an exact port, as an IPv4 /8 or /12 would
	 * be; a /64, like a /24, by its address.  Enough rules that the
	 * family gets indexes.
	 */
	static const char text[] =
		"policy allow\n"
		"drop w0 tcp to 2001:db8::/32 dport 80\n"
		"drop w1 tcp to 2001:db9::/32 dport 81\n"
		"drop w2 tcp to 2001:dba::/32 dport 82\n"
		"drop w3 tcp to 2001:dbb::/32 dport 83\n"
		"drop n0 tcp to 2001:db8:0:1::/64 dport 90\n"
		"drop n1 tcp to 2001:db8:0:2::/64 dport 91\n"
		"drop n2 tcp to 2001:db8:0:3::/64 dport 92\n"
		"drop n3 tcp to 2001:db8:0:4::/64 dport 93\n"
		"drop n4 tcp to 2001:db8:0:5::/64 dport 94\n";
	struct moat_ruleset rs;
	struct moat_diags d = { 0 };
	struct moat_image img;

	assert_int_equal(moat_ruleset_parse(text, sizeof(text) - 1, &rs, &d), 0);
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), 0);
	assert_int_equal(img.layout.nsmall[1], 0);
	assert_int_equal(img.nhome[MOAT_HOME_DPORT], 4);
	assert_int_equal(img.nhome[MOAT_HOME_DST], 5);
	expect_tcp(&img, &rs, AF_INET6, "2001:db8:0:1::9", 90, 4);
	expect_tcp(&img, &rs, AF_INET6, "2001:db8:0:5::9", 94, 8);
	expect_tcp(&img, &rs, AF_INET6, "2001:db8:0:1::9", 80, 0);
	expect_tcp(&img, &rs, AF_INET6, "2001:dbb::1", 83, 3);
	expect_tcp(&img, &rs, AF_INET6, "2001:dbb::1", 84, RG_NO_RULE);
	moat_image_free(&img);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
}

static void test_unprotected_iface_warns(void **state)
{
	struct moat_iface ifc = { .name = "wlan0" };
	struct moat_rule r = { .name = "wifi", .line = 2, .col = 1 };
	struct moat_compile_opts co = { .ifnames = ifnames, .ifindex = ifindexes, .nifaces = 3 };
	struct moat_ruleset rs;
	struct moat_diags d = { 0 };
	struct moat_image img;

	r.ifaces.v = &ifc;
	r.ifaces.n = 1;
	one_rule(&rs, &r);
	assert_int_equal(moat_compile(&rs, &co, &img, &d), 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].severity, MOAT_WARNING);
	assert_string_equal(d.v[0].msg,
			    "interface is not protected here, so this part of the rule can never match: 'wlan0'");
	/* the rule has no term, so nothing but the policy can match */
	assert_int_equal(img.nterms, 0);
	moat_image_free(&img);
	moat_diags_free(&d);
}

static void test_covered_rules_collapse(void **state)
{
	/*
	 * 1,000 host rules under a /16 that a first rule covers: every host
	 * term is covered, so one term is left, and a ruleset that small is
	 * compiled into the program (no index, no list).
	 */
	struct moat_rule *r = calloc(1001, sizeof(*r));
	struct moat_prefix *p = calloc(1001, sizeof(*p));
	struct moat_ruleset rs = { .policy = MOAT_ALLOW, .rules = r, .nrules = 1001 };
	struct moat_diags d = { 0 };
	struct moat_image img;
	int i;

	for (i = 0; i <= 1000; i++) {
		snprintf(r[i].name, sizeof(r[i].name), "h%d", i);
		r[i].action = MOAT_DROP;
		p[i].family = 2;
		p[i].addr[0] = 10;
		p[i].addr[1] = 1;
		p[i].len = i ? 32 : 16;
		p[i].addr[2] = i ? (uint8_t)(i >> 8) : 0;
		p[i].addr[3] = i ? (uint8_t)i : 0;
		r[i].dst.v = &p[i];
		r[i].dst.n = 1;
	}
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), 0);
	assert_int_equal(img.nterms, 1001);
	assert_int_equal(img.layout.nsmall[0], 1);
	assert_int_equal(img.layout.small4[0].rule, 0);
	assert_int_equal(img.nlists, 0);
	assert_int_equal(img.layout.root[0][1], MOAT_ABSENT);
	moat_image_free(&img);
	moat_diags_free(&d);
	free(r);
	free(p);
}

/* Up to MOAT_SMALL_MAX terms live in the program; one more needs indexes. */
static void test_small_threshold(void **state)
{
	struct moat_rule r[MOAT_SMALL_MAX + 1];
	struct moat_range ports[MOAT_SMALL_MAX + 1];
	uint8_t udp = 17;
	struct moat_ruleset rs = { .policy = MOAT_DROP, .rules = r };
	struct moat_diags d = { 0 };
	struct moat_image img;
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i <= MOAT_SMALL_MAX; i++) {
		snprintf(r[i].name, sizeof(r[i].name), "p%zu", i);
		ports[i].lo = ports[i].hi = (uint16_t)(1000 + i);
		r[i].protos.v = &udp;
		r[i].protos.n = 1;
		r[i].dport.v = &ports[i];
		r[i].dport.n = 1;
	}
	rs.nrules = MOAT_SMALL_MAX;
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), 0);
	assert_int_equal(img.layout.nsmall[0], MOAT_SMALL_MAX);
	assert_int_equal(img.nlists, 0);
	moat_image_free(&img);

	rs.nrules = MOAT_SMALL_MAX + 1;
	assert_int_equal(moat_compile(&rs, NULL, &img, &d), 0);
	assert_int_equal(img.layout.nsmall[0], 0);
	/*
	 * nine exact ports in the UDP destination port tables, one list each,
	 * for IPv4 and for IPv6 (the rules name no address, so both)
	 */
	assert_int_not_equal(img.layout.ports[MOAT_PORT_TABLE(0, 1, MOAT_PG_UDP)], MOAT_ABSENT);
	assert_int_not_equal(img.layout.ports[MOAT_PORT_TABLE(1, 1, MOAT_PG_UDP)], MOAT_ABSENT);
	assert_int_equal(img.nlists, 2 * (MOAT_SMALL_MAX + 1));
	moat_image_free(&img);
	moat_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential_small),
		cmocka_unit_test(test_differential_large),
		cmocka_unit_test(test_terms_per_rule_limit),
		cmocka_unit_test(test_list_overflow),
		cmocka_unit_test(test_crowded_prefix_spills),
		cmocka_unit_test(test_v6_prefix_weighs_like_v4),
		cmocka_unit_test(test_copies_limit),
		cmocka_unit_test(test_unprotected_iface_warns),
		cmocka_unit_test(test_covered_rules_collapse),
		cmocka_unit_test(test_small_threshold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
