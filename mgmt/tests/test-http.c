// SPDX-License-Identifier: GPL-2.0-only
/*
 * The operator API's HTTP side: the request parser at every limit and on
 * bad input, however the bytes are cut; the router's 404 and 405; the
 * response bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "http.h"

/* What a stream gave: a line per request, the error if any, "done=". */
struct outcome {
	char text[4096];
	int nreq, status;
	bool done;
};

static void say(struct outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct outcome *o, const char *fmt, ...)
{
	size_t len = strlen(o->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->text + len, sizeof(o->text) - len, fmt, ap);
	va_end(ap);
}

static void describe(struct outcome *o, const struct http_request *r)
{
	say(o,
	    "%s %s 1.%u segs=%zu q=%zu auth=%s ct=%s host=%s body=%zu:%.16s ka=%d\n",
	    http_method_str(r->method), r->target, r->version_minor, r->nseg,
	    r->nquery, r->authorization ? r->authorization : "-",
	    r->content_type ? r->content_type : "-", r->host ? r->host : "-",
	    r->body_len, r->body ? r->body : "", r->keep_alive);
}

/* Feed @in in pieces of @step bytes (0: at once), cut first at @cut. */
static void run(const char *in, size_t len, size_t cut, size_t step,
		struct outcome *o)
{
	struct http_conn c;
	struct http_request *r;
	size_t off = 0, n;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	http_conn_init(&c);
	while (off < len) {
		n = off < cut ? cut - off : step ? step : len - off;
		if (n > len - off)
			n = len - off;
		assert_int_equal(http_conn_feed(&c, in + off, n), 0);
		off += n;
		while ((ret = http_conn_next(&c, &r)) == 1) {
			describe(o, r);
			o->nreq++;
			http_request_free(r);
		}
	}
	if (ret < 0) {
		assert_int_equal(ret, -EPROTO);
		say(o, "error %d %s\n", c.err.status, c.err.msg);
		o->status = c.err.status;
		assert_true(c.err.msg[0]);
		assert_true(http_conn_done(&c));
	}
	o->done = http_conn_done(&c);
	say(o, "done=%d\n", o->done);
	http_conn_free(&c);
}

struct pcase {
	const char *name;
	const char *in;
	int nreq; /* requests before the end or the error */
	int status; /* the error, or 0 */
	const char *has; /* in the outcome's text */
};

#define GET(path) "GET " path " HTTP/1.1\r\nHost: cp\r\n\r\n"

static const struct pcase cases[] = {
	{ "get", GET("/v1/whoami"), 1, 0, "GET /v1/whoami 1.1 segs=2 q=0" },
	{ "root", GET("/"), 1, 0, "segs=0" },
	{ "query", GET("/v1/audit?after=5&limit=10&x"), 1, 0, "q=3" },
	{ "no host", "GET / HTTP/1.1\r\n\r\n", 0, 400, "no Host header" },
	{ "http/1.0 closes", "GET / HTTP/1.0\r\n\r\n" GET("/"), 1, 0,
	  "1.0 segs=0 q=0 auth=- ct=- host=- body=0: ka=0\ndone=1" },
	{ "http/1.0 keep-alive",
	  "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" GET("/x"), 2, 0,
	  "ka=1\nGET /x" },
	{ "bad method", "FOO / HTTP/1.1\r\nHost: cp\r\n\r\n", 0, 400,
	  "unknown method" },
	{ "lower-case method", "get / HTTP/1.1\r\nHost: cp\r\n\r\n", 0, 400,
	  "error 400" },
	{ "bad version", "GET / HTTP/x.1\r\nHost: cp\r\n\r\n", 0, 400,
	  "not an HTTP/1.x request line" },
	{ "http/2", "GET / HTTP/2.0\r\nHost: cp\r\n\r\n", 0, 505,
	  "HTTP/2.0 is not supported" },
	{ "http/0.9", "GET /\r\n\r\n", 0, 505, "HTTP/0.9 is not supported" },
	{ "bad escape", GET("/v1/%zz"), 0, 400, "bad %-escape: '%zz'" },
	{ "short escape", GET("/v1/a%2"), 0, 400, "bad %-escape: 'a%2'" },
	{ "encoded slash", GET("/v1/a%2Fb"), 0, 400,
	  "encoded '/' in path segment: 'a%2Fb'" },
	{ "encoded nul", GET("/v1/a%00"), 0, 400, "encoded NUL: 'a%00'" },
	{ "encoded nul in query", GET("/v1/audit?a=%00"), 0, 400,
	  "encoded NUL" },
	{ "bad escape in query", GET("/v1/audit?a=%g0"), 0, 400,
	  "bad %-escape: '%g0'" },
	{ "nameless query", GET("/v1/audit?=1"), 0, 400,
	  "query parameter without a name" },
	{ "dot-dot", GET("/v1/../keys"), 0, 400,
	  "a dot segment in path: '..'" },
	{ "encoded dot-dot", GET("/v1/%2e%2E/keys"), 0, 400,
	  "a dot segment in path" },
	{ "dot", GET("/v1/./keys"), 0, 400, "a dot segment" },
	{ "empty segment", GET("/v1//keys"), 0, 400, "empty segment in path" },
	{ "trailing slash", GET("/v1/keys/"), 0, 400, "empty segment" },
	{ "absolute form", GET("http://cp/v1/keys"), 0, 400,
	  "request target is not a path" },
	{ "asterisk", "OPTIONS * HTTP/1.1\r\nHost: cp\r\n\r\n", 0, 400,
	  "not a path" },
	{ "chunked",
	  "POST /v1/keys HTTP/1.1\r\nHost: cp\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	  0, 411, "Transfer-Encoding is not accepted" },
	{ "chunked and length",
	  "POST /v1/keys HTTP/1.1\r\nHost: cp\r\n"
	  "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
	  0, 411, "Content-Length" },
	{ "body",
	  "POST /v1/keys HTTP/1.1\r\nHost: cp\r\nContent-Length: 7\r\n"
	  "Content-Type: application/json\r\n\r\n{\"a\":1}",
	  1, 0, "ct=application/json host=cp body=7:{\"a\":1} ka=1" },
	{ "body too large",
	  "POST / HTTP/1.1\r\nHost: cp\r\n"
	  "Content-Length: 1048577\r\n\r\n",
	  0, 413, "a body of 1048577 bytes, more than 1048576" },
	{ "bad length",
	  "POST / HTTP/1.1\r\nHost: cp\r\nContent-Length: 1x\r\n\r\n", 0, 400,
	  "error 400" },
	{ "two lengths",
	  "POST / HTTP/1.1\r\nHost: cp\r\nContent-Length: 1\r\n"
	  "Content-Length: 1\r\n\r\nx",
	  0, 400, "error 400" },
	{ "two authorizations",
	  "GET / HTTP/1.1\r\nHost: cp\r\n"
	  "Authorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
	  0, 400, "more than one authorization header" },
	{ "authorization trimmed",
	  "GET / HTTP/1.1\r\nHost: cp\r\n"
	  "Authorization:   Bearer moat-key-x  \r\n\r\n",
	  1, 0, "auth=Bearer moat-key-x ct" },
	{ "empty header value", "GET / HTTP/1.1\r\nX-A:\r\nHost: cp\r\n\r\n", 1,
	  0, "host=cp" },
	{ "pipelined", GET("/a") GET("/b") GET("/c"), 3, 0,
	  "GET /a 1.1 segs=1 q=0 auth=- ct=- host=cp body=0: ka=1\nGET /b" },
	{ "close stops",
	  "GET /a HTTP/1.1\r\nHost: cp\r\nConnection: close\r\n\r\n" GET("/b"),
	  1, 0, "ka=0\ndone=1" },
	{ "keep-alive by default", GET("/a"), 1, 0, "ka=1\ndone=0" },
	{ "good then bad",
	  GET("/a") "GET /%zz HTTP/1.1\r\nHost: cp\r\n\r\n" GET("/c"), 1, 400,
	  "GET /a 1.1" },
	{ "upgrade ends",
	  "GET /a HTTP/1.1\r\nHost: cp\r\nConnection: Upgrade\r\n"
	  "Upgrade: websocket\r\n\r\n" GET("/b"),
	  1, 0, "ka=0\n" },
	{ "bad header name", "GET / HTTP/1.1\r\nHost: cp\r\nA B: c\r\n\r\n", 0,
	  400, "error 400" },
	{ "control character in value",
	  "GET / HTTP/1.1\r\nHost: c\x01p\r\n\r\n", 0, 400, "error 400" },
};

/* Whole, at every cut, and a byte at a time: the same outcome. */
static void test_cases(void **state)
{
	struct outcome whole, cut;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *t = &cases[i];
		size_t len = strlen(t->in);

		run(t->in, len, 0, 0, &whole);
		if (whole.nreq != t->nreq || whole.status != t->status ||
		    !strstr(whole.text, t->has))
			fail_msg("%s: got %d requests, status %d:\n%s", t->name,
				 whole.nreq, whole.status, whole.text);
		for (size_t k = 1; k < len; k++) {
			run(t->in, len, k, 0, &cut);
			if (strcmp(cut.text, whole.text))
				fail_msg("%s: cut at %zu:\n%s\nwhole:\n%s",
					 t->name, k, cut.text, whole.text);
		}
		run(t->in, len, 0, 1, &cut);
		assert_string_equal(cut.text, whole.text);
	}
}

/* A request with @extra bytes of padding in one header, and @n headers. */
static char *big_request(size_t pad, int n, size_t body)
{
	size_t cap = pad + n * 16 + body + 256, len;
	char *s = malloc(cap);

	assert_non_null(s);
	len = snprintf(s, cap,
		       "POST /v1/keys HTTP/1.1\r\nHost: cp\r\n"
		       "Content-Length: %zu\r\nX-Pad: ",
		       body);
	memset(s + len, 'p', pad);
	len += pad;
	len += snprintf(s + len, cap - len, "\r\n");
	/* Host, Content-Length and X-Pad are three */
	for (int i = 3; i < n; i++)
		len += snprintf(s + len, cap - len, "X-%d: v\r\n", i);
	len += snprintf(s + len, cap - len, "\r\n");
	memset(s + len, 'b', body);
	s[len + body] = '\0';
	return s;
}

static void test_limits(void **state)
{
	static char long_line[HTTP_MAX_HEAD + 64];
	struct outcome o;
	char *s;

	/* 64 header fields are fine, the 65th is not */
	s = big_request(0, HTTP_MAX_HEADERS, 0);
	run(s, strlen(s), 0, 0, &o);
	assert_int_equal(o.nreq, 1);
	free(s);
	s = big_request(0, HTTP_MAX_HEADERS + 1, 0);
	run(s, strlen(s), 0, 0, &o);
	assert_int_equal(o.status, 431);
	assert_non_null(strstr(o.text, "more than 64 header fields"));
	free(s);

	/* a head of 16,000 bytes passes, one past 16 KiB does not */
	s = big_request(16000 - 80, 3, 0);
	assert_true(strlen(s) <= HTTP_MAX_HEAD);
	run(s, strlen(s), 0, 0, &o);
	assert_int_equal(o.nreq, 1);
	free(s);
	s = big_request(HTTP_MAX_HEAD, 3, 0);
	run(s, strlen(s), 0, 0, &o);
	assert_int_equal(o.status, 431);
	free(s);
	/* cut into 1000-byte receives, the limit holds the same */
	s = big_request(HTTP_MAX_HEAD, 3, 0);
	run(s, strlen(s), 0, 1000, &o);
	assert_int_equal(o.status, 431);
	free(s);

	/* a request line past 16 KiB: the same 431, with no header yet */
	memcpy(long_line, "GET /", 5);
	memset(long_line + 5, 'a', HTTP_MAX_HEAD);
	strcpy(long_line + 5 + HTTP_MAX_HEAD, " HTTP/1.1\r\n\r\n");
	run(long_line, strlen(long_line), 0, 4096, &o);
	assert_int_equal(o.nreq, 0);
	assert_int_equal(o.status, 431);
	assert_non_null(strstr(o.text, "exceed 16384 bytes"));

	/* a body of exactly 1 MiB is taken whole */
	s = big_request(0, 3, HTTP_MAX_BODY);
	run(s, strlen(s), 0, 65536, &o);
	assert_int_equal(o.nreq, 1);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.text, "body=1048576:bbbb"));
	free(s);
}

/* A body that has not all come is not a request yet. */
static void test_incomplete(void **state)
{
	const char *in =
		"POST / HTTP/1.1\r\nHost: cp\r\nContent-Length: 4\r\n\r\nab";
	struct http_conn c;
	struct http_request *r;

	http_conn_init(&c);
	assert_int_equal(http_conn_feed(&c, in, strlen(in)), 0);
	assert_int_equal(http_conn_next(&c, &r), 0);
	assert_false(http_conn_done(&c));
	assert_int_equal(http_conn_feed(&c, "cd", 2), 0);
	assert_int_equal(http_conn_next(&c, &r), 1);
	assert_int_equal(r->body_len, 4);
	assert_string_equal(r->body, "abcd");
	http_request_free(r);
	assert_int_equal(http_conn_next(&c, &r), 0);
	http_conn_free(&c);
}

static void test_decoding(void **state)
{
	const char *in = GET(
		"/v1/workspaces/my%20ws/tokens/t%41?after=1%2B2&q=a+b&flag");
	struct http_conn c;
	struct http_request *r;

	http_conn_init(&c);
	assert_int_equal(http_conn_feed(&c, in, strlen(in)), 0);
	assert_int_equal(http_conn_next(&c, &r), 1);
	assert_int_equal(r->nseg, 5);
	assert_string_equal(r->seg[2], "my ws");
	assert_string_equal(r->seg[4], "tA");
	assert_string_equal(http_request_query(r, "after"), "1+2");
	assert_string_equal(http_request_query(r, "q"), "a b");
	assert_string_equal(http_request_query(r, "flag"), "");
	assert_null(http_request_query(r, "limit"));
	http_request_free(r);
	http_conn_free(&c);
}

enum {
	H_WHOAMI,
	H_WS_LIST,
	H_WS_CREATE,
	H_TOK_LIST,
	H_TOK_CREATE,
	H_TOK_REVOKE
};

static const struct http_route routes[] = {
	{ HTTP_GET, "/v1/whoami", H_WHOAMI },
	{ HTTP_GET, "/v1/workspaces", H_WS_LIST },
	{ HTTP_POST, "/v1/workspaces", H_WS_CREATE },
	{ HTTP_GET, "/v1/workspaces/:ws/tokens", H_TOK_LIST },
	{ HTTP_POST, "/v1/workspaces/:ws/tokens", H_TOK_CREATE },
	{ HTTP_DELETE, "/v1/workspaces/:ws/tokens/:id", H_TOK_REVOKE },
};

static int route(const char *in, struct http_match *m, char *allow, size_t size)
{
	struct http_conn c;
	struct http_request *r;
	int ret;

	http_conn_init(&c);
	assert_int_equal(http_conn_feed(&c, in, strlen(in)), 0);
	assert_int_equal(http_conn_next(&c, &r), 1);
	ret = http_route(routes, sizeof(routes) / sizeof(routes[0]), r, m,
			 allow, size);
	/* the captures point into the request: check them before it goes */
	if (!ret && m->nparam) {
		assert_string_equal(http_match_param(m, "ws"), "prod");
		if (m->nparam > 1)
			assert_string_equal(http_match_param(m, "id"), "tabc");
		assert_null(http_match_param(m, "w"));
	}
	http_request_free(r);
	http_conn_free(&c);
	return ret;
}

struct route_case {
	const char *method, *path;
	int ret, handler, nparam;
	const char *allow;
};

static const struct route_case route_cases[] = {
	{ "GET", "/v1/whoami", 0, H_WHOAMI, 0, "" },
	{ "POST", "/v1/workspaces/prod/tokens", 0, H_TOK_CREATE, 1, "" },
	{ "DELETE", "/v1/workspaces/prod/tokens/tabc", 0, H_TOK_REVOKE, 2, "" },
	/* a path that exists, with another method: 405 and what would do */
	{ "PUT", "/v1/workspaces", -EOPNOTSUPP, 0, 0, "GET, POST" },
	{ "GET", "/v1/workspaces/prod/tokens/tabc", -EOPNOTSUPP, 0, 0,
	  "DELETE" },
	/* a path that does not: 404, one segment short, one too many, a typo */
	{ "GET", "/v1", -ENOENT, 0, 0, "" },
	{ "GET", "/v1/whoami/x", -ENOENT, 0, 0, "" },
	{ "GET", "/v1/workspace", -ENOENT, 0, 0, "" },
	{ "GET", "/", -ENOENT, 0, 0, "" },
};

static void test_router(void **state)
{
	struct http_match m;
	char allow[64], req[256];

	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]);
	     i++) {
		const struct route_case *t = &route_cases[i];

		snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: cp\r\n\r\n",
			 t->method, t->path);
		memset(&m, 0, sizeof(m));
		if (route(req, &m, allow, sizeof(allow)) != t->ret ||
		    strcmp(allow, t->allow) ||
		    (!t->ret &&
		     (m.handler != t->handler || (int)m.nparam != t->nparam)))
			fail_msg("%s %s: handler %d, %zu params, allow '%s'",
				 t->method, t->path, m.handler, m.nparam,
				 allow);
	}
}

static void test_reply(void **state)
{
	struct http_buf b = { 0 };
	struct json_object *o = json_object_new_object();
	struct http_reply r = { .status = 200, .body = o };
	const char *want;

	json_object_object_add(o, "path", json_object_new_string("/v1/x"));
	assert_int_equal(http_reply_write(&b, &r), 0);
	want = "HTTP/1.1 200 OK\r\n"
	       "Content-Type: application/json\r\n"
	       "Content-Length: 17\r\n"
	       "Cache-Control: no-store\r\n"
	       "X-Content-Type-Options: nosniff\r\n"
	       "\r\n"
	       "{\"path\":\"/v1/x\"}\n";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	json_object_put(o);

	/* appended after the first, in order */
	r = (struct http_reply){ .status = 405,
				 .allow = "GET, POST",
				 .close = true };
	assert_int_equal(http_reply_write(&b, &r), 0);
	want = "HTTP/1.1 405 Method Not Allowed\r\n"
	       "Content-Length: 0\r\n"
	       "Cache-Control: no-store\r\n"
	       "X-Content-Type-Options: nosniff\r\n"
	       "Allow: GET, POST\r\n"
	       "Connection: close\r\n"
	       "\r\n";
	assert_true(b.len > strlen(want));
	assert_memory_equal(b.data + b.len - strlen(want), want, strlen(want));

	b.len = 0;
	assert_int_equal(http_reply_error(&b, 401, "no \"key\"", false), 0);
	assert_non_null(
		memmem(b.data, b.len, "WWW-Authenticate: Bearer\r\n", 26));
	want = "\r\n\r\n{\"error\":\"no \\\"key\\\"\"}\n";
	assert_non_null(memmem(b.data, b.len, want, strlen(want)));
	assert_int_equal(
		http_reply_write(&b, &(struct http_reply){ .status = 7 }),
		-EINVAL);
	http_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
