// SPDX-License-Identifier: GPL-2.0-only
/*
 * Templates from flows.  Frames are built by moat_frame_build (the frame
 * builder the tests use), then their payload is zeroed with the L4
 * checksum fixed, so that every template agrees on the bytes a generator
 * does not rewrite.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"
#include "frame.h"
#include "templates.h"

static const struct {
	const char *name;
	int family;
	uint8_t proto;
} protos[TP_COUNT] = {
	[TP_UDP4] = { "udp4", AF_INET, MOAT_PROTO_UDP },
	[TP_TCP4] = { "tcp4", AF_INET, MOAT_PROTO_TCP },
	[TP_ICMP4] = { "icmp4", AF_INET, MOAT_PROTO_ICMP },
	[TP_UDP6] = { "udp6", AF_INET6, MOAT_PROTO_UDP },
	[TP_TCP6] = { "tcp6", AF_INET6, MOAT_PROTO_TCP },
	[TP_ICMP6] = { "icmp6", AF_INET6, MOAT_PROTO_ICMPV6 },
};

int traffic_proto_parse(const char *name, enum traffic_proto *p)
{
	for (int i = 0; i < TP_COUNT; i++) {
		if (!strcmp(name, protos[i].name)) {
			*p = (enum traffic_proto)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *traffic_proto_name(enum traffic_proto p)
{
	return p < TP_COUNT ? protos[p].name : "?";
}

static unsigned int l4_size(uint8_t proto)
{
	return proto == MOAT_PROTO_TCP ? 20 : 8;
}

void traffic_zero_payload(uint8_t *frame, unsigned int len, unsigned int hdr,
			  int family, uint8_t proto)
{
	unsigned int l4 = hdr - l4_size(proto), coff;
	uint32_t sum = 0;
	uint16_t c;

	coff = proto == MOAT_PROTO_TCP ? l4 + 16 :
	       proto == MOAT_PROTO_UDP ? l4 + 6 :
					 l4 + 2;
	/* payload words as they sit in memory; an odd last byte pads with 0 */
	for (unsigned int i = hdr; i < len; i += 2) {
		uint8_t w[2] = { frame[i], i + 1 < len ? frame[i + 1] : 0 };

		sum += bench_load16(w);
	}
	memset(frame + hdr, 0, len - hdr);
	c = bench_load16(frame + coff);
	if (proto == MOAT_PROTO_UDP && family == AF_INET && c == 0)
		return;
	c = bench_csum_update(c, bench_csum_fold(sum), 0);
	if (proto == MOAT_PROTO_UDP && c == 0)
		c = 0xffff;
	bench_store16(frame + coff, c);
}

/* The smallest copy length that holds @need bytes, or 0. */
static unsigned int copy_for(unsigned int need)
{
	static const unsigned int sizes[] = { BENCH_COPY_64, BENCH_COPY_80,
					      BENCH_COPY_96, BENCH_COPY_128 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (need <= sizes[i])
			return sizes[i];
	return 0;
}

static unsigned int hdr_len(const struct moat_frame_spec *s)
{
	return (unsigned int)moat_frame_l4_offset(s) + l4_size(s->proto);
}

/* Lengths for templates whose longest headers are @hdr bytes. */
static int set_lengths(struct traffic *tr, const struct traffic_opts *o,
		       unsigned int hdr)
{
	unsigned int need = hdr + (o->stamp ? BENCH_STAMP_LEN : 0);

	tr->copy_len = copy_for(need);
	tr->stamp_off = o->stamp ? hdr : 0;
	tr->frame_len = o->size ? o->size : tr->copy_len;
	if (o->size && (o->size < tr->copy_len || o->size > BENCH_FRAME_MAX)) {
		bench_err(
			"--size %u cannot hold these frames: %u bytes of headers%s "
			"need a frame of %u to %u bytes",
			o->size, hdr, o->stamp ? " and a stamp" : "",
			tr->copy_len, BENCH_FRAME_MAX);
		return -EINVAL;
	}
	tr->flows = 0;
	if (o->flows > tr->n) /* every template the same share of flows */
		tr->flows = (o->flows + tr->n - 1) / tr->n * tr->n;
	tr->seed = o->seed;
	return 0;
}

static int build_one(struct traffic *tr, size_t i, struct moat_frame_spec *s,
		     const struct traffic_opts *o)
{
	uint8_t frame[BENCH_FRAME_MAX];
	struct bench_template *t = &tr->t[i];
	unsigned int hdr = hdr_len(s);

	memcpy(s->src_mac, o->src_mac, 6);
	memcpy(s->dst_mac, o->dst_mac, 6);
	s->payload = (uint16_t)(tr->frame_len - hdr);
	if (moat_frame_build(s, frame, sizeof(frame)) != tr->frame_len)
		return -EINVAL;
	traffic_zero_payload(frame, tr->frame_len, hdr, s->family, s->proto);
	memcpy(t->data, frame, tr->copy_len);
	t->family = s->family == AF_INET ? 4 : 6;
	t->proto = s->proto;
	t->has_ports = s->proto == MOAT_PROTO_TCP || s->proto == MOAT_PROTO_UDP;
	return 0;
}

static void spec_of(const struct moat_ref_packet *p, struct moat_frame_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->kind = MOAT_FRAME_IP;
	s->family = p->family;
	s->proto = p->proto;
	s->sport = p->sport;
	s->dport = p->dport;
	s->tcp_flags = p->tcp_flags;
	memcpy(s->src, p->src, sizeof(s->src));
	memcpy(s->dst, p->dst, sizeof(s->dst));
}

/* The low 32 source-address bits a prefix of @len leaves free. */
static uint32_t free_bits(const struct moat_rule *r, int family)
{
	unsigned int bits = family == AF_INET ? 32 : 128, len;

	if (r->src.n > 1)
		return 0;
	len = r->src.n ? r->src.v[0].len : 0;
	if (len >= bits)
		return 0;
	return len + 32 <= bits ? 0xffffffffu :
				  0xffffffffu >> (len + 32 - bits);
}

int traffic_from_rules(const struct moat_ruleset *rs,
		       const struct cb_traffic *cb,
		       const struct traffic_opts *o, struct traffic *out)
{
	struct moat_frame_spec s;
	unsigned int hdr = 0;
	uint32_t *order;
	struct cb_rng r;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	/* --active: the first N of the shuffle below, a random subset */
	out->n = o->active && o->active < cb->n ? o->active : cb->n;
	out->t = calloc(cb->n ? cb->n : 1, sizeof(*out->t));
	order = calloc(cb->n ? cb->n : 1, sizeof(*order));
	out->rule = order;
	if (!out->t || !order) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cb->n; i++) {
		spec_of(&cb->flows[i], &s);
		if (hdr_len(&s) > hdr)
			hdr = hdr_len(&s);
	}
	ret = set_lengths(out, o, hdr);
	if (ret)
		goto out;
	/* Fisher-Yates: every flow once, neighbours unrelated */
	cb_rng_seed(&r, o->seed ^ 0x73687566666c6500ull); /* its own stream */
	for (uint32_t i = 0; i < cb->n; i++)
		order[i] = i;
	for (uint32_t i = (uint32_t)cb->n; i > 1; i--) {
		uint32_t j = cb_rng_below(&r, i), x = order[i - 1];

		order[i - 1] = order[j];
		order[j] = x;
	}
	for (size_t i = 0; !ret && i < out->n; i++) {
		const struct moat_rule *rule = &rs->rules[order[i]];
		struct bench_template *t = &out->t[i];

		spec_of(&cb->flows[order[i]], &s);
		ret = build_one(out, i, &s, o);
		t->src_free = free_bits(rule, s.family);
		t->sport_lo = t->sport_hi = s.sport;
		if (rule->sport.n == 1) {
			t->sport_lo = rule->sport.v[0].lo;
			t->sport_hi = rule->sport.v[0].hi;
		} else if (!rule->sport.n) {
			t->sport_lo = 1024; /* clients use ephemeral ports */
			t->sport_hi = 65535;
		}
	}
out:
	if (ret)
		traffic_free(out);
	return ret;
}

int traffic_from_protos(const enum traffic_proto *p, int n,
			const struct traffic_opts *o, struct traffic *out)
{
	struct moat_frame_spec s[TP_COUNT];
	unsigned int hdr = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (n < 1 || n > TP_COUNT)
		return -EINVAL;
	out->n = (size_t)n;
	out->t = calloc((size_t)n, sizeof(*out->t));
	if (!out->t)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].kind = MOAT_FRAME_IP;
		s[i].family = protos[p[i]].family;
		s[i].proto = protos[p[i]].proto;
		if (s[i].family == AF_INET) {
			/* RFC 2544's benchmarking network, 198.18.0.0/15 */
			memcpy(s[i].src, (uint8_t[]){ 198, 18, 0, 1 }, 4);
			memcpy(s[i].dst, (uint8_t[]){ 198, 19, 0, 1 }, 4);
		} else {
			/* RFC 5180's, 2001:2::/48 */
			memcpy(s[i].src, (uint8_t[]){ 0x20, 1, 0, 2, [15] = 1 },
			       16);
			memcpy(s[i].dst,
			       (uint8_t[]){ 0x20, 1, 0, 2, 0, 0, 0,
					    1, [15] = 1 },
			       16);
		}
		s[i].sport = 1024;
		s[i].dport = 9; /* discard */
		if (s[i].proto == MOAT_PROTO_ICMP ||
		    s[i].proto == MOAT_PROTO_ICMPV6) {
			s[i].sport = s[i].proto == MOAT_PROTO_ICMP ? 8 : 128;
			s[i].dport = 0; /* echo request, code 0 */
		}
		if (s[i].proto == MOAT_PROTO_TCP)
			s[i].tcp_flags =
				o->tcp_flags ? o->tcp_flags : MOAT_TCP_ACK;
		if (hdr_len(&s[i]) > hdr)
			hdr = hdr_len(&s[i]);
	}
	ret = set_lengths(out, o, hdr);
	for (int i = 0; !ret && i < n; i++) {
		ret = build_one(out, (size_t)i, &s[i], o);
		out->t[i].src_free = 0xffff; /* within the benchmarking range */
		out->t[i].sport_lo = 1024;
		out->t[i].sport_hi = 65535;
	}
	if (ret)
		traffic_free(out);
	return ret;
}

void traffic_free(struct traffic *tr)
{
	free(tr->t);
	free(tr->rule);
	memset(tr, 0, sizeof(*tr));
}

void traffic_frame(const struct traffic *tr, size_t i, uint8_t *buf)
{
	memset(buf, 0, tr->frame_len);
	memcpy(buf, tr->t[i].data, tr->copy_len);
}

/* The headers of @flow over a frame of this traffic (copy_len bytes). */
static void write_flow(const struct traffic *tr, uint64_t flow, uint8_t *buf)
{
	size_t idx = flow % tr->n;

	memcpy(buf, tr->t[idx].data, tr->copy_len);
	if (flow >= tr->n)
		bench_flow_rewrite(buf, buf + tr->frame_len, &tr->t[idx],
				   bench_mix64(flow / tr->n ^ tr->seed));
}

void traffic_flow_frame(const struct traffic *tr, uint64_t flow, uint8_t *buf)
{
	memset(buf, 0, tr->frame_len);
	write_flow(tr, flow, buf);
}

void traffic_write(const struct traffic *tr, uint64_t k, uint32_t cpu,
		   uint8_t *buf)
{
	/* without many flows, frame k is template k mod n, variant 0 */
	uint64_t flow = k % tr->n;

	if (tr->flows)
		flow = bench_mix64(k ^ tr->seed ^ (uint64_t)cpu << 48) %
		       tr->flows;
	write_flow(tr, flow, buf);
	if (tr->stamp_off) {
		/* CLOCK_MONOTONIC is bpf_ktime_get_ns()'s clock */
		uint32_t magic = BENCH_STAMP_MAGIC;
		uint64_t now = bench_now_ns();

		memcpy(buf + tr->stamp_off, &magic, 4);
		memcpy(buf + tr->stamp_off + 4, &now, 8);
	}
}
