// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recursive descent over the text, with every read bounds-checked and
 * anything after the value an error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct reader {
	const char *p, *end, *start;
	char *err;
	size_t errlen;
	int depth;
};

static int fail(struct reader *r, const char *what)
{
	int line = 1, col = 1;

	for (const char *q = r->start; q < r->p; q++, col++)
		if (*q == '\n') {
			line++;
			col = 0;
		}
	if (r->p < r->end)
		snprintf(r->err, r->errlen, "%d:%d: %s: `%.*s'", line, col,
			 what, (int)(r->end - r->p < 12 ? r->end - r->p : 12),
			 r->p);
	else
		snprintf(r->err, r->errlen, "%d:%d: %s at the end", line, col,
			 what);
	return -EINVAL;
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool take(struct reader *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return false;
	r->p += n;
	return true;
}

static int hex4(struct reader *r, uint32_t *v)
{
	*v = 0;
	if (r->end - r->p < 4)
		return fail(r, "truncated \\u escape");
	for (int i = 0; i < 4; i++, r->p++) {
		char c = *r->p;
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 :
					       -1;

		if (d < 0)
			return fail(r, "bad \\u escape");
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

static size_t utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int escape(struct reader *r, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t cp, lo;
	int ret;

	if (r->p == r->end)
		return fail(r, "truncated escape");
	e = strchr(from, *r->p);
	if (*r->p && e) {
		out[(*n)++] = to[e - from];
		r->p++;
		return 0;
	}
	if (*r->p++ != 'u')
		return r->p--, fail(r, "bad escape");
	ret = hex4(r, &cp);
	if (ret)
		return ret;
	if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
		if (!take(r, "\\u"))
			return fail(r, "lone high surrogate");
		ret = hex4(r, &lo);
		if (ret)
			return ret;
		if (lo < 0xdc00 || lo >= 0xe000)
			return fail(r, "bad low surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp < 0xe000) {
		return fail(r, "lone low surrogate");
	}
	*n += utf8(cp, out + *n);
	return 0;
}

static int string(struct reader *r, char **out)
{
	const char *q = r->p + 1; /* after the quote */
	size_t n = 0;
	char *s;
	int ret = 0;

	/* escapes never make a string longer than its text */
	while (q < r->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= r->end)
		return fail(r, "unterminated string");
	r->p++;
	s = malloc((size_t)(q - r->p) + 1);
	if (!s)
		return -ENOMEM;
	while (!ret && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p;

		if (c < 0x20) {
			ret = fail(r, "control character in a string");
		} else if (c == '\\') {
			r->p++;
			ret = escape(r, s, &n);
		} else {
			s[n++] = (char)c;
			r->p++;
		}
	}
	if (ret) {
		free(s);
		return ret;
	}
	r->p++;
	s[n] = '\0';
	*out = s;
	return 0;
}

static int number(struct reader *r, double *v)
{
	const char *q = r->p;
	char buf[64];

	/* the JSON grammar, which strtod alone would stretch */
	if (q < r->end && *q == '-')
		q++;
	if (q < r->end && *q == '0')
		q++;
	else if (q < r->end && *q >= '1' && *q <= '9')
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	else
		return fail(r, "expected a value");
	if (q < r->end && *q == '.') {
		if (++q >= r->end || *q < '0' || *q > '9')
			return r->p = q, fail(r, "expected a digit");
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		if (++q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || *q < '0' || *q > '9')
			return r->p = q, fail(r, "expected a digit");
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q - r->p >= (long)sizeof(buf))
		return fail(r, "number too long");
	memcpy(buf, r->p, (size_t)(q - r->p));
	buf[q - r->p] = '\0';
	*v = strtod(buf, NULL);
	r->p = q;
	return 0;
}

static int value(struct reader *r, struct json *j);

/* Room for one more item: capacity is 4, then doubles. */
static int grow(struct json *j, bool keys)
{
	size_t cap = j->n ? 2 * j->n : 4;
	struct json *v;

	if (j->n && (j->n < 4 || (j->n & (j->n - 1))))
		return 0;
	v = realloc(j->v, cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	j->v = v;
	if (keys) {
		char **k = realloc(j->keys, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		j->keys = k;
	}
	return 0;
}

static int container(struct reader *r, struct json *j, bool obj)
{
	char close = obj ? '}' : ']';
	int ret;

	if (++r->depth > JSON_MAX_DEPTH)
		return fail(r, "nested too deeply");
	j->type = obj ? JSON_OBJ : JSON_ARR;
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return 0;
	}
	for (;;) {
		ret = grow(j, obj);
		if (ret)
			return ret;
		memset(&j->v[j->n], 0, sizeof(j->v[0]));
		if (obj) {
			skip_ws(r);
			if (r->p >= r->end || *r->p != '"')
				return fail(r, "expected a key");
			j->keys[j->n] = NULL;
			ret = string(r, &j->keys[j->n]);
			if (ret)
				return ret;
			skip_ws(r);
			if (r->p >= r->end || *r->p != ':') {
				free(j->keys[j->n]);
				return fail(r, "expected ':'");
			}
			r->p++;
		}
		j->n++;
		ret = value(r, &j->v[j->n - 1]);
		if (ret)
			return ret;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			r->depth--;
			return 0;
		}
		return fail(r, obj ? "expected ',' or '}'" :
				     "expected ',' or ']'");
	}
}

static int value(struct reader *r, struct json *j)
{
	memset(j, 0, sizeof(*j));
	skip_ws(r);
	if (r->p >= r->end)
		return fail(r, "expected a value");
	switch (*r->p) {
	case '{':
		return container(r, j, true);
	case '[':
		return container(r, j, false);
	case '"':
		j->type = JSON_STR;
		return string(r, &j->str);
	case 't':
	case 'f':
		j->type = JSON_BOOL;
		j->b = *r->p == 't';
		return take(r, j->b ? "true" : "false") ?
			       0 :
			       fail(r, "expected a value");
	case 'n':
		return take(r, "null") ? 0 : fail(r, "expected a value");
	default:
		j->type = JSON_NUM;
		return number(r, &j->num);
	}
}

int json_parse(const char *text, size_t len, struct json *out, char *err,
	       size_t errlen)
{
	struct reader r = { .p = text,
			    .end = text + len,
			    .start = text,
			    .err = err,
			    .errlen = errlen };
	int ret = value(&r, out);

	if (!ret) {
		skip_ws(&r);
		if (r.p != r.end)
			ret = fail(&r, "unexpected text after the value");
	}
	if (ret)
		json_free(out);
	return ret;
}

void json_free(struct json *j)
{
	for (size_t i = 0; i < j->n; i++) {
		json_free(&j->v[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->v);
	free(j->keys);
	free(j->str);
	memset(j, 0, sizeof(*j));
}
