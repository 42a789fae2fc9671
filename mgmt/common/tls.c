// SPDX-License-Identifier: GPL-2.0-only
/* A TLS connection as its owner sees it (the bytes are tls-io.c's). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls-priv.h"

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
	/*
	 * Whole frames are written at once: Nagle would only hold a frame's
	 * last segment back for the peer's delayed ACK (a handshake's
	 * flights, an enroll answer).  Not TCP (a test's socketpair): no harm.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
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
	ret = loop_poll(l, &c->rx, fd, events, tls_io_readable);
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

int tls_conn_set_cert(struct tls_conn *c, X509 *cert, EVP_PKEY *key)
{
	int ret = 0;

	/* the certificate goes out after the server asks: not too late */
	if (SSL_use_certificate(c->ssl, cert) != 1 ||
	    SSL_use_PrivateKey(c->ssl, key) != 1 ||
	    SSL_check_private_key(c->ssl) != 1)
		ret = -EKEYREJECTED;
	ERR_clear_error();
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
	ret = tls_io_write(c, buf, len);
	if (!ret)
		ret = tls_io_flush(c);
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
	tls_io_close(c);
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
