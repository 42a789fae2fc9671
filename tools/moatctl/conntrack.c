// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl conntrack [list|flush] [FILTERS]: the flows moat tracks, read
 * straight from the pinned table (with or without moatd), and removing
 * them.  docs/conntrack.md says what the states mean.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "moatctl.h"
#include "parse.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl conntrack [list] [--json] [FILTERS]\n"
		"       moatctl conntrack flush [FILTERS]\n"
		"\n"
		"List the flows moat tracks, or remove them (all of them when no filter\n"
		"is given).  Reads the pinned table: works while moatd is down.  Needs root.\n"
		"\n"
		"Filters (all given must match):\n"
		"  -a, --addr ADDR[/LEN]  either endpoint in this address or prefix\n"
		"  -p, --port N           either endpoint's port (ICMP echo: its identifier)\n"
		"  -P, --proto PROTO      tcp, udp, icmp, icmpv6, sctp or a number\n"
		"  -S, --state STATE      syn-sent, syn-recv, established, fin-wait,\n"
		"                         time-wait, close, open, replied\n"
		"  -j, --json             JSON output (list)\n"
		"  -h, --help             show this help\n");
}

static int parse_filter_addr(const char *s, struct moat_prefix *p)
{
	struct lex_tok t = { .s = s, .len = strlen(s), .line = 1, .col = 1 };
	struct moat_diags d = { 0 };
	int ret;

	/* the ruleset's own reading of addresses, host bits and all */
	ret = moat_parse_prefix(&t, p, &d);
	if (!ret && !strchr(s, '/'))
		p->len = p->family == AF_INET ? 32 : 128;
	if (ret && d.n)
		fprintf(stderr, "moatctl: --addr: %s\n", d.v[0].msg);
	moat_diags_free(&d);
	return ret ? -EINVAL : 0;
}

static int parse_state(const char *s)
{
	for (int i = 1; i < MOAT_CTS_MAX; i++)
		if (!strcmp(moat_ct_flow_state_name((uint8_t)i), s))
			return i;
	return -1;
}

static void addr_str(const struct moat_ct_flow *f, const uint8_t *a,
		     char *buf, size_t n)
{
	inet_ntop(f->family, a, buf, (socklen_t)n);
}

static const char *proto_str(uint8_t p, char buf[8])
{
	const char *n = moat_proto_name(p);

	if (n)
		return n;
	snprintf(buf, 8, "%u", p);
	return buf;
}

static void flags_str(uint8_t fl, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", fl & MOAT_CTF_EGRESS ? "out" : "in",
		 fl & MOAT_CTF_REPLIED ? ",replied" : "",
		 fl & MOAT_CTF_PICKUP ? ",pickup" : "");
}

static void print_table(const struct moat_ct_flow *v, size_t n)
{
	static const char *const heads[] = { "PROTO",  "SOURCE",  "SPORT",
					     "DEST",   "DPORT",   "STATE",
					     "PKTS",   "REPLIES", "AGE",
					     "IDLE",   "EXPIRES", "FLAGS" };
	struct table *t = table_new("llrlrlrrrrrl", heads);
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], p[8], h[2][16],
		d[3][32], fl[32];

	if (!t) {
		fail("out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct moat_ct_flow *f = &v[i];

		addr_str(f, f->src, a, sizeof(a));
		addr_str(f, f->dst, b, sizeof(b));
		table_duration(d[0], sizeof(d[0]), f->age_ns);
		table_duration(d[1], sizeof(d[1]), f->idle_ns);
		table_duration(d[2], sizeof(d[2]), f->expires_ns);
		flags_str(f->flags, fl, sizeof(fl));
		table_row(t);
		table_cell(t, "%s", proto_str(f->proto, p));
		table_cell(t, "%s", a);
		table_cell(t, "%u", f->sport);
		table_cell(t, "%s", b);
		table_cell(t, "%u", f->dport);
		table_cell(t, "%s", moat_ct_flow_state_name(f->state));
		table_cell(t, "%s", table_human(h[0], f->packets_orig));
		table_cell(t, "%s", table_human(h[1], f->packets_reply));
		table_cell(t, "%s", d[0]);
		table_cell(t, "%s", d[1]);
		table_cell(t, "%s", f->expires_ns ? d[2] : "expired");
		table_cell(t, "%s", fl);
	}
	table_print(t, stdout);
	table_free(t);
	printf("%zu flow%s\n", n, n == 1 ? "" : "s");
}

static void print_json(const struct moat_ct_flow *v, size_t n)
{
	char a[INET6_ADDRSTRLEN], p[8];
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "flows");
	json_arr_open(&j);
	for (size_t i = 0; i < n; i++) {
		const struct moat_ct_flow *f = &v[i];

		json_obj_open(&j);
		json_kstr(&j, "family", f->family == AF_INET ? "ipv4" : "ipv6");
		json_kstr(&j, "proto", proto_str(f->proto, p));
		addr_str(f, f->src, a, sizeof(a));
		json_kstr(&j, "src", a);
		json_kuint(&j, "sport", f->sport);
		addr_str(f, f->dst, a, sizeof(a));
		json_kstr(&j, "dst", a);
		json_kuint(&j, "dport", f->dport);
		json_kstr(&j, "state", moat_ct_flow_state_name(f->state));
		json_kstr(&j, "opened", f->flags & MOAT_CTF_EGRESS ? "out" : "in");
		json_kbool(&j, "replied", f->flags & MOAT_CTF_REPLIED);
		json_kbool(&j, "pickup", f->flags & MOAT_CTF_PICKUP);
		json_kuint(&j, "ifindex", f->ifindex);
		json_kuint(&j, "packets", f->packets_orig);
		json_kuint(&j, "replies", f->packets_reply);
		json_kuint(&j, "age_ns", f->age_ns);
		json_kuint(&j, "idle_ns", f->idle_ns);
		json_kuint(&j, "expires_ns", f->expires_ns);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_kuint(&j, "count", n);
	json_obj_close(&j);
	json_end(&j);
}

int cmd_conntrack(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "proto", required_argument, NULL, 'P' },
		{ "state", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct moat_ct_filter f = { .port = -1, .proto = -1, .state = -1 };
	struct moat_ct_flow *v = NULL;
	struct moat_dp_opts o;
	struct moat_dp *dp;
	bool flush = false, filtered = false;
	char root[256];
	size_t n = 0;
	uint64_t x;
	int ch, ret;

	if (argc > 1 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "flush"))) {
		flush = !strcmp(argv[1], "flush");
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((ch = getopt_long(argc, argv, "a:p:P:S:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (parse_filter_addr(optarg, &f.addr))
				return usage_hint("conntrack");
			f.has_addr = filtered = true;
			break;
		case 'p':
			if (!moatctl_uint(optarg, 0, 65535, &x))
				return usage_error("conntrack",
						   "--port: '%s' is not a port (0-65535)",
						   optarg);
			f.port = (int)x;
			filtered = true;
			break;
		case 'P':
			f.proto = moat_proto_lookup(optarg);
			if (f.proto < 0) {
				if (!moatctl_uint(optarg, 0, 255, &x))
					return usage_error(
						"conntrack",
						"--proto: '%s' is not tcp, udp, sctp, icmp, icmpv6 or a number 0-255",
						optarg);
				f.proto = (int)x;
			}
			filtered = true;
			break;
		case 'S':
			f.state = parse_state(optarg);
			if (f.state < 0)
				return usage_error(
					"conntrack",
					"--state: '%s' is not syn-sent, syn-recv, established, fin-wait, time-wait, close, open or replied",
					optarg);
			filtered = true;
			break;
		case 'j':
			g->json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_hint("conntrack");
		}
	}
	if (optind < argc)
		return usage_error("conntrack", "unexpected argument '%s'",
				   argv[optind]);

	moatctl_dp_opts(g, &o);
	moatctl_pin_root(g, root, sizeof(root));
	ret = moat_dp_open_pinned(&o, &dp);
	if ((ret == -ENOENT || ret == -EACCES || ret == -EPERM) && geteuid())
		return fail("reading the conntrack table at %s needs root", root);
	if (ret == -ENOENT)
		return fail("nothing pinned at %s: is moatd running as instance '%s'?",
			    root, g->instance);
	if (ret < 0)
		return fail("cannot open the pinned data plane at %s: %s", root,
			    strerror(-ret));
	if (flush) {
		ret = moat_dp_ct_flush(dp, filtered ? &f : NULL, &n);
		if (!ret)
			printf("flushed %zu flow%s\n", n, n == 1 ? "" : "s");
	} else {
		ret = moat_dp_ct_list(dp, filtered ? &f : NULL, &v, &n);
		if (!ret && g->json)
			print_json(v, n);
		else if (!ret)
			print_table(v, n);
	}
	moat_dp_close(dp);
	free(v);
	if (ret == -ENOENT)
		return fail("instance '%s' does not track flows (conntrack no in moatd.conf)",
			    g->instance);
	if (ret < 0)
		return fail("cannot %s the conntrack table at %s: %s",
			    flush ? "flush" : "read", root, strerror(-ret));
	return EXIT_OK;
}
