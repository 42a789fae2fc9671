// SPDX-License-Identifier: GPL-2.0-only
/*
 * Users, API keys and their role bindings, and the permission check.
 * A key's secret names its id, so lookup is by id and only the hash
 * comparison touches the secret (in constant time).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

#define KEY_PREFIX "moat-key-"

bool store_user_name_valid(const char *name)
{
	return store_name_valid_with(name, "._-");
}

static const char sql_user_find[] = "SELECT id FROM users WHERE name = ?";
static const char sql_user_add[] =
	"INSERT INTO users (id, name, created) VALUES (?, ?, ?)";

/* The user's id, creating the user when new. */
static int user_get_or_add(struct store *st, const char *name,
			   char id[STORE_ID_LEN])
{
	sqlite3_stmt *s = store_stmt(st, sql_user_find);
	int rc, ret;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		store_col_copy(s, 0, id, STORE_ID_LEN);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_db_err(st, "finding a user");
	ret = store_new_id('u', id);
	if (ret)
		return ret;
	s = store_stmt(st, sql_user_add);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, name);
	sqlite3_bind_int64(s, 3, store_now(st));
	return store_exec_step(st, s, "adding a user");
}

static int binding_check(struct store *st, const struct store_binding *b)
{
	struct store_role r;
	int ret;

	if (!strcmp(b->workspace, "*")) {
		if (store_builtin_role(b->role))
			return 0;
		log_warn("key: role `%s' on \"*\" is not a built-in role",
			 b->role);
		return -EINVAL;
	}
	ret = store_role_get(st, b->workspace, b->role, &r);
	if (ret == -ENOENT)
		log_warn("key: no role `%s' in workspace `%s'", b->role,
			 b->workspace);
	return ret;
}

static const char sql_key_add[] =
	"INSERT INTO keys (id, user_id, hash, created) VALUES (?, ?, ?, ?)";
static const char sql_binding_add[] =
	"INSERT OR IGNORE INTO bindings (key_id, workspace, role)"
	" VALUES (?, ?, ?)";

int store_key_add(struct store *st, const char *user,
		  const struct store_binding *bindings, size_t n,
		  struct store_key *out, char secret[STORE_SECRET_LEN])
{
	char user_id[STORE_ID_LEN], hash[STORE_HASH_LEN];
	sqlite3_stmt *s;
	size_t o;
	int ret;

	if (!store_user_name_valid(user)) {
		log_warn("key: bad user name `%s'", user);
		return -EINVAL;
	}
	if (n > STORE_MAX_BINDINGS)
		return -E2BIG;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		ret = binding_check(st, &bindings[i]);
		if (ret)
			return ret;
	}
	ret = store_new_id('k', out->id);
	if (ret)
		return ret;
	o = (size_t)snprintf(secret, STORE_SECRET_LEN, KEY_PREFIX "%s-",
			     out->id);
	ret = store_random_b64(32, secret + o, STORE_SECRET_LEN - o);
	if (!ret)
		ret = store_sha256_hex(secret, strlen(secret), hash);
	if (!ret)
		ret = user_get_or_add(st, user, user_id);
	if (ret)
		return ret;
	s = store_stmt(st, sql_key_add);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, out->id);
	store_bind_text(s, 2, user_id);
	store_bind_text(s, 3, hash);
	sqlite3_bind_int64(s, 4, store_now(st));
	ret = store_exec_step(st, s, "adding a key");
	for (size_t i = 0; !ret && i < n; i++) {
		s = store_stmt(st, sql_binding_add);
		if (!s)
			return -EIO;
		store_bind_text(s, 1, out->id);
		store_bind_text(s, 2, bindings[i].workspace);
		store_bind_text(s, 3, bindings[i].role);
		ret = store_exec_step(st, s, "binding a key");
	}
	if (!ret)
		ret = store_key_get(st, out->id, out);
	return ret;
}

int store_key_create(struct store *st, const struct store_who *who,
		     const char *user, const struct store_binding *bindings,
		     size_t n, struct store_key *out,
		     char secret[STORE_SECRET_LEN])
{
	char detail[128];
	int ret = store_begin(st);

	if (ret)
		return ret;
	ret = store_key_add(st, user, bindings, n, out, secret);
	if (!ret)
		ret = store_json_detail(detail, sizeof(detail), "user", user,
					NULL);
	if (!ret)
		ret = store_audit_add(st, who, "key.create", "", out->id, "ok",
				      detail);
	ret = store_end(st, ret);
	if (ret)
		memset(secret, 0, STORE_SECRET_LEN);
	return ret;
}

#define KEY_SELECT                                              \
	"SELECT k.id, u.name, k.created, k.revoked FROM keys k" \
	" JOIN users u ON u.id = k.user_id"
static const char sql_key_list[] = KEY_SELECT " ORDER BY k.created, k.id";
static const char sql_key_get[] = KEY_SELECT " WHERE k.id = ?";
static const char sql_bindings[] =
	"SELECT workspace, role FROM bindings WHERE key_id = ?"
	" ORDER BY workspace, role";

static int key_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	sqlite3_stmt *b = store_stmt(st, sql_bindings);
	struct store_key *k = arg;
	int rc;

	memset(k, 0, sizeof(*k));
	store_col_copy(s, 0, k->id, sizeof(k->id));
	store_col_copy(s, 1, k->user, sizeof(k->user));
	k->created = sqlite3_column_int64(s, 2);
	k->revoked = sqlite3_column_int64(s, 3);
	if (!b)
		return -EIO;
	store_bind_text(b, 1, k->id);
	while ((rc = sqlite3_step(b)) == SQLITE_ROW &&
	       k->n_bindings < STORE_MAX_BINDINGS) {
		struct store_binding *bd = &k->bindings[k->n_bindings++];

		store_col_copy(b, 0, bd->workspace, sizeof(bd->workspace));
		store_col_copy(b, 1, bd->role, sizeof(bd->role));
	}
	sqlite3_reset(b);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(st, "reading bindings");
	return 0;
}

struct key_call {
	store_key_cb cb;
	void *arg;
};

static int key_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct key_call *c = arg;
	struct store_key k;
	int ret = key_from_row(st, s, &k);

	return ret ? ret : c->cb(c->arg, &k);
}

int store_key_list(struct store *st, store_key_cb cb, void *arg)
{
	struct key_call c = { cb, arg };

	return store_query(st, sql_key_list, NULL, NULL, key_row, &c,
			   "listing keys");
}

int store_key_get(struct store *st, const char *id, struct store_key *out)
{
	int ret = store_query_one(st, sql_key_get, id, NULL, key_from_row, out,
				  "reading a key");

	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}
