// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TLS connection on the loop: a poll for readable, reads into the
 * stack, OpenSSL between two memory BIOs, and one send in flight.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls-priv.h"

/* One read from the socket; a TLS record is at most about 16 KiB. */
#define RX_CHUNK 16384
/* Reads per wakeup before the others get their turn. */
#define RX_ROUNDS 8
/* Ciphertext per send: bounds the copy, not what may be queued. */
#define TX_CHUNK (256u << 10)
/* A drained memory BIO larger than this is replaced by an empty one. */
#define BIO_KEEP 4096
/* After tls_conn_close(), how long the peer gets to read and close. */
#define CLOSE_NS (5ull * 1000000000)

struct tls_conn {
	struct loop *l;
	struct tls_ctx *ctx;
	SSL *ssl;
	BIO *rbio, *wbio; /* owned by ssl: network in, network out */
	const struct tls_conn_ops *ops;
	void *data;
	int fd;
	unsigned depth; /* inside our own loop callbacks: do not free */
	bool handshaken;
	bool closing; /* no more callbacks to the owner */
	bool shut_wr; /* all sent, our side of TCP shut down */
	bool rx_eof; /* the peer shut down its side */
	bool dead; /* tearing down: ops cancelled, free when they are back */
	bool broken; /* a write failed: only closing is left */
	char *out; /* ciphertext in flight */
	char *early; /* plaintext written before the handshake was done */
	size_t early_len;
	struct loop_op rx, tx, timer;
};

static void on_readable(struct loop *l, struct loop_op *op, int res);
static void on_sent(struct loop *l, struct loop_op *op, int res);

static bool ops_busy(const struct tls_conn *c)
{
	return loop_op_busy(&c->rx) || loop_op_busy(&c->tx) ||
	       loop_op_busy(&c->timer);
}

static void release(struct tls_conn *c)
{
	if (!c->dead || c->depth || ops_busy(c))
		return;
	close(c->fd);
	SSL_free(c->ssl);
	tls_ctx_free(c->ctx);
	free(c->out);
	free(c->early);
	free(c);
}

static void teardown(struct tls_conn *c)
{
	c->dead = true;
	c->closing = true;
	loop_cancel(c->l, &c->rx);
	loop_cancel(c->l, &c->tx);
	loop_cancel(c->l, &c->timer);
}

/* The end, as the owner hears of it (if it has not closed first). */
static void notify_closed(struct tls_conn *c, const char *err)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->ops->closed)
		c->ops->closed(c, err, c->data);
}

/* @what failed with @err: "recv: Connection reset by peer". */
static void fail(struct tls_conn *c, const char *what, int err)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
	notify_closed(c, msg);
	teardown(c);
}

/*
 * Once closing and all is sent: half-close, then wait for the peer's EOF
 * (closing with unread input would reset the connection, and the peer
 * could lose the last of what we sent).
 */
static void finish_writing(struct tls_conn *c)
{
	if (c->shut_wr || !c->closing || loop_op_busy(&c->tx))
		return;
	c->shut_wr = true;
	shutdown(c->fd, SHUT_WR);
	if (c->rx_eof)
		teardown(c);
}

/*
 * A memory BIO keeps the room it once grew to: the handshake's flights,
 * a large write.  Drained, a large one is swapped for a new, empty one,
 * so that an idle connection holds next to nothing.  Returns the BIO in
 * use; a failed swap keeps the old one.
 */
static BIO *renew_bio(BIO *b, SSL *ssl, bool rx)
{
	BUF_MEM *m = NULL;
	BIO *fresh;

	if (BIO_ctrl_pending(b) || BIO_get_mem_ptr(b, &m) <= 0 || !m ||
	    m->max <= BIO_KEEP)
		return b;
	fresh = BIO_new(BIO_s_mem());
	if (!fresh)
		return b;
	/* the SSL frees the one it held */
	if (rx)
		SSL_set0_rbio(ssl, fresh);
	else
		SSL_set0_wbio(ssl, fresh);
	return fresh;
}

/* Send what OpenSSL wrote, one chunk at a time. */
static int flush(struct tls_conn *c)
{
	size_t n = BIO_ctrl_pending(c->wbio);
	int ret;

	if (c->dead || loop_op_busy(&c->tx))
		return 0;
	free(c->out);
	c->out = NULL;
	if (!n) {
		c->wbio = renew_bio(c->wbio, c->ssl, false);
		finish_writing(c);
		return 0;
	}
	if (n > TX_CHUNK)
		n = TX_CHUNK;
	c->out = malloc(n);
	if (!c->out)
		return -ENOMEM;
	if (BIO_read(c->wbio, c->out, (int)n) != (int)n)
		return -EIO;
	ret = loop_send(c->l, &c->tx, c->fd, c->out, n, on_sent);
	return ret;
}

static void flush_or_fail(struct tls_conn *c)
{
	int ret = flush(c);

	if (ret < 0)
		fail(c, "send", ret);
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct tls_conn *c = op->data;

	(void)l;
	if (res == 0)
		teardown(c); /* the peer took too long to close */
	release(c);
}

/* Send what is queued (an alert, close_notify), half-close, wait a bit. */
static void wind_down(struct tls_conn *c)
{
	c->closing = true;
	if (c->dead || loop_op_busy(&c->timer))
		return;
	if (loop_timeout(c->l, &c->timer, CLOSE_NS, on_timer) < 0)
		teardown(c);
	else
		flush_or_fail(c);
}

static void fail_tls(struct tls_conn *c)
{
	char msg[256];

	tls_error_text(c->ctx, c->ssl, msg, sizeof(msg));
	notify_closed(c, msg);
	/* the alert that says why still goes out */
	wind_down(c);
}

/* Our close_notify, then the same way out as after an error. */
static void start_close(struct tls_conn *c)
{
	if (c->handshaken && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
	wind_down(c);
}

static int write_plain(struct tls_conn *c, const void *buf, size_t len)
{
	size_t done = 0;

	/* memory BIOs grow: a write takes everything it is given */
	while (done < len) {
		size_t n = len - done > INT32_MAX ? INT32_MAX : len - done;

		ERR_clear_error();
		if (SSL_write(c->ssl, (const char *)buf + done, (int)n) <= 0) {
			ERR_clear_error();
			return -EIO;
		}
		done += n;
	}
	return 0;
}

static void handshake_done(struct tls_conn *c)
{
	c->handshaken = true;
	if (c->early_len && write_plain(c, c->early, c->early_len) < 0) {
		fail(c, "TLS write", -EIO);
		return;
	}
	free(c->early);
	c->early = NULL;
	c->early_len = 0;
	if (c->ops->handshake)
		c->ops->handshake(c, c->data);
}

/* Move the TLS state on with what arrived; 0, or -1 once it ended. */
static int advance(struct tls_conn *c, char *buf)
{
	int n = 0;

	ERR_clear_error();
	if (!c->handshaken) {
		n = SSL_do_handshake(c->ssl);
		if (n <= 0) {
			if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ)
				return 0;
			fail_tls(c);
			return -1;
		}
		handshake_done(c);
	}
	while (!c->closing && (n = SSL_read(c->ssl, buf, RX_CHUNK)) > 0)
		c->ops->data(c, buf, (size_t)n, c->data);
	if (c->closing)
		return -1;
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		notify_closed(c, NULL); /* close_notify: a clean end */
		start_close(c);
		return -1;
	default:
		fail_tls(c);
		return -1;
	}
}

static void on_eof(struct tls_conn *c)
{
	c->rx_eof = true;
	if (c->closing) {
		if (c->shut_wr)
			teardown(c); /* both sides are done */
		return; /* finish_writing() ends it */
	}
	notify_closed(c, c->handshaken ?
				 "connection closed by the peer without "
				 "close_notify" :
				 "connection closed by the peer during the "
				 "handshake");
	teardown(c);
}

static void read_some(struct tls_conn *c)
{
	char buf[RX_CHUNK];

	for (int i = 0; i < RX_ROUNDS && !c->dead; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			fail(c, "recv", -errno);
			break;
		}
		if (n == 0) {
			on_eof(c);
			break;
		}
		if (c->closing)
			continue; /* nobody listens: read on until the EOF */
		if (BIO_write(c->rbio, buf, (int)n) != (int)n) {
			fail(c, "TLS read", -ENOMEM);
			break;
		}
		if (advance(c, buf) < 0)
			continue;
		c->rbio = renew_bio(c->rbio, c->ssl, true);
		flush_or_fail(c); /* handshake replies, key updates */
	}
}

static void on_readable(struct loop *l, struct loop_op *op, int res)
{
	struct tls_conn *c = op->data;
	int ret;

	c->depth++;
	if (!c->dead && res < 0)
		fail(c, "poll", res);
	/* a client's first poll also waits for writable: the ClientHello */
	if (!c->dead && (res & POLLOUT))
		flush_or_fail(c);
	if (!c->dead && (res & (POLLIN | POLLHUP | POLLERR)))
		read_some(c);
	if (!c->dead && !c->rx_eof) {
		ret = loop_poll(l, &c->rx, c->fd, POLLIN, on_readable);
		if (ret < 0)
			fail(c, "poll", ret);
	}
	c->depth--;
	release(c);
}

static void on_sent(struct loop *l, struct loop_op *op, int res)
{
	struct tls_conn *c = op->data;

	(void)l;
	c->depth++;
	if (!c->dead && res < 0)
		fail(c, "send", res);
	else if (!c->dead)
		flush_or_fail(c);
	c->depth--;
	release(c);
}

static int set_expected_name(SSL *ssl, const char *name)
{
	X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
	unsigned char a[16];

	/* SANs only: a CN that looks like a name does not count */
	X509_VERIFY_PARAM_set_hostflags(
		p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
			   X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(p, name) ? 0 : -EINVAL;
	if (!SSL_set1_host(ssl, name) || !SSL_set_tlsext_host_name(ssl, name))
		return -EINVAL;
	return 0;
}

int tls_conn_new(struct tls_conn **out, struct loop *l, struct tls_ctx *ctx,
		 int fd, const char *expected_name,
		 const struct tls_conn_ops *ops, void *data)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	unsigned events = POLLIN;
	int ret = -ENOMEM;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->l = l;
	c->fd = fd;
	c->ops = ops;
	c->data = data;
	c->rx.data = c->tx.data = c->timer.data = c;
	c->ssl = SSL_new(ctx->ssl);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio)
		goto out;
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	SSL_set_app_data(c->ssl, c);
	if (ctx->server) {
		SSL_set_accept_state(c->ssl);
	} else {
		SSL_set_connect_state(c->ssl);
		if (expected_name) {
			ret = set_expected_name(c->ssl, expected_name);
			if (ret < 0)
				goto out;
		}
		/* the ClientHello, sent once the socket is writable */
		ERR_clear_error();
		if (SSL_do_handshake(c->ssl) != -1 ||
		    SSL_get_error(c->ssl, -1) != SSL_ERROR_WANT_READ) {
			ret = -EIO;
			goto out;
		}
		events |= POLLOUT;
	}
	/* the only op armed here: a failure leaves nothing in flight */
	ret = loop_poll(l, &c->rx, fd, events, on_readable);
	if (ret < 0)
		goto out;
	ctx->refs++;
	c->ctx = ctx;
	*out = c;
	return 0;
out:
	ERR_clear_error();
	if (c->ssl) {
		SSL_free(c->ssl);
	} else {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
	}
	free(c);
	return ret;
}

int tls_conn_write(struct tls_conn *c, const void *buf, size_t len)
{
	char *p;
	int ret;

	if (c->closing || c->broken)
		return -EPIPE;
	if (!c->handshaken) {
		p = realloc(c->early, c->early_len + len);
		if (!p)
			return -ENOMEM;
		memcpy(p + c->early_len, buf, len);
		c->early = p;
		c->early_len += len;
		return 0;
	}
	ret = write_plain(c, buf, len);
	if (!ret)
		ret = flush(c);
	if (ret < 0)
		c->broken = true;
	return ret;
}

void tls_conn_close(struct tls_conn *c)
{
	if (c->closing) {
		/* called from the closed callback: already on its way out */
		return;
	}
	c->depth++;
	c->closing = true;
	start_close(c);
	c->depth--;
	release(c);
}

X509 *tls_conn_peer_cert(const struct tls_conn *c)
{
	return SSL_get0_peer_certificate(c->ssl);
}

STACK_OF(X509) * tls_conn_peer_chain(const struct tls_conn *c)
{
	return SSL_get_peer_cert_chain(c->ssl);
}

bool tls_conn_handshake_done(const struct tls_conn *c)
{
	return c->handshaken;
}

int tls_conn_fd(const struct tls_conn *c)
{
	return c->fd;
}

int tls_peer_addr(int fd, char buf[TLS_ADDR_LEN])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	const void *a;
	unsigned port;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&ss;

		a = &s->sin_addr;
		port = ntohs(s->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&ss;

		a = &s->sin6_addr;
		port = ntohs(s->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	if (!inet_ntop(ss.ss_family, a, ip, sizeof(ip)))
		return -errno;
	snprintf(buf, TLS_ADDR_LEN,
		 ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return 0;
}
