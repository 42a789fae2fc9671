// SPDX-License-Identifier: GPL-2.0-only
/*
 * kt-ct: connection tracking, packet by packet, through the real
 * programs under BPF_PROG_TEST_RUN: what the host sends goes through
 * the TC egress program, what arrives through the XDP firewall.
 *
 * The ruleset says "classify established" and has one rule per conntrack
 * state, so that the counter that moves tells the state the program gave
 * each arriving packet; each step of the table below says which one it
 * must be (docs/conntrack.md).  Then: the same flows under "allow
 * established" (the fixed rows), timeouts (short ones configured), and a
 * full table (evictions counted, the newest flows kept).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"
#include "moat_egress.skel.h"

static const char classify_rules[] = "policy drop\n"
				     "classify established\n"
				     "drop  refused udp dport 9 ct new\n"
				     "allow new     ct new\n"
				     "allow est     ct established\n"
				     "allow rel     ct related\n"
				     "drop  inv     ct invalid\n";

static const char allow_rules[] = "policy drop\n"
				  "allow established\n"
				  "allow new ct new\n"
				  "drop  inv ct invalid\n";

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04

enum kind {
	TCP, UDP, ECHO_REQ, ECHO_REP, UNREACH, XICMP, ECHO_CUT, UNREACH_CUT,
	UNREACH_FRAG, UNREACH_BADV, UNREACH_IHL,
	FRAG_FIRST, FRAG_LATER, FRAG_OTHER, /* UDP fragments; OTHER: another packet's */
};

/*
 * One packet.  @out: the host sends it (egress); otherwise it arrives.
 * Ports are the host's and the remote's; for ICMP echo, hport is the
 * identifier.  UNREACH quotes the host's UDP or TCP packet hport->rport.
 * XICMP is ICMP in IPv6 or ICMPv6 in IPv4: a protocol without ports.
 * ECHO_CUT is an echo reply, UNREACH_CUT an UNREACH, whose IP packet
 * ends early (inside the echo header, inside the quoted ports) while
 * the frame goes on.  UNREACH_FRAG quotes a later fragment of the
 * host's packet, UNREACH_BADV an IPv6 header whose version is 4.
 */
struct step {
	const char *what;
	bool out;
	bool v6;
	enum kind kind;
	uint16_t hport, rport;
	uint8_t flags;
	const char *want; /* the row that moves for an arriving packet */
};

static const struct step steps[] = {
	/* the host opens a TCP connection and closes it */
	{ "host SYN out", true, false, TCP, 40001, 80, SYN, NULL },
	{ "SYN-ACK in: established", false, false, TCP, 40001, 80, SYN | ACK, "est" },
	{ "host ACK out", true, false, TCP, 40001, 80, ACK, NULL },
	{ "data in", false, false, TCP, 40001, 80, ACK, "est" },
	{ "FIN in", false, false, TCP, 40001, 80, FIN | ACK, "est" },
	{ "host FIN out", true, false, TCP, 40001, 80, FIN | ACK, NULL },
	{ "last ACK in", false, false, TCP, 40001, 80, ACK, "est" },
	/* out of state, without a flow */
	{ "ACK in without a flow: invalid", false, false, TCP, 40002, 80, ACK, "inv" },
	{ "SYN-ACK in without a flow: invalid", false, false, TCP, 40003, 80, SYN | ACK, "inv" },
	{ "RST in without a flow: invalid", false, false, TCP, 40004, 80, RST, "inv" },
	/* the remote opens one; the rules allow it */
	{ "SYN in: new", false, false, TCP, 22, 50001, SYN, "new" },
	{ "SYN in again: still new", false, false, TCP, 22, 50001, SYN, "new" },
	{ "host SYN-ACK out", true, false, TCP, 22, 50001, SYN | ACK, NULL },
	{ "ACK in: established", false, false, TCP, 22, 50001, ACK, "est" },
	{ "RST in: established (ends it)", false, false, TCP, 22, 50001, RST, "est" },
	{ "SYN in after the RST: new again", false, false, TCP, 22, 50001, SYN, "new" },
	/* answers that do not fit the handshake */
	{ "host SYN out", true, false, TCP, 40005, 443, SYN, NULL },
	{ "data in before the SYN-ACK: invalid", false, false, TCP, 40005, 443, ACK, "inv" },
	{ "SYN in from the answering side: invalid", false, false, TCP, 40005, 443, SYN, "inv" },
	{ "SYN-ACK in: established", false, false, TCP, 40005, 443, SYN | ACK, "est" },
	/* a refused new flow makes no entry */
	{ "udp in to 9: refused", false, false, UDP, 9, 50002, 0, "refused" },
	{ "udp in to 9 again: refused, still new", false, false, UDP, 9, 50002, 0, "refused" },
	/* UDP the host opens, and UDP it is sent */
	{ "host udp out", true, false, UDP, 40010, 53, 0, NULL },
	{ "udp reply in: established", false, false, UDP, 40010, 53, 0, "est" },
	{ "udp in to 5000: new", false, false, UDP, 5000, 50003, 0, "new" },
	{ "udp in to 5000 again: new (no answer yet)", false, false, UDP, 5000, 50003, 0, "new" },
	{ "host answers out", true, false, UDP, 5000, 50003, 0, NULL },
	{ "udp in to 5000: established", false, false, UDP, 5000, 50003, 0, "est" },
	/* ICMP echo by identifier */
	{ "host echo request out", true, false, ECHO_REQ, 0x1234, 0, 0, NULL },
	{ "echo reply in: established", false, false, ECHO_REP, 0x1234, 0, 0, "est" },
	{ "echo reply with another id: invalid", false, false, ECHO_REP, 0x4321, 0, 0, "inv" },
	{ "echo request in: new", false, false, ECHO_REQ, 0x5555, 0, 0, "new" },
	/* ICMP errors about flows */
	{ "host udp out", true, false, UDP, 40020, 53, 0, NULL },
	{ "unreachable about it: related", false, false, UNREACH, 40020, 53, 0, "rel" },
	{ "unreachable about nothing: invalid", false, false, UNREACH, 40021, 53, 0, "inv" },
	/* IPv6 */
	{ "host SYN out (v6)", true, true, TCP, 40030, 80, SYN, NULL },
	{ "SYN-ACK in (v6): established", false, true, TCP, 40030, 80, SYN | ACK, "est" },
	{ "ACK in without a flow (v6): invalid", false, true, TCP, 40031, 80, ACK, "inv" },
	{ "host echo request out (v6)", true, true, ECHO_REQ, 0x77, 0, 0, NULL },
	{ "echo reply in (v6): established", false, true, ECHO_REP, 0x77, 0, 0, "est" },
	{ "packet too big about the v6 flow: related", false, true, UNREACH, 40030, 80, 0, "rel" },
	/* the host picks up a flow it had before moat */
	{ "host ACK out, no flow: picked up", true, false, TCP, 40040, 80, ACK, NULL },
	{ "data in: established", false, false, TCP, 40040, 80, ACK, "est" },
	/* the other version's ICMP has no ports: a flow like GRE's, not invalid */
	{ "icmp in ipv6 in: new", false, true, XICMP, 0, 0, 0, "new" },
	{ "host icmp in ipv6 out", true, true, XICMP, 0, 0, 0, NULL },
	{ "icmp in ipv6 in again: established", false, true, XICMP, 0, 0, 0, "est" },
	/* headers are read inside the IP packet, not in what follows it */
	{ "host echo request out", true, false, ECHO_REQ, 0x2468, 0, 0, NULL },
	{ "echo reply cut inside its header: invalid", false, false, ECHO_CUT, 0x2468, 0, 0, "inv" },
	{ "the whole reply: established", false, false, ECHO_REP, 0x2468, 0, 0, "est" },
	{ "host udp out", true, false, UDP, 40050, 53, 0, NULL },
	{ "unreachable cut inside the quoted ports: invalid", false, false, UNREACH_CUT, 40050, 53, 0, "inv" },
	{ "the same, whole: related", false, false, UNREACH, 40050, 53, 0, "rel" },
	/* the quote must be a first packet, in an IP header of the error's version */
	{ "unreachable quoting a later fragment of it: invalid", false, false, UNREACH_FRAG, 40050, 53, 0, "inv" },
	{ "host SYN out (v6)", true, true, TCP, 40051, 80, SYN, NULL },
	{ "packet too big quoting no IPv6 header: invalid", false, true, UNREACH_BADV, 40051, 80, 0, "inv" },
	/* fragments: the later ones go where the first went */
	{ "host udp out 53000 -> 53", true, false, UDP, 53000, 53, 0, NULL },
	{ "first fragment of the reply: established", false, false, FRAG_FIRST, 53000, 53, 0, "est" },
	{ "its later fragment: where the first went", false, false, FRAG_LATER, 53000, 53, 0, "est" },
	{ "a later fragment of another packet: invalid", false, false, FRAG_OTHER, 53000, 53, 0, "inv" },
	{ "first fragment to 9: refused", false, false, FRAG_FIRST, 9, 53, 0, "refused" },
	{ "its later fragment: refused too", false, false, FRAG_LATER, 9, 53, 0, "refused" },
	{ "host udp out (v6)", true, true, UDP, 53001, 53, 0, NULL },
	{ "first fragment of the reply (v6): established", false, true, FRAG_FIRST, 53001, 53, 0, "est" },
	{ "its later fragment (v6): where the first went", false, true, FRAG_LATER, 53001, 53, 0, "est" },
	{ "a later fragment of another packet (v6): invalid", false, true, FRAG_OTHER, 53001, 53, 0, "inv" },
	{ "host udp out 2652 -> 1", true, false, UDP, 2652, 1, 0, NULL },
	{ "unreachable quoting an IPv4 header of 16 bytes: invalid", false, false, UNREACH_IHL, 2652, 1, 0, "inv" },
	{ "the same, a 20-byte header: related", false, false, UNREACH, 2652, 1, 0, "rel" },
	{ "packet too big about it: related", false, true, UNREACH, 40051, 80, 0, "rel" },
};

#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static const uint8_t host4[4] = { 10, 92, 0, 2 }, remote4[4] = { 10, 92, 0, 1 };
static uint8_t host6[16], remote6[16];

/* The kinds that quote the host's packet. */
static bool unreach(enum kind k)
{
	return k == UNREACH || k == UNREACH_CUT || k == UNREACH_FRAG || k == UNREACH_BADV ||
	       k == UNREACH_IHL;
}

/* Write the packet of @s into @buf; returns its length. */
static size_t build(const struct step *s, uint8_t *buf)
{
	struct moat_frame_spec f = { .kind = MOAT_FRAME_IP };
	bool from_host = s->out;
	size_t len, l4;

	f.family = s->v6 ? AF_INET6 : AF_INET;
	memcpy(f.src, from_host ? (s->v6 ? host6 : host4) : (s->v6 ? remote6 : remote4),
	       s->v6 ? 16 : 4);
	memcpy(f.dst, from_host ? (s->v6 ? remote6 : remote4) : (s->v6 ? host6 : host4),
	       s->v6 ? 16 : 4);
	switch (s->kind) {
	case FRAG_FIRST:
	case FRAG_LATER:
	case FRAG_OTHER:
		f.fragment = true;
		f.more_fragments = s->kind == FRAG_FIRST;
		f.frag_offset = s->kind == FRAG_FIRST ? 0 : 185;
		f.payload = 32;
		/* fall through */
	case TCP:
	case UDP:
		f.proto = s->kind == TCP ? IPPROTO_TCP : IPPROTO_UDP;
		f.sport = from_host ? s->hport : s->rport;
		f.dport = from_host ? s->rport : s->hport;
		f.tcp_flags = s->flags;
		break;
	case ECHO_REQ:
	case ECHO_REP:
	case ECHO_CUT:
		f.proto = s->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		f.sport = s->kind == ECHO_REQ ? (s->v6 ? 128 : 8) : (s->v6 ? 129 : 0);
		f.payload = 8;
		break;
	case UNREACH:
	case UNREACH_CUT:
	case UNREACH_FRAG:
	case UNREACH_BADV:
	case UNREACH_IHL:
		f.proto = s->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		f.sport = s->v6 ? 2 : 3; /* packet too big; destination unreachable */
		f.dport = s->v6 ? 0 : 3;
		f.payload = 4 + (s->v6 ? 40 : 20) + 8;
		break;
	case XICMP:
		f.proto = s->v6 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		f.payload = 8;
		break;
	}
	len = moat_frame_build(&f, buf, MOAT_FRAME_MAX);
	if (s->kind == FRAG_OTHER) { /* another identification */
		size_t id = s->v6 ? 14 + 40 + 4 : 14 + 4;

		buf[id] ^= 0xff;
	}
	l4 = moat_frame_l4_offset(&f);
	if (s->kind == ECHO_REQ || s->kind == ECHO_REP || s->kind == ECHO_CUT) {
		buf[l4 + 4] = (uint8_t)(s->hport >> 8);
		buf[l4 + 5] = (uint8_t)s->hport;
	}
	if (unreach(s->kind)) {
		/* the quoted packet: the host's own, host:hport -> remote:rport */
		uint8_t *q = buf + l4 + 8;

		memset(q, 0, s->v6 ? 48 : 28);
		if (s->v6) {
			q[0] = s->kind == UNREACH_BADV ? 0x40 : 0x60;
			q[6] = IPPROTO_TCP;
			memcpy(q + 8, host6, 16);
			memcpy(q + 24, remote6, 16);
			q += 40;
		} else {
			/* UNREACH_IHL: a 16-byte header, whose "ports" would be the
			 * remote address 10.92.0.1: 2652 -> 1 */
			q[0] = s->kind == UNREACH_IHL ? 0x44 : 0x45;
			q[7] = s->kind == UNREACH_FRAG ? 32 : 0; /* offset 256 bytes */
			q[9] = IPPROTO_UDP;
			memcpy(q + 12, host4, 4);
			memcpy(q + 16, remote4, 4);
			q += 20;
		}
		q[0] = (uint8_t)(s->hport >> 8);
		q[1] = (uint8_t)s->hport;
		q[2] = (uint8_t)(s->rport >> 8);
		q[3] = (uint8_t)s->rport;
	}
	if (s->kind == ECHO_CUT || s->kind == UNREACH_CUT) {
		/* IPv4 total or IPv6 payload length: 4 bytes of the echo, 2 of the ports */
		uint16_t n = s->kind == ECHO_CUT ? 4 : 8 + (s->v6 ? 40 : 20) + 2;

		n += s->v6 ? 0 : 20;
		buf[l4 - (s->v6 ? 36 : 18)] = (uint8_t)(n >> 8);
		buf[l4 - (s->v6 ? 35 : 17)] = (uint8_t)n;
	}
	return len;
}


static int run_tc(int prog, const uint8_t *buf, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (uint32_t)len, .repeat = 1);

	return bpf_prog_test_run_opts(prog, &o) ? -errno : 0;
}

/* Rows that moved between two readings, as "name name ..." */
static void moved(struct moat_dp *dp, struct moat_dp_row *before, int nb,
		  char *out, size_t size)
{
	struct moat_dp_row *after;
	int na, i, j;

	out[0] = '\0';
	if (moat_dp_rows(dp, &after, &na))
		return;
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (!strcmp(after[i].name, before[j].name) &&
			    after[i].packets != before[j].packets) {
				size_t l = strlen(out);

				snprintf(out + l, size - l, "%s%s", l ? " " : "",
					 after[i].name);
			}
	free(after);
}

/* Send one step; for an arriving packet, which row moved and the verdict. */
static int send_step(struct moat_dp *dp, int egress, const struct step *s,
		     char *rowbuf, size_t size, uint32_t *verdict)
{
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_dp_row *before;
	size_t len = build(s, buf);
	int nb, err;

	if (s->out)
		return run_tc(egress, buf, len);
	err = moat_dp_rows(dp, &before, &nb);
	if (err)
		return err;
	err = kt_xdp_run(moat_dp_generation_fd(dp), buf, len, 1, verdict);
	if (!err)
		moved(dp, before, nb, rowbuf, size);
	free(before);
	return err;
}


static struct moat_egress *load_egress(struct moat_dp *dp)
{
	static const char *const names[] = { "ct", "ct_conf", "ct_stats" };
	struct moat_egress *skel = moat_egress__open();
	struct bpf_map *maps[3];
	char path[512];
	int i, fd;

	if (!skel)
		return NULL;
	maps[0] = skel->maps.ct;
	maps[1] = skel->maps.ct_conf;
	maps[2] = skel->maps.ct_stats;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", moat_dp_pin_root(dp), names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_map__reuse_fd(maps[i], fd)) {
			moat_egress__destroy(skel);
			return NULL;
		}
		close(fd);
	}
	if (moat_egress__load(skel)) {
		moat_egress__destroy(skel);
		return NULL;
	}
	return skel;
}

/* The flow of @s, as moatctl conntrack lists it; NULL when absent. */
static bool flow_state(struct moat_dp *dp, uint16_t port, uint8_t *state)
{
	struct moat_ct_filter f = { .port = port, .proto = -1, .state = -1 };
	struct moat_ct_flow *v;
	size_t n;

	if (moat_dp_ct_list(dp, &f, &v, &n) || n != 1) {
		if (n)
			free(v);
		return false;
	}
	*state = v[0].state;
	free(v);
	return true;
}

static void table_steps(struct moat_dp *dp, int egress)
{
	char rows[256], name[200];
	uint32_t verdict = 0;
	uint8_t st = 0;

	for (size_t i = 0; i < NSTEPS; i++) {
		const struct step *s = &steps[i];
		int err = send_step(dp, egress, s, rows, sizeof(rows), &verdict);

		snprintf(name, sizeof(name), "step %zu: %s", i + 1, s->what);
		if (s->out) {
			kt_check(!err, name, "%s", strerror(-err));
			continue;
		}
		kt_check(!err && !strcmp(rows, s->want), name,
			 "row(s) '%s' moved, want '%s' (%s)", rows, s->want,
			 err ? strerror(-err) : "");
	}
	kt_check(flow_state(dp, 40001, &st) && st == MOAT_CTS_TIME_WAIT,
		 "the closed connection is in time-wait", "state %s",
		 moat_ct_flow_state_name(st));
	kt_check(flow_state(dp, 50001, &st) && st == MOAT_CTS_SYN_SENT,
		 "the reopened one waits for its SYN-ACK", "state %s",
		 moat_ct_flow_state_name(st));
	kt_check(!flow_state(dp, 50002, &st), "the refused flow made no entry",
		 "found one");
	kt_check(flow_state(dp, 50003, &st) && st == MOAT_CTS_REPLIED,
		 "the inbound udp flow is replied", "state %s",
		 moat_ct_flow_state_name(st));
}

/* "allow established": the fixed rows count, no rule sees the packets. */
static void allow_steps(struct moat_dp *dp, int egress)
{
	static const struct step s[] = {
		{ "host udp out", true, false, UDP, 41000, 53, 0, NULL },
		{ "reply in: passed as established", false, false, UDP, 41000, 53, 0, "established" },
		{ "unreachable in: passed as related", false, false, UNREACH, 41000, 53, 0, "related" },
		{ "ACK in without a flow: rule inv", false, false, TCP, 41001, 80, ACK, "inv" },
		{ "SYN in: rule new", false, false, TCP, 22, 51000, SYN, "new" },
	};
	static const uint32_t want[] = { 0, XDP_PASS, XDP_PASS, XDP_DROP, XDP_PASS };
	char rows[256], name[200];
	uint32_t verdict;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		int err = send_step(dp, egress, &s[i], rows, sizeof(rows), &verdict);

		snprintf(name, sizeof(name), "allow established: %s", s[i].what);
		if (s[i].out)
			kt_check(!err, name, "%s", strerror(-err));
		else
			kt_check(!err && !strcmp(rows, s[i].want) && verdict == want[i],
				 name, "row(s) '%s' moved, want '%s'; verdict %u, want %u",
				 rows, s[i].want, verdict, want[i]);
	}
}

static void timeout_steps(struct moat_dp *dp, int egress)
{
	static const struct step syn = { "host SYN out", true, false, TCP, 42000, 80, SYN, NULL },
				 synack = { "SYN-ACK in", false, false, TCP, 42000, 80, SYN | ACK, "inv" },
				 udp = { "host udp out", true, false, UDP, 42001, 53, 0, NULL },
				 reply = { "udp reply in", false, false, UDP, 42001, 53, 0, "est" };
	struct moat_dp_ct_status a, b;
	char rows[256];
	uint32_t verdict;
	uint8_t st = 0;
	int err;

	/* tcp-syn is 1 s here: the SYN's flow is gone after 1.5 s */
	err = send_step(dp, egress, &syn, rows, sizeof(rows), &verdict);
	err = err ? err : send_step(dp, egress, &udp, rows, sizeof(rows), &verdict);
	usleep(1500 * 1000);
	kt_check(flow_state(dp, 42000, &st), "an expired flow stays listed until reused",
		 "not listed");
	err = err ? err : send_step(dp, egress, &synack, rows, sizeof(rows), &verdict);
	kt_check(!err && !strcmp(rows, "inv"), "tcp-syn 1 s: a SYN-ACK after 1.5 s is invalid",
		 "row(s) '%s' moved", rows);
	/* udp-replied is the default 180 s: the reply still finds its flow (udp is 30 s) */
	err = send_step(dp, egress, &reply, rows, sizeof(rows), &verdict);
	kt_check(!err && !strcmp(rows, "est"), "udp 30 s: the reply after 1.5 s is established",
		 "row(s) '%s' moved", rows);
	moat_dp_ct_status(dp, &a);
	err = send_step(dp, egress, &syn, rows, sizeof(rows), &verdict);
	moat_dp_ct_status(dp, &b);
	kt_check(!err && b.stat[MOAT_CTC_REUSED] == a.stat[MOAT_CTC_REUSED] + 1 &&
			 b.stat[MOAT_CTC_CREATED] == a.stat[MOAT_CTC_CREATED],
		 "a new SYN remakes the expired flow in place (reused)",
		 "reused %llu -> %llu, created %llu -> %llu",
		 (unsigned long long)a.stat[MOAT_CTC_REUSED],
		 (unsigned long long)b.stat[MOAT_CTC_REUSED],
		 (unsigned long long)a.stat[MOAT_CTC_CREATED],
		 (unsigned long long)b.stat[MOAT_CTC_CREATED]);
}

/* More flows than the table holds: the least recently used go. */
static void full_steps(struct moat_dp *dp, int egress, uint32_t max)
{
	struct moat_dp_ct_status a, b;
	uint32_t n = 3 * max, verdict, i;
	char rows[256];
	int err = 0;

	moat_dp_ct_status(dp, &a);
	for (i = 0; i < n && !err; i++) {
		struct step s = { "flood", true, false, UDP, (uint16_t)(20000 + i % 40000),
				  (uint16_t)(1000 + i / 40000), 0, NULL };

		err = send_step(dp, egress, &s, rows, sizeof(rows), &verdict);
	}
	moat_dp_ct_status(dp, &b);
	kt_check(!err, "flood: every packet through the egress program", "%s",
		 strerror(-err));
	kt_check(b.stat[MOAT_CTC_CREATED] - a.stat[MOAT_CTC_CREATED] == n,
		 "full table: every flow was made", "made %llu, want %u",
		 (unsigned long long)(b.stat[MOAT_CTC_CREATED] - a.stat[MOAT_CTC_CREATED]),
		 n);
	kt_check(b.entries <= max, "full table: never more entries than its size",
		 "%llu entries, size %u", (unsigned long long)b.entries, max);
	kt_check(b.evicted >= n - max, "full table: evictions counted",
		 "evicted %llu, want at least %u", (unsigned long long)b.evicted,
		 n - max);
	{
		struct step last = { "newest flow's reply", false, false, UDP,
				     (uint16_t)(20000 + (n - 1) % 40000),
				     (uint16_t)(1000 + (n - 1) / 40000), 0, "est" };
		struct step first = { "oldest flow's reply", false, false, UDP, 20000,
				      1000, 0, "new" };

		err = send_step(dp, egress, &last, rows, sizeof(rows), &verdict);
		kt_check(!err && !strcmp(rows, "est"), "full table: the newest flow is kept",
			 "row(s) '%s' moved", rows);
		err = send_step(dp, egress, &first, rows, sizeof(rows), &verdict);
		kt_check(!err && !strcmp(rows, "new"),
			 "full table: the oldest flow was evicted (its reply is new)",
			 "row(s) '%s' moved", rows);
	}
}

int main(void)
{
	struct moat_dp_opts o = { .instance = kt_dp_begin("ktct"), .capacity = 64 };
	struct moat_egress *eg = NULL;
	struct moat_dp *dp = NULL;
	int err;

	inet_pton(AF_INET6, "fd00:92::2", host6);
	inet_pton(AF_INET6, "fd00:92::1", remote6);

	o.ct.enabled = true;
	o.ct.max = 4096;
	o.ct.timeout_s[MOAT_CTT_TCP_SYN] = 1;
	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "open an instance that tracks flows", "%s", strerror(-err)))
		return kt_done();
	eg = load_egress(dp);
	if (!kt_check(eg != NULL, "load the egress program on the pinned table", "%s",
		      strerror(errno)))
		goto out;
	if (!kt_check(!kt_apply_text(dp, classify_rules, "kt-ct"), "apply the classify ruleset", "see above"))
		goto out;
	table_steps(dp, bpf_program__fd(eg->progs.moat_egress));
	if (!kt_check(!kt_apply_text(dp, allow_rules, "kt-ct"), "apply the allow-established ruleset",
		      "see above"))
		goto out;
	allow_steps(dp, bpf_program__fd(eg->progs.moat_egress));
	if (!kt_check(!kt_apply_text(dp, classify_rules, "kt-ct"), "apply the classify ruleset again",
		      "see above"))
		goto out;
	timeout_steps(dp, bpf_program__fd(eg->progs.moat_egress));
	full_steps(dp, bpf_program__fd(eg->progs.moat_egress), 4096);
out:
	moat_egress__destroy(eg);
	moat_dp_close(dp);
	return kt_done();
}
