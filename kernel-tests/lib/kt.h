/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every kernel test shares: named checks, honest skips, network
 * namespaces that are removed however the test ends.
 */
#ifndef MOAT_KT_H
#define MOAT_KT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Skip with exit status 77 and the reason on stderr (liburing's
 * T_EXIT_SKIP).  Under CI=true a skip is a failure: the CI machine has
 * every feature these tests need, so a skip there means something broke.
 */
void kt_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Skip unless root with bpffs, network namespaces and XDP. */
void kt_require_kernel(void);

/*
 * A named check: prints "ok - NAME" or "not ok - NAME: why", and counts.
 * Returns @ok so callers can stop early.
 */
bool kt_check(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Exit status for the end of main(): 0 when every check passed. */
int kt_done(void);

/*
 * Run a shell command (for `ip`); returns its exit status.  Commands are
 * echoed to stderr when KT_VERBOSE is set.
 */
int kt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A name unique to this test process: "<base>-<pid>" (netns, instance
 * and interface names; interface names must stay within 15 bytes).
 */
const char *kt_name(const char *base);

/* Create a network namespace that is deleted at exit (also on signals). */
int kt_netns(const char *name);

/* Enter a namespace's network stack (only the network: bpffs stays). */
int kt_enter(const char *name);
/* Back to the namespace the test started in. */
int kt_leave(void);

/* Remove a moat instance's pins at exit. */
void kt_cleanup_instance(const char *instance);

uint64_t kt_now_ns(void);

#endif /* MOAT_KT_H */
