// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadowed and redundant rules in a large ruleset, without comparing
 * every pair.  Both are about a rule A (earlier, or later and of the same
 * action) that holds rule B.  A matches every packet of B, so in particular
 * one packet of B picked in advance (the witness: B's lowest source,
 * destination, protocol and destination port).  The index files every
 * rule under each value it lists, per field: a prefix under its bits, a
 * port range under the aligned blocks it splits into, a protocol under
 * its number; a rule without the field is filed as a wildcard.  The rules
 * that match the witness in one field are those filed under a prefix
 * (or block) of the witness's value, plus the wildcards: they are the
 * only candidates, and the field with the fewest is the one walked.  Each
 * candidate is then compared exactly, as analyze.c does for every pair.
 *
 * The index decides nothing on its own: it only leaves out rules that
 * cannot hold B.  For a redundant B, the rules of the other action
 * between B and its holder are then asked, in order, whether they meet B.
 * Where many rules share values, candidates are many, so each search has
 * a budget.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "matchspace.h"

/* in the order looked up: destinations tell rules apart best */
enum dim { D_DST, D_SRC, D_DPORT, D_PROTO, D_N };

/* Candidates few enough to walk without looking up the other fields. */
#define FEW 256

/* Filed under: field, IP version (0 for ports), length in bits, value. */
struct entry {
	uint64_t hi, lo; /* the value; a u128 would cost 16 more bytes */
	uint32_t rule;
	uint8_t dim, ver, len;
};

/* A key's entries: v[first] to v[first + n - 1]; n 0: an unused slot. */
struct slot {
	uint32_t first, n;
};

struct rule_index {
	struct entry *v;
	size_t n, cap;
	uint32_t *wild[D_N]; /* rules without the field, in order */
	size_t nwild[D_N];
	bool lens[D_N][2][129]; /* the lengths filed: those worth a lookup */
	struct slot *slots; /* a hash table of the keys */
	size_t mask; /* slots: a power of two, at least twice the keys */
};

/* A run of candidates: rules in order. */
struct run {
	const struct entry *e; /* or, when NULL, */
	const uint32_t *w; /* the wildcards */
	size_t n;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->dim != y->dim)
		return x->dim < y->dim ? -1 : 1;
	if (x->ver != y->ver)
		return x->ver < y->ver ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int file_under(struct rule_index *ix, enum dim d, int ver,
		      unsigned int len, u128 value, size_t rule)
{
	struct entry *v;

	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? 2 * ix->cap : 1024;
		v = realloc(ix->v, ix->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ix->v = v;
	}
	ix->v[ix->n++] = (struct entry){ (uint64_t)(value >> 64),
					 (uint64_t)value,
					 (uint32_t)rule,
					 (uint8_t)d,
					 (uint8_t)ver,
					 (uint8_t)len };
	ix->lens[d][ver][len] = true;
	return 0;
}

static u128 prefix_value(const struct moat_prefix *p)
{
	unsigned int bytes = p->family == AF_INET ? 4 : 16;
	u128 a = 0;

	for (unsigned int b = 0; b < bytes; b++)
		a = a << 8 | p->addr[b];
	return a;
}

static int file_prefixes(struct rule_index *ix, enum dim d,
			 const struct moat_prefix *v, size_t n, size_t rule)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = file_under(ix, d, v[i].family == AF_INET ? MS_V4 : MS_V6,
				 v[i].len, prefix_value(&v[i]), rule);
	return ret;
}

/* A port range as the aligned blocks that make it up: 30 at most. */
static int file_ports(struct rule_index *ix, const struct moat_range *v,
		      size_t n, size_t rule)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t lo = v[i].lo, hi = v[i].hi, bits;

		while (lo <= hi && !ret) {
			for (bits = 16; bits > 0; bits--)
				if (!(lo & ((1u << bits) - 1)) &&
				    lo + (1u << bits) - 1 <= hi)
					break;
			ret = file_under(ix, D_DPORT, 0, 16 - bits, lo, rule);
			lo += 1u << bits;
		}
	}
	return ret;
}

static int file_protos(struct rule_index *ix, const struct match_space *s,
		       size_t rule)
{
	int ret = 0;

	for (int ver = MS_V4; ver <= MS_V6 && !ret; ver++)
		for (unsigned int p = 0; p < 256 && !ret; p++)
			if (s->protos[ver][p / 64] >> (p % 64) & 1)
				ret = file_under(ix, D_PROTO, ver, 8, p, rule);
	return ret;
}

static bool same_key(const struct entry *a, const struct entry *b)
{
	return a->hi == b->hi && a->lo == b->lo && a->dim == b->dim &&
	       a->ver == b->ver && a->len == b->len;
}

static size_t key_hash(const struct entry *e)
{
	uint64_t h = e->hi * 0x9e3779b97f4a7c15ull ^ e->lo;

	h ^= (uint64_t)e->dim << 16 | (uint64_t)e->ver << 8 | e->len;
	h *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(h ^ h >> 31);
}

/* The slot of @key's entries, or the empty slot where they would be. */
static struct slot *slot_of(const struct rule_index *ix,
			    const struct entry *key)
{
	size_t i = key_hash(key) & ix->mask;

	while (ix->slots[i].n && !same_key(&ix->v[ix->slots[i].first], key))
		i = (i + 1) & ix->mask;
	return &ix->slots[i];
}

/* After the sort: each key's entries are together, rules in order. */
static int hash_keys(struct rule_index *ix)
{
	size_t size = 16, keys = 0;

	for (size_t i = 0; i < ix->n; i++)
		keys += i == 0 || !same_key(&ix->v[i - 1], &ix->v[i]);
	while (size < 2 * keys)
		size *= 2;
	ix->slots = calloc(size, sizeof(*ix->slots));
	if (!ix->slots)
		return -ENOMEM;
	ix->mask = size - 1;
	for (size_t i = 0; i < ix->n; i++) {
		struct slot *sl = slot_of(ix, &ix->v[i]);

		if (!sl->n)
			sl->first = (uint32_t)i;
		sl->n++;
	}
	return 0;
}

static int index_build(struct rule_index *ix, const struct match_space *sp,
		       size_t n)
{
	int ret = 0;

	for (int d = 0; d < D_N; d++) {
		ix->wild[d] = malloc((n + 1) * sizeof(*ix->wild[d]));
		if (!ix->wild[d])
			return -ENOMEM;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		const struct moat_rule *r = sp[i].r;

		if (r->src.n)
			ret = file_prefixes(ix, D_SRC, r->src.v, r->src.n, i);
		else
			ix->wild[D_SRC][ix->nwild[D_SRC]++] = (uint32_t)i;
		if (r->dst.n && !ret)
			ret = file_prefixes(ix, D_DST, r->dst.v, r->dst.n, i);
		else if (!ret)
			ix->wild[D_DST][ix->nwild[D_DST]++] = (uint32_t)i;
		if (r->dport.n && !ret)
			ret = file_ports(ix, r->dport.v, r->dport.n, i);
		else if (!ret)
			ix->wild[D_DPORT][ix->nwild[D_DPORT]++] = (uint32_t)i;
		if (r->protos.n && !ret)
			ret = file_protos(ix, &sp[i], i);
		else if (!ret)
			ix->wild[D_PROTO][ix->nwild[D_PROTO]++] = (uint32_t)i;
	}
	if (ret)
		return ret;
	if (ix->n) /* no rule lists a value: v is NULL, which qsort may not be */
		qsort(ix->v, ix->n, sizeof(*ix->v), entry_cmp);
	return hash_keys(ix);
}

static void index_free(struct rule_index *ix)
{
	free(ix->v);
	free(ix->slots);
	for (int d = 0; d < D_N; d++)
		free(ix->wild[d]);
}

/* The entries filed under exactly (d, ver, len, value). */
static struct run lookup(const struct rule_index *ix, enum dim d, int ver,
			 unsigned int len, u128 value)
{
	struct entry key = { (uint64_t)(value >> 64),
			     (uint64_t)value,
			     0,
			     (uint8_t)d,
			     (uint8_t)ver,
			     (uint8_t)len };
	const struct slot *sl = slot_of(ix, &key);

	return (struct run){ &ix->v[sl->first], NULL, sl->n };
}

static u128 keep_bits(u128 x, unsigned int len, unsigned int bits)
{
	return len == 0 ? 0 : x & ~((((u128)1) << (bits - len)) - 1);
}

static uint32_t run_rule(const struct run *r, size_t i)
{
	return r->e ? r->e[i].rule : r->w[i];
}

/*
 * Cut @r to its rules before @b (@after false: those that may shadow it)
 * or after it (@after true: those that may make it redundant).
 */
static size_t cut_at(struct run *r, uint32_t b, bool after)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (run_rule(r, mid) < b + after)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!after)
		return r->n = lo;
	if (r->e)
		r->e += lo;
	else
		r->w += lo;
	return r->n -= lo;
}

/*
 * The candidates before or after rule @b in field @d for a witness value
 * @x (@has: the witness has the field; a packet without ports matches
 * only the wildcards of dport), as runs; returns their number.
 */
static size_t candidates(const struct rule_index *ix, enum dim d, int ver,
			 bool has, u128 x, uint32_t b, bool after,
			 struct run *runs, size_t *nruns)
{
	unsigned int bits = d == D_DPORT ? 16 :
			    d == D_PROTO ? 8 :
			    ver == MS_V4 ? 32 :
					   128;
	size_t total;

	*nruns = 0;
	runs[(*nruns)++] = (struct run){ NULL, ix->wild[d], ix->nwild[d] };
	total = cut_at(&runs[0], b, after);
	if (d == D_DPORT)
		ver = 0;
	for (unsigned int len = 0; has && len <= bits; len++) {
		if (!ix->lens[d][ver][len])
			continue;
		runs[*nruns] = lookup(ix, d, ver, len, keep_bits(x, len, bits));
		total += cut_at(&runs[(*nruns)++], b, after);
	}
	return total;
}

static unsigned int lowest_proto(const uint64_t *p)
{
	for (unsigned int w = 0; w < 4; w++)
		if (p[w])
			return w * 64 + (unsigned int)__builtin_ctzll(p[w]);
	return 0;
}

/* The candidates of one rule: runs in the field where they are fewest. */
struct pick {
	struct run runs[130];
	size_t nruns, n;
};

static void pick_field(const struct rule_index *ix, const struct match_space *s,
		       uint32_t b, bool after, struct pick *best)
{
	int ver = s->versions & 1u << MS_V4 ? MS_V4 : MS_V6;
	/* the witness has ports when the rule asks for a header with them */
	bool ports = s->r->sport.n || s->r->dport.n || s->r->tcp_flags_mask;
	u128 x[D_N] = { s->dst[ver].hull.lo, s->src[ver].hull.lo,
			s->dport.hull.lo, lowest_proto(s->protos[ver]) };
	struct pick p;

	for (enum dim d = 0; d < D_N; d++) {
		struct run w = { NULL, ix->wild[d], ix->nwild[d] };

		/* the wildcards alone outnumber the best: no lookups needed */
		if (d > 0 && cut_at(&w, b, after) >= best->n)
			continue;
		p.n = candidates(ix, d, ver, d != D_DPORT || ports, x[d], b,
				 after, p.runs, &p.nruns);
		if (d == 0 || p.n < best->n)
			*best = p;
		/* few enough: the lookups would cost more than the walk */
		if (best->n <= FEW)
			break;
	}
}

/*
 * The first rule of @p before @limit that holds @s (with @same: of action
 * @act, and not in @skip), or @limit.  Each rule looked at takes one of
 * *@left; when none is left, *@stop is set and the answer is no answer.
 */
static size_t first_holder(const struct match_space *sp, const struct pick *p,
			   const struct match_space *s, size_t limit,
			   const bool *skip, enum moat_action act, bool same,
			   size_t *left, bool *stop)
{
	size_t best = limit;

	for (size_t k = 0; k < p->nruns && !*stop; k++) {
		const struct run *r = &p->runs[k];

		for (size_t i = 0; i < r->n; i++) {
			uint32_t a = run_rule(r, i);

			/* in order: past the best is done */
			if (a >= best)
				break;
			if (!*left) {
				*stop = true;
				break;
			}
			(*left)--;
			if ((!same || (sp[a].r->action == act && !skip[a])) &&
			    match_space_within(s, &sp[a]))
				best = a;
		}
	}
	return best;
}

/*
 * Is there a rule of the other action than @b's between @b and @c that
 * meets it?  @other lists the rules of that action, in order; each one
 * looked at takes one of *@left, as in first_holder().
 */
static bool blocked(const struct match_space *sp, size_t b, size_t c,
		    const uint32_t *other, size_t nother, size_t *left,
		    bool *stop)
{
	size_t lo = 0, hi = nother;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (other[mid] <= b)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nother && other[lo] < c; lo++) {
		if (!*left) {
			*stop = true;
			return false;
		}
		(*left)--;
		if (match_space_meets(&sp[other[lo]], &sp[b]))
			return true;
	}
	return false;
}

int index_find(const struct match_space *sp, size_t n, size_t work,
	       struct index_findings *f)
{
	struct rule_index ix = { 0 };
	uint32_t *by_action[2] = { NULL, NULL };
	size_t nby[2] = { 0, 0 }, left = work, b;
	bool stop = false;
	struct pick p;
	int ret;

	f->shadowed_upto = f->redundant_upto = 0;
	ret = index_build(&ix, sp, n);
	for (int a = 0; a < 2 && !ret; a++)
		if (!(by_action[a] = malloc((n + 1) * sizeof(uint32_t))))
			ret = -ENOMEM;
	if (ret)
		goto out;

	for (b = 0; b < n; b++) {
		f->shadowed_by[b] = b;
		f->shadowed[b] = false;
		by_action[sp[b].r->action][nby[sp[b].r->action]++] =
			(uint32_t)b;
	}
	for (b = 0; b < n && !stop; b++) {
		if (sp[b].versions) {
			pick_field(&ix, &sp[b], (uint32_t)b, false, &p);
			f->shadowed_by[b] =
				first_holder(sp, &p, &sp[b], b, NULL, 0, false,
					     &left, &stop);
			f->shadowed[b] = f->shadowed_by[b] != b;
		}
		if (!stop)
			f->shadowed_upto = b + 1;
	}

	/*
	 * The first holder after b of its action, then what stands between;
	 * among the rules whose shadowing is known, since a shadowed holder
	 * does not count.
	 */
	left = work;
	stop = false;
	n = f->shadowed_upto;
	for (b = 0; b < n && !stop; b++) {
		enum moat_action act = sp[b].r->action;
		size_t c = n;

		f->redundant_by[b] = b;
		if (sp[b].versions && !f->shadowed[b]) {
			pick_field(&ix, &sp[b], (uint32_t)b, true, &p);
			c = first_holder(sp, &p, &sp[b], n, f->shadowed, act,
					 true, &left, &stop);
		}
		if (c < n && !stop &&
		    !blocked(sp, b, c, by_action[!act], nby[!act], &left,
			     &stop) &&
		    !stop)
			f->redundant_by[b] = c;
		if (!stop)
			f->redundant_upto = b + 1;
	}
out:
	free(by_action[0]);
	free(by_action[1]);
	index_free(&ix);
	return ret;
}
