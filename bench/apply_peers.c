// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench apply-time --peers`: the install time of each peer
 * firewall against rule count, next to moat's apply.  Each rep installs
 * a ruleset on veth-b of a fresh topology (in namespace B, as run does)
 * and removes it; the rulesets of seeds S and S+1 alternate, as moat's
 * do.  The time is the peer's own: from its text to enforcement.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "bench.h"
#include "classbench.h"
#include "scenario.h"
#include "stats.h"

static int install_once(const struct bench_peer *p,
			const struct moat_ruleset *rs, const struct topology *t,
			double *ms)
{
	uint64_t ns = 0;
	int ret = topo_enter(t, TOPO_B);

	if (ret)
		return ret;
	ret = p->install(rs, t->ifname[TOPO_B], &ns);
	if (!ret)
		p->remove(t->ifname[TOPO_B]);
	*ms = (double)ns / 1e6;
	return topo_leave(t) ?: ret;
}

int apply_peer_measure(const struct bench_peer *p, uint32_t nrules, int reps,
		       uint64_t seed, unsigned int ipv6,
		       const struct topology *t, struct apply_result *a)
{
	struct moat_ruleset rs[2] = { 0 };
	double ms[APPLY_MAX_REPS];
	const char *why;
	int ret = 0, done = 0;

	memset(a, 0, sizeof(*a));
	snprintf(a->system, sizeof(a->system), "%s", p->name);
	a->nrules = nrules;
	for (int i = 0; !ret && i < 2; i++) {
		struct cb_opts co = { .seed = seed + (uint64_t)i,
				      .nrules = nrules,
				      .ipv6_pct = ipv6,
				      .action = MOAT_DROP,
				      .policy = MOAT_DROP };

		ret = cb_generate(&co, &rs[i]);
	}
	why = ret ? NULL : p->cannot(&rs[0]) ?: p->cannot(&rs[1]);
	if (why) {
		snprintf(a->skipped, sizeof(a->skipped), "%s", why);
		bench_progress("apply-time: %s, %u rules: skipped: %s", p->name,
			       nrules, why);
	}
	for (int i = 0; !ret && !why && i < reps && !bench_stop; i++) {
		ret = install_once(p, &rs[i % 2], t, &ms[i]);
		if (ret) {
			bench_err("apply-time: %s, %u rules: install: %s",
				  p->name, nrules, strerror(-ret));
			break;
		}
		done = i + 1;
		bench_progress(
			"apply-time: %s, %u rules: install %d/%d: %.1f ms",
			p->name, nrules, i + 1, reps, ms[i]);
	}
	if (done) {
		struct ratio_stats st;

		stats_summary(ms, done, &st);
		a->reps = done;
		a->end_to_end_ms = a->total_ms = a->wall_ms = st.median;
		a->e2e_min_ms = st.min;
		a->e2e_max_ms = st.max;
		/* an install returns once its ruleset is in force */
		a->enforced_ms = st.median;
		a->enforced_min_ms = st.min;
		a->enforced_max_ms = st.max;
	}
	moat_ruleset_free(&rs[0]);
	moat_ruleset_free(&rs[1]);
	return ret ?: bench_stop ? -EINTR : 0;
}

int apply_add_peers(const char *list, struct apply_opts *o)
{
	char name[32];

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (o->npeers == APPLY_MAX_PEERS || !bench_peer_find(name))
			return -EINVAL;
		o->peers[o->npeers++] = bench_peer_find(name);
		p += len + (p[len] == ',');
	}
	return o->npeers ? 0 : -EINVAL;
}

/* The peers' installs at @nrules, on a topology made on first use. */
int apply_peers(const struct apply_opts *o, uint32_t nrules, struct topology *t,
		struct apply_result *rows, int *nrows)
{
	int ret = 0;

	if (o->npeers && t->home_fd < 0)
		ret = topo_create(t, 1);
	for (int p = 0; !ret && p < o->npeers && !bench_stop; p++)
		ret = apply_peer_measure(o->peers[p], nrules, o->reps, o->seed,
					 o->ipv6, t, &rows[(*nrows)++]);
	return ret;
}
