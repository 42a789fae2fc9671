// SPDX-License-Identifier: GPL-2.0-only
/* moatctl audit list|verify: the control plane's hash-chained audit log. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cp-audit.h"
#include "table.h"

/* Records a page of 'audit verify' asks for. */
#define AUDIT_PAGE 1000
#define AUDIT_LIMIT_MAX 100000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl audit list [--after SEQ] [--limit N]\n"
		"       moatctl audit verify\n"
		"\n"
		"Every mutating call, enrollment, renewal, removal and denial, in a\n"
		"hash chain.  'list' shows records after SEQ (default 0: from the first),\n"
		"at most N (default: the control plane's page).  'verify' fetches the\n"
		"whole chain and checks every link: exit 1 at the first broken one.\n"
		"'verify' needs audit:read on every workspace ('*'); with it in some\n"
		"workspaces only, 'list' shows their records.\n"
		"\n"
		"  --after SEQ  records with a larger seq\n"
		"  --limit N    at most N records (1 to 100000)\n");
	cp_usage_common(f);
}

static void audit_row(struct table *t, json_object *o, time_t now)
{
	char when[32];

	cp_time(when, sizeof(when), cp_int(o, "time"));
	table_cell(t, "%lld", (long long)cp_int(o, "seq"));
	table_cell(t, "%s", when);
	table_cell(t, "%s", cp_str(o, "actor"));
	table_cell(t, "%s", cp_str(o, "action"));
	table_cell(t, "%s", cp_str(o, "workspace"));
	table_cell(t, "%s", cp_str(o, "target"));
	table_cell(t, "%s", cp_str(o, "result"));
	table_cell(t, "%s", cp_str(o, "source"));
}

static void audit_print(const struct cp_req *r, json_object *reply, FILE *f,
			time_t now)
{
	static const char *const heads[] = { "SEQ",    "TIME",	    "ACTOR",
					     "ACTION", "WORKSPACE", "TARGET",
					     "RESULT", "SOURCE" };

	cp_print_table(reply, f, now, "rlllllll", heads, audit_row,
		       "no audit records");
}

/* Walk every page; the first broken link ends it. */
static int verify(struct moatctl *g)
{
	struct audit_verifier v;
	struct audit_record rec;
	struct cp_settings s;
	json_object *page = NULL, *out;
	char path[96], why[512] = "";
	size_t n;
	int ret;

	ret = cp_settings_load(g, &s);
	if (ret)
		return ret;
	audit_verify_init(&v);
	do {
		snprintf(path, sizeof(path),
			 "/v1/audit?after=%" PRId64 "&limit=%d", v.next_seq - 1,
			 AUDIT_PAGE);
		ret = cp_call(&s, "GET", path, NULL, &page);
		if (ret)
			goto out;
		if (!cp_is_array(page, stderr)) {
			ret = EXIT_USER;
			goto out;
		}
		n = json_object_array_length(page);
		for (size_t i = 0; i < n && !why[0]; i++) {
			json_object *o = json_object_array_get_idx(page, i);

			if (!cp_audit_record(o, &rec, why, sizeof(why)) &&
			    audit_verify_next(&v, &rec) < 0)
				snprintf(why, sizeof(why), "%s", v.why);
		}
		json_object_put(page);
		page = NULL;
	} while (n && !why[0]);

	if (g->json) {
		out = json_object_new_object();
		json_object_object_add(out, "ok",
				       json_object_new_boolean(!why[0]));
		json_object_object_add(out, "records",
				       json_object_new_int64(v.checked));
		json_object_object_add(out, "head",
				       json_object_new_string(v.prev));
		if (why[0])
			json_object_object_add(out, "error",
					       json_object_new_string(why));
		cp_print_json(out, stdout);
		json_object_put(out);
	} else if (!why[0]) {
		printf("audit chain OK: %" PRId64 " records, head %s\n",
		       v.checked, v.prev);
	}
	ret = EXIT_OK;
	if (why[0]) {
		if (!g->json)
			fail("audit chain broken after %" PRId64
			     " good records: %s",
			     v.checked, why);
		ret = EXIT_USER;
	}
out:
	explicit_bzero(s.api_key, sizeof(s.api_key));
	json_object_put(page);
	return ret;
}

int cp_parse_audit(struct moatctl *g, int argc, char **argv, struct cp_req *r,
		   bool *verify_chain)
{
	static const char *const subs[] = { "list", "verify", NULL };
	static const struct option opts[] = {
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		CP_OPTIONS,
		{ 0 },
	};
	uint64_t after = 0, limit = 0;
	int ret = EXIT_OK, sub, ch;
	size_t len;

	*verify_chain = false;
	sub = cp_subcommand("audit", subs, &argc, &argv, usage, &ret);
	if (sub < 0)
		return ret;
	if (sub == 1) {
		ret = cp_parse_plain(g, argc, argv, "audit", 0, "", usage);
		*verify_chain = ret == EXIT_OK;
		return ret < 0 ? EXIT_OK : ret;
	}
	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		if (ch == 'a' && !moatctl_uint(optarg, 0, INT64_MAX, &after))
			return usage_error(
				"audit", "bad --after '%s' (a seq: 0 or more)",
				optarg);
		if (ch == 'l' &&
		    !moatctl_uint(optarg, 1, AUDIT_LIMIT_MAX, &limit))
			return usage_error(
				"audit",
				"bad --limit '%s' (a number from 1 to 100000)",
				optarg);
		if (ch == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (ch != 'a' && ch != 'l' && !cp_common_opt(g, ch, optarg))
			return usage_hint("audit");
	}
	if (optind < argc)
		return usage_error("audit", "unexpected argument '%s'",
				   argv[optind]);
	cp_req_set(r, "GET", false, audit_print, "/v1/audit?after=%" PRIu64,
		   after);
	len = strlen(r->path);
	if (limit)
		snprintf(r->path + len, sizeof(r->path) - len,
			 "&limit=%" PRIu64, limit);
	return EXIT_OK;
}

int cmd_audit(struct moatctl *g, int argc, char **argv)
{
	struct cp_req r = { 0 };
	bool chain;
	int ret = cp_parse_audit(g, argc, argv, &r, &chain);

	if (ret == EXIT_OK && chain)
		ret = verify(g);
	else if (ret == EXIT_OK && r.method)
		ret = cp_run(g, &r);
	cp_req_free(&r);
	return ret;
}
