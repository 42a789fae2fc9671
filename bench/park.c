// SPDX-License-Identifier: GPL-2.0-only
/*
 * The park: idle interfaces that hold programs, so that test runs of
 * them are cheap.
 *
 * BPF_PROG_TEST_RUN of an XDP program with repeat > 1 installs the
 * program in the kernel's XDP dispatcher for the duration of the call
 * and removes it at the end (bpf_prog_change_xdp), and each change waits
 * for an RCU grace period: some 27 ms a call on the development machine,
 * whatever the call sends.  That is 15% of a 2^20-frame live-frames call
 * at 6 Mpps, and the whole of a short one.  A program the dispatcher
 * already holds (one attached to an interface) costs no change.  So the
 * generator and test-run's programs are attached, in generic mode, to
 * interfaces that carry nothing: one veth pair per two slots, down, in a
 * namespace of their own (moatbench-PID-p), removed with the topology.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "topology.h"

int park_create(struct topology *t)
{
	int pid = (int)getpid(), ret;
	char path[64], name[TOPO_PARK_SLOTS][16];
	const char *add[] = { "ip", "netns", "add", t->park_ns, NULL };

	snprintf(t->park_ns, sizeof(t->park_ns), "moatbench-%d-p", pid);
	ret = topo_ip(add);
	if (ret)
		return ret;
	t->park_created = true;
	snprintf(path, sizeof(path), "/run/netns/%s", t->park_ns);
	t->park_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->park_fd < 0)
		return -errno;
	for (int s = 0; s < TOPO_PARK_SLOTS; s++)
		snprintf(name[s], sizeof(name[s]), "mb%dp%d", pid, s);
	for (int s = 0; !ret && s < TOPO_PARK_SLOTS; s += 2) {
		/* a veth pair is two slots; the last may be an odd one out */
		const char *link[] = { "ip",
				       "-n",
				       t->park_ns,
				       "link",
				       "add",
				       name[s],
				       "type",
				       "veth",
				       "peer",
				       "name",
				       s + 1 < TOPO_PARK_SLOTS ? name[s + 1] :
								 "mbparkx",
				       NULL };

		ret = topo_ip(link);
	}
	if (ret)
		return ret;
	if (setns(t->park_fd, CLONE_NEWNET) < 0)
		return -errno;
	for (int s = 0; !ret && s < TOPO_PARK_SLOTS; s++) {
		t->park_ifindex[s] = (int)if_nametoindex(name[s]);
		if (!t->park_ifindex[s])
			ret = -errno;
	}
	return topo_leave(t) ?: ret;
}

void park_destroy(struct topology *t)
{
	const char *del[] = { "ip", "netns", "delete", t->park_ns, NULL };

	/* the programs come off with the interfaces */
	if (t->park_fd >= 0)
		close(t->park_fd);
	t->park_fd = -1;
	if (t->park_created)
		topo_ip(del);
	t->park_created = false;
}

int topo_park(const struct topology *t, enum topo_park_slot slot, int prog_fd)
{
	int ret;

	if (t->park_fd < 0 || slot >= TOPO_PARK_SLOTS)
		return -EINVAL;
	if (setns(t->park_fd, CLONE_NEWNET) < 0)
		return -errno;
	if (prog_fd >= 0)
		ret = bpf_xdp_attach(t->park_ifindex[slot], prog_fd,
				     XDP_FLAGS_SKB_MODE, NULL);
	else
		ret = bpf_xdp_detach(t->park_ifindex[slot], XDP_FLAGS_SKB_MODE,
				     NULL);
	if (ret)
		bench_err("parking a program (slot %d): %s", slot,
			  strerror(-ret));
	return topo_leave(t) ?: ret;
}
