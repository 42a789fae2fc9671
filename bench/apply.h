/* SPDX-License-Identifier: GPL-2.0-only */
/* `moat-bench apply-time`: moat's applies (apply.c), the peers' installs. */
#ifndef BENCH_APPLY_H
#define BENCH_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"
#include "report.h"
#include "topology.h"

#define APPLY_MAX_REPS 50
#define APPLY_MAX_COUNTS 16
#define APPLY_MAX_PEERS 8

struct apply_opts {
	uint32_t counts[APPLY_MAX_COUNTS];
	int ncounts, reps;
	uint64_t seed;
	unsigned int ipv6;
	bool conntrack; /* moat's applies with flows tracked */
	int attach; /* interfaces moat is attached to while it applies: 0-2 */
	const char *json;
	const struct bench_peer *peers[APPLY_MAX_PEERS];
	int npeers;
};

/* --peers LIST: 0 or -EINVAL. */
int apply_add_peers(const char *list, struct apply_opts *o);

/* Each peer's installs at @nrules, on a topology made on first use. */
int apply_peers(const struct apply_opts *o, uint32_t nrules, struct topology *t,
		struct apply_result *rows, int *nrows);

int apply_peer_measure(const struct bench_peer *p, uint32_t nrules, int reps,
		       uint64_t seed, unsigned int ipv6,
		       const struct topology *t, struct apply_result *a);

#endif /* BENCH_APPLY_H */
