// SPDX-License-Identifier: GPL-2.0-only
/*
 * The run's phases: keys made beforehand, hosts started --concurrency at
 * a time, the window that starts once every host had its chance, and
 * the end, with every connection closed and every op back.
 */
#include <errno.h>
#include <stdio.h>

#include "fleet.h"
#include "pki.h"

#define SEC 1000000000ull

int fleet_keys(struct fleet *f)
{
	char cn[32];
	int ret;

	for (unsigned i = 0; i < f->o.hosts; i++) {
		struct fleet_host *h = &f->hosts[i];

		snprintf(cn, sizeof(cn), "fleet-%05u", i);
		ret = pki_key_new(&h->key);
		if (ret == 0)
			ret = pki_csr_new(h->key, cn, &h->csr, &h->csr_len);
		if (ret)
			return ret;
		if (i && i % 1000 == 0)
			fleet_progress("keys: %u of %u", i, f->o.hosts);
	}
	return 0;
}

int fleet_run_phase(struct fleet *f, int phase, struct fleet_phase *ph)
{
	f->phase = phase;
	f->next = f->finished = f->inflight = 0;
	fleet_phase_begin(f, ph);
	fleet_pump(f);
	return loop_run(&f->loop);
}

void fleet_pump(struct fleet *f)
{
	if (f->phase > 2)
		return;
	while (f->inflight < f->o.concurrency && f->next < f->o.hosts) {
		struct fleet_host *h = &f->hosts[f->next++];

		if (f->phase == 1)
			fleet_host_enroll(h);
		else if (h->state == H_ENROLLED)
			fleet_host_connect(h);
		else
			f->finished++; /* it never enrolled */
	}
	if (f->finished < f->o.hosts || f->inflight)
		return;
	if (f->phase == 1) {
		loop_stop(&f->loop, 0);
	} else if (!f->steady) {
		/* every host had its chance: the measured window starts */
		f->steady = true;
		f->steady_ns = fleet_now_ns();
		f->end_ns = f->steady_ns + (uint64_t)(f->o.duration * SEC);
		fleet_phase_end(f);
		fleet_phase_begin(f, &f->run);
		/* --push: the window lasts as long as the pushes (sched.c) */
		if (f->o.push_file) {
			f->end_ns = UINT64_MAX;
			if (fleet_push_start(f))
				loop_stop(&f->loop, -EAGAIN);
		}
	}
}

/* Every session closed, every op back: nothing is left for ASan. */
void fleet_teardown(struct fleet *f, struct loop_op *sig)
{
	f->phase = 3;
	fleet_phase_end(f);
	loop_cancel(&f->loop, &f->tick);
	loop_cancel(&f->loop, &f->sample_op);
	loop_cancel(&f->loop, sig);
	for (unsigned i = 0; f->hosts && i < f->o.hosts; i++) {
		struct fleet_host *h = &f->hosts[i];

		if (h->tls)
			tls_conn_close(h->tls);
		h->tls = NULL;
		loop_cancel(&f->loop, &h->connect_op);
	}
	loop_run(&f->loop);
}

bool fleet_complete(const struct fleet *f)
{
	return f->c.enrolled == f->o.hosts && f->c.connected == f->o.hosts &&
	       f->c.live == f->o.hosts && f->c.acked == f->c.sent &&
	       !f->c.lost && !f->c.late && !f->c.errors && !f->c.reconnects &&
	       /* pushes may be over before a heartbeat is due */
	       (f->lat.n > 0 || f->o.push_file);
}
