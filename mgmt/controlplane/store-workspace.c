// SPDX-License-Identifier: GPL-2.0-only
/*
 * The organization (with the server's CA and certificate), bootstrap, and
 * workspaces with their CAs.  The store keeps the blobs the caller made;
 * it does no certificate work itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

bool store_name_valid_with(const char *name, const char *also)
{
	size_t n = strlen(name);

	if (n < 1 || n > STORE_NAME_LEN - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i > 0 && strchr(also, c))))
			return false;
	}
	return true;
}

bool store_name_valid(const char *name)
{
	return store_name_valid_with(name, "-");
}

int store_bootstrapped(struct store *st, bool *done)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM org");

	if (!s)
		return -EIO;
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_db_err(st, "reading the organization");
	*done = sqlite3_column_int(s, 0) > 0;
	sqlite3_reset(s);
	return 0;
}

static const char sql_org[] =
	"INSERT INTO org (id, name, created, server_ca, server_ca_key,"
	" server_cert, server_key) VALUES (1, ?, ?, ?, ?, ?, ?)";

static void bind_blob(sqlite3_stmt *s, int i, const struct store_blob *b)
{
	sqlite3_bind_blob(s, i, b->data ? (const void *)b->data : "",
			  (int)b->len, SQLITE_STATIC);
}

static const char sql_ws_insert[] =
	"INSERT INTO workspaces (id, name, created, ca, ca_key)"
	" VALUES (?, ?, ?, ?, ?)";

/* A workspace and its built-in roles, inside a transaction. */
static int workspace_add(struct store *st, const char *id, const char *name,
			 const struct store_blob *ca,
			 const struct store_blob *ca_key)
{
	sqlite3_stmt *s;
	int ret;

	if (!store_name_valid(name)) {
		log_warn("workspace: bad name `%s' (expected [a-z0-9]"
			 "[a-z0-9-]{0,62})",
			 name);
		return -EINVAL;
	}
	if (strlen(id) != STORE_ID_LEN - 1 || id[0] != 'w') {
		log_warn("workspace: bad id `%s'", id);
		return -EINVAL;
	}
	s = store_stmt(st, sql_ws_insert);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, name);
	sqlite3_bind_int64(s, 3, store_now(st));
	bind_blob(s, 4, ca);
	bind_blob(s, 5, ca_key);
	ret = store_exec_step(st, s, "adding a workspace");
	if (!ret)
		ret = store_roles_builtin_add(st, id);
	return ret;
}

int store_bootstrap(struct store *st, const struct store_bootstrap *b,
		    char key_id[STORE_ID_LEN],
		    char key_secret[STORE_SECRET_LEN])
{
	static const struct store_binding all = { "*", "admin" };
	static const struct store_who system = { "system", "" };
	struct store_key key;
	char detail[256];
	sqlite3_stmt *s;
	bool done;
	int ret;

	ret = store_begin(st);
	if (ret)
		return ret;
	/* checked inside the transaction: two starts cannot both bootstrap */
	ret = store_bootstrapped(st, &done);
	if (!ret && done)
		ret = -EALREADY;
	if (ret)
		goto out;
	s = store_stmt(st, sql_org);
	if (!s) {
		ret = -EIO;
		goto out;
	}
	store_bind_text(s, 1, b->org);
	sqlite3_bind_int64(s, 2, store_now(st));
	bind_blob(s, 3, &b->server_ca);
	bind_blob(s, 4, &b->server_ca_key);
	bind_blob(s, 5, &b->server_cert);
	bind_blob(s, 6, &b->server_key);
	ret = store_exec_step(st, s, "creating the organization");
	if (!ret)
		ret = workspace_add(st, b->ws_id, b->ws_name, &b->ws_ca,
				    &b->ws_key);
	if (!ret)
		ret = store_key_add(st, "admin", &all, 1, &key, key_secret);
	if (!ret)
		ret = store_json_detail(detail, sizeof(detail), "organization",
					b->org, "workspace", b->ws_name, "key",
					key.id, NULL);
	if (!ret)
		ret = store_audit_add(st, &system, "store.bootstrap", b->ws_id,
				      key.id, "ok", detail);
	if (!ret)
		memcpy(key_id, key.id, STORE_ID_LEN);
out:
	ret = store_end(st, ret);
	if (ret && ret != -EALREADY)
		memset(key_secret, 0, STORE_SECRET_LEN);
	return ret;
}

int store_server_get(struct store *st, struct store_server *out)
{
	sqlite3_stmt *s =
		store_stmt(st, "SELECT name, server_ca, server_ca_key,"
			       " server_cert, server_key FROM org");
	int rc, ret;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? -ENOENT :
					   store_db_err(st, "reading the org");
	}
	store_col_copy(s, 0, out->org, sizeof(out->org));
	ret = store_col_blob(s, 1, &out->ca);
	if (!ret)
		ret = store_col_blob(s, 2, &out->ca_key);
	if (!ret)
		ret = store_col_blob(s, 3, &out->cert);
	if (!ret)
		ret = store_col_blob(s, 4, &out->key);
	sqlite3_reset(s);
	if (ret)
		store_server_clear(out);
	return ret;
}

void store_server_clear(struct store_server *s)
{
	store_blob_clear(&s->ca);
	store_blob_clear(&s->ca_key);
	store_blob_clear(&s->cert);
	store_blob_clear(&s->key);
}

int store_server_set_cert(struct store *st, const struct store_who *who,
			  const struct store_blob *cert,
			  const struct store_blob *key)
{
	sqlite3_stmt *s;
	int ret = store_begin(st);

	if (ret)
		return ret;
	s = store_stmt(st, "UPDATE org SET server_cert = ?, server_key = ?");
	if (!s) {
		ret = -EIO;
		goto out;
	}
	bind_blob(s, 1, cert);
	bind_blob(s, 2, key);
	ret = store_exec_step(st, s, "replacing the server certificate");
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	if (!ret)
		ret = store_audit_add(st, who, "server.cert", "", "", "ok",
				      NULL);
out:
	return store_end(st, ret);
}

void store_workspace_clear(struct store_workspace *w)
{
	store_blob_clear(&w->ca);
	store_blob_clear(&w->ca_key);
}

int store_workspace_create(struct store *st, const struct store_who *who,
			   const char *id, const char *name,
			   const struct store_blob *ca,
			   const struct store_blob *ca_key)
{
	char detail[128];
	int ret;

	ret = store_json_detail(detail, sizeof(detail), "name", name, NULL);
	if (!ret)
		ret = store_begin(st);
	if (ret)
		return ret;
	ret = workspace_add(st, id, name, ca, ca_key);
	if (!ret)
		ret = store_audit_add(st, who, "workspace.create", id, id, "ok",
				      detail);
	return store_end(st, ret);
}

static const char sql_ws_get[] =
	"SELECT id, name, created, ca, ca_key FROM workspaces"
	" WHERE id = ?1 UNION ALL"
	" SELECT id, name, created, ca, ca_key FROM workspaces"
	" WHERE name = ?1 LIMIT 1";

int store_workspace_get(struct store *st, const char *id_or_name,
			struct store_workspace *out)
{
	sqlite3_stmt *s = store_stmt(st, sql_ws_get);
	char key[STORE_NAME_LEN + 1];
	int rc, ret;

	if (strlen(id_or_name) >= sizeof(key)) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	/* a copy first: it may live in @out, which is cleared */
	snprintf(key, sizeof(key), "%s", id_or_name);
	memset(out, 0, sizeof(*out));
	if (!s)
		return -EIO;
	store_bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ?
			       -ENOENT :
			       store_db_err(st, "reading a workspace");
	}
	store_col_copy(s, 0, out->id, sizeof(out->id));
	store_col_copy(s, 1, out->name, sizeof(out->name));
	out->created = sqlite3_column_int64(s, 2);
	ret = store_col_blob(s, 3, &out->ca);
	if (!ret)
		ret = store_col_blob(s, 4, &out->ca_key);
	sqlite3_reset(s);
	if (ret)
		store_workspace_clear(out);
	return ret;
}

static const char sql_ws_list[] =
	"SELECT id, name, created, ca FROM workspaces ORDER BY name";

struct ws_call {
	bool with_ca;
	store_workspace_cb cb;
	void *arg;
};

static int ws_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct ws_call *c = arg;
	struct store_workspace w = { 0 };

	store_col_copy(s, 0, w.id, sizeof(w.id));
	store_col_copy(s, 1, w.name, sizeof(w.name));
	w.created = sqlite3_column_int64(s, 2);
	if (c->with_ca) {
		/* points into SQLite's row: valid during the callback */
		w.ca.data = (unsigned char *)sqlite3_column_blob(s, 3);
		w.ca.len = (size_t)sqlite3_column_bytes(s, 3);
	}
	return c->cb(c->arg, &w);
}

int store_workspace_list(struct store *st, bool with_ca, store_workspace_cb cb,
			 void *arg)
{
	struct ws_call c = { with_ca, cb, arg };

	return store_query(st, sql_ws_list, NULL, NULL, ws_row, &c,
			   "listing workspaces");
}
