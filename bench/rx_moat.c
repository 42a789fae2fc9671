// SPDX-License-Identifier: GPL-2.0-only
/*
 * moat as the receiver: the data plane as moatd drives it, through
 * libmoat-dp, in an instance of its own so that a moatd on this machine
 * is not touched.  Frames are counted by moat's own counters: every rule
 * slot, the policy and the fixed rows (with conntrack, established and
 * related too: moat_dp_rows lists them), since each frame lands in
 * exactly one of them.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "rx.h"

#define BPFFS "/sys/fs/bpf"

struct rx_moat {
	struct receiver rx; /* first: the ops get a struct receiver * */
	struct moat_dp *dp;
	char pin_root[PATH_MAX];
	char ifname[16]; /* where it is attached, "" when not */
};

static int moat_attach(struct receiver *rx, const struct topology *t)
{
	struct rx_moat *m = (struct rx_moat *)rx;
	int ret;

	/* interface names resolve in the calling thread's namespace */
	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	ret = moat_dp_attach(m->dp, t->ifname[TOPO_B], MOAT_XDP_NATIVE);
	if (ret)
		bench_err("moat_dp_attach %s (native): %s", t->ifname[TOPO_B],
			  strerror(-ret));
	else
		snprintf(m->ifname, sizeof(m->ifname), "%s", t->ifname[TOPO_B]);
	return topo_leave(t) ?: ret;
}

static int moat_detach(struct receiver *rx, const struct topology *t)
{
	struct rx_moat *m = (struct rx_moat *)rx;
	int ret;

	if (!m->ifname[0])
		return 0;
	ret = topo_enter(t, TOPO_B);
	if (ret)
		return ret;
	ret = moat_dp_detach(m->dp, m->ifname);
	if (ret)
		bench_err("moat_dp_detach %s: %s", m->ifname, strerror(-ret));
	m->ifname[0] = '\0';
	return topo_leave(t) ?: ret;
}

static int moat_count(struct receiver *rx, const struct topology *t,
		      struct rx_counts *c)
{
	struct rx_moat *m = (struct rx_moat *)rx;
	struct moat_dp_row *rows = NULL;
	struct moat_dp_fc_status fc;
	int n = 0, ret;

	memset(c, 0, sizeof(*c));
	ret = moat_dp_rows(m->dp, &rows, &n);
	if (ret) {
		bench_err("moat_dp_rows: %s", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < n; i++)
		c->received += rows[i].packets;
	c->xdp_seen = c->received;
	free(rows);
	moat_dp_fc_status(m->dp, &fc);
	c->has_fc = fc.counted;
	c->fc_miss = fc.stat[MOAT_FCS_MISS];
	c->fc_second = fc.stat[MOAT_FCS_SECOND];
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	if (remove(path))
		bench_err("removing %s: %s", path, strerror(errno));
	return 0; /* remove what can be removed */
}

/* Pins outlive the process by design (moat's principle 4): remove ours. */
void rx_moat_remove_pins(const char *root)
{
	if (root[0] && access(root, F_OK) == 0)
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void moat_destroy(struct receiver *rx)
{
	struct rx_moat *m = (struct rx_moat *)rx;

	if (m->ifname[0])
		bench_err("moat destroyed while attached to %s", m->ifname);
	moat_dp_close(m->dp);
	rx_moat_remove_pins(m->pin_root);
	free(m);
}

static const struct receiver_ops moat_ops = {
	.attach = moat_attach,
	.detach = moat_detach,
	.count = moat_count,
	.destroy = moat_destroy,
};

int rx_moat_open(struct receiver **out, const char *instance, uint32_t capacity,
		 const struct moat_ct_opts *ct, int flow_cache)
{
	struct moat_dp_opts o = { .instance = instance,
				  .capacity = capacity,
				  .flow_cache = flow_cache };
	struct rx_moat *m = calloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->rx.ops = &moat_ops;
	m->rx.name = "moat";
	if (ct)
		o.ct = *ct;
	/* where the pins will be, so that a failed open is cleaned too */
	snprintf(m->pin_root, sizeof(m->pin_root), BPFFS "/moat/%s", instance);
	ret = moat_dp_open(&o, &m->dp);
	if (ret) {
		bench_err("moat_dp_open (instance %s): %s", instance,
			  strerror(-ret));
		rx_moat_remove_pins(m->pin_root);
		free(m);
		return ret;
	}
	snprintf(m->pin_root, sizeof(m->pin_root), "%s",
		 moat_dp_pin_root(m->dp));
	*out = &m->rx;
	return 0;
}

int rx_moat_apply(struct receiver *rx, const struct moat_ruleset *rs,
		  struct moat_apply_stats *st)
{
	struct rx_moat *m = (struct rx_moat *)rx;
	struct moat_diags d = { 0 };
	int ret;

	ret = moat_dp_apply(m->dp, rs, &d, st);
	if (ret) {
		moat_diags_print(&d, "generated ruleset", stderr);
		bench_err("moat_dp_apply of %zu rules: %s", rs->nrules,
			  strerror(-ret));
	}
	moat_diags_free(&d);
	return ret;
}

int rx_moat_prog_fd(struct receiver *rx)
{
	return moat_dp_generation_fd(((struct rx_moat *)rx)->dp);
}

struct moat_dp *rx_moat_dp(struct receiver *rx)
{
	return ((struct rx_moat *)rx)->dp;
}

int rx_moat_remove_stale(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(BPFFS "/moat");
	int pid, removed = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "bench-%d", &pid) != 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (access(path, F_OK) == 0)
			continue; /* its moat-bench still runs */
		snprintf(path, sizeof(path), BPFFS "/moat/%s", de->d_name);
		rx_moat_remove_pins(path);
		removed++;
	}
	closedir(d);
	return removed;
}
