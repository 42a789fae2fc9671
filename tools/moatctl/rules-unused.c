// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl rules --unused: the rules no packet has matched since they were
 * applied, and for how long.  A rule keeps its counter and its applied
 * time across applies while its name stays, so "unused" spans generations:
 * a rule whose match was changed under the same name keeps its age.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "json.h"
#include "rules.h"
#include "table.h"

int64_t unused_age_s(const struct moat_dp_row *row, uint64_t now_ns)
{
	if (!row->applied_ns)
		return -1;
	/* a clock set back since the apply: in place, for no time we know */
	if (row->applied_ns > now_ns)
		return 0;
	return (int64_t)((now_ns - row->applied_ns) / 1000000000u);
}

int unused_select(const struct moat_dp_row *rows, int n, uint64_t now_ns,
		  uint64_t min_age_s, struct unused *u)
{
	u->n = u->rules = u->younger = 0;
	u->v = calloc(n ? (size_t)n : 1, sizeof(*u->v));
	if (!u->v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		int64_t age = unused_age_s(&rows[i], now_ns);

		if (rows[i].fixed)
			continue;
		u->rules++;
		if (rows[i].packets)
			continue;
		/* an unknown age is not "at least" any age but none */
		if (min_age_s && (age < 0 || (uint64_t)age < min_age_s))
			u->younger++;
		else
			u->v[u->n++] = &rows[i];
	}
	return 0;
}

void unused_free(struct unused *u)
{
	free(u->v);
	u->v = NULL;
}

static int print_table(const struct verdicts *v, const struct unused *u,
		       uint64_t now_ns, FILE *out)
{
	static const char *const heads[] = { "RULE", "ACTION", "AGE",
					     "APPLIED" };
	struct table *t = table_new("llrl", heads);
	char age[32], when[64];
	struct tm tm;
	time_t secs;

	if (!t)
		return -ENOMEM;
	for (int i = 0; i < u->n; i++) {
		const struct moat_dp_row *r = u->v[i];
		int64_t a = unused_age_s(r, now_ns);

		if (a < 0) {
			snprintf(age, sizeof(age), "-");
			snprintf(when, sizeof(when), "-");
		} else {
			table_duration(age, sizeof(age),
				       (uint64_t)a * 1000000000u);
			secs = (time_t)(r->applied_ns / 1000000000u);
			localtime_r(&secs, &tm);
			strftime(when, sizeof(when), "%F %T %z", &tm);
		}
		table_row(t);
		table_cell(t, "%s", r->name);
		table_cell(t, "%s", rules_action(v, r));
		table_cell(t, "%s", age);
		table_cell(t, "%s", when);
	}
	table_print(t, out);
	table_free(t);
	return 0;
}

/* "3 of 5 rules unused", and what --min-age left out. */
static void print_summary(const struct unused_opts *o, const struct verdicts *v,
			  const struct unused *u, FILE *err)
{
	if (!v->has_generation) {
		fprintf(err, "no generation applied: no rules\n");
		return;
	}
	fprintf(err, "%d of %d rule%s unused", u->n, u->rules,
		u->rules == 1 ? "" : "s");
	if (o->min_age)
		fprintf(err,
			" and in place for at least %s (%d more unused, in place for less)",
			o->min_age, u->younger);
	fputc('\n', err);
}

static void print_json(const struct unused_opts *o, const struct verdicts *v,
		       const struct unused *u, uint64_t now_ns, FILE *out)
{
	struct json j;

	json_init(&j, out);
	json_obj_open(&j);
	json_kstr(&j, "instance", o->instance);
	json_key(&j, "generation");
	if (v->has_generation)
		json_uint(&j, v->generation);
	else
		json_null(&j);
	json_kuint(&j, "time_ns", now_ns);
	json_kuint(&j, "min_age_s", o->min_age_s);
	json_kuint(&j, "rules_total", (uint64_t)u->rules);
	json_kuint(&j, "unused_younger", (uint64_t)u->younger);
	json_key(&j, "rules");
	json_arr_open(&j);
	for (int i = 0; i < u->n; i++) {
		const struct moat_dp_row *r = u->v[i];
		int64_t a = unused_age_s(r, now_ns);

		json_obj_open(&j);
		json_kstr(&j, "name", r->name);
		json_kstr(&j, "action", rules_action(v, r));
		json_kuint(&j, "slot", r->slot);
		json_kuint(&j, "applied_ns", r->applied_ns);
		json_key(&j, "age_s");
		if (a < 0)
			json_null(&j);
		else
			json_uint(&j, (uint64_t)a);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

int unused_print(const struct unused_opts *o, const struct verdicts *v,
		 uint64_t now_ns, const struct moat_dp_row *rows, int n,
		 bool json, FILE *out, FILE *err)
{
	struct unused u;
	int ret;

	ret = unused_select(rows, n, now_ns, o->min_age_s, &u);
	if (ret < 0)
		return ret;
	if (json) {
		print_json(o, v, &u, now_ns, out);
	} else {
		/* no header alone: nothing on stdout when nothing is unused */
		if (u.n)
			ret = print_table(v, &u, now_ns, out);
		fflush(out);
		if (!ret)
			print_summary(o, v, &u, err);
	}
	unused_free(&u);
	return ret;
}
