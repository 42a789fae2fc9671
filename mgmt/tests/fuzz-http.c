// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the operator API's request side
 * (mgmt/controlplane/http*.c, jsonv.c): what anyone who can reach the
 * port sends, before a key is checked.
 *
 * The input is one control byte, then a byte stream as TLS would hand it
 * over.  Bits 0-6 of the control byte seed the receive sizes of the third
 * pass below.
 *
 * What must hold:
 *   - the stream gives the same requests, in the same order, and ends in
 *     the same error (status and message), or none, whether it arrives
 *     whole, a byte at a time or in seeded pieces;
 *   - every request is one http.h promises: an origin-form target, path
 *     segments that are not empty, '.', '..' and hold no '/', named
 *     query parameters, a body within HTTP_MAX_BODY;
 *     an error has a status http.h lists and a message in printable ASCII;
 *   - routing, the reply writer and jsonv run clean on whatever came,
 *     and what jsonv_parse() accepts is an object.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"
#include "jsonv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_route routes[] = {
	{ HTTP_GET, "/v1/whoami", 0 },
	{ HTTP_GET, "/v1/workspaces", 1 },
	{ HTTP_POST, "/v1/workspaces", 2 },
	{ HTTP_POST, "/v1/workspaces/:ws/tokens", 3 },
	{ HTTP_DELETE, "/v1/workspaces/:ws/tokens/:id", 4 },
	{ HTTP_PUT, "/v1/workspaces/:ws/roles/:name", 5 },
};

/* Each getter either gives a value or says which field is wrong. */
static void said(struct jsonv_err *e, int ret)
{
	if (ret && (ret != -EINVAL || !strstr(e->msg, "field '")))
		abort();
	e->msg[0] = '\0';
}

static void check_body(const struct http_request *r, struct http_buf *out)
{
	static const struct jsonv_int ttl = { 1, 2592000, "seconds" };
	static const struct jsonv_str name = { 1, 63, "a-z0-9-", "a name" };
	static const struct jsonv_str perm = { 1, 32, "a-z:*", NULL };
	struct jsonv_err e = { { 0 } };
	struct json_object *o, *v;
	const char *s;
	int64_t n;
	bool b;

	if (jsonv_parse(r->body ? r->body : "", r->body_len, HTTP_MAX_BODY,
			JSONV_MAX_DEPTH, &o, &e)) {
		if (!e.msg[0])
			abort();
		http_reply_error(out, 400, e.msg, false);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		abort();
	said(&e, jsonv_opt_int(o, "ttl", &ttl, 3600, &n, &e));
	said(&e, jsonv_get_str(o, "name", &name, &s, &e));
	said(&e, jsonv_opt_str(o, "description", &(struct jsonv_str){ 0, 256 },
			       "", &s, &e));
	said(&e, jsonv_opt_bool(o, "revoked", false, &b, &e));
	said(&e, jsonv_opt_labels(o, "labels", &v, &e));
	said(&e, jsonv_opt_strings(o, "permissions", 32, &perm, &v, &e));
	if (!jsonv_get_objects(o, "bindings", 16, &v, &e)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			jsonv_prefix(&e, "bindings[%zu].", i);
			said(&e, jsonv_get_str(json_object_array_get_idx(v, i),
					       "role", &name, &s, &e));
		}
	}
	http_reply_write(out, &(struct http_reply){ .status = 200, .body = o });
	json_object_put(o);
}

static void check_request(const struct http_request *r, struct http_buf *out)
{
	struct http_match m;
	char allow[64];
	int ret;

	if (!r->target || r->target[0] != '/' || r->body_len > HTTP_MAX_BODY)
		abort();
	for (size_t i = 0; i < r->nseg; i++)
		if (!r->seg[i][0] || strchr(r->seg[i], '/') ||
		    !strcmp(r->seg[i], ".") || !strcmp(r->seg[i], ".."))
			abort();
	for (size_t i = 0; i < r->nquery; i++)
		if (!r->query[i].name[0] ||
		    http_request_query(r, r->query[i].name) == NULL)
			abort();
	ret = http_route(routes, sizeof(routes) / sizeof(routes[0]), r, &m,
			 allow, sizeof(allow));
	if (ret == -EOPNOTSUPP) {
		if (!allow[0])
			abort();
		http_reply_write(
			out, &(struct http_reply){ .status = 405,
						   .allow = allow,
						   .close = !r->keep_alive });
	} else if (ret == -ENOENT) {
		http_reply_error(out, 404, "no such path", !r->keep_alive);
	} else if (ret || m.nparam > HTTP_MAX_PARAMS) {
		abort();
	} else {
		for (size_t i = 0; i < m.nparam; i++)
			if (!m.param[i].value)
				abort();
		check_body(r, out);
	}
}

struct outcome {
	char *text;
	size_t len;
};

static void describe(FILE *f, const struct http_request *r)
{
	fprintf(f, "%d 1.%u %s ka=%d\n", r->method, r->version_minor, r->target,
		r->keep_alive);
	for (size_t i = 0; i < r->nseg; i++)
		fprintf(f, " seg %s\n", r->seg[i]);
	for (size_t i = 0; i < r->nquery; i++)
		fprintf(f, " q %s=%s\n", r->query[i].name, r->query[i].value);
	fprintf(f, " auth %s\n ct %s\n host %s\n body %zu ",
		r->authorization ? r->authorization : "(none)",
		r->content_type ? r->content_type : "(none)",
		r->host ? r->host : "(none)", r->body_len);
	if (r->body_len)
		fwrite(r->body, 1, r->body_len, f);
	fputc('\n', f);
}

static bool known_status(int s)
{
	return s == 400 || s == 411 || s == 413 || s == 431 || s == 505;
}

/* mode 0: whole; 1: a byte at a time; else seeded pieces */
static void run(const uint8_t *s, size_t len, unsigned mode, uint32_t seed,
		struct outcome *o)
{
	uint32_t rng = seed * 2654435761u + 1;
	struct http_buf out = { 0 };
	struct http_request *r;
	struct http_conn c;
	size_t off = 0, n;
	FILE *f = open_memstream(&o->text, &o->len);
	int ret = 0;

	if (!f)
		abort();
	http_conn_init(&c);
	while (off < len) {
		if (mode == 0) {
			n = len;
		} else if (mode == 1) {
			n = 1;
		} else {
			rng ^= rng << 13;
			rng ^= rng >> 17;
			rng ^= rng << 5;
			n = rng % 8 ? 1 + rng % 7 : 1 + rng % 300;
		}
		if (n > len - off)
			n = len - off;
		if (http_conn_feed(&c, s + off, n))
			abort();
		off += n;
		while ((ret = http_conn_next(&c, &r)) == 1) {
			describe(f, r);
			/* once is enough: the same request in every mode */
			if (mode == 0)
				check_request(r, &out);
			http_request_free(r);
		}
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		if (ret != -EPROTO || !known_status(c.err.status) ||
		    !c.err.msg[0] || !http_conn_done(&c))
			abort();
		for (const char *p = c.err.msg; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
		fprintf(f, "error %d %s\n", c.err.status, c.err.msg);
		if (http_reply_error(&out, c.err.status, c.err.msg, true))
			abort();
	}
	fprintf(f, "done %d\n", http_conn_done(&c));
	fclose(f);
	http_conn_free(&c);
	http_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole = { 0 }, o = { 0 };

	if (size < 1)
		return 0;
	run(data + 1, size - 1, 0, 0, &whole);
	for (unsigned mode = 1; mode <= 2; mode++) {
		run(data + 1, size - 1, mode, data[0] & 0x7f, &o);
		if (o.len != whole.len || memcmp(o.text, whole.text, o.len)) {
			fprintf(stderr,
				"receives of mode %u:\n%.*s\nwhole:\n%.*s\n",
				mode, (int)o.len, o.text, (int)whole.len,
				whole.text);
			abort();
		}
		free(o.text);
	}
	free(whole.text);
	return 0;
}
