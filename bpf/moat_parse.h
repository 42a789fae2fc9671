/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a frame into a classification key, as docs/ruleset.md ("What a
 * packet is") describes.  Written once, compiled twice: into the XDP
 * program by clang -target bpf, and into libmoat-dp for the userspace
 * paths and the tests.  Every read is checked against @end; offsets are
 * kept bounded so the verifier can follow them.
 */
#ifndef MOAT_PARSE_H
#define MOAT_PARSE_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define moat_ntohs(x) __builtin_bswap16(x)
#define moat_ntohl(x) __builtin_bswap32(x)
#else
#define moat_ntohs(x) (x)
#define moat_ntohl(x) (x)
#endif

/* The packet as the rules see it. */
struct moat_key {
	__u64 src6[2], dst6[2]; /* network order, as loaded */
	__u32 src4, dst4; /* host order */
	__u16 sport, dport; /* host order; ICMP(v6): type and code */
	__u8 proto;
	__u8 l4; /* a transport header was read */
	__u8 tcp_flags;
	__u8 fam6;
	__u32 iface; /* interface id, 0 when the ruleset names none */
	__u16 l4_off; /* where the transport header starts, when l4 */
	__u8 ct; /* the packet's MOAT_CT_* state; 0: not tracked */
	__u8 frag; /* MOAT_FRAG_FIRST or _LATER; 0: a whole packet */
	__u32 frag_id; /* the fragments' identification */
	__u16 len; /* the frame's length, as the counters count it */
	__u8 counted; /* the flow cache counted the frame in its entry */
};

#define MOAT_FRAG_FIRST 1
#define MOAT_FRAG_LATER 2

enum moat_kind {
	MOAT_K_CLASSIFY = 0,
	MOAT_K_ARP,
	MOAT_K_ND,
	MOAT_K_NONIP,
	MOAT_K_MALFORMED,
};

#define MOAT_ETH_HLEN 14
#define MOAT_ETH_P_IP 0x0800
#define MOAT_ETH_P_ARP 0x0806
#define MOAT_ETH_P_IPV6 0x86DD
#define MOAT_ETH_P_8021Q 0x8100
#define MOAT_ETH_P_8021AD 0x88A8

#define MOAT_VLAN_MAX 2
#define MOAT_EXT_MAX 8
/* Farther than any linear XDP buffer reaches: past it, headers are "past the end". */
#define MOAT_OFF_MAX 4096

/*
 * Big-endian loads.  The XDP program reads packets unaligned in one load
 * (the verifier allows it and the JIT emits it); userspace goes through
 * memcpy, which compilers turn into the same load where it is allowed.
 */
static __always_inline __u16 moat_be16(const __u8 *p)
{
	__u16 v;

#ifdef __bpf__
	v = *(const __u16 *)p;
#else
	__builtin_memcpy(&v, p, 2);
#endif
	return moat_ntohs(v);
}

static __always_inline __u32 moat_be32(const __u8 *p)
{
	__u32 v;

#ifdef __bpf__
	v = *(const __u32 *)p;
#else
	__builtin_memcpy(&v, p, 4);
#endif
	return moat_ntohl(v);
}

/*
 * An IPv6 address at @p into two words, as loaded (network order).  A
 * memcpy from the packet would be sixteen byte loads here: clang cannot
 * know the header is where a word load may go.
 */
static __always_inline void moat_addr6(__u64 *dst, const __u8 *p)
{
#ifdef __bpf__
	dst[0] = *(const __u64 *)p;
	dst[1] = *(const __u64 *)(p + 8);
#else
	__builtin_memcpy(dst, p, 16);
#endif
}

/*
 * The frame being read.  @ctx is the xdp_md in the XDP program (for
 * MOAT_LOAD, see below) and NULL in userspace.
 */
struct moat_frame {
	const __u8 *data, *end;
	void *ctx;
};

/*
 * MOAT_LOAD(f, off, buf, len): copy @len bytes at @off into @buf, 0 on
 * success.  The XDP program maps it to bpf_xdp_load_bytes(): an offset
 * that only passes through a helper stays imprecise for the verifier, so
 * the extension-header walk is verified once instead of once for every
 * combination of header lengths.  Used on the rare paths only.
 */
#ifndef MOAT_LOAD
static __always_inline int moat_load(const struct moat_frame *f, __u32 off,
				     void *buf, __u32 len)
{
	if (off > MOAT_OFF_MAX || f->data + off + len > f->end)
		return -1;
	__builtin_memcpy(buf, f->data + off, len);
	return 0;
}
#define MOAT_LOAD(f, off, buf, len) moat_load(f, off, buf, len)
#endif

/* How many transport bytes the rules need to see, per protocol; 0: none. */
static __always_inline __u32 moat_l4_need(const struct moat_key *k)
{
	switch (k->proto) {
	case 6: /* tcp */
		return 20;
	case 17: /* udp */
		return 8;
	case 132: /* sctp */
		return 12;
	case 1: /* icmp, IPv4 only */
		return k->fam6 ? 0 : 4;
	case 58: /* icmpv6, IPv6 only */
		return k->fam6 ? 4 : 0;
	}
	return 0;
}

/* Fill the transport fields of @k from the first bytes of its header. */
static __always_inline int moat_l4_fields(const __u8 *p, struct moat_key *k)
{
	if (k->proto == 1 || k->proto == 58) {
		k->sport = p[0];
		k->dport = p[1];
		k->l4 = 1;
		if (k->proto == 58 && p[0] >= 133 && p[0] <= 137)
			return MOAT_K_ND;
		return MOAT_K_CLASSIFY;
	}
	k->sport = moat_be16(p);
	k->dport = moat_be16(p + 2);
	k->l4 = 1;
	return MOAT_K_CLASSIFY;
}

/*
 * The transport header at @off of an IP packet that ends at @ip_end (both
 * offsets), read in place.  A header cut short by the packet's own length
 * is malformed, whatever follows in the frame.
 */
static __always_inline int moat_parse_l4(const struct moat_frame *f,
					 __u32 off, __u32 ip_end,
					 struct moat_key *k)
{
	__u32 need = moat_l4_need(k);
	const __u8 *p;

	if (!need)
		return MOAT_K_CLASSIFY; /* a protocol without ports */
	if (off > MOAT_OFF_MAX || off + need > ip_end)
		return MOAT_K_MALFORMED;
	/*
	 * off + need <= ip_end, and the IP packet fits the frame, so these
	 * reads are in bounds; the checks against end are for the verifier.
	 */
	p = f->data + off;
	if (p + 4 > f->end)
		return MOAT_K_MALFORMED;
	if (k->proto == 6) {
		if (p + 14 > f->end)
			return MOAT_K_MALFORMED;
		k->tcp_flags = p[13];
	}
	k->l4_off = (__u16)off;
	return moat_l4_fields(p, k);
}

/* The same, through MOAT_LOAD, for the offsets an extension walk gives. */
static __always_inline int moat_load_l4(const struct moat_frame *f, __u32 off,
					__u32 ip_end, struct moat_key *k)
{
	__u32 need = moat_l4_need(k);
	__u8 h[20];

	if (!need)
		return MOAT_K_CLASSIFY;
	if (off + need > ip_end)
		return MOAT_K_MALFORMED;
	switch (need) {
	case 20:
		if (MOAT_LOAD(f, off, h, 20))
			return MOAT_K_MALFORMED;
		k->tcp_flags = h[13];
		break;
	case 12:
		if (MOAT_LOAD(f, off, h, 12))
			return MOAT_K_MALFORMED;
		break;
	case 8:
		if (MOAT_LOAD(f, off, h, 8))
			return MOAT_K_MALFORMED;
		break;
	default:
		if (MOAT_LOAD(f, off, h, 4))
			return MOAT_K_MALFORMED;
	}
	k->l4_off = (__u16)(off & 0xffff);
	return moat_l4_fields(h, k);
}

static __always_inline int moat_parse_ipv4(const struct moat_frame *f,
					   __u32 off, struct moat_key *k)
{
	const __u8 *ip = f->data + off;
	__u32 ihl, tot, frag;

	if (ip + 20 > f->end)
		return MOAT_K_MALFORMED;
	if ((ip[0] >> 4) != 4)
		return MOAT_K_MALFORMED;
	ihl = (__u32)(ip[0] & 0x0f) * 4;
	tot = moat_be16(ip + 2);
	if (ihl < 20 || tot < ihl || ip + ihl > f->end || ip + tot > f->end)
		return MOAT_K_MALFORMED;
	k->proto = ip[9];
	k->src4 = moat_be32(ip + 12);
	k->dst4 = moat_be32(ip + 16);
	frag = moat_be16(ip + 6);
	if (frag & 0x3fff) { /* more fragments, or an offset */
		k->frag_id = moat_be16(ip + 4);
		k->frag = frag & 0x1fff ? MOAT_FRAG_LATER : MOAT_FRAG_FIRST;
		if (frag & 0x1fff)
			return MOAT_K_CLASSIFY; /* no transport header */
	}
	return moat_parse_l4(f, off + ihl, off + tot, k);
}

static __always_inline int moat_is_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 ||
	       nh == 135;
}

/* Walk the extension headers that start at @off with next header @nh. */
static __always_inline int moat_walk_ext(const struct moat_frame *f, __u32 off,
					 __u32 ip_end, __u8 nh,
					 struct moat_key *k)
{
	__u8 h[4];
	int i;

	for (i = 0; i < MOAT_EXT_MAX; i++) {
		if (off + 8 > ip_end || MOAT_LOAD(f, off, h, 4))
			return MOAT_K_MALFORMED;
		if (nh == 44) {
			/* fragment header: offset in the top 13 bits of bytes 2-3, M in bit 0 */
			__u8 id[4];

			if (MOAT_LOAD(f, off + 4, id, 4))
				return MOAT_K_MALFORMED;
			if (moat_be16(h + 2) & 0xfff9) {
				k->frag_id = moat_be32(id);
				k->frag = moat_be16(h + 2) & 0xfff8 ? MOAT_FRAG_LATER :
								      MOAT_FRAG_FIRST;
			}
			if (moat_be16(h + 2) & 0xfff8) {
				k->proto = h[0];
				return MOAT_K_CLASSIFY; /* a later fragment */
			}
			off += 8;
		} else if (nh == 51) {
			off += ((__u32)h[1] + 2) * 4;
		} else {
			off += ((__u32)h[1] + 1) * 8;
		}
		if (off > ip_end)
			return MOAT_K_MALFORMED;
		nh = h[0];
		if (!moat_is_ext(nh)) {
			k->proto = nh;
			return moat_load_l4(f, off, ip_end, k);
		}
	}
	return MOAT_K_MALFORMED; /* a ninth extension header */
}

static __always_inline int moat_parse_ipv6(const struct moat_frame *f,
					   __u32 off, struct moat_key *k)
{
	const __u8 *ip = f->data + off;
	__u32 ip_end;

	if (ip + 40 > f->end)
		return MOAT_K_MALFORMED;
	if ((ip[0] >> 4) != 6)
		return MOAT_K_MALFORMED;
	ip_end = off + 40 + moat_be16(ip + 4);
	if (f->data + ip_end > f->end)
		return MOAT_K_MALFORMED;
	moat_addr6(k->src6, ip + 8);
	moat_addr6(k->dst6, ip + 24);
	k->fam6 = 1;
	k->proto = ip[6];
	if (moat_is_ext(ip[6]))
		return moat_walk_ext(f, off + 40, ip_end, ip[6], k);
	return moat_parse_l4(f, off + 40, ip_end, k);
}

/*
 * The transport bytes a common frame's @proto needs after its IP header
 * at @l4 (UDP's header, TCP's up to its flags, ICMP's type and code; the
 * family's ICMP is @icmp), or 0 for a protocol, or a TCP header cut
 * short, that goes the general way.  The caller has checked that 8
 * bytes follow the IP header.
 */
static __always_inline __u32 moat_common_need(__u8 proto, __u8 icmp,
					      const __u8 *l4, const __u8 *end)
{
	if (proto == 17)
		return 8;
	if (proto == 6 && l4 + 14 <= end)
		return 20;
	if (proto == icmp)
		return 4;
	return 0;
}

/*
 * The common frame, with as few tests as will do: untagged IPv4 without
 * options, not a fragment, TCP, UDP or ICMP, its headers whole.  1 when @k is
 * filled in, exactly as moat_parse_walk() fills it; 0 otherwise, and @k
 * is untouched.  (The XDP program's short way runs on this alone: the
 * key's fields stay in registers.)
 */
static __always_inline int moat_parse_common4(const struct moat_frame *f,
					      struct moat_key *k)
{
	const __u8 *ip = f->data + MOAT_ETH_HLEN;
	__u32 tot, need;
	__u8 proto;

	/* UDP's header; TCP's up to its flags is tested below */
	if (ip + 20 + 8 > f->end)
		return 0;
	if (moat_be16(f->data + 12) != MOAT_ETH_P_IP || ip[0] != 0x45 ||
	    (moat_be16(ip + 6) & 0x3fff))
		return 0;
	proto = ip[9];
	need = moat_common_need(proto, 1, ip + 20, f->end);
	if (!need)
		return 0;
	tot = moat_be16(ip + 2);
	if (tot < 20 + need || ip + tot > f->end)
		return 0;
	k->proto = proto;
	k->src4 = moat_be32(ip + 12);
	k->dst4 = moat_be32(ip + 16);
	if (proto == 6)
		k->tcp_flags = ip[20 + 13];
	k->l4_off = MOAT_ETH_HLEN + 20;
	moat_l4_fields(ip + 20, k);
	return 1;
}

/*
 * The same for IPv6: untagged, TCP, UDP or ICMPv6 right after the fixed
 * header.  Neighbour discovery (ICMPv6 133-137) goes the general way,
 * which always passes it.
 */
static __always_inline int moat_parse_common6(const struct moat_frame *f,
					      struct moat_key *k)
{
	const __u8 *ip = f->data + MOAT_ETH_HLEN;
	__u32 plen, need;
	__u8 proto;

	if (ip + 40 + 8 > f->end)
		return 0;
	if (moat_be16(f->data + 12) != MOAT_ETH_P_IPV6 || (ip[0] >> 4) != 6)
		return 0;
	proto = ip[6];
	need = moat_common_need(proto, 58, ip + 40, f->end);
	if (!need || (proto == 58 && ip[40] >= 133 && ip[40] <= 137))
		return 0;
	plen = moat_be16(ip + 4);
	if (plen < need || ip + 40 + plen > f->end)
		return 0;
	moat_addr6(k->src6, ip + 8);
	moat_addr6(k->dst6, ip + 24);
	k->fam6 = 1;
	k->proto = proto;
	if (proto == 6)
		k->tcp_flags = ip[40 + 13];
	k->l4_off = MOAT_ETH_HLEN + 40;
	moat_l4_fields(ip + 40, k);
	return 1;
}

/* Read any frame into @k; returns an enum moat_kind. */
static __always_inline int moat_parse_walk(const struct moat_frame *f,
					   struct moat_key *k)
{
	__u32 off = MOAT_ETH_HLEN;
	__u16 type;
	int i;

	if (f->data + MOAT_ETH_HLEN > f->end)
		return MOAT_K_MALFORMED;
	type = moat_be16(f->data + 12);
	/* the common case first: an untagged IPv4 frame */
	if (type == MOAT_ETH_P_IP)
		return moat_parse_ipv4(f, off, k);
	for (i = 0; i < MOAT_VLAN_MAX + 1; i++) {
		if (type != MOAT_ETH_P_8021Q && type != MOAT_ETH_P_8021AD)
			break;
		if (i == MOAT_VLAN_MAX)
			return MOAT_K_MALFORMED; /* a third tag */
		if (f->data + off + 4 > f->end)
			return MOAT_K_MALFORMED;
		type = moat_be16(f->data + off + 2);
		off += 4;
	}
	switch (type) {
	case MOAT_ETH_P_IP:
		return moat_parse_ipv4(f, off, k);
	case MOAT_ETH_P_IPV6:
		return moat_parse_ipv6(f, off, k);
	case MOAT_ETH_P_ARP:
		return MOAT_K_ARP;
	default:
		return MOAT_K_NONIP;
	}
}

/*
 * Read the frame into @k, which the caller has zeroed (but for its len);
 * returns an enum moat_kind.  The common frame takes the short way.
 */
static __always_inline int moat_parse(const struct moat_frame *f,
				      struct moat_key *k)
{
	if (moat_parse_common4(f, k) || moat_parse_common6(f, k))
		return MOAT_K_CLASSIFY;
	return moat_parse_walk(f, k);
}

#endif /* MOAT_PARSE_H */
