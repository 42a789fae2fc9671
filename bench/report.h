/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What moat-bench prints: a table for people on stdout, and on request
 * a JSON file for machines, which says where and how it was measured
 * (host, kernel, CPU, moat version, date, command line) next to the
 * numbers, so that results can be compared across runs (compare.c) and
 * plotted (plot.c).
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

struct run_report {
	const struct run_opts *o;
	const struct case_result *cases;
	int ncases;
};

/* One rule count of `moat-bench apply-time`; times are medians, in ms. */
struct apply_result {
	char system[24]; /* "moat" or a peer's name */
	uint32_t nrules;
	int reps;
	double parse_text_ms; /* moat_ruleset_parse of the canonical text */
	double parse_ms, compile_ms, load_ms, switch_ms, total_ms; /* stats */
	double wall_ms; /* moat_dp_apply as the caller sees it */
	double enforced_ms; /* parse_text + enforce_ns: text in, enforced */
	double end_to_end_ms; /* parse_text + wall: text in, the call returned */
	double e2e_min_ms, e2e_max_ms; /* the spread of the reps */
	double enforced_min_ms, enforced_max_ms;
	double target_ms; /* 0: none */
	uint32_t nterms, nlists, max_list;
	uint64_t map_bytes;
	uint64_t rss_kb, hwm_kb; /* of the process that applied */
	char skipped[200]; /* a peer that cannot express the ruleset */
};

struct apply_report {
	int argc;
	char *const *argv;
	uint64_t seed;
	const struct apply_result *rows;
	int nrows;
};

void report_run_table(const struct run_report *r, FILE *f);
int report_run_json(const struct run_report *r, const char *path);
/* The self-consistency of every case; returns how many failed. */
int report_check(const struct run_report *r, FILE *f);
void report_apply_table(const struct apply_report *r, FILE *f);
int report_apply_json(const struct apply_report *r, const char *path);

/* JSON writing (report_json.c), shared by both reports. */
void json_str(FILE *f, const char *s);
void json_header(FILE *f, const char *kind, int argc, char *const *argv);

#endif /* BENCH_REPORT_H */
