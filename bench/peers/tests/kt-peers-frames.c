// SPDX-License-Identifier: GPL-2.0-only
/*
 * The frames of kt-peers and the verdicts moat gives them.  Each frame
 * is classified by the reference matcher as it is made; frames it calls
 * malformed are not kept, since the peers read those otherwise (a
 * documented difference, not a tested one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "classbench.h"
#include "kt-peers.h"

static int grow(void **p, size_t size)
{
	void *n = realloc(*p, size);

	if (!n)
		return -ENOMEM;
	*p = n;
	return 0;
}

int frames_add(struct frames *fs, const struct moat_ruleset *rs,
	       const struct moat_frame_spec *s)
{
	struct moat_ref_verdict v;
	size_t len;

	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? 2 * fs->cap : 256;

		if (grow((void **)&fs->buf, cap * sizeof(*fs->buf)) ||
		    grow((void **)&fs->len, cap * sizeof(*fs->len)) ||
		    grow((void **)&fs->drop, cap * sizeof(*fs->drop)) ||
		    grow((void **)&fs->ip, cap * sizeof(*fs->ip)))
			return -ENOMEM;
		fs->cap = cap;
	}
	len = moat_frame_build(s, fs->buf[fs->n], FRAME_CAP);
	if (!len)
		return -EINVAL;
	v = moat_reference_classify(rs, fs->buf[fs->n], len, fs->iface);
	/* the peers read malformed frames otherwise (see the report) */
	if (v.kind == MOAT_REF_MALFORMED)
		return 0;
	fs->len[fs->n] = len;
	fs->drop[fs->n] = v.drop;
	fs->ip[fs->n] = v.kind != MOAT_REF_ARP && v.kind != MOAT_REF_NONIP;
	fs->n++;
	return 0;
}

/*
 * IPv6 addresses the stack drops before any hook (ip6_rcv_core):
 * multicast or v4-mapped sources, loopback either way, and multicast
 * destinations of node-local or reserved scope.  Such frames test the
 * stack, not the peer; random wildcard addresses can be any of them.
 */
static bool stack_takes(const struct moat_ref_packet *p)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t loop[16] = { [15] = 1 };

	if (p->family != AF_INET6)
		return true;
	return p->src[0] != 0xff && memcmp(p->src, v4mapped, 12) &&
	       memcmp(p->src, loop, 16) && memcmp(p->dst, loop, 16) &&
	       !(p->dst[0] == 0xff && (p->dst[1] & 0x0f) <= 1);
}

int frames_add_flow(struct frames *fs, const struct moat_ruleset *rs,
		    const struct moat_ref_packet *p, bool later_fragment)
{
	struct moat_frame_spec s = {
		.family = p->family,
		.proto = p->proto,
		.sport = p->sport,
		.dport = p->dport,
		.tcp_flags = p->tcp_flags,
		.payload = 8,
		.fragment = later_fragment,
		.frag_offset = later_fragment ? 8 : 0,
	};

	if (!stack_takes(p))
		return 0;
	memcpy(s.src, p->src, sizeof(s.src));
	memcpy(s.dst, p->dst, sizeof(s.dst));
	return frames_add(fs, rs, &s);
}

/* Neighbour discovery, and for the netdev chain ARP and LLDP. */
int frames_add_fixed(struct frames *fs, const struct moat_ruleset *rs)
{
	struct moat_frame_spec nd = { .family = AF_INET6,
				      .proto = MOAT_PROTO_ICMPV6,
				      .sport = 135,
				      .payload = 20,
				      .src = { 0xfe, 0x80, [15] = 1 },
				      .dst = { 0x20, 0x01, 0x0d,
					       0xb8, [15] = 9 } };
	struct moat_frame_spec arp = { .kind = MOAT_FRAME_ARP };
	struct moat_frame_spec lldp = { .kind = MOAT_FRAME_RAW,
					.ethertype = 0x88cc,
					.payload = 46 };

	return frames_add(fs, rs, &nd)		?:
		       frames_add(fs, rs, &arp) ?:
						  frames_add(fs, rs, &lldp);
}

/* A ClassBench ruleset's frames: aimed, later fragments, crossed. */
int frames_classbench(struct frames *fs, const struct moat_ruleset *rs,
		      uint64_t seed)
{
	struct cb_traffic t;
	struct cb_rng r;
	int ret = cb_traffic_build(rs, seed, &t);

	cb_rng_seed(&r, seed);
	for (size_t i = 0; !ret && i < t.n; i++) {
		struct moat_ref_packet x = t.flows[i];
		const struct moat_ref_packet *o =
			&t.flows[cb_rng_below(&r, (uint32_t)t.n)];

		ret = frames_add_flow(fs, rs, &x, false);
		if (!ret && i % 2)
			ret = frames_add_flow(fs, rs, &x, true);
		/* another rule's destination and ports: most meet later rules or the policy */
		if (!ret && o->family == x.family) {
			memcpy(x.dst, o->dst, sizeof(x.dst));
			x.dport = o->proto == x.proto ? o->dport : x.dport;
			x.sport = (uint16_t)cb_rng_below(&r, 65536);
			ret = frames_add_flow(fs, rs, &x, false);
		}
	}
	cb_traffic_free(&t);
	return ret ?: frames_add_fixed(fs, rs);
}

void frames_free(struct frames *fs)
{
	free(fs->buf);
	free(fs->len);
	free(fs->drop);
	free(fs->ip);
	memset(fs, 0, sizeof(*fs));
}

/* The frame as the reference reads it, and the rule that decides it. */
void frames_describe(const struct frames *fs, const struct moat_ruleset *rs,
		     size_t i, char *buf, size_t n)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	struct moat_ref_packet p;
	enum moat_ref_kind k = moat_reference_read(fs->buf[i], fs->len[i], &p);
	struct moat_ref_verdict v =
		moat_reference_classify(rs, fs->buf[i], fs->len[i], fs->iface);

	if (k == MOAT_REF_ARP || k == MOAT_REF_NONIP) {
		snprintf(buf, n, "%s frame",
			 k == MOAT_REF_ARP ? "ARP" : "non-IP");
		return;
	}
	inet_ntop(p.family, p.src, s, sizeof(s));
	inet_ntop(p.family, p.dst, d, sizeof(d));
	snprintf(buf, n, "proto %u %s:%u > %s:%u flags 0x%02x%s, %s", p.proto,
		 s, p.sport, d, p.dport, p.tcp_flags,
		 p.has_l4 ? "" : " (no transport header)",
		 v.kind == MOAT_REF_RULE   ? rs->rules[v.rule].name :
		 v.kind == MOAT_REF_POLICY ? "the policy" :
					     "a fixed verdict");
}

/* Values the rules of the field ruleset talk about, and some they do not. */
static const char *const pool4[] = { "10.1.2.3",    "10.2.0.9", "10.3.7.7",
				     "10.4.1.1",    "10.9.9.9", "192.0.2.1",
				     "198.51.100.1" };
static const char *const pool6[] = { "2001:db8:1::5", "2001:db8:2::5",
				     "2001:db8::1", "2001:db8::5" };
static const uint16_t ports[] = { 22,	53,   54,   80,	  443,	999,  1000,
				  1001, 7999, 8000, 8003, 8099, 8100, 40000 };
static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x01, 0x00, 0x04 };
static const uint8_t protos4[] = { MOAT_PROTO_TCP, MOAT_PROTO_UDP,
				   MOAT_PROTO_SCTP, MOAT_PROTO_ICMP, 47 };
static const uint8_t protos6[] = { MOAT_PROTO_TCP, MOAT_PROTO_UDP,
				   MOAT_PROTO_SCTP, MOAT_PROTO_ICMPV6, 47 };
static const uint8_t types[] = { 0, 8, 13, 14, 128, 129, 3 };

#define PICK(r, a) ((a)[cb_rng_below((r), sizeof(a) / sizeof((a)[0]))])

int frames_pool(struct frames *fs, const struct moat_ruleset *rs, uint64_t seed,
		size_t n, bool fragments, bool fixed)
{
	struct cb_rng r;
	int ret = 0;

	cb_rng_seed(&r, seed);
	for (size_t i = 0; !ret && i < n; i++) {
		struct moat_ref_packet p = { .family = cb_rng_below(&r, 3) ?
							       AF_INET :
							       AF_INET6 };
		bool v4 = p.family == AF_INET;

		inet_pton(p.family, v4 ? PICK(&r, pool4) : PICK(&r, pool6),
			  p.src);
		inet_pton(p.family, v4 ? PICK(&r, pool4) : PICK(&r, pool6),
			  p.dst);
		p.proto = v4 ? PICK(&r, protos4) : PICK(&r, protos6);
		if (p.proto == MOAT_PROTO_ICMP ||
		    p.proto == MOAT_PROTO_ICMPV6) {
			p.sport = PICK(&r, types);
			p.dport = (uint16_t)cb_rng_below(&r, 2);
		} else {
			p.sport = PICK(&r, ports);
			p.dport = PICK(&r, ports);
		}
		p.tcp_flags = PICK(&r, flags);
		ret = frames_add_flow(fs, rs, &p,
				      fragments && cb_rng_below(&r, 5) == 0);
	}
	return ret || !fixed ? ret : frames_add_fixed(fs, rs);
}
