/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bootstrapped store in a fresh temporary directory, for the store's
 * tests: a real SQLite file, removed afterwards.
 */
#ifndef MOAT_TEST_STORE_FIXTURE_H
#define MOAT_TEST_STORE_FIXTURE_H

#include "store.h"

struct fixture {
	char dir[64];
	char path[96];
	struct store *st;
	char ws[STORE_ID_LEN]; /* the first workspace */
	char admin_key[STORE_ID_LEN]; /* bound to admin on "*" */
	char admin_secret[STORE_SECRET_LEN];
};

extern const struct store_who test_who;

/* cmocka setup and teardown: @state becomes a struct fixture. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* Reopens the store file (after a raw edit or a crash). */
void fixture_reopen(struct fixture *f);

/* Runs @sql on the file with a connection of its own, as an attacker
 * with write access to the file would. */
void fixture_raw_sql(struct fixture *f, const char *sql);

#endif /* MOAT_TEST_STORE_FIXTURE_H */
