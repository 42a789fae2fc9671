// SPDX-License-Identifier: GPL-2.0-only
/*
 * When each host acts next: a binary heap by due time, under one timer
 * that ticks every few milliseconds.  Not one io_uring timeout per host:
 * the kernel keeps timeouts in a sorted list, and 10,000 hosts re-arming
 * at random times would walk it thousands of entries deep each time.
 * The tick's lateness is not in the latencies: a heartbeat's clock
 * starts when it is written.
 */
#include <errno.h>
#include <stdlib.h>

#include "fleet.h"

#define TICK_NS 5000000ull /* 5 ms */
#define SAMPLE_NS 1000000000ull
/* after the last heartbeat is sent, acks have this long to come back */
#define DRAIN_NS 5000000000ull

int fleet_sched_init(struct fleet *f)
{
	/* heap[0] unused: children of i are 2i and 2i+1 */
	f->heap = calloc(f->o.hosts + 1, sizeof(*f->heap));
	return f->heap ? 0 : -ENOMEM;
}

void fleet_sched_free(struct fleet *f)
{
	free(f->heap);
	f->heap = NULL;
}

static void place(struct fleet *f, unsigned i, struct fleet_host *h)
{
	f->heap[i] = h;
	h->heap_at = i;
}

static void sift_up(struct fleet *f, unsigned i)
{
	struct fleet_host *h = f->heap[i];

	while (i > 1 && f->heap[i / 2]->due_ns > h->due_ns) {
		place(f, i, f->heap[i / 2]);
		i /= 2;
	}
	place(f, i, h);
}

static void sift_down(struct fleet *f, unsigned i)
{
	struct fleet_host *h = f->heap[i];
	unsigned c;

	while ((c = 2 * i) <= f->heap_n) {
		if (c < f->heap_n &&
		    f->heap[c + 1]->due_ns < f->heap[c]->due_ns)
			c++;
		if (f->heap[c]->due_ns >= h->due_ns)
			break;
		place(f, i, f->heap[c]);
		i = c;
	}
	place(f, i, h);
}

void fleet_unsched(struct fleet_host *h)
{
	struct fleet *f = h->f;
	unsigned i = h->heap_at;

	if (!i)
		return;
	h->heap_at = 0;
	if (i != f->heap_n) {
		place(f, i, f->heap[f->heap_n]);
		f->heap_n--;
		/* the last one may belong above or below i */
		sift_down(f, i);
		sift_up(f, i);
	} else {
		f->heap_n--;
	}
}

void fleet_sched(struct fleet_host *h, uint64_t at_ns)
{
	struct fleet *f = h->f;

	fleet_unsched(h);
	h->due_ns = at_ns;
	place(f, ++f->heap_n, h);
	sift_up(f, f->heap_n);
}

static unsigned outstanding(const struct fleet *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->o.hosts; i++)
		n += f->hosts[i].state == H_ACTIVE && f->hosts[i].sent_ns;
	return n;
}

static void on_tick(struct loop *l, struct loop_op *op, int res)
{
	struct fleet *f = op->data;
	uint64_t now = fleet_now_ns();

	if (res == -ECANCELED || f->phase != 2)
		return;
	while (f->heap_n && f->heap[1]->due_ns <= now) {
		struct fleet_host *h = f->heap[1];

		fleet_unsched(h);
		fleet_host_due(h);
	}
	if (f->push_started && atomic_load(&f->push_done) && now < f->end_ns)
		f->end_ns = now;
	if (f->steady && !f->ending && now >= f->end_ns) {
		f->ending = true;
		fleet_progress(
			"heartbeats: %llu sent, %llu acked; waiting for the last acks",
			(unsigned long long)f->c.sent,
			(unsigned long long)f->c.acked);
	}
	if (f->ending && (!outstanding(f) || now >= f->end_ns + DRAIN_NS)) {
		f->c.lost += outstanding(f);
		loop_stop(l, 0);
		return;
	}
	if (loop_timeout(l, op, TICK_NS, on_tick))
		loop_stop(l, -EIO);
}

static void on_sample(struct loop *l, struct loop_op *op, int res)
{
	struct fleet *f = op->data;
	uint64_t now = fleet_now_ns();

	if (res == -ECANCELED || !f->cur)
		return;
	fleet_proc_sample(&f->cur->cp, now);
	fleet_proc_sample(&f->cur->self, now);
	if (f->phase == 1)
		fleet_progress("enrolled %u of %u", f->c.enrolled, f->o.hosts);
	else if (!f->steady)
		fleet_progress("sessions: %u of %u", f->c.connected,
			       f->o.hosts);
	else if (f->o.push_file && !f->ending)
		fleet_progress(
			"pushing: %u sessions, %zu desired states applied, %u errors",
			f->c.live, f->napplied, f->c.errors);
	else if (!f->ending)
		fleet_progress(
			"%llu s of %.0f: %u sessions, %llu heartbeats acked, %u errors",
			(unsigned long long)((now - f->steady_ns) /
					     1000000000ull),
			f->o.duration, f->c.live,
			(unsigned long long)f->c.acked, f->c.errors);
	if (loop_timeout(l, op, SAMPLE_NS, on_sample))
		loop_stop(l, -EIO);
}

int fleet_sampler_start(struct fleet *f)
{
	f->sample_op.data = f;
	return loop_timeout(&f->loop, &f->sample_op, SAMPLE_NS, on_sample);
}

int fleet_tick_start(struct fleet *f)
{
	f->tick.data = f;
	return loop_timeout(&f->loop, &f->tick, TICK_NS, on_tick);
}
