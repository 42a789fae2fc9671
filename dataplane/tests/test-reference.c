/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reference matcher against docs/ruleset.md, one table row per case,
 * each saying why its verdict is the one the document asks for.  Rulesets
 * are built in C: this test must not depend on the parser.  Frames come
 * from frame.c and are then broken on purpose where a row says so.
 *
 * Every frame is copied into a buffer of exactly its length before it is
 * read, so that the sanitizer build catches a read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frame.h"
#include "randgen.h"
#include "reference.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Building rules in C */

/* one line a macro reads better than what clang-format makes of it */
/* clang-format off */
#define LIST(T, ...) \
	{ (T[]){ __VA_ARGS__ }, sizeof((T[]){ __VA_ARGS__ }) / sizeof(T) }
#define PROTOS(...) .protos = LIST(uint8_t, __VA_ARGS__)
#define FROM(...) .src = LIST(struct moat_prefix, __VA_ARGS__)
#define TO(...) .dst = LIST(struct moat_prefix, __VA_ARGS__)
#define SPORT(...) .sport = LIST(struct moat_range, __VA_ARGS__)
#define DPORT(...) .dport = LIST(struct moat_range, __VA_ARGS__)
#define TYPE(...) .icmp_type = LIST(struct moat_range, __VA_ARGS__)
#define CODE(...) .icmp_code = LIST(struct moat_range, __VA_ARGS__)
#define FLAGS(value, mask) .tcp_flags_value = (value), .tcp_flags_mask = (mask)
#define IN(...) .ifaces = LIST(struct moat_iface, __VA_ARGS__)
#define IFACE(n) { .name = n }
#define R(lo, hi) { lo, hi }
#define P(x) { x, x }
#define V4(a, b, c, d, l) { .family = AF_INET, .len = l, .addr = { a, b, c, d } }
#define V6(l, ...) { .family = AF_INET6, .len = l, .addr = { __VA_ARGS__ } }
/* 2001:db8::/32 and things inside it */
#define DB8 0x20, 0x01, 0x0d, 0xb8

#define ALLOW(n, ...) { .name = n, .action = MOAT_ALLOW, __VA_ARGS__ }
#define DROP(n, ...) { .name = n, .action = MOAT_DROP, __VA_ARGS__ }
#define RULES(...) \
	.rules = (struct moat_rule[]){ __VA_ARGS__ }, \
	.nrules = sizeof((struct moat_rule[]){ __VA_ARGS__ }) / \
		  sizeof(struct moat_rule)
/* clang-format on */

#define TCP 6
#define UDP 17
#define SCTP 132
#define ICMP 1
#define ICMP6 58

#define TCP4 .family = AF_INET, .proto = TCP
#define UDP4 .family = AF_INET, .proto = UDP
#define SCTP4 .family = AF_INET, .proto = SCTP
#define ICMP4 .family = AF_INET, .proto = ICMP
#define TCP6 .family = AF_INET6, .proto = TCP
#define UDP6 .family = AF_INET6, .proto = UDP
#define SCTP6 .family = AF_INET6, .proto = SCTP
#define ICMPV6 .family = AF_INET6, .proto = ICMP6

/* The verdicts */
#define RULE(n, d) .kind = MOAT_REF_RULE, .rule = n, .drop = d
#define POLICY(d) .kind = MOAT_REF_POLICY, .drop = d
#define ARP .kind = MOAT_REF_ARP, .drop = false
#define ND .kind = MOAT_REF_ND, .drop = false
#define NONIP .kind = MOAT_REF_NONIP, .drop = false
#define MALFORMED .kind = MOAT_REF_MALFORMED, .drop = true
#define PASS false
#define DROPPED true

/* What a row does to the frame after building it */
#define IPLEN(n) .set_len = true, .ip_len = (n)
#define POKE(at, v) .poke = true, .poke_at = (at), .poke_val = (v)

struct row {
	const char *name;

	struct moat_rule *rules;
	size_t nrules;
	enum moat_action policy;

	struct moat_frame_spec f;
	/* default: 192.0.2.1 > 192.0.2.2, or 2001:db8::1 > 2001:db8::2 */
	const char *src, *dst;
	bool set_len; /* IPv4 total length / IPv6 payload length := ip_len */
	uint16_t ip_len;
	bool poke; /* the byte at poke_at past the start of the IP header */
	uint16_t poke_at;
	uint8_t poke_val;
	const char *iface;

	enum moat_ref_kind kind;
	const char *rule;
	bool drop;
};

/*
 * A ruleset that drops everything by rule and by policy: a row that
 * expects a fixed verdict against it shows that the verdict comes before
 * any rule.
 */
#define DROP_ALL RULES(DROP("everything")), .policy = MOAT_DROP

/* The usual suspects, for the rows about how a packet is read. */
#define SERVICES                                                \
	RULES(ALLOW("ssh", PROTOS(TCP), DPORT(P(22))),          \
	      ALLOW("dns", PROTOS(UDP), DPORT(P(53))),          \
	      ALLOW("sctp-m3ua", PROTOS(SCTP), DPORT(P(2905))), \
	      ALLOW("ping", PROTOS(ICMP), TYPE(P(8))),          \
	      ALLOW("ping6", PROTOS(ICMP6), TYPE(P(128)))),     \
		.policy = MOAT_DROP

static const struct row rows[] = {
	/* The fixed verdicts: ARP, neighbour discovery, other ethertypes */
	{ "arp passes under drop-all", DROP_ALL,
	  /* ARP passes so that policy drop cannot cut a host off its LAN */
	  .f = { .kind = MOAT_FRAME_ARP, .family = AF_INET }, ARP },
	{ "arp in a vlan tag passes", DROP_ALL,
	  /* tags are skipped before the ethertype is judged */
	  .f = { .kind = MOAT_FRAME_ARP,
		 .family = AF_INET,
		 .nvlan = 1,
		 .vlan = { 10 } },
	  ARP },
	{ "nd router solicitation 133 passes", DROP_ALL,
	  .f = { ICMPV6, .sport = 133, .ttl = 255 }, ND },
	{ "nd router advertisement 134 passes", DROP_ALL,
	  .f = { ICMPV6, .sport = 134, .ttl = 255 }, ND },
	{ "nd neighbour solicitation 135 passes", DROP_ALL,
	  .f = { ICMPV6, .sport = 135, .ttl = 255 }, ND },
	{ "nd neighbour advertisement 136 passes", DROP_ALL,
	  .f = { ICMPV6, .sport = 136, .ttl = 255 }, ND },
	{ "nd redirect 137 passes", DROP_ALL,
	  .f = { ICMPV6, .sport = 137, .ttl = 255 }, ND },
	{ "nd behind extension headers passes", DROP_ALL,
	  /* the type is read after the walk, like any transport header */
	  .f = { ICMPV6, .sport = 135, .next = 2, .ext = { 0, 60 } }, ND },
	{ "nd in a first fragment passes", DROP_ALL,
	  /* reading: a first fragment shows its type; the table says pass */
	  .f = { ICMPV6, .sport = 135, .fragment = true,
		 .more_fragments = true },
	  ND },
	{ "icmpv6 type 132 is not nd", DROP_ALL,
	  /* 133-137 exactly: MLD done is judged by the rules */
	  .f = { ICMPV6, .sport = 132 }, RULE("everything", DROPPED) },
	{ "icmpv6 type 138 is not nd", DROP_ALL, .f = { ICMPV6, .sport = 138 },
	  RULE("everything", DROPPED) },
	{ "icmp (v4) type 135 is not nd", DROP_ALL,
	  /* neighbour discovery is ICMPv6 */
	  .f = { ICMP4, .sport = 135 }, RULE("everything", DROPPED) },
	{ "nd type in a later fragment is not nd", DROP_ALL,
	  /* a later fragment has no ICMPv6 header to read a type from */
	  .f = { ICMPV6, .sport = 135, .fragment = true, .frag_offset = 4 },
	  RULE("everything", DROPPED) },
	{ "icmpv6 nd type cut short is malformed", DROP_ALL,
	  /* only 3 bytes of ICMPv6 header: malformed before any pass */
	  .f = { ICMPV6, .sport = 135 }, IPLEN(3), MALFORMED },
	{ "lldp is non-ip", DROP_ALL,
	  /* link-layer business an IP firewall does not judge */
	  .f = { .kind = MOAT_FRAME_RAW, .ethertype = 0x88cc, .payload = 40 },
	  NONIP },
	{ "802.3 length field is non-ip", DROP_ALL,
	  .f = { .kind = MOAT_FRAME_RAW, .ethertype = 0x0040, .payload = 64 },
	  NONIP },
	{ "0x9100 is non-ip, not a tag", DROP_ALL,
	  /* reading: only 0x8100 and 0x88a8 are tags the doc names */
	  .f = { .kind = MOAT_FRAME_RAW, .ethertype = 0x9100, .payload = 46 },
	  NONIP },
	{ "lldp in two vlan tags is non-ip", DROP_ALL,
	  .f = { .kind = MOAT_FRAME_RAW,
		 .ethertype = 0x88cc,
		 .payload = 40,
		 .nvlan = 2,
		 .vlan = { 10, 20 },
		 .vlan_8021ad = true },
	  NONIP },

	/* Malformed: Ethernet and VLAN */
	{ "13 bytes is shorter than ethernet", DROP_ALL,
	  .f = { .kind = MOAT_FRAME_RAW, .ethertype = 0x0800, .truncate = 13 },
	  MALFORMED },
	{ "1 byte is shorter than ethernet", DROP_ALL,
	  .f = { .kind = MOAT_FRAME_RAW, .ethertype = 0x0800, .truncate = 1 },
	  MALFORMED },
	{ "vlan tag cut by one byte", DROP_ALL,
	  /* 14 + 4 announced, 17 there */
	  .f = { TCP4, .nvlan = 1, .vlan = { 10 }, .truncate = 17 },
	  MALFORMED },
	{ "second vlan tag cut", DROP_ALL,
	  .f = { TCP4, .nvlan = 2, .vlan = { 10, 20 }, .truncate = 20 },
	  MALFORMED },
	{ "vlan tag and nothing after it", DROP_ALL,
	  /* the tag fits but the IPv4 header it announces does not */
	  .f = { TCP4, .nvlan = 1, .vlan = { 10 }, .truncate = 18 },
	  MALFORMED },
	{ "three vlan tags", DROP_ALL,
	  /* more than two tags: a way to hide from parsers that stop early */
	  .f = { TCP4, .dport = 22, .nvlan = 3, .vlan = { 10, 20 } },
	  MALFORMED },
	{ "four vlan tags", DROP_ALL,
	  .f = { TCP4, .dport = 22, .nvlan = 4, .vlan = { 10, 20 } },
	  MALFORMED },

	/* Malformed: IPv4 */
	{ "ipv4 header of 19 bytes", DROP_ALL,
	  .f = { TCP4, .truncate = 14 + 19 }, MALFORMED },
	{ "ipv4 version 5", DROP_ALL, .f = { TCP4 }, POKE(0, 0x55), MALFORMED },
	{ "ipv4 ethertype with version 6", DROP_ALL, .f = { TCP4 },
	  POKE(0, 0x65), MALFORMED },
	{ "ipv4 ihl 4", DROP_ALL,
	  /* a header length below 20 bytes */
	  .f = { TCP4 }, POKE(0, 0x44), MALFORMED },
	{ "ipv4 ihl 0", DROP_ALL, .f = { TCP4 }, POKE(0, 0x40), MALFORMED },
	{ "ipv4 ihl past the end of the frame", DROP_ALL,
	  /* 60 bytes of header announced, 46 in the (padded) frame */
	  .f = { TCP4 }, POKE(0, 0x4f), MALFORMED },
	{ "ipv4 total length below the header length", DROP_ALL, .f = { TCP4 },
	  IPLEN(19), MALFORMED },
	{ "ipv4 total length below header length with options", DROP_ALL,
	  /* 24 bytes of header, total 23 */
	  .f = { TCP4, .ip_options = 4 }, IPLEN(23), MALFORMED },
	{ "ipv4 total length past the end of the frame", DROP_ALL,
	  /* 60-byte frame: 46 bytes from the IP header on */
	  .f = { TCP4 }, IPLEN(47), MALFORMED },
	{ "ipv4 total length covering ethernet padding", DROP_ALL,
	  /* 46 is still inside the frame: not malformed, just odd */
	  .f = { TCP4 }, IPLEN(46), RULE("everything", DROPPED) },
	{ "ipv4 tcp cut short, unfragmented", DROP_ALL,
	  /* total 39: 19 bytes of TCP header */
	  .f = { TCP4 }, IPLEN(39), MALFORMED },

	/* Malformed: IPv6 */
	{ "ipv6 header of 39 bytes", DROP_ALL,
	  .f = { TCP6, .truncate = 14 + 39 }, MALFORMED },
	{ "ipv6 version 4", DROP_ALL, .f = { TCP6 }, POKE(0, 0x40), MALFORMED },
	{ "ipv6 payload length past the end of the frame", DROP_ALL,
	  /* 20 bytes of TCP there, 21 announced */
	  .f = { TCP6 }, IPLEN(21), MALFORMED },
	{ "ipv6 payload length at the end of the frame", DROP_ALL,
	  .f = { TCP6 }, IPLEN(20), RULE("everything", DROPPED) },
	{ "ipv6 extension header past the end of the frame", DROP_ALL,
	  /* 4 of the 8 bytes of a destination options header */
	  .f = { .family = AF_INET6,
		 .proto = 59,
		 .next = 1,
		 .ext = { 60 },
		 .truncate = 14 + 40 + 4 },
	  IPLEN(4), MALFORMED },
	{ "ipv6 extension header past the payload length", DROP_ALL,
	  /*
	   * reading: the payload length bounds the headers; the rest of the
	   * frame (padding here) is not part of the packet
	   */
	  .f = { .family = AF_INET6, .proto = 59, .next = 1, .ext = { 0 } },
	  IPLEN(4), MALFORMED },
	{ "ipv6 extension header length past the end", DROP_ALL,
	  /* hop-by-hop saying 8 * (1 + 10) bytes, 8 there */
	  .f = { UDP6, .next = 1, .ext = { 0 } }, POKE(41, 10), MALFORMED },
	{ "ipv6 authentication header length past the end", DROP_ALL,
	  /* AH counts 4-byte units plus 2: (200 + 2) * 4 bytes */
	  .f = { UDP6, .next = 1, .ext = { 51 } }, POKE(41, 200), MALFORMED },
	{ "ipv6 fragment header cut", DROP_ALL,
	  /* the fragment header is always 8 bytes */
	  .f = { UDP6, .next = 1, .ext = { 44 } }, IPLEN(7), MALFORMED },
	{ "ipv6 nine extension headers", DROP_ALL,
	  /* eight listed and the fragment header appended: one too many */
	  .f = { UDP6, .dport = 53, .next = 8,
		 .ext = { 0, 60, 43, 51, 60, 60, 135, 60 }, .fragment = true },
	  MALFORMED },
	{ "ipv6 eight extension headers are walked", SERVICES,
	  /* the limit itself is fine: dns matches after eight headers */
	  .f = { UDP6, .dport = 53, .next = 8,
		 .ext = { 0, 60, 43, 51, 60, 60, 135, 60 } },
	  RULE("dns", PASS) },

	/* Malformed: transport headers cut short (RFC 1858) */
	{ "tiny first fragment tcp ipv4", SERVICES,
	  /* 8 bytes of TCP: the ports are there, the flags are not */
	  .f = { TCP4, .dport = 22, .fragment = true, .more_fragments = true },
	  IPLEN(20 + 8), MALFORMED },
	{ "tiny first fragment tcp ipv4 of 19 bytes", SERVICES,
	  .f = { TCP4, .dport = 22, .fragment = true, .more_fragments = true },
	  IPLEN(20 + 19), MALFORMED },
	{ "first fragment with a whole tcp header", SERVICES,
	  /* 20 bytes: classified like any packet, ports included */
	  .f = { TCP4, .dport = 22, .fragment = true, .more_fragments = true },
	  RULE("ssh", PASS) },
	{ "tiny first fragment udp ipv4", SERVICES,
	  .f = { UDP4, .dport = 53, .fragment = true, .more_fragments = true },
	  IPLEN(20 + 7), MALFORMED },
	{ "tiny first fragment sctp ipv4", SERVICES,
	  .f = { SCTP4, .dport = 2905, .fragment = true,
		 .more_fragments = true },
	  IPLEN(20 + 11), MALFORMED },
	{ "tiny first fragment icmp ipv4", SERVICES,
	  .f = { ICMP4, .sport = 8, .fragment = true, .more_fragments = true },
	  IPLEN(20 + 3), MALFORMED },
	{ "first fragment with 4 bytes of icmp", SERVICES,
	  /* type and code are all ICMP needs */
	  .f = { ICMP4, .sport = 8, .fragment = true, .more_fragments = true },
	  IPLEN(20 + 4), RULE("ping", PASS) },
	{ "tiny first fragment tcp ipv6", SERVICES,
	  /* 8 bytes of fragment header, then 8 of TCP */
	  .f = { TCP6, .dport = 22, .fragment = true, .more_fragments = true },
	  IPLEN(8 + 8), MALFORMED },
	{ "tiny first fragment udp ipv6", SERVICES,
	  .f = { UDP6, .dport = 53, .fragment = true, .more_fragments = true },
	  IPLEN(8 + 7), MALFORMED },
	{ "tiny first fragment sctp ipv6", SERVICES,
	  .f = { SCTP6, .dport = 2905, .fragment = true,
		 .more_fragments = true },
	  IPLEN(8 + 11), MALFORMED },
	{ "tiny first fragment icmpv6", SERVICES,
	  .f = { ICMPV6, .sport = 128, .fragment = true,
		 .more_fragments = true },
	  IPLEN(8 + 3), MALFORMED },
	{ "udp cut short in an unfragmented ipv6 packet", SERVICES,
	  .f = { UDP6, .dport = 53 }, IPLEN(7), MALFORMED },
	{ "later fragment of one byte is not cut short", SERVICES,
	  /* it has no transport header to cut: the policy decides */
	  .f = { TCP4, .dport = 22, .fragment = true, .frag_offset = 100,
		 .payload = 1 },
	  POLICY(DROPPED) },

	/* VLAN tags are skipped; the packet inside is classified */
	{ "one 802.1q tag", SERVICES,
	  .f = { TCP4, .dport = 22, .nvlan = 1, .vlan = { 10 } },
	  RULE("ssh", PASS) },
	{ "one 802.1ad tag", SERVICES,
	  .f = { TCP4, .dport = 22, .nvlan = 1, .vlan = { 10 },
		 .vlan_8021ad = true },
	  RULE("ssh", PASS) },
	{ "802.1ad outside 802.1q", SERVICES,
	  .f = { UDP6, .dport = 53, .nvlan = 2, .vlan = { 100, 10 },
		 .vlan_8021ad = true },
	  RULE("dns", PASS) },
	{ "two 802.1q tags", SERVICES,
	  .f = { TCP6, .dport = 22, .nvlan = 2, .vlan = { 100, 10 } },
	  RULE("ssh", PASS) },
	{ "a tag does not get a packet around a drop", DROP_ALL,
	  .f = { TCP4, .dport = 22, .nvlan = 2, .vlan = { 100, 10 } },
	  RULE("everything", DROPPED) },

	/* IPv4 options are skipped */
	{ "ipv4 with a router alert option", SERVICES,
	  .f = { TCP4, .dport = 22, .ip_options = 4 }, RULE("ssh", PASS) },
	{ "ipv4 with 40 bytes of options", SERVICES,
	  .f = { UDP4, .dport = 53, .ip_options = 40 }, RULE("dns", PASS) },
	{ "ipv4 options are not ports", .policy = MOAT_DROP,
	  /*
	   * read at 20 bytes in, the router alert option 94 04 00 00 would
	   * be sport 37892 dport 0
	   */
	  RULES(DROP("misread", PROTOS(TCP), DPORT(P(0))),
		ALLOW("ssh", PROTOS(TCP), DPORT(P(22)))),
	  .f = { TCP4, .dport = 22, .ip_options = 4 }, RULE("ssh", PASS) },
	{ "ipv4 options do not hide a later fragment", SERVICES,
	  .f = { TCP4, .dport = 22, .ip_options = 8, .fragment = true,
		 .frag_offset = 3 },
	  POLICY(DROPPED) },

	/* IPv6 extension headers, each walked, then combined */
	{ "ipv6 hop-by-hop", SERVICES,
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 0 } },
	  RULE("dns", PASS) },
	{ "ipv6 routing (segment routing)", SERVICES,
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 43 } },
	  RULE("dns", PASS) },
	{ "ipv6 atomic fragment header", SERVICES,
	  /* offset 0, no more fragments: a whole packet with ports */
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 44 } },
	  RULE("dns", PASS) },
	{ "ipv6 authentication header", SERVICES,
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 51 } },
	  RULE("dns", PASS) },
	{ "ipv6 destination options", SERVICES,
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 60 } },
	  RULE("dns", PASS) },
	{ "ipv6 mobility header", SERVICES,
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 135 } },
	  RULE("dns", PASS) },
	{ "ipv6 hop-by-hop, routing, fragment, ah, dest opts", SERVICES,
	  .f = { TCP6, .dport = 22, .next = 5, .ext = { 0, 43, 44, 51, 60 } },
	  RULE("ssh", PASS) },
	{ "ipv6 hop-by-hop, dest opts, routing, dest opts, mobility", SERVICES,
	  .f = { ICMPV6, .sport = 128, .next = 5,
		 .ext = { 0, 60, 43, 60, 135 } },
	  RULE("ping6", PASS) },
	{ "ipv6 sctp after ah and dest opts", SERVICES,
	  .f = { SCTP6, .dport = 2905, .next = 2, .ext = { 51, 60 } },
	  RULE("sctp-m3ua", PASS) },
	{ "the protocol is the last next header", .policy = MOAT_ALLOW,
	  /* hop-by-hop is walked: it is not the protocol */
	  RULES(DROP("hbh", PROTOS(0)), DROP("dns", PROTOS(UDP))),
	  .f = { UDP6, .dport = 53, .next = 1, .ext = { 0 } },
	  RULE("dns", DROPPED) },
	{ "esp ends the walk and is the protocol", .policy = MOAT_DROP,
	  RULES(ALLOW("dstopts", PROTOS(60)), ALLOW("esp", PROTOS(50))),
	  .f = { .family = AF_INET6,
		 .proto = 50,
		 .next = 2,
		 .ext = { 0, 60 },
		 .payload = 24 },
	  RULE("esp", PASS) },
	{ "esp has no ports", .policy = MOAT_ALLOW,
	  /* a port-less rule on its addresses does match */
	  RULES(DROP("web", PROTOS(TCP, UDP, SCTP), DPORT(R(0, 65535))),
		DROP("peer", FROM(V6(128, DB8, [15] = 1)))),
	  .f = { .family = AF_INET6, .proto = 50, .payload = 24 },
	  RULE("peer", DROPPED) },
	{ "esp in ipv4", .policy = MOAT_DROP, RULES(ALLOW("esp", PROTOS(50))),
	  .f = { .family = AF_INET, .proto = 50, .payload = 24 },
	  RULE("esp", PASS) },
	{ "no next header ends the walk", .policy = MOAT_DROP,
	  RULES(ALLOW("dstopts", PROTOS(60)), ALLOW("none", PROTOS(59))),
	  .f = { .family = AF_INET6, .proto = 59, .next = 1, .ext = { 60 } },
	  RULE("none", PASS) },

	/* Fragments: ports only in the first */
	{ "ipv4 first fragment has ports", SERVICES,
	  .f = { TCP4, .dport = 22, .fragment = true, .more_fragments = true,
		 .payload = 100 },
	  RULE("ssh", PASS) },
	{ "ipv4 later fragment misses port rules", SERVICES,
	  /* no transport header: ssh cannot match, the policy drops */
	  .f = { TCP4, .dport = 22, .fragment = true, .frag_offset = 185,
		 .more_fragments = true, .payload = 100 },
	  POLICY(DROPPED) },
	{ "ipv4 last fragment matches a port-less rule", .policy = MOAT_DROP,
	  /* the doc's own example: allow frags udp from 192.0.2.53 */
	  RULES(ALLOW("dns", PROTOS(UDP), DPORT(P(53))),
		ALLOW("frags", PROTOS(UDP), FROM(V4(192, 0, 2, 53, 32)))),
	  .f = { UDP4, .dport = 53, .fragment = true, .frag_offset = 185,
		 .payload = 100 },
	  .src = "192.0.2.53", RULE("frags", PASS) },
	{ "ipv4 later fragment offset 1 has no ports either", SERVICES,
	  .f = { TCP4, .dport = 22, .fragment = true, .frag_offset = 1,
		 .payload = 16 },
	  POLICY(DROPPED) },
	{ "ipv6 first fragment has ports", SERVICES,
	  .f = { UDP6, .dport = 53, .fragment = true, .more_fragments = true,
		 .payload = 100 },
	  RULE("dns", PASS) },
	{ "ipv6 later fragment matches a port-less rule", .policy = MOAT_DROP,
	  RULES(ALLOW("dns", PROTOS(UDP), DPORT(P(53))),
		ALLOW("frags", PROTOS(UDP), FROM(V6(32, DB8)))),
	  .f = { UDP6, .dport = 53, .fragment = true, .frag_offset = 185,
		 .more_fragments = true, .payload = 100 },
	  RULE("frags", PASS) },
	{ "ipv6 later fragment after hop-by-hop", .policy = MOAT_DROP,
	  RULES(ALLOW("dns", PROTOS(UDP), DPORT(P(53))),
		ALLOW("frags", PROTOS(UDP), FROM(V6(32, DB8)))),
	  .f = { UDP6, .dport = 53, .next = 2, .ext = { 0, 44 },
		 .fragment = true, .frag_offset = 185, .payload = 100 },
	  RULE("frags", PASS) },
	{ "ipv6 later fragment: the protocol is the fragment's next header",
	  .policy = MOAT_DROP,
	  /*
	   * reading: with destination options after the fragment header,
	   * a later fragment shows 60 and no further header; the walk stops
	   * rather than read payload as headers
	   */
	  RULES(ALLOW("frags", PROTOS(UDP), FROM(V6(32, DB8))),
		ALLOW("dstopts", PROTOS(60))),
	  .f = { UDP6, .dport = 53, .next = 2, .ext = { 44, 60 },
		 .fragment = true, .frag_offset = 185, .payload = 100 },
	  RULE("dstopts", PASS) },
	{ "later fragment misses a type rule, matches an icmp rule",
	  .policy = MOAT_DROP,
	  RULES(DROP("ping", PROTOS(ICMP), TYPE(P(8))),
		ALLOW("icmp", PROTOS(ICMP))),
	  .f = { ICMP4, .sport = 8, .fragment = true, .frag_offset = 10,
		 .payload = 40 },
	  RULE("icmp", PASS) },
	{ "later fragment misses a code rule", .policy = MOAT_ALLOW,
	  RULES(DROP("unreach", PROTOS(ICMP6), CODE(R(0, 255)))),
	  .f = { ICMPV6, .sport = 1, .fragment = true, .frag_offset = 10,
		 .payload = 40 },
	  POLICY(PASS) },
	{ "later fragment misses a flags rule", .policy = MOAT_ALLOW,
	  RULES(DROP("syn", PROTOS(TCP), FLAGS(0x02, 0x02))),
	  .f = { TCP4, .tcp_flags = 0x02, .fragment = true, .frag_offset = 10,
		 .payload = 40 },
	  POLICY(PASS) },
	{ "later fragment misses a sport rule", .policy = MOAT_ALLOW,
	  RULES(DROP("any-sport", PROTOS(UDP), SPORT(R(0, 65535)))),
	  .f = { UDP6, .fragment = true, .frag_offset = 10, .payload = 40 },
	  POLICY(PASS) },

	/* First match wins */
	{ "first of two matching rules", .policy = MOAT_DROP,
	  RULES(ALLOW("web", PROTOS(TCP), DPORT(P(80))),
		DROP("all-tcp", PROTOS(TCP))),
	  .f = { TCP4, .dport = 80 }, RULE("web", PASS) },
	{ "first of two matching rules, reversed", .policy = MOAT_DROP,
	  RULES(DROP("all-tcp", PROTOS(TCP)),
		ALLOW("web", PROTOS(TCP), DPORT(P(80)))),
	  .f = { TCP4, .dport = 80 }, RULE("all-tcp", DROPPED) },
	{ "a rule that does not match is passed over", .policy = MOAT_ALLOW,
	  RULES(ALLOW("web", PROTOS(TCP), DPORT(P(80))),
		ALLOW("dns", PROTOS(UDP)),
		DROP("rest", FROM(V4(0, 0, 0, 0, 0)))),
	  .f = { TCP4, .dport = 81 }, RULE("rest", DROPPED) },
	{ "every given field must match", .policy = MOAT_ALLOW,
	  /* right port, wrong source */
	  RULES(DROP("web-office", PROTOS(TCP), DPORT(P(80)),
		     FROM(V4(203, 0, 113, 0, 24)))),
	  .f = { TCP4, .dport = 80 }, POLICY(PASS) },

	/* Lists are alternatives */
	{ "dport list: second item", .policy = MOAT_DROP,
	  RULES(ALLOW("web", PROTOS(TCP), DPORT(P(80), P(443), R(8000, 8999)))),
	  .f = { TCP4, .dport = 443 }, RULE("web", PASS) },
	{ "dport list: range item", .policy = MOAT_DROP,
	  RULES(ALLOW("web", PROTOS(TCP), DPORT(P(80), P(443), R(8000, 8999)))),
	  .f = { TCP4, .dport = 8500 }, RULE("web", PASS) },
	{ "dport list: between the items", .policy = MOAT_DROP,
	  RULES(ALLOW("web", PROTOS(TCP), DPORT(P(80), P(443), R(8000, 8999)))),
	  .f = { TCP4, .dport = 444 }, POLICY(DROPPED) },
	{ "from list: the ipv6 item", .policy = MOAT_DROP,
	  RULES(ALLOW("office", FROM(V4(203, 0, 113, 0, 24), V6(32, DB8)))),
	  .f = { TCP6 }, RULE("office", PASS) },
	{ "from list: the ipv4 item", .policy = MOAT_DROP,
	  RULES(ALLOW("office", FROM(V6(32, DB8), V4(203, 0, 113, 0, 24)))),
	  .f = { TCP4 }, .src = "203.0.113.9", RULE("office", PASS) },
	{ "protocol list: udp of tcp, udp", .policy = MOAT_DROP,
	  RULES(ALLOW("tu", PROTOS(TCP, UDP))), .f = { UDP4, .dport = 9 },
	  RULE("tu", PASS) },
	{ "protocol list: sctp is not in tcp, udp", .policy = MOAT_DROP,
	  RULES(ALLOW("tu", PROTOS(TCP, UDP))), .f = { SCTP4, .dport = 9 },
	  POLICY(DROPPED) },
	{ "protocol list with ports: sctp item", .policy = MOAT_DROP,
	  RULES(ALLOW("sig", PROTOS(TCP, SCTP), DPORT(P(2905)))),
	  .f = { SCTP6, .dport = 2905 }, RULE("sig", PASS) },
	{ "type list", .policy = MOAT_DROP,
	  RULES(ALLOW("errors", PROTOS(ICMP), TYPE(P(3), P(11), P(12)))),
	  .f = { ICMP4, .sport = 11 }, RULE("errors", PASS) },
	{ "code list", .policy = MOAT_DROP,
	  RULES(ALLOW("unreach", PROTOS(ICMP), TYPE(P(3)), CODE(P(1), P(4)))),
	  .f = { ICMP4, .sport = 3, .dport = 4 }, RULE("unreach", PASS) },

	/* Prefix boundaries */
	{ "/16: first address inside", .policy = MOAT_DROP,
	  RULES(ALLOW("net", FROM(V4(10, 1, 0, 0, 16)))), .f = { TCP4 },
	  .src = "10.1.0.0", RULE("net", PASS) },
	{ "/16: last address inside", .policy = MOAT_DROP,
	  RULES(ALLOW("net", FROM(V4(10, 1, 0, 0, 16)))), .f = { TCP4 },
	  .src = "10.1.255.255", RULE("net", PASS) },
	{ "/16: just below", .policy = MOAT_DROP,
	  RULES(ALLOW("net", FROM(V4(10, 1, 0, 0, 16)))), .f = { TCP4 },
	  .src = "10.0.255.255", POLICY(DROPPED) },
	{ "/16: just above", .policy = MOAT_DROP,
	  RULES(ALLOW("net", FROM(V4(10, 1, 0, 0, 16)))), .f = { TCP4 },
	  .src = "10.2.0.0", POLICY(DROPPED) },
	{ "/13: last address inside", .policy = MOAT_DROP,
	  /* a length that does not fall on a byte */
	  RULES(ALLOW("net", TO(V4(10, 0, 0, 0, 13)))), .f = { TCP4 },
	  .dst = "10.7.255.255", RULE("net", PASS) },
	{ "/13: just above", .policy = MOAT_DROP,
	  RULES(ALLOW("net", TO(V4(10, 0, 0, 0, 13)))), .f = { TCP4 },
	  .dst = "10.8.0.0", POLICY(DROPPED) },
	{ "/25 destination: first address inside", .policy = MOAT_DROP,
	  RULES(ALLOW("upper", TO(V4(192, 0, 2, 128, 25)))), .f = { UDP4 },
	  .dst = "192.0.2.128", RULE("upper", PASS) },
	{ "/25 destination: just below", .policy = MOAT_DROP,
	  RULES(ALLOW("upper", TO(V4(192, 0, 2, 128, 25)))), .f = { UDP4 },
	  .dst = "192.0.2.127", POLICY(DROPPED) },
	{ "/32: the address", .policy = MOAT_DROP,
	  RULES(ALLOW("host", FROM(V4(192, 0, 2, 7, 32)))), .f = { TCP4 },
	  .src = "192.0.2.7", RULE("host", PASS) },
	{ "/32: one below", .policy = MOAT_DROP,
	  RULES(ALLOW("host", FROM(V4(192, 0, 2, 7, 32)))), .f = { TCP4 },
	  .src = "192.0.2.6", POLICY(DROPPED) },
	{ "/32: one above", .policy = MOAT_DROP,
	  RULES(ALLOW("host", FROM(V4(192, 0, 2, 7, 32)))), .f = { TCP4 },
	  .src = "192.0.2.8", POLICY(DROPPED) },
	{ "/0 ipv4: the last address", .policy = MOAT_DROP,
	  RULES(ALLOW("all4", FROM(V4(0, 0, 0, 0, 0)))), .f = { TCP4 },
	  .src = "255.255.255.255", RULE("all4", PASS) },
	{ "/0 ipv4 does not hold ipv6", .policy = MOAT_DROP,
	  /* a prefix names a version: 0.0.0.0/0 is all of IPv4 only */
	  RULES(ALLOW("all4", FROM(V4(0, 0, 0, 0, 0)))), .f = { TCP6 },
	  .src = "::", POLICY(DROPPED) },
	{ "/0 ipv6: the last address", .policy = MOAT_DROP,
	  RULES(ALLOW("all6", TO(V6(0)))), .f = { TCP6 },
	  .dst = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  RULE("all6", PASS) },
	{ "/0 ipv6 does not hold ipv4", .policy = MOAT_DROP,
	  RULES(ALLOW("all6", TO(V6(0)))), .f = { TCP4 }, .dst = "0.0.0.0",
	  POLICY(DROPPED) },
	{ "/48: first address inside", .policy = MOAT_DROP,
	  RULES(ALLOW("site", FROM(V6(48, DB8, 0, 1)))), .f = { TCP6 },
	  .src = "2001:db8:1::", RULE("site", PASS) },
	{ "/48: last address inside", .policy = MOAT_DROP,
	  RULES(ALLOW("site", FROM(V6(48, DB8, 0, 1)))), .f = { TCP6 },
	  .src = "2001:db8:1:ffff:ffff:ffff:ffff:ffff", RULE("site", PASS) },
	{ "/48: just below", .policy = MOAT_DROP,
	  RULES(ALLOW("site", FROM(V6(48, DB8, 0, 1)))), .f = { TCP6 },
	  .src = "2001:db8:0:ffff:ffff:ffff:ffff:ffff", POLICY(DROPPED) },
	{ "/48: just above", .policy = MOAT_DROP,
	  RULES(ALLOW("site", FROM(V6(48, DB8, 0, 1)))), .f = { TCP6 },
	  .src = "2001:db8:2::", POLICY(DROPPED) },
	{ "/61: last address inside", .policy = MOAT_DROP,
	  RULES(ALLOW("odd", FROM(V6(61, DB8, 0, 1, 0, 0x10)))), .f = { TCP6 },
	  .src = "2001:db8:1:17:ffff:ffff:ffff:ffff", RULE("odd", PASS) },
	{ "/61: just above", .policy = MOAT_DROP,
	  RULES(ALLOW("odd", FROM(V6(61, DB8, 0, 1, 0, 0x10)))), .f = { TCP6 },
	  .src = "2001:db8:1:18::", POLICY(DROPPED) },
	{ "/128: the address", .policy = MOAT_DROP,
	  RULES(ALLOW("host6", TO(V6(128, DB8, [15] = 7)))), .f = { TCP6 },
	  .dst = "2001:db8::7", RULE("host6", PASS) },
	{ "/128: one below", .policy = MOAT_DROP,
	  RULES(ALLOW("host6", TO(V6(128, DB8, [15] = 7)))), .f = { TCP6 },
	  .dst = "2001:db8::6", POLICY(DROPPED) },
	{ "/128: one above", .policy = MOAT_DROP,
	  RULES(ALLOW("host6", TO(V6(128, DB8, [15] = 7)))), .f = { TCP6 },
	  .dst = "2001:db8::8", POLICY(DROPPED) },
	{ "ipv4-mapped ipv6 is not ipv4", .policy = MOAT_DROP,
	  RULES(ALLOW("host", FROM(V4(192, 0, 2, 7, 32)))), .f = { TCP6 },
	  .src = "::ffff:192.0.2.7", POLICY(DROPPED) },
	{ "from and to both checked", .policy = MOAT_DROP,
	  RULES(ALLOW("pair", FROM(V4(192, 0, 2, 1, 32)),
		      TO(V4(192, 0, 2, 1, 32)))),
	  /* the default destination is 192.0.2.2 */
	  .f = { TCP4 }, POLICY(DROPPED) },

	/* Port range edges */
	{ "dport range: one below", .policy = MOAT_DROP,
	  RULES(ALLOW("range", PROTOS(UDP), DPORT(R(1000, 1999)))),
	  .f = { UDP4, .dport = 999 }, POLICY(DROPPED) },
	{ "dport range: low end", .policy = MOAT_DROP,
	  RULES(ALLOW("range", PROTOS(UDP), DPORT(R(1000, 1999)))),
	  .f = { UDP4, .dport = 1000 }, RULE("range", PASS) },
	{ "dport range: high end", .policy = MOAT_DROP,
	  RULES(ALLOW("range", PROTOS(UDP), DPORT(R(1000, 1999)))),
	  .f = { UDP4, .dport = 1999 }, RULE("range", PASS) },
	{ "dport range: one above", .policy = MOAT_DROP,
	  RULES(ALLOW("range", PROTOS(UDP), DPORT(R(1000, 1999)))),
	  .f = { UDP4, .dport = 2000 }, POLICY(DROPPED) },
	{ "sport range: port 0", .policy = MOAT_DROP,
	  RULES(ALLOW("low", PROTOS(TCP), SPORT(R(0, 1023)))),
	  .f = { TCP6, .sport = 0 }, RULE("low", PASS) },
	{ "sport range: 1023", .policy = MOAT_DROP,
	  RULES(ALLOW("low", PROTOS(TCP), SPORT(R(0, 1023)))),
	  .f = { TCP6, .sport = 1023 }, RULE("low", PASS) },
	{ "sport range: 1024", .policy = MOAT_DROP,
	  RULES(ALLOW("low", PROTOS(TCP), SPORT(R(0, 1023)))),
	  .f = { TCP6, .sport = 1024 }, POLICY(DROPPED) },
	{ "port 65535", .policy = MOAT_DROP,
	  RULES(ALLOW("top", PROTOS(SCTP), DPORT(P(65535)))),
	  .f = { SCTP4, .dport = 65535 }, RULE("top", PASS) },
	{ "sport is not dport", .policy = MOAT_DROP,
	  RULES(ALLOW("dns", PROTOS(UDP), DPORT(P(53)))),
	  .f = { UDP4, .sport = 53, .dport = 40000 }, POLICY(DROPPED) },

	/* TCP flags: (flags & mask) == value */
	{ "flags syn/syn,ack: syn", .policy = MOAT_ALLOW,
	  RULES(DROP("new", PROTOS(TCP), FLAGS(0x02, 0x12))),
	  .f = { TCP4, .tcp_flags = 0x02 }, RULE("new", DROPPED) },
	{ "flags syn/syn,ack: syn+ack", .policy = MOAT_ALLOW,
	  RULES(DROP("new", PROTOS(TCP), FLAGS(0x02, 0x12))),
	  .f = { TCP4, .tcp_flags = 0x12 }, POLICY(PASS) },
	{ "flags syn/syn,ack: ack", .policy = MOAT_ALLOW,
	  RULES(DROP("new", PROTOS(TCP), FLAGS(0x02, 0x12))),
	  .f = { TCP4, .tcp_flags = 0x10 }, POLICY(PASS) },
	{ "flags syn/syn,ack: syn+fin, fin not examined", .policy = MOAT_ALLOW,
	  RULES(DROP("new", PROTOS(TCP), FLAGS(0x02, 0x12))),
	  .f = { TCP4, .tcp_flags = 0x03 }, RULE("new", DROPPED) },
	{ "flags syn: syn+ack", .policy = MOAT_ALLOW,
	  RULES(DROP("syn", PROTOS(TCP), FLAGS(0x02, 0x02))),
	  .f = { TCP6, .tcp_flags = 0x12 }, RULE("syn", DROPPED) },
	{ "flags fin,psh,urg/all: xmas", .policy = MOAT_ALLOW,
	  RULES(DROP("xmas", PROTOS(TCP), FLAGS(0x29, 0xff))),
	  .f = { TCP4, .tcp_flags = 0x29 }, RULE("xmas", DROPPED) },
	{ "flags fin,psh,urg/all: plus ece", .policy = MOAT_ALLOW,
	  RULES(DROP("xmas", PROTOS(TCP), FLAGS(0x29, 0xff))),
	  .f = { TCP4, .tcp_flags = 0x69 }, POLICY(PASS) },
	{ "flags cwr", .policy = MOAT_ALLOW,
	  RULES(DROP("cwr", PROTOS(TCP), FLAGS(0x80, 0x80))),
	  .f = { TCP4, .tcp_flags = 0x90 }, RULE("cwr", DROPPED) },

	/* ICMP type and code */
	{ "icmp type echo-request", .policy = MOAT_DROP,
	  RULES(ALLOW("ping", PROTOS(ICMP), TYPE(P(8)))),
	  .f = { ICMP4, .sport = 8 }, RULE("ping", PASS) },
	{ "icmp type echo-reply is not echo-request", .policy = MOAT_DROP,
	  RULES(ALLOW("ping", PROTOS(ICMP), TYPE(P(8)))),
	  .f = { ICMP4, .sport = 0 }, POLICY(DROPPED) },
	{ "icmp code range: high end", .policy = MOAT_DROP,
	  RULES(ALLOW("unreach", PROTOS(ICMP), TYPE(P(3)), CODE(R(0, 4)))),
	  .f = { ICMP4, .sport = 3, .dport = 4 }, RULE("unreach", PASS) },
	{ "icmp code range: one above", .policy = MOAT_DROP,
	  RULES(ALLOW("unreach", PROTOS(ICMP), TYPE(P(3)), CODE(R(0, 4)))),
	  .f = { ICMP4, .sport = 3, .dport = 5 }, POLICY(DROPPED) },
	{ "icmp type is not the code", .policy = MOAT_DROP,
	  RULES(ALLOW("t3", PROTOS(ICMP), TYPE(P(3)))),
	  .f = { ICMP4, .sport = 4, .dport = 3 }, POLICY(DROPPED) },
	{ "icmpv6 echo-request", .policy = MOAT_DROP,
	  RULES(ALLOW("ping6", PROTOS(ICMP6), TYPE(P(128)))),
	  .f = { ICMPV6, .sport = 128 }, RULE("ping6", PASS) },
	{ "icmpv6 type range 1-4", .policy = MOAT_DROP,
	  RULES(ALLOW("errors6", PROTOS(ICMP6), TYPE(R(1, 4)))),
	  .f = { ICMPV6, .sport = 4, .dport = 1 }, RULE("errors6", PASS) },
	{ "icmp rule does not match icmpv6", .policy = MOAT_DROP,
	  RULES(ALLOW("icmp", PROTOS(ICMP))), .f = { ICMPV6, .sport = 128 },
	  POLICY(DROPPED) },
	{ "icmp rule does not match protocol 1 in ipv6", .policy = MOAT_DROP,
	  /* reading: icmp (and proto 1) name IPv4 alone */
	  RULES(ALLOW("icmp", PROTOS(ICMP))),
	  .f = { .family = AF_INET6, .proto = ICMP, .payload = 8 },
	  POLICY(DROPPED) },
	{ "icmpv6 rule does not match protocol 58 in ipv4", .policy = MOAT_DROP,
	  RULES(ALLOW("icmp6", PROTOS(ICMP6))),
	  .f = { .family = AF_INET, .proto = ICMP6, .payload = 8 },
	  POLICY(DROPPED) },
	{ "protocol 58 in ipv4 has no transport header", .policy = MOAT_DROP,
	  /* 2 bytes of payload are not a cut ICMPv6 header: any rule matches */
	  RULES(ALLOW("any", FROM(V4(0, 0, 0, 0, 0)))),
	  .f = { .family = AF_INET, .proto = ICMP6, .payload = 2 },
	  RULE("any", PASS) },

	/* in: the interface the frame arrived on */
	{ "in eth0 on eth0", .policy = MOAT_DROP,
	  RULES(ALLOW("lan", IN(IFACE("eth0")))), .f = { TCP4 },
	  .iface = "eth0", RULE("lan", PASS) },
	{ "in eth0 on eth1", .policy = MOAT_DROP,
	  RULES(ALLOW("lan", IN(IFACE("eth0")))), .f = { TCP4 },
	  .iface = "eth1", POLICY(DROPPED) },
	{ "in eth0 on no known interface", .policy = MOAT_DROP,
	  RULES(ALLOW("lan", IN(IFACE("eth0")))), .f = { TCP4 }, .iface = NULL,
	  POLICY(DROPPED) },
	{ "in eth0, eth1 on eth1", .policy = MOAT_DROP,
	  RULES(ALLOW("lans", IN(IFACE("eth0"), IFACE("eth1")))), .f = { UDP6 },
	  .iface = "eth1", RULE("lans", PASS) },
	{ "in eth0 on eth0.100: names compare whole", .policy = MOAT_DROP,
	  RULES(ALLOW("lan", IN(IFACE("eth0")))), .f = { TCP4 },
	  .iface = "eth0.100", POLICY(DROPPED) },
	{ "in eth0 on eth0 with a vlan tag", .policy = MOAT_DROP,
	  /* in is the interface, not the VLAN */
	  RULES(ALLOW("lan", IN(IFACE("eth0")))),
	  .f = { TCP4, .nvlan = 1, .vlan = { 100 } }, .iface = "eth0",
	  RULE("lan", PASS) },
	{ "in with other fields", .policy = MOAT_ALLOW,
	  RULES(DROP("wan-ssh", PROTOS(TCP), DPORT(P(22)), IN(IFACE("wan0")))),
	  .f = { TCP4, .dport = 22 }, .iface = "lan0", POLICY(PASS) },

	/* The policy */
	{ "no rules, policy allow", .policy = MOAT_ALLOW,
	  .f = { TCP4, .dport = 22 }, POLICY(PASS) },
	{ "no rules, policy drop", .policy = MOAT_DROP,
	  .f = { TCP4, .dport = 22 }, POLICY(DROPPED) },
	{ "drop rule under policy allow", .policy = MOAT_ALLOW,
	  RULES(DROP("telnet", PROTOS(TCP), DPORT(P(23)))),
	  .f = { TCP4, .dport = 23 }, RULE("telnet", DROPPED) },
	{ "allow rule under policy drop", .policy = MOAT_DROP,
	  RULES(ALLOW("ssh", PROTOS(TCP), DPORT(P(22)))),
	  .f = { TCP6, .dport = 22 }, RULE("ssh", PASS) },
	{ "an empty rule matches every ip packet", .policy = MOAT_DROP,
	  RULES(ALLOW("all")),
	  .f = { .family = AF_INET6, .proto = 47, .payload = 20 },
	  RULE("all", PASS) },
};

/* Running a row */

static void set_default_addr(struct moat_frame_spec *f, const char *text,
			     uint8_t *out, bool src)
{
	const char *dflt = f->family == AF_INET6 ?
				   src ? "2001:db8::1" : "2001:db8::2" :
			   src ? "192.0.2.1" :
				 "192.0.2.2";
	int family = f->family == AF_INET6 ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, text ? text : dflt, out), 1);
}

static uint16_t ipv4_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Classify a copy of exactly @len bytes, so ASan sees any overread. */
static struct moat_ref_verdict classify_copy(const struct moat_ruleset *rs,
					     const uint8_t *frame, size_t len,
					     const char *iface)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct moat_ref_verdict v;

	assert_non_null(copy);
	memcpy(copy, frame, len);
	v = moat_reference_classify(rs, copy, len, iface);
	free(copy);
	return v;
}

static const char *kind_name(enum moat_ref_kind k)
{
	static const char *const names[] = { "rule", "policy", "arp",
					     "nd",   "non-ip", "malformed" };

	return (unsigned int)k < ARRAY_SIZE(names) ? names[k] : "?";
}

static void run_row(void **state)
{
	const struct row *t = *state;
	struct moat_frame_spec f = t->f;
	struct moat_ruleset rs = { .policy = t->policy,
				   .rules = t->rules,
				   .nrules = t->nrules };
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_ref_verdict v;
	size_t len, l3 = 14 + 4 * (size_t)f.nvlan;

	if (f.kind == MOAT_FRAME_IP || f.kind == MOAT_FRAME_ARP) {
		set_default_addr(&f, t->src, f.src, true);
		set_default_addr(&f, t->dst, f.dst, false);
	}
	len = moat_frame_build(&f, buf, sizeof(buf));
	assert_true(len > 0);

	if (t->set_len) {
		if (f.family == AF_INET) {
			buf[l3 + 2] = (uint8_t)(t->ip_len >> 8);
			buf[l3 + 3] = (uint8_t)t->ip_len;
		} else {
			buf[l3 + 4] = (uint8_t)(t->ip_len >> 8);
			buf[l3 + 5] = (uint8_t)t->ip_len;
		}
	}
	if (t->poke) {
		assert_true(l3 + t->poke_at < len);
		buf[l3 + t->poke_at] = t->poke_val;
	}
	if (f.kind == MOAT_FRAME_IP && f.family == AF_INET &&
	    len >= l3 + 20 + f.ip_options) {
		/* keep the header checksum right: it is not what is tested */
		size_t hl = 20 + f.ip_options;

		buf[l3 + 10] = buf[l3 + 11] = 0;
		buf[l3 + 10] = (uint8_t)(ipv4_csum(buf + l3, hl) >> 8);
		buf[l3 + 11] = (uint8_t)ipv4_csum(buf + l3, hl);
	}

	v = classify_copy(&rs, buf, len, t->iface);
	if (v.kind != t->kind)
		fail_msg("%s: verdict %s, expected %s", t->name,
			 kind_name(v.kind), kind_name(t->kind));
	if (t->kind == MOAT_REF_RULE &&
	    (v.rule >= rs.nrules || strcmp(rs.rules[v.rule].name, t->rule)))
		fail_msg("%s: rule %zu, expected %s", t->name, v.rule, t->rule);
	if (v.drop != t->drop)
		fail_msg("%s: %s, expected %s", t->name,
			 v.drop ? "drop" : "pass", t->drop ? "drop" : "pass");
}

/* What the reader exposes, field by field */

static void read_spec(struct moat_frame_spec *f, struct moat_ref_packet *pkt,
		      enum moat_ref_kind want)
{
	uint8_t buf[MOAT_FRAME_MAX];
	size_t len;

	set_default_addr(f, NULL, f->src, true);
	set_default_addr(f, NULL, f->dst, false);
	len = moat_frame_build(f, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(moat_reference_read(buf, len, pkt), want);
}

static void test_packet_fields(void **state)
{
	struct moat_frame_spec f = { TCP4,
				     .sport = 40000,
				     .dport = 443,
				     .tcp_flags = 0x12,
				     .ip_options = 12,
				     .nvlan = 2,
				     .vlan = { 1, 2 } };
	struct moat_ref_packet pkt;
	uint8_t a4[4] = { 192, 0, 2, 1 }, b4[4] = { 192, 0, 2, 2 };

	read_spec(&f, &pkt, MOAT_REF_RULE);
	assert_int_equal(pkt.family, AF_INET);
	assert_memory_equal(pkt.src, a4, 4);
	assert_memory_equal(pkt.dst, b4, 4);
	assert_int_equal(pkt.proto, TCP);
	assert_true(pkt.has_l4);
	assert_int_equal(pkt.sport, 40000);
	assert_int_equal(pkt.dport, 443);
	assert_int_equal(pkt.tcp_flags, 0x12);

	/* ICMP type and code sit in sport and dport */
	f = (struct moat_frame_spec){ ICMPV6, .sport = 1, .dport = 3, .next = 1,
				      .ext = { 60 } };
	read_spec(&f, &pkt, MOAT_REF_RULE);
	assert_int_equal(pkt.family, AF_INET6);
	assert_int_equal(pkt.proto, ICMP6);
	assert_true(pkt.has_l4);
	assert_int_equal(pkt.sport, 1);
	assert_int_equal(pkt.dport, 3);

	/* a later fragment: protocol yes, transport header no */
	f = (struct moat_frame_spec){ UDP6, .sport = 53, .dport = 53,
				      .fragment = true, .frag_offset = 2 };
	read_spec(&f, &pkt, MOAT_REF_RULE);
	assert_int_equal(pkt.proto, UDP);
	assert_false(pkt.has_l4);

	/* a protocol without ports */
	f = (struct moat_frame_spec){ .family = AF_INET,
				      .proto = 47,
				      .payload = 4 };
	read_spec(&f, &pkt, MOAT_REF_RULE);
	assert_int_equal(pkt.proto, 47);
	assert_false(pkt.has_l4);
}

/* The frames themselves: the checksums a receiver would verify */

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Sum of the transport segment and its pseudo-header: 0xffff when right. */
static uint16_t l4_sum(const uint8_t *ip, int family, const uint8_t *l4,
		       size_t n, uint8_t proto)
{
	uint8_t len[4] = { 0, 0, (uint8_t)(n >> 8), (uint8_t)n };
	uint32_t sum;

	if (family == AF_INET)
		sum = sum16(0, ip + 12, 8);
	else
		sum = sum16(0, ip + 8, 32);
	sum += proto;
	sum = sum16(sum, len, 4);
	return fold(sum16(sum, l4, n));
}

static void test_frame_checksums(void **state)
{
	static const struct moat_frame_spec specs[] = {
		{ TCP4, .sport = 1, .dport = 2, .tcp_flags = 0x02,
		  .payload = 3 },
		{ UDP4, .sport = 1, .dport = 2, .payload = 7, .ip_options = 8 },
		{ TCP6, .sport = 1, .dport = 2, .payload = 11, .next = 3,
		  .ext = { 0, 43, 60 } },
		{ UDP6, .sport = 1, .dport = 2, .payload = 1 },
		{ ICMPV6, .sport = 128, .payload = 5 },
	};
	uint8_t buf[MOAT_FRAME_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
		struct moat_frame_spec f = specs[i];
		size_t len, l3 = 14, l4;

		set_default_addr(&f, NULL, f.src, true);
		set_default_addr(&f, NULL, f.dst, false);
		len = moat_frame_build(&f, buf, sizeof(buf));
		l4 = moat_frame_l4_offset(&f);
		assert_true(len >= 60 && l4 > l3 && l4 < len);
		if (f.family == AF_INET) {
			size_t total = (size_t)(buf[l3 + 2] << 8 | buf[l3 + 3]);

			assert_int_equal(fold(sum16(0, buf + l3, l4 - l3)),
					 0xffff);
			assert_int_equal(l3 + total,
					 l4 + (f.proto == TCP ? 20 : 8) +
						 f.payload);
			assert_int_equal(l4_sum(buf + l3, AF_INET, buf + l4,
						l3 + total - l4, f.proto),
					 0xffff);
		} else {
			size_t plen = (size_t)(buf[l3 + 4] << 8 | buf[l3 + 5]);

			assert_int_equal(l4_sum(buf + l3, AF_INET6, buf + l4,
						l3 + 40 + plen - l4, f.proto),
					 0xffff);
		}
	}
}

/* RFC 3720 B.4: 32 bytes of zeros give CRC32C aa 36 91 8a. */
static void test_frame_sctp_crc(void **state)
{
	struct moat_frame_spec f = { SCTP4, .sport = 5000, .dport = 2905,
				     .payload = 20 };
	uint8_t buf[MOAT_FRAME_MAX];
	size_t len, l4;
	uint32_t crc = 0xffffffff, stored;

	set_default_addr(&f, NULL, f.src, true);
	set_default_addr(&f, NULL, f.dst, false);
	len = moat_frame_build(&f, buf, sizeof(buf));
	l4 = moat_frame_l4_offset(&f);
	assert_true(len > l4 + 12);
	stored = (uint32_t)buf[l4 + 8] | (uint32_t)buf[l4 + 9] << 8 |
		 (uint32_t)buf[l4 + 10] << 16 | (uint32_t)buf[l4 + 11] << 24;
	memset(buf + l4 + 8, 0, 4);
	/* a second, table-free CRC32C, checked against the RFC's vector */
	for (size_t i = l4; i < l4 + 12 + f.payload; i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	assert_int_equal(~crc, stored);

	crc = 0xffffffff;
	for (int i = 0; i < 32 * 8; i++)
		crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	assert_int_equal(~crc, 0x8a9136aa);
}

static void test_frame_shapes(void **state)
{
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_frame_spec f = { TCP4, .truncate = 30 };

	/* truncation: no padding after it */
	assert_int_equal(moat_frame_build(&f, buf, sizeof(buf)), 30);
	/* padding to 60 */
	f = (struct moat_frame_spec){ UDP4 };
	assert_int_equal(moat_frame_build(&f, buf, sizeof(buf)), 60);
	/* VLAN tags and offsets */
	f = (struct moat_frame_spec){ UDP6,
				      .nvlan = 2,
				      .vlan_8021ad = true,
				      .vlan = { 5, 6 },
				      .next = 2,
				      .ext = { 51, 44 } };
	assert_true(moat_frame_build(&f, buf, sizeof(buf)) > 0);
	assert_int_equal(moat_frame_l4_offset(&f), 14 + 8 + 40 + 24 + 8);
	assert_int_equal(buf[12] << 8 | buf[13], 0x88a8);
	assert_int_equal(buf[16] << 8 | buf[17], 0x8100);
	assert_int_equal(buf[20] << 8 | buf[21], 0x86dd);
	/* an IPv6 later fragment stops at its fragment header */
	f = (struct moat_frame_spec){ UDP6, .next = 2, .ext = { 44, 60 },
				      .fragment = true, .frag_offset = 9 };
	assert_int_equal(moat_frame_l4_offset(&f), 14 + 40 + 8);
	/* what cannot be built */
	f = (struct moat_frame_spec){ TCP4, .ip_options = 6 };
	assert_int_equal(moat_frame_build(&f, buf, sizeof(buf)), 0);
	f = (struct moat_frame_spec){ UDP6, .next = 1, .ext = { 50 } };
	assert_int_equal(moat_frame_build(&f, buf, sizeof(buf)), 0);
	f = (struct moat_frame_spec){ UDP4, .payload = 3000 };
	assert_int_equal(moat_frame_build(&f, buf, sizeof(buf)), 0);
	f = (struct moat_frame_spec){ UDP4 };
	assert_int_equal(moat_frame_build(&f, buf, 59), 0);
}

/* randgen */

static const char *const test_ifaces[] = { "eth0", "eth1", "veth-moat-a" };

static bool ranges_ok(const struct moat_range *v, size_t n, unsigned int max)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].lo > v[i].hi || v[i].hi > max)
			return false;
	return true;
}

static bool prefixes_ok(const struct moat_prefix *v, size_t n, bool *v4,
			bool *v6)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int bits = v[i].family == AF_INET ? 32 : 128;

		if ((v[i].family != AF_INET && v[i].family != AF_INET6) ||
		    v[i].len > bits)
			return false;
		for (unsigned int b = v[i].len; b < bits; b++)
			if (v[i].addr[b / 8] & (0x80 >> (b % 8)))
				return false; /* host bits */
		*(v[i].family == AF_INET ? v4 : v6) = true;
	}
	return true;
}

static bool all_protos(const struct moat_rule *r, const uint8_t *set, size_t n)
{
	if (!r->protos.n)
		return false;
	for (size_t i = 0; i < r->protos.n; i++)
		if (!memchr(set, r->protos.v[i], n))
			return false;
	return true;
}

/* docs/ruleset.md, "What is checked", for one rule; NULL when valid. */
static const char *rule_error(const struct moat_rule *r)
{
	static const uint8_t port_protos[] = { TCP, UDP, SCTP };
	bool s4 = false, s6 = false, d4 = false, d6 = false, p4, p6;

	if (!prefixes_ok(r->src.v, r->src.n, &s4, &s6) ||
	    !prefixes_ok(r->dst.v, r->dst.n, &d4, &d6))
		return "bad prefix";
	if (!ranges_ok(r->sport.v, r->sport.n, 65535) ||
	    !ranges_ok(r->dport.v, r->dport.n, 65535) ||
	    !ranges_ok(r->icmp_type.v, r->icmp_type.n, 255) ||
	    !ranges_ok(r->icmp_code.v, r->icmp_code.n, 255))
		return "bad range";
	if ((r->sport.n || r->dport.n) && !all_protos(r, port_protos, 3))
		return "ports without tcp/udp/sctp";
	if ((r->icmp_type.n || r->icmp_code.n) &&
	    (r->protos.n != 1 ||
	     (r->protos.v[0] != ICMP && r->protos.v[0] != ICMP6)))
		return "type/code without exactly icmp or icmpv6";
	if (r->tcp_flags_mask && (r->protos.n != 1 || r->protos.v[0] != TCP))
		return "flags without exactly tcp";
	if (r->tcp_flags_value & ~r->tcp_flags_mask)
		return "flags value outside the mask";
	p4 = !r->protos.n || !all_protos(r, (const uint8_t[]){ ICMP6 }, 1);
	p6 = !r->protos.n || !all_protos(r, (const uint8_t[]){ ICMP }, 1);
	if (!((!r->src.n || s4) && (!r->dst.n || d4) && p4) &&
	    !((!r->src.n || s6) && (!r->dst.n || d6) && p6))
		return "no IP version left";
	for (size_t i = 0; i < r->ifaces.n; i++) {
		bool known = false;

		for (size_t j = 0; j < ARRAY_SIZE(test_ifaces); j++)
			known |= !strcmp(r->ifaces.v[i].name, test_ifaces[j]);
		if (!known)
			return "unknown interface";
	}
	return NULL;
}

static void test_randgen_ruleset(void **state)
{
	struct rg_ruleset_opts o = { .nrules = 3000,
				     .v6_pct = 40,
				     .overlap_pct = 70,
				     .ifaces = test_ifaces,
				     .nifaces = ARRAY_SIZE(test_ifaces) };
	struct moat_ruleset rs;
	size_t with_in = 0, v6 = 0, wide = 0, host = 0, flags = 0, icmp = 0;
	struct rg g;
	char name[32];

	rg_init(&g, 1);
	assert_int_equal(rg_ruleset(&g, &o, &rs), 0);
	assert_int_equal(rs.nrules, o.nrules);
	for (size_t i = 0; i < rs.nrules; i++) {
		const struct moat_rule *r = &rs.rules[i];
		const char *err = rule_error(r);

		snprintf(name, sizeof(name), "r%zu", i);
		assert_string_equal(r->name, name);
		if (err)
			fail_msg("rule %s: %s", r->name, err);
		with_in += r->ifaces.n > 0;
		flags += r->tcp_flags_mask != 0;
		icmp += r->icmp_type.n > 0;
		for (size_t j = 0; j < r->src.n; j++) {
			v6 += r->src.v[j].family == AF_INET6;
			wide += r->src.v[j].len <= 8;
			host += r->src.v[j].len == 32 || r->src.v[j].len == 128;
		}
	}
	/* every kind of field shows up in a ruleset this size */
	assert_true(with_in > 0 && v6 > 0 && wide > 0 && host > 0 &&
		    flags > 0 && icmp > 0);
	moat_ruleset_free(&rs);

	/* tens of thousands */
	o.nrules = 50000;
	assert_int_equal(rg_ruleset(&g, &o, &rs), 0);
	assert_int_equal(rs.nrules, 50000);
	assert_string_equal(rs.rules[49999].name, "r49999");
	moat_ruleset_free(&rs);

	o.nrules = 0;
	assert_int_equal(rg_ruleset(&g, &o, &rs), 0);
	assert_null(rs.rules);
	o.nrules = MOAT_RULES_MAX + 1;
	assert_int_equal(rg_ruleset(&g, &o, &rs), -EINVAL);
}

static void test_randgen_deterministic(void **state)
{
	struct rg_ruleset_opts o = { .nrules = 200,
				     .v6_pct = 50,
				     .overlap_pct = 50,
				     .ifaces = test_ifaces,
				     .nifaces = ARRAY_SIZE(test_ifaces) };
	uint8_t a[MOAT_FRAME_MAX], b[MOAT_FRAME_MAX];
	struct moat_ruleset ra, rb;
	struct rg ga, gb;
	size_t differ = 0;

	rg_init(&ga, 42);
	rg_init(&gb, 42);
	assert_int_equal(rg_ruleset(&ga, &o, &ra), 0);
	assert_int_equal(rg_ruleset(&gb, &o, &rb), 0);
	for (size_t i = 0; i < ra.nrules; i++) {
		assert_int_equal(ra.rules[i].protos.n, rb.rules[i].protos.n);
		assert_int_equal(ra.rules[i].src.n, rb.rules[i].src.n);
		if (ra.rules[i].src.n)
			assert_memory_equal(
				ra.rules[i].src.v, rb.rules[i].src.v,
				ra.rules[i].src.n * sizeof(*ra.rules[i].src.v));
	}
	for (int i = 0; i < 1000; i++) {
		const char *ia, *ib;
		size_t la = rg_frame(&ga, &ra, a, sizeof(a), &ia);
		size_t lb = rg_frame(&gb, &rb, b, sizeof(b), &ib);

		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		assert_true(ia == ib || (ia && ib && !strcmp(ia, ib)));
	}

	/* another seed, other frames */
	rg_init(&gb, 43);
	for (int i = 0; i < 100; i++) {
		const char *ia, *ib;
		size_t la = rg_frame(&ga, &ra, a, sizeof(a), &ia);
		size_t lb = rg_frame(&gb, &ra, b, sizeof(b), &ib);

		differ += la != lb || memcmp(a, b, la);
	}
	assert_true(differ > 50);
	moat_ruleset_free(&ra);
	moat_ruleset_free(&rb);
}

/*
 * A frame aimed at rule i matches rule i, so the reference stops there
 * or at an earlier rule that also matches it.
 */
static void test_randgen_aimed(void **state)
{
	struct rg_ruleset_opts o = { .nrules = 500,
				     .v6_pct = 40,
				     .overlap_pct = 80,
				     .ifaces = test_ifaces,
				     .nifaces = ARRAY_SIZE(test_ifaces) };
	size_t kinds[MOAT_REF_MALFORMED + 1] = { 0 }, aimed = 0, later = 0;
	const size_t nframes = 40000;
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_ruleset rs;
	struct rg g;

	rg_init(&g, 7);
	assert_int_equal(rg_ruleset(&g, &o, &rs), 0);
	for (size_t i = 0; i < nframes; i++) {
		const char *iface;
		size_t len = rg_frame(&g, &rs, buf, sizeof(buf), &iface);
		struct moat_ref_verdict v;
		struct moat_ref_packet pkt;

		assert_true(len > 0 && len <= MOAT_FRAME_MAX);
		v = classify_copy(&rs, buf, len, iface);
		kinds[v.kind]++;
		if (moat_reference_read(buf, len, &pkt) == MOAT_REF_RULE &&
		    !pkt.has_l4 && (pkt.proto == TCP || pkt.proto == UDP))
			later++;
		if (g.aimed < 0)
			continue;
		aimed++;
		if (v.kind != MOAT_REF_RULE || v.rule > (size_t)g.aimed)
			fail_msg("frame %zu aimed at r%ld: %s %zu", i, g.aimed,
				 kind_name(v.kind), v.rule);
		assert_true(moat_reference_rule_matches(&rs.rules[g.aimed],
							&pkt, iface));
	}
	/* the mix rg_frame promises: mostly aimed, a bit of everything */
	assert_true(aimed > nframes * 70 / 100);
	assert_true(later > 0);
	for (int k = 0; k <= MOAT_REF_MALFORMED; k++)
		if (!kinds[k])
			fail_msg("no frame classified %s", kind_name(k));
	moat_ruleset_free(&rs);
}

/*
 * Every cut of random frames, each read from a buffer of exactly its
 * length: under the sanitizers, a read past the end is a failure.
 */
static void test_reference_every_cut(void **state)
{
	struct rg_ruleset_opts o = { .nrules = 50,
				     .v6_pct = 50,
				     .overlap_pct = 50 };
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_ruleset rs;
	struct rg g;

	rg_init(&g, 11);
	assert_int_equal(rg_ruleset(&g, &o, &rs), 0);
	for (int i = 0; i < 300; i++) {
		const char *iface;
		size_t len = rg_frame(&g, &rs, buf, sizeof(buf), &iface);

		for (size_t cut = 0; cut <= len; cut++) {
			struct moat_ref_verdict v =
				classify_copy(&rs, buf, cut, iface);

			/* shorter than an Ethernet header */
			if (cut < 14)
				assert_int_equal(v.kind, MOAT_REF_MALFORMED);
		}
	}
	moat_ruleset_free(&rs);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_packet_fields),
		cmocka_unit_test(test_frame_checksums),
		cmocka_unit_test(test_frame_sctp_crc),
		cmocka_unit_test(test_frame_shapes),
		cmocka_unit_test(test_randgen_ruleset),
		cmocka_unit_test(test_randgen_deterministic),
		cmocka_unit_test(test_randgen_aimed),
		cmocka_unit_test(test_reference_every_cut),
	};
	struct CMUnitTest *table = calloc(ARRAY_SIZE(rows), sizeof(*table));
	int failed;

	if (!table)
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		table[i].name = rows[i].name;
		table[i].test_func = run_row;
		table[i].initial_state = (void *)&rows[i];
	}
	failed = _cmocka_run_group_tests("reference-table", table,
					 ARRAY_SIZE(rows), NULL, NULL);
	free(table);
	failed += cmocka_run_group_tests_name("reference", fixed, NULL, NULL);
	return failed ? 1 : 0;
}
