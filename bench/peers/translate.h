/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A moat ruleset in the words of the firewalls it is compared with:
 * nft -f text (a netdev ingress chain, and an inet chain with sets),
 * iptables-restore text, xdp-filter commands.  Pure text, no kernel:
 * bench/peers/tests/test-translate.c holds the golden outputs.
 *
 * What is translated is docs/ruleset.md's meaning: rules in order, the
 * first that matches decides, list items are alternatives, a later
 * fragment has no ports, ARP, neighbour discovery and other non-IP
 * frames pass before any rule.  Where a tool cannot say the same, its
 * cannot function says why, quoting the rule.
 *
 * `in` is resolved as moatd resolves it, against the interfaces moat
 * protects, which here is the one the peer is installed on: a rule
 * naming @ifname matches there without a condition, a rule naming only
 * other interfaces never matches and is left out.
 */
#ifndef BENCH_PEERS_TRANSLATE_H
#define BENCH_PEERS_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ruleset.h"

/* The tables the peers own; remove() deletes exactly these. */
#define TR_NFT_NETDEV_TABLE "moat_peer_netdev"
#define TR_NFT_SETS_TABLE "moat_peer_sets"

/*
 * nft -f text: a netdev table with one ingress chain on @ifname, one
 * nft rule per rule and IP version, in order.  0 or -errno.
 */
int tr_nft_netdev(const struct moat_ruleset *rs, const char *ifname, FILE *out);

/*
 * nft -f text: an inet table with a prerouting chain that groups each
 * run of consecutive rules of one action into set lookups
 * (translate-sets.c says how).  0 or -errno.
 */
int tr_nft_sets(const struct moat_ruleset *rs, const char *ifname, FILE *out);

/*
 * iptables-restore text (IPv4) and ip6tables-restore text (IPv6) for
 * the raw table's PREROUTING chain: one rule per term, the policy as
 * the chain's.  -EINVAL when tr_iptables_cannot() has a reason.
 */
int tr_iptables(const struct moat_ruleset *rs, const char *ifname, FILE *out);
int tr_ip6tables(const struct moat_ruleset *rs, const char *ifname, FILE *out);
const char *tr_iptables_cannot(const struct moat_ruleset *rs);

/*
 * xdp-filter: a deny list of single ports or single addresses under
 * policy allow (translate-xdpf.c lists what else it cannot say).
 */
const char *tr_xdp_filter_cannot(const struct moat_ruleset *rs);

/* One xdp-filter invocation after `load': `port 53 -m dst -p udp'. */
struct tr_xdpf_cmd {
	const char *verb; /* "port" or "ip" */
	char value[48]; /* the port number or the address */
	const char *mode; /* "src", "dst" or "src,dst" */
	const char *protos; /* ports: "tcp", "udp" or "tcp,udp"; NULL for ip */
};

/* The command's arguments after "xdp-filter", NULL-terminated in @argv[8]. */
void tr_xdpf_argv(const struct tr_xdpf_cmd *c, const char *argv[8]);

struct tr_xdpf {
	char features[48]; /* for `load -f': "tcp,udp,ipv4" ... */
	struct tr_xdpf_cmd *cmds;
	size_t n;
};

/* The commands for @rs; 0, -EINVAL when it cannot be expressed, -ENOMEM. */
int tr_xdp_filter(const struct moat_ruleset *rs, struct tr_xdpf *out);
void tr_xdpf_free(struct tr_xdpf *x);

/* Write the commands one a line, as a shell would run them (for tests and logs). */
void tr_xdpf_print(const struct tr_xdpf *x, const char *ifname, FILE *out);

/*
 * Run @fn into a malloc'd string (open_memstream), for tests and for
 * feeding tools; NULL with errno set on failure.
 */
char *tr_to_string(int (*fn)(const struct moat_ruleset *, const char *, FILE *),
		   const struct moat_ruleset *rs, const char *ifname);

#endif /* BENCH_PEERS_TRANSLATE_H */
