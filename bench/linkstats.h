/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where frames were lost on the way, from the interfaces' own counters:
 * veth's ethtool statistics (per queue) and the link statistics every
 * driver keeps.  Read before and after a run; only differences matter.
 */
#ifndef BENCH_LINKSTATS_H
#define BENCH_LINKSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "topology.h"

#define BENCH_MAX_QUEUES 64

struct link_counters {
	bool xdp_known; /* veth's per-queue XDP statistics on both sides */
	/* A: redirected frames veth-a could not put in veth-b's ring */
	uint64_t xmit_errors;
	/* B: XDP_TX frames veth-b could not put in veth-a's ring */
	uint64_t return_errors;
	/* B: frames its XDP program saw, per receiving queue (= CPU) */
	uint64_t rx_xdp[BENCH_MAX_QUEUES];
	int nqueues;
	uint64_t rx_drops; /* B: frames veth dropped on receive */

	bool link_known; /* the link statistics of both sides */
	/* A: frames veth-a dropped on transmit (the skb path: AF_XDP) */
	uint64_t tx_dropped;
	uint64_t rx_dropped; /* B: the stack's receive drops */
};

int link_counters_read(const struct topology *t, struct link_counters *c);

/* @out = @after - @before, field by field (link counters are 32-bit). */
void link_counters_sub(const struct link_counters *after,
		       const struct link_counters *before,
		       struct link_counters *out);

#endif /* BENCH_LINKSTATS_H */
