// SPDX-License-Identifier: GPL-2.0-only
/* What a host with a certificate says: hello, heartbeats, renewals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "pki.h"
#include "session.h"

static void refuse(struct cp_session *s, enum proto_code code,
		   const char *why, const char *msg)
{
	struct store_who who = { .actor = s->actor, .source = s->addr };
	char result[160];

	snprintf(result, sizeof(result), "refused: %s", why);
	store_audit_append(s->cp->store, &who, "session.refuse", s->ws_id,
			   s->host_id, result, NULL);
	cp_session_fail(s, code, "%s", msg);
}

/* "moat:host:WSID:HOSTID" into its two ids. */
static int host_uri(X509 *cert, char ws[STORE_ID_LEN], char host[STORE_ID_LEN])
{
	char uri[128];

	for (int i = 0; pki_san_uri(cert, i, uri, sizeof(uri)) != -ENOENT; i++) {
		const char *w = uri + strlen("moat:host:"), *colon;

		if (strncmp(uri, "moat:host:", strlen("moat:host:")))
			continue;
		colon = strchr(w, ':');
		if (!colon || colon - w != STORE_ID_LEN - 1 ||
		    strlen(colon + 1) != STORE_ID_LEN - 1)
			return -EBADMSG;
		memcpy(ws, w, STORE_ID_LEN - 1);
		ws[STORE_ID_LEN - 1] = '\0';
		memcpy(host, colon + 1, STORE_ID_LEN);
		return 0;
	}
	return -ENOENT;
}

int cp_session_check_cert(struct cp_session *s, X509 *cert)
{
	struct store_workspace ws = { 0 };
	char serial[PKI_SERIAL_LEN];
	X509 *ca = NULL;
	int ret;

	if (host_uri(cert, s->ws_id, s->host_id)) {
		s->ws_id[0] = s->host_id[0] = '\0';
		cp_session_fail(s, PROTO_E_CERT_REFUSED,
				"the client certificate is not a moat host certificate (no SAN URI moat:host:WORKSPACE:HOST)");
		return -EPERM;
	}
	snprintf(s->actor, sizeof(s->actor), "host:%s", s->host_id);
	/*
	 * TLS checked that one of the workspace CAs signed it; it must be
	 * the CA of the workspace it names.
	 */
	ret = store_workspace_get(s->cp->store, s->ws_id, &ws);
	if (ret == 0)
		ret = pki_cert_from_der(ws.ca.data, ws.ca.len, &ca);
	if (ret == 0)
		ret = pki_issued_by(cert, ca);
	X509_free(ca);
	store_workspace_clear(&ws);
	if (ret) {
		refuse(s, PROTO_E_CERT_REFUSED, "certificate of another workspace",
		       "the certificate names a workspace whose CA did not sign it");
		return -EPERM;
	}
	if (pki_serial_hex(cert, serial) || pki_not_after(cert, &s->cert_not_after))
		ret = -EBADMSG;
	else
		ret = store_host_cert_ok(s->cp->store, s->ws_id, s->host_id,
					 serial);
	switch (ret) {
	case 0:
		return 0;
	case -EKEYREVOKED:
		refuse(s, PROTO_E_HOST_REMOVED, "host removed",
		       "this host was removed from the fleet: it needs a new install token to come back");
		break;
	case -ENOENT:
		refuse(s, PROTO_E_CERT_REFUSED, "unknown host",
		       "no such host in this workspace");
		break;
	default:
		refuse(s, PROTO_E_CERT_REFUSED, "superseded certificate",
		       "this certificate was replaced by a newer one (renewed or re-enrolled)");
		break;
	}
	return -EPERM;
}

/* Renew once two thirds of the lifetime are gone (docs/protocol.md). */
static int64_t renew_after(const struct cp_session *s, int64_t not_after)
{
	return not_after - s->cp->opt.host_cert_lifetime / 3;
}

void cp_session_hello(struct cp_session *s, const struct proto_hello *m)
{
	struct proto_welcome w = { 0 };
	const char *frame;
	size_t len;

	snprintf(w.host_id, sizeof(w.host_id), "%s", s->host_id);
	snprintf(w.workspace_id, sizeof(w.workspace_id), "%s", s->ws_id);
	w.heartbeat_interval = s->cp->opt.heartbeat_interval;
	w.server_time = store_now(s->cp->store);
	w.renew_after = renew_after(s, s->cert_not_after);
	if (proto_encode_welcome(&s->w, &w, &frame, &len, NULL)) {
		cp_session_fail(s, PROTO_E_INTERNAL, "cannot encode welcome");
		return;
	}
	s->state = CP_S_ACTIVE;
	cp_session_register(s);
	log_info("%s: host %s (%s, moatd %s) connected", s->addr, s->host_id,
		 m->hostname, m->agent_version);
	/* a moatd that does not say its generation may not know desired */
	s->knows_desired = m->has_applied_generation;
	if (cp_session_send(s, frame, len) == 0 && s->knows_desired)
		cp_session_desired_after_hello(s, m->applied_generation);
}

/* The heartbeat's data plane, as the API shows it. */
static struct json_object *dataplane_json(const struct proto_dataplane *d)
{
	struct json_object *o = json_object_new_object(), *ifs;

	if (!o)
		return NULL;
	ifs = json_object_new_array();
	json_object_object_add(o, "instance", json_object_new_string(d->instance));
	json_object_object_add(o, "state",
			       json_object_new_string(proto_dp_state_name(d->state)));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)d->generation));
	if (d->ruleset_hash[0])
		json_object_object_add(o, "ruleset_hash",
				       json_object_new_string(d->ruleset_hash));
	for (uint32_t i = 0; ifs && i < d->nifaces; i++) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "name", json_object_new_string(d->ifaces[i].name));
		json_object_object_add(f, "mode", json_object_new_string(d->ifaces[i].mode));
		json_object_array_add(ifs, f);
	}
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(o, "ct_entries", json_object_new_int64((int64_t)d->ct_entries));
	json_object_object_add(o, "ct_max", json_object_new_int64((int64_t)d->ct_max));
	return o;
}

/* Host facts that are not the data plane's go with it, for the API. */
static char *status_json(const struct proto_heartbeat *m)
{
	struct json_object *o = json_object_new_object(), *load;
	struct json_object *dp = dataplane_json(&m->dataplane);
	char *text;

	if (!o || !dp) {
		json_object_put(o);
		json_object_put(dp);
		return NULL;
	}
	load = json_object_new_array();
	for (int i = 0; i < 3; i++)
		json_object_array_add(load, json_object_new_double(m->load[i] / 100.0));
	json_object_object_add(o, "load", load);
	json_object_object_add(o, "mem_total", json_object_new_int64((int64_t)m->mem_total));
	json_object_object_add(o, "mem_available",
			       json_object_new_int64((int64_t)m->mem_available));
	json_object_object_add(o, "host_time", json_object_new_int64(m->time));
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)m->seq));
	json_object_object_add(o, "dataplane", dp);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

void cp_session_heartbeat(struct cp_session *s, const struct proto_heartbeat *m)
{
	struct store_heartbeat hb = { .agent_version = m->agent_version,
				      .kernel = m->kernel,
				      .uptime = (int64_t)m->uptime,
				      .address = s->addr };
	struct proto_heartbeat_ack ack = { .seq = m->seq };
	const char *frame;
	size_t len;
	char *json;
	int ret;

	hb.time = ack.server_time = store_now(s->cp->store);
	json = status_json(m);
	if (!json) {
		cp_session_fail(s, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	hb.dataplane = json;
	ret = store_host_heartbeat(s->cp->store, s->host_id, &hb);
	free(json);
	if (ret == -ENOENT) {
		cp_session_fail(s, PROTO_E_HOST_REMOVED,
				"this host was removed from the fleet: it needs a new install token to come back");
		return;
	}
	if (ret) {
		cp_session_fail(s, PROTO_E_INTERNAL, "cannot record the heartbeat");
		return;
	}
	s->cp->counts.heartbeats++;
	if (proto_encode_heartbeat_ack(&s->w, &ack, &frame, &len, NULL) == 0)
		cp_session_send(s, frame, len);
}

void cp_session_renew(struct cp_session *s, const struct proto_renew *m)
{
	struct store_who who = { .actor = s->actor, .source = s->addr };
	struct proto_renewed r = { 0 };
	char serial[STORE_SERIAL_LEN];
	unsigned char *der = NULL;
	struct pki_err pe;
	EVP_PKEY *pub = NULL;
	const char *frame;
	size_t len;
	int ret;

	ret = pki_csr_check(m->csr.p, m->csr.n, &pub, &pe);
	if (ret) {
		cp_session_fail(s, PROTO_E_BAD_CSR, "%s", pe.msg);
		return;
	}
	ret = cp_sign_host(s->cp, s->ws_id, s->host_id, pub, &der, &len, serial,
			   &r.not_after);
	if (ret == 0)
		ret = store_host_renew(s->cp->store, &who, s->ws_id, s->host_id,
				       serial, r.not_after);
	EVP_PKEY_free(pub);
	if (ret) {
		free(der);
		cp_session_fail(s, ret == -EKEYREVOKED || ret == -ENOENT ?
					   PROTO_E_HOST_REMOVED : PROTO_E_INTERNAL,
				"cannot renew: %s", strerror(-ret));
		return;
	}
	r.cert.p = der;
	r.cert.n = len;
	r.renew_after = renew_after(s, r.not_after);
	if (proto_encode_renewed(&s->w, &r, &frame, &len, NULL) == 0) {
		log_info("%s: host %s renewed its certificate", s->addr, s->host_id);
		cp_session_send(s, frame, len);
	}
	free(der);
}
