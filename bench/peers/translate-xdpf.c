// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp-filter (xdp-tools): what it can say, and the commands that say it.
 *
 * xdp-filter is not a rule list.  It keeps three deny (or allow) lists,
 * each looked up on its own: ports, IPv4 and IPv6 addresses (and MAC
 * addresses, which moat has no word for).  An entry holds flags, and a
 * packet hits it when its value is in the list with the flags of what
 * it is: `port 53 -m dst -p udp' drops UDP to port 53.  So it expresses
 * a moat ruleset only when:
 *
 *  - the policy is allow.  Its deny mode (policy drop, lists of what is
 *    allowed) also drops ARP, neighbour discovery and every non-IP
 *    frame, which moat always passes;
 *  - every rule is a drop, since there is no order between the lists:
 *    an allow rule would have to win over a later drop.  Allow rules
 *    after the last drop change nothing under policy allow and are left
 *    out;
 *  - each rule tests one field: tcp and/or udp with either sport or
 *    dport (ports and ranges, each port one entry), or either from or to
 *    with whole addresses (/32, /128), no protocol.  No prefixes, no
 *    protocol alone, no ICMP, no TCP flags, no sctp, no `in' (its lists
 *    are shared by every interface it is loaded on);
 *  - for each port, the directions and protocols asked for form a full
 *    product: one entry holds directions and protocols as two sets of
 *    flags, so `tcp dport 53' and `udp sport 53' together would also
 *    drop udp dport 53 and tcp sport 53;
 *  - at most 10,000 addresses of each version (the size of its maps).
 *
 * Where it reads frames differently from moat, no command changes it,
 * so these are accepted and stated rather than refused:
 *
 *  - with an address list loaded, it also checks the sender and target
 *    of ARP and the target of neighbour solicitations and
 *    advertisements, and the addresses of neighbour discovery packets,
 *    all of which moat passes before any rule;
 *  - it reads ports from any IPv4 packet whose protocol is TCP or UDP,
 *    a later fragment's payload included, and does not walk IPv6
 *    extension headers (a port behind one is not seen);
 *  - a frame it cannot parse is aborted (dropped); one moat calls
 *    malformed for a length it does not check is passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "translate-int.h"

#define XDPF_ADDRS_MAX 10000 /* max_entries of filter_ipv4 and filter_ipv6 */

/* The four things a port entry can be asked to match. */
#define P_SRC_TCP 0x1
#define P_SRC_UDP 0x2
#define P_DST_TCP 0x4
#define P_DST_UDP 0x8

#define M_SRC 0x1
#define M_DST 0x2

static const char *rule_shape(const struct moat_rule *r)
{
	bool tcp_udp = r->protos.n > 0;

	if (r->ifaces.n)
		return tr_reason("xdp-filter's lists apply on every interface "
				 "it is loaded on: '%s' names interfaces",
				 r->name);
	if (r->tcp_flags_mask || r->icmp_type.n || r->icmp_code.n)
		return tr_reason("xdp-filter matches ports and addresses only: "
				 "'%s' tests %s",
				 r->name,
				 r->tcp_flags_mask ? "tcp flags" : "icmp");
	for (size_t i = 0; i < r->protos.n; i++)
		if (r->protos.v[i] != MOAT_PROTO_TCP &&
		    r->protos.v[i] != MOAT_PROTO_UDP)
			tcp_udp = false;
	if (r->src.n || r->dst.n) {
		const struct moat_prefix *v = r->src.n ? r->src.v : r->dst.v;
		size_t n = r->src.n ? r->src.n : r->dst.n;

		if ((r->src.n && r->dst.n) || r->protos.n)
			return tr_reason("xdp-filter matches one field a rule: "
					 "'%s' has more",
					 r->name);
		for (size_t i = 0; i < n; i++)
			if (v[i].len != (v[i].family == AF_INET ? 32 : 128))
				return tr_reason(
					"xdp-filter matches whole addresses, "
					"not prefixes: '%s' has /%u",
					r->name, v[i].len);
		return NULL;
	}
	if (r->sport.n || r->dport.n) {
		if (r->sport.n && r->dport.n)
			return tr_reason("xdp-filter matches one port a rule, "
					 "source or destination: '%s' has both",
					 r->name);
		if (!tcp_udp)
			return tr_reason("xdp-filter filters tcp and udp ports "
					 "only: '%s' names another protocol",
					 r->name);
		return NULL;
	}
	return tr_reason("xdp-filter lists ports and addresses only: '%s' "
			 "matches %s",
			 r->name,
			 r->protos.n ? "by protocol alone" : "every packet");
}

/* The last drop rule; allow rules after it are left out.  -1: none. */
static long last_drop(const struct moat_ruleset *rs)
{
	for (size_t i = rs->nrules; i > 0; i--)
		if (rs->rules[i - 1].action == MOAT_DROP)
			return (long)i - 1;
	return -1;
}

/* Per port, the P_* bits the rules ask for. */
static uint8_t *port_wants(const struct moat_ruleset *rs, long last)
{
	uint8_t *want = calloc(65536, 1);

	for (long i = 0; want && i <= last; i++) {
		const struct moat_rule *r = &rs->rules[i];
		const struct moat_range *v =
			r->sport.n ? r->sport.v : r->dport.v;
		size_t n = r->sport.n ? r->sport.n : r->dport.n;
		uint8_t bits = 0;

		for (size_t k = 0; k < r->protos.n; k++)
			bits |= r->protos.v[k] == MOAT_PROTO_TCP ?
					(r->sport.n ? P_SRC_TCP : P_DST_TCP) :
					(r->sport.n ? P_SRC_UDP : P_DST_UDP);
		for (size_t k = 0; k < n; k++)
			for (uint32_t p = v[k].lo; p <= v[k].hi; p++)
				want[p] |= bits;
	}
	return want;
}

/* The entry's flags match the product of its directions and protocols. */
static uint8_t product(uint8_t want)
{
	bool src = want & (P_SRC_TCP | P_SRC_UDP);
	bool dst = want & (P_DST_TCP | P_DST_UDP);
	bool tcp = want & (P_SRC_TCP | P_DST_TCP);
	bool udp = want & (P_SRC_UDP | P_DST_UDP);

	return (uint8_t)((src && tcp ? P_SRC_TCP : 0) |
			 (src && udp ? P_SRC_UDP : 0) |
			 (dst && tcp ? P_DST_TCP : 0) |
			 (dst && udp ? P_DST_UDP : 0));
}

struct addr {
	uint8_t family, mode;
	uint8_t a[16];
};

static int addr_cmp(const void *x, const void *y)
{
	const struct addr *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->a, b->a, sizeof(a->a));
}

/* The distinct addresses with their modes merged, sorted; NULL: no memory. */
static struct addr *addrs(const struct moat_ruleset *rs, long last, size_t *n)
{
	struct addr *v = NULL;
	size_t k = 0, cap = 0, out = 0;

	for (long i = 0; i <= last; i++) {
		const struct moat_rule *r = &rs->rules[i];
		const struct moat_prefix *p = r->src.n ? r->src.v : r->dst.v;
		size_t np = r->src.n ? r->src.n : r->dst.n;

		for (size_t j = 0; j < np; j++) {
			if (k == cap) {
				void *nv;

				cap = cap ? 2 * cap : 64;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return NULL;
				}
				v = nv;
			}
			v[k] = (struct addr){ .family = p[j].family,
					      .mode = r->src.n ? M_SRC :
								 M_DST };
			memcpy(v[k].a, p[j].addr, sizeof(v[k].a));
			k++;
		}
	}
	if (!v)
		v = malloc(sizeof(*v));
	if (!v)
		return NULL;
	qsort(v, k, sizeof(*v), addr_cmp);
	for (size_t i = 0; i < k; i++) {
		if (out && !addr_cmp(&v[out - 1], &v[i]))
			v[out - 1].mode |= v[i].mode;
		else
			v[out++] = v[i];
	}
	*n = out;
	return v;
}

const char *tr_xdp_filter_cannot(const struct moat_ruleset *rs)
{
	long last = last_drop(rs);
	const char *why = NULL;
	size_t n = 0, n4 = 0;
	struct addr *a;
	uint8_t *want;

	if (rs->policy == MOAT_DROP)
		return "xdp-filter's deny policy also drops ARP, neighbour "
		       "discovery and non-IP frames, which moat passes: "
		       "policy drop";
	for (long i = 0; i <= last; i++) {
		if (rs->rules[i].action != MOAT_DROP)
			return tr_reason("xdp-filter has no order between its "
					 "lists: '%s' allows before '%s' drops",
					 rs->rules[i].name,
					 rs->rules[last].name);
		why = rule_shape(&rs->rules[i]);
		if (why)
			return why;
	}

	want = port_wants(rs, last);
	if (!want)
		return "out of memory";
	for (uint32_t p = 0; p < 65536 && !why; p++)
		if (product(want[p]) != want[p])
			why = tr_reason(
				"xdp-filter keeps one entry per port for "
				"all its directions and protocols: port "
				"%u is asked for in a combination that "
				"would drop more",
				p);
	free(want);
	if (why)
		return why;

	a = addrs(rs, last, &n);
	if (!a)
		return "out of memory";
	for (size_t i = 0; i < n; i++)
		n4 += a[i].family == AF_INET;
	free(a);
	if (n4 > XDPF_ADDRS_MAX || n - n4 > XDPF_ADDRS_MAX)
		return tr_reason("xdp-filter holds %d addresses of each IP "
				 "version: the ruleset has %zu IPv4 and %zu "
				 "IPv6",
				 XDPF_ADDRS_MAX, n4, n - n4);
	return NULL;
}

static const char *const modes[] = { NULL, "src", "dst", "src,dst" };

static struct tr_xdpf_cmd *cmd_add(struct tr_xdpf *x, size_t *cap)
{
	struct tr_xdpf_cmd *c;

	if (x->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		void *v = realloc(x->cmds, ncap * sizeof(*x->cmds));

		if (!v)
			return NULL;
		x->cmds = v;
		*cap = ncap;
	}
	c = &x->cmds[x->n++];
	memset(c, 0, sizeof(*c));
	return c;
}

/* The features to load, in xdp-filter's order: only those the lists need. */
static void features(struct tr_xdpf *x, const bool need[4])
{
	static const char *const names[4] = { "tcp", "udp", "ipv4", "ipv6" };

	for (int i = 0; i < 4; i++) {
		if (!need[i])
			continue;
		if (x->features[0])
			strcat(x->features, ",");
		strcat(x->features, names[i]);
	}
	/* nothing to drop: the smallest program, still counting what it sees */
	if (!x->features[0])
		strcat(x->features, "tcp");
}

int tr_xdp_filter(const struct moat_ruleset *rs, struct tr_xdpf *out)
{
	long last = last_drop(rs);
	bool need[4] = { false }; /* tcp, udp, ipv4, ipv6 */
	struct addr *a = NULL;
	uint8_t *want = NULL;
	size_t cap = 0, n = 0;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (tr_xdp_filter_cannot(rs))
		return -EINVAL;
	want = port_wants(rs, last);
	a = addrs(rs, last, &n);
	if (!want || !a)
		goto out;

	for (uint32_t p = 0; p < 65536; p++) {
		uint8_t w = want[p];
		int mode = (w & (P_SRC_TCP | P_SRC_UDP) ? M_SRC : 0) |
			   (w & (P_DST_TCP | P_DST_UDP) ? M_DST : 0);
		bool tcp = w & (P_SRC_TCP | P_DST_TCP);
		bool udp = w & (P_SRC_UDP | P_DST_UDP);
		struct tr_xdpf_cmd *c;

		if (!w)
			continue;
		c = cmd_add(out, &cap);
		if (!c)
			goto out;
		c->verb = "port";
		snprintf(c->value, sizeof(c->value), "%u", p);
		c->mode = modes[mode];
		c->protos = tcp && udp ? "tcp,udp" : tcp ? "tcp" : "udp";
		need[0] |= tcp;
		need[1] |= udp;
	}
	for (size_t i = 0; i < n; i++) {
		struct tr_xdpf_cmd *c = cmd_add(out, &cap);

		if (!c)
			goto out;
		c->verb = "ip";
		inet_ntop(a[i].family, a[i].a, c->value, sizeof(c->value));
		c->mode = modes[a[i].mode];
		need[a[i].family == AF_INET ? 2 : 3] = true;
	}
	features(out, need);
	ret = 0;
out:
	free(want);
	free(a);
	if (ret)
		tr_xdpf_free(out);
	return ret;
}

void tr_xdpf_free(struct tr_xdpf *x)
{
	free(x->cmds);
	memset(x, 0, sizeof(*x));
}

void tr_xdpf_argv(const struct tr_xdpf_cmd *c, const char *argv[8])
{
	int k = 0;

	argv[k++] = c->verb;
	argv[k++] = c->value;
	argv[k++] = "-m";
	argv[k++] = c->mode;
	if (c->protos) {
		argv[k++] = "-p";
		argv[k++] = c->protos;
	}
	argv[k] = NULL;
}

void tr_xdpf_print(const struct tr_xdpf *x, const char *ifname, FILE *out)
{
	fprintf(out, "xdp-filter load %s -m native -p allow -f %s\n", ifname,
		x->features);
	for (size_t i = 0; i < x->n; i++) {
		const char *argv[8];

		tr_xdpf_argv(&x->cmds[i], argv);
		fputs("xdp-filter", out);
		for (const char **a = argv; *a; a++)
			fprintf(out, " %s", *a);
		fputc('\n', out);
	}
}
