// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the control protocol's decoders (mgmt/common/ctl*.c):
 * moatd decodes requests from whoever can open its socket, moatctl
 * decodes whatever moatd answers.  The input is one frame's payload.
 *
 * Every decoder runs on every message that wire_parse() accepts: the
 * request decoder, the reply decoder for each request type, and the
 * status decoder.  Whatever one of them accepts, the matching encoder
 * must say again so that it decodes to the same thing: a key that the
 * encoder drops, or that the decoder reads into the wrong field, shows up
 * here on inputs nobody wrote a test for.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode with the writer, parse it back; aborts when it does not parse. */
static void reparse(struct wire_writer *w, struct wire_msg *m)
{
	struct wire_err e = { { 0 } };
	const char *frame;
	size_t len;

	if (wire_end(w, WIRE_MAX_FRAME_LOCAL, &frame, &len)) {
		fprintf(stderr, "the encoder cannot say what was decoded\n");
		abort();
	}
	if (wire_parse(m, frame + WIRE_HDR_LEN, len - WIRE_HDR_LEN, &e)) {
		fprintf(stderr, "encoded message does not parse: %s\n", e.msg);
		abort();
	}
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "decoded again, %s differs\n", what);
		abort();
	}
}

static void request(const struct wire_msg *m)
{
	static struct ctl_request r, again; /* PATH_MAX each */
	struct wire_err e = { { 0 } };
	struct wire_writer w;
	struct wire_msg m2;

	if (ctl_request_decode(m, &r, &e)) {
		check(e.msg[0], "a refused request's reason");
		return;
	}
	check(strlen(r.name) < sizeof(r.name) &&
		      strlen(r.iface) <= MOAT_IFNAME_MAX,
	      "a string's bound");

	wire_writer_init(&w);
	ctl_request_encode(&w, &r);
	reparse(&w, &m2);
	if (ctl_request_decode(&m2, &again, &e)) {
		fprintf(stderr, "encoded request does not decode: %s\n", e.msg);
		abort();
	}
	check(again.type == r.type, "type");
	check(again.text_len == r.text_len &&
		      (!r.text_len || !memcmp(again.text, r.text, r.text_len)),
	      "text");
	check(!strcmp(again.name, r.name), "name");
	check(again.force == r.force, "force");
	check(again.analyzed == r.analyzed, "analyzed");
	check(!strcmp(again.iface, r.iface), "iface");
	wire_msg_free(&m2);
	wire_writer_free(&w);
}

static void same_diags(const struct ctl_reply *a, const struct ctl_reply *b)
{
	check(!strcmp(a->file, b->file), "file");
	check(a->diags.n == b->diags.n && a->diags.nerrors == b->diags.nerrors,
	      "the number of diags");
	for (size_t i = 0; i < a->diags.n; i++) {
		const struct moat_diag *x = &a->diags.v[i], *y = &b->diags.v[i];

		check(x->severity == y->severity && x->line == y->line &&
			      x->col == y->col && !strcmp(x->msg, y->msg),
		      "a diag");
	}
}

static void reply(const struct wire_msg *m, enum ctl_type req)
{
	static struct ctl_reply r, again; /* PATH_MAX each */
	struct wire_err e = { { 0 } };
	struct wire_writer w;
	struct wire_msg m2;
	int ret;

	ret = ctl_reply_decode(m, req, &r, &e);
	if (ret) {
		check(ret == -ENOMEM || e.msg[0], "a refused reply's reason");
		ctl_reply_free(&r);
		return;
	}
	wire_writer_init(&w);
	if (!r.ok)
		ctl_reply_error(&w, r.msg, &r.diags, r.file);
	else if (r.has_stats)
		ctl_reply_applied(&w, &r.st, &r.diags, r.file);
	else
		goto out; /* detach and status: nothing kept to say again */
	reparse(&w, &m2);
	if (ctl_reply_decode(&m2, req, &again, &e)) {
		fprintf(stderr, "encoded reply does not decode: %s\n", e.msg);
		abort();
	}
	check(again.ok == r.ok && again.has_stats == r.has_stats, "kind");
	check(!strcmp(again.msg, r.msg), "msg");
	check(!memcmp(&again.st, &r.st, sizeof(r.st)), "stats");
	same_diags(&r, &again);
	ctl_reply_free(&again);
	wire_msg_free(&m2);
out:
	wire_writer_free(&w);
	ctl_reply_free(&r);
}

static void same_status(const struct ctl_status *a, const struct ctl_status *b)
{
	const struct moat_gen_info *x = &a->dp.info, *y = &b->dp.info;

	check(a->moatd.running == b->moatd.running &&
		      a->moatd.pid == b->moatd.pid &&
		      a->moatd.uptime_ns == b->moatd.uptime_ns &&
		      !strcmp(a->moatd.version, b->moatd.version) &&
		      !strcmp(a->moatd.config, b->moatd.config) &&
		      !strcmp(a->moatd.ruleset, b->moatd.ruleset) &&
		      !strcmp(a->moatd.socket, b->moatd.socket),
	      "moatd");
	check(!strcmp(a->instance, b->instance), "instance");
	check(!strcmp(a->pin_root, b->pin_root), "pin_root");
	check(a->dp.has_generation == b->dp.has_generation, "has_generation");
	if (a->dp.has_generation)
		check(x->generation == y->generation &&
			      x->applied_ns == y->applied_ns &&
			      !memcmp(x->hash, y->hash, sizeof(x->hash)) &&
			      x->nrules == y->nrules &&
			      x->nterms == y->nterms &&
			      x->policy_drop == y->policy_drop &&
			      x->prog_id == y->prog_id &&
			      x->compile_ns == y->compile_ns,
		      "generation");
	check(a->dp.capacity == b->dp.capacity &&
		      a->dp.slots_used == b->dp.slots_used,
	      "capacity");
	check(a->dp.nifaces == b->dp.nifaces, "the number of interfaces");
	for (int i = 0; i < a->dp.nifaces; i++) {
		const struct moat_dp_iface *p = &a->dp.ifaces[i],
					   *q = &b->dp.ifaces[i];

		check(!strcmp(p->name, q->name) && p->ifindex == q->ifindex &&
			      p->attached == q->attached &&
			      p->generic == q->generic &&
			      p->dispatcher == q->dispatcher &&
			      p->prog_id == q->prog_id,
		      "an interface");
	}
	check(!memcmp(&a->features, &b->features,
		      offsetof(struct moat_dp_features, dispatcher_error)) &&
		      !strcmp(a->features.dispatcher_error,
			      b->features.dispatcher_error),
	      "features");
}

static void status(const struct wire_msg *m)
{
	static struct ctl_status s, again; /* PATH_MAX several times */
	struct wire_err e = { { 0 } };
	struct wire_writer w;
	struct wire_msg m2;
	int ret;

	ret = ctl_status_decode(m, &s, &e);
	if (ret) {
		check(ret == -ENOMEM || e.msg[0], "a refused status's reason");
		ctl_status_free(&s);
		return;
	}
	wire_writer_init(&w);
	ctl_reply_status(&w, &s);
	reparse(&w, &m2);
	if (ctl_status_decode(&m2, &again, &e)) {
		fprintf(stderr, "encoded status does not decode: %s\n", e.msg);
		abort();
	}
	same_status(&s, &again);
	ctl_status_free(&again);
	wire_msg_free(&m2);
	wire_writer_free(&w);
	ctl_status_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_err e = { { 0 } };
	struct wire_msg m;

	if (!wire_parse(&m, data, size, &e)) {
		request(&m);
		reply(&m, CTL_APPLY);
		reply(&m, CTL_STATUS);
		reply(&m, CTL_DETACH);
		reply(&m, CTL_RELOAD);
		status(&m);
	}
	wire_msg_free(&m);
	return 0;
}
