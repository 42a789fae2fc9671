// SPDX-License-Identifier: GPL-2.0-only
/* The privileged side of joining a fleet: fleet.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "file.h"
#include "fleet-int.h"
#include "hostinfo.h"
#include "identity.h"
#include "log.h"
#include "pktq.h"
#include "privsep-msg.h"
#include "privsep.h"

static void spawn(struct fleet *f);

void fleet_send_child(struct fleet *f, const char *frame, size_t len)
{
	/* a failed send means the child is gone: the receive says so */
	if (f->fd >= 0 && pktq_push(&f->out, frame, len) < 0)
		log_err("out of memory: a packet for the session process is lost");
}

/* The heartbeat's facts: only this process can read them. */
static void status_reply(struct fleet *f)
{
	struct proto_heartbeat hb = { 0 };
	struct proto_dataplane *d = &hb.dataplane;
	struct agent *a = f->a;
	struct moat_dp_ct_status ct = { 0 };
	struct moat_dp_status st;
	struct proto_iface ifs[CONFIG_IFACES_MAX];
	const char *frame;
	size_t len;
	int ret;

	hostinfo_refresh(&f->hi);
	snprintf(hb.agent_version, sizeof(hb.agent_version), "%s",
		 MOAT_VERSION);
	snprintf(hb.kernel, sizeof(hb.kernel), "%s", f->hi.kernel);
	hb.uptime = f->hi.uptime_s;
	memcpy(hb.load, f->hi.load, sizeof(hb.load));
	hb.mem_total = f->hi.mem_total;
	hb.mem_available = f->hi.mem_available;
	snprintf(d->instance, sizeof(d->instance), "%s", a->cfg.instance);
	d->ifaces = ifs;
	ret = moat_dp_status(a->dp, &st);
	if (ret < 0) {
		d->state = PROTO_DP_ERROR;
	} else {
		d->state =
			st.has_generation ? PROTO_DP_ENFORCING : PROTO_DP_NONE;
		d->generation = st.has_generation ? st.info.generation : 0;
		if (st.has_generation)
			snprintf(d->ruleset_hash, sizeof(d->ruleset_hash), "%s",
				 a->ruleset_sha);
		for (int i = 0;
		     i < st.nifaces && d->nifaces < CONFIG_IFACES_MAX; i++) {
			if (!st.ifaces[i].attached)
				continue;
			snprintf(ifs[d->nifaces].name, sizeof(ifs[0].name),
				 "%s", st.ifaces[i].name);
			snprintf(ifs[d->nifaces].mode, sizeof(ifs[0].mode),
				 "%s",
				 st.ifaces[i].generic ? "generic" : "native");
			d->nifaces++;
		}
		moat_dp_status_free(&st);
	}
	if (moat_dp_ct_max(a->dp) && moat_dp_ct_status(a->dp, &ct) == 0) {
		d->ct_entries = ct.entries;
		d->ct_max = ct.max;
	}
	ret = psmsg_encode_status(&f->w, &hb, &frame, &len);
	if (ret < 0)
		log_err("cannot encode the status for the session process: %s",
			strerror(-ret));
	else
		fleet_send_child(f, frame, len);
}

static void save_identity(struct fleet *f, const struct psmsg_identity *id)
{
	char why[256];
	int ret = identity_save(f->a->cfg.state_dir, id, why, sizeof(why));

	if (ret < 0) {
		log_err("not saving the identity the session process sent: %s",
			why);
		return;
	}
	log_info("saved the host identity in %s/" IDENTITY_FILE,
		 f->a->cfg.state_dir);
	psmsg_identity_free(&f->id);
	if (psmsg_identity_copy(&f->id, id) < 0)
		log_warn(
			"out of memory keeping the identity; a restarted session process reads it again only when moatd restarts");
	/* enrolled: the token is used, and not kept */
	explicit_bzero(f->token, sizeof(f->token));
}

static void on_state(struct fleet *f, const struct psmsg_state_msg *st)
{
	if (st->state != f->st.state)
		log_debug("control plane session: %s",
			  psmsg_state_name(st->state));
	f->st = *st;
}

static void on_restart(struct loop *l, struct loop_op *op, int res)
{
	(void)l;
	if (res == 0)
		spawn(op->data);
}

static void schedule_restart(struct fleet *f, int status)
{
	char why[96];

	privsep_exit_reason(status, why, sizeof(why));
	privsep_restart_ms(&f->restart_ms, mono_ns() - f->started_ns);
	log_err("the session process (pid %d) %s; restarting it in %u s",
		(int)f->pid, why, (unsigned)(f->restart_ms / 1000));
	snprintf(f->st.last_error, sizeof(f->st.last_error),
		 "session process %s", why);
	f->pid = -1;
	loop_timeout(&f->a->loop, &f->timer, f->restart_ms * 1000000ull,
		     on_restart);
}

static void on_rx(struct loop *l, struct loop_op *op, int res)
{
	struct fleet *f = op->data;
	struct wire_err e;
	struct psmsg m;
	int status = 0;

	if (res > 0 && psmsg_decode(f->buf, (size_t)res, &m, &e) < 0) {
		log_err("bad packet from the session process: %s; ending it",
			e.msg);
		psmsg_free(&m);
		kill(f->pid, SIGKILL);
		res = 0;
	} else if (res > 0) {
		if (m.type == PSMSG_STATUS_REQUEST)
			status_reply(f);
		else if (m.type == PSMSG_IDENTITY)
			save_identity(f, &m.identity);
		else if (m.type == PSMSG_STATE)
			on_state(f, &m.state);
		else if (m.type == PSMSG_DESIRED)
			fleet_on_desired(f, &m.proto.desired);
		else if (m.type == PSMSG_COUNTERS_REQUEST)
			fleet_on_counters_request(f);
		else if (m.type == PSMSG_APPLIED)
			fleet_on_refused(f, &m.proto.applied);
		else
			log_warn("unexpected packet from the session process");
		psmsg_free(&m);
		if (loop_recv(l, op, f->fd, f->buf, sizeof(f->buf), on_rx) == 0)
			return;
		kill(f->pid, SIGKILL);
	}
	/* end of stream or an error: the child is gone, or going */
	close(f->fd);
	f->fd = -1;
	f->out.fd = -1;
	pktq_clear(&f->out);
	if (f->pid > 0)
		waitpid(f->pid, &status, 0);
	if (f->stopping) {
		f->pid = -1;
		return;
	}
	schedule_restart(f, status);
}

static void start_msg(struct fleet *f)
{
	struct psmsg_start *m = calloc(1, sizeof(*m));
	const char *frame;
	size_t len;
	int ret;

	if (!m)
		return;
	snprintf(m->host, sizeof(m->host), "%s", f->a->cfg.cp_host);
	m->port = f->a->cfg.cp_port;
	snprintf(m->pin, sizeof(m->pin), "%s", f->a->cfg.cp_pin);
	snprintf(m->token, sizeof(m->token), "%s", f->token);
	snprintf(m->hostname, sizeof(m->hostname), "%s", f->hi.hostname);
	snprintf(m->machine_id, sizeof(m->machine_id), "%s", f->hi.machine_id);
	snprintf(m->agent_version, sizeof(m->agent_version), "%s",
		 MOAT_VERSION);
	m->boot_time = f->hi.boot_time;
	m->applied_generation = f->a->desired.generation;
	m->counters_interval = f->a->cfg.counters_interval;
	m->id = f->id; /* borrowed for the encoding */
	ret = psmsg_encode_start(&f->w, m, &frame, &len);
	explicit_bzero(m->token, sizeof(m->token));
	free(m);
	if (ret < 0)
		log_err("cannot encode the start message: %s", strerror(-ret));
	else
		fleet_send_child(f, frame, len);
	/* the frame holds the token and the key; the queue has a copy */
	if (ret == 0)
		explicit_bzero((char *)frame, len);
}

static void spawn(struct fleet *f)
{
	pid_t pid;

	if (f->stopping)
		return;
	pid = privsep_spawn(&f->user, PRIVSEP_SESSION, -1, f->a->debug,
			    &f->fd);
	if (pid < 0) {
		log_err("cannot start the session process: %s", strerror(-pid));
		f->pid = -1;
		schedule_restart(f, 0);
		return;
	}
	f->pid = pid;
	f->out.fd = f->fd;
	f->started_ns = mono_ns();
	f->st.state = PSMSG_CONNECTING;
	log_debug("session process started, pid %d", (int)pid);
	start_msg(f);
	/* a drift the control plane may not have heard of: said again */
	if (f->a->desired.drift)
		fleet_report_drift(f);
	loop_recv(&f->a->loop, &f->rx, f->fd, f->buf, sizeof(f->buf), on_rx);
}

/* A token file holds the token and maybe a newline. */
static void read_token(struct fleet *f, const char *path)
{
	char *text = NULL;
	size_t len = 0, n;
	int ret = file_read(path, 4096, &text, &len);

	if (ret < 0) {
		log_err("cannot read the install token file %s: %s", path,
			strerror(-ret));
		return;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
		       text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	for (n = 0; n < len && text[n] > 0x20 && text[n] < 0x7f; n++)
		;
	if (n != len || !len || len > PROTO_TOKEN_MAX)
		log_err("%s does not hold an install token (one line of 1 to %d printable characters)",
			path, PROTO_TOKEN_MAX);
	else
		memcpy(f->token, text, len);
	explicit_bzero(text, len);
	free(text);
}

int fleet_start(struct fleet **out, struct agent *a)
{
	struct fleet *f;
	char why[256];
	int ret;

	*out = NULL;
	if (!a->cfg.cp_host[0])
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->a = a;
	f->fd = -1;
	f->pid = -1;
	f->rx.data = f->timer.data = f;
	pktq_init(&f->out, &a->loop, -1, NULL, f);
	wire_writer_init(&f->w);
	ret = privsep_user(a->cfg.user, &f->user);
	if (!ret)
		ret = hostinfo_read(&f->hi, a->cfg.instance);
	if (ret < 0) {
		free(f);
		return ret;
	}
	ret = identity_load(a->cfg.state_dir, &f->id, why, sizeof(why));
	if (ret < 0 && ret != -ENOENT)
		log_err("not using the saved identity: %s", why);
	if (a->cfg.token_file[0])
		read_token(f, a->cfg.token_file);
	if (!psmsg_identity_present(&f->id) && !f->token[0])
		log_err("joining %s needs an install token (install-token-file) for the first time",
			a->cfg.cp_host);
	*out = f;
	spawn(f);
	return 0;
}

void fleet_shutdown(struct fleet *f)
{
	if (!f)
		return;
	f->stopping = true;
	if (f->pid > 0)
		kill(f->pid, SIGTERM);
	loop_cancel(&f->a->loop, &f->timer);
	/* rx ends by itself when the child does; tx with it */
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	if (f->fd >= 0)
		close(f->fd);
	pktq_clear(&f->out);
	psmsg_identity_free(&f->id);
	explicit_bzero(f->token, sizeof(f->token));
	wire_writer_free(&f->w);
	free(f);
}

void fleet_status(const struct fleet *f, struct ctl_cp *cp)
{
	memset(cp, 0, sizeof(*cp));
	if (!f)
		return;
	cp->configured = true;
	snprintf(cp->address, sizeof(cp->address),
		 strchr(f->a->cfg.cp_host, ':') ? "[%s]:%u" : "%s:%u",
		 f->a->cfg.cp_host, f->a->cfg.cp_port);
	snprintf(cp->state, sizeof(cp->state), "%s",
		 f->pid > 0 ? psmsg_state_name(f->st.state) : "restarting");
	snprintf(cp->host_id, sizeof(cp->host_id), "%s", f->st.host_id);
	snprintf(cp->workspace, sizeof(cp->workspace), "%s",
		 f->st.workspace[0] ? f->st.workspace : f->st.workspace_id);
	cp->last_heartbeat = f->st.last_heartbeat;
	snprintf(cp->last_error, sizeof(cp->last_error), "%s",
		 f->st.last_error);
	fleet_desired_status(f, cp);
}
