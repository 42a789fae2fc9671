// SPDX-License-Identifier: GPL-2.0-only
/*
 * Namespaces and veth through ip(8): the commands are the ones an
 * operator would type to rebuild the topology by hand, and they are
 * printed when they fail.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "topology.h"

extern char **environ;

/* The topology to remove at exit, if the program ends without doing so. */
static struct topology *live;

static int run_ip(const char *const *argv)
{
	char line[512] = "";
	pid_t pid;
	int status, ret;

	ret = posix_spawnp(&pid, "ip", NULL, NULL, (char *const *)argv,
			   environ);
	if (ret) {
		bench_err("cannot run ip(8): %s", strerror(ret));
		return -ret;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	for (int i = 0; argv[i]; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%s%s", i ? " " : "", argv[i]);
	bench_err("command failed: `%s'", line);
	return -EIO;
}

static void disable_ipv6(void)
{
	const char *paths[] = { "/proc/sys/net/ipv6/conf/default/disable_ipv6",
				"/proc/sys/net/ipv6/conf/all/disable_ipv6" };

	/* a kernel without IPv6 has no such files, and nothing to silence */
	for (size_t i = 0; i < 2; i++) {
		int fd = open(paths[i], O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "1\n", 2) != 2)
				bench_err("%s: %s", paths[i], strerror(errno));
			close(fd);
		}
	}
}

static void destroy_at_exit(void)
{
	if (live)
		topo_destroy(live);
}

int topo_create(struct topology *t, int nqueues)
{
	static bool registered;
	char q[16], path[64];
	int pid = (int)getpid(), ret;

	memset(t, 0, sizeof(*t));
	t->nsfd[0] = t->nsfd[1] = t->home_fd = -1;
	snprintf(q, sizeof(q), "%d", nqueues < 1 ? 1 : nqueues);
	for (int s = 0; s < 2; s++) {
		snprintf(t->ns[s], sizeof(t->ns[s]), "moatbench-%d-%c", pid,
			 'a' + s);
		snprintf(t->ifname[s], sizeof(t->ifname[s]), "mb%d%c", pid,
			 'a' + s);
	}
	if (!registered && !atexit(destroy_at_exit))
		registered = true;
	live = t;

	t->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home_fd < 0)
		return -errno;
	for (int s = 0; s < 2; s++) {
		const char *add[] = { "ip", "netns", "add", t->ns[s], NULL };

		ret = run_ip(add);
		if (ret)
			goto fail;
		t->created[s] = true;
		snprintf(path, sizeof(path), "/run/netns/%s", t->ns[s]);
		t->nsfd[s] = open(path, O_RDONLY | O_CLOEXEC);
		if (t->nsfd[s] < 0) {
			ret = -errno;
			bench_err("%s: %s", path, strerror(errno));
			goto fail;
		}
		ret = topo_enter(t, (enum topo_side)s);
		if (ret)
			goto fail;
		disable_ipv6();
	}
	ret = topo_leave(t);
	if (ret)
		goto fail;

	const char *link[] = { "ip",
			       "link",
			       "add",
			       t->ifname[0],
			       "numtxqueues",
			       q,
			       "numrxqueues",
			       q,
			       "netns",
			       t->ns[0],
			       "type",
			       "veth",
			       "peer",
			       "name",
			       t->ifname[1],
			       "numtxqueues",
			       q,
			       "numrxqueues",
			       q,
			       "netns",
			       t->ns[1],
			       NULL };
	ret = run_ip(link);
	for (int s = 0; !ret && s < 2; s++) {
		const char *up[] = { "ip",  "-n",	  t->ns[s], "link",
				     "set", t->ifname[s], "up",	    NULL };

		ret = run_ip(up);
	}
	for (int s = 0; !ret && s < 2; s++) {
		ret = topo_enter(t, (enum topo_side)s);
		t->ifindex[s] = ret ? 0 : (int)if_nametoindex(t->ifname[s]);
		if (!ret && !t->ifindex[s])
			ret = -errno;
	}
	ret = ret ?: topo_leave(t);
	if (ret)
		goto fail;
	return 0;
fail:
	topo_destroy(t);
	return ret;
}

void topo_destroy(struct topology *t)
{
	/* back home first: a thread cannot stay in a namespace being removed */
	if (t->home_fd >= 0)
		topo_leave(t);
	/* removing a namespace removes its end of the veth, and so both */
	for (int s = 0; s < 2; s++) {
		const char *del[] = { "ip", "netns", "delete", t->ns[s], NULL };

		if (t->nsfd[s] >= 0)
			close(t->nsfd[s]);
		t->nsfd[s] = -1;
		if (t->created[s])
			run_ip(del);
		t->created[s] = false;
	}
	if (t->home_fd >= 0)
		close(t->home_fd);
	t->home_fd = -1;
	if (live == t)
		live = NULL;
}

int topo_enter(const struct topology *t, enum topo_side side)
{
	if (setns(t->nsfd[side], CLONE_NEWNET) < 0) {
		bench_err("setns %s: %s", t->ns[side], strerror(errno));
		return -errno;
	}
	return 0;
}

int topo_leave(const struct topology *t)
{
	if (setns(t->home_fd, CLONE_NEWNET) < 0) {
		bench_err("setns back home: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int ethtool(int sock, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(sock, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

int topo_xmit_errors(const struct topology *t, uint64_t *errors)
{
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *stats = NULL;
	uint32_t n = 0;
	bool found = false;
	int sock, ret;

	*errors = 0;
	ret = topo_enter(t, TOPO_A);
	if (ret)
		return ret;
	/* a socket answers for the namespace it was made in */
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ret = sock < 0 ? -errno : 0;
	ret = topo_leave(t) ?: ret;
	if (ret)
		goto out;

	info = calloc(1, sizeof(*info) + sizeof(uint32_t));
	ret = info ? 0 : -ENOMEM;
	if (!ret) {
		info->cmd = ETHTOOL_GSSET_INFO;
		info->sset_mask = 1ull << ETH_SS_STATS;
		ret = ethtool(sock, t->ifname[0], info);
		n = info->sset_mask ? info->data[0] : 0;
	}
	names = ret ? NULL : calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	stats = ret ? NULL : calloc(1, sizeof(*stats) + n * sizeof(uint64_t));
	if (!ret && (!names || !stats))
		ret = -ENOMEM;
	if (ret)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	ret = ethtool(sock, t->ifname[0], names) ?:
		      ethtool(sock, t->ifname[0], stats);
	for (uint32_t i = 0; !ret && i < n; i++) {
		const char *name =
			(const char *)names->data + (size_t)i * ETH_GSTRING_LEN;
		size_t len = strnlen(name, ETH_GSTRING_LEN);

		if (len >= 15 &&
		    !strncmp(name + len - 15, "xdp_xmit_errors", 15)) {
			*errors += stats->data[i];
			found = true;
		}
	}
	if (!ret && !found)
		ret = -ENOENT;
out:
	if (sock >= 0)
		close(sock);
	free(info);
	free(names);
	free(stats);
	return ret;
}

int topo_remove_stale(void)
{
	struct dirent *de;
	DIR *d = opendir("/run/netns");
	int pid, removed = 0;
	char side, path[64];

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *del[] = { "ip", "netns", "delete", de->d_name,
				      NULL };

		if (sscanf(de->d_name, "moatbench-%d-%c", &pid, &side) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (access(path, F_OK) == 0)
			continue; /* its moat-bench still runs */
		if (!run_ip(del))
			removed++;
	}
	closedir(d);
	return removed;
}
