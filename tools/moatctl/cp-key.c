// SPDX-License-Identifier: GPL-2.0-only
/* moatctl key list|create|revoke, and whoami: API keys and their roles. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl key list\n"
		"       moatctl key create --user NAME --role [WS:]ROLE...\n"
		"       moatctl key revoke ID\n"
		"\n"
		"API keys, each of a user, bound to roles in workspaces.  'create'\n"
		"prints the key once: the control plane keeps only its hash.\n"
		"\n"
		"  --user NAME        the user the key is for (made if new)\n"
		"  --role [WS:]ROLE   bind ROLE in workspace WS (default: -w's); WS '*'\n"
		"                     is every workspace, now and later.  Repeat for more\n");
	cp_usage_common(f);
}

static void usage_whoami(FILE *f)
{
	fprintf(f, "Usage: moatctl whoami\n"
		   "\n"
		   "The API key's id, its user and its role bindings.\n");
	cp_usage_common(f);
}

static json_object *bindings_of(json_object *o)
{
	json_object *b = NULL;

	if (o)
		json_object_object_get_ex(o, "bindings", &b);
	return b;
}

static void key_row(struct table *t, json_object *o, time_t now)
{
	char created[32], b[512];

	cp_time(created, sizeof(created), cp_int(o, "created"));
	cp_bindings(b, sizeof(b), bindings_of(o));
	table_cell(t, "%s", cp_str(o, "id"));
	table_cell(t, "%s", cp_str(o, "user"));
	table_cell(t, "%s", created);
	table_cell(t, "%s", cp_bool(o, "revoked") ? "yes" : "no");
	table_cell(t, "%s", b);
}

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	static const char *const heads[] = { "ID", "USER", "CREATED", "REVOKED",
					     "BINDINGS" };

	cp_print_table(reply, f, now, "lllll", heads, key_row, NULL);
}

static void print_key(const struct cp_req *r, json_object *o, FILE *f,
		      time_t now)
{
	json_object *secret;
	char b[1024];

	cp_bindings(b, sizeof(b), bindings_of(o));
	fprintf(f, "%-12s %s\n", "id:", cp_str(o, "id"));
	fprintf(f, "%-12s %s\n", "user:", cp_str(o, "user"));
	fprintf(f, "%-12s %s\n", "bindings:", b);
	if (cp_bool(o, "revoked"))
		fprintf(f, "%-12s yes\n", "revoked:");
	if (json_object_object_get_ex(o, "key", &secret))
		cp_print_secret(f, "key", json_object_get_string(secret));
}

static void print_whoami(const struct cp_req *r, json_object *o, FILE *f,
			 time_t now)
{
	char b[1024];

	cp_bindings(b, sizeof(b), bindings_of(o));
	fprintf(f, "%-12s %s\n", "key:", cp_str(o, "key_id"));
	fprintf(f, "%-12s %s\n", "user:", cp_str(o, "user"));
	fprintf(f, "%-12s %s\n", "bindings:", b);
}

static void print_revoked(const struct cp_req *r, json_object *o, FILE *f,
			  time_t now)
{
	fprintf(f, "key %s revoked\n", r->arg);
}

/* "[WS:]ROLE" into a binding; WS defaults to the one in use. */
static int add_binding(json_object *list, const char *text, const char *ws)
{
	const char *colon = strchr(text, ':');
	const char *role = colon ? colon + 1 : text;
	char w[64];
	json_object *b;

	if (colon) {
		if ((size_t)(colon - text) >= sizeof(w))
			return -1;
		memcpy(w, text, (size_t)(colon - text));
		w[colon - text] = '\0';
		ws = w;
	}
	/* "": the workspace of the settings, filled in by fill_workspace() */
	if (!cp_name_valid(role) ||
	    (*ws && strcmp(ws, "*") && !cp_workspace_valid(ws)))
		return -1;
	b = json_object_new_object();
	json_object_object_add(b, "workspace", json_object_new_string(ws));
	json_object_object_add(b, "role", json_object_new_string(role));
	json_object_array_add(list, b);
	return 0;
}

/* A bare ROLE is bound in the workspace in use, known once settings are. */
static int fill_workspace(struct cp_req *r, const struct cp_settings *s)
{
	json_object *list = bindings_of(r->body);

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *b = json_object_array_get_idx(list, i);

		if (!strcmp(cp_str(b, "workspace"), "-"))
			json_object_object_add(
				b, "workspace",
				json_object_new_string(s->workspace));
	}
	return EXIT_OK;
}

static int parse_create(struct moatctl *g, int argc, char **argv,
			struct cp_req *r)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		CP_OPTIONS,
		{ 0 },
	};
	const char *user = NULL, *roles[32];
	json_object *list;
	int ch, n = 0;

	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		if (ch == 'u') {
			user = optarg;
		} else if (ch == 'r') {
			if (n == (int)(sizeof(roles) / sizeof(roles[0])))
				return usage_error("key",
						   "more than 32 --role");
			roles[n++] = optarg;
		} else if (ch == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else if (!cp_common_opt(g, ch, optarg)) {
			return usage_hint("key");
		}
	}
	if (optind < argc)
		return usage_error("key", "unexpected argument '%s'",
				   argv[optind]);
	if (!user || !n)
		return usage_error("key", "key create needs --user and --role");
	if (!cp_name_valid(user))
		return usage_error(
			"key",
			"bad user name '%s' (1-63 of a-z 0-9 . _ -, starting with a letter or digit)",
			user);
	r->body = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(r->body, "user", json_object_new_string(user));
	json_object_object_add(r->body, "bindings", list);
	for (int i = 0; i < n; i++) {
		if (add_binding(list, roles[i], "") < 0)
			return usage_error(
				"key",
				"bad --role '%s' (expected ROLE, WORKSPACE:ROLE or '*:ROLE')",
				roles[i]);
	}
	cp_req_set(r, "POST", false, print_key, "/v1/keys");
	r->prepare = fill_workspace;
	return EXIT_OK;
}

int cp_parse_key(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	static const char *const subs[] = { "list", "create", "revoke", NULL };
	int ret = EXIT_OK, sub;

	sub = cp_subcommand("key", subs, &argc, &argv, usage, &ret);
	if (sub == 1)
		return parse_create(g, argc, argv, r);
	if (sub < 0)
		return ret;
	ret = cp_parse_plain(g, argc, argv, "key", sub ? 1 : 0, "ID", usage);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (sub == 0) {
		cp_req_set(r, "GET", false, print_list, "/v1/keys");
		return EXIT_OK;
	}
	if (!cp_id_valid(argv[optind]))
		return usage_error(
			"key",
			"bad key id '%s' (as 'key list' shows: k and 10 characters)",
			argv[optind]);
	snprintf(r->arg, sizeof(r->arg), "%s", argv[optind]);
	cp_req_set(r, "DELETE", false, print_revoked, "/v1/keys/%s", r->arg);
	return EXIT_OK;
}

int cmd_key(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_key);
}

int cp_parse_whoami(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	int ret = cp_parse_plain(g, argc, argv, "whoami", 0, "", usage_whoami);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	cp_req_set(r, "GET", false, print_whoami, "/v1/whoami");
	return EXIT_OK;
}

int cmd_whoami(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_whoami);
}
