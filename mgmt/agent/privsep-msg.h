/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What moatd's two processes say to each other over their socketpair
 * (SOCK_SEQPACKET, one wire.h frame a packet).  docs/moatd.md, "Joining
 * a fleet", lists every key.
 *
 *   parent                               session process
 *   start                          ->    (once, first)
 *                                  <-    status_request
 *   heartbeat (the status reply)   ->
 *                                  <-    identity (enrolled or renewed)
 *                                  <-    state (whenever it changes)
 *                                  <-    desired (from the control plane,
 *                                        its text parsed and hashed)
 *   applied                        ->    (the answer; or drift)
 *                                  <-    applied (a desired it refused)
 *                                  <-    counters_request
 *   counters                       ->
 *
 * The status reply is a whole agent-channel heartbeat (proto.h) with seq
 * and time 0: the session process sets them and sends it on, so that the
 * data plane's state is checked against the protocol's bounds by the
 * same encoder and decoder that the control plane's side uses.
 *
 * desired, applied and counters are whole agent-channel messages too,
 * for the same reason: the session process forwards them as they are.
 *
 * The session process is the one that runs without privilege; the parent
 * decodes what it sends as it would decode a stranger's: every bound is
 * checked here, and identity.c checks the certificates.
 */
#ifndef MOAT_AGENT_PRIVSEP_MSG_H
#define MOAT_AGENT_PRIVSEP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"
#include "wire.h"

/*
 * A packet: a whole agent-channel frame (a desired ruleset of 900,000
 * bytes, counters); the socketpair's buffers are sized for it.
 */
#define PSMSG_MAX (WIRE_HDR_LEN + WIRE_MAX_FRAME)
/* "sha256:" and 64 hex digits */
#define PSMSG_PIN_LEN CONFIG_PIN_LEN
#define PSMSG_ERROR_MAX 255

enum psmsg_type {
	PSMSG_START,
	PSMSG_STATUS_REQUEST,
	PSMSG_STATUS, /* the wire type is "heartbeat" */
	PSMSG_IDENTITY,
	PSMSG_STATE,
	PSMSG_DESIRED, /* the wire types are the agent channel's */
	PSMSG_APPLIED,
	PSMSG_COUNTERS_REQUEST,
	PSMSG_COUNTERS,
};

/* The session's state, as moatctl status shows it. */
enum psmsg_state {
	PSMSG_CONNECTING, /* TCP and TLS under way */
	PSMSG_ENROLLING, /* enroll sent, waiting for enrolled */
	PSMSG_CONNECTED, /* welcome received: heartbeats flow */
	PSMSG_BACKOFF, /* waiting before the next attempt */
	PSMSG_REFUSED, /* nothing more to try until restart or a new token */
	PSMSG_NSTATES,
};

/* The identity: all three, or none. */
struct psmsg_identity {
	struct proto_blob key; /* PKCS#8 PEM */
	struct proto_blob cert; /* DER */
	struct proto_blob ca; /* DER */
};

struct psmsg_start {
	char host[CONFIG_CP_HOST_MAX + 1];
	uint16_t port;
	char pin[PSMSG_PIN_LEN + 1];
	char token[PROTO_TOKEN_MAX + 1]; /* "" when none */
	char hostname[PROTO_HOSTNAME_MAX + 1];
	char machine_id[PROTO_MACHINE_ID_MAX + 1];
	char agent_version[PROTO_VERSION_MAX + 1];
	int64_t boot_time;
	uint64_t applied_generation; /* hello's; 0 (not sent) when none */
	uint32_t counters_interval; /* s between counters unasked, 1-3600 */
	struct psmsg_identity id; /* all empty when none is saved */
};

struct psmsg_state_msg {
	enum psmsg_state state;
	char host_id[PROTO_ID_MAX + 1]; /* "" when not known */
	char workspace_id[PROTO_ID_MAX + 1];
	char workspace[PROTO_WORKSPACE_MAX + 1];
	int64_t last_heartbeat; /* unix s of the last heartbeat_ack; 0: none */
	char last_error[PSMSG_ERROR_MAX + 1]; /* "" when none */
};

/* A decoded message: @type says which member holds it. */
struct psmsg {
	enum psmsg_type type;
	union {
		struct psmsg_start start;
		struct proto_heartbeat status;
		struct psmsg_identity identity;
		struct psmsg_state_msg state;
		/* desired, applied, counters: as the agent channel has them */
		struct proto_msg proto;
	};
};

const char *psmsg_state_name(enum psmsg_state s);
/* -1 when @s names no state. */
int psmsg_state_parse(const char *s);

/*
 * Each encoder writes a whole frame into @w: 0 with @frame/@len owned by
 * @w until its next use, or a negative errno (-EMSGSIZE past PSMSG_MAX).
 */
int psmsg_encode_start(struct wire_writer *w, const struct psmsg_start *m,
		       const char **frame, size_t *len);
int psmsg_encode_status_request(struct wire_writer *w, const char **frame,
				size_t *len);
/* @m's seq and time are written as 0 whatever they hold. */
int psmsg_encode_status(struct wire_writer *w, const struct proto_heartbeat *m,
			const char **frame, size_t *len);
int psmsg_encode_identity(struct wire_writer *w, const struct psmsg_identity *m,
			  const char **frame, size_t *len);
int psmsg_encode_state(struct wire_writer *w, const struct psmsg_state_msg *m,
		       const char **frame, size_t *len);
/* desired, applied, counters: @m as the agent channel has it. */
int psmsg_encode_proto(struct wire_writer *w, const struct proto_msg *m,
		       const char **frame, size_t *len);
int psmsg_encode_counters_request(struct wire_writer *w, const char **frame,
				  size_t *len);

/*
 * Decode one packet (length prefix included: a packet is a frame).
 * Returns 0, or -EBADMSG with @e saying what is wrong, or -ENOMEM.  @m
 * needs psmsg_free() either way; it wipes the key.
 */
int psmsg_decode(const void *packet, size_t len, struct psmsg *m,
		 struct wire_err *e);
void psmsg_free(struct psmsg *m);

/* Copies, for whoever keeps an identity past the message. */
int psmsg_identity_copy(struct psmsg_identity *dst,
			const struct psmsg_identity *src);
bool psmsg_identity_present(const struct psmsg_identity *id);
/* Wipes the key before freeing it. */
void psmsg_identity_free(struct psmsg_identity *id);

#endif /* MOAT_AGENT_PRIVSEP_MSG_H */
