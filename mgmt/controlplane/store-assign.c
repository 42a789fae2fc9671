// SPDX-License-Identifier: GPL-2.0-only
/*
 * Assignments: which ruleset (a version, or the latest) the hosts whose
 * labels match a selector get, in which mode, rolled out to which of
 * them.  Every change recomputes the workspace's desired states in its
 * own transaction, so that no assignment is ever stored with stale
 * generations behind it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

void store_assignment_clear(struct store_assignment *a)
{
	free(a->hosts);
	a->hosts = NULL;
}

bool store_selector_valid(const char *sel)
{
	const char *p = sel;

	if (strlen(sel) >= STORE_SELECTOR_LEN)
		return false;
	while (*p) {
		size_t k = strcspn(p, "=,"), v;

		if (k == 0 || p[k] != '=')
			return false;
		p += k + 1;
		v = strcspn(p, "=,");
		if (p[v] == '=')
			return false;
		p += v;
		if (*p == ',' && !*++p)
			return false; /* a trailing ',' */
	}
	return true;
}

#define ASSIGN_COLUMNS                                                  \
	"id, workspace_id, ruleset, version, selector, priority, mode," \
	" percent, hosts, author, created"

static const char sql_list[] = "SELECT " ASSIGN_COLUMNS " FROM assignments"
			       " WHERE workspace_id = ?1"
			       " ORDER BY priority, id";
static const char sql_get[] = "SELECT " ASSIGN_COLUMNS " FROM assignments"
			      " WHERE workspace_id = ?1 AND id = ?2";
static const char sql_put[] =
	"INSERT OR REPLACE INTO assignments (" ASSIGN_COLUMNS ")"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_delete[] =
	"DELETE FROM assignments WHERE workspace_id = ? AND id = ?";

static int assign_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_assignment *a = arg;

	(void)st;
	memset(a, 0, sizeof(*a));
	store_col_copy(s, 0, a->id, sizeof(a->id));
	store_col_copy(s, 1, a->workspace_id, sizeof(a->workspace_id));
	store_col_copy(s, 2, a->ruleset, sizeof(a->ruleset));
	a->version = sqlite3_column_int64(s, 3);
	store_col_copy(s, 4, a->selector, sizeof(a->selector));
	a->priority = sqlite3_column_int64(s, 5);
	store_col_copy(s, 6, a->mode, sizeof(a->mode));
	a->percent = sqlite3_column_int64(s, 7);
	store_col_copy(s, 9, a->author, sizeof(a->author));
	a->created = sqlite3_column_int64(s, 10);
	a->hosts = store_col_dup(s, 8);
	return a->hosts ? 0 : -ENOMEM;
}

struct assign_call {
	store_assignment_cb cb;
	void *arg;
};

static int assign_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct assign_call *c = arg;
	struct store_assignment a;
	int ret = assign_from_row(st, s, &a);

	if (!ret)
		ret = c->cb(c->arg, &a);
	store_assignment_clear(&a);
	return ret;
}

int store_assignment_list(struct store *st, const char *ws_id,
			  store_assignment_cb cb, void *arg)
{
	struct assign_call c = { cb, arg };

	return store_query(st, sql_list, ws_id, NULL, assign_row, &c,
			   "listing assignments");
}

int store_assignment_get(struct store *st, const char *ws_id, const char *id,
			 struct store_assignment *out)
{
	int ret = store_query_one(st, sql_get, ws_id, id, assign_from_row, out,
				  "reading an assignment");

	/* the row's last allocation is what fails: nothing to free */
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* The fields on their own; the ruleset and the id need the store. */
static int assign_check(struct store *st, const struct store_assignment *a)
{
	const char *hosts = a->hosts ? a->hosts : "[]";
	bool ok = false;
	int ret;

	if (!store_name_valid(a->ruleset)) {
		log_err("assignment: ruleset name is not "
			"[a-z0-9][a-z0-9-]{0,62}: `%s'",
			a->ruleset);
		return -EINVAL;
	}
	if (a->version < 0) {
		log_err("assignment: version is not 0 (latest) or more: "
			"`%" PRId64 "'",
			a->version);
		return -EINVAL;
	}
	if (!store_selector_valid(a->selector)) {
		log_err("assignment: selector is not k=v[,k2=v2...]: `%s'",
			a->selector);
		return -EINVAL;
	}
	if (strcmp(a->mode, "enforce") && strcmp(a->mode, "audit")) {
		log_err("assignment: mode is not enforce or audit: `%s'",
			a->mode);
		return -EINVAL;
	}
	if (a->percent < 0 || a->percent > 100) {
		log_err("assignment: percent is not 0-100: `%" PRId64 "'",
			a->percent);
		return -EINVAL;
	}
	ret = store_json_check(st, hosts, false, &ok);
	if (!ret && !ok) {
		log_err("assignment: hosts is not a JSON array of host ids: "
			"`%.200s'",
			hosts);
		return -EINVAL;
	}
	return ret;
}

static int assign_write(struct store *st, const struct store_assignment *a)
{
	sqlite3_stmt *s = store_stmt(st, sql_put);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, a->id);
	store_bind_text(s, 2, a->workspace_id);
	store_bind_text(s, 3, a->ruleset);
	sqlite3_bind_int64(s, 4, a->version);
	store_bind_text(s, 5, a->selector);
	sqlite3_bind_int64(s, 6, a->priority);
	store_bind_text(s, 7, a->mode);
	sqlite3_bind_int64(s, 8, a->percent);
	store_bind_text(s, 9, a->hosts ? a->hosts : "[]");
	store_bind_text(s, 10, a->author);
	sqlite3_bind_int64(s, 11, a->created);
	return store_exec_step(st, s, "writing an assignment");
}

static int assign_detail(const struct store_assignment *a, char *buf,
			 size_t len)
{
	char version[24], priority[24], percent[24];

	snprintf(version, sizeof(version), "%" PRId64, a->version);
	snprintf(priority, sizeof(priority), "%" PRId64, a->priority);
	snprintf(percent, sizeof(percent), "%" PRId64, a->percent);
	return store_json_detail(buf, len, "ruleset", a->ruleset, "version",
				 version, "selector", a->selector, "priority",
				 priority, "mode", a->mode, "percent", percent,
				 "hosts", a->hosts ? a->hosts : "[]", NULL);
}

int store_assignment_put(struct store *st, const struct store_who *who,
			 const char *ws_id, const struct store_assignment *a,
			 struct store_assignment *out, store_desired_fn changed,
			 void *arg)
{
	struct store_assignment n = *a, old;
	struct store_changes ch = { 0 };
	struct store_ruleset_version v;
	char *detail = NULL;
	size_t dlen;
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	ret = assign_check(st, &n);
	if (ret)
		return ret;
	snprintf(n.workspace_id, sizeof(n.workspace_id), "%s", ws_id);
	snprintf(n.author, sizeof(n.author), "%s",
		 who && who->actor ? who->actor : "system");
	n.created = store_now(st);
	/* the hosts list is the detail's largest part: JSON-escaped, x6 */
	dlen = 1024 + 6 * strlen(a->hosts ? a->hosts : "");
	detail = malloc(dlen);
	if (!detail)
		return -ENOMEM;
	ret = assign_detail(&n, detail, dlen);
	if (!ret)
		ret = store_begin(st);
	if (ret)
		goto out;
	if (n.id[0]) {
		ret = store_assignment_get(st, ws_id, n.id, &old);
		store_assignment_clear(&old);
	} else {
		ret = store_new_id('a', n.id);
	}
	if (!ret) {
		ret = store_ruleset_get(st, ws_id, n.ruleset, n.version, &v);
		store_ruleset_version_clear(&v);
		if (ret == -ENOENT)
			log_err("assignment: no ruleset `%s' version %" PRId64
				" (0: any)",
				n.ruleset, n.version);
	}
	if (!ret)
		ret = assign_write(st, &n);
	if (!ret)
		ret = store_audit_add(st, who, "assignment.put", ws_id, n.id,
				      "ok", detail);
	if (!ret)
		ret = store_desired_update(st, ws_id, NULL, &ch);
	ret = store_end(st, ret);
	if (!ret && out)
		ret = store_assignment_get(st, ws_id, n.id, out);
	store_changes_report(&ch, ret ? NULL : changed, arg);
out:
	free(detail);
	return ret;
}

int store_assignment_delete(struct store *st, const struct store_who *who,
			    const char *ws_id, const char *id,
			    store_desired_fn changed, void *arg)
{
	struct store_changes ch = { 0 };
	int ret = store_begin(st);

	if (ret)
		return ret;
	ret = store_change(st, sql_delete, ws_id, id, NULL,
			   "deleting an assignment");
	if (!ret)
		ret = store_audit_add(st, who, "assignment.delete", ws_id, id,
				      "ok", NULL);
	if (!ret)
		ret = store_desired_update(st, ws_id, NULL, &ch);
	ret = store_end(st, ret);
	store_changes_report(&ch, ret ? NULL : changed, arg);
	return ret;
}
