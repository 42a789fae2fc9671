// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition: prom.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static void put(struct prom_buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct prom_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void prom_family(struct prom_buf *b, const char *name, const char *type,
		 const char *help)
{
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, help);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type);
	puts_(b, "\n");
}

void prom_escape(struct prom_buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		size_t n = strcspn(p, "\\\"\n");

		put(b, p, n);
		p += n;
		if (!*p)
			break;
		puts_(b, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
	}
}

void prom_sample(struct prom_buf *b, const char *name,
		 const char *const *labels, int nlabels, uint64_t value)
{
	char num[24];

	puts_(b, name);
	for (int i = 0; i < nlabels; i++) {
		puts_(b, i ? "," : "{");
		puts_(b, labels[2 * i]);
		puts_(b, "=\"");
		prom_escape(b, labels[2 * i + 1]);
		puts_(b, "\"");
	}
	if (nlabels)
		puts_(b, "}");
	snprintf(num, sizeof(num), " %" PRIu64 "\n", value);
	puts_(b, num);
}
