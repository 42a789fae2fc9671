/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moat-fleet: many simulated hosts in one process, on one io_uring loop,
 * speaking the agent channel (docs/protocol.md) over TLS 1.3 to a
 * control plane, and what that costs the control plane.
 *
 *   main.c     options, the run: spawn, token, enroll, sessions, report
 *   phase.c    keys, hosts started a few at a time, the window, the end
 *   host.c     one host: enroll, then its mutual-TLS session and heartbeats
 *   apply.c    what a host does with a desired state (--apply), and when
 *   push.c     --push: ruleset versions through the operator API, timed
 *   sched.c    when each host acts next (a heap under one timer)
 *   stats.c    latency percentiles, and /proc samples of a process
 *   spawn.c    a control plane of our own in a temporary state directory
 *   api.c      the operator API (libcurl): requests, the install token
 *   report.c   the table for people, --json for programs
 *   report-push.c  the same for --push
 */
#ifndef MOAT_FLEET_H
#define MOAT_FLEET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"
#include "proto.h"
#include "tls.h"

#define FLEET_ADDR_MAX 300
#define FLEET_ERRS_KEPT 8
/* --push: between polls of the hosts API once the hosts answered: how
 * late its figure may be, besides the request's own time */
#define FLEET_POLL_NS 50000000ull

/* What a host does with a desired ruleset before it answers applied. */
enum fleet_apply {
	FLEET_APPLY_ACK, /* nothing: the control plane's side alone */
	FLEET_APPLY_PARSE, /* SHA-256 and libmoat-dp's parser */
	FLEET_APPLY_COMPILE, /* and its compiler: all but the kernel load */
};

struct fleet_opts {
	unsigned hosts;
	unsigned concurrency; /* connections being set up at once */
	double interval, duration; /* seconds */
	char server[FLEET_ADDR_MAX], api[FLEET_ADDR_MAX];
	char ca_file[4096], admin_key_file[4096];
	const char *controlplane; /* a binary to start ourselves */
	const char *json_path;
	pid_t cp_pid;
	bool check; /* exit 1 unless every host and heartbeat got through */
	bool keep; /* keep the temporary state directory */
	const char *push_file; /* --push: a ruleset to push */
	unsigned pushes; /* versions after the first */
	enum fleet_apply apply;
	/* with --check: the control plane's RSS may grow by at most this
	 * from before the first push to after the last (0: not checked) */
	uint64_t max_rss_growth_kib;
};

enum host_state {
	H_NEW,
	H_ENROLLING,
	H_ENROLLED,
	H_CONNECTING, /* TCP, TLS, hello: waiting for welcome */
	H_ACTIVE,
	H_WAIT, /* to reconnect */
	H_FAILED,
	H_DONE,
};

struct fleet;
struct json_object;
struct fleet_pushing;

struct fleet_host {
	struct fleet *f;
	unsigned idx;
	enum host_state state;
	EVP_PKEY *key;
	unsigned char *csr;
	size_t csr_len;
	X509 *cert;
	char host_id[PROTO_ID_MAX + 1];
	struct tls_conn *tls;
	struct loop_op connect_op;
	struct wire_inbuf in;
	uint64_t seq; /* the last heartbeat sent */
	uint64_t sent_ns; /* of heartbeat @seq; 0 once acked */
	uint64_t due_ns; /* the next action (sched.c) */
	unsigned heap_at; /* 0: not scheduled */
	unsigned backoff_s; /* before the next reconnect */
	bool welcomed; /* had a session once */
	uint64_t applied_gen; /* the desired generation in force */
	char applied_hash[PROTO_HASH_LEN + 1]; /* its ruleset's; "" none */
};

/* One desired state a host got, and when (apply.c; the loop's thread). */
struct fleet_applied {
	unsigned host;
	uint64_t version; /* of its ruleset; 0: none */
	uint64_t desired_ns; /* the frame decoded */
	uint64_t applied_ns; /* the answer written */
	bool ok;
};

/* One ruleset version pushed (push.c; the push thread's until joined). */
struct fleet_push {
	uint64_t version; /* as the control plane numbered it */
	uint64_t t0_ns; /* before the first request */
	uint64_t replied_ns; /* the last request's reply */
	uint64_t converged_ns; /* the hosts API said all converged; 0 never */
	unsigned converged; /* our hosts it said converged, last poll */
	unsigned polls;
	uint64_t cp_rss_kib; /* the control plane's, once converged */
};

/* Percentiles of latencies kept whole (microseconds). */
struct fleet_lat {
	uint32_t *us;
	size_t n, cap;
};

/* Samples of one process from /proc, a second apart. */
struct fleet_proc {
	pid_t pid;
	bool valid; /* a previous sample to take differences from */
	uint64_t first_ticks, first_ns, last_ticks, last_ns;
	unsigned n; /* samples */
	double cpu_max; /* % of one core, over a second */
	uint64_t rss_sum, rss_max, hwm; /* KiB */
};

struct fleet_phase {
	uint64_t start_ns, end_ns;
	struct fleet_proc cp, self;
	uint64_t machine_busy[2], machine_total[2]; /* at start, at end */
};

struct fleet_counts {
	unsigned enrolled;
	unsigned connected; /* hosts that had a session */
	unsigned live; /* sessions now */
	uint64_t sent, acked, lost, late;
	unsigned errors, reconnects;
};

struct fleet {
	struct fleet_opts o;
	struct loop loop;
	struct tls_ctx *tls;
	struct wire_writer w; /* frames are copied by tls_conn_write() */
	struct sockaddr_storage sa;
	socklen_t salen;
	char server_name[FLEET_ADDR_MAX]; /* what the certificate must name */
	char token[PROTO_TOKEN_MAX + 1];
	struct fleet_host *hosts;
	/* the run */
	int phase; /* 1 enroll, 2 sessions */
	unsigned next; /* the next host to start in this phase */
	unsigned inflight; /* being set up */
	unsigned finished; /* hosts of this phase done or failed */
	bool steady; /* every host has had its chance to connect */
	bool ending; /* no more heartbeats: waiting for the last acks */
	uint64_t steady_ns, end_ns;
	struct fleet_counts c;
	struct fleet_lat ramp, lat; /* before and after steady */
	char errs[FLEET_ERRS_KEPT][200]; /* the first few, for people */
	unsigned nerrs;
	/* sched.c */
	struct fleet_host **heap;
	unsigned heap_n;
	struct loop_op tick, sample_op;
	uint64_t tick_at;
	/* measurements */
	uint64_t keygen_ns;
	struct fleet_phase enroll, connect, run;
	struct fleet_phase *cur;
	unsigned long ring_entries;
	uint64_t rng;
	pthread_mutex_t err_lock; /* fleet_error() from both threads */
	/* --push: the ruleset's name, the pushes and the hosts' answers */
	char run_name[32]; /* the ruleset, and the hosts' label */
	struct fleet_pushing *pushing; /* push.c's */
	pthread_t push_thread;
	bool push_started;
	atomic_bool push_done;
	struct fleet_push *push;
	unsigned npush; /* pushes made, or tried */
	unsigned push_hosts; /* the enrolled hosts each push waits for */
	uint64_t push_rss_kib; /* the control plane's before the first */
	struct fleet_applied *applied;
	size_t napplied, applied_cap;
	atomic_size_t
		napplied_ok; /* for the push thread: answers that were ok */
};

static inline uint64_t fleet_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Uniform in [lo, hi). */
double fleet_rand(struct fleet *f, double lo, double hi);
void fleet_error(struct fleet *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fleet_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* phase.c */
/* A P-256 key and a CSR for every host, before anything is measured. */
int fleet_keys(struct fleet *f);
/* Phase 1 (enroll) or 2 (sessions, heartbeats): until it is over. */
int fleet_run_phase(struct fleet *f, int phase, struct fleet_phase *ph);
/* Start hosts while fewer than --concurrency are being set up. */
void fleet_pump(struct fleet *f);
/* Close every session and wait for every op: nothing is left behind. */
void fleet_teardown(struct fleet *f, struct loop_op *sig);
/* Every host enrolled and connected, every heartbeat acked, no error. */
bool fleet_complete(const struct fleet *f);

/* host.c */
void fleet_host_enroll(struct fleet_host *h);
void fleet_host_connect(struct fleet_host *h);
/* The host's turn came (sched.c): a heartbeat, or a reconnect. */
void fleet_host_due(struct fleet_host *h);
void fleet_host_free(struct fleet_host *h);
/* Write @frame as @what, unless @ret (the encoder's) says it failed:
 * either way a failure ends the session (with @e's message). */
void fleet_host_send(struct fleet_host *h, const char *what, int ret,
		     const char *frame, size_t len, struct wire_err *e);

/* sched.c */
int fleet_sched_init(struct fleet *f);
void fleet_sched_free(struct fleet *f);
void fleet_sched(struct fleet_host *h, uint64_t at_ns);
void fleet_unsched(struct fleet_host *h);
/* The sampler, each second, into f->cur. */
int fleet_sampler_start(struct fleet *f);
/* Phase 2's clock: due hosts, the end of the run. */
int fleet_tick_start(struct fleet *f);

/* stats.c */
int fleet_lat_add(struct fleet_lat *l, uint64_t ns);
/* The @q-quantile (0..1) in microseconds; sorts the samples first. */
double fleet_lat_quantile(struct fleet_lat *l, double q);
void fleet_lat_free(struct fleet_lat *l);
void fleet_proc_sample(struct fleet_proc *p, uint64_t now_ns);
/* VmRSS of @pid in KiB, 0 when it cannot be read. */
uint64_t fleet_proc_rss(pid_t pid);
double fleet_proc_cpu_mean(const struct fleet_proc *p);
double fleet_proc_cpu_seconds(const struct fleet_proc *p);
void fleet_phase_begin(struct fleet *f, struct fleet_phase *ph);
void fleet_phase_end(struct fleet *f);
/* % of all CPUs anyone used during the phase (us and the control plane too). */
double fleet_phase_machine_busy(const struct fleet_phase *ph);

/* spawn.c */
struct fleet_cp {
	pid_t pid;
	char dir[64]; /* the temporary state directory */
	char log[96];
};
int fleet_cp_start(struct fleet *f, struct fleet_cp *cp);
void fleet_cp_stop(struct fleet_cp *cp, bool keep);

/* apply.c */
extern const char *const fleet_apply_names[3]; /* by enum fleet_apply */
void fleet_host_desired(struct fleet_host *h, const struct proto_desired *m);
void fleet_applied_free(struct fleet *f);

/* push.c */
/* Read --push's file before anything is measured. */
int fleet_push_init(struct fleet *f);
/* The pushes, in a thread of their own: the loop goes on serving. */
int fleet_push_start(struct fleet *f);
void fleet_push_join(struct fleet *f);
void fleet_push_free(struct fleet *f);

/* api.c */
/* @method @path (after /v1/workspaces/default) with @body (JSON, or
 * NULL): 0 with the HTTP status and the reply (malloc'd), or -errno. */
int fleet_api(struct fleet *f, const char *method, const char *path,
	      const char *body, long *status, char **reply);
/* An install token for @uses enrollments into f->token; labelled with
 * run_name when there is one. */
int fleet_token(struct fleet *f, unsigned uses);

/* report.c */
void fleet_report(struct fleet *f, const char *cmdline);
int fleet_report_json(struct fleet *f, const char *cmdline, const char *path);
/* {count, p50, p90, p99, p99.9, max} in milliseconds */
struct json_object *fleet_lat_json(struct fleet_lat *l);
/* report-push.c */
void fleet_report_push(struct fleet *f);
struct json_object *fleet_push_json(struct fleet *f);
/* Every host applied every push, and the API said so each time. */
bool fleet_push_complete(const struct fleet *f);
/* The control plane's RSS after the last push within --max-rss-growth. */
bool fleet_push_rss_ok(const struct fleet *f);

#endif /* MOAT_FLEET_H */
