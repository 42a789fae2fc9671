// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench run`: every selected scenario, each case as a ratio to the
 * bare-drop baseline measured in the same run, interleaved.  The
 * scenarios without a rule count run first; then, for each rule count,
 * the ruleset and its frames are generated once and every scenario that
 * takes a rule count runs on them, once per transmitter and per peer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "report.h"
#include "scenario.h"

struct case_list {
	struct case_result *v;
	int n, cap;
};

static struct case_result *new_case(struct case_list *l)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		struct case_result *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static void name_case(const struct scenario *sc, struct bench_case *c)
{
	struct case_result *r = c->res;
	const char *sys = c->peer    ? c->peer->name :
			  sc->system ? sc->system :
				       "moat";

	snprintf(r->scenario, sizeof(r->scenario), "%s", sc->name);
	snprintf(r->system, sizeof(r->system), "%s", sys);
	if (!strcmp(sc->name, "aa"))
		snprintf(r->label, sizeof(r->label), "a/a");
	else if (!c->nrules)
		snprintf(r->label, sizeof(r->label), "%s", sc->name);
	else if (sc->flags & SC_NO_TRAFFIC)
		snprintf(r->label, sizeof(r->label), "%s-%u", sc->name,
			 c->nrules);
	else
		snprintf(r->label, sizeof(r->label), "%s-%u", sys, c->nrules);
	r->nrules = c->nrules;
	r->tx = c->tx;
}

static int run_case(struct bench_run *run, const struct scenario *sc,
		    struct bench_case *c)
{
	struct generator *g = NULL;
	struct traffic_opts to;
	int ret;

	name_case(sc, c);
	ret = sc->setup ? sc->setup(run, c) : 0;
	if (ret == -EOPNOTSUPP && c->res->skipped[0]) {
		ret = 0; /* a peer that cannot express the ruleset */
		goto out;
	}
	if (!ret && sc->measure) {
		ret = sc->measure(run, c);
		goto out;
	}
	if (!ret && !c->own_traffic) {
		bench_traffic_opts(run, &to);
		ret = traffic_from_rules(c->rs, c->cb, &to, &c->traffic);
	}
	ret = ret   ?:
		      gen_open(&g, c->tx, &run->topo, &c->traffic, run->o->cpus,
			       run->o->ncpus);
	ret = ret ?: schedule_run(&run->env, g, run->base, c->rx, c->res);
out:
	if (ret && ret != -EINTR && !c->res->skipped[0])
		snprintf(c->res->skipped, sizeof(c->res->skipped), "failed: %s",
			 strerror(-ret));
	c->res->failed = ret && ret != -EINTR;
	gen_close(g);
	if (sc->teardown)
		sc->teardown(run, c);
	if (c->own_rx)
		rx_destroy(c->rx);
	traffic_free(&c->traffic);
	return ret;
}

/* Every case of @sc at @nrules (0: once). */
static int run_scenario(struct bench_run *run, const struct scenario *sc,
			uint32_t nrules, const struct moat_ruleset *rs,
			const struct cb_traffic *cb, struct case_list *cases)
{
	const struct run_opts *o = run->o;
	int ntx = sc->flags & SC_NO_TRAFFIC ? 1 : o->ntx;
	int npeers = sc->flags & SC_EACH_PEER ? o->npeers : 1, ret = 0;

	if ((sc->flags & SC_EACH_PEER) && !o->npeers)
		bench_progress("%s: no peer firewall is built in: skipped",
			       sc->name);
	for (int t = 0; !ret && t < ntx; t++) {
		for (int p = 0; !ret && p < npeers; p++) {
			struct bench_case c = {
				.nrules = nrules,
				.peer = sc->flags & SC_EACH_PEER ? o->peers[p] :
								   NULL,
				.tx = o->tx[t],
				.rs = rs,
				.cb = cb,
			};

			c.res = new_case(cases);
			if (!c.res)
				return -ENOMEM;
			ret = run_case(run, sc, &c);
			/* one broken case does not stop the others */
			if (ret && ret != -EINTR && ret != -ENOMEM) {
				bench_err("%s: %s", c.res->label,
					  c.res->skipped);
				ret = 0;
			}
		}
	}
	return ret;
}

static int run_count(struct bench_run *run, uint32_t nrules,
		     struct case_list *cases)
{
	const struct run_opts *o = run->o;
	struct cb_opts co = { .shape = o->shape,
			      .seed = o->seed,
			      .nrules = nrules,
			      .ipv6_pct = o->ipv6_pct,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	struct moat_ruleset rs = { 0 };
	struct cb_traffic cb = { 0 };
	int ret;

	bench_progress("%u rules: generating the ruleset and its frames "
		       "(seed %llu)",
		       nrules, (unsigned long long)o->seed);
	ret = cb_generate(&co, &rs) ?: cb_traffic_build(&rs, o->seed, &cb);
	if (ret)
		bench_err("generating %u rules: %s", nrules, strerror(-ret));
	for (int i = 0; !ret && i < bench_nscenarios; i++)
		if ((o->scenarios & 1u << i) &&
		    (bench_scenarios[i].flags & SC_EACH_COUNT))
			ret = run_scenario(run, &bench_scenarios[i], nrules,
					   &rs, &cb, cases);
	cb_traffic_free(&cb);
	moat_ruleset_free(&rs);
	return ret;
}

static int setup_topology(struct bench_run *run)
{
	const struct run_opts *o = run->o;
	int maxcpu = 0;

	if (o->iface[0])
		return topo_use(&run->topo, o->iface, o->netns);
	for (int i = 0; i < o->ncpus; i++)
		maxcpu = o->cpus[i] > maxcpu ? o->cpus[i] : maxcpu;
	/* veth picks the ring by the sending CPU's number: one per CPU */
	return topo_create(&run->topo, maxcpu + 1);
}

int cmd_run(int argc, char **argv)
{
	struct case_list cases = { 0 };
	struct bench_run run = { 0 };
	struct run_opts o;
	int ret = 0, bad = 0, failed = 0;

	if (run_parse(argc, argv, &o))
		return BENCH_EXIT_USAGE;
	if (geteuid() != 0) {
		bench_err("run needs root (namespaces, XDP, BPF test runs)");
		return BENCH_EXIT_FAIL;
	}
	run.o = &o;
	run.topo = (struct topology){ .home_fd = -1, .nsfd = { -1, -1 } };
	run.env = (struct bench_env){ .topo = &run.topo,
				      .cpus = o.cpus,
				      .ncpus = o.ncpus,
				      .limit = { .seconds = o.seconds,
						 .packets = o.packets },
				      .rounds = o.rounds };
	ret = setup_topology(&run) ?:
		      bench_run_baseline_open(&run, &run.base, "baseline");
	for (int i = 0; !ret && i < bench_nscenarios; i++)
		if ((o.scenarios & 1u << i) &&
		    !(bench_scenarios[i].flags & SC_EACH_COUNT))
			ret = run_scenario(&run, &bench_scenarios[i], 0, NULL,
					   NULL, &cases);
	for (int i = 0; !ret && i < o.nrules; i++)
		ret = run_count(&run, o.rules[i], &cases);

	/* what was measured is worth printing even after an interruption */
	if (cases.n) {
		struct run_report r = { .o = &o,
					.cases = cases.v,
					.ncases = cases.n };

		report_run_table(&r, stdout);
		bad = report_check(&r, stdout);
		if (o.json && report_run_json(&r, o.json) && !ret)
			ret = -EIO;
	}
	if (ret == -EINTR || bench_stop)
		bench_err("interrupted");

	rx_destroy(run.moat);
	rx_destroy(run.moat_ct);
	rx_destroy(run.moat_nc);
	rx_destroy(run.base);
	topo_destroy(&run.topo);
	for (int i = 0; i < cases.n; i++) {
		failed += cases.v[i].failed;
		case_result_free(&cases.v[i]);
	}
	free(cases.v);
	if (o.check && bad)
		bench_err("--check: %d case%s did not add up", bad,
			  bad == 1 ? "" : "s");
	/* a case that could not run fails the run; a missed target does not */
	return ret || failed || (o.check && bad) ? BENCH_EXIT_FAIL :
						   BENCH_EXIT_OK;
}
