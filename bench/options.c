// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the subcommands share: messages on stderr, errors and progress
 * both "moat-bench: ...", and command-line values.  Each parser takes
 * the whole string or rejects it; the caller names the option in its
 * message.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "moat_kern_user.h"

volatile sig_atomic_t bench_stop;

static void __attribute__((format(printf, 1, 0)))
say(const char *fmt, va_list ap)
{
	fputs("moat-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void bench_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void bench_progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

int bench_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	/* strtoull would take a sign or leading blanks */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* "1,100,10k": decimal numbers, an optional k (thousand) each. */
int bench_parse_u32_list(const char *s, uint32_t *v, int max, int *n)
{
	const char *p = s;

	*n = 0;
	while (*p) {
		char *end;
		unsigned long long x;

		if (*n == max || *p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		x = strtoull(p, &end, 10);
		if (*end == 'k') {
			x *= 1000;
			end++;
		}
		if (errno || x > UINT32_MAX || (*end && *end != ','))
			return -EINVAL;
		v[(*n)++] = (uint32_t)x;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return -EINVAL; /* a trailing comma */
	}
	return *n ? 0 : -EINVAL;
}

/* "0", "0,1", "0-3,6". */
int bench_parse_cpu_list(const char *s, int *cpus, int max, int *n)
{
	const char *p = s;

	*n = 0;
	while (*p) {
		char *end;
		long lo, hi;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		lo = hi = strtol(p, &end, 10);
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			hi = strtol(p, &end, 10);
		}
		if (lo > hi || hi >= 4096 || (*end && *end != ','))
			return -EINVAL;
		for (long c = lo; c <= hi; c++) {
			for (int i = 0; i < *n; i++)
				if (cpus[i] == c)
					return -EINVAL; /* twice */
			if (*n == max)
				return -EINVAL;
			cpus[(*n)++] = (int)c;
		}
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

int bench_parse_seconds(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(*v) || *v <= 0 || *v > 3600)
		return -EINVAL;
	return 0;
}

int bench_parse_flow_cache(const char *s, int *v)
{
	uint64_t x;

	if (!strcmp(s, "auto")) {
		*v = 0;
		return 0;
	}
	if (!strcmp(s, "off")) {
		*v = -1;
		return 0;
	}
	/* moat_dp_open refuses a size outside these: say so here, at once */
	if (bench_parse_u64(s, &x) || x < MOAT_FC_LOG_MIN ||
	    x > MOAT_FC_LOG_MAX)
		return -EINVAL;
	*v = (int)x;
	return 0;
}

const char *bench_flow_cache_name(int v, char *buf, size_t len)
{
	if (!v)
		snprintf(buf, len, "auto");
	else if (v < 0)
		snprintf(buf, len, "off");
	else
		snprintf(buf, len, "%d", v);
	return buf;
}
