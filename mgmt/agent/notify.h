/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sd_notify(3) without libsystemd: tell the service manager that moatd
 * is ready (Type=notify), reloading, or stopping.  Does nothing when
 * NOTIFY_SOCKET is not set.
 */
#ifndef MOAT_AGENT_NOTIFY_H
#define MOAT_AGENT_NOTIFY_H

/* @state: newline-separated assignments, e.g. "READY=1\nSTATUS=...". */
int notify(const char *state);

#endif /* MOAT_AGENT_NOTIFY_H */
