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

#include "moatctl.h"

static const struct command {
	const char *name;
	int (*run)(struct moatctl *g, int argc, char **argv);
	const char *args;
	const char *summary;
} commands[] = {
	{ "ruleset", cmd_ruleset, "check|fmt|apply FILE",
	  "check, format or apply a ruleset file" },
	{ "rules", cmd_rules, "[--json] [--watch [SECS]]",
	  "counters and rates of every rule" },
	{ "status", cmd_status, "[--json]",
	  "generation, interfaces, programs, kernel features" },
	{ "conntrack", cmd_conntrack, "[list|flush] [FILTERS]",
	  "the tracked flows: list them, or remove them" },
	{ "log", cmd_log, "[--json] [--rate N]",
	  "follow the verdict log events of rules that log" },
	{ "detach", cmd_detach, "IFACE", "remove the firewall from IFACE" },
	{ "reload", cmd_reload, "",
	  "have moatd re-read its config and ruleset (as SIGHUP)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: moatctl [OPTIONS] COMMAND [ARGS]\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %-27s %s\n", commands[i].name,
			commands[i].args, commands[i].summary);
	fprintf(f,
		"\n"
		"Options (before the command):\n"
		"  -i, --instance NAME  moatd instance (default \"default\")\n"
		"      --bpffs PATH     bpffs mount of the pins (default /sys/fs/bpf)\n"
		"  -s, --socket PATH    moatd's socket (default /run/moat/INSTANCE.sock)\n"
		"  -j, --json           JSON output for programs\n"
		"  -h, --help           show this help; 'moatctl COMMAND --help' for a command\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 bad usage.  See docs/moatctl.md.\n");
}

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("moatctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USER;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("moatctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return usage_hint(cmd);
}

int usage_hint(const char *cmd)
{
	fprintf(stderr, "Try 'moatctl %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

bool moatctl_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v < lo ||
	    v > hi)
		return false;
	*out = v;
	return true;
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
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct moatctl g = { .instance = "default", .bpffs = "/sys/fs/bpf" };
	const char *sock = NULL;
	int ch;

	libbpf_set_print(quiet);
	libxdp_set_print(quiet_xdp);

	/* '+': options after the command are the command's */
	while ((ch = getopt_long(argc, argv, "+i:s:jhV", opts, NULL)) != -1) {
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
		case 'j':
			g.json = true;
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
		if (!strcmp(argv[optind], commands[i].name)) {
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
