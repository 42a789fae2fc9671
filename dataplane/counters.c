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
 *
 * A counter is not all in this map: the flow cache's entries count their
 * flows' frames themselves (struct moat_fc4.cnt) and move the counts
 * here when an entry is taken by another flow or fills, and the apply
 * moves the rest once their generation retires.  A read adds the running
 * generation's entries, with the programs' moves held off meanwhile
 * (struct moat_fc_sync), so that no count is seen in both places or in
 * neither.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dp-int.h"

#define COUNTERS_PIN "rule_counters" /* also the map name: no dashes there */
#define LEGACY_PIN "counters"
#define FC_SYNC_PIN "fc_sync"

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

static size_t fc_sync_bytes(const struct moat_dp *dp)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (size_t)(1 + dp->ncpus) * sizeof(struct moat_fc_sync);

	return (n + page - 1) / page * page;
}

/*
 * The flow cache's sync words (struct moat_fc_sync), mapped.  Pins from
 * before the flow cache counted have none, and nothing to wait for.
 */
static int fc_sync_open(struct moat_dp *dp, bool create)
{
	struct bpf_map_info info;
	void *p;
	int err;

	dp->fc_sync_fd = dp_map_get_flags(dp, FC_SYNC_PIN, BPF_MAP_TYPE_ARRAY, 4,
					  sizeof(struct moat_fc_sync),
					  (uint32_t)dp->ncpus + 1, -1,
					  BPF_F_MMAPABLE, create);
	if (dp->fc_sync_fd < 0)
		return create ? dp->fc_sync_fd : 0;
	err = map_info(dp->fc_sync_fd, &info);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_ARRAY || !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size != sizeof(struct moat_fc_sync) ||
	    info.max_entries != (uint32_t)dp->ncpus + 1)
		return -EINVAL;
	p = mmap(NULL, fc_sync_bytes(dp), PROT_READ | PROT_WRITE, MAP_SHARED,
		 dp->fc_sync_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	dp->fc_sync = p;
	return 0;
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
	return fc_sync_open(dp, create);
}

/* Let go of a flow cache map a reader mapped (it may be retiring). */
static void fc_view_drop(struct dp_fc_view *v)
{
	if (v->id)
		munmap((void *)v->p, v->len);
	*v = (struct dp_fc_view){ 0 };
}

static void fc_views_drop(struct moat_dp *dp)
{
	fc_view_drop(&dp->fc_view[0]);
	fc_view_drop(&dp->fc_view[1]);
}

void dp_counters_close(struct moat_dp *dp)
{
	fc_views_drop(dp);
	if (dp->counters_fd >= 0)
		close(dp->counters_fd);
	if (dp->legacy_fd >= 0)
		close(dp->legacy_fd);
	if (dp->fc_sync)
		munmap(dp->fc_sync, fc_sync_bytes(dp));
	if (dp->fc_sync_fd >= 0)
		close(dp->fc_sync_fd);
	dp->counters_fd = dp->legacy_fd = dp->fc_sync_fd = -1;
	dp->fc_sync = NULL;
}

int dp_read_lock(struct moat_dp *dp)
{
	int fd = open(dp->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

void dp_read_unlock(int lock)
{
	if (lock >= 0)
		close(lock); /* and with it the lock */
}

/*
 * Hold off the programs' moves of counts out of the flow cache: set the
 * flag, then wait until no CPU is inside a move.  A move is a few stores
 * in an XDP program, which does not sleep; a CPU still odd after a
 * second means the sync words are not what this code thinks.
 */
static int fc_freeze(struct moat_dp *dp)
{
	struct timespec t0, t;

	if (!dp->fc_sync)
		return 0;
	__atomic_store_n(&dp->fc_sync[0].v, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int c = 1; c <= dp->ncpus; c++) {
		while (__atomic_load_n(&dp->fc_sync[c].v, __ATOMIC_ACQUIRE) & 1) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec > 1) {
				__atomic_store_n(&dp->fc_sync[0].v, 0, __ATOMIC_RELEASE);
				return -ETIMEDOUT;
			}
			sched_yield();
		}
	}
	return 0;
}

static void fc_thaw(struct moat_dp *dp)
{
	if (dp->fc_sync)
		__atomic_store_n(&dp->fc_sync[0].v, 0, __ATOMIC_RELEASE);
}

/* The slot an entry's answer counts in (as moat_fc_fold() does). */
static uint32_t fc_slot(uint64_t match)
{
	return match == MOAT_NO_MATCH ? MOAT_SLOT_POLICY :
					MOAT_VERDICT_SLOT(MOAT_MATCH_VERDICT(match));
}

static void fc_add1(struct moat_counter *sum, uint32_t n, uint32_t only,
		    uint64_t match, uint64_t cnt)
{
	uint32_t slot;

	if (!cnt)
		return;
	slot = fc_slot(match);
	if (only != UINT32_MAX) {
		if (slot != only)
			return;
		slot = 0;
	} else if (slot >= n) {
		return;
	}
	sum[slot].packets += MOAT_FC_PACKETS(cnt);
	sum[slot].bytes += MOAT_FC_BYTES(cnt);
}

/*
 * Add the counts in the flow cache map pinned at @dir/@name to @sum: to
 * every slot's, or with @only to sum[0] for that slot alone.  A map that
 * is not there (a family without a cache is still pinned) adds nothing.
 * The mapping stays in dp->fc_view for the next read of the same map:
 * mapping tens of MiB again for every read cost more than the scan.
 */
static int fc_add_map(struct moat_dp *dp, const char *dir, const char *name,
		      struct moat_counter *sum, uint32_t only)
{
	struct dp_fc_view *v = &dp->fc_view[strcmp(name, "fc4") ? 1 : 0];
	struct bpf_map_info info;
	char path[PATH_MAX];
	size_t len, page = (size_t)sysconf(_SC_PAGESIZE);
	const void *p;
	int fd, err;

	if (dp_join(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = errno;
		if (err != ENOENT)
			return -err;
		/* what is mapped is an older generation's: not ours to hold */
		fc_view_drop(v);
		return 0;
	}
	err = map_info(fd, &info);
	if (!err && (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != 64 ||
		     !(info.map_flags & BPF_F_MMAPABLE)))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	len = ((size_t)info.max_entries * 64 + page - 1) / page * page;
	if (v->id != info.id || v->len != len) {
		p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			err = -errno;
			close(fd);
			return err;
		}
		fc_view_drop(v);
		*v = (struct dp_fc_view){ info.id, p, len };
	}
	close(fd);
	p = v->p;
	if (!strcmp(name, "fc4")) {
		const struct moat_fc4_bucket *b = p;

		for (uint32_t i = 0; i < info.max_entries; i++)
			for (int e = 0; e < 2; e++)
				fc_add1(sum, nslots(dp), only, b[i].e[e].match,
					__atomic_load_n(&b[i].e[e].cnt, __ATOMIC_RELAXED));
	} else {
		const struct moat_fc6 *e = p;

		for (uint32_t i = 0; i < info.max_entries; i++)
			fc_add1(sum, nslots(dp), only, e[i].match,
				__atomic_load_n(&e[i].cnt, __ATOMIC_RELAXED));
	}
	return 0;
}

static int fc_add(struct moat_dp *dp, const char *dir, struct moat_counter *sum,
		  uint32_t only)
{
	int err = fc_add_map(dp, dir, "fc4", sum, only);

	return err ? err : fc_add_map(dp, dir, "fc6", sum, only);
}

/* The running generation's pins (absent before the first apply). */
static int current_dir(struct moat_dp *dp, char *buf, size_t n)
{
	return dp_path(dp, buf, n, "current");
}

/*
 * Read the counters with the running generation's flow cache added: under
 * the read lock, with the programs' moves held off.
 */
static int read_fc(struct moat_dp *dp, struct moat_counter *sum, uint32_t only,
		   int (*rows_read)(struct moat_dp *, struct moat_counter *, uint32_t))
{
	char dir[PATH_MAX];
	int lock, err;

	lock = dp_read_lock(dp);
	if (lock < 0)
		return lock;
	err = fc_freeze(dp);
	if (!err)
		err = rows_read(dp, sum, only);
	if (!err)
		err = current_dir(dp, dir, sizeof(dir));
	if (!err)
		err = fc_add(dp, dir, sum, only);
	fc_thaw(dp);
	dp_read_unlock(lock);
	return err;
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

/* Every slot's rows into @sum, zeroed first. */
static int rows_sum(struct moat_dp *dp, struct moat_counter *sum, uint32_t only)
{
	uint32_t n = nslots(dp), total = rows(dp) * n, *keys;
	struct moat_counter *raw;
	int got;

	(void)only;
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

/* The rows of @slot into @c, zeroed first. */
static int rows_slot(struct moat_dp *dp, struct moat_counter *c, uint32_t slot)
{
	struct moat_counter v, *pc = NULL;
	int err = 0;

	memset(c, 0, sizeof(*c));
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

int dp_counters_sum(struct moat_dp *dp, struct moat_counter *sum)
{
	return read_fc(dp, sum, UINT32_MAX, rows_sum);
}

int dp_counter_slot(struct moat_dp *dp, uint32_t slot, struct moat_counter *c)
{
	if (slot >= nslots(dp)) {
		memset(c, 0, sizeof(*c));
		return -ERANGE;
	}
	return read_fc(dp, c, slot, rows_slot);
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

/* Add @sum (a counter a slot) to the carry row: its nonzero slots only. */
static int carry_add(struct moat_dp *dp, const struct moat_counter *sum)
{
	uint32_t n = nslots(dp), *keys = NULL, cnt = 0;
	struct moat_counter *carry = NULL;
	int err = 0;

	for (uint32_t s = 0; s < n; s++)
		cnt += sum[s].packets || sum[s].bytes;
	if (!cnt)
		return 0;
	keys = calloc(cnt, sizeof(*keys));
	carry = calloc(cnt, sizeof(*carry));
	if (!keys || !carry) {
		err = -ENOMEM;
		goto out;
	}
	cnt = 0;
	for (uint32_t s = 0; !err && s < n; s++) {
		if (!sum[s].packets && !sum[s].bytes)
			continue;
		keys[cnt] = (rows(dp) - 1) * n + s;
		if (bpf_map_lookup_elem(dp->counters_fd, &keys[cnt], &carry[cnt]))
			err = -errno;
		carry[cnt].packets += sum[s].packets;
		carry[cnt].bytes += sum[s].bytes;
		cnt++;
	}
	if (!err && bpf_map_update_batch(dp->counters_fd, keys, carry, &cnt, NULL))
		err = -errno;
out:
	free(keys);
	free(carry);
	return err;
}

/*
 * After a switch and its grace period: no program writes the legacy map
 * any more.  Its sums go into the carry row, then it goes.  On failure it
 * stays, and is still read and folded at the next apply.
 */
int dp_counters_fold_legacy(struct moat_dp *dp)
{
	struct moat_counter *sum;
	char path[PATH_MAX];
	int err;

	if (dp->legacy_fd < 0)
		return 0;
	sum = calloc(nslots(dp), sizeof(*sum));
	if (!sum)
		return -ENOMEM;
	err = legacy_sum(dp, sum);
	if (!err)
		err = carry_add(dp, sum);
	free(sum);
	if (!err)
		err = dp_path(dp, path, sizeof(path), LEGACY_PIN);
	if (!err && unlink(path))
		err = -errno;
	if (!err) {
		close(dp->legacy_fd);
		dp->legacy_fd = -1;
	}
	return err;
}

/*
 * Once a generation has retired (after the switch and its grace period),
 * the counts still in its flow cache go into the carry row.  With the
 * read lock held: a reader must not see them both there and in the
 * entries.
 */
int dp_counters_fold_fc(struct moat_dp *dp, const char *dir)
{
	struct moat_counter *sum = calloc(nslots(dp), sizeof(*sum));
	int err;

	if (!sum)
		return -ENOMEM;
	err = fc_add(dp, dir, sum, UINT32_MAX);
	/* its maps go once their pins do: hold them no longer */
	fc_views_drop(dp);
	if (!err)
		err = carry_add(dp, sum);
	free(sum);
	return err;
}
