// SPDX-License-Identifier: GPL-2.0-only
/*
 * What an idle TLS connection costs: N mutual-TLS connections over
 * loopback, a server in this process and the clients in a child, each
 * having exchanged one small message.  Prints resident memory and heap in
 * use per connection on both sides.  A measurement, not a test:
 *
 *   tls-mem [N]   (default 2000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tls.h"

#define DAY 86400

static struct {
	EVP_PKEY *ca_key, *srv_key, *ws_key, *host_key;
	X509 *ca, *srv, *ws_ca, *host;
	X509_STORE *client_cas;
	char fp[PKI_FP_LEN];
} pk;

static struct loop l;
static int n_conns, n_done;

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static size_t heap_used(void)
{
	return mallinfo2().uordblks;
}

static void make_certs(void)
{
	const char *names[] = { "127.0.0.1" };
	char serial[PKI_SERIAL_LEN];

	if (pki_key_new(&pk.ca_key) || pki_key_new(&pk.srv_key) ||
	    pki_key_new(&pk.ws_key) || pki_key_new(&pk.host_key) ||
	    pki_ca_new(pk.ca_key, "moat control plane CA", NULL, DAY, &pk.ca) ||
	    pki_sign_server(pk.ca, pk.ca_key, pk.srv_key, "moat-controlplane",
			    names, 1, DAY, &pk.srv) ||
	    pki_ca_new(pk.ws_key, "moat workspace w", "moat:workspace:w", DAY,
		       &pk.ws_ca) ||
	    pki_sign_host(pk.ws_ca, pk.ws_key, pk.host_key, "w", "h", DAY,
			  &pk.host, serial) ||
	    pki_fingerprint(pk.ca, pk.fp)) {
		fprintf(stderr, "tls-mem: making certificates failed\n");
		exit(1);
	}
	pk.client_cas = X509_STORE_new();
	X509_STORE_add_cert(pk.client_cas, pk.ws_ca);
}

static void on_closed(struct tls_conn *c, const char *err, void *data)
{
	fprintf(stderr, "tls-mem: closed: %s\n", err ? err : "cleanly");
	exit(1);
}

static void srv_data(struct tls_conn *c, const void *buf, size_t len,
		     void *data)
{
	tls_conn_write(c, "pong", 4);
	if (++n_done == n_conns)
		loop_stop(&l, 0);
}

static void cli_handshake(struct tls_conn *c, void *data)
{
	tls_conn_write(c, "ping", 4);
}

static void cli_data(struct tls_conn *c, const void *buf, size_t len,
		     void *data)
{
	if (++n_done == n_conns)
		loop_stop(&l, 0);
}

static const struct tls_conn_ops srv_ops = { .data = srv_data,
					     .closed = on_closed };
static const struct tls_conn_ops cli_ops = { .handshake = cli_handshake,
					     .data = cli_data,
					     .closed = on_closed };

static struct tls_ctx *ctx;

static void on_accept(struct loop *lp, struct loop_op *op, int fd)
{
	struct tls_conn *c;

	if (fd < 0 || tls_conn_new(&c, lp, ctx, fd, NULL, &srv_ops, NULL)) {
		fprintf(stderr, "tls-mem: accept: %s\n", strerror(-fd));
		exit(1);
	}
	loop_accept(lp, op, op->fd, on_accept);
}

static void clients(const struct sockaddr_in *sa, int ready)
{
	struct tls_config cfg = { .cert = pk.host,
				  .key = pk.host_key,
				  .pin = pk.fp };
	long rss0;
	size_t heap0;

	if (tls_ctx_new(&ctx, false, &cfg))
		exit(1);
	rss0 = rss_kib();
	heap0 = heap_used();
	for (int i = 0; i < n_conns; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct tls_conn *c;

		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ||
		    tls_conn_new(&c, &l, ctx, fd, "127.0.0.1", &cli_ops, NULL))
			exit(1);
	}
	if (loop_run(&l) < 0)
		exit(1);
	printf("client: %d connections: RSS +%ld KiB (%.1f KiB each), heap "
	       "in use +%zu KiB (%.1f KiB each)\n",
	       n_conns, rss_kib() - rss0, (double)(rss_kib() - rss0) / n_conns,
	       (heap_used() - heap0) / 1024,
	       (double)(heap_used() - heap0) / 1024 / n_conns);
	fflush(stdout);
	if (write(ready, "x", 1) != 1)
		exit(1);
	pause(); /* the server measures while we hold our ends */
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct rlimit rl;
	struct loop_op acc = { 0 };
	struct tls_config cfg;
	int lfd, pipefd[2];
	long rss0;
	size_t heap0;
	char byte;
	pid_t pid;

	n_conns = argc > 1 ? atoi(argv[1]) : 2000;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	make_certs();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 4096) || getsockname(lfd, (struct sockaddr *)&sa, &len))
		return 1;
	if (pipe(pipefd))
		return 1;
	pid = fork();
	/* a ring of each process's own: a forked ring would be shared */
	if (loop_init(&l, 1024) < 0)
		return 1;
	if (pid == 0) {
		clients(&sa, pipefd[1]);
		return 0;
	}

	cfg = (struct tls_config){ .cert = pk.srv,
				   .key = pk.srv_key,
				   .chain = &pk.ca,
				   .nchain = 1,
				   .client_cas = pk.client_cas };
	if (tls_ctx_new(&ctx, true, &cfg))
		return 1;
	rss0 = rss_kib();
	heap0 = heap_used();
	loop_accept(&l, &acc, lfd, on_accept);
	if (loop_run(&l) < 0)
		return 1;
	/* wait until the clients have their pongs: our sends are done */
	if (read(pipefd[0], &byte, 1) != 1)
		return 1;
	printf("server: %d connections: RSS +%ld KiB (%.1f KiB each), heap "
	       "in use +%zu KiB (%.1f KiB each)\n",
	       n_conns, rss_kib() - rss0, (double)(rss_kib() - rss0) / n_conns,
	       (heap_used() - heap0) / 1024,
	       (double)(heap_used() - heap0) / 1024 / n_conns);
	/* what the handshakes' transient allocations left is not in use */
	malloc_trim(0);
	printf("server: after malloc_trim: RSS +%ld KiB (%.1f KiB each)\n",
	       rss_kib() - rss0, (double)(rss_kib() - rss0) / n_conns);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return 0;
}
