// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lines of the plots, from the JSON reports: one series per system
 * (and per transmitter other than live), points sorted by rule count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "stats.h"

static struct plot_series *series(struct plot_series *s, int *n, int max,
				  const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(s[i].name, name))
			return &s[i];
	if (*n == max)
		return NULL;
	memset(&s[*n], 0, sizeof(s[0]));
	snprintf(s[*n].name, sizeof(s[0].name), "%s", name);
	return &s[(*n)++];
}

static void add_point(struct plot_series *s, double x, double y)
{
	int i;

	if (!s || s->n == PLOT_MAX_POINTS)
		return;
	for (i = s->n; i > 0 && s->x[i - 1] > x; i--) {
		s->x[i] = s->x[i - 1];
		s->y[i] = s->y[i - 1];
	}
	s->x[i] = x;
	s->y[i] = y;
	s->n++;
}

static double median_of(const struct json *a)
{
	double v[1024];
	int n = 0;

	for (size_t i = 0; a && a->type == JSON_ARR && i < a->n && n < 1024;
	     i++)
		if (a->v[i].type == JSON_NUM)
			v[n++] = a->v[i].num;
	return n ? stats_median(v, n) : -1;
}

/* The series name of a case: its system, and its transmitter if not live. */
static void case_name(const struct json *c, const char *sys, char *buf,
		      size_t len)
{
	const char *tx = json_text(json_get(c, "tx"), "live");

	if (strcmp(tx, "live"))
		snprintf(buf, len, "%s (%s)", sys, tx);
	else
		snprintf(buf, len, "%s", sys);
}

int plot_mpps_series(const struct json *run, struct plot_series *s, int max)
{
	const struct json *cases = json_get(run, "cases");
	int n = 0;
	char name[48];

	for (size_t i = 0; cases && i < cases->n; i++) {
		const struct json *c = &cases->v[i];
		const char *label = json_text(json_get(c, "case"), "");
		/* reports of the first version name moat cases only */
		const char *sys =
			json_text(json_get(c, "system"),
				  strncmp(label, "moat-", 5) ? "" : "moat");
		double rules = json_num(json_get(c, "rules"), 0), y;

		if (json_get(c, "skipped") || json_get(c, "test_run") ||
		    rules <= 0 || !*sys)
			continue;
		y = median_of(json_get(c, "case_mpps"));
		case_name(c, sys, name, sizeof(name));
		if (y > 0)
			add_point(series(s, &n, max, name), rules, y);
		/* the baseline at this count, once per transmitter */
		case_name(c, "baseline", name, sizeof(name));
		y = median_of(json_get(c, "baseline_mpps"));
		struct plot_series *b = series(s, &n, max, name);

		for (int k = 0; b && k < b->n; k++)
			if (b->x[k] == rules)
				b = NULL;
		if (y > 0)
			add_point(b, rules, y);
	}
	return n;
}

int plot_apply_series(const struct json *apply, struct plot_series *s, int max)
{
	const struct json *rows = json_get(apply, "rows");
	int n = 0;

	for (size_t i = 0; rows && i < rows->n; i++) {
		const struct json *r = &rows->v[i];
		double ms = json_num(json_get(r, "end_to_end_ms"), -1);

		if (json_get(r, "skipped") || ms <= 0)
			continue;
		add_point(series(s, &n, max,
				 json_text(json_get(r, "system"), "moat")),
			  json_num(json_get(r, "rules"), 0), ms);
	}
	return n;
}
