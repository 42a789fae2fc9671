// SPDX-License-Identifier: GPL-2.0-only
/* The control plane's two listening sockets and their TLS contexts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cp.h"
#include "log.h"
#include "pki.h"

/* How often, 100 ms apart, a port in use is tried again. */
#define BIND_TRIES 50

/* "1.2.3.4:7443", "[::]:7443" or ":7443" (every IPv6 and IPv4 address). */
static int parse_addr(const char *s, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	char *end;
	unsigned long port;
	size_t hn;

	if (!colon)
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535)
		return -EINVAL;
	hn = (size_t)(colon - s);
	if (hn >= 2 && s[0] == '[' && s[hn - 1] == ']') {
		s++;
		hn -= 2;
	}
	if (hn >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hn);
	host[hn] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hn == 0 || inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	return -EINVAL;
}

static int bind_one(const char *what, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0, ret;

	ret = parse_addr(addr, &ss, &len);
	if (ret) {
		log_err("%s: expected ADDRESS:PORT, [IPV6]:PORT or :PORT: '%s'",
			what, addr);
		return ret;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* ":PORT" is every address of both families */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	/*
	 * A control plane that was killed leaves its listening socket to the
	 * kernel's io_uring teardown for a moment after it is reaped: a
	 * restart right away (systemd's Restart=) waits that out.
	 */
	for (int i = 0; bind(fd, (struct sockaddr *)&ss, len) < 0; i++) {
		if (errno != EADDRINUSE || i == BIND_TRIES) {
			ret = -errno;
			log_err("%s: cannot listen on %s: %s", what, addr,
				strerror(-ret));
			close(fd);
			return ret;
		}
		if (i == 0)
			log_info("%s: %s is in use; waiting for it", what, addr);
		usleep(100 * 1000);
	}
	if (listen(fd, SOMAXCONN) < 0) {
		ret = -errno;
		log_err("%s: cannot listen on %s: %s", what, addr,
			strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int cp_bind(struct cp *cp)
{
	cp->agent_fd = bind_one("--listen", cp->opt.listen);
	if (cp->agent_fd < 0)
		return cp->agent_fd;
	cp->api_fd = bind_one("--api-listen", cp->opt.api_listen);
	if (cp->api_fd < 0)
		return cp->api_fd;
	if (!cp->opt.metrics_listen[0])
		return 0;
	cp->metrics_fd = bind_one("--metrics-listen", cp->opt.metrics_listen);
	return cp->metrics_fd < 0 ? cp->metrics_fd : 0;
}

int cp_trust_workspace_ca(struct cp *cp, const void *der, size_t len)
{
	X509 *ca = NULL;
	int ret;

	ret = pki_cert_from_der(der, len, &ca);
	if (ret)
		return ret;
	/* the store keeps its own reference */
	ret = X509_STORE_add_cert(cp->ws_cas, ca) == 1 ? 0 : -EIO;
	X509_free(ca);
	return ret;
}

static int trust_one(void *arg, const struct store_workspace *w)
{
	return cp_trust_workspace_ca(arg, w->ca.data, w->ca.len);
}

static void on_accept(struct loop *l, struct loop_op *op, int res);

static int arm(struct cp *cp, struct loop_op *op, int fd)
{
	op->data = cp;
	return loop_accept(&cp->loop, op, fd, on_accept);
}

static void on_accept(struct loop *l, struct loop_op *op, int res)
{
	struct cp *cp = op->data;
	bool agent = op == &cp->agent_accept;
	bool metrics = op == &cp->metrics_accept;
	const char *what = agent ? "--listen" : metrics ? "--metrics-listen" :
							   "--api-listen";

	if (res == -ECANCELED || cp->stopping)
		goto out;
	if (res < 0) {
		/* EMFILE and the like pass; a busy second is not a reason to die */
		log_warn("accept on %s: %s", what, strerror(-res));
	} else if (agent) {
		cp_session_accept(cp, res);
	} else if (metrics) {
		cp_metrics_accept(cp, res);
	} else {
		cp_api_accept(cp, res);
	}
	if (arm(cp, op, agent ? cp->agent_fd : metrics ? cp->metrics_fd :
							  cp->api_fd) < 0)
		log_err("cannot accept on %s any more", what);
	return;
out:
	if (res >= 0)
		close(res);
}

int cp_listen(struct cp *cp)
{
	struct store_server srv = { 0 };
	struct tls_config tc = { 0 };
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char fp[PKI_FP_LEN];
	int ret;

	ret = store_server_get(cp->store, &srv);
	if (ret)
		return ret;
	ret = pki_cert_from_der(srv.ca.data, srv.ca.len, &cp->server_ca);
	if (ret == 0)
		ret = pki_cert_from_der(srv.cert.data, srv.cert.len, &cert);
	if (ret == 0)
		ret = pki_key_from_pem((const char *)srv.key.data, srv.key.len,
				       &key);
	if (ret)
		goto out;
	cp->ws_cas = X509_STORE_new();
	if (!cp->ws_cas) {
		ret = -ENOMEM;
		goto out;
	}
	ret = store_workspace_list(cp->store, true, trust_one, cp);
	if (ret)
		goto out;

	tc.cert = cert;
	tc.key = key;
	tc.chain = &cp->server_ca;
	tc.nchain = 1;
	ret = tls_ctx_new(&cp->api_tls, true, &tc);
	if (ret)
		goto out;
	tc.client_cas = cp->ws_cas;
	ret = tls_ctx_new(&cp->agent_tls, true, &tc);
	if (ret)
		goto out;

	ret = arm(cp, &cp->agent_accept, cp->agent_fd);
	if (ret == 0)
		ret = arm(cp, &cp->api_accept, cp->api_fd);
	if (ret == 0 && cp->opt.metrics_listen[0]) {
		ret = arm(cp, &cp->metrics_accept, cp->metrics_fd);
		if (ret == 0)
			log_info("metrics on http://%s/metrics",
				 cp->opt.metrics_listen);
	}
	if (ret == 0 && pki_fingerprint(cp->server_ca, fp) == 0)
		log_info("organization '%s'; agents on %s, operators on %s; CA %s",
			 srv.org, cp->opt.listen, cp->opt.api_listen, fp);
out:
	store_server_clear(&srv);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
