/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside libmoat-dp's kernel half: the handle and its helpers. */
#ifndef MOAT_DP_INT_H
#define MOAT_DP_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "dataplane.h"

/*
 * Counter slots by rule name.  A name keeps its slot for as long as it is
 * in the running ruleset; a slot is zeroed before a new name takes it.
 */
struct slotmap {
	struct slotent *v; /* the names, as added */
	uint32_t used, cap; /* of v */
	/*
	 * Open-addressed by name: a name's hash, and 1 + its index in v (0:
	 * an empty place), so that a probe reads 8 bytes, not a name.
	 */
	struct slotix {
		uint32_t hash, at;
	} *ix;
	uint32_t nix; /* a power of two, at least twice used */
	uint8_t *busy; /* per slot */
	uint32_t nslots; /* MOAT_SLOT_FIRST_RULE + capacity */
	uint32_t next; /* where the search for a free slot resumes */
};

struct slotent {
	char name[MOAT_NAME_MAX + 1];
	uint32_t slot; /* 0: free entry */
	uint64_t applied_ns;
};

/* The slot name of a rule's over-limit counter (no rule can be named so). */
void dp_over_name(const char *name, char out[MOAT_NAME_MAX + 1]);

int slotmap_init(struct slotmap *m, uint32_t nslots);
/* Room for @n names without growing (a hint: adds grow the map anyway). */
int slotmap_reserve(struct slotmap *m, uint32_t n);
void slotmap_fini(struct slotmap *m);
struct slotent *slotmap_find(const struct slotmap *m, const char *name);
int slotmap_add(struct slotmap *m, const char *name, uint32_t slot,
		uint64_t applied_ns);
int slotmap_take_free(struct slotmap *m, const struct slotmap *avoid,
		      uint32_t *slot);

struct moat_dp {
	char bpffs[PATH_MAX];
	char root[PATH_MAX]; /* <bpffs>/moat/<instance> */
	char instance[64];
	bool pinned_only; /* opened read-only by moat_dp_open_pinned() */
	int gens_fd, counters_fd, sync_fd;
	int legacy_fd; /* counters of an instance made before rule_counters, or -1 */
	int fc_sync_fd; /* struct moat_fc_sync, 1 + ncpus; -1 in pins from before */
	struct moat_fc_sync *fc_sync; /* mapped, or NULL */
	/*
	 * The running generation's flow cache maps (fc4, fc6) as a reader
	 * last mapped them, by map id, so that reading counters again does
	 * not map them again (counters.c).
	 */
	struct dp_fc_view {
		uint32_t id; /* 0: none */
		const void *p;
		size_t len;
	} fc_view[2];
	int ct_fd, ct_conf_fd, ct_stats_fd; /* -1: flows are not tracked */
	int frags_fd; /* first fragments' verdicts, with ct_fd */
	int events_fd, ev_stats_fd; /* verdict logs: ring buffer and counters */
	int fc_stats_fd; /* enum moat_fc_stat, per CPU; -1 in pins from before */
	uint32_t log_rate;
	uint32_t gens_id; /* map id: tells our entry programs from others */
	uint32_t capacity;
	int ncpus;
	uint32_t fc_log; /* the flow cache's IPv4 buckets per CPU, log2; 0: off */
	bool fc_auto; /* fc_log is the least: big rulesets get more */
	enum moat_attach attach; /* moat_dp_set_attach() */
	uint64_t generation; /* running; 0: none yet */
	int gen_fd; /* the running generation's prog, or -1 */
	struct slotmap slots; /* the running generation's names */
	char (*ifnames)[16];
	uint32_t *ifindex;
	int nifaces;
};

/*
 * Can libxdp's dispatcher load here (probe.c)?  dp_probe_dispatcher() says
 * why not in @why; dp_dispatcher_ok() asks once a process, quietly.
 */
bool dp_probe_dispatcher(char *why, size_t n);
bool dp_dispatcher_ok(void);

/* Paths under the pin root. */
int dp_path(const struct moat_dp *dp, char *buf, size_t n, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

/* @dir + "/" + @name into @buf; -ENAMETOOLONG when it does not fit. */
int dp_join(char *buf, size_t n, const char *dir, const char *name);

/*
 * Bytes of a flow cache of (ncpus << log[0]) IPv4 buckets and
 * (ncpus << log[1]) IPv6 entries; a log of 0: none (generation.c).
 */
uint64_t dp_fc_bytes(int ncpus, const uint32_t log[2]);
/* The running generation's flow cache heads (rows.c); -errno: none. */
int dp_fc_heads(struct moat_dp *dp, struct moat_fc_head heads[MOAT_FC_CPUS]);

/* The rule counters (counters.c). */
int dp_counters_open(struct moat_dp *dp, bool create);
void dp_counters_close(struct moat_dp *dp);
/* @sum: one counter a slot, MOAT_SLOT_FIRST_RULE + capacity of them */
int dp_counters_sum(struct moat_dp *dp, struct moat_counter *sum);
int dp_counter_slot(struct moat_dp *dp, uint32_t slot, struct moat_counter *c);
int dp_counters_zero(struct moat_dp *dp, const uint32_t *slots, size_t n);
int dp_counters_fold_legacy(struct moat_dp *dp);
/*
 * Readers of the counters, and the apply that retires a generation, one
 * at a time: a lock on the pin root.
 */
int dp_read_lock(struct moat_dp *dp);
void dp_read_unlock(int lock);
/*
 * Fold the counts still in the flow cache of the retired generation
 * pinned in @dir into the carry row; with the read lock held, once no
 * program runs there.
 */
int dp_counters_fold_fc(struct moat_dp *dp, const char *dir);

/*
 * Keys 0..@n-1 of the per-CPU u64 array @fd, each summed over CPUs, into
 * @sum (zeroed first); -ENOENT when @fd is -1 (pins from before the map).
 */
int dp_percpu_sum(struct moat_dp *dp, int fd, uint32_t n, uint64_t *sum);

/* Load the running generation's info and names into dp (at open). */
int dp_load_current(struct moat_dp *dp);

/* Remove a pin directory and what is pinned in it. */
int dp_rmtree(const char *dir);

uint64_t dp_now_ns(int clock);

/*
 * The map pinned at <root>/@name, or (@create) a new one pinned there;
 * @inner_fd: the inner map of a map of maps, -1 for none.  -errno.
 */
int dp_map_get(struct moat_dp *dp, const char *name, enum bpf_map_type type,
	       uint32_t ksize, uint32_t vsize, uint32_t entries, int inner_fd,
	       bool create);
/* The same, made with @flags (BPF_F_*). */
int dp_map_get_flags(struct moat_dp *dp, const char *name, enum bpf_map_type type,
		     uint32_t ksize, uint32_t vsize, uint32_t entries,
		     int inner_fd, uint32_t flags, bool create);

/* Make or adopt the conntrack maps (loader), and close them. */
int dp_ct_open(struct moat_dp *dp, const struct moat_ct_opts *o, bool create);
void dp_ct_close(struct moat_dp *dp);

/* Attach or detach conntrack's TC egress program on @ifindex; its id. */
int dp_ct_attach(struct moat_dp *dp, int ifindex);
int dp_ct_detach(struct moat_dp *dp, int ifindex);
uint32_t dp_ct_egress_id(const struct moat_dp *dp, int ifindex);

/*
 * The switch on the interfaces that run a generation directly, once gens
 * holds program @fd (attach.c): each such interface gets @fd in place of
 * what it runs, all or none; on an error the caller puts gens back.
 */
struct moat_diags;
int dp_links_publish(struct moat_dp *dp, int fd, struct moat_diags *d);

#endif /* MOAT_DP_INT_H */
