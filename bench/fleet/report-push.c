// SPDX-License-Identifier: GPL-2.0-only
/*
 * --push's results: for each push and over all of them, how long after
 * the first request the hosts' desired arrived and their applied left,
 * and when the hosts API first said every host converged.
 */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "fleet.h"

/* the table's; --json has report.c's five */
static const double quantiles[] = { 0.5, 0.99, 1.0 };
#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

struct push_result {
	struct fleet_lat desired, applied; /* after t0 */
	struct fleet_lat host; /* from desired to applied: --apply's work */
	unsigned hosts; /* that applied it */
	unsigned failed; /* that answered an error */
};

/* What the hosts did with push @k; each host counted once. */
static void collect(const struct fleet *f, unsigned k, struct push_result *r)
{
	const struct fleet_push *u = &f->push[k];
	unsigned char *seen = calloc(f->o.hosts, 1);

	for (size_t i = 0; seen && u->version && i < f->napplied; i++) {
		const struct fleet_applied *a = &f->applied[i];

		if (a->version != u->version || seen[a->host])
			continue;
		seen[a->host] = 1;
		if (!a->ok) {
			r->failed++;
			continue;
		}
		r->hosts++;
		fleet_lat_add(&r->desired, a->desired_ns - u->t0_ns);
		fleet_lat_add(&r->applied, a->applied_ns - u->t0_ns);
		fleet_lat_add(&r->host, a->applied_ns - a->desired_ns);
	}
	free(seen);
}

static void result_free(struct push_result *r)
{
	fleet_lat_free(&r->desired);
	fleet_lat_free(&r->applied);
	fleet_lat_free(&r->host);
}

static void merge(struct push_result *all, const struct push_result *r)
{
	for (size_t i = 0; i < r->desired.n; i++) {
		fleet_lat_add(&all->desired, r->desired.us[i] * 1000ull);
		fleet_lat_add(&all->applied, r->applied.us[i] * 1000ull);
		fleet_lat_add(&all->host, r->host.us[i] * 1000ull);
	}
	all->hosts += r->hosts;
	all->failed += r->failed;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void cell(double ms_or_neg)
{
	if (ms_or_neg < 0)
		printf(" %9s", "-");
	else
		printf(" %9.1f", ms_or_neg);
}

static void q_cell(struct fleet_lat *l, double q)
{
	cell(l->n ? fleet_lat_quantile(l, q) / 1000.0 : -1);
}

static void lat_cells(struct fleet_lat *l)
{
	for (size_t i = 0; i < NQ; i++)
		q_cell(l, quantiles[i]);
}

/* A line of the table; @request_ms and @converged_ms -1 for none. */
static void row(const char *name, double request_ms, struct push_result *r,
		double converged_ms, unsigned expected)
{
	printf("%-8s", name);
	cell(request_ms);
	lat_cells(&r->desired);
	lat_cells(&r->applied);
	cell(converged_ms);
	q_cell(&r->host, 0.5);
	q_cell(&r->host, 1.0);
	printf("  %u of %u", r->hosts, expected);
	if (r->failed)
		printf(", %u failed", r->failed);
	printf("\n");
}

void fleet_report_push(struct fleet *f)
{
	struct push_result all = { 0 };
	struct fleet_lat conv = { 0 };
	char name[32];

	if (!f->o.push_file)
		return;
	printf("\npush %s to %u hosts, --apply %s, then %u more versions (ms after the push's first request)\n",
	       f->o.push_file, f->push_hosts, fleet_apply_names[f->o.apply],
	       f->o.pushes);
	printf("%-8s %9s %29s %29s %9s %19s\n", "push", "request",
	       "desired arrived", "applied sent", "API says", "on the host");
	printf("%-8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "", "", "p50",
	       "p99", "max", "p50", "p99", "max", "converged", "p50", "max");
	for (unsigned k = 0; k < f->npush; k++) {
		const struct fleet_push *u = &f->push[k];
		struct push_result r = { 0 };

		collect(f, k, &r);
		snprintf(name, sizeof(name), "%u v%llu", k + 1,
			 (unsigned long long)u->version);
		row(name, u->replied_ns ? ms(u->replied_ns - u->t0_ns) : -1, &r,
		    u->converged_ns ? ms(u->converged_ns - u->t0_ns) : -1,
		    f->push_hosts);
		merge(&all, &r);
		if (u->converged_ns)
			fleet_lat_add(&conv, u->converged_ns - u->t0_ns);
		result_free(&r);
	}
	/* the API's column: the median push */
	row("all", -1, &all,
	    conv.n ? fleet_lat_quantile(&conv, 0.5) / 1000.0 : -1,
	    f->push_hosts * f->npush);
	if (conv.n)
		printf("(API says converged: p50 of the pushes above, max %.1f ms; asked once every host had answered, then every %.0f ms)\n",
		       fleet_lat_quantile(&conv, 1.0) / 1000.0,
		       (double)FLEET_POLL_NS / 1e6);
	if (f->push_rss_kib) {
		printf("control plane RSS, MiB: %.1f before the first push; once each converged:",
		       f->push_rss_kib / 1024.0);
		for (unsigned k = 0; k < f->npush; k++)
			printf(" %.1f", f->push[k].cp_rss_kib / 1024.0);
		printf("\n");
	}
	result_free(&all);
	fleet_lat_free(&conv);
}

static struct json_object *result_json(struct push_result *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "hosts_applied",
			       json_object_new_int((int)r->hosts));
	json_object_object_add(o, "hosts_failed",
			       json_object_new_int((int)r->failed));
	json_object_object_add(o, "desired_ms", fleet_lat_json(&r->desired));
	json_object_object_add(o, "applied_ms", fleet_lat_json(&r->applied));
	json_object_object_add(o, "host_ms", fleet_lat_json(&r->host));
	return o;
}

/* "push": the setup, each push, and all of them. */
struct json_object *fleet_push_json(struct fleet *f)
{
	struct json_object *o = json_object_new_object(),
			   *list = json_object_new_array(), *p;
	struct push_result all = { 0 };

	json_object_object_add(o, "file",
			       json_object_new_string(f->o.push_file));
	json_object_object_add(
		o, "apply",
		json_object_new_string(fleet_apply_names[f->o.apply]));
	json_object_object_add(o, "hosts",
			       json_object_new_int((int)f->push_hosts));
	json_object_object_add(o, "ruleset",
			       json_object_new_string(f->run_name));
	json_object_object_add(o, "cp_rss_kib_before",
			       json_object_new_int64((int64_t)f->push_rss_kib));
	for (unsigned k = 0; k < f->npush; k++) {
		const struct fleet_push *u = &f->push[k];
		struct push_result r = { 0 };

		collect(f, k, &r);
		p = result_json(&r);
		json_object_object_add(
			p, "version",
			json_object_new_int64((int64_t)u->version));
		json_object_object_add(
			p, "request_ms",
			json_object_new_double(
				u->replied_ns ? ms(u->replied_ns - u->t0_ns) :
						0));
		/* null: the hosts API never said all converged */
		json_object_object_add(
			p, "converged_ms",
			u->converged_ns ? json_object_new_double(ms(
						  u->converged_ns - u->t0_ns)) :
					  NULL);
		json_object_object_add(p, "polls",
				       json_object_new_int((int)u->polls));
		json_object_object_add(
			p, "cp_rss_kib",
			json_object_new_int64((int64_t)u->cp_rss_kib));
		json_object_array_add(list, p);
		merge(&all, &r);
		result_free(&r);
	}
	json_object_object_add(o, "pushes", list);
	json_object_object_add(o, "all", result_json(&all));
	result_free(&all);
	return o;
}

bool fleet_push_complete(const struct fleet *f)
{
	if (f->npush != f->o.pushes + 1)
		return false;
	for (unsigned k = 0; k < f->npush; k++) {
		struct push_result r = { 0 };
		bool whole;

		collect(f, k, &r);
		whole = f->push[k].converged_ns && r.hosts == f->push_hosts &&
			!r.failed;
		result_free(&r);
		if (!whole)
			return false;
	}
	return true;
}

bool fleet_push_rss_ok(const struct fleet *f)
{
	uint64_t after;

	if (!f->o.max_rss_growth_kib || !f->npush)
		return true;
	after = f->push[f->npush - 1].cp_rss_kib;
	return f->push_rss_kib && after &&
	       after <= f->push_rss_kib + f->o.max_rss_growth_kib;
}
