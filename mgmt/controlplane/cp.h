/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moat-controlplane: the reference control plane.  One process, one
 * io_uring loop: the agent channel (TLS, msgpack frames: docs/protocol.md)
 * on one port, the operator API (HTTPS/JSON: docs/api.md) on another,
 * and the store (SQLite, store.h) under both.
 *
 *   main.c        options, bootstrap, privileges, the loop
 *   bootstrap.c   the first start: CAs, server certificate, admin key
 *   listen.c      sockets and TLS contexts, the workspace CA trust store
 *   session.c     one agent connection: enroll, hello, heartbeats, renew
 *   session-desired.c  desired state out, applied and counters in
 *   session-push.c  desired states out under a budget of bytes
 *   enroll.c      tokens and CSRs to host certificates
 *   health.c      healthy, stale, offline from last_seen
 *   api*.c        the operator API
 */
#ifndef MOAT_CP_H
#define MOAT_CP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/x509.h>

#include "loop.h"
#include "proto.h"
#include "store.h"
#include "tls.h"

#define CP_AGENT_PORT 7443
#define CP_API_PORT 7444
#define CP_SANS_MAX 16
#define CP_ADDR_MAX 300
/* a power of two near the fleet size we aim at */
#define CP_SESSION_BUCKETS 16384

struct cp_options {
	char state_dir[PATH_MAX];   /* the store, ca.crt */
	char listen[CP_ADDR_MAX];   /* agent channel, HOST:PORT */
	char api_listen[CP_ADDR_MAX];
	const char *sans[CP_SANS_MAX]; /* the server certificate's names */
	int nsans;
	uint32_t heartbeat_interval; /* seconds, told to every host */
	uint32_t stale_after, offline_after; /* seconds without a heartbeat */
	/*
	 * Seconds a host has to take a desired state once it is sent: one
	 * that does not read holds part of the push budget, and every host
	 * behind it waits (session-push.c).
	 */
	uint32_t desired_timeout;
	int64_t host_cert_lifetime; /* seconds */
	char user[33]; /* drop to it after binding, when started as root */
	char admin_key_file[PATH_MAX]; /* bootstrap: write the key here */
	char org[STORE_NAME_LEN + 1];
	char workspace[STORE_NAME_LEN + 1]; /* the first one's name */
	char metrics_listen[CP_ADDR_MAX]; /* "": no Prometheus endpoint */
	bool debug;
};

/* What the control plane counts since it started, for --metrics-listen. */
struct cp_counts {
	uint64_t enrollments;
	uint64_t enroll_refusals[PROTO_E_OTHER + 1]; /* by code */
	uint64_t heartbeats;
	/* a host's applied reports: a desired generation in force, one
	 * that failed, a local change (drift) */
	uint64_t applies_ok, applies_error, applies_drift;
	uint64_t api_status[600]; /* operator API answers, by status */
};

struct cp_session;
struct cp_api_conn;
struct cp_metrics_conn;

struct cp {
	struct cp_options opt;
	struct loop loop;
	struct store *store;
	/* agent channel: clients may come without a certificate (enroll) */
	struct tls_ctx *agent_tls;
	struct tls_ctx *api_tls;
	X509_STORE *ws_cas; /* every workspace's CA; new ones are added */
	X509 *server_ca;
	int agent_fd, api_fd;
	struct loop_op agent_accept, api_accept, sig_op;
	bool stopping;

	/* live agent sessions, by host id once known (session.c) */
	struct cp_session *sessions;
	struct cp_session *by_host[CP_SESSION_BUCKETS];
	unsigned nsessions;
	/*
	 * Desired states waiting for their turn, oldest first, and the bytes
	 * of those written and not yet taken by their sockets: a push is
	 * paced by a budget of them (session-push.c).
	 */
	TAILQ_HEAD(cp_push_queue, cp_session) push_queue;
	size_t push_bytes;
	struct loop_op push_op;
	struct wire_writer push_w; /* one desired state at a time */
	struct cp_api_conn *api_conns;
	unsigned napi;

	/* the Prometheus endpoint (metrics.c); metrics_fd -1 when off */
	struct cp_counts counts;
	int metrics_fd;
	struct loop_op metrics_accept;
	struct cp_metrics_conn *metrics_conns;
	unsigned nmetrics;
};

/* listen.c */
/* The two listening sockets, before privileges are dropped. */
int cp_bind(struct cp *cp);
/* TLS contexts from the store's certificates, and accepting. */
int cp_listen(struct cp *cp);
/* A workspace's CA joins the trust store of client certificates. */
int cp_trust_workspace_ca(struct cp *cp, const void *der, size_t len);

/* bootstrap.c: on an empty store; prints the admin key (or writes it). */
int cp_bootstrap(struct cp *cp);
/*
 * A new workspace with its own CA, trusted at once for client
 * certificates.  -EEXIST when the name is taken.
 */
int cp_workspace_create(struct cp *cp, const struct store_who *who,
			const char *name, struct store_workspace *out);

/* session.c */
void cp_session_accept(struct cp *cp, int fd);
/*
 * End every session of @host_id now (an operator removed it): the host
 * gets an error frame with @code, then the connection closes.
 */
void cp_session_end_host(struct cp *cp, const char *host_id,
			 enum proto_code code, const char *msg);
bool cp_session_connected(const struct cp *cp, const char *host_id);
void cp_session_close_all(struct cp *cp);

/* session-desired.c */
/*
 * Send @host_id its desired state now, when it is connected (a host away
 * gets it after its next hello): for the store's store_desired_fn.
 */
void cp_push_desired(struct cp *cp, const char *host_id);
/*
 * Ask @host_id for its counters now: 0 when asked, -ENOTCONN when it has
 * no session (or one too old to be asked), -EPIPE when the send failed.
 */
int cp_request_counters(struct cp *cp, const char *host_id);
/* Counters were asked of @host_id's session and none came since. */
bool cp_counters_pending(const struct cp *cp, const char *host_id);

/* session-push.c: stop pushing, at shutdown. */
void cp_push_stop(struct cp *cp);

/* health.c */
enum cp_health {
	CP_HEALTH_PENDING, /* enrolled, never heard from */
	CP_HEALTH_HEALTHY,
	CP_HEALTH_STALE,
	CP_HEALTH_OFFLINE,
	CP_HEALTH_REMOVED,
};
enum cp_health cp_host_health(const struct cp *cp, const struct store_host *h,
			      int64_t now);
const char *cp_health_name(enum cp_health h);

/* api.c */
void cp_api_accept(struct cp *cp, int fd);
void cp_api_close_all(struct cp *cp);

/* metrics-render.c: the text of one scrape, from what metrics.c gathers */
#define CP_CONFIG_STATUSES 5
/* store_host_status()'s values, in the order the metrics show them */
extern const char *const cp_config_status[CP_CONFIG_STATUSES];

struct cp_metrics_ws {
	char name[STORE_NAME_LEN + 1];
	uint64_t hosts[CP_HEALTH_REMOVED + 1]; /* by enum cp_health */
	/* hosts not removed, by cp_config_status[] */
	uint64_t config[CP_CONFIG_STATUSES];
};

struct cp_metrics_view {
	const struct cp_counts *counts;
	const struct cp_metrics_ws *ws; /* every workspace */
	size_t nws;
	uint64_t sessions; /* hosts with a session up */
	uint64_t connections; /* agent channel connections, any phase */
};

struct prom_buf;
void cp_metrics_render(const struct cp_metrics_view *v, struct prom_buf *b);

/* metrics.c: plain HTTP on --metrics-listen, on the same loop */
void cp_metrics_accept(struct cp *cp, int fd);
void cp_metrics_close_all(struct cp *cp);

#endif /* MOAT_CP_H */
