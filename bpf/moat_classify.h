/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Classifying a key against a compiled generation: the lookup that the
 * XDP program runs, and that libmoat-dp runs in C for the userspace paths
 * and for the tests (dataplane/image.c).  Written once, so both agree by
 * construction.
 *
 * A generation spreads its terms over indexes (see docs/architecture.md):
 * a trie over destination addresses, a trie over source addresses, a
 * table over destination ports, one over source ports, and a list of the
 * terms that fit none of them.  Each index yields one short list, sorted
 * by rule; the answer is the lowest rule that matches in any of them.  A
 * bitmap per index, small enough to stay in cache, says whether the big
 * structure behind it has anything for this key at all.
 *
 * The includer defines, before including this file:
 *   MOAT_TRIE_LINE(l), MOAT_PORTS_LINE(l)  const struct moat_line * or NULL
 *   MOAT_FILTER_AT(i)                   const __u64 * or NULL
 *   MOAT_TERM4_AT(i), MOAT_TERM6_AT(i)  const struct moat_termN * or NULL
 *   MOAT_SCAN_REST4/6(off, n, k, best)  the scan past the inline terms
 *   MOAT_L                              the struct moat_layout in force
 * and may define MOAT_NONE, the indexes' starting answer (below).
 */
#ifndef MOAT_CLASSIFY_H
#define MOAT_CLASSIFY_H

#include "moat_kern_user.h"
#include "moat_parse.h"

/*
 * Unroll fully: each unrolled step reads its term at a constant offset,
 * which the verifier knows the value of, and the loop's own bookkeeping
 * goes away (a quarter of the cost of a one-rule ruleset).
 */
#ifdef __clang__
#define MOAT_UNROLL _Pragma("unroll")
#else
#define MOAT_UNROLL /* userspace: speed of the tests is no concern */
#endif

/*
 * What the index scans start from: MOAT_NO_MATCH, unless the includer
 * hides that value from its verifier (moat_fw.bpf.c).
 */
#ifndef MOAT_NONE
#define MOAT_NONE MOAT_NO_MATCH
#endif

/* The mask of a /len IPv4 prefix, len 0..32 (a 64-bit shift: 32 is fine). */
static __always_inline __u32 moat_mask4(__u8 len)
{
	return (__u32)(~0ull << (32 - len));
}

/*
 * 1 when @x is not 0, 0 when it is, without a branch: BPF has no
 * set-on-condition, and the compiler would turn (x | -x) >> 63 back into
 * a comparison and a jump if it could see through the negation.
 */
static __always_inline __u64 moat_nonzero(__u64 x)
{
	__u64 y = -x;

	asm volatile("" : "+r"(y));
	return (y | x) >> 63;
}

/* 1 when @v is outside @lo..@hi (16-bit values), without a branch. */
static __always_inline __u64 moat_outside(__u64 v, __u64 lo, __u64 hi)
{
	__u64 d = (v - lo) | (hi - v);

	asm volatile("" : "+r"(d));
	return d >> 63;
}

/*
 * What a list's term asks of the key beyond its addresses, 0 when the key
 * has it: the protocol unless the term takes any; where the term needs
 * the transport header, the header, both port ranges and the TCP flags;
 * the conntrack state and the interface where the ruleset has such
 * terms.  Each field is read where it is used, so that few are live at
 * once (every one read is a register, or a slot of the caller's stack).
 */
#define MOAT_MISS_REST(t, k)                                               \
	({                                                                 \
		__u8 flags_ = (t)->flags;                                  \
		__u64 need_ = -(__u64)((flags_ & MOAT_T_L4) >> 1);         \
		__u64 bad_;                                                \
                                                                           \
		bad_ = (__u64)((t)->proto ^ (k)->proto) &                  \
		       ((__u64)(flags_ & MOAT_T_ANYPROTO) - 1);            \
		bad_ |= need_ & (moat_nonzero((k)->l4) ^ 1);               \
		bad_ |= need_ &                                            \
			moat_outside((k)->sport, (t)->sp_lo, (t)->sp_hi);  \
		bad_ |= need_ &                                            \
			moat_outside((k)->dport, (t)->dp_lo, (t)->dp_hi);  \
		bad_ |= need_ & (__u64)(((k)->tcp_flags & (t)->tcp_mask) ^ \
					(t)->tcp_value);                   \
		if (MOAT_L.ct_rules) {                                     \
			__u8 ct_ = (t)->ct;                                \
                                                                           \
			bad_ |= moat_nonzero(ct_) &                        \
				(moat_nonzero(ct_ & (k)->ct) ^ 1);         \
		}                                                          \
		if (MOAT_L.nifaces) {                                      \
			__u8 if_ = (t)->iface;                             \
                                                                           \
			bad_ |= moat_nonzero(if_) &                        \
				moat_nonzero(if_ ^ (k)->iface);            \
		}                                                          \
		bad_;                                                      \
	})

/*
 * Whether a list's term matches @k: a branch on the addresses, where most
 * of a list's terms that fail do, then every other field tested and the
 * answers combined by arithmetic, with one branch at the end.  A term's
 * fields are data, so a branch a field was a guess a field, and to the
 * verifier a fork a field in every inline step of every scan: with them,
 * a 10,000-rule generation verified in 24,347 instructions, 52,738 with
 * half its rules IPv6; without, 16,995 and 26,000 (docs/performance.md).
 * Terms are read through volatile pointers, each field where the test
 * mentions it.  (A small ruleset's terms, compiled into the program, go
 * through moat_small4/6() below.)
 */
static __always_inline int moat_match4(const volatile struct moat_term4 *t,
				       const struct moat_key *k)
{
	if (((k->src4 ^ t->src) & moat_mask4(t->src_len)) |
	    ((k->dst4 ^ t->dst) & moat_mask4(t->dst_len)))
		return 0;
	return !MOAT_MISS_REST(t, k);
}

static __always_inline int moat_match6(const volatile struct moat_term6 *t,
				       const struct moat_key *k)
{
	if (((k->src6[0] ^ t->src[0]) & t->src_mask[0]) |
	    ((k->src6[1] ^ t->src[1]) & t->src_mask[1]) |
	    ((k->dst6[0] ^ t->dst[0]) & t->dst_mask[0]) |
	    ((k->dst6[1] ^ t->dst[1]) & t->dst_mask[1]))
		return 0;
	return !MOAT_MISS_REST(t, k);
}

/*
 * The same meaning as moat_match4/6, written for terms the verifier knows
 * (a small ruleset's, in read-only data): every field that the term does
 * not constrain guards its own test with a branch on a constant, which
 * the verifier removes, so what runs is what the rule asks for.  Lists
 * use the branch-free versions above: their terms are not constants.
 */
static __always_inline int moat_ports_given(__u16 lo, __u16 hi)
{
	return lo != 0 || hi != 0xffff;
}

/*
 * @p, laundered: the compiler cannot see where it points, so reads
 * through it are plain loads, each made where a test needs it and once,
 * and never folded into what the object was compiled with (the layout and
 * a small ruleset's terms are set at load time).  Through a volatile
 * pointer every mention would be a load, and every field asked for would
 * be loaded, whether a test used it or not.  The verifier, which knows
 * the values, drops the tests that cannot fail.
 */
#define MOAT_OPAQUE(p)                      \
	({                                  \
		__typeof__(&*(p)) p_ = (p); \
		__asm__("" : "+r"(p_));     \
		p_;                         \
	})

/* Small term @i of family @fam (4 or 6), of type struct moat_@kind. */
#define MOAT_SMALL_TERM(kind, fam, i) \
	MOAT_OPAQUE((const struct moat_##kind *)&MOAT_L.small##fam[i])

/*
 * A small term's transport fields: @flags (MOAT_T_*), ports (@sp, @dp:
 * low, high), TCP flags (@mask, @value).
 */
static __always_inline int moat_small_l4(__u8 flags, const __u16 *sp,
					 const __u16 *dp, __u8 mask, __u8 value,
					 const struct moat_key *k)
{
	if (!(flags & MOAT_T_L4))
		return 1;
	if (!k->l4)
		return 0;
	if (moat_ports_given(sp[0], sp[1]) &&
	    (k->sport < sp[0] || k->sport > sp[1]))
		return 0;
	if (moat_ports_given(dp[0], dp[1]) &&
	    (k->dport < dp[0] || k->dport > dp[1]))
		return 0;
	return !mask || (k->tcp_flags & mask) == value;
}

/*
 * The term's own fields first, so that what the layout adds (ct_rules,
 * nifaces) is read only for a term that names a state or an interface.
 */
static __always_inline int moat_small4(const struct moat_small4 *t,
				       const struct moat_key *k)
{
	if (t->src_mask && ((moat_ntohl(k->src4) ^ t->src) & t->src_mask))
		return 0;
	if (t->dst_mask && ((moat_ntohl(k->dst4) ^ t->dst) & t->dst_mask))
		return 0;
	if (!(t->flags & MOAT_T_ANYPROTO) && t->proto != k->proto)
		return 0;
	if (!moat_small_l4(t->flags, &t->sp_lo, &t->dp_lo, t->tcp_mask,
			   t->tcp_value, k))
		return 0;
	if (t->ct && MOAT_L.ct_rules && !(t->ct & k->ct))
		return 0;
	return !t->iface || !MOAT_L.nifaces || t->iface == k->iface;
}

static __always_inline int moat_small6(const struct moat_term6 *t,
				       const struct moat_key *k)
{
	if ((t->src_mask[0] | t->src_mask[1]) &&
	    (((k->src6[0] ^ t->src[0]) & t->src_mask[0]) |
	     ((k->src6[1] ^ t->src[1]) & t->src_mask[1])))
		return 0;
	if ((t->dst_mask[0] | t->dst_mask[1]) &&
	    (((k->dst6[0] ^ t->dst[0]) & t->dst_mask[0]) |
	     ((k->dst6[1] ^ t->dst[1]) & t->dst_mask[1])))
		return 0;
	if (!(t->flags & MOAT_T_ANYPROTO) && t->proto != k->proto)
		return 0;
	if (!moat_small_l4(t->flags, &t->sp_lo, &t->dp_lo, t->tcp_mask,
			   t->tcp_value, k))
		return 0;
	if (t->ct && MOAT_L.ct_rules && !(t->ct & k->ct))
		return 0;
	return !t->iface || !MOAT_L.nifaces || t->iface == k->iface;
}

/*
 * The first term of list @ref that matches, if its rule is below @best
 * (a MOAT_MATCH value).  Lists are sorted by rule, so the scan stops at
 * the first term that could not improve on @best.  Most lists are short:
 * the first MOAT_SCAN_INLINE terms are checked inline and the rest by
 * MOAT_SCAN_REST4/6 (in the XDP program, bpf_loop(), whose body the
 * verifier checks once).
 */
#define MOAT_SCAN_INLINE 4

#define MOAT_SCAN_BODY(TERM_AT, MATCH)                               \
	do {                                                         \
		if (i >= n)                                          \
			return best;                                 \
		t = TERM_AT(off + i);                                \
		if (!t || MOAT_MATCH(t->rule, 0) >= best)            \
			return best;                                 \
		if (MATCH(t, k))                                     \
			return MOAT_MATCH(t->rule, t->verdict);      \
	} while (0)

static __always_inline __u64 moat_scan4(__u32 ref, const struct moat_key *k,
					__u64 best)
{
	__u32 off = MOAT_LIST_OFF(ref), n = MOAT_LIST_LEN(ref), i;
	const struct moat_term4 *t;

	for (i = 0; i < MOAT_SCAN_INLINE; i++)
		MOAT_SCAN_BODY(MOAT_TERM4_AT, moat_match4);
	if (n <= MOAT_SCAN_INLINE || MOAT_L.max_list <= MOAT_SCAN_INLINE)
		return best;
	return MOAT_SCAN_REST4(off, n, k, best);
}

static __always_inline __u64 moat_scan6(__u32 ref, const struct moat_key *k,
					__u64 best)
{
	__u32 off = MOAT_LIST_OFF(ref), n = MOAT_LIST_LEN(ref), i;
	const struct moat_term6 *t;

	for (i = 0; i < MOAT_SCAN_INLINE; i++)
		MOAT_SCAN_BODY(MOAT_TERM6_AT, moat_match6);
	if (n <= MOAT_SCAN_INLINE || MOAT_L.max_list <= MOAT_SCAN_INLINE)
		return best;
	return MOAT_SCAN_REST6(off, n, k, best);
}

/* The scan past the inline terms, as a plain loop (userspace). */
#define MOAT_SCAN_LOOP(TERM_AT, MATCH)                                   \
	{                                                                \
		__u32 i;                                                 \
		for (i = MOAT_SCAN_INLINE; i < n; i++) {                 \
			__typeof__(TERM_AT(0)) t = TERM_AT(off + i);     \
			if (!t || MOAT_MATCH(t->rule, 0) >= best)        \
				break;                                   \
			if (MATCH(t, k))                                 \
				return MOAT_MATCH(t->rule, t->verdict);  \
		}                                                        \
		return best;                                             \
	}

/* Is bit @i of the 65536-bit filter at word offset @off set? */
static __always_inline int moat_filter(__u32 off, __u32 i)
{
	const __u64 *w = MOAT_FILTER_AT(off + (i >> 6));

	return w && ((*w >> (i & 63)) & 1);
}

static __always_inline __u32 moat_trie_word(__u32 i)
{
	const struct moat_line *l = MOAT_TRIE_LINE(i / MOAT_LINE_WORDS);

	return l ? l->w[i % MOAT_LINE_WORDS] : 0;
}

/*
 * How many of the eight byte lanes of @steps are <= @b, among the lanes
 * set in @lanes (0x80 each): a SIMD-within-a-register comparison (x >= y
 * per unsigned byte, as in Hacker's Delight) and a multiply that sums
 * the lanes.  No branch, so the cost does not depend on the address.
 */
static __always_inline __u32 moat_steps_le(__u64 steps, __u64 lanes, __u32 b)
{
	const __u64 h = 0x8080808080808080ull, ones = 0x0101010101010101ull;
	__u64 x = (__u64)b * ones, t, ge;

	t = (x | h) - (steps & ~h);
	ge = ((x & ~steps) | (~(x ^ steps) & t)) & h & lanes;
	return (__u32)(((ge >> 7) * ones) >> 56);
}

/*
 * From inner entry @e, the entry for address byte @b.  Both kinds of node
 * end in the same masked read, which lets the verifier merge the paths.
 */
static __always_inline __u32 moat_trie_down(__u32 e, __u32 b)
{
	__u32 off = e & MOAT_TRIE_OFF, idx;
	const struct moat_line *l;

	if (e & MOAT_TRIE_SPARSE) {
		l = MOAT_TRIE_LINE(off / MOAT_LINE_WORDS);
		if (!l)
			return 0;
		idx = moat_steps_le((__u64)l->w[MOAT_SPARSE_STEPS + 1] << 32 |
					    l->w[MOAT_SPARSE_STEPS],
				    (__u64)l->w[MOAT_SPARSE_LANES + 1] << 32 |
					    l->w[MOAT_SPARSE_LANES],
				    b);
	} else {
		l = MOAT_TRIE_LINE((off + b) / MOAT_LINE_WORDS);
		if (!l)
			return 0;
		idx = off + b;
	}
	return l->w[idx % MOAT_LINE_WORDS];
}

/* Leaf-pushed multibit trie, strides 16-8-8. */
static __always_inline __u32 moat_trie4(__u32 root, __u32 addr)
{
	__u32 e = moat_trie_word(root + (addr >> 16));

	if (!(e & MOAT_TRIE_INNER))
		return e;
	e = moat_trie_down(e, (addr >> 8) & 0xff);
	if (!(e & MOAT_TRIE_INNER))
		return e;
	return moat_trie_down(e, addr & 0xff) & ~MOAT_TRIE_INNER;
}

/* Strides 16, then 8 bits a level down to /128. */
static __always_inline __u32 moat_trie6(__u32 root, const __u64 *addr)
{
	const __u8 *b = (const __u8 *)addr;
	__u32 e = moat_trie_word(root + ((__u32)b[0] << 8 | b[1]));
	int i;

	for (i = 2; i < 16; i++) {
		if (!(e & MOAT_TRIE_INNER))
			return e;
		e = moat_trie_down(e, b[i]);
	}
	return e & ~MOAT_TRIE_INNER;
}

static __always_inline int moat_pgroup(__u8 proto)
{
	switch (proto) {
	case 6:
		return MOAT_PG_TCP;
	case 17:
		return MOAT_PG_UDP;
	case 132:
		return MOAT_PG_SCTP;
	case 1:
	case 58:
		return MOAT_PG_ICMP;
	}
	return -1;
}

/* The list of port table @t (a MOAT_PORT_TABLE index) for @port, or 0. */
static __always_inline __u32 moat_port_ref(__u32 t, __u16 port)
{
	const struct moat_line *l;
	__u32 i;

	if (MOAT_L.ports[t] == MOAT_ABSENT ||
	    !moat_filter(MOAT_L.ports_filter[t], port))
		return 0;
	i = MOAT_L.ports[t] + port;
	l = MOAT_PORTS_LINE(i / MOAT_LINE_WORDS);
	return l ? l->w[i % MOAT_LINE_WORDS] : 0;
}

/*
 * A small ruleset's @n IPv4 terms (nsmall[0]), in order, as constants:
 * the first that matches @k, or NULL.
 */
static __always_inline const struct moat_small4 *
moat_small4_first(const struct moat_key *k, __u32 n)
{
	__u32 i;

	MOAT_UNROLL
	for (i = 0; i < MOAT_SMALL_MAX; i++) {
		const struct moat_small4 *t = MOAT_SMALL_TERM(small4, 4, i);

		if (i >= n)
			break;
		if (moat_small4(t, k))
			return t;
	}
	return NULL;
}

static __always_inline __u64 moat_classify_small4(const struct moat_key *k)
{
	const struct moat_small4 *t = moat_small4_first(k, MOAT_L.nsmall[0]);

	return t ? MOAT_MATCH(t->rule, t->verdict) : MOAT_NO_MATCH;
}

/* The lowest matching rule and its verdict, or MOAT_NO_MATCH. */
static __always_inline __u64 moat_classify4(const struct moat_key *k)
{
	__u64 best = MOAT_NO_MATCH;
	int pg;

	if (MOAT_L.nsmall[0])
		return moat_classify_small4(k);
	/*
	 * Nothing of the indexes may be computed before the test above: the
	 * compiler would hoist it (nsmall is not a constant to it), and a
	 * small ruleset would pay for probes it never makes.
	 */
	__asm__ volatile("" ::: "memory");
	best = MOAT_NONE;
	/* most terms sit in the destination trie: look there first */
	if (MOAT_L.root[0][1] != MOAT_ABSENT &&
	    moat_filter(MOAT_L.root_filter[0][1], k->dst4 >> 16))
		best = moat_scan4(moat_trie4(MOAT_L.root[0][1], k->dst4), k, best);
	if (MOAT_L.root[0][0] != MOAT_ABSENT &&
	    moat_filter(MOAT_L.root_filter[0][0], k->src4 >> 16))
		best = moat_scan4(moat_trie4(MOAT_L.root[0][0], k->src4), k, best);
	pg = moat_pgroup(k->proto);
	if (k->l4 && pg >= 0) {
		best = moat_scan4(moat_port_ref(MOAT_PORT_TABLE(0, 1, pg), k->dport),
				  k, best);
		best = moat_scan4(moat_port_ref(MOAT_PORT_TABLE(0, 0, pg), k->sport),
				  k, best);
	}
	if (MOAT_L.any[0])
		best = moat_scan4(MOAT_L.any[0], k, best);
	return best;
}

/* The same for IPv6. */
static __always_inline const struct moat_term6 *
moat_small6_first(const struct moat_key *k, __u32 n)
{
	__u32 i;

	MOAT_UNROLL
	for (i = 0; i < MOAT_SMALL_MAX; i++) {
		const struct moat_term6 *t = MOAT_SMALL_TERM(term6, 6, i);

		if (i >= n)
			break;
		if (moat_small6(t, k))
			return t;
	}
	return NULL;
}

static __always_inline __u64 moat_classify_small6(const struct moat_key *k)
{
	const struct moat_term6 *t = moat_small6_first(k, MOAT_L.nsmall[1]);

	return t ? MOAT_MATCH(t->rule, t->verdict) : MOAT_NO_MATCH;
}

static __always_inline __u64 moat_classify6(const struct moat_key *k)
{
	const __u8 *d = (const __u8 *)k->dst6, *s = (const __u8 *)k->src6;
	__u64 best = MOAT_NO_MATCH;
	int pg;

	if (MOAT_L.nsmall[1])
		return moat_classify_small6(k);
	__asm__ volatile("" ::: "memory");
	best = MOAT_NONE;
	if (MOAT_L.root[1][1] != MOAT_ABSENT &&
	    moat_filter(MOAT_L.root_filter[1][1], (__u32)d[0] << 8 | d[1]))
		best = moat_scan6(moat_trie6(MOAT_L.root[1][1], k->dst6), k, best);
	if (MOAT_L.root[1][0] != MOAT_ABSENT &&
	    moat_filter(MOAT_L.root_filter[1][0], (__u32)s[0] << 8 | s[1]))
		best = moat_scan6(moat_trie6(MOAT_L.root[1][0], k->src6), k, best);
	pg = moat_pgroup(k->proto);
	if (k->l4 && pg >= 0) {
		best = moat_scan6(moat_port_ref(MOAT_PORT_TABLE(1, 1, pg), k->dport),
				  k, best);
		best = moat_scan6(moat_port_ref(MOAT_PORT_TABLE(1, 0, pg), k->sport),
				  k, best);
	}
	if (MOAT_L.any[1])
		best = moat_scan6(MOAT_L.any[1], k, best);
	return best;
}

/* Map the ingress ifindex to the ruleset's interface id. */
static __always_inline __u32 moat_iface_id(__u32 ifindex)
{
	__u32 i;

	for (i = 0; i < MOAT_IFACES_MAX; i++) {
		if (i >= MOAT_L.nifaces)
			break;
		if (MOAT_L.ifindex[i] == ifindex)
			return i + 1;
	}
	return 0;
}

#endif /* MOAT_CLASSIFY_H */
