// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incremental HTTP/1.1 request parsing over http_parser: bytes in, in any
 * split, complete requests out (http.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static const char no_te[] =
	"Transfer-Encoding is not accepted; send the body with Content-Length";

enum hdr {
	HDR_OTHER,
	HDR_AUTHORIZATION,
	HDR_CONTENT_TYPE,
	HDR_HOST,
	HDR_TRANSFER_ENCODING,
};

static struct http_conn *conn_of(http_parser *p)
{
	return p->data;
}

static void set_err(struct http_conn *c, int status, const char *fmt,
		    va_list ap) __attribute__((format(printf, 3, 0)));
static void set_err(struct http_conn *c, int status, const char *fmt,
		    va_list ap)
{
	c->err.status = status;
	vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
}

/* Returns -1, which stops http_parser; the first failure is the one said. */
static int fail(struct http_conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct http_conn *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return -1;
	c->failed = true;
	va_start(ap, fmt);
	set_err(c, status, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * What is wrong with a header is noted as its bytes come, and said at the
 * end of the headers.  http_parser hands a header's bytes over when they
 * end or when a receive does, so a check made on the spot would see them
 * earlier in a stream cut small than in one read whole, and could beat
 * or lose to http_parser's own error on a later byte: the answer would
 * depend on the cuts.  Noted, the first note wins unless http_parser
 * finds the stream bad first, at a byte that does not move.
 */
static int note(struct http_conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int note(struct http_conn *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->noted)
		return 0;
	c->noted = true;
	va_start(ap, fmt);
	set_err(c, status, fmt, ap);
	va_end(ap);
	return 0;
}

/* Grown by doubling: bytes may come one at a time, up to HTTP_MAX_HEAD. */
static int append(char **s, size_t *len, size_t *cap, const char *at, size_t n)
{
	size_t want = *len + n + 1, ncap = *cap ? *cap : 64;
	char *ns;

	while (ncap < want)
		ncap *= 2;
	if (ncap != *cap) {
		ns = realloc(*s, ncap);
		if (!ns)
			return -ENOMEM;
		*s = ns;
		*cap = ncap;
	}
	memcpy(*s + *len, at, n);
	*len += n;
	(*s)[*len] = '\0';
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_conn *c = conn_of(p);

	c->cur = calloc(1, sizeof(*c->cur));
	if (!c->cur)
		return fail(c, 500, "out of memory");
	c->nheaders = 0;
	c->noted = false;
	c->body_want = c->body_cap = 0;
	c->in_value = false;
	c->field_len = c->value_len = c->target_len = c->target_cap = 0;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = conn_of(p);

	if (append(&c->cur->target, &c->target_len, &c->target_cap, at, n))
		return fail(c, 500, "out of memory");
	return 0;
}

static enum hdr hdr_kind(const char *name)
{
	if (!strcasecmp(name, "authorization"))
		return HDR_AUTHORIZATION;
	if (!strcasecmp(name, "content-type"))
		return HDR_CONTENT_TYPE;
	if (!strcasecmp(name, "host"))
		return HDR_HOST;
	if (!strcasecmp(name, "transfer-encoding"))
		return HDR_TRANSFER_ENCODING;
	return HDR_OTHER;
}

static char **hdr_slot(struct http_request *r, enum hdr k)
{
	switch (k) {
	case HDR_AUTHORIZATION:
		return &r->authorization;
	case HDR_CONTENT_TYPE:
		return &r->content_type;
	case HDR_HOST:
		return &r->host;
	default:
		return NULL;
	}
}

/* A header is complete: keep it if it matters. */
static int end_header(struct http_conn *c)
{
	enum hdr k;
	char **slot, q[72];
	size_t n = c->value_len;

	c->in_value = false;
	if (!c->field)
		return 0;
	k = hdr_kind(c->field);
	slot = hdr_slot(c->cur, k);
	if (slot && *slot) {
		http_quote(q, sizeof(q), c->field, c->field_len);
		note(c, 400, "more than one %s header", q);
	} else if (slot) {
		while (n && (c->value[n - 1] == ' ' || c->value[n - 1] == '\t'))
			n--;
		*slot = strndup(c->value ? c->value : "", n);
		if (!*slot)
			return fail(c, 500, "out of memory");
	}
	c->field_len = c->value_len = 0;
	c->field[0] = '\0';
	if (c->value)
		c->value[0] = '\0';
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = conn_of(p);

	if (c->in_value && end_header(c))
		return -1;
	if (!c->field_len && ++c->nheaders > HTTP_MAX_HEADERS)
		note(c, 431, "more than %d header fields", HTTP_MAX_HEADERS);
	if (append(&c->field, &c->field_len, &c->field_cap, at, n))
		return fail(c, 500, "out of memory");
	return 0;
}

/* RFC 9110's tchar: http_parser lets some others through */
static bool is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = conn_of(p);
	char q[72];

	if (!c->in_value && !is_token(c->field ? c->field : "")) {
		http_quote(q, sizeof(q), c->field, c->field_len);
		note(c, 400, "bad header name: '%s'", q);
	}
	if (!c->in_value && c->field &&
	    hdr_kind(c->field) == HDR_TRANSFER_ENCODING)
		note(c, 411, "%s", no_te);
	c->in_value = true;
	if (append(&c->value, &c->value_len, &c->value_cap, at, n))
		return fail(c, 500, "out of memory");
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_conn *c = conn_of(p);
	struct http_request *r = c->cur;

	if (c->in_value && end_header(c))
		return -1;
	if (p->http_major != 1)
		return fail(c, 505,
			    "HTTP/%u.%u is not supported; speak HTTP/1.1",
			    p->http_major, p->http_minor);
	if (c->noted) {
		c->failed = true;
		return -1;
	}
	r->method = p->method;
	r->version_minor = p->http_minor;
	if (!r->host && p->http_minor >= 1)
		return fail(c, 400, "no Host header");
	switch (http_split_target(r, &c->err)) {
	case 0:
		break;
	case -ENOMEM:
		return fail(c, 500, "out of memory");
	default:
		c->failed = true;
		return -1;
	}
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0) {
		if (p->content_length > HTTP_MAX_BODY)
			return fail(c, 413,
				    "a body of %llu bytes, more than %u",
				    (unsigned long long)p->content_length,
				    HTTP_MAX_BODY);
		c->body_want = p->content_length;
	}
	r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = conn_of(p);
	struct http_request *r = c->cur;

	size_t cap = c->body_cap;
	char *nb;

	/* Content-Length only (Transfer-Encoding is refused) */
	if (r->body_len + n > c->body_want)
		return fail(c, 400, "a body longer than its Content-Length");
	/*
	 * Grown as the bytes come, not at once: a connection that promises
	 * a megabyte costs a megabyte only once it has sent one.
	 */
	if (r->body_len + n + 1 > cap) {
		cap = cap ? cap * 2 : 4096;
		if (cap < r->body_len + n + 1)
			cap = r->body_len + n + 1;
		if (cap > c->body_want + 1)
			cap = c->body_want + 1;
		nb = realloc(r->body, cap);
		if (!nb)
			return fail(c, 500, "out of memory");
		r->body = nb;
		c->body_cap = cap;
	}
	memcpy(r->body + r->body_len, at, n);
	r->body_len += n;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *c = conn_of(p);
	struct http_request *r = c->cur;

	if (r->body)
		r->body[r->body_len] = '\0';
	c->cur = NULL;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	/* an Upgrade stops http_parser at this message: nothing after counts */
	if (p->upgrade)
		r->keep_alive = false;
	if (!r->keep_alive) {
		c->done = true;
		http_parser_pause(p, 1);
	}
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void http_conn_init(struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	/* process-wide, the same for every connection: the request line and
	 * headers with their separators, which our own count leaves out */
	http_parser_set_max_header_size(HTTP_MAX_HEAD);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
}

void http_request_free(struct http_request *r)
{
	size_t i;

	if (!r)
		return;
	free(r->target);
	for (i = 0; i < r->nseg; i++)
		free(r->seg[i]);
	free(r->seg);
	for (i = 0; i < r->nquery; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	free(r->query);
	free(r->authorization);
	free(r->content_type);
	free(r->host);
	free(r->body);
	free(r);
}

void http_conn_free(struct http_conn *c)
{
	struct http_request *r, *next;

	for (r = c->head; r; r = next) {
		next = r->next;
		http_request_free(r);
	}
	http_request_free(c->cur);
	free(c->field);
	free(c->value);
	memset(c, 0, sizeof(*c));
}

static void parser_failed(struct http_conn *c, enum http_errno e)
{
	const char *what = http_errno_description(e);

	switch (e) {
	case HPE_HEADER_OVERFLOW:
		fail(c, 431, "request line and headers exceed %u bytes",
		     HTTP_MAX_HEAD);
		break;
	case HPE_INVALID_METHOD:
		fail(c, 400, "unknown method");
		break;
	case HPE_INVALID_VERSION:
		fail(c, 400, "not an HTTP/1.x request line");
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		/* Transfer-Encoding with Content-Length, or not ending in chunked */
		if (c->parser.uses_transfer_encoding) {
			fail(c, 411, "%s", no_te);
			break;
		}
		fail(c, 400, "bad request: %s", what);
		break;
	default:
		fail(c, 400, "bad request: %s", what);
		break;
	}
}

int http_conn_feed(struct http_conn *c, const void *buf, size_t len)
{
	enum http_errno e;

	if (c->done || c->failed || !len)
		return 0;
	http_parser_execute(&c->parser, &settings, buf, len);
	e = HTTP_PARSER_ERRNO(&c->parser);
	if (e == HPE_OK || e == HPE_PAUSED)
		return 0;
	if (!c->failed)
		parser_failed(c, e);
	c->done = true;
	/* 500 is said for nothing else */
	if (c->err.status == 500)
		return -ENOMEM;
	return 0;
}

int http_conn_next(struct http_conn *c, struct http_request **req)
{
	struct http_request *r = c->head;

	if (r) {
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		r->next = NULL;
		*req = r;
		return 1;
	}
	return c->failed ? -EPROTO : 0;
}

bool http_conn_done(const struct http_conn *c)
{
	return c->done && !c->head;
}
