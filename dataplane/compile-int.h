/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the compiler: terms, homes, and the store of lists. */
#ifndef MOAT_COMPILE_INT_H
#define MOAT_COMPILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile.h"

/* Where a term is filed: the index whose key it constrains most. */
enum moat_home {
	MOAT_HOME_DST = 0,
	MOAT_HOME_SRC,
	MOAT_HOME_DPORT,
	MOAT_HOME_SPORT,
	MOAT_HOME_ANY,
	MOAT_HOME_NONE, /* compiled into the layout (a small family) */
};

/* A term before it is written out: one item of each list of a rule. */
struct cterm {
	uint32_t rule;
	uint8_t fam6;
	uint8_t home;
	uint8_t src_len, dst_len;
	uint8_t src[16], dst[16]; /* network order, host bits zero */
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
	uint8_t proto;
	uint8_t flags; /* MOAT_T_* */
	uint8_t tcp_mask, tcp_value;
	uint8_t iface;
	uint8_t ct; /* MOAT_CT_* bits, 0: any */
};

/*
 * The store of lists: each distinct list (the same terms in the same
 * order) is written once into the image's term arrays.
 */
struct lstore {
	struct moat_image *img;
	const struct cterm *terms;
	const uint32_t *verdicts; /* per rule: counter slot | MOAT_VERDICT_DROP */
	/*
	 * A trie's list of a prefix also holds the terms of every prefix
	 * around it: a prefix's own terms are copied into the list of each
	 * prefix below it.  Where that would be more than copies_max copies,
	 * the terms that have another index to go to go there (0: no limit).
	 */
	uint64_t copies_max;
	struct lslot *slots; /* open-addressed: hash of the id sequence */
	size_t nslots, used;
	size_t cap4, cap6;
};

int lstore_init(struct lstore *ls, struct moat_image *img,
		const struct cterm *terms, const uint32_t *verdicts);
void lstore_fini(struct lstore *ls);

/*
 * Drop from @ids (sorted by rule) every term that an earlier one covers
 * on all fields but the index's own (@home), which every term of the list
 * matches anyway.  Returns the new count.
 */
size_t lstore_prune(const struct cterm *terms, uint32_t *ids, size_t n,
		    int home);

/*
 * The same for the merge of @up, a pruned list, and @own (both sorted by
 * rule), into @out: what lstore_prune() of the merge would keep, found
 * without comparing @up's terms with each other.  @mine has room for
 * @nown.
 */
size_t lstore_merge_prune(const struct cterm *terms, const uint32_t *up,
			  size_t nup, const uint32_t *own, size_t nown,
			  uint32_t *out, uint32_t *mine, int home);

/*
 * Store the list @ids (pruned, sorted by rule); returns its list ref in
 * *ref (0 for an empty list).  -E2BIG when the list or the store is over
 * capacity.
 */
int lstore_put(struct lstore *ls, int fam6, const uint32_t *ids, size_t n,
	       uint32_t *ref);

/* A term as the program reads it. */
void image_term4(const struct cterm *c, uint32_t verdict, struct moat_term4 *t);
void image_small4(const struct cterm *c, uint32_t verdict,
		  struct moat_small4 *t);
void image_term6(const struct cterm *c, uint32_t verdict, struct moat_term6 *t);

/*
 * The index after @after whose key the term constrains most (of equals,
 * the first), or MOAT_HOME_ANY.  -1 for the first choice; an index that
 * spills a term asks again from itself.
 */
int choose_home(const struct cterm *t, int after);

/*
 * Index builders; @ids are the terms homed there, sorted by rule.  A
 * trie leaves out the terms of an address whose list would be over
 * MOAT_LIST_MAX, and those over ls->copies_max: they go to @spill (room
 * for @n), to be filed elsewhere.
 */
int trie_build(struct lstore *ls, int fam6, int home, const uint32_t *ids,
	       size_t n, uint32_t *root, uint32_t *spill, size_t *nspill,
	       struct moat_diags *d);
int portidx_build(struct lstore *ls, int fam6, int home, int pgroup,
		  const uint32_t *ids, size_t n, uint32_t *table,
		  struct moat_diags *d);

/* Growable arrays inside the image. */
int image_grow(void **v, size_t *cap, size_t need, size_t size);

/* Does prefix (a, alen) contain (b, blen)? */
static inline bool prefix_covers(const uint8_t *a, unsigned alen,
				 const uint8_t *b, unsigned blen)
{
	unsigned i;

	if (alen > blen)
		return false;
	for (i = 0; i < alen / 8; i++)
		if (a[i] != b[i])
			return false;
	if (alen % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - alen % 8));

		if ((a[i] ^ b[i]) & m)
			return false;
	}
	return true;
}

#endif /* MOAT_COMPILE_INT_H */
