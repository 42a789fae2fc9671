// SPDX-License-Identifier: GPL-2.0-only
/*
 * Atomic replacement under load.  Two rulesets with the same rule names
 * in a different order are applied alternately, over a thousand times,
 * while a thread pushes frames through the interface's entry program
 * (BPF_PROG_TEST_RUN of the program that is attached, so every frame
 * takes the tail call into whichever generation is running).  Both ends
 * of the pair are attached: with one interface, moat attaches the
 * generation itself where there is no dispatcher (kt-direct tests that
 * way under load with real frames), with two always the entry.
 *
 * Five flows each land in a different index (destination trie, source
 * trie, destination port, source port, the catch-all list).  Ruleset A
 * puts x1..x5 first, ruleset B puts y1..y5 first, and both match the
 * same flows, so every frame must be counted by exactly one of xi (it saw
 * A) or yi (it saw B).  A frame classified against a mix of the two, or
 * against a half-written generation, would land anywhere else: the
 * policy, another rule, the malformed row.  And since the names carry
 * their counters across generations, xi + yi must equal what was sent.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt.h"

#define NFLOWS 5
#define SWAPS 1000
#define THREADS 1
#define REPEAT 2048

static const char *const flow_rules[NFLOWS] = {
	"to 10.1.0.1",   /* destination trie */
	"from 10.2.0.1", /* source trie */
	"udp dport 5001", /* destination port table */
	"udp sport 6001", /* source port table */
	"proto 47",      /* neither: the catch-all list */
};

static uint8_t frames[NFLOWS][MOAT_FRAME_MAX];
static size_t frame_len[NFLOWS];
static _Atomic uint64_t sent[NFLOWS];
static atomic_bool stop;
static int entry_fd;
static uint32_t ifindex;

/* libbpf's warnings during the attach (libxdp loads through libbpf) */
static int warnings;

static int count_warnings(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	if (level == LIBBPF_WARN) {
		warnings++;
		vfprintf(stderr, fmt, ap);
	}
	return 0;
}

static void build_frames(void)
{
	struct moat_frame_spec s = { .family = AF_INET, .proto = 17, .sport = 40000, .dport = 40000 };
	int i;

	for (i = 0; i < NFLOWS; i++) {
		struct moat_frame_spec f = s;

		/* each flow matches its own rule pair and none of the others */
		f.src[0] = 192, f.src[1] = 0, f.src[2] = 2, f.src[3] = 1;
		f.dst[0] = 192, f.dst[1] = 0, f.dst[2] = 2, f.dst[3] = 2;
		switch (i) {
		case 0:
			f.dst[0] = 10, f.dst[1] = 1, f.dst[2] = 0, f.dst[3] = 1;
			break;
		case 1:
			f.src[0] = 10, f.src[1] = 2, f.src[2] = 0, f.src[3] = 1;
			break;
		case 2:
			f.dport = 5001;
			break;
		case 3:
			f.sport = 6001;
			break;
		case 4:
			f.proto = 47;
			break;
		}
		frame_len[i] = moat_frame_build(&f, frames[i], sizeof(frames[i]));
	}
}

static void *pump(void *arg)
{
	struct xdp_md ctx = { .ingress_ifindex = ifindex };
	int i = (int)(long)arg;

	while (!atomic_load(&stop)) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i],
			    .data_size_in = (uint32_t)frame_len[i],
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .repeat = REPEAT);

		ctx.data_end = (uint32_t)frame_len[i];
		if (bpf_prog_test_run_opts(entry_fd, &o)) {
			perror("test run");
			break;
		}
		atomic_fetch_add(&sent[i], REPEAT);
		i = (i + 1) % NFLOWS;
	}
	return NULL;
}

/* Ruleset text: @first's five rules, then the other five. */
static int build(struct moat_ruleset *rs, const char *first, const char *second)
{
	char text[1024], *p = text;
	struct moat_diags d = { 0 };
	int i, err;

	p += sprintf(p, "policy allow\n");
	for (i = 0; i < NFLOWS; i++)
		p += sprintf(p, "drop %s%d %s\n", first, i + 1, flow_rules[i]);
	for (i = 0; i < NFLOWS; i++)
		p += sprintf(p, "drop %s%d %s\n", second, i + 1, flow_rules[i]);
	err = moat_ruleset_parse(text, strlen(text), rs, &d);
	if (err)
		moat_diags_print(&d, "kt-swap", stderr);
	moat_diags_free(&d);
	return err;
}

int main(void)
{
	const char *ns = kt_name("ktswap"), *inst = kt_name("ktswap");
	struct moat_dp_opts o = { .instance = inst, .capacity = 1024 };
	struct moat_ruleset a = { 0 }, b = { 0 };
	struct moat_dp_row *rows = NULL;
	struct moat_dp_features feat;
	libbpf_print_fn_t old_print;
	struct moat_diags d = { 0 };
	struct moat_dp *dp;
	pthread_t th[THREADS];
	char path[512], name[128];
	uint64_t total = 0, other = 0, t0;
	int i, nrows, err, swaps;

	kt_require_kernel();
	kt_cleanup_instance(inst);
	/*
	 * IPv6 off: the kernel's own neighbour discovery on the pair would
	 * reach the program too, and this test counts every frame.
	 */
	if (kt_netns(ns) || kt_enter(ns) ||
	    kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1", ns) ||
	    kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns) ||
	    kt_sh("ip netns exec %s ip link add kts0 type veth peer name kts1", ns) ||
	    kt_sh("ip netns exec %s ip link set kts0 up", ns) ||
	    kt_sh("ip netns exec %s ip link set kts1 up", ns))
		kt_skip("cannot create a network namespace with a veth pair");
	ifindex = if_nametoindex("kts0");
	build_frames();
	if (!kt_check(!build(&a, "x", "y") && !build(&b, "y", "x"), "parse rulesets", "see above"))
		return kt_done();

	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "open instance", "%s", strerror(-err)))
		return kt_done();
	err = moat_dp_apply(dp, &a, &d, NULL);
	kt_check(!err, "apply ruleset A", "%s", strerror(-err));
	moat_dp_probe(&feat);
	old_print = libbpf_set_print(count_warnings);
	err = moat_dp_attach(dp, "kts0", MOAT_XDP_AUTO);
	kt_check(!err, "attach to kts0", "%s", strerror(-err));
	err = moat_dp_attach(dp, "kts1", MOAT_XDP_AUTO);
	kt_check(!err, "attach to kts1", "%s", strerror(-err));
	libbpf_set_print(old_print);
	/* without a dispatcher, libxdp is told not to try one */
	if (!feat.dispatcher)
		kt_check(warnings == 0 && getenv("LIBXDP_SKIP_DISPATCHER"),
			 "no dispatcher here: attached without trying one, nothing on stderr",
			 "%d libbpf warnings, LIBXDP_SKIP_DISPATCHER %s", warnings,
			 getenv("LIBXDP_SKIP_DISPATCHER") ? "set" : "not set");
	snprintf(path, sizeof(path), "%s/links/kts0", moat_dp_pin_root(dp));
	entry_fd = bpf_obj_get(path);
	if (!kt_check(entry_fd >= 0, "entry program pinned", "%s", path))
		return kt_done();

	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, pump, (void *)(long)(i * 2));
	t0 = kt_now_ns();
	for (swaps = 0, err = 0; swaps < SWAPS && !err; swaps++)
		err = moat_dp_apply(dp, swaps % 2 ? &a : &b, &d, NULL);
	atomic_store(&stop, true);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	snprintf(name, sizeof(name), "%d applies while traffic flows", SWAPS);
	kt_check(!err && swaps == SWAPS, name, "apply %d failed: %s", swaps, strerror(-err));
	printf("# %d applies in %.1f s\n", swaps, (kt_now_ns() - t0) / 1e9);

	err = moat_dp_rows(dp, &rows, &nrows);
	kt_check(!err, "read counters", "%s", strerror(-err));
	for (i = 0; i < NFLOWS; i++) {
		uint64_t x = 0, y = 0;
		int r;

		for (r = 0; r < nrows; r++) {
			if (rows[r].name[0] == 'x' && rows[r].name[1] == '1' + i)
				x = rows[r].packets;
			if (rows[r].name[0] == 'y' && rows[r].name[1] == '1' + i)
				y = rows[r].packets;
		}
		total += sent[i];
		snprintf(name, sizeof(name), "flow %d: x%d + y%d equals the frames sent", i + 1, i + 1, i + 1);
		kt_check(x + y == sent[i], name, "x %llu + y %llu != sent %llu",
			 (unsigned long long)x, (unsigned long long)y,
			 (unsigned long long)sent[i]);
		/* both generations were seen, or the test proved nothing */
		snprintf(name, sizeof(name), "flow %d: counted under both generations", i + 1);
		kt_check(x > 0 && y > 0, name, "x %llu y %llu", (unsigned long long)x,
			 (unsigned long long)y);
	}
	for (i = 0; i < nrows; i++) {
		if (rows[i].name[0] == 'x' || rows[i].name[0] == 'y' || !rows[i].packets)
			continue;
		other += rows[i].packets;
		printf("# %s: %llu\n", rows[i].name, (unsigned long long)rows[i].packets);
	}
	kt_check(other == 0, "no frame counted anywhere else (policy, other rows)",
		 "%llu frames", (unsigned long long)other);
	printf("# %llu frames through %d generations\n", (unsigned long long)total, swaps + 1);
	free(rows);
	moat_dp_detach(dp, "kts0");
	moat_dp_detach(dp, "kts1");
	moat_dp_close(dp);
	moat_ruleset_free(&a);
	moat_ruleset_free(&b);
	moat_diags_free(&d);
	return kt_done();
}
