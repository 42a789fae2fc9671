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

#endif /* MOAT_PROTO_IMPL_H */
