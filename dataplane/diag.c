// SPDX-License-Identifier: GPL-2.0-only
/*
 * Diagnostics: what the parser (and the compiler) found wrong with a
 * ruleset, kept as a list so that a check reports several problems at
 * once and the caller decides where they are printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ruleset.h"

/*
 * Warnings are capped like errors: a generated file of a million rules
 * that all earn the same warning must not cost a million messages.
 */
#define MOAT_DIAGS_MAX_WARNINGS MOAT_DIAGS_MAX_ERRORS

static struct moat_diag *diag_slot(struct moat_diags *d)
{
	struct moat_diag *v;
	size_t cap;

	/* the capacity is the next power of two: no field to keep it in */
	if (d->n == 0 || (d->n & (d->n - 1)) == 0) {
		cap = d->n ? 2 * d->n : 4;
		v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		d->v = v;
	}
	return &d->v[d->n];
}

/* Warnings kept so far; @lines: only those about a line. */
static size_t kept_warnings(const struct moat_diags *d, bool lines)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].severity == MOAT_WARNING &&
		     (d->v[i].line || !lines);
	return n;
}

int moat_diag_add(struct moat_diags *d, enum moat_severity sev, uint32_t line,
		  uint32_t col, const char *fmt, ...)
{
	int ret = sev == MOAT_ERROR ? -EINVAL : 0;
	struct moat_diag *dg;
	va_list ap;

	if (!d)
		return ret;
	if (sev == MOAT_ERROR) {
		/*
		 * Count every error, even one not kept, so that a failed
		 * allocation below cannot turn a bad ruleset into a good one,
		 * and so that the printout can say some were left out.
		 */
		if (d->nerrors++ >= MOAT_DIAGS_MAX_ERRORS)
			return ret;
	} else {
		/*
		 * Counted, kept or not, for the note that some were left out.
		 * A warning about the whole file is always kept: there are
		 * few, and they say what the others cannot (that rule
		 * analysis stopped early, say).
		 */
		d->nwarnings++;
		if (line && kept_warnings(d, true) >= MOAT_DIAGS_MAX_WARNINGS)
			return ret;
	}

	dg = diag_slot(d);
	if (!dg)
		return ret;
	dg->severity = sev;
	dg->line = line;
	dg->col = col;
	va_start(ap, fmt);
	vsnprintf(dg->msg, sizeof(dg->msg), fmt, ap);
	va_end(ap);
	d->n++;
	return ret;
}

/* "file:line:col: ", "file: ", "line:col: " or nothing */
static void print_where(FILE *f, const char *file, uint32_t line, uint32_t col)
{
	if (file && line)
		fprintf(f, "%s:%u:%u: ", file, line, col);
	else if (file)
		fprintf(f, "%s: ", file);
	else if (line)
		fprintf(f, "%u:%u: ", line, col);
}

void moat_diags_print(const struct moat_diags *d, const char *file, FILE *f)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		const struct moat_diag *dg = &d->v[i];

		print_where(f, file, dg->line, dg->col);
		fprintf(f, "%s: %s\n",
			dg->severity == MOAT_ERROR ? "error" : "warning",
			dg->msg);
	}
	if (d->nerrors > MOAT_DIAGS_MAX_ERRORS) {
		print_where(f, file, 0, 0);
		fprintf(f,
			"note: too many errors, only the first %d are shown\n",
			MOAT_DIAGS_MAX_ERRORS);
	}
	if (d->nwarnings > kept_warnings(d, false)) {
		print_where(f, file, 0, 0);
		fprintf(f, "note: %zu warnings, only %zu are shown\n",
			d->nwarnings, kept_warnings(d, false));
	}
}

void moat_diags_free(struct moat_diags *d)
{
	if (!d)
		return;
	free(d->v);
	d->v = NULL;
	d->n = 0;
	d->nerrors = 0;
	d->nwarnings = 0;
}
