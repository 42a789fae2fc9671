// SPDX-License-Identifier: GPL-2.0-only
/* The results: a table for people on stdout, JSON for programs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fleet.h"

static const double quantiles[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
static const char *const qnames[] = { "p50", "p90", "p99", "p99.9", "max" };
#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

static double secs(const struct fleet_phase *ph)
{
	return ph->end_ns > ph->start_ns ?
		       (double)(ph->end_ns - ph->start_ns) / 1e9 :
		       0;
}

static double rate(unsigned n, const struct fleet_phase *ph)
{
	return secs(ph) > 0 ? n / secs(ph) : 0;
}

static double mib(uint64_t kib)
{
	return (double)kib / 1024.0;
}

static double rss_mean(const struct fleet_proc *p)
{
	return p->n ? (double)p->rss_sum / p->n : 0;
}

static void lat_line(const char *name, struct fleet_lat *l)
{
	printf("%-15s", name);
	if (!l->n) {
		printf(" none\n");
		return;
	}
	for (size_t i = 0; i < NQ; i++)
		printf(" %s %.2f", qnames[i],
		       fleet_lat_quantile(l, quantiles[i]) / 1000.0);
	printf("   (ms, %zu heartbeats)\n", l->n);
}

static void proc_row(const char *who, const char *phase,
		     const struct fleet_proc *p)
{
	if (!p->pid)
		return;
	printf("%-15s %-11s %8.1f %8.1f %9.1f %9.1f %9.1f %8.1f\n", who, phase,
	       fleet_proc_cpu_mean(p), p->cpu_max, mib((uint64_t)rss_mean(p)),
	       mib(p->rss_max), mib(p->hwm), fleet_proc_cpu_seconds(p));
}

void fleet_report(struct fleet *f, const char *cmdline)
{
	const struct {
		const char *name;
		struct fleet_phase *ph;
	} phases[] = { { "enrollment", &f->enroll },
		       { "sessions", &f->connect },
		       /* with --push, the window is the pushes' */
		       { f->o.push_file ? "pushes" : "heartbeats", &f->run } };

	printf("%s\n\n", cmdline);
	printf("%-15s %u in %.1f s (before enrollment, not counted in it)\n",
	       "keys and CSRs", f->o.hosts, (double)f->keygen_ns / 1e9);
	printf("%-15s %u of %u hosts in %.2f s: %.0f hosts/s\n", "enrollment",
	       f->c.enrolled, f->o.hosts, secs(&f->enroll),
	       rate(f->c.enrolled, &f->enroll));
	printf("%-15s %u of %u connected in %.2f s: %.0f hosts/s (hello, welcome)\n",
	       "sessions", f->c.connected, f->c.enrolled, secs(&f->connect),
	       rate(f->c.connected, &f->connect));
	printf("%-15s every %.1f s (+-10%%) for %.1f s: %llu sent, %llu acked, %llu lost, %llu late\n",
	       "heartbeats", f->o.interval, secs(&f->run),
	       (unsigned long long)f->c.sent, (unsigned long long)f->c.acked,
	       (unsigned long long)f->c.lost, (unsigned long long)f->c.late);
	printf("%-15s %u errors, %u reconnects (attempts); %u sessions at the end\n",
	       "faults", f->c.errors, f->c.reconnects, f->c.live);
	lat_line("latency", &f->lat);
	lat_line("  while ramping", &f->ramp);
	printf("\n%-15s %-11s %8s %8s %9s %9s %9s %8s\n", "process", "phase",
	       "cpu%", "cpu% max", "RSS MiB", "RSS max", "HWM MiB", "cpu s");
	for (size_t i = 0; i < 3; i++)
		proc_row("control plane", phases[i].name, &phases[i].ph->cp);
	for (size_t i = 0; i < 3; i++)
		proc_row("moat-fleet", phases[i].name, &phases[i].ph->self);
	printf("%-15s", "machine busy");
	for (size_t i = 0; i < 3; i++)
		printf(" %s %.0f%%", phases[i].name,
		       fleet_phase_machine_busy(phases[i].ph));
	printf("   (of %ld CPUs, everyone's)\n", sysconf(_SC_NPROCESSORS_ONLN));
	for (unsigned i = 0; i < f->nerrs; i++)
		printf("%s%s\n", i ? "  " : "\nfirst errors:\n  ", f->errs[i]);
}

static struct json_object *jdouble(double v)
{
	return json_object_new_double(v);
}

static struct json_object *proc_json(const struct fleet_proc *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "samples", json_object_new_int((int)p->n));
	json_object_object_add(o, "cpu_pct_mean",
			       jdouble(fleet_proc_cpu_mean(p)));
	json_object_object_add(o, "cpu_pct_max", jdouble(p->cpu_max));
	json_object_object_add(o, "cpu_seconds",
			       jdouble(fleet_proc_cpu_seconds(p)));
	json_object_object_add(o, "rss_kib_mean", jdouble(rss_mean(p)));
	json_object_object_add(o, "rss_kib_max",
			       json_object_new_int64((int64_t)p->rss_max));
	json_object_object_add(o, "hwm_kib",
			       json_object_new_int64((int64_t)p->hwm));
	return o;
}

static struct json_object *phase_json(const struct fleet_phase *ph)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seconds", jdouble(secs(ph)));
	json_object_object_add(o, "machine_busy_pct",
			       jdouble(fleet_phase_machine_busy(ph)));
	json_object_object_add(o, "controlplane", proc_json(&ph->cp));
	json_object_object_add(o, "moat_fleet", proc_json(&ph->self));
	return o;
}

struct json_object *fleet_lat_json(struct fleet_lat *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "count",
			       json_object_new_int64((int64_t)l->n));
	for (size_t i = 0; i < NQ; i++)
		json_object_object_add(
			o, qnames[i],
			jdouble(l->n ? fleet_lat_quantile(l, quantiles[i]) /
						1000.0 :
				       0));
	return o;
}

int fleet_report_json(struct fleet *f, const char *cmdline, const char *path)
{
	struct json_object *o = json_object_new_object(), *c, *errs;
	struct utsname u;
	char when[32];
	time_t now = time(NULL);
	int ret;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	uname(&u);
	json_object_object_add(o, "tool", json_object_new_string("moat-fleet"));
	json_object_object_add(o, "version",
			       json_object_new_string(MOAT_VERSION));
	json_object_object_add(o, "command", json_object_new_string(cmdline));
	json_object_object_add(o, "date", json_object_new_string(when));
	json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(
		o, "cpus",
		json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "hosts",
			       json_object_new_int((int)f->o.hosts));
	json_object_object_add(o, "interval_s", jdouble(f->o.interval));
	json_object_object_add(o, "duration_s", jdouble(f->o.duration));
	json_object_object_add(o, "concurrency",
			       json_object_new_int((int)f->o.concurrency));
	json_object_object_add(o, "keygen_s",
			       jdouble((double)f->keygen_ns / 1e9));
	c = json_object_new_object();
	json_object_object_add(c, "enrolled",
			       json_object_new_int((int)f->c.enrolled));
	json_object_object_add(c, "connected",
			       json_object_new_int((int)f->c.connected));
	json_object_object_add(c, "sessions_at_end",
			       json_object_new_int((int)f->c.live));
	json_object_object_add(c, "heartbeats_sent",
			       json_object_new_int64((int64_t)f->c.sent));
	json_object_object_add(c, "heartbeats_acked",
			       json_object_new_int64((int64_t)f->c.acked));
	json_object_object_add(c, "heartbeats_lost",
			       json_object_new_int64((int64_t)f->c.lost));
	json_object_object_add(c, "heartbeats_late",
			       json_object_new_int64((int64_t)f->c.late));
	json_object_object_add(c, "errors",
			       json_object_new_int((int)f->c.errors));
	json_object_object_add(c, "reconnects",
			       json_object_new_int((int)f->c.reconnects));
	json_object_object_add(o, "counts", c);
	json_object_object_add(o, "enroll_rate_per_s",
			       jdouble(rate(f->c.enrolled, &f->enroll)));
	json_object_object_add(o, "connect_rate_per_s",
			       jdouble(rate(f->c.connected, &f->connect)));
	json_object_object_add(o, "latency_ms", fleet_lat_json(&f->lat));
	json_object_object_add(o, "latency_ramp_ms", fleet_lat_json(&f->ramp));
	json_object_object_add(o, "enrollment", phase_json(&f->enroll));
	json_object_object_add(o, "sessions", phase_json(&f->connect));
	json_object_object_add(o, "heartbeats", phase_json(&f->run));
	errs = json_object_new_array();
	for (unsigned i = 0; i < f->nerrs; i++)
		json_object_array_add(errs, json_object_new_string(f->errs[i]));
	json_object_object_add(o, "first_errors", errs);
	if (f->o.push_file)
		json_object_object_add(o, "push", fleet_push_json(f));
	ret = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY) ? -EIO :
									  0;
	json_object_put(o);
	return ret;
}
