// SPDX-License-Identifier: GPL-2.0-only
/*
 * Running the peers' tools.  posix_spawn (a vfork and an exec: no shell,
 * so no word of a rule is ever parsed by one, and no copy of a parent
 * that may hold a large ruleset), stdin and stdout as memfds so that a
 * ruleset of any size goes through without a pipe to pump, and a pidfd
 * to wait for the exit with a timeout.  The time measured runs from the
 * spawn to the exit: the tool's start, its parsing and its load, which
 * is what an operator waits for.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "peers.h"

extern char **environ;

void peer_err(const char *peer, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "moat-bench: %s: ", peer);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

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

/* The whole of a memfd, NUL-terminated; NULL when out of memory. */
static char *read_all(int fd, size_t *len)
{
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fstat(fd, &st))
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && n < (size_t)st.st_size) {
		ssize_t r =
			pread(fd, buf + n, (size_t)st.st_size - n, (off_t)n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* The command as one line, for messages. */
static void cmd_line(const char *const *argv, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; argv[i]; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
			 i ? " " : "", argv[i]);
}

/*
 * Wait for @pid through @pidfd until @deadline.  A child that outlives
 * it, or a wait that fails, is killed and reaped: none is left behind.
 */
static int wait_child(pid_t pid, int pidfd, uint64_t deadline, int *status)
{
	int ret = -ETIMEDOUT;

	for (;;) {
		uint64_t now = bench_now_ns();
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int r;

		if (now >= deadline)
			break;
		r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (r > 0 && waitpid(pid, status, 0) == pid)
			return 0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return ret;
}

int peer_run(struct peer_cmd *c)
{
	int in = -1, out = -1, err = -1, pidfd = -1, status = 0, ret;
	posix_spawn_file_actions_t fa;
	char line[256];
	uint64_t start;
	pid_t pid;

	c->out = NULL;
	c->out_len = 0;
	cmd_line(c->argv, line, sizeof(line));
	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		return -ret;
	in = c->input ? memfd_create("peer-stdin", MFD_CLOEXEC) :
			open("/dev/null", O_RDONLY | O_CLOEXEC);
	out = c->capture ? memfd_create("peer-stdout", MFD_CLOEXEC) :
			   open("/dev/null", O_WRONLY | O_CLOEXEC);
	err = memfd_create("peer-stderr", MFD_CLOEXEC);
	if (in < 0 || out < 0 || err < 0) {
		ret = -errno;
		goto out;
	}
	if (c->input) {
		ret = write_all(in, c->input, c->input_len);
		if (ret)
			goto out;
		lseek(in, 0, SEEK_SET);
	}
	ret = posix_spawn_file_actions_adddup2(&fa, in, 0)	    ?:
		      posix_spawn_file_actions_adddup2(&fa, out, 1) ?:
		      posix_spawn_file_actions_adddup2(&fa, err, 2);
	if (ret) {
		ret = -ret;
		goto out;
	}

	start = bench_now_ns();
	ret = posix_spawnp(&pid, c->argv[0], &fa, NULL, (char *const *)c->argv,
			   environ);
	if (ret) {
		peer_err(c->argv[0], "cannot run `%s': %s", line,
			 strerror(ret));
		ret = -ret;
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		/* no pidfd (a kernel before 5.3): wait without a timeout */
		ret = waitpid(pid, &status, 0) == pid ? 0 : -errno;
	} else {
		ret = wait_child(pid, pidfd,
				 start + (uint64_t)c->timeout_ms * 1000000,
				 &status);
	}
	c->elapsed_ns = bench_now_ns() - start;
	if (ret == -ETIMEDOUT)
		peer_err(c->argv[0], "`%s' took more than %u s, killed", line,
			 c->timeout_ms / 1000);
	if (ret)
		goto out;

	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = -EIO;
		if (!c->quiet) {
			size_t n;
			char *msg = read_all(err, &n);

			peer_err(c->argv[0], "`%s' failed (status %d): %.2000s",
				 line,
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 msg ? msg : "");
			free(msg);
		}
		goto out;
	}
	if (c->capture) {
		c->out = read_all(out, &c->out_len);
		if (!c->out)
			ret = -ENOMEM;
	}
out:
	posix_spawn_file_actions_destroy(&fa);
	if (pidfd >= 0)
		close(pidfd);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	return ret;
}

void peer_cmd_free(struct peer_cmd *c)
{
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
}
