// SPDX-License-Identifier: GPL-2.0-only
/*
 * The first start: the control-plane CA and its server certificate, the
 * first workspace and its CA, and an admin API key that is shown once.
 * Every later start finds them in the store and only says where it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"
#include "file.h"
#include "log.h"
#include "pki.h"

#define CA_LIFETIME (10 * 365 * 86400LL)
#define SERVER_LIFETIME (365 * 86400LL)

/* A new CA: certificate as DER, key as PEM, into @ca and @key. */
static int make_ca(const char *cn, const char *uri, struct store_blob *ca,
		   struct store_blob *key, X509 **cert_out, EVP_PKEY **key_out)
{
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	char *pem = NULL;
	size_t len;
	int ret;

	ret = pki_key_new(&k);
	if (ret == 0)
		ret = pki_ca_new(k, cn, uri, CA_LIFETIME, &c);
	if (ret == 0)
		ret = pki_cert_to_der(c, &ca->data, &ca->len);
	if (ret == 0)
		ret = pki_key_to_pem(k, &pem, &len);
	if (ret == 0) {
		key->data = (unsigned char *)pem;
		key->len = len;
		pem = NULL;
	}
	if (ret == 0 && cert_out) {
		*cert_out = c;
		c = NULL;
	}
	if (ret == 0 && key_out) {
		*key_out = k;
		k = NULL;
	}
	X509_free(c);
	EVP_PKEY_free(k);
	free(pem);
	return ret;
}

/* The default names of the server certificate: where it may be reached. */
static size_t default_sans(const char **names, char *host, size_t hostsz)
{
	size_t n = 0;

	names[n++] = "localhost";
	names[n++] = "127.0.0.1";
	names[n++] = "::1";
	if (gethostname(host, hostsz - 1) == 0 && host[0] &&
	    strcmp(host, "localhost"))
		names[n++] = host;
	return n;
}

static int make_server_cert(struct cp *cp, X509 *ca, EVP_PKEY *ca_key,
			    struct store_blob *cert, struct store_blob *key)
{
	const char *names[CP_SANS_MAX + 4];
	char host[256] = "";
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	char *pem = NULL;
	size_t n, len;
	int ret;

	if (cp->opt.nsans) {
		n = (size_t)cp->opt.nsans;
		memcpy(names, cp->opt.sans, n * sizeof(names[0]));
	} else {
		n = default_sans(names, host, sizeof(host));
	}
	ret = pki_key_new(&k);
	if (ret == 0)
		ret = pki_sign_server(ca, ca_key, k, "moat-controlplane", names,
				      n, SERVER_LIFETIME, &c);
	if (ret == 0)
		ret = pki_cert_to_der(c, &cert->data, &cert->len);
	if (ret == 0)
		ret = pki_key_to_pem(k, &pem, &len);
	if (ret == 0) {
		key->data = (unsigned char *)pem;
		key->len = len;
		pem = NULL;
	}
	X509_free(c);
	EVP_PKEY_free(k);
	free(pem);
	return ret;
}

/* STATE/ca.crt: what operators give moatctl --cacert, and its pin. */
static int write_ca(struct cp *cp, const struct store_blob *der, char fp[PKI_FP_LEN])
{
	char path[PATH_MAX + 16];
	X509 *ca = NULL;
	char *pem = NULL;
	size_t len;
	int ret;

	ret = pki_cert_from_der(der->data, der->len, &ca);
	if (ret == 0)
		ret = pki_fingerprint(ca, fp);
	if (ret == 0)
		ret = pki_cert_to_pem(ca, &pem, &len);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/ca.crt", cp->opt.state_dir);
		ret = file_write_atomic(path, pem, len, 0644, true);
	}
	X509_free(ca);
	free(pem);
	return ret;
}

static int show_admin_key(struct cp *cp, const char *secret)
{
	char line[STORE_SECRET_LEN + 2];
	int n, ret;

	if (!cp->opt.admin_key_file[0]) {
		printf("admin key: %s\n"
		       "  (shown only now: keep it, e.g. in a file for moatctl --api-key-file)\n",
		       secret);
		fflush(stdout);
		return 0;
	}
	n = snprintf(line, sizeof(line), "%s\n", secret);
	ret = file_write_atomic(cp->opt.admin_key_file, line, (size_t)n, 0600,
				true);
	if (ret)
		log_err("cannot write the admin key to %s: %s",
			cp->opt.admin_key_file, strerror(-ret));
	else
		log_info("admin key written to %s", cp->opt.admin_key_file);
	return ret;
}

static int first_start(struct cp *cp)
{
	struct store_bootstrap b = { .org = cp->opt.org,
				     .ws_name = cp->opt.workspace };
	char ws_id[STORE_ID_LEN], uri[64], cn[128], fp[PKI_FP_LEN];
	char key_id[STORE_ID_LEN], secret[STORE_SECRET_LEN];
	EVP_PKEY *server_ca_key = NULL;
	X509 *server_ca = NULL;
	int ret;

	ret = store_new_id('w', ws_id);
	if (ret)
		return ret;
	b.ws_id = ws_id;
	snprintf(uri, sizeof(uri), "moat:workspace:%s", ws_id);
	snprintf(cn, sizeof(cn), "moat workspace %s", cp->opt.workspace);
	ret = make_ca(cn, uri, &b.ws_ca, &b.ws_key, NULL, NULL);
	if (ret)
		goto out;
	snprintf(cn, sizeof(cn), "moat control plane CA %s", cp->opt.org);
	ret = make_ca(cn, NULL, &b.server_ca, &b.server_ca_key, &server_ca,
		      &server_ca_key);
	if (ret)
		goto out;
	ret = make_server_cert(cp, server_ca, server_ca_key, &b.server_cert,
			       &b.server_key);
	if (ret)
		goto out;
	ret = store_bootstrap(cp->store, &b, key_id, secret);
	if (ret)
		goto out;
	ret = write_ca(cp, &b.server_ca, fp);
	if (ret)
		goto out;
	log_info("bootstrapped organization '%s', workspace '%s' (%s)",
		 cp->opt.org, cp->opt.workspace, ws_id);
	printf("control plane CA: %s (in %s/ca.crt)\n", fp, cp->opt.state_dir);
	fflush(stdout);
	ret = show_admin_key(cp, secret);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	X509_free(server_ca);
	EVP_PKEY_free(server_ca_key);
	store_blob_clear(&b.ws_ca);
	store_blob_clear(&b.ws_key);
	store_blob_clear(&b.server_ca);
	store_blob_clear(&b.server_ca_key);
	store_blob_clear(&b.server_cert);
	store_blob_clear(&b.server_key);
	return ret;
}

int cp_bootstrap(struct cp *cp)
{
	bool done;
	int ret;

	ret = store_bootstrapped(cp->store, &done);
	if (ret)
		return ret;
	if (done) {
		if (cp->opt.admin_key_file[0] || cp->opt.nsans)
			log_warn("the store is set up already: --admin-key-file and --san count only on the first start");
		return 0;
	}
	ret = first_start(cp);
	if (ret)
		log_err("cannot set up the control plane: %s", strerror(-ret));
	return ret;
}

int cp_workspace_create(struct cp *cp, const struct store_who *who,
			const char *name, struct store_workspace *out)
{
	struct store_blob ca = { 0 }, key = { 0 };
	char id[STORE_ID_LEN], uri[64], cn[128];
	int ret;

	if (!store_name_valid(name))
		return -EINVAL;
	ret = store_new_id('w', id);
	if (ret)
		return ret;
	snprintf(uri, sizeof(uri), "moat:workspace:%s", id);
	snprintf(cn, sizeof(cn), "moat workspace %s", name);
	ret = make_ca(cn, uri, &ca, &key, NULL, NULL);
	if (ret == 0)
		ret = store_workspace_create(cp->store, who, id, name, &ca, &key);
	/* trusted from now on, for the certificates this CA will sign */
	if (ret == 0)
		ret = cp_trust_workspace_ca(cp, ca.data, ca.len);
	if (ret == 0 && out)
		ret = store_workspace_get(cp->store, id, out);
	store_blob_clear(&ca);
	store_blob_clear(&key);
	return ret;
}
