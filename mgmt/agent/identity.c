// SPDX-License-Identifier: GPL-2.0-only
/* The host's identity file: identity.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "file.h"
#include "identity.h"
#include "pki.h"

/* A key and two certificates in PEM are a few KiB. */
#define IDENTITY_FILE_MAX (64u << 10)

static bool id_chars(const char *s, size_t n)
{
	if (n == 0 || n > PROTO_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	}
	return true;
}

/* "moat:host:WSID:HOSTID" */
static int read_names(X509 *cert, struct identity_names *nm)
{
	static const char pre[] = "moat:host:";
	char uri[128], *ws, *host;

	for (int i = 0; pki_san_uri(cert, i, uri, sizeof(uri)) != -ENOENT;
	     i++) {
		if (strncmp(uri, pre, sizeof(pre) - 1))
			continue;
		ws = uri + sizeof(pre) - 1;
		host = strchr(ws, ':');
		if (!host || !id_chars(ws, (size_t)(host - ws)) ||
		    !id_chars(host + 1, strlen(host + 1)))
			return -EBADMSG;
		/* both checked: at most PROTO_ID_MAX */
		memcpy(nm->workspace_id, ws, (size_t)(host - ws));
		nm->workspace_id[host - ws] = '\0';
		host++;
		memcpy(nm->host_id, host, strlen(host) + 1);
		return 0;
	}
	return -EBADMSG;
}

static int parse_cert(const struct proto_blob *der, const char *what,
		      X509 **cert, char *why, size_t whysz)
{
	int ret = pki_cert_from_der(der->p, der->n, cert);

	if (ret < 0)
		snprintf(why, whysz,
			 "the %s certificate does not parse (%zu bytes of DER)",
			 what, der->n);
	return ret;
}

int identity_check(const struct psmsg_identity *id,
		   struct identity_names *names, char *why, size_t whysz)
{
	struct identity_names nm;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *ca = NULL;
	int ret;

	if (!psmsg_identity_present(id)) {
		snprintf(why, whysz,
			 "the identity lacks its key, certificate or CA");
		return -EBADMSG;
	}
	ret = pki_key_from_pem((const char *)id->key.p, id->key.n, &key);
	if (ret < 0) {
		snprintf(why, whysz,
			 ret == -EKEYREJECTED ?
				 "the key is not an EC P-256 key" :
				 "the key is not a PEM private key");
		goto out;
	}
	ret = parse_cert(&id->cert, "host", &cert, why, whysz);
	if (!ret)
		ret = parse_cert(&id->ca, "workspace CA", &ca, why, whysz);
	if (ret < 0)
		goto out;
	if (X509_check_private_key(cert, key) != 1) {
		snprintf(why, whysz, "the host certificate is not for the key");
		ret = -EKEYREJECTED;
		goto out;
	}
	ret = pki_issued_by(cert, ca);
	if (ret < 0) {
		snprintf(why, whysz,
			 "the workspace CA did not issue the host certificate");
		goto out;
	}
	ret = read_names(cert, &nm);
	if (ret < 0) {
		snprintf(
			why, whysz,
			"the host certificate has no SAN URI moat:host:WSID:HOSTID");
		goto out;
	}
	if (names)
		*names = nm;
out:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_free(ca);
	return ret;
}

static int append_cert(char **text, size_t *len, const struct proto_blob *der)
{
	X509 *cert = NULL;
	char *pem = NULL, *p;
	size_t n;
	int ret = pki_cert_from_der(der->p, der->n, &cert);

	if (!ret)
		ret = pki_cert_to_pem(cert, &pem, &n);
	X509_free(cert);
	if (ret < 0)
		return ret;
	p = realloc(*text, *len + n + 1);
	if (!p) {
		free(pem);
		return -ENOMEM;
	}
	memcpy(p + *len, pem, n + 1);
	*text = p;
	*len += n;
	free(pem);
	return 0;
}

static int path_of(const char *dir, char *path, size_t size)
{
	if (snprintf(path, size, "%s/%s", dir, IDENTITY_FILE) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int identity_save(const char *dir, const struct psmsg_identity *id, char *why,
		  size_t whysz)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = id->key.n;
	int ret = identity_check(id, NULL, why, whysz);

	if (ret < 0)
		return ret;
	ret = path_of(dir, path, sizeof(path));
	if (ret < 0)
		goto fail;
	text = malloc(len + 1);
	if (!text) {
		ret = -ENOMEM;
		goto fail;
	}
	memcpy(text, id->key.p, len);
	text[len] = '\0';
	/* a PEM block ends in a newline; one written without gets one */
	if (len && text[len - 1] != '\n') {
		char *p = realloc(text, len + 2);

		if (!p) {
			ret = -ENOMEM;
			goto fail;
		}
		text = p;
		text[len++] = '\n';
		text[len] = '\0';
	}
	ret = append_cert(&text, &len, &id->cert);
	if (!ret)
		ret = append_cert(&text, &len, &id->ca);
	if (!ret)
		ret = file_write_atomic(path, text, len, 0600, true);
fail:
	if (ret < 0)
		snprintf(why, whysz, "cannot write %s/%s: %s", dir,
			 IDENTITY_FILE, strerror(-ret));
	if (text)
		explicit_bzero(text, len);
	free(text);
	return ret;
}

/* The key back to PEM, the two certificates to DER. */
static int parse_file(const char *text, size_t len, struct psmsg_identity *id)
{
	BIO *b = BIO_new_mem_buf(text, (int)len);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *ca = NULL;
	char *pem = NULL;
	int ret = -EBADMSG;

	if (!b)
		return -ENOMEM;
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	/* PEM_read_bio_X509 skips blocks of other kinds: the key */
	b = BIO_new_mem_buf(text, (int)len);
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (cert)
		ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!key || !cert || !ca)
		goto out;
	ret = pki_key_to_pem(key, &pem, &id->key.n);
	if (!ret) {
		id->key.p = (uint8_t *)pem;
		ret = pki_cert_to_der(cert, &id->cert.p, &id->cert.n);
	}
	if (!ret)
		ret = pki_cert_to_der(ca, &id->ca.p, &id->ca.n);
out:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_free(ca);
	return ret;
}

int identity_load(const char *dir, struct psmsg_identity *id, char *why,
		  size_t whysz)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int ret;

	memset(id, 0, sizeof(*id));
	ret = path_of(dir, path, sizeof(path));
	if (!ret)
		ret = file_read(path, IDENTITY_FILE_MAX, &text, &len);
	if (ret == -ENOENT)
		return ret;
	if (ret < 0) {
		snprintf(why, whysz, "cannot read %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	ret = parse_file(text, len, id);
	explicit_bzero(text, len);
	free(text);
	if (ret < 0) {
		snprintf(
			why, whysz,
			"%s does not hold a private key and two certificates in PEM",
			path);
		psmsg_identity_free(id);
		return ret;
	}
	ret = identity_check(id, NULL, why, whysz);
	if (ret < 0)
		psmsg_identity_free(id);
	return ret;
}
