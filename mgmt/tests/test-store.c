// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane's store on a real SQLite file: bootstrap, tokens and
 * enrollment (every refusal creates nothing), host certificates through
 * re-enrollment, renewal and removal, and heartbeats.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store-int.h"
#include "test-store-fixture.h"

/* The certificate "signer": hands out serials s1, s2, ... */
struct signer {
	int calls;
	int fail; /* returned instead of signing when non-zero */
	char last_host[STORE_ID_LEN];
};

static int sign(void *arg, const char *ws, const char *host,
		char serial[STORE_SERIAL_LEN], int64_t *not_after)
{
	struct signer *g = arg;

	if (g->fail)
		return g->fail;
	g->calls++;
	snprintf(serial, STORE_SERIAL_LEN, "s%d", g->calls);
	snprintf(g->last_host, sizeof(g->last_host), "%s", host);
	*not_after = 2000000000;
	return 0;
}

static void token(struct fixture *f, int64_t ttl, int64_t max_uses,
		  char id[STORE_ID_LEN], char hash[STORE_HASH_LEN])
{
	char secret[STORE_SECRET_LEN];
	struct store_token t;

	assert_int_equal(store_token_create(f->st, &test_who, f->ws,
					    store_now(f->st) + ttl, max_uses,
					    "{\"role\":\"web\"}", "test", &t,
					    secret),
			 0);
	assert_int_equal(strncmp(secret, "moat-tok-", 9), 0);
	/* 9 + base64url of 32 bytes (43 characters) */
	assert_int_equal(strlen(secret), 52);
	assert_int_equal(t.state, STORE_TOKEN_VALID);
	assert_string_equal(t.labels, "{\"role\":\"web\"}");
	memcpy(id, t.id, STORE_ID_LEN);
	store_token_clear(&t);
	assert_int_equal(store_sha256_hex(secret, strlen(secret), hash), 0);
}

static int enroll(struct fixture *f, const char *hash, const char *machine,
		  struct signer *g, struct store_host *h)
{
	struct store_enroll_req req = {
		.token_hash = hash,
		.hostname = "web-1",
		.machine_id = machine,
		.agent_version = "0.1.0",
		.address = "10.0.0.1:5555",
	};

	return store_enroll(f->st, &test_who, &req, sign, g, h);
}

static int count_host(void *arg, const struct store_host *h)
{
	(*(int *)arg)++;
	return 0;
}

static int count_role(void *arg, const struct store_role *r)
{
	(*(int *)arg)++;
	return 0;
}

static int hosts(struct fixture *f)
{
	int n = 0;

	assert_int_equal(store_host_list(f->st, f->ws, count_host, &n), 0);
	return n;
}

struct last_audit {
	char action[32];
	char result[64];
	char actor[64];
	int64_t seq;
};

static int keep_last(void *arg, const struct audit_record *r)
{
	struct last_audit *l = arg;

	snprintf(l->action, sizeof(l->action), "%s", r->action);
	snprintf(l->result, sizeof(l->result), "%s", r->result);
	snprintf(l->actor, sizeof(l->actor), "%s", r->actor);
	l->seq = r->seq;
	return 0;
}

static void last_audit(struct fixture *f, struct last_audit *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(store_audit_list(f->st, 0, 0, NULL, keep_last, l), 0);
}

static void test_bootstrap_once(void **state)
{
	struct fixture *f = *state;
	char id[STORE_ID_LEN], secret[STORE_SECRET_LEN] = "";
	char sql[64];
	struct store_bootstrap boot = { .org = "other",
					.ws_id = "wbbbbbbbbbb",
					.ws_name = "second" };
	struct store_workspace w;
	struct store_server srv;
	struct store_key k;
	struct store_role r;
	bool done;

	assert_int_equal(store_bootstrapped(f->st, &done), 0);
	assert_true(done);
	assert_int_equal(store_bootstrap(f->st, &boot, id, secret), -EALREADY);
	assert_string_equal(secret, "");
	/* nothing of the second call exists */
	assert_int_equal(store_workspace_get(f->st, "second", &w), -ENOENT);

	assert_int_equal(store_server_get(f->st, &srv), 0);
	assert_string_equal(srv.org, "acme");
	assert_int_equal(srv.cert.len, sizeof("not really DER"));
	store_server_clear(&srv);

	assert_int_equal(store_workspace_get(f->st, "default", &w), 0);
	assert_string_equal(w.id, f->ws);
	assert_memory_equal(w.ca_key.data, "not really DER", 15);
	store_workspace_clear(&w);
	assert_int_equal(store_role_get(f->st, f->ws, "operator", &r), 0);
	assert_true(r.builtin);
	assert_string_equal(r.permissions,
			    "token:create token:read token:revoke host:read "
			    "host:remove ruleset:write role:read audit:read "
			    "workspace:read");

	/* the admin key: shown once, works, bound to admin on "*" */
	assert_int_equal(strncmp(f->admin_secret, "moat-key-", 9), 0);
	assert_int_equal(store_key_auth(f->st, f->admin_secret, &k), 0);
	assert_string_equal(k.id, f->admin_key);
	assert_string_equal(k.user, "admin");
	assert_int_equal(k.n_bindings, 1);
	assert_string_equal(k.bindings[0].workspace, "*");
	assert_string_equal(k.bindings[0].role, "admin");

	fixture_reopen(f);
	assert_int_equal(store_bootstrap(f->st, &boot, id, secret), -EALREADY);

	/* a schema newer than this program: refused, not touched */
	store_close(f->st);
	f->st = NULL;
	fixture_raw_sql(f, "PRAGMA user_version = 99");
	assert_int_equal(store_open(f->path, &f->st), -EPROTO);
	assert_null(f->st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 store_schema_version());
	fixture_raw_sql(f, sql);
	fixture_reopen(f);
}

static void test_workspaces(void **state)
{
	struct fixture *f = *state;
	unsigned char der[] = { 0x30, 0x00 };
	struct store_blob b = { der, sizeof(der) };
	struct store_workspace w;
	char id[STORE_ID_LEN];
	int n = 0;

	assert_int_equal(store_new_id('w', id), 0);
	assert_int_equal(
		store_workspace_create(f->st, &test_who, id, "prod", &b, &b),
		0);
	assert_int_equal(store_workspace_create(f->st, &test_who, "wcccccccccc",
						"prod", &b, &b),
			 -EEXIST);
	assert_int_equal(store_workspace_create(f->st, &test_who, "wdddddddddd",
						"Prod", &b, &b),
			 -EINVAL);
	assert_int_equal(store_workspace_create(f->st, &test_who, "wdddddddddd",
						"-prod", &b, &b),
			 -EINVAL);
	assert_int_equal(store_workspace_get(f->st, id, &w), 0);
	assert_string_equal(w.name, "prod");
	assert_int_equal(w.ca.len, 2);
	store_workspace_clear(&w);
	assert_int_equal(store_workspace_get(f->st, "prod", &w), 0);
	assert_string_equal(w.id, id);
	store_workspace_clear(&w);
	/* the new workspace has the built-in roles too */
	assert_int_equal(store_role_list(f->st, id, count_role, &n), 0);
	assert_int_equal(n, 3);
}

static void test_token_states(void **state)
{
	struct fixture *f = *state;
	char id[STORE_ID_LEN], hash[STORE_HASH_LEN], rid[STORE_ID_LEN],
		rhash[STORE_HASH_LEN], eid[STORE_ID_LEN], ehash[STORE_HASH_LEN];
	struct signer g = { 0 };
	struct last_audit l;
	struct store_token t;
	struct store_host h;
	int64_t now = store_now(f->st);

	token(f, 60, 1, eid, ehash);
	token(f, 3600, 5, rid, rhash);
	token(f, 3600, 1, id, hash);

	/* unknown: the hash of nothing issued */
	assert_int_equal(enroll(f, "00", "m1", &g, &h), -ENOKEY);
	assert_string_equal(store_enroll_error_code(-ENOKEY), "token_unknown");
	last_audit(f, &l);
	assert_string_equal(l.action, "enroll.refuse");
	assert_string_equal(l.result, "refused: token_unknown");

	/* revoked: the state says so, and enrollment is refused */
	assert_int_equal(store_token_revoke(f->st, &test_who, f->ws, rid, &t),
			 0);
	assert_int_equal(t.state, STORE_TOKEN_REVOKED);
	assert_true(t.revoked > 0);
	store_token_clear(&t);
	assert_int_equal(store_token_revoke(f->st, &test_who, f->ws, rid, NULL),
			 -EALREADY);
	assert_int_equal(enroll(f, rhash, "m1", &g, &h), -EKEYREVOKED);
	last_audit(f, &l);
	assert_string_equal(l.result, "refused: token_revoked");
	/* the refusal names the token */
	assert_int_equal(strncmp(l.actor, "token:", 6), 0);
	assert_string_equal(l.actor + 6, rid);

	/* expired: 61 s later */
	store_set_time(f->st, now + 61);
	assert_int_equal(store_token_get(f->st, f->ws, eid, &t), 0);
	assert_int_equal(t.state, STORE_TOKEN_EXPIRED);
	store_token_clear(&t);
	assert_int_equal(enroll(f, ehash, "m1", &g, &h), -EKEYEXPIRED);
	store_set_time(f->st, 0);

	/* exhausted: one use, then none left */
	assert_int_equal(enroll(f, hash, "m1", &g, &h), 0);
	store_host_clear(&h);
	assert_int_equal(enroll(f, hash, "m2", &g, &h), -EDQUOT);
	last_audit(f, &l);
	assert_string_equal(l.result, "refused: token_exhausted");
	assert_int_equal(store_token_get(f->st, f->ws, id, &t), 0);
	assert_int_equal(t.state, STORE_TOKEN_EXHAUSTED);
	assert_int_equal(t.uses, 1);
	store_token_clear(&t);

	/* the refusals created nothing and signed nothing: one host, one
	 * signature; the revoked token kept its uses at 0 */
	assert_int_equal(hosts(f), 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(store_token_get(f->st, f->ws, rid, &t), 0);
	assert_int_equal(t.uses, 0);
	store_token_clear(&t);
	assert_int_equal(
		store_token_revoke(f->st, &test_who, f->ws, "tnone", NULL),
		-ENOENT);
}

static void test_usage_limit(void **state)
{
	struct fixture *f = *state;
	char id[STORE_ID_LEN], hash[STORE_HASH_LEN], m[16];
	struct signer g = { 0 };
	struct store_token t;
	struct store_host h;
	int ok = 0, exhausted = 0, ret;

	token(f, 3600, 3, id, hash);
	for (int i = 0; i < 6; i++) {
		snprintf(m, sizeof(m), "machine-%d", i);
		ret = enroll(f, hash, m, &g, &h);
		if (!ret)
			ok++;
		else if (ret == -EDQUOT)
			exhausted++;
		store_host_clear(&h);
	}
	assert_int_equal(ok, 3);
	assert_int_equal(exhausted, 3);
	assert_int_equal(hosts(f), 3);
	assert_int_equal(store_token_get(f->st, f->ws, id, &t), 0);
	assert_int_equal(t.uses, 3);
	store_token_clear(&t);

	/* a signer that fails: no host, no use counted */
	token(f, 3600, 1, id, hash);
	g.fail = -EIO;
	assert_int_equal(enroll(f, hash, "machine-x", &g, &h), -EIO);
	assert_int_equal(hosts(f), 3);
	assert_int_equal(store_token_get(f->st, f->ws, id, &t), 0);
	assert_int_equal(t.uses, 0);
	assert_int_equal(t.state, STORE_TOKEN_VALID);
	store_token_clear(&t);
}

static void test_reenroll_remove(void **state)
{
	struct fixture *f = *state;
	char id[STORE_ID_LEN], hash[STORE_HASH_LEN], host[STORE_ID_LEN];
	struct signer g = { 0 };
	struct last_audit l;
	struct store_host h;

	token(f, 3600, 10, id, hash);
	assert_int_equal(enroll(f, hash, "m-re", &g, &h), 0);
	memcpy(host, h.id, sizeof(host));
	assert_int_equal(host[0], 'h');
	assert_string_equal(h.serial, "s1");
	assert_string_equal(h.labels, "{\"role\":\"web\"}");
	assert_string_equal(h.token_id, id);
	assert_int_equal(h.last_seen, 0);
	store_host_clear(&h);
	last_audit(f, &l);
	assert_string_equal(l.action, "host.enroll");

	/* same machine: same record, only the new certificate counts */
	assert_int_equal(enroll(f, hash, "m-re", &g, &h), 0);
	assert_string_equal(h.id, host);
	assert_string_equal(h.serial, "s2");
	assert_string_equal(h.prev_serial, "");
	store_host_clear(&h);
	assert_int_equal(hosts(f), 1);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s2"), 0);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s1"), -EPERM);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, ""), -EPERM);
	/* another workspace's view of it: unknown */
	assert_int_equal(store_host_cert_ok(f->st, "wzzzzzzzzzz", host, "s2"),
			 -ENOENT);

	/* removed: certificates refused, removing again says so */
	assert_int_equal(store_host_remove(f->st, &test_who, f->ws, host, &h),
			 0);
	assert_true(h.removed > 0);
	store_host_clear(&h);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s2"),
			 -EKEYREVOKED);
	assert_int_equal(store_host_remove(f->st, &test_who, f->ws, host, NULL),
			 -EALREADY);
	assert_int_equal(
		store_host_remove(f->st, &test_who, f->ws, "hnone", NULL),
		-ENOENT);
	assert_int_equal(store_host_renew(f->st, &test_who, f->ws, host, "s9",
					  2000000000),
			 -ENOENT);

	/* a new enrollment brings it back, as the same host */
	assert_int_equal(enroll(f, hash, "m-re", &g, &h), 0);
	assert_string_equal(h.id, host);
	assert_int_equal(h.removed, 0);
	store_host_clear(&h);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s3"), 0);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s2"), -EPERM);
}

static void test_renew(void **state)
{
	struct fixture *f = *state;
	char id[STORE_ID_LEN], hash[STORE_HASH_LEN], host[STORE_ID_LEN];
	struct signer g = { 0 };
	struct store_host h;

	token(f, 3600, 1, id, hash);
	assert_int_equal(enroll(f, hash, "m-renew", &g, &h), 0);
	memcpy(host, h.id, sizeof(host));
	store_host_clear(&h);
	assert_int_equal(store_host_renew(f->st, &test_who, f->ws, host, "r2",
					  2100000000),
			 0);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s1"), 0);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "r2"), 0);
	assert_int_equal(store_host_renew(f->st, &test_who, f->ws, host, "r3",
					  2200000000),
			 0);
	/* only current and previous: s1 is two renewals old */
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "s1"), -EPERM);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "r2"), 0);
	assert_int_equal(store_host_cert_ok(f->st, f->ws, host, "r3"), 0);
	assert_int_equal(store_host_get(f->st, f->ws, host, &h), 0);
	assert_int_equal(h.cert_not_after, 2200000000);
	store_host_clear(&h);
	/* the ids may come from the record being read into */
	assert_int_equal(store_host_get(f->st, h.workspace_id, h.id, &h), 0);
	assert_string_equal(h.id, host);
	store_host_clear(&h);
}

static void test_heartbeat(void **state)
{
	struct fixture *f = *state;
	char id[STORE_ID_LEN], hash[STORE_HASH_LEN], host[STORE_ID_LEN];
	struct store_heartbeat hb = {
		.agent_version = "0.1.1",
		.kernel = "6.8.0",
		.address = "10.0.0.2:4444",
		.dataplane = "{\"state\":\"enforcing\"}",
	};
	struct timespec a, b;
	struct signer g = { 0 };
	struct store_host h;
	double secs;

	token(f, 3600, 1, id, hash);
	assert_int_equal(enroll(f, hash, "m-hb", &g, &h), 0);
	memcpy(host, h.id, sizeof(host));
	store_host_clear(&h);

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000; i++) {
		hb.time = 1800000000 + i;
		hb.uptime = i;
		assert_int_equal(store_host_heartbeat(f->st, host, &hb), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("1000 heartbeats in %.3f s\n", secs);
	/* the bound is 1 s; sanitizers slow this several-fold */
	assert_true(secs < 3.0);

	assert_int_equal(store_host_get(f->st, f->ws, host, &h), 0);
	assert_int_equal(h.first_seen, 1800000000);
	assert_int_equal(h.last_seen, 1800000999);
	assert_int_equal(h.uptime, 999);
	assert_string_equal(h.kernel, "6.8.0");
	assert_string_equal(h.dataplane, "{\"state\":\"enforcing\"}");
	store_host_clear(&h);
	assert_int_equal(store_host_heartbeat(f->st, "hnone", &hb), -ENOENT);
	assert_int_equal(store_host_remove(f->st, &test_who, f->ws, host, NULL),
			 0);
	assert_int_equal(store_host_heartbeat(f->st, host, &hb), -ENOENT);
}

int main(void)
{
#define T(fn) \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_bootstrap_once),	 T(test_workspaces),
		T(test_token_states),	 T(test_usage_limit),
		T(test_reenroll_remove), T(test_renew),
		T(test_heartbeat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
