// SPDX-License-Identifier: GPL-2.0-only
/*
 * Established flows for ct-est, made the way a host makes them: the
 * host's own packet leaves through moat's TC egress program, which
 * records the flow (a TCP packet with ACK is picked up as established,
 * as the host's side of a connection older than the table; UDP and ICMP
 * echo open a flow), and the first arriving packet of the flow finds it
 * and marks it replied.  Both programs run under BPF_PROG_TEST_RUN: the
 * egress program loaded on the instance's pinned conntrack maps, as
 * moat_dp_attach loads it, and the running generation, as veth-b runs it.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "ct_flows.h"
#include "moat_egress.skel.h"

int ct_snapshot(struct moat_dp *dp, struct ct_snapshot *out)
{
	struct moat_dp_row *rows = NULL;
	int n = 0, ret;

	memset(out, 0, sizeof(*out));
	ret = moat_dp_ct_status(dp, &out->s) ?: moat_dp_rows(dp, &rows, &n);
	for (int i = 0; !ret && i < n; i++) {
		if (rows[i].fixed && !strcmp(rows[i].name, "established"))
			out->established += rows[i].packets;
		else
			out->elsewhere += rows[i].packets;
	}
	free(rows);
	out->taken = !ret;
	return ret;
}

static uint64_t since(uint64_t before, uint64_t after)
{
	return after > before ? after - before : 0;
}

void ct_result_of(const struct ct_snapshot *a, const struct ct_snapshot *b,
		  struct ct_result *r)
{
	uint64_t made =
		since(a->s.stat[MOAT_CTC_CREATED], b->s.stat[MOAT_CTC_CREATED]);

	r->max = b->s.max;
	r->entries_start = a->s.entries;
	r->entries_end = b->s.entries;
	r->established = since(a->established, b->established);
	r->elsewhere = since(a->elsewhere, b->elsewhere);
	r->processed = r->established + r->elsewhere;
	r->created = made;
	r->reused =
		since(a->s.stat[MOAT_CTC_REUSED], b->s.stat[MOAT_CTC_REUSED]);
	r->insert_failed = since(a->s.stat[MOAT_CTC_INSERT_FAILED],
				 b->s.stat[MOAT_CTC_INSERT_FAILED]);
	r->invalid =
		since(a->s.stat[MOAT_CTC_INVALID], b->s.stat[MOAT_CTC_INVALID]);
	/* nothing was flushed in between, and expired entries stay: every
	 * entry made that did not add to the count took an evicted one's place */
	r->evicted = since(since(a->s.entries, b->s.entries), made);
	r->table_bytes = b->s.table_bytes;
	r->bytes_per_flow = b->s.bytes_per_flow;
}

/* The egress program on the instance's table, as dp_ct_attach loads it. */
static int egress_open(struct moat_dp *dp, struct moat_egress **out)
{
	static const char *const names[] = { "ct", "ct_conf", "ct_stats" };
	struct moat_egress *skel = moat_egress__open();
	char path[512];
	int ret = skel ? 0 : -errno;

	for (size_t i = 0; !ret && i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *m =
			bpf_object__find_map_by_name(skel->obj, names[i]);
		int fd;

		snprintf(path, sizeof(path), "%s/%s", moat_dp_pin_root(dp),
			 names[i]);
		fd = bpf_obj_get(path);
		ret = fd < 0 ? -errno : m ? bpf_map__reuse_fd(m, fd) : -ENOENT;
		if (fd >= 0)
			close(fd);
	}
	ret = ret ?: moat_egress__load(skel);
	if (ret) {
		bench_err("loading moat's egress program on %s: %s",
			  moat_dp_pin_root(dp), strerror(-ret));
		moat_egress__destroy(skel);
		return ret;
	}
	*out = skel;
	return 0;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a[i];

		a[i] = b[i];
		b[i] = x;
	}
}

/*
 * The host's packet of the flow whose arriving frame is @f: addresses
 * and ports swapped (which leaves every checksum as it was); an ICMP
 * echo becomes the host's echo request with the same identifier, the
 * key of an echo flow.
 */
static void reverse(uint8_t *f, const struct bench_template *t)
{
	unsigned int alen = t->family == 4 ? 4 : 16;
	unsigned int src = t->family == 4 ? 14 + 12 : 14 + 8;
	unsigned int l4 = t->family == 4 ? 14 + 20 : 14 + 40;
	uint16_t old, c;

	swap_bytes(f, f + 6, 6);
	swap_bytes(f + src, f + src + alen, alen);
	if (t->has_ports) {
		swap_bytes(f + l4, f + l4 + 2, 2);
		return;
	}
	old = bench_load16(f + l4);
	f[l4] = t->family == 4 ? 8 : 128;
	c = bench_csum_update(bench_load16(f + l4 + 2), old,
			      bench_load16(f + l4));
	bench_store16(f + l4 + 2, c);
}

static int test_run(int prog, uint8_t *frame, unsigned int len, uint32_t *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o))
		return -errno;
	*ret = o.retval;
	return 0;
}

/* Entries that are established (TCP) or replied (the others). */
static int count_established(struct moat_dp *dp, size_t *n, size_t *est)
{
	struct moat_ct_flow *v = NULL;
	int ret = moat_dp_ct_list(dp, NULL, &v, n);

	*est = 0;
	for (size_t i = 0; !ret && i < *n; i++)
		*est += v[i].state == MOAT_CTS_ESTABLISHED ||
			v[i].state == MOAT_CTS_REPLIED;
	free(v);
	return ret;
}

int ct_prime(struct moat_dp *dp, const struct traffic *tr, uint64_t *flows,
	     char *why, size_t len)
{
	uint64_t n = tr->flows ? tr->flows : tr->n, passed = 0;
	int xdp = moat_dp_generation_fd(dp), ret;
	uint8_t frame[BENCH_FRAME_MAX], out[BENCH_FRAME_MAX];
	struct moat_egress *eg = NULL;
	struct ct_snapshot a, b;
	size_t entries = 0, est = 0;
	uint32_t verdict = 0;

	*flows = 0;
	ret = egress_open(dp, &eg);
	if (ret) {
		snprintf(why, len, "loading moat_egress: %s", strerror(-ret));
		return ret;
	}
	bench_progress("establishing %llu flows: the host's packet of each "
		       "through moat_egress, then the arriving one",
		       (unsigned long long)n);
	for (uint64_t f = 0; !ret && f < n && !bench_stop; f++) {
		traffic_flow_frame(tr, f, frame);
		memcpy(out, frame, tr->frame_len);
		reverse(out, &tr->t[f % tr->n]);
		ret = test_run(bpf_program__fd(eg->progs.moat_egress), out,
			       tr->frame_len, &verdict);
	}
	moat_egress__destroy(eg);
	ret = ret ?: ct_snapshot(dp, &a);
	for (uint64_t f = 0; !ret && f < n && !bench_stop; f++) {
		traffic_flow_frame(tr, f, frame);
		ret = test_run(xdp, frame, tr->frame_len, &verdict);
		passed += !ret && verdict == XDP_PASS;
	}
	if (!ret && bench_stop)
		ret = -EINTR;
	ret = ret			  ?:
		      ct_snapshot(dp, &b) ?:
					    count_established(dp, &entries, &est);
	if (ret) {
		snprintf(why, len, "establishing the flows: %s",
			 strerror(-ret));
		return ret;
	}
	bench_progress(
		"%zu entries, %zu of them established or replied; of %llu "
		"arriving frames %llu passed, %llu in the established row, "
		"%llu elsewhere",
		entries, est, (unsigned long long)n, (unsigned long long)passed,
		(unsigned long long)(b.established - a.established),
		(unsigned long long)(b.elsewhere - a.elsewhere));
	if (!entries || est != entries || passed != n ||
	    b.established - a.established != n || b.elsewhere != a.elsewhere) {
		snprintf(
			why, len,
			"flows not established: %zu of %zu entries, %llu of %llu "
			"frames in the established row",
			est, entries,
			(unsigned long long)(b.established - a.established),
			(unsigned long long)n);
		return -EPROTO;
	}
	*flows = n;
	return 0;
}
