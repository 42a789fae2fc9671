/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the key parsers of moatd.conf share: config.c holds the file's
 * grammar and the data-plane keys, config-cp.c the keys of joining a
 * fleet.  Not for use outside the config parser.
 */
#ifndef MOAT_AGENT_CONFIG_KEY_H
#define MOAT_AGENT_CONFIG_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What an error message quotes of the offending text. */
#define QUOTE_MAX 80

struct cursor {
	const char *file;
	struct agent_config *c;
	struct config_errors *errs;
	unsigned line;
	unsigned seen[24]; /* line a key was first given on, by key index */
};

/* An error at @text (@n bytes) of @line: "FILE:LINE:COL: what: 'text'". */
void config_bad(struct cursor *cur, const char *line, const char *text,
		size_t n, const char *what);
bool config_is_space(char ch);
/* Copy @n bytes of @s into @dst, cut to @size - 1, NUL-terminated. */
void config_set_str(char *dst, size_t size, const char *s, size_t n);
/* An absolute path shorter than @size; else an error. */
bool config_check_path(struct cursor *cur, const char *line, const char *v,
		       size_t n, size_t size);
/* A path given relative to the config file's directory, made whole. */
void config_near_file(struct cursor *cur, const char *line, const char *v,
		      size_t n, char *dst, size_t size);
/* A decimal number from @lo to @hi, all of v[0..n). */
bool config_number_in(const char *v, size_t n, uint64_t lo, uint64_t hi,
		      uint64_t *out);

void config_parse_controlplane(struct cursor *cur, const char *line,
			       const char *v, size_t n);
void config_parse_controlplane_ca(struct cursor *cur, const char *line,
				  const char *v, size_t n);
void config_parse_token_file(struct cursor *cur, const char *line,
			     const char *v, size_t n);
void config_parse_user(struct cursor *cur, const char *line, const char *v,
		       size_t n);
void config_parse_counters_interval(struct cursor *cur, const char *line,
				    const char *v, size_t n);
void config_parse_metrics_listen(struct cursor *cur, const char *line,
				 const char *v, size_t n);

#endif /* MOAT_AGENT_CONFIG_KEY_H */
