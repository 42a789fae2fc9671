// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control plane's check of a ruleset text (libmoat-dp's parser and
 * compiler, as moatd runs them) and the diff between two versions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "ruleset-check.h"
#include "store.h"

static void test_check_good(void **state)
{
	static const char text[] = "policy drop\n"
				   "allow ssh tcp dport 22\n"
				   "allow web tcp dport 80,443\n";
	struct ruleset_check c;

	(void)state;
	assert_int_equal(ruleset_check("web", text, strlen(text), &c), 0);
	assert_true(c.ok);
	assert_int_equal(c.rules, 2);
	assert_int_equal(c.nerrors, 0);
	assert_string_equal(c.diags, "");
	ruleset_check_clear(&c);
}

static void test_check_bad(void **state)
{
	static const char text[] = "policy drop\n"
				   "allow ssh tcp dport 22\n"
				   "allow web tcp dport 80,99999\n";
	static const char nul[] = "policy drop\n\0allow a\n";
	struct ruleset_check c;
	char *big;

	(void)state;
	assert_int_equal(ruleset_check("web", text, strlen(text), &c), 0);
	assert_false(c.ok);
	assert_int_equal(c.rules, 0);
	assert_int_equal(c.nerrors, 1);
	/* the name, line 3, the column of the bad port, the bad text */
	assert_non_null(strstr(c.diags, "web:3:24: error: "));
	assert_non_null(strstr(c.diags, "'99999'"));
	ruleset_check_clear(&c);

	assert_int_equal(ruleset_check("web", nul, sizeof(nul) - 1, &c), 0);
	assert_false(c.ok);
	assert_string_equal(c.diags, "web: error: a NUL byte at offset 12: "
				     "a ruleset is text\n");
	ruleset_check_clear(&c);

	big = malloc(STORE_RULESET_TEXT_MAX + 2);
	assert_non_null(big);
	memset(big, '#', STORE_RULESET_TEXT_MAX + 1);
	big[STORE_RULESET_TEXT_MAX + 1] = '\0';
	assert_int_equal(
		ruleset_check("web", big, STORE_RULESET_TEXT_MAX + 1, &c), 0);
	assert_false(c.ok);
	assert_non_null(strstr(c.diags, "larger than 900000 bytes"));
	ruleset_check_clear(&c);
	free(big);
}

static void diff_is(const char *a, const char *b, const char *want)
{
	char *d = NULL;

	assert_int_equal(ruleset_diff("web v1", a, strlen(a), "web v2", b,
				      strlen(b), &d),
			 0);
	assert_string_equal(d, want);
	free(d);
}

static void test_diff_cases(void **state)
{
	(void)state;
	diff_is("a\nb\n", "a\nb\n", "");
	diff_is("", "", "");
	diff_is("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
		"--- web v1\n+++ web v2\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n"
		"+five\n 6\n 7\n 8\n");
	/* at the start: an insertion, no lines before it */
	diff_is("a\nb\n", "new\na\nb\n",
		"--- web v1\n+++ web v2\n@@ -1,2 +1,3 @@\n+new\n a\n b\n");
	diff_is("a\nb\nc\n", "a\nc\n",
		"--- web v1\n+++ web v2\n@@ -1,3 +1,2 @@\n a\n-b\n c\n");
	/* the last line loses its newline */
	diff_is("a\nb\n", "a\nb",
		"--- web v1\n+++ web v2\n@@ -1,2 +1,2 @@\n a\n-b\n"
		"+b\n\\ No newline at end of file\n");
	/* from nothing */
	diff_is("", "x\ny\n",
		"--- web v1\n+++ web v2\n@@ -0,0 +1,2 @@\n+x\n"
		"+y\n");
	/* changes 7 lines apart: two hunks; 6 apart: one */
	diff_is("a\n1\n2\n3\n4\n5\n6\n7\nb\n", "A\n1\n2\n3\n4\n5\n6\n7\nB\n",
		"--- web v1\n+++ web v2\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n"
		" 3\n@@ -6,4 +6,4 @@\n 5\n 6\n 7\n-b\n+B\n");
	diff_is("a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n",
		"--- web v1\n+++ web v2\n@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n"
		" 3\n 4\n 5\n 6\n-b\n+B\n");
}

/*
 * Applies unified diff @d to @a, as patch(1) would, checking every
 * context and removed line: the result must be the new text.
 */
static char *patch(const char *a, const char *d)
{
	size_t alen = strlen(a), cap = alen + strlen(d) + 1, o = 0;
	char *out = malloc(cap);
	const char *pa = a, *p = d;
	char last = 0;

	assert_non_null(out);
	if (*p) {
		p = strchr(p, '\n') + 1; /* --- */
		p = strchr(p, '\n') + 1; /* +++ */
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;

		if (*p == '@') {
			unsigned long at, n = 1, done = 0;

			/* "-A" or "-A,N"; an empty range names the line
			 * before it */
			assert_true(sscanf(p, "@@ -%lu,%lu", &at, &n) >= 1);
			if (n == 0)
				at++;
			for (const char *q = a; q < pa; q++)
				done += *q == '\n';
			for (; done + 1 < at; done++) {
				const char *e = strchr(pa, '\n');

				assert_non_null(e);
				memcpy(out + o, pa, (size_t)(e - pa) + 1);
				o += (size_t)(e - pa) + 1;
				pa = e + 1;
			}
		} else if (*p == '\\') {
			/* the line before had no newline: the copy of a
			 * removed line was not written */
			o -= last == '+';
		} else if (*p == '+') {
			memcpy(out + o, p + 1, len - 1);
			o += len - 1;
		} else {
			size_t n = len - 1;

			/* ' ' or '-': the text must be there */
			if (!strncmp(nl + 1, "\\ No newline", 12))
				n--;
			assert_memory_equal(pa, p + 1, n);
			if (*p == ' ')
				memcpy(out + o, pa, n), o += n;
			pa += n;
		}
		last = *p;
		p = nl + 1;
	}
	memcpy(out + o, pa, strlen(pa) + 1);
	return out;
}

/* A text of @n lines from a small alphabet, so that lines repeat. */
static char *random_text(unsigned int *seed, int n)
{
	char *t = malloc((size_t)n * 4 + 1), *p = t;

	assert_non_null(t);
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%c%c\n", 'a' + rand_r(seed) % 4,
			     'a' + rand_r(seed) % 3);
	if (n && rand_r(seed) % 4 == 0)
		p--; /* no newline at the end */
	*p = '\0';
	return t;
}

static void test_diff_random(void **state)
{
	unsigned int seed = 6;

	(void)state;
	for (int i = 0; i < 500; i++) {
		char *a = random_text(&seed, rand_r(&seed) % 30);
		char *b = random_text(&seed, rand_r(&seed) % 30), *d, *p;

		assert_int_equal(
			ruleset_diff("a", a, strlen(a), "b", b, strlen(b), &d),
			0);
		p = patch(a, d);
		if (strcmp(p, b))
			fprintf(stderr, "a:\n%s\nb:\n%s\ndiff:\n%s", a, b, d);
		assert_string_equal(p, b);
		free(p);
		free(d);
		free(a);
		free(b);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100,000 lines: a few changes are found exactly; changes throughout
 * hit the bound and come back as the middle replaced, quickly. */
static void test_diff_large(void **state)
{
	size_t n = 100000, len = n * 16 + 1;
	char *a = malloc(len), *b = malloc(len), *d, *p;
	double t0;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0, o = 0; i < n; i++)
		o += (size_t)sprintf(a + o, "allow r%zu\n", i);
	strcpy(b, a);
	b[strlen(b) / 2 + 2] = 'X';
	t0 = now_s();
	assert_int_equal(ruleset_diff("a", a, strlen(a), "b", b, strlen(b), &d),
			 0);
	assert_true(strlen(d) < 300); /* one hunk */
	p = patch(a, d);
	assert_string_equal(p, b);
	free(p);
	free(d);

	for (size_t i = 5; i < strlen(b) - 5; i += 97)
		if (b[i] != '\n')
			b[i] = 'Y';
	assert_int_equal(ruleset_diff("a", a, strlen(a), "b", b, strlen(b), &d),
			 0);
	p = patch(a, d);
	assert_string_equal(p, b);
	free(p);
	free(d);
	fprintf(stderr, "two 100k-line diffs in %.2f s\n", now_s() - t0);
	assert_true(now_s() - t0 < 20);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_bad),
		cmocka_unit_test(test_diff_cases),
		cmocka_unit_test(test_diff_random),
		cmocka_unit_test(test_diff_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
