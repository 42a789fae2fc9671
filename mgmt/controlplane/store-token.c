// SPDX-License-Identifier: GPL-2.0-only
/*
 * Install tokens: minted, listed with their state, revoked.  Only the
 * SHA-256 of a token's secret is kept; enrollment (store-enroll.c) finds
 * a token by that hash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

#define TOKEN_PREFIX "moat-tok-"

const char *store_token_state_name(enum store_token_state s)
{
	switch (s) {
	case STORE_TOKEN_VALID:
		return "valid";
	case STORE_TOKEN_EXPIRED:
		return "expired";
	case STORE_TOKEN_EXHAUSTED:
		return "exhausted";
	case STORE_TOKEN_REVOKED:
		return "revoked";
	}
	return "?";
}

void store_token_clear(struct store_token *t)
{
	free(t->labels);
	free(t->description);
	t->labels = NULL;
	t->description = NULL;
}

#define TOKEN_COLUMNS                                                     \
	"id, workspace_id, created_by, created, expires, uses, max_uses," \
	" revoked, labels, description"

/* Revoked first: a revoked token says so even once it has expired. */
static enum store_token_state token_state(const struct store_token *t,
					  int64_t now)
{
	if (t->revoked)
		return STORE_TOKEN_REVOKED;
	if (now >= t->expires)
		return STORE_TOKEN_EXPIRED;
	if (t->uses >= t->max_uses)
		return STORE_TOKEN_EXHAUSTED;
	return STORE_TOKEN_VALID;
}

static int token_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_token *t = arg;

	memset(t, 0, sizeof(*t));
	store_col_copy(s, 0, t->id, sizeof(t->id));
	store_col_copy(s, 1, t->workspace_id, sizeof(t->workspace_id));
	store_col_copy(s, 2, t->created_by, sizeof(t->created_by));
	t->created = sqlite3_column_int64(s, 3);
	t->expires = sqlite3_column_int64(s, 4);
	t->uses = sqlite3_column_int64(s, 5);
	t->max_uses = sqlite3_column_int64(s, 6);
	t->revoked = sqlite3_column_int64(s, 7);
	t->labels = store_col_dup(s, 8);
	t->description = store_col_dup(s, 9);
	t->state = token_state(t, store_now(st));
	if (!t->labels || !t->description) {
		store_token_clear(t);
		return -ENOMEM;
	}
	return 0;
}

/* One statement each, as SQLite plans "?2 IS NULL OR id = ?2" as a scan. */
static const char sql_list[] = "SELECT " TOKEN_COLUMNS " FROM tokens"
			       " WHERE workspace_id = ?1"
			       " ORDER BY created DESC, id";
static const char sql_get[] = "SELECT " TOKEN_COLUMNS " FROM tokens"
			      " WHERE workspace_id = ?1 AND id = ?2";
static const char sql_by_hash[] = "SELECT " TOKEN_COLUMNS " FROM tokens"
				  " WHERE hash = ?1";

struct token_call {
	store_token_cb cb;
	void *arg;
};

static int token_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct token_call *c = arg;
	struct store_token t;
	int ret = token_from_row(st, s, &t);

	if (!ret)
		ret = c->cb(c->arg, &t);
	store_token_clear(&t);
	return ret;
}

int store_token_list(struct store *st, const char *workspace_id,
		     store_token_cb cb, void *arg)
{
	struct token_call c = { cb, arg };

	return store_query(st, sql_list, workspace_id, NULL, token_row, &c,
			   "listing tokens");
}

int store_token_get(struct store *st, const char *workspace_id, const char *id,
		    struct store_token *out)
{
	int ret = store_query_one(st, sql_get, workspace_id, id, token_from_row,
				  out, "reading a token");

	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

int store_token_by_hash(struct store *st, const char *hash,
			struct store_token *out)
{
	int ret = store_query_one(st, sql_by_hash, hash, NULL, token_from_row,
				  out, "reading a token");

	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

static const char sql_insert[] =
	"INSERT INTO tokens (id, hash, workspace_id, created, created_by,"
	" expires, max_uses, labels, description)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

int store_token_create(struct store *st, const struct store_who *who,
		       const char *workspace_id, int64_t expires,
		       int64_t max_uses, const char *labels,
		       const char *description, struct store_token *out,
		       char secret[STORE_SECRET_LEN])
{
	char id[STORE_ID_LEN], hash[STORE_HASH_LEN], detail[256];
	char exp[24], max[24];
	sqlite3_stmt *s;
	int ret;

	if (max_uses < 1) {
		log_warn("token: max_uses %" PRId64 " is not positive",
			 max_uses);
		return -EINVAL;
	}
	memcpy(secret, TOKEN_PREFIX, sizeof(TOKEN_PREFIX));
	ret = store_random_b64(32, secret + strlen(TOKEN_PREFIX),
			       STORE_SECRET_LEN - strlen(TOKEN_PREFIX));
	if (!ret)
		ret = store_sha256_hex(secret, strlen(secret), hash);
	if (!ret)
		ret = store_new_id('t', id);
	snprintf(exp, sizeof(exp), "%" PRId64, expires);
	snprintf(max, sizeof(max), "%" PRId64, max_uses);
	if (!ret)
		ret = store_json_detail(detail, sizeof(detail), "expires", exp,
					"max_uses", max, NULL);
	if (!ret)
		ret = store_begin(st);
	if (ret)
		goto fail;
	s = store_stmt(st, sql_insert);
	if (!s) {
		ret = -EIO;
		goto out;
	}
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, hash);
	store_bind_text(s, 3, workspace_id);
	sqlite3_bind_int64(s, 4, store_now(st));
	store_bind_text(s, 5, who && who->actor ? who->actor : "system");
	sqlite3_bind_int64(s, 6, expires);
	sqlite3_bind_int64(s, 7, max_uses);
	store_bind_text(s, 8, labels ? labels : "{}");
	store_bind_text(s, 9, description ? description : "");
	ret = store_exec_step(st, s, "creating a token");
	/* the only constraint a fresh random id can fail is the workspace */
	if (ret == -EEXIST)
		ret = -ENOENT;
	if (!ret)
		ret = store_audit_add(st, who, "token.create", workspace_id, id,
				      "ok", detail);
out:
	ret = store_end(st, ret);
	if (!ret && out)
		ret = store_token_get(st, workspace_id, id, out);
fail:
	if (ret)
		memset(secret, 0, STORE_SECRET_LEN);
	return ret;
}

static const char sql_revoke[] =
	"UPDATE tokens SET revoked = ? WHERE workspace_id = ? AND id = ?"
	" AND revoked = 0";

int store_token_revoke(struct store *st, const struct store_who *who,
		       const char *workspace_id, const char *id,
		       struct store_token *out)
{
	struct store_token t;
	sqlite3_stmt *s;
	int ret;

	ret = store_begin(st);
	if (ret)
		return ret;
	ret = store_token_get(st, workspace_id, id, &t);
	if (ret)
		goto out;
	store_token_clear(&t);
	if (t.revoked) {
		ret = -EALREADY;
		goto out;
	}
	s = store_stmt(st, sql_revoke);
	if (!s) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, store_now(st));
	store_bind_text(s, 2, workspace_id);
	store_bind_text(s, 3, id);
	ret = store_exec_step(st, s, "revoking a token");
	if (!ret)
		ret = store_audit_add(st, who, "token.revoke", workspace_id, id,
				      "ok", NULL);
out:
	ret = store_end(st, ret);
	if (!ret && out)
		ret = store_token_get(st, workspace_id, id, out);
	return ret;
}
