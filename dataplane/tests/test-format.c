// SPDX-License-Identifier: GPL-2.0-only
/*
 * The canonical form: golden outputs for representative inputs, and the
 * two promises of moat_ruleset_format() checked on every valid input of
 * parse-cases.h and on random rulesets: its output parses to an equal
 * ruleset, and formatting that gives the same text again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ruleset.h"
#include "parse-cases.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

#define LIST_EQUAL(a, b)   \
	((a).n == (b).n && \
	 (!(a).n || !memcmp((a).v, (b).v, (a).n * sizeof(*(a).v))))

/* What the rule matches and is called; not where it was written. */
static bool rule_matches_equal(const struct moat_rule *a,
			       const struct moat_rule *b)
{
	return !strcmp(a->name, b->name) && a->action == b->action &&
	       LIST_EQUAL(a->protos, b->protos) && LIST_EQUAL(a->src, b->src) &&
	       LIST_EQUAL(a->dst, b->dst) && LIST_EQUAL(a->sport, b->sport) &&
	       LIST_EQUAL(a->dport, b->dport) &&
	       LIST_EQUAL(a->icmp_type, b->icmp_type) &&
	       LIST_EQUAL(a->icmp_code, b->icmp_code) &&
	       a->tcp_flags_mask == b->tcp_flags_mask &&
	       a->tcp_flags_value == b->tcp_flags_value &&
	       LIST_EQUAL(a->ifaces, b->ifaces);
}

static bool ruleset_equal(const struct moat_ruleset *a,
			  const struct moat_ruleset *b, bool comments)
{
	size_t i;

	if (a->policy != b->policy || a->policy_given != b->policy_given ||
	    a->nrules != b->nrules)
		return false;
	for (i = 0; i < a->nrules; i++) {
		if (!rule_matches_equal(&a->rules[i], &b->rules[i]))
			return false;
		if (comments &&
		    (!str_equal(a->rules[i].comments, b->rules[i].comments) ||
		     !str_equal(a->rules[i].trailing, b->rules[i].trailing)))
			return false;
	}
	return !comments ||
	       (str_equal(a->policy_comments, b->policy_comments) &&
		str_equal(a->policy_trailing, b->policy_trailing) &&
		str_equal(a->tail_comments, b->tail_comments));
}

static char *parse_format(const char *text, struct moat_ruleset *rs)
{
	struct moat_diags d = { 0 };
	char *out;

	if (moat_ruleset_parse(text, strlen(text), rs, &d))
		moat_diags_print(&d, "input", stderr);
	assert_int_equal(d.nerrors, 0);
	moat_diags_free(&d);
	out = moat_ruleset_format(rs);
	assert_non_null(out);
	return out;
}

/*
 * The two promises for one ruleset @rs: its text t1 parses to p1, equal
 * to @rs (down to the comments when @rs was parsed: a hand-built one may
 * hold comments no parser keeps); p1 formats to t1 again; and t1's parse
 * and t2's are equal down to the comments.
 */
static int check_fixed_point(const struct moat_ruleset *rs, bool parsed,
			     const char *what)
{
	struct moat_ruleset p1, p2;
	struct moat_diags d = { 0 };
	char *t1, *t2 = NULL;
	int bad = 0;

	t1 = moat_ruleset_format(rs);
	if (!t1)
		abort();
	if (moat_ruleset_parse(t1, strlen(t1), &p1, &d)) {
		fprintf(stderr, "%s: output does not parse:\n%s\n", what, t1);
		moat_diags_print(&d, "output", stderr);
		bad = 1;
		goto out;
	}
	if (!ruleset_equal(rs, &p1, parsed)) {
		fprintf(stderr, "%s: output parses to another ruleset:\n%s\n",
			what, t1);
		bad = 1;
	}
	t2 = moat_ruleset_format(&p1);
	if (!t2)
		abort(); /* out of memory: nothing to learn from going on */
	if (strcmp(t1, t2)) {
		fprintf(stderr, "%s: not a fixed point:\n%s---\n%s---\n", what,
			t1, t2);
		bad = 1;
	}
	assert_int_equal(moat_ruleset_parse(t2, strlen(t2), &p2, NULL), 0);
	if (!ruleset_equal(&p1, &p2, true)) {
		fprintf(stderr, "%s: comments move between parses:\n%s\n", what,
			t1);
		bad = 1;
	}
	moat_ruleset_free(&p2);
	moat_ruleset_free(&p1);
out:
	moat_diags_free(&d);
	free(t1);
	free(t2);
	return bad;
}

static const struct {
	const char *in, *out;
} golden[] = {
	/* the example of docs/ruleset.md, untidied */
	{ "# web server in the office network\n"
	  "policy drop\n\n"
	  "allow ssh-office tcp   from 203.0.113.0/24,2001:db8::/32 dport 22\n"
	  "allow web tcp dport 80,443\n"
	  "allow dns-replies\tudp sport 53\n"
	  "allow ping icmp type 8\n"
	  "drop bad-nets from 198.51.100.0/24\n",
	  "# web server in the office network\n"
	  "policy drop\n\n"
	  "allow ssh-office  tcp from 203.0.113.0/24, 2001:db8::/32 dport 22\n"
	  "allow web         tcp dport 80, 443\n"
	  "allow dns-replies udp sport 53\n"
	  "allow ping        icmp type echo-request\n"
	  "drop  bad-nets    from 198.51.100.0/24\n" },
	/* the policy goes first, with its comments */
	{ "# a\nallow a\n\n# the policy\npolicy allow # p\n# b\nallow b\n",
	  "# the policy\npolicy allow  # p\n# a\nallow a\n# b\nallow b\n" },
	/* addresses: shortest form, /32 and /128 dropped */
	{ "allow a from 192.0.2.1/32, 2001:DB8:0:0:0:0:0:1/128, 2001:db8:0::/48 to ::FFFF:192.0.2.1, 0.0.0.0/0\n",
	  "allow a from 192.0.2.1, 2001:db8::1, 2001:db8::/48 to ::ffff:192.0.2.1, 0.0.0.0/0\n" },
	/* protocols: names when all have one, 'any' is no field */
	{ "allow a proto 6, 17\nallow b proto 6, 47\nallow c any\nallow d proto 132\n",
	  "allow a tcp, udp\nallow b proto tcp, 47\nallow c\nallow d sctp\n" },
	/* types: names where the protocol has them; ranges lo-hi */
	{ "allow a icmp type 8, 3-4, 0-0, 200, 14\nallow b icmpv6 type 128, 2, 4, 8 code 0-0, 1-255\n",
	  "allow a icmp type echo-request, 3-4, echo-reply, 200, timestamp-reply\n"
	  "allow b icmpv6 type echo-request, packet-too-big, parameter-problem, 8 code 0, 1-255\n" },
	/* ports */
	{ "allow a tcp dport 80-80, 0-65535, 1-2 sport 22\n",
	  "allow a tcp sport 22 dport 80, 0-65535, 1-2\n" },
	/* flags in the fixed order, the mask only when it differs */
	{ "allow a tcp flags ack,syn\nallow b tcp flags syn/ack,syn\n"
	  "allow c tcp flags cwr,fin/fin,cwr\nallow d tcp flags /rst,fin\n",
	  "allow a tcp flags syn,ack\nallow b tcp flags syn/syn,ack\n"
	  "allow c tcp flags fin,cwr\nallow d tcp flags /fin,rst\n" },
	/* fields in the table's order */
	{ "drop a in eth1, eth0 flags syn dport 1 sport 2 to 10.0.0.1 from 10.0.0.2 tcp\n",
	  "drop  a tcp from 10.0.0.2 to 10.0.0.1 sport 2 dport 1 flags syn in eth1, eth0\n" },
	/* the name column: the longest name, at most 24, then one space */
	{ "allow a tcp\nallow abcdefghijklmnopqrstuvwxyz-0123 tcp\nallow abcdefghijklmnopqrstuvwx udp\nallow b\n",
	  "allow a                        tcp\n"
	  "allow abcdefghijklmnopqrstuvwxyz-0123 tcp\n"
	  "allow abcdefghijklmnopqrstuvwx udp\n"
	  "allow b\n" },
	/* comments: runs of blank lines become one, edges none */
	{ "\n\n# top\n\n\n\n# more\n\n\npolicy drop\n\n\n\nallow a # t\n\n\n# end\n\n\n",
	  "# top\n\n# more\n\npolicy drop\n\nallow a  # t\n\n# end\n" },
	/* continuation lines joined; their comments move above the rule */
	{ "allow web tcp dport 80, # http\n"
	  "                    # 8080,\n"
	  "                    443   # https\n",
	  "# http\n# 8080,\nallow web tcp dport 80, 443  # https\n" },
	{ "  # indented comment  \t\r\npolicy\tdrop\r\n",
	  "# indented comment\npolicy drop\n" },
	{ "", "" },
	{ "\n\n\n", "" },
	{ "# only\n", "# only\n" },
};

static void test_golden(void **state)
{
	struct moat_ruleset rs;
	int failures = 0;
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(golden); i++) {
		got = parse_format(golden[i].in, &rs);
		if (strcmp(got, golden[i].out)) {
			fprintf(stderr,
				"golden %zu:\n%s--- expected:\n%s--- got:\n%s---\n",
				i, golden[i].in, golden[i].out, got);
			failures++;
		}
		failures += check_fixed_point(&rs, true, golden[i].in);
		free(got);
		moat_ruleset_free(&rs);
	}
	assert_int_equal(failures, 0);
}

static void test_valid_cases_fixed_point(void **state)
{
	struct moat_ruleset rs;
	int failures = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid_cases); i++) {
		assert_int_equal(moat_ruleset_parse(valid_cases[i].text,
						    strlen(valid_cases[i].text),
						    &rs, NULL),
				 0);
		failures += check_fixed_point(&rs, true, valid_cases[i].text);
		moat_ruleset_free(&rs);
	}
	assert_int_equal(failures, 0);
}

/* ---- random rulesets, built directly in the data model ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: reproducible across libcs, unlike rand() */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32) % n;
}

#define PUSH(l, item)                                                 \
	do {                                                          \
		(l).v = realloc((l).v, ((l).n + 1) * sizeof(*(l).v)); \
		assert_non_null((l).v);                               \
		(l).v[(l).n++] = (item);                              \
	} while (0)

static char *rand_comments(bool trailing)
{
	static const char *const lines[] = {
		"# plain",
		"",
		"#",
		"   # indented",
		"# trailing blanks \t ",
		"no hash",
		"#\tTab",
		"# \xc3\xa9t\xc3\xa9",
		"\t",
		"# a, b # c",
	};
	char buf[512] = "";
	size_t i, n = rnd(4);

	if (!n)
		return NULL;
	if (trailing)
		return strdup(lines[rnd(ARRAY_SIZE(lines))]);
	for (i = 0; i < n; i++) {
		if (i)
			strcat(buf, "\n");
		strcat(buf, lines[rnd(ARRAY_SIZE(lines))]);
	}
	return strdup(buf);
}

static struct moat_prefix rand_prefix(int family)
{
	struct moat_prefix p = { .family = family };
	unsigned int max = family == AF_INET ? 32 : 128, i;

	p.len = rnd(5) ? rnd(max + 1) : max;
	for (i = 0; i < max / 8; i++)
		p.addr[i] = rnd(4) ? rnd(256) : 0;
	for (i = 0; i < max; i++)
		if (i >= p.len)
			p.addr[i / 8] &= ~(0x80 >> (i % 8));
	return p;
}

static struct moat_range rand_range(unsigned int max)
{
	unsigned int a = rnd(max + 1), b = rnd(3) ? a : rnd(max + 1);

	return (struct moat_range){ a < b ? a : b, a < b ? b : a };
}

static void rand_rule(struct moat_rule *r, size_t idx)
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	static const char *const ifs[] = { "eth0",   "eth1", "lo",
					   "br-lan", "wg0",  "eth0.100" };
	unsigned int mode = rnd(6), fams, n, i, k;
	int len;

	memset(r, 0, sizeof(*r));
	r->action = rnd(2) ? MOAT_DROP : MOAT_ALLOW;
	/* unique by the index, varied in length and alphabet by the rest */
	len = snprintf(r->name, sizeof(r->name), "r%zu-", idx);
	for (n = rnd(4) ? rnd(8) : rnd(MOAT_NAME_MAX - len + 1); n; n--)
		r->name[len++] = alnum[rnd(sizeof(alnum) - 1)];

	/* protocols, and the versions they leave: 1 IPv4, 2 IPv6, 3 both */
	fams = 3;
	if (mode == 1 || mode == 5) {
		static const uint8_t ported[] = { 6, 17, 132 };

		for (i = 0, n = mode == 5 ? 1 : 1 + rnd(3); i < n; i++)
			PUSH(r->protos, mode == 5 ? 6 : ported[rnd(3)]);
	} else if (mode == 2 || mode == 3) {
		PUSH(r->protos, mode == 2 ? 1 : 58);
		fams = mode == 2 ? 1 : 2;
	} else if (mode == 4) {
		for (i = 0, n = 1 + rnd(3); i < n; i++) {
			uint8_t p = rnd(256);

			/* icmp and icmpv6 here would narrow the versions */
			PUSH(r->protos, p == 1 || p == 58 ? 47 : p);
		}
	}
	if (fams == 3 && rnd(2))
		fams = 1 + rnd(2);

	/* addresses of the versions left; with both, each list has IPv4 first */
	for (k = 0; k < 2; k++) {
		n = rnd(3) ? 0 : 1 + rnd(3);
		for (i = 0; i < n; i++) {
			int fam = fams == 1 ? AF_INET :
				  fams == 2 ? AF_INET6 :
				  i == 0    ? AF_INET :
				  rnd(2)    ? AF_INET :
					      AF_INET6;

			if (k == 0)
				PUSH(r->src, rand_prefix(fam));
			else
				PUSH(r->dst, rand_prefix(fam));
		}
	}

	if (mode == 1 || mode == 5) {
		for (i = 0, n = rnd(2) ? 0 : 1 + rnd(3); i < n; i++)
			PUSH(r->sport, rand_range(65535));
		for (i = 0, n = rnd(2) ? 0 : 1 + rnd(3); i < n; i++)
			PUSH(r->dport, rand_range(65535));
	}
	if (mode == 2 || mode == 3) {
		for (i = 0, n = rnd(2) ? 0 : 1 + rnd(3); i < n; i++)
			PUSH(r->icmp_type, rand_range(255));
		for (i = 0, n = rnd(2) ? 0 : 1 + rnd(3); i < n; i++)
			PUSH(r->icmp_code, rand_range(255));
	}
	if (mode == 5 && rnd(2)) {
		r->tcp_flags_mask = 1 + rnd(255);
		r->tcp_flags_value = r->tcp_flags_mask & rnd(256);
	}
	for (i = 0, n = rnd(4) ? 0 : 1 + rnd(3); i < n; i++) {
		struct moat_iface ifc = { { 0 } };

		strcpy(ifc.name, ifs[rnd(ARRAY_SIZE(ifs))]);
		PUSH(r->ifaces, ifc);
	}
	r->comments = rand_comments(false);
	r->trailing = rand_comments(true);
}

static void rand_ruleset(struct moat_ruleset *rs)
{
	size_t i;

	memset(rs, 0, sizeof(*rs));
	rs->policy_given = rnd(4) != 0;
	if (rs->policy_given) {
		rs->policy = rnd(2) ? MOAT_DROP : MOAT_ALLOW;
		rs->policy_comments = rand_comments(false);
		rs->policy_trailing = rand_comments(true);
	}
	rs->nrules = rnd(12);
	rs->rules = calloc(rs->nrules ? rs->nrules : 1, sizeof(*rs->rules));
	assert_non_null(rs->rules);
	for (i = 0; i < rs->nrules; i++)
		rand_rule(&rs->rules[i], i);
	rs->tail_comments = rand_comments(false);
}

static void test_random_rulesets(void **state)
{
	struct moat_ruleset rs;
	int failures = 0, i;
	char what[32];

	for (i = 0; i < 5000 && failures < 5; i++) {
		rand_ruleset(&rs);
		snprintf(what, sizeof(what), "random ruleset %d", i);
		failures += check_fixed_point(&rs, false, what);
		moat_ruleset_free(&rs);
	}
	assert_int_equal(failures, 0);
}

/* A hand-built ruleset may hold comments no parser would: they still print as comments. */
static void test_odd_comments(void **state)
{
	struct moat_ruleset rs = { 0 };
	char *out;

	rs.policy_comments = strdup("not a comment\n\n\n\x01 control\n");
	rs.policy_trailing = strdup("two\nlines");
	rs.tail_comments = strdup("\n\n");
	out = moat_ruleset_format(&rs);
	assert_non_null(out);
	/* no policy given: its comments still print, and parse as comments */
	assert_string_equal(out, "# not a comment\n\n# control\n");
	assert_int_equal(check_fixed_point(&rs, false, "odd comments"), 0);
	free(out);

	rs.policy_given = true;
	out = moat_ruleset_format(&rs);
	assert_string_equal(
		out,
		"# not a comment\n\n# control\n\npolicy allow  # two lines\n");
	free(out);
	moat_ruleset_free(&rs);
}

/*
 * A text many times the formatter's buffer, with a comment line longer
 * than the buffer itself: canonical already, so it formats to itself.
 */
static void test_long_text(void **state)
{
	size_t cap = 1 << 20, n = 0, i;
	char *text = malloc(cap), *out;
	struct moat_ruleset rs;

	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "policy drop\n# ");
	for (i = 0; i < 20000; i++)
		text[n++] = (char)('a' + i % 26);
	text[n++] = '\n';
	for (i = 0; i < 3000; i++) {
		n += (size_t)snprintf(text + n, cap - n, "%-5s r%-4zu udp",
				      i % 3 ? "allow" : "drop", i);
		if (i % 2)
			n += (size_t)snprintf(text + n, cap - n,
					      " from 2001:db8::%zx:1, 2001:db8:1::/48 to 2001:db8:2::%zx:2",
					      i, i);
		else
			n += (size_t)snprintf(text + n, cap - n,
					      " from 10.%zu.%zu.0/24, 192.0.2.1 to 192.0.2.%zu",
					      i / 256, i % 256, i % 256);
		n += (size_t)snprintf(text + n, cap - n,
				      " sport 1024-65535 dport %zu  # rule %zu\n", i, i);
	}
	assert_true(n < cap);
	text[n] = '\0';
	assert_int_equal(moat_ruleset_parse(text, n, &rs, NULL), 0);
	out = moat_ruleset_format(&rs);
	assert_non_null(out);
	assert_int_equal(strlen(out), n);
	assert_string_equal(out, text);
	free(out);
	moat_ruleset_free(&rs);
	free(text);
}

/*
 * IPv6 addresses are written by hand: byte for byte what inet_ntop()
 * writes, or the canonical text (and the ruleset's hash) would change.
 * Addresses of many zero groups, runs of every length and place, and the
 * forms glibc writes with a dotted tail (::a.b.c.d, ::ffff:a.b.c.d).
 */
static void test_addr6_as_inet_ntop(void **state)
{
	enum { N = 20000 };
	struct moat_ruleset rs = { 0 };
	char want[INET6_ADDRSTRLEN], *out, *line;
	size_t i;
	int bad = 0;

	rs.nrules = N;
	rs.rules = calloc(N, sizeof(*rs.rules));
	assert_non_null(rs.rules);
	for (i = 0; i < N; i++) {
		struct moat_rule *r = &rs.rules[i];
		struct moat_prefix p = { .family = AF_INET6, .len = 128 };
		unsigned int shape = rnd(8);

		for (int g = 0; g < 8; g++) {
			unsigned int w = rnd(2) ? 0 : rnd(8) ? rnd(65536) : 0xffff;

			if (shape == 0) /* ::ffff:a.b.c.d and its near misses */
				w = g < 5 ? 0 : g == 5 ? (rnd(4) ? 0xffff : rnd(65536)) : w;
			if (shape == 1) /* ::a.b.c.d, and ::0:w, ::w */
				w = g < 6 ? 0 : w;
			p.addr[2 * g] = (uint8_t)(w >> 8);
			p.addr[2 * g + 1] = (uint8_t)w;
		}
		snprintf(r->name, sizeof(r->name), "r%zu", i);
		PUSH(r->src, p);
	}
	out = moat_ruleset_format(&rs);
	assert_non_null(out);
	line = out;
	for (i = 0; i < N && line; i++) {
		char *from = strstr(line, " from "), *nl = strchr(line, '\n');

		assert_non_null(from);
		assert_non_null(nl);
		*nl = '\0';
		assert_non_null(inet_ntop(AF_INET6, rs.rules[i].src.v[0].addr,
					  want, sizeof(want)));
		if (strcmp(from + 6, want) && bad++ < 5)
			fprintf(stderr, "rule %zu: '%s', inet_ntop() '%s'\n", i,
				from + 6, want);
		line = nl + 1;
	}
	assert_int_equal(i, N);
	assert_int_equal(bad, 0);
	free(out);
	moat_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_valid_cases_fixed_point),
		cmocka_unit_test(test_random_rulesets),
		cmocka_unit_test(test_odd_comments),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_addr6_as_inet_ntop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
