// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loop.h"

/* A single send is at most this long (an SQE's length is 32 bits). */
#define SEND_CHUNK (1u << 30)

int loop_init(struct loop *l, unsigned entries)
{
	memset(l, 0, sizeof(*l));
	l->sigfd = -1;
	return io_uring_queue_init(entries, &l->ring, 0);
}

void loop_exit(struct loop *l)
{
	/* tearing down the ring cancels whatever is still in flight */
	io_uring_queue_exit(&l->ring);
	if (l->sigfd >= 0)
		close(l->sigfd);
	l->sigfd = -1;
}

void loop_stop(struct loop *l, int status)
{
	l->stop = true;
	l->status = status;
}

static struct io_uring_sqe *get_sqe(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		/* the queue is full: hand it to the kernel, then retry */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static struct io_uring_sqe *op_sqe(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	if (op->busy)
		return NULL;
	sqe = get_sqe(l);
	if (!sqe)
		return NULL;
	io_uring_sqe_set_data(sqe, op);
	op->busy = true;
	l->inflight++;
	return sqe;
}

/* An SQE for a new wait of @kind on @fd; NULL: -EBUSY or -EAGAIN, op_err(). */
static struct io_uring_sqe *op_start(struct loop *l, struct loop_op *op,
				     enum loop_kind kind, int fd, loop_cb cb)
{
	struct io_uring_sqe *sqe = op_sqe(l, op);

	if (sqe) {
		op->kind = kind;
		op->cb = cb;
		op->fd = fd;
	}
	return sqe;
}

static int op_err(const struct loop_op *op)
{
	return op->busy ? -EBUSY : -EAGAIN;
}

static int queue_send(struct loop *l, struct loop_op *op)
{
	size_t n = op->len - op->done;
	struct io_uring_sqe *sqe = op_sqe(l, op);

	if (!sqe)
		return op_err(op);
	if (n > SEND_CHUNK)
		n = SEND_CHUNK;
	/* MSG_NOSIGNAL: a peer gone away is an error, not SIGPIPE */
	io_uring_prep_send(sqe, op->fd, op->buf + op->done, n, MSG_NOSIGNAL);
	return 0;
}

static int queue_signal_read(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe = op_sqe(l, op);

	if (!sqe)
		return op_err(op);
	io_uring_prep_read(sqe, op->fd, &op->si, sizeof(op->si), 0);
	return 0;
}

int loop_accept(struct loop *l, struct loop_op *op, int fd, loop_cb cb)
{
	struct io_uring_sqe *sqe = op_start(l, op, LOOP_ACCEPT, fd, cb);

	if (!sqe)
		return op_err(op);
	io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
	return 0;
}

int loop_connect(struct loop *l, struct loop_op *op, int fd,
		 const struct sockaddr *sa, socklen_t len, loop_cb cb)
{
	struct io_uring_sqe *sqe;

	if (len > sizeof(op->sa))
		return -EINVAL;
	sqe = op_start(l, op, LOOP_CONNECT, fd, cb);
	if (!sqe)
		return op_err(op);
	/* the kernel may read the address after submission: keep a copy */
	memcpy(&op->sa, sa, len);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&op->sa, len);
	return 0;
}

int loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned events,
	      loop_cb cb)
{
	struct io_uring_sqe *sqe = op_start(l, op, LOOP_POLL, fd, cb);

	if (!sqe)
		return op_err(op);
	io_uring_prep_poll_add(sqe, fd, events);
	return 0;
}

int loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len,
	      loop_cb cb)
{
	struct io_uring_sqe *sqe = op_start(l, op, LOOP_RECV, fd, cb);

	if (!sqe)
		return op_err(op);
	io_uring_prep_recv(sqe, fd, buf, len > SEND_CHUNK ? SEND_CHUNK : len,
			   0);
	return 0;
}

int loop_send(struct loop *l, struct loop_op *op, int fd, const void *buf,
	      size_t len, loop_cb cb)
{
	if (op->busy)
		return -EBUSY;
	op->kind = LOOP_SEND;
	op->cb = cb;
	op->fd = fd;
	op->buf = buf;
	op->len = len;
	op->done = 0;
	return queue_send(l, op);
}

int loop_timeout(struct loop *l, struct loop_op *op, uint64_t ns, loop_cb cb)
{
	struct io_uring_sqe *sqe = op_sqe(l, op);

	if (!sqe)
		return op_err(op);
	op->kind = LOOP_TIMEOUT;
	op->cb = cb;
	op->ts.tv_sec = (long long)(ns / 1000000000u);
	op->ts.tv_nsec = (long long)(ns % 1000000000u);
	/* the kernel copies ts at submission; op->ts outlives that anyway */
	io_uring_prep_timeout(sqe, &op->ts, 0, 0);
	return 0;
}

int loop_signals(struct loop *l, struct loop_op *op, const sigset_t *set,
		 loop_cb cb)
{
	int ret;

	if (l->sigfd >= 0 || op->busy)
		return -EBUSY;
	/* blocked, the signals wait in the signalfd instead of interrupting */
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	l->sigfd = signalfd(-1, set, SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -errno;
	op->kind = LOOP_SIGNAL;
	op->cb = cb;
	op->fd = l->sigfd;
	ret = queue_signal_read(l, op);
	if (ret < 0) {
		close(l->sigfd);
		l->sigfd = -1;
	}
	return ret;
}

int loop_cancel(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	if (!op->busy)
		return 0;
	sqe = get_sqe(l);
	if (!sqe)
		return -EAGAIN;
	if (op->kind == LOOP_TIMEOUT)
		io_uring_prep_timeout_remove(sqe, (__u64)(uintptr_t)op, 0);
	else
		io_uring_prep_cancel(sqe, op, 0);
	/* the cancel's own completion carries no op and is dropped */
	io_uring_sqe_set_data(sqe, NULL);
	return 0;
}

static void complete(struct loop *l, struct loop_op *op, int res)
{
	op->busy = false;
	l->inflight--;

	switch (op->kind) {
	case LOOP_SEND:
		if (res > 0) {
			op->done += (size_t)res;
			if (op->done < op->len) {
				/* partial send: go on with the rest */
				res = queue_send(l, op);
				if (res == 0)
					return;
			} else {
				res = op->done > INT32_MAX ? INT32_MAX :
							     (int)op->done;
			}
		} else if (res == 0 && op->len > 0) {
			res = -EPIPE; /* no progress on a stream: gone */
		}
		break;
	case LOOP_TIMEOUT:
		if (res == -ETIME)
			res = 0;
		break;
	case LOOP_SIGNAL:
		if (res == (int)sizeof(op->si)) {
			int signo = (int)op->si.ssi_signo;

			/* re-arm first: the callback may cancel it */
			res = queue_signal_read(l, op);
			op->cb(l, op, signo);
			if (res == 0)
				return;
		}
		if (res >= 0)
			res = -EIO; /* a signalfd reads whole records */
		break;
	default:
		break;
	}
	op->cb(l, op, res);
}

int loop_run(struct loop *l)
{
	struct io_uring_cqe *cqe;
	int ret;

	l->stop = false;
	l->status = 0;
	while (!l->stop) {
		if (!l->inflight && !io_uring_sq_ready(&l->ring))
			return 0;
		ret = io_uring_submit_and_wait(&l->ring, 1);
		if (ret < 0 && ret != -EINTR)
			return ret;
		/* one at a time: a callback may free the op it was given */
		while (!l->stop && io_uring_peek_cqe(&l->ring, &cqe) == 0) {
			struct loop_op *op = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&l->ring, cqe);
			if (op)
				complete(l, op, res);
		}
	}
	/* what the last callbacks queued (a reply, say) still goes out */
	io_uring_submit(&l->ring);
	return l->status;
}

int loop_init_restricted(struct loop *l, unsigned entries, const uint8_t *ops,
			 size_t nops)
{
	struct io_uring_restriction res[64];
	struct io_uring_params p;
	int ret;

	if (nops > sizeof(res) / sizeof(res[0]))
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->sigfd = -1;
	memset(&p, 0, sizeof(p));
	/* disabled until restricted: nothing can be submitted before */
	p.flags = IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(entries, &l->ring, &p);
	if (ret < 0)
		return ret;
	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < nops; i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	/*
	 * No IORING_RESTRICTION_REGISTER_OP: no register op at all after.
	 * The raw system call: Debian's liburing 2.3 declares
	 * io_uring_register_restrictions() and io_uring_enable_rings() but
	 * does not export them.
	 */
	ret = (int)syscall(__NR_io_uring_register, l->ring.ring_fd,
			   IORING_REGISTER_RESTRICTIONS, res, (unsigned)nops);
	if (ret == 0)
		ret = (int)syscall(__NR_io_uring_register, l->ring.ring_fd,
				   IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret < 0) {
		ret = -errno;
		io_uring_queue_exit(&l->ring);
	}
	return ret;
}
