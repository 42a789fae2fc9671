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

/* What park.c keeps registered with the kernel's XDP dispatcher. */
enum topo_park_slot {
	TOPO_PARK_GEN = 0, /* the live-frames generator */
	TOPO_PARK_EMPTY, /* test-run's empty program */
	TOPO_PARK_MOAT, /* test-run's moat generation */
	TOPO_PARK_HIT, /* ... and the one with a flow cache */
	TOPO_PARK_SLOTS,
};

struct topology {
	char ns[2][32]; /* namespace names, under /run/netns */
	char ifname[2][16]; /* veth-a's and veth-b's names */
	int ifindex[2];
	int nsfd[2];
	int home_fd; /* the namespace this process started in */
	bool created[2];
	uint8_t mac[2][6];
	bool veth; /* the pair topo_create() made (its statistics are known) */
	/* park.c: a namespace of idle interfaces that hold programs */
	char park_ns[32];
	int park_fd;
	int park_ifindex[TOPO_PARK_SLOTS];
	bool park_created;
};

/*
 * Create both namespaces and the veth pair, with @nqueues queues each
 * way (one per CPU that sends, so that every CPU has its own ring), and
 * bring the links up.  IPv6 is disabled in both namespaces, so that the
 * kernel's own neighbour discovery does not add frames to the counts.
 */
int topo_create(struct topology *t, int nqueues);
void topo_destroy(struct topology *t);

/*
 * Use given interfaces instead (dedicated NICs, or a veth pair made by
 * hand): @ifname[TOPO_A] sends, @ifname[TOPO_B] receives, each in the
 * named namespace under /run/netns, or this process's when NULL.
 */
int topo_use(struct topology *t, const char *const ifname[2],
	     const char *const ns[2]);

/* Move the calling thread into namespace @side, or back home. */
int topo_enter(const struct topology *t, enum topo_side side);
int topo_leave(const struct topology *t);

/* Run ip(8) with @argv; the command is printed when it fails. */
int topo_ip(const char *const *argv);

/*
 * Keep @prog_fd registered with the kernel's XDP dispatcher by
 * attaching it to an idle interface of the park (slot @slot; -1 takes
 * the slot's program off): see park.c for why.
 */
int topo_park(const struct topology *t, enum topo_park_slot slot, int prog_fd);
int park_create(struct topology *t);
void park_destroy(struct topology *t);

/* Remove namespaces left by a moat-bench that was killed (cleanup). */
int topo_remove_stale(void);

#endif /* BENCH_TOPOLOGY_H */
