// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl rules: every rule's counters, and rates since the last read;
 * or, with --unused, the rules without a hit (rules-unused.c).  Works from
 * the pins alone, with or without moatd.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "file.h"
#include "json.h"
#include "moatctl.h"
#include "rules.h"
#include "table.h"

#define LAST_MAGIC "moat-rules-last 1"

/* One counter as last read, keyed by (fixed, name): counters follow names. */
struct seen {
	bool fixed;
	char name[MOAT_NAME_MAX + 1];
	uint64_t packets, bytes;
};

struct reading {
	uint64_t boot_ns; /* CLOCK_BOOTTIME: rates survive clock changes */
	uint64_t real_ns;
	struct seen *v; /* sorted, for bsearch */
	size_t n;
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = 1;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int seen_cmp(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->fixed != y->fixed)
		return x->fixed ? 1 : -1;
	return strcmp(x->name, y->name);
}

static const struct seen *seen_find(const struct reading *r, bool fixed,
				    const char *name)
{
	struct seen key = { .fixed = fixed };

	if (!r->n)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, r->v, r->n, sizeof(*r->v), seen_cmp);
}

static int reading_from_rows(struct reading *r, const struct moat_dp_row *rows,
			     int n)
{
	r->boot_ns = clock_ns(CLOCK_BOOTTIME);
	r->real_ns = clock_ns(CLOCK_REALTIME);
	r->n = 0;
	r->v = calloc(n ? (size_t)n : 1, sizeof(*r->v));
	if (!r->v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct seen *s = &r->v[r->n++];

		s->fixed = rows[i].fixed;
		snprintf(s->name, sizeof(s->name), "%s", rows[i].name);
		s->packets = rows[i].packets;
		s->bytes = rows[i].bytes;
	}
	qsort(r->v, r->n, sizeof(*r->v), seen_cmp);
	return 0;
}

static void state_path(const struct moatctl *g, char *buf, size_t size)
{
	snprintf(buf, size, "/run/moat/%s/rules.last", g->instance);
}

/* The last read of any moatctl; a missing or unreadable file is "never". */
static void load_last(const struct moatctl *g, struct reading *r)
{
	char path[256], *text, *line, *save;
	unsigned long long t;
	size_t len, cap = 0;

	memset(r, 0, sizeof(*r));
	state_path(g, path, sizeof(path));
	if (file_read(path, 64u << 20, &text, &len) < 0)
		return;
	line = strtok_r(text, "\n", &save);
	if (!line || sscanf(line, LAST_MAGIC " %llu", &t) != 1)
		goto out;
	r->boot_ns = t;
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long p, b;
		char kind, name[MOAT_NAME_MAX + 1];

		if (sscanf(line, "%c %llu %llu %63s", &kind, &p, &b, name) != 4)
			continue;
		if (r->n == cap) {
			struct seen *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(r->v, cap * sizeof(*nv));
			if (!nv)
				break;
			r->v = nv;
		}
		r->v[r->n].fixed = kind == 'f';
		snprintf(r->v[r->n].name, sizeof(r->v[0].name), "%s", name);
		r->v[r->n].packets = p;
		r->v[r->n].bytes = b;
		r->n++;
	}
	qsort(r->v, r->n, sizeof(*r->v), seen_cmp);
out:
	free(text);
}

/* Best effort: without it the next read shows no rates, nothing worse. */
static void save_last(const struct moatctl *g, const struct reading *r)
{
	char path[256], dir[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "/run/moat/%s", g->instance);
	if (file_mkdir_p(dir, 0700) < 0)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fprintf(f, LAST_MAGIC " %llu\n", (unsigned long long)r->boot_ns);
	for (size_t i = 0; i < r->n; i++)
		fprintf(f, "%c %llu %llu %s\n", r->v[i].fixed ? 'f' : 'r',
			(unsigned long long)r->v[i].packets,
			(unsigned long long)r->v[i].bytes, r->v[i].name);
	if (fclose(f) == 0) {
		state_path(g, path, sizeof(path));
		file_write_atomic(path, buf, len, 0600, false);
	}
	free(buf);
}

/* Per second since @prev; -1 when unknown (first read, counter reset). */
static void rates(const struct reading *prev, const struct reading *now,
		  const struct moat_dp_row *row, double *pps, double *bps)
{
	const struct seen *s = seen_find(prev, row->fixed, row->name);
	double dt;

	*pps = *bps = -1;
	if (!s || now->boot_ns <= prev->boot_ns)
		return;
	if (row->packets < s->packets || row->bytes < s->bytes)
		return;
	dt = (double)(now->boot_ns - prev->boot_ns) / 1e9;
	*pps = (double)(row->packets - s->packets) / dt;
	*bps = (double)(row->bytes - s->bytes) / dt;
}

static void print_table(const struct verdicts *v, const struct reading *prev,
			const struct reading *now,
			const struct moat_dp_row *rows, int n)
{
	static const char *const heads[] = { "RULE", "ACTION",	 "PACKETS",
					     "BYTES", "PPS",	 "BPS",
					     "OVER",  "WOULD-DROP" };
	static const char *const heads_plain[] = { "RULE",  "ACTION", "PACKETS",
						   "BYTES", "PPS",    "BPS" };
	bool extra = false;
	struct table *t;
	char b[6][16];
	double pps, bps;

	/* the rate limit and audit columns, when some rule has them */
	for (int i = 0; i < n; i++)
		extra |= (rows[i].flags & (MOAT_X_LIMIT | MOAT_X_AUDIT)) ||
			 rows[i].would_drop;
	t = extra ? table_new("llrrrrrr", heads) : table_new("llrrrr", heads_plain);
	if (!t) {
		fail("out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		rates(prev, now, &rows[i], &pps, &bps);
		table_row(t);
		/* fixed counters in parentheses: no rule can be named so */
		if (rows[i].fixed)
			table_cell(t, "(%s)", rows[i].name);
		else
			table_cell(t, "%s", rows[i].name);
		table_cell(t, "%s", rules_action(v, &rows[i]));
		table_cell(t, "%s", table_human(b[0], rows[i].packets));
		table_cell(t, "%s", table_human(b[1], rows[i].bytes));
		table_cell(t, "%s", table_human_rate(b[2], pps));
		table_cell(t, "%s", table_human_rate(b[3], bps));
		if (!extra)
			continue;
		if (rows[i].flags & MOAT_X_LIMIT)
			table_cell(t, "%s", table_human(b[4], rows[i].over_packets));
		else
			table_cell(t, "-");
		if ((rows[i].flags & MOAT_X_AUDIT) || rows[i].would_drop)
			table_cell(t, "%s", table_human(b[5], rows[i].would_drop));
		else
			table_cell(t, "-");
	}
	table_print(t, stdout);
	table_free(t);
}

static void print_json(const struct moatctl *g, const struct verdicts *v,
		       const struct reading *prev, const struct reading *now,
		       const struct moat_dp_row *rows, int n)
{
	struct json j;
	double pps, bps;

	json_init(&j, stdout);
	json_obj_open(&j);
	json_kstr(&j, "instance", g->instance);
	json_key(&j, "generation");
	if (v->has_generation)
		json_uint(&j, v->generation);
	else
		json_null(&j);
	json_kuint(&j, "time_ns", now->real_ns);
	json_key(&j, "interval_ns");
	if (prev->boot_ns && now->boot_ns > prev->boot_ns)
		json_uint(&j, now->boot_ns - prev->boot_ns);
	else
		json_null(&j);
	json_key(&j, "rules");
	json_arr_open(&j);
	for (int i = 0; i < n; i++) {
		rates(prev, now, &rows[i], &pps, &bps);
		json_obj_open(&j);
		json_kstr(&j, "name", rows[i].name);
		json_kstr(&j, "action", rules_action(v, &rows[i]));
		json_kbool(&j, "fixed", rows[i].fixed);
		json_kuint(&j, "slot", rows[i].slot);
		json_kuint(&j, "packets", rows[i].packets);
		json_kuint(&j, "bytes", rows[i].bytes);
		json_key(&j, "pps");
		if (pps < 0)
			json_null(&j);
		else
			json_double(&j, pps);
		json_key(&j, "bytes_per_sec");
		if (bps < 0)
			json_null(&j);
		else
			json_double(&j, bps);
		json_kuint(&j, "applied_ns", rows[i].applied_ns);
		json_kbool(&j, "limit", rows[i].flags & MOAT_X_LIMIT);
		json_kbool(&j, "audit", rows[i].flags & MOAT_X_AUDIT);
		json_kbool(&j, "log", rows[i].flags & MOAT_X_LOG);
		json_kuint(&j, "over_limit_packets", rows[i].over_packets);
		json_kuint(&j, "over_limit_bytes", rows[i].over_bytes);
		json_kuint(&j, "would_drop", rows[i].would_drop);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl [-j] rules [--json] [--watch [SECS]]\n"
		"       moatctl [-j] rules --unused [--min-age AGE] [--json] [--watch [SECS]]\n"
		"\n"
		"Each rule of the running generation with its action, packets, bytes, and\n"
		"packets and bytes per second since the last read (by any moatctl; '-'\n"
		"when there was none), then the fixed counters: (policy), (arp), (nd),\n"
		"(non-ip), (malformed).  Reads the pinned maps: works while moatd is down.\n"
		"\n"
		"With --unused, only the rules no packet has matched since they were\n"
		"applied (a rule keeps its counter and applied time while its name stays),\n"
		"with how long they have been in place and since when; then \"N of M rules\n"
		"unused\" on stderr.  The exit status is 0 whether or not any are unused.\n"
		"\n"
		"  -j, --json          one JSON object, exact counts\n"
		"  -w, --watch [SECS]  redraw every SECS seconds (default 1) until Ctrl-C\n"
		"  -u, --unused        only the rules without a hit since they were applied\n"
		"      --min-age AGE   with --unused: only those in place for at least AGE\n"
		"                      (30s, 10m, 2h, 7d, 1d12h)\n"
		"  -h, --help          show this help\n");
}

static int parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && *v >= 0.1 && *v <= 86400 ? 0 : -1;
}

/* What the command line asked for. */
struct rules_opts {
	bool watch;
	double secs;
	bool unused;
	struct unused_opts u;
};

/* The first lines of a --watch screen, drawn over the last one. */
static void watch_title(const struct moatctl *g, const struct rules_opts *o,
			uint64_t generation, uint64_t real_ns)
{
	time_t t = (time_t)(real_ns / 1000000000u);
	char when[64];

	strftime(when, sizeof(when), "%F %T", localtime(&t));
	/* cursor home, clear: a redraw in place */
	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	printf("Every %.1fs: moatctl rules%s%s%s, instance %s, generation %llu  %s\n\n",
	       o->secs, o->unused ? " --unused" : "",
	       o->u.min_age ? " --min-age " : "",
	       o->u.min_age ? o->u.min_age : "", g->instance,
	       (unsigned long long)generation, when);
}

/*
 * --unused leaves rules.last alone: it shows no rates, and the next
 * `moatctl rules` should still show them since the last read that did.
 */
static int show_unused(struct moatctl *g, const struct rules_opts *o,
		       const struct verdicts *v, const struct moat_dp_row *rows,
		       int n)
{
	uint64_t now_ns = clock_ns(CLOCK_REALTIME);

	if (o->watch && !g->json)
		watch_title(g, o, v->generation, now_ns);
	if (unused_print(&o->u, v, now_ns, rows, n, g->json, stdout, stderr) <
	    0)
		return fail("out of memory");
	return EXIT_OK;
}

static int show(struct moatctl *g, struct moat_dp *dp, struct reading *prev,
		const struct rules_opts *o)
{
	struct moat_dp_row *rows = NULL;
	struct reading now = { 0 };
	struct moat_dp_status st;
	struct verdicts v = { 0 };
	int n = 0, ret;

	ret = moat_dp_status(dp, &st);
	if (ret < 0)
		return fail("cannot read the generation: %s", strerror(-ret));
	v.has_generation = st.has_generation;
	v.generation = st.info.generation;
	v.policy_drop = st.info.policy_drop;
	moat_dp_status_free(&st);
	ret = moat_dp_rows(dp, &rows, &n);
	if (ret < 0)
		return fail("cannot read the counters: %s", strerror(-ret));
	if (o->unused) {
		ret = show_unused(g, o, &v, rows, n);
		free(rows);
		return ret;
	}
	if (reading_from_rows(&now, rows, n) < 0) {
		free(rows);
		return fail("out of memory");
	}
	if (g->json) {
		print_json(g, &v, prev, &now, rows, n);
	} else {
		if (o->watch)
			watch_title(g, o, v.generation, now.real_ns);
		print_table(&v, prev, &now, rows, n);
		fflush(stdout);
	}
	save_last(g, &now);
	free(rows);
	free(prev->v);
	*prev = now;
	return EXIT_OK;
}

int cmd_rules(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "unused", no_argument, NULL, 'u' },
		{ "min-age", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_stop };
	struct rules_opts opt = { .secs = 1, .u.instance = g->instance };
	struct reading prev = { 0 };
	struct moat_dp_opts o;
	struct moat_dp *dp;
	const char *why;
	char root[256];
	struct timespec ts;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "jw::uh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			g->json = true;
			break;
		case 'w':
			opt.watch = true;
			/* "--watch 2" as well as "--watch=2" */
			if (!optarg && optind < argc &&
			    !parse_secs(argv[optind], &opt.secs))
				optind++;
			else if (optarg && parse_secs(optarg, &opt.secs))
				return usage_error(
					"rules",
					"--watch takes seconds from 0.1 to 86400, not '%s'",
					optarg);
			break;
		case 'u':
			opt.unused = true;
			break;
		case 'A':
			if (duration_parse(optarg, &opt.u.min_age_s, &why) < 0)
				return usage_error(
					"rules",
					"--min-age takes a duration such as 30s, 10m, 2h, 7d or 1d12h, not '%s': %s",
					optarg, why);
			opt.u.min_age = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_hint("rules");
		}
	}
	if (optind < argc)
		return usage_error("rules", "unexpected argument '%s'",
				   argv[optind]);
	if (opt.u.min_age && !opt.unused)
		return usage_error(
			"rules",
			"--min-age only narrows --unused: 'moatctl rules --unused --min-age %s'",
			opt.u.min_age);

	moatctl_dp_opts(g, &o);
	ret = moat_dp_open_pinned(&o, &dp);
	if ((ret == -ENOENT || ret == -EACCES || ret == -EPERM) && geteuid()) {
		moatctl_pin_root(g, root, sizeof(root));
		return fail("reading the pins at %s needs root", root);
	}
	if (ret == -ENOENT) {
		moatctl_pin_root(g, root, sizeof(root));
		return fail(
			"nothing pinned at %s: moatd has not run for instance '%s' (see -i, --bpffs)",
			root, g->instance);
	}
	if (ret < 0)
		return fail("cannot open the pinned data plane: %s",
			    strerror(-ret));

	if (!opt.unused)
		load_last(g, &prev);
	ret = show(g, dp, &prev, &opt);
	if (opt.watch && ret == EXIT_OK) {
		/* no SA_RESTART: Ctrl-C cuts the sleep short */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		while (!stop && ret == EXIT_OK) {
			ts.tv_sec = (time_t)opt.secs;
			ts.tv_nsec =
				(long)((opt.secs - (double)ts.tv_sec) * 1e9);
			if (nanosleep(&ts, NULL) < 0 && stop)
				break;
			ret = show(g, dp, &prev, &opt);
		}
	}
	free(prev.v);
	moat_dp_close(dp);
	return ret;
}
