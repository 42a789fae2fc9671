// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadowed and redundant rules in a large ruleset, without comparing
 * every pair.  Both are about a rule A (earlier, or later and of the same
 * action) that holds rule B: A matches every packet of B, so in
 * particular one packet of B picked in advance, the witness (B's lowest
 * destination, source, ports and protocol, in the first IP version B
 * matches).  In every field, A's values contain the witness's.
 *
 * Each rule is filed under the values of one field only, its home: of
 * the fields it gives, the one whose values hold the fewest witnesses of
 * the ruleset's rules, so that it is a candidate least often (a /32
 * destination before a /8 source, a rare port before a common one or a
 * protocol).  Addresses, and ports split into aligned blocks, are
 * prefixes: any two are nested or apart, so the values of one field form
 * trees, and the values that contain the witness's are one path up from
 * the last value at or below it.  Those paths, in each field, plus
 * the few rules that have no field to file under, hold every rule that
 * can hold B, and only rules whose home already contains the witness.
 * Each is then compared exactly, as analyze.c does for every pair.
 *
 * The index decides nothing on its own: it only leaves out rules that
 * cannot hold B.  For a redundant B, the rules of the other action
 * between B and its holder are then asked, in order, whether they meet B.
 * Where many rules share a home, candidates are many, so each search has
 * a budget.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "matchspace.h"

/* the fields filed under, in the order a tie for the home is settled */
enum dim { D_DST, D_SRC, D_DPORT, D_SPORT, D_PROTO, D_N };

/* One value filed, while the index is built. */
struct entry {
	uint64_t hi, lo; /* the value; a u128 would cost 16 more bytes */
	uint32_t rule;
	uint8_t dim, ver, len; /* ver: the IP version, 0 for ports */
};

/*
 * A value of a field's trees, and the rules filed under it, in order:
 * rules[first] to rules[first + n - 1].
 */
struct node {
	uint64_t hi, lo;
	uint32_t first, n;
	int32_t up; /* the nearest node that contains this one, or -1 */
	uint8_t len;
};

/*
 * What a comparison looks at first, in one line: a rule's hulls, IPv6
 * addresses cut to their top 32 bits (a hull within another stays
 * within).  A rule of both IP versions is kept as holding any address.
 */
struct sketch {
	uint32_t src[2], dst[2]; /* lowest, highest */
	uint16_t sport[2], dport[2];
	uint8_t versions, action;
	bool l4;
};

struct rule_index {
	struct sketch *sk; /* a rule's, by its number */
	struct node *nodes; /* by field, version, value, length */
	uint32_t *rules;
	size_t tree[D_N][2][2]; /* each field and version: nodes [from, to) */
	/*
	 * A large tree's first node at or past each value of JUMP_BITS top
	 * bits (2^JUMP_BITS + 1 of them): the search for a value starts
	 * among a few nodes, not a few cache misses down the whole tree.
	 */
	uint32_t *jump[D_N][2];
	uint32_t *homeless; /* rules with no field to file under, in order */
	size_t nhomeless;
};

#define JUMP_BITS 16
#define JUMP_MIN_NODES 1024

/* A run of candidates: rules in order. */
struct run {
	const uint32_t *v;
	size_t n;
};

/* The candidates of one rule: the homeless, then a path per field. */
struct pick {
	struct run runs[1 + 2 * 129 + 2 * 17 + 1];
	size_t nruns;
};

static unsigned int dim_bits(int d, int ver)
{
	if (d == D_DPORT || d == D_SPORT)
		return 16;
	if (d == D_PROTO)
		return 8;
	return ver == MS_V4 ? 32 : 128;
}

/* The top JUMP_BITS bits of a value of @bits bits (all of a short one). */
static uint32_t jump_of(u128 x, unsigned int bits)
{
	if (bits <= JUMP_BITS)
		return (uint32_t)x;
	return (uint32_t)(x >> (bits - JUMP_BITS));
}

/* Places in a jump table for values of @bits bits (and one past them). */
static uint32_t jump_size(unsigned int bits)
{
	return bits < JUMP_BITS ? 1u << bits : 1u << JUMP_BITS;
}

/*
 * @j[t]: the first of values [@from, @to), sorted, whose top bits are t
 * or more; at(@arr, k) is value k.
 */
static void fill_jump(uint32_t *j, unsigned int bits, size_t from, size_t to,
		      u128 (*at)(const void *, size_t), const void *arr)
{
	size_t k = from;

	for (uint32_t t = 0; t <= jump_size(bits); t++) {
		while (k < to && jump_of(at(arr, k), bits) < t)
			k++;
		j[t] = (uint32_t)k;
	}
}

static u128 host_bits(unsigned int bits, unsigned int len)
{
	return bits - len >= 128 ? ~(u128)0 : ((u128)1 << (bits - len)) - 1;
}

static u128 node_value(const struct node *nd)
{
	return (u128)nd->hi << 64 | nd->lo;
}

static u128 node_at(const void *nodes, size_t k)
{
	return node_value(&((const struct node *)nodes)[k]);
}

static bool node_holds(const struct node *nd, unsigned int bits, u128 x)
{
	u128 lo = node_value(nd);

	return lo <= x && x <= (lo | host_bits(bits, nd->len));
}

/* The IP version a rule's witness is of; a field's trees: ports have one. */
static int witness_ver(const struct match_space *s)
{
	return s->versions & 1u << MS_V4 ? MS_V4 : MS_V6;
}

static int tree_ver(int d, int ver)
{
	return d == D_DPORT || d == D_SPORT ? 0 : ver;
}

static uint32_t top32(u128 x, int ver)
{
	return ver == MS_V4 ? (uint32_t)x : (uint32_t)(x >> 96);
}

/* @s's sketch; in version @ver, or (@ver -1) as it is kept. */
static void sketch_init(struct sketch *k, const struct match_space *s, int ver)
{
	const unsigned int both = 1u << MS_V4 | 1u << MS_V6;

	if (ver < 0 && s->versions != both)
		ver = witness_ver(s);
	if (ver < 0) {
		k->src[0] = k->dst[0] = 0;
		k->src[1] = k->dst[1] = UINT32_MAX;
	} else {
		k->src[0] = top32(s->src[ver].hull.lo, ver);
		k->src[1] = top32(s->src[ver].hull.hi, ver);
		k->dst[0] = top32(s->dst[ver].hull.lo, ver);
		k->dst[1] = top32(s->dst[ver].hull.hi, ver);
	}
	k->sport[0] = (uint16_t)s->sport.hull.lo;
	k->sport[1] = (uint16_t)s->sport.hull.hi;
	k->dport[0] = (uint16_t)s->dport.hull.lo;
	k->dport[1] = (uint16_t)s->dport.hull.hi;
	k->versions = (uint8_t)s->versions;
	k->action = (uint8_t)s->r->action;
	k->l4 = s->l4;
}

/*
 * Could @a hold @b?  No when a hull of @b sticks out of @a's: what
 * match_space_within() asks first, without its walk over @a's memory.
 */
static bool sketch_within(const struct sketch *b, const struct sketch *a)
{
	return !(b->versions & ~a->versions) && (!a->l4 || b->l4) &&
	       a->dst[0] <= b->dst[0] && b->dst[1] <= a->dst[1] &&
	       a->src[0] <= b->src[0] && b->src[1] <= a->src[1] &&
	       a->dport[0] <= b->dport[0] && b->dport[1] <= a->dport[1] &&
	       a->sport[0] <= b->sport[0] && b->sport[1] <= a->sport[1];
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->dim != y->dim)
		return x->dim < y->dim ? -1 : 1;
	if (x->ver != y->ver)
		return x->ver < y->ver ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	/* the shorter first: a value comes before those inside it */
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

struct filing {
	struct entry *v;
	size_t n, cap;
};

static int file_under(struct filing *fl, enum dim d, int ver, unsigned int len,
		      u128 value, size_t rule)
{
	struct entry *v;

	if (fl->n == fl->cap) {
		fl->cap = fl->cap ? 2 * fl->cap : 1024;
		v = realloc(fl->v, fl->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fl->v = v;
	}
	fl->v[fl->n++] = (struct entry){ (uint64_t)(value >> 64),
					 (uint64_t)value,
					 (uint32_t)rule,
					 (uint8_t)d,
					 (uint8_t)ver,
					 (uint8_t)len };
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

static int file_prefixes(struct filing *fl, enum dim d,
			 const struct moat_prefix *v, size_t n, size_t rule)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = file_under(fl, d, v[i].family == AF_INET ? MS_V4 : MS_V6,
				 v[i].len, prefix_value(&v[i]), rule);
	return ret;
}

/* The bits of the widest aligned block in [lo, hi] that starts at lo. */
static unsigned int block_bits(uint32_t lo, uint32_t hi)
{
	unsigned int bits;

	for (bits = 16; bits > 0; bits--)
		if (!(lo & ((1u << bits) - 1)) && lo + (1u << bits) - 1 <= hi)
			break;
	return bits;
}

/* A port range as the aligned blocks that make it up: 30 at most. */
static int file_ports(struct filing *fl, enum dim d,
		      const struct moat_range *v, size_t n, size_t rule)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t lo = v[i].lo, hi = v[i].hi, bits;

		while (lo <= hi && !ret) {
			bits = block_bits(lo, hi);
			ret = file_under(fl, d, 0, 16 - bits, lo, rule);
			lo += 1u << bits;
		}
	}
	return ret;
}

static int file_protos(struct filing *fl, const struct match_space *s,
		       size_t rule)
{
	int ret = 0;

	for (int ver = MS_V4; ver <= MS_V6 && !ret; ver++)
		for (unsigned int p = 0; p < 256 && !ret; p++)
			if (s->protos[ver][p / 64] >> (p % 64) & 1)
				ret = file_under(fl, D_PROTO, ver, 8, p, rule);
	return ret;
}

static unsigned int lowest_proto(const uint64_t *p)
{
	for (unsigned int w = 0; w < 4; w++)
		if (p[w])
			return w * 64 + (unsigned int)__builtin_ctzll(p[w]);
	return 0;
}

static u128 witness_of(const struct match_space *s, int d, int ver)
{
	switch (d) {
	case D_DST:
		return s->dst[ver].hull.lo;
	case D_SRC:
		return s->src[ver].hull.lo;
	case D_DPORT:
		return s->dport.hull.lo;
	case D_SPORT:
		return s->sport.hull.lo;
	default:
		return lowest_proto(s->protos[ver]);
	}
}

/*
 * Every rule's witness value in each field: a rule filed under a value
 * is a candidate for every rule whose witness that value holds.  Values
 * of up to 16 bits (ports, protocols) as a count of the witnesses below
 * each; addresses sorted, with a jump table as the trees have.
 */
struct witnesses {
	u128 *v[2][2]; /* [D_DST or D_SRC][ver] */
	size_t n[2][2];
	uint32_t *jump[2][2];
	uint32_t *below[D_N][2]; /* the others, by tree: 2^bits + 1 */
};

static int u128_cmp(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

static u128 witness_at(const void *v, size_t k)
{
	return ((const u128 *)v)[k];
}

static int witnesses_init(struct witnesses *w, const struct match_space *sp,
			  size_t n)
{
	memset(w, 0, sizeof(*w));
	for (int d = 0; d < D_N; d++)
		for (int ver = 0; ver < 2; ver++) {
			if (d <= D_SRC) {
				w->v[d][ver] = malloc((n + 1) * sizeof(u128));
				w->jump[d][ver] = malloc(
					(jump_size(dim_bits(d, ver)) + 1) *
					sizeof(uint32_t));
				if (!w->v[d][ver] || !w->jump[d][ver])
					return -ENOMEM;
			} else if (tree_ver(d, ver) == ver) {
				/* ports and protocols: 16 bits at most */
				w->below[d][ver] =
					calloc((1u << dim_bits(d, ver)) + 1,
					       sizeof(uint32_t));
				if (!w->below[d][ver])
					return -ENOMEM;
			}
		}
	for (size_t i = 0; i < n; i++) {
		int ver = witness_ver(&sp[i]);

		if (!sp[i].versions)
			continue;
		for (int d = 0; d < D_N; d++) {
			u128 x = witness_of(&sp[i], d, ver);

			if (d <= D_SRC)
				w->v[d][ver][w->n[d][ver]++] = x;
			else
				w->below[d][tree_ver(d, ver)][(uint32_t)x + 1]++;
		}
	}
	for (int d = 0; d < D_N; d++)
		for (int ver = 0; ver < 2; ver++) {
			uint32_t *b = w->below[d][ver];

			if (d <= D_SRC) {
				qsort(w->v[d][ver], w->n[d][ver], sizeof(u128),
				      u128_cmp);
				fill_jump(w->jump[d][ver], dim_bits(d, ver), 0,
					  w->n[d][ver], witness_at, w->v[d][ver]);
			}
			if (!b)
				continue;
			for (uint32_t t = 1; t <= 1u << dim_bits(d, ver); t++)
				b[t] += b[t - 1];
		}
	return 0;
}

static void witnesses_free(struct witnesses *w)
{
	for (int d = 0; d < D_N; d++)
		for (int ver = 0; ver < 2; ver++) {
			if (d <= D_SRC) {
				free(w->v[d][ver]);
				free(w->jump[d][ver]);
			}
			free(w->below[d][ver]);
		}
}

/* The first witness of field @d (an address) past @x, or at or past it. */
static size_t bound(const struct witnesses *w, int d, int ver, u128 x,
		    bool after)
{
	const u128 *v = w->v[d][ver];
	uint32_t t = jump_of(x, dim_bits(d, ver));
	size_t lo = w->jump[d][ver][t], hi = w->jump[d][ver][t + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x || (after && v[mid] == x))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many witnesses in field @d, version @ver, lie in [lo, hi]. */
static size_t held(const struct witnesses *w, int d, int ver, u128 lo, u128 hi)
{
	const uint32_t *b = w->below[d][ver];

	if (d <= D_SRC)
		return bound(w, d, ver, hi, true) - bound(w, d, ver, lo, false);
	return b[(uint32_t)hi + 1] - b[(uint32_t)lo];
}

/*
 * What filing @r under field @d would cost: the rules it would be a
 * candidate for; SIZE_MAX when @r does not give the field.
 */
static size_t home_cost(const struct witnesses *w, const struct moat_rule *r,
			int d)
{
	size_t cost = 0, i;

	switch (d) {
	case D_DST:
	case D_SRC: {
		const struct moat_prefix *v = d == D_DST ? r->dst.v : r->src.v;
		size_t n = d == D_DST ? r->dst.n : r->src.n;

		for (i = 0; i < n; i++) {
			int ver = v[i].family == AF_INET ? MS_V4 : MS_V6;
			u128 lo = prefix_value(&v[i]);

			cost += held(w, d, ver, lo,
				     lo | host_bits(dim_bits(d, ver), v[i].len));
		}
		return n ? cost : SIZE_MAX;
	}
	case D_DPORT:
	case D_SPORT: {
		const struct moat_range *v = d == D_DPORT ? r->dport.v :
							    r->sport.v;
		size_t n = d == D_DPORT ? r->dport.n : r->sport.n;

		for (i = 0; i < n; i++)
			cost += held(w, d, 0, v[i].lo, v[i].hi);
		return n ? cost : SIZE_MAX;
	}
	default:
		/* a protocol item names its IP versions (matchspace.c) */
		for (i = 0; i < r->protos.n; i++) {
			uint8_t p = r->protos.v[i];

			if (p != MOAT_PROTO_ICMPV6)
				cost += held(w, D_PROTO, MS_V4, p, p);
			if (p != MOAT_PROTO_ICMP)
				cost += held(w, D_PROTO, MS_V6, p, p);
		}
		return r->protos.n ? cost : SIZE_MAX;
	}
}

/*
 * File @s under its home: of the fields it gives, the one whose values
 * hold the fewest rules' witnesses, so that it is a candidate least often.
 */
static int file_home(struct rule_index *ix, struct filing *fl,
		     const struct witnesses *w, const struct match_space *s,
		     size_t rule)
{
	const struct moat_rule *r = s->r;
	size_t best = SIZE_MAX;
	int home = -1;

	for (int d = 0; d < D_N; d++) {
		size_t cost = home_cost(w, r, d);

		if (cost < best) {
			best = cost;
			home = d;
		}
	}
	switch (home) {
	case D_DST:
		return file_prefixes(fl, D_DST, r->dst.v, r->dst.n, rule);
	case D_SRC:
		return file_prefixes(fl, D_SRC, r->src.v, r->src.n, rule);
	case D_DPORT:
		return file_ports(fl, D_DPORT, r->dport.v, r->dport.n, rule);
	case D_SPORT:
		return file_ports(fl, D_SPORT, r->sport.v, r->sport.n, rule);
	case D_PROTO:
		return file_protos(fl, s, rule);
	default:
		ix->homeless[ix->nhomeless++] = (uint32_t)rule;
		return 0;
	}
}

static bool same_value(const struct entry *a, const struct entry *b)
{
	return a->hi == b->hi && a->lo == b->lo && a->dim == b->dim &&
	       a->ver == b->ver && a->len == b->len;
}

/*
 * The sorted entries as nodes: a node per value, its rules in order, and
 * in each tree the nearest node above, found with the path from the root
 * kept on a stack (in this order a node comes after all that contain it).
 */
static int make_trees(struct rule_index *ix, const struct filing *fl)
{
	size_t nn = 0, top = 0, i;
	size_t stack[130];

	ix->rules = malloc((fl->n + 1) * sizeof(*ix->rules));
	ix->nodes = malloc((fl->n + 1) * sizeof(*ix->nodes));
	if (!ix->rules || !ix->nodes)
		return -ENOMEM;
	for (i = 0; i < fl->n; i++) {
		const struct entry *e = &fl->v[i];

		ix->rules[i] = e->rule;
		if (i > 0 && same_value(&fl->v[i - 1], e)) {
			ix->nodes[nn - 1].n++;
			continue;
		}
		if (i == 0 || fl->v[i - 1].dim != e->dim ||
		    fl->v[i - 1].ver != e->ver) {
			ix->tree[e->dim][e->ver][0] = nn;
			top = 0;
		}
		ix->tree[e->dim][e->ver][1] = nn + 1;
		ix->nodes[nn] = (struct node){ e->hi, e->lo, (uint32_t)i, 1,
					       -1, e->len };
		while (top &&
		       !node_holds(&ix->nodes[stack[top - 1]],
				   dim_bits(e->dim, e->ver),
				   node_value(&ix->nodes[nn])))
			top--;
		if (top)
			ix->nodes[nn].up = (int32_t)stack[top - 1];
		stack[top++] = nn++;
	}
	return 0;
}

static int make_jumps(struct rule_index *ix)
{
	for (int d = 0; d < D_N; d++)
		for (int ver = 0; ver < 2; ver++) {
			size_t from = ix->tree[d][ver][0],
			       to = ix->tree[d][ver][1];
			unsigned int bits = dim_bits(d, ver);
			uint32_t *j;

			if (to - from < JUMP_MIN_NODES)
				continue;
			j = ix->jump[d][ver] =
				malloc((jump_size(bits) + 1) * sizeof(*j));
			if (!j)
				return -ENOMEM;
			fill_jump(j, bits, from, to, node_at, ix->nodes);
		}
	return 0;
}

static int index_build(struct rule_index *ix, const struct match_space *sp,
		       size_t n)
{
	struct filing fl = { 0 };
	struct witnesses w;
	int ret;

	ix->homeless = malloc((n + 1) * sizeof(*ix->homeless));
	ix->sk = malloc((n + 1) * sizeof(*ix->sk));
	if (!ix->homeless || !ix->sk)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sketch_init(&ix->sk[i], &sp[i], -1);
	ret = witnesses_init(&w, sp, n);
	for (size_t i = 0; i < n && !ret; i++)
		ret = file_home(ix, &fl, &w, &sp[i], i);
	witnesses_free(&w);
	/* no rule has a home: v is NULL, which qsort may not be given */
	if (!ret && fl.n)
		qsort(fl.v, fl.n, sizeof(*fl.v), entry_cmp);
	if (!ret)
		ret = make_trees(ix, &fl);
	if (!ret)
		ret = make_jumps(ix);
	free(fl.v);
	return ret;
}

static void index_free(struct rule_index *ix)
{
	for (int d = 0; d < D_N; d++)
		for (int ver = 0; ver < 2; ver++)
			free(ix->jump[d][ver]);
	free(ix->sk);
	free(ix->nodes);
	free(ix->rules);
	free(ix->homeless);
}

/* Cut @r to its rules after @b: those that may make it redundant. */
static void cut_after(struct run *r, uint32_t b)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid] <= b)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->v += lo;
	r->n -= lo;
}

static void add_run(struct pick *p, const uint32_t *v, size_t n, uint32_t b,
		    bool after)
{
	struct run r = { v, n };

	/* before @b, the walk stops at @b by itself: no need to cut */
	if (after)
		cut_after(&r, b);
	else if (r.n && r.v[0] >= b)
		r.n = 0;
	if (r.n)
		p->runs[p->nruns++] = r;
}

/*
 * The rules filed in field @d, version @ver under a value that holds @x:
 * the last node at or below @x, then up to the first that holds it, then
 * every one above (each holds it too).
 */
static void add_path(const struct rule_index *ix, int d, int ver, u128 x,
		     uint32_t b, bool after, struct pick *p)
{
	size_t from = ix->tree[d][ver][0], lo = from, hi = ix->tree[d][ver][1];
	unsigned int bits = dim_bits(d, ver);
	const uint32_t *j = ix->jump[d][ver];
	int32_t k;

	if (j) {
		/* past all before @x's top bits, short of all after them */
		lo = j[jump_of(x, bits)];
		hi = j[jump_of(x, bits) + 1];
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (node_value(&ix->nodes[mid]) <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == from)
		return;
	k = (int32_t)lo - 1;
	while (k >= 0 && !node_holds(&ix->nodes[k], bits, x))
		k = ix->nodes[k].up;
	for (; k >= 0; k = ix->nodes[k].up)
		add_run(p, ix->rules + ix->nodes[k].first, ix->nodes[k].n, b,
			after);
}

/* Every rule before or after @b that may hold @s, rule @b. */
static void candidates(const struct rule_index *ix, const struct match_space *s,
		       uint32_t b, bool after, struct pick *p)
{
	int ver = witness_ver(s);

	p->nruns = 0;
	add_run(p, ix->homeless, ix->nhomeless, b, after);
	for (int d = 0; d < D_N; d++)
		add_path(ix, d, tree_ver(d, ver), witness_of(s, d, ver), b,
			 after, p);
}

/* Keep the runs of @p a heap on their first rules, from run @i down. */
static void sift_down(struct pick *p, size_t i)
{
	struct run *h = p->runs, t;

	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < p->nruns && h[l].v[0] < h[m].v[0])
			m = l;
		if (l + 1 < p->nruns && h[l + 1].v[0] < h[m].v[0])
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/*
 * The first rule of @p before @limit that holds @s (with @same: of action
 * @act, and not in @skip), or @limit.  The runs are merged into one walk
 * in rule order, so the first holder met ends it.  Each rule looked at
 * takes one of *@left; when none is left, *@stop is set and the answer
 * is no answer.  Consumes @p.
 */
static size_t first_holder(const struct rule_index *ix,
			   const struct match_space *sp, struct pick *p,
			   const struct match_space *s, size_t limit,
			   const bool *skip, enum moat_action act, bool same,
			   size_t *left, bool *stop)
{
	uint32_t last = UINT32_MAX;
	struct sketch k;

	sketch_init(&k, s, witness_ver(s));

	for (size_t i = p->nruns / 2; i-- > 0;)
		sift_down(p, i);
	while (p->nruns) {
		struct run *r = &p->runs[0];
		uint32_t a = r->v[0];

		if (a >= limit)
			break;
		/* a rule filed under two values of one path: once is enough */
		if (a != last) {
			if (!*left) {
				*stop = true;
				break;
			}
			(*left)--;
			/*
			 * A rule of the other action that meets @s stands
			 * between it and every later holder (blocked())
			 */
			if (same && ix->sk[a].action != act) {
				if (match_space_meets(&sp[a], s))
					return limit;
			} else if (sketch_within(&k, &ix->sk[a]) &&
				   (!same || !skip[a]) &&
				   match_space_within(s, &sp[a])) {
				return a;
			}
			last = a;
		}
		r->v++;
		if (!--r->n)
			p->runs[0] = p->runs[--p->nruns];
		sift_down(p, 0);
	}
	return limit;
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
			candidates(&ix, &sp[b], (uint32_t)b, false, &p);
			f->shadowed_by[b] =
				first_holder(&ix, sp, &p, &sp[b], b, NULL, 0,
					     false, &left, &stop);
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
			candidates(&ix, &sp[b], (uint32_t)b, true, &p);
			c = first_holder(&ix, sp, &p, &sp[b], n, f->shadowed,
					 act, true, &left, &stop);
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
