// SPDX-License-Identifier: GPL-2.0-only
/*
 * Declared configuration on an agent session: the host's desired state
 * goes out after welcome when the host has another generation, and
 * whenever it changes (cp_push_desired(), from the API's mutating calls),
 * as soon as the push budget allows (session-push.c); what the host says
 * back, applied and counters, goes into the store.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "session.h"

/* The store's desired state as the agent channel says it. */
static int to_proto(const struct store_desired *d, struct proto_desired *m)
{
	struct proto_desired_ruleset *r = &m->ruleset;

	memset(m, 0, sizeof(*m));
	m->generation = d->generation;
	if (!d->has_ruleset)
		return 0;
	m->has_ruleset = true;
	if (strlen(d->name) >= sizeof(r->name) || d->version < 0 || !d->text)
		return -EINVAL;
	memcpy(r->name, d->name, strlen(d->name) + 1);
	r->version = (uint64_t)d->version;
	r->text = d->text;
	r->text_len = strlen(d->text);
	snprintf(r->sha256, sizeof(r->sha256), "%s", d->sha256);
	if (!strcmp(d->mode, "audit"))
		r->mode = PROTO_MODE_AUDIT;
	else if (!strcmp(d->mode, "enforce"))
		r->mode = PROTO_MODE_ENFORCE;
	else
		return -EINVAL;
	return 0;
}

/*
 * The host's desired state when it is not the generation the host said
 * it applied: normally newer; older when the store was restored from a
 * backup, and the host must come back to what the store declares all
 * the same.
 */
int cp_session_desired_frame(struct cp_session *s, const char **frame,
			     size_t *len)
{
	struct store_desired d = { 0 };
	struct proto_desired m;
	struct wire_err e = { { 0 } };
	int ret;

	ret = store_host_desired(s->cp->store, s->host_id, &d);
	if (ret) {
		if (ret != -ENOENT)
			log_err("host %s: cannot read its desired state: %s",
				s->host_id, strerror(-ret));
		return ret == -ENOENT ? 0 : ret;
	}
	/* never computed, or the host has it: nothing to say */
	if (!d.generation ||
	    (!s->push_always && d.generation == s->push_applied))
		goto out;
	ret = to_proto(&d, &m);
	if (!ret)
		ret = proto_encode_desired(&s->cp->push_w, &m, frame, len, &e);
	if (ret) {
		log_err("host %s: cannot send desired generation %" PRIu64
			": %s",
			s->host_id, d.generation,
			e.msg[0] ? e.msg : strerror(-ret));
		goto out;
	}
	log_info("%s: host %s: desired generation %" PRIu64 " (%s%s%s)",
		 s->addr, s->host_id, d.generation,
		 d.has_ruleset ? d.name : "none", d.has_ruleset ? " " : "",
		 d.has_ruleset ? d.mode : "");
	ret = 1;
out:
	store_desired_clear(&d);
	return ret;
}

void cp_session_desired_after_hello(struct cp_session *s, uint64_t applied)
{
	cp_push_queue(s, false, applied);
}

void cp_push_desired(struct cp *cp, const char *host_id)
{
	struct cp_session *s = cp_session_find(cp, host_id);

	/* a host away gets it after its next hello */
	if (s && s->state == CP_S_ACTIVE && !s->done && s->knows_desired)
		cp_push_queue(s, true, 0);
}

int cp_request_counters(struct cp *cp, const char *host_id)
{
	struct cp_session *s = cp_session_find(cp, host_id);
	struct proto_msg m = { .type = PROTO_COUNTERS_REQUEST };
	const char *frame;
	size_t len;

	/* a hello without applied_generation: an agent before the request */
	if (!s || s->state != CP_S_ACTIVE || s->done || !s->knows_desired)
		return -ENOTCONN;
	if (proto_encode(&s->w, &m, &frame, &len, NULL) ||
	    cp_session_send(s, frame, len))
		return -EPIPE;
	s->counters_pending = true;
	return 0;
}

bool cp_counters_pending(const struct cp *cp, const char *host_id)
{
	const struct cp_session *s = cp_session_find(cp, host_id);

	return s && s->counters_pending;
}

void cp_session_applied(struct cp_session *s, const struct proto_applied *m)
{
	int ret = store_host_applied(
		s->cp->store, s->host_id, m->generation, m->ok,
		m->ok ? NULL : m->error,
		m->ruleset_hash[0] ? m->ruleset_hash : NULL, m->drift);

	if (ret == -ENOENT) {
		cp_session_fail(
			s, PROTO_E_HOST_REMOVED,
			"this host was removed from the fleet: it needs a new install token to come back");
		return;
	}
	if (ret)
		log_err("host %s: cannot record applied generation %" PRIu64
			": %s",
			s->host_id, m->generation, strerror(-ret));
	if (!m->ok)
		s->cp->counts.applies_error++;
	else if (m->drift)
		s->cp->counts.applies_drift++;
	else
		s->cp->counts.applies_ok++;
	if (!m->ok)
		log_info("%s: host %s failed desired generation %" PRIu64
			 ": %s",
			 s->addr, s->host_id, m->generation, m->error);
	else if (m->drift)
		log_info("%s: host %s drifted from generation %" PRIu64
			 " (a local apply)",
			 s->addr, s->host_id, m->generation);
	/* a new ruleset in force: its counters, without waiting a minute */
	if (m->ok && !m->drift)
		cp_request_counters(s->cp, s->host_id);
}

static char *rules_json(const struct proto_counters *m)
{
	struct json_object *a = json_object_new_array();
	char *text;

	if (!a)
		return NULL;
	for (uint32_t i = 0; i < m->nrules; i++) {
		struct json_object *o = json_object_new_object();

		if (!o || json_object_array_add(a, o)) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
		json_object_object_add(
			o, "name", json_object_new_string(m->rules[i].name));
		/* json-c's int64: counters past 2^63 are not of this world */
		json_object_object_add(
			o, "packets",
			json_object_new_int64((int64_t)m->rules[i].packets));
		json_object_object_add(
			o, "bytes",
			json_object_new_int64((int64_t)m->rules[i].bytes));
	}
	text = strdup(
		json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return text;
}

void cp_session_counters(struct cp_session *s, const struct proto_counters *m)
{
	char *json = rules_json(m);
	int ret;

	if (!json) {
		cp_session_fail(s, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	ret = store_host_counters_set(s->cp->store, s->host_id, m->generation,
				      m->ruleset_hash, json);
	free(json);
	/* an answer, or a report that crossed the request: fresh either way */
	if (!ret)
		s->counters_pending = false;
	if (ret == -ENOENT)
		cp_session_fail(
			s, PROTO_E_HOST_REMOVED,
			"this host was removed from the fleet: it needs a new install token to come back");
	else if (ret)
		log_err("host %s: cannot record its counters: %s", s->host_id,
			strerror(-ret));
}
