// SPDX-License-Identifier: GPL-2.0-only
/*
 * Learning the host's own flows: a TC egress program on each protected
 * interface records what the host sends, so that the replies find their
 * flow in the table and pass without a rule.  It never drops and never
 * changes a packet.  Loaded once per interface; it shares the instance's
 * conntrack maps (moat_ct.h) with every firewall generation.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define MOAT_LOAD(f, off, buf, len) \
	bpf_skb_load_bytes((struct __sk_buff *)(f)->ctx, (off), (buf), (len))
#include "moat_parse.h"
#include "moat_ct.h"

SEC("tc")
int moat_egress(struct __sk_buff *skb)
{
	struct moat_frame f = {
		.data = (const __u8 *)(long)skb->data,
		.end = (const __u8 *)(long)skb->data_end,
		.ctx = skb,
	};
	struct moat_key k = {};
	struct moat_ct ct;

	if (moat_parse(&f, &k) != MOAT_K_CLASSIFY)
		return TC_ACT_OK;
	moat_ct_look(&ct, &f, &k, moat_now(), skb->ifindex, 1);
	moat_ct_commit(&ct);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
