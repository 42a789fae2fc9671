// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening the store: the connection's settings and the schema, kept in
 * PRAGMA user_version and brought up to date by migrations in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-int.h"

/*
 * migrations[i] takes a store from version i to i + 1.  Never edit one
 * that has shipped: add the next.  Times are unix seconds; "revoked" and
 * "removed" are the time it happened, 0 while it has not.
 */
static const char *const migrations[] = {
	"CREATE TABLE org ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" name TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" server_ca BLOB NOT NULL,"
	" server_ca_key BLOB NOT NULL,"
	" server_cert BLOB NOT NULL,"
	" server_key BLOB NOT NULL);"
	"CREATE TABLE workspaces ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL,"
	" ca BLOB NOT NULL,"
	" ca_key BLOB NOT NULL);"
	"CREATE TABLE tokens ("
	" id TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL UNIQUE,"
	" workspace_id TEXT NOT NULL REFERENCES workspaces(id),"
	" created INTEGER NOT NULL,"
	" created_by TEXT NOT NULL,"
	" expires INTEGER NOT NULL,"
	" uses INTEGER NOT NULL DEFAULT 0,"
	" max_uses INTEGER NOT NULL CHECK (max_uses > 0),"
	" labels TEXT NOT NULL DEFAULT '{}',"
	" description TEXT NOT NULL DEFAULT '',"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" CHECK (uses <= max_uses));"
	"CREATE INDEX tokens_ws ON tokens(workspace_id, created);"
	"CREATE TABLE hosts ("
	" id TEXT PRIMARY KEY,"
	" workspace_id TEXT NOT NULL REFERENCES workspaces(id),"
	" hostname TEXT NOT NULL,"
	" machine_id TEXT NOT NULL,"
	" token_id TEXT NOT NULL,"
	" labels TEXT NOT NULL DEFAULT '{}',"
	" serial TEXT NOT NULL,"
	" prev_serial TEXT NOT NULL DEFAULT '',"
	" cert_not_after INTEGER NOT NULL,"
	" enrolled INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" agent_version TEXT NOT NULL DEFAULT '',"
	" kernel TEXT NOT NULL DEFAULT '',"
	" uptime INTEGER NOT NULL DEFAULT 0,"
	" address TEXT NOT NULL DEFAULT '',"
	" dataplane TEXT NOT NULL DEFAULT '{}',"
	" removed INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (workspace_id, machine_id));"
	"CREATE TABLE users ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE keys ("
	" id TEXT PRIMARY KEY,"
	" user_id TEXT NOT NULL REFERENCES users(id),"
	" hash TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE roles ("
	" workspace_id TEXT NOT NULL REFERENCES workspaces(id),"
	" name TEXT NOT NULL,"
	" permissions TEXT NOT NULL,"
	" builtin INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (workspace_id, name));"
	/* workspace is an id or "*", so no reference; role is a name */
	"CREATE TABLE bindings ("
	" key_id TEXT NOT NULL REFERENCES keys(id),"
	" workspace TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" PRIMARY KEY (key_id, workspace, role));"
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" workspace TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" prev TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE INDEX audit_ws ON audit(workspace, seq);",

	/*
	 * 2: declared configuration.  A ruleset version never changes (the
	 * trigger says so to whoever edits the file); a host's desired state
	 * is the ruleset version and mode its assignments give it, desired_name
	 * '' for none, under a generation that only grows.  error_gen is the
	 * generation the host last failed to apply (apply_error then says
	 * why); counters are the host's last report, as JSON.
	 */
	"CREATE TABLE ruleset_versions ("
	" workspace_id TEXT NOT NULL REFERENCES workspaces(id),"
	" name TEXT NOT NULL,"
	" version INTEGER NOT NULL CHECK (version > 0),"
	" text TEXT NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" author TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" rules INTEGER NOT NULL,"
	" PRIMARY KEY (workspace_id, name, version));"
	"CREATE TRIGGER ruleset_versions_immutable"
	" BEFORE UPDATE ON ruleset_versions"
	" BEGIN SELECT RAISE(ABORT, 'ruleset versions are immutable'); END;"
	"CREATE TABLE assignments ("
	" id TEXT PRIMARY KEY,"
	" workspace_id TEXT NOT NULL REFERENCES workspaces(id),"
	" ruleset TEXT NOT NULL,"
	" version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),"
	" selector TEXT NOT NULL DEFAULT '',"
	" priority INTEGER NOT NULL,"
	" mode TEXT NOT NULL CHECK (mode IN ('enforce', 'audit')),"
	" percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),"
	" hosts TEXT NOT NULL DEFAULT '[]',"
	" author TEXT NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX assignments_ws ON assignments(workspace_id, priority, id);"
	"ALTER TABLE hosts ADD COLUMN desired_gen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN desired_name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN desired_version INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN desired_mode TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN applied_gen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN error_gen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN apply_error TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN applied_hash TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN drift INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN last_applied INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN counters TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE hosts ADD COLUMN counters_gen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN counters_hash TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN counters_time INTEGER NOT NULL DEFAULT 0;",

	/*
	 * 3: ruleset:write, granted by the built-in admin and operator roles
	 * of the workspaces made before it existed (after host:remove, in
	 * store_permissions order).
	 */
	"UPDATE roles SET permissions = replace(permissions,"
	" 'host:remove', 'host:remove ruleset:write')"
	" WHERE builtin = 1 AND name IN ('admin', 'operator')"
	" AND instr(' ' || permissions || ' ', ' ruleset:write ') = 0;",
};
#define STORE_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
	return STORE_VERSION;
}

static int exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_err("store %s: %s", st->path, msg ? msg : "unknown error");
	sqlite3_free(msg);
	return -EIO;
}

static int user_version(struct store *st, int *version)
{
	sqlite3_stmt *s;
	int ret = -EIO;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_db_err(st, "reading the schema version");
	if (sqlite3_step(s) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		ret = 0;
	}
	sqlite3_finalize(s);
	return ret ? store_db_err(st, "reading the schema version") : 0;
}

/* Each migration and its new version commit together. */
static int migrate(struct store *st, int target)
{
	char sql[64];
	int version = 0, ret;

	ret = user_version(st, &version);
	if (ret)
		return ret;
	if (version > STORE_VERSION) {
		log_err("store %s: schema version %d is newer than this "
			"program knows (%d)",
			st->path, version, STORE_VERSION);
		return -EPROTO;
	}
	for (; version < target; version++) {
		ret = store_begin(st);
		if (ret)
			return ret;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 version + 1);
		ret = exec(st, migrations[version]);
		if (!ret)
			ret = exec(st, sql);
		if (!ret)
			ret = store_commit(st);
		if (ret)
			return store_end(st, ret);
		log_info("store %s: schema version %d", st->path, version + 1);
	}
	return 0;
}

int store_open(const char *path, struct store **out)
{
	return store_open_version(path, STORE_VERSION, out);
}

int store_open_version(const char *path, int version, struct store **out)
{
	struct store *st;
	int ret;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->path = strdup(path);
	if (!st->path) {
		ret = -ENOMEM;
		goto out;
	}
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		ret = store_db_err(st, "opening");
		goto out;
	}
	/*
	 * WAL with synchronous=NORMAL: a commit is durable once the WAL is
	 * synced at checkpoint; a crash loses at most the last commits,
	 * never consistency.  busy_timeout covers moatctl-side readers.
	 */
	ret = exec(st, "PRAGMA journal_mode = WAL;"
		       "PRAGMA synchronous = NORMAL;"
		       "PRAGMA foreign_keys = ON;"
		       "PRAGMA busy_timeout = 5000;");
	if (!ret)
		ret = migrate(st, version < STORE_VERSION ? version :
							     STORE_VERSION);
out:
	if (ret) {
		store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_stmts; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

void store_set_time(struct store *st, int64_t now)
{
	st->fixed_now = now;
}

int64_t store_now(const struct store *st)
{
	return st->fixed_now ? st->fixed_now : (int64_t)time(NULL);
}
