/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What moat-bench prints: a table for people on stdout, and on request
 * a JSON file for machines, which says where and how it was measured
 * (host, kernel, CPU, moat version, date, command line) next to the
 * numbers, so that results can be compared across runs.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

struct run_report {
	int argc;
	char *const *argv;
	const int *cpus;
	int ncpus;
	double seconds;
	int rounds;
	uint64_t seed;
	unsigned int ipv6_pct;
	const struct case_result *cases;
	int ncases;
};

/* One rule count of `moat-bench apply-time`; times are medians, in ms. */
struct apply_result {
	uint32_t nrules;
	int reps;
	double parse_text_ms; /* moat_ruleset_parse of the canonical text */
	double parse_ms, compile_ms, load_ms, switch_ms, total_ms; /* stats */
	double wall_ms; /* moat_dp_apply as the caller sees it */
	double end_to_end_ms; /* parse_text + wall: text in, enforced */
	double target_ms; /* 0: none */
	uint32_t nterms, nlists, max_list;
	uint64_t map_bytes;
	uint64_t rss_kb, hwm_kb; /* of the process that applied */
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
void report_apply_table(const struct apply_report *r, FILE *f);
int report_apply_json(const struct apply_report *r, const char *path);

#endif /* BENCH_REPORT_H */
