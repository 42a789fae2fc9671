/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection tracking in BPF, shared by the XDP firewall (ingress) and
 * the TC egress program.  docs/conntrack.md states what it does; the
 * reference model (dataplane/ct-reference.c) states it again, naively,
 * and kt-ct-diff holds this file to it.
 *
 * A packet is looked up, the step it would take the flow through is
 * worked out on a copy of the entry, and the step is committed only when
 * the packet passes: a dropped packet never moves a flow on.
 *
 * Entries are updated without a lock (LRU hashes cannot hold one):
 * packets of one flow on two CPUs at once may lose a packet count or
 * race two steps of the handshake, never more.
 *
 * Include after moat_parse.h, with MOAT_LOAD defined for the program type.
 */
#ifndef MOAT_CT_H
#define MOAT_CT_H

#include "moat_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized and pinned by the loader */
	__type(key, struct moat_ct_key);
	__type(value, struct moat_ct_val);
} ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_ct_conf);
} ct_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MOAT_FRAGS_MAX);
	__type(key, struct moat_frag_key);
	__type(value, struct moat_frag_val);
} frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MOAT_CTC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ct_stats SEC(".maps");

/*
 * The clock of the table: CLOCK_MONOTONIC at the kernel tick's
 * resolution (4 ms at HZ=250), plenty for timeouts in seconds.  Read
 * from jiffies, which the verifier inlines: a helper call, with return
 * thunks on this kind of CPU, costs a packet tens of ns.  jiffies start
 * 300 s before zero so that wraps show early; taking that away gives
 * time since boot.  Without the kernel's config, the coarse clock.
 */
extern unsigned int CONFIG_HZ __kconfig __weak;

static __always_inline __u64 moat_now(void)
{
	if (CONFIG_HZ)
		return (bpf_jiffies64() - (__u32)(-300 * (int)CONFIG_HZ)) *
		       (1000000000ull / CONFIG_HZ);
	return bpf_ktime_get_coarse_ns();
}

#define MOAT_TCP_F_FIN 0x01
#define MOAT_TCP_F_SYN 0x02
#define MOAT_TCP_F_RST 0x04
#define MOAT_TCP_F_ACK 0x10

/* What one packet does to the table; filled by moat_ct_look(). */
struct moat_ct {
	struct moat_ct_key key;
	struct moat_ct_val nv; /* the entry after this packet */
	struct moat_ct_val *v; /* the live entry, NULL when there is none */
	__u8 from_b; /* the packet comes from endpoint b */
	__u8 create; /* passing it makes (or remakes) the entry */
	__u8 commit; /* passing it writes nv over the entry */
	__u8 state; /* MOAT_CT_* of the packet */
	__u8 reuse; /* the entry is there, expired or closed: remade in place */
};

static __always_inline void moat_ct_count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&ct_stats, &i);

	if (c)
		(*c)++;
}

static __always_inline __u8 moat_ct_invalid(struct moat_ct *c)
{
	moat_ct_count(MOAT_CTC_INVALID);
	c->commit = c->create = 0;
	return c->state = MOAT_CT_INVALID;
}

/*
 * ICMP of the packet's own IP version.  ICMP in IPv6 and ICMPv6 in IPv4
 * carry no ports for the rules (docs/ruleset.md): flows of other
 * protocols, like GRE.
 */
static __always_inline int moat_ct_icmp(__u8 fam6, __u8 proto)
{
	return proto == (fam6 ? 58 : 1);
}

static __always_inline int moat_ct_expired(const struct moat_ct_val *v,
					   __u8 fam6, __u8 proto, __u64 now)
{
	__u32 zero = 0, c = moat_ct_class(fam6, proto, v->state);
	const struct moat_ct_conf *conf = bpf_map_lookup_elem(&ct_conf, &zero);

	if (!conf || c >= MOAT_CTT_MAX)
		return 0;
	return now - v->seen_ns > conf->timeout_ns[c];
}

/*
 * The key of a flow between (s, sp) and (d, dp); *from_b says whether
 * the packet's source is endpoint b.
 */
static __always_inline void moat_ct_key4(struct moat_ct_key *ck, __u32 s,
					 __u16 sp, __u32 d, __u16 dp,
					 __u8 proto, __u8 *from_b)
{
	__u8 swap = s > d || (s == d && sp > dp);

	ck->a[0] = swap ? d : s;
	ck->b[0] = swap ? s : d;
	ck->a[1] = ck->b[1] = 0;
	ck->pa = swap ? dp : sp;
	ck->pb = swap ? sp : dp;
	ck->proto = proto;
	ck->fam6 = 0;
	ck->pad = 0;
	*from_b = swap;
}

static __always_inline void moat_ct_key6(struct moat_ct_key *ck,
					 const __u64 *s, __u16 sp,
					 const __u64 *d, __u16 dp, __u8 proto,
					 __u8 *from_b)
{
	__u8 swap = s[0] > d[0] ||
		    (s[0] == d[0] && (s[1] > d[1] || (s[1] == d[1] && sp > dp)));

	ck->a[0] = swap ? d[0] : s[0];
	ck->a[1] = swap ? d[1] : s[1];
	ck->b[0] = swap ? s[0] : d[0];
	ck->b[1] = swap ? s[1] : d[1];
	ck->pa = swap ? dp : sp;
	ck->pb = swap ? sp : dp;
	ck->proto = proto;
	ck->fam6 = 1;
	ck->pad = 0;
	*from_b = swap;
}

/* ICMP types by family: echo request and reply, and the errors. */
static __always_inline int moat_icmp_echo(__u8 fam6, __u8 type)
{
	return fam6 ? type == 128 || type == 129 : type == 8 || type == 0;
}

static __always_inline int moat_icmp_echo_request(__u8 fam6, __u8 type)
{
	return fam6 ? type == 128 : type == 8;
}

static __always_inline int moat_icmp_error(__u8 fam6, __u8 type)
{
	/* destination unreachable, packet too big (v6), time exceeded, parameter problem */
	return fam6 ? type >= 1 && type <= 4 : type == 3 || type == 11 || type == 12;
}

/*
 * Where the IP packet ends, as a frame offset.  The key says where the
 * transport header starts, not where the packet ends, and the frame may
 * go on past it (Ethernet pads short frames): what lies there is no
 * header.  moat_parse() has read this frame: at most two VLAN tags, then
 * the IP header.  0 when it cannot be read.
 */
static __always_inline __u32 moat_ct_ip_end(const struct moat_frame *f,
					    __u8 fam6)
{
	__u32 off = MOAT_ETH_HLEN;
	__u8 h[6];
	int i;

	for (i = 0; i < MOAT_VLAN_MAX; i++) {
		if (MOAT_LOAD(f, off - 2, h, 2))
			return 0;
		if (moat_be16(h) != MOAT_ETH_P_8021Q &&
		    moat_be16(h) != MOAT_ETH_P_8021AD)
			break;
		off += 4;
	}
	if (MOAT_LOAD(f, off, h, 6))
		return 0;
	return fam6 ? off + 40 + moat_be16(h + 4) : off + moat_be16(h + 2);
}

/*
 * The ports of a packet as the table keys it; 0 when it is not tracked
 * (a later fragment, an ICMP type that is not echo), -1 when unreadable.
 */
static __always_inline int moat_ct_ports(const struct moat_frame *f,
					 const struct moat_key *k, __u16 *sp,
					 __u16 *dp)
{
	__u8 id[2];

	*sp = *dp = 0;
	if (moat_ct_icmp(k->fam6, k->proto)) {
		if (!k->l4 || !moat_icmp_echo(k->fam6, (__u8)k->sport))
			return 0;
		/* the identifier is in the echo header's second half */
		if ((__u32)k->l4_off + 8 > moat_ct_ip_end(f, k->fam6) ||
		    MOAT_LOAD(f, (__u32)k->l4_off + 4, id, 2))
			return -1;
		*sp = *dp = (__u16)(id[0] << 8 | id[1]);
		return 1;
	}
	if (moat_l4_need(k)) {
		if (!k->l4)
			return 0; /* a later fragment: its ports are elsewhere */
		*sp = k->sport;
		*dp = k->dport;
	}
	return 1;
}

/*
 * An ICMP error: is the packet it quotes one of a tracked flow?  The
 * quoted IP header follows the 8 bytes of the ICMP header; IPv6's is read
 * without extension headers.  All of it must lie inside the error's own
 * IP packet, and a quoted later fragment has no ports to read.
 */
static __always_inline int moat_ct_related(const struct moat_frame *f,
					   const struct moat_key *k, __u64 now)
{
	struct moat_ct_key ck;
	struct moat_ct_val *v;
	__u32 off = (__u32)k->l4_off + 8, l4, end = moat_ct_ip_end(f, k->fam6);
	__u16 sp = 0, dp = 0;
	__u8 h[40], p[8], proto, from_b, later = 0;

	if (k->fam6) {
		if (off + 40 > end || MOAT_LOAD(f, off, h, 40) ||
		    (h[0] >> 4) != 6)
			return 0;
		proto = h[6];
		l4 = off + 40;
	} else {
		if (off + 20 > end || MOAT_LOAD(f, off, h, 20) ||
		    (h[0] >> 4) != 4 || (h[0] & 0x0f) < 5)
			return 0;
		proto = h[9];
		later = (moat_be16(h + 6) & 0x1fff) != 0;
		l4 = off + (__u32)(h[0] & 0x0f) * 4;
	}
	if (proto == 6 || proto == 17 || proto == 132) {
		if (later || l4 + 4 > end || MOAT_LOAD(f, l4, p, 4))
			return 0;
		sp = (__u16)(p[0] << 8 | p[1]);
		dp = (__u16)(p[2] << 8 | p[3]);
	} else if (moat_ct_icmp(k->fam6, proto)) {
		if (later || l4 + 8 > end || MOAT_LOAD(f, l4, p, 8) ||
		    !moat_icmp_echo(k->fam6, p[0]))
			return 0;
		sp = dp = (__u16)(p[4] << 8 | p[5]);
	}
	if (k->fam6) {
		__u64 s[2], d[2];

		__builtin_memcpy(s, h + 8, 16);
		__builtin_memcpy(d, h + 24, 16);
		moat_ct_key6(&ck, s, sp, d, dp, proto, &from_b);
	} else {
		moat_ct_key4(&ck, moat_be32(h + 12), sp, moat_be32(h + 16), dp,
			     proto, &from_b);
	}
	v = bpf_map_lookup_elem(&ct, &ck);
	return v && !moat_ct_expired(v, k->fam6, proto, now);
}

/* A packet's addresses as the maps key them (IPv4: [0] host order, [1] 0). */
static __always_inline void moat_key_addrs(const struct moat_key *k, __u64 *src,
					   __u64 *dst)
{
	if (k->fam6) {
		src[0] = k->src6[0];
		src[1] = k->src6[1];
		dst[0] = k->dst6[0];
		dst[1] = k->dst6[1];
	} else {
		src[0] = k->src4;
		dst[0] = k->dst4;
		src[1] = dst[1] = 0;
	}
}

static __always_inline void moat_frag_key_of(const struct moat_key *k,
					     struct moat_frag_key *fk)
{
	moat_key_addrs(k, fk->src, fk->dst);
	fk->id = k->frag_id;
	fk->proto = k->proto;
	fk->fam6 = k->fam6;
	fk->pad = 0;
}

/* A later fragment: the verdict its first fragment got, or NULL. */
static __always_inline const struct moat_frag_val *
moat_frag_find(const struct moat_key *k, __u64 now, __u32 generation)
{
	struct moat_frag_key fk;
	const struct moat_frag_val *v;

	moat_frag_key_of(k, &fk);
	v = bpf_map_lookup_elem(&frags, &fk);
	if (!v || now - v->seen_ns > MOAT_FRAG_TIMEOUT_NS ||
	    v->generation != generation)
		return NULL;
	return v;
}

/* A first fragment: its verdict, for the rest of its packet. */
static __always_inline void moat_frag_note(const struct moat_key *k,
					   __u32 slot, __u32 drop, __u64 now,
					   __u32 generation)
{
	struct moat_frag_key fk;
	struct moat_frag_val v = { .seen_ns = now, .slot = slot,
				   .generation = generation, .drop = !!drop };

	moat_frag_key_of(k, &fk);
	bpf_map_update_elem(&frags, &fk, &v, BPF_ANY);
}

/* TCP: the step a packet takes the flow through; returns its MOAT_CT_*. */
static __always_inline __u8 moat_ct_tcp(struct moat_ct_val *v, __u8 reply,
					__u8 from_b, __u8 fl)
{
	__u8 syn = fl & MOAT_TCP_F_SYN, ack = fl & MOAT_TCP_F_ACK;

	if (fl & MOAT_TCP_F_RST) {
		v->state = MOAT_CTS_CLOSE;
		if (reply)
			v->flags |= MOAT_CTF_REPLIED;
		return v->flags & MOAT_CTF_REPLIED ? MOAT_CT_ESTABLISHED : MOAT_CT_NEW;
	}
	if (syn && !ack) /* a retransmitted SYN; a reopen is handled by the caller */
		return !reply && v->state == MOAT_CTS_SYN_SENT ? MOAT_CT_NEW :
								 MOAT_CT_INVALID;
	if (syn) {
		if (!reply)
			return MOAT_CT_INVALID;
		if (v->state == MOAT_CTS_SYN_SENT || v->state == MOAT_CTS_SYN_RECV)
			v->state = MOAT_CTS_SYN_RECV;
		else if (v->state != MOAT_CTS_ESTABLISHED)
			return MOAT_CT_INVALID;
		v->flags |= MOAT_CTF_REPLIED;
		return MOAT_CT_ESTABLISHED;
	}
	/* no SYN: only a SYN-ACK or a RST answers a SYN */
	if (v->state == MOAT_CTS_SYN_SENT)
		return MOAT_CT_INVALID;
	if (v->state == MOAT_CTS_SYN_RECV)
		v->state = MOAT_CTS_ESTABLISHED;
	if (reply)
		v->flags |= MOAT_CTF_REPLIED;
	if ((fl & MOAT_TCP_F_FIN) && v->state >= MOAT_CTS_ESTABLISHED &&
	    v->state <= MOAT_CTS_TIME_WAIT) {
		v->flags |= from_b ? MOAT_CTF_FIN_B : MOAT_CTF_FIN_A;
		v->state = (v->flags & (MOAT_CTF_FIN_A | MOAT_CTF_FIN_B)) ==
					   (MOAT_CTF_FIN_A | MOAT_CTF_FIN_B) ?
				   MOAT_CTS_TIME_WAIT :
				   MOAT_CTS_FIN_WAIT;
	}
	return v->flags & MOAT_CTF_REPLIED ? MOAT_CT_ESTABLISHED : MOAT_CT_NEW;
}

/* A fresh entry for a flow that @k's packet opens. */
static __always_inline void moat_ct_fresh(struct moat_ct *c,
					  const struct moat_key *k, __u64 now,
					  __u32 ifindex, int egress)
{
	__builtin_memset(&c->nv, 0, sizeof(c->nv));
	c->nv.seen_ns = c->nv.created_ns = now;
	c->nv.orig_b = c->from_b;
	c->nv.ifindex = ifindex;
	c->nv.state = MOAT_CTS_OPEN;
	if (egress)
		c->nv.flags = MOAT_CTF_EGRESS;
	if (k->proto == 6) {
		__u8 fl = k->tcp_flags;

		if ((fl & (MOAT_TCP_F_SYN | MOAT_TCP_F_ACK)) == MOAT_TCP_F_SYN) {
			c->nv.state = MOAT_CTS_SYN_SENT;
		} else {
			/* the host's side of a flow it had before: trust it */
			c->nv.state = MOAT_CTS_ESTABLISHED;
			c->nv.flags |= MOAT_CTF_REPLIED | MOAT_CTF_PICKUP;
		}
	}
	/* constant offsets: the verifier refuses variable ones on the stack */
	if (c->from_b)
		c->nv.packets[1] = 1;
	else
		c->nv.packets[0] = 1;
	c->create = 1;
}

/*
 * Look @k's packet up.  @egress: the packet leaves the host (the TC
 * program), which opens flows by itself; on ingress, a new flow is made
 * only when the rules let its first packet through (moat_ct_commit()).
 * Returns the packet's MOAT_CT_* state; 0 when the packet is not tracked.
 */
static __always_inline __u8 moat_ct_look(struct moat_ct *c,
					 const struct moat_frame *f,
					 const struct moat_key *k, __u64 now,
					 __u32 ifindex, int egress)
{
	__u16 sp, dp;
	__u8 reply, fl = k->tcp_flags;
	int r;

	c->v = NULL;
	c->create = c->commit = c->reuse = 0;
	r = moat_ct_ports(f, k, &sp, &dp);
	if (r < 0)
		return moat_ct_invalid(c);
	if (!r) {
		/* an ICMP error about a tracked flow is related to it */
		if (k->l4 && moat_ct_icmp(k->fam6, k->proto) &&
		    moat_icmp_error(k->fam6, (__u8)k->sport)) {
			if (moat_ct_related(f, k, now))
				return c->state = MOAT_CT_RELATED;
			return moat_ct_invalid(c);
		}
		if (k->l4)
			return c->state = MOAT_CT_NEW; /* other ICMP: untracked */
		return moat_ct_invalid(c); /* a later fragment */
	}
	if (k->fam6)
		moat_ct_key6(&c->key, k->src6, sp, k->dst6, dp, k->proto, &c->from_b);
	else
		moat_ct_key4(&c->key, k->src4, sp, k->dst4, dp, k->proto, &c->from_b);

	c->v = bpf_map_lookup_elem(&ct, &c->key);
	if (c->v && moat_ct_expired(c->v, k->fam6, k->proto, now)) {
		c->v = NULL;
		c->reuse = 1;
	}
	if (!c->v) {
		/* what may open a flow */
		if (k->proto == 6 &&
		    ((fl & MOAT_TCP_F_RST) ||
		     (!egress && (fl & (MOAT_TCP_F_SYN | MOAT_TCP_F_ACK)) !=
					 MOAT_TCP_F_SYN)))
			return moat_ct_invalid(c);
		if (moat_ct_icmp(k->fam6, k->proto) &&
		    !moat_icmp_echo_request(k->fam6, (__u8)k->sport))
			return moat_ct_invalid(c);
		moat_ct_fresh(c, k, now, ifindex, egress);
		return c->state = MOAT_CT_NEW;
	}

	c->nv = *c->v;
	reply = c->from_b != c->nv.orig_b;
	if (k->proto == 6) {
		/* a SYN after the end of a flow opens the next one */
		if ((fl & (MOAT_TCP_F_SYN | MOAT_TCP_F_ACK | MOAT_TCP_F_RST)) ==
			    MOAT_TCP_F_SYN &&
		    (c->nv.state == MOAT_CTS_TIME_WAIT ||
		     c->nv.state == MOAT_CTS_CLOSE)) {
			moat_ct_fresh(c, k, now, ifindex, egress);
			c->reuse = 1;
			return c->state = MOAT_CT_NEW;
		}
		if (moat_ct_tcp(&c->nv, reply, c->from_b, fl) == MOAT_CT_INVALID)
			return moat_ct_invalid(c);
		c->state = c->nv.flags & MOAT_CTF_REPLIED ? MOAT_CT_ESTABLISHED :
							   MOAT_CT_NEW;
	} else {
		if (reply)
			c->nv.flags |= MOAT_CTF_REPLIED;
		c->nv.state = c->nv.flags & MOAT_CTF_REPLIED ? MOAT_CTS_REPLIED :
							      MOAT_CTS_OPEN;
		c->state = c->nv.flags & MOAT_CTF_REPLIED ? MOAT_CT_ESTABLISHED :
							   MOAT_CT_NEW;
	}
	c->nv.seen_ns = now;
	if (c->from_b)
		c->nv.packets[1]++;
	else
		c->nv.packets[0]++;
	c->commit = 1;
	return c->state;
}

/* The packet passes: make its step real. */
static __always_inline void moat_ct_commit(struct moat_ct *c)
{
	if (c->create) {
		if (bpf_map_update_elem(&ct, &c->key, &c->nv, BPF_ANY))
			moat_ct_count(MOAT_CTC_INSERT_FAILED);
		else
			moat_ct_count(c->reuse ? MOAT_CTC_REUSED : MOAT_CTC_CREATED);
	} else if (c->commit && c->v) {
		c->v->seen_ns = c->nv.seen_ns;
		c->v->state = c->nv.state;
		c->v->flags = c->nv.flags;
		c->v->packets[0] = c->nv.packets[0];
		c->v->packets[1] = c->nv.packets[1];
	}
}

#endif /* MOAT_CT_H */
