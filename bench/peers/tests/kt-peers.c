// SPDX-License-Identifier: GPL-2.0-only
/*
 * The peers' translations in the running kernel, held to the reference
 * matcher frame by frame.
 *
 * Two namespaces joined by a veth pair: frames are written from A with
 * a packet socket and arrive on B's veth, where one peer at a time is
 * installed by its own tool.  veth-b carries the frames' destination
 * MAC, so the IP stack takes them as the host's and the peers that sit
 * in it (nft-sets at prerouting, iptables in raw) see them; IPv6 is off
 * in A, so that A sends nothing of its own.
 *
 * Each ruleset comes with frames: the ones aimed at each rule, the same
 * flows as later fragments, flows with fields crossed between rules,
 * and neighbour discovery (and, for nft-netdev, which sees them, ARP
 * and LLDP).  The reference matcher splits them into those moat passes
 * and those it drops.  The passes are sent first: afterwards the peer
 * must have dropped nothing and passed them all.  Then the drops: it
 * must have dropped exactly those.  Two reads of the counters show
 * that every frame got moat's verdict, whatever the order of sending.
 * When a count is off, the frames are sent again one by one to name
 * the first that differ.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "classbench.h"
#include "kt-peers.h"
#include "kt.h"
#include "peer.h"
#include "peers.h"

static const uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static char ns_a[32], ns_b[32], if_a[16], if_b[16];
static int sock = -1, ifindex_a;
static bool xdpf_installed;

/* --- the wire and the counters ---------------------------------------- */

static int send_frame(const struct frames *fs, size_t i)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_ifindex = ifindex_a,
				  .sll_halen = 6 };

	memcpy(to.sll_addr, dst_mac, 6);
	if (sendto(sock, fs->buf[i], fs->len[i], 0, (struct sockaddr *)&to,
		   sizeof(to)) != (ssize_t)fs->len[i])
		return -errno;
	return 0;
}

typedef int (*counts_fn)(const char *, struct peer_counts *);

/* The counts once @total frames have landed (or what there is after 2 s). */
static int settle(counts_fn counts, uint64_t total, struct peer_counts *c)
{
	for (int i = 0; i < 200; i++) {
		int ret = counts(if_b, c);

		if (ret || c->passed + c->dropped >= total)
			return ret;
		usleep(10000);
	}
	return 0;
}

/*
 * Send the frames moat gives @drop again, one at a time, and name the
 * first that the peer judges otherwise.
 */
static void diagnose(counts_fn counts, const struct moat_ruleset *rs,
		     const struct frames *fs, bool l2, bool drop)
{
	struct peer_counts before, after;
	int shown = 0;

	for (size_t i = 0; i < fs->n && shown < 5; i++) {
		char what[256];

		if (fs->drop[i] != drop || (!l2 && !fs->ip[i]))
			continue;
		if (counts(if_b, &before) || send_frame(fs, i) ||
		    settle(counts, before.passed + before.dropped + 1, &after))
			return;
		if ((after.dropped > before.dropped) == drop)
			continue;
		frames_describe(fs, rs, i, what, sizeof(what));
		printf("#   frame %zu, %s: moat %s it, the peer %s\n", i, what,
		       drop ? "drops" : "passes",
		       after.dropped > before.dropped ? "dropped" :
		       after.passed > before.passed   ? "passed" :
							"did not count");
		shown++;
	}
}

/* --- one peer, one ruleset ---------------------------------------------- */

static bool nothing_left(void)
{
	return !access("/sys/fs/bpf/xdp-filter", F_OK) ?
		       false :
		       kt_sh("test -z \"$(nft list tables)\"") == 0;
}

static void check_peer(const struct bench_peer *p, counts_fn counts,
		       const struct moat_ruleset *rs, const char *label,
		       const struct frames *fs)
{
	/* these two see every frame; the others only what the IP stack takes */
	bool l2 = !p->after_xdp || !strcmp(p->name, "nft-netdev");
	uint64_t want[2] = { 0, 0 }, apply_ns = 0, frames = 0;
	struct peer_counts c = { 0 };
	const char *why = p->cannot(rs);
	char name[160];
	bool ok = true;
	int ret;

	snprintf(name, sizeof(name), "%s: %s: can say it", p->name, label);
	if (!kt_check(!why, name, "cannot: %s", why))
		return;
	ret = p->install(rs, if_b, &apply_ns);
	xdpf_installed |= !ret && !strcmp(p->name, "xdp-filter");
	snprintf(name, sizeof(name), "%s: %s: installs", p->name, label);
	if (!kt_check(!ret, name, "install: %s", strerror(-ret)))
		return;
	snprintf(name, sizeof(name), "%s: %s", p->name, label);

	/* the passes first, then the drops: see the top of the file */
	for (int round = 0; round < 2 && ok; round++) {
		bool drop = round == 1;
		char check[200];

		for (size_t i = 0; i < fs->n; i++) {
			if (fs->drop[i] != drop || (!l2 && !fs->ip[i]))
				continue;
			ret = send_frame(fs, i);
			if (ret)
				break;
			want[drop]++;
		}
		if (!ret)
			ret = settle(counts, want[0] + want[1], &c);
		snprintf(check, sizeof(check), "%s: %llu frames moat %s", name,
			 (unsigned long long)want[drop],
			 drop ? "drops, dropped" : "passes, passed");
		ok = kt_check(!ret && c.passed == want[0] &&
				      c.dropped == want[1],
			      check, "%s; the peer passed %llu, dropped %llu",
			      ret ? strerror(-ret) : "counts differ",
			      (unsigned long long)c.passed,
			      (unsigned long long)c.dropped);
		if (!ok && !ret)
			diagnose(counts, rs, fs, l2, drop);
	}
	if (ok) {
		char check[200];

		ret = p->processed(if_b, &frames);
		snprintf(check, sizeof(check),
			 "%s: processed() counts them all", name);
		kt_check(!ret && frames == want[0] + want[1], check,
			 "processed() says %llu, not %llu",
			 (unsigned long long)frames,
			 (unsigned long long)(want[0] + want[1]));
	}
	printf("# %s: %zu rules installed in %.1f ms\n", name, rs->nrules,
	       apply_ns / 1e6);
	p->remove(if_b);
	snprintf(name, sizeof(name), "%s: %s: removed without a trace", p->name,
		 label);
	kt_check(nothing_left(), name, "a table or xdp-filter's pins remain");
}

/* --- rulesets ------------------------------------------------------------- */

static const struct {
	const struct bench_peer *peer;
	counts_fn counts;
} stack_peers[] = {
	{ &bench_peer_nft_netdev, peer_nft_netdev_counts },
	{ &bench_peer_nft_sets, peer_nft_sets_counts },
	{ &bench_peer_iptables_raw, peer_iptables_counts },
};

static void check_all(const struct moat_ruleset *rs, const char *label,
		      const struct frames *fs)
{
	for (size_t i = 0; i < sizeof(stack_peers) / sizeof(stack_peers[0]);
	     i++)
		check_peer(stack_peers[i].peer, stack_peers[i].counts, rs,
			   label, fs);
}

/*
 * ClassBench with a third of the rules turned into allows: first match
 * matters.  200 rules keep the test short; KT_PEERS_RULES asks for more.
 */
static void classbench(uint64_t seed, unsigned int ipv6,
		       enum moat_action policy)
{
	const char *env = getenv("KT_PEERS_RULES");
	struct cb_opts o = { .seed = seed,
			     .nrules = env ? strtoul(env, NULL, 10) : 200,
			     .ipv6_pct = ipv6,
			     .action = MOAT_DROP,
			     .policy = policy };
	struct frames fs = { .iface = if_b };
	struct moat_ruleset rs;
	struct cb_rng r;
	char label[96], name[128];

	snprintf(label, sizeof(label), "classbench %zu, %u%% IPv6, policy %s",
		 o.nrules, ipv6, policy == MOAT_DROP ? "drop" : "allow");
	snprintf(name, sizeof(name), "%s: generates", label);
	if (!kt_check(!cb_generate(&o, &rs), name, "cannot generate"))
		return;
	cb_rng_seed(&r, seed ^ 0xa11);
	for (size_t i = 0; i < rs.nrules; i++)
		if (cb_rng_below(&r, 3) == 0)
			rs.rules[i].action = MOAT_ALLOW;
	snprintf(name, sizeof(name), "%s: frames", label);
	if (kt_check(!frames_classbench(&fs, &rs, seed), name,
		     "cannot build frames"))
		check_all(&rs, label, &fs);
	frames_free(&fs);
	moat_ruleset_free(&rs);
}

static int parse(const char *text, struct moat_ruleset *rs)
{
	struct moat_diags d = { 0 };
	int ret = moat_ruleset_parse(text, strlen(text), rs, &d);

	if (ret)
		moat_diags_print(&d, "<test>", stderr);
	moat_diags_free(&d);
	return ret;
}

/* Every field kind, lists, ranges, `in', versions: nft and iptables. */
static void fields(void)
{
	char text[1024];
	struct frames fs = { .iface = if_b };
	struct moat_ruleset rs;

	snprintf(text, sizeof(text),
		 "policy drop\n"
		 "allow lst   tcp, udp from 10.1.0.0/16, 2001:db8:1::/48 "
		 "dport 80, 443, 8000-8099\n"
		 "drop  syn   tcp flags syn/syn,ack\n"
		 "allow ack   tcp to 10.2.0.0/16 flags ack\n"
		 "allow ping  icmp type echo-request, 13-14 code 0\n"
		 "allow ping6 icmpv6 type echo-request, echo-reply\n"
		 "drop  gre   proto 47, sctp from 10.3.0.0/16, 2001:db8::1\n"
		 "allow sc    sctp sport 1-1000\n"
		 "allow here  udp dport 53 in %s\n"
		 "allow there udp dport 54 in other0\n"
		 "allow any6  udp from ::/0\n"
		 "allow frag  tcp from 10.4.0.0/16\n"
		 "drop  rst   tcp flags /rst,fin to 10.9.9.9\n"
		 "allow rest  tcp dport 0-1000\n",
		 if_b);
	if (!kt_check(!parse(text, &rs), "fields: parses", "see stderr"))
		return;
	if (kt_check(!frames_pool(&fs, &rs, 11, 600, true, true),
		     "fields: frames", "cannot build"))
		check_all(&rs, "fields", &fs);
	frames_free(&fs);
	moat_ruleset_free(&rs);
}

/* What xdp-filter can say, and nft and iptables the same. */
static void xdp_filter(void)
{
	static const char text[] =
		"policy allow\n"
		"drop  p22   tcp dport 22\n"
		"drop  p53   udp sport 53\n"
		"drop  prng  tcp, udp dport 8000-8003\n"
		"drop  a1    from 192.0.2.1\n"
		"drop  a2    to 2001:db8::5\n"
		"drop  a3    from 198.51.100.1, 2001:db8::1\n"
		"allow tail  tcp dport 80\n";
	struct frames fs = { .iface = if_b };
	struct moat_ruleset rs;

	if (!kt_check(!parse(text, &rs), "xdp-filter ruleset: parses",
		      "see stderr"))
		return;
	/*
	 * No later fragments (xdp-filter reads their payload as ports) and
	 * no neighbour discovery or ARP (it checks their addresses
	 * against its lists): documented differences, not tested ones.
	 */
	if (kt_check(!frames_pool(&fs, &rs, 12, 400, false, false),
		     "xdp-filter ruleset: frames", "cannot build")) {
		check_peer(&bench_peer_xdp_filter, peer_xdp_filter_counts, &rs,
			   "lists", &fs);
		check_all(&rs, "xdp-filter's lists", &fs);
	}
	frames_free(&fs);
	moat_ruleset_free(&rs);
}

/* --- apply times, on request ------------------------------------------------ */

/* --- the topology ---------------------------------------------------------- */

static void remove_peers(void)
{
	if (kt_enter(ns_b))
		return;
	bench_peer_nft_netdev.remove(if_b);
	bench_peer_nft_sets.remove(if_b);
	bench_peer_iptables_raw.remove(if_b);
	bench_peer_xdp_filter.remove(if_b);
	/* xdp-filter's pins outlive the interface: take them down with it */
	if (xdpf_installed && !access("/sys/fs/bpf/xdp-filter", F_OK))
		kt_sh("xdp-filter unload --all >/dev/null 2>&1");
	kt_leave();
}

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void topology(void)
{
	snprintf(ns_a, sizeof(ns_a), "%s", kt_name("ktpeers-a"));
	snprintf(ns_b, sizeof(ns_b), "%s", kt_name("ktpeers-b"));
	snprintf(if_a, sizeof(if_a), "%s", kt_name("kpa"));
	snprintf(if_b, sizeof(if_b), "%s", kt_name("kpb"));
	if (kt_netns(ns_a) || kt_netns(ns_b))
		kt_skip("cannot create network namespaces");
	atexit(remove_peers);
	/* A sends only what the test writes */
	if (kt_enter(ns_a) ||
	    write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") ||
	    write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1") ||
	    kt_leave())
		kt_skip("cannot turn IPv6 off in %s", ns_a);
	if (kt_sh("ip link add %s netns %s type veth peer name %s netns %s",
		  if_a, ns_a, if_b, ns_b) ||
	    kt_sh("ip -n %s link set %s up", ns_a, if_a) ||
	    kt_sh("ip -n %s link set %s address 02:00:00:00:00:02 up", ns_b,
		  if_b))
		kt_skip("cannot create the veth pair");
	if (kt_enter(ns_a))
		kt_skip("cannot enter %s", ns_a);
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ifindex_a = (int)if_nametoindex(if_a);
	if (sock < 0 || !ifindex_a)
		kt_skip("no packet socket on %s", if_a);
	if (kt_enter(ns_b))
		kt_skip("cannot enter %s", ns_b);
}

int main(void)
{
	static const char *const tools[] = { "nft", "iptables-restore",
					     "ip6tables-restore",
					     "xdp-filter" };
	uint64_t start;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_require_kernel();
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (kt_sh("command -v %s >/dev/null", tools[i]))
			kt_skip("%s is not installed", tools[i]);
	if (!access("/sys/fs/bpf/xdp-filter", F_OK))
		kt_skip("xdp-filter is in use on this host: its lists are global");
	topology();

	if (getenv("KT_PEERS_APPLY")) {
		peers_apply_times(getenv("KT_PEERS_APPLY"), if_b);
		xdpf_installed = true;
		return 0;
	}
	start = kt_now_ns();
	classbench(7, 0, MOAT_ALLOW);
	classbench(8, 50, MOAT_DROP);
	fields();
	xdp_filter();
	printf("# %.2f s\n", (kt_now_ns() - start) / 1e9);
	return kt_done();
}
