// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane's metrics text (docs/moat-controlplane.md, METRICS).
 * Host states are listed for every workspace, zeros included, so that a
 * state that empties shows 0 rather than a series that vanishes.
 */
#include "cp.h"
#include "prom.h"

const char *const cp_config_status[CP_CONFIG_STATUSES] = {
	"converged", "pending", "failing", "drift", "unmanaged",
};

/* The codes an enrollment is refused with, always shown. */
static const enum proto_code refusal_codes[] = {
	PROTO_E_TOKEN_UNKNOWN,	 PROTO_E_TOKEN_EXPIRED, PROTO_E_TOKEN_REVOKED,
	PROTO_E_TOKEN_EXHAUSTED, PROTO_E_BAD_CSR,
};

static bool always(enum proto_code c)
{
	for (size_t i = 0; i < sizeof(refusal_codes) / sizeof(refusal_codes[0]);
	     i++) {
		if (refusal_codes[i] == c)
			return true;
	}
	return false;
}

static void hosts(const struct cp_metrics_view *v, struct prom_buf *b)
{
	prom_family(
		b, "moat_hosts", "gauge",
		"Hosts by workspace and health (pending, healthy, stale, offline, removed).");
	for (size_t i = 0; i < v->nws; i++) {
		for (int h = 0; h <= CP_HEALTH_REMOVED; h++) {
			const char *l[4] = { "workspace", v->ws[i].name,
					     "state", cp_health_name(h) };

			prom_sample(b, "moat_hosts", l, 2, v->ws[i].hosts[h]);
		}
	}
}

static void config(const struct cp_metrics_view *v, struct prom_buf *b)
{
	prom_family(
		b, "moat_config_hosts", "gauge",
		"Hosts (not removed) by workspace and the state of their declared configuration (converged, pending, failing, drift, unmanaged).");
	for (size_t i = 0; i < v->nws; i++) {
		for (int k = 0; k < CP_CONFIG_STATUSES; k++) {
			const char *l[4] = { "workspace", v->ws[i].name,
					     "status", cp_config_status[k] };

			prom_sample(b, "moat_config_hosts", l, 2,
				    v->ws[i].config[k]);
		}
	}
}

static void applies(const struct cp_counts *c, struct prom_buf *b)
{
	const char *ok[] = { "result", "ok" }, *err[] = { "result", "error" };
	const char *drift[] = { "result", "drift" };

	prom_sample(b, "moat_applies_total", ok, 1, c->applies_ok);
	prom_sample(b, "moat_applies_total", err, 1, c->applies_error);
	prom_sample(b, "moat_applies_total", drift, 1, c->applies_drift);
}

static void refusals(const struct cp_counts *c, struct prom_buf *b)
{
	prom_family(
		b, "moat_enroll_refusals_total", "counter",
		"Enrollments refused, by the error code the host was sent.");
	for (int i = 0; i <= PROTO_E_OTHER; i++) {
		const char *l[2] = { "code", proto_code_name(i) };

		if (c->enroll_refusals[i] || always(i))
			prom_sample(b, "moat_enroll_refusals_total", l, 1,
				    c->enroll_refusals[i]);
	}
}

static void api(const struct cp_counts *c, struct prom_buf *b)
{
	prom_family(b, "moat_api_requests_total", "counter",
		    "Operator API requests answered, by HTTP status.");
	for (int i = 100; i < 600; i++) {
		char code[4] = { (char)('0' + i / 100),
				 (char)('0' + i / 10 % 10),
				 (char)('0' + i % 10), '\0' };
		const char *l[2] = { "code", code };

		if (c->api_status[i])
			prom_sample(b, "moat_api_requests_total", l, 1,
				    c->api_status[i]);
	}
}

void cp_metrics_render(const struct cp_metrics_view *v, struct prom_buf *b)
{
	const struct cp_counts *c = v->counts;

	prom_family(b, "moat_up", "gauge",
		    "1: moat-controlplane answered this scrape.");
	prom_value(b, "moat_up", 1);
	hosts(v, b);
	config(v, b);
	prom_family(b, "moat_sessions", "gauge",
		    "Hosts with an agent session up (hello answered).");
	prom_value(b, "moat_sessions", v->sessions);
	prom_family(
		b, "moat_agent_connections", "gauge",
		"Connections on the agent channel, in any phase (handshake, enrollment, session).");
	prom_value(b, "moat_agent_connections", v->connections);
	prom_family(
		b, "moat_enrollments_total", "counter",
		"Hosts enrolled (a certificate issued for an install token).");
	prom_value(b, "moat_enrollments_total", c->enrollments);
	refusals(c, b);
	prom_family(b, "moat_heartbeats_total", "counter",
		    "Heartbeats recorded from hosts.");
	prom_value(b, "moat_heartbeats_total", c->heartbeats);
	prom_family(b, "moat_applies_total", "counter",
		    "Hosts' reports of a desired state: in force (ok), refused by the host (error), or replaced by a local change (drift).");
	applies(c, b);
	api(c, b);
}
