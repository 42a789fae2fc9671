// SPDX-License-Identifier: GPL-2.0-only
/*
 * A rule's fields against each other: ports, types, codes and flags
 * against the protocols, and the IP versions that protocols and
 * addresses leave.  Runs only on a rule whose fields each parsed, so that
 * one typo does not also earn a contradiction.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "parse.h"

#define V4 1u
#define V6 2u

static const char *version_name(unsigned int v)
{
	return v == V4 ? "IPv4" : "IPv6";
}

/* The ICMP family every protocol of the rule agrees on, or 0. */
static int icmp_family(const struct moat_rule *r)
{
	size_t i;

	if (!r->protos.n)
		return 0;
	for (i = 1; i < r->protos.n; i++)
		if (r->protos.v[i] != r->protos.v[0])
			return 0;
	if (r->protos.v[0] == MOAT_PROTO_ICMP)
		return AF_INET;
	if (r->protos.v[0] == MOAT_PROTO_ICMPV6)
		return AF_INET6;
	return 0;
}

static bool only_tcp(const struct moat_rule *r)
{
	size_t i;

	for (i = 0; i < r->protos.n; i++)
		if (r->protos.v[i] != MOAT_PROTO_TCP)
			return false;
	return r->protos.n > 0;
}

static const struct lex_tok *key_tok(const struct rule_fields *f,
				     enum moat_field fld)
{
	return &f->tok[f->key[fld]];
}

static const struct lex_tok *item_tok(const struct rule_fields *f,
				      enum moat_field fld, size_t j)
{
	return &f->tok[f->first[fld] + 2 * j];
}

static int check_ports(const struct moat_rule *r, const struct rule_fields *f,
		       enum moat_field fld, struct moat_diags *d)
{
	const char *name;
	size_t i;

	if (f->key[fld] == SIZE_MAX)
		return 0;
	if (!r->protos.n)
		return tok_error(
			d, key_tok(f, fld),
			"ports need a protocol with ports: tcp, udp or sctp");
	for (i = 0; i < r->protos.n; i++) {
		if (moat_proto_has_ports(r->protos.v[i]))
			continue;
		name = moat_proto_name(r->protos.v[i]);
		if (name)
			return tok_error(
				d, key_tok(f, fld),
				"ports need every protocol of the rule to have ports, and %s has none",
				name);
		return tok_error(
			d, key_tok(f, fld),
			"ports need every protocol of the rule to have ports, and protocol %u has none",
			r->protos.v[i]);
	}
	return 0;
}

static int resolve_types(struct moat_rule *r, const struct rule_fields *f,
			 int family, struct moat_diags *d)
{
	int other = family == AF_INET ? AF_INET6 : AF_INET;
	const char *fam = family == AF_INET ? "ICMP" : "ICMPv6";
	const char *ofam = family == AF_INET ? "ICMPv6" : "ICMP";
	char name[32];
	size_t j;
	int v;

	for (j = 0; j < r->icmp_type.n; j++) {
		const struct lex_tok *t = item_tok(f, F_TYPE, j);

		if (t->s[0] >= '0' && t->s[0] <= '9')
			continue;
		v = -1;
		if (t->len < sizeof(name)) {
			memcpy(name, t->s, t->len);
			name[t->len] = '\0';
			v = moat_icmp_type_lookup(family, name);
			if (v < 0 && moat_icmp_type_lookup(other, name) >= 0)
				return tok_error(
					d, t, "not an %s type (it is %s only)",
					fam, ofam);
		}
		if (v < 0)
			return tok_error(
				d, t,
				"unknown %s type, expected a type name or a number 0-255",
				fam);
		r->icmp_type.v[j].lo = v;
		r->icmp_type.v[j].hi = v;
	}
	return 0;
}

static unsigned int item_versions(const struct moat_rule *r,
				  enum moat_field fld, size_t j)
{
	const struct moat_prefix *p;

	if (fld == F_PROTO) {
		if (r->protos.v[j] == MOAT_PROTO_ICMP)
			return V4;
		if (r->protos.v[j] == MOAT_PROTO_ICMPV6)
			return V6;
		return V4 | V6;
	}
	p = fld == F_FROM ? &r->src.v[j] : &r->dst.v[j];
	return p->family == AF_INET ? V4 : V6;
}

static size_t field_items(const struct moat_rule *r, enum moat_field fld)
{
	return fld == F_PROTO ? r->protos.n :
	       fld == F_FROM  ? r->src.n :
	       fld == F_TO    ? r->dst.n :
				0;
}

/*
 * The versions left after each field, in the order written, so that the
 * error lands on the field that leaves none.  Items whose version the
 * rule as a whole excludes get a warning: harmless, but likely a slip.
 */
static int check_versions(const struct moat_rule *r,
			  const struct rule_fields *f, struct moat_diags *d)
{
	static const enum moat_field vfields[] = { F_PROTO, F_FROM, F_TO };
	unsigned int left = V4 | V6, fv;
	enum moat_field fld;
	size_t k, j;

	for (k = 0; k < f->norder; k++) {
		fld = f->order[k];
		if (!field_items(r, fld))
			continue;
		fv = 0;
		for (j = 0; j < field_items(r, fld); j++)
			fv |= item_versions(r, fld, j);
		if (!(left & fv))
			return tok_error(
				d, key_tok(f, fld),
				"no IP version left: this field is %s only, the fields before it %s only",
				version_name(fv), version_name(left));
		left &= fv;
	}
	for (k = 0; k < sizeof(vfields) / sizeof(vfields[0]); k++) {
		fld = vfields[k];
		for (j = 0; j < field_items(r, fld); j++)
			if (!(item_versions(r, fld, j) & left))
				moat_tok_diag(
					d, MOAT_WARNING, item_tok(f, fld, j),
					"list item can never match, the rule is %s only",
					version_name(left));
	}
	return 0;
}

int moat_check_rule(struct moat_rule *r, const struct rule_fields *f,
		    struct moat_diags *d)
{
	int family = icmp_family(r), ret = 0;

	ret |= check_ports(r, f, F_SPORT, d);
	ret |= check_ports(r, f, F_DPORT, d);
	if (f->key[F_TYPE] != SIZE_MAX && !family)
		ret |= tok_error(
			d, key_tok(f, F_TYPE),
			"type needs the protocol to be exactly one of icmp or icmpv6");
	else if (f->key[F_TYPE] != SIZE_MAX)
		ret |= resolve_types(r, f, family, d);
	if (f->key[F_CODE] != SIZE_MAX && !family)
		ret |= tok_error(
			d, key_tok(f, F_CODE),
			"code needs the protocol to be exactly one of icmp or icmpv6");
	if (f->key[F_FLAGS] != SIZE_MAX && !only_tcp(r))
		ret |= tok_error(d, key_tok(f, F_FLAGS),
				 "flags need the protocol to be exactly tcp");
	if (ret)
		return -EINVAL;
	return check_versions(r, f, d);
}
