/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmoat-dp: the data plane as moatd and moatctl see it.
 *
 * Everything lives under a pin root in bpffs, <bpffs>/moat/<instance>:
 *
 *   gens          prog array: slot 0 is the running generation's program
 *   counters      per-CPU counters, indexed by slot (outlives generations)
 *   sync          an array of maps, written only to wait for RCU
 *   current ->    symlink to gen-<N>
 *   gen-<N>/      prog, trie, ports, term4, term6, rules: the generation
 *                 info: struct moat_gen_info; names: struct moat_rule_info
 *   links/<if>    the program attached to interface <if>: the entry, or
 *                 the running generation's where it is attached directly
 *
 * Enforcement outlives the process: closing a handle never detaches.
 */
#ifndef MOAT_DATAPLANE_H
#define MOAT_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include "ruleset.h"

struct moat_dp;

enum moat_xdp_mode {
	MOAT_XDP_AUTO = 0, /* native where the driver has it, generic otherwise */
	MOAT_XDP_NATIVE,
	MOAT_XDP_GENERIC,
};

/*
 * Connection tracking (docs/conntrack.md).  The table is made with the
 * instance and keeps its size for as long as anything is pinned; the
 * timeouts are written at every open.
 */
struct moat_ct_opts {
	bool enabled;
	bool off; /* turned off on purpose: remove a table left pinned */
	uint32_t max; /* flows; 0: MOAT_CT_DEFAULT_MAX */
	uint32_t timeout_s[MOAT_CTT_MAX]; /* 0: the default of docs/conntrack.md */
};

struct moat_dp_opts {
	const char *bpffs; /* default "/sys/fs/bpf"; mounted when missing */
	const char *instance; /* default "default" */
	uint32_t capacity; /* rule counter slots; default MOAT_DEFAULT_CAPACITY */
	struct moat_ct_opts ct;
	uint32_t log_rate; /* verdict log events a second, at most; 0: 1000 */
	/*
	 * The flow cache: log2 of its IPv4 buckets per CPU (two flows each,
	 * and half as many IPv6 flows), MOAT_FC_LOG_MIN..MOAT_FC_LOG_MAX;
	 * 0: MOAT_FC_LOG_DEFAULT, less on hosts with so many CPUs that it
	 * would take over MOAT_FC_BYTES_MAX; -1: no flow cache.
	 */
	int flow_cache;
};

/* Default timeouts, in seconds, by enum moat_ct_timeout; and their names. */
extern const uint32_t moat_ct_default_timeout[MOAT_CTT_MAX];
extern const char *const moat_ct_timeout_name[MOAT_CTT_MAX];
const char *moat_ct_flow_state_name(uint8_t state); /* enum moat_ct_state */

#define MOAT_DEFAULT_CAPACITY 65536u

/*
 * Open the instance, creating its pin root, prog array and counters when
 * they do not exist and adopting them when they do.  Needs CAP_BPF and
 * CAP_NET_ADMIN (in practice: root).
 */
int moat_dp_open(const struct moat_dp_opts *o, struct moat_dp **out);

/*
 * Open what is pinned without changing anything: for moatctl while moatd
 * is down.  Returns -ENOENT when the instance has never run, -EACCES
 * when the caller may not read the pins (not root).
 */
int moat_dp_open_pinned(const struct moat_dp_opts *o, struct moat_dp **out);

void moat_dp_close(struct moat_dp *dp);

struct moat_apply_stats {
	uint64_t generation;
	uint64_t parse_ns, compile_ns, load_ns, switch_ns, total_ns;
	/*
	 * From the start to the switch's prog-array update: every frame after
	 * it meets the new generation.  switch_ns and total_ns go on to the
	 * grace period after it, which the old generation's cleanup waits for.
	 */
	uint64_t enforce_ns;
	uint32_t nrules, nterms, nlists, max_list;
	uint64_t map_bytes; /* memory of the generation's maps, its flow cache's too */
};

/*
 * Build a complete new generation from @rs and publish it with one
 * switch.  On any failure (compile error, capacity, map allocation,
 * verifier rejection) the running generation is left untouched, @d says
 * why, and a negative errno is returned.  Interfaces named by rules are
 * resolved against the attached ones (see moat_dp_set_ifaces()).
 */
int moat_dp_apply(struct moat_dp *dp, const struct moat_ruleset *rs,
		  struct moat_diags *d, struct moat_apply_stats *st);

/*
 * The interfaces moatd protects, in order: a rule's "in NAME" matches the
 * interface of that name.  Takes effect at the next apply.
 */
int moat_dp_set_ifaces(struct moat_dp *dp, const char *const *names, int n);

/*
 * Attach to @ifname: the running generation's program directly where
 * there is no libxdp dispatcher and no other interface (and
 * moat_dp_set_attach() allows it), the entry program otherwise, which a second interface also puts back on the
 * first (attach.c).  An interface that carries this instance's program
 * already is adopted; -EBUSY when another instance's is there.  Detach
 * removes enforcement from @ifname.  Both need a handle from
 * moat_dp_open() (-EPERM on a moat_dp_open_pinned() one).
 */
int moat_dp_attach(struct moat_dp *dp, const char *ifname,
		   enum moat_xdp_mode mode);
int moat_dp_detach(struct moat_dp *dp, const char *ifname);

/*
 * How interfaces run the generation.  MOAT_ATTACH_AUTO: directly where
 * there is no dispatcher and one interface, through the entry program
 * elsewhere.  MOAT_ATTACH_ENTRY: always through the entry program, each
 * frame a tail call more, each apply in force without waiting for the
 * kernel's RCU grace period that replacing an attached program takes.
 * Takes effect at the next attach or apply, which puts the entry in place
 * of a generation attached directly.
 */
enum moat_attach {
	MOAT_ATTACH_AUTO = 0,
	MOAT_ATTACH_ENTRY,
};
void moat_dp_set_attach(struct moat_dp *dp, enum moat_attach a);

/* What `moatctl status` shows. */
struct moat_dp_iface {
	char name[16];
	uint32_t ifindex;
	bool attached;
	bool generic; /* attached in generic (skb) mode */
	bool dispatcher; /* through libxdp's dispatcher */
	bool direct; /* the generation's program itself, not the entry */
	uint32_t prog_id; /* what runs there: the entry or the generation */
	uint32_t egress_prog_id; /* conntrack's TC egress program, 0: none */
};

struct moat_dp_ct_status {
	bool enabled;
	uint32_t max;
	uint64_t entries; /* counted now */
	uint64_t stat[MOAT_CTC_MAX]; /* summed over CPUs */
	uint64_t evicted; /* made, less flushed, less still there: the LRU's doing */
	uint32_t timeout_s[MOAT_CTT_MAX];
	uint64_t bytes_per_flow, table_bytes; /* kernel memory, as the map reports it */
};

/*
 * The running generation's flow cache, and its rare events since the
 * instance was made (enum moat_fc_stat): `moatctl status`.
 */
struct moat_dp_fc_status {
	bool counted; /* the instance has the statistics (pins from before do not) */
	uint32_t buckets4, entries6; /* a CPU, in the running generation; 0: none */
	/*
	 * Of those, the most any CPU uses now (the cache grows with the
	 * flows it meets: struct moat_fc_head); 0 in pins from before.
	 */
	uint32_t used4, used6;
	uint64_t stat[MOAT_FCS_MAX]; /* summed over CPUs */
};

struct moat_dp_status {
	bool has_generation;
	struct moat_dp_ct_status ct;
	struct moat_dp_fc_status fc;
	struct moat_gen_info info;
	uint32_t capacity;
	uint32_t slots_used;
	struct moat_dp_iface *ifaces;
	int nifaces;
};

/* The flow cache's part of the status alone (moatctl, while moatd runs). */
void moat_dp_fc_status(struct moat_dp *dp, struct moat_dp_fc_status *fc);

/* Fill @st; release it with moat_dp_status_free() (ifaces is malloc'd). */
int moat_dp_status(struct moat_dp *dp, struct moat_dp_status *st);
void moat_dp_status_free(struct moat_dp_status *st);

/* One row of `moatctl rules`: a rule, or a fixed counter (policy, arp, ...). */
struct moat_dp_row {
	char name[MOAT_NAME_MAX + 1];
	int action; /* 0 allow, 1 drop; the policy row: the running policy */
	bool fixed;
	uint32_t slot;
	uint64_t packets, bytes;
	uint64_t applied_ns;
	uint32_t flags; /* MOAT_X_* of the rule */
	uint64_t over_packets, over_bytes; /* over its rate limit */
	uint64_t would_drop; /* audit: packets it would have dropped */
};

/*
 * Rules of the running generation in order, then the fixed rows (policy,
 * arp, nd, non-ip, malformed).  *rows is one malloc'd array: free() it.
 */
int moat_dp_rows(struct moat_dp *dp, struct moat_dp_row **rows, int *nrows);

/*
 * A row's action as moatctl rules and the metrics show it: a rule's
 * "allow" or "drop"; a fixed row's "pass" or "drop"; the policy row's the
 * running policy, NULL when nothing runs (@has_generation false).
 */
static inline const char *moat_dp_row_action(const struct moat_dp_row *row,
					     bool has_generation,
					     bool policy_drop)
{
	if (row->action < 0)
		return !has_generation ? NULL : policy_drop ? "drop" : "allow";
	if (row->fixed)
		return row->action ? "drop" : "pass";
	return row->action ? "drop" : "allow";
}

/*
 * Sum one slot over CPUs, with what the running generation's flow cache
 * entries still hold for it.  That walks the whole cache: to read many
 * slots, moat_dp_rows() reads them all at once.
 */
int moat_dp_counter(struct moat_dp *dp, uint32_t slot, uint64_t *packets,
		    uint64_t *bytes);

/* Kernel features moat uses, probed at open. */
struct moat_dp_features {
	bool btf; /* /sys/kernel/btf/vmlinux */
	bool xdp; /* XDP programs */
	bool tail_calls; /* prog arrays */
	bool bpf_loop; /* bpf_loop() in XDP (5.17) */
	bool xdp_load_bytes; /* bpf_xdp_load_bytes() (5.18) */
	bool mmap_arrays; /* BPF_F_MMAPABLE array maps (5.5) */
	bool dispatcher; /* libxdp's dispatcher (freplace) loads here */
	char dispatcher_error[128];
};

int moat_dp_probe(struct moat_dp_features *f);

const char *moat_dp_pin_root(const struct moat_dp *dp);

/* One flow of the conntrack table, as `moatctl conntrack` shows it. */
struct moat_ct_flow {
	int family; /* AF_INET or AF_INET6 */
	uint8_t proto;
	uint8_t src[16], dst[16]; /* the opener first */
	uint16_t sport, dport; /* ICMP echo: the identifier in both */
	uint8_t state; /* enum moat_ct_state */
	uint8_t flags; /* MOAT_CTF_* */
	uint32_t ifindex;
	uint64_t packets_orig, packets_reply;
	uint64_t age_ns, idle_ns; /* since made, since the last packet */
	uint64_t expires_ns; /* 0: already past its timeout */
};

/* Which flows: every given field must match (either endpoint for addr and port). */
struct moat_ct_filter {
	bool has_addr;
	struct moat_prefix addr;
	int port; /* -1: any */
	int proto; /* -1: any */
	int state; /* enum moat_ct_state, -1: any */
};

/*
 * Every flow that @f selects (NULL: all), in table order; *out is one
 * malloc'd array.  -ENOENT when the instance does not track flows.
 */
int moat_dp_ct_list(struct moat_dp *dp, const struct moat_ct_filter *f,
		    struct moat_ct_flow **out, size_t *n);

/* Remove the flows @f selects (NULL: all); *removed says how many. */
int moat_dp_ct_flush(struct moat_dp *dp, const struct moat_ct_filter *f,
		     size_t *removed);

/*
 * The conntrack counters summed over CPUs, without counting the entries:
 * cheap enough to call every few seconds.  -ENOENT when not tracking.
 */
int moat_dp_ct_counters(struct moat_dp *dp, uint64_t stat[MOAT_CTC_MAX]);

/* The size of the table in force (0: not tracking); it may differ from opts. */
uint32_t moat_dp_ct_max(const struct moat_dp *dp);

/* The table's size, fill and pressure counters (enabled false: not tracking). */
int moat_dp_ct_status(struct moat_dp *dp, struct moat_dp_ct_status *st);

/* Does @flow pass @f? */
bool moat_ct_filter_match(const struct moat_ct_filter *f,
			  const struct moat_ct_flow *flow);

/*
 * The running generation's program (owned by @dp, -1 when there is none):
 * for BPF_PROG_TEST_RUN in tests and in moat-bench.
 */
int moat_dp_generation_fd(const struct moat_dp *dp);

/*
 * A new entry program of @dp, loaded as an attachment loads it (handing
 * each frame to the running generation) but attached nowhere: for
 * BPF_PROG_TEST_RUN of the path an attached interface's frames take.
 * The caller closes the fd; -errno on failure.
 */
int moat_dp_entry_fd(struct moat_dp *dp);

/* The counter slot of rule @name in the running generation, or -ENOENT. */
int moat_dp_rule_slot(const struct moat_dp *dp, const char *name);

#endif /* MOAT_DATAPLANE_H */
