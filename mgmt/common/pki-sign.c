// SPDX-License-Identifier: GPL-2.0-only
/* Issuing: self-signed CAs, host client certificates, server certificates. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki.h"

/* Room for "moat:host:" + two ids, with margin for longer ids later. */
#define URI_MAX 256

/* A random positive 128-bit serial (RFC 5280: at most 20 bytes). */
static int set_serial(X509 *x)
{
	unsigned char r[16];
	BIGNUM *bn = NULL;
	int ret = -EIO;

	if (RAND_bytes(r, sizeof(r)) != 1)
		goto out;
	r[0] |= 0x80; /* always 128 bits: 32 hex digits, never zero */
	bn = BN_bin2bn(r, sizeof(r), NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		ret = 0;
out:
	BN_free(bn);
	return ret;
}

/* A fixed extension from its OpenSSL config text. */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return -EIO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/* Subject and SANs go in as built names, never through config text. */
static int add_san(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *g = NULL;
	ASN1_OCTET_STRING *ip;

	if (type == GEN_IPADD) {
		ip = a2i_IPADDRESS(value);
		if (!ip)
			return -EINVAL;
		g = GENERAL_NAME_new();
		if (g)
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		else
			ASN1_OCTET_STRING_free(ip);
	} else {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (s && ASN1_STRING_set(s, value, -1))
			g = GENERAL_NAME_new();
		if (g)
			GENERAL_NAME_set0_value(g, type, s);
		else
			ASN1_IA5STRING_free(s);
	}
	if (!g || !sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -ENOMEM;
	}
	return 0;
}

static bool is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/*
 * The common part: version 3, serial, subject CN, issuer, validity from
 * @backdate seconds ago for @lifetime seconds, @pub, key identifiers.
 * @ca NULL: self-signed (issuer is the subject).
 */
static int cert_begin(X509 **out, X509 *ca, EVP_PKEY *pub, const char *cn,
		      int64_t backdate, int64_t lifetime, X509V3_CTX *ctx)
{
	X509 *x = X509_new();
	X509_NAME *name;
	int ret = -EIO;

	*out = x;
	if (!x)
		return -ENOMEM;
	if (lifetime <= 0 || lifetime > INT32_MAX * 4ll)
		return -EINVAL;
	if (!X509_set_version(x, X509_VERSION_3) || set_serial(x) < 0)
		return ret;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		return ret;
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca ? ca : x)))
		return ret;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), (long)-backdate) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)lifetime))
		return ret;
	if (!X509_set_pubkey(x, pub))
		return ret;
	X509V3_set_ctx(ctx, ca ? ca : x, x, NULL, NULL, 0);
	if (add_ext(x, ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, ctx, NID_authority_key_identifier, "keyid:always") < 0)
		return ret;
	return 0;
}

static int cert_finish(X509 *x, GENERAL_NAMES *gens, EVP_PKEY *key)
{
	if (gens && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
				       X509V3_ADD_DEFAULT))
		return -EIO;
	return X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -EIO;
}

/* Frees what a failed issue left, and OpenSSL's error queue either way. */
static int issue_end(int ret, X509 **cert, GENERAL_NAMES *gens)
{
	GENERAL_NAMES_free(gens);
	if (ret < 0) {
		X509_free(*cert);
		*cert = NULL;
	}
	ERR_clear_error();
	return ret;
}

int pki_ca_new(EVP_PKEY *key, const char *cn, const char *uri, int64_t lifetime,
	       X509 **cert)
{
	GENERAL_NAMES *gens = NULL;
	X509V3_CTX ctx;
	int ret;

	ret = cert_begin(cert, NULL, key, cn, 0, lifetime, &ctx);
	if (!ret)
		ret = add_ext(*cert, &ctx, NID_basic_constraints,
			      "critical,CA:TRUE,pathlen:0");
	if (!ret)
		ret = add_ext(*cert, &ctx, NID_key_usage,
			      "critical,keyCertSign,cRLSign");
	if (!ret && uri) {
		gens = sk_GENERAL_NAME_new_null();
		ret = gens ? add_san(gens, GEN_URI, uri) : -ENOMEM;
	}
	if (!ret)
		ret = cert_finish(*cert, gens, key);
	return issue_end(ret, cert, gens);
}

/* What end-entity certificates share: not a CA, signatures only. */
static int leaf_exts(X509 *x, X509V3_CTX *ctx, const char *eku)
{
	if (add_ext(x, ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, ctx, NID_ext_key_usage, eku) < 0)
		return -EIO;
	return 0;
}

int pki_sign_host(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const char *ws_id,
		  const char *host_id, int64_t lifetime, X509 **cert,
		  char serial[PKI_SERIAL_LEN])
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	char uri[URI_MAX];
	X509V3_CTX ctx;
	int ret;

	if (snprintf(uri, sizeof(uri), "moat:host:%s:%s", ws_id, host_id) >=
	    (int)sizeof(uri)) {
		*cert = NULL;
		return issue_end(-ENAMETOOLONG, cert, gens);
	}
	ret = cert_begin(cert, ca, pub, host_id, PKI_BACKDATE, lifetime, &ctx);
	if (!ret)
		ret = leaf_exts(*cert, &ctx, "clientAuth");
	if (!ret)
		ret = gens ? add_san(gens, GEN_URI, uri) : -ENOMEM;
	if (!ret)
		ret = cert_finish(*cert, gens, ca_key);
	if (!ret)
		ret = pki_serial_hex(*cert, serial);
	return issue_end(ret, cert, gens);
}

int pki_sign_server(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const char *cn,
		    const char *const *names, size_t n, int64_t lifetime,
		    X509 **cert)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	X509V3_CTX ctx;
	int ret;

	ret = cert_begin(cert, ca, pub, cn, PKI_BACKDATE, lifetime, &ctx);
	if (!ret)
		ret = leaf_exts(*cert, &ctx, "serverAuth");
	if (!ret && !gens)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < n; i++)
		ret = add_san(gens, is_ip(names[i]) ? GEN_IPADD : GEN_DNS,
			      names[i]);
	if (!ret)
		ret = cert_finish(*cert, gens, ca_key);
	return issue_end(ret, cert, gens);
}
