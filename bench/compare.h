/* SPDX-License-Identifier: GPL-2.0-only */
/* Comparing two reports (compare.c), and plotting them (plot.c). */
#ifndef BENCH_COMPARE_H
#define BENCH_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"

#define COMPARE_USAGE                                                            \
	"usage: moat-bench compare OLD.json NEW.json\n"                          \
	"\n"                                                                     \
	"What moved between two runs of `run' (or of `apply-time'): per case,\n" \
	"old, new, delta and change; MOVED where the runs' own spread (the\n"    \
	"range of their rounds) does not explain the difference.\n"

/* Print the comparison; returns how many numbers moved, or -EINVAL. */
int compare_reports(const struct json *old, const struct json *new, FILE *f);

#define POOL_USAGE                                                                  \
	"usage: moat-bench pool [--json] [--wall] [[--group NAME] FILE...]...\n"    \
	"\n"                                                                        \
	"The rounds of several runs of `run' (FILE: a report of --json), pooled\n"  \
	"per case: runs, rounds, the median of every round's ratio with its\n"      \
	"quartiles and range, each run's median, rounds that reached the\n"         \
	"target.  Files after --group NAME form group NAME; for a case in\n"        \
	"several groups, each group against the first that has it: the\n"           \
	"medians' difference and P, the share of pairs of rounds in which\n"        \
	"this group's is the higher (0.50: no difference to tell).  And each\n"     \
	"case NAME-N against floor-N of its group, the same way.\n"                 \
	"\n"                                                                        \
	"  --group NAME  the files that follow belong to group NAME\n"              \
	"  --wall        wall-clock ratios (before the files); default busy time\n" \
	"  --json        JSON instead of the table\n"                               \
	"\n"                                                                        \
	"Exit status: 0 done, 1 a file is not a run report or does not pool\n"      \
	"with its group, 2 bad usage.\n"

/*
 * Pooling (pool.c): pool_add() each report in turn, under its group's
 * name, then pool_print().  pool_add() returns 0, -ENOMEM, or -EINVAL
 * with the reason on stderr (not a run report, a setting that differs
 * from the group's earlier files, a case without rounds).
 */
struct pool;
struct pool *pool_new(bool wall);
int pool_add(struct pool *p, const char *group, const struct json *report,
	     const char *file);
void pool_print(struct pool *p, bool json, FILE *f);
void pool_free(struct pool *p);

/* A line of a plot: one system on one transmitter, against rule count. */
#define PLOT_MAX_POINTS 16
#define PLOT_MAX_SERIES 24

struct plot_series {
	char name[48]; /* "moat", "nft-sets", "baseline", "moat (afxdp)" */
	double x[PLOT_MAX_POINTS], y[PLOT_MAX_POINTS];
	int n;
};

/*
 * Mpps (wall clock, median of the case runs) against rule count, per
 * system, from a run report; the baseline is the median of its runs at
 * each rule count.  Returns the number of series.
 */
int plot_mpps_series(const struct json *run, struct plot_series *s, int max);
/* End-to-end apply time (ms) against rule count, per system. */
int plot_apply_series(const struct json *apply, struct plot_series *s, int max);

#endif /* BENCH_COMPARE_H */
