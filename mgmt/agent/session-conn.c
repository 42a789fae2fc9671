// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's client, as docs/protocol.md has it: connect, TLS
 * with the pinned CA, enroll with the token or hello with the host
 * certificate, heartbeats with jitter, renewal, and reconnects with
 * backoff.  What the parent must keep (the identity) goes to it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "pki.h"
#include "session.h"

#define NS 1000000000ull
#define CONNECT_NS (10 * NS) /* TCP and TLS together */
#define ANSWER_NS (30 * NS) /* enrolled, welcome */
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define BACKOFF_RESET_NS (60 * NS) /* a session this long resets it */
#define REFUSED_RETRY_NS (3600 * NS) /* a refused certificate, no token */

static void reconnect(struct session *s);

static void start_timer(struct session *s)
{
	conn_start(s);
}

/* Close this connection; @why for the log and moatctl status. */
static void drop(struct session *s, const char *why)
{
	uint64_t delay;

	if (s->conn)
		tls_conn_close(s->conn);
	s->conn = NULL;
	if (s->fd >= 0 && !loop_op_busy(&s->connect_op))
		close(s->fd);
	s->fd = -1;
	wire_inbuf_free(&s->in);
	wire_inbuf_init(&s->in, WIRE_MAX_FRAME);
	EVP_PKEY_free(s->new_key);
	s->new_key = NULL;
	s->renewing = false;
	if (s->welcome_ns && mono_ns() - s->welcome_ns >= BACKOFF_RESET_NS)
		s->backoff_ms = 0;
	s->welcome_ns = 0;
	s->phase = SP_IDLE;
	if (s->reconnect_now) {
		s->reconnect_now = false;
		session_arm(s, 1, start_timer);
		return;
	}
	if (s->st.state == PSMSG_REFUSED)
		return; /* whoever refused has armed what comes next */
	s->backoff_ms = !s->backoff_ms			   ? BACKOFF_MIN_MS :
			s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
							     s->backoff_ms * 2;
	delay = session_jitter(s->backoff_ms * 1000000ull, 20);
	if (why)
		log_warn("control plane %s: %s; again in %.1f s", s->cfg.host,
			 why, (double)delay / NS);
	session_state(s, PSMSG_BACKOFF, why);
	session_arm(s, delay, start_timer);
}

static int send_msg(struct session *s, const struct proto_msg *m)
{
	struct wire_err e = { { 0 } };
	const char *frame;
	size_t len;
	int ret = proto_encode(&s->w, m, &frame, &len, &e);

	if (ret < 0) {
		log_err("session: cannot encode %s: %s",
			proto_type_name(m->type),
			e.msg[0] ? e.msg : strerror(-ret));
		return ret;
	}
	return tls_conn_write(s->conn, frame, len);
}

int conn_send(struct session *s, const struct proto_msg *m)
{
	int ret = send_msg(s, m);

	if (ret < 0) {
		char why[96];

		snprintf(why, sizeof(why), "cannot send %s",
			 proto_type_name(m->type));
		drop(s, why);
	}
	return ret;
}

/* A new key and a CSR for it, for enroll and renew. */
static int new_csr(struct session *s, struct proto_blob *csr)
{
	size_t n = 0;
	int ret;

	EVP_PKEY_free(s->new_key);
	s->new_key = NULL;
	ret = pki_key_new(&s->new_key);
	if (!ret)
		ret = pki_csr_new(s->new_key, s->cfg.hostname, &csr->p, &n);
	csr->n = n;
	return ret;
}

static void send_enroll(struct session *s)
{
	struct proto_msg m = { .type = PROTO_ENROLL };
	int ret = new_csr(s, &m.enroll.csr);

	snprintf(m.enroll.token, sizeof(m.enroll.token), "%s", s->cfg.token);
	snprintf(m.enroll.hostname, sizeof(m.enroll.hostname), "%s",
		 s->cfg.hostname);
	snprintf(m.enroll.machine_id, sizeof(m.enroll.machine_id), "%s",
		 s->cfg.machine_id);
	snprintf(m.enroll.agent_version, sizeof(m.enroll.agent_version), "%s",
		 s->cfg.agent_version);
	if (!ret)
		ret = send_msg(s, &m);
	explicit_bzero(m.enroll.token, sizeof(m.enroll.token));
	free(m.enroll.csr.p);
	if (ret < 0)
		drop(s, "cannot send enroll");
	else
		session_state(s, PSMSG_ENROLLING, NULL);
}

static void send_hello(struct session *s)
{
	struct proto_msg m = { .type = PROTO_HELLO };

	snprintf(m.hello.agent_version, sizeof(m.hello.agent_version), "%s",
		 s->cfg.agent_version);
	snprintf(m.hello.hostname, sizeof(m.hello.hostname), "%s",
		 s->cfg.hostname);
	m.hello.boot_time = s->cfg.boot_time;
	/* said even when 0: this client understands desired */
	m.hello.has_applied_generation = true;
	m.hello.applied_generation = s->cfg.applied_generation;
	if (send_msg(s, &m) < 0)
		drop(s, "cannot send hello");
}

static void ask_status(struct session *s)
{
	const char *frame;
	size_t len;

	if (s->phase != SP_SESSION)
		return;
	/* the server silent for 3 intervals: the connection is dead */
	if (mono_ns() - s->last_rx_ns > 3ull * s->interval * NS) {
		drop(s,
		     "no frame from the control plane for 3 heartbeat intervals");
		return;
	}
	if (!s->status_asked &&
	    psmsg_encode_status_request(&s->ipc_w, &frame, &len) == 0) {
		s->status_asked = true;
		session_send_parent(s, frame, len);
	}
	session_arm(s, session_jitter((uint64_t)s->interval * NS, 10),
		    ask_status);
}

static void maybe_renew(struct session *s)
{
	struct proto_msg m = { .type = PROTO_RENEW };
	int ret;

	if (s->renewing || !s->renew_after ||
	    (int64_t)time(NULL) + s->clock_offset < s->renew_after)
		return;
	ret = new_csr(s, &m.renew.csr);
	if (!ret)
		ret = send_msg(s, &m);
	free(m.renew.csr.p);
	if (ret < 0) {
		log_err("session: cannot ask for a new certificate: %s",
			strerror(-ret));
		return;
	}
	s->renewing = true;
	log_info("renewing the host certificate (renew_after passed)");
}

/* The parent's answer to status_request: the heartbeat, nearly. */
void conn_status(struct session *s, const struct proto_heartbeat *hb)
{
	struct proto_msg m = { .type = PROTO_HEARTBEAT };

	s->status_asked = false;
	if (s->phase != SP_SESSION || !s->conn)
		return;
	memcpy(s->hash_in_force, hb->dataplane.ruleset_hash,
	       sizeof(s->hash_in_force));
	m.heartbeat = *hb;
	m.heartbeat.seq = ++s->seq;
	m.heartbeat.time = (int64_t)time(NULL);
	if (send_msg(s, &m) < 0)
		drop(s, "cannot send a heartbeat");
}

/* The key just used for a CSR, with @cert and @ca: the new identity. */
static int adopt(struct session *s, const struct proto_blob *cert,
		 const struct proto_blob *ca)
{
	struct psmsg_identity id = { .cert = *cert, .ca = *ca };
	const char *frame;
	char *pem = NULL;
	size_t len;
	int ret = pki_key_to_pem(s->new_key, &pem, &id.key.n);

	if (ret < 0)
		return ret;
	id.key.p = (uint8_t *)pem;
	/* copied: @ca may be the identity it replaces */
	ret = session_set_identity(s, &id);
	if (!ret)
		ret = psmsg_encode_identity(&s->ipc_w, &s->id, &frame, &len);
	if (!ret)
		session_send_parent(s, frame, len);
	explicit_bzero(pem, id.key.n);
	free(pem);
	EVP_PKEY_free(s->new_key);
	s->new_key = NULL;
	return ret;
}

static void on_error_frame(struct session *s, const struct proto_error *e)
{
	char why[PSMSG_ERROR_MAX + 1];

	snprintf(why, sizeof(why), "%s: %.200s",
		 e->code == PROTO_E_OTHER ? e->code_name :
					    proto_code_name(e->code),
		 e->msg);
	switch (e->code) {
	case PROTO_E_TOKEN_UNKNOWN:
	case PROTO_E_TOKEN_EXPIRED:
	case PROTO_E_TOKEN_REVOKED:
	case PROTO_E_TOKEN_EXHAUSTED:
		/* retrying cannot make the token better */
		s->token_dead = true;
		log_err("the control plane refused the install token (%s); not trying it again: give moatd a new token and restart it",
			why);
		session_state(s, PSMSG_REFUSED, why);
		break;
	case PROTO_E_HOST_REMOVED:
	case PROTO_E_CERT_REFUSED:
		if (s->cfg.token[0] && !s->token_dead) {
			log_err("the control plane refused this host's certificate (%s); enrolling again with the install token",
				why);
			session_forget_identity(s);
			break;
		}
		log_err("the control plane refused this host's certificate (%s); this host needs a new install token (install-token-file) to join again; trying the certificate again in an hour",
			why);
		session_state(s, PSMSG_REFUSED, why);
		session_arm(s, REFUSED_RETRY_NS, start_timer);
		break;
	default:
		log_warn("control plane error %s", why);
		snprintf(s->st.last_error, sizeof(s->st.last_error), "%s", why);
		break;
	}
	drop(s, s->st.state == PSMSG_REFUSED ? NULL : why);
}

static void on_msg(struct session *s, struct proto_msg *m)
{
	char why[160];

	if (m->type == PROTO_ERROR) {
		on_error_frame(s, &m->error);
		return;
	}
	if (s->enrolling && m->type == PROTO_ENROLLED) {
		if (adopt(s, &m->enrolled.cert, &m->enrolled.ca) < 0) {
			drop(s, "the enrolled answer does not hold together");
			return;
		}
		snprintf(s->st.host_id, sizeof(s->st.host_id), "%s",
			 m->enrolled.host_id);
		snprintf(s->st.workspace, sizeof(s->st.workspace), "%s",
			 m->enrolled.workspace);
		log_info("enrolled as host %s in workspace %s (%s)",
			 m->enrolled.host_id, m->enrolled.workspace,
			 m->enrolled.workspace_id);
		/* used: the token is not kept (a new one re-enrolls) */
		explicit_bzero(s->cfg.token, sizeof(s->cfg.token));
		/* the server closes; the certificate is used at once */
		s->reconnect_now = true;
		s->backoff_ms = 0;
		drop(s, NULL);
		return;
	}
	if (!s->enrolling && s->phase == SP_TLS && m->type == PROTO_WELCOME) {
		s->phase = SP_SESSION;
		s->welcome_ns = mono_ns();
		s->interval = m->welcome.heartbeat_interval;
		s->renew_after = m->welcome.renew_after;
		s->clock_offset = m->welcome.server_time - (int64_t)time(NULL);
		s->seq = 0;
		s->st.last_error[0] = '\0';
		snprintf(s->st.host_id, sizeof(s->st.host_id), "%s",
			 m->welcome.host_id);
		snprintf(s->st.workspace_id, sizeof(s->st.workspace_id), "%s",
			 m->welcome.workspace_id);
		log_info(
			"connected to the control plane %s as host %s; heartbeats every %u s",
			s->cfg.host, m->welcome.host_id, s->interval);
		session_state(s, PSMSG_CONNECTED, NULL);
		ask_status(s);
		if (s->conn)
			session_welcomed(s);
		return;
	}
	if (s->phase == SP_SESSION && m->type == PROTO_HEARTBEAT_ACK) {
		s->clock_offset =
			m->heartbeat_ack.server_time - (int64_t)time(NULL);
		s->st.last_heartbeat = (int64_t)time(NULL);
		session_state(s, PSMSG_CONNECTED, NULL);
		maybe_renew(s);
		return;
	}
	if (s->phase == SP_SESSION && s->renewing && m->type == PROTO_RENEWED) {
		s->renewing = false;
		s->renew_after = m->renewed.renew_after;
		if (adopt(s, &m->renewed.cert, &s->id.ca) < 0)
			log_err("the renewed certificate does not fit the new key; keeping the old one");
		else
			log_info("host certificate renewed, valid until %lld",
				 (long long)m->renewed.not_after);
		return;
	}
	if (s->phase == SP_SESSION && m->type == PROTO_DESIRED) {
		session_desired(s, &m->desired);
		return;
	}
	if (s->phase == SP_SESSION && m->type == PROTO_COUNTERS_REQUEST) {
		session_ask_counters(s);
		return;
	}
	snprintf(why, sizeof(why), "unexpected '%s' from the control plane",
		 proto_type_name(m->type));
	drop(s, why);
}

static void on_data(struct tls_conn *c, const void *buf, size_t len, void *data)
{
	struct session *s = data;
	const char *payload;
	struct wire_err e;
	struct proto_msg m;
	size_t n, plen;
	void *p;
	int ret;

	(void)c;
	s->last_rx_ns = mono_ns();
	while (len && s->conn) {
		if (wire_inbuf_space(&s->in, &p, &n) < 0) {
			drop(s, "out of memory");
			return;
		}
		n = n < len ? n : len;
		memcpy(p, buf, n);
		wire_inbuf_commit(&s->in, n);
		buf = (const char *)buf + n;
		len -= n;
		while (s->conn &&
		       (ret = wire_inbuf_frame(&s->in, &payload, &plen)) != 0) {
			if (ret < 0) {
				drop(s,
				     "a frame from the control plane is over 1 MiB");
				return;
			}
			memset(&m, 0, sizeof(m));
			ret = proto_decode(payload, plen, &m, &e);
			if (ret < 0) {
				const char *frame;
				size_t fl;
				char why[256];

				if (proto_error_frame(
					    &s->w, proto_decode_code(ret),
					    &frame, &fl, "%s", e.msg) == 0)
					tls_conn_write(s->conn, frame, fl);
				snprintf(why, sizeof(why), "bad frame: %s",
					 e.msg);
				proto_msg_free(&m);
				drop(s, why);
				return;
			}
			on_msg(s, &m);
			proto_msg_free(&m);
		}
	}
}

static void on_handshake(struct tls_conn *c, void *data)
{
	struct session *s = data;

	(void)c;
	s->last_rx_ns = mono_ns();
	/* the connect deadline becomes the answer's */
	session_arm(s, ANSWER_NS, reconnect);
}

static void on_closed(struct tls_conn *c, const char *err, void *data)
{
	struct session *s = data;
	char why[PSMSG_ERROR_MAX + 1];

	(void)c;
	s->conn = NULL;
	snprintf(why, sizeof(why), "%s",
		 err ? err : "the control plane closed the connection");
	drop(s, why);
}

static const struct tls_conn_ops conn_ops = {
	.handshake = on_handshake,
	.data = on_data,
	.closed = on_closed,
};

static void on_connected(struct loop *l, struct loop_op *op, int res)
{
	struct session *s = op->data;
	struct tls_config tc = { .pin = s->cfg.pin };
	struct tls_ctx *ctx = NULL;
	char why[160];
	int ret, fd = op->fd; /* s->fd is -1 once timed out */

	(void)l;
	if (s->phase != SP_CONNECTING) { /* timed out meanwhile */
		close(fd);
		return;
	}
	if (res < 0) {
		snprintf(why, sizeof(why), "connect to port %u: %s",
			 s->cfg.port, strerror(-res));
		drop(s, why);
		return;
	}
	s->enrolling = !s->have_id;
	if (s->have_id) {
		tc.cert = s->cert;
		tc.key = s->key;
	}
	ret = tls_ctx_new(&ctx, false, &tc);
	if (!ret)
		ret = tls_conn_new(&s->conn, &s->loop, ctx, fd, s->cfg.host,
				   &conn_ops, s);
	tls_ctx_free(ctx); /* the connection keeps a reference */
	if (ret < 0) {
		snprintf(why, sizeof(why), "cannot start TLS: %s",
			 strerror(-ret));
		drop(s, why);
		return;
	}
	s->fd = -1; /* the connection's now */
	s->phase = SP_TLS;
	/* written now, sent once the handshake is done */
	if (s->enrolling)
		send_enroll(s);
	else
		send_hello(s);
}

/* A deadline passed: connect, handshake or answer. */
static void reconnect(struct session *s)
{
	if (s->phase == SP_CONNECTING) {
		/* the connect op still holds the socket: it closes it */
		s->phase = SP_IDLE;
		loop_cancel(&s->loop, &s->connect_op);
		s->fd = -1;
		drop(s, "no connection within 10 s");
		return;
	}
	drop(s, "no answer from the control plane");
}

/*
 * A certificate past its notAfter fails every handshake: enroll with
 * the token when there is one, else say what is needed and look again
 * later (the clock may have been wrong).  True when not connecting now.
 */
static bool expired(struct session *s)
{
	const char *msg =
		"the host certificate has expired: this host needs a new install token (install-token-file) to join again";

	if (X509_cmp_current_time(X509_get0_notAfter(s->cert)) > 0)
		return false;
	if (s->cfg.token[0] && !s->token_dead) {
		log_warn(
			"the host certificate has expired; enrolling again with the install token");
		session_forget_identity(s);
		return false;
	}
	log_err("%s; looking again in an hour", msg);
	session_state(s, PSMSG_REFUSED, msg);
	session_arm(s, REFUSED_RETRY_NS, start_timer);
	return true;
}

void conn_start(struct session *s)
{
	char why[160];
	int ret;

	if (!s->have_id && (!s->cfg.token[0] || s->token_dead)) {
		const char *msg =
			s->token_dead ?
				"the install token was refused; a new one is needed" :
				"no identity and no install token (install-token-file) to enroll with";

		if (s->st.state != PSMSG_REFUSED ||
		    strcmp(s->st.last_error, msg))
			log_err("not joining the fleet: %s", msg);
		session_state(s, PSMSG_REFUSED, msg);
		return;
	}
	if (s->have_id && expired(s))
		return;
	s->phase = SP_CONNECTING;
	session_state(s, PSMSG_CONNECTING, NULL);
	s->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		drop(s, why);
		return;
	}
	ret = loop_connect(&s->loop, &s->connect_op, s->fd,
			   (const struct sockaddr *)&s->addr, s->addrlen,
			   on_connected);
	if (ret < 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(-ret));
		drop(s, why);
		return;
	}
	session_arm(s, CONNECT_NS, reconnect);
}
