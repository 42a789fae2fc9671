// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's bounds and character sets.  proto_check() states
 * what a valid message holds beyond its keys' types; the decoder runs it
 * on what it read, and the encoders on what they are about to send, so
 * that neither end can say what the other would refuse.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "proto-impl.h"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Bytes in [lo, 0x7e]: printable ASCII, with (0x20) or without spaces. */
static bool printable(const char *s, size_t n, char lo)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < lo || s[i] > 0x7e)
			return false;
	}
	return true;
}

bool proto_label_key_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_LABEL_KEY_MAX || !is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!is_alnum(s[i]) && !(s[i] && strchr("._/-", s[i])))
			return false;
	}
	return true;
}

bool proto_label_value_valid(const char *s, size_t n)
{
	return n <= PROTO_LABEL_VALUE_MAX && printable(s, n, ' ');
}

/* Host and workspace ids: what the control plane makes, loosely. */
static bool id_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return false;
	}
	return true;
}

/* A workspace name: [a-z0-9][a-z0-9-]{0,62}. */
static bool workspace_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_WORKSPACE_MAX || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* What the kernel takes as an interface name (dev_valid_name()). */
static bool ifname_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_IFNAME_MAX || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] > 0x7e)
			return false;
	}
	return true;
}

bool proto_hash_valid(const char *s, size_t n)
{
	return n == 0 ||
	       (n == PROTO_HASH_LEN && strspn(s, "0123456789abcdef") == n);
}

/* A string field: @s is a buffer of @size bytes, NUL-terminated in it. */
static int check_str(const char *what, const char *key, const char *s,
		     size_t size, bool (*ok)(const char *, size_t),
		     const char *expect, struct wire_err *e)
{
	size_t n = strnlen(s, size);
	char q[48];

	if (n == size)
		return wire_errf(e, "%s: key '%s' is longer than %zu bytes",
				 what, key, size - 1);
	if (ok(s, n))
		return 0;
	proto_quote(q, sizeof(q), s, n);
	return wire_errf(e, "%s: key '%s' is not %s: '%s'", what, key, expect,
			 q);
}

static bool graph_valid(const char *s, size_t n)
{
	return n > 0 && printable(s, n, '!');
}

static bool text_valid(const char *s, size_t n)
{
	return n > 0 && printable(s, n, ' ');
}

static bool mode_valid(const char *s, size_t n)
{
	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz") == n;
}

static bool code_valid(const char *s, size_t n)
{
	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

static bool msg_valid(const char *s, size_t n)
{
	(void)s;
	(void)n;
	return true; /* anything but NUL, which the buffer cannot hold */
}

#define STR(what, m, key, ok, expect) \
	check_str(what, #key, (m)->key, sizeof((m)->key), ok, expect, e)

static int check_blob(const char *what, const char *key,
		      const struct proto_blob *b, struct wire_err *e)
{
	if (b->n == 0)
		return wire_errf(e, "%s: key '%s' is empty", what, key);
	if (b->n > PROTO_BLOB_MAX)
		return wire_errf(e, "%s: key '%s' is longer than %d bytes",
				 what, key, PROTO_BLOB_MAX);
	return 0;
}

static int check_interval(const char *what, uint32_t v, struct wire_err *e)
{
	if (v == 0 || v > PROTO_INTERVAL_MAX)
		return wire_errf(
			e,
			"%s: key 'heartbeat_interval' is not 1-%d seconds: %u",
			what, PROTO_INTERVAL_MAX, v);
	return 0;
}

static int check_labels(const char *what, const struct proto_labels *l,
			struct wire_err *e)
{
	char q[48];

	if (l->n > PROTO_LABELS_MAX)
		return wire_errf(e, "%s: key 'labels' holds more than %d pairs",
				 what, PROTO_LABELS_MAX);
	for (uint32_t i = 0; i < l->n; i++) {
		const struct proto_label *b = &l->v[i];
		size_t kn = strnlen(b->key, sizeof(b->key));
		size_t vn = strnlen(b->value, sizeof(b->value));

		proto_quote(q, sizeof(q), b->key, kn);
		if (!proto_label_key_valid(b->key, kn))
			return wire_errf(
				e,
				"%s: label key '%s' is not 1-%d of A-Z a-z 0-9 . _ / - starting with a letter or digit",
				what, q, PROTO_LABEL_KEY_MAX);
		if (!proto_label_value_valid(b->value, vn))
			return wire_errf(
				e,
				"%s: label '%s' is not 0-%d bytes of printable ASCII",
				what, q, PROTO_LABEL_VALUE_MAX);
		for (uint32_t j = 0; j < i; j++) {
			if (!strcmp(l->v[j].key, b->key))
				return wire_errf(
					e, "%s: label '%s' is given twice",
					what, q);
		}
	}
	return 0;
}

static int check_dataplane(const struct proto_dataplane *d, struct wire_err *e)
{
	const char *what = "heartbeat: dataplane";
	int ret;

	ret = STR(what, d, instance, ctl_instance_valid,
		  "1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit");
	if (!ret)
		ret = STR(what, d, ruleset_hash, proto_hash_valid,
			  "64 lowercase hex digits");
	if (ret)
		return ret;
	if (d->nifaces > PROTO_IFACES_MAX)
		return wire_errf(
			e, "%s: key 'interfaces' holds more than %d items",
			what, PROTO_IFACES_MAX);
	for (uint32_t i = 0; i < d->nifaces && !ret; i++) {
		char item[64];

		snprintf(item, sizeof(item), "%s: interfaces item %u", what, i);
		ret = STR(item, &d->ifaces[i], name, ifname_valid,
			  "an interface name");
		if (!ret)
			ret = STR(item, &d->ifaces[i], mode, mode_valid,
				  "1-15 of a-z");
	}
	if (!ret && (size_t)d->state >= PROTO_DP_NSTATES)
		return wire_errf(e, "%s: key 'state' is out of range", what);
	return ret;
}

#define GRAPH "1 or more bytes of printable ASCII without spaces"

/* The pair of ids by which the server's messages name the host. */
static int check_ids(const char *what, const char *host_id,
		     const char *workspace_id, struct wire_err *e)
{
	int ret = check_str(what, "host_id", host_id, PROTO_ID_MAX + 1,
			    id_valid, "1-32 of a-z 0-9", e);

	return ret ? ret :
		     check_str(what, "workspace_id", workspace_id,
			       PROTO_ID_MAX + 1, id_valid, "1-32 of a-z 0-9",
			       e);
}

int proto_check(const struct proto_msg *m, struct wire_err *e)
{
	const char *what = proto_type_name(m->type);
	int ret = 0;

	switch (m->type) {
	case PROTO_ENROLL:
		ret = STR(what, &m->enroll, token, graph_valid, GRAPH);
		if (!ret)
			ret = check_blob(what, "csr", &m->enroll.csr, e);
		if (!ret)
			ret = STR(what, &m->enroll, hostname, graph_valid,
				  GRAPH);
		if (!ret)
			ret = STR(what, &m->enroll, machine_id, graph_valid,
				  GRAPH);
		if (!ret)
			ret = STR(what, &m->enroll, agent_version, graph_valid,
				  GRAPH);
		return ret;
	case PROTO_ENROLLED:
		ret = check_ids(what, m->enrolled.host_id,
				m->enrolled.workspace_id, e);
		if (!ret)
			ret = STR(what, &m->enrolled, workspace,
				  workspace_valid, "a workspace name");
		if (!ret)
			ret = check_blob(what, "cert", &m->enrolled.cert, e);
		if (!ret)
			ret = check_blob(what, "ca", &m->enrolled.ca, e);
		if (!ret)
			ret = check_labels(what, &m->enrolled.labels, e);
		if (!ret)
			ret = check_interval(what,
					     m->enrolled.heartbeat_interval, e);
		return ret;
	case PROTO_HELLO:
		ret = STR(what, &m->hello, agent_version, graph_valid, GRAPH);
		if (!ret)
			ret = STR(what, &m->hello, hostname, graph_valid,
				  GRAPH);
		return ret;
	case PROTO_WELCOME:
		ret = check_ids(what, m->welcome.host_id,
				m->welcome.workspace_id, e);
		if (!ret)
			ret = check_interval(what,
					     m->welcome.heartbeat_interval, e);
		return ret;
	case PROTO_HEARTBEAT:
		ret = STR(what, &m->heartbeat, agent_version, graph_valid,
			  GRAPH);
		if (!ret)
			ret = STR(what, &m->heartbeat, kernel, text_valid,
				  "1 or more bytes of printable ASCII");
		if (!ret)
			ret = check_dataplane(&m->heartbeat.dataplane, e);
		return ret;
	case PROTO_RENEW:
		return check_blob(what, "csr", &m->renew.csr, e);
	case PROTO_RENEWED:
		return check_blob(what, "cert", &m->renewed.cert, e);
	case PROTO_ERROR:
		if (m->error.code == PROTO_E_OTHER)
			ret = check_str(what, "code", m->error.code_name,
					sizeof(m->error.code_name), code_valid,
					"1-31 of a-z _", e);
		else if ((size_t)m->error.code > PROTO_E_OTHER)
			return wire_errf(e, "error: code %d is out of range",
					 (int)m->error.code);
		if (!ret)
			ret = STR(what, &m->error, msg, msg_valid, "text");
		return ret;
	case PROTO_HEARTBEAT_ACK:
		return 0;
	case PROTO_DESIRED:
	case PROTO_APPLIED:
	case PROTO_COUNTERS:
	case PROTO_COUNTERS_REQUEST:
		return proto_check_reconcile(m, e);
	}
	return wire_errf(e, "message type %d is out of range", (int)m->type);
}
