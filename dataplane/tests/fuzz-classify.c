// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential fuzz target: the XDP program's own frame parser and lookup
 * (bpf/moat_parse.h, bpf/moat_classify.h, run in C by
 * moat_image_classify()) against the reference matcher
 * (dataplane/reference.c), which states naively what a ruleset means.
 *
 * The input is a ruleset text, a NUL byte, then a frame:
 *
 *   allow web tcp dport 80\0<Ethernet frame...>
 *
 * Without a NUL the whole input is the ruleset and the frame is empty.  A
 * ruleset that parses is compiled for three protected interfaces, and the
 * frame is classified as arriving on each of them and on an unknown one:
 * as it is, and moved into each of the first rules (compare_aimed()).
 * Image and reference must agree on the kind (classified, ARP, ND,
 * non-IP, malformed), on the rule that matched, and on what happens to
 * the frame: the verdict's drop bit, the rule's counter slot, the policy.
 * Any difference aborts with both answers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile.h"
#include "randgen.h"
#include "reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Terms a ruleset may expand into here.  The compiler's own limits are
 * millions; a few thousand already make every index, long lists and
 * shared lists, and keep one input well under a millisecond.
 */
#define FUZZ_TERMS_MAX 8192

/*
 * Frames past MOAT_OFF_MAX bytes are not compared, until the userspace
 * MOAT_LOAD (bpf/moat_parse.h, moat_load()) stops refusing offsets past
 * it: bpf_xdp_load_bytes() in the XDP program has no such bound, so there
 * the image disagrees with the program it stands for, and with the
 * reference.  docs/fuzzing.md, "Known differences".
 */
#ifndef FUZZ_FRAME_MAX
#define FUZZ_FRAME_MAX MOAT_OFF_MAX
#endif

static const char *const ifnames[] = { "eth0", "eth1", "veth-moat-a" };
static const uint32_t ifindexes[] = { 11, 12, 13 };

/* Multiply, saturating past FUZZ_TERMS_MAX. */
static size_t times(size_t t, size_t n)
{
	n = n ? n : 1;
	return t > FUZZ_TERMS_MAX || n > FUZZ_TERMS_MAX ? SIZE_MAX : t * n;
}

/* An upper bound of the terms @rs expands into, as compile.c multiplies. */
static size_t terms_bound(const struct moat_ruleset *rs)
{
	size_t total = 0, t;

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];

		t = times(2, r->protos.n); /* both families */
		t = times(t, r->src.n);
		t = times(t, r->dst.n);
		t = times(t, r->sport.n);
		t = times(t, r->dport.n);
		t = times(t, r->icmp_type.n);
		t = times(t, r->icmp_code.n);
		t = times(t, r->ifaces.n);
		if (t > FUZZ_TERMS_MAX || total + t > FUZZ_TERMS_MAX)
			return SIZE_MAX;
		total += t;
	}
	return total;
}

static const char *kind_name(int k)
{
	static const char *const names[] = { "classify", "arp", "nd", "non-ip",
					     "malformed" };

	return k >= 0 && k <= MOAT_K_MALFORMED ? names[k] : "?";
}

static void differ(const struct moat_ruleset *rs, const char *iface, int want,
		   uint32_t want_rule, int got, uint64_t m, const char *what)
{
	fprintf(stderr,
		"image and reference differ (%s), frame in on %s:\n"
		"  reference: %s, rule %d%s%s\n"
		"  image:     %s, match %#llx\n",
		what, iface ? iface : "an unknown interface", kind_name(want),
		(int)want_rule, want_rule != RG_NO_RULE ? " " : "",
		want_rule != RG_NO_RULE ? rs->rules[want_rule].name : "",
		kind_name(got), (unsigned long long)m);
	abort();
}

static void compare(const struct moat_ruleset *rs, const struct moat_image *img,
		    const uint8_t *frame, size_t len, const char *iface,
		    uint32_t ifindex)
{
	struct moat_ref_verdict v;
	uint32_t want_rule, got_rule, verdict;
	uint64_t m;
	int want, got;

	v = moat_reference_classify(rs, frame, len, iface);
	want = rg_expect_kind(&v, &want_rule);
	got = moat_image_classify(img, frame, len, ifindex, &m);
	got_rule = m == MOAT_NO_MATCH ? RG_NO_RULE : MOAT_MATCH_RULE(m);

	if (got != want || got_rule != want_rule)
		differ(rs, iface, want, want_rule, got, m, "kind or rule");
	if (got != MOAT_K_CLASSIFY)
		return;
	if (got_rule == RG_NO_RULE) {
		if ((bool)img->layout.policy_drop != v.drop)
			differ(rs, iface, want, want_rule, got, m, "policy");
		return;
	}
	verdict = MOAT_MATCH_VERDICT(m);
	if (!(verdict & MOAT_VERDICT_DROP) != !v.drop ||
	    MOAT_VERDICT_SLOT(verdict) != MOAT_SLOT_FIRST_RULE + got_rule)
		differ(rs, iface, want, want_rule, got, m, "verdict");
}

static void compare_all(const struct moat_ruleset *rs,
			const struct moat_image *img, const uint8_t *frame,
			size_t len)
{
	compare(rs, img, frame, len, NULL, 0);
	for (int i = 0; i < 3; i++)
		compare(rs, img, frame, len, ifnames[i], ifindexes[i]);
}

/*
 * Where a frame's addresses and transport fields sit, found the plain
 * way: no IPv4 options or IPv6 extension headers are walked, so a frame
 * with them is aimed by its addresses only.
 */
struct where {
	size_t ip; /* offset of the IP header; 0: not IP */
	int family;
	size_t l4; /* offset of the ports or ICMP type; 0: none */
	bool icmp;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct where locate(const uint8_t *f, size_t len)
{
	struct where w = { 0 };
	size_t off = 12, l4;
	uint16_t type;
	uint8_t proto;

	for (int tags = 0;; tags++) {
		if (len < off + 2)
			return w;
		type = get16(f + off);
		if ((type != 0x8100 && type != 0x88a8) || tags == 2)
			break;
		off += 4;
	}
	off += 2;
	if (type == 0x0800 && len >= off + 20) {
		w.family = AF_INET;
		proto = f[off + 9];
		l4 = off + (size_t)(f[off] & 0x0f) * 4;
	} else if (type == 0x86dd && len >= off + 40) {
		w.family = AF_INET6;
		proto = f[off + 6];
		l4 = off + 40;
	} else {
		return w;
	}
	w.ip = off;
	w.icmp = proto ==
		 (w.family == AF_INET ? MOAT_PROTO_ICMP : MOAT_PROTO_ICMPV6);
	if ((moat_proto_has_ports(proto) || w.icmp) && l4 > off &&
	    len >= l4 + 4)
		w.l4 = l4;
	return w;
}

/* Write @p over the address at @a: its bits, then the frame's or all ones. */
static void aim_addr(uint8_t *a, const struct moat_prefix *p, bool high)
{
	size_t n = p->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++) {
		unsigned bits = p->len > 8 * i ? p->len - 8 * i : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		a[i] = (uint8_t)((p->addr[i] & mask) |
				 ((high ? 0xff : a[i]) & ~mask));
	}
}

/* The low end of the first range, or the high end of the last. */
static uint16_t edge(const struct moat_range *r, size_t n, bool high)
{
	return high ? r[n - 1].hi : r[0].lo;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The frame once more for each rule, moved into the rule: its addresses
 * into the rule's first prefixes (the frame's own host bits kept) and its
 * ports onto the first range's low end; then into the last prefixes, all
 * host bits set, and onto the last range's high end.  A random frame
 * seldom lands in a /32 or on one port; the edges are where an index is
 * off by one.
 */
#define AIMED_RULES_MAX 32

/* @r's first or last prefixes, ports, types and codes, into @f. */
static void aim(uint8_t *f, const struct where *w, const struct moat_rule *r,
		bool high)
{
	const struct moat_prefix *s = NULL, *t = NULL;
	size_t src = w->family == AF_INET ? 12 : 8;
	size_t dst = w->family == AF_INET ? 16 : 24;

	if (r->src.n)
		s = &r->src.v[high ? r->src.n - 1 : 0];
	if (r->dst.n)
		t = &r->dst.v[high ? r->dst.n - 1 : 0];
	if (s && s->family == w->family)
		aim_addr(f + w->ip + src, s, high);
	if (t && t->family == w->family)
		aim_addr(f + w->ip + dst, t, high);
	if (!w->l4)
		return;
	if (!w->icmp && r->sport.n)
		put16(f + w->l4, edge(r->sport.v, r->sport.n, high));
	if (!w->icmp && r->dport.n)
		put16(f + w->l4 + 2, edge(r->dport.v, r->dport.n, high));
	if (w->icmp && r->icmp_type.n)
		f[w->l4] = (uint8_t)edge(r->icmp_type.v, r->icmp_type.n, high);
	if (w->icmp && r->icmp_code.n)
		f[w->l4 + 1] =
			(uint8_t)edge(r->icmp_code.v, r->icmp_code.n, high);
}

static void compare_aimed(const struct moat_ruleset *rs,
			  const struct moat_image *img, const uint8_t *frame,
			  size_t len)
{
	static uint8_t buf[FUZZ_FRAME_MAX];
	struct where w = locate(frame, len);

	if (!w.ip)
		return;
	for (size_t i = 0; i < rs->nrules && i < AIMED_RULES_MAX; i++) {
		for (int high = 0; high < 2; high++) {
			memcpy(buf, frame, len);
			aim(buf, &w, &rs->rules[i], high);
			compare_all(rs, img, buf, len);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct moat_compile_opts opts = {
		.ifnames = ifnames,
		.ifindex = ifindexes,
		.nifaces = 3,
	};
	const uint8_t *nul = memchr(data, '\0', size), *frame = data + size;
	size_t text_len = size, len = 0;
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	struct moat_image img;
	int err;

	if (nul) {
		text_len = (size_t)(nul - data);
		frame = nul + 1;
		len = size - text_len - 1;
	}
	if (len > FUZZ_FRAME_MAX)
		return 0;
	if (moat_ruleset_parse((const char *)data, text_len, &rs, &d))
		goto out;
	if (terms_bound(&rs) > FUZZ_TERMS_MAX)
		goto out_rs;
	err = moat_compile(&rs, &opts, &img, &d);
	if (err == -E2BIG || err == -ENOMEM)
		goto out_rs; /* capacity, not meaning */
	if (err) {
		moat_diags_print(&d, "fuzz", stderr);
		fprintf(stderr, "a ruleset that parses does not compile\n");
		abort();
	}

	compare_all(&rs, &img, frame, len);
	compare_aimed(&rs, &img, frame, len);
	moat_image_free(&img);
out_rs:
	moat_ruleset_free(&rs);
out:
	moat_diags_free(&d);
	return 0;
}
