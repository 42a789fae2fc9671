// SPDX-License-Identifier: GPL-2.0-only
/*
 * Validating a ruleset text as moatd would before applying it: the
 * parser, then the compiler into an image in memory.  moatd compiles
 * against its interfaces and its conntrack setting; without a host the
 * compiler accepts every interface name (nifaces -1) and assumes flows
 * are tracked, as `moatctl ruleset check` does.  What only a host can
 * refuse (its capacity, conntrack off) comes back in its applied report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "ruleset.h"
#include "ruleset-check.h"
#include "store.h"

void ruleset_check_clear(struct ruleset_check *c)
{
	free(c->diags);
	c->diags = NULL;
}

/* The diagnostics as text, or the refusal that came before parsing. */
static int diags_text(const char *name, const struct moat_diags *d,
		      const char *refusal, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);

	if (!f)
		return -ENOMEM;
	if (refusal)
		fprintf(f, "%s: error: %s\n", name, refusal);
	moat_diags_print(d, name, f);
	if (fclose(f))
		return -ENOMEM;
	return 0;
}

/* 1 when @rs compiles, 0 when not (why is in @d), or -ENOMEM. */
static int compiles(const struct moat_ruleset *rs, struct moat_diags *d)
{
	struct moat_image img;
	int ret = moat_compile(rs, NULL, &img, d);

	if (ret == -ENOMEM)
		return ret;
	if (ret < 0)
		return 0;
	moat_image_free(&img);
	return 1;
}

int ruleset_check(const char *name, const char *text, size_t len,
		  struct ruleset_check *out)
{
	struct moat_diags d = { 0 };
	struct moat_ruleset rs = { 0 };
	char refusal[96] = "";
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > STORE_RULESET_TEXT_MAX)
		snprintf(refusal, sizeof(refusal),
			 "larger than %d bytes: %zu bytes",
			 STORE_RULESET_TEXT_MAX, len);
	else if (memchr(text, '\0', len))
		snprintf(
			refusal, sizeof(refusal),
			"a NUL byte at offset %zu: a ruleset is text",
			(size_t)((const char *)memchr(text, '\0', len) - text));
	if (!refusal[0]) {
		ret = moat_ruleset_parse(text, len, &rs, &d);
		if (ret == 0)
			ret = compiles(&rs, &d);
		out->ok = ret == 1;
		out->rules = out->ok ? (int64_t)rs.nrules : 0;
		moat_ruleset_free(&rs);
		if (ret == -ENOMEM) {
			moat_diags_free(&d);
			return ret;
		}
	}
	out->nerrors = d.nerrors + (refusal[0] != '\0');
	out->nwarnings = d.nwarnings;
	ret = diags_text(name, &d, refusal[0] ? refusal : NULL, &out->diags);
	moat_diags_free(&d);
	if (ret)
		ruleset_check_clear(out);
	return ret;
}
