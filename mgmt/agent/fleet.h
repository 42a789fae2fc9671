/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The privileged side of joining a fleet: start the session process
 * (privsep.h), hand it what it needs, answer its status requests from
 * the data plane and the host, check and save the identity it sends,
 * keep its state for moatctl status, and restart it when it dies.
 */
#ifndef MOAT_AGENT_FLEET_H
#define MOAT_AGENT_FLEET_H

#include "ctl.h"

struct agent;
struct fleet;

/* Nothing to do (0, *@f NULL) when the config names no control plane. */
int fleet_start(struct fleet **f, struct agent *a);
/* Cancel the loop's ops, end the session process; free after loop_run. */
void fleet_shutdown(struct fleet *f);
void fleet_free(struct fleet *f);

void fleet_status(const struct fleet *f, struct ctl_cp *cp);

/*
 * A local apply went over the desired ruleset (--force): tell the
 * control plane at once (an `applied` with drift).  @f may be NULL.
 */
void fleet_report_drift(struct fleet *f);

#endif /* MOAT_AGENT_FLEET_H */
