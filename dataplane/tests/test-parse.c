// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ruleset parser, table-driven: valid texts and the data model they
 * must give (parse-cases.h), invalid texts and the exact diagnostics they
 * must give, one table row each, so that every error class of
 * docs/ruleset.md ("What is checked") has a line that pins its message
 * and its position.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ruleset.h"
#include "parse-cases.h"
#include "parse-errors.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the dump of parse-cases.h ---- */

static void dump_ranges(FILE *f, const char *key, const struct moat_range *v,
			size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, " %s=", key);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s%u", i ? "," : "", v[i].lo);
		if (v[i].hi != v[i].lo)
			fprintf(f, "-%u", v[i].hi);
	}
}

static void dump_prefixes(FILE *f, const char *key, const struct moat_prefix *v,
			  size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	if (!n)
		return;
	fprintf(f, " %s=", key);
	for (i = 0; i < n; i++) {
		inet_ntop(v[i].family, v[i].addr, buf, sizeof(buf));
		fprintf(f, "%s%s/%u", i ? "," : "", buf, v[i].len);
	}
}

static void dump_text(FILE *f, const char *key, const char *s)
{
	if (!s)
		return;
	fprintf(f, " %s=[", key);
	for (; *s; s++)
		fputc(*s == '\n' ? '|' : *s, f);
	fputc(']', f);
}

static char *dump(const struct moat_ruleset *rs)
{
	char *buf = NULL;
	size_t size = 0, i, j;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	fprintf(f, "policy=%s",
		!rs->policy_given	? "none" :
		rs->policy == MOAT_DROP ? "drop" :
					  "allow");
	if (rs->mode_given)
		fprintf(f, " mode=%s", rs->audit ? "audit" : "enforce");
	if (rs->established_given)
		fprintf(f, " est=%s",
			rs->established_classify ? "classify" : "allow");
	for (i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];

		fprintf(f, "; %s %s", r->action == MOAT_DROP ? "drop" : "allow",
			r->name);
		for (j = 0; j < r->protos.n; j++)
			fprintf(f, "%s%u", j ? "," : " p=", r->protos.v[j]);
		dump_prefixes(f, "src", r->src.v, r->src.n);
		dump_prefixes(f, "dst", r->dst.v, r->dst.n);
		dump_ranges(f, "sp", r->sport.v, r->sport.n);
		dump_ranges(f, "dp", r->dport.v, r->dport.n);
		dump_ranges(f, "ty", r->icmp_type.v, r->icmp_type.n);
		dump_ranges(f, "co", r->icmp_code.v, r->icmp_code.n);
		if (r->tcp_flags_mask)
			fprintf(f, " fl=%02x/%02x", r->tcp_flags_value,
				r->tcp_flags_mask);
		for (j = 0; j < r->ifaces.n; j++)
			fprintf(f, "%s%s",
				j ? "," : " in=", r->ifaces.v[j].name);
		if (r->ct)
			fprintf(f, " ct=%x", r->ct);
		if (r->limit.rate)
			fprintf(f, " lim=%llu/%u%s bu=%llu%s%s",
				(unsigned long long)r->limit.rate, r->limit.period_s,
				r->limit.bytes ? "B" : "",
				(unsigned long long)r->limit.burst,
				r->limit.per_source ? " ps" : "",
				r->limit.over_allow ? " oa" : "");
		if (r->audit)
			fprintf(f, " audit");
		if (r->log_every)
			fprintf(f, " log=%u", r->log_every);
		dump_text(f, "c", r->comments);
		dump_text(f, "t", r->trailing);
	}
	dump_text(f, "pc", rs->policy_comments);
	dump_text(f, "pt", rs->policy_trailing);
	dump_text(f, "ec", rs->established_comments);
	dump_text(f, "et", rs->established_trailing);
	dump_text(f, "tail", rs->tail_comments);
	fclose(f);
	return buf;
}

/* Every diag as moat_diags_print() puts it, for the file "t". */
static char *diags_text(const struct moat_diags *d)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	moat_diags_print(d, "t", f);
	fclose(f);
	return buf;
}

static bool ruleset_is_empty(const struct moat_ruleset *rs)
{
	static const struct moat_ruleset zero;

	return !memcmp(rs, &zero, sizeof(zero));
}

static void test_valid(void **state)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	int failures = 0, ret;
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];

		ret = moat_ruleset_parse(c->text, strlen(c->text), &rs, &d);
		got = ret ? diags_text(&d) : dump(&rs);
		if (ret || strcmp(got, c->dump)) {
			fprintf(stderr,
				"valid case %zu: %s\n  expected: %s\n  got:      %s\n",
				i, c->text, c->dump, got);
			failures++;
		}
		free(got);
		moat_ruleset_free(&rs);
		moat_diags_free(&d);
	}
	assert_int_equal(failures, 0);
}

static void test_invalid(void **state)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	int failures = 0, ret;
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		memset(&rs, 0xa5, sizeof(rs)); /* must come back zeroed */
		ret = moat_ruleset_parse(c->text, strlen(c->text), &rs, &d);
		got = diags_text(&d);
		if (ret != -EINVAL || strcmp(got, c->diags) ||
		    !ruleset_is_empty(&rs)) {
			fprintf(stderr,
				"invalid case %zu: %s\n  expected: %s  got (%d): %s\n",
				i, c->text, c->diags, ret, got);
			failures++;
		}
		free(got);
		moat_ruleset_free(&rs);
		moat_diags_free(&d);
	}
	assert_int_equal(failures, 0);
	/* docs/ruleset.md's "What is checked" has 6 classes; 60+ rows pin them */
	assert_true(ARRAY_SIZE(invalid_cases) >= 60);
}

/* Parse @text (of @len bytes); the diags as text, and the return code. */
static char *parse_diags(const char *text, size_t len, int *ret)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	char *got;

	*ret = moat_ruleset_parse(text, len, &rs, &d);
	got = diags_text(&d);
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
	return got;
}

static void test_nul_byte(void **state)
{
	static const char text[] = "allow a\0 tcp";
	char *got;
	int ret;

	got = parse_diags(text, sizeof(text) - 1, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(
		got,
		"t:1:8: error: invalid character, expected text: '\\x00'\n");
	free(got);
}

/* Several bad lines: each reported, good lines between them still read. */
static void test_several_errors(void **state)
{
	static const char text[] = "policy drop\n"
				   "allow a tcp dport 99999\n"
				   "allow b tcp dport 22\n"
				   "allow c from 10.0.0.1/8\n"
				   "allow b udp\n"
				   "allow d tcp flags syn\n"
				   "allow e icmp dport 1\n";
	char *got;
	int ret;

	got = parse_diags(text, sizeof(text) - 1, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(
		got,
		"t:2:19: error: port out of range, expected 0-65535: '99999'\n"
		"t:4:14: error: host bits set in prefix (did you mean 10.0.0.0/8?): '10.0.0.1/8'\n"
		"t:5:7: error: duplicate rule name (first on line 3): 'b'\n"
		"t:7:14: error: ports need every protocol of the rule to have ports, and icmp has none: 'dport'\n");
	free(got);
}

/* The parser stops after MOAT_DIAGS_MAX_ERRORS, and says so. */
static void test_error_cap(void **state)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	char *text = NULL, *got;
	size_t size = 0, i;
	FILE *f = open_memstream(&text, &size);

	for (i = 0; i < 3 * MOAT_DIAGS_MAX_ERRORS; i++)
		fprintf(f, "allow r%zu tcp dport 70000\n", i);
	fclose(f);
	assert_int_equal(moat_ruleset_parse(text, size, &rs, &d), -EINVAL);
	assert_int_equal(d.n, MOAT_DIAGS_MAX_ERRORS);
	/* one more than kept: it is how the parser knew to stop */
	assert_int_equal(d.nerrors, MOAT_DIAGS_MAX_ERRORS + 1);
	got = diags_text(&d);
	assert_non_null(strstr(got, "t:20:21: error: port out of range"));
	assert_null(strstr(got, "t:21:"));
	assert_non_null(strstr(
		got,
		"t: note: too many errors, only the first 20 are shown\n"));
	assert_true(ruleset_is_empty(&rs));
	free(got);
	free(text);
	moat_diags_free(&d);
}

/* An error anywhere, even after many good rules, leaves nothing behind. */
static void test_error_leaves_out_empty(void **state)
{
	static const char text[] = "# c\npolicy drop # p\n"
				   "allow a tcp from 10.0.0.0/8 dport 22 # t\n"
				   "allow b udp\n"
				   "allow c sctp dport 1, 2, 3 in eth0\n"
				   "allow d tcp flags syn/syn,ack\n"
				   "allow e\n# tail\n"
				   "allow f tcp dport 1-0\n";
	struct moat_ruleset rs;

	memset(&rs, 0x5a, sizeof(rs));
	assert_int_equal(moat_ruleset_parse(text, sizeof(text) - 1, &rs, NULL),
			 -EINVAL);
	assert_true(ruleset_is_empty(&rs));
	moat_ruleset_free(&rs);
}

static void test_warnings_do_not_fail(void **state)
{
	static const char text[] =
		"allow a icmp, icmpv6, tcp from 10.0.0.0/8, 192.0.2.1\n"
		"allow b from 2001:db8::/32, 10.0.0.0/8 to ::1\n";
	char *got;
	int ret;

	got = parse_diags(text, sizeof(text) - 1, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(
		got,
		"t:1:15: warning: list item can never match, the rule is IPv4 only: 'icmpv6'\n"
		"t:2:29: warning: list item can never match, the rule is IPv6 only: '10.0.0.0/8'\n"
		"t: warning: no policy line, so the default policy is allow (add 'policy allow' or 'policy drop')\n");
	free(got);

	/* with a policy, and no item left out: no diag at all */
	got = parse_diags("policy drop\nallow a tcp\n", 24, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(got, "");
	free(got);
}

/* Comments land where the formatter will look for them. */
static void test_comments(void **state)
{
	static const char text[] = "# about the policy\n"
				   "policy drop   # trailing, blanks cut   \n"
				   "\n\n\n"
				   "# about a\n"
				   "  # indented\n"
				   "allow a tcp dport 80, # moved above\n"
				   "  443 # on a's last line\n"
				   "# the end\n\n";
	struct moat_ruleset rs;

	assert_int_equal(moat_ruleset_parse(text, sizeof(text) - 1, &rs, NULL),
			 0);
	assert_string_equal(rs.policy_comments, "# about the policy");
	assert_string_equal(rs.policy_trailing, "# trailing, blanks cut");
	assert_int_equal(rs.nrules, 1);
	/* three blank lines are one; the comment of the continued line moves up */
	assert_string_equal(rs.rules[0].comments,
			    "\n# about a\n# indented\n# moved above");
	assert_string_equal(rs.rules[0].trailing, "# on a's last line");
	assert_string_equal(rs.tail_comments, "# the end");
	assert_int_equal(rs.rules[0].line, 8);
	assert_int_equal(rs.rules[0].col, 1);
	moat_ruleset_free(&rs);
}

/* MOAT_RULES_MAX rules parse; one more is an error at the rule too many. */
static void test_rule_limit(void **state)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	char *text = NULL, *got, want[128];
	size_t size = 0, i;
	FILE *f = open_memstream(&text, &size);

	fputs("policy drop\n", f);
	for (i = 0; i < MOAT_RULES_MAX; i++)
		fprintf(f, "allow r%zu\n", i);
	fclose(f);
	assert_int_equal(moat_ruleset_parse(text, size, &rs, &d), 0);
	assert_int_equal(rs.nrules, MOAT_RULES_MAX);
	assert_int_equal(d.n, 0);
	moat_ruleset_free(&rs);
	free(text);

	text = NULL;
	f = open_memstream(&text, &size);
	fputs("policy drop\n", f);
	for (i = 0; i <= MOAT_RULES_MAX + 1; i++)
		fprintf(f, "allow r%zu\n", i);
	fclose(f);
	assert_int_equal(moat_ruleset_parse(text, size, &rs, &d), -EINVAL);
	assert_true(ruleset_is_empty(&rs));
	got = diags_text(&d);
	/* only the first rule too many is reported: the rest add nothing */
	snprintf(want, sizeof(want),
		 "t:%u:7: error: too many rules, expected at most %u: 'r%u'\n",
		 MOAT_RULES_MAX + 2, MOAT_RULES_MAX, MOAT_RULES_MAX);
	assert_string_equal(got, want);
	free(got);
	free(text);
	moat_diags_free(&d);
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/test-parse-XXXXXX";
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	int fd;

	assert_int_equal(
		moat_ruleset_parse_file("/nonexistent/moat.rules", &rs, &d),
		-ENOENT);
	assert_true(ruleset_is_empty(&rs));
	assert_int_equal(d.n, 0);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "policy drop\nallow a tcp\n", 24), 24);
	close(fd);
	assert_int_equal(moat_ruleset_parse_file(path, &rs, &d), 0);
	assert_int_equal(rs.nrules, 1);
	assert_int_equal(rs.policy, MOAT_DROP);
	moat_ruleset_free(&rs);
	unlink(path);
}

static void test_diag_print(void **state)
{
	struct moat_diags d = { 0 };
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	assert_int_equal(moat_diag_add(&d, MOAT_ERROR, 3, 7, "bad %s: '%s'",
				       "thing", "x"),
			 -EINVAL);
	assert_int_equal(moat_diag_add(&d, MOAT_WARNING, 0, 0, "whole file"),
			 0);
	assert_int_equal(moat_diag_add(NULL, MOAT_ERROR, 1, 1, "nowhere"),
			 -EINVAL);
	assert_int_equal(d.nerrors, 1);
	f = open_memstream(&buf, &size);
	moat_diags_print(&d, "f.rules", f);
	moat_diags_print(&d, NULL, f);
	fclose(f);
	assert_string_equal(buf, "f.rules:3:7: error: bad thing: 'x'\n"
				 "f.rules: warning: whole file\n"
				 "3:7: error: bad thing: 'x'\n"
				 "warning: whole file\n");
	free(buf);
	moat_diags_free(&d);
	assert_null(d.v);
	assert_int_equal(d.n, 0);
}

static void test_proto_names(void **state)
{
	assert_string_equal(moat_proto_name(6), "tcp");
	assert_string_equal(moat_proto_name(17), "udp");
	assert_string_equal(moat_proto_name(132), "sctp");
	assert_string_equal(moat_proto_name(1), "icmp");
	assert_string_equal(moat_proto_name(58), "icmpv6");
	assert_null(moat_proto_name(47));
	assert_null(moat_proto_name(0));
	assert_int_equal(moat_proto_lookup("tcp"), 6);
	assert_int_equal(moat_proto_lookup("icmpv6"), 58);
	assert_int_equal(moat_proto_lookup("gre"), -1);
	assert_int_equal(moat_proto_lookup("TCP"), -1);
	assert_int_equal(moat_proto_lookup("any"), -1);
	assert_true(moat_proto_has_ports(6));
	assert_true(moat_proto_has_ports(17));
	assert_true(moat_proto_has_ports(132));
	assert_false(moat_proto_has_ports(1));
	assert_false(moat_proto_has_ports(58));
	assert_false(moat_proto_has_ports(47));
}

static void test_icmp_type_names(void **state)
{
	static const struct {
		const char *name;
		int v4, v6;
	} types[] = {
		{ "echo-reply", 0, 129 },
		{ "destination-unreachable", 3, 1 },
		{ "source-quench", 4, -1 },
		{ "redirect", 5, 137 },
		{ "echo-request", 8, 128 },
		{ "router-advertisement", 9, 134 },
		{ "router-solicitation", 10, 133 },
		{ "time-exceeded", 11, 3 },
		{ "parameter-problem", 12, 4 },
		{ "timestamp-request", 13, -1 },
		{ "timestamp-reply", 14, -1 },
		{ "packet-too-big", -1, 2 },
		{ "neighbour-solicitation", -1, 135 },
		{ "neighbour-advertisement", -1, 136 },
		{ "mld-query", -1, 130 },
		{ "mld-report", -1, 131 },
		{ "mld-done", -1, 132 },
		{ "mld2-report", -1, 143 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		assert_int_equal(moat_icmp_type_lookup(AF_INET, types[i].name),
				 types[i].v4);
		assert_int_equal(moat_icmp_type_lookup(AF_INET6, types[i].name),
				 types[i].v6);
		if (types[i].v4 >= 0)
			assert_string_equal(
				moat_icmp_type_name(AF_INET, types[i].v4),
				types[i].name);
		if (types[i].v6 >= 0)
			assert_string_equal(
				moat_icmp_type_name(AF_INET6, types[i].v6),
				types[i].name);
	}
	assert_int_equal(
		moat_icmp_type_lookup(AF_INET, "neighbor-solicitation"), -1);
	assert_null(moat_icmp_type_name(AF_INET, 135));
	assert_null(moat_icmp_type_name(AF_INET6, 8));
	assert_null(moat_icmp_type_name(AF_INET6, 255));
	assert_null(moat_icmp_type_name(0, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_error_leaves_out_empty),
		cmocka_unit_test(test_warnings_do_not_fail),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_rule_limit),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_diag_print),
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_icmp_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
