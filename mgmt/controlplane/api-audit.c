// SPDX-License-Identifier: GPL-2.0-only
/*
 * GET /v1/audit?after=SEQ&limit=N: the audit chain in pages, each record
 * with prev and hash so that moatctl can verify it.  A key with
 * audit:read on "*" sees every record; one with audit:read in some
 * workspaces sees only theirs (and cannot verify the chain: it has
 * gaps).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define PERM "audit:read"
#define AUDIT_PAGE_DEFAULT 1000
#define AUDIT_PAGE_MAX 100000

/* Query parameter @name as a number in @min..@max, else @def; -EINVAL. */
static int query_int(struct api_call *c, const char *name, int64_t min,
		     int64_t max, int64_t def, int64_t *out)
{
	const char *s = http_request_query(c->req, name);
	char *end;
	long long v;

	*out = def;
	if (!s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v < min ||
	    v > max) {
		api_fail(
			c, 400,
			"query '%s': expected a number from %lld to %lld, got '%.32s'",
			name, (long long)min, (long long)max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

struct audit_page {
	struct api_list l; /* first: the walk's arg */
	bool all;
	int64_t left;
	/* the workspaces whose records the key may read, and those it may
	 * not: asked once each */
	char (*yes)[STORE_ID_LEN], (*no)[STORE_ID_LEN];
	size_t nyes, nno, cap;
};

static bool in(char (*set)[STORE_ID_LEN], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(set[i], id))
			return true;
	return false;
}

static bool readable(struct audit_page *p, const char *ws)
{
	bool ok;

	if (p->all)
		return true;
	/* records of no workspace (keys, denials outside one): "*" only */
	if (!ws[0])
		return false;
	if (in(p->yes, p->nyes, ws))
		return true;
	if (in(p->no, p->nno, ws))
		return false;
	ok = store_allowed(p->l.c->cp->store, p->l.c->key.id, ws, PERM) == 0;
	if (ok && p->nyes < p->cap)
		snprintf(p->yes[p->nyes++], STORE_ID_LEN, "%s", ws);
	else if (!ok && p->nno < p->cap)
		snprintf(p->no[p->nno++], STORE_ID_LEN, "%s", ws);
	return ok;
}

static int audit_row(void *arg, const struct audit_record *r)
{
	struct audit_page *p = arg;

	if (!readable(p, r->workspace))
		return 0;
	json_object_array_add(p->l.a, api_json_audit(r));
	/* a page is full: stop the walk */
	return --p->left == 0 ? 1 : 0;
}

void api_audit_list(struct api_call *c)
{
	struct audit_page p = { .cap = 64 };
	int64_t after, limit;
	int ret = -ENOMEM;

	if (api_allow_any(c, PERM) ||
	    query_int(c, "after", 0, INT64_MAX, 0, &after) ||
	    query_int(c, "limit", 1, AUDIT_PAGE_MAX, AUDIT_PAGE_DEFAULT,
		      &limit))
		return;
	p.all = store_allowed(c->cp->store, c->key.id, "*", PERM) == 0;
	p.left = limit;
	p.yes = calloc(p.cap, STORE_ID_LEN);
	p.no = calloc(p.cap, STORE_ID_LEN);
	api_list_init(&p.l, c);
	/* filtered: the store's limit would count records not shown */
	if (p.yes && p.no)
		ret = store_audit_list(c->cp->store, after, p.all ? limit : 0,
				       NULL, audit_row, &p);
	free(p.yes);
	free(p.no);
	api_list_reply(&p.l, ret, "audit log");
}
