// SPDX-License-Identifier: GPL-2.0-only
/*
 * A peer firewall as the receiver (peer.h).  The peer installs its rules
 * once; the interleaved schedule then alternates it with the baseline
 * without reinstalling:
 *
 * - a peer after XDP (nftables, iptables) keeps its rules throughout;
 *   its turn attaches an XDP_PASS counter on veth-b, so that frames reach
 *   the stack, and the baseline's XDP_DROP keeps them from it.  The two
 *   counts say where frames went: the peer's own counter is what it
 *   processed, the XDP counter minus that is what the stack lost before
 *   the peer's hook.
 * - an XDP peer (xdp-filter) has its program taken off veth-b while the
 *   baseline runs and put back, in the same mode, for its turn.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "rx.h"

struct rx_peer {
	struct receiver rx; /* first: the ops get a struct receiver * */
	const struct bench_peer *p;
	const struct topology *t;
	struct receiver *pass; /* after XDP: the XDP_PASS counter */
	int prog_fd; /* an XDP peer's program */
	uint32_t prog_flags; /* the mode it was attached in */
	bool on; /* its program is on veth-b */
	bool attached; /* its turn */
};

static int peer_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_peer *r = (struct rx_peer *)rx;
	int ret;

	if (r->pass)
		ret = rx_attach(r->pass, t);
	else
		ret = rx_xdp_attach(t, TOPO_B, r->prog_fd, r->prog_flags,
				    rx->name);
	r->attached = !ret;
	r->on = !r->pass && !ret;
	return ret;
}

static int peer_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_peer *r = (struct rx_peer *)rx;

	if (!r->attached)
		return 0;
	r->attached = false;
	if (r->pass)
		return rx_detach(r->pass, t);
	r->on = false;
	return rx_xdp_detach(t, TOPO_B, r->prog_flags, rx->name);
}

static int peer_count(struct receiver *rx, const struct topology *t,
		      struct rx_counts *c)
{
	struct rx_peer *r = (struct rx_peer *)rx;
	struct rx_counts pass;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	ret = r->p->processed(t->ifname[TOPO_B], &c->received);
	if (ret)
		bench_err("%s: reading its counters: %s", rx->name,
			  strerror(-ret));
	ret = topo_leave(t) ?: ret;
	c->xdp_seen = c->received;
	if (!ret && r->pass && !(ret = rx_count(r->pass, t, &pass)))
		c->xdp_seen = pass.received;
	return ret;
}

static void peer_destroy(struct receiver *rx)
{
	struct rx_peer *r = (struct rx_peer *)rx;
	const struct topology *t = r->t;

	if (r->attached)
		bench_err("%s destroyed while attached", rx->name);
	/* remove() finds the peer as it left itself */
	if (!r->pass && r->prog_fd >= 0 && !r->on)
		rx_xdp_attach(t, TOPO_B, r->prog_fd, r->prog_flags, rx->name);
	if (!topo_enter(t, TOPO_B)) {
		r->p->remove(t->ifname[TOPO_B]);
		topo_leave(t);
	}
	if (r->prog_fd >= 0)
		close(r->prog_fd);
	rx_destroy(r->pass);
	free(r);
}

static const struct receiver_ops peer_ops = {
	.attach = peer_attach,
	.detach = peer_detach,
	.count = peer_count,
	.destroy = peer_destroy,
};

/* Take the XDP peer's program off veth-b, keeping it for its turns. */
static int take_program(struct rx_peer *r, const struct topology *t)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t id = 0;
	int ret;

	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	ret = bpf_xdp_query(t->ifindex[TOPO_B], 0, &q);
	ret = topo_leave(t) ?: ret;
	if (ret)
		return ret;
	if (q.drv_prog_id) {
		id = q.drv_prog_id;
		r->prog_flags = XDP_FLAGS_DRV_MODE;
	} else if (q.skb_prog_id) {
		id = q.skb_prog_id;
		r->prog_flags = XDP_FLAGS_SKB_MODE;
	}
	if (!id) {
		bench_err("%s installed no XDP program on %s", r->rx.name,
			  t->ifname[TOPO_B]);
		return -ENOENT;
	}
	r->prog_fd = bpf_prog_get_fd_by_id(id);
	if (r->prog_fd < 0)
		return -errno;
	r->on = true;
	ret = rx_xdp_detach(t, TOPO_B, r->prog_flags, r->rx.name);
	r->on = ret != 0;
	return ret;
}

int rx_peer_open(struct receiver **out, const struct bench_peer *p,
		 const struct moat_ruleset *rs, const struct topology *t,
		 uint64_t *apply_ns)
{
	struct rx_peer *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->rx = (struct receiver){ .ops = &peer_ops, .name = p->name };
	r->p = p;
	r->t = t;
	r->prog_fd = -1;
	ret = topo_enter(t, TOPO_B);
	if (ret) {
		free(r);
		return ret;
	}
	ret = p->install(rs, t->ifname[TOPO_B], apply_ns);
	topo_leave(t);
	if (ret) {
		bench_err("%s: installing %zu rules: %s", p->name, rs->nrules,
			  strerror(-ret));
		free(r); /* install leaves nothing behind when it fails */
		return ret;
	}
	if (p->after_xdp)
		ret = rx_count_open(&r->pass, "xdp-pass", XDP_PASS);
	else
		ret = take_program(r, t);
	if (ret) {
		peer_destroy(&r->rx);
		return ret;
	}
	*out = &r->rx;
	return 0;
}
