// SPDX-License-Identifier: GPL-2.0-only
/*
 * A request target into percent-decoded path segments and query
 * parameters.  The API's paths name workspaces, tokens and hosts by
 * segment, so a segment must be one thing: an encoded '/' or NUL, and
 * '.', '..' and empty segments, are refused rather than normalised.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Bad input is quoted, cut to this many bytes */
#define QUOTE 64

void http_quote(char *dst, size_t size, const char *s, size_t n)
{
	size_t i, max = n > QUOTE ? QUOTE : n;

	if (!size)
		return;
	/* the message goes back in a JSON string: ASCII, no controls */
	for (i = 0; i < max && i + 4 < size; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (i < n && i + 4 <= size) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/* "@what: '@s'" */
static int bad(struct http_error *err, const char *what, const char *s,
	       size_t n)
{
	char q[QUOTE + 4];

	http_quote(q, sizeof(q), s, n);
	err->status = 400;
	snprintf(err->msg, sizeof(err->msg), "%s: '%s'", what, q);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * @s of @n bytes, %XX decoded (and '+' as a space in a query) into a new
 * string in *@out; -EINVAL for a bad escape or an encoded NUL.
 */
static int decode(const char *s, size_t n, bool query, char **out,
		  struct http_error *err)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;
	int hi, lo;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (s[i] == '+' && query) {
			d[j++] = ' ';
			continue;
		}
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		hi = i + 2 < n ? hexval(s[i + 1]) : -1;
		lo = i + 2 < n ? hexval(s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			free(d);
			return bad(err, "bad %-escape", s, n);
		}
		if (!hi && !lo) {
			free(d);
			return bad(err, "encoded NUL", s, n);
		}
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

static int add_segment(struct http_request *r, const char *s, size_t n,
		       struct http_error *err)
{
	char **ns, *seg;
	int ret;

	if (!n)
		return bad(err, "empty segment in path", r->target,
			   strcspn(r->target, "?"));
	ret = decode(s, n, false, &seg, err);
	if (ret)
		return ret;
	if (strchr(seg, '/')) {
		free(seg);
		return bad(err, "encoded '/' in path segment", s, n);
	}
	if (!strcmp(seg, ".") || !strcmp(seg, "..")) {
		free(seg);
		return bad(err, "a dot segment in path", s, n);
	}
	ns = realloc(r->seg, (r->nseg + 1) * sizeof(*ns));
	if (!ns) {
		free(seg);
		return -ENOMEM;
	}
	r->seg = ns;
	r->seg[r->nseg++] = seg;
	return 0;
}

static int add_param(struct http_request *r, const char *s, size_t n,
		     struct http_error *err)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	struct http_param p = { 0 }, *np;
	int ret;

	if (!nlen)
		return bad(err, "query parameter without a name", s, n);
	ret = decode(s, nlen, true, &p.name, err);
	if (!ret)
		ret = eq ? decode(eq + 1, n - nlen - 1, true, &p.value, err) :
			   decode("", 0, true, &p.value, err);
	if (!ret) {
		np = realloc(r->query, (r->nquery + 1) * sizeof(*np));
		if (np) {
			r->query = np;
			r->query[r->nquery++] = p;
			return 0;
		}
		ret = -ENOMEM;
	}
	free(p.name);
	free(p.value);
	return ret;
}

int http_split_target(struct http_request *r, struct http_error *err)
{
	const char *t = r->target ? r->target : "";
	size_t plen = strcspn(t, "?"), i, end;
	const char *q;
	int ret;

	if (t[0] != '/')
		return bad(err, "request target is not a path", t, strlen(t));
	if (strchr(t, '#'))
		return bad(err, "a fragment in request target", t, strlen(t));
	/* "/" has no segments; "/a/b" has two */
	for (i = 1; plen > 1 && i <= plen; i = end + 1) {
		end = i + strcspn(t + i, "/?");
		if (end > plen)
			end = plen;
		ret = add_segment(r, t + i, end - i, err);
		if (ret)
			return ret;
	}
	if (!t[plen])
		return 0;
	for (q = t + plen + 1; *q; q += end + (q[end] == '&')) {
		end = strcspn(q, "&");
		if (!end)
			continue;
		ret = add_param(r, q, end, err);
		if (ret)
			return ret;
	}
	return 0;
}

const char *http_request_query(const struct http_request *r, const char *name)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (!strcmp(r->query[i].name, name))
			return r->query[i].value;
	return NULL;
}
