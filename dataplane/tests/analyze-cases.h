/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rulesets and the exact warnings rule analysis must give them, one
 * "line:col: message" a line, or "" for none.  The near misses sit next
 * to the hits they resemble: each differs in the one edge that decides.
 */
#ifndef MOAT_ANALYZE_CASES_H
#define MOAT_ANALYZE_CASES_H

struct analyze_case {
	const char *name;
	const char *text;
	const char *want;
};

/*
 * The warning for rule @b, which starts line @l at column 1, and the rule
 * it names, at line @al or @cl.
 */
/* clang-format off */
#define SHADOW(l, b, a, al) \
	#l ":1: rule '" b "' can never match: rule '" a "' (line " #al \
	") matches every packet it does\n"
#define REDUNDANT(l, b, c, cl, verb) \
	#l ":1: rule '" b "' is redundant: rule '" c "' (line " #cl ") " \
	verb " everything it does\n"
/* clang-format on */

static const struct analyze_case analyze_cases[] = {
	/* conntrack states and options */
	{ "ct new does not hold ct established",
	  "classify established\nallow a ct new\ndrop b ct established\n", "" },
	{ "no ct holds ct invalid",
	  "drop a tcp\nallow b tcp ct invalid\n", SHADOW(2, "b", "a", 1) },
	{ "plain redundant", "drop a udp dport 53\ndrop b udp\n",
	  REDUNDANT(1, "a", "b", 2, "drops") },
	{ "a limit is not redundant",
	  "drop a udp dport 53 limit 10/s\ndrop b udp\n", "" },
	{ "nor is what a limit would take over",
	  "drop a udp dport 53\ndrop b udp log\n", "" },
	{ "a rule with a log in between",
	  "drop a udp dport 53\nallow l udp dport 53 audit log\ndrop b udp\n",
	  SHADOW(2, "l", "a", 1) },
	/* shadowed: the earlier rule's action does not matter */
	{ "same rule twice", "allow a tcp dport 22\ndrop b tcp dport 22\n",
	  SHADOW(2, "b", "a", 1) },
	{ "/23 holds /24",
	  "drop a from 10.0.0.0/23\nallow b from 10.0.1.0/24\n",
	  SHADOW(2, "b", "a", 1) },
	{ "/24 does not hold /23",
	  "drop a from 10.0.0.0/24\nallow b from 10.0.0.0/23\n", "" },
	{ "two /24s of one list hold the /23",
	  "drop a from 10.0.0.0/24, 10.0.1.0/24\nallow b from 10.0.0.0/23\n",
	  SHADOW(2, "b", "a", 1) },
	{ "two /24s of two rules do not (pairwise only)",
	  "drop a from 10.0.0.0/24\ndrop b from 10.0.1.0/24\n"
	  "allow c from 10.0.0.0/23\n",
	  "" },
	{ "ranges that join hold one across them",
	  "allow a tcp dport 1-99, 100-200\ndrop b tcp dport 50-150\n",
	  SHADOW(2, "b", "a", 1) },
	{ "ranges with a gap do not",
	  "allow a tcp dport 1-99, 101-200\ndrop b tcp dport 50-150\n", "" },

	/* ports, types, flags: later fragments have none */
	{ "no ports holds a port list", "allow a tcp\ndrop b tcp dport 22\n",
	  SHADOW(2, "b", "a", 1) },
	{ "every port does not hold no ports (later fragments)",
	  "allow a tcp dport 0-65535\ndrop b tcp\n", "" },
	{ "every port holds flags (both need the header)",
	  "allow a tcp dport 0-65535\ndrop b tcp flags syn\n",
	  SHADOW(2, "b", "a", 1) },
	{ "ports do not hold another protocol",
	  "allow a udp dport 53\ndrop b udp, tcp dport 53\n", "" },
	{ "a later fragment of a port rule's flow",
	  "allow a udp dport 53\ndrop b udp from 10.0.0.1\n", "" },
	{ "icmp type without code holds it with a code",
	  "allow a icmp type echo-request\ndrop b icmp type 8 code 0\n",
	  SHADOW(2, "b", "a", 1) },
	{ "a code does not hold no code",
	  "allow a icmp type echo-request code 0\ndrop b icmp type echo-request\n",
	  "" },
	{ "icmp holds icmp with a type", "allow a icmp\ndrop b icmp type 8\n",
	  SHADOW(2, "b", "a", 1) },
	{ "a type does not hold all of icmp",
	  "allow a icmp type 8\ndrop b icmp\n", "" },
	{ "flags: fewer examined, same asked",
	  "allow a tcp flags syn/syn,ack\ndrop b tcp flags syn/syn,ack,rst\n",
	  SHADOW(2, "b", "a", 1) },
	{ "flags: more examined do not hold fewer",
	  "allow a tcp flags syn/syn,ack\ndrop b tcp flags syn\n", "" },
	{ "flags: different flags",
	  "allow a tcp flags syn\ndrop b tcp flags ack\n", "" },
	{ "flags: clear asked, set given",
	  "allow a tcp flags /rst\ndrop b tcp flags rst\n", "" },

	/* IP versions and protocols */
	{ "IPv4-only does not hold any version",
	  "drop a from 0.0.0.0/0\nallow b tcp\n", "" },
	{ "IPv4-only holds IPv4",
	  "drop a from 0.0.0.0/0\nallow b tcp to 10.0.0.1\n",
	  SHADOW(2, "b", "a", 1) },
	{ "both versions' /0 hold everything",
	  "drop a from 0.0.0.0/0, ::/0\nallow b tcp\n",
	  SHADOW(2, "b", "a", 1) },
	{ "a protocol does not hold any", "allow a tcp\ndrop b from 10.0.0.1\n",
	  "" },
	{ "any holds a protocol",
	  "allow a from 10.0.0.1\ndrop b tcp from 10.0.0.1\n",
	  SHADOW(2, "b", "a", 1) },
	{ "protocol lists in any order",
	  "allow a proto tcp, udp\ndrop b udp, tcp dport 53\n",
	  SHADOW(2, "b", "a", 1) },
	{ "icmp does not hold icmpv6", "allow a icmp\ndrop b icmp, icmpv6\n",
	  "" },
	{ "icmp and icmpv6 hold icmpv6 in IPv6",
	  "allow a icmp, icmpv6\ndrop b icmpv6 from 2001:db8::/32\n",
	  SHADOW(2, "b", "a", 1) },
	{ "IPv6 addresses and the other version's",
	  "allow a from 2001:db8::/32\ndrop b from 10.0.0.0/8, 2001:db8::1\n",
	  "" },

	/* interfaces */
	{ "a list holds part of it",
	  "allow a in eth0, eth1\ndrop b tcp in eth1\n",
	  SHADOW(2, "b", "a", 1) },
	{ "part does not hold the list",
	  "allow a in eth0\ndrop b in eth0, eth1\n", "" },
	{ "an interface does not hold any", "allow a in eth0\ndrop b tcp\n",
	  "" },

	/* redundant: a later rule, same action, nothing else between */
	{ "a later list takes it",
	  "allow a tcp dport 80\nallow b tcp dport 80, 443\n",
	  REDUNDANT(1, "a", "b", 2, "allows") },
	{ "drops", "drop a from 192.0.2.1\ndrop b from 192.0.2.0/24\n",
	  REDUNDANT(1, "a", "b", 2, "drops") },
	{ "the other action between, overlapping",
	  "allow a tcp dport 80\ndrop x tcp from 10.0.0.0/8\n"
	  "allow b tcp dport 80, 443\n",
	  "" },
	{ "the other action between, other ports",
	  "allow a tcp dport 80\ndrop x tcp dport 22\nallow b tcp dport 80, 443\n",
	  REDUNDANT(1, "a", "b", 3, "allows") },
	{ "the other action between, other protocol",
	  "allow a tcp dport 80\ndrop x udp\nallow b tcp dport 80, 443\n",
	  REDUNDANT(1, "a", "b", 3, "allows") },
	{ "the other action between, flags meet any port",
	  "allow a tcp dport 80\ndrop x tcp flags syn\nallow b tcp dport 80, 443\n",
	  "" },
	{ "the other action between, flags that cannot both hold",
	  "allow a tcp flags syn\ndrop x tcp flags /syn\nallow b tcp\n",
	  REDUNDANT(1, "a", "b", 3, "allows") },
	{ "the other action between, later fragments",
	  "allow a udp dport 53\ndrop x udp from 10.0.0.0/8\nallow b udp\n",
	  "" },
	{ "the other action between, another interface",
	  "allow a tcp in eth0\ndrop x tcp in eth1\nallow b tcp\n",
	  REDUNDANT(1, "a", "b", 3, "allows") },
	{ "the other action between, no interface meets one",
	  "allow a tcp in eth0\ndrop x tcp\nallow b tcp\n",
	  SHADOW(3, "b", "x", 2) },
	{ "the same action between does not stop it",
	  "allow a tcp dport 80\nallow x udp\nallow b tcp\n",
	  REDUNDANT(1, "a", "b", 3, "allows") },
	{ "the other action later does not matter",
	  "allow a tcp dport 80\nallow b tcp\ndrop x tcp dport 80\n",
	  REDUNDANT(1, "a", "b", 2, "allows") SHADOW(3, "x", "a", 1) },
	{ "the other action does not make it redundant",
	  "allow a tcp dport 80\ndrop b tcp\n", "" },
	{ "the policy is not a rule",
	  "policy drop\nallow a tcp dport 22\ndrop b from 192.0.2.0/24\n", "" },

	/* shadowed comes first, and a shadowed rule holds nothing */
	{ "equal rules: the later one can never match",
	  "allow a tcp\nallow b tcp dport 22\nallow c tcp\n",
	  SHADOW(2, "b", "a", 1) SHADOW(3, "c", "a", 1) },
	{ "a shadowed rule of the other action still stands between",
	  "allow a tcp\ndrop x tcp dport 22\nallow b proto tcp, udp\n",
	  SHADOW(2, "x", "a", 1) },
	{ "the first holder is named",
	  "allow a from 10.0.0.0/8\nallow b from 10.0.0.0/16\n"
	  "drop c from 10.0.0.0/24\n",
	  SHADOW(2, "b", "a", 1) SHADOW(3, "c", "a", 1) },
	{ "nothing to find",
	  "policy drop\nallow ssh tcp from 203.0.113.0/24, 2001:db8::/32 dport 22\n"
	  "allow web tcp dport 80, 443\nallow dns-replies udp sport 53\n"
	  "allow ping icmp type echo-request\ndrop bad-nets from 198.51.100.0/24\n",
	  "" },
};

#endif /* MOAT_ANALYZE_CASES_H */
