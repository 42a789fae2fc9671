// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tables for people: rates and ratios, latency, the classifier's
 * cost, where the frames went, and whether they add up.
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "report.h"

/* Rates from 0.0001 to 100 Mpps in 7 columns, 4 significant digits. */
static const char *mpps(char *buf, size_t len, double v)
{
	snprintf(buf, len, v >= 10 ? "%.2f" : v >= 1 ? "%.3f" : "%.4f", v);
	return buf;
}

/* Ratios in 6 columns: 3 decimals, 4 below 0.01 (a slow peer). */
static const char *ratio(char *buf, size_t len, double v)
{
	snprintf(buf, len, v >= 0.01 || v == 0 ? "%.3f" : "%.4f", v);
	return buf;
}

static void rates(FILE *f, const double *base, const double *cas, int rounds,
		  const struct ratio_stats *r)
{
	char b[16], c[16], rm[16], rl[16], rh[16];

	fprintf(f, " %7s %7s %6s %6s %6s",
		mpps(b, sizeof(b), stats_median(base, rounds ? rounds + 1 : 0)),
		mpps(c, sizeof(c), stats_median(cas, rounds)),
		ratio(rm, sizeof(rm), r->median), ratio(rl, sizeof(rl), r->min),
		ratio(rh, sizeof(rh), r->max));
}

static bool measured(const struct case_result *c)
{
	return c->rounds > 0 && !c->skipped[0];
}

static void rates_table(const struct run_report *r, FILE *f)
{
	fprintf(f, "\nbaseline: %s\n",
		r->o->baseline == XDP_PASS ?
			"the bare pass (bench_count, XDP_PASS; the sink drops "
			"in tc ingress)" :
			"the bare drop (bench_count, XDP_DROP)");
	if (r->o->flow_cache < 0)
		fprintf(f, "moat's flow cache: off (--flow-cache off)\n");
	else if (r->o->flow_cache > 0)
		fprintf(f,
			"moat's flow cache: 2^%d IPv4 buckets a CPU "
			"(--flow-cache %d)\n",
			r->o->flow_cache, r->o->flow_cache);
	if (r->o->floor_stride > 1)
		fprintf(f,
			"the floor's counters: %u counters apart (--floor-stride %u)\n",
			r->o->floor_stride, r->o->floor_stride);
	fprintf(f, "%-36s %-38s %-38s\n", "", "wall clock: Mpps, ratio",
		"busy time: Mpps, ratio");
	fprintf(f, "%-18s %-5s %6s %5s", "case", "tx", "frame", "own%");
	for (int k = 0; k < 2; k++)
		fprintf(f, " %7s %7s %6s %6s %6s", "base", "case", "ratio",
			"min", "max");
	fprintf(f, " %6s  %s\n", "Gbps", "target wall/busy");
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		char owned[16] = "-", target[24] = "-";
		double gbps = 0;

		if (c->has_testrun)
			continue;
		if (!measured(c)) {
			fprintf(f, "%-18s %-5s %s\n", c->label,
				gen_tx_name(c->tx),
				c->skipped[0] ? c->skipped : "not measured");
			continue;
		}
		/* cases whose frames never meet a rule own none: "-" */
		if (c->nrules && c->owned)
			snprintf(owned, sizeof(owned), "%.0f",
				 100.0 * (double)c->owned / c->nrules);
		if (c->target > 0)
			snprintf(target, sizeof(target), "%.2f %s/%s",
				 c->target,
				 c->ratio.median >= c->target ? "ok" : "MISS",
				 c->ratio_busy.median >= c->target ? "ok" :
								     "MISS");
		if (c->cas.elapsed_ns > 0)
			gbps = (double)c->cas.received * c->frame_len * 8 /
			       c->cas.elapsed_ns;
		fprintf(f, "%-18s %-5s %6u %5s", c->label, gen_tx_name(c->tx),
			c->frame_len, owned);
		rates(f, c->base_mpps, c->case_mpps, c->rounds, &c->ratio);
		rates(f, c->base_busy, c->case_busy, c->rounds, &c->ratio_busy);
		fprintf(f, " %6.3f  %s\n", gbps, target);
	}
}

/* moat's flow cache in each moat case: where it settled, what it did. */
static void flow_cache(const struct run_report *r, FILE *f)
{
	bool head = false;

	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		const uint64_t *v = c->fc.stat;
		const struct totals *t = &c->cas;
		double frames = t->xdp_seen ? (double)t->xdp_seen : 1.0;

		if (!c->has_fc)
			continue;
		if (!head)
			fprintf(f, "\nflow cache, a CPU's part in use of its size; misses and evicted: from the\n"
				   "apply on, warm-ups included; miss/fr and 2nd/fr: in the measured runs alone,\n"
				   "a frame (2nd: found in the key's second bucket)\n"
				   "%-18s %-5s %15s %15s %10s %10s %8s %6s\n",
				"case", "tx", "IPv4 buckets", "IPv6 entries", "misses", "evicted",
				"miss/fr", "2nd/fr");
		head = true;
		fprintf(f, "%-18s %-5s %7u/%-7u %7u/%-7u %10llu %10llu ", c->label,
			gen_tx_name(c->tx), c->fc.used4, c->fc.buckets4, c->fc.used6,
			c->fc.entries6, (unsigned long long)v[MOAT_FCS_MISS],
			(unsigned long long)v[MOAT_FCS_EVICT]);
		if (t->has_fc)
			fprintf(f, "%8.5f %6.3f\n", (double)t->fc_miss / frames,
				(double)t->fc_second / frames);
		else
			fprintf(f, "%8s %6s\n", "-", "-");
	}
}

static void extras(const struct run_report *r, FILE *f)
{
	bool lat = false, tr = false, apply = false;

	flow_cache(r, f);
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];

		if (c->has_latency) {
			if (!lat)
				fprintf(f,
					"\nlatency, generator to return "
					"(ns; histogram buckets of 1/8)\n"
					"%-18s %-5s %10s %10s %10s %12s\n",
					"case", "tx", "p50", "p90", "p99",
					"frames");
			lat = true;
			fprintf(f, "%-18s %-5s %10.0f %10.0f %10.0f %12llu\n",
				c->label, gen_tx_name(c->tx), c->p50, c->p90,
				c->p99,
				(unsigned long long)hist_total(&c->cas.hist));
		}
	}
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];

		if (!c->has_testrun)
			continue;
		if (!tr)
			fprintf(f,
				"\nBPF_PROG_TEST_RUN, each frame %d times "
				"a call (ns/frame; classifier = moat without its cache - empty;\n"
				"cache hit = moat with it - empty, '-' where the ruleset has none)\n"
				"%-18s %7s %10s %10s %10s %10s %10s %10s\n",
				c->testrun.repeat, "case", "rules",
				"classifier", "min", "max", "moat", "empty", "cache hit");
		tr = true;
		fprintf(f, "%-18s %7u %10.1f %10.1f %10.1f %10.1f %10.1f", c->label,
			c->nrules, c->testrun.ns, c->testrun.min, c->testrun.max,
			c->testrun.moat_ns, c->testrun.empty_ns);
		if (c->testrun.has_hit)
			fprintf(f, " %10.1f\n", c->testrun.hit_ns);
		else
			fprintf(f, " %10s\n", "-");
	}
	tr = false;
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];

		if (!c->has_testrun || !c->testrun.has_spread)
			continue;
		if (!tr)
			fprintf(f,
				"\nBPF_PROG_TEST_RUN, frames spread over the rules as the live "
				"ones are, each once (ns/frame;\nspread = moat as it runs - "
				"empty, attached = the same through moat's entry program, as\n"
				"on an interface, - empty, floor = the floor - empty, all after "
				"the generator's write\nof the frame)\n"
				"%-18s %7s %10s %10s %10s %10s %10s %10s %10s\n",
				"case", "rules", "spread", "min", "max", "attached", "floor",
				"moat", "empty");
		tr = true;
		fprintf(f, "%-18s %7u %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n",
			c->label, c->nrules, c->testrun.spread_ns,
			c->testrun.spread_min, c->testrun.spread_max,
			c->testrun.spread_entry_ns, c->testrun.spread_floor_ns,
			c->testrun.spread_moat_ns, c->testrun.spread_empty_ns);
	}
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];

		if (!c->has_peer_apply)
			continue;
		if (!apply)
			fprintf(f, "\npeer install, text to enforcement "
				   "(the peer's own measure)\n");
		apply = true;
		fprintf(f, "%-18s %-5s %10.1f ms\n", c->label,
			gen_tx_name(c->tx), (double)c->peer_apply_ns / 1e6);
	}
}

/* The case of @scenario at @c's rule count and transmitter, measured. */
static const struct case_result *peer_case(const struct run_report *r,
					   const struct case_result *c,
					   const char *scenario)
{
	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *o = &r->cases[i];

		if (!strcmp(o->scenario, scenario) && o->nrules == c->nrules &&
		    o->tx == c->tx && measured(o))
			return o;
	}
	return NULL;
}

static void over(FILE *f, const struct ratio_stats *m,
		 const struct ratio_stats *fl)
{
	char rm[16], rl[16], rh[16];

	/* the range is the widest the two spreads allow */
	fprintf(f, " %6s %6s %6s",
		ratio(rm, sizeof(rm),
		      fl->median > 0 ? m->median / fl->median : 0),
		ratio(rl, sizeof(rl), fl->max > 0 ? m->min / fl->max : 0),
		ratio(rh, sizeof(rh), fl->min > 0 ? m->max / fl->min : 0));
}

/*
 * moat over the floor at the same rule count: what moat costs beyond
 * the least any firewall with per-rule counters does.
 */
static void floor_table(const struct run_report *r, FILE *f)
{
	bool head = false;

	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *m = &r->cases[i], *fl;

		if (strcmp(m->scenario, "moat") || !measured(m))
			continue;
		fl = peer_case(r, m, "floor");
		if (!fl)
			continue;
		if (!head)
			fprintf(f,
				"\nmoat over the floor at the same rule count "
				"(median ratio over median ratio;\n"
				"min/max: moat's min over the floor's max, "
				"moat's max over the floor's min)\n"
				"%-18s %-5s %6s %6s %6s %6s %6s %6s\n",
				"case", "tx", "wall", "min", "max", "busy",
				"min", "max");
		head = true;
		fprintf(f, "%-18s %-5s", m->label, gen_tx_name(m->tx));
		over(f, &m->ratio, &fl->ratio);
		over(f, &m->ratio_busy, &fl->ratio_busy);
		fputc('\n', f);
	}
}

/* The conntrack cases: the table and moat's rows over each case. */
static void ct_table(const struct run_report *r, FILE *f)
{
	bool head = false;

	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		const struct ct_result *t = &c->ct;

		if (!c->has_ct)
			continue;
		if (!head)
			fprintf(f,
				"\nconntrack, from the end of setup to the last run "
				"(warm-ups included): entries, frames moat "
				"counted, entries made\n"
				"%-18s %-5s %8s %8s %9s %9s %11s %11s %11s %9s "
				"%10s %8s %8s %9s %6s\n",
				"case", "tx", "max", "primed", "at start",
				"at end", "frames", "established", "elsewhere",
				"made", "evicted", "refused", "invalid",
				"table MiB", "B/flow");
		head = true;
		fprintf(f,
			"%-18s %-5s %8u %8llu %9llu %9llu %11llu %11llu %11llu "
			"%9llu %10llu %8llu %8llu %9.1f %6llu\n",
			c->label, gen_tx_name(c->tx), t->max,
			(unsigned long long)t->primed,
			(unsigned long long)t->entries_start,
			(unsigned long long)t->entries_end,
			(unsigned long long)t->processed,
			(unsigned long long)t->established,
			(unsigned long long)t->elsewhere,
			(unsigned long long)t->created,
			(unsigned long long)t->evicted,
			(unsigned long long)t->insert_failed,
			(unsigned long long)t->invalid,
			(double)t->table_bytes / (1 << 20),
			(unsigned long long)t->bytes_per_flow);
	}
}

static void frames_side(FILE *f, const struct case_result *c, int side)
{
	const struct totals *t = side ? &c->cas : &c->base;
	char xmit[24] = "?", ret[24] = "-", cpus[64] = "";
	size_t len = 0;

	if (t->xmit_known)
		snprintf(xmit, sizeof(xmit), "%llu",
			 (unsigned long long)t->xmit_errors);
	if (t->has_returned)
		snprintf(ret, sizeof(ret), "%llu/%lld",
			 (unsigned long long)t->returned,
			 (long long)totals_unaccounted_return(t));
	for (int q = 0; q < t->ncpus && len < sizeof(cpus); q++)
		if (t->per_cpu[q])
			len += (size_t)snprintf(
				cpus + len, sizeof(cpus) - len, "%s%d:%llu",
				len ? " " : "", q,
				(unsigned long long)t->per_cpu[q]);
	fprintf(f,
		"%-18s %-5s %-4s %12llu %12llu %12llu %9s %8llu %9llu %11s %6lld  %s\n",
		c->label, gen_tx_name(c->tx), side ? "case" : "base",
		(unsigned long long)t->generated,
		(unsigned long long)t->xdp_seen,
		(unsigned long long)t->received, xmit,
		(unsigned long long)t->tx_dropped,
		(unsigned long long)totals_stack_lost(t), ret,
		(long long)totals_unaccounted(t), cpus);
}

void report_run_table(const struct run_report *r, FILE *f)
{
	rates_table(r, f);
	floor_table(r, f);
	extras(r, f);
	ct_table(r, f);
	fprintf(f, "\nframes, all runs of each side: generated = at XDP + "
		   "xmit err + tx drop (+ unaccounted)\n");
	fprintf(f, "%-18s %-5s %-4s %12s %12s %12s %9s %8s %9s %11s %6s  %s\n",
		"case", "tx", "side", "generated", "at XDP", "processed",
		"xmit err", "tx drop", "stack", "returned/?", "unacc",
		"per CPU (at XDP)");
	for (int i = 0; i < r->ncases; i++) {
		if (!measured(&r->cases[i]))
			continue;
		frames_side(f, &r->cases[i], 0);
		frames_side(f, &r->cases[i], 1);
	}
}

int report_check(const struct run_report *r, FILE *f)
{
	int bad = 0, checked = 0;

	for (int i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];

		if (c->failed) {
			fprintf(f, "check: %s/%s: %s\n", c->label,
				gen_tx_name(c->tx), c->skipped);
			checked++;
			bad++;
			continue;
		}
		if (!measured(c))
			continue;
		checked++;
		if (c->has_ct && c->ct.all_established && c->ct.elsewhere) {
			fprintf(f,
				"check: %s/%s: %llu frames of established flows "
				"did not pass as established\n",
				c->label, gen_tx_name(c->tx),
				(unsigned long long)c->ct.elsewhere);
			bad++;
			continue;
		}
		for (int s = 0; s < 2; s++) {
			const struct totals *t = s ? &c->cas : &c->base;

			if (totals_consistent(t))
				continue;
			fprintf(f,
				"check: %s/%s %s: %lld frames unaccounted, %lld on "
				"the way back%s%s%s%s\n",
				c->label, gen_tx_name(c->tx),
				s ? "case" : "baseline",
				(long long)totals_unaccounted(t),
				(long long)totals_unaccounted_return(t),
				t->received > t->xdp_seen ?
					", more processed than XDP saw" :
					"",
				t->xmit_known ? "" :
						", veth statistics unknown",
				t->link_known ? "" :
						", link statistics unknown",
				t->gen_errors ? ", generator errors" : "");
			bad++;
			break;
		}
	}
	fprintf(f, "\nself-consistency: %d of %d cases add up%s\n",
		checked - bad, checked,
		bad ? "" : " (every frame accounted for)");
	return bad;
}

void report_apply_table(const struct apply_report *r, FILE *f)
{
	fprintf(f,
		"\n%-12s %7s %5s %8s %8s %8s %8s %8s %8s %8s %8s %8s %9s %9s %9s\n",
		"system", "rules", "reps", "text ms", "parse", "compile",
		"load", "switch", "total", "wall", "enforced", "e2e ms",
		"target", "maps MiB", "RSS MiB");
	for (int i = 0; i < r->nrows; i++) {
		const struct apply_result *a = &r->rows[i];
		char target[16] = "-";

		if (a->skipped[0]) {
			fprintf(f, "%-12s %7u skipped: %s\n", a->system,
				a->nrules, a->skipped);
			continue;
		}
		if (strncmp(a->system, "moat", 4)) {
			/* a peer's install has no phases: in force when it returns */
			fprintf(f, "%-12s %7u %5d%63s %8.2f %8.2f\n", a->system,
				a->nrules, a->reps, "", a->enforced_ms,
				a->end_to_end_ms);
			continue;
		}
		if (a->target_ms > 0)
			snprintf(target, sizeof(target), "%.0f %s",
				 a->target_ms,
				 a->enforced_ms <= a->target_ms ? "ok" : "MISS");
		fprintf(f,
			"%-12s %7u %5d %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f "
			"%8.2f %8.2f %9s %9.2f %9.2f\n",
			a->system, a->nrules, a->reps, a->parse_text_ms,
			a->parse_ms, a->compile_ms, a->load_ms, a->switch_ms,
			a->total_ms, a->wall_ms, a->enforced_ms, a->end_to_end_ms,
			target,
			(double)a->map_bytes / (1 << 20),
			(double)a->rss_kb / 1024);
	}
	fprintf(f,
		"\ntext: parsing the canonical text; parse..total: "
		"moat_apply_stats; wall: moat_dp_apply;\n"
		"enforced: text to the switch, after which every frame meets "
		"the new ruleset, checked against the target;\n"
		"e2e: text + wall, the switch's grace period and the old "
		"generation's cleanup included;\n"
		"a peer's figures are its install (text to enforcement);\n"
		"RSS after the last apply (peak in the JSON)\n");
	for (int i = 0; i < r->nrows; i++)
		if (!strncmp(r->rows[i].system, "moat+", 5)) {
			fprintf(f,
				"moat+Nif: moat attached to N interfaces (--attach)\n");
			break;
		}
}
