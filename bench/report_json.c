// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON reports.  Keys of the first version keep their meaning, so
 * that `moat-bench compare` reads old results too; json.c reads them.
 */
#include <errno.h>
#include <linux/bpf.h>
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

void json_str(FILE *f, const char *s)
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
void json_header(FILE *f, const char *kind, int argc, char *const *argv)
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

static void doubles(FILE *f, const char *key, const double *v, int n)
{
	fprintf(f, ",\n      \"%s\": [", key);
	/* 6 significant digits: a slow peer runs at a thousandth of a Mpps */
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%.6g", i ? ", " : "", v[i]);
	fputc(']', f);
}

static void ratio(FILE *f, const char *key, const struct ratio_stats *r)
{
	fprintf(f,
		",\n      \"%s\": { \"median\": %.6g, \"min\": %.6g, \"max\": %.6g }",
		key, r->median, r->min, r->max);
}

static void totals(FILE *f, const char *key, const struct totals *t)
{
	fprintf(f,
		",\n      \"%s\": { \"generated\": %llu, \"received\": %llu, "
		"\"difference\": %lld, \"xmit_errors\": %llu, "
		"\"at_xdp\": %llu, \"tx_dropped\": %llu, \"stack_lost\": %llu, "
		"\"rx_drops\": %llu, \"generator_errors\": %llu, "
		"\"unaccounted\": %lld, \"consistent\": %s",
		key, (unsigned long long)t->generated,
		(unsigned long long)t->received,
		(long long)(t->generated - t->received),
		(unsigned long long)t->xmit_errors,
		(unsigned long long)t->xdp_seen,
		(unsigned long long)t->tx_dropped,
		(unsigned long long)totals_stack_lost(t),
		(unsigned long long)t->rx_drops,
		(unsigned long long)t->gen_errors,
		(long long)totals_unaccounted(t),
		totals_consistent(t) ? "true" : "false");
	if (t->has_returned)
		fprintf(f,
			", \"returned\": %llu, \"returned_unstamped\": %llu, "
			"\"return_errors\": %llu",
			(unsigned long long)t->returned,
			(unsigned long long)t->returned_unstamped,
			(unsigned long long)t->return_errors);
	fprintf(f, ", \"per_cpu\": [");
	for (int q = 0; q < t->ncpus; q++)
		fprintf(f, "%s%llu", q ? ", " : "",
			(unsigned long long)t->per_cpu[q]);
	fprintf(f, "] }");
}

static void json_ct(FILE *f, const struct ct_result *t)
{
	fprintf(f,
		",\n      \"conntrack\": { \"max\": %u, \"primed\": %llu, "
		"\"entries_start\": %llu, \"entries_end\": %llu, "
		"\"frames\": %llu, \"established\": %llu, \"elsewhere\": %llu, "
		"\"all_established\": %s, \"created\": %llu, \"reused\": %llu, "
		"\"evicted\": %llu, \"insert_failed\": %llu, \"invalid\": %llu, "
		"\"table_bytes\": %llu, \"bytes_per_flow\": %llu }",
		t->max, (unsigned long long)t->primed,
		(unsigned long long)t->entries_start,
		(unsigned long long)t->entries_end,
		(unsigned long long)t->processed,
		(unsigned long long)t->established,
		(unsigned long long)t->elsewhere,
		t->all_established ? "true" : "false",
		(unsigned long long)t->created, (unsigned long long)t->reused,
		(unsigned long long)t->evicted,
		(unsigned long long)t->insert_failed,
		(unsigned long long)t->invalid,
		(unsigned long long)t->table_bytes,
		(unsigned long long)t->bytes_per_flow);
}

static void json_case(FILE *f, const struct case_result *c)
{
	int r = c->rounds;

	fprintf(f, "    {\n      \"case\": ");
	json_str(f, c->label);
	fprintf(f, ",\n      \"scenario\": ");
	json_str(f, c->scenario);
	fprintf(f, ",\n      \"system\": ");
	json_str(f, c->system);
	fprintf(f, ",\n      \"tx\": \"%s\",\n      \"rules\": %u",
		gen_tx_name(c->tx), c->nrules);
	if (c->skipped[0]) {
		fprintf(f, ",\n      \"skipped\": ");
		json_str(f, c->skipped);
		fprintf(f, ",\n      \"failed\": %s\n    }",
			c->failed ? "true" : "false");
		return;
	}
	fprintf(f, ",\n      \"frame_len\": %u,\n      \"flows\": %llu",
		c->frame_len, (unsigned long long)c->flows);
	fprintf(f, ",\n      \"rules_owning_their_frame\": %zu", c->owned);
	if (c->aimed)
		fprintf(f, ",\n      \"rules_aimed_at\": %zu", c->aimed);
	if (c->has_testrun)
		fprintf(f,
			",\n      \"test_run\": { \"classifier_ns\": %.2f, \"min\": %.2f, "
			"\"max\": %.2f, \"moat_ns\": %.2f, \"empty_ns\": %.2f, "
			"\"calls_per_pass\": %llu, \"repeat\": %d, \"rounds\": %d }",
			c->testrun.ns, c->testrun.min, c->testrun.max,
			c->testrun.moat_ns, c->testrun.empty_ns,
			(unsigned long long)c->testrun.frames,
			c->testrun.repeat, c->testrun.rounds);
	if (c->has_testrun && c->testrun.has_hit)
		fprintf(f, ",\n      \"test_run_cache_hit_ns\": %.2f", c->testrun.hit_ns);
	if (c->has_testrun && c->testrun.has_spread) {
		fprintf(f,
			",\n      \"test_run_spread\": { \"ns\": %.2f, \"min\": %.2f, "
			"\"max\": %.2f, \"attached_ns\": %.2f, \"floor_ns\": %.2f, "
			"\"moat_ns\": %.2f, \"empty_ns\": %.2f, \"frames_per_pass\": %d",
			c->testrun.spread_ns, c->testrun.spread_min,
			c->testrun.spread_max, c->testrun.spread_entry_ns,
			c->testrun.spread_floor_ns, c->testrun.spread_moat_ns,
			c->testrun.spread_empty_ns, SPREAD_FRAMES);
		doubles(f, "rounds_ns", c->testrun.spread_round_ns,
			c->testrun.spread_kept);
		doubles(f, "floor_rounds_ns", c->testrun.spread_floor_round_ns,
			c->testrun.spread_kept);
		fputs(" }", f);
	}
	fprintf(f, ",\n      \"rounds\": %d", r);
	doubles(f, "baseline_mpps", c->base_mpps, r ? r + 1 : 0);
	doubles(f, "case_mpps", c->case_mpps, r);
	doubles(f, "ratios", c->ratios, r);
	ratio(f, "ratio", &c->ratio);
	doubles(f, "baseline_busy_mpps", c->base_busy, r ? r + 1 : 0);
	doubles(f, "case_busy_mpps", c->case_busy, r);
	doubles(f, "ratios_busy", c->ratios_busy, r);
	ratio(f, "ratio_busy", &c->ratio_busy);
	if (c->cas.elapsed_ns > 0)
		fprintf(f, ",\n      \"case_gbps\": %.4f",
			(double)c->cas.received * c->frame_len * 8 /
				c->cas.elapsed_ns);
	if (c->target > 0)
		fprintf(f,
			",\n      \"target\": %.2f,\n      \"target_met\": %s,\n"
			"      \"target_met_busy\": %s",
			c->target,
			c->ratio.median >= c->target ? "true" : "false",
			c->ratio_busy.median >= c->target ? "true" : "false");
	if (c->has_latency)
		fprintf(f,
			",\n      \"latency_ns\": { \"p50\": %.0f, \"p90\": %.0f, "
			"\"p99\": %.0f, \"samples\": %llu }",
			c->p50, c->p90, c->p99,
			(unsigned long long)hist_total(&c->cas.hist));
	if (c->has_apply)
		fprintf(f,
			",\n      \"apply\": { \"total_ns\": %llu, \"terms\": %u, "
			"\"lists\": %u, \"max_list\": %u, \"map_bytes\": %llu }",
			(unsigned long long)c->apply.total_ns, c->apply.nterms,
			c->apply.nlists, c->apply.max_list,
			(unsigned long long)c->apply.map_bytes);
	if (c->has_peer_apply)
		fprintf(f, ",\n      \"peer_apply_ns\": %llu",
			(unsigned long long)c->peer_apply_ns);
	if (c->has_ct)
		json_ct(f, &c->ct);
	if (c->has_fc)
		fprintf(f,
			",\n      \"flow_cache_state\": { \"ipv4_buckets_per_cpu\": %u, "
			"\"ipv4_buckets_in_use\": %u, \"ipv6_entries_per_cpu\": %u, "
			"\"ipv6_entries_in_use\": %u, \"misses\": %llu, \"second_bucket\": %llu, "
			"\"filled\": %llu, \"evicted\": %llu, \"held\": %llu",
			c->fc.buckets4, c->fc.used4, c->fc.entries6, c->fc.used6,
			(unsigned long long)c->fc.stat[MOAT_FCS_MISS],
			(unsigned long long)c->fc.stat[MOAT_FCS_SECOND],
			(unsigned long long)c->fc.stat[MOAT_FCS_FILL],
			(unsigned long long)c->fc.stat[MOAT_FCS_EVICT],
			(unsigned long long)c->fc.stat[MOAT_FCS_HELD]);
	if (c->has_fc && c->cas.has_fc)
		fprintf(f, ", \"measured_misses\": %llu, \"measured_second_bucket\": %llu",
			(unsigned long long)c->cas.fc_miss,
			(unsigned long long)c->cas.fc_second);
	if (c->has_fc)
		fprintf(f, " }");
	fprintf(f, ",\n      \"xmit_errors_reported\": %s",
		c->base.xmit_known && c->cas.xmit_known ? "true" : "false");
	totals(f, "baseline_frames", &c->base);
	totals(f, "case_frames", &c->cas);
	fprintf(f, "\n    }");
}

static int close_file(FILE *f, const char *path)
{
	if (fclose(f)) {
		bench_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int report_run_json(const struct run_report *r, const char *path)
{
	const struct run_opts *o = r->o;
	FILE *f = fopen(path, "w");
	char fc[16];

	if (!f) {
		bench_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	json_header(f, "run", o->argc, o->argv);
	fprintf(f, ",\n  \"cpus\": [");
	for (int i = 0; i < o->ncpus; i++)
		fprintf(f, "%s%d", i ? ", " : "", o->cpus[i]);
	fprintf(f,
		"],\n  \"seconds_per_run\": %.3f,\n  \"packets_per_run\": %llu,\n"
		"  \"rounds\": %d,\n  \"seed\": %llu,\n  \"ipv6_percent\": %u,\n"
		"  \"ruleset\": \"%s\",\n  \"baseline\": \"%s\",\n"
		"  \"conntrack_max\": %u,\n  \"flow_cache\": \"%s\",\n"
		"  \"floor_stride\": %u,\n"
		"  \"topology\": \"%s\",\n  \"cases\": [\n",
		o->seconds, (unsigned long long)o->packets, o->rounds,
		(unsigned long long)o->seed, o->ipv6_pct,
		o->shape == CB_PORTS ? "ports" : "acl",
		o->baseline == XDP_PASS ? "pass" : "drop", o->ct_max,
		bench_flow_cache_name(o->flow_cache, fc, sizeof(fc)),
		o->floor_stride,
		o->iface[0] ? "given interfaces" : "veth pair, two namespaces");
	for (int i = 0; i < r->ncases; i++) {
		json_case(f, &r->cases[i]);
		fprintf(f, "%s\n", i + 1 < r->ncases ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return close_file(f, path);
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

		fprintf(f, "    { \"system\": \"%s\", \"rules\": %u, ",
			a->system, a->nrules);
		if (a->skipped[0]) {
			fprintf(f, "\"skipped\": ");
			json_str(f, a->skipped);
			fprintf(f, " }%s\n", i + 1 < r->nrows ? "," : "");
			continue;
		}
		fprintf(f,
			"\"reps\": %d, \"parse_text_ms\": %.3f, "
			"\"parse_ms\": %.3f, \"compile_ms\": %.3f, "
			"\"load_ms\": %.3f, \"switch_ms\": %.3f, "
			"\"total_ms\": %.3f, \"wall_ms\": %.3f, "
			"\"end_to_end_ms\": %.3f, \"end_to_end_min_ms\": %.3f, "
			"\"end_to_end_max_ms\": %.3f, \"enforced_ms\": %.3f, "
			"\"enforced_min_ms\": %.3f, \"enforced_max_ms\": %.3f, ",
			a->reps, a->parse_text_ms, a->parse_ms, a->compile_ms,
			a->load_ms, a->switch_ms, a->total_ms, a->wall_ms,
			a->end_to_end_ms, a->e2e_min_ms, a->e2e_max_ms,
			a->enforced_ms, a->enforced_min_ms, a->enforced_max_ms);
		if (a->target_ms > 0)
			fprintf(f, "\"target_ms\": %.0f, \"target_met\": %s, ",
				a->target_ms,
				a->enforced_ms <= a->target_ms ? "true" : "false");
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
	return close_file(f, path);
}
