// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatd's control socket, with a stand-in handler: framing, pipelining,
 * bad frames, oversize frames, peers cut short, and who may connect.
 * The client runs in a thread with blocking I/O, as moatctl does; the
 * server runs the io_uring loop on the test's main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "ctl.h"
#include "loop.h"
#include "wire.h"

struct fixture {
	char dir[48];
	char path[100];
	struct loop loop;
	struct control *ctl;
	int requests; /* seen by the handler */
};

/* Stand-in for moatd: apply says the text's length, reload stops. */
static void handle(void *ctx, const struct ctl_request *r,
		   struct wire_writer *w)
{
	struct fixture *f = ctx;
	struct moat_apply_stats st = { .generation = r->text_len };

	f->requests++;
	switch (r->type) {
	case CTL_APPLY:
		ctl_reply_applied(w, &st, NULL, r->name);
		break;
	case CTL_RELOAD:
		loop_stop(&f->loop, 0);
		ctl_reply_applied(w, &st, NULL, NULL);
		break;
	default:
		ctl_reply_detached(w, "x");
		break;
	}
}

static int open_server(struct fixture *f, uint32_t uid)
{
	struct control_handler h = { .handle = handle, .ctx = f };
	const char *what;

	return control_open(&f->ctl, &f->loop, f->path, uid, &h, &what);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/moat-test-control.XXXXXX");
	if (!mkdtemp(f->dir) || loop_init(&f->loop, 16) < 0)
		return -1;
	/* a directory that does not exist yet: control_open makes it */
	snprintf(f->path, sizeof(f->path), "%s/run/ctl.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char run[160];

	if (f->ctl) {
		control_shutdown(f->ctl);
		loop_run(&f->loop); /* the connections' ops finish */
		control_free(f->ctl);
	}
	loop_exit(&f->loop);
	snprintf(run, sizeof(run), "%s/run", f->dir);
	rmdir(run);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The client side, blocking. */

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static bool send_bytes(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

static bool send_request(int fd, const struct ctl_request *r)
{
	struct wire_writer w;
	const char *frame;
	size_t len;
	bool ok;

	wire_writer_init(&w);
	ctl_request_encode(&w, r);
	ok = !wire_end(&w, WIRE_MAX_FRAME_LOCAL, &frame, &len) &&
	     send_bytes(fd, frame, len);
	wire_writer_free(&w);
	return ok;
}

static bool recv_exact(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* A reply: "ok:<generation>" or "error:<msg>"; "eof" when none came. */
static void recv_reply(int fd, enum ctl_type t, char *out, size_t size)
{
	char hdr[WIRE_HDR_LEN], *buf;
	struct ctl_reply r;
	struct wire_msg m;
	struct wire_err e;
	uint32_t n;

	if (!recv_exact(fd, hdr, sizeof(hdr))) {
		snprintf(out, size, "eof");
		return;
	}
	n = wire_frame_len(hdr);
	buf = malloc(n);
	if (!buf || !recv_exact(fd, buf, n) || wire_parse(&m, buf, n, &e) ||
	    ctl_reply_decode(&m, t, &r, &e))
		snprintf(out, size, "bad reply");
	else if (r.ok)
		snprintf(out, size, "ok:%llu",
			 (unsigned long long)r.st.generation);
	else
		snprintf(out, size, "error:%s", r.msg);
	ctl_reply_free(&r);
	wire_msg_free(&m);
	free(buf);
}

/* What the client saw, checked on the main thread after the loop. */
struct seen {
	const char *path;
	char r[8][600];
	volatile int done; /* the client thread is through */
};

static void *client_main(void *arg)
{
	struct seen *s = arg;
	struct ctl_request apply = {
		.type = CTL_APPLY, .text = "abc", .text_len = 3, .name = "r"
	};
	struct ctl_request status = { .type = CTL_STATUS };
	struct ctl_request reload = { .type = CTL_RELOAD };
	static const char not_a_map[] = { 0, 0, 0, 1, (char)0x90 };
	static const char huge[] = { 0x7f, 0, 0, 0 };
	int fd = dial(s->path);

	/* 0: one request, one reply */
	send_request(fd, &apply);
	recv_reply(fd, CTL_APPLY, s->r[0], sizeof(s->r[0]));
	/* 1, 2: two requests in one go; two replies, in order */
	send_request(fd, &status);
	send_request(fd, &apply);
	recv_reply(fd, CTL_STATUS, s->r[1], sizeof(s->r[1]));
	recv_reply(fd, CTL_APPLY, s->r[2], sizeof(s->r[2]));
	/* 3, 4: a bad frame is answered, and the connection goes on */
	send_bytes(fd, not_a_map, sizeof(not_a_map));
	recv_reply(fd, CTL_STATUS, s->r[3], sizeof(s->r[3]));
	send_request(fd, &status);
	recv_reply(fd, CTL_STATUS, s->r[4], sizeof(s->r[4]));
	close(fd);

	/* 5, 6: a frame announced too large: refused, then closed */
	fd = dial(s->path);
	send_bytes(fd, huge, sizeof(huge));
	recv_reply(fd, CTL_STATUS, s->r[5], sizeof(s->r[5]));
	recv_reply(fd, CTL_STATUS, s->r[6], sizeof(s->r[6]));
	close(fd);

	/* half a frame, then gone: the server must just let go */
	fd = dial(s->path);
	send_bytes(fd, not_a_map, 3);
	close(fd);

	/* 7: the last request stops the loop */
	fd = dial(s->path);
	send_request(fd, &reload);
	recv_reply(fd, CTL_RELOAD, s->r[7], sizeof(s->r[7]));
	close(fd);
	return NULL;
}

static void test_conversation(void **state)
{
	struct fixture *f = *state;
	struct seen s = { .path = f->path };
	struct stat st;
	pthread_t t;

	assert_int_equal(open_server(f, (uint32_t)geteuid()), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(pthread_create(&t, NULL, client_main, &s), 0);
	assert_int_equal(loop_run(&f->loop), 0);
	pthread_join(t, NULL);

	assert_string_equal(s.r[0], "ok:3");
	assert_string_equal(s.r[1], "ok:0");
	assert_string_equal(s.r[2], "ok:3");
	assert_string_equal(s.r[3], "error:bad request: message is not a map");
	assert_string_equal(s.r[4], "ok:0");
	assert_string_equal(s.r[5], "error:frame larger than 67108864 bytes");
	assert_string_equal(s.r[6], "eof");
	assert_string_equal(s.r[7], "ok:0");
	/* apply, status, apply, status, reload: the bad ones never got here */
	assert_int_equal(f->requests, 5);
}

static void *refused_main(void *arg)
{
	struct seen *s = arg;
	struct ctl_request status = { .type = CTL_STATUS };
	int fd = dial(s->path);

	send_request(fd, &status);
	recv_reply(fd, CTL_STATUS, s->r[0], sizeof(s->r[0]));
	recv_reply(fd, CTL_STATUS, s->r[1], sizeof(s->r[1]));
	close(fd);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The loop runs until the client thread says it is through. */
static void poll_done(struct loop *l, struct loop_op *op, int res)
{
	struct seen *s = op->data;

	if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
		loop_stop(l, 0);
	else
		loop_timeout(l, op, 1000000, poll_done);
}

static void test_other_uid_refused(void **state)
{
	struct fixture *f = *state;
	struct seen s = { .path = f->path };
	struct loop_op t = { .data = &s };
	pthread_t th;

	/* the socket is for a uid that is not ours: we are refused */
	assert_int_equal(open_server(f, (uint32_t)geteuid() + 1), 0);
	assert_int_equal(pthread_create(&th, NULL, refused_main, &s), 0);
	loop_timeout(&f->loop, &t, 1000000, poll_done);
	assert_int_equal(loop_run(&f->loop), 0);
	pthread_join(th, NULL);
	assert_string_equal(
		s.r[0],
		"error:permission denied: only root may use moatd's socket");
	assert_string_equal(s.r[1], "eof");
	assert_int_equal(f->requests, 0);
}

static void test_stale_socket(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char run[160];
	int fd;

	/* a socket left by a moatd that died: replaced */
	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(mkdir(run, 0755), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(open_server(f, (uint32_t)geteuid()), 0);
	control_shutdown(f->ctl);
	loop_run(&f->loop);
	control_free(f->ctl);
	f->ctl = NULL;
	/* control_free() removed it */
	assert_int_equal(access(f->path, F_OK), -1);

	/* anything else at the path is not ours to remove */
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(open_server(f, (uint32_t)geteuid()), -EEXIST);
	f->ctl = NULL;
	unlink(f->path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conversation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_uid_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
