// SPDX-License-Identifier: GPL-2.0-only
/*
 * The frames generators send: valid checksums after every rewrite (the
 * incremental update against a full recomputation), zero payload, and
 * flow variants that stay inside the rule their template aims at.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "classbench.h"
#include "reference.h"
#include "templates.h"

/* The Internet checksum of @n bytes, from scratch, plus @sum. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Is the frame's IPv4 header and L4 checksum right?  (0xffff: yes) */
static void assert_checksums(const uint8_t *f, unsigned int len)
{
	int v4 = (f[12] << 8 | f[13]) == 0x0800;
	unsigned int l3 = 14, l4 = v4 ? 34 : 54;
	uint8_t proto = v4 ? f[l3 + 9] : f[l3 + 6];
	uint32_t s = 0;

	if (v4)
		assert_int_equal(fold(sum16(f + l3, 20, 0)), 0xffff);
	if (v4 && proto == 17 && !f[l4 + 6] && !f[l4 + 7])
		return; /* IPv4 UDP without a checksum */
	if (proto != 1) { /* ICMP sums no pseudo-header */
		s = v4 ? sum16(f + l3 + 12, 8, 0) : sum16(f + l3 + 8, 32, 0);
		s += proto + (len - l4);
	}
	assert_int_equal(fold(sum16(f + l4, len - l4, s)), 0xffff);
}

static void protocol_templates_valid(void **state)
{
	static const unsigned int sizes[] = { 0, 64, 99, 128, 1500 };
	enum traffic_proto all[TP_COUNT];
	uint8_t frame[BENCH_FRAME_MAX];

	for (int i = 0; i < TP_COUNT; i++)
		all[i] = (enum traffic_proto)i;
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct traffic_opts o = { .size = sizes[z], .flows = 600 };
		struct traffic tr;

		/* IPv6 TCP needs 74 bytes of headers: no 64-byte frames */
		if (sizes[z] == 64) {
			assert_int_equal(
				traffic_from_protos(all, TP_COUNT, &o, &tr),
				-EINVAL);
			continue;
		}
		assert_int_equal(traffic_from_protos(all, TP_COUNT, &o, &tr),
				 0);
		assert_int_equal(tr.frame_len, sizes[z] ? sizes[z] : 80);
		/* flows rounded up to a multiple of the templates */
		assert_int_equal(tr.flows, 600);
		for (uint64_t k = 0; k < 2000; k++) {
			traffic_frame(&tr, 0, frame);
			traffic_write(&tr, k, 1, frame);
			assert_checksums(frame, tr.frame_len);
			/* the payload past the headers is zero in every frame */
			for (unsigned int b = tr.copy_len; b < tr.frame_len;
			     b++)
				assert_int_equal(frame[b], 0);
		}
		traffic_free(&tr);
	}
}

static void variants_differ(void **state)
{
	enum traffic_proto udp = TP_UDP4;
	struct traffic_opts o = { .flows = 1000 };
	uint8_t frame[BENCH_FRAME_MAX];
	uint32_t seen[64] = { 0 };
	struct traffic tr;
	int distinct = 0;

	assert_int_equal(traffic_from_protos(&udp, 1, &o, &tr), 0);
	/* 1000 flows over 64 buckets of source port: most buckets hit */
	for (uint64_t k = 0; k < 4000; k++) {
		traffic_write(&tr, k, 0, frame);
		seen[(frame[34] << 8 | frame[35]) % 64]++;
	}
	for (int i = 0; i < 64; i++)
		distinct += seen[i] > 0;
	assert_true(distinct > 56);
	traffic_free(&tr);
}

/* The flow of a rewritten frame, as the reference matcher takes it. */
static void frame_flow(const uint8_t *f, const struct moat_ref_packet *orig,
		       struct moat_ref_packet *p)
{
	*p = *orig;
	if (p->family == AF_INET) {
		memcpy(p->src, f + 26, 4);
		if (p->proto == 6 || p->proto == 17)
			p->sport = (uint16_t)(f[34] << 8 | f[35]);
	} else {
		memcpy(p->src, f + 22, 16);
		if (p->proto == 6 || p->proto == 17)
			p->sport = (uint16_t)(f[54] << 8 | f[55]);
	}
}

static void variants_stay_in_their_rule(void **state)
{
	struct cb_opts co = { .seed = 3,
			      .nrules = 500,
			      .ipv6_pct = 30,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	struct traffic_opts o = { .seed = 3, .flows = 500 * 16 };
	uint8_t frame[BENCH_FRAME_MAX];
	struct moat_ruleset rs;
	struct cb_traffic cb;
	struct traffic tr;

	assert_int_equal(cb_generate(&co, &rs), 0);
	assert_int_equal(cb_traffic_build(&rs, 3, &cb), 0);
	assert_int_equal(traffic_from_rules(&rs, &cb, &o, &tr), 0);
	/* every template, a few variants each: still inside its rule */
	for (size_t i = 0; i < tr.n; i++) {
		for (uint64_t v = 1; v < 8; v++) {
			const struct moat_rule *r = &rs.rules[tr.rule[i]];
			struct moat_ref_packet p;

			traffic_frame(&tr, i, frame);
			assert_int_equal(
				bench_flow_rewrite(frame, frame + tr.frame_len,
						   &tr.t[i], bench_mix64(v)),
				0);
			assert_checksums(frame, tr.frame_len);
			frame_flow(frame, &cb.flows[tr.rule[i]], &p);
			if (!moat_reference_rule_matches(r, &p, NULL))
				fail_msg("variant %llu of %s's frame leaves it",
					 (unsigned long long)v, r->name);
		}
	}
	traffic_free(&tr);
	cb_traffic_free(&cb);
	moat_ruleset_free(&rs);
}

/*
 * ct-est establishes each flow by its number (traffic_flow_frame): the
 * frames must be the very ones the generators send.  ct-new's TCP
 * templates open connections.
 */
static void flows_by_number(void **state)
{
	enum traffic_proto p[2] = { TP_UDP4, TP_TCP6 };
	struct traffic_opts o = { .seed = 7,
				  .flows = 300,
				  .tcp_flags = MOAT_TCP_SYN };
	uint8_t a[BENCH_FRAME_MAX], b[BENCH_FRAME_MAX];
	struct traffic tr;

	assert_int_equal(traffic_from_protos(p, 2, &o, &tr), 0);
	assert_int_equal(tr.t[1].data[14 + 40 + 13], MOAT_TCP_SYN);
	for (uint64_t k = 0; k < 2000; k++) {
		uint64_t flow =
			bench_mix64(k ^ tr.seed ^ 3ull << 48) % tr.flows;

		traffic_frame(&tr, 0, a);
		traffic_write(&tr, k, 3, a);
		traffic_flow_frame(&tr, flow, b);
		assert_memory_equal(a, b, tr.frame_len);
		assert_checksums(b, tr.frame_len);
	}
	traffic_free(&tr);
}

/*
 * --active N: the traffic aims at N rules, the first N of the same
 * shuffle, each once; without it at every rule.
 */
static void active_subset(void **state)
{
	struct cb_opts co = { .seed = 5,
			      .nrules = 400,
			      .action = MOAT_DROP,
			      .policy = MOAT_DROP };
	struct traffic_opts all = { .seed = 5 }, some = { .seed = 5, .active = 37 },
			    over = { .seed = 5, .active = 1000 };
	struct traffic ta, ts, to;
	struct moat_ruleset rs;
	struct cb_traffic cb;
	uint8_t seen[400] = { 0 };

	assert_int_equal(cb_generate(&co, &rs), 0);
	assert_int_equal(cb_traffic_build(&rs, 5, &cb), 0);
	assert_int_equal(traffic_from_rules(&rs, &cb, &all, &ta), 0);
	assert_int_equal(traffic_from_rules(&rs, &cb, &some, &ts), 0);
	assert_int_equal(traffic_from_rules(&rs, &cb, &over, &to), 0);
	assert_int_equal(ta.n, 400);
	assert_int_equal(ts.n, 37);
	assert_int_equal(to.n, 400);
	for (size_t i = 0; i < ts.n; i++) {
		assert_int_equal(ts.rule[i], ta.rule[i]);
		assert_memory_equal(ts.t[i].data, ta.t[i].data, ts.copy_len);
		assert_int_equal(seen[ts.rule[i]]++, 0);
	}
	traffic_free(&ta);
	traffic_free(&ts);
	traffic_free(&to);
	cb_traffic_free(&cb);
	moat_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(protocol_templates_valid),
		cmocka_unit_test(variants_differ),
		cmocka_unit_test(variants_stay_in_their_rule),
		cmocka_unit_test(flows_by_number),
		cmocka_unit_test(active_subset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
