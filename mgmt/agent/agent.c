// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "file.h"
#include "fleet.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"

/*
 * One moatd per instance: two would fight over the same pins.  The lock
 * lives in the state directory and dies with the process.
 */
static int take_lock(struct agent *a)
{
	char path[PATH_MAX], pid[32];
	int fd, ret, n;

	ret = file_mkdir_p(a->cfg.state_dir, 0700);
	if (ret < 0) {
		log_err("cannot create the state directory %s: %s",
			a->cfg.state_dir, strerror(-ret));
		return ret;
	}
	if (snprintf(path, sizeof(path), "%s/moatd.lock", a->cfg.state_dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		log_err("cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -errno;
		n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (ret == -EWOULDBLOCK)
			log_err("another moatd (pid %s) runs instance '%s': %s is locked",
				pid[0] ? pid : "?", a->cfg.instance, path);
		else
			log_err("cannot lock %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("cannot write the pid into %s", path);
	a->lock_fd = fd;
	return 0;
}

int agent_attach_all(struct agent *a)
{
	int failed = 0, ret;

	for (int i = 0; i < a->cfg.nifaces; i++) {
		/* an interface that carries our program already is adopted */
		ret = moat_dp_attach(a->dp, a->cfg.ifaces[i], a->cfg.xdp_mode);
		if (ret < 0) {
			log_err("cannot attach to %s (xdp-mode %s): %s",
				a->cfg.ifaces[i],
				config_xdp_mode_name(a->cfg.xdp_mode),
				strerror(-ret));
			failed++;
		} else {
			log_debug("attached to %s", a->cfg.ifaces[i]);
		}
	}
	return failed;
}

int agent_detach(struct agent *a, const char *iface, char *msg, size_t msgsz)
{
	int ret = moat_dp_detach(a->dp, iface);

	if (ret == -ENOENT)
		snprintf(msg, msgsz, "moat is not attached to %s", iface);
	else if (ret == -ENODEV)
		snprintf(msg, msgsz, "no interface %s in moatd's network namespace",
			 iface);
	else if (ret == -EBUSY)
		snprintf(
			msg, msgsz,
			"%s carries another moat instance's program, not '%s''s",
			iface, a->cfg.instance);
	else if (ret < 0)
		snprintf(msg, msgsz, "cannot detach from %s: %s", iface,
			 strerror(-ret));
	if (ret < 0)
		return ret;
	log_info("detached from %s on request", iface);
	for (int i = 0; i < a->cfg.nifaces; i++) {
		if (!strcmp(a->cfg.ifaces[i], iface))
			log_warn(
				"%s is still in %s: a reload or restart attaches it again",
				iface, a->cfg.path);
	}
	return 0;
}

int agent_status(struct agent *a, struct ctl_status *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->moatd.running = true;
	s->moatd.pid = (uint32_t)getpid();
	s->moatd.uptime_ns = mono_ns() - a->started_ns;
	snprintf(s->moatd.version, sizeof(s->moatd.version), "%s",
		 MOAT_VERSION);
	snprintf(s->moatd.config, sizeof(s->moatd.config), "%s", a->cfg.path);
	snprintf(s->moatd.ruleset, sizeof(s->moatd.ruleset), "%s",
		 a->cfg.ruleset);
	snprintf(s->moatd.socket, sizeof(s->moatd.socket), "%s", a->cfg.socket);
	snprintf(s->instance, sizeof(s->instance), "%s", a->cfg.instance);
	snprintf(s->pin_root, sizeof(s->pin_root), "%s",
		 moat_dp_pin_root(a->dp));
	s->features = a->features;
	fleet_status(a->fleet, &s->cp);
	ret = moat_dp_status(a->dp, &s->dp);
	if (ret < 0)
		return ret;
	/*
	 * The data plane lists the interfaces it is attached to; a
	 * configured one that failed to attach belongs in the list too.
	 */
	for (int i = 0; i < a->cfg.nifaces; i++) {
		struct moat_dp_iface *v;
		int k;

		for (k = 0; k < s->dp.nifaces; k++) {
			if (!strcmp(s->dp.ifaces[k].name, a->cfg.ifaces[i]))
				break;
		}
		if (k < s->dp.nifaces)
			continue;
		v = realloc(s->dp.ifaces,
			    (size_t)(s->dp.nifaces + 1) * sizeof(*v));
		if (!v)
			break;
		s->dp.ifaces = v;
		v += s->dp.nifaces++;
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", a->cfg.ifaces[i]);
		v->ifindex = if_nametoindex(a->cfg.ifaces[i]);
	}
	return 0;
}

static void reply_outcome(const struct agent_outcome *o, struct wire_writer *w)
{
	if (o->ret < 0)
		ctl_reply_error(w, o->msg, &o->d, o->file);
	else
		ctl_reply_applied(w, &o->st, &o->d, o->file);
}

/*
 * A failed apply or reload: everything it said, in the log, and what it
 * means for enforcement, in the log and in @o's message for the reply.
 */
static void log_failure(struct agent_outcome *o, const char *what)
{
	size_t n = strlen(o->msg);

	snprintf(o->msg + n, sizeof(o->msg) - n,
		 "; the running generation stays");
	agent_log_diags(&o->d, o->file[0] ? o->file : NULL);
	log_err("%s: %s", what, o->msg);
}

/* A host in a fleet whose control plane declared its ruleset. */
static bool managed(const struct agent *a)
{
	return a->fleet && desired_managed(&a->desired);
}

static void refuse_local(const struct agent *a, char *msg, size_t size)
{
	const struct desired_state *d = &a->desired;

	snprintf(msg, size,
		 "this host is managed: the control plane declared ruleset %s v%llu (generation %llu), and its next push would undo a local apply; 'moatctl ruleset apply --force FILE' applies it anyway and reports the host as drifted",
		 d->name, (unsigned long long)d->version,
		 (unsigned long long)d->generation);
	log_warn("apply from moatctl refused: the host is managed (generation %llu); --force overrides",
		 (unsigned long long)d->generation);
}

/* A local change over the declared ruleset: recorded, and said at once. */
static void drifted(struct agent *a, const char *what)
{
	int ret = desired_note_drift(&a->desired, a->cfg.state_dir);

	log_warn("%s replaced the control plane's ruleset (generation %llu): the host is drifted until the next push",
		 what, (unsigned long long)a->desired.generation);
	if (ret < 0)
		log_warn("cannot record the drift in %s/" DESIRED_FILE ": %s",
			 a->cfg.state_dir, strerror(-ret));
	fleet_report_drift(a->fleet);
}

/* The control socket's requests, decoded and validated by control.c. */
static void handle(void *ctx, const struct ctl_request *r,
		   struct wire_writer *w)
{
	struct agent_outcome o = { 0 };
	struct agent *a = ctx;
	struct ctl_status s;
	char msg[512];
	int ret;

	switch (r->type) {
	case CTL_APPLY:
		if (managed(a) && !r->force) {
			refuse_local(a, msg, sizeof(msg));
			ctl_reply_error(w, msg, NULL, NULL);
			break;
		}
		if ((r->analyzed ? agent_apply_analyzed :
				   agent_apply_text)(a, r->text, r->text_len,
						     r->name, &o) < 0)
			log_failure(&o, "apply from moatctl");
		else if (managed(a))
			drifted(a, "moatctl ruleset apply --force");
		reply_outcome(&o, w);
		break;
	case CTL_RELOAD:
		log_info("reload requested by moatctl");
		if (agent_reload(a, &o) < 0)
			log_failure(&o, "reload");
		else if (managed(a))
			drifted(a, "a reload of the configured ruleset");
		reply_outcome(&o, w);
		break;
	case CTL_DETACH:
		ret = agent_detach(a, r->iface, msg, sizeof(msg));
		if (ret < 0)
			ctl_reply_error(w, msg, NULL, NULL);
		else
			ctl_reply_detached(w, r->iface);
		break;
	case CTL_STATUS:
		ret = agent_status(a, &s);
		if (ret < 0) {
			snprintf(msg, sizeof(msg), "cannot read the status: %s",
				 strerror(-ret));
			ctl_reply_error(w, msg, NULL, NULL);
		} else {
			ctl_reply_status(w, &s);
		}
		moat_dp_status_free(&s.dp);
		break;
	}
	agent_outcome_free(&o);
}

/*
 * Table pressure is never silent: every CT_WATCH_NS, moatd logs flows the
 * table certainly evicted (made, less flushed, beyond its size: a count
 * that needs no walk of the table) and inserts the kernel refused.
 */
#define CT_WATCH_NS (5ull * 1000000000ull)

/* Flows made, less flushed, beyond what the table holds went by eviction. */
static uint64_t ct_evicted_at_least(const uint64_t st[MOAT_CTC_MAX], uint64_t max)
{
	uint64_t made = st[MOAT_CTC_CREATED], flushed = st[MOAT_CTC_FLUSHED];

	return made > flushed + max ? made - flushed - max : 0;
}

static void on_ct_watch(struct loop *l, struct loop_op *op, int res)
{
	struct agent *a = op->data;
	uint64_t st[MOAT_CTC_MAX], max = moat_dp_ct_max(a->dp), evicted;

	if (res == -ECANCELED)
		return;
	if (!moat_dp_ct_counters(a->dp, st)) {
		evicted = ct_evicted_at_least(st, max);
		if (evicted > a->ct_evicted)
			log_warn("conntrack table full: at least %llu flows evicted so far (%llu since the last warning), table of %llu; raise conntrack-max",
				 (unsigned long long)evicted,
				 (unsigned long long)(evicted - a->ct_evicted),
				 (unsigned long long)max);
		if (st[MOAT_CTC_INSERT_FAILED] > a->ct_failed)
			log_warn("conntrack: the kernel refused %llu new flows (%llu so far): they are not tracked",
				 (unsigned long long)(st[MOAT_CTC_INSERT_FAILED] - a->ct_failed),
				 (unsigned long long)st[MOAT_CTC_INSERT_FAILED]);
		a->ct_evicted = evicted > a->ct_evicted ? evicted : a->ct_evicted;
		a->ct_failed = st[MOAT_CTC_INSERT_FAILED];
	}
	if (loop_timeout(l, op, CT_WATCH_NS, on_ct_watch) < 0)
		log_err("conntrack watch: cannot arm its timer; pressure is only in 'moatctl status' now");
}

static void on_signal(struct loop *l, struct loop_op *op, int signo)
{
	struct agent_outcome o = { 0 };
	struct agent *a = op->data;

	if (signo < 0) {
		if (signo != -ECANCELED) /* cancelled: we are stopping */
			log_err("signals: %s", strerror(-signo));
		return;
	}
	if (signo == SIGHUP) {
		log_info("SIGHUP: reloading %s", a->cfg.path);
		notify("RELOADING=1");
		if (agent_reload(a, &o) < 0)
			log_failure(&o, "reload");
		else if (managed(a))
			drifted(a, "a reload (SIGHUP) of the configured ruleset");
		notify("READY=1");
		agent_outcome_free(&o);
		return;
	}
	log_info("%s: exiting; enforcement stays in place", strsignal(signo));
	loop_stop(l, 0);
}

/*
 * Nothing pinned (the machine rebooted): a managed host comes back at its
 * last known good ruleset, whether or not the control plane answers.
 */
static int last_known_good(struct agent *a)
{
	struct agent_outcome o = { 0 };
	const struct desired_state *d = &a->desired;
	char path[PATH_MAX], *text = NULL;
	size_t len;
	int ret;

	if (snprintf(path, sizeof(path), "%s/last-good.rules",
		     a->cfg.state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = file_read(path, CTL_TEXT_MAX, &text, &len);
	if (ret < 0) {
		log_err("desired generation %llu is on record but %s cannot be read: %s",
			(unsigned long long)d->generation, path, strerror(-ret));
		return ret;
	}
	ret = agent_apply_mode(a, text, len, path, d->mode == PROTO_MODE_AUDIT,
			       &o);
	free(text);
	if (ret < 0) {
		agent_log_diags(&o.d, o.file[0] ? o.file : NULL);
		log_err("last known good: %s", o.msg);
	} else {
		log_info("managed host: back at its last known good ruleset, %s v%llu (desired generation %llu)",
			 d->name, (unsigned long long)d->version,
			 (unsigned long long)d->generation);
	}
	agent_outcome_free(&o);
	return ret;
}

/* Nothing pinned yet: the configured ruleset becomes generation 1. */
static int first_apply(struct agent *a)
{
	struct agent_outcome o = { 0 };
	int ret;

	if (desired_managed(&a->desired) && last_known_good(a) == 0)
		return 0;
	ret = agent_apply_file(a, a->cfg.ruleset, &o);
	if (ret < 0) {
		agent_log_diags(&o.d, o.file[0] ? o.file : NULL);
		log_err("%s; nothing is enforced", o.msg);
	}
	agent_outcome_free(&o);
	return ret;
}

static int open_dataplane(struct agent *a)
{
	struct moat_dp_opts o = {
		.bpffs = a->cfg.bpffs,
		.instance = a->cfg.instance,
		.capacity = a->cfg.capacity,
		.ct = a->cfg.ct,
		.log_rate = a->cfg.log_rate,
		.flow_cache = a->cfg.flow_cache,
	};
	const char *names[CONFIG_IFACES_MAX];
	int ret;

	ret = moat_dp_open(&o, &a->dp);
	if (ret >= 0)
		moat_dp_set_attach(a->dp, a->cfg.xdp_attach);
	if (ret < 0) {
		log_err("cannot open the data plane at %s/moat/%s: %s%s",
			a->cfg.bpffs, a->cfg.instance, strerror(-ret),
			ret == -E2BIG ? " (capacity times the CPUs is over 2^32 counters: lower 'capacity')" :
					"");
		return ret;
	}
	if (a->cfg.ct.enabled && moat_dp_ct_max(a->dp) != a->cfg.ct.max)
		log_warn("conntrack-max %u does not apply: the pinned table at %s/moat/%s holds %u flows (it keeps its size while anything is pinned; see docs/conntrack.md)",
			 a->cfg.ct.max, a->cfg.bpffs, a->cfg.instance,
			 moat_dp_ct_max(a->dp));
	for (int i = 0; i < a->cfg.nifaces; i++)
		names[i] = a->cfg.ifaces[i];
	ret = moat_dp_set_ifaces(a->dp, names, a->cfg.nifaces);
	if (ret < 0)
		log_err("cannot set the interfaces: %s", strerror(-ret));
	return ret;
}

/* What the control plane declared last, as this host applied it. */
static void load_desired(struct agent *a)
{
	char why[PATH_MAX + 128];
	int ret = desired_load(a->cfg.state_dir, &a->desired, why, sizeof(why));

	if (ret == -ENOENT)
		return;
	if (ret < 0) {
		log_err("not using the desired state on record: %s", why);
		return;
	}
	log_info("desired generation %llu on record%s%s%s", (unsigned long long)a->desired.generation,
		 a->desired.has_ruleset ? ": ruleset " : "",
		 a->desired.has_ruleset ? a->desired.name : "",
		 a->desired.drift ? " (drifted)" : "");
}

/* Adopt what is pinned, or apply the configured ruleset. */
static int adopt_or_apply(struct agent *a)
{
	struct moat_dp_status s;
	int ret;

	ret = moat_dp_status(a->dp, &s);
	if (ret < 0) {
		log_err("cannot read the pinned state: %s", strerror(-ret));
		return ret;
	}
	if (s.has_generation) {
		/* enforcement and counters continue: no re-apply */
		log_info("adopting generation %llu (%u rules) at %s",
			 (unsigned long long)s.info.generation, s.info.nrules,
			 moat_dp_pin_root(a->dp));
		agent_note_last_good(a);
		agent_compare_pinned(a, &s.info);
		moat_dp_status_free(&s);
		return 0;
	}
	moat_dp_status_free(&s);
	return first_apply(a);
}

int agent_start(struct agent *a, const struct agent_config *cfg)
{
	struct control_handler h = { .handle = handle, .ctx = a };
	const char *what = "";
	sigset_t set;
	int ret;

	a->cfg = *cfg;
	a->lock_fd = -1;
	a->started_ns = mono_ns();

	ret = take_lock(a);
	if (ret < 0)
		return ret;
	load_desired(a);
	ret = moat_dp_probe(&a->features);
	if (ret < 0)
		log_warn("cannot probe kernel features: %s", strerror(-ret));
	ret = open_dataplane(a);
	if (!ret)
		ret = adopt_or_apply(a);
	if (ret < 0)
		return ret;
	agent_attach_all(a);

	ret = loop_init(&a->loop, 64);
	if (ret < 0) {
		log_err("cannot set up io_uring: %s", strerror(-ret));
		return ret;
	}
	a->loop_ready = true;
	ret = control_open(&a->ctl, &a->loop, a->cfg.socket, 0, &h, &what);
	if (ret < 0) {
		log_err("cannot %s the control socket %s: %s", what,
			a->cfg.socket, strerror(-ret));
		return ret;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	a->sig_op.data = a;
	ret = loop_signals(&a->loop, &a->sig_op, &set, on_signal);
	if (ret < 0) {
		log_err("cannot set up signals: %s", strerror(-ret));
		return ret;
	}
	ret = fleet_start(&a->fleet, a);
	if (ret < 0) {
		log_err("cannot join the fleet at %s: %s", a->cfg.cp_host,
			strerror(-ret));
		return ret;
	}
	ret = metrics_start(&a->metrics, a);
	if (ret < 0) {
		log_err("cannot serve metrics on %s: %s",
			a->cfg.metrics_listen, strerror(-ret));
		return ret;
	}
	if (moat_dp_ct_max(a->dp)) {
		uint64_t st[MOAT_CTC_MAX];

		/* what an adopted table had before this moatd is not news */
		if (!moat_dp_ct_counters(a->dp, st)) {
			a->ct_failed = st[MOAT_CTC_INSERT_FAILED];
			a->ct_evicted = ct_evicted_at_least(st, moat_dp_ct_max(a->dp));
		}
		a->ct_op.data = a;
		ret = loop_timeout(&a->loop, &a->ct_op, CT_WATCH_NS, on_ct_watch);
		if (ret < 0) {
			log_err("cannot arm the conntrack watch: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int agent_run(struct agent *a)
{
	char status[160];
	int ret;

	log_info("ready: instance '%s', control socket %s", a->cfg.instance,
		 a->cfg.socket);
	snprintf(status, sizeof(status), "READY=1\nSTATUS=instance %s",
		 a->cfg.instance);
	notify(status);
	ret = loop_run(&a->loop);
	notify("STOPPING=1");
	if (ret < 0) {
		log_err("event loop: %s", strerror(-ret));
		return 1;
	}
	return ret;
}

void agent_stop(struct agent *a)
{
	if (a->ctl) {
		/* let the connections' ops finish before their memory goes */
		control_shutdown(a->ctl);
		loop_cancel(&a->loop, &a->sig_op);
		if (loop_op_busy(&a->ct_op))
			loop_cancel(&a->loop, &a->ct_op);
		fleet_shutdown(a->fleet);
		metrics_shutdown(a->metrics);
		loop_run(&a->loop);
		control_free(a->ctl);
		a->ctl = NULL;
	}
	fleet_free(a->fleet);
	a->fleet = NULL;
	metrics_free(a->metrics);
	a->metrics = NULL;
	if (a->loop_ready)
		loop_exit(&a->loop);
	a->loop_ready = false;
	/* closing the handle never detaches: enforcement stays */
	if (a->dp)
		moat_dp_close(a->dp);
	a->dp = NULL;
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	a->lock_fd = -1;
}
