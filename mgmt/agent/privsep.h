/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd in two processes, as OpenSMTPD does it.  The privileged one owns
 * the data plane, the state files and the host's private key on disk; the
 * session process talks to the control plane.  It is forked and
 * re-executed (a fresh address space: nothing of the parent's memory
 * stays), drops to an unprivileged user with no capabilities, and puts
 * itself under a seccomp filter before it reads a byte from the network.
 * The two speak wire.h frames over a SOCK_SEQPACKET socketpair
 * (session.h).
 */
#ifndef MOAT_AGENT_PRIVSEP_H
#define MOAT_AGENT_PRIVSEP_H

#include <stdbool.h>
#include <sys/types.h>

/* The hidden option that makes moatd the session process. */
#define PRIVSEP_SESSION_OPT "session-fd"

struct privsep_user {
	uid_t uid;
	gid_t gid;
	char name[33];
};

/* Look @name up: -ENOENT, with a message saying how to make it. */
int privsep_user(const char *name, struct privsep_user *u);

/*
 * Fork and re-execute this binary as the session process on one end of a
 * new socketpair: "moatd --session-fd 3 --uid U --gid G [-d]".  Returns
 * the child's pid and the parent's end in @fd, or a negative errno.
 */
pid_t privsep_spawn(const struct privsep_user *u, bool debug, int *fd);

/*
 * In the session process: become @uid/@gid for good: no supplementary
 * groups, no way back (checked), no new privileges, not dumpable.
 */
int privsep_drop(uid_t uid, gid_t gid);

/*
 * In the session process, last: allow only the system calls it makes
 * from here on; anything else kills it.  io_uring's own operations are
 * restricted on the ring itself (loop_restrict()).
 */
int privsep_seccomp(void);

#endif /* MOAT_AGENT_PRIVSEP_H */
