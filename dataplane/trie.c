// SPDX-License-Identifier: GPL-2.0-only
/*
 * An address index: a leaf-pushed multibit trie (strides 16, then 8 bits a
 * level) whose leaves hold the list of every term whose prefix covers the
 * leaf.  A term with prefix P sits in the list of P and of every prefix
 * nested inside P, so the lookup reads one list, never a chain of them.
 *
 * The nodes are built one at a time from the prefixes in address order,
 * children before parents, each stored as a one-line sparse node when its
 * 256 entries change value at most MOAT_SPARSE_MAX times.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile-int.h"

struct tprefix {
	const uint8_t *addr;
	uint8_t len;
	uint32_t first, n; /* own terms: ids[first .. first + n) */
	uint32_t ref; /* the list of all terms covering this prefix */
};

struct tbuild {
	struct lstore *ls;
	const struct cterm *terms;
	int home, fam6;
	size_t icap; /* of ls->img->trie */
};

static const uint8_t *term_addr(const struct cterm *t, int home)
{
	return home == MOAT_HOME_SRC ? t->src : t->dst;
}

static uint8_t term_len(const struct cterm *t, int home)
{
	return home == MOAT_HOME_SRC ? t->src_len : t->dst_len;
}

static const struct cterm *sort_terms;
static int sort_home;

/* address, then length (parents first), then rule */
static int cmp_by_prefix(const void *pa, const void *pb)
{
	const struct cterm *a = &sort_terms[*(const uint32_t *)pa];
	const struct cterm *b = &sort_terms[*(const uint32_t *)pb];
	int c = memcmp(term_addr(a, sort_home), term_addr(b, sort_home), 16);

	if (c)
		return c;
	if (term_len(a, sort_home) != term_len(b, sort_home))
		return term_len(a, sort_home) < term_len(b, sort_home) ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/*
 * Move to @spill those of a prefix's own terms @own (@n of them) that have
 * another index to go to; the rest stay in @own, in order.  Returns how
 * many stay.
 */
static uint32_t spill_own(const struct cterm *T, int home, uint32_t *own,
			  uint32_t n, uint32_t *spill, size_t *nspill)
{
	uint32_t kept = 0, i;

	for (i = 0; i < n; i++) {
		if (choose_home(&T[own[i]], home) != MOAT_HOME_ANY)
			spill[(*nspill)++] = own[i];
		else
			own[kept++] = own[i];
	}
	return kept;
}

/* @n words at the end of the image's trie; returns their offset. */
static int image_alloc(struct tbuild *b, size_t n, uint32_t *off)
{
	struct moat_image *img = b->ls->img;
	int err;

	if (img->ntrie + n > MOAT_TRIE_OFF)
		return -E2BIG;
	err = image_grow((void **)&img->trie, &b->icap, img->ntrie + n, 4);
	if (err)
		return err;
	*off = (uint32_t)img->ntrie;
	img->ntrie += n;
	return 0;
}

/*
 * Store the node whose 256 entries are @e, all equal outside entries
 * [@lo, @hi]; *entry becomes what points at it (or, when every byte leads
 * to the same leaf, that leaf).
 */
static int node_store(struct tbuild *b, const uint32_t *e, uint32_t lo,
		      uint32_t hi, uint32_t *entry)
{
	uint32_t steps = 0, from = lo ? lo : 1, to = hi < 255 ? hi + 1 : 255;
	uint32_t at, i, k;
	int err;

	for (i = from; i <= to; i++)
		steps += e[i] != e[i - 1];
	if (!steps && !(e[0] & MOAT_TRIE_INNER)) {
		*entry = e[0];
		return 0;
	}
	if (steps > MOAT_SPARSE_MAX) {
		err = image_alloc(b, 256, &at);
		if (err)
			return err;
		memcpy(b->ls->img->trie + at, e, 256 * sizeof(*e));
		*entry = MOAT_TRIE_INNER | at;
		return 0;
	}
	err = image_alloc(b, MOAT_LINE_WORDS, &at);
	if (err)
		return err;
	{
		uint32_t *w = b->ls->img->trie + at;
		uint64_t stepv = 0, lanes = 0;

		memset(w, 0, MOAT_LINE_WORDS * 4);
		w[0] = e[0];
		for (i = from, k = 0; i <= to; i++) {
			if (e[i] == e[i - 1])
				continue;
			w[++k] = e[i];
			stepv |= (uint64_t)i << (8 * (k - 1));
			lanes |= 0x80ull << (8 * (k - 1));
		}
		w[MOAT_SPARSE_STEPS] = (uint32_t)stepv;
		w[MOAT_SPARSE_STEPS + 1] = (uint32_t)(stepv >> 32);
		w[MOAT_SPARSE_LANES] = (uint32_t)lanes;
		w[MOAT_SPARSE_LANES + 1] = (uint32_t)(lanes >> 32);
	}
	*entry = MOAT_TRIE_INNER | MOAT_TRIE_SPARSE | at;
	return 0;
}

/*
 * Build the node for bits [@depth, @depth + 8) under the address bytes
 * that pf[*i] starts with, from the prefixes pf[*i ..] below them (in
 * address order, parents first), its entries starting as @inherit; the
 * children are stored first.  On return *i is past those prefixes.
 *
 * In address order a prefix comes after every prefix that covers it, so
 * painting in that order leaves each entry with its longest prefix, and
 * an entry's value is final by the time a longer prefix descends from it.
 */
static int node_build(struct tbuild *b, const struct tprefix *pf, size_t npf,
		      size_t *i, unsigned depth, uint32_t inherit,
		      uint32_t *entry)
{
	const uint8_t *under = pf[*i].addr;
	unsigned nb = depth / 8, at, span, k, lo = 255, hi = 0;
	uint32_t e[256];
	int err;

	for (k = 0; k < 256; k++)
		e[k] = inherit;
	while (*i < npf && !memcmp(pf[*i].addr, under, nb)) {
		const struct tprefix *p = &pf[*i];

		at = p->addr[nb];
		span = p->len > depth + 8 ? 1 : 1u << (depth + 8 - p->len);
		lo = at < lo ? at : lo;
		hi = at + span - 1 > hi ? at + span - 1 : hi;
		if (p->len > depth + 8) {
			err = node_build(b, pf, npf, i, depth + 8, e[at], &e[at]);
			if (err)
				return err;
			continue;
		}
		for (k = 0; k < span; k++)
			e[at + k] = p->ref;
		(*i)++;
	}
	return node_store(b, e, lo, hi, entry);
}

int trie_build(struct lstore *ls, int fam6, int home, const uint32_t *ids,
	       size_t n, uint32_t *root, uint32_t *spill, size_t *nspill,
	       struct moat_diags *d)
{
	struct tbuild b = { .ls = ls, .terms = ls->terms, .home = home, .fam6 = fam6 };
	const struct cterm *T = ls->terms;
	struct tprefix *pf = NULL, **stack = NULL;
	uint32_t *sorted = NULL, **chain = NULL, *mine = NULL, *rt, *below = NULL;
	size_t *chain_n = NULL, npf = 0, depth = 0, i, k;
	int err = -ENOMEM;

	b.icap = ls->img->ntrie;
	sorted = malloc(n * sizeof(*sorted));
	pf = calloc(n, sizeof(*pf));
	mine = malloc(n * sizeof(*mine));
	stack = calloc(130, sizeof(*stack));
	chain = calloc(130, sizeof(*chain));
	chain_n = calloc(130, sizeof(*chain_n));
	if (!sorted || !pf || !mine || !stack || !chain || !chain_n)
		goto out;
	memcpy(sorted, ids, n * sizeof(*sorted));
	sort_terms = T;
	sort_home = home;
	qsort(sorted, n, sizeof(*sorted), cmp_by_prefix);

	for (i = 0; i < n; i++) {
		const struct cterm *t = &T[sorted[i]];

		if (npf && pf[npf - 1].len == term_len(t, home) &&
		    !memcmp(pf[npf - 1].addr, term_addr(t, home), 16)) {
			pf[npf - 1].n++;
			continue;
		}
		pf[npf].addr = term_addr(t, home);
		pf[npf].len = term_len(t, home);
		pf[npf].first = (uint32_t)i;
		pf[npf].n = 1;
		npf++;
	}

	/* how many prefixes each one has below it */
	below = calloc(npf + 1, sizeof(*below));
	if (!below)
		goto out;
	for (i = 0; i < npf; i++) {
		while (depth && !prefix_covers(stack[depth - 1]->addr, stack[depth - 1]->len,
					       pf[i].addr, pf[i].len))
			depth--;
		for (k = 0; k < depth; k++)
			below[stack[k] - pf]++;
		stack[depth++] = &pf[i];
	}
	depth = 0;

	/*
	 * Prefixes come parents first; a stack holds the chain of enclosing
	 * prefixes with the merged list of each, so every prefix's list is
	 * its parent's list plus its own terms.  Where that list would be
	 * longer than a list may be, the prefix's own terms go to @spill
	 * instead, for the caller to file in another index, and its list
	 * is its parent's.
	 */
	*nspill = 0;
	for (i = 0; i < npf; i++) {
		struct tprefix *p = &pf[i];
		const uint32_t *up = NULL;
		size_t nup = 0, m;

		while (depth && !prefix_covers(stack[depth - 1]->addr,
					       stack[depth - 1]->len, p->addr,
					       p->len)) {
			depth--;
			free(chain[depth]);
			chain[depth] = NULL;
		}
		if (depth) {
			up = chain[depth - 1];
			nup = chain_n[depth - 1];
		}
		chain[depth] = malloc((nup + p->n) * sizeof(uint32_t));
		if (!chain[depth]) {
			err = -ENOMEM;
			goto out;
		}
		if (ls->copies_max && (uint64_t)p->n * below[i] > ls->copies_max)
			p->n = spill_own(T, home, sorted + p->first, p->n,
					 spill, nspill);
		m = lstore_merge_prune(T, up, nup, sorted + p->first, p->n,
				       chain[depth], mine, home);
		if (m > MOAT_LIST_MAX) {
			memcpy(spill + *nspill, sorted + p->first, p->n * sizeof(*spill));
			*nspill += p->n;
			m = nup;
			if (nup)
				memcpy(chain[depth], up, nup * sizeof(*up));
		}
		err = lstore_put(ls, fam6, chain[depth], m, &p->ref);
		if (err) {
			if (err == -E2BIG)
				moat_diag_add(d, MOAT_ERROR, 0, 0,
					      "over capacity: the lists of terms outgrow their map");
			goto out;
		}
		chain_n[depth] = m;
		stack[depth++] = p;
	}

	/*
	 * The root stays dense: a leaf for each of its entries that prefixes
	 * of 16 bits or less paint, in address order, and a node built below
	 * each entry that longer prefixes reach.
	 */
	err = image_alloc(&b, 1u << MOAT_TRIE_ROOT_BITS, root);
	if (err)
		goto out;
	memset(ls->img->trie + *root, 0, (1u << MOAT_TRIE_ROOT_BITS) * 4);
	for (i = 0; i < npf;) {
		const struct tprefix *p = &pf[i];
		uint32_t at = (uint32_t)p->addr[0] << 8 | p->addr[1], e, span;

		if (p->len > MOAT_TRIE_ROOT_BITS) {
			rt = ls->img->trie + *root;
			err = node_build(&b, pf, npf, &i, MOAT_TRIE_ROOT_BITS,
					 rt[at], &e);
			if (err)
				goto out;
			ls->img->trie[*root + at] = e; /* the image may have moved */
			continue;
		}
		span = 1u << (MOAT_TRIE_ROOT_BITS - p->len);
		rt = ls->img->trie + *root;
		for (k = 0; k < span; k++)
			rt[at + k] = p->ref;
		i++;
	}
out:
	if (err == -E2BIG && !d->nerrors)
		moat_diag_add(d, MOAT_ERROR, 0, 0,
			      "over capacity: the address index outgrows its map");
	while (depth)
		free(chain[--depth]);
	free(chain_n);
	free(chain);
	free(stack);
	free(pf);
	free(mine);
	free(below);
	free(sorted);
	return err;
}
