/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Aligned columns for people: a header row, then cells; each column as
 * wide as its widest cell, two spaces apart, no trailing blanks.
 */
#ifndef MOAT_TABLE_H
#define MOAT_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct table;

/*
 * @align has one letter per column, 'l' or 'r' (numbers); @heads as
 * many titles.  NULL when out of memory.
 */
struct table *table_new(const char *align, const char *const *heads);

/* Start a row; then one table_cell() per column. */
int table_row(struct table *t);
int table_cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

/* "999", "1.2k", "3.4M", "12G": SI steps of 1000, three digits at most. */
char *table_human(char buf[16], uint64_t v);
/* A rate per second the same way; "-" when unknown (negative), "<0.1". */
char *table_human_rate(char buf[16], double v);

/* A duration for people: "42s", "3m07s", "5h02m", "2d04h". */
void table_duration(char *buf, size_t size, uint64_t ns);

#endif /* MOAT_TABLE_H */
