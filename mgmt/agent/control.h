/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd's control socket: a unix stream socket, mode 0600, that only
 * root may talk to (SO_PEERCRED).  This file reads frames and decodes
 * requests; it never touches the data plane.  A decoded, validated
 * request is handed to the handler, which writes the reply.
 */
#ifndef MOAT_AGENT_CONTROL_H
#define MOAT_AGENT_CONTROL_H

#include "ctl.h"
#include "loop.h"
#include "wire.h"

struct control;

struct control_handler {
	void (*handle)(void *ctx, const struct ctl_request *r,
		       struct wire_writer *reply);
	void *ctx;
};

/* Connections are closed after this long without a whole request. */
#define CONTROL_IDLE_NS (30ull * 1000000000)
#define CONTROL_MAX_CONNS 16

/*
 * Bind @path (replacing a stale socket, creating its directory) and
 * start accepting on @l.  Returns 0 or a negative errno; @what names
 * the step that failed, for the message.
 */
int control_open(struct control **out, struct loop *l, const char *path,
		 uint32_t uid, const struct control_handler *h,
		 const char **what);

/*
 * Stop accepting and close every connection.  Their ops finish as the
 * loop runs on; control_free() once loop_run() has run dry.
 */
void control_shutdown(struct control *c);

/* Unlinks the socket and frees; only after the loop has drained. */
void control_free(struct control *c);

#endif /* MOAT_AGENT_CONTROL_H */
