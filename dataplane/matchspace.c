// SPDX-License-Identifier: GPL-2.0-only
/*
 * A rule's match space (matchspace.h).  In each IP version, it is a
 * product of one set per field: protocols, sources, destinations,
 * the transport fields, interfaces.  Each set is kept as sorted, merged
 * intervals, so that "every packet of B is one of A" is a walk over two
 * lists per field and "some packet is both" is another.  A product of
 * non-empty sets holds another exactly when each of its sets holds the
 * other's, which is what makes this exact rather than a guess.
 *
 * The transport fields are the one place where the fields are not
 * independent: a rule with ports, a type, a code or flags matches only
 * packets whose transport header was read, never a later fragment, while
 * a rule without them matches both (reference.c, has_l4).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "matchspace.h"

#define U128_MAX (~(u128)0)

static int ivl_cmp(const void *a, const void *b)
{
	const struct ms_ivl *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge @s in place: overlapping and adjacent intervals join. */
static void set_merge(struct ms_set *s)
{
	size_t i, k = 0;

	if (s->n)
		s->hull = (struct ms_ivl){ s->v[0].lo, s->v[0].hi };
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), ivl_cmp);
	for (i = 1; i < s->n; i++) {
		struct ms_ivl *last = &s->v[k];

		if (last->hi == U128_MAX || s->v[i].lo <= last->hi + 1) {
			if (s->v[i].hi > last->hi)
				last->hi = s->v[i].hi;
		} else {
			s->v[++k] = s->v[i];
		}
	}
	s->n = k + 1;
	s->hull = (struct ms_ivl){ s->v[0].lo, s->v[k].hi };
}

/* Is every value of @b also in @a? */
static bool set_within(const struct ms_set *b, const struct ms_set *a)
{
	size_t i, j = 0;

	if (!b->n)
		return true;
	if (!a->n || b->hull.lo < a->hull.lo || b->hull.hi > a->hull.hi)
		return false;
	if (a->n == 1)
		return true;
	for (i = 0; i < b->n; i++) {
		while (j < a->n && a->v[j].hi < b->v[i].lo)
			j++;
		/* @a is merged: one interval of it must hold all of b's */
		if (j == a->n || a->v[j].lo > b->v[i].lo ||
		    a->v[j].hi < b->v[i].hi)
			return false;
	}
	return true;
}

static bool set_meets(const struct ms_set *a, const struct ms_set *b)
{
	size_t i = 0, j = 0;

	if (!a->n || !b->n || a->hull.hi < b->hull.lo ||
	    b->hull.hi < a->hull.lo)
		return false;
	while (i < a->n && j < b->n) {
		if (a->v[i].hi < b->v[j].lo)
			i++;
		else if (b->v[j].hi < a->v[i].lo)
			j++;
		else
			return true;
	}
	return false;
}

/* Take the next free interval of the pool for @s (carved in order). */
static void set_add(struct ms_set *s, struct ms_ivl **next, u128 lo, u128 hi)
{
	if (!s->n)
		s->v = *next;
	(*next)++;
	s->v[s->n++] = (struct ms_ivl){ lo, hi };
}

static void prefixes_to_set(struct ms_set *s, struct ms_ivl **next,
			    const struct moat_prefix *v, size_t n, int ver)
{
	unsigned int bits = ver == MS_V4 ? 32 : 128;
	int family = ver == MS_V4 ? AF_INET : AF_INET6;
	u128 all = ver == MS_V4 ? 0xffffffffu : U128_MAX, a, host;

	if (!n)
		set_add(s, next, 0, all);
	for (size_t i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		a = 0;
		for (unsigned int b = 0; b < bits / 8; b++)
			a = a << 8 | v[i].addr[b];
		host = v[i].len == 0 ? all : ((u128)1 << (bits - v[i].len)) - 1;
		set_add(s, next, a, a | host);
	}
	set_merge(s);
}

static void ranges_to_set(struct ms_set *s, struct ms_ivl **next,
			  const struct moat_range *v, size_t n, uint16_t max)
{
	if (!n)
		set_add(s, next, 0, max);
	for (size_t i = 0; i < n; i++)
		set_add(s, next, v[i].lo, v[i].hi);
	set_merge(s);
}

/* A protocol item names an IP version too: icmp IPv4's, icmpv6 IPv6's. */
static void protos_init(struct match_space *s, const struct moat_rule *r)
{
	size_t i;

	if (!r->protos.n) {
		memset(s->protos, 0xff, sizeof(s->protos));
		return;
	}
	for (i = 0; i < r->protos.n; i++) {
		uint8_t p = r->protos.v[i];

		if (p != MOAT_PROTO_ICMPV6)
			s->protos[MS_V4][p / 64] |= 1ull << (p % 64);
		if (p != MOAT_PROTO_ICMP)
			s->protos[MS_V6][p / 64] |= 1ull << (p % 64);
	}
}

static bool protos_empty(const uint64_t *p)
{
	return !(p[0] | p[1] | p[2] | p[3]);
}

int match_space_init(struct match_space *s, const struct moat_rule *r)
{
	/*
	 * Each item once (an address in its version), and a field not given
	 * as one whole range (addresses: one per version).  Exact, because
	 * a large ruleset keeps every rule's space at once.
	 */
	size_t n = (r->src.n ? r->src.n : 2) + (r->dst.n ? r->dst.n : 2) +
		   (r->sport.n ? r->sport.n : 1) +
		   (r->dport.n ? r->dport.n : 1) +
		   (r->icmp_type.n ? r->icmp_type.n : 1) +
		   (r->icmp_code.n ? r->icmp_code.n : 1);
	struct ms_ivl *next;
	int ver;

	memset(s, 0, sizeof(*s));
	s->r = r;
	s->pool = malloc(n * sizeof(*s->pool));
	if (!s->pool)
		return -ENOMEM;
	next = s->pool;
	protos_init(s, r);
	for (ver = MS_V4; ver <= MS_V6; ver++) {
		prefixes_to_set(&s->src[ver], &next, r->src.v, r->src.n, ver);
		prefixes_to_set(&s->dst[ver], &next, r->dst.v, r->dst.n, ver);
		if (!protos_empty(s->protos[ver]) && s->src[ver].n &&
		    s->dst[ver].n)
			s->versions |= 1u << ver;
	}
	ranges_to_set(&s->sport, &next, r->sport.v, r->sport.n, 65535);
	ranges_to_set(&s->dport, &next, r->dport.v, r->dport.n, 65535);
	ranges_to_set(&s->type, &next, r->icmp_type.v, r->icmp_type.n, 255);
	ranges_to_set(&s->code, &next, r->icmp_code.v, r->icmp_code.n, 255);
	s->flags_mask = r->tcp_flags_mask;
	s->flags_value = r->tcp_flags_value;
	s->l4 = r->sport.n || r->dport.n || r->icmp_type.n || r->icmp_code.n ||
		r->tcp_flags_mask;
	return 0;
}

static bool iface_listed(const struct moat_rule *r, const char *name)
{
	for (size_t i = 0; i < r->ifaces.n; i++)
		if (!strncmp(r->ifaces.v[i].name, name, sizeof(r->ifaces.v[i])))
			return true;
	return false;
}

/*
 * A rule without `in` also matches a packet of no known interface, which
 * no rule with `in` does (reference.c): so `in` everything is not "any".
 */
static bool ifaces_within(const struct moat_rule *b, const struct moat_rule *a)
{
	if (!a->ifaces.n)
		return true;
	if (!b->ifaces.n)
		return false;
	for (size_t i = 0; i < b->ifaces.n; i++)
		if (!iface_listed(a, b->ifaces.v[i].name))
			return false;
	return true;
}

static bool ifaces_meet(const struct moat_rule *a, const struct moat_rule *b)
{
	if (!a->ifaces.n || !b->ifaces.n)
		return true;
	for (size_t i = 0; i < b->ifaces.n; i++)
		if (iface_listed(a, b->ifaces.v[i].name))
			return true;
	return false;
}

/*
 * The transport fields of @b within @a's.  A rule that needs a transport
 * header is never a superset of one that does not: the latter matches
 * later fragments.  Flags: @a examines fewer bits, and @b asks the same
 * of them.
 */
static bool l4_within(const struct match_space *b, const struct match_space *a)
{
	if (!a->l4)
		return true;
	if (!b->l4)
		return false;
	if ((a->flags_mask & b->flags_mask) != a->flags_mask ||
	    (b->flags_value & a->flags_mask) != a->flags_value)
		return false;
	return set_within(&b->sport, &a->sport) &&
	       set_within(&b->dport, &a->dport) &&
	       set_within(&b->type, &a->type) && set_within(&b->code, &a->code);
}

static bool l4_meet(const struct match_space *a, const struct match_space *b)
{
	uint8_t both = a->flags_mask & b->flags_mask;

	/* a later fragment, or any header, meets a rule without the fields */
	if (!a->l4 || !b->l4)
		return true;
	if ((a->flags_value ^ b->flags_value) & both)
		return false;
	return set_meets(&a->sport, &b->sport) &&
	       set_meets(&a->dport, &b->dport) &&
	       set_meets(&a->type, &b->type) && set_meets(&a->code, &b->code);
}

/* conntrack states: 0 is all of them */
static uint8_t ct_states(const struct moat_rule *r)
{
	return r->ct ? r->ct : 0x0f;
}

static bool ct_within(const struct moat_rule *b, const struct moat_rule *a)
{
	return !(ct_states(b) & ~ct_states(a));
}

static bool ct_meet(const struct moat_rule *a, const struct moat_rule *b)
{
	return ct_states(a) & ct_states(b);
}

bool match_space_within(const struct match_space *b,
			const struct match_space *a)
{
	int ver, w;

	if ((b->versions & a->versions) != b->versions)
		return false;
	for (ver = MS_V4; ver <= MS_V6; ver++) {
		if (!(b->versions & 1u << ver))
			continue;
		for (w = 0; w < 4; w++)
			if (b->protos[ver][w] & ~a->protos[ver][w])
				return false;
		if (!set_within(&b->src[ver], &a->src[ver]) ||
		    !set_within(&b->dst[ver], &a->dst[ver]))
			return false;
	}
	return l4_within(b, a) && ifaces_within(b->r, a->r) &&
	       ct_within(b->r, a->r);
}

bool match_space_meets(const struct match_space *a, const struct match_space *b)
{
	unsigned int both = a->versions & b->versions;
	int ver, w;

	if (!both || !l4_meet(a, b) || !ifaces_meet(a->r, b->r) ||
	    !ct_meet(a->r, b->r))
		return false;
	for (ver = MS_V4; ver <= MS_V6; ver++) {
		if (!(both & 1u << ver))
			continue;
		for (w = 0; w < 4; w++)
			if (a->protos[ver][w] & b->protos[ver][w])
				break;
		if (w < 4 && set_meets(&a->src[ver], &b->src[ver]) &&
		    set_meets(&a->dst[ver], &b->dst[ver]))
			return true;
	}
	return false;
}

void match_space_free(struct match_space *s)
{
	free(s->pool);
	s->pool = NULL;
}
