// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit chain, checked one record at a time as pages arrive: seq
 * counts up from 1 without gaps, each record names the hash of the one
 * before, and its own hash is the SHA-256 of its fields as the control
 * plane's store computes it.  An edited record fails its hash; a removed
 * or reordered one breaks the seq or prev link.  Records cut from the end
 * cannot be seen here: compare the head with one noted earlier.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "cp-audit.h"

/* "LEN:BYTES\n" of one field */
static void put_field(EVP_MD_CTX *md, const char *s, size_t n)
{
	char len[24];

	snprintf(len, sizeof(len), "%zu:", n);
	EVP_DigestUpdate(md, len, strlen(len));
	EVP_DigestUpdate(md, s, n);
	EVP_DigestUpdate(md, "\n", 1);
}

static void put_number(EVP_MD_CTX *md, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	put_field(md, num, strlen(num));
}

int cp_audit_hash(const struct cp_audit_record *r, char hex[65])
{
	const char *const text[] = { r->actor,	   r->source, r->action,
				     r->workspace, r->target, r->result,
				     r->detail,	   r->prev };
	unsigned char d[32];
	unsigned int dn = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!md)
		return -1;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	EVP_DigestUpdate(md, "moat-audit-v1\n", 14);
	put_number(md, (int64_t)r->seq);
	put_number(md, r->time);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		put_field(md, text[i], strlen(text[i]));
	EVP_DigestFinal_ex(md, d, &dn);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	return 0;
}

void cp_chain_init(struct cp_chain *c)
{
	memset(c, 0, sizeof(*c));
	memset(c->head, '0', 64);
}

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

int cp_chain_add(struct cp_chain *c, json_object *o, char *why, size_t size)
{
	struct cp_audit_record r;
	json_object *v;
	bool ok = true;
	char hash[65];

	if (!json_object_object_get_ex(o, "seq", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(o, "time", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		snprintf(why, size, "record %" PRIu64 " has no seq or time",
			 c->n + 1);
		return -1;
	}
	r.seq = (uint64_t)cp_int(o, "seq");
	r.time = cp_int(o, "time");
	r.actor = text_of(o, "actor", &ok);
	r.source = text_of(o, "source", &ok);
	r.action = text_of(o, "action", &ok);
	r.workspace = text_of(o, "workspace", &ok);
	r.target = text_of(o, "target", &ok);
	r.result = text_of(o, "result", &ok);
	r.detail = text_of(o, "detail", &ok);
	r.prev = text_of(o, "prev", &ok);
	if (!ok) {
		snprintf(why, size,
			 "record seq %" PRIu64
			 " lacks a field or has one of the wrong type",
			 r.seq);
		return -1;
	}
	if (r.seq != c->n + 1) {
		snprintf(why, size,
			 "seq %" PRIu64 " follows seq %" PRIu64
			 ": records were removed or reordered",
			 r.seq, c->n);
		return -1;
	}
	if (strcmp(r.prev, c->head)) {
		snprintf(
			why, size,
			"seq %" PRIu64 " names prev %.16s..., but seq %" PRIu64
			" hashes to %.16s...: a record was removed, reordered or replaced",
			r.seq, r.prev, c->n, c->head);
		return -1;
	}
	if (cp_audit_hash(&r, hash) < 0) {
		snprintf(why, size, "cannot compute SHA-256");
		return -1;
	}
	if (strcmp(hash, cp_str(o, "hash"))) {
		snprintf(
			why, size,
			"seq %" PRIu64
			": its fields hash to %.16s..., not its hash %.16s...: the record was edited",
			r.seq, hash, cp_str(o, "hash"));
		return -1;
	}
	memcpy(c->head, hash, sizeof(c->head));
	c->n = r.seq;
	return 0;
}
