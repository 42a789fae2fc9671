// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "privsep.h"

/* The child's end of the socketpair, in the child. */
#define SESSION_FD 3

int privsep_user(const char *name, struct privsep_user *u)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		log_err("user '%s' does not exist: create it (useradd --system --no-create-home --shell /usr/sbin/nologin %s) or name another in moatd.conf's 'user'",
			name, name);
		return errno ? -errno : -ENOENT;
	}
	if (pw->pw_uid == 0) {
		log_err("user '%s' is root: the session and metrics processes must not be",
			name);
		return -EPERM;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 0;
}

#define RESTART_MIN_MS 1000u
#define RESTART_MAX_MS 60000u
#define RESTART_RESET_NS (60ull * 1000000000u)

uint64_t privsep_restart_ms(uint64_t *delay_ms, uint64_t ran_ns)
{
	if (ran_ns >= RESTART_RESET_NS)
		*delay_ms = 0;
	*delay_ms = !*delay_ms			 ? RESTART_MIN_MS :
		    *delay_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS :
						     *delay_ms * 2;
	return *delay_ms;
}

void privsep_exit_reason(int status, char *why, size_t size)
{
	if (WIFEXITED(status))
		snprintf(why, size, "exited with status %d%s",
			 WEXITSTATUS(status),
			 WEXITSTATUS(status) == 3 ?
				 " (it could not set itself up)" :
				 "");
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(
			why, size,
			"was killed by its seccomp filter (a system call outside its allowlist)");
	else if (WIFSIGNALED(status))
		snprintf(why, size, "was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, size, "ended (status 0x%x)", status);
}

/*
 * A packet may be a whole agent-channel frame (1 MiB: a desired
 * ruleset), over the default send buffer's 208 KiB: a unix socket takes
 * a packet only as large as its sender's buffer.  The parent is root and
 * may force a larger one on both ends before the child has its own.
 */
static int size_buffers(const int sv[2])
{
	int size = 4 << 20;

	for (int i = 0; i < 2; i++) {
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &size,
			       sizeof(size)) < 0 &&
		    setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size,
			       sizeof(size)) < 0)
			return -errno;
	}
	return 0;
}

pid_t privsep_spawn(const struct privsep_user *u, enum privsep_role role,
		    int listen_fd, bool debug, int *fd)
{
	const char *opt = role == PRIVSEP_METRICS ? "--" PRIVSEP_METRICS_OPT :
						    "--" PRIVSEP_SESSION_OPT;
	char uid[16], gid[16];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (role == PRIVSEP_SESSION && size_buffers(sv) < 0)
		log_warn("cannot size the session socketpair's buffers: %s; large rulesets from the control plane may not pass",
			 strerror(errno));
	snprintf(uid, sizeof(uid), "%u", (unsigned)u->uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)u->gid);
	pid = fork();
	if (pid < 0) {
		pid = -errno;
		close(sv[0]);
		close(sv[1]);
		return pid;
	}
	if (pid == 0) {
		char *argv[] = { "moatd", (char *)opt, "3",
				 "--uid", uid, "--gid", gid,
				 debug ? "-d" : NULL, NULL };
		sigset_t none;

		/*
		 * The mask survives exec: the parent blocks SIGTERM for its
		 * signalfd, and a child that inherits that ignores the
		 * parent's SIGTERM at shutdown.
		 */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);

		/*
		 * dup2 clears CLOEXEC on the copy: the fds that survive.  The
		 * listening socket first out of the way of fd 3.
		 */
		if (listen_fd >= 0) {
			listen_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 10);
			if (listen_fd < 0)
				_exit(127);
		}
		if (dup2(sv[1], SESSION_FD) < 0)
			_exit(127);
		if (listen_fd >= 0 && dup2(listen_fd, PRIVSEP_LISTEN_FD) < 0)
			_exit(127);
		/* the parent's session, not a signal from its terminal */
		setsid();
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

int privsep_drop(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	/* a bug that made these succeed would be a way back to root */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/*
 * What either child calls once its ring is up: io_uring_enter for
 * everything it does on sockets and timers, memory (OpenSSL, msgpack,
 * the metrics text), the clock and randomness, writes of its log to
 * stderr, and close() of the sockets it is done with.
 */
static const int allowed[] = {
	SCMP_SYS(io_uring_enter), SCMP_SYS(read), SCMP_SYS(write),
	SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise),
	SCMP_SYS(mprotect), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek),
};

/*
 * The session process's own: the TLS layer reads what a poll said is
 * there with recv() (recvfrom), half-closes with shutdown(), sets and
 * reads socket options, and a socket() for each reconnect (below; its
 * connect is an io_uring operation).  The metrics process, whose accept,
 * receive and send are all io_uring operations, needs none of them.
 */
static const int session_allowed[] = {
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
};

static int allow_all(scmp_filter_ctx ctx, const int *v, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, v[i], 0);
	return ret;
}

int privsep_seccomp(enum privsep_role role)
{
	scmp_filter_ctx ctx;
	int ret = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	ret = allow_all(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (ret < 0)
		goto out;
	if (role == PRIVSEP_METRICS)
		goto load;
	ret = allow_all(ctx, session_allowed,
			sizeof(session_allowed) / sizeof(session_allowed[0]));
	if (ret < 0)
		goto out;
	/* TCP over IPv4 or IPv6, nothing else (the type may carry flags) */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			       SCMP_A0(SCMP_CMP_EQ, AF_INET),
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				       SCMP_A0(SCMP_CMP_EQ, AF_INET6),
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
					       SOCK_STREAM));
	if (ret < 0)
		goto out;
load:
	ret = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return ret;
}
