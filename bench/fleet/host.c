// SPDX-License-Identifier: GPL-2.0-only
/*
 * One simulated host, as moatd would be on the wire: enroll on an
 * anonymous connection, then a mutual-TLS session with its own
 * certificate (tls_conn_set_cert() on the shared context), hello, and a
 * heartbeat every interval with +-10% jitter.  What moatd would do about
 * a lost session (reconnect with backoff) it does too, and counts it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "pki.h"

#define SEC 1000000000ull

static const struct tls_conn_ops enroll_ops, session_ops;
static void on_connected(struct loop *l, struct loop_op *op, int res);

void fleet_host_free(struct fleet_host *h)
{
	EVP_PKEY_free(h->key);
	X509_free(h->cert);
	free(h->csr);
	wire_inbuf_free(&h->in);
	h->key = NULL;
	h->cert = NULL;
	h->csr = NULL;
}

/* The host's setup is over, one way or the other: let the next start. */
static void setup_done(struct fleet_host *h)
{
	struct fleet *f = h->f;

	f->inflight--;
	f->finished++;
	fleet_pump(f);
}

static void drop_conn(struct fleet_host *h)
{
	if (h->tls)
		tls_conn_close(h->tls);
	h->tls = NULL;
	/* an idle host holds no receive buffer */
	wire_inbuf_free(&h->in);
}

static void fail(struct fleet_host *h, const char *what, const char *why)
{
	struct fleet *f = h->f;
	enum host_state was = h->state;

	if (f->phase > 2) {
		/* the run is over: whatever comes back now is not counted */
		drop_conn(h);
		h->state = H_DONE;
		return;
	}
	fleet_error(f, "host %u%s%s: %s: %s", h->idx, h->host_id[0] ? " " : "",
		    h->host_id, what, why);
	drop_conn(h);
	if (was == H_ENROLLING) {
		h->state = H_FAILED;
		setup_done(h);
		return;
	}
	if (was == H_CONNECTING)
		setup_done(h);
	/*
	 * A session that went, or could not be opened: again after moatd's
	 * backoff, 1 s doubling to 60 s, times [0.8, 1.2] (docs/protocol.md).
	 */
	f->c.reconnects++;
	if (was == H_ACTIVE)
		f->c.live--;
	if (h->sent_ns)
		f->c.lost++;
	h->sent_ns = 0;
	h->state = H_WAIT;
	h->backoff_s = h->backoff_s ? h->backoff_s * 2 : 1;
	if (h->backoff_s > 60)
		h->backoff_s = 60;
	fleet_sched(h,
		    fleet_now_ns() + (uint64_t)(h->backoff_s *
						fleet_rand(f, 0.8, 1.2) * SEC));
}

/* The loop does the TCP connect; TLS starts once it is done. */
static int start_connect(struct fleet_host *h)
{
	struct fleet *f = h->f;
	int fd = socket(f->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		return -errno;
	h->connect_op.data = h;
	ret = loop_connect(&f->loop, &h->connect_op, fd,
			   (const struct sockaddr *)&f->sa, f->salen,
			   on_connected);
	if (ret)
		close(fd);
	return ret;
}

void fleet_host_send(struct fleet_host *h, const char *what, int ret,
		     const char *frame, size_t len, struct wire_err *e)
{
	if (ret == 0)
		ret = tls_conn_write(h->tls, frame, len);
	if (ret)
		fail(h, what, ret == -EINVAL && e ? e->msg : strerror(-ret));
}

static void on_connected(struct loop *l, struct loop_op *op, int res)
{
	struct fleet_host *h = op->data;
	struct fleet *f = h->f;
	bool enrolling = h->state == H_ENROLLING;
	struct wire_err e;
	const char *frame;
	size_t len;
	int ret;

	if (res < 0) {
		close(op->fd);
		fail(h, "connect", strerror(-res));
		return;
	}
	ret = tls_conn_new(&h->tls, l, f->tls, op->fd, f->server_name,
			   enrolling ? &enroll_ops : &session_ops, h);
	if (ret == 0 && !enrolling)
		ret = tls_conn_set_cert(h->tls, h->cert, h->key);
	if (ret) {
		if (!h->tls)
			close(op->fd);
		fail(h, "TLS", strerror(-ret));
		return;
	}
	wire_inbuf_init(&h->in, WIRE_MAX_FRAME);
	if (enrolling) {
		struct proto_enroll m = { .csr = { h->csr, h->csr_len } };

		snprintf(m.token, sizeof(m.token), "%s", f->token);
		snprintf(m.hostname, sizeof(m.hostname), "fleet-%05u", h->idx);
		snprintf(m.machine_id, sizeof(m.machine_id), "%032x",
			 h->idx + 1);
		snprintf(m.agent_version, sizeof(m.agent_version), "%s",
			 MOAT_VERSION);
		ret = proto_encode_enroll(&f->w, &m, &frame, &len, &e);
		fleet_host_send(h, "enroll", ret, frame, len, &e);
	} else {
		/* applied_generation says that this host knows desired */
		struct proto_hello m = { .boot_time = 1795900000,
					 .has_applied_generation = true,
					 .applied_generation = h->applied_gen };

		snprintf(m.agent_version, sizeof(m.agent_version), "%s",
			 MOAT_VERSION);
		snprintf(m.hostname, sizeof(m.hostname), "fleet-%05u", h->idx);
		ret = proto_encode_hello(&f->w, &m, &frame, &len, &e);
		fleet_host_send(h, "hello", ret, frame, len, &e);
	}
}

static void begin(struct fleet_host *h, enum host_state st)
{
	int ret;

	h->state = st;
	h->f->inflight++;
	ret = start_connect(h);
	if (ret)
		fail(h, "socket", strerror(-ret));
}

void fleet_host_enroll(struct fleet_host *h)
{
	begin(h, H_ENROLLING);
}

void fleet_host_connect(struct fleet_host *h)
{
	begin(h, H_CONNECTING);
}

static void send_heartbeat(struct fleet_host *h)
{
	static const struct proto_iface ifaces[] = { { "eth0", "native" } };
	struct fleet *f = h->f;
	struct proto_heartbeat m = {
		.seq = h->seq + 1,
		.time = 1795900000 + (int64_t)(fleet_now_ns() / SEC),
		.uptime = 86400,
		.load = { 12, 30, 5 },
		.mem_total = 8ull << 30,
		.mem_available = 5ull << 30,
		.dataplane = { .instance = "default",
			       .generation = 3,
			       .ruleset_hash =
				       "e3b0c44298fc1c149afbf4c8996fb924"
				       "27ae41e4649b934ca495991b7852b855",
			       .ifaces = (struct proto_iface *)ifaces,
			       .nifaces = 1,
			       .ct_entries = 117,
			       .ct_max = 65536,
			       .state = PROTO_DP_ENFORCING },
	};
	struct wire_err e;
	const char *frame;
	size_t len;
	int ret;

	snprintf(m.agent_version, sizeof(m.agent_version), "%s", MOAT_VERSION);
	snprintf(m.kernel, sizeof(m.kernel), "6.18.44-fleet");
	if (h->applied_hash[0])
		memcpy(m.dataplane.ruleset_hash, h->applied_hash,
		       sizeof(h->applied_hash));
	ret = proto_encode_heartbeat(&f->w, &m, &frame, &len, &e);
	h->seq++;
	h->sent_ns = fleet_now_ns();
	f->c.sent++;
	fleet_host_send(h, "heartbeat", ret, frame, len, &e);
}

/* Every interval times a factor from [0.9, 1.1] (docs/protocol.md). */
static void next_heartbeat(struct fleet_host *h)
{
	struct fleet *f = h->f;

	fleet_sched(h,
		    fleet_now_ns() + (uint64_t)(f->o.interval *
						fleet_rand(f, 0.9, 1.1) * SEC));
}

void fleet_host_due(struct fleet_host *h)
{
	struct fleet *f = h->f;

	if (h->state == H_WAIT) {
		/* a reconnect is set up like the first session */
		f->finished--;
		begin(h, H_CONNECTING);
		return;
	}
	if (h->state != H_ACTIVE || f->ending)
		return;
	if (h->sent_ns) {
		/* the last one is still unanswered a whole interval on */
		f->c.late++;
		next_heartbeat(h);
		return;
	}
	send_heartbeat(h);
	if (h->state == H_ACTIVE)
		next_heartbeat(h);
}

static void on_ack(struct fleet_host *h, const struct proto_heartbeat_ack *a)
{
	struct fleet *f = h->f;
	uint64_t now = fleet_now_ns();

	if (!h->sent_ns || a->seq != h->seq) {
		fail(h, "heartbeat_ack", "a seq that was not asked for");
		return;
	}
	f->c.acked++;
	/* what was sent while sessions were still being set up is apart */
	fleet_lat_add(f->steady && h->sent_ns >= f->steady_ns ? &f->lat :
								&f->ramp,
		      now - h->sent_ns);
	h->sent_ns = 0;
}

static void on_msg(struct fleet_host *h, struct proto_msg *m)
{
	struct fleet *f = h->f;
	char why[PROTO_MSG_MAX + 64];

	switch (m->type) {
	case PROTO_ENROLLED:
		if (h->state != H_ENROLLING ||
		    pki_cert_from_der(m->enrolled.cert.p, m->enrolled.cert.n,
				      &h->cert)) {
			fail(h, "enrolled", "not a certificate, or not now");
			return;
		}
		snprintf(h->host_id, sizeof(h->host_id), "%s",
			 m->enrolled.host_id);
		drop_conn(h);
		h->state = H_ENROLLED;
		f->c.enrolled++;
		setup_done(h);
		return;
	case PROTO_WELCOME:
		if (h->state != H_CONNECTING) {
			fail(h, "welcome", "a second one");
			return;
		}
		h->state = H_ACTIVE;
		h->seq = 0;
		h->backoff_s = 0;
		f->c.live++;
		if (!h->welcomed)
			f->c.connected++;
		h->welcomed = true;
		setup_done(h);
		/* the first heartbeat right after welcome */
		if (!f->ending)
			send_heartbeat(h);
		if (h->state == H_ACTIVE)
			next_heartbeat(h);
		return;
	case PROTO_HEARTBEAT_ACK:
		if (h->state == H_ACTIVE)
			on_ack(h, &m->heartbeat_ack);
		else
			fail(h, "heartbeat_ack", "outside a session");
		return;
	case PROTO_DESIRED:
		if (h->state == H_ACTIVE)
			fleet_host_desired(h, &m->desired);
		else
			fail(h, "desired", "outside a session");
		return;
	case PROTO_COUNTERS_REQUEST:
		/*
		 * Not answered: a simulated host has no counters, and rows
		 * of zeros would only measure the store.  moatd answers.
		 */
		return;
	case PROTO_ERROR:
		snprintf(why, sizeof(why), "%s: %s",
			 proto_code_name(m->error.code), m->error.msg);
		fail(h, "the control plane said", why);
		return;
	default:
		fail(h, proto_type_name(m->type), "not a message for a host");
		return;
	}
}

static void on_data(struct tls_conn *c, const void *buf, size_t len, void *data)
{
	struct fleet_host *h = data;
	const char *p = buf, *payload;
	struct proto_msg m;
	struct wire_err e;
	size_t plen, room;
	void *space;
	int ret;

	while (len && h->tls == c) {
		if (wire_inbuf_space(&h->in, &space, &room)) {
			fail(h, "receive", "out of memory");
			return;
		}
		if (room > len)
			room = len;
		memcpy(space, p, room);
		wire_inbuf_commit(&h->in, room);
		p += room;
		len -= room;
		while (h->tls == c &&
		       (ret = wire_inbuf_frame(&h->in, &payload, &plen)) != 0) {
			if (ret < 0) {
				fail(h, "receive", "a frame over 1 MiB");
				return;
			}
			ret = proto_decode(payload, plen, &m, &e);
			if (ret)
				fail(h, "decode", e.msg);
			else
				on_msg(h, &m);
			proto_msg_free(&m);
		}
	}
	/* nothing half-received: hand the buffer back (10,000 of them) */
	if (h->tls == c && !wire_inbuf_pending(&h->in))
		wire_inbuf_free(&h->in);
}

static void on_closed(struct tls_conn *c, const char *err, void *data)
{
	struct fleet_host *h = data;

	h->tls = NULL;
	fail(h, "connection", err ? err : "closed by the control plane");
}

static const struct tls_conn_ops enroll_ops = {
	.data = on_data,
	.closed = on_closed,
};

static const struct tls_conn_ops session_ops = {
	.data = on_data,
	.closed = on_closed,
};
