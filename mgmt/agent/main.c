// SPDX-License-Identifier: GPL-2.0-only
/* moatd: the XDP host firewall's daemon.  docs/moatd.md is its manual. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "agent.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "privsep.h"
#include "session.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatd [-c FILE] [-d] [--controlplane ADDR] [--controlplane-ca FP]\n"
		"             [--install-token-file FILE]\n"
		"       moatd -n [-c FILE]\n"
		"\n"
		"The XDP host firewall's daemon: applies the ruleset named in FILE to the\n"
		"interfaces named in FILE, keeps it in force, and answers moatctl on a\n"
		"root-only unix socket.  SIGHUP re-reads FILE and the ruleset.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -n, --check        check FILE and its ruleset, print \"configuration OK\",\n"
		"                     change nothing\n"
		"  -d, --debug        log at level debug, whatever FILE says\n"
		"      --controlplane HOST[:PORT]   join this control plane (FILE's 'controlplane')\n"
		"      --controlplane-ca sha256:HEX its CA's fingerprint ('controlplane-ca')\n"
		"      --install-token-file FILE    enroll with the token in FILE, once\n"
		"                                   ('install-token-file'; the token is not kept)\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Exit status: 0 success, 1 bad configuration or failure, 2 bad usage.\n"
		"See docs/moatd.md.\n",
		CONFIG_DEFAULT_PATH);
}

static void print_config_errors(const struct config_errors *errs, bool plain)
{
	for (int i = 0; i < errs->n; i++) {
		if (plain)
			fprintf(stderr, "%s\n", errs->msg[i]);
		else
			log_err("%s", errs->msg[i]);
	}
}

/*
 * libbpf and libxdp print to stderr on their own; route them through the
 * log, at debug: what matters reaches moatd as an error code and is
 * logged with what moatd was doing.  -d shows them.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt,
		      va_list ap)
{
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	return 0;
}
#pragma GCC diagnostic pop

/* moatd -n: everything a start would read, nothing it would change. */
static int check(const struct agent_config *cfg)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	int ret;

	memset(&rs, 0, sizeof(rs));
	ret = moat_ruleset_parse_file(cfg->ruleset, &rs, &d);
	moat_diags_print(&d, cfg->ruleset, stderr);
	if (ret < 0 && !d.nerrors)
		fprintf(stderr, "moatd: cannot read the ruleset %s: %s\n",
			cfg->ruleset, strerror(-ret));
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
	if (ret < 0)
		return 1;

	/* a warning, not an error: an interface may come up after moatd */
	for (int i = 0; i < cfg->nifaces; i++) {
		if (!if_nametoindex(cfg->ifaces[i]))
			fprintf(stderr,
				"moatd: warning: interface %s does not exist (yet)\n",
				cfg->ifaces[i]);
	}
	if (cfg->cp_host[0] || cfg->metrics_port) {
		struct privsep_user u;

		/* errors: without them moatd starts but never joins */
		if (privsep_user(cfg->user, &u) < 0)
			return 1;
		if (cfg->token_file[0] && access(cfg->token_file, R_OK) < 0) {
			fprintf(stderr,
				"moatd: cannot read the install token file %s: %s\n",
				cfg->token_file, strerror(errno));
			return 1;
		}
	}
	printf("configuration OK\n");
	return 0;
}

enum {
	OPT_CP = 256,
	OPT_CP_CA,
	OPT_TOKEN_FILE,
	OPT_SESSION_FD,
	OPT_METRICS_FD,
	OPT_UID,
	OPT_GID,
};

/* "--session-fd 3 --uid U --gid G": privsep_spawn()'s child. */
static unsigned long id_arg(const char *opt, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > INT32_MAX) {
		fprintf(stderr, "moatd: %s: not a number: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "controlplane", required_argument, NULL, OPT_CP },
		{ "controlplane-ca", required_argument, NULL, OPT_CP_CA },
		{ "install-token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ PRIVSEP_SESSION_OPT, required_argument, NULL, OPT_SESSION_FD },
		{ PRIVSEP_METRICS_OPT, required_argument, NULL, OPT_METRICS_FD },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	static struct agent a; /* large (paths): not on the stack */
	static struct agent_config cfg;
	struct config_errors errs;
	char abs[PATH_MAX], token_abs[PATH_MAX];
	struct config_overrides ov = { 0 };
	long session_fd = -1, metrics_fd = -1, uid = -1, gid = -1;
	bool check_only = false;
	int ch, ret;

	log_init("moatd", LOG_LEVEL_INFO);
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
	while ((ch = getopt_long(argc, argv, "c:ndhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'd':
			a.debug = true;
			break;
		case OPT_CP:
			ov.controlplane = optarg;
			break;
		case OPT_CP_CA:
			ov.controlplane_ca = optarg;
			break;
		case OPT_TOKEN_FILE:
			/* relative to where moatd was started */
			ov.token_file = realpath(optarg, token_abs) ? token_abs :
								     optarg;
			break;
		case OPT_SESSION_FD:
			session_fd = (long)id_arg("--" PRIVSEP_SESSION_OPT, optarg);
			break;
		case OPT_METRICS_FD:
			metrics_fd = (long)id_arg("--" PRIVSEP_METRICS_OPT, optarg);
			break;
		case OPT_UID:
			uid = (long)id_arg("--uid", optarg);
			break;
		case OPT_GID:
			gid = (long)id_arg("--gid", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("moatd %s\n", MOAT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "moatd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	if (session_fd >= 0 || metrics_fd >= 0) {
		if (uid <= 0 || gid < 0 || (session_fd >= 0 && metrics_fd >= 0)) {
			fprintf(stderr, "moatd: --%s or --%s needs --uid (not 0) and --gid\n",
				PRIVSEP_SESSION_OPT, PRIVSEP_METRICS_OPT);
			return 2;
		}
		if (metrics_fd >= 0)
			return metrics_main((int)metrics_fd, PRIVSEP_LISTEN_FD,
					    (uid_t)uid, (gid_t)gid, a.debug);
		return session_main((int)session_fd, (uid_t)uid, (gid_t)gid,
				    a.debug);
	}

	/* absolute, so that status shows it and a reload finds it */
	if (realpath(path, abs))
		path = abs;
	if (config_load_ov(path, &ov, &cfg, &errs) < 0) {
		print_config_errors(&errs, check_only);
		return 1;
	}
	if (check_only)
		return check(&cfg);

	log_set_level(a.debug ? LOG_LEVEL_DEBUG :
				(enum log_level)cfg.log_level);
	/* a peer that hangs up is an error on the socket, not a signal */
	signal(SIGPIPE, SIG_IGN);

	ret = agent_start(&a, &cfg);
	if (ret == 0)
		ret = agent_run(&a);
	else
		ret = 1;
	agent_stop(&a);
	return ret;
}
