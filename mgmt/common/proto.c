// SPDX-License-Identifier: GPL-2.0-only
/* The agent channel's names: message types, error codes, states. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto-impl.h"

static const char *const type_names[] = {
	[PROTO_ENROLL] = "enroll",
	[PROTO_ENROLLED] = "enrolled",
	[PROTO_HELLO] = "hello",
	[PROTO_WELCOME] = "welcome",
	[PROTO_HEARTBEAT] = "heartbeat",
	[PROTO_HEARTBEAT_ACK] = "heartbeat_ack",
	[PROTO_RENEW] = "renew",
	[PROTO_RENEWED] = "renewed",
	[PROTO_ERROR] = "error",
	[PROTO_DESIRED] = "desired",
	[PROTO_APPLIED] = "applied",
	[PROTO_COUNTERS] = "counters",
	[PROTO_COUNTERS_REQUEST] = "counters_request",
};

static const char *const code_names[] = {
	[PROTO_E_BAD_FRAME] = "bad_frame",
	[PROTO_E_BAD_VERSION] = "bad_version",
	[PROTO_E_UNEXPECTED] = "unexpected",
	[PROTO_E_TOKEN_UNKNOWN] = "token_unknown",
	[PROTO_E_TOKEN_EXPIRED] = "token_expired",
	[PROTO_E_TOKEN_REVOKED] = "token_revoked",
	[PROTO_E_TOKEN_EXHAUSTED] = "token_exhausted",
	[PROTO_E_BAD_CSR] = "bad_csr",
	[PROTO_E_HOST_REMOVED] = "host_removed",
	[PROTO_E_CERT_REFUSED] = "cert_refused",
	[PROTO_E_INTERNAL] = "internal",
	[PROTO_E_SHUTTING_DOWN] = "shutting_down",
};

const char *const proto_dp_state_names[PROTO_DP_NSTATES] = {
	[PROTO_DP_ENFORCING] = "enforcing",
	[PROTO_DP_NONE] = "none",
	[PROTO_DP_ERROR] = "error",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *proto_type_name(enum proto_type t)
{
	return (size_t)t < ARRAY_LEN(type_names) ? type_names[t] : "?";
}

int proto_type_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(type_names); i++) {
		if (!strcmp(s, type_names[i]))
			return (int)i;
	}
	return -1;
}

bool proto_from_client(enum proto_type t)
{
	return t == PROTO_ENROLL || t == PROTO_HELLO || t == PROTO_HEARTBEAT ||
	       t == PROTO_RENEW || t == PROTO_APPLIED || t == PROTO_COUNTERS;
}

const char *proto_code_name(enum proto_code c)
{
	return (size_t)c < ARRAY_LEN(code_names) ? code_names[c] : "?";
}

enum proto_code proto_code_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(code_names); i++) {
		if (!strcmp(s, code_names[i]))
			return (enum proto_code)i;
	}
	return PROTO_E_OTHER;
}

const char *proto_dp_state_name(enum proto_dp_state s)
{
	return (size_t)s < PROTO_DP_NSTATES ? proto_dp_state_names[s] : "?";
}

enum proto_code proto_decode_code(int ret)
{
	if (ret == -EPROTONOSUPPORT)
		return PROTO_E_BAD_VERSION;
	if (ret == -EBADMSG)
		return PROTO_E_BAD_FRAME;
	return PROTO_E_INTERNAL;
}

void proto_quote(char *out, size_t size, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= ' ' && c <= 0x7e && c != '\\' && c != '\'')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (o + 8 >= size && n)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o] = '\0';
}

void proto_msg_free(struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_ENROLL:
		free(m->enroll.csr.p);
		break;
	case PROTO_ENROLLED:
		free(m->enrolled.cert.p);
		free(m->enrolled.ca.p);
		free(m->enrolled.labels.v);
		break;
	case PROTO_HEARTBEAT:
		free(m->heartbeat.dataplane.ifaces);
		break;
	case PROTO_RENEW:
		free(m->renew.csr.p);
		break;
	case PROTO_RENEWED:
		free(m->renewed.cert.p);
		break;
	case PROTO_DESIRED:
	case PROTO_COUNTERS:
		proto_free_reconcile(m);
		break;
	default:
		break;
	}
	memset(m, 0, sizeof(*m));
}
