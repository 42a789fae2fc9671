// SPDX-License-Identifier: GPL-2.0-only
/* moat-controlplane: the fleet's control plane.  docs/moat-controlplane.md. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp.h"
#include "file.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moat-controlplane [OPTIONS]\n"
		"       moat-controlplane audit-verify [--state DIR]\n"
		"\n"
		"The reference control plane of a moat fleet: hosts enroll with install\n"
		"tokens and keep a mutual-TLS channel on --listen; operators use the\n"
		"HTTPS/JSON API on --api-listen (moatctl speaks it).  The first start\n"
		"makes the organization, a workspace, the CAs and an admin API key.\n"
		"\n"
		"Options:\n"
		"  -s, --state DIR            store and certificates (default /var/lib/moat-controlplane)\n"
		"  -l, --listen ADDR:PORT     agent channel (default 0.0.0.0:%d)\n"
		"  -a, --api-listen ADDR:PORT operator API (default 127.0.0.1:%d)\n"
		"      --metrics-listen ADDR:PORT  Prometheus metrics, plain HTTP (default: none)\n"
		"      --san NAME             a name or address hosts and operators use to reach\n"
		"                             this control plane, for its certificate (repeat;\n"
		"                             default localhost, 127.0.0.1, ::1 and the host name)\n"
		"      --heartbeat-interval S seconds between heartbeats of every host (default 10)\n"
		"      --stale-after S        stale after S seconds without a heartbeat (default 3 intervals)\n"
		"      --offline-after S      offline after S seconds (default 10 intervals)\n"
		"      --host-cert-lifetime S lifetime of host certificates (default 86400)\n"
		"      --desired-timeout S    seconds a host has to take a desired state before its\n"
		"                             session is ended (default 60)\n"
		"      --user NAME            run as NAME once the sockets are open, when started\n"
		"                             as root (default moat-cp; 'root' keeps root)\n"
		"      --admin-key-file FILE  first start: write the admin key to FILE (mode 0600)\n"
		"                             instead of printing it\n"
		"      --org NAME             first start: the organization's name (default \"default\")\n"
		"      --workspace NAME       first start: the first workspace's name (default \"default\")\n"
		"  -d, --debug                log at level debug\n"
		"  -h, --help                 show this help\n"
		"  -V, --version              show the version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 bad usage.  See docs/moat-controlplane.md.\n",
		CP_AGENT_PORT, CP_API_PORT);
}

enum {
	OPT_SAN = 256,
	OPT_HB,
	OPT_STALE,
	OPT_OFFLINE,
	OPT_CERT_LIFE,
	OPT_USER,
	OPT_ADMIN_KEY,
	OPT_ORG,
	OPT_WS,
	OPT_METRICS,
	OPT_DESIRED_TIMEOUT,
};

static int number(const char *opt, const char *s, unsigned long lo,
		  unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < lo || *out > hi) {
		fprintf(stderr,
			"moat-controlplane: %s: expected a number from %lu to %lu: '%s'\n",
			opt, lo, hi, s);
		return -1;
	}
	return 0;
}

static int name_opt(const char *opt, const char *s, char *dst, size_t size)
{
	if (!store_name_valid(s)) {
		fprintf(stderr,
			"moat-controlplane: %s: expected 1-63 of a-z 0-9 -, starting with a letter or digit: '%s'\n",
			opt, s);
		return -1;
	}
	snprintf(dst, size, "%s", s);
	return 0;
}

/* Options into @o; 0, or 2 after a message (bad usage), or -1 for --help. */
static int parse_options(int argc, char **argv, struct cp_options *o)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "api-listen", required_argument, NULL, 'a' },
		{ "san", required_argument, NULL, OPT_SAN },
		{ "heartbeat-interval", required_argument, NULL, OPT_HB },
		{ "stale-after", required_argument, NULL, OPT_STALE },
		{ "offline-after", required_argument, NULL, OPT_OFFLINE },
		{ "host-cert-lifetime", required_argument, NULL, OPT_CERT_LIFE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "admin-key-file", required_argument, NULL, OPT_ADMIN_KEY },
		{ "org", required_argument, NULL, OPT_ORG },
		{ "workspace", required_argument, NULL, OPT_WS },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "desired-timeout", required_argument, NULL,
		  OPT_DESIRED_TIMEOUT },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	unsigned long x;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:l:a:dhV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			snprintf(o->state_dir, sizeof(o->state_dir), "%s", optarg);
			break;
		case 'l':
			snprintf(o->listen, sizeof(o->listen), "%s", optarg);
			break;
		case 'a':
			snprintf(o->api_listen, sizeof(o->api_listen), "%s",
				 optarg);
			break;
		case OPT_METRICS:
			snprintf(o->metrics_listen, sizeof(o->metrics_listen),
				 "%s", optarg);
			break;
		case OPT_SAN:
			if (o->nsans == CP_SANS_MAX) {
				fprintf(stderr,
					"moat-controlplane: --san: at most %d names\n",
					CP_SANS_MAX);
				return 2;
			}
			o->sans[o->nsans++] = optarg;
			break;
		case OPT_HB:
			if (number("--heartbeat-interval", optarg, 1,
				   PROTO_INTERVAL_MAX, &x))
				return 2;
			o->heartbeat_interval = (uint32_t)x;
			break;
		case OPT_STALE:
			if (number("--stale-after", optarg, 1, 864000, &x))
				return 2;
			o->stale_after = (uint32_t)x;
			break;
		case OPT_OFFLINE:
			if (number("--offline-after", optarg, 1, 8640000, &x))
				return 2;
			o->offline_after = (uint32_t)x;
			break;
		case OPT_CERT_LIFE:
			if (number("--host-cert-lifetime", optarg, 60,
				   365 * 86400, &x))
				return 2;
			o->host_cert_lifetime = (int64_t)x;
			break;
		case OPT_DESIRED_TIMEOUT:
			if (number("--desired-timeout", optarg, 1, 3600, &x))
				return 2;
			o->desired_timeout = (uint32_t)x;
			break;
		case OPT_USER:
			snprintf(o->user, sizeof(o->user), "%s", optarg);
			break;
		case OPT_ADMIN_KEY:
			snprintf(o->admin_key_file, sizeof(o->admin_key_file),
				 "%s", optarg);
			break;
		case OPT_ORG:
			if (name_opt("--org", optarg, o->org, sizeof(o->org)))
				return 2;
			break;
		case OPT_WS:
			if (name_opt("--workspace", optarg, o->workspace,
				     sizeof(o->workspace)))
				return 2;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("moat-controlplane %s\n", MOAT_VERSION);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o->stale_after)
		o->stale_after = 3 * o->heartbeat_interval;
	if (!o->offline_after)
		o->offline_after = 10 * o->heartbeat_interval;
	if (o->offline_after <= o->stale_after) {
		fprintf(stderr,
			"moat-controlplane: --offline-after (%u s) must be longer than --stale-after (%u s)\n",
			o->offline_after, o->stale_after);
		return 2;
	}
	return 0;
}

static void defaults(struct cp_options *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->state_dir, sizeof(o->state_dir), "/var/lib/moat-controlplane");
	snprintf(o->listen, sizeof(o->listen), "0.0.0.0:%d", CP_AGENT_PORT);
	snprintf(o->api_listen, sizeof(o->api_listen), "127.0.0.1:%d",
		 CP_API_PORT);
	o->heartbeat_interval = 10;
	o->host_cert_lifetime = 86400;
	o->desired_timeout = 60;
	snprintf(o->user, sizeof(o->user), "moat-cp");
	snprintf(o->org, sizeof(o->org), "default");
	snprintf(o->workspace, sizeof(o->workspace), "default");
}

/* A socket a host: as many as the hard limit allows (LimitNOFILE=). */
static void raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 16384)
		log_warn("at most %llu open files: as many hosts, fewer the operators' connections; raise the limit (LimitNOFILE=) for a larger fleet",
			 (unsigned long long)r.rlim_cur);
}

/* The state directory and what is in it (the store's files). */
static int chown_state(const char *dir, uid_t uid, gid_t gid)
{
	static const char *const files[] = { "store.db", "store.db-wal",
					     "store.db-shm", "ca.crt" };
	char path[PATH_MAX + 16];

	if (chown(dir, uid, gid) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (chown(path, uid, gid) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/*
 * Root is needed for nothing once the sockets are open: become --user,
 * and hand it the state directory.
 */
static int drop_root(struct cp *cp)
{
	struct passwd *pw;
	int ret;

	if (geteuid() != 0 || !strcmp(cp->opt.user, "root"))
		return 0;
	pw = getpwnam(cp->opt.user);
	if (!pw) {
		log_err("user '%s' does not exist: create it (useradd --system --no-create-home --shell /usr/sbin/nologin %s), or name another with --user",
			cp->opt.user, cp->opt.user);
		return -ENOENT;
	}
	ret = chown_state(cp->opt.state_dir, pw->pw_uid, pw->pw_gid);
	if (ret) {
		log_err("cannot give %s to %s: %s", cp->opt.state_dir,
			cp->opt.user, strerror(-ret));
		return ret;
	}
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		ret = -errno;
		log_err("cannot become %s: %s", cp->opt.user, strerror(-ret));
		return ret;
	}
	log_info("running as %s", cp->opt.user);
	return 0;
}

/*
 * Stop: no more accepts, and every connection is told and closed.  The
 * loop then runs dry by itself: a connection waits for its peer's
 * close_notify a few seconds at most (tls.c), so nothing is cut off and
 * nothing is left behind.
 */
static void on_signal(struct loop *l, struct loop_op *op, int signo)
{
	struct cp *cp = op->data;

	if (signo < 0 || cp->stopping)
		return;
	log_info("%s: closing every connection", strsignal(signo));
	cp->stopping = true;
	loop_cancel(l, &cp->agent_accept);
	loop_cancel(l, &cp->api_accept);
	loop_cancel(l, &cp->metrics_accept);
	loop_cancel(l, op);
	cp_session_close_all(cp);
	cp_push_stop(cp);
	cp_api_close_all(cp);
	cp_metrics_close_all(cp);
}

/* moat-controlplane audit-verify: the store's chain, offline. */
static int audit_verify(const struct cp_options *o)
{
	char path[PATH_MAX + 16], why[256];
	struct store *st;
	int64_t n = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/store.db", o->state_dir);
	if (access(path, R_OK)) {
		fprintf(stderr, "moat-controlplane: cannot read %s: %s (give --state DIR)\n",
			path, strerror(errno));
		return 1;
	}
	ret = store_open(path, &st);
	if (ret) {
		fprintf(stderr, "moat-controlplane: cannot open %s: %s\n", path,
			strerror(-ret));
		return 1;
	}
	ret = store_audit_verify(st, &n, why, sizeof(why));
	store_close(st);
	if (ret == -EBADMSG) {
		fprintf(stderr, "moat-controlplane: audit chain broken: %s\n", why);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "moat-controlplane: cannot read the audit log: %s\n",
			strerror(-ret));
		return 1;
	}
	printf("audit chain OK: %lld records\n", (long long)n);
	return 0;
}

int main(int argc, char **argv)
{
	static struct cp cp; /* paths: not on the stack */
	char path[PATH_MAX + 16];
	sigset_t set;
	int ret;

	log_init("moat-controlplane", LOG_LEVEL_INFO);
	defaults(&cp.opt);
	ret = parse_options(argc, argv, &cp.opt);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind + 1 == argc && !strcmp(argv[optind], "audit-verify"))
		return audit_verify(&cp.opt);
	if (optind < argc) {
		fprintf(stderr, "moat-controlplane: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cp.opt.debug)
		log_set_level(LOG_LEVEL_DEBUG);
	signal(SIGPIPE, SIG_IGN);
	cp.agent_fd = cp.api_fd = cp.metrics_fd = -1;
	raise_nofile();

	ret = file_mkdir_p(cp.opt.state_dir, 0700);
	if (ret) {
		log_err("cannot make the state directory %s: %s",
			cp.opt.state_dir, strerror(-ret));
		return 1;
	}
	/* sockets as whoever started us, then nothing more as root */
	ret = cp_bind(&cp);
	if (ret == 0)
		ret = drop_root(&cp);
	if (ret)
		return 1;
	snprintf(path, sizeof(path), "%s/store.db", cp.opt.state_dir);
	ret = store_open(path, &cp.store);
	if (ret) {
		log_err("cannot open the store %s: %s", path, strerror(-ret));
		return 1;
	}
	ret = loop_init(&cp.loop, 4096);
	if (ret) {
		log_err("cannot set up io_uring: %s", strerror(-ret));
		goto out;
	}
	wire_writer_init(&cp.push_w);
	TAILQ_INIT(&cp.push_queue);
	ret = cp_bootstrap(&cp);
	if (ret == 0)
		ret = cp_listen(&cp);
	if (ret)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	cp.sig_op.data = &cp;
	ret = loop_signals(&cp.loop, &cp.sig_op, &set, on_signal);
	if (ret == 0)
		ret = loop_run(&cp.loop);
out:
	store_close(cp.store);
	return ret ? 1 : 0;
}
