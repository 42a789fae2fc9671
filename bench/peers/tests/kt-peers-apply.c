// SPDX-License-Identifier: GPL-2.0-only
/*
 * kt-peers on request (KT_PEERS_APPLY=1,1000,...): how long each peer's
 * tool takes to load a ruleset, from its text to enforcement, as
 * bench_peer.install() measures it.  Printed, not checked: these are
 * numbers for the report, and the harness measures them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "classbench.h"
#include "kt-peers.h"
#include "peer.h"

static const struct bench_peer *const peers[] = {
	&bench_peer_nft_netdev,
	&bench_peer_nft_sets,
	&bench_peer_iptables_raw,
	&bench_peer_xdp_filter,
};

/* N rules xdp-filter can say: drop from 10.x.y.z, one address each. */
static int address_drops(size_t n, struct moat_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->policy = MOAT_ALLOW;
	rs->policy_given = true;
	rs->rules = calloc(n, sizeof(*rs->rules));
	if (!rs->rules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct moat_rule *r = &rs->rules[i];

		snprintf(r->name, sizeof(r->name), "a%06zu", i + 1);
		r->action = MOAT_DROP;
		r->src.v = calloc(1, sizeof(*r->src.v));
		if (!r->src.v)
			return -ENOMEM;
		r->src.n = 1;
		rs->nrules = i + 1;
		*r->src.v =
			(struct moat_prefix){ .family = AF_INET,
					      .len = 32,
					      .addr = { 10, (uint8_t)(i >> 16),
							(uint8_t)(i >> 8),
							(uint8_t)i } };
	}
	return 0;
}

static void apply_one(const struct bench_peer *p, const struct moat_ruleset *rs,
		      const char *ifname, const char *what)
{
	uint64_t ns = 0;
	const char *why = p->cannot(rs);
	int ret;

	if (why) {
		printf("# apply %-12s %-28s cannot: %s\n", p->name, what, why);
		return;
	}
	ret = p->install(rs, ifname, &ns);
	printf("# apply %-12s %-28s %10.1f ms%s%s\n", p->name, what, ns / 1e6,
	       ret ? " failed: " : "", ret ? strerror(-ret) : "");
	p->remove(ifname);
}

/*
 * KT_PEERS_APPLY=1,1000,10000,100000: the time each peer's tool takes to
 * load ClassBench rulesets of these sizes (seed 1, IPv4, all drop,
 * policy drop, as moat-bench run uses them), and xdp-filter's on as
 * many address drops, which is what it can say.  Printed, not checked.
 */
void peers_apply_times(const char *list, const char *ifname)
{
	for (const char *p = list; p && *p;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t n = strtoul(p, NULL, 10);
		struct cb_opts o = { .seed = 1,
				     .nrules = n,
				     .action = MOAT_DROP,
				     .policy = MOAT_DROP };
		struct moat_ruleset rs;
		char what[64];

		if (!n || cb_generate(&o, &rs))
			continue;
		snprintf(what, sizeof(what), "%zu classbench rules", n);
		for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
			apply_one(peers[i], &rs, ifname, what);
		moat_ruleset_free(&rs);
		if (address_drops(n, &rs) == 0) {
			snprintf(what, sizeof(what), "%zu address drops", n);
			apply_one(&bench_peer_xdp_filter, &rs, ifname, what);
		}
		moat_ruleset_free(&rs);
	}
}
