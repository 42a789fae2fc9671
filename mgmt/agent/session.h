/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd's session process: the agent channel's client (docs/protocol.md),
 * unprivileged and under seccomp (privsep.h).  session.c sets the process
 * up and speaks to the parent; session-conn.c is the channel itself.
 */
#ifndef MOAT_AGENT_SESSION_H
#define MOAT_AGENT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "loop.h"
#include "pktq.h"
#include "privsep-msg.h"
#include "tls.h"
#include "wire.h"

enum session_phase {
	SP_IDLE, /* waiting: backoff, or refused */
	SP_CONNECTING, /* TCP connect in flight */
	SP_TLS, /* handshake, then enroll or hello sent */
	SP_SESSION, /* welcome received */
};

struct session {
	struct loop loop;
	int ipc_fd;
	struct loop_op ipc_rx;
	struct pktq out; /* to the parent */
	char ipc_buf[PSMSG_MAX];

	struct psmsg_start cfg; /* what the parent said; the token included */
	bool token_dead; /* the control plane refused the token for good */
	struct sockaddr_storage addr;
	socklen_t addrlen;

	/* the identity, in memory; have_id false when there is none */
	bool have_id;
	struct psmsg_identity id;
	EVP_PKEY *key;
	X509 *cert;
	EVP_PKEY *new_key; /* enroll's or renew's, until answered */

	enum session_phase phase;
	int fd; /* while connecting */
	struct loop_op connect_op;
	struct tls_conn *conn;
	struct wire_inbuf in;
	struct wire_writer w, ipc_w;
	bool enrolling; /* this connection is anonymous */
	bool reconnect_now; /* after enrolled: no backoff */

	/* one timer for every deadline; @due 0 when none */
	struct loop_op timer;
	uint64_t due; /* CLOCK_MONOTONIC ns */
	void (*on_due)(struct session *s);

	uint64_t backoff_ms;
	uint64_t welcome_ns, last_rx_ns;
	uint32_t interval; /* s */
	uint64_t seq;
	int64_t renew_after, clock_offset; /* server's clock - ours */
	bool renewing, status_asked;

	struct psmsg_state_msg st; /* what the parent shows */

	/* declared configuration (session-desired.c) */
	struct loop_op counters_timer;
	char hash_in_force[PROTO_HASH_LEN + 1]; /* as the parent said last */
	bool drift;
	bool pending_applied; /* @pending not yet sent */
	struct proto_applied pending;
};

/* main.c: "--session-fd N --uid U --gid G": never returns. */
int session_main(int fd, uid_t uid, gid_t gid, bool debug);

/* session.c, for session-conn.c */
void session_send_parent(struct session *s, const char *frame, size_t len);
void session_state(struct session *s, enum psmsg_state st, const char *err);
void session_arm(struct session *s, uint64_t ns, void (*fn)(struct session *));
/* A factor from [1 - @pct/100, 1 + @pct/100] applied to @ns. */
uint64_t session_jitter(uint64_t ns, unsigned pct);
/* Adopt @id (copied) as the identity in memory; 0 or -EBADMSG. */
int session_set_identity(struct session *s, const struct psmsg_identity *id);
void session_forget_identity(struct session *s);

/* session-conn.c */
void conn_start(struct session *s); /* connect now */
void conn_status(struct session *s, const struct proto_heartbeat *hb);
/* Send @m on the session: 0, or the connection is being dropped. */
int conn_send(struct session *s, const struct proto_msg *m);

/* session-desired.c */
void session_desired(struct session *s, const struct proto_desired *m);
void session_applied(struct session *s, const struct proto_applied *a);
void session_ask_counters(struct session *s);
void session_counters(struct session *s, const struct proto_counters *c);
/* welcome received: what waited for it, and the counters' timer */
void session_welcomed(struct session *s);

#endif /* MOAT_AGENT_SESSION_H */
