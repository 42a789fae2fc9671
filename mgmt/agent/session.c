// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session process: becomes its user, reads the parent's start
 * message, resolves the control plane, warms OpenSSL up, restricts its
 * ring and seccomps itself, all before the first byte from the network.
 * Then the loop: the parent's packets here, the channel in
 * session-conn.c.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "identity.h"
#include "log.h"
#include "pki.h"
#include "privsep.h"
#include "session.h"

static void ipc_failed(struct pktq *q, int err)
{
	(void)q;
	log_err("session: cannot write to moatd: %s", strerror(-err));
	exit(1);
}

void session_send_parent(struct session *s, const char *frame, size_t len)
{
	if (pktq_push(&s->out, frame, len) < 0) {
		log_err("session: out of memory");
		exit(1);
	}
}

void session_state(struct session *s, enum psmsg_state st, const char *err)
{
	const char *frame;
	size_t len;

	s->st.state = st;
	if (err)
		snprintf(s->st.last_error, sizeof(s->st.last_error), "%s", err);
	if (psmsg_encode_state(&s->ipc_w, &s->st, &frame, &len) == 0)
		session_send_parent(s, frame, len);
}

uint64_t session_jitter(uint64_t ns, unsigned pct)
{
	uint32_t r = 0;

	RAND_bytes((unsigned char *)&r, sizeof(r));
	/* a factor in [1 - pct/100, 1 + pct/100], in 1/10000ths */
	uint64_t f = 10000 - pct * 100 + (uint64_t)r % (pct * 200 + 1);

	return ns / 10000 * f;
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct session *s = op->data;
	uint64_t now = mono_ns();
	void (*fn)(struct session *) = s->on_due;

	(void)res;
	if (!s->due)
		return;
	if (now < s->due) {
		/* cancelled to move the deadline, or early: wait the rest */
		loop_timeout(l, op, s->due - now, on_timer);
		return;
	}
	s->due = 0;
	fn(s);
}

void session_arm(struct session *s, uint64_t ns, void (*fn)(struct session *))
{
	bool later = s->due && mono_ns() + ns > s->due;

	s->due = mono_ns() + ns;
	s->on_due = fn;
	if (!fn) {
		s->due = 0;
		return;
	}
	if (!loop_op_busy(&s->timer)) {
		loop_timeout(&s->loop, &s->timer, ns, on_timer);
		return;
	}
	/* a timer that fires later than needed is cut short; earlier is fine */
	if (!later)
		loop_cancel(&s->loop, &s->timer);
}

void session_forget_identity(struct session *s)
{
	s->have_id = false;
	psmsg_identity_free(&s->id);
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	s->key = NULL;
	s->cert = NULL;
}

/* The workspace's name from its CA: "moat workspace NAME". */
static void workspace_name(struct session *s)
{
	static const char pre[] = "moat workspace ";
	X509 *ca = NULL;
	char cn[128];

	if (pki_cert_from_der(s->id.ca.p, s->id.ca.n, &ca) < 0)
		return;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName,
				      cn, sizeof(cn)) > 0 &&
	    !strncmp(cn, pre, sizeof(pre) - 1))
		snprintf(s->st.workspace, sizeof(s->st.workspace), "%.*s",
			 (int)sizeof(s->st.workspace) - 1,
			 cn + sizeof(pre) - 1);
	X509_free(ca);
}

int session_set_identity(struct session *s, const struct psmsg_identity *id)
{
	struct identity_names nm;
	struct psmsg_identity copy;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char why[160];

	/* what the parent will check too: it must not refuse what we use */
	if (identity_check(id, &nm, why, sizeof(why)) < 0) {
		log_err("session: the identity does not hold together: %s",
			why);
		return -EBADMSG;
	}
	if (psmsg_identity_copy(&copy, id) < 0)
		return -ENOMEM;
	if (pki_key_from_pem((const char *)copy.key.p, copy.key.n, &key) < 0 ||
	    pki_cert_from_der(copy.cert.p, copy.cert.n, &cert) < 0) {
		EVP_PKEY_free(key);
		psmsg_identity_free(&copy);
		return -EBADMSG;
	}
	session_forget_identity(s);
	s->id = copy;
	s->key = key;
	s->cert = cert;
	s->have_id = true;
	memcpy(s->st.workspace_id, nm.workspace_id, sizeof(nm.workspace_id));
	memcpy(s->st.host_id, nm.host_id, sizeof(nm.host_id));
	workspace_name(s);
	return 0;
}

static void on_ipc(struct loop *l, struct loop_op *op, int res)
{
	struct session *s = op->data;
	struct wire_err e;
	struct psmsg m;

	if (res <= 0) {
		/* the parent is gone or restarting us: nothing to do alone */
		if (res < 0)
			log_err("session: reading from moatd: %s",
				strerror(-res));
		exit(res < 0 ? 1 : 0);
	}
	if (psmsg_decode(s->ipc_buf, (size_t)res, &m, &e) < 0) {
		log_err("session: bad packet from moatd: %s", e.msg);
		exit(1);
	}
	if (m.type == PSMSG_STATUS)
		conn_status(s, &m.status);
	else if (m.type == PSMSG_APPLIED)
		session_applied(s, &m.proto.applied);
	else if (m.type == PSMSG_COUNTERS)
		session_counters(s, &m.proto.counters);
	else
		log_warn("session: unexpected packet from moatd");
	psmsg_free(&m);
	if (loop_recv(l, op, s->ipc_fd, s->ipc_buf, sizeof(s->ipc_buf),
		      on_ipc) < 0)
		exit(1);
}

/* The start message, read before the loop exists. */
static int read_start(struct session *s)
{
	struct wire_err e;
	struct psmsg m;
	ssize_t n;
	int ret;

	do {
		n = recv(s->ipc_fd, s->ipc_buf, sizeof(s->ipc_buf), 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	ret = psmsg_decode(s->ipc_buf, (size_t)n, &m, &e);
	explicit_bzero(s->ipc_buf, (size_t)n); /* the token, the key */
	if (ret == 0 && m.type != PSMSG_START)
		ret = wire_errf(&e, "the first packet is not start");
	if (ret < 0) {
		log_err("session: bad start from moatd: %s", e.msg);
		psmsg_free(&m);
		return ret;
	}
	s->cfg = m.start;
	memset(&s->cfg.id, 0, sizeof(s->cfg.id));
	if (psmsg_identity_present(&m.start.id) &&
	    session_set_identity(s, &m.start.id) < 0)
		log_warn(
			"session: the saved identity does not load; enrolling anew");
	psmsg_free(&m);
	return 0;
}

/* Once per process: a new address is picked up by a restart. */
static int resolve(struct session *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char port[8];
	int ret;

	snprintf(port, sizeof(port), "%u", s->cfg.port);
	ret = getaddrinfo(s->cfg.host, port, &hints, &res);
	if (ret) {
		log_err("session: cannot resolve the control plane '%s': %s",
			s->cfg.host, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * OpenSSL reads its configuration and loads its providers on first use;
 * under seccomp those opens would kill us.  Do each thing once now.
 */
static int warm_up(struct session *s)
{
	struct tls_config c = { .pin = s->cfg.pin };
	struct tls_ctx *ctx = NULL;
	unsigned char *csr = NULL;
	EVP_PKEY *key = NULL;
	size_t n;
	int ret;

	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	/* certificate times go through glibc's time zone: /etc/localtime */
	tzset();
	ret = pki_key_new(&key);
	if (!ret)
		ret = pki_csr_new(key, "moat", &csr, &n);
	if (!ret)
		ret = tls_ctx_new(&ctx, false, &c);
	free(csr);
	EVP_PKEY_free(key);
	tls_ctx_free(ctx);
	return ret;
}

/* What the ring may do: the loop's waits, sends, receives and connects. */
static const uint8_t ring_ops[] = {
	IORING_OP_POLL_ADD, IORING_OP_SEND,	      IORING_OP_RECV,
	IORING_OP_TIMEOUT,  IORING_OP_TIMEOUT_REMOVE, IORING_OP_ASYNC_CANCEL,
	IORING_OP_CONNECT,
};

static int setup(struct session *s, uid_t uid, gid_t gid)
{
	int ret = privsep_drop(uid, gid);

	if (ret < 0) {
		log_err("session: cannot become uid %u gid %u: %s",
			(unsigned)uid, (unsigned)gid, strerror(-ret));
		return ret;
	}
	ret = read_start(s);
	if (!ret)
		ret = resolve(s);
	if (ret < 0)
		return ret;
	ret = warm_up(s);
	if (ret < 0) {
		log_err("session: cannot set TLS up: %s", strerror(-ret));
		return ret;
	}
	ret = loop_init_restricted(&s->loop, 64, ring_ops, sizeof(ring_ops));
	if (ret < 0) {
		log_err("session: cannot set up a restricted io_uring: %s",
			strerror(-ret));
		return ret;
	}
	ret = privsep_seccomp(PRIVSEP_SESSION);
	if (ret < 0)
		log_err("session: cannot load the seccomp filter: %s",
			strerror(-ret));
	return ret;
}

int session_main(int fd, uid_t uid, gid_t gid, bool debug)
{
	static struct session s; /* large: the packet buffer */
	int ret;

	log_init("moatd-session", debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	s.ipc_fd = fd;
	s.fd = -1;
	s.ipc_rx.data = s.timer.data = s.connect_op.data = &s;
	s.counters_timer.data = &s;
	wire_writer_init(&s.w);
	wire_writer_init(&s.ipc_w);
	wire_inbuf_init(&s.in, WIRE_MAX_FRAME);
	ret = setup(&s, uid, gid);
	if (ret < 0)
		exit(3);
	pktq_init(&s.out, &s.loop, fd, ipc_failed, &s);
	log_debug("session: uid %u, seccomp on, control plane %s port %u",
		  (unsigned)uid, s.cfg.host, s.cfg.port);
	if (loop_recv(&s.loop, &s.ipc_rx, fd, s.ipc_buf, sizeof(s.ipc_buf),
		      on_ipc) < 0)
		exit(1);
	conn_start(&s);
	ret = loop_run(&s.loop);
	log_err("session: event loop: %s", strerror(-ret));
	exit(1);
}
