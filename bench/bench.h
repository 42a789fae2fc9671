/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moat-bench: what the subcommands share.
 */
#ifndef BENCH_H
#define BENCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Exit statuses of every subcommand. */
#define BENCH_EXIT_OK 0
#define BENCH_EXIT_FAIL 1 /* the benchmark could not run */
#define BENCH_EXIT_USAGE 2 /* bad command line */

/* Set by SIGINT/SIGTERM: loops stop, and the topology is torn down. */
extern volatile sig_atomic_t bench_stop;

/* "moat-bench: ..." on stderr; progress lines go there too. */
void bench_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Exit status of a test that cannot run here (liburing's T_EXIT_SKIP). */
#define BENCH_EXIT_SKIP 77

/* --floor-stride: at most this many counters' room a counter */
#define BENCH_FLOOR_STRIDE_MAX 64

/* Sum over CPUs of key 0 of a per-CPU array of u64 (rx.c). */
int bench_percpu_sum(int map_fd, uint64_t *sum);

/* Subcommands: argv[0] is the subcommand's name; return an exit status. */
int cmd_run(int argc, char **argv);
int cmd_apply_time(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_smoke(int argc, char **argv);

/* Parsing of command-line values (options.c); 0 or -EINVAL. */
int bench_parse_u32_list(const char *s, uint32_t *v, int max, int *n);
int bench_parse_cpu_list(const char *s, int *cpus, int max, int *n);
int bench_parse_u64(const char *s, uint64_t *v);
int bench_parse_seconds(const char *s, double *v);
/* "auto" (0), "off" (-1) or MOAT_FC_LOG_MIN..MOAT_FC_LOG_MAX: log2 buckets. */
int bench_parse_flow_cache(const char *s, int *v);
/* The same back: "auto", "off" or the number, in @buf. */
const char *bench_flow_cache_name(int v, char *buf, size_t len);

#endif /* BENCH_H */
