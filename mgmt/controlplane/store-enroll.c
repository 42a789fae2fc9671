// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment: a token's use, the host record and the audit record commit
 * together, so that a use is counted only for a host that exists, and a
 * refused or failed enrollment leaves nothing behind but its record.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

const char *store_enroll_error_code(int err)
{
	switch (err) {
	case -ENOKEY:
		return "token_unknown";
	case -EKEYEXPIRED:
		return "token_expired";
	case -EKEYREVOKED:
		return "token_revoked";
	case -EDQUOT:
		return "token_exhausted";
	default:
		return "internal";
	}
}

static int token_error(enum store_token_state state)
{
	switch (state) {
	case STORE_TOKEN_EXPIRED:
		return -EKEYEXPIRED;
	case STORE_TOKEN_EXHAUSTED:
		return -EDQUOT;
	case STORE_TOKEN_REVOKED:
		return -EKEYREVOKED;
	default:
		return 0;
	}
}

static const char sql_find[] =
	"SELECT id FROM hosts WHERE workspace_id = ? AND machine_id = ?";
static const char sql_insert[] =
	"INSERT INTO hosts (id, workspace_id, hostname, machine_id, token_id,"
	" labels, serial, cert_not_after, enrolled, agent_version, address)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
/* A re-enrollment: the serials before are no longer accepted. */
static const char sql_reenroll[] =
	"UPDATE hosts SET hostname = ?3, token_id = ?5, labels = ?6,"
	" serial = ?7, prev_serial = '', cert_not_after = ?8, enrolled = ?9,"
	" agent_version = ?10, address = ?11, removed = 0"
	" WHERE id = ?1 AND workspace_id = ?2 AND machine_id = ?4";
static const char sql_use[] =
	"UPDATE tokens SET uses = uses + 1 WHERE id = ? AND uses < max_uses"
	" AND revoked = 0";

/* The host's id by machine id; "" and false when new. */
static int host_find(struct store *st, const char *ws, const char *machine_id,
		     char id[STORE_ID_LEN], bool *found)
{
	sqlite3_stmt *s = store_stmt(st, sql_find);
	int rc;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, ws);
	store_bind_text(s, 2, machine_id);
	rc = sqlite3_step(s);
	*found = rc == SQLITE_ROW;
	if (*found)
		store_col_copy(s, 0, id, STORE_ID_LEN);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(st, "finding a host by machine id");
	return *found ? 0 : store_new_id('h', id);
}

static int host_write(struct store *st, bool found, const char *id,
		      const struct store_token *t,
		      const struct store_enroll_req *req, const char *serial,
		      int64_t not_after)
{
	sqlite3_stmt *s = store_stmt(st, found ? sql_reenroll : sql_insert);
	int ret;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, t->workspace_id);
	store_bind_text(s, 3, req->hostname);
	store_bind_text(s, 4, req->machine_id);
	store_bind_text(s, 5, t->id);
	store_bind_text(s, 6, t->labels);
	store_bind_text(s, 7, serial);
	sqlite3_bind_int64(s, 8, not_after);
	sqlite3_bind_int64(s, 9, store_now(st));
	store_bind_text(s, 10, req->agent_version ? req->agent_version : "");
	store_bind_text(s, 11, req->address ? req->address : "");
	ret = store_exec_step(st, s, "writing an enrolled host");
	if (!ret && sqlite3_changes(st->db) != 1)
		ret = -EIO;
	if (ret)
		return ret;
	s = store_stmt(st, sql_use);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, t->id);
	ret = store_exec_step(st, s, "counting a token's use");
	/* checked above in this transaction: cannot be used up since */
	if (!ret && sqlite3_changes(st->db) != 1)
		ret = -EDQUOT;
	return ret;
}

/* The refusal's own record, once the enrollment's transaction is gone. */
static void refuse(struct store *st, const struct store_who *who,
		   const struct store_token *t, const char *detail, int err)
{
	struct store_who as = *who;
	char actor[STORE_ID_LEN + 8], result[64];

	if (t->id[0]) {
		snprintf(actor, sizeof(actor), "token:%s", t->id);
		as.actor = actor;
	}
	snprintf(result, sizeof(result), "refused: %s",
		 store_enroll_error_code(err));
	store_audit_append(st, &as, "enroll.refuse", t->workspace_id, t->id,
			   result, detail);
}

int store_enroll(struct store *st, const struct store_who *who,
		 const struct store_enroll_req *req, store_sign_fn sign,
		 void *arg, struct store_host *out)
{
	char id[STORE_ID_LEN], serial[STORE_SERIAL_LEN] = "", detail[600];
	char actor[STORE_ID_LEN + 8];
	struct store_who as = *who;
	struct store_changes ch = { 0 };
	struct store_token t = { 0 };
	int64_t not_after = 0;
	bool found = false;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = store_json_detail(detail, sizeof(detail), "hostname",
				req->hostname, "machine_id", req->machine_id,
				NULL);
	if (ret)
		return ret;
	ret = store_begin(st);
	if (ret)
		return ret;
	ret = store_token_by_hash(st, req->token_hash, &t);
	if (ret == -ENOENT)
		ret = -ENOKEY;
	if (!ret)
		ret = token_error(t.state);
	if (!ret)
		ret = host_find(st, t.workspace_id, req->machine_id, id,
				&found);
	if (!ret)
		ret = sign(arg, t.workspace_id, id, serial, &not_after);
	if (!ret)
		ret = host_write(st, found, id, &t, req, serial, not_after);
	/* its token's labels may select it: its session sends the state */
	if (!ret)
		ret = store_desired_update(st, t.workspace_id, id, &ch);
	if (!ret) {
		snprintf(actor, sizeof(actor), "token:%s", t.id);
		as.actor = actor;
		ret = store_audit_add(st, &as, "host.enroll", t.workspace_id,
				      id, "ok", detail);
	}
	ret = store_end(st, ret);
	store_changes_report(&ch, NULL, NULL);
	if (ret == -ENOKEY || ret == -EKEYEXPIRED || ret == -EKEYREVOKED ||
	    ret == -EDQUOT)
		refuse(st, who, &t, detail, ret);
	if (!ret)
		ret = store_host_get(st, t.workspace_id, id, out);
	store_token_clear(&t);
	return ret;
}
