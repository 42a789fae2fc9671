/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the XDP firewall and userspace share: the layout of a compiled
 * ruleset generation and of the counters.  Plain fixed-width types only;
 * this header is compiled by clang -target bpf and by the host compiler.
 *
 * A generation is one load of moat_fw.bpf.c together with its own maps:
 *
 *   trie    lines of u32 entries: the multibit tries of the address indexes
 *   ports   lines of u32 entries: 65536 list refs per (family, direction,
 *           protocol)
 *   filter  u64 words: one bit per trie root entry or port that holds a list
 *   term4   struct moat_term4, the IPv4 terms, grouped into lists
 *   term6   struct moat_term6, the same for IPv6
 *
 * Userspace (dataplane/compile.c) writes every entry before the generation
 * is published; the program only reads them.  The counters map outlives
 * generations: the program increments it, userspace sums and zeroes it.
 */
#ifndef MOAT_KERN_USER_H
#define MOAT_KERN_USER_H

#include <linux/types.h>

/*
 * The trie and the port tables are arrays of 64-byte lines (struct
 * moat_line), so that one map lookup reaches a whole node of a sparse
 * trie level; entries are addressed in u32 words.
 *
 * Trie entry.  Bit 31 clear: a leaf, the entry is a list ref.  Bit 31
 * set: an inner node at word offset (entry & MOAT_TRIE_OFF), covering the
 * next 8 address bits:
 *   dense  (bit 30 clear): 256 entries, one per value of the byte;
 *   sparse (bit 30 set): one line, a step function of the byte: w[i] is
 *          the entry for bytes from step i on (step 0 is byte 0); steps
 *          1..MOAT_SPARSE_MAX are the bytes of the u64 at w[10..11],
 *          lane i-1 for step i, and the u64 at w[12..13] has 0x80 in
 *          every lane in use; the entry for byte b is w[steps <= b].
 * Most nodes below a /24 hold one or two hosts: a line, not 1 KiB.
 * Roots are dense, 65536 entries (the first 16 address bits).
 */
#define MOAT_LINE_WORDS 16
struct moat_line {
	__u32 w[MOAT_LINE_WORDS];
};

#define MOAT_TRIE_INNER (1u << 31)
#define MOAT_TRIE_SPARSE (1u << 30)
#define MOAT_TRIE_OFF (MOAT_TRIE_SPARSE - 1)
#define MOAT_TRIE_ROOT_BITS 16
#define MOAT_SPARSE_MAX 8 /* steps after the first entry */
#define MOAT_SPARSE_STEPS 10 /* w[10..11]: the steps, a byte each */
#define MOAT_SPARSE_LANES 12 /* w[12..13]: 0x80 in each lane in use */

/*
 * List ref: a run of terms in term4 or term6, sorted by rule index.
 * 0 is the empty list.  Lists hold at most MOAT_LIST_MAX terms, which
 * bounds the scan; the compiler spreads terms over indexes to stay below.
 * Bits 30-31 stay clear, so that a list ref is a valid trie leaf.
 */
#define MOAT_LIST_LEN_BITS 8
#define MOAT_LIST_MAX ((1u << MOAT_LIST_LEN_BITS) - 1)
#define MOAT_LIST_OFF_MAX ((1u << (30 - MOAT_LIST_LEN_BITS)) - 1)
#define MOAT_LIST_REF(off, len) (((off) << MOAT_LIST_LEN_BITS) | (len))
#define MOAT_LIST_OFF(ref) ((ref) >> MOAT_LIST_LEN_BITS)
#define MOAT_LIST_LEN(ref) ((ref) & MOAT_LIST_MAX)

/* term flags */
#define MOAT_T_ANYPROTO 0x01 /* proto is not compared */
#define MOAT_T_L4 0x02 /* needs ports/type/code/flags: later fragments fail */

/*
 * One conjunctive term of a rule: a rule whose fields hold lists becomes
 * one term per combination of list items.  Ports are host order; for ICMP
 * and ICMPv6 the "source port" is the type and the "destination port" the
 * code, so one pair of range checks serves both.  A term carries its
 * rule's verdict, so a match needs no further lookup.
 */
struct moat_term4 {
	__u32 src, dst; /* host order, bits past the length zero */
	__u16 sp_lo, sp_hi;
	__u16 dp_lo, dp_hi;
	__u8 src_len, dst_len;
	__u8 proto;
	__u8 flags; /* MOAT_T_* */
	__u8 tcp_mask, tcp_value; /* (flags & mask) == value */
	__u8 iface; /* interface id, 0: any */
	__u8 ct; /* MOAT_CT_* bits: the packet's conntrack state is one of them; 0: any */
	__u32 rule; /* rule index: the lower wins */
	__u32 verdict; /* counter slot | MOAT_VERDICT_DROP */
};

/*
 * A small ruleset's IPv4 term (struct moat_layout's small4): the fields
 * of struct moat_term4, but the addresses and their masks in network byte
 * order, as the frame has them, so that its test needs no byte swap and
 * no shift.
 */
struct moat_small4 {
	__u32 src, src_mask; /* network byte order; bits past the length zero */
	__u32 dst, dst_mask;
	__u16 sp_lo, sp_hi;
	__u16 dp_lo, dp_hi;
	__u8 proto;
	__u8 flags;
	__u8 tcp_mask, tcp_value;
	__u8 iface;
	__u8 ct;
	__u8 pad[2];
	__u32 rule;
	__u32 verdict;
};

struct moat_term6 {
	__u64 src[2], src_mask[2]; /* network byte order, as read from the packet */
	__u64 dst[2], dst_mask[2];
	__u16 sp_lo, sp_hi;
	__u16 dp_lo, dp_hi;
	__u8 proto;
	__u8 flags;
	__u8 tcp_mask, tcp_value;
	__u8 iface;
	__u8 ct;
	__u8 pad[2];
	__u32 rule;
	__u32 verdict;
};

#define MOAT_RULES_MAX (1u << 20)
#define MOAT_IFACES_MAX 15 /* interface ids 1..15; 0 matches any */

#define MOAT_VERDICT_DROP (1u << 31)
#define MOAT_VERDICT_EXT (1u << 30) /* the rule has options: see rulex */
#define MOAT_VERDICT_SLOT(v) ((v) & ~(MOAT_VERDICT_DROP | MOAT_VERDICT_EXT))

/*
 * A rule's options (rate limit, audit, log), by rule index in the
 * generation's rulex map; looked up only for verdicts with
 * MOAT_VERDICT_EXT.  Rate limits are GCRA: a packet conforms when the
 * flow's theoretical arrival time, moved on by its cost, stays within
 * tau of now.
 */
#define MOAT_X_LIMIT 0x01
#define MOAT_X_BYTES 0x02 /* cost is per byte, scaled by 2^16 */
#define MOAT_X_PER_SOURCE 0x04 /* one bucket per source address */
#define MOAT_X_OVER_ALLOW 0x08 /* over the limit: pass (default: drop) */
#define MOAT_X_AUDIT 0x10 /* would-drop packets pass */
#define MOAT_X_LOG 0x20

struct moat_rule_ext {
	__u64 cost_ns; /* a packet's cost; MOAT_X_BYTES: a byte's, << 16 */
	__u64 tau_ns; /* the burst allowance */
	__u32 over_slot; /* counter of packets over the limit */
	__u32 log_every; /* log 1 packet in log_every */
	__u32 flags; /* MOAT_X_* */
	__u32 pad;
};

/* The key of a per-source bucket (limits_src). */
struct moat_limit_key {
	__u32 rule;
	__u32 fam6;
	__u64 addr[2]; /* as struct moat_ct_key's */
};

/* One verdict log event, on the instance's ring buffer. */
enum moat_ev_verdict {
	MOAT_EV_ALLOW = 0,
	MOAT_EV_DROP,
	MOAT_EV_WOULD_DROP, /* audit: it passed */
	MOAT_EV_OVER_LIMIT, /* dropped (or passed, over-limit allow) over the rate */
};

struct moat_event {
	__u64 time_ns; /* bpf_ktime_get_ns() */
	__u64 src[2], dst[2]; /* as struct moat_ct_key's addresses */
	__u32 ifindex;
	__u32 slot; /* the rule's counter slot: names follow slots */
	__u32 len; /* frame bytes */
	__u16 sport, dport; /* ICMP: type and code */
	__u8 fam6, proto, verdict, ct;
};

/* ev_stats: per-CPU u64 counters, by index. */
enum moat_ev_stat {
	MOAT_EVC_SENT = 0,
	MOAT_EVC_RATE, /* not sent: over the instance's log rate */
	MOAT_EVC_FULL, /* not sent: the ring buffer was full */
	MOAT_EVC_MAX,
};

#define MOAT_EVENTS_BYTES (1u << 20)
#define MOAT_LOG_RATE_DEFAULT 1000 /* events a second, moatd.conf log-rate */
#define MOAT_LOG_BURST 100

/*
 * A classification result: the rule index in the high half (so that the
 * lower rule compares lower) and the verdict in the low half.
 */
#define MOAT_NO_MATCH (~0ull)
#define MOAT_MATCH(rule, verdict) ((__u64)(rule) << 32 | (verdict))
#define MOAT_MATCH_RULE(m) ((__u32)((m) >> 32))
#define MOAT_MATCH_VERDICT(m) ((__u32)(m))

/*
 * Counter slots.  The fixed ones count what never reaches the ruleset;
 * rule slots follow and are owned by rule names (userspace keeps a name
 * on the same slot across generations, so its counts carry over).
 */
enum moat_slot {
	MOAT_SLOT_POLICY = 0, /* no rule matched: the default policy */
	MOAT_SLOT_ARP, /* ARP: always passes */
	MOAT_SLOT_ND, /* IPv6 neighbour discovery: always passes */
	MOAT_SLOT_NONIP, /* other ethertypes: pass */
	MOAT_SLOT_MALFORMED, /* truncated or unparseable: dropped */
	MOAT_SLOT_ESTABLISHED, /* an established flow: passed without the rules */
	MOAT_SLOT_RELATED, /* an ICMP error about a tracked flow: the same */
	MOAT_SLOT_RESERVED7,
	MOAT_SLOT_FIRST_RULE,
};

struct moat_counter {
	__u64 packets;
	__u64 bytes;
};

/* Index of the port tables: one 65536-entry table per (family, direction, protocol group). */
enum moat_pgroup {
	MOAT_PG_TCP = 0,
	MOAT_PG_UDP,
	MOAT_PG_SCTP,
	MOAT_PG_ICMP, /* ICMP for IPv4, ICMPv6 for IPv6: type/code */
	MOAT_PG_MAX,
};
#define MOAT_PORT_TABLES (2 * 2 * MOAT_PG_MAX) /* family x {sport,dport} x group */
#define MOAT_PORT_TABLE(fam6, dport, pg) \
	((((fam6) * 2 + (dport)) * MOAT_PG_MAX) + (pg))

#define MOAT_SMALL_MAX 8

/*
 * The generation's layout, set as read-only data before the program is
 * loaded, so that the verifier prunes the indexes a ruleset does not use.
 * Offsets of -1 (as u32) mean "absent".
 */
struct moat_layout {
	__u32 root[2][2]; /* [family v6][0 src, 1 dst]: trie offset of the root */
	__u32 ports[MOAT_PORT_TABLES]; /* offset into ports, or ~0 */
	/* word offsets into filter, for each present root and port table */
	__u32 root_filter[2][2];
	__u32 ports_filter[MOAT_PORT_TABLES];
	__u32 any[2]; /* list ref of terms homed nowhere else, per family */
	__u32 max_list; /* longest list of this generation */
	__u32 policy_drop; /* 1: default policy drops */
	__u32 policy_slot; /* always MOAT_SLOT_POLICY, kept for clarity */
	__u32 ifindex[MOAT_IFACES_MAX]; /* interface id i+1 is ifindex[i] */
	__u32 nifaces; /* ids in use; 0: no rule names an interface */
	/*
	 * A ruleset of a few terms is compiled into the program itself: its
	 * terms, in rule order, are read-only data the verifier knows, and
	 * no index is built.  nsmall[family] counts them.
	 */
	__u32 nsmall[2];
	struct moat_small4 small4[MOAT_SMALL_MAX];
	struct moat_term6 small6[MOAT_SMALL_MAX];
	/*
	 * Connection tracking (moat_ct.h): ct is 1 when the instance tracks
	 * flows; ct_pass is 1 when established and related packets skip the
	 * rules ("allow established"); ct_rules is 1 when some term matches
	 * on the state.
	 */
	__u32 ct, ct_pass, ct_rules;
	/* audit mode: nothing is dropped, would-drops counted */
	__u32 audit;
	/* verdict logs: at most one event per log_cost_ns, log_tau_ns of burst */
	__u64 log_cost_ns, log_tau_ns;
	__u32 has_ext; /* some rule has options: rulex is filled */
	__u32 generation; /* this generation's number (low 32 bits) */
	/*
	 * The flow cache, by family: log2 of its slots per CPU (IPv4
	 * buckets, IPv6 entries); 0: none, as for a family whose few terms
	 * are compiled into the program, or which has none.
	 */
	__u32 fc_log[2];
	/*
	 * Counter slots a CPU: the counters map is one array, CPU after
	 * CPU, and a CPU's counter of slot s is at cpu * nslots + s.
	 */
	__u32 nslots;
};

#define MOAT_ABSENT 0xffffffffu

/*
 * The flow cache (moat_fw.bpf.c): a generation's answers for the keys it
 * has seen, by CPU, so that a flow's later packets skip the indexes.  A
 * key is every field the lookup reads, packed into words: an entry
 * answers only the very key that it was made from.  IPv4 entries go two
 * to a bucket of one cache line, IPv6 entries one to a line.
 *
 * An entry also counts its flow's frames (cnt), so that a hit touches
 * one line and not the rule's counter as well.  Those counts move into
 * the rule counters when the entry is taken by another flow or fills,
 * and when its generation retires; a reader adds what is still in the
 * entries (dataplane/counters.c, and struct moat_fc_sync below).
 */
struct moat_fc4 {
	__u64 addrs; /* src4 << 32 | dst4 */
	__u64 l4; /* MOAT_FC_L4(): never 0, so zeroed entries match nothing */
	__u64 match; /* the classifier's answer, MOAT_MATCH() or MOAT_NO_MATCH */
	__u64 cnt; /* packets << MOAT_FC_PKT_SHIFT | bytes, not yet in a counter */
};

struct moat_fc4_bucket {
	struct moat_fc4 e[2]; /* either way; moat_fc4_victim() picks */
};

struct moat_fc6 {
	__u64 src[2], dst[2];
	__u64 l4, match, cnt;
	__u64 pad; /* a line each */
};

_Static_assert(sizeof(struct moat_fc4_bucket) == 64 && sizeof(struct moat_fc6) == 64,
	       "a flow cache slot is one cache line");

/*
 * The key's last word: ports (or ICMP type and code), protocol, TCP
 * flags, interface id, and a byte of 0x80 | transport-header-read << 4 |
 * conntrack state.
 */
#define MOAT_FC_L4(sport, dport, proto, flags, iface, l4, ct)                      \
	((__u64)(sport) << 48 | (__u64)(dport) << 32 | (__u32)(proto) << 24 |      \
	 (__u32)(flags) << 16 | (__u32)(iface) << 8 | 0x80 | (__u32)(l4) << 4 | (ct))

/*
 * A key's hash (@a: its addresses' word, @b: MOAT_FC_L4()), and its two
 * buckets among the first (1 << @use) of a CPU's part: by the hash's
 * top bits, and by the next ones (@use is 1 to 20: struct
 * moat_fc_head).  Shared with userspace, so that tests can tell where a
 * flow's entry goes.
 */
static inline __attribute__((always_inline)) __u64 moat_fc_hash(__u64 a,
								__u64 b)
{
	__u64 x = a * 0x9e3779b97f4a7c15ull ^ b;

	/*
	 * The ports sit in b's top half: folded down before the multiply,
	 * so that they reach every bit of both slots.  Without it, flows
	 * that differ only in their ports (one client, one server) got
	 * their second bucket from a handful.
	 */
	x ^= x >> 32;
	x *= 0xc2b2ae3d27d4eb4full;
	return x ^ (x >> 29);
}

static inline __attribute__((always_inline)) __u32
moat_fc_bucket(__u64 h, __u32 use, int second)
{
	if (second)
		h <<= use;
	return (__u32)(h >> (64 - use));
}

/*
 * An entry's counts: packets in the top 24 bits, bytes below.  An entry
 * moves them out once it holds MOAT_FC_FULL packets (2^23), long before
 * either field could wrap (2^23 frames of 64 KiB are 2^39 bytes).
 */
#define MOAT_FC_PKT_SHIFT 40
#define MOAT_FC_BYTES(cnt) ((cnt) & ((1ull << MOAT_FC_PKT_SHIFT) - 1))
#define MOAT_FC_PACKETS(cnt) ((cnt) >> MOAT_FC_PKT_SHIFT)
#define MOAT_FC_FULL (1ull << 63)

/*
 * Shared by every generation, pinned as "fc_sync": element 0 is set
 * while a reader sums the entries' counts, element 1 + cpu counts that
 * CPU's moves of counts out of entries (odd: one under way).  A program
 * moves counts, and rewrites an entry, only while no reader sums them;
 * a reader sets element 0 and then waits for every CPU's count to be
 * even.  A line each, so CPUs do not share one.
 */
struct moat_fc_sync {
	__u64 v;
	__u64 pad[7];
};

/*
 * fc_stats: per-CPU u64 counters of the flow cache's rare events, by
 * index, shared by every generation.  A hit in a key's first bucket is
 * not counted (it is most frames, and costs a line already).  While no
 * reader holds the moves off, MISS = FILL + EVICT (+ HELD otherwise).
 */
enum moat_fc_stat {
	MOAT_FCS_MISS = 0, /* in neither bucket: classified */
	MOAT_FCS_SECOND, /* found in the key's second bucket */
	MOAT_FCS_FILL, /* an answer stored in an empty entry */
	MOAT_FCS_EVICT, /* an answer stored over another flow's entry */
	MOAT_FCS_HELD, /* an answer not stored: a reader held the moves off */
	MOAT_FCS_MAX,
};

/*
 * fc_head: a generation's per-CPU state of its flow cache, by family.
 * The maps are made at the size the generation may grow to (fc_log); a
 * CPU uses the first (1 << use) buckets (IPv6: entries) of its part, and
 * doubles that when more than one in MOAT_FC_GROW_SHARE of its entries
 * were taken by other flows within a window of MOAT_FC_WINDOW_NS.  A
 * growth moves every key to other buckets; the entries left behind
 * still answer and count exactly (an entry answers only its own key),
 * and a new answer takes them as it takes empty ones, without counting
 * them as taken.
 */
struct moat_fc_head {
	__u32 use[2]; /* log2 of the buckets (entries) in use; at most fc_log */
	__u32 evicts[2]; /* entries taken from other flows in this window */
	__u64 window[2]; /* when this window began; after a growth, when the next will */
	__u64 pad[4]; /* a line each, so CPUs do not share one */
};

#define MOAT_FC_CPUS 256 /* heads: a power of two; CPUs past it share them */
#define MOAT_FC_USE_START 10 /* 1,024 IPv4 buckets, 64 KiB a CPU */
#define MOAT_FC_WINDOW_NS (1ull << 27) /* 134 ms */
#define MOAT_FC_GROW_SHARE 16

#define MOAT_FC_LOG_MIN 4
#define MOAT_FC_LOG_MAX 20 /* a million IPv4 buckets a CPU */
#define MOAT_FC_LOG_DEFAULT 16 /* 131,072 IPv4 flows a CPU */
#define MOAT_FC_BYTES_MAX (64u << 20) /* the default shrinks to fit, all CPUs */

/* Pinned beside every generation: what moatctl shows without moatd. */
struct moat_gen_info {
	__u64 generation;
	__u64 applied_ns; /* CLOCK_REALTIME */
	__u8 hash[32]; /* SHA-256 of the canonical ruleset text */
	__u32 nrules;
	__u32 nterms;
	__u32 policy_drop;
	__u32 prog_id;
	__u64 compile_ns; /* the apply: compile, load, switch (parsing is the caller's) */
	__u32 audit; /* "mode audit": nothing is dropped */
	__u32 pad;
};

/*
 * Connection tracking.  One LRU hash per instance, shared by every
 * generation, by the XDP program (ingress) and by the TC egress program
 * that learns the host's own flows.  docs/conntrack.md is the contract.
 *
 * The key is the same for both directions: the two (address, port)
 * endpoints in a fixed order, a before b.  ICMP echo has its identifier
 * in both port fields.
 */
struct moat_ct_key {
	__u64 a[2], b[2]; /* IPv6 as read from the packet; IPv4: [0] host order, [1] 0 */
	__u16 pa, pb; /* ports of a and b, host order */
	__u8 proto;
	__u8 fam6;
	__u16 pad;
};

/* Flow states: TCP's follow the handshake, the others are open or replied. */
enum moat_ct_state {
	MOAT_CTS_NONE = 0,
	MOAT_CTS_SYN_SENT, /* the opener's SYN */
	MOAT_CTS_SYN_RECV, /* the answer's SYN-ACK */
	MOAT_CTS_ESTABLISHED,
	MOAT_CTS_FIN_WAIT, /* one side sent FIN */
	MOAT_CTS_TIME_WAIT, /* both sides sent FIN */
	MOAT_CTS_CLOSE, /* a RST */
	MOAT_CTS_OPEN, /* udp, icmp echo, others: one direction seen */
	MOAT_CTS_REPLIED, /* ... and the other */
	MOAT_CTS_MAX,
};

/* value flags */
#define MOAT_CTF_REPLIED 0x01 /* a packet went the other way */
#define MOAT_CTF_FIN_A 0x02
#define MOAT_CTF_FIN_B 0x04
#define MOAT_CTF_EGRESS 0x08 /* the host opened it (learned on egress) */
#define MOAT_CTF_PICKUP 0x10 /* learned mid-stream from the host's side */

struct moat_ct_val {
	__u64 seen_ns; /* CLOCK_MONOTONIC at the tick's resolution (moat_now()) of the last packet */
	__u64 created_ns;
	__u32 packets[2]; /* from a, from b */
	__u8 state; /* enum moat_ct_state */
	__u8 orig_b; /* 1: b opened the flow */
	__u8 flags; /* MOAT_CTF_* */
	__u8 pad;
	__u32 ifindex; /* where the flow was first seen */
};

/* A packet's conntrack state, as rules match it: one bit each. */
#define MOAT_CT_NEW 0x01
#define MOAT_CT_ESTABLISHED 0x02
#define MOAT_CT_RELATED 0x04
#define MOAT_CT_INVALID 0x08

/* Timeout classes, each configurable (moatd.conf "conntrack-timeout"). */
enum moat_ct_timeout {
	MOAT_CTT_TCP_SYN = 0, /* SYN_SENT, SYN_RECV */
	MOAT_CTT_TCP_ESTABLISHED,
	MOAT_CTT_TCP_FIN, /* FIN_WAIT, TIME_WAIT */
	MOAT_CTT_TCP_CLOSE,
	MOAT_CTT_UDP, /* not replied yet */
	MOAT_CTT_UDP_REPLIED,
	MOAT_CTT_ICMP,
	MOAT_CTT_OTHER,
	MOAT_CTT_MAX,
};

/* The ct_conf map's one entry. */
struct moat_ct_conf {
	__u64 timeout_ns[MOAT_CTT_MAX];
};

/*
 * The timeout class of a flow in @state.  ICMP of the other IP version
 * (ICMPv6 in IPv4, ICMP in IPv6) is a protocol like any other.
 */
static inline __u32 moat_ct_class(__u8 fam6, __u8 proto, __u8 state)
{
	if (proto == 6) {
		switch (state) {
		case MOAT_CTS_SYN_SENT:
		case MOAT_CTS_SYN_RECV:
			return MOAT_CTT_TCP_SYN;
		case MOAT_CTS_FIN_WAIT:
		case MOAT_CTS_TIME_WAIT:
			return MOAT_CTT_TCP_FIN;
		case MOAT_CTS_CLOSE:
			return MOAT_CTT_TCP_CLOSE;
		default:
			return MOAT_CTT_TCP_ESTABLISHED;
		}
	}
	if (proto == 17)
		return state == MOAT_CTS_REPLIED ? MOAT_CTT_UDP_REPLIED : MOAT_CTT_UDP;
	if (proto == (fam6 ? 58 : 1))
		return MOAT_CTT_ICMP;
	return MOAT_CTT_OTHER;
}

/* ct_stats: per-CPU u64 counters, by index. */
enum moat_ct_stat {
	MOAT_CTC_CREATED = 0, /* new entries */
	MOAT_CTC_INSERT_FAILED, /* the kernel refused an entry */
	MOAT_CTC_REUSED, /* entries remade over an expired or closed flow */
	MOAT_CTC_INVALID, /* packets in no valid state */
	MOAT_CTC_FLUSHED, /* entries removed by moatctl conntrack flush */
	MOAT_CTC_MAX,
};

#define MOAT_CT_DEFAULT_MAX (1u << 20)

/*
 * Fragments (with conntrack): a first fragment's verdict, kept for the
 * later fragments of its packet, which carry no ports to classify.
 */
struct moat_frag_key {
	__u64 src[2], dst[2]; /* as struct moat_ct_key's addresses */
	__u32 id;
	__u8 proto;
	__u8 fam6;
	__u16 pad;
};

struct moat_frag_val {
	__u64 seen_ns; /* moat_now() of the first fragment */
	__u32 slot; /* the counter it went to */
	__u32 generation; /* of the ruleset that decided: later ones ignore it */
	__u8 drop;
	__u8 pad[7];
};

#define MOAT_FRAGS_MAX 8192
#define MOAT_FRAG_TIMEOUT_NS (30ull * 1000000000ull) /* as Linux's ipfrag_time */

#define MOAT_NAME_MAX 63

/* Pinned beside every generation, one per rule, in rule order. */
struct moat_rule_info {
	char name[MOAT_NAME_MAX + 1];
	__u32 slot;
	__u32 action; /* 0 allow, 1 drop */
	__u64 applied_ns; /* when this name first appeared (kept across generations) */
	__u32 over_slot; /* packets over the rate limit; 0: no limit */
	__u32 flags; /* MOAT_X_* of the rule (audit: of the ruleset too) */
};

#endif /* MOAT_KERN_USER_H */
