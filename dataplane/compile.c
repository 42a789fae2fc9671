// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compiling a ruleset: expand each rule into terms (one item of each of its
 * lists), file every term under the index whose key it constrains most,
 * build the indexes, and lay out the generation.  docs/architecture.md
 * explains the shape and why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-int.h"

#define MOAT_TERMS_PER_RULE_MAX 65536u
#define MOAT_TERMS_MAX (4u << 20)
/* see struct lstore: 1,024 halves a 100,000-rule ruleset's terms */
#define MOAT_COPIES_MAX 1024
/*
 * Up to MOAT_SMALL_MAX terms of a family go into the program itself
 * (struct moat_layout's small4/small6): checking a handful of constant
 * terms costs less than any index probe.
 */

static const struct moat_prefix any_prefix;
static const struct moat_range any_range = { 0, 65535 };

struct expand {
	struct cterm *v;
	size_t n, cap;
};

static size_t count_or_one(size_t n)
{
	return n ? n : 1;
}

static bool fam_allowed(const struct moat_rule *r, int fam6)
{
	int af = fam6 ? AF_INET6 : AF_INET;
	size_t i;
	bool ok;

	for (ok = !r->src.n, i = 0; i < r->src.n; i++)
		ok |= r->src.v[i].family == af;
	if (!ok)
		return false;
	for (ok = !r->dst.n, i = 0; i < r->dst.n; i++)
		ok |= r->dst.v[i].family == af;
	return ok;
}

/*
 * Bits of a key that a term pins down: 32 for a /32, 16 for one port, 0
 * for a wildcard.  The term is filed where it pins the most.
 */
static unsigned range_bits(uint16_t lo, uint16_t hi)
{
	unsigned w = (unsigned)hi - lo + 1, b = 16;

	while (w > 1 && b) {
		w = (w + 1) / 2;
		b--;
	}
	return b;
}

/*
 * An IPv6 prefix length as the IPv4 one of a network of the same rank in
 * an address plan: a /32 allocation as an /8, a /48 site as a /16, a /64
 * subnet as a /24, a host as a host, and straight lines between.
 * Prefixes are compared with port ranges in these terms: a /32 holds as
 * many hosts as an IPv4 /0, but a ruleset names few of them, and many of
 * its rules name the same /32.
 */
static unsigned v6_rank(unsigned len)
{
	if (len <= 32)
		return len / 4;
	if (len <= 64)
		return (len - 16) / 2;
	return 24 + (len - 64) / 8;
}

/* How many bits of @home's key a term constrains: 0 for none. */
static unsigned home_bits(const struct cterm *t, int home)
{
	bool ports = (t->flags & MOAT_T_L4) && !(t->flags & MOAT_T_ANYPROTO);

	switch (home) {
	case MOAT_HOME_DST:
		return t->fam6 ? v6_rank(t->dst_len) : t->dst_len;
	case MOAT_HOME_SRC:
		return t->fam6 ? v6_rank(t->src_len) : t->src_len;
	case MOAT_HOME_DPORT:
		return ports ? range_bits(t->dp_lo, t->dp_hi) : 0;
	case MOAT_HOME_SPORT:
		return ports ? range_bits(t->sp_lo, t->sp_hi) : 0;
	}
	return 0;
}

int choose_home(const struct cterm *t, int after)
{
	unsigned best = 0, b;
	int home = MOAT_HOME_ANY, h;

	for (h = after + 1; h < MOAT_HOME_ANY; h++) {
		b = home_bits(t, h);
		if (b > best)
			best = b, home = h;
	}
	return home;
}

static int add_term(struct expand *x, const struct cterm *t)
{
	int err;

	if (x->n >= MOAT_TERMS_MAX)
		return -E2BIG;
	err = image_grow((void **)&x->v, &x->cap, x->n + 1, sizeof(*x->v));
	if (err)
		return err;
	x->v[x->n] = *t;
	x->v[x->n].home = (uint8_t)choose_home(t, -1);
	x->n++;
	return 0;
}

/* The ports (or ICMP type and code) part of a term, for one protocol. */
static int expand_l4(struct expand *x, const struct moat_rule *r,
		     struct cterm *t, int fam6)
{
	const struct moat_range *sv = &any_range, *dv = &any_range;
	size_t ns = 1, nd = 1, i, j;
	bool icmp = t->proto == (fam6 ? MOAT_PROTO_ICMPV6 : MOAT_PROTO_ICMP);
	int err;

	if (moat_proto_has_ports(t->proto) && !(t->flags & MOAT_T_ANYPROTO)) {
		if (r->sport.n)
			sv = r->sport.v, ns = r->sport.n;
		if (r->dport.n)
			dv = r->dport.v, nd = r->dport.n;
		if (r->sport.n || r->dport.n || r->tcp_flags_mask)
			t->flags |= MOAT_T_L4;
		if (t->proto == MOAT_PROTO_TCP) {
			t->tcp_mask = r->tcp_flags_mask;
			t->tcp_value = r->tcp_flags_value;
		}
	} else if (icmp) {
		if (r->icmp_type.n)
			sv = r->icmp_type.v, ns = r->icmp_type.n;
		if (r->icmp_code.n)
			dv = r->icmp_code.v, nd = r->icmp_code.n;
		if (r->icmp_type.n || r->icmp_code.n)
			t->flags |= MOAT_T_L4;
	} else if (r->sport.n || r->dport.n || r->tcp_flags_mask ||
		   r->icmp_type.n || r->icmp_code.n) {
		/* icmp in an IPv6 term, say: this protocol cannot match here */
		return 0;
	}
	for (i = 0; i < ns; i++) {
		for (j = 0; j < nd; j++) {
			t->sp_lo = sv[i].lo;
			t->sp_hi = sv[i].hi;
			t->dp_lo = dv[j].lo;
			t->dp_hi = dv[j].hi;
			err = add_term(x, t);
			if (err)
				return err;
		}
	}
	return 0;
}

static int iface_id(const struct moat_compile_opts *o, const char *name)
{
	int i;

	if (o->nifaces < 0)
		return 1; /* check mode: the host is not known */
	for (i = 0; i < o->nifaces; i++)
		if (!strcmp(o->ifnames[i], name))
			return i + 1;
	return 0;
}

static int expand_rule(struct expand *x, const struct moat_rule *r,
		       uint32_t rule, const struct moat_compile_opts *o,
		       struct moat_diags *d)
{
	size_t total = count_or_one(r->protos.n) * count_or_one(r->src.n) *
		       count_or_one(r->dst.n) * count_or_one(r->sport.n) *
		       count_or_one(r->dport.n) * count_or_one(r->icmp_type.n) *
		       count_or_one(r->icmp_code.n) * count_or_one(r->ifaces.n);
	size_t is, id, ip, ii;
	int fam6, err, ifc;

	if (total > MOAT_TERMS_PER_RULE_MAX)
		return moat_diag_add(d, MOAT_ERROR, r->line, r->col,
				     "rule expands into %zu terms, more than %u (its lists multiply); split it: '%s'",
				     total, MOAT_TERMS_PER_RULE_MAX, r->name);

	for (fam6 = 0; fam6 < 2; fam6++) {
		int af = fam6 ? AF_INET6 : AF_INET;

		if (!fam_allowed(r, fam6))
			continue;
		for (is = 0; is < count_or_one(r->src.n); is++) {
			const struct moat_prefix *s = r->src.n ? &r->src.v[is] : &any_prefix;

			if (r->src.n && s->family != af)
				continue;
			for (id = 0; id < count_or_one(r->dst.n); id++) {
				const struct moat_prefix *t = r->dst.n ? &r->dst.v[id] : &any_prefix;

				if (r->dst.n && t->family != af)
					continue;
				for (ii = 0; ii < count_or_one(r->ifaces.n); ii++) {
					ifc = 0;
					if (r->ifaces.n) {
						ifc = iface_id(o, r->ifaces.v[ii].name);
						if (!ifc)
							continue; /* warned once per rule below */
						if (ifc > (int)MOAT_IFACES_MAX)
							return moat_diag_add(d, MOAT_ERROR, r->line, r->col,
									     "rules can name only the first %u protected interfaces: '%s'",
									     MOAT_IFACES_MAX, r->ifaces.v[ii].name);
					}
					for (ip = 0; ip < count_or_one(r->protos.n); ip++) {
						struct cterm c = {
							.rule = rule,
							.fam6 = (uint8_t)fam6,
							.src_len = s->len,
							.dst_len = t->len,
							.iface = (uint8_t)ifc,
							.ct = r->ct,
						};

						memcpy(c.src, s->addr, 16);
						memcpy(c.dst, t->addr, 16);
						if (r->protos.n)
							c.proto = r->protos.v[ip];
						else
							c.flags = MOAT_T_ANYPROTO;
						/* icmp is IPv4's, icmpv6 IPv6's */
						if (r->protos.n &&
						    ((c.proto == MOAT_PROTO_ICMP && fam6) ||
						     (c.proto == MOAT_PROTO_ICMPV6 && !fam6)))
							continue;
						err = expand_l4(x, r, &c, fam6);
						if (err)
							return err;
					}
				}
			}
		}
	}
	for (ii = 0; ii < r->ifaces.n; ii++)
		if (!iface_id(o, r->ifaces.v[ii].name))
			moat_diag_add(d, MOAT_WARNING, r->line, r->col,
				      "interface is not protected here, so this part of the rule can never match: '%s'",
				      r->ifaces.v[ii].name);
	return 0;
}

static int pgroup_of(uint8_t proto)
{
	switch (proto) {
	case MOAT_PROTO_TCP:
		return MOAT_PG_TCP;
	case MOAT_PROTO_UDP:
		return MOAT_PG_UDP;
	case MOAT_PROTO_SCTP:
		return MOAT_PG_SCTP;
	case MOAT_PROTO_ICMP:
	case MOAT_PROTO_ICMPV6:
		return MOAT_PG_ICMP;
	}
	return -1;
}

/*
 * A family with few terms (after dropping the covered ones) is compiled
 * into the layout; its terms are then homed nowhere.
 */
static int build_small(struct moat_image *img, struct expand *x,
		       const uint32_t *verdicts)
{
	uint32_t *ids = malloc((x->n + 1) * sizeof(*ids));
	size_t n, i;
	int fam6;

	if (!ids)
		return -ENOMEM;
	for (fam6 = 0; fam6 < 2; fam6++) {
		for (n = 0, i = 0; i < x->n; i++)
			if (x->v[i].fam6 == fam6)
				ids[n++] = (uint32_t)i;
		n = lstore_prune(x->v, ids, n, MOAT_HOME_ANY);
		if (!n || n > MOAT_SMALL_MAX)
			continue;
		for (i = 0; i < n; i++) {
			const struct cterm *c = &x->v[ids[i]];

			if (fam6)
				image_term6(c, verdicts[c->rule], &img->layout.small6[i]);
			else
				image_small4(c, verdicts[c->rule],
					     &img->layout.small4[i]);
		}
		img->layout.nsmall[fam6] = (uint32_t)n;
		for (i = 0; i < x->n; i++)
			if (x->v[i].fam6 == fam6)
				x->v[i].home = MOAT_HOME_NONE;
	}
	free(ids);
	return 0;
}

/*
 * File each term in its home's index.  A trie may spill the terms of a
 * crowded address; they move on to their next home, which is built later.
 */
static int build_indexes(struct lstore *ls, struct expand *x,
			 struct moat_diags *d)
{
	struct moat_layout *L = &ls->img->layout;
	uint32_t *ids = malloc((x->n + 1) * sizeof(*ids));
	uint32_t *spill = malloc((x->n + 1) * sizeof(*spill));
	size_t n, i, nspill;
	int fam6, home, pg, err = 0;

	if (!ids || !spill) {
		free(ids);
		free(spill);
		return -ENOMEM;
	}
	for (fam6 = 0; fam6 < 2 && !err; fam6++) {
		for (home = MOAT_HOME_DST; home <= MOAT_HOME_ANY && !err; home++) {
			for (pg = 0; pg < MOAT_PG_MAX && !err; pg++) {
				/* only port homes are split by protocol group */
				if (pg && home != MOAT_HOME_DPORT && home != MOAT_HOME_SPORT)
					break;
				for (n = 0, i = 0; i < x->n; i++) {
					const struct cterm *t = &x->v[i];

					if (t->fam6 != fam6 || t->home != home)
						continue;
					if ((home == MOAT_HOME_DPORT || home == MOAT_HOME_SPORT) &&
					    pgroup_of(t->proto) != pg)
						continue;
					ids[n++] = (uint32_t)i;
				}
				if (!n)
					continue;
				ls->img->nhome[home] += (uint32_t)n;
				switch (home) {
				case MOAT_HOME_DST:
				case MOAT_HOME_SRC:
					err = trie_build(ls, fam6, home, ids, n,
							 &L->root[fam6][home == MOAT_HOME_DST],
							 spill, &nspill, d);
					for (i = 0; !err && i < nspill; i++) {
						struct cterm *t = &x->v[spill[i]];

						t->home = (uint8_t)choose_home(t, home);
					}
					if (!err)
						ls->img->nhome[home] -= (uint32_t)nspill;
					break;
				case MOAT_HOME_DPORT:
				case MOAT_HOME_SPORT:
					err = portidx_build(ls, fam6, home, pg, ids, n,
							    &L->ports[MOAT_PORT_TABLE(fam6, home == MOAT_HOME_DPORT, pg)],
							    d);
					break;
				default:
					n = lstore_prune(x->v, ids, n, home);
					err = lstore_put(ls, fam6, ids, n, &L->any[fam6]);
					if (err)
						moat_diag_add(d, MOAT_ERROR, 0, 0,
							      "over capacity: more than %u terms constrain no address or port, or none that an index can take",
							      MOAT_LIST_MAX);
				}
			}
		}
	}
	free(spill);
	free(ids);
	return err;
}

/* One bit per entry of a 65536-entry table: does it hold anything? */
static int add_filter(struct moat_image *img, const uint32_t *table,
		      uint32_t *off)
{
	__u64 *f = realloc(img->filter, (img->nfilter + 1024) * sizeof(*f));
	uint32_t i;

	if (!f)
		return -ENOMEM;
	img->filter = f;
	*off = (uint32_t)img->nfilter;
	f += img->nfilter;
	memset(f, 0, 1024 * sizeof(*f));
	for (i = 0; i < 65536; i++)
		if (table[i])
			f[i >> 6] |= 1ull << (i & 63);
	img->nfilter += 1024;
	return 0;
}

static int build_filters(struct moat_image *img)
{
	struct moat_layout *L = &img->layout;
	int fam6, dir, t, err;

	for (fam6 = 0; fam6 < 2; fam6++)
		for (dir = 0; dir < 2; dir++) {
			if (L->root[fam6][dir] == MOAT_ABSENT)
				continue;
			err = add_filter(img, img->trie + L->root[fam6][dir],
					 &L->root_filter[fam6][dir]);
			if (err)
				return err;
		}
	for (t = 0; t < MOAT_PORT_TABLES; t++) {
		if (L->ports[t] == MOAT_ABSENT)
			continue;
		err = add_filter(img, img->ports + L->ports[t], &L->ports_filter[t]);
		if (err)
			return err;
	}
	return 0;
}

/* No trie, port table or filter yet: each is MOAT_ABSENT. */
static void indexes_absent(struct moat_layout *L)
{
	memset(L->root, 0xff, sizeof(L->root));
	memset(L->ports, 0xff, sizeof(L->ports));
	memset(L->root_filter, 0xff, sizeof(L->root_filter));
	memset(L->ports_filter, 0xff, sizeof(L->ports_filter));
}

/*
 * Index the terms: the small families into the layout, the rest into
 * their homes, and the filters over the indexes.
 */
static int build(struct moat_image *img, struct expand *x,
		 const uint32_t *verdicts, uint64_t copies_max,
		 struct moat_diags *d)
{
	struct lstore ls;
	size_t i;
	int err;

	for (i = 0; i < x->n; i++)
		x->v[i].home = (uint8_t)choose_home(&x->v[i], -1);
	err = lstore_init(&ls, img, x->v, verdicts);
	if (err)
		return err;
	ls.copies_max = copies_max;
	err = build_small(img, x, verdicts);
	if (!err)
		err = build_indexes(&ls, x, d);
	lstore_fini(&ls);
	if (!err)
		err = build_filters(img);
	return err;
}

/* Undo build(): the image as it was before. */
static void clear_indexes(struct moat_image *img)
{
	struct moat_layout *L = &img->layout;

	free(img->trie);
	free(img->ports);
	free(img->term4);
	free(img->term6);
	free(img->filter);
	img->trie = img->ports = NULL;
	img->term4 = NULL;
	img->term6 = NULL;
	img->filter = NULL;
	img->ntrie = img->nports = img->nterm4 = img->nterm6 = img->nfilter = 0;
	img->nlists = img->max_list = 0;
	memset(img->nhome, 0, sizeof(img->nhome));
	indexes_absent(L);
	memset(L->any, 0, sizeof(L->any));
	memset(L->nsmall, 0, sizeof(L->nsmall));
}

bool moat_rule_has_ext(const struct moat_ruleset *rs, const struct moat_rule *r)
{
	return r->limit.rate || r->audit || r->log_every ||
	       (rs->audit && r->action == MOAT_DROP);
}

/* A rule's options as the program reads them (bpf/moat_kern_user.h). */
static void build_ext(const struct moat_ruleset *rs, const struct moat_rule *r,
		      uint32_t over_slot, struct moat_rule_ext *x)
{
	const struct moat_limit *l = &r->limit;

	memset(x, 0, sizeof(*x));
	if (l->rate) {
		uint64_t period = (uint64_t)l->period_s * 1000000000ull;
		uint64_t burst = l->burst;

		x->flags |= MOAT_X_LIMIT;
		if (l->bytes) {
			/* bytes: ns a byte, in 1/65536 ns */
			x->flags |= MOAT_X_BYTES;
			x->cost_ns = (uint64_t)(((unsigned __int128)period << 16) / l->rate);
			if (!burst) /* a second's worth, and one full frame at least */
				burst = l->rate / l->period_s > 1500 ? l->rate / l->period_s : 1500;
			x->tau_ns = (uint64_t)(((unsigned __int128)burst * x->cost_ns) >> 16);
		} else {
			x->cost_ns = period / l->rate ? period / l->rate : 1;
			if (!burst) /* a second's worth, one packet at least */
				burst = l->rate / l->period_s ? l->rate / l->period_s : 1;
			x->tau_ns = (burst - 1) * x->cost_ns;
		}
		if (l->per_source)
			x->flags |= MOAT_X_PER_SOURCE;
		if (l->over_allow)
			x->flags |= MOAT_X_OVER_ALLOW;
		x->over_slot = over_slot;
	}
	if (r->audit || (rs->audit && r->action == MOAT_DROP) ||
	    (rs->audit && l->rate && !l->over_allow))
		x->flags |= MOAT_X_AUDIT;
	if (r->log_every) {
		x->flags |= MOAT_X_LOG;
		x->log_every = r->log_every;
	}
}

int moat_compile(const struct moat_ruleset *rs,
		 const struct moat_compile_opts *o, struct moat_image *img,
		 struct moat_diags *d)
{
	static const struct moat_compile_opts none = { .nifaces = -1 };
	struct moat_diags first = { 0 };
	struct expand x = { 0 };
	uint32_t *verdicts = NULL;
	size_t i;
	int err;

	if (!o)
		o = &none;
	memset(img, 0, sizeof(*img));
	indexes_absent(&img->layout);
	if (rs->nrules > MOAT_RULES_MAX)
		return moat_diag_add(d, MOAT_ERROR, 0, 0,
				     "over capacity: %zu rules, at most %u",
				     rs->nrules, MOAT_RULES_MAX), -E2BIG;

	for (i = 0; i < rs->nrules && o->no_conntrack; i++)
		if (rs->rules[i].ct)
			moat_diag_add(d, MOAT_ERROR, rs->rules[i].line, rs->rules[i].col,
				      "rule matches conntrack state, but this data plane does not track flows (conntrack is off): '%s'",
				      rs->rules[i].name);
	if (d->nerrors) {
		err = -EINVAL;
		goto fail;
	}
	for (i = 0; i < rs->nrules; i++) {
		err = expand_rule(&x, &rs->rules[i], (uint32_t)i, o, d);
		if (err == -E2BIG && !d->nerrors)
			moat_diag_add(d, MOAT_ERROR, rs->rules[i].line, rs->rules[i].col,
				      "over capacity: the ruleset expands into more than %u terms at rule '%s'",
				      MOAT_TERMS_MAX, rs->rules[i].name);
		if (err)
			goto fail;
	}
	img->nterms = (uint32_t)x.n;
	for (i = 0; i < x.n; i++)
		img->nterms_fam[x.v[i].fam6]++;

	verdicts = malloc((rs->nrules + 1) * sizeof(*verdicts));
	if (!verdicts) {
		err = -ENOMEM;
		goto fail;
	}
	img->nrules = rs->nrules;
	for (i = 0; i < rs->nrules; i++) {
		uint32_t slot = o->slots ? o->slots[i] : MOAT_SLOT_FIRST_RULE + (uint32_t)i;

		verdicts[i] = slot | (rs->rules[i].action == MOAT_DROP ? MOAT_VERDICT_DROP : 0);
		if (!moat_rule_has_ext(rs, &rs->rules[i]))
			continue;
		verdicts[i] |= MOAT_VERDICT_EXT;
		if (!img->rulex) {
			img->rulex = calloc(rs->nrules, sizeof(*img->rulex));
			if (!img->rulex) {
				err = -ENOMEM;
				goto fail;
			}
		}
		build_ext(rs, &rs->rules[i], o->over_slots ? o->over_slots[i] : 0,
			  &img->rulex[i]);
		img->limited |= rs->rules[i].limit.rate != 0;
		img->per_source |= rs->rules[i].limit.per_source;
	}
	err = build(img, &x, verdicts, MOAT_COPIES_MAX, &first);
	if (err == -E2BIG) {
		/*
		 * The terms that the copy limit sent on crowd another index:
		 * build again with every term where it fits best.
		 */
		clear_indexes(img);
		err = build(img, &x, verdicts, 0, d);
	} else {
		for (i = 0; i < first.n; i++)
			moat_diag_add(d, first.v[i].severity, first.v[i].line,
				      first.v[i].col, "%s", first.v[i].msg);
	}
	if (err)
		goto fail;
	img->layout.max_list = img->max_list;
	img->layout.policy_drop = rs->policy == MOAT_DROP;
	img->layout.policy_slot = MOAT_SLOT_POLICY;
	img->layout.has_ext = img->rulex != NULL;
	img->layout.audit = rs->audit;
	{
		uint32_t rate = o->log_rate ? o->log_rate : MOAT_LOG_RATE_DEFAULT;

		img->layout.log_cost_ns = 1000000000ull / rate;
		img->layout.log_tau_ns = (MOAT_LOG_BURST - 1) * img->layout.log_cost_ns;
	}
	img->layout.ct = !o->no_conntrack;
	img->layout.ct_pass = img->layout.ct && !rs->established_classify;
	for (i = 0; i < x.n && !x.v[i].ct; i++)
		;
	img->layout.ct_rules = i < x.n;
	/* interface matching costs every packet a little: only when used */
	for (i = 0; i < x.n && !x.v[i].iface; i++)
		;
	if (i < x.n && o->nifaces > 0) {
		for (i = 0; i < (size_t)o->nifaces && i < MOAT_IFACES_MAX; i++)
			img->layout.ifindex[i] = o->ifindex ? o->ifindex[i] : 0;
		img->layout.nifaces = (uint32_t)i;
	}
	free(verdicts);
	free(x.v);
	moat_diags_free(&first);
	return 0;
fail:
	free(verdicts);
	free(x.v);
	moat_diags_free(&first);
	moat_image_free(img);
	if (err == -ENOMEM && !d->nerrors)
		moat_diag_add(d, MOAT_ERROR, 0, 0, "out of memory while compiling");
	return err;
}
