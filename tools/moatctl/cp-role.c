// SPDX-License-Identifier: GPL-2.0-only
/* moatctl role list|set|delete: the roles of a workspace. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl role list\n"
		"       moatctl role set NAME PERMISSION...\n"
		"       moatctl role delete NAME\n"
		"\n"
		"Roles grant permissions in one workspace; API keys are bound to roles\n"
		"(moatctl key create).  'set' creates the role or replaces its\n"
		"permissions.  The built-in roles admin, operator and viewer cannot be\n"
		"changed.  Permissions: token:create token:read token:revoke host:read\n"
		"host:remove ruleset:write role:read role:admin key:admin audit:read\n"
		"workspace:create workspace:read.\n");
	cp_usage_common(f);
}

/* NOUN:VERB in lowercase; which ones exist is the control plane's call. */
static bool perm_valid(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon || colon == s || !colon[1] || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++) {
		if (p != colon && !(*p >= 'a' && *p <= 'z') && *p != '*')
			return false;
	}
	return true;
}

static void join_perms(char *buf, size_t size, json_object *perms)
{
	size_t len = 0,
	       n = perms && json_object_is_type(perms, json_type_array) ?
			   json_object_array_length(perms) :
			   0;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < n && len < size; i++) {
		const char *p = json_object_get_string(
			json_object_array_get_idx(perms, i));
		int w = snprintf(buf + len, size - len, "%s%s", i ? " " : "",
				 p ? p : "");

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

static void role_row(struct table *t, json_object *o, time_t now)
{
	json_object *perms = NULL;
	char buf[1024];

	json_object_object_get_ex(o, "permissions", &perms);
	join_perms(buf, sizeof(buf), perms);
	table_cell(t, "%s", cp_str(o, "name"));
	table_cell(t, "%s", cp_bool(o, "builtin") ? "yes" : "no");
	table_cell(t, "%s", buf);
}

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	static const char *const heads[] = { "NAME", "BUILTIN", "PERMISSIONS" };

	cp_print_table(reply, f, now, "lll", heads, role_row, NULL);
}

static void print_role(const struct cp_req *r, json_object *o, FILE *f,
		       time_t now)
{
	json_object *perms = NULL;
	char buf[1024];

	json_object_object_get_ex(o, "permissions", &perms);
	join_perms(buf, sizeof(buf), perms);
	fprintf(f, "role %s in workspace %s: %s\n", cp_str(o, "name"),
		r->workspace, buf);
}

static void print_deleted(const struct cp_req *r, json_object *o, FILE *f,
			  time_t now)
{
	fprintf(f, "role %s deleted from workspace %s\n", r->arg, r->workspace);
}

int cp_parse_role(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	static const char *const subs[] = { "list", "set", "delete", NULL };
	static const int nargs[] = { 0, -1, 1 };
	static const char *const words[] = { "", "NAME PERMISSION...", "NAME" };
	json_object *perms;
	int ret = EXIT_OK, sub;

	sub = cp_subcommand("role", subs, &argc, &argv, usage, &ret);
	if (sub < 0)
		return ret;
	ret = cp_parse_plain(g, argc, argv, "role", nargs[sub], words[sub],
			     usage);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (sub == 0) {
		cp_req_set(r, "GET", true, print_list, "/roles");
		return EXIT_OK;
	}
	if (!cp_name_valid(argv[optind]))
		return usage_error(
			"role",
			"bad role name '%s' (1-63 of a-z 0-9 . _ -, starting with a letter or digit)",
			argv[optind]);
	snprintf(r->arg, sizeof(r->arg), "%s", argv[optind]);
	if (sub == 2) {
		cp_req_set(r, "DELETE", true, print_deleted, "/roles/%s",
			   r->arg);
		return EXIT_OK;
	}
	perms = json_object_new_array();
	r->body = json_object_new_object();
	json_object_object_add(r->body, "permissions", perms);
	for (int i = optind + 1; i < argc; i++) {
		if (!perm_valid(argv[i]))
			return usage_error(
				"role", "bad permission '%s' (as token:create)",
				argv[i]);
		json_object_array_add(perms, json_object_new_string(argv[i]));
	}
	cp_req_set(r, "PUT", true, print_role, "/roles/%s", r->arg);
	return EXIT_OK;
}

int cmd_role(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_role);
}
