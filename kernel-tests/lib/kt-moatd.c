// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kt-moatd.h"
#include "kt.h"

#define KT_MAX_DAEMONS 8
#define KT_MAX_DIRS 8

static struct kt_moatd *daemons[KT_MAX_DAEMONS];
static int ndaemons;
static char dirs[KT_MAX_DIRS][PATH_MAX];
static int ndirs;
static void (*prev_int)(int), (*prev_term)(int);

/* Before kt.c's cleanup (registered earlier, so run later) removes pins. */
static void cleanup(void)
{
	int i;

	for (i = 0; i < ndaemons; i++) {
		if (daemons[i]->pid > 0) {
			kill(daemons[i]->pid, SIGKILL);
			waitpid(daemons[i]->pid, NULL, 0);
			daemons[i]->pid = 0;
		}
		/* what moatctl rules keeps between reads */
		kt_sh("rm -rf /run/moat/%s; rmdir /run/moat 2>/dev/null",
		      daemons[i]->instance);
	}
	ndaemons = 0;
	for (i = 0; i < ndirs; i++)
		kt_sh("rm -rf '%s'", dirs[i]);
	ndirs = 0;
}

/* Ours first, then kt.c's handler, which removes namespaces and pins. */
static void on_signal(int sig)
{
	void (*prev)(int) = sig == SIGINT ? prev_int : prev_term;

	cleanup();
	if (prev != SIG_DFL && prev != SIG_IGN && prev != SIG_ERR)
		prev(sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm(void)
{
	static bool armed;

	if (armed)
		return;
	armed = true;
	atexit(cleanup);
	prev_int = signal(SIGINT, on_signal);
	prev_term = signal(SIGTERM, on_signal);
}

int kt_run(const char *fmt, ...)
{
	extern char **environ;
	char *cmd, *argv[4] = { "sh", "-c", NULL, NULL };
	va_list ap;
	pid_t pid;
	int n, st;

	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (getenv("KT_VERBOSE"))
		fprintf(stderr, "+ %s\n", cmd);
	argv[2] = cmd;
	n = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
	free(cmd);
	if (n)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *kt_tmpdir(const char *base)
{
	char *d;

	arm();
	if (ndirs == KT_MAX_DIRS)
		return NULL;
	d = dirs[ndirs];
	snprintf(d, PATH_MAX, "/tmp/%s.XXXXXX", base);
	if (!mkdtemp(d))
		return NULL;
	ndirs++;
	return d;
}

int kt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) == EOF)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

int kt_moatd_init(struct kt_moatd *m, const char *moatd, const char *moatctl,
		  const char *netns, const char *instance, const char *dir,
		  const char *ifaces, const char *ruleset)
{
	char *text;
	int err;

	arm();
	if (ndaemons == KT_MAX_DAEMONS)
		return -ENOSPC;
	memset(m, 0, sizeof(*m));
	m->moatd = moatd;
	m->moatctl = moatctl;
	if (snprintf(m->netns, sizeof(m->netns), "%s", netns) >=
		    (int)sizeof(m->netns) ||
	    snprintf(m->instance, sizeof(m->instance), "%s", instance) >=
		    (int)sizeof(m->instance) ||
	    snprintf(m->conf, sizeof(m->conf), "%s/moatd.conf", dir) >=
		    (int)sizeof(m->conf) ||
	    snprintf(m->sock, sizeof(m->sock), "%s/moatd.sock", dir) >=
		    (int)sizeof(m->sock) ||
	    snprintf(m->log, sizeof(m->log), "%s/moatd.log", dir) >=
		    (int)sizeof(m->log))
		return -ENAMETOOLONG;
	if (asprintf(
		    &text,
		    /* rule counters count every packet: kt-conntrack tests state */
		    "instance %s\ninterfaces %s\nruleset %s\nsocket %s\nstate-dir %s/state\nconntrack no\n",
		    instance, ifaces, ruleset, m->sock, dir) < 0)
		return -ENOMEM;
	daemons[ndaemons++] = m;
	err = kt_write_file(m->conf, text);
	free(text);
	return err;
}

static bool running(const struct kt_moatd *m)
{
	char out[32];

	return kt_moatctl(m, "status", ".moatd.running", out, sizeof(out)) ==
		       0 &&
	       !strcmp(out, "true");
}

int kt_moatd_start(struct kt_moatd *m)
{
	char path[128];
	int nsfd, logfd, i, st;
	pid_t pid;

	snprintf(path, sizeof(path), "/run/netns/%s", m->netns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	logfd = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		close(nsfd);
		return -errno;
	}
	/* the test has threads: the child makes only system calls */
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setns(nsfd, CLONE_NEWNET) || dup2(logfd, 1) < 0 ||
		    dup2(logfd, 2) < 0)
			_exit(126);
		execl(m->moatd, m->moatd, "-c", m->conf, (char *)NULL);
		_exit(127);
	}
	close(nsfd);
	close(logfd);
	if (pid < 0)
		return -errno;
	m->pid = pid;
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			m->pid = 0;
			kt_sh("sed 's/^/# moatd: /' %s >&2", m->log);
			return -ECHILD;
		}
		if (running(m))
			return 0;
		usleep(100 * 1000);
	}
	kt_sh("sed 's/^/# moatd: /' %s >&2", m->log);
	return -ETIMEDOUT;
}

int kt_moatd_kill(struct kt_moatd *m, int sig, int *status)
{
	if (m->pid <= 0)
		return -ESRCH;
	if (kill(m->pid, sig))
		return -errno;
	if (waitpid(m->pid, status, 0) != m->pid)
		return -errno;
	m->pid = 0;
	return 0;
}

int kt_moatctl(const struct kt_moatd *m, const char *args, const char *filter,
	       char *out, size_t size)
{
	char *cmd;
	FILE *p;
	int st;

	if (asprintf(
		    &cmd,
		    "out=$(nsenter --net=/run/netns/%s %s -i %s -s %s --json %s) || exit $?; "
		    "printf '%%s\\n' \"$out\" | jq -r '%s'",
		    m->netns, m->moatctl, m->instance, m->sock, args,
		    filter) < 0)
		return -1;
	if (getenv("KT_VERBOSE"))
		fprintf(stderr, "+ %s\n", cmd);
	p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return -1;
	out[0] = '\0';
	if (fgets(out, (int)size, p))
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

int kt_moatctl_u64(const struct kt_moatd *m, const char *args,
		   const char *filter, uint64_t *v)
{
	char out[64], *end;
	int st = kt_moatctl(m, args, filter, out, sizeof(out));

	if (st)
		return st;
	errno = 0;
	*v = strtoull(out, &end, 10);
	return errno || end == out || *end ? -1 : 0;
}
