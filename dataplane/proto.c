// SPDX-License-Identifier: GPL-2.0-only
/*
 * The names the ruleset language gives to IP protocols and to ICMP and
 * ICMPv6 types, both ways.  One table each, so that the parser and the
 * formatter cannot disagree.
 */
#include <string.h>
#include <sys/socket.h>

#include "ruleset.h"

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
	{ "tcp", MOAT_PROTO_TCP },	 { "udp", MOAT_PROTO_UDP },
	{ "sctp", MOAT_PROTO_SCTP },	 { "icmp", MOAT_PROTO_ICMP },
	{ "icmpv6", MOAT_PROTO_ICMPV6 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *moat_proto_name(uint8_t proto)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return NULL;
}

int moat_proto_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (!strcmp(protos[i].name, name))
			return protos[i].proto;
	return -1;
}

bool moat_proto_has_ports(uint8_t proto)
{
	return proto == MOAT_PROTO_TCP || proto == MOAT_PROTO_UDP ||
	       proto == MOAT_PROTO_SCTP;
}

/*
 * Type numbers from RFC 792, 950 and 1256 (ICMP) and RFC 4443, 4861,
 * 2710 and 3810 (ICMPv6); -1 where a name has no type in that protocol.
 * Names are those of docs/ruleset.md, with the British "neighbour".
 */
static const struct {
	const char *name;
	int icmp, icmpv6;
} icmp_types[] = {
	{ "echo-reply", 0, 129 },
	{ "destination-unreachable", 3, 1 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, 137 },
	{ "echo-request", 8, 128 },
	{ "router-advertisement", 9, 134 },
	{ "router-solicitation", 10, 133 },
	{ "time-exceeded", 11, 3 },
	{ "parameter-problem", 12, 4 },
	{ "timestamp-request", 13, -1 },
	{ "timestamp-reply", 14, -1 },
	{ "packet-too-big", -1, 2 },
	{ "neighbour-solicitation", -1, 135 },
	{ "neighbour-advertisement", -1, 136 },
	{ "mld-query", -1, 130 },
	{ "mld-report", -1, 131 },
	{ "mld-done", -1, 132 },
	{ "mld2-report", -1, 143 },
};

static int icmp_type_of(int family, size_t i)
{
	if (family == AF_INET)
		return icmp_types[i].icmp;
	if (family == AF_INET6)
		return icmp_types[i].icmpv6;
	return -1;
}

const char *moat_icmp_type_name(int family, uint8_t type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(icmp_types); i++)
		if (icmp_type_of(family, i) == type)
			return icmp_types[i].name;
	return NULL;
}

int moat_icmp_type_lookup(int family, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(icmp_types); i++)
		if (!strcmp(icmp_types[i].name, name))
			return icmp_type_of(family, i);
	return -1;
}
