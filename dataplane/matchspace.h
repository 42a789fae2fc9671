/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside rule analysis (analyze.c).  A rule's match space, for comparing
 * rules with each other: per IP version, a set of protocols, sources and
 * destinations; then the transport fields and the interfaces.  Sets of
 * numbers are intervals, addresses as 128-bit numbers (IPv4 in the low 32
 * bits).  And the index that spares large rulesets most of the pairs.
 */
#ifndef MOAT_MATCHSPACE_H
#define MOAT_MATCHSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

typedef unsigned __int128 u128;

#define MS_V4 0 /* index of an IP version */
#define MS_V6 1

struct ms_ivl {
	u128 lo, hi; /* inclusive */
};

struct ms_set {
	struct ms_ivl *v; /* sorted by lo, disjoint, not adjacent */
	size_t n; /* 0: empty */
	struct ms_ivl hull; /* v[0].lo, v[n - 1].hi: most answers are here */
};

/* One rule's match space. */
struct match_space {
	const struct moat_rule *r;
	unsigned int
		versions; /* bit MS_V4, bit MS_V6: the versions it matches */
	uint64_t protos[2][4]; /* per version, a bit per protocol number */
	struct ms_set src[2], dst[2];
	bool l4; /* matches only packets whose transport header was read */
	struct ms_set sport, dport, type, code; /* not given: the whole range */
	uint8_t flags_mask, flags_value;
	struct ms_ivl *pool; /* every set's intervals, one allocation */
};

/* Returns 0 or -ENOMEM; release with match_space_free(). */
int match_space_init(struct match_space *s, const struct moat_rule *r);
void match_space_free(struct match_space *s);

/* Does @a match every packet @b does? */
bool match_space_within(const struct match_space *b,
			const struct match_space *a);
/* Is there a packet both match? */
bool match_space_meets(const struct match_space *a,
		       const struct match_space *b);

/* What index_find() found, in arrays of n that the caller provides. */
struct index_findings {
	size_t *shadowed_by; /* the first earlier rule that holds it, or b */
	bool *shadowed;
	size_t *redundant_by; /* the later rule that makes it redundant, or b */
	size_t shadowed_upto, redundant_upto; /* how far each search got */
};

/*
 * Both kinds of finding for the rules of @sp[0..@n), as analyze.c states
 * them, through an index (ruleidx.c) rather than every pair.  Each
 * search stops at the rule that would take its comparisons past @work.
 * Returns 0 or -ENOMEM.
 */
int index_find(const struct match_space *sp, size_t n, size_t work,
	       struct index_findings *f);

#endif /* MOAT_MATCHSPACE_H */
