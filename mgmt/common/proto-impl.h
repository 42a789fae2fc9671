/* SPDX-License-Identifier: GPL-2.0-only */
/* What the proto*.c files share, and nobody else. */
#ifndef MOAT_PROTO_IMPL_H
#define MOAT_PROTO_IMPL_H

#include "proto.h"

#define PROTO_DP_NSTATES 3
extern const char *const proto_dp_state_names[PROTO_DP_NSTATES];

/* The enum proto_type of @s, or -1. */
int proto_type_parse(const char *s);

/*
 * The bounds and character sets of @m's values: 0, or -EBADMSG with @e
 * naming the message and key.
 */
int proto_check(const struct proto_msg *m, struct wire_err *e);

/* @s for a message: non-printables as \xHH, cut with "..." to fit @size. */
void proto_quote(char *out, size_t size, const char *s, size_t n);

/* proto-reconcile.c: desired, applied, counters, counters_request */
int proto_get_reconcile(const msgpack_object *o, struct proto_msg *m,
			struct wire_err *e);
void proto_put_reconcile(struct wire_writer *w, const struct proto_msg *m);
int proto_check_reconcile(const struct proto_msg *m, struct wire_err *e);
bool proto_equal_reconcile(const struct proto_msg *a,
			   const struct proto_msg *b);
void proto_free_reconcile(struct proto_msg *m);
/* 64 lowercase hex digits, or "" (@n 0) */
bool proto_hash_valid(const char *s, size_t n);

#endif /* MOAT_PROTO_IMPL_H */
