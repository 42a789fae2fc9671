// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live-frames traffic generator.  BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES runs this program once per frame; the
 * kernel recycles frame pages without rewriting them, so the program
 * writes the headers every time (the payload beyond them is zero in every
 * template and was written once, from the test run's input).
 *
 * One template per frame: in order from a table userspace shuffled (so
 * that consecutive frames aim at unrelated rules while every rule gets
 * the same share), or with many flows, a hash of the frame's number
 * picks a flow, whose template is flow % ntemplates and whose variant
 * rewrites the source address and port (bench_flow_rewrite).
 *
 * bench_gen_tail writes the same frames and hands each to the program in
 * under_test by a tail call: the test-run scenario's spread passes run it
 * (not live) to time a program on traffic spread as the live frames are,
 * without veth around it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench_kern_user.h"

/* set by userspace between open and load */
const volatile __u32 ntemplates = 1;
const volatile __u32 egress_ifindex = 0;
const volatile __u32 copy_len = BENCH_COPY_64;
const volatile __u64 nflows = 0; /* 0: each template as it is */
const volatile __u64 seed = 0;
const volatile __u32 stamp_off = 0; /* 0: no latency stamp */

/*
 * The templates' first copy_len bytes: all the generator reads for a
 * frame it sends as its template is.  The generator runs on the CPU
 * that receives, and what it reads competes with the program under
 * test for that CPU's caches, as nothing does on a real receive path.
 * In the whole templates a frame's 64 bytes sat 144 apart and took two
 * lines of most templates (1.4 MB at 10,000 rules); here elements are
 * copy_len apart from a page boundary (mmapable), so a 64-byte frame
 * reads one line.  Userspace sets the value size to copy_len, and the
 * length to ntemplates, before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BENCH_TEMPLATE_SIZE);
} frames SEC(".maps");

/*
 * The whole templates, read for a flow's variant (bench_flow_rewrite):
 * ntemplates of them with many flows, else one, never read.
 */
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

/* bench_gen_tail's program under test */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} under_test SEC(".maps");

/* Frames the program could not write (a bug if ever nonzero). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} aborted SEC(".maps");

static __always_inline int abort_frame(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&aborted, &zero);

	if (n)
		*n += 1;
	return -1;
}

/* Copy @len bytes of the template, with the bounds the verifier wants. */
#define COPY(len)                                 \
	do {                                      \
		if (data + (len) > end)           \
			return abort_frame();     \
		__builtin_memcpy(data, d, (len)); \
	} while (0)

/* The next frame into @ctx: 0, or -1 (counted) when it cannot. */
static __always_inline int write_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct bench_template *t;
	const __u8 *d;
	__u32 zero = 0, idx;
	__u64 *n, k, flow = 0;

	n = bpf_map_lookup_elem(&sent, &zero);
	if (!n)
		return abort_frame();
	k = *n;
	if (nflows) {
		flow = bench_mix64(k ^ seed ^
				   (__u64)bpf_get_smp_processor_id() << 48) %
		       nflows;
		idx = (__u32)(flow % ntemplates);
	} else {
		idx = (__u32)(k % ntemplates);
	}
	d = bpf_map_lookup_elem(&frames, &idx);
	if (!d)
		return abort_frame();

	/* the value size is copy_len: the verifier follows one branch */
	if (copy_len == BENCH_COPY_64)
		COPY(BENCH_COPY_64);
	else if (copy_len == BENCH_COPY_80)
		COPY(BENCH_COPY_80);
	else if (copy_len == BENCH_COPY_96)
		COPY(BENCH_COPY_96);
	else
		COPY(BENCH_COPY_128);

	/* variant 0 of each template is the template itself */
	if (flow >= ntemplates) {
		t = bpf_map_lookup_elem(&templates, &idx);
		if (!t ||
		    bench_flow_rewrite(data, end, t,
				       bench_mix64(flow / ntemplates ^ seed)))
			return abort_frame();
	}
	if (stamp_off) {
		__u32 magic = BENCH_STAMP_MAGIC;
		__u64 now = bpf_ktime_get_ns();

		if (stamp_off > BENCH_COPY_128 - BENCH_STAMP_LEN ||
		    data + stamp_off + BENCH_STAMP_LEN > end)
			return abort_frame();
		__builtin_memcpy(data + stamp_off, &magic, 4);
		__builtin_memcpy(data + stamp_off + 4, &now, 8);
	}
	*n = k + 1;
	return 0;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	if (write_frame(ctx))
		return XDP_ABORTED;
	return bpf_redirect(egress_ifindex, 0);
}

SEC("xdp")
int bench_gen_tail(struct xdp_md *ctx)
{
	if (write_frame(ctx))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &under_test, 0);
	abort_frame(); /* nothing under test */
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
