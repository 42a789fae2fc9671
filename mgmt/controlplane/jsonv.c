// SPDX-License-Identifier: GPL-2.0-only
/*
 * Request bodies: parsed with limits, read field by field with errors that
 * name the field, say what was expected and quote what came (jsonv.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonv.h"

/* What came, quoted in an error, cut to this many bytes */
#define GOT_MAX 48

static int fail(struct jsonv_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct jsonv_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void jsonv_prefix(struct jsonv_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->prefix, sizeof(e->prefix), fmt, ap);
	va_end(ap);
}

/* @v as JSON text, cut with "..." past GOT_MAX bytes */
static const char *got(struct json_object *v, char *buf, size_t size)
{
	const char *s = json_object_to_json_string_ext(
		v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		return "(unprintable)";
	if (strlen(s) <= GOT_MAX)
		return s;
	snprintf(buf, size, "%.*s...", GOT_MAX, s);
	return buf;
}

int jsonv_parse(const char *text, size_t len, size_t max_len, int max_depth,
		struct json_object **root, struct jsonv_err *e)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error err;
	size_t end;
	int ret = -EINVAL;

	*root = NULL;
	if (len > max_len)
		return fail(e, "request body: %zu bytes, more than %zu", len,
			    max_len);
	/* json-c would take a NUL as the end of the text */
	if (memchr(text, '\0', len))
		return fail(
			e, "request body: a NUL byte at offset %zu",
			(size_t)((const char *)memchr(text, '\0', len) - text));
	/* json-c's depth counts one more than the containers it lets in */
	tok = json_tokener_new_ex(max_depth + 1);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue ||
	    (!o && err == json_tokener_success)) {
		fail(e, "request body: %s",
		     len ? "ends inside a JSON value" :
			   "empty, expected a JSON object");
		goto out;
	}
	if (err != json_tokener_success) {
		fail(e, "request body: %s at offset %zu",
		     json_tokener_error_desc(err), end);
		goto out;
	}
	while (end < len && strchr(" \t\r\n", text[end]))
		end++;
	if (end != len) {
		fail(e,
		     "request body: bytes after the JSON value, at offset %zu",
		     end);
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		fail(e, "request body: expected a JSON object, got %s",
		     json_type_to_name(json_object_get_type(o)));
		goto out;
	}
	*root = o;
	o = NULL;
	ret = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

/* The field's value; NULL when absent or null. */
static struct json_object *field_of(struct json_object *o, const char *field)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, field, &v))
		return NULL;
	return v; /* json-c holds a null as NULL */
}

static int missing(const char *field, const char *what, struct jsonv_err *e)
{
	return fail(e, "field '%s%s': required, %s", e->prefix, field, what);
}

static void int_what(const struct jsonv_int *spec, char *buf, size_t size)
{
	snprintf(buf, size, "%s, %" PRId64 "-%" PRId64,
		 spec->what ? spec->what : "an integer", spec->min, spec->max);
}

static int int_value(struct json_object *v, const char *field,
		     const struct jsonv_int *spec, int64_t *out,
		     struct jsonv_err *e)
{
	char what[128], buf[GOT_MAX + 4];
	int64_t n;

	int_what(spec, what, sizeof(what));
	if (!json_object_is_type(v, json_type_int))
		goto bad;
	/* json-c holds integers past int64 as uint64; they are past max */
	if (json_object_get_uint64(v) > INT64_MAX &&
	    json_object_get_int64(v) >= 0)
		goto bad;
	n = json_object_get_int64(v);
	if (n < spec->min || n > spec->max)
		goto bad;
	*out = n;
	return 0;
bad:
	return fail(e, "field '%s%s': expected %s, got %s", e->prefix, field,
		    what, got(v, buf, sizeof(buf)));
}

int jsonv_get_int(struct json_object *o, const char *field,
		  const struct jsonv_int *spec, int64_t *out,
		  struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);
	char what[128];

	if (!v) {
		int_what(spec, what, sizeof(what));
		return missing(field, what, e);
	}
	return int_value(v, field, spec, out, e);
}

int jsonv_opt_int(struct json_object *o, const char *field,
		  const struct jsonv_int *spec, int64_t def, int64_t *out,
		  struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);

	if (!v) {
		*out = def;
		return 0;
	}
	return int_value(v, field, spec, out, e);
}

/* Is @c in @set ("a-z0-9._-": ranges, and a '-' first or last is itself)? */
static bool in_set(unsigned char c, const char *set)
{
	for (const char *s = set; *s; s++) {
		if (s[1] == '-' && s[2]) {
			if (c >= (unsigned char)s[0] &&
			    c <= (unsigned char)s[2])
				return true;
			s += 2;
		} else if (c == (unsigned char)*s) {
			return true;
		}
	}
	return false;
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool str_ok(const char *s, size_t n, const struct jsonv_str *spec)
{
	if (n < spec->min_len || n > spec->max_len)
		return false;
	if (spec->charset && n && !is_alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (spec->charset ? !in_set(c, spec->charset) :
				    c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static void str_what(const struct jsonv_str *spec, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s, %zu-%zu bytes",
			 spec->what ? spec->what : "a string", spec->min_len,
			 spec->max_len);

	if (spec->charset && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - n,
			 " of [%s] starting with a letter or digit",
			 spec->charset);
}

static int str_value(struct json_object *v, const char *field,
		     const struct jsonv_str *spec, const char **out,
		     struct jsonv_err *e)
{
	char what[160], buf[GOT_MAX + 4];

	if (!json_object_is_type(v, json_type_string) ||
	    !str_ok(json_object_get_string(v), json_object_get_string_len(v),
		    spec)) {
		str_what(spec, what, sizeof(what));
		return fail(e, "field '%s%s': expected %s, got %s", e->prefix,
			    field, what, got(v, buf, sizeof(buf)));
	}
	*out = json_object_get_string(v);
	return 0;
}

int jsonv_get_str(struct json_object *o, const char *field,
		  const struct jsonv_str *spec, const char **out,
		  struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);
	char what[160];

	if (!v) {
		str_what(spec, what, sizeof(what));
		return missing(field, what, e);
	}
	return str_value(v, field, spec, out, e);
}

int jsonv_opt_str(struct json_object *o, const char *field,
		  const struct jsonv_str *spec, const char *def,
		  const char **out, struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);

	if (!v) {
		*out = def;
		return 0;
	}
	return str_value(v, field, spec, out, e);
}

int jsonv_opt_bool(struct json_object *o, const char *field, bool def,
		   bool *out, struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);
	char buf[GOT_MAX + 4];

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return fail(e, "field '%s%s': expected true or false, got %s",
			    e->prefix, field, got(v, buf, sizeof(buf)));
	*out = json_object_get_boolean(v);
	return 0;
}

static const struct jsonv_str label_key = {
	.min_len = 1,
	.max_len = JSONV_LABEL_KEY_MAX,
	.charset = "A-Za-z0-9._/-",
	.what = "a label key",
};

int jsonv_opt_labels(struct json_object *o, const char *field,
		     struct json_object **out, struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);
	char what[160], buf[GOT_MAX + 4];

	*out = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return fail(
			e,
			"field '%s%s': expected an object of label strings, got %s",
			e->prefix, field, got(v, buf, sizeof(buf)));
	if (json_object_object_length(v) > JSONV_MAX_LABELS)
		return fail(e, "field '%s%s': %d labels, more than %d",
			    e->prefix, field, json_object_object_length(v),
			    JSONV_MAX_LABELS);
	json_object_object_foreach(v, key, val)
	{
		const char *s;
		size_t n;
		bool ok = true;

		if (!str_ok(key, strlen(key), &label_key)) {
			str_what(&label_key, what, sizeof(what));
			return fail(
				e,
				"field '%s%s': label key \"%.*s\": expected %s",
				e->prefix, field, GOT_MAX, key, what);
		}
		if (!json_object_is_type(val, json_type_string)) {
			ok = false;
		} else {
			s = json_object_get_string(val);
			n = json_object_get_string_len(val);
			ok = n <= JSONV_LABEL_VALUE_MAX;
			for (size_t i = 0; ok && i < n; i++)
				ok = s[i] >= 0x20 && s[i] < 0x7f;
		}
		if (!ok)
			return fail(
				e,
				"field '%s%s': label '%s': expected a string of 0-%d printable ASCII bytes, got %s",
				e->prefix, field, key, JSONV_LABEL_VALUE_MAX,
				got(val, buf, sizeof(buf)));
	}
	*out = v;
	return 0;
}

static int array_value(struct json_object *v, const char *field,
		       size_t max_items, const char *of, struct jsonv_err *e)
{
	char buf[GOT_MAX + 4];

	if (!json_object_is_type(v, json_type_array))
		return fail(e, "field '%s%s': expected an array of %s, got %s",
			    e->prefix, field, of, got(v, buf, sizeof(buf)));
	if (json_object_array_length(v) > max_items)
		return fail(e, "field '%s%s': %zu items, more than %zu",
			    e->prefix, field, json_object_array_length(v),
			    max_items);
	return 0;
}

static int strings_value(struct json_object *v, const char *field,
			 size_t max_items, const struct jsonv_str *spec,
			 struct json_object **out, struct jsonv_err *e)
{
	char name[96];
	const char *s;
	int ret;

	ret = array_value(v, field, max_items, "strings", e);
	for (size_t i = 0; !ret && i < json_object_array_length(v); i++) {
		snprintf(name, sizeof(name), "%s[%zu]", field, i);
		ret = str_value(json_object_array_get_idx(v, i), name, spec, &s,
				e);
	}
	if (!ret)
		*out = v;
	return ret;
}

int jsonv_get_strings(struct json_object *o, const char *field,
		      size_t max_items, const struct jsonv_str *spec,
		      struct json_object **out, struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);

	if (!v)
		return missing(field, "an array of strings", e);
	return strings_value(v, field, max_items, spec, out, e);
}

int jsonv_opt_strings(struct json_object *o, const char *field,
		      size_t max_items, const struct jsonv_str *spec,
		      struct json_object **out, struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);

	*out = NULL;
	if (!v)
		return 0;
	return strings_value(v, field, max_items, spec, out, e);
}

int jsonv_get_objects(struct json_object *o, const char *field,
		      size_t max_items, struct json_object **out,
		      struct jsonv_err *e)
{
	struct json_object *v = field_of(o, field);
	char buf[GOT_MAX + 4];
	int ret;

	if (!v)
		return missing(field, "an array of objects", e);
	ret = array_value(v, field, max_items, "objects", e);
	for (size_t i = 0; !ret && i < json_object_array_length(v); i++) {
		struct json_object *it = json_object_array_get_idx(v, i);

		if (!json_object_is_type(it, json_type_object))
			ret = fail(
				e,
				"field '%s%s[%zu]': expected an object, got %s",
				e->prefix, field, i, got(it, buf, sizeof(buf)));
	}
	if (!ret)
		*out = v;
	return ret;
}
