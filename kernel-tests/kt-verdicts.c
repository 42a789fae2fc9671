// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fixed verdicts of docs/ruleset.md ("What a packet is"), one table
 * row per documented case, in the kernel.
 *
 * A small ruleset is applied through libmoat-dp; each frame of the table
 * runs once through the generation's program (BPF_PROG_TEST_RUN).  For
 * every row: the XDP verdict must be the documented one, exactly one
 * counter row must move (by one packet and the frame's bytes) and it must
 * be the documented one, and the reference matcher must say the same, so
 * that the table cannot drift from the reference either.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"
#include "reference.h"

/*
 * udp53 comes before frags, so that a first fragment from 192.0.2.1 shows
 * it is classified with its ports; frags has none, so that later
 * fragments, which have no ports, can match it.
 */
static const char ruleset[] = "policy drop\n"
			      "allow udp53  udp dport 53\n"
			      "allow tcp80  tcp dport 80\n"
			      "allow sctp9  sctp dport 9\n"
			      "allow echo   icmp type echo-request\n"
			      "allow echo6  icmpv6 type echo-request\n"
			      "allow esp    proto 50\n"
			      "allow frags  udp from 192.0.2.1, 2001:db8::1\n";

/* What is done to a built frame to break one field. */
enum patch {
	KEEP = 0,
	V4_VERSION, /* version nibble := arg */
	V4_IHL, /* header length in words := arg */
	V4_TOTAL, /* total length := arg */
	V4_TOTAL_PAST, /* total length := one byte past the frame */
	V6_VERSION, /* version nibble := arg */
	V6_PLEN, /* payload length := arg */
	V6_PLEN_PAST, /* payload length := one byte past the frame */
};

struct row {
	const char *name;
	struct moat_frame_spec s; /* addresses left zero get defaults */
	bool frags_src; /* from 192.0.2.1 / 2001:db8::1 (rule frags) */
	enum patch patch;
	int arg;
	const char *counter; /* a rule name, or a fixed row */
	bool drop;
};

#define V4 .family = AF_INET
#define V6 .family = AF_INET6
#define UDP(p) .proto = MOAT_PROTO_UDP, .sport = 40000, .dport = (p)
#define TCP(p)                                                 \
	.proto = MOAT_PROTO_TCP, .sport = 40000, .dport = (p), \
	.tcp_flags = 0x02 /* SYN */
#define UDP53 UDP(53)
#define TCP80 TCP(80)
#define ICMP(t) .proto = MOAT_PROTO_ICMP, .sport = (t)
#define ICMP6(t) .proto = MOAT_PROTO_ICMPV6, .sport = (t)
#define FIRST_FRAG .fragment = true, .frag_offset = 0, .more_fragments = true
#define LATER_FRAG .fragment = true, .frag_offset = 185, .more_fragments = true
#define PATCH(p, a) .patch = (p), .arg = (a)
#define PASS(c) .counter = (c), .drop = false
#define DROP(c) .counter = (c), .drop = true
#define MALFORMED DROP("malformed")

static const struct row table[] = {
	/* always pass, so that policy drop cannot cut a host off its network */
	{ "ARP", { .kind = MOAT_FRAME_ARP }, PASS("arp") },
	{ "ARP in a VLAN tag",
	  { .kind = MOAT_FRAME_ARP, .nvlan = 1, .vlan = { 7 } },
	  PASS("arp") },
	{ "ND router solicitation (133)", { V6, ICMP6(133) }, PASS("nd") },
	{ "ND router advertisement (134)", { V6, ICMP6(134) }, PASS("nd") },
	{ "ND neighbour solicitation (135)", { V6, ICMP6(135) }, PASS("nd") },
	{ "ND neighbour advertisement (136)", { V6, ICMP6(136) }, PASS("nd") },
	{ "ND redirect (137)", { V6, ICMP6(137) }, PASS("nd") },
	/* 132 and 138 border ND and are not it: no rule takes them */
	{ "ICMPv6 132 (MLD done) is not ND",
	  { V6, ICMP6(132) },
	  DROP("policy") },
	{ "ICMPv6 138 is not ND", { V6, ICMP6(138) }, DROP("policy") },
	/* link-layer business an IP firewall does not judge */
	{ "LLDP (0x88cc)",
	  { .kind = MOAT_FRAME_RAW, .ethertype = 0x88cc, .payload = 46 },
	  PASS("non-ip") },
	{ "LACP (0x8809)",
	  { .kind = MOAT_FRAME_RAW, .ethertype = 0x8809, .payload = 46 },
	  PASS("non-ip") },

	/* malformed: dropped before any rule (the XDP test run refuses frames
	 * shorter than an Ethernet header, so that case is not here) */
	{ "VLAN tag cut short",
	  { V4, UDP53, .nvlan = 1, .truncate = 16 },
	  MALFORMED },
	{ "3 VLAN tags", { V4, UDP53, .nvlan = 3 }, MALFORMED },
	{ "IPv4 header under 20 bytes",
	  { V4, UDP53, .truncate = 14 + 19 },
	  MALFORMED },
	{ "IPv4 version 6", { V4, UDP53 }, PATCH(V4_VERSION, 6), MALFORMED },
	{ "IPv4 IHL 4 (16 bytes)", { V4, UDP53 }, PATCH(V4_IHL, 4), MALFORMED },
	/* 60 bytes of header in a 46-byte packet (the total length, 28, is
	 * below it too: a header past the end cannot be otherwise) */
	{ "IPv4 IHL 15 past the frame",
	  { V4, UDP53 },
	  PATCH(V4_IHL, 15),
	  MALFORMED },
	{ "IPv4 total length 19 < IHL",
	  { V4, UDP53 },
	  PATCH(V4_TOTAL, 19),
	  MALFORMED },
	{ "IPv4 total length past the frame",
	  { V4, UDP53 },
	  PATCH(V4_TOTAL_PAST, 0),
	  MALFORMED },
	{ "IPv6 header under 40 bytes",
	  { V6, UDP53, .truncate = 14 + 39 },
	  MALFORMED },
	{ "IPv6 version 4", { V6, UDP53 }, PATCH(V6_VERSION, 4), MALFORMED },
	{ "IPv6 payload length past the frame",
	  { V6, UDP53 },
	  PATCH(V6_PLEN_PAST, 0),
	  MALFORMED },
	/* an 8-byte destination options header with 4 bytes of it in the
	 * frame, the payload length saying 4: consistent, and cut */
	{ "IPv6 extension header past the frame",
	  { V6, UDP53, .ext = { 60 }, .next = 1, .truncate = 14 + 40 + 4 },
	  PATCH(V6_PLEN, 4),
	  MALFORMED },
	/* eight listed and a fragment header appended: nine */
	{ "IPv6 with 9 extension headers",
	  { V6, UDP53, .ext = { 60, 60, 60, 60, 60, 60, 60, 60 }, .next = 8,
	    .fragment = true },
	  MALFORMED },
	/* RFC 1858: a first fragment too short for the ports and flags */
	{ "IPv4 tiny first fragment, TCP 8 of 20 bytes",
	  { V4, TCP80, FIRST_FRAG },
	  PATCH(V4_TOTAL, 20 + 8),
	  MALFORMED },
	{ "IPv4 tiny first fragment, UDP 4 of 8 bytes",
	  { V4, UDP53, FIRST_FRAG },
	  PATCH(V4_TOTAL, 20 + 4),
	  MALFORMED },
	{ "IPv4 tiny first fragment, SCTP 8 of 12 bytes",
	  { V4, .proto = MOAT_PROTO_SCTP, .dport = 9, FIRST_FRAG },
	  PATCH(V4_TOTAL, 20 + 8),
	  MALFORMED },
	{ "IPv4 tiny first fragment, ICMP 2 of 4 bytes",
	  { V4, ICMP(8), FIRST_FRAG },
	  PATCH(V4_TOTAL, 20 + 2),
	  MALFORMED },
	{ "IPv6 tiny first fragment, ICMPv6 2 of 4 bytes",
	  { V6, ICMP6(128), FIRST_FRAG },
	  PATCH(V6_PLEN, 8 + 2),
	  MALFORMED },
	{ "IPv6 tiny first fragment, TCP 12 of 20 bytes",
	  { V6, TCP80, FIRST_FRAG },
	  PATCH(V6_PLEN, 8 + 12),
	  MALFORMED },
	/* not only fragments: any packet whose transport header is cut */
	{ "IPv4 unfragmented TCP cut to 10 bytes",
	  { V4, TCP80 },
	  PATCH(V4_TOTAL, 20 + 10),
	  MALFORMED },

	/* VLAN tags are skipped: the packet inside is classified */
	{ "802.1Q tag, UDP 53",
	  { V4, UDP53, .nvlan = 1, .vlan = { 10 } },
	  PASS("udp53") },
	{ "802.1ad + 802.1Q tags, UDP 53",
	  { V4, UDP53, .nvlan = 2, .vlan = { 10, 20 }, .vlan_8021ad = true },
	  PASS("udp53") },
	{ "two 802.1Q tags, IPv6 TCP 80",
	  { V6, TCP80, .nvlan = 2, .vlan = { 10, 20 } },
	  PASS("tcp80") },
	/* a tag is not a way around the firewall */
	{ "802.1Q tag, TCP 22", { V4, TCP(22), .nvlan = 1 }, DROP("policy") },
	{ "802.1ad + 802.1Q tags, ND 135",
	  { V6, ICMP6(135), .nvlan = 2, .vlan_8021ad = true },
	  PASS("nd") },

	/* IPv4 options are skipped: the ports are found after them */
	{ "IPv4 with 4 bytes of options, UDP 53",
	  { V4, UDP53, .ip_options = 4 },
	  PASS("udp53") },
	{ "IPv4 with 40 bytes of options, TCP 80",
	  { V4, TCP80, .ip_options = 40 },
	  PASS("tcp80") },
	{ "IPv4 with 40 bytes of options, TCP 22",
	  { V4, TCP(22), .ip_options = 40 },
	  DROP("policy") },

	/* IPv6 extension headers are walked to the protocol */
	{ "IPv6 hop-by-hop (0), UDP 53",
	  { V6, UDP53, .ext = { 0 }, .next = 1 },
	  PASS("udp53") },
	{ "IPv6 routing (43), UDP 53",
	  { V6, UDP53, .ext = { 43 }, .next = 1 },
	  PASS("udp53") },
	{ "IPv6 fragment (44) offset 0, UDP 53",
	  { V6, UDP53, .ext = { 44 }, .next = 1 },
	  PASS("udp53") },
	{ "IPv6 authentication (51), UDP 53",
	  { V6, UDP53, .ext = { 51 }, .next = 1 },
	  PASS("udp53") },
	{ "IPv6 destination options (60), UDP 53",
	  { V6, UDP53, .ext = { 60 }, .next = 1 },
	  PASS("udp53") },
	{ "IPv6 mobility (135), UDP 53",
	  { V6, UDP53, .ext = { 135 }, .next = 1 },
	  PASS("udp53") },
	{ "IPv6 all six walked headers, TCP 80",
	  { V6, TCP80, .ext = { 0, 60, 43, 44, 51, 135 }, .next = 6 },
	  PASS("tcp80") },
	{ "IPv6 8 extension headers (the most), UDP 53",
	  { V6, UDP53, .ext = { 0, 60, 60, 60, 60, 60, 60, 60 }, .next = 8 },
	  PASS("udp53") },
	{ "IPv6 hop-by-hop, ICMPv6 echo request",
	  { V6, ICMP6(128), .ext = { 0 }, .next = 1 },
	  PASS("echo6") },
	{ "IPv6 hop-by-hop, ND 135",
	  { V6, ICMP6(135), .ext = { 0 }, .next = 1 },
	  PASS("nd") },
	/* ESP and no-next-header end the walk: a protocol, no ports */
	{ "IPv6 ESP (50)", { V6, .proto = 50 }, PASS("esp") },
	{ "IPv6 hop-by-hop, then ESP (50)",
	  { V6, .proto = 50, .ext = { 0 }, .next = 1 },
	  PASS("esp") },
	{ "IPv6 no next header (59)",
	  { V6, .proto = 59, .ext = { 60 }, .next = 1 },
	  DROP("policy") },

	/* whole packets of each transport, for contrast with the tiny ones */
	{ "IPv4 UDP 53", { V4, UDP53 }, PASS("udp53") },
	{ "IPv4 SCTP 9",
	  { V4, .proto = MOAT_PROTO_SCTP, .sport = 1, .dport = 9 },
	  PASS("sctp9") },
	{ "IPv4 ICMP echo request", { V4, ICMP(8) }, PASS("echo") },
	{ "IPv4 ICMP echo reply", { V4, ICMP(0) }, DROP("policy") },

	/* fragments: the first is classified with its ports, later ones
	 * without, so only rules without ports can match them */
	{ "IPv4 first fragment, UDP 53",
	  { V4, UDP53, FIRST_FRAG },
	  .frags_src = true,
	  PASS("udp53") },
	{ "IPv4 first fragment, UDP 9999",
	  { V4, UDP(9999), FIRST_FRAG },
	  .frags_src = true,
	  PASS("frags") },
	{ "IPv4 later fragment of UDP 53",
	  { V4, UDP53, LATER_FRAG },
	  .frags_src = true,
	  PASS("frags") },
	{ "IPv4 later fragment of UDP 53, other source",
	  { V4, UDP53, LATER_FRAG },
	  DROP("policy") },
	{ "IPv4 later fragment of TCP 80",
	  { V4, TCP80, LATER_FRAG },
	  DROP("policy") },
	{ "IPv4 later fragment of ICMP echo",
	  { V4, ICMP(8), LATER_FRAG },
	  DROP("policy") },
	{ "IPv6 first fragment, UDP 53",
	  { V6, UDP53, FIRST_FRAG },
	  .frags_src = true,
	  PASS("udp53") },
	{ "IPv6 later fragment of UDP 53",
	  { V6, UDP53, LATER_FRAG },
	  .frags_src = true,
	  PASS("frags") },
	{ "IPv6 later fragment of TCP 80",
	  { V6, TCP80, LATER_FRAG },
	  DROP("policy") },
	{ "IPv6 later fragment of ND 135 is not ND",
	  { V6, ICMP6(135), LATER_FRAG },
	  DROP("policy") },
};

#define NROWS (sizeof(table) / sizeof(table[0]))

static const char *const fixed_names[] = {
	[MOAT_REF_POLICY] = "policy",
	[MOAT_REF_ARP] = "arp",
	[MOAT_REF_ND] = "nd",
	[MOAT_REF_NONIP] = "non-ip",
	[MOAT_REF_MALFORMED] = "malformed",
};

static const uint32_t fixed_slots[] = {
	[MOAT_REF_POLICY] = MOAT_SLOT_POLICY,
	[MOAT_REF_ARP] = MOAT_SLOT_ARP,
	[MOAT_REF_ND] = MOAT_SLOT_ND,
	[MOAT_REF_NONIP] = MOAT_SLOT_NONIP,
	[MOAT_REF_MALFORMED] = MOAT_SLOT_MALFORMED,
};

/* The counter slot of a rule or fixed row, by name; -1 when unknown. */
static int64_t slot_of(const struct moat_dp *dp, const char *name)
{
	int k;

	for (k = MOAT_REF_POLICY; k <= MOAT_REF_MALFORMED; k++)
		if (!strcmp(name, fixed_names[k]))
			return fixed_slots[k];
	k = moat_dp_rule_slot(dp, name);
	return k < 0 ? -1 : k;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ipv4_checksum(uint8_t *ip, size_t avail)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4, i;
	uint32_t sum = 0;

	/* a header that is not all there has no checksum to speak of */
	if (hl < 20 || hl > avail)
		return;
	put16(ip + 10, 0);
	for (i = 0; i < hl; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
}

/* The row's frame: built, then broken as the row says.  0 on failure. */
static size_t build(const struct row *r, uint8_t *buf)
{
	static const uint8_t src4[4] = { 198, 51, 100, 1 },
			     frag4[4] = { 192, 0, 2, 1 },
			     dst4[4] = { 203, 0, 113, 1 };
	static const uint8_t
		src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
		frag6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1 };
	struct moat_frame_spec s = r->s;
	size_t len, l3 = 14 + 4 * (size_t)s.nvlan;
	uint8_t *ip = buf + l3;

	if (s.family == AF_INET6) {
		memcpy(s.src, r->frags_src ? frag6 : src6, 16);
		memcpy(s.dst, dst6, 16);
	} else {
		memcpy(s.src, r->frags_src ? frag4 : src4, 4);
		memcpy(s.dst, dst4, 4);
	}
	len = moat_frame_build(&s, buf, MOAT_FRAME_MAX);
	if (!len || (r->patch != KEEP && len < l3 + 8))
		return 0;
	switch (r->patch) {
	case KEEP:
		break;
	case V4_VERSION:
	case V6_VERSION:
		ip[0] = (uint8_t)(r->arg << 4 | (ip[0] & 0x0f));
		break;
	case V4_IHL:
		ip[0] = (uint8_t)((ip[0] & 0xf0) | r->arg);
		break;
	case V4_TOTAL:
		put16(ip + 2, (unsigned)r->arg);
		break;
	case V4_TOTAL_PAST:
		put16(ip + 2, (unsigned)(len - l3 + 1));
		break;
	case V6_PLEN:
		put16(ip + 4, (unsigned)r->arg);
		break;
	case V6_PLEN_PAST:
		put16(ip + 4, (unsigned)(len - l3 - 40 + 1));
		break;
	}
	if (s.kind == MOAT_FRAME_IP && s.family == AF_INET)
		ipv4_checksum(ip, len - l3);
	return len;
}


static const char *ref_name(const struct moat_ruleset *rs,
			    struct moat_ref_verdict v)
{
	return v.kind == MOAT_REF_RULE ? rs->rules[v.rule].name :
					 fixed_names[v.kind];
}

/* One row: the reference, the verdict, the one counter that moved. */
static void run_row(struct moat_dp *dp, int prog, const struct moat_ruleset *rs,
		    const struct row *r)
{
	struct moat_dp_row *before = NULL, *after = NULL;
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_ref_verdict v;
	char name[160], moved[256] = "";
	int nb = 0, na = 0, i, nmoved = 0, err;
	int64_t want = slot_of(dp, r->counter);
	uint32_t rv = 0;
	bool right = false;
	size_t len = build(r, buf);

	snprintf(name, sizeof(name), "%s: frame built", r->name);
	if (!kt_check(len >= 14 && want >= 0, name, "len %zu, counter %s", len,
		      r->counter))
		return;

	v = moat_reference_classify(rs, buf, len, NULL);
	snprintf(name, sizeof(name), "%s: the reference says %s, %s", r->name,
		 r->counter, r->drop ? "drop" : "pass");
	kt_check(!strcmp(ref_name(rs, v), r->counter) && v.drop == r->drop,
		 name, "the reference says %s, %s", ref_name(rs, v),
		 v.drop ? "drop" : "pass");

	err = moat_dp_rows(dp, &before, &nb);
	if (!err)
		err = kt_xdp_run(prog, buf, len, 1, &rv);
	if (!err)
		err = moat_dp_rows(dp, &after, &na);
	snprintf(name, sizeof(name), "%s: %s", r->name,
		 r->drop ? "XDP_DROP" : "XDP_PASS");
	kt_check(!err && rv == (r->drop ? XDP_DROP : XDP_PASS), name,
		 "%s, verdict %u", err ? strerror(-err) : "ran", rv);

	/* exactly one row moves, by this frame: one packet, its bytes */
	for (i = 0; !err && i < na && i < nb; i++) {
		uint64_t dp_ = after[i].packets - before[i].packets;
		uint64_t db = after[i].bytes - before[i].bytes;
		size_t n = strlen(moved);

		if (!dp_ && !db)
			continue;
		nmoved++;
		right = after[i].slot == (uint32_t)want && dp_ == 1 &&
			db == len;
		snprintf(moved + n, sizeof(moved) - n, " %s +%llu/+%llu",
			 after[i].name, (unsigned long long)dp_,
			 (unsigned long long)db);
	}
	snprintf(name, sizeof(name), "%s: counted once in %s", r->name,
		 r->counter);
	kt_check(!err && na == nb && nmoved == 1 && right, name, "moved:%s",
		 nmoved ? moved : " nothing");
	free(before);
	free(after);
}

int main(void)
{
	/* BPF_PROG_TEST_RUN needs no traffic; the namespace keeps lo ours */
	const char *ns = kt_dp_begin("ktverd");
	struct moat_dp_opts o = { .instance = ns, .capacity = 64 };
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	struct moat_dp *dp = NULL;
	size_t i;
	int err;

	kt_sh("ip netns exec %s ip link set lo up", ns);

	err = moat_ruleset_parse(ruleset, strlen(ruleset), &rs, &d);
	if (err)
		moat_diags_print(&d, "kt-verdicts", stderr);
	if (!kt_check(!err, "parse the ruleset", "see above"))
		return kt_done();
	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "open instance", "%s", strerror(-err)))
		return kt_done();
	err = moat_dp_apply(dp, &rs, &d, NULL);
	if (err)
		moat_diags_print(&d, "kt-verdicts", stderr);
	if (!kt_check(!err && moat_dp_generation_fd(dp) >= 0,
		      "apply the ruleset", "%s", strerror(-err)))
		return kt_done();

	for (i = 0; i < NROWS; i++)
		run_row(dp, moat_dp_generation_fd(dp), &rs, &table[i]);
	printf("# %zu frames\n", NROWS);

	moat_dp_close(dp);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	return kt_done();
}
