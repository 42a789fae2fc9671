// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening an instance: bpffs, the pin root, and the objects that outlive
 * generations (prog array, counters).  A second moatd, or moatctl, finds
 * them by path and adopts them.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "dp-int.h"

uint64_t dp_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int dp_path(const struct moat_dp *dp, char *buf, size_t n, const char *fmt,
	    ...)
{
	va_list ap;
	int len, more;

	len = snprintf(buf, n, "%s/", dp->root);
	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	more = vsnprintf(buf + len, n - (size_t)len, fmt, ap);
	va_end(ap);
	if (more < 0 || (size_t)(len + more) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int dp_join(char *buf, size_t n, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b + 1 > n)
		return -ENAMETOOLONG;
	memcpy(buf, dir, a);
	buf[a] = '/';
	memcpy(buf + a + 1, name, b + 1);
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/*
 * Mount bpffs where it is missing.  Under `ip netns exec`, /sys is a fresh
 * mount private to that command: pins made there vanish with it, which is
 * why the docs say to enter namespaces with nsenter --net instead.
 */
static int ensure_bpffs(const char *path)
{
	int err;

	if (is_bpffs(path))
		return 0;
	err = mkdir_p(path, 0700);
	if (err)
		return err;
	if (mount("bpf", path, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

int dp_rmtree(const char *dir)
{
	char p[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (dp_join(p, sizeof(p), dir, e->d_name))
			continue;
		if (e->d_type == DT_DIR)
			err = dp_rmtree(p);
		else if (unlink(p))
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !err)
		err = -errno;
	return err;
}

static int create_or_get(struct moat_dp *dp, const char *name,
			 enum bpf_map_type type, uint32_t vsize,
			 uint32_t entries, int inner_fd, bool create)
{
	return dp_map_get(dp, name, type, 4, vsize, entries, inner_fd, create);
}

int dp_map_get(struct moat_dp *dp, const char *name, enum bpf_map_type type,
	       uint32_t ksize, uint32_t vsize, uint32_t entries, int inner_fd,
	       bool create)
{
	return dp_map_get_flags(dp, name, type, ksize, vsize, entries, inner_fd,
				0, create);
}

int dp_map_get_flags(struct moat_dp *dp, const char *name, enum bpf_map_type type,
		     uint32_t ksize, uint32_t vsize, uint32_t entries,
		     int inner_fd, uint32_t flags, bool create)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = (uint32_t)inner_fd,
		    .map_flags = flags);
	char path[PATH_MAX];
	int fd, err;

	err = dp_path(dp, path, sizeof(path), "%s", name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0 || !create)
		return fd >= 0 ? fd : -errno;
	if (inner_fd < 0)
		opts.inner_map_fd = 0;
	fd = bpf_map_create(type, name, ksize, vsize, entries, &opts);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * The flow cache's size (moat_dp_opts.flow_cache).  A CPU's part holds
 * (1 << log) IPv4 buckets and (1 << (log - 1)) IPv6 entries, a line each.
 */
static int flow_cache_log(const struct moat_dp_opts *o, int ncpus,
			  uint32_t *log, bool *autosize)
{
	int want = o ? o->flow_cache : 0;

	*autosize = !want;
	if (want < 0) {
		*log = 0;
		return 0;
	}
	if (want) {
		if (want < MOAT_FC_LOG_MIN || want > MOAT_FC_LOG_MAX)
			return -EINVAL;
		*log = (uint32_t)want;
		return 0;
	}
	*log = MOAT_FC_LOG_DEFAULT;
	while (*log > MOAT_FC_LOG_MIN &&
	       dp_fc_bytes(ncpus, (uint32_t[]){ *log, *log - 1 }) > MOAT_FC_BYTES_MAX)
		(*log)--;
	return 0;
}

static int open_common(const struct moat_dp_opts *o, bool create,
		       struct moat_dp **out)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	struct moat_dp *dp;
	int inner = -1, err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->gens_fd = dp->counters_fd = dp->legacy_fd = dp->sync_fd = dp->gen_fd = -1;
	dp->ct_fd = dp->ct_conf_fd = dp->ct_stats_fd = dp->frags_fd = -1;
	dp->events_fd = dp->ev_stats_fd = dp->fc_sync_fd = dp->fc_stats_fd = -1;
	dp->log_rate = o ? o->log_rate : 0;
	dp->pinned_only = !create;
	snprintf(dp->bpffs, sizeof(dp->bpffs), "%s",
		 o && o->bpffs ? o->bpffs : "/sys/fs/bpf");
	snprintf(dp->instance, sizeof(dp->instance), "%s",
		 o && o->instance ? o->instance : "default");
	dp->capacity = o && o->capacity ? o->capacity : MOAT_DEFAULT_CAPACITY;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ? dp->ncpus : -EINVAL;
		goto fail;
	}
	err = flow_cache_log(o, dp->ncpus, &dp->fc_log, &dp->fc_auto);
	if (err)
		goto fail;
	if (snprintf(dp->root, sizeof(dp->root), "%s/moat/%s", dp->bpffs,
		     dp->instance) >= (int)sizeof(dp->root)) {
		err = -ENAMETOOLONG;
		goto fail;
	}

	if (create) {
		err = ensure_bpffs(dp->bpffs);
		if (err)
			goto fail;
		/* libxdp pins its dispatchers in the same bpffs */
		setenv("LIBXDP_BPFFS", dp->bpffs, 1);
		err = mkdir_p(dp->root, 0700);
		if (err)
			goto fail;
	} else if (access(dp->root, F_OK)) {
		err = errno == EACCES ? -EACCES : -ENOENT;
		goto fail;
	}

	dp->gens_fd = create_or_get(dp, "gens", BPF_MAP_TYPE_PROG_ARRAY, 4, 1,
				    -1, create);
	if (dp->gens_fd < 0) {
		err = dp->gens_fd;
		goto fail;
	}
	if (bpf_obj_get_info_by_fd(dp->gens_fd, &info, &len)) {
		err = -errno;
		goto fail;
	}
	dp->gens_id = info.id;

	err = dp_counters_open(dp, create);
	if (err)
		goto fail;

	if (create) {
		/* updating an array of maps waits for running programs (RCU) */
		inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_sync_in", 4, 4,
				       1, NULL);
		if (inner < 0) {
			err = -errno;
			goto fail;
		}
		dp->sync_fd = create_or_get(dp, "sync",
					    BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 1,
					    inner, true);
		close(inner);
		if (dp->sync_fd < 0) {
			err = dp->sync_fd;
			goto fail;
		}
	}

	err = dp_ct_open(dp, o ? &o->ct : NULL, create);
	if (err)
		goto fail;
	/* verdict logs: absent in pins from before them, which moatctl tolerates */
	dp->events_fd = dp_map_get(dp, "events", BPF_MAP_TYPE_RINGBUF, 0, 0,
				   MOAT_EVENTS_BYTES, -1, create);
	dp->ev_stats_fd = dp_map_get(dp, "ev_stats", BPF_MAP_TYPE_PERCPU_ARRAY,
				     4, 8, MOAT_EVC_MAX, -1, create);
	if (create && (dp->events_fd < 0 || dp->ev_stats_fd < 0)) {
		err = dp->events_fd < 0 ? dp->events_fd : dp->ev_stats_fd;
		goto fail;
	}
	/* the flow cache's statistics: absent in pins from before them, too */
	dp->fc_stats_fd = dp_map_get(dp, "fc_stats", BPF_MAP_TYPE_PERCPU_ARRAY,
				     4, 8, MOAT_FCS_MAX, -1, create);
	if (create && dp->fc_stats_fd < 0) {
		err = dp->fc_stats_fd;
		goto fail;
	}
	err = slotmap_init(&dp->slots, MOAT_SLOT_FIRST_RULE + dp->capacity);
	if (err)
		goto fail;
	err = dp_load_current(dp);
	if (err && err != -ENOENT)
		goto fail;
	*out = dp;
	return 0;
fail:
	moat_dp_close(dp);
	return err;
}

int moat_dp_open(const struct moat_dp_opts *o, struct moat_dp **out)
{
	return open_common(o, true, out);
}

int moat_dp_open_pinned(const struct moat_dp_opts *o, struct moat_dp **out)
{
	return open_common(o, false, out);
}

void moat_dp_close(struct moat_dp *dp)
{
	if (!dp)
		return;
	if (dp->gens_fd >= 0)
		close(dp->gens_fd);
	dp_counters_close(dp);
	if (dp->sync_fd >= 0)
		close(dp->sync_fd);
	if (dp->gen_fd >= 0)
		close(dp->gen_fd);
	dp_ct_close(dp);
	if (dp->events_fd >= 0)
		close(dp->events_fd);
	if (dp->ev_stats_fd >= 0)
		close(dp->ev_stats_fd);
	if (dp->fc_stats_fd >= 0)
		close(dp->fc_stats_fd);
	slotmap_fini(&dp->slots);
	free(dp->ifnames);
	free(dp->ifindex);
	free(dp);
}

const char *moat_dp_pin_root(const struct moat_dp *dp)
{
	return dp->root;
}

int moat_dp_generation_fd(const struct moat_dp *dp)
{
	return dp->gen_fd;
}

int moat_dp_rule_slot(const struct moat_dp *dp, const char *name)
{
	const struct slotent *e = slotmap_find(&dp->slots, name);

	return e ? (int)e->slot : -ENOENT;
}

/* The running generation: current -> gen-N, with its info and names. */
int dp_load_current(struct moat_dp *dp)
{
	struct moat_gen_info gi;
	struct moat_rule_info ri;
	char path[PATH_MAX];
	uint32_t k = 0, i;
	int info_fd = -1, names_fd = -1, err;

	err = dp_path(dp, path, sizeof(path), "current/info");
	if (err)
		return err;
	info_fd = bpf_obj_get(path);
	if (info_fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(info_fd, &k, &gi)) {
		err = -errno;
		goto out;
	}
	dp_path(dp, path, sizeof(path), "current/names");
	names_fd = bpf_obj_get(path);
	if (names_fd < 0) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < gi.nrules; i++) {
		if (bpf_map_lookup_elem(names_fd, &i, &ri)) {
			err = -errno;
			goto out;
		}
		ri.name[MOAT_NAME_MAX] = '\0';
		err = slotmap_add(&dp->slots, ri.name, ri.slot, ri.applied_ns);
		if (!err && ri.over_slot) {
			char oname[MOAT_NAME_MAX + 1];

			dp_over_name(ri.name, oname);
			err = slotmap_add(&dp->slots, oname, ri.over_slot, ri.applied_ns);
		}
		if (err)
			goto out;
	}
	dp_path(dp, path, sizeof(path), "current/prog");
	dp->gen_fd = bpf_obj_get(path);
	dp->generation = gi.generation;
	err = 0;
out:
	if (info_fd >= 0)
		close(info_fd);
	if (names_fd >= 0)
		close(names_fd);
	return err;
}
