// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_floor: the least any firewall with per-rule counters does with a
 * frame.  It reads the 5-tuple (Ethernet, the fixed IPv4 or IPv6 header,
 * TCP/UDP ports or ICMP type and code), picks one of @nrules counters by
 * a multiplicative hash of it, counts the frame there and drops it.  No
 * rule is matched: whatever a real classifier adds is the gap between
 * this and moat at the same rule count.
 *
 * The counters are laid out as moat's own (struct moat_counter, one a
 * rule for each CPU, in one array, CPU after CPU), so that the memory
 * the traffic spreads over is the same as moat's rule counters.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "moat_kern_user.h"

/* The case's rule count, set by userspace before load (>= 1). */
const volatile __u32 nrules = 1;
/*
 * How far apart the counters are, in counters (--floor-stride): 1 packs
 * them as moat's rule counters are; more spreads the memory a frame may
 * touch as far as moat's flow cache spreads moat's, one line a frame.
 */
const volatile __u32 stride = 1;

/*
 * One counter a rule for each CPU, CPU after CPU, as moat's counters are;
 * sized to @nrules times @stride times the CPUs before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_counter);
} counters SEC(".maps");

#define FLOOR_MUL 0x9e3779b97f4a7c15ull /* 2^64 / the golden ratio */
#define FLOOR_VLAN_MAX 2

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/*
 * The ports (TCP, UDP) or type and code (ICMP, ICMPv6) at @l4, as one
 * word; 0 for other protocols.  -1: a header the packet promises and the
 * frame cuts short.
 */
static __always_inline long l4_word(const __u8 *l4, const void *end, __u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if ((const void *)(l4 + 4) > end)
			return -1;
		return (long)*(const __u32 *)l4;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((const void *)(l4 + 2) > end)
			return -1;
		return (long)*(const __u16 *)l4;
	}
	return 0;
}

/*
 * The tuple folded into 64 bits, multiplied to spread it over the
 * counters.  The high half is the well-mixed one; it is scaled to
 * [0, nrules) by a multiply, not a division: no classifier needs one,
 * so neither does the least of them.
 */
static __always_inline __u32 rule_of(__u64 addrs, __u64 rest)
{
	__u64 x = (addrs * FLOOR_MUL ^ rest) * FLOOR_MUL;

	return (__u32)((x >> 32) * nrules >> 32);
}

/* The rule index of the frame, or -1 when it cannot be parsed. */
static __always_inline long classify(void *data, void *end)
{
	struct ethhdr *eth = data;
	__u16 proto;
	long l4;
	__u8 *p;

	if ((void *)(eth + 1) > end)
		return -1;
	proto = eth->h_proto;
	p = (__u8 *)(eth + 1);
#pragma unroll
	for (int i = 0; i < FLOOR_VLAN_MAX; i++) {
		struct vlan_tag *v = (struct vlan_tag *)p;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > end)
			return -1;
		proto = v->proto;
		p = (__u8 *)(v + 1);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (struct iphdr *)p;
		__u32 hl;

		if ((void *)(ip + 1) > end)
			return -1;
		hl = ip->ihl * 4u;
		if (hl < sizeof(*ip))
			return -1;
		/* a later fragment carries no transport header */
		if (ip->frag_off & bpf_htons(0x1fff))
			l4 = 0;
		else
			l4 = l4_word(p + hl, end, ip->protocol);
		if (l4 < 0)
			return -1;
		return rule_of((__u64)ip->saddr << 32 | ip->daddr,
			       (__u64)l4 << 8 | ip->protocol);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)p;
		const __u64 *s, *d;

		if ((void *)(ip6 + 1) > end)
			return -1;
		/* the fixed header only: no extension-header walk */
		l4 = l4_word((__u8 *)(ip6 + 1), end, ip6->nexthdr);
		if (l4 < 0)
			return -1;
		s = (const __u64 *)&ip6->saddr;
		d = (const __u64 *)&ip6->daddr;
		return rule_of((s[0] ^ s[1]) * FLOOR_MUL ^ d[0] ^ d[1],
			       (__u64)l4 << 8 | ip6->nexthdr);
	}
	return -1;
}

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	long rule = classify(data, end);
	/* an unparsed frame is still a frame: counted, in slot 0 */
	__u32 slot = bpf_get_smp_processor_id() * nrules +
		     (rule < 0 ? 0 : (__u32)rule);
	struct moat_counter *c;

	/* a constant: at 1 the verifier drops the multiply with the branch */
	if (stride > 1)
		slot *= stride;
	c = bpf_map_lookup_elem(&counters, &slot);

	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
