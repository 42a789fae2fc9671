/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Random rulesets and frames.  The rulesets are valid per
 * docs/ruleset.md and crowded on purpose: addresses and ports come mostly
 * from small shared pools, so that rules nest, overlap and shadow each
 * other, which is where a compiler goes wrong.  The frames are mostly
 * built to hit one rule, with values at the edges of its ranges and
 * prefixes, because that is where an index goes wrong.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile.h"
#include "frame.h"
#include "moat_parse.h"
#include "randgen.h"
#include "reference.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rg_u64(struct rg *g)
{
	uint64_t x = g->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g->state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint32_t rg_below(struct rg *g, uint32_t n)
{
	return (uint32_t)(((rg_u64(g) >> 32) * n) >> 32);
}

static bool chance(struct rg *g, unsigned int pct)
{
	return rg_below(g, 100) < pct;
}

static void rand_bytes(struct rg *g, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rg_u64(g);
}

/* Copy the first @bits bits of @src over @dst. */
static void copy_bits(uint8_t *dst, const uint8_t *src, unsigned int bits)
{
	unsigned int i;

	for (i = 0; bits >= 8; i++, bits -= 8)
		dst[i] = src[i];
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		dst[i] = (uint8_t)((src[i] & mask) | (dst[i] & ~mask));
	}
}

/* Clear the bits of @a past @len (of @bytes bytes), or set them. */
static void fill_host(uint8_t *a, unsigned int len, size_t bytes, bool ones)
{
	for (unsigned int b = len; b < bytes * 8; b++) {
		uint8_t bit = (uint8_t)(0x80 >> (b % 8));

		if (ones)
			a[b / 8] |= bit;
		else
			a[b / 8] &= (uint8_t)~bit;
	}
}

static const uint16_t well_known_ports[] = { 0,	  22,	53,   80,   123,
					     443, 1023, 1024, 8080, 65535 };

void rg_init(struct rg *g, uint64_t seed)
{
	uint64_t x = seed;

	memset(g, 0, sizeof(*g));
	g->state = splitmix64(&x);
	if (!g->state) /* xorshift's one fixed point */
		g->state = 1;
	g->aimed = -1;

	/*
	 * Most anchors copy the leading bits of an earlier one: clusters of
	 * addresses, so that /8s hold /16s that hold /24s of other rules.
	 */
	for (int i = 0; i < RG_ANCHORS; i++) {
		rand_bytes(g, g->anchor4[i], 4);
		rand_bytes(g, g->anchor6[i], 16);
		if (i && chance(g, 75)) {
			unsigned int p = rg_below(g, (uint32_t)i);

			copy_bits(g->anchor4[i], g->anchor4[p],
				  8 + rg_below(g, 24));
			copy_bits(g->anchor6[i], g->anchor6[p],
				  16 + rg_below(g, 112));
		}
	}
	for (unsigned int i = 0; i < RG_PORTS; i++)
		g->ports[i] = i < ARRAY_SIZE(well_known_ports) ?
				      well_known_ports[i] :
				      (uint16_t)rg_below(g, 65536);
	g->nanchors = 16;
	g->nports = 16;
}

static uint16_t pool_port(struct rg *g)
{
	return g->ports[rg_below(g, g->nports)];
}

/* Rulesets */

static const struct moat_range port_range_pool[] = {
	{ 8000, 8999 },
	{ 80, 443 },
	{ 53, 53 },
	{ 1000, 1099 },
};
/* ranges that take most of the port space: late rules only, mostly */
static const struct moat_range wide_range_pool[] = {
	{ 0, 1023 },
	{ 1024, 65535 },
	{ 0, 65535 },
};
static const uint8_t icmp4_types[] = { 0, 3, 4, 5, 8, 11, 12, 13, 14 };
static const uint8_t icmp6_types[] = { 1, 2, 3, 4, 128, 129, 130, 143 };
static const uint8_t tcp_masks[] = {
	MOAT_TCP_SYN,
	MOAT_TCP_SYN | MOAT_TCP_ACK,
	MOAT_TCP_RST,
	MOAT_TCP_ACK,
	MOAT_TCP_FIN | MOAT_TCP_SYN | MOAT_TCP_RST | MOAT_TCP_ACK,
};
/* protocols without ports, for protocol-only rules */
static const uint8_t other_protos[] = { 47, 50, 51, 0, 255, 103, 4, 41 };

struct gen {
	struct rg *g;
	const struct rg_ruleset_opts *o;
	unsigned int breadth; /* 0..99: how far into the ruleset the rule is */
	bool nomem;
};

/* 0 in the first half of the ruleset, then rising to @max at its end */
static unsigned int late_pct(const struct gen *x, unsigned int max)
{
	return x->breadth < 50 ? 0 : (x->breadth - 50) * max / 50;
}

static void *alloc_list(struct gen *x, size_t n, size_t size)
{
	void *v = calloc(n, size);

	if (!v)
		x->nomem = true;
	return v;
}

/* 1 to 4 items, mostly 1: real rules have short lists */
static size_t list_len(struct rg *g)
{
	uint32_t r = rg_below(g, 100);

	return r < 60 ? 1 : r < 80 ? 2 : r < 92 ? 3 : 4;
}

/*
 * Short prefixes grow likelier towards the end of the ruleset, where
 * broad rules belong: early ones would shadow all that follows and leave
 * the rules behind them untested.  Below /8 only in the second half, /0
 * in the last tenth.
 */
static unsigned int prefix_len(struct gen *x, int family)
{
	struct rg *g = x->g;
	bool v4 = family == AF_INET;

	if (chance(g, late_pct(x, 10))) {
		if (x->breadth >= 90 && chance(g, 20))
			return 0;
		return 1 + rg_below(g, v4 ? 7 : 15);
	}
	if (chance(g, x->breadth / 2))
		return v4 ? (chance(g, 40) ? 8 : 16) + rg_below(g, 8) :
			    16 + rg_below(g, 32);
	if (v4)
		return chance(g, 40) ? 32 : 24 + rg_below(g, 8);
	switch (rg_below(g, 6)) {
	case 0:
		return 48;
	case 1:
		return 56;
	case 2:
		return 64;
	case 3:
		return 65 + rg_below(g, 63);
	default:
		return 128;
	}
}

static void gen_prefix(struct gen *x, int family, struct moat_prefix *p)
{
	size_t bytes = family == AF_INET ? 4 : 16;
	uint32_t a = rg_below(x->g, x->g->nanchors);

	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	p->len = (uint8_t)prefix_len(x, family);
	rand_bytes(x->g, p->addr, bytes);
	/*
	 * From the pool: the anchor's own prefix half the time (prefixes of
	 * different lengths then nest exactly), otherwise a sibling that
	 * shares only its leading bits.
	 */
	if (chance(x->g, x->o->overlap_pct)) {
		unsigned int keep = p->len;

		if (chance(x->g, 50) && keep > 8)
			keep = 8 + rg_below(x->g, keep - 8);
		copy_bits(p->addr,
			  family == AF_INET ? x->g->anchor4[a] :
					      x->g->anchor6[a],
			  keep);
	}
	fill_host(p->addr, p->len, bytes, false);
}

/* @fams: 1 IPv4, 2 IPv6, 3 both (at least one of each, when n > 1) */
static void gen_prefixes(struct gen *x, int fams, struct moat_prefix **v,
			 size_t *n)
{
	*n = list_len(x->g);
	if (fams == 3 && *n < 2)
		*n = 2;
	*v = alloc_list(x, *n, sizeof(**v));
	if (!*v) {
		*n = 0;
		return;
	}
	for (size_t i = 0; i < *n; i++) {
		int f = fams == 1 ? AF_INET : fams == 2 ? AF_INET6 : 0;

		if (!f)
			f = i == 0	     ? AF_INET :
			    i == 1	     ? AF_INET6 :
			    chance(x->g, 50) ? AF_INET :
					       AF_INET6;
		gen_prefix(x, f, &(*v)[i]);
	}
}

static struct moat_range gen_port(struct gen *x)
{
	struct rg *g = x->g;
	struct moat_range r;

	if (chance(g, x->o->overlap_pct)) {
		if (chance(g, 60)) {
			r.lo = pool_port(g);
			r.hi = r.lo;
			return r;
		}
		if (chance(g, late_pct(x, 30)))
			return wide_range_pool[rg_below(
				g, ARRAY_SIZE(wide_range_pool))];
		return port_range_pool[rg_below(g,
						ARRAY_SIZE(port_range_pool))];
	}
	r.lo = (uint16_t)rg_below(g, 65536);
	r.hi = r.lo;
	if (chance(g, 50))
		r.hi = (uint16_t)(r.lo + rg_below(g, r.lo > 63535 ?
							     65536u - r.lo :
							     2000));
	return r;
}

static struct moat_range gen_icmp_type(struct gen *x, int family)
{
	struct rg *g = x->g;
	struct moat_range r;

	if (chance(g, 70)) {
		r.lo = family == AF_INET ?
			       icmp4_types[rg_below(g,
						    ARRAY_SIZE(icmp4_types))] :
			       icmp6_types[rg_below(g,
						    ARRAY_SIZE(icmp6_types))];
	} else {
		r.lo = (uint16_t)rg_below(g, 256);
	}
	r.hi = r.lo;
	if (chance(g, 20))
		r.hi = (uint16_t)(r.lo + rg_below(g, 256u - r.lo < 16 ?
							     256u - r.lo :
							     16));
	return r;
}

static struct moat_range gen_icmp_code(struct gen *x)
{
	struct moat_range r;

	r.lo = (uint16_t)rg_below(x->g, chance(x->g, 90) ? 16 : 256);
	r.hi = r.lo;
	if (chance(x->g, 30))
		r.hi = (uint16_t)(r.lo + rg_below(x->g, 256u - r.lo < 8 ?
								256u - r.lo :
								8));
	return r;
}

#define GEN_RANGES(x, list, gen_item)                                    \
	do {                                                             \
		(list).n = list_len((x)->g);                             \
		(list).v = alloc_list((x), (list).n, sizeof(*(list).v)); \
		if (!(list).v)                                           \
			(list).n = 0;                                    \
		for (size_t i_ = 0; i_ < (list).n; i_++)                 \
			(list).v[i_] = gen_item;                         \
	} while (0)

/* @pool holds distinct protocols; take 1 to @max of them, distinct. */
static void gen_protos(struct gen *x, struct moat_rule *r, const uint8_t *pool,
		       size_t npool, size_t max)
{
	uint8_t tmp[16];
	size_t n = 1 + rg_below(x->g, (uint32_t)(max < npool ? max : npool));

	memcpy(tmp, pool, npool);
	for (size_t i = 0; i < n; i++) {
		size_t j = i + rg_below(x->g, (uint32_t)(npool - i));
		uint8_t t = tmp[i];

		tmp[i] = tmp[j];
		tmp[j] = t;
	}
	r->protos.v = alloc_list(x, n, 1);
	if (!r->protos.v)
		return;
	memcpy(r->protos.v, tmp, n);
	r->protos.n = n;
}

static void gen_proto_list(struct gen *x, struct moat_rule *r, int fams)
{
	uint8_t pool[16];
	size_t n = 0;

	pool[n++] = MOAT_PROTO_TCP;
	pool[n++] = MOAT_PROTO_UDP;
	pool[n++] = MOAT_PROTO_SCTP;
	/* an icmp item in an IPv6-only rule would leave it no version */
	if (fams & 1)
		pool[n++] = MOAT_PROTO_ICMP;
	if (fams & 2)
		pool[n++] = MOAT_PROTO_ICMPV6;
	pool[n++] = other_protos[rg_below(x->g, ARRAY_SIZE(other_protos))];
	if (chance(x->g, 20)) {
		uint8_t p = (uint8_t)rg_below(x->g, 256);

		if (!memchr(pool, p, n) && p != MOAT_PROTO_ICMP &&
		    p != MOAT_PROTO_ICMPV6)
			pool[n++] = p;
	}
	gen_protos(x, r, pool, n, 4);
}

static void gen_ifaces(struct gen *x, struct moat_rule *r)
{
	size_t n = x->o->nifaces > 1 && chance(x->g, 30) ? 2 : 1;
	uint32_t first = rg_below(x->g, (uint32_t)x->o->nifaces);

	r->ifaces.v = alloc_list(x, n, sizeof(*r->ifaces.v));
	if (!r->ifaces.v)
		return;
	r->ifaces.n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(r->ifaces.v[i].name, sizeof(r->ifaces.v[i].name), "%s",
			 x->o->ifaces[(first + i) % x->o->nifaces]);
}

enum shape {
	SHAPE_PORTS, /* tcp/udp/sctp with sport/dport */
	SHAPE_FLAGS, /* tcp with flags, maybe dport */
	SHAPE_ICMP, /* icmp or icmpv6, maybe type and code */
	SHAPE_PROTOS, /* a protocol list and nothing of layer 4 */
	SHAPE_NONE, /* no protocol */
};

static void gen_rule(struct gen *x, struct moat_rule *r, size_t idx)
{
	static const uint8_t port_protos[] = { MOAT_PROTO_TCP, MOAT_PROTO_UDP,
					       MOAT_PROTO_SCTP };
	struct rg *g = x->g;
	bool late = idx >= x->o->nrules - x->o->nrules / 10;
	int fams, addr_fams = 0;
	enum shape shape;
	uint32_t c;

	snprintf(r->name, sizeof(r->name), "r%zu", idx);
	r->action = chance(g, 60) ? MOAT_ALLOW : MOAT_DROP;
	r->line = (uint32_t)idx + 2; /* as if the policy came first */
	r->col = 1;

	c = rg_below(g, 100);
	shape = c < 35 ? SHAPE_PORTS :
		c < 45 ? SHAPE_FLAGS :
		c < 60 ? SHAPE_ICMP :
		c < 85 ? SHAPE_PROTOS :
			 SHAPE_NONE;

	/*
	 * Which IP versions the addresses leave: none given, both in one
	 * list (src only, so nothing contradicts), or one.
	 */
	x->breadth = (unsigned int)(idx * 100 / x->o->nrules);
	c = rg_below(g, 100);
	if (c < 3 + x->breadth / 5) {
		fams = 3;
	} else if (c < 8 + x->breadth / 5) {
		fams = 3;
		addr_fams = 3;
	} else {
		fams = chance(g, x->o->v6_pct) ? 2 : 1;
		addr_fams = fams;
	}
	/*
	 * A rule that takes all of a protocol shadows every rule after it:
	 * only in the last tenth.  One that takes everything would leave the
	 * policy nothing: never.
	 */
	if (!addr_fams &&
	    (shape == SHAPE_NONE || (shape == SHAPE_PROTOS && !late)))
		addr_fams = fams = chance(g, x->o->v6_pct) ? 2 : 1;

	if (addr_fams == 3) {
		gen_prefixes(x, 3, &r->src.v, &r->src.n);
	} else if (addr_fams) {
		bool src = chance(g, 70), dst = chance(g, 60);

		if (src || !dst)
			gen_prefixes(x, addr_fams, &r->src.v, &r->src.n);
		if (dst)
			gen_prefixes(x, addr_fams, &r->dst.v, &r->dst.n);
	}

	switch (shape) {
	case SHAPE_PORTS:
		gen_protos(x, r, port_protos, 3, 3);
		if (chance(g, 35))
			GEN_RANGES(x, r->sport, gen_port(x));
		if (!r->sport.n || chance(g, 70))
			GEN_RANGES(x, r->dport, gen_port(x));
		break;
	case SHAPE_FLAGS:
		gen_protos(x, r, port_protos, 1, 1);
		r->tcp_flags_mask =
			chance(g, 50) ?
				tcp_masks[rg_below(g, ARRAY_SIZE(tcp_masks))] :
				(uint8_t)(1 + rg_below(g, 255));
		r->tcp_flags_value = (uint8_t)(rg_u64(g) & r->tcp_flags_mask);
		/* flags alone take a share of all TCP: broad */
		if (chance(g, 40) || (!addr_fams && !late))
			GEN_RANGES(x, r->dport, gen_port(x));
		break;
	case SHAPE_ICMP: {
		/* mixed addresses keep one version: the other is a warning */
		int family = fams == 1	   ? AF_INET :
			     fams == 2	   ? AF_INET6 :
			     chance(g, 50) ? AF_INET :
					     AF_INET6;
		uint8_t p =
			family == AF_INET ? MOAT_PROTO_ICMP : MOAT_PROTO_ICMPV6;

		gen_protos(x, r, &p, 1, 1);
		if (chance(g, 80) || (!addr_fams && !late))
			GEN_RANGES(x, r->icmp_type, gen_icmp_type(x, family));
		if (chance(g, 40))
			GEN_RANGES(x, r->icmp_code, gen_icmp_code(x));
		break;
	}
	case SHAPE_PROTOS:
		gen_proto_list(x, r, fams);
		break;
	case SHAPE_NONE:
		break;
	}

	if (x->o->nifaces && chance(g, 10))
		gen_ifaces(x, r);
}

int rg_ruleset(struct rg *g, const struct rg_ruleset_opts *o,
	       struct moat_ruleset *out)
{
	struct gen x = { .g = g, .o = o };

	memset(out, 0, sizeof(*out));
	if (o->nrules > MOAT_RULES_MAX || o->nifaces > MOAT_IFACES_MAX ||
	    o->v6_pct > 100 || o->overlap_pct > 100)
		return -EINVAL;
	for (size_t i = 0; i < o->nifaces; i++)
		if (!o->ifaces[i][0] || strlen(o->ifaces[i]) > MOAT_IFNAME_MAX)
			return -EINVAL;

	/* one anchor per 32 rules, one pooled port per 64: a steady crowd */
	g->nanchors = (unsigned int)(o->nrules / 32);
	g->nanchors = g->nanchors < 16	       ? 16 :
		      g->nanchors > RG_ANCHORS ? RG_ANCHORS :
						 g->nanchors;
	g->nports = (unsigned int)(o->nrules / 64);
	g->nports = g->nports < 16	 ? 16 :
		    g->nports > RG_PORTS ? RG_PORTS :
					   g->nports;
	g->nifaces = o->nifaces;
	for (size_t i = 0; i < o->nifaces; i++)
		snprintf(g->ifaces[i], sizeof(g->ifaces[i]), "%s",
			 o->ifaces[i]);

	out->policy = chance(g, 50) ? MOAT_ALLOW : MOAT_DROP;
	out->policy_given = true;
	if (!o->nrules)
		return 0;
	out->rules = calloc(o->nrules, sizeof(*out->rules));
	if (!out->rules)
		return -ENOMEM;
	for (size_t i = 0; i < o->nrules && !x.nomem; i++)
		gen_rule(&x, &out->rules[i], i);
	out->nrules = o->nrules;
	if (x.nomem) {
		moat_ruleset_free(out);
		return -ENOMEM;
	}
	return 0;
}

/* Frames */

static const uint16_t other_ethertypes[] = {
	0x88cc, /* LLDP */
	0x888e, /* 802.1X */
	0x8809, /* LACP */
	0x9100, /* old QinQ: not a tag moat skips */
	0x88e5, /* MACsec */
	0x0050, /* an 802.3 length */
};

static bool ipv6_walked(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 ||
	       nh == 135;
}

static const uint8_t walked_exts[] = { 0, 43, 44, 51, 60, 135 };

static size_t addr_bytes(int family)
{
	return family == AF_INET ? 4 : 16;
}

/*
 * An address near an anchor (often inside somebody's prefix) @near_pct
 * of the time, or anywhere.
 */
static void rand_addr(struct rg *g, int family, uint8_t *a,
		      unsigned int near_pct)
{
	size_t bytes = addr_bytes(family);
	uint32_t i = rg_below(g, g->nanchors);

	rand_bytes(g, a, bytes);
	if (chance(g, near_pct))
		copy_bits(a, family == AF_INET ? g->anchor4[i] : g->anchor6[i],
			  rg_below(g, (uint32_t)bytes * 8 + 1));
}

/* An address inside @p: its first, its last, or any. */
static void addr_in(struct rg *g, const struct moat_prefix *p, uint8_t *a)
{
	size_t bytes = addr_bytes(p->family);
	uint32_t r = rg_below(g, 10);

	rand_bytes(g, a, bytes);
	if (r < 2)
		fill_host(a, 0, bytes, false);
	else if (r < 4)
		fill_host(a, 0, bytes, true);
	copy_bits(a, p->addr, p->len);
}

static uint16_t in_range(struct rg *g, const struct moat_range *r)
{
	uint32_t k = rg_below(g, 4);

	if (k == 0)
		return r->lo;
	if (k == 1)
		return r->hi;
	return (uint16_t)(r->lo + rg_below(g, (uint32_t)(r->hi - r->lo) + 1));
}

static uint16_t rand_port(struct rg *g, unsigned int pool_pct)
{
	if (chance(g, pool_pct))
		return pool_port(g);
	return (uint16_t)rg_below(g, 65536);
}

static uint8_t rand_icmp_type(struct rg *g, int family)
{
	if (chance(g, 10))
		return (uint8_t)rg_below(g, 256);
	if (family == AF_INET)
		return icmp4_types[rg_below(g, ARRAY_SIZE(icmp4_types))];
	return icmp6_types[rg_below(g, ARRAY_SIZE(icmp6_types))];
}

static const char *rand_iface(struct rg *g)
{
	if (!g->nifaces || chance(g, 20))
		return NULL;
	return g->ifaces[rg_below(g, (uint32_t)g->nifaces)];
}

/*
 * Layer 4 values for whatever protocol @s carries, from the pools
 * @pool_pct of the time.
 */
static void rand_l4(struct rg *g, struct moat_frame_spec *s,
		    unsigned int pool_pct)
{
	if (s->proto == MOAT_PROTO_ICMP || s->proto == MOAT_PROTO_ICMPV6) {
		s->sport = rand_icmp_type(g, s->family);
		s->dport = (uint16_t)rg_below(g, chance(g, 90) ? 16 : 256);
	} else {
		s->sport = rand_port(g, pool_pct);
		s->dport = rand_port(g, pool_pct);
	}
	s->tcp_flags = chance(g, 50) ?
			       tcp_masks[rg_below(g, ARRAY_SIZE(tcp_masks))] :
			       (uint8_t)rg_u64(g);
}

/* A packet aimed at nothing in particular. */
static void rand_ip(struct rg *g, struct moat_frame_spec *s, int family)
{
	static const uint8_t protos[] = { MOAT_PROTO_TCP,
					  MOAT_PROTO_UDP,
					  MOAT_PROTO_SCTP,
					  0 /* icmp(v6) */,
					  47,
					  50 };
	uint8_t p = protos[rg_below(g, ARRAY_SIZE(protos))];

	s->kind = MOAT_FRAME_IP;
	s->family = family;
	rand_addr(g, family, s->src, 70);
	rand_addr(g, family, s->dst, 70);
	if (!p)
		p = family == AF_INET ? MOAT_PROTO_ICMP : MOAT_PROTO_ICMPV6;
	if (chance(g, 5))
		p = (uint8_t)rg_below(g, 256);
	if (family == AF_INET6 && ipv6_walked(p))
		p = 59; /* such a protocol would be walked as a header */
	s->proto = p;
	rand_l4(g, s, 50);
}

static bool has_family(const struct moat_prefix *v, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family)
			return true;
	return false;
}

/* Can a packet of @family with protocol @p match @r, as far as @p goes? */
static bool proto_fits(const struct moat_rule *r, uint8_t p, int family)
{
	bool ports = p == MOAT_PROTO_TCP || p == MOAT_PROTO_UDP ||
		     p == MOAT_PROTO_SCTP;
	bool icmp = (family == AF_INET && p == MOAT_PROTO_ICMP) ||
		    (family == AF_INET6 && p == MOAT_PROTO_ICMPV6);

	if (family == AF_INET ? p == MOAT_PROTO_ICMPV6 :
				p == MOAT_PROTO_ICMP || ipv6_walked(p))
		return false;
	if ((r->sport.n || r->dport.n) && !ports)
		return false;
	if ((r->icmp_type.n || r->icmp_code.n) && !icmp)
		return false;
	if (r->tcp_flags_mask && p != MOAT_PROTO_TCP)
		return false;
	return true;
}

/* A protocol for a packet of @family to match @r; false if there is none. */
static bool pick_proto(struct rg *g, const struct moat_rule *r, int family,
		       uint8_t *out)
{
	uint8_t cand[256];
	size_t n = 0;

	if (r->protos.n) {
		for (size_t i = 0; i < r->protos.n; i++)
			if (proto_fits(r, r->protos.v[i], family))
				cand[n++] = r->protos.v[i];
	} else {
		static const uint8_t any[] = { MOAT_PROTO_TCP,
					       MOAT_PROTO_UDP,
					       MOAT_PROTO_SCTP,
					       MOAT_PROTO_ICMP,
					       MOAT_PROTO_ICMPV6,
					       47,
					       50 };

		for (size_t i = 0; i < ARRAY_SIZE(any); i++)
			if (proto_fits(r, any[i], family))
				cand[n++] = any[i];
	}
	if (!n)
		return false;
	*out = cand[rg_below(g, (uint32_t)n)];
	return true;
}

static bool family_fits(struct rg *g, const struct moat_rule *r, int family)
{
	uint8_t p;

	if (r->src.n && !has_family(r->src.v, r->src.n, family))
		return false;
	if (r->dst.n && !has_family(r->dst.v, r->dst.n, family))
		return false;
	return pick_proto(g, r, family, &p);
}

/* An address inside one of the items of @family in @v, or any. */
static void addr_for(struct rg *g, const struct moat_prefix *v, size_t n,
		     int family, uint8_t *a)
{
	size_t nfit = 0, k;

	for (size_t i = 0; i < n; i++)
		nfit += v[i].family == family;
	if (!nfit) {
		rand_addr(g, family, a, 10);
		return;
	}
	k = rg_below(g, (uint32_t)nfit);
	for (size_t i = 0; i < n; i++) {
		if (v[i].family == family && !k--) {
			addr_in(g, &v[i], a);
			return;
		}
	}
}

/* A packet that rule @idx matches; false when no packet can. */
static bool aim(struct rg *g, const struct moat_ruleset *rs, size_t idx,
		struct moat_frame_spec *s, const char **iface)
{
	const struct moat_rule *r = &rs->rules[idx];
	bool v4 = family_fits(g, r, AF_INET), v6 = family_fits(g, r, AF_INET6);
	bool l4 = r->sport.n || r->dport.n || r->icmp_type.n ||
		  r->icmp_code.n || r->tcp_flags_mask;
	int family;

	if (!v4 && !v6)
		return false;
	family = v4 && v6 ? (chance(g, 50) ? AF_INET : AF_INET6) :
		 v4	  ? AF_INET :
			    AF_INET6;
	s->kind = MOAT_FRAME_IP;
	s->family = family;
	addr_for(g, r->src.v, r->src.n, family, s->src);
	addr_for(g, r->dst.v, r->dst.n, family, s->dst);
	pick_proto(g, r, family, &s->proto);
	/*
	 * What the rule leaves open is mostly drawn at random: from the
	 * pools, it would often hit an earlier rule instead.
	 */
	rand_l4(g, s, 10);
	if (r->sport.n)
		s->sport = in_range(
			g, &r->sport.v[rg_below(g, (uint32_t)r->sport.n)]);
	if (r->dport.n)
		s->dport = in_range(
			g, &r->dport.v[rg_below(g, (uint32_t)r->dport.n)]);
	if (r->icmp_type.n)
		s->sport = in_range(
			g,
			&r->icmp_type.v[rg_below(g, (uint32_t)r->icmp_type.n)]);
	if (r->icmp_code.n)
		s->dport = in_range(
			g,
			&r->icmp_code.v[rg_below(g, (uint32_t)r->icmp_code.n)]);
	if (r->tcp_flags_mask)
		s->tcp_flags = (uint8_t)((s->tcp_flags & ~r->tcp_flags_mask) |
					 r->tcp_flags_value);
	*iface = rand_iface(g);
	if (r->ifaces.n)
		*iface = r->ifaces.v[rg_below(g, (uint32_t)r->ifaces.n)].name;

	/* only rules without layer 4 fields match a later fragment */
	if (chance(g, 10)) {
		s->fragment = true;
		s->more_fragments = true;
		if (!l4 && chance(g, 50)) {
			s->frag_offset = (uint16_t)(1 + rg_below(g, 1000));
			s->more_fragments = chance(g, 50);
		}
	}
	/* neighbour discovery passes before any rule */
	g->aimed = (long)idx;
	if (family == AF_INET6 && s->proto == MOAT_PROTO_ICMPV6 &&
	    s->sport >= 133 && s->sport <= 137 && !s->frag_offset)
		g->aimed = -1;
	return true;
}

/* What carries a packet: tags, options, extension headers, payload. */
static void decorate(struct rg *g, struct moat_frame_spec *s)
{
	uint32_t r = rg_below(g, 100);

	if (r < 20) {
		s->nvlan = r < 5 ? 2 : 1;
		s->vlan[0] = (uint16_t)(1 + rg_below(g, 4094));
		s->vlan[1] = (uint16_t)(1 + rg_below(g, 4094));
		s->vlan_8021ad = chance(g, 30);
	}
	if (s->kind == MOAT_FRAME_IP && s->family == AF_INET && chance(g, 10))
		s->ip_options = (uint8_t)(4 * (1 + rg_below(g, 10)));
	if (s->kind == MOAT_FRAME_IP && s->family == AF_INET6 &&
	    chance(g, 15)) {
		/* up to 7: with a fragment header added, still within 8 */
		s->next = (int)(1 + rg_below(g, chance(g, 80) ? 3 : 7));
		/*
		 * A fragment gets its header appended, after the others:
		 * headers past it would hide the protocol of a later one.
		 */
		for (int i = 0; i < s->next; i++)
			do {
				s->ext[i] = walked_exts[rg_below(
					g, ARRAY_SIZE(walked_exts))];
			} while (s->fragment && s->ext[i] == 44);
	}
	s->payload = (uint16_t)rg_below(g, chance(g, 90) ? 64 : 1200);
}

static void special(struct rg *g, struct moat_frame_spec *s)
{
	switch (rg_below(g, 6)) {
	case 0:
		s->kind = MOAT_FRAME_ARP;
		rand_addr(g, AF_INET, s->src, 50);
		rand_addr(g, AF_INET, s->dst, 50);
		break;
	case 1:
		s->kind = MOAT_FRAME_RAW;
		s->ethertype = other_ethertypes[rg_below(
			g, ARRAY_SIZE(other_ethertypes))];
		break;
	case 2:
		s->kind = MOAT_FRAME_RAW;
		do {
			s->ethertype = (uint16_t)(0x0600 + rg_below(g, 0xfa00));
		} while (s->ethertype == 0x0800 || s->ethertype == 0x0806 ||
			 s->ethertype == 0x86dd || s->ethertype == 0x8100 ||
			 s->ethertype == 0x88a8);
		break;
	case 3: /* neighbour discovery */
		rand_ip(g, s, AF_INET6);
		s->proto = MOAT_PROTO_ICMPV6;
		s->sport = (uint16_t)(133 + rg_below(g, 5));
		s->dport = 0;
		s->ttl = 255;
		break;
	case 4: /* a protocol but no ports */
		rand_ip(g, s, AF_INET6);
		s->proto = chance(g, 50) ? 50 : 59;
		break;
	default:
		rand_ip(g, s, AF_INET);
		s->proto = 50;
		break;
	}
}

enum breakage {
	BREAK_CUT, /* the frame cut anywhere up to the transport header */
	BREAK_TAGS, /* three or four VLAN tags */
	BREAK_VERSION,
	BREAK_IHL_SMALL,
	BREAK_IHL_LONG,
	BREAK_TOTAL_SMALL,
	BREAK_TOTAL_LONG,
	BREAK_PLEN_LONG,
	BREAK_EXT_COUNT, /* nine extension headers */
	BREAK_EXT_CUT, /* the payload length ends inside an extension header */
	BREAK_TINY_FRAGMENT, /* RFC 1858 */
	BREAK_MAX,
};

static bool needs_v4(enum breakage b)
{
	return b >= BREAK_IHL_SMALL && b <= BREAK_TOTAL_LONG;
}

static bool needs_v6(enum breakage b)
{
	return b >= BREAK_PLEN_LONG && b <= BREAK_EXT_CUT;
}

static size_t l4_header_min(const struct moat_frame_spec *s)
{
	switch (s->proto) {
	case MOAT_PROTO_TCP:
		return 20;
	case MOAT_PROTO_UDP:
		return 8;
	case MOAT_PROTO_SCTP:
		return 12;
	default:
		return 4; /* icmp(v6) */
	}
}

/* Set the IP length field so that the datagram ends @end bytes past l3. */
static void set_ip_end(uint8_t *buf, size_t l3, int family, size_t end)
{
	/* the header checksum is left stale: nobody here checks it */
	if (family == AF_INET) {
		buf[l3 + 2] = (uint8_t)(end >> 8);
		buf[l3 + 3] = (uint8_t)end;
	} else {
		end -= 40;
		buf[l3 + 4] = (uint8_t)(end >> 8);
		buf[l3 + 5] = (uint8_t)end;
	}
}

static size_t malformed(struct rg *g, uint8_t *buf, size_t cap)
{
	enum breakage b = (enum breakage)rg_below(g, BREAK_MAX);
	struct moat_frame_spec s = { 0 };
	size_t len, l3, l4;
	int family = needs_v4(b)   ? AF_INET :
		     needs_v6(b)   ? AF_INET6 :
		     chance(g, 50) ? AF_INET :
				     AF_INET6;

	rand_ip(g, &s, family);
	decorate(g, &s);
	switch (b) {
	case BREAK_TAGS:
		s.nvlan = 3 + (int)rg_below(g, 2);
		break;
	case BREAK_EXT_COUNT:
		s.next = 8;
		for (int i = 0; i < 8; i++) {
			do {
				s.ext[i] = walked_exts[rg_below(
					g, ARRAY_SIZE(walked_exts))];
			} while (s.ext[i] == 44);
		}
		s.fragment = true; /* the ninth header */
		s.frag_offset = 0;
		break;
	case BREAK_EXT_CUT:
		s.fragment = false; /* no appended header to account for */
		if (!s.next) {
			s.next = 1;
			s.ext[0] = walked_exts[rg_below(
				g, ARRAY_SIZE(walked_exts))];
		}
		break;
	case BREAK_TINY_FRAGMENT: {
		static const uint8_t l4p[] = { MOAT_PROTO_TCP, MOAT_PROTO_UDP,
					       MOAT_PROTO_SCTP, 0 };

		s.proto = l4p[rg_below(g, ARRAY_SIZE(l4p))];
		if (!s.proto)
			s.proto = family == AF_INET ? MOAT_PROTO_ICMP :
						      MOAT_PROTO_ICMPV6;
		s.fragment = true;
		s.more_fragments = true;
		s.frag_offset = 0;
		break;
	}
	default:
		break;
	}

	len = moat_frame_build(&s, buf, cap);
	if (!len)
		return 0;
	l3 = 14 + 4 * (size_t)s.nvlan;
	l4 = moat_frame_l4_offset(&s);
	switch (b) {
	case BREAK_CUT:
		return 1 + rg_below(g, (uint32_t)(l4 + 4 < len ? l4 + 4 : len));
	case BREAK_VERSION: {
		uint8_t v = (uint8_t)rg_below(g, 16);

		if (v == (family == AF_INET ? 4 : 6))
			v = 0;
		buf[l3] = (uint8_t)((buf[l3] & 0x0f) | v << 4);
		break;
	}
	case BREAK_IHL_SMALL:
		buf[l3] = (uint8_t)(0x40 | rg_below(g, 5));
		break;
	case BREAK_IHL_LONG:
		/* 60 bytes of header in whatever is left of the frame */
		buf[l3] = 0x4f;
		if (len - l3 >= 60)
			len = l3 + 20 + rg_below(g, 40);
		break;
	case BREAK_TOTAL_SMALL:
		set_ip_end(buf, l3, family, rg_below(g, l4 - l3));
		break;
	case BREAK_TOTAL_LONG:
	case BREAK_PLEN_LONG:
		set_ip_end(buf, l3, family, len - l3 + 1 + rg_below(g, 100));
		break;
	case BREAK_EXT_CUT: {
		/* the last extension header starts at l4 - its size */
		uint8_t t = s.ext[s.next - 1];
		size_t last = t == 43 || t == 51 ? 24 : 8;

		set_ip_end(buf, l3, family,
			   l4 - last + rg_below(g, (uint32_t)last) - l3);
		if (chance(g, 50))
			len = l4 - last + rg_below(g, (uint32_t)last);
		break;
	}
	case BREAK_TINY_FRAGMENT:
		set_ip_end(buf, l3, family,
			   l4 - l3 + rg_below(g, (uint32_t)l4_header_min(&s)));
		break;
	default:
		break;
	}
	return len;
}

size_t rg_frame(struct rg *g, const struct moat_ruleset *rs, uint8_t *buf,
		size_t cap, const char **iface)
{
	struct moat_frame_spec s = { 0 };
	uint32_t r = rg_below(g, 100);
	bool aimed = false;

	g->aimed = -1;
	*iface = rand_iface(g);
	if (r >= 95)
		return malformed(g, buf, cap);
	if (r < 80 && rs && rs->nrules)
		aimed = aim(g, rs, rg_below(g, (uint32_t)rs->nrules), &s,
			    iface);
	if (!aimed && r >= 88) {
		special(g, &s);
	} else if (!aimed) {
		rand_ip(g, &s, chance(g, 50) ? AF_INET : AF_INET6);
		if (chance(g, 10)) {
			s.fragment = true;
			s.more_fragments = chance(g, 70);
			if (chance(g, 60))
				s.frag_offset =
					(uint16_t)(1 + rg_below(g, 1000));
		}
	}
	decorate(g, &s);
	return moat_frame_build(&s, buf, cap);
}

int rg_expect_kind(const struct moat_ref_verdict *v, uint32_t *rule)
{
	*rule = RG_NO_RULE;
	switch (v->kind) {
	case MOAT_REF_RULE:
		*rule = (uint32_t)v->rule;
		return MOAT_K_CLASSIFY;
	case MOAT_REF_POLICY:
		return MOAT_K_CLASSIFY;
	case MOAT_REF_ARP:
		return MOAT_K_ARP;
	case MOAT_REF_ND:
		return MOAT_K_ND;
	case MOAT_REF_NONIP:
		return MOAT_K_NONIP;
	default:
		return MOAT_K_MALFORMED;
	}
}
