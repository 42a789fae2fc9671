// SPDX-License-Identifier: GPL-2.0-only
/*
 * The common frame's short way through the parse (moat_parse_common4()
 * and moat_parse_common6(), bpf/moat_parse.h) against the full walk
 * (moat_parse_walk()).  The XDP
 * program classifies the common frame from what the short way reads
 * alone, so wherever it answers, its key must be the walk's, byte for
 * byte, and where it declines it must leave the key alone.
 *
 * Frames: a table of near misses built by frame.c (options, fragments,
 * tags, lengths one short), then random frames of randgen.c, each also
 * cut at every length and with its header bytes changed one at a time.
 * Every frame is copied into a buffer of exactly its length, so that the
 * sanitizer build catches a read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frame.h"
#include "moat_parse.h"
#include "randgen.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static size_t ncommon, nframes;

/*
 * Parse @frame both ways and compare.  Returns 1 when the short way
 * answered.
 */
static int check(const uint8_t *frame, size_t len, const char *what)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct moat_frame f;
	struct moat_key a, b, untouched;
	int kind_a, kind_b, common;

	assert_non_null(copy);
	memcpy(copy, frame, len);
	f = (struct moat_frame){ .data = copy, .end = copy + len };
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&untouched, 0, sizeof(untouched));
	common = moat_parse_common4(&f, &a) || moat_parse_common6(&f, &a);
	if (!common && memcmp(&a, &untouched, sizeof(a))) {
		fprintf(stderr, "%s (%zu bytes): declined, but wrote the key\n",
			what, len);
		fail();
	}
	kind_a = common ? MOAT_K_CLASSIFY : moat_parse_walk(&f, &a);
	kind_b = moat_parse_walk(&f, &b);
	if (kind_a != kind_b || memcmp(&a, &b, sizeof(a))) {
		fprintf(stderr,
			"%s (%zu bytes): short way %d (kind %d, proto %u, ports %u %u, "
			"flags %#x, l4 %u, l4_off %u), walk kind %d (proto %u, ports %u %u, "
			"flags %#x, l4 %u, l4_off %u)\n",
			what, len, common, kind_a, a.proto, a.sport, a.dport,
			a.tcp_flags, a.l4, a.l4_off, kind_b, b.proto, b.sport,
			b.dport, b.tcp_flags, b.l4, b.l4_off);
		fail();
	}
	/* moat_parse() is the two in turn */
	memset(&a, 0, sizeof(a));
	assert_int_equal(moat_parse(&f, &a), kind_b);
	assert_memory_equal(&a, &b, sizeof(a));
	free(copy);
	nframes++;
	ncommon += common;
	return common;
}

struct near_case {
	const char *name;
	struct moat_frame_spec spec;
	int common; /* the short way takes it */
};

#define V4(...)                                                                    \
	{ .kind = MOAT_FRAME_IP, .family = AF_INET, .src = { 192, 0, 2, 1 },       \
	  .dst = { 198, 51, 100, 7 }, __VA_ARGS__ }
#define V6(...)                                                                    \
	{ .kind = MOAT_FRAME_IP, .family = AF_INET6,                               \
	  .src = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },                             \
	  .dst = { 0x20, 0x01, 0x0d, 0xb8, [14] = 7, [15] = 2 }, __VA_ARGS__ }
#define PORTS .sport = 40000, .dport = 443

static const struct near_case near[] = {
	{ "udp", V4(PORTS, .proto = 17), 1 },
	{ "tcp syn", V4(PORTS, .proto = 6, .tcp_flags = 0x02), 1 },
	{ "tcp, payload",
	  V4(PORTS, .proto = 6, .tcp_flags = 0x18, .payload = 100), 1 },
	{ "udp, payload", V4(PORTS, .proto = 17, .payload = 1000), 1 },
	{ "icmp", V4(.proto = 1, .sport = 8, .dport = 0), 1 },
	{ "icmp, unreachable", V4(.proto = 1, .sport = 3, .dport = 3), 1 },
	{ "icmp, options", V4(.proto = 1, .sport = 8, .ip_options = 8), 0 },
	{ "icmp, fragment",
	  V4(.proto = 1, .sport = 8, .fragment = true, .more_fragments = true),
	  0 },
	/* ICMP's 4 bytes whole, but not the 8 the short way looks for */
	{ "icmp, 38 bytes", V4(.proto = 1, .sport = 8, .truncate = 38), 0 },
	{ "sctp", V4(PORTS, .proto = 132), 0 },
	{ "gre", V4(PORTS, .proto = 47), 0 },
	{ "udp, options", V4(PORTS, .proto = 17, .ip_options = 4), 0 },
	{ "tcp, options", V4(PORTS, .proto = 6, .ip_options = 40), 0 },
	{ "udp, first fragment",
	  V4(PORTS, .proto = 17, .fragment = true, .more_fragments = true), 0 },
	{ "udp, middle fragment",
	  V4(PORTS, .proto = 17, .fragment = true, .frag_offset = 3,
	     .more_fragments = true),
	  0 },
	{ "udp, last fragment",
	  V4(PORTS, .proto = 17, .fragment = true, .frag_offset = 3), 0 },
	{ "udp, tagged", V4(PORTS, .proto = 17, .nvlan = 1, .vlan = { 7 }), 0 },
	{ "tcp, two tags",
	  V4(PORTS, .proto = 6, .nvlan = 2, .vlan = { 7, 8 },
	     .vlan_8021ad = true),
	  0 },
	/* shorter than the IPv4 header says */
	{ "tcp, cut short", V4(PORTS, .proto = 6, .truncate = 53), 0 },
	{ "udp, cut short",
	  V4(PORTS, .proto = 17, .payload = 10, .truncate = 51), 0 },
	/* UDP without padding: whole at 42 bytes; and a byte short */
	{ "udp, 42 bytes", V4(PORTS, .proto = 17, .truncate = 42), 1 },
	{ "udp, 41 bytes", V4(PORTS, .proto = 17, .truncate = 41), 0 },
	{ "udp6", V6(PORTS, .proto = 17), 1 },
	{ "tcp6 syn", V6(PORTS, .proto = 6, .tcp_flags = 0x02), 1 },
	{ "tcp6, payload",
	  V6(PORTS, .proto = 6, .tcp_flags = 0x18, .payload = 200), 1 },
	{ "icmpv6 echo", V6(.proto = 58, .sport = 128), 1 },
	{ "icmpv6 packet too big", V6(.proto = 58, .sport = 2), 1 },
	{ "icmpv6 router solicitation", V6(.proto = 58, .sport = 133), 0 },
	{ "icmpv6 neighbour solicitation", V6(.proto = 58, .sport = 135), 0 },
	{ "icmpv6 redirect", V6(.proto = 58, .sport = 137), 0 },
	{ "icmpv6 138", V6(.proto = 58, .sport = 138), 1 },
	{ "icmp in IPv6", V6(.proto = 1, .sport = 8), 0 },
	{ "icmpv6 in IPv4", V4(.proto = 58, .sport = 128), 0 },
	{ "sctp6", V6(PORTS, .proto = 132), 0 },
	{ "udp6, hop-by-hop options",
	  V6(PORTS, .proto = 17, .ext = { 0 }, .next = 1), 0 },
	{ "tcp6, routing and destination options",
	  V6(PORTS, .proto = 6, .ext = { 43, 60 }, .next = 2), 0 },
	{ "udp6, first fragment",
	  V6(PORTS, .proto = 17, .ext = { 44 }, .next = 1, .fragment = true,
	     .more_fragments = true),
	  0 },
	{ "udp6, tagged", V6(PORTS, .proto = 17, .nvlan = 1, .vlan = { 9 }),
	  0 },
	{ "udp6, 61 bytes", V6(PORTS, .proto = 17, .truncate = 61), 0 },
	{ "tcp6, cut short", V6(PORTS, .proto = 6, .truncate = 73), 0 },
	/* a TCP header the IP header promises and the frame cuts short */
	{ "tcp, cut at its flags", V4(PORTS, .proto = 6, .truncate = 47), 0 },
	{ "tcp6, cut at its flags", V6(PORTS, .proto = 6, .truncate = 67), 0 },
	{ "arp", { .kind = MOAT_FRAME_ARP }, 0 },
};

static void test_near_misses(void **state)
{
	uint8_t buf[MOAT_FRAME_MAX];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(near); i++) {
		size_t len = moat_frame_build(&near[i].spec, buf, sizeof(buf));

		assert_true(len > 0);
		if (check(buf, len, near[i].name) != near[i].common) {
			fprintf(stderr, "%s: short way %s, expected %s\n",
				near[i].name, near[i].common ? "declined" : "taken",
				near[i].common ? "taken" : "declined");
			fail();
		}
	}
}

/* Header fields the short way tests, where a changed byte matters. */
static const size_t touchy[] = {
	12, 13, /* ethertype */
	14, /* version (and IPv4's header length) */
	16, 17, /* IPv4's total length */
	18, 19, /* IPv6's payload length */
	20, 21, /* IPv4's flags and fragment offset; IPv6's next header */
	23, /* IPv4's protocol */
	54, /* ICMPv6's type right after IPv6's header */
};

static void test_random_frames(void **state)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x06, 0x08, 0x11,
					  0x14, 0x1c, 0x20, 0x3a, 0x3f,
					  0x40, 0x45, 0x46, 0x80, 0x84,
					  0x85, 0x89, 0x8a, 0xff };
	uint8_t buf[MOAT_FRAME_MAX], mut[MOAT_FRAME_MAX];
	char what[64];
	size_t taken = 0, all = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct rg_ruleset_opts o = { .nrules = 50, .v6_pct = 20,
					     .overlap_pct = 50 };
		struct moat_ruleset rs;
		struct rg g;

		rg_init(&g, seed);
		assert_int_equal(rg_ruleset(&g, &o, &rs), 0);
		for (int n = 0; n < 300; n++) {
			const char *iface;
			size_t len = rg_frame(&g, &rs, buf, sizeof(buf), &iface);

			assert_true(len > 0);
			snprintf(what, sizeof(what), "seed %llu frame %d",
				 (unsigned long long)seed, n);
			taken += check(buf, len, what);
			all++;
			for (size_t cut = 0; cut < len && cut <= 64; cut++)
				check(buf, cut, what);
			for (size_t t = 0; t < ARRAY_SIZE(touchy); t++) {
				if (touchy[t] >= len)
					continue;
				for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
					memcpy(mut, buf, len);
					mut[touchy[t]] = values[v];
					check(mut, len, what);
				}
			}
		}
		moat_ruleset_free(&rs);
	}
	/*
	 * Not a vacuous pass: a fifth or more of randgen's frames are plain
	 * TCP, UDP and ICMP (the rest: other protocols, options, extension
	 * headers, fragments, tags, ARP, broken frames).
	 */
	fprintf(stderr, "%zu of %zu random frames took the short way; %zu of %zu frames in all\n",
		taken, all, ncommon, nframes);
	assert_true(taken * 10 > all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_near_misses),
		cmocka_unit_test(test_random_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
