// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench run`: XDP throughput of moat against the bare-drop
 * baseline, per rule count, on one veth pair between two namespaces.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "classbench.h"
#include "report.h"
#include "scenario.h"

#define MAX_CASES 16
#define MAX_CPUS 256

struct run_opts {
	uint32_t rules[MAX_CASES];
	int nrules;
	int cpus[MAX_CPUS];
	int ncpus;
	double seconds;
	int rounds;
	uint64_t seed;
	unsigned int ipv6_pct;
	const char *json;
	bool aa;
};

/* Rules of the traffic of the A/A case: its frames only need to be varied. */
#define AA_RULES 1000

static const char run_usage[] =
	"usage: moat-bench run [options]\n"
	"\n"
	"XDP throughput of moat on veth, as a ratio to a bare counting\n"
	"XDP_DROP program measured in the same run, interleaved.\n"
	"\n"
	"  --rules LIST    rule counts, e.g. 1,100,1k (default 1,100,1000,10000,100000;\n"
	"                  'none': no moat case)\n"
	"  --seconds S     length of each measured run (default 1)\n"
	"  --rounds R      case runs per rule count, between R+1 baseline runs (default 5)\n"
	"  --cpus LIST     CPUs that send (and so receive), e.g. 0 or 0-1 (default 0)\n"
	"  --seed S        ruleset and traffic seed (default 1)\n"
	"  --ipv6 PCT      share of IPv6 rules and traffic (default 0)\n"
	"  --aa            add an A/A case: the baseline against itself\n"
	"  --quick         3 rounds of 0.5 s, unless given\n"
	"  --json FILE     write the results as JSON\n";

/* The ratios the team must reach (the targets). */
static double target_for(uint32_t nrules)
{
	switch (nrules) {
	case 1:
		return 0.95;
	case 10000:
		return 0.90;
	case 100000:
		return 0.80;
	default:
		return 0;
	}
}

static int parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 'S' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "aa", no_argument, NULL, 'a' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool quick = false, seconds = false, rounds = false;
	uint64_t x;
	cpu_set_t allowed;
	int c, idx = 0;

	*o = (struct run_opts){ .rules = { 1, 100, 1000, 10000, 100000 },
				.nrules = 5,
				.cpus = { 0 },
				.ncpus = 1,
				.seconds = 1,
				.rounds = 5,
				.seed = 1 };
	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'r':
			if (!strcmp(optarg, "none"))
				o->nrules = 0;
			else if (bench_parse_u32_list(optarg, o->rules,
						      MAX_CASES, &o->nrules))
				goto bad;
			for (int i = 0; i < o->nrules; i++)
				if (!o->rules[i] ||
				    o->rules[i] > MOAT_RULES_MAX)
					goto bad;
			break;
		case 's':
			if (bench_parse_seconds(optarg, &o->seconds))
				goto bad;
			seconds = true;
			break;
		case 'n':
			if (bench_parse_u64(optarg, &x) || !x || x > 1000)
				goto bad;
			o->rounds = (int)x;
			rounds = true;
			break;
		case 'c':
			if (bench_parse_cpu_list(optarg, o->cpus, MAX_CPUS,
						 &o->ncpus))
				goto bad;
			break;
		case 'S':
			if (bench_parse_u64(optarg, &o->seed))
				goto bad;
			break;
		case '6':
			if (bench_parse_u64(optarg, &x) || x > 100)
				goto bad;
			o->ipv6_pct = (unsigned int)x;
			break;
		case 'a':
			o->aa = true;
			break;
		case 'q':
			quick = true;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			exit(BENCH_EXIT_OK);
		default:
			fputs(run_usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		bench_err("unexpected argument: `%s'", argv[optind]);
		return -EINVAL;
	}
	if (quick) {
		o->seconds = seconds ? o->seconds : 0.5;
		o->rounds = rounds ? o->rounds : 3;
	}
	if (!o->nrules && !o->aa) {
		bench_err("--rules none leaves nothing to run without --aa");
		return -EINVAL;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
		for (int i = 0; i < o->ncpus; i++) {
			if (!CPU_ISSET(o->cpus[i], &allowed)) {
				bench_err(
					"--cpus: CPU %d is not available to this process",
					o->cpus[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
bad:
	bench_err("--%s is not valid: `%s'", longopts[idx].name, optarg);
	return -EINVAL;
}

/*
 * One case: the ruleset of @nrules rules (also for the A/A case, whose
 * receiver ignores it), its traffic, and the interleaved rounds.
 */
static int run_case(const struct bench_env *env, const struct run_opts *o,
		    uint32_t nrules, struct receiver *base,
		    struct receiver *cas, bool moat, struct case_result *res)
{
	struct cb_opts co = { .seed = o->seed,
			      .nrules = nrules,
			      .ipv6_pct = o->ipv6_pct,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	struct moat_ruleset rs = { 0 };
	struct cb_traffic tr = { 0 };
	struct generator *g = NULL;
	int ret;

	bench_progress("%s: generating %u rules and their frames (seed %llu)",
		       res->label, nrules, (unsigned long long)o->seed);
	ret = cb_generate(&co, &rs);
	ret = ret ?: cb_traffic_build(&rs, o->seed, &tr);
	if (ret) {
		bench_err("generating %u rules: %s", nrules, strerror(-ret));
		goto out;
	}
	if (moat) {
		res->owned = tr.owned;
		bench_progress("%s: applying (%zu of %u rules own their frame)",
			       res->label, tr.owned, nrules);
		ret = rx_moat_apply(cas, &rs, &res->apply);
		if (ret)
			goto out;
		res->has_apply = true;
	}
	ret = gen_open(&g, env->topo, &tr, o->seed);
	if (ret) {
		bench_err("loading the generator: %s", strerror(-ret));
		goto out;
	}
	ret = scenario_run(env, g, base, cas, res);
out:
	gen_close(g);
	cb_traffic_free(&tr);
	moat_ruleset_free(&rs);
	return ret;
}

static uint32_t capacity_for(const struct run_opts *o)
{
	uint32_t max = 0;

	for (int i = 0; i < o->nrules; i++)
		if (o->rules[i] > max)
			max = o->rules[i];
	/* counter slots: the fixed ones, then one per rule */
	max += MOAT_SLOT_FIRST_RULE;
	return max > MOAT_DEFAULT_CAPACITY ? max : MOAT_DEFAULT_CAPACITY;
}

int cmd_run(int argc, char **argv)
{
	struct receiver *base = NULL, *base2 = NULL, *moat = NULL;
	struct case_result cases[MAX_CASES + 1] = { 0 };
	struct topology topo = { .home_fd = -1, .nsfd = { -1, -1 } };
	struct run_opts o;
	struct bench_env env;
	char instance[64];
	int ncases = 0, maxcpu = 0, ret;

	if (parse(argc, argv, &o))
		return BENCH_EXIT_USAGE;
	if (geteuid() != 0) {
		bench_err("run needs root (namespaces, XDP, BPF test runs)");
		return BENCH_EXIT_FAIL;
	}
	for (int i = 0; i < o.ncpus; i++)
		maxcpu = o.cpus[i] > maxcpu ? o.cpus[i] : maxcpu;
	env = (struct bench_env){ .topo = &topo,
				  .cpus = o.cpus,
				  .ncpus = o.ncpus,
				  .seconds = o.seconds,
				  .rounds = o.rounds };

	/* veth picks the ring by the sending CPU's number: one per CPU */
	ret = topo_create(&topo, maxcpu + 1);
	ret = ret ?: rx_drop_open(&base, "baseline");
	if (!ret && o.aa) {
		struct case_result *c = &cases[ncases++];

		snprintf(c->label, sizeof(c->label), "a/a");
		ret = rx_drop_open(&base2, "baseline-2");
		ret = ret   ?:
			      run_case(&env, &o, AA_RULES, base, base2, false,
				       c);
	}
	if (!ret && o.nrules) {
		snprintf(instance, sizeof(instance), "bench-%d", (int)getpid());
		ret = rx_moat_open(&moat, instance, capacity_for(&o));
	}
	for (int i = 0; !ret && i < o.nrules; i++) {
		struct case_result *c = &cases[ncases++];

		snprintf(c->label, sizeof(c->label), "moat-%u", o.rules[i]);
		c->nrules = o.rules[i];
		c->target = target_for(o.rules[i]);
		ret = run_case(&env, &o, o.rules[i], base, moat, true, c);
	}

	/* what was measured is worth printing even after an interruption */
	if (ncases && cases[0].rounds) {
		struct run_report r = { .argc = argc,
					.argv = argv,
					.cpus = o.cpus,
					.ncpus = o.ncpus,
					.seconds = o.seconds,
					.rounds = o.rounds,
					.seed = o.seed,
					.ipv6_pct = o.ipv6_pct,
					.cases = cases,
					.ncases = ncases };

		if (ret && !cases[ncases - 1].rounds)
			r.ncases--;
		report_run_table(&r, stdout);
		if (o.json && report_run_json(&r, o.json) && !ret)
			ret = -EIO;
	}
	if (ret == -EINTR || bench_stop)
		bench_err("interrupted");

	rx_destroy(moat);
	rx_destroy(base2);
	rx_destroy(base);
	topo_destroy(&topo);
	for (int i = 0; i < ncases; i++)
		scenario_free(&cases[i]);
	return ret ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
