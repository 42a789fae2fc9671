// SPDX-License-Identifier: GPL-2.0-only
/*
 * One operator request: the bearer key, the route, the workspace of the
 * path and the route's permission in it, then the handler.  Anything not
 * granted is denied with the missing permission named, and the denial
 * is in the audit log.  Requests without a valid key are refused before
 * anything is looked up, and not recorded: an audit log anyone on the
 * network could grow is not one to keep.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "log.h"

struct api_endpoint {
	void (*fn)(struct api_call *c);
	/* granted in the path's workspace before @fn; NULL: @fn checks */
	const char *perm;
};

enum {
	R_WHOAMI,
	R_WS_LIST,
	R_WS_CREATE,
	R_TOKEN_LIST,
	R_TOKEN_CREATE,
	R_TOKEN_REVOKE,
	R_HOST_LIST,
	R_HOST_SHOW,
	R_HOST_REMOVE,
	R_ROLE_LIST,
	R_ROLE_PUT,
	R_ROLE_DELETE,
	R_KEY_LIST,
	R_KEY_CREATE,
	R_KEY_REVOKE,
	R_AUDIT,
	R_HOST_LABELS,
	R_HOST_RESTORE,
	R_HOST_COUNTERS,
	R_HOST_REFRESH,
	R_RULESET_LIST,
	R_RULESET_SHOW,
	R_RULESET_PUSH,
	R_RULESET_VERSIONS,
	R_RULESET_VERSION,
	R_RULESET_COUNTERS,
	R_RULESET_REFRESH,
	R_ASSIGN_LIST,
	R_ASSIGN_CREATE,
	R_ASSIGN_SHOW,
	R_ASSIGN_REPLACE,
	R_ASSIGN_DELETE,
};

#define WS "/v1/workspaces/:ws"

static const struct http_route routes[] = {
	{ HTTP_GET, "/v1/whoami", R_WHOAMI },
	{ HTTP_GET, "/v1/workspaces", R_WS_LIST },
	{ HTTP_POST, "/v1/workspaces", R_WS_CREATE },
	{ HTTP_GET, WS "/tokens", R_TOKEN_LIST },
	{ HTTP_POST, WS "/tokens", R_TOKEN_CREATE },
	{ HTTP_DELETE, WS "/tokens/:id", R_TOKEN_REVOKE },
	{ HTTP_GET, WS "/hosts", R_HOST_LIST },
	{ HTTP_GET, WS "/hosts/:id", R_HOST_SHOW },
	{ HTTP_DELETE, WS "/hosts/:id", R_HOST_REMOVE },
	{ HTTP_GET, WS "/roles", R_ROLE_LIST },
	{ HTTP_PUT, WS "/roles/:name", R_ROLE_PUT },
	{ HTTP_DELETE, WS "/roles/:name", R_ROLE_DELETE },
	{ HTTP_GET, "/v1/keys", R_KEY_LIST },
	{ HTTP_POST, "/v1/keys", R_KEY_CREATE },
	{ HTTP_DELETE, "/v1/keys/:id", R_KEY_REVOKE },
	{ HTTP_GET, "/v1/audit", R_AUDIT },
	{ HTTP_PUT, WS "/hosts/:id/labels", R_HOST_LABELS },
	{ HTTP_POST, WS "/hosts/:id/restore", R_HOST_RESTORE },
	{ HTTP_GET, WS "/hosts/:id/counters", R_HOST_COUNTERS },
	{ HTTP_POST, WS "/hosts/:id/counters/refresh", R_HOST_REFRESH },
	{ HTTP_GET, WS "/rulesets", R_RULESET_LIST },
	{ HTTP_GET, WS "/rulesets/:name", R_RULESET_SHOW },
	{ HTTP_POST, WS "/rulesets/:name", R_RULESET_PUSH },
	{ HTTP_GET, WS "/rulesets/:name/versions", R_RULESET_VERSIONS },
	{ HTTP_GET, WS "/rulesets/:name/versions/:version", R_RULESET_VERSION },
	{ HTTP_GET, WS "/rulesets/:name/counters", R_RULESET_COUNTERS },
	{ HTTP_POST, WS "/rulesets/:name/counters/refresh", R_RULESET_REFRESH },
	{ HTTP_GET, WS "/assignments", R_ASSIGN_LIST },
	{ HTTP_POST, WS "/assignments", R_ASSIGN_CREATE },
	{ HTTP_GET, WS "/assignments/:id", R_ASSIGN_SHOW },
	{ HTTP_PUT, WS "/assignments/:id", R_ASSIGN_REPLACE },
	{ HTTP_DELETE, WS "/assignments/:id", R_ASSIGN_DELETE },
};

static const struct api_endpoint endpoints[] = {
	[R_WHOAMI] = { api_whoami, NULL },
	[R_WS_LIST] = { api_workspace_list, NULL },
	[R_WS_CREATE] = { api_workspace_create, NULL },
	[R_TOKEN_LIST] = { api_token_list, "token:read" },
	[R_TOKEN_CREATE] = { api_token_create, "token:create" },
	[R_TOKEN_REVOKE] = { api_token_revoke, "token:revoke" },
	[R_HOST_LIST] = { api_host_list, "host:read" },
	[R_HOST_SHOW] = { api_host_show, "host:read" },
	[R_HOST_REMOVE] = { api_host_remove, "host:remove" },
	[R_ROLE_LIST] = { api_role_list, "role:read" },
	[R_ROLE_PUT] = { api_role_put, "role:admin" },
	[R_ROLE_DELETE] = { api_role_delete, "role:admin" },
	[R_KEY_LIST] = { api_key_list, NULL },
	[R_KEY_CREATE] = { api_key_create, NULL },
	[R_KEY_REVOKE] = { api_key_revoke, NULL },
	[R_AUDIT] = { api_audit_list, NULL },
	[R_HOST_LABELS] = { api_host_labels, "ruleset:write" },
	[R_HOST_RESTORE] = { api_host_restore, "ruleset:write" },
	[R_HOST_COUNTERS] = { api_host_counters, "host:read" },
	[R_HOST_REFRESH] = { api_host_refresh, "host:read" },
	[R_RULESET_LIST] = { api_ruleset_list, "host:read" },
	[R_RULESET_SHOW] = { api_ruleset_show, "host:read" },
	[R_RULESET_PUSH] = { api_ruleset_push, "ruleset:write" },
	[R_RULESET_VERSIONS] = { api_ruleset_versions, "host:read" },
	[R_RULESET_VERSION] = { api_ruleset_version, "host:read" },
	[R_RULESET_COUNTERS] = { api_ruleset_counters, "host:read" },
	[R_RULESET_REFRESH] = { api_ruleset_refresh, "host:read" },
	[R_ASSIGN_LIST] = { api_assign_list, "host:read" },
	[R_ASSIGN_CREATE] = { api_assign_create, "ruleset:write" },
	[R_ASSIGN_SHOW] = { api_assign_show, "host:read" },
	[R_ASSIGN_REPLACE] = { api_assign_replace, "ruleset:write" },
	[R_ASSIGN_DELETE] = { api_assign_delete, "ruleset:write" },
};

void api_reply(struct api_call *c, int status, struct json_object *body)
{
	json_object_put(c->body);
	c->status = status;
	c->body = body;
}

void api_fail(struct api_call *c, int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_json_str(o, "error", msg);
	api_reply(c, status, o);
}

void api_fail_store(struct api_call *c, int err, const char *what)
{
	switch (err) {
	case -ENOENT:
		api_fail(c, 404, "no such %s", what);
		break;
	case -EEXIST:
		api_fail(c, 409, "%s: the name is taken", what);
		break;
	case -EINVAL:
		api_fail(c, 400, "%s: refused by the store (see its log)",
			 what);
		break;
	default:
		log_err("%s %s: %s: %s", c->req->target, c->actor, what,
			strerror(-err));
		api_fail(c, 500,
			 "internal error (%s): see the control plane's log",
			 what);
	}
}

void api_fail_body(struct api_call *c, const struct jsonv_err *e)
{
	api_fail(c, 400, "%s", e->msg);
}

int api_body(struct api_call *c, struct json_object **root)
{
	struct jsonv_err e = { 0 };

	*root = NULL;
	if (!c->req->body_len) {
		*root = json_object_new_object();
		return 0;
	}
	if (jsonv_parse(c->req->body, c->req->body_len, HTTP_MAX_BODY,
			JSONV_MAX_DEPTH, root, &e)) {
		api_fail_body(c, &e);
		return -EINVAL;
	}
	return 0;
}

void api_list_init(struct api_list *l, struct api_call *c)
{
	l->c = c;
	l->a = json_object_new_array();
}

void api_list_reply(struct api_list *l, int ret, const char *what)
{
	if (ret < 0) {
		json_object_put(l->a);
		api_fail_store(l->c, ret, what);
	} else {
		api_reply(l->c, 200, l->a);
	}
	l->a = NULL;
}

/* The 403, and its record. */
static void deny(struct api_call *c, const char *ws_id, const char *ws_name,
		 const char *perm)
{
	struct json_object *o = json_object_new_object();
	const char *target = http_match_param(c->m, "id");
	char result[96], detail[600], msg[256];

	if (!target)
		target = http_match_param(c->m, "name");
	if (!strcmp(ws_id, "*"))
		snprintf(
			msg, sizeof(msg),
			"the key's roles do not grant %s on every workspace ('*')",
			perm);
	else if (ws_name[0])
		snprintf(msg, sizeof(msg),
			 "the key's roles do not grant %s in workspace '%s'",
			 perm, ws_name);
	else
		snprintf(msg, sizeof(msg),
			 "the key's roles do not grant %s in any workspace",
			 perm);
	api_json_str(o, "error", msg);
	api_json_str(o, "missing_permission", perm);
	api_reply(c, 403, o);
	snprintf(result, sizeof(result), "denied: missing %s", perm);
	if (store_json_detail(detail, sizeof(detail), "method",
			      http_method_str(c->req->method), "path",
			      c->req->target, NULL))
		snprintf(detail, sizeof(detail), "{}");
	if (store_audit_append(c->cp->store, &c->who, "auth.deny",
			       strcmp(ws_id, "*") ? ws_id : "",
			       target ? target : "", result, detail))
		log_err("cannot record the denial of %s to %s", perm, c->actor);
	log_info("%s %s %s: %s", c->who.source, c->actor, c->req->target,
		 result);
}

int api_allow(struct api_call *c, const char *ws_id, const char *ws_name,
	      const char *perm)
{
	if (store_allowed(c->cp->store, c->key.id, ws_id, perm) == 0)
		return 0;
	deny(c, ws_id, ws_name, perm);
	return -EACCES;
}

int api_allow_any(struct api_call *c, const char *perm)
{
	if (store_allowed_any(c->cp->store, c->key.id, perm) == 0)
		return 0;
	deny(c, "", "", perm);
	return -EACCES;
}

/* "Bearer SECRET" of the Authorization header into @c->key. */
static int authenticate(struct api_call *c)
{
	const char *h = c->req->authorization;

	if (!h) {
		api_fail(
			c, 401,
			"no API key: send 'Authorization: Bearer moat-key-...'");
		return -EACCES;
	}
	if (strncasecmp(h, "Bearer ", 7) ||
	    store_key_auth(c->cp->store, h + 7, &c->key)) {
		api_fail(c, 401,
			 "the API key is malformed, unknown or revoked");
		return -EACCES;
	}
	snprintf(c->actor, sizeof(c->actor), "key:%s/%s", c->key.id,
		 c->key.user);
	c->who.actor = c->actor;
	return 0;
}

static void dispatch(struct api_call *c)
{
	struct http_match m;
	const struct api_endpoint *ep;
	const char *ws;
	int ret;

	if (authenticate(c))
		return;
	ret = http_route(routes, sizeof(routes) / sizeof(routes[0]), c->req, &m,
			 c->allow, sizeof(c->allow));
	if (ret == -ENOENT) {
		api_fail(c, 404, "no such path: %s", c->req->target);
		return;
	}
	if (ret == -EOPNOTSUPP) {
		api_fail(c, 405, "%s is not a method of this path (%s are)",
			 http_method_str(c->req->method), c->allow);
		return;
	}
	c->m = &m;
	ep = &endpoints[m.handler];
	ws = http_match_param(&m, "ws");
	if (ws) {
		ret = store_workspace_get(c->cp->store, ws, &c->ws);
		if (ret == -ENOENT)
			api_fail(c, 404, "no workspace '%s'", ws);
		else if (ret)
			api_fail_store(c, ret, "workspace");
		if (ret)
			return;
		c->has_ws = true;
		if (ep->perm && api_allow(c, c->ws.id, c->ws.name, ep->perm))
			return;
	}
	ep->fn(c);
}

int api_handle(struct cp *cp, const char *addr, const struct http_request *req,
	       bool close, struct http_buf *out)
{
	struct api_call c = { .cp = cp, .req = req, .status = 500 };
	struct http_reply r = { 0 };
	int ret;

	snprintf(c.actor, sizeof(c.actor), "-");
	c.who.actor = c.actor;
	c.who.source = addr;
	dispatch(&c);
	if (!c.body && c.status != 204)
		api_fail(&c, 500, "internal error: no reply");
	log_debug("%s %s %s %s: %d", addr, c.actor,
		  http_method_str(req->method), req->target, c.status);
	r.status = c.status;
	if (c.status >= 100 && c.status < 600)
		cp->counts.api_status[c.status]++;
	r.body = c.body;
	r.allow = c.allow[0] ? c.allow : NULL;
	r.close = close;
	ret = http_reply_write(out, &r);
	json_object_put(c.body);
	if (c.has_ws)
		store_workspace_clear(&c.ws);
	return ret;
}
