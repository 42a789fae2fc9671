// SPDX-License-Identifier: GPL-2.0-only
/*
 * A host's side of declared configuration: labels set by an operator
 * (assignments select on them), restore (its desired state sent again,
 * which clears drift once the host applies it), and the push of every
 * host whose desired generation a call moved.
 */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "log.h"

void api_push(void *arg, const char *host_id, uint64_t generation)
{
	struct cp *cp = arg;

	log_debug("host %s: desired generation %llu", host_id,
		  (unsigned long long)generation);
	cp_push_desired(cp, host_id);
}

/* The host of the path, not removed; else 404 replied. */
static int live_host(struct api_call *c, struct store_host *h)
{
	int ret = api_host_get(c, h);

	if (!ret && h->removed) {
		api_fail(c, 404, "host '%s' was removed", h->id);
		ret = -ENOENT;
	}
	return ret;
}

/* The host record after a change, as the reply. */
static void reply_host(struct api_call *c, const char *id)
{
	struct store_host h = { 0 };
	int ret = store_host_get(c->cp->store, c->ws.id, id, &h);

	if (ret)
		api_fail_store(c, ret, "host");
	else
		api_reply(c, 200, api_json_host(c->cp, &h));
	store_host_clear(&h);
}

void api_host_labels(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	struct json_object *root = NULL, *labels;
	struct store_host h = { 0 };
	struct jsonv_err e = { 0 };
	int ret;

	if (live_host(c, &h) || api_body(c, &root))
		goto out;
	if (jsonv_opt_labels(root, "labels", &labels, &e)) {
		api_fail_body(c, &e);
		goto out;
	}
	if (!labels) {
		api_fail(
			c, 400,
			"field 'labels': expected an object of strings (all of the host's labels)");
		goto out;
	}
	ret = store_host_set_labels(
		c->cp->store, &c->who, c->ws.id, id,
		json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN),
		api_push, c->cp);
	if (ret)
		api_fail_store(c, ret, "host");
	else
		reply_host(c, id);
out:
	store_host_clear(&h);
	json_object_put(root);
}

void api_host_restore(struct api_call *c)
{
	char gen[24], detail[128];
	struct store_host h = { 0 };

	if (live_host(c, &h))
		goto out;
	if (!h.desired_gen) {
		api_fail(
			c, 409,
			"host '%s' is unmanaged: no assignment gives it a ruleset",
			h.id);
		goto out;
	}
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)h.desired_gen);
	if (store_json_detail(
		    detail, sizeof(detail), "generation", gen, "connected",
		    cp_session_connected(c->cp, h.id) ? "yes" : "no", NULL) ||
	    store_audit_append(c->cp->store, &c->who, "host.restore", c->ws.id,
			       h.id, "ok", detail)) {
		api_fail(c, 500, "internal error: cannot record the restore");
		goto out;
	}
	/* the same generation again: the host applies it over its drift */
	cp_push_desired(c->cp, h.id);
	api_reply(c, 200, api_json_host(c->cp, &h));
out:
	store_host_clear(&h);
}
