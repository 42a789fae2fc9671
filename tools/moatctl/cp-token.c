// SPDX-License-Identifier: GPL-2.0-only
/* moatctl token create|list|revoke: the install tokens of a workspace. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "duration.h"
#include "table.h"

/* The API's bounds (spec: ttl at most 30 days, uses at most 100000). */
#define TOKEN_TTL_MAX_S (30u * 86400)
#define TOKEN_USES_MAX 100000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl token create [--ttl DUR] [--uses N] [--label K=V]... [--description TEXT]\n"
		"       moatctl token list\n"
		"       moatctl token revoke ID\n"
		"\n"
		"Install tokens let a host enroll into the workspace (moatd --token).\n"
		"'create' prints the token once: the control plane keeps only its hash.\n"
		"Revoking stops new enrollments; hosts that joined stay.\n"
		"\n"
		"  --ttl DUR           lifetime, as 30m, 1h, 7d (default 1h, at most 30d)\n"
		"  --uses N            how many hosts may enroll with it (default 1, at most 100000)\n"
		"  --label K=V         a label the hosts get (repeat for more)\n"
		"  --description TEXT  what it is for, shown by 'token list'\n");
	cp_usage_common(f);
}

int cp_label_parse(const char *text, char *key, size_t keysize,
		   const char **value, const char **why)
{
	const char *eq = strchr(text, '=');
	size_t n = eq ? (size_t)(eq - text) : 0;

	if (!eq) {
		*why = "expected KEY=VALUE";
		return -1;
	}
	if (n < 1 || n > 63 || n >= keysize) {
		*why = "a label key is 1-63 characters";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("._/-", c))) {
			*why = "a label key is letters, digits and . _ / -, starting with a letter or digit";
			return -1;
		}
	}
	if (strlen(eq + 1) > 255) {
		*why = "a label value is at most 255 bytes";
		return -1;
	}
	for (const char *p = eq + 1; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "a label value has no control characters";
			return -1;
		}
	}
	memcpy(key, text, n);
	key[n] = '\0';
	*value = eq + 1;
	return 0;
}

static void token_row(struct table *t, json_object *o, time_t now)
{
	json_object *labels_obj = NULL;
	char exp[32], labels[256];

	json_object_object_get_ex(o, "labels", &labels_obj);
	cp_labels(labels, sizeof(labels), labels_obj);
	cp_ago(exp, sizeof(exp), cp_int(o, "expires"), now);
	table_cell(t, "%s", cp_str(o, "id"));
	table_cell(t, "%s", cp_str(o, "state"));
	table_cell(t, "%lld/%lld", (long long)cp_int(o, "uses"),
		   (long long)cp_int(o, "max_uses"));
	table_cell(t, "%s", exp);
	table_cell(t, "%s", cp_str(o, "created_by"));
	table_cell(t, "%s", labels);
	table_cell(t, "%s", cp_str(o, "description"));
}

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	static const char *const heads[] = { "ID",	   "STATE",
					     "USES",	   "EXPIRES",
					     "CREATED-BY", "LABELS",
					     "DESCRIPTION" };
	char empty[128];

	snprintf(empty, sizeof(empty), "no tokens in workspace %s",
		 r->workspace);
	cp_print_table(reply, f, now, "llrllll", heads, token_row, empty);
}

static void print_token(const struct cp_req *r, json_object *o, FILE *f,
			time_t now)
{
	char when[32], ago[32], labels[512];
	json_object *l = NULL;
	json_object *secret;

	json_object_object_get_ex(o, "labels", &l);
	cp_labels(labels, sizeof(labels), l);
	cp_time(when, sizeof(when), cp_int(o, "expires"));
	cp_ago(ago, sizeof(ago), cp_int(o, "expires"), now);
	fprintf(f, "%-12s %s\n", "id:", cp_str(o, "id"));
	fprintf(f, "%-12s %s\n", "workspace:", r->workspace);
	fprintf(f, "%-12s %s\n", "state:", cp_str(o, "state"));
	fprintf(f, "%-12s %s (%s)\n", "expires:", when, ago);
	fprintf(f, "%-12s %lld of %lld\n",
		"used:", (long long)cp_int(o, "uses"),
		(long long)cp_int(o, "max_uses"));
	fprintf(f, "%-12s %s\n", "labels:", labels);
	fprintf(f, "%-12s %s\n", "description:", cp_str(o, "description"));
	if (json_object_object_get_ex(o, "token", &secret))
		cp_print_secret(f, "token", json_object_get_string(secret));
}

static int parse_create(struct moatctl *g, int argc, char **argv,
			struct cp_req *r)
{
	static const struct option opts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "uses", required_argument, NULL, 'u' },
		{ "label", required_argument, NULL, 'l' },
		{ "description", required_argument, NULL, 'd' },
		CP_OPTIONS,
		{ 0 },
	};
	json_object *labels = json_object_new_object();
	const char *why, *value;
	char key[64];
	uint64_t n;
	int ch, ret;

	r->body = json_object_new_object();
	json_object_object_add(r->body, "labels", labels);
	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			ret = duration_parse(optarg, &n, &why);
			if (!ret && (n < 1 || n > TOKEN_TTL_MAX_S))
				why = "from 1s to 30d", ret = -1;
			if (ret)
				return usage_error("token create",
						   "bad --ttl '%s': %s", optarg,
						   why);
			json_object_object_add(
				r->body, "ttl",
				json_object_new_int64((int64_t)n));
			break;
		case 'u':
			if (!moatctl_uint(optarg, 1, TOKEN_USES_MAX, &n))
				return usage_error(
					"token create",
					"bad --uses '%s' (a number from 1 to 100000)",
					optarg);
			json_object_object_add(
				r->body, "max_uses",
				json_object_new_int64((int64_t)n));
			break;
		case 'l':
			if (cp_label_parse(optarg, key, sizeof(key), &value,
					   &why))
				return usage_error("token create",
						   "bad --label '%s': %s",
						   optarg, why);
			if (json_object_object_get_ex(labels, key, NULL))
				return usage_error("token create",
						   "label '%s' given twice",
						   key);
			json_object_object_add(labels, key,
					       json_object_new_string(value));
			break;
		case 'd':
			json_object_object_add(r->body, "description",
					       json_object_new_string(optarg));
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			if (!cp_common_opt(g, ch, optarg))
				return usage_hint("token");
		}
	}
	if (optind < argc)
		return usage_error("token", "unexpected argument '%s'",
				   argv[optind]);
	cp_req_set(r, "POST", true, print_token, "/tokens");
	return EXIT_OK;
}

int cp_parse_token(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	static const char *const subs[] = { "create", "list", "revoke", NULL };
	int ret = EXIT_OK;

	switch (cp_subcommand("token", subs, &argc, &argv, usage, &ret)) {
	case 0:
		return parse_create(g, argc, argv, r);
	case 1:
		ret = cp_parse_plain(g, argc, argv, "token", 0, "", usage);
		if (ret == EXIT_OK)
			cp_req_set(r, "GET", true, print_list, "/tokens");
		break;
	case 2:
		ret = cp_parse_plain(g, argc, argv, "token", 1, "ID", usage);
		if (ret == EXIT_OK && !cp_id_valid(argv[optind]))
			return usage_error(
				"token",
				"bad token id '%s' (as 'token list' shows: t and 10 characters)",
				argv[optind]);
		if (ret == EXIT_OK)
			cp_req_set(r, "DELETE", true, print_token, "/tokens/%s",
				   argv[optind]);
		break;
	}
	return ret < 0 ? EXIT_OK : ret;
}

int cmd_token(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_token);
}
