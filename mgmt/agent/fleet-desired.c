// SPDX-License-Identifier: GPL-2.0-only
/*
 * The privileged side of declared configuration: the session process
 * hands over a `desired` it has parsed; this process applies it (the
 * atomic path, last-good.rules, desired.gen: desired.h) and answers
 * `applied`; it reads the per-rule counters for `counters`, and says so
 * at once when a local apply makes the host drift.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "fleet-int.h"
#include "log.h"

/* desired.h's apply: the atomic path, `mode audit` when asked. */
static int apply_text(void *arg, const char *text, size_t len, const char *name,
		      bool audit, char *err, size_t errsz)
{
	struct agent_outcome o = { 0 };
	struct agent *a = arg;
	int ret = agent_apply_mode(a, text, len, name, audit, &o);

	if (ret < 0) {
		agent_log_diags(&o.d, name);
		log_err("desired %s: %s; the running generation stays", name,
			o.msg);
		desired_error_text(err, errsz, o.msg, &o.d, name);
	}
	agent_outcome_free(&o);
	return ret;
}

static void send_applied(struct fleet *f, struct proto_msg *m)
{
	const char *frame;
	size_t len;
	int ret;

	snprintf(m->applied.ruleset_hash, sizeof(m->applied.ruleset_hash), "%s",
		 f->a->ruleset_sha);
	ret = psmsg_encode_proto(&f->w, m, &frame, &len);
	if (ret < 0)
		log_err("cannot encode applied for generation %" PRIu64 ": %s",
			m->applied.generation, strerror(-ret));
	else
		fleet_send_child(f, frame, len);
}

void fleet_on_desired(struct fleet *f, const struct proto_desired *m)
{
	struct proto_msg out = { .type = PROTO_APPLIED };
	struct agent *a = f->a;
	char label[96] = "none";
	int ret;

	if (m->has_ruleset)
		desired_label(label, sizeof(label), m->ruleset.name,
			      m->ruleset.version);
	log_info("control plane: desired generation %" PRIu64 ": %s%s",
		 m->generation, label,
		 m->has_ruleset && m->ruleset.mode == PROTO_MODE_AUDIT ?
			 " in audit mode" :
			 "");
	ret = desired_apply(&a->desired, a->cfg.state_dir, m, apply_text, a,
			    &out.applied);
	f->desired_gen = m->generation;
	snprintf(f->apply_error, sizeof(f->apply_error), "%s",
		 ret < 0 ? out.applied.error : "");
	if (ret < 0)
		log_err("desired generation %" PRIu64
			" not applied: %s; generation %" PRIu64 " stays",
			m->generation, out.applied.error,
			a->desired.generation);
	send_applied(f, &out);
}

void fleet_on_refused(struct fleet *f, const struct proto_applied *m)
{
	/* only a refusal is news: the session process applies nothing */
	if (m->ok)
		return;
	f->desired_gen = m->generation;
	snprintf(f->apply_error, sizeof(f->apply_error), "%s", m->error);
}

void fleet_report_drift(struct fleet *f)
{
	struct proto_msg out = { .type = PROTO_APPLIED };

	if (!f)
		return;
	out.applied.generation = f->a->desired.generation;
	out.applied.ok = true;
	out.applied.drift = f->a->desired.drift;
	send_applied(f, &out);
}

/*
 * The most a row can take in the frame: map32, the three keys, a str8
 * name of up to 65 bytes, two uint64.  Rows past what fits are left out
 * (docs/protocol.md): 9,600 of the longest still do.
 */
#define ROW_MAX_BYTES (5 + 5 + 2 + PROTO_RULE_NAME_MAX + 8 + 9 + 6 + 9)
#define ROWS_BUDGET (WIRE_MAX_FRAME - 256)

void fleet_on_counters_request(struct fleet *f)
{
	struct proto_msg m = { .type = PROTO_COUNTERS };
	struct proto_counters *c = &m.counters;
	struct moat_dp_row *rows = NULL;
	struct agent *a = f->a;
	const char *frame;
	size_t len, used = 0;
	int n = 0, ret;

	if (!a->ruleset_sha[0])
		return; /* nothing in force: no counters of a ruleset */
	ret = moat_dp_rows(a->dp, &rows, &n);
	if (ret < 0) {
		log_err("cannot read the counters for the control plane: %s",
			strerror(-ret));
		return;
	}
	c->rules = calloc(n ? (size_t)n : 1, sizeof(*c->rules));
	if (!c->rules) {
		free(rows);
		return;
	}
	c->generation = a->desired.generation;
	snprintf(c->ruleset_hash, sizeof(c->ruleset_hash), "%s",
		 a->ruleset_sha);
	for (int i = 0; i < n && c->nrules < PROTO_COUNTERS_MAX; i++) {
		struct proto_counter *r = &c->rules[c->nrules];

		if (used + ROW_MAX_BYTES > ROWS_BUDGET)
			break;
		/* as moatctl rules shows them: no rule can be named so */
		snprintf(r->name, sizeof(r->name),
			 rows[i].fixed ? "(%s)" : "%s", rows[i].name);
		r->packets = rows[i].packets;
		r->bytes = rows[i].bytes;
		used += ROW_MAX_BYTES;
		c->nrules++;
	}
	if (c->nrules < (uint32_t)n)
		log_warn(
			"counters: %u of %d rows fit a frame; the rest are not reported",
			c->nrules, n);
	ret = psmsg_encode_proto(&f->w, &m, &frame, &len);
	if (ret < 0)
		log_err("cannot encode the counters: %s", strerror(-ret));
	else
		fleet_send_child(f, frame, len);
	free(c->rules);
	free(rows);
}

void fleet_desired_status(const struct fleet *f, struct ctl_cp *cp)
{
	const struct desired_state *d = &f->a->desired;

	cp->applied_generation = d->generation;
	cp->desired_generation =
		f->desired_gen > d->generation ? f->desired_gen : d->generation;
	cp->drift = d->drift;
	if (d->has_ruleset)
		snprintf(cp->desired_ruleset, sizeof(cp->desired_ruleset),
			 "%s@v%" PRIu64 " %s", d->name, d->version,
			 proto_rs_mode_name(d->mode));
	if (cp->desired_generation != cp->applied_generation)
		snprintf(cp->apply_error, sizeof(cp->apply_error), "%s",
			 f->apply_error);
}
