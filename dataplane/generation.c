// SPDX-License-Identifier: GPL-2.0-only
/*
 * Applying a ruleset: compile, load a fresh copy of the firewall program
 * with maps sized for this ruleset, fill them, pin them as gen-N, and
 * publish with one prog-array update.  Until that update nothing that runs
 * has changed, so every failure before it leaves the old generation as it
 * was; after it, only cleanup remains.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "dp-int.h"
#include "moat_kern_user.h"
#include "moat_fw.skel.h"

/* Copy @n bytes into an mmapable array map before it is published. */
static int fill_map(struct bpf_map *m, const void *src, size_t n)
{
	size_t sz = (size_t)bpf_map__value_size(m) * bpf_map__max_entries(m);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	sz = (sz + (size_t)page - 1) & ~((size_t)page - 1);
	if (!n)
		return 0; /* a fresh map is zeroed */
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return -errno;
	memcpy(p, src, n);
	munmap(p, sz);
	return 0;
}

/* u32 tables are stored in 64-byte lines; at least one. */
static uint32_t lines(size_t n)
{
	return n ? (uint32_t)((n + MOAT_LINE_WORDS - 1) / MOAT_LINE_WORDS) : 1;
}

/* Slot @kind of rule @r: 0 its own, 1 its over-limit count (NULL: none). */
static const char *slot_name(const struct moat_rule *r, int kind,
			     char buf[MOAT_NAME_MAX + 1])
{
	if (!kind)
		return r->name;
	if (!r->limit.rate)
		return NULL;
	dp_over_name(r->name, buf);
	return buf;
}

/* Slots given to new names, zeroed together once all are placed. */
struct fresh_slots {
	uint32_t *v;
	size_t n;
};

/*
 * @keep: give @name its slot of the running ruleset, if it has one;
 * otherwise a free slot, to be zeroed, if it has none.  @name NULL:
 * nothing.
 */
static int place_slot(struct moat_dp *dp, struct slotmap *next,
		      const char *name, uint32_t *slot, bool keep, uint64_t now,
		      struct fresh_slots *fresh)
{
	const struct slotent *e = name ? slotmap_find(&dp->slots, name) : NULL;
	int err;

	if (!name || keep != (e != NULL))
		return 0;
	if (e) {
		*slot = e->slot;
		return slotmap_add(next, e->name, e->slot, e->applied_ns);
	}
	err = slotmap_take_free(next, &dp->slots, slot);
	if (!err)
		err = slotmap_add(next, name, *slot, now);
	if (!err)
		fresh->v[fresh->n++] = *slot;
	return err;
}

/*
 * Slots for the new ruleset: names that stay keep theirs; new names get a
 * slot that neither ruleset uses, zeroed, since the running program may
 * still count into the slots of the names it has.  A rule with a rate
 * limit has a second slot, for what goes over it, under dp_over_name().
 * Names are rs's names, then the over-limit names: @slots has nrules
 * entries, @over as many (0 where there is no limit).
 */
static int assign_slots(struct moat_dp *dp, const struct moat_ruleset *rs,
			struct slotmap *next, uint32_t *slots, uint32_t *over,
			uint64_t now, struct moat_diags *d)
{
	size_t i, nslots = rs->nrules;
	char oname[MOAT_NAME_MAX + 1];
	struct fresh_slots fresh = { 0 };
	int err, keep, kind;

	for (i = 0; i < rs->nrules; i++)
		nslots += rs->rules[i].limit.rate != 0;
	if (nslots > dp->capacity)
		return moat_diag_add(d, MOAT_ERROR, 0, 0,
				     "over capacity: %zu rules and limits, this data plane holds %u (raise 'capacity' in moatd.conf and restart with the interfaces detached)",
				     nslots, dp->capacity),
		       -E2BIG;
	err = slotmap_init(next, dp->slots.nslots);
	if (err)
		return err;
	fresh.v = calloc(nslots + 1, sizeof(*fresh.v));
	if (!fresh.v)
		return -ENOMEM;
	/*
	 * Names that stay keep their slots first, so that no new name takes
	 * one; then the new names, each with a slot zeroed for it.
	 */
	for (keep = 1; keep >= 0 && !err; keep--)
		for (kind = 0; kind < 2 && !err; kind++)
			for (i = 0; i < rs->nrules && !err; i++)
				err = place_slot(dp, next, slot_name(&rs->rules[i], kind, oname),
						 kind ? &over[i] : &slots[i], keep, now, &fresh);
	if (!err)
		err = dp_counters_zero(dp, fresh.v, fresh.n);
	free(fresh.v);
	if (err == -EEXIST)
		moat_diag_add(d, MOAT_ERROR, 0, 0, "duplicate rule name");
	if (err == -ENOSPC)
		moat_diag_add(d, MOAT_ERROR, 0, 0,
			      "no free counter slot: the running ruleset's %u rules and limits keep theirs until the switch, and its new names need more than the %u left of capacity %u (apply in two smaller steps, or raise 'capacity' in moatd.conf and restart with the interfaces detached)",
			      dp->slots.used, dp->capacity - dp->slots.used,
			      dp->capacity);
	return err;
}

/* The names and info maps: what moatctl reads without moatd. */
static int pin_meta(struct moat_dp *dp, const char *dir,
		    const struct moat_ruleset *rs, const struct slotmap *next,
		    const uint32_t *slots, const uint32_t *over,
		    const struct moat_image *img, const struct moat_gen_info *gi)
{
	LIBBPF_OPTS(bpf_map_create_opts, mmapable, .map_flags = BPF_F_MMAPABLE);
	/* an array's values are 8-byte aligned; a mapping, whole pages */
	const size_t stride = (sizeof(struct moat_rule_info) + 7) & ~(size_t)7;
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t vlen = (rs->nrules * stride + page - 1) & ~(page - 1);
	char path[PATH_MAX];
	struct moat_rule_info ri;
	uint32_t i, k = 0;
	uint8_t *v;
	int nfd, ifd, err = 0;

	nfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_names", 4, sizeof(ri),
			     rs->nrules ? (uint32_t)rs->nrules : 1, &mmapable);
	ifd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_info", 4, sizeof(*gi), 1,
			     NULL);
	if (nfd < 0 || ifd < 0) {
		err = -errno;
		goto out;
	}
	/* written through a mapping: a syscall a rule cost 10,000 rules 5 ms */
	v = rs->nrules ? mmap(NULL, vlen, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, 0) :
			 NULL;
	if (v == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < rs->nrules; i++) {
		const struct slotent *e = slotmap_find(next, rs->rules[i].name);

		memset(&ri, 0, sizeof(ri));
		/* a copy, not a format: 100,000 of them */
		memcpy(ri.name, rs->rules[i].name,
		       strnlen(rs->rules[i].name, sizeof(ri.name) - 1));
		ri.slot = slots[i];
		ri.action = rs->rules[i].action == MOAT_DROP;
		ri.applied_ns = e ? e->applied_ns : 0;
		ri.over_slot = over[i];
		ri.flags = img->rulex ? img->rulex[i].flags : 0;
		memcpy(v + (size_t)i * stride, &ri, sizeof(ri));
	}
	if (v)
		munmap(v, vlen);
	if (bpf_map_update_elem(ifd, &k, gi, 0)) {
		err = -errno;
		goto out;
	}
	err = dp_join(path, sizeof(path), dir, "names");
	if (!err && bpf_obj_pin(nfd, path))
		err = -errno;
	if (err)
		goto out;
	err = dp_join(path, sizeof(path), dir, "info");
	if (!err && bpf_obj_pin(ifd, path))
		err = -errno;
out:
	if (nfd >= 0)
		close(nfd);
	if (ifd >= 0)
		close(ifd);
	return err;
}

/*
 * The generation's program: moat_fw, or moat_fw_ct where flows are
 * tracked (bpf/moat_fw.bpf.c); the other is not loaded.
 */
static struct bpf_program *gen_prog(const struct moat_fw *skel)
{
	return skel->rodata->layout.ct ? skel->progs.moat_fw_ct :
					 skel->progs.moat_fw;
}

static int pin_generation(struct moat_fw *skel, const char *dir)
{
	struct { const char *name; int fd; } pins[] = {
		{ "prog", bpf_program__fd(gen_prog(skel)) },
		{ "trie", bpf_map__fd(skel->maps.trie) },
		{ "ports", bpf_map__fd(skel->maps.ports) },
		{ "term4", bpf_map__fd(skel->maps.term4) },
		{ "term6", bpf_map__fd(skel->maps.term6) },
		{ "filter", bpf_map__fd(skel->maps.filter) },
		/* read for the counts its entries hold (counters.c) */
		{ "fc4", bpf_map__fd(skel->maps.fc4) },
		{ "fc6", bpf_map__fd(skel->maps.fc6) },
		/* the part of each CPU's cache in use, for the status */
		{ "fc_head", bpf_map__fd(skel->maps.bss) },
	};
	char path[PATH_MAX];
	size_t i;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (dp_join(path, sizeof(path), dir, pins[i].name))
			return -ENAMETOOLONG;
		if (bpf_obj_pin(pins[i].fd, path))
			return -errno;
	}
	return 0;
}

/* Wait until no packet can still be inside the previous generation. */
static int rcu_sync(struct moat_dp *dp)
{
	uint32_t k = 0;
	int inner, err = 0;

	if (dp->sync_fd < 0)
		return 0;
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_sync_in", 4, 4, 1, NULL);
	if (inner < 0)
		return -errno;
	if (bpf_map_update_elem(dp->sync_fd, &k, &inner, 0))
		err = -errno;
	close(inner);
	return err;
}

/* A flow cache map of (1 << @log) slots a CPU; 1 when @log is 0 (none). */
static uint32_t fc_slots(const struct moat_dp *dp, uint32_t log)
{
	return log ? (uint32_t)dp->ncpus << log : 1;
}

uint64_t dp_fc_bytes(int ncpus, const uint32_t log[2])
{
	uint64_t b = 0;

	if (log[0])
		b += ((uint64_t)ncpus << log[0]) * sizeof(struct moat_fc4_bucket);
	if (log[1])
		b += ((uint64_t)ncpus << log[1]) * sizeof(struct moat_fc6);
	return b;
}

/*
 * The flow cache of a generation: a family behind indexes gets one; a
 * small one, none.  `auto' starts from dp->fc_log and grows with the
 * ruleset, up to MOAT_FC_BYTES_MAX for all CPUs: a big ruleset most
 * likely meets many flows, and a cache that holds fewer than its
 * traffic's flows misses on a share of frames that grows fast with the
 * load (docs/architecture.md, "The flow cache").  Two IPv4 buckets a
 * term (four entries), four IPv6 entries a term (they are one to a
 * bucket).
 */
static void fc_size(const struct moat_dp *dp, const struct moat_image *img,
		    uint32_t log[2])
{
	uint32_t min[2];

	min[0] = log[0] = dp->fc_log && img->nterm4 ? dp->fc_log : 0;
	min[1] = log[1] = dp->fc_log && img->nterm6 ? dp->fc_log - 1 : 0;
	if (!dp->fc_auto)
		return;
	while (log[0] && log[0] < MOAT_FC_LOG_MAX &&
	       (1ull << log[0]) < 2ull * img->nterms_fam[0])
		log[0]++;
	while (log[1] && log[1] < MOAT_FC_LOG_MAX &&
	       (1ull << log[1]) < 4ull * img->nterms_fam[1])
		log[1]++;
	while (dp_fc_bytes(dp->ncpus, log) > MOAT_FC_BYTES_MAX &&
	       (log[0] > min[0] || log[1] > min[1])) {
		int i = log[0] - min[0] >= log[1] - min[1] ? 0 : 1;

		log[i]--;
	}
}

/*
 * The part of each CPU's flow cache in use when the generation starts
 * (struct moat_fc_head), written into the program's global array @heads
 * before the switch: as much as the running generation's had grown to on
 * that CPU, since its replacement meets the same traffic, else
 * MOAT_FC_USE_START; never more than the new cache has.
 */
static void fc_head_init(struct moat_dp *dp, struct moat_fc_head *heads,
			 const uint32_t log[2])
{
	struct moat_fc_head old[MOAT_FC_CPUS];
	bool grown = !dp_fc_heads(dp, old);

	for (int c = 0; c < MOAT_FC_CPUS; c++) {
		for (int f = 0; f < 2; f++) {
			uint32_t use = grown && old[c].use[f] ? old[c].use[f] :
								MOAT_FC_USE_START;

			heads[c].use[f] = use < log[f] ? use : log[f];
			heads[c].evicts[f] = 0;
			heads[c].window[f] = 0;
		}
	}
}

static int load_generation(struct moat_dp *dp, const struct moat_image *img,
			   struct moat_fw **out, struct moat_diags *d)
{
	static char log[64 * 1024];
	struct moat_fw *skel;
	const char *fault;
	int err;

	skel = moat_fw__open();
	if (!skel)
		return -errno;
	skel->rodata->layout = img->layout;
	skel->rodata->layout.nslots = dp->slots.nslots;
	bpf_map__set_max_entries(skel->maps.trie, lines(img->ntrie));
	bpf_map__set_max_entries(skel->maps.ports, lines(img->nports));
	bpf_map__set_max_entries(skel->maps.filter, img->nfilter ? (uint32_t)img->nfilter : 1);
	bpf_map__set_max_entries(skel->maps.term4, img->nterm4 ? (uint32_t)img->nterm4 : 1);
	bpf_map__set_max_entries(skel->maps.term6, img->nterm6 ? (uint32_t)img->nterm6 : 1);
	bpf_map__set_max_entries(skel->maps.counters,
				 ((uint32_t)dp->ncpus + 1) * dp->slots.nslots);
	bpf_map__set_max_entries(skel->maps.fc4, fc_slots(dp, img->layout.fc_log[0]));
	bpf_map__set_max_entries(skel->maps.fc6, fc_slots(dp, img->layout.fc_log[1]));
	bpf_map__set_max_entries(skel->maps.fc_sync, (uint32_t)dp->ncpus + 1);
	err = bpf_map__reuse_fd(skel->maps.counters, dp->counters_fd);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.fc_sync, dp->fc_sync_fd);
	if (err)
		goto fail;
	bpf_map__set_max_entries(skel->maps.rulex, img->rulex ? (uint32_t)img->nrules : 1);
	bpf_map__set_max_entries(skel->maps.limits, img->limited ? (uint32_t)img->nrules : 1);
	bpf_map__set_max_entries(skel->maps.limits_src, img->per_source ? 65536 : 64);
	if ((err = bpf_map__reuse_fd(skel->maps.events, dp->events_fd)) ||
	    (err = bpf_map__reuse_fd(skel->maps.ev_stats, dp->ev_stats_fd)) ||
	    (err = bpf_map__reuse_fd(skel->maps.fc_stats, dp->fc_stats_fd)))
		goto fail;
	if (dp->ct_fd >= 0) {
		if ((err = bpf_map__reuse_fd(skel->maps.ct, dp->ct_fd)) ||
		    (err = bpf_map__reuse_fd(skel->maps.ct_conf, dp->ct_conf_fd)) ||
		    (err = bpf_map__reuse_fd(skel->maps.ct_stats, dp->ct_stats_fd)) ||
		    (dp->frags_fd >= 0 &&
		     (err = bpf_map__reuse_fd(skel->maps.frags, dp->frags_fd))))
			goto fail;
	} else {
		/* not tracking: the program never looks, the map stays tiny */
		bpf_map__set_max_entries(skel->maps.ct, 64);
		bpf_map__set_max_entries(skel->maps.frags, 64);
	}
	log[0] = '\0';
	/* one entry point, for this instance's conntrack setting */
	bpf_program__set_autoload(gen_prog(skel) == skel->progs.moat_fw ?
					  skel->progs.moat_fw_ct :
					  skel->progs.moat_fw,
				  false);
	bpf_program__set_log_buf(gen_prog(skel), log, sizeof(log));
	/*
	 * For tests: the kernel refuses this load for real, so that these
	 * paths are exercised on any kernel.  MOAT_FAULT=verifier offers the
	 * XDP program as a socket filter; MOAT_FAULT=maps asks for a trie
	 * map no kernel will allocate.
	 */
	fault = getenv("MOAT_FAULT");
	if (fault && !strcmp(fault, "verifier"))
		bpf_program__set_type(gen_prog(skel), BPF_PROG_TYPE_SOCKET_FILTER);
	if (fault && !strcmp(fault, "maps"))
		bpf_map__set_max_entries(skel->maps.trie, 0x7fffffff);
	err = moat_fw__load(skel);
	if (err) {
		size_t n = strlen(log);
		char *last;

		/* MOAT_VERIFIER_LOG=1: the whole log on stderr, for developers */
		if (getenv("MOAT_VERIFIER_LOG"))
			fputs(log, stderr);
		/*
		 * The verifier's last line before its statistics says why;
		 * no log at all: the maps failed.
		 */
		for (;;) {
			while (n && log[n - 1] == '\n')
				log[--n] = '\0';
			last = strrchr(log, '\n');
			if (!last || strncmp(last + 1, "processed ", 10))
				break;
			*last = '\0';
			n = (size_t)(last - log);
		}
		if (n)
			moat_diag_add(d, MOAT_ERROR, 0, 0,
				      "the kernel refused the generation (%s): '%s'",
				      strerror(-err), last ? last + 1 : log);
		else
			moat_diag_add(d, MOAT_ERROR, 0, 0,
				      "cannot create the generation's maps: %s",
				      strerror(-err));
		goto fail;
	}
	if ((err = fill_map(skel->maps.trie, img->trie, img->ntrie * 4)) ||
	    (err = fill_map(skel->maps.ports, img->ports, img->nports * 4)) ||
	    (err = fill_map(skel->maps.filter, img->filter, img->nfilter * 8)) ||
	    (err = fill_map(skel->maps.term4, img->term4,
			    img->nterm4 * sizeof(*img->term4))) ||
	    (err = fill_map(skel->maps.term6, img->term6,
			    img->nterm6 * sizeof(*img->term6))) ||
	    (img->rulex && (err = fill_map(skel->maps.rulex, img->rulex,
					   img->nrules * sizeof(*img->rulex))))) {
		moat_diag_add(d, MOAT_ERROR, 0, 0,
			      "cannot fill the generation's maps: %s",
			      strerror(-err));
		goto fail;
	}
	fc_head_init(dp, skel->bss->fc_heads, img->layout.fc_log);
	*out = skel;
	return 0;
fail:
	moat_fw__destroy(skel);
	return err;
}

/*
 * The ruleset's hash, of its canonical text, for the generation's info:
 * on a thread of its own while the apply compiles and loads (formatting
 * and hashing 100,000 rules take some 40 and 5 ms).
 */
struct hash_job {
	const struct moat_ruleset *rs;
	uint8_t hash[32];
	int err;
	pthread_t th;
	bool threaded;
};

/* The canonical text goes through stdio's buffer into the digest. */
static ssize_t digest_write(void *cookie, const char *buf, size_t n)
{
	return EVP_DigestUpdate(cookie, buf, n) ? (ssize_t)n : -1;
}

static void *hash_ruleset(void *arg)
{
	static const cookie_io_functions_t io = { .write = digest_write };
	struct hash_job *j = arg;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	FILE *f = NULL;

	j->err = -ENOMEM;
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		f = fopencookie(c, "w", io);
	if (f) {
		int werr = moat_ruleset_write(j->rs, f);

		/* fclose() writes what stdio still holds */
		if (!fclose(f) && !werr && EVP_DigestFinal_ex(c, j->hash, &n))
			j->err = 0;
	}
	EVP_MD_CTX_free(c);
	return NULL;
}

static void hash_start(struct hash_job *j, const struct moat_ruleset *rs)
{
	j->rs = rs;
	j->threaded = pthread_create(&j->th, NULL, hash_ruleset, j) == 0;
	if (!j->threaded)
		hash_ruleset(j);
}

static int hash_wait(struct hash_job *j)
{
	if (j->threaded)
		pthread_join(j->th, NULL);
	j->threaded = false;
	return j->err;
}

int moat_dp_apply(struct moat_dp *dp, const struct moat_ruleset *rs,
		  struct moat_diags *d, struct moat_apply_stats *st)
{
	struct moat_compile_opts co = { .nifaces = dp->nifaces,
					.no_conntrack = dp->ct_fd < 0,
					.log_rate = dp->log_rate };
	struct moat_apply_stats s = { 0 };
	struct moat_gen_info gi = { 0 };
	struct moat_image img = { 0 };
	struct moat_fw *skel = NULL;
	struct slotmap next = { 0 };
	char dir[PATH_MAX], old[PATH_MAX], cur[PATH_MAX], tmp[PATH_MAX];
	uint64_t t0 = dp_now_ns(CLOCK_MONOTONIC), t1, now;
	const char **names = NULL;
	uint32_t *slots = NULL, *over = NULL, k = 0;
	struct hash_job hj = { 0 };
	int i, fd, err, lock;
	bool pinned = false;

	if (dp->pinned_only)
		return -EPERM;
	hash_start(&hj, rs);
	now = dp_now_ns(CLOCK_REALTIME);
	slots = calloc(rs->nrules + 1, sizeof(*slots));
	over = calloc(rs->nrules + 1, sizeof(*over));
	names = calloc((size_t)dp->nifaces + 1, sizeof(*names));
	if (!slots || !over || !names) {
		err = -ENOMEM;
		goto out;
	}
	err = assign_slots(dp, rs, &next, slots, over, now, d);
	if (err)
		goto out;

	for (i = 0; i < dp->nifaces; i++)
		names[i] = dp->ifnames[i];
	co.slots = slots;
	co.over_slots = over;
	co.ifnames = names;
	co.ifindex = dp->ifindex;
	err = moat_compile(rs, &co, &img, d);
	t1 = dp_now_ns(CLOCK_MONOTONIC);
	s.compile_ns = t1 - t0;
	if (err)
		goto out;

	img.layout.generation = (uint32_t)(dp->generation + 1);
	fc_size(dp, &img, img.layout.fc_log);
	err = load_generation(dp, &img, &skel, d);
	s.load_ns = dp_now_ns(CLOCK_MONOTONIC) - t1;
	if (err)
		goto out;

	gi.generation = dp->generation + 1;
	gi.applied_ns = now;
	gi.nrules = (uint32_t)rs->nrules;
	gi.nterms = img.nterms;
	gi.policy_drop = rs->policy == MOAT_DROP;
	gi.audit = rs->audit;
	{
		struct bpf_prog_info pi = {};
		uint32_t len = sizeof(pi);

		if (!bpf_obj_get_info_by_fd(bpf_program__fd(gen_prog(skel)), &pi, &len))
			gi.prog_id = pi.id;
	}
	err = hash_wait(&hj);
	if (err)
		goto out;
	memcpy(gi.hash, hj.hash, sizeof(gi.hash));
	dp_path(dp, dir, sizeof(dir), "gen-%llu", (unsigned long long)gi.generation);
	dp_rmtree(dir); /* left by an apply that died half-way */
	pinned = true;
	err = pin_generation(skel, dir);
	if (!err)
		err = pin_meta(dp, dir, rs, &next, slots, over, &img, &gi);
	if (err) {
		moat_diag_add(d, MOAT_ERROR, 0, 0, "cannot pin the generation under %s: %s",
			      dir, strerror(-err));
		goto out;
	}

	/* the switch: from here on the new generation classifies */
	t1 = dp_now_ns(CLOCK_MONOTONIC);
	fd = bpf_program__fd(gen_prog(skel));
	if (bpf_map_update_elem(dp->gens_fd, &k, &fd, 0)) {
		err = -errno;
		moat_diag_add(d, MOAT_ERROR, 0, 0, "cannot publish the generation: %s",
			      strerror(-err));
		goto out;
	}
	/* an interface that runs the generation directly switches itself */
	err = dp_links_publish(dp, fd, d);
	if (err) {
		int back = dp->gen_fd < 0 ?
				   bpf_map_delete_elem(dp->gens_fd, &k) :
				   bpf_map_update_elem(dp->gens_fd, &k,
						       &dp->gen_fd, 0);

		if (back)
			moat_diag_add(
				d, MOAT_ERROR, 0, 0,
				"cannot put the running generation back in %s/gens: %s",
				dp->root, strerror(errno));
		goto out;
	}
	s.enforce_ns = dp_now_ns(CLOCK_MONOTONIC) - t0;
	pinned = false;
	rcu_sync(dp);
	s.switch_ns = dp_now_ns(CLOCK_MONOTONIC) - t1;
	/*
	 * No program runs the old generation now: what its flow cache still
	 * counts goes into the carry row, and readers (who add the running
	 * generation's cache) wait until current names the new one.
	 */
	lock = dp_read_lock(dp);
	if (lock < 0)
		moat_diag_add(d, MOAT_WARNING, 0, 0,
			      "cannot take the readers' lock on %s (%s): a read during this apply may count the old flow cache twice",
			      dp->root, strerror(-lock));
	/* no program counts into an instance's old counters map either */
	if (dp_counters_fold_legacy(dp))
		moat_diag_add(d, MOAT_WARNING, 0, 0,
			      "cannot fold the counters of the instance's old map into %s/rule_counters; read from both until the next apply",
			      dp->root);

	/* current -> gen-N, replaced atomically; then the old one goes */
	dp_path(dp, cur, sizeof(cur), "current");
	dp_path(dp, tmp, sizeof(tmp), "current-next");
	old[0] = '\0';
	if (dp->generation)
		dp_path(dp, old, sizeof(old), "gen-%llu",
			(unsigned long long)dp->generation);
	if (old[0] && (err = dp_counters_fold_fc(dp, old)))
		moat_diag_add(d, MOAT_WARNING, 0, 0,
			      "cannot move the counts of generation %llu's flow cache into %s/rule_counters (%s): they are lost",
			      (unsigned long long)dp->generation, dp->root, strerror(-err));
	unlink(tmp);
	if (symlink(strrchr(dir, '/') + 1, tmp) || rename(tmp, cur))
		moat_diag_add(d, MOAT_WARNING, 0, 0, "cannot update %s: %s", cur,
			      strerror(errno));
	if (old[0])
		dp_rmtree(old);
	dp_read_unlock(lock);

	slotmap_fini(&dp->slots);
	dp->slots = next;
	memset(&next, 0, sizeof(next));
	dp->generation = gi.generation;
	if (dp->gen_fd >= 0)
		close(dp->gen_fd);
	dp->gen_fd = dup(fd);

	s.generation = gi.generation;
	s.nrules = gi.nrules;
	s.nterms = img.nterms;
	s.nlists = img.nlists;
	s.max_list = img.max_list;
	/* the flow cache is the generation's too */
	s.map_bytes = moat_image_bytes(&img);
	s.map_bytes += dp_fc_bytes(dp->ncpus, img.layout.fc_log);
	s.total_ns = dp_now_ns(CLOCK_MONOTONIC) - t0;
	/* the info pinned beside the generation learns how long it took */
	gi.compile_ns = s.total_ns;
	{
		char ipath[PATH_MAX];
		int ifd;

		if (!dp_join(ipath, sizeof(ipath), dir, "info") &&
		    (ifd = bpf_obj_get(ipath)) >= 0) {
			bpf_map_update_elem(ifd, &k, &gi, 0);
			close(ifd);
		}
	}
	err = 0;
out:
	if (pinned)
		dp_rmtree(dir);
	if (skel)
		moat_fw__destroy(skel);
	moat_image_free(&img);
	slotmap_fini(&next);
	hash_wait(&hj);
	free(slots);
	free(over);
	free(names);
	if (st)
		*st = s;
	return err;
}

int moat_dp_set_ifaces(struct moat_dp *dp, const char *const *names, int n)
{
	char(*nv)[16] = calloc((size_t)n + 1, sizeof(*nv));
	uint32_t *iv = calloc((size_t)n + 1, sizeof(*iv));
	int i;

	if (!nv || !iv) {
		free(nv);
		free(iv);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		snprintf(nv[i], sizeof(nv[i]), "%s", names[i]);
		iv[i] = if_nametoindex(names[i]);
	}
	free(dp->ifnames);
	free(dp->ifindex);
	dp->ifnames = nv;
	dp->ifindex = iv;
	dp->nifaces = n;
	return 0;
}
