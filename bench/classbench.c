// SPDX-License-Identifier: GPL-2.0-only
/*
 * ClassBench-style ACL rules.  Each rule draws its fields independently
 * from the tables below (addresses from hierarchy.h's shared tree), a
 * few constraints keep the set useful (no complete wildcards, protocol
 * "any" only towards a narrow destination), and the rules are ordered
 * from specific to broad with some mixing, as hand-written ACLs are.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "classbench.h"
#include "hierarchy.h"
#include "moat_kern_user.h"

/* A share of the draws, in percent, and the value range it covers. */
struct share {
	unsigned char pct;
	unsigned char lo, hi;
};

static const struct share *pick(struct cb_rng *r, const struct share *t)
{
	unsigned int x = cb_rng_below(r, 100), acc = 0;

	for (;; t++) {
		acc += t->pct;
		if (x < acc || t[1].pct == 0)
			return t;
	}
}

static unsigned int pick_len(struct cb_rng *r, const struct share *t)
{
	const struct share *s = pick(r, t);

	return s->lo + cb_rng_below(r, s->hi - s->lo + 1u);
}

/*
 * Prefix lengths.  Destinations are mostly hosts and subnets (ClassBench
 * ACL seeds: /32 dominant, /24 next); sources are often wildcards or
 * short prefixes.  Each table ends with a zero entry.
 */
static const struct share dst4_len[] = {
	{ 45, 32, 32 }, { 18, 24, 24 }, { 9, 25, 31 }, { 14, 16, 23 },
	{ 11, 8, 15 },	{ 3, 0, 0 },	{ 0, 0, 0 },
};
static const struct share src4_len[] = {
	{ 35, 0, 0 },  { 10, 8, 15 },  { 20, 16, 23 }, { 15, 24, 24 },
	{ 5, 25, 31 }, { 15, 32, 32 }, { 0, 0, 0 },
};
static const struct share dst6_len[] = {
	{ 40, 128, 128 }, { 25, 64, 64 }, { 5, 49, 63 }, { 12, 48, 48 },
	{ 5, 33, 47 },	  { 10, 32, 32 }, { 3, 0, 0 },	 { 0, 0, 0 },
};
static const struct share src6_len[] = {
	{ 35, 0, 0 },	{ 15, 32, 32 },	  { 20, 48, 48 },
	{ 20, 64, 64 }, { 10, 128, 128 }, { 0, 0, 0 },
};

/* Protocols: 0 stands for "any". */
static const struct share proto_mix[] = {
	{ 70, MOAT_PROTO_TCP, 0 },
	{ 20, MOAT_PROTO_UDP, 0 },
	{ 6, MOAT_PROTO_ICMP, 0 },
	{ 4, 0, 0 },
	{ 0, 0, 0 },
};

enum port_class {
	PORT_ANY,
	PORT_HIGH, /* 1024-65535 */
	PORT_LOW, /* 0-1023 */
	PORT_WELL_KNOWN, /* one exact service port */
	PORT_EXACT_HIGH, /* one exact port in 1024-65535 */
	PORT_RANGE, /* 2 to 1024 ports at a random place */
};

static const struct share sport_mix[] = {
	{ 75, PORT_ANY, 0 },	   { 12, PORT_HIGH, 0 },
	{ 4, PORT_WELL_KNOWN, 0 }, { 4, PORT_EXACT_HIGH, 0 },
	{ 5, PORT_RANGE, 0 },	   { 0, 0, 0 },
};
static const struct share dport_mix[] = {
	{ 40, PORT_WELL_KNOWN, 0 },
	{ 12, PORT_EXACT_HIGH, 0 },
	{ 10, PORT_RANGE, 0 },
	{ 8, PORT_HIGH, 0 },
	{ 5, PORT_LOW, 0 },
	{ 25, PORT_ANY, 0 },
	{ 0, 0, 0 },
};

static const uint16_t tcp_services[] = {
	20,   21,   22,	  23,	25,   53,   80,	  110,	111,  135,  139, 143,
	179,  389,  443,  445,	465,  514,  587,  636,	873,  993,  995, 1433,
	1521, 2049, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200,
};
static const uint16_t udp_services[] = {
	53,  67,  68,  69,   111,  123,	 137,  138,  161,  162,
	500, 514, 520, 1194, 1812, 1813, 4500, 5060, 5353, 11211,
};

/* ICMP types a rule names (never IPv6 neighbour discovery, 133-137). */
static const uint8_t icmp4_types[] = { 0, 3, 8, 11 };
static const uint8_t icmp6_types[] = { 1, 3, 128, 129 };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct moat_range draw_ports(struct cb_rng *r, const struct share *mix,
				    uint8_t proto, bool *given)
{
	struct moat_range p = { 0, 65535 };
	uint32_t width;

	*given = true;
	switch (pick(r, mix)->lo) {
	case PORT_HIGH:
		p.lo = 1024;
		break;
	case PORT_LOW:
		p.hi = 1023;
		break;
	case PORT_WELL_KNOWN:
		p.lo = proto == MOAT_PROTO_TCP ?
			       tcp_services[cb_rng_below(r,
							 NELEM(tcp_services))] :
			       udp_services[cb_rng_below(r,
							 NELEM(udp_services))];
		p.hi = p.lo;
		break;
	case PORT_EXACT_HIGH:
		p.lo = p.hi = (uint16_t)(1024 + cb_rng_below(r, 65536 - 1024));
		break;
	case PORT_RANGE:
		width = 2u << cb_rng_below(r, 10); /* 2 .. 1024 */
		p.lo = (uint16_t)cb_rng_below(r, 65536 - width + 1);
		p.hi = (uint16_t)(p.lo + width - 1);
		break;
	default:
		*given = false;
		break;
	}
	return p;
}

struct trees {
	struct tree src4, dst4, src6, dst6;
};

/* One rule's fields before it becomes a struct moat_rule. */
struct draw {
	int family;
	uint8_t proto; /* 0: any */
	struct moat_prefix src, dst; /* len 0: not given */
	struct moat_range sport, dport, type, code;
	bool has_sport, has_dport, has_type, has_code;
	double key; /* order in the ruleset */
	size_t index; /* order of drawing: breaks ties in the sort */
};

static bool exact(const struct moat_range *p)
{
	return p->lo == p->hi;
}

static void draw_icmp(struct cb_rng *r, struct draw *d)
{
	const uint8_t *types = d->family == AF_INET ? icmp4_types : icmp6_types;

	if (cb_rng_below(r, 100) < 60) {
		d->has_type = true;
		d->type.lo = d->type.hi = types[cb_rng_below(r, 4)];
		if (cb_rng_below(r, 100) < 30)
			d->has_code = true; /* code 0, see to_rule() */
	}
}

/*
 * Rules are ordered by the size of the space they match, in bits, plus
 * up to ORDER_JITTER_BITS of noise: specific rules first, as in
 * hand-written ACLs, while rules of similar size mix.  A rule can only
 * be shadowed entirely by one that contains it, which is at least as
 * large, so only rules within the jitter of each other can shadow.
 */
#define ORDER_JITTER_BITS 8.0

static double range_bits(bool given, const struct moat_range *p)
{
	return given ? log2((double)p->hi - p->lo + 1) : 16;
}

static double volume_bits(const struct draw *d)
{
	/* IPv6 prefixes scaled to IPv4's 32 bits, to share one order */
	double scale = d->family == AF_INET ? 1 : 0.25;
	double bits = scale * ((d->family == AF_INET ? 32 : 128) - d->src.len) +
		      scale * ((d->family == AF_INET ? 32 : 128) - d->dst.len);

	if (d->proto == 0)
		return bits + 2 + 32; /* several protocols, all their ports */
	if (d->proto == MOAT_PROTO_ICMP || d->proto == MOAT_PROTO_ICMPV6)
		return bits + (d->has_type ? 0 : 8) + (d->has_code ? 0 : 8);
	return bits + range_bits(d->has_sport, &d->sport) +
	       range_bits(d->has_dport, &d->dport);
}

static void draw_rule(struct cb_rng *r, const struct trees *t, int family,
		      struct draw *d)
{
	const struct tree *src = family == AF_INET ? &t->src4 : &t->src6;
	const struct tree *dst = family == AF_INET ? &t->dst4 : &t->dst6;
	const struct share *src_len = family == AF_INET ? src4_len : src6_len;
	const struct share *dst_len = family == AF_INET ? dst4_len : dst6_len;
	unsigned int subnet = family == AF_INET ? 16 : 48;
	unsigned int dlen;

	d->family = family;
	d->proto = pick(r, proto_mix)->lo;
	if (d->proto == MOAT_PROTO_ICMP && family == AF_INET6)
		d->proto = MOAT_PROTO_ICMPV6;
	d->src = tree_prefix(src, r, family, pick_len(r, src_len));
	/* protocol "any" has no ports to narrow it: keep its destination narrow */
	do
		dlen = pick_len(r, dst_len);
	while (d->proto == 0 && dlen < subnet);
	d->dst = tree_prefix(dst, r, family, dlen);

	if (d->proto == MOAT_PROTO_ICMP || d->proto == MOAT_PROTO_ICMPV6) {
		draw_icmp(r, d);
	} else if (d->proto) {
		d->sport = draw_ports(r, sport_mix, d->proto, &d->has_sport);
		d->dport = draw_ports(r, dport_mix, d->proto, &d->has_dport);
	}
	/*
	 * No complete wildcards, which would shadow everything after them:
	 * a rule with neither address is a service rule ("drop tcp dport
	 * 445"), on one exact port.
	 */
	if (!d->src.len && !d->dst.len) {
		if (d->proto != MOAT_PROTO_TCP && d->proto != MOAT_PROTO_UDP) {
			d->proto = MOAT_PROTO_TCP;
			d->has_type = d->has_code = false;
			d->sport = draw_ports(r, sport_mix, d->proto,
					      &d->has_sport);
		}
		if (!d->has_dport || !exact(&d->dport)) {
			d->has_dport = true;
			d->dport.lo = d->dport.hi = tcp_services[cb_rng_below(
				r, NELEM(tcp_services))];
		}
	}

	d->key = volume_bits(d) + ORDER_JITTER_BITS * cb_rng_unit(r);
}

static int draw_cmp(const void *a, const void *b)
{
	const struct draw *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Set a list field to one item; lists own their array (ruleset.h). */
static int list_one(void **v, size_t *n, const void *item, size_t size)
{
	*v = malloc(size);
	if (!*v)
		return -ENOMEM;
	memcpy(*v, item, size);
	*n = 1;
	return 0;
}

#define LIST_ONE(list, item) \
	list_one((void **)&(list).v, &(list).n, &(item), sizeof(item))

static int to_rule(const struct draw *d, size_t i, enum moat_action action,
		   struct moat_rule *out)
{
	struct moat_prefix any6 = { .family = AF_INET6 };
	struct moat_range code = { 0, 0 }; /* code 0 */
	int ret = 0;

	snprintf(out->name, sizeof(out->name), "r%06zu", i + 1);
	out->action = action;
	if (d->proto)
		ret = ret ?: LIST_ONE(out->protos, d->proto);
	if (d->src.len)
		ret = ret ?: LIST_ONE(out->src, d->src);
	if (d->dst.len)
		ret = ret ?: LIST_ONE(out->dst, d->dst);
	else if (!d->src.len && d->family == AF_INET6)
		/* keep the rule IPv6: "to ::/0" */
		ret = ret ?: LIST_ONE(out->dst, any6);
	if (d->has_sport)
		ret = ret ?: LIST_ONE(out->sport, d->sport);
	if (d->has_dport)
		ret = ret ?: LIST_ONE(out->dport, d->dport);
	if (d->has_type)
		ret = ret ?: LIST_ONE(out->icmp_type, d->type);
	if (d->has_code)
		ret = ret ?: LIST_ONE(out->icmp_code, code);
	return ret;
}

/* CB_PORTS: what every peer can express, so that xdp-filter can be measured. */
static int generate_ports(const struct cb_opts *o, struct moat_ruleset *rs)
{
	uint8_t udp = MOAT_PROTO_UDP;
	size_t i;

	if (!o->nrules || o->nrules > CB_PORTS_MAX)
		return -EINVAL;
	rs->rules = calloc(o->nrules, sizeof(*rs->rules));
	if (!rs->rules)
		return -ENOMEM;
	rs->policy = MOAT_ALLOW;
	rs->policy_given = true;
	for (i = 0; i < o->nrules; i++) {
		struct moat_rule *r = &rs->rules[i];
		uint16_t port = (uint16_t)(1024 + i);

		rs->nrules = i + 1;
		snprintf(r->name, sizeof(r->name), "p%06zu", i + 1);
		r->action = MOAT_DROP;
		if (LIST_ONE(r->protos, udp) ||
		    LIST_ONE(r->dport, ((struct moat_range){ port, port }))) {
			moat_ruleset_free(rs);
			return -ENOMEM;
		}
	}
	return 0;
}

int cb_generate(const struct cb_opts *o, struct moat_ruleset *rs)
{
	struct trees *t = NULL;
	struct draw *d = NULL;
	struct cb_rng r;
	int ret = -ENOMEM;

	memset(rs, 0, sizeof(*rs));
	if (o->shape == CB_PORTS)
		return generate_ports(o, rs);
	if (!o->nrules || o->nrules > MOAT_RULES_MAX || o->ipv6_pct > 100)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	d = calloc(o->nrules, sizeof(*d));
	rs->rules = calloc(o->nrules, sizeof(*rs->rules));
	if (!t || !d || !rs->rules)
		goto out;

	cb_rng_seed(&r, o->seed);
	ret = tree_init(&t->src4, &r, AF_INET, o->nrules)	   ?:
		      tree_init(&t->dst4, &r, AF_INET, o->nrules)  ?:
		      tree_init(&t->src6, &r, AF_INET6, o->nrules) ?:
		      tree_init(&t->dst6, &r, AF_INET6, o->nrules);
	if (ret)
		goto out;
	ret = -ENOMEM;
	for (size_t i = 0; i < o->nrules; i++) {
		int family = cb_rng_below(&r, 100) < o->ipv6_pct ? AF_INET6 :
								   AF_INET;

		draw_rule(&r, t, family, &d[i]);
		d[i].index = i;
	}
	qsort(d, o->nrules, sizeof(*d), draw_cmp);

	rs->policy = o->policy;
	rs->policy_given = true;
	for (size_t i = 0; i < o->nrules; i++) {
		rs->nrules = i + 1;
		ret = to_rule(&d[i], i, o->action, &rs->rules[i]);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	if (ret)
		moat_ruleset_free(rs);
	free(d);
	if (t) {
		tree_free(&t->src4);
		tree_free(&t->dst4);
		tree_free(&t->src6);
		tree_free(&t->dst6);
	}
	free(t);
	return ret;
}
