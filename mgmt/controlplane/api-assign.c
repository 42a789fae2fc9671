// SPDX-License-Identifier: GPL-2.0-only
/*
 * /v1/workspaces/:ws/assignments: which hosts get which ruleset.  An
 * assignment binds a ruleset (a version, or 0: the latest) to a label
 * selector, tried by priority (lower first); a host its selector matches
 * but its rollout (percent, hosts) leaves out falls through to the next.
 * Every change recomputes the hosts' desired states, and the ones that
 * moved get theirs pushed at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* an explicit rollout list of up to this many hosts */
#define ASSIGN_HOSTS_MAX 10000
#define ASSIGN_PRIORITY_DEFAULT 100

static int assign_row(void *arg, const struct store_assignment *a)
{
	struct api_list *l = arg;

	json_object_array_add(l->a, api_json_assignment(a));
	return 0;
}

void api_assign_list(struct api_call *c)
{
	struct api_list l;

	api_list_init(&l, c);
	api_list_reply(
		&l,
		store_assignment_list(c->cp->store, c->ws.id, assign_row, &l),
		"assignment list");
}

static void not_found(struct api_call *c, const char *id)
{
	api_fail(c, 404, "no assignment '%s' in workspace '%s'", id,
		 c->ws.name);
}

void api_assign_show(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	struct store_assignment a = { 0 };
	int ret = store_assignment_get(c->cp->store, c->ws.id, id, &a);

	if (ret == -ENOENT)
		not_found(c, id);
	else if (ret)
		api_fail_store(c, ret, "assignment");
	else
		api_reply(c, 200, api_json_assignment(&a));
	store_assignment_clear(&a);
}

/* The body into @a (its hosts point into @root); 0 or the 400 replied. */
static int assign_body(struct api_call *c, struct json_object *root,
		       struct store_assignment *a)
{
	static const struct jsonv_str name_spec = { 1, STORE_NAME_LEN - 1,
						    "a-z0-9-",
						    "a ruleset name" };
	static const struct jsonv_str sel_spec = { 0, STORE_SELECTOR_LEN - 1,
						   NULL,
						   "a selector 'k=v,k2=v2'" };
	static const struct jsonv_str mode_spec = { 5, 7, "a-z",
						    "'enforce' or 'audit'" };
	static const struct jsonv_str host_spec = { 1, STORE_ID_LEN - 1,
						    "a-z0-9", "a host id" };
	static const struct jsonv_int version_spec = {
		0, INT64_MAX, "a version number (0: the latest)"
	};
	static const struct jsonv_int prio_spec = {
		-1000000, 1000000, "a priority (lower first)"
	};
	static const struct jsonv_int pct_spec = {
		0, 100, "a percentage (0: the listed hosts only)"
	};
	const char *rs, *sel, *mode;
	struct json_object *hosts;
	struct jsonv_err e = { 0 };

	if (jsonv_get_str(root, "ruleset", &name_spec, &rs, &e) ||
	    jsonv_opt_int(root, "version", &version_spec, 0, &a->version, &e) ||
	    jsonv_opt_str(root, "selector", &sel_spec, "", &sel, &e) ||
	    jsonv_opt_int(root, "priority", &prio_spec, ASSIGN_PRIORITY_DEFAULT,
			  &a->priority, &e) ||
	    jsonv_opt_str(root, "mode", &mode_spec, "enforce", &mode, &e) ||
	    jsonv_opt_int(root, "percent", &pct_spec, 100, &a->percent, &e) ||
	    jsonv_opt_strings(root, "hosts", ASSIGN_HOSTS_MAX, &host_spec,
			      &hosts, &e)) {
		api_fail_body(c, &e);
		return -EINVAL;
	}
	if (!store_selector_valid(sel)) {
		api_fail(
			c, 400,
			"field 'selector': expected k=v pairs joined by ',' (or empty: every host), got '%s'",
			sel);
		return -EINVAL;
	}
	if (strcmp(mode, "enforce") && strcmp(mode, "audit")) {
		api_fail(
			c, 400,
			"field 'mode': expected 'enforce' or 'audit', got '%s'",
			mode);
		return -EINVAL;
	}
	snprintf(a->ruleset, sizeof(a->ruleset), "%s", rs);
	snprintf(a->selector, sizeof(a->selector), "%s", sel);
	snprintf(a->mode, sizeof(a->mode), "%s", mode);
	a->hosts = (char *)(hosts ? json_object_to_json_string_ext(
					    hosts, JSON_C_TO_STRING_PLAIN) :
				    "[]");
	return 0;
}

/* The ruleset (and version) an assignment names exists: else 400. */
static int ruleset_exists(struct api_call *c, const struct store_assignment *a)
{
	struct store_ruleset_version v = { 0 };
	int ret = store_ruleset_get(c->cp->store, c->ws.id, a->ruleset,
				    a->version, &v);

	store_ruleset_version_clear(&v);
	if (ret == -ENOENT && a->version)
		api_fail(c, 400,
			 "field 'version': ruleset '%s' has no version %lld",
			 a->ruleset, (long long)a->version);
	else if (ret == -ENOENT)
		api_fail(c, 400,
			 "field 'ruleset': no ruleset '%s' in workspace '%s'",
			 a->ruleset, c->ws.name);
	else if (ret)
		api_fail_store(c, ret, "ruleset");
	return ret;
}

/* Create (@id NULL) or replace. */
static void put(struct api_call *c, const char *id)
{
	struct store_assignment a = { 0 }, out = { 0 };
	struct json_object *root = NULL;
	int ret;

	if (api_body(c, &root))
		return;
	if (assign_body(c, root, &a) || ruleset_exists(c, &a))
		goto out;
	if (id)
		snprintf(a.id, sizeof(a.id), "%s", id);
	ret = store_assignment_put(c->cp->store, &c->who, c->ws.id, &a, &out,
				   api_push, c->cp);
	if (ret == -ENOENT && id)
		not_found(c, id);
	else if (ret)
		api_fail_store(c, ret, "assignment");
	else
		api_reply(c, id ? 200 : 201, api_json_assignment(&out));
	store_assignment_clear(&out);
out:
	json_object_put(root);
}

void api_assign_create(struct api_call *c)
{
	put(c, NULL);
}

void api_assign_replace(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");

	if (strlen(id) != STORE_ID_LEN - 1 || id[0] != 'a') {
		not_found(c, id);
		return;
	}
	put(c, id);
}

void api_assign_delete(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	struct json_object *o;
	int ret = store_assignment_delete(c->cp->store, &c->who, c->ws.id, id,
					  api_push, c->cp);

	if (ret == -ENOENT) {
		not_found(c, id);
	} else if (ret) {
		api_fail_store(c, ret, "assignment");
	} else {
		o = json_object_new_object();
		api_json_str(o, "id", id);
		api_json_bool(o, "deleted", true);
		api_reply(c, 200, o);
	}
}
