/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live-frames generator: bench_gen.bpf.c run by BPF_PROG_TEST_RUN
 * with BPF_F_TEST_XDP_LIVE_FRAMES, from one thread per chosen CPU, each
 * pinned to its CPU and moved into namespace A.
 */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stdint.h>

#include "classbench.h"
#include "topology.h"

/* Frames per test run: ~170 ms at 6 Mpps, so a stop is noticed quickly. */
#define GEN_REPEAT (1u << 20)
/* Frames the kernel builds and runs through the program at a time. */
#define GEN_BATCH 64

struct generator;

struct gen_result {
	uint64_t elapsed_ns; /* from the start of the threads to the last end */
	uint64_t calls; /* test runs completed, all threads */
	uint64_t generated; /* frames the program wrote (its own counters) */
	/*
	 * Time the senders' CPUs spent on the path, from each test run's
	 * own timing: that timer pauses while the thread yields its CPU
	 * (on this kernel, preemption happens only there), so it leaves
	 * out what other tenants of the machine take.
	 */
	double busy_ns;
	int error; /* first error of a test run, or 0 */
};

/*
 * Load the generator with the frames of @tr, in an order shuffled by
 * @seed (each flow once), sending out of veth-a.
 */
int gen_open(struct generator **out, const struct topology *t,
	     const struct cb_traffic *tr, uint64_t seed);
void gen_close(struct generator *g);
unsigned int gen_frame_len(const struct generator *g);

/*
 * Send for @seconds from @ncpus threads (@cpus: their CPUs), @repeat
 * frames per test run.  Stops early when bench_stop is set.
 */
int gen_run(struct generator *g, const struct topology *t, const int *cpus,
	    int ncpus, double seconds, uint32_t repeat, struct gen_result *res);

#endif /* BENCH_GEN_H */
