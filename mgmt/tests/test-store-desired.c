// SPDX-License-Identifier: GPL-2.0-only
/*
 * Declared configuration in the store: ruleset versions, assignments,
 * labels, and the desired state and generation each host gets from them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "store-int.h"
#include "test-store-fixture.h"

static int sign(void *arg, const char *ws, const char *host,
		char serial[STORE_SERIAL_LEN], int64_t *not_after)
{
	(void)arg;
	(void)ws;
	snprintf(serial, STORE_SERIAL_LEN, "s-%s", host);
	*not_after = 2000000000;
	return 0;
}

/* A host enrolled with a token carrying @labels. */
static void host_new(struct fixture *f, const char *labels,
		     char id[STORE_ID_LEN])
{
	static int machines;
	char secret[STORE_SECRET_LEN], hash[STORE_HASH_LEN], machine[32];
	struct store_token t;
	struct store_host h;
	struct store_enroll_req req = { .token_hash = hash,
					.hostname = "h",
					.machine_id = machine };

	assert_int_equal(store_token_create(f->st, &test_who, f->ws,
					    store_now(f->st) + 3600, 1, labels,
					    "", &t, secret),
			 0);
	store_token_clear(&t);
	assert_int_equal(store_sha256_hex(secret, strlen(secret), hash), 0);
	snprintf(machine, sizeof(machine), "m%d", machines++);
	assert_int_equal(store_enroll(f->st, &test_who, &req, sign, NULL, &h),
			 0);
	memcpy(id, h.id, STORE_ID_LEN);
	store_host_clear(&h);
}

/* What the changed callback saw. */
struct moved {
	int n;
	char last[STORE_ID_LEN];
	uint64_t gen;
};

static void on_changed(void *arg, const char *host_id, uint64_t gen)
{
	struct moved *m = arg;

	if (!m)
		return;
	m->n++;
	snprintf(m->last, sizeof(m->last), "%s", host_id);
	m->gen = gen;
}

static void desired(struct fixture *f, const char *host,
		    struct store_desired *d)
{
	assert_int_equal(store_host_desired(f->st, host, d), 0);
}

/* Asserts a host's generation and ruleset ("" for none). */
static void expect(struct fixture *f, const char *host, uint64_t gen,
		   const char *name, int64_t version)
{
	struct store_desired d;

	desired(f, host, &d);
	assert_int_equal(d.generation, gen);
	assert_int_equal(d.has_ruleset, name[0] != '\0');
	assert_string_equal(d.name, name);
	assert_int_equal(d.version, version);
	store_desired_clear(&d);
}

static void add(struct fixture *f, const char *name, const char *text,
		int64_t version, struct moved *m)
{
	struct store_ruleset_version v;

	assert_int_equal(store_ruleset_add(f->st, &test_who, f->ws, name, text,
					   1, &v, on_changed, m),
			 0);
	assert_int_equal(v.version, version);
	store_ruleset_version_clear(&v);
}

static void put(struct fixture *f, struct store_assignment *a,
		const char *ruleset, int64_t version, const char *selector,
		int64_t priority, struct moved *m)
{
	struct store_assignment out;

	snprintf(a->ruleset, sizeof(a->ruleset), "%s", ruleset);
	a->version = version;
	snprintf(a->selector, sizeof(a->selector), "%s", selector);
	a->priority = priority;
	if (!a->mode[0])
		snprintf(a->mode, sizeof(a->mode), "enforce");
	if (!a->percent)
		a->percent = 100;
	assert_int_equal(store_assignment_put(f->st, &test_who, f->ws, a, &out,
					      on_changed, m),
			 0);
	memcpy(a->id, out.id, STORE_ID_LEN);
	store_assignment_clear(&out);
}

/* Vectors computed apart: python3 hashlib.sha256(b"A/H").digest()[:4],
 * big-endian, mod 100. */
static void test_rollout_vectors(void **state)
{
	static const struct {
		const char *a, *h;
		int64_t bucket;
	} v[] = {
		{ "aabcdefghij", "h0000000000", 23 },
		{ "aabcdefghij", "h2222222222", 77 },
		{ "azzzzzzzzzz", "hqqqqqqqqqq", 21 },
		{ "a2345672345", "habcabcabca", 71 },
		{ "aabcdefghij", "hmoatmoat22", 43 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* in exactly when the bucket is below the percentage */
		assert_false(store_rollout_in(v[i].a, v[i].h, v[i].bucket));
		assert_true(store_rollout_in(v[i].a, v[i].h, v[i].bucket + 1));
		assert_true(store_rollout_in(v[i].a, v[i].h, 100));
		assert_false(store_rollout_in(v[i].a, v[i].h, 0));
	}
	assert_true(store_selector_valid(""));
	assert_true(store_selector_valid("role=web"));
	assert_true(store_selector_valid("role=web,env="));
	assert_false(store_selector_valid("role"));
	assert_false(store_selector_valid("=web"));
	assert_false(store_selector_valid("role=web,"));
	assert_false(store_selector_valid("a=b=c"));
	assert_false(store_selector_valid("a=b,,c=d"));
}

static int count_version(void *arg, const struct store_ruleset_version *v)
{
	int *n = arg;

	assert_null(v->text);
	/* oldest first */
	assert_int_equal(v->version, *n + 1);
	(*n)++;
	return 0;
}

static void test_versions(void **state)
{
	struct fixture *f = *state;
	struct store_ruleset_version v;
	char sha[STORE_HASH_LEN];
	int n = 0;

	add(f, "web", "policy drop\n", 1, NULL);
	add(f, "web", "policy allow\n", 2, NULL);
	add(f, "db", "policy drop\n", 1, NULL);
	/* the same text again is no new version */
	assert_int_equal(store_ruleset_add(f->st, &test_who, f->ws, "web",
					   "policy allow\n", 1, &v, NULL, NULL),
			 -EALREADY);
	assert_int_equal(v.version, 2);
	store_ruleset_version_clear(&v);
	assert_int_equal(store_ruleset_add(f->st, &test_who, f->ws, "Web", "x",
					   1, &v, NULL, NULL),
			 -EINVAL);

	assert_int_equal(store_ruleset_get(f->st, f->ws, "web", 1, &v), 0);
	assert_string_equal(v.text, "policy drop\n");
	assert_int_equal(store_sha256_hex("policy drop\n", 12, sha), 0);
	assert_string_equal(v.sha256, sha);
	assert_string_equal(v.author, test_who.actor);
	store_ruleset_version_clear(&v);
	assert_int_equal(store_ruleset_get(f->st, f->ws, "web", 0, &v), 0);
	assert_int_equal(v.version, 2);
	assert_string_equal(v.text, "policy allow\n");
	store_ruleset_version_clear(&v);
	assert_int_equal(store_ruleset_get(f->st, f->ws, "web", 3, &v),
			 -ENOENT);
	assert_int_equal(
		store_ruleset_versions(f->st, f->ws, "web", count_version, &n),
		0);
	assert_int_equal(n, 2);
	assert_int_equal(
		store_ruleset_versions(f->st, f->ws, "nope", count_version, &n),
		-ENOENT);

	/* immutable even to whoever edits the file */
	assert_int_not_equal(
		sqlite3_exec(f->st->db,
			     "UPDATE ruleset_versions SET text = 'x'", NULL,
			     NULL, NULL),
		SQLITE_OK);
}

static void test_priority_selector(void **state)
{
	static const struct {
		const char *field, *value;
		int err;
	} bad[] = {
		{ "ruleset", "nope", -ENOENT },	  { "version", "9", -ENOENT },
		{ "selector", "role", -EINVAL },  { "mode", "drop", -EINVAL },
		{ "hosts", "[1]", -EINVAL },	  { "hosts", "{}", -EINVAL },
		{ "id", "anotthereee", -ENOENT },
	};
	struct fixture *f = *state;
	struct store_assignment base = { 0 }, web = { 0 };
	char a[STORE_ID_LEN], b[STORE_ID_LEN], c[STORE_ID_LEN];
	struct moved m = { 0 };

	host_new(f, "{\"role\":\"web\",\"env\":\"prod\"}", a);
	host_new(f, "{\"role\":\"web\",\"env\":\"dev\"}", b);
	host_new(f, "{\"role\":\"db\"}", c);
	expect(f, a, 0, "", 0);

	add(f, "base", "policy allow\n", 1, &m);
	add(f, "web", "policy drop\n", 1, &m);
	assert_int_equal(m.n, 0); /* nothing assigned yet */

	put(f, &base, "base", 0, "", 100, &m);
	assert_int_equal(m.n, 3);
	put(f, &web, "web", 0, "env=prod,role=web", 10, &m);
	assert_int_equal(m.n, 4); /* a only */
	assert_string_equal(m.last, a);
	expect(f, a, 2, "web", 1);
	expect(f, b, 1, "base", 1);
	expect(f, c, 1, "base", 1);

	/* a new version moves the hosts on "latest" of it, only them */
	m.n = 0;
	add(f, "web", "policy drop\nallow tcp dport 22\n", 2, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.gen, 3);
	expect(f, a, 3, "web", 2);
	expect(f, b, 1, "base", 1);

	/* the same assignment again moves nothing; a pinned version does */
	m.n = 0;
	put(f, &web, "web", 0, "env=prod,role=web", 10, &m);
	assert_int_equal(m.n, 0);
	put(f, &web, "web", 1, "env=prod,role=web", 10, &m);
	assert_int_equal(m.n, 1);
	expect(f, a, 4, "web", 1);
	/* audit mode is another state */
	snprintf(web.mode, sizeof(web.mode), "audit");
	put(f, &web, "web", 1, "env=prod,role=web", 10, &m);
	assert_int_equal(m.n, 2);
	expect(f, a, 5, "web", 1);

	/* priority: base now before web for everyone */
	put(f, &base, "base", 0, "", 1, &m);
	expect(f, a, 6, "base", 1);
	put(f, &base, "base", 0, "", 100, &m);
	expect(f, a, 7, "web", 1);

	/* refusals change nothing */
	m.n = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct store_assignment tmp = web;

		if (!strcmp(bad[i].field, "ruleset"))
			snprintf(tmp.ruleset, sizeof(tmp.ruleset), "%s",
				 bad[i].value);
		else if (!strcmp(bad[i].field, "version"))
			tmp.version = atoi(bad[i].value);
		else if (!strcmp(bad[i].field, "selector"))
			snprintf(tmp.selector, sizeof(tmp.selector), "%s",
				 bad[i].value);
		else if (!strcmp(bad[i].field, "mode"))
			snprintf(tmp.mode, sizeof(tmp.mode), "%s",
				 bad[i].value);
		else if (!strcmp(bad[i].field, "hosts"))
			tmp.hosts = (char *)bad[i].value;
		else
			snprintf(tmp.id, sizeof(tmp.id), "%s", bad[i].value);
		assert_int_equal(store_assignment_put(f->st, &test_who, f->ws,
						      &tmp, NULL, on_changed,
						      &m),
				 bad[i].err);
	}
	assert_int_equal(m.n, 0);

	/* deleting falls through to the next; none at all is a state too */
	assert_int_equal(store_assignment_delete(f->st, &test_who, f->ws,
						 web.id, on_changed, &m),
			 0);
	assert_int_equal(m.n, 1);
	expect(f, a, 8, "base", 1);
	assert_int_equal(store_assignment_delete(f->st, &test_who, f->ws,
						 base.id, on_changed, &m),
			 0);
	assert_int_equal(m.n, 4);
	expect(f, a, 9, "", 0);
	expect(f, c, 2, "", 0);
	assert_int_equal(store_assignment_delete(f->st, &test_who, f->ws,
						 base.id, on_changed, &m),
			 -ENOENT);
}

static int count_in(void *arg, const struct store_host *h)
{
	int *n = arg;

	*n += h->desired_ruleset[0] != '\0';
	return 0;
}

static void test_rollout(void **state)
{
	struct fixture *f = *state;
	struct store_assignment r = { 0 };
	char ids[40][STORE_ID_LEN], hosts[64];
	struct moved m = { 0 };
	int expected = 0, n = 0, out = -1;

	for (int i = 0; i < 40; i++)
		host_new(f, "{\"role\":\"web\"}", ids[i]);
	add(f, "web", "policy drop\n", 1, &m);
	r.percent = 50;
	put(f, &r, "web", 0, "role=web", 1, &m);
	for (int i = 0; i < 40; i++) {
		bool in = store_rollout_in(r.id, ids[i], 50);

		expected += in;
		if (!in)
			out = i;
		expect(f, ids[i], in ? 1 : 0, in ? "web" : "", in ? 1 : 0);
	}
	assert_int_equal(m.n, expected);
	assert_int_equal(store_host_list(f->st, f->ws, count_in, &n), 0);
	assert_int_equal(n, expected);
	/* 40 hosts at 50%: 20 expected; far from it means a broken hash */
	assert_in_range(expected, 8, 32);
	assert_int_not_equal(out, -1);

	/* a listed host is in whatever its bucket; percent 0: the list only */
	snprintf(hosts, sizeof(hosts), "[\"%s\"]", ids[out]);
	r.hosts = hosts;
	put(f, &r, "web", 0, "role=web", 1, &m);
	expect(f, ids[out], 1, "web", 1);
	r.percent = 0;
	assert_int_equal(store_assignment_put(f->st, &test_who, f->ws, &r, NULL,
					      on_changed, &m),
			 0);
	n = 0;
	assert_int_equal(store_host_list(f->st, f->ws, count_in, &n), 0);
	assert_int_equal(n, 1);
	r.percent = 101;
	assert_int_equal(store_assignment_put(f->st, &test_who, f->ws, &r, NULL,
					      on_changed, &m),
			 -EINVAL);
}

struct action_count {
	const char *action;
	int n;
};

static int count_action(void *arg, const struct audit_record *r)
{
	struct action_count *c = arg;

	c->n += !strcmp(r->action, c->action);
	return 0;
}

static int audit_count(struct fixture *f, const char *action)
{
	struct action_count c = { action, 0 };

	assert_int_equal(store_audit_list(f->st, 0, 0, NULL, count_action, &c),
			 0);
	return c.n;
}

static void test_labels_removed(void **state)
{
	struct fixture *f = *state;
	char a[STORE_ID_LEN], b[STORE_ID_LEN], c[STORE_ID_LEN], why[128];
	struct store_assignment r = { 0 };
	struct moved m = { 0 };
	struct store_host h;
	int64_t records;

	host_new(f, "{}", a);
	host_new(f, "{}", b);
	host_new(f, "{}", c);
	add(f, "web", "policy drop\n", 1, &m);
	put(f, &r, "web", 0, "role=web", 1, &m);
	assert_int_equal(m.n, 0);

	assert_int_equal(store_host_set_labels(f->st, &test_who, f->ws, a,
					       "{\"role\":\"web\"}", on_changed,
					       &m),
			 0);
	assert_int_equal(m.n, 1);
	expect(f, a, 1, "web", 1);
	/* the same labels: no new generation, still a record */
	assert_int_equal(store_host_set_labels(f->st, &test_who, f->ws, a,
					       "{\"role\":\"web\",\"x\":\"y\"}",
					       on_changed, &m),
			 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(audit_count(f, "host.labels"), 2);
	assert_int_equal(store_host_set_labels(f->st, &test_who, f->ws, a, "[]",
					       on_changed, &m),
			 -EINVAL);
	assert_int_equal(store_host_set_labels(f->st, &test_who, f->ws, a, "{",
					       on_changed, &m),
			 -EINVAL);
	assert_int_equal(audit_count(f, "host.labels"), 2);

	/* a removed host is left as it was */
	assert_int_equal(store_host_remove(f->st, &test_who, f->ws, b, NULL),
			 0);
	assert_int_equal(store_host_set_labels(f->st, &test_who, f->ws, b,
					       "{\"role\":\"web\"}", on_changed,
					       &m),
			 -ENOENT);
	put(f, &r, "web", 0, "", 1, &m);
	assert_int_equal(m.n, 2); /* c, not b */
	expect(f, c, 1, "web", 1);
	assert_int_equal(store_host_get(f->st, f->ws, b, &h), 0);
	assert_int_equal(h.desired_gen, 0);
	store_host_clear(&h);
	assert_int_equal(audit_count(f, "assignment.put"), 2);
	assert_int_equal(audit_count(f, "ruleset.version"), 1);
	assert_int_equal(store_audit_verify(f->st, &records, why, sizeof(why)),
			 0);
}

static int count_counters(void *arg, const struct store_counters *c)
{
	int *n = arg;

	assert_string_equal(c->rules, "[{\"name\":\"ssh\",\"packets\":3,"
				      "\"bytes\":180}]");
	(*n)++;
	return 0;
}

static void test_applied(void **state)
{
	struct fixture *f = *state;
	struct store_assignment r = { 0 };
	struct store_desired d;
	struct store_host h;
	char a[STORE_ID_LEN];
	int n = 0;

	host_new(f, "{}", a);
	assert_int_equal(store_host_get(f->st, f->ws, a, &h), 0);
	assert_string_equal(store_host_status(&h), "unmanaged");
	store_host_clear(&h);
	add(f, "web", "policy drop\n", 1, NULL);
	put(f, &r, "web", 0, "", 1, NULL);
	desired(f, a, &d);
	assert_string_equal(d.text, "policy drop\n");
	assert_string_equal(d.mode, "enforce");
	assert_int_equal(store_host_get(f->st, f->ws, a, &h), 0);
	assert_string_equal(store_host_status(&h), "pending");
	store_host_clear(&h);

	assert_int_equal(
		store_host_applied(f->st, a, 1, true, NULL, d.sha256, false),
		0);
	assert_int_equal(store_host_get(f->st, f->ws, a, &h), 0);
	assert_string_equal(store_host_status(&h), "converged");
	assert_string_equal(h.applied_hash, d.sha256);
	store_host_clear(&h);

	/* generation 2 fails: 1 stays applied, the error is shown */
	add(f, "web", "policy allow\n", 2, NULL);
	assert_int_equal(store_host_applied(f->st, a, 2, false, "over capacity",
					    d.sha256, false),
			 0);
	assert_int_equal(store_host_get(f->st, f->ws, a, &h), 0);
	assert_string_equal(store_host_status(&h), "failing");
	assert_string_equal(h.apply_error, "over capacity");
	assert_int_equal(h.applied_gen, 1);
	store_host_clear(&h);
	assert_int_equal(store_host_applied(f->st, a, 2, true, NULL, "x", true),
			 0);
	assert_int_equal(store_host_get(f->st, f->ws, a, &h), 0);
	assert_string_equal(store_host_status(&h), "drift");
	assert_string_equal(h.apply_error, "");
	store_host_clear(&h);
	store_desired_clear(&d);
	assert_int_equal(store_host_applied(f->st, "hnothereeee", 2, true, NULL,
					    "x", false),
			 -ENOENT);

	/* counters are found by the hash of a version of the ruleset */
	desired(f, a, &d);
	assert_int_equal(
		store_host_counters_set(f->st, a, 2, d.sha256,
					"[{\"name\":\"ssh\",\"packets\":3,"
					"\"bytes\":180}]"),
		0);
	assert_int_equal(
		store_ruleset_counters(f->st, f->ws, "web", count_counters, &n),
		0);
	assert_int_equal(n, 1);
	assert_int_equal(
		store_ruleset_counters(f->st, f->ws, "db", count_counters, &n),
		0);
	assert_int_equal(n, 1);
	assert_int_equal(store_host_counters_set(f->st, a, 2, d.sha256, "{"),
			 -EINVAL);
	store_desired_clear(&d);
}

/* A store written by the schema before this issue's: upgraded in place. */
static void test_migration(void **state)
{
	struct fixture *f = *state;
	char path[128], sql[512];
	struct store_assignment r = { 0 };
	struct store_host h;
	struct moved m = { 0 };

	(void)f;
	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	store_close(f->st);
	assert_int_equal(store_open_version(path, 1, &f->st), 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO workspaces VALUES ('%s', 'default', 1, x'00',"
		 " x'00');"
		 "INSERT INTO hosts (id, workspace_id, hostname, machine_id,"
		 " token_id, labels, serial, cert_not_after, enrolled)"
		 " VALUES ('hold1234567', '%s', 'old', 'm', 't',"
		 " '{\"role\":\"web\"}', 's', 2000000000, 1);"
		 "PRAGMA user_version",
		 f->ws, f->ws);
	assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL),
			 SQLITE_OK);
	store_close(f->st);

	assert_int_equal(store_open(path, &f->st), 0);
	assert_int_equal(store_host_get(f->st, f->ws, "hold1234567", &h), 0);
	assert_int_equal(h.desired_gen, 0);
	assert_string_equal(store_host_status(&h), "unmanaged");
	store_host_clear(&h);
	add(f, "web", "policy drop\n", 1, &m);
	put(f, &r, "web", 0, "role=web", 1, &m);
	assert_int_equal(m.n, 1);
	expect(f, "hold1234567", 1, "web", 1);
}

int main(void)
{
#define T(fn) \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollout_vectors),
		T(test_versions),
		T(test_priority_selector),
		T(test_rollout),
		T(test_labels_removed),
		T(test_applied),
		T(test_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
