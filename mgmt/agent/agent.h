/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd: the only owner of the data plane on a host.
 *
 * agent.c runs it: take the instance lock, open the data plane, adopt
 * the pinned generation or apply the configured ruleset, attach, serve
 * the control socket, reload on SIGHUP, and exit on SIGTERM leaving
 * enforcement in place.  apply.c is every change to the data plane.
 */
#ifndef MOAT_AGENT_H
#define MOAT_AGENT_H

#include <stdint.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "dataplane.h"
#include "desired.h"
#include "loop.h"

struct agent {
	struct agent_config cfg;
	struct moat_dp *dp;
	struct moat_dp_features features; /* probed once, at start */
	struct loop loop;
	bool loop_ready;
	struct loop_op sig_op;
	struct loop_op ct_op; /* the conntrack pressure watch */
	uint64_t ct_evicted, ct_failed; /* what the watch has said so far */
	struct control *ctl;
	uint64_t started_ns; /* CLOCK_MONOTONIC */
	int lock_fd;
	bool debug; /* -d: log-level debug whatever the config says */
	struct fleet *fleet; /* NULL when not joining a fleet */
	struct metrics *metrics; /* NULL without metrics-listen */
	char ruleset_sha[65]; /* sha256 hex of the applied text; "" unknown */
	struct desired_state desired; /* the control plane's, applied */
};

/* Everything up to serving; on failure the reason is logged. */
int agent_start(struct agent *a, const struct agent_config *cfg);

/* Serve until SIGTERM/SIGINT; returns the exit status. */
int agent_run(struct agent *a);

/* Release everything; never detaches. */
void agent_stop(struct agent *a);

/* apply.c */

/* What an apply or a reload came to, for the log and for the reply. */
struct agent_outcome {
	int ret; /* 0 or a negative errno */
	struct moat_diags d;
	struct moat_apply_stats st;
	char file[PATH_MAX]; /* the ruleset file d is about; "" for none */
	char msg[512]; /* on failure: what happened, in a sentence */
};

void agent_outcome_free(struct agent_outcome *o);

/* Parse and apply a ruleset text; @name is its file, for messages. */
int agent_apply_text(struct agent *a, const char *text, size_t len,
		     const char *name, struct agent_outcome *o);

/* The same with `mode audit` forced when @audit (a desired state's mode). */
int agent_apply_mode(struct agent *a, const char *text, size_t len,
		     const char *name, bool audit, struct agent_outcome *o);

/*
 * The same without the search for shadowed and redundant rules: for a
 * sender that made it itself (moatctl, while moatd applies), so that the
 * reply does not wait for it twice.
 */
int agent_apply_analyzed(struct agent *a, const char *text, size_t len,
			 const char *name, struct agent_outcome *o);

/* The same for a file. */
int agent_apply_file(struct agent *a, const char *path,
		     struct agent_outcome *o);

/*
 * Re-read the config file and its ruleset and apply them; on any error
 * the running configuration and generation stay, and @o says why.
 */
int agent_reload(struct agent *a, struct agent_outcome *o);

/* Attach every configured interface; returns how many failed. */
int agent_attach_all(struct agent *a);

int agent_detach(struct agent *a, const char *iface, char *msg, size_t msgsz);

int agent_status(struct agent *a, struct ctl_status *s);

/*
 * The heartbeat's ruleset_hash: of @text just applied; at an adoption, of
 * last-good.rules, else of the configured file when it is what runs.
 */
void agent_note_ruleset(struct agent *a, const char *text, size_t len);
void agent_note_last_good(struct agent *a);

/* Say at startup whether the pinned generation is the configured file. */
void agent_compare_pinned(struct agent *a, const struct moat_gen_info *g);

/* Log each diag at its severity, prefixed with @file. */
void agent_log_diags(const struct moat_diags *d, const char *file);

#endif /* MOAT_AGENT_H */
