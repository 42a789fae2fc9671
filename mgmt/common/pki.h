/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The certificates of the management channel (OpenSSL 3).  Keys are EC
 * P-256 everywhere: a control plane makes one per enrolling host, and a
 * load test makes 10,000.
 *
 * The control-plane CA signs the server certificate; each workspace's CA
 * signs its hosts' client certificates (CN the host id, SAN URI
 * moat:host:WSID:HOSTID).  A CA is pinned by the SHA-256 of its DER:
 * "sha256:" and 64 lowercase hex digits.
 *
 * Functions return 0 or a negative errno; -EBADMSG for input that does
 * not parse, -ENOMEM, -EIO for what OpenSSL refused without saying why.
 * Objects handed out are the caller's (EVP_PKEY_free, X509_free, free).
 */
#ifndef MOAT_PKI_H
#define MOAT_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* "sha256:" + 64 hex + NUL */
#define PKI_FP_LEN 72
/* a serial of up to 20 bytes (RFC 5280) in hex, NUL */
#define PKI_SERIAL_LEN 41
/* a CSR or certificate of ours is well under this */
#define PKI_DER_MAX 8192
/* host certificates start this long ago: the host's clock may be behind */
#define PKI_BACKDATE 300

/* Messages of a refused CSR: "CSR key is not EC P-256 (RSA)". */
struct pki_err {
	char msg[160];
};

/* Keys */
int pki_key_new(EVP_PKEY **key);
/* 0 when @key is an EC P-256 key; -EKEYREJECTED otherwise. */
int pki_key_check(const EVP_PKEY *key);
/* PKCS#8 PEM ("BEGIN PRIVATE KEY"), malloc'd, NUL-terminated. */
int pki_key_to_pem(EVP_PKEY *key, char **pem, size_t *len);
/* The key must be EC P-256 (-EKEYREJECTED otherwise). */
int pki_key_from_pem(const char *pem, size_t len, EVP_PKEY **key);
/* Atomically, mode 0600, fsync'd: the host's identity must survive. */
int pki_key_save(const char *path, EVP_PKEY *key);
int pki_key_load(const char *path, EVP_PKEY **key);

/* CSRs: PKCS#10 in DER, signed with @key, subject CN=@cn. */
int pki_csr_new(EVP_PKEY *key, const char *cn, unsigned char **der,
		size_t *len);
/*
 * Parse a peer's CSR: at most PKI_DER_MAX bytes, nothing after it, an EC
 * P-256 key, a signature that verifies.  Returns 0 and its public key, or
 * -EBADMSG with @e saying what is wrong.
 */
int pki_csr_check(const void *der, size_t len, EVP_PKEY **pub,
		  struct pki_err *e);

/* Issuing (pki-sign.c) */

/*
 * A self-signed CA, CN=@cn, with a SAN URI when @uri is not NULL, valid
 * from now for @lifetime seconds.
 */
int pki_ca_new(EVP_PKEY *key, const char *cn, const char *uri, int64_t lifetime,
	       X509 **cert);
/*
 * A host's client certificate for @pub: CN @host_id, SAN URI
 * moat:host:@ws_id:@host_id, clientAuth, valid from PKI_BACKDATE ago for
 * @lifetime seconds, a random positive 128-bit serial (hex in @serial).
 */
int pki_sign_host(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const char *ws_id,
		  const char *host_id, int64_t lifetime, X509 **cert,
		  char serial[PKI_SERIAL_LEN]);
/*
 * A server certificate for @pub: CN @cn, serverAuth, a SAN for each of
 * @names (an IPv4 or IPv6 address becomes an IP SAN, anything else a DNS
 * name), valid from PKI_BACKDATE ago for @lifetime seconds.
 */
int pki_sign_server(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const char *cn,
		    const char *const *names, size_t n, int64_t lifetime,
		    X509 **cert);

/* Encodings: DER and PEM out are malloc'd (PEM NUL-terminated). */
int pki_cert_to_der(X509 *cert, unsigned char **der, size_t *len);
/* At most PKI_DER_MAX bytes and nothing after the certificate. */
int pki_cert_from_der(const void *der, size_t len, X509 **cert);
int pki_cert_to_pem(X509 *cert, char **pem, size_t *len);
int pki_cert_from_pem(const char *pem, size_t len, X509 **cert);

/* Reading certificates */
int pki_fingerprint(X509 *cert, char fp[PKI_FP_LEN]);
/* The @i-th SAN URI (from 0); -ENOENT past the last, -ENAMETOOLONG. */
int pki_san_uri(X509 *cert, int i, char *buf, size_t size);
int pki_not_after(X509 *cert, int64_t *t);
/* Lowercase hex, without leading zero bytes. */
int pki_serial_hex(X509 *cert, char serial[PKI_SERIAL_LEN]);
/*
 * 0 when @ca issued @cert (issuer name, key identifiers) and its signature
 * verifies with @ca's key; -EKEYREJECTED otherwise.  Validity times are
 * not looked at: TLS verification does that.
 */
int pki_issued_by(X509 *cert, X509 *ca);

#endif /* MOAT_PKI_H */
