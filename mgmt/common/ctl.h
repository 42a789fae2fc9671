/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local control protocol between moatctl and moatd, over moatd's
 * unix socket, in wire.h frames.  One request, one reply, in turn; a
 * connection may carry several.  docs/moatd.md lists every key.
 *
 *   request  apply   text, name [, force]    reply ok: generation, stats, diags [, file]
 *                    [, analyzed]
 *   request  status                          reply ok: moatd, instance, pin_root,
 *                                              [generation], capacity, slots_used,
 *                                              interfaces, features
 *   request  detach  iface                   reply ok: iface
 *   request  reload                          reply ok: generation, stats, diags [, file]
 *   any failure                              reply error: msg, diags [, file]
 *
 * Decoding a request only reads and validates; nothing here touches the
 * data plane, so that this side can later run without privilege.
 */
#ifndef MOAT_CTL_H
#define MOAT_CTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "wire.h"

enum ctl_type {
	CTL_APPLY,
	CTL_STATUS,
	CTL_DETACH,
	CTL_RELOAD,
};

#define CTL_NAME_MAX (PATH_MAX - 1)

/* A ruleset text and the rest of an apply request fit one local frame. */
#define CTL_TEXT_MAX (WIRE_MAX_FRAME_LOCAL - 8192)

struct ctl_request {
	enum ctl_type type;
	/* apply: the ruleset text, pointing into the message */
	const char *text;
	size_t text_len;
	char name[CTL_NAME_MAX + 1]; /* apply: the file name, for messages */
	bool force; /* apply: even over a control plane's desired ruleset */
	/*
	 * apply: the sender looks for shadowed and redundant rules itself;
	 * moatd does not, and its diags hold only the parse's and apply's.
	 */
	bool analyzed;
	char iface[MOAT_IFNAME_MAX + 1]; /* detach */
};

const char *ctl_type_name(enum ctl_type t);

/*
 * An instance name, as moatd and moatctl take it: 1-32 of A-Z a-z 0-9
 * _ . -, starting with a letter or digit (it becomes part of paths).
 */
#define CTL_INSTANCE_MAX 32
bool ctl_instance_valid(const char *s, size_t n);

/* 0, or -EBADMSG with @e saying which key is wrong. */
int ctl_request_decode(const struct wire_msg *m, struct ctl_request *r,
		       struct wire_err *e);
void ctl_request_encode(struct wire_writer *w, const struct ctl_request *r);

/* What moatd says about itself in a status reply. */
struct ctl_daemon {
	bool running; /* false: moatctl read the pins itself */
	uint32_t pid;
	uint64_t uptime_ns;
	char version[32];
	char config[PATH_MAX];
	char ruleset[PATH_MAX];
	char socket[108];
};

/* moatd's place in a fleet; absent from the reply when not configured. */
struct ctl_cp {
	bool configured;
	char address[272]; /* HOST:PORT as configured */
	char state[32]; /* connecting, enrolling, connected, backing off, refused, starting */
	char host_id[33]; /* "" until known */
	char workspace[64]; /* its name, or its id when the name is not known */
	int64_t last_heartbeat; /* unix s of the last acknowledged one; 0: none */
	char last_error[256];
	/* declared configuration: absent from the reply while unmanaged */
	uint64_t desired_generation; /* the last received; 0: none */
	uint64_t applied_generation; /* in force */
	bool drift; /* a local apply (--force) replaced it */
	char desired_ruleset[96]; /* "web@v3 audit"; "" for none */
	char apply_error[1024]; /* why desired_generation is not applied */
};

struct ctl_status {
	struct ctl_daemon moatd;
	struct ctl_cp cp;
	char instance[64];
	char pin_root[PATH_MAX];
	struct moat_dp_status dp;
	struct moat_dp_features features;
};

/*
 * @d may be NULL (no diags); @file, the ruleset file @d is about, may be
 * NULL (the diags name their place themselves, or there are none).
 */
void ctl_reply_error(struct wire_writer *w, const char *msg,
		     const struct moat_diags *d, const char *file);
void ctl_reply_applied(struct wire_writer *w, const struct moat_apply_stats *st,
		       const struct moat_diags *d, const char *file);
void ctl_reply_detached(struct wire_writer *w, const char *iface);
void ctl_reply_status(struct wire_writer *w, const struct ctl_status *s);

/* A reply as moatctl reads it. */
struct ctl_reply {
	bool ok;
	char msg[512]; /* error */
	struct moat_diags
		diags; /* error, apply, reload; see ctl_reply_free() */
	char file[PATH_MAX]; /* what diags are about; "" when not said */
	bool has_stats;
	struct moat_apply_stats st; /* apply, reload */
};

/*
 * Decode an "ok" or "error" reply; the keys of an ok reply depend on
 * @req.  Status replies go through ctl_status_decode().
 */
int ctl_reply_decode(const struct wire_msg *m, enum ctl_type req,
		     struct ctl_reply *r, struct wire_err *e);
void ctl_reply_free(struct ctl_reply *r);

/* The ok reply to status; dp.ifaces is malloc'd: ctl_status_free(). */
int ctl_status_decode(const struct wire_msg *m, struct ctl_status *s,
		      struct wire_err *e);
void ctl_status_free(struct ctl_status *s);

#endif /* MOAT_CTL_H */
