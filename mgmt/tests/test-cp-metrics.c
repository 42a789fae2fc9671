// SPDX-License-Identifier: GPL-2.0-only
/* The control plane's Prometheus text: exact, for fixed counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* api.h: the control plane's cp.h, not moatctl's of the same name */
#include "api.h"
#include "prom.h"

static void test_render(void **state)
{
	static struct cp_counts c = {
		.enrollments = 3, .heartbeats = 40, .applies_ok = 5, .applies_error = 1,
	};
	/* a name with each character the format escapes */
	struct cp_metrics_ws ws[2] = {
		{ .name = "default",
		  .hosts = { [CP_HEALTH_HEALTHY] = 2, [CP_HEALTH_OFFLINE] = 1 },
		  .config = { 1, 0, 1, 0, 1 } },
		{ .name = "q\"\\\n" },
	};
	struct cp_metrics_view v = { .counts = &c, .ws = ws, .nws = 2,
				     .sessions = 2, .connections = 5 };
	struct prom_buf b = { 0 };

	c.enroll_refusals[PROTO_E_TOKEN_EXPIRED] = 1;
	/* shown only when it happened: not an enrollment refusal per se */
	c.enroll_refusals[PROTO_E_INTERNAL] = 2;
	c.api_status[200] = 7;
	c.api_status[403] = 1;
	cp_metrics_render(&v, &b);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p,
		"# HELP moat_up 1: moat-controlplane answered this scrape.\n"
		"# TYPE moat_up gauge\n"
		"moat_up 1\n"
		"# HELP moat_hosts Hosts by workspace and health (pending, healthy, stale, offline, removed).\n"
		"# TYPE moat_hosts gauge\n"
		"moat_hosts{workspace=\"default\",state=\"pending\"} 0\n"
		"moat_hosts{workspace=\"default\",state=\"healthy\"} 2\n"
		"moat_hosts{workspace=\"default\",state=\"stale\"} 0\n"
		"moat_hosts{workspace=\"default\",state=\"offline\"} 1\n"
		"moat_hosts{workspace=\"default\",state=\"removed\"} 0\n"
		"moat_hosts{workspace=\"q\\\"\\\\\\n\",state=\"pending\"} 0\n"
		"moat_hosts{workspace=\"q\\\"\\\\\\n\",state=\"healthy\"} 0\n"
		"moat_hosts{workspace=\"q\\\"\\\\\\n\",state=\"stale\"} 0\n"
		"moat_hosts{workspace=\"q\\\"\\\\\\n\",state=\"offline\"} 0\n"
		"moat_hosts{workspace=\"q\\\"\\\\\\n\",state=\"removed\"} 0\n"
		"# HELP moat_config_hosts Hosts (not removed) by workspace and the state of their declared configuration (converged, pending, failing, drift, unmanaged).\n"
		"# TYPE moat_config_hosts gauge\n"
		"moat_config_hosts{workspace=\"default\",status=\"converged\"} 1\n"
		"moat_config_hosts{workspace=\"default\",status=\"pending\"} 0\n"
		"moat_config_hosts{workspace=\"default\",status=\"failing\"} 1\n"
		"moat_config_hosts{workspace=\"default\",status=\"drift\"} 0\n"
		"moat_config_hosts{workspace=\"default\",status=\"unmanaged\"} 1\n"
		"moat_config_hosts{workspace=\"q\\\"\\\\\\n\",status=\"converged\"} 0\n"
		"moat_config_hosts{workspace=\"q\\\"\\\\\\n\",status=\"pending\"} 0\n"
		"moat_config_hosts{workspace=\"q\\\"\\\\\\n\",status=\"failing\"} 0\n"
		"moat_config_hosts{workspace=\"q\\\"\\\\\\n\",status=\"drift\"} 0\n"
		"moat_config_hosts{workspace=\"q\\\"\\\\\\n\",status=\"unmanaged\"} 0\n"
		"# HELP moat_sessions Hosts with an agent session up (hello answered).\n"
		"# TYPE moat_sessions gauge\n"
		"moat_sessions 2\n"
		"# HELP moat_agent_connections Connections on the agent channel, in any phase (handshake, enrollment, session).\n"
		"# TYPE moat_agent_connections gauge\n"
		"moat_agent_connections 5\n"
		"# HELP moat_enrollments_total Hosts enrolled (a certificate issued for an install token).\n"
		"# TYPE moat_enrollments_total counter\n"
		"moat_enrollments_total 3\n"
		"# HELP moat_enroll_refusals_total Enrollments refused, by the error code the host was sent.\n"
		"# TYPE moat_enroll_refusals_total counter\n"
		"moat_enroll_refusals_total{code=\"token_unknown\"} 0\n"
		"moat_enroll_refusals_total{code=\"token_expired\"} 1\n"
		"moat_enroll_refusals_total{code=\"token_revoked\"} 0\n"
		"moat_enroll_refusals_total{code=\"token_exhausted\"} 0\n"
		"moat_enroll_refusals_total{code=\"bad_csr\"} 0\n"
		"moat_enroll_refusals_total{code=\"internal\"} 2\n"
		"# HELP moat_heartbeats_total Heartbeats recorded from hosts.\n"
		"# TYPE moat_heartbeats_total counter\n"
		"moat_heartbeats_total 40\n"
		"# HELP moat_applies_total Hosts' reports of a desired state: in force (ok), refused by the host (error), or replaced by a local change (drift).\n"
		"# TYPE moat_applies_total counter\n"
		"moat_applies_total{result=\"ok\"} 5\n"
		"moat_applies_total{result=\"error\"} 1\n"
		"moat_applies_total{result=\"drift\"} 0\n"
		"# HELP moat_api_requests_total Operator API requests answered, by HTTP status.\n"
		"# TYPE moat_api_requests_total counter\n"
		"moat_api_requests_total{code=\"200\"} 7\n"
		"moat_api_requests_total{code=\"403\"} 1\n");
	prom_buf_free(&b);
}

/* Every status the store gives a host has its series: none falls through. */
static void test_config_statuses(void **state)
{
	static const struct store_host hosts[] = {
		{ .desired_gen = 0 },
		{ .desired_gen = 2, .drift = true },
		{ .desired_gen = 2, .applied_gen = 2 },
		{ .desired_gen = 2, .applied_gen = 1, .error_gen = 2 },
		{ .desired_gen = 2, .applied_gen = 1, .error_gen = 1 },
	};
	bool seen[CP_CONFIG_STATUSES] = { false };

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		const char *st = store_host_status(&hosts[i]);
		int k;

		for (k = 0; k < CP_CONFIG_STATUSES; k++) {
			if (!strcmp(st, cp_config_status[k]))
				break;
		}
		if (k == CP_CONFIG_STATUSES)
			fail_msg("status '%s' has no series", st);
		seen[k] = true;
	}
	for (int k = 0; k < CP_CONFIG_STATUSES; k++)
		assert_true(seen[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_config_statuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
