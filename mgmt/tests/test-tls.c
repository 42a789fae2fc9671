// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS over the loop: both ends in this process, over loopback TCP, real
 * certificates.  Data both ways, mutual TLS, pinning, names, refusals,
 * and what a connection keeps of a large write once it is sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "tls-priv.h" /* what a connection holds */

#define DAY 86400
#define BIG (3u << 20) /* many records, many partial sends */

/* Made once: keys are quick, but not free. */
static struct {
	EVP_PKEY *srv_ca_key, *srv_key, *ws_key, *other_key, *host_key;
	X509 *srv_ca, *srv, *ws_ca, *other_ca, *host, *stranger;
	char srv_ca_fp[PKI_FP_LEN], ws_ca_fp[PKI_FP_LEN];
	X509_STORE *client_cas;
} pk;

static int make_certs(void **state)
{
	const char *names[] = { "localhost", "127.0.0.1", "::1" };
	char serial[PKI_SERIAL_LEN];

	(void)state;
	if (pki_key_new(&pk.srv_ca_key) || pki_key_new(&pk.srv_key) ||
	    pki_key_new(&pk.ws_key) || pki_key_new(&pk.other_key) ||
	    pki_key_new(&pk.host_key))
		return -1;
	if (pki_ca_new(pk.srv_ca_key, "moat control plane CA default", NULL,
		       3650ll * DAY, &pk.srv_ca) ||
	    pki_sign_server(pk.srv_ca, pk.srv_ca_key, pk.srv_key,
			    "moat-controlplane", names, 3, 365ll * DAY,
			    &pk.srv) ||
	    pki_ca_new(pk.ws_key, "moat workspace prod", "moat:workspace:wprod",
		       3650ll * DAY, &pk.ws_ca) ||
	    pki_ca_new(pk.other_key, "moat workspace other", NULL, 3650ll * DAY,
		       &pk.other_ca) ||
	    pki_sign_host(pk.ws_ca, pk.ws_key, pk.host_key, "wprod", "hweb1",
			  DAY, &pk.host, serial) ||
	    pki_sign_host(pk.other_ca, pk.other_key, pk.host_key, "wprod",
			  "hweb1", DAY, &pk.stranger, serial))
		return -1;
	if (pki_fingerprint(pk.srv_ca, pk.srv_ca_fp) ||
	    pki_fingerprint(pk.ws_ca, pk.ws_ca_fp))
		return -1;
	pk.client_cas = X509_STORE_new();
	if (!pk.client_cas || !X509_STORE_add_cert(pk.client_cas, pk.ws_ca))
		return -1;
	return 0;
}

static int free_certs(void **state)
{
	(void)state;
	X509_STORE_free(pk.client_cas);
	X509_free(pk.srv_ca);
	X509_free(pk.srv);
	X509_free(pk.ws_ca);
	X509_free(pk.other_ca);
	X509_free(pk.host);
	X509_free(pk.stranger);
	EVP_PKEY_free(pk.srv_ca_key);
	EVP_PKEY_free(pk.srv_key);
	EVP_PKEY_free(pk.ws_key);
	EVP_PKEY_free(pk.other_key);
	EVP_PKEY_free(pk.host_key);
	return 0;
}

/* One end of a connection, as its owner sees it. */
struct peer {
	struct test *t;
	struct tls_conn *c;
	int handshakes;
	char *in;
	size_t in_len, want;
	bool closed, close_when_done, close_after_reply;
	char err[256]; /* "" for a clean close */
	char peer_cn[64];
	const void *reply; /* written once the handshake is done */
	size_t reply_len;
	bool wait_drained; /* the reply sent in full is an outcome too */
	int drained; /* since the reply was written */
};

/* An expected name the server's certificate does not have. */
struct name_case {
	const char *name;
	const char *err;
};

struct test {
	struct loop l;
	struct loop_op guard;
	int lfd;
	struct sockaddr_in addr;
	int pending; /* peers whose outcome is not known yet */
	struct peer srv, cli;
	struct tls_ctx *sctx, *cctx;
	const struct name_case *name;
};

static void outcome(struct peer *p)
{
	if (--p->t->pending == 0)
		loop_stop(&p->t->l, 1);
}

static void on_handshake(struct tls_conn *c, void *data)
{
	struct peer *p = data;
	X509 *cert = tls_conn_peer_cert(c);

	p->handshakes++;
	if (cert)
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					  NID_commonName, p->peer_cn,
					  sizeof(p->peer_cn));
	if (p->reply_len)
		assert_int_equal(tls_conn_write(c, p->reply, p->reply_len), 0);
	if (p->close_after_reply) {
		tls_conn_close(c);
		p->c = NULL;
		/* closing: writes are refused, nothing more is said */
		assert_int_equal(tls_conn_write(c, "x", 1), -EPIPE);
	}
	if (!p->want && !p->close_when_done)
		outcome(p); /* a handshake was all it waited for */
}

static void on_data(struct tls_conn *c, const void *buf, size_t len, void *data)
{
	struct peer *p = data;

	p->in = realloc(p->in, p->in_len + len);
	assert_non_null(p->in);
	memcpy(p->in + p->in_len, buf, len);
	p->in_len += len;
	if (p->want && p->in_len >= p->want && p->in_len - len < p->want) {
		if (p->close_when_done) {
			/* from inside a callback, with our reply maybe unsent */
			tls_conn_close(c);
			p->c = NULL;
		}
		outcome(p);
	}
}

static void on_closed(struct tls_conn *c, const char *err, void *data)
{
	struct peer *p = data;

	(void)c;
	p->closed = true;
	p->c = NULL;
	snprintf(p->err, sizeof(p->err), "%s", err ? err : "");
	outcome(p);
}

/* The handshake's own flights drain too: counted once a reply is out. */
static void on_drained(struct tls_conn *c, void *data)
{
	struct peer *p = data;

	(void)c;
	if (p->handshakes && p->reply_len && !p->drained++ && p->wait_drained)
		outcome(p);
}

static const struct tls_conn_ops peer_ops = {
	.handshake = on_handshake,
	.data = on_data,
	.closed = on_closed,
	.drained = on_drained,
};

static void on_guard(struct loop *l, struct loop_op *op, int res)
{
	if (res == 0)
		loop_stop(l, -ETIMEDOUT); /* a test that hangs fails */
}

static int setup(void **state)
{
	struct test *t = calloc(1, sizeof(*t));
	socklen_t len = sizeof(t->addr);

	if (!t || loop_init(&t->l, 64) < 0)
		return -1;
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	t->addr.sin_family = AF_INET;
	t->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(t->lfd, (struct sockaddr *)&t->addr, sizeof(t->addr)) ||
	    listen(t->lfd, 16) ||
	    getsockname(t->lfd, (struct sockaddr *)&t->addr, &len))
		return -1;
	t->srv.t = t->cli.t = t;
	/* a test that hangs fails; teardown cancels it */
	if (loop_timeout(&t->l, &t->guard, 10ull * 1000000000, on_guard))
		return -1;
	t->name = *state; /* test_name_refused's case */
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct test *t = *state;

	/* whatever is still open goes; then the loop runs dry */
	loop_cancel(&t->l, &t->guard);
	if (t->srv.c)
		tls_conn_close(t->srv.c);
	if (t->cli.c)
		tls_conn_close(t->cli.c);
	loop_run(&t->l);
	tls_ctx_free(t->sctx);
	tls_ctx_free(t->cctx);
	loop_exit(&t->l);
	close(t->lfd);
	free(t->srv.in);
	free(t->cli.in);
	free(t);
	return 0;
}

/* A server context: our certificate, its CA, and client CAs if asked. */
static void server_ctx(struct test *t, bool client_certs)
{
	struct tls_config cfg = {
		.cert = pk.srv,
		.key = pk.srv_key,
		.chain = &pk.srv_ca,
		.nchain = 1,
		.client_cas = client_certs ? pk.client_cas : NULL,
	};

	assert_int_equal(tls_ctx_new(&t->sctx, true, &cfg), 0);
}

static void client_ctx(struct test *t, const char *pin, X509 *ca, X509 *cert)
{
	struct tls_config cfg = {
		.cert = cert,
		.key = cert ? pk.host_key : NULL,
		.pin = pin,
		.ca = ca,
	};

	assert_int_equal(tls_ctx_new(&t->cctx, false, &cfg), 0);
}

/* A connected client socket and the server's end of it, as a tls_conn. */
static int connect_and_accept(struct test *t)
{
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int sfd;

	assert_true(cfd >= 0);
	/* the backlog answers at once: no need to wait for accept */
	assert_int_equal(
		connect(cfd, (struct sockaddr *)&t->addr, sizeof(t->addr)), 0);
	sfd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(sfd >= 0);
	assert_int_equal(tls_conn_new(&t->srv.c, &t->l, t->sctx, sfd, NULL,
				      &peer_ops, &t->srv),
			 0);
	return cfd;
}

static void start_pair(struct test *t, const char *name)
{
	int cfd = connect_and_accept(t);

	assert_int_equal(tls_conn_new(&t->cli.c, &t->l, t->cctx, cfd, name,
				      &peer_ops, &t->cli),
			 0);
}

static int run_pair(struct test *t, const char *name)
{
	start_pair(t, name);
	t->pending = 2;
	return loop_run(&t->l);
}

static char *pattern(size_t n, unsigned seed)
{
	char *p = malloc(n);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * seed + i / 4093);
	return p;
}

/*
 * Mutual TLS with a pinned server CA.  The client writes before the
 * handshake is done (held until it is), then 3 MiB; the server answers
 * 3 MiB of its own once the handshake is done.  The client closes from
 * inside its data callback; the server sees a clean close_notify.
 */
static void test_data_both_ways(void **state)
{
	struct test *t = *state;
	char *up = pattern(BIG, 7), *down = pattern(BIG, 13);
	char addr[TLS_ADDR_LEN];

	server_ctx(t, true);
	client_ctx(t, pk.srv_ca_fp, NULL, pk.host);
	t->srv.want = 5 + BIG;
	t->srv.reply = down;
	t->srv.reply_len = BIG;
	t->cli.want = BIG;
	t->cli.close_when_done = true;
	start_pair(t, "127.0.0.1");
	assert_false(tls_conn_handshake_done(t->cli.c));
	assert_int_equal(tls_conn_write(t->cli.c, "hello", 5), 0);
	assert_int_equal(tls_conn_write(t->cli.c, up, BIG), 0);
	assert_int_equal(tls_peer_addr(tls_conn_fd(t->srv.c), addr), 0);
	assert_memory_equal(addr, "127.0.0.1:", 10);

	t->pending = 2;
	assert_int_equal(loop_run(&t->l), 1);
	assert_int_equal(t->srv.handshakes, 1);
	assert_int_equal(t->cli.handshakes, 1);
	/* the server read the host's identity off its certificate */
	assert_string_equal(t->srv.peer_cn, "hweb1");
	assert_string_equal(t->cli.peer_cn, "moat-controlplane");
	assert_int_equal(t->srv.in_len, 5 + BIG);
	assert_memory_equal(t->srv.in, "hello", 5);
	assert_memory_equal(t->srv.in + 5, up, BIG);
	assert_int_equal(t->cli.in_len, BIG);
	assert_memory_equal(t->cli.in, down, BIG);
	assert_false(t->srv.closed);

	/* the client's close_notify reaches the server: a clean end */
	t->pending = 1;
	assert_int_equal(loop_run(&t->l), 1);
	assert_true(t->srv.closed);
	assert_string_equal(t->srv.err, "");
	assert_false(t->cli.closed); /* it closed: no callback for that */
	free(up);
	free(down);
}

/*
 * The enrollment pattern: the server answers and closes at once.  All of
 * the answer arrives, then the close, cleanly.
 */
static void test_write_then_close(void **state)
{
	struct test *t = *state;
	char *reply = pattern(100000, 11);

	server_ctx(t, true);
	client_ctx(t, pk.srv_ca_fp, NULL, NULL);
	t->srv.reply = reply;
	t->srv.reply_len = 100000;
	t->srv.close_after_reply = true;
	t->cli.want = 100000;
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->cli.in_len, 100000);
	assert_memory_equal(t->cli.in, reply, 100000);
	t->pending = 1;
	assert_int_equal(loop_run(&t->l), 1);
	assert_true(t->cli.closed);
	assert_string_equal(t->cli.err, "");
	assert_false(t->srv.closed);
	free(reply);
}

/*
 * A large write is ciphertext in the connection until the socket takes
 * it; then the connection says drained and keeps none of it: no chunk in
 * flight, and a write BIO of no more than a few KiB (renew_bio()).  A
 * control plane pushing 600 KB to each of 1,000 hosts kept it all.
 */
static void test_drained_keeps_nothing(void **state)
{
	struct test *t = *state;
	char *reply = pattern(BIG, 5);
	BUF_MEM *m = NULL;

	server_ctx(t, true);
	client_ctx(t, pk.srv_ca_fp, NULL, pk.host);
	t->srv.reply = reply;
	t->srv.reply_len = BIG;
	t->srv.wait_drained = true;
	t->cli.want = BIG;
	/* the server's handshake and drained, the client's whole reply */
	start_pair(t, "127.0.0.1");
	t->pending = 3;
	assert_int_equal(loop_run(&t->l), 1);
	assert_int_equal(t->cli.in_len, BIG);
	assert_memory_equal(t->cli.in, reply, BIG);
	assert_int_equal(t->srv.drained, 1);
	assert_null(t->srv.c->out);
	assert_int_equal(BIO_ctrl_pending(t->srv.c->wbio), 0);
	assert_true(BIO_get_mem_ptr(t->srv.c->wbio, &m) > 0 && m);
	assert_true(m->max <= 4096);
	free(reply);
}

/* A peer that just goes away: said so, not taken for a clean close. */
static void test_no_close_notify(void **state)
{
	struct test *t = *state;

	server_ctx(t, false);
	client_ctx(t, pk.srv_ca_fp, NULL, NULL);
	assert_int_equal(run_pair(t, "localhost"), 1);
	/* the server's socket, closed under it: no close_notify */
	shutdown(tls_conn_fd(t->srv.c), SHUT_RDWR);
	/* the server reads its own EOF too (shut for reading) */
	t->pending = 2;
	assert_int_equal(loop_run(&t->l), 1);
	assert_true(t->srv.closed);
	assert_true(t->cli.closed);
	assert_string_equal(
		t->cli.err,
		"connection closed by the peer without close_notify");
}

static void test_anonymous_client(void **state)
{
	struct test *t = *state;

	/* asked for a certificate, the client has none: the owner decides */
	server_ctx(t, true);
	client_ctx(t, pk.srv_ca_fp, NULL, NULL);
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->srv.handshakes, 1);
	assert_int_equal(t->cli.handshakes, 1);
	assert_null(tls_conn_peer_cert(t->srv.c));
	assert_non_null(tls_conn_peer_cert(t->cli.c));
	/* the server sent its CA after its certificate, for pinning */
	assert_int_equal(sk_X509_num(tls_conn_peer_chain(t->cli.c)), 2);
	tls_conn_close(t->cli.c);
	t->cli.c = NULL;
	assert_int_equal(tls_conn_write(t->srv.c, "x", 1), 0);
	t->pending = 1;
	assert_int_equal(loop_run(&t->l), 1);
	assert_true(t->srv.closed);
	assert_string_equal(t->srv.err, "");
}

/* One client context, a certificate per connection (the load generator). */
static void test_cert_per_connection(void **state)
{
	struct test *t = *state;

	server_ctx(t, true);
	client_ctx(t, pk.srv_ca_fp, NULL, NULL);
	start_pair(t, "localhost");
	assert_int_equal(tls_conn_set_cert(t->cli.c, pk.host, pk.srv_key),
			 -EKEYREJECTED);
	assert_int_equal(tls_conn_set_cert(t->cli.c, pk.host, pk.host_key), 0);
	t->pending = 2;
	assert_int_equal(loop_run(&t->l), 1);
	assert_int_equal(t->srv.handshakes, 1);
	assert_string_equal(t->srv.peer_cn, "hweb1");
}

static void test_untrusted_client_cert(void **state)
{
	struct test *t = *state;

	/* signed by a CA the server does not trust: refused */
	server_ctx(t, true);
	client_ctx(t, pk.srv_ca_fp, NULL, pk.stranger);
	t->cli.want = 1; /* TLS 1.3: the client's handshake ends first */
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->srv.handshakes, 0);
	assert_true(t->srv.closed);
	assert_string_equal(t->srv.err, "certificate verify failed: unable to "
					"get local issuer certificate");
	assert_true(t->cli.closed);
	/* the server's alert tells the client why */
	assert_string_equal(t->cli.err,
			    "the peer refused: tlsv1 alert unknown ca");
	assert_int_equal(t->cli.in_len, 0);
}

static void test_pin_mismatch(void **state)
{
	struct test *t = *state;
	char want[256];

	/* pinned to a CA that is not the server's: refused, pin named */
	server_ctx(t, false);
	client_ctx(t, pk.ws_ca_fp, NULL, NULL);
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->cli.handshakes, 0);
	assert_true(t->cli.closed);
	snprintf(want, sizeof(want),
		 "certificate verify failed: no CA certificate in the "
		 "server's chain matches the pinned %s",
		 pk.ws_ca_fp);
	assert_string_equal(t->cli.err, want);
	assert_true(t->srv.closed);
	assert_string_equal(t->srv.err,
			    "the peer refused: sslv3 alert handshake failure");
}

static void test_pin_needs_chain(void **state)
{
	struct test *t = *state;
	struct tls_config cfg = { .cert = pk.srv, .key = pk.srv_key };

	/* a server that does not send its CA cannot be pinned */
	assert_int_equal(tls_ctx_new(&t->sctx, true, &cfg), 0);
	client_ctx(t, pk.srv_ca_fp, NULL, NULL);
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->cli.handshakes, 0);
	assert_non_null(strstr(t->cli.err, "matches the pinned"));
}

static void test_trusted_ca(void **state)
{
	struct test *t = *state;

	server_ctx(t, false);
	client_ctx(t, NULL, pk.srv_ca, NULL);
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->cli.handshakes, 1);
	assert_int_equal(t->srv.handshakes, 1);
}

static void test_wrong_ca(void **state)
{
	struct test *t = *state;

	server_ctx(t, false);
	client_ctx(t, NULL, pk.ws_ca, NULL);
	assert_int_equal(run_pair(t, "localhost"), 1);
	assert_int_equal(t->cli.handshakes, 0);
	/* the server sent its own CA: self-signed, and not the one we trust */
	assert_string_equal(t->cli.err,
			    "certificate verify failed: self-signed "
			    "certificate in certificate chain");
}

/* The server has localhost, 127.0.0.1 and ::1: DNS and IP SANs. */
static const struct name_case name_cases[] = {
	{ "cp.example.org", "certificate verify failed: hostname mismatch" },
	/* an address is checked against IP SANs, never DNS names */
	{ "127.0.0.2", "certificate verify failed: IP address mismatch" },
	{ "::2", "certificate verify failed: IP address mismatch" },
};

static void test_name_refused(void **state)
{
	struct test *t = *state;

	server_ctx(t, false);
	client_ctx(t, pk.srv_ca_fp, NULL, NULL);
	assert_int_equal(run_pair(t, t->name->name), 1);
	assert_int_equal(t->cli.handshakes, 0);
	assert_string_equal(t->cli.err, t->name->err);
}

/* A plain blocking OpenSSL client that speaks TLS 1.2 at most. */
static int tls12_client(const struct sockaddr_in *addr)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned long e;
	SSL *ssl;
	int ok;

	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)))
		return 2;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	ok = SSL_connect(ssl);
	e = ERR_peek_error();
	/* refused, and told so by the server's alert */
	return ok != 1 && ERR_GET_REASON(e) ==
				       SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ?
		       0 :
		       1;
}

static void test_tls12_refused(void **state)
{
	struct test *t = *state;
	int sfd, status;
	pid_t pid;

	server_ctx(t, true);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(tls12_client(&t->addr));
	sfd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(sfd >= 0);
	assert_int_equal(tls_conn_new(&t->srv.c, &t->l, t->sctx, sfd, NULL,
				      &peer_ops, &t->srv),
			 0);
	t->pending = 1;
	assert_int_equal(loop_run(&t->l), 1);
	assert_int_equal(t->srv.handshakes, 0);
	assert_string_equal(
		t->srv.err,
		"unsupported protocol: the peer does not speak TLS 1.3");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_peer_gone_in_handshake(void **state)
{
	struct test *t = *state;

	server_ctx(t, false);
	close(connect_and_accept(t));
	t->pending = 1;
	assert_int_equal(loop_run(&t->l), 1);
	assert_string_equal(
		t->srv.err,
		"connection closed by the peer during the handshake");
}

static void test_bad_configs(void **state)
{
	struct tls_config cfg = { .cert = pk.srv, .key = pk.host_key };
	struct tls_ctx *ctx;

	(void)state;
	/* a key that is not the certificate's */
	assert_int_equal(tls_ctx_new(&ctx, true, &cfg), -EKEYREJECTED);
	assert_null(ctx);
	/* a server needs a certificate */
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(tls_ctx_new(&ctx, true, &cfg), -EINVAL);
	/* a client needs exactly one way to trust the server */
	assert_int_equal(tls_ctx_new(&ctx, false, &cfg), -EINVAL);
	cfg.pin = pk.srv_ca_fp;
	cfg.ca = pk.srv_ca;
	assert_int_equal(tls_ctx_new(&ctx, false, &cfg), -EINVAL);
	cfg.ca = NULL;
	cfg.pin = "sha256:abcd";
	assert_int_equal(tls_ctx_new(&ctx, false, &cfg), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define NAME_CASE(i)                              \
	cmocka_unit_test_prestate_setup_teardown( \
		test_name_refused, setup, teardown, (void *)&name_cases[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_data_both_ways),
		T(test_write_then_close),
		T(test_drained_keeps_nothing),
		T(test_no_close_notify),
		T(test_anonymous_client),
		T(test_cert_per_connection),
		T(test_untrusted_client_cert),
		T(test_pin_mismatch),
		T(test_pin_needs_chain),
		T(test_trusted_ca),
		T(test_wrong_ca),
		NAME_CASE(0),
		NAME_CASE(1),
		NAME_CASE(2),
		T(test_tls12_refused),
		T(test_peer_gone_in_handshake),
		cmocka_unit_test(test_bad_configs),
	};

	return cmocka_run_group_tests(tests, make_certs, free_certs);
}
