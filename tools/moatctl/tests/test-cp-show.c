// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the control-plane commands print for people, from canned replies
 * shaped as the operator API's table says, and --json, which is the reply
 * as it came.  A field the reply lacks prints "-", never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* before cmocka.h, whose fail() macro would rename moatctl's fail() */
#include "cp-parse.h"
#include "cp.h"

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* 2026-11-28 12:00:00 UTC */
#define NOW 1795867200

/* Print @reply as @line's command would; the text, to free. */
static char *show(const char *line, const char *reply)
{
	json_object *o = json_tokener_parse(reply);
	struct moatctl g;
	struct cp_req r;
	char *buf = NULL;
	size_t len;
	FILE *f;

	assert_non_null(o);
	assert_int_equal(cp_test_parse(line, &g, &r), EXIT_OK);
	assert_non_null(r.print);
	strcpy(r.workspace, "default");
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	r.print(&r, o, f, NOW);
	fclose(f);
	cp_req_free(&r);
	json_object_put(o);
	return buf;
}

static void expect(const char *line, const char *reply, const char *want)
{
	char *got = show(line, reply);

	print_message("%s\n", line);
	assert_string_equal(got, want);
	free(got);
}

static void test_hosts(void **state)
{
	expect("host list",
	       "[{\"id\":\"habcdefghij\",\"hostname\":\"web1\",\"state\":\"healthy\","
	       "\"last_seen\":1795867188,\"agent_version\":\"0.1.0\","
	       "\"labels\":{\"role\":\"web\",\"dc\":\"fra1\"},"
	       "\"dataplane\":{\"generation\":12}},"
	       "{\"id\":\"hbbbbbbbbbb\",\"hostname\":\"db1\",\"state\":\"offline\","
	       "\"last_seen\":1795863600,\"agent_version\":\"0.1.0\",\"labels\":{},"
	       "\"dataplane\":{\"generation\":3}},"
	       /* never heard: no dataplane, no version yet */
	       "{\"id\":\"hcccccccccc\",\"hostname\":\"new\",\"state\":\"pending\","
	       "\"last_seen\":0,\"removed\":false},"
	       "{\"id\":\"hdddddddddd\",\"hostname\":\"old\",\"state\":\"offline\","
	       "\"last_seen\":1795780800,\"removed\":true}]",
	       "ID           HOSTNAME  STATE    LAST-SEEN  VERSION  GEN  LABELS\n"
	       "habcdefghij  web1      healthy  12s ago    0.1.0     12  dc=fra1,role=web\n"
	       "hbbbbbbbbbb  db1       offline  1h00m ago  0.1.0      3  -\n"
	       "hcccccccccc  new       pending  never      -          -  -\n"
	       "hdddddddddd  old       removed  1d00h ago  -          -  -\n");
	expect("host list", "[]", "no hosts in workspace default\n");
	expect("host show habcdefghij",
	       "{\"id\":\"habcdefghij\",\"hostname\":\"web1\",\"machine_id\":\"5f3c\","
	       "\"labels\":{\"role\":\"web\"},\"state\":\"stale\","
	       "\"first_seen\":1795780800,\"last_seen\":1795867140,"
	       "\"agent_version\":\"0.1.0\",\"kernel\":\"6.8.0\",\"uptime\":7384,"
	       "\"cert_not_after\":1795953600,\"address\":\"10.0.0.5:51000\","
	       "\"dataplane\":{\"instance\":\"default\",\"generation\":12,"
	       "\"ruleset_hash\":\"0123456789abcdef0123\",\"interfaces\":["
	       "{\"name\":\"eth0\",\"mode\":\"native\"},{\"name\":\"eth1\",\"mode\":\"generic\"}],"
	       "\"ct_entries\":40,\"ct_max\":65536,\"state\":\"enforcing\"},"
	       "\"removed\":false}",
	       "id:             habcdefghij\n"
	       "hostname:       web1\n"
	       "state:          stale\n"
	       "labels:         role=web\n"
	       "machine id:     5f3c\n"
	       "address:        10.0.0.5:51000\n"
	       "first seen:     2026-11-27 12:00:00Z (1d00h ago)\n"
	       "last seen:      2026-11-28 11:59:00Z (1m00s ago)\n"
	       "agent version:  0.1.0\n"
	       "kernel:         6.8.0\n"
	       "uptime:         2h03m\n"
	       "cert expires:   2026-11-29 12:00:00Z (in 1d00h)\n"
	       "dataplane:      enforcing, instance default, generation 12, ruleset 0123456789ab\n"
	       "interfaces:     eth0 (native), eth1 (generic)\n"
	       "conntrack:      40 of 65536 flows\n");
	/* a pending host: nothing heard yet */
	expect("host show hcccccccccc",
	       "{\"id\":\"hcccccccccc\",\"state\":\"pending\"}",
	       "id:             hcccccccccc\n"
	       "hostname:       -\n"
	       "state:          pending\n"
	       "labels:         -\n"
	       "machine id:     -\n"
	       "address:        -\n"
	       "first seen:     - (never)\n"
	       "last seen:      - (never)\n"
	       "agent version:  -\n"
	       "kernel:         -\n"
	       "uptime:         -\n"
	       "cert expires:   - (never)\n"
	       "dataplane:      -\n");
	expect("host remove habcdefghij",
	       "{\"id\":\"habcdefghij\",\"hostname\":\"web1\",\"removed\":true}",
	       "host habcdefghij (web1) removed from workspace default\n");
}

static void test_tokens(void **state)
{
	expect("token list",
	       "[{\"id\":\"taaaaaaaaaa\",\"description\":\"edge rollout\","
	       "\"created\":1795863600,\"created_by\":\"admin\","
	       "\"expires\":1795870800,\"uses\":1,\"max_uses\":10,"
	       "\"labels\":{\"role\":\"edge\"},\"revoked\":false,\"state\":\"valid\"},"
	       "{\"id\":\"tbbbbbbbbbb\",\"description\":\"\",\"created\":1795780800,"
	       "\"created_by\":\"ci\",\"expires\":1795784400,\"uses\":0,"
	       "\"max_uses\":1,\"labels\":{},\"revoked\":false,\"state\":\"expired\"}]",
	       "ID           STATE    USES  EXPIRES     CREATED-BY  LABELS     DESCRIPTION\n"
	       "taaaaaaaaaa  valid    1/10  in 1h00m    admin       role=edge  edge rollout\n"
	       "tbbbbbbbbbb  expired   0/1  23h00m ago  ci          -          -\n");
	expect("token list", "[]", "no tokens in workspace default\n");
	expect("token create --ttl 1h",
	       "{\"id\":\"taaaaaaaaaa\",\"description\":\"\",\"created\":1795867200,"
	       "\"created_by\":\"admin\",\"expires\":1795870800,\"uses\":0,"
	       "\"max_uses\":1,\"labels\":{\"b\":\"2\",\"a\":\"1\"},\"revoked\":false,"
	       "\"state\":\"valid\",\"token\":\"moat-tok-SECRET\"}",
	       "id:          taaaaaaaaaa\n"
	       "workspace:   default\n"
	       "state:       valid\n"
	       "expires:     2026-11-28 13:00:00Z (in 1h00m)\n"
	       "used:        0 of 1\n"
	       "labels:      a=1,b=2\n"
	       "description: -\n"
	       "token:       moat-tok-SECRET\n");
	/* revoke shows the record, and no secret: the reply has none */
	expect("token revoke taaaaaaaaaa",
	       "{\"id\":\"taaaaaaaaaa\",\"expires\":1795870800,\"uses\":0,"
	       "\"max_uses\":1,\"state\":\"revoked\"}",
	       "id:          taaaaaaaaaa\n"
	       "workspace:   default\n"
	       "state:       revoked\n"
	       "expires:     2026-11-28 13:00:00Z (in 1h00m)\n"
	       "used:        0 of 1\n"
	       "labels:      -\n"
	       "description: -\n");
}

static void test_roles_keys(void **state)
{
	expect("role list",
	       "[{\"name\":\"admin\",\"permissions\":[\"token:create\",\"host:read\"],"
	       "\"builtin\":true},{\"name\":\"deployer\",\"permissions\":[],"
	       "\"builtin\":false}]",
	       "NAME      BUILTIN  PERMISSIONS\n"
	       "admin     yes      token:create host:read\n"
	       "deployer  no       -\n");
	expect("role set deployer token:create",
	       "{\"name\":\"deployer\",\"permissions\":[\"token:create\"],\"builtin\":false}",
	       "role deployer in workspace default: token:create\n");
	expect("role delete deployer", "{}",
	       "role deployer deleted from workspace default\n");
	expect("key list",
	       "[{\"id\":\"kaaaaaaaaaa\",\"user\":\"admin\",\"created\":1795780800,"
	       "\"revoked\":false,\"bindings\":[{\"workspace\":\"*\",\"role\":\"admin\"}]},"
	       "{\"id\":\"kbbbbbbbbbb\",\"user\":\"ci\",\"created\":1795863600,"
	       "\"revoked\":true,\"bindings\":[{\"workspace\":\"default\",\"role\":\"operator\"},"
	       "{\"workspace\":\"edge\",\"role\":\"viewer\"}]}]",
	       "ID           USER   CREATED               REVOKED  BINDINGS\n"
	       "kaaaaaaaaaa  admin  2026-11-27 12:00:00Z  no       *:admin\n"
	       "kbbbbbbbbbb  ci     2026-11-28 11:00:00Z  yes      default:operator,edge:viewer\n");
	expect("key create --user ci --role operator",
	       "{\"id\":\"kbbbbbbbbbb\",\"user\":\"ci\",\"created\":1795867200,"
	       "\"revoked\":false,\"bindings\":[{\"workspace\":\"default\",\"role\":\"operator\"}],"
	       "\"key\":\"moat-key-kbbbbbbbbbb-SECRET\"}",
	       "id:          kbbbbbbbbbb\n"
	       "user:        ci\n"
	       "bindings:    default:operator\n"
	       "key:         moat-key-kbbbbbbbbbb-SECRET\n");
	expect("key revoke kbbbbbbbbbb", "{}", "key kbbbbbbbbbb revoked\n");
	expect("whoami",
	       "{\"key_id\":\"kaaaaaaaaaa\",\"user\":\"admin\","
	       "\"bindings\":[{\"workspace\":\"*\",\"role\":\"admin\"}]}",
	       "key:         kaaaaaaaaaa\n"
	       "user:        admin\n"
	       "bindings:    *:admin\n");
}

static void test_workspaces_audit(void **state)
{
	expect("workspace list",
	       "[{\"id\":\"waaaaaaaaaa\",\"name\":\"default\",\"created\":1795780800,"
	       "\"ca_fingerprint\":\"sha256:ab12\"}]",
	       "ID           NAME     CREATED               CA-FINGERPRINT\n"
	       "waaaaaaaaaa  default  2026-11-27 12:00:00Z  sha256:ab12\n");
	expect("workspace create edge",
	       "{\"id\":\"wbbbbbbbbbb\",\"name\":\"edge\",\"created\":1795867200,"
	       "\"ca_fingerprint\":\"sha256:cd34\"}",
	       "id:              wbbbbbbbbbb\n"
	       "name:            edge\n"
	       "ca fingerprint:  sha256:cd34\n");
	expect("audit list",
	       "[{\"seq\":9,\"time\":1795867190,\"actor\":\"key:kbbbbbbbbbb/ci\","
	       "\"source\":\"127.0.0.1:40122\",\"action\":\"auth.deny\","
	       "\"workspace\":\"waaaaaaaaaa\",\"target\":\"\","
	       "\"result\":\"denied: missing host:remove\",\"detail\":\"{}\","
	       "\"prev\":\"00\",\"hash\":\"11\"},"
	       "{\"seq\":10,\"time\":1795867195,\"actor\":\"host:hcccccccccc\","
	       "\"source\":\"10.0.0.5:51000\",\"action\":\"host.renew\","
	       "\"workspace\":\"waaaaaaaaaa\",\"target\":\"hcccccccccc\","
	       "\"result\":\"ok\",\"detail\":\"{}\",\"prev\":\"11\",\"hash\":\"22\"}]",
	       "SEQ  TIME                  ACTOR               ACTION      WORKSPACE    TARGET       RESULT                       SOURCE\n"
	       "  9  2026-11-28 11:59:50Z  key:kbbbbbbbbbb/ci  auth.deny   waaaaaaaaaa  -            denied: missing host:remove  127.0.0.1:40122\n"
	       " 10  2026-11-28 11:59:55Z  host:hcccccccccc    host.renew  waaaaaaaaaa  hcccccccccc  ok                           10.0.0.5:51000\n");
	expect("audit list", "[]", "no audit records\n");
}

/* A reply of the wrong shape says so, and prints no table. */
static void test_wrong_shape(void **state)
{
	expect("host list", "{\"error\":\"?\"}", "");
	expect("role list", "\"x\"", "");
}

/* Cells that do not fit end in "..."; ages either side of now. */
static void test_cells(void **state)
{
	json_object *labels = json_tokener_parse(
		"{\"zone\":\"eu-west-1\",\"role\":\"web\",\"dc\":\"fra1\"}");
	char buf[16];

	cp_labels(buf, sizeof(buf), labels);
	/* sorted: dc=fra1,role=web,zone=... cut to 15 bytes */
	assert_string_equal(buf, "dc=fra1,role...");
	cp_labels(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "-");
	json_object_put(labels);
	cp_ago(buf, sizeof(buf), NOW, NOW);
	assert_string_equal(buf, "0s ago");
	cp_ago(buf, sizeof(buf), NOW + 90, NOW);
	assert_string_equal(buf, "in 1m30s");
	cp_ago(buf, sizeof(buf), 0, NOW);
	assert_string_equal(buf, "never");
	cp_time(buf, sizeof(buf), 0);
	assert_string_equal(buf, "-");
}

/* --json: the reply as it came, one line. */
static void test_json(void **state)
{
	static const char *const replies[] = {
		"[{\"id\":\"habcdefghij\",\"labels\":{\"a/b\":\"c\"},\"uptime\":5}]",
		"{\"token\":\"moat-tok-x\",\"labels\":{}}",
		"[]",
	};

	for (size_t i = 0; i < N(replies); i++) {
		json_object *o = json_tokener_parse(replies[i]);
		char *buf = NULL, want[256];
		size_t len;
		FILE *f = open_memstream(&buf, &len);

		assert_non_null(o);
		assert_non_null(f);
		cp_print_json(o, f);
		fclose(f);
		snprintf(want, sizeof(want), "%s\n", replies[i]);
		assert_string_equal(buf, want);
		free(buf);
		json_object_put(o);
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_roles_keys),
		cmocka_unit_test(test_workspaces_audit),
		cmocka_unit_test(test_wrong_shape),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_json),
	};

	/* cp_time() prints UTC whatever TZ says; ages use the NOW above */
	setenv("TZ", "America/New_York", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
