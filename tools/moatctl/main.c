// SPDX-License-Identifier: GPL-2.0-only
/* moatctl: the operator's tool for moat.  docs/moatctl.md is its manual. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "cp.h"
#include "moatctl.h"

static const struct command {
	const char *name;
	const char *plural; /* also accepted: "tokens list" */
	int (*run)(struct moatctl *g, int argc, char **argv);
	const char *args;
	const char *summary;
} commands[] = {
	{ "ruleset", NULL, cmd_ruleset, "check|fmt|apply FILE",
	  "check, format or apply a ruleset file (push|list|show|versions|"
	  "counters: the control plane's)" },
	{ "rules", NULL, cmd_rules, "[--json] [--watch [SECS]]",
	  "counters and rates of every rule" },
	{ "status", NULL, cmd_status, "[--json]",
	  "generation, interfaces, programs, kernel features" },
	{ "conntrack", NULL, cmd_conntrack, "[list|flush] [FILTERS]",
	  "the tracked flows: list them, or remove them" },
	{ "log", NULL, cmd_log, "[--json] [--rate N]",
	  "follow the verdict log events of rules that log" },
	{ "detach", NULL, cmd_detach, "IFACE",
	  "remove the firewall from IFACE" },
	{ "reload", NULL, cmd_reload, "",
	  "have moatd re-read its config and ruleset (as SIGHUP)" },
	/* the control plane's operator API (cp.h) */
	{ "token", "tokens", cmd_token, "create|list|revoke ...",
	  "install tokens that let hosts enroll" },
	{ "host", "hosts", cmd_host, "list|show|remove|label|... [ID]",
	  "the enrolled hosts, their health and declared state" },
	{ "assign", "assignments", cmd_assign, "list|add|set|delete ...",
	  "which hosts get which ruleset" },
	{ "role", "roles", cmd_role, "list|set|delete ...",
	  "roles and their permissions" },
	{ "key", "keys", cmd_key, "list|create|revoke ...",
	  "API keys and their role bindings" },
	{ "workspace", "workspaces", cmd_workspace, "list|create [NAME]",
	  "the workspaces" },
	{ "whoami", NULL, cmd_whoami, "", "the API key in use and its roles" },
	{ "audit", NULL, cmd_audit, "list|verify",
	  "the audit log, and a check of its hash chain" },
	{ "cp-config", NULL, cmd_cp_config, "check [FILE]",
	  "check moatctl.conf, the control-plane settings" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: moatctl [OPTIONS] COMMAND [ARGS]\n"
		   "\n"
		   "Commands of this host's moatd:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(commands[i].name, "token"))
			fprintf(f,
				"\nCommands of the control plane (plurals too: 'hosts list'):\n");
		fprintf(f, "  %-9s %-27s %s\n", commands[i].name,
			commands[i].args, commands[i].summary);
	}
	fprintf(f,
		"\n"
		"Options (before the command):\n"
		"  -i, --instance NAME  moatd instance (default \"default\")\n"
		"      --bpffs PATH     bpffs mount of the pins (default /sys/fs/bpf)\n"
		"  -s, --socket PATH    moatd's socket (default /run/moat/INSTANCE.sock)\n"
		"  -j, --json           JSON output for programs\n"
		"      --server URL     the control plane's API (MOAT_SERVER)\n"
		"      --api-key-file FILE  the API key (MOAT_API_KEY_FILE, MOAT_API_KEY)\n"
		"      --cacert FILE    the control plane's CA, PEM (MOAT_CACERT)\n"
		"  -w, --workspace NAME the workspace (MOAT_WORKSPACE, \"default\")\n"
		"  -h, --help           show this help; 'moatctl COMMAND --help' for a command\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 bad usage.  See docs/moatctl.md.\n");
}

void moatctl_dp_opts(const struct moatctl *g, struct moat_dp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bpffs = g->bpffs;
	o->instance = g->instance;
}

void moatctl_pin_root(const struct moatctl *g, char *buf, size_t size)
{
	snprintf(buf, size, "%s/moat/%s", g->bpffs, g->instance);
}

/* Errors come back as codes and are said in moatctl's words. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "bpffs", required_argument, NULL, 'B' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		CP_OPTIONS,
		{ 0 },
	};
	struct moatctl g = { .instance = "default", .bpffs = "/sys/fs/bpf" };
	const char *sock = NULL;
	int ch;

	libbpf_set_print(quiet);
	libxdp_set_print(quiet_xdp);

	/* '+': options after the command are the command's */
	while ((ch = getopt_long(argc, argv, "+i:s:w:jhV", opts, NULL)) != -1) {
		if (cp_common_opt(&g, ch, optarg))
			continue;
		switch (ch) {
		case 'i':
			g.instance = optarg;
			break;
		case 'B':
			g.bpffs = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("moatctl %s\n", MOAT_VERSION);
			return EXIT_OK;
		default:
			return usage_hint(NULL);
		}
	}
	if (!ctl_instance_valid(g.instance, strlen(g.instance)))
		return usage_error(
			NULL,
			"bad instance name '%s' (1-32 of A-Z a-z 0-9 _ . -, starting with a letter or digit)",
			g.instance);
	if (snprintf(g.socket, sizeof(g.socket), "%s", sock ? sock : "") >=
	    (int)sizeof(g.socket))
		return usage_error(NULL, "socket path too long: '%s'", sock);
	if (!sock)
		snprintf(g.socket, sizeof(g.socket), "/run/moat/%s.sock",
			 g.instance);

	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(argv[optind], commands[i].name) ||
		    (commands[i].plural &&
		     !strcmp(argv[optind], commands[i].plural))) {
			static char name[32];

			argc -= optind;
			argv += optind;
			/* getopt's messages then read "moatctl rules: ..." */
			snprintf(name, sizeof(name), "moatctl %s",
				 commands[i].name);
			argv[0] = name;
			optind =
				0; /* glibc: start over on the command's argv */
			return commands[i].run(&g, argc, argv);
		}
	}
	return usage_error(NULL, "unknown command '%s'", argv[optind]);
}
