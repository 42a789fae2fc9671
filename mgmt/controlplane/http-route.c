// SPDX-License-Identifier: GPL-2.0-only
/*
 * The operator API's routes: a table of method and path pattern, where a
 * ":name" segment captures.  A path some route has, asked with a method
 * none takes, is 405 with the methods that would do, not 404.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

/* Does @r's path match @pattern?  Captures into @m when it does. */
static bool path_matches(const char *pattern, const struct http_request *r,
			 struct http_match *m)
{
	const char *p = pattern;
	size_t i = 0, n;

	m->nparam = 0;
	if (*p == '/')
		p++;
	while (*p) {
		n = strcspn(p, "/");
		if (i == r->nseg)
			return false;
		if (*p == ':') {
			if (m->nparam == HTTP_MAX_PARAMS)
				return false;
			m->param[m->nparam].name = p + 1;
			m->param[m->nparam].name_len = n - 1;
			m->param[m->nparam++].value = r->seg[i];
		} else if (strlen(r->seg[i]) != n || memcmp(r->seg[i], p, n)) {
			return false;
		}
		i++;
		p += n;
		if (*p == '/')
			p++;
	}
	return i == r->nseg;
}

static void allow_add(char *allow, size_t size, enum http_method method)
{
	const char *name = http_method_str(method);
	size_t len = strlen(allow);

	/* the table may list a method twice for one path */
	for (const char *s = allow; (s = strstr(s, name)); s++)
		if ((s == allow || s[-1] == ' ') &&
		    (s[strlen(name)] == ',' || !s[strlen(name)]))
			return;
	snprintf(allow + len, size - len, "%s%s", len ? ", " : "", name);
}

int http_route(const struct http_route *routes, size_t n,
	       const struct http_request *r, struct http_match *m, char *allow,
	       size_t allow_size)
{
	struct http_match tmp;
	bool path_found = false;

	if (allow_size)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!path_matches(routes[i].pattern, r, &tmp))
			continue;
		if (routes[i].method == r->method) {
			*m = tmp;
			m->handler = routes[i].handler;
			if (allow_size)
				allow[0] = '\0';
			return 0;
		}
		path_found = true;
		if (allow_size)
			allow_add(allow, allow_size, routes[i].method);
	}
	return path_found ? -EOPNOTSUPP : -ENOENT;
}

const char *http_match_param(const struct http_match *m, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < m->nparam; i++)
		if (m->param[i].name_len == len &&
		    !memcmp(m->param[i].name, name, len))
			return m->param[i].value;
	return NULL;
}
