// SPDX-License-Identifier: GPL-2.0-only
/*
 * A new flow whose two buckets are full moves a flow out of the way
 * (moat_fc4_move()) instead of taking its entry, when that flow's other
 * bucket has room.  Flows are chosen by their buckets
 * (moat_fc_hash(), shared with the program), under BPF_PROG_TEST_RUN on
 * CPU 0, with 1,024 IPv4 buckets in use:
 *
 *   - A1 and A2 fill bucket X, their first; B1 and B2 fill bucket Y,
 *     their first; each one's second bucket is empty (where they land is
 *     read back from the pinned map, which checks the shared hash);
 *   - N, whose buckets are X and Y, then finds all four entries held by
 *     flows where they belong: one of X's moves to its second bucket,
 *     with its count, and N takes its place; nothing is evicted (the
 *     cache's statistics: a fill, not an eviction);
 *   - all five flows then hit, and every rule's counter is exact;
 *   - the same for IPv6, one entry a slot: A6 in slot X, B6 in slot Y,
 *     and N6, whose slots are X and Y, moves A6 to its other slot.
 *
 * Before the move, N took one of the four at random (N6 one of the
 * two): an eviction, and a miss on the next pass.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"

#define USE \
	10 /* a new generation's buckets (entries) in use: MOAT_FC_USE_START */
#define NRULES 64 /* a family: enough for it to be indexed, and so cached */

/* IPv4's flows, then IPv6's; flow i is rule r<i>, dport 1000 + i */
enum { A1, A2, B1, B2, N, A6, B6, N6, NFLOWS };
static const char *const names[NFLOWS] = { "A1", "A2", "B1", "B2",
					   "N",	 "A6", "B6", "N6" };

struct flow {
	uint16_t sport;
	uint32_t first, second; /* its buckets (IPv6: entries) */
	uint64_t sent;
	uint8_t frame[96];
	size_t len;
};

static struct flow fl[NFLOWS];

static bool is6(int i)
{
	return i >= A6;
}

static void addrs(int i, uint8_t src[16], uint8_t dst[16])
{
	int af = is6(i) ? AF_INET6 : AF_INET;

	inet_pton(af, is6(i) ? "2001:db8::1" : "192.0.2.1", src);
	inet_pton(af, is6(i) ? "2001:db8::2" : "192.0.2.2", dst);
}

static uint64_t l4_of(int i, uint16_t sp)
{
	return MOAT_FC_L4(sp, 1000 + i, 17, 0, 0, 1, 0);
}

/* The key's first word as the program keeps it (struct moat_fc4.addrs) */
static uint64_t addrs4(void)
{
	uint8_t s[16], d[16];

	addrs(A1, s, d);
	return (uint64_t)ntohl(*(uint32_t *)s) << 32 | ntohl(*(uint32_t *)d);
}

static void buckets(int i, uint16_t sp, uint32_t *b0, uint32_t *b1)
{
	uint64_t h;

	if (is6(i)) {
		uint8_t s[16], d[16];
		uint64_t sw[2], dw[2];

		addrs(i, s, d);
		memcpy(sw, s, 16);
		memcpy(dw, d, 16);
		h = moat_fc_hash(sw[0] ^ sw[1], dw[0] ^ dw[1] ^ l4_of(i, sp));
	} else {
		h = moat_fc_hash(addrs4(), l4_of(i, sp));
	}
	*b0 = moat_fc_bucket(h, USE, 0);
	*b1 = moat_fc_bucket(h, USE, 1);
}

/* Is bucket @b one of the chosen flows' of @i's family? */
static bool taken(int i, uint32_t b, int upto)
{
	for (int j = 0; j < upto; j++)
		if (is6(j) == is6(i) && (fl[j].first == b || fl[j].second == b))
			return true;
	return false;
}

/*
 * N first (two buckets X and Y), then those whose first bucket is X and
 * those whose first is Y, each with a second bucket no other flow of its
 * family uses; so for IPv6, N6, A6 and B6.
 */
static bool choose(void)
{
	const int order[NFLOWS] = { N, A1, A2, B1, B2, N6, A6, B6 };
	int done = 0;

	for (int k = 0; k < NFLOWS; k++) {
		int i = order[k], n = is6(i) ? N6 : N;
		bool toward_x = i == A1 || i == A2 || i == A6;
		bool found = false;

		for (uint32_t sp = 1024; sp < 65536 && !found; sp++) {
			uint32_t b0, b1;

			buckets(i, (uint16_t)sp, &b0, &b1);
			if (i == n)
				found = b0 != b1;
			else
				found = b0 == (toward_x ? fl[n].first :
							  fl[n].second) &&
					b1 != fl[n].first &&
					b1 != fl[n].second &&
					!taken(i, b1, NFLOWS);
			if (found) {
				fl[i].sport = (uint16_t)sp;
				fl[i].first = b0;
				fl[i].second = b1;
			}
		}
		done += found;
	}
	return done == NFLOWS;
}

static void build(char *rules, size_t cap)
{
	size_t n = (size_t)snprintf(rules, cap, "policy allow\n");

	for (int r = 0; r < NRULES; r++)
		n += (size_t)snprintf(rules + n, cap - n,
				      "drop r%d udp to %s dport %d\n", r,
				      is6(r) && r < NFLOWS ? "2001:db8::2" :
				      r < NFLOWS	   ? "192.0.2.2" :
				      r % 2		   ? "2001:db8::2" :
							     "192.0.2.2",
				      1000 + r);
	for (int i = 0; i < NFLOWS; i++) {
		struct moat_frame_spec f = { .family = is6(i) ? AF_INET6 :
								AF_INET,
					     .proto = 17,
					     .sport = fl[i].sport,
					     .dport = (uint16_t)(1000 + i) };

		addrs(i, f.src, f.dst);
		fl[i].len =
			moat_frame_build(&f, fl[i].frame, sizeof(fl[i].frame));
	}
}

static bool send1(struct moat_dp *dp, int i)
{
	uint32_t ret = 0;

	if (kt_xdp_run(moat_dp_generation_fd(dp), fl[i].frame, fl[i].len, 1,
		       &ret) ||
	    ret != XDP_DROP)
		return false;
	fl[i].sent++;
	return true;
}

static struct moat_dp_fc_status fc_status(struct moat_dp *dp)
{
	struct moat_dp_fc_status fc;

	moat_dp_fc_status(dp, &fc);
	return fc;
}

/* A pinned cache map of the running generation, mapped read-only. */
static void *fc_map(struct moat_dp *dp, const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/current/%s", moat_dp_pin_root(dp),
		 name);
	return kt_map_pinned(path, len, false);
}

static const struct moat_fc4_bucket *fc4;
static const struct moat_fc6 *fc6;

/* Where flow @i's entry is among CPU 0's first buckets (entries) in use:
 * its bucket, and its packets in *@packets; or -1. */
static int where(int i, uint64_t *packets)
{
	uint64_t l4 = l4_of(i, fl[i].sport);

	for (uint32_t b = 0; b < (1u << USE); b++) {
		if (is6(i) && fc6[b].l4 == l4) {
			*packets = MOAT_FC_PACKETS(fc6[b].cnt);
			return (int)b;
		}
		for (int e = 0; !is6(i) && e < 2; e++)
			if (fc4[b].e[e].addrs == addrs4() &&
			    fc4[b].e[e].l4 == l4) {
				*packets = MOAT_FC_PACKETS(fc4[b].e[e].cnt);
				return (int)b;
			}
	}
	return -1;
}

/*
 * Flow @i's entry in bucket @want, counting what the flow was sent but
 * its first frame: a miss, counted by its rule's counter (the entry
 * starts empty).
 */
static void check_place(int i, uint32_t want, const char *what)
{
	uint64_t packets = ~0ull;
	int b = where(i, &packets);

	kt_check(b == (int)want && packets == fl[i].sent - 1, what,
		 "%s in bucket %d with %llu packets; want %u and %llu",
		 names[i], b, (unsigned long long)packets, want,
		 (unsigned long long)(fl[i].sent - 1));
}

static void check_counters(struct moat_dp *dp, const char *what)
{
	char why[160] = "";
	int bad = 0;

	for (int i = 0; i < NFLOWS; i++) {
		char name[16];
		uint64_t pk = ~0ull, by = 0;
		int slot;

		snprintf(name, sizeof(name), "r%d", i);
		slot = moat_dp_rule_slot(dp, name);
		if (slot >= 0 &&
		    !moat_dp_counter(dp, (uint32_t)slot, &pk, &by) &&
		    pk == fl[i].sent && by == fl[i].sent * fl[i].len)
			continue;
		if (!bad++)
			snprintf(
				why, sizeof(why),
				"%s: %llu packets %llu bytes, want %llu and %llu",
				name, (unsigned long long)pk,
				(unsigned long long)by,
				(unsigned long long)fl[i].sent,
				(unsigned long long)(fl[i].sent * fl[i].len));
	}
	kt_check(!bad, what, "%d of %d rules wrong; first %s", bad, NFLOWS,
		 why);
}

/* @n's frame, with its two buckets full: a fill, no eviction. */
static void check_new(struct moat_dp *dp, int n, const char *what)
{
	struct moat_dp_fc_status before = fc_status(dp), fc;
	bool ok = send1(dp, n);

	fc = fc_status(dp);
	kt_check(ok &&
			 fc.stat[MOAT_FCS_MISS] - before.stat[MOAT_FCS_MISS] ==
				 1 &&
			 fc.stat[MOAT_FCS_FILL] - before.stat[MOAT_FCS_FILL] ==
				 1 &&
			 fc.stat[MOAT_FCS_EVICT] == before.stat[MOAT_FCS_EVICT],
		 what, "misses +%llu, fills +%llu, evictions +%llu",
		 (unsigned long long)(fc.stat[MOAT_FCS_MISS] -
				      before.stat[MOAT_FCS_MISS]),
		 (unsigned long long)(fc.stat[MOAT_FCS_FILL] -
				      before.stat[MOAT_FCS_FILL]),
		 (unsigned long long)(fc.stat[MOAT_FCS_EVICT] -
				      before.stat[MOAT_FCS_EVICT]));
}

int main(void)
{
	const char *inst = kt_dp_begin("ktfcmove");
	struct moat_dp_opts o = { .instance = inst, .flow_cache = 14 };
	struct moat_dp_fc_status fc, before;
	static char rules[8192];
	size_t len4 = 0, len6 = 0;
	struct moat_dp *dp;
	bool sent_ok = true;
	cpu_set_t cpu0;
	int err;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (!kt_check(!sched_setaffinity(0, sizeof(cpu0), &cpu0), "on CPU 0",
		      "%m"))
		return kt_done();
	if (!kt_check(choose(), "eight flows chosen by their buckets",
		      "no source port fits"))
		return kt_done();
	build(rules, sizeof(rules));
	err = moat_dp_open(&o, &dp) ?: kt_apply_text(dp, rules, "rules");
	if (!kt_check(
		    !err,
		    "an instance with 64 rules, a cache of 2^14 buckets a CPU",
		    "%s", strerror(-err)))
		return kt_done();
	fc = fc_status(dp);
	fc4 = fc_map(dp, "fc4", &len4);
	fc6 = fc_map(dp, "fc6", &len6);
	if (!kt_check(fc.used4 == 1u << USE && fc.used6 == 1u << USE && fc4 &&
			      fc6,
		      "1,024 buckets and entries in use, the cache mapped",
		      "%u and %u in use, maps %p %p", fc.used4, fc.used6,
		      (const void *)fc4, (const void *)fc6))
		goto out;

	/* three frames each, so that an entry has a count to carry */
	for (int p = 0; p < 3; p++)
		for (int i = A1; i <= B2; i++)
			sent_ok &= send1(dp, i);
	kt_check(sent_ok, "A1, A2, B1 and B2: three frames each, dropped",
		 "a test run failed");
	check_place(A1, fl[A1].first, "A1 in its first bucket, X");
	check_place(A2, fl[A2].first, "A2 in its first bucket, X");
	check_place(B1, fl[B1].first, "B1 in its first bucket, Y");
	check_place(B2, fl[B2].first, "B2 in its first bucket, Y");
	check_new(
		dp, N,
		"N, with X and Y full: a miss stored by a fill, no flow evicted");
	/* X's first entry moves first: A1 to its second bucket, N in X */
	check_place(A1, fl[A1].second,
		    "A1 moved to its second bucket, its count with it");
	check_place(A2, fl[A2].first, "A2 stayed in X");
	check_place(N, fl[N].first, "N in its first bucket, X, where A1 was");

	for (int p = 0; p < 3; p++)
		sent_ok &= send1(dp, A6) && send1(dp, B6);
	kt_check(sent_ok, "A6 and B6: three frames each, dropped",
		 "a test run failed");
	check_place(A6, fl[A6].first, "A6 in its first entry, X");
	check_place(B6, fl[B6].first, "B6 in its first entry, Y");
	check_new(
		dp, N6,
		"N6, with X and Y taken: a miss stored by a fill, no flow evicted");
	check_place(A6, fl[A6].second,
		    "A6 moved to its second entry, its count with it");
	check_place(N6, fl[N6].first, "N6 in its first entry, X, where A6 was");
	check_counters(dp, "every rule's counter exact after the moves");

	before = fc_status(dp);
	for (int p = 0; p < 3; p++)
		for (int i = 0; i < NFLOWS; i++)
			sent_ok &= send1(dp, i);
	fc = fc_status(dp);
	kt_check(sent_ok &&
			 fc.stat[MOAT_FCS_MISS] == before.stat[MOAT_FCS_MISS],
		 "three passes over the eight flows: every frame a hit",
		 "%llu misses",
		 (unsigned long long)(fc.stat[MOAT_FCS_MISS] -
				      before.stat[MOAT_FCS_MISS]));
	kt_check(fc.used4 == 1u << USE && fc.used6 == 1u << USE,
		 "still 1,024 buckets and entries in use", "%u and %u",
		 fc.used4, fc.used6);
	check_counters(dp, "every rule's counter exact after three passes");
out:
	if (fc4)
		munmap((void *)fc4, len4);
	if (fc6)
		munmap((void *)fc6, len6);
	moat_dp_close(dp);
	kt_cleanup_instance(inst);
	return kt_done();
}
