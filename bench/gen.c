// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live-frames generator.  One test run sends up to GEN_REPEAT frames
 * from the calling CPU: the kernel runs bench_gen on each, flushes the
 * redirects every GEN_BATCH frames into veth-b's ring, and veth-b's NAPI,
 * raised on the same CPU, runs the receiver's XDP program.  Each CPU that
 * sends is therefore also the CPU that receives, and the rate of the
 * whole path is what one CPU can do for generator and receiver together.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_gen.skel.h"
#include "gen.h"

struct gen_live {
	struct generator g; /* first: the ops get a struct generator * */
	struct bench_gen *skel;
	int ifindex; /* veth-a, in namespace A */
	struct gen_pace *pace; /* of the current run */
	const struct topology *t;
	bool parked;
};

static const char *const tx_names[GEN_TX_COUNT] = {
	[GEN_TX_LIVE] = "live",
	[GEN_TX_AFXDP] = "afxdp",
};

const char *gen_tx_name(enum gen_tx tx)
{
	return tx < GEN_TX_COUNT ? tx_names[tx] : "?";
}

int gen_tx_parse(const char *name, enum gen_tx *tx)
{
	for (int i = 0; i < GEN_TX_COUNT; i++) {
		if (!strcmp(name, tx_names[i])) {
			*tx = (enum gen_tx)i;
			return 0;
		}
	}
	return -EINVAL;
}

int gen_open(struct generator **out, enum gen_tx tx, const struct topology *t,
	     const struct traffic *tr, const int *cpus, int ncpus)
{
	if (tx == GEN_TX_AFXDP)
		return gen_afxdp_open(out, t, tr, cpus, ncpus);
	return gen_live_open(out, t, tr);
}

static int sum_map(const struct bpf_map *m, uint64_t *n)
{
	return bench_percpu_sum(bpf_map__fd(m), n);
}

static void live_send(struct gen_worker *w)
{
	struct gen_live *l = w->ctx;
	const struct traffic *tr = l->g.tr;
	struct xdp_md ctx = {
		.data_end = tr->frame_len,
		.ingress_ifindex = (uint32_t)l->ifindex,
	};
	uint8_t frame[BENCH_FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = tr->frame_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = GEN_BATCH);
	int fd = bpf_program__fd(l->skel->progs.bench_gen);
	int slot = w->index < GEN_MAX_SENDERS ? w->index : 0;
	uint32_t repeat = l->pace->repeat[slot];
	double frame_ns = l->pace->frame_ns[slot];
	uint64_t call_ns = 0, now;

	/* the payload every frame keeps: zeros after template 0's headers */
	traffic_frame(tr, 0, frame);
	while (!bench_stop && (now = bench_now_ns()) < w->deadline_ns) {
		uint64_t left = w->quota ? w->quota - w->sent : 0;
		int ret;

		if (w->quota && !left)
			break;
		repeat = gen_next_repeat(repeat, call_ns, frame_ns, left,
					 w->deadline_ns - now);
		opts.repeat = (int)repeat;
		ret = bpf_prog_test_run_opts(fd, &opts);
		call_ns = bench_now_ns() - now;
		if (ret == -EINTR) {
			call_ns =
				0; /* a signal: bench_stop says whether to end */
			continue;
		}
		if (ret) {
			w->error = ret;
			break;
		}
		w->calls++;
		w->sent += repeat;
		/*
		 * duration is the mean per frame, truncated to whole ns: add
		 * the half ns that truncation takes away on average.
		 */
		frame_ns = (double)opts.duration + 0.5;
		w->busy_ns += frame_ns * repeat;
	}
	l->pace->repeat[slot] = repeat;
	l->pace->frame_ns[slot] = frame_ns;
}

static int live_run(struct generator *g, const struct topology *t,
		    const int *cpus, int ncpus, const struct gen_limit *lim,
		    struct gen_result *res)
{
	struct gen_live *l = (struct gen_live *)g;
	uint64_t s0 = 0, s1 = 0, a0 = 0, a1 = 0;
	struct gen_pace fresh = { { 0 } };
	int ret;

	l->pace = lim->pace ? lim->pace : &fresh;
	ret = sum_map(l->skel->maps.sent, &s0) ?:
		      sum_map(l->skel->maps.aborted, &a0);
	if (ret)
		return ret;
	ret = gen_threads_run(t, cpus, ncpus, lim, live_send, l, res);
	if (sum_map(l->skel->maps.sent, &s1) ||
	    sum_map(l->skel->maps.aborted, &a1))
		return ret ?: -EIO;
	/* the program's own counts, not the repeats asked for */
	res->generated = s1 - s0;
	res->gen_errors = a1 - a0;
	return ret;
}

static void live_close(struct generator *g)
{
	struct gen_live *l = (struct gen_live *)g;

	if (l->parked)
		topo_park(l->t, TOPO_PARK_GEN, -1);
	bench_gen__destroy(l->skel);
	free(l);
}

static const struct gen_ops live_ops = {
	.run = live_run,
	.close = live_close,
};

int gen_skel_open(struct bench_gen **out, const struct traffic *tr,
		  int ifindex)
{
	struct bench_gen *s = bench_gen__open();
	int fd, ffd, ret;

	*out = NULL;
	if (!s)
		return -errno;
	s->rodata->ntemplates = (uint32_t)tr->n;
	s->rodata->egress_ifindex = (uint32_t)ifindex;
	s->rodata->copy_len = tr->copy_len;
	s->rodata->nflows = tr->flows;
	s->rodata->seed = tr->seed;
	s->rodata->stamp_off = tr->stamp_off;
	/* the whole templates only serve flow variants (bench_gen.bpf.c) */
	ret = bpf_map__set_max_entries(s->maps.templates,
				       tr->flows ? (uint32_t)tr->n : 1);
	ret = ret ?: bpf_map__set_max_entries(s->maps.frames, (uint32_t)tr->n);
	ret = ret ?: bpf_map__set_value_size(s->maps.frames, tr->copy_len);
	ret = ret ?: bench_gen__load(s);
	if (ret) {
		bench_err("loading the generator: %s", strerror(-ret));
		goto fail;
	}
	fd = bpf_map__fd(s->maps.templates);
	ffd = bpf_map__fd(s->maps.frames);
	for (uint32_t i = 0; i < tr->n; i++) {
		if ((tr->flows &&
		     bpf_map_update_elem(fd, &i, &tr->t[i], BPF_ANY)) ||
		    bpf_map_update_elem(ffd, &i, tr->t[i].data, BPF_ANY)) {
			ret = -errno;
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	bench_gen__destroy(s);
	return ret;
}

int gen_live_open(struct generator **out, const struct topology *t,
		  const struct traffic *tr)
{
	struct gen_live *l = calloc(1, sizeof(*l));
	int ret;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->g = (struct generator){ .ops = &live_ops,
				   .tx = GEN_TX_LIVE,
				   .tr = tr };
	l->ifindex = t->ifindex[TOPO_A];
	l->t = t;
	ret = gen_skel_open(&l->skel, tr, l->ifindex);
	if (ret)
		goto fail;
	/* test runs of a parked program skip two RCU waits each (park.c) */
	ret = topo_park(t, TOPO_PARK_GEN,
			bpf_program__fd(l->skel->progs.bench_gen));
	if (ret)
		goto fail;
	l->parked = true;
	*out = &l->g;
	return 0;
fail:
	live_close(&l->g);
	return ret;
}
