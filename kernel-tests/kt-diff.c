// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program against the reference matcher, in a real kernel.
 *
 * Random rulesets (up to thousands of rules, IPv4 and IPv6, ranges,
 * overlaps, interfaces) are applied through libmoat-dp; random frames
 * (aimed at rules, aimed at nothing, malformed, fragmented, tagged) run
 * through the generation's program with BPF_PROG_TEST_RUN.  For every
 * frame the verdict must be the reference's, and exactly the counter of
 * the reference's rule (or fixed row) must move by one.  At the end of
 * each ruleset every counter must equal the number of frames the
 * reference sent to it.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"
#include "randgen.h"
#include "reference.h"

static const char *const ifnames[] = { "eth0", "eth1", "veth-moat-a" };

struct expect {
	uint64_t *count; /* per slot */
	uint32_t nslots;
};

static uint32_t fixed_slot(enum moat_ref_kind k)
{
	switch (k) {
	case MOAT_REF_ARP:
		return MOAT_SLOT_ARP;
	case MOAT_REF_ND:
		return MOAT_SLOT_ND;
	case MOAT_REF_NONIP:
		return MOAT_SLOT_NONIP;
	case MOAT_REF_MALFORMED:
		return MOAT_SLOT_MALFORMED;
	default:
		return MOAT_SLOT_POLICY;
	}
}


/* One ruleset: returns the number of frames that disagreed. */
static int run_seed(uint64_t seed, size_t nrules, unsigned v6_pct,
		    size_t nframes, const uint32_t *ifindex)
{
	char inst[64], name[96];
	struct rg_ruleset_opts ro = {
		.nrules = nrules, .v6_pct = v6_pct, .overlap_pct = 70,
		.ifaces = ifnames, .nifaces = seed % 2 ? 3 : 0,
	};
	struct moat_dp_opts dopts = { .instance = inst, .capacity = 8192 };
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	struct moat_dp *dp = NULL;
	struct moat_dp_row *rows = NULL;
	uint8_t buf[MOAT_FRAME_MAX];
	uint64_t *want = NULL;
	uint32_t nslots = MOAT_SLOT_FIRST_RULE + 8192;
	int prog, nrows = 0, bad = 0, err, i;
	size_t f, tested = 0;
	struct rg g;

	snprintf(inst, sizeof(inst), "%s", kt_name("ktdiff"));
	snprintf(inst + strlen(inst), sizeof(inst) - strlen(inst), "s%llu",
		 (unsigned long long)seed);
	kt_cleanup_instance(inst);
	rg_init(&g, seed);
	if (rg_ruleset(&g, &ro, &rs))
		return 1;
	want = calloc(nslots, sizeof(*want));
	err = moat_dp_open(&dopts, &dp);
	if (!kt_check(!err, "open instance", "%s", strerror(-err)))
		return 1;
	moat_dp_set_ifaces(dp, ifnames, 3);
	err = moat_dp_apply(dp, &rs, &d, NULL);
	if (err)
		moat_diags_print(&d, "randgen", stderr);
	snprintf(name, sizeof(name), "seed %llu: apply %zu rules", (unsigned long long)seed, nrules);
	if (!kt_check(!err, name, "%s", strerror(-err)))
		return 1;
	prog = moat_dp_generation_fd(dp);

	for (f = 0; f < nframes; f++) {
		const char *iface = NULL;
		size_t len = rg_frame(&g, &rs, buf, sizeof(buf), &iface);
		struct moat_ref_verdict v = moat_reference_classify(&rs, buf, len, iface);
		uint32_t slot, rv = 0, ifx = 1; /* lo: protected by no rule */
		uint64_t pk, by;

		/* the kernel hands XDP no frame shorter than an Ethernet header */
		if (len < 14)
			continue;
		for (i = 0; iface && i < 3; i++)
			if (!strcmp(iface, ifnames[i]))
				ifx = ifindex[i];
		slot = v.kind == MOAT_REF_RULE ?
			       (uint32_t)moat_dp_rule_slot(dp, rs.rules[v.rule].name) :
			       fixed_slot(v.kind);
		err = kt_xdp_run(prog, buf, len, ifx, &rv);
		if (err) {
			kt_check(false, "test run", "frame %zu: %s", f, strerror(-err));
			bad++;
			break;
		}
		tested++;
		want[slot]++;
		moat_dp_counter(dp, slot, &pk, &by);
		if (rv != (v.drop ? XDP_DROP : XDP_PASS) || pk != want[slot]) {
			if (bad++ < 5)
				fprintf(stderr,
					"seed %llu frame %zu (len %zu, iface %s, aimed %ld): reference kind %d rule %d %s; program %s, slot %u counted %llu of %llu\n",
					(unsigned long long)seed, f, len, iface ? iface : "-",
					g.aimed, v.kind, v.kind == MOAT_REF_RULE ? (int)v.rule : -1,
					v.drop ? "drop" : "pass", rv == XDP_DROP ? "drop" : "pass",
					slot, (unsigned long long)pk, (unsigned long long)want[slot]);
			want[slot] = pk;
		}
	}
	snprintf(name, sizeof(name), "seed %llu: %zu frames, same verdict and rule as the reference",
		 (unsigned long long)seed, tested);
	kt_check(!bad, name, "%d frames differ", bad);

	/* every counter, not only the ones the frames were expected to move */
	err = moat_dp_rows(dp, &rows, &nrows);
	for (i = 0, bad = 0; !err && i < nrows; i++)
		if (rows[i].packets != want[rows[i].slot] && bad++ < 5)
			fprintf(stderr, "row %s slot %u: %llu packets, reference sent %llu\n",
				rows[i].name, rows[i].slot,
				(unsigned long long)rows[i].packets,
				(unsigned long long)want[rows[i].slot]);
	snprintf(name, sizeof(name), "seed %llu: every counter equals the reference's count",
		 (unsigned long long)seed);
	kt_check(!err && !bad, name, "%d rows differ (%s)", bad, strerror(-err));

	free(rows);
	free(want);
	moat_dp_close(dp);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	return bad;
}

int main(void)
{
	static const struct {
		uint64_t seed;
		size_t nrules, nframes;
		unsigned v6;
	} runs[] = {
		{ 1, 1, 2000, 30 },
		{ 2, 10, 5000, 30 },
		{ 3, 100, 10000, 50 },
		{ 4, 1000, 20000, 30 },
		{ 5, 3000, 20000, 0 },
		{ 6, 3000, 20000, 100 },
		{ 7, 5000, 20000, 40 },
	};
	const char *ns = kt_name("ktdiff");
	uint32_t ifindex[3];
	size_t i;

	kt_require_kernel();
	if (kt_netns(ns) || kt_enter(ns))
		kt_skip("cannot create a network namespace");
	/* the interfaces rules name, so that `in` resolves to real ifindexes */
	for (i = 0; i < 3; i++) {
		/* veth, since this kernel may lack the dummy driver */
		if (kt_sh("ip netns exec %s ip link add %s type veth peer name ktp%zu",
			  ns, ifnames[i], i) ||
		    kt_sh("ip netns exec %s ip link set %s up", ns, ifnames[i]))
			kt_skip("cannot create veth interfaces");
		ifindex[i] = if_nametoindex(ifnames[i]);
	}
	kt_sh("ip netns exec %s ip link set lo up", ns);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		run_seed(runs[i].seed, runs[i].nrules, runs[i].v6, runs[i].nframes, ifindex);
	return kt_done();
}
