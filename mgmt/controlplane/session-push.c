// SPDX-License-Identifier: GPL-2.0-only
/*
 * Desired states go out under a budget of bytes.
 *
 * A push of a 600 KB ruleset to 1,000 hosts, written to every session at
 * once, is 600 MB of frames turned into ciphertext that each connection
 * keeps until its socket takes it (tls_conn_write() takes anything), and
 * a second of the loop spent encrypting while heartbeats wait.  The heap
 * then stayed at its peak, 1.5 GiB (docs/performance.md).
 *
 * So a push only queues the hosts.  A few at a time, each one's desired
 * state is read from the store, encoded in one writer shared by all (the
 * room of one frame) and written; its bytes count against the budget
 * until its connection says drained, and the next hosts go as earlier
 * ones drain.  A host gets its desired state as it is when its turn
 * comes, so pushes in quick succession coalesce.  Once nothing is queued
 * or on its way, the writer and the heap's freed pages are given back.
 */
#include <malloc.h>

#include "clock.h"
#include "log.h"
#include "session.h"

/* Frames written and not yet taken by their sockets: a bound on memory. */
#define PUSH_BUDGET (32u << 20)
/* Encoded in one turn of the loop before the other sessions get theirs. */
#define PUSH_TURN (4u << 20)

static void unqueue(struct cp_session *s)
{
	if (!s->push_queued)
		return;
	TAILQ_REMOVE(&s->cp->push_queue, s, push_link);
	s->push_queued = false;
}

/* Nothing queued, nothing on its way: keep none of the push's memory. */
static void settle(struct cp *cp)
{
	if (!TAILQ_EMPTY(&cp->push_queue) || cp->push_bytes || !cp->push_w.cap)
		return;
	wire_writer_free(&cp->push_w);
	/*
	 * The frames' ciphertext was freed connection by connection, in
	 * between buffers that live on; glibc keeps such holes resident
	 * unless asked.
	 */
	malloc_trim(0);
}

static void pump(struct loop *l, struct loop_op *op, int res);

/* The next turn, after whatever else the loop has to do. */
static void schedule(struct cp *cp)
{
	if (cp->stopping || loop_op_busy(&cp->push_op))
		return;
	cp->push_op.data = cp;
	if (loop_timeout(&cp->loop, &cp->push_op, 0, pump))
		log_err("cannot schedule the push of desired states: "
			"it goes on as sessions drain");
}

static void pump(struct loop *l, struct loop_op *op, int res)
{
	struct cp *cp = op->data;
	size_t turn = 0;

	(void)l;
	(void)res;
	while (!TAILQ_EMPTY(&cp->push_queue) && cp->push_bytes < PUSH_BUDGET &&
	       !cp->stopping) {
		struct cp_session *s = TAILQ_FIRST(&cp->push_queue);
		const char *frame;
		size_t len;

		if (turn >= PUSH_TURN) {
			schedule(cp);
			return;
		}
		unqueue(s);
		if (cp_session_desired_frame(s, &frame, &len) <= 0)
			continue;
		if (!s->push_sent)
			s->push_since = mono_ns() / 1000000000u;
		s->push_sent += len;
		cp->push_bytes += len;
		turn += len;
		cp_session_deadline_moved(s);
		/* on failure the session ends, and cp_push_forget() counts it off */
		cp_session_send(s, frame, len);
	}
	settle(cp);
}

void cp_push_queue(struct cp_session *s, bool always, uint64_t applied)
{
	struct cp *cp = s->cp;

	if (s->done)
		return;
	if (s->push_queued) {
		s->push_always |= always;
		return;
	}
	s->push_always = always;
	s->push_applied = applied;
	s->push_queued = true;
	TAILQ_INSERT_TAIL(&cp->push_queue, s, push_link);
	schedule(cp);
}

void cp_push_drained(struct cp_session *s)
{
	if (!s->push_sent)
		return;
	s->cp->push_bytes -= s->push_sent;
	s->push_sent = 0;
	schedule(s->cp);
}

void cp_push_forget(struct cp_session *s)
{
	unqueue(s);
	cp_push_drained(s);
}

void cp_push_stop(struct cp *cp)
{
	loop_cancel(&cp->loop, &cp->push_op);
	wire_writer_free(&cp->push_w);
}
