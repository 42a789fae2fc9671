// SPDX-License-Identifier: GPL-2.0-only
/*
 * The floor: bench_floor.bpf.c on veth-b in native mode, with one
 * counter a rule.  It does the least a firewall with per-rule counters
 * must (parse the 5-tuple, count the frame in one counter of N, drop),
 * so that a case below it is impossible by design and moat's ratio to
 * it is moat's own cost.  Frames processed are the packets of every
 * counter on every CPU: each frame lands in exactly one.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_floor.skel.h"
#include "rx.h"

struct rx_floor {
	struct receiver rx; /* first: the ops get a struct receiver * */
	struct bench_floor *skel;
	uint32_t ncounters; /* a CPU's: the rules times the stride */
	int ncpus;
	/* the batched read's buffers, kept: counts are read every 20 ms */
	uint32_t *keys;
	struct moat_counter *vals;
	bool attached;
};

static int floor_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_floor *f = (struct rx_floor *)rx;
	int ret = rx_xdp_attach(t, TOPO_B,
				bpf_program__fd(f->skel->progs.bench_floor),
				XDP_FLAGS_DRV_MODE, rx->name);

	f->attached = !ret;
	return ret;
}

static int floor_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_floor *f = (struct rx_floor *)rx;

	if (!f->attached)
		return 0;
	f->attached = false;
	return rx_xdp_detach(t, TOPO_B, XDP_FLAGS_DRV_MODE, rx->name);
}

/* Packets of every counter on every CPU, read in batches (as moat's rows). */
static int floor_count(struct receiver *rx, const struct topology *t,
		       struct rx_counts *out)
{
	struct rx_floor *f = (struct rx_floor *)rx;
	int fd = bpf_map__fd(f->skel->maps.counters);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t done = 0;

	memset(out, 0, sizeof(*out));
	while (done < f->ncounters * (uint32_t)f->ncpus) {
		uint32_t in = done, next,
			 batch = f->ncounters * (uint32_t)f->ncpus - done;

		if (bpf_map_lookup_batch(fd, done ? &in : NULL, &next, f->keys,
					 f->vals, &batch, &opts) &&
		    errno != ENOENT) {
			int ret = -errno;

			bench_err("reading the floor's counters: %s",
				  strerror(-ret));
			return ret;
		}
		if (!batch)
			break;
		for (size_t i = 0; i < batch; i++)
			out->received += f->vals[i].packets;
		done += batch;
	}
	out->xdp_seen = out->received;
	return 0;
}

static void floor_destroy(struct receiver *rx)
{
	struct rx_floor *f = (struct rx_floor *)rx;

	/* the attachment is not a link: a destroyed program stays attached */
	if (f->attached)
		bench_err("%s destroyed while attached", rx->name);
	bench_floor__destroy(f->skel);
	free(f->keys);
	free(f->vals);
	free(f);
}

static const struct receiver_ops floor_ops = {
	.attach = floor_attach,
	.detach = floor_detach,
	.count = floor_count,
	.destroy = floor_destroy,
};

int rx_floor_prog_fd(struct receiver *rx)
{
	return bpf_program__fd(((struct rx_floor *)rx)->skel->progs.bench_floor);
}

int rx_floor_open(struct receiver **out, uint32_t nrules, uint32_t stride)
{
	struct rx_floor *f;
	int ret = 0;

	*out = NULL;
	if (!stride || stride > BENCH_FLOOR_STRIDE_MAX)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->rx.ops = &floor_ops;
	f->rx.name = "floor";
	f->ncounters = nrules * stride;
	f->ncpus = libbpf_num_possible_cpus();
	if (f->ncpus < 0) {
		ret = f->ncpus;
		goto fail;
	}
	f->keys = calloc((size_t)f->ncounters * f->ncpus, sizeof(*f->keys));
	f->vals = calloc((size_t)f->ncounters * f->ncpus, sizeof(*f->vals));
	f->skel = bench_floor__open();
	if (!f->keys || !f->vals || !f->skel) {
		ret = f->skel ? -ENOMEM : -errno;
		goto fail;
	}
	f->skel->rodata->nrules = nrules;
	f->skel->rodata->stride = stride;
	ret = bpf_map__set_max_entries(f->skel->maps.counters,
				       f->ncounters * (uint32_t)f->ncpus) ?:
		      bench_floor__load(f->skel);
	if (ret)
		goto fail;
	*out = &f->rx;
	return 0;
fail:
	bench_err("loading the floor (%u rules): %s", nrules, strerror(-ret));
	floor_destroy(&f->rx);
	return ret;
}
