// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl host list|show|remove: the enrolled hosts of a workspace, with
 * their health and their declared configuration's status (label,
 * restore and counters: cp-host-config.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl host list\n"
		"       moatctl host show ID\n"
		"       moatctl host remove ID\n");
	cp_host_config_usage(f);
	fprintf(f,
		"\n"
		"The hosts enrolled in the workspace, with their health: healthy, stale\n"
		"(heartbeats missed), offline, or pending (never heard); and CONFIG, of\n"
		"the ruleset assignments give them: converged, pending, failing (show\n"
		"says why), drift (changed locally) or unmanaged; GEN is the generation\n"
		"applied/desired.  'remove' ends the host's session at once and refuses\n"
		"its certificate; it needs a new token to come back.  'label' sets or\n"
		"removes labels (assignments select hosts by them); 'restore' sends the\n"
		"host its desired state again, over a local change; 'counters' shows\n"
		"its last per-rule counters (--refresh: asks for fresh ones and waits\n"
		"up to --timeout, 5 s).\n");
	cp_usage_common(f);
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, key, &v);
	return v;
}

/* "removed" wins over the health the control plane computed. */
static const char *host_state(json_object *o)
{
	return cp_bool(o, "removed") ? "removed" : cp_str(o, "state");
}

static void host_row(struct table *t, json_object *o, time_t now)
{
	char seen[32], labels[256];

	cp_ago(seen, sizeof(seen), cp_int(o, "last_seen"), now);
	cp_labels(labels, sizeof(labels), field(o, "labels"));
	table_cell(t, "%s", cp_str(o, "id"));
	table_cell(t, "%s", cp_str(o, "hostname"));
	table_cell(t, "%s", host_state(o));
	table_cell(t, "%s", cp_str(o, "config"));
	table_cell(t, "%s", seen);
	table_cell(t, "%s", cp_str(o, "agent_version"));
	/* the declared generation, applied/desired; none when unmanaged */
	if (cp_int(o, "desired_generation"))
		table_cell(t, "%lld/%lld",
			   (long long)cp_int(o, "applied_generation"),
			   (long long)cp_int(o, "desired_generation"));
	else
		table_cell(t, "-");
	table_cell(t, "%s", labels);
}

static void print_list(const struct cp_req *r, json_object *reply, FILE *f,
		       time_t now)
{
	static const char *const heads[] = { "ID",	  "HOSTNAME", "STATE",
					     "CONFIG",	  "LAST-SEEN", "VERSION",
					     "GEN",	  "LABELS" };
	char empty[128];

	snprintf(empty, sizeof(empty), "no hosts in workspace %s",
		 r->workspace);
	cp_print_table(reply, f, now, "llllllrl", heads, host_row, empty);
}

static void print_dataplane(json_object *dp, FILE *f)
{
	json_object *ifs = field(dp, "interfaces");
	size_t n = ifs && json_object_is_type(ifs, json_type_array) ?
			   json_object_array_length(ifs) :
			   0;

	if (!dp) {
		fprintf(f, "%-15s %s\n", "dataplane:", "-");
		return;
	}
	fprintf(f, "%-15s %s, instance %s, generation %lld, ruleset %.12s\n",
		"dataplane:", cp_str(dp, "state"), cp_str(dp, "instance"),
		(long long)cp_int(dp, "generation"),
		cp_str(dp, "ruleset_hash"));
	fprintf(f, "%-15s", "interfaces:");
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(ifs, i);

		fprintf(f, "%s %s (%s)", i ? "," : "", cp_str(x, "name"),
			cp_str(x, "mode"));
	}
	fprintf(f, "%s\n", n ? "" : " -");
	fprintf(f, "%-15s %lld of %lld flows\n",
		"conntrack:", (long long)cp_int(dp, "ct_entries"),
		(long long)cp_int(dp, "ct_max"));
}

static void print_host(const struct cp_req *r, json_object *o, FILE *f,
		       time_t now)
{
	char a[32], b[32], labels[1024];
	int64_t up = cp_int(o, "uptime");

	cp_labels(labels, sizeof(labels), field(o, "labels"));
	fprintf(f, "%-15s %s\n", "id:", cp_str(o, "id"));
	fprintf(f, "%-15s %s\n", "hostname:", cp_str(o, "hostname"));
	fprintf(f, "%-15s %s\n", "state:", host_state(o));
	fprintf(f, "%-15s %s\n", "labels:", labels);
	fprintf(f, "%-15s %s\n", "machine id:", cp_str(o, "machine_id"));
	fprintf(f, "%-15s %s\n", "address:", cp_str(o, "address"));
	cp_time(a, sizeof(a), cp_int(o, "first_seen"));
	cp_ago(b, sizeof(b), cp_int(o, "first_seen"), now);
	fprintf(f, "%-15s %s (%s)\n", "first seen:", a, b);
	cp_time(a, sizeof(a), cp_int(o, "last_seen"));
	cp_ago(b, sizeof(b), cp_int(o, "last_seen"), now);
	fprintf(f, "%-15s %s (%s)\n", "last seen:", a, b);
	fprintf(f, "%-15s %s\n", "agent version:", cp_str(o, "agent_version"));
	fprintf(f, "%-15s %s\n", "kernel:", cp_str(o, "kernel"));
	table_duration(a, sizeof(a), (uint64_t)(up > 0 ? up : 0) * 1000000000u);
	fprintf(f, "%-15s %s\n", "uptime:", field(o, "uptime") ? a : "-");
	cp_time(a, sizeof(a), cp_int(o, "cert_not_after"));
	cp_ago(b, sizeof(b), cp_int(o, "cert_not_after"), now);
	fprintf(f, "%-15s %s (%s)\n", "cert expires:", a, b);
	print_dataplane(field(o, "dataplane"), f);
	cp_print_host_config(o, f);
}

static void print_removed(const struct cp_req *r, json_object *o, FILE *f,
			  time_t now)
{
	/* the id typed: the reply may be empty */
	fprintf(f, "host %s (%s) removed from workspace %s\n", r->arg,
		cp_str(o, "hostname"), r->workspace);
}

int cp_parse_host(struct moatctl *g, int argc, char **argv, struct cp_req *r)
{
	static const char *const subs[] = { "list",    "show",	   "remove",
					    "label",   "restore", "counters",
					    NULL };
	int ret = EXIT_OK, sub;

	sub = cp_subcommand("host", subs, &argc, &argv, usage, &ret);
	if (sub < 0)
		return ret;
	if (sub >= CP_HOST_LABEL)
		return cp_parse_host_config(g, sub, argc, argv, r, usage);
	ret = cp_parse_plain(g, argc, argv, "host", sub ? 1 : 0, "ID", usage);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (sub == 0) {
		cp_req_set(r, "GET", true, print_list, "/hosts");
		return EXIT_OK;
	}
	if (!cp_id_valid(argv[optind]))
		return usage_error(
			"host",
			"bad host id '%s' (as 'host list' shows: h and 10 characters)",
			argv[optind]);
	snprintf(r->arg, sizeof(r->arg), "%s", argv[optind]);
	cp_req_set(r, sub == 1 ? "GET" : "DELETE", true,
		   sub == 1 ? print_host : print_removed, "/hosts/%s",
		   argv[optind]);
	return EXIT_OK;
}

int cmd_host(struct moatctl *g, int argc, char **argv)
{
	return cp_command(g, argc, argv, cp_parse_host);
}
