// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow cache's size, generation by generation.  With `auto' a
 * generation's cache starts at MOAT_FC_LOG_DEFAULT buckets a CPU and
 * grows with its ruleset (two IPv4 buckets and four IPv6 entries a term)
 * up to MOAT_FC_BYTES_MAX for all CPUs; a size given is kept whatever
 * the ruleset; `off' makes none.  Read from the maps the running
 * program holds, as the kernel sized them.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane.h"
#include "kt.h"

static int ncpus;

/* @n4 IPv4 and @n6 IPv6 rules of one term each, as ruleset text. */
static char *ruleset(unsigned int n4, unsigned int n6)
{
	size_t cap = 64 + (size_t)(n4 + n6) * 64, len = 0;
	char *t = malloc(cap);

	if (!t)
		return NULL;
	len += (size_t)snprintf(t + len, cap - len, "policy allow\n");
	for (unsigned int i = 0; i < n4; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"drop v4-%u udp from 10.%u.%u.%u dport 53\n", i,
					i >> 16, (i >> 8) & 255, i & 255);
	for (unsigned int i = 0; i < n6; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"drop v6-%u udp from 2001:db8::%x:%x dport 53\n",
					i, i >> 16, i & 0xffff);
	return t;
}

/* max_entries of the running program's map @name; 0 when it has none. */
static uint32_t map_entries(struct moat_dp *dp, const char *name)
{
	struct bpf_prog_info pi = { 0 };
	uint32_t ids[64], len = sizeof(pi), found = 0;

	pi.nr_map_ids = 64;
	pi.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(moat_dp_generation_fd(dp), &pi, &len))
		return 0;
	for (uint32_t i = 0; i < pi.nr_map_ids && i < 64 && !found; i++) {
		struct bpf_map_info mi = { 0 };
		uint32_t ml = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &ml) && !strcmp(mi.name, name))
			found = mi.max_entries;
		close(fd);
	}
	return found;
}

struct want {
	uint32_t fc4, fc6; /* entries of the maps: CPUs times a CPU's part */
};

static void apply(struct moat_dp *dp, const char *what, unsigned int n4,
		  unsigned int n6, struct want w)
{
	struct moat_diags d = { 0 };
	struct moat_apply_stats st = { 0 };
	struct moat_ruleset rs;
	char *text = ruleset(n4, n6), name[160];
	uint32_t fc4, fc6;
	int err;

	if (!text || moat_ruleset_parse(text, strlen(text), &rs, &d)) {
		kt_check(false, what, "the test's ruleset does not parse");
		free(text);
		return;
	}
	free(text);
	err = moat_dp_apply(dp, &rs, &d, &st);
	moat_ruleset_free(&rs);
	if (!kt_check(!err, what, "apply: %s", strerror(-err))) {
		moat_diags_print(&d, what, stderr);
		return;
	}
	fc4 = map_entries(dp, "fc4");
	fc6 = map_entries(dp, "fc6");
	snprintf(name, sizeof(name), "%s: sizes", what);
	kt_check(fc4 == w.fc4 && fc6 == w.fc6, name,
		 "fc4 %u fc6 %u entries, want %u and %u", fc4, fc6, w.fc4, w.fc6);
	snprintf(name, sizeof(name), "%s: map_bytes counts it", what);
	kt_check(st.map_bytes >= (uint64_t)(fc4 + fc6) * 64, name,
		 "map_bytes %llu leaves out the flow cache's %llu",
		 (unsigned long long)st.map_bytes,
		 (unsigned long long)(fc4 + fc6) * 64);
}

/* ncpus << log, or 1 (a map of one entry) when there is no cache */
static uint32_t part(int log)
{
	return log ? (uint32_t)ncpus << log : 1;
}

static uint64_t bytes(int log4, int log6)
{
	return ((uint64_t)(log4 ? part(log4) : 0) + (log6 ? part(log6) : 0)) * 64;
}

int main(void)
{
	struct moat_dp_opts o = { .instance = kt_name("fcsize"),
				  .capacity = MOAT_SLOT_FIRST_RULE + 100000 };
	struct moat_dp *dp;
	int base = MOAT_FC_LOG_DEFAULT, err;

	kt_require_kernel();
	ncpus = libbpf_num_possible_cpus();
	/* auto's least: the default, less where it would pass the budget */
	while (base > MOAT_FC_LOG_MIN &&
	       (uint64_t)ncpus * ((1ull << base) * 64 + (1ull << (base - 1)) * 64) >
		       MOAT_FC_BYTES_MAX)
		base--;

	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "open an instance", "%s", strerror(-err)))
		return kt_done();
	apply(dp, "auto, 1,000 IPv4 rules: the default, no IPv6 cache", 1000, 0,
	      (struct want){ part(base), 1 });
	if (bytes(17, 0) <= MOAT_FC_BYTES_MAX && base == 16) {
		apply(dp, "auto, 40,000 IPv4 rules: 2^17 buckets a CPU", 40000, 0,
		      (struct want){ part(17), 1 });
		apply(dp, "auto, 20,000 + 20,000: IPv4 as the default, IPv6 2^17",
		      20000, 20000, (struct want){ part(16), part(17) });
	} else {
		printf("# %d CPUs: the budget keeps auto from growing; checking that it does not\n",
		       ncpus);
		apply(dp, "auto, 40,000 IPv4 rules, within the budget", 40000, 0,
		      (struct want){ part(base), 1 });
	}
	apply(dp, "auto shrinks back with the ruleset", 1000, 0,
	      (struct want){ part(base), 1 });
	moat_dp_close(dp);
	kt_cleanup_instance(o.instance);

	o.flow_cache = 12;
	err = moat_dp_open(&o, &dp);
	if (kt_check(!err, "open with flow-cache 12", "%s", strerror(-err))) {
		apply(dp, "flow-cache 12 stays 12 with 40,000 rules", 40000, 1000,
		      (struct want){ part(12), part(11) });
		moat_dp_close(dp);
	}
	kt_cleanup_instance(o.instance);

	o.flow_cache = -1;
	err = moat_dp_open(&o, &dp);
	if (kt_check(!err, "open with flow-cache off", "%s", strerror(-err))) {
		apply(dp, "flow-cache off: none", 40000, 1000, (struct want){ 1, 1 });
		moat_dp_close(dp);
	}
	kt_cleanup_instance(o.instance);
	return kt_done();
}
