/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The audit log's hash chain.  Each record carries the hash of the one
 * before it, so that an edited, removed or reordered record breaks the
 * chain where it happened.  The control plane's store appends records;
 * moatctl verifies a chain it fetched over the API with the same code.
 *
 * hash = SHA-256 over "moat-audit-v1\n" then, for each of seq, time,
 * actor, source, action, workspace, target, result, detail and prev, the
 * field's length in decimal, ':', its bytes, '\n' (numbers as decimal
 * text).  prev is the previous record's hash, 64 zeros for seq 1.
 */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

/* 64 lowercase hex digits and a NUL */
#define AUDIT_HEX_LEN 65

struct audit_record {
	int64_t seq;
	int64_t time;
	const char *actor;
	const char *source;
	const char *action;
	const char *workspace;
	const char *target;
	const char *result;
	const char *detail;
	const char *prev;
	const char *hash;
};

/* The 64 zeros that seq 1 names as its prev. */
extern const char audit_genesis[AUDIT_HEX_LEN];

/* @n bytes as 2 @n lowercase hex digits and a NUL. */
void audit_hex(const unsigned char *bytes, size_t n, char *out);

/* The hash @r should carry (r->hash is not read); 0 or -ENOMEM/-EINVAL. */
int audit_hash(const struct audit_record *r, char out[AUDIT_HEX_LEN]);

/*
 * Walks a chain record by record, from seq 1.  After the first problem
 * every later call returns the same error and @why keeps the first one.
 */
struct audit_verifier {
	int64_t next_seq;
	char prev[AUDIT_HEX_LEN];
	int64_t checked;
	int err;
	char why[256];
};

void audit_verify_init(struct audit_verifier *v);

/*
 * Resume after a record already trusted (its seq and hash), for a chain
 * fetched in pages or from a known checkpoint.
 */
void audit_verify_init_at(struct audit_verifier *v, int64_t seq,
			  const char *hash);

/*
 * 0 when @r follows the records before it; -EBADMSG with v->why saying
 * which record and what is wrong: a seq gap or reorder, a prev that does
 * not link, or a hash that does not match the contents.
 */
int audit_verify_next(struct audit_verifier *v, const struct audit_record *r);

#endif /* MOAT_AUDIT_H */
