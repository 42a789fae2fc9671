// SPDX-License-Identifier: GPL-2.0-only
/* Durations typed by people: see duration.h. */
#include <errno.h>
#include <stddef.h>

#include "duration.h"

int duration_parse(const char *text, uint64_t *s, const char **why)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	const char *p = text;
	size_t next = 0; /* units[] before this one are spent */
	uint64_t total = 0;

	*s = 0;
	if (!*p) {
		*why = "empty";
		return -EINVAL;
	}
	while (*p) {
		uint64_t n = 0;
		size_t u;

		if (*p < '0' || *p > '9') {
			*why = "expected a number";
			return -EINVAL;
		}
		/* the bound keeps n * 86400 and the sum far from overflow */
		for (; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > DURATION_MAX_S) {
				*why = "longer than 36500d";
				return -ERANGE;
			}
		}
		if (!*p) {
			*why = "a number needs a unit: d, h, m or s";
			return -EINVAL;
		}
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (units[u].unit == *p)
				break;
		if (u == sizeof(units) / sizeof(units[0])) {
			*why = "units are d, h, m and s";
			return -EINVAL;
		}
		if (u < next) {
			*why = "units go largest first, each once (as in 1d12h)";
			return -EINVAL;
		}
		next = u + 1;
		total += n * units[u].secs;
		if (total > DURATION_MAX_S) {
			*why = "longer than 36500d";
			return -ERANGE;
		}
		p++;
	}
	*s = total;
	return 0;
}
