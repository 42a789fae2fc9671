// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hosts once enrolled: reading them, heartbeats, renewal, removal, and
 * whether a certificate a host presents is still accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

void store_host_clear(struct store_host *h)
{
	free(h->labels);
	free(h->dataplane);
	free(h->apply_error);
	h->labels = NULL;
	h->dataplane = NULL;
	h->apply_error = NULL;
}

const char *store_host_status(const struct store_host *h)
{
	if (!h->desired_gen)
		return "unmanaged";
	if (h->drift)
		return "drift";
	if (h->applied_gen == h->desired_gen)
		return "converged";
	/* an error for an older generation says nothing about this one */
	if (h->error_gen == h->desired_gen)
		return "failing";
	return "pending";
}

#define HOST_SELECT                                                           \
	"SELECT id, workspace_id, hostname, machine_id, token_id, serial,"    \
	" prev_serial, enrolled, first_seen, last_seen, cert_not_after,"      \
	" uptime, removed, agent_version, kernel, address, labels, dataplane," \
	" desired_gen, desired_name, desired_version, desired_mode,"           \
	" applied_gen, error_gen, apply_error, applied_hash, drift,"           \
	" last_applied FROM hosts"

/* Two statements, as SQLite plans "?2 IS NULL OR id = ?2" as a scan. */
static const char sql_list[] =
	HOST_SELECT " WHERE workspace_id = ?1 ORDER BY id";
static const char sql_get[] =
	HOST_SELECT " WHERE id = ?2 AND workspace_id = ?1";

static int host_from_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct store_host *h = arg;

	memset(h, 0, sizeof(*h));
	store_col_copy(s, 0, h->id, sizeof(h->id));
	store_col_copy(s, 1, h->workspace_id, sizeof(h->workspace_id));
	store_col_copy(s, 2, h->hostname, sizeof(h->hostname));
	store_col_copy(s, 3, h->machine_id, sizeof(h->machine_id));
	store_col_copy(s, 4, h->token_id, sizeof(h->token_id));
	store_col_copy(s, 5, h->serial, sizeof(h->serial));
	store_col_copy(s, 6, h->prev_serial, sizeof(h->prev_serial));
	h->enrolled = sqlite3_column_int64(s, 7);
	h->first_seen = sqlite3_column_int64(s, 8);
	h->last_seen = sqlite3_column_int64(s, 9);
	h->cert_not_after = sqlite3_column_int64(s, 10);
	h->uptime = sqlite3_column_int64(s, 11);
	h->removed = sqlite3_column_int64(s, 12);
	store_col_copy(s, 13, h->agent_version, sizeof(h->agent_version));
	store_col_copy(s, 14, h->kernel, sizeof(h->kernel));
	store_col_copy(s, 15, h->address, sizeof(h->address));
	h->labels = store_col_dup(s, 16);
	h->dataplane = store_col_dup(s, 17);
	h->desired_gen = (uint64_t)sqlite3_column_int64(s, 18);
	store_col_copy(s, 19, h->desired_ruleset, sizeof(h->desired_ruleset));
	h->desired_version = sqlite3_column_int64(s, 20);
	store_col_copy(s, 21, h->desired_mode, sizeof(h->desired_mode));
	h->applied_gen = (uint64_t)sqlite3_column_int64(s, 22);
	h->error_gen = (uint64_t)sqlite3_column_int64(s, 23);
	h->apply_error = store_col_dup(s, 24);
	store_col_copy(s, 25, h->applied_hash, sizeof(h->applied_hash));
	h->drift = sqlite3_column_int64(s, 26) != 0;
	h->last_applied = sqlite3_column_int64(s, 27);
	if (!h->labels || !h->dataplane || !h->apply_error) {
		store_host_clear(h);
		return -ENOMEM;
	}
	return 0;
}

struct host_call {
	store_host_cb cb;
	void *arg;
};

static int host_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct host_call *c = arg;
	struct store_host h;
	int ret = host_from_row(st, s, &h);

	if (!ret)
		ret = c->cb(c->arg, &h);
	store_host_clear(&h);
	return ret;
}

int store_host_list(struct store *st, const char *workspace_id,
		    store_host_cb cb, void *arg)
{
	struct host_call c = { cb, arg };

	return store_query(st, sql_list, workspace_id, NULL, host_row, &c,
			   "listing hosts");
}

int store_host_get(struct store *st, const char *workspace_id, const char *id,
		   struct store_host *out)
{
	int ret = store_query_one(st, sql_get, workspace_id, id, host_from_row,
				  out, "reading a host");

	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

static const char sql_remove[] =
	"UPDATE hosts SET removed = ? WHERE workspace_id = ? AND id = ?"
	" AND removed = 0";

int store_host_remove(struct store *st, const struct store_who *who,
		      const char *workspace_id, const char *id,
		      struct store_host *out)
{
	sqlite3_stmt *s;
	int ret = store_begin(st);

	if (ret)
		return ret;
	s = store_stmt(st, sql_remove);
	if (!s) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, store_now(st));
	store_bind_text(s, 2, workspace_id);
	store_bind_text(s, 3, id);
	ret = store_exec_step(st, s, "removing a host");
	if (!ret && sqlite3_changes(st->db) == 0) {
		struct store_host h;

		/* which: unknown, or removed before */
		ret = store_host_get(st, workspace_id, id, &h);
		store_host_clear(&h);
		if (!ret)
			ret = -EALREADY;
	}
	if (!ret)
		ret = store_audit_add(st, who, "host.remove", workspace_id, id,
				      "ok", NULL);
out:
	ret = store_end(st, ret);
	if (!ret && out)
		ret = store_host_get(st, workspace_id, id, out);
	return ret;
}

static const char sql_renew[] =
	"UPDATE hosts SET prev_serial = serial, serial = ?, cert_not_after = ?"
	" WHERE workspace_id = ? AND id = ? AND removed = 0";

int store_host_renew(struct store *st, const struct store_who *who,
		     const char *workspace_id, const char *id,
		     const char *serial, int64_t not_after)
{
	char detail[160];
	sqlite3_stmt *s;
	int ret;

	ret = store_json_detail(detail, sizeof(detail), "serial", serial, NULL);
	if (!ret)
		ret = store_begin(st);
	if (ret)
		return ret;
	s = store_stmt(st, sql_renew);
	if (!s) {
		ret = -EIO;
		goto out;
	}
	store_bind_text(s, 1, serial);
	sqlite3_bind_int64(s, 2, not_after);
	store_bind_text(s, 3, workspace_id);
	store_bind_text(s, 4, id);
	ret = store_exec_step(st, s, "renewing a host certificate");
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	if (!ret)
		ret = store_audit_add(st, who, "host.renew", workspace_id, id,
				      "ok", detail);
out:
	return store_end(st, ret);
}

static const char sql_heartbeat[] =
	"UPDATE hosts SET last_seen = ?1,"
	" first_seen = CASE first_seen WHEN 0 THEN ?1 ELSE first_seen END,"
	" agent_version = ?2, kernel = ?3, uptime = ?4, address = ?5,"
	" dataplane = ?6 WHERE id = ?7 AND removed = 0";

int store_host_heartbeat(struct store *st, const char *id,
			 const struct store_heartbeat *hb)
{
	sqlite3_stmt *s = store_stmt(st, sql_heartbeat);
	int ret;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, hb->time);
	store_bind_text(s, 2, hb->agent_version ? hb->agent_version : "");
	store_bind_text(s, 3, hb->kernel ? hb->kernel : "");
	sqlite3_bind_int64(s, 4, hb->uptime);
	store_bind_text(s, 5, hb->address ? hb->address : "");
	store_bind_text(s, 6, hb->dataplane ? hb->dataplane : "{}");
	store_bind_text(s, 7, id);
	ret = store_exec_step(st, s, "recording a heartbeat");
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	return ret;
}

static const char sql_cert[] = "SELECT removed, serial, prev_serial FROM hosts"
			       " WHERE workspace_id = ? AND id = ?";

int store_host_cert_ok(struct store *st, const char *workspace_id,
		       const char *host_id, const char *serial)
{
	sqlite3_stmt *s = store_stmt(st, sql_cert);
	const char *cur, *prev;
	int rc, ret;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, workspace_id);
	store_bind_text(s, 2, host_id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? -ENOENT :
					   store_db_err(st, "reading a host");
	}
	cur = (const char *)sqlite3_column_text(s, 1);
	prev = (const char *)sqlite3_column_text(s, 2);
	if (sqlite3_column_int64(s, 0))
		ret = -EKEYREVOKED;
	else if (serial[0] && ((cur && !strcmp(serial, cur)) ||
			       (prev && !strcmp(serial, prev))))
		ret = 0;
	else
		ret = -EPERM;
	sqlite3_reset(s);
	return ret;
}

static const char sql_labels[] =
	"UPDATE hosts SET labels = ?3 WHERE workspace_id = ?1 AND id = ?2"
	" AND removed = 0";

int store_host_set_labels(struct store *st, const struct store_who *who,
			  const char *ws_id, const char *host_id,
			  const char *labels_json, store_desired_fn changed,
			  void *arg)
{
	struct store_changes ch = { 0 };
	size_t dlen = 64 + 6 * strlen(labels_json);
	char *detail = malloc(dlen);
	bool ok = false;
	int ret;

	if (!detail)
		return -ENOMEM;
	ret = store_json_detail(detail, dlen, "labels", labels_json, NULL);
	if (!ret)
		ret = store_json_check(st, labels_json, true, &ok);
	if (!ret && !ok) {
		log_err("host %s: labels are not a JSON object: `%.200s'",
			host_id, labels_json);
		ret = -EINVAL;
	}
	if (!ret)
		ret = store_begin(st);
	if (ret)
		goto out;
	ret = store_change(st, sql_labels, ws_id, host_id, labels_json,
			   "setting a host's labels");
	if (!ret)
		ret = store_audit_add(st, who, "host.labels", ws_id, host_id,
				      "ok", detail);
	if (!ret)
		ret = store_desired_update(st, ws_id, host_id, &ch);
	ret = store_end(st, ret);
	store_changes_report(&ch, ret ? NULL : changed, arg);
out:
	free(detail);
	return ret;
}
