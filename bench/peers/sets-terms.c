// SPDX-License-Identifier: GPL-2.0-only
/*
 * A rule's terms for nft-sets: one item of each list (the cross
 * product), for one IP version, filed under the shape whose key they
 * need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sets.h"
#include "translate-int.h"

static struct shape *shape_get(struct run *run, int family, enum kind kind,
			       uint8_t mask, uint8_t value)
{
	struct shape *s;

	for (size_t i = 0; i < run->n; i++) {
		s = &run->shapes[i];
		if (s->family == family && s->kind == kind && s->mask == mask &&
		    s->value == value)
			return s;
	}
	if (run->n == run->cap) {
		size_t cap = run->cap ? 2 * run->cap : 8;
		void *v = realloc(run->shapes, cap * sizeof(*s));

		if (!v)
			return NULL;
		run->shapes = v;
		run->cap = cap;
	}
	s = &run->shapes[run->n++];
	*s = (struct shape){
		.family = family, .kind = kind, .mask = mask, .value = value
	};
	return s;
}

static int shape_add(struct shape *s, const struct term *t)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *v = realloc(s->v, cap * sizeof(*t));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = *t;
	s->v[s->n].order = s->n;
	s->n++;
	return 0;
}

/*
 * The items of a list field, or its whole range as the one item when
 * the rule leaves it open (an address list holding a /0 of the version
 * is open for that version).
 */
struct items {
	const void *v;
	size_t n;
	bool whole;
};

static struct items addr_items(const struct moat_prefix *v, size_t n,
			       int family)
{
	bool all = false;

	if (!n || (tr_prefixes_in(v, n, family, &all) && all))
		return (struct items){ NULL, 1, true };
	return (struct items){ v, n, false };
}

static struct items range_items(const struct moat_range *v, size_t n)
{
	if (!n)
		return (struct items){ NULL, 1, true };
	return (struct items){ v, n, false };
}

/* Item @i as a prefix of @family; false for an item of the other version. */
static bool item_prefix(const struct items *it, size_t i, int family,
			struct moat_prefix *p)
{
	const struct moat_prefix *v = it->v;

	if (it->whole) {
		*p = (struct moat_prefix){ .family = (uint8_t)family };
		return true;
	}
	if (v[i].family != family)
		return false;
	*p = v[i];
	return true;
}

static struct moat_range item_range(const struct items *it, size_t i,
				    uint16_t top)
{
	const struct moat_range *v = it->v;

	return it->whole ? (struct moat_range){ 0, top } : v[i];
}

static enum kind rule_kind(const struct moat_rule *r)
{
	if (!r->protos.n)
		return K_ADDR;
	if (r->sport.n || r->dport.n)
		return K_PORTS;
	if (r->icmp_type.n || r->icmp_code.n)
		return K_ICMP;
	return K_PROTO;
}

/* @t with every item of @a and of @b. */
static int add_ab(struct shape *s, struct term *t, const struct items *a,
		  const struct items *b, uint16_t top)
{
	int ret = 0;

	for (size_t ia = 0; !ret && ia < a->n; ia++) {
		t->a = item_range(a, ia, top);
		for (size_t ib = 0; !ret && ib < b->n; ib++) {
			t->b = item_range(b, ib, top);
			ret = shape_add(s, t);
		}
	}
	return ret;
}

int sets_add_rule(struct run *run, const struct moat_rule *r, int family)
{
	enum kind kind = rule_kind(r);
	struct shape *s = shape_get(run, family, kind, r->tcp_flags_mask,
				    r->tcp_flags_value);
	struct items src = addr_items(r->src.v, r->src.n, family);
	struct items dst = addr_items(r->dst.v, r->dst.n, family);
	struct items a = { NULL, 1, true }, b = { NULL, 1, true };
	uint16_t top = kind == K_ICMP ? 255 : 65535;
	size_t nprotos = r->protos.n ? r->protos.n : 1;
	struct term t = { 0 };
	int ret = 0;

	if (!s)
		return -ENOMEM;
	if (kind == K_PORTS) {
		a = range_items(r->sport.v, r->sport.n);
		b = range_items(r->dport.v, r->dport.n);
	} else if (kind == K_ICMP) {
		a = range_items(r->icmp_type.v, r->icmp_type.n);
		b = range_items(r->icmp_code.v, r->icmp_code.n);
	}
	for (size_t is = 0; !ret && is < src.n; is++) {
		if (!item_prefix(&src, is, family, &t.src))
			continue;
		for (size_t id = 0; !ret && id < dst.n; id++) {
			if (!item_prefix(&dst, id, family, &t.dst))
				continue;
			for (size_t ip = 0; !ret && ip < nprotos; ip++) {
				/* ICMP's key has no protocol: it is implied */
				t.proto = r->protos.n && kind != K_ICMP ?
						  r->protos.v[ip] :
						  0;
				if (r->protos.n &&
				    !tr_proto_in_family(r->protos.v[ip],
							family))
					continue;
				ret = add_ab(s, &t, &a, &b, top);
			}
		}
	}
	return ret;
}

void sets_run_free(struct run *run)
{
	for (size_t i = 0; i < run->n; i++)
		free(run->shapes[i].v);
	free(run->shapes);
	memset(run, 0, sizeof(*run));
}
