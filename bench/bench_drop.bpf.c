// SPDX-License-Identifier: GPL-2.0-only
/*
 * The baseline receiver: the least an XDP program can do with a frame
 * it has to account for.  moat's cases are reported as a ratio to this
 * program's rate, measured in the same run, so what the ratio shows is
 * the cost of moat's parsing and classification alone.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* frames received, per CPU; userspace sums before and after a run */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} received SEC(".maps");

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&received, &zero);

	if (n)
		*n += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
