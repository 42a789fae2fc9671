// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session process's part in declared configuration: a `desired` from
 * the control plane is checked here, without privilege (its text hashes
 * to its sha256 and parses), before the parent sees it; the parent's
 * `applied` and `counters` go on to the control plane.  Counters are
 * asked of the parent every counters-interval (60 s unless configured)
 * and on the control plane's request.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "log.h"
#include "ruleset.h"
#include "session.h"

static uint64_t counters_ns(const struct session *s)
{
	return (uint64_t)s->cfg.counters_interval * 1000000000ull;
}

/* An answer the control plane should have: now, or after the next welcome. */
static void send_applied(struct session *s, const struct proto_applied *a)
{
	struct proto_msg m = { .type = PROTO_APPLIED };

	m.applied = *a;
	s->pending_applied = true;
	s->pending = *a;
	if (s->phase != SP_SESSION || !s->conn)
		return;
	if (conn_send(s, &m) == 0)
		s->pending_applied = false;
}

/* The parent shows a refusal in moatctl status: it sees the answer. */
static void tell_parent(struct session *s, const struct proto_applied *a)
{
	struct proto_msg m = { .type = PROTO_APPLIED };
	const char *frame;
	size_t len;

	m.applied = *a;
	if (psmsg_encode_proto(&s->ipc_w, &m, &frame, &len) == 0)
		session_send_parent(s, frame, len);
}

/* Refused here: the parent never sees the text, and nothing changes. */
static void refuse(struct session *s, const struct proto_desired *m,
		   const char *error)
{
	struct proto_applied a = { .generation = m->generation };

	snprintf(a.error, sizeof(a.error), "%s", error);
	memcpy(a.ruleset_hash, s->hash_in_force, sizeof(a.ruleset_hash));
	a.drift = s->drift;
	log_err("desired generation %" PRIu64 " refused: %s", m->generation,
		error);
	send_applied(s, &a);
	tell_parent(s, &a);
}

void session_desired(struct session *s, const struct proto_desired *m)
{
	const struct proto_desired_ruleset *r = &m->ruleset;
	struct proto_msg fwd = { .type = PROTO_DESIRED };
	char sha[PROTO_HASH_LEN + 1], label[96], err[PROTO_MSG_MAX + 1];
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	const char *frame;
	size_t len;
	int ret;

	if (m->has_ruleset) {
		desired_label(label, sizeof(label), r->name, r->version);
		if (desired_sha256(r->text, r->text_len, sha) < 0 ||
		    strcmp(sha, r->sha256)) {
			snprintf(
				err, sizeof(err),
				"%s: the text's SHA-256 is %s, not the %s the control plane sent",
				label, sha, r->sha256);
			refuse(s, m, err);
			return;
		}
		memset(&rs, 0, sizeof(rs));
		ret = moat_ruleset_parse(r->text, r->text_len, &rs, &d);
		moat_ruleset_free(&rs);
		if (ret < 0) {
			char what[128];

			snprintf(what, sizeof(what), "%s has errors", label);
			desired_error_text(err, sizeof(err), what, &d, label);
			moat_diags_free(&d);
			refuse(s, m, err);
			return;
		}
		moat_diags_free(&d);
	}
	fwd.desired = *m;
	ret = psmsg_encode_proto(&s->ipc_w, &fwd, &frame, &len);
	if (ret < 0) {
		snprintf(err, sizeof(err),
			 "cannot hand generation %" PRIu64 " to moatd: %s",
			 m->generation, strerror(-ret));
		refuse(s, m, err);
		return;
	}
	session_send_parent(s, frame, len);
}

void session_applied(struct session *s, const struct proto_applied *a)
{
	if (a->ok)
		s->cfg.applied_generation = a->generation;
	memcpy(s->hash_in_force, a->ruleset_hash, sizeof(s->hash_in_force));
	s->drift = a->drift;
	send_applied(s, a);
}

void session_ask_counters(struct session *s)
{
	const char *frame;
	size_t len;

	if (psmsg_encode_counters_request(&s->ipc_w, &frame, &len) == 0)
		session_send_parent(s, frame, len);
}

void session_counters(struct session *s, const struct proto_counters *c)
{
	struct proto_msg m = { .type = PROTO_COUNTERS };

	if (s->phase != SP_SESSION || !s->conn)
		return; /* the next ones will do */
	m.counters = *c;
	conn_send(s, &m);
}

static void on_counters_timer(struct loop *l, struct loop_op *op, int res)
{
	struct session *s = op->data;

	(void)res;
	if (s->phase == SP_SESSION)
		session_ask_counters(s);
	if (loop_timeout(l, op, counters_ns(s), on_counters_timer) < 0)
		log_err("session: cannot arm the counters timer; counters go only on request");
}

void session_welcomed(struct session *s)
{
	struct proto_msg m = { .type = PROTO_APPLIED };

	/* what the control plane missed while we were apart (drift) */
	if (s->pending_applied) {
		m.applied = s->pending;
		if (conn_send(s, &m) == 0)
			s->pending_applied = false;
	}
	if (!loop_op_busy(&s->counters_timer)) {
		s->counters_timer.data = s;
		loop_timeout(&s->loop, &s->counters_timer, counters_ns(s),
			     on_counters_timer);
	}
}
