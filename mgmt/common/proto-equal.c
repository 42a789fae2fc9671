// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whether two messages say the same thing: what a round trip through
 * the encoder and the decoder must keep.  Field by field, not memcmp():
 * the buffers after each string's NUL and the blobs' addresses differ.
 */
#include <string.h>

#include "proto-impl.h"

#define SAME_STR(a, b, f) (!strcmp((a)->f, (b)->f))
#define SAME(a, b, f) ((a)->f == (b)->f)

static bool same_blob(const struct proto_blob *a, const struct proto_blob *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->p, b->p, a->n));
}

static bool same_labels(const struct proto_labels *a,
			const struct proto_labels *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		if (!SAME_STR(&a->v[i], &b->v[i], key) ||
		    !SAME_STR(&a->v[i], &b->v[i], value))
			return false;
	}
	return true;
}

static bool same_dataplane(const struct proto_dataplane *a,
			   const struct proto_dataplane *b)
{
	if (!SAME_STR(a, b, instance) || !SAME(a, b, generation) ||
	    !SAME_STR(a, b, ruleset_hash) || !SAME(a, b, nifaces) ||
	    !SAME(a, b, ct_entries) || !SAME(a, b, ct_max) ||
	    !SAME(a, b, state))
		return false;
	for (uint32_t i = 0; i < a->nifaces; i++) {
		if (!SAME_STR(&a->ifaces[i], &b->ifaces[i], name) ||
		    !SAME_STR(&a->ifaces[i], &b->ifaces[i], mode))
			return false;
	}
	return true;
}

static bool same_heartbeat(const struct proto_heartbeat *a,
			   const struct proto_heartbeat *b)
{
	return SAME(a, b, seq) && SAME(a, b, time) &&
	       SAME_STR(a, b, agent_version) && SAME(a, b, uptime) &&
	       SAME_STR(a, b, kernel) &&
	       !memcmp(a->load, b->load, sizeof(a->load)) &&
	       SAME(a, b, mem_total) && SAME(a, b, mem_available) &&
	       same_dataplane(&a->dataplane, &b->dataplane);
}

bool proto_msg_equal(const struct proto_msg *a, const struct proto_msg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case PROTO_ENROLL:
		return SAME_STR(&a->enroll, &b->enroll, token) &&
		       same_blob(&a->enroll.csr, &b->enroll.csr) &&
		       SAME_STR(&a->enroll, &b->enroll, hostname) &&
		       SAME_STR(&a->enroll, &b->enroll, machine_id) &&
		       SAME_STR(&a->enroll, &b->enroll, agent_version);
	case PROTO_ENROLLED:
		return SAME_STR(&a->enrolled, &b->enrolled, host_id) &&
		       SAME_STR(&a->enrolled, &b->enrolled, workspace_id) &&
		       SAME_STR(&a->enrolled, &b->enrolled, workspace) &&
		       same_blob(&a->enrolled.cert, &b->enrolled.cert) &&
		       same_blob(&a->enrolled.ca, &b->enrolled.ca) &&
		       same_labels(&a->enrolled.labels, &b->enrolled.labels) &&
		       SAME(&a->enrolled, &b->enrolled, not_after) &&
		       SAME(&a->enrolled, &b->enrolled, heartbeat_interval);
	case PROTO_HELLO:
		return SAME_STR(&a->hello, &b->hello, agent_version) &&
		       SAME_STR(&a->hello, &b->hello, hostname) &&
		       SAME(&a->hello, &b->hello, boot_time) &&
		       SAME(&a->hello, &b->hello, has_applied_generation) &&
		       SAME(&a->hello, &b->hello, applied_generation);
	case PROTO_WELCOME:
		return SAME_STR(&a->welcome, &b->welcome, host_id) &&
		       SAME_STR(&a->welcome, &b->welcome, workspace_id) &&
		       SAME(&a->welcome, &b->welcome, heartbeat_interval) &&
		       SAME(&a->welcome, &b->welcome, server_time) &&
		       SAME(&a->welcome, &b->welcome, renew_after);
	case PROTO_HEARTBEAT:
		return same_heartbeat(&a->heartbeat, &b->heartbeat);
	case PROTO_HEARTBEAT_ACK:
		return SAME(&a->heartbeat_ack, &b->heartbeat_ack, seq) &&
		       SAME(&a->heartbeat_ack, &b->heartbeat_ack, server_time);
	case PROTO_RENEW:
		return same_blob(&a->renew.csr, &b->renew.csr);
	case PROTO_RENEWED:
		return same_blob(&a->renewed.cert, &b->renewed.cert) &&
		       SAME(&a->renewed, &b->renewed, not_after) &&
		       SAME(&a->renewed, &b->renewed, renew_after);
	case PROTO_ERROR:
		return SAME(&a->error, &b->error, code) &&
		       (a->error.code != PROTO_E_OTHER ||
			SAME_STR(&a->error, &b->error, code_name)) &&
		       SAME_STR(&a->error, &b->error, msg);
	case PROTO_DESIRED:
	case PROTO_APPLIED:
	case PROTO_COUNTERS:
	case PROTO_COUNTERS_REQUEST:
		return proto_equal_reconcile(a, b);
	}
	return false;
}
