// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reflector, for latency: bench_reflect on veth-b sends every frame
 * back with XDP_TX, and bench_stamp on veth-a takes the stamp the
 * generator wrote into the payload (bpf_ktime_get_ns() when the frame was
 * written) and files now - stamp into a histogram.  Forwarding cases
 * (the mesh, later) put their own path between the two.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bench_kern_user.h"

const volatile __u32 stamp_off = 42; /* set by userspace before load */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} reflected SEC(".maps");

/* frames back on veth-a with a stamp, and without one */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} returned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_hist);
} hist SEC(".maps");

SEC("xdp")
int bench_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 mac[6];
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&reflected, &zero);

	if (data + 12 > end)
		return XDP_DROP;
	if (n)
		*n += 1;
	__builtin_memcpy(mac, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, mac, 6);
	return XDP_TX;
}

SEC("xdp")
int bench_stamp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 key = 1, magic, b;
	struct bench_hist *h;
	__u64 *n, ts, now = bpf_ktime_get_ns();

	if (stamp_off > BENCH_COPY_128 - BENCH_STAMP_LEN ||
	    data + stamp_off + BENCH_STAMP_LEN > end)
		goto out;
	__builtin_memcpy(&magic, data + stamp_off, 4);
	__builtin_memcpy(&ts, data + stamp_off + 4, 8);
	if (magic != BENCH_STAMP_MAGIC || ts > now)
		goto out;
	key = 0;
	h = bpf_map_lookup_elem(&hist, &key);
	if (h) {
		b = bench_hist_bucket(now - ts);
		if (b < BENCH_HIST_BUCKETS)
			h->n[b] += 1;
	}
out:
	n = bpf_map_lookup_elem(&returned, &key);
	if (n)
		*n += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
