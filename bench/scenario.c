// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interleaved schedule.  Each measured run is preceded by a short
 * warm-up with the receiver attached (its maps and code into the caches,
 * veth's NAPI woken up), and its counters are read only after the
 * frames in flight have landed, so that a run counts exactly its frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "scenario.h"

#define WARMUP_SECONDS 0.05
#define WARMUP_REPEAT (1u << 14)
/* veth-b's NAPI drains its ring well within this after a test run */
#define SETTLE_US 20000

static int read_counts(const struct bench_env *env, struct receiver *rx,
		       uint64_t *received, uint64_t *xmit_errors, bool *known)
{
	int ret;

	usleep(SETTLE_US);
	ret = rx_count(rx, received);
	if (ret)
		return ret;
	ret = topo_xmit_errors(env->topo, xmit_errors);
	*known = ret == 0;
	return ret == -ENOENT || ret == -EOPNOTSUPP ? 0 : ret;
}

int scenario_measure(const struct bench_env *env, struct generator *g,
		     struct receiver *rx, struct sample *out)
{
	uint64_t rx0, rx1, err0, err1;
	struct gen_result warm, run;
	int ret, ret2;

	memset(out, 0, sizeof(*out));
	ret = rx_attach(rx, env->topo);
	if (ret)
		return ret;
	ret = gen_run(g, env->topo, env->cpus, env->ncpus, WARMUP_SECONDS,
		      WARMUP_REPEAT, &warm);
	ret = ret ?: read_counts(env, rx, &rx0, &err0, &out->xmit_known);
	ret = ret   ?:
		      gen_run(g, env->topo, env->cpus, env->ncpus, env->seconds,
			      GEN_REPEAT, &run);
	ret = ret ?: read_counts(env, rx, &rx1, &err1, &out->xmit_known);
	ret2 = rx_detach(rx, env->topo);
	if (ret || ret2)
		return ret ?: ret2;
	if (bench_stop)
		return -EINTR;

	out->elapsed_ns = run.elapsed_ns;
	out->generated = run.generated;
	out->received = rx1 - rx0;
	out->xmit_errors = out->xmit_known ? err1 - err0 : 0;
	out->mpps = run.elapsed_ns ? (double)out->received * 1e3 /
					     (double)run.elapsed_ns :
				     0;
	/* busy time is CPU time summed over senders: per CPU, times CPUs */
	out->busy_mpps = run.busy_ns > 0 ? (double)out->received * 1e3 *
						   env->ncpus / run.busy_ns :
					   0;
	return 0;
}

static void add(struct totals *t, const struct sample *s)
{
	t->generated += s->generated;
	t->received += s->received;
	t->xmit_errors += s->xmit_errors;
}

int scenario_run(const struct bench_env *env, struct generator *g,
		 struct receiver *base, struct receiver *cas,
		 struct case_result *res)
{
	int rounds = env->rounds, ret = 0;
	struct sample s;

	res->base_mpps = calloc((size_t)rounds + 1, sizeof(double));
	res->case_mpps = calloc((size_t)rounds, sizeof(double));
	res->ratios = calloc((size_t)rounds, sizeof(double));
	res->base_busy = calloc((size_t)rounds + 1, sizeof(double));
	res->case_busy = calloc((size_t)rounds, sizeof(double));
	res->ratios_busy = calloc((size_t)rounds, sizeof(double));
	if (!res->base_mpps || !res->case_mpps || !res->ratios ||
	    !res->base_busy || !res->case_busy || !res->ratios_busy)
		return -ENOMEM;
	res->frame_len = gen_frame_len(g);
	res->xmit_known = true;
	res->rounds = 0;

	for (int i = 0; i <= rounds; i++) {
		ret = scenario_measure(env, g, base, &s);
		if (ret)
			break;
		res->base_mpps[i] = s.mpps;
		res->base_busy[i] = s.busy_mpps;
		res->xmit_known &= s.xmit_known;
		add(&res->base, &s);
		if (i == rounds)
			break;
		ret = scenario_measure(env, g, cas, &s);
		if (ret)
			break;
		res->case_mpps[i] = s.mpps;
		res->case_busy[i] = s.busy_mpps;
		res->xmit_known &= s.xmit_known;
		add(&res->cas, &s);
		bench_progress(
			"%s: round %d/%d: baseline %.2f Mpps (%.2f busy), "
			"%s %.2f Mpps (%.2f busy)",
			res->label, i + 1, rounds, res->base_mpps[i],
			res->base_busy[i], cas->name, s.mpps, s.busy_mpps);
	}
	/* a round counts once the baseline after it is in */
	res->rounds = ret ? 0 : rounds;
	for (int i = 0; ret && i < rounds; i++)
		if (res->base_mpps[i + 1] > 0 && res->case_mpps[i] > 0)
			res->rounds = i + 1;
	if (res->rounds && !stats_round_ratios(res->base_mpps, res->case_mpps,
					       res->rounds, res->ratios))
		stats_summary(res->ratios, res->rounds, &res->ratio);
	if (res->rounds && !stats_round_ratios(res->base_busy, res->case_busy,
					       res->rounds, res->ratios_busy))
		stats_summary(res->ratios_busy, res->rounds, &res->ratio_busy);
	return ret;
}

void scenario_free(struct case_result *res)
{
	free(res->base_mpps);
	free(res->case_mpps);
	free(res->ratios);
	free(res->base_busy);
	free(res->case_busy);
	free(res->ratios_busy);
	res->base_mpps = res->case_mpps = res->ratios = NULL;
	res->base_busy = res->case_busy = res->ratios_busy = NULL;
}
