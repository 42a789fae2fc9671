// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double stats_median(const double *v, int n)
{
	double *s, m;

	if (n <= 0)
		return 0;
	s = malloc((size_t)n * sizeof(*s));
	if (!s)
		return 0;
	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

int stats_round_ratios(const double *base, const double *cas, int rounds,
		       double *ratios)
{
	for (int i = 0; i < rounds; i++) {
		double around = (base[i] + base[i + 1]) / 2;

		if (!(base[i] > 0) || !(base[i + 1] > 0))
			return -EINVAL;
		ratios[i] = cas[i] / around;
	}
	return 0;
}

void stats_summary(const double *ratios, int n, struct ratio_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n <= 0)
		return;
	out->median = stats_median(ratios, n);
	out->min = out->max = ratios[0];
	for (int i = 1; i < n; i++) {
		if (ratios[i] < out->min)
			out->min = ratios[i];
		if (ratios[i] > out->max)
			out->max = ratios[i];
	}
}
