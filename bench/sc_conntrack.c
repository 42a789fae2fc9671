// SPDX-License-Identifier: GPL-2.0-only
/*
 * The conntrack scenarios, on the run's moat instance with connection
 * tracking (bench-PID-ct, a table of --ct-max flows, "allow established"
 * as moat's default), and the bare pass they compare with:
 *
 *   ct-miss  the rule count's ruleset, its frames, no flow in the table:
 *            each frame is looked up, missed, classified and dropped
 *   ct-est   the same, every flow of the frames established first
 *            (ct_flows.c): each frame passes at the lookup and lands in
 *            the established row, never in a rule
 *   ct-new   policy allow and no rule, each frame a new flow, the table
 *            filled first: each frame makes an entry in a full table,
 *            which evicts the least recently used
 *   pass     bench_count with XDP_PASS on ct-est's frames
 *
 * The frames of ct-est and ct-miss (and pass) are the rule-spread frames
 * of flows conntrack can establish: all but ICMP errors, which belong to
 * a flow only by the packet they quote, and 64-byte frames quote none.
 * What moat passes goes to the sink (rx_sink.c).  Each case starts from
 * an empty table; its teardown reads the table and moat's rows
 * (struct ct_result) for the report.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ct_flows.h"
#include "scenario.h"

/* The target for established flows: 0.85 with 10,000 rules. */
#define CT_EST_TARGET 0.85
#define CT_EST_TARGET_RULES 10000

/* ct-new fills the table with this many frames a flow slot first. */
#define CT_FILL_NUM 5
#define CT_FILL_DEN 4

struct ct_state {
	struct moat_dp *dp;
	struct ct_snapshot start;
	struct moat_ruleset rs; /* ct-new's */
	bool has_rs;
};

static bool trackable(const struct bench_template *t)
{
	unsigned int l4 = t->family == 4 ? 14 + 20 : 14 + 40;

	if (t->proto == MOAT_PROTO_ICMP)
		return t->data[l4] == 0 || t->data[l4] == 8; /* echo */
	if (t->proto == MOAT_PROTO_ICMPV6)
		return t->data[l4] == 128 || t->data[l4] == 129;
	return true;
}

/* The rule-spread frames of the flows conntrack can establish. */
static int ct_traffic(struct bench_run *run, struct bench_case *c)
{
	struct traffic *tr = &c->traffic;
	struct traffic_opts to;
	size_t kept = 0;
	int ret;

	bench_traffic_opts(run, &to);
	ret = traffic_from_rules(c->rs, c->cb, &to, tr);
	if (ret)
		return ret;
	c->own_traffic = true;
	for (size_t i = 0; i < tr->n; i++) {
		if (!trackable(&tr->t[i]))
			continue;
		tr->t[kept] = tr->t[i];
		tr->rule[kept++] = tr->rule[i];
	}
	if (!kept) {
		snprintf(
			c->res->skipped, sizeof(c->res->skipped),
			"no frame of this ruleset opens a flow (ICMP errors only)");
		return -EOPNOTSUPP;
	}
	if (kept < tr->n)
		bench_progress("%s: %zu of %zu frames (ICMP errors left out)",
			       c->res->label, kept, tr->n);
	tr->n = kept;
	if (tr->flows) /* every template the same share of flows, as before */
		tr->flows = (to.flows + kept - 1) / kept * kept;
	return 0;
}

/* The ct instance, an empty table, and the case's receiver. */
static int ct_open(struct bench_run *run, struct bench_case *c,
		   struct receiver **inner)
{
	struct ct_state *st = calloc(1, sizeof(*st));
	size_t flushed = 0;
	int ret;

	if (!st)
		return -ENOMEM;
	c->priv = st;
	ret = bench_run_moat_ct(run, &c->rx, inner);
	if (ret)
		return ret;
	st->dp = rx_moat_dp(*inner);
	/* the cases share the table: none sees another's flows */
	ret = moat_dp_ct_flush(st->dp, NULL, &flushed);
	if (ret)
		bench_err("flushing the conntrack table: %s", strerror(-ret));
	else if (flushed)
		bench_progress("%s: flushed %zu flows of an earlier case",
			       c->res->label, flushed);
	return ret;
}

static int ct_apply(struct bench_case *c, struct receiver *inner,
		    const struct moat_ruleset *rs)
{
	int ret;

	bench_progress("%s: applying %zu rules, conntrack on", c->res->label,
		       rs->nrules);
	ret = rx_moat_apply(inner, rs, &c->res->apply);
	c->res->has_apply = !ret;
	return ret;
}

/* The table's state when the measured part starts. */
static int ct_start(struct bench_case *c)
{
	struct ct_state *st = c->priv;
	int ret = ct_snapshot(st->dp, &st->start);

	if (ret)
		bench_err("%s: reading the conntrack table: %s", c->res->label,
			  strerror(-ret));
	return ret;
}

int sc_ct_miss_setup(struct bench_run *run, struct bench_case *c)
{
	struct receiver *inner;

	c->res->owned = c->cb->owned;
	return ct_open(run, c, &inner)		 ?:
		       ct_traffic(run, c)	 ?:
		       ct_apply(c, inner, c->rs) ?:
						   ct_start(c);
}

int sc_ct_est_setup(struct bench_run *run, struct bench_case *c)
{
	struct receiver *inner;
	struct ct_state *st;
	int ret;

	if (run->o->shape == CB_ACL && run->o->baseline == XDP_DROP &&
	    c->nrules == CT_EST_TARGET_RULES)
		c->res->target = CT_EST_TARGET;
	ret = ct_open(run, c, &inner)	 ?:
		      ct_traffic(run, c) ?:
					   ct_apply(c, inner, c->rs);
	if (ret)
		return ret;
	st = c->priv;
	ret = ct_prime(st->dp, &c->traffic, &c->res->ct.primed, c->res->skipped,
		       sizeof(c->res->skipped));
	if (ret)
		return ret;
	c->res->ct.all_established = true;
	return ct_start(c);
}

/* Protocol templates (--proto, TCP and UDP only), each frame a new flow. */
static int new_flows(struct bench_run *run, struct bench_case *c)
{
	static const enum traffic_proto udp4 = TP_UDP4;
	const struct run_opts *o = run->o;
	enum traffic_proto p[TP_COUNT];
	struct traffic_opts to;
	int n = 0, ret;

	for (int i = 0; i < o->nprotos; i++)
		if (o->protos[i] != TP_ICMP4 && o->protos[i] != TP_ICMP6)
			p[n++] = o->protos[i];
	if (o->nprotos && !n) {
		/* an echo flow is its addresses and identifier: too few */
		snprintf(c->res->skipped, sizeof(c->res->skipped),
			 "ct-new varies ports: give --proto with udp or tcp");
		return -EOPNOTSUPP;
	}
	bench_traffic_opts(run, &to);
	to.flows = 0;
	to.tcp_flags = MOAT_TCP_SYN; /* what opens a TCP flow */
	ret = traffic_from_protos(n ? p : &udp4, n ? n : 1, &to, &c->traffic);
	if (ret)
		return ret;
	c->own_traffic = true;
	/*
	 * Frame k takes flow hash(k) mod flows: with 2^40 variants a
	 * template, source address (16 bits) and port (64,512) drawn from a
	 * hash of the variant, a frame meets a flow still in a table of 2^20
	 * about once in 4,000 frames; the rest are new.
	 */
	c->traffic.flows = (uint64_t)c->traffic.n << 40;
	return 0;
}

/*
 * Fill the table through the real path: the generator sends frames of
 * other flows (another seed) to moat until every slot was taken once
 * and a quarter more, so that the measured frames find it full.
 */
static int ct_fill(struct bench_run *run, struct bench_case *c)
{
	struct ct_state *st = c->priv;
	struct traffic fill = c->traffic;
	struct gen_limit lim = { 0 };
	struct moat_dp_ct_status s;
	struct generator *g = NULL;
	struct gen_result res;
	int ret, ret2;

	ret = moat_dp_ct_status(st->dp, &s);
	if (ret)
		return ret;
	fill.seed ^= 0x66696c6cull; /* "fill" */
	lim.packets = (uint64_t)s.max * CT_FILL_NUM / CT_FILL_DEN;
	bench_progress("%s: filling the table (%u flows) with %llu frames",
		       c->res->label, s.max, (unsigned long long)lim.packets);
	ret = gen_open(&g, GEN_TX_LIVE, &run->topo, &fill, run->o->cpus,
		       run->o->ncpus);
	ret = ret ?: rx_attach(c->rx, &run->topo);
	if (ret) {
		gen_close(g);
		return ret;
	}
	ret = gen_run(g, &run->topo, run->o->cpus, run->o->ncpus, &lim, &res);
	ret2 = rx_detach(c->rx, &run->topo);
	gen_close(g);
	return ret ?: ret2;
}

int sc_ct_new_setup(struct bench_run *run, struct bench_case *c)
{
	static const char text[] = "policy allow\n";
	struct moat_diags d = { 0 };
	struct receiver *inner;
	struct ct_state *st;
	int ret;

	ret = ct_open(run, c, &inner) ?: new_flows(run, c);
	if (ret)
		return ret;
	st = c->priv;
	ret = moat_ruleset_parse(text, sizeof(text) - 1, &st->rs, &d);
	moat_diags_free(&d);
	st->has_rs = !ret;
	return ret				   ?:
		       ct_apply(c, inner, &st->rs) ?:
		       ct_fill(run, c)		   ?:
						     ct_start(c);
}

int sc_pass_setup(struct bench_run *run, struct bench_case *c)
{
	c->own_rx = true;
	return ct_traffic(run, c) ?: rx_pass_open(&c->rx, "pass");
}

void sc_ct_teardown(struct bench_run *run, struct bench_case *c)
{
	struct ct_state *st = c->priv;
	struct ct_snapshot end;

	(void)run;
	if (!st)
		return;
	if (st->start.taken && !ct_snapshot(st->dp, &end)) {
		ct_result_of(&st->start, &end, &c->res->ct);
		c->res->has_ct = true;
		if (c->res->ct.all_established && c->res->ct.elsewhere)
			bench_err("%s: %llu frames did not pass as established",
				  c->res->label,
				  (unsigned long long)c->res->ct.elsewhere);
	}
	if (st->has_rs)
		moat_ruleset_free(&st->rs);
	free(st);
	c->priv = NULL;
}
