/* SPDX-License-Identifier: GPL-2.0-only */
/* Whole-file reads and crash-safe replacement, for rulesets and state. */
#ifndef MOAT_FILE_H
#define MOAT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Read all of @fd (or @path) into malloc'd memory, NUL-terminated.
 * -EFBIG when it holds more than @max bytes.
 */
int file_read_fd(int fd, size_t max, char **text, size_t *len);
int file_read(const char *path, size_t max, char **text, size_t *len);

/*
 * Replace @path with @len bytes of @data: write a temporary file in the
 * same directory, then rename it over @path, so that readers and crashes
 * see the old file or the new one, never a part.  @durable: fsync the
 * file and the directory (state that must survive a power cut).
 */
int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, bool durable);

/* mkdir -p; the last component gets @mode, the ones above 0755. */
int file_mkdir_p(const char *path, mode_t mode);

#endif /* MOAT_FILE_H */
