// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl host label|restore|counters: a host's side of declared
 * configuration.  'label' changes some labels: the API replaces all of
 * them, so the others are read from the control plane first.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "table.h"

void cp_host_config_usage(FILE *f)
{
	fprintf(f,
		"       moatctl host label ID [K=V...] [--remove K]...\n"
		"       moatctl host restore ID\n"
		"       moatctl host counters ID [--refresh [--timeout SECONDS]]\n");
}

void cp_print_host_config(json_object *o, FILE *f)
{
	json_object *rs = NULL;

	fprintf(f, "%-15s %s\n", "config:", cp_str(o, "config"));
	fprintf(f, "%-15s applied %lld, desired %lld\n",
		"generation:", (long long)cp_int(o, "applied_generation"),
		(long long)cp_int(o, "desired_generation"));
	json_object_object_get_ex(o, "ruleset", &rs);
	if (rs)
		fprintf(f, "%-15s %s version %lld, %s\n",
			"ruleset:", cp_str(rs, "name"),
			(long long)cp_int(rs, "version"), cp_str(rs, "mode"));
	else
		fprintf(f, "%-15s -\n", "ruleset:");
	if (strcmp(cp_str(o, "apply_error"), "-"))
		fprintf(f, "%-15s %s\n",
			"apply error:", cp_str(o, "apply_error"));
}

static void print_labels(const struct cp_req *r, json_object *o, FILE *f,
			 time_t now)
{
	json_object *labels = NULL;
	char buf[1024];

	json_object_object_get_ex(o, "labels", &labels);
	cp_labels(buf, sizeof(buf), labels);
	fprintf(f, "%-15s %s\n", "labels:", buf);
	cp_print_host_config(o, f);
}

static void print_restore(const struct cp_req *r, json_object *o, FILE *f,
			  time_t now)
{
	fprintf(f, "host %s: desired generation %lld sent again%s\n", r->arg,
		(long long)cp_int(o, "desired_generation"),
		cp_bool(o, "connected") ? "" : " (at its next connection)");
}

static void counter_row(struct table *t, json_object *o, time_t now)
{
	table_cell(t, "%s", cp_str(o, "name"));
	table_cell(t, "%lld", (long long)cp_int(o, "packets"));
	table_cell(t, "%lld", (long long)cp_int(o, "bytes"));
}

static void print_counters(const struct cp_req *r, json_object *o, FILE *f,
			   time_t now)
{
	static const char *const heads[] = { "RULE", "PACKETS", "BYTES" };
	json_object *rules = NULL;
	char ago[32];

	if (!cp_int(o, "time")) {
		fprintf(f, "host %s has not reported counters\n", r->arg);
		return;
	}
	cp_ago(ago, sizeof(ago), cp_int(o, "time"), now);
	fprintf(f, "host %s: generation %lld, ruleset %.12s, reported %s%s\n",
		r->arg, (long long)cp_int(o, "generation"),
		cp_str(o, "ruleset_hash"), ago,
		cp_bool(o, "pending") ? " (asked again, not answered)" : "");
	json_object_object_get_ex(o, "rules", &rules);
	cp_print_table(rules, f, now, "lrr", heads, counter_row, NULL);
}

/* The labels the host has, changed as asked: r->body {set, remove}. */
static int merge_labels(struct cp_req *r, const struct cp_settings *s)
{
	json_object *host = NULL, *cur, *set, *rm, *labels;
	int ret = cp_get_record(s, "hosts", r->arg, &host);

	if (ret)
		return ret;
	labels = json_object_new_object();
	if (json_object_object_get_ex(host, "labels", &cur)) {
		json_object_object_foreach(cur, k, v)
			json_object_object_add(labels, k, json_object_get(v));
	}
	json_object_object_get_ex(r->body, "set", &set);
	json_object_object_get_ex(r->body, "remove", &rm);
	for (size_t i = 0; i < json_object_array_length(rm); i++)
		json_object_object_del(
			labels, json_object_get_string(
					json_object_array_get_idx(rm, i)));
	json_object_object_foreach(set, k, v)
		json_object_object_add(labels, k, json_object_get(v));
	json_object_put(host);
	json_object_put(r->body);
	r->body = json_object_new_object();
	json_object_object_add(r->body, "labels", labels);
	return EXIT_OK;
}

static int parse_label(struct moatctl *g, int argc, char **argv,
		       struct cp_req *r)
{
	static const struct option opts[] = {
		{ "remove", required_argument, NULL, 'R' },
		CP_OPTIONS,
		{ 0 },
	};
	json_object *set = json_object_new_object();
	json_object *rm = json_object_new_array();
	const char *why, *value;
	char key[64];
	int ch;

	r->body = json_object_new_object();
	json_object_object_add(r->body, "set", set);
	json_object_object_add(r->body, "remove", rm);
	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		switch (ch) {
		case 'R':
			if (!*optarg || strchr(optarg, '='))
				return usage_error(
					"host label",
					"--remove takes a key, not '%s'",
					optarg);
			json_object_array_add(rm,
					      json_object_new_string(optarg));
			break;
		case 'h':
			return -1;
		default:
			if (!cp_common_opt(g, ch, optarg))
				return usage_hint("host");
		}
	}
	if (optind == argc)
		return usage_error("host label", "missing ID");
	snprintf(r->arg, sizeof(r->arg), "%s", argv[optind]);
	for (int i = optind + 1; i < argc; i++) {
		if (cp_label_parse(argv[i], key, sizeof(key), &value, &why))
			return usage_error("host label", "bad label '%s': %s",
					   argv[i], why);
		json_object_object_add(set, key, json_object_new_string(value));
	}
	if (!json_object_object_length(set) && !json_object_array_length(rm))
		return usage_error("host label",
				   "nothing to change: K=V or --remove K");
	return EXIT_OK;
}

int cp_parse_host_config(struct moatctl *g, int sub, int argc, char **argv,
			 struct cp_req *r, void (*usage)(FILE *f))
{
	int ret;

	if (sub == CP_HOST_LABEL)
		ret = parse_label(g, argc, argv, r);
	else if (sub == CP_HOST_COUNTERS)
		ret = cp_parse_counters(g, argc, argv, "host", "ID", usage, r);
	else
		ret = cp_parse_plain(g, argc, argv, "host", 1, "ID", usage);
	if (ret == -1 && sub == CP_HOST_LABEL)
		usage(stdout);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (sub != CP_HOST_LABEL)
		snprintf(r->arg, sizeof(r->arg), "%s", argv[optind]);
	if (!cp_id_valid(r->arg))
		return usage_error(
			"host",
			"bad host id '%s' (as 'host list' shows: h and 10 characters)",
			r->arg);
	switch (sub) {
	case CP_HOST_LABEL:
		cp_req_set(r, "PUT", true, print_labels, "/hosts/%s/labels",
			   r->arg);
		r->prepare = merge_labels;
		break;
	case CP_HOST_RESTORE:
		cp_req_set(r, "POST", true, print_restore, "/hosts/%s/restore",
			   r->arg);
		break;
	default:
		cp_req_set(r, "GET", true, print_counters, "/hosts/%s/counters",
			   r->arg);
	}
	return EXIT_OK;
}
