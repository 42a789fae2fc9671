// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command-line values: each parser takes the whole string or rejects it
 * (systemd's table-driven way).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "templates.h"

static void u32_lists(void **state)
{
	static const char *const bad[] = { "",		 ",",	    "1,",  ",1",
					   "1,,2",	 "-1",	    "1k2", "x",
					   "4294967296", "5000000k" };
	uint32_t v[4];
	int n;

	assert_int_equal(bench_parse_u32_list("1,100,10k", v, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[2], 10000);
	/* more items than room */
	assert_int_equal(bench_parse_u32_list("1,2,3,4,5", v, 4, &n), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bench_parse_u32_list(bad[i], v, 4, &n) != -EINVAL)
			fail_msg("`%s' accepted", bad[i]);
}

static void cpu_lists(void **state)
{
	static const char *const bad[] = { "",	 "1-0", "0,0", "0-1,1", "a",
					   "0-", "-1",	"0,",  "4096" };
	int cpus[8], n;

	assert_int_equal(bench_parse_cpu_list("0-2,5", cpus, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(cpus[3], 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bench_parse_cpu_list(bad[i], cpus, 8, &n) != -EINVAL)
			fail_msg("`%s' accepted", bad[i]);
}

static void numbers_and_seconds(void **state)
{
	static const char *const bad_u64[] = { "",   "-1",
					       "+1", "1x",
					       " 1", "18446744073709551616" };
	static const char *const bad_s[] = { "",   "0",	  "-1",	 "x",
					     "1s", "nan", "inf", "3601" };
	uint64_t x;
	double s;

	assert_int_equal(bench_parse_u64("18446744073709551615", &x), 0);
	for (size_t i = 0; i < sizeof(bad_u64) / sizeof(bad_u64[0]); i++)
		if (bench_parse_u64(bad_u64[i], &x) != -EINVAL)
			fail_msg("`%s' accepted", bad_u64[i]);
	assert_int_equal(bench_parse_seconds("0.05", &s), 0);
	for (size_t i = 0; i < sizeof(bad_s) / sizeof(bad_s[0]); i++)
		if (bench_parse_seconds(bad_s[i], &s) != -EINVAL)
			fail_msg("`%s' accepted", bad_s[i]);
}

static void flow_cache(void **state)
{
	/* 4 and 20 are MOAT_FC_LOG_MIN and _MAX: moat_dp_open refuses beyond */
	static const char *const bad[] = { "",	 "0",	"-1",  "3",   "21",
					   "1k", "16x", "Off", " 16", "+16" };
	char buf[16];
	int v;

	assert_int_equal(bench_parse_flow_cache("auto", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(bench_parse_flow_cache("off", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(bench_parse_flow_cache("4", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(bench_parse_flow_cache("20", &v), 0);
	assert_int_equal(v, 20);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bench_parse_flow_cache(bad[i], &v) != -EINVAL)
			fail_msg("`%s' accepted", bad[i]);
	/* what the report writes reads back as the same size */
	for (int x = -1; x <= MOAT_FC_LOG_MAX; x++) {
		if (x > 0 && x < MOAT_FC_LOG_MIN)
			continue;
		bench_flow_cache_name(x, buf, sizeof(buf));
		assert_int_equal(bench_parse_flow_cache(buf, &v), 0);
		assert_int_equal(v, x);
	}
}

static void protocols(void **state)
{
	static const char *const names[] = { "udp4", "tcp4", "icmp4",
					     "udp6", "tcp6", "icmp6" };
	enum traffic_proto p;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(traffic_proto_parse(names[i], &p), 0);
		assert_string_equal(traffic_proto_name(p), names[i]);
	}
	assert_int_equal(traffic_proto_parse("udp", &p), -EINVAL);
	assert_int_equal(traffic_proto_parse("UDP4", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(u32_lists),
		cmocka_unit_test(cpu_lists),
		cmocka_unit_test(numbers_and_seconds),
		cmocka_unit_test(flow_cache),
		cmocka_unit_test(protocols),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
