/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building test frames.  Every header is written at a known offset with
 * explicit byte stores, so that a test reading the result can trust it
 * byte for byte; checksums are computed the way a sender would, so that
 * a capture of these frames looks sane in any dissector.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "frame.h"

#define ETH_HDR 14
#define VLAN_TAG 4
#define ARP_BODY 28
#define MIN_FRAME 60 /* what a NIC pads a short frame to (without FCS) */
#define MAX_TAGS 4

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP_ 0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8

#define PROTO_HOPOPT 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132
#define PROTO_MOBILITY 135

static const uint8_t default_src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t default_dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Size of one IPv6 extension header as this file writes it; 0: unknown. */
static size_t ext_size(uint8_t type)
{
	switch (type) {
	case PROTO_HOPOPT:
	case PROTO_DSTOPTS:
	case PROTO_FRAGMENT:
	case PROTO_MOBILITY:
		return 8;
	case PROTO_ROUTING: /* segment routing with one segment */
	case PROTO_AH: /* 12 bytes of header and a 96-bit ICV */
		return 24;
	default:
		return 0;
	}
}

static bool has_frag_ext(const struct moat_frame_spec *s)
{
	for (int i = 0; i < s->next; i++)
		if (s->ext[i] == PROTO_FRAGMENT)
			return true;
	return false;
}

/*
 * A fragment asked for without a fragment header in ext[] gets one after
 * the listed headers, just before the transport header.
 */
static bool appends_frag_ext(const struct moat_frame_spec *s)
{
	return s->family == AF_INET6 && s->fragment && !has_frag_ext(s);
}

static bool later_fragment(const struct moat_frame_spec *s)
{
	return s->fragment && s->frag_offset != 0;
}

static size_t l2_size(const struct moat_frame_spec *s)
{
	return ETH_HDR + (size_t)s->nvlan * VLAN_TAG;
}

/*
 * The extension headers of @s into @types (room for 9), with the
 * fragment header appended when asked for; *@all gets their number.
 * Returns how many are written: a later fragment carries only those up
 * to its fragment header, the rest being the start of the fragmentable
 * part that went with the first fragment.
 */
static int ext_chain(const struct moat_frame_spec *s, uint8_t *types, int *all)
{
	int n = s->next;

	memcpy(types, s->ext, (size_t)n);
	if (appends_frag_ext(s))
		types[n++] = PROTO_FRAGMENT;
	if (all)
		*all = n;
	if (later_fragment(s))
		for (int i = 0; i < n; i++)
			if (types[i] == PROTO_FRAGMENT)
				return i + 1;
	return n;
}

static size_t l3_size(const struct moat_frame_spec *s)
{
	uint8_t types[9];
	size_t len = 40;
	int n;

	if (s->family == AF_INET)
		return 20 + s->ip_options;
	n = ext_chain(s, types, NULL);
	for (int i = 0; i < n; i++)
		len += ext_size(types[i]);
	return len;
}

/* The transport header written for @s: later fragments carry none. */
static size_t l4_size(const struct moat_frame_spec *s)
{
	if (later_fragment(s))
		return 0;
	switch (s->proto) {
	case PROTO_TCP:
		return 20;
	case PROTO_UDP:
		return 8;
	case PROTO_SCTP:
		return 12;
	case PROTO_ICMP:
		return s->family == AF_INET ? 8 : 0;
	case PROTO_ICMPV6:
		return s->family == AF_INET6 ? 8 : 0;
	default:
		return 0;
	}
}

static bool spec_valid(const struct moat_frame_spec *s)
{
	if (s->nvlan < 0 || s->nvlan > MAX_TAGS)
		return false;
	switch (s->kind) {
	case MOAT_FRAME_ARP:
	case MOAT_FRAME_RAW:
		return true;
	case MOAT_FRAME_IP:
		break;
	default:
		return false;
	}
	if (s->family == AF_INET)
		return s->ip_options % 4 == 0 && s->ip_options <= 40;
	if (s->family != AF_INET6 || s->next < 0 || s->next > 8)
		return false;
	for (int i = 0; i < s->next; i++)
		if (!ext_size(s->ext[i]))
			return false;
	return true;
}

size_t moat_frame_l4_offset(const struct moat_frame_spec *s)
{
	if (!spec_valid(s))
		return 0;
	if (s->kind != MOAT_FRAME_IP)
		return l2_size(s);
	return l2_size(s) + l3_size(s);
}

/* Ones' complement sum, RFC 1071, continued from @sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of TCP, UDP and ICMPv6 (RFC 793, 768, 8200 8.1). */
static uint32_t pseudo_sum(const struct moat_frame_spec *s, size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	if (s->family == AF_INET) {
		sum = csum_add(0, s->src, 4);
		sum = csum_add(sum, s->dst, 4);
		tail[1] = s->proto;
		put16(tail + 2, (uint16_t)len);
		return csum_add(sum, tail, 4);
	}
	sum = csum_add(0, s->src, 16);
	sum = csum_add(sum, s->dst, 16);
	put32(tail, (uint32_t)len);
	tail[7] = s->proto;
	return csum_add(sum, tail, 8);
}

/* CRC-32C (Castagnoli), reflected, as SCTP uses it (RFC 4960 appendix B). */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
	}
	return ~crc;
}

static const uint8_t *mac_or(const uint8_t *mac, const uint8_t *fallback)
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) ? mac : fallback;
}

static size_t write_l2(const struct moat_frame_spec *s, uint8_t *p,
		       uint16_t ethertype)
{
	size_t off = 12;

	memcpy(p, mac_or(s->dst_mac, default_dst_mac), 6);
	memcpy(p + 6, mac_or(s->src_mac, default_src_mac), 6);
	for (int i = 0; i < s->nvlan; i++) {
		/* tags past the two of the spec get ids of their own */
		uint16_t id = i < 2 ? s->vlan[i] : (uint16_t)(100 + i);
		uint16_t tpid =
			i == 0 && s->vlan_8021ad ? ETH_P_8021AD_ : ETH_P_8021Q_;

		put16(p + off, tpid);
		put16(p + off + 2, id & 0x0fff);
		off += VLAN_TAG;
	}
	put16(p + off, ethertype);
	return off + 2;
}

static void write_arp(const struct moat_frame_spec *s, uint8_t *p)
{
	put16(p, 1); /* Ethernet */
	put16(p + 2, ETH_P_IPV4);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, 1); /* request */
	memcpy(p + 8, mac_or(s->src_mac, default_src_mac), 6);
	memcpy(p + 14, s->src, 4);
	memset(p + 18, 0, 6);
	memcpy(p + 24, s->dst, 4);
}

static void write_ipv4(const struct moat_frame_spec *s, uint8_t *p,
		       size_t total)
{
	size_t hl = 20 + s->ip_options;
	uint16_t frag = 0x4000; /* DF: whole datagrams say so */

	p[0] = 0x40 | (uint8_t)(hl / 4);
	p[1] = 0;
	put16(p + 2, (uint16_t)total);
	put16(p + 4, s->fragment ? 0x1234 : 0);
	if (s->fragment)
		frag = (s->frag_offset & 0x1fff) |
		       (s->more_fragments ? 0x2000 : 0);
	put16(p + 6, frag);
	p[8] = s->ttl ? s->ttl : 64;
	p[9] = s->proto;
	put16(p + 10, 0);
	memcpy(p + 12, s->src, 4);
	memcpy(p + 16, s->dst, 4);
	if (s->ip_options) {
		/* router alert (RFC 2113), then no-ops, then end of list */
		p[20] = 0x94;
		p[21] = 4;
		p[22] = 0;
		p[23] = 0;
		memset(p + 24, 1, s->ip_options - 4);
		if (s->ip_options > 4)
			p[hl - 1] = 0;
	}
	put16(p + 10, csum_fold(csum_add(0, p, hl)));
}

static void write_frag_ext(const struct moat_frame_spec *s, uint8_t *p)
{
	uint16_t off = 0;

	p[1] = 0;
	if (s->fragment)
		off = (uint16_t)(s->frag_offset << 3) |
		      (s->more_fragments ? 1 : 0);
	put16(p + 2, off);
	put32(p + 4, 0x12345678);
}

/* One extension header of ext_size(@type) bytes, next header in p[0]. */
static void write_ext(const struct moat_frame_spec *s, uint8_t *p, uint8_t type,
		      uint8_t next)
{
	memset(p, 0, ext_size(type));
	p[0] = next;
	switch (type) {
	case PROTO_HOPOPT:
	case PROTO_DSTOPTS:
		p[1] = 0;
		p[2] = 1; /* PadN over the six option bytes */
		p[3] = 4;
		break;
	case PROTO_ROUTING:
		/*
		 * Segment routing (RFC 8754) with segments left 0: the header
		 * is spent, the IPv6 destination is the final one, and so the
		 * pseudo-header of the transport checksum uses it.
		 */
		p[1] = 2;
		p[2] = 4;
		p[3] = 0;
		memcpy(p + 8, s->dst, 16);
		break;
	case PROTO_FRAGMENT:
		write_frag_ext(s, p);
		break;
	case PROTO_AH:
		p[1] = 24 / 4 - 2;
		put32(p + 4, 0x100); /* SPI */
		put32(p + 8, 1); /* sequence number; the ICV stays zero */
		break;
	case PROTO_MOBILITY:
		/* binding refresh request (RFC 6275 6.1.2), checksum left 0 */
		p[1] = 0;
		p[2] = 0;
		break;
	}
}

static void write_ipv6(const struct moat_frame_spec *s, uint8_t *p,
		       size_t payload)
{
	size_t off = 40;
	uint8_t types[9];
	int all, n = ext_chain(s, types, &all);

	put32(p, 0x60000000);
	put16(p + 4, (uint16_t)payload);
	p[6] = n ? types[0] : s->proto;
	p[7] = s->ttl ? s->ttl : 64;
	memcpy(p + 8, s->src, 16);
	memcpy(p + 24, s->dst, 16);
	for (int i = 0; i < n; i++) {
		write_ext(s, p + off, types[i],
			  i + 1 < all ? types[i + 1] : s->proto);
		off += ext_size(types[i]);
	}
}

/* The transport header at @p; @len covers it and the payload after it. */
static void write_l4(const struct moat_frame_spec *s, uint8_t *p, size_t len)
{
	uint32_t sum;

	switch (l4_size(s)) {
	case 0:
		return;
	case 20: /* TCP */
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, 1000); /* sequence */
		put32(p + 8, s->tcp_flags & 0x10 ? 2000 : 0);
		p[12] = 5 << 4;
		p[13] = s->tcp_flags;
		put16(p + 14, 65535);
		put16(p + 16, 0);
		put16(p + 18, 0);
		put16(p + 16, csum_fold(csum_add(pseudo_sum(s, len), p, len)));
		return;
	case 8:
		if (s->proto == PROTO_UDP) {
			put16(p, s->sport);
			put16(p + 2, s->dport);
			put16(p + 4, (uint16_t)len);
			put16(p + 6, 0);
			sum = csum_fold(csum_add(pseudo_sum(s, len), p, len));
			/* 0 means "no checksum" in UDP; all ones stands for it */
			put16(p + 6, sum ? sum : 0xffff);
			return;
		}
		/* ICMP and ICMPv6: type, code, checksum, identifier, sequence */
		p[0] = (uint8_t)s->sport;
		p[1] = (uint8_t)s->dport;
		put16(p + 2, 0);
		put16(p + 4, 0x4d54);
		put16(p + 6, 1);
		sum = s->family == AF_INET6 ? pseudo_sum(s, len) : 0;
		put16(p + 2, csum_fold(csum_add(sum, p, len)));
		return;
	case 12: /* SCTP */
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, 0xfeedf00d); /* verification tag */
		put32(p + 8, 0);
		sum = crc32c(p, len);
		/* stored least significant byte first, as RFC 4960 B says */
		p[8] = sum & 0xff;
		p[9] = (sum >> 8) & 0xff;
		p[10] = (sum >> 16) & 0xff;
		p[11] = sum >> 24;
		return;
	}
}

/* Payload bytes: a counting pattern, recognisable in a hex dump. */
static void write_payload(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(0x30 + i % 64);
}

size_t moat_frame_build(const struct moat_frame_spec *s, uint8_t *buf,
			size_t cap)
{
	size_t l2, l3 = 0, l4 = 0, len;
	uint16_t ethertype;

	if (!spec_valid(s))
		return 0;
	l2 = l2_size(s);
	switch (s->kind) {
	case MOAT_FRAME_ARP:
		ethertype = ETH_P_ARP_;
		l3 = ARP_BODY;
		break;
	case MOAT_FRAME_RAW:
		ethertype = s->ethertype;
		break;
	default:
		ethertype = s->family == AF_INET ? ETH_P_IPV4 : ETH_P_IPV6;
		l3 = l3_size(s);
		l4 = l4_size(s);
		break;
	}
	len = l2 + l3 + l4 + s->payload;
	if (len > cap || len > MOAT_FRAME_MAX ||
	    (s->kind == MOAT_FRAME_IP && s->family == AF_INET &&
	     l3 + l4 + s->payload > 0xffff) ||
	    (s->kind == MOAT_FRAME_IP && s->family == AF_INET6 &&
	     l3 - 40 + l4 + s->payload > 0xffff))
		return 0;

	memset(buf, 0, len);
	write_l2(s, buf, ethertype);
	write_payload(buf + l2 + l3 + l4, s->payload);
	if (s->kind == MOAT_FRAME_ARP) {
		write_arp(s, buf + l2);
	} else if (s->kind == MOAT_FRAME_IP) {
		/* the transport checksum needs the IP addresses only */
		write_l4(s, buf + l2 + l3, l4 + s->payload);
		if (s->family == AF_INET)
			write_ipv4(s, buf + l2, l3 + l4 + s->payload);
		else
			write_ipv6(s, buf + l2, l3 - 40 + l4 + s->payload);
	}

	if (s->truncate)
		return s->truncate < len ? s->truncate : len;
	if (len < MIN_FRAME) {
		if (cap < MIN_FRAME)
			return 0;
		memset(buf + len, 0, MIN_FRAME - len);
		len = MIN_FRAME;
	}
	return len;
}
