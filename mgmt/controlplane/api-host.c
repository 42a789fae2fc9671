// SPDX-License-Identifier: GPL-2.0-only
/*
 * /v1/workspaces/:ws/hosts: the fleet with its health, computed at read
 * time (health.c), and removal, which ends the host's session at once.
 */
#include <errno.h>

#include "api.h"

static int host_row(void *arg, const struct store_host *h)
{
	struct api_list *l = arg;

	json_object_array_add(l->a, api_json_host(l->c->cp, h));
	return 0;
}

void api_host_list(struct api_call *c)
{
	struct api_list l;

	api_list_init(&l, c);
	api_list_reply(&l,
		       store_host_list(c->cp->store, c->ws.id, host_row, &l),
		       "host list");
}

int api_host_get(struct api_call *c, struct store_host *h)
{
	const char *id = http_match_param(c->m, "id");
	int ret = store_host_get(c->cp->store, c->ws.id, id, h);

	if (ret == -ENOENT)
		api_fail(c, 404, "no host '%s' in workspace '%s'", id,
			 c->ws.name);
	else if (ret)
		api_fail_store(c, ret, "host");
	return ret;
}

void api_host_show(struct api_call *c)
{
	struct store_host h = { 0 };

	if (api_host_get(c, &h) == 0)
		api_reply(c, 200, api_json_host(c->cp, &h));
	store_host_clear(&h);
}

void api_host_remove(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	struct store_host h = { 0 };
	int ret;

	ret = store_host_remove(c->cp->store, &c->who, c->ws.id, id, &h);
	if (ret == -EALREADY) {
		api_fail(c, 409, "host '%s' was removed already", id);
	} else if (ret == -ENOENT) {
		api_fail(c, 404, "no host '%s' in workspace '%s'", id,
			 c->ws.name);
	} else if (ret) {
		api_fail_store(c, ret, "host");
	} else {
		/* its certificate is refused from now on: end what is open */
		cp_session_end_host(c->cp, h.id, PROTO_E_HOST_REMOVED,
				    "the host was removed by an operator");
		api_reply(c, 200, api_json_host(c->cp, &h));
	}
	store_host_clear(&h);
}
