// SPDX-License-Identifier: GPL-2.0-only
/*
 * /v1/keys: API keys, each of a user, bound to roles in workspaces (or
 * "*": every workspace, now and later).  key:admin is needed on every
 * workspace a key is bound in, to make it, revoke it or see it: a key
 * admin of one workspace cannot hand out or take away power elsewhere.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api.h"

#define PERM "key:admin"

/* The first binding of @k the caller may not administer, or NULL. */
static const struct store_binding *not_administered(struct api_call *c,
						    const struct store_key *k)
{
	for (size_t i = 0; i < k->n_bindings; i++)
		if (store_allowed(c->cp->store, c->key.id,
				  k->bindings[i].workspace, PERM))
			return &k->bindings[i];
	return NULL;
}

struct key_list {
	struct api_list l;
	bool all;
};

static int key_row(void *arg, const struct store_key *k)
{
	struct key_list *kl = arg;

	/* a key without bindings: only those with key:admin on "*" */
	if (kl->all || (k->n_bindings && !not_administered(kl->l.c, k)))
		json_object_array_add(kl->l.a, api_json_key(kl->l.c->cp, k));
	return 0;
}

void api_key_list(struct api_call *c)
{
	struct key_list kl;

	if (api_allow_any(c, PERM))
		return;
	kl.all = store_allowed(c->cp->store, c->key.id, "*", PERM) == 0;
	api_list_init(&kl.l, c);
	api_list_reply(&kl.l, store_key_list(c->cp->store, key_row, &kl),
		       "key list");
}

static int first_ws(void *arg, const struct store_workspace *w)
{
	snprintf(arg, STORE_ID_LEN, "%s", w->id);
	return 1;
}

/*
 * bindings[@i] of the body into @b: the workspace by name or id (or "*"),
 * a role that exists there.  0, or the 400 replied.
 */
static int binding(struct api_call *c, struct json_object *o, size_t i,
		   struct store_binding *b)
{
	static const struct jsonv_str ws_spec = {
		1, STORE_NAME_LEN - 1, NULL, "a workspace name, id or '*'"
	};
	static const struct jsonv_str role_spec = { 1, STORE_NAME_LEN - 1,
						    "a-z0-9-", "a role name" };
	struct store_workspace w = { 0 };
	struct store_role r;
	struct jsonv_err e = { 0 };
	const char *ws, *role;
	char any[STORE_ID_LEN] = "";
	int ret;

	jsonv_prefix(&e, "bindings[%zu].", i);
	if (jsonv_get_str(o, "workspace", &ws_spec, &ws, &e) ||
	    jsonv_get_str(o, "role", &role_spec, &role, &e)) {
		api_fail_body(c, &e);
		return -EINVAL;
	}
	snprintf(b->role, sizeof(b->role), "%s", role);
	if (!strcmp(ws, "*")) {
		snprintf(b->workspace, sizeof(b->workspace), "*");
		/* built-in roles are the same in every workspace: ask one */
		store_workspace_list(c->cp->store, false, first_ws, any);
		if (store_role_get(c->cp->store, any, role, &r) || !r.builtin) {
			api_fail(
				c, 400,
				"field 'bindings[%zu].role': on '*' only a built-in role (admin, operator, viewer), not '%s'",
				i, role);
			return -EINVAL;
		}
		return 0;
	}
	ret = store_workspace_get(c->cp->store, ws, &w);
	if (ret == 0)
		snprintf(b->workspace, sizeof(b->workspace), "%s", w.id);
	store_workspace_clear(&w);
	if (ret) {
		api_fail(c, 400,
			 "field 'bindings[%zu].workspace': no workspace '%s'",
			 i, ws);
		return ret;
	}
	if (store_role_get(c->cp->store, b->workspace, role, &r)) {
		api_fail(
			c, 400,
			"field 'bindings[%zu].role': no role '%s' in workspace '%s'",
			i, role, ws);
		return -EINVAL;
	}
	return 0;
}

void api_key_create(struct api_call *c)
{
	static const struct jsonv_str user_spec = { 1, STORE_NAME_LEN - 1,
						    "a-z0-9._-",
						    "a user name" };
	struct json_object *root = NULL, *list, *o;
	/* bindings asked for in @want; @k is the key made (the store clears
	 * it first) */
	struct store_key want = { 0 }, k;
	const struct store_binding *miss;
	struct jsonv_err e = { 0 };
	char secret[STORE_SECRET_LEN], name[STORE_NAME_LEN + 1];
	const char *user;
	int ret;

	if (api_allow_any(c, PERM) || api_body(c, &root))
		return;
	if (jsonv_get_str(root, "user", &user_spec, &user, &e) ||
	    jsonv_get_objects(root, "bindings", STORE_MAX_BINDINGS, &list,
			      &e)) {
		api_fail_body(c, &e);
		goto out;
	}
	want.n_bindings = json_object_array_length(list);
	if (!want.n_bindings) {
		api_fail(c, 400, "field 'bindings': at least one binding");
		goto out;
	}
	for (size_t i = 0; i < want.n_bindings; i++)
		if (binding(c, json_object_array_get_idx(list, i), i,
			    &want.bindings[i]))
			goto out;
	miss = not_administered(c, &want);
	if (miss) {
		api_ws_name(c->cp, miss->workspace, name);
		api_allow(c, miss->workspace, name, PERM);
		goto out;
	}
	ret = store_key_create(c->cp->store, &c->who, user, want.bindings,
			       want.n_bindings, &k, secret);
	if (ret) {
		api_fail_store(c, ret, "key");
		goto out;
	}
	o = api_json_key(c->cp, &k);
	api_json_str(o, "key", secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	api_reply(c, 201, o);
out:
	json_object_put(root);
}

void api_key_revoke(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	const struct store_binding *miss;
	char name[STORE_NAME_LEN + 1];
	struct store_key k;
	int ret;

	if (api_allow_any(c, PERM))
		return;
	ret = store_key_get(c->cp->store, id, &k);
	if (ret == -ENOENT) {
		api_fail(c, 404, "no key '%s'", id);
		return;
	}
	if (ret) {
		api_fail_store(c, ret, "key");
		return;
	}
	/* a key bound nowhere is for those with key:admin on "*" */
	if (!k.n_bindings && api_allow(c, "*", "", PERM))
		return;
	miss = not_administered(c, &k);
	if (miss) {
		api_ws_name(c->cp, miss->workspace, name);
		api_allow(c, miss->workspace, name, PERM);
		return;
	}
	ret = store_key_revoke(c->cp->store, &c->who, id);
	/* revoked before: the same answer, nothing more recorded */
	if (ret && ret != -EALREADY) {
		api_fail_store(c, ret, "key");
		return;
	}
	ret = store_key_get(c->cp->store, id, &k);
	if (ret)
		api_fail_store(c, ret, "key");
	else
		api_reply(c, 200, api_json_key(c->cp, &k));
}
