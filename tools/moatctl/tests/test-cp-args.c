// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control-plane commands' command lines: what request each builds
 * (method, path, body), and that bad ones stop with exit status 2 before
 * any request.  No control plane: cp_parse_*() only build requests.
 */
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
#include "cp-parse.h"
#include "cp.h"

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_requests(void **state)
{
	static const struct {
		const char *line, *method, *path;
		bool scoped;
		const char *body; /* NULL: none */
	} cases[] = {
		{ "token create", "POST", "/tokens", true, "{\"labels\":{}}" },
		{ "token create --ttl 2h --uses 5 --label role=web --label dc=fra1 --description edge",
		  "POST", "/tokens", true,
		  "{\"labels\":{\"role\":\"web\",\"dc\":\"fra1\"},\"ttl\":7200,\"max_uses\":5,\"description\":\"edge\"}" },
		/* the API's maximum, 30 days, typed as days */
		{ "token create --ttl 30d", "POST", "/tokens", true,
		  "{\"labels\":{},\"ttl\":2592000}" },
		{ "token list", "GET", "/tokens", true, NULL },
		{ "token list -w prod", "GET", "/tokens", true, NULL },
		{ "token revoke tabcdefghij", "DELETE", "/tokens/tabcdefghij",
		  true, NULL },
		{ "host list", "GET", "/hosts", true, NULL },
		{ "host show habcdefghij", "GET", "/hosts/habcdefghij", true,
		  NULL },
		{ "host remove habcdefghij", "DELETE", "/hosts/habcdefghij",
		  true, NULL },
		{ "role list", "GET", "/roles", true, NULL },
		{ "role set deployer token:create token:read", "PUT",
		  "/roles/deployer", true,
		  "{\"permissions\":[\"token:create\",\"token:read\"]}" },
		{ "role set nothing", "PUT", "/roles/nothing", true,
		  "{\"permissions\":[]}" },
		{ "role delete deployer", "DELETE", "/roles/deployer", true,
		  NULL },
		{ "key list", "GET", "/v1/keys", false, NULL },
		/* a bare role is filled in with the workspace later: "" */
		{ "key create --user ci --role operator --role *:viewer --role prod:admin",
		  "POST", "/v1/keys", false,
		  "{\"user\":\"ci\",\"bindings\":[{\"workspace\":\"\",\"role\":\"operator\"},{\"workspace\":\"*\",\"role\":\"viewer\"},{\"workspace\":\"prod\",\"role\":\"admin\"}]}" },
		{ "key revoke kabcdefghij", "DELETE", "/v1/keys/kabcdefghij",
		  false, NULL },
		{ "workspace list", "GET", "/v1/workspaces", false, NULL },
		{ "workspace create edge-2", "POST", "/v1/workspaces", false,
		  "{\"name\":\"edge-2\"}" },
		{ "whoami", "GET", "/v1/whoami", false, NULL },
		{ "audit list", "GET", "/v1/audit?after=0", false, NULL },
		{ "audit list --after 41 --limit 10", "GET",
		  "/v1/audit?after=41&limit=10", false, NULL },
		{ "audit verify", "VERIFY", "", false, NULL },
		{ "ruleset list", "GET", "/rulesets", true, NULL },
		{ "ruleset show web", "GET", "/rulesets/web", true, NULL },
		{ "ruleset show --diff web", "GET", "/rulesets/web?diff=1",
		  true, NULL },
		{ "ruleset show web --version 2 --diff", "GET",
		  "/rulesets/web/versions/2?diff=1", true, NULL },
		{ "ruleset versions web", "GET", "/rulesets/web/versions", true,
		  NULL },
		{ "ruleset counters web", "GET", "/rulesets/web/counters", true,
		  NULL },
		{ "assign list", "GET", "/assignments", true, NULL },
		{ "assign add --ruleset web --selector role=web,dc=fra1 --priority 10 --mode audit --percent 25 --host habcdefghij --host hbbbbbbbbbb",
		  "POST", "/assignments", true,
		  "{\"ruleset\":\"web\",\"selector\":\"role=web,dc=fra1\",\"priority\":10,\"mode\":\"audit\",\"percent\":25,\"hosts\":[\"habcdefghij\",\"hbbbbbbbbbb\"]}" },
		{ "assign add --ruleset web --version latest", "POST",
		  "/assignments", true, "{\"ruleset\":\"web\",\"version\":0}" },
		/* set: only what is given; the rest is read before sending */
		{ "assign set aabcdefghij --percent 50", "PUT",
		  "/assignments/aabcdefghij", true, "{\"percent\":50}" },
		{ "assign set --version 3 aabcdefghij", "PUT",
		  "/assignments/aabcdefghij", true, "{\"version\":3}" },
		{ "assign delete aabcdefghij", "DELETE",
		  "/assignments/aabcdefghij", true, NULL },
		/* label: the change; the labels are merged before sending */
		{ "host label habcdefghij role=web tier=1 --remove dc", "PUT",
		  "/hosts/habcdefghij/labels", true,
		  "{\"set\":{\"role\":\"web\",\"tier\":\"1\"},\"remove\":[\"dc\"]}" },
		{ "host restore habcdefghij", "POST",
		  "/hosts/habcdefghij/restore", true, NULL },
		{ "host counters habcdefghij", "GET",
		  "/hosts/habcdefghij/counters", true, NULL },
		/* --refresh: the read after the wait (cp_refresh() asks) */
		{ "ruleset counters web --refresh", "GET",
		  "/rulesets/web/counters", true, NULL },
		{ "host counters --refresh habcdefghij --timeout 30", "GET",
		  "/hosts/habcdefghij/counters", true, NULL },
	};
	struct moatctl g;
	struct cp_req r;

	for (size_t i = 0; i < N(cases); i++) {
		print_message("%s\n", cases[i].line);
		assert_int_equal(cp_test_parse(cases[i].line, &g, &r), EXIT_OK);
		assert_non_null(r.method);
		assert_string_equal(r.method, cases[i].method);
		assert_string_equal(r.path, cases[i].path);
		assert_int_equal(r.scoped, cases[i].scoped);
		if (!cases[i].body)
			assert_null(r.body);
		else
			assert_string_equal(
				json_object_to_json_string_ext(
					r.body, JSON_C_TO_STRING_PLAIN),
				cases[i].body);
		cp_req_free(&r);
	}
}

/* The connection options after the command land in the global ones. */
static void test_connection_options(void **state)
{
	struct moatctl g;
	struct cp_req r;

	assert_int_equal(
		cp_test_parse(
			"host list --server https://cp:7444 --api-key-file /k --cacert /ca.crt -w edge -j",
			&g, &r),
		EXIT_OK);
	assert_string_equal(g.server, "https://cp:7444");
	assert_string_equal(g.api_key_file, "/k");
	assert_string_equal(g.cacert, "/ca.crt");
	assert_string_equal(g.workspace, "edge");
	assert_true(g.json);
	cp_req_free(&r);
}

/* A bare --role ROLE binds in the workspace the settings name. */
static void test_key_default_workspace(void **state)
{
	struct cp_settings s = { .workspace = "prod" };
	struct moatctl g;
	struct cp_req r;

	assert_int_equal(
		cp_test_parse(
			"key create --user ci --role operator --role edge:viewer",
			&g, &r),
		EXIT_OK);
	assert_non_null(r.prepare);
	r.prepare(&r, &s);
	assert_string_equal(
		json_object_to_json_string_ext(r.body, JSON_C_TO_STRING_PLAIN),
		"{\"user\":\"ci\",\"bindings\":[{\"workspace\":\"prod\",\"role\":\"operator\"},{\"workspace\":\"edge\",\"role\":\"viewer\"}]}");
	cp_req_free(&r);
}

static void test_bad_usage(void **state)
{
	static const char *const lines[] = {
		"token", /* no subcommand */
		"token frob",
		"token create --bogus",
		"token create --ttl 0s",
		"token create --ttl 31d", /* over the API's 30 days */
		"token create --ttl 1x",
		"token create --ttl -1h",
		"token create --uses 0",
		"token create --uses 100001",
		"token create --uses 1e3",
		"token create --label novalue",
		"token create --label =v",
		"token create --label a=1 --label a=2", /* twice */
		"token create extra",
		"token list extra",
		"token revoke",
		"token revoke a b",
		"token revoke ../../keys", /* not an id: no path tricks */
		"token revoke T123",
		"host show",
		"host remove h/x",
		"host list --verbose",
		"role set",
		"role set Admin token:read", /* names are lowercase */
		"role set ops token",
		"role set ops token:",
		"role set ops :read",
		"role set ops TOKEN:READ",
		"role delete",
		"key create --user ci", /* no --role */
		"key create --role admin", /* no --user */
		"key create --user -x --role admin",
		"key create --user ci --role bad:ws:admin",
		"key create --user ci --role BAD:admin",
		"key create --user ci --role ws:",
		"key revoke",
		"workspace create",
		"workspace create -bad",
		"workspace create Bad",
		"workspace create a_b",
		"workspace list x",
		"whoami x",
		"audit",
		"audit show",
		"audit list --after -1",
		"audit list --after x",
		"audit list --limit 0",
		"audit list --limit 100001",
		"audit verify now",
		"ruleset frob",
		"ruleset push web", /* no FILE */
		"ruleset push Bad_Name /dev/null",
		"ruleset push web /dev/null extra",
		"ruleset list x",
		"ruleset show",
		"ruleset show web --version 0",
		"ruleset show web --version x",
		"ruleset show web other",
		"ruleset versions",
		"ruleset counters a b",
		"ruleset counters ../x",
		"assign add", /* no --ruleset */
		"assign add --ruleset web --mode block",
		"assign add --ruleset web --percent 101",
		"assign add --ruleset web --priority -1",
		"assign add --ruleset web --version x",
		"assign add --ruleset web --host ../x",
		"assign add --ruleset Bad",
		"assign add --ruleset web extra",
		"assign set", /* no ID */
		"assign set a/b --percent 1",
		"assign set aabcdefghij abbbbbbbbbb",
		"assign delete",
		"assign frob",
		"host label habcdefghij", /* nothing to change */
		"host label habcdefghij novalue",
		"host label habcdefghij --remove a=b",
		"host label h/x a=b",
		"host label",
		"host restore",
		"host counters a b",
		"ruleset counters web --timeout 5", /* without --refresh */
		"ruleset counters web --refresh --timeout 0",
		"ruleset counters web --refresh --timeout 3601",
		"ruleset counters web --refresh --timeout 1s",
		"ruleset counters --refresh",
		"host counters habcdefghij --refresh --timeout x",
		"host counters --refresh",
	};
	struct moatctl g;
	struct cp_req r;

	for (size_t i = 0; i < N(lines); i++) {
		print_message("%s\n", lines[i]);
		assert_int_equal(cp_test_parse(lines[i], &g, &r), EXIT_USAGE);
		cp_req_free(&r);
	}
}

/* --help is success, and builds no request. */
static void test_help(void **state)
{
	static const char *const lines[] = {
		"token --help",
		"token create -h",
		"host help",
		"role list --help",
		"key create -h",
		"whoami -h",
		"audit verify -h",
		"ruleset push -h",
		"ruleset show -h",
		"assign add -h",
		"assign -h",
		"host label -h",
		"host counters -h",
		"ruleset counters -h",
		"ruleset counters web --refresh -h",
	};
	struct moatctl g;
	struct cp_req r;

	for (size_t i = 0; i < N(lines); i++) {
		assert_int_equal(cp_test_parse(lines[i], &g, &r), EXIT_OK);
		assert_null(r.method);
		cp_req_free(&r);
	}
}

/* push reads FILE into the body: the text as it is, newlines and all. */
static void test_ruleset_push(void **state)
{
	static const char text[] = "policy drop\n\tallow ssh tcp dport 22\n";
	char path[] = "/tmp/test-cp-args.XXXXXX", line[128];
	struct moatctl g;
	struct cp_req r;
	json_object *t;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(line, sizeof(line), "ruleset push web %s", path);
	assert_int_equal(cp_test_parse(line, &g, &r), EXIT_OK);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/rulesets/web");
	assert_true(json_object_object_get_ex(r.body, "text", &t));
	assert_string_equal(json_object_get_string(t), text);
	cp_req_free(&r);
	unlink(path);
	/* a file that is not there: said, exit 1, before any request */
	assert_int_equal(cp_test_parse(line, &g, &r), EXIT_USER);
	cp_req_free(&r);
}

static void test_labels(void **state)
{
	static const struct {
		const char *text, *key, *value; /* key NULL: refused */
	} cases[] = {
		{ "role=web", "role", "web" },
		{ "a=", "a", "" }, /* an empty value is a value */
		{ "k8s.io/zone=eu-1", "k8s.io/zone", "eu-1" },
		{ "x=a=b", "x", "a=b" }, /* the first '=' splits */
		{ "Env=Prod 1", "Env", "Prod 1" },
		{ "role", NULL, NULL },
		{ "=web", NULL, NULL },
		{ ".a=b", NULL, NULL },
		{ "a b=c", NULL, NULL },
		{ "a=b\tc", NULL, NULL },
		/* 64 characters: one over */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		  NULL, NULL },
	};
	const char *value, *why;
	char key[64];

	for (size_t i = 0; i < N(cases); i++) {
		int ret = cp_label_parse(cases[i].text, key, sizeof(key),
					 &value, &why);

		print_message("%s\n", cases[i].text);
		if (!cases[i].key) {
			assert_int_equal(ret, -1);
			assert_non_null(why);
			continue;
		}
		assert_int_equal(ret, 0);
		assert_string_equal(key, cases[i].key);
		assert_string_equal(value, cases[i].value);
	}
}

/* --refresh asks and waits before the read: the hook and its timeout. */
static void test_refresh(void **state)
{
	static const struct {
		const char *line;
		bool refresh;
		unsigned timeout;
	} cases[] = {
		{ "ruleset counters web", false, 0 },
		{ "ruleset counters web --refresh", true, CP_REFRESH_TIMEOUT },
		{ "ruleset counters --timeout 3600 --refresh web", true, 3600 },
		{ "host counters habcdefghij", false, 0 },
		{ "host counters habcdefghij --refresh --timeout 1", true, 1 },
		{ "host counters habcdefghij --refresh -j", true, 5 },
	};
	struct moatctl g;
	struct cp_req r;

	for (size_t i = 0; i < N(cases); i++) {
		print_message("%s\n", cases[i].line);
		assert_int_equal(cp_test_parse(cases[i].line, &g, &r), EXIT_OK);
		if (cases[i].refresh)
			assert_ptr_equal(r.prepare, cp_refresh);
		else
			assert_null(r.prepare);
		assert_int_equal(r.timeout, cases[i].timeout);
		cp_req_free(&r);
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_connection_options),
		cmocka_unit_test(test_key_default_workspace),
		cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_ruleset_push),
		cmocka_unit_test(test_refresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
