/* SPDX-License-Identifier: GPL-2.0-only */
/* What tls-ctx.c, tls.c and tls-io.c share, and nobody else needs. */
#ifndef MOAT_TLS_PRIV_H
#define MOAT_TLS_PRIV_H

#include "tls.h"

struct tls_ctx {
	SSL_CTX *ssl;
	bool server;
	unsigned refs; /* the owner's, and one per connection */
	char pin[PKI_FP_LEN]; /* "" when not pinned */
};

/* tls.c makes it, tls-io.c moves its bytes. */
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

/* Waits for readable (and, first on a client, writable: the ClientHello). */
void tls_io_readable(struct loop *l, struct loop_op *op, int res);
/* Plaintext in, ciphertext queued (only once the handshake is done). */
int tls_io_write(struct tls_conn *c, const void *buf, size_t len);
int tls_io_flush(struct tls_conn *c);
/* The owner's close: close_notify, half-close, then the end. */
void tls_io_close(struct tls_conn *c);
/* Frees @c once it is dead and none of its ops is in flight. */
void tls_io_release(struct tls_conn *c);

/*
 * Why a handshake or read failed, from OpenSSL's error queue (which this
 * empties) and @ssl's verify result.
 */
void tls_error_text(const struct tls_ctx *ctx, SSL *ssl, char *buf,
		    size_t size);

#endif /* MOAT_TLS_PRIV_H */
