// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading agent-channel messages: each key's msgpack type here, then
 * proto_check() for bounds and character sets.  Everything kept is
 * copied, so the payload and the msgpack objects die with this call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto-impl.h"

/* Put "@fmt: " before the reason in @e, for a failure inside a map. */
static int within(struct wire_err *e, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int within(struct wire_err *e, int ret, const char *fmt, ...)
{
	size_t size = sizeof(e->msg), n, len;
	char where[64];
	va_list ap;

	if (ret != -EBADMSG || !e)
		return ret;
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where) - 2, fmt, ap);
	va_end(ap);
	strcat(where, ": ");
	n = strlen(where);
	/* the reason moves right, its end cut when it no longer fits */
	len = strnlen(e->msg, size - 1);
	if (len > size - 1 - n)
		len = size - 1 - n;
	memmove(e->msg + n, e->msg, len);
	memcpy(e->msg, where, n);
	e->msg[n + len] = '\0';
	return ret;
}

static int get_blob(const msgpack_object *map, const char *key,
		    struct proto_blob *b, struct wire_err *e)
{
	const void *p;
	size_t n;
	int ret = wire_get_bin(map, key, &p, &n, e);

	if (ret < 0)
		return ret;
	if (n > PROTO_BLOB_MAX)
		return wire_errf(e, "key '%s' is longer than %d bytes", key,
				 PROTO_BLOB_MAX);
	if (n == 0)
		return 0; /* proto_check() says what is wrong with it */
	b->p = malloc(n);
	if (!b->p)
		return -ENOMEM;
	memcpy(b->p, p, n);
	b->n = n;
	return 0;
}

/* A string object into @buf, for the items of maps and arrays. */
static int copy_str(const msgpack_object *o, char *buf, size_t size,
		    const char *what, struct wire_err *e)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return wire_errf(e, "%s is not a string", what);
	if (o->via.str.size >= size)
		return wire_errf(e, "%s is longer than %zu bytes", what,
				 size - 1);
	if (memchr(wire_str_ptr(o), '\0', o->via.str.size))
		return wire_errf(e, "%s holds a NUL byte", what);
	memcpy(buf, wire_str_ptr(o), o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

static int get_labels(const msgpack_object *map, struct proto_labels *l,
		      struct wire_err *e)
{
	const msgpack_object *o;
	char what[80], q[48];
	int ret = wire_get_map(map, "labels", &o, e);

	if (ret < 0)
		return ret;
	if (o->via.map.size > PROTO_LABELS_MAX)
		return wire_errf(e, "key 'labels' holds more than %d pairs",
				 PROTO_LABELS_MAX);
	if (!o->via.map.size)
		return 0;
	l->v = calloc(o->via.map.size, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		struct proto_label *b = &l->v[i];

		snprintf(what, sizeof(what), "label key %u", i);
		ret = copy_str(&kv->key, b->key, sizeof(b->key), what, e);
		if (ret < 0)
			return ret;
		proto_quote(q, sizeof(q), b->key, strlen(b->key));
		snprintf(what, sizeof(what), "label '%s'", q);
		ret = copy_str(&kv->val, b->value, sizeof(b->value), what, e);
		if (ret < 0)
			return ret;
		l->n++;
	}
	return 0;
}

/* A string key into the field of the same name. */
#define GET_STR(o, m, key) wire_get_str(o, #key, (m)->key, sizeof((m)->key), e)

/* The pair of ids by which the server's messages name the host. */
static int get_ids(const msgpack_object *o, char *host_id, char *workspace_id,
		   struct wire_err *e)
{
	int ret = wire_get_str(o, "host_id", host_id, PROTO_ID_MAX + 1, e);

	return ret ? ret :
		     wire_get_str(o, "workspace_id", workspace_id,
				  PROTO_ID_MAX + 1, e);
}

static int get_enroll(const msgpack_object *o, struct proto_enroll *m,
		      struct wire_err *e)
{
	int ret = GET_STR(o, m, token);

	if (!ret)
		ret = get_blob(o, "csr", &m->csr, e);
	if (!ret)
		ret = GET_STR(o, m, hostname);
	if (!ret)
		ret = GET_STR(o, m, machine_id);
	if (!ret)
		ret = GET_STR(o, m, agent_version);
	return ret;
}

static int get_enrolled(const msgpack_object *o, struct proto_enrolled *m,
			struct wire_err *e)
{
	int ret = get_ids(o, m->host_id, m->workspace_id, e);

	if (!ret)
		ret = GET_STR(o, m, workspace);
	if (!ret)
		ret = get_blob(o, "cert", &m->cert, e);
	if (!ret)
		ret = get_blob(o, "ca", &m->ca, e);
	if (!ret)
		ret = get_labels(o, &m->labels, e);
	if (!ret)
		ret = wire_get_int(o, "not_after", &m->not_after, e);
	if (!ret)
		ret = wire_get_u32(o, "heartbeat_interval",
				   &m->heartbeat_interval, e);
	return ret;
}

static int get_hello(const msgpack_object *o, struct proto_hello *m,
		     struct wire_err *e)
{
	int ret = GET_STR(o, m, agent_version);

	if (!ret)
		ret = GET_STR(o, m, hostname);
	if (!ret)
		ret = wire_get_int(o, "boot_time", &m->boot_time, e);
	if (!ret && wire_find(o, "applied_generation")) {
		m->has_applied_generation = true;
		ret = wire_get_uint(o, "applied_generation",
				    &m->applied_generation, e);
	}
	return ret;
}

static int get_welcome(const msgpack_object *o, struct proto_welcome *m,
		       struct wire_err *e)
{
	int ret = get_ids(o, m->host_id, m->workspace_id, e);

	if (!ret)
		ret = wire_get_u32(o, "heartbeat_interval",
				   &m->heartbeat_interval, e);
	if (!ret)
		ret = wire_get_int(o, "server_time", &m->server_time, e);
	if (!ret)
		ret = wire_get_int(o, "renew_after", &m->renew_after, e);
	return ret;
}

static int get_ifaces(const msgpack_object *o, struct proto_dataplane *d,
		      struct wire_err *e)
{
	const msgpack_object_array *a;
	int ret = wire_get_array(o, "interfaces", &a, e);

	if (ret < 0)
		return ret;
	if (a->size > PROTO_IFACES_MAX)
		return wire_errf(e, "key 'interfaces' holds more than %d items",
				 PROTO_IFACES_MAX);
	if (!a->size)
		return 0;
	d->ifaces = calloc(a->size, sizeof(*d->ifaces));
	if (!d->ifaces)
		return -ENOMEM;
	for (uint32_t i = 0; i < a->size; i++) {
		struct proto_iface *f = &d->ifaces[i];
		const msgpack_object *it = &a->ptr[i];

		if (it->type != MSGPACK_OBJECT_MAP)
			return wire_errf(e, "interfaces item %u is not a map",
					 i);
		ret = GET_STR(it, f, name);
		if (!ret)
			ret = wire_get_str(it, "mode", f->mode, sizeof(f->mode),
					   e);
		if (ret < 0)
			return within(e, ret, "interfaces item %u", i);
		d->nifaces++;
	}
	return 0;
}

static int get_dataplane(const msgpack_object *o, struct proto_dataplane *d,
			 struct wire_err *e)
{
	char state[16];
	int ret;

	ret = GET_STR(o, d, instance);
	if (!ret)
		ret = wire_get_uint(o, "generation", &d->generation, e);
	if (!ret && wire_find(o, "ruleset_hash")) {
		ret = GET_STR(o, d, ruleset_hash);
		/* "" is how the struct says absent: the key is not sent so */
		if (!ret && !d->ruleset_hash[0])
			ret = wire_errf(
				e,
				"key 'ruleset_hash' is not 64 lowercase hex digits: ''");
	}
	if (!ret)
		ret = get_ifaces(o, d, e);
	if (!ret)
		ret = wire_get_uint(o, "ct_entries", &d->ct_entries, e);
	if (!ret)
		ret = wire_get_uint(o, "ct_max", &d->ct_max, e);
	if (!ret)
		ret = wire_get_str(o, "state", state, sizeof(state), e);
	if (ret < 0)
		return ret;
	for (int i = 0; i < PROTO_DP_NSTATES; i++) {
		if (!strcmp(state, proto_dp_state_names[i])) {
			d->state = (enum proto_dp_state)i;
			return 0;
		}
	}
	return wire_errf(e, "key 'state' is not enforcing, none or error: '%s'",
			 state);
}

static int get_heartbeat(const msgpack_object *o, struct proto_heartbeat *m,
			 struct wire_err *e)
{
	const msgpack_object_array *load;
	const msgpack_object *dp;
	int ret;

	ret = wire_get_uint(o, "seq", &m->seq, e);
	if (!ret)
		ret = wire_get_int(o, "time", &m->time, e);
	if (!ret)
		ret = GET_STR(o, m, agent_version);
	if (!ret)
		ret = wire_get_uint(o, "uptime", &m->uptime, e);
	if (!ret)
		ret = wire_get_str(o, "kernel", m->kernel, sizeof(m->kernel),
				   e);
	if (!ret)
		ret = wire_get_array(o, "load", &load, e);
	if (ret < 0)
		return ret;
	if (load->size != 3)
		return wire_errf(e, "key 'load' holds %u items, not 3",
				 load->size);
	for (int i = 0; i < 3; i++) {
		const msgpack_object *x = &load->ptr[i];

		if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    x->via.u64 > UINT32_MAX)
			return wire_errf(
				e,
				"load item %d is not an unsigned 32-bit integer",
				i);
		m->load[i] = (uint32_t)x->via.u64;
	}
	ret = wire_get_uint(o, "mem_total", &m->mem_total, e);
	if (!ret)
		ret = wire_get_uint(o, "mem_available", &m->mem_available, e);
	if (!ret)
		ret = wire_get_map(o, "dataplane", &dp, e);
	if (!ret)
		ret = within(e, get_dataplane(dp, &m->dataplane, e),
			     "dataplane");
	return ret;
}

static int get_error(const msgpack_object *o, struct proto_error *m,
		     struct wire_err *e)
{
	int ret =
		wire_get_str(o, "code", m->code_name, sizeof(m->code_name), e);

	if (!ret)
		ret = GET_STR(o, m, msg);
	m->code = proto_code_parse(m->code_name);
	return ret;
}

static int get_body(const msgpack_object *o, struct proto_msg *m,
		    struct wire_err *e)
{
	switch (m->type) {
	case PROTO_ENROLL:
		return get_enroll(o, &m->enroll, e);
	case PROTO_ENROLLED:
		return get_enrolled(o, &m->enrolled, e);
	case PROTO_HELLO:
		return get_hello(o, &m->hello, e);
	case PROTO_WELCOME:
		return get_welcome(o, &m->welcome, e);
	case PROTO_HEARTBEAT:
		return get_heartbeat(o, &m->heartbeat, e);
	case PROTO_HEARTBEAT_ACK: {
		int ret = wire_get_uint(o, "seq", &m->heartbeat_ack.seq, e);

		return ret ? ret :
			     wire_get_int(o, "server_time",
				     &m->heartbeat_ack.server_time, e);
	}
	case PROTO_RENEW:
		return get_blob(o, "csr", &m->renew.csr, e);
	case PROTO_RENEWED: {
		int ret = get_blob(o, "cert", &m->renewed.cert, e);

		if (!ret)
			ret = wire_get_int(o, "not_after", &m->renewed.not_after, e);
		if (!ret)
			ret = wire_get_int(o, "renew_after", &m->renewed.renew_after,
				      e);
		return ret;
	}
	case PROTO_ERROR:
		return get_error(o, &m->error, e);
	case PROTO_DESIRED:
	case PROTO_APPLIED:
	case PROTO_COUNTERS:
	case PROTO_COUNTERS_REQUEST:
		return proto_get_reconcile(o, m, e);
	}
	return -EINVAL;
}

int proto_decode(const void *payload, size_t len, struct proto_msg *m,
		 struct wire_err *e)
{
	const msgpack_object *v;
	struct wire_msg wm;
	char q[48];
	int ret, t;

	memset(m, 0, sizeof(*m));
	ret = wire_parse(&wm, payload, len, e);
	if (ret == -EBADMSG && wm.root) {
		/* a version we do not speak is its own error code */
		v = wire_find(wm.root, "v");
		if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    v->via.u64 != WIRE_VERSION)
			ret = -EPROTONOSUPPORT;
	}
	if (ret < 0)
		goto out;
	t = proto_type_parse(wm.type);
	if (t < 0) {
		proto_quote(q, sizeof(q), wm.type, strlen(wm.type));
		ret = wire_errf(e, "unknown message type '%s'", q);
		goto out;
	}
	m->type = (enum proto_type)t;
	ret = within(e, get_body(wm.root, m, e), "%s", wm.type);
	if (!ret)
		ret = proto_check(m, e);
out:
	wire_msg_free(&wm);
	return ret;
}
