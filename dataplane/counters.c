// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rule counters: one pinned array shared by every generation, a row
 * of nslots counters for each possible CPU (the programs write only
 * their CPU's row) and a last row that only userspace writes, for counts
 * it carries over.  A counter is the sum of its column.
 *
 * It is pinned as "rule_counters".  Before it, the counters were a
 * per-CPU array pinned as "counters".
 * An instance made then is adopted: its running generation still counts
 * there, so reads add that map in, and the first apply, once no program
 * can write it any more, folds its sums into the carry row and unpins it.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp-int.h"

#define COUNTERS_PIN "rule_counters" /* also the map name: no dashes there */
#define LEGACY_PIN "counters"

static uint32_t rows(const struct moat_dp *dp)
{
	return (uint32_t)dp->ncpus + 1;
}

static uint32_t nslots(const struct moat_dp *dp)
{
	return MOAT_SLOT_FIRST_RULE + dp->capacity;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

int dp_counters_open(struct moat_dp *dp, bool create)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	int err;

	dp->legacy_fd = -1;
	err = dp_path(dp, path, sizeof(path), LEGACY_PIN);
	if (err)
		return err;
	dp->legacy_fd = bpf_obj_get(path);
	if (dp->legacy_fd >= 0) {
		err = map_info(dp->legacy_fd, &info);
		if (err)
			return err;
		if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY ||
		    info.value_size != sizeof(struct moat_counter) ||
		    info.max_entries <= MOAT_SLOT_FIRST_RULE)
			return -EINVAL;
		/* the capacity the instance was made with */
		dp->capacity = info.max_entries - MOAT_SLOT_FIRST_RULE;
	}

	/* the programs index it in 32 bits */
	if ((uint64_t)rows(dp) * nslots(dp) > UINT32_MAX)
		return -E2BIG;
	dp->counters_fd = dp_map_get(dp, COUNTERS_PIN, BPF_MAP_TYPE_ARRAY, 4,
				     sizeof(struct moat_counter),
				     rows(dp) * nslots(dp), -1, create);
	if (dp->counters_fd < 0)
		/* read-only, an instance made before: its counts are all there */
		return !create && dp->legacy_fd >= 0 ? 0 : dp->counters_fd;
	/* an adopted map keeps the capacity it was made with */
	err = map_info(dp->counters_fd, &info);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_ARRAY ||
	    info.value_size != sizeof(struct moat_counter) ||
	    info.max_entries % rows(dp) ||
	    info.max_entries / rows(dp) <= MOAT_SLOT_FIRST_RULE)
		return -EINVAL;
	dp->capacity = info.max_entries / rows(dp) - MOAT_SLOT_FIRST_RULE;
	return 0;
}

void dp_counters_close(struct moat_dp *dp)
{
	if (dp->counters_fd >= 0)
		close(dp->counters_fd);
	if (dp->legacy_fd >= 0)
		close(dp->legacy_fd);
	dp->counters_fd = dp->legacy_fd = -1;
}

/*
 * Every key of the array @fd, @n of them, into @keys and @vals (@vsize
 * bytes a key), in batches; how many were read, or -errno.
 */
static int lookup_all(int fd, uint32_t n, uint32_t *keys, void *vals,
		      size_t vsize)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t done = 0, batch;

	while (done < n) {
		uint32_t in = done, outk;

		batch = n - done;
		if (bpf_map_lookup_batch(fd, done ? &in : NULL, &outk, keys + done,
					 (char *)vals + (size_t)done * vsize, &batch,
					 &opts) &&
		    errno != ENOENT)
			return -errno;
		if (!batch)
			break;
		done += batch;
	}
	return (int)done;
}

/* Add the legacy map's sums of every slot to @sum. */
static int legacy_sum(struct moat_dp *dp, struct moat_counter *sum)
{
	uint32_t n = nslots(dp), *keys = calloc(n, sizeof(*keys));
	size_t ncpu = (size_t)dp->ncpus;
	struct moat_counter *raw = calloc((size_t)n * ncpu, sizeof(*raw));
	int got = -ENOMEM;

	if (keys && raw)
		got = lookup_all(dp->legacy_fd, n, keys, raw, ncpu * sizeof(*raw));
	for (size_t i = 0; got > 0 && i < (size_t)got * ncpu; i++) {
		sum[keys[i / ncpu]].packets += raw[i].packets;
		sum[keys[i / ncpu]].bytes += raw[i].bytes;
	}
	free(keys);
	free(raw);
	return got < 0 ? got : 0;
}

int dp_counters_sum(struct moat_dp *dp, struct moat_counter *sum)
{
	uint32_t n = nslots(dp), total = rows(dp) * n, *keys;
	struct moat_counter *raw;
	int got;

	memset(sum, 0, (size_t)n * sizeof(*sum));
	if (dp->legacy_fd >= 0) {
		got = legacy_sum(dp, sum);
		if (got || dp->counters_fd < 0)
			return got;
	}
	keys = calloc(total, sizeof(*keys));
	raw = calloc(total, sizeof(*raw));
	got = keys && raw ? lookup_all(dp->counters_fd, total, keys, raw, sizeof(*raw)) :
			    -ENOMEM;
	for (int i = 0; i < got; i++) {
		sum[keys[i] % n].packets += raw[i].packets;
		sum[keys[i] % n].bytes += raw[i].bytes;
	}
	free(keys);
	free(raw);
	return got < 0 ? got : 0;
}

int dp_counter_slot(struct moat_dp *dp, uint32_t slot, struct moat_counter *c)
{
	struct moat_counter v, *pc = NULL;
	int err = 0;

	memset(c, 0, sizeof(*c));
	if (slot >= nslots(dp))
		return -ERANGE;
	if (dp->legacy_fd >= 0) {
		pc = calloc((size_t)dp->ncpus, sizeof(*pc));
		if (!pc)
			return -ENOMEM;
		if (bpf_map_lookup_elem(dp->legacy_fd, &slot, pc))
			err = -errno;
		for (int i = 0; !err && i < dp->ncpus; i++) {
			c->packets += pc[i].packets;
			c->bytes += pc[i].bytes;
		}
		free(pc);
	}
	for (uint32_t r = 0; !err && dp->counters_fd >= 0 && r < rows(dp); r++) {
		uint32_t k = r * nslots(dp) + slot;

		if (bpf_map_lookup_elem(dp->counters_fd, &k, &v)) {
			err = -errno;
			break;
		}
		c->packets += v.packets;
		c->bytes += v.bytes;
	}
	return err;
}

/*
 * Zero @n slots in every row (and in the legacy map), a batch of keys a
 * syscall: one call a slot cost 10,000 new names some 10 ms.
 */
int dp_counters_zero(struct moat_dp *dp, const uint32_t *slots, size_t n)
{
	enum { BATCH = 1024 };
	size_t nkeys = n * rows(dp), i;
	uint32_t *keys = malloc((nkeys ? nkeys : 1) * sizeof(*keys));
	struct moat_counter *zero = calloc(BATCH > dp->ncpus ? BATCH : (size_t)dp->ncpus,
					   sizeof(*zero));
	int err = 0;

	if (!keys || !zero) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nkeys; i++)
		keys[i] = (uint32_t)(i % rows(dp)) * nslots(dp) + slots[i / rows(dp)];
	for (i = 0; i < nkeys && !err; i += BATCH) {
		uint32_t cnt = nkeys - i < BATCH ? (uint32_t)(nkeys - i) : BATCH;

		if (bpf_map_update_batch(dp->counters_fd, &keys[i], zero, &cnt, NULL))
			err = -errno;
	}
	/* slots the running program does not write: safe to clear */
	for (i = 0; i < n && !err && dp->legacy_fd >= 0; i++)
		if (bpf_map_update_elem(dp->legacy_fd, &slots[i], zero, 0))
			err = -errno;
out:
	free(keys);
	free(zero);
	return err;
}

/*
 * After a switch and its grace period: no program writes the legacy map
 * any more.  Its sums go into the carry row, then it goes.  On failure it
 * stays, and is still read and folded at the next apply.
 */
int dp_counters_fold_legacy(struct moat_dp *dp)
{
	uint32_t n = nslots(dp), *keys = NULL, cnt = n;
	struct moat_counter *sum = NULL, *carry = NULL;
	char path[PATH_MAX];
	int err;

	if (dp->legacy_fd < 0)
		return 0;
	sum = calloc(n, sizeof(*sum));
	carry = calloc(n, sizeof(*carry));
	keys = calloc(n, sizeof(*keys));
	if (!sum || !carry || !keys) {
		err = -ENOMEM;
		goto out;
	}
	err = legacy_sum(dp, sum);
	for (uint32_t s = 0; !err && s < n; s++) {
		keys[s] = (rows(dp) - 1) * n + s;
		if (bpf_map_lookup_elem(dp->counters_fd, &keys[s], &carry[s]))
			err = -errno;
		carry[s].packets += sum[s].packets;
		carry[s].bytes += sum[s].bytes;
	}
	if (!err && bpf_map_update_batch(dp->counters_fd, keys, carry, &cnt, NULL))
		err = -errno;
	if (!err)
		err = dp_path(dp, path, sizeof(path), LEGACY_PIN);
	if (!err && unlink(path))
		err = -errno;
	if (!err) {
		close(dp->legacy_fd);
		dp->legacy_fd = -1;
	}
out:
	free(sum);
	free(carry);
	free(keys);
	return err;
}
