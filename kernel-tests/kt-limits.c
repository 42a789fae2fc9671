// SPDX-License-Identifier: GPL-2.0-only
/*
 * kt-limits: rate limits, audit mode and verdict logs, through the real
 * XDP program under BPF_PROG_TEST_RUN.
 *
 * Rate limits: frames are offered as fast as test runs go (far above the
 * limit) for a measured time; what passes must be within 10% of
 * rate x time + burst, per rule and per source, in packets and in bytes,
 * and what did not pass is exactly the rule's over-limit count.
 * Audit: nothing is dropped and would-drop counts are exact.  Logs: the
 * number of events read from the ring buffer matches the sampling rate
 * (within 5 binomial standard deviations), and under a flood the
 * instance's log rate holds (events <= rate x time + burst, the rest
 * counted as suppressed).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dataplane.h"
#include "frame.h"
#include "kt-dp.h"
#include "kt.h"

static const char limit_rules[] =
	"policy allow\n"
	"allow pkts  udp dport 7 limit 2000/s burst 50\n"
	"allow bytes udp dport 8 limit 200kbytes/s burst 10kbytes\n"
	"allow each  udp dport 9 limit 1000/s burst 20 per-source\n"
	"allow soft  udp dport 10 limit 500/s over-limit allow\n"
	"allow sampled udp dport 11 log 1/10\n"
	"drop  flood udp dport 12 log\n";

static const char audit_rules[] = "policy drop\n"
				  "mode audit\n"
				  "drop  bad  udp dport 7\n"
				  "allow ok   udp dport 8\n";

static const char rule_audit_rules[] = "policy allow\n"
				       "drop  bad1 udp dport 7 audit\n"
				       "drop  real udp dport 8\n";

static size_t udp_frame(uint8_t *buf, uint8_t src_last, uint16_t dport,
			uint16_t payload)
{
	struct moat_frame_spec f = {
		.kind = MOAT_FRAME_IP,
		.family = AF_INET,
		.src = { 192, 0, 2, src_last },
		.dst = { 198, 51, 100, 1 },
		.proto = MOAT_PROTO_UDP,
		.sport = 40000,
		.dport = dport,
		.payload = payload,
	};

	return moat_frame_build(&f, buf, MOAT_FRAME_MAX);
}


static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static bool row(struct moat_dp *dp, const char *name, struct moat_dp_row *out)
{
	struct moat_dp_row *r;
	int n;
	bool found = false;

	if (moat_dp_rows(dp, &r, &n))
		return false;
	for (int i = 0; i < n; i++)
		if (!strcmp(r[i].name, name)) {
			*out = r[i];
			found = true;
		}
	free(r);
	return found;
}

/*
 * Offer frames to @dport for @secs seconds, from @nsrc sources in turn;
 * passed[i] counts what passed from source i.
 */
static int offer(int prog, uint16_t dport, uint16_t payload, int nsrc,
		 double secs, uint64_t *offered, uint64_t *passed, double *took)
{
	static uint8_t frames[4][MOAT_FRAME_MAX];
	size_t len[4];
	double t0 = now_s();
	uint32_t ret;
	int i, err;

	for (i = 0; i < nsrc; i++) {
		passed[i] = 0;
		len[i] = udp_frame(frames[i], (uint8_t)(10 + i), dport, payload);
	}
	*offered = 0;
	for (uint64_t k = 0;; k++) {
		i = (int)(k % (uint64_t)nsrc);
		err = kt_xdp_run(prog, frames[i], len[i], 1, &ret);
		if (err)
			return err;
		(*offered)++;
		passed[i] += ret == XDP_PASS;
		if ((k & 63) == 0 && now_s() - t0 >= secs)
			break;
	}
	*took = now_s() - t0;
	return 0;
}

static void within(const char *name, double got, double want, double tol)
{
	printf("# %s: %.0f, expected %.0f (%+.1f%%)\n", name, got, want,
	       100 * (got - want) / want);
	kt_check(fabs(got - want) <= tol * want, name,
		 "passed %.0f, want %.0f within %.0f%%", got, want, tol * 100);
}

static void limit_checks(struct moat_dp *dp)
{
	int prog = moat_dp_generation_fd(dp);
	uint64_t offered, passed[4];
	struct moat_dp_row r = { 0 };
	double took;
	int err;

	/* packets: 2000/s, burst 50 */
	err = offer(prog, 7, 18, 1, 2.0, &offered, passed, &took);
	kt_check(!err && offered > 10 * (2000 * took + 50),
		 "packets: offered far above the limit", "offered %llu in %.2f s",
		 (unsigned long long)offered, took);
	within("limit 2000/s burst 50: pass rate within 10%", (double)passed[0],
	       2000 * took + 50, 0.10);
	kt_check(row(dp, "pkts", &r) && r.over_packets == offered - passed[0] &&
			 r.packets == offered,
		 "limit 2000/s: over-limit counts exactly what was dropped",
		 "over %llu, packets %llu; dropped %llu of %llu",
		 (unsigned long long)r.over_packets, (unsigned long long)r.packets,
		 (unsigned long long)(offered - passed[0]), (unsigned long long)offered);

	/* bytes: 200 kB/s of frames of 1000 bytes: 200 frames a second */
	err = offer(prog, 8, 1000 - 42, 1, 2.0, &offered, passed, &took);
	within("limit 200kbytes/s burst 10kbytes: pass rate within 10%",
	       (double)passed[0] * 1000, 200000 * took + 10000, 0.10);
	kt_check(row(dp, "bytes", &r) && r.over_packets == offered - passed[0],
		 "limit in bytes: over-limit counts exactly", "over %llu, want %llu",
		 (unsigned long long)r.over_packets,
		 (unsigned long long)(offered - passed[0]));

	/* per source: each of 3 sources gets 1000/s */
	err = offer(prog, 9, 18, 3, 2.0, &offered, passed, &took);
	for (int i = 0; i < 3; i++) {
		char name[80];

		snprintf(name, sizeof(name),
			 "limit 1000/s per-source: source %d within 10%%", i + 1);
		within(name, (double)passed[i], 1000 * took + 20, 0.10);
	}

	/* over-limit allow: everything passes, what was over is counted */
	err = offer(prog, 10, 18, 1, 1.0, &offered, passed, &took);
	kt_check(!err && passed[0] == offered, "over-limit allow: nothing dropped",
		 "passed %llu of %llu", (unsigned long long)passed[0],
		 (unsigned long long)offered);
	kt_check(row(dp, "soft", &r) &&
			 fabs((double)(r.packets - r.over_packets) - (500 * took + 500)) <=
				 0.1 * (500 * took + 500),
		 "over-limit allow: within the limit counted apart from over it",
		 "packets %llu, over %llu", (unsigned long long)r.packets,
		 (unsigned long long)r.over_packets);
}

struct events {
	uint64_t n;
	uint64_t by_slot[2];
	uint32_t slot[2];
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct events *e = ctx;
	const struct moat_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	e->n++;
	for (int i = 0; i < 2; i++)
		if (ev->slot == e->slot[i])
			e->by_slot[i]++;
	return 0;
}

static uint64_t ev_stat(struct moat_dp *dp, int fd, uint32_t i)
{
	uint64_t v[512] = { 0 }, sum = 0;
	int ncpu = libbpf_num_possible_cpus();

	(void)dp;
	if (ncpu <= 0 || ncpu > 512 || bpf_map_lookup_elem(fd, &i, v))
		return 0;
	for (int c = 0; c < ncpu; c++)
		sum += v[c];
	return sum;
}

static void log_checks(struct moat_dp *dp, uint32_t log_rate)
{
	int prog = moat_dp_generation_fd(dp), fd, sfd;
	struct events e = { 0 };
	struct ring_buffer *rb;
	struct moat_dp_row r = { 0 };
	uint64_t offered, passed[4], sent0, rate0;
	char path[512];
	double took;
	uint8_t buf[MOAT_FRAME_MAX];
	size_t len;
	uint32_t ret;

	snprintf(path, sizeof(path), "%s/events", moat_dp_pin_root(dp));
	fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/ev_stats", moat_dp_pin_root(dp));
	sfd = bpf_obj_get(path);
	if (!kt_check(fd >= 0 && sfd >= 0, "the event ring buffer is pinned", "%s",
		      strerror(errno)))
		return;
	rb = ring_buffer__new(fd, on_event, &e, NULL);
	if (!kt_check(rb != NULL, "read the ring buffer", "%s", strerror(errno)))
		return;
	row(dp, "sampled", &r);
	e.slot[0] = r.slot;
	row(dp, "flood", &r);
	e.slot[1] = r.slot;

	if (log_rate >= 100000) {
		/* sampling: 20000 frames at 1 in 10 */
		len = udp_frame(buf, 1, 11, 18);
		for (int i = 0; i < 20000; i++) {
			kt_xdp_run(prog, buf, len, 1, &ret);
			if (i % 1000 == 999)
				ring_buffer__consume(rb);
		}
		ring_buffer__consume(rb);
		/* binomial: mean 2000, sd ~42 */
		printf("# log 1/10: %llu events of 20000 frames\n",
		       (unsigned long long)e.by_slot[0]);
		kt_check(e.by_slot[0] >= 2000 - 5 * 42 && e.by_slot[0] <= 2000 + 5 * 42,
			 "log 1/10: 20000 frames give 2000 events within 5 sd",
			 "%llu events", (unsigned long long)e.by_slot[0]);
	} else {
		sent0 = ev_stat(dp, sfd, MOAT_EVC_SENT);
		rate0 = ev_stat(dp, sfd, MOAT_EVC_RATE);
		offer(prog, 12, 18, 1, 2.0, &offered, passed, &took);
		ring_buffer__consume(rb);
		printf("# flood: %llu frames in %.2f s, %llu events at log rate %u/s\n",
		       (unsigned long long)offered, took,
		       (unsigned long long)e.by_slot[1], log_rate);
		kt_check(passed[0] == 0, "flood: the drop rule dropped everything",
			 "passed %llu", (unsigned long long)passed[0]);
		kt_check(e.by_slot[1] <= (uint64_t)(log_rate * took + MOAT_LOG_BURST + 1) &&
				 e.by_slot[1] >= (uint64_t)(0.9 * (log_rate * took)),
			 "flood: events held to the log rate",
			 "%llu events in %.2f s at %u/s (offered %llu)",
			 (unsigned long long)e.by_slot[1], took, log_rate,
			 (unsigned long long)offered);
		kt_check(ev_stat(dp, sfd, MOAT_EVC_SENT) - sent0 == e.by_slot[1] &&
				 ev_stat(dp, sfd, MOAT_EVC_RATE) - rate0 ==
					 offered - e.by_slot[1],
			 "flood: every event sent or counted as suppressed",
			 "sent %llu, suppressed %llu, offered %llu",
			 (unsigned long long)(ev_stat(dp, sfd, MOAT_EVC_SENT) - sent0),
			 (unsigned long long)(ev_stat(dp, sfd, MOAT_EVC_RATE) - rate0),
			 (unsigned long long)offered);
	}
	ring_buffer__free(rb);
	close(fd);
	close(sfd);
}

static void audit_checks(struct moat_dp *dp)
{
	int prog = moat_dp_generation_fd(dp);
	uint8_t buf[MOAT_FRAME_MAX];
	struct moat_dp_row r = { 0 };
	uint32_t ret, passed = 0;
	size_t len;

	if (!kt_check(!kt_apply_text(dp, audit_rules, "kt-limits"), "apply a ruleset in mode audit", "see above"))
		return;
	for (uint16_t port = 7; port <= 9; port++) {
		len = udp_frame(buf, 1, port, 18);
		for (int i = 0; i < 100; i++)
			passed += !kt_xdp_run(prog, buf, len, 1, &ret) && ret == XDP_PASS;
	}
	kt_check(passed == 300, "mode audit: all 300 frames pass", "passed %u", passed);
	kt_check(row(dp, "bad", &r) && r.would_drop == 100 && r.packets == 100,
		 "mode audit: drop rule would have dropped its 100", "would %llu",
		 (unsigned long long)r.would_drop);
	kt_check(row(dp, "ok", &r) && r.would_drop == 0, "mode audit: allow rule would drop none",
		 "would %llu", (unsigned long long)r.would_drop);
	kt_check(row(dp, "policy", &r) && r.would_drop == 100,
		 "mode audit: the drop policy would have dropped its 100",
		 "would %llu", (unsigned long long)r.would_drop);

	if (!kt_check(!kt_apply_text(dp, rule_audit_rules, "kt-limits"), "apply a ruleset with one audit rule",
		      "see above"))
		return;
	passed = 0;
	len = udp_frame(buf, 1, 7, 18);
	for (int i = 0; i < 50; i++)
		passed += !kt_xdp_run(prog = moat_dp_generation_fd(dp), buf, len, 1, &ret) && ret == XDP_PASS;
	kt_check(passed == 50 && row(dp, "bad1", &r) && r.would_drop == 50,
		 "audit rule: 50 pass, 50 would-drop", "passed %u, would %llu", passed,
		 (unsigned long long)r.would_drop);
	passed = 0;
	len = udp_frame(buf, 1, 8, 18);
	for (int i = 0; i < 50; i++)
		passed += !kt_xdp_run(prog, buf, len, 1, &ret) && ret == XDP_PASS;
	kt_check(passed == 0, "the rule without audit still drops", "passed %u", passed);
}

int main(void)
{
	struct moat_dp_opts o = { .instance = kt_dp_begin("ktlim"), .capacity = 64,
				  .log_rate = 1000000 };
	struct moat_dp *dp = NULL;
	int err;

	err = moat_dp_open(&o, &dp);
	if (!kt_check(!err, "open an instance", "%s", strerror(-err)))
		return kt_done();
	if (kt_check(!kt_apply_text(dp, limit_rules, "kt-limits"), "apply the limits ruleset", "see above")) {
		limit_checks(dp);
		log_checks(dp, o.log_rate);
	}
	moat_dp_close(dp);

	/* the same instance with a low log rate, then a flood */
	o.log_rate = 500;
	err = moat_dp_open(&o, &dp);
	if (kt_check(!err, "reopen with log rate 500", "%s", strerror(-err)) &&
	    kt_check(!kt_apply_text(dp, limit_rules, "kt-limits"), "apply again", "see above"))
		log_checks(dp, o.log_rate);
	if (dp)
		audit_checks(dp);
	moat_dp_close(dp);
	return kt_done();
}
