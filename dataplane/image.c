// SPDX-License-Identifier: GPL-2.0-only
/*
 * The image: the term arrays and their lists, and the lookup over them in
 * C.  Lists are stored once per distinct content, so the leaves of a trie
 * that see the same terms share one list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile-int.h"

struct lslot {
	uint64_t hash;
	uint32_t ref; /* 0: free */
	uint32_t fam6;
};

int image_grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 1024;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*v, ncap * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

int lstore_init(struct lstore *ls, struct moat_image *img,
		const struct cterm *terms, const uint32_t *verdicts)
{
	memset(ls, 0, sizeof(*ls));
	ls->img = img;
	ls->terms = terms;
	ls->verdicts = verdicts;
	ls->nslots = 1024;
	ls->slots = calloc(ls->nslots, sizeof(*ls->slots));
	return ls->slots ? 0 : -ENOMEM;
}

void lstore_fini(struct lstore *ls)
{
	free(ls->slots);
	ls->slots = NULL;
}

/* Does @a match every packet that @b matches, within one list of @home? */
static bool term_covers(const struct cterm *a, const struct cterm *b, int home)
{
	if (!(a->flags & MOAT_T_ANYPROTO) &&
	    ((b->flags & MOAT_T_ANYPROTO) || a->proto != b->proto))
		return false;
	/* every term of a list matches the list's own key: skip that field */
	if (home != MOAT_HOME_SRC &&
	    !prefix_covers(a->src, a->src_len, b->src, b->src_len))
		return false;
	if (home != MOAT_HOME_DST &&
	    !prefix_covers(a->dst, a->dst_len, b->dst, b->dst_len))
		return false;
	if (a->flags & MOAT_T_L4) {
		if (!(b->flags & MOAT_T_L4))
			return false; /* b also matches later fragments */
		if (home != MOAT_HOME_SPORT &&
		    (a->sp_lo > b->sp_lo || a->sp_hi < b->sp_hi))
			return false;
		if (home != MOAT_HOME_DPORT &&
		    (a->dp_lo > b->dp_lo || a->dp_hi < b->dp_hi))
			return false;
		if ((a->tcp_mask & ~b->tcp_mask) ||
		    (b->tcp_value & a->tcp_mask) != a->tcp_value)
			return false;
	}
	if (a->ct && (!b->ct || (b->ct & ~a->ct)))
		return false;
	return !a->iface || a->iface == b->iface;
}

size_t lstore_prune(const struct cterm *terms, uint32_t *ids, size_t n,
		    int home)
{
	size_t kept = 0, i, j;

	for (i = 0; i < n; i++) {
		const struct cterm *b = &terms[ids[i]];
		bool covered = false;

		/*
		 * Past the longest list a generation may hold, the apply fails
		 * anyway; stop paying a quadratic price for it.
		 */
		if (kept > MOAT_LIST_MAX)
			return n;
		for (j = 0; j < kept && !covered; j++)
			covered = term_covers(&terms[ids[j]], b, home);
		if (!covered)
			ids[kept++] = ids[i];
	}
	return kept;
}

size_t lstore_merge_prune(const struct cterm *terms, const uint32_t *up,
			  size_t nup, const uint32_t *own, size_t nown,
			  uint32_t *out, uint32_t *mine, int home)
{
	size_t i = 0, j = 0, n = 0, nmine = 0, k;

	while (i < nup || j < nown) {
		bool from_up = j == nown ||
			       (i < nup && terms[up[i]].rule <= terms[own[j]].rule);
		uint32_t id = from_up ? up[i++] : own[j++];
		const struct cterm *b = &terms[id];
		bool covered = false;

		if (n > MOAT_LIST_MAX)
			return nup + nown; /* over anyway, as in lstore_prune() */
		/* @up is pruned: of the terms before b, only @own's can cover it */
		if (from_up)
			for (k = 0; k < nmine && !covered; k++)
				covered = term_covers(&terms[out[mine[k]]], b, home);
		else
			for (k = 0; k < n && !covered; k++)
				covered = term_covers(&terms[out[k]], b, home);
		if (covered)
			continue;
		if (!from_up)
			mine[nmine++] = (uint32_t)n;
		out[n++] = id;
	}
	return n;
}

void image_term4(const struct cterm *c, uint32_t verdict, struct moat_term4 *t)
{
	uint32_t s, d;

	memset(t, 0, sizeof(*t));
	memcpy(&s, c->src, 4);
	memcpy(&d, c->dst, 4);
	t->src_len = c->src_len;
	t->dst_len = c->dst_len;
	t->src = ntohl(s) & (uint32_t)(~0ull << (32 - c->src_len));
	t->dst = ntohl(d) & (uint32_t)(~0ull << (32 - c->dst_len));
	t->sp_lo = c->sp_lo;
	t->sp_hi = c->sp_hi;
	t->dp_lo = c->dp_lo;
	t->dp_hi = c->dp_hi;
	t->proto = c->proto;
	t->flags = c->flags;
	t->tcp_mask = c->tcp_mask;
	t->tcp_value = c->tcp_value;
	t->iface = c->iface;
	t->ct = c->ct;
	t->rule = c->rule;
	t->verdict = verdict;
}

void image_small4(const struct cterm *c, uint32_t verdict,
		  struct moat_small4 *t)
{
	struct moat_term4 h;

	image_term4(c, verdict, &h);
	memset(t, 0, sizeof(*t));
	t->src = htonl(h.src);
	t->src_mask = htonl((uint32_t)(~0ull << (32 - h.src_len)));
	t->dst = htonl(h.dst);
	t->dst_mask = htonl((uint32_t)(~0ull << (32 - h.dst_len)));
	t->sp_lo = h.sp_lo;
	t->sp_hi = h.sp_hi;
	t->dp_lo = h.dp_lo;
	t->dp_hi = h.dp_hi;
	t->proto = h.proto;
	t->flags = h.flags;
	t->tcp_mask = h.tcp_mask;
	t->tcp_value = h.tcp_value;
	t->iface = h.iface;
	t->ct = h.ct;
	t->rule = h.rule;
	t->verdict = h.verdict;
}

static void mask128(unsigned len, uint8_t *m)
{
	unsigned i;

	for (i = 0; i < 16; i++, len = len > 8 ? len - 8 : 0)
		m[i] = len >= 8 ? 0xff : (uint8_t)(0xff00 >> len);
}

void image_term6(const struct cterm *c, uint32_t verdict, struct moat_term6 *t)
{
	uint8_t m[16];

	memset(t, 0, sizeof(*t));
	memcpy(t->src, c->src, 16);
	mask128(c->src_len, m);
	memcpy(t->src_mask, m, 16);
	memcpy(t->dst, c->dst, 16);
	mask128(c->dst_len, m);
	memcpy(t->dst_mask, m, 16);
	t->sp_lo = c->sp_lo;
	t->sp_hi = c->sp_hi;
	t->dp_lo = c->dp_lo;
	t->dp_hi = c->dp_hi;
	t->proto = c->proto;
	t->flags = c->flags;
	t->tcp_mask = c->tcp_mask;
	t->tcp_value = c->tcp_value;
	t->iface = c->iface;
	t->ct = c->ct;
	t->rule = c->rule;
	t->verdict = verdict;
}

/*
 * A list's bytes, a word at a time: equal hashes are compared in full,
 * so speed matters more here than spread (byte-at-a-time FNV-1a was a
 * tenth of a half-IPv6 compile).
 */
static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	uint64_t w;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static int lstore_rehash(struct lstore *ls)
{
	size_t n = ls->nslots * 2, i, j;
	struct lslot *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; i < ls->nslots; i++) {
		if (!ls->slots[i].ref)
			continue;
		for (j = ls->slots[i].hash & (n - 1); s[j].ref; j = (j + 1) & (n - 1))
			;
		s[j] = ls->slots[i];
	}
	free(ls->slots);
	ls->slots = s;
	ls->nslots = n;
	return 0;
}

int lstore_put(struct lstore *ls, int fam6, const uint32_t *ids, size_t n,
	       uint32_t *ref)
{
	struct moat_image *img = ls->img;
	size_t esz = fam6 ? sizeof(struct moat_term6) : sizeof(struct moat_term4);
	size_t *cnt = fam6 ? &img->nterm6 : &img->nterm4;
	size_t *cap = fam6 ? &ls->cap6 : &ls->cap4;
	void **arr = fam6 ? (void **)&img->term6 : (void **)&img->term4;
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)fam6;
	uint8_t *base;
	size_t i, j;
	int err;

	*ref = 0;
	if (!n)
		return 0;
	if (n > MOAT_LIST_MAX)
		return -E2BIG;
	/* offset 0 stays unused so that a ref of 0 always means "empty" */
	if (*cnt == 0) {
		err = image_grow(arr, cap, 1, esz);
		if (err)
			return err;
		memset(*arr, 0, esz);
		*cnt = 1;
	}
	/* written past the end first: kept only when the list is new */
	if (*cnt + n > MOAT_LIST_OFF_MAX)
		return -E2BIG;
	err = image_grow(arr, cap, *cnt + n, esz);
	if (err)
		return err;
	base = (uint8_t *)*arr + *cnt * esz;
	for (i = 0; i < n; i++) {
		const struct cterm *c = &ls->terms[ids[i]];

		if (fam6)
			image_term6(c, ls->verdicts[c->rule], (struct moat_term6 *)base + i);
		else
			image_term4(c, ls->verdicts[c->rule], (struct moat_term4 *)base + i);
	}
	h = hash_bytes(base, n * esz, h);

	for (j = h & (ls->nslots - 1); ls->slots[j].ref;
	     j = (j + 1) & (ls->nslots - 1)) {
		struct lslot *s = &ls->slots[j];

		if (s->hash == h && s->fam6 == (uint32_t)fam6 &&
		    MOAT_LIST_LEN(s->ref) == n &&
		    !memcmp((uint8_t *)*arr + MOAT_LIST_OFF(s->ref) * esz, base,
			    n * esz)) {
			*ref = s->ref;
			return 0;
		}
	}
	ls->slots[j].hash = h;
	ls->slots[j].fam6 = fam6;
	ls->slots[j].ref = MOAT_LIST_REF((uint32_t)*cnt, (uint32_t)n);
	*ref = ls->slots[j].ref;
	*cnt += n;
	img->nlists++;
	if (n > img->max_list)
		img->max_list = n;
	if (++ls->used * 2 > ls->nslots)
		return lstore_rehash(ls);
	return 0;
}

void moat_image_free(struct moat_image *img)
{
	free(img->trie);
	free(img->ports);
	free(img->term4);
	free(img->term6);
	free(img->filter);
	free(img->rulex);
	memset(img, 0, sizeof(*img));
}

uint64_t moat_image_bytes(const struct moat_image *img)
{
	return img->ntrie * 4ull + img->nports * 4ull +
	       img->nterm4 * sizeof(struct moat_term4) +
	       img->nterm6 * sizeof(struct moat_term6) + img->nfilter * 8ull;
}

/* The lookup of bpf/moat_classify.h, over the image in memory. */
static __thread const struct moat_image *img_cur;

#define MOAT_L (img_cur->layout)
#define MOAT_AT(arr, n, i) ((size_t)(i) < img_cur->n ? &img_cur->arr[(i)] : NULL)
#define MOAT_LINE(arr, n, l)                                                    \
	(((size_t)(l) + 1) * MOAT_LINE_WORDS <= img_cur->n ?                    \
		 (const struct moat_line *)&img_cur->arr[(size_t)(l) * MOAT_LINE_WORDS] : \
		 NULL)
#define MOAT_TRIE_LINE(l) MOAT_LINE(trie, ntrie, l)
#define MOAT_PORTS_LINE(l) MOAT_LINE(ports, nports, l)
#define MOAT_TERM4_AT(i) MOAT_AT(term4, nterm4, i)
#define MOAT_TERM6_AT(i) MOAT_AT(term6, nterm6, i)
#define MOAT_FILTER_AT(i) MOAT_AT(filter, nfilter, i)
#define MOAT_SCAN_REST4(off, n, k, best) moat_rest4(off, n, k, best)
#define MOAT_SCAN_REST6(off, n, k, best) moat_rest6(off, n, k, best)
struct moat_key;
static __u64 moat_rest4(__u32 off, __u32 n, const struct moat_key *k,
			__u64 best);
static __u64 moat_rest6(__u32 off, __u32 n, const struct moat_key *k,
			__u64 best);
#include "moat_classify.h"

static __u64 moat_rest4(__u32 off, __u32 n, const struct moat_key *k, __u64 best)
MOAT_SCAN_LOOP(MOAT_TERM4_AT, moat_match4)

static __u64 moat_rest6(__u32 off, __u32 n, const struct moat_key *k, __u64 best)
MOAT_SCAN_LOOP(MOAT_TERM6_AT, moat_match6)

int moat_image_classify(const struct moat_image *img, const uint8_t *frame,
			size_t len, uint32_t ifindex, uint64_t *match)
{
	return moat_image_classify_ct(img, frame, len, ifindex, 0, match);
}

int moat_image_classify_ct(const struct moat_image *img, const uint8_t *frame,
			   size_t len, uint32_t ifindex, uint8_t ct,
			   uint64_t *match)
{
	struct moat_frame f = { .data = frame, .end = frame + len };
	struct moat_key k;
	int kind;

	memset(&k, 0, sizeof(k));
	img_cur = img;
	*match = MOAT_NO_MATCH;
	kind = moat_parse(&f, &k);
	if (kind != MOAT_K_CLASSIFY)
		return kind;
	if (img->layout.nifaces)
		k.iface = moat_iface_id(ifindex);
	k.ct = ct;
	*match = k.fam6 ? moat_classify6(&k) : moat_classify4(&k);
	return kind;
}
