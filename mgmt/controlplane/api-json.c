// SPDX-License-Identifier: GPL-2.0-only
/*
 * The store's records as the API shows them (docs/api.md): ids as
 * strings, times as unix seconds, "revoked" and "removed" as booleans
 * with the time beside them, labels and host status as objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "pki.h"

void api_json_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v ? v : ""));
}

void api_json_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void api_json_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

struct json_object *api_json_text(const char *text)
{
	struct json_object *o = text ? json_tokener_parse(text) : NULL;

	if (o && json_object_is_type(o, json_type_object))
		return o;
	json_object_put(o);
	return json_object_new_object();
}

void api_ws_name(struct cp *cp, const char *id, char name[STORE_NAME_LEN + 1])
{
	struct store_workspace w = { 0 };

	snprintf(name, STORE_NAME_LEN + 1, "%s", id);
	if (strcmp(id, "*") && store_workspace_get(cp->store, id, &w) == 0)
		snprintf(name, STORE_NAME_LEN + 1, "%s", w.name);
	store_workspace_clear(&w);
}

struct named_binding {
	char ws[STORE_NAME_LEN + 1];
	const struct store_binding *b;
};

/* "*" first ('*' sorts before letters), then by workspace name and role */
static int binding_cmp(const void *x, const void *y)
{
	const struct named_binding *a = x, *b = y;
	int d = strcmp(a->ws, b->ws);

	return d ? d : strcmp(a->b->role, b->b->role);
}

struct json_object *api_json_bindings(struct cp *cp, const struct store_key *k)
{
	struct named_binding nb[STORE_MAX_BINDINGS];
	struct json_object *a = json_object_new_array();
	size_t n = k->n_bindings < STORE_MAX_BINDINGS ? k->n_bindings :
							STORE_MAX_BINDINGS;

	/* the store keeps no order: people read them sorted */
	for (size_t i = 0; i < n; i++) {
		nb[i].b = &k->bindings[i];
		api_ws_name(cp, k->bindings[i].workspace, nb[i].ws);
	}
	qsort(nb, n, sizeof(nb[0]), binding_cmp);
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_new_object();

		api_json_str(b, "workspace", nb[i].ws);
		api_json_str(b, "workspace_id", nb[i].b->workspace);
		api_json_str(b, "role", nb[i].b->role);
		json_object_array_add(a, b);
	}
	return a;
}

struct json_object *api_json_key(struct cp *cp, const struct store_key *k)
{
	struct json_object *o = json_object_new_object();

	api_json_str(o, "id", k->id);
	api_json_str(o, "user", k->user);
	api_json_int(o, "created", k->created);
	api_json_bool(o, "revoked", k->revoked != 0);
	api_json_int(o, "revoked_at", k->revoked);
	json_object_object_add(o, "bindings", api_json_bindings(cp, k));
	return o;
}

struct json_object *api_json_token(const struct store_token *t,
				   const struct store_workspace *ws)
{
	struct json_object *o = json_object_new_object();

	api_json_str(o, "id", t->id);
	api_json_str(o, "workspace", ws->name);
	api_json_str(o, "workspace_id", t->workspace_id);
	api_json_str(o, "description", t->description);
	api_json_int(o, "created", t->created);
	api_json_str(o, "created_by", t->created_by);
	api_json_int(o, "expires", t->expires);
	api_json_int(o, "uses", t->uses);
	api_json_int(o, "max_uses", t->max_uses);
	json_object_object_add(o, "labels", api_json_text(t->labels));
	api_json_bool(o, "revoked", t->revoked != 0);
	api_json_int(o, "revoked_at", t->revoked);
	api_json_str(o, "state", store_token_state_name(t->state));
	return o;
}

/*
 * The store keeps a host's last heartbeat as {load, mem_total,
 * mem_available, host_time, seq, dataplane{...}}: the data plane is a
 * field of the host of its own, the rest its "status".
 */
static void host_status(struct json_object *o, const char *text)
{
	struct json_object *st = api_json_text(text), *dp = NULL;

	if (json_object_object_get_ex(st, "dataplane", &dp))
		json_object_get(dp);
	json_object_object_del(st, "dataplane");
	json_object_object_add(o, "dataplane", dp);
	if (json_object_object_length(st)) {
		json_object_object_add(o, "status", st);
	} else {
		json_object_put(st);
		json_object_object_add(o, "status", NULL);
	}
}

struct json_object *api_json_host(const struct cp *cp,
				  const struct store_host *h)
{
	struct json_object *o = json_object_new_object();
	enum cp_health health = cp_host_health(cp, h, store_now(cp->store));

	api_json_str(o, "id", h->id);
	api_json_str(o, "workspace_id", h->workspace_id);
	api_json_str(o, "hostname", h->hostname);
	api_json_str(o, "machine_id", h->machine_id);
	json_object_object_add(o, "labels", api_json_text(h->labels));
	api_json_str(o, "state", cp_health_name(health));
	api_json_bool(o, "connected", cp_session_connected(cp, h->id));
	api_json_int(o, "enrolled", h->enrolled);
	api_json_int(o, "first_seen", h->first_seen);
	api_json_int(o, "last_seen", h->last_seen);
	api_json_str(o, "agent_version", h->agent_version);
	api_json_str(o, "kernel", h->kernel);
	api_json_int(o, "uptime", h->uptime);
	api_json_int(o, "cert_not_after", h->cert_not_after);
	api_json_str(o, "address", h->address);
	api_json_str(o, "token_id", h->token_id);
	host_status(o, h->dataplane);
	api_json_bool(o, "removed", h->removed != 0);
	api_json_int(o, "removed_at", h->removed);
	api_json_desired(o, h);
	return o;
}

void api_json_desired(struct json_object *o, const struct store_host *h)
{
	const char *config = store_host_status(h);
	struct json_object *rs = NULL;

	if (h->desired_ruleset[0]) {
		rs = json_object_new_object();
		api_json_str(rs, "name", h->desired_ruleset);
		api_json_int(rs, "version", h->desired_version);
		api_json_str(rs, "mode", h->desired_mode);
	}
	api_json_str(o, "config", config);
	api_json_int(o, "desired_generation", (int64_t)h->desired_gen);
	api_json_int(o, "applied_generation", (int64_t)h->applied_gen);
	/* an error of an older generation says nothing of the one wanted */
	api_json_str(o, "apply_error",
		     strcmp(config, "failing") ? "" : h->apply_error);
	api_json_bool(o, "drift", h->drift);
	api_json_str(o, "applied_hash", h->applied_hash);
	api_json_int(o, "last_applied", h->last_applied);
	json_object_object_add(o, "ruleset", rs);
}

struct json_object *api_json_ruleset(const struct store_ruleset_version *v)
{
	struct json_object *o = json_object_new_object();

	api_json_str(o, "name", v->name);
	api_json_int(o, "version", v->version);
	api_json_str(o, "sha256", v->sha256);
	api_json_str(o, "author", v->author);
	api_json_int(o, "created", v->created);
	api_json_int(o, "rules", v->rules);
	if (v->text)
		api_json_str(o, "text", v->text);
	return o;
}

struct json_object *api_json_assignment(const struct store_assignment *a)
{
	struct json_object *o = json_object_new_object();
	struct json_object *hosts = a->hosts ? json_tokener_parse(a->hosts) :
					       NULL;

	if (!hosts || !json_object_is_type(hosts, json_type_array)) {
		json_object_put(hosts);
		hosts = json_object_new_array();
	}
	api_json_str(o, "id", a->id);
	api_json_str(o, "ruleset", a->ruleset);
	api_json_int(o, "version", a->version);
	api_json_str(o, "selector", a->selector);
	api_json_int(o, "priority", a->priority);
	api_json_str(o, "mode", a->mode);
	api_json_int(o, "percent", a->percent);
	json_object_object_add(o, "hosts", hosts);
	api_json_str(o, "author", a->author);
	api_json_int(o, "created", a->created);
	return o;
}

struct json_object *api_json_role(const struct store_role *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *perms = json_object_new_array();
	const char *p = r->permissions;

	/* the store keeps them space-separated */
	while (*p) {
		size_t n = strcspn(p, " ");

		if (n)
			json_object_array_add(
				perms, json_object_new_string_len(p, (int)n));
		p += n;
		p += strspn(p, " ");
	}
	api_json_str(o, "name", r->name);
	json_object_object_add(o, "permissions", perms);
	api_json_bool(o, "builtin", r->builtin);
	return o;
}

struct json_object *api_json_workspace(const struct store_workspace *w)
{
	struct json_object *o = json_object_new_object();
	char fp[PKI_FP_LEN] = "";
	X509 *ca = NULL;

	if (pki_cert_from_der(w->ca.data, w->ca.len, &ca) == 0)
		pki_fingerprint(ca, fp);
	X509_free(ca);
	api_json_str(o, "id", w->id);
	api_json_str(o, "name", w->name);
	api_json_int(o, "created", w->created);
	api_json_str(o, "ca_fingerprint", fp);
	return o;
}

struct json_object *api_json_audit(const struct audit_record *r)
{
	struct json_object *o = json_object_new_object();

	api_json_int(o, "seq", r->seq);
	api_json_int(o, "time", r->time);
	api_json_str(o, "actor", r->actor);
	api_json_str(o, "source", r->source);
	api_json_str(o, "action", r->action);
	api_json_str(o, "workspace", r->workspace);
	api_json_str(o, "target", r->target);
	api_json_str(o, "result", r->result);
	/* as text: the chain hashes these very bytes */
	api_json_str(o, "detail", r->detail);
	api_json_str(o, "prev", r->prev);
	api_json_str(o, "hash", r->hash);
	return o;
}
