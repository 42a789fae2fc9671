// SPDX-License-Identifier: GPL-2.0-only
/*
 * The conntrack table from userspace: making and adopting its maps,
 * attaching the TC egress program that learns the host's flows, and
 * reading, filtering and flushing flows for moatctl.
 *
 *   <root>/ct         LRU hash of struct moat_ct_key -> struct moat_ct_val
 *   <root>/ct_conf    the timeouts (struct moat_ct_conf)
 *   <root>/ct_stats   per-CPU counters (enum moat_ct_stat)
 *
 * The egress program sits in each protected interface's clsact egress
 * hook as a tc filter with moat's handle and priority, where it stays
 * when moatd exits, like the XDP attachment.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dp-int.h"
#include "moat_egress.skel.h"

#define MOAT_TC_HANDLE 0x6d6f /* "mo" */
#define MOAT_TC_PRIO 0x6d6f

int dp_ct_open(struct moat_dp *dp, const struct moat_ct_opts *o, bool create)
{
	struct moat_ct_conf conf = { 0 };
	uint32_t k = 0, max;
	int i;

	dp->ct_fd = dp->ct_conf_fd = dp->ct_stats_fd = dp->frags_fd = -1;
	if (create && (!o || !o->enabled)) {
		/*
		 * Tracking turned off: a table from an earlier run goes (the
		 * running generation holds it until the next apply).
		 */
		static const char *const pins[] = { "ct", "ct_conf", "ct_stats", "frags" };
		char path[PATH_MAX];

		for (i = 0; o && o->off && i < 4; i++)
			if (!dp_path(dp, path, sizeof(path), "%s", pins[i]))
				unlink(path);
		return 0;
	}
	max = o && o->max ? o->max : MOAT_CT_DEFAULT_MAX;
	dp->ct_fd = dp_map_get(dp, "ct", BPF_MAP_TYPE_LRU_HASH,
			       sizeof(struct moat_ct_key),
			       sizeof(struct moat_ct_val), max, -1, create);
	if (dp->ct_fd < 0) {
		int err = dp->ct_fd;

		dp->ct_fd = -1;
		/* moatctl on an instance that does not track flows */
		return !create && err == -ENOENT ? 0 : err;
	}
	dp->ct_conf_fd = dp_map_get(dp, "ct_conf", BPF_MAP_TYPE_ARRAY, 4,
				    sizeof(struct moat_ct_conf), 1, -1, create);
	if (dp->ct_conf_fd < 0)
		return dp->ct_conf_fd;
	dp->ct_stats_fd = dp_map_get(dp, "ct_stats", BPF_MAP_TYPE_PERCPU_ARRAY,
				     4, 8, MOAT_CTC_MAX, -1, create);
	if (dp->ct_stats_fd < 0)
		return dp->ct_stats_fd;
	dp->frags_fd = dp_map_get(dp, "frags", BPF_MAP_TYPE_LRU_HASH,
				  sizeof(struct moat_frag_key),
				  sizeof(struct moat_frag_val), MOAT_FRAGS_MAX, -1,
				  create);
	if (dp->frags_fd < 0 && (create || dp->frags_fd != -ENOENT))
		return dp->frags_fd;
	if (!create)
		return 0;
	for (i = 0; i < MOAT_CTT_MAX; i++)
		conf.timeout_ns[i] = (uint64_t)(o->timeout_s[i] ? o->timeout_s[i] :
						moat_ct_default_timeout[i]) *
				     1000000000ull;
	return bpf_map_update_elem(dp->ct_conf_fd, &k, &conf, 0) ? -errno : 0;
}

void dp_ct_close(struct moat_dp *dp)
{
	if (dp->ct_fd >= 0)
		close(dp->ct_fd);
	if (dp->ct_conf_fd >= 0)
		close(dp->ct_conf_fd);
	if (dp->ct_stats_fd >= 0)
		close(dp->ct_stats_fd);
	if (dp->frags_fd >= 0)
		close(dp->frags_fd);
	dp->ct_fd = dp->ct_conf_fd = dp->ct_stats_fd = dp->frags_fd = -1;
}

/* moat's filter in the clsact egress hook of @ifindex. */
static void tc_egress(int ifindex, struct bpf_tc_hook *h, struct bpf_tc_opts *o)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = BPF_TC_EGRESS;
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = MOAT_TC_HANDLE;
	o->priority = MOAT_TC_PRIO;
}



uint32_t moat_dp_ct_max(const struct moat_dp *dp)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	if (dp->ct_fd < 0 || bpf_obj_get_info_by_fd(dp->ct_fd, &info, &len))
		return 0;
	return info.max_entries;
}

int dp_ct_attach(struct moat_dp *dp, int ifindex)
{
	struct moat_egress *skel;
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	int err;

	/* not tracking: no learning either, even from an earlier run */
	if (dp->ct_fd < 0)
		return dp_ct_detach(dp, ifindex);
	skel = moat_egress__open();
	if (!skel)
		return -errno;
	if ((err = bpf_map__reuse_fd(skel->maps.ct, dp->ct_fd)) ||
	    (err = bpf_map__reuse_fd(skel->maps.ct_conf, dp->ct_conf_fd)) ||
	    (err = bpf_map__reuse_fd(skel->maps.ct_stats, dp->ct_stats_fd)) ||
	    (dp->frags_fd >= 0 &&
	     (err = bpf_map__reuse_fd(skel->maps.frags, dp->frags_fd))) ||
	    (err = moat_egress__load(skel)))
		goto out;
	tc_egress(ifindex, &h, &o);
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		goto out;
	o.prog_fd = bpf_program__fd(skel->progs.moat_egress);
	o.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&h, &o);
out:
	moat_egress__destroy(skel);
	return err;
}

/*
 * An interface without a clsact qdisc has no egress program to find or
 * remove; libbpf would print the kernel's "Parent Qdisc doesn't exists"
 * for it.  Asking quietly: the caller says what matters.
 */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Detach (@query false) or query moat's egress filter, quietly. */
static int tc_quietly(int ifindex, bool query, uint32_t *prog_id)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	int err;

	tc_egress(ifindex, &h, &o);
	err = query ? bpf_tc_query(&h, &o) : bpf_tc_detach(&h, &o);
	libbpf_set_print(old);
	if (prog_id)
		*prog_id = err ? 0 : o.prog_id;
	return err;
}

int dp_ct_detach(struct moat_dp *dp, int ifindex)
{
	int err = tc_quietly(ifindex, false, NULL);

	(void)dp;
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

uint32_t dp_ct_egress_id(const struct moat_dp *dp, int ifindex)
{
	uint32_t id;

	(void)dp;
	tc_quietly(ifindex, true, &id);
	return id;
}

/* Call @fn on every entry, read in batches. */
static int ct_walk(struct moat_dp *dp,
		   int (*fn)(const struct moat_ct_key *, const struct moat_ct_val *,
			     void *),
		   void *arg)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct moat_ct_key *keys;
	struct moat_ct_val *vals;
	struct moat_ct_key in, out;
	bool first = true;
	int err = 0;

	keys = calloc(BATCH, sizeof(*keys));
	vals = calloc(BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto done;
	}
	for (;;) {
		uint32_t n = BATCH, i;
		int ret;

		ret = bpf_map_lookup_batch(dp->ct_fd, first ? NULL : &in, &out,
					   keys, vals, &n, &opts);
		if (ret && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (i = 0; i < n && !err; i++)
			err = fn(&keys[i], &vals[i], arg);
		if (ret || err)
			break; /* ENOENT: that was the last batch */
		in = out;
		first = false;
	}
done:
	free(keys);
	free(vals);
	return err;
}

static void flow_of(const struct moat_ct_key *k, const struct moat_ct_val *v,
		    uint64_t now, const struct moat_ct_conf *conf,
		    struct moat_ct_flow *f)
{
	const __u64 *oa = v->orig_b ? k->b : k->a, *ra = v->orig_b ? k->a : k->b;
	uint64_t to = conf->timeout_ns[moat_ct_class(k->fam6, k->proto, v->state)];

	memset(f, 0, sizeof(*f));
	f->family = k->fam6 ? AF_INET6 : AF_INET;
	f->proto = k->proto;
	if (k->fam6) {
		memcpy(f->src, oa, 16);
		memcpy(f->dst, ra, 16);
	} else {
		uint32_t s = htonl((uint32_t)oa[0]), d = htonl((uint32_t)ra[0]);

		memcpy(f->src, &s, 4);
		memcpy(f->dst, &d, 4);
	}
	f->sport = v->orig_b ? k->pb : k->pa;
	f->dport = v->orig_b ? k->pa : k->pb;
	f->state = v->state;
	f->flags = v->flags;
	f->ifindex = v->ifindex;
	f->packets_orig = v->packets[v->orig_b & 1];
	f->packets_reply = v->packets[!v->orig_b];
	f->age_ns = now > v->created_ns ? now - v->created_ns : 0;
	f->idle_ns = now > v->seen_ns ? now - v->seen_ns : 0;
	f->expires_ns = f->idle_ns < to ? to - f->idle_ns : 0;
}

static bool prefix_has(const struct moat_prefix *p, int family,
		       const uint8_t *addr)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if ((p->family == AF_INET) != (family == AF_INET))
		return false;
	if (memcmp(p->addr, addr, full))
		return false;
	return !rest ||
	       !((p->addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest));
}

bool moat_ct_filter_match(const struct moat_ct_filter *f,
			  const struct moat_ct_flow *x)
{
	if (!f)
		return true;
	if (f->has_addr && !prefix_has(&f->addr, x->family, x->src) &&
	    !prefix_has(&f->addr, x->family, x->dst))
		return false;
	if (f->port >= 0 && x->sport != f->port && x->dport != f->port)
		return false;
	if (f->proto >= 0 && x->proto != f->proto)
		return false;
	return f->state < 0 || x->state == f->state;
}

struct list_ctx {
	const struct moat_ct_filter *f;
	struct moat_ct_conf conf;
	uint64_t now;
	struct moat_ct_flow *v;
	size_t n, cap;
	bool flush;
	struct moat_ct_key *keys; /* for flush: the keys to remove */
	size_t nkeys, capkeys;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;

	if (n < *cap)
		return 0;
	nv = realloc(*v, (*cap ? *cap * 2 : 256) * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = *cap ? *cap * 2 : 256;
	return 0;
}

/* A flow the filter selects: kept as a flow (list) or as a key (flush). */
static int select_one(const struct moat_ct_key *k, const struct moat_ct_val *v,
		      void *arg)
{
	struct list_ctx *c = arg;
	struct moat_ct_flow fl;

	flow_of(k, v, c->now, &c->conf, &fl);
	if (!moat_ct_filter_match(c->f, &fl))
		return 0;
	if (c->flush) {
		if (grow((void **)&c->keys, &c->capkeys, c->nkeys, sizeof(*c->keys)))
			return -ENOMEM;
		c->keys[c->nkeys++] = *k;
		return 0;
	}
	if (grow((void **)&c->v, &c->cap, c->n, sizeof(*c->v)))
		return -ENOMEM;
	c->v[c->n++] = fl;
	return 0;
}

static int ctx_init(struct moat_dp *dp, const struct moat_ct_filter *f,
		    struct list_ctx *c)
{
	uint32_t k = 0;

	memset(c, 0, sizeof(*c));
	c->f = f;
	c->now = dp_now_ns(CLOCK_MONOTONIC);
	if (dp->ct_fd < 0)
		return -ENOENT;
	return bpf_map_lookup_elem(dp->ct_conf_fd, &k, &c->conf) ? -errno : 0;
}

int moat_dp_ct_list(struct moat_dp *dp, const struct moat_ct_filter *f,
		    struct moat_ct_flow **out, size_t *n)
{
	struct list_ctx c;
	int err = ctx_init(dp, f, &c);

	if (!err)
		err = ct_walk(dp, select_one, &c);
	if (err) {
		free(c.v);
		return err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* Add @n to a per-CPU counter, on the first CPU's copy. */
static int stat_add(struct moat_dp *dp, uint32_t idx, uint64_t n)
{
	uint64_t *v = calloc((size_t)dp->ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->ct_stats_fd, &idx, v))
		err = -errno;
	v[0] += n;
	if (!err && bpf_map_update_elem(dp->ct_stats_fd, &idx, v, 0))
		err = -errno;
	free(v);
	return err;
}

int moat_dp_ct_flush(struct moat_dp *dp, const struct moat_ct_filter *f,
		     size_t *removed)
{
	struct list_ctx c;
	size_t i, gone = 0;
	int err = ctx_init(dp, f, &c);

	*removed = 0;
	c.flush = true;
	if (!err)
		err = ct_walk(dp, select_one, &c);
	for (i = 0; !err && i < c.nkeys; i++) {
		if (!bpf_map_delete_elem(dp->ct_fd, &c.keys[i]))
			gone++;
		else if (errno != ENOENT) /* gone already: expired or evicted */
			err = -errno;
	}
	if (gone)
		stat_add(dp, MOAT_CTC_FLUSHED, gone);
	free(c.keys);
	*removed = gone;
	return err;
}

/* The kernel's own count of a map's memory (/proc fdinfo "memlock"). */
static uint64_t map_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int count_one(const struct moat_ct_key *k, const struct moat_ct_val *v,
		     void *arg)
{
	(void)k;
	(void)v;
	(*(uint64_t *)arg)++;
	return 0;
}

int dp_percpu_sum(struct moat_dp *dp, int fd, uint32_t n, uint64_t *sum)
{
	uint64_t *v;

	memset(sum, 0, n * sizeof(*sum));
	if (fd < 0)
		return -ENOENT;
	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &i, v))
			continue;
		for (int c = 0; c < dp->ncpus; c++)
			sum[i] += v[c];
	}
	free(v);
	return 0;
}

int moat_dp_ct_counters(struct moat_dp *dp, uint64_t stat[MOAT_CTC_MAX])
{
	return dp_percpu_sum(dp, dp->ct_stats_fd, MOAT_CTC_MAX, stat);
}

int moat_dp_ct_status(struct moat_dp *dp, struct moat_dp_ct_status *st)
{
	struct bpf_map_info info = {};
	struct moat_ct_conf conf;
	uint32_t len = sizeof(info), i, k = 0;
	uint64_t made;
	int err;

	memset(st, 0, sizeof(*st));
	if (dp->ct_fd < 0)
		return 0;
	st->enabled = true;
	if (bpf_obj_get_info_by_fd(dp->ct_fd, &info, &len))
		return -errno;
	st->max = info.max_entries;
	if (!bpf_map_lookup_elem(dp->ct_conf_fd, &k, &conf))
		for (i = 0; i < MOAT_CTT_MAX; i++)
			st->timeout_s[i] = (uint32_t)(conf.timeout_ns[i] / 1000000000ull);
	err = moat_dp_ct_counters(dp, st->stat);
	if (err)
		return err;
	err = ct_walk(dp, count_one, &st->entries);
	if (err)
		return err;
	made = st->stat[MOAT_CTC_CREATED];
	/* entries remade over an expired or closed flow are not new elements */
	if (made > st->stat[MOAT_CTC_FLUSHED] + st->entries)
		st->evicted = made - st->stat[MOAT_CTC_FLUSHED] - st->entries;
	/* an LRU hash is preallocated: what the kernel charges for it is all of it */
	st->table_bytes = map_memlock(dp->ct_fd);
	st->bytes_per_flow = st->max ? st->table_bytes / st->max : 0;
	return 0;
}
