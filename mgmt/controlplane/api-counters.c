// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-rule counters: each host's last report as it is (GET
 * .../hosts/:id/counters), and per ruleset the rules' packets and bytes
 * summed over the hosts running any version of it, with the top hosts
 * of each rule (GET .../rulesets/:name/counters).  Counters are keyed by
 * rule name, so that a rule keeps its row across versions; a row's action
 * is the rule's in the latest version ("" for a name it no longer has).
 * Each reply says when each host reported, and whether it was asked for
 * fresh counters (api-refresh.c) and has not answered yet.  A read asks
 * nothing: a client polling for the answers would ask again each time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ruleset.h"

#define COUNTERS_TOP 3

struct rule_sum {
	char *name;
	uint64_t packets, bytes;
	int64_t hosts;
	struct {
		const char *host_id; /* into the struct ruleset_sum's reports */
		uint64_t packets, bytes;
	} top[COUNTERS_TOP];
	int ntop;
};

struct ruleset_sum {
	struct rule_sum *r;
	size_t n, cap;
	struct json_object *index; /* name -> position in @r */
	/* [{host_id, time, connected, pending}], owning the ids of @r's tops */
	struct json_object *reports;
	int64_t hosts;
	struct cp *cp;
};

static struct rule_sum *rule_of(struct ruleset_sum *s, const char *name)
{
	struct json_object *i;
	struct rule_sum *r;

	if (json_object_object_get_ex(s->index, name, &i))
		return &s->r[json_object_get_int64(i)];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		r = realloc(s->r, cap * sizeof(*r));
		if (!r)
			return NULL;
		s->r = r;
		s->cap = cap;
	}
	r = &s->r[s->n];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	if (!r->name)
		return NULL;
	json_object_object_add(s->index, name,
			       json_object_new_int64((int64_t)s->n));
	s->n++;
	return r;
}

/* @host_id's row joins the top of @r when it has more packets. */
static void top_add(struct rule_sum *r, const char *host_id, uint64_t packets,
		    uint64_t bytes)
{
	int i;

	if (r->ntop < COUNTERS_TOP)
		i = r->ntop++;
	else if (r->top[COUNTERS_TOP - 1].packets >= packets)
		return;
	else
		i = COUNTERS_TOP - 1;
	for (; i > 0 && r->top[i - 1].packets < packets; i--)
		r->top[i] = r->top[i - 1];
	r->top[i].host_id = host_id;
	r->top[i].packets = packets;
	r->top[i].bytes = bytes;
}

static uint64_t row_uint(struct json_object *row, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(row, key, &v))
		return 0;
	return (uint64_t)json_object_get_uint64(v);
}

/* Whether @host_id is connected, and owes counters it was asked for. */
static void add_session(struct json_object *o, struct cp *cp,
			const char *host_id)
{
	api_json_bool(o, "connected", cp_session_connected(cp, host_id));
	api_json_bool(o, "pending", cp_counters_pending(cp, host_id));
}

static struct json_object *report_json(struct cp *cp, const char *host_id,
				       int64_t time)
{
	struct json_object *o = json_object_new_object();

	api_json_str(o, "host_id", host_id);
	api_json_int(o, "time", time);
	add_session(o, cp, host_id);
	return o;
}

static int host_rows(void *arg, const struct store_counters *c)
{
	struct ruleset_sum *s = arg;
	struct json_object *rows = json_tokener_parse(c->rules), *report, *id;
	const char *host_id;
	int ret = 0;

	if (!rows || !json_object_is_type(rows, json_type_array))
		goto out;
	report = report_json(s->cp, c->host_id, c->time);
	json_object_array_add(s->reports, report);
	json_object_object_get_ex(report, "host_id", &id);
	host_id = json_object_get_string(id);
	s->hosts++;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		struct json_object *name;
		struct rule_sum *r;
		uint64_t p, b;

		if (!json_object_object_get_ex(row, "name", &name) ||
		    !json_object_is_type(name, json_type_string))
			continue;
		r = rule_of(s, json_object_get_string(name));
		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		p = row_uint(row, "packets");
		b = row_uint(row, "bytes");
		r->packets += p;
		r->bytes += b;
		r->hosts++;
		top_add(r, host_id, p, b);
	}
out:
	json_object_put(rows);
	return ret;
}

static const char *action_name(enum moat_action a)
{
	return a == MOAT_DROP ? "drop" : "allow";
}

/* Rule name -> action of @text; the default policy's row too. */
static struct json_object *actions(const char *text)
{
	struct json_object *o = json_object_new_object();
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };

	/* a stored version parsed when it was pushed: an error is no row */
	if (text && moat_ruleset_parse(text, strlen(text), &rs, &d) == 0) {
		for (size_t i = 0; i < rs.nrules; i++)
			json_object_object_add(
				o, rs.rules[i].name,
				json_object_new_string(
					action_name(rs.rules[i].action)));
		json_object_object_add(
			o, "(policy)",
			json_object_new_string(action_name(rs.policy)));
	}
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
	return o;
}

static struct json_object *sum_json(const struct ruleset_sum *s,
				    const char *name, const char *text)
{
	struct json_object *acts = actions(text), *act;
	struct json_object *o = json_object_new_object();
	struct json_object *rules = json_object_new_array();

	for (size_t i = 0; i < s->n; i++) {
		const struct rule_sum *r = &s->r[i];
		struct json_object *row = json_object_new_object();
		struct json_object *top = json_object_new_array();

		for (int t = 0; t < r->ntop; t++) {
			struct json_object *h = json_object_new_object();

			api_json_str(h, "host_id", r->top[t].host_id);
			api_json_int(h, "packets", (int64_t)r->top[t].packets);
			api_json_int(h, "bytes", (int64_t)r->top[t].bytes);
			json_object_array_add(top, h);
		}
		api_json_str(row, "name", r->name);
		api_json_str(row, "action",
			     json_object_object_get_ex(acts, r->name, &act) ?
				     json_object_get_string(act) :
				     "");
		api_json_int(row, "packets", (int64_t)r->packets);
		api_json_int(row, "bytes", (int64_t)r->bytes);
		api_json_int(row, "hosts", r->hosts);
		json_object_object_add(row, "top", top);
		json_object_array_add(rules, row);
	}
	api_json_str(o, "ruleset", name);
	api_json_int(o, "hosts", s->hosts);
	json_object_object_add(o, "reports", json_object_get(s->reports));
	json_object_object_add(o, "rules", rules);
	json_object_put(acts);
	return o;
}

int api_ruleset_hosts(struct api_call *c, store_counters_cb cb, void *arg,
		      struct store_ruleset_version *v)
{
	const char *name = http_match_param(c->m, "name");
	struct store_ruleset_version latest = { 0 };
	int ret = store_ruleset_get(c->cp->store, c->ws.id, name, 0, &latest);

	if (!ret)
		ret = store_ruleset_counters(c->cp->store, c->ws.id, name, cb,
					     arg);
	if (ret == -ENOENT)
		api_fail(c, 404, "no ruleset '%s' in workspace '%s'", name,
			 c->ws.name);
	else if (ret)
		api_fail_store(c, ret, "ruleset counters");
	if (v && !ret)
		*v = latest;
	else
		store_ruleset_version_clear(&latest);
	return ret;
}

void api_ruleset_counters(struct api_call *c)
{
	struct store_ruleset_version v = { 0 };
	struct ruleset_sum s = { .cp = c->cp };

	s.index = json_object_new_object();
	s.reports = json_object_new_array();
	if (api_ruleset_hosts(c, host_rows, &s, &v) == 0)
		api_reply(c, 200, sum_json(&s, v.name, v.text));
	store_ruleset_version_clear(&v);
	for (size_t i = 0; i < s.n; i++)
		free(s.r[i].name);
	free(s.r);
	json_object_put(s.index);
	json_object_put(s.reports);
}

void api_host_counters(struct api_call *c)
{
	const char *id = http_match_param(c->m, "id");
	struct store_counters k = { 0 };
	struct json_object *o, *rules;
	int ret = store_host_counters(c->cp->store, c->ws.id, id, &k);

	if (ret == -ENOENT) {
		api_fail(c, 404, "no host '%s' in workspace '%s'", id,
			 c->ws.name);
		return;
	}
	if (ret) {
		api_fail_store(c, ret, "host counters");
		return;
	}
	rules = json_tokener_parse(k.rules);
	if (!rules || !json_object_is_type(rules, json_type_array)) {
		json_object_put(rules);
		rules = json_object_new_array();
	}
	o = json_object_new_object();
	api_json_str(o, "host_id", k.host_id);
	api_json_int(o, "generation", (int64_t)k.generation);
	api_json_str(o, "ruleset_hash", k.ruleset_hash);
	api_json_int(o, "time", k.time);
	add_session(o, c->cp, k.host_id);
	json_object_object_add(o, "rules", rules);
	api_reply(c, 200, o);
	store_counters_clear(&k);
}
