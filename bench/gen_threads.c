// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sender threads.  Each is pinned first (the namespace and the frame
 * pages follow the CPU), then moved into namespace A; all start together
 * once every one is ready, so that the run's elapsed time covers the
 * same interval for all of them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "gen.h"

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t opened;
	int waiting;
	bool open, abort;
	uint64_t deadline_ns;
};

struct thread_arg {
	struct gen_worker *w;
	const struct topology *t;
	struct gate *gate;
	double seconds;
	void (*send)(struct gen_worker *w);
};

static bool gate_pass(struct gate *gt)
{
	bool go;

	pthread_mutex_lock(&gt->lock);
	gt->waiting++;
	pthread_cond_broadcast(&gt->opened);
	while (!gt->open)
		pthread_cond_wait(&gt->opened, &gt->lock);
	go = !gt->abort;
	pthread_mutex_unlock(&gt->lock);
	return go;
}

static void gate_open(struct gate *gt, int senders, bool abort, double seconds)
{
	pthread_mutex_lock(&gt->lock);
	while (gt->waiting < senders)
		pthread_cond_wait(&gt->opened, &gt->lock);
	gt->open = true;
	gt->abort = abort;
	gt->deadline_ns = bench_now_ns() + (uint64_t)(seconds * 1e9);
	pthread_cond_broadcast(&gt->opened);
	pthread_mutex_unlock(&gt->lock);
}

static void *sender(void *arg)
{
	struct thread_arg *a = arg;
	struct gen_worker *w = a->w;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->error = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (!w->error)
		w->error = topo_enter(a->t, TOPO_A);
	if (!gate_pass(a->gate) || w->error)
		return NULL;
	w->deadline_ns = a->gate->deadline_ns;
	a->send(w);
	return NULL;
}

int gen_threads_run(const struct topology *t, const int *cpus, int ncpus,
		    const struct gen_limit *lim,
		    void (*send)(struct gen_worker *w), void *ctx,
		    struct gen_result *res)
{
	struct gen_worker *w = calloc((size_t)ncpus, sizeof(*w));
	struct thread_arg *a = calloc((size_t)ncpus, sizeof(*a));
	pthread_t *tid = calloc((size_t)ncpus, sizeof(*tid));
	struct gate gate = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .opened = PTHREAD_COND_INITIALIZER };
	/* a packet-limited run still ends, in case a receiver stalls */
	double seconds = lim->packets ? 60 : lim->seconds;
	int ret = w && a && tid ? 0 : -ENOMEM, started = 0;
	uint64_t start;

	memset(res, 0, sizeof(*res));
	for (int i = 0; !ret && i < ncpus; i++) {
		w[i] = (struct gen_worker){ .index = i,
					    .cpu = cpus[i],
					    .ctx = ctx };
		/* the quota split evenly, the first ones take the remainder */
		if (lim->packets)
			w[i].quota =
				lim->packets / (uint64_t)ncpus +
				((uint64_t)i < lim->packets % (uint64_t)ncpus);
		a[i] = (struct thread_arg){ .w = &w[i],
					    .t = t,
					    .gate = &gate,
					    .seconds = seconds,
					    .send = send };
		ret = -pthread_create(&tid[i], NULL, sender, &a[i]);
		if (!ret)
			started++;
	}
	gate_open(&gate, started, ret != 0, seconds);
	start = bench_now_ns();
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	res->elapsed_ns = bench_now_ns() - start;
	for (int i = 0; !ret && i < ncpus; i++) {
		res->calls += w[i].calls;
		res->generated += w[i].sent;
		res->gen_errors += w[i].errors;
		res->busy_ns += w[i].busy_ns;
		if (w[i].error && !res->error) {
			res->error = w[i].error;
			bench_err("sending on CPU %d: %s", w[i].cpu,
				  strerror(-w[i].error));
		}
	}
	free(w);
	free(a);
	free(tid);
	return ret ?: res->error;
}
