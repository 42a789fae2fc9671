/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The conntrack reference model, written to be read next to
 * docs/conntrack.md and believed.  The frame is read by the reference
 * matcher (reference.c), as the rules read it; what conntrack needs on
 * top (the ICMP message, whether it is a later fragment) is found here
 * with a length check before every read.  Flows are a plain array
 * searched from the start, and TCP steps through one table, by state,
 * kind of segment and side, that says what the document says.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ct-reference.h"
#include "reference.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Do @n bytes at @off lie before @end? */
static bool fits(size_t end, size_t off, size_t n)
{
	return off <= end && n <= end - off;
}

static bool family_icmp(int family, uint8_t proto)
{
	return proto == (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP;
}

static bool echo_request(int family, uint8_t type)
{
	return type == (family == AF_INET ? 8 : 128);
}

static bool echo_reply(int family, uint8_t type)
{
	return type == (family == AF_INET ? 0 : 129);
}

/* destination unreachable, packet too big, time exceeded, parameter problem */
static bool icmp_error(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == 3 || type == 11 || type == 12;
	return type == 1 || type == 2 || type == 3 || type == 4;
}

/* Where an IP packet's parts lie in its frame. */
struct where {
	size_t l4; /* the transport header, unless a later fragment */
	size_t end; /* the end of the IP packet */
	bool later; /* a fragment after the first */
};

/*
 * Find them in a frame that moat_reference_read() took for an IP
 * packet: after up to two VLAN tags, the IPv4 header by its length, or
 * IPv6 and the extension headers docs/ruleset.md says are walked.
 */
static bool place(const uint8_t *fr, size_t len, int family, struct where *w)
{
	size_t ip = 14, hlen;
	uint16_t type;
	uint8_t nh;

	memset(w, 0, sizeof(*w));
	for (;;) {
		if (!fits(len, ip - 2, 2))
			return false;
		type = be16(fr + ip - 2);
		if (type != 0x8100 && type != 0x88a8)
			break;
		ip += 4;
	}
	if (family == AF_INET) {
		if (!fits(len, ip, 20))
			return false;
		w->end = ip + be16(fr + ip + 2);
		w->l4 = ip + (size_t)(fr[ip] & 0x0f) * 4;
		w->later = (be16(fr + ip + 6) & 0x1fff) != 0;
		return w->end <= len;
	}
	if (!fits(len, ip, 40))
		return false;
	w->end = ip + 40 + be16(fr + ip + 4);
	if (w->end > len)
		return false;
	w->l4 = ip + 40;
	nh = fr[ip + 6];
	while (nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 ||
	       nh == 135) {
		if (!fits(w->end, w->l4, 8))
			return false;
		if (nh == 44 && be16(fr + w->l4 + 2) >> 3) {
			w->later = true;
			return true;
		}
		if (nh == 44)
			hlen = 8;
		else if (nh == 51)
			hlen = ((size_t)fr[w->l4 + 1] + 2) * 4;
		else
			hlen = ((size_t)fr[w->l4 + 1] + 1) * 8;
		nh = fr[w->l4];
		w->l4 += hlen;
	}
	return true;
}

/* A packet as the table sees it: two ends, a protocol, TCP's flags. */
struct ct_pkt {
	int family;
	uint8_t proto;
	struct ct_ref_end src, dst;
	uint8_t flags;
};

static bool same_end(const struct ct_ref_end *x, const struct ct_ref_end *y)
{
	return x->port == y->port && !memcmp(x->addr, y->addr, sizeof(x->addr));
}

/*
 * The row of the flow between @p's two ends, live or expired: -1 when
 * there is none.  *@from_opener says which way @p goes.
 */
static long find_row(const struct ct_ref *m, const struct ct_pkt *p,
		     bool *from_opener)
{
	for (size_t i = 0; i < m->nflows; i++) {
		const struct ct_ref_flow *f = &m->flows[i];

		if (f->family != p->family || f->proto != p->proto)
			continue;
		if (same_end(&f->opener, &p->src) &&
		    same_end(&f->answer, &p->dst)) {
			*from_opener = true;
			return (long)i;
		}
		if (same_end(&f->answer, &p->src) &&
		    same_end(&f->opener, &p->dst)) {
			*from_opener = false;
			return (long)i;
		}
	}
	return -1;
}

enum moat_ct_timeout ct_ref_class(const struct ct_ref_flow *f)
{
	switch (f->state) {
	case MOAT_CTS_SYN_SENT:
	case MOAT_CTS_SYN_RECV:
		return MOAT_CTT_TCP_SYN;
	case MOAT_CTS_ESTABLISHED:
		return MOAT_CTT_TCP_ESTABLISHED;
	case MOAT_CTS_FIN_WAIT:
	case MOAT_CTS_TIME_WAIT:
		return MOAT_CTT_TCP_FIN;
	case MOAT_CTS_CLOSE:
		return MOAT_CTT_TCP_CLOSE;
	default: /* open or replied */
		break;
	}
	if (f->proto == IPPROTO_UDP)
		return f->state == MOAT_CTS_REPLIED ? MOAT_CTT_UDP_REPLIED :
						      MOAT_CTT_UDP;
	if (family_icmp(f->family, f->proto))
		return MOAT_CTT_ICMP;
	return MOAT_CTT_OTHER;
}

bool ct_ref_expired(const struct ct_ref *m, const struct ct_ref_flow *f,
		    uint64_t now_ns)
{
	uint64_t age = now_ns > f->last_ns ? now_ns - f->last_ns : 0;

	return age > m->timeout_ns[ct_ref_class(f)];
}

/* Is the flow of @row gone?  Counts a look too close to call. */
static bool gone(struct ct_ref *m, long row, uint64_t now_ns)
{
	const struct ct_ref_flow *f = &m->flows[row];
	uint64_t age = now_ns > f->last_ns ? now_ns - f->last_ns : 0;
	uint64_t to = m->timeout_ns[ct_ref_class(f)];

	if (m->margin_ns && age + m->margin_ns >= to &&
	    age <= to + m->margin_ns)
		m->near++;
	return ct_ref_expired(m, f, now_ns);
}

static struct ct_ref_step invalid(struct ct_ref *m)
{
	struct ct_ref_step s = { .ct = MOAT_CT_INVALID };

	m->invalid++;
	return s;
}

/*
 * TCP, by the document.  A segment is a RST (whatever else is set), a
 * SYN (without ACK), a SYN-ACK, or anything else; FIN counts only on the
 * last kind.  For each state, kind and side (the opener, the answer):
 * the state after it, INV for an invalid packet, REOPEN for a SYN that
 * opens a new flow in the old one's place.
 */
enum seg { SEG_RST, SEG_SYN, SEG_SYNACK, SEG_OTHER, SEG_KINDS };
#define INV MOAT_CTS_NONE
#define REOPEN MOAT_CTS_MAX

static const uint8_t tcp_next[MOAT_CTS_MAX][SEG_KINDS][2] = {
	/* only the opener's SYN again, or the answer's SYN-ACK or RST */
	[MOAT_CTS_SYN_SENT] = {
		[SEG_RST] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
		[SEG_SYN] = { MOAT_CTS_SYN_SENT, INV },
		[SEG_SYNACK] = { INV, MOAT_CTS_SYN_RECV },
		[SEG_OTHER] = { INV, INV },
	},
	/* the SYN-ACK again, or the next packet either way */
	[MOAT_CTS_SYN_RECV] = {
		[SEG_RST] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
		[SEG_SYN] = { INV, INV },
		[SEG_SYNACK] = { INV, MOAT_CTS_SYN_RECV },
		[SEG_OTHER] = { MOAT_CTS_ESTABLISHED, MOAT_CTS_ESTABLISHED },
	},
	/* a SYN-ACK again: its ACK was lost */
	[MOAT_CTS_ESTABLISHED] = {
		[SEG_RST] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
		[SEG_SYN] = { INV, INV },
		[SEG_SYNACK] = { INV, MOAT_CTS_ESTABLISHED },
		[SEG_OTHER] = { MOAT_CTS_ESTABLISHED, MOAT_CTS_ESTABLISHED },
	},
	[MOAT_CTS_FIN_WAIT] = {
		[SEG_RST] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
		[SEG_SYN] = { INV, INV },
		[SEG_SYNACK] = { INV, INV },
		[SEG_OTHER] = { MOAT_CTS_FIN_WAIT, MOAT_CTS_FIN_WAIT },
	},
	/* a SYN after the end of a flow opens the next one, from either side */
	[MOAT_CTS_TIME_WAIT] = {
		[SEG_RST] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
		[SEG_SYN] = { REOPEN, REOPEN },
		[SEG_SYNACK] = { INV, INV },
		[SEG_OTHER] = { MOAT_CTS_TIME_WAIT, MOAT_CTS_TIME_WAIT },
	},
	[MOAT_CTS_CLOSE] = {
		[SEG_RST] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
		[SEG_SYN] = { REOPEN, REOPEN },
		[SEG_SYNACK] = { INV, INV },
		[SEG_OTHER] = { MOAT_CTS_CLOSE, MOAT_CTS_CLOSE },
	},
};

static enum seg segment(uint8_t fl)
{
	if (fl & TCP_RST)
		return SEG_RST;
	if (fl & TCP_SYN)
		return fl & TCP_ACK ? SEG_SYNACK : SEG_SYN;
	return SEG_OTHER;
}

/* A FIN, in a state where FINs count: fin-wait, then time-wait. */
static void tcp_fin(struct ct_ref_flow *f, bool from_opener)
{
	if (f->state != MOAT_CTS_ESTABLISHED && f->state != MOAT_CTS_FIN_WAIT &&
	    f->state != MOAT_CTS_TIME_WAIT)
		return;
	if (from_opener)
		f->fin_opener = true;
	else
		f->fin_answer = true;
	f->state = f->fin_opener && f->fin_answer ? MOAT_CTS_TIME_WAIT :
						    MOAT_CTS_FIN_WAIT;
}

/*
 * No live flow (@row: an expired one's row, or -1): may @p open one?
 * On ingress only a SYN opens TCP; the host's own TCP packets are
 * trusted and picked up, but a RST opens nothing; ICMP echo opens with
 * a request.
 */
static struct ct_ref_step opening(struct ct_ref *m, const struct ct_pkt *p,
				  uint8_t icmp_type, long row, bool egress,
				  uint64_t now_ns)
{
	struct ct_ref_step s = { .ct = MOAT_CT_NEW };
	struct ct_ref_flow *f = &s.flow;

	f->family = p->family;
	f->proto = p->proto;
	f->opener = p->src;
	f->answer = p->dst;
	f->state = MOAT_CTS_OPEN;
	f->egress = egress;
	f->packets_orig = 1;
	f->last_ns = now_ns;
	if (p->proto == IPPROTO_TCP) {
		enum seg k = segment(p->flags);

		if (k == SEG_RST || (k != SEG_SYN && !egress))
			return invalid(m);
		if (k == SEG_SYN) {
			f->state = MOAT_CTS_SYN_SENT;
		} else {
			f->state = MOAT_CTS_ESTABLISHED;
			f->replied = f->pickup = true;
		}
	} else if (family_icmp(p->family, p->proto) &&
		   !echo_request(p->family, icmp_type)) {
		return invalid(m); /* an echo reply to nothing */
	}
	s.effect = row < 0 ? CT_REF_MAKE : CT_REF_REMAKE;
	s.row = row < 0 ? 0 : (size_t)row;
	return s;
}

/* @p on the live flow of @row. */
static struct ct_ref_step on_flow(struct ct_ref *m, const struct ct_pkt *p,
				  long row, bool from_opener, bool egress,
				  uint64_t now_ns)
{
	struct ct_ref_step s = { .effect = CT_REF_MOVE, .row = (size_t)row };
	struct ct_ref_flow *f = &s.flow;

	*f = m->flows[row];
	if (p->proto == IPPROTO_TCP) {
		enum seg k = segment(p->flags);
		uint8_t next = tcp_next[f->state][k][!from_opener];

		if (next == INV)
			return invalid(m);
		if (next == REOPEN)
			return opening(m, p, 0, row, egress, now_ns);
		f->state = next;
		if (k == SEG_OTHER && (p->flags & TCP_FIN))
			tcp_fin(f, from_opener);
	}
	if (!from_opener)
		f->replied = true;
	if (p->proto != IPPROTO_TCP)
		f->state = f->replied ? MOAT_CTS_REPLIED : MOAT_CTS_OPEN;
	if (from_opener)
		f->packets_orig++;
	else
		f->packets_reply++;
	f->last_ns = now_ns;
	s.ct = f->replied ? MOAT_CT_ESTABLISHED : MOAT_CT_NEW;
	return s;
}

/*
 * An ICMP error quotes the start of the packet it is about after its own
 * 8 bytes: an IP header of the same version (IPv6's without extension
 * headers, a known limit), then the ports, or an echo's identifier.  Is
 * that packet one of a live flow?
 */
static bool quotes_live_flow(struct ct_ref *m, const uint8_t *fr,
			     const struct where *w, int family, uint64_t now_ns)
{
	struct ct_pkt q = { .family = family };
	size_t at = w->l4 + 8, l4;
	bool later = false, dir;
	long row;

	if (family == AF_INET) {
		if (!fits(w->end, at, 20) || fr[at] >> 4 != 4 ||
		    (fr[at] & 0x0f) < 5)
			return false;
		l4 = at + (size_t)(fr[at] & 0x0f) * 4;
		q.proto = fr[at + 9];
		later = (be16(fr + at + 6) & 0x1fff) != 0;
		memcpy(q.src.addr, fr + at + 12, 4);
		memcpy(q.dst.addr, fr + at + 16, 4);
	} else {
		if (!fits(w->end, at, 40) || fr[at] >> 4 != 6)
			return false;
		l4 = at + 40;
		q.proto = fr[at + 6];
		memcpy(q.src.addr, fr + at + 8, 16);
		memcpy(q.dst.addr, fr + at + 24, 16);
	}
	if (has_ports(q.proto)) {
		/* a later fragment's first bytes are not its ports */
		if (later || !fits(w->end, l4, 4))
			return false;
		q.src.port = be16(fr + l4);
		q.dst.port = be16(fr + l4 + 2);
	} else if (family_icmp(family, q.proto)) {
		if (later || !fits(w->end, l4, 8) ||
		    !(echo_request(family, fr[l4]) ||
		      echo_reply(family, fr[l4])))
			return false;
		q.src.port = q.dst.port = be16(fr + l4 + 4);
	}
	row = find_row(m, &q, &dir);
	return row >= 0 && !gone(m, row, now_ns);
}

struct ct_ref_step ct_ref_packet(struct ct_ref *m, const uint8_t *frame,
				 size_t len, bool egress, uint64_t now_ns)
{
	struct ct_ref_step none = { 0 }, s = { .ct = MOAT_CT_NEW };
	struct moat_ref_packet rp;
	struct ct_pkt p = { 0 };
	struct where w;
	uint8_t type = 0;
	bool from_opener;
	long row;

	if (moat_reference_read(frame, len, &rp) != MOAT_REF_RULE)
		return none;
	if (!place(frame, len, rp.family, &w))
		return invalid(m);
	p.family = rp.family;
	p.proto = rp.proto;
	memcpy(p.src.addr, rp.src, rp.family == AF_INET ? 4 : 16);
	memcpy(p.dst.addr, rp.dst, rp.family == AF_INET ? 4 : 16);
	p.flags = rp.tcp_flags;

	/* fragments after the first carry no ports: not placed */
	if (w.later && (has_ports(p.proto) || family_icmp(p.family, p.proto)))
		return invalid(m);
	if (family_icmp(p.family, p.proto)) {
		type = (uint8_t)rp.sport;
		if (icmp_error(p.family, type)) {
			if (!quotes_live_flow(m, frame, &w, p.family, now_ns))
				return invalid(m);
			s.ct = MOAT_CT_RELATED;
			return s;
		}
		if (!echo_request(p.family, type) &&
		    !echo_reply(p.family, type))
			return s; /* neither echo nor error: not tracked */
		if (!fits(w.end, w.l4, 8))
			return invalid(m); /* the identifier cannot be read */
		p.src.port = p.dst.port = be16(frame + w.l4 + 4);
	} else if (has_ports(p.proto)) {
		p.src.port = rp.sport;
		p.dst.port = rp.dport;
	}

	row = find_row(m, &p, &from_opener);
	if (row >= 0 && !gone(m, row, now_ns))
		return on_flow(m, &p, row, from_opener, egress, now_ns);
	return opening(m, &p, type, row, egress, now_ns);
}

int ct_ref_commit(struct ct_ref *m, const struct ct_ref_step *s)
{
	struct ct_ref_flow *nf;

	switch (s->effect) {
	case CT_REF_NOTHING:
		break;
	case CT_REF_MAKE:
		if (m->nflows == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;

			nf = realloc(m->flows, cap * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			m->flows = nf;
			m->cap = cap;
		}
		m->flows[m->nflows++] = s->flow;
		m->made++;
		break;
	case CT_REF_REMAKE:
		m->flows[s->row] = s->flow;
		m->remade++;
		break;
	case CT_REF_MOVE:
		m->flows[s->row] = s->flow;
		break;
	}
	return 0;
}

void ct_ref_init(struct ct_ref *m, const uint64_t timeout_ns[MOAT_CTT_MAX])
{
	memset(m, 0, sizeof(*m));
	memcpy(m->timeout_ns, timeout_ns, sizeof(m->timeout_ns));
}

void ct_ref_free(struct ct_ref *m)
{
	free(m->flows);
	memset(m, 0, sizeof(*m));
}
