// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rulesets: named, with immutable versions 1, 2, ... of their text.  The
 * text was validated by the caller (ruleset-check.c); the store numbers
 * it, keeps who wrote it, and moves the hosts whose "latest" it changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

void store_ruleset_version_clear(struct store_ruleset_version *v)
{
	free(v->text);
	v->text = NULL;
}

#define VERSION_COLUMNS \
	"workspace_id, name, version, sha256, author, created, rules"

static const char sql_get[] = "SELECT " VERSION_COLUMNS ", text"
			      " FROM ruleset_versions WHERE workspace_id = ?1"
			      " AND name = ?2 AND version = ?3";
static const char sql_latest[] = "SELECT " VERSION_COLUMNS ", text"
				 " FROM ruleset_versions"
				 " WHERE workspace_id = ?1 AND name = ?2"
				 " ORDER BY version DESC LIMIT 1";
static const char sql_versions[] =
	"SELECT " VERSION_COLUMNS " FROM ruleset_versions"
	" WHERE workspace_id = ?1 AND name = ?2"
	" ORDER BY version";
static const char sql_list[] =
	"SELECT " VERSION_COLUMNS " FROM ruleset_versions r"
	" WHERE workspace_id = ?1 AND version = (SELECT max(version)"
	" FROM ruleset_versions WHERE workspace_id = r.workspace_id"
	" AND name = r.name) ORDER BY name";
static const char sql_insert[] =
	"INSERT INTO ruleset_versions (workspace_id, name, version, text,"
	" sha256, author, created, rules) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/* The columns of VERSION_COLUMNS, then the text when there is one. */
static int version_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_ruleset_version *v = arg;

	(void)st;
	memset(v, 0, sizeof(*v));
	store_col_copy(s, 0, v->workspace_id, sizeof(v->workspace_id));
	store_col_copy(s, 1, v->name, sizeof(v->name));
	v->version = sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, v->sha256, sizeof(v->sha256));
	store_col_copy(s, 4, v->author, sizeof(v->author));
	v->created = sqlite3_column_int64(s, 5);
	v->rules = sqlite3_column_int64(s, 6);
	if (sqlite3_column_count(s) > 7) {
		v->text = store_col_dup(s, 7);
		if (!v->text)
			return -ENOMEM;
	}
	return 0;
}

int store_ruleset_get(struct store *st, const char *ws_id, const char *name,
		      int64_t version, struct store_ruleset_version *out)
{
	sqlite3_stmt *s = store_stmt(st, version ? sql_get : sql_latest);
	int ret;

	/* @ws_id and @name may live in @out: it is written by the row */
	if (!s) {
		memset(out, 0, sizeof(*out));
		return -EIO;
	}
	store_bind_text(s, 1, ws_id);
	store_bind_text(s, 2, name);
	if (version)
		sqlite3_bind_int64(s, 3, version);
	ret = store_row_one(st, s, version_from_row, out, "reading a ruleset");
	/* the row's last allocation is what fails: nothing to free */
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

struct version_call {
	store_ruleset_cb cb;
	void *arg;
	size_t n;
};

static int version_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct version_call *c = arg;
	struct store_ruleset_version v;
	int ret = version_from_row(st, s, &v);

	c->n++;
	if (!ret)
		ret = c->cb(c->arg, &v);
	store_ruleset_version_clear(&v);
	return ret;
}

int store_ruleset_list(struct store *st, const char *ws_id, store_ruleset_cb cb,
		       void *arg)
{
	struct version_call c = { cb, arg, 0 };

	return store_query(st, sql_list, ws_id, NULL, version_row, &c,
			   "listing rulesets");
}

int store_ruleset_versions(struct store *st, const char *ws_id,
			   const char *name, store_ruleset_cb cb, void *arg)
{
	struct version_call c = { cb, arg, 0 };
	int ret = store_query(st, sql_versions, ws_id, name, version_row, &c,
			      "listing ruleset versions");

	return !ret && !c.n ? -ENOENT : ret;
}

static int version_insert(struct store *st, const struct store_who *who,
			  const struct store_ruleset_version *v,
			  const char *text)
{
	sqlite3_stmt *s = store_stmt(st, sql_insert);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, v->workspace_id);
	store_bind_text(s, 2, v->name);
	sqlite3_bind_int64(s, 3, v->version);
	store_bind_text(s, 4, text);
	store_bind_text(s, 5, v->sha256);
	store_bind_text(s, 6, who && who->actor ? who->actor : "system");
	sqlite3_bind_int64(s, 7, v->created);
	sqlite3_bind_int64(s, 8, v->rules);
	return store_exec_step(st, s, "adding a ruleset version");
}

static int version_check(const char *name, const char *text)
{
	size_t len = strlen(text);

	if (!store_name_valid(name)) {
		log_err("ruleset name is not [a-z0-9][a-z0-9-]{0,62}: `%s'",
			name);
		return -EINVAL;
	}
	if (len > STORE_RULESET_TEXT_MAX) {
		log_err("ruleset %s: text of %zu bytes, at most %d", name, len,
			STORE_RULESET_TEXT_MAX);
		return -EINVAL;
	}
	return 0;
}

int store_ruleset_add(struct store *st, const struct store_who *who,
		      const char *ws_id, const char *name, const char *text,
		      int64_t rules, struct store_ruleset_version *out,
		      store_desired_fn changed, void *arg)
{
	struct store_ruleset_version v = { 0 }, last;
	struct store_changes ch = { 0 };
	char detail[256], num[24];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = version_check(name, text);
	if (ret)
		return ret;
	snprintf(v.workspace_id, sizeof(v.workspace_id), "%s", ws_id);
	snprintf(v.name, sizeof(v.name), "%s", name);
	v.rules = rules;
	v.created = store_now(st);
	ret = store_sha256_hex(text, strlen(text), v.sha256);
	if (!ret)
		ret = store_begin(st);
	if (ret)
		return ret;
	ret = store_ruleset_get(st, ws_id, name, 0, &last);
	if (!ret) {
		v.version = last.version + 1;
		if (!strcmp(last.sha256, v.sha256))
			ret = -EALREADY;
		store_ruleset_version_clear(&last);
	} else if (ret == -ENOENT) {
		v.version = 1;
		ret = 0;
	}
	if (!ret)
		ret = version_insert(st, who, &v, text);
	snprintf(num, sizeof(num), "%" PRId64, v.version);
	if (!ret)
		ret = store_json_detail(detail, sizeof(detail), "name", name,
					"version", num, "sha256", v.sha256,
					NULL);
	if (!ret)
		ret = store_audit_add(st, who, "ruleset.version", ws_id, name,
				      "ok", detail);
	/* hosts on "latest" of @name move to the new version */
	if (!ret)
		ret = store_desired_update(st, ws_id, NULL, &ch);
	ret = store_end(st, ret);
	if (ret == -EALREADY)
		store_ruleset_get(st, ws_id, name, 0, out);
	else if (!ret)
		ret = store_ruleset_get(st, ws_id, name, v.version, out);
	store_changes_report(&ch, ret ? NULL : changed, arg);
	return ret;
}
