// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who a bearer key is, whether it may do something, and revoking it.
 * Anything not granted by a binding is denied.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "store-int.h"

#define KEY_PREFIX "moat-key-"

static const char sql_key_hash[] =
	"SELECT hash, revoked FROM keys WHERE id = ?";

int store_key_auth(struct store *st, const char *secret, struct store_key *out)
{
	char id[STORE_ID_LEN], want[STORE_HASH_LEN], got[STORE_HASH_LEN];
	const size_t plen = strlen(KEY_PREFIX);
	sqlite3_stmt *s;
	bool ok = false;
	int rc, ret;

	memset(out, 0, sizeof(*out));
	/* "moat-key-" KEYID "-" secret: the id is a fixed length */
	if (strncmp(secret, KEY_PREFIX, plen) ||
	    strlen(secret) < plen + STORE_ID_LEN ||
	    secret[plen + STORE_ID_LEN - 1] != '-')
		return -EACCES;
	memcpy(id, secret + plen, STORE_ID_LEN - 1);
	id[STORE_ID_LEN - 1] = '\0';
	ret = store_sha256_hex(secret, strlen(secret), got);
	if (ret)
		return ret;
	s = store_stmt(st, sql_key_hash);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_col_copy(s, 0, want, sizeof(want));
		ok = !sqlite3_column_int64(s, 1) && strlen(want) == 64 &&
		     !CRYPTO_memcmp(want, got, 64);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(st, "reading a key");
	if (!ok)
		return -EACCES;
	return store_key_get(st, id, out);
}

static const char sql_revoke[] =
	"UPDATE keys SET revoked = ? WHERE id = ? AND revoked = 0";

int store_key_revoke(struct store *st, const struct store_who *who,
		     const char *id)
{
	struct store_key k;
	sqlite3_stmt *s;
	int ret = store_begin(st);

	if (ret)
		return ret;
	s = store_stmt(st, sql_revoke);
	if (!s) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, store_now(st));
	store_bind_text(s, 2, id);
	ret = store_exec_step(st, s, "revoking a key");
	if (!ret && sqlite3_changes(st->db) == 0) {
		ret = store_key_get(st, id, &k);
		if (!ret)
			ret = -EALREADY;
	}
	if (!ret)
		ret = store_audit_add(st, who, "key.revoke", "", id, "ok",
				      NULL);
out:
	return store_end(st, ret);
}

static const char sql_role_perms[] =
	"SELECT permissions FROM roles WHERE workspace_id = ? AND name = ?";
static const char sql_role_everywhere[] =
	"SELECT count(*), (SELECT count(*) FROM workspaces) FROM roles"
	" WHERE name = ? AND instr(' ' || permissions || ' ', ' ' || ? || ' ')";

/* Whether role @role grants @perm in @ws ("*": in every workspace). */
static int role_grants(struct store *st, const char *ws, const char *role,
		       const char *perm, bool *yes)
{
	const char *builtin = store_builtin_role(role);
	sqlite3_stmt *s;
	int rc;

	*yes = false;
	/* built-in roles are the same everywhere and cannot be edited */
	if (builtin) {
		*yes = store_perms_have(builtin, perm);
		return 0;
	}
	if (!strcmp(ws, "*")) {
		s = store_stmt(st, sql_role_everywhere);
		if (!s)
			return -EIO;
		store_bind_text(s, 1, role);
		store_bind_text(s, 2, perm);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*yes = sqlite3_column_int64(s, 0) > 0 &&
			       sqlite3_column_int64(s, 0) ==
				       sqlite3_column_int64(s, 1);
	} else {
		s = store_stmt(st, sql_role_perms);
		if (!s)
			return -EIO;
		store_bind_text(s, 1, ws);
		store_bind_text(s, 2, role);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*yes = store_perms_have(
				(const char *)sqlite3_column_text(s, 0), perm);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(st, "reading a role");
	return 0;
}

static int allowed(struct store *st, const char *key_id, const char *ws,
		   const char *perm, bool any)
{
	struct store_key k;
	bool yes = false;
	int ret;

	if (!store_permission_valid(perm)) {
		log_err("store: unknown permission `%s'", perm);
		return -EINVAL;
	}
	ret = store_key_get(st, key_id, &k);
	if (ret == -ENOENT || (!ret && k.revoked))
		return -EACCES;
	if (ret)
		return ret;
	for (size_t i = 0; !ret && !yes && i < k.n_bindings; i++) {
		const struct store_binding *b = &k.bindings[i];

		if (any)
			ret = role_grants(st, b->workspace, b->role, perm,
					  &yes);
		else if (!strcmp(b->workspace, "*") ||
			 !strcmp(b->workspace, ws))
			/* a "*" binding's role is read in @ws itself */
			ret = role_grants(st, ws, b->role, perm, &yes);
	}
	if (ret)
		return ret;
	return yes ? 0 : -EACCES;
}

int store_allowed(struct store *st, const char *key_id,
		  const char *workspace_id, const char *perm)
{
	return allowed(st, key_id, workspace_id, perm, false);
}

int store_allowed_any(struct store *st, const char *key_id, const char *perm)
{
	return allowed(st, key_id, "*", perm, true);
}
