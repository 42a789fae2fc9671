/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What moat-bench's BPF programs and its userspace share.  Plain
 * fixed-width types and small inline functions only: compiled by clang
 * -target bpf and by the host compiler, so that the AF_XDP sender and
 * the live-frames program rewrite flows with the same code.
 *
 *   bench_gen      the traffic generator, run by BPF_PROG_TEST_RUN with
 *                  BPF_F_TEST_XDP_LIVE_FRAMES in namespace A; it writes
 *                  each frame's headers from the next template and
 *                  redirects it to veth-a, so that veth-b receives it.
 *   bench_count    receivers on veth-b: count, then XDP_DROP (the
 *                  baseline) or XDP_PASS (in front of a peer that works
 *                  after XDP); bench_empty, the empty program of test-run.
 *   bench_reflect  on veth-b: count, swap MACs, XDP_TX.
 *   bench_stamp    on veth-a: the latency of each reflected frame.
 */
#ifndef BENCH_KERN_USER_H
#define BENCH_KERN_USER_H

#include <linux/types.h>

/*
 * Frame lengths.  64 bytes (60 + FCS on a wire) is the default; IPv6 TCP
 * needs 74 bytes of headers, so a ruleset with IPv6 TCP rules runs with
 * 80-byte frames, baseline included.  Up to 1500 with --size.
 */
#define BENCH_FRAME_SHORT 64
#define BENCH_FRAME_LONG 80
#define BENCH_FRAME_MAX 1500
#define BENCH_TEMPLATE_SIZE 128

/*
 * How many bytes of the template the generator writes into each frame:
 * the verifier wants constant sizes, so one of these.  The rest of the
 * frame is zero payload, the same in every template, written once.
 */
#define BENCH_COPY_64 64
#define BENCH_COPY_80 80
#define BENCH_COPY_96 96
#define BENCH_COPY_128 128

/* The latency stamp in the payload: a magic word, then bpf_ktime_get_ns(). */
#define BENCH_STAMP_MAGIC 0x6d6f6174u /* "moat" */
#define BENCH_STAMP_LEN 12

/* One element of the generator's templates array; userspace writes all. */
struct bench_template {
	__u8 data[BENCH_TEMPLATE_SIZE]; /* the frame's first bytes */
	__u8 family; /* 4 or 6 */
	__u8 proto; /* IP protocol */
	__u8 has_ports; /* TCP or UDP: the source port may be rewritten */
	__u8 pad;
	/*
	 * Flow rewriting: which bits of the last 32 bits of the source
	 * address may change without leaving the rule (host order), and the
	 * source ports the rule allows.
	 */
	__u32 src_free;
	__u16 sport_lo, sport_hi;
};

/*
 * Latency histogram: log-linear, 8 buckets per power of two from 8 ns,
 * values below 8 ns exact.  Bucket 8 + 8 * (e - 3) + s holds values with
 * their top bit at e and the 3 bits below it equal to s.
 */
#define BENCH_HIST_SUB 8
#define BENCH_HIST_BUCKETS 304 /* up to 2^40 ns; larger values: the last */

struct bench_hist {
	__u64 n[BENCH_HIST_BUCKETS];
};

static __always_inline __u32 bench_msb(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

static __always_inline __u32 bench_hist_bucket(__u64 ns)
{
	__u32 e, b;

	if (ns < BENCH_HIST_SUB)
		return (__u32)ns;
	e = bench_msb(ns);
	b = BENCH_HIST_SUB + BENCH_HIST_SUB * (e - 3) +
	    (__u32)((ns >> (e - 3)) & (BENCH_HIST_SUB - 1));
	return b < BENCH_HIST_BUCKETS ? b : BENCH_HIST_BUCKETS - 1;
}

/*
 * One's complement checksums, updated incrementally (RFC 1624, eqn. 3):
 * HC' = ~(~HC + ~m + m').  Words are taken as they sit in memory; the
 * sum is byte-order independent as long as every word is.
 */
static __always_inline __u16 bench_csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline __u16 bench_csum_update(__u16 csum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~csum;

	s += (__u16)~old;
	s += new;
	return (__u16)~bench_csum_fold(s);
}

static __always_inline __u16 bench_load16(const __u8 *p)
{
	__u16 v;

	__builtin_memcpy(&v, p, 2);
	return v;
}

static __always_inline void bench_store16(__u8 *p, __u16 v)
{
	__builtin_memcpy(p, &v, 2);
}

static __always_inline __u32 bench_be32(__u32 host)
{
	return __builtin_bswap32(host); /* both ends are little-endian x86 */
}

static __always_inline __u64 bench_mix64(__u64 x)
{
	/* splitmix64's finalizer: every input bit moves every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* The rewrite at constant offsets (each caller below passes literals). */
static __always_inline void bench_rewrite_at(__u8 *p,
					     const struct bench_template *t,
					     __u64 h, __u32 off_src, __u32 l4,
					     __u32 csum_off, int v4)
{
	__u16 o[3], n[3], sport, c;
	__u32 old, new, mask = bench_be32(t->src_free);
	int nw = 2;

	__builtin_memcpy(&old, p + off_src, 4);
	new = (old & ~mask) | (bench_be32((__u32)h) & mask);
	__builtin_memcpy(p + off_src, &new, 4);
	o[0] = (__u16)old;
	o[1] = (__u16)(old >> 16);
	n[0] = (__u16) new;
	n[1] = (__u16)(new >> 16);
	o[2] = n[2] = 0;
	if (t->has_ports && t->sport_hi >= t->sport_lo) {
		sport = (__u16)(t->sport_lo + (h >> 32) % ((__u32)t->sport_hi -
							   t->sport_lo + 1));
		sport = __builtin_bswap16(sport);
		o[2] = bench_load16(p + l4);
		n[2] = sport;
		bench_store16(p + l4, sport);
		nw = 3;
	}
	if (v4) {
		c = bench_load16(p + 14 + 10);
		c = bench_csum_update(c, o[0], n[0]);
		c = bench_csum_update(c, o[1], n[1]);
		bench_store16(p + 14 + 10, c);
	}
	if (!csum_off)
		return;
	c = bench_load16(p + csum_off);
	/* IPv4 UDP without a checksum stays without one */
	if (t->proto == 17 && v4 && c == 0)
		return;
	c = bench_csum_update(c, o[0], n[0]);
	c = bench_csum_update(c, o[1], n[1]);
	if (nw == 3)
		c = bench_csum_update(c, o[2], n[2]);
	if (t->proto == 17 && c == 0)
		c = 0xffff; /* 0 means "none" in UDP */
	bench_store16(p + csum_off, c);
}

/*
 * Rewrite the flow of the frame at @p (up to @end, a copy of @t's data)
 * as variant @h of the template: new low source-address bits within
 * t->src_free and a new source port within the rule's range, with the
 * IPv4 header checksum and the L4 checksum updated.  Offsets are those
 * of frames without IP options or IPv6 extension headers, which is all
 * the generator builds; each branch checks its own bound, as the
 * verifier wants.  Returns 0, or -1 when the frame is too short.
 */
static __always_inline int bench_flow_rewrite(__u8 *p, const void *end,
					      const struct bench_template *t,
					      __u64 h)
{
	if (t->family == 4) {
		if ((const void *)(p + 14 + 20 + 20) > end)
			return -1;
		if (t->proto == 6)
			bench_rewrite_at(p, t, h, 26, 34, 34 + 16, 1);
		else if (t->proto == 17)
			bench_rewrite_at(p, t, h, 26, 34, 34 + 6, 1);
		else /* ICMP sums no pseudo-header */
			bench_rewrite_at(p, t, h, 26, 34, 0, 1);
		return 0;
	}
	if (t->proto == 6) {
		if ((const void *)(p + 14 + 40 + 20) > end)
			return -1;
		bench_rewrite_at(p, t, h, 34, 54, 54 + 16, 0);
		return 0;
	}
	if ((const void *)(p + 14 + 40 + 8) > end)
		return -1;
	if (t->proto == 17)
		bench_rewrite_at(p, t, h, 34, 54, 54 + 6, 0);
	else if (t->proto == 58)
		bench_rewrite_at(p, t, h, 34, 54, 54 + 2, 0);
	else
		bench_rewrite_at(p, t, h, 34, 54, 0, 0);
	return 0;
}

#endif /* BENCH_KERN_USER_H */
