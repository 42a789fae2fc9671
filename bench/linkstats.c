// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interface counters.  veth's ethtool statistics are named
 * rx_queue_N_xdp_packets, rx_queue_N_drops, tx_queue_N_xdp_xmit_errors
 * and so on (drivers/net/veth.c); other drivers name theirs differently,
 * so a given NIC usually reports none of these, and the report says
 * "not known" rather than 0.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "linkstats.h"

static int ethtool(int sock, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(sock, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* Call @fn for each ethtool statistic of @ifname (in the current netns). */
static int each_stat(const char *ifname,
		     void (*fn)(const char *name, uint64_t v, void *arg),
		     void *arg)
{
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *stats = NULL;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;
	uint32_t n = 0;

	ret = sock < 0 ? -errno : 0;
	info = ret ? NULL : calloc(1, sizeof(*info) + sizeof(uint32_t));
	if (!ret && !info)
		ret = -ENOMEM;
	if (!ret) {
		info->cmd = ETHTOOL_GSSET_INFO;
		info->sset_mask = 1ull << ETH_SS_STATS;
		ret = ethtool(sock, ifname, info);
		n = !ret && info->sset_mask ? info->data[0] : 0;
	}
	names = ret ? NULL : calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	stats = ret ? NULL : calloc(1, sizeof(*stats) + n * sizeof(uint64_t));
	if (!ret && (!names || !stats))
		ret = -ENOMEM;
	if (!ret) {
		names->cmd = ETHTOOL_GSTRINGS;
		names->string_set = ETH_SS_STATS;
		names->len = n;
		stats->cmd = ETHTOOL_GSTATS;
		stats->n_stats = n;
		ret = ethtool(sock, ifname, names) ?:
						     ethtool(sock, ifname, stats);
	}
	for (uint32_t i = 0; !ret && i < n; i++) {
		char name[ETH_GSTRING_LEN + 1] = "";

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN,
		       ETH_GSTRING_LEN);
		fn(name, stats->data[i], arg);
	}
	if (sock >= 0)
		close(sock);
	free(info);
	free(names);
	free(stats);
	return ret;
}

struct veth_side {
	struct link_counters *c;
	int side;
	int found;
};

static void take(const char *name, uint64_t v, void *arg)
{
	struct veth_side *vs = arg;
	struct link_counters *c = vs->c;
	char what[ETH_GSTRING_LEN + 1];
	unsigned int q;

	if (sscanf(name, "tx_queue_%u_%32s", &q, what) == 2 &&
	    !strcmp(what, "xdp_xmit_errors")) {
		if (vs->side == TOPO_A)
			c->xmit_errors += v;
		else
			c->return_errors += v;
		vs->found |= 1;
	} else if (vs->side == TOPO_B &&
		   sscanf(name, "rx_queue_%u_%32s", &q, what) == 2) {
		if (!strcmp(what, "xdp_packets") && q < BENCH_MAX_QUEUES) {
			c->rx_xdp[q] = v;
			if ((int)q + 1 > c->nqueues)
				c->nqueues = (int)q + 1;
			vs->found |= 2;
		} else if (!strcmp(what, "drops")) {
			c->rx_drops += v;
		}
	}
}

static int link_stats(const char *ifname, struct rtnl_link_stats *out)
{
	struct ifaddrs *ifa, *i;
	int ret = -ENOENT;

	/* getifaddrs asks the namespace of the calling thread */
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET &&
		    i->ifa_data && !strcmp(i->ifa_name, ifname)) {
			memcpy(out, i->ifa_data, sizeof(*out));
			ret = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return ret;
}

int link_counters_read(const struct topology *t, struct link_counters *c)
{
	struct rtnl_link_stats ls[2];
	int found[2] = { 0, 0 }, lret[2] = { 0, 0 }, ret = 0;

	memset(c, 0, sizeof(*c));
	for (int s = 0; !ret && s < 2; s++) {
		struct veth_side vs = { .c = c, .side = s };

		ret = topo_enter(t, (enum topo_side)s);
		if (ret)
			break;
		/* a driver without ethtool statistics is not an error */
		each_stat(t->ifname[s], take, &vs);
		found[s] = vs.found;
		lret[s] = link_stats(t->ifname[s], &ls[s]);
		ret = topo_leave(t);
	}
	c->xdp_known = (found[TOPO_A] & 1) && (found[TOPO_B] & 3) == 3;
	c->link_known = !lret[0] && !lret[1];
	if (c->link_known) {
		c->tx_dropped = ls[TOPO_A].tx_dropped;
		c->rx_dropped = ls[TOPO_B].rx_dropped;
	}
	return ret;
}

void link_counters_sub(const struct link_counters *after,
		       const struct link_counters *before,
		       struct link_counters *out)
{
	*out = *after;
	out->xmit_errors -= before->xmit_errors;
	out->return_errors -= before->return_errors;
	out->rx_drops -= before->rx_drops;
	for (int q = 0; q < BENCH_MAX_QUEUES; q++)
		out->rx_xdp[q] -= before->rx_xdp[q];
	/* the link statistics of getifaddrs are 32-bit and wrap */
	out->tx_dropped = (uint32_t)(after->tx_dropped - before->tx_dropped);
	out->rx_dropped = (uint32_t)(after->rx_dropped - before->rx_dropped);
	out->xdp_known = after->xdp_known && before->xdp_known;
	out->link_known = after->link_known && before->link_known;
}
