// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench smoke`: the CI run (meson test bench-smoke, suite kernel).
 * A few hundred thousand frames per run of every scenario (the baseline,
 * moat and the floor at 1 and 1,000 rules, one peer if one is built in,
 * the reflector, the classifier alone, conntrack's three cases on a
 * table of 65,536 flows and the bare pass), sent both ways (live frames
 * and AF_XDP), one round each.  It measures nothing worth keeping; it fails when a
 * case's frames do not add up (generated = counted by the receiver +
 * drops counted on the way) or when the run leaves anything behind,
 * also when its output pipe closes half-way.  Never a timed assertion:
 * the machine is shared.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "scenario.h"

static const char smoke_usage[] =
	"usage: moat-bench smoke [--peer NAME] [--packets N] [--json FILE]\n"
	"\n"
	"A short run of every scenario (one round, --packets frames a run,\n"
	"default 200000; live frames and AF_XDP) that exits 1 when a case's\n"
	"frames do not add up or the run leaves namespaces or pins behind\n"
	"(also when its output pipe closes half-way: a second, short run),\n"
	"and 77 (skip) when it cannot run here.  The peer is the first built\n"
	"in of nft-netdev, nft-sets, iptables-raw, xdp-filter, unless given.\n";

/* The peer that needs the least of the machine first. */
static const char *const peer_order[] = { "nft-netdev", "nft-sets",
					  "iptables-raw", "xdp-filter" };

/* Whatever a moat-bench with this pid leaves behind. */
static int leftovers(int pid)
{
	char path[128];
	int left = 0;

	for (int s = 0; s < 2; s++) {
		snprintf(path, sizeof(path), "/run/netns/moatbench-%d-%c", pid,
			 'a' + s);
		if (access(path, F_OK) == 0) {
			bench_err("smoke: namespace left behind: %s", path);
			left++;
		}
	}
	for (int ct = 0; ct < 2; ct++) {
		snprintf(path, sizeof(path), "/sys/fs/bpf/moat/bench-%d%s", pid,
			 ct ? "-ct" : "");
		if (access(path, F_OK) == 0) {
			bench_err("smoke: pins left behind: %s", path);
			left++;
		}
	}
	return left;
}

/*
 * A run whose output is a pipe that closes early (`moat-bench run |
 * head -1`) stops as on SIGINT: it must end by itself, not by SIGPIPE,
 * and leave nothing behind.  0 when it does.
 */
static int closed_pipe(void)
{
	char buf[256];
	int fd[2], status;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		close(fd[1]);
		execl("/proc/self/exe", "moat-bench", "run", "--scenarios=moat",
		      "--rules=1", "--rounds=1", "--packets=200000",
		      (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	/* the first line or so, then the reader goes away */
	n = read(fd[0], buf, sizeof(buf));
	close(fd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (n <= 0) {
		bench_err("smoke: closed pipe: the run wrote nothing");
		return -1;
	}
	if (WIFSIGNALED(status)) {
		bench_err("smoke: closed pipe: the run was killed by signal %d",
			  WTERMSIG(status));
		return -1;
	}
	bench_progress("smoke: a run whose pipe closed stopped by itself");
	return leftovers((int)pid) ? -1 : 0;
}

int cmd_smoke(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "packets", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *peer = NULL, *packets = "200000", *json = NULL;
	char *args[32];
	int c, n = 0, ret;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			peer = optarg;
			break;
		case 'n':
			packets = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			fputs(smoke_usage, stdout);
			return BENCH_EXIT_OK;
		default:
			fputs(smoke_usage, stderr);
			return BENCH_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fputs(smoke_usage, stderr);
		return BENCH_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		const char *ci = getenv("CI");

		fprintf(stderr,
			"smoke: skipped: needs root (namespaces, XDP)\n");
		/* the CI machine has root: a skip there means something broke */
		return ci && !strcmp(ci, "true") ? BENCH_EXIT_FAIL :
						   BENCH_EXIT_SKIP;
	}
	for (size_t i = 0;
	     !peer && i < sizeof(peer_order) / sizeof(*peer_order); i++)
		if (bench_peer_find(peer_order[i]))
			peer = peer_order[i];

	args[n++] = "run";
	args[n++] = "--scenarios=reflect,moat,floor,test-run,ct-miss,ct-est,"
		    "ct-new,pass";
	args[n++] = "--rules=1,1000";
	/* ct-new fills the table before it measures: a small one */
	args[n++] = "--ct-max=65536";
	args[n++] = "--rounds=1";
	args[n++] = "--packets";
	args[n++] = (char *)packets;
	args[n++] = "--tx=live,afxdp";
	args[n++] = "--check";
	if (peer) {
		args[n++] = "--peers";
		args[n++] = (char *)peer;
	} else {
		bench_progress(
			"smoke: no peer firewall is built in: none runs");
	}
	if (json) {
		args[n++] = "--json";
		args[n++] = (char *)json;
	}
	args[n] = NULL;
	ret = cmd_run(n, args);
	if (leftovers((int)getpid()) || closed_pipe())
		ret = BENCH_EXIT_FAIL;
	printf("smoke: %s\n", ret ? "FAILED" : "ok");
	return ret;
}
