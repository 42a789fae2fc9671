// SPDX-License-Identifier: GPL-2.0-only
/*
 * RBAC in the store: keys, bindings on a workspace or on "*", built-in
 * and custom roles; whatever is not granted is denied.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "test-store-fixture.h"

static void key(struct fixture *f, const char *user,
		const struct store_binding *b, size_t n, char id[STORE_ID_LEN])
{
	char secret[STORE_SECRET_LEN];
	struct store_key k;

	assert_int_equal(
		store_key_create(f->st, &test_who, user, b, n, &k, secret), 0);
	assert_int_equal(k.n_bindings, n);
	memcpy(id, k.id, STORE_ID_LEN);
}

static void test_rbac(void **state)
{
	struct fixture *f = *state;
	char ws2[STORE_ID_LEN], viewer[STORE_ID_LEN], star_op[STORE_ID_LEN],
		custom[STORE_ID_LEN], secret[STORE_SECRET_LEN];
	const char *perms[] = { "token:read", "audit:read" };
	const char *bad[] = { "token:read", "token:fly" };
	struct store_binding b;
	unsigned char der[] = { 0x30, 0x00 };
	struct store_blob blob = { der, sizeof(der) };
	struct store_role r;
	struct store_key k;

	/* admin on "*": everything, anywhere, "*" included */
	for (size_t i = 0; store_permissions[i]; i++) {
		assert_int_equal(store_allowed(f->st, f->admin_key, f->ws,
					       store_permissions[i]),
				 0);
		assert_int_equal(store_allowed(f->st, f->admin_key, "*",
					       store_permissions[i]),
				 0);
	}
	assert_int_equal(store_allowed(f->st, f->admin_key, f->ws, "token:fly"),
			 -EINVAL);

	b = (struct store_binding){ .role = "viewer" };
	snprintf(b.workspace, sizeof(b.workspace), "%s", f->ws);
	key(f, "alice", &b, 1, viewer);
	b = (struct store_binding){ "*", "operator" };
	key(f, "robot", &b, 1, star_op);

	/* a workspace made after the "*" binding: it applies there too */
	assert_int_equal(store_new_id('w', ws2), 0);
	assert_int_equal(store_workspace_create(f->st, &test_who, ws2, "later",
						&blob, &blob),
			 0);

	assert_int_equal(store_allowed(f->st, viewer, f->ws, "token:read"), 0);
	assert_int_equal(store_allowed(f->st, viewer, f->ws, "token:create"),
			 -EACCES);
	assert_int_equal(store_allowed(f->st, viewer, ws2, "token:read"),
			 -EACCES);
	assert_int_equal(store_allowed(f->st, viewer, "*", "token:read"),
			 -EACCES);
	assert_int_equal(store_allowed_any(f->st, viewer, "token:read"), 0);
	assert_int_equal(store_allowed_any(f->st, viewer, "key:admin"),
			 -EACCES);

	assert_int_equal(store_allowed(f->st, star_op, ws2, "token:create"), 0);
	assert_int_equal(store_allowed(f->st, star_op, f->ws, "host:remove"),
			 0);
	assert_int_equal(store_allowed(f->st, star_op, "*", "workspace:create"),
			 -EACCES);
	assert_int_equal(store_allowed(f->st, star_op, ws2, "role:admin"),
			 -EACCES);

	/* custom roles: validated, per workspace; built-ins fixed */
	assert_int_equal(
		store_role_put(f->st, &test_who, f->ws, "auditor", bad, 2, &r),
		-EINVAL);
	assert_int_equal(
		store_role_put(f->st, &test_who, f->ws, "viewer", perms, 2, &r),
		-EPERM);
	assert_int_equal(store_role_delete(f->st, &test_who, f->ws, "admin"),
			 -EPERM);
	assert_int_equal(store_role_put(f->st, &test_who, f->ws, "auditor",
					perms, 2, &r),
			 0);
	/* kept in the table's order, whatever the order given */
	assert_string_equal(r.permissions, "token:read audit:read");
	assert_false(r.builtin);
	b = (struct store_binding){ .role = "auditor" };
	snprintf(b.workspace, sizeof(b.workspace), "%s", f->ws);
	key(f, "carol", &b, 1, custom);
	assert_int_equal(store_allowed(f->st, custom, f->ws, "audit:read"), 0);
	assert_int_equal(store_allowed(f->st, custom, f->ws, "host:read"),
			 -EACCES);
	/* not a built-in: no binding on "*", nor to a role not there */
	b = (struct store_binding){ "*", "auditor" };
	assert_int_equal(
		store_key_create(f->st, &test_who, "dave", &b, 1, &k, secret),
		-EINVAL);
	snprintf(b.workspace, sizeof(b.workspace), "%s", ws2);
	assert_int_equal(
		store_key_create(f->st, &test_who, "dave", &b, 1, &k, secret),
		-ENOENT);
	assert_int_equal(store_role_delete(f->st, &test_who, f->ws, "auditor"),
			 0);
	assert_int_equal(store_role_delete(f->st, &test_who, f->ws, "auditor"),
			 -ENOENT);
	assert_int_equal(store_allowed(f->st, custom, f->ws, "audit:read"),
			 -EACCES);

	/* revoked or forged keys authenticate as nobody */
	assert_int_equal(store_key_revoke(f->st, &test_who, viewer), 0);
	assert_int_equal(store_key_revoke(f->st, &test_who, viewer), -EALREADY);
	assert_int_equal(store_allowed(f->st, viewer, f->ws, "token:read"),
			 -EACCES);
	snprintf(secret, sizeof(secret), "%s", f->admin_secret);
	secret[strlen(secret) - 1] ^= 1;
	assert_int_equal(store_key_auth(f->st, secret, &k), -EACCES);
	assert_int_equal(store_key_auth(f->st, "moat-key-", &k), -EACCES);
	assert_int_equal(store_key_auth(f->st, "Bearer", &k), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rbac, fixture_setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
