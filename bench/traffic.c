// SPDX-License-Identifier: GPL-2.0-only
/*
 * The traffic of a ClassBench-style ruleset: one flow per rule, a random
 * point inside each of the rule's fields, and its frame.
 *
 * Rules overlap, so the point drawn for rule i may be caught by an
 * earlier rule.  Checking every earlier rule is quadratic (10^10 checks
 * at 100k rules); instead each rule is filed under the longer of its
 * two prefixes, at the deepest level of the address hierarchy it
 * reaches (IPv4 /8, /16, /24; IPv6 /32, /48, /64), and a point looks up
 * only the buckets its addresses fall in, plus the few rules with no
 * prefix of even the first level.  Whether a rule matches is decided by
 * the reference matcher, so there is one meaning of a rule here too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench_kern_user.h"
#include "classbench.h"
#include "frame.h"

#define POINT_TRIES 8
#define LEVELS 3

static const unsigned int level_bits[2][LEVELS] = {
	{ 8, 16, 24 }, /* IPv4 */
	{ 32, 48, 64 }, /* IPv6 */
};

struct bucket_entry {
	uint64_t key;
	uint32_t rule;
};

struct shadow_index {
	struct bucket_entry *e;
	size_t n;
	uint32_t *wide; /* rules filed under no bucket, in rule order */
	size_t nwide;
};

/* The bucket of the first @bits of @addr, as the source or destination. */
static uint64_t bucket_key(int fam6, int dst, unsigned int bits,
			   const uint8_t *addr)
{
	uint64_t h =
		0xcbf29ce484222325ull ^ (uint64_t)(fam6 * 2 + dst) << 8 ^ bits;

	for (unsigned int b = 0; b < bits / 8; b++)
		h = (h ^ addr[b]) * 0x100000001b3ull;
	return h;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct bucket_entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int index_build(const struct moat_ruleset *rs, struct shadow_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->e = calloc(rs->nrules, sizeof(*ix->e));
	ix->wide = calloc(rs->nrules, sizeof(*ix->wide));
	if (!ix->e || !ix->wide)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];
		const struct moat_prefix *p = NULL;
		int dst = 0, level;

		/* generated rules have at most one prefix per field */
		if (r->src.n == 1)
			p = &r->src.v[0];
		if (r->dst.n == 1 && (!p || r->dst.v[0].len > p->len)) {
			p = &r->dst.v[0];
			dst = 1;
		}
		for (level = LEVELS - 1; p && level >= 0; level--)
			if (p->len >= level_bits[p->family == AF_INET6][level])
				break;
		if (!p || level < 0 || r->src.n > 1 || r->dst.n > 1) {
			ix->wide[ix->nwide++] = (uint32_t)i;
			continue;
		}
		ix->e[ix->n].key = bucket_key(
			p->family == AF_INET6, dst,
			level_bits[p->family == AF_INET6][level], p->addr);
		ix->e[ix->n++].rule = (uint32_t)i;
	}
	qsort(ix->e, ix->n, sizeof(*ix->e), entry_cmp);
	return 0;
}

static void index_free(struct shadow_index *ix)
{
	free(ix->e);
	free(ix->wide);
}

/* Does a rule before @i match @pkt? */
static bool shadowed(const struct moat_ruleset *rs,
		     const struct shadow_index *ix, size_t i,
		     const struct moat_ref_packet *pkt)
{
	int fam6 = pkt->family == AF_INET6;

	for (size_t w = 0; w < ix->nwide && ix->wide[w] < i; w++)
		if (moat_reference_rule_matches(&rs->rules[ix->wide[w]], pkt,
						NULL))
			return true;
	for (int dst = 0; dst < 2; dst++) {
		for (int level = 0; level < LEVELS; level++) {
			uint64_t key =
				bucket_key(fam6, dst, level_bits[fam6][level],
					   dst ? pkt->dst : pkt->src);
			size_t lo = 0, hi = ix->n;

			while (lo < hi) { /* first entry with this key */
				size_t mid = lo + (hi - lo) / 2;

				if (ix->e[mid].key < key)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < ix->n && ix->e[lo].key == key &&
			       ix->e[lo].rule < i;
			     lo++)
				if (moat_reference_rule_matches(
					    &rs->rules[ix->e[lo].rule], pkt,
					    NULL))
					return true;
		}
	}
	return false;
}

static uint16_t in_range(struct cb_rng *r, const struct moat_range *v, size_t n,
			 uint16_t lo, uint16_t hi)
{
	if (n) {
		v += cb_rng_below(r, (uint32_t)n);
		lo = v->lo;
		hi = v->hi;
	}
	return (uint16_t)(lo + cb_rng_below(r, (uint32_t)hi - lo + 1));
}

static void in_prefix(struct cb_rng *r, const struct moat_prefix *p,
		      uint8_t *addr, unsigned int bytes)
{
	for (unsigned int b = 0; b < bytes; b++) {
		uint8_t x = (uint8_t)cb_rng_next(r), mask = 0;

		if (p && 8 * b + 8 <= p->len)
			mask = 0xff;
		else if (p && 8 * b < p->len)
			mask = (uint8_t)(0xff << (8 * b + 8 - p->len));
		addr[b] = p ? (uint8_t)((p->addr[b] & mask) | (x & ~mask)) : x;
	}
}

/* A random point inside @rule's fields (first items of its lists). */
static void draw_point(struct cb_rng *r, const struct moat_rule *rule,
		       struct moat_ref_packet *pkt)
{
	const struct moat_prefix *src = rule->src.n ? rule->src.v : NULL;
	const struct moat_prefix *dst = rule->dst.n ? rule->dst.v : NULL;
	bool icmp;

	memset(pkt, 0, sizeof(*pkt));
	pkt->family = AF_INET;
	if ((src && src->family == AF_INET6) ||
	    (dst && dst->family == AF_INET6) ||
	    (rule->protos.n && rule->protos.v[0] == MOAT_PROTO_ICMPV6))
		pkt->family = AF_INET6;
	in_prefix(r, src, pkt->src, pkt->family == AF_INET ? 4 : 16);
	in_prefix(r, dst, pkt->dst, pkt->family == AF_INET ? 4 : 16);

	/* a rule for any protocol gets TCP and UDP */
	pkt->proto = rule->protos.n	       ? rule->protos.v[0] :
		     cb_rng_below(r, 100) < 60 ? MOAT_PROTO_TCP :
						 MOAT_PROTO_UDP;
	pkt->has_l4 = true;
	icmp = pkt->proto == MOAT_PROTO_ICMP || pkt->proto == MOAT_PROTO_ICMPV6;
	if (icmp) {
		/* echo request where the rule leaves the type open */
		uint16_t echo = pkt->family == AF_INET ? 8 : 128;

		pkt->sport = in_range(r, rule->icmp_type.v, rule->icmp_type.n,
				      echo, echo);
		pkt->dport =
			in_range(r, rule->icmp_code.v, rule->icmp_code.n, 0, 0);
	} else {
		/* clients use ephemeral source ports */
		pkt->sport =
			in_range(r, rule->sport.v, rule->sport.n, 1024, 65535);
		pkt->dport =
			in_range(r, rule->dport.v, rule->dport.n, 0, 65535);
	}
	if (pkt->proto == MOAT_PROTO_TCP)
		pkt->tcp_flags = MOAT_TCP_ACK;
}

int cb_traffic_build(const struct moat_ruleset *rs, uint64_t seed,
		     struct cb_traffic *t)
{
	struct shadow_index ix = { 0 };
	struct cb_rng r;
	int ret;

	memset(t, 0, sizeof(*t));
	t->frame_len = BENCH_FRAME_SHORT;
	t->flows = calloc(rs->nrules ? rs->nrules : 1, sizeof(*t->flows));
	ret = t->flows ? index_build(rs, &ix) : -ENOMEM;
	if (ret)
		goto out;

	/* a stream of its own, so that traffic does not move the rules */
	cb_rng_seed(&r, seed ^ 0x7472616666696300ull);
	for (size_t i = 0; i < rs->nrules; i++) {
		struct moat_ref_packet *pkt = &t->flows[i];
		bool own = false;

		for (int k = 0; k < POINT_TRIES && !own; k++) {
			draw_point(&r, &rs->rules[i], pkt);
			own = !shadowed(rs, &ix, i, pkt);
		}
		t->owned += own;
		if (pkt->family == AF_INET6 && pkt->proto == MOAT_PROTO_TCP)
			t->frame_len = BENCH_FRAME_LONG;
	}
	t->n = rs->nrules;
out:
	index_free(&ix);
	if (ret)
		cb_traffic_free(t);
	return ret;
}

void cb_traffic_free(struct cb_traffic *t)
{
	free(t->flows);
	memset(t, 0, sizeof(*t));
}

int cb_frame(const struct cb_traffic *t, size_t i, uint8_t *buf)
{
	const struct moat_ref_packet *pkt = &t->flows[i];
	struct moat_frame_spec s = {
		.kind = MOAT_FRAME_IP,
		.family = pkt->family,
		.proto = pkt->proto,
		.sport = pkt->sport,
		.dport = pkt->dport,
		.tcp_flags = pkt->tcp_flags,
	};
	size_t l4 = pkt->proto == MOAT_PROTO_TCP ? 20 : 8;
	size_t off;

	if (i >= t->n)
		return -EINVAL;
	memcpy(s.src, pkt->src, sizeof(s.src));
	memcpy(s.dst, pkt->dst, sizeof(s.dst));
	/* fill the frame with payload up to its length */
	off = moat_frame_l4_offset(&s) + l4;
	if (off > t->frame_len)
		return -EINVAL;
	s.payload = (uint16_t)(t->frame_len - off);
	if (moat_frame_build(&s, buf, t->frame_len) != t->frame_len)
		return -EINVAL;
	return 0;
}
