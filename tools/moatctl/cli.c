// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every command says the same way: errors on stderr with the exit
 * status they mean, and numbers read from the command line.  Apart from
 * main.c, so that the unit tests link the commands without main().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "moatctl.h"

static void say(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static void say(const char *fmt, va_list ap)
{
	fputs("moatctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return EXIT_USER;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return usage_hint(cmd);
}

int usage_hint(const char *cmd)
{
	fprintf(stderr, "Try 'moatctl %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

bool moatctl_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v < lo ||
	    v > hi)
		return false;
	*out = v;
	return true;
}
