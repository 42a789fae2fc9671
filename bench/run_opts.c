// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command line of `moat-bench run`.  Every option of the first
 * version keeps its meaning; the scenarios, the traffic and the
 * topology are new options with defaults that reproduce it.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "scenario.h"

#define STR(x) #x
#define XSTR(x) STR(x)
/* the flow cache sizes moat_dp_open takes, "4 to 20" */
#define FC_SIZES XSTR(MOAT_FC_LOG_MIN) " to " XSTR(MOAT_FC_LOG_MAX)

static const char run_usage[] =
	"usage: moat-bench run [options]\n"
	"\n"
	"XDP throughput on veth, each case as a ratio to a bare counting\n"
	"XDP_DROP program measured in the same run, interleaved.\n"
	"\n"
	"What runs:\n"
	"  --scenarios LIST  scenarios (listed below) or all (default moat)\n"
	"  --rules LIST      rule counts, e.g. 1,100,1k (default 1,100,1000,10000,100000;\n"
	"                    'none': no rule-count case)\n"
	"  --peers LIST      peer firewalls (adds the peers scenario), listed below\n"
	"  --aa              add the A/A case: the baseline against itself\n"
	"  --baseline KIND   drop: bench_count with XDP_DROP (default); pass:\n"
	"                    bench_count with XDP_PASS, the passed frames dropped\n"
	"                    in veth-b's tc ingress (what ct-est and ct-new pass costs)\n"
	"moat:\n"
	"  --flow-cache N    the moat scenario's flow cache: auto (default), off,\n"
	"                    or log2 of its IPv4 buckets a CPU, " FC_SIZES "\n"
	"floor:\n"
	"  --floor-stride N  the floor's counters N apart (1 to 64, default 1):\n"
	"                    N counters' room each, to spread its memory as far\n"
	"                    as moat's flow cache spreads moat's\n"
	"Conntrack (ct-miss, ct-est, ct-new):\n"
	"  --ct-max N        the table's size in flows (default 1048576); ct-new\n"
	"                    fills it before it measures\n"
	"How long:\n"
	"  --seconds S       length of each measured run (default 1)\n"
	"  --packets N       frames per measured run instead of --seconds\n"
	"  --rounds R        case runs per case, between R+1 baseline runs (default 5)\n"
	"  --quick           3 rounds of 0.5 s, unless given\n"
	"Traffic:\n"
	"  --tx LIST         transmitters: live (BPF_PROG_TEST_RUN live frames), afxdp\n"
	"                    (default live); each case runs once per transmitter\n"
	"  --cpus LIST       CPUs that send (and so receive), e.g. 0 or 0-1 (default 0)\n"
	"  --size N          frame length, 64 to 1500 (default: the smallest that fits)\n"
	"  --flows N         distinct flows: source address and port rewritten per frame\n"
	"                    within each rule (default: one flow per rule)\n"
	"  --active N        aim the traffic at N rules of each ruleset, chosen at\n"
	"                    random, instead of all (locality: what fits the caches)\n"
	"  --proto LIST      templates of the reflect and ct-new scenarios: udp4,\n"
	"                    tcp4,icmp4,udp6,tcp6,icmp6 (default udp4; ct-new: TCP\n"
	"                    and UDP only, TCP with SYN)\n"
	"  --seed S          ruleset and traffic seed (default 1)\n"
	"  --ipv6 PCT        share of IPv6 rules and traffic (default 0)\n"
	"  --ruleset SHAPE   acl: ClassBench-style ACLs (default); ports: one\n"
	"                    'drop udp dport P' a rule, policy allow, the shape\n"
	"                    every peer can express (xdp-filter included)\n"
	"Topology (default: a veth pair between two namespaces of its own):\n"
	"  --iface IF        send out of IF (with --peer-iface)\n"
	"  --peer-iface IF   receive on IF\n"
	"  --netns NS        IF is in namespace NS (/run/netns/NS)\n"
	"  --peer-netns NS   the receiving interface is in namespace NS\n"
	"Output:\n"
	"  --json FILE       write the results as JSON\n"
	"  --check           exit 1 when a case's frames do not add up\n";

static void usage(FILE *f)
{
	const char *peers = bench_peer_names();

	fputs(run_usage, f);
	fprintf(f, "\nscenarios (per rule count: *):\n");
	for (int i = 0; i < bench_nscenarios; i++)
		fprintf(f, "  %-9s %s %s\n", bench_scenarios[i].name,
			bench_scenarios[i].flags & SC_EACH_COUNT ? "*" : " ",
			bench_scenarios[i].summary);
	fprintf(f, "\npeers: %s\n", *peers ? peers : "none built in");
}

static int parse_list(const char *s, int (*one)(const char *item, void *arg),
		      void *arg)
{
	char *copy = strdup(s), *save = NULL, *item;
	int ret = copy ? 0 : -ENOMEM;

	for (item = copy ? strtok_r(copy, ",", &save) : NULL; !ret && item;
	     item = strtok_r(NULL, ",", &save))
		ret = one(item, arg);
	free(copy);
	return ret;
}

static int one_scenario(const char *item, void *arg)
{
	struct run_opts *o = arg;
	int i;

	if (!strcmp(item, "all")) {
		o->scenarios = (1u << bench_nscenarios) - 1;
		return 0;
	}
	i = scenario_find(item);
	if (i < 0)
		return i;
	o->scenarios |= 1u << i;
	return 0;
}

static int one_peer(const char *item, void *arg)
{
	struct run_opts *o = arg;
	const struct bench_peer *p = bench_peer_find(item);

	if (!p || o->npeers == MAX_PEERS)
		return -EINVAL;
	o->peers[o->npeers++] = p;
	return 0;
}

static int one_tx(const char *item, void *arg)
{
	struct run_opts *o = arg;
	enum gen_tx tx;

	if (gen_tx_parse(item, &tx) || o->ntx == GEN_TX_COUNT)
		return -EINVAL;
	for (int i = 0; i < o->ntx; i++)
		if (o->tx[i] == tx)
			return -EINVAL; /* twice */
	o->tx[o->ntx++] = tx;
	return 0;
}

static int one_proto(const char *item, void *arg)
{
	struct run_opts *o = arg;
	enum traffic_proto p;

	if (traffic_proto_parse(item, &p) || o->nprotos == TP_COUNT)
		return -EINVAL;
	o->protos[o->nprotos++] = p;
	return 0;
}

/* What the options left unsaid, and what they cannot say together. */
static int finish(struct run_opts *o, bool quick, bool seconds, bool rounds,
		  bool aa)
{
	cpu_set_t allowed;
	int peers = scenario_find("peers");

	if (!o->scenarios)
		for (int i = 0; i < bench_nscenarios; i++)
			if (bench_scenarios[i].by_default)
				o->scenarios |= 1u << i;
	if (aa)
		o->scenarios |= 1u << scenario_find("aa");
	if (o->npeers)
		o->scenarios |= 1u << peers;
	if ((o->scenarios & 1u << peers) && !o->npeers)
		for (const char *n = bench_peer_names(); *n;) {
			char name[32];
			size_t len = strcspn(n, ",");

			snprintf(name, sizeof(name), "%.*s", (int)len, n);
			if (o->npeers < MAX_PEERS && bench_peer_find(name))
				o->peers[o->npeers++] = bench_peer_find(name);
			n += len + (n[len] == ',');
		}
	if (!o->ntx)
		o->tx[o->ntx++] = GEN_TX_LIVE;
	if (quick) {
		o->seconds = seconds ? o->seconds : 0.5;
		o->rounds = rounds ? o->rounds : 3;
	}
	if (!o->iface[0] != !o->iface[1]) {
		bench_err("--iface and --peer-iface go together");
		return -EINVAL;
	}
	if ((o->netns[0] && !o->iface[0]) || (o->netns[1] && !o->iface[1])) {
		bench_err("--netns and --peer-netns name the given interfaces' "
			  "namespaces: give --iface and --peer-iface");
		return -EINVAL;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
		for (int i = 0; i < o->ncpus; i++) {
			if (!CPU_ISSET(o->cpus[i], &allowed)) {
				bench_err("--cpus: CPU %d is not available to "
					  "this process",
					  o->cpus[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int run_parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "packets", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 'S' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "ruleset", required_argument, NULL, 'R' },
		{ "aa", no_argument, NULL, 'a' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "scenarios", required_argument, NULL, 'C' },
		{ "peers", required_argument, NULL, 'P' },
		{ "tx", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 'z' },
		{ "flows", required_argument, NULL, 'f' },
		{ "active", required_argument, NULL, 'A' },
		{ "proto", required_argument, NULL, 'o' },
		{ "iface", required_argument, NULL, 'i' },
		{ "peer-iface", required_argument, NULL, 'I' },
		{ "netns", required_argument, NULL, 'm' },
		{ "peer-netns", required_argument, NULL, 'M' },
		{ "check", no_argument, NULL, 'k' },
		{ "ct-max", required_argument, NULL, 'x' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "flow-cache", required_argument, NULL, 'F' },
		{ "floor-stride", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool quick = false, seconds = false, rounds = false, aa = false;
	int c, idx = 0, ret = 0;
	uint64_t x;

	*o = (struct run_opts){ .rules = { 1, 100, 1000, 10000, 100000 },
				.nrules = 5,
				.cpus = { 0 },
				.ncpus = 1,
				.seconds = 1,
				.rounds = 5,
				.seed = 1,
				.ct_max = MOAT_CT_DEFAULT_MAX,
				.floor_stride = 1,
				.baseline = XDP_DROP,
				.argc = argc,
				.argv = argv };
	optind = 0; /* glibc: start over, this may be a second parse */
	while (!ret &&
	       (c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'r':
			if (!strcmp(optarg, "none")) {
				o->nrules = 0;
				break;
			}
			ret = bench_parse_u32_list(optarg, o->rules, MAX_COUNTS,
						   &o->nrules);
			for (int i = 0; !ret && i < o->nrules; i++)
				if (!o->rules[i] ||
				    o->rules[i] > MOAT_RULES_MAX)
					ret = -EINVAL;
			break;
		case 's':
			ret = bench_parse_seconds(optarg, &o->seconds);
			seconds = true;
			break;
		case 'p':
			ret = bench_parse_u64(optarg, &o->packets) ?:
				      (!o->packets ? -EINVAL : 0);
			break;
		case 'n':
			ret = bench_parse_u64(optarg, &x) ?:
				      (!x || x > 1000 ? -EINVAL : 0);
			o->rounds = (int)x;
			rounds = true;
			break;
		case 'c':
			ret = bench_parse_cpu_list(optarg, o->cpus, MAX_CPUS,
						   &o->ncpus);
			break;
		case 'S':
			ret = bench_parse_u64(optarg, &o->seed);
			break;
		case '6':
			ret = bench_parse_u64(optarg, &x) ?:
				      (x > 100 ? -EINVAL : 0);
			o->ipv6_pct = (unsigned int)x;
			break;
		case 'R':
			if (!strcmp(optarg, "acl"))
				o->shape = CB_ACL;
			else if (!strcmp(optarg, "ports"))
				o->shape = CB_PORTS;
			else
				ret = -EINVAL;
			break;
		case 'z':
			ret = bench_parse_u64(optarg, &x) ?:
				      (x < BENCH_FRAME_SHORT ||
						       x > BENCH_FRAME_MAX ?
					       -EINVAL :
					       0);
			o->size = (unsigned int)x;
			break;
		case 'f':
			ret = bench_parse_u64(optarg, &o->flows) ?:
				      (!o->flows ? -EINVAL : 0);
			break;
		case 'A':
			ret = bench_parse_u64(optarg, &o->active) ?:
				      (!o->active ? -EINVAL : 0);
			break;
		case 'a':
			aa = true;
			break;
		case 'q':
			quick = true;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'C':
			ret = parse_list(optarg, one_scenario, o);
			break;
		case 'P':
			ret = parse_list(optarg, one_peer, o);
			break;
		case 't':
			ret = parse_list(optarg, one_tx, o);
			break;
		case 'o':
			ret = parse_list(optarg, one_proto, o);
			break;
		case 'i':
		case 'I':
			o->iface[c == 'I'] = optarg;
			ret = strlen(optarg) > 15 ? -EINVAL : 0;
			break;
		case 'm':
		case 'M':
			o->netns[c == 'M'] = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'x':
			/* the LRU hash wants room for a few per-CPU free lists */
			ret = bench_parse_u64(optarg, &x) ?:
				      (x < 1024 || x > UINT32_MAX ? -EINVAL :
								    0);
			o->ct_max = (uint32_t)x;
			break;
		case 'b':
			if (!strcmp(optarg, "drop"))
				o->baseline = XDP_DROP;
			else if (!strcmp(optarg, "pass"))
				o->baseline = XDP_PASS;
			else
				ret = -EINVAL;
			break;
		case 'F':
			ret = bench_parse_flow_cache(optarg, &o->flow_cache);
			break;
		case 'd':
			ret = bench_parse_u64(optarg, &x) ?:
				      (x < 1 || x > BENCH_FLOOR_STRIDE_MAX ?
					       -EINVAL :
					       0);
			o->floor_stride = (uint32_t)x;
			break;
		case 'h':
			usage(stdout);
			exit(BENCH_EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (ret) {
		bench_err("--%s is not valid: `%s'", longopts[idx].name,
			  optarg);
		if (c == 'F')
			bench_err("--flow-cache takes auto, off, or the log2 "
				  "of the IPv4 buckets a CPU, %d to %d",
				  MOAT_FC_LOG_MIN, MOAT_FC_LOG_MAX);
		if (c == 'd')
			bench_err("--floor-stride takes a count of counters, 1 "
				  "to %d",
				  BENCH_FLOOR_STRIDE_MAX);
		return ret;
	}
	if (optind < argc) {
		bench_err("unexpected argument: `%s'", argv[optind]);
		return -EINVAL;
	}
	return finish(o, quick, seconds, rounds, aa);
}
