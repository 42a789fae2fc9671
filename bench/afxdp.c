// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AF_XDP generator: one socket per sending CPU on veth-a, bound to
 * the queue of that CPU's number (veth hands a frame to the peer's ring
 * of the same number, as the live generator's redirects do), transmit
 * only, with no XDP program of its own.  veth has no zero-copy mode, so
 * the kernel copies each frame into an skb; the frame is complete when
 * veth-b has taken or dropped it.  The frames are traffic_write()'s, the
 * same bytes bench_gen writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "bench.h"
#include "gen.h"

#define NFRAMES 4096u
#define FRAME_SIZE 2048u
#define TX_BATCH 64u
/*
 * Frames in flight at most.  The ring could hold NFRAMES, but a frame
 * stamped while it waits behind thousands of others would measure the
 * queue, not the path; the kernel sends 32 a sendto() anyway.
 */
#define IN_FLIGHT 64u
#define DRAIN_NS 5000000000ull

struct xsk_port {
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	struct xsk_ring_prod tx, fill;
	struct xsk_ring_cons comp;
	void *area;
	uint64_t free_addr[NFRAMES];
	uint32_t nfree;
	uint64_t seq; /* frames written, for the template sequence */
	uint64_t invalid; /* tx_invalid_descs at the start of a run */
	int cpu;
};

struct gen_afxdp {
	struct generator g; /* first: the ops get a struct generator * */
	struct xsk_port *ports;
	int nports;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t invalid_descs(struct xsk_port *p)
{
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);

	if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &st,
		       &len))
		return 0;
	return st.tx_invalid_descs;
}

/* Take back the frames the kernel is done with; returns how many. */
static uint32_t reclaim(struct xsk_port *p)
{
	uint32_t idx = 0, n = xsk_ring_cons__peek(&p->comp, NFRAMES, &idx);

	for (uint32_t i = 0; i < n; i++)
		p->free_addr[p->nfree++] =
			*xsk_ring_cons__comp_addr(&p->comp, idx + i);
	xsk_ring_cons__release(&p->comp, n);
	return n;
}

static int kick(struct xsk_port *p)
{
	if (sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	/* the kernel sends a budget a call and says so; none is an error */
	if (errno == EAGAIN || errno == EBUSY || errno == ENOBUFS ||
	    errno == EINTR)
		return 0;
	return -errno;
}

static void afxdp_send(struct gen_worker *w)
{
	struct gen_afxdp *a = w->ctx;
	const struct traffic *tr = a->g.tr;
	struct xsk_port *p = &a->ports[w->index];
	uint64_t cpu0 = thread_cpu_ns(), submitted = 0, end;

	p->invalid = invalid_descs(p);
	while (!bench_stop && bench_now_ns() < w->deadline_ns &&
	       (!w->quota || submitted < w->quota)) {
		uint32_t want = p->nfree < TX_BATCH ? p->nfree : TX_BATCH, idx;
		uint64_t flight = submitted - w->sent;

		if (flight + want > IN_FLIGHT)
			want = flight < IN_FLIGHT ?
				       (uint32_t)(IN_FLIGHT - flight) :
				       0;
		if (w->quota && want > w->quota - submitted)
			want = (uint32_t)(w->quota - submitted);
		want = xsk_ring_prod__reserve(&p->tx, want, &idx);
		for (uint32_t i = 0; i < want; i++) {
			struct xdp_desc *d =
				xsk_ring_prod__tx_desc(&p->tx, idx + i);

			d->addr = p->free_addr[--p->nfree];
			d->len = tr->frame_len;
			traffic_write(tr, p->seq++, (uint32_t)p->cpu,
				      xsk_umem__get_data(p->area, d->addr));
		}
		xsk_ring_prod__submit(&p->tx, want);
		submitted += want;
		w->calls++;
		w->error = kick(p);
		w->sent += reclaim(p);
		if (w->error)
			break;
	}
	/* what was submitted is sent or dropped by veth: wait for all */
	end = bench_now_ns() + DRAIN_NS;
	while (w->sent < submitted && bench_now_ns() < end && !w->error) {
		w->error = kick(p);
		w->sent += reclaim(p);
	}
	if (!w->error && w->sent < submitted)
		w->error = -ETIMEDOUT;
	w->errors = invalid_descs(p) - p->invalid;
	w->busy_ns = (double)(thread_cpu_ns() - cpu0);
}

static int afxdp_run(struct generator *g, const struct topology *t,
		     const int *cpus, int ncpus, const struct gen_limit *lim,
		     struct gen_result *res)
{
	struct gen_afxdp *a = (struct gen_afxdp *)g;

	if (ncpus != a->nports)
		return -EINVAL;
	return gen_threads_run(t, cpus, ncpus, lim, afxdp_send, a, res);
}

static void afxdp_close(struct generator *g)
{
	struct gen_afxdp *a = (struct gen_afxdp *)g;

	for (int i = 0; a->ports && i < a->nports; i++) {
		struct xsk_port *p = &a->ports[i];

		xsk_socket__delete(p->xsk);
		xsk_umem__delete(p->umem);
		if (p->area)
			munmap(p->area, (size_t)NFRAMES * FRAME_SIZE);
	}
	free(a->ports);
	free(a);
}

static const struct gen_ops afxdp_ops = {
	.run = afxdp_run,
	.close = afxdp_close,
};

static int port_open(struct xsk_port *p, const struct topology *t,
		     const struct traffic *tr, int cpu)
{
	struct xsk_umem_config uc = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.comp_size = NFRAMES,
		.frame_size = FRAME_SIZE,
	};
	struct xsk_socket_config sc = {
		.tx_size = NFRAMES,
		/* transmit only: no program to steer frames to the socket */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	int ret;

	p->cpu = cpu;
	p->area =
		mmap(NULL, (size_t)NFRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		return -errno;
	}
	for (uint32_t i = 0; i < NFRAMES; i++) {
		p->free_addr[p->nfree++] = (uint64_t)i * FRAME_SIZE;
		traffic_frame(tr, 0,
			      (uint8_t *)p->area + (size_t)i * FRAME_SIZE);
	}
	ret = xsk_umem__create(&p->umem, p->area,
			       (uint64_t)NFRAMES * FRAME_SIZE, &p->fill,
			       &p->comp, &uc);
	if (ret) {
		p->umem = NULL;
		bench_err("AF_XDP: creating the umem: %s", strerror(-ret));
		return ret;
	}
	ret = xsk_socket__create(&p->xsk, t->ifname[TOPO_A], (uint32_t)cpu,
				 p->umem, NULL, &p->tx, &sc);
	if (ret) {
		p->xsk = NULL;
		bench_err("AF_XDP: socket on %s queue %d: %s",
			  t->ifname[TOPO_A], cpu, strerror(-ret));
	}
	return ret;
}

int gen_afxdp_open(struct generator **out, const struct topology *t,
		   const struct traffic *tr, const int *cpus, int ncpus)
{
	struct gen_afxdp *a = calloc(1, sizeof(*a));
	int ret;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->g = (struct generator){ .ops = &afxdp_ops,
				   .tx = GEN_TX_AFXDP,
				   .tr = tr };
	a->ports = calloc((size_t)ncpus, sizeof(*a->ports));
	if (!a->ports) {
		free(a);
		return -ENOMEM;
	}
	a->nports = ncpus;
	/* a socket belongs to the namespace it is created in */
	ret = topo_enter(t, TOPO_A);
	for (int i = 0; !ret && i < ncpus; i++)
		ret = port_open(&a->ports[i], t, tr, cpus[i]);
	ret = topo_leave(t) ?: ret;
	if (ret) {
		afxdp_close(&a->g);
		return ret;
	}
	*out = &a->g;
	return 0;
}
