/* SPDX-License-Identifier: GPL-2.0-only */
/* moatctl audit verify: the hash chain, checked as its pages arrive. */
#ifndef MOAT_CP_AUDIT_H
#define MOAT_CP_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "cp.h"

struct cp_audit_record {
	uint64_t seq;
	int64_t time;
	const char *actor, *source, *action, *workspace, *target, *result,
		*detail, *prev;
};

/*
 * SHA-256 over "moat-audit-v1\n", then each field as "LEN:BYTES\n" in the
 * order seq, time, actor, source, action, workspace, target, result,
 * detail, prev (numbers in decimal), as lowercase hex.  0, or -1.
 */
int cp_audit_hash(const struct cp_audit_record *r, char hex[65]);

struct cp_chain {
	uint64_t n; /* records checked; the last one's seq */
	char head[65]; /* the last one's hash; 64 zeros before any */
};

void cp_chain_init(struct cp_chain *c);
/* Check the next record @o: 0, or -1 with the problem in @why. */
int cp_chain_add(struct cp_chain *c, json_object *o, char *why, size_t size);

#endif /* MOAT_CP_AUDIT_H */
