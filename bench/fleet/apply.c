// SPDX-License-Identifier: GPL-2.0-only
/*
 * A host's desired state: what the simulated host does with it before it
 * answers `applied`, and when the desired arrived and the answer left.
 *
 * moatd checks the text's SHA-256 and parses it in its session process,
 * then parses it again, compiles and loads it in the privileged one.  A
 * simulated host has no kernel to load into; --apply says how much of
 * the rest it pays for: nothing (ack), the check and one parse (parse),
 * or those and the compile against no particular host, as `moatctl
 * ruleset check` compiles (compile).  All the hosts share this one
 * thread, so with parse or compile the time is the simulator's CPU too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "desired.h"
#include "fleet.h"
#include "ruleset.h"

const char *const fleet_apply_names[3] = { "ack", "parse", "compile" };

/* The text as moatd would take it, short of loading it: 0, or -errno
 * with the reason in @err. */
static int prepare(const struct fleet *f, const struct proto_desired_ruleset *r,
		   char *err, size_t errsz)
{
	char sha[PROTO_HASH_LEN + 1] = "", label[96], what[128];
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	struct moat_image img;
	int ret;

	if (f->o.apply == FLEET_APPLY_ACK)
		return 0;
	desired_label(label, sizeof(label), r->name, r->version);
	if (desired_sha256(r->text, r->text_len, sha) < 0 ||
	    strcmp(sha, r->sha256)) {
		snprintf(
			err, errsz,
			"%s: the text's SHA-256 is %s, not the %s the control plane sent",
			label, sha, r->sha256);
		return -EBADMSG;
	}
	ret = moat_ruleset_parse(r->text, r->text_len, &rs, &d);
	if (ret == 0 && f->o.apply == FLEET_APPLY_COMPILE) {
		/* an audit rollout compiles as moatd would apply it */
		rs.audit = rs.audit || r->mode == PROTO_MODE_AUDIT;
		ret = moat_compile(&rs, NULL, &img, &d);
		if (ret == 0)
			moat_image_free(&img);
	}
	if (ret < 0) {
		snprintf(what, sizeof(what), "%s does not %s", label,
			 f->o.apply == FLEET_APPLY_COMPILE ? "compile" :
							     "parse");
		desired_error_text(err, errsz, what, &d, label);
	}
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
	return ret;
}

/* A slot for what this host does with this desired state; -1 if none. */
static long record(struct fleet *f, unsigned host)
{
	if (f->napplied == f->applied_cap) {
		size_t cap = f->applied_cap ? 2 * f->applied_cap : 4096;
		struct fleet_applied *p = realloc(f->applied, cap * sizeof(*p));

		if (!p)
			return -1;
		f->applied = p;
		f->applied_cap = cap;
	}
	f->applied[f->napplied] = (struct fleet_applied){ .host = host };
	return (long)f->napplied++;
}

void fleet_host_desired(struct fleet_host *h, const struct proto_desired *m)
{
	struct fleet *f = h->f;
	struct proto_applied a = { .generation = m->generation, .ok = true };
	struct wire_err e = { { 0 } };
	const char *frame;
	long at;
	size_t len;
	int ret = 0;

	/* the run is over: not worth a compile, nor counted */
	if (f->phase > 2)
		return;
	at = record(f, h->idx);
	if (at < 0) {
		fleet_error(f, "host %u: out of memory for its results",
			    h->idx);
		return;
	}
	f->applied[at].desired_ns = fleet_now_ns();
	if (m->has_ruleset) {
		f->applied[at].version = m->ruleset.version;
		ret = prepare(f, &m->ruleset, a.error, sizeof(a.error));
	}
	if (ret) {
		/* the previous ruleset stays in force, and its hash says so */
		a.ok = false;
		fleet_error(f, "host %u %s: desired generation %" PRIu64 ": %s",
			    h->idx, h->host_id, m->generation, a.error);
	} else {
		h->applied_gen = m->generation;
		/* none: the host keeps what it has, unmanaged */
		if (m->has_ruleset)
			snprintf(h->applied_hash, sizeof(h->applied_hash), "%s",
				 m->ruleset.sha256);
	}
	snprintf(a.ruleset_hash, sizeof(a.ruleset_hash), "%s", h->applied_hash);
	ret = proto_encode_applied(&f->w, &a, &frame, &len, &e);
	fleet_host_send(h, "applied", ret, frame, len, &e);
	f->applied[at].applied_ns = fleet_now_ns();
	f->applied[at].ok = a.ok && h->tls;
	if (f->applied[at].ok)
		atomic_fetch_add(&f->napplied_ok, 1);
}

void fleet_applied_free(struct fleet *f)
{
	free(f->applied);
	f->applied = NULL;
	f->napplied = f->applied_cap = 0;
}
