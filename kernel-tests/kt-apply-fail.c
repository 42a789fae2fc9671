// SPDX-License-Identifier: GPL-2.0-only
/*
 * A failed apply changes nothing.  With a generation running and counting,
 * each way an apply can fail is provoked for real:
 *
 *   - a ruleset over the instance's capacity (compile time),
 *   - a ruleset whose new names do not fit beside the running one's,
 *   - a ruleset whose terms overflow one list (compile time),
 *   - map allocation failing (MOAT_FAULT=maps: a map the kernel will not
 *     allocate, see generation.c),
 *   - the verifier refusing the program (MOAT_FAULT=verifier, which hands
 *     the kernel the program as the wrong type, see generation.c),
 *   - pinning failing (something already sits where gen-N+1 goes).
 *
 * After each: the apply returned an error with a reason, the generation
 * number and program are the same, the running program still classifies
 * a frame to the same rule and counts it, and no new pins are left.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt.h"

static struct moat_dp *dp;
static uint8_t frame[MOAT_FRAME_MAX];
static size_t frame_len;
static uint64_t counted; /* frames run through the running generation */

static int parse(const char *text, struct moat_ruleset *rs)
{
	struct moat_diags d = { 0 };
	int err = moat_ruleset_parse(text, strlen(text), rs, &d);

	moat_diags_print(&d, "kt-apply-fail", stderr);
	moat_diags_free(&d);
	return err;
}

static uint32_t prog_id(void)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(moat_dp_generation_fd(dp), &info, &len))
		return 0;
	return info.id;
}

/* The frame goes through the running program: dropped, counted by "keep". */
static bool still_enforcing(void)
{
	struct xdp_md ctx = { .data_end = (uint32_t)frame_len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (uint32_t)frame_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint64_t pk = 0, by;
	int slot = moat_dp_rule_slot(dp, "keep");

	if (slot < 0 || bpf_prog_test_run_opts(moat_dp_generation_fd(dp), &o))
		return false;
	counted++;
	moat_dp_counter(dp, (uint32_t)slot, &pk, &by);
	return o.retval == XDP_DROP && pk == counted;
}

static void expect_refused(const char *what, const struct moat_ruleset *rs,
			   const char *reason)
{
	struct moat_diags d = { 0 };
	struct moat_dp_status before, after;
	char name[160], path[512];
	uint32_t id = prog_id();
	int err;
	size_t i;
	bool said = false;

	moat_dp_status(dp, &before);
	err = moat_dp_apply(dp, rs, &d, NULL);
	for (i = 0; i < d.n; i++)
		said |= d.v[i].severity == MOAT_ERROR && strstr(d.v[i].msg, reason);
	snprintf(name, sizeof(name), "%s: apply fails and says '%s'", what, reason);
	kt_check(err < 0 && said, name, "err %d, %zu diags, first '%s'", err, d.n,
		 d.n ? d.v[0].msg : "");
	moat_dp_status(dp, &after);
	snprintf(name, sizeof(name), "%s: same generation and program", what);
	kt_check(after.info.generation == before.info.generation && prog_id() == id &&
			 after.info.prog_id == id,
		 name, "generation %llu -> %llu, program %u -> %u",
		 (unsigned long long)before.info.generation,
		 (unsigned long long)after.info.generation, id, prog_id());
	snprintf(name, sizeof(name), "%s: the running rules still drop and count", what);
	kt_check(still_enforcing(), name, "frame not dropped or not counted by 'keep'");
	snprintf(path, sizeof(path), "%s/gen-%llu", moat_dp_pin_root(dp),
		 (unsigned long long)before.info.generation + 1);
	snprintf(name, sizeof(name), "%s: no pins left behind", what);
	kt_check(access(path, F_OK) != 0 || strstr(what, "pin"), name, "%s exists", path);
	moat_dp_status_free(&before);
	moat_dp_status_free(&after);
	moat_diags_free(&d);
}

static const char many_tables[] =
	"policy allow\n"
	"drop m1 tcp sport 1001\n"
	"drop m2 tcp from 10.1.0.0/16 sport 2002\n"
	"drop m3 tcp dport 1003\n"
	"drop m4 tcp from 10.1.0.0/16 dport 2004\n"
	"drop m5 udp sport 1005\n"
	"drop m6 udp from 10.1.0.0/16 sport 2006\n"
	"drop m7 udp dport 1007\n"
	"drop m8 udp from 10.1.0.0/16 dport 2008\n"
	"drop m9 sctp sport 1009\n"
	"drop m10 sctp from 10.1.0.0/16 sport 2010\n"
	"drop m11 sctp dport 1011\n"
	"drop m12 sctp from 10.1.0.0/16 dport 2012\n"
	"drop m13 icmp type 3 from 10.1.0.0/16\n"
	"drop m14 icmp type 11 code 1 from 10.1.0.0/16\n"
	"drop m15 from 10.1.0.0/16\n"
	"drop m16 to 10.2.0.0/16\n"
	"drop m17 tcp sport 1017\n"
	"drop m18 tcp from 2001:db8:1::/48 sport 2018\n"
	"drop m19 tcp dport 1019\n"
	"drop m20 tcp from 2001:db8:1::/48 dport 2020\n"
	"drop m21 udp sport 1021\n"
	"drop m22 udp from 2001:db8:1::/48 sport 2022\n"
	"drop m23 udp dport 1023\n"
	"drop m24 udp from 2001:db8:1::/48 dport 2024\n"
	"drop m25 sctp sport 1025\n"
	"drop m26 sctp from 2001:db8:1::/48 sport 2026\n"
	"drop m27 sctp dport 1027\n"
	"drop m28 sctp from 2001:db8:1::/48 dport 2028\n"
	"drop m29 icmpv6 type 3 from 2001:db8:1::/48\n"
	"drop m30 icmpv6 type 11 code 1 from 2001:db8:1::/48\n"
	"drop m31 from 2001:db8:1::/48\n"
	"drop m32 to 2001:db8:2::/48\n";

/* The names of the flags set in @bits (fin = bit 0), comma-separated. */
static const char *flag_list(int bits)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg" };
	static char buf[64];
	int i;

	buf[0] = '\0';
	for (i = 0; i < 6; i++) {
		if (!(bits & (1 << i)))
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, names[i]);
	}
	return buf;
}

/* @n rules "r0".."rN" on distinct ports, then "keep". */
static char *many_rules(size_t n)
{
	char *text = malloc(n * 48 + 128), *p = text;
	size_t i;

	if (!text)
		abort();
	p += sprintf(p, "policy allow\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "drop r%zu udp to 10.%zu.%zu.%zu dport %zu\n", i,
			     (i >> 16) & 255, (i >> 8) & 255, i & 255, 1 + i % 65535);
	sprintf(p, "drop keep udp to 192.0.2.2 dport 53\n");
	return text;
}

int main(void)
{
	const char *inst = kt_name("ktfail");
	struct moat_dp_opts o = { .instance = inst, .capacity = 512 };
	struct moat_frame_spec f = { .family = AF_INET, .proto = 17, .sport = 999, .dport = 53 };
	struct moat_ruleset base = { 0 }, rs = { 0 };
	struct moat_diags d = { 0 };
	char path[512], *text;
	int err, i;

	kt_require_kernel();
	kt_cleanup_instance(inst);
	f.src[0] = 192, f.src[2] = 2, f.src[3] = 1;
	f.dst[0] = 192, f.dst[2] = 2, f.dst[3] = 2;
	frame_len = moat_frame_build(&f, frame, sizeof(frame));

	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "open an instance of capacity 512", "%s", strerror(-err)))
		return kt_done();
	text = many_rules(20);
	err = parse(text, &base) ?: moat_dp_apply(dp, &base, &d, NULL);
	free(text);
	kt_check(!err, "apply 21 rules", "%s", strerror(-err));
	kt_check(still_enforcing(), "the running rules drop and count", "no");

	/* 1: 601 rules into 512 slots */
	text = many_rules(600);
	parse(text, &rs);
	free(text);
	expect_refused("over capacity", &rs, "over capacity: 601 rules");
	moat_ruleset_free(&rs);

	/*
	 * 1b: 500 new names and "keep" fit the capacity, but not beside the
	 * running 21, whose slots stay theirs until the switch
	 */
	text = malloc(501 * 48);
	{
		char *p = text + sprintf(text, "policy allow\n");

		for (i = 0; i < 500; i++)
			p += sprintf(p, "drop n%d udp to 10.9.%d.%d\n", i, i >> 8, i & 255);
		sprintf(p, "drop keep udp to 192.0.2.2 dport 53\n");
	}
	parse(text, &rs);
	free(text);
	expect_refused("new names beside the running ones", &rs,
		       "no free counter slot: the running ruleset's 21 rules");
	moat_ruleset_free(&rs);

	/*
	 * 2: 255 rules that each take one protocol but TCP and 45 that take
	 * TCP with exact flags: none covers another and none names an address
	 * or a port, so they share one list, which holds 255 terms
	 */
	text = malloc(300 * 48);
	{
		char *p = text + sprintf(text, "policy allow\n");

		for (i = 0; i < 255; i++)
			p += sprintf(p, "drop p%d proto %d\n", i, i < 6 ? i : i + 1);
		for (i = 0; i < 45; i++)
			p += sprintf(p, "drop f%d tcp flags %s/fin,syn,rst,psh,ack,urg\n", i,
				     flag_list(i));
	}
	parse(text, &rs);
	free(text);
	expect_refused("list overflow", &rs, "over capacity: more than 255 terms");
	moat_ruleset_free(&rs);

	/*
	 * 3: the kernel refuses to allocate a map (MOAT_FAULT=maps asks for a
	 * trie of 2^31 lines; a memory cgroup limit would do the same, but it
	 * cannot tell the compiler's memory from the maps').
	 */
	parse(many_tables, &rs);
	setenv("MOAT_FAULT", "maps", 1);
	expect_refused("map allocation", &rs, "cannot create the generation's maps");
	unsetenv("MOAT_FAULT");

	/* 4: the verifier refuses the program */
	setenv("MOAT_FAULT", "verifier", 1);
	expect_refused("verifier rejection", &rs, "the kernel refused the generation");
	unsetenv("MOAT_FAULT");

	/* 5: pinning fails: a map already sits where gen-N+1 goes */
	{
		struct moat_dp_status st;
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ktblock", 4, 4, 1, NULL);

		moat_dp_status(dp, &st);
		snprintf(path, sizeof(path), "%s/gen-%llu", moat_dp_pin_root(dp),
			 (unsigned long long)st.info.generation + 1);
		moat_dp_status_free(&st);
		kt_check(fd >= 0 && !bpf_obj_pin(fd, path), "block the next generation's pin path",
			 "%s", strerror(errno));
		expect_refused("pin failure", &rs, "cannot pin the generation");
		unlink(path);
		close(fd);
	}

	/* and a good apply still works afterwards; "keep" keeps its counts */
	moat_ruleset_free(&rs);
	text = many_rules(30);
	err = parse(text, &rs) ?: moat_dp_apply(dp, &rs, &d, NULL);
	free(text);
	kt_check(!err, "a good apply after the failures", "%s", strerror(-err));
	kt_check(still_enforcing(), "the new generation drops and counts, counts carried over",
		 "no");
	moat_ruleset_free(&rs);
	moat_ruleset_free(&base);
	moat_diags_free(&d);
	moat_dp_close(dp);
	return kt_done();
}
