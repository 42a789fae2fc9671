// SPDX-License-Identifier: GPL-2.0-only
/*
 * Namespaces and veth through ip(8): the commands are the ones an
 * operator would type to rebuild the topology by hand, and they are
 * printed when they fail.  Or interfaces the operator gave, which are
 * used as they are and never removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "topology.h"

extern char **environ;

/* The topology to remove at exit, if the program ends without doing so. */
static struct topology *live;

int topo_ip(const char *const *argv)
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

/* The interfaces' MAC addresses: frames are addressed to veth-b's. */
static int read_macs(struct topology *t)
{
	int ret = 0;

	for (int s = 0; !ret && s < 2; s++) {
		struct ifreq ifr = { 0 };
		int sock;

		ret = topo_enter(t, (enum topo_side)s);
		if (ret)
			break;
		sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
			 t->ifname[s]);
		if (sock < 0 || ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
			ret = -errno;
		else
			memcpy(t->mac[s], ifr.ifr_hwaddr.sa_data, 6);
		if (sock >= 0)
			close(sock);
		ret = topo_leave(t) ?: ret;
	}
	if (ret)
		bench_err("reading the MAC addresses: %s", strerror(-ret));
	return ret;
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
	t->nsfd[0] = t->nsfd[1] = t->home_fd = t->park_fd = -1;
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

		ret = topo_ip(add);
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
		/* B keeps IPv6: peers after XDP see IPv6 frames in its stack */
		if (s == TOPO_A)
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
	ret = topo_ip(link);
	for (int s = 0; !ret && s < 2; s++) {
		const char *up[] = { "ip",  "-n",	  t->ns[s], "link",
				     "set", t->ifname[s], "up",	    NULL };

		ret = topo_ip(up);
	}
	for (int s = 0; !ret && s < 2; s++) {
		ret = topo_enter(t, (enum topo_side)s);
		t->ifindex[s] = ret ? 0 : (int)if_nametoindex(t->ifname[s]);
		if (!ret && !t->ifindex[s])
			ret = -errno;
	}
	ret = ret ?: topo_leave(t) ?: read_macs(t) ?: park_create(t);
	if (ret)
		goto fail;
	t->veth = true;
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
	park_destroy(t);
	/* removing a namespace removes its end of the veth, and so both */
	for (int s = 0; s < 2; s++) {
		const char *del[] = { "ip", "netns", "delete", t->ns[s], NULL };

		if (t->nsfd[s] >= 0)
			close(t->nsfd[s]);
		t->nsfd[s] = -1;
		if (t->created[s])
			topo_ip(del);
		t->created[s] = false;
	}
	if (t->home_fd >= 0)
		close(t->home_fd);
	t->home_fd = -1;
	if (live == t)
		live = NULL;
}

int topo_use(struct topology *t, const char *const ifname[2],
	     const char *const ns[2])
{
	char path[64];
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->nsfd[0] = t->nsfd[1] = t->park_fd = -1;
	t->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home_fd < 0)
		return -errno;
	for (int s = 0; !ret && s < 2; s++) {
		snprintf(t->ifname[s], sizeof(t->ifname[s]), "%s", ifname[s]);
		snprintf(t->ns[s], sizeof(t->ns[s]), "%s", ns[s] ? ns[s] : "");
		snprintf(path, sizeof(path), "/run/netns/%s",
			 ns[s] ? ns[s] : "");
		t->nsfd[s] = ns[s] ? open(path, O_RDONLY | O_CLOEXEC) :
				     dup(t->home_fd);
		if (t->nsfd[s] < 0) {
			ret = -errno;
			bench_err("%s: %s", ns[s] ? path : "this namespace",
				  strerror(errno));
			break;
		}
		ret = topo_enter(t, (enum topo_side)s);
		t->ifindex[s] = ret ? 0 : (int)if_nametoindex(ifname[s]);
		if (!ret && !t->ifindex[s]) {
			ret = -errno;
			bench_err("no interface `%s' in %s%s", ifname[s],
				  ns[s] ? "namespace " : "this namespace",
				  ns[s] ? ns[s] : "");
		}
		ret = topo_leave(t) ?: ret;
	}
	ret = ret ?: read_macs(t) ?: park_create(t);
	if (ret)
		topo_destroy(t);
	return ret;
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
		if (!topo_ip(del))
			removed++;
	}
	closedir(d);
	return removed;
}
