/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the peers share: running their tools (fork and exec, no shell,
 * a timeout, input from memory, output captured) and reading counters.
 * Everything runs in the caller's network namespace: a child inherits
 * the namespace of the thread that spawns it.
 */
#ifndef BENCH_PEERS_PEERS_H
#define BENCH_PEERS_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"

/* Timeouts: loading 100,000 rules takes a tool tens of seconds at most. */
#define PEER_LOAD_TIMEOUT_MS (600 * 1000)
#define PEER_QUERY_TIMEOUT_MS (60 * 1000)

struct peer_cmd {
	const char *const *argv; /* argv[0] is looked up in PATH */
	const char *input; /* fed on stdin; NULL: /dev/null */
	size_t input_len;
	unsigned int timeout_ms;
	bool capture; /* keep stdout in ->out */
	bool quiet; /* a failure is expected: say nothing */

	/* results */
	char *out; /* malloc'd and NUL-terminated when ->capture */
	size_t out_len;
	uint64_t elapsed_ns; /* from spawning to the child's exit */
};

/*
 * Run @c->argv and wait for it.  0 when it exits with status 0;
 * -ETIMEDOUT (the child is killed), -EIO for another exit status (its
 * stderr is printed unless ->quiet), or -errno.  Free ->out with
 * peer_cmd_free().
 */
int peer_run(struct peer_cmd *c);
void peer_cmd_free(struct peer_cmd *c);

/* "moat-bench: @peer: ..." on stderr. */
void peer_err(const char *peer, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * What a peer counted, split by verdict: the semantic test compares
 * these with the reference matcher; processed() is their sum.
 */
struct peer_counts {
	uint64_t passed, dropped;
};

int peer_nft_netdev_counts(const char *ifname, struct peer_counts *c);
int peer_nft_sets_counts(const char *ifname, struct peer_counts *c);
int peer_iptables_counts(const char *ifname, struct peer_counts *c);
int peer_xdp_filter_counts(const char *ifname, struct peer_counts *c);

#endif /* BENCH_PEERS_PEERS_H */
