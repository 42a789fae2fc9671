// SPDX-License-Identifier: GPL-2.0-only
/* The identity the parent checks and keeps: identity.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "file.h"
#include "identity.h"
#include "pki.h"

#define DAY 86400

/* A workspace CA, and a host certificate it signed for a new key. */
struct fixture {
	EVP_PKEY *ca_key, *key;
	X509 *ca, *cert;
	struct psmsg_identity id;
	char dir[32];
};

static void make_identity(struct fixture *f, EVP_PKEY *key, X509 *cert,
			  X509 *ca, struct psmsg_identity *id)
{
	char *pem;

	memset(id, 0, sizeof(*id));
	assert_int_equal(pki_key_to_pem(key, &pem, &id->key.n), 0);
	id->key.p = (uint8_t *)pem;
	assert_int_equal(pki_cert_to_der(cert, &id->cert.p, &id->cert.n), 0);
	assert_int_equal(pki_cert_to_der(ca, &id->ca.p, &id->ca.n), 0);
	(void)f;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char serial[PKI_SERIAL_LEN];

	assert_non_null(f);
	assert_int_equal(pki_key_new(&f->ca_key), 0);
	assert_int_equal(pki_ca_new(f->ca_key, "moat workspace default",
				    "moat:workspace:wabcdefghij", 10 * DAY,
				    &f->ca),
			 0);
	assert_int_equal(pki_key_new(&f->key), 0);
	assert_int_equal(pki_sign_host(f->ca, f->ca_key, f->key, "wabcdefghij",
				       "hbcdefghijk", DAY, &f->cert, serial),
			 0);
	make_identity(f, f->key, f->cert, f->ca, &f->id);
	strcpy(f->dir, "/tmp/test-identity.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[64];

	snprintf(path, sizeof(path), "%s/" IDENTITY_FILE, f->dir);
	unlink(path);
	rmdir(f->dir);
	psmsg_identity_free(&f->id);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->key);
	X509_free(f->ca);
	X509_free(f->cert);
	free(f);
	return 0;
}

static void test_good(void **state)
{
	struct fixture *f = *state;
	struct identity_names nm;
	char why[256];

	assert_int_equal(identity_check(&f->id, &nm, why, sizeof(why)), 0);
	assert_string_equal(nm.host_id, "hbcdefghijk");
	assert_string_equal(nm.workspace_id, "wabcdefghij");
}

/* Each way the session process could hand over something broken. */
static void test_refused(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *other_key, *p384 = EVP_EC_gen("P-384"), *other_ca_key;
	X509 *other_ca, *other_cert;
	struct psmsg_identity bad;
	char serial[PKI_SERIAL_LEN], why[256];
	uint8_t junk[] = "not a key";

	assert_int_equal(pki_key_new(&other_key), 0);
	assert_int_equal(pki_key_new(&other_ca_key), 0);
	assert_int_equal(pki_ca_new(other_ca_key, "moat workspace other", NULL,
				    DAY, &other_ca),
			 0);

	/* the certificate is not for the key */
	make_identity(f, other_key, f->cert, f->ca, &bad);
	assert_int_equal(identity_check(&bad, NULL, why, sizeof(why)),
			 -EKEYREJECTED);
	assert_string_equal(why, "the host certificate is not for the key");
	psmsg_identity_free(&bad);

	/* another CA than the one that issued it */
	make_identity(f, f->key, f->cert, other_ca, &bad);
	assert_int_equal(identity_check(&bad, NULL, why, sizeof(why)),
			 -EKEYREJECTED);
	assert_string_equal(
		why, "the workspace CA did not issue the host certificate");
	psmsg_identity_free(&bad);

	/* a certificate without the host SAN (the CA's own, self-issued) */
	make_identity(f, other_ca_key, other_ca, other_ca, &bad);
	assert_int_equal(identity_check(&bad, NULL, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "moat:host:"));
	psmsg_identity_free(&bad);

	/* a key of another curve: P-256 only */
	assert_int_equal(pki_sign_host(f->ca, f->ca_key, p384, "wabcdefghij",
				       "hbcdefghijk", DAY, &other_cert, serial),
			 0);
	make_identity(f, p384, other_cert, f->ca, &bad);
	assert_int_equal(identity_check(&bad, NULL, why, sizeof(why)),
			 -EKEYREJECTED);
	assert_string_equal(why, "the key is not an EC P-256 key");
	psmsg_identity_free(&bad);
	X509_free(other_cert);

	/* a key that is no PEM, and a certificate cut short */
	assert_int_equal(psmsg_identity_copy(&bad, &f->id), 0);
	free(bad.key.p);
	bad.key.p = malloc(sizeof(junk));
	memcpy(bad.key.p, junk, sizeof(junk));
	bad.key.n = sizeof(junk);
	assert_int_equal(identity_check(&bad, NULL, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "the key is not a PEM private key");
	psmsg_identity_free(&bad);
	assert_int_equal(psmsg_identity_copy(&bad, &f->id), 0);
	bad.cert.n /= 2;
	assert_int_equal(identity_check(&bad, NULL, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "does not parse"));
	/* nothing is written when the check fails */
	assert_int_equal(identity_save(f->dir, &bad, why, sizeof(why)),
			 -EBADMSG);
	assert_int_equal(access(f->dir, F_OK), 0);
	{
		char path[64];

		snprintf(path, sizeof(path), "%s/" IDENTITY_FILE, f->dir);
		assert_int_equal(access(path, F_OK), -1);
	}
	psmsg_identity_free(&bad);

	EVP_PKEY_free(other_key);
	EVP_PKEY_free(other_ca_key);
	EVP_PKEY_free(p384);
	X509_free(other_ca);
}

static void test_save_load(void **state)
{
	struct fixture *f = *state;
	struct psmsg_identity back;
	char path[64], why[256], *text;
	struct stat st;
	size_t len;

	assert_int_equal(identity_load(f->dir, &back, why, sizeof(why)),
			 -ENOENT);
	assert_int_equal(identity_save(f->dir, &f->id, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/" IDENTITY_FILE, f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* it holds the key */

	/* one file: the key, then the host certificate, then the CA */
	assert_int_equal(file_read(path, 1 << 16, &text, &len), 0);
	assert_true(strstr(text, "BEGIN PRIVATE KEY") <
		    strstr(text, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(strstr(text, "END CERTIFICATE") + 1,
			       "BEGIN CERTIFICATE"));
	free(text);

	assert_int_equal(identity_load(f->dir, &back, why, sizeof(why)), 0);
	assert_int_equal(back.cert.n, f->id.cert.n);
	assert_memory_equal(back.cert.p, f->id.cert.p, f->id.cert.n);
	assert_memory_equal(back.ca.p, f->id.ca.p, f->id.ca.n);
	assert_int_equal(identity_check(&back, NULL, why, sizeof(why)), 0);
	psmsg_identity_free(&back);

	/* a file of something else is said so */
	assert_int_equal(file_write_atomic(path, "hello\n", 6, 0600, false), 0);
	assert_int_equal(identity_load(f->dir, &back, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "does not hold a private key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
