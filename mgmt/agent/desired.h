/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A managed host's declared configuration, on moatd's privileged side:
 * what the control plane's last `desired` that this host applied said
 * (STATE-DIR/desired.gen), how a new one is applied, and drift (a local
 * `moatctl ruleset apply --force` over it).  The apply itself is the
 * caller's (agent_apply_text() with `mode audit` forced, which keeps
 * last-good.rules): a function pointer, so that the unit tests drive
 * all of this without a data plane.
 *
 * desired.gen is replaced atomically and durably, after the ruleset is
 * in force: a crash in between leaves the previous generation on record
 * and the new ruleset in last-good.rules, and the control plane sends
 * the generation again (hello says the old one).
 */
#ifndef MOAT_AGENT_DESIRED_H
#define MOAT_AGENT_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "ruleset.h"

#define DESIRED_FILE "desired.gen"

struct desired_state {
	uint64_t generation; /* applied; 0: never managed */
	bool has_ruleset; /* false: the last desired state was "none" */
	char name[PROTO_RULESET_NAME_MAX + 1];
	uint64_t version;
	char sha256[PROTO_HASH_LEN + 1];
	enum proto_rs_mode mode;
	bool drift; /* a local apply replaced the ruleset since */
};

/* A host with a desired ruleset refuses local applies without --force. */
static inline bool desired_managed(const struct desired_state *d)
{
	return d->has_ruleset;
}

/* 0; -ENOENT when there is none; -EBADMSG with @why. */
int desired_load(const char *state_dir, struct desired_state *d, char *why,
		 size_t whysz);
int desired_save(const char *state_dir, const struct desired_state *d);

/* "web@v3": what diagnostics and the log call a desired ruleset. */
void desired_label(char *buf, size_t size, const char *name, uint64_t version);

/*
 * Apply @text (@name for messages), with `mode audit` when @audit: 0,
 * or a negative errno with the exact error in @err.
 */
typedef int (*desired_apply_fn)(void *arg, const char *text, size_t len,
				const char *name, bool audit, char *err,
				size_t errsz);

/*
 * Bring the host to @m: check the text against its sha256, apply it
 * through @fn unless it is in force already (same generation, same hash
 * and mode, no drift), record the generation in @state_dir.  @out is the
 * answer, its ruleset_hash left to the caller (what is in force).  On a
 * failure @d stays as it was: the previous generation is still in force.
 * Returns 0 or the failure's negative errno.
 */
int desired_apply(struct desired_state *d, const char *state_dir,
		  const struct proto_desired *m, desired_apply_fn fn, void *arg,
		  struct proto_applied *out);

/* A local apply went over the desired ruleset: recorded, for `applied`. */
int desired_note_drift(struct desired_state *d, const char *state_dir);

/*
 * An error text from diagnostics: @what, then the errors as
 * "@file:line:col: msg", joined by "; ", cut to fit @size.
 */
void desired_error_text(char *buf, size_t size, const char *what,
			const struct moat_diags *diags, const char *file);

/* SHA-256 of @text as 64 lowercase hex digits; -EIO. */
int desired_sha256(const char *text, size_t len, char out[PROTO_HASH_LEN + 1]);

#endif /* MOAT_AGENT_DESIRED_H */
