/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bench topology: two network namespaces joined by one veth pair.
 *
 *   namespace A (generator)            namespace B (receiver)
 *   bench_gen --bpf_redirect--> veth-a ====== veth-b --> XDP: baseline or moat
 *
 * Traffic exists only inside these namespaces.  They are created by
 * topo_create() and removed by topo_destroy(), which also runs at exit
 * and is safe to call twice, so that an error or SIGINT never leaves
 * them behind.
 */
#ifndef BENCH_TOPOLOGY_H
#define BENCH_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

enum topo_side {
	TOPO_A = 0, /* the generator's side */
	TOPO_B = 1, /* the receiver's side */
};

struct topology {
	char ns[2][32]; /* namespace names, under /run/netns */
	char ifname[2][16]; /* veth-a's and veth-b's names */
	int ifindex[2];
	int nsfd[2];
	int home_fd; /* the namespace this process started in */
	bool created[2];
};

/*
 * Create both namespaces and the veth pair, with @nqueues queues each
 * way (one per CPU that sends, so that every CPU has its own ring), and
 * bring the links up.  IPv6 is disabled in both namespaces, so that the
 * kernel's own neighbour discovery does not add frames to the counts.
 */
int topo_create(struct topology *t, int nqueues);
void topo_destroy(struct topology *t);

/* Move the calling thread into namespace @side, or back home. */
int topo_enter(const struct topology *t, enum topo_side side);
int topo_leave(const struct topology *t);

/*
 * Frames veth-a failed to hand to veth-b (ethtool statistics ending in
 * "xdp_xmit_errors"): veth's ring was full.  -ENOENT when the driver
 * does not report them.
 */
int topo_xmit_errors(const struct topology *t, uint64_t *errors);

/* Remove namespaces left by a moat-bench that was killed (cleanup). */
int topo_remove_stale(void);

#endif /* BENCH_TOPOLOGY_H */
