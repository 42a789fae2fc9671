/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text exposition, format 0.0.4: each family once, its
 * "# HELP" and "# TYPE" lines first, then its samples together.  Label
 * values are escaped as the format says (backslash, double quote,
 * newline); help texts are the program's own and carry neither newline
 * nor backslash.  Both moatd and moat-controlplane render with this.
 */
#ifndef MOAT_PROM_H
#define MOAT_PROM_H

#include <stddef.h>
#include <stdint.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The text, grown as needed; @err -ENOMEM once an append failed. */
struct prom_buf {
	char *p;
	size_t len, cap;
	int err;
};

void prom_buf_free(struct prom_buf *b);

/* "# HELP @name @help" and "# TYPE @name @type" (counter, gauge). */
void prom_family(struct prom_buf *b, const char *name, const char *type,
		 const char *help);

/*
 * One sample: @name{k1="v1",k2="v2"} @value.  @labels holds @nlabels
 * pairs, name then value; values are escaped.
 */
void prom_sample(struct prom_buf *b, const char *name,
		 const char *const *labels, int nlabels, uint64_t value);

/* A sample without labels. */
static inline void prom_value(struct prom_buf *b, const char *name,
			      uint64_t value)
{
	prom_sample(b, name, NULL, 0, value);
}

/* @s escaped for a label value (appended; not quoted). */
void prom_escape(struct prom_buf *b, const char *s);

#endif /* MOAT_PROM_H */
