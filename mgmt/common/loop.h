/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event loop: one io_uring per process, no thread per connection.
 *
 * Every wait is a submission (an op) whose completion calls back.  An op
 * is owned by the caller, usually embedded in a connection; it must stay
 * put while loop_op_busy() says it is in flight.  To let go of an op
 * early, loop_cancel() it and wait for its callback (res -ECANCELED, or
 * its real result if it finished first).
 */
#ifndef MOAT_LOOP_H
#define MOAT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <liburing.h>

struct loop;
struct loop_op;

/*
 * @res: accept: the new fd; connect: 0; poll: the events ready; recv: bytes read, 0 at end of stream; send:
 * all bytes sent (partial sends are continued inside the loop); timeout:
 * 0 when it expired; signal: the signal number.  Errors are -errno.
 */
typedef void (*loop_cb)(struct loop *l, struct loop_op *op, int res);

enum loop_kind {
	LOOP_NONE = 0,
	LOOP_ACCEPT,
	LOOP_CONNECT,
	LOOP_POLL,
	LOOP_RECV,
	LOOP_SEND,
	LOOP_TIMEOUT,
	LOOP_SIGNAL,
};

struct loop_op {
	loop_cb cb;
	void *data; /* the caller's */

	/* the loop's own */
	enum loop_kind kind;
	bool busy;
	int fd;
	const char *buf;
	size_t len, done;
	struct __kernel_timespec ts;
	union { /* one op is one kind at a time */
		struct signalfd_siginfo si;
		struct sockaddr_storage sa; /* connect's, copied */
	};
};

struct loop {
	struct io_uring ring;
	unsigned inflight;
	int sigfd;
	bool stop;
	int status;
};

int loop_init(struct loop *l, unsigned entries);
void loop_exit(struct loop *l);

/*
 * A loop whose ring accepts only the io_uring operations in @ops
 * (IORING_OP_*), for a process that parses untrusted input: the ring is
 * made disabled, restricted, then enabled, and no register operation
 * works on it afterwards.  A forbidden submission completes with -EACCES.
 */
int loop_init_restricted(struct loop *l, unsigned entries, const uint8_t *ops,
			 size_t nops);


/*
 * Run callbacks until loop_stop() or until nothing is in flight.
 * Returns the status given to loop_stop(), 0 when it ran dry, or a
 * negative errno when io_uring failed.
 */
int loop_run(struct loop *l);
void loop_stop(struct loop *l, int status);

/* Accept one connection (SOCK_CLOEXEC); call again for the next. */
int loop_accept(struct loop *l, struct loop_op *op, int fd, loop_cb cb);

/*
 * Connect @fd to @sa (copied into @op: the caller need not keep it).
 * @res is 0 once connected, or -errno (-ECONNREFUSED, -ETIMEDOUT, ...).
 */
int loop_connect(struct loop *l, struct loop_op *op, int fd,
		 const struct sockaddr *sa, socklen_t len, loop_cb cb);

/*
 * Wait until @fd has one of @events (POLLIN, ...).  A wait that holds no
 * buffer: for many idle connections that read into a shared one.
 */
int loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned events,
	      loop_cb cb);

/* One receive of up to @len bytes. */
int loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len,
	      loop_cb cb);

/* Send all of @buf (which must stay put until the callback). */
int loop_send(struct loop *l, struct loop_op *op, int fd, const void *buf,
	      size_t len, loop_cb cb);

/* Call back once @ns from now. */
int loop_timeout(struct loop *l, struct loop_op *op, uint64_t ns, loop_cb cb);

/*
 * Deliver the signals of @set through a signalfd: blocks them for the
 * process, and calls @cb for each one received until cancelled.  One
 * signal op per loop.
 */
int loop_signals(struct loop *l, struct loop_op *op, const sigset_t *set,
		 loop_cb cb);

/* Ask the kernel to cancel @op; harmless when it is not in flight. */
int loop_cancel(struct loop *l, struct loop_op *op);

static inline bool loop_op_busy(const struct loop_op *op)
{
	return op->busy;
}

#endif /* MOAT_LOOP_H */
