// SPDX-License-Identifier: GPL-2.0-only
/* moatd's config parser: what it takes, and exactly what it says when not. */
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

#include "config.h"
#include "log.h"

#define F "/etc/moat/moatd.conf"
#define MIN "interfaces eth0\nruleset /etc/moat/ruleset\n"
#define BAD_INSTANCE                                                          \
	":3:10: bad instance name (1-32 of A-Z a-z 0-9 _ . -, starting with " \
	"a letter or digit): "
#define PIN "sha256:abababababababababababababababababababababababababababababababab"
#define BAD_IFACE "bad interface name (1-15 bytes, no '/', ':' or spaces): "

static void parse_ok(const char *text, struct agent_config *c)
{
	struct config_errors errs;
	int ret = config_parse(text, strlen(text), F, c, &errs);

	for (int i = 0; i < errs.n; i++)
		print_message("unexpected: %s\n", errs.msg[i]);
	assert_int_equal(ret, 0);
	assert_int_equal(errs.n, 0);
}

static void test_defaults(void **state)
{
	struct agent_config c;

	parse_ok(MIN, &c);
	assert_string_equal(c.instance, "default");
	assert_int_equal(c.nifaces, 1);
	assert_string_equal(c.ifaces[0], "eth0");
	assert_string_equal(c.ruleset, "/etc/moat/ruleset");
	assert_string_equal(c.bpffs, "/sys/fs/bpf");
	assert_string_equal(c.socket, "/run/moat/default.sock");
	assert_string_equal(c.state_dir, "/var/lib/moat/default");
	assert_int_equal(c.capacity, MOAT_DEFAULT_CAPACITY);
	assert_int_equal(c.xdp_mode, MOAT_XDP_AUTO);
	assert_int_equal(c.xdp_attach, MOAT_ATTACH_ENTRY);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_true(c.ct.enabled);
	assert_int_equal(c.ct.max, MOAT_CT_DEFAULT_MAX);
	for (int i = 0; i < MOAT_CTT_MAX; i++)
		assert_int_equal(c.ct.timeout_s[i], 0); /* the data plane's defaults */
	assert_string_equal(c.path, F);
}

static void test_every_key(void **state)
{
	struct agent_config c;

	parse_ok("# a comment\n"
		 "\n"
		 "  instance ns-1.a_b   # trailing comment\n"
		 "interfaces\teth0 ,veth-a, wg0\r\n"
		 "ruleset rules/web.rules\n"
		 "bpffs /mnt/bpf\n"
		 "socket /tmp/m.sock\n"
		 "state-dir /var/tmp/moat x\n"
		 "capacity 1048576\n"
		 "xdp-mode generic\n"
		 "xdp-attach auto\n"
		 "conntrack no\n"
		 "conntrack-max 2048\n"
		 "conntrack-timeout tcp-established=3600, udp=5,icmp=1 \n"
		 "log-level debug",
		 &c);
	assert_false(c.ct.enabled);
	assert_int_equal(c.ct.max, 2048);
	assert_int_equal(c.ct.timeout_s[MOAT_CTT_TCP_ESTABLISHED], 3600);
	assert_int_equal(c.ct.timeout_s[MOAT_CTT_UDP], 5);
	assert_int_equal(c.ct.timeout_s[MOAT_CTT_ICMP], 1);
	assert_int_equal(c.ct.timeout_s[MOAT_CTT_TCP_SYN], 0);
	assert_string_equal(c.instance, "ns-1.a_b");
	assert_int_equal(c.nifaces, 3);
	assert_string_equal(c.ifaces[0], "eth0");
	assert_string_equal(c.ifaces[1], "veth-a");
	assert_string_equal(c.ifaces[2], "wg0");
	/* relative to the config file's directory */
	assert_string_equal(c.ruleset, "/etc/moat/rules/web.rules");
	assert_string_equal(c.bpffs, "/mnt/bpf");
	assert_string_equal(c.socket, "/tmp/m.sock");
	/* a path is the rest of the line: spaces and all */
	assert_string_equal(c.state_dir, "/var/tmp/moat x");
	assert_int_equal(c.capacity, 1048576);
	assert_int_equal(c.xdp_mode, MOAT_XDP_GENERIC);
	assert_int_equal(c.xdp_attach, MOAT_ATTACH_AUTO);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
}

static void test_controlplane(void **state)
{
	static const struct {
		const char *text;
		const char *host;
		unsigned port;
	} cases[] = {
		{ "controlplane cp.example.org\n", "cp.example.org", 7443 },
		{ "controlplane 10.1.2.3:9443\n", "10.1.2.3", 9443 },
		{ "controlplane [fd00::1]:8443\n", "fd00::1", 8443 },
		{ "controlplane fd00::1\n", "fd00::1", 7443 },
	};
	struct agent_config c;
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 MIN "%scontrolplane-ca " PIN "\n"
			     "install-token-file token\nuser nobody\n",
			 cases[i].text);
		parse_ok(text, &c);
		assert_string_equal(c.cp_host, cases[i].host);
		assert_int_equal(c.cp_port, cases[i].port);
		assert_string_equal(c.cp_pin, PIN);
		/* relative to the config file's directory, as the ruleset */
		assert_string_equal(c.token_file, "/etc/moat/token");
		assert_string_equal(c.user, "nobody");
	}
	parse_ok(MIN, &c);
	assert_string_equal(c.cp_host, "");
	assert_string_equal(c.user, CONFIG_DEFAULT_USER);
	assert_int_equal(c.counters_interval, 60);
	parse_ok(MIN "counters-interval 5\n", &c);
	assert_int_equal(c.counters_interval, 5);
	/* flow-cache: auto by default, off, or an exponent */
	assert_int_equal(c.flow_cache, 0);
	parse_ok(MIN "flow-cache off\n", &c);
	assert_int_equal(c.flow_cache, -1);
	parse_ok(MIN "flow-cache 12\n", &c);
	assert_int_equal(c.flow_cache, 12);
	parse_ok(MIN "flow-cache auto\n", &c);
	assert_int_equal(c.flow_cache, 0);
}

/* metrics-listen: an address and a port, both given; off by default */
static void test_metrics_listen(void **state)
{
	static const struct {
		const char *text;
		const char *host;
		unsigned port;
	} cases[] = {
		{ "metrics-listen 127.0.0.1:9101\n", "127.0.0.1", 9101 },
		{ "metrics-listen 0.0.0.0:1\n", "0.0.0.0", 1 },
		{ "metrics-listen [::1]:65535\n", "::1", 65535 },
		{ "metrics-listen [fd00::7]:9101 # comment\n", "fd00::7", 9101 },
	};
	struct agent_config c;
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), MIN "%s", cases[i].text);
		parse_ok(text, &c);
		assert_string_equal(c.metrics_host, cases[i].host);
		assert_int_equal(c.metrics_port, cases[i].port);
	}
	parse_ok(MIN, &c);
	assert_int_equal(c.metrics_port, 0);
	assert_string_equal(c.metrics_listen, "");
}

/* moatd's --controlplane, --controlplane-ca, --install-token-file */
static void test_overrides(void **state)
{
	struct config_overrides ov = {
		.controlplane = "[fd00::7]:9443",
		.controlplane_ca = PIN,
		.token_file = "tok", /* as given: relative to moatd's cwd */
	};
	struct config_errors errs;
	struct agent_config c;
	const char *text = MIN "controlplane cp.example.org\n"
			       "controlplane-ca " PIN "\n";

	(void)state;
	/* the flags win over the file */
	assert_int_equal(config_parse_ov(text, strlen(text), F, &ov, &c, &errs),
			 0);
	assert_string_equal(c.cp_host, "fd00::7");
	assert_int_equal(c.cp_port, 9443);
	assert_string_equal(c.token_file, "tok");

	/* and make a file without the keys join a fleet */
	assert_int_equal(config_parse_ov(MIN, strlen(MIN), F, &ov, &c, &errs), 0);
	assert_string_equal(c.cp_pin, PIN);

	/* the pin is still required, from one place or the other */
	ov.controlplane_ca = NULL;
	assert_int_equal(config_parse_ov(MIN, strlen(MIN), F, &ov, &c, &errs),
			 -EINVAL);
	assert_non_null(strstr(errs.msg[0], "needs 'controlplane-ca'"));

	/* a bad value is an error that names the flag */
	ov.controlplane = "cp:0";
	ov.controlplane_ca = PIN;
	assert_int_equal(config_parse_ov(MIN, strlen(MIN), F, &ov, &c, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "--controlplane:"));
	assert_non_null(strstr(errs.msg[0], "'0'"));
}

static void test_instance_defaults(void **state)
{
	struct agent_config c;

	parse_ok("instance ns1\n" MIN, &c);
	assert_string_equal(c.socket, "/run/moat/ns1.sock");
	assert_string_equal(c.state_dir, "/var/lib/moat/ns1");
}

static void test_hash_inside_word(void **state)
{
	struct agent_config c;

	/* '#' only starts a comment at the start of a word */
	parse_ok(MIN "socket /run/a#b.sock\n", &c);
	assert_string_equal(c.socket, "/run/a#b.sock");
}

static void test_fifteen_ifaces(void **state)
{
	struct agent_config c;

	parse_ok("interfaces a,b,c,d,e,f,g,h,i,j,k,l,m,n,o\nruleset r\n", &c);
	assert_int_equal(c.nifaces, 15);
	assert_string_equal(c.ifaces[14], "o");
	/* no directory in the file name: the ruleset path stays relative */
}

static const struct bad_case {
	const char *text;
	const char *want[3];
} bad_cases[] = {
	{ MIN "frobnicate yes\n", { F ":3:1: unknown key: 'frobnicate'" } },
	{ MIN "state_dir /x\n",
	  { F ":3:1: unknown key (did you mean 'state-dir'?): 'state_dir'" } },
	{ MIN "Instance x\n", { F ":3:1: unknown key: 'Instance'" } },
	{ MIN "instance\n", { F ":3:1: key needs a value: 'instance'" } },
	{ MIN "instance   # nothing\n",
	  { F ":3:1: key needs a value: 'instance'" } },
	{ MIN "instance a\ninstance b\n",
	  { F ":4:1: key given twice (first on line 3): 'instance'" } },
	{ MIN "instance a/b\n", { F BAD_INSTANCE "'a/b'" } },
	{ MIN "instance .hidden\n", { F BAD_INSTANCE "'.hidden'" } },
	{ MIN "instance abcdefghijklmnopqrstuvwxyz0123456\n",
	  { F BAD_INSTANCE "'abcdefghijklmnopqrstuvwxyz0123456'" } },
	{ MIN "instance a b\n", { F BAD_INSTANCE "'a b'" } },
	{ "interfaces eth0 eth1\nruleset r\n",
	  { F ":1:17: expected ',' between interface names: 'eth1'" } },
	{ "interfaces eth0,,eth1\nruleset r\n",
	  { F ":1:17: empty item in the list of interfaces: ','" } },
	{ "interfaces eth0,\nruleset r\n",
	  { F ":1:16: empty item in the list of interfaces: ','" } },
	{ "interfaces ,eth0\nruleset r\n",
	  { F ":1:12: empty item in the list of interfaces: ','" } },
	{ "interfaces eth0, eth0\nruleset r\n",
	  { F ":1:18: interface listed twice: 'eth0'" } },
	{ "interfaces averyverylongname0\nruleset r\n",
	  { F ":1:12: " BAD_IFACE "'averyverylongname0'" } },
	{ "interfaces eth0:1\nruleset r\n",
	  { F ":1:12: " BAD_IFACE "'eth0:1'" } },
	{ "interfaces ..\nruleset r\n", { F ":1:12: " BAD_IFACE "'..'" } },
	{ "interfaces a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\nruleset r\n",
	  { F ":1:42: more than 15 interfaces: 'p'" } },
	{ MIN "bpffs sys/fs/bpf\n",
	  { F ":3:7: expected an absolute path: 'sys/fs/bpf'" } },
	{ MIN
	  "socket /run/moat/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	  { F
	    ":3:8: path longer than 107 bytes: '/run/moat/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" } },
	{ MIN "state-dir var/lib\n",
	  { F ":3:11: expected an absolute path: 'var/lib'" } },
	{ MIN "capacity 12x\n",
	  { F ":3:10: capacity is not a number from 64 to 16777216: '12x'" } },
	{ MIN "capacity 63\n",
	  { F ":3:10: capacity is not a number from 64 to 16777216: '63'" } },
	{ MIN "capacity 16777217\n",
	  { F
	    ":3:10: capacity is not a number from 64 to 16777216: '16777217'" } },
	{ MIN "capacity 99999999999999999999\n",
	  { F
	    ":3:10: capacity is not a number from 64 to 16777216: '99999999999999999999'" } },
	{ MIN "capacity -1\n",
	  { F ":3:10: capacity is not a number from 64 to 16777216: '-1'" } },
	{ MIN "xdp-mode offload\n",
	  { F ":3:10: expected auto, native or generic: 'offload'" } },
	{ MIN "xdp-attach direct\n",
	  { F ":3:12: expected auto or entry: 'direct'" } },
	{ MIN "conntrack maybe\n", { F ":3:11: expected yes or no: 'maybe'" } },
	{ MIN "counters-interval 0\n",
	  { F
	    ":3:19: counters-interval is not a number of seconds from 1 to 3600: '0'" } },
	{ MIN "counters-interval 3601\n",
	  { F
	    ":3:19: counters-interval is not a number of seconds from 1 to 3600: '3601'" } },
	{ MIN "counters-interval 1m\n",
	  { F
	    ":3:19: counters-interval is not a number of seconds from 1 to 3600: '1m'" } },
	{ MIN "flow-cache 3\n",
	  { F
	    ":3:12: flow-cache is not auto, off or a number from 4 to 20: '3'" } },
	{ MIN "flow-cache 21\n",
	  { F
	    ":3:12: flow-cache is not auto, off or a number from 4 to 20: '21'" } },
	{ MIN "flow-cache yes\n",
	  { F
	    ":3:12: flow-cache is not auto, off or a number from 4 to 20: 'yes'" } },
	{ MIN "log-rate 0\n",
	  { F ":3:10: log-rate is not a number from 1 to 1000000: '0'" } },
	{ MIN "conntrack-max 1023\n",
	  { F
	    ":3:15: conntrack-max is not a number from 1024 to 67108864: '1023'" } },
	{ MIN "conntrack-timeout udp\n",
	  { F ":3:19: expected CLASS=SECONDS: 'udp'" } },
	{ MIN "conntrack-timeout udp=30, tcp=5\n",
	  { F
	    ":3:27: unknown timeout, expected tcp-syn, tcp-established, tcp-fin, tcp-close, udp, udp-replied, icmp or other: 'tcp'" } },
	{ MIN "conntrack-timeout udp=0\n",
	  { F
	    ":3:23: timeout is not a number of seconds from 1 to 2592000: '0'" } },
	{ MIN "conntrack-timeout icmp=\n",
	  { F
	    ":3:24: timeout is not a number of seconds from 1 to 2592000: ''" } },
	{ MIN "log-level verbose\n",
	  { F ":3:11: expected error, warning, info or debug: 'verbose'" } },
	{ MIN "controlplane 10.0.0.1:0\ncontrolplane-ca " PIN "\n",
	  { F ":3:23: port is not a number from 1 to 65535: '0'" } },
	{ MIN "controlplane [::1\ncontrolplane-ca " PIN "\n",
	  { F ":3:14: expected ']' after an IPv6 address: '[::1'" } },
	{ MIN "controlplane [::1]8443\ncontrolplane-ca " PIN "\n",
	  { F ":3:19: expected ':PORT' after ']': '8443'" } },
	{ MIN "controlplane -cp:1\ncontrolplane-ca " PIN "\n",
	  { F
	    ":3:14: expected a host name or address, as HOST[:PORT] or [IPV6]:PORT: '-cp'" } },
	{ MIN "controlplane cp\n",
	  { F
	    ": 'controlplane' needs 'controlplane-ca' (the control plane's CA fingerprint, sha256:...; moat-controlplane prints it)" } },
	{ MIN "controlplane cp\ncontrolplane-ca sha256:abc\n",
	  { F
	    ":4:17: expected sha256: and 64 hex digits, as moat-controlplane prints it: 'sha256:abc'" } },
	{ MIN "install-token-file t\n",
	  { F
	    ": 'controlplane-ca' and 'install-token-file' need 'controlplane' (HOST[:PORT])" } },
	{ MIN "user 0day\n",
	  { F
	    ":3:6: bad user name (1-32 of a-z 0-9 _ -, starting with a letter or _): '0day'" } },
	{ MIN "metrics-listen 9101\n",
	  { F
	    ":3:16: expected ADDRESS:PORT or [IPV6]:PORT, such as 127.0.0.1:9101: '9101'" } },
	{ MIN "metrics-listen :9101\n",
	  { F
	    ":3:16: expected ADDRESS:PORT or [IPV6]:PORT, such as 127.0.0.1:9101: ':9101'" } },
	{ MIN "metrics-listen localhost:9101\n",
	  { F
	    ":3:16: not an IPv4 address (a name is not taken: give the address): 'localhost'" } },
	{ MIN "metrics-listen ::1:9101\n",
	  { F
	    ":3:16: expected ADDRESS:PORT or [IPV6]:PORT, such as 127.0.0.1:9101: '::1:9101'" } },
	{ MIN "metrics-listen [::1]\n",
	  { F
	    ":3:16: expected ADDRESS:PORT or [IPV6]:PORT, such as 127.0.0.1:9101: '[::1]'" } },
	{ MIN "metrics-listen [1.2.3.4]:80\n",
	  { F ":3:17: not an IPv6 address: '1.2.3.4'" } },
	{ MIN "metrics-listen 127.0.0.1:0\n",
	  { F ":3:26: port is not a number from 1 to 65535: '0'" } },
	{ MIN "metrics-listen 127.0.0.1:65536\n",
	  { F ":3:26: port is not a number from 1 to 65535: '65536'" } },
	{ MIN "metrics-listen 127.0.0.1:http\n",
	  { F ":3:26: port is not a number from 1 to 65535: 'http'" } },
	{ "ruleset r\n", { F ": missing required key: 'interfaces'" } },
	{ "",
	  { F ": missing required key: 'interfaces'",
	    F ": missing required key: 'ruleset'" } },
	/* every error is reported, not just the first */
	{ "interfaces eth0\nfoo 1\nruleset r\nbar 2\n",
	  { F ":2:1: unknown key: 'foo'", F ":4:1: unknown key: 'bar'" } },
	/* a bad value still counts as given: no "missing" on top */
	{ "interfaces eth0 eth1\nruleset r\n",
	  { F ":1:17: expected ',' between interface names: 'eth1'" } },
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct config_errors errs;
		struct agent_config c;
		int want = 0, ret;
		bool ok;

		while (want < 3 && bc->want[want])
			want++;
		ret = config_parse(bc->text, strlen(bc->text), F, &c, &errs);
		ok = ret == -EINVAL && errs.n == want;
		for (int k = 0; ok && k < want; k++)
			ok = !strcmp(errs.msg[k], bc->want[k]);
		if (!ok) {
			print_message("case %zu: %s", i, bc->text);
			for (int k = 0; k < errs.n; k++)
				print_message("  got:  %s\n", errs.msg[k]);
			for (int k = 0; k < want; k++)
				print_message("  want: %s\n", bc->want[k]);
		}
		assert_true(ok);
	}
}

static void test_nul(void **state)
{
	static const char text[] = "interfaces eth0\nruleset r\nsock\0et /x\n";
	struct config_errors errs;
	struct agent_config c;

	assert_int_equal(config_parse(text, sizeof(text) - 1, F, &c, &errs),
			 -EINVAL);
	/* the line up to the NUL is read as "sock": unknown, then the NUL */
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msg[0], F ":3:1: unknown key: 'sock'");
	assert_string_equal(errs.msg[1], F ":3:5: not a text file: '\\0'");
}

static void test_error_cap(void **state)
{
	char text[4096] = "";
	struct config_errors errs;
	struct agent_config c;

	/* a binary file must not print a thousand lines */
	for (int i = 0; i < 100; i++)
		strcat(text, "x 1\n");
	assert_int_equal(config_parse(text, strlen(text), F, &c, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, CONFIG_MAX_ERRORS);
}

static void test_load(void **state)
{
	char path[] = "/tmp/moat-test-config.XXXXXX";
	struct config_errors errs;
	struct agent_config c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, MIN, strlen(MIN)), (int)strlen(MIN));
	close(fd);
	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_string_equal(c.path, path);
	unlink(path);

	assert_int_equal(config_load(path, &c, &errs), -ENOENT);
	assert_int_equal(errs.n, 1);
	assert_non_null(
		strstr(errs.msg[0], "cannot read /tmp/moat-test-config."));
	assert_non_null(strstr(errs.msg[0], ": No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_controlplane),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_instance_defaults),
		cmocka_unit_test(test_hash_inside_word),
		cmocka_unit_test(test_fifteen_ifaces),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
