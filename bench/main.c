// SPDX-License-Identifier: GPL-2.0-only
/*
 * moat-bench: traffic generation and measurement for moat's data plane.
 * One subcommand per idea, dispatched from a table.
 */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "bench.h"
#include "classbench.h"
#include "rx.h"
#include "topology.h"

/*
 * libbpf's and libxdp's warnings say why a load or an attach failed;
 * their info lines are noise here.  A run attaches and detaches every
 * round, and on a kernel that refuses libxdp's dispatcher each attach
 * warns the same way: each distinct warning is shown once.
 */
static void warn_once(const char *fmt, va_list ap)
{
	static uint64_t seen[64];
	static unsigned int nseen;
	char msg[512];
	uint64_t h = 14695981039346656037ull;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (const char *c = msg; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	for (unsigned int i = 0; i < nseen; i++)
		if (seen[i] == h)
			return;
	if (nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen++] = h;
	fputs(msg, stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN)
		warn_once(fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBXDP_WARN)
		warn_once(fmt, ap);
	return 0;
}

static void on_signal(int sig)
{
	bench_stop = 1;
}

static const char gen_usage[] =
	"usage: moat-bench gen [--rules N] [--seed S] [--ipv6 PCT] [--flows]\n"
	"\n"
	"Print the ClassBench-style ruleset of `run' and `apply-time' in\n"
	"moat's canonical text, or with --flows the flow aimed at each rule.\n";

static void print_flow(const struct moat_rule *r,
		       const struct moat_ref_packet *p)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *proto = moat_proto_name(p->proto);

	inet_ntop(p->family, p->src, src, sizeof(src));
	inet_ntop(p->family, p->dst, dst, sizeof(dst));
	printf("%-8s %-5s %-39s %-39s %5u %5u\n", r->name, proto ? proto : "?",
	       src, dst, p->sport, p->dport);
}

static int cmd_gen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "flows", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cb_opts o = { .seed = 1,
			     .nrules = 100,
			     .action = MOAT_DROP,
			     .policy = MOAT_DROP };
	struct moat_ruleset rs;
	struct cb_traffic tr;
	bool flows = false;
	int c, idx = 0, ret = 0;
	char *text;
	uint64_t x;

	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'r':
			ret = bench_parse_u64(optarg, &x) ?:
				      (!x || x > MOAT_RULES_MAX ? -EINVAL : 0);
			o.nrules = x;
			break;
		case 'S':
			ret = bench_parse_u64(optarg, &o.seed);
			break;
		case '6':
			ret = bench_parse_u64(optarg, &x) ?:
				      (x > 100 ? -EINVAL : 0);
			o.ipv6_pct = (unsigned int)x;
			break;
		case 'f':
			flows = true;
			break;
		case 'h':
			fputs(gen_usage, stdout);
			return BENCH_EXIT_OK;
		default:
			fputs(gen_usage, stderr);
			return BENCH_EXIT_USAGE;
		}
		if (ret) {
			bench_err("--%s is not valid: `%s'", longopts[idx].name,
				  optarg);
			return BENCH_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		bench_err("unexpected argument: `%s'", argv[optind]);
		return BENCH_EXIT_USAGE;
	}

	ret = cb_generate(&o, &rs);
	if (ret) {
		bench_err("generating %zu rules: %s", o.nrules, strerror(-ret));
		return BENCH_EXIT_FAIL;
	}
	if (flows) {
		ret = cb_traffic_build(&rs, o.seed, &tr);
		for (size_t i = 0; !ret && i < tr.n; i++)
			print_flow(&rs.rules[i], &tr.flows[i]);
		if (!ret)
			fprintf(stderr, "%zu of %zu rules own their flow\n",
				tr.owned, tr.n);
		cb_traffic_free(&tr);
	} else {
		/* the formatter prints these lines above the policy */
		if (asprintf(
			    &rs.policy_comments,
			    "# moat-bench gen --rules %zu --seed %llu --ipv6 %u",
			    o.nrules, (unsigned long long)o.seed,
			    o.ipv6_pct) < 0)
			rs.policy_comments = NULL;
		text = moat_ruleset_format(&rs);
		ret = text ? 0 : -errno;
		if (text)
			fputs(text, stdout);
		free(text);
	}
	moat_ruleset_free(&rs);
	if (ret)
		bench_err("gen: %s", strerror(-ret));
	return ret ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}

static int cmd_cleanup(int argc, char **argv)
{
	int ns, pins;

	if (argc > 1) {
		fputs("usage: moat-bench cleanup\n", stderr);
		return BENCH_EXIT_USAGE;
	}
	ns = topo_remove_stale();
	pins = rx_moat_remove_stale();
	/* a peer's state lives in namespace B, and went with it */
	printf("removed %d namespaces and %d pin directories of "
	       "moat-bench runs that are gone\n",
	       ns, pins);
	return BENCH_EXIT_OK;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", cmd_run,
	  "throughput of moat and its peers against a bare drop, interleaved" },
	{ "apply-time", cmd_apply_time,
	  "ruleset apply time and memory against rule count" },
	{ "gen", cmd_gen, "print a ClassBench-style ruleset (or its flows)" },
	{ "compare", cmd_compare, "what moved between two JSON reports" },
	{ "pool", cmd_pool,
	  "the rounds of many JSON reports pooled, per case and group" },
	{ "plot", cmd_plot, "PNG plots of JSON reports (gnuplot)" },
	{ "smoke", cmd_smoke,
	  "a short run of every scenario that fails when frames do not add up" },
	{ "cleanup", cmd_cleanup,
	  "remove what killed moat-bench runs left behind" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: moat-bench COMMAND [options]   (moat %s)\n\n",
		MOAT_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\n`moat-bench COMMAND --help' for a command's options; "
		"docs/benchmarks.md for what each measures.\n"
		"Exit status: 0 done, 1 the benchmark failed, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc < 2) {
		usage(stderr);
		return BENCH_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return BENCH_EXIT_OK;
	}
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	/* the first signal stops cleanly (teardown included), a second kills */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * A closed pipe (`moat-bench run | head`) stops cleanly too, instead
	 * of killing the run with its namespaces and pins in place; every
	 * later write just fails, so it is never reset.
	 */
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	bench_err("unknown command: `%s'", argv[1]);
	usage(stderr);
	return BENCH_EXIT_USAGE;
}
