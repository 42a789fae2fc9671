// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the data plane: counters summed over CPUs, the running
 * generation's rules, and the state of the interfaces.  Works from the
 * pins alone, so moatctl can answer while moatd is down.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dp-int.h"

int dp_iface_state(const struct moat_dp *dp, const char *ifname,
		   struct moat_dp_iface *i);

int moat_dp_counter(struct moat_dp *dp, uint32_t slot, uint64_t *packets,
		    uint64_t *bytes)
{
	struct moat_counter c;
	int err = dp_counter_slot(dp, slot, &c);

	*packets = c.packets;
	*bytes = c.bytes;
	return err;
}

static const struct {
	const char *name;
	uint32_t slot;
	int action;
} fixed_rows[] = {
	{ "policy", MOAT_SLOT_POLICY, -1 }, /* the running policy, below */
	{ "arp", MOAT_SLOT_ARP, 0 },
	{ "nd", MOAT_SLOT_ND, 0 },
	{ "non-ip", MOAT_SLOT_NONIP, 0 },
	{ "malformed", MOAT_SLOT_MALFORMED, 1 },
	/* only where flows are tracked: the last NFIXED_CT rows */
	{ "established", MOAT_SLOT_ESTABLISHED, 0 },
	{ "related", MOAT_SLOT_RELATED, 0 },
};

#define NFIXED_ALL (sizeof(fixed_rows) / sizeof(fixed_rows[0]))
#define NFIXED_CT 2

/* Every slot's counter, summed over its CPUs. */
static int read_all(struct moat_dp *dp, struct moat_counter **out)
{
	struct moat_counter *sum = calloc(dp->slots.nslots, sizeof(*sum));
	int err;

	if (!sum)
		return -ENOMEM;
	err = dp_counters_sum(dp, sum);
	if (err) {
		free(sum);
		return err;
	}
	*out = sum;
	return 0;
}

/* An array's values are 8-byte aligned (generation.c writes them so). */
#define NAMES_STRIDE ((sizeof(struct moat_rule_info) + 7) & ~(size_t)7)

/*
 * The names map's first @n values, mapped: one pass instead of a
 * lookup a rule (100,000 of them took some 200 ms).  NULL where the map
 * cannot be mapped (generations made before it was mmapable), and the
 * caller looks each up.
 */
static uint8_t *names_map(int fd, uint32_t n, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	if (!n)
		return NULL;
	*len = ((size_t)n * NAMES_STRIDE + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

int moat_dp_rows(struct moat_dp *dp, struct moat_dp_row **rows, int *nrows)
{
	struct moat_counter *sum = NULL;
	struct moat_rule_info ri;
	struct moat_dp_row *r;
	char path[PATH_MAX];
	uint32_t i, n = 0;
	int names = -1, err, policy_drop = 0;
	bool audit = false;
	struct moat_gen_info gi;
	uint32_t zero = 0;
	uint8_t *names_v = NULL;
	size_t names_len = 0;
	size_t f, nfixed = dp->ct_fd >= 0 ? NFIXED_ALL : NFIXED_ALL - NFIXED_CT;

	err = dp_path(dp, path, sizeof(path), "current/names");
	if (err)
		return err;
	if (dp->generation) {
		int info;

		names = bpf_obj_get(path);
		if (names < 0)
			return -errno;
		/* slots also hold over-limit counters: the rules are the info's */
		n = 0;
		dp_path(dp, path, sizeof(path), "current/info");
		info = bpf_obj_get(path);
		if (info >= 0 && !bpf_map_lookup_elem(info, &zero, &gi)) {
			policy_drop = (int)gi.policy_drop;
			audit = gi.audit != 0;
			n = gi.nrules;
		}
		if (info >= 0)
			close(info);
	}
	err = read_all(dp, &sum);
	if (err)
		goto out;
	r = calloc(n + nfixed, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	names_v = names_map(names, n, &names_len);
	for (i = 0; i < n; i++) {
		if (names_v)
			memcpy(&ri, names_v + (size_t)i * NAMES_STRIDE, sizeof(ri));
		else if (bpf_map_lookup_elem(names, &i, &ri)) {
			err = -errno;
			free(r);
			goto out;
		}
		snprintf(r[i].name, sizeof(r[i].name), "%s", ri.name);
		r[i].action = (int)ri.action;
		r[i].slot = ri.slot;
		r[i].applied_ns = ri.applied_ns;
		r[i].flags = ri.flags;
		if (ri.slot < dp->slots.nslots) {
			r[i].packets = sum[ri.slot].packets;
			r[i].bytes = sum[ri.slot].bytes;
		}
		if (ri.over_slot && ri.over_slot < dp->slots.nslots) {
			r[i].over_packets = sum[ri.over_slot].packets;
			r[i].over_bytes = sum[ri.over_slot].bytes;
		}
		/* audit: a drop rule would have dropped all it matched; a
		 * limit, what went over it */
		if (ri.flags & MOAT_X_AUDIT)
			r[i].would_drop = ri.action ? r[i].packets :
				(ri.flags & MOAT_X_OVER_ALLOW) ? 0 : r[i].over_packets;
	}
	for (f = 0; f < nfixed; f++, i++) {
		struct moat_dp_row *x = &r[i];

		snprintf(x->name, sizeof(x->name), "%s", fixed_rows[f].name);
		x->fixed = true;
		x->slot = fixed_rows[f].slot;
		x->action = fixed_rows[f].action;
		if (x->slot == MOAT_SLOT_POLICY)
			x->action = policy_drop;
		x->packets = sum[x->slot].packets;
		x->bytes = sum[x->slot].bytes;
		if (x->slot == MOAT_SLOT_POLICY && policy_drop && audit)
			x->would_drop = x->packets;
	}
	*rows = r;
	*nrows = (int)i;
out:
	if (names_v)
		munmap(names_v, names_len);
	if (names >= 0)
		close(names);
	free(sum);
	return err;
}

/* Entries a CPU of the running generation's cache map @name; 0: none. */
static uint32_t fc_per_cpu(struct moat_dp *dp, const char *name)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	dp_path(dp, path, sizeof(path), "current/%s", name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	/* a family without a cache has a map of one entry */
	return info.max_entries > 1 ? info.max_entries / (uint32_t)dp->ncpus : 0;
}

/*
 * The running generation's flow cache heads (struct moat_fc_head), from
 * its program's global data, pinned as current/fc_head.
 */
int dp_fc_heads(struct moat_dp *dp, struct moat_fc_head heads[MOAT_FC_CPUS])
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), k = 0;
	char path[PATH_MAX];
	int fd, err = 0;

	dp_path(dp, path, sizeof(path), "current/fc_head");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.value_size != MOAT_FC_CPUS * sizeof(*heads))
		err = -EINVAL; /* not the global data of this build's program */
	else if (bpf_map_lookup_elem(fd, &k, heads))
		err = -errno;
	close(fd);
	return err;
}

/* The most of its cache any CPU uses now, by family. */
static void fc_used(struct moat_dp *dp, struct moat_dp_fc_status *fc)
{
	struct moat_fc_head h[MOAT_FC_CPUS];

	if (dp_fc_heads(dp, h))
		return;
	for (int c = 0; c < dp->ncpus && c < MOAT_FC_CPUS; c++) {
		if (fc->buckets4 && h[c].use[0] < 32 && (1u << h[c].use[0]) > fc->used4)
			fc->used4 = 1u << h[c].use[0];
		if (fc->entries6 && h[c].use[1] < 32 && (1u << h[c].use[1]) > fc->used6)
			fc->used6 = 1u << h[c].use[1];
	}
}

void moat_dp_fc_status(struct moat_dp *dp, struct moat_dp_fc_status *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->buckets4 = fc_per_cpu(dp, "fc4");
	fc->entries6 = fc_per_cpu(dp, "fc6");
	fc_used(dp, fc);
	fc->counted = !dp_percpu_sum(dp, dp->fc_stats_fd, MOAT_FCS_MAX, fc->stat);
}

int moat_dp_status(struct moat_dp *dp, struct moat_dp_status *st)
{
	char path[PATH_MAX];
	struct dirent *e;
	uint32_t k = 0;
	DIR *dir;
	int fd;

	memset(st, 0, sizeof(*st));
	moat_dp_ct_status(dp, &st->ct);
	moat_dp_fc_status(dp, &st->fc);
	st->capacity = dp->capacity;
	st->slots_used = dp->slots.used;
	dp_path(dp, path, sizeof(path), "current/info");
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		st->has_generation = !bpf_map_lookup_elem(fd, &k, &st->info);
		close(fd);
	}
	dp_path(dp, path, sizeof(path), "links");
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		struct moat_dp_iface *v;

		if (e->d_name[0] == '.')
			continue;
		v = realloc(st->ifaces, (size_t)(st->nifaces + 1) * sizeof(*v));
		if (!v)
			break;
		st->ifaces = v;
		dp_iface_state(dp, e->d_name, &st->ifaces[st->nifaces++]);
	}
	if (dir)
		closedir(dir);
	return 0;
}

void moat_dp_status_free(struct moat_dp_status *st)
{
	free(st->ifaces);
	st->ifaces = NULL;
	st->nifaces = 0;
}
