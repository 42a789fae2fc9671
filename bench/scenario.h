/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scenarios of `moat-bench run`, one table (scenario.c).  A scenario
 * says what runs on the receiving side; the run supplies the rest: the
 * topology, the baseline, the generator, the interleaved schedule, the
 * report.  Adding one (conntrack, the mesh, moat's AF_XDP path) is a
 * setup hook that makes the case's receiver, a teardown hook that
 * removes it, and a line in the table; docs/benchmarks.md walks through
 * it.
 */
#ifndef BENCH_SCENARIO_H
#define BENCH_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "classbench.h"
#include "gen.h"
#include "peer.h"
#include "rx.h"
#include "schedule.h"
#include "templates.h"

#define MAX_COUNTS 16
#define MAX_CPUS 256
#define MAX_PEERS 8

struct run_opts {
	uint32_t rules[MAX_COUNTS];
	int nrules;
	int cpus[MAX_CPUS];
	int ncpus;
	double seconds;
	uint64_t packets; /* per measured run; 0: by --seconds */
	int rounds;
	uint64_t seed;
	unsigned int ipv6_pct;
	enum cb_shape shape; /* --ruleset */
	unsigned int size; /* frame length; 0: the smallest that fits */
	uint64_t flows;
	uint64_t active; /* --active: rules the traffic aims at; 0: all */
	enum traffic_proto protos[TP_COUNT];
	int nprotos;
	enum gen_tx tx[GEN_TX_COUNT];
	int ntx;
	uint32_t scenarios; /* bit i: scenarios[i] */
	const struct bench_peer *peers[MAX_PEERS];
	int npeers;
	const char *iface[2], *netns[2]; /* given interfaces, or NULL */
	uint32_t ct_max; /* the conntrack scenarios' table, flows */
	int flow_cache; /* the moat scenario's, as moat_dp_opts.flow_cache */
	uint32_t floor_stride; /* the floor's counters this many apart */
	uint32_t baseline; /* XDP_DROP, or XDP_PASS: the bare pass */
	const char *json;
	bool check; /* exit 1 when a case's frames do not add up */
	int argc;
	char **argv;
};

struct bench_run {
	const struct run_opts *o;
	struct bench_env env;
	struct topology topo;
	struct receiver *base; /* the baseline */
	struct receiver *moat; /* one moat instance, opened on first use */
	char instance[64];
	/* the conntrack scenarios' instance, behind a sink (rx_sink.c) */
	struct receiver *moat_ct, *moat_ct_inner;
	char instance_ct[64];
	/* the no-cache scenario's instance: no flow cache */
	struct receiver *moat_nc;
	char instance_nc[64];
};

/* One case: a scenario at one rule count, for one peer, one transmitter. */
struct bench_case {
	struct case_result *res;
	uint32_t nrules; /* the rule count; 0 for scenarios without one */
	const struct bench_peer *peer;
	enum gen_tx tx;
	/* the ruleset and the frames aimed at its rules (nrules > 0) */
	const struct moat_ruleset *rs;
	const struct cb_traffic *cb;
	/* what the generator sends: the rule-spread frames unless setup
	 * made its own (setup sets own_traffic) */
	struct traffic traffic;
	bool own_traffic;
	struct receiver *rx; /* the case's side, made by setup */
	bool own_rx; /* the run destroys it after teardown */
	void *priv;
};

#define SC_EACH_COUNT 1u /* one case per --rules count */
#define SC_EACH_PEER 2u /* one case per --peers entry */
#define SC_NO_TRAFFIC 4u /* no generator: measure() does everything */

struct scenario {
	const char *name; /* for --scenarios */
	const char *system; /* what runs, in reports and plots; NULL: "moat" */
	const char *summary;
	unsigned int flags;
	bool by_default; /* in `run` without --scenarios */
	/*
	 * Make c->rx (and c->traffic, with own_traffic, when the case does
	 * not send the rule-spread frames).  A case that cannot run writes
	 * why into c->res->skipped and returns -EOPNOTSUPP.
	 */
	int (*setup)(struct bench_run *run, struct bench_case *c);
	/* Replaces the interleaved schedule (test-run). */
	int (*measure)(struct bench_run *run, struct bench_case *c);
	void (*teardown)(struct bench_run *run, struct bench_case *c);
};

extern const struct scenario bench_scenarios[];
extern const int bench_nscenarios;

int scenario_find(const char *name);

/* The moat instance of the run, opened with room for every --rules count. */
int bench_run_moat(struct bench_run *run, struct receiver **moat);
/* The same without the flow cache (the no-cache scenario). */
int bench_run_moat_nc(struct bench_run *run, struct receiver **moat);
/*
 * The run's moat instance with connection tracking (--ct-max flows),
 * opened on first use: *moat is it behind the sink, *inner the moat
 * receiver itself (rx_moat_apply, rx_moat_dp).
 */
int bench_run_moat_ct(struct bench_run *run, struct receiver **moat,
		      struct receiver **inner);
/* The baseline's kind (--baseline): the bare drop, or the bare pass. */
int bench_run_baseline_open(const struct bench_run *run, struct receiver **out,
			    const char *name);

/* Hooks of the scenarios in their own files. */
int sc_peer_setup(struct bench_run *run, struct bench_case *c);
int sc_testrun_measure(struct bench_run *run, struct bench_case *c);
int sc_ct_miss_setup(struct bench_run *run, struct bench_case *c);
int sc_ct_est_setup(struct bench_run *run, struct bench_case *c);
int sc_ct_new_setup(struct bench_run *run, struct bench_case *c);
int sc_pass_setup(struct bench_run *run, struct bench_case *c);
void sc_ct_teardown(struct bench_run *run, struct bench_case *c);

/* Peers (peers.c): the ones built in, and any a test adds. */
const struct bench_peer *bench_peer_find(const char *name);
int bench_peer_add(const struct bench_peer *p);
/* "xdp-filter, nft-netdev, ..." for --help; "" when none is built in. */
const char *bench_peer_names(void);

/* The traffic options of the run, for @t's interfaces. */
void bench_traffic_opts(const struct bench_run *run, struct traffic_opts *o);

/* run_opts.c */
int run_parse(int argc, char **argv, struct run_opts *o);

#endif /* BENCH_SCENARIO_H */
