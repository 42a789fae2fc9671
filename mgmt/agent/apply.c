// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every change moatd makes to the data plane goes through here, from
 * already-validated input: the control socket's decoded requests, the
 * config file, SIGHUP.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "agent.h"
#include "analyze.h"
#include "clock.h"
#include "file.h"
#include "log.h"
#include "wire.h"

#define LAST_GOOD "last-good.rules"

void agent_log_diags(const struct moat_diags *d, const char *file)
{
	size_t warnings = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct moat_diag *g = &d->v[i];
		enum log_level l = g->severity == MOAT_ERROR ?
					   LOG_LEVEL_ERROR :
					   LOG_LEVEL_WARNING;

		warnings += g->severity == MOAT_WARNING;
		if (file && g->line)
			log_msg(l, "%s:%u:%u: %s", file, g->line, g->col,
				g->msg);
		else if (file)
			log_msg(l, "%s: %s", file, g->msg);
		else
			log_msg(l, "%s", g->msg);
	}
	/* a ruleset of many shadowed rules must not flood the journal */
	if (d->nwarnings > warnings)
		log_warn("%s: %zu warnings, only the first %zu are logged",
			 file ? file : "ruleset", d->nwarnings, warnings);
}

/*
 * The last known good ruleset, for whoever restores this host; replaced
 * atomically and durably, so that a crash leaves the old or the new one.
 */
static int persist_last_good(struct agent *a, const char *text, size_t len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/" LAST_GOOD, a->cfg.state_dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return file_write_atomic(path, text, len, 0600, true);
}

void agent_outcome_free(struct agent_outcome *o)
{
	moat_diags_free(&o->d);
}

static int failed(struct agent_outcome *o, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failed(struct agent_outcome *o, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
	va_end(ap);
	o->ret = ret;
	return ret;
}

static int apply(struct agent *a, const char *text, size_t len,
		 const char *name, bool audit, bool analyze,
		 struct agent_outcome *o)
{
	struct moat_ruleset rs;
	uint64_t t0, parse_ns;
	int ret;

	memset(&rs, 0, sizeof(rs));
	snprintf(o->file, sizeof(o->file), "%s", name);
	t0 = mono_ns();
	ret = moat_ruleset_parse(text, len, &rs, &o->d);
	parse_ns = mono_ns() - t0;
	if (ret < 0)
		return failed(o, ret, "%s has errors", name);
	/* an audit rollout: what the text says, nothing dropped */
	if (audit)
		rs.audit = true;
	ret = moat_dp_apply(a->dp, &rs, &o->d, &o->st);
	/*
	 * Shadowed and redundant rules are warnings: the ruleset means what
	 * it says.  Looked for once it is in force, so that the search (a
	 * fifth of a second for a large ruleset) does not delay it, and a
	 * search that fails does not fail the apply.
	 */
	if (ret == 0 && analyze && moat_ruleset_analyze(&rs, &o->d) < 0)
		log_warn("%s: out of memory looking for shadowed rules", name);
	moat_ruleset_free(&rs);
	/*
	 * A large apply leaves hundreds of MiB freed in the heap; give them
	 * back, or moatd keeps the peak of its biggest ruleset resident.
	 */
	malloc_trim(0);
	/* E2BIG: a capacity, which the diags name; its strerror would not */
	if (ret < 0)
		return failed(o, ret, "cannot apply %s: %s", name,
			      ret == -E2BIG ? "over capacity" : strerror(-ret));

	/* the data plane gets a parsed ruleset: the parse is ours to time */
	if (!o->st.parse_ns) {
		o->st.parse_ns = parse_ns;
		o->st.total_ns += parse_ns;
		o->st.enforce_ns += parse_ns;
	}
	agent_log_diags(&o->d, name); /* warnings: it applied */
	log_info("applied %s%s: generation %llu, %u rules, %u terms, in %.1f ms",
		 name, audit ? " in audit mode" : "",
		 (unsigned long long)o->st.generation, o->st.nrules,
		 o->st.nterms, (double)o->st.total_ns / 1e6);

	agent_note_ruleset(a, text, len);
	ret = persist_last_good(a, text, len);
	if (ret < 0)
		log_warn("cannot save the applied ruleset as %s/" LAST_GOOD
			 ": %s",
			 a->cfg.state_dir, strerror(-ret));
	o->ret = 0;
	return 0;
}

int agent_apply_text(struct agent *a, const char *text, size_t len,
		     const char *name, struct agent_outcome *o)
{
	return apply(a, text, len, name, false, true, o);
}

int agent_apply_mode(struct agent *a, const char *text, size_t len,
		     const char *name, bool audit, struct agent_outcome *o)
{
	return apply(a, text, len, name, audit, true, o);
}

int agent_apply_analyzed(struct agent *a, const char *text, size_t len,
			 const char *name, struct agent_outcome *o)
{
	return apply(a, text, len, name, false, false, o);
}

int agent_apply_file(struct agent *a, const char *path, struct agent_outcome *o)
{
	char *text;
	size_t len;
	int ret = file_read(path, CTL_TEXT_MAX, &text, &len);

	if (ret < 0)
		return failed(o, ret, "cannot read %s: %s", path,
			      strerror(-ret));
	ret = agent_apply_text(a, text, len, path, o);
	free(text);
	return ret;
}

static bool has_iface(const struct agent_config *c, const char *name)
{
	for (int i = 0; i < c->nifaces; i++) {
		if (!strcmp(c->ifaces[i], name))
			return true;
	}
	return false;
}

static int set_ifaces(struct agent *a, const struct agent_config *c)
{
	const char *names[CONFIG_IFACES_MAX];

	for (int i = 0; i < c->nifaces; i++)
		names[i] = c->ifaces[i];
	return moat_dp_set_ifaces(a->dp, names, c->nifaces);
}

/* What a reload cannot change without a restart. */
static void warn_fixed(const struct agent_config *old,
		       const struct agent_config *nc)
{
	static const struct {
		const char *key;
		size_t off;
	} fixed[] = {
		{ "instance", offsetof(struct agent_config, instance) },
		{ "bpffs", offsetof(struct agent_config, bpffs) },
		{ "socket", offsetof(struct agent_config, socket) },
		{ "state-dir", offsetof(struct agent_config, state_dir) },
		{ "metrics-listen",
		  offsetof(struct agent_config, metrics_listen) },
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp((const char *)old + fixed[i].off,
			   (const char *)nc + fixed[i].off))
			log_warn(
				"reload: '%s' changed; it takes effect when moatd restarts",
				fixed[i].key);
	}
	if (old->capacity != nc->capacity)
		log_warn(
			"reload: 'capacity' changed; it takes effect when moatd restarts");
	if (old->flow_cache != nc->flow_cache)
		log_warn("reload: 'flow-cache' changed; it takes effect when moatd restarts");
	if (old->log_rate != nc->log_rate)
		log_warn("reload: 'log-rate' changed; it takes effect when moatd restarts");
	if (old->counters_interval != nc->counters_interval)
		log_warn("reload: 'counters-interval' changed; it takes effect when moatd restarts");
	if (memcmp(&old->ct, &nc->ct, sizeof(old->ct)))
		log_warn(
			"reload: conntrack settings changed; they take effect when moatd restarts");
}

int agent_reload(struct agent *a, struct agent_outcome *o)
{
	struct agent_config *nc;
	struct config_errors errs;
	int ret;

	nc = malloc(sizeof(*nc));
	if (!nc)
		return failed(o, -ENOMEM, "out of memory");
	ret = config_load(a->cfg.path, nc, &errs);
	if (ret < 0) {
		/* the messages name their file and line already */
		for (int i = 0; i < errs.n; i++)
			moat_diag_add(&o->d, MOAT_ERROR, 0, 0, "%s",
				      errs.msg[i]);
		failed(o, ret, "%s has errors", a->cfg.path);
		goto out;
	}
	warn_fixed(&a->cfg, nc);

	ret = set_ifaces(a, nc);
	moat_dp_set_attach(a->dp, nc->xdp_attach);
	if (ret < 0)
		failed(o, ret, "cannot set the interfaces: %s", strerror(-ret));
	else
		ret = agent_apply_file(a, nc->ruleset, o);
	if (ret < 0) {
		/* interfaces and attachment as they were, for the next apply */
		set_ifaces(a, &a->cfg);
		moat_dp_set_attach(a->dp, a->cfg.xdp_attach);
		goto out;
	}

	for (int i = 0; i < a->cfg.nifaces; i++) {
		if (!has_iface(nc, a->cfg.ifaces[i]))
			log_warn(
				"reload: %s is no longer configured but stays attached; 'moatctl detach %s' removes it",
				a->cfg.ifaces[i], a->cfg.ifaces[i]);
	}
	/* only what can change now; the rest waits for a restart */
	memcpy(a->cfg.ifaces, nc->ifaces, sizeof(nc->ifaces));
	a->cfg.nifaces = nc->nifaces;
	memcpy(a->cfg.ruleset, nc->ruleset, sizeof(nc->ruleset));
	a->cfg.xdp_mode = nc->xdp_mode;
	a->cfg.xdp_attach = nc->xdp_attach;
	a->cfg.log_level = nc->log_level;
	log_set_level(a->debug ? LOG_LEVEL_DEBUG :
				 (enum log_level)a->cfg.log_level);
	agent_attach_all(a);
	ret = 0;
out:
	free(nc);
	return ret;
}

static int sha256(const char *text, size_t len, uint8_t md[32])
{
	unsigned int n = 0;

	if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	return 0;
}

void agent_note_ruleset(struct agent *a, const char *text, size_t len)
{
	uint8_t md[32];

	a->ruleset_sha[0] = '\0';
	if (sha256(text, len, md) < 0)
		return;
	for (int i = 0; i < 32; i++)
		snprintf(a->ruleset_sha + 2 * i, 3, "%02x", md[i]);
}

void agent_note_last_good(struct agent *a)
{
	char path[PATH_MAX], *text;
	size_t len;

	if (snprintf(path, sizeof(path), "%s/" LAST_GOOD, a->cfg.state_dir) >=
	    (int)sizeof(path))
		return;
	/* what the moatd before this one applied last: the pinned text */
	if (file_read(path, CTL_TEXT_MAX, &text, &len) == 0) {
		agent_note_ruleset(a, text, len);
		free(text);
	}
}

void agent_compare_pinned(struct agent *a, const struct moat_gen_info *g)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	char *text = NULL, *canon = NULL;
	uint8_t md[32];
	size_t len;
	int ret;

	memset(&rs, 0, sizeof(rs));
	ret = file_read(a->cfg.ruleset, CTL_TEXT_MAX, &text, &len);
	if (ret < 0) {
		log_warn("cannot read %s: %s", a->cfg.ruleset, strerror(-ret));
		return;
	}
	ret = moat_ruleset_parse(text, len, &rs, &d);
	if (ret < 0) {
		log_warn("%s does not parse; generation %llu stays in force:",
			 a->cfg.ruleset, (unsigned long long)g->generation);
		agent_log_diags(&d, a->cfg.ruleset);
		goto out;
	}
	/* the generation's hash is over the canonical text */
	canon = moat_ruleset_format(&rs);
	if (!canon || sha256(canon, strlen(canon), md) < 0)
		goto out;
	if (memcmp(md, g->hash, sizeof(md)))
		log_info(
			"generation %llu is not %s as it reads now (moatctl applied another, or the file changed); 'systemctl reload moatd' applies the file",
			(unsigned long long)g->generation, a->cfg.ruleset);
	else if (!a->ruleset_sha[0])
		/* the file is what runs: its text is the heartbeat's */
		agent_note_ruleset(a, text, len);
out:
	free(canon);
	free(text);
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
}
