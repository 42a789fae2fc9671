/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frames a generator sends, as templates: one per rule of a
 * ClassBench-style ruleset (the rule-spread traffic of the rule-count
 * scenarios), or one per protocol template (IPv4 and IPv6; UDP, TCP and
 * ICMP) for scenarios that need no ruleset.  Every frame of a run has the
 * same length; the bytes after the headers are zero in every template, so
 * that a generator writes only the headers (copy_len bytes) per frame.
 *
 * With many flows, frame k takes flow f = hash(k) mod flows, template
 * f mod n and variant f / n: the source address bits and source port
 * that the template's rule leaves free are rewritten from the variant
 * (bench_flow_rewrite), so that traffic spreads across rules and across
 * flows (conntrack entries) alike.
 */
#ifndef BENCH_TEMPLATES_H
#define BENCH_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include "bench_kern_user.h"
#include "classbench.h"

/* The protocol templates: --proto udp4,tcp6,... */
enum traffic_proto {
	TP_UDP4 = 0,
	TP_TCP4,
	TP_ICMP4,
	TP_UDP6,
	TP_TCP6,
	TP_ICMP6,
	TP_COUNT,
};

struct traffic_opts {
	unsigned int size; /* frame length; 0: the smallest that fits */
	uint64_t flows; /* 0: one flow per template */
	uint64_t active; /* rule-spread: aim at this many rules; 0: all */
	uint64_t seed; /* order of the templates, flow variants */
	int stamp; /* write a latency stamp after the headers */
	uint8_t tcp_flags; /* TCP of the protocol templates; 0: ACK */
	uint8_t src_mac[6], dst_mac[6]; /* veth-a's and veth-b's */
};

struct traffic {
	struct bench_template *t;
	size_t n;
	unsigned int frame_len;
	unsigned int copy_len; /* BENCH_COPY_*: bytes written per frame */
	unsigned int stamp_off; /* 0: no stamp */
	uint64_t flows; /* 0, or a multiple of n: distinct flows */
	uint64_t seed;
	uint32_t *rule; /* rule-spread: the rule each template aims at */
};

/*
 * The frames of @cb (one per rule of @rs), in an order shuffled by
 * o->seed so that consecutive frames aim at unrelated rules.  -EINVAL
 * with a message when o->size cannot hold the headers.
 */
int traffic_from_rules(const struct moat_ruleset *rs,
		       const struct cb_traffic *cb,
		       const struct traffic_opts *o, struct traffic *out);

/* One template per protocol in @protos. */
int traffic_from_protos(const enum traffic_proto *protos, int n,
			const struct traffic_opts *o, struct traffic *out);

void traffic_free(struct traffic *tr);

/* The whole frame of template @i (frame_len bytes): headers, then zeros. */
void traffic_frame(const struct traffic *tr, size_t i, uint8_t *buf);

/*
 * The frame of flow @flow (frame_len bytes): template flow % n, and for
 * flow >= n its variant flow / n, as the generators draw them.
 */
void traffic_flow_frame(const struct traffic *tr, uint64_t flow, uint8_t *buf);

/* Write frame number @k of a sequence into @buf (frame_len bytes, already
 * holding a frame of this traffic): what bench_gen does, for AF_XDP. */
void traffic_write(const struct traffic *tr, uint64_t k, uint32_t cpu,
		   uint8_t *buf);

/* "udp4" and so on; -EINVAL for an unknown name. */
int traffic_proto_parse(const char *name, enum traffic_proto *p);
const char *traffic_proto_name(enum traffic_proto p);

/* Zero the payload after @hdr bytes and fix the L4 checksum (templates.c). */
void traffic_zero_payload(uint8_t *frame, unsigned int len, unsigned int hdr,
			  int family, uint8_t proto);

#endif /* BENCH_TEMPLATES_H */
