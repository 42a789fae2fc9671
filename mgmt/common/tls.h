/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS 1.3 over the io_uring loop, for both ends of the agent channel.
 *
 * OpenSSL works on memory BIOs; the loop moves the bytes.  An idle
 * connection holds no buffer: it waits with a poll, reads into a buffer
 * on the stack, and OpenSSL releases its record buffers between records
 * (SSL_MODE_RELEASE_BUFFERS).  A control plane holds 10,000 of them.
 *
 * A connection is a byte stream: the owner frames it (wire_inbuf) in its
 * data callback, and writes whole frames with tls_conn_write().
 */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "loop.h"
#include "pki.h"

/* "[v6addr]:port" */
#define TLS_ADDR_LEN 56

struct tls_ctx;
struct tls_conn;

struct tls_config {
	/* Ours: required on a server, optional (mutual TLS) on a client. */
	X509 *cert;
	EVP_PKEY *key;
	/* Sent after @cert: the server sends its CA, so that it can be pinned. */
	X509 *const *chain;
	size_t nchain;
	/*
	 * Server: ask clients for a certificate and verify one that is sent
	 * against these CAs (a reference is kept: CAs added later count).  A
	 * client that sends none gets through; tls_conn_peer_cert() is NULL
	 * and the owner decides.  NULL: no client certificates asked.
	 */
	X509_STORE *client_cas;
	/* Client: exactly one.  @pin: "sha256:..." of a CA cert in the
	 * server's chain, which becomes the only trust anchor. */
	const char *pin;
	X509 *ca;
};

/*
 * A context for many connections: -EINVAL for a config that is not one
 * of the above, -EKEYREJECTED when @key is not @cert's.
 */
int tls_ctx_new(struct tls_ctx **ctx, bool server, const struct tls_config *c);
/* Connections keep their context alive: free it when you are done. */
void tls_ctx_free(struct tls_ctx *ctx);

struct tls_conn_ops {
	/*
	 * The handshake is done; the peer's certificate can be read.  In
	 * TLS 1.3 a client gets here before the server has checked the
	 * client's certificate: a refusal comes as closed() right after.
	 */
	void (*handshake)(struct tls_conn *c, void *data);
	/* Plaintext, in order; valid during the call. */
	void (*data)(struct tls_conn *c, const void *buf, size_t len,
		     void *data);
	/*
	 * The connection ended without tls_conn_close(): @err NULL when the
	 * peer closed it cleanly (close_notify), else why ("certificate
	 * verify failed: hostname mismatch", "the peer refused: tlsv1 alert
	 * unknown ca", "unsupported protocol: the peer does not speak TLS
	 * 1.3", "connection closed by the peer during the handshake").  The last callback; @c goes away after it (calling
	 * tls_conn_close() in it is harmless, anything else is not).
	 */
	void (*closed)(struct tls_conn *c, const char *err, void *data);
	/*
	 * Optional: everything written so far has gone to the socket, and
	 * the connection holds no ciphertext of it any more.  A writer of
	 * large frames paces itself on it (tls_conn_write() takes anything
	 * it is given, and keeps it until the socket takes it).
	 */
	void (*drained)(struct tls_conn *c, void *data);
};

/*
 * Start TLS on the connected socket @fd (which @c owns once this
 * returns 0).  A client checks the server's certificate for
 * @expected_name, a DNS name or an IP address (NULL: no name check), and
 * sends its ClientHello as soon as the socket is writable.  @ops and @data stay with the owner.
 */
int tls_conn_new(struct tls_conn **c, struct loop *l, struct tls_ctx *ctx,
		 int fd, const char *expected_name,
		 const struct tls_conn_ops *ops, void *data);

/*
 * A client's certificate for this connection alone, instead of its
 * context's: a load generator's many hosts share one context.  Call it
 * right after tls_conn_new(); -EKEYREJECTED when @key is not @cert's.
 */
int tls_conn_set_cert(struct tls_conn *c, X509 *cert, EVP_PKEY *key);

/*
 * Queue @len bytes (copied) to be sent in order; before the handshake is
 * done they wait for it.  -EPIPE once closing; on any error the owner
 * should tls_conn_close().  No callback is made from in here.
 */
int tls_conn_write(struct tls_conn *c, const void *buf, size_t len);

/*
 * The owner is done: no more callbacks.  What was written is still sent,
 * then close_notify; the socket is closed and @c freed once the peer has
 * closed too or a few seconds have passed.  Safe from inside callbacks.
 */
void tls_conn_close(struct tls_conn *c);

/* The peer's certificate (borrowed from @c), NULL when it sent none. */
X509 *tls_conn_peer_cert(const struct tls_conn *c);
/* Its chain as sent, leaf first (borrowed), NULL when none. */
STACK_OF(X509) * tls_conn_peer_chain(const struct tls_conn *c);
bool tls_conn_handshake_done(const struct tls_conn *c);
int tls_conn_fd(const struct tls_conn *c);

/* "1.2.3.4:5678" or "[::1]:5678" of @fd's peer. */
int tls_peer_addr(int fd, char buf[TLS_ADDR_LEN]);

#endif /* MOAT_TLS_H */
