/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging to stderr.  Under systemd (JOURNAL_STREAM names our stderr) each
 * line starts with an sd-daemon priority, "<3>", so that journald keeps
 * the level; elsewhere a line reads "moatd: error: what happened".
 */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* The values are syslog's, which is what journald reads from "<N>". */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/*
 * @ident is kept by pointer.  Messages above @max are dropped.  Decides
 * once whether stderr is the journal.
 */
void log_init(const char *ident, enum log_level max);
void log_set_level(enum log_level max);
enum log_level log_get_level(void);

/* Journal prefixes on or off, whatever JOURNAL_STREAM says (for tests). */
void log_set_journal(bool on);

/* "error", "warning", "info", "debug"; -1 for anything else. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level l);

void log_msg(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level l, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* MOAT_LOG_H */
