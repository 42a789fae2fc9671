// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driving the generator.  One test run sends GEN_REPEAT frames from the
 * calling CPU: the kernel runs bench_gen on each, flushes the redirects
 * every GEN_BATCH frames into veth-b's ring, and veth-b's NAPI, raised
 * on the same CPU, runs the receiver's XDP program.  Each CPU that sends
 * is therefore also the CPU that receives, and the rate of the whole
 * path is what one CPU can do for generator and receiver together.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_gen.skel.h"
#include "bench_kern_user.h"
#include "gen.h"

struct generator {
	struct bench_gen *skel;
	unsigned int frame_len;
	int ifindex; /* veth-a, in namespace A */
};

static int fill_templates(struct generator *g, const struct cb_traffic *tr,
			  uint64_t seed)
{
	int fd = bpf_map__fd(g->skel->maps.templates), ret = 0;
	struct bench_template tmpl = { 0 };
	uint32_t *order = malloc(tr->n * sizeof(*order));
	struct cb_rng r;

	if (!order)
		return -ENOMEM;
	/* Fisher-Yates: every flow once, neighbours unrelated */
	cb_rng_seed(&r, seed ^ 0x73687566666c6500ull); /* its own stream */
	for (uint32_t i = 0; i < tr->n; i++)
		order[i] = i;
	for (uint32_t i = (uint32_t)tr->n; i > 1; i--) {
		uint32_t j = cb_rng_below(&r, i), x = order[i - 1];

		order[i - 1] = order[j];
		order[j] = x;
	}
	for (uint32_t i = 0; !ret && i < tr->n; i++) {
		ret = cb_frame(tr, order[i], tmpl.data);
		if (!ret && bpf_map_update_elem(fd, &i, &tmpl, BPF_ANY))
			ret = -errno;
	}
	free(order);
	return ret;
}

int gen_open(struct generator **out, const struct topology *t,
	     const struct cb_traffic *tr, uint64_t seed)
{
	struct generator *g = calloc(1, sizeof(*g));
	int ret;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->frame_len = tr->frame_len;
	g->ifindex = t->ifindex[TOPO_A];
	g->skel = bench_gen__open();
	if (!g->skel) {
		ret = -errno;
		goto fail;
	}
	g->skel->rodata->ntemplates = (uint32_t)tr->n;
	g->skel->rodata->egress_ifindex = (uint32_t)g->ifindex;
	g->skel->rodata->frame_len = tr->frame_len;
	ret = bpf_map__set_max_entries(g->skel->maps.templates,
				       (uint32_t)tr->n);
	ret = ret ?: bench_gen__load(g->skel);
	if (ret) {
		bench_err("loading the generator: %s", strerror(-ret));
		goto fail;
	}
	ret = fill_templates(g, tr, seed);
	if (ret)
		goto fail;
	*out = g;
	return 0;
fail:
	gen_close(g);
	return ret;
}

void gen_close(struct generator *g)
{
	if (!g)
		return;
	bench_gen__destroy(g->skel);
	free(g);
}

unsigned int gen_frame_len(const struct generator *g)
{
	return g->frame_len;
}

/* Senders start together, once all are pinned and in namespace A. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t opened;
	int waiting;
	bool open, abort;
};

struct sender {
	struct generator *g;
	const struct topology *t;
	struct gate *gate;
	double seconds;
	uint32_t repeat;
	int cpu;
	uint64_t calls;
	double busy_ns;
	int error;
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

static void gate_open(struct gate *gt, int senders, bool abort)
{
	pthread_mutex_lock(&gt->lock);
	while (gt->waiting < senders)
		pthread_cond_wait(&gt->opened, &gt->lock);
	gt->open = true;
	gt->abort = abort;
	pthread_cond_broadcast(&gt->opened);
	pthread_mutex_unlock(&gt->lock);
}

static void *send_frames(void *arg)
{
	struct sender *s = arg;
	struct xdp_md ctx = {
		.data_end = s->g->frame_len,
		.ingress_ifindex = (uint32_t)s->g->ifindex,
	};
	uint8_t frame[BENCH_TEMPLATE_SIZE] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = s->g->frame_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = GEN_BATCH);
	int fd = bpf_program__fd(s->g->skel->progs.bench_gen);
	uint64_t deadline;
	cpu_set_t set;

	/* pin first: the namespace and the frame pages follow the CPU */
	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	s->error = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (!s->error)
		s->error = topo_enter(s->t, TOPO_A);
	if (!gate_pass(s->gate) || s->error)
		return NULL;

	deadline = bench_now_ns() + (uint64_t)(s->seconds * 1e9);
	while (!bench_stop && bench_now_ns() < deadline) {
		int ret;

		opts.repeat = (int)s->repeat;
		ret = bpf_prog_test_run_opts(fd, &opts);
		if (ret == -EINTR)
			continue; /* a signal: bench_stop says whether to end */
		if (ret) {
			s->error = ret;
			break;
		}
		s->calls++;
		/*
		 * duration is the mean per frame, truncated to whole ns: add
		 * the half ns that truncation takes away on average.
		 */
		s->busy_ns += ((double)opts.duration + 0.5) * s->repeat;
	}
	return NULL;
}

static int sum_sent(struct generator *g, uint64_t *n)
{
	return bench_percpu_sum(bpf_map__fd(g->skel->maps.sent), n);
}

int gen_run(struct generator *g, const struct topology *t, const int *cpus,
	    int ncpus, double seconds, uint32_t repeat, struct gen_result *res)
{
	struct sender *s = calloc((size_t)ncpus, sizeof(*s));
	pthread_t *tid = calloc((size_t)ncpus, sizeof(*tid));
	struct gate gate = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .opened = PTHREAD_COND_INITIALIZER };
	uint64_t before = 0, after = 0, start;
	int ret, started = 0;

	memset(res, 0, sizeof(*res));
	ret = s && tid ? sum_sent(g, &before) : -ENOMEM;
	for (int i = 0; !ret && i < ncpus; i++) {
		s[i] = (struct sender){ .g = g,
					.t = t,
					.gate = &gate,
					.seconds = seconds,
					.repeat = repeat,
					.cpu = cpus[i] };
		ret = -pthread_create(&tid[i], NULL, send_frames, &s[i]);
		if (!ret)
			started++;
	}
	gate_open(&gate, started, ret != 0);
	start = bench_now_ns();
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	res->elapsed_ns = bench_now_ns() - start;
	if (ret)
		goto out;

	for (int i = 0; i < ncpus; i++) {
		res->calls += s[i].calls;
		res->busy_ns += s[i].busy_ns;
		if (s[i].error && !res->error) {
			res->error = s[i].error;
			bench_err("sending on CPU %d: %s", s[i].cpu,
				  strerror(-s[i].error));
		}
	}
	ret = sum_sent(g, &after) ?: res->error;
	res->generated = after - before;
out:
	free(s);
	free(tid);
	return ret;
}
