// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parent's side of the metrics endpoint (metrics.h): bind the
 * socket as root, start the metrics process on it, render the text it
 * asks for from the pins, and start another when it dies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "fleet.h"
#include "log.h"
#include "metrics.h"
#include "pktq.h"
#include "privsep.h"

/*
 * Renders at most this often: the metrics process asks as scrapes come,
 * and one that misbehaved could otherwise keep the privileged process
 * walking the pins.  An ask that comes sooner is answered when the time
 * is up; Prometheus scrapes every few seconds, two of them at once share
 * one render.
 */
#define RENDER_EVERY_NS (500ull * 1000000u)

struct metrics {
	struct agent *a;
	struct privsep_user user;
	int listen_fd;
	pid_t pid;
	int fd;
	struct loop_op rx, timer, pace;
	uint64_t rendered_ns; /* CLOCK_MONOTONIC of the last render */
	struct pktq out;
	uint64_t started_ns, restart_ms;
	bool stopping;
	char buf[64];
};

static void spawn(struct metrics *m);

static int bind_listen(const struct agent_config *c)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t len;
	int fd, one = 1, ret;

	if (inet_pton(AF_INET, c->metrics_host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->metrics_port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, c->metrics_host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->metrics_port);
		len = sizeof(*s6);
	} else {
		return -EINVAL; /* the config parser let no such thing through */
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Everything one scrape shows, read now. */
static int render(struct metrics *m, struct prom_buf *b)
{
	struct metrics_snapshot s = { 0 };
	struct moat_dp_row *rows = NULL;
	struct moat_dp_status st;
	struct ctl_cp cp;
	int ret, n = 0;

	ret = moat_dp_status(m->a->dp, &st);
	if (ret < 0)
		return ret;
	ret = moat_dp_rows(m->a->dp, &rows, &n);
	if (ret < 0) {
		moat_dp_status_free(&st);
		return ret;
	}
	s.has_generation = st.has_generation;
	s.generation = st.info.generation;
	s.rules = st.info.nrules;
	s.policy_drop = st.info.policy_drop;
	s.audit = st.info.audit;
	s.rows = rows;
	s.nrows = n;
	s.capacity = st.capacity;
	s.slots_used = st.slots_used;
	s.ct_enabled = st.ct.enabled;
	s.ct_entries = st.ct.entries;
	s.ct_max = st.ct.max;
	s.ct_evicted = st.ct.evicted;
	s.ct_insert_failed = st.ct.stat[MOAT_CTC_INSERT_FAILED];
	fleet_status(m->a->fleet, &cp);
	s.cp_configured = cp.configured;
	s.cp_connected = !strcmp(cp.state, "connected");
	metrics_render(&s, b);
	moat_dp_status_free(&st);
	free(rows);
	return b->err;
}

/*
 * The text in packets: 'c' and a piece, ..., 'e' and the last piece; or
 * the one packet 'x' when it cannot be had (the scrape gets a 503).
 */
static void answer(struct metrics *m)
{
	struct prom_buf b = { 0 };
	char *pkt = malloc(METRICS_CHUNK + 1);
	size_t off = 0, n;
	int ret;

	ret = pkt ? render(m, &b) : -ENOMEM;
	if (ret < 0) {
		log_err("metrics: cannot read the data plane: %s",
			strerror(-ret));
		if (pktq_push(&m->out, "x", 1) < 0)
			kill(m->pid, SIGKILL);
		goto out;
	}
	do {
		n = b.len - off > METRICS_CHUNK ? METRICS_CHUNK : b.len - off;
		pkt[0] = off + n < b.len ? 'c' : 'e';
		memcpy(pkt + 1, b.p + off, n);
		if (pktq_push(&m->out, pkt, n + 1) < 0) {
			log_err("metrics: out of memory; ending the metrics process");
			kill(m->pid, SIGKILL);
			break;
		}
		off += n;
	} while (off < b.len);
out:
	free(pkt);
	prom_buf_free(&b);
}

static void on_pace(struct loop *l, struct loop_op *op, int res)
{
	struct metrics *m = op->data;

	(void)l;
	if (res == 0 && m->fd >= 0) {
		m->rendered_ns = mono_ns();
		answer(m);
	}
}

/* Answer now, or once RENDER_EVERY_NS has passed since the last render. */
static void on_ask(struct metrics *m)
{
	uint64_t now = mono_ns();

	if (loop_op_busy(&m->pace))
		return; /* answered when it fires: one ask, one answer */
	if (!m->rendered_ns || now - m->rendered_ns >= RENDER_EVERY_NS) {
		m->rendered_ns = now;
		answer(m);
		return;
	}
	if (loop_timeout(&m->a->loop, &m->pace,
			 m->rendered_ns + RENDER_EVERY_NS - now, on_pace) < 0)
		log_err("metrics: cannot arm a timer; this scrape goes unanswered");
}

static void on_restart(struct loop *l, struct loop_op *op, int res)
{
	(void)l;
	if (res == 0)
		spawn(op->data);
}

static void schedule_restart(struct metrics *m, int status)
{
	char why[96];

	privsep_exit_reason(status, why, sizeof(why));
	privsep_restart_ms(&m->restart_ms, mono_ns() - m->started_ns);
	log_err("the metrics process (pid %d) %s; restarting it in %u s",
		(int)m->pid, why, (unsigned)(m->restart_ms / 1000));
	m->pid = -1;
	loop_timeout(&m->a->loop, &m->timer, m->restart_ms * 1000000ull,
		     on_restart);
}

static void on_rx(struct loop *l, struct loop_op *op, int res)
{
	struct metrics *m = op->data;
	int status = 0;

	if (res > 0 && ((size_t)res != sizeof(METRICS_ASK) - 1 ||
			memcmp(m->buf, METRICS_ASK, (size_t)res))) {
		log_err("bad packet from the metrics process; ending it");
		kill(m->pid, SIGKILL);
		res = 0;
	} else if (res > 0) {
		on_ask(m);
		if (loop_recv(l, op, m->fd, m->buf, sizeof(m->buf), on_rx) == 0)
			return;
		kill(m->pid, SIGKILL);
	}
	/* end of stream or an error: the child is gone, or going */
	close(m->fd);
	m->fd = -1;
	m->out.fd = -1;
	pktq_clear(&m->out);
	if (m->pid > 0)
		waitpid(m->pid, &status, 0);
	if (m->stopping) {
		m->pid = -1;
		return;
	}
	schedule_restart(m, status);
}

static void spawn(struct metrics *m)
{
	pid_t pid;

	if (m->stopping)
		return;
	pid = privsep_spawn(&m->user, PRIVSEP_METRICS, m->listen_fd,
			    m->a->debug, &m->fd);
	if (pid < 0) {
		log_err("cannot start the metrics process: %s", strerror(-pid));
		m->pid = -1;
		schedule_restart(m, 0);
		return;
	}
	m->pid = pid;
	m->out.fd = m->fd;
	m->started_ns = mono_ns();
	log_debug("metrics process started, pid %d", (int)pid);
	loop_recv(&m->a->loop, &m->rx, m->fd, m->buf, sizeof(m->buf), on_rx);
}

int metrics_start(struct metrics **out, struct agent *a)
{
	struct metrics *m;
	int ret;

	*out = NULL;
	if (!a->cfg.metrics_port)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->a = a;
	m->fd = -1;
	m->pid = -1;
	m->rx.data = m->timer.data = m->pace.data = m;
	pktq_init(&m->out, &a->loop, -1, NULL, m);
	ret = privsep_user(a->cfg.user, &m->user);
	if (ret < 0) {
		free(m);
		return ret;
	}
	m->listen_fd = bind_listen(&a->cfg);
	if (m->listen_fd < 0) {
		ret = m->listen_fd;
		log_err("metrics-listen: cannot listen on %s: %s",
			a->cfg.metrics_listen, strerror(-ret));
		free(m);
		return ret;
	}
	log_info("metrics on http://%s/metrics", a->cfg.metrics_listen);
	*out = m;
	spawn(m);
	return 0;
}

void metrics_shutdown(struct metrics *m)
{
	if (!m)
		return;
	m->stopping = true;
	if (m->pid > 0)
		kill(m->pid, SIGTERM);
	loop_cancel(&m->a->loop, &m->timer);
	loop_cancel(&m->a->loop, &m->pace);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->pid > 0) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
	}
	if (m->fd >= 0)
		close(m->fd);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	pktq_clear(&m->out);
	free(m);
}
