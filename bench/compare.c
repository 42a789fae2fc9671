// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench compare OLD.json NEW.json`: what moved between two runs,
 * and by how much.  Cases are matched by name and transmitter (rows of
 * apply-time by system and rule count).  A move is flagged when neither
 * run's own spread explains it (stats_move): the new median outside the
 * old run's round range and the old median outside the new one's.  A
 * number without a range (latency percentiles) is flagged beyond
 * NO_RANGE_FLOOR of the old value.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "compare.h"
#include "json.h"
#include "stats.h"

#define NO_RANGE_FLOOR 0.05

/* A median with the range of its rounds, from an object or an array. */
struct ranged {
	double med, min, max;
	bool found;
};

static struct ranged from_keys(const struct json *j, const char *med,
			       const char *min, const char *max)
{
	struct ranged r = { 0 };
	const struct json *m = json_get(j, med);

	if (!m || m->type != JSON_NUM)
		return r;
	r.found = true;
	r.med = m->num;
	r.min = json_num(json_get(j, min), r.med);
	r.max = json_num(json_get(j, max), r.med);
	return r;
}

static struct ranged from_stats(const struct json *j, const char *med)
{
	return from_keys(j, med, "min", "max");
}

static struct ranged from_array(const struct json *a)
{
	struct ranged r = { 0 };
	double v[1024];
	int n = 0;

	if (!a || a->type != JSON_ARR || !a->n)
		return r;
	for (size_t i = 0; i < a->n && n < 1024; i++)
		if (a->v[i].type == JSON_NUM)
			v[n++] = a->v[i].num;
	if (!n)
		return r;
	r.found = true;
	r.med = stats_median(v, n);
	r.min = r.max = v[0];
	for (int i = 1; i < n; i++) {
		r.min = v[i] < r.min ? v[i] : r.min;
		r.max = v[i] > r.max ? v[i] : r.max;
	}
	return r;
}

static struct ranged plain(const struct json *j)
{
	struct ranged r = { 0 };

	if (j && j->type == JSON_NUM)
		r = (struct ranged){ j->num, j->num, j->num, true };
	return r;
}

static int row(FILE *f, const char *name, const char *tx, const char *metric,
	       struct ranged o, struct ranged n)
{
	struct move m;

	if (!o.found || !n.found)
		return 0;
	stats_move(o.med, o.min, o.max, n.med, n.min, n.max, NO_RANGE_FLOOR,
		   &m);
	fprintf(f, "%-20s %-6s %-16s %12.4g %12.4g %+12.4g %+8.1f%%  %s\n",
		name, tx, metric, m.old_v, m.new_v, m.delta, m.pct,
		m.flagged ? "MOVED" : "");
	return m.flagged;
}

static const char *tx_of(const struct json *c)
{
	return json_text(json_get(c, "tx"), "live");
}

static const struct json *find_case(const struct json *cases,
				    const struct json *c)
{
	const char *name = json_text(json_get(c, "case"), "");

	for (size_t i = 0; cases && i < cases->n; i++) {
		const struct json *o = &cases->v[i];

		if (!strcmp(json_text(json_get(o, "case"), "?"), name) &&
		    !strcmp(tx_of(o), tx_of(c)))
			return o;
	}
	return NULL;
}

static int run_rows(FILE *f, const struct json *o, const struct json *n)
{
	const char *name = json_text(json_get(n, "case"), "?"), *tx = tx_of(n);
	int moved = 0;

	moved += row(f, name, tx, "ratio",
		     from_stats(json_get(o, "ratio"), "median"),
		     from_stats(json_get(n, "ratio"), "median"));
	moved += row(f, name, tx, "ratio busy",
		     from_stats(json_get(o, "ratio_busy"), "median"),
		     from_stats(json_get(n, "ratio_busy"), "median"));
	moved += row(f, name, tx, "Mpps", from_array(json_get(o, "case_mpps")),
		     from_array(json_get(n, "case_mpps")));
	moved += row(f, name, tx, "latency p50 ns",
		     plain(json_at(o, "latency_ns.p50")),
		     plain(json_at(n, "latency_ns.p50")));
	moved += row(f, name, tx, "latency p99 ns",
		     plain(json_at(o, "latency_ns.p99")),
		     plain(json_at(n, "latency_ns.p99")));
	moved += row(f, name, tx, "classifier ns",
		     from_stats(json_get(o, "test_run"), "classifier_ns"),
		     from_stats(json_get(n, "test_run"), "classifier_ns"));
	return moved;
}

static int apply_rows(FILE *f, const struct json *orows, const struct json *n)
{
	const char *sys = json_text(json_get(n, "system"), "moat");
	double rules = json_num(json_get(n, "rules"), -1);
	char name[48];

	for (size_t i = 0; orows && i < orows->n; i++) {
		const struct json *o = &orows->v[i];

		if (strcmp(json_text(json_get(o, "system"), "moat"), sys) ||
		    json_num(json_get(o, "rules"), -2) != rules)
			continue;
		snprintf(name, sizeof(name), "%s-%.0f", sys, rules);
		/* a report from before "enforced" has none: that row is left out */
		return row(f, name, "-", "enforced ms",
			   from_keys(o, "enforced_ms", "enforced_min_ms",
				     "enforced_max_ms"),
			   from_keys(n, "enforced_ms", "enforced_min_ms",
				     "enforced_max_ms")) +
		       row(f, name, "-", "e2e ms",
			   from_keys(o, "end_to_end_ms", "end_to_end_min_ms",
				     "end_to_end_max_ms"),
			   from_keys(n, "end_to_end_ms", "end_to_end_min_ms",
				     "end_to_end_max_ms"));
	}
	return 0;
}

static void machine(FILE *f, const struct json *o, const struct json *n)
{
	static const char *const keys[] = { "machine", "cpu_model", "kernel",
					    "moat_version", "date" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *a = json_text(json_get(o, keys[i]), "?");
		const char *b = json_text(json_get(n, keys[i]), "?");

		fprintf(f, "%-13s %s%s%s\n", keys[i], a,
			strcmp(a, b) ? " -> " : "", strcmp(a, b) ? b : "");
	}
}

/* A run's setting @key, old -> new when they differ; 1 when they do. */
static int setting(FILE *f, const struct json *o, const struct json *n,
		   const char *key, const char *dflt)
{
	const char *a = json_text(json_get(o, key), dflt);
	const char *b = json_text(json_get(n, key), dflt);
	int differ = strcmp(a, b) != 0;

	fprintf(f, "%-13s %s%s%s\n", key, a, differ ? " -> " : "", differ ? b : "");
	return differ;
}

/* The floor's stride, as setting() prints the others; 1 when absent. */
static int stride(FILE *f, const struct json *o, const struct json *n)
{
	double a = json_num(json_get(o, "floor_stride"), 1);
	double b = json_num(json_get(n, "floor_stride"), 1);

	if (a == b)
		fprintf(f, "%-13s %g\n", "floor_stride", a);
	else
		fprintf(f, "%-13s %g -> %g\n", "floor_stride", a, b);
	return a != b;
}

int compare_reports(const struct json *old, const struct json *new, FILE *f)
{
	const char *ko = json_text(json_get(old, "benchmark"), "?");
	const char *kn = json_text(json_get(new, "benchmark"), "?");
	bool run = !strcmp(kn, "run");
	const struct json *ol, *nl;
	int moved = 0;

	if (strcmp(ko, kn) || (!run && strcmp(kn, "apply-time"))) {
		fprintf(stderr,
			"moat-bench: compare: not two reports of the "
			"same benchmark: `%s' and `%s'\n",
			ko, kn);
		return -EINVAL;
	}
	ol = json_get(old, run ? "cases" : "rows");
	nl = json_get(new, run ? "cases" : "rows");
	machine(f, old, new);
	if (run) {
		/* reports before --baseline were all against the bare drop */
		if (setting(f, old, new, "baseline", "drop"))
			fprintf(f, "(ratios against different baselines do "
				   "not compare)\n");
		/* and before --flow-cache, moat ran with its default */
		if (setting(f, old, new, "flow_cache", "auto"))
			fprintf(f, "(moat's cases ran with different flow "
				   "caches)\n");
		/* and before --floor-stride, the floor's counters were packed */
		if (stride(f, old, new))
			fprintf(f, "(the floor's cases ran with their counters "
				   "at different strides)\n");
	}
	fprintf(f, "\n%-20s %-6s %-16s %12s %12s %12s %9s\n", "case", "tx",
		"metric", "old", "new", "delta", "change");
	for (size_t i = 0; nl && i < nl->n; i++) {
		const struct json *n = &nl->v[i], *o;

		if (!run) {
			moved += apply_rows(f, ol, n);
			continue;
		}
		o = find_case(ol, n);
		if (json_get(n, "skipped"))
			fprintf(f, "%-20s %-6s skipped: %s\n",
				json_text(json_get(n, "case"), "?"), tx_of(n),
				json_text(json_get(n, "skipped"), "?"));
		else if (o)
			moved += run_rows(f, o, n);
		else
			fprintf(f, "%-20s %-6s only in the new run\n",
				json_text(json_get(n, "case"), "?"), tx_of(n));
	}
	for (size_t i = 0; run && ol && i < ol->n; i++)
		if (!find_case(nl, &ol->v[i]))
			fprintf(f, "%-20s %-6s only in the old run\n",
				json_text(json_get(&ol->v[i], "case"), "?"),
				tx_of(&ol->v[i]));
	fprintf(f, "\n%d number%s moved beyond the runs' own spread\n", moved,
		moved == 1 ? "" : "s");
	return moved;
}

int cmd_compare(int argc, char **argv)
{
	struct json j[2] = { 0 };
	char err[256];
	int ret = 0;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(COMPARE_USAGE, stdout);
		return BENCH_EXIT_OK;
	}
	if (argc != 3) {
		fputs(COMPARE_USAGE, stderr);
		return BENCH_EXIT_USAGE;
	}
	for (int i = 0; !ret && i < 2; i++) {
		ret = json_load(argv[i + 1], &j[i], err, sizeof(err));
		if (ret)
			bench_err("%s:%s%s", argv[i + 1],
				  ret == -EINVAL ? "" : " ", err);
	}
	if (!ret)
		ret = compare_reports(&j[0], &j[1], stdout);
	json_free(&j[0]);
	json_free(&j[1]);
	return ret < 0 ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
