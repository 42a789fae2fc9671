// SPDX-License-Identifier: GPL-2.0-only
/*
 * moat-fleet: a fleet of simulated hosts against one control plane
 * (docs/benchmarks.md, "moat-fleet").  Phase 1 enrolls every host with
 * one install token; phase 2 opens every host's session and heartbeats
 * for --duration seconds once all are up.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "fleet.h"
#include "pki.h"

#define RING_ENTRIES 4096

static const char usage[] =
	"usage: moat-fleet [--hosts 1000] [--interval 10] [--duration 60]\n"
	"                  [--concurrency 64] [--json FILE] [--check]\n"
	"                  [--push FILE [--pushes 3] [--apply ack|parse|compile]\n"
	"                   [--max-rss-growth MIB]]\n"
	"                  (--controlplane BINARY [--keep] |\n"
	"                   --server ADDR:PORT --api ADDR:PORT --ca FILE\n"
	"                   --admin-key-file FILE [--cp-pid PID])\n"
	"\n"
	"Simulated hosts in one process speak the agent channel over TLS 1.3\n"
	"to a control plane: each enrolls with its own P-256 key (one install\n"
	"token for all), opens its mutual-TLS session and heartbeats every\n"
	"--interval seconds (+-10%) for --duration seconds once all are up.\n"
	"Reports the enrollment rate, heartbeat latency, and the CPU and memory\n"
	"of the control plane (--cp-pid, or the one --controlplane starts in a\n"
	"temporary state directory) and of moat-fleet itself.\n"
	"\n"
	"--push FILE: once all are up, push FILE as a ruleset through the\n"
	"operator API, assign it to these hosts, then push --pushes more\n"
	"versions (one rule's action turned around each time), each once the\n"
	"hosts API says the last converged; instead of --duration.  Reports\n"
	"when the hosts' desired arrived and their applied left, and when the\n"
	"API said all converged.  --apply: what a host does first: nothing\n"
	"(ack), the SHA-256 check and libmoat-dp's parser (parse), and its\n"
	"compiler (compile); all the hosts share one thread.  The control\n"
	"plane's RSS is read before the first push and once each converged;\n"
	"--max-rss-growth: a failure when the last is more than MIB above\n"
	"the first.\n"
	"\n"
	"Exit status: 0 done, 1 failed (with --check: any host, heartbeat,\n"
	"push or error short), 2 bad usage.\n";

void fleet_progress(const char *fmt, ...)
{
	va_list ap;

	fputs("moat-fleet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Errors are results: counted, the first few kept and printed. */
void fleet_error(struct fleet *f, const char *fmt, ...)
{
	va_list ap;

	/* the loop's thread, and --push's */
	pthread_mutex_lock(&f->err_lock);
	f->c.errors++;
	if (f->nerrs < FLEET_ERRS_KEPT) {
		va_start(ap, fmt);
		vsnprintf(f->errs[f->nerrs], sizeof(f->errs[0]), fmt, ap);
		va_end(ap);
		fprintf(stderr, "moat-fleet: %s\n", f->errs[f->nerrs++]);
	}
	pthread_mutex_unlock(&f->err_lock);
}

double fleet_rand(struct fleet *f, double lo, double hi)
{
	/* xorshift64*: spread, not secrecy */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return lo + (hi - lo) *
			    (double)((f->rng * 2685821657736338717ull) >> 11) /
			    (double)(1ull << 53);
}

static int parse_num(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || *v < lo || *v > hi ? -EINVAL : 0;
}

/* "HOST:PORT" or "[V6]:PORT" into f->sa, and the name TLS must see. */
static int parse_server(struct fleet *f)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV },
			*res;
	char host[FLEET_ADDR_MAX];
	const char *s = f->o.server, *port = strrchr(s, ':');

	if (!port || port == s)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(port - s), s);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (getaddrinfo(host, port + 1, &hints, &res))
		return -EINVAL;
	memcpy(&f->sa, res->ai_addr, res->ai_addrlen);
	f->salen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(f->server_name, sizeof(f->server_name), "%s", host);
	return 0;
}

static int parse_options(struct fleet *f, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hosts", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "api", required_argument, NULL, 'a' },
		{ "ca", required_argument, NULL, 'C' },
		{ "admin-key-file", required_argument, NULL, 'k' },
		{ "cp-pid", required_argument, NULL, 'p' },
		{ "controlplane", required_argument, NULL, 'P' },
		{ "json", required_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'x' },
		{ "keep", no_argument, NULL, 'K' },
		{ "push", required_argument, NULL, 'U' },
		{ "pushes", required_argument, NULL, 'N' },
		{ "apply", required_argument, NULL, 'A' },
		{ "max-rss-growth", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fleet_opts *o = &f->o;
	int ch, idx = 0, ret;
	double v = 0;

	o->hosts = 1000;
	o->interval = 10;
	o->duration = 60;
	o->concurrency = 64;
	o->pushes = 3;
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		ret = 0;
		switch (ch) {
		case 'n':
			ret = parse_num(optarg, 1, 1000000, &v);
			o->hosts = (unsigned)v;
			break;
		case 'i':
			ret = parse_num(optarg, 1, PROTO_INTERVAL_MAX,
					&o->interval);
			break;
		case 'd':
			ret = parse_num(optarg, 0, 86400, &o->duration);
			break;
		case 'c':
			ret = parse_num(optarg, 1, 65536, &v);
			o->concurrency = (unsigned)v;
			break;
		case 's':
			snprintf(o->server, sizeof(o->server), "%s", optarg);
			break;
		case 'a':
			snprintf(o->api, sizeof(o->api), "%s", optarg);
			break;
		case 'C':
			snprintf(o->ca_file, sizeof(o->ca_file), "%s", optarg);
			break;
		case 'k':
			snprintf(o->admin_key_file, sizeof(o->admin_key_file),
				 "%s", optarg);
			break;
		case 'p':
			ret = parse_num(optarg, 1, 1 << 30, &v);
			o->cp_pid = (pid_t)v;
			break;
		case 'P':
			o->controlplane = optarg;
			break;
		case 'j':
			o->json_path = optarg;
			break;
		case 'x':
			o->check = true;
			break;
		case 'K':
			o->keep = true;
			break;
		case 'U':
			o->push_file = optarg;
			break;
		case 'N':
			ret = parse_num(optarg, 0, 1000, &v);
			o->pushes = (unsigned)v;
			break;
		case 'M':
			ret = parse_num(optarg, 1, 1 << 20, &v);
			o->max_rss_growth_kib = (uint64_t)(v * 1024);
			break;
		case 'A':
			ret = -EINVAL;
			for (int i = 0; i < 3; i++)
				if (!strcmp(optarg, fleet_apply_names[i])) {
					o->apply = (enum fleet_apply)i;
					ret = 0;
				}
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			fputs(usage, stderr);
			return 2;
		}
		if (ret) {
			fprintf(stderr, "moat-fleet: --%s is not valid: `%s'\n",
				opts[idx].name, optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "moat-fleet: unexpected argument: `%s'\n",
			argv[optind]);
		return 2;
	}
	if (!o->controlplane && (!o->server[0] || !o->api[0] ||
				 !o->ca_file[0] || !o->admin_key_file[0])) {
		fprintf(stderr,
			"moat-fleet: give --controlplane BINARY, or --server, --api, --ca and --admin-key-file\n%s",
			usage);
		return 2;
	}
	return 0;
}

/* A socket a host on each side, and some: the control plane inherits it. */
static int raise_nofile(unsigned hosts)
{
	rlim_t want = (rlim_t)hosts + 1024;
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	if (r.rlim_cur >= want)
		return 0;
	if (r.rlim_max < want)
		r.rlim_max = want; /* only root may, and that is fine */
	r.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0) {
		fprintf(stderr,
			"moat-fleet: %u hosts need %llu open files: %s (ulimit -n)\n",
			hosts, (unsigned long long)want, strerror(errno));
		return -errno;
	}
	return 0;
}

static int client_tls(struct fleet *f)
{
	X509 *ca = NULL;
	char *pem = NULL;
	size_t len = 0;
	FILE *fp = fopen(f->o.ca_file, "re");
	int ret;

	if (!fp)
		return -errno;
	ret = getdelim(&pem, &len, '\0', fp) < 0 ? -EIO : 0;
	fclose(fp);
	if (ret == 0)
		ret = pki_cert_from_pem(pem, strlen(pem), &ca);
	free(pem);
	if (ret == 0)
		ret = tls_ctx_new(&f->tls, false,
				  &(struct tls_config){ .ca = ca });
	X509_free(ca);
	return ret;
}

static void on_signal(struct loop *l, struct loop_op *op, int signo)
{
	if (signo > 0)
		loop_stop(l, -EINTR);
}

static void command_line(char *buf, size_t size, int argc, char **argv)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " " : "",
				      i ? argv[i] : "moat-fleet");
}

int main(int argc, char **argv)
{
	static struct fleet fleet;
	struct fleet *f = &fleet;
	struct fleet_cp cp = { 0 };
	struct loop_op sig = { 0 };
	bool whole = false;
	char cmdline[2048];
	sigset_t set;
	uint64_t t0;
	int ret;

	ret = parse_options(f, argc, argv);
	if (ret)
		return ret < 0 ? 0 : ret;
	command_line(cmdline, sizeof(cmdline), argc, argv);
	signal(SIGPIPE, SIG_IGN);
	f->rng = fleet_now_ns() | 1;
	pthread_mutex_init(&f->err_lock, NULL);
	wire_writer_init(&f->w);
	if (raise_nofile(f->o.hosts))
		return 1;
	if (f->o.push_file && fleet_push_init(f)) {
		fleet_push_free(f);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = loop_init(&f->loop, RING_ENTRIES);
	if (ret) {
		fprintf(stderr, "moat-fleet: io_uring: %s\n", strerror(-ret));
		return 1;
	}
	f->ring_entries = RING_ENTRIES;
	f->hosts = calloc(f->o.hosts, sizeof(*f->hosts));
	if (!f->hosts || fleet_sched_init(f)) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < f->o.hosts; i++) {
		f->hosts[i].f = f;
		f->hosts[i].idx = i;
	}
	if (f->o.controlplane) {
		fleet_progress("starting %s", f->o.controlplane);
		ret = fleet_cp_start(f, &cp);
		if (ret)
			goto out;
	}
	ret = parse_server(f);
	if (ret) {
		fprintf(stderr,
			"moat-fleet: --server: expected ADDR:PORT: `%s'\n",
			f->o.server);
		goto out;
	}
	ret = fleet_token(f, f->o.hosts);
	if (ret == 0)
		ret = client_tls(f);
	if (ret) {
		fprintf(stderr, "moat-fleet: TLS with the CA of %s: %s\n",
			f->o.ca_file, strerror(-ret));
		goto out;
	}
	fleet_progress("making %u P-256 keys and CSRs", f->o.hosts);
	t0 = fleet_now_ns();
	ret = fleet_keys(f);
	f->keygen_ns = fleet_now_ns() - t0;
	if (ret)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	ret = loop_signals(&f->loop, &sig, &set, on_signal) ?:
		      fleet_sampler_start(f);
	if (ret)
		goto out;

	fleet_progress("enrolling %u hosts, %u at a time", f->o.hosts,
		       f->o.concurrency);
	ret = fleet_run_phase(f, 1, &f->enroll);
	fleet_phase_end(f);
	if (ret == 0 && f->c.enrolled) {
		fleet_progress("%u enrolled; opening their sessions",
			       f->c.enrolled);
		ret = fleet_tick_start(f) ?: fleet_run_phase(f, 2, &f->connect);
	}
	fleet_push_join(f);
	fleet_teardown(f, &sig);
	if (ret == -EINTR)
		fleet_progress("interrupted: the numbers so far");
	fleet_report(f, cmdline);
	fleet_report_push(f);
	if (f->o.json_path && fleet_report_json(f, cmdline, f->o.json_path))
		fprintf(stderr, "moat-fleet: cannot write %s\n",
			f->o.json_path);
	whole = fleet_complete(f);
	if (f->o.check && !whole)
		fleet_progress(
			"--check: not every host enrolled and connected, or not every heartbeat acked, or errors");
	if (f->o.push_file && !fleet_push_complete(f)) {
		whole = false;
		if (f->o.check)
			fleet_progress(
				"--check: not every push applied by every host, or not converged as the hosts API says");
	}
	if (f->o.push_file && !fleet_push_rss_ok(f)) {
		whole = false;
		if (f->o.check)
			fleet_progress(
				"--check: the control plane's RSS after the last push is more than --max-rss-growth above what it was before the first (or unknown)");
	}
out:
	fleet_cp_stop(&cp, f->o.keep);
	for (unsigned i = 0; f->hosts && i < f->o.hosts; i++)
		fleet_host_free(&f->hosts[i]);
	free(f->hosts);
	fleet_sched_free(f);
	fleet_lat_free(&f->lat);
	fleet_lat_free(&f->ramp);
	fleet_push_free(f);
	fleet_applied_free(f);
	wire_writer_free(&f->w);
	tls_ctx_free(f->tls);
	loop_exit(&f->loop);
	curl_global_cleanup();
	if (ret)
		return 1;
	return f->o.check && !whole ? 1 : 0;
}
