// SPDX-License-Identifier: GPL-2.0-only
/* Keys, CSRs, and reading certificates (issuing is pki-sign.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "file.h"
#include "pki.h"

/* A PEM key file is about 240 bytes; anything much larger is not ours. */
#define KEY_FILE_MAX 16384

int pki_key_new(EVP_PKEY **key)
{
	*key = EVP_EC_gen("P-256");
	return *key ? 0 : -ENOMEM;
}

int pki_key_check(const EVP_PKEY *key)
{
	char group[32];

	if (!EVP_PKEY_is_a(key, "EC"))
		return -EKEYREJECTED;
	if (!EVP_PKEY_get_group_name(key, group, sizeof(group), NULL))
		return -EKEYREJECTED;
	return strcmp(group, "prime256v1") ? -EKEYREJECTED : 0;
}

/* The contents of a memory BIO, malloc'd and NUL-terminated. */
static int bio_take(BIO *b, char **text, size_t *len)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0)
		return -EIO;
	*text = malloc((size_t)n + 1);
	if (!*text)
		return -ENOMEM;
	memcpy(*text, p, (size_t)n);
	(*text)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

int pki_key_to_pem(EVP_PKEY *key, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int ret = -ENOMEM;

	if (!b)
		return -ENOMEM;
	/* PEM_write_bio_PrivateKey writes PKCS#8, unencrypted */
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1)
		ret = bio_take(b, pem, len);
	BIO_free(b);
	return ret;
}

int pki_key_from_pem(const char *pem, size_t len, EVP_PKEY **key)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	int ret;

	if (len > INT32_MAX || !b) {
		BIO_free(b);
		return -ENOMEM;
	}
	*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (!*key)
		return -EBADMSG;
	ret = pki_key_check(*key);
	if (ret < 0) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return ret;
}

int pki_key_save(const char *path, EVP_PKEY *key)
{
	char *pem;
	size_t len;
	int ret = pki_key_to_pem(key, &pem, &len);

	if (ret < 0)
		return ret;
	ret = file_write_atomic(path, pem, len, 0600, true);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return ret;
}

int pki_key_load(const char *path, EVP_PKEY **key)
{
	char *pem;
	size_t len;
	int ret = file_read(path, KEY_FILE_MAX, &pem, &len);

	if (ret < 0)
		return ret;
	ret = pki_key_from_pem(pem, len, key);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return ret;
}

int pki_csr_new(EVP_PKEY *key, const char *cn, unsigned char **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name;
	int n, ret = -EIO;

	*der = NULL;
	if (!req)
		return -ENOMEM;
	name = X509_REQ_get_subject_name(req);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto out;
	if (!X509_REQ_set_pubkey(req, key) ||
	    !X509_REQ_sign(req, key, EVP_sha256()))
		goto out;
	n = i2d_X509_REQ(req, der);
	if (n <= 0)
		goto out;
	*len = (size_t)n;
	ret = 0;
out:
	X509_REQ_free(req);
	ERR_clear_error();
	return ret;
}

int pki_csr_check(const void *der, size_t len, EVP_PKEY **pub,
		  struct pki_err *e)
{
	const unsigned char *p = der;
	X509_REQ *req = NULL;
	EVP_PKEY *k;
	int ret = -EBADMSG;

	*pub = NULL;
	if (len > PKI_DER_MAX) {
		snprintf(e->msg, sizeof(e->msg),
			 "CSR of %zu bytes, more than %d", len, PKI_DER_MAX);
		return -EBADMSG;
	}
	req = d2i_X509_REQ(NULL, &p, (long)len);
	if (!req) {
		snprintf(e->msg, sizeof(e->msg), "CSR is not DER PKCS#10");
		goto out;
	}
	if (p != (const unsigned char *)der + len) {
		snprintf(e->msg, sizeof(e->msg),
			 "CSR is followed by %zu more bytes",
			 len - (size_t)(p - (const unsigned char *)der));
		goto out;
	}
	k = X509_REQ_get0_pubkey(req);
	if (!k || pki_key_check(k) < 0) {
		char group[32] = "";

		if (k)
			EVP_PKEY_get_group_name(k, group, sizeof(group), NULL);
		snprintf(e->msg, sizeof(e->msg),
			 "CSR key is not EC P-256 (%s%s%s)",
			 k ? EVP_PKEY_get0_type_name(k) : "none",
			 group[0] ? " " : "", group);
		goto out;
	}
	if (X509_REQ_verify(req, k) != 1) {
		snprintf(e->msg, sizeof(e->msg),
			 "CSR signature does not verify");
		goto out;
	}
	ret = EVP_PKEY_up_ref(k) ? 0 : -ENOMEM;
	if (!ret)
		*pub = k;
out:
	X509_REQ_free(req);
	ERR_clear_error();
	return ret;
}

int pki_cert_to_der(X509 *cert, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_X509(cert, der);
	if (n <= 0)
		return -ENOMEM;
	*len = (size_t)n;
	return 0;
}

int pki_cert_from_der(const void *der, size_t len, X509 **cert)
{
	const unsigned char *p = der;

	*cert = NULL;
	if (len > PKI_DER_MAX)
		return -EBADMSG;
	*cert = d2i_X509(NULL, &p, (long)len);
	ERR_clear_error();
	if (*cert && p != (const unsigned char *)der + len) {
		X509_free(*cert);
		*cert = NULL;
	}
	return *cert ? 0 : -EBADMSG;
}

int pki_cert_to_pem(X509 *cert, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int ret = -ENOMEM;

	if (!b)
		return -ENOMEM;
	if (PEM_write_bio_X509(b, cert) == 1)
		ret = bio_take(b, pem, len);
	BIO_free(b);
	return ret;
}

int pki_cert_from_pem(const char *pem, size_t len, X509 **cert)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);

	if (len > INT32_MAX || !b) {
		BIO_free(b);
		return -ENOMEM;
	}
	*cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return *cert ? 0 : -EBADMSG;
}

int pki_fingerprint(X509 *cert, char fp[PKI_FP_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	/* X509_digest hashes the certificate's DER encoding */
	if (!X509_digest(cert, EVP_sha256(), md, &n) || n != 32)
		return -EIO;
	memcpy(fp, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++)
		snprintf(fp + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int pki_san_uri(X509 *cert, int i, char *buf, size_t size)
{
	GENERAL_NAMES *names =
		X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int ret = -ENOENT;

	for (int k = 0; k < sk_GENERAL_NAME_num(names); k++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, k);
		const ASN1_IA5STRING *s;
		int n;

		if (g->type != GEN_URI || i-- > 0)
			continue;
		s = g->d.uniformResourceIdentifier;
		n = ASN1_STRING_length(s);
		if ((size_t)n >= size) {
			ret = -ENAMETOOLONG;
		} else if (memchr(ASN1_STRING_get0_data(s), 0, (size_t)n)) {
			ret = -EBADMSG; /* a NUL would cut it short */
		} else {
			memcpy(buf, ASN1_STRING_get0_data(s), (size_t)n);
			buf[n] = '\0';
			ret = 0;
		}
		break;
	}
	GENERAL_NAMES_free(names);
	return ret;
}

int pki_not_after(X509 *cert, int64_t *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
		return -EBADMSG;
	*t = (int64_t)timegm(&tm);
	return 0;
}

int pki_serial_hex(X509 *cert, char serial[PKI_SERIAL_LEN])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	int ret = -ENOMEM;

	if (hex && strlen(hex) < PKI_SERIAL_LEN) {
		size_t i;

		for (i = 0; hex[i]; i++)
			serial[i] = (char)tolower((unsigned char)hex[i]);
		serial[i] = '\0';
		ret = 0;
	} else if (hex) {
		ret = -ERANGE;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return ret;
}

int pki_issued_by(X509 *cert, X509 *ca)
{
	int ret = -EKEYREJECTED;

	if (X509_check_issued(ca, cert) == X509_V_OK &&
	    X509_verify(cert, X509_get0_pubkey(ca)) == 1)
		ret = 0;
	ERR_clear_error();
	return ret;
}
