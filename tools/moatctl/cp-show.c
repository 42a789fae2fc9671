// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the API's replies for people: a missing field is "-", not a
 * crash, so that a newer control plane's replies still print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cp.h"
#include "table.h"

const char *cp_str(json_object *o, const char *key)
{
	json_object *v;
	const char *s;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	s = json_object_get_string(v);
	return s && *s ? s : "-";
}

int64_t cp_int(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	return json_object_get_int64(v);
}

bool cp_bool(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return false;
	return json_object_get_boolean(v);
}

void cp_ago(char *buf, size_t size, int64_t t, time_t now)
{
	char d[32];

	if (t <= 0) {
		snprintf(buf, size, "never");
		return;
	}
	if (t > now) {
		table_duration(d, sizeof(d), (uint64_t)(t - now) * 1000000000u);
		snprintf(buf, size, "in %s", d);
	} else {
		table_duration(d, sizeof(d), (uint64_t)(now - t) * 1000000000u);
		snprintf(buf, size, "%s ago", d);
	}
}

void cp_time(char *buf, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a,b,c" of @n strings, "-" when none; cut short with "..." if long. */
static void join(char *buf, size_t size, const char **items, size_t n)
{
	size_t len = 0;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", i ? "," : "",
				 items[i]);

		if (w < 0 || (size_t)w >= size - len) {
			if (size > 4)
				strcpy(buf + size - 4, "...");
			return;
		}
		len += (size_t)w;
	}
}

void cp_labels(char *buf, size_t size, json_object *labels)
{
	size_t n = 0, cap;
	const char **items;

	if (!labels || !json_object_is_type(labels, json_type_object)) {
		snprintf(buf, size, "-");
		return;
	}
	cap = (size_t)json_object_object_length(labels);
	items = calloc(cap + 1, sizeof(*items));
	if (!items) {
		snprintf(buf, size, "-");
		return;
	}
	json_object_object_foreach(labels, k, v)
	{
		char *s;

		if (n < cap &&
		    asprintf(&s, "%s=%s", k, json_object_get_string(v)) >= 0)
			items[n++] = s;
	}
	qsort(items, n, sizeof(*items), key_cmp);
	join(buf, size, items, n);
	for (size_t i = 0; i < n; i++)
		free((char *)items[i]);
	free(items);
}

void cp_bindings(char *buf, size_t size, json_object *bindings)
{
	size_t n = 0, len;
	const char **items;

	if (!bindings || !json_object_is_type(bindings, json_type_array)) {
		snprintf(buf, size, "-");
		return;
	}
	len = json_object_array_length(bindings);
	items = calloc(len + 1, sizeof(*items));
	if (!items) {
		snprintf(buf, size, "-");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *b = json_object_array_get_idx(bindings, i);
		char *s;

		if (asprintf(&s, "%s:%s", cp_str(b, "workspace"),
			     cp_str(b, "role")) >= 0)
			items[n++] = s;
	}
	join(buf, size, items, n);
	for (size_t i = 0; i < n; i++)
		free((char *)items[i]);
	free(items);
}

bool cp_is_array(json_object *reply, FILE *f)
{
	if (reply && json_object_is_type(reply, json_type_array))
		return true;
	fprintf(stderr, "moatctl: the reply is not a list: '%.80s'\n",
		reply ? json_object_to_json_string(reply) : "");
	return false;
}

void cp_print_table(json_object *reply, FILE *f, time_t now, const char *align,
		    const char *const *heads,
		    void (*row)(struct table *t, json_object *o, time_t now),
		    const char *empty)
{
	size_t n;
	struct table *t;

	if (!cp_is_array(reply, f))
		return;
	n = json_object_array_length(reply);
	if (!n && empty) {
		fprintf(f, "%s\n", empty);
		return;
	}
	t = table_new(align, heads);
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		table_row(t);
		row(t, json_object_array_get_idx(reply, i), now);
	}
	table_print(t, f);
	table_free(t);
}

void cp_print_json(json_object *o, FILE *f)
{
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(f);
}

void cp_print_secret(FILE *f, const char *what, const char *secret)
{
	fprintf(f, "%s:%*s %s\n", what, (int)(11 - strlen(what)), "", secret);
	fprintf(stderr,
		"moatctl: warning: the %s is shown only now: the control plane keeps only its hash; store it safely\n",
		what);
}
