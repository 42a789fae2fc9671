// SPDX-License-Identifier: GPL-2.0-only
/* Logging: journald priorities when stderr is the journal, words otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char path[] = "/tmp/moat-test-log.XXXXXX";
static int saved_stderr = -1;

/* stderr goes to a file for the test; returns the file's fd */
static int setup(void **state)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unlink(path);
	return 0;
}

static char *captured(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_int_equal(ftruncate(STDERR_FILENO, 0), 0);
	lseek(STDERR_FILENO, 0, SEEK_SET);
	return buf;
}

static void test_plain(void **state)
{
	unsetenv("JOURNAL_STREAM");
	log_init("moatd", LOG_LEVEL_INFO);
	log_err("cannot attach to %s", "eth0");
	log_warn("two\nlines");
	log_info("applied");
	log_debug("not shown at info");
	assert_string_equal(captured(), "moatd: error: cannot attach to eth0\n"
					"moatd: warning: two lines\n"
					"moatd: info: applied\n");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("shown: %d", 7);
	log_msg(LOG_LEVEL_DEBUG, "libbpf line\n"); /* its own newline: one */
	assert_string_equal(captured(), "moatd: debug: shown: 7\n"
					"moatd: debug: libbpf line\n");
}

static void test_journal(void **state)
{
	struct stat st;
	char env[64];

	/* JOURNAL_STREAM names our stderr: sd-daemon priority prefixes */
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init("moatd", LOG_LEVEL_DEBUG);
	log_err("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	assert_string_equal(captured(), "<3>e\n<4>w\n<6>i\n<7>d\n");

	/* inherited, but stderr is elsewhere now: plain words */
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_init("moatd", LOG_LEVEL_INFO);
	log_info("i");
	assert_string_equal(captured(), "moatd: info: i\n");
	unsetenv("JOURNAL_STREAM");
}

static void test_levels(void **state)
{
	assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("warning"), LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("info"), LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("notice"), -1);
	assert_int_equal(log_level_parse(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
