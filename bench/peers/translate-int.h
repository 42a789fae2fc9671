/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the translators share: how a rule splits by IP version, how its
 * values print, and the reasons they give.
 */
#ifndef BENCH_PEERS_TRANSLATE_INT_H
#define BENCH_PEERS_TRANSLATE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "translate.h"

#define TR_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Room for a prefix as text: an IPv6 address, '/', three digits. */
#define TR_PREFIX_STRLEN 48

/* Does @r take part on @ifname (docs/ruleset.md, "Interfaces")? */
bool tr_rule_active(const struct moat_rule *r, const char *ifname);

/* Can a protocol item match a packet of @family?  icmp is IPv4's, icmpv6 IPv6's. */
bool tr_proto_in_family(uint8_t proto, int family);

/* Can @r match any packet of @family (AF_INET or AF_INET6)? */
bool tr_rule_in_family(const struct moat_rule *r, int family);

/*
 * A rule whose fields read the same for IPv4 and IPv6: no addresses, no
 * protocol that belongs to one version.  It translates once, without a
 * version condition, where the tool sees both versions.
 */
bool tr_rule_neutral(const struct moat_rule *r);

/*
 * Does @r read the transport header (ports, ICMP type or code, TCP
 * flags)?  Such a rule never matches a later fragment.
 */
bool tr_rule_needs_l4(const struct moat_rule *r);

/*
 * The items of an address list that are of @family, counted; *@all is
 * set when one of them is a /0, which leaves only the version to match.
 */
size_t tr_prefixes_in(const struct moat_prefix *v, size_t n, int family,
		      bool *all);

/* "10.0.0.0/8", "192.0.2.1", "2001:db8::/32": the /32 and /128 dropped. */
void tr_prefix_str(const struct moat_prefix *p, char *buf);

/* "80", "1024-65535", with @sep between the bounds. */
void tr_range_put(FILE *f, const struct moat_range *r, char sep);

/* Is @ifname safe to quote in the tools' languages? */
bool tr_ifname_ok(const char *ifname);

/* nft words: a protocol ("tcp", "ipv6-icmp", "47"; @buf holds numbers). */
const char *tr_nft_proto(uint8_t proto, char *buf);
/* "tcp flags & (syn | ack) == syn " */
void tr_nft_tcp_flags(FILE *f, uint8_t mask, uint8_t value);
/*
 * The head of an nft base chain after its first lines: later fragments
 * to the chain "frags", then neighbour discovery accepted.  And the
 * policy's counter that ends a chain.
 */
void tr_nft_head(FILE *f);
void tr_nft_tail(FILE *f);

/* A reason that quotes a rule: formatted into a per-thread buffer. */
const char *tr_reason(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* BENCH_PEERS_TRANSLATE_INT_H */
