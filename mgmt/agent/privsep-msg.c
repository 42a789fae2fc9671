// SPDX-License-Identifier: GPL-2.0-only
/* The messages between moatd's two processes: privsep-msg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "privsep-msg.h"

static const char *const state_names[PSMSG_NSTATES] = {
	[PSMSG_CONNECTING] = "connecting", [PSMSG_ENROLLING] = "enrolling",
	[PSMSG_CONNECTED] = "connected",   [PSMSG_BACKOFF] = "backing off",
	[PSMSG_REFUSED] = "refused",
};

const char *psmsg_state_name(enum psmsg_state s)
{
	return (unsigned)s < PSMSG_NSTATES ? state_names[s] : "?";
}

int psmsg_state_parse(const char *s)
{
	for (int i = 0; i < PSMSG_NSTATES; i++) {
		if (!strcmp(s, state_names[i]))
			return i;
	}
	return -1;
}

static int finish(struct wire_writer *w, const char **frame, size_t *len)
{
	return wire_end(w, PSMSG_MAX - WIRE_HDR_LEN, frame, len);
}

static void put_int(struct wire_writer *w, const char *key, int64_t v)
{
	wire_key(w, key);
	wire_int(w, v);
}

static void put_identity(struct wire_writer *w, const struct psmsg_identity *id)
{
	wire_put_bin(w, "key", id->key.p, id->key.n);
	wire_put_bin(w, "cert", id->cert.p, id->cert.n);
	wire_put_bin(w, "ca", id->ca.p, id->ca.n);
}

int psmsg_encode_start(struct wire_writer *w, const struct psmsg_start *m,
		       const char **frame, size_t *len)
{
	wire_begin(w, "start");
	wire_put_str(w, "host", m->host);
	wire_put_uint(w, "port", m->port);
	wire_put_str(w, "pin", m->pin);
	if (m->token[0])
		wire_put_str(w, "token", m->token);
	wire_put_str(w, "hostname", m->hostname);
	wire_put_str(w, "machine_id", m->machine_id);
	wire_put_str(w, "agent_version", m->agent_version);
	put_int(w, "boot_time", m->boot_time);
	if (m->applied_generation)
		wire_put_uint(w, "applied_generation", m->applied_generation);
	wire_put_uint(w, "counters_interval", m->counters_interval);
	if (psmsg_identity_present(&m->id))
		put_identity(w, &m->id);
	return finish(w, frame, len);
}

int psmsg_encode_status_request(struct wire_writer *w, const char **frame,
				size_t *len)
{
	wire_begin(w, "status_request");
	return finish(w, frame, len);
}

int psmsg_encode_status(struct wire_writer *w, const struct proto_heartbeat *m,
			const char **frame, size_t *len)
{
	struct proto_heartbeat hb = *m;
	int ret;

	hb.seq = 0;
	hb.time = 0;
	ret = proto_encode_heartbeat(w, &hb, frame, len, NULL);
	if (!ret && *len > PSMSG_MAX)
		ret = -EMSGSIZE;
	return ret;
}

int psmsg_encode_proto(struct wire_writer *w, const struct proto_msg *m,
		       const char **frame, size_t *len)
{
	if (m->type != PROTO_DESIRED && m->type != PROTO_APPLIED &&
	    m->type != PROTO_COUNTERS)
		return -EINVAL;
	return proto_encode(w, m, frame, len, NULL);
}

int psmsg_encode_counters_request(struct wire_writer *w, const char **frame,
				  size_t *len)
{
	wire_begin(w, "counters_request");
	return finish(w, frame, len);
}

int psmsg_encode_identity(struct wire_writer *w, const struct psmsg_identity *m,
			  const char **frame, size_t *len)
{
	wire_begin(w, "identity");
	put_identity(w, m);
	return finish(w, frame, len);
}

int psmsg_encode_state(struct wire_writer *w, const struct psmsg_state_msg *m,
		       const char **frame, size_t *len)
{
	wire_begin(w, "state");
	wire_put_str(w, "state", psmsg_state_name(m->state));
	wire_put_str(w, "host_id", m->host_id);
	wire_put_str(w, "workspace_id", m->workspace_id);
	wire_put_str(w, "workspace", m->workspace);
	put_int(w, "last_heartbeat", m->last_heartbeat);
	wire_put_str(w, "last_error", m->last_error);
	return finish(w, frame, len);
}

static int blob_copy(struct proto_blob *dst, const struct proto_blob *src)
{
	dst->p = NULL;
	dst->n = 0;
	if (!src->n)
		return 0;
	dst->p = malloc(src->n);
	if (!dst->p)
		return -ENOMEM;
	memcpy(dst->p, src->p, src->n);
	dst->n = src->n;
	return 0;
}

static int get_blob(const msgpack_object *map, const char *key, size_t max,
		    struct proto_blob *b, struct wire_err *e)
{
	const void *p;
	size_t n;
	int ret = wire_get_bin(map, key, &p, &n, e);

	if (ret < 0)
		return ret;
	if (n == 0 || n > max)
		return wire_errf(e, "key '%s' is %zu bytes, not 1 to %zu", key,
				 n, max);
	return blob_copy(b, &(struct proto_blob){ (uint8_t *)p, n });
}

static int get_identity(const msgpack_object *o, struct psmsg_identity *id,
			struct wire_err *e)
{
	int ret = get_blob(o, "key", PROTO_BLOB_MAX, &id->key, e);

	if (!ret)
		ret = get_blob(o, "cert", PROTO_BLOB_MAX, &id->cert, e);
	if (!ret)
		ret = get_blob(o, "ca", PROTO_BLOB_MAX, &id->ca, e);
	return ret;
}

/* A required str of at least one byte. */
static int get_name(const msgpack_object *o, const char *key, char *buf,
		    size_t size, struct wire_err *e)
{
	int ret = wire_get_str(o, key, buf, size, e);

	if (!ret && !buf[0])
		ret = wire_errf(e, "key '%s' is empty", key);
	return ret;
}

static int get_start(const msgpack_object *o, struct psmsg_start *m,
		     struct wire_err *e)
{
	uint64_t port = 0;
	int ret = get_name(o, "host", m->host, sizeof(m->host), e);

	if (!ret)
		ret = wire_get_uint(o, "port", &port, e);
	if (!ret && (port == 0 || port > 65535))
		ret = wire_errf(e, "key 'port' is out of range: %llu",
				(unsigned long long)port);
	m->port = (uint16_t)port;
	if (!ret)
		ret = wire_get_str(o, "pin", m->pin, sizeof(m->pin), e);
	if (!ret && strlen(m->pin) != PSMSG_PIN_LEN)
		ret = wire_errf(e,
				"key 'pin' is not sha256: and 64 hex digits");
	if (!ret && wire_find(o, "token"))
		ret = get_name(o, "token", m->token, sizeof(m->token), e);
	if (!ret)
		ret = get_name(o, "hostname", m->hostname, sizeof(m->hostname),
			       e);
	if (!ret)
		ret = get_name(o, "machine_id", m->machine_id,
			       sizeof(m->machine_id), e);
	if (!ret)
		ret = get_name(o, "agent_version", m->agent_version,
			       sizeof(m->agent_version), e);
	if (!ret)
		ret = wire_get_int(o, "boot_time", &m->boot_time, e);
	if (!ret && wire_find(o, "applied_generation"))
		ret = wire_get_uint(o, "applied_generation",
				    &m->applied_generation, e);
	/* absent from a start of before the key: the default */
	m->counters_interval = CONFIG_COUNTERS_INTERVAL;
	if (!ret && wire_find(o, "counters_interval")) {
		uint64_t x = 0;

		ret = wire_get_uint(o, "counters_interval", &x, e);
		if (!ret && (x == 0 || x > CONFIG_COUNTERS_INTERVAL_MAX))
			ret = wire_errf(e,
					"key 'counters_interval' is out of range: %llu",
					(unsigned long long)x);
		if (!ret)
			m->counters_interval = (uint32_t)x;
	}
	/* the identity comes whole or not at all */
	if (!ret &&
	    (wire_find(o, "key") || wire_find(o, "cert") || wire_find(o, "ca")))
		ret = get_identity(o, &m->id, e);
	return ret;
}

static int get_state(const msgpack_object *o, struct psmsg_state_msg *m,
		     struct wire_err *e)
{
	char name[32];
	int s, ret = wire_get_str(o, "state", name, sizeof(name), e);

	if (!ret) {
		s = psmsg_state_parse(name);
		if (s < 0)
			ret = wire_errf(e, "key 'state' is no state: '%s'",
					name);
		m->state = (enum psmsg_state)(s < 0 ? 0 : s);
	}
	if (!ret)
		ret = wire_get_str(o, "host_id", m->host_id, sizeof(m->host_id),
				   e);
	if (!ret)
		ret = wire_get_str(o, "workspace_id", m->workspace_id,
				   sizeof(m->workspace_id), e);
	if (!ret)
		ret = wire_get_str(o, "workspace", m->workspace,
				   sizeof(m->workspace), e);
	if (!ret)
		ret = wire_get_int(o, "last_heartbeat", &m->last_heartbeat, e);
	if (!ret)
		ret = wire_get_str(o, "last_error", m->last_error,
				   sizeof(m->last_error), e);
	return ret;
}

/*
 * The status reply, desired, applied and counters are agent-channel
 * messages: proto.h decodes them, and what they own moves over.
 */
static int get_proto(const void *packet, size_t len, struct psmsg *m,
		     struct wire_err *e)
{
	struct proto_msg pm;
	int ret;

	memset(&pm, 0, sizeof(pm));
	ret = proto_decode((const char *)packet + WIRE_HDR_LEN,
			   len - WIRE_HDR_LEN, &pm, e);
	if (ret < 0) {
		proto_msg_free(&pm);
		return ret == -ENOMEM ? ret : -EBADMSG;
	}
	if (pm.type == PROTO_HEARTBEAT) {
		m->type = PSMSG_STATUS;
		m->status = pm.heartbeat;
		return 0;
	}
	m->type = pm.type == PROTO_DESIRED ? PSMSG_DESIRED :
		  pm.type == PROTO_APPLIED ? PSMSG_APPLIED :
					     PSMSG_COUNTERS;
	m->proto = pm;
	return 0;
}

int psmsg_decode(const void *packet, size_t len, struct psmsg *m,
		 struct wire_err *e)
{
	struct wire_msg wm;
	int ret;

	memset(m, 0, sizeof(*m));
	m->type = PSMSG_STATUS_REQUEST; /* owns nothing until decoded */
	if (len < WIRE_HDR_LEN || len > PSMSG_MAX ||
	    wire_frame_len(packet) != len - WIRE_HDR_LEN)
		return wire_errf(e, "packet of %zu bytes is not one frame",
				 len);
	ret = wire_parse(&wm, (const char *)packet + WIRE_HDR_LEN,
			 len - WIRE_HDR_LEN, e);
	if (ret < 0)
		goto out;
	if (!strcmp(wm.type, "start")) {
		m->type = PSMSG_START;
		ret = get_start(wm.root, &m->start, e);
	} else if (!strcmp(wm.type, "status_request")) {
		m->type = PSMSG_STATUS_REQUEST;
	} else if (!strcmp(wm.type, "heartbeat") ||
		   !strcmp(wm.type, "desired") || !strcmp(wm.type, "applied") ||
		   !strcmp(wm.type, "counters")) {
		ret = get_proto(packet, len, m, e);
	} else if (!strcmp(wm.type, "counters_request")) {
		m->type = PSMSG_COUNTERS_REQUEST;
	} else if (!strcmp(wm.type, "identity")) {
		m->type = PSMSG_IDENTITY;
		ret = get_identity(wm.root, &m->identity, e);
	} else if (!strcmp(wm.type, "state")) {
		m->type = PSMSG_STATE;
		ret = get_state(wm.root, &m->state, e);
	} else {
		ret = wire_errf(e, "unknown message type '%s'", wm.type);
	}
out:
	wire_msg_free(&wm);
	return ret;
}

bool psmsg_identity_present(const struct psmsg_identity *id)
{
	return id->key.n && id->cert.n && id->ca.n;
}

int psmsg_identity_copy(struct psmsg_identity *dst,
			const struct psmsg_identity *src)
{
	memset(dst, 0, sizeof(*dst));
	if (blob_copy(&dst->key, &src->key) ||
	    blob_copy(&dst->cert, &src->cert) ||
	    blob_copy(&dst->ca, &src->ca)) {
		psmsg_identity_free(dst);
		return -ENOMEM;
	}
	return 0;
}

void psmsg_identity_free(struct psmsg_identity *id)
{
	if (id->key.p)
		explicit_bzero(id->key.p, id->key.n);
	free(id->key.p);
	free(id->cert.p);
	free(id->ca.p);
	memset(id, 0, sizeof(*id));
}

void psmsg_free(struct psmsg *m)
{
	switch (m->type) {
	case PSMSG_START:
		psmsg_identity_free(&m->start.id);
		explicit_bzero(m->start.token, sizeof(m->start.token));
		break;
	case PSMSG_STATUS:
		free(m->status.dataplane.ifaces);
		break;
	case PSMSG_IDENTITY:
		psmsg_identity_free(&m->identity);
		break;
	case PSMSG_DESIRED:
	case PSMSG_APPLIED:
	case PSMSG_COUNTERS:
		proto_msg_free(&m->proto);
		break;
	default:
		break;
	}
	memset(m, 0, sizeof(*m));
}
