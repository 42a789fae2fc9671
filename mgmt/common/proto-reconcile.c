// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's messages of declared configuration: the control
 * plane's desired state for a host (desired), what the host made of it
 * (applied), and the per-rule counters it reports (counters, on a
 * counters_request and every 60 s).  Reading, bounds, writing and
 * comparing, as proto-decode.c, proto-check.c, proto-encode.c and
 * proto-equal.c do for the others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto-impl.h"

static const char *const mode_names[] = {
	[PROTO_MODE_ENFORCE] = "enforce",
	[PROTO_MODE_AUDIT] = "audit",
};

const char *proto_rs_mode_name(enum proto_rs_mode m)
{
	return (unsigned)m <= PROTO_MODE_AUDIT ? mode_names[m] : "?";
}

bool proto_ruleset_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_RULESET_NAME_MAX || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* What moatctl rules shows: a rule's name, or "(policy)" and the like. */
static bool rule_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_RULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '!' || s[i] > 0x7e)
			return false;
	}
	return true;
}

/* A uint key that holds 0 or 1 (version 1 has no booleans). */
static int get_flag(const msgpack_object *o, const char *key, bool *v,
		    struct wire_err *e)
{
	uint64_t u = 0;
	int ret = wire_get_uint(o, key, &u, e);

	if (ret < 0)
		return ret;
	if (u > 1)
		return wire_errf(e, "key '%s' is not 0 or 1: %llu", key,
				 (unsigned long long)u);
	*v = u;
	return 0;
}

/* An optional sha256 hex key: absent is "", present must not be empty. */
static int get_opt_hash(const msgpack_object *o, const char *key,
			char buf[PROTO_HASH_LEN + 1], struct wire_err *e)
{
	int ret;

	if (!wire_find(o, key))
		return 0;
	ret = wire_get_str(o, key, buf, PROTO_HASH_LEN + 1, e);
	if (!ret && !buf[0])
		ret = wire_errf(
			e, "key '%s' is not 64 lowercase hex digits: ''", key);
	return ret;
}

static int get_ruleset(const msgpack_object *o, struct proto_desired_ruleset *r,
		       struct wire_err *e)
{
	char mode[16];
	const char *text;
	size_t n;
	int ret = wire_get_str(o, "name", r->name, sizeof(r->name), e);

	if (!ret)
		ret = wire_get_uint(o, "version", &r->version, e);
	if (!ret)
		ret = wire_get_strv(o, "text", &text, &n, e);
	if (ret < 0)
		return ret;
	if (n > PROTO_TEXT_MAX)
		return wire_errf(e, "key 'text' is longer than %d bytes",
				 PROTO_TEXT_MAX);
	if (memchr(text, '\0', n))
		return wire_errf(e, "key 'text' holds a NUL byte");
	r->text = malloc(n + 1);
	if (!r->text)
		return -ENOMEM;
	memcpy(r->text, text, n);
	r->text[n] = '\0';
	r->text_len = n;
	ret = wire_get_str(o, "sha256", r->sha256, sizeof(r->sha256), e);
	if (!ret)
		ret = wire_get_str(o, "mode", mode, sizeof(mode), e);
	if (ret < 0)
		return ret;
	if (!strcmp(mode, "enforce"))
		r->mode = PROTO_MODE_ENFORCE;
	else if (!strcmp(mode, "audit"))
		r->mode = PROTO_MODE_AUDIT;
	else
		return wire_errf(e, "key 'mode' is not enforce or audit: '%s'",
				 mode);
	return 0;
}

static int get_desired(const msgpack_object *o, struct proto_desired *m,
		       struct wire_err *e)
{
	const msgpack_object *rs;
	char why[sizeof(e->msg) + 16];
	int ret = wire_get_uint(o, "generation", &m->generation, e);

	if (ret < 0 || !wire_find(o, "ruleset"))
		return ret;
	ret = wire_get_map(o, "ruleset", &rs, e);
	if (ret < 0)
		return ret;
	m->has_ruleset = true;
	ret = get_ruleset(rs, &m->ruleset, e);
	if (ret == -EBADMSG && e) {
		snprintf(why, sizeof(why), "ruleset: %s", e->msg);
		snprintf(e->msg, sizeof(e->msg), "%.*s",
			 (int)sizeof(e->msg) - 1, why);
	}
	return ret;
}

static int get_applied(const msgpack_object *o, struct proto_applied *m,
		       struct wire_err *e)
{
	char result[8];
	int ret = wire_get_uint(o, "generation", &m->generation, e);

	if (!ret)
		ret = wire_get_str(o, "result", result, sizeof(result), e);
	if (ret < 0)
		return ret;
	if (strcmp(result, "ok") && strcmp(result, "error"))
		return wire_errf(e, "key 'result' is not ok or error: '%s'",
				 result);
	m->ok = !strcmp(result, "ok");
	/* an error says what it is; a success has none */
	if (!m->ok)
		ret = wire_get_str(o, "error", m->error, sizeof(m->error), e);
	if (!ret)
		ret = get_opt_hash(o, "ruleset_hash", m->ruleset_hash, e);
	if (!ret)
		ret = get_flag(o, "drift", &m->drift, e);
	return ret;
}

static int get_counters(const msgpack_object *o, struct proto_counters *m,
			struct wire_err *e)
{
	const msgpack_object_array *a;
	int ret = wire_get_uint(o, "generation", &m->generation, e);

	if (!ret)
		ret = wire_get_str(o, "ruleset_hash", m->ruleset_hash,
				   sizeof(m->ruleset_hash), e);
	if (!ret)
		ret = wire_get_array(o, "rules", &a, e);
	if (ret < 0)
		return ret;
	if (a->size > PROTO_COUNTERS_MAX)
		return wire_errf(e, "key 'rules' holds more than %d items",
				 PROTO_COUNTERS_MAX);
	if (!a->size)
		return 0;
	m->rules = calloc(a->size, sizeof(*m->rules));
	if (!m->rules)
		return -ENOMEM;
	for (uint32_t i = 0; i < a->size; i++) {
		struct proto_counter *c = &m->rules[i];
		const msgpack_object *it = &a->ptr[i];
		struct wire_err ie;

		if (it->type != MSGPACK_OBJECT_MAP)
			return wire_errf(e, "rules item %u is not a map", i);
		ret = wire_get_str(it, "name", c->name, sizeof(c->name), &ie);
		if (!ret)
			ret = wire_get_uint(it, "packets", &c->packets, &ie);
		if (!ret)
			ret = wire_get_uint(it, "bytes", &c->bytes, &ie);
		if (ret == -EBADMSG)
			return wire_errf(e, "rules item %u: %s", i, ie.msg);
		if (ret < 0)
			return ret;
		m->nrules++;
	}
	return 0;
}

int proto_get_reconcile(const msgpack_object *o, struct proto_msg *m,
			struct wire_err *e)
{
	switch (m->type) {
	case PROTO_DESIRED:
		return get_desired(o, &m->desired, e);
	case PROTO_APPLIED:
		return get_applied(o, &m->applied, e);
	case PROTO_COUNTERS:
		return get_counters(o, &m->counters, e);
	case PROTO_COUNTERS_REQUEST:
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- bounds ---- */

static int check_hash(const char *what, const char *key, const char *s,
		      bool required, struct wire_err *e)
{
	size_t n = strnlen(s, PROTO_HASH_LEN + 1);

	if ((n || required) && (n != PROTO_HASH_LEN || !proto_hash_valid(s, n)))
		return wire_errf(
			e,
			"%s: key '%s' is not 64 lowercase hex digits: '%.64s'",
			what, key, s);
	return 0;
}

static int check_desired(const struct proto_desired *m, struct wire_err *e)
{
	const struct proto_desired_ruleset *r = &m->ruleset;
	size_t n = strnlen(r->name, sizeof(r->name));
	char q[48];

	if (!m->has_ruleset)
		return 0;
	if (n == sizeof(r->name) || !proto_ruleset_name_valid(r->name, n)) {
		proto_quote(q, sizeof(q), r->name, n);
		return wire_errf(
			e,
			"desired: ruleset: key 'name' is not a ruleset name ([a-z0-9][a-z0-9-]{0,62}): '%s'",
			q);
	}
	if (r->text_len > PROTO_TEXT_MAX)
		return wire_errf(
			e,
			"desired: ruleset: key 'text' is longer than %d bytes",
			PROTO_TEXT_MAX);
	if (r->text_len && (!r->text || memchr(r->text, '\0', r->text_len)))
		return wire_errf(
			e, "desired: ruleset: key 'text' holds a NUL byte");
	if ((unsigned)r->mode > PROTO_MODE_AUDIT)
		return wire_errf(
			e, "desired: ruleset: key 'mode' is out of range");
	return check_hash("desired: ruleset", "sha256", r->sha256, true, e);
}

static int check_applied(const struct proto_applied *m, struct wire_err *e)
{
	if (!m->ok && !m->error[0])
		return wire_errf(e, "applied: key 'error' is empty");
	if (strnlen(m->error, sizeof(m->error)) == sizeof(m->error))
		return wire_errf(e,
				 "applied: key 'error' is longer than %d bytes",
				 PROTO_MSG_MAX);
	return check_hash("applied", "ruleset_hash", m->ruleset_hash, false, e);
}

static int check_counters(const struct proto_counters *m, struct wire_err *e)
{
	int ret = check_hash("counters", "ruleset_hash", m->ruleset_hash, true,
			     e);
	char q[48];

	if (ret)
		return ret;
	if (m->nrules > PROTO_COUNTERS_MAX)
		return wire_errf(
			e, "counters: key 'rules' holds more than %d items",
			PROTO_COUNTERS_MAX);
	for (uint32_t i = 0; i < m->nrules; i++) {
		const char *s = m->rules[i].name;
		size_t n = strnlen(s, sizeof(m->rules[i].name));

		if (n < sizeof(m->rules[i].name) && rule_name_valid(s, n))
			continue;
		proto_quote(q, sizeof(q), s, n);
		return wire_errf(
			e,
			"counters: rules item %u: key 'name' is not 1-%d bytes of printable ASCII without spaces: '%s'",
			i, PROTO_RULE_NAME_MAX, q);
	}
	return 0;
}

int proto_check_reconcile(const struct proto_msg *m, struct wire_err *e)
{
	switch (m->type) {
	case PROTO_DESIRED:
		return check_desired(&m->desired, e);
	case PROTO_APPLIED:
		return check_applied(&m->applied, e);
	case PROTO_COUNTERS:
		return check_counters(&m->counters, e);
	default:
		return 0;
	}
}

/* ---- writing ---- */

void proto_put_reconcile(struct wire_writer *w, const struct proto_msg *m)
{
	const struct proto_desired_ruleset *r = &m->desired.ruleset;

	switch (m->type) {
	case PROTO_DESIRED:
		wire_put_uint(w, "generation", m->desired.generation);
		if (!m->desired.has_ruleset)
			break;
		wire_key(w, "ruleset");
		wire_map_open(w);
		wire_put_str(w, "name", r->name);
		wire_put_uint(w, "version", r->version);
		wire_key(w, "text");
		wire_strn(w, r->text ? r->text : "", r->text_len);
		wire_put_str(w, "sha256", r->sha256);
		wire_put_str(w, "mode", proto_rs_mode_name(r->mode));
		wire_map_close(w);
		break;
	case PROTO_APPLIED:
		wire_put_uint(w, "generation", m->applied.generation);
		wire_put_str(w, "result", m->applied.ok ? "ok" : "error");
		if (!m->applied.ok)
			wire_put_str(w, "error", m->applied.error);
		if (m->applied.ruleset_hash[0])
			wire_put_str(w, "ruleset_hash",
				     m->applied.ruleset_hash);
		wire_put_uint(w, "drift", m->applied.drift);
		break;
	case PROTO_COUNTERS:
		wire_put_uint(w, "generation", m->counters.generation);
		wire_put_str(w, "ruleset_hash", m->counters.ruleset_hash);
		wire_key(w, "rules");
		wire_array_open(w);
		for (uint32_t i = 0; i < m->counters.nrules; i++) {
			const struct proto_counter *c = &m->counters.rules[i];

			wire_map_open(w);
			wire_put_str(w, "name", c->name);
			wire_put_uint(w, "packets", c->packets);
			wire_put_uint(w, "bytes", c->bytes);
			wire_map_close(w);
		}
		wire_array_close(w);
		break;
	default:
		break;
	}
}

/* ---- comparing, freeing ---- */

static bool same_desired(const struct proto_desired *a,
			 const struct proto_desired *b)
{
	const struct proto_desired_ruleset *x = &a->ruleset, *y = &b->ruleset;

	if (a->generation != b->generation || a->has_ruleset != b->has_ruleset)
		return false;
	if (!a->has_ruleset)
		return true;
	return !strcmp(x->name, y->name) && x->version == y->version &&
	       x->text_len == y->text_len &&
	       (!x->text_len || !memcmp(x->text, y->text, x->text_len)) &&
	       !strcmp(x->sha256, y->sha256) && x->mode == y->mode;
}

static bool same_counters(const struct proto_counters *a,
			  const struct proto_counters *b)
{
	if (a->generation != b->generation || a->nrules != b->nrules ||
	    strcmp(a->ruleset_hash, b->ruleset_hash))
		return false;
	for (uint32_t i = 0; i < a->nrules; i++) {
		if (strcmp(a->rules[i].name, b->rules[i].name) ||
		    a->rules[i].packets != b->rules[i].packets ||
		    a->rules[i].bytes != b->rules[i].bytes)
			return false;
	}
	return true;
}

bool proto_equal_reconcile(const struct proto_msg *a, const struct proto_msg *b)
{
	const struct proto_applied *x = &a->applied, *y = &b->applied;

	switch (a->type) {
	case PROTO_DESIRED:
		return same_desired(&a->desired, &b->desired);
	case PROTO_APPLIED:
		return x->generation == y->generation && x->ok == y->ok &&
		       !strcmp(x->error, y->error) &&
		       !strcmp(x->ruleset_hash, y->ruleset_hash) &&
		       x->drift == y->drift;
	case PROTO_COUNTERS:
		return same_counters(&a->counters, &b->counters);
	case PROTO_COUNTERS_REQUEST:
		return true;
	default:
		return false;
	}
}

void proto_free_reconcile(struct proto_msg *m)
{
	if (m->type == PROTO_DESIRED)
		free(m->desired.ruleset.text);
	else if (m->type == PROTO_COUNTERS)
		free(m->counters.rules);
}
