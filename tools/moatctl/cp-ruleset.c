// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl ruleset push|list|show|versions|counters: the rulesets the
 * control plane keeps, their versions and diffs, and their counters over
 * the fleet.  (ruleset check|fmt|apply act on this host's moatd:
 * ruleset.c hands the control plane's verbs to cmd_cp_ruleset().)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"
#include "file.h"
#include "table.h"

/* what the API takes: a desired state fits the agent channel's frame */
#define RULESET_TEXT_MAX 900000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl ruleset push NAME FILE\n"
		"       moatctl ruleset list\n"
		"       moatctl ruleset show NAME [--version N] [--diff]\n"
		"       moatctl ruleset versions NAME\n"
		"       moatctl ruleset counters NAME [--refresh [--timeout SECONDS]]\n"
		"\n"
		"Rulesets kept by the control plane, for assignments to hosts (moatctl\n"
		"assign).  'push' makes FILE ('-': standard input) the next version of\n"
		"NAME once the control plane's parser and compiler accept it, and prints\n"
		"the diff against the version before; a refusal prints the parser's\n"
		"FILE:LINE:COL errors.  'show' prints the latest version's text, or\n"
		"version N's; --diff its diff instead.  'counters' sums each rule's\n"
		"packets and bytes over the hosts running a version of NAME, as they\n"
		"last reported; --refresh asks them for fresh counters first and waits\n"
		"for their answers up to --timeout (5 s), naming those that did not.\n"
		"(check, fmt and apply act on this host's moatd: moatctl ruleset\n"
		"check --help.)\n");
	cp_usage_common(f);
}

static const char *const subs[] = { "push",	"list",	    "show",
				    "versions", "counters", NULL };

bool cp_ruleset_verb(const char *word)
{
	for (size_t i = 0; subs[i]; i++)
		if (!strcmp(word, subs[i]))
			return true;
	return false;
}

static void print_diags(json_object *o, FILE *f)
{
	json_object *d;

	if (!o || !json_object_object_get_ex(o, "diagnostics", &d) ||
	    !json_object_is_type(d, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(d); i++)
		fprintf(f, "%s\n",
			json_object_get_string(
				json_object_array_get_idx(d, i)));
}

static void print_pushed(const struct cp_req *r, json_object *o, FILE *f,
			 time_t now)
{
	const char *diff = cp_str(o, "diff");

	print_diags(o, f);
	if (cp_bool(o, "unchanged")) {
		fprintf(f, "ruleset %s: unchanged, still version %lld\n",
			cp_str(o, "name"), (long long)cp_int(o, "version"));
		return;
	}
	fprintf(f, "ruleset %s: version %lld (%lld rules, sha256 %.12s)\n",
		cp_str(o, "name"), (long long)cp_int(o, "version"),
		(long long)cp_int(o, "rules"), cp_str(o, "sha256"));
	if (strcmp(diff, "-"))
		fputs(diff, f);
}

static void version_row(struct table *t, json_object *o, time_t now)
{
	char ago[32];

	cp_ago(ago, sizeof(ago), cp_int(o, "created"), now);
	table_cell(t, "%s", cp_str(o, "name"));
	table_cell(t, "%lld", (long long)cp_int(o, "version"));
	table_cell(t, "%lld", (long long)cp_int(o, "rules"));
	table_cell(t, "%.12s", cp_str(o, "sha256"));
	table_cell(t, "%s", cp_str(o, "author"));
	table_cell(t, "%s", ago);
}

static const char *const version_heads[] = { "NAME",   "VERSION", "RULES",
					     "SHA256", "AUTHOR",  "CREATED" };

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	char empty[128];

	snprintf(empty, sizeof(empty), "no rulesets in workspace %s",
		 r->workspace);
	cp_print_table(reply, f, now, "lrrlll", version_heads, version_row,
		       empty);
}

static void print_versions(const struct cp_req *r, json_object *reply, FILE *f,
			   time_t now)
{
	cp_print_table(reply, f, now, "lrrlll", version_heads, version_row,
		       NULL);
}

static void print_show(const struct cp_req *r, json_object *o, FILE *f,
		       time_t now)
{
	char when[32], ago[32];
	json_object *v;

	cp_time(when, sizeof(when), cp_int(o, "created"));
	cp_ago(ago, sizeof(ago), cp_int(o, "created"), now);
	fprintf(f, "%-9s %s\n", "name:", cp_str(o, "name"));
	fprintf(f, "%-9s %lld\n", "version:", (long long)cp_int(o, "version"));
	fprintf(f, "%-9s %lld\n", "rules:", (long long)cp_int(o, "rules"));
	fprintf(f, "%-9s %s\n", "sha256:", cp_str(o, "sha256"));
	fprintf(f, "%-9s %s\n", "author:", cp_str(o, "author"));
	fprintf(f, "%-9s %s (%s)\n\n", "created:", when, ago);
	/* --diff asked for the diff: the text is in --json */
	if (json_object_object_get_ex(o, "diff", &v))
		fputs(json_object_get_string(v), f);
	else
		fputs(strcmp(cp_str(o, "text"), "-") ? cp_str(o, "text") : "",
		      f);
}

/* "host1 (n), host2 (n)" of a rule's top hosts */
static void top_hosts(char *buf, size_t size, json_object *top)
{
	size_t o = 0, n = top && json_object_is_type(top, json_type_array) ?
				  json_object_array_length(top) :
				  0;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < n && o < size; i++) {
		json_object *h = json_object_array_get_idx(top, i);

		o += (size_t)snprintf(buf + o, size - o, "%s%s (%lld)",
				      i ? ", " : "", cp_str(h, "host_id"),
				      (long long)cp_int(h, "packets"));
	}
}

static void counter_row(struct table *t, json_object *o, time_t now)
{
	json_object *top = NULL;
	char hosts[256];

	json_object_object_get_ex(o, "top", &top);
	top_hosts(hosts, sizeof(hosts), top);
	table_cell(t, "%s", cp_str(o, "name"));
	table_cell(t, "%s", cp_str(o, "action"));
	table_cell(t, "%lld", (long long)cp_int(o, "packets"));
	table_cell(t, "%lld", (long long)cp_int(o, "bytes"));
	table_cell(t, "%s", hosts);
}

/* ", the oldest report 5m00s ago, 1 host asked and not answered" */
static void print_reports(json_object *o, FILE *f, time_t now)
{
	json_object *reports = NULL;
	int64_t oldest = 0, pending = 0;
	char ago[32];

	if (!json_object_object_get_ex(o, "reports", &reports) ||
	    !json_object_is_type(reports, json_type_array))
		reports = NULL;
	for (size_t i = 0; reports && i < json_object_array_length(reports);
	     i++) {
		json_object *h = json_object_array_get_idx(reports, i);
		int64_t t = cp_int(h, "time");

		if (!oldest || t < oldest)
			oldest = t;
		pending += cp_bool(h, "pending");
	}
	if (oldest) {
		cp_ago(ago, sizeof(ago), oldest, now);
		fprintf(f, ", the oldest report %s", ago);
	}
	if (pending)
		fprintf(f, ", %lld asked and not answered", (long long)pending);
	fputc('\n', f);
}

static void print_counters(const struct cp_req *r, json_object *o, FILE *f,
			   time_t now)
{
	static const char *const heads[] = { "RULE", "ACTION", "PACKETS",
					     "BYTES", "TOP-HOSTS" };
	json_object *rules = NULL;
	char empty[200];

	snprintf(empty, sizeof(empty),
		 "no host has reported counters of ruleset %s", r->arg);
	json_object_object_get_ex(o, "rules", &rules);
	fprintf(f, "ruleset %s: %lld hosts reporting", r->arg,
		(long long)cp_int(o, "hosts"));
	print_reports(o, f, now);
	cp_print_table(rules, f, now, "llrrl", heads, counter_row, empty);
}

/* The ruleset name @name into r->arg; else EXIT_USAGE said. */
static int name_arg(struct cp_req *r, const char *name)
{
	if (!cp_workspace_valid(name))
		return usage_error(
			"ruleset",
			"bad ruleset name '%s' (1-63 of a-z 0-9 -, starting with a letter or digit)",
			name);
	snprintf(r->arg, sizeof(r->arg), "%s", name);
	return EXIT_OK;
}

/* push NAME FILE: the body is the file's text. */
static int parse_push(struct moatctl *g, int argc, char **argv,
		      struct cp_req *r)
{
	const char *path;
	char *text = NULL;
	size_t len;
	int ret;

	ret = cp_parse_plain(g, argc, argv, "ruleset", 2, "NAME FILE", usage);
	if (!ret)
		ret = name_arg(r, argv[optind]);
	if (ret)
		return ret;
	path = argv[optind + 1];
	if (!strcmp(path, "-"))
		ret = file_read_fd(STDIN_FILENO, RULESET_TEXT_MAX, &text, &len);
	else
		ret = file_read(path, RULESET_TEXT_MAX, &text, &len);
	if (ret == -EFBIG)
		return fail("%s: larger than %u bytes", path, RULESET_TEXT_MAX);
	if (ret < 0)
		return fail("cannot read %s: %s", path, strerror(-ret));
	r->body = json_object_new_object();
	json_object_object_add(r->body, "text",
			       json_object_new_string_len(text, (int)len));
	free(text);
	cp_req_set(r, "POST", true, print_pushed, "/rulesets/%s", r->arg);
	return EXIT_OK;
}

static int parse_show(struct moatctl *g, int argc, char **argv,
		      struct cp_req *r)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "diff", no_argument, NULL, 'd' },
		CP_OPTIONS,
		{ 0 },
	};
	uint64_t version = 0;
	bool diff = false;
	int ch;

	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			if (!moatctl_uint(optarg, 1, INT64_MAX, &version))
				return usage_error(
					"ruleset show",
					"bad --version '%s' (a number from 1)",
					optarg);
			break;
		case 'd':
			diff = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (!cp_common_opt(g, ch, optarg))
				return usage_hint("ruleset");
		}
	}
	if (optind == argc)
		return usage_error("ruleset show", "missing NAME");
	if (argc - optind > 1)
		return usage_error("ruleset show", "unexpected argument '%s'",
				   argv[optind + 1]);
	if (name_arg(r, argv[optind]))
		return EXIT_USAGE;
	if (version)
		cp_req_set(r, "GET", true, print_show,
			   "/rulesets/%s/versions/%llu%s", r->arg,
			   (unsigned long long)version, diff ? "?diff=1" : "");
	else
		cp_req_set(r, "GET", true, print_show, "/rulesets/%s%s", r->arg,
			   diff ? "?diff=1" : "");
	return EXIT_OK;
}

int cp_parse_ruleset(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	int ret = EXIT_OK, sub;

	sub = cp_subcommand("ruleset", subs, &argc, &argv, usage, &ret);
	if (sub < 0)
		return ret;
	if (sub == 1) {
		ret = cp_parse_plain(g, argc, argv, "ruleset", 0, "", usage);
		if (ret == EXIT_OK)
			cp_req_set(r, "GET", true, print_list, "/rulesets");
		return ret < 0 ? EXIT_OK : ret;
	}
	switch (sub) {
	case 0:
		ret = parse_push(g, argc, argv, r);
		break;
	case 2:
		ret = parse_show(g, argc, argv, r);
		break;
	case 3:
		ret = cp_parse_plain(g, argc, argv, "ruleset", 1, "NAME",
				     usage);
		if (ret == EXIT_OK)
			ret = name_arg(r, argv[optind]);
		if (ret == EXIT_OK)
			cp_req_set(r, "GET", true, print_versions,
				   "/rulesets/%s/versions", r->arg);
		break;
	default:
		ret = cp_parse_counters(g, argc, argv, "ruleset", "NAME", usage,
					r);
		if (ret == EXIT_OK)
			ret = name_arg(r, argv[optind]);
		if (ret == EXIT_OK)
			cp_req_set(r, "GET", true, print_counters,
				   "/rulesets/%s/counters", r->arg);
	}
	return ret < 0 ? EXIT_OK : ret;
}

int cmd_cp_ruleset(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_ruleset);
}
