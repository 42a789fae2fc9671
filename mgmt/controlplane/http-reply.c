// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/1.1 responses with a JSON body, appended to a connection's output
 * buffer in the order the requests came.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"

static int buf_add(struct http_buf *b, const char *s, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *nd;

	while (cap - b->len < n)
		cap *= 2;
	if (cap != b->cap) {
		nd = realloc(b->data, cap);
		if (!nd)
			return -ENOMEM;
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

static int buf_printf(struct http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int buf_printf(struct http_buf *b, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* header lines are ours, short; a longer one is a bug, not input */
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return buf_add(b, line, n);
}

int http_reply_write(struct http_buf *b, const struct http_reply *r)
{
	const char *text = NULL;
	size_t len = 0, start = b->len;
	int ret;

	if (r->status < 100 || r->status > 999)
		return -EINVAL;
	if (r->body) {
		text = json_object_to_json_string_ext(
			r->body, JSON_C_TO_STRING_PLAIN |
					 JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!text)
			return -ENOMEM;
		len = strlen(text) +
		      1; /* and a newline, for people with curl */
	}
	ret = buf_printf(b, "HTTP/1.1 %d %s\r\n", r->status,
			 http_status_str(r->status));
	if (!ret && text)
		ret = buf_printf(b, "Content-Type: application/json\r\n");
	/* answers carry secrets (tokens, keys): no cache keeps them */
	if (!ret)
		ret = buf_printf(b,
				 "Content-Length: %zu\r\n"
				 "Cache-Control: no-store\r\n"
				 "X-Content-Type-Options: nosniff\r\n",
				 len);
	if (!ret && r->allow)
		ret = buf_printf(b, "Allow: %s\r\n", r->allow);
	if (!ret && r->status == 401)
		ret = buf_printf(b, "WWW-Authenticate: Bearer\r\n");
	if (!ret && r->close)
		ret = buf_printf(b, "Connection: close\r\n");
	if (!ret)
		ret = buf_add(b, "\r\n", 2);
	if (!ret && text)
		ret = buf_add(b, text, len - 1);
	if (!ret && text)
		ret = buf_add(b, "\n", 1);
	if (ret)
		b->len = start; /* all of an answer or nothing of it */
	return ret;
}

int http_reply_error(struct http_buf *b, int status, const char *msg,
		     bool close)
{
	struct json_object *o = json_object_new_object();
	struct http_reply r = { .status = status, .body = o, .close = close };
	int ret;

	if (!o)
		return -ENOMEM;
	if (json_object_object_add(o, "error", json_object_new_string(msg))) {
		json_object_put(o);
		return -ENOMEM;
	}
	ret = http_reply_write(b, &r);
	json_object_put(o);
	return ret;
}

void http_buf_free(struct http_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
