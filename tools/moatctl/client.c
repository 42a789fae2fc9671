// SPDX-License-Identifier: GPL-2.0-only
/* moatctl's side of the control socket: blocking, one call at a time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "moatctl.h"

/* An apply of a large ruleset compiles and loads for a while. */
#define CLIENT_TIMEOUT_S 300

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (r == 0)
			return -ECONNRESET; /* moatd went away mid-reply */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int client_call(const struct moatctl *g, const struct ctl_request *req,
		struct wire_msg *m, char **buf)
{
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	char hdr[WIRE_HDR_LEN];
	uint32_t plen;
	size_t len;
	int fd, ret;

	*buf = NULL;
	memset(m, 0, sizeof(*m));
	msgpack_unpacked_init(&m->up);
	fd = dial(g->socket);
	if (fd < 0)
		return fd;

	wire_writer_init(&w);
	ctl_request_encode(&w, req);
	ret = wire_end(&w, WIRE_MAX_FRAME_LOCAL, &frame, &len);
	if (!ret)
		ret = send_all(fd, frame, len);
	wire_writer_free(&w);
	/*
	 * moatd may answer before reading (busy, not root) and hang up: the
	 * send fails, but its reply says why, so read it all the same.
	 */
	if (!ret || ret == -EPIPE || ret == -ECONNRESET) {
		int sent = ret;

		ret = recv_all(fd, hdr, sizeof(hdr));
		if (ret < 0 && sent < 0)
			ret = sent;
	}
	if (ret < 0)
		goto out;
	plen = wire_frame_len(hdr);
	if (plen > WIRE_MAX_FRAME_LOCAL) {
		ret = -EMSGSIZE;
		goto out;
	}
	*buf = malloc(plen ? plen : 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = recv_all(fd, *buf, plen);
	if (!ret) {
		wire_msg_free(m);
		ret = wire_parse(m, *buf, plen, &e);
		if (ret < 0)
			fprintf(stderr, "moatctl: bad reply from moatd: %s\n",
				e.msg);
	}
out:
	close(fd);
	return ret;
}

/*
 * No moatd on the socket.  A moatd killed a moment ago can still accept
 * and then reset a connection while the kernel tears its socket down:
 * that is "not running" too, not an error of the exchange.
 */
bool client_down(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED || err == -ECONNRESET ||
	       err == -EPIPE;
}

int client_fail(const struct moatctl *g, int err)
{
	if (client_down(err))
		return fail(
			"moatd is not running (no answer on %s); start it with 'systemctl start moatd', or name another socket with -s",
			g->socket);
	if (err == -EACCES || err == -EPERM)
		return fail("permission denied on %s: moatctl needs root",
			    g->socket);
	if (err == -ETIMEDOUT)
		return fail("moatd did not answer within %d s on %s",
			    CLIENT_TIMEOUT_S, g->socket);
	if (err == -EBADMSG)
		return EXIT_USER; /* said above */
	return fail("talking to moatd on %s: %s", g->socket, strerror(-err));
}
