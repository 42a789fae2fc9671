// SPDX-License-Identifier: GPL-2.0-only
/*
 * One record of GET /v1/audit as the chain verifier of mgmt/common/audit.h
 * reads it: moatctl checks the chain with the code the store writes it
 * with, so that the two cannot drift apart.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cp-audit.h"

/* A string field; the API may send detail as an object: its JSON text. */
static const char *text_of(json_object *o, const char *key, bool *ok)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v) {
		*ok = false;
		return "";
	}
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (!strcmp(key, "detail") && json_object_is_type(v, json_type_object))
		return json_object_to_json_string_ext(
			v, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE);
	*ok = false;
	return "";
}

int cp_audit_record(json_object *o, struct audit_record *r, char *why,
		    size_t size)
{
	json_object *v;
	bool ok = true;

	if (!json_object_object_get_ex(o, "seq", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(o, "time", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		snprintf(why, size, "a record without seq or time: '%.80s'",
			 json_object_to_json_string(o));
		return -1;
	}
	r->seq = cp_int(o, "seq");
	r->time = cp_int(o, "time");
	r->actor = text_of(o, "actor", &ok);
	r->source = text_of(o, "source", &ok);
	r->action = text_of(o, "action", &ok);
	r->workspace = text_of(o, "workspace", &ok);
	r->target = text_of(o, "target", &ok);
	r->result = text_of(o, "result", &ok);
	r->detail = text_of(o, "detail", &ok);
	r->prev = text_of(o, "prev", &ok);
	r->hash = text_of(o, "hash", &ok);
	if (!ok) {
		snprintf(why, size,
			 "record %" PRId64 ": a field missing or not a string",
			 r->seq);
		return -1;
	}
	return 0;
}
