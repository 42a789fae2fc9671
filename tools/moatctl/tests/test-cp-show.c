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
	       "\"dataplane\":{\"generation\":12},\"config\":\"converged\","
	       "\"applied_generation\":4,\"desired_generation\":4},"
	       "{\"id\":\"hbbbbbbbbbb\",\"hostname\":\"db1\",\"state\":\"offline\","
	       "\"last_seen\":1795863600,\"agent_version\":\"0.1.0\",\"labels\":{},"
	       "\"dataplane\":{\"generation\":3},\"config\":\"failing\","
	       "\"applied_generation\":2,\"desired_generation\":3},"
	       /* never heard: no dataplane, no version yet */
	       "{\"id\":\"hcccccccccc\",\"hostname\":\"new\",\"state\":\"pending\","
	       "\"last_seen\":0,\"removed\":false},"
	       "{\"id\":\"hdddddddddd\",\"hostname\":\"old\",\"state\":\"offline\","
	       "\"last_seen\":1795780800,\"removed\":true}]",
	       /* GEN: the declared generation, applied/desired; CONFIG "-":
		* a control plane from before declared configuration */
	       "ID           HOSTNAME  STATE    CONFIG     LAST-SEEN  VERSION  GEN  LABELS\n"
	       "habcdefghij  web1      healthy  converged  12s ago    0.1.0    4/4  dc=fra1,role=web\n"
	       "hbbbbbbbbbb  db1       offline  failing    1h00m ago  0.1.0    2/3  -\n"
	       "hcccccccccc  new       pending  -          never      -          -  -\n"
	       "hdddddddddd  old       removed  -          1d00h ago  -          -  -\n");
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
	       "\"removed\":false,\"config\":\"failing\",\"desired_generation\":5,"
	       "\"applied_generation\":4,\"apply_error\":\"over capacity: 70000 rules, at most 65536\","
	       "\"ruleset\":{\"name\":\"web\",\"version\":3,\"mode\":\"audit\"}}",
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
	       "conntrack:      40 of 65536 flows\n"
	       "config:         failing\n"
	       "generation:     applied 4, desired 5\n"
	       "ruleset:        web version 3, audit\n"
	       "apply error:    over capacity: 70000 rules, at most 65536\n");
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
	       "dataplane:      -\n"
	       "config:         -\n"
	       "generation:     applied 0, desired 0\n"
	       "ruleset:        -\n");
	expect("host remove habcdefghij",
	       "{\"id\":\"habcdefghij\",\"hostname\":\"web1\",\"removed\":true}",
	       "host habcdefghij (web1) removed from workspace default\n");
}

static void test_declared(void **state)
{
	expect("host label habcdefghij role=web",
	       "{\"id\":\"habcdefghij\",\"labels\":{\"role\":\"web\",\"dc\":\"fra1\"},"
	       "\"config\":\"pending\",\"desired_generation\":2,"
	       "\"applied_generation\":1,\"apply_error\":\"\",\"ruleset\":null}",
	       "labels:         dc=fra1,role=web\n"
	       "config:         pending\n"
	       "generation:     applied 1, desired 2\n"
	       "ruleset:        -\n");
	expect("host restore habcdefghij",
	       "{\"id\":\"habcdefghij\",\"connected\":true,\"desired_generation\":7}",
	       "host habcdefghij: desired generation 7 sent again\n");
	expect("host counters habcdefghij",
	       "{\"host_id\":\"habcdefghij\",\"generation\":7,\"ruleset_hash\":"
	       "\"0123456789abcdef\",\"time\":1795867140,\"rules\":["
	       "{\"name\":\"ssh\",\"packets\":12,\"bytes\":720},"
	       "{\"name\":\"(policy)\",\"packets\":3,\"bytes\":180}]}",
	       "host habcdefghij: generation 7, ruleset 0123456789ab, reported 1m00s ago\n"
	       "RULE      PACKETS  BYTES\n"
	       "ssh            12    720\n"
	       "(policy)        3    180\n");
	expect("host counters habcdefghij",
	       "{\"host_id\":\"habcdefghij\",\"generation\":7,\"ruleset_hash\":"
	       "\"0123456789abcdef\",\"time\":1795867140,\"connected\":true,"
	       "\"pending\":true,\"rules\":[]}",
	       "host habcdefghij: generation 7, ruleset 0123456789ab, reported 1m00s ago (asked again, not answered)\n"
	       "RULE  PACKETS  BYTES\n");
	expect("host counters habcdefghij", "{\"time\":0,\"rules\":[]}",
	       "host habcdefghij has not reported counters\n");
	expect("ruleset list",
	       "[{\"name\":\"web\",\"version\":2,\"sha256\":\"37cebf5ff4c2cee3\","
	       "\"author\":\"key:kabcdefghij/admin\",\"created\":1795863600,\"rules\":2}]",
	       "NAME  VERSION  RULES  SHA256        AUTHOR                 CREATED\n"
	       "web         2      2  37cebf5ff4c2  key:kabcdefghij/admin  1h00m ago\n");
	expect("ruleset list", "[]", "no rulesets in workspace default\n");
	expect("ruleset push web /dev/null",
	       "{\"name\":\"web\",\"version\":2,\"sha256\":\"37cebf5ff4c2cee3\",\"rules\":2,"
	       "\"unchanged\":false,\"diagnostics\":[\"web:4:1: warning: rule 'b' is shadowed by 'a'\"],"
	       "\"diff\":\"--- web@v1\\n+++ web@v2\\n@@ -1 +1 @@\\n-policy allow\\n+policy drop\\n\"}",
	       "web:4:1: warning: rule 'b' is shadowed by 'a'\n"
	       "ruleset web: version 2 (2 rules, sha256 37cebf5ff4c2)\n"
	       "--- web@v1\n+++ web@v2\n@@ -1 +1 @@\n-policy allow\n+policy drop\n");
	expect("ruleset push web /dev/null",
	       "{\"name\":\"web\",\"version\":2,\"unchanged\":true,\"diff\":\"\"}",
	       "ruleset web: unchanged, still version 2\n");
	expect("ruleset show web",
	       "{\"name\":\"web\",\"version\":1,\"sha256\":\"ab\",\"author\":\"key:k/a\","
	       "\"created\":1795863600,\"rules\":0,\"text\":\"policy allow\\n\"}",
	       "name:     web\n"
	       "version:  1\n"
	       "rules:    0\n"
	       "sha256:   ab\n"
	       "author:   key:k/a\n"
	       "created:  2026-11-28 11:00:00Z (1h00m ago)\n"
	       "\n"
	       "policy allow\n");
	expect("ruleset counters web",
	       "{\"ruleset\":\"web\",\"hosts\":4,\"rules\":["
	       "{\"name\":\"ssh\",\"action\":\"allow\",\"packets\":100,\"bytes\":10000,"
	       "\"hosts\":4,\"top\":[{\"host_id\":\"hdddddddddd\",\"packets\":40},"
	       "{\"host_id\":\"hbbbbbbbbbb\",\"packets\":30}]},"
	       "{\"name\":\"gone\",\"action\":\"\",\"packets\":0,\"bytes\":0,\"top\":[]}]}",
	       "ruleset web: 4 hosts reporting\n"
	       "RULE  ACTION  PACKETS  BYTES  TOP-HOSTS\n"
	       "ssh   allow       100  10000  hdddddddddd (40), hbbbbbbbbbb (30)\n"
	       "gone  -             0      0  -\n");
	/* the oldest of the reports, and those asked that owe an answer */
	expect("ruleset counters web",
	       "{\"ruleset\":\"web\",\"hosts\":3,\"reports\":["
	       "{\"host_id\":\"haaaaaaaaaa\",\"time\":1795867195,\"pending\":false},"
	       "{\"host_id\":\"hbbbbbbbbbb\",\"time\":1795866900,\"pending\":true},"
	       "{\"host_id\":\"hcccccccccc\",\"time\":1795867100,\"pending\":true}],"
	       "\"rules\":[{\"name\":\"ssh\",\"action\":\"allow\",\"packets\":3,"
	       "\"bytes\":180,\"hosts\":3,\"top\":[]}]}",
	       "ruleset web: 3 hosts reporting, the oldest report 5m00s ago, 2 asked and not answered\n"
	       "RULE  ACTION  PACKETS  BYTES  TOP-HOSTS\n"
	       "ssh   allow         3    180  -\n");
	expect("ruleset counters web",
	       "{\"ruleset\":\"web\",\"hosts\":0,\"rules\":[]}",
	       "ruleset web: 0 hosts reporting\n"
	       "no host has reported counters of ruleset web\n");
	expect("assign list",
	       "[{\"id\":\"aabcdefghij\",\"ruleset\":\"web\",\"version\":0,"
	       "\"selector\":\"role=web\",\"priority\":10,\"mode\":\"audit\","
	       "\"percent\":25,\"hosts\":[\"habcdefghij\"]},"
	       "{\"id\":\"abbbbbbbbbb\",\"ruleset\":\"base\",\"version\":3,"
	       "\"selector\":\"\",\"priority\":100,\"mode\":\"enforce\","
	       "\"percent\":100,\"hosts\":[]}]",
	       "ID           PRIO  RULESET  VERSION  MODE     PERCENT  SELECTOR  HOSTS\n"
	       "aabcdefghij    10  web      latest   audit        25%  role=web      1\n"
	       "abbbbbbbbbb   100  base     3        enforce     100%  -             0\n");
	expect("assign add --ruleset web",
	       "{\"id\":\"aabcdefghij\",\"ruleset\":\"web\",\"version\":0,"
	       "\"selector\":\"\",\"priority\":100,\"mode\":\"enforce\","
	       "\"percent\":0,\"hosts\":[\"habcdefghij\",\"hbbbbbbbbbb\"]}",
	       "id:        aabcdefghij\n"
	       "ruleset:   web\n"
	       "version:   latest\n"
	       "selector:  -\n"
	       "priority:  100\n"
	       "mode:      enforce\n"
	       "percent:   0%\n"
	       "hosts:     habcdefghij, hbbbbbbbbbb\n");
	expect("assign delete aabcdefghij",
	       "{\"id\":\"aabcdefghij\",\"deleted\":true}",
	       "assignment aabcdefghij deleted from workspace default\n");
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

/*
 * Which hosts --refresh still waits for: pending, reported before the
 * request (time 100), or absent from the reply (their answer was of
 * another ruleset, or none came).
 */
static void test_refresh_waiting(void **state)
{
	json_object *reply = json_tokener_parse(
		"{\"reports\":["
		"{\"host_id\":\"ha\",\"time\":100,\"pending\":false},"
		"{\"host_id\":\"hb\",\"time\":101,\"pending\":false},"
		"{\"host_id\":\"hc\",\"time\":101,\"pending\":true},"
		"{\"host_id\":\"hd\",\"time\":99,\"pending\":false}]}");
	json_object *asked =
		json_tokener_parse("[\"ha\",\"hb\",\"hc\",\"hd\",\"he\"]");
	json_object *host = json_tokener_parse(
		"{\"host_id\":\"ha\",\"time\":100,\"pending\":false}");
	json_object *one = json_tokener_parse("[\"ha\"]");
	json_object *left = json_object_new_array();

	assert_int_equal(cp_refresh_waiting(reply, asked, 100, left), 3);
	assert_string_equal(
		json_object_to_json_string_ext(left, JSON_C_TO_STRING_PLAIN),
		"[\"hc\",\"hd\",\"he\"]");
	/* a report in the second of the request counts: it came after it */
	assert_int_equal(cp_refresh_waiting(reply, asked, 99, NULL), 2);
	assert_int_equal(cp_refresh_waiting(reply, asked, 102, NULL), 5);
	/* one host's counters: the reply is its report */
	assert_int_equal(cp_refresh_waiting(host, one, 100, NULL), 0);
	assert_int_equal(cp_refresh_waiting(host, one, 101, NULL), 1);
	json_object_object_add(host, "pending", json_object_new_boolean(1));
	assert_int_equal(cp_refresh_waiting(host, one, 100, NULL), 1);
	json_object_put(reply);
	json_object_put(asked);
	json_object_put(host);
	json_object_put(one);
	json_object_put(left);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_declared),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_roles_keys),
		cmocka_unit_test(test_workspaces_audit),
		cmocka_unit_test(test_wrong_shape),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_refresh_waiting),
	};

	/* cp_time() prints UTC whatever TZ says; ages use the NOW above */
	setenv("TZ", "America/New_York", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
