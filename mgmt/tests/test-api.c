// SPDX-License-Identifier: GPL-2.0-only
/*
 * The operator API's handlers on a real store, without TLS or sockets:
 * requests are bytes through the real HTTP parser into api_handle(), and
 * the replies are read back.  What cp-api.sh cannot reach without an
 * agent: hosts that enrolled and heartbeat, their health as time passes,
 * removal, and the config status of a host as its reports of applying
 * its desired state come in.  And the rules every route follows: no
 * key, 401.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "test-store-fixture.h"

struct t {
	struct fixture *f;
	struct cp cp;
	int status;
	char allow[64];
	struct json_object *body;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(fixture_setup((void **)&t->f), 0);
	t->cp.store = t->f->st;
	TAILQ_INIT(&t->cp.push_queue);
	t->cp.opt.heartbeat_interval = 10;
	t->cp.opt.stale_after = 30;
	t->cp.opt.offline_after = 100;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	void *f = t->f;

	json_object_put(t->body);
	fixture_teardown(&f);
	free(t);
	return 0;
}

/* One request as a client sends it; the reply's status and body into @t. */
static int call(struct t *t, const char *key, const char *method,
		const char *path, const char *body)
{
	struct http_conn c;
	struct http_request *req;
	struct http_buf out = { 0 };
	char raw[4096], auth[STORE_SECRET_LEN + 32] = "";
	const char *p;
	char *text;
	int n;

	if (key)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n",
			 key);
	n = snprintf(
		raw, sizeof(raw),
		"%s %s HTTP/1.1\r\nHost: cp\r\n%sContent-Length: %zu\r\n\r\n%s",
		method, path, auth, body ? strlen(body) : 0, body ? body : "");
	http_conn_init(&c);
	assert_int_equal(http_conn_feed(&c, raw, (size_t)n), 0);
	assert_int_equal(http_conn_next(&c, &req), 1);
	assert_int_equal(api_handle(&t->cp, "192.0.2.1:4444", req, false, &out),
			 0);
	http_request_free(req);
	http_conn_free(&c);

	/* the buffer is bytes for the wire: a string of them to read */
	text = strndup(out.data, out.len);
	assert_non_null(text);
	http_buf_free(&out);
	assert_int_equal(sscanf(text, "HTTP/1.1 %d", &t->status), 1);
	t->allow[0] = '\0';
	p = strstr(text, "\r\nAllow: ");
	if (p && p < strstr(text, "\r\n\r\n"))
		sscanf(p + 9, "%63[^\r]", t->allow);
	json_object_put(t->body);
	t->body = json_tokener_parse(strstr(text, "\r\n\r\n") + 4);
	assert_non_null(t->body);
	free(text);
	return t->status;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(get(o, key));
}

static int sign(void *arg, const char *ws, const char *host,
		char serial[STORE_SERIAL_LEN], int64_t *not_after)
{
	snprintf(serial, STORE_SERIAL_LEN, "01");
	*not_after = 2000000000;
	return 0;
}

/* A host enrolled with a token minted over the API; its id into @id. */
static void enroll(struct t *t, char id[STORE_ID_LEN])
{
	struct store_enroll_req req = {
		.hostname = "web-1",
		.machine_id = "m-1",
		.agent_version = "0.1.0",
		.address = "198.51.100.7:40000",
	};
	char hash[STORE_HASH_LEN];
	struct store_host h;
	const char *secret;

	assert_int_equal(call(t, t->f->admin_secret, "POST",
			      "/v1/workspaces/default/tokens",
			      "{\"labels\": {\"role\": \"web\"}}"),
			 201);
	secret = str(t->body, "token");
	assert_int_equal(store_sha256_hex(secret, strlen(secret), hash), 0);
	req.token_hash = hash;
	assert_int_equal(
		store_enroll(t->f->st, &test_who, &req, sign, NULL, &h), 0);
	memcpy(id, h.id, STORE_ID_LEN);
	store_host_clear(&h);
}

static const char status_text[] =
	"{\"load\":[0.5,0.25,0.1],\"mem_total\":1000,\"mem_available\":400,"
	"\"host_time\":1,\"seq\":7,\"dataplane\":{\"instance\":\"moat0\","
	"\"state\":\"enforcing\",\"generation\":4,\"interfaces\":[],"
	"\"ct_entries\":3,\"ct_max\":100}}";

/* GET the host at @path: its config status, generations and error. */
static void expect_config(struct t *t, const char *path, const char *config,
			  int64_t applied, int64_t desired, const char *error)
{
	assert_int_equal(call(t, t->f->admin_secret, "GET", path, NULL), 200);
	assert_string_equal(str(t->body, "config"), config);
	assert_int_equal(
		json_object_get_int64(get(t->body, "applied_generation")),
		applied);
	assert_int_equal(
		json_object_get_int64(get(t->body, "desired_generation")),
		desired);
	assert_string_equal(str(t->body, "apply_error"), error);
}

/*
 * A host's declared state through the reports a moatd would send:
 * applied (converged), a new version not yet applied (pending), one it
 * cannot load (failing, with the error, while the old generation stays
 * applied), a local change (drift), and restore.
 */
static void host_declared_state(void **state)
{
	static const char v1[] =
		"{\"text\": \"policy drop\\nallow ssh tcp dport 22\\n\"}";
	static const char v2[] =
		"{\"text\": \"policy drop\\nallow ssh tcp dport 2222\\n\"}";
	struct t *t = *state;
	char id[STORE_ID_LEN], path[128], restore[160];
	json_object *rs;

	enroll(t, id);
	snprintf(path, sizeof(path), "/v1/workspaces/default/hosts/%s", id);
	snprintf(restore, sizeof(restore), "%s/restore", path);
	expect_config(t, path, "unmanaged", 0, 0, "");
	assert_int_equal(call(t, t->f->admin_secret, "POST", restore, NULL),
			 409);

	assert_int_equal(call(t, t->f->admin_secret, "POST",
			      "/v1/workspaces/default/rulesets/web", v1),
			 201);
	assert_int_equal(
		call(t, t->f->admin_secret, "POST",
		     "/v1/workspaces/default/assignments",
		     "{\"ruleset\": \"web\", \"selector\": \"role=web\"}"),
		201);
	expect_config(t, path, "pending", 0, 1, "");
	rs = get(t->body, "ruleset");
	assert_string_equal(str(rs, "name"), "web");
	assert_int_equal(json_object_get_int64(get(rs, "version")), 1);
	assert_string_equal(str(rs, "mode"), "enforce");

	assert_int_equal(
		store_host_applied(t->f->st, id, 1, true, NULL, "aa", false),
		0);
	expect_config(t, path, "converged", 1, 1, "");

	/* hosts on "latest" move with a new version */
	assert_int_equal(call(t, t->f->admin_secret, "POST",
			      "/v1/workspaces/default/rulesets/web", v2),
			 201);
	expect_config(t, path, "pending", 1, 2, "");
	assert_int_equal(store_host_applied(t->f->st, id, 2, false,
					    "over capacity", "aa", false),
			 0);
	expect_config(t, path, "failing", 1, 2, "over capacity");

	/* applied at last, then changed by hand: drift until restored */
	assert_int_equal(
		store_host_applied(t->f->st, id, 2, true, NULL, "bb", true), 0);
	expect_config(t, path, "drift", 2, 2, "");
	assert_int_equal(call(t, t->f->admin_secret, "POST", restore, NULL),
			 200);
	assert_int_equal(
		store_host_applied(t->f->st, id, 2, true, NULL, "bb", false),
		0);
	expect_config(t, path, "converged", 2, 2, "");
}

static void host_health(void **state)
{
	struct t *t = *state;
	struct store_heartbeat hb = { .agent_version = "0.1.1",
				      .kernel = "6.1.0",
				      .uptime = 99,
				      .address = "198.51.100.7:40001",
				      .dataplane = status_text };
	char id[STORE_ID_LEN], path[128];
	int64_t now = store_now(t->f->st);
	json_object *h;

	enroll(t, id);
	snprintf(path, sizeof(path), "/v1/workspaces/default/hosts/%s", id);

	/* enrolled, never heard from: pending, no status yet */
	assert_int_equal(call(t, t->f->admin_secret, "GET",
			      "/v1/workspaces/default/hosts", NULL),
			 200);
	assert_int_equal(json_object_array_length(t->body), 1);
	h = json_object_array_get_idx(t->body, 0);
	assert_string_equal(str(h, "id"), id);
	assert_string_equal(str(h, "state"), "pending");
	assert_string_equal(str(h, "hostname"), "web-1");
	assert_string_equal(str(get(h, "labels"), "role"), "web");
	assert_false(json_object_get_boolean(get(h, "connected")));
	assert_null(get(h, "dataplane"));
	assert_int_equal(json_object_get_int64(get(h, "cert_not_after")),
			 2000000000);

	/* a heartbeat: healthy, its data plane a field of its own */
	store_set_time(t->f->st, now);
	hb.time = now;
	assert_int_equal(store_host_heartbeat(t->f->st, id, &hb), 0);
	assert_int_equal(call(t, t->f->admin_secret, "GET", path, NULL), 200);
	assert_string_equal(str(t->body, "state"), "healthy");
	assert_string_equal(str(t->body, "kernel"), "6.1.0");
	assert_int_equal(json_object_get_int64(get(t->body, "uptime")), 99);
	assert_int_equal(json_object_get_int64(
				 get(get(t->body, "dataplane"), "generation")),
			 4);
	assert_int_equal(
		json_object_get_int64(get(get(t->body, "status"), "seq")), 7);
	assert_null(get(get(t->body, "status"), "dataplane"));

	/* stale past --stale-after (30 s), offline past --offline-after */
	store_set_time(t->f->st, now + 31);
	call(t, t->f->admin_secret, "GET", path, NULL);
	assert_string_equal(str(t->body, "state"), "stale");
	store_set_time(t->f->st, now + 101);
	call(t, t->f->admin_secret, "GET", path, NULL);
	assert_string_equal(str(t->body, "state"), "offline");

	/* removal: once; the store refuses its certificate from then on */
	assert_int_equal(call(t, t->f->admin_secret, "DELETE", path, NULL),
			 200);
	assert_string_equal(str(t->body, "state"), "removed");
	assert_true(json_object_get_boolean(get(t->body, "removed")));
	assert_int_equal(store_host_cert_ok(t->f->st, t->f->ws, id, "01"),
			 -EKEYREVOKED);
	assert_int_equal(call(t, t->f->admin_secret, "DELETE", path, NULL),
			 409);
	assert_int_equal(call(t, t->f->admin_secret, "GET",
			      "/v1/audit?after=0&limit=100000", NULL),
			 200);
	h = json_object_array_get_idx(t->body,
				      json_object_array_length(t->body) - 1);
	assert_string_equal(str(h, "action"), "host.remove");
	assert_string_equal(str(h, "target"), id);
	assert_string_equal(str(h, "source"), "192.0.2.1:4444");
}

static void host_remove_denied(void **state)
{
	struct t *t = *state;
	char id[STORE_ID_LEN], path[128], viewer[STORE_SECRET_LEN];
	json_object *last;

	enroll(t, id);
	assert_int_equal(
		call(t, t->f->admin_secret, "POST", "/v1/keys",
		     "{\"user\": \"v\", \"bindings\": [{\"workspace\": \"default\", \"role\": \"viewer\"}]}"),
		201);
	snprintf(viewer, sizeof(viewer), "%s", str(t->body, "key"));
	snprintf(path, sizeof(path), "/v1/workspaces/default/hosts/%s", id);
	assert_int_equal(call(t, viewer, "GET", path, NULL), 200);
	assert_int_equal(call(t, viewer, "DELETE", path, NULL), 403);
	assert_string_equal(str(t->body, "missing_permission"), "host:remove");
	/* nothing changed, and the denial is on record */
	assert_int_equal(store_host_cert_ok(t->f->st, t->f->ws, id, "01"), 0);
	call(t, t->f->admin_secret, "GET", "/v1/audit?limit=100000", NULL);
	last = json_object_array_get_idx(t->body,
					 json_object_array_length(t->body) - 1);
	assert_string_equal(str(last, "action"), "auth.deny");
	assert_string_equal(str(last, "result"), "denied: missing host:remove");
	assert_string_equal(str(last, "target"), id);
	assert_string_equal(str(last, "workspace"), t->f->ws);
}

/* Every route, asked without a key: 401 before anything is looked up. */
static void every_route_needs_a_key(void **state)
{
	static const char *const routes[][2] = {
		{ "GET", "/v1/whoami" },
		{ "GET", "/v1/workspaces" },
		{ "POST", "/v1/workspaces" },
		{ "GET", "/v1/workspaces/default/tokens" },
		{ "POST", "/v1/workspaces/default/tokens" },
		{ "DELETE", "/v1/workspaces/default/tokens/taaaaaaaaaa" },
		{ "GET", "/v1/workspaces/default/hosts" },
		{ "GET", "/v1/workspaces/default/hosts/haaaaaaaaaa" },
		{ "DELETE", "/v1/workspaces/default/hosts/haaaaaaaaaa" },
		{ "GET", "/v1/workspaces/default/roles" },
		{ "PUT", "/v1/workspaces/default/roles/x" },
		{ "DELETE", "/v1/workspaces/default/roles/x" },
		{ "GET", "/v1/keys" },
		{ "POST", "/v1/keys" },
		{ "DELETE", "/v1/keys/kaaaaaaaaaa" },
		{ "GET", "/v1/audit" },
		/* no such path: still 401, the API's shape is not for strangers */
		{ "GET", "/v1/nothing" },
	};
	struct t *t = *state;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		assert_int_equal(
			call(t, NULL, routes[i][0], routes[i][1], "{}"), 401);
		assert_int_equal(call(t, "moat-key-kaaaaaaaaaa-bad",
				      routes[i][0], routes[i][1], "{}"),
				 401);
	}
}

static void method_not_allowed(void **state)
{
	struct t *t = *state;

	assert_int_equal(call(t, t->f->admin_secret, "PATCH",
			      "/v1/workspaces/default/tokens", NULL),
			 405);
	assert_string_equal(t->allow, "GET, POST");
	assert_int_equal(call(t, t->f->admin_secret, "GET",
			      "/v1/workspaces/default/hosts/a/b", NULL),
			 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(host_health, setup, teardown),
		cmocka_unit_test_setup_teardown(host_declared_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(host_remove_denied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(every_route_needs_a_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(method_not_allowed, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
