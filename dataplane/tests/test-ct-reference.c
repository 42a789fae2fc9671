/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The conntrack reference model against docs/conntrack.md: sequences of
 * packets between a host and a remote, each step saying the state the
 * document gives the packet and the state its flow is in afterwards.
 * kt-ct-diff holds the BPF code to this model, so a wrong row here would
 * let a wrong BPF step pass: each sequence says where in the document
 * its answers come from.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ct-reference.h"
#include "dataplane.h"
#include "frame.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

enum kind { TCP, UDP, GRE, XICMP, ECHO_REQ, ECHO_REP, TSTAMP, ERR, ARP };

/*
 * One packet: the host sends it ('o'), it arrives and passes ('i'), or it
 * arrives and the rules drop it ('x').  Ports are the host's and the
 * remote's; an echo's identifier is hport.  An error quotes a packet of
 * .quoted from the host, hport to rport.
 */
struct pk {
	const char *what;
	uint32_t at_ms; /* the model's clock */
	char dir;
	bool v6;
	enum kind kind;
	uint16_t hport, rport;
	uint8_t flags;
	bool later, short_echo;
	enum kind quoted;
	int broken; /* the quote: 1 IP version, 2 cut inside the ports, 3 a later fragment */
	uint8_t ct; /* want: the packet's MOAT_CT_* (0: not tracked) */
	uint8_t state; /* want: its flow afterwards, MOAT_CTS_NONE for no live flow */
};

#define ANY 0xff /* the flow's state is not looked at */
#define NEW MOAT_CT_NEW
#define EST MOAT_CT_ESTABLISHED
#define REL MOAT_CT_RELATED
#define INV MOAT_CT_INVALID
#define NONE MOAT_CTS_NONE
#define SSENT MOAT_CTS_SYN_SENT
#define SRECV MOAT_CTS_SYN_RECV
#define ESTAB MOAT_CTS_ESTABLISHED
#define FWAIT MOAT_CTS_FIN_WAIT
#define TWAIT MOAT_CTS_TIME_WAIT
#define CLOSE MOAT_CTS_CLOSE
#define OPEN MOAT_CTS_OPEN
#define REPLIED MOAT_CTS_REPLIED

struct sequence {
	const char *name;
	struct pk p[16];
};

/* clang-format off */
static const struct sequence sequences[] = {
	{ "the host connects and both close", {
		{ "host SYN", 0, 'o', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
		{ "SYN-ACK", 1, 'i', false, TCP, 40000, 80, SYN | ACK, .ct = EST, .state = SRECV },
		{ "host ACK", 2, 'o', false, TCP, 40000, 80, ACK, .ct = EST, .state = ESTAB },
		{ "FIN", 3, 'i', false, TCP, 40000, 80, FIN | ACK, .ct = EST, .state = FWAIT },
		{ "data after it", 4, 'o', false, TCP, 40000, 80, PSH | ACK, .ct = EST, .state = FWAIT },
		{ "the same side's FIN again", 5, 'i', false, TCP, 40000, 80, FIN | ACK, .ct = EST, .state = FWAIT },
		{ "host FIN", 6, 'o', false, TCP, 40000, 80, FIN | ACK, .ct = EST, .state = TWAIT },
		{ "last ACK", 7, 'i', false, TCP, 40000, 80, ACK, .ct = EST, .state = TWAIT },
	} },
	{ "a remote connects: new until the host answers", {
		{ "SYN", 0, 'i', true, TCP, 22, 50000, SYN, .ct = NEW, .state = SSENT },
		{ "SYN again: still new", 1, 'i', true, TCP, 22, 50000, SYN, .ct = NEW, .state = SSENT },
		{ "host SYN-ACK", 2, 'o', true, TCP, 22, 50000, SYN | ACK, .ct = EST, .state = SRECV },
		{ "host SYN-ACK again", 3, 'o', true, TCP, 22, 50000, SYN | ACK, .ct = EST, .state = SRECV },
		{ "ACK with a FIN: established, then fin-wait", 4, 'i', true, TCP, 22, 50000, FIN | ACK, .ct = EST, .state = FWAIT },
	} },
	{ "every step the table calls invalid", {
		{ "ACK without a flow", 0, 'i', false, TCP, 40000, 80, ACK, .ct = INV, .state = NONE },
		{ "SYN-ACK without a flow", 0, 'i', false, TCP, 40000, 80, SYN | ACK, .ct = INV, .state = NONE },
		{ "SYN with RST without a flow", 0, 'i', false, TCP, 40000, 80, SYN | RST, .ct = INV, .state = NONE },
		{ "host RST without a flow: not picked up", 0, 'o', false, TCP, 40000, 80, RST | ACK, .ct = INV, .state = NONE },
		{ "host SYN", 1, 'o', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
		{ "data before the SYN-ACK", 2, 'i', false, TCP, 40000, 80, ACK, .ct = INV, .state = SSENT },
		{ "the opener's data before it", 2, 'o', false, TCP, 40000, 80, PSH | ACK, .ct = INV, .state = SSENT },
		{ "a SYN from the answer", 3, 'i', false, TCP, 40000, 80, SYN, .ct = INV, .state = SSENT },
		{ "a SYN-ACK from the opener", 3, 'o', false, TCP, 40000, 80, SYN | ACK, .ct = INV, .state = SSENT },
		{ "SYN-ACK", 4, 'i', false, TCP, 40000, 80, SYN | ACK, .ct = EST, .state = SRECV },
		{ "the opener's SYN after it", 5, 'o', false, TCP, 40000, 80, SYN, .ct = INV, .state = SRECV },
		{ "ACK", 6, 'o', false, TCP, 40000, 80, ACK, .ct = EST, .state = ESTAB },
		{ "a SYN on an established flow", 7, 'i', false, TCP, 40000, 80, SYN, .ct = INV, .state = ESTAB },
		{ "the SYN-ACK again, its ACK lost; a FIN on it not counted", 8, 'i', false, TCP, 40000, 80, SYN | ACK | FIN, .ct = EST, .state = ESTAB },
	} },
	{ "a SYN-ACK after a FIN, and a RST in syn-sent", {
		{ "host SYN", 0, 'o', false, TCP, 40001, 443, SYN, .ct = NEW, .state = SSENT },
		{ "SYN-ACK", 1, 'i', false, TCP, 40001, 443, SYN | ACK, .ct = EST, .state = SRECV },
		{ "host FIN", 2, 'o', false, TCP, 40001, 443, FIN | ACK, .ct = EST, .state = FWAIT },
		{ "SYN-ACK in fin-wait", 3, 'i', false, TCP, 40001, 443, SYN | ACK, .ct = INV, .state = FWAIT },
		{ "a SYN in fin-wait opens nothing", 4, 'i', false, TCP, 40001, 443, SYN, .ct = INV, .state = FWAIT },
		{ "host SYN elsewhere", 5, 'o', false, TCP, 40002, 443, SYN, .ct = NEW, .state = SSENT },
		{ "the opener's RST: close, unanswered", 6, 'o', false, TCP, 40002, 443, RST, .ct = NEW, .state = CLOSE },
		{ "ACK after a RST: stays closed", 7, 'i', false, TCP, 40002, 443, ACK, .ct = EST, .state = CLOSE },
		{ "SYN-ACK in close", 8, 'i', false, TCP, 40002, 443, SYN | ACK, .ct = INV, .state = CLOSE },
	} },
	{ "a SYN after the end opens the next flow, from either side", {
		{ "host SYN", 0, 'o', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
		{ "SYN-ACK", 1, 'i', false, TCP, 40000, 80, SYN | ACK, .ct = EST, .state = SRECV },
		{ "RST", 2, 'i', false, TCP, 40000, 80, RST, .ct = EST, .state = CLOSE },
		{ "the remote's SYN: it opens now", 3, 'i', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
		{ "a SYN-ACK from the old opener: the answer now", 4, 'o', false, TCP, 40000, 80, SYN | ACK, .ct = EST, .state = SRECV },
		{ "ACK", 5, 'i', false, TCP, 40000, 80, ACK, .ct = EST, .state = ESTAB },
		{ "FIN", 6, 'i', false, TCP, 40000, 80, FIN | ACK, .ct = EST, .state = FWAIT },
		{ "host FIN", 7, 'o', false, TCP, 40000, 80, FIN | ACK, .ct = EST, .state = TWAIT },
		{ "the host's SYN in time-wait", 8, 'o', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
	} },
	{ "a dropped packet makes and moves nothing", {
		{ "SYN dropped", 0, 'x', false, TCP, 23, 50000, SYN, .ct = NEW, .state = NONE },
		{ "its ACK: no flow", 1, 'i', false, TCP, 23, 50000, ACK, .ct = INV, .state = NONE },
		{ "host SYN", 2, 'o', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
		{ "SYN-ACK dropped", 3, 'x', false, TCP, 40000, 80, SYN | ACK, .ct = EST, .state = SSENT },
		{ "data: still before the SYN-ACK", 4, 'i', false, TCP, 40000, 80, ACK, .ct = INV, .state = SSENT },
		{ "udp dropped", 5, 'x', false, UDP, 9, 50001, .ct = NEW, .state = NONE },
		{ "udp again: still new, no flow", 6, 'x', false, UDP, 9, 50001, .ct = NEW, .state = NONE },
	} },
	{ "the host picks up its own flows", {
		{ "host data, no flow", 0, 'o', false, TCP, 40000, 80, PSH | ACK, .ct = NEW, .state = ESTAB },
		{ "more host data: the flow counts as answered", 1, 'o', false, TCP, 40000, 80, PSH | ACK, .ct = EST, .state = ESTAB },
		{ "data in: established", 1, 'i', false, TCP, 40000, 80, ACK, .ct = EST, .state = ESTAB },
		{ "host FIN, no flow: picked up, FIN not counted", 2, 'o', true, TCP, 40001, 80, FIN | ACK, .ct = NEW, .state = ESTAB },
		{ "the remote's FIN: fin-wait", 3, 'i', true, TCP, 40001, 80, FIN | ACK, .ct = EST, .state = FWAIT },
		{ "arriving data, no flow: never picked up", 4, 'i', true, TCP, 40002, 80, ACK, .ct = INV, .state = NONE },
	} },
	{ "udp and other protocols: open, then replied", {
		{ "host udp", 0, 'o', false, UDP, 40010, 53, .ct = NEW, .state = OPEN },
		{ "the reply", 1, 'i', false, UDP, 40010, 53, .ct = EST, .state = REPLIED },
		{ "udp in", 2, 'i', false, UDP, 5000, 50003, .ct = NEW, .state = OPEN },
		{ "again: new, no answer yet", 3, 'i', false, UDP, 5000, 50003, .ct = NEW, .state = OPEN },
		{ "the host answers", 4, 'o', false, UDP, 5000, 50003, .ct = EST, .state = REPLIED },
		{ "gre in", 5, 'i', true, GRE, 0, 0, .ct = NEW, .state = OPEN },
		{ "gre back", 6, 'o', true, GRE, 0, 0, .ct = EST, .state = REPLIED },
		{ "a later fragment of gre: its flow's", 7, 'i', true, GRE, 0, 0, .later = true, .ct = EST, .state = REPLIED },
		{ "a later fragment of udp: invalid", 8, 'i', false, UDP, 40010, 53, .later = true, .ct = INV, .state = REPLIED },
		{ "icmp in ipv6: a protocol without ports", 9, 'i', true, XICMP, 0, 0, .ct = NEW, .state = OPEN },
		{ "icmpv6 in ipv4 from the host: a flow of its own", 10, 'o', false, XICMP, 0, 0, .ct = NEW, .state = OPEN },
	} },
	{ "icmp echo by identifier", {
		{ "host request", 0, 'o', false, ECHO_REQ, 0x1234, .ct = NEW, .state = OPEN },
		{ "reply", 1, 'i', false, ECHO_REP, 0x1234, .ct = EST, .state = REPLIED },
		{ "a reply with another identifier", 2, 'i', false, ECHO_REP, 0x4321, .ct = INV, .state = NONE },
		{ "a request in", 3, 'i', true, ECHO_REQ, 0x55, .ct = NEW, .state = OPEN },
		{ "a request from the other side answers it", 4, 'o', true, ECHO_REQ, 0x55, .ct = EST, .state = REPLIED },
		{ "a reply cut short: no identifier", 5, 'i', false, ECHO_REP, 0x1234, .short_echo = true, .ct = INV, .state = REPLIED },
		{ "a later fragment of a reply: invalid", 6, 'i', false, ECHO_REP, 0x1234, .later = true, .ct = INV, .state = REPLIED },
		{ "a timestamp request: not tracked, new", 6, 'i', false, TSTAMP, 0, .ct = NEW, .state = NONE },
		{ "arp: not an IP packet", 7, 'i', false, ARP, 0, .ct = 0, .state = ANY },
	} },
	{ "icmp errors relate to the flow they quote", {
		{ "host udp", 0, 'o', false, UDP, 40020, 53, .ct = NEW, .state = OPEN },
		{ "unreachable about it", 1, 'i', false, ERR, 40020, 53, .quoted = UDP, .ct = REL, .state = ANY },
		{ "about another port", 1, 'i', false, ERR, 40021, 53, .quoted = UDP, .ct = INV, .state = ANY },
		{ "about tcp between the same ports", 1, 'i', false, ERR, 40020, 53, .quoted = TCP, .ct = INV, .state = ANY },
		{ "a bad IP version in the quote", 1, 'i', false, ERR, 40020, 53, .quoted = UDP, .broken = 1, .ct = INV, .state = ANY },
		{ "a quote cut inside the ports", 1, 'i', false, ERR, 40020, 53, .quoted = UDP, .broken = 2, .ct = INV, .state = ANY },
		{ "a quoted later fragment", 1, 'i', false, ERR, 40020, 53, .quoted = UDP, .broken = 3, .ct = INV, .state = ANY },
		{ "the host's own error about it", 1, 'o', false, ERR, 40020, 53, .quoted = UDP, .ct = REL, .state = ANY },
		{ "host ping", 2, 'o', true, ECHO_REQ, 7, .ct = NEW, .state = OPEN },
		{ "packet too big about the ping", 3, 'i', true, ERR, 7, .quoted = ECHO_REQ, .ct = REL, .state = ANY },
		{ "about a ping with another identifier", 3, 'i', true, ERR, 8, .quoted = ECHO_REQ, .ct = INV, .state = ANY },
		{ "about a timestamp: no flow", 3, 'i', true, ERR, 7, .quoted = TSTAMP, .ct = INV, .state = ANY },
		{ "a bad IP version in an ipv6 quote", 3, 'i', true, ERR, 7, .quoted = ECHO_REQ, .broken = 1, .ct = INV, .state = ANY },
		{ "host ping, ipv4", 4, 'o', false, ECHO_REQ, 9, .ct = NEW, .state = OPEN },
		{ "about a later fragment of it", 5, 'i', false, ERR, 9, .quoted = ECHO_REQ, .broken = 3, .ct = INV, .state = ANY },
	} },
	{ "timeouts by class, and what a gone flow leaves", {
		{ "host SYN", 0, 'o', false, TCP, 40000, 80, SYN, .ct = NEW, .state = SSENT },
		{ "SYN-ACK after exactly tcp-syn: still there", 60000, 'i', false, TCP, 40000, 80, SYN | ACK, .ct = EST, .state = SRECV },
		{ "ACK just past tcp-syn: gone, and not a SYN", 120001, 'o', false, TCP, 40000, 80, ACK, .ct = NEW, .state = ESTAB },
		{ "host udp", 200000, 'o', false, UDP, 40010, 53, .ct = NEW, .state = OPEN },
		{ "udp reply after 31 s: gone, so new", 231000, 'i', false, UDP, 40010, 53, .ct = NEW, .state = OPEN },
		{ "host answers", 232000, 'o', false, UDP, 40010, 53, .ct = EST, .state = REPLIED },
		{ "after 100 s replied udp lives on", 332000, 'i', false, UDP, 40010, 53, .ct = EST, .state = REPLIED },
		{ "an error about it after 181 s: gone", 513001, 'i', false, ERR, 40010, 53, .quoted = UDP, .ct = INV, .state = NONE },
	} },
};
/* clang-format on */

static const uint8_t host4[4] = { 192, 0, 2, 2 }, remote4[4] = { 192, 0, 2, 1 };
static uint8_t host6[16], remote6[16];

static uint8_t kind_proto(enum kind k, bool v6)
{
	switch (k) {
	case TCP:
		return 6;
	case UDP:
		return 17;
	case GRE:
		return 47;
	case XICMP:
		return v6 ? 1 : 58;
	default:
		return v6 ? 58 : 1;
	}
}

/* An ICMP message's type. */
static uint8_t icmp_type(enum kind k, bool v6)
{
	switch (k) {
	case ECHO_REQ:
		return v6 ? 128 : 8;
	case ECHO_REP:
		return v6 ? 129 : 0;
	case TSTAMP:
		return v6 ? 130 : 13; /* ICMPv6 has none: an MLD query */
	default:
		return v6 ? 2 : 3; /* packet too big, destination unreachable */
	}
}

/* The start of the host's packet @p->quoted, hport > rport, at @q. */
static size_t quote(const struct pk *p, uint8_t *q)
{
	size_t ipl = p->v6 ? 40 : 20;
	uint8_t *l4 = q + ipl;

	memset(q, 0, ipl + 8);
	q[0] = p->v6 ? 0x60 : 0x45;
	if (p->broken == 1)
		q[0] = p->v6 ? 0x40 : 0x65;
	if (p->v6) {
		q[6] = kind_proto(p->quoted, true);
		memcpy(q + 8, host6, 16);
		memcpy(q + 24, remote6, 16);
	} else {
		q[9] = kind_proto(p->quoted, false);
		q[6] = p->broken == 3 ? 0x20 : 0; /* more fragments, or... */
		q[7] = p->broken == 3 ? 0x10 :
					0; /* ...an offset of 128 bytes */
		memcpy(q + 12, host4, 4);
		memcpy(q + 16, remote4, 4);
	}
	if (p->quoted == TCP || p->quoted == UDP) {
		l4[0] = (uint8_t)(p->hport >> 8), l4[1] = (uint8_t)p->hport;
		l4[2] = (uint8_t)(p->rport >> 8), l4[3] = (uint8_t)p->rport;
	} else {
		l4[0] = icmp_type(p->quoted, p->v6);
		l4[4] = (uint8_t)(p->hport >> 8), l4[5] = (uint8_t)p->hport;
	}
	return ipl + (p->broken == 2 ? 3 : 8);
}

static size_t build(const struct pk *p, uint8_t *buf)
{
	struct moat_frame_spec f = { .kind = p->kind == ARP ? MOAT_FRAME_ARP :
							      MOAT_FRAME_IP };
	bool out = p->dir == 'o', icmp = p->kind >= ECHO_REQ;
	size_t alen = p->v6 ? 16 : 4, len, l4, qlen = 0;
	uint8_t q[48];

	f.family = p->v6 ? AF_INET6 : AF_INET;
	memcpy(f.src,
	       out ? (p->v6 ? host6 : host4) : (p->v6 ? remote6 : remote4),
	       alen);
	memcpy(f.dst,
	       out ? (p->v6 ? remote6 : remote4) : (p->v6 ? host6 : host4),
	       alen);
	f.proto = kind_proto(p->kind, p->v6);
	f.sport = out ? p->hport : p->rport;
	f.dport = out ? p->rport : p->hport;
	f.tcp_flags = p->flags;
	f.payload = 8;
	f.fragment = f.more_fragments = p->later;
	f.frag_offset = p->later ? 10 : 0;
	if (icmp) {
		f.sport = icmp_type(p->kind, p->v6);
		f.dport = p->kind == ERR && !p->v6 ? 3 : 0;
		if (p->kind == ERR)
			f.payload = (uint16_t)(qlen = quote(p, q));
	}
	len = moat_frame_build(&f, buf, MOAT_FRAME_MAX);
	assert_true(len > 0);
	l4 = moat_frame_l4_offset(&f);
	if (qlen)
		memcpy(buf + l4 + 8, q, qlen);
	if (p->kind == ECHO_REQ || p->kind == ECHO_REP) {
		buf[l4 + 4] = (uint8_t)(p->hport >> 8);
		buf[l4 + 5] = (uint8_t)p->hport;
	}
	if (p->short_echo) {
		/* the IP packet ends 4 bytes into the echo header; the frame goes on */
		size_t at = p->v6 ? 14 + 4 : 14 + 2;
		uint16_t n = (uint16_t)((buf[at] << 8 | buf[at + 1]) - 12);

		buf[at] = (uint8_t)(n >> 8);
		buf[at + 1] = (uint8_t)n;
	}
	return len;
}

/* The state of @p's flow in @m, NONE when there is no live one. */
static uint8_t flow_state(const struct ct_ref *m, const struct pk *p,
			  uint64_t now)
{
	uint8_t h[16] = { 0 }, r[16] = { 0 };
	uint8_t proto = kind_proto(p->kind, p->v6);
	bool echo = p->kind == ECHO_REQ || p->kind == ECHO_REP;
	uint16_t hp = p->hport, rp = echo ? p->hport : p->rport;

	if (p->kind == GRE || p->kind == XICMP)
		hp = rp = 0;
	memcpy(h, p->v6 ? host6 : host4, p->v6 ? 16 : 4);
	memcpy(r, p->v6 ? remote6 : remote4, p->v6 ? 16 : 4);
	for (size_t i = 0; i < m->nflows; i++) {
		const struct ct_ref_flow *f = &m->flows[i];
		const struct ct_ref_end *he = &f->opener, *re = &f->answer;

		if (f->proto != proto ||
		    f->family != (p->v6 ? AF_INET6 : AF_INET))
			continue;
		if (memcmp(he->addr, h, 16)) {
			he = &f->answer;
			re = &f->opener;
		}
		if (!memcmp(he->addr, h, 16) && !memcmp(re->addr, r, 16) &&
		    he->port == hp && re->port == rp)
			return ct_ref_expired(m, f, now) ? NONE : f->state;
	}
	return NONE;
}

static void default_timeouts(uint64_t *ns)
{
	for (int i = 0; i < MOAT_CTT_MAX; i++)
		ns[i] = moat_ct_default_timeout[i] * 1000000000ull;
}

static void run_sequence(void **state)
{
	const struct sequence *sq = *state;
	uint64_t timeouts[MOAT_CTT_MAX];
	struct ct_ref m;

	default_timeouts(timeouts);
	ct_ref_init(&m, timeouts);
	for (const struct pk *p = sq->p;
	     p < sq->p + ARRAY_SIZE(sq->p) && p->what; p++) {
		uint8_t frame[MOAT_FRAME_MAX], *exact;
		uint64_t now = p->at_ms * 1000000ull;
		size_t len = build(p, frame);
		struct ct_ref_step s;
		uint8_t st;

		exact = malloc(len);
		assert_non_null(exact);
		memcpy(exact, frame, len);
		s = ct_ref_packet(&m, exact, len, p->dir == 'o', now);
		free(exact);
		if (p->dir != 'x')
			assert_int_equal(ct_ref_commit(&m, &s), 0);
		st = flow_state(&m, p, now);
		if (s.ct != p->ct || (p->state != ANY && st != p->state))
			fail_msg("%s: packet %s, want %u; flow %s, want %s",
				 p->what,
				 s.ct == p->ct ? "as wanted" : "differs", p->ct,
				 moat_ct_flow_state_name(st),
				 moat_ct_flow_state_name(
					 p->state == ANY ? 0 : p->state));
	}
	ct_ref_free(&m);
}

/* Opener, flags and counts of one flow: what moatctl conntrack shows. */
static void test_flow_fields(void **state)
{
	static const struct pk steps[] = {
		{ "SYN", 0, 'i', false, TCP, 22, 50000, SYN },
		{ "host SYN-ACK", 1, 'o', false, TCP, 22, 50000, SYN | ACK },
		{ "ACK", 2, 'i', false, TCP, 22, 50000, ACK },
		{ "host FIN", 3, 'o', false, TCP, 22, 50000, FIN | ACK },
		{ "invalid: counted nowhere but invalid", 4, 'i', false, TCP,
		  22, 50000, SYN },
	};
	uint64_t timeouts[MOAT_CTT_MAX];
	uint8_t frame[MOAT_FRAME_MAX];
	const struct ct_ref_flow *f;
	struct ct_ref m;

	default_timeouts(timeouts);
	ct_ref_init(&m, timeouts);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		size_t len = build(&steps[i], frame);
		struct ct_ref_step s =
			ct_ref_packet(&m, frame, len, steps[i].dir == 'o',
				      steps[i].at_ms * 1000000ull);

		assert_int_equal(ct_ref_commit(&m, &s), 0);
	}
	assert_int_equal(m.nflows, 1);
	f = &m.flows[0];
	/* the remote opened it: it is the opener, its port 50000 */
	assert_memory_equal(f->opener.addr, remote4, 4);
	assert_int_equal(f->opener.port, 50000);
	assert_int_equal(f->answer.port, 22);
	assert_int_equal(f->packets_orig, 2);
	assert_int_equal(f->packets_reply, 2);
	assert_true(f->replied && f->fin_answer && !f->fin_opener);
	assert_false(f->egress || f->pickup);
	assert_int_equal(f->last_ns, 3000000);
	assert_int_equal(m.made, 1);
	assert_int_equal(m.remade, 0);
	assert_int_equal(m.invalid, 1);
	ct_ref_free(&m);
}

/* Remade in place over an expired flow: the row is reused, counted as remade. */
static void test_remade(void **state)
{
	static const struct pk a = {
		"host udp", 0, 'o', false, UDP, 40000, 53
	};
	static const struct pk b = {
		"the same after 40 s", 40000, 'o', false, UDP, 40000, 53
	};
	static const struct pk c = { "another flow", 40000, 'o', false, UDP,
				     40001,	     53 };
	uint64_t timeouts[MOAT_CTT_MAX];
	uint8_t frame[MOAT_FRAME_MAX];
	struct ct_ref_step s;
	struct ct_ref m;
	size_t len;

	default_timeouts(timeouts);
	ct_ref_init(&m, timeouts);
	len = build(&a, frame);
	s = ct_ref_packet(&m, frame, len, true, 0);
	assert_int_equal(s.effect, CT_REF_MAKE);
	assert_int_equal(ct_ref_commit(&m, &s), 0);
	len = build(&c, frame);
	s = ct_ref_packet(&m, frame, len, true, 1000);
	assert_int_equal(ct_ref_commit(&m, &s), 0);
	len = build(&b, frame);
	s = ct_ref_packet(&m, frame, len, true, 40000000000ull);
	assert_int_equal(s.effect, CT_REF_REMAKE);
	assert_int_equal(s.row, 0);
	assert_int_equal(ct_ref_commit(&m, &s), 0);
	assert_int_equal(m.nflows, 2);
	assert_int_equal(m.made, 2);
	assert_int_equal(m.remade, 1);
	assert_int_equal(m.flows[0].packets_orig, 1);
	/* the other flow, expired as well, is still a row: the table keeps it */
	assert_true(ct_ref_expired(&m, &m.flows[1], 40000000000ull));
	ct_ref_free(&m);
}

/* Configured timeouts, and the count of looks too close to call. */
static void test_timeouts_and_margin(void **state)
{
	static const struct pk syn = { "host SYN", 0,	  'o', false,
				       TCP,	   40000, 80,  SYN };
	static const struct pk synack = { "SYN-ACK", 0,	    'i', false,
					  TCP,	     40000, 80,	 SYN | ACK };
	uint64_t timeouts[MOAT_CTT_MAX];
	uint8_t frame[MOAT_FRAME_MAX];
	struct ct_ref_step s;
	struct ct_ref m;
	size_t len;

	default_timeouts(timeouts);
	timeouts[MOAT_CTT_TCP_SYN] = 1000000000ull;
	ct_ref_init(&m, timeouts);
	m.margin_ns = 200000000ull;
	len = build(&syn, frame);
	s = ct_ref_packet(&m, frame, len, true, 0);
	assert_int_equal(ct_ref_commit(&m, &s), 0);
	assert_int_equal(ct_ref_class(&m.flows[0]), MOAT_CTT_TCP_SYN);
	len = build(&synack, frame);
	/* 0.5 s: clear of 1 s */
	s = ct_ref_packet(&m, frame, len, false, 500000000ull);
	assert_int_equal(s.ct, MOAT_CT_ESTABLISHED);
	assert_int_equal(m.near, 0);
	/* 1.1 s: gone, but within the margin */
	s = ct_ref_packet(&m, frame, len, false, 1100000000ull);
	assert_int_equal(s.ct, MOAT_CT_INVALID);
	assert_int_equal(m.near, 1);
	ct_ref_free(&m);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_flow_fields),
		cmocka_unit_test(test_remade),
		cmocka_unit_test(test_timeouts_and_margin),
	};
	struct CMUnitTest *table =
		calloc(ARRAY_SIZE(sequences), sizeof(*table));
	int failed;

	if (!table)
		return 1;
	inet_pton(AF_INET6, "2001:db8::2", host6);
	inet_pton(AF_INET6, "2001:db8::1", remote6);
	for (size_t i = 0; i < ARRAY_SIZE(sequences); i++) {
		table[i].name = sequences[i].name;
		table[i].test_func = run_sequence;
		table[i].initial_state = (void *)&sequences[i];
	}
	failed = _cmocka_run_group_tests("ct-reference-sequences", table,
					 ARRAY_SIZE(sequences), NULL, NULL);
	free(table);
	failed +=
		cmocka_run_group_tests_name("ct-reference", fixed, NULL, NULL);
	return failed ? 1 : 0;
}
