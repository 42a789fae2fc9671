// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two nftables peers: nft-netdev (a linear ingress chain on the
 * interface, translate-nft.c) and nft-sets (an inet prerouting chain of
 * set lookups, translate-sets.c).  Each owns one table, loaded with one
 * `nft -f' (one transaction: all or nothing) and removed by name.
 *
 * Every rule of the chain that judges a frame of the interface has a
 * counter, and the chain ends with a bare counter for the frames that
 * reach the policy, so the counters add up to the frames seen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "translate.h"

struct nft_peer {
	const char *name;
	const char *family, *table, *chain;
	int (*translate)(const struct moat_ruleset *, const char *, FILE *);
};

static const struct nft_peer netdev = {
	.name = "nft-netdev",
	.family = "netdev",
	.table = TR_NFT_NETDEV_TABLE,
	.chain = "ingress",
	.translate = tr_nft_netdev,
};

static const struct nft_peer sets = {
	.name = "nft-sets",
	.family = "inet",
	.table = TR_NFT_SETS_TABLE,
	.chain = "prerouting",
	.translate = tr_nft_sets,
};

static void nft_remove(const struct nft_peer *p)
{
	const char *argv[] = { "nft",	  "delete", "table",
			       p->family, p->table, NULL };
	struct peer_cmd c = { .argv = argv,
			      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
			      .quiet = true };

	/* absent already is fine: remove() runs before install() too */
	peer_run(&c);
}

static int nft_install(const struct nft_peer *p, const struct moat_ruleset *rs,
		       const char *ifname, uint64_t *apply_ns)
{
	const char *argv[] = { "nft", "-f", "/dev/stdin", NULL };
	struct peer_cmd c = { .argv = argv,
			      .timeout_ms = PEER_LOAD_TIMEOUT_MS };
	char *text;
	int ret;

	*apply_ns = 0;
	text = tr_to_string(p->translate, rs, ifname);
	if (!text) {
		ret = -errno;
		peer_err(p->name, "translating for `%s': %s", ifname,
			 strerror(errno));
		return ret;
	}
	/* a table left by a killed run would receive the rules twice */
	nft_remove(p);
	c.input = text;
	c.input_len = strlen(text);
	ret = peer_run(&c);
	*apply_ns = c.elapsed_ns;
	if (ret)
		nft_remove(p);
	free(text);
	return ret;
}

static const char *find(const char *p, const char *end, const char *needle)
{
	return memmem(p, (size_t)(end - p), needle, strlen(needle));
}

/*
 * Add the counters of `nft -j list chain' by verdict.  The chain is
 * ours, so its shape is known: each rule with a counter ends in accept
 * or drop, except the last, whose frames meet the policy of the base
 * chain (*@policy_drop, read from the base chain, which is listed
 * first).  The interface guard of nft-sets and the gotos have no
 * counter: frames of other interfaces are not the peer's, and a frame
 * sent to "frags" is counted there.
 */
static int parse_counts(const char *json, size_t len, bool *policy_drop,
			struct peer_counts *c)
{
	static const char rule[] = "{\"rule\":";
	static const char counter[] = "\"counter\": {\"packets\": ";
	const char *end = json + len, *p = find(json, end, rule);

	if (!find(json, end, "\"chain\":"))
		return -ENOENT;
	if (find(json, end, "\"hook\":"))
		*policy_drop = find(json, end, "\"policy\": \"drop\"");
	while (p) {
		const char *next = find(p + 1, end, rule);
		const char *stop = next ? next : end;
		const char *at = find(p, stop, counter);
		uint64_t n;
		bool drop;

		p = next;
		if (!at)
			continue;
		n = strtoull(at + strlen(counter), NULL, 10);
		if (find(at, stop, "{\"drop\": null}"))
			drop = true;
		else if (find(at, stop, "{\"accept\": null}"))
			drop = false;
		else
			drop = *policy_drop;
		if (drop)
			c->dropped += n;
		else
			c->passed += n;
	}
	return 0;
}

/* The base chain and "frags", where later fragments go: not the sets. */
static int nft_counts(const struct nft_peer *p, struct peer_counts *counts)
{
	const char *chains[] = { p->chain, "frags" };
	bool policy_drop = false;
	int ret = 0;

	memset(counts, 0, sizeof(*counts));
	for (size_t i = 0; !ret && i < 2; i++) {
		const char *argv[] = { "nft",	  "-j",	    "list",    "chain",
				       p->family, p->table, chains[i], NULL };
		struct peer_cmd c = { .argv = argv,
				      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
				      .capture = true };

		ret = peer_run(&c);
		if (!ret)
			ret = parse_counts(c.out, c.out_len, &policy_drop,
					   counts);
		if (ret == -ENOENT)
			peer_err(p->name, "no chain %s in `nft -j list' output",
				 chains[i]);
		peer_cmd_free(&c);
	}
	return ret;
}

static int nft_processed(const struct nft_peer *p, uint64_t *frames)
{
	struct peer_counts c;
	int ret = nft_counts(p, &c);

	*frames = ret ? 0 : c.passed + c.dropped;
	return ret;
}

/* nftables says everything moat says (the gaps are in frame reading). */
static const char *nft_cannot(const struct moat_ruleset *rs)
{
	return NULL;
}

int peer_nft_netdev_counts(const char *ifname, struct peer_counts *c)
{
	return nft_counts(&netdev, c);
}

int peer_nft_sets_counts(const char *ifname, struct peer_counts *c)
{
	return nft_counts(&sets, c);
}

static int netdev_install(const struct moat_ruleset *rs, const char *ifname,
			  uint64_t *apply_ns)
{
	return nft_install(&netdev, rs, ifname, apply_ns);
}

static int netdev_processed(const char *ifname, uint64_t *frames)
{
	return nft_processed(&netdev, frames);
}

static void netdev_remove(const char *ifname)
{
	nft_remove(&netdev);
}

static int sets_install(const struct moat_ruleset *rs, const char *ifname,
			uint64_t *apply_ns)
{
	return nft_install(&sets, rs, ifname, apply_ns);
}

static int sets_processed(const char *ifname, uint64_t *frames)
{
	return nft_processed(&sets, frames);
}

static void sets_remove(const char *ifname)
{
	nft_remove(&sets);
}

const struct bench_peer bench_peer_nft_netdev = {
	.name = "nft-netdev",
	.describe = "nftables netdev ingress chain on the interface, "
		    "one rule per rule in order",
	.cannot = nft_cannot,
	.install = netdev_install,
	.processed = netdev_processed,
	.remove = netdev_remove,
	.after_xdp = true,
};

const struct bench_peer bench_peer_nft_sets = {
	.name = "nft-sets",
	.describe = "nftables inet prerouting (priority raw), runs of "
		    "same-action rules as concatenated interval sets",
	.cannot = nft_cannot,
	.install = sets_install,
	.processed = sets_processed,
	.remove = sets_remove,
	.after_xdp = true,
};
