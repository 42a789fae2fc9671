// SPDX-License-Identifier: GPL-2.0-only
/*
 * An address index: a leaf-pushed multibit trie (strides 16, then 8 bits a
 * level) whose leaves hold the list of every term whose prefix covers the
 * leaf.  A term with prefix P sits in the list of P and of every prefix
 * nested inside P, so the lookup reads one list, never a chain of them.
 *
 * The trie is painted with dense nodes in a scratch array, then copied
 * into the image node by node, each as a one-line sparse node when its
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
	uint32_t *t; /* the scratch trie, dense nodes */
	size_t n, cap;
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

static int cmp_by_len(const void *pa, const void *pb)
{
	const struct tprefix *a = pa, *b = pb;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

/* Merge two rule-sorted id lists into @out; returns the count. */
static size_t merge_ids(const struct cterm *T, const uint32_t *a, size_t na,
			const uint32_t *b, size_t nb, uint32_t *out)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na && j < nb)
		out[n++] = T[a[i]].rule <= T[b[j]].rule ? a[i++] : b[j++];
	while (i < na)
		out[n++] = a[i++];
	while (j < nb)
		out[n++] = b[j++];
	return n;
}

static int trie_alloc(struct tbuild *b, size_t n, uint32_t fill, uint32_t *off)
{
	size_t i;
	int err;

	if (b->n + n > MOAT_TRIE_OFF)
		return -E2BIG;
	err = image_grow((void **)&b->t, &b->cap, b->n + n, 4);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		b->t[b->n + i] = fill;
	*off = (uint32_t)b->n;
	b->n += n;
	return 0;
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
 * Copy the scratch node at @off into the image, children first; *entry
 * becomes what points at the copy (or, when every byte leads to the same
 * leaf, that leaf).
 */
static int compact(struct tbuild *b, uint32_t off, uint32_t *entry)
{
	uint32_t e[256], steps = 0, at, i, k;
	int err;

	for (i = 0; i < 256; i++) {
		e[i] = b->t[off + i];
		if (e[i] & MOAT_TRIE_INNER) {
			err = compact(b, e[i] & MOAT_TRIE_OFF, &e[i]);
			if (err)
				return err;
		}
	}
	for (i = 1; i < 256; i++)
		steps += e[i] != e[i - 1];
	if (!steps && !(e[0] & MOAT_TRIE_INNER)) {
		*entry = e[0];
		return 0;
	}
	if (steps > MOAT_SPARSE_MAX) {
		err = image_alloc(b, 256, &at);
		if (err)
			return err;
		memcpy(b->ls->img->trie + at, e, sizeof(e));
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
		for (i = 1, k = 0; i < 256; i++) {
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

/* Paint @ref over the addresses of prefix @p, creating nodes on the way. */
static int trie_paint(struct tbuild *b, uint32_t root, const struct tprefix *p)
{
	unsigned bits = b->fam6 ? 128 : 32, depth = 16, start;
	uint32_t node = root, span, i, *t;
	int err;

	start = (uint32_t)p->addr[0] << 8 | p->addr[1];
	for (;;) {
		if (p->len <= depth) {
			span = 1u << (depth - p->len);
			start &= ~(span - 1);
			t = b->t + node;
			for (i = 0; i < span; i++)
				t[start + i] = p->ref;
			return 0;
		}
		if (depth >= bits)
			return -EINVAL;
		/* descend: the entry becomes an inner node inheriting its leaf */
		t = b->t + node + start;
		if (!(*t & MOAT_TRIE_INNER)) {
			uint32_t child;

			err = trie_alloc(b, 256, *t, &child);
			if (err)
				return err;
			b->t[node + start] = MOAT_TRIE_INNER | child;
		}
		node = b->t[node + start] & MOAT_TRIE_OFF;
		start = p->addr[depth / 8];
		depth += 8;
	}
}

int trie_build(struct lstore *ls, int fam6, int home, const uint32_t *ids,
	       size_t n, uint32_t *root, struct moat_diags *d)
{
	struct tbuild b = { .ls = ls, .terms = ls->terms, .home = home, .fam6 = fam6 };
	const struct cterm *T = ls->terms;
	struct tprefix *pf = NULL, **stack = NULL;
	uint32_t *sorted = NULL, **chain = NULL, scratch_root;
	size_t *chain_n = NULL, npf = 0, depth = 0, i;
	int err = -ENOMEM;

	b.icap = ls->img->ntrie;
	sorted = malloc(n * sizeof(*sorted));
	pf = calloc(n, sizeof(*pf));
	stack = calloc(130, sizeof(*stack));
	chain = calloc(130, sizeof(*chain));
	chain_n = calloc(130, sizeof(*chain_n));
	if (!sorted || !pf || !stack || !chain || !chain_n)
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

	/*
	 * Prefixes come parents first; a stack holds the chain of enclosing
	 * prefixes with the merged list of each, so every prefix's list is
	 * its parent's list plus its own terms.
	 */
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
		if (!chain[depth])
			goto out;
		m = merge_ids(T, up, nup, sorted + p->first, p->n, chain[depth]);
		m = lstore_prune(T, chain[depth], m, home);
		err = lstore_put(ls, fam6, chain[depth], m, &p->ref);
		if (err) {
			moat_diag_add(d, MOAT_ERROR, 0, 0,
				      "over capacity: more than %u terms cover one %s address of rule '%u'",
				      MOAT_LIST_MAX,
				      home == MOAT_HOME_SRC ? "source" : "destination",
				      T[sorted[p->first]].rule);
			goto out;
		}
		chain_n[depth] = m;
		stack[depth++] = p;
	}

	err = trie_alloc(&b, 1u << MOAT_TRIE_ROOT_BITS, 0, &scratch_root);
	if (err)
		goto out;
	qsort(pf, npf, sizeof(*pf), cmp_by_len);
	for (i = 0; i < npf; i++) {
		err = trie_paint(&b, scratch_root, &pf[i]);
		if (err)
			goto out;
	}
	/* the root stays dense; what hangs below it is compacted */
	err = image_alloc(&b, 1u << MOAT_TRIE_ROOT_BITS, root);
	for (i = 0; !err && i < (1u << MOAT_TRIE_ROOT_BITS); i++) {
		uint32_t e = b.t[scratch_root + i];

		if (e & MOAT_TRIE_INNER)
			err = compact(&b, e & MOAT_TRIE_OFF, &e);
		ls->img->trie[*root + i] = e;
	}
out:
	if (err == -E2BIG && !d->nerrors)
		moat_diag_add(d, MOAT_ERROR, 0, 0,
			      "over capacity: the address index outgrows its map");
	while (depth)
		free(chain[--depth]);
	free(b.t);
	free(chain_n);
	free(chain);
	free(stack);
	free(pf);
	free(sorted);
	return err;
}
