// SPDX-License-Identifier: GPL-2.0-only
/* Keys, CSRs, CAs, host and server certificates, and what is read back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "pki.h"

#define DAY 86400

static void test_key(void **state)
{
	char dir[] = "/tmp/test-pki.XXXXXX", path[64];
	EVP_PKEY *k, *back, *p384 = EVP_EC_gen("P-384");
	struct stat st;
	size_t len;
	char *pem;

	(void)state;
	assert_int_equal(pki_key_new(&k), 0);
	assert_int_equal(pki_key_check(k), 0);
	assert_int_equal(pki_key_check(p384), -EKEYREJECTED);

	assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	/* PKCS#8, not the traditional "EC PRIVATE KEY" */
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(pki_key_from_pem(pem, len, &back), 0);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	/* cut short, it is no key */
	assert_int_equal(pki_key_from_pem(pem, len / 2, &back), -EBADMSG);
	assert_null(back);
	free(pem);

	/* a key of another curve is refused on the way in too */
	assert_int_equal(pki_key_to_pem(p384, &pem, &len), 0);
	assert_int_equal(pki_key_from_pem(pem, len, &back), -EKEYREJECTED);
	assert_null(back);
	free(pem);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/host.key", dir);
	assert_int_equal(pki_key_save(path, k), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* a private key */
	assert_int_equal(pki_key_load(path, &back), 0);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	/* saving again replaces it whole */
	assert_int_equal(pki_key_save(path, p384), 0);
	assert_int_equal(pki_key_load(path, &back), -EKEYREJECTED);
	unlink(path);
	assert_int_equal(pki_key_load(path, &back), -ENOENT);
	rmdir(dir);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p384);
}

static void test_csr(void **state)
{
	EVP_PKEY *k, *pub, *p384 = EVP_EC_gen("P-384");
	struct pki_err e = { "" };
	unsigned char *der, *bad;
	size_t len;

	(void)state;
	assert_int_equal(pki_key_new(&k), 0);
	assert_int_equal(pki_csr_new(k, "web-1", &der, &len), 0);
	assert_true(len > 100 && len < 1000);
	assert_int_equal(pki_csr_check(der, len, &pub, &e), 0);
	assert_int_equal(EVP_PKEY_eq(k, pub), 1); /* the key it carries */
	EVP_PKEY_free(pub);

	bad = malloc(PKI_DER_MAX + 1);
	assert_non_null(bad);

	assert_int_equal(pki_csr_check(der, len - 1, &pub, &e), -EBADMSG);
	assert_null(pub);
	assert_string_equal(e.msg, "CSR is not DER PKCS#10");

	memcpy(bad, der, len);
	bad[len] = 0;
	assert_int_equal(pki_csr_check(bad, len + 1, &pub, &e), -EBADMSG);
	assert_string_equal(e.msg, "CSR is followed by 1 more bytes");

	/* the last byte is the signature's: the CSR still parses */
	memcpy(bad, der, len);
	bad[len - 1] ^= 0x01;
	assert_int_equal(pki_csr_check(bad, len, &pub, &e), -EBADMSG);
	assert_string_equal(e.msg, "CSR signature does not verify");

	memset(bad, 0, PKI_DER_MAX + 1);
	assert_int_equal(pki_csr_check(bad, PKI_DER_MAX + 1, &pub, &e),
			 -EBADMSG);
	assert_string_equal(e.msg, "CSR of 8193 bytes, more than 8192");
	free(der);

	assert_int_equal(pki_csr_new(p384, "web-1", &der, &len), 0);
	assert_int_equal(pki_csr_check(der, len, &pub, &e), -EBADMSG);
	assert_string_equal(e.msg, "CSR key is not EC P-256 (EC secp384r1)");
	free(der);
	free(bad);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p384);
}

/* A certificate verifies against @ca for @purpose (X509_PURPOSE_...). */
static int verify(X509 *cert, X509 *ca, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *x = X509_STORE_CTX_new();
	int ok;

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(x, store, cert, NULL);
	X509_STORE_CTX_set_purpose(x, purpose);
	ok = X509_verify_cert(x);
	X509_STORE_CTX_free(x);
	X509_STORE_free(store);
	return ok;
}

static void test_ca_and_host(void **state)
{
	EVP_PKEY *cak, *otherk, *hk;
	X509 *ca, *other, *host, *host2;
	char buf[128], serial[PKI_SERIAL_LEN], serial2[PKI_SERIAL_LEN];
	int64_t t, now = (int64_t)time(NULL);

	(void)state;
	assert_int_equal(pki_key_new(&cak), 0);
	assert_int_equal(pki_key_new(&otherk), 0);
	assert_int_equal(pki_key_new(&hk), 0);
	assert_int_equal(pki_ca_new(cak, "moat workspace prod",
				    "moat:workspace:wabcdefghij", 3650ll * DAY,
				    &ca),
			 0);
	assert_int_equal(pki_ca_new(otherk, "moat workspace dev", NULL,
				    3650ll * DAY, &other),
			 0);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(pki_issued_by(ca, ca), 0); /* self-signed */
	assert_int_equal(pki_san_uri(ca, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "moat:workspace:wabcdefghij");
	assert_int_equal(pki_san_uri(ca, 1, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(pki_san_uri(other, 0, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(pki_not_after(ca, &t), 0);
	assert_true(t >= now + 3650ll * DAY && t <= now + 3650ll * DAY + 60);

	assert_int_equal(pki_sign_host(ca, cak, hk, "wabcdefghij",
				       "hklmnopqrst", DAY, &host, serial),
			 0);
	assert_int_equal(X509_check_ca(host), 0);
	assert_int_equal(X509_NAME_get_text_by_NID(X509_get_subject_name(host),
						   NID_commonName, buf,
						   sizeof(buf)),
			 11);
	assert_string_equal(buf, "hklmnopqrst");
	assert_int_equal(pki_san_uri(host, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "moat:host:wabcdefghij:hklmnopqrst");
	assert_int_equal(pki_san_uri(host, 0, buf, 10), -ENAMETOOLONG);
	/* 128 bits with the top one set: always 32 hex digits */
	assert_int_equal(strlen(serial), 32);
	assert_int_equal(strspn(serial, "0123456789abcdef"), 32);
	assert_int_equal(pki_serial_hex(host, serial2), 0);
	assert_string_equal(serial, serial2);
	assert_int_equal(pki_not_after(host, &t), 0);
	assert_true(t >= now + DAY && t <= now + DAY + 60);
	/* backdated for clock skew */
	assert_true(ASN1_TIME_cmp_time_t(X509_get0_notBefore(host),
					 (time_t)(now - PKI_BACKDATE + 60)) <
		    0);
	assert_true(X509_get_extended_key_usage(host) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(host) & XKU_SSL_SERVER);
	/* CA:FALSE written out, not merely absent */
	assert_true(X509_get_extension_flags(host) & EXFLAG_BCONS);

	assert_int_equal(pki_issued_by(host, ca), 0);
	assert_int_equal(pki_issued_by(host, other), -EKEYREJECTED);
	assert_int_equal(verify(host, ca, X509_PURPOSE_SSL_CLIENT), 1);
	assert_int_equal(verify(host, ca, X509_PURPOSE_SSL_SERVER), 0);
	assert_int_equal(verify(host, other, X509_PURPOSE_SSL_CLIENT), 0);

	/* each certificate its own serial */
	assert_int_equal(pki_sign_host(ca, cak, hk, "wabcdefghij",
				       "hklmnopqrst", DAY, &host2, serial2),
			 0);
	assert_string_not_equal(serial, serial2);
	/* same name, but another CA's signature: not issued by @ca */
	X509_free(host2);
	assert_int_equal(pki_sign_host(other, otherk, hk, "wabcdefghij",
				       "hklmnopqrst", DAY, &host2, serial2),
			 0);
	assert_int_equal(pki_issued_by(host2, ca), -EKEYREJECTED);
	X509_free(host2);
	assert_int_equal(
		pki_sign_host(ca, cak, hk, "w", "h", 0, &host2, serial2),
		-EINVAL);
	assert_null(host2);

	X509_free(host);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(otherk);
	EVP_PKEY_free(hk);
}

static void test_server_and_codecs(void **state)
{
	const char *names[] = { "localhost", "cp.example.org", "127.0.0.1",
				"::1" };
	unsigned char md[32], *der, *bad;
	EVP_PKEY *cak, *k;
	X509 *ca, *srv, *back;
	char fp[PKI_FP_LEN], hex[65], *pem;
	size_t len;

	(void)state;
	assert_int_equal(pki_key_new(&cak), 0);
	assert_int_equal(pki_key_new(&k), 0);
	assert_int_equal(pki_ca_new(cak, "moat control plane CA default", NULL,
				    3650ll * DAY, &ca),
			 0);
	assert_int_equal(pki_sign_server(ca, cak, k, "moat-controlplane", names,
					 4, 365ll * DAY, &srv),
			 0);
	assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(srv, "cp.example.org", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(srv, "example.org", 0, 0, NULL), 0);
	/* addresses are IP SANs, not DNS names */
	assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(srv, "127.0.0.2", 0), 0);
	assert_int_equal(X509_check_host(srv, "127.0.0.1", 0, 0, NULL), 0);
	assert_true(X509_get_extended_key_usage(srv) & XKU_SSL_SERVER);
	assert_int_equal(verify(srv, ca, X509_PURPOSE_SSL_SERVER), 1);

	/* the fingerprint is SHA-256 over the DER */
	assert_int_equal(pki_cert_to_der(ca, &der, &len), 0);
	assert_non_null(EVP_Q_digest(NULL, "SHA256", NULL, der, len, md, NULL));
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(pki_fingerprint(ca, fp), 0);
	assert_int_equal(strlen(fp), PKI_FP_LEN - 1);
	assert_memory_equal(fp, "sha256:", 7);
	assert_string_equal(fp + 7, hex);

	assert_int_equal(pki_cert_from_der(der, len, &back), 0);
	assert_int_equal(X509_cmp(back, ca), 0);
	X509_free(back);
	bad = malloc(len + 1);
	assert_non_null(bad);
	memcpy(bad, der, len);
	bad[len] = 0x30;
	assert_int_equal(pki_cert_from_der(bad, len + 1, &back), -EBADMSG);
	assert_null(back);
	assert_int_equal(pki_cert_from_der(bad, len - 1, &back), -EBADMSG);
	free(bad);
	free(der);

	assert_int_equal(pki_cert_to_pem(srv, &pem, &len), 0);
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
	assert_int_equal(pki_cert_from_pem(pem, len, &back), 0);
	assert_int_equal(X509_cmp(back, srv), 0);
	X509_free(back);
	assert_int_equal(pki_cert_from_pem(pem, 30, &back), -EBADMSG);
	free(pem);

	X509_free(srv);
	X509_free(ca);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_ca_and_host),
		cmocka_unit_test(test_server_and_codecs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
