/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Validation of JSON request bodies over json-c.  A body is parsed with
 * a size and a depth limit and must be an object; fields are then read
 * with typed getters whose errors name the field and say what was
 * expected and what came:
 *
 *	field 'ttl': expected an integer of seconds, 1-2592000, got "abc"
 *
 * Fields the getters are not asked about are ignored.  An optional field
 * that is absent or null takes its default.  Every getter returns 0 or
 * -EINVAL with @e filled; the caller answers 400 with e->msg.
 */
#ifndef MOAT_JSONV_H
#define MOAT_JSONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* The operator API's bodies are flat records with a list or two */
#define JSONV_MAX_DEPTH 8

/* Labels: at most this many, keys [A-Za-z0-9][A-Za-z0-9._/-]*, values of
 * printable ASCII (what a host and a table can show as they are) */
#define JSONV_MAX_LABELS 64
#define JSONV_LABEL_KEY_MAX 63
#define JSONV_LABEL_VALUE_MAX 255

struct jsonv_err {
	char prefix[64]; /* put before field names: "bindings[2]." */
	char msg[256];
};

/*
 * @text of @len bytes (no NUL needed) into an object in *@root (the
 * caller puts it).  Refuses more than @max_len bytes, more than
 * @max_depth containers nested (the root object is one), anything but
 * JSON in valid UTF-8 (json-c's strict mode, which still takes
 * 'single-quoted' strings and NaN), bytes after the value, and a value
 * that is not an object.
 */
int jsonv_parse(const char *text, size_t len, size_t max_len, int max_depth,
		struct json_object **root, struct jsonv_err *e);

/* Field names in errors of the getters that follow: "bindings[2]." */
void jsonv_prefix(struct jsonv_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An integer in @min..@max; @what names it: "an integer of seconds". */
struct jsonv_int {
	int64_t min, max;
	const char *what;
};

int jsonv_get_int(struct json_object *o, const char *field,
		  const struct jsonv_int *spec, int64_t *out,
		  struct jsonv_err *e);
int jsonv_opt_int(struct json_object *o, const char *field,
		  const struct jsonv_int *spec, int64_t def, int64_t *out,
		  struct jsonv_err *e);

/*
 * A string of @min_len..@max_len bytes without control characters; the
 * pointer is into @o.  @pattern, when not NULL, is what each byte must be
 * one of, as an fnmatch-like set body ("a-z0-9-"), and the first byte must
 * be alphanumeric (names: workspaces, users, roles).
 */
struct jsonv_str {
	size_t min_len, max_len;
	const char *charset; /* NULL: any but control characters */
	const char *what; /* "a workspace name" */
};

int jsonv_get_str(struct json_object *o, const char *field,
		  const struct jsonv_str *spec, const char **out,
		  struct jsonv_err *e);
int jsonv_opt_str(struct json_object *o, const char *field,
		  const struct jsonv_str *spec, const char *def,
		  const char **out, struct jsonv_err *e);

int jsonv_opt_bool(struct json_object *o, const char *field, bool def,
		   bool *out, struct jsonv_err *e);

/*
 * An object of string values (labels): at most JSONV_MAX_LABELS, checked
 * as the comment at the top says.  *@out is the object within @o, or NULL
 * when absent.
 */
int jsonv_opt_labels(struct json_object *o, const char *field,
		     struct json_object **out, struct jsonv_err *e);

/*
 * An array of at most @max_items strings, each as @spec says.  *@out is
 * the array within @o; jsonv_opt_strings() leaves it NULL when absent.
 */
int jsonv_get_strings(struct json_object *o, const char *field,
		      size_t max_items, const struct jsonv_str *spec,
		      struct json_object **out, struct jsonv_err *e);
int jsonv_opt_strings(struct json_object *o, const char *field,
		      size_t max_items, const struct jsonv_str *spec,
		      struct json_object **out, struct jsonv_err *e);

/* An array of at most @max_items objects (each read with the getters). */
int jsonv_get_objects(struct json_object *o, const char *field,
		      size_t max_items, struct json_object **out,
		      struct jsonv_err *e);

#endif
