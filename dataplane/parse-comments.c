// SPDX-License-Identifier: GPL-2.0-only
/*
 * Comments, kept for the formatter.  A comment line belongs to the
 * policy or rule below it; blank lines count too ("" in the joined
 * string), as one per run, so that the canonical form keeps the file's
 * paragraphs and parsing that form gives back the same strings.
 */
#include <errno.h>
#include <stdlib.h>

#include "parse.h"

int moat_cbuf_add(struct cbuf *b, const char *s, size_t len)
{
	size_t need = b->len + len + 2;
	char *ns;

	if (!len && b->any && b->last_blank)
		return 0; /* runs of blank lines become one */
	if (need > b->cap) {
		ns = realloc(b->s, need * 2);
		if (!ns)
			return -ENOMEM;
		b->s = ns;
		b->cap = need * 2;
	}
	if (b->any)
		b->s[b->len++] = '\n';
	if (len)
		memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	b->any = true;
	b->last_blank = !len;
	return 0;
}

int moat_cbuf_take(struct cbuf *b, char **out)
{
	*out = NULL;
	if (b->any) {
		*out = b->s ? b->s : strdup("");
		if (!*out)
			return -ENOMEM;
		b->s = NULL;
	}
	b->len = b->cap = 0;
	b->any = b->last_blank = false;
	return 0;
}

/*
 * The formatter drops blank lines at the very start and end of its output;
 * so does the parser, so that parsing the output gives an equal ruleset.
 */
void moat_strip_blank_edges(char **c, bool head, bool tail)
{
	char *s = *c;
	size_t len;

	if (!s)
		return;
	len = strlen(s);
	while (head && len && s[0] == '\n')
		memmove(s, s + 1, len--);
	while (tail && len && s[len - 1] == '\n')
		s[--len] = '\0';
	if (!len) {
		free(s);
		*c = NULL;
	}
}
