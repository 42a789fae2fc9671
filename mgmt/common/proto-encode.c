// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writing agent-channel messages.  Each encoder first holds the message
 * to the bounds the peer's decoder applies (proto_check()), then writes
 * the keys in the order docs/protocol.md lists them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto-impl.h"

static void put_int(struct wire_writer *w, const char *key, int64_t v)
{
	wire_key(w, key);
	wire_int(w, v);
}

static void put_blob(struct wire_writer *w, const char *key,
		     const struct proto_blob *b)
{
	wire_put_bin(w, key, b->p, b->n);
}

static void put_enroll(struct wire_writer *w, const struct proto_enroll *m)
{
	wire_put_str(w, "token", m->token);
	put_blob(w, "csr", &m->csr);
	wire_put_str(w, "hostname", m->hostname);
	wire_put_str(w, "machine_id", m->machine_id);
	wire_put_str(w, "agent_version", m->agent_version);
}

static void put_enrolled(struct wire_writer *w, const struct proto_enrolled *m)
{
	wire_put_str(w, "host_id", m->host_id);
	wire_put_str(w, "workspace_id", m->workspace_id);
	wire_put_str(w, "workspace", m->workspace);
	put_blob(w, "cert", &m->cert);
	put_blob(w, "ca", &m->ca);
	wire_key(w, "labels");
	wire_map_open(w);
	for (uint32_t i = 0; i < m->labels.n; i++)
		wire_put_str(w, m->labels.v[i].key, m->labels.v[i].value);
	wire_map_close(w);
	put_int(w, "not_after", m->not_after);
	wire_put_uint(w, "heartbeat_interval", m->heartbeat_interval);
}

static void put_dataplane(struct wire_writer *w,
			  const struct proto_dataplane *d)
{
	wire_key(w, "dataplane");
	wire_map_open(w);
	wire_put_str(w, "instance", d->instance);
	wire_put_uint(w, "generation", d->generation);
	if (d->ruleset_hash[0])
		wire_put_str(w, "ruleset_hash", d->ruleset_hash);
	wire_key(w, "interfaces");
	wire_array_open(w);
	for (uint32_t i = 0; i < d->nifaces; i++) {
		wire_map_open(w);
		wire_put_str(w, "name", d->ifaces[i].name);
		wire_put_str(w, "mode", d->ifaces[i].mode);
		wire_map_close(w);
	}
	wire_array_close(w);
	wire_put_uint(w, "ct_entries", d->ct_entries);
	wire_put_uint(w, "ct_max", d->ct_max);
	wire_put_str(w, "state", proto_dp_state_name(d->state));
	wire_map_close(w);
}

static void put_heartbeat(struct wire_writer *w,
			  const struct proto_heartbeat *m)
{
	wire_put_uint(w, "seq", m->seq);
	put_int(w, "time", m->time);
	wire_put_str(w, "agent_version", m->agent_version);
	wire_put_uint(w, "uptime", m->uptime);
	wire_put_str(w, "kernel", m->kernel);
	wire_key(w, "load");
	wire_array_open(w);
	for (int i = 0; i < 3; i++)
		wire_uint(w, m->load[i]);
	wire_array_close(w);
	wire_put_uint(w, "mem_total", m->mem_total);
	wire_put_uint(w, "mem_available", m->mem_available);
	put_dataplane(w, &m->dataplane);
}

static void put_body(struct wire_writer *w, const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_ENROLL:
		put_enroll(w, &m->enroll);
		break;
	case PROTO_ENROLLED:
		put_enrolled(w, &m->enrolled);
		break;
	case PROTO_HELLO:
		wire_put_str(w, "agent_version", m->hello.agent_version);
		wire_put_str(w, "hostname", m->hello.hostname);
		put_int(w, "boot_time", m->hello.boot_time);
		/* optional: a client that does not know desired says nothing */
		if (m->hello.has_applied_generation)
			wire_put_uint(w, "applied_generation",
				      m->hello.applied_generation);
		break;
	case PROTO_WELCOME:
		wire_put_str(w, "host_id", m->welcome.host_id);
		wire_put_str(w, "workspace_id", m->welcome.workspace_id);
		wire_put_uint(w, "heartbeat_interval",
			      m->welcome.heartbeat_interval);
		put_int(w, "server_time", m->welcome.server_time);
		put_int(w, "renew_after", m->welcome.renew_after);
		break;
	case PROTO_HEARTBEAT:
		put_heartbeat(w, &m->heartbeat);
		break;
	case PROTO_HEARTBEAT_ACK:
		wire_put_uint(w, "seq", m->heartbeat_ack.seq);
		put_int(w, "server_time", m->heartbeat_ack.server_time);
		break;
	case PROTO_RENEW:
		put_blob(w, "csr", &m->renew.csr);
		break;
	case PROTO_RENEWED:
		put_blob(w, "cert", &m->renewed.cert);
		put_int(w, "not_after", m->renewed.not_after);
		put_int(w, "renew_after", m->renewed.renew_after);
		break;
	case PROTO_ERROR:
		wire_put_str(w, "code",
			     m->error.code == PROTO_E_OTHER ?
				     m->error.code_name :
				     proto_code_name(m->error.code));
		wire_put_str(w, "msg", m->error.msg);
		break;
	case PROTO_DESIRED:
	case PROTO_APPLIED:
	case PROTO_COUNTERS:
	case PROTO_COUNTERS_REQUEST:
		proto_put_reconcile(w, m);
		break;
	}
}

int proto_encode(struct wire_writer *w, const struct proto_msg *m,
		 const char **frame, size_t *len, struct wire_err *e)
{
	int ret = proto_check(m, e);

	if (ret < 0)
		return -EINVAL;
	wire_begin(w, proto_type_name(m->type));
	put_body(w, m);
	ret = wire_end(w, WIRE_MAX_FRAME, frame, len);
	if (ret == -EMSGSIZE)
		wire_errf(e, "%s: the message is larger than %u bytes",
			  proto_type_name(m->type), WIRE_MAX_FRAME);
	return ret;
}

/*
 * The typed encoders wrap the message in a struct proto_msg: a copy of
 * about a kilobyte, pointers included, never what they point to.
 */
#define ENCODER(name, TYPE)                                          \
	int proto_encode_##name(                                     \
		struct wire_writer *w, const struct proto_##name *m, \
		const char **frame, size_t *len, struct wire_err *e) \
	{                                                            \
		struct proto_msg msg = { .type = TYPE, .name = *m }; \
                                                                     \
		return proto_encode(w, &msg, frame, len, e);         \
	}

ENCODER(enroll, PROTO_ENROLL)
ENCODER(enrolled, PROTO_ENROLLED)
ENCODER(hello, PROTO_HELLO)
ENCODER(welcome, PROTO_WELCOME)
ENCODER(heartbeat, PROTO_HEARTBEAT)
ENCODER(heartbeat_ack, PROTO_HEARTBEAT_ACK)
ENCODER(renew, PROTO_RENEW)
ENCODER(renewed, PROTO_RENEWED)
ENCODER(error, PROTO_ERROR)
ENCODER(desired, PROTO_DESIRED)
ENCODER(applied, PROTO_APPLIED)
ENCODER(counters, PROTO_COUNTERS)

int proto_error_frame(struct wire_writer *w, enum proto_code code,
		      const char **frame, size_t *len, const char *fmt, ...)
{
	struct proto_msg m = { .type = PROTO_ERROR };
	va_list ap;

	m.error.code = code;
	va_start(ap, fmt);
	vsnprintf(m.error.msg, sizeof(m.error.msg), fmt, ap);
	va_end(ap);
	return proto_encode(w, &m, frame, len, NULL);
}
