// SPDX-License-Identifier: GPL-2.0-only
/*
 * Roles: named sets of permissions per workspace.  The built-in roles are
 * the same in every workspace and cannot be changed, so that a binding on
 * "*" to a built-in role means one thing everywhere.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

const char *const store_permissions[] = {
	"token:create",	 "token:read",	     "token:revoke",
	"host:read",	 "host:remove",	     "ruleset:write",
	"role:read",	 "role:admin",	     "key:admin",
	"audit:read",	 "workspace:create", "workspace:read",
	NULL,
};

static const struct {
	const char *name;
	const char *perms;
} builtin_roles[] = {
	{ "admin", "token:create token:read token:revoke host:read host:remove"
		   " ruleset:write role:read role:admin key:admin audit:read"
		   " workspace:create workspace:read" },
	{ "operator", "token:create token:read token:revoke host:read"
		      " host:remove ruleset:write role:read audit:read workspace:read" },
	{ "viewer", "token:read host:read role:read workspace:read" },
};

bool store_permission_valid(const char *perm)
{
	for (size_t i = 0; store_permissions[i]; i++)
		if (!strcmp(perm, store_permissions[i]))
			return true;
	return false;
}

const char *store_builtin_role(const char *name)
{
	for (size_t i = 0; i < sizeof(builtin_roles) / sizeof(*builtin_roles);
	     i++)
		if (!strcmp(name, builtin_roles[i].name))
			return builtin_roles[i].perms;
	return NULL;
}

bool store_perms_have(const char *perms, const char *perm)
{
	size_t n = strlen(perm);

	for (const char *p = perms; (p = strstr(p, perm)); p += n)
		if ((p == perms || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static const char sql_insert[] =
	"INSERT INTO roles (workspace_id, name, permissions, builtin)"
	" VALUES (?, ?, ?, ?)"
	" ON CONFLICT (workspace_id, name) DO UPDATE SET"
	" permissions = excluded.permissions";

static int role_write(struct store *st, const char *ws, const char *name,
		      const char *perms, bool builtin)
{
	sqlite3_stmt *s = store_stmt(st, sql_insert);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, ws);
	store_bind_text(s, 2, name);
	store_bind_text(s, 3, perms);
	sqlite3_bind_int(s, 4, builtin);
	return store_exec_step(st, s, "writing a role");
}

int store_roles_builtin_add(struct store *st, const char *workspace_id)
{
	int ret = 0;

	for (size_t i = 0;
	     !ret && i < sizeof(builtin_roles) / sizeof(*builtin_roles); i++)
		ret = role_write(st, workspace_id, builtin_roles[i].name,
				 builtin_roles[i].perms, true);
	return ret;
}

static const char sql_list[] = "SELECT name, builtin, permissions FROM roles"
			       " WHERE workspace_id = ? ORDER BY name";
static const char sql_get[] = "SELECT name, builtin, permissions FROM roles"
			      " WHERE workspace_id = ? AND name = ?";

static int role_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_role *r = arg;

	store_col_copy(s, 0, r->name, sizeof(r->name));
	r->builtin = sqlite3_column_int(s, 1);
	store_col_copy(s, 2, r->permissions, sizeof(r->permissions));
	return 0;
}

struct role_call {
	store_role_cb cb;
	void *arg;
};

static int role_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct role_call *c = arg;
	struct store_role r;

	role_from_row(st, s, &r);
	return c->cb(c->arg, &r);
}

int store_role_list(struct store *st, const char *workspace_id,
		    store_role_cb cb, void *arg)
{
	struct role_call c = { cb, arg };

	return store_query(st, sql_list, workspace_id, NULL, role_row, &c,
			   "listing roles");
}

int store_role_get(struct store *st, const char *workspace_id, const char *name,
		   struct store_role *out)
{
	return store_query_one(st, sql_get, workspace_id, name, role_from_row,
			       out, "reading a role");
}

/* The permissions as one canonical text: known ones, in table order. */
static int perms_text(const char *const *perms, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (!store_permission_valid(perms[i])) {
			log_warn("role: unknown permission `%s'", perms[i]);
			return -EINVAL;
		}
	}
	buf[0] = '\0';
	for (size_t p = 0; store_permissions[p]; p++) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(perms[i], store_permissions[p]))
				continue;
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      o ? " " : "",
					      store_permissions[p]);
			break;
		}
	}
	return 0;
}

int store_role_put(struct store *st, const struct store_who *who,
		   const char *workspace_id, const char *name,
		   const char *const *perms, size_t n, struct store_role *out)
{
	char text[sizeof(out->permissions)], detail[700];
	int ret;

	if (!store_name_valid(name)) {
		log_warn("role: bad name `%s'", name);
		return -EINVAL;
	}
	if (store_builtin_role(name))
		return -EPERM;
	ret = perms_text(perms, n, text, sizeof(text));
	if (!ret)
		ret = store_json_detail(detail, sizeof(detail), "permissions",
					text, NULL);
	if (!ret)
		ret = store_begin(st);
	if (ret)
		return ret;
	ret = role_write(st, workspace_id, name, text, false);
	/* the workspace is missing when the reference fails */
	if (ret == -EEXIST)
		ret = -ENOENT;
	if (!ret)
		ret = store_audit_add(st, who, "role.put", workspace_id, name,
				      "ok", detail);
	ret = store_end(st, ret);
	if (!ret && out)
		ret = store_role_get(st, workspace_id, name, out);
	return ret;
}

static const char sql_delete[] =
	"DELETE FROM roles WHERE workspace_id = ? AND name = ? AND NOT builtin";

int store_role_delete(struct store *st, const struct store_who *who,
		      const char *workspace_id, const char *name)
{
	int ret;

	if (store_builtin_role(name))
		return -EPERM;
	ret = store_begin(st);
	if (ret)
		return ret;
	ret = store_change(st, sql_delete, workspace_id, name, NULL,
			   "deleting a role");
	if (!ret)
		ret = store_audit_add(st, who, "role.delete", workspace_id,
				      name, "ok", NULL);
	return store_end(st, ret);
}
