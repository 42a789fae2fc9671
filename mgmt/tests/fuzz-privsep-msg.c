// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the packets between moatd's two processes
 * (mgmt/agent/privsep-msg.c): the root parent decodes what the
 * unprivileged session process sends, which is as good as a stranger's
 * once that process is compromised.  The input is one packet.
 *
 * What must hold:
 *   - psmsg_decode() returns 0, -EBADMSG or -ENOMEM, and a refusal says
 *     why (the parent logs it);
 *   - what it accepts encodes again and decodes to the same message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privsep-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "%s\n", what);
		abort();
	}
}

static int encode(struct wire_writer *w, const struct psmsg *m,
		  const char **frame, size_t *len)
{
	switch (m->type) {
	case PSMSG_START:
		return psmsg_encode_start(w, &m->start, frame, len);
	case PSMSG_STATUS_REQUEST:
		return psmsg_encode_status_request(w, frame, len);
	case PSMSG_STATUS:
		return psmsg_encode_status(w, &m->status, frame, len);
	case PSMSG_IDENTITY:
		return psmsg_encode_identity(w, &m->identity, frame, len);
	case PSMSG_STATE:
		return psmsg_encode_state(w, &m->state, frame, len);
	case PSMSG_COUNTERS_REQUEST:
		return psmsg_encode_counters_request(w, frame, len);
	case PSMSG_DESIRED:
	case PSMSG_APPLIED:
	case PSMSG_COUNTERS:
		return psmsg_encode_proto(w, &m->proto, frame, len);
	}
	return -EINVAL;
}

static bool blob_eq(const struct proto_blob *a, const struct proto_blob *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->p, b->p, a->n));
}

static bool same(const struct psmsg *a, const struct psmsg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case PSMSG_START:
		return !strcmp(a->start.host, b->start.host) &&
		       a->start.port == b->start.port &&
		       !strcmp(a->start.token, b->start.token) &&
		       a->start.boot_time == b->start.boot_time &&
		       a->start.applied_generation ==
			       b->start.applied_generation &&
		       a->start.counters_interval ==
			       b->start.counters_interval &&
		       blob_eq(&a->start.id.key, &b->start.id.key) &&
		       blob_eq(&a->start.id.ca, &b->start.id.ca);
	case PSMSG_IDENTITY:
		return blob_eq(&a->identity.cert, &b->identity.cert);
	case PSMSG_STATE:
		return !memcmp(&a->state, &b->state, sizeof(a->state));
	case PSMSG_STATUS:
		return a->status.uptime == b->status.uptime &&
		       a->status.dataplane.nifaces == b->status.dataplane.nifaces;
	case PSMSG_DESIRED:
	case PSMSG_APPLIED:
	case PSMSG_COUNTERS:
		return proto_msg_equal(&a->proto, &b->proto);
	default:
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct psmsg m, again;
	struct wire_err e = { { 0 } };
	struct wire_writer w;
	const char *frame;
	size_t len;
	int ret;

	ret = psmsg_decode(data, size, &m, &e);
	if (ret) {
		check(ret == -EBADMSG || ret == -ENOMEM,
		      "psmsg_decode() returned an unexpected error");
		check(ret == -ENOMEM || e.msg[0], "a refusal without a reason");
		psmsg_free(&m);
		return 0;
	}
	wire_writer_init(&w);
	ret = encode(&w, &m, &frame, &len);
	/* a start that decodes but holds half an identity is sent without */
	check(ret == 0, "the encoder cannot say what was decoded");
	ret = psmsg_decode(frame, len, &again, &e);
	check(ret == 0, "an encoded packet does not decode");
	check(same(&m, &again), "a packet decodes differently once re-encoded");
	psmsg_free(&again);
	psmsg_free(&m);
	wire_writer_free(&w);
	return 0;
}
