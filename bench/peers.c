// SPDX-License-Identifier: GPL-2.0-only
/*
 * The peers: which firewalls this moat-bench knows (the four of
 * bench/peers/ when that folder is built, BENCH_HAVE_PEERS, and any a
 * test adds: tests/kt-bench.c drives the harness with peers of its own),
 * and the peers scenario, which runs each of --peers with the ruleset
 * moat gets at the same rule count, through bench/peer.h.  A peer that
 * cannot express a ruleset says why, and the case is reported as
 * skipped with that reason; the install's own time is recorded next to
 * the rates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "scenario.h"

static const struct bench_peer *const builtin[] = {
#ifdef BENCH_HAVE_PEERS
	&bench_peer_xdp_filter,
	&bench_peer_nft_netdev,
	&bench_peer_nft_sets,
	&bench_peer_iptables_raw,
#endif
	NULL,
};

static const struct bench_peer *added[MAX_PEERS];
static int nadded;

int bench_peer_add(const struct bench_peer *p)
{
	if (nadded == MAX_PEERS)
		return -ENOSPC;
	added[nadded++] = p;
	return 0;
}

const struct bench_peer *bench_peer_find(const char *name)
{
	for (int i = 0; builtin[i]; i++)
		if (!strcmp(builtin[i]->name, name))
			return builtin[i];
	for (int i = 0; i < nadded; i++)
		if (!strcmp(added[i]->name, name))
			return added[i];
	return NULL;
}

const char *bench_peer_names(void)
{
	static char names[256];
	size_t len = 0;

	names[0] = '\0';
	for (int i = 0; builtin[i] && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", i ? "," : "", builtin[i]->name);
	for (int i = 0; i < nadded && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", len ? "," : "", added[i]->name);
	return names;
}

int sc_peer_setup(struct bench_run *run, struct bench_case *c)
{
	const struct bench_peer *p = c->peer;
	const char *why = p->cannot(c->rs);
	int ret;

	if (why) {
		snprintf(c->res->skipped, sizeof(c->res->skipped), "%s", why);
		bench_progress(
			"%s: skipped: %s cannot express this ruleset: %s",
			c->res->label, p->name, why);
		return -EOPNOTSUPP;
	}
	c->res->owned = c->cb->owned;
	bench_progress("%s: installing %u rules (%s)", c->res->label, c->nrules,
		       p->describe);
	ret = rx_peer_open(&c->rx, p, c->rs, &run->topo,
			   &c->res->peer_apply_ns);
	if (ret) {
		snprintf(c->res->skipped, sizeof(c->res->skipped),
			 "install failed: %s", strerror(-ret));
		return ret;
	}
	c->res->has_peer_apply = true;
	c->own_rx = true;
	bench_progress("%s: installed in %.1f ms%s", c->res->label,
		       (double)c->res->peer_apply_ns / 1e6,
		       p->after_xdp ? "; an XDP_PASS counter stands in front" :
				      "");
	return 0;
}
