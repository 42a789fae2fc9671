/* SPDX-License-Identifier: GPL-2.0-only */
/* What tls-ctx.c and tls.c share, and nobody else needs. */
#ifndef MOAT_TLS_PRIV_H
#define MOAT_TLS_PRIV_H

#include "tls.h"

struct tls_ctx {
	SSL_CTX *ssl;
	bool server;
	unsigned refs; /* the owner's, and one per connection */
	char pin[PKI_FP_LEN]; /* "" when not pinned */
};

/*
 * Why a handshake or read failed, from OpenSSL's error queue (which this
 * empties) and @ssl's verify result.
 */
void tls_error_text(const struct tls_ctx *ctx, SSL *ssl, char *buf,
		    size_t size);

#endif /* MOAT_TLS_PRIV_H */
