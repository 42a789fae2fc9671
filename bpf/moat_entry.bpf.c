// SPDX-License-Identifier: GPL-2.0-only
/*
 * What stays attached to an interface: it hands each frame to the running
 * ruleset generation.  It never changes while moat runs, so rulesets are
 * replaced without touching the attachment (and without libxdp rebuilding
 * its dispatcher).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

/* Slot 0: the running generation.  Pinned, shared by every interface. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gens SEC(".maps");

/*
 * Run early among libxdp's programs; let the next program see what moat
 * passes, and nothing that it drops.
 */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(moat_entry);

SEC("xdp")
int moat_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &gens, 0);
	/*
	 * Only reached before the first generation is published; moatd
	 * publishes one before it attaches, so this is a window of nothing.
	 */
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
