// SPDX-License-Identifier: GPL-2.0-only
/*
 * iptables: the raw table's PREROUTING chain, before conntrack and
 * routing, which is where iptables drops early.  IPv4 rules go to
 * iptables-restore and IPv6 rules to ip6tables-restore; a rule that
 * matches both versions appears in both, and the policy is the chain
 * policy of both.  ARP and other non-IP frames never reach these
 * chains, so they pass as in moat; neighbour discovery is accepted
 * before any rule.
 *
 * iptables has no lists: a rule becomes one iptables rule per term (one
 * item of each list), in order, which keeps first-match.  A port list
 * stays one rule with -m multiport when it fits its 15 slots (a range
 * takes two).  --icmp-type takes one type and one code, so type and code
 * ranges are spelled out.  Later fragments, which moat's ports, ICMP
 * fields and flags never match, take a chain of their own (put_table).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "translate-int.h"

#define MULTIPORT_SLOTS 15 /* XT_MULTI_PORTS */

/* The chains for later fragments (IPv4 and IPv6) and for IPv6 fragments. */
#define TR_IPT_FRAGS "MOAT-LATER-FRAGS"
#define TR_IPT_FRAGMENT "MOAT-FRAGMENT"

static const char *const flag_names[8] = { "FIN", "SYN", "RST", "PSH",
					   "ACK", "URG", "ECE", "CWR" };

const char *tr_iptables_cannot(const struct moat_ruleset *rs)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];

		/* libxt_tcp's flag names stop at URG */
		if (r->tcp_flags_mask & (MOAT_TCP_ECE | MOAT_TCP_CWR))
			return tr_reason(
				"iptables' --tcp-flags knows FIN SYN RST PSH ACK "
				"URG only: '%s' tests ece or cwr",
				r->name);
		for (size_t k = 0; k < r->protos.n; k++)
			if (r->protos.v[k] == 0)
				return tr_reason(
					"iptables reads -p 0 as any protocol: "
					"'%s' names protocol 0",
					r->name);
	}
	return NULL;
}

static void put_flags(FILE *f, uint8_t bits)
{
	int k = 0;

	if (!bits)
		fputs("NONE", f);
	for (int b = 0; b < 8; b++)
		if (bits & (1u << b))
			fprintf(f, "%s%s", k++ ? "," : "", flag_names[b]);
}

/*
 * The ways a port list is written: one --sport, one -m multiport, or
 * (too long for multiport) one rule per item.
 */
struct ports {
	const struct moat_range *v;
	size_t n;
	bool multi;
};

static size_t port_ways(const struct moat_range *v, size_t n)
{
	size_t slots = 0;

	for (size_t i = 0; i < n; i++)
		slots += v[i].lo == v[i].hi ? 1 : 2;
	return n > 1 && slots > MULTIPORT_SLOTS ? n : 1;
}

static struct ports port_way(const struct moat_range *v, size_t n, size_t k)
{
	if (port_ways(v, n) > 1)
		return (struct ports){ &v[k], 1, false };
	return (struct ports){ v, n, n > 1 };
}

static void put_multiport(FILE *f, const char *what, const struct ports *p)
{
	fprintf(f, " -m multiport --%s ", what);
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			fputc(',', f);
		tr_range_put(f, &p->v[i], ':');
	}
}

/* Everything after the protocol, for one term of ports. */
static void put_ports(FILE *f, const char *proto, const struct moat_rule *r,
		      const struct ports *sp, const struct ports *dp)
{
	bool single = (sp->n == 1 && !sp->multi) || (dp->n == 1 && !dp->multi);

	if (sp->multi)
		put_multiport(f, "sports", sp);
	if (dp->multi)
		put_multiport(f, "dports", dp);
	if (single || r->tcp_flags_mask)
		fprintf(f, " -m %s", proto);
	if (sp->n == 1 && !sp->multi) {
		fputs(" --sport ", f);
		tr_range_put(f, sp->v, ':');
	}
	if (dp->n == 1 && !dp->multi) {
		fputs(" --dport ", f);
		tr_range_put(f, dp->v, ':');
	}
}

struct term_head {
	const char *chain;
	const char *src, *dst; /* NULL: not given */
	const char *proto; /* NULL: any */
};

static void put_head(FILE *f, const struct term_head *h)
{
	fprintf(f, "-A %s", h->chain);
	if (h->src)
		fprintf(f, " -s %s", h->src);
	if (h->dst)
		fprintf(f, " -d %s", h->dst);
	if (h->proto)
		fprintf(f, " -p %s", h->proto);
}

static void put_tail(FILE *f, const struct moat_rule *r)
{
	if (r->tcp_flags_mask) {
		fputs(" --tcp-flags ", f);
		put_flags(f, r->tcp_flags_mask);
		fputc(' ', f);
		put_flags(f, r->tcp_flags_value);
	}
	fprintf(f, " -j %s\n", r->action == MOAT_DROP ? "DROP" : "ACCEPT");
}

/* One term per type and code in the ranges; a code alone takes every type. */
static void put_icmp_terms(FILE *f, const struct moat_rule *r, int family,
			   const struct term_head *h)
{
	const char *m = family == AF_INET ? "-m icmp --icmp-type" :
					    "-m icmp6 --icmpv6-type";
	struct moat_range all = { 0, 255 };
	const struct moat_range *tv = r->icmp_type.n ? r->icmp_type.v : &all;
	size_t tn = r->icmp_type.n ? r->icmp_type.n : 1;

	for (size_t i = 0; i < tn; i++) {
		for (unsigned int t = tv[i].lo; t <= tv[i].hi; t++) {
			if (!r->icmp_code.n) {
				put_head(f, h);
				fprintf(f, " %s %u", m, t);
				put_tail(f, r);
				continue;
			}
			for (size_t j = 0; j < r->icmp_code.n; j++) {
				const struct moat_range *c = &r->icmp_code.v[j];

				for (unsigned int k = c->lo; k <= c->hi; k++) {
					put_head(f, h);
					fprintf(f, " %s %u/%u", m, t, k);
					put_tail(f, r);
				}
			}
		}
	}
}

static void put_proto_terms(FILE *f, const struct moat_rule *r, int family,
			    struct term_head *h, uint8_t proto)
{
	char num[4];
	size_t ns = r->sport.n ? port_ways(r->sport.v, r->sport.n) : 1;
	size_t nd = r->dport.n ? port_ways(r->dport.v, r->dport.n) : 1;

	h->proto = tr_nft_proto(proto, num); /* iptables spells them alike */
	if (r->icmp_type.n || r->icmp_code.n) {
		put_icmp_terms(f, r, family, h);
		return;
	}
	for (size_t i = 0; i < ns; i++) {
		for (size_t j = 0; j < nd; j++) {
			struct ports sp = { 0 }, dp = { 0 };

			if (r->sport.n)
				sp = port_way(r->sport.v, r->sport.n, i);
			if (r->dport.n)
				dp = port_way(r->dport.v, r->dport.n, j);
			put_head(f, h);
			if (r->sport.n || r->dport.n || r->tcp_flags_mask)
				put_ports(f, h->proto, r, &sp, &dp);
			put_tail(f, r);
		}
	}
}

static void put_rule(FILE *f, const struct moat_rule *r, int family,
		     const char *chain)
{
	char sbuf[TR_PREFIX_STRLEN], dbuf[TR_PREFIX_STRLEN];
	bool sall = false, dall = false;
	size_t ns = tr_prefixes_in(r->src.v, r->src.n, family, &sall);
	size_t nd = tr_prefixes_in(r->dst.v, r->dst.n, family, &dall);
	/* a /0 among the items: the version is the only condition */
	size_t is_n = ns && !sall ? r->src.n : 1;
	size_t id_n = nd && !dall ? r->dst.n : 1;

	for (size_t is = 0; is < is_n; is++) {
		struct term_head h = { .chain = chain };

		if (ns && !sall) {
			if (r->src.v[is].family != family)
				continue;
			tr_prefix_str(&r->src.v[is], sbuf);
			h.src = sbuf;
		}
		for (size_t id = 0; id < id_n; id++) {
			if (nd && !dall) {
				if (r->dst.v[id].family != family)
					continue;
				tr_prefix_str(&r->dst.v[id], dbuf);
				h.dst = dbuf;
			}
			if (!r->protos.n) {
				put_head(f, &h);
				put_tail(f, r);
				continue;
			}
			for (size_t ip = 0; ip < r->protos.n; ip++)
				if (tr_proto_in_family(r->protos.v[ip], family))
					put_proto_terms(f, r, family, &h,
							r->protos.v[ip]);
		}
	}
}

static void put_rules(FILE *f, const struct moat_ruleset *rs,
		      const char *ifname, int family, const char *chain)
{
	bool frags = strcmp(chain, "PREROUTING");

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];

		if (tr_rule_active(r, ifname) && tr_rule_in_family(r, family) &&
		    !(frags && tr_rule_needs_l4(r)))
			put_rule(f, r, family, chain);
	}
}

/*
 * Later fragments go to a chain of their own before any rule reads a
 * transport header: on the nf_tables backend, --dport and friends
 * become nft payload expressions that read a later fragment's payload
 * as ports.  That chain holds the rules that need no transport header
 * and ends in the policy, so that no later fragment comes back.
 */
static int put_table(const struct moat_ruleset *rs, const char *ifname,
		     int family, FILE *out)
{
	const char *policy = rs->policy == MOAT_DROP ? "DROP" : "ACCEPT";

	if (!tr_ifname_ok(ifname) || tr_iptables_cannot(rs))
		return -EINVAL;
	fprintf(out,
		"*raw\n"
		":PREROUTING %s [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"%s"
		":" TR_IPT_FRAGS " - [0:0]\n"
		"# moat judges the interface it protects, no other\n"
		"-A PREROUTING ! -i %s -j ACCEPT\n"
		"# later fragments: the rules without ports, ICMP or flags\n",
		policy,
		family == AF_INET6 ? ":" TR_IPT_FRAGMENT " - [0:0]\n" : "",
		ifname);
	if (family == AF_INET) {
		fputs("-A PREROUTING -f -j " TR_IPT_FRAGS "\n", out);
	} else {
		fputs("-A PREROUTING -m frag -j " TR_IPT_FRAGMENT "\n"
		      "-A " TR_IPT_FRAGMENT " -m frag --fragfirst -j RETURN\n"
		      "-A " TR_IPT_FRAGMENT " -j " TR_IPT_FRAGS "\n"
		      "# neighbour discovery passes before any rule\n",
		      out);
		for (int t = 133; t <= 137; t++)
			fprintf(out,
				"-A PREROUTING -p ipv6-icmp -m icmp6 "
				"--icmpv6-type %d -j ACCEPT\n",
				t);
	}
	put_rules(out, rs, ifname, family, "PREROUTING");
	put_rules(out, rs, ifname, family, TR_IPT_FRAGS);
	fprintf(out, "-A " TR_IPT_FRAGS " -j %s\nCOMMIT\n", policy);
	return ferror(out) ? -EIO : 0;
}

int tr_iptables(const struct moat_ruleset *rs, const char *ifname, FILE *out)
{
	return put_table(rs, ifname, AF_INET, out);
}

int tr_ip6tables(const struct moat_ruleset *rs, const char *ifname, FILE *out)
{
	return put_table(rs, ifname, AF_INET6, out);
}
