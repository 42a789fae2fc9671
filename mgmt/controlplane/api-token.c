// SPDX-License-Identifier: GPL-2.0-only
/*
 * /v1/workspaces/:ws/tokens: install tokens.  The secret is in the reply
 * to create and nowhere else: the store keeps its hash.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api.h"

/* a lifetime of at most 30 days, and up to 100000 hosts a token */
#define TOKEN_TTL_DEFAULT 3600
#define TOKEN_TTL_MAX (30 * 86400)
#define TOKEN_USES_MAX 100000
#define TOKEN_DESCRIPTION_MAX 256

static int token_row(void *arg, const struct store_token *t)
{
	struct api_list *l = arg;

	json_object_array_add(l->a, api_json_token(t, &l->c->ws));
	return 0;
}

void api_token_list(struct api_call *c)
{
	struct api_list l;

	api_list_init(&l, c);
	api_list_reply(&l,
		       store_token_list(c->cp->store, c->ws.id, token_row, &l),
		       "token list");
}

void api_token_create(struct api_call *c)
{
	static const struct jsonv_int ttl_spec = { 1, TOKEN_TTL_MAX,
						   "an integer of seconds" };
	static const struct jsonv_int uses_spec = { 1, TOKEN_USES_MAX,
						    "a number of enrollments" };
	static const struct jsonv_str desc_spec = { 0, TOKEN_DESCRIPTION_MAX,
						    NULL, "a description" };
	struct store_token t = { 0 };
	struct json_object *root, *labels, *o;
	struct jsonv_err e = { 0 };
	char secret[STORE_SECRET_LEN];
	const char *desc;
	int64_t ttl, uses;
	int ret;

	if (api_body(c, &root))
		return;
	if (jsonv_opt_int(root, "ttl", &ttl_spec, TOKEN_TTL_DEFAULT, &ttl,
			  &e) ||
	    jsonv_opt_int(root, "max_uses", &uses_spec, 1, &uses, &e) ||
	    jsonv_opt_labels(root, "labels", &labels, &e) ||
	    jsonv_opt_str(root, "description", &desc_spec, "", &desc, &e)) {
		api_fail_body(c, &e);
		goto out;
	}
	ret = store_token_create(
		c->cp->store, &c->who, c->ws.id, store_now(c->cp->store) + ttl,
		uses,
		labels ? json_object_to_json_string_ext(
				 labels, JSON_C_TO_STRING_PLAIN) :
			 NULL,
		desc, &t, secret);
	if (ret) {
		api_fail_store(c, ret, "token");
		goto out;
	}
	o = api_json_token(&t, &c->ws);
	api_json_str(o, "token", secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	api_reply(c, 201, o);
	store_token_clear(&t);
out:
	json_object_put(root);
}

void api_token_revoke(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	struct store_token t = { 0 };
	int ret;

	ret = store_token_revoke(c->cp->store, &c->who, c->ws.id, id, &t);
	/* revoked before: the same answer, nothing more recorded */
	if (ret == -EALREADY)
		ret = store_token_get(c->cp->store, c->ws.id, id, &t);
	if (ret == -ENOENT)
		api_fail(c, 404, "no token '%s' in workspace '%s'", id,
			 c->ws.name);
	else if (ret)
		api_fail_store(c, ret, "token");
	else
		api_reply(c, 200, api_json_token(&t, &c->ws));
	store_token_clear(&t);
}
