// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatd's Prometheus text and the request line its metrics process reads:
 * exact output for a fixed snapshot, label values escaped as the
 * exposition format says, and every kind of request a scraper (or not)
 * can send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

/* Backslash, double quote and newline are escaped; nothing else. */
static void test_escape(void **state)
{
	static const char *const cases[][2] = {
		{ "web", "web" },
		{ "a\\b", "a\\\\b" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ "\\\"\n", "\\\\\\\"\\n" },
		{ "", "" },
		{ "ünï tab\t", "ünï tab\t" },
	};
	struct prom_buf b = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.len = 0;
		prom_escape(&b, cases[i][0]);
		assert_int_equal(b.err, 0);
		assert_string_equal(b.len ? b.p : "", cases[i][1]);
	}
	b.len = 0;
	prom_sample(&b, "x_total", (const char *const[]){ "rule", "a\"b\n" }, 1,
		    18446744073709551615ull);
	assert_string_equal(b.p, "x_total{rule=\"a\\\"b\\n\"} 18446744073709551615\n");
	prom_buf_free(&b);
}

/*
 * Two rules (one limited, one in audit mode), the fixed rows, conntrack
 * and a control plane: every family once, in a fixed order.
 */
static void test_render(void **state)
{
	static const struct moat_dp_row rows[] = {
		{ .name = "ssh", .action = 0, .packets = 10, .bytes = 840,
		  .flags = MOAT_X_LIMIT, .over_packets = 2 },
		{ .name = "bad\"one", .action = 1, .packets = 3, .bytes = 180,
		  .flags = MOAT_X_AUDIT, .would_drop = 3 },
		{ .name = "policy", .fixed = true, .action = -1, .packets = 5,
		  .bytes = 300, .would_drop = 5 },
		{ .name = "arp", .fixed = true, .action = 0, .packets = 7,
		  .bytes = 420 },
		{ .name = "malformed", .fixed = true, .action = 1 },
	};
	struct metrics_snapshot s = {
		.has_generation = true, .generation = 4, .rules = 2,
		.policy_drop = true, .audit = true, .rows = rows, .nrows = 5,
		.capacity = 65536, .slots_used = 3, .ct_enabled = true,
		.ct_entries = 12, .ct_max = 1024, .ct_evicted = 1,
		.ct_insert_failed = 0, .cp_configured = true,
		.cp_connected = true,
	};
	struct prom_buf b = { 0 };

	metrics_render(&s, &b);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p,
		"# HELP moat_up 1: moatd answered this scrape.\n"
		"# TYPE moat_up gauge\n"
		"moat_up 1\n"
		"# HELP moat_generation The ruleset generation in force; 0 when none.\n"
		"# TYPE moat_generation gauge\n"
		"moat_generation 4\n"
		"# HELP moat_rules Rules in the generation in force.\n"
		"# TYPE moat_rules gauge\n"
		"moat_rules 2\n"
		"# HELP moat_counter_slots Rule counter slots of the instance (capacity).\n"
		"# TYPE moat_counter_slots gauge\n"
		"moat_counter_slots 65536\n"
		"# HELP moat_counter_slots_used Rule counter slots in use.\n"
		"# TYPE moat_counter_slots_used gauge\n"
		"moat_counter_slots_used 3\n"
		"# HELP moat_rule_packets_total Packets a rule matched, while its name stayed in the ruleset.\n"
		"# TYPE moat_rule_packets_total counter\n"
		"moat_rule_packets_total{rule=\"ssh\",action=\"allow\"} 10\n"
		"moat_rule_packets_total{rule=\"bad\\\"one\",action=\"drop\"} 3\n"
		"# HELP moat_rule_bytes_total Bytes of the packets a rule matched.\n"
		"# TYPE moat_rule_bytes_total counter\n"
		"moat_rule_bytes_total{rule=\"ssh\",action=\"allow\"} 840\n"
		"moat_rule_bytes_total{rule=\"bad\\\"one\",action=\"drop\"} 180\n"
		"# HELP moat_rule_over_limit_packets_total Packets over a rule's rate limit.\n"
		"# TYPE moat_rule_over_limit_packets_total counter\n"
		"moat_rule_over_limit_packets_total{rule=\"ssh\"} 2\n"
		"# HELP moat_rule_would_drop_total Audit mode: packets a rule would have dropped.\n"
		"# TYPE moat_rule_would_drop_total counter\n"
		"moat_rule_would_drop_total{rule=\"bad\\\"one\"} 3\n"
		"# HELP moat_builtin_packets_total Packets no rule decided: the policy, ARP, ND, non-IP, malformed, established and related flows.\n"
		"# TYPE moat_builtin_packets_total counter\n"
		"moat_builtin_packets_total{row=\"policy\",action=\"drop\"} 5\n"
		"moat_builtin_packets_total{row=\"arp\",action=\"pass\"} 7\n"
		"moat_builtin_packets_total{row=\"malformed\",action=\"drop\"} 0\n"
		"# HELP moat_builtin_bytes_total Bytes of the packets no rule decided.\n"
		"# TYPE moat_builtin_bytes_total counter\n"
		"moat_builtin_bytes_total{row=\"policy\",action=\"drop\"} 300\n"
		"moat_builtin_bytes_total{row=\"arp\",action=\"pass\"} 420\n"
		"moat_builtin_bytes_total{row=\"malformed\",action=\"drop\"} 0\n"
		"# HELP moat_builtin_would_drop_total Audit mode: packets the policy would have dropped.\n"
		"# TYPE moat_builtin_would_drop_total counter\n"
		"moat_builtin_would_drop_total{row=\"policy\"} 5\n"
		"# HELP moat_conntrack_entries Flows in the conntrack table, counted at the scrape.\n"
		"# TYPE moat_conntrack_entries gauge\n"
		"moat_conntrack_entries 12\n"
		"# HELP moat_conntrack_max Flows the conntrack table holds.\n"
		"# TYPE moat_conntrack_max gauge\n"
		"moat_conntrack_max 1024\n"
		"# HELP moat_conntrack_evicted_total Flows evicted from the full table (made, less flushed, less still there).\n"
		"# TYPE moat_conntrack_evicted_total counter\n"
		"moat_conntrack_evicted_total 1\n"
		"# HELP moat_conntrack_insert_failed_total New flows the kernel refused to insert: not tracked.\n"
		"# TYPE moat_conntrack_insert_failed_total counter\n"
		"moat_conntrack_insert_failed_total 0\n"
		"# HELP moat_controlplane_connected 1: the session with the control plane is up.\n"
		"# TYPE moat_controlplane_connected gauge\n"
		"moat_controlplane_connected 1\n");
	prom_buf_free(&b);
}

/*
 * Nothing applied, no conntrack, no fleet: the families that have no
 * rows are left out whole (a family with no samples says nothing), and
 * so are conntrack's and the control plane's.
 */
static void test_render_bare(void **state)
{
	static const struct moat_dp_row rows[] = {
		{ .name = "policy", .fixed = true, .action = -1, .packets = 1,
		  .bytes = 60 },
	};
	struct metrics_snapshot s = { .rows = rows, .nrows = 1, .capacity = 64 };
	struct prom_buf b = { 0 };

	metrics_render(&s, &b);
	assert_int_equal(b.err, 0);
	assert_non_null(strstr(b.p, "\nmoat_generation 0\n"));
	assert_non_null(strstr(b.p, "\nmoat_builtin_packets_total{row=\"policy\",action=\"none\"} 1\n"));
	assert_null(strstr(b.p, "moat_rule_packets_total"));
	assert_null(strstr(b.p, "would_drop"));
	assert_null(strstr(b.p, "conntrack"));
	assert_null(strstr(b.p, "controlplane"));
	prom_buf_free(&b);
}

static void test_http(void **state)
{
	static const struct {
		const char *req;
		enum metrics_req want;
	} cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", METRICS_REQ_METRICS },
		{ "GET /metrics HTTP/1.0\n\n", METRICS_REQ_METRICS },
		{ "GET /metrics?name[]=moat_up HTTP/1.1\r\n\r\n", METRICS_REQ_METRICS },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", METRICS_REQ_HEAD },
		/* not yet whole: the headers go on */
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", METRICS_REQ_MORE },
		{ "GET /metr", METRICS_REQ_MORE },
		{ "", METRICS_REQ_MORE },
		{ "GET / HTTP/1.1\r\n\r\n", METRICS_REQ_NOT_FOUND },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", METRICS_REQ_NOT_FOUND },
		{ "GET /metrics/ HTTP/1.1\r\n\r\n", METRICS_REQ_NOT_FOUND },
		{ "POST /metrics HTTP/1.1\r\n\r\n", METRICS_REQ_BAD_METHOD },
		{ "get /metrics HTTP/1.1\r\n\r\n", METRICS_REQ_BAD_METHOD },
		{ "GET /metrics HTTP/2.0\r\n\r\n", METRICS_REQ_BAD },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", METRICS_REQ_BAD },
		{ "GET metrics HTTP/1.1\r\n\r\n", METRICS_REQ_BAD },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", METRICS_REQ_BAD },
		{ "GET /metrics\r\n\r\n", METRICS_REQ_BAD },
		{ "G3T /metrics HTTP/1.1\r\n\r\n", METRICS_REQ_BAD },
		{ "\r\n\r\n", METRICS_REQ_BAD },
		{ "GET /m\x01 HTTP/1.1\r\n\r\n", METRICS_REQ_BAD },
	};
	static char big[METRICS_REQ_MAX + 16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum metrics_req r = metrics_http_parse(cases[i].req,
							strlen(cases[i].req));

		if (r != cases[i].want)
			fail_msg("case %zu '%s': %d, expected %d", i,
				 cases[i].req, r, cases[i].want);
	}
	/* a head that never ends: refused once the buffer is full */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	assert_int_equal(metrics_http_parse(big, METRICS_REQ_MAX - 1),
			 METRICS_REQ_MORE);
	assert_int_equal(metrics_http_parse(big, METRICS_REQ_MAX),
			 METRICS_REQ_TOO_LONG);
}

static void test_http_head(void **state)
{
	char buf[256];

	metrics_http_head(METRICS_REQ_METRICS, 42, buf, sizeof(buf));
	assert_string_equal(buf,
		"HTTP/1.1 200 OK\r\n"
		"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: 42\r\nConnection: close\r\n\r\n");
	metrics_http_head(METRICS_REQ_BAD_METHOD, 0, buf, sizeof(buf));
	assert_string_equal(buf,
		"HTTP/1.1 405 Method Not Allowed\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Allow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	/* moatd could not read its pins: the scrape fails, visibly */
	metrics_http_head(METRICS_REQ_UNAVAILABLE, 7, buf, sizeof(buf));
	assert_string_equal(buf,
		"HTTP/1.1 503 Service Unavailable\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 7\r\nConnection: close\r\n\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_bare),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
