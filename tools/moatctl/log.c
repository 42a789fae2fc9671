// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl log: follow the verdict log events of rules that say "log",
 * from the instance's ring buffer.  The data plane already holds events
 * to the instance's log rate; moatctl prints at most --rate lines a
 * second on top, and says how many it left out, so that a flood of
 * events cannot flood a terminal or a journal either.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "moatctl.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl log [--json] [--rate N] [--count N] [--duration SECS]\n"
		"\n"
		"Follow the verdict log events of the rules that say 'log' (docs/ruleset.md):\n"
		"time, interface, verdict, rule, protocol, source and destination.  Until\n"
		"Ctrl-C, N events or SECS seconds.  Reads the instance's ring buffer: one\n"
		"reader at a time.  Needs root.\n"
		"\n"
		"  -j, --json            one JSON object a line\n"
		"  -r, --rate N          print at most N events a second (default 100); the\n"
		"                        rest are counted, and said on stderr every second\n"
		"  -n, --count N         exit after N events\n"
		"  -d, --duration SECS   exit after SECS seconds\n"
		"  -h, --help            show this help\n");
}

struct follow {
	bool json;
	uint32_t rate;
	uint64_t count, shown, held; /* events shown, and left out this second */
	uint64_t window_ns;
	uint32_t in_window;
	struct moat_dp_row *rows; /* slot -> name */
	int nrows;
	uint64_t boot_to_real; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct moat_dp *dp;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *rule_of(struct follow *fl, uint32_t slot)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < fl->nrows; i++)
			if (!fl->rows[i].fixed && fl->rows[i].slot == slot)
				return fl->rows[i].name;
		/* a rule applied since we started: read the names again */
		free(fl->rows);
		fl->rows = NULL;
		fl->nrows = 0;
		if (pass || moat_dp_rows(fl->dp, &fl->rows, &fl->nrows))
			break;
	}
	return "?";
}

static void addr_of(const struct moat_event *e, const __u64 *a, char *buf,
		    size_t n)
{
	if (e->fam6) {
		inet_ntop(AF_INET6, a, buf, (socklen_t)n);
	} else {
		uint32_t v = htonl((uint32_t)a[0]);

		inet_ntop(AF_INET, &v, buf, (socklen_t)n);
	}
}

static const char *verdict_name(uint8_t v)
{
	static const char *const names[] = { "allow", "drop", "would-drop",
					     "over-limit" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct follow *fl = ctx;
	const struct moat_event *e = data;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE] = "?",
		when[64], p[8];
	const char *proto;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct tm tm;
	time_t t;

	if (size < sizeof(*e))
		return 0;
	if (now - fl->window_ns >= 1000000000ull) {
		if (fl->held)
			fprintf(stderr, "moatctl: %llu events not shown (over --rate %u/s)\n",
				(unsigned long long)fl->held, fl->rate);
		fl->window_ns = now;
		fl->in_window = 0;
		fl->held = 0;
	}
	if (fl->in_window >= fl->rate) {
		fl->held++;
		return 0;
	}
	fl->in_window++;
	addr_of(e, e->src, src, sizeof(src));
	addr_of(e, e->dst, dst, sizeof(dst));
	if_indextoname(e->ifindex, ifn);
	proto = moat_proto_name(e->proto);
	if (!proto) {
		snprintf(p, sizeof(p), "%u", e->proto);
		proto = p;
	}
	if (fl->json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_open(&j);
		json_kuint(&j, "time_ns", e->time_ns + fl->boot_to_real);
		json_kstr(&j, "interface", ifn);
		json_kstr(&j, "verdict", verdict_name(e->verdict));
		json_kstr(&j, "rule", rule_of(fl, e->slot));
		json_kstr(&j, "proto", proto);
		json_kstr(&j, "src", src);
		json_kuint(&j, "sport", e->sport);
		json_kstr(&j, "dst", dst);
		json_kuint(&j, "dport", e->dport);
		json_kuint(&j, "len", e->len);
		json_obj_close(&j);
		json_end(&j);
	} else {
		t = (time_t)((e->time_ns + fl->boot_to_real) / 1000000000ull);
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%F %T", &tm);
		printf("%s.%06llu %s %s %s %s %s%s%s:%u -> %s%s%s:%u len %u\n", when,
		       (unsigned long long)((e->time_ns + fl->boot_to_real) % 1000000000ull / 1000),
		       ifn, verdict_name(e->verdict), rule_of(fl, e->slot), proto,
		       e->fam6 ? "[" : "", src, e->fam6 ? "]" : "", e->sport,
		       e->fam6 ? "[" : "", dst, e->fam6 ? "]" : "", e->dport, e->len);
	}
	fflush(stdout);
	fl->shown++;
	if (fl->count && fl->shown >= fl->count)
		stop = 1;
	return 0;
}

static int number(const char *cmd, const char *opt, const char *s, uint64_t lo,
		  uint64_t hi, uint64_t *out)
{
	if (!moatctl_uint(s, lo, hi, out))
		return usage_error(cmd, "%s: '%s' is not a number from %llu to %llu",
				   opt, s, (unsigned long long)lo,
				   (unsigned long long)hi);
	return 0;
}

int cmd_log(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct follow fl = { .rate = 100 };
	struct sigaction sa = { .sa_handler = on_stop };
	struct ring_buffer *rb = NULL;
	struct moat_dp_opts o;
	uint64_t v, duration = 0, until;
	char root[256], path[300];
	int ch, fd = -1, ret;

	while ((ch = getopt_long(argc, argv, "jr:n:d:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			g->json = true;
			break;
		case 'r':
			if (number("log", "--rate", optarg, 1, 1000000, &v))
				return EXIT_USAGE;
			fl.rate = (uint32_t)v;
			break;
		case 'n':
			if (number("log", "--count", optarg, 1, UINT64_MAX, &fl.count))
				return EXIT_USAGE;
			break;
		case 'd':
			if (number("log", "--duration", optarg, 1, 86400 * 365, &duration))
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_hint("log");
		}
	}
	if (optind < argc)
		return usage_error("log", "unexpected argument '%s'", argv[optind]);
	fl.json = g->json;

	moatctl_dp_opts(g, &o);
	moatctl_pin_root(g, root, sizeof(root));
	ret = moat_dp_open_pinned(&o, &fl.dp);
	if ((ret == -ENOENT || ret == -EACCES || ret == -EPERM) && geteuid())
		return fail("reading the log at %s needs root", root);
	if (ret < 0)
		return fail("nothing pinned at %s: is moatd running as instance '%s'?",
			    root, g->instance);
	snprintf(path, sizeof(path), "%s/events", root);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		ret = fail("no event ring buffer at %s: %s", path, strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(fd, on_event, &fl, NULL);
	if (!rb) {
		ret = fail("cannot read the ring buffer at %s: %s", path, strerror(errno));
		goto out;
	}
	moat_dp_rows(fl.dp, &fl.rows, &fl.nrows);
	fl.boot_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	fl.window_ns = clock_ns(CLOCK_MONOTONIC);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	until = duration ? clock_ns(CLOCK_MONOTONIC) + duration * 1000000000ull : 0;
	while (!stop && (!until || clock_ns(CLOCK_MONOTONIC) < until)) {
		int n = ring_buffer__poll(rb, 200);

		if (n < 0 && n != -EINTR) {
			ret = fail("reading events: %s", strerror(-n));
			goto out;
		}
	}
	if (fl.held)
		fprintf(stderr, "moatctl: %llu events not shown (over --rate %u/s)\n",
			(unsigned long long)fl.held, fl.rate);
	ret = EXIT_OK;
out:
	ring_buffer__free(rb);
	if (fd >= 0)
		close(fd);
	free(fl.rows);
	moat_dp_close(fl.dp);
	return ret;
}
