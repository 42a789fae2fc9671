// SPDX-License-Identifier: GPL-2.0-only
/*
 * The counting receiver: bench_count.bpf.c attached to veth-b in native
 * mode, so that it sees frames where moat would.  With XDP_DROP it is
 * the baseline; with XDP_PASS it counts in front of a peer.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_count.skel.h"
#include "rx.h"

struct rx_cnt {
	struct receiver rx; /* first: the ops get a struct receiver * */
	struct bench_count *skel;
	bool attached;
};

int bench_percpu_sum_key(int map_fd, uint32_t key, uint64_t *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *v;
	int ret = 0;

	*sum = 0;
	if (ncpus < 0)
		return ncpus;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, v))
		ret = -errno;
	for (int i = 0; !ret && i < ncpus; i++)
		*sum += v[i];
	free(v);
	return ret;
}

int bench_percpu_sum(int map_fd, uint64_t *sum)
{
	return bench_percpu_sum_key(map_fd, 0, sum);
}

int rx_xdp_attach(const struct topology *t, enum topo_side side, int prog_fd,
		  uint32_t flags, const char *what)
{
	int ret;

	/* the netlink socket behind the attach belongs to the namespace */
	ret = topo_enter(t, side);
	if (ret)
		return ret;
	ret = bpf_xdp_attach(t->ifindex[side], prog_fd, flags, NULL);
	if (ret)
		bench_err("attaching %s to %s (%s mode): %s", what,
			  t->ifname[side],
			  flags & XDP_FLAGS_SKB_MODE ? "generic" : "native",
			  strerror(-ret));
	return topo_leave(t) ?: ret;
}

int rx_xdp_detach(const struct topology *t, enum topo_side side, uint32_t flags,
		  const char *what)
{
	int ret;

	ret = topo_enter(t, side);
	if (ret)
		return ret;
	ret = bpf_xdp_detach(t->ifindex[side], flags, NULL);
	if (ret)
		bench_err("detaching %s from %s: %s", what, t->ifname[side],
			  strerror(-ret));
	return topo_leave(t) ?: ret;
}

static int cnt_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_cnt *c = (struct rx_cnt *)rx;
	int ret = rx_xdp_attach(t, TOPO_B,
				bpf_program__fd(c->skel->progs.bench_count),
				XDP_FLAGS_DRV_MODE, rx->name);

	c->attached = !ret;
	return ret;
}

static int cnt_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_cnt *c = (struct rx_cnt *)rx;

	if (!c->attached)
		return 0;
	c->attached = false;
	return rx_xdp_detach(t, TOPO_B, XDP_FLAGS_DRV_MODE, rx->name);
}

static int cnt_count(struct receiver *rx, const struct topology *t,
		     struct rx_counts *out)
{
	struct rx_cnt *c = (struct rx_cnt *)rx;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = bench_percpu_sum(bpf_map__fd(c->skel->maps.received),
			       &out->received);
	out->xdp_seen = out->received;
	return ret;
}

static void cnt_destroy(struct receiver *rx)
{
	struct rx_cnt *c = (struct rx_cnt *)rx;

	/* the attachment is not a link: a destroyed program stays attached */
	if (c->attached)
		bench_err("%s destroyed while attached", rx->name);
	bench_count__destroy(c->skel);
	free(c);
}

static const struct receiver_ops cnt_ops = {
	.attach = cnt_attach,
	.detach = cnt_detach,
	.count = cnt_count,
	.destroy = cnt_destroy,
};

int rx_count_open(struct receiver **out, const char *name, uint32_t verdict)
{
	struct rx_cnt *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->rx.ops = &cnt_ops;
	c->rx.name = name;
	c->skel = bench_count__open();
	ret = c->skel ? 0 : -errno;
	if (!ret) {
		c->skel->rodata->verdict = verdict;
		ret = bench_count__load(c->skel);
	}
	if (ret) {
		bench_err("loading %s: %s", name, strerror(-ret));
		bench_count__destroy(c->skel);
		free(c);
		return ret;
	}
	*out = &c->rx;
	return 0;
}

int rx_drop_open(struct receiver **out, const char *name)
{
	return rx_count_open(out, name, XDP_DROP);
}
