// SPDX-License-Identifier: GPL-2.0-only
/*
 * The store's side of the agent channel's declared configuration: the
 * desired state a host is sent, and what it reports back (applied, its
 * counters).  Reports write no audit record, as heartbeats do not: they
 * are the host's word about itself, many a minute.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

void store_desired_clear(struct store_desired *d)
{
	free(d->text);
	d->text = NULL;
}

/* A LEFT JOIN: "none" has no version row. */
static const char sql_desired[] =
	"SELECT h.desired_gen, h.desired_name, h.desired_version,"
	" h.desired_mode, v.sha256, v.text FROM hosts h"
	" LEFT JOIN ruleset_versions v ON v.workspace_id = h.workspace_id"
	" AND v.name = h.desired_name AND v.version = h.desired_version"
	" WHERE h.id = ?1 AND h.removed = 0";

static int desired_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_desired *d = arg;

	(void)st;
	memset(d, 0, sizeof(*d));
	d->generation = (uint64_t)sqlite3_column_int64(s, 0);
	d->has_ruleset = sqlite3_column_type(s, 5) != SQLITE_NULL;
	if (!d->has_ruleset)
		return 0;
	store_col_copy(s, 1, d->name, sizeof(d->name));
	d->version = sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, d->mode, sizeof(d->mode));
	store_col_copy(s, 4, d->sha256, sizeof(d->sha256));
	d->text = store_col_dup(s, 5);
	return d->text ? 0 : -ENOMEM;
}

int store_host_desired(struct store *st, const char *host_id,
		       struct store_desired *out)
{
	int ret = store_query_one(st, sql_desired, host_id, NULL,
				  desired_from_row, out,
				  "reading a desired state");

	/* the row's last allocation is what fails: nothing to free */
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

/*
 * Success: the generation is in force, any error and drift are gone
 * unless the host says otherwise.  Failure: the previous generation
 * stays in force; the error is kept with the generation it is about.
 */
static const char sql_ok[] =
	"UPDATE hosts SET applied_gen = ?1, apply_error = '', error_gen = 0,"
	" applied_hash = ?2, drift = ?3, last_applied = ?4"
	" WHERE id = ?5 AND removed = 0";
static const char sql_failed[] =
	"UPDATE hosts SET error_gen = ?1, apply_error = ?6,"
	" applied_hash = ?2, drift = ?3, last_applied = ?4"
	" WHERE id = ?5 AND removed = 0";

int store_host_applied(struct store *st, const char *host_id,
		       uint64_t generation, bool ok, const char *error,
		       const char *ruleset_hash, bool drift)
{
	sqlite3_stmt *s = store_stmt(st, ok ? sql_ok : sql_failed);
	int ret;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)generation);
	store_bind_text(s, 2, ruleset_hash ? ruleset_hash : "");
	sqlite3_bind_int(s, 3, drift);
	sqlite3_bind_int64(s, 4, store_now(st));
	store_bind_text(s, 5, host_id);
	if (!ok)
		store_bind_text(s, 6, error && error[0] ? error : "error");
	ret = store_exec_step(st, s, "recording an apply");
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	return ret;
}

static const char sql_counters_set[] =
	"UPDATE hosts SET counters = ?1, counters_gen = ?2,"
	" counters_hash = ?3, counters_time = ?4"
	" WHERE id = ?5 AND removed = 0"
	" AND CASE WHEN json_valid(?1) THEN json_type(?1) = 'array' ELSE 0 END";

int store_host_counters_set(struct store *st, const char *host_id,
			    uint64_t generation, const char *ruleset_hash,
			    const char *rules_json)
{
	sqlite3_stmt *s = store_stmt(st, sql_counters_set);
	int ret;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, rules_json);
	sqlite3_bind_int64(s, 2, (int64_t)generation);
	store_bind_text(s, 3, ruleset_hash ? ruleset_hash : "");
	sqlite3_bind_int64(s, 4, store_now(st));
	store_bind_text(s, 5, host_id);
	ret = store_exec_step(st, s, "recording counters");
	if (!ret && sqlite3_changes(st->db) == 0) {
		struct store_desired d;

		/* which: the host, or the JSON */
		ret = store_host_desired(st, host_id, &d);
		store_desired_clear(&d);
		if (!ret) {
			log_err("host %s: counters are not a JSON array: `%.200s'",
				host_id, rules_json);
			ret = -EINVAL;
		}
	}
	return ret;
}

void store_counters_clear(struct store_counters *c)
{
	free(c->rules);
	c->rules = NULL;
}

#define COUNTERS_SELECT                                                   \
	"SELECT id, counters_gen, counters_hash, counters_time, counters" \
	" FROM hosts"
static const char sql_counters[] =
	COUNTERS_SELECT " WHERE workspace_id = ?1 AND id = ?2";
static const char sql_ruleset_counters[] = COUNTERS_SELECT
	" WHERE workspace_id = ?1 AND removed = 0"
	" AND counters_time > 0 AND counters_hash IN (SELECT sha256"
	" FROM ruleset_versions WHERE workspace_id = ?1 AND name = ?2)"
	" ORDER BY id";

static int counters_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_counters *c = arg;

	(void)st;
	memset(c, 0, sizeof(*c));
	store_col_copy(s, 0, c->host_id, sizeof(c->host_id));
	c->generation = (uint64_t)sqlite3_column_int64(s, 1);
	store_col_copy(s, 2, c->ruleset_hash, sizeof(c->ruleset_hash));
	c->time = sqlite3_column_int64(s, 3);
	c->rules = store_col_dup(s, 4);
	return c->rules ? 0 : -ENOMEM;
}

int store_host_counters(struct store *st, const char *ws_id,
			const char *host_id, struct store_counters *out)
{
	int ret = store_query_one(st, sql_counters, ws_id, host_id,
				  counters_from_row, out, "reading counters");

	/* the row's last allocation is what fails: nothing to free */
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

struct counters_call {
	store_counters_cb cb;
	void *arg;
};

static int counters_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct counters_call *c = arg;
	struct store_counters x;
	int ret = counters_from_row(st, s, &x);

	if (!ret)
		ret = c->cb(c->arg, &x);
	store_counters_clear(&x);
	return ret;
}

int store_ruleset_counters(struct store *st, const char *ws_id,
			   const char *name, store_counters_cb cb, void *arg)
{
	struct counters_call c = { cb, arg };

	return store_query(st, sql_ruleset_counters, ws_id, name, counters_row,
			   &c, "listing counters");
}
