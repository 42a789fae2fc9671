/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kt-peers: the peers in the kernel, frame by frame against the
 * reference matcher (kt-peers.c says how).
 */
#ifndef BENCH_PEERS_KT_PEERS_H
#define BENCH_PEERS_KT_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "reference.h"
#include "ruleset.h"

#define FRAME_CAP 128

/* Frames to send, with the verdict moat gives each on @iface. */
struct frames {
	const char *iface; /* the receiving interface, for `in' */
	uint8_t (*buf)[FRAME_CAP];
	size_t *len;
	bool *drop; /* the reference's verdict */
	bool *ip; /* reaches the IP stack: not ARP or other non-IP */
	size_t n, cap;
};

/* Build, classify and keep a frame (a malformed one is not kept). 0 or -errno. */
int frames_add(struct frames *fs, const struct moat_ruleset *rs,
	       const struct moat_frame_spec *s);
/* A flow as a frame, whole or as a later fragment. */
int frames_add_flow(struct frames *fs, const struct moat_ruleset *rs,
		    const struct moat_ref_packet *p, bool later_fragment);
/* Neighbour discovery, ARP and LLDP. */
int frames_add_fixed(struct frames *fs, const struct moat_ruleset *rs);
/* A ClassBench ruleset's frames: aimed at each rule, later fragments, crossed. */
int frames_classbench(struct frames *fs, const struct moat_ruleset *rs,
		      uint64_t seed);
/* @n frames drawn from small pools of addresses, protocols, ports and flags. */
int frames_pool(struct frames *fs, const struct moat_ruleset *rs, uint64_t seed,
		size_t n, bool fragments, bool fixed);
/* Frame @i as the reference reads it, and what decides it, into @buf. */
void frames_describe(const struct frames *fs, const struct moat_ruleset *rs,
		     size_t i, char *buf, size_t n);
void frames_free(struct frames *fs);

/* Print the apply time of each peer for each size in @list (kt-peers-apply.c). */
void peers_apply_times(const char *list, const char *ifname);

#endif /* BENCH_PEERS_KT_PEERS_H */
