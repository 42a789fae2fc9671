// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counter slots by name (slots.c): what a name is given it keeps, a slot
 * is had once, and the map holds ten times the names it was first sized
 * for as it held the first, as an apply of 100,000 rules needs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dp-int.h"

#define NAMES 20000

static void name_of(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "%s-%u", i % 2 ? "web" : "ssh-office", i);
}

static void test_add_find(void **state)
{
	const uint32_t first = MOAT_SLOT_FIRST_RULE;
	char name[MOAT_NAME_MAX + 1], longest[MOAT_NAME_MAX + 8];
	struct slotmap m;
	unsigned int i;

	(void)state;
	assert_int_equal(slotmap_init(&m, first + NAMES + 1), 0);
	assert_null(slotmap_find(&m, "ssh-office-0"));
	for (i = 0; i < NAMES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(slotmap_add(&m, name, first + i, 1000 + i), 0);
	}
	assert_int_equal(m.used, NAMES);
	for (i = 0; i < NAMES; i++) {
		const struct slotent *e;

		name_of(name, sizeof(name), i);
		e = slotmap_find(&m, name);
		assert_non_null(e);
		assert_string_equal(e->name, name);
		assert_int_equal(e->slot, first + i);
		assert_int_equal(e->applied_ns, 1000 + i);
	}
	/* a name once, a slot once, and no slot outside the map */
	assert_int_equal(slotmap_add(&m, "web-1", first + NAMES, 0), -EEXIST);
	assert_int_equal(slotmap_add(&m, "other", first, 0), -EINVAL);
	assert_int_equal(slotmap_add(&m, "other", first + NAMES + 1, 0),
			 -EINVAL);
	assert_int_equal(slotmap_add(&m, "other", 0, 0), -EINVAL);
	assert_null(slotmap_find(&m, "other"));
	assert_null(slotmap_find(&m, "web-0")); /* odd numbers are web */
	/* a name is kept to MOAT_NAME_MAX, and found by what is kept */
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(slotmap_add(&m, longest, first + NAMES, 0), 0);
	assert_non_null(slotmap_find(&m, longest));
	longest[MOAT_NAME_MAX] = '\0';
	assert_non_null(slotmap_find(&m, longest));
	assert_int_equal(strlen(slotmap_find(&m, longest)->name),
			 MOAT_NAME_MAX);
	longest[MOAT_NAME_MAX - 1] = '\0';
	assert_null(slotmap_find(&m, longest));
	slotmap_fini(&m);
}

/*
 * Reserved first (b), or grown by adds (a): the same map.  A new map
 * takes no slot of the running one it avoids, and says when none is left.
 */
static void test_reserve(void **state)
{
	const uint32_t first = MOAT_SLOT_FIRST_RULE;
	char name[MOAT_NAME_MAX + 1];
	struct slotmap a, b;
	uint32_t slot;
	unsigned int i;

	(void)state;
	assert_int_equal(slotmap_init(&a, first + 2 * NAMES), 0);
	assert_int_equal(slotmap_init(&b, first + 2 * NAMES), 0);
	assert_int_equal(slotmap_reserve(&b, NAMES), 0);
	for (i = 0; i < NAMES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(slotmap_take_free(&a, NULL, &slot), 0);
		assert_int_equal(slot, first + i);
		assert_int_equal(slotmap_add(&a, name, slot, 0), 0);
	}
	for (i = 0; i < NAMES; i++) {
		name_of(name, sizeof(name), NAMES - 1 - i);
		assert_int_equal(slotmap_take_free(&b, &a, &slot), 0);
		assert_true(slot >= first + NAMES);
		assert_int_equal(slotmap_add(&b, name, slot, 0), 0);
	}
	assert_int_equal(slotmap_take_free(&b, &a, &slot), -ENOSPC);
	for (i = 0; i < NAMES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(slotmap_find(&a, name)->slot, first + i);
		assert_int_equal(slotmap_find(&b, name)->slot,
				 first + 2 * NAMES - 1 - i);
	}
	slotmap_fini(&a);
	slotmap_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find),
		cmocka_unit_test(test_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
