// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scenario table, and the scenarios small enough to live beside it:
 * the A/A case (the baseline against a second copy of itself: the noise
 * floor of the run), the reflector, moat at each rule count, and the
 * floor at each rule count (rx_floor.c: the least a firewall with
 * per-rule counters does, on moat's frames).
 *
 * The conntrack scenarios and the bare pass live in sc_conntrack.c.
 *
 * The reflector is the baseline latency of the forwarding cases: frames
 * of the --proto templates carry a stamp after their headers; veth-b
 * sends them back with XDP_TX and veth-a files now - stamp.  The mesh
 * scenario will put its forwarding between the two and reuse
 * rx_reflect's return path and histogram.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "scenario.h"

/* Rules of the traffic of the A/A case: its frames only need to be varied. */
#define AA_RULES 1000

struct aa_state {
	struct moat_ruleset rs;
	struct cb_traffic cb;
};

static int aa_setup(struct bench_run *run, struct bench_case *c)
{
	struct aa_state *st = calloc(1, sizeof(*st));
	struct cb_opts co = { .seed = run->o->seed,
			      .nrules = AA_RULES,
			      .ipv6_pct = run->o->ipv6_pct,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	struct traffic_opts to;
	int ret;

	if (!st)
		return -ENOMEM;
	c->priv = st;
	bench_traffic_opts(run, &to);
	ret = cb_generate(&co, &st->rs)				       ?:
		      cb_traffic_build(&st->rs, run->o->seed, &st->cb) ?:
		      traffic_from_rules(&st->rs, &st->cb, &to, &c->traffic);
	if (ret)
		return ret;
	c->own_traffic = true;
	c->own_rx = true;
	return bench_run_baseline_open(run, &c->rx, "baseline-2");
}

static void aa_teardown(struct bench_run *run, struct bench_case *c)
{
	struct aa_state *st = c->priv;

	if (!st)
		return;
	cb_traffic_free(&st->cb);
	moat_ruleset_free(&st->rs);
	free(st);
	c->priv = NULL;
}

/* The ratios the team must reach (the XDP firewall issue's targets). */
static double moat_target(uint32_t nrules)
{
	switch (nrules) {
	case 1:
		return 0.95;
	case 10000:
		return 0.90;
	case 100000:
		return 0.80;
	default:
		return 0;
	}
}

int bench_run_baseline_open(const struct bench_run *run, struct receiver **out,
			    const char *name)
{
	return run->o->baseline == XDP_PASS ? rx_pass_open(out, name) :
					      rx_drop_open(out, name);
}

/* Counter slots for every --rules count: the fixed ones, then one a rule. */
static uint32_t moat_capacity(const struct run_opts *o)
{
	uint32_t max = 0;

	for (int i = 0; i < o->nrules; i++)
		if (o->rules[i] > max)
			max = o->rules[i];
	max += MOAT_SLOT_FIRST_RULE;
	return max < MOAT_DEFAULT_CAPACITY ? MOAT_DEFAULT_CAPACITY : max;
}

int bench_run_moat(struct bench_run *run, struct receiver **moat)
{
	int ret;

	if (!run->moat) {
		snprintf(run->instance, sizeof(run->instance), "bench-%d",
			 (int)getpid());
		ret = rx_moat_open(&run->moat, run->instance,
				   moat_capacity(run->o), NULL,
				   run->o->flow_cache);
		if (ret)
			return ret;
	}
	*moat = run->moat;
	return 0;
}

/* moat without its flow cache: a second instance, "bench-PID-nc" */
int bench_run_moat_nc(struct bench_run *run, struct receiver **moat)
{
	int ret;

	if (!run->moat_nc) {
		snprintf(run->instance_nc, sizeof(run->instance_nc),
			 "bench-%d-nc", (int)getpid());
		ret = rx_moat_open(&run->moat_nc, run->instance_nc,
				   moat_capacity(run->o), NULL, -1);
		if (ret)
			return ret;
	}
	*moat = run->moat_nc;
	return 0;
}

int bench_run_moat_ct(struct bench_run *run, struct receiver **moat,
		      struct receiver **inner)
{
	struct moat_ct_opts ct = { .enabled = true, .max = run->o->ct_max };
	struct receiver *m;
	int ret;

	if (!run->moat_ct) {
		/* "bench-PID-ct": moat-bench cleanup knows it by its PID */
		snprintf(run->instance_ct, sizeof(run->instance_ct),
			 "bench-%d-ct", (int)getpid());
		ret = rx_moat_open(&m, run->instance_ct, moat_capacity(run->o),
				   &ct, 0);
		ret = ret ?: rx_sink_open(&run->moat_ct, m, true);
		if (ret)
			return ret;
		run->moat_ct_inner = m;
	}
	*moat = run->moat_ct;
	*inner = run->moat_ct_inner;
	return 0;
}

static int moat_apply_case(struct bench_run *run, struct bench_case *c,
			   struct receiver *moat)
{
	int ret;

	c->res->owned = c->cb->owned;
	/* the targets are for the ClassBench-style rulesets */
	c->res->target =
		run->o->shape == CB_ACL && run->o->baseline == XDP_DROP ?
			moat_target(c->nrules) :
			0;
	bench_progress("%s: applying (%zu of %u rules own their frame)",
		       c->res->label, c->cb->owned, c->nrules);
	ret = rx_moat_apply(moat, c->rs, &c->res->apply);
	c->res->has_apply = !ret;
	c->rx = moat;
	if (!ret)
		moat_dp_fc_status(rx_moat_dp(moat), &c->res->fc);
	return ret;
}

/* The flow cache's events since the apply, and its size now. */
static void moat_teardown(struct bench_run *run, struct bench_case *c)
{
	struct moat_dp_fc_status now;

	(void)run;
	if (!c->res->has_apply || !c->rx)
		return;
	moat_dp_fc_status(rx_moat_dp(c->rx), &now);
	for (int i = 0; i < MOAT_FCS_MAX; i++)
		now.stat[i] -= c->res->fc.stat[i];
	c->res->fc = now;
	c->res->has_fc = now.counted && (now.buckets4 || now.entries6);
}

/* The run's instance, attached the way @a says at each round. */
static int moat_attached(struct bench_run *run, struct bench_case *c,
			 enum moat_attach a)
{
	struct receiver *moat;
	int ret = bench_run_moat(run, &moat);

	if (!ret)
		moat_dp_set_attach(rx_moat_dp(moat), a);
	return ret ?: moat_apply_case(run, c, moat);
}

static int moat_setup(struct bench_run *run, struct bench_case *c)
{
	return moat_attached(run, c, MOAT_ATTACH_AUTO);
}

/*
 * The same instance through its entry program, as moatd's xdp-attach
 * entry runs it: the tail call's cost beside moat's case.
 */
static int entry_setup(struct bench_run *run, struct bench_case *c)
{
	return moat_attached(run, c, MOAT_ATTACH_ENTRY);
}

static int nocache_setup(struct bench_run *run, struct bench_case *c)
{
	struct receiver *moat;

	return bench_run_moat_nc(run, &moat) ?: moat_apply_case(run, c, moat);
}

/*
 * The rule-spread frames (the run's default), one counter a rule.  It
 * matches no rule, so no rule owns a frame: own% stays "-", as for pass.
 */
static int floor_setup(struct bench_run *run, struct bench_case *c)
{
	c->own_rx = true;
	return rx_floor_open(&c->rx, c->nrules, run->o->floor_stride);
}

static int reflect_setup(struct bench_run *run, struct bench_case *c)
{
	static const enum traffic_proto udp4 = TP_UDP4;
	const struct run_opts *o = run->o;
	struct traffic_opts to;
	int ret;

	bench_traffic_opts(run, &to);
	to.stamp = 1;
	ret = traffic_from_protos(o->nprotos ? o->protos : &udp4,
				  o->nprotos ? o->nprotos : 1, &to,
				  &c->traffic);
	if (ret)
		return ret;
	c->own_traffic = true;
	c->own_rx = true;
	return rx_reflect_open(&c->rx, c->traffic.stamp_off);
}

/*
 * The table.  Order is the order of the report; a scenario without
 * SC_EACH_COUNT runs once, before the rule counts.
 */
const struct scenario bench_scenarios[] = {
	{ .name = "aa",
	  .system = "baseline",
	  .summary =
		  "the baseline against a second copy of itself (noise floor)",
	  .setup = aa_setup,
	  .teardown = aa_teardown },
	{ .name = "reflect",
	  .system = "reflect",
	  .summary = "frames returned with XDP_TX: latency percentiles",
	  .setup = reflect_setup },
	{ .name = "ct-new",
	  .system = "ct-new",
	  .summary = "conntrack: each frame a new flow into a full table",
	  .setup = sc_ct_new_setup,
	  .teardown = sc_ct_teardown },
	{ .name = "moat",
	  .summary = "moat at each rule count, traffic spread across rules",
	  .flags = SC_EACH_COUNT,
	  .by_default = true,
	  .setup = moat_setup,
	  .teardown = moat_teardown },
	{ .name = "moat-entry",
	  .system = "moat-entry",
	  .summary = "moat through its entry program (xdp-attach entry), "
		     "where moat runs the generation directly",
	  .flags = SC_EACH_COUNT,
	  .setup = entry_setup,
	  .teardown = moat_teardown },
	{ .name = "floor",
	  .system = "floor",
	  .summary = "parse, one counter of N a frame, drop: the least "
		     "a firewall does",
	  .flags = SC_EACH_COUNT,
	  .setup = floor_setup },
	{ .name = "no-cache",
	  .system = "moat-nc",
	  .summary = "moat without its flow cache: every frame classified",
	  .flags = SC_EACH_COUNT,
	  .setup = nocache_setup },
	{ .name = "ct-miss",
	  .system = "ct-miss",
	  .summary = "conntrack on, no flow known: lookup, then the rules",
	  .flags = SC_EACH_COUNT,
	  .setup = sc_ct_miss_setup,
	  .teardown = sc_ct_teardown },
	{ .name = "ct-est",
	  .system = "ct-est",
	  .summary = "conntrack on, every flow established: passed at lookup",
	  .flags = SC_EACH_COUNT,
	  .setup = sc_ct_est_setup,
	  .teardown = sc_ct_teardown },
	{ .name = "pass",
	  .system = "pass",
	  .summary = "the bare pass (XDP_PASS, the sink) on ct-est's frames",
	  .flags = SC_EACH_COUNT,
	  .setup = sc_pass_setup },
	{ .name = "peers",
	  .summary = "each --peers firewall with the same ruleset",
	  .flags = SC_EACH_COUNT | SC_EACH_PEER,
	  .setup = sc_peer_setup },
	{ .name = "test-run",
	  .summary = "BPF_PROG_TEST_RUN ns/frame of moat's classifier alone",
	  .flags = SC_EACH_COUNT | SC_NO_TRAFFIC,
	  .measure = sc_testrun_measure },
};

const int bench_nscenarios =
	(int)(sizeof(bench_scenarios) / sizeof(bench_scenarios[0]));

int scenario_find(const char *name)
{
	for (int i = 0; i < bench_nscenarios; i++)
		if (!strcmp(name, bench_scenarios[i].name))
			return i;
	return -ENOENT;
}

void bench_traffic_opts(const struct bench_run *run, struct traffic_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = run->o->size;
	o->flows = run->o->flows;
	o->active = run->o->active;
	o->seed = run->o->seed;
	memcpy(o->src_mac, run->topo.mac[TOPO_A], 6);
	memcpy(o->dst_mac, run->topo.mac[TOPO_B], 6);
}
