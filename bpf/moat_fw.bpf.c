// SPDX-License-Identifier: GPL-2.0-only
/*
 * The firewall: one load of this program, with its own maps, is one
 * ruleset generation.  The entry program (moat_entry.bpf.c) tail-calls the
 * running generation, so publishing a new one is a single prog-array
 * update and a packet is classified by exactly one generation.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "moat_kern_user.h"

#define MOAT_LOAD(f, off, buf, len) \
	bpf_xdp_load_bytes((struct xdp_md *)(f)->ctx, (off), (buf), (len))
#include "moat_parse.h"
#include "moat_ct.h"

/* Set by the loader between open and load; the verifier sees constants. */
const volatile struct moat_layout layout = {};

/* Sized per generation by the loader (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_line);
} trie SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_line);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_term4);
} term4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_term6);
} term6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} filter SEC(".maps");

/*
 * The flow cache: (1 << fc_log[0]) IPv4 buckets and (1 << fc_log[1])
 * IPv6 entries for each CPU, CPU after CPU.  A generation's own, so an answer
 * never outlives its ruleset; a CPU's own, so no entry is ever written
 * by two programs at once (XDP does not nest on a CPU).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_fc4_bucket);
} fc4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_fc6);
} fc6 SEC(".maps");

/*
 * The part of each CPU's flow cache in use: struct moat_fc_head, a CPU
 * each.  A global array, not a map looked up by key: its address is a
 * constant, and the lookup's store and load of the key would add to the
 * wait for every frame's bucket (4 ns a cache hit under
 * BPF_PROG_TEST_RUN).  CPUs past MOAT_FC_CPUS share a head with another.
 */
struct moat_fc_head fc_heads[MOAT_FC_CPUS];

/* Shared by every generation: struct moat_fc_sync, 1 + CPUs of them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_fc_sync);
} fc_sync SEC(".maps");

/* Shared by every generation: enum moat_fc_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MOAT_FCS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fc_stats SEC(".maps");

static __always_inline void moat_fc_count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&fc_stats, &i);

	if (c)
		*c += 1;
}

/*
 * Shared by every generation: the loader reuses the pinned map.  One
 * array with a row of layout.nslots counters for each CPU, and a last
 * row that only userspace writes (what it carried over).  Not a per-CPU
 * array: that one's lookup loads the slot's pointer before the counter,
 * a second miss a frame when traffic spreads over many rules.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_counter);
} counters SEC(".maps");

/* This CPU's counter of @slot; no other program writes it meanwhile. */
static __always_inline struct moat_counter *moat_slot_counter(__u32 slot)
{
	__u32 i = bpf_get_smp_processor_id() * layout.nslots + slot;

	return bpf_map_lookup_elem(&counters, &i);
}

/* Rule options, by rule index: sized by the loader, 1 when unused. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_rule_ext);
} rulex SEC(".maps");

/* Rate limits: a theoretical arrival time per rule, and per source. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} limits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct moat_limit_key);
	__type(value, __u64);
} limits_src SEC(".maps");

/* Verdict logs: the instance's ring buffer (shared), and its rate. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MOAT_EVENTS_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MOAT_EVC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ev_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} log_tat SEC(".maps");

static __always_inline const void *moat_at(void *map, __u32 i)
{
	return bpf_map_lookup_elem(map, &i);
}

#define MOAT_L layout
#define MOAT_TRIE_LINE(l) ((const struct moat_line *)moat_at(&trie, (l)))
#define MOAT_PORTS_LINE(l) ((const struct moat_line *)moat_at(&ports, (l)))
#define MOAT_TERM4_AT(i) ((const struct moat_term4 *)moat_at(&term4, (i)))
#define MOAT_TERM6_AT(i) ((const struct moat_term6 *)moat_at(&term6, (i)))
#define MOAT_FILTER_AT(i) ((const __u64 *)moat_at(&filter, (i)))

/* Long lists: the rest of the scan in bpf_loop(), verified once. */
struct moat_rest {
	const struct moat_key *k; /* on the program's stack: not copied */
	__u64 best;
	__u32 off;
};

static __u64 moat_rest(__u32 off, __u32 n, const struct moat_key *k, __u64 best,
		       long (*cb)(__u32, void *));
#define MOAT_SCAN_REST4(off, n, k, best) moat_rest(off, n, k, best, moat_rest4_cb)
#define MOAT_SCAN_REST6(off, n, k, best) moat_rest(off, n, k, best, moat_rest6_cb)
static long moat_rest4_cb(__u32 i, void *data);
static long moat_rest6_cb(__u32 i, void *data);

/*
 * MOAT_NO_MATCH, read from the generation's .data, where the verifier
 * cannot see its value.  As a constant, the answer the index scans start
 * from decided branches down to moat_fw()'s own test of the result, so
 * the verifier kept it precise and walked every scan apart for "nothing
 * found yet" and "found": 9% of the instructions it checked for a
 * 10,000-rule generation (29,492 before, 26,960 after), for one load of an
 * L1-resident word on a flow cache miss.
 */
__u64 moat_none = MOAT_NO_MATCH;
#define MOAT_NONE moat_none

#include "moat_classify.h"

#define MOAT_REST_CB(name, TERM_AT, MATCH)                              \
	static long name(__u32 i, void *data)                           \
	{                                                               \
		struct moat_rest *r = data;                             \
		__typeof__(TERM_AT(0)) t;                               \
                                                                        \
		t = TERM_AT(r->off + MOAT_SCAN_INLINE + i);             \
		if (!t || MOAT_MATCH(t->rule, 0) >= r->best)            \
			return 1;                                       \
		if (!MATCH(t, r->k))                                    \
			return 0;                                       \
		r->best = MOAT_MATCH(t->rule, t->verdict);              \
		return 1;                                               \
	}
MOAT_REST_CB(moat_rest4_cb, MOAT_TERM4_AT, moat_match4)
MOAT_REST_CB(moat_rest6_cb, MOAT_TERM6_AT, moat_match6)

static __always_inline __u64 moat_rest(__u32 off, __u32 n,
				       const struct moat_key *k, __u64 best,
				       long (*cb)(__u32, void *))
{
	struct moat_rest r = { .k = k, .off = off, .best = best };

	bpf_loop(n - MOAT_SCAN_INLINE, cb, &r, 0);
	return r.best;
}

/*
 * The flow cache in front of the classifier.  A family whose few terms
 * are compiled into the program is cheaper than a probe and goes without.
 * The two slots of hash @h (moat_fc_hash()) in this CPU's part of a map
 * of (1 << log) a CPU, of which the first (1 << use) are in use.
 */
static __always_inline __u32 moat_fc_cpu_slot(__u32 cpu, __u64 h, __u32 log,
					      __u32 use, int second)
{
	return (cpu << log) + moat_fc_bucket(h, use, second);
}

static __always_inline __u32 moat_fc_slot(__u64 h, __u32 log, __u32 use, int second)
{
	return moat_fc_cpu_slot(bpf_get_smp_processor_id(), h, log, use,
				second);
}

static __always_inline struct moat_fc_head *moat_fc_cpu_head(__u32 cpu)
{
	return &fc_heads[cpu & (MOAT_FC_CPUS - 1)];
}

static __always_inline struct moat_fc_head *moat_fc_head(void)
{
	return moat_fc_cpu_head(bpf_get_smp_processor_id());
}

static __always_inline __u64 moat_fc_l4(const struct moat_key *k)
{
	return MOAT_FC_L4(k->sport, k->dport, k->proto, k->tcp_flags, k->iface,
			  k->l4, k->ct);
}

_Static_assert(MOAT_CT_INVALID < 16 && MOAT_IFACES_MAX < 256,
	       "conntrack states and interface ids fit MOAT_FC_L4()");

/*
 * A key's words, as entries hold them (struct moat_fc4 and moat_fc6),
 * and its slot.  Worked out in registers: the lookup's stack adds to the
 * program's, and together they must stay within 512 bytes.
 */
static __always_inline __u64 moat_fc_addrs4(const struct moat_key *k)
{
	return (__u64)k->src4 << 32 | k->dst4;
}

static __always_inline __u64 moat_fc4_key_hash(const struct moat_key *k)
{
	return moat_fc_hash(moat_fc_addrs4(k), moat_fc_l4(k));
}

static __always_inline __u64 moat_fc6_key_hash(const struct moat_key *k)
{
	return moat_fc_hash(k->src6[0] ^ k->src6[1],
			    k->dst6[0] ^ k->dst6[1] ^ moat_fc_l4(k));
}

static __always_inline __u32 moat_fc4_slot(const struct moat_key *k, __u32 use,
					    int second)
{
	return moat_fc_slot(moat_fc4_key_hash(k), layout.fc_log[0], use, second);
}

static __always_inline __u32 moat_fc6_slot(const struct moat_key *k, __u32 use,
					    int second)
{
	return moat_fc_slot(moat_fc6_key_hash(k), layout.fc_log[1], use, second);
}

static __always_inline int moat_fc4_is(const struct moat_fc4 *e,
				       const struct moat_key *k)
{
	return e->addrs == moat_fc_addrs4(k) && e->l4 == moat_fc_l4(k);
}

static __always_inline int moat_fc6_is(const struct moat_fc6 *e,
				       const struct moat_key *k)
{
	return e->src[0] == k->src6[0] && e->src[1] == k->src6[1] &&
	       e->dst[0] == k->dst6[0] && e->dst[1] == k->dst6[1] &&
	       e->l4 == moat_fc_l4(k);
}

/*
 * Moving counts out of entries, and rewriting an entry, waits for no
 * reader: struct moat_fc_sync.  This CPU's count goes odd before the
 * reader's flag is looked at, both by exchanges, which order like
 * barriers; so either the reader sees the count odd and waits, or this
 * program sees the flag and leaves the entries alone.  NULL: a reader
 * is summing (or the map is missing).
 */
static __always_inline __u64 *moat_fc_move_begin(void)
{
	struct moat_fc_sync *frozen, *seq;
	__u32 i = 0;
	__u64 n;

	frozen = bpf_map_lookup_elem(&fc_sync, &i);
	i = 1 + bpf_get_smp_processor_id();
	seq = bpf_map_lookup_elem(&fc_sync, &i);
	if (!frozen || !seq)
		return NULL;
	n = seq->v;
	__sync_lock_test_and_set(&seq->v, n + 1);
	if (*(volatile __u64 *)&frozen->v) {
		__sync_lock_test_and_set(&seq->v, n + 2);
		return NULL;
	}
	return &seq->v;
}

static __always_inline void moat_fc_move_end(__u64 *seq)
{
	__sync_lock_test_and_set(seq, *seq + 1);
}

/* An entry's counts into this CPU's counter of its answer's slot. */
static __always_inline void moat_fc_fold(__u64 match, __u64 cnt)
{
	__u32 slot = match == MOAT_NO_MATCH ?
			     MOAT_SLOT_POLICY :
			     MOAT_VERDICT_SLOT(MOAT_MATCH_VERDICT(match));
	struct moat_counter *c = moat_slot_counter(slot);

	if (c) {
		c->packets += MOAT_FC_PACKETS(cnt);
		c->bytes += MOAT_FC_BYTES(cnt);
	}
}

/*
 * A full entry's counts into the counter, unless a reader holds moves
 * off: 1 when the entry is empty again.  It runs once in 2^23 frames of
 * a flow.
 */
static __always_inline int moat_fc_empty_here(__u64 *cnt, __u64 match)
{
	__u64 *seq = moat_fc_move_begin();

	if (!seq)
		return 0;
	moat_fc_fold(match, *cnt);
	*cnt = 0;
	moat_fc_move_end(seq);
	return 1;
}

/*
 * The same behind a call, which the verifier checks once, for the
 * program's own path.  The global functions below do it in place: a call
 * from them would be one frame too many for the 512 bytes of stack that
 * a chain of calls shares.
 */
__noinline int moat_fc_empty(__u64 *cnt, __u64 match)
{
	return cnt ? moat_fc_empty_here(cnt, match) : 0;
}

/*
 * A hit: count the frame in its entry when that is all its answer asks
 * for.  A rule with options (limits, logs, audit) goes by its counter;
 * so does a frame that finds its entry full while a reader sums.
 * @call: empty a full entry by moat_fc_empty().
 */
static __always_inline void moat_fc_hit(__u64 *cnt, __u64 match,
					struct moat_key *k, int call)
{
	if (!k->len ||
	    (match != MOAT_NO_MATCH && (MOAT_MATCH_VERDICT(match) & MOAT_VERDICT_EXT)))
		return;
	if ((*cnt & MOAT_FC_FULL) &&
	    !(call ? moat_fc_empty(cnt, match) : moat_fc_empty_here(cnt, match)))
		return;
	*cnt += (1ull << MOAT_FC_PKT_SHIFT) | k->len;
	k->counted = 1;
}

/* @k's entry in IPv4 bucket @i, or NULL. */
static __always_inline struct moat_fc4 *moat_fc4_find(__u32 i,
						       const struct moat_key *k)
{
	struct moat_fc4_bucket *b = bpf_map_lookup_elem(&fc4, &i);

	if (b && moat_fc4_is(&b->e[0], k))
		return &b->e[0];
	if (b && moat_fc4_is(&b->e[1], k))
		return &b->e[1];
	return NULL;
}

static __always_inline struct moat_fc6 *moat_fc6_find(__u32 i,
						       const struct moat_key *k)
{
	struct moat_fc6 *e = bpf_map_lookup_elem(&fc6, &i);

	return e && moat_fc6_is(e, k) ? e : NULL;
}

/*
 * Is entry @e of IPv4 bucket @i (IPv6 entry @i) where its key belongs
 * with (1 << use) in use?  Not after a growth moved its key elsewhere: it
 * still answers, but a new answer may take it like an empty one.
 */
static __always_inline int moat_fc4_placed(const struct moat_fc4 *e, __u32 i, __u32 use)
{
	__u64 h = moat_fc_hash(e->addrs, e->l4);

	return i == moat_fc_slot(h, layout.fc_log[0], use, 0) ||
	       i == moat_fc_slot(h, layout.fc_log[0], use, 1);
}

static __always_inline int moat_fc6_placed(const struct moat_fc6 *e, __u32 i, __u32 use)
{
	__u64 h = moat_fc_hash(e->src[0] ^ e->src[1], e->dst[0] ^ e->dst[1] ^ e->l4);

	return i == moat_fc_slot(h, layout.fc_log[1], use, 0) ||
	       i == moat_fc_slot(h, layout.fc_log[1], use, 1);
}

/* An entry a new answer takes before any other: empty, or left behind. */
#define MOAT_FC4_FREE(e, i, use) (!(e)->l4 || !moat_fc4_placed((e), (i), (use)))

/*
 * One step of cuckoo hashing: entry @x of bucket @ix moves to its flow's
 * other bucket when that has an empty or left-behind entry, with its
 * answer and its count, and @x is the new answer's.  NULL when its other
 * bucket is @ix itself or @iy (both full: the new key's two), or is full.
 * Runs with the moves held for this CPU (moat_fc_move_begin()).
 */
static __always_inline struct moat_fc4 *
moat_fc4_move(struct moat_fc4 *x, __u32 ix, __u32 iy, __u32 use)
{
	__u64 h = moat_fc_hash(x->addrs, x->l4);
	__u32 alt = moat_fc_slot(h, layout.fc_log[0], use, 0);
	struct moat_fc4_bucket *a;
	struct moat_fc4 *to;

	if (alt == ix)
		alt = moat_fc_slot(h, layout.fc_log[0], use, 1);
	if (alt == ix || alt == iy)
		return NULL;
	a = bpf_map_lookup_elem(&fc4, &alt);
	if (!a)
		return NULL;
	if (MOAT_FC4_FREE(&a->e[0], alt, use))
		to = &a->e[0];
	else if (MOAT_FC4_FREE(&a->e[1], alt, use))
		to = &a->e[1];
	else
		return NULL;
	if (to->cnt)
		moat_fc_fold(to->match, to->cnt);
	*to = *x;
	x->cnt = 0;
	x->l4 = 0; /* empty: the caller counts a fill, and folds nothing */
	return x;
}

/* moat_fc4_move() for IPv6's entry @x of slot @ix: 1 when it moved. */
static __always_inline int moat_fc6_move(struct moat_fc6 *x, __u32 ix, __u32 iy,
					 __u32 use)
{
	__u64 h = moat_fc_hash(x->src[0] ^ x->src[1],
			       x->dst[0] ^ x->dst[1] ^ x->l4);
	__u32 alt = moat_fc_slot(h, layout.fc_log[1], use, 0);
	struct moat_fc6 *to;

	if (alt == ix)
		alt = moat_fc_slot(h, layout.fc_log[1], use, 1);
	if (alt == ix || alt == iy)
		return 0;
	to = bpf_map_lookup_elem(&fc6, &alt);
	if (!to || (to->l4 && moat_fc6_placed(to, alt, use)))
		return 0;
	if (to->cnt)
		moat_fc_fold(to->match, to->cnt);
	*to = *x;
	x->cnt = 0;
	x->l4 = 0;
	return 1;
}

/*
 * The entry a new answer takes: an empty or left-behind one of its two
 * buckets @b and @c (numbers @ib and @ic), the first bucket first; else
 * one made free by moving a flow of the four to its other bucket
 * (moat_fc4_move(), those of the first bucket first); else one of the
 * four at random, and then *@taken is 1.  Two buckets a key (the second
 * looked at only when the first does not hold it) leave far fewer flows
 * without room than one: in a simulation of a ruleset's flows in turn,
 * 98,000 flows in 2^18 buckets miss 3.8% of the time with one bucket
 * and under 0.01% with two, of which 2% of frames look at the second
 * (docs/architecture.md).  Without the move, 100,000 flows in 65,536
 * buckets (three quarters full) found all four taken often enough, for
 * half a second after each growth while flows pushed each other out,
 * that the cache grew once more than they needed (docs/performance.md).
 * Not the older of an entry's two: traffic that goes round more flows
 * than there is room for would then evict each flow just before it
 * comes back, and never hit.  The random number is only drawn on a
 * miss, which pays for a classification anyway.
 */
static __always_inline struct moat_fc4 *
moat_fc4_victim(struct moat_fc4_bucket *b, __u32 ib, struct moat_fc4_bucket *c,
		__u32 ic, __u32 use, int *taken)
{
	struct moat_fc4 *e;
	__u32 r;

	*taken = 0;
	if (MOAT_FC4_FREE(&b->e[0], ib, use))
		return &b->e[0];
	if (MOAT_FC4_FREE(&b->e[1], ib, use))
		return &b->e[1];
	if (MOAT_FC4_FREE(&c->e[0], ic, use))
		return &c->e[0];
	if (MOAT_FC4_FREE(&c->e[1], ic, use))
		return &c->e[1];
	if ((e = moat_fc4_move(&b->e[0], ib, ic, use)) ||
	    (e = moat_fc4_move(&b->e[1], ib, ic, use)) ||
	    (e = moat_fc4_move(&c->e[0], ic, ib, use)) ||
	    (e = moat_fc4_move(&c->e[1], ic, ib, use)))
		return e;
	/* all four hold flows where they belong, and so do their others */
	*taken = 1;
	r = bpf_get_prandom_u32();
	return r & 2 ? &c->e[r & 1] : &b->e[r & 1];
}

/*
 * An entry of family @f, where it belongs, taken by another flow: count
 * it, and double the part in use when more than (entries in use) /
 * MOAT_FC_GROW_SHARE were taken within a window (struct moat_fc_head).
 * Misses only: the clock is read here and nowhere on a hit.  @use: what
 * the miss read, @slots: the entries that makes.  The new size is
 * written from @use, not incremented in place: CPUs that share a head
 * (past MOAT_FC_CPUS) may grow it at once, and must not take it past
 * @log, where a part would reach into the next CPU's.
 */
static __always_inline void moat_fc_taken(struct moat_fc_head *h, int f, __u32 log,
					  __u32 use, __u32 slots)
{
	__u64 now = bpf_ktime_get_ns();

	if (now < h->window[f])
		return;
	if (now - h->window[f] >= MOAT_FC_WINDOW_NS) {
		h->window[f] = now;
		h->evicts[f] = 0;
	}
	if (++h->evicts[f] <= slots / MOAT_FC_GROW_SHARE || use >= log)
		return;
	h->use[f] = use + 1;
	h->evicts[f] = 0;
	h->window[f] = now + MOAT_FC_WINDOW_NS;
}

/*
 * A miss's answer into the cache, in an entry of its two buckets (and
 * whatever that entry counted into its counter).  It runs on misses
 * only, which pay for a classification anyway.
 */
static __always_inline int moat_fc4_store_here(struct moat_key *k, __u64 m)
{
	struct moat_fc_head *h = moat_fc_head();
	struct moat_fc4_bucket *b, *c;
	struct moat_fc4 *e;
	__u32 i, j, use;
	__u64 *seq;
	int taken;

	if (!k)
		return 0;
	use = h->use[0];
	i = moat_fc4_slot(k, use, 0);
	j = moat_fc4_slot(k, use, 1);
	b = bpf_map_lookup_elem(&fc4, &i);
	c = bpf_map_lookup_elem(&fc4, &j);
	if (!b || !c)
		return 0;
	if (!(seq = moat_fc_move_begin())) {
		moat_fc_count(MOAT_FCS_HELD);
		return 0;
	}
	e = moat_fc4_victim(b, i, c, j, use, &taken);
	moat_fc_count(e->l4 ? MOAT_FCS_EVICT : MOAT_FCS_FILL);
	if (taken)
		moat_fc_taken(h, 0, layout.fc_log[0], use, 2u << use);
	if (e->cnt)
		moat_fc_fold(e->match, e->cnt);
	e->addrs = moat_fc_addrs4(k);
	e->l4 = moat_fc_l4(k);
	e->match = m;
	e->cnt = 0;
	moat_fc_move_end(seq);
	return 1;
}

static __always_inline int moat_fc6_store_here(struct moat_key *k, __u64 m)
{
	struct moat_fc_head *h = moat_fc_head();
	struct moat_fc6 *e, *f;
	__u32 i, j, use;
	__u64 *seq;
	int placed;

	if (!k)
		return 0;
	use = h->use[1];
	i = moat_fc6_slot(k, use, 0);
	j = moat_fc6_slot(k, use, 1);
	e = bpf_map_lookup_elem(&fc6, &i);
	f = bpf_map_lookup_elem(&fc6, &j);
	if (!e || !f)
		return 0;
	if (!(seq = moat_fc_move_begin())) {
		moat_fc_count(MOAT_FCS_HELD);
		return 0;
	}
	/* as moat_fc4_victim(), with one entry a bucket */
	placed = e->l4 && moat_fc6_placed(e, i, use);
	if (placed) {
		if (!f->l4 || !moat_fc6_placed(f, j, use)) {
			e = f;
			placed = 0;
		} else if (moat_fc6_move(e, i, j, use)) {
			placed = 0;
		} else if (moat_fc6_move(f, j, i, use)) {
			e = f;
			placed = 0;
		} else if (bpf_get_prandom_u32() & 1) {
			e = f;
		}
	}
	moat_fc_count(e->l4 ? MOAT_FCS_EVICT : MOAT_FCS_FILL);
	if (placed)
		moat_fc_taken(h, 1, layout.fc_log[1], use, 1u << use);
	if (e->cnt)
		moat_fc_fold(e->match, e->cnt);
	e->src[0] = k->src6[0];
	e->src[1] = k->src6[1];
	e->dst[0] = k->dst6[0];
	e->dst[1] = k->dst6[1];
	e->l4 = moat_fc_l4(k);
	e->match = m;
	e->cnt = 0;
	moat_fc_move_end(seq);
	return 1;
}

/* Not an answer: what the second bucket's probe returns when it misses. */
#define MOAT_FC_NONE (~1ull)

/*
 * The key's second bucket, looked at when the first does not hold it:
 * its answer, counted in the entry, or MOAT_FC_NONE.  For the frames
 * that do not take the short way (moat_fast() reads both buckets).
 */
static __always_inline __u64 moat_fc4_second_here(struct moat_key *k)
{
	struct moat_fc4 *e;

	if (!k)
		return MOAT_FC_NONE;
	e = moat_fc4_find(moat_fc4_slot(k, moat_fc_head()->use[0], 1), k);
	if (!e)
		return MOAT_FC_NONE;
	moat_fc_count(MOAT_FCS_SECOND);
	moat_fc_hit(&e->cnt, e->match, k, 0);
	return e->match;
}

static __always_inline __u64 moat_fc6_second_here(struct moat_key *k)
{
	struct moat_fc6 *e;

	if (!k)
		return MOAT_FC_NONE;
	e = moat_fc6_find(moat_fc6_slot(k, moat_fc_head()->use[1], 1), k);
	if (!e)
		return MOAT_FC_NONE;
	moat_fc_count(MOAT_FCS_SECOND);
	moat_fc_hit(&e->cnt, e->match, k, 0);
	return e->match;
}

/*
 * The store and the second probe behind calls, for the program's own
 * path: global functions, which the verifier checks once, where inline
 * they were checked again for every state the parse and the classifier
 * leave behind (a 10,000-rule generation took 95 ms to load instead of
 * 47).  Inside moat_lookup(), itself global, they stay inline: a call
 * from there would pass the 512 bytes of stack a chain of calls shares.
 */
__noinline int moat_fc4_store(struct moat_key *k, __u64 m)
{
	return moat_fc4_store_here(k, m);
}

__noinline int moat_fc6_store(struct moat_key *k, __u64 m)
{
	return moat_fc6_store_here(k, m);
}

__noinline __u64 moat_fc4_second(struct moat_key *k)
{
	return moat_fc4_second_here(k);
}

__noinline __u64 moat_fc6_second(struct moat_key *k)
{
	return moat_fc6_second_here(k);
}

/*
 * The probe: the key's first bucket, then its second.  The frame that
 * misses both is counted by its slot's counter (k->counted stays 0):
 * the entry it gets starts empty.  @call: the rare paths by calls (the
 * program's own path) or in place (inside moat_lookup()).
 */
static __always_inline __u64 moat_lookup4(struct moat_key *k, int call)
{
	struct moat_fc4 *e;
	__u64 m;

	if (layout.fc_log[0]) {
		e = moat_fc4_find(moat_fc4_slot(k, moat_fc_head()->use[0], 0), k);
		if (e) {
			moat_fc_hit(&e->cnt, e->match, k, call);
			return e->match;
		}
		m = call ? moat_fc4_second(k) : moat_fc4_second_here(k);
		if (m != MOAT_FC_NONE)
			return m;
		moat_fc_count(MOAT_FCS_MISS);
	}
	m = moat_classify4(k);
	if (layout.fc_log[0]) {
		if (call)
			moat_fc4_store(k, m);
		else
			moat_fc4_store_here(k, m);
	}
	return m;
}

static __always_inline __u64 moat_lookup6(struct moat_key *k, int call)
{
	struct moat_fc6 *e;
	__u64 m;

	if (layout.fc_log[1]) {
		e = moat_fc6_find(moat_fc6_slot(k, moat_fc_head()->use[1], 0), k);
		if (e) {
			moat_fc_hit(&e->cnt, e->match, k, call);
			return e->match;
		}
		m = call ? moat_fc6_second(k) : moat_fc6_second_here(k);
		if (m != MOAT_FC_NONE)
			return m;
		moat_fc_count(MOAT_FCS_MISS);
	}
	m = moat_classify6(k);
	if (layout.fc_log[1]) {
		if (call)
			moat_fc6_store(k, m);
		else
			moat_fc6_store_here(k, m);
	}
	return m;
}

/* The indexes, behind the flow cache: see moat_fw() for why not inline. */
__noinline __u64 moat_lookup(struct moat_key *k)
{
	if (!k)
		return MOAT_NO_MATCH;
	return k->fam6 ? moat_lookup6(k, 0) : moat_lookup4(k, 0);
}

/*
 * GCRA: does a packet of @cost conform to the bucket at @tat?  It moves
 * the bucket on when it does.  A lost race with another CPU is tried
 * once more, then counted as over: a limit never lets more through.
 */
static __always_inline int moat_conform(__u64 *tat, __u64 cost, __u64 tau,
					__u64 now)
{
	for (int i = 0; i < 2; i++) {
		__u64 old = *tat, t = old > now ? old : now;

		if (t + cost - now > tau + cost)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, t + cost) == old)
			return 1;
	}
	return 0;
}

static __always_inline void moat_ev_count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&ev_stats, &i);

	if (c)
		(*c)++;
}

/* A rule's rate limit: 1 when the packet conforms. */
static __always_inline int moat_limit(const struct moat_rule_ext *x,
				      __u32 rule, const struct moat_key *k,
				      __u32 len, __u64 now)
{
	__u64 cost = x->cost_ns, *tat;

	if (x->flags & MOAT_X_BYTES)
		cost = (cost * len) >> 16;
	if (x->flags & MOAT_X_PER_SOURCE) {
		struct moat_limit_key lk = { .rule = rule, .fam6 = k->fam6 };
		__u64 first = now + cost;

		if (k->fam6) {
			lk.addr[0] = k->src6[0];
			lk.addr[1] = k->src6[1];
		} else {
			lk.addr[0] = k->src4;
		}
		tat = bpf_map_lookup_elem(&limits_src, &lk);
		if (!tat) { /* a new source starts with a full bucket */
			bpf_map_update_elem(&limits_src, &lk, &first, BPF_NOEXIST);
			return 1;
		}
	} else {
		tat = bpf_map_lookup_elem(&limits, &rule);
		if (!tat)
			return 1;
	}
	return moat_conform(tat, cost, x->tau_ns, now);
}

/* One verdict log event, sampled and under the instance's log rate. */
static __always_inline void moat_log(const struct moat_rule_ext *x,
				     const struct moat_key *k, __u32 slot,
				     __u32 ifindex, __u32 len, __u8 verdict,
				     __u64 now)
{
	struct moat_event *e;
	__u32 zero = 0;
	__u64 *tat;

	if (x->log_every > 1 && bpf_get_prandom_u32() % x->log_every)
		return;
	tat = bpf_map_lookup_elem(&log_tat, &zero);
	if (!tat || !moat_conform(tat, layout.log_cost_ns, layout.log_tau_ns, now)) {
		moat_ev_count(MOAT_EVC_RATE);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		moat_ev_count(MOAT_EVC_FULL);
		return;
	}
	e->time_ns = now;
	moat_key_addrs(k, e->src, e->dst);
	e->ifindex = ifindex;
	e->slot = slot;
	e->len = len;
	e->sport = k->l4 ? k->sport : 0;
	e->dport = k->l4 ? k->dport : 0;
	e->fam6 = k->fam6;
	e->proto = k->proto;
	e->verdict = verdict;
	e->ct = k->ct;
	bpf_ringbuf_submit(e, 0);
	moat_ev_count(MOAT_EVC_SENT);
}

/*
 * The short way's answer from a small ruleset's terms: the frame counted
 * in its rule's counter (or the policy's), as moat_frame() counts it.
 * @matched: whether a term matched, and then @v is its verdict.
 * -1 for an answer with options.
 */
static __always_inline int moat_fast_small(int matched, __u32 v, __u32 len)
{
	struct moat_counter *c;
	__u32 slot;

	if (!matched) {
		slot = MOAT_SLOT_POLICY;
		v = layout.policy_drop && !layout.audit ? MOAT_VERDICT_DROP : 0;
	} else if (v & MOAT_VERDICT_EXT) {
		return -1;
	} else {
		slot = MOAT_VERDICT_SLOT(v);
	}
	c = moat_slot_counter(slot);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return v & MOAT_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

/*
 * The short way's answer from a cache entry, @cnt its count, @c that
 * count as read and @m its answer: the frame counted in the entry, as
 * moat_fc_hit() counts it.
 * -1 for a full entry and for an answer with options.
 */
static __always_inline int moat_fast_entry(__u64 *cnt, __u64 c, __u64 m,
					   __u32 len, int second)
{
	__u32 v = MOAT_MATCH_VERDICT(m);

	if (c & MOAT_FC_FULL)
		return -1;
	if (m == MOAT_NO_MATCH)
		v = layout.policy_drop && !layout.audit ? MOAT_VERDICT_DROP : 0;
	else if (v & MOAT_VERDICT_EXT)
		return -1;
	*cnt = c + ((1ull << MOAT_FC_PKT_SHIFT) | len);
	if (second)
		moat_fc_count(MOAT_FCS_SECOND);
	return v & MOAT_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

/*
 * Which of IPv4 bucket @i's two entries holds the key (@a, @l4), by
 * arithmetic: which one it is depends on the order the flows came in,
 * and a branch on it was a guess the predictor lost on a large share of
 * frames (some 8 ns a frame at 10,000 flows; about 3 ns the other way at
 * 1,000, where the first entry nearly always holds it: docs/
 * performance.md).  NULL when neither does; else its answer in *@m and
 * its count in *@cnt, read through masks so that their loads need not
 * wait for the comparisons.
 */
static __always_inline struct moat_fc4 *moat_fc4_pick(__u32 i, __u64 a, __u64 l4,
						      __u64 *m, __u64 *cnt)
{
	struct moat_fc4_bucket *b = bpf_map_lookup_elem(&fc4, &i);
	__u64 not0, not1, is0;

	if (!b)
		return NULL;
	not0 = moat_nonzero((b->e[0].addrs ^ a) | (b->e[0].l4 ^ l4));
	not1 = moat_nonzero((b->e[1].addrs ^ a) | (b->e[1].l4 ^ l4));
	if (not0 & not1)
		return NULL;
	is0 = not0 - 1; /* all ones when the first entry holds it */
	*m = (b->e[0].match & is0) | (b->e[1].match & ~is0);
	*cnt = (b->e[0].cnt & is0) | (b->e[1].cnt & ~is0);
	return (struct moat_fc4 *)((__u8 *)b + (not0 << 5));
}

/*
 * @k's entry in either of its buckets (IPv6: entries), the first looked
 * at first; *@second says where it was found (IPv4: its answer and count
 * in *@m and *@cnt, as moat_fc4_pick() reads them).  On the short way
 * both: where a CPU's part in use has grown just enough for its flows, a
 * fifth of them live in their second bucket (10,000 flows in 8,192
 * buckets), and the long way costs such a frame a second parse and two
 * calls.
 * IPv4 and IPv6 apart, as written: one helper giving both slots through
 * pointers cost the verifier a third more instructions (24,165 to
 * 32,319 for a 10,000-rule generation).
 */
static __always_inline struct moat_fc4 *
moat_fc4_either(const struct moat_key *k, __u32 cpu, __u32 log, __u64 *m,
		__u64 *cnt, int *second)
{
	__u64 a = moat_fc_addrs4(k), l4 = moat_fc_l4(k), h = moat_fc_hash(a, l4);
	__u32 use = moat_fc_cpu_head(cpu)->use[0];
	struct moat_fc4 *e;

	*second = 0;
	e = moat_fc4_pick(moat_fc_cpu_slot(cpu, h, log, use, 0), a, l4, m, cnt);
	if (e)
		return e;
	*second = 1;
	return moat_fc4_pick(moat_fc_cpu_slot(cpu, h, log, use, 1), a, l4, m,
			     cnt);
}

static __always_inline struct moat_fc6 *
moat_fc6_either(const struct moat_key *k, __u32 cpu, __u32 log, int *second)
{
	__u64 h = moat_fc6_key_hash(k);
	__u32 use = moat_fc_cpu_head(cpu)->use[1];
	struct moat_fc6 *e;

	*second = 0;
	e = moat_fc6_find(moat_fc_cpu_slot(cpu, h, log, use, 0), k);
	if (e)
		return e;
	*second = 1;
	return moat_fc6_find(moat_fc_cpu_slot(cpu, h, log, use, 1), k);
}

/*
 * The common frame, worked out in registers: an untagged IPv4 or IPv6
 * TCP, UDP or ICMP frame (moat_parse_common4/6()) that a small ruleset,
 * compiled into the program, classifies, or whose flow has its entry in
 * either of its places in the cache; and whose answer asks for nothing but
 * counting.  Its action, or -1 for anything else, and then nothing has
 * been written: moat_frame() does it all again, and does for such a
 * frame what this does.  No key on the stack, no tests of what the frame
 * cannot be: under BPF_PROG_TEST_RUN an IPv4 cache hit costs 6 ns over a
 * bare counting program instead of 13, one rule 7 instead of 12
 * (docs/performance.md).  A family without terms, or behind indexes
 * without a cache, goes the general way from the start.  Rules that name
 * interfaces cost a look through the (few) interfaces' ids.  The layout
 * is read through MOAT_OPAQUE(), so that each field it needs is loaded
 * once (a matching frame at one rule: 112 BPF instructions, against 142
 * through the volatile layout, docs/performance.md), and the CPU's number
 * once for the flow cache's head and slot.
 */
static __always_inline int moat_fast(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct moat_frame f = { .data = data, .end = end };
	const struct moat_layout *L =
		MOAT_OPAQUE((const struct moat_layout *)&layout);
	struct moat_key k = { .len = end - data };
	struct moat_fc4 *e4;
	struct moat_fc6 *e6;
	__u64 m, c;
	int second;

	if (end - data > 0xffff)
		return -1;
	if (L->nifaces)
		k.iface = moat_iface_id(ctx->ingress_ifindex);
	if ((L->nsmall[0] || L->fc_log[0]) && moat_parse_common4(&f, &k)) {
		if (L->nsmall[0]) {
			const struct moat_small4 *t =
				moat_small4_first(&k, L->nsmall[0]);

			return moat_fast_small(!!t, t ? t->verdict : 0, k.len);
		}
		e4 = moat_fc4_either(&k, bpf_get_smp_processor_id(),
				     L->fc_log[0], &m, &c, &second);
		return e4 ? moat_fast_entry(&e4->cnt, c, m, k.len, second) : -1;
	}
	if ((L->nsmall[1] || L->fc_log[1]) && moat_parse_common6(&f, &k)) {
		if (L->nsmall[1]) {
			const struct moat_term6 *t =
				moat_small6_first(&k, L->nsmall[1]);

			return moat_fast_small(!!t, t ? t->verdict : 0, k.len);
		}
		e6 = moat_fc6_either(&k, bpf_get_smp_processor_id(),
				     L->fc_log[1], &second);
		return e6 ? moat_fast_entry(&e6->cnt, e6->cnt, e6->match, k.len, second) : -1;
	}
	return -1;
}

/*
 * The parse leaves some 26 different states behind it (VLAN tags,
 * options, extension headers, fragments, protocols), and the verifier
 * would check what follows once for each.  Two ways to have it check
 * that once, one for each entry point below:
 *
 * - Without conntrack, the parse is a global function: the verifier
 *   checks it once, and knows nothing of the key it leaves.  A 10,000-
 *   rule generation verifies in 22,688 instructions instead of 28,081.
 *   The call and its return cost 11 ns a frame here (return thunks), but
 *   the common frame of a known flow goes the short way and never comes
 *   here.
 * - With conntrack every frame comes here, and the key is written into
 *   a per-CPU map instead of the stack: the verifier does not follow
 *   what a map holds, so it knows as little, for the price of a lookup
 *   the JIT inlines (1-5 ns under BPF_PROG_TEST_RUN, within the noise):
 *   31,926 instructions instead of 39,518.
 */
__noinline int moat_parse_any(struct xdp_md *ctx, struct moat_key *k)
{
	struct moat_frame f;

	if (!ctx || !k)
		return MOAT_K_MALFORMED;
	f.data = (const __u8 *)(long)ctx->data;
	f.end = (const __u8 *)(long)ctx->data_end;
	f.ctx = ctx;
	return moat_parse_walk(&f, k);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_key);
} key_scratch SEC(".maps");

/*
 * Any frame, and what moat_fast() declines; @k is its key, zeroed, and
 * @in_map says where it is (see moat_parse_any() for why).  @in_map is
 * also which entry point this is, a constant here: a generation loads
 * moat_fw_ct exactly when it tracks flows (dataplane/generation.c,
 * gen_prog()), so MOAT_TRACK(in_map) leaves each program only its own
 * code, and the verifier a shorter program to check and to cut down
 * (moat_fw was 12,190 instructions with conntrack's code and its
 * lookup's 5,762 linked in, all of it dead there).
 */
#define MOAT_TRACK(in_map) ((in_map) && layout.ct)

static __always_inline int moat_frame(struct xdp_md *ctx, struct moat_key *k,
				      int in_map)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct moat_frame f = { .data = data, .end = end, .ctx = ctx };
	struct moat_counter *c;
	struct moat_ct ct;
	__u32 slot, drop, rule;
	__u64 m, now = 0;

	k->len = end - data <= 0xffff ? end - data : 0;
	switch (in_map ? moat_parse_walk(&f, k) : moat_parse_any(ctx, k)) {
	case MOAT_K_CLASSIFY:
		if (layout.nifaces)
			k->iface = moat_iface_id(ctx->ingress_ifindex);
		if (MOAT_TRACK(in_map)) {
			now = moat_now();
			/* a later fragment goes where its first fragment went */
			if (k->frag == MOAT_FRAG_LATER) {
				const struct moat_frag_val *fv =
					moat_frag_find(k, now, layout.generation);

				if (fv) {
					slot = fv->slot;
					drop = fv->drop;
					break;
				}
			}
			k->ct = moat_ct_look(&ct, &f, k, now,
					    ctx->ingress_ifindex, 0);
			if (layout.ct_pass &&
			    (k->ct & (MOAT_CT_ESTABLISHED | MOAT_CT_RELATED))) {
				moat_ct_commit(&ct);
				slot = k->ct == MOAT_CT_RELATED ? MOAT_SLOT_RELATED :
								 MOAT_SLOT_ESTABLISHED;
				drop = 0;
				break;
			}
		}
		/*
		 * Inline where the verifier allows: on CPUs that mitigate
		 * return stack attacks every return costs a thunk (some 25 ns
		 * a frame here, measured at 1,000 rules).  With conntrack on,
		 * though, the indexes go behind a global function, which the
		 * verifier checks once: inline, they were checked again for
		 * each state conntrack's lookup leaves behind, and with IPv6
		 * terms a ruleset of a thousand rules took more than the
		 * verifier's million steps.  A small ruleset, compiled into
		 * the program, stays inline either way.
		 */
		if (k->fam6)
			m = layout.nsmall[1] ? moat_classify6(k) :
			    in_map	     ? moat_lookup(k) :
					       moat_lookup6(k, 1);
		else
			m = layout.nsmall[0] ? moat_classify4(k) :
			    in_map	     ? moat_lookup(k) :
					       moat_lookup4(k, 1);
		if (m != MOAT_NO_MATCH) {
			slot = MOAT_VERDICT_SLOT(MOAT_MATCH_VERDICT(m));
			drop = !!(MOAT_MATCH_VERDICT(m) & MOAT_VERDICT_DROP);
			rule = MOAT_MATCH_RULE(m);
			if (layout.has_ext &&
			    (MOAT_MATCH_VERDICT(m) & MOAT_VERDICT_EXT)) {
				const struct moat_rule_ext *x = bpf_map_lookup_elem(&rulex, &rule);
				__u32 len = end - data;
				/* limits need ns: a tick would cap bursts per tick */
				__u64 now = bpf_ktime_get_ns();
				__u8 ev = drop ? MOAT_EV_DROP : MOAT_EV_ALLOW;

				if (x && (x->flags & MOAT_X_LIMIT) &&
				    !moat_limit(x, rule, k, len, now)) {
					c = moat_slot_counter(x->over_slot);
					if (c) {
						c->packets++;
						c->bytes += len;
					}
					drop = !(x->flags & MOAT_X_OVER_ALLOW);
					ev = MOAT_EV_OVER_LIMIT;
				}
				if (x && drop && (x->flags & MOAT_X_AUDIT)) {
					drop = 0;
					ev = MOAT_EV_WOULD_DROP;
				}
				if (x && (x->flags & MOAT_X_LOG))
					moat_log(x, k, slot, ctx->ingress_ifindex,
						 len, ev, now);
			}
		} else {
			slot = MOAT_SLOT_POLICY;
			drop = layout.policy_drop && !layout.audit;
		}
		if (MOAT_TRACK(in_map) && !drop)
			moat_ct_commit(&ct);
		break;
	case MOAT_K_ARP:
		slot = MOAT_SLOT_ARP;
		drop = 0;
		break;
	case MOAT_K_ND:
		slot = MOAT_SLOT_ND;
		drop = 0;
		break;
	case MOAT_K_NONIP:
		slot = MOAT_SLOT_NONIP;
		drop = 0;
		break;
	default:
		slot = MOAT_SLOT_MALFORMED;
		drop = 1;
		break;
	}

	if (MOAT_TRACK(in_map) && k->frag == MOAT_FRAG_FIRST)
		moat_frag_note(k, slot, drop, now, layout.generation);
	if (k->counted)
		return drop ? XDP_DROP : XDP_PASS;
	c = moat_slot_counter(slot);
	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return drop ? XDP_DROP : XDP_PASS;
}

/*
 * Two entry points; a generation loads the one for its instance
 * (dataplane/generation.c).  Without conntrack, the common frame by
 * moat_fast() where the generation allows.  (The verifier knows the
 * layout, and leaves only the paths that this generation takes.)
 */
SEC("xdp")
int moat_fw(struct xdp_md *ctx)
{
	if (!layout.ct) {
		int act = moat_fast(ctx);

		if (act >= 0)
			return act;
	}
	{
		/* here, not above: the short way does not pay for zeroing it */
		struct moat_key k = {};

		return moat_frame(ctx, &k, 0);
	}
}

/* With conntrack: every frame looks up its flow first. */
SEC("xdp")
int moat_fw_ct(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct moat_key *k = bpf_map_lookup_elem(&key_scratch, &zero);

	if (!k)
		return XDP_DROP; /* never: an entry for each CPU */
	__builtin_memset(k, 0, sizeof(*k));
	return moat_frame(ctx, k, 1);
}

char _license[] SEC("license") = "GPL";
