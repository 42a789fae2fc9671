// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatd's side of declared configuration (mgmt/agent/desired.c), with the
 * data plane's apply replaced by a function that records what it was
 * asked and fails on demand: the generation on record in desired.gen, a
 * failing apply that keeps the previous generation and says why, the
 * text checked against its hash, drift and its restoration, "none".
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

#include "desired.h"
#include "file.h"

struct fake {
	int calls;
	bool audit;
	char name[96];
	char text[256];
	int fail; /* a negative errno to fail with */
};

static int fake_apply(void *arg, const char *text, size_t len, const char *name,
		      bool audit, char *err, size_t errsz)
{
	struct fake *f = arg;

	f->calls++;
	f->audit = audit;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->text, sizeof(f->text), "%.*s", (int)len, text);
	if (f->fail)
		snprintf(err, errsz,
			 "cannot apply %s: capacity of 4 rules exceeded", name);
	return f->fail;
}

static char dir[] = "/tmp/test-desired-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/" DESIRED_FILE, dir);
	unlink(path);
	return rmdir(dir);
}

/* A desired state of @text, its hash right. */
static void make(struct proto_desired *m, uint64_t gen, const char *text,
		 enum proto_rs_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->generation = gen;
	m->has_ruleset = true;
	strcpy(m->ruleset.name, "web");
	m->ruleset.version = gen - 2;
	m->ruleset.text = (char *)text;
	m->ruleset.text_len = strlen(text);
	assert_int_equal(desired_sha256(text, strlen(text), m->ruleset.sha256),
			 0);
	m->ruleset.mode = mode;
}

static void expect_on_record(uint64_t gen, bool drift)
{
	struct desired_state d;
	char why[256];

	assert_int_equal(desired_load(dir, &d, why, sizeof(why)), 0);
	assert_int_equal(d.generation, gen);
	assert_int_equal(d.drift, drift);
}

static void test_apply_and_keep(void **state)
{
	struct desired_state d = { 0 };
	struct proto_desired m;
	struct proto_applied out;
	struct fake f = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(desired_load(dir, &d, why, sizeof(why)), -ENOENT);

	/* generation 5 in audit mode: applied so, and on record */
	make(&m, 5, "policy drop\n", PROTO_MODE_AUDIT);
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out), 0);
	assert_int_equal(f.calls, 1);
	assert_true(f.audit);
	assert_string_equal(f.name, "web@v3");
	assert_string_equal(f.text, "policy drop\n");
	assert_true(out.ok);
	assert_int_equal(out.generation, 5);
	assert_true(desired_managed(&d));
	expect_on_record(5, false);

	/* the same again (a reconnect): in force already, not re-applied */
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out), 0);
	assert_int_equal(f.calls, 1);
	assert_true(out.ok);

	/* generation 6 fails: 5 stays, in memory and on record, and why */
	make(&m, 6, "policy drop\nallow ssh tcp dport 22\n",
	     PROTO_MODE_ENFORCE);
	f.fail = -ENOSPC;
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out),
			 -ENOSPC);
	assert_int_equal(f.calls, 2);
	assert_false(f.audit);
	assert_false(out.ok);
	assert_int_equal(out.generation, 6);
	assert_string_equal(
		out.error, "cannot apply web@v4: capacity of 4 rules exceeded");
	assert_int_equal(d.generation, 5);
	assert_int_equal(d.mode, PROTO_MODE_AUDIT);
	expect_on_record(5, false);

	/* a text that is not what its hash says is never applied */
	f.fail = 0;
	make(&m, 7, "policy allow\n", PROTO_MODE_ENFORCE);
	m.ruleset.sha256[0] = m.ruleset.sha256[0] == '0' ? '1' : '0';
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out),
			 -EBADMSG);
	assert_int_equal(f.calls, 2);
	assert_false(out.ok);
	assert_non_null(strstr(out.error, "web@v5: the text's SHA-256 is "));
	expect_on_record(5, false);
}

static void test_drift(void **state)
{
	struct desired_state d = { 0 };
	struct proto_desired m;
	struct proto_applied out;
	struct fake f = { 0 };

	(void)state;
	make(&m, 8, "policy drop\n", PROTO_MODE_ENFORCE);
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out), 0);
	assert_int_equal(f.calls, 1);

	/* a local apply --force: drift, on record (a restart keeps it) */
	assert_int_equal(desired_note_drift(&d, dir), 0);
	expect_on_record(8, true);

	/* the same generation sent again (restore) is applied, drift gone */
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out), 0);
	assert_int_equal(f.calls, 2);
	assert_false(out.drift);
	expect_on_record(8, false);

	/* drift, then a push that fails: still drifted, and says so */
	assert_int_equal(desired_note_drift(&d, dir), 0);
	make(&m, 9, "policy allow\n", PROTO_MODE_ENFORCE);
	f.fail = -EINVAL;
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out),
			 -EINVAL);
	assert_true(out.drift);
	expect_on_record(8, true);

	/* "none": nothing applied, the host no longer managed */
	f.fail = 0;
	m.generation = 10;
	m.has_ruleset = false;
	assert_int_equal(desired_apply(&d, dir, &m, fake_apply, &f, &out), 0);
	assert_int_equal(f.calls, 3);
	assert_false(desired_managed(&d));
	assert_false(out.drift);
	expect_on_record(10, false);
}

static void test_record_refused(void **state)
{
	static const char *const bad[] = {
		"generation x\n",
		"generation 3\nruleset Web\n",
		"generation 3\nruleset web\nversion 1\nmode enforce\n", /* no sha256 */
		"generation 3\ndrift 2\n",
		"generation\n",
	};
	struct desired_state d;
	char path[256], why[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/" DESIRED_FILE, dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(file_write_atomic(path, bad[i], strlen(bad[i]),
						   0600, false),
				 0);
		assert_int_equal(desired_load(dir, &d, why, sizeof(why)),
				 -EBADMSG);
		assert_int_equal(d.generation, 0);
		print_message("%s\n", why);
	}
	/* keys of a later moatd are ignored */
	assert_int_equal(file_write_atomic(path, "generation 4\nflavour x\n",
					   22, 0600, false),
			 0);
	assert_int_equal(desired_load(dir, &d, why, sizeof(why)), 0);
	assert_int_equal(d.generation, 4);
}

static void test_error_text(void **state)
{
	struct moat_diag v[] = {
		{ MOAT_WARNING, 1, 1, "rule 'a' is shadowed" },
		{ MOAT_ERROR, 2, 7, "unknown protocol: 'tcpx'" },
		{ MOAT_ERROR, 0, 0, "no rules and no policy" },
	};
	struct moat_diags d = { .v = v, .n = 3, .nerrors = 2 };
	char buf[200], tiny[24];

	(void)state;
	desired_error_text(buf, sizeof(buf), "web@v3 has errors", &d, "web@v3");
	assert_string_equal(
		buf,
		"web@v3 has errors; web@v3:2:7: unknown protocol: 'tcpx'; web@v3: no rules and no policy");
	/* cut to fit, still a string */
	desired_error_text(tiny, sizeof(tiny), "web@v3 has errors", &d,
			   "web@v3");
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_and_keep),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_record_refused),
		cmocka_unit_test(test_error_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
