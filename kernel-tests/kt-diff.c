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
 *
 * Every frame runs twice, and a frame of a few frames back once more, so
 * that the flow cache answers too: from the entry just made, and from
 * one that other flows may have pushed to the bucket's second way or out.
 * Some seeds get the smallest cache, where flows collide all the time.
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

#define REPLAY 8 /* frames kept for running again */

struct replay {
	uint8_t buf[MOAT_FRAME_MAX];
	size_t len;
	uint32_t ifx, slot, verdict;
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
	struct moat_dp_opts dopts = {
		.instance = inst,
		.capacity = 8192,
		.flow_cache = seed % 3 ? 0 : MOAT_FC_LOG_MIN,
	};
	static struct replay ring[REPLAY];
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
		struct replay *r = &ring[f % REPLAY];
		uint32_t ifx = 1; /* lo: protected by no rule */
		int run;

		/* the kernel hands XDP no frame shorter than an Ethernet header */
		if (len < 14)
			continue;
		for (i = 0; iface && i < 3; i++)
			if (!strcmp(iface, ifnames[i]))
				ifx = ifindex[i];
		memcpy(r->buf, buf, len);
		r->len = len;
		r->ifx = ifx;
		r->slot = v.kind == MOAT_REF_RULE ?
				  (uint32_t)moat_dp_rule_slot(dp, rs.rules[v.rule].name) :
				  fixed_slot(v.kind);
		r->verdict = v.drop ? XDP_DROP : XDP_PASS;
		/* this frame twice, then the one of five frames back */
		for (run = 0; run < 3; run++) {
			const struct replay *p = run < 2 ? r : &ring[(f + REPLAY - 5) % REPLAY];
			uint32_t rv = 0;
			uint64_t pk, by;

			if (run == 2 && (f < 5 || !p->len))
				break;
			err = kt_xdp_run(prog, p->buf, p->len, p->ifx, &rv);
			if (err) {
				kt_check(false, "test run", "frame %zu: %s", f, strerror(-err));
				bad++;
				goto done;
			}
			tested++;
			want[p->slot]++;
			/*
			 * The slot's count after the run: after every run with
			 * the smallest cache, where entries move all the time;
			 * with a big one after every eighth (a read scans the
			 * whole cache, some 12 MiB).  Every counter is compared
			 * at the end either way.
			 */
			pk = want[p->slot];
			if (dopts.flow_cache || tested % 8 == 0)
				moat_dp_counter(dp, p->slot, &pk, &by);
			if (rv != p->verdict || pk != want[p->slot]) {
				if (bad++ < 5)
					fprintf(stderr,
						"seed %llu frame %zu run %d (len %zu, iface %s, aimed %ld): reference kind %d rule %d %s; program %s, slot %u counted %llu of %llu\n",
						(unsigned long long)seed, f, run, p->len,
						iface ? iface : "-", g.aimed, v.kind,
						v.kind == MOAT_REF_RULE ? (int)v.rule : -1,
						p->verdict == XDP_DROP ? "drop" : "pass",
						rv == XDP_DROP ? "drop" : "pass", p->slot,
						(unsigned long long)pk,
						(unsigned long long)want[p->slot]);
				want[p->slot] = pk;
			}
		}
	}
done:
	memset(ring, 0, sizeof(ring));
	snprintf(name, sizeof(name), "seed %llu: %zu runs of frames, same verdict and rule as the reference",
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

/*
 * The flow cache answers only the very key it was made from.  One pair
 * of addresses per family, and flows that differ in one field each
 * (ports, protocol, ICMP type, TCP flags, interface) and that the rules
 * tell apart, through the smallest cache: 16 buckets, so flows with the
 * same addresses share buckets all the time.  (Flows that differ only
 * in the interface never do: its id's few bits always move the hash's
 * top bits.  So a compare that forgot the interface would go unseen
 * here; the other fields' are each caught.)
 */
static const char collide_rules[] =
	"policy drop\n"
	"allow d1 tcp dport 1\n"
	"drop  d2 tcp dport 2\n"
	"allow d3 udp dport 3\n"
	"drop  s4 udp sport 4\n"
	"allow s5 tcp sport 5\n"
	"drop  syn tcp flags syn/syn,ack\n"
	"allow ack tcp flags ack\n"
	"allow e0 in eth0\n"
	"drop  e1 in eth1\n"
	"allow ping icmp type echo-request\n"
	"allow ping6 icmpv6 type echo-request\n"
	"drop  p132 proto 132\n";

static void collide(const uint32_t *ifindex)
{
	static const uint8_t protos[] = { 6, 17, 1, 58, 132 };
	static const uint8_t flags[] = { 0x10, 0x02, 0x12, 0x18, 0x01 };
	char inst[64], name[128];
	struct moat_dp_opts dopts = { .instance = inst,
				      .capacity = 256,
				      .flow_cache = MOAT_FC_LOG_MIN };
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	struct moat_dp *dp = NULL;
	uint8_t buf[MOAT_FRAME_MAX];
	uint64_t want[MOAT_SLOT_FIRST_RULE + 256] = { 0 }, runs = 0;
	int prog, bad = 0, err;

	snprintf(inst, sizeof(inst), "%scollide", kt_name("ktdiff"));
	kt_cleanup_instance(inst);
	err = moat_ruleset_parse(collide_rules, sizeof(collide_rules) - 1, &rs, &d) ?:
	      moat_dp_open(&dopts, &dp);
	if (!kt_check(!err, "flow cache: open and parse", "%s", strerror(-err)))
		return;
	moat_dp_set_ifaces(dp, ifnames, 3);
	err = moat_dp_apply(dp, &rs, &d, NULL);
	if (!kt_check(!err, "flow cache: apply", "%s", strerror(-err)))
		goto out;
	prog = moat_dp_generation_fd(dp);
	for (int round = 0; round < 4; round++) {
		for (unsigned n = 0; n < 3840; n++) {
			/*
			 * x's digits: family (2), protocol (5), source port or
			 * flags or ICMP type (8), destination port (16),
			 * interface (3).  Each round another one changes from
			 * flow to flow, so that flows alike but for it meet in
			 * the buckets: the family and protocol, the interface,
			 * the destination port; then all in a scattered order.
			 */
			unsigned x = round == 0 ? n :
				     round == 1 ? n % 3 * 1280 + n / 3 :
				     round == 2 ? n % 16 * 80 + n / 16 % 80 + n / 1280 * 1280 :
						  n * 7919u % 3840;
			struct moat_frame_spec s = { .kind = MOAT_FRAME_IP };
			int fam6 = x % 2, ifi = x / 1280;
			uint8_t proto = protos[x / 2 % 5];
			struct moat_ref_verdict v;
			uint32_t rv = 0, slot;
			uint64_t pk, by;
			size_t len;

			if ((proto == 1 && fam6) || (proto == 58 && !fam6))
				continue;
			s.family = fam6 ? AF_INET6 : AF_INET;
			s.proto = proto;
			memcpy(s.src, fam6 ? (const uint8_t[16]){ 0x20, 1, 0xd, 0xb8, [15] = 1 } :
					     (const uint8_t[16]){ 192, 0, 2, 1 }, 16);
			memcpy(s.dst, fam6 ? (const uint8_t[16]){ 0x20, 1, 0xd, 0xb8, [15] = 2 } :
					     (const uint8_t[16]){ 192, 0, 2, 2 }, 16);
			if (proto == 1 || proto == 58) {
				s.sport = x / 10 % 2 ? (proto == 1 ? 8 : 128) : 3;
				s.dport = 0;
			} else {
				s.sport = (uint16_t)(x / 10 % 8 + 1);
				s.dport = (uint16_t)(x / 80 % 16 + 1);
			}
			if (proto == 6)
				s.tcp_flags = flags[x / 10 % 5];
			len = moat_frame_build(&s, buf, sizeof(buf));
			v = moat_reference_classify(&rs, buf, len, ifnames[ifi]);
			slot = v.kind == MOAT_REF_RULE ?
				       (uint32_t)moat_dp_rule_slot(dp, rs.rules[v.rule].name) :
				       fixed_slot(v.kind);
			err = kt_xdp_run(prog, buf, len, ifindex[ifi], &rv);
			if (err || slot >= sizeof(want) / sizeof(want[0])) {
				bad++;
				break;
			}
			runs++;
			want[slot]++;
			moat_dp_counter(dp, slot, &pk, &by);
			if (rv != (v.drop ? XDP_DROP : XDP_PASS) || pk != want[slot]) {
				if (bad++ < 5)
					fprintf(stderr,
						"collide: IPv%d proto %u sport %u dport %u flags %#x on %s: reference %s slot %u; program %s, slot counted %llu of %llu\n",
						fam6 ? 6 : 4, proto, s.sport, s.dport, s.tcp_flags,
						ifnames[ifi], v.drop ? "drop" : "pass", slot,
						rv == XDP_DROP ? "drop" : "pass",
						(unsigned long long)pk, (unsigned long long)want[slot]);
				want[slot] = pk;
			}
		}
	}
	snprintf(name, sizeof(name),
		 "flow cache of 16 buckets: %llu runs of flows that differ in one field, each the reference's verdict and rule",
		 (unsigned long long)runs);
	kt_check(!bad, name, "%d differ", bad);
out:
	moat_dp_close(dp);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
}

int main(void)
{
	static const struct {
		uint64_t seed;
		size_t nrules, nframes;
		unsigned v6;
	} runs[] = {
		{ 1, 1, 2000, 30 },
		/* a few terms, compiled into the program: its short way */
		{ 9, 2, 3000, 30 },
		{ 11, 3, 3000, 0 },
		{ 13, 4, 3000, 100 },
		{ 15, 6, 3000, 50 },
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
	collide(ifindex);
	return kt_done();
}
