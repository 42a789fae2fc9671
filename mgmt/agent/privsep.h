/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd in several processes, as OpenSMTPD does it.  The privileged one
 * owns the data plane, the state files and the host's private key on
 * disk; the session process talks to the control plane, the metrics
 * process to Prometheus scrapers (metrics.h).  Each is forked and
 * re-executed (a fresh address space: nothing of the parent's memory
 * stays), drops to an unprivileged user with no capabilities, and puts
 * itself under a seccomp filter before it reads a byte from the network.
 * Each speaks to the parent over a SOCK_SEQPACKET socketpair: the session
 * process in wire.h frames (session.h), the metrics process as metrics.h
 * says.
 */
#ifndef MOAT_AGENT_PRIVSEP_H
#define MOAT_AGENT_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The hidden options that make moatd the session or the metrics process. */
#define PRIVSEP_SESSION_OPT "session-fd"
#define PRIVSEP_METRICS_OPT "metrics-fd"
/* In the metrics process: the listening socket the parent bound. */
#define PRIVSEP_LISTEN_FD 4

enum privsep_role {
	PRIVSEP_SESSION, /* the agent channel's client (session.h) */
	PRIVSEP_METRICS, /* the Prometheus endpoint (metrics.h) */
};

struct privsep_user {
	uid_t uid;
	gid_t gid;
	char name[33];
};

/* Look @name up: -ENOENT, with a message saying how to make it. */
int privsep_user(const char *name, struct privsep_user *u);

/*
 * Fork and re-execute this binary as the process of @role on one end of
 * a new socketpair: "moatd --session-fd 3 --uid U --gid G [-d]" (or
 * --metrics-fd, with @listen_fd as fd PRIVSEP_LISTEN_FD; -1 for none).
 * Returns the child's pid and the parent's end in @fd, or a negative
 * errno.
 */
pid_t privsep_spawn(const struct privsep_user *u, enum privsep_role role,
		    int listen_fd, bool debug, int *fd);

/* Why a child ended, from its wait status, for the log. */
void privsep_exit_reason(int status, char *buf, size_t size);

/*
 * The wait before a dead child is started again: 1 s, doubling to 60 s;
 * a child that lived 60 s resets it.  @ran_ns: how long it lived.
 */
uint64_t privsep_restart_ms(uint64_t *delay_ms, uint64_t ran_ns);

/*
 * In the session process: become @uid/@gid for good: no supplementary
 * groups, no way back (checked), no new privileges, not dumpable.
 */
int privsep_drop(uid_t uid, gid_t gid);

/*
 * In the child, last: allow only the system calls a process of @role
 * makes from here on; anything else kills it.  io_uring's own operations
 * are restricted on the ring itself (loop_init_restricted()).
 */
int privsep_seccomp(enum privsep_role role);

#endif /* MOAT_AGENT_PRIVSEP_H */
