// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane's Prometheus endpoint: plain HTTP on --metrics-listen,
 * on the same loop as everything else.  One request a connection (the
 * answer closes it), parsed by the operator API's HTTP parser; a scrape
 * reads the store's hosts and the live sessions, no more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"
#include "http.h"
#include "log.h"
#include "prom.h"
#include "session.h"

/* Scrapers at once; more are closed at accept. */
#define CONN_MAX 64
#define CONN_TIMEOUT_NS (10ull * 1000000000u)

struct cp_metrics_conn {
	struct cp *cp;
	struct cp_metrics_conn *prev, *next;
	int fd;
	struct loop_op rx, tx, timer;
	struct http_conn http;
	bool done;
	char *out; /* the answer */
	size_t out_len;
	char buf[4096];
};

static void release(struct cp_metrics_conn *c)
{
	struct cp *cp = c->cp;

	if (c->prev)
		c->prev->next = c->next;
	else
		cp->metrics_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cp->nmetrics--;
	http_conn_free(&c->http);
	free(c->out);
	free(c);
}

static void end(struct cp_metrics_conn *c)
{
	struct loop *l = &c->cp->loop;

	if (!c->done) {
		c->done = true;
		close(c->fd);
		loop_cancel(l, &c->rx);
		loop_cancel(l, &c->tx);
		loop_cancel(l, &c->timer);
	}
	if (!loop_op_busy(&c->rx) && !loop_op_busy(&c->tx) &&
	    !loop_op_busy(&c->timer))
		release(c);
}

struct tally {
	struct cp *cp;
	struct cp_metrics_ws *ws;
	size_t n, cap;
	int64_t now;
};

static int count_host(void *arg, const struct store_host *h)
{
	struct tally *t = arg;
	struct cp_metrics_ws *w = &t->ws[t->n - 1];
	const char *st = store_host_status(h);

	w->hosts[cp_host_health(t->cp, h, t->now)]++;
	if (h->removed)
		return 0;
	for (int k = 0; k < CP_CONFIG_STATUSES; k++) {
		if (!strcmp(st, cp_config_status[k]))
			w->config[k]++;
	}
	return 0;
}

static int count_ws(void *arg, const struct store_workspace *w)
{
	struct tally *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct cp_metrics_ws *v = realloc(t->ws, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->ws = v;
		t->cap = cap;
	}
	memset(&t->ws[t->n], 0, sizeof(t->ws[0]));
	snprintf(t->ws[t->n].name, sizeof(t->ws[0].name), "%s", w->name);
	t->n++;
	return store_host_list(t->cp->store, w->id, count_host, t);
}

static int render(struct cp *cp, struct prom_buf *b)
{
	struct tally t = { .cp = cp, .now = store_now(cp->store) };
	struct cp_metrics_view v = { .counts = &cp->counts,
				     .connections = cp->nsessions };
	int ret;

	for (struct cp_session *s = cp->sessions; s; s = s->next)
		v.sessions += s->state == CP_S_ACTIVE && !s->done;
	ret = store_workspace_list(cp->store, false, count_ws, &t);
	if (ret == 0) {
		v.ws = t.ws;
		v.nws = t.n;
		cp_metrics_render(&v, b);
		ret = b->err;
	}
	free(t.ws);
	return ret;
}

static void on_tx(struct loop *l, struct loop_op *op, int res)
{
	(void)l;
	(void)res; /* sent or not, the connection is done */
	end(op->data);
}

/* The whole answer, head and body, in one buffer for one send; then close. */
static void answer(struct cp_metrics_conn *c, int status, const char *reason,
		   const char *type, bool head_only, const char *body, size_t n)
{
	char head[256];
	int hn;

	hn = snprintf(
		head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
		status, reason, type,
		status == 405 ? "Allow: GET, HEAD\r\n" : "", n);
	c->out_len = (size_t)hn + (head_only ? 0 : n);
	c->out = malloc(c->out_len);
	if (!c->out) {
		end(c);
		return;
	}
	memcpy(c->out, head, (size_t)hn);
	if (!head_only)
		memcpy(c->out + hn, body, n);
	if (loop_send(&c->cp->loop, &c->tx, c->fd, c->out, c->out_len, on_tx) <
	    0)
		end(c);
}

static void handle(struct cp_metrics_conn *c, const struct http_request *r)
{
	static const char nf[] = "only /metrics here\n",
			  bm[] = "only GET and HEAD\n";
	bool head = r->method == HTTP_HEAD;
	struct prom_buf b = { 0 };
	int ret;

	if (r->nseg != 1 || strcmp(r->seg[0], "metrics")) {
		answer(c, 404, "Not Found", "text/plain; charset=utf-8", head,
		       nf, sizeof(nf) - 1);
		return;
	}
	if (r->method != HTTP_GET && !head) {
		answer(c, 405, "Method Not Allowed",
		       "text/plain; charset=utf-8", false, bm, sizeof(bm) - 1);
		return;
	}
	ret = render(c->cp, &b);
	if (ret) {
		log_err("metrics: cannot read the store: %s", strerror(-ret));
		answer(c, 500, "Internal Server Error",
		       "text/plain; charset=utf-8", head, "", 0);
	} else {
		answer(c, 200, "OK", PROM_CONTENT_TYPE, head, b.p, b.len);
	}
	prom_buf_free(&b);
}

static void on_rx(struct loop *l, struct loop_op *op, int res)
{
	struct cp_metrics_conn *c = op->data;
	struct http_request *req;
	int ret;

	if (c->done || res <= 0) {
		end(c);
		return;
	}
	if (http_conn_feed(&c->http, c->buf, (size_t)res)) {
		end(c);
		return;
	}
	ret = http_conn_next(&c->http, &req);
	if (ret == 1) {
		handle(c, req);
		http_request_free(req);
	} else if (ret < 0) {
		answer(c, c->http.err.status, "Bad Request",
		       "text/plain; charset=utf-8", false, c->http.err.msg,
		       strlen(c->http.err.msg));
	} else if (loop_recv(l, op, c->fd, c->buf, sizeof(c->buf), on_rx) < 0) {
		end(c);
	}
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct cp_metrics_conn *c = op->data;

	(void)l;
	if (res == 0 && !c->done)
		log_debug("metrics: a scraper took over 10 s; closing");
	end(c); /* on time out, or the last op of a closed connection */
}

void cp_metrics_accept(struct cp *cp, int fd)
{
	struct cp_metrics_conn *c;

	if (cp->nmetrics >= CONN_MAX || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->cp = cp;
	c->fd = fd;
	c->rx.data = c->tx.data = c->timer.data = c;
	http_conn_init(&c->http);
	c->next = cp->metrics_conns;
	if (c->next)
		c->next->prev = c;
	cp->metrics_conns = c;
	cp->nmetrics++;
	if (loop_recv(&cp->loop, &c->rx, fd, c->buf, sizeof(c->buf), on_rx) <
		    0 ||
	    loop_timeout(&cp->loop, &c->timer, CONN_TIMEOUT_NS, on_timer) < 0)
		end(c);
}

void cp_metrics_close_all(struct cp *cp)
{
	struct cp_metrics_conn *c = cp->metrics_conns, *next;

	for (; c; c = next) {
		next = c->next;
		end(c);
	}
}
