/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reference matcher, written to be read next to docs/ruleset.md and
 * believed: one pass over the frame with a length check before every
 * read, then the rules in order.  Nothing here is fast on purpose, and
 * nothing is shared with the compiler or the XDP program, so that a bug
 * in one of them cannot hide in both.
 *
 * Where the document leaves room, this file takes the reading that drops
 * more (see the comments marked "reading:").
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "reference.h"

#define ETH_HLEN_ 14
#define VLAN_HLEN_ 4
#define VLAN_TAGS_MAX 2
#define IPV6_EXT_MAX 8

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP_ 0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The extension headers docs/ruleset.md says are walked. */
static bool ipv6_walked(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 ||
	       nh == 135;
}

/*
 * The transport header of a whole packet or a first fragment: @p holds
 * the @n bytes the IP header says follow it.
 */
static enum moat_ref_kind read_l4(const uint8_t *p, size_t n,
				  struct moat_ref_packet *pkt)
{
	size_t need;
	bool icmp = false;

	switch (pkt->proto) {
	case MOAT_PROTO_TCP:
		need = 20;
		break;
	case MOAT_PROTO_UDP:
		need = 8;
		break;
	case MOAT_PROTO_SCTP:
		need = 12;
		break;
	case MOAT_PROTO_ICMP:
	case MOAT_PROTO_ICMPV6:
		/*
		 * ICMP is a transport only in IPv4 and ICMPv6 only in IPv6;
		 * the other pairing is an unknown payload without ports.
		 */
		if ((pkt->proto == MOAT_PROTO_ICMP) != (pkt->family == AF_INET))
			return MOAT_REF_RULE;
		need = 4;
		icmp = true;
		break;
	default:
		return MOAT_REF_RULE;
	}
	if (n < need)
		return MOAT_REF_MALFORMED;

	pkt->has_l4 = true;
	if (icmp) {
		pkt->sport = p[0]; /* type */
		pkt->dport = p[1]; /* code */
	} else {
		pkt->sport = get16(p);
		pkt->dport = get16(p + 2);
	}
	if (pkt->proto == MOAT_PROTO_TCP)
		pkt->tcp_flags = p[13];
	if (pkt->proto == MOAT_PROTO_ICMPV6 && p[0] >= 133 && p[0] <= 137)
		return MOAT_REF_ND;
	return MOAT_REF_RULE;
}

static enum moat_ref_kind read_ipv4(const uint8_t *p, size_t n,
				    struct moat_ref_packet *pkt)
{
	size_t hl, total;

	if (n < 20 || p[0] >> 4 != 4)
		return MOAT_REF_MALFORMED;
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < 20 || hl > n)
		return MOAT_REF_MALFORMED;
	total = get16(p + 2);
	if (total < hl || total > n)
		return MOAT_REF_MALFORMED;

	pkt->family = AF_INET;
	pkt->proto = p[9];
	memcpy(pkt->src, p + 12, 4);
	memcpy(pkt->dst, p + 16, 4);

	/* a fragment: more to come (MF), or an offset */
	if (get16(p + 6) & 0x3fff) {
		pkt->frag = get16(p + 6) & 0x1fff ? 2 : 1;
		pkt->frag_id = get16(p + 4);
	}
	/* a later fragment: no transport header to read */
	if (get16(p + 6) & 0x1fff)
		return MOAT_REF_RULE;
	/*
	 * reading: the transport header must fit in the datagram the total
	 * length announces, not merely in the frame.  Ethernet pads short
	 * frames to 60 bytes, and padding is not a header: a tiny first
	 * fragment would otherwise pass by being short.
	 */
	return read_l4(p + hl, total - hl, pkt);
}

static enum moat_ref_kind read_ipv6(const uint8_t *p, size_t n,
				    struct moat_ref_packet *pkt)
{
	size_t end, off = 40, hlen;
	unsigned int walked = 0;
	uint8_t nh;

	if (n < 40 || p[0] >> 4 != 6)
		return MOAT_REF_MALFORMED;
	end = 40 + (size_t)get16(p + 4);
	if (end > n)
		return MOAT_REF_MALFORMED;

	pkt->family = AF_INET6;
	memcpy(pkt->src, p + 8, 16);
	memcpy(pkt->dst, p + 24, 16);

	/*
	 * reading: like the IPv4 total length, the payload length bounds the
	 * extension headers and the transport header.  ESP and
	 * no-next-header end the walk without counting as walked headers:
	 * they are the packet's protocol.
	 */
	nh = p[6];
	while (ipv6_walked(nh)) {
		if (++walked > IPV6_EXT_MAX)
			return MOAT_REF_MALFORMED;
		if (end - off < 2)
			return MOAT_REF_MALFORMED;
		if (nh == 44)
			hlen = 8;
		else if (nh == 51)
			hlen = ((size_t)p[off + 1] + 2) * 4;
		else
			hlen = ((size_t)p[off + 1] + 1) * 8;
		if (end - off < hlen)
			return MOAT_REF_MALFORMED;
		/* an offset, or M: a fragment (neither: an atomic one, whole) */
		if (nh == 44 && (get16(p + off + 2) & 0xfff9)) {
			pkt->frag = get16(p + off + 2) >> 3 ? 2 : 1;
			pkt->frag_id = (uint32_t)get16(p + off + 4) << 16 |
				       get16(p + off + 6);
		}
		if (nh == 44 && get16(p + off + 2) >> 3) {
			/*
			 * reading: a later fragment's next header is the last
			 * one there is; what follows is the middle of the
			 * original payload, not a header to walk.
			 */
			pkt->proto = p[off];
			return MOAT_REF_RULE;
		}
		nh = p[off];
		off += hlen;
	}
	pkt->proto = nh;
	return read_l4(p + off, end - off, pkt);
}

enum moat_ref_kind moat_reference_read(const uint8_t *frame, size_t len,
				       struct moat_ref_packet *pkt)
{
	size_t off = ETH_HLEN_;
	unsigned int tags = 0;
	uint16_t type;

	memset(pkt, 0, sizeof(*pkt));
	if (len < ETH_HLEN_)
		return MOAT_REF_MALFORMED;
	type = get16(frame + 12);
	while (type == ETH_P_8021Q_ || type == ETH_P_8021AD_) {
		/* a third tag announced is a third tag carried */
		if (tags == VLAN_TAGS_MAX)
			return MOAT_REF_MALFORMED;
		if (len - off < VLAN_HLEN_)
			return MOAT_REF_MALFORMED;
		type = get16(frame + off + 2);
		off += VLAN_HLEN_;
		tags++;
	}

	switch (type) {
	case ETH_P_ARP_:
		/* "pass, always": the ARP body is not looked at */
		return MOAT_REF_ARP;
	case ETH_P_IPV4:
		return read_ipv4(frame + off, len - off, pkt);
	case ETH_P_IPV6:
		return read_ipv6(frame + off, len - off, pkt);
	default:
		return MOAT_REF_NONIP;
	}
}

static bool prefix_contains(const struct moat_prefix *pfx, int family,
			    const uint8_t *addr)
{
	unsigned int bits = pfx->len, i;

	if (pfx->family != family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (pfx->addr[i] != addr[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((pfx->addr[i] & mask) != (addr[i] & mask))
			return false;
	}
	return true;
}

static bool any_prefix(const struct moat_prefix *v, size_t n, int family,
		       const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&v[i], family, addr))
			return true;
	return false;
}

static bool any_range(const struct moat_range *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].lo <= x && x <= v[i].hi)
			return true;
	return false;
}

/*
 * A protocol item names an IP version as well: icmp is IPv4's, icmpv6
 * IPv6's (docs/ruleset.md, "Addresses").
 */
static bool proto_item_matches(uint8_t item, const struct moat_ref_packet *pkt)
{
	if (item != pkt->proto)
		return false;
	if (item == MOAT_PROTO_ICMP)
		return pkt->family == AF_INET;
	if (item == MOAT_PROTO_ICMPV6)
		return pkt->family == AF_INET6;
	return true;
}

static bool has_ports(const struct moat_ref_packet *pkt)
{
	return pkt->has_l4 &&
	       (pkt->proto == MOAT_PROTO_TCP || pkt->proto == MOAT_PROTO_UDP ||
		pkt->proto == MOAT_PROTO_SCTP);
}

/* has_l4 already excludes ICMP in IPv6 and ICMPv6 in IPv4. */
static bool has_icmp(const struct moat_ref_packet *pkt)
{
	return pkt->has_l4 && (pkt->proto == MOAT_PROTO_ICMP ||
			       pkt->proto == MOAT_PROTO_ICMPV6);
}

bool moat_reference_rule_matches(const struct moat_rule *r,
				 const struct moat_ref_packet *pkt,
				 const char *iface)
{
	size_t i;

	if (r->protos.n) {
		for (i = 0; i < r->protos.n; i++)
			if (proto_item_matches(r->protos.v[i], pkt))
				break;
		if (i == r->protos.n)
			return false;
	}
	if (r->src.n && !any_prefix(r->src.v, r->src.n, pkt->family, pkt->src))
		return false;
	if (r->dst.n && !any_prefix(r->dst.v, r->dst.n, pkt->family, pkt->dst))
		return false;

	/* the fields that need a transport header */
	if ((r->sport.n || r->dport.n) && !has_ports(pkt))
		return false;
	if (r->sport.n && !any_range(r->sport.v, r->sport.n, pkt->sport))
		return false;
	if (r->dport.n && !any_range(r->dport.v, r->dport.n, pkt->dport))
		return false;
	if ((r->icmp_type.n || r->icmp_code.n) && !has_icmp(pkt))
		return false;
	if (r->icmp_type.n &&
	    !any_range(r->icmp_type.v, r->icmp_type.n, pkt->sport))
		return false;
	if (r->icmp_code.n &&
	    !any_range(r->icmp_code.v, r->icmp_code.n, pkt->dport))
		return false;
	if (r->tcp_flags_mask) {
		if (!pkt->has_l4 || pkt->proto != MOAT_PROTO_TCP)
			return false;
		if ((pkt->tcp_flags & r->tcp_flags_mask) != r->tcp_flags_value)
			return false;
	}

	if (r->ct && !(r->ct & pkt->ct))
		return false;
	if (r->ifaces.n) {
		if (!iface)
			return false;
		for (i = 0; i < r->ifaces.n; i++)
			if (!strncmp(r->ifaces.v[i].name, iface,
				     sizeof(r->ifaces.v[i].name)))
				break;
		if (i == r->ifaces.n)
			return false;
	}
	return true;
}

struct moat_ref_verdict moat_reference_classify(const struct moat_ruleset *rs,
						const uint8_t *frame,
						size_t len, const char *iface)
{
	return moat_reference_classify_ct(rs, frame, len, iface, 0);
}

struct moat_ref_verdict moat_reference_classify_ct(const struct moat_ruleset *rs,
						   const uint8_t *frame,
						   size_t len,
						   const char *iface,
						   uint8_t ct)
{
	struct moat_ref_verdict v = { 0 };
	struct moat_ref_packet pkt;

	v.kind = moat_reference_read(frame, len, &pkt);
	if (v.kind != MOAT_REF_RULE) {
		v.drop = v.kind == MOAT_REF_MALFORMED;
		return v;
	}
	pkt.ct = ct;
	if (!rs->established_classify &&
	    (ct == MOAT_CT_ESTABLISHED || ct == MOAT_CT_RELATED)) {
		v.kind = ct == MOAT_CT_RELATED ? MOAT_REF_RELATED :
						 MOAT_REF_ESTABLISHED;
		return v;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		if (moat_reference_rule_matches(&rs->rules[i], &pkt, iface)) {
			v.rule = i;
			v.drop = rs->rules[i].action == MOAT_DROP;
			return v;
		}
	}
	v.kind = MOAT_REF_POLICY;
	v.drop = rs->policy == MOAT_DROP;
	return v;
}
