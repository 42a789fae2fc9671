/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The parts of nft-sets' translation (translate-sets.c says why it is
 * built this way): a run of rules of one action becomes terms, grouped
 * by shape (sets-terms.c), and each shape's terms are spread over sets
 * whose elements are disjoint (sets-disjoint.c).
 */
#ifndef BENCH_PEERS_SETS_H
#define BENCH_PEERS_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

/* What a term needs besides addresses; the key of its set follows. */
enum kind {
	K_ADDR, /* no protocol */
	K_PROTO, /* a protocol without ports or ICMP fields */
	K_PORTS, /* a protocol with ports */
	K_ICMP, /* ICMP or ICMPv6 type and code */
};

/*
 * One item of each list of a rule.  A field the rule leaves open holds
 * its whole range: a /0 of the term's version, ports 0-65535, type and
 * code 0-255.
 */
struct term {
	struct moat_prefix src, dst;
	struct moat_range a, b; /* ports, or ICMP type and code */
	uint8_t proto; /* 0 for K_ADDR and K_ICMP */
	uint32_t
		color; /* the set it goes to; UINT32_MAX: another contains it */
	uint32_t next; /* sets-disjoint.c's index chain */
	size_t order; /* the order of making, for a stable sort */
};

/* The terms of one run with one key: version, kind and TCP flags. */
struct shape {
	int family; /* AF_INET, AF_INET6, or 0: a rule without addresses */
	enum kind kind;
	uint8_t mask, value; /* TCP flags; mask 0: none */
	struct term *v;
	size_t n, cap;
};

/* Consecutive rules of one action. */
struct run {
	struct shape *shapes;
	size_t n, cap;
	size_t first, last; /* rule indexes, for the comment */
	bool open;
};

/*
 * Add the terms of @r for @family (0 for a rule without addresses,
 * whose terms both versions share).  0 or -ENOMEM.
 */
int sets_add_rule(struct run *run, const struct moat_rule *r, int family);
void sets_run_free(struct run *run);

/*
 * Give each term of @s a set (->color) so that the elements of a set
 * are disjoint, leaving out (UINT32_MAX) a term that another term
 * contains.  Sorts @s->v.  Returns the number of sets, or -ENOMEM.
 */
long sets_disjoint(struct shape *s);

#endif /* BENCH_PEERS_SETS_H */
