// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ruleset lexer: lines of words, commas and comments.  A word is a
 * run of bytes other than blanks, ',', '#' and control characters; what a
 * word may be is the parser's business, so that a bad word is reported
 * with what was expected in its place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse.h"

void moat_lex_init(struct lex *lx, const char *text, size_t len)
{
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_word(unsigned char c)
{
	return !is_blank(c) && !is_control(c) && c != ',' && c != '#';
}

static int push_tok(struct lex_toks *tv, const char *s, size_t len,
		    uint32_t line, uint32_t col)
{
	struct lex_tok *v;

	if (tv->n == tv->cap) {
		size_t cap = tv->cap ? 2 * tv->cap : 64;

		v = realloc(tv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		tv->v = v;
		tv->cap = cap;
	}
	/* words longer than 4 GiB cannot be valid anyway; cut, don't wrap */
	tv->v[tv->n++] = (struct lex_tok){
		.s = s,
		.len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len,
		.line = line,
		.col = col,
	};
	return 0;
}

/* A control character; CR is fine right before the LF of a CRLF file. */
static bool bad_byte(const char *p, const char *end)
{
	unsigned char c = *p;

	if (c == '\t' || !is_control(c))
		return false;
	return !(c == '\r' && p + 1 < end && p[1] == '\n');
}

int moat_lex_line(struct lex *lx, struct lex_toks *tv, struct lex_line *ln,
		  struct moat_diags *d)
{
	const char *start = lx->p, *end = lx->end, *p = lx->p, *w;
	int ret = 1;

	if (p >= end)
		return 0;
	ln->line = lx->line;
	ln->first = tv->n;
	ln->comment = NULL;
	ln->comment_len = 0;

	while (p < end && *p != '\n') {
		uint32_t col = p - start + 1;

		if (p - start >= UINT32_MAX)
			col = UINT32_MAX;
		if (bad_byte(p, end)) {
			struct lex_tok t = { p, 1, ln->line, col };

			tok_error(d, &t, "invalid character, expected text");
			ret = -EINVAL;
			p++;
		} else if (is_blank(*p) || *p == '\r') {
			p++;
		} else if (*p == ',') {
			if (push_tok(tv, p, 1, ln->line, col))
				return -ENOMEM;
			p++;
		} else if (*p == '#') {
			ln->comment = p;
			while (p < end && *p != '\n') {
				if (bad_byte(p, end)) {
					struct lex_tok t = { p, 1, ln->line,
							     p - start + 1 };

					tok_error(
						d, &t,
						"invalid character in comment, expected text");
					ret = -EINVAL;
				}
				p++;
			}
			ln->comment_len = p - ln->comment;
			while (is_blank(ln->comment[ln->comment_len - 1]) ||
			       ln->comment[ln->comment_len - 1] == '\r')
				ln->comment_len--;
		} else {
			for (w = p; p < end && is_word(*p); p++)
				;
			if (push_tok(tv, w, p - w, ln->line, col))
				return -ENOMEM;
		}
	}
	if (p < end)
		p++; /* the '\n' */
	lx->p = p;
	lx->line++;
	ln->ntok = tv->n - ln->first;
	return ret;
}

/*
 * Quote a token for a message: control and non-ASCII bytes as \xNN (a
 * message must not smuggle escapes onto a terminal), and a long token cut
 * with "..." so that the message stays readable and fits a diag.
 */
#define QUOTE_MAX 72

static void quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (o >= QUOTE_MAX) {
			o += snprintf(buf + o, size - o, "...");
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	buf[o] = '\0';
}

int moat_tok_diag(struct moat_diags *d, enum moat_severity sev,
		  const struct lex_tok *t, const char *fmt, ...)
{
	char what[224], q[QUOTE_MAX + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	quote(q, sizeof(q), t->s, t->len);
	return moat_diag_add(d, sev, t->line, t->col, "%s: '%s'", what, q);
}
