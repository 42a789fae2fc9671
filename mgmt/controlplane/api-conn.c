// SPDX-License-Identifier: GPL-2.0-only
/*
 * One operator connection: TLS (server certificate only), HTTP/1.1 with
 * keep-alive and pipelining, one timer.  The handshake and a request once
 * begun must finish within API_REQUEST_S; an idle connection is closed
 * after API_IDLE_S.  A stream that does not parse gets its error reply
 * and is closed; the process serves on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "log.h"

#define SEC 1000000000ull

static uint64_t mono_s(void)
{
	return mono_ns() / SEC;
}

static void release(struct cp_api_conn *a)
{
	struct cp *cp = a->cp;

	if (a->prev)
		a->prev->next = a->next;
	else
		cp->api_conns = a->next;
	if (a->next)
		a->next->prev = a->prev;
	cp->napi--;
	http_conn_free(&a->http);
	http_buf_free(&a->out);
	free(a);
}

/* The timer may still be in flight: the connection goes when it is back. */
static void maybe_release(struct cp_api_conn *a)
{
	if (a->done && !loop_op_busy(&a->timer))
		release(a);
}

/* Close after what was written is sent. */
static void end(struct cp_api_conn *a)
{
	if (a->done)
		return;
	a->done = true;
	if (a->tls)
		tls_conn_close(a->tls);
	a->tls = NULL;
	loop_cancel(&a->cp->loop, &a->timer);
	maybe_release(a);
}

/* What the handlers answered, handed to TLS; on failure the end. */
static int flush(struct cp_api_conn *a)
{
	int ret = 0;

	if (a->out.len && !a->done)
		ret = tls_conn_write(a->tls, a->out.data, a->out.len);
	a->out.len = 0;
	if (ret)
		end(a);
	return ret;
}

/* ---- deadlines ---- */

static bool request_begun(const struct cp_api_conn *a)
{
	return a->http.cur != NULL;
}

static uint64_t next_deadline(const struct cp_api_conn *a)
{
	if (!a->handshaken)
		return a->started + API_REQUEST_S;
	if (request_begun(a))
		return a->req_started + API_REQUEST_S;
	return a->last_active + API_IDLE_S;
}

static void on_timer(struct loop *l, struct loop_op *op, int res);

static void arm(struct cp_api_conn *a)
{
	uint64_t now = mono_s(), at = next_deadline(a);

	a->armed_for = at;
	if (loop_timeout(&a->cp->loop, &a->timer,
			 (at > now ? at - now : 0) * SEC + SEC / 2, on_timer))
		end(a);
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct cp_api_conn *a = op->data;

	if (a->done) {
		maybe_release(a);
		return;
	}
	if (res != -ECANCELED && mono_s() >= next_deadline(a)) {
		if (!a->handshaken) {
			log_info("%s: no TLS handshake in %d s", a->addr,
				 API_REQUEST_S);
		} else if (request_begun(a)) {
			log_info(
				"%s: a request was begun and not finished in %d s",
				a->addr, API_REQUEST_S);
			if (http_reply_error(
				    &a->out, 408,
				    "the request did not arrive in time",
				    true) == 0)
				flush(a);
		} else {
			log_debug("%s: idle for %d s", a->addr, API_IDLE_S);
		}
		end(a);
		return;
	}
	arm(a);
}

/* The deadline moved earlier (a request was begun): re-arm sooner. */
static void rearm_if_sooner(struct cp_api_conn *a)
{
	if (next_deadline(a) < a->armed_for && loop_op_busy(&a->timer))
		loop_cancel(&a->cp->loop, &a->timer);
}

/* ---- TLS ---- */

static void on_handshake(struct tls_conn *c, void *data)
{
	struct cp_api_conn *a = data;

	a->handshaken = true;
	a->last_active = mono_s();
}

static void on_data(struct tls_conn *c, const void *buf, size_t len, void *data)
{
	struct cp_api_conn *a = data;
	bool had = request_begun(a), close;
	struct http_request *req;
	int ret;

	if (a->done)
		return;
	if (http_conn_feed(&a->http, buf, len)) {
		http_reply_error(&a->out, 500, "out of memory", true);
		flush(a);
		end(a);
		return;
	}
	while ((ret = http_conn_next(&a->http, &req)) == 1) {
		close = !req->keep_alive || a->cp->stopping;
		ret = api_handle(a->cp, a->addr, req, close, &a->out);
		http_request_free(req);
		a->last_active = mono_s();
		if (ret || close) {
			flush(a);
			end(a);
			return;
		}
	}
	if (ret < 0) {
		log_info("%s: %d: %s", a->addr, a->http.err.status,
			 a->http.err.msg);
		http_reply_error(&a->out, a->http.err.status, a->http.err.msg,
				 true);
	}
	if (flush(a))
		return;
	if (ret < 0 || http_conn_done(&a->http)) {
		end(a);
		return;
	}
	if (!had && request_begun(a)) {
		a->req_started = mono_s();
		rearm_if_sooner(a);
	}
}

static void on_closed(struct tls_conn *c, const char *err, void *data)
{
	struct cp_api_conn *a = data;

	if (err)
		log_info("%s: %s", a->addr, err);
	a->tls = NULL; /* it goes away after this */
	end(a);
}

static const struct tls_conn_ops conn_ops = {
	.handshake = on_handshake,
	.data = on_data,
	.closed = on_closed,
};

void cp_api_accept(struct cp *cp, int fd)
{
	struct cp_api_conn *a = calloc(1, sizeof(*a));

	if (!a) {
		close(fd);
		return;
	}
	a->cp = cp;
	a->started = a->last_active = mono_s();
	a->timer.data = a;
	tls_peer_addr(fd, a->addr);
	http_conn_init(&a->http);
	a->next = cp->api_conns;
	if (a->next)
		a->next->prev = a;
	cp->api_conns = a;
	cp->napi++;
	if (tls_conn_new(&a->tls, &cp->loop, cp->api_tls, fd, NULL, &conn_ops,
			 a)) {
		close(fd);
		a->tls = NULL;
		a->done = true;
		release(a);
		return;
	}
	arm(a);
}

void cp_api_close_all(struct cp *cp)
{
	struct cp_api_conn *a, *next;

	/* requests are answered as they come: nothing is half done here */
	for (a = cp->api_conns; a; a = next) {
		next = a->next;
		end(a);
	}
}
