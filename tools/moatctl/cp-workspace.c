// SPDX-License-Identifier: GPL-2.0-only
/* moatctl workspace list|create: the organization's workspaces. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl workspace list\n"
		"       moatctl workspace create NAME\n"
		"\n"
		"Workspaces own hosts, tokens, roles and a CA.  'list' shows those the\n"
		"key may read; 'create' needs workspace:create on every workspace ('*').\n"
		"NAME: 1-63 of a-z 0-9 -, not starting with -.\n");
	cp_usage_common(f);
}

static void workspace_row(struct table *t, json_object *o, time_t now)
{
	char created[32];

	cp_time(created, sizeof(created), cp_int(o, "created"));
	table_cell(t, "%s", cp_str(o, "id"));
	table_cell(t, "%s", cp_str(o, "name"));
	table_cell(t, "%s", created);
	table_cell(t, "%s", cp_str(o, "ca_fingerprint"));
}

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	static const char *const heads[] = { "ID", "NAME", "CREATED",
					     "CA-FINGERPRINT" };

	cp_print_table(reply, f, now, "llll", heads, workspace_row, NULL);
}

static void print_created(const struct cp_req *r, json_object *o, FILE *f,
			  time_t now)
{
	fprintf(f, "%-16s %s\n", "id:", cp_str(o, "id"));
	fprintf(f, "%-16s %s\n", "name:", cp_str(o, "name"));
	fprintf(f, "%-16s %s\n",
		"ca fingerprint:", cp_str(o, "ca_fingerprint"));
}

int cp_parse_workspace(struct moatctl *g, int argc, char **argv,
		       struct cp_req *r)
{
	static const char *const subs[] = { "list", "create", NULL };
	int ret = EXIT_OK, sub;

	sub = cp_subcommand("workspace", subs, &argc, &argv, usage, &ret);
	if (sub < 0)
		return ret;
	ret = cp_parse_plain(g, argc, argv, "workspace", sub, "NAME", usage);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (sub == 0) {
		cp_req_set(r, "GET", false, print_list, "/v1/workspaces");
		return EXIT_OK;
	}
	if (!cp_workspace_valid(argv[optind]))
		return usage_error(
			"workspace",
			"bad workspace name '%s' (1-63 of a-z 0-9 -, not starting with -)",
			argv[optind]);
	r->body = json_object_new_object();
	json_object_object_add(r->body, "name",
			       json_object_new_string(argv[optind]));
	cp_req_set(r, "POST", false, print_created, "/v1/workspaces");
	return EXIT_OK;
}

int cmd_workspace(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_workspace);
}
