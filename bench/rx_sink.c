// SPDX-License-Identifier: GPL-2.0-only
/*
 * A receiver whose frames pass, with a sink behind it: bench_sink in
 * veth-b's tc ingress hook drops every frame the XDP program passed, so
 * that the case's cost is its XDP program and the skb veth builds for a
 * passed frame, not namespace B's routing of frames addressed to no one
 * there (a route lookup that fails and a drop, several times the cost
 * of the whole bare-drop path here).
 *
 * The sink is there during the receiver's turns only: the baseline's
 * turns and other cases (a peer in the stack) never see it.  It is a tc
 * filter with its own handle and priority, beside moat's egress filter
 * in the same clsact qdisc; the qdisc stays (moat may share it), and
 * goes with namespace B.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_count.skel.h"
#include "rx.h"

#define SINK_HANDLE 0x6d62 /* "mb" */
#define SINK_PRIO 0x6d62

struct rx_sink {
	struct receiver rx; /* first: the ops get a struct receiver * */
	struct receiver *inner;
	bool own_inner;
	struct bench_count *skel;
	bool attached;
};

static void sink_hook(struct bpf_tc_hook *h, struct bpf_tc_opts *o,
		      const struct topology *t)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = t->ifindex[TOPO_B];
	h->attach_point = BPF_TC_INGRESS;
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = SINK_HANDLE;
	o->priority = SINK_PRIO;
}

static int sink_set(struct rx_sink *s, const struct topology *t, bool on)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	int ret;

	/* tc's netlink socket, like the interface, belongs to namespace B */
	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	sink_hook(&h, &o, t);
	if (on) {
		ret = bpf_tc_hook_create(&h);
		if (ret == -EEXIST)
			ret = 0;
		o.prog_fd = bpf_program__fd(s->skel->progs.bench_sink);
		o.flags = BPF_TC_F_REPLACE;
		ret = ret ?: bpf_tc_attach(&h, &o);
	} else {
		ret = bpf_tc_detach(&h, &o);
	}
	if (ret)
		bench_err("%s the sink %s %s's tc ingress: %s",
			  on ? "attaching" : "detaching", on ? "to" : "from",
			  t->ifname[TOPO_B], strerror(-ret));
	return topo_leave(t) ?: ret;
}

static int sink_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_sink *s = (struct rx_sink *)rx;
	int ret = rx_attach(s->inner, t);

	if (ret)
		return ret;
	ret = sink_set(s, t, true);
	if (ret) {
		rx_detach(s->inner, t);
		return ret;
	}
	s->attached = true;
	return 0;
}

static int sink_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_sink *s = (struct rx_sink *)rx;
	int ret = 0;

	if (s->attached)
		ret = sink_set(s, t, false);
	s->attached = false;
	return rx_detach(s->inner, t) ?: ret;
}

static int sink_count(struct receiver *rx, const struct topology *t,
		      struct rx_counts *c)
{
	return rx_count(((struct rx_sink *)rx)->inner, t, c);
}

static void sink_destroy(struct receiver *rx)
{
	struct rx_sink *s = (struct rx_sink *)rx;

	if (s->attached)
		bench_err("%s destroyed while attached", rx->name);
	bench_count__destroy(s->skel);
	if (s->own_inner)
		rx_destroy(s->inner);
	free(s);
}

static const struct receiver_ops sink_ops = {
	.attach = sink_attach,
	.detach = sink_detach,
	.count = sink_count,
	.destroy = sink_destroy,
};

int rx_sink_open(struct receiver **out, struct receiver *inner, bool own_inner)
{
	struct rx_sink *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s) {
		ret = -ENOMEM;
		goto fail;
	}
	s->rx.ops = &sink_ops;
	s->rx.name = inner->name;
	s->inner = inner;
	s->own_inner = own_inner;
	s->skel = bench_count__open_and_load();
	if (!s->skel) {
		ret = -errno;
		bench_err("loading the sink: %s", strerror(-ret));
		free(s);
		goto fail;
	}
	*out = &s->rx;
	return 0;
fail:
	if (own_inner)
		rx_destroy(inner);
	return ret;
}

int rx_pass_open(struct receiver **out, const char *name)
{
	struct receiver *pass;
	int ret = rx_count_open(&pass, name, XDP_PASS);

	return ret ?: rx_sink_open(out, pass, true);
}
