/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiving side on veth-b: an XDP program that drops every frame
 * and counts what it processed.  Two kinds: the baseline (bench_drop)
 * and moat itself, counted by moat's own per-rule counters.  Counts are
 * read before and after a run; only the difference matters.
 */
#ifndef BENCH_RX_H
#define BENCH_RX_H

#include <stdint.h>

#include "dataplane.h"
#include "topology.h"

struct receiver;

struct receiver_ops {
	int (*attach)(struct receiver *rx, const struct topology *t);
	int (*detach)(struct receiver *rx, const struct topology *t);
	int (*count)(struct receiver *rx, uint64_t *packets);
	void (*destroy)(struct receiver *rx);
};

struct receiver {
	const struct receiver_ops *ops;
	const char *name;
};

/* The baseline: count per CPU, XDP_DROP. */
int rx_drop_open(struct receiver **out, const char *name);

/*
 * moat in an instance of its own (pins under <bpffs>/moat/@instance),
 * with room for @capacity rule counters.
 */
int rx_moat_open(struct receiver **out, const char *instance,
		 uint32_t capacity);
int rx_moat_apply(struct receiver *rx, const struct moat_ruleset *rs,
		  struct moat_apply_stats *st);

/* Remove a pin root and everything under it (pins outlive processes). */
void rx_moat_remove_pins(const char *root);

/* Remove moat pins of moat-bench runs whose process is gone (cleanup). */
int rx_moat_remove_stale(void);

static inline int rx_attach(struct receiver *rx, const struct topology *t)
{
	return rx->ops->attach(rx, t);
}

static inline int rx_detach(struct receiver *rx, const struct topology *t)
{
	return rx->ops->detach(rx, t);
}

static inline int rx_count(struct receiver *rx, uint64_t *packets)
{
	return rx->ops->count(rx, packets);
}

static inline void rx_destroy(struct receiver *rx)
{
	if (rx)
		rx->ops->destroy(rx);
}

#endif /* BENCH_RX_H */
