// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct table {
	int ncols;
	const char *align;
	char **cells; /* row-major; row 0 is the header */
	size_t ncells, cap;
};

static int push(struct table *t, char *s)
{
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, cap * sizeof(*nc));

		if (!nc) {
			free(s);
			return -ENOMEM;
		}
		t->cells = nc;
		t->cap = cap;
	}
	t->cells[t->ncells++] = s;
	return 0;
}

struct table *table_new(const char *align, const char *const *heads)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = (int)strlen(align);
	t->align = align;
	for (int i = 0; i < t->ncols; i++) {
		char *s = strdup(heads[i]);

		if (!s || push(t, s) < 0) {
			table_free(t);
			return NULL;
		}
	}
	return t;
}

int table_row(struct table *t)
{
	/* pad a short row, so that cells stay in their columns */
	while (t->ncells % (size_t)t->ncols) {
		char *s = strdup("");

		if (!s || push(t, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

int table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return push(t, s);
}

/* Columns count characters, not bytes: skip UTF-8 continuation bytes. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void table_print(const struct table *t, FILE *f)
{
	size_t nc = (size_t)t->ncols, *w = calloc(nc, sizeof(*w));

	if (!w)
		return;
	for (size_t i = 0; i < t->ncells; i++) {
		size_t cw = width(t->cells[i]);

		if (cw > w[i % nc])
			w[i % nc] = cw;
	}
	for (size_t r = 0; r < t->ncells; r += nc) {
		char *const *row = t->cells + r;
		size_t n = t->ncells - r < nc ? t->ncells - r : nc;

		/* empty cells at the end print nothing: no trailing blanks */
		while (n > 1 && !row[n - 1][0])
			n--;
		for (size_t c = 0; c < n; c++) {
			int pad = (int)(w[c] - width(row[c]));

			if (c)
				fputs("  ", f);
			if (t->align[c] == 'r')
				fprintf(f, "%*s%s", pad, "", row[c]);
			else if (c + 1 < n)
				fprintf(f, "%s%*s", row[c], pad, "");
			else
				fputs(row[c], f);
		}
		fputc('\n', f);
	}
	free(w);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

static char *human(char buf[16], double v)
{
	static const char units[] = "kMGTPE";
	int u = -1;

	if (v < 999.5) {
		snprintf(buf, 16, "%.0f", v);
		return buf;
	}
	while (v >= 999.5 && u < (int)sizeof(units) - 2) {
		v /= 1000;
		u++;
	}
	/* one decimal below 10 (1.2k), none above (12k, 345M) */
	if (v < 9.95)
		snprintf(buf, 16, "%.1f%c", v, units[u]);
	else
		snprintf(buf, 16, "%.0f%c", v, units[u]);
	return buf;
}

char *table_human(char buf[16], uint64_t v)
{
	if (v < 1000) {
		snprintf(buf, 16, "%llu", (unsigned long long)v);
		return buf;
	}
	return human(buf, (double)v);
}

char *table_human_rate(char buf[16], double v)
{
	if (v < 0)
		snprintf(buf, 16, "-");
	else if (v > 0 && v < 0.05) /* a trickle is not nothing */
		snprintf(buf, 16, "<0.1");
	else if (v > 0 && v < 9.95)
		snprintf(buf, 16, "%.1f", v);
	else
		return human(buf, v);
	return buf;
}

void table_duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;

	if (s < 60)
		snprintf(buf, size, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus",
			 (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, size, "%lluh%02llum",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
	else
		snprintf(buf, size, "%llud%02lluh",
			 (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24));
}
