/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ClassBench-style ACL rulesets and the traffic aimed at them.
 *
 * The rules follow the shape of ClassBench's ACL seeds (Taylor and
 * Turner, "ClassBench: a packet classification benchmark", 2005): mostly
 * TCP, specific destinations (many /32 and /24), sources often wildcard
 * or a short prefix, destination ports exact or in classic ranges, and
 * prefixes drawn from a shared hierarchy so that rules overlap the way
 * real ACLs do.  docs/benchmarks.md lists every distribution; the tables
 * in classbench.c are the source of truth.
 *
 * Everything is a function of the seed: the same seed and count give
 * the same ruleset and the same frames on every machine.
 */
#ifndef BENCH_CLASSBENCH_H
#define BENCH_CLASSBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "reference.h"
#include "ruleset.h"

/* xoshiro256**, seeded through splitmix64: small, fast, portable. */
struct cb_rng {
	uint64_t s[4];
};

void cb_rng_seed(struct cb_rng *r, uint64_t seed);
uint64_t cb_rng_next(struct cb_rng *r);
uint32_t cb_rng_below(struct cb_rng *r, uint32_t n); /* uniform in [0, n) */
double cb_rng_unit(struct cb_rng *r); /* uniform in [0, 1) */

/*
 * The shape of the generated rules.  CB_ACL is the ClassBench-style ACL;
 * CB_PORTS is the shape every peer can express, xdp-filter included: one
 * `drop udp dport P' rule per port from 1024 up, policy allow (the action
 * and policy options are then ignored).
 */
enum cb_shape {
	CB_ACL = 0,
	CB_PORTS,
};

#define CB_PORTS_MAX (65536 - 1024)

struct cb_opts {
	enum cb_shape shape;
	uint64_t seed;
	size_t nrules; /* 1 .. MOAT_RULES_MAX */
	unsigned int ipv6_pct; /* share of IPv6 rules, 0..100 */
	enum moat_action action; /* of every rule */
	enum moat_action policy;
};

/*
 * Generate @o->nrules rules named r000001, r000002, ... into @rs, which
 * follows ruleset.h's memory rules (release with moat_ruleset_free()).
 * Returns 0, -EINVAL for bad options or -ENOMEM.
 */
int cb_generate(const struct cb_opts *o, struct moat_ruleset *rs);

/* The traffic of a ruleset: one flow per rule. */
struct cb_traffic {
	struct moat_ref_packet
		*flows; /* flows[i] lies inside rule i's fields */
	size_t n;
	size_t owned; /* flows whose first match is their own rule */
	unsigned int frame_len; /* 64, or 80 when some flow is IPv6 TCP */
};

/*
 * Draw a random point inside each rule's fields.  When an earlier rule
 * also matches the point, a few other points are tried, so that traffic
 * spread evenly over the flows is spread evenly over the rules wherever
 * the overlap allows; flows still caught by an earlier rule are not
 * counted in ->owned.
 */
int cb_traffic_build(const struct moat_ruleset *rs, uint64_t seed,
		     struct cb_traffic *t);
void cb_traffic_free(struct cb_traffic *t);

/* Write flow @i as a frame of t->frame_len bytes; 0 or -EINVAL. */
int cb_frame(const struct cb_traffic *t, size_t i, uint8_t *buf);

#endif /* BENCH_CLASSBENCH_H */
