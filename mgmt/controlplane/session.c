// SPDX-License-Identifier: GPL-2.0-only
/*
 * One agent connection (docs/protocol.md).  Without a client certificate
 * the only thing a peer may do is enroll; with one that the workspace's
 * CA signed and the store still accepts, it says hello, then heartbeats
 * and renews.  Anything else, or a frame that does not decode, gets an
 * error frame and the connection is closed; the process serves on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cp.h"
#include "log.h"
#include "pki.h"
#include "session.h"

#define SEC 1000000000ull
/* the handshake and the first frame; and a frame once begun */
#define FIRST_FRAME_S 10
#define FRAME_S 10

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* ---- who is connected: a list, and a hash by host id ---- */

static unsigned bucket(const char *host_id)
{
	uint32_t h = 2166136261u;

	for (const char *p = host_id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % CP_SESSION_BUCKETS;
}

static void unhash(struct cp_session *s)
{
	struct cp_session **pp;

	if (!s->hashed)
		return;
	for (pp = &s->cp->by_host[bucket(s->host_id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	s->hashed = false;
}

static struct cp_session *find(const struct cp *cp, const char *host_id)
{
	struct cp_session *s = cp->by_host[bucket(host_id)];

	while (s && strcmp(s->host_id, host_id))
		s = s->hnext;
	return s;
}

struct cp_session *cp_session_find(const struct cp *cp, const char *host_id)
{
	return find(cp, host_id);
}

bool cp_session_connected(const struct cp *cp, const char *host_id)
{
	return find(cp, host_id) != NULL;
}

static void release(struct cp_session *s)
{
	struct cp *cp = s->cp;

	unhash(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		cp->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	cp->nsessions--;
	cp_push_forget(s);
	wire_inbuf_free(&s->in);
	wire_writer_free(&s->w);
	free(s);
}

/* The timer may still be in flight: the session goes when it is back. */
static void maybe_release(struct cp_session *s)
{
	if (s->done && !loop_op_busy(&s->timer))
		release(s);
}

void cp_session_end(struct cp_session *s)
{
	if (s->done)
		return;
	s->done = true;
	/* what it had still to send goes on, but no longer counts */
	cp_push_forget(s);
	if (s->tls)
		tls_conn_close(s->tls);
	s->tls = NULL;
	loop_cancel(&s->cp->loop, &s->timer);
	maybe_release(s);
}

int cp_session_send(struct cp_session *s, const char *frame, size_t len)
{
	int ret;

	if (s->done)
		return -EPIPE;
	ret = tls_conn_write(s->tls, frame, len);
	if (ret)
		cp_session_end(s);
	return ret;
}

void cp_session_fail(struct cp_session *s, enum proto_code code,
		     const char *fmt, ...)
{
	char msg[PROTO_MSG_MAX + 1];
	const char *frame;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("%s%s%s: %s: %s", s->addr, s->host_id[0] ? " host " : "",
		 s->host_id, proto_code_name(code), msg);
	if (!s->done &&
	    proto_error_frame(&s->w, code, &frame, &len, "%s", msg) == 0)
		cp_session_send(s, frame, len);
	cp_session_end(s);
}

/* ---- deadlines ---- */

static void on_timer(struct loop *l, struct loop_op *op, int res);

/* By when the socket must have taken the desired state on its way. */
static uint64_t push_deadline(const struct cp_session *s)
{
	return s->push_since + s->cp->opt.desired_timeout;
}

static bool push_overdue(const struct cp_session *s, uint64_t now)
{
	return s->push_sent && now >= push_deadline(s);
}

/*
 * When the next check is due: one timer a session, re-armed as it goes.
 * A desired state on its way has a deadline too (--desired-timeout).
 */
static uint64_t next_deadline(const struct cp_session *s)
{
	uint64_t at;

	if (s->state == CP_S_HANDSHAKE || !s->frames)
		return s->started + FIRST_FRAME_S;
	if (wire_inbuf_pending(&s->in))
		at = s->frame_started + FRAME_S;
	else
		at = s->last_frame + 3ull * s->cp->opt.heartbeat_interval;
	if (s->push_sent && push_deadline(s) < at)
		at = push_deadline(s);
	return at;
}

static void arm(struct cp_session *s)
{
	uint64_t now = mono_s(), at = next_deadline(s);

	s->armed_for = at;
	if (loop_timeout(&s->cp->loop, &s->timer,
			 (at > now ? at - now : 0) * SEC + SEC / 2, on_timer))
		cp_session_end(s);
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct cp_session *s = op->data;
	uint64_t now = mono_s();

	if (s->done) {
		maybe_release(s);
		return;
	}
	if (res != -ECANCELED && now >= next_deadline(s)) {
		if (s->state == CP_S_HANDSHAKE || !s->frames)
			cp_session_fail(s, PROTO_E_BAD_FRAME,
					"nothing received in %d s", FIRST_FRAME_S);
		else if (push_overdue(s, now))
			cp_session_fail(
				s, PROTO_E_UNEXPECTED,
				"%zu bytes of desired state not taken in %u s",
				s->push_sent, s->cp->opt.desired_timeout);
		else if (wire_inbuf_pending(&s->in))
			cp_session_fail(s, PROTO_E_BAD_FRAME,
					"a frame was begun and not finished in %d s",
					FRAME_S);
		else
			cp_session_fail(s, PROTO_E_UNEXPECTED,
					"no heartbeat for %u s",
					3 * s->cp->opt.heartbeat_interval);
		return;
	}
	arm(s);
}

/*
 * The deadline may have moved earlier (a frame was begun; a desired
 * state was sent, and the heartbeat deadline is further off): re-arm
 * sooner.
 */
void cp_session_deadline_moved(struct cp_session *s)
{
	if (next_deadline(s) < s->armed_for && loop_op_busy(&s->timer))
		loop_cancel(&s->cp->loop, &s->timer);
}

/* ---- TLS ---- */

static void on_handshake(struct tls_conn *c, void *data)
{
	struct cp_session *s = data;
	X509 *cert = tls_conn_peer_cert(c);

	if (!cert) {
		s->state = CP_S_ANON;
		return;
	}
	if (cp_session_check_cert(s, cert) == 0)
		s->state = CP_S_HELLO;
}

static void on_frame(struct cp_session *s, const char *payload, size_t len)
{
	struct proto_msg m;
	struct wire_err e;
	int ret;

	ret = proto_decode(payload, len, &m, &e);
	if (ret) {
		cp_session_fail(s, proto_decode_code(ret), "%s", e.msg);
		proto_msg_free(&m);
		return;
	}
	s->frames++;
	s->last_frame = mono_s();
	switch (s->state) {
	case CP_S_ANON:
		if (m.type == PROTO_ENROLL) {
			cp_enroll(s, &m.enroll);
			break;
		}
		cp_session_fail(s, PROTO_E_UNEXPECTED,
				"%s without a client certificate: only enroll is valid",
				proto_type_name(m.type));
		break;
	case CP_S_HELLO:
		if (m.type == PROTO_HELLO) {
			cp_session_hello(s, &m.hello);
			break;
		}
		cp_session_fail(s, PROTO_E_UNEXPECTED,
				"%s before hello", proto_type_name(m.type));
		break;
	case CP_S_ACTIVE:
		if (m.type == PROTO_HEARTBEAT)
			cp_session_heartbeat(s, &m.heartbeat);
		else if (m.type == PROTO_RENEW)
			cp_session_renew(s, &m.renew);
		else if (m.type == PROTO_APPLIED)
			cp_session_applied(s, &m.applied);
		else if (m.type == PROTO_COUNTERS)
			cp_session_counters(s, &m.counters);
		else if (m.type == PROTO_ERROR)
			cp_session_fail(s, PROTO_E_UNEXPECTED,
					"the host said %s: %s",
					proto_code_name(m.error.code),
					m.error.msg);
		else
			cp_session_fail(s, PROTO_E_UNEXPECTED,
					"%s is not a message of a session",
					proto_type_name(m.type));
		break;
	default:
		cp_session_fail(s, PROTO_E_UNEXPECTED, "%s after the session ended",
				proto_type_name(m.type));
		break;
	}
	proto_msg_free(&m);
}

static void on_data(struct tls_conn *c, const void *buf, size_t len,
		    void *data)
{
	struct cp_session *s = data;
	const char *p = buf, *payload;
	size_t plen, room;
	bool had = wire_inbuf_pending(&s->in) != 0;
	void *space;
	int ret;

	while (len && !s->done) {
		if (wire_inbuf_space(&s->in, &space, &room)) {
			cp_session_fail(s, PROTO_E_INTERNAL, "out of memory");
			return;
		}
		if (room > len)
			room = len;
		memcpy(space, p, room);
		wire_inbuf_commit(&s->in, room);
		p += room;
		len -= room;
		while (!s->done &&
		       (ret = wire_inbuf_frame(&s->in, &payload, &plen)) != 0) {
			if (ret < 0) {
				cp_session_fail(s, PROTO_E_BAD_FRAME,
						"a frame longer than %u bytes",
						WIRE_MAX_FRAME);
				return;
			}
			on_frame(s, payload, plen);
		}
	}
	if (!s->done && !had && wire_inbuf_pending(&s->in)) {
		s->frame_started = mono_s();
		cp_session_deadline_moved(s);
	}
	/*
	 * An idle session keeps no frame buffer: 16 KiB of a session's 43
	 * with 10,000 hosts (docs/performance.md), for a malloc a frame.
	 */
	if (!s->done && !wire_inbuf_pending(&s->in))
		wire_inbuf_free(&s->in);
}

static void on_closed(struct tls_conn *c, const char *err, void *data)
{
	struct cp_session *s = data;

	if (err)
		log_info("%s%s%s: %s", s->addr, s->host_id[0] ? " host " : "",
			 s->host_id, err);
	else if (s->host_id[0])
		log_debug("%s host %s: closed", s->addr, s->host_id);
	s->tls = NULL; /* it goes away after this */
	cp_session_end(s);
}

static void on_drained(struct tls_conn *c, void *data)
{
	(void)c;
	cp_push_drained(data);
}

static const struct tls_conn_ops conn_ops = {
	.handshake = on_handshake,
	.data = on_data,
	.closed = on_closed,
	.drained = on_drained,
};

void cp_session_accept(struct cp *cp, int fd)
{
	struct cp_session *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return;
	}
	s->cp = cp;
	s->started = mono_s();
	s->state = CP_S_HANDSHAKE;
	s->timer.data = s;
	tls_peer_addr(fd, s->addr);
	wire_inbuf_init(&s->in, WIRE_MAX_FRAME);
	wire_writer_init(&s->w);
	s->next = cp->sessions;
	if (s->next)
		s->next->prev = s;
	cp->sessions = s;
	cp->nsessions++;
	if (tls_conn_new(&s->tls, &cp->loop, cp->agent_tls, fd, NULL,
			 &conn_ops, s)) {
		close(fd);
		s->tls = NULL;
		s->done = true;
		release(s);
		return;
	}
	arm(s);
}

/* A session has said who it is: one session per host, the newest. */
void cp_session_register(struct cp_session *s)
{
	struct cp_session *old = find(s->cp, s->host_id);

	if (old && old != s)
		cp_session_fail(old, PROTO_E_UNEXPECTED,
				"replaced by a newer session of the same host from %s",
				s->addr);
	s->hnext = s->cp->by_host[bucket(s->host_id)];
	s->cp->by_host[bucket(s->host_id)] = s;
	s->hashed = true;
}

void cp_session_end_host(struct cp *cp, const char *host_id,
			 enum proto_code code, const char *msg)
{
	struct cp_session *s;

	while ((s = find(cp, host_id)) != NULL) {
		unhash(s);
		cp_session_fail(s, code, "%s", msg);
	}
}

void cp_session_close_all(struct cp *cp)
{
	struct cp_session *s, *next;

	for (s = cp->sessions; s; s = next) {
		next = s->next;
		cp_session_fail(s, PROTO_E_SHUTTING_DOWN,
				"the control plane is stopping");
	}
}
