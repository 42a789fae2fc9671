/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiving side on veth-b: what processed the frames, and its own
 * count of them.  Kinds: the baseline (bench_count, XDP_DROP), the
 * floor (bench_floor, one counter a rule), moat (counted by its
 * per-rule counters), a peer firewall (its own counters,
 * behind an XDP_PASS counter when it works after XDP), and the reflector
 * (latency).  Counts are read before and after a run; only the
 * difference matters.
 */
#ifndef BENCH_RX_H
#define BENCH_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_kern_user.h"
#include "dataplane.h"
#include "peer.h"
#include "topology.h"

#define BENCH_MAX_CPUS 256

struct rx_counts {
	uint64_t received; /* frames the system under test processed */
	/*
	 * Frames the XDP stage in front of it counted: the same as received
	 * for XDP receivers, the XDP_PASS counter for peers after XDP.
	 */
	uint64_t xdp_seen;
	bool has_returned; /* reflect: frames back on veth-a */
	uint64_t returned, returned_unstamped;
	bool has_hist;
	struct bench_hist hist; /* reflect: latency, ns */
	/* moat: its flow cache's misses and second-bucket hits, all CPUs */
	bool has_fc;
	uint64_t fc_miss, fc_second;
};

struct receiver;

struct receiver_ops {
	int (*attach)(struct receiver *rx, const struct topology *t);
	int (*detach)(struct receiver *rx, const struct topology *t);
	int (*count)(struct receiver *rx, const struct topology *t,
		     struct rx_counts *c);
	void (*destroy)(struct receiver *rx);
};

struct receiver {
	const struct receiver_ops *ops;
	const char *name;
};

/* bench_count with @verdict (XDP_DROP: the baseline; XDP_PASS). */
int rx_count_open(struct receiver **out, const char *name, uint32_t verdict);
/* The baseline. */
int rx_drop_open(struct receiver **out, const char *name);
/*
 * The floor: parse, one counter of @nrules (>= 1) a frame, drop; the
 * counters @stride (1 to BENCH_FLOOR_STRIDE_MAX) apart.
 */
int rx_floor_open(struct receiver **out, uint32_t nrules, uint32_t stride);
/* The floor's XDP program, for test runs. */
int rx_floor_prog_fd(struct receiver *rx);

/*
 * moat in an instance of its own (pins under <bpffs>/moat/@instance),
 * with room for @capacity rule counters; @ct NULL: no connection
 * tracking.  @flow_cache as moat_dp_opts.flow_cache (-1: none).
 */
int rx_moat_open(struct receiver **out, const char *instance, uint32_t capacity,
		 const struct moat_ct_opts *ct, int flow_cache);
int rx_moat_apply(struct receiver *rx, const struct moat_ruleset *rs,
		  struct moat_apply_stats *st);
/* The running generation's program (BPF_PROG_TEST_RUN), or -1. */
int rx_moat_prog_fd(struct receiver *rx);
/* The data plane behind a moat receiver: rows, conntrack. */
struct moat_dp *rx_moat_dp(struct receiver *rx);

/*
 * @inner with a sink behind it (rx_sink.c): what it passes is dropped in
 * veth-b's tc ingress hook during its turns.  The sink owns @inner when
 * @own_inner (and destroys it even when the open fails).
 */
int rx_sink_open(struct receiver **out, struct receiver *inner, bool own_inner);
/* bench_count with XDP_PASS, and the sink: the bare pass. */
int rx_pass_open(struct receiver **out, const char *name);

/* Remove a pin root and everything under it (pins outlive processes). */
void rx_moat_remove_pins(const char *root);

/* Remove moat pins of moat-bench runs whose process is gone (cleanup). */
int rx_moat_remove_stale(void);

/*
 * A peer firewall with @rs installed on veth-b (in namespace B); the
 * install's own time in *apply_ns.  Peers that work after XDP get an
 * XDP_PASS counter on veth-b while they are measured; an XDP peer's
 * program is taken off veth-b while the baseline runs.
 */
int rx_peer_open(struct receiver **out, const struct bench_peer *p,
		 const struct moat_ruleset *rs, const struct topology *t,
		 uint64_t *apply_ns);

/* The reflector on veth-b and the stamp reader on veth-a. */
int rx_reflect_open(struct receiver **out, unsigned int stamp_off);

static inline int rx_attach(struct receiver *rx, const struct topology *t)
{
	return rx->ops->attach(rx, t);
}

static inline int rx_detach(struct receiver *rx, const struct topology *t)
{
	return rx->ops->detach(rx, t);
}

static inline int rx_count(struct receiver *rx, const struct topology *t,
			   struct rx_counts *c)
{
	return rx->ops->count(rx, t, c);
}

static inline void rx_destroy(struct receiver *rx)
{
	if (rx)
		rx->ops->destroy(rx);
}

/* @out = @after - @before (stats.c). */
void rx_counts_sub(const struct rx_counts *after,
		   const struct rx_counts *before, struct rx_counts *out);

/* Sum over CPUs of key @key of a per-CPU array of u64 (rx.c). */
int bench_percpu_sum_key(int map_fd, uint32_t key, uint64_t *sum);

/* Attach or detach an XDP program on veth-b, natively, from namespace B. */
int rx_xdp_attach(const struct topology *t, enum topo_side side, int prog_fd,
		  uint32_t flags, const char *what);
int rx_xdp_detach(const struct topology *t, enum topo_side side, uint32_t flags,
		  const char *what);

#endif /* BENCH_RX_H */
