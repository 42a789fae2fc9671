// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live-frames traffic generator.  BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES runs this program once per frame; the
 * kernel recycles frame pages without rewriting them, so the program
 * writes the whole frame every time.  Templates are taken in order, one
 * sequence per CPU: userspace shuffles the table, so consecutive frames
 * aim at unrelated rules while every rule gets the same share.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench_kern_user.h"

/* set by userspace between open and load */
const volatile __u32 ntemplates = 1;
const volatile __u32 egress_ifindex = 0;
const volatile __u32 frame_len = BENCH_FRAME_SHORT;

/* resized to ntemplates before load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_template);
} templates SEC(".maps");

/*
 * Frames this CPU has written: the template cursor, and the "generated"
 * count of the self-consistency check (userspace sums it over CPUs).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sent SEC(".maps");

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct bench_template *t;
	__u32 zero = 0, idx;
	__u64 *n;

	n = bpf_map_lookup_elem(&sent, &zero);
	if (!n)
		return XDP_ABORTED;
	idx = *n % ntemplates;
	*n += 1;
	t = bpf_map_lookup_elem(&templates, &idx);
	if (!t)
		return XDP_ABORTED;

	if (frame_len == BENCH_FRAME_SHORT) {
		if (data + BENCH_FRAME_SHORT > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, t->data, BENCH_FRAME_SHORT);
	} else {
		if (data + BENCH_FRAME_LONG > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, t->data, BENCH_FRAME_LONG);
	}
	return bpf_redirect(egress_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
