/* SPDX-License-Identifier: GPL-2.0-only */
/* Comparing two reports (compare.c), and plotting them (plot.c). */
#ifndef BENCH_COMPARE_H
#define BENCH_COMPARE_H

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
