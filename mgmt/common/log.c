// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "moat";
static enum log_level log_max = LOG_LEVEL_INFO;
static bool log_journal;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected;
 * it is inherited by children whose stderr may be elsewhere, so compare.
 */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *ident, enum log_level max)
{
	log_ident = ident;
	log_max = max;
	log_journal = stderr_is_journal();
}

void log_set_level(enum log_level max)
{
	log_max = max;
}

enum log_level log_get_level(void)
{
	return log_max;
}

void log_set_journal(bool on)
{
	log_journal = on;
}

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (level_names[i] && !strcmp(s, level_names[i]))
			return (int)i;
	}
	return -1;
}

const char *log_level_name(enum log_level l)
{
	if ((size_t)l < sizeof(level_names) / sizeof(level_names[0]) &&
	    level_names[l])
		return level_names[l];
	return "log";
}

void log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	char buf[2048];
	int saved = errno; /* so that callers may log, then use errno */
	size_t n, start;
	int r;

	if (l > log_max)
		return;

	if (log_journal)
		r = snprintf(buf, sizeof(buf), "<%d>", (int)l);
	else
		r = snprintf(buf, sizeof(buf), "%s: %s: ", log_ident,
			     log_level_name(l));
	start = n = r < 0 ? 0 : (size_t)r;

	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2; /* truncated: still one whole line */
	while (n > start && buf[n - 1] == '\n')
		n--; /* libraries end their messages with one */

	/* a newline inside a message would start a record without a level */
	for (size_t i = start; i < n; i++) {
		if (buf[i] == '\n')
			buf[i] = ' ';
	}
	buf[n++] = '\n';

	/*
	 * One write(2) per line: lines from several processes sharing a
	 * stream do not interleave, and journald sees one record per line.
	 */
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(l, fmt, ap);
	va_end(ap);
}
