// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reflector as the receiver: bench_reflect on veth-b returns every
 * frame with XDP_TX, bench_stamp on veth-a reads the generator's stamp
 * and files the latency.  veth-b puts XDP_TX frames in veth-a's ring
 * only because veth-a has an XDP program too (bench_stamp), and veth-a's
 * NAPI runs on the CPU that sent: one CPU carries the frame all the way.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_latency.skel.h"
#include "rx.h"

struct rx_refl {
	struct receiver rx; /* first: the ops get a struct receiver * */
	struct bench_latency *skel;
	bool on[2];
};

static int refl_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_refl *r = (struct rx_refl *)rx;
	int ret = 0, ret2;

	for (int s = 0; s < 2; s++) {
		if (!r->on[s])
			continue;
		ret2 = rx_xdp_detach(t, (enum topo_side)s, XDP_FLAGS_DRV_MODE,
				     s ? "bench_reflect" : "bench_stamp");
		ret = ret ?: ret2;
		r->on[s] = false;
	}
	return ret;
}

static int refl_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_refl *r = (struct rx_refl *)rx;
	int ret;

	/* the return path first, so that no reflected frame is lost */
	ret = rx_xdp_attach(t, TOPO_A,
			    bpf_program__fd(r->skel->progs.bench_stamp),
			    XDP_FLAGS_DRV_MODE, "bench_stamp");
	r->on[TOPO_A] = !ret;
	if (!ret) {
		ret = rx_xdp_attach(
			t, TOPO_B,
			bpf_program__fd(r->skel->progs.bench_reflect),
			XDP_FLAGS_DRV_MODE, "bench_reflect");
		r->on[TOPO_B] = !ret;
	}
	if (ret)
		refl_detach(rx, t);
	return ret;
}

static int sum_hist(struct rx_refl *r, struct bench_hist *out)
{
	int ncpus = libbpf_num_possible_cpus(), ret = 0;
	struct bench_hist *v;
	uint32_t zero = 0;

	memset(out, 0, sizeof(*out));
	if (ncpus < 0)
		return ncpus;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.hist), &zero, v))
		ret = -errno;
	for (int c = 0; !ret && c < ncpus; c++)
		for (int b = 0; b < BENCH_HIST_BUCKETS; b++)
			out->n[b] += v[c].n[b];
	free(v);
	return ret;
}

static int refl_count(struct receiver *rx, const struct topology *t,
		      struct rx_counts *c)
{
	struct rx_refl *r = (struct rx_refl *)rx;
	int fd = bpf_map__fd(r->skel->maps.returned), ret;

	memset(c, 0, sizeof(*c));
	c->has_returned = c->has_hist = true;
	ret = bench_percpu_sum(bpf_map__fd(r->skel->maps.reflected),
			       &c->received);
	c->xdp_seen = c->received;
	ret = ret ?: bench_percpu_sum_key(fd, 0, &c->returned);
	ret = ret ?: bench_percpu_sum_key(fd, 1, &c->returned_unstamped);
	return ret ?: sum_hist(r, &c->hist);
}

static void refl_destroy(struct receiver *rx)
{
	struct rx_refl *r = (struct rx_refl *)rx;

	if (r->on[0] || r->on[1])
		bench_err("%s destroyed while attached", rx->name);
	bench_latency__destroy(r->skel);
	free(r);
}

static const struct receiver_ops refl_ops = {
	.attach = refl_attach,
	.detach = refl_detach,
	.count = refl_count,
	.destroy = refl_destroy,
};

int rx_reflect_open(struct receiver **out, unsigned int stamp_off)
{
	struct rx_refl *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->rx = (struct receiver){ .ops = &refl_ops, .name = "reflect" };
	r->skel = bench_latency__open();
	ret = r->skel ? 0 : -errno;
	if (!ret) {
		r->skel->rodata->stamp_off = stamp_off;
		ret = bench_latency__load(r->skel);
	}
	if (ret) {
		bench_err("loading the reflector: %s", strerror(-ret));
		bench_latency__destroy(r->skel);
		free(r);
		return ret;
	}
	*out = &r->rx;
	return 0;
}
