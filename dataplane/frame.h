/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building Ethernet frames for tests and for moat-bench's traffic
 * templates: IPv4 and IPv6, TCP, UDP, SCTP, ICMP, ICMPv6, VLAN tags,
 * IPv4 options, IPv6 extension headers, fragments, ARP and other
 * ethertypes.  Checksums are filled in; lengths are consistent unless
 * the spec asks for a broken frame.
 */
#ifndef MOAT_FRAME_H
#define MOAT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOAT_FRAME_MAX 2048

enum moat_frame_kind {
	MOAT_FRAME_IP = 0, /* IPv4 or IPv6 by .family */
	MOAT_FRAME_ARP,
	MOAT_FRAME_RAW, /* only an Ethernet header with .ethertype, then payload */
};

struct moat_frame_spec {
	enum moat_frame_kind kind;
	uint8_t src_mac[6], dst_mac[6]; /* zero: fixed locally administered ones */
	uint16_t vlan[2]; /* VLAN ids, outer first */
	int nvlan; /* 0..2 (more is allowed, to build malformed frames: up to 4) */
	bool vlan_8021ad; /* outer tag is 802.1ad (0x88a8) */
	uint16_t ethertype; /* MOAT_FRAME_RAW only */

	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t proto; /* IP protocol, or IPv6 final next header */
	uint16_t sport, dport; /* TCP/UDP/SCTP ports; ICMP/ICMPv6: type and code */
	uint8_t tcp_flags;
	uint8_t ttl; /* 0: 64 */

	uint8_t ip_options; /* IPv4: option bytes, multiple of 4, up to 40 */
	uint8_t ext[8]; /* IPv6: extension headers in order (0, 43, 44, 51, 60, 135) */
	int next; /* how many of ext[] */

	bool fragment; /* IPv4 MF/offset, or an IPv6 fragment header */
	uint16_t frag_offset; /* in 8-byte units */
	bool more_fragments;

	uint16_t payload; /* bytes after the transport header */
	uint32_t truncate; /* nonzero: cut the finished frame to this many bytes */
};

/*
 * Write the frame into @buf (at most @cap bytes).  Returns its length, or
 * 0 when the spec cannot be built (too big, bad family).  A frame without
 * .truncate is padded to 60 bytes, as a NIC would.
 */
size_t moat_frame_build(const struct moat_frame_spec *s, uint8_t *buf,
			size_t cap);

/* Where the transport header starts in a frame built from @s (for templates). */
size_t moat_frame_l4_offset(const struct moat_frame_spec *s);

#endif /* MOAT_FRAME_H */
