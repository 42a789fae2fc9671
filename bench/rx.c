// SPDX-License-Identifier: GPL-2.0-only
/*
 * The baseline receiver: bench_drop.bpf.c attached to veth-b in native
 * mode, so that it sees frames where moat would.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_drop.skel.h"
#include "rx.h"

struct rx_drop {
	struct receiver rx; /* first: the ops get a struct receiver * */
	struct bench_drop *skel;
	int ifindex; /* where it is attached, 0 when not */
};

int bench_percpu_sum(int map_fd, uint64_t *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *v;
	uint32_t key = 0;
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

static int drop_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_drop *d = (struct rx_drop *)rx;
	int fd = bpf_program__fd(d->skel->progs.bench_drop), ret;

	/* the netlink socket behind the attach belongs to namespace B */
	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	ret = bpf_xdp_attach(t->ifindex[TOPO_B], fd, XDP_FLAGS_DRV_MODE, NULL);
	if (ret)
		bench_err("attaching %s to %s in native mode: %s", rx->name,
			  t->ifname[TOPO_B], strerror(-ret));
	else
		d->ifindex = t->ifindex[TOPO_B];
	return topo_leave(t) ?: ret;
}

static int drop_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_drop *d = (struct rx_drop *)rx;
	int ret;

	if (!d->ifindex)
		return 0;
	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	ret = bpf_xdp_detach(d->ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (ret)
		bench_err("detaching %s from %s: %s", rx->name,
			  t->ifname[TOPO_B], strerror(-ret));
	d->ifindex = 0;
	return topo_leave(t) ?: ret;
}

static int drop_count(struct receiver *rx, uint64_t *packets)
{
	struct rx_drop *d = (struct rx_drop *)rx;

	return bench_percpu_sum(bpf_map__fd(d->skel->maps.received), packets);
}

static void drop_destroy(struct receiver *rx)
{
	struct rx_drop *d = (struct rx_drop *)rx;

	/* the attachment is not a link: a destroyed program stays attached */
	if (d->ifindex)
		bench_err("%s destroyed while attached", rx->name);
	bench_drop__destroy(d->skel);
	free(d);
}

static const struct receiver_ops drop_ops = {
	.attach = drop_attach,
	.detach = drop_detach,
	.count = drop_count,
	.destroy = drop_destroy,
};

int rx_drop_open(struct receiver **out, const char *name)
{
	struct rx_drop *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->rx.ops = &drop_ops;
	d->rx.name = name;
	d->skel = bench_drop__open_and_load();
	if (!d->skel) {
		int ret = -errno;

		bench_err("loading %s: %s", name, strerror(errno));
		free(d);
		return ret;
	}
	*out = &d->rx;
	return 0;
}
