/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations typed by people: "30s", "10m", "2h", "7d", "1d12h", and
 * whatever table_duration() prints ("12m05s", "3d04h"), so that an age
 * moatctl shows can be typed back.
 */
#ifndef MOAT_DURATION_H
#define MOAT_DURATION_H

#include <stdint.h>

/* The longest duration accepted: 36500d, a century. */
#define DURATION_MAX_S (36500ull * 86400)

/*
 * One or more NUMBER UNIT, units d, h, m and s, largest first and each at
 * most once ("1d12h", "90m").  Returns 0 with the seconds in *@s, or
 * -EINVAL (syntax) or -ERANGE (over DURATION_MAX_S) with *@why saying
 * what is wrong, for a message that also quotes the input.
 */
int duration_parse(const char *text, uint64_t *s, const char **why);

#endif /* MOAT_DURATION_H */
