// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "report.h"

#ifndef MOAT_VERSION
#define MOAT_VERSION "unknown"
#endif

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	if (f)
		fclose(f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The "where and how" part, common to both reports; leaves the object open. */
static void json_header(FILE *f, const char *kind, int argc, char *const *argv)
{
	char host[256] = "", cpu[128], date[32];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(f, "{\n  \"benchmark\": ");
	json_str(f, kind);
	fprintf(f, ",\n  \"machine\": ");
	json_str(f, host);
	fprintf(f, ",\n  \"cpus_online\": %ld,\n  \"cpu_model\": ",
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, cpu);
	fprintf(f, ",\n  \"kernel\": ");
	json_str(f, u.release);
	fprintf(f, ",\n  \"kernel_version\": ");
	json_str(f, u.version);
	fprintf(f, ",\n  \"moat_version\": ");
	json_str(f, MOAT_VERSION);
	fprintf(f, ",\n  \"date\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"command_line\": [");
	for (int i = 0; i < argc; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, argv[i]);
	}
	fprintf(f, "]");
}

static void json_doubles(FILE *f, const double *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%.4f", i ? ", " : "", v[i]);
	fputc(']', f);
}

static void json_totals(FILE *f, const char *name, const struct totals *t)
{
	fprintf(f,
		"      \"%s\": { \"generated\": %llu, \"received\": %llu, "
		"\"difference\": %lld, \"xmit_errors\": %llu }",
		name, (unsigned long long)t->generated,
		(unsigned long long)t->received,
		(long long)(t->generated - t->received),
		(unsigned long long)t->xmit_errors);
}

static void json_case(FILE *f, const struct case_result *c)
{
	fprintf(f, "    {\n      \"case\": ");
	json_str(f, c->label);
	fprintf(f, ",\n      \"rules\": %u,\n      \"frame_len\": %u,\n",
		c->nrules, c->frame_len);
	fprintf(f, "      \"rules_owning_their_frame\": %zu,\n", c->owned);
	fprintf(f,
		"      \"rounds\": %d,\n      \"baseline_mpps\": ", c->rounds);
	json_doubles(f, c->base_mpps, c->rounds ? c->rounds + 1 : 0);
	fprintf(f, ",\n      \"case_mpps\": ");
	json_doubles(f, c->case_mpps, c->rounds);
	fprintf(f, ",\n      \"ratios\": ");
	json_doubles(f, c->ratios, c->rounds);
	fprintf(f,
		",\n      \"ratio\": { \"median\": %.4f, \"min\": %.4f, "
		"\"max\": %.4f },\n",
		c->ratio.median, c->ratio.min, c->ratio.max);
	fprintf(f, "      \"baseline_busy_mpps\": ");
	json_doubles(f, c->base_busy, c->rounds ? c->rounds + 1 : 0);
	fprintf(f, ",\n      \"case_busy_mpps\": ");
	json_doubles(f, c->case_busy, c->rounds);
	fprintf(f, ",\n      \"ratios_busy\": ");
	json_doubles(f, c->ratios_busy, c->rounds);
	fprintf(f,
		",\n      \"ratio_busy\": { \"median\": %.4f, \"min\": %.4f, "
		"\"max\": %.4f },\n",
		c->ratio_busy.median, c->ratio_busy.min, c->ratio_busy.max);
	if (c->target > 0)
		fprintf(f,
			"      \"target\": %.2f,\n      \"target_met\": %s,\n"
			"      \"target_met_busy\": %s,\n",
			c->target,
			c->ratio.median >= c->target ? "true" : "false",
			c->ratio_busy.median >= c->target ? "true" : "false");
	if (c->has_apply)
		fprintf(f,
			"      \"apply\": { \"total_ns\": %llu, \"terms\": %u, "
			"\"lists\": %u, \"max_list\": %u, \"map_bytes\": %llu },\n",
			(unsigned long long)c->apply.total_ns, c->apply.nterms,
			c->apply.nlists, c->apply.max_list,
			(unsigned long long)c->apply.map_bytes);
	fprintf(f, "      \"xmit_errors_reported\": %s,\n",
		c->xmit_known ? "true" : "false");
	json_totals(f, "baseline_frames", &c->base);
	fprintf(f, ",\n");
	json_totals(f, "case_frames", &c->cas);
	fprintf(f, "\n    }");
}

int report_run_json(const struct run_report *r, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		bench_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	json_header(f, "run", r->argc, r->argv);
	fprintf(f, ",\n  \"cpus\": [");
	for (int i = 0; i < r->ncpus; i++)
		fprintf(f, "%s%d", i ? ", " : "", r->cpus[i]);
	fprintf(f,
		"],\n  \"seconds_per_run\": %.3f,\n  \"rounds\": %d,\n"
		"  \"seed\": %llu,\n  \"ipv6_percent\": %u,\n  \"cases\": [\n",
		r->seconds, r->rounds, (unsigned long long)r->seed,
		r->ipv6_pct);
	for (int i = 0; i < r->ncases; i++) {
		json_case(f, &r->cases[i]);
		fprintf(f, "%s\n", i + 1 < r->ncases ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f)) {
		bench_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void table_rates(FILE *f, const double *base, const double *cas,
			int rounds, const struct ratio_stats *r)
{
	fprintf(f, " %6.3f %6.3f %6.3f %6.3f %6.3f",
		stats_median(base, rounds ? rounds + 1 : 0),
		stats_median(cas, rounds), r->median, r->min, r->max);
}

void report_run_table(const struct run_report *r, FILE *f)
{
	fprintf(f, "\n%-28s %-34s %-34s\n", "", "wall clock: Mpps, ratio",
		"busy time: Mpps, ratio");
	fprintf(f, "%-10s %7s %5s %4s", "case", "rules", "frame", "own%");
	for (int k = 0; k < 2; k++)
		fprintf(f, " %6s %6s %6s %6s %6s", "base", "case", "ratio",
			"min", "max");
	fprintf(f, "  %s\n", "target wall/busy");
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		char rules[16] = "-", owned[16] = "-", target[16] = "-";

		if (c->nrules) {
			snprintf(rules, sizeof(rules), "%u", c->nrules);
			snprintf(owned, sizeof(owned), "%.0f",
				 100.0 * (double)c->owned / c->nrules);
		}
		if (c->target > 0)
			snprintf(target, sizeof(target), "%.2f %s/%s",
				 c->target,
				 c->ratio.median >= c->target ? "ok" : "MISS",
				 c->ratio_busy.median >= c->target ? "ok" :
								     "MISS");
		fprintf(f, "%-10s %7s %5u %4s", c->label, rules, c->frame_len,
			owned);
		table_rates(f, c->base_mpps, c->case_mpps, c->rounds,
			    &c->ratio);
		table_rates(f, c->base_busy, c->case_busy, c->rounds,
			    &c->ratio_busy);
		fprintf(f, "  %s\n", target);
	}

	fprintf(f,
		"\nframes (all runs of each side; difference = generated - received)\n");
	fprintf(f, "%-12s %-9s %14s %14s %10s %10s\n", "case", "side",
		"generated", "received", "difference", "xmit err");
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		const struct totals *t[2] = { &c->base, &c->cas };

		for (int s = 0; s < 2; s++) {
			char err[24] = "n/a";

			if (c->xmit_known)
				snprintf(err, sizeof(err), "%llu",
					 (unsigned long long)t[s]->xmit_errors);
			fprintf(f, "%-12s %-9s %14llu %14llu %10lld %10s\n",
				c->label, s ? "case" : "baseline",
				(unsigned long long)t[s]->generated,
				(unsigned long long)t[s]->received,
				(long long)(t[s]->generated - t[s]->received),
				err);
		}
	}
}

void report_apply_table(const struct apply_report *r, FILE *f)
{
	fprintf(f, "\n%7s %5s %8s %8s %8s %8s %8s %8s %8s %8s %9s %9s %9s\n",
		"rules", "reps", "text ms", "parse", "compile", "load",
		"switch", "total", "wall", "e2e ms", "target", "maps MiB",
		"RSS MiB");
	for (int i = 0; i < r->nrows; i++) {
		const struct apply_result *a = &r->rows[i];
		char target[16] = "-";

		if (a->target_ms > 0)
			snprintf(target, sizeof(target), "%.0f %s",
				 a->target_ms,
				 a->end_to_end_ms <= a->target_ms ? "ok" :
								    "MISS");
		fprintf(f,
			"%7u %5d %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f "
			"%9s %9.2f %9.2f\n",
			a->nrules, a->reps, a->parse_text_ms, a->parse_ms,
			a->compile_ms, a->load_ms, a->switch_ms, a->total_ms,
			a->wall_ms, a->end_to_end_ms, target,
			(double)a->map_bytes / (1 << 20),
			(double)a->rss_kb / 1024);
	}
	fprintf(f, "\ntext: parsing the canonical text; parse..total: "
		   "moat_apply_stats; wall: moat_dp_apply;\n"
		   "e2e: text + wall, checked against the target; RSS after "
		   "the last apply (peak in the JSON)\n");
}

int report_apply_json(const struct apply_report *r, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		bench_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	json_header(f, "apply-time", r->argc, r->argv);
	fprintf(f, ",\n  \"seed\": %llu,\n  \"rows\": [\n",
		(unsigned long long)r->seed);
	for (int i = 0; i < r->nrows; i++) {
		const struct apply_result *a = &r->rows[i];

		fprintf(f,
			"    { \"rules\": %u, \"reps\": %d, \"parse_text_ms\": %.3f, "
			"\"parse_ms\": %.3f, \"compile_ms\": %.3f, "
			"\"load_ms\": %.3f, \"switch_ms\": %.3f, "
			"\"total_ms\": %.3f, \"wall_ms\": %.3f, "
			"\"end_to_end_ms\": %.3f, ",
			a->nrules, a->reps, a->parse_text_ms, a->parse_ms,
			a->compile_ms, a->load_ms, a->switch_ms, a->total_ms,
			a->wall_ms, a->end_to_end_ms);
		if (a->target_ms > 0)
			fprintf(f, "\"target_ms\": %.0f, \"target_met\": %s, ",
				a->target_ms,
				a->end_to_end_ms <= a->target_ms ? "true" :
								   "false");
		fprintf(f,
			"\"terms\": %u, \"lists\": %u, \"max_list\": %u, "
			"\"map_bytes\": %llu, \"rss_kb\": %llu, "
			"\"peak_rss_kb\": %llu }%s\n",
			a->nterms, a->nlists, a->max_list,
			(unsigned long long)a->map_bytes,
			(unsigned long long)a->rss_kb,
			(unsigned long long)a->hwm_kb,
			i + 1 < r->nrows ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f)) {
		bench_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}
