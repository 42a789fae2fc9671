// SPDX-License-Identifier: GPL-2.0-only
/*
 * The translations of a moat ruleset for the peers, without a kernel:
 *
 *  - golden files (tests/golden/NAME.moat and its translations, on
 *    eth0), whole, for each peer: what a reader checks once by eye and
 *    the test holds still.  MOAT_GOLDEN_UPDATE=1 rewrites those that
 *    exist, for a reader to check again with git diff;
 *  - each field kind, one rule at a time, in each peer's words;
 *  - what iptables and xdp-filter refuse, and why.
 *
 * kt-peers.c loads the same translations into the kernel and holds them
 * to the reference matcher.
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

#include "translate.h"

static const char *golden_dir;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int c;

	if (!f || !out) {
		if (f)
			fclose(f);
		if (out)
			fclose(out);
		free(buf);
		return NULL;
	}
	while ((c = getc(f)) != EOF)
		putc(c, out);
	fclose(f);
	fclose(out);
	return buf;
}

static void parse(const char *text, struct moat_ruleset *rs)
{
	struct moat_diags d = { 0 };
	int ret = moat_ruleset_parse(text, strlen(text), rs, &d);

	if (ret)
		moat_diags_print(&d, "<test>", stderr);
	moat_diags_free(&d);
	assert_int_equal(ret, 0);
}

/* One rule (and policy allow) as a ruleset. */
static void parse_rule(const char *rule, struct moat_ruleset *rs)
{
	char text[512];

	snprintf(text, sizeof(text), "policy allow\ndrop r %s\n", rule);
	parse(text, rs);
}

/* xdp-filter's commands as text, like the others' */
static int xdpf_fn(const struct moat_ruleset *rs, const char *ifname, FILE *f)
{
	struct tr_xdpf x;
	int ret = tr_xdp_filter(rs, &x);

	if (!ret)
		tr_xdpf_print(&x, ifname, f);
	tr_xdpf_free(&x);
	return ret;
}

static const struct {
	const char *ext;
	int (*fn)(const struct moat_ruleset *, const char *, FILE *);
} peers[] = {
	{ "nft-netdev", tr_nft_netdev }, { "nft-sets", tr_nft_sets },
	{ "iptables", tr_iptables },	 { "ip6tables", tr_ip6tables },
	{ "xdp-filter", xdpf_fn },
};

/* The first line where @got and @want part, for the failure message. */
static void report_diff(const char *path, const char *got, const char *want)
{
	const char *g = got, *w = want;
	int line = 1;

	while (*got && *got == *want) {
		if (*got == '\n') {
			line++;
			g = got + 1;
			w = want + 1;
		}
		got++;
		want++;
	}
	fprintf(stderr,
		"%s:%d: translation differs\n  got:  %.*s\n  want: %.*s\n",
		path, line, (int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w);
}

static void golden(const char *name)
{
	bool update = getenv("MOAT_GOLDEN_UPDATE") != NULL;
	char path[512];
	struct moat_ruleset rs;
	char *text;

	snprintf(path, sizeof(path), "%s/%s.moat", golden_dir, name);
	text = slurp(path);
	assert_non_null(text);
	parse(text, &rs);
	free(text);

	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		char *want, *got;

		snprintf(path, sizeof(path), "%s/%s.%s", golden_dir, name,
			 peers[i].ext);
		want = slurp(path);
		if (!want)
			continue; /* no golden for this peer */
		got = tr_to_string(peers[i].fn, &rs, "eth0");
		assert_non_null(got);
		if (update) {
			FILE *f = fopen(path, "w");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		} else if (strcmp(got, want)) {
			report_diff(path, got, want);
			fail();
		}
		free(got);
		free(want);
	}
	moat_ruleset_free(&rs);
}

static void golden_three(void **state)
{
	golden("three");
}

static void golden_runs(void **state)
{
	golden("runs");
}

static void golden_overlap(void **state)
{
	golden("overlap");
}

/*
 * One rule of each field kind: a line each peer must write for it
 * ("" when it writes none: an IPv4 rule has no ip6tables line).  nft
 * lines are those of the main chain, iptables lines those of
 * PREROUTING, each ending in the verdict.
 */
static const struct field_case {
	const char *rule;
	const char *netdev, *sets, *ipt, *ip6t;
} fields[] = {
	{ "tcp dport 22", "tcp dport 22 counter drop",
	  "meta l4proto tcp th dport 22 counter drop",
	  "-p tcp -m tcp --dport 22 -j DROP",
	  "-p tcp -m tcp --dport 22 -j DROP" },
	{ "udp sport 1024-65535 dport 53, 5353",
	  "udp sport 1024-65535 udp dport { 53, 5353 } counter drop",
	  "meta l4proto . th sport . th dport @run1_ports_0 counter drop",
	  "-p udp -m multiport --dports 53,5353 -m udp --sport 1024:65535 -j DROP",
	  "-p udp -m multiport --dports 53,5353 -m udp --sport 1024:65535 -j DROP" },
	{ "sctp from 10.0.0.0/8 sport 1",
	  "ip saddr 10.0.0.0/8 sctp sport 1 counter drop",
	  "ip saddr 10.0.0.0/8 meta l4proto sctp th sport 1 counter drop",
	  "-s 10.0.0.0/8 -p sctp -m sctp --sport 1 -j DROP", "" },
	{ "tcp, udp dport 80",
	  "meta l4proto { tcp, udp } th dport 80 counter drop",
	  "meta l4proto . th dport @run1_ports_0 counter drop",
	  "-p udp -m udp --dport 80 -j DROP",
	  "-p tcp -m tcp --dport 80 -j DROP" },
	{ "proto tcp, 47 to 192.0.2.1",
	  "ip daddr 192.0.2.1 meta l4proto { tcp, 47 } counter drop",
	  "ip daddr . meta l4proto @run1_ip_proto_0 counter drop",
	  "-d 192.0.2.1 -p 47 -j DROP", "" },
	{ "icmp type destination-unreachable code 0-4",
	  "icmp type 3 icmp code 0-4 counter drop",
	  "icmp type 3 icmp code 0-4 counter drop",
	  "-p icmp -m icmp --icmp-type 3/4 -j DROP", "" },
	{ "icmpv6 type echo-request, 129",
	  "icmpv6 type { 128, 129 } counter drop",
	  "icmpv6 type @run1_ip6_icmp_0 counter drop", "",
	  "-p ipv6-icmp -m icmp6 --icmpv6-type 129 -j DROP" },
	{ "tcp flags /rst", "tcp flags & rst == 0 counter drop",
	  "tcp flags & rst == 0 counter drop",
	  "-p tcp -m tcp --tcp-flags RST NONE -j DROP",
	  "-p tcp -m tcp --tcp-flags RST NONE -j DROP" },
	{ "tcp flags syn,ack/syn,ack,fin dport 443",
	  "tcp dport 443 tcp flags & (fin | syn | ack) == (syn | ack) counter drop",
	  "tcp flags & (fin | syn | ack) == (syn | ack) th dport 443 counter drop",
	  "-p tcp -m tcp --dport 443 --tcp-flags FIN,SYN,ACK SYN,ACK -j DROP",
	  "-p tcp -m tcp --dport 443 --tcp-flags FIN,SYN,ACK SYN,ACK -j DROP" },
	{ "from 192.0.2.0/24, 2001:db8::/32",
	  "ip6 saddr 2001:db8::/32 counter drop",
	  "ip6 saddr 2001:db8::/32 counter drop", "-s 192.0.2.0/24 -j DROP",
	  "-s 2001:db8::/32 -j DROP" },
	/* a /0 leaves the version as the only condition */
	{ "from ::/0, 10.0.0.0/8", "meta protocol ip6 counter drop",
	  "meta nfproto ipv6 counter drop", "-s 10.0.0.0/8 -j DROP",
	  "-A PREROUTING -j DROP" },
	{ "icmp, icmpv6", "meta protocol ip meta l4proto icmp counter drop",
	  "meta nfproto ipv6 meta l4proto ipv6-icmp counter drop",
	  "-p icmp -j DROP", "-p ipv6-icmp -j DROP" },
	/* `in' of the peer's interface: no condition; of another: no rule */
	{ "udp dport 9 in eth1, eth0", "udp dport 9 counter drop",
	  "meta l4proto udp th dport 9 counter drop",
	  "-p udp -m udp --dport 9 -j DROP",
	  "-p udp -m udp --dport 9 -j DROP" },
	{ "udp dport 9 in eth1", "", "", "", "" },
	/* 15 multiport slots: a range takes two */
	{ "tcp dport 1-2, 3-4, 5-6, 7-8, 9-10, 11-12, 13-14, 15", "", "",
	  "-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15 -j DROP",
	  "" },
	{ "tcp dport 1-2, 3-4, 5-6, 7-8, 9-10, 11-12, 13-14, 15-16", "", "",
	  "-p tcp -m tcp --dport 15:16 -j DROP", "" },
};

static void expect_line(const char *text, const char *line, const char *what,
			const char *rule)
{
	if (!*line)
		return;
	if (!strstr(text, line)) {
		fprintf(stderr, "%s of `%s' lacks `%s':\n%s", what, rule, line,
			text);
		fail();
	}
}

static void field_kinds(void **state)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field_case *c = &fields[i];
		const char *want[] = { c->netdev, c->sets, c->ipt, c->ip6t };
		struct moat_ruleset rs;

		parse_rule(c->rule, &rs);
		for (size_t p = 0; p < 4; p++) {
			char *text = tr_to_string(peers[p].fn, &rs, "eth0");

			assert_non_null(text);
			expect_line(text, want[p], peers[p].ext, c->rule);
			free(text);
		}
		moat_ruleset_free(&rs);
	}
}

/* A rule on another interface is no rule at all, in every peer. */
static void other_interface(void **state)
{
	struct moat_ruleset rs, none;

	parse_rule("udp dport 9 in eth1", &rs);
	parse("policy allow\n", &none);
	for (size_t p = 0; p < 4; p++) {
		char *text = tr_to_string(peers[p].fn, &rs, "eth0");
		char *empty = tr_to_string(peers[p].fn, &none, "eth0");

		assert_non_null(text);
		assert_non_null(empty);
		assert_string_equal(text, empty);
		free(text);
		free(empty);
	}
	moat_ruleset_free(&rs);
	moat_ruleset_free(&none);
}

/* An interface name is quoted into nft and iptables text: only safe ones. */
static void interface_names(void **state)
{
	static const char *const bad[] = { "", "a\"b", "a b", "a\\b",
					   "sixteen-chars-xx" };
	struct moat_ruleset rs;
	char *text;

	parse_rule("tcp dport 22", &rs);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t p = 0; p < 4; p++) {
			text = tr_to_string(peers[p].fn, &rs, bad[i]);
			assert_null(text);
			assert_int_equal(errno, EINVAL);
		}
	text = tr_to_string(tr_nft_netdev, &rs, "veth-b.10@x");
	assert_non_null(text);
	free(text);
	moat_ruleset_free(&rs);
}

/* Rulesets xdp-filter cannot say, with the words its reason must quote. */
static const struct {
	const char *text;
	const char *reason; /* NULL: it can */
} xdpf_cases[] = {
	{ "policy drop\nallow a tcp dport 22\n", "policy drop" },
	{ "policy allow\nallow a tcp dport 22\ndrop b udp dport 53\n",
	  "'a' allows before 'b' drops" },
	{ "policy allow\ndrop a udp dport 53\nallow b tcp dport 22\n", NULL },
	{ "policy allow\ndrop a from 10.0.0.0/8\n", "not prefixes" },
	{ "policy allow\ndrop a from 10.0.0.1 to 10.0.0.2\n", "one field" },
	{ "policy allow\ndrop a tcp from 10.0.0.1\n", "one field" },
	{ "policy allow\ndrop a tcp sport 1 dport 2\n", "has both" },
	{ "policy allow\ndrop a sctp dport 2\n", "tcp and udp ports only" },
	{ "policy allow\ndrop a tcp\n", "by protocol alone" },
	{ "policy allow\ndrop a icmp type echo-request\n", "tests icmp" },
	{ "policy allow\ndrop a tcp flags syn\n", "tests tcp flags" },
	{ "policy allow\ndrop a tcp dport 22 in eth0\n", "names interfaces" },
	{ "policy allow\ndrop a tcp dport 53\ndrop b udp sport 53\n",
	  "port 53" },
	{ "policy allow\ndrop a tcp dport 53\ndrop b udp dport 53\n"
	  "drop c tcp, udp sport 53\n",
	  NULL },
	{ "policy allow\ndrop a from 192.0.2.1, 2001:db8::1\n"
	  "drop b to 192.0.2.1\ndrop c tcp, udp dport 1-1000\n",
	  NULL },
};

static void xdp_filter_cannot(void **state)
{
	for (size_t i = 0; i < sizeof(xdpf_cases) / sizeof(xdpf_cases[0]);
	     i++) {
		struct moat_ruleset rs;
		const char *why;

		parse(xdpf_cases[i].text, &rs);
		why = tr_xdp_filter_cannot(&rs);
		if (!xdpf_cases[i].reason) {
			if (why)
				fprintf(stderr, "%s: %s\n", xdpf_cases[i].text,
					why);
			assert_null(why);
		} else {
			if (!why || !strstr(why, xdpf_cases[i].reason))
				fprintf(stderr, "%s: %s\n", xdpf_cases[i].text,
					why ? why : "(translatable)");
			assert_non_null(why);
			assert_non_null(strstr(why, xdpf_cases[i].reason));
		}
		moat_ruleset_free(&rs);
	}
}

/* 10,000 addresses of a version fit its map; one more does not. */
static void xdp_filter_map_size(void **state)
{
	for (size_t n = 10000; n <= 10001; n++) {
		struct moat_ruleset rs;
		const char *why;

		parse_rule("from 10.0.0.1", &rs);
		free(rs.rules[0].src.v);
		rs.rules[0].src.v = calloc(n, sizeof(*rs.rules[0].src.v));
		assert_non_null(rs.rules[0].src.v);
		rs.rules[0].src.n = n;
		for (size_t i = 0; i < n; i++)
			rs.rules[0].src.v[i] = (struct moat_prefix){
				.family = AF_INET,
				.len = 32,
				.addr = { 10, 0, (uint8_t)(i >> 8),
					  (uint8_t)i },
			};
		why = tr_xdp_filter_cannot(&rs);
		if (n == 10000)
			assert_null(why);
		else
			assert_non_null(strstr(why, "10000 addresses"));
		moat_ruleset_free(&rs);
	}
}

static void xdp_filter_commands(void **state)
{
	struct moat_ruleset rs;
	char *text;

	/* one entry per port, its directions and protocols merged */
	parse("policy allow\ndrop a tcp dport 53\ndrop b udp dport 53\n"
	      "drop c tcp, udp sport 53\ndrop d udp sport 7-8\n"
	      "allow e tcp dport 1\n",
	      &rs);
	text = tr_to_string(xdpf_fn, &rs, "eth0");
	assert_string_equal(text, "xdp-filter load eth0 -m native -p allow "
				  "-f tcp,udp\n"
				  "xdp-filter port 7 -m src -p udp\n"
				  "xdp-filter port 8 -m src -p udp\n"
				  "xdp-filter port 53 -m src,dst -p tcp,udp\n");
	free(text);
	moat_ruleset_free(&rs);
}

static void iptables_cannot(void **state)
{
	static const struct {
		const char *rule, *reason;
	} cases[] = {
		{ "tcp flags syn/syn,ece", "'r' tests ece or cwr" },
		{ "tcp flags cwr", "'r' tests ece or cwr" },
		{ "proto 0", "'r' names protocol 0" },
		{ "tcp flags syn/syn,ack,urg,psh,rst,fin", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct moat_ruleset rs;
		const char *why;

		parse_rule(cases[i].rule, &rs);
		why = tr_iptables_cannot(&rs);
		if (cases[i].reason) {
			assert_non_null(why);
			assert_non_null(strstr(why, cases[i].reason));
			assert_null(tr_to_string(tr_iptables, &rs, "eth0"));
		} else {
			assert_null(why);
		}
		moat_ruleset_free(&rs);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_three),
		cmocka_unit_test(golden_runs),
		cmocka_unit_test(golden_overlap),
		cmocka_unit_test(field_kinds),
		cmocka_unit_test(other_interface),
		cmocka_unit_test(interface_names),
		cmocka_unit_test(xdp_filter_cannot),
		cmocka_unit_test(xdp_filter_map_size),
		cmocka_unit_test(xdp_filter_commands),
		cmocka_unit_test(iptables_cannot),
	};

	golden_dir = argc > 1 ? argv[1] : "tests/golden";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
