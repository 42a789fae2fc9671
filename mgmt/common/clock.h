/* SPDX-License-Identifier: GPL-2.0-only */
/* The monotonic clock in nanoseconds, for durations moatd logs and reports. */
#ifndef MOAT_CLOCK_H
#define MOAT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* MOAT_CLOCK_H */
