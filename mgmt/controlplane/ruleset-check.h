/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the control plane does with a ruleset text before it becomes a
 * version: the checks moatd makes before applying it (parse, then
 * compile, with libmoat-dp's own code and no kernel), and the unified
 * diff against the version before.
 */
#ifndef MOAT_RULESET_CHECK_H
#define MOAT_RULESET_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ruleset_check {
	bool ok; /* parses without errors and compiles */
	int64_t rules; /* rule count, when ok */
	size_t nerrors, nwarnings;
	/*
	 * One a line, as moatctl ruleset check prints them:
	 * "NAME:LINE:COL: error: what is wrong: 'text'" (malloc'd, "" when
	 * none).  Warnings too, also when ok.
	 */
	char *diags;
};
void ruleset_check_clear(struct ruleset_check *c);

/*
 * Checks @len bytes of @text, named @name in the diagnostics.  Returns 0
 * with @out->ok telling the verdict, or -ENOMEM.  A text over
 * STORE_RULESET_TEXT_MAX or with a NUL byte is refused (not ok).
 */
int ruleset_check(const char *name, const char *text, size_t len,
		  struct ruleset_check *out);

/* Lines of context around each change. */
#define RULESET_DIFF_CONTEXT 3

/*
 * A unified line diff from @a (labelled @a_label in the "---" line) to
 * @b, with RULESET_DIFF_CONTEXT lines of context: a malloc'd string in
 * @out, "" when the texts are equal.  The differing middle of two texts
 * is compared line by line (Myers) while that stays cheap; beyond a
 * bound on the edits or the work (large texts changed throughout), it is
 * shown as all removed and all added.  0 or -ENOMEM.
 */
int ruleset_diff(const char *a_label, const char *a, size_t alen,
		 const char *b_label, const char *b, size_t blen, char **out);

#endif /* MOAT_RULESET_CHECK_H */
