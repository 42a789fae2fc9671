/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The operator API of moat-controlplane (docs/api.md), shared by its
 * files:
 *
 *   api-conn.c       one HTTPS connection: TLS, HTTP/1.1, deadlines
 *   api.c            a request: the key, the route, RBAC, the reply
 *   api-json.c       records of the store as JSON
 *   api-workspace.c  whoami, workspaces
 *   api-token.c      install tokens
 *   api-host.c       hosts
 *   api-role.c       roles
 *   api-key.c        API keys
 *   api-audit.c      the audit log
 *   api-ruleset.c    rulesets and their versions
 *   api-assign.c     assignments
 *   api-desired.c    host labels, restore, pushes to hosts
 *   api-counters.c   per-rule counters, of a ruleset and of a host
 *   api-refresh.c    asking hosts for fresh counters
 *
 * A handler gets a struct api_call whose key is authenticated and, for a
 * route under /v1/workspaces/:ws, whose workspace is resolved and whose
 * route permission is granted there.  It answers with api_reply() or
 * api_fail(); what it changes goes through the store's audited calls
 * with @who.
 */
#ifndef MOAT_CP_API_H
#define MOAT_CP_API_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cp.h"
#include "http.h"
#include "jsonv.h"

/* A connection may stay this long between requests... */
#define API_IDLE_S 60
/* ...and a request (or the handshake) once begun must be in by then. */
#define API_REQUEST_S 10

struct cp_api_conn {
	struct cp *cp;
	struct cp_api_conn *next, *prev; /* cp->api_conns */
	struct tls_conn *tls;
	struct http_conn http;
	struct http_buf out;
	struct loop_op timer;
	char addr[TLS_ADDR_LEN];
	bool done, handshaken;
	/* CLOCK_MONOTONIC seconds */
	uint64_t started, last_active, req_started, armed_for;
};

struct api_call {
	struct cp *cp;
	const struct http_request *req;
	const struct http_match *m;
	struct store_key key;
	char actor[STORE_ID_LEN + STORE_NAME_LEN + 8]; /* "key:KEYID/USER" */
	struct store_who who;
	/* routes under /v1/workspaces/:ws (with the CA blobs) */
	struct store_workspace ws;
	bool has_ws;
	/* the reply */
	int status;
	struct json_object *body; /* owned */
	char allow[64]; /* a 405's Allow header */
};

/* api.c: one request in, its reply appended to @out. */
int api_handle(struct cp *cp, const char *addr, const struct http_request *req,
	       bool close, struct http_buf *out);

/* Reply @status with @body (taken, may be NULL). */
void api_reply(struct api_call *c, int status, struct json_object *body);
/* Reply {"error": ...} with @status. */
void api_fail(struct api_call *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A store error as its status: 404, 409, 400, else 500 (logged). */
void api_fail_store(struct api_call *c, int err, const char *what);
/* 400 with what jsonv said about the body. */
void api_fail_body(struct api_call *c, const struct jsonv_err *e);
/*
 * 0 when the key has @perm in @ws_id ("*": on every workspace); else
 * the 403 is the reply, the denial is in the audit log, and -EACCES.
 * @ws_name names the workspace in the message ("" for none).
 */
int api_allow(struct api_call *c, const char *ws_id, const char *ws_name,
	      const char *perm);
/* Like api_allow() with @perm granted in any workspace. */
int api_allow_any(struct api_call *c, const char *perm);
/* The request body as an object ({} when empty); else 400 replied. */
int api_body(struct api_call *c, struct json_object **root);

/*
 * A list reply, a row a record of a store walk: the row callbacks get
 * the struct api_list (or a struct that begins with one) as their arg.
 */
struct api_list {
	struct api_call *c;
	struct json_object *a;
};
void api_list_init(struct api_list *l, struct api_call *c);
/* The walk returned @ret (> 0: stopped early, fine): 200 or the error. */
void api_list_reply(struct api_list *l, int ret, const char *what);

/* api-json.c */
void api_json_str(struct json_object *o, const char *key, const char *v);
void api_json_int(struct json_object *o, const char *key, int64_t v);
void api_json_bool(struct json_object *o, const char *key, bool v);
/* @text (a JSON object the store keeps) as an object; {} when bad. */
struct json_object *api_json_text(const char *text);
/* A workspace's name for a binding's id: "*" stays, unknown is the id. */
void api_ws_name(struct cp *cp, const char *id, char name[STORE_NAME_LEN + 1]);
/* [{workspace, workspace_id, role}] */
struct json_object *api_json_bindings(struct cp *cp, const struct store_key *k);
struct json_object *api_json_key(struct cp *cp, const struct store_key *k);
struct json_object *api_json_token(const struct store_token *t,
				   const struct store_workspace *ws);
struct json_object *api_json_host(const struct cp *cp,
				  const struct store_host *h);
/* The declared configuration's fields of a host record, into @o. */
void api_json_desired(struct json_object *o, const struct store_host *h);
struct json_object *api_json_ruleset(const struct store_ruleset_version *v);
struct json_object *api_json_assignment(const struct store_assignment *a);
struct json_object *api_json_role(const struct store_role *r);
struct json_object *api_json_workspace(const struct store_workspace *w);
struct json_object *api_json_audit(const struct audit_record *r);

/*
 * api-counters.c: each host whose counters are of ruleset :name to @cb,
 * and the latest version into @v (may be NULL; clear it); else the 404
 * or the error replied.
 */
int api_ruleset_hosts(struct api_call *c, store_counters_cb cb, void *arg,
		      struct store_ruleset_version *v);
/* api-host.c: the host of the path, or a 404 replied (clear @h). */
int api_host_get(struct api_call *c, struct store_host *h);

/* The handlers */
void api_whoami(struct api_call *c);
void api_workspace_list(struct api_call *c);
void api_workspace_create(struct api_call *c);
void api_token_list(struct api_call *c);
void api_token_create(struct api_call *c);
void api_token_revoke(struct api_call *c);
void api_host_list(struct api_call *c);
void api_host_show(struct api_call *c);
void api_host_remove(struct api_call *c);
void api_role_list(struct api_call *c);
void api_role_put(struct api_call *c);
void api_role_delete(struct api_call *c);
void api_key_list(struct api_call *c);
void api_key_create(struct api_call *c);
void api_key_revoke(struct api_call *c);
void api_audit_list(struct api_call *c);
void api_ruleset_list(struct api_call *c);
void api_ruleset_show(struct api_call *c);
void api_ruleset_push(struct api_call *c);
void api_ruleset_versions(struct api_call *c);
void api_ruleset_version(struct api_call *c);
void api_ruleset_counters(struct api_call *c);
void api_assign_list(struct api_call *c);
void api_assign_show(struct api_call *c);
void api_assign_create(struct api_call *c);
void api_assign_replace(struct api_call *c);
void api_assign_delete(struct api_call *c);
void api_host_labels(struct api_call *c);
void api_host_restore(struct api_call *c);
void api_host_counters(struct api_call *c);
void api_ruleset_refresh(struct api_call *c);
void api_host_refresh(struct api_call *c);

/*
 * api-desired.c: a store_desired_fn (@arg the struct cp): the host's new
 * desired state goes to it now, when connected.
 */
void api_push(void *arg, const char *host_id, uint64_t generation);

#endif /* MOAT_CP_API_H */
