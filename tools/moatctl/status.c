// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl status: asks moatd; when moatd is down, reads the pins and
 * probes the kernel itself, so that the answer never depends on moatd.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "moatctl.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl [-j] status [--json]\n"
		"\n"
		"Whether moatd runs; the running generation (when applied, ruleset hash,\n"
		"rules, terms, program id); counter slots; each interface (attached, XDP\n"
		"mode, libxdp dispatcher, whether frames go via the entry program or to the\n"
		"generation directly, the program's id); kernel features.  Works while\n"
		"moatd is down, from the pinned maps.\n"
		"\n"
		"  -j, --json  one JSON object, full hash\n"
		"  -h, --help  show this help\n");
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static int iface_cmp(const void *a, const void *b)
{
	const struct moat_dp_iface *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void print_ifaces(struct moat_dp_status *dp)
{
	static const char *const heads[] = { "INTERFACE",  "IFINDEX",
					     "ATTACHED",   "MODE",
					     "DISPATCHER", "VIA",
					     "PROGRAM" };
	struct table *t;

	if (!dp->nifaces) {
		printf("\nno interfaces\n");
		return;
	}
	t = table_new("lrlllll", heads);
	if (!t)
		return;
	qsort(dp->ifaces, (size_t)dp->nifaces, sizeof(*dp->ifaces), iface_cmp);
	for (int i = 0; i < dp->nifaces; i++) {
		const struct moat_dp_iface *f = &dp->ifaces[i];

		table_row(t);
		table_cell(t, "%s", f->name);
		table_cell(t, "%u", f->ifindex);
		table_cell(t, "%s", yes(f->attached));
		table_cell(t, "%s",
			   !f->attached ? "-" :
			   f->generic	? "generic" :
					  "native");
		table_cell(t, "%s", f->attached ? yes(f->dispatcher) : "-");
		table_cell(t, "%s",
			   !f->attached ? "-" :
			   f->direct	? "direct" :
					  "entry");
		if (f->attached && f->prog_id)
			table_cell(t, "%u", f->prog_id);
		else
			table_cell(t, "-");
	}
	putchar('\n');
	table_print(t, stdout);
	table_free(t);
}

static void print_ct(const struct moat_dp_ct_status *ct)
{
	putchar('\n');
	if (!ct->enabled) {
		printf("conntrack:   off\n");
		return;
	}
	printf("conntrack:   %llu of %u flows (%.1f%%), table %.1f MiB (%llu bytes a flow)\n",
	       (unsigned long long)ct->entries, ct->max,
	       ct->max ? 100.0 * (double)ct->entries / ct->max : 0.0,
	       (double)ct->table_bytes / (1 << 20),
	       (unsigned long long)ct->bytes_per_flow);
	printf("             made %llu, reused %llu, evicted %llu, insert failures %llu, invalid packets %llu, flushed %llu\n",
	       (unsigned long long)ct->stat[MOAT_CTC_CREATED],
	       (unsigned long long)ct->stat[MOAT_CTC_REUSED],
	       (unsigned long long)ct->evicted,
	       (unsigned long long)ct->stat[MOAT_CTC_INSERT_FAILED],
	       (unsigned long long)ct->stat[MOAT_CTC_INVALID],
	       (unsigned long long)ct->stat[MOAT_CTC_FLUSHED]);
	if (ct->evicted || ct->stat[MOAT_CTC_INSERT_FAILED])
		printf("             warning: the table is under pressure: flows were evicted or not tracked; raise conntrack-max\n");
	printf("timeouts:   ");
	for (int i = 0; i < MOAT_CTT_MAX; i++)
		printf(" %s %us%s", moat_ct_timeout_name[i], ct->timeout_s[i],
		       i + 1 < MOAT_CTT_MAX ? "," : "\n");
}

static void json_ct(struct json *j, const struct moat_dp_ct_status *ct)
{
	json_key(j, "conntrack");
	json_obj_open(j);
	json_kbool(j, "enabled", ct->enabled);
	if (ct->enabled) {
		json_kuint(j, "max", ct->max);
		json_kuint(j, "entries", ct->entries);
		json_kuint(j, "created", ct->stat[MOAT_CTC_CREATED]);
		json_kuint(j, "reused", ct->stat[MOAT_CTC_REUSED]);
		json_kuint(j, "evicted", ct->evicted);
		json_kuint(j, "insert_failed", ct->stat[MOAT_CTC_INSERT_FAILED]);
		json_kuint(j, "invalid", ct->stat[MOAT_CTC_INVALID]);
		json_kuint(j, "flushed", ct->stat[MOAT_CTC_FLUSHED]);
		json_kuint(j, "table_bytes", ct->table_bytes);
		json_kuint(j, "bytes_per_flow", ct->bytes_per_flow);
		json_key(j, "timeouts_s");
		json_obj_open(j);
		for (int i = 0; i < MOAT_CTT_MAX; i++)
			json_kuint(j, moat_ct_timeout_name[i], ct->timeout_s[i]);
		json_obj_close(j);
	}
	json_obj_close(j);
}

static void print_fc(const struct moat_dp_fc_status *fc)
{
	const uint64_t *v = fc->stat;

	if (!fc->buckets4 && !fc->entries6)
		printf("flow cache:  none in this generation (off, or the ruleset is small enough to be compiled into the program)\n");
	else
		printf("flow cache:  %u IPv4 buckets of 2 and %u IPv6 entries a CPU\n",
		       fc->buckets4, fc->entries6);
	if (fc->used4 || fc->used6)
		printf("             in use: up to %u and %u (each CPU's part grows with its flows)\n",
		       fc->used4, fc->used6);
	if (!fc->counted)
		return;
	printf("             since the instance was made: %llu misses, %llu found in a second bucket;\n"
	       "             stored %llu in empty entries, %llu over other flows, %llu not (a reader held them off)\n",
	       (unsigned long long)v[MOAT_FCS_MISS],
	       (unsigned long long)v[MOAT_FCS_SECOND],
	       (unsigned long long)v[MOAT_FCS_FILL],
	       (unsigned long long)v[MOAT_FCS_EVICT],
	       (unsigned long long)v[MOAT_FCS_HELD]);
}

static void json_fc(struct json *j, const struct moat_dp_fc_status *fc)
{
	json_key(j, "flow_cache");
	json_obj_open(j);
	json_kuint(j, "ipv4_buckets_per_cpu", fc->buckets4);
	json_kuint(j, "ipv6_entries_per_cpu", fc->entries6);
	json_kuint(j, "ipv4_buckets_in_use", fc->used4);
	json_kuint(j, "ipv6_entries_in_use", fc->used6);
	if (fc->counted) {
		json_kuint(j, "misses", fc->stat[MOAT_FCS_MISS]);
		json_kuint(j, "second_bucket", fc->stat[MOAT_FCS_SECOND]);
		json_kuint(j, "filled", fc->stat[MOAT_FCS_FILL]);
		json_kuint(j, "evicted", fc->stat[MOAT_FCS_EVICT]);
		json_kuint(j, "held", fc->stat[MOAT_FCS_HELD]);
	}
	json_obj_close(j);
}

/* "12 s ago", "never" */
static void heartbeat_age(char *buf, size_t size, int64_t t)
{
	int64_t now = (int64_t)time(NULL);

	if (!t) {
		snprintf(buf, size, "never");
		return;
	}
	table_duration(buf, size,
		       (uint64_t)(now > t ? now - t : 0) * 1000000000u);
	snprintf(buf + strlen(buf), size - strlen(buf), " ago");
}

static void print_cp(const struct ctl_cp *cp)
{
	char age[64];

	if (!cp->configured)
		return;
	heartbeat_age(age, sizeof(age), cp->last_heartbeat);
	printf("controlplane: %s, %s\n", cp->address, cp->state);
	printf("             host %s, workspace %s, last heartbeat %s\n",
	       cp->host_id[0] ? cp->host_id : "-",
	       cp->workspace[0] ? cp->workspace : "-", age);
	if (cp->last_error[0])
		printf("             last error: %s\n", cp->last_error);
	if (!cp->desired_generation && !cp->applied_generation)
		return;
	printf("desired:      generation %llu applied%s%s%s\n",
	       (unsigned long long)cp->applied_generation,
	       cp->desired_ruleset[0] ? " (" : "", cp->desired_ruleset,
	       cp->desired_ruleset[0] ? ")" : "");
	if (cp->drift)
		printf("             drift: a local apply (--force) replaced it; the next push restores it\n");
	if (cp->desired_generation != cp->applied_generation)
		printf("             generation %llu not applied: %s\n",
		       (unsigned long long)cp->desired_generation,
		       cp->apply_error[0] ? cp->apply_error : "pending");
}

static void json_cp(struct json *j, const struct ctl_cp *cp)
{
	json_key(j, "controlplane");
	if (!cp->configured) {
		json_null(j);
		return;
	}
	json_obj_open(j);
	json_kstr(j, "address", cp->address);
	json_kstr(j, "state", cp->state);
	json_kstr(j, "host_id", cp->host_id);
	json_kstr(j, "workspace", cp->workspace);
	json_key(j, "last_heartbeat");
	if (cp->last_heartbeat)
		json_int(j, cp->last_heartbeat);
	else
		json_null(j);
	json_kstr(j, "last_error", cp->last_error);
	if (cp->desired_generation || cp->applied_generation) {
		json_kuint(j, "desired_generation", cp->desired_generation);
		json_kuint(j, "applied_generation", cp->applied_generation);
		json_kbool(j, "drift", cp->drift);
		json_kstr(j, "desired_ruleset", cp->desired_ruleset);
		json_kstr(j, "apply_error", cp->apply_error);
	}
	json_obj_close(j);
}

static void print_human(struct ctl_status *s, bool pinned)
{
	struct moat_dp_status *dp = &s->dp;
	const struct moat_dp_features *f = &s->features;
	char buf[128], hash[65];
	struct tm tm;
	time_t t;

	if (s->moatd.running) {
		table_duration(buf, sizeof(buf), s->moatd.uptime_ns);
		printf("moatd:       running, pid %u, up %s, version %s\n",
		       s->moatd.pid, buf, s->moatd.version);
		printf("config:      %s (ruleset %s)\n", s->moatd.config,
		       s->moatd.ruleset);
	} else {
		printf("moatd:       not running (enforcement stays as pinned)\n");
	}
	printf("instance:    %s, pinned at %s\n", s->instance, s->pin_root);
	if (!pinned) {
		printf("generation:  none: nothing pinned\n");
	} else if (!dp->has_generation) {
		printf("generation:  none applied\n");
	} else {
		t = (time_t)(dp->info.applied_ns / 1000000000u);
		localtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%F %T %z", &tm);
		hex(hash, dp->info.hash, sizeof(dp->info.hash));
		printf("generation:  %llu, applied %s",
		       (unsigned long long)dp->info.generation, buf);
		if (dp->info.compile_ns)
			printf(" in %.1f ms",
			       (double)dp->info.compile_ns / 1e6);
		putchar('\n');
		printf("ruleset:     sha256 %.12s, %u rules, %u terms, policy %s\n",
		       hash, dp->info.nrules, dp->info.nterms,
		       dp->info.policy_drop ? "drop" : "allow");
		printf("program:     id %u\n", dp->info.prog_id);
	}
	if (pinned)
		printf("counters:    %u of %u slots used\n", dp->slots_used,
		       dp->capacity);
	printf("kernel:      btf %s, xdp %s, tail calls %s, bpf_loop %s, bpf_xdp_load_bytes %s, mmapable arrays %s\n",
	       yes(f->btf), yes(f->xdp), yes(f->tail_calls), yes(f->bpf_loop),
	       yes(f->xdp_load_bytes), yes(f->mmap_arrays));
	printf("dispatcher:  %s%s%s\n", yes(f->dispatcher),
	       f->dispatcher_error[0] ? ": " : "", f->dispatcher_error);
	print_cp(&s->cp);
	if (pinned)
		print_ifaces(dp);
	if (pinned)
		print_ct(&dp->ct);
	if (pinned && dp->has_generation)
		print_fc(&dp->fc);
}

static void json_features(struct json *j, const struct moat_dp_features *f)
{
	json_key(j, "features");
	json_obj_open(j);
	json_kbool(j, "btf", f->btf);
	json_kbool(j, "bpf_loop", f->bpf_loop);
	json_kbool(j, "xdp", f->xdp);
	json_kbool(j, "tail_calls", f->tail_calls);
	json_kbool(j, "xdp_load_bytes", f->xdp_load_bytes);
	json_kbool(j, "mmap_arrays", f->mmap_arrays);
	json_kbool(j, "dispatcher", f->dispatcher);
	json_kstr(j, "dispatcher_error", f->dispatcher_error);
	json_obj_close(j);
}

static void print_json(const struct ctl_status *s, bool pinned)
{
	const struct moat_dp_status *dp = &s->dp;
	char hash[65];
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j);
	json_key(&j, "moatd");
	json_obj_open(&j);
	json_kbool(&j, "running", s->moatd.running);
	if (s->moatd.running) {
		json_kuint(&j, "pid", s->moatd.pid);
		json_kuint(&j, "uptime_ns", s->moatd.uptime_ns);
		json_kstr(&j, "version", s->moatd.version);
		json_kstr(&j, "config", s->moatd.config);
		json_kstr(&j, "ruleset", s->moatd.ruleset);
		json_kstr(&j, "socket", s->moatd.socket);
	}
	json_obj_close(&j);
	json_kstr(&j, "instance", s->instance);
	json_kstr(&j, "pin_root", s->pin_root);
	json_kbool(&j, "pinned", pinned);
	json_key(&j, "generation");
	if (pinned && dp->has_generation) {
		hex(hash, dp->info.hash, sizeof(dp->info.hash));
		json_obj_open(&j);
		json_kuint(&j, "generation", dp->info.generation);
		json_kuint(&j, "applied_ns", dp->info.applied_ns);
		json_kstr(&j, "hash", hash);
		json_kuint(&j, "rules", dp->info.nrules);
		json_kuint(&j, "terms", dp->info.nterms);
		json_kstr(&j, "policy",
			  dp->info.policy_drop ? "drop" : "allow");
		json_kuint(&j, "prog_id", dp->info.prog_id);
		json_kuint(&j, "compile_ns", dp->info.compile_ns);
		json_obj_close(&j);
	} else {
		json_null(&j);
	}
	json_kuint(&j, "capacity", dp->capacity);
	json_kuint(&j, "slots_used", dp->slots_used);
	json_key(&j, "interfaces");
	json_arr_open(&j);
	for (int i = 0; i < dp->nifaces; i++) {
		const struct moat_dp_iface *f = &dp->ifaces[i];

		json_obj_open(&j);
		json_kstr(&j, "name", f->name);
		json_kuint(&j, "ifindex", f->ifindex);
		json_kbool(&j, "attached", f->attached);
		json_key(&j, "mode");
		if (f->attached)
			json_str(&j, f->generic ? "generic" : "native");
		else
			json_null(&j);
		json_kbool(&j, "dispatcher", f->dispatcher);
		json_kbool(&j, "direct", f->direct);
		json_kuint(&j, "prog_id", f->prog_id);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	if (pinned)
		json_ct(&j, &dp->ct);
	if (pinned && dp->has_generation)
		json_fc(&j, &dp->fc);
	json_features(&j, &s->features);
	if (s->moatd.running)
		json_cp(&j, &s->cp);
	json_obj_close(&j);
	json_end(&j);
}

/* What moatd's reply leaves out, read from the pins: conntrack, the flow cache. */
static void dp_local(struct moatctl *g, struct moat_dp_status *st)
{
	struct moat_dp_opts o;
	struct moat_dp *dp;

	moatctl_dp_opts(g, &o);
	if (moat_dp_open_pinned(&o, &dp))
		return;
	moat_dp_ct_status(dp, &st->ct);
	moat_dp_fc_status(dp, &st->fc);
	moat_dp_close(dp);
}

/* moatd is down: the pins and the kernel say what they can. */
static int status_local(struct moatctl *g, struct ctl_status *s, bool *pinned,
			struct moat_dp **dp)
{
	struct moat_dp_opts o;
	int ret;

	snprintf(s->instance, sizeof(s->instance), "%s", g->instance);
	moatctl_pin_root(g, s->pin_root, sizeof(s->pin_root));
	ret = moat_dp_probe(&s->features);
	if (ret < 0)
		fprintf(stderr, "moatctl: cannot probe kernel features: %s\n",
			strerror(-ret));
	moatctl_dp_opts(g, &o);
	ret = moat_dp_open_pinned(&o, dp);
	/* bpffs is root's: to anyone else the pins look absent */
	if ((ret == -ENOENT || ret == -EACCES || ret == -EPERM) && geteuid())
		return fail(
			"moatd does not answer on %s, and reading the pins at %s needs root",
			g->socket, s->pin_root);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return fail("cannot open the pinned data plane at %s: %s",
			    s->pin_root, strerror(-ret));
	ret = moat_dp_status(*dp, &s->dp);
	if (ret < 0)
		return fail("cannot read the pinned state at %s: %s",
			    s->pin_root, strerror(-ret));
	*pinned = true;
	return 0;
}

int cmd_status(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl_request req = { .type = CTL_STATUS };
	struct moat_dp *dp = NULL;
	struct ctl_status *s;
	struct wire_msg m;
	struct wire_err e;
	bool pinned = false, remote = false;
	char *buf = NULL;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			g->json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_hint("status");
		}
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'",
				   argv[optind]);

	s = calloc(1, sizeof(*s));
	if (!s)
		return fail("out of memory");
	ret = client_call(g, &req, &m, &buf);
	if (ret == 0) {
		if (!strcmp(m.type, "error")) {
			struct ctl_reply r;

			if (ctl_reply_decode(&m, CTL_STATUS, &r, &e) == 0) {
				fail("moatd: %s", r.msg);
				ctl_reply_free(&r);
			}
			ret = EXIT_USER;
			goto out;
		}
		if (ctl_status_decode(&m, s, &e) < 0) {
			ret = fail("bad status reply from moatd: %s", e.msg);
			goto out;
		}
		remote = pinned = true;
		/* the table is read here, not carried over the socket */
		dp_local(g, &s->dp);
	} else if (client_down(ret)) {
		ret = status_local(g, s, &pinned, &dp);
		if (ret)
			goto out;
	} else {
		ret = client_fail(g, ret);
		goto out;
	}
	if (g->json)
		print_json(s, pinned);
	else
		print_human(s, pinned);
	/*
	 * The report is printed either way (the kernel's features are what
	 * one wants to know before moatd's first start), but an instance
	 * that enforces nothing is not a success to a script.
	 */
	ret = EXIT_OK;
	if (!pinned)
		ret = fail("nothing pinned at %s and moatd not running: "
			   "instance '%s' enforces nothing (start moatd, or see -i, --bpffs)",
			   s->pin_root, g->instance);
out:
	if (remote)
		ctl_status_free(s);
	else if (pinned)
		moat_dp_status_free(&s->dp);
	if (dp)
		moat_dp_close(dp);
	wire_msg_free(&m);
	free(buf);
	free(s);
	return ret;
}
