/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef BENCH_HIERARCHY_H
#define BENCH_HIERARCHY_H

#include <stddef.h>
#include <stdint.h>

#include "classbench.h"

/*
 * The address hierarchy: 8 roots, then @mids children under each root
 * and @leaves under each of those (IPv4 /8, /16, /24; IPv6 /32, /48,
 * /64).  A prefix of length L takes a leaf, fills the bits below it at
 * random and keeps L bits, so prefixes of every length share parents.
 * The tree grows with the ruleset, as the address plan behind a larger
 * ACL does, and draws favour low indexes (u^2 at the top two levels), so
 * that a few networks carry many rules, as in real ACLs.
 */
#define TREE_ROOTS 8

struct tree {
	unsigned int mids, leaves;
	uint8_t (*leaf)[16]; /* [root][mid][leaf] */
};

/* Build the tree of @family for a ruleset of @nrules rules; 0 or -ENOMEM. */
int tree_init(struct tree *t, struct cb_rng *r, int family, size_t nrules);
void tree_free(struct tree *t);

/* A prefix of @len bits under a leaf drawn from the tree; host bits clear. */
struct moat_prefix tree_prefix(const struct tree *t, struct cb_rng *r,
			       int family, unsigned int len);

#endif /* BENCH_HIERARCHY_H */
