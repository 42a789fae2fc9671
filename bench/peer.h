/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The firewalls moat is measured against on the same path: xdp-filter
 * (Debian's xdp-tools), nftables (netdev ingress, and an inet filter
 * written with sets as an expert would), iptables (raw PREROUTING).  Each
 * is given the same ruleset moat is, translated, or says why it cannot
 * express it.  Implementations live in bench/peers/.
 *
 * Everything runs in the receiving side's network namespace (the caller
 * has entered it): the peer installs its rules on @ifname there, the
 * generator sends, and the peer reports how many frames it processed.
 */
#ifndef BENCH_PEER_H
#define BENCH_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "ruleset.h"

struct bench_peer {
	const char *name; /* "xdp-filter", "nft-netdev", "nft-sets", "iptables-raw" */
	const char *describe; /* one line for tables and docs */

	/*
	 * NULL when the peer can express @rs with the same meaning, else why
	 * not ("xdp-filter matches one field a rule: 'r12' has three").
	 */
	const char *(*cannot)(const struct moat_ruleset *rs);

	/*
	 * Install @rs on @ifname: translate, load with the tool's own loader
	 * (nft -f, iptables-restore, xdp-filter), and measure that load in
	 * *apply_ns (text to enforcement).  0 or -errno; on error nothing of
	 * the peer is left installed.
	 */
	int (*install)(const struct moat_ruleset *rs, const char *ifname,
		       uint64_t *apply_ns);

	/*
	 * Frames the peer has seen on @ifname since install (dropped or
	 * passed), from its own counters: the receiving side's count.
	 */
	int (*processed)(const char *ifname, uint64_t *frames);

	/* Remove everything install() created. */
	void (*remove)(const char *ifname);

	/*
	 * The frames reach the peer only after XDP: veth drops redirected
	 * frames unless the receiving side has an XDP program (or GRO), so
	 * the harness attaches an XDP_PASS program for such peers, and says
	 * so in the report.
	 */
	bool after_xdp;
};

extern const struct bench_peer bench_peer_xdp_filter;
extern const struct bench_peer bench_peer_nft_netdev;
extern const struct bench_peer bench_peer_nft_sets;
extern const struct bench_peer bench_peer_iptables_raw;

#endif /* BENCH_PEER_H */
