// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench pool [--group NAME] FILE...`: the rounds of several runs
 * of `run', pooled per case.  One run of a few rounds cannot resolve a
 * few points on a shared machine (its rounds spread by 0.2 and more);
 * many short runs, taken alternately with the setting they are compared
 * against, and pooled here, can.  For each case of each group: its runs
 * and rounds, the median of every round's ratio with its quartiles and
 * range, each run's own median, and how many rounds reached the target.
 * Between groups, for each case they share: the difference of the
 * pooled medians, and the share of pairs of rounds (one from each) in
 * which the group's round is the higher (stats_superiority()): 0.5 when
 * the two cannot be told apart.
 *
 * Rounds pool only when they measure the same thing: every file of a
 * group must have been run against the same baseline, with the same
 * flow cache, floor stride, ruleset shape and IPv6 share.  Reports of
 * other machines are pooled with a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "compare.h"
#include "json.h"
#include "stats.h"

/* The settings that must agree within a group, and their defaults. */
static const struct {
	const char *key, *dflt;
} settings[] = {
	{ "baseline", "drop" },	 { "flow_cache", "auto" },
	{ "floor_stride", "1" }, { "ruleset", "acl" },
	{ "ipv6_percent", "0" },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

struct pool_case {
	char group[32], name[48], tx[16];
	double *r; /* every round's ratio, sorted once pooling is done */
	int n, cap;
	double *run_med; /* each run's median of its rounds */
	int nruns;
	double target; /* 0: none */
};

struct pool_group {
	char name[32];
	char setting[NSETTINGS][32];
	char machine[128];
	int files;
};

struct pool {
	bool wall;
	struct pool_case *c;
	int n;
	struct pool_group *g;
	int ng;
};

struct pool *pool_new(bool wall)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p)
		p->wall = wall;
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n; i++) {
		free(p->c[i].r);
		free(p->c[i].run_med);
	}
	free(p->c);
	free(p->g);
	free(p);
}

static void setting_text(const struct json *report, int i, char *out,
			 size_t len)
{
	const struct json *v = json_get(report, settings[i].key);

	if (v && v->type == JSON_NUM)
		snprintf(out, len, "%g", v->num);
	else
		snprintf(out, len, "%s", json_text(v, settings[i].dflt));
}

static struct pool_group *group_of(struct pool *p, const char *name)
{
	struct pool_group *g;

	for (int i = 0; i < p->ng; i++)
		if (!strcmp(p->g[i].name, name))
			return &p->g[i];
	g = realloc(p->g, (size_t)(p->ng + 1) * sizeof(*g));
	if (!g)
		return NULL;
	p->g = g;
	g = &p->g[p->ng++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	return g;
}

static struct pool_case *case_of(struct pool *p, const char *group,
				 const char *name, const char *tx)
{
	struct pool_case *c;

	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->c[i].group, group) &&
		    !strcmp(p->c[i].name, name) && !strcmp(p->c[i].tx, tx))
			return &p->c[i];
	c = realloc(p->c, (size_t)(p->n + 1) * sizeof(*c));
	if (!c)
		return NULL;
	p->c = c;
	c = &p->c[p->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->group, sizeof(c->group), "%s", group);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->tx, sizeof(c->tx), "%s", tx);
	return c;
}

/* One run's rounds, array @a, into @c. */
static int add_rounds(struct pool_case *c, const struct json *a)
{
	double *med =
		realloc(c->run_med, (size_t)(c->nruns + 1) * sizeof(*med));
	int first = c->n;

	if (!med)
		return -ENOMEM;
	c->run_med = med;
	if (c->n + (int)a->n > c->cap) {
		int cap = c->n + (int)a->n + 64;
		double *r = realloc(c->r, (size_t)cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		c->r = r;
		c->cap = cap;
	}
	for (size_t i = 0; i < a->n; i++)
		c->r[c->n++] = a->v[i].num;
	c->run_med[c->nruns++] = stats_median(c->r + first, c->n - first);
	return 0;
}

/*
 * Array @a, case @name's @key in @file, pooled into case @cname of
 * @group (and case @name's transmitter, from @j): the case, or NULL with
 * *@err set (-EINVAL, said why, for an element that is not a number).
 */
static struct pool_case *pool_array(struct pool *p, const char *group,
				    const char *cname, const struct json *j,
				    const struct json *a, const char *file,
				    const char *name, const char *key, int *err)
{
	struct pool_case *c;

	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].type != JSON_NUM) {
			bench_err("%s: case %s: %s[%zu] is not a number", file,
				  name, key, i);
			*err = -EINVAL;
			return NULL;
		}
	}
	c = case_of(p, group, cname, json_text(json_get(j, "tx"), "live"));
	*err = c ? add_rounds(c, a) : -ENOMEM;
	return *err ? NULL : c;
}

/*
 * A test-run case's spread passes, each round's nanoseconds a frame over
 * the empty program, moat's and the floor's, as cases "NAME ns" and
 * "NAME floor ns".  How many it added (0 for a report from before the
 * rounds were written out), or -errno.
 */
static int add_spread(struct pool *p, const char *group, const struct json *j,
		      const char *name, const char *file)
{
	static const char *const keys[2] = { "rounds_ns", "floor_rounds_ns" };
	static const char *const suffix[2] = { "ns", "floor ns" };
	const struct json *sp = json_get(j, "test_run_spread");
	int added = 0;

	for (int k = 0; k < 2; k++) {
		const struct json *a = json_get(sp, keys[k]);
		char cname[48];
		int ret;

		if (!a || a->type != JSON_ARR || !a->n)
			continue;
		snprintf(cname, sizeof(cname), "%s %s", name, suffix[k]);
		if (!pool_array(p, group, cname, j, a, file, name, keys[k],
				&ret))
			return ret;
		added++;
	}
	return added;
}

int pool_add(struct pool *p, const char *group, const struct json *report,
	     const char *file)
{
	const char *key = p->wall ? "ratios" : "ratios_busy";
	const char *kind = json_text(json_get(report, "benchmark"), "?");
	const char *machine = json_text(json_get(report, "cpu_model"), "?");
	const struct json *cases = json_get(report, "cases");
	struct pool_group *g;
	char now[NSETTINGS][32];
	int added = 0;

	if (strcmp(kind, "run") || !cases || cases->type != JSON_ARR) {
		bench_err("%s: not a report of `moat-bench run' (benchmark "
			  "'%s'): pool reads run reports only",
			  file, kind);
		return -EINVAL;
	}
	g = group_of(p, group);
	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < NSETTINGS; i++) {
		setting_text(report, (int)i, now[i], sizeof(now[i]));
		if (g->files && strcmp(now[i], g->setting[i])) {
			bench_err(
				"%s: %s '%s', where the earlier files of group "
				"'%s' have '%s': their rounds do not pool (put "
				"it in a group of its own: --group NAME)",
				file, settings[i].key, now[i], group,
				g->setting[i]);
			return -EINVAL;
		}
	}
	if (!g->files) {
		memcpy(g->setting, now, sizeof(now));
		snprintf(g->machine, sizeof(g->machine), "%s", machine);
	} else if (strcmp(machine, g->machine)) {
		fprintf(stderr,
			"moat-bench: warning: %s ran on '%s', the earlier files "
			"of group '%s' on '%s'\n",
			file, machine, group, g->machine);
	}
	for (size_t i = 0; i < cases->n; i++) {
		const struct json *j = &cases->v[i], *a = json_get(j, key);
		const char *name = json_text(json_get(j, "case"), NULL);
		struct pool_case *c;
		int ret;

		if (json_get(j, "skipped") || !name)
			continue;
		if (!a || a->type != JSON_ARR || !a->n) {
			/* test-run's cases: nanoseconds a frame, not ratios */
			if (json_get(j, "test_run")) {
				int n = add_spread(p, group, j, name, file);

				if (n < 0)
					return n;
				added += n;
				continue;
			}
			bench_err("%s: case %s has no '%s' (a report of an "
				  "older moat-bench?)",
				  file, name, key);
			return -EINVAL;
		}
		c = pool_array(p, group, name, j, a, file, name, key, &ret);
		if (!c)
			return ret;
		c->target = json_num(json_get(j, "target"), c->target);
		added++;
	}
	g->files++;
	if (!added) {
		bench_err("%s: no case with rounds to pool", file);
		return -EINVAL;
	}
	return 0;
}

static void sort_rounds(struct pool *p)
{
	for (int i = 0; i < p->n; i++)
		stats_sort(p->c[i].r, p->c[i].n);
}

static int met(const struct pool_case *c)
{
	int k = 0;

	for (int i = 0; i < c->n; i++)
		k += c->r[i] >= c->target;
	return k;
}

/* The same case in the first group that has it, when that is another. */
static const struct pool_case *first_of(const struct pool *p,
					const struct pool_case *c)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->c[i].name, c->name) &&
		    !strcmp(p->c[i].tx, c->tx))
			return &p->c[i] == c ? NULL : &p->c[i];
	return NULL;
}

/* Case @c against case @o: both pooled medians, and P that @c's is higher. */
struct pool_vs {
	double median, other, p;
};

static struct pool_vs pool_vs(const struct pool_case *c,
			      const struct pool_case *o)
{
	return (struct pool_vs){
		.median = stats_quantile(c->r, c->n, 0.5),
		.other = stats_quantile(o->r, o->n, 0.5),
		.p = stats_superiority(o->r, o->n, c->r, c->n),
	};
}

/*
 * The floor at @c's rule count in @c's group and transmitter: for a case
 * named NAME-N (moat-10000, xdp-filter-1), floor-N; NULL for the floor
 * itself, for test-run's rows and where the runs had no floor.
 */
static const struct pool_case *floor_of(const struct pool *p,
					const struct pool_case *c)
{
	const char *n = strrchr(c->name, '-');
	char want[sizeof(c->name)];

	if (!n || !n[1] || strspn(n + 1, "0123456789") != strlen(n + 1) ||
	    !strncmp(c->name, "floor-", 6))
		return NULL;
	snprintf(want, sizeof(want), "floor%s", n);
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->c[i].name, want) &&
		    !strcmp(p->c[i].group, c->group) &&
		    !strcmp(p->c[i].tx, c->tx))
			return &p->c[i];
	return NULL;
}

static void print_floors(const struct pool *p, FILE *f, int gw)
{
	bool any = false;

	for (int i = 0; i < p->n; i++) {
		const struct pool_case *c = &p->c[i], *fl = floor_of(p, c);
		struct pool_vs v;

		if (!fl)
			continue;
		if (!any)
			fprintf(f,
				"\nagainst the floor at the same rule count, in "
				"the same runs: the median's difference, and P, "
				"the share\nof pairs of rounds (one of each "
				"case) in which the case's is the higher\n"
				"%-*s %-24s %-6s %7s %7s %8s %6s\n",
				gw, "group", "case", "tx", "median", "floor",
				"delta", "P");
		any = true;
		v = pool_vs(c, fl);
		fprintf(f, "%-*s %-24s %-6s %7.3f %7.3f %+8.3f %6.2f\n", gw,
			c->group, c->name, c->tx, v.median, v.other,
			v.median - v.other, v.p);
	}
}

static void print_table(const struct pool *p, FILE *f)
{
	bool between = false, ns = false;
	int gw = 10; /* the group column: as wide as the longest name */

	for (int i = 0; i < p->n; i++) {
		ns |= strstr(p->c[i].name, " ns") != NULL;
		if ((int)strlen(p->c[i].group) > gw)
			gw = (int)strlen(p->c[i].group);
	}
	fprintf(f, "%s ratios, every round of every run pooled per case\n",
		p->wall ? "wall-clock" : "busy-time");
	if (ns)
		fprintf(f, "(cases ending in ns: test-run's spread passes, "
			   "nanoseconds a frame over an empty program; higher "
			   "is slower)\n");
	fprintf(f, "%-*s %-24s %-6s %4s %6s %7s %7s %7s %7s %7s %6s %7s  %s\n",
		gw, "group", "case", "tx", "runs", "rounds", "median", "q1",
		"q3", "min", "max", "target", "met", "each run's median");
	for (int i = 0; i < p->n; i++) {
		const struct pool_case *c = &p->c[i];
		char target[8] = "-", reached[16] = "-";

		if (c->target > 0) {
			snprintf(target, sizeof(target), "%.2f", c->target);
			snprintf(reached, sizeof(reached), "%d/%d", met(c),
				 c->n);
		}
		fprintf(f,
			"%-*s %-24s %-6s %4d %6d %7.3f %7.3f %7.3f %7.3f %7.3f "
			"%6s %7s ",
			gw, c->group, c->name, c->tx, c->nruns, c->n,
			stats_quantile(c->r, c->n, 0.5),
			stats_quantile(c->r, c->n, 0.25),
			stats_quantile(c->r, c->n, 0.75), c->r[0],
			c->r[c->n - 1], target, reached);
		for (int k = 0; k < c->nruns; k++)
			fprintf(f, " %.3f", c->run_med[k]);
		fputc('\n', f);
		between |= first_of(p, c) != NULL;
	}
	print_floors(p, f, gw);
	if (!between)
		return;
	fprintf(f,
		"\nbetween groups: the median's difference, and P, the share "
		"of pairs of rounds\n(one of each group) in which this group's "
		"is the higher: 0.50 when they cannot be told apart\n");
	fprintf(f, "%-24s %-6s %-*s %-*s %7s %8s %6s\n", "case", "tx", gw,
		"group", gw, "against", "median", "delta", "P");
	for (int i = 0; i < p->n; i++) {
		const struct pool_case *c = &p->c[i], *o = first_of(p, c);
		struct pool_vs v;

		if (!o)
			continue;
		v = pool_vs(c, o);
		fprintf(f, "%-24s %-6s %-*s %-*s %7.3f %+8.3f %6.2f\n", c->name,
			c->tx, gw, c->group, gw, o->group, v.median,
			v.median - v.other, v.p);
	}
}

static void print_json(const struct pool *p, FILE *f)
{
	fprintf(f,
		"{\n  \"benchmark\": \"pool\",\n  \"ratio\": \"%s\",\n"
		"  \"cases\": [",
		p->wall ? "wall" : "busy");
	for (int i = 0; i < p->n; i++) {
		const struct pool_case *c = &p->c[i], *o = first_of(p, c),
				       *fl = floor_of(p, c);

		fprintf(f,
			"%s\n    {\"group\": \"%s\", \"case\": \"%s\", \"tx\": "
			"\"%s\", \"runs\": %d, \"rounds\": %d, \"median\": %.6g, "
			"\"q1\": %.6g, \"q3\": %.6g, \"min\": %.6g, \"max\": %.6g",
			i ? "," : "", c->group, c->name, c->tx, c->nruns, c->n,
			stats_quantile(c->r, c->n, 0.5),
			stats_quantile(c->r, c->n, 0.25),
			stats_quantile(c->r, c->n, 0.75), c->r[0],
			c->r[c->n - 1]);
		if (c->target > 0)
			fprintf(f, ", \"target\": %.2f, \"rounds_met\": %d",
				c->target, met(c));
		fprintf(f, ", \"run_medians\": [");
		for (int k = 0; k < c->nruns; k++)
			fprintf(f, "%s%.6g", k ? ", " : "", c->run_med[k]);
		fputc(']', f);
		if (o) {
			struct pool_vs v = pool_vs(c, o);

			fprintf(f,
				", \"against\": {\"group\": \"%s\", \"delta\": "
				"%.6g, \"p_higher\": %.4f}",
				o->group, v.median - v.other, v.p);
		}
		if (fl) {
			struct pool_vs v = pool_vs(c, fl);

			fprintf(f,
				", \"against_floor\": {\"case\": \"%s\", "
				"\"median\": %.6g, \"delta\": %.6g, "
				"\"p_higher\": %.4f}",
				fl->name, v.other, v.median - v.other, v.p);
		}
		fputc('}', f);
	}
	fprintf(f, "\n  ]\n}\n");
}

void pool_print(struct pool *p, bool json, FILE *f)
{
	sort_rounds(p);
	if (json)
		print_json(p, f);
	else
		print_table(p, f);
}

int cmd_pool(int argc, char **argv)
{
	const char *group = "-";
	bool json = false;
	struct pool *p;
	int files = 0, ret = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(POOL_USAGE, stdout);
			return BENCH_EXIT_OK;
		}
	}
	p = pool_new(false);
	if (!p)
		return BENCH_EXIT_FAIL;
	for (int i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--wall")) {
			if (files) {
				bench_err("--wall must come before the files");
				ret = -EINVAL;
				goto usage;
			}
			p->wall = true;
		} else if (!strcmp(argv[i], "--group") ||
			   !strcmp(argv[i], "-g")) {
			if (i + 1 >= argc || !argv[i + 1][0] ||
			    strlen(argv[i + 1]) >= sizeof(p->g->name)) {
				bench_err(
					"%s needs a name of 1 to 31 characters",
					argv[i]);
				ret = -EINVAL;
				goto usage;
			}
			group = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			bench_err("unknown option '%s'", argv[i]);
			ret = -EINVAL;
			goto usage;
		} else {
			struct json j = { 0 };
			char err[256];

			ret = json_load(argv[i], &j, err, sizeof(err));
			if (ret)
				bench_err("%s:%s%s", argv[i],
					  ret == -EINVAL ? "" : " ", err);
			else
				ret = pool_add(p, group, &j, argv[i]);
			json_free(&j);
			files++;
		}
	}
	if (!ret && !files) {
		bench_err("no report to pool: name one or more JSON files of "
			  "`moat-bench run --json'");
		goto usage;
	}
	if (!ret)
		pool_print(p, json, stdout);
	pool_free(p);
	return ret ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
usage:
	pool_free(p);
	fputs(POOL_USAGE, stderr);
	return BENCH_EXIT_USAGE;
}
