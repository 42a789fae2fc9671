// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment: an install token and a CSR in, a host certificate signed by
 * the token's workspace CA out.  The store checks the token, makes or
 * finds the host and records it all in one transaction; a refusal
 * creates nothing and is in the audit log too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "log.h"
#include "pki.h"
#include "session.h"

int cp_sign_host(struct cp *cp, const char *ws_id, const char *host_id,
		 EVP_PKEY *pub, unsigned char **der, size_t *len,
		 char serial[STORE_SERIAL_LEN], int64_t *not_after)
{
	struct store_workspace ws = { 0 };
	char sn[PKI_SERIAL_LEN];
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL, *cert = NULL;
	int ret;

	ret = store_workspace_get(cp->store, ws_id, &ws);
	if (ret == 0)
		ret = pki_cert_from_der(ws.ca.data, ws.ca.len, &ca);
	if (ret == 0)
		ret = pki_key_from_pem((const char *)ws.ca_key.data,
				       ws.ca_key.len, &ca_key);
	if (ret == 0)
		ret = pki_sign_host(ca, ca_key, pub, ws_id, host_id,
				    cp->opt.host_cert_lifetime, &cert, sn);
	if (ret == 0)
		ret = pki_not_after(cert, not_after);
	if (ret == 0)
		ret = pki_cert_to_der(cert, der, len);
	if (ret == 0)
		snprintf(serial, STORE_SERIAL_LEN, "%s", sn);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	store_workspace_clear(&ws);
	return ret;
}

struct sign_arg {
	struct cp *cp;
	EVP_PKEY *pub;
	unsigned char *der;
	size_t len;
	int64_t not_after;
};

static int sign_cb(void *arg, const char *ws_id, const char *host_id,
		   char serial[STORE_SERIAL_LEN], int64_t *not_after)
{
	struct sign_arg *a = arg;
	int ret;

	ret = cp_sign_host(a->cp, ws_id, host_id, a->pub, &a->der, &a->len,
			   serial, not_after);
	a->not_after = *not_after;
	return ret;
}

/* The host's labels, a JSON object in the store, as the wire's list. */
static int labels_of(const char *json, struct proto_labels *out)
{
	struct json_object *o = json ? json_tokener_parse(json) : NULL;
	uint32_t n = 0;

	out->v = NULL;
	out->n = 0;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return 0;
	}
	out->v = calloc(PROTO_LABELS_MAX, sizeof(*out->v));
	if (!out->v) {
		json_object_put(o);
		return -ENOMEM;
	}
	json_object_object_foreach(o, k, v) {
		if (n == PROTO_LABELS_MAX)
			break;
		snprintf(out->v[n].key, sizeof(out->v[n].key), "%s", k);
		snprintf(out->v[n].value, sizeof(out->v[n].value), "%s",
			 json_object_get_string(v));
		n++;
	}
	out->n = n;
	json_object_put(o);
	return 0;
}

static const char *refusal(int err)
{
	switch (err) {
	case -ENOKEY:
		return "the install token is unknown: mistyped, or made by another control plane";
	case -EKEYEXPIRED:
		return "the install token has expired: make a new one (moatctl token create)";
	case -EKEYREVOKED:
		return "the install token was revoked: make a new one (moatctl token create)";
	case -EDQUOT:
		return "the install token has been used as often as it may: make a new one (moatctl token create)";
	}
	return "enrollment failed on the control plane; its log says why";
}

static void reply(struct cp_session *s, const struct store_host *h,
		  struct sign_arg *a)
{
	struct store_workspace ws = { 0 };
	struct proto_enrolled e = { 0 };
	const char *frame;
	size_t len;
	int ret;

	ret = store_workspace_get(s->cp->store, h->workspace_id, &ws);
	if (ret == 0)
		ret = labels_of(h->labels, &e.labels);
	if (ret) {
		cp_session_fail(s, PROTO_E_INTERNAL, "enrolled, but cannot say so: %s",
				strerror(-ret));
		goto out;
	}
	snprintf(e.host_id, sizeof(e.host_id), "%s", h->id);
	snprintf(e.workspace_id, sizeof(e.workspace_id), "%s", ws.id);
	/* names are at most 63 bytes (store_name_valid()) */
	snprintf(e.workspace, sizeof(e.workspace), "%.*s",
		 (int)sizeof(e.workspace) - 1, ws.name);
	e.cert.p = a->der;
	e.cert.n = a->len;
	e.ca.p = ws.ca.data;
	e.ca.n = ws.ca.len;
	e.not_after = a->not_after;
	e.heartbeat_interval = s->cp->opt.heartbeat_interval;
	ret = proto_encode_enrolled(&s->w, &e, &frame, &len, NULL);
	if (ret) {
		cp_session_fail(s, PROTO_E_INTERNAL, "cannot encode enrolled: %s",
				strerror(-ret));
		goto out;
	}
	s->cp->counts.enrollments++;
	log_info("%s: enrolled host %s (%s) in workspace %s", s->addr, h->id,
		 h->hostname, ws.name);
	/* the host comes back with its certificate, on a new connection */
	if (cp_session_send(s, frame, len) == 0)
		cp_session_end(s);
out:
	free(e.labels.v);
	store_workspace_clear(&ws);
}

void cp_enroll(struct cp_session *s, const struct proto_enroll *m)
{
	struct store_who who = { .actor = "agent", .source = s->addr };
	struct store_enroll_req req = { .hostname = m->hostname,
					.machine_id = m->machine_id,
					.agent_version = m->agent_version,
					.address = s->addr };
	struct sign_arg a = { .cp = s->cp };
	struct store_host h = { 0 };
	char hash[STORE_HASH_LEN], detail[512];
	struct pki_err pe;
	int ret;

	ret = pki_csr_check(m->csr.p, m->csr.n, &a.pub, &pe);
	if (ret) {
		store_json_detail(detail, sizeof(detail), "hostname",
				  m->hostname, "machine_id", m->machine_id,
				  NULL);
		store_audit_append(s->cp->store, &who, "enroll.refuse", "", "",
				   "refused: bad CSR", detail);
		s->cp->counts.enroll_refusals[PROTO_E_BAD_CSR]++;
		cp_session_fail(s, PROTO_E_BAD_CSR, "%s", pe.msg);
		return;
	}
	ret = store_sha256_hex(m->token, strlen(m->token), hash);
	if (ret == 0) {
		req.token_hash = hash;
		ret = store_enroll(s->cp->store, &who, &req, sign_cb, &a, &h);
	}
	if (ret) {
		const char *name = store_enroll_error_code(ret);
		enum proto_code code = name ? proto_code_parse(name) :
					      PROTO_E_INTERNAL;

		s->cp->counts.enroll_refusals[code]++;
		cp_session_fail(s, code, "%s", refusal(ret));
	} else {
		reply(s, &h, &a);
	}
	store_host_clear(&h);
	EVP_PKEY_free(a.pub);
	free(a.der);
}
