// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit hash chain: the hash as specified, the verifier on chains
 * built in memory, and on the store's chain after someone edited the
 * file; and a store killed mid-write still verifies.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit.h"
#include "store.h"
#include "test-store-fixture.h"

/* From an independent implementation (Python hashlib) of the spec. */
static void test_hash_known(void **state)
{
	struct audit_record r = {
		.seq = 1,
		.time = 1700000000,
		.actor = "system",
		.source = "127.0.0.1:5000",
		.action = "store.bootstrap",
		.workspace = "wabcdefghij",
		.target = "",
		.result = "ok",
		.detail = "{}",
		.prev = audit_genesis,
	};
	char h[AUDIT_HEX_LEN];

	assert_int_equal(audit_hash(&r, h), 0);
	assert_string_equal(
		h,
		"8aef7d8c22f51a2674360cdd4199056f3d6c85eba081566d2763ce21d0d6fd88");
	/* lengths are hashed: moving a byte between fields changes it */
	r.source = "127.0.0.1:500";
	r.action = "0store.bootstrap";
	assert_int_equal(audit_hash(&r, h), 0);
	assert_string_not_equal(
		h,
		"8aef7d8c22f51a2674360cdd4199056f3d6c85eba081566d2763ce21d0d6fd88");
}

#define N 5

struct chain {
	struct audit_record r[N];
	char prev[N][AUDIT_HEX_LEN];
	char hash[N][AUDIT_HEX_LEN];
	char target[N][16];
};

static void chain_build(struct chain *c)
{
	for (int i = 0; i < N; i++) {
		snprintf(c->target[i], sizeof(c->target[i]), "t%d", i);
		memcpy(c->prev[i], i ? c->hash[i - 1] : audit_genesis,
		       AUDIT_HEX_LEN);
		c->r[i] = (struct audit_record){
			.seq = i + 1,
			.time = 1000 + i,
			.actor = "system",
			.source = "",
			.action = "token.create",
			.workspace = "w1",
			.target = c->target[i],
			.result = "ok",
			.detail = "{}",
			.prev = c->prev[i],
			.hash = c->hash[i],
		};
		assert_int_equal(audit_hash(&c->r[i], c->hash[i]), 0);
	}
}

/* Feeds @c's records in @order; returns the first error. */
static int chain_verify(struct chain *c, const int *order, int n,
			struct audit_verifier *v)
{
	int ret = 0;

	audit_verify_init(v);
	for (int i = 0; i < n && !ret; i++)
		ret = audit_verify_next(v, &c->r[order[i]]);
	return ret;
}

static void test_verify_memory(void **state)
{
	static const int good[] = { 0, 1, 2, 3, 4 };
	static const int gap[] = { 0, 1, 3, 4 };
	static const int swapped[] = { 0, 2, 1, 3, 4 };
	struct audit_verifier v;
	struct chain c;

	chain_build(&c);
	assert_int_equal(chain_verify(&c, good, N, &v), 0);
	assert_int_equal(v.checked, N);

	assert_int_equal(chain_verify(&c, gap, 4, &v), -EBADMSG);
	assert_string_equal(
		v.why,
		"record 4: follows record 2 (record 3 removed or moved)");
	assert_int_equal(v.checked, 2);

	assert_int_equal(chain_verify(&c, swapped, N, &v), -EBADMSG);
	assert_string_equal(
		v.why,
		"record 3: follows record 1 (record 2 removed or moved)");

	/* an edit of any field, seq kept: the hash says so */
	c.r[2].detail = "{\"x\":1}";
	assert_int_equal(chain_verify(&c, good, N, &v), -EBADMSG);
	assert_string_equal(v.why, "record 3: hash does not match its contents "
				   "(edited?)");
	/* later calls keep the first error */
	assert_int_equal(audit_verify_next(&v, &c.r[3]), -EBADMSG);
	assert_string_equal(v.why, "record 3: hash does not match its contents "
				   "(edited?)");

	/* an edit that also recomputed its hash: the next link breaks */
	assert_int_equal(audit_hash(&c.r[2], c.hash[2]), 0);
	assert_int_equal(chain_verify(&c, good, N, &v), -EBADMSG);
	assert_non_null(strstr(v.why, "record 4: prev `"));
	assert_non_null(strstr(v.why, "is not the hash of record 3"));

	/* a page that starts after a trusted record */
	chain_build(&c);
	audit_verify_init_at(&v, 2, c.hash[1]);
	assert_int_equal(audit_verify_next(&v, &c.r[2]), 0);
	assert_int_equal(audit_verify_next(&v, &c.r[3]), 0);
	audit_verify_init_at(&v, 2, c.hash[0]);
	assert_int_equal(audit_verify_next(&v, &c.r[2]), -EBADMSG);
}

static void add_records(struct fixture *f, int n)
{
	char target[16];

	for (int i = 0; i < n; i++) {
		snprintf(target, sizeof(target), "x%d", i);
		assert_int_equal(store_audit_append(
					 f->st, &test_who, "auth.deny", f->ws,
					 target, "denied: token:create", NULL),
				 0);
	}
}

static void expect_broken(struct fixture *f, const char *why)
{
	char got[256];
	int64_t n;

	fixture_reopen(f);
	assert_int_equal(store_audit_verify(f->st, &n, got, sizeof(got)),
			 -EBADMSG);
	assert_string_equal(got, why);
}

/* Record 1 is the bootstrap's; 2..9 are add_records' 8. */
static void test_store_edited(void **state)
{
	struct fixture *f = *state;
	char why[256];
	int64_t n;

	add_records(f, 8);
	assert_int_equal(store_audit_verify(f->st, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 9);
	assert_string_equal(why, "");
	fixture_raw_sql(f, "UPDATE audit SET result = 'ok' WHERE seq = 5");
	expect_broken(f, "record 5: hash does not match its contents "
			 "(edited?)");
}

static void test_store_deleted(void **state)
{
	struct fixture *f = *state;

	add_records(f, 8);
	fixture_raw_sql(f, "DELETE FROM audit WHERE seq = 6");
	expect_broken(f,
		      "record 7: follows record 5 (record 6 removed or moved)");
}

static void test_store_swapped(void **state)
{
	struct fixture *f = *state;
	char why[256];

	add_records(f, 8);
	/* swap the contents of 4 and 5 (seq is the key; via a free slot) */
	fixture_raw_sql(f, "UPDATE audit SET seq = 1000 WHERE seq = 4;"
			   "UPDATE audit SET seq = 4 WHERE seq = 5;"
			   "UPDATE audit SET seq = 5 WHERE seq = 1000;");
	fixture_reopen(f);
	assert_int_equal(store_audit_verify(f->st, NULL, why, sizeof(why)),
			 -EBADMSG);
	/* record 4 now holds 5's contents, whose prev is the old 4's hash */
	assert_non_null(strstr(why, "record 4: prev `"));
	assert_non_null(strstr(why, "is not the hash of record 3"));
}

struct seen {
	int n;
	int64_t seqs[16];
};

static int collect(void *arg, const struct audit_record *r)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->seqs[s->n] = r->seq;
	s->n++;
	return 0;
}

/* Paging by seq and filtering by workspace, as GET /v1/audit does. */
static void test_store_list(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };

	add_records(f, 3);
	assert_int_equal(store_audit_append(f->st, &test_who, "auth.deny",
					    "wother00000", "", "denied: x",
					    NULL),
			 0);
	assert_int_equal(store_audit_list(f->st, 2, 2, NULL, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seqs[0], 3);
	assert_int_equal(s.seqs[1], 4);
	memset(&s, 0, sizeof(s));
	assert_int_equal(
		store_audit_list(f->st, 0, 0, "wother00000", collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.seqs[0], 5);
	memset(&s, 0, sizeof(s));
	/* the bootstrap's record and add_records' 3 */
	assert_int_equal(store_audit_list(f->st, 0, 0, f->ws, collect, &s), 0);
	assert_int_equal(s.n, 4);
}

static void test_json_detail(void **state)
{
	char buf[64];

	assert_int_equal(store_json_detail(buf, sizeof(buf), "a", "x\"y\n", "b",
					   "\\", NULL),
			 0);
	assert_string_equal(buf, "{\"a\":\"x\\\"y\\u000a\",\"b\":\"\\\\\"}");
	assert_int_equal(store_json_detail(buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "{}");
	assert_int_equal(store_json_detail(buf, 8, "key", "value", NULL),
			 -ENOSPC);
}

static int crash_sign(void *arg, const char *ws, const char *host,
		      char serial[STORE_SERIAL_LEN], int64_t *not_after)
{
	snprintf(serial, STORE_SERIAL_LEN, "%s-1", host);
	*not_after = 2000000000;
	return 0;
}

/* The child: mints a token, enrolls a machine with it, records a denial;
 * over and over until killed. */
static void __attribute__((noreturn)) crash_writer(struct fixture *f, int round)
{
	char secret[STORE_SECRET_LEN], hash[STORE_HASH_LEN], machine[32];
	struct store_enroll_req req = { .token_hash = hash,
					.hostname = "crash",
					.machine_id = machine };
	struct store_host h;
	struct store *st;

	if (store_open(f->path, &st))
		_exit(2);
	for (int i = 0;; i++) {
		snprintf(machine, sizeof(machine), "m-%d-%d", round, i);
		if (store_token_create(st, &test_who, f->ws, time(NULL) + 3600,
				       1, NULL, "crash", NULL, secret) ||
		    store_sha256_hex(secret, strlen(secret), hash) ||
		    store_enroll(st, &test_who, &req, crash_sign, NULL, &h))
			_exit(3);
		store_host_clear(&h);
		store_audit_append(st, &test_who, "auth.deny", f->ws, "",
				   "denied: x", NULL);
	}
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/*
 * A store killed at any point: its file is whole, its chain verifies,
 * every token and host has the audit record that made it, and a token's
 * use is counted exactly when its host exists.
 */
static void test_crash(void **state)
{
	struct fixture *f = *state;
	struct timespec ts = { 0 };
	sqlite3_stmt *s;
	char why[256];
	sqlite3 *db;
	int64_t n, hosts;
	pid_t pid;
	int status;

	store_close(f->st);
	f->st = NULL;
	/* many kills at different moments: each lands in some step of a
	 * transaction, or between two */
	for (int round = 0; round < 12; round++) {
		ts.tv_nsec = (20 + 7 * round) * 1000 * 1000;
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			crash_writer(f, round);
		/* killed mid-loop: some transaction is under way */
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		/* a signal, not an early exit of the writer */
		assert_true(WIFSIGNALED(status));
	}
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_audit_verify(f->st, &n, why, sizeof(why)), 0);
	/* the loop ran: more than the bootstrap's record */
	assert_true(n > 10);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	hosts = count(db, "SELECT count(*) FROM hosts");
	assert_true(hosts > 0);
	assert_int_equal(count(db, "SELECT count(*) FROM tokens"),
			 count(db, "SELECT count(*) FROM audit"
				   " WHERE action = 'token.create'"));
	assert_int_equal(hosts, count(db, "SELECT count(*) FROM audit"
					  " WHERE action = 'host.enroll'"));
	assert_int_equal(hosts, count(db, "SELECT sum(uses) FROM tokens"));
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known),
		cmocka_unit_test(test_verify_memory),
		cmocka_unit_test(test_json_detail),
		cmocka_unit_test_setup_teardown(test_store_list, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_store_edited, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_store_deleted, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_store_swapped, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_crash, fixture_setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
