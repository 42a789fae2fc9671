/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small JSON reader for moat-bench's own reports (compare, plot): the
 * whole of RFC 8259, into a tree.  Errors say where and what:
 * "3:14: expected ',' or '}': `x'".  Nesting deeper than JSON_MAX_DEPTH
 * is refused, so that hostile input cannot exhaust the stack.
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 64

enum json_type {
	JSON_NULL = 0,
	JSON_BOOL,
	JSON_NUM,
	JSON_STR,
	JSON_ARR,
	JSON_OBJ,
};

struct json {
	enum json_type type;
	bool b;
	double num;
	char *str; /* JSON_STR: UTF-8, NUL-terminated (a \u0000 ends it) */
	struct json *v; /* JSON_ARR items, JSON_OBJ values */
	char **keys; /* JSON_OBJ keys, in order */
	size_t n;
};

/* 0, or -EINVAL with @err filled; -ENOMEM.  Free @out with json_free(). */
int json_parse(const char *text, size_t len, struct json *out, char *err,
	       size_t errlen);
int json_load(const char *path, struct json *out, char *err, size_t errlen);
void json_free(struct json *j);

/* The value of @key in object @j (the first, if repeated), or NULL. */
const struct json *json_get(const struct json *j, const char *key);
/* A dotted path of keys: "ratio.median". */
const struct json *json_at(const struct json *j, const char *path);
double json_num(const struct json *j, double dflt);
const char *json_text(const struct json *j, const char *dflt);

#endif /* BENCH_JSON_H */
