// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xdp-filter peer: `xdp-filter load' in native mode with policy
 * allow and only the features the ruleset needs (fewer features, a
 * smaller program), then one `xdp-filter port' or `xdp-filter ip' per
 * entry (translate-xdpf.c).  xdp-filter has no batch input: one process
 * per entry is what loading a list costs with it.
 *
 * Its state is global: the lists and the statistics are maps pinned
 * under <bpffs>/xdp-filter, shared by every interface it is loaded on,
 * in every network namespace.  So the peer refuses to install when
 * xdp-filter is already in use (its lists would mix with ours), and its
 * counters are the aggregate `xdp-filter status' prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <string.h>
#include <unistd.h>

#include "peers.h"
#include "translate.h"

#define PEER "xdp-filter"
#define PIN_DIR "/sys/fs/bpf/xdp-filter"

static void xdpf_remove(const char *ifname)
{
	const char *argv[] = { "xdp-filter", "unload", ifname, NULL };
	struct peer_cmd c = { .argv = argv,
			      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
			      .quiet = true };

	/* the last unload also removes the maps and the pin directory */
	peer_run(&c);
}

static int run_timed(const char *const *argv, uint64_t *apply_ns)
{
	struct peer_cmd c = { .argv = argv,
			      .timeout_ms = PEER_QUERY_TIMEOUT_MS };
	int ret = peer_run(&c);

	*apply_ns += c.elapsed_ns;
	return ret;
}

static int xdpf_install(const struct moat_ruleset *rs, const char *ifname,
			uint64_t *apply_ns)
{
	const char *load[] = { "xdp-filter", "load",  ifname, "-m", "native",
			       "-p",	     "allow", "-f",   NULL, NULL };
	struct tr_xdpf x;
	int ret;

	*apply_ns = 0;
	if (!access(PIN_DIR, F_OK)) {
		peer_err(PEER,
			 "already in use (%s exists): its lists are "
			 "shared, so it cannot run beside another user",
			 PIN_DIR);
		return -EBUSY;
	}
	ret = tr_xdp_filter(rs, &x);
	if (ret) {
		peer_err(PEER, "%s",
			 ret == -EINVAL ? tr_xdp_filter_cannot(rs) :
					  strerror(-ret));
		return ret;
	}
	load[8] = x.features;
	ret = run_timed(load, apply_ns);
	for (size_t i = 0; !ret && i < x.n; i++) {
		const char *argv[9] = { "xdp-filter" };

		tr_xdpf_argv(&x.cmds[i], argv + 1);
		ret = run_timed(argv, apply_ns);
	}
	if (ret)
		xdpf_remove(ifname);
	tr_xdpf_free(&x);
	return ret;
}

/* "  XDP_DROP      12 pkts    0 KiB": the packets of one action. */
/*
 * xdp-filter's own per-action counters, read from the map it pins
 * (XDP_STATS_MAP in xdp-tools' lib/util/xdp_stats_kern_user.h: a per-CPU
 * array indexed by XDP action, packets and bytes).  Read directly rather
 * than through `xdp-filter status', which refuses to report while the
 * harness has the program off the interface for the baseline's turn.
 */
#define XDPF_STATS_PIN "/sys/fs/bpf/xdp-filter/xdp_stats_map"

struct xdpf_stat {
	uint64_t packets, bytes;
};

int peer_xdp_filter_counts(const char *ifname, struct peer_counts *counts)
{
	int ncpu = libbpf_num_possible_cpus(), fd, ret = 0;
	struct xdpf_stat *v;
	uint32_t action;

	memset(counts, 0, sizeof(*counts));
	if (ncpu <= 0)
		return -EINVAL;
	fd = bpf_obj_get(XDPF_STATS_PIN);
	if (fd < 0) {
		peer_err(PEER, "no statistics pinned at %s", XDPF_STATS_PIN);
		return -ENOENT;
	}
	v = calloc((size_t)ncpu, sizeof(*v));
	for (action = XDP_ABORTED; v && action <= XDP_PASS; action++) {
		uint64_t n = 0;
		int i;

		if (bpf_map_lookup_elem(fd, &action, v)) {
			ret = -errno;
			break;
		}
		for (i = 0; i < ncpu; i++)
			n += v[i].packets;
		/* aborted: a header it could not parse, and the frame is gone */
		if (action == XDP_PASS)
			counts->passed += n;
		else
			counts->dropped += n;
	}
	if (!v)
		ret = -ENOMEM;
	free(v);
	close(fd);
	return ret;
}

static int xdpf_processed(const char *ifname, uint64_t *frames)
{
	struct peer_counts c;
	int ret = peer_xdp_filter_counts(ifname, &c);

	*frames = ret ? 0 : c.passed + c.dropped;
	return ret;
}

const struct bench_peer bench_peer_xdp_filter = {
	.name = PEER,
	.describe = "xdp-filter (xdp-tools) in native XDP: port and "
		    "address deny lists, policy allow",
	.cannot = tr_xdp_filter_cannot,
	.install = xdpf_install,
	.processed = xdpf_processed,
	.remove = xdpf_remove,
	.after_xdp = false,
};
