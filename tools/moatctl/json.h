/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small streaming JSON writer for moatctl's --json output: compact,
 * one document per line, strings escaped so that any bytes (paths,
 * names) come out as valid JSON; invalid UTF-8 becomes U+FFFD.
 */
#ifndef MOAT_JSON_H
#define MOAT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool comma[JSON_MAX_DEPTH]; /* a value was written at this level */
	bool after_key;
};

void json_init(struct json *j, FILE *f);

void json_obj_open(struct json *j);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j);
void json_arr_close(struct json *j);

void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Non-finite numbers have no JSON form: null. */
void json_double(struct json *j, double v);

/* A key and its value. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_kuint(struct json *j, const char *key, uint64_t v);
void json_kbool(struct json *j, const char *key, bool v);

/* End the document with a newline and flush. */
void json_end(struct json *j);

#endif /* MOAT_JSON_H */
