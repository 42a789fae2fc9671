// SPDX-License-Identifier: GPL-2.0-only
/*
 * Receivers that only count.  bench_count with verdict XDP_DROP is the
 * baseline: the least an XDP program can do with a frame it has to
 * account for, so that a case's ratio to it shows the cost of the case
 * alone.  With XDP_PASS it stands in front of a peer firewall that works
 * after XDP (veth drops redirected frames when the receiving side has no
 * XDP program), and counts what reached the stack.  bench_empty is the
 * empty program whose BPF_PROG_TEST_RUN cost test-run subtracts.
 *
 * bench_sink, in veth-b's tc ingress hook, drops what an XDP receiver
 * passed, at the first hook the stack offers: a case whose frames pass
 * (conntrack's established flows, new flows let in) then measures its
 * XDP program and veth's skb, not namespace B's routing of frames that
 * are not addressed to it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 verdict = XDP_DROP; /* set by userspace before load */

/* frames received, per CPU; userspace sums before and after a run */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} received SEC(".maps");

SEC("xdp")
int bench_count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&received, &zero);

	if (n)
		*n += 1;
	return verdict;
}

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int bench_sink(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
