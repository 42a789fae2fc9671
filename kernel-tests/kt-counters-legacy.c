// SPDX-License-Identifier: GPL-2.0-only
/*
 * An instance made before the rule counters were one array keeps its
 * counts.  Such an instance has a per-CPU array pinned as "counters",
 * into which its running generation counts.  This test makes one by
 * hand beside a running instance, with known counts in a rule's slot,
 * and checks that:
 *
 *   - after moatd's restart (a new open), the rule's counter is the old
 *     map's sum plus the new map's, through moat_dp_counter() and the
 *     rows, and through a read-only open as moatctl makes;
 *   - the next apply folds the old map into the carry row and unpins it,
 *     and no count is lost or counted twice, before or after;
 *   - frames counted after the fold add to it.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"

static const char rules[] = "policy allow\n"
			    "drop a udp to 192.0.2.2 dport 53\n"
			    "drop b udp to 192.0.2.2 dport 54\n";

static uint8_t frame[MOAT_FRAME_MAX];
static size_t frame_len;

static int apply(struct moat_dp *dp)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs;
	int err = moat_ruleset_parse(rules, strlen(rules), &rs, &d);

	if (!err)
		err = moat_dp_apply(dp, &rs, &d, NULL);
	moat_ruleset_free(&rs);
	moat_diags_free(&d);
	return err;
}

/* One frame to rule a through the running generation. */
static bool run_frame(struct moat_dp *dp)
{
	struct xdp_md ctx = { .data_end = (uint32_t)frame_len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (uint32_t)frame_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	return !bpf_prog_test_run_opts(moat_dp_generation_fd(dp), &o) &&
	       o.retval == XDP_DROP;
}

static uint64_t packets(struct moat_dp *dp, const char *rule)
{
	int slot = moat_dp_rule_slot(dp, rule);
	uint64_t pk = 0, by = 0;

	if (slot < 0 || moat_dp_counter(dp, (uint32_t)slot, &pk, &by))
		return ~0ull;
	return pk;
}

/* The same through a read-only open, as moatctl reads while moatd is down. */
static uint64_t pinned_packets(const char *inst, const char *rule)
{
	struct moat_dp_opts o = { .instance = inst };
	struct moat_dp *dp;
	uint64_t pk;

	if (moat_dp_open_pinned(&o, &dp))
		return ~0ull;
	pk = packets(dp, rule);
	moat_dp_close(dp);
	return pk;
}

int main(void)
{
	const char *inst = kt_name("ktlegacy");
	struct moat_dp_opts o = { .instance = inst, .capacity = 512 };
	struct moat_frame_spec f = { .family = AF_INET, .proto = 17, .sport = 999, .dport = 53 };
	int ncpus = libbpf_num_possible_cpus(), slot, fd, err;
	struct moat_counter *v;
	uint64_t old_sum = 0;
	char path[512];
	struct moat_dp *dp;

	kt_require_kernel();
	kt_cleanup_instance(inst);
	f.src[0] = 192, f.src[2] = 2, f.src[3] = 1;
	f.dst[0] = 192, f.dst[2] = 2, f.dst[3] = 2;
	frame_len = moat_frame_build(&f, frame, sizeof(frame));

	err = moat_dp_open(&o, &dp) ?: apply(dp);
	if (!kt_check(!err, "an instance with rules a and b", "%s", strerror(-err)))
		return kt_done();
	kt_check(run_frame(dp) && run_frame(dp), "two frames dropped by a", "no");
	kt_check(packets(dp, "a") == 2, "a counted 2", "%llu",
		 (unsigned long long)packets(dp, "a"));
	slot = moat_dp_rule_slot(dp, "a");

	/* the old map, as an instance made before would have it pinned */
	snprintf(path, sizeof(path), "%s/counters", moat_dp_pin_root(dp));
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "counters", 4,
			    sizeof(struct moat_counter), MOAT_SLOT_FIRST_RULE + 512, NULL);
	v = calloc((size_t)ncpus, sizeof(*v));
	for (int c = 0; v && c < ncpus; c++) {
		v[c].packets = 1000 + (uint64_t)c;
		v[c].bytes = 64000;
		old_sum += v[c].packets;
	}
	err = fd < 0 || !v || slot < 0 ? -EINVAL : 0;
	if (!err && (bpf_map_update_elem(fd, &slot, v, 0) || bpf_obj_pin(fd, path)))
		err = -errno;
	free(v);
	if (fd >= 0)
		close(fd);
	kt_check(!err, "an old per-CPU counters map pinned beside it", "%s", strerror(-err));
	moat_dp_close(dp);

	/* moatd starts again and adopts both */
	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "the instance is adopted", "%s", strerror(-err)))
		return kt_done();
	kt_check(packets(dp, "a") == old_sum + 2, "a: the old map's sum and the new",
		 "%llu, want %llu", (unsigned long long)packets(dp, "a"),
		 (unsigned long long)old_sum + 2);
	kt_check(kt_row_packets(dp, "a") == old_sum + 2, "a in the rows: the same", "%llu",
		 (unsigned long long)kt_row_packets(dp, "a"));
	kt_check(pinned_packets(inst, "a") == old_sum + 2,
		 "a through a read-only open: the same", "%llu",
		 (unsigned long long)pinned_packets(inst, "a"));
	kt_check(packets(dp, "b") == 0, "b: nothing", "%llu",
		 (unsigned long long)packets(dp, "b"));

	err = apply(dp);
	kt_check(!err, "the next apply", "%s", strerror(-err));
	kt_check(access(path, F_OK) != 0, "the old map is unpinned after it", "%s exists",
		 path);
	kt_check(packets(dp, "a") == old_sum + 2, "a: folded, nothing lost or doubled",
		 "%llu, want %llu", (unsigned long long)packets(dp, "a"),
		 (unsigned long long)old_sum + 2);
	kt_check(pinned_packets(inst, "a") == old_sum + 2,
		 "a through a read-only open after the fold", "%llu",
		 (unsigned long long)pinned_packets(inst, "a"));
	kt_check(run_frame(dp) && packets(dp, "a") == old_sum + 3,
		 "a frame after the fold adds to it", "%llu",
		 (unsigned long long)packets(dp, "a"));
	err = apply(dp);
	kt_check(!err && packets(dp, "a") == old_sum + 3, "another apply keeps it",
		 "%llu", (unsigned long long)packets(dp, "a"));
	moat_dp_close(dp);
	kt_cleanup_instance(inst);
	return kt_done();
}
