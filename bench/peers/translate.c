// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reading of a rule that every translator shares.  The rules for
 * IP versions are docs/ruleset.md's ("Addresses"): a rule can match a
 * version when each given address list has an item of that version and
 * its protocol list has an item other than the other version's ICMP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "translate-int.h"

bool tr_rule_active(const struct moat_rule *r, const char *ifname)
{
	if (!r->ifaces.n)
		return true;
	for (size_t i = 0; i < r->ifaces.n; i++)
		if (!strncmp(r->ifaces.v[i].name, ifname,
			     sizeof(r->ifaces.v[i].name)))
			return true;
	return false;
}

bool tr_proto_in_family(uint8_t proto, int family)
{
	if (proto == MOAT_PROTO_ICMP)
		return family == AF_INET;
	if (proto == MOAT_PROTO_ICMPV6)
		return family == AF_INET6;
	return true;
}

static bool list_in_family(const struct moat_prefix *v, size_t n, int family)
{
	bool all;

	return !n || tr_prefixes_in(v, n, family, &all);
}

bool tr_rule_in_family(const struct moat_rule *r, int family)
{
	size_t i;

	if (!list_in_family(r->src.v, r->src.n, family) ||
	    !list_in_family(r->dst.v, r->dst.n, family))
		return false;
	if (!r->protos.n)
		return true;
	for (i = 0; i < r->protos.n; i++)
		if (tr_proto_in_family(r->protos.v[i], family))
			return true;
	return false;
}

bool tr_rule_neutral(const struct moat_rule *r)
{
	if (r->src.n || r->dst.n)
		return false;
	for (size_t i = 0; i < r->protos.n; i++)
		if (r->protos.v[i] == MOAT_PROTO_ICMP ||
		    r->protos.v[i] == MOAT_PROTO_ICMPV6)
			return false;
	return true;
}

bool tr_rule_needs_l4(const struct moat_rule *r)
{
	return r->sport.n || r->dport.n || r->icmp_type.n || r->icmp_code.n ||
	       r->tcp_flags_mask;
}

size_t tr_prefixes_in(const struct moat_prefix *v, size_t n, int family,
		      bool *all)
{
	size_t k = 0;

	*all = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		k++;
		if (!v[i].len)
			*all = true;
	}
	return k;
}

void tr_prefix_str(const struct moat_prefix *p, char *buf)
{
	unsigned int full = p->family == AF_INET ? 32 : 128;

	inet_ntop(p->family, p->addr, buf, TR_PREFIX_STRLEN);
	if (p->len != full)
		snprintf(buf + strlen(buf), TR_PREFIX_STRLEN - strlen(buf),
			 "/%u", p->len);
}

void tr_range_put(FILE *f, const struct moat_range *r, char sep)
{
	if (r->lo == r->hi)
		fprintf(f, "%u", r->lo);
	else
		fprintf(f, "%u%c%u", r->lo, sep, r->hi);
}

bool tr_ifname_ok(const char *ifname)
{
	size_t n = strlen(ifname);

	if (!n || n > MOAT_IFNAME_MAX)
		return false;
	/* what needs no quoting rules: nft and iptables read these alike */
	for (; *ifname; ifname++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@+",
			    *ifname))
			return false;
	return true;
}

const char *tr_reason(const char *fmt, ...)
{
	static __thread char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

char *tr_to_string(int (*fn)(const struct moat_ruleset *, const char *, FILE *),
		   const struct moat_ruleset *rs, const char *ifname)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		return NULL;
	ret = fn(rs, ifname, f);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(text);
		errno = -ret;
		return NULL;
	}
	return text;
}
