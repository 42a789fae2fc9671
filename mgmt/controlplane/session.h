/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An agent connection of the control plane, shared by session.c (the
 * connection: TLS, frames, deadlines), session-msg.c (hello, heartbeat,
 * renew) and enroll.c.
 */
#ifndef MOAT_CP_SESSION_H
#define MOAT_CP_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "cp.h"
#include "wire.h"

enum cp_session_state {
	CP_S_HANDSHAKE,
	CP_S_ANON,   /* no client certificate: enroll, or nothing */
	CP_S_HELLO,  /* a host's certificate, accepted: hello next */
	CP_S_ACTIVE, /* heartbeats and renewals */
};

struct cp_session {
	struct cp *cp;
	struct cp_session *next, *prev; /* every session */
	struct cp_session *hnext;       /* same bucket of cp->by_host */
	bool hashed, done;
	struct tls_conn *tls;
	struct wire_inbuf in;
	struct wire_writer w;
	struct loop_op timer;
	enum cp_session_state state;
	char addr[TLS_ADDR_LEN];
	/* CP_S_HELLO on: from the certificate */
	char host_id[STORE_ID_LEN];
	char ws_id[STORE_ID_LEN];
	char actor[STORE_ID_LEN + 8]; /* "host:HOSTID" */
	int64_t cert_not_after;
	/* CLOCK_MONOTONIC seconds */
	uint64_t started, last_frame, frame_started, armed_for;
	uint64_t frames;
	bool knows_desired; /* its hello said applied_generation */
	bool counters_pending; /* counters_request sent, no counters since */
	/* session-push.c: waiting for its turn, or on its way */
	TAILQ_ENTRY(cp_session) push_link;
	bool push_queued; /* on cp->push_queue */
	bool push_always; /* even when the host has the generation (restore) */
	uint64_t push_applied; /* the generation its hello said it has */
	size_t push_sent; /* bytes of desired states the socket has not taken */
	uint64_t push_since; /* CLOCK_MONOTONIC s: the first of them was sent */
};

/* Queue a frame; on failure the session ends.  0 or -EPIPE. */
int cp_session_send(struct cp_session *s, const char *frame, size_t len);
/* Close after what was queued is sent; the session goes away. */
void cp_session_end(struct cp_session *s);
/* Log, send an error frame with @code, close. */
void cp_session_fail(struct cp_session *s, enum proto_code code,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Its deadline may now be earlier: the timer is re-armed if so. */
void cp_session_deadline_moved(struct cp_session *s);
/* Into the hash by host id, ending an older session of the same host. */
void cp_session_register(struct cp_session *s);

/* session-msg.c */
/* 0 when @cert is a host certificate the store accepts; else failed. */
int cp_session_check_cert(struct cp_session *s, X509 *cert);
void cp_session_hello(struct cp_session *s, const struct proto_hello *m);
void cp_session_heartbeat(struct cp_session *s,
			  const struct proto_heartbeat *m);
void cp_session_renew(struct cp_session *s, const struct proto_renew *m);

/* The live session of @host_id, or NULL. */
struct cp_session *cp_session_find(const struct cp *cp, const char *host_id);

/* session-desired.c */
/*
 * After welcome: the desired state, when the host's @applied is not its
 * generation (only for a host whose hello said its applied_generation).
 */
void cp_session_desired_after_hello(struct cp_session *s, uint64_t applied);
/*
 * The frame of @s's desired state, in cp->push_w: 1 with @frame/@len, 0
 * when there is nothing to send (the host has it: @s->push_applied and
 * not @s->push_always), or a negative errno (logged).
 */
int cp_session_desired_frame(struct cp_session *s, const char **frame,
			     size_t *len);
void cp_session_applied(struct cp_session *s, const struct proto_applied *m);

/* session-push.c */
/*
 * Send @s its desired state when the budget allows: @always, or only
 * when it is not @applied.  A session queued already keeps its place.
 */
void cp_push_queue(struct cp_session *s, bool always, uint64_t applied);
/* Its connection has sent all it was given: its bytes count no more. */
void cp_push_drained(struct cp_session *s);
/* The session ends: out of the queue, its bytes counted off. */
void cp_push_forget(struct cp_session *s);
void cp_session_counters(struct cp_session *s, const struct proto_counters *m);

/* enroll.c */
void cp_enroll(struct cp_session *s, const struct proto_enroll *m);
/*
 * Sign a host certificate for @pub with @ws_id's CA: DER into @der,
 * serial and not-after out.
 */
int cp_sign_host(struct cp *cp, const char *ws_id, const char *host_id,
		 EVP_PKEY *pub, unsigned char **der, size_t *len,
		 char serial[STORE_SERIAL_LEN], int64_t *not_after);

#endif /* MOAT_CP_SESSION_H */
