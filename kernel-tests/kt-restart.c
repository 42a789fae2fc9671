// SPDX-License-Identifier: GPL-2.0-only
/*
 * kill -9 under traffic: enforcement outlives moatd.
 *
 * moatd protects srv0 with a ruleset that drops UDP to port 7001 (flow
 * x) and allows UDP to 7002 (flow y) and ping.  A sender in the client
 * namespace floods both flows at a steady 2,000 datagrams a second each,
 * receivers in the server namespace count what arrives, and in the middle
 * of it moatd is killed with SIGKILL, left dead for a second, and started
 * again with the same configuration.
 *
 * The program must keep enforcing throughout: not one datagram of x may
 * arrive, before, during or after the kill; y must keep flowing while
 * moatd is dead; the new moatd must adopt what is pinned (same
 * generation, same programs, counters carried on); moatctl must read the
 * counters while no moatd runs.  Only `moatctl detach` ends enforcement.
 * Before moatd's first start, `moatctl status` prints its report and
 * exits 1: nothing is pinned, the instance enforces nothing.
 *
 * usage: kt-restart MOATD MOATCTL
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kt-moatd.h"
#include "kt.h"

#define SRV_ADDR "10.91.0.2"
#define PORT_X 7001 /* dropped by flow-x */
#define PORT_Y 7002 /* allowed by flow-y */
#define PERIOD_NS 500000 /* one datagram to each port every 0.5 ms */
#define PAYLOAD 32
#define DETACHED_SENT 100

static const char ruleset[] = "policy drop\n"
			      "allow ping    icmp type echo-request\n"
			      "allow flow-y  udp dport 7002\n"
			      "drop  flow-x  udp dport 7001\n";

struct flow {
	uint16_t port;
	int rx; /* bound in the server namespace */
	_Atomic uint64_t sent, received;
};

static struct flow flows[2] = { { .port = PORT_X }, { .port = PORT_Y } };
static struct flow *const fx = &flows[0], *const fy = &flows[1];
static int tx = -1; /* made in the client namespace */
static atomic_bool flooding, receiving;
static struct kt_moatd moatd;
static const char *cli_ns, *srv_ns;

/* What `moatctl status` says, in one read. */
struct snap {
	char running[8], attached[8], mode[16];
	uint64_t gen, gen_prog, entry_prog;
};

static void send_one(struct flow *f)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(f->port) };
	char buf[PAYLOAD] = "kt-restart";

	inet_pton(AF_INET, SRV_ADDR, &to.sin_addr);
	if (sendto(tx, buf, sizeof(buf), 0, (struct sockaddr *)&to,
		   sizeof(to)) > 0)
		atomic_fetch_add(&f->sent, 1);
}

/* A steady rate, not bursts: the schedule is absolute. */
static void *flood(void *arg)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	while (atomic_load(&flooding)) {
		send_one(fx);
		send_one(fy);
		t.tv_nsec += PERIOD_NS;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
	return NULL;
}

static void *receive(void *arg)
{
	struct pollfd p[2] = { { .fd = fx->rx, .events = POLLIN },
			       { .fd = fy->rx, .events = POLLIN } };
	char buf[2048];
	int i;

	while (atomic_load(&receiving)) {
		if (poll(p, 2, 50) <= 0)
			continue;
		for (i = 0; i < 2; i++)
			while (recv(flows[i].rx, buf, sizeof(buf),
				    MSG_DONTWAIT) > 0)
				atomic_fetch_add(&flows[i].received, 1);
	}
	return NULL;
}

/* A UDP socket of namespace @ns, bound to @port unless it is 0. */
static int udp_socket(const char *ns, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd, big = 8 << 20;

	if (kt_enter(ns))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	kt_leave();
	if (fd < 0)
		return -1;
	/* the receiver must never be the one that loses a datagram */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (port && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * IPv6 off and static neighbours both ways: the kernel sends no neighbour
 * discovery, no MLD and no ARP of its own, so the frames the program sees
 * are the test's alone, and every row has an exact expected count.
 */
static int setup_net(void)
{
	const char *ns[2] = { cli_ns, srv_ns };
	int i;

	for (i = 0; i < 2; i++)
		if (kt_netns(ns[i]) ||
		    kt_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
			  ns[i]) ||
		    kt_sh("ip -n %s link set lo up", ns[i]))
			return -1;
	return kt_sh("ip -n %s link add cli0 type veth peer name srv0 netns %s",
		     cli_ns, srv_ns) ||
	       kt_sh("ip -n %s addr add 10.91.0.1/24 dev cli0", cli_ns) ||
	       kt_sh("ip -n %s addr add " SRV_ADDR "/24 dev srv0", srv_ns) ||
	       kt_sh("ip -n %s neigh replace " SRV_ADDR
		     " dev cli0 nud permanent lladdr $(ip -n %s -br link show srv0 | awk '{print $3}')",
		     cli_ns, srv_ns) ||
	       kt_sh("ip -n %s neigh replace 10.91.0.1 dev srv0 nud permanent lladdr $(ip -n %s -br link show cli0 | awk '{print $3}')",
		     srv_ns, cli_ns) ||
	       kt_sh("ip -n %s link set cli0 up", cli_ns) ||
	       kt_sh("ip -n %s link set srv0 up", srv_ns);
}

static int status(struct snap *s)
{
	char out[256];
	unsigned long long g, gp, ep;
	int st;

	memset(s, 0, sizeof(*s));
	st = kt_moatctl(
		&moatd, "status",
		"\"\\(.moatd.running) \\(.generation.generation) \\(.generation.prog_id) \" + "
		"(.interfaces[] | select(.name == \"srv0\") | \"\\(.prog_id) \\(.attached) \\(.mode)\")",
		out, sizeof(out));
	if (st)
		return -1;
	if (sscanf(out, "%7s %llu %llu %llu %7s %15s", s->running, &g, &gp, &ep,
		   s->attached, s->mode) != 6)
		return -1;
	s->gen = g;
	s->gen_prog = gp;
	s->entry_prog = ep;
	return 0;
}

/* Packets of a rule (@fixed false) or a fixed row, per `moatctl rules`. */
static uint64_t row(const char *name, bool fixed)
{
	char filter[160];
	uint64_t v;

	snprintf(
		filter, sizeof(filter),
		".rules[] | select(.name == \"%s\" and .fixed == %s) | .packets",
		name, fixed ? "true" : "false");
	if (kt_moatctl_u64(&moatd, "rules", filter, &v))
		return UINT64_MAX;
	return v;
}

static bool ping3(void)
{
	return kt_run("ip netns exec %s ping -q -c 3 -i 0.2 -W 2 " SRV_ADDR
		      " >/dev/null",
		      cli_ns) == 0;
}

static void sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* The state the new moatd must find: @b, read before the kill. */
static void check_same(const char *when, const struct snap *b,
		       const struct snap *s)
{
	char name[160];

	snprintf(name, sizeof(name), "%s: generation %llu, as before the kill",
		 when, ull(b->gen));
	kt_check(s->gen == b->gen, name, "generation %llu", ull(s->gen));
	snprintf(name, sizeof(name), "%s: same generation program (id %llu)",
		 when, ull(b->gen_prog));
	kt_check(s->gen_prog == b->gen_prog, name, "id %llu", ull(s->gen_prog));
	snprintf(name, sizeof(name),
		 "%s: srv0 attached, same entry program (id %llu)", when,
		 ull(b->entry_prog));
	kt_check(!strcmp(s->attached, "true") && s->entry_prog == b->entry_prog,
		 name, "attached %s, id %llu", s->attached, ull(s->entry_prog));
}

/* The state read before the kill, that the dead and the new moatd must show. */
static struct snap before;
static uint64_t x_counted; /* flow-x, as last read */

static void while_running(void)
{
	kt_check(ping3(), "ping before the kill: 3 replies (rule ping)", "no");
	kt_check(!status(&before) && !strcmp(before.running, "true") &&
			 !strcmp(before.attached, "true") &&
			 !strcmp(before.mode, "native"),
		 "status before the kill: running, srv0 attached native",
		 "running %s, attached %s, mode %s", before.running,
		 before.attached, before.mode);
	x_counted = row("flow-x", false);
	kt_check(x_counted > 0 && x_counted != UINT64_MAX,
		 "flow-x counts the flood while moatd runs", "%llu",
		 ull(x_counted));
}

static void while_dead(void)
{
	uint64_t y_recv0, y_sent0, y_recv, y_sent, x;
	struct snap dead;
	int st = 0;

	kt_check(!kt_moatd_kill(&moatd, SIGKILL, &st) && WIFSIGNALED(st) &&
			 WTERMSIG(st) == SIGKILL,
		 "kill -9 moatd", "wait status %#x", st);
	y_recv0 = atomic_load(&fy->received);
	y_sent0 = atomic_load(&fy->sent);

	/* moatctl rules reads the pins: it never needed moatd */
	x = row("flow-x", false);
	kt_check(x != UINT64_MAX && x >= x_counted,
		 "moatctl rules while moatd is dead: flow-x still counting",
		 "%llu, was %llu", ull(x), ull(x_counted));
	x_counted = x;
	kt_check(!status(&dead) && !strcmp(dead.running, "false"),
		 "moatctl status while moatd is dead: not running",
		 "running '%s'", dead.running);
	check_same("status while dead", &before, &dead);
	kt_check(ping3(), "ping while moatd is dead: 3 replies (rule ping)",
		 "no");

	sleep_ms(1000);
	y_recv = atomic_load(&fy->received) - y_recv0;
	y_sent = atomic_load(&fy->sent) - y_sent0;
	printf("# while moatd was dead: flow y sent %llu, received %llu\n",
	       ull(y_sent), ull(y_recv));
	/*
	 * Flowing, not necessarily all of it yet: a busy machine may hold
	 * some in the socket.  The whole run's count below is exact.
	 */
	kt_check(y_sent > 0 && y_recv >= y_sent / 2,
		 "flow y kept flowing while moatd was dead",
		 "sent %llu, received %llu", ull(y_sent), ull(y_recv));
	kt_check(atomic_load(&fx->received) == 0,
		 "flow x: nothing arrived before or while moatd was dead",
		 "%llu datagrams", ull(atomic_load(&fx->received)));
}

static void after_restart(void)
{
	struct snap after;
	uint64_t x;
	int err;

	err = kt_moatd_start(&moatd);
	kt_check(!err, "a new moatd starts with the same configuration", "%s",
		 strerror(-err));
	kt_check(!kt_run("grep -q 'adopting generation %llu' %s",
			 ull(before.gen), moatd.log),
		 "the new moatd adopts the pinned generation",
		 "no 'adopting' line in %s", moatd.log);
	kt_check(!status(&after) && !strcmp(after.running, "true") &&
			 !strcmp(after.mode, "native"),
		 "status after the restart: running, native",
		 "running '%s' mode '%s'", after.running, after.mode);
	check_same("status after the restart", &before, &after);
	x = row("flow-x", false);
	kt_check(x != UINT64_MAX && x >= x_counted,
		 "flow-x counter carried on (not reset)",
		 "%llu after, %llu while dead", ull(x), ull(x_counted));
	sleep_ms(1000);
	kt_check(ping3(), "ping after the restart: 3 replies (rule ping)",
		 "no");
}

/* Once the flood has stopped: every count of the whole run. */
static void whole_run(void)
{
	static const char *const none[] = { "policy", "arp", "nd", "non-ip",
					    "malformed" };
	uint64_t xs = atomic_load(&fx->sent), ys = atomic_load(&fy->sent);
	uint64_t yr = atomic_load(&fy->received);
	char name[64];
	size_t i;

	printf("# flood: x sent %llu, y sent %llu, y received %llu\n", ull(xs),
	       ull(ys), ull(yr));
	kt_check(atomic_load(&fx->received) == 0,
		 "flow x: not one datagram arrived in the whole run", "%llu",
		 ull(atomic_load(&fx->received)));
	/*
	 * Every datagram the sender handed to the kernel went out of cli0
	 * (static neighbours: none waits for ARP) and met the program, under
	 * one moatd, the other or none: each rule counted each of its own
	 * once, and the counters never went back.
	 */
	kt_check(row("flow-x", false) == xs,
		 "flow-x counted every datagram sent to 7001",
		 "%llu counted, %llu sent", ull(row("flow-x", false)), ull(xs));
	kt_check(row("flow-y", false) == ys,
		 "flow-y counted every datagram sent to 7002",
		 "%llu counted, %llu sent", ull(row("flow-y", false)), ull(ys));
	kt_check(yr == ys, "flow y: every datagram arrived", "%llu of %llu",
		 ull(yr), ull(ys));
	/* three pings of three echo requests */
	kt_check(row("ping", false) == 9, "ping counted 9 echo requests",
		 "%llu", ull(row("ping", false)));
	/* static neighbours, IPv6 off: nothing else was sent */
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		snprintf(name, sizeof(name), "%s counted nothing", none[i]);
		kt_check(row(none[i], true) == 0, name, "%llu",
			 ull(row(none[i], true)));
	}
}

static void after_detach(void)
{
	struct snap s;
	int i;

	kt_check(
		!kt_run("nsenter --net=/run/netns/%s %s -i %s -s %s detach srv0 >/dev/null",
			srv_ns, moatd.moatctl, moatd.instance, moatd.sock),
		"moatctl detach srv0", "failed");
	kt_check(!status(&s) && !strcmp(s.attached, "false"),
		 "status after detach: srv0 not attached", "attached '%s'",
		 s.attached);
	atomic_store(&fx->sent, 0);
	for (i = 0; i < DETACHED_SENT; i++) {
		send_one(fx);
		sleep_ms(1);
	}
	sleep_ms(300);
	kt_check(atomic_load(&fx->received) == DETACHED_SENT &&
			 atomic_load(&fx->sent) == DETACHED_SENT,
		 "after detach, datagrams to 7001 arrive", "%llu of %llu",
		 ull(atomic_load(&fx->received)), ull(atomic_load(&fx->sent)));
}

int main(int argc, char **argv)
{
	char path[PATH_MAX + 16];
	pthread_t th_tx, th_rx;
	const char *dir, *inst;
	int st;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MOATD MOATCTL\n", argv[0]);
		return 2;
	}
	/* lines reach meson's log even when a timeout kills the test */
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_require_kernel();
	cli_ns = kt_name("ktrc");
	srv_ns = kt_name("ktrs");
	inst = kt_name("ktrst");
	kt_cleanup_instance(inst);
	if (setup_net())
		kt_skip("cannot create network namespaces joined by a veth pair");
	dir = kt_tmpdir("kt-restart");
	snprintf(path, sizeof(path), "%s/ruleset", dir ? dir : "");
	if (!dir || kt_write_file(path, ruleset) ||
	    kt_moatd_init(&moatd, argv[1], argv[2], srv_ns, inst, dir, "srv0",
			  path)) {
		kt_check(false, "write moatd's configuration", "in %s", dir);
		return kt_done();
	}
	/* before moatd's first start: the report, and a failure for scripts */
	st = kt_run("out=$(nsenter --net=/run/netns/%s %s -i %s -s %s --json status 2>/dev/null); "
		    "st=$?; printf '%%s\\n' \"$out\" | jq -e '.pinned == false and .moatd.running == false' >/dev/null && exit $st; exit 99",
		    srv_ns, moatd.moatctl, moatd.instance, moatd.sock);
	kt_check(st == 1, "status with nothing pinned, moatd down: the report, exit 1",
		 "exit %d (99: the JSON did not say so)", st);
	st = kt_moatd_start(&moatd);
	if (!kt_check(!st, "moatd starts", "%s (log %s)", strerror(-st),
		      moatd.log))
		return kt_done();

	fx->rx = udp_socket(srv_ns, PORT_X);
	fy->rx = udp_socket(srv_ns, PORT_Y);
	tx = udp_socket(cli_ns, 0);
	if (!kt_check(fx->rx >= 0 && fy->rx >= 0 && tx >= 0, "UDP sockets",
		      "%s", strerror(errno)))
		return kt_done();
	atomic_store(&receiving, true);
	atomic_store(&flooding, true);
	pthread_create(&th_rx, NULL, receive, NULL);
	pthread_create(&th_tx, NULL, flood, NULL);

	sleep_ms(1000);
	while_running();
	while_dead();
	after_restart();
	atomic_store(&flooding, false);
	pthread_join(th_tx, NULL);
	sleep_ms(
		300); /* the last datagrams reach the program and the sockets */
	whole_run();
	after_detach();
	atomic_store(&receiving, false);
	pthread_join(th_rx, NULL);

	kt_check(!kt_moatd_kill(&moatd, SIGTERM, &st) && WIFEXITED(st) &&
			 WEXITSTATUS(st) == 0,
		 "moatd exits 0 on SIGTERM", "wait status %#x", st);
	return kt_done();
}
