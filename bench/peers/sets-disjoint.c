// SPDX-License-Identifier: GPL-2.0-only
/*
 * Spreading a shape's terms over sets whose elements are disjoint.
 *
 * nft refuses an element of a concatenated interval set (pipapo) that
 * overlaps one the set holds ("File exists"), and ClassBench-like rules
 * overlap on purpose: nested prefixes, port ranges over service ports.
 * Since every term of a shape has the same verdict, the union is all
 * that matters: a term that another contains is left out, and the rest
 * go, greedily, to the first set none of whose elements they meet.
 *
 * Terms are placed broadest destination first, so a placed term can
 * meet a new one only if its destination prefix contains the new one's
 * (two prefixes meet only when one contains the other).  The index
 * keeps, per set, the terms by destination prefix and the prefix
 * lengths present: checking a term is one hash lookup per length held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sets.h"

static bool prefix_within(const struct moat_prefix *outer,
			  const struct moat_prefix *inner)
{
	unsigned int bits = outer->len, i;

	if (outer->len > inner->len)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (outer->addr[i] != inner->addr[i])
			return false;
	return !bits ||
	       !((outer->addr[i] ^ inner->addr[i]) & (0xff00u >> bits));
}

static bool prefixes_meet(const struct moat_prefix *x,
			  const struct moat_prefix *y)
{
	return prefix_within(x, y) || prefix_within(y, x);
}

static bool ranges_meet(const struct moat_range *x, const struct moat_range *y)
{
	return x->lo <= y->hi && y->lo <= x->hi;
}

static bool range_within(const struct moat_range *outer,
			 const struct moat_range *inner)
{
	return outer->lo <= inner->lo && inner->hi <= outer->hi;
}

/* @held's destination contains @t's (the index only offers such). */
static bool terms_meet(const struct term *held, const struct term *t)
{
	return held->proto == t->proto && prefixes_meet(&held->src, &t->src) &&
	       ranges_meet(&held->a, &t->a) && ranges_meet(&held->b, &t->b);
}

static bool term_within(const struct term *outer, const struct term *t)
{
	return prefix_within(&outer->src, &t->src) &&
	       range_within(&outer->a, &t->a) && range_within(&outer->b, &t->b);
}

/*
 * The index of the terms placed so far: chains of terms by (set,
 * destination prefix), and per set the destination lengths it holds.
 * Terms arrive broadest destination first, so a held term can meet a
 * new one only if its destination contains the new one's: one lookup
 * per length held.
 */
struct slot {
	uint32_t color, head; /* head UINT32_MAX: empty slot */
	struct moat_prefix dst;
};

struct index {
	struct slot *slots;
	size_t mask;
	uint64_t (*lens)[3]; /* per set: bit l is set when a /l is held */
	size_t ncolors;
};

static uint64_t slot_hash(uint32_t color, const struct moat_prefix *p)
{
	uint64_t h = 1469598103934665603ull ^ color ^ ((uint64_t)p->len << 40);

	for (unsigned int i = 0; i < (p->len + 7u) / 8; i++)
		h = (h ^ p->addr[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static struct slot *slot_find(struct index *ix, uint32_t color,
			      const struct moat_prefix *p)
{
	size_t i = slot_hash(color, p) & ix->mask;

	for (;; i = (i + 1) & ix->mask) {
		struct slot *s = &ix->slots[i];

		if (s->head == UINT32_MAX ||
		    (s->color == color && s->dst.len == p->len &&
		     !memcmp(s->dst.addr, p->addr, sizeof(p->addr))))
			return s;
	}
}

static struct moat_prefix cut(const struct moat_prefix *p, unsigned int len)
{
	struct moat_prefix c = { .family = p->family, .len = (uint8_t)len };
	unsigned int i;

	for (i = 0; i < len / 8; i++)
		c.addr[i] = p->addr[i];
	if (len % 8)
		c.addr[i] = p->addr[i] & (uint8_t)(0xff00u >> (len % 8));
	return c;
}

/* 1: @t meets a term of @color; 2: one that contains it; 0: neither. */
static int probe(struct index *ix, const struct term *v, uint32_t color,
		 const struct term *t)
{
	int found = 0;

	for (unsigned int len = 0; len <= t->dst.len; len++) {
		struct moat_prefix up;
		struct slot *s;

		if (!(ix->lens[color][len / 64] & (1ull << (len % 64))))
			continue;
		up = cut(&t->dst, len);
		s = slot_find(ix, color, &up);
		for (uint32_t k = s->head; k != UINT32_MAX; k = v[k].next) {
			if (!terms_meet(&v[k], t))
				continue;
			if (term_within(&v[k], t))
				return 2;
			found = 1;
		}
	}
	return found;
}

static int term_cmp(const void *x, const void *y)
{
	const struct term *a = x, *b = y;

	if (a->dst.len != b->dst.len)
		return a->dst.len < b->dst.len ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

long sets_disjoint(struct shape *s)
{
	struct index ix = { 0 };
	long ret = -ENOMEM;
	size_t size = 16;

	qsort(s->v, s->n, sizeof(*s->v), term_cmp);
	while (size < 2 * s->n)
		size *= 2;
	ix.slots = malloc(size * sizeof(*ix.slots));
	if (!ix.slots)
		goto out;
	for (size_t i = 0; i < size; i++)
		ix.slots[i].head = UINT32_MAX;
	ix.mask = size - 1;

	for (size_t i = 0; i < s->n; i++) {
		struct term *t = &s->v[i];
		uint32_t c;
		int hit = 0;

		for (c = 0; c < ix.ncolors; c++) {
			hit = probe(&ix, s->v, c, t);
			if (hit != 1)
				break;
		}
		t->color = c;
		if (hit == 2) {
			t->color = UINT32_MAX;
			continue;
		}
		if (c == ix.ncolors) {
			void *l = realloc(ix.lens, (c + 1) * sizeof(*ix.lens));

			if (!l)
				goto out;
			ix.lens = l;
			memset(ix.lens[c], 0, sizeof(ix.lens[c]));
			ix.ncolors++;
		}
		ix.lens[c][t->dst.len / 64] |= 1ull << (t->dst.len % 64);
		struct slot *sl = slot_find(&ix, c, &t->dst);

		if (sl->head == UINT32_MAX) {
			sl->color = c;
			sl->dst = t->dst;
		}
		t->next = sl->head;
		sl->head = (uint32_t)i;
	}
	ret = (long)ix.ncolors;
out:
	free(ix.slots);
	free(ix.lens);
	return ret;
}
