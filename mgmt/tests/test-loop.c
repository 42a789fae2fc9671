// SPDX-License-Identifier: GPL-2.0-only
/* The io_uring loop: an echo over a socketpair, timeouts, signals, cancel. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <poll.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "loop.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int setup(void **state)
{
	struct loop *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -1;
	ret = loop_init(l, 8);
	if (ret < 0) {
		/* io_uring can be off (sysctl, seccomp): a skip, with why */
		print_message("io_uring_queue_init: %s\n", strerror(-ret));
		free(l);
		return -1;
	}
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	loop_exit(*state);
	free(*state);
	return 0;
}

/*
 * The echo: the server side receives in small pieces and sends each back;
 * the client sends one large buffer and receives until it has it all.
 * 4 MiB through a socket with a small send buffer takes many partial
 * sends, which the loop must continue by itself.
 */
#define ECHO_LEN (4u << 20)

struct echo {
	int srv, cli;
	struct loop_op srv_rx, srv_tx, cli_tx, cli_rx;
	char piece[1000]; /* odd size: frames never line up */
	char *out, *in;
	size_t got;
	bool sent;
};

static void srv_recv(struct loop *l, struct loop_op *op, int res);

static void srv_sent(struct loop *l, struct loop_op *op, int res)
{
	struct echo *e = op->data;

	assert_true(res > 0);
	assert_int_equal(loop_recv(l, &e->srv_rx, e->srv, e->piece,
				   sizeof(e->piece), srv_recv),
			 0);
}

static void srv_recv(struct loop *l, struct loop_op *op, int res)
{
	struct echo *e = op->data;

	if (res == 0)
		return; /* the client closed: the echo is over */
	assert_true(res > 0);
	assert_int_equal(loop_send(l, &e->srv_tx, e->srv, e->piece, (size_t)res,
				   srv_sent),
			 0);
}

static void cli_recv(struct loop *l, struct loop_op *op, int res)
{
	struct echo *e = op->data;

	assert_true(res > 0);
	e->got += (size_t)res;
	if (e->got == ECHO_LEN) {
		loop_stop(l, 7);
		return;
	}
	assert_int_equal(loop_recv(l, &e->cli_rx, e->cli, e->in + e->got,
				   ECHO_LEN - e->got, cli_recv),
			 0);
}

static void cli_sent(struct loop *l, struct loop_op *op, int res)
{
	struct echo *e = op->data;

	/*
	 * The whole buffer, in one callback, however many sends it took
	 * (with a 4 KiB send buffer, about 500 here).
	 */
	assert_int_equal(res, ECHO_LEN);
	assert_int_equal(op->done, ECHO_LEN);
	e->sent = true;
}

static void test_echo(void **state)
{
	struct loop *l = *state;
	struct echo *e = calloc(1, sizeof(*e));
	int sv[2], small = 4096;

	assert_non_null(e);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
		0);
	e->cli = sv[0];
	e->srv = sv[1];
	e->out = malloc(ECHO_LEN);
	e->in = malloc(ECHO_LEN);
	assert_non_null(e->out);
	assert_non_null(e->in);
	for (size_t i = 0; i < ECHO_LEN; i++)
		e->out[i] = (char)(i * 7 + i / 251);
	e->srv_rx.data = e->srv_tx.data = e->cli_tx.data = e->cli_rx.data = e;

	assert_int_equal(loop_recv(l, &e->srv_rx, e->srv, e->piece,
				   sizeof(e->piece), srv_recv),
			 0);
	assert_int_equal(
		loop_send(l, &e->cli_tx, e->cli, e->out, ECHO_LEN, cli_sent),
		0);
	assert_int_equal(
		loop_recv(l, &e->cli_rx, e->cli, e->in, ECHO_LEN, cli_recv), 0);
	/* an op in flight cannot be reused */
	assert_int_equal(loop_recv(l, &e->cli_rx, e->cli, e->in, 1, cli_recv),
			 -EBUSY);

	assert_int_equal(loop_run(l), 7);
	assert_true(e->sent);
	assert_int_equal(e->got, ECHO_LEN);
	assert_memory_equal(e->in, e->out, ECHO_LEN);

	/* the server still waits for input: end of stream ends it */
	close(e->cli);
	assert_int_equal(loop_run(l), 0);
	assert_false(loop_op_busy(&e->srv_rx));
	free(e->out);
	free(e->in);
	close(e->srv);
	free(e);
}

struct fired {
	int res;
	int calls;
	uint64_t at;
};

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct fired *f = op->data;

	f->res = res;
	f->calls++;
	f->at = now_ns();
}

static void test_timeout(void **state)
{
	struct loop *l = *state;
	struct fired f = { .res = -1 };
	struct loop_op op = { .data = &f };
	uint64_t t0 = now_ns();

	assert_int_equal(loop_timeout(l, &op, 20000000, on_timer), 0);
	/* nothing else in flight: the loop runs dry after the timer */
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.res, 0); /* expiry is 0, not -ETIME */
	assert_true(f.at - t0 >= 20000000);
}

static void cancel_recv(struct loop *l, struct loop_op *op, int res)
{
	struct loop_op *rx = op->data;

	assert_int_equal(res, 0);
	assert_int_equal(loop_cancel(l, rx), 0);
}

static void test_cancel(void **state)
{
	struct loop *l = *state;
	struct fired f = { .res = 1 };
	struct loop_op rx = { .data = &f };
	struct loop_op t = { .data = &rx };
	char byte;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* a recv that would wait forever, cancelled by a timer */
	assert_int_equal(loop_recv(l, &rx, sv[0], &byte, 1, on_timer), 0);
	assert_int_equal(loop_timeout(l, &t, 5000000, cancel_recv), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.res, -ECANCELED);
	assert_false(loop_op_busy(&rx));

	/* a timer cancelled before it expires */
	f.calls = 0;
	assert_int_equal(loop_timeout(l, &rx, 10ull * 1000000000, on_timer), 0);
	assert_int_equal(loop_cancel(l, &rx), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.res, -ECANCELED);
	close(sv[0]);
	close(sv[1]);
}

struct sigs {
	int got[4];
	int n;
};

static void on_signal(struct loop *l, struct loop_op *op, int res)
{
	struct sigs *s = op->data;

	if (res == -ECANCELED)
		return;
	s->got[s->n++] = res;
	if (s->n == 2)
		loop_stop(l, 0);
}

static void test_signal(void **state)
{
	struct loop *l = *state;
	struct sigs s = { 0 };
	struct loop_op op = { .data = &s };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	assert_int_equal(loop_signals(l, &op, &set, on_signal), 0);
	/* blocked now: they wait in the signalfd instead of killing us */
	raise(SIGUSR1);
	raise(SIGUSR2);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(s.n, 2);
	/* pending signals are read lowest number first */
	assert_int_equal(s.got[0], SIGUSR1);
	assert_int_equal(s.got[1], SIGUSR2);

	/* still armed; cancel it and the loop runs dry */
	assert_true(loop_op_busy(&op));
	loop_cancel(l, &op);
	assert_int_equal(loop_run(l), 0);
	assert_false(loop_op_busy(&op));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void on_connect(struct loop *l, struct loop_op *op, int res)
{
	struct fired *f = op->data;

	(void)l;
	f->res = res;
	f->calls++;
}

/* A loopback listener; its port in @sin. */
static int listen_loopback(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void test_connect(void **state)
{
	struct loop *l = *state;
	struct fired f = { .res = 1 }, a = { .res = -1 };
	struct loop_op op = { .data = &f }, acc = { .data = &a };
	struct sockaddr_in sin, peer, mine;
	socklen_t plen = sizeof(peer);
	int lfd = listen_loopback(&sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(loop_accept(l, &acc, lfd, on_connect), 0);
	{
		/* the op keeps its own copy: this one is gone at submission */
		struct sockaddr_in tmp = sin;

		assert_int_equal(loop_connect(l, &op, fd,
					      (struct sockaddr *)&tmp,
					      sizeof(tmp), on_connect),
				 0);
		memset(&tmp, 0, sizeof(tmp));
	}
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.res, 0);
	assert_int_equal(a.calls, 1);
	assert_true(a.res >= 0); /* the accepted fd */
	/* really connected: the accepted socket's peer is our socket */
	assert_int_equal(getpeername(a.res, (struct sockaddr *)&peer, &plen),
			 0);
	plen = sizeof(mine);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&mine, &plen), 0);
	assert_int_equal(mine.sin_port, peer.sin_port);

	/* a poll waits for readable, and says which events are ready */
	f.calls = 0;
	assert_int_equal(loop_poll(l, &op, a.res, POLLIN, on_connect), 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.calls, 1);
	assert_true(f.res & POLLIN);
	close(a.res);
	close(fd);

	/* the listener closed, its port refuses */
	close(lfd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	f.calls = 0;
	assert_int_equal(loop_connect(l, &op, fd, (struct sockaddr *)&sin,
				      sizeof(sin), on_connect),
			 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.res, -ECONNREFUSED);
	close(fd);

	/* an address longer than any sockaddr is refused up front */
	assert_int_equal(loop_connect(l, &op, fd, (struct sockaddr *)&sin,
				      sizeof(struct sockaddr_storage) + 1,
				      on_connect),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
