// SPDX-License-Identifier: GPL-2.0-only
/*
 * nftables as an expert writes it for a large ruleset: an inet table
 * whose chain looks packets up in sets instead of walking rules.
 *
 * The hook.  The host's firewall drops before the stack spends anything
 * on a packet, as moat does in XDP: prerouting at priority raw (-300),
 * before conntrack and routing, where iptables' raw table sits.  The
 * input hook would see only packets routed to a local address, after
 * conntrack; moat-bench's frames are addressed to the host's link
 * address but to ClassBench's destinations, which no host owns.  Only
 * @ifname is judged: moat protects that interface and no other.
 *
 * The grouping.  Rules are cut into runs of consecutive rules with the
 * same action.  Within a run order does not matter: whichever of its
 * rules matches first, the verdict is the same, and no rule outside the
 * run comes between them.  So a run is the union of its rules' terms
 * (one item of each list), and a term is one element of a concatenated
 * set, e.g. `ip saddr . ip daddr . meta l4proto . th sport . th dport'.
 * Terms are grouped by shape, the key they need:
 *
 *   addr   no protocol: saddr . daddr
 *   proto  a protocol without ports or ICMP fields: . meta l4proto
 *   ports  ports: . meta l4proto . th sport . th dport
 *   icmp   type or code: saddr . daddr . icmp type . icmp code
 *
 * per IP version and per TCP flags test (which stays a plain expression
 * in front of the lookup); a rule without addresses shares one set
 * between the versions.  A field the rule does not give is filled with
 * its whole range (an address /0 of the version, ports 0-65535, type
 * and code 0-255): the same condition, since the shape already requires
 * what the field needs (a port header for ports; later fragments, which
 * have none, never reach these lookups: below).  Runs stay in order, so
 * the first match between runs is kept.
 *
 * The sets.  An interval set with concatenations (pipapo) refuses an
 * element that overlaps one it holds, and ClassBench-like rules overlap
 * on purpose: sets-disjoint.c spreads a shape's terms over as many sets
 * as it takes, each set one more lookup in the chain.  A set's key
 * leaves out the fields all its elements leave whole, and a set of one
 * element is written as the plain rule it is.
 *
 * Later fragments, which nft would read ports from, go to a chain of
 * their own with the lookups of the shapes without transport fields
 * (translate-nft.c says why).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sets.h"
#include "translate-int.h"

static const char *const kind_names[] = { "addr", "proto", "ports", "icmp" };

/*
 * The fields of a set's key: those of its shape, less those every
 * element of the set leaves whole (an expert writes `th dport', not
 * `ip saddr . ip daddr . meta l4proto . th sport . th dport' with
 * wildcards around it).
 */
enum field { F_SRC, F_DST, F_PROTO, F_A, F_B, F_N };

struct key {
	bool on[F_N];
};

static struct key key_of(const struct shape *s, uint32_t color)
{
	uint16_t top = s->kind == K_ICMP ? 255 : 65535;
	bool ab = s->kind == K_PORTS || s->kind == K_ICMP;
	struct key k = { 0 };

	for (size_t i = 0; i < s->n; i++) {
		const struct term *t = &s->v[i];

		if (t->color != color)
			continue;
		k.on[F_SRC] |= t->src.len != 0;
		k.on[F_DST] |= t->dst.len != 0;
		k.on[F_A] |= ab && (t->a.lo != 0 || t->a.hi != top);
		k.on[F_B] |= ab && (t->b.lo != 0 || t->b.hi != top);
	}
	/* with TCP flags, `tcp flags' says the protocol already */
	k.on[F_PROTO] = (s->kind == K_PROTO || s->kind == K_PORTS) && !s->mask;
	return k;
}

static const char *field_name(const struct shape *s, enum field f)
{
	bool v4 = s->family == AF_INET;

	switch (f) {
	case F_SRC:
		return v4 ? "ip saddr" : "ip6 saddr";
	case F_DST:
		return v4 ? "ip daddr" : "ip6 daddr";
	case F_PROTO:
		return "meta l4proto";
	case F_A:
		return s->kind == K_PORTS ? "th sport" :
		       v4		  ? "icmp type" :
					    "icmpv6 type";
	default:
		return s->kind == K_PORTS ? "th dport" :
		       v4		  ? "icmp code" :
					    "icmpv6 code";
	}
}

static int key_fields(const struct key *k)
{
	int n = 0;

	for (int i = 0; i < F_N; i++)
		n += k->on[i];
	return n;
}

/* The key as nft writes it; returns the number of fields. */
static int put_key(FILE *f, const struct shape *s, const struct key *k)
{
	int n = 0;

	for (int i = 0; i < F_N; i++)
		if (k->on[i])
			fprintf(f, "%s%s", n++ ? " . " : "",
				field_name(s, (enum field)i));
	return n;
}

static bool term_exact(const struct shape *s, const struct key *k,
		       const struct term *t)
{
	unsigned int full = s->family == AF_INET ? 32 : 128;

	return (!k->on[F_SRC] || t->src.len == full) &&
	       (!k->on[F_DST] || t->dst.len == full) &&
	       (!k->on[F_A] || t->a.lo == t->a.hi) &&
	       (!k->on[F_B] || t->b.lo == t->b.hi);
}

/*
 * A term as a set element ("10.0.0.0/8 . tcp . 80"), or with @names as
 * plain expressions ("ip saddr 10.0.0.0/8 meta l4proto tcp th dport 80").
 */
static void put_element(FILE *f, const struct shape *s, const struct key *k,
			const struct term *t, bool names)
{
	char buf[TR_PREFIX_STRLEN], num[4];
	const char *sep = "";

	for (int i = 0; i < F_N; i++) {
		if (!k->on[i])
			continue;
		fputs(sep, f);
		sep = names ? " " : " . ";
		if (names)
			fprintf(f, "%s ", field_name(s, (enum field)i));
		switch ((enum field)i) {
		case F_SRC:
		case F_DST:
			tr_prefix_str(i == F_SRC ? &t->src : &t->dst, buf);
			fputs(buf, f);
			break;
		case F_PROTO:
			fputs(tr_nft_proto(t->proto, num), f);
			break;
		default:
			tr_range_put(f, i == F_A ? &t->a : &t->b, '-');
			break;
		}
	}
}

static void set_name(char *buf, size_t size, size_t run, const struct shape *s,
		     uint32_t color)
{
	char flags[16] = "";

	if (s->mask)
		snprintf(flags, sizeof(flags), "_f%02x%02x", s->mask, s->value);
	snprintf(buf, size, "run%zu_%s%s%s_%u", run,
		 s->family == AF_INET ? "ip_" :
		 s->family	      ? "ip6_" :
					"",
		 kind_names[s->kind], flags, color);
}

static void put_set(FILE *sets, const struct shape *s, const struct key *k,
		    const char *name, uint32_t color)
{
	bool interval = false;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].color == color && !term_exact(s, k, &s->v[i]))
			interval = true;
	fprintf(sets, "\tset %s {\n\t\ttypeof ", name);
	put_key(sets, s, k);
	fprintf(sets, "\n%s\t\telements = {",
		interval ? "\t\tflags interval\n" : "");
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].color != color)
			continue;
		fputs(n++ ? ",\n\t\t\t" : "\n\t\t\t", sets);
		put_element(sets, s, k, &s->v[i], false);
	}
	fputs("\n\t\t}\n\t}\n", sets);
}

/*
 * The lookup of a set, or, for a set of one element (@one), the plain
 * rule an expert writes instead.  Without an address in the key, the
 * IP version is said on its own (ICMP fields say it themselves);
 * without any field, it is all there is.
 */
static void put_lookup(FILE *f, const struct shape *s, const struct key *k,
		       const char *name, const struct term *one,
		       const char *verdict)
{
	fputs("\t\t", f);
	if (s->family && !k->on[F_SRC] && !k->on[F_DST] && s->kind != K_ICMP)
		fprintf(f, "meta nfproto %s ",
			s->family == AF_INET ? "ipv4" : "ipv6");
	if (s->mask)
		tr_nft_tcp_flags(f, s->mask, s->value);
	if (key_fields(k) && one) {
		put_element(f, s, k, one, true);
		fputc(' ', f);
	} else if (key_fields(k)) {
		put_key(f, s, k);
		fprintf(f, " @%s ", name);
	}
	fprintf(f, "counter %s\n", verdict);
}

/* The only term of set @color, or NULL when it has several. */
static const struct term *only_term(const struct shape *s, uint32_t color)
{
	const struct term *one = NULL;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].color != color)
			continue;
		if (one)
			return NULL;
		one = &s->v[i];
	}
	return one;
}

static void put_comment(FILE *f, const struct moat_ruleset *rs,
			const struct run *run, const char *verdict)
{
	fprintf(f, "\t\t# %s %s", verdict, rs->rules[run->first].name);
	if (run->last != run->first)
		fprintf(f, " .. %s", rs->rules[run->last].name);
	fputc('\n', f);
}

static int put_run(FILE *sets, FILE *chain, FILE *frags,
		   const struct moat_ruleset *rs, struct run *run, size_t nrun)
{
	const struct moat_rule *first = &rs->rules[run->first];
	const char *verdict = first->action == MOAT_DROP ? "drop" : "accept";

	put_comment(chain, rs, run, verdict);
	put_comment(frags, rs, run, verdict);
	for (size_t i = 0; i < run->n; i++) {
		struct shape *s = &run->shapes[i];
		long ncolors = sets_disjoint(s);
		char name[64];

		if (ncolors < 0)
			return (int)ncolors;
		for (uint32_t c = 0; c < (uint32_t)ncolors; c++) {
			struct key k = key_of(s, c);
			const struct term *one = only_term(s, c);

			set_name(name, sizeof(name), nrun, s, c);
			if (key_fields(&k) && !one)
				put_set(sets, s, &k, name, c);
			put_lookup(chain, s, &k, name, one, verdict);
			/* the shapes a later fragment can match */
			if ((s->kind == K_ADDR || s->kind == K_PROTO) &&
			    !s->mask)
				put_lookup(frags, s, &k, name, one, verdict);
		}
	}
	return 0;
}

int tr_nft_sets(const struct moat_ruleset *rs, const char *ifname, FILE *out)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char *chain_text = NULL, *sets_text = NULL, *frags_text = NULL;
	size_t chain_len = 0, sets_len = 0, frags_len = 0, nrun = 0;
	FILE *chain = NULL, *sets = NULL, *frags = NULL;
	struct run run = { 0 };
	int ret = -ENOMEM;

	if (!tr_ifname_ok(ifname))
		return -EINVAL;
	chain = open_memstream(&chain_text, &chain_len);
	sets = open_memstream(&sets_text, &sets_len);
	frags = open_memstream(&frags_text, &frags_len);
	if (!chain || !sets || !frags)
		goto out;

	ret = 0;
	for (size_t i = 0; !ret && i <= rs->nrules; i++) {
		const struct moat_rule *r =
			i < rs->nrules ? &rs->rules[i] : NULL;

		if (r && !tr_rule_active(r, ifname))
			continue;
		/* a run ends where the action changes, and at the end */
		if (run.open &&
		    (!r || r->action != rs->rules[run.first].action)) {
			ret = put_run(sets, chain, frags, rs, &run, ++nrun);
			sets_run_free(&run);
		}
		if (!r || ret)
			continue;
		if (!run.open)
			run.first = i;
		run.open = true;
		run.last = i;
		/* a rule without addresses shares its sets between versions */
		if (tr_rule_neutral(r)) {
			ret = sets_add_rule(&run, r, 0);
			continue;
		}
		for (size_t k = 0; !ret && k < TR_NELEM(families); k++)
			if (tr_rule_in_family(r, families[k]))
				ret = sets_add_rule(&run, r, families[k]);
	}
	if (ret)
		goto out;
	if (fflush(chain) || fflush(sets) || fflush(frags)) {
		ret = -ENOMEM;
		goto out;
	}

	fprintf(out, "table inet " TR_NFT_SETS_TABLE " {\n%s", sets_text);
	fprintf(out,
		"\t# later fragments: the sets without ports, ICMP or flags\n"
		"\tchain frags {\n%s",
		frags_text);
	tr_nft_tail(out);
	fputs("\t}\n", out);
	fprintf(out,
		"\tchain prerouting {\n"
		"\t\ttype filter hook prerouting priority raw; policy %s;\n"
		"\t\t# moat judges the interface it protects, no other\n"
		"\t\tiifname != \"%s\" accept\n"
		"\t\t# (ARP and other frames that are not IP, which moat\n"
		"\t\t# passes, never reach an inet chain)\n",
		rs->policy == MOAT_DROP ? "drop" : "accept", ifname);
	tr_nft_head(out);
	fputs(chain_text, out);
	tr_nft_tail(out);
	fputs("\t}\n}\n", out);
	ret = ferror(out) ? -EIO : 0;
out:
	sets_run_free(&run);
	if (chain)
		fclose(chain);
	if (sets)
		fclose(sets);
	if (frags)
		fclose(frags);
	free(chain_text);
	free(sets_text);
	free(frags_text);
	return ret;
}
