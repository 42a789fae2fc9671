/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The real moatd in a test's network namespace, and moatctl asked about
 * it: for kernel tests that drive the daemon from C.  Every moatd started
 * here, and every directory made by kt_tmpdir(), is removed however the
 * test ends (exit, SIGINT, SIGTERM; a SIGKILLed test takes its moatd
 * along through PR_SET_PDEATHSIG).
 */
#ifndef MOAT_KT_MOATD_H
#define MOAT_KT_MOATD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kt_moatd {
	const char *moatd, *moatctl; /* the binaries under test */
	char netns[64]; /* where moatd runs (only its network namespace) */
	char instance[64];
	char conf[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	pid_t pid; /* 0 while not running */
};

/*
 * Write the configuration of @m into @dir (state, socket and log there
 * too): one instance protecting @ifaces with @ruleset.  Call after
 * kt_netns(), so that the cleanup of kt.c is armed first and runs last.
 */
int kt_moatd_init(struct kt_moatd *m, const char *moatd, const char *moatctl,
		  const char *netns, const char *instance, const char *dir,
		  const char *ifaces, const char *ruleset);

/* Start moatd and wait until it answers `moatctl status` (10 s at most). */
int kt_moatd_start(struct kt_moatd *m);

/* Send @sig and reap; *@status gets the wait status.  Returns 0 or -errno. */
int kt_moatd_kill(struct kt_moatd *m, int sig, int *status);

/*
 * Run `moatctl --json ARGS` in moatd's namespace and filter its output
 * with jq: the first line of what jq prints goes to @out.  Returns
 * moatctl's exit status (then jq's, when moatctl succeeded), or -1.
 */
int kt_moatctl(const struct kt_moatd *m, const char *args, const char *filter,
	       char *out, size_t size);

/* kt_moatctl() of one unsigned number; -1 when it is not one. */
int kt_moatctl_u64(const struct kt_moatd *m, const char *args,
		   const char *filter, uint64_t *v);

/*
 * Run a shell command and return its exit status (-1 when it did not
 * exit).  Unlike system(), it leaves SIGINT alone, so that a Ctrl-C
 * during a long command (ping) ends the test and its cleanup runs.
 */
int kt_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new directory /tmp/BASE.XXXXXX, removed at exit; NULL on failure. */
const char *kt_tmpdir(const char *base);

/* Write @text to @path; 0 or -errno. */
int kt_write_file(const char *path, const char *text);

#endif /* MOAT_KT_MOATD_H */
