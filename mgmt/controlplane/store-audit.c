// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit log in the store: each record is appended inside the
 * transaction of what it records, linked to the last record read in that
 * same transaction (BEGIN IMMEDIATE holds the write lock, so no other
 * writer can slip a record in between).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store-int.h"

static const char sql_last[] =
	"SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
static const char sql_insert[] =
	"INSERT INTO audit (seq, time, actor, source, action, workspace,"
	" target, result, detail, prev, hash)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

int store_audit_add(struct store *st, const struct store_who *who,
		    const char *action, const char *workspace,
		    const char *target, const char *result, const char *detail)
{
	char prev[AUDIT_HEX_LEN], hash[AUDIT_HEX_LEN];
	struct audit_record r = {
		.time = store_now(st),
		.actor = who && who->actor ? who->actor : "system",
		.source = who && who->source ? who->source : "",
		.action = action,
		.workspace = workspace ? workspace : "",
		.target = target ? target : "",
		.result = result ? result : "ok",
		.detail = detail ? detail : "{}",
		.prev = prev,
	};
	sqlite3_stmt *s;
	int rc, ret;

	if (!st->in_txn) {
		log_err("store: audit record `%s' outside a transaction",
			action);
		return -EINVAL;
	}
	s = store_stmt(st, sql_last);
	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		r.seq = sqlite3_column_int64(s, 0) + 1;
		store_col_copy(s, 1, prev, sizeof(prev));
	} else if (rc == SQLITE_DONE) {
		r.seq = 1;
		memcpy(prev, audit_genesis, sizeof(prev));
	} else {
		return store_db_err(st, "reading the last audit record");
	}
	sqlite3_reset(s);
	ret = audit_hash(&r, hash);
	if (ret)
		return ret;
	s = store_stmt(st, sql_insert);
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, r.seq);
	sqlite3_bind_int64(s, 2, r.time);
	store_bind_text(s, 3, r.actor);
	store_bind_text(s, 4, r.source);
	store_bind_text(s, 5, r.action);
	store_bind_text(s, 6, r.workspace);
	store_bind_text(s, 7, r.target);
	store_bind_text(s, 8, r.result);
	store_bind_text(s, 9, r.detail);
	store_bind_text(s, 10, r.prev);
	store_bind_text(s, 11, hash);
	return store_exec_step(st, s, "appending an audit record");
}

int store_audit_append(struct store *st, const struct store_who *who,
		       const char *action, const char *workspace,
		       const char *target, const char *result,
		       const char *detail)
{
	int ret = store_begin(st);

	if (ret)
		return ret;
	ret = store_audit_add(st, who, action, workspace, target, result,
			      detail);
	return store_end(st, ret);
}

static const char sql_list[] =
	"SELECT seq, time, actor, source, action, workspace, target, result,"
	" detail, prev, hash FROM audit"
	" WHERE seq > ?1 AND (?2 IS NULL OR workspace = ?2)"
	" ORDER BY seq LIMIT ?3";

static const char *col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

struct audit_call {
	store_audit_cb cb;
	void *arg;
};

static int audit_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct audit_call *c = arg;
	struct audit_record r = {
		.seq = sqlite3_column_int64(s, 0),
		.time = sqlite3_column_int64(s, 1),
	};

	/* column text stays valid until the next step */
	r.actor = col(s, 2);
	r.source = col(s, 3);
	r.action = col(s, 4);
	r.workspace = col(s, 5);
	r.target = col(s, 6);
	r.result = col(s, 7);
	r.detail = col(s, 8);
	r.prev = col(s, 9);
	r.hash = col(s, 10);
	return c->cb(c->arg, &r);
}

int store_audit_list(struct store *st, int64_t after, int64_t limit,
		     const char *workspace, store_audit_cb cb, void *arg)
{
	sqlite3_stmt *s = store_stmt(st, sql_list);
	struct audit_call c = { cb, arg };

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, after);
	store_bind_text(s, 2, workspace);
	sqlite3_bind_int64(s, 3, limit > 0 ? limit : -1);
	return store_rows(st, s, audit_row, &c, "listing the audit log");
}

static int verify_one(void *arg, const struct audit_record *r)
{
	/* a broken chain stops the walk; the verifier keeps the reason */
	return audit_verify_next(arg, r) ? 1 : 0;
}

int store_audit_verify(struct store *st, int64_t *count, char *why,
		       size_t why_len)
{
	struct audit_verifier v;
	int ret;

	audit_verify_init(&v);
	ret = store_audit_list(st, 0, 0, NULL, verify_one, &v);
	if (count)
		*count = v.checked;
	if (ret < 0)
		return ret;
	if (why && why_len)
		snprintf(why, why_len, "%s", v.err ? v.why : "");
	return v.err;
}

/* @s as a JSON string, quotes included, at buf[*o]. */
static int json_str(char *buf, size_t len, size_t *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (*o + 1 >= len)
		return -ENOSPC;
	buf[(*o)++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		size_t n = 0;

		if (*p == '"' || *p == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)*p;
		} else if (*p < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
		} else {
			esc[n++] = (char)*p;
		}
		if (*o + n + 1 >= len)
			return -ENOSPC;
		memcpy(buf + *o, esc, n);
		*o += n;
	}
	if (*o + 1 >= len)
		return -ENOSPC;
	buf[(*o)++] = '"';
	return 0;
}

int store_json_detail(char *buf, size_t len, ...)
{
	const char *k, *v;
	size_t o = 0;
	va_list ap;
	int ret = 0;

	if (len < 3)
		return -ENOSPC;
	buf[o++] = '{';
	va_start(ap, len);
	while (!ret && (k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (o > 1) {
			if (o + 1 >= len) {
				ret = -ENOSPC;
				break;
			}
			buf[o++] = ',';
		}
		ret = json_str(buf, len, &o, k);
		if (!ret && o + 1 >= len)
			ret = -ENOSPC;
		else if (!ret)
			buf[o++] = ':';
		if (!ret)
			ret = json_str(buf, len, &o, v ? v : "");
	}
	va_end(ap);
	if (ret || o + 2 > len)
		return ret ? ret : -ENOSPC;
	buf[o++] = '}';
	buf[o] = '\0';
	return 0;
}
