// SPDX-License-Identifier: GPL-2.0-only
/* GET /v1/whoami, GET and POST /v1/workspaces. */
#include <errno.h>

#include "api.h"

void api_whoami(struct api_call *c)
{
	struct json_object *o = json_object_new_object();

	api_json_str(o, "key_id", c->key.id);
	api_json_str(o, "user", c->key.user);
	json_object_object_add(o, "bindings",
			       api_json_bindings(c->cp, &c->key));
	api_reply(c, 200, o);
}

static int ws_row(void *arg, const struct store_workspace *w)
{
	struct api_list *l = arg;

	/* only those the key may read */
	if (store_allowed(l->c->cp->store, l->c->key.id, w->id,
			  "workspace:read") == 0)
		json_object_array_add(l->a, api_json_workspace(w));
	return 0;
}

void api_workspace_list(struct api_call *c)
{
	struct api_list l;

	if (api_allow_any(c, "workspace:read"))
		return;
	api_list_init(&l, c);
	api_list_reply(&l, store_workspace_list(c->cp->store, true, ws_row, &l),
		       "workspace list");
}

void api_workspace_create(struct api_call *c)
{
	static const struct jsonv_str name_spec = { 1, STORE_NAME_LEN - 1,
						    "a-z0-9-",
						    "a workspace name" };
	struct store_workspace w = { 0 };
	struct json_object *root;
	struct jsonv_err e = { 0 };
	const char *name;
	int ret;

	if (api_allow(c, "*", "", "workspace:create") || api_body(c, &root))
		return;
	if (jsonv_get_str(root, "name", &name_spec, &name, &e)) {
		api_fail_body(c, &e);
		goto out;
	}
	ret = cp_workspace_create(c->cp, &c->who, name, &w);
	if (ret == -EEXIST)
		api_fail(c, 409, "workspace '%s' exists already", name);
	else if (ret)
		api_fail_store(c, ret, "workspace");
	else
		api_reply(c, 201, api_json_workspace(&w));
	store_workspace_clear(&w);
out:
	json_object_put(root);
}
