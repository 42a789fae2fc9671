// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl assign list|add|set|delete: which hosts get which ruleset.  An
 * assignment binds a ruleset (a version, or the latest) to the hosts a
 * label selector matches, tried by priority, rolled out to a percentage
 * of them and/or listed hosts.  'set' changes only the fields given: the
 * rest are read from the control plane first.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl assign list\n"
		"       moatctl assign add --ruleset NAME [FIELDS]\n"
		"       moatctl assign set ID [FIELDS]\n"
		"       moatctl assign delete ID\n"
		"\n"
		"Fields:\n"
		"  --ruleset NAME     the ruleset (moatctl ruleset list)\n"
		"  --version N        a fixed version; 0 or 'latest' (default): hosts\n"
		"                     follow new versions\n"
		"  --selector K=V,... labels a host must all have; '' (default): every host\n"
		"  --priority N       lower is tried first (default 100)\n"
		"  --mode MODE        enforce (default) or audit: nothing dropped,\n"
		"                     would-drops counted\n"
		"  --percent N        0-100 (default 100): the share of matching hosts\n"
		"                     that get it (by a hash of assignment and host id)\n"
		"  --host ID          a host that gets it whatever its hash (repeat it;\n"
		"                     with --percent 0: only those)\n"
		"\n"
		"A host gets the ruleset of the first assignment, by priority, that\n"
		"matches it and whose rollout includes it.  Every change is pushed at\n"
		"once to the hosts whose desired state it changes.\n");
	cp_usage_common(f);
}

static void assign_row(struct table *t, json_object *o, time_t now)
{
	json_object *hosts = NULL;
	size_t n = 0;

	if (json_object_object_get_ex(o, "hosts", &hosts) &&
	    json_object_is_type(hosts, json_type_array))
		n = json_object_array_length(hosts);
	table_cell(t, "%s", cp_str(o, "id"));
	table_cell(t, "%lld", (long long)cp_int(o, "priority"));
	table_cell(t, "%s", cp_str(o, "ruleset"));
	if (cp_int(o, "version"))
		table_cell(t, "%lld", (long long)cp_int(o, "version"));
	else
		table_cell(t, "latest");
	table_cell(t, "%s", cp_str(o, "mode"));
	table_cell(t, "%lld%%", (long long)cp_int(o, "percent"));
	table_cell(t, "%s", cp_str(o, "selector"));
	table_cell(t, "%zu", n);
}

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	static const char *const heads[] = { "ID",	 "PRIO", "RULESET",
					     "VERSION",	 "MODE", "PERCENT",
					     "SELECTOR", "HOSTS" };
	char empty[128];

	snprintf(empty, sizeof(empty), "no assignments in workspace %s",
		 r->workspace);
	cp_print_table(reply, f, now, "lrlllrlr", heads, assign_row, empty);
}

static void print_assign(const struct cp_req *r, json_object *o, FILE *f,
			 time_t now)
{
	json_object *hosts = NULL;
	size_t n = 0;

	if (json_object_object_get_ex(o, "hosts", &hosts) &&
	    json_object_is_type(hosts, json_type_array))
		n = json_object_array_length(hosts);
	fprintf(f, "%-10s %s\n", "id:", cp_str(o, "id"));
	fprintf(f, "%-10s %s\n", "ruleset:", cp_str(o, "ruleset"));
	if (cp_int(o, "version"))
		fprintf(f, "%-10s %lld\n",
			"version:", (long long)cp_int(o, "version"));
	else
		fprintf(f, "%-10s latest\n", "version:");
	fprintf(f, "%-10s %s\n", "selector:", cp_str(o, "selector"));
	fprintf(f, "%-10s %lld\n",
		"priority:", (long long)cp_int(o, "priority"));
	fprintf(f, "%-10s %s\n", "mode:", cp_str(o, "mode"));
	fprintf(f, "%-10s %lld%%\n",
		"percent:", (long long)cp_int(o, "percent"));
	fprintf(f, "%-10s", "hosts:");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s", i ? "," : "",
			json_object_get_string(
				json_object_array_get_idx(hosts, i)));
	fprintf(f, "%s\n", n ? "" : " -");
}

static void print_deleted(const struct cp_req *r, json_object *o, FILE *f,
			  time_t now)
{
	fprintf(f, "assignment %s deleted from workspace %s\n", r->arg,
		r->workspace);
}

/* set: the fields not given come from the assignment as it is. */
static int fill_current(struct cp_req *r, const struct cp_settings *s)
{
	static const char *const keys[] = { "ruleset",	"version", "selector",
					    "priority", "mode",	   "percent",
					    "hosts" };
	json_object *cur = NULL, *v;
	int ret = cp_get_record(s, "assignments", r->arg, &cur);

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_object_get_ex(r->body, keys[i], NULL) &&
		    json_object_object_get_ex(cur, keys[i], &v))
			json_object_object_add(r->body, keys[i],
					       json_object_get(v));
	json_object_put(cur);
	return EXIT_OK;
}

static int int_flag(json_object *body, const char *flag, const char *key,
		    const char *arg, uint64_t lo, uint64_t hi, const char *what)
{
	uint64_t n;

	if (!moatctl_uint(arg, lo, hi, &n))
		return usage_error("assign", "bad --%s '%s' (%s)", flag, arg,
				   what);
	json_object_object_add(body, key, json_object_new_int64((int64_t)n));
	return EXIT_OK;
}

/* add and set: the flags into r->body. */
static int parse_fields(struct moatctl *g, int argc, char **argv,
			struct cp_req *r)
{
	static const struct option opts[] = {
		{ "ruleset", required_argument, NULL, 'r' },
		{ "version", required_argument, NULL, 'v' },
		{ "selector", required_argument, NULL, 's' },
		{ "priority", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "percent", required_argument, NULL, 'P' },
		{ "host", required_argument, NULL, 'H' },
		CP_OPTIONS,
		{ 0 },
	};
	json_object *hosts = NULL;
	int ch, ret = EXIT_OK;

	r->body = json_object_new_object();
	while (!ret &&
	       (ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (!cp_workspace_valid(optarg))
				return usage_error("assign",
						   "bad --ruleset name '%s'",
						   optarg);
			json_object_object_add(r->body, "ruleset",
					       json_object_new_string(optarg));
			break;
		case 'v':
			ret = int_flag(r->body, "version", "version",
				       strcmp(optarg, "latest") ? optarg : "0",
				       0, INT64_MAX,
				       "a version number, 0 or 'latest'");
			break;
		case 's':
			json_object_object_add(r->body, "selector",
					       json_object_new_string(optarg));
			break;
		case 'p':
			/* negative priorities are the API's; flags keep to 0+ */
			ret = int_flag(r->body, "priority", "priority", optarg,
				       0, 1000000,
				       "a number from 0 to 1000000");
			break;
		case 'm':
			if (strcmp(optarg, "enforce") &&
			    strcmp(optarg, "audit"))
				return usage_error(
					"assign",
					"bad --mode '%s' (enforce or audit)",
					optarg);
			json_object_object_add(r->body, "mode",
					       json_object_new_string(optarg));
			break;
		case 'P':
			ret = int_flag(r->body, "percent", "percent", optarg, 0,
				       100, "a number from 0 to 100");
			break;
		case 'H':
			if (!cp_id_valid(optarg))
				return usage_error(
					"assign", "bad --host id '%s'", optarg);
			if (!hosts) {
				hosts = json_object_new_array();
				json_object_object_add(r->body, "hosts", hosts);
			}
			json_object_array_add(hosts,
					      json_object_new_string(optarg));
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (!cp_common_opt(g, ch, optarg))
				return usage_hint("assign");
		}
	}
	return ret;
}

int cp_parse_assign(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	static const char *const subs[] = { "list", "add", "set", "delete",
					    NULL };
	int ret = EXIT_OK, sub;

	sub = cp_subcommand("assign", subs, &argc, &argv, usage, &ret);
	if (sub < 0)
		return ret;
	if (sub == 0 || sub == 3) {
		ret = cp_parse_plain(g, argc, argv, "assign", sub ? 1 : 0, "ID",
				     usage);
		if (ret)
			return ret < 0 ? EXIT_OK : ret;
		if (sub == 0) {
			cp_req_set(r, "GET", true, print_list, "/assignments");
			return EXIT_OK;
		}
	} else {
		ret = parse_fields(g, argc, argv, r);
		if (ret)
			return ret < 0 ? EXIT_OK : ret;
		if (sub == 1 && argc > optind)
			return usage_error("assign", "unexpected argument '%s'",
					   argv[optind]);
		if (sub == 1 &&
		    !json_object_object_get_ex(r->body, "ruleset", NULL))
			return usage_error("assign", "add: missing --ruleset");
		if (sub == 1) {
			cp_req_set(r, "POST", true, print_assign,
				   "/assignments");
			return EXIT_OK;
		}
		if (argc - optind != 1)
			return usage_error("assign", "set: expected one ID");
	}
	if (!cp_id_valid(argv[optind]))
		return usage_error(
			"assign",
			"bad assignment id '%s' (as 'assign list' shows: a and 10 characters)",
			argv[optind]);
	snprintf(r->arg, sizeof(r->arg), "%s", argv[optind]);
	if (sub == 3) {
		cp_req_set(r, "DELETE", true, print_deleted, "/assignments/%s",
			   r->arg);
	} else {
		cp_req_set(r, "PUT", true, print_assign, "/assignments/%s",
			   r->arg);
		r->prepare = fill_current;
	}
	return EXIT_OK;
}

int cmd_assign(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_assign);
}
