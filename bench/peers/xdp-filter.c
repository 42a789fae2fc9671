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
static uint64_t action_pkts(const char *text, const char *action)
{
	const char *p = strstr(text, action);

	return p ? strtoull(p + strlen(action), NULL, 10) : 0;
}

int peer_xdp_filter_counts(const char *ifname, struct peer_counts *counts)
{
	const char *argv[] = { "xdp-filter", "status", NULL };
	struct peer_cmd c = { .argv = argv,
			      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
			      .capture = true };
	int ret = peer_run(&c);

	memset(counts, 0, sizeof(*counts));
	if (!ret && !strstr(c.out, "XDP_PASS")) {
		peer_err(PEER, "no statistics in `xdp-filter status'");
		ret = -ENOENT;
	}
	if (!ret) {
		counts->passed = action_pkts(c.out, "XDP_PASS");
		/* aborted: a header it could not parse, and the frame is gone */
		counts->dropped = action_pkts(c.out, "XDP_DROP") +
				  action_pkts(c.out, "XDP_ABORTED");
	}
	peer_cmd_free(&c);
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
