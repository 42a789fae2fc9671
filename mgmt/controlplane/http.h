/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP/1.1 side of the operator API, independent of the transport:
 * TLS hands in plaintext bytes and takes the response bytes.
 *
 * A server loop, per connection:
 *
 *	http_conn_init(&c);
 *	on each receive:
 *		http_conn_feed(&c, buf, n);
 *		while ((ret = http_conn_next(&c, &req)) == 1) {
 *			route, handle, http_reply_write(&out, &reply);
 *			http_request_free(req);
 *		}
 *		if (ret < 0)    (the stream is bad: say why, then close)
 *			http_reply_error(&out, c.err.status, c.err.msg, true);
 *		send out; close once http_conn_done(&c) and out is sent
 *	http_conn_free(&c);
 *
 * Requests come out in the order they were sent, however the bytes were
 * cut, pipelined or not.  After a request that ends the connection
 * (Connection: close, HTTP/1.0 without keep-alive, an Upgrade) the rest of
 * the stream is ignored; after a bad one, http_conn_next() returns the
 * requests before it, then the error.
 *
 * Bodies are taken with Content-Length only: a request with any
 * Transfer-Encoding (chunked included) is refused with 411 Length
 * Required.  Every API client sends a body it already has in full, and a
 * chunked body would be one more parser to get right before the caller is
 * authenticated.
 */
#ifndef MOAT_HTTP_H
#define MOAT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

struct json_object;

/*
 * The request line and the headers together, with their separators (431
 * past this).  http_parser counts them, with a bound that is one for the
 * whole process: http_conn_init() sets it.
 */
#define HTTP_MAX_HEAD (16u << 10)
/* A body (413 past this, said before it is read) */
#define HTTP_MAX_BODY (1u << 20)
/* Header fields of one request (431 past this) */
#define HTTP_MAX_HEADERS 64

struct http_error {
	int status; /* 400, 411, 413, 431, 505 */
	char msg[200];
};

struct http_param {
	char *name, *value; /* percent-decoded, NUL-terminated */
};

struct http_request {
	enum http_method method;
	unsigned short version_minor; /* HTTP/1.x */
	char *target; /* as sent: path and query */
	char **seg; /* the path's percent-decoded segments, "/" has none */
	size_t nseg;
	struct http_param *query;
	size_t nquery;
	/* the headers that matter, trimmed; NULL when absent */
	char *authorization, *content_type, *host;
	char *body; /* NUL-terminated for convenience; body_len is the truth */
	size_t body_len;
	bool keep_alive; /* false: answer with Connection: close, then close */
	struct http_request *next; /* the connection's queue */
};

struct http_conn {
	http_parser parser;
	struct http_request *cur; /* being parsed */
	struct http_request *head, *tail; /* complete, not yet taken */
	char *field, *value; /* the header being read */
	size_t field_len, field_cap, value_len, value_cap;
	size_t target_len, target_cap; /* of cur->target */
	bool in_value;
	unsigned nheaders;
	bool noted; /* err holds what is wrong with a header, said at their end */
	size_t body_want, body_cap; /* Content-Length; room in cur->body */
	bool done; /* no more requests: the last one closes, or an error */
	bool failed; /* err is set: returned once the queue is empty */
	struct http_error err;
};

void http_conn_init(struct http_conn *c);
void http_conn_free(struct http_conn *c);

/*
 * Parse @len bytes of the stream.  Returns 0, or -ENOMEM.  A bad stream
 * is not an error here: it shows from http_conn_next().
 */
int http_conn_feed(struct http_conn *c, const void *buf, size_t len);

/*
 * The next complete request: 1 and *@req (free it with
 * http_request_free()), 0 when more bytes are needed, or -EPROTO when the
 * stream is bad (c->err says the status and why; answer and close).
 */
int http_conn_next(struct http_conn *c, struct http_request **req);

/* No request will follow: close once the answers are sent. */
bool http_conn_done(const struct http_conn *c);

void http_request_free(struct http_request *r);

/* The first query parameter of that name, or NULL. */
const char *http_request_query(const struct http_request *r, const char *name);

/*
 * The path and query of @target into @r->seg and @r->query.  Refuses (-EINVAL
 * and @err, status 400) what is not an origin-form path, bad %-escapes,
 * an encoded '/' or NUL in a segment, empty, '.' and '..' segments;
 * -ENOMEM.  (http-path.c)
 */
int http_split_target(struct http_request *r, struct http_error *err);

/* @s of @n bytes into @dst for a message: cut, non-printables as '?' */
void http_quote(char *dst, size_t size, const char *s, size_t n);

/* Responses are appended to a buffer, so that pipelined answers keep order. */
struct http_buf {
	char *data;
	size_t len, cap;
};

struct http_reply {
	int status;
	struct json_object *body; /* not owned; NULL for no body */
	const char *allow; /* the Allow header of a 405, or NULL */
	bool close; /* Connection: close */
};

int http_reply_write(struct http_buf *b, const struct http_reply *r);
/* {"error": @msg} with @status */
int http_reply_error(struct http_buf *b, int status, const char *msg,
		     bool close);
void http_buf_free(struct http_buf *b);

/* Routes: "/v1/workspaces/:ws/tokens/:id", a ':' segment captures. */
struct http_route {
	enum http_method method;
	const char *pattern;
	int handler;
};

#define HTTP_MAX_PARAMS 4

struct http_match {
	int handler;
	size_t nparam;
	struct {
		const char *name; /* into the pattern, name_len long */
		size_t name_len;
		const char *value; /* the request's decoded segment */
	} param[HTTP_MAX_PARAMS];
};

/*
 * The route for @r: 0 and @m; -ENOENT when no pattern matches the path
 * (404); -EOPNOTSUPP when some do with other methods (405), and @allow
 * lists them ("GET, POST"); else @allow is "".  (http-route.c)
 */
int http_route(const struct http_route *routes, size_t n,
	       const struct http_request *r, struct http_match *m, char *allow,
	       size_t allow_size);

/* The captured segment of that name, or NULL. */
const char *http_match_param(const struct http_match *m, const char *name);

#endif
