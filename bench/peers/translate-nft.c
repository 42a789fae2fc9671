// SPDX-License-Identifier: GPL-2.0-only
/*
 * nftables, the straightforward way: a netdev table whose ingress chain
 * on the interface holds one rule per moat rule (two when the rule
 * matches IPv4 and IPv6 with different fields), in moat's order, list
 * fields as anonymous sets, a counter on every rule.
 *
 * The chain starts with moat's fixed verdicts: every frame that is not
 * IPv4 or IPv6 (ARP among them) is accepted, then IPv6 neighbour
 * discovery.  It ends with a bare counter that the frames reaching the
 * policy pass through, so that the counters add up to every frame seen.
 *
 * Later fragments.  moat's ports, ICMP fields and TCP flags never match
 * a later fragment, which carries no transport header.  nft's payload
 * expressions should fail there, but the fast path the kernel takes for
 * loads of 1, 2 or 4 aligned bytes (`tcp dport', `th sport', `icmp
 * type') does not look at the fragment offset, and reads the fragment's
 * payload as ports (seen on 6.18, and with iptables-nft too).  So later
 * fragments go first to a chain of their own, "frags", which holds only
 * the rules without such fields, in order, and ends in the policy.
 *
 * `meta l4proto' is the protocol after IPv6 extension headers, as in
 * moat; rules of one IP version say so (`meta protocol ip') unless an
 * address or an ICMP field already does.
 */
#include <errno.h>
#include <sys/socket.h>

#include "translate-int.h"

const char *tr_nft_proto(uint8_t proto, char *buf)
{
	switch (proto) {
	case MOAT_PROTO_TCP:
		return "tcp";
	case MOAT_PROTO_UDP:
		return "udp";
	case MOAT_PROTO_SCTP:
		return "sctp";
	case MOAT_PROTO_ICMP:
		return "icmp";
	case MOAT_PROTO_ICMPV6:
		return "ipv6-icmp";
	default:
		snprintf(buf, 4, "%u", proto);
		return buf;
	}
}

void tr_nft_tcp_flags(FILE *f, uint8_t mask, uint8_t value)
{
	static const char *const names[8] = { "fin", "syn", "rst", "psh",
					      "ack", "urg", "ecn", "cwr" };
	uint8_t set[2] = { mask, value };

	fputs("tcp flags & ", f);
	for (int side = 0; side < 2; side++) {
		int n = __builtin_popcount(set[side]), k = 0;

		if (side)
			fputs(" == ", f);
		if (!n) {
			fputc('0', f);
			continue;
		}
		if (n > 1)
			fputc('(', f);
		for (int b = 0; b < 8; b++)
			if (set[side] & (1u << b))
				fprintf(f, "%s%s", k++ ? " | " : "", names[b]);
		if (n > 1)
			fputc(')', f);
	}
	fputc(' ', f);
}

void tr_nft_head(FILE *f)
{
	fputs("\t\t# a later fragment has no transport header, but nft's\n"
	      "\t\t# fast payload loads read its payload as one: send later\n"
	      "\t\t# fragments to the rules that need no transport header,\n"
	      "\t\t# before anything reads one\n"
	      "\t\tip frag-off & 0x1fff != 0 goto frags\n"
	      "\t\tfrag frag-off != 0 goto frags\n"
	      "\t\t# neighbour discovery (ICMPv6 133-137) passes, a fixed\n"
	      "\t\t# verdict of moat's, before any rule\n"
	      "\t\ticmpv6 type 133-137 counter accept\n",
	      f);
}

void tr_nft_tail(FILE *f)
{
	fputs("\t\t# what no rule matched meets the policy: counted here\n"
	      "\t\tcounter\n",
	      f);
}

static void put_ranges(FILE *f, const char *what, const struct moat_range *v,
		       size_t n)
{
	fprintf(f, "%s %s", what, n > 1 ? "{ " : "");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		tr_range_put(f, &v[i], '-');
	}
	fputs(n > 1 ? " } " : " ", f);
}

static void put_addrs(FILE *f, const char *what, const struct moat_prefix *v,
		      size_t n, int family, size_t k)
{
	char buf[TR_PREFIX_STRLEN];
	size_t j = 0;

	fprintf(f, "%s %s %s", family == AF_INET ? "ip" : "ip6", what,
		k > 1 ? "{ " : "");
	for (size_t i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		tr_prefix_str(&v[i], buf);
		fprintf(f, "%s%s", j++ ? ", " : "", buf);
	}
	fputs(k > 1 ? " } " : " ", f);
}

/* The protocol items of @r for @family (0: both), as nft writes them. */
static size_t put_protos(FILE *f, const struct moat_rule *r, int family,
			 bool print)
{
	char num[4];
	size_t k = 0;

	for (size_t i = 0; i < r->protos.n; i++) {
		uint8_t p = r->protos.v[i];

		if (family && !tr_proto_in_family(p, family))
			continue;
		if (print)
			fprintf(f, "%s%s", k ? ", " : "", tr_nft_proto(p, num));
		k++;
	}
	return k;
}

static void put_l4proto(FILE *f, const struct moat_rule *r, int family)
{
	size_t k = put_protos(NULL, r, family, false);

	fprintf(f, "meta l4proto %s", k > 1 ? "{ " : "");
	put_protos(f, r, family, true);
	fputs(k > 1 ? " } " : " ", f);
}

/*
 * The transport part: ports under `tcp' (or `th' for several
 * protocols), ICMP type and code, TCP flags, or the bare protocol.
 */
static void put_transport(FILE *f, const struct moat_rule *r, int family)
{
	char num[4], what[16];
	const char *l4 = "th";

	if (r->sport.n || r->dport.n) {
		if (put_protos(NULL, r, family, false) == 1)
			l4 = tr_nft_proto(r->protos.v[0], num);
		else
			put_l4proto(f, r, family);
		snprintf(what, sizeof(what), "%s sport", l4);
		if (r->sport.n)
			put_ranges(f, what, r->sport.v, r->sport.n);
		snprintf(what, sizeof(what), "%s dport", l4);
		if (r->dport.n)
			put_ranges(f, what, r->dport.v, r->dport.n);
	} else if (r->icmp_type.n || r->icmp_code.n) {
		l4 = r->protos.v[0] == MOAT_PROTO_ICMP ? "icmp" : "icmpv6";
		snprintf(what, sizeof(what), "%s type", l4);
		if (r->icmp_type.n)
			put_ranges(f, what, r->icmp_type.v, r->icmp_type.n);
		snprintf(what, sizeof(what), "%s code", l4);
		if (r->icmp_code.n)
			put_ranges(f, what, r->icmp_code.v, r->icmp_code.n);
	} else if (r->protos.n && !r->tcp_flags_mask) {
		/* `tcp flags' below names the protocol itself */
		put_l4proto(f, r, family);
	}
	if (r->tcp_flags_mask)
		tr_nft_tcp_flags(f, r->tcp_flags_mask, r->tcp_flags_value);
}

/* One nft rule: @r as it applies to @family, or to both when 0. */
static void put_rule(FILE *f, const struct moat_rule *r, int family)
{
	bool src_all = false, dst_all = false;
	size_t ns = 0, nd = 0;

	fputs("\t\t", f);
	if (family) {
		ns = tr_prefixes_in(r->src.v, r->src.n, family, &src_all);
		nd = tr_prefixes_in(r->dst.v, r->dst.n, family, &dst_all);
		/*
		 * A /0 in a list leaves the IP version as its only
		 * condition; addresses and `icmp type' name it themselves.
		 */
		if (!(ns && !src_all) && !(nd && !dst_all) && !r->icmp_type.n &&
		    !r->icmp_code.n)
			fprintf(f, "meta protocol %s ",
				family == AF_INET ? "ip" : "ip6");
		if (ns && !src_all)
			put_addrs(f, "saddr", r->src.v, r->src.n, family, ns);
		if (nd && !dst_all)
			put_addrs(f, "daddr", r->dst.v, r->dst.n, family, nd);
	}
	put_transport(f, r, family);
	fprintf(f, "counter %s\n", r->action == MOAT_DROP ? "drop" : "accept");
}

static void put_rules(FILE *f, const struct moat_ruleset *rs,
		      const char *ifname, bool frags)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];

		if (!tr_rule_active(r, ifname) ||
		    (frags && tr_rule_needs_l4(r)))
			continue;
		if (tr_rule_neutral(r)) {
			put_rule(f, r, 0);
			continue;
		}
		for (size_t k = 0; k < TR_NELEM(families); k++)
			if (tr_rule_in_family(r, families[k]))
				put_rule(f, r, families[k]);
	}
}

int tr_nft_netdev(const struct moat_ruleset *rs, const char *ifname, FILE *out)
{
	if (!tr_ifname_ok(ifname))
		return -EINVAL;
	fputs("table netdev " TR_NFT_NETDEV_TABLE " {\n"
	      "\t# later fragments: the rules without ports, ICMP or flags\n"
	      "\tchain frags {\n",
	      out);
	put_rules(out, rs, ifname, true);
	tr_nft_tail(out);
	fprintf(out,
		"\t}\n"
		"\tchain ingress {\n"
		"\t\ttype filter hook ingress device \"%s\" priority 0; "
		"policy %s;\n"
		"\t\t# ARP and every frame that is not IPv4 or IPv6 pass, a\n"
		"\t\t# fixed verdict of moat's\n"
		"\t\tmeta protocol != { ip, ip6 } counter accept\n",
		ifname, rs->policy == MOAT_DROP ? "drop" : "accept");
	tr_nft_head(out);
	put_rules(out, rs, ifname, false);
	tr_nft_tail(out);
	fputs("\t}\n}\n", out);
	return ferror(out) ? -EIO : 0;
}
