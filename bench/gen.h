/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Generators: one thread per chosen CPU, pinned, in namespace A, sending
 * a traffic's frames out of veth-a (or the given interface).
 *
 *   live    bench_gen.bpf.c run by BPF_PROG_TEST_RUN with
 *           BPF_F_TEST_XDP_LIVE_FRAMES (gen.c)
 *   afxdp   an AF_XDP socket per CPU on veth-a, queue = CPU (afxdp.c)
 *
 * Both write the same frames (templates.h) and report the same result.
 */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "templates.h"
#include "topology.h"

/* Frames per test run at most: ~170 ms at 6 Mpps. */
#define GEN_REPEAT (1u << 20)
/* Frames the kernel builds and runs through the program at a time. */
#define GEN_BATCH 64
/* Senders whose pace a generator remembers; more share the first's. */
#define GEN_MAX_SENDERS 64
/* The first test run of a run: a few batches, then it adapts (pace.c). */
#define GEN_START 256
/* Frames a test run should hold, in its own time: as 2^20 at 6 Mpps. */
#define GEN_CALL_NS 170000000ull

enum gen_tx {
	GEN_TX_LIVE = 0,
	GEN_TX_AFXDP,
	GEN_TX_COUNT,
};

/*
 * The pace of live-frames senders (pace.c): the last repeat and time per
 * frame of each, kept by the caller from run to run of one receiver (a
 * slow peer and the fast baseline each have their own).
 */
struct gen_pace {
	uint32_t repeat[GEN_MAX_SENDERS];
	double frame_ns[GEN_MAX_SENDERS];
	bool cache_warm; /* schedule.c: the receiver's flow cache has settled */
};

/* How long a run sends: @packets in all when nonzero, else @seconds. */
struct gen_limit {
	double seconds;
	uint64_t packets;
	struct gen_pace *pace; /* NULL: start afresh */
};

struct gen_result {
	uint64_t elapsed_ns; /* from the start of the threads to the last end */
	uint64_t calls; /* test runs or sendto() calls, all threads */
	uint64_t generated; /* frames handed to the interface */
	uint64_t gen_errors; /* frames the generator could not send */
	/*
	 * Time the senders' CPUs spent on the path: live, from each test
	 * run's own timing (its timer pauses while the thread yields its
	 * CPU, and on this kernel preemption happens only there); AF_XDP,
	 * the threads' CPU time (softirqs count to the thread here, as the
	 * kernel has no IRQ time accounting).  Other tenants are left out.
	 */
	double busy_ns;
	int error; /* first error of a sender, or 0 */
};

struct generator;

struct gen_ops {
	int (*run)(struct generator *g, const struct topology *t,
		   const int *cpus, int ncpus, const struct gen_limit *lim,
		   struct gen_result *res);
	void (*close)(struct generator *g);
};

struct generator {
	const struct gen_ops *ops;
	enum gen_tx tx;
	const struct traffic *tr; /* the caller keeps it alive */
};

int gen_open(struct generator **out, enum gen_tx tx, const struct topology *t,
	     const struct traffic *tr, const int *cpus, int ncpus);
int gen_live_open(struct generator **out, const struct topology *t,
		  const struct traffic *tr);
/*
 * The generator's programs loaded with @tr's templates, frames sent out
 * of @ifindex (0: none, for bench_gen_tail alone).
 */
struct bench_gen;
int gen_skel_open(struct bench_gen **out, const struct traffic *tr,
		  int ifindex);
int gen_afxdp_open(struct generator **out, const struct topology *t,
		   const struct traffic *tr, const int *cpus, int ncpus);

static inline int gen_run(struct generator *g, const struct topology *t,
			  const int *cpus, int ncpus,
			  const struct gen_limit *lim, struct gen_result *res)
{
	return g->ops->run(g, t, cpus, ncpus, lim, res);
}

static inline void gen_close(struct generator *g)
{
	if (g)
		g->ops->close(g);
}

const char *gen_tx_name(enum gen_tx tx);
int gen_tx_parse(const char *name, enum gen_tx *tx);

/*
 * The sender threads both generators use: each is pinned to its CPU and
 * moved into namespace A, then they start together; send() runs in each
 * until the deadline or its quota.
 */
struct gen_worker {
	int index, cpu;
	uint64_t quota; /* frames to send; 0: until the deadline */
	uint64_t deadline_ns;
	uint64_t calls, sent, errors;
	double busy_ns;
	int error;
	void *ctx;
};

int gen_threads_run(const struct topology *t, const int *cpus, int ncpus,
		    const struct gen_limit *lim,
		    void (*send)(struct gen_worker *w), void *ctx,
		    struct gen_result *res);

/*
 * The next test run's repeat after one of @repeat frames that took
 * @call_ns of wall-clock time and @frame_ns a frame of its own (pace.c).
 */
uint32_t gen_next_repeat(uint32_t repeat, uint64_t call_ns, double frame_ns,
			 uint64_t left, uint64_t ns_to_deadline);

#endif /* BENCH_GEN_H */
