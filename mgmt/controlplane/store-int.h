/* SPDX-License-Identifier: GPL-2.0-only */
/* What the store's files share: the handle, statements, transactions. */
#ifndef MOAT_STORE_INT_H
#define MOAT_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

#define STORE_MAX_STMTS 128

struct store {
	sqlite3 *db;
	char *path;
	int64_t fixed_now;
	bool in_txn;
	/* prepared once, keyed by the address of their SQL text */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} stmts[STORE_MAX_STMTS];
	size_t n_stmts;
};

/*
 * The prepared statement for @sql (a string literal: its address is the
 * key), reset and unbound; NULL (logged) when it cannot be prepared.
 */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);

/* Logs SQLite's message for @what and returns -EIO. */
int store_db_err(struct store *st, const char *what);

/* Runs a statement that returns no rows: 0, or -EIO (logged).  A
 * constraint violation is -EEXIST. */
int store_exec_step(struct store *st, sqlite3_stmt *s, const char *what);

/* BEGIN IMMEDIATE: the write lock up front, so no upgrade can fail. */
int store_begin(struct store *st);
int store_commit(struct store *st);
/* Keeps @ret: for "goto out" paths. */
int store_end(struct store *st, int ret);

/* Binds @s (NULL binds NULL) as text at @i. */
int store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Column @i as text ("" for NULL) into @buf, truncated to @len. */
void store_col_copy(sqlite3_stmt *s, int i, char *buf, size_t len);
/* Column @i as malloc'd text; NULL when out of memory. */
char *store_col_dup(sqlite3_stmt *s, int i);
int store_col_blob(sqlite3_stmt *s, int i, struct store_blob *b);

/*
 * Steps @s through its rows, calling @row for each until it returns
 * non-zero (returned); then resets @s.  -EIO (logged, naming @what) when
 * SQLite fails.
 */
typedef int (*store_row_fn)(struct store *st, sqlite3_stmt *s, void *arg);
int store_rows(struct store *st, sqlite3_stmt *s, store_row_fn row, void *arg,
	       const char *what);

/* The one row of @s through @row (into @out); -ENOENT when none. */
int store_row_one(struct store *st, sqlite3_stmt *s, store_row_fn row,
		  void *out, const char *what);

/*
 * Runs @sql with text parameters @a and @b (NULL: left unbound) through
 * store_rows(), or store_row_one() into @out.  SQLite reads the
 * parameters during the step, before @row fills @out: they may live in
 * @out.
 */
int store_query(struct store *st, const char *sql, const char *a, const char *b,
		store_row_fn row, void *arg, const char *what);
int store_query_one(struct store *st, const char *sql, const char *a,
		    const char *b, store_row_fn row, void *out,
		    const char *what);

/*
 * Runs @sql (no rows) with text parameters @a, @b, @c (NULL: left
 * unbound): 0, or -ENOENT when it changed no row.
 */
int store_change(struct store *st, const char *sql, const char *a,
		 const char *b, const char *c, const char *what);

/* [a-z0-9] then up to 62 of [a-z0-9] and @also. */
bool store_name_valid_with(const char *name, const char *also);

/* Appends a record inside the caller's transaction. */
int store_audit_add(struct store *st, const struct store_who *who,
		    const char *action, const char *workspace,
		    const char *target, const char *result, const char *detail);

/* Random base64url text (no padding) of @n bytes. */
int store_random_b64(size_t n, char *out, size_t out_len);

/* The built-in roles' permissions, as a role's text; NULL if not one. */
const char *store_builtin_role(const char *name);
/* Creates the built-in roles in @workspace_id (inside a transaction). */
int store_roles_builtin_add(struct store *st, const char *workspace_id);
/* Whether @perms (space-separated) contains @perm. */
bool store_perms_have(const char *perms, const char *perm);

/* The token whose secret hashes to @hash (clear @out); -ENOENT. */
int store_token_by_hash(struct store *st, const char *hash,
			struct store_token *out);

/* store_key_create() inside the caller's transaction, unaudited. */
int store_key_add(struct store *st, const char *user,
		  const struct store_binding *bindings, size_t n,
		  struct store_key *out, char secret[STORE_SECRET_LEN]);

/* store_open() that migrates up to schema @version only (tests of the
 * migrations). */
int store_open_version(const char *path, int version, struct store **out);
/* The schema version this program brings stores up to. */
int store_schema_version(void);

/*
 * store_desired_recompute() inside the caller's transaction: the hosts
 * whose generation moved are added to @ch, for the caller to report once
 * its transaction has committed (store_changes_report()).
 */
struct store_changes {
	struct store_changed {
		char host_id[STORE_ID_LEN];
		uint64_t generation;
	} *v;
	size_t n;
};
int store_desired_update(struct store *st, const char *ws_id,
			 const char *host_id, struct store_changes *ch);
/* Calls @fn (may be NULL) for each change, then frees them. */
void store_changes_report(struct store_changes *ch, store_desired_fn fn,
			  void *arg);

/* Whether @json is a JSON object (@object) or array of strings. */
int store_json_check(struct store *st, const char *json, bool object,
		     bool *ok);

#endif /* MOAT_STORE_INT_H */
