/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent-channel tests' samples and frame edits (proto-sample.c). */
#ifndef MOAT_TEST_PROTO_SAMPLE_H
#define MOAT_TEST_PROTO_SAMPLE_H

#include <stdbool.h>

#include "proto.h"

#define NTYPES (PROTO_COUNTERS_REQUEST + 1)

/* A valid message of type @t; its pointers go to static data. */
void sample(enum proto_type t, struct proto_msg *m);

/* Decode a whole frame: 0 or the decoder's error, its reason in @e. */
int decode_frame(const char *f, size_t n, struct proto_msg *m,
		 struct wire_err *e);

/* How to change one key: drop it (put == NULL) or write another value. */
struct edit {
	const char *sub; /* the key is in this map, or at the top */
	const char *key;
	void (*put)(struct wire_writer *w, const void *arg);
	const void *arg;
};

/* Sample @t with @ed applied, decoded: the decoder's return value. */
int decode_edited(enum proto_type t, const struct edit *ed,
		  struct proto_msg *out, struct wire_err *e);
/* Refused with exactly the reason @want. */
void expect_refused(enum proto_type t, const struct edit *ed, const char *want);
/* Accepted, and what was decoded encodes again to the same message. */
void expect_accepted(enum proto_type t, const struct edit *ed);

/* Values for struct edit: *(uint64_t *)arg, the string arg, true. */
void put_uint(struct wire_writer *w, const void *arg);
void put_str(struct wire_writer *w, const void *arg);
void put_bool(struct wire_writer *w, const void *arg);

#endif
