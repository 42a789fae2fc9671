/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reference matcher: what a ruleset means, stated naively.  It reads a
 * frame the way docs/ruleset.md says ("What a packet is") and walks the
 * rules in order.  It shares no code with the compiler or the XDP program,
 * on purpose: the differential tests hold those to this.
 */
#ifndef MOAT_REFERENCE_H
#define MOAT_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

enum moat_ref_kind {
	MOAT_REF_RULE = 0, /* a rule matched: see .rule */
	MOAT_REF_POLICY, /* no rule matched */
	MOAT_REF_ARP,
	MOAT_REF_ND,
	MOAT_REF_NONIP,
	MOAT_REF_MALFORMED,
	MOAT_REF_ESTABLISHED, /* "allow established": passed before the rules */
	MOAT_REF_RELATED,
};

struct moat_ref_verdict {
	enum moat_ref_kind kind;
	size_t rule; /* index into rs->rules when kind is MOAT_REF_RULE */
	bool drop; /* what happens to the frame */
};

/*
 * The packet as the rules see it, after the frame is read.  Exposed so
 * that tests can say why a frame got its verdict.
 */
struct moat_ref_packet {
	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint8_t proto;
	bool has_l4; /* false for later fragments and protocols without ports */
	uint16_t sport, dport; /* ICMP(v6): type and code */
	uint8_t tcp_flags;
	uint8_t ct; /* the packet's MOAT_CT_* state, set by the caller; 0: untracked */
	uint8_t frag; /* 1: a first fragment, 2: a later one; 0: whole */
	uint32_t frag_id; /* the IPv4 identification or IPv6 fragment header's */
};

/* Read a frame; returns the kind it is before any rule (RULE meaning "classify"). */
enum moat_ref_kind moat_reference_read(const uint8_t *frame, size_t len,
				       struct moat_ref_packet *pkt);

/* Does rule @r match @pkt arriving on @iface (NULL: no interface known)? */
bool moat_reference_rule_matches(const struct moat_rule *r,
				 const struct moat_ref_packet *pkt,
				 const char *iface);

struct moat_ref_verdict moat_reference_classify(const struct moat_ruleset *rs,
						const uint8_t *frame,
						size_t len, const char *iface);

/*
 * The same for a packet whose conntrack state is @ct (a MOAT_CT_* bit, 0
 * when untracked): with "allow established", established and related
 * packets pass before any rule.
 */
struct moat_ref_verdict moat_reference_classify_ct(const struct moat_ruleset *rs,
						   const uint8_t *frame,
						   size_t len,
						   const char *iface,
						   uint8_t ct);

#endif /* MOAT_REFERENCE_H */
