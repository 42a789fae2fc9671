// SPDX-License-Identifier: GPL-2.0-only
/*
 * --refresh of 'ruleset counters' and 'host counters'.  POST
 * .../counters/refresh asks the hosts and the control plane answers at
 * once: it never waits on a host, moatctl does.  The counters are then
 * read every 200 ms until each host asked has reported since the
 * request (not pending, its report no older than the request), or the
 * timeout passes; the command's own read then prints them.  A host that
 * did not answer in time is named on stderr and its previous counters
 * stay in the sums: that is a warning, not a failure (exit status 0),
 * since the numbers shown are still the fleet's, only some older.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cp.h"

#define REFRESH_POLL_MS 200
/* a wait shorter than this goes without a word */
#define REFRESH_QUIET_S 2

static json_object *report_of(json_object *reply, const char *host_id)
{
	json_object *reports;

	/* a host's counters are their own report */
	if (!json_object_object_get_ex(reply, "reports", &reports))
		return strcmp(cp_str(reply, "host_id"), host_id) ? NULL : reply;
	if (!json_object_is_type(reports, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(reports); i++) {
		json_object *o = json_object_array_get_idx(reports, i);

		if (!strcmp(cp_str(o, "host_id"), host_id))
			return o;
	}
	return NULL;
}

size_t cp_refresh_waiting(json_object *reply, json_object *asked, int64_t since,
			  json_object *left)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(asked); i++) {
		json_object *id = json_object_array_get_idx(asked, i);
		json_object *o = report_of(reply, json_object_get_string(id));

		/* absent: its answer was of another ruleset, or none yet */
		if (o && !cp_bool(o, "pending") && cp_int(o, "time") >= since)
			continue;
		n++;
		if (left)
			json_object_array_add(left, json_object_get(id));
	}
	return n;
}

/* "h1, h2, h3" of @ids, cut short with ", ..." past @size. */
static void id_list(char *buf, size_t size, json_object *ids)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		const char *id = json_object_get_string(
			json_object_array_get_idx(ids, i));

		if (o + strlen(id) + 8 >= size) {
			snprintf(buf + o, size - o, ", ...");
			return;
		}
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
				      id);
	}
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read the counters until none of @asked is waiting, or @timeout s. */
static int wait_answers(const struct cp_settings *s, const char *path,
			json_object *asked, int64_t since, unsigned timeout)
{
	const struct timespec poll = { 0, REFRESH_POLL_MS * 1000000L };
	double start = mono_s(), waited = 0;
	json_object *reply = NULL, *left = json_object_new_array();
	unsigned said = 0;
	size_t n = json_object_array_length(asked), waiting = n;
	char ids[1024];
	int ret = EXIT_OK;

	while (waiting) {
		json_object_put(reply);
		ret = cp_call(s, "GET", path, NULL, &reply);
		if (ret)
			goto out;
		waiting = cp_refresh_waiting(reply, asked, since, NULL);
		waited = mono_s() - start;
		if (!waiting || waited >= timeout)
			break;
		if (waited >= REFRESH_QUIET_S && (unsigned)waited > said) {
			said = (unsigned)waited;
			fprintf(stderr,
				"moatctl: waiting for %zu of %zu hosts to report (%us of %us)\n",
				waiting, n, said, timeout);
		}
		nanosleep(&poll, NULL);
	}
	if (waiting) {
		cp_refresh_waiting(reply, asked, since, left);
		id_list(ids, sizeof(ids), left);
		fprintf(stderr,
			"moatctl: warning: no report within %us from %zu of %zu hosts asked (their previous counters are shown): %s\n",
			timeout, waiting, n, ids);
	}
	ret = EXIT_OK;
out:
	json_object_put(reply);
	json_object_put(left);
	return ret;
}

int cp_refresh(struct cp_req *r, const struct cp_settings *s)
{
	json_object *q = NULL, *asked = NULL, *away = NULL;
	char path[640], ask[700], ids[1024];
	int ret;

	snprintf(path, sizeof(path), "/v1/workspaces/%s%s", s->workspace,
		 r->path);
	snprintf(ask, sizeof(ask), "%s/refresh", path);
	ret = cp_call(s, "POST", ask, NULL, &q);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(q, "asked", &asked) ||
	    !json_object_is_type(asked, json_type_array) ||
	    !json_object_object_get_ex(q, "away", &away) ||
	    !json_object_is_type(away, json_type_array)) {
		json_object_put(q);
		return fail(
			"POST %s: the reply has no 'asked' and 'away' lists",
			ask);
	}
	if (json_object_array_length(away)) {
		id_list(ids, sizeof(ids), away);
		fprintf(stderr,
			"moatctl: warning: not connected, so not asked (their last counters are shown): %s\n",
			ids);
	}
	if (json_object_array_length(asked))
		ret = wait_answers(s, path, asked, cp_int(q, "time"),
				   r->timeout);
	json_object_put(q);
	return ret;
}

int cp_parse_counters(struct moatctl *g, int argc, char **argv, const char *cmd,
		      const char *word, void (*help)(FILE *f), struct cp_req *r)
{
	static const struct option opts[] = {
		{ "refresh", no_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		CP_OPTIONS,
		{ 0 },
	};
	bool refresh = false, timeout = false;
	uint64_t secs = CP_REFRESH_TIMEOUT;
	int ch;

	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			refresh = true;
			break;
		case 't':
			if (!moatctl_uint(optarg, 1, 3600, &secs))
				return usage_error(
					cmd,
					"bad --timeout '%s' (seconds, 1-3600)",
					optarg);
			timeout = true;
			break;
		case 'h':
			help(stdout);
			return -1;
		default:
			if (!cp_common_opt(g, ch, optarg))
				return usage_hint(cmd);
		}
	}
	if (timeout && !refresh)
		return usage_error(cmd,
				   "--timeout is how long --refresh waits: "
				   "give --refresh too");
	if (optind == argc)
		return usage_error(cmd, "expected %s %s", argv[0] + 8, word);
	if (argc - optind > 1)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind + 1]);
	if (refresh) {
		r->prepare = cp_refresh;
		r->timeout = (unsigned)secs;
	}
	return EXIT_OK;
}
