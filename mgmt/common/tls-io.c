// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bytes of a TLS connection: a poll for readable, reads into the
 * stack, OpenSSL between two memory BIOs, one send in flight, and the
 * way out (close_notify, half-close, the peer's EOF or a timeout).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

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

static void on_sent(struct loop *l, struct loop_op *op, int res);

static bool ops_busy(const struct tls_conn *c)
{
	return loop_op_busy(&c->rx) || loop_op_busy(&c->tx) ||
	       loop_op_busy(&c->timer);
}

void tls_io_release(struct tls_conn *c)
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
int tls_io_flush(struct tls_conn *c)
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
	int ret = tls_io_flush(c);

	if (ret < 0)
		fail(c, "send", ret);
}

static void on_timer(struct loop *l, struct loop_op *op, int res)
{
	struct tls_conn *c = op->data;

	(void)l;
	if (res == 0)
		teardown(c); /* the peer took too long to close */
	tls_io_release(c);
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

int tls_io_write(struct tls_conn *c, const void *buf, size_t len)
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
	if (c->early_len && tls_io_write(c, c->early, c->early_len) < 0) {
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

void tls_io_readable(struct loop *l, struct loop_op *op, int res)
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
		ret = loop_poll(l, &c->rx, c->fd, POLLIN, tls_io_readable);
		if (ret < 0)
			fail(c, "poll", ret);
	}
	c->depth--;
	tls_io_release(c);
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
	if (!c->dead && !c->closing && !loop_op_busy(&c->tx) &&
	    c->ops->drained)
		c->ops->drained(c, c->data);
	c->depth--;
	tls_io_release(c);
}

void tls_io_close(struct tls_conn *c)
{
	c->depth++;
	c->closing = true;
	start_close(c);
	c->depth--;
	tls_io_release(c);
}
