// SPDX-License-Identifier: GPL-2.0-only
/*
 * Each host's desired state: what the first assignment (by priority,
 * then id) whose selector matches its labels and whose rollout includes
 * it gives, under a generation that grows whenever that state changes.
 * Recomputed inside the transaction of whatever may change it (a ruleset
 * version, an assignment, a host's labels, an enrollment), so that a
 * crash never leaves a change with stale generations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "store-int.h"

/* Strings read out of a JSON object (key, value) or array (value). */
struct strs {
	char **key, **val;
	size_t n;
};

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->key[i]);
		free(s->val[i]);
	}
	free(s->key);
	free(s->val);
	memset(s, 0, sizeof(*s));
}

static int strs_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct strs *v = arg;
	char **k, **x;

	(void)st;
	k = realloc(v->key, (v->n + 1) * sizeof(*k));
	if (k)
		v->key = k;
	x = realloc(v->val, (v->n + 1) * sizeof(*x));
	if (x)
		v->val = x;
	if (!k || !x)
		return -ENOMEM;
	v->key[v->n] = store_col_dup(s, 0);
	v->val[v->n] = store_col_dup(s, 1);
	v->n++;
	return v->key[v->n - 1] && v->val[v->n - 1] ? 0 : -ENOMEM;
}

/* The members of a JSON object or array, checked valid by its writer. */
static const char sql_each[] = "SELECT key, value FROM json_each(?1)";

static int strs_load(struct store *st, const char *json, struct strs *out)
{
	memset(out, 0, sizeof(*out));
	return store_query(st, sql_each, json, NULL, strs_row, out,
			   "reading JSON members");
}

static const char sql_json_check[] =
	"SELECT CASE WHEN json_valid(?1) THEN"
	" CASE ?2 WHEN 1 THEN json_type(?1) = 'object'"
	" ELSE json_type(?1) = 'array' AND NOT EXISTS (SELECT 1"
	" FROM json_each(?1) WHERE type != 'text') END ELSE 0 END";

int store_json_check(struct store *st, const char *json, bool object, bool *ok)
{
	sqlite3_stmt *s = store_stmt(st, sql_json_check);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, json);
	sqlite3_bind_int(s, 2, object);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_db_err(st, "checking JSON");
	}
	*ok = sqlite3_column_int(s, 0) == 1;
	sqlite3_reset(s);
	return 0;
}

bool store_rollout_in(const char *assignment_id, const char *host_id,
		      int64_t percent)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char buf[2 * STORE_ID_LEN + 2];
	unsigned int n = 0;
	uint32_t x;

	if (percent >= 100)
		return true;
	if (percent <= 0)
		return false;
	snprintf(buf, sizeof(buf), "%s/%s", assignment_id, host_id);
	if (!EVP_Digest(buf, strlen(buf), md, &n, EVP_sha256(), NULL))
		return false;
	x = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	    (uint32_t)md[2] << 8 | md[3];
	return x % 100 < (uint32_t)percent;
}

/* An assignment as the computation needs it. */
struct rule {
	struct store_assignment a;
	int64_t version; /* resolved: "latest" is the newest now */
	struct strs hosts;
};

struct rules {
	struct rule *v;
	size_t n;
	struct store *st;
	int err;
};

static const char sql_latest[] = "SELECT max(version) FROM ruleset_versions"
				 " WHERE workspace_id = ?1 AND name = ?2";

static int latest(struct store *st, const char *ws, const char *name,
		  int64_t *version)
{
	sqlite3_stmt *s = store_stmt(st, sql_latest);
	int rc;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, ws);
	store_bind_text(s, 2, name);
	rc = sqlite3_step(s);
	*version = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_db_err(st, "reading a ruleset");
}

static int rule_add(void *arg, const struct store_assignment *a)
{
	struct rules *r = arg;
	struct rule *v = realloc(r->v, (r->n + 1) * sizeof(*v)), *x;

	if (!v)
		return -ENOMEM;
	r->v = v;
	x = &v[r->n];
	memset(x, 0, sizeof(*x));
	x->a = *a;
	x->a.hosts = NULL;
	x->version = a->version;
	r->n++;
	/* a host list is loaded below: the list's statement is still busy */
	x->a.hosts = strdup(a->hosts);
	return x->a.hosts ? 0 : -ENOMEM;
}

static void rules_free(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		store_assignment_clear(&r->v[i].a);
		strs_free(&r->v[i].hosts);
	}
	free(r->v);
}

static int rules_load(struct store *st, const char *ws, struct rules *r)
{
	int ret = store_assignment_list(st, ws, rule_add, r);

	for (size_t i = 0; !ret && i < r->n; i++) {
		struct rule *x = &r->v[i];

		ret = strs_load(st, x->a.hosts, &x->hosts);
		if (!ret && !x->version)
			ret = latest(st, ws, x->a.ruleset, &x->version);
	}
	return ret;
}

/* Whether every k=v of @sel is a label of the host. */
static bool selector_match(const char *sel, const struct strs *labels)
{
	const char *p = sel;

	while (*p) {
		size_t k = strcspn(p, "="), v;
		const char *val = p + k + 1;
		bool found = false;

		v = strcspn(val, ",");
		for (size_t i = 0; i < labels->n && !found; i++)
			found = strlen(labels->key[i]) == k &&
				!memcmp(labels->key[i], p, k) &&
				strlen(labels->val[i]) == v &&
				!memcmp(labels->val[i], val, v);
		if (!found)
			return false;
		p = val + v + (val[v] == ',');
	}
	return true;
}

static bool listed(const struct strs *hosts, const char *host_id)
{
	for (size_t i = 0; i < hosts->n; i++)
		if (!strcmp(hosts->val[i], host_id))
			return true;
	return false;
}

/* A host as stored, and what it should be. */
struct target {
	char id[STORE_ID_LEN];
	char *labels;
	uint64_t gen;
	char name[STORE_NAME_LEN + 1];
	int64_t version;
	char mode[8];
};

struct targets {
	struct target *v;
	size_t n;
};

static int target_row(struct store *st, sqlite3_stmt *s, void *arg)
{
	struct targets *t = arg;
	struct target *v = realloc(t->v, (t->n + 1) * sizeof(*v)), *x;

	(void)st;
	if (!v)
		return -ENOMEM;
	t->v = v;
	x = &v[t->n++];
	memset(x, 0, sizeof(*x));
	store_col_copy(s, 0, x->id, sizeof(x->id));
	x->gen = (uint64_t)sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, x->name, sizeof(x->name));
	x->version = sqlite3_column_int64(s, 4);
	store_col_copy(s, 5, x->mode, sizeof(x->mode));
	x->labels = store_col_dup(s, 1);
	return x->labels ? 0 : -ENOMEM;
}

#define TARGET_SELECT                                                    \
	"SELECT id, labels, desired_gen, desired_name, desired_version," \
	" desired_mode FROM hosts WHERE workspace_id = ?1 AND removed = 0"
static const char sql_targets[] = TARGET_SELECT " ORDER BY id";
static const char sql_target[] = TARGET_SELECT " AND id = ?2";
static const char sql_set[] =
	"UPDATE hosts SET desired_gen = ?, desired_name = ?,"
	" desired_version = ?, desired_mode = ? WHERE id = ?";

/* The first rule that takes @t, or NULL. */
static const struct rule *first_rule(const struct rules *r,
				     const struct target *t,
				     const struct strs *labels)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rule *x = &r->v[i];

		if (!x->version || !selector_match(x->a.selector, labels))
			continue;
		if (listed(&x->hosts, t->id) ||
		    store_rollout_in(x->a.id, t->id, x->a.percent))
			return x;
	}
	return NULL;
}

static int changes_add(struct store_changes *ch, const char *id, uint64_t gen)
{
	struct store_changed *v = realloc(ch->v, (ch->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	ch->v = v;
	snprintf(v[ch->n].host_id, sizeof(v[ch->n].host_id), "%s", id);
	v[ch->n].generation = gen;
	ch->n++;
	return 0;
}

static int target_update(struct store *st, const struct rules *r,
			 const struct target *t, struct store_changes *ch)
{
	const char *name = "", *mode = "";
	const struct rule *x;
	struct strs labels;
	int64_t version = 0;
	sqlite3_stmt *s;
	int ret;

	ret = strs_load(st, t->labels, &labels);
	if (ret)
		return ret;
	x = first_rule(r, t, &labels);
	strs_free(&labels);
	if (x) {
		name = x->a.ruleset;
		version = x->version;
		mode = x->a.mode;
	}
	if (!strcmp(name, t->name) && version == t->version &&
	    !strcmp(mode, t->mode))
		return 0;
	s = store_stmt(st, sql_set);
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)(t->gen + 1));
	store_bind_text(s, 2, name);
	sqlite3_bind_int64(s, 3, version);
	store_bind_text(s, 4, mode);
	store_bind_text(s, 5, t->id);
	ret = store_exec_step(st, s, "storing a desired state");
	return ret ? ret : changes_add(ch, t->id, t->gen + 1);
}

int store_desired_update(struct store *st, const char *ws_id,
			 const char *host_id, struct store_changes *ch)
{
	struct targets t = { 0 };
	struct rules r = { 0 };
	int ret;

	if (!st->in_txn) {
		log_err("store: desired states computed outside a transaction");
		return -EINVAL;
	}
	ret = rules_load(st, ws_id, &r);
	if (!ret)
		ret = store_query(st, host_id ? sql_target : sql_targets, ws_id,
				  host_id, target_row, &t,
				  "listing hosts for their desired state");
	for (size_t i = 0; !ret && i < t.n; i++)
		ret = target_update(st, &r, &t.v[i], ch);
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i].labels);
	free(t.v);
	rules_free(&r);
	return ret;
}

void store_changes_report(struct store_changes *ch, store_desired_fn fn,
			  void *arg)
{
	for (size_t i = 0; fn && i < ch->n; i++)
		fn(arg, ch->v[i].host_id, ch->v[i].generation);
	free(ch->v);
	ch->v = NULL;
	ch->n = 0;
}

int store_desired_recompute(struct store *st, const char *ws_id,
			    const char *host_id, store_desired_fn changed,
			    void *arg)
{
	struct store_changes ch = { 0 };
	int ret = store_begin(st);

	if (ret)
		return ret;
	ret = store_desired_update(st, ws_id, host_id, &ch);
	ret = store_end(st, ret);
	store_changes_report(&ch, ret ? NULL : changed, arg);
	return ret;
}
