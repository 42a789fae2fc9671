// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow cache counts: an entry counts its flow's frames, and those
 * counts move into the rule counters when the entry is taken by another
 * flow, when it fills, and when its generation retires.  A rule's counter
 * is what it would be without a cache, exactly, whichever way the counts
 * went.  Under BPF_PROG_TEST_RUN, with the smallest cache (16 IPv4
 * buckets and 8 IPv6 entries a CPU) so that flows take each other's
 * entries:
 *
 *   - one flow's frames, counted in its entry, read back exactly, through
 *     moat_dp_counter(), the rows, and a read-only open (moatctl);
 *   - 40 IPv4 and 20 IPv6 flows in turn, in uneven numbers, each rule's
 *     counter exact while entries are taken and given back;
 *   - an apply (the old generation's entries retire) keeps every count;
 *   - while a reader holds the programs' moves off (fc_sync), no entry
 *     is rewritten, and every frame is still counted;
 *   - an entry that fills (2^23 packets) moves its counts and goes on;
 *   - the cache's statistics (moatctl status) add up all the while: every
 *     miss stored in an empty entry, over another flow's, or held off.
 *
 * The test runs on CPU 0 only, so that one CPU's cache sees every frame.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
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

#define N4 40
#define N6 20
#define NFLOWS (N4 + N6)

static char rules[8192];
static uint8_t frames[NFLOWS][MOAT_FRAME_MAX];
static size_t lens[NFLOWS];
static uint64_t want_pk[NFLOWS], want_by[NFLOWS];

static void build(void)
{
	size_t n = 0;

	n += (size_t)snprintf(rules + n, sizeof(rules) - n, "policy allow\n");
	for (int i = 0; i < NFLOWS; i++) {
		struct moat_frame_spec f = { .proto = 17, .sport = 999,
					     .dport = (uint16_t)(1000 + i),
					     .payload = (uint16_t)(i * 3) };

		if (i < N4) {
			f.family = AF_INET;
			f.src[0] = 192, f.src[2] = 2, f.src[3] = 1;
			f.dst[0] = 192, f.dst[2] = 2, f.dst[3] = 2;
			n += (size_t)snprintf(rules + n, sizeof(rules) - n,
					      "drop r%d udp to 192.0.2.2 dport %d\n", i,
					      1000 + i);
		} else {
			f.family = AF_INET6;
			f.src[0] = 0x20, f.src[1] = 0x01, f.src[2] = 0x0d, f.src[3] = 0xb8;
			f.src[15] = 1;
			memcpy(f.dst, f.src, 16);
			f.dst[15] = 2;
			n += (size_t)snprintf(rules + n, sizeof(rules) - n,
					      "drop r%d udp to 2001:db8::2 dport %d\n", i,
					      1000 + i);
		}
		lens[i] = moat_frame_build(&f, frames[i], sizeof(frames[i]));
	}
}

/* @n frames of flow @i through the running generation, all dropped. */
static bool run(struct moat_dp *dp, int i, uint32_t n)
{
	struct xdp_md ctx = { .data_end = (uint32_t)lens[i], .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i],
		    .data_size_in = (uint32_t)lens[i], .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = n);

	if (bpf_prog_test_run_opts(moat_dp_generation_fd(dp), &o) ||
	    o.retval != XDP_DROP)
		return false;
	want_pk[i] += n;
	want_by[i] += (uint64_t)n * lens[i];
	return true;
}

/* Flows whose counter is not what they were sent, through @dp. */
static int wrong(struct moat_dp *dp, char *why, size_t cap)
{
	int bad = 0;

	why[0] = '\0';
	for (int i = 0; i < NFLOWS; i++) {
		char name[16];
		uint64_t pk = ~0ull, by = ~0ull;
		int slot;

		snprintf(name, sizeof(name), "r%d", i);
		slot = moat_dp_rule_slot(dp, name);
		if (slot < 0 || moat_dp_counter(dp, (uint32_t)slot, &pk, &by) ||
		    pk != want_pk[i] || by != want_by[i]) {
			if (!bad++)
				snprintf(why, cap, "%s: %llu packets %llu bytes, want %llu and %llu",
					 name, (unsigned long long)pk,
					 (unsigned long long)by,
					 (unsigned long long)want_pk[i],
					 (unsigned long long)want_by[i]);
		}
	}
	return bad;
}

static void check_all(struct moat_dp *dp, const char *what)
{
	char why[256];
	int bad = wrong(dp, why, sizeof(why));

	kt_check(!bad, what, "%d of %d rules wrong; first %s", bad, NFLOWS, why);
}

/* Passes over every flow, flow i getting 1 + (i * 7 + pass) % 13 frames. */
static bool passes(struct moat_dp *dp, int npasses)
{
	for (int p = 0; p < npasses; p++)
		for (int i = 0; i < NFLOWS; i++)
			if (!run(dp, i, 1 + (uint32_t)(i * 7 + p) % 13))
				return false;
	return true;
}

/* The cache's statistics, as `moatctl status` reads them. */
static struct moat_dp_fc_status fc_stats(struct moat_dp *dp)
{
	struct moat_dp_status st;
	struct moat_dp_fc_status fc;

	moat_dp_status(dp, &st);
	fc = st.fc;
	moat_dp_status_free(&st);
	return fc;
}

/*
 * Every miss was stored, in an empty entry or over another flow's, or
 * held off; and no more entries were filled than @entries.
 */
static struct moat_dp_fc_status check_stats(struct moat_dp *dp, const char *what,
					    uint64_t entries)
{
	struct moat_dp_fc_status fc = fc_stats(dp);
	const uint64_t *v = fc.stat;

	kt_check(fc.counted &&
			 v[MOAT_FCS_MISS] == v[MOAT_FCS_FILL] + v[MOAT_FCS_EVICT] +
						     v[MOAT_FCS_HELD] &&
			 v[MOAT_FCS_FILL] <= entries,
		 what, "misses %llu, filled %llu (at most %llu), evicted %llu, held %llu",
		 (unsigned long long)v[MOAT_FCS_MISS],
		 (unsigned long long)v[MOAT_FCS_FILL], (unsigned long long)entries,
		 (unsigned long long)v[MOAT_FCS_EVICT],
		 (unsigned long long)v[MOAT_FCS_HELD]);
	return fc;
}

int main(void)
{
	const char *inst = kt_dp_begin("ktfccount");
	struct moat_dp_opts o = { .instance = inst, .flow_cache = MOAT_FC_LOG_MIN };
	int ncpus = libbpf_num_possible_cpus(), err;
	size_t synclen = 0, fclen = 0, fclen2 = 0;
	struct moat_fc_sync *sync;
	struct moat_dp *dp, *ro;
	struct moat_dp_fc_status st, st2;
	char path[512], why[256];
	void *fc, *copy;
	cpu_set_t cpu0;
	bool same;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (!kt_check(!sched_setaffinity(0, sizeof(cpu0), &cpu0), "on CPU 0", "%s",
		      strerror(errno)))
		return kt_done();
	build();
	err = moat_dp_open(&o, &dp) ?: kt_apply_text(dp, rules, "rules");
	if (!kt_check(!err, "an instance with 60 rules and the smallest cache", "%s",
		      strerror(-err)))
		return kt_done();

	kt_check(run(dp, 0, 1000), "1,000 frames of one flow dropped", "no");
	check_all(dp, "one flow: its counter exact, the entry's counts added");
	kt_check(kt_row_packets(dp, "r0") == 1000, "one flow: the rows say 1,000",
		 "%llu", (unsigned long long)kt_row_packets(dp, "r0"));
	st = fc_stats(dp);
	kt_check(st.counted && st.buckets4 == 16 && st.entries6 == 8,
		 "status: 16 IPv4 buckets and 8 IPv6 entries a CPU",
		 "counted %d, %u and %u", st.counted, st.buckets4, st.entries6);
	kt_check(st.stat[MOAT_FCS_MISS] == 1 && st.stat[MOAT_FCS_FILL] == 1 &&
			 st.stat[MOAT_FCS_SECOND] == 0 && st.stat[MOAT_FCS_EVICT] == 0 &&
			 st.stat[MOAT_FCS_HELD] == 0,
		 "one flow: one miss, stored in an empty entry, then hits",
		 "misses %llu, filled %llu, second %llu, evicted %llu, held %llu",
		 (unsigned long long)st.stat[MOAT_FCS_MISS],
		 (unsigned long long)st.stat[MOAT_FCS_FILL],
		 (unsigned long long)st.stat[MOAT_FCS_SECOND],
		 (unsigned long long)st.stat[MOAT_FCS_EVICT],
		 (unsigned long long)st.stat[MOAT_FCS_HELD]);
	err = moat_dp_open_pinned(&(struct moat_dp_opts){ .instance = inst }, &ro);
	if (kt_check(!err, "a read-only open", "%s", strerror(-err))) {
		int bad = wrong(ro, why, sizeof(why));

		kt_check(!bad, "one flow: a read-only open reads the same", "%s", why);
		moat_dp_close(ro);
	}

	kt_check(passes(dp, 5), "60 flows in turn, 5 passes, dropped", "no");
	check_all(dp, "60 flows over 16 buckets: every counter exact");
	st = check_stats(dp, "60 flows: every miss stored, 40 entries filled at most", 40);
	kt_check(st.stat[MOAT_FCS_MISS] >= NFLOWS && st.stat[MOAT_FCS_EVICT] > 0,
		 "60 flows: each missed once at least, and took other flows' entries",
		 "misses %llu, evicted %llu", (unsigned long long)st.stat[MOAT_FCS_MISS],
		 (unsigned long long)st.stat[MOAT_FCS_EVICT]);
	/* so the counters above were exact through the short way's second probe */
	kt_check(st.stat[MOAT_FCS_SECOND] > 0,
		 "60 flows: some frames found their entry in its second bucket",
		 "second %llu", (unsigned long long)st.stat[MOAT_FCS_SECOND]);

	err = kt_apply_text(dp, rules, "rules");
	kt_check(!err, "the same rules again", "%s", strerror(-err));
	check_all(dp, "an apply keeps every count (the old entries folded)");
	kt_check(passes(dp, 2), "2 passes more", "no");
	check_all(dp, "and counts on in the new generation");
	st = check_stats(dp, "a new generation's empty cache: 40 more entries at most", 80);

	/* a reader holds the moves off: nothing in the cache may change */
	snprintf(path, sizeof(path), "%s/fc_sync", moat_dp_pin_root(dp));
	sync = kt_map_pinned(path, &synclen, true);
	snprintf(path, sizeof(path), "%s/current/fc4", moat_dp_pin_root(dp));
	fc = kt_map_pinned(path, &fclen, false);
	copy = fc ? malloc(fclen) : NULL;
	if (kt_check(sync && fc && copy, "fc_sync and the IPv4 cache mapped", "no")) {
		__atomic_store_n(&sync[0].v, 1, __ATOMIC_SEQ_CST);
		memcpy(copy, fc, fclen);
		kt_check(passes(dp, 2), "2 passes while held off", "no");
		/* the counts go on in the entries; keys and answers stay */
		same = true;
		for (size_t b = 0; b < fclen / sizeof(struct moat_fc4_bucket); b++)
			for (int e = 0; e < 2; e++) {
				const struct moat_fc4 *x = &((struct moat_fc4_bucket *)copy)[b].e[e],
						      *y = &((struct moat_fc4_bucket *)fc)[b].e[e];

				same &= x->addrs == y->addrs && x->l4 == y->l4 &&
					x->match == y->match && y->cnt >= x->cnt;
			}
		kt_check(same, "held off: no entry was taken by another flow",
			 "an entry changed its key or answer");
		__atomic_store_n(&sync[0].v, 0, __ATOMIC_SEQ_CST);
		check_all(dp, "held off: every frame counted all the same");
		st2 = check_stats(dp, "held off: the misses not stored are counted", 80);
		kt_check(st2.stat[MOAT_FCS_HELD] > st.stat[MOAT_FCS_HELD] &&
				 st2.stat[MOAT_FCS_FILL] == st.stat[MOAT_FCS_FILL] &&
				 st2.stat[MOAT_FCS_EVICT] == st.stat[MOAT_FCS_EVICT],
			 "held off: misses held, none stored",
			 "held %llu -> %llu, filled %llu -> %llu, evicted %llu -> %llu",
			 (unsigned long long)st.stat[MOAT_FCS_HELD],
			 (unsigned long long)st2.stat[MOAT_FCS_HELD],
			 (unsigned long long)st.stat[MOAT_FCS_FILL],
			 (unsigned long long)st2.stat[MOAT_FCS_FILL],
			 (unsigned long long)st.stat[MOAT_FCS_EVICT],
			 (unsigned long long)st2.stat[MOAT_FCS_EVICT]);
		for (int c = 1; c <= ncpus; c++)
			kt_check(!(sync[c].v & 1), "no CPU is left inside a move",
				 "cpu %d: %llu", c - 1, (unsigned long long)sync[c].v);
	}
	free(copy);
	if (fc)
		munmap(fc, fclen);

	/* an entry fills: its counts move to the counter, and it counts on */
	kt_check(run(dp, 1, (1u << 23) + 100), "2^23 + 100 frames of one flow", "no");
	check_all(dp, "a full entry moved its counts: the counter exact");
	fc = kt_map_pinned(path, &fclen2, false);
	if (kt_check(fc != NULL, "the IPv4 cache mapped again", "no")) {
		uint64_t most = 0;

		for (size_t b = 0; b < fclen2 / sizeof(struct moat_fc4_bucket); b++)
			for (int e = 0; e < 2; e++) {
				uint64_t c = ((struct moat_fc4_bucket *)fc)[b].e[e].cnt;

				if (MOAT_FC_PACKETS(c) > most)
					most = MOAT_FC_PACKETS(c);
			}
		kt_check(most <= (1u << 23), "no entry holds more than 2^23 packets",
			 "one holds %llu", (unsigned long long)most);
		munmap(fc, fclen2);
	}
	if (sync)
		munmap(sync, synclen);
	moat_dp_close(dp);
	kt_cleanup_instance(inst);
	return kt_done();
}
