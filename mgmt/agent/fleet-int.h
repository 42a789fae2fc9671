/* SPDX-License-Identifier: GPL-2.0-only */
/* What fleet.c and fleet-desired.c share, and nobody else. */
#ifndef MOAT_AGENT_FLEET_INT_H
#define MOAT_AGENT_FLEET_INT_H

#include "fleet.h"
#include "hostinfo.h"
#include "pktq.h"
#include "privsep-msg.h"
#include "privsep.h"

struct fleet {
	struct agent *a;
	struct privsep_user user;
	pid_t pid;
	int fd;
	struct loop_op rx, timer;
	struct pktq out; /* to the child */
	struct wire_writer w;
	char token[PROTO_TOKEN_MAX + 1]; /* "" when none, or used */
	struct psmsg_identity id;
	struct hostinfo hi;
	struct psmsg_state_msg st;
	uint64_t desired_gen; /* the last desired received; 0: none */
	char apply_error[PROTO_MSG_MAX + 1]; /* its failure; "" */
	uint64_t started_ns, restart_ms;
	bool stopping;
	char buf[PSMSG_MAX];
};

/* Queue a packet for the session process. */
void fleet_send_child(struct fleet *f, const char *frame, size_t len);

/* fleet-desired.c: the session process's desired and counters_request */
void fleet_on_desired(struct fleet *f, const struct proto_desired *m);
void fleet_on_counters_request(struct fleet *f);
/* The session process refused a desired state itself (it does not parse). */
void fleet_on_refused(struct fleet *f, const struct proto_applied *m);
/* moatctl status's view of the desired state */
void fleet_desired_status(const struct fleet *f, struct ctl_cp *cp);

#endif /* MOAT_AGENT_FLEET_INT_H */
