// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generation attached directly (dataplane/attach.c).  Where there is
 * no libxdp dispatcher and the instance protects one interface, that
 * interface runs the generation's own program, and each apply replaces
 * it there.  Real frames cross a veth pair (an AF_PACKET socket on the
 * peer) while rulesets are swapped:
 *
 *   - the one interface runs the generation itself, the new one after
 *     every apply, the applies leave no descriptor open and no retired
 *     generation alive, and every frame is counted by one generation's rule
 *     (as in kt-swap: ruleset A counts flow i as xi, B as yi; a frame
 *     anywhere else was misclassified), none lost;
 *   - an apply whose switch the kernel refuses (MOAT_FAULT=switch)
 *     changes nothing: the interface, gens and the pins stay, frames are
 *     counted as before;
 *   - a new handle adopts the direct attachment;
 *   - a second interface puts the entry program on both, an apply then
 *     goes through gens; with one interface left the next apply puts the
 *     generation back directly; told to attach the entry only
 *     (moatd's xdp-attach entry), the next apply puts the entry there,
 *     and back; detach leaves the interface bare.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"

#define NFLOWS 3
#define SWAPS 200

static const char *const flow_rules[NFLOWS] = {
	"to 10.1.0.1", /* destination trie */
	"udp dport 5001", /* destination port table */
	"proto 47", /* the catch-all list */
};

static uint8_t frames[NFLOWS][MOAT_FRAME_MAX];
static size_t frame_len[NFLOWS];
static _Atomic uint64_t sent[NFLOWS];
static atomic_bool stop;
static int sock = -1;
static struct moat_dp *dp;
static char if0[IF_NAMESIZE], if1[IF_NAMESIZE];

static void build_frames(void)
{
	for (int i = 0; i < NFLOWS; i++) {
		struct moat_frame_spec f = { .family = AF_INET,
					     .proto = 17,
					     .sport = 40000,
					     .dport = 40000,
					     .src = { 192, 0, 2, 1 },
					     .dst = { 192, 0, 2, 2 } };

		if (i == 0)
			memcpy(f.dst, (uint8_t[]){ 10, 1, 0, 1 }, 4);
		if (i == 1)
			f.dport = 5001;
		if (i == 2)
			f.proto = 47;
		frame_len[i] =
			moat_frame_build(&f, frames[i], sizeof(frames[i]));
	}
}

/* Ruleset text: @first's rules, then @second's, for the same flows. */
static int apply(const char *first, const char *second, struct moat_diags *d)
{
	struct moat_ruleset rs = { 0 };
	char text[512], *p = text;
	int err;

	p += sprintf(p, "policy allow\n");
	for (int i = 0; i < NFLOWS; i++)
		p += sprintf(p, "drop %s%d %s\n", first, i + 1, flow_rules[i]);
	for (int i = 0; i < NFLOWS; i++)
		p += sprintf(p, "drop %s%d %s\n", second, i + 1, flow_rules[i]);
	err = moat_ruleset_parse(text, strlen(text), &rs, d);
	if (!err)
		err = moat_dp_apply(dp, &rs, d, NULL);
	moat_ruleset_free(&rs);
	return err;
}

/* Frame @i out of if1, so that it arrives at if0's XDP program. */
static int send_one(int i)
{
	if (send(sock, frames[i], frame_len[i], 0) != (ssize_t)frame_len[i])
		return -errno;
	atomic_fetch_add(&sent[i], 1);
	return 0;
}

static void *pump(void *arg)
{
	int i = 0;

	(void)arg;
	while (!atomic_load(&stop) && !send_one(i))
		i = (i + 1) % NFLOWS;
	return NULL;
}

/* if1's frames dropped on the way (veth's ring full), from rtnetlink. */
static uint64_t tx_dropped(void)
{
	struct ifaddrs *ifa, *a;
	uint64_t n = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (a = ifa; a; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_PACKET &&
		    !strcmp(a->ifa_name, if1) && a->ifa_data)
			n = ((struct rtnl_link_stats *)a->ifa_data)->tx_dropped;
	freeifaddrs(ifa);
	return n;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* What XDP runs on @ifname now (native mode); 0: nothing. */
static uint32_t attached_id(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query((int)if_nametoindex(ifname), XDP_FLAGS_DRV_MODE, &q))
		return 0;
	return q.prog_id;
}

/* The program id that gens holds (a prog array's lookup gives ids). */
static uint32_t gens_id(void)
{
	char path[512];
	uint32_t k = 0, id = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/gens", moat_dp_pin_root(dp));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &k, &id))
		id = 0;
	close(fd);
	return id;
}

/* Descriptors this process holds. */
static int open_fds(void)
{
	struct dirent *e;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* the directory's own */
}

/* Live programs that use the instance's rule counters: its generations. */
static int live_generations(void)
{
	char path[512];
	struct bpf_map_info mi = {};
	uint32_t len = sizeof(mi), id = 0, counters;
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/rule_counters", moat_dp_pin_root(dp));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	counters = bpf_obj_get_info_by_fd(fd, &mi, &len) ? 0 : mi.id;
	close(fd);
	while (counters && !bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info pi = {};
		uint32_t ids[64], plen = sizeof(pi);

		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		pi.nr_map_ids = 64;
		pi.map_ids = (uint64_t)(unsigned long)ids;
		if (!bpf_obj_get_info_by_fd(fd, &pi, &plen))
			for (uint32_t i = 0; i < pi.nr_map_ids && i < 64; i++)
				n += ids[i] == counters;
		close(fd);
	}
	return n;
}

/*
 * The instance's generations still alive, after the kernel has had a
 * moment to free the retired ones (an RCU grace period and a work item).
 */
static int settled_generations(void)
{
	int n = live_generations();

	for (int i = 0; i < 40 && n > 1; i++) {
		usleep(50 * 1000);
		n = live_generations();
	}
	return n;
}

/* @ifname as moatctl status shows it; false when it is not there. */
static bool iface(const char *ifname, struct moat_dp_iface *out)
{
	struct moat_dp_status st;
	bool found = false;

	if (moat_dp_status(dp, &st))
		return false;
	for (int i = 0; i < st.nifaces; i++)
		if (!strcmp(st.ifaces[i].name, ifname)) {
			*out = st.ifaces[i];
			found = true;
		}
	moat_dp_status_free(&st);
	return found;
}

/* Send @n frames of flow 1 and say whether rule @rule counted each. */
static bool counted_by(const char *rule, int n)
{
	uint64_t before = kt_row_packets(dp, rule), drop0 = tx_dropped();

	for (int i = 0; i < n; i++)
		if (send_one(0))
			return false;
	return kt_row_packets(dp, rule) - before ==
	       (uint64_t)n - (tx_dropped() - drop0);
}

/* The interface runs the generation directly: the running one. */
static bool runs_direct(const char *ifname)
{
	struct moat_dp_iface f;

	return iface(ifname, &f) && f.attached && f.direct &&
	       f.prog_id == prog_id(moat_dp_generation_fd(dp)) &&
	       attached_id(ifname) == f.prog_id;
}

/* The interface runs the entry program, which hands frames to gens. */
static bool runs_entry(const char *ifname)
{
	struct moat_dp_iface f;

	return iface(ifname, &f) && f.attached && !f.direct && f.prog_id &&
	       f.prog_id != prog_id(moat_dp_generation_fd(dp)) &&
	       attached_id(ifname) == f.prog_id;
}

static void swap_under_load(void)
{
	struct moat_diags d = { 0 };
	uint64_t drop0 = tx_dropped(), total = 0, counted = 0, other = 0;
	struct moat_dp_row *rows = NULL;
	int swaps, err = 0, followed = 0, nrows = 0, fds0, fds1, gens;
	char name[96];
	pthread_t th;

	fds0 = open_fds();
	pthread_create(&th, NULL, pump, NULL);
	for (swaps = 0; swaps < SWAPS && !err; swaps++) {
		err = swaps % 2 ? apply("x", "y", &d) : apply("y", "x", &d);
		followed += !err && runs_direct(if0);
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	if (err)
		moat_diags_print(&d, "kt-direct", stderr);
	moat_diags_free(&d);
	snprintf(name, sizeof(name), "%d applies while frames cross the pair",
		 SWAPS);
	kt_check(!err && swaps == SWAPS, name, "apply %d failed: %s", swaps,
		 strerror(-err));
	kt_check(
		followed == SWAPS,
		"after each apply the interface runs the new generation itself",
		"%d of %d", followed, swaps);
	/*
	 * libxdp 1.3 leaked a descriptor of the program it read on the
	 * interface each apply, and with it the old generation and its maps
	 * (dataplane/attach.c, multiprog_get()).
	 */
	fds1 = open_fds();
	kt_check(fds1 - fds0 <= 2, "the applies left no descriptors open",
		 "%d before, %d after %d applies", fds0, fds1, swaps);
	gens = settled_generations();
	kt_check(gens == 1, "the retired generations are freed",
		 "%d of the instance's generations are alive", gens);

	if (!kt_check(!moat_dp_rows(dp, &rows, &nrows), "read counters", "no"))
		return;
	for (int i = 0; i < nrows; i++) {
		if ((rows[i].name[0] == 'x' || rows[i].name[0] == 'y') &&
		    rows[i].name[2] == '\0')
			counted += rows[i].packets;
		else
			other += rows[i].packets;
	}
	for (int i = 0; i < NFLOWS; i++) {
		char x[4], y[4];

		snprintf(x, sizeof(x), "x%d", i + 1);
		snprintf(y, sizeof(y), "y%d", i + 1);
		total += sent[i];
		snprintf(name, sizeof(name),
			 "flow %d: counted under both generations", i + 1);
		kt_check(kt_row_packets(dp, x) > 0 && kt_row_packets(dp, y) > 0,
			 name, "x %llu y %llu",
			 (unsigned long long)kt_row_packets(dp, x),
			 (unsigned long long)kt_row_packets(dp, y));
	}
	printf("# %llu frames sent, %llu dropped by veth, through %d generations\n",
	       (unsigned long long)total,
	       (unsigned long long)(tx_dropped() - drop0), SWAPS + 1);
	kt_check(other == 0,
		 "no frame counted anywhere else (policy, other rows)",
		 "%llu frames", (unsigned long long)other);
	kt_check(counted == total - (tx_dropped() - drop0),
		 "every frame that reached XDP counted once",
		 "%llu counted, %llu sent, %llu dropped by veth",
		 (unsigned long long)counted, (unsigned long long)total,
		 (unsigned long long)(tx_dropped() - drop0));
	free(rows);
}

/* MOAT_FAULT=switch: the kernel refuses the interface's switch. */
static void refused_switch(void)
{
	uint32_t id = attached_id(if0), gens = gens_id();
	struct moat_diags d = { 0 };
	bool named = false;
	char path[512];
	int err;

	setenv("MOAT_FAULT", "switch", 1);
	err = apply("y", "x", &d); /* the other order than the running one */
	unsetenv("MOAT_FAULT");
	for (size_t i = 0; i < d.n; i++)
		named |= d.v[i].severity == MOAT_ERROR &&
			 strstr(d.v[i].msg, if0);
	kt_check(err < 0 && named,
		 "a refused switch fails the apply and names the interface",
		 "err %d, %zu diags, first '%s'", err, d.n,
		 d.n ? d.v[0].msg : "");
	moat_diags_free(&d);
	kt_check(attached_id(if0) == id && runs_direct(if0) &&
			 gens_id() == gens,
		 "the interface, gens and the running generation are unchanged",
		 "attached %u (was %u), gens %u (was %u)", attached_id(if0), id,
		 gens_id(), gens);
	snprintf(path, sizeof(path), "%s/gen-%d", moat_dp_pin_root(dp),
		 SWAPS + 2);
	kt_check(access(path, F_OK) != 0, "no pins of the failed generation",
		 "%s exists", path);
	kt_check(counted_by("x1", 100),
		 "frames are counted by the running rules", "no");
}

int main(void)
{
	const char *ns = kt_name("ktdir"), *inst = kt_name("ktdir");
	struct moat_dp_opts o = { .instance = inst, .capacity = 256 };
	struct moat_dp_features feat;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct moat_diags d = { 0 };
	char path[512];
	uint32_t id;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_require_kernel();
	kt_cleanup_instance(inst);
	snprintf(if0, sizeof(if0), "ktd0-%d", (int)getpid() % 100000);
	snprintf(if1, sizeof(if1), "ktd1-%d", (int)getpid() % 100000);
	/* no IPv6: the kernel's neighbour discovery would reach the program */
	if (kt_netns(ns) || kt_enter(ns) ||
	    kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
		  ns) ||
	    kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1",
		  ns) ||
	    kt_sh("ip netns exec %s ip link add %s type veth peer name %s", ns,
		  if0, if1) ||
	    kt_sh("ip netns exec %s ip link set %s up", ns, if0) ||
	    kt_sh("ip netns exec %s ip link set %s up", ns, if1))
		kt_skip("cannot create a network namespace with a veth pair");
	moat_dp_probe(&feat);
	if (feat.dispatcher)
		kt_skip("libxdp's dispatcher loads here: moat attaches the entry program "
			"under it, never the generation directly");
	build_frames();
	sock = socket(AF_PACKET, SOCK_RAW, 0);
	sll.sll_ifindex = (int)if_nametoindex(if1);
	if (!kt_check(sock >= 0 &&
			      !bind(sock, (struct sockaddr *)&sll, sizeof(sll)),
		      "a packet socket on the peer", "%s", strerror(errno)))
		return kt_done();

	err = moat_dp_open(&o, &dp) ?: apply("x", "y", &d);
	if (!kt_check(!err, "open the instance, apply ruleset A", "%s",
		      strerror(-err)))
		return kt_done();
	err = moat_dp_attach(dp, if0, MOAT_XDP_AUTO);
	kt_check(!err, "attach to the one interface", "%s", strerror(-err));
	kt_check(runs_direct(if0),
		 "it runs the generation's program itself, natively",
		 "attached %u, the generation %u", attached_id(if0),
		 prog_id(moat_dp_generation_fd(dp)));
	snprintf(path, sizeof(path), "%s/links/%s", moat_dp_pin_root(dp), if0);
	kt_check(access(path, F_OK) == 0, "the attachment is pinned", "%s",
		 path);
	kt_check(counted_by("x1", 100), "frames are counted by ruleset A",
		 "no");

	swap_under_load();
	refused_switch();

	/* moatctl status, as moatd answers it, reads the interfaces too */
	{
		struct moat_dp_iface st;
		int before = open_fds(), ok = 0;

		for (int i = 0; i < 100; i++)
			ok += iface(if0, &st);
		kt_check(ok == 100 && open_fds() == before,
			 "a hundred status reads leave no descriptors open",
			 "%d reads, %d descriptors before, %d after", ok,
			 before, open_fds());
	}

	/* a new handle, as a restarted moatd: adopts, attaches nothing new */
	id = attached_id(if0);
	moat_dp_close(dp);
	err = moat_dp_open(&o, &dp) ?: moat_dp_attach(dp, if0, MOAT_XDP_AUTO);
	kt_check(!err && attached_id(if0) == id && runs_direct(if0),
		 "a new handle adopts the direct attachment",
		 "%s, attached %u (was %u)", strerror(-err), attached_id(if0),
		 id);

	err = moat_dp_attach(dp, if1, MOAT_XDP_AUTO);
	kt_check(!err && runs_entry(if0) && runs_entry(if1),
		 "a second interface: both run the entry program", "%s",
		 strerror(-err));
	kt_check(counted_by("x1", 100),
		 "frames still counted by the same rules", "no");
	err = apply("y", "x", &d);
	kt_check(!err && runs_entry(if0) && runs_entry(if1) &&
			 gens_id() == prog_id(moat_dp_generation_fd(dp)),
		 "an apply with two interfaces goes through gens", "%s",
		 strerror(-err));
	kt_check(counted_by("y1", 100), "frames counted by the new rules",
		 "no");

	err = moat_dp_detach(dp, if1) ?: apply("x", "y", &d);
	kt_check(
		!err && runs_direct(if0),
		"one interface left: the next apply attaches the generation directly",
		"%s", strerror(-err));
	kt_check(counted_by("x1", 100), "frames counted by the new rules",
		 "no");

	/* told to attach the entry only: the next apply puts it there */
	moat_dp_set_attach(dp, MOAT_ATTACH_ENTRY);
	err = apply("y", "x", &d);
	kt_check(
		!err && runs_entry(if0) &&
			gens_id() == prog_id(moat_dp_generation_fd(dp)),
		"attach entry: the next apply puts the entry program in its place",
		"%s", strerror(-err));
	kt_check(counted_by("y1", 100), "frames counted by the new rules",
		 "no");
	moat_dp_set_attach(dp, MOAT_ATTACH_AUTO);
	err = apply("x", "y", &d);
	kt_check(!err && runs_direct(if0),
		 "attach auto: the next apply takes it off again", "%s",
		 strerror(-err));

	err = moat_dp_detach(dp, if0);
	kt_check(!err && attached_id(if0) == 0 && access(path, F_OK) != 0,
		 "detach leaves the interface bare, the pin gone",
		 "%s, attached %u", strerror(-err), attached_id(if0));
	moat_diags_free(&d);
	moat_dp_close(dp);
	close(sock);
	return kt_done();
}
