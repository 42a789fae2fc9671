// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatd's metrics text.  Rules are one family (moat_rule_*, labelled by
 * rule name and action); the fixed rows, which count what no rule
 * matched, another (moat_builtin_*, labelled by row): a sum over
 * moat_rule_packets_total is then the packets rules matched, and no rule
 * name can collide with a row's.
 */
#include <stdio.h>

#include "metrics.h"

/* The policy's row before any ruleset: "none", a label value still. */
static const char *action(const struct metrics_snapshot *s,
			  const struct moat_dp_row *r)
{
	const char *a =
		moat_dp_row_action(r, s->has_generation, s->policy_drop);

	return a ? a : "none";
}

enum col { PACKETS, BYTES, OVER, WOULD_DROP };

static uint64_t col(const struct moat_dp_row *r, enum col c)
{
	switch (c) {
	case PACKETS:
		return r->packets;
	case BYTES:
		return r->bytes;
	case OVER:
		return r->over_packets;
	case WOULD_DROP:
		return r->would_drop;
	}
	return 0;
}

/* Which rows a column is shown for: limits and audit only where they apply. */
static bool shown(const struct metrics_snapshot *s, const struct moat_dp_row *r,
		  enum col c)
{
	if (c == OVER)
		return !r->fixed && (r->flags & MOAT_X_LIMIT);
	/* the policy would drop only in audit mode with policy drop */
	if (c == WOULD_DROP)
		return r->fixed ? r->action < 0 && s->audit && s->policy_drop :
				  (r->flags & MOAT_X_AUDIT) || r->would_drop;
	return true;
}

/* The counter families of the rows, in the order they are shown. */
static const struct family {
	bool fixed;
	enum col col;
	const char *name, *help;
} families[] = {
	{ false, PACKETS, "moat_rule_packets_total",
	  "Packets a rule matched, while its name stayed in the ruleset." },
	{ false, BYTES, "moat_rule_bytes_total",
	  "Bytes of the packets a rule matched." },
	{ false, OVER, "moat_rule_over_limit_packets_total",
	  "Packets over a rule's rate limit." },
	{ false, WOULD_DROP, "moat_rule_would_drop_total",
	  "Audit mode: packets a rule would have dropped." },
	{ true, PACKETS, "moat_builtin_packets_total",
	  "Packets no rule decided: the policy, ARP, ND, non-IP, malformed, established and related flows." },
	{ true, BYTES, "moat_builtin_bytes_total",
	  "Bytes of the packets no rule decided." },
	{ true, WOULD_DROP, "moat_builtin_would_drop_total",
	  "Audit mode: packets the policy would have dropped." },
};

static void rows(const struct metrics_snapshot *s, struct prom_buf *b,
		 const struct family *f)
{
	bool fixed = f->fixed, any = false;
	enum col c = f->col;

	for (int i = 0; i < s->nrows; i++) {
		const struct moat_dp_row *r = &s->rows[i];
		const char *l[4] = { fixed ? "row" : "rule", r->name, "action",
				     action(s, r) };

		if (r->fixed != fixed || !shown(s, r, c))
			continue;
		if (!any)
			prom_family(b, f->name, "counter", f->help);
		any = true;
		/* over-limit and would-drop are per rule: no action label */
		prom_sample(b, f->name, l, c == PACKETS || c == BYTES ? 2 : 1,
			    col(r, c));
	}
}

static void gauge(struct prom_buf *b, const char *name, const char *help,
		  uint64_t v)
{
	prom_family(b, name, "gauge", help);
	prom_value(b, name, v);
}

static void counter(struct prom_buf *b, const char *name, const char *help,
		    uint64_t v)
{
	prom_family(b, name, "counter", help);
	prom_value(b, name, v);
}

void metrics_render(const struct metrics_snapshot *s, struct prom_buf *b)
{
	gauge(b, "moat_up", "1: moatd answered this scrape.", 1);
	gauge(b, "moat_generation",
	      "The ruleset generation in force; 0 when none.",
	      s->has_generation ? s->generation : 0);
	gauge(b, "moat_rules", "Rules in the generation in force.",
	      s->has_generation ? s->rules : 0);
	gauge(b, "moat_counter_slots",
	      "Rule counter slots of the instance (capacity).", s->capacity);
	gauge(b, "moat_counter_slots_used", "Rule counter slots in use.",
	      s->slots_used);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		rows(s, b, &families[i]);
	if (s->ct_enabled) {
		gauge(b, "moat_conntrack_entries",
		      "Flows in the conntrack table, counted at the scrape.",
		      s->ct_entries);
		gauge(b, "moat_conntrack_max",
		      "Flows the conntrack table holds.", s->ct_max);
		counter(b, "moat_conntrack_evicted_total",
			"Flows evicted from the full table (made, less flushed, less still there).",
			s->ct_evicted);
		counter(b, "moat_conntrack_insert_failed_total",
			"New flows the kernel refused to insert: not tracked.",
			s->ct_insert_failed);
	}
	if (s->cp_configured)
		gauge(b, "moat_controlplane_connected",
		      "1: the session with the control plane is up.",
		      s->cp_connected);
}
