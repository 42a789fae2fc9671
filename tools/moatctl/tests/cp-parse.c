// SPDX-License-Identifier: GPL-2.0-only
/* The tests' way to run a command line through its parser: cp-parse.h. */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* before cmocka.h, whose fail() macro would rename moatctl's fail() */
#include "cp-parse.h"

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*parse_fn)(struct moatctl *g, int argc, char **argv,
			struct cp_req *r);

static int audit_parse(struct moatctl *g, int argc, char **argv,
		       struct cp_req *r)
{
	bool verify;
	int ret = cp_parse_audit(g, argc, argv, r, &verify);

	/* verify walks pages itself: mark it for the table below */
	if (ret == EXIT_OK && verify)
		r->method = "VERIFY";
	return ret;
}

static const struct {
	const char *name;
	parse_fn parse;
} parsers[] = {
	{ "token", cp_parse_token },
	{ "host", cp_parse_host },
	{ "role", cp_parse_role },
	{ "key", cp_parse_key },
	{ "workspace", cp_parse_workspace },
	{ "whoami", cp_parse_whoami },
	{ "audit", audit_parse },
	{ "ruleset", cp_parse_ruleset },
	{ "assign", cp_parse_assign },
};

int cp_test_parse(const char *line, struct moatctl *g, struct cp_req *r)
{
	/* the words stay until the next call: @g points into them */
	static char *copy;
	char *argv[32], *save = NULL, name[64];
	int argc = 0, ret = -1;

	free(copy);
	copy = strdup(line);
	assert_non_null(copy);
	for (char *w = strtok_r(copy, " ", &save); w && argc < 31;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	memset(r, 0, sizeof(*r));
	memset(g, 0, sizeof(*g));
	snprintf(name, sizeof(name), "moatctl %s", argv[0]);
	for (size_t i = 0; i < N(parsers); i++) {
		if (!strcmp(argv[0], parsers[i].name)) {
			argv[0] = name;
			optind = 0;
			ret = parsers[i].parse(g, argc, argv, r);
		}
	}
	assert_int_not_equal(ret, -1);
	return ret;
}
