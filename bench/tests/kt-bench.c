// SPDX-License-Identifier: GPL-2.0-only
/*
 * moat-bench's harness against the kernel, with peers of this test's
 * own so that the harness is exercised whatever bench/peers/ holds:
 *
 * - test-xdp: an XDP peer (bench_count, XDP_DROP, its own program on
 *   veth-b), which the harness must take off for the baseline's turns
 *   and put back for its own; it refuses rulesets of more than 100 rules,
 *   so the skip path runs too.
 * - test-stack: a peer after XDP, counting what reaches the stack with a
 *   packet socket on veth-b (PACKET_STATISTICS counts every frame the
 *   tap sees, queued or dropped).
 *
 * First, the live generator's frames against its templates (test runs
 * of bench_gen, not live).
 *
 * Then `run` on a veth pair made here by hand (--iface), as a dedicated
 * NIC pair would be used, and `apply-time --peers`.  Every run must add
 * up (--check) and leave nothing behind.
 *
 * moat's flow cache warms up before a case is measured (30,000 rules,
 * a cache that must grow for a second).
 *
 * And the benchmark's big rulesets load with moatd's defaults, conntrack
 * on: 1,000 and 10,000 ClassBench-style rules, half of them IPv6 (a
 * thousand such rules once took the verifier past its million steps).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_count.skel.h"
#include "bench_gen.skel.h"
#include "gen.h"
#include "json.h"
#include "kt.h"
#include "scenario.h"

static struct bench_count *xdp_peer;
static int xdp_ifindex;

static const char *xdp_cannot(const struct moat_ruleset *rs)
{
	return rs->nrules > 100 ? "test-xdp holds at most 100 rules" : NULL;
}

static int xdp_install(const struct moat_ruleset *rs, const char *ifname,
		       uint64_t *apply_ns)
{
	uint64_t t0 = kt_now_ns();
	int ret;

	xdp_peer = bench_count__open_and_load();
	if (!xdp_peer)
		return -errno;
	xdp_ifindex = (int)if_nametoindex(ifname);
	ret = bpf_xdp_attach(xdp_ifindex,
			     bpf_program__fd(xdp_peer->progs.bench_count),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (ret) {
		bench_count__destroy(xdp_peer);
		xdp_peer = NULL;
	}
	*apply_ns = kt_now_ns() - t0;
	return ret;
}

static int xdp_processed(const char *ifname, uint64_t *frames)
{
	return bench_percpu_sum(bpf_map__fd(xdp_peer->maps.received), frames);
}

static void xdp_remove(const char *ifname)
{
	bpf_xdp_detach(xdp_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bench_count__destroy(xdp_peer);
	xdp_peer = NULL;
}

static const struct bench_peer test_xdp = {
	.name = "test-xdp",
	.describe = "an XDP program of the test's own",
	.cannot = xdp_cannot,
	.install = xdp_install,
	.processed = xdp_processed,
	.remove = xdp_remove,
	.after_xdp = false,
};

static int stack_fd = -1;
static uint64_t stack_seen;

static const char *stack_cannot(const struct moat_ruleset *rs)
{
	return NULL;
}

static int stack_install(const struct moat_ruleset *rs, const char *ifname,
			 uint64_t *apply_ns)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	uint64_t t0 = kt_now_ns();
	int one = 1;

	stack_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (stack_fd < 0)
		return -errno;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	/* what namespace B itself sends (IPv6 neighbour discovery) is not ours */
	if (setsockopt(stack_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) ||
	    bind(stack_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(stack_fd);
		stack_fd = -1;
		return -errno;
	}
	stack_seen = 0;
	*apply_ns = kt_now_ns() - t0;
	return 0;
}

static int stack_processed(const char *ifname, uint64_t *frames)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* reading the statistics resets them: keep the running sum */
	if (getsockopt(stack_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return -errno;
	stack_seen += st.tp_packets;
	*frames = stack_seen;
	return 0;
}

static void stack_remove(const char *ifname)
{
	close(stack_fd);
	stack_fd = -1;
}

static const struct bench_peer test_stack = {
	.name = "test-stack",
	.describe = "a packet socket counting what reaches the stack",
	.cannot = stack_cannot,
	.install = stack_install,
	.processed = stack_processed,
	.remove = stack_remove,
	.after_xdp = true,
};

static const struct json *find(const struct json *rep, const char *list,
			       const char *key, const char *name, double rules)
{
	const struct json *l = json_get(rep, list);

	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(json_text(json_get(&l->v[i], key), ""), name) &&
		    json_num(json_get(&l->v[i], "rules"), -1) == rules)
			return &l->v[i];
	return NULL;
}

static void load(const char *path, struct json *j)
{
	char err[256];

	if (json_load(path, j, err, sizeof(err)))
		kt_check(false, "report readable", "%s: %s", path, err);
}

static void check_case(const struct json *rep, const char *sys, double rules)
{
	const struct json *c = find(rep, "cases", "system", sys, rules);
	char name[64];

	snprintf(name, sizeof(name), "%s at %.0f rules measured", sys, rules);
	if (!kt_check(c && !json_get(c, "skipped"), name, "missing or skipped"))
		return;
	snprintf(name, sizeof(name), "%s at %.0f rules adds up", sys, rules);
	/* --check already failed the run if not; the report says so too */
	kt_check(json_get(json_get(c, "case_frames"), "consistent")->b, name,
		 "case frames inconsistent");
}

static int run(const char *const *args)
{
	char *argv[40];
	int n = 0;

	while (args[n] && n < 39) {
		argv[n] = (char *)args[n];
		n++;
	}
	argv[n] = NULL;
	return cmd_run(n, argv);
}

/* Reports of this process (two kt-bench may run at once). */
static char peers_json[64], apply_json[64], given_json[64], testrun_json[64],
	warm_json[64], stride_json[64];

static void peers_scenario(void)
{
	const char *const args[] = { "run",
				     "--scenarios",
				     "peers",
				     "--peers",
				     "test-xdp,test-stack",
				     "--rules",
				     "1,1000",
				     "--rounds",
				     "2",
				     "--packets",
				     "100000",
				     "--tx",
				     "live,afxdp",
				     "--check",
				     "--json",
				     peers_json,
				     NULL };
	const struct json *c;
	struct json rep;

	kt_check(run(args) == 0, "run with test peers adds up", "exit != 0");
	load(peers_json, &rep);
	check_case(&rep, "test-xdp", 1);
	check_case(&rep, "test-stack", 1);
	check_case(&rep, "test-stack", 1000);
	c = find(&rep, "cases", "system", "test-xdp", 1000);
	kt_check(c && strstr(json_text(json_get(c, "skipped"), ""),
			     "at most 100"),
		 "a ruleset a peer cannot express is skipped, with its reason",
		 "%s",
		 c ? json_text(json_get(c, "skipped"), "(none)") : "no case");
	/* the stack peer's frames came through the XDP_PASS counter */
	c = find(&rep, "cases", "system", "test-stack", 1);
	kt_check(c && json_num(json_at(c, "case_frames.at_xdp"), 0) >= 100000,
		 "frames reach a peer after XDP", "at_xdp %.0f",
		 json_num(json_at(c, "case_frames.at_xdp"), 0));
	json_free(&rep);
	unlink(peers_json);
}

static void apply_time_peers(void)
{
	char *args[] = { "apply-time",
			 "--rules",
			 "1,1000",
			 "--reps",
			 "2",
			 "--peers",
			 "test-stack,test-xdp",
			 "--json",
			 apply_json,
			 NULL };
	const struct json *r;
	struct json rep;

	optind = 0;
	kt_check(cmd_apply_time(9, args) == 0, "apply-time --peers runs",
		 "exit != 0");
	load(apply_json, &rep);
	r = find(&rep, "rows", "system", "test-stack", 1000);
	kt_check(r && json_num(json_get(r, "reps"), 0) == 2,
		 "a peer's install is timed at each count", "row missing");
	r = find(&rep, "rows", "system", "test-xdp", 1000);
	kt_check(r && json_get(r, "skipped"),
		 "apply-time skips what a peer "
		 "cannot express",
		 "row missing or not skipped");
	r = find(&rep, "rows", "system", "moat", 1000);
	kt_check(r && json_num(json_get(r, "end_to_end_ms"), 0) > 0,
		 "moat's row is still there", "row missing");
	/* in force at the switch, before the grace period the call waits for */
	kt_check(r && json_num(json_get(r, "enforced_ms"), 0) > 0 &&
			 json_num(json_get(r, "enforced_ms"), 0) <
				 json_num(json_get(r, "end_to_end_ms"), 0),
		 "moat's ruleset is in force before the apply returns",
		 "enforced_ms missing, or not below end_to_end_ms");
	json_free(&rep);
	unlink(apply_json);
}

/* --attach: applies with moat on interfaces, as moatd's; a bad N refused */
static void apply_time_attach(void)
{
	char *args[] = { "apply-time", "--rules", "1000",   "--reps",	"2",
			 "--attach",   "1",	  "--json", apply_json, NULL };
	char *bad[] = { "apply-time", "--attach", "3", NULL };
	const struct json *r;
	struct json rep;

	optind = 0;
	kt_check(cmd_apply_time(9, args) == 0, "apply-time --attach 1 runs",
		 "exit != 0");
	load(apply_json, &rep);
	r = find(&rep, "rows", "system", "moat+1if", 1000);
	kt_check(r && json_num(json_get(r, "reps"), 0) == 2 &&
			 json_num(json_get(r, "enforced_ms"), 0) > 0,
		 "applies on an attached interface are timed (row moat+1if)",
		 "row missing or not timed");
	json_free(&rep);
	unlink(apply_json);
	optind = 0;
	kt_check(cmd_apply_time(3, bad) == BENCH_EXIT_USAGE,
		 "apply-time --attach 3: a usage error", "another exit status");
}

/* test-run: the classifier alone, and a cache hit where there is a cache */
static void test_run(void)
{
	const char *const args[] = { "run",    "--scenarios", "test-run",
				     "--rules", "1,1000",      "--rounds",
				     "1",      "--json",      testrun_json,
				     NULL };
	const struct json *one, *many;
	struct json rep;

	kt_check(run(args) == 0, "test-run runs", "exit != 0");
	load(testrun_json, &rep);
	one = find(&rep, "cases", "scenario", "test-run", 1);
	many = find(&rep, "cases", "scenario", "test-run", 1000);
	/*
	 * One rule costs moat a few ns over the empty program, within one
	 * round's noise: its difference may come out at or below 0 (CI saw
	 * it once), so the test asks for both raw costs, not its sign.
	 */
	kt_check(
		one && json_at(one, "test_run.classifier_ns") &&
			json_num(json_at(one, "test_run.moat_ns"), 0) > 0 &&
			json_num(json_at(one, "test_run.empty_ns"), 0) > 0 &&
			!json_get(one, "test_run_cache_hit_ns"),
		"test-run, 1 rule: the classifier's cost, and no cache hit (no cache)",
		"%s",
		one ? "classifier_ns or test_run_cache_hit_ns not as expected" :
		      "no case");
	/*
	 * A hit costs a few ns over the empty program, less than the noise
	 * between the two on a busy machine: its sign is not the test's.
	 */
	kt_check(many && json_get(many, "test_run_cache_hit_ns"),
		 "test-run, 1,000 rules: a cache hit's cost", "%s",
		 many ? "no test_run_cache_hit_ns" : "no case");
	/* the run checked that the entry hands frames on (else it fails) */
	kt_check(many && json_at(many, "test_run_spread.attached_ns") &&
			 json_num(json_at(many, "test_run_spread.moat_ns"), 0) > 0,
		 "test-run, 1,000 rules: the spread passes through the entry program too",
		 "%s", many ? "no test_run_spread.attached_ns" : "no case");
	{
		const struct json *r =
			many ? json_at(many, "test_run_spread.rounds_ns") :
			       NULL;
		const struct json *fr =
			many ? json_at(many,
				       "test_run_spread.floor_rounds_ns") :
			       NULL;

		/* one round: its value is the median the report gives (which
		 * has two decimals) */
		kt_check(
			r && r->type == JSON_ARR && r->n == 1 && fr &&
				fr->type == JSON_ARR && fr->n == 1 &&
				fabs(r->v[0].num -
				     json_num(json_at(many,
						      "test_run_spread.ns"),
					      -1)) < 0.01 &&
				fabs(fr->v[0].num -
				     json_num(
					     json_at(many,
						     "test_run_spread.floor_ns"),
					     -1)) < 0.01,
			"test-run, 1,000 rules: each round's spread cost, for pooling",
			"rounds_ns or floor_rounds_ns missing or not the round's");
	}
	json_free(&rep);
	unlink(testrun_json);
}

/*
 * The floor with its counters spread (--floor-stride): it runs, every
 * frame is counted (the counts are read over the whole spread array),
 * the report says the stride; out-of-range strides are usage errors.
 */
static void floor_stride(void)
{
	const char *const args[] = {
		"run",	  "--scenarios",    "floor", "--rules",
		"1000",	  "--floor-stride", "5",     "--rounds",
		"1",	  "--seconds",	    "0.2",   "--check",
		"--json", stride_json,	    NULL
	};
	const char *const zero[] = { "run", "--floor-stride", "0", NULL };
	const char *const big[] = { "run", "--floor-stride", "65", NULL };
	struct json rep;

	kt_check(run(args) == 0,
		 "floor --floor-stride 5 runs, its frames add up", "exit != 0");
	load(stride_json, &rep);
	kt_check(json_num(json_get(&rep, "floor_stride"), 0) == 5,
		 "the report says floor_stride 5", "%g",
		 json_num(json_get(&rep, "floor_stride"), 0));
	check_case(&rep, "floor", 1000);
	json_free(&rep);
	unlink(stride_json);
	kt_check(run(zero) == BENCH_EXIT_USAGE && run(big) == BENCH_EXIT_USAGE,
		 "--floor-stride 0 and 65: usage errors",
		 "another exit status");
}

/* A veth pair made by hand, as the operator's two NIC ports would be. */
static void given_interfaces(void)
{
	const char *na = kt_name("kbga"), *nb = kt_name("kbgb");
	char ia[16], ib[16];
	const char *args[] = { "run",
			       "--iface",
			       ia,
			       "--netns",
			       na,
			       "--peer-iface",
			       ib,
			       "--peer-netns",
			       nb,
			       "--scenarios",
			       "moat,reflect",
			       "--rules",
			       "10",
			       "--rounds",
			       "1",
			       "--packets",
			       "100000",
			       "--tx",
			       "live,afxdp",
			       "--check",
			       "--json",
			       given_json,
			       NULL };
	const struct json *c, *fc;
	struct json rep;

	snprintf(ia, sizeof(ia), "kbg%da", (int)getpid() % 100000);
	snprintf(ib, sizeof(ib), "kbg%db", (int)getpid() % 100000);
	if (kt_netns(na) || kt_netns(nb) ||
	    kt_sh("ip link add %s netns %s type veth peer name %s netns %s", ia,
		  na, ib, nb) ||
	    kt_sh("ip -n %s link set %s up && ip -n %s link set %s up", na, ia,
		  nb, ib) ||
	    kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.%s.disable_ipv6=1",
		  na, ia)) {
		kt_check(false, "a veth pair by hand", "ip failed");
		return;
	}
	kt_check(run(args) == 0, "run on given interfaces adds up",
		 "exit != 0");
	/* ten rules, a flow each: their entries fit the part a cache starts with */
	load(given_json, &rep);
	c = find(&rep, "cases", "system", "moat", 10);
	fc = c ? json_get(c, "flow_cache_state") : NULL;
	kt_check(fc && json_num(json_get(fc, "ipv4_buckets_in_use"), 0) == 1024 &&
			 json_num(json_get(fc, "ipv4_buckets_per_cpu"), 0) >= 1024 &&
			 json_num(json_get(fc, "misses"), 0) >= 10 &&
			 json_num(json_get(fc, "misses"), 0) <= 100 &&
			 json_num(json_get(fc, "misses"), 0) ==
				 json_num(json_get(fc, "filled"), 0) +
					 json_num(json_get(fc, "evicted"), 0) +
					 json_num(json_get(fc, "held"), 0),
		 "the moat case reports its flow cache: 1,024 buckets in use, a miss a flow or so",
		 "%s", fc ? "in use, misses or their sum not as expected" : "no flow_cache_state");
	/* ten flows stay in their entries: every miss was in a warm-up */
	kt_check(fc && json_get(fc, "measured_misses") &&
			 json_num(json_get(fc, "measured_misses"), -1) == 0 &&
			 json_num(json_get(fc, "measured_second_bucket"), -1) >= 0 &&
			 json_num(json_get(fc, "measured_second_bucket"), -1) <=
				 json_num(json_get(fc, "second_bucket"), -1),
		 "the measured runs alone: no miss, second-bucket hits within all of them",
		 "measured_misses %.0f, measured_second_bucket %.0f",
		 fc ? json_num(json_get(fc, "measured_misses"), -1) : -1,
		 fc ? json_num(json_get(fc, "measured_second_bucket"), -1) : -1);
	json_free(&rep);
	unlink(given_json);
	/* given interfaces are used, never removed */
	kt_check(kt_sh("ip -n %s link show %s >/dev/null", na, ia) == 0,
		 "given interfaces are left in place", "%s is gone", ia);
}

/*
 * 30,000 flows make moat's cache grow from 1,024 buckets to 32,768, a
 * doubling at most every 134 ms: longer than the first warm-up.  The
 * harness warms up until the cache has settled, so the measured run
 * misses (next to) never, and says so in measured_misses.
 */
static void cache_warm_up(void)
{
	const char *const args[] = { "run",	  "--scenarios", "moat",
				     "--rules",	  "30000",	 "--rounds",
				     "1",	  "--seconds",	 "0.2",
				     "--check",	  "--json",	 warm_json,
				     NULL };
	const struct json *c, *fc;
	double miss, frames;
	struct json rep;

	kt_check(run(args) == 0, "30,000 rules: the run adds up", "exit != 0");
	load(warm_json, &rep);
	c = find(&rep, "cases", "system", "moat", 30000);
	fc = c ? json_get(c, "flow_cache_state") : NULL;
	miss = fc ? json_num(json_get(fc, "measured_misses"), -1) : -1;
	frames = c ? json_num(json_at(c, "case_frames.at_xdp"), 0) : 0;
	kt_check(fc && json_num(json_get(fc, "ipv4_buckets_in_use"), 0) >= 16384,
		 "30,000 rules: the cache grew past 16,384 buckets", "%.0f",
		 fc ? json_num(json_get(fc, "ipv4_buckets_in_use"), 0) : 0);
	kt_check(miss >= 0 && frames > 0 && miss * 1000 <= frames,
		 "30,000 rules: the measured run came after the cache settled",
		 "%.0f misses in %.0f frames", miss, frames);
	json_free(&rep);
	unlink(warm_json);
}

/* moat attached directly, then the same instance through its entry */
static void entry_beside_direct(void)
{
	const char *const args[] = {
		"run",	   "--scenarios", "moat,moat-entry",
		"--rules", "1",		  "--rounds",
		"1",	   "--seconds",	  "0.2",
		"--check", "--json",	  warm_json,
		NULL
	};
	struct json rep;

	kt_check(run(args) == 0, "moat and moat-entry: the run adds up",
		 "exit != 0");
	load(warm_json, &rep);
	check_case(&rep, "moat", 1);
	check_case(&rep, "moat-entry", 1);
	json_free(&rep);
	unlink(warm_json);
}

static void big_rulesets_with_conntrack(void)
{
	static const size_t counts[] = { 1000, 10000 };
	struct moat_ct_opts ct = { .enabled = true, .max = 65536 };
	char inst[64], name[128];

	snprintf(inst, sizeof(inst), "bench-%d-big", (int)getpid());
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct cb_opts co = { .seed = 1,
				      .nrules = counts[i],
				      .ipv6_pct = 50,
				      .action = MOAT_DROP,
				      .policy = MOAT_DROP };
		struct moat_apply_stats st = { 0 };
		struct moat_ruleset rs;
		struct receiver *rx = NULL;
		int err;

		err = cb_generate(&co, &rs) ?:
		      rx_moat_open(&rx, inst, MOAT_SLOT_FIRST_RULE + 100000, &ct, 0) ?:
		      rx_moat_apply(rx, &rs, &st);
		snprintf(name, sizeof(name),
			 "%zu rules, half IPv6, conntrack on: the generation loads", counts[i]);
		kt_check(!err, name, "%s", strerror(-err));
		if (rx)
			rx_destroy(rx);
		moat_ruleset_free(&rs);
	}
}

/*
 * The live generator writes the frames its templates say, template by
 * template and flow by flow: each frame of a (not live) test run of
 * bench_gen against what traffic_write() makes of the same frame number.
 * IPv4 templates alone copy 64 bytes a frame, with IPv6 ones more, and
 * the frames map's value size follows the copy; with many flows the
 * variants are rewritten from the whole templates.
 */
static void generator_frames(void)
{
	static const enum traffic_proto v4[] = { TP_UDP4, TP_TCP4, TP_ICMP4 };
	static const enum traffic_proto all[] = { TP_UDP4, TP_TCP4, TP_ICMP4,
						  TP_UDP6, TP_TCP6, TP_ICMP6 };
	static const struct {
		const enum traffic_proto *p;
		int n;
		uint64_t flows;
	} cases[] = {
		{ v4, 3, 0 }, { all, 6, 0 }, { v4, 3, 3000 }, { all, 6, 6000 }
	};
	uint8_t in[BENCH_FRAME_MAX] = { 0 }, out[BENCH_FRAME_MAX],
		want[BENCH_FRAME_MAX];
	cpu_set_t one, was;

	/* frame k's flow depends on the CPU that writes it: CPU 0 */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_getaffinity(0, sizeof(was), &was) ||
	    sched_setaffinity(0, sizeof(one), &one)) {
		kt_check(0, "generator frames: pinned to CPU 0", "%s",
			 strerror(errno));
		return;
	}
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct traffic_opts o = { .flows = cases[c].flows, .seed = 7 };
		struct bench_gen *s = NULL;
		struct traffic tr;
		int k, bad = -1, ret;
		char name[160];

		ret = traffic_from_protos(cases[c].p, cases[c].n, &o, &tr);
		if (ret) {
			kt_check(0, "generator: protocol templates", "%s",
				 strerror(-ret));
			continue;
		}
		ret = gen_skel_open(&s, &tr, 1);
		for (k = 0; !ret && bad < 0 && k < 64; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in,
				    .data_size_in = tr.frame_len,
				    .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			memset(want, 0, tr.frame_len);
			traffic_write(&tr, (uint64_t)k, 0, want);
			if (bpf_prog_test_run_opts(
				    bpf_program__fd(s->progs.bench_gen), &t) ||
			    t.retval != XDP_REDIRECT ||
			    t.data_size_out != tr.frame_len ||
			    memcmp(out, want, tr.frame_len))
				bad = k;
		}
		snprintf(
			name, sizeof(name),
			"generator: %d templates, %llu flows, %u bytes a frame written: 64 frames as the templates say",
			cases[c].n, (unsigned long long)cases[c].flows,
			tr.copy_len);
		kt_check(!ret && bad < 0, name, "%s %d",
			 ret ? strerror(-ret) : "differs at frame", bad);
		bench_gen__destroy(s);
		traffic_free(&tr);
	}
	sched_setaffinity(0, sizeof(was), &was);
}

int main(void)
{
	char path[128];

	kt_require_kernel();
	snprintf(peers_json, sizeof(peers_json), "/tmp/kt-bench-%d-peers.json",
		 (int)getpid());
	snprintf(apply_json, sizeof(apply_json), "/tmp/kt-bench-%d-apply.json",
		 (int)getpid());
	snprintf(given_json, sizeof(given_json), "/tmp/kt-bench-%d-given.json",
		 (int)getpid());
	snprintf(testrun_json, sizeof(testrun_json), "/tmp/kt-bench-%d-testrun.json",
		 (int)getpid());
	snprintf(warm_json, sizeof(warm_json), "/tmp/kt-bench-%d-warm.json",
		 (int)getpid());
	snprintf(stride_json, sizeof(stride_json),
		 "/tmp/kt-bench-%d-stride.json", (int)getpid());
	if (bench_peer_add(&test_xdp) || bench_peer_add(&test_stack))
		return 1;
	generator_frames();
	peers_scenario();
	apply_time_peers();
	apply_time_attach();
	given_interfaces();
	test_run();
	floor_stride();
	cache_warm_up();
	entry_beside_direct();
	big_rulesets_with_conntrack();

	snprintf(path, sizeof(path), "/run/netns/moatbench-%d-a",
		 (int)getpid());
	kt_check(access(path, F_OK) != 0, "no namespace left behind", "%s",
		 path);
	snprintf(path, sizeof(path), "/sys/fs/bpf/moat/bench-%d",
		 (int)getpid());
	kt_check(access(path, F_OK) != 0, "no pins left behind", "%s", path);
	kt_check(stack_fd < 0 && !xdp_peer, "every peer removed",
		 "still there");
	return kt_done();
}
