// SPDX-License-Identifier: GPL-2.0-only
/* TLS contexts: TLS 1.3 only, certificates, pinning, and error texts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls-priv.h"

/*
 * The pinned server CA is the only trust anchor, and it comes from the
 * server's own chain: find it there by fingerprint, then verify the chain
 * up to it as usual (names, purpose, validity).  No trust on first use:
 * without the pin in the chain there is nothing to trust.
 */
static int verify_pinned(X509_STORE_CTX *x, void *arg)
{
	const struct tls_ctx *ctx = arg;
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(x);
	STACK_OF(X509) * anchors;
	X509 *anchor = NULL;
	char fp[PKI_FP_LEN];
	int ok;

	for (int i = 0; i < sk_X509_num(sent) && !anchor; i++) {
		X509 *cert = sk_X509_value(sent, i);

		if (pki_fingerprint(cert, fp) == 0 &&
		    strcmp(fp, ctx->pin) == 0 && X509_check_ca(cert) > 0)
			anchor = cert;
	}
	if (!anchor) {
		/* ours alone: tls_error_text() names the pin for it */
		X509_STORE_CTX_set_error(x,
					 X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	anchors = sk_X509_new_null();
	if (!anchors || !sk_X509_push(anchors, anchor)) {
		sk_X509_free(anchors);
		X509_STORE_CTX_set_error(x, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	X509_STORE_CTX_set0_trusted_stack(x, anchors);
	ok = X509_verify_cert(x);
	X509_STORE_CTX_set0_trusted_stack(x, NULL);
	sk_X509_free(anchors);
	return ok > 0;
}

static int ctx_certs(SSL_CTX *s, const struct tls_config *c)
{
	if (!c->cert && !c->key && !c->nchain)
		return 0;
	if (!c->cert || !c->key)
		return -EINVAL;
	if (SSL_CTX_use_certificate(s, c->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(s, c->key) != 1)
		return -EKEYREJECTED;
	if (SSL_CTX_check_private_key(s) != 1)
		return -EKEYREJECTED;
	for (size_t i = 0; i < c->nchain; i++)
		if (SSL_CTX_add1_chain_cert(s, c->chain[i]) != 1)
			return -ENOMEM;
	return 0;
}

static int ctx_verify(struct tls_ctx *ctx, const struct tls_config *c)
{
	SSL_CTX *s = ctx->ssl;

	if (ctx->server) {
		if (c->pin || c->ca)
			return -EINVAL;
		if (!c->client_cas)
			return 0;
		/* no FAIL_IF_NO_PEER_CERT: anonymous clients may enroll */
		SSL_CTX_set1_cert_store(s, c->client_cas);
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
				   NULL);
		return 0;
	}
	if (c->client_cas || !c->pin == !c->ca)
		return -EINVAL;
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
	if (c->ca)
		return X509_STORE_add_cert(SSL_CTX_get_cert_store(s), c->ca) ?
			       0 :
			       -ENOMEM;
	if (strlen(c->pin) != PKI_FP_LEN - 1 || strncmp(c->pin, "sha256:", 7))
		return -EINVAL;
	snprintf(ctx->pin, sizeof(ctx->pin), "%s", c->pin);
	SSL_CTX_set_cert_verify_callback(s, verify_pinned, ctx);
	return 0;
}

int tls_ctx_new(struct tls_ctx **out, bool server, const struct tls_config *c)
{
	struct tls_ctx *ctx = calloc(1, sizeof(*ctx));
	int ret = -ENOMEM;

	*out = NULL;
	if (!ctx)
		return -ENOMEM;
	ctx->server = server;
	ctx->refs = 1;
	ctx->ssl =
		SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx->ssl)
		goto out;
	if (!SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx->ssl, TLS1_3_VERSION))
		goto out;
	/* idle connections keep no record buffers */
	SSL_CTX_set_mode(ctx->ssl, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * No resumption: agents reconnect rarely, and 10,000 cached sessions
	 * or tickets would be memory for nothing.
	 */
	SSL_CTX_set_session_cache_mode(ctx->ssl, SSL_SESS_CACHE_OFF);
	if (server)
		SSL_CTX_set_num_tickets(ctx->ssl, 0);
	ret = ctx_certs(ctx->ssl, c);
	if (!ret && server && !c->cert)
		ret = -EINVAL;
	if (!ret)
		ret = ctx_verify(ctx, c);
out:
	ERR_clear_error();
	if (ret < 0) {
		tls_ctx_free(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	if (!ctx || --ctx->refs)
		return;
	SSL_CTX_free(ctx->ssl);
	free(ctx);
}

void tls_error_text(const struct tls_ctx *ctx, SSL *ssl, char *buf, size_t size)
{
	unsigned long e = ERR_peek_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	long vr = SSL_get_verify_result(ssl);

	ERR_clear_error();
	if (!why)
		why = "TLS error";
	/* an alert received: the peer refused us, and the alert says why */
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
		snprintf(buf, size, "the peer refused: %s", why);
	else if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		 ERR_GET_REASON(e) == SSL_R_UNSUPPORTED_PROTOCOL)
		snprintf(buf, size, "%s: the peer does not speak TLS 1.3", why);
	else if (vr == X509_V_ERR_APPLICATION_VERIFICATION && ctx->pin[0])
		snprintf(buf, size,
			 "%s: no CA certificate in the server's chain "
			 "matches the pinned %s",
			 why, ctx->pin);
	else if (vr != X509_V_OK)
		snprintf(buf, size, "%s: %s", why,
			 X509_verify_cert_error_string(vr));
	else
		snprintf(buf, size, "%s", why);
}
