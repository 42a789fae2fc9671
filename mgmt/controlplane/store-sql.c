// SPDX-License-Identifier: GPL-2.0-only
/* The store's SQLite plumbing: statements, transactions, columns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

int store_db_err(struct store *st, const char *what)
{
	log_err("store %s: %s: %s", st->path, what,
		st->db ? sqlite3_errmsg(st->db) : "out of memory");
	return -EIO;
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	size_t i;

	for (i = 0; i < st->n_stmts; i++) {
		if (st->stmts[i].sql == sql) {
			s = st->stmts[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (st->n_stmts == STORE_MAX_STMTS) {
		log_err("store: more than %d statements", STORE_MAX_STMTS);
		return NULL;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
			       NULL) != SQLITE_OK) {
		log_err("store: cannot prepare `%s': %s", sql,
			sqlite3_errmsg(st->db));
		return NULL;
	}
	st->stmts[i].sql = sql;
	st->stmts[i].stmt = s;
	st->n_stmts++;
	return s;
}

int store_exec_step(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	return store_db_err(st, what);
}

static int simple(struct store *st, const char *sql)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return store_exec_step(st, s, sql);
}

int store_begin(struct store *st)
{
	int ret;

	if (st->in_txn) {
		log_err("store: a transaction is already open");
		return -EBUSY;
	}
	ret = simple(st, "BEGIN IMMEDIATE");
	if (!ret)
		st->in_txn = true;
	return ret;
}

int store_commit(struct store *st)
{
	int ret = simple(st, "COMMIT");

	/* a failed COMMIT leaves the transaction open: store_end rolls back */
	if (!ret)
		st->in_txn = false;
	return ret;
}

int store_end(struct store *st, int ret)
{
	if (!st->in_txn)
		return ret;
	if (!ret)
		ret = store_commit(st);
	if (ret && st->in_txn) {
		if (sqlite3_get_autocommit(st->db) == 0)
			simple(st, "ROLLBACK");
		st->in_txn = false;
	}
	return ret;
}

int store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	int rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) :
		     sqlite3_bind_null(s, i);

	return rc == SQLITE_OK ? 0 : -ENOMEM;
}

void store_col_copy(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

char *store_col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return strdup(t ? (const char *)t : "");
}

int store_col_blob(sqlite3_stmt *s, int i, struct store_blob *b)
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	b->len = (size_t)n;
	b->data = malloc(b->len + 1);
	if (!b->data)
		return -ENOMEM;
	if (n)
		memcpy(b->data, p, b->len);
	b->data[b->len] = '\0';
	return 0;
}

int store_rows(struct store *st, sqlite3_stmt *s, store_row_fn row, void *arg,
	       const char *what)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret = row(st, s, arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_db_err(st, what);
	sqlite3_reset(s);
	return ret;
}

int store_row_one(struct store *st, sqlite3_stmt *s, store_row_fn row,
		  void *out, const char *what)
{
	int rc = sqlite3_step(s), ret;

	if (rc == SQLITE_ROW)
		ret = row(st, s, out);
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = store_db_err(st, what);
	sqlite3_reset(s);
	return ret;
}

static sqlite3_stmt *query(struct store *st, const char *sql, const char *a,
			   const char *b)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (s && a)
		store_bind_text(s, 1, a);
	if (s && b)
		store_bind_text(s, 2, b);
	return s;
}

int store_query(struct store *st, const char *sql, const char *a, const char *b,
		store_row_fn row, void *arg, const char *what)
{
	sqlite3_stmt *s = query(st, sql, a, b);

	return s ? store_rows(st, s, row, arg, what) : -EIO;
}

int store_query_one(struct store *st, const char *sql, const char *a,
		    const char *b, store_row_fn row, void *out,
		    const char *what)
{
	sqlite3_stmt *s = query(st, sql, a, b);

	return s ? store_row_one(st, s, row, out, what) : -EIO;
}

int store_change(struct store *st, const char *sql, const char *a,
		 const char *b, const char *c, const char *what)
{
	sqlite3_stmt *s = query(st, sql, a, b);
	int ret;

	if (!s)
		return -EIO;
	if (c)
		store_bind_text(s, 3, c);
	ret = store_exec_step(st, s, what);
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	return ret;
}

void store_blob_clear(struct store_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}
