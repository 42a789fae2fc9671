// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench apply-time`: how long a ruleset takes from text to
 * enforcement, and what it costs in memory, against rule count.
 *
 * Each rule count is measured in a child process of its own, which does
 * what moatd does with a ruleset: parse the text, apply it, keep the
 * parsed ruleset and the data-plane handle.  Its resident memory after
 * the last apply is then moatd's, give or take the code of the program,
 * and no rule count inherits the heap of the one before.  The child
 * alternates two rulesets (seeds S and S+1), so that every apply changes
 * the generation rather than repeating it.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply.h"
#include "bench.h"
#include "classbench.h"
#include "report.h"
#include "rx.h"
#include "scenario.h"
#include "stats.h"

#define MAX_REPS APPLY_MAX_REPS
#define MAX_ROWS (APPLY_MAX_COUNTS * (1 + APPLY_MAX_PEERS))

static const char apply_usage[] =
	"usage: moat-bench apply-time [options]\n"
	"\n"
	"Time of moat_dp_apply (parse, compile, load, switch) and memory,\n"
	"against rule count; each count in a fresh process.\n"
	"\n"
	"  --rules LIST   rule counts (default 1,100,1000,10000,100000)\n"
	"  --reps N       applies per count, medians reported (default 5)\n"
	"  --seed S       ruleset seed (default 1)\n"
	"  --ipv6 PCT     share of IPv6 rules (default 0)\n"
	"  --conntrack    track flows, as moatd does unless told not to (its\n"
	"                 program looks every frame up in the flow table)\n"
	"  --attach N     with moat attached to N interfaces (0-2) of a veth\n"
	"                 pair's namespace, as moatd runs: 1, veth-b alone, runs\n"
	"                 the generation directly where libxdp's dispatcher does\n"
	"                 not load; 2, veth-b and the namespace's lo, the entry\n"
	"                 program (default 0: none)\n"
	"  --peers LIST   also the install time of these peer firewalls, on a\n"
	"                 veth pair of their own\n"
	"  --json FILE    write the results as JSON\n";

/* What the child sends back through its pipe. */
struct apply_msg {
	int error;
	int reps;
	double text_ms[MAX_REPS], wall_ms[MAX_REPS];
	struct moat_apply_stats st[MAX_REPS];
	uint64_t rss_kb, hwm_kb;
};

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void read_rss(uint64_t *rss_kb, uint64_t *hwm_kb)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned long long kb;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			*rss_kb = kb;
		else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			*hwm_kb = kb;
	}
	if (f)
		fclose(f);
}

static int make_text(uint32_t nrules, uint64_t seed, unsigned int ipv6,
		     char **text)
{
	struct cb_opts co = { .seed = seed,
			      .nrules = nrules,
			      .ipv6_pct = ipv6,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	struct moat_ruleset rs;
	int ret = cb_generate(&co, &rs);

	if (ret)
		return ret;
	*text = moat_ruleset_format(&rs);
	ret = *text ? 0 : -errno;
	moat_ruleset_free(&rs);
	return ret;
}

/* The interfaces --attach N puts moat on, in the topology's namespace B. */
static const char *attach_ifname(const struct topology *t, int i)
{
	return i == 0 ? t->ifname[TOPO_B] : "lo";
}

/*
 * --attach: the first ruleset (untimed), then moat on @n interfaces, so
 * that the timed applies switch them as moatd's do.
 */
static int attach(struct moat_dp *dp, const struct topology *t, int n,
		  const char *text)
{
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	int ret = topo_enter(t, TOPO_B)					  ?:
			  moat_ruleset_parse(text, strlen(text), &rs, &d) ?:
			  moat_dp_apply(dp, &rs, &d, NULL);

	for (int i = 0; !ret && i < n; i++) {
		/* lo has no native XDP */
		ret = moat_dp_attach(dp, attach_ifname(t, i),
				     i ? MOAT_XDP_GENERIC : MOAT_XDP_NATIVE);
		if (ret)
			bench_err("apply-time: attach to %s: %s",
				  attach_ifname(t, i), strerror(-ret));
	}
	moat_diags_print(&d, "generated ruleset", stderr);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	return ret;
}

static void child(uint32_t nrules, int reps, uint64_t seed, unsigned int ipv6,
		  bool conntrack, const struct topology *t, int nattach,
		  struct apply_msg *m)
{
	struct moat_ruleset parsed[2] = { 0 };
	struct moat_dp_opts o = { 0 };
	struct moat_dp *dp = NULL;
	char *text[2] = { NULL, NULL }, instance[64], root[256];
	int ret;

	snprintf(instance, sizeof(instance), "bench-%d", (int)getpid());
	o.instance = instance;
	o.ct.enabled = conntrack;
	o.capacity = nrules + MOAT_SLOT_FIRST_RULE > MOAT_DEFAULT_CAPACITY ?
			     nrules + MOAT_SLOT_FIRST_RULE :
			     MOAT_DEFAULT_CAPACITY;
	ret = make_text(nrules, seed, ipv6, &text[0])		  ?:
		      make_text(nrules, seed + 1, ipv6, &text[1]) ?:
		      moat_dp_open(&o, &dp);
	if (!ret && nattach)
		ret = attach(dp, t, nattach, text[1]);
	for (int i = 0; !ret && i < reps && !bench_stop; i++) {
		struct moat_ruleset *rs = &parsed[i % 2];
		struct moat_diags d = { 0 };
		uint64_t t0, t1;

		/* the ruleset applied before this one is no longer needed */
		moat_ruleset_free(rs);
		t0 = bench_now_ns();
		ret = moat_ruleset_parse(text[i % 2], strlen(text[i % 2]), rs,
					 &d);
		t1 = bench_now_ns();
		ret = ret ?: moat_dp_apply(dp, rs, &d, &m->st[i]);
		m->text_ms[i] = ms(t1 - t0);
		m->wall_ms[i] = ms(bench_now_ns() - t1);
		if (ret)
			moat_diags_print(&d, "generated ruleset", stderr);
		moat_diags_free(&d);
		if (!ret)
			m->reps = i + 1;
		bench_progress("apply-time: %u rules: apply %d/%d: %.1f ms",
			       nrules, i + 1, reps,
			       m->text_ms[i] + m->wall_ms[i]);
	}
	/* what moatd holds between applies: the ruleset and the handle */
	free(text[0]);
	free(text[1]);
	moat_ruleset_free(&parsed[m->reps % 2]);
	malloc_trim(0);
	read_rss(&m->rss_kb, &m->hwm_kb);
	m->error = ret ?: bench_stop ? -EINTR : 0;

	snprintf(root, sizeof(root), "%s", dp ? moat_dp_pin_root(dp) : "");
	for (int i = 0; dp && i < nattach; i++)
		moat_dp_detach(dp, attach_ifname(t, i));
	moat_dp_close(dp);
	moat_ruleset_free(&parsed[0]);
	moat_ruleset_free(&parsed[1]);
	rx_moat_remove_pins(root);
}

static int measure(uint32_t nrules, int reps, uint64_t seed, unsigned int ipv6,
		   bool conntrack, const struct topology *t, int nattach,
		   struct apply_msg *m)
{
	size_t got = 0;
	int fd[2], status;
	pid_t pid;

	memset(m, 0, sizeof(*m));
	if (pipe(fd))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(fd[0]);
		child(nrules, reps, seed, ipv6, conntrack, t, nattach, m);
		for (size_t off = 0; off < sizeof(*m);) {
			ssize_t n =
				write(fd[1], (char *)m + off, sizeof(*m) - off);

			if (n <= 0)
				_exit(BENCH_EXIT_FAIL);
			off += (size_t)n;
		}
		_exit(BENCH_EXIT_OK);
	}
	close(fd[1]);
	while (got < sizeof(*m)) {
		ssize_t n = read(fd[0], (char *)m + got, sizeof(*m) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < sizeof(*m)) {
		bench_err("apply-time: the process measuring %u rules died",
			  nrules);
		return -EIO;
	}
	return m->error;
}

static double median_of(const struct apply_msg *m, size_t field)
{
	double v[MAX_REPS];

	for (int i = 0; i < m->reps; i++)
		v[i] = ms(*(const uint64_t *)((const char *)&m->st[i] + field));
	return stats_median(v, m->reps);
}

#define MEDIAN_NS(m, f) median_of(m, offsetof(struct moat_apply_stats, f))

static void summarize(uint32_t nrules, int nattach, const struct apply_msg *m,
		      struct apply_result *a)
{
	double e2e[MAX_REPS], enforced[MAX_REPS];
	const struct moat_apply_stats *last = &m->st[m->reps - 1];
	struct ratio_stats st;

	memset(a, 0, sizeof(*a));
	if (nattach)
		snprintf(a->system, sizeof(a->system), "moat+%dif", nattach);
	else
		snprintf(a->system, sizeof(a->system), "moat");
	a->nrules = nrules;
	a->reps = m->reps;
	a->parse_text_ms = stats_median(m->text_ms, m->reps);
	a->wall_ms = stats_median(m->wall_ms, m->reps);
	for (int i = 0; i < m->reps; i++) {
		e2e[i] = m->text_ms[i] + m->wall_ms[i];
		enforced[i] = m->text_ms[i] + ms(m->st[i].enforce_ns);
	}
	stats_summary(e2e, m->reps, &st);
	a->end_to_end_ms = st.median;
	a->e2e_min_ms = st.min;
	a->e2e_max_ms = st.max;
	stats_summary(enforced, m->reps, &st);
	a->enforced_ms = st.median;
	a->enforced_min_ms = st.min;
	a->enforced_max_ms = st.max;
	a->parse_ms = MEDIAN_NS(m, parse_ns);
	a->compile_ms = MEDIAN_NS(m, compile_ns);
	a->load_ms = MEDIAN_NS(m, load_ns);
	a->switch_ms = MEDIAN_NS(m, switch_ns);
	a->total_ms = MEDIAN_NS(m, total_ns);
	a->target_ms = nrules == 10000 ? 100 : nrules == 100000 ? 1000 : 0;
	a->nterms = last->nterms;
	a->nlists = last->nlists;
	a->max_list = last->max_list;
	a->map_bytes = last->map_bytes;
	a->rss_kb = m->rss_kb;
	a->hwm_kb = m->hwm_kb;
}

/* 0, PARSE_HELP, or an exit status. */
#define PARSE_HELP (-1)
static int parse(int argc, char **argv, struct apply_opts *o)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "reps", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "conntrack", no_argument, NULL, 'c' },
		{ "attach", required_argument, NULL, 'a' },
		{ "peers", required_argument, NULL, 'P' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, idx = 0, ret = 0;
	uint64_t x;

	*o = (struct apply_opts){ .counts = { 1, 100, 1000, 10000, 100000 },
				  .ncounts = 5,
				  .reps = 5,
				  .seed = 1 };
	while (!ret &&
	       (c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'r':
			ret = bench_parse_u32_list(optarg, o->counts,
						   APPLY_MAX_COUNTS,
						   &o->ncounts);
			for (int i = 0; !ret && i < o->ncounts; i++)
				if (!o->counts[i] ||
				    o->counts[i] > MOAT_RULES_MAX)
					ret = -EINVAL;
			break;
		case 'n':
			ret = bench_parse_u64(optarg, &x) ?:
				      (!x || x > MAX_REPS ? -EINVAL : 0);
			o->reps = (int)x;
			break;
		case 'S':
			ret = bench_parse_u64(optarg, &o->seed);
			break;
		case '6':
			ret = bench_parse_u64(optarg, &x) ?:
				      (x > 100 ? -EINVAL : 0);
			o->ipv6 = (unsigned int)x;
			break;
		case 'c':
			o->conntrack = true;
			break;
		case 'a':
			ret = bench_parse_u64(optarg, &x) ?:
							    (x > 2 ? -EINVAL : 0);
			o->attach = (int)x;
			break;
		case 'P':
			ret = apply_add_peers(optarg, o);
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'h':
			fputs(apply_usage, stdout);
			fprintf(stdout, "\npeers: %s\n", bench_peer_names());
			return PARSE_HELP;
		default:
			fputs(apply_usage, stderr);
			return BENCH_EXIT_USAGE;
		}
	}
	if (ret) {
		bench_err("--%s is not valid: `%s'", longopts[idx].name,
			  optarg);
		return BENCH_EXIT_USAGE;
	}
	if (optind < argc) {
		bench_err("unexpected argument: `%s'", argv[optind]);
		return BENCH_EXIT_USAGE;
	}
	return 0;
}

int cmd_apply_time(int argc, char **argv)
{
	struct topology topo = { .home_fd = -1, .nsfd = { -1, -1 } };
	struct apply_result *rows = calloc(MAX_ROWS, sizeof(*rows));
	struct apply_msg *m = malloc(sizeof(*m));
	struct apply_opts o;
	int nrows = 0, ret;

	ret = rows && m ? parse(argc, argv, &o) : BENCH_EXIT_FAIL;
	if (!ret && geteuid() != 0) {
		bench_err("apply-time needs root (BPF maps and programs)");
		ret = BENCH_EXIT_FAIL;
	}
	if (ret) {
		free(rows);
		free(m);
		return ret == PARSE_HELP ? BENCH_EXIT_OK : ret;
	}
	if (o.attach)
		ret = topo_create(&topo, 1);
	for (int i = 0; !ret && i < o.ncounts && !bench_stop; i++) {
		ret = measure(o.counts[i], o.reps, o.seed, o.ipv6, o.conntrack,
			      &topo, o.attach, m);
		if (m->reps)
			summarize(o.counts[i], o.attach, m, &rows[nrows++]);
		if (ret)
			bench_err("apply-time: %u rules: %s", o.counts[i],
				  strerror(-ret));
		ret = ret ?: apply_peers(&o, o.counts[i], &topo, rows, &nrows);
	}
	topo_destroy(&topo);
	if (nrows) {
		struct apply_report r = { .argc = argc,
					  .argv = argv,
					  .seed = o.seed,
					  .rows = rows,
					  .nrows = nrows };

		report_apply_table(&r, stdout);
		if (o.json && report_apply_json(&r, o.json) && !ret)
			ret = -EIO;
	}
	free(rows);
	free(m);
	return ret || bench_stop ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
