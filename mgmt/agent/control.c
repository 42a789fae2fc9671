// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "clock.h"
#include "file.h"
#include "log.h"

/* How often idle connections are looked for. */
#define SWEEP_NS (5ull * 1000000000)

struct conn {
	struct control *ctl;
	struct conn *next, **pprev;
	int fd;
	struct loop_op rop, sop;
	struct wire_inbuf in;
	struct wire_writer out;
	uint64_t last; /* CLOCK_MONOTONIC of the last progress */
	bool closing; /* shut down; freed once no op is in flight */
	bool close_after_send; /* the reply is the last word */
};

struct control {
	struct loop *loop;
	struct control_handler h;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t uid;
	int fd;
	struct loop_op accept_op, sweep_op;
	struct conn *conns;
	int nconns;
	bool shutting_down;
};

static void conn_read(struct conn *c);

static void conn_free_if_idle(struct conn *c)
{
	if (!c->closing || loop_op_busy(&c->rop) || loop_op_busy(&c->sop))
		return;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->ctl->nconns--;
	close(c->fd);
	wire_inbuf_free(&c->in);
	wire_writer_free(&c->out);
	free(c);
}

/*
 * shutdown() rather than close(): an op in flight on the fd completes
 * (recv with 0, send with -EPIPE) and the conn is freed from its callback.
 */
static void conn_close(struct conn *c)
{
	if (!c->closing) {
		c->closing = true;
		shutdown(c->fd, SHUT_RDWR);
	}
	conn_free_if_idle(c);
}

static void on_sent(struct loop *l, struct loop_op *op, int res)
{
	struct conn *c = op->data;

	if (res < 0 && res != -ECANCELED && !c->closing)
		log_debug("control: send: %s", strerror(-res));
	if (res < 0 || c->closing || c->close_after_send) {
		conn_close(c);
		return;
	}
	c->last = mono_ns();
	conn_read(c);
}

static void conn_send(struct conn *c)
{
	const char *frame;
	size_t len;
	int ret;

	ret = wire_end(&c->out, WIRE_MAX_FRAME_LOCAL, &frame, &len);
	if (ret < 0) {
		/* the reply did not fit: say so instead */
		log_err("control: cannot encode a reply: %s", strerror(-ret));
		ctl_reply_error(&c->out, "moatd could not encode its reply",
				NULL, NULL);
		ret = wire_end(&c->out, WIRE_MAX_FRAME_LOCAL, &frame, &len);
	}
	if (ret == 0)
		ret = loop_send(c->ctl->loop, &c->sop, c->fd, frame, len,
				on_sent);
	if (ret < 0)
		conn_close(c);
}

static void reply_error(struct conn *c, bool last, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_error(struct conn *c, bool last, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_reply_error(&c->out, msg, NULL, NULL);
	c->close_after_send = last;
	conn_send(c);
}

static void conn_request(struct conn *c, const char *payload, size_t len)
{
	struct ctl_request req;
	struct wire_err e;
	struct wire_msg m;

	/* the framing holds after a bad message: answer it, read on */
	if (wire_parse(&m, payload, len, &e) < 0 ||
	    ctl_request_decode(&m, &req, &e) < 0) {
		log_debug("control: bad request: %s", e.msg);
		reply_error(c, false, "bad request: %s", e.msg);
		wire_msg_free(&m);
		return;
	}
	log_debug("control: request %s", ctl_type_name(req.type));
	c->ctl->h.handle(c->ctl->h.ctx, &req, &c->out);
	wire_msg_free(&m);
	conn_send(c);
}

static void on_recv(struct loop *l, struct loop_op *op, int res)
{
	struct conn *c = op->data;

	if (res <= 0 || c->closing) {
		if (res == 0 && wire_inbuf_pending(&c->in))
			log_debug(
				"control: peer closed in the middle of a frame");
		else if (res < 0 && res != -ECANCELED)
			log_debug("control: recv: %s", strerror(-res));
		conn_close(c);
		return;
	}
	wire_inbuf_commit(&c->in, (size_t)res);
	c->last = mono_ns();
	conn_read(c);
}

/* Answer a whole frame if one is buffered, else receive more. */
static void conn_read(struct conn *c)
{
	const char *payload;
	size_t len, n;
	void *p;
	int ret;

	ret = wire_inbuf_frame(&c->in, &payload, &len);
	if (ret == -EMSGSIZE) {
		reply_error(c, true, "frame larger than %u bytes",
			    WIRE_MAX_FRAME_LOCAL);
		return;
	}
	if (ret == 1) {
		conn_request(c, payload, len);
		return;
	}
	ret = wire_inbuf_space(&c->in, &p, &n);
	if (ret == 0)
		ret = loop_recv(c->ctl->loop, &c->rop, c->fd, p, n, on_recv);
	if (ret < 0)
		conn_close(c);
}

static bool peer_allowed(struct control *ctl, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid != ctl->uid) {
		log_warn("control: refused a connection from uid %u pid %d",
			 (unsigned)cred.uid, (int)cred.pid);
		return false;
	}
	return true;
}

static void on_accept(struct loop *l, struct loop_op *op, int res);

static void arm_accept(struct control *ctl)
{
	int ret = loop_accept(ctl->loop, &ctl->accept_op, ctl->fd, on_accept);

	/* on failure the sweep timer tries again */
	if (ret < 0)
		log_warn("control: cannot accept: %s", strerror(-ret));
}

static void on_accept(struct loop *l, struct loop_op *op, int res)
{
	struct control *ctl = op->data;
	struct conn *c;

	if (ctl->shutting_down) {
		if (res >= 0)
			close(res);
		return;
	}
	if (res < 0) {
		/* EMFILE and friends: wait for the sweep to re-arm */
		log_warn("control: accept: %s", strerror(-res));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(res);
		arm_accept(ctl);
		return;
	}
	c->ctl = ctl;
	c->fd = res;
	c->rop.data = c->sop.data = c;
	c->last = mono_ns();
	wire_inbuf_init(&c->in, WIRE_MAX_FRAME_LOCAL);
	wire_writer_init(&c->out);
	c->next = ctl->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &ctl->conns;
	ctl->conns = c;
	ctl->nconns++;

	if (!peer_allowed(ctl, c->fd))
		reply_error(
			c, true,
			"permission denied: only root may use moatd's socket");
	else if (ctl->nconns > CONTROL_MAX_CONNS)
		reply_error(c, true, "busy: %d connections are open; try again",
			    CONTROL_MAX_CONNS);
	else
		conn_read(c);
	arm_accept(ctl);
}

static void on_sweep(struct loop *l, struct loop_op *op, int res)
{
	struct control *ctl = op->data;
	uint64_t now = mono_ns();

	if (ctl->shutting_down || res == -ECANCELED)
		return;
	for (struct conn *c = ctl->conns, *next; c; c = next) {
		next = c->next;
		/* only a peer we wait for is idle, not one we are answering */
		if (loop_op_busy(&c->rop) && now - c->last > CONTROL_IDLE_NS) {
			log_debug("control: closing an idle connection");
			conn_close(c);
		}
	}
	if (!loop_op_busy(&ctl->accept_op))
		arm_accept(ctl);
	loop_timeout(l, &ctl->sweep_op, SWEEP_NS, on_sweep);
}

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return file_mkdir_p(dir, 0755);
}

/* A socket file left behind by a moatd that died; we hold the lock. */
static int remove_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) < 0 ? -errno : 0;
}

int control_open(struct control **out, struct loop *l, const char *path,
		 uint32_t uid, const struct control_handler *h,
		 const char **what)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *ctl;
	mode_t old;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*what = "socket path";
		return -ENAMETOOLONG;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->loop = l;
	ctl->h = *h;
	ctl->uid = uid;
	ctl->accept_op.data = ctl->sweep_op.data = ctl;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	strcpy(sa.sun_path, path);

	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		*what = "socket";
		ret = -errno;
		goto err_free;
	}
	*what = "create the directory of";
	ret = make_parent(path);
	if (ret < 0)
		goto err_close;
	*what = "replace";
	ret = remove_stale(path);
	if (ret < 0)
		goto err_close;

	/* created 0600, never briefly wider */
	old = umask(0177);
	ret = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	ret = ret < 0 ? -errno : 0;
	umask(old);
	*what = "bind";
	if (ret < 0)
		goto err_close;
	*what = "chmod";
	if (chmod(path, 0600) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	*what = "listen";
	if (listen(ctl->fd, CONTROL_MAX_CONNS) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	*what = "accept";
	ret = loop_accept(l, &ctl->accept_op, ctl->fd, on_accept);
	if (ret < 0)
		goto err_unlink;
	loop_timeout(l, &ctl->sweep_op, SWEEP_NS, on_sweep);
	*out = ctl;
	return 0;

err_unlink:
	unlink(path);
err_close:
	close(ctl->fd);
err_free:
	free(ctl);
	return ret;
}

void control_shutdown(struct control *c)
{
	c->shutting_down = true;
	loop_cancel(c->loop, &c->accept_op);
	loop_cancel(c->loop, &c->sweep_op);
	for (struct conn *k = c->conns, *next; k; k = next) {
		next = k->next;
		conn_close(k);
	}
}

void control_free(struct control *c)
{
	if (!c)
		return;
	/* conns still here had ops in flight when the ring went: just free */
	while (c->conns) {
		struct conn *k = c->conns;

		c->conns = k->next;
		close(k->fd);
		wire_inbuf_free(&k->in);
		wire_writer_free(&k->out);
		free(k);
	}
	close(c->fd);
	unlink(c->path);
	free(c);
}
