// SPDX-License-Identifier: GPL-2.0-only
/*
 * /v1/workspaces/:ws/roles: roles grant permissions in their workspace.
 * The built-in ones (admin, operator, viewer) are the same everywhere and
 * cannot be changed, so that a binding on "*" means one thing.
 */
#include <errno.h>
#include <string.h>

#include "api.h"

static int role_row(void *arg, const struct store_role *r)
{
	struct api_list *l = arg;

	json_object_array_add(l->a, api_json_role(r));
	return 0;
}

void api_role_list(struct api_call *c)
{
	struct api_list l;

	api_list_init(&l, c);
	api_list_reply(&l,
		       store_role_list(c->cp->store, c->ws.id, role_row, &l),
		       "role list");
}

/* The role name of the path, checked; else 400 replied. */
static const char *role_name(struct api_call *c)
{
	const char *name = http_match_param(c->m, "name");

	if (store_name_valid(name))
		return name;
	api_fail(
		c, 400,
		"role name '%.64s': expected 1-63 of a-z 0-9 -, starting with a letter or digit",
		name);
	return NULL;
}

/* Every permission that exists, for a message. */
static void known_perms(char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; store_permissions[i] && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? " " : "",
				      store_permissions[i]);
}

void api_role_put(struct api_call *c)
{
	static const struct jsonv_str perm_spec = { 1, 64, NULL,
						    "a permission" };
	const char *name = role_name(c), *perms[64];
	struct json_object *root = NULL, *list;
	struct store_role r = { 0 };
	struct jsonv_err e = { 0 };
	char known[512];
	size_t n;
	int ret;

	if (!name || api_body(c, &root))
		return;
	if (jsonv_get_strings(root, "permissions", 64, &perm_spec, &list, &e)) {
		api_fail_body(c, &e);
		goto out;
	}
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		perms[i] = json_object_get_string(
			json_object_array_get_idx(list, i));
		if (store_permission_valid(perms[i]))
			continue;
		known_perms(known, sizeof(known));
		api_fail(
			c, 400,
			"field 'permissions[%zu]': no permission '%s' (there are: %s)",
			i, perms[i], known);
		goto out;
	}
	ret = store_role_put(c->cp->store, &c->who, c->ws.id, name, perms, n,
			     &r);
	if (ret == -EPERM)
		api_fail(c, 409, "role '%s' is built in and cannot be changed",
			 name);
	else if (ret)
		api_fail_store(c, ret, "role");
	else
		api_reply(c, 200, api_json_role(&r));
out:
	json_object_put(root);
}

void api_role_delete(struct api_call *c)
{
	const char *name = role_name(c);
	struct json_object *o;
	int ret;

	if (!name)
		return;
	ret = store_role_delete(c->cp->store, &c->who, c->ws.id, name);
	if (ret == -EPERM) {
		api_fail(c, 409, "role '%s' is built in and cannot be deleted",
			 name);
	} else if (ret == -ENOENT) {
		api_fail(c, 404, "no role '%s' in workspace '%s'", name,
			 c->ws.name);
	} else if (ret) {
		api_fail_store(c, ret, "role");
	} else {
		o = json_object_new_object();
		api_json_str(o, "name", name);
		api_json_bool(o, "deleted", true);
		api_reply(c, 200, o);
	}
}
