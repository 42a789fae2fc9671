// SPDX-License-Identifier: GPL-2.0-only
/*
 * What is measured: every heartbeat's latency, kept whole (10,000 hosts
 * every 10 s for ten minutes are 600,000 of them, 2.4 MB: no need for
 * buckets), and a process's CPU and memory from /proc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"

int fleet_lat_add(struct fleet_lat *l, uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;
	uint32_t *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;

		p = realloc(l->us, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->us = p;
		l->cap = cap;
	}
	l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of them at or below. */
double fleet_lat_quantile(struct fleet_lat *l, double q)
{
	size_t rank;

	if (!l->n)
		return 0;
	qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
	rank = (size_t)(q * (double)l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return l->us[rank - 1];
}

void fleet_lat_free(struct fleet_lat *l)
{
	free(l->us);
	memset(l, 0, sizeof(*l));
}

/* utime + stime, in clock ticks, of /proc/PID/stat. */
static int proc_ticks(pid_t pid, uint64_t *ticks)
{
	unsigned long long ut, st;
	char path[64], buf[1024], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* the name in brackets may hold spaces: count from the last ')' */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		return -EBADMSG;
	*ticks = ut + st;
	return 0;
}

/* VmRSS and VmHWM of /proc/PID/status, in KiB. */
static int proc_mem(pid_t pid, uint64_t *rss, uint64_t *hwm)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	*rss = *hwm = 0;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "VmRSS: %llu kB", &v) == 1)
			*rss = v;
		else if (sscanf(line, "VmHWM: %llu kB", &v) == 1)
			*hwm = v;
	}
	fclose(fp);
	return 0;
}

uint64_t fleet_proc_rss(pid_t pid)
{
	uint64_t rss, hwm;

	return pid && !proc_mem(pid, &rss, &hwm) ? rss : 0;
}

void fleet_proc_sample(struct fleet_proc *p, uint64_t now_ns)
{
	static long hz;
	uint64_t ticks, rss, hwm;
	double cpu;

	if (!p->pid || proc_ticks(p->pid, &ticks) ||
	    proc_mem(p->pid, &rss, &hwm))
		return;
	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	if (p->valid && now_ns > p->last_ns) {
		cpu = 100.0 * (double)(ticks - p->last_ticks) / (double)hz /
		      ((double)(now_ns - p->last_ns) / 1e9);
		p->n++;
		if (cpu > p->cpu_max)
			p->cpu_max = cpu;
		p->rss_sum += rss;
		if (rss > p->rss_max)
			p->rss_max = rss;
	}
	if (hwm > p->hwm)
		p->hwm = hwm;
	if (!p->valid) {
		p->first_ticks = ticks;
		p->first_ns = now_ns;
	}
	p->valid = true;
	p->last_ticks = ticks;
	p->last_ns = now_ns;
}

/* % of one core over the whole phase: all the time, not a mean of means. */
double fleet_proc_cpu_mean(const struct fleet_proc *p)
{
	if (!p->valid || p->last_ns <= p->first_ns)
		return 0;
	return 100.0 * (double)(p->last_ticks - p->first_ticks) /
	       (double)sysconf(_SC_CLK_TCK) /
	       ((double)(p->last_ns - p->first_ns) / 1e9);
}

double fleet_proc_cpu_seconds(const struct fleet_proc *p)
{
	return p->valid ? (double)(p->last_ticks - p->first_ticks) /
				  (double)sysconf(_SC_CLK_TCK) :
			  0;
}

/*
 * The whole machine's busy and total jiffies (/proc/stat's first line):
 * on a shared machine, whether others were using it at the same time.
 */
static void machine_ticks(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = { 0 };
	FILE *fp = fopen("/proc/stat", "re");

	*busy = *total = 0;
	if (!fp)
		return;
	if (fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (int i = 0; i < 8; i++)
			*total += v[i];
		/* idle and iowait are the time nobody used */
		*busy = *total - v[3] - v[4];
	}
	fclose(fp);
}

double fleet_phase_machine_busy(const struct fleet_phase *ph)
{
	uint64_t total = ph->machine_total[1] - ph->machine_total[0];

	return total ? 100.0 *
			       (double)(ph->machine_busy[1] -
					ph->machine_busy[0]) /
			       (double)total :
		       0;
}

void fleet_phase_begin(struct fleet *f, struct fleet_phase *ph)
{
	uint64_t now = fleet_now_ns();

	memset(ph, 0, sizeof(*ph));
	machine_ticks(&ph->machine_busy[0], &ph->machine_total[0]);
	ph->start_ns = now;
	ph->cp.pid = f->o.cp_pid;
	ph->self.pid = getpid();
	/* the first sample is where the differences start */
	fleet_proc_sample(&ph->cp, now);
	fleet_proc_sample(&ph->self, now);
	f->cur = ph;
}

void fleet_phase_end(struct fleet *f)
{
	uint64_t now = fleet_now_ns();

	if (!f->cur)
		return;
	/* a phase shorter than a second gets its one sample here */
	fleet_proc_sample(&f->cur->cp, now);
	fleet_proc_sample(&f->cur->self, now);
	machine_ticks(&f->cur->machine_busy[1], &f->cur->machine_total[1]);
	f->cur->end_ns = now;
	f->cur = NULL;
}
