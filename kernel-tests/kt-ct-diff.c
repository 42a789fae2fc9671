// SPDX-License-Identifier: GPL-2.0-only
/*
 * kt-ct-diff: connection tracking, the BPF code against the reference
 * model (dataplane/ct-reference.c), on random stateful sequences.
 *
 * A dozen conversations between the host and three remotes, IPv4 and
 * IPv6, follow scripts (TCP handshakes, transfers, teardowns, resets,
 * pickups; UDP queries; pings; other protocols) and stray from them at
 * random (any TCP flags, either side); in between come ICMP errors
 * quoting any of them (tracked or not, some quotes broken), later
 * fragments, cut-short pings and ICMP that is not tracked.  What the
 * host sends runs through the TC egress program attached to an
 * interface, what arrives through the running generation of the XDP
 * firewall, both under BPF_PROG_TEST_RUN.  For every arriving packet the
 * verdict and the one counter that moves must be the ones the reference
 * matcher gives for the model's conntrack state, and every 50 packets
 * (and after every burst, below) the whole table (ends, state, flags,
 * packets each way) and the table's counters must be the model's.
 *
 * The rulesets drop some new flows and some established packets, so
 * that "a dropped packet never makes or moves an entry" is tested, and
 * change three times during a run (flows outlive generations).  Timeouts: one
 * phase with none due, then one with some classes at 1 s, in bursts of
 * under 0.3 s separated by 1.5 s, so that no flow's age comes within
 * 0.2 s of a timeout (the model counts any that does: a check).  The
 * model reads CLOCK_MONOTONIC, the table its tick (a few ms): far inside
 * that margin.
 *
 * usage: kt-ct-diff [SEED...]   (default: two fixed seeds and one new)
 *
 * At most MAX_SEEDS seeds a run: each makes two instances, and the kt
 * library removes the pins of 16 at exit.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ct-reference.h"
#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"
#include "randgen.h"
#include "reference.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04
#define PSH 0x08
#define URG 0x20

/* A rule for every state; one drops established packets. */
#define STATE_RULES                                           \
	"drop  telnet  tcp dport 23 ct new\n"                 \
	"drop  discard udp dport 9 ct new\n"                  \
	"drop  shunned from 10.93.1.7, fd00:93:1::7 ct new\n" \
	"drop  quiet   udp sport 5353 ct established\n"       \
	"allow new     ct new\n"                              \
	"allow est     ct established\n"                      \
	"allow rel     ct related\n"                          \
	"drop  inv     ct invalid\n"

/* 10.93.1.7 and fd00:93:1::7 are shunned: they may open nothing */
static const char *const rulesets[] = {
	"policy drop\n"
	"classify established\n" STATE_RULES,
	/* allow established: the fixed rows; invalid packets meet the policy */
	"policy drop\n"
	"drop  telnet  tcp dport 23\n"
	"drop  shunned from 10.93.1.7, fd00:93:1::7\n"
	"allow new     ct new\n",
	/* invalid packets pass, and must still change nothing */
	"policy allow\n"
	"classify established\n"
	"drop  shunned from 10.93.1.7, fd00:93:1::7 ct new\n"
	"drop  telnet  tcp dport 23\n",
	/*
	 * The first again, behind rules for addresses no packet uses: more
	 * terms than a ruleset compiled into the program holds, so that the
	 * states are matched the indexes' way, in lists.
	 */
	"policy drop\n"
	"classify established\n"
	"drop  pad1    from 198.51.100.1, 2001:db8:ff::1\n"
	"drop  pad2    from 198.51.100.2, 2001:db8:ff::2\n"
	"drop  pad3    from 198.51.100.3, 2001:db8:ff::3\n"
	"drop  pad4    from 198.51.100.4, 2001:db8:ff::4\n"
	"drop  pad5    to 198.51.100.5, 2001:db8:ff::5\n"
	"drop  pad6    to 198.51.100.6, 2001:db8:ff::6\n"
	"drop  pad7    to 198.51.100.7, 2001:db8:ff::7\n"
	"drop  pad8    to 198.51.100.8, 2001:db8:ff::8\n"
	"drop  pad9    udp dport 7\n" STATE_RULES,
};

#define NREMOTES 3
static uint8_t host_addr[2][16], remote_addr[2][NREMOTES][16];
static const uint16_t host_ports[] = { 22, 23, 80, 9, 40000, 40001 };
static const uint16_t remote_ports[] = { 53, 80, 443, 5353, 50000, 50001 };

enum kind { K_TCP, K_UDP, K_ECHO, K_SCTP, K_GRE, K_XICMP, K_KINDS };

/* A script step: who sends, and TCP flags (echo: 1 request, 0 reply). */
struct beat {
	char who; /* 'H' the host, 'R' the remote */
	uint8_t v;
};

struct script {
	enum kind kind;
	const struct beat *b;
	int n;
};

/* clang-format off */
#define SCRIPT(k, ...) { k, (const struct beat[]){ __VA_ARGS__ }, \
	sizeof((const struct beat[]){ __VA_ARGS__ }) / sizeof(struct beat) }
static const struct script scripts[] = {
	/* the host connects, sends, both close */
	SCRIPT(K_TCP, { 'H', SYN }, { 'R', SYN | ACK }, { 'H', ACK }, { 'H', PSH | ACK },
	       { 'R', PSH | ACK }, { 'H', FIN | ACK }, { 'R', FIN | ACK }, { 'H', ACK }),
	/* a remote connects; it closes first */
	SCRIPT(K_TCP, { 'R', SYN }, { 'H', SYN | ACK }, { 'R', ACK }, { 'R', PSH | ACK },
	       { 'H', PSH | ACK }, { 'R', FIN | ACK }, { 'H', FIN | ACK }, { 'R', ACK }),
	/* refused, each way */
	SCRIPT(K_TCP, { 'R', SYN }, { 'H', RST | ACK }),
	SCRIPT(K_TCP, { 'H', SYN }, { 'R', RST | ACK }),
	/* retransmitted SYN and SYN-ACK */
	SCRIPT(K_TCP, { 'H', SYN }, { 'H', SYN }, { 'R', SYN | ACK }, { 'R', SYN | ACK },
	       { 'H', ACK }, { 'R', ACK }),
	/* aborted by the remote after the handshake */
	SCRIPT(K_TCP, { 'R', SYN }, { 'H', SYN | ACK }, { 'R', ACK }, { 'R', RST }),
	/* a connection older than moat: the host's side is picked up */
	SCRIPT(K_TCP, { 'H', PSH | ACK }, { 'R', ACK }, { 'H', FIN | ACK }, { 'R', FIN | ACK },
	       { 'H', ACK }),
	/* half close: the remote is done sending first */
	SCRIPT(K_TCP, { 'H', SYN }, { 'R', SYN | ACK }, { 'H', ACK }, { 'R', FIN | ACK },
	       { 'H', PSH | ACK }, { 'R', ACK }, { 'H', FIN | ACK }, { 'R', ACK }),
	SCRIPT(K_UDP, { 'H', 0 }, { 'R', 0 }),
	SCRIPT(K_UDP, { 'R', 0 }, { 'H', 0 }, { 'R', 0 }, { 'H', 0 }),
	SCRIPT(K_UDP, { 'R', 0 }, { 'R', 0 }),
	SCRIPT(K_UDP, { 'H', 0 }, { 'H', 0 }, { 'R', 0 }),
	SCRIPT(K_ECHO, { 'H', 1 }, { 'R', 0 }, { 'H', 1 }, { 'R', 0 }),
	SCRIPT(K_ECHO, { 'R', 1 }, { 'H', 0 }),
	SCRIPT(K_ECHO, { 'H', 1 }, { 'H', 1 }),
	SCRIPT(K_SCTP, { 'H', 0 }, { 'R', 0 }, { 'H', 0 }),
	SCRIPT(K_GRE, { 'R', 0 }, { 'R', 0 }, { 'H', 0 }),
	SCRIPT(K_XICMP, { 'H', 0 }, { 'R', 0 }),
};
/* clang-format on */
#define NSCRIPTS ARRAY_SIZE(scripts)

/* clang-format off */
static const uint8_t odd_flags[] = {
	SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, FIN, RST, RST | ACK,
	SYN | FIN, SYN | RST, 0, URG | ACK, SYN | ACK | FIN,
};
/* clang-format on */

/* Two ends and a script; for echo, hport and rport are the identifier. */
struct conv {
	bool v6;
	int remote;
	uint16_t hport, rport;
	const struct script *s;
	int at;
};

#define NCONVS 12

enum shape {
	P_CONV, /* a packet of the conversation */
	P_LATER, /* a later fragment of it */
	P_ERROR, /* an ICMP error quoting a packet of .quoted */
	P_UNTRACKED, /* ICMP of the conversation's family and ends, neither echo nor error */
};

/* One packet, before it is a frame. */
struct pkt {
	enum shape shape;
	const struct conv *c;
	bool out; /* the host sends it */
	uint8_t flags; /* TCP; echo: 1 request, 0 reply */
	uint8_t type, code; /* P_ERROR, P_UNTRACKED */
	bool first_frag; /* P_CONV: a first fragment */
	bool short_echo; /* P_CONV: the IP packet ends inside the echo header */
	const struct conv *quoted;
	bool quoted_out; /* the quoted packet went from the host */
	/*
	 * The quote: 0 fine, 1 its IP version, 2 cut after 2 bytes of the
	 * ports, 3 of a later fragment, 4 the error's IP packet ends 2 bytes
	 * into the ports, the frame does not
	 */
	int broken;
	/* trimmings that move the headers: VLAN tags, IPv4 options, IPv6 extension headers */
	int nvlan;
	uint8_t options;
	int next;
};

static uint8_t kind_proto(const struct conv *c)
{
	switch (c->s->kind) {
	case K_TCP:
		return IPPROTO_TCP;
	case K_UDP:
		return IPPROTO_UDP;
	case K_SCTP:
		return IPPROTO_SCTP;
	case K_GRE:
		return 47;
	case K_ECHO:
		return c->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	default: /* the other family's ICMP: a protocol without ports */
		return c->v6 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	}
}

static void new_script(struct rg *g, struct conv *c)
{
	c->s = &scripts[rg_below(g, NSCRIPTS)];
	c->at = 0;
	/* half the time the same ends again: reopened and remade flows */
	if (c->hport && rg_below(g, 2))
		return;
	c->v6 = rg_below(g, 2);
	c->remote = (int)rg_below(g, NREMOTES);
	c->hport = host_ports[rg_below(g, ARRAY_SIZE(host_ports))];
	c->rport = remote_ports[rg_below(g, ARRAY_SIZE(remote_ports))];
	if (c->s->kind == K_ECHO)
		c->hport = c->rport = (uint16_t)(1 + rg_below(g, 3));
}

/* The next packet: mostly a conversation's next step, sometimes not. */
static void pick_pkt(struct rg *g, struct conv *convs, struct pkt *p)
{
	static const uint8_t err4[][2] = {
		{ 3, 1 }, { 3, 3 }, { 3, 4 }, { 11, 0 }, { 12, 0 }
	};
	static const uint8_t err6[][2] = {
		{ 1, 4 }, { 2, 0 }, { 3, 0 }, { 4, 0 }
	};
	struct conv *c = &convs[rg_below(g, NCONVS)];
	uint32_t r = rg_below(g, 100), e;
	const struct beat *b;

	memset(p, 0, sizeof(*p));
	p->c = c;
	p->out = rg_below(g, 2);
	if (r < 7) {
		/* any conversation of the same family, tracked or not */
		const struct conv *q = &convs[rg_below(g, NCONVS)];

		p->shape = P_ERROR;
		p->quoted = q->v6 == c->v6 ? q : c;
		p->quoted_out = rg_below(g, 2);
		e = rg_below(g, c->v6 ? 4 : 5);
		p->type = c->v6 ? err6[e][0] : err4[e][0];
		p->code = c->v6 ? err6[e][1] : err4[e][1];
		p->broken = rg_below(g, 10) ? 0 : 1 + (int)rg_below(g, 4);
		return;
	}
	if (r < 10 && c->s->kind != K_ECHO) {
		p->shape = P_LATER;
		p->flags = ACK;
		return;
	}
	if (r < 12) {
		/* timestamp request; MLD query, neighbour solicitation */
		p->shape = P_UNTRACKED;
		p->type = c->v6 ? (rg_below(g, 2) ? 130 : 135) : 13;
		return;
	}
	b = &c->s->b[c->at];
	if (r < 27) {
		/* astray: either side, any flags; a ping of either type */
		p->flags = odd_flags[rg_below(g, ARRAY_SIZE(odd_flags))];
		if (c->s->kind == K_ECHO)
			p->flags = (uint8_t)rg_below(g, 2);
	} else {
		p->out = b->who == 'H';
		p->flags = b->v;
		if (++c->at == c->s->n)
			new_script(g, c);
	}
	p->short_echo = c->s->kind == K_ECHO && !rg_below(g, 30);
	p->first_frag = !rg_below(g, 20);
}

static void next_pkt(struct rg *g, struct conv *convs, struct pkt *p)
{
	pick_pkt(g, convs, p);
	if (!rg_below(g, 10))
		p->nvlan = 1 + (int)rg_below(g, 2);
	if (!rg_below(g, 10)) {
		if (p->c->v6)
			p->next = 1 + (int)rg_below(g, 2);
		else
			p->options = (uint8_t)(4 * (1 + rg_below(g, 3)));
	}
}

/* The start of a packet of @c, from the host (@out) or to it, into @q. */
static size_t quote(const struct conv *c, bool out, int broken, uint8_t *q)
{
	const uint8_t *h = host_addr[c->v6],
		      *rm = remote_addr[c->v6][c->remote];
	size_t alen = c->v6 ? 16 : 4, ipl = c->v6 ? 40 : 20;
	uint8_t *l4 = q + ipl;
	uint16_t sp = out ? c->hport : c->rport, dp = out ? c->rport : c->hport;

	memset(q, 0, ipl + 8);
	if (c->v6) {
		q[0] = broken == 1 ? 0x40 : 0x60;
		q[5] = 40; /* payload length */
		q[6] = kind_proto(c);
		q[7] = 64;
	} else {
		q[0] = broken == 1 ? 0x65 : 0x45;
		q[3] = 60; /* total length */
		q[6] = broken == 3 ? 0x01 : 0; /* an offset: a later fragment */
		q[8] = 64;
		q[9] = kind_proto(c);
	}
	memcpy(q + (c->v6 ? 8 : 12), out ? h : rm, alen);
	memcpy(q + (c->v6 ? 24 : 16), out ? rm : h, alen);
	if (c->s->kind == K_ECHO) {
		l4[0] = c->v6 ? (out ? 128 : 129) : (out ? 8 : 0);
		l4[4] = (uint8_t)(c->hport >> 8);
		l4[5] = (uint8_t)c->hport;
	} else {
		l4[0] = (uint8_t)(sp >> 8);
		l4[1] = (uint8_t)sp;
		l4[2] = (uint8_t)(dp >> 8);
		l4[3] = (uint8_t)dp;
	}
	return ipl + (broken == 2 ? 2 : 8);
}

/* Write @p as a frame into @buf; returns its length. */
static size_t build(const struct pkt *p, uint8_t *buf)
{
	const struct conv *c = p->c;
	struct moat_frame_spec f = { .kind = MOAT_FRAME_IP, .payload = 16 };
	uint8_t icmp = c->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, q[48];
	size_t len, l4, qlen = 0, alen = c->v6 ? 16 : 4, ip = 14;
	uint16_t n;

	/* destination options, routing */
	static const uint8_t ext[] = { 60, 43 };

	f.nvlan = p->nvlan;
	f.vlan[0] = 10, f.vlan[1] = 20;
	f.ip_options = p->options;
	f.next = p->next;
	memcpy(f.ext, ext, sizeof(ext));
	f.family = c->v6 ? AF_INET6 : AF_INET;
	memcpy(f.src, p->out ? host_addr[c->v6] : remote_addr[c->v6][c->remote],
	       alen);
	memcpy(f.dst, p->out ? remote_addr[c->v6][c->remote] : host_addr[c->v6],
	       alen);
	f.proto = kind_proto(c);
	f.sport = p->out ? c->hport : c->rport;
	f.dport = p->out ? c->rport : c->hport;
	f.tcp_flags = p->flags;
	if (p->shape == P_ERROR || p->shape == P_UNTRACKED) {
		f.proto = icmp;
		f.sport = p->type;
		f.dport = p->code;
		if (p->shape == P_ERROR)
			f.payload = (uint16_t)(qlen = quote(p->quoted,
							    p->quoted_out,
							    p->broken, q));
	} else if (c->s->kind == K_ECHO) {
		f.sport = c->v6 ? (p->flags ? 128 : 129) : (p->flags ? 8 : 0);
		f.dport = 0;
	}
	f.fragment = p->shape == P_LATER || p->first_frag;
	f.frag_offset = p->shape == P_LATER ? 100 : 0;
	f.more_fragments = p->shape != P_LATER;
	len = moat_frame_build(&f, buf, MOAT_FRAME_MAX);
	l4 = moat_frame_l4_offset(&f);
	/* after type, code, checksum and 4 unused bytes */
	if (qlen)
		memcpy(buf + l4 + 8, q, qlen);
	if (p->shape == P_CONV && c->s->kind == K_ECHO) {
		buf[l4 + 4] = (uint8_t)(c->hport >> 8);
		buf[l4 + 5] = (uint8_t)c->hport;
	}
	if (p->short_echo || p->broken == 4) {
		/*
		 * IPv4 total length, IPv6 payload length: 4 bytes of the echo
		 * are left, or 2 of the quoted ports
		 */
		ip += 4 * (size_t)p->nvlan + (c->v6 ? 4 : 2);
		n = (uint16_t)((buf[ip] << 8 | buf[ip + 1]) -
			       (p->short_echo ? 8 + f.payload - 4 : 6));
		buf[ip] = (uint8_t)(n >> 8);
		buf[ip + 1] = (uint8_t)n;
	}
	return len;
}

static const char *flag_string(uint8_t fl, char *s)
{
	static const char names[] = "FSRPAU";
	int n = 0;

	for (int i = 0; i < 6; i++)
		if (fl & (1 << i))
			s[n++] = names[i];
	s[n] = '\0';
	return s;
}

static const char *ct_name(uint8_t ct)
{
	switch (ct) {
	case MOAT_CT_NEW:
		return "new";
	case MOAT_CT_ESTABLISHED:
		return "established";
	case MOAT_CT_RELATED:
		return "related";
	case MOAT_CT_INVALID:
		return "invalid";
	}
	return "untracked";
}

/* One line for the trail printed at a disagreement. */
static void describe(const struct pkt *p, const struct ct_ref_step *s,
		     char *out, size_t size)
{
	static const char *const kinds[] = { "tcp",  "udp", "echo",
					     "sctp", "gre", "xicmp" };
	static const char *const shapes[] = { "", " later-fragment" };
	static const char *const effects[] = { "nothing", "make", "remake",
					       "move" };
	static const char *const broken[] = { "", " (bad IP version)",
					      " (cut short)",
					      " (of a later fragment)",
					      " (IP packet ends in it)" };
	const struct conv *c = p->c;
	char fl[8];
	int n;

	if (p->shape == P_ERROR || p->shape == P_UNTRACKED)
		n = snprintf(out, size, "%s v%d icmp R%d %s H type %u code %u",
			     p->out ? "out" : "in ", c->v6 ? 6 : 4, c->remote,
			     p->out ? "<" : ">", p->type, p->code);
	else
		n = snprintf(out, size, "%s v%d %s R%d:%u %s H:%u [%s]%s%s%s",
			     p->out ? "out" : "in ", c->v6 ? 6 : 4,
			     kinds[c->s->kind], c->remote, c->rport,
			     p->out ? "<" : ">", c->hport,
			     flag_string(p->flags, fl), shapes[p->shape],
			     p->first_frag ? " first-fragment" : "",
			     p->short_echo ? " short" : "");
	if (p->shape == P_ERROR)
		n += snprintf(out + n, size - (size_t)n,
			      " quoting %s R%d:%u %s H:%u%s",
			      kinds[p->quoted->s->kind], p->quoted->remote,
			      p->quoted->rport, p->quoted_out ? "<" : ">",
			      p->quoted->hport, broken[p->broken]);
	if (p->nvlan || p->options || p->next)
		n += snprintf(out + n, size - (size_t)n,
			      " (%d tags, %u option bytes, %d ext)", p->nvlan,
			      p->options, p->next);
	snprintf(out + n, size - (size_t)n, ": model %s, %s", ct_name(s->ct),
		 effects[s->effect]);
}

#define IFACE "ctd0"
#define NSLOTS 256
#define TRAIL 4096

/* Which flow a packet is about: an error's is the one it quotes. */
struct fkey {
	bool v6;
	int remote;
	uint16_t hport, rport;
	uint8_t proto;
};

struct run {
	uint64_t seed;
	struct rg g;
	struct moat_dp *dp;
	struct moat_ruleset rs;
	/* the running generation, the attached egress program */
	int xdp, egress;
	struct ct_ref m;
	uint64_t want[NSLOTS]; /* what each counter must say */
	struct conv convs[NCONVS];
	size_t sent, arrived, tables;
	/* arriving packets by the model's state */
	size_t states[MOAT_CT_INVALID + 1];
	int bad, bad_tables;
	/* the last packets, to show a flow's history at a disagreement */
	struct {
		struct fkey k;
		char line[240];
	} trail[TRAIL];
	size_t ntrail;
	/*
	 * First fragments that arrived, newest last: where each went, for
	 * the later fragments of its packet (docs/conntrack.md).  Notes of
	 * an earlier ruleset do not count.
	 */
	struct frag_note {
		int family;
		uint8_t src[16], dst[16], proto;
		uint32_t id, slot, generation;
		bool drop;
		uint64_t at_ns;
	} notes[64];
	size_t nnotes;
	uint32_t generation; /* rulesets applied */
};

/* Apply rulesets[i]; counters go on from what the rows say. */
static int apply(struct run *r, size_t i)
{
	struct moat_diags d = { 0 };
	struct moat_dp_row *rows;
	int n, err;

	moat_ruleset_free(&r->rs);
	memset(&r->rs, 0, sizeof(r->rs));
	err = moat_ruleset_parse(rulesets[i], strlen(rulesets[i]), &r->rs, &d);
	if (!err)
		err = moat_dp_apply(r->dp, &r->rs, &d, NULL);
	if (err)
		moat_diags_print(&d, "kt-ct-diff", stderr);
	moat_diags_free(&d);
	if (!err)
		err = moat_dp_rows(r->dp, &rows, &n);
	if (err)
		return err;
	for (int k = 0; k < n; k++)
		if (rows[k].slot < NSLOTS)
			r->want[rows[k].slot] = rows[k].packets;
	free(rows);
	r->xdp = moat_dp_generation_fd(r->dp);
	r->generation++;
	return 0;
}

static bool same_packet(const struct frag_note *n, const struct moat_ref_packet *p)
{
	return n->family == p->family && n->proto == p->proto &&
	       n->id == p->frag_id && !memcmp(n->src, p->src, 16) &&
	       !memcmp(n->dst, p->dst, 16);
}

/* The note a later fragment follows, or NULL: the newest of its packet. */
static const struct frag_note *frag_find(const struct run *r,
					 const struct moat_ref_packet *p,
					 uint64_t now)
{
	for (size_t i = r->nnotes; i-- > 0;) {
		const struct frag_note *n = &r->notes[i];

		if (same_packet(n, p))
			return n->generation == r->generation &&
					       now - n->at_ns <= MOAT_FRAG_TIMEOUT_NS ?
				       n :
				       NULL;
	}
	return NULL;
}

static void frag_note(struct run *r, const struct moat_ref_packet *p,
		      uint32_t slot, bool drop, uint64_t now)
{
	struct frag_note *n;
	size_t i;

	for (i = 0; i < r->nnotes && !same_packet(&r->notes[i], p); i++)
		;
	/* the packet's note, or else the oldest when full, makes room at the end */
	if (i == r->nnotes && r->nnotes == sizeof(r->notes) / sizeof(r->notes[0]))
		i = 0;
	if (i < r->nnotes)
		memmove(&r->notes[i], &r->notes[i + 1],
			(r->nnotes - i - 1) * sizeof(r->notes[0]));
	else
		r->nnotes++;
	n = &r->notes[r->nnotes - 1];
	n->family = p->family;
	memcpy(n->src, p->src, 16);
	memcpy(n->dst, p->dst, 16);
	n->proto = p->proto;
	n->id = p->frag_id;
	n->slot = slot;
	n->drop = drop;
	n->generation = r->generation;
	n->at_ns = now;
}

static uint32_t slot_of(const struct run *r, const struct moat_ref_verdict *v)
{
	switch (v->kind) {
	case MOAT_REF_RULE:
		return (uint32_t)moat_dp_rule_slot(r->dp,
						   r->rs.rules[v->rule].name);
	case MOAT_REF_ESTABLISHED:
		return MOAT_SLOT_ESTABLISHED;
	case MOAT_REF_RELATED:
		return MOAT_SLOT_RELATED;
	case MOAT_REF_ND:
		return MOAT_SLOT_ND;
	case MOAT_REF_MALFORMED:
		return MOAT_SLOT_MALFORMED;
	default:
		return MOAT_SLOT_POLICY;
	}
}

/*
 * The host's packet through the egress program: its return code, and
 * whether the packet came out changed (it never may be).
 */
static int run_egress(int prog, const uint8_t *buf, size_t len, uint32_t *ret,
		      bool *changed)
{
	uint8_t out[MOAT_FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (uint32_t)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o))
		return -errno;
	*ret = o.retval;
	*changed = o.data_size_out != len || memcmp(out, buf, len);
	return 0;
}

/* Did every counter move as expected?  Says which did not, and follows them. */
static bool rows_agree(struct run *r, char *why, size_t size)
{
	struct moat_dp_row *rows;
	size_t used = strlen(why);
	bool ok = true;
	int n;

	if (moat_dp_rows(r->dp, &rows, &n)) {
		snprintf(why + used, size - used, " (cannot read the rows)");
		return false;
	}
	for (int k = 0; k < n; k++) {
		uint32_t s = rows[k].slot;

		if (s >= NSLOTS || rows[k].packets == r->want[s])
			continue;
		used += (size_t)snprintf(
			why + used, size - used, " row %s %llu want %llu;",
			rows[k].name, (unsigned long long)rows[k].packets,
			(unsigned long long)r->want[s]);
		used = used < size ? used : size - 1;
		r->want[s] = rows[k].packets;
		ok = false;
	}
	free(rows);
	return ok;
}

static struct fkey pkt_key(const struct pkt *p)
{
	const struct conv *c = p->shape == P_ERROR ? p->quoted : p->c;
	struct fkey k = { c->v6, c->remote, c->hport, c->rport, kind_proto(c) };

	if (p->shape == P_UNTRACKED)
		k.proto = 0;
	return k;
}

static struct fkey flow_key(const struct ct_ref_flow *f)
{
	bool host_opened =
		!memcmp(f->opener.addr, host_addr[f->family == AF_INET6], 16);
	const struct ct_ref_end *rm = host_opened ? &f->answer : &f->opener;
	struct fkey k = { f->family == AF_INET6, 0, 0, 0, f->proto };

	for (int i = 0; i < NREMOTES; i++)
		if (!memcmp(rm->addr, remote_addr[k.v6][i], 16))
			k.remote = i;
	k.rport = rm->port;
	k.hport = host_opened ? f->opener.port : f->answer.port;
	return k;
}

static bool same_key(const struct fkey *x, const struct fkey *y)
{
	return x->v6 == y->v6 && x->remote == y->remote &&
	       x->hport == y->hport && x->rport == y->rport &&
	       x->proto == y->proto;
}

/* The last packets about the flow @k. */
static void history(const struct run *r, const struct fkey *k)
{
	size_t i = r->ntrail > TRAIL ? r->ntrail - TRAIL : 0, n = 0;

	for (size_t j = i; j < r->ntrail; j++)
		n += same_key(&r->trail[j % TRAIL].k, k);
	for (; i < r->ntrail; i++)
		if (same_key(&r->trail[i % TRAIL].k, k) && n-- <= 12)
			fprintf(stderr, "    #%zu %s\n", i + 1,
				r->trail[i % TRAIL].line);
}

static void send_pkt(struct run *r, const struct pkt *p)
{
	uint8_t buf[MOAT_FRAME_MAX];
	size_t len = build(p, buf);
	struct ct_ref_step s =
		ct_ref_packet(&r->m, buf, len, p->out, kt_now_ns());
	struct moat_ref_verdict v = { 0 };
	char *line = r->trail[r->ntrail % TRAIL].line, why[512] = "";
	const char *fw;
	uint32_t ret = 0;
	bool changed = false, ok, followed = false;
	int err;

	describe(p, &s, line, sizeof(r->trail[0].line));
	r->trail[r->ntrail++ % TRAIL].k = pkt_key(p);
	if (p->out) {
		r->sent++;
		err = run_egress(r->egress, buf, len, &ret, &changed);
		ok = !err && ret == TC_ACT_OK && !changed;
		snprintf(why, sizeof(why), "egress program: %s, returned %u%s",
			 strerror(-err), ret,
			 changed ? ", changed the packet" : "");
	} else {
		struct moat_ref_packet rp;
		const struct frag_note *fn;
		uint64_t now = kt_now_ns();
		uint32_t slot;

		moat_reference_read(buf, len, &rp);
		r->arrived++;
		r->states[s.ct]++;
		fn = rp.frag == 2 ? frag_find(r, &rp, now) : NULL;
		if (fn) {
			/* it goes where its first fragment went, not looked up */
			v.kind = MOAT_REF_POLICY;
			v.drop = fn->drop;
			slot = fn->slot;
			if (s.ct == MOAT_CT_INVALID)
				r->m.invalid--;
			followed = true;
		} else {
			v = moat_reference_classify_ct(&r->rs, buf, len, NULL, s.ct);
			slot = slot_of(r, &v);
		}
		if (rp.frag == 1)
			frag_note(r, &rp, slot, v.drop, now);
		r->want[slot]++;
		err = kt_xdp_run(r->xdp, buf, len, 1, &ret);
		ok = !err && ret == (v.drop ? XDP_DROP : XDP_PASS);
		if (err)
			fw = strerror(-err);
		else
			fw = ret == XDP_DROP ? "drop" : "pass";
		snprintf(why, sizeof(why), "firewall %s, reference %s (%s);",
			 fw, v.drop ? "drop" : "pass",
			 v.kind == MOAT_REF_RULE ? r->rs.rules[v.rule].name :
						   "fixed row");
		ok = rows_agree(r, why, sizeof(why)) && ok;
	}
	/* the host's packets always go; arriving ones when the rules say so */
	if ((p->out || !v.drop) && !followed && ct_ref_commit(&r->m, &s))
		ok = false;
	if (!ok && r->bad++ < 3) {
		struct fkey k = pkt_key(p);

		fprintf(stderr, "seed %llu packet %zu disagrees: %s\n",
			(unsigned long long)r->seed, r->sent + r->arrived, why);
		history(r, &k);
	}
}

/*
 * FIN flags name the key's ends, a and b, not the opener: a is the lower
 * (address, port), addresses compared as the key holds them
 * (moat_kern_user.h: IPv4 in host order, IPv6 as two u64 loaded from the
 * packet).
 */
static bool opener_is_a(const struct ct_ref_flow *f)
{
	if (f->family == AF_INET) {
		uint32_t o, a;

		memcpy(&o, f->opener.addr, 4);
		memcpy(&a, f->answer.addr, 4);
		if (o != a)
			return ntohl(o) < ntohl(a);
	} else {
		uint64_t o[2], a[2];

		memcpy(o, f->opener.addr, 16);
		memcpy(a, f->answer.addr, 16);
		if (o[0] != a[0])
			return o[0] < a[0];
		if (o[1] != a[1])
			return o[1] < a[1];
	}
	return f->opener.port <= f->answer.port;
}

static uint8_t flags_of(const struct ct_ref_flow *f)
{
	uint8_t fin_o = opener_is_a(f) ? MOAT_CTF_FIN_A : MOAT_CTF_FIN_B;

	return (f->replied ? MOAT_CTF_REPLIED : 0) |
	       (f->egress ? MOAT_CTF_EGRESS : 0) |
	       (f->pickup ? MOAT_CTF_PICKUP : 0) | (f->fin_opener ? fin_o : 0) |
	       (f->fin_answer ? (MOAT_CTF_FIN_A | MOAT_CTF_FIN_B) ^ fin_o : 0);
}

static bool same_ends(const struct ct_ref_flow *f, const struct moat_ct_flow *t)
{
	return f->family == t->family && f->proto == t->proto &&
	       !memcmp(f->opener.addr, t->src, 16) &&
	       !memcmp(f->answer.addr, t->dst, 16) &&
	       f->opener.port == t->sport && f->answer.port == t->dport;
}

static void print_flow(const char *who, int family, uint8_t proto,
		       const uint8_t *src, uint16_t sp, const uint8_t *dst,
		       uint16_t dp, uint8_t state, uint8_t flags, uint64_t po,
		       uint64_t pr)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	inet_ntop(family, src, s, sizeof(s));
	inet_ntop(family, dst, d, sizeof(d));
	fprintf(stderr,
		"  %s: proto %u %s:%u > %s:%u %s flags 0x%02x packets %llu/%llu\n",
		who, proto, s, sp, d, dp, moat_ct_flow_state_name(state), flags,
		(unsigned long long)po, (unsigned long long)pr);
}

/* The whole table and its counters against the model's; false when they differ. */
static bool compare_table(struct run *r)
{
	struct moat_ct_flow *t = NULL;
	struct moat_dp_ct_status st;
	size_t n = 0, i, j, off = 0, show = r->bad_tables < 3 ? 5 : 0;
	bool *seen;
	int err = moat_dp_ct_list(r->dp, NULL, &t, &n);

	r->tables++;
	seen = calloc(n + 1, sizeof(*seen));
	if (err || !seen || moat_dp_ct_status(r->dp, &st)) {
		fprintf(stderr, "cannot read the table: %s\n", strerror(-err));
		goto out;
	}
	for (i = 0; i < r->m.nflows; i++) {
		const struct ct_ref_flow *f = &r->m.flows[i];

		for (j = 0; j < n && !same_ends(f, &t[j]); j++)
			;
		if (j < n) {
			seen[j] = true;
			if (t[j].state == f->state &&
			    t[j].flags == flags_of(f) &&
			    t[j].packets_orig == f->packets_orig &&
			    t[j].packets_reply == f->packets_reply)
				continue;
		}
		if (off++ < show) {
			struct fkey k = flow_key(f);

			print_flow("model", f->family, f->proto, f->opener.addr,
				   f->opener.port, f->answer.addr,
				   f->answer.port, f->state, flags_of(f),
				   f->packets_orig, f->packets_reply);
			if (j < n)
				print_flow("table", t[j].family, t[j].proto,
					   t[j].src, t[j].sport, t[j].dst,
					   t[j].dport, t[j].state, t[j].flags,
					   t[j].packets_orig,
					   t[j].packets_reply);
			history(r, &k);
		}
	}
	for (j = 0; j < n; j++)
		if (!seen[j] && off++ < show)
			print_flow("table only", t[j].family, t[j].proto,
				   t[j].src, t[j].sport, t[j].dst, t[j].dport,
				   t[j].state, t[j].flags, t[j].packets_orig,
				   t[j].packets_reply);
	if (st.stat[MOAT_CTC_CREATED] != r->m.made ||
	    st.stat[MOAT_CTC_REUSED] != r->m.remade ||
	    st.stat[MOAT_CTC_INVALID] != r->m.invalid ||
	    st.stat[MOAT_CTC_INSERT_FAILED]) {
		if (show)
			fprintf(stderr,
				"  counters: made %llu remade %llu invalid %llu refused %llu; model %llu %llu %llu 0\n",
				(unsigned long long)st.stat[MOAT_CTC_CREATED],
				(unsigned long long)st.stat[MOAT_CTC_REUSED],
				(unsigned long long)st.stat[MOAT_CTC_INVALID],
				(unsigned long long)
					st.stat[MOAT_CTC_INSERT_FAILED],
				(unsigned long long)r->m.made,
				(unsigned long long)r->m.remade,
				(unsigned long long)r->m.invalid);
		off++;
	}
out:
	if ((err || !seen || off) && r->bad_tables++ < 3)
		fprintf(stderr,
			"seed %llu: the table differs from the model's after packet %zu (%zu flows, model %zu)\n",
			(unsigned long long)r->seed, r->sent + r->arrived, n,
			r->m.nflows);
	free(seen);
	free(t);
	return !err && off == 0;
}

/* A fresh instance with these timeouts, its egress program attached to IFACE. */
static int open_instance(struct run *r, char tag,
			 const uint32_t timeout_s[MOAT_CTT_MAX])
{
	char inst[64];
	struct moat_dp_opts o = { .instance = inst, .capacity = 64 };
	struct moat_dp_status st = { 0 };
	uint64_t ns[MOAT_CTT_MAX];
	int err;

	snprintf(inst, sizeof(inst), "%s%c%llu", kt_name("ktctd"), tag,
		 (unsigned long long)r->seed);
	kt_cleanup_instance(inst);
	o.ct.enabled = true;
	o.ct.max = 1u << 16; /* room for every flow: no evictions to model */
	for (int i = 0; i < MOAT_CTT_MAX; i++) {
		o.ct.timeout_s[i] = timeout_s[i];
		ns[i] = timeout_s[i] * 1000000000ull;
	}
	ct_ref_init(&r->m, ns);
	memset(r->want, 0, sizeof(r->want));
	err = moat_dp_open(&o, &r->dp);
	if (!err)
		err = apply(r, 0);
	if (!err)
		err = moat_dp_attach(r->dp, IFACE, MOAT_XDP_AUTO);
	if (!err)
		err = moat_dp_status(r->dp, &st);
	if (!err && (st.nifaces != 1 || !st.ifaces[0].egress_prog_id))
		err = -ENOENT;
	if (!err) {
		r->egress = bpf_prog_get_fd_by_id(st.ifaces[0].egress_prog_id);
		err = r->egress < 0 ? -errno : 0;
	}
	moat_dp_status_free(&st);
	return err;
}

static void close_instance(struct run *r)
{
	if (r->egress > 0)
		close(r->egress);
	if (r->dp)
		moat_dp_detach(r->dp, IFACE);
	moat_dp_close(r->dp);
	moat_ruleset_free(&r->rs);
	memset(&r->rs, 0, sizeof(r->rs));
	ct_ref_free(&r->m);
	r->dp = NULL;
	r->egress = -1;
}

/* The checks at the end of a phase. */
static void phase_checks(struct run *r, const char *phase)
{
	char name[200];

	snprintf(
		name, sizeof(name),
		"seed %llu %s: %zu packets sent, %zu arrived: verdicts and counters as reference and model",
		(unsigned long long)r->seed, phase, r->sent, r->arrived);
	kt_check(!r->bad, name, "%d packets disagree (the first ones above)",
		 r->bad);
	snprintf(name, sizeof(name),
		 "seed %llu %s: the table is the model's, %zu times",
		 (unsigned long long)r->seed, phase, r->tables);
	kt_check(!r->bad_tables, name, "%d times it is not", r->bad_tables);
	/* else the sequence was too tame to show anything */
	snprintf(name, sizeof(name),
		 "seed %llu %s: arriving packets of every state",
		 (unsigned long long)r->seed, phase);
	kt_check(
		r->states[MOAT_CT_NEW] && r->states[MOAT_CT_ESTABLISHED] &&
			r->states[MOAT_CT_RELATED] &&
			r->states[MOAT_CT_INVALID] && r->states[0],
		name,
		"new %zu, established %zu, related %zu, invalid %zu, untracked %zu",
		r->states[MOAT_CT_NEW], r->states[MOAT_CT_ESTABLISHED],
		r->states[MOAT_CT_RELATED], r->states[MOAT_CT_INVALID],
		r->states[0]);
	r->sent = r->arrived = r->tables = 0;
	r->bad = r->bad_tables = 0;
	memset(r->states, 0, sizeof(r->states));
}

/* No timeout comes due; the ruleset changes twice. */
static void steady(struct run *r, size_t npkts)
{
	uint32_t t[MOAT_CTT_MAX];
	struct pkt p;
	int err;

	for (int i = 0; i < MOAT_CTT_MAX; i++)
		t[i] = 3600;
	err = open_instance(r, 's', t);
	if (!kt_check(!err, "steady: open an instance, attach it", "%s",
		      strerror(-err)))
		goto out;
	for (size_t i = 0; i < npkts; i++) {
		/* each ruleset in turn, for an equal share of the packets */
		size_t share = npkts / ARRAY_SIZE(rulesets), next = i / share;

		if (i && i % share == 0 && next < ARRAY_SIZE(rulesets) &&
		    !kt_check(!apply(r, next), "steady: apply the next ruleset",
			      "see above"))
			goto out;
		next_pkt(&r->g, r->convs, &p);
		send_pkt(r, &p);
		if (i % 50 == 49)
			compare_table(r);
	}
	compare_table(r);
	phase_checks(r, "steady");
out:
	close_instance(r);
}

/*
 * Some classes time out after 1 s.  Bursts of at most 0.3 s, 1.5 s apart:
 * a flow seen in the same burst is at most 0.3 s old, one last seen in an
 * earlier burst at least 1.5 s: never within 0.2 s of 1 s.
 */
static void expiry(struct run *r, int bursts)
{
	uint32_t t[MOAT_CTT_MAX];
	char classes[256] = "";
	size_t gone = 0, used = 0;
	struct pkt p;
	int err;

	for (int i = 0; i < MOAT_CTT_MAX; i++)
		t[i] = rg_below(&r->g, 2) ? 1 : 3600;
	t[rg_below(&r->g, MOAT_CTT_MAX)] = 1;
	for (int i = 0; i < MOAT_CTT_MAX; i++)
		if (t[i] == 1)
			used += (size_t)snprintf(classes + used,
						 sizeof(classes) - used, " %s",
						 moat_ct_timeout_name[i]);
	printf("# seed %llu expiry: 1 s for%s\n", (unsigned long long)r->seed,
	       classes);
	err = open_instance(r, 'e', t);
	if (!kt_check(!err, "expiry: open an instance, attach it", "%s",
		      strerror(-err)))
		goto out;
	r->m.margin_ns = 200 * 1000000ull;
	for (int b = 0; b < bursts; b++) {
		uint64_t start;

		if (b &&
		    (usleep(1500 * 1000),
		     !kt_check(!apply(r, (size_t)b % ARRAY_SIZE(rulesets)),
			       "expiry: apply the next ruleset", "see above")))
			goto out;
		start = kt_now_ns();
		for (int k = 0;
		     k < 400 && kt_now_ns() - start < 300 * 1000000ull; k++) {
			next_pkt(&r->g, r->convs, &p);
			send_pkt(r, &p);
		}
		compare_table(r);
	}
	for (size_t i = 0; i < r->m.nflows; i++)
		gone += ct_ref_expired(&r->m, &r->m.flows[i], kt_now_ns());
	kt_check(gone > 0 && r->m.remade > 0,
		 "expiry: flows expired and were remade",
		 "%zu expired, %llu remade", gone,
		 (unsigned long long)r->m.remade);
	kt_check(!r->m.near,
		 "expiry: no flow's age came within 0.2 s of its timeout",
		 "%llu times: the timing of this test is off",
		 (unsigned long long)r->m.near);
	phase_checks(r, "expiry");
out:
	close_instance(r);
}

#define MAX_SEEDS 8

int main(int argc, char **argv)
{
	uint64_t seeds[MAX_SEEDS];
	const char *ns = kt_name("ktctd");
	int nseeds = 0, i;
	struct run *r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		char *end = NULL;

		if (nseeds < MAX_SEEDS)
			seeds[nseeds++] = strtoull(argv[i], &end, 10);
		if (!end || *end || end == argv[i]) {
			fprintf(stderr,
				"usage: kt-ct-diff [SEED...]: at most %d seeds, in decimal: `%s'\n",
				MAX_SEEDS, argv[i]);
			return 2;
		}
	}
	if (!nseeds) {
		/* two that never change, and one that differs every run */
		seeds[nseeds++] = 1;
		seeds[nseeds++] = 2;
		seeds[nseeds++] = kt_now_ns() ^ (uint64_t)getpid() << 32;
	}
	kt_require_kernel();
	if (kt_netns(ns) || kt_enter(ns))
		kt_skip("cannot create a network namespace");
	/* an interface to attach to, left down: no packet but ours reaches the programs */
	if (kt_sh("ip netns exec %s ip link add %s type veth peer name ctd1",
		  ns, IFACE))
		kt_skip("cannot create a veth interface");
	inet_pton(AF_INET, "10.93.0.2", host_addr[0]);
	inet_pton(AF_INET6, "fd00:93::2", host_addr[1]);
	inet_pton(AF_INET, "10.93.0.1", remote_addr[0][0]);
	inet_pton(AF_INET, "10.93.1.7", remote_addr[0][1]);
	inet_pton(AF_INET, "192.0.2.33", remote_addr[0][2]);
	inet_pton(AF_INET6, "fd00:93::1", remote_addr[1][0]);
	inet_pton(AF_INET6, "fd00:93:1::7", remote_addr[1][1]);
	inet_pton(AF_INET6, "2001:db8::33", remote_addr[1][2]);

	for (i = 0; i < nseeds; i++) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return 1;
		r->seed = seeds[i];
		r->egress = -1;
		printf("# seed %llu (replay: kt-ct-diff %llu)\n",
		       (unsigned long long)r->seed,
		       (unsigned long long)r->seed);
		rg_init(&r->g, r->seed);
		for (int c = 0; c < NCONVS; c++)
			new_script(&r->g, &r->convs[c]);
		steady(r, 4000);
		expiry(r, 5);
		free(r);
	}
	return kt_done();
}
