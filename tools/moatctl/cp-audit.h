/* SPDX-License-Identifier: GPL-2.0-only */
/* moatctl audit verify: API records into audit.h's verifier. */
#ifndef MOAT_CP_AUDIT_H
#define MOAT_CP_AUDIT_H

#include <stddef.h>

#include "audit.h"
#include "cp.h"

/*
 * @o, one record of GET /v1/audit, as an audit_record whose strings point
 * into @o: 0, or -1 with why in @why (a field missing or mistyped).
 */
int cp_audit_record(json_object *o, struct audit_record *r, char *why,
		    size_t size);

#endif /* MOAT_CP_AUDIT_H */
