// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fresh counters on demand: POST .../rulesets/:name/counters/refresh
 * sends counters_request to each connected host whose counters the
 * ruleset's sums hold, POST .../hosts/:id/counters/refresh to one host.
 * The reply comes at once, with the hosts asked and those away; the
 * answers come over the agent channel within a round trip, and the
 * counters reads show them (each host's "pending" turns false).  The
 * HTTP side never waits for a host: the client polls.
 *
 * A refresh changes no record and is not audited, as reads are not; it
 * needs host:read like them.
 */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "log.h"

struct refresh {
	struct cp *cp;
	struct json_object *asked, *away;
};

static void ask(struct refresh *r, const char *host_id)
{
	int ret = cp_request_counters(r->cp, host_id);

	if (ret && ret != -ENOTCONN)
		log_err("host %s: cannot ask for counters: %s", host_id,
			strerror(-ret));
	json_object_array_add(ret ? r->away : r->asked,
			      json_object_new_string(host_id));
}

static int ask_row(void *arg, const struct store_counters *c)
{
	ask(arg, c->host_id);
	return 0;
}

static void reply(struct api_call *c, struct refresh *r, const char *key,
		  const char *value)
{
	struct json_object *o = json_object_new_object();

	api_json_str(o, key, value);
	api_json_int(o, "time", store_now(c->cp->store));
	json_object_object_add(o, "asked", r->asked);
	json_object_object_add(o, "away", r->away);
	r->asked = r->away = NULL;
	api_reply(c, 200, o);
}

void api_ruleset_refresh(struct api_call *c)
{
	struct refresh r = { c->cp, json_object_new_array(),
			     json_object_new_array() };

	if (api_ruleset_hosts(c, ask_row, &r, NULL) == 0)
		reply(c, &r, "ruleset", http_match_param(c->m, "name"));
	json_object_put(r.asked);
	json_object_put(r.away);
}

void api_host_refresh(struct api_call *c)
{
	struct store_host h = { 0 };
	struct refresh r = { c->cp, json_object_new_array(),
			     json_object_new_array() };

	if (api_host_get(c, &h) == 0) {
		ask(&r, h.id);
		reply(c, &r, "host_id", h.id);
	}
	store_host_clear(&h);
	json_object_put(r.asked);
	json_object_put(r.away);
}
