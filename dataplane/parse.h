/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the ruleset parser, not part of the library's API.
 *
 *   lex.c             cuts the text into lines, words, commas and comments
 *   parse.c           reads the file a logical line at a time: policy,
 *                     rules, names, limits
 *   parse-comments.c  keeps the comments for the formatter
 *   parse-rule.c      reads the fields of one rule
 *   parse-value.c     reads one list item: number, range, prefix, flags,
 *                     name
 *   parse-check.c     checks a rule's fields against each other
 */
#ifndef MOAT_PARSE_H
#define MOAT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ruleset.h"

/* A word or a ',' (len 1), pointing into the text. */
struct lex_tok {
	const char *s;
	uint32_t len;
	uint32_t line, col; /* 1-based; col counts bytes */
};

static inline bool tok_is(const struct lex_tok *t, const char *word)
{
	return t->len == strlen(word) && !memcmp(t->s, word, t->len);
}

static inline bool tok_comma(const struct lex_tok *t)
{
	return t->len == 1 && t->s[0] == ',';
}

struct lex_toks {
	struct lex_tok *v;
	size_t n, cap;
};

struct lex {
	const char *p, *end;
	uint32_t line; /* number of the next line */
};

/* One physical line. */
struct lex_line {
	size_t first, ntok; /* its tokens in the lex_toks */
	const char *comment; /* "#...", trailing blanks cut; NULL if none */
	size_t comment_len;
	uint32_t line;
};

void moat_lex_init(struct lex *lx, const char *text, size_t len);

/*
 * Read the next line, appending its tokens to @tv.  Returns 1, or 0 at
 * the end of the text, or -ENOMEM.  A control character is reported in
 * @d and the line is read on as if it were a space; the return is then
 * -EINVAL, with @ln filled in as usual.
 */
int moat_lex_line(struct lex *lx, struct lex_toks *tv, struct lex_line *ln,
		  struct moat_diags *d);

/* Report "@fmt: 'token'" at @t; returns -EINVAL for errors. */
int moat_tok_diag(struct moat_diags *d, enum moat_severity sev,
		  const struct lex_tok *t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define tok_error(d, t, ...) moat_tok_diag(d, MOAT_ERROR, t, __VA_ARGS__)

/* Comment lines waiting for the policy or rule they stand above. */
struct cbuf {
	char *s;
	size_t len, cap;
	bool any; /* at least one line, possibly blank */
	bool last_blank;
};

/* Add a line ("" for a blank one); a blank line after a blank line is dropped. */
int moat_cbuf_add(struct cbuf *b, const char *s, size_t len);

/* Hand over the lines joined by '\n', or NULL when there are none. */
int moat_cbuf_take(struct cbuf *b, char **out);

/* Drop blank lines at the start (@head) or end (@tail) of @c. */
void moat_strip_blank_edges(char **c, bool head, bool tail);

/* Keywords of the language: none of them may name a rule or interface. */
enum moat_kw {
	KW_NONE = 0,
	KW_POLICY,
	KW_ALLOW,
	KW_DROP,
	KW_PROTO_NAME, /* tcp udp sctp icmp icmpv6 */
	KW_ANY,
	KW_PROTO,
	KW_FROM,
	KW_TO,
	KW_SPORT,
	KW_DPORT,
	KW_TYPE,
	KW_CODE,
	KW_FLAGS,
	KW_IN,
	KW_CT,
	KW_ESTABLISHED, /* in "allow established" and in ct's states */
	KW_CLASSIFY, /* "classify established" */
	KW_MODE, /* "mode audit|enforce" */
	/* rule options */
	KW_LIMIT,
	KW_BURST,
	KW_PER_SOURCE,
	KW_OVER_LIMIT,
	KW_AUDIT,
	KW_LOG,
};

enum moat_kw moat_keyword(const char *s, size_t len);

/* A rule's match fields, in the order of docs/ruleset.md's table. */
enum moat_field {
	F_PROTO = 0,
	F_FROM,
	F_TO,
	F_SPORT,
	F_DPORT,
	F_TYPE,
	F_CODE,
	F_FLAGS,
	F_IN,
	F_CT,
	F_NUM,
};

/*
 * Where the fields of a rule were written, for the checks that need the
 * tokens after parse-rule.c is done.  Item i of a list is tok[first + 2i]
 * (items and commas alternate); for bare protocols the keyword is the
 * first item.
 */
struct rule_fields {
	const struct lex_tok *tok;
	size_t ntok;
	size_t key[F_NUM]; /* the field's keyword; SIZE_MAX when not given */
	size_t first[F_NUM];
	size_t nitems[F_NUM];
	enum moat_field order[F_NUM]; /* as written */
	size_t norder;
};

/*
 * Read the action, name and fields of a rule from @tok.  ICMP type names
 * are left as 0 for moat_check_rule(), which knows the family.  On error
 * @r may hold allocated lists: free them with moat_rule_free_lists().
 */
int moat_parse_rule(const struct lex_tok *tok, size_t ntok, struct moat_rule *r,
		    struct rule_fields *f, struct moat_diags *d);

/* Check the fields of a well-formed rule against each other. */
int moat_check_rule(struct moat_rule *r, const struct rule_fields *f,
		    struct moat_diags *d);

void moat_rule_free_lists(struct moat_rule *r);

/* parse-value.c: one item each; errors quote @t. */
int moat_parse_range(const struct lex_tok *t, unsigned int max,
		     const char *what, struct moat_range *out,
		     struct moat_diags *d);
int moat_parse_number(const struct lex_tok *t, unsigned int max,
		      const char *what, unsigned int *out,
		      struct moat_diags *d);
int moat_parse_prefix(const struct lex_tok *t, struct moat_prefix *out,
		      struct moat_diags *d);
int moat_parse_flags(const struct lex_tok *tok, size_t first, size_t n,
		     uint8_t *value, uint8_t *mask, struct moat_diags *d);
int moat_check_rule_name(const struct lex_tok *t, struct moat_diags *d);
int moat_check_ifname(const struct lex_tok *t, struct moat_diags *d);

/* Append @item to a MOAT_LIST; the capacity is the next power of two. */
int moat_list_push(void **v, size_t *n, size_t size, const void *item);
#define LIST_PUSH(l, item) \
	moat_list_push((void **)&(l).v, &(l).n, sizeof(*(l).v), &(item))

#endif /* MOAT_PARSE_H */
