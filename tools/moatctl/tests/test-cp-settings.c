// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl's control-plane settings: the config file (what it accepts, and
 * the FILE:LINE of what it does not), flag over environment over file,
 * the key read from its file, and 'cp-config check'.
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* before cmocka.h, whose fail() macro would rename moatctl's fail() */
#include "cp.h"

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_config_good(void **state)
{
	struct cp_source s;
	char err[512] = "";

	assert_int_equal(
		cp_config_parse("c.conf",
				"# moatctl\n"
				"\n"
				"server https://cp.example:7444/  # the API\n"
				"  api-key-file\t/etc/moat/key\n"
				"cacert /etc/moat/ca.crt\r\n"
				"workspace edge-1\n",
				&s, err, sizeof(err)),
		0);
	assert_string_equal(err, "");
	assert_string_equal(s.server, "https://cp.example:7444/");
	assert_string_equal(s.api_key_file, "/etc/moat/key");
	assert_string_equal(s.cacert, "/etc/moat/ca.crt");
	assert_string_equal(s.workspace, "edge-1");
	assert_null(s.api_key); /* a file never holds the key itself */
	cp_source_free(&s);

	/* nothing but comments: every setting left to others */
	assert_int_equal(cp_config_parse("c.conf", "# x\n#server y", &s, err,
					 sizeof(err)),
			 0);
	assert_null(s.server);
	assert_null(s.workspace);
}

static void test_config_bad(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "server https://a\nsevrer https://b\n",
		  "c.conf:2:1: unknown key (expected server, api-key-file, cacert or workspace): 'sevrer'" },
		{ "  api_key_file /k\n",
		  "c.conf:1:3: unknown key (expected server, api-key-file, cacert or workspace): 'api_key_file'" },
		{ "workspace a\n\nworkspace b\n",
		  "c.conf:3: key given twice (first on line 1): 'workspace'" },
		{ "cacert\n", "c.conf:1: key needs a value: 'cacert'" },
		{ "cacert   # none\n",
		  "c.conf:1: key needs a value: 'cacert'" },
		{ "workspace Edge\n",
		  "c.conf:1: bad workspace name (1-63 of a-z 0-9 -, not starting with -): 'Edge'" },
		{ "server http://cp:7444\n",
		  "c.conf:1: the server is an https:// URL: 'http://cp:7444'" },
		/* the api-key line names a file, so a key here is a mistake */
		{ "api-key moat-key-kx-secret\n",
		  "c.conf:1:1: unknown key (expected server, api-key-file, cacert or workspace): 'api-key'" },
	};
	struct cp_source s;
	char err[512];

	for (size_t i = 0; i < N(cases); i++) {
		err[0] = '\0';
		assert_int_equal(cp_config_parse("c.conf", cases[i].text, &s,
						 err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_null(s.server); /* nothing half-read is kept */
	}
}

static char *temp_file(const char *text)
{
	char *path = strdup("/tmp/test-cp-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_precedence(void **state)
{
	char *kflag = temp_file("moat-key-kflag-1\n");
	char *kenv = temp_file("  moat-key-kenv-2  \n\n");
	char *kfile = temp_file("moat-key-kfile-3");
	const struct cp_source file = { .server = "https://file:1",
					.api_key_file = kfile,
					.cacert = "/file.crt",
					.workspace = "file-ws" };
	struct cp_source env = { .server = "https://env:2",
				 .api_key_file = kenv,
				 .cacert = "/env.crt",
				 .workspace = "env-ws" };
	struct cp_source flags = { .server = "https://flag:3/",
				   .api_key_file = kflag,
				   .cacert = "/flag.crt",
				   .workspace = "flag-ws" };
	const struct cp_source none = { 0 };
	struct cp_settings s;

	/* flags win; a trailing '/' is dropped from the URL */
	assert_int_equal(cp_settings_merge(&s, &flags, &env, &file, "/c"), 0);
	assert_string_equal(s.server, "https://flag:3");
	assert_string_equal(s.api_key, "moat-key-kflag-1");
	assert_string_equal(s.api_key_from, kflag);
	assert_string_equal(s.cacert, "/flag.crt");
	assert_string_equal(s.workspace, "flag-ws");
	assert_string_equal(s.config, "/c");

	/* then the environment; the key file's blanks are not the key */
	assert_int_equal(cp_settings_merge(&s, &none, &env, &file, NULL), 0);
	assert_string_equal(s.server, "https://env:2");
	assert_string_equal(s.api_key, "moat-key-kenv-2");
	assert_string_equal(s.cacert, "/env.crt");
	assert_string_equal(s.workspace, "env-ws");

	/* MOAT_API_KEY (the secret) over MOAT_API_KEY_FILE ... */
	env.api_key = "moat-key-kvar-4";
	assert_int_equal(cp_settings_merge(&s, &none, &env, &file, NULL), 0);
	assert_string_equal(s.api_key, "moat-key-kvar-4");
	assert_string_equal(s.api_key_from, "MOAT_API_KEY");
	/* ... but under --api-key-file */
	assert_int_equal(cp_settings_merge(&s, &flags, &env, &file, NULL), 0);
	assert_string_equal(s.api_key, "moat-key-kflag-1");

	/* the file alone; the workspace defaults to "default" */
	assert_int_equal(cp_settings_merge(&s, &none, &none, &file, NULL), 0);
	assert_string_equal(s.server, "https://file:1");
	assert_string_equal(s.api_key, "moat-key-kfile-3");
	assert_string_equal(s.workspace, "file-ws");
	flags = (struct cp_source){ .server = "https://x",
				    .api_key_file = kflag };
	assert_int_equal(cp_settings_merge(&s, &flags, &none, &none, NULL), 0);
	assert_string_equal(s.workspace, "default");
	assert_string_equal(s.cacert, "");

	unlink(kflag);
	unlink(kenv);
	unlink(kfile);
	free(kflag);
	free(kenv);
	free(kfile);
}

static void test_settings_refused(void **state)
{
	char *empty = temp_file("\n  \n");
	char *two = temp_file("moat-key-a\nmoat-key-b\n");
	const struct cp_source none = { 0 };
	struct cp_source f = { .server = "https://cp:7444",
			       .api_key = "moat-key-k-1" };
	struct cp_settings s;

	/* what the refusals below take one thing from */
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL), 0);
	/* no server anywhere */
	f.server = NULL;
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USER);
	/* not https */
	f.server = "http://cp:7444";
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USAGE);
	f.server = "https://cp:7444";
	/* a bad workspace */
	f.workspace = "No";
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USAGE);
	f.workspace = NULL;
	/* no key anywhere */
	f.api_key = NULL;
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USER);
	/* key files that hold no key, or two lines, or nothing at all */
	f.api_key_file = empty;
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USER);
	f.api_key_file = two;
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USER);
	f.api_key_file = "/nonexistent/key";
	assert_int_equal(cp_settings_merge(&s, &none, &f, &none, NULL),
			 EXIT_USER);
	assert_string_equal(s.api_key, "");
	unlink(empty);
	unlink(two);
	free(empty);
	free(two);
}

static int check(const char *path, bool extra)
{
	char *argv[] = { "moatctl cp-config", "check", (char *)path,
			 extra ? "more" : NULL, NULL };
	struct moatctl g = { 0 };
	int argc = 3 + extra;

	optind = 0;
	return cmd_cp_config(&g, path ? argc : 2, argv);
}

static void test_config_check(void **state)
{
	char *good = temp_file("server https://cp:7444\nworkspace default\n");
	char *bad = temp_file("server https://cp:7444\nserver https://b\n");

	assert_int_equal(check(good, false), EXIT_OK);
	assert_int_equal(check(bad, false), EXIT_USER);
	assert_int_equal(check("/nonexistent/moatctl.conf", false), EXIT_USER);
	assert_int_equal(check(good, true), EXIT_USAGE);
	unlink(good);
	unlink(bad);
	free(good);
	free(bad);
}

static void test_names(void **state)
{
	assert_true(cp_workspace_valid("default"));
	assert_true(cp_workspace_valid("wabcdefghij")); /* an id */
	assert_true(cp_workspace_valid("a-1"));
	assert_false(cp_workspace_valid(""));
	assert_false(cp_workspace_valid("-a"));
	assert_false(cp_workspace_valid("a/b"));
	assert_false(cp_workspace_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_true(cp_id_valid("habcdefghij"));
	assert_false(cp_id_valid("h-1"));
	assert_false(cp_id_valid(".."));
	assert_false(cp_id_valid(""));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_settings_refused),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_names),
	};

	/* the settings must not come from the machine running the tests */
	setenv("HOME", "/nonexistent", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
