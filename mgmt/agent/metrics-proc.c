// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics process (metrics.h): unprivileged, its ring restricted to
 * accept, receive, send and timers, under seccomp before it accepts a
 * connection.  One request a connection, answered with Connection:
 * close; scrapes that arrive while the parent renders share its text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "privsep.h"

/* Scrapers at once; more are closed at accept.  Prometheus uses one. */
#define CONN_MAX 16
/* A scraper has this long to ask and read the answer. */
#define CONN_TIMEOUT_NS (10ull * 1000000000u)

struct mproc;

struct mconn {
	struct mproc *p;
	int fd; /* -1: the slot is free once no op is busy */
	struct loop_op rx, tx, timer;
	char req[METRICS_REQ_MAX];
	size_t len;
	enum metrics_req r;
	bool waiting; /* for the parent's text */
	char *out;
};

struct mproc {
	struct loop loop;
	int ipc_fd, listen_fd;
	struct loop_op accept_op, ipc_rx, ipc_tx;
	bool asked; /* a render is under way */
	bool full; /* every slot taken, and said so */
	char *text; /* what has come of it so far */
	size_t text_len, text_cap;
	char ipc_buf[METRICS_CHUNK + 1];
	struct mconn conns[CONN_MAX];
};

static bool slot_free(const struct mconn *c)
{
	return c->fd < 0 && !loop_op_busy(&c->rx) && !loop_op_busy(&c->tx) &&
	       !loop_op_busy(&c->timer);
}

static void finish(struct mconn *c)
{
	struct loop *l = &c->p->loop;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->waiting = false;
	loop_cancel(l, &c->rx);
	loop_cancel(l, &c->tx);
	loop_cancel(l, &c->timer);
	/* a send in flight still reads the answer: on_tx frees it */
	if (!loop_op_busy(&c->tx)) {
		free(c->out);
		c->out = NULL;
	}
}

static void on_tx(struct loop *l, struct loop_op *op, int res)
{
	struct mconn *c = op->data;

	(void)l;
	(void)res; /* sent or not, the connection is done */
	free(c->out);
	c->out = NULL;
	if (c->fd >= 0)
		finish(c);
}

static void answer(struct mconn *c, const char *body, size_t n)
{
	char head[256];
	int hn = metrics_http_head(c->r, n, head, sizeof(head));

	if (c->r == METRICS_REQ_HEAD)
		n = 0;
	c->out = malloc((size_t)hn + n);
	if (!c->out) {
		log_err("metrics: out of memory for a %zu-byte answer", n);
		finish(c);
		return;
	}
	memcpy(c->out, head, (size_t)hn);
	memcpy(c->out + hn, body, n);
	if (loop_send(&c->p->loop, &c->tx, c->fd, c->out, (size_t)hn + n,
		      on_tx) < 0)
		finish(c);
}

static void on_asked(struct loop *l, struct loop_op *op, int res)
{
	(void)l;
	(void)op;
	if (res < 0) {
		log_err("metrics: cannot ask moatd for the metrics: %s",
			strerror(-res));
		exit(1);
	}
}

static void ask(struct mproc *p)
{
	if (p->asked)
		return;
	p->asked = true;
	p->text_len = 0;
	if (loop_send(&p->loop, &p->ipc_tx, p->ipc_fd, METRICS_ASK,
		      sizeof(METRICS_ASK) - 1, on_asked) < 0) {
		log_err("metrics: cannot ask moatd for the metrics");
		exit(1);
	}
}

static void on_req(struct loop *l, struct loop_op *op, int res)
{
	static const char *const why[] = {
		[METRICS_REQ_NOT_FOUND] = "only /metrics here\n",
		[METRICS_REQ_BAD_METHOD] = "only GET and HEAD\n",
		[METRICS_REQ_BAD] = "not an HTTP/1.x request\n",
		[METRICS_REQ_TOO_LONG] = "request head over 8 KiB\n",
	};
	struct mconn *c = op->data;

	if (c->fd < 0)
		return;
	if (res <= 0) {
		finish(c);
		return;
	}
	c->len += (size_t)res;
	c->r = metrics_http_parse(c->req, c->len);
	if (c->r == METRICS_REQ_MORE) {
		if (loop_recv(l, op, c->fd, c->req + c->len,
			      sizeof(c->req) - c->len, on_req) < 0)
			finish(c);
		return;
	}
	if (c->r == METRICS_REQ_METRICS || c->r == METRICS_REQ_HEAD) {
		c->waiting = true;
		ask(c->p);
		return;
	}
	answer(c, why[c->r], strlen(why[c->r]));
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct mconn *c = op->data;

	(void)l;
	if (res == 0 && c->fd >= 0)
		finish(c); /* too slow: asking or reading */
}

static void on_accept(struct loop *l, struct loop_op *op, int res)
{
	struct mproc *p = op->data;
	struct mconn *c = NULL;

	if (res >= 0) {
		for (int i = 0; i < CONN_MAX && !c; i++)
			c = slot_free(&p->conns[i]) ? &p->conns[i] : NULL;
		if (!c) {
			/* once while full: a flood of connections is no log flood */
			if (!p->full)
				log_warn(
					"metrics: %d scrapes at once; closing the ones beyond",
					CONN_MAX);
			p->full = true;
			close(res);
		} else {
			p->full = false;
			c->fd = res;
			c->len = 0;
			if (loop_recv(l, &c->rx, c->fd, c->req, sizeof(c->req),
				      on_req) < 0 ||
			    loop_timeout(l, &c->timer, CONN_TIMEOUT_NS,
					 on_timer) < 0)
				finish(c);
		}
	} else if (res != -EAGAIN && res != -EINTR) {
		log_warn("metrics: accept: %s", strerror(-res));
	}
	if (loop_accept(l, op, p->listen_fd, on_accept) < 0) {
		log_err("metrics: cannot accept any more");
		exit(1);
	}
}

/* A piece of the text from the parent; the last one answers the waiting. */
static void on_ipc(struct loop *l, struct loop_op *op, int res)
{
	struct mproc *p = op->data;
	size_t n = res > 0 ? (size_t)res - 1 : 0;

	if (res <= 0) {
		/* the parent is gone, or restarting us */
		exit(res < 0 ? 1 : 0);
	}
	if (!p->asked || !strchr("cex", p->ipc_buf[0]) ||
	    (p->ipc_buf[0] == 'x' && n) || p->text_len + n > METRICS_TEXT_MAX) {
		log_err("metrics: unexpected packet from moatd");
		exit(1);
	}
	if (p->text_len + n > p->text_cap) {
		size_t cap = p->text_cap ? p->text_cap : 65536;
		char *t;

		while (cap < p->text_len + n)
			cap *= 2;
		t = realloc(p->text, cap);
		if (!t) {
			log_err("metrics: out of memory for the text");
			exit(1);
		}
		p->text = t;
		p->text_cap = cap;
	}
	memcpy(p->text + p->text_len, p->ipc_buf + 1, n);
	p->text_len += n;
	if (p->ipc_buf[0] != 'c') {
		static const char err[] = "moatd cannot read its data plane\n";
		bool ok = p->ipc_buf[0] == 'e';

		p->asked = false;
		for (int i = 0; i < CONN_MAX; i++) {
			struct mconn *c = &p->conns[i];

			if (c->fd < 0 || !c->waiting)
				continue;
			c->waiting = false;
			if (!ok)
				c->r = METRICS_REQ_UNAVAILABLE;
			answer(c, ok ? p->text : err,
			       ok ? p->text_len : sizeof(err) - 1);
		}
	}
	if (loop_recv(l, op, p->ipc_fd, p->ipc_buf, sizeof(p->ipc_buf),
		      on_ipc) < 0)
		exit(1);
}

/* What the ring may do: accept scrapers, talk to them and the parent. */
static const uint8_t ring_ops[] = {
	IORING_OP_ACCEPT,  IORING_OP_RECV,	     IORING_OP_SEND,
	IORING_OP_TIMEOUT, IORING_OP_TIMEOUT_REMOVE, IORING_OP_ASYNC_CANCEL,
};

int metrics_main(int fd, int listen_fd, uid_t uid, gid_t gid, bool debug)
{
	static struct mproc p; /* large: the buffers */
	int ret;

	log_init("moatd-metrics", debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	p.ipc_fd = fd;
	p.listen_fd = listen_fd;
	ret = privsep_drop(uid, gid);
	if (ret < 0) {
		log_err("metrics: cannot become uid %u gid %u: %s",
			(unsigned)uid, (unsigned)gid, strerror(-ret));
		exit(3);
	}
	ret = loop_init_restricted(&p.loop, 64, ring_ops, sizeof(ring_ops));
	if (ret < 0) {
		log_err("metrics: cannot set up a restricted io_uring: %s",
			strerror(-ret));
		exit(3);
	}
	ret = privsep_seccomp(PRIVSEP_METRICS);
	if (ret < 0) {
		log_err("metrics: cannot load the seccomp filter: %s",
			strerror(-ret));
		exit(3);
	}
	p.accept_op.data = p.ipc_rx.data = p.ipc_tx.data = &p;
	for (int i = 0; i < CONN_MAX; i++) {
		struct mconn *c = &p.conns[i];

		c->p = &p;
		c->fd = -1;
		c->rx.data = c->tx.data = c->timer.data = c;
	}
	log_debug("metrics: uid %u, seccomp on", (unsigned)uid);
	if (loop_recv(&p.loop, &p.ipc_rx, fd, p.ipc_buf, sizeof(p.ipc_buf),
		      on_ipc) < 0 ||
	    loop_accept(&p.loop, &p.accept_op, listen_fd, on_accept) < 0)
		exit(1);
	ret = loop_run(&p.loop);
	log_err("metrics: event loop: %s", strerror(-ret));
	exit(1);
}
