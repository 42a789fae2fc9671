// SPDX-License-Identifier: GPL-2.0-only
/* The store tests' fixture (test-store-fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "test-store-fixture.h"

const struct store_who test_who = { "key:ktest/tester", "127.0.0.1:4000" };

static unsigned char blob_bytes[] = "not really DER";

int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_blob b = { blob_bytes, sizeof(blob_bytes) };
	struct store_bootstrap boot = {
		.org = "acme",
		.ws_name = "default",
		.ws_ca = b,
		.ws_key = b,
		.server_ca = b,
		.server_ca_key = b,
		.server_cert = b,
		.server_key = b,
	};

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_new_id('w', f->ws), 0);
	boot.ws_id = f->ws;
	assert_int_equal(
		store_bootstrap(f->st, &boot, f->admin_key, f->admin_secret),
		0);
	*state = f;
	return 0;
}

int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

void fixture_reopen(struct fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st), 0);
}

void fixture_raw_sql(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	int rc;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg);
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
	sqlite3_close(db);
}
