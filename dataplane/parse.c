// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ruleset file: a policy line and rules, one logical line each, with
 * the comments around them kept for the formatter.  A logical line is a
 * physical line plus, while it ends with ',', the lines after it.
 *
 * Errors are collected, not fatal: each logical line is read on its own,
 * so a bad line costs only itself.  The ruleset is built as we go and
 * thrown away at the end if anything was wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"

/* Rule names seen, for duplicates: open addressing over rule indexes. */
struct names {
	struct {
		uint32_t rule; /* rule index + 1; 0 is empty */
		uint32_t hash; /* of its name */
	} *slot;
	size_t cap, n;
};

struct parser {
	struct lex lx;
	struct lex_toks tv;
	struct moat_diags *d;
	struct moat_ruleset rs;
	size_t rules_cap;
	struct cbuf pending; /* above the next policy or rule */
	struct cbuf inner; /* inside the current logical line */
	uint32_t policy_line;
	struct names names;
	char ifaces[MOAT_IFACES_MAX][MOAT_IFNAME_MAX + 1];
	size_t nifaces;
	bool stop;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/*
 * The index of the rule named @name (of hash @h), or SIZE_MAX; @slot where
 * it would go.  Names are compared only where the hashes are equal.
 */
static size_t names_find(const struct parser *ps, const char *name,
			 uint32_t h, size_t *slot)
{
	const struct names *nt = &ps->names;
	size_t i = h & (nt->cap - 1);

	for (; nt->slot[i].rule; i = (i + 1) & (nt->cap - 1))
		if (nt->slot[i].hash == h &&
		    !strcmp(ps->rs.rules[nt->slot[i].rule - 1].name, name))
			return nt->slot[i].rule - 1;
	*slot = i;
	return SIZE_MAX;
}

static int names_grow(struct parser *ps)
{
	struct names *nt = &ps->names, old = *nt;
	size_t i, slot;

	nt->cap = old.cap ? 2 * old.cap : 1024;
	nt->slot = calloc(nt->cap, sizeof(*nt->slot));
	if (!nt->slot) {
		*nt = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++) {
		if (!old.slot[i].rule)
			continue;
		/* the names are all different: the first empty slot */
		for (slot = old.slot[i].hash & (nt->cap - 1); nt->slot[slot].rule;
		     slot = (slot + 1) & (nt->cap - 1))
			;
		nt->slot[slot] = old.slot[i];
	}
	free(old.slot);
	return 0;
}

static int read_policy(struct parser *ps, const struct lex_tok *tok,
		       size_t ntok, const char *trailing, size_t trailing_len)
{
	struct moat_diags *d = ps->d;
	struct moat_ruleset *rs = &ps->rs;

	if (ntok < 2)
		return tok_error(d, &tok[0],
				 "missing allow or drop after the keyword");
	if (!tok_is(&tok[1], "allow") && !tok_is(&tok[1], "drop"))
		return tok_error(d, &tok[1],
				 "unknown policy, expected allow or drop");
	if (ntok > 2)
		return tok_error(d, &tok[2],
				 "unexpected text after the policy");
	if (rs->policy_given)
		return tok_error(d, &tok[0],
				 "policy given twice (first on line %u)",
				 ps->policy_line);
	rs->policy_given = true;
	rs->policy = tok_is(&tok[1], "drop") ? MOAT_DROP : MOAT_ALLOW;
	ps->policy_line = tok[0].line;
	/* no inner comments: a policy line cannot go on after a ',' */
	if (moat_cbuf_take(&ps->pending, &rs->policy_comments))
		return -ENOMEM;
	if (trailing) {
		rs->policy_trailing = strndup(trailing, trailing_len);
		if (!rs->policy_trailing)
			return -ENOMEM;
	}
	return 0;
}

/* "mode audit" or "mode enforce" */
static int read_mode(struct parser *ps, const struct lex_tok *tok, size_t ntok,
		     const char *trailing, size_t trailing_len)
{
	struct moat_ruleset *rs = &ps->rs;

	if (ntok < 2 || (!tok_is(&tok[1], "audit") && !tok_is(&tok[1], "enforce")))
		return tok_error(ps->d, ntok < 2 ? &tok[0] : &tok[1],
				 "expected audit or enforce after mode");
	if (ntok > 2)
		return tok_error(ps->d, &tok[2], "unexpected text after the mode");
	if (rs->mode_given)
		return tok_error(ps->d, &tok[0], "mode given twice (first on line %u)",
				 rs->mode_line);
	rs->mode_given = true;
	rs->audit = tok_is(&tok[1], "audit");
	rs->mode_line = tok[0].line;
	if (moat_cbuf_take(&ps->pending, &rs->mode_comments))
		return -ENOMEM;
	if (trailing) {
		rs->mode_trailing = strndup(trailing, trailing_len);
		if (!rs->mode_trailing)
			return -ENOMEM;
	}
	return 0;
}

/* "allow established" or "classify established". */
static int read_established(struct parser *ps, const struct lex_tok *tok,
			    size_t ntok, const char *trailing,
			    size_t trailing_len)
{
	struct moat_diags *d = ps->d;
	struct moat_ruleset *rs = &ps->rs;

	if (ntok > 2)
		return tok_error(d, &tok[2],
				 "unexpected text after '%.*s established' (it is a statement, not a rule; 'established' cannot name a rule)",
				 (int)tok[0].len, tok[0].s);
	if (rs->established_given)
		return tok_error(d, &tok[0],
				 "established given twice (first on line %u)",
				 rs->established_line);
	rs->established_given = true;
	rs->established_classify = tok_is(&tok[0], "classify");
	rs->established_line = tok[0].line;
	if (moat_cbuf_take(&ps->pending, &rs->established_comments))
		return -ENOMEM;
	if (trailing) {
		rs->established_trailing = strndup(trailing, trailing_len);
		if (!rs->established_trailing)
			return -ENOMEM;
	}
	return 0;
}

/* At most MOAT_IFACES_MAX different interface names in a ruleset. */
static int count_ifaces(struct parser *ps, const struct moat_rule *r,
			const struct rule_fields *f)
{
	size_t i, k;

	for (i = 0; i < r->ifaces.n; i++) {
		for (k = 0; k < ps->nifaces; k++)
			if (!strcmp(ps->ifaces[k], r->ifaces.v[i].name))
				break;
		if (k < ps->nifaces)
			continue;
		if (ps->nifaces == MOAT_IFACES_MAX)
			return tok_error(
				ps->d, &f->tok[f->first[F_IN] + 2 * i],
				"more than %d different interface names in the ruleset",
				MOAT_IFACES_MAX);
		strcpy(ps->ifaces[ps->nifaces++], r->ifaces.v[i].name);
	}
	return 0;
}

static int store_rule(struct parser *ps, struct moat_rule *r, size_t slot,
		      const char *trailing, size_t trailing_len)
{
	struct moat_ruleset *rs = &ps->rs;
	struct moat_rule *nr;

	if (rs->nrules == ps->rules_cap) {
		size_t cap = ps->rules_cap ? 2 * ps->rules_cap : 64;

		nr = realloc(rs->rules, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		rs->rules = nr;
		ps->rules_cap = cap;
	}
	/* inner holds no blank line (one ends a rule), so it joins as one */
	if (ps->inner.any &&
	    moat_cbuf_add(&ps->pending, ps->inner.s, ps->inner.len))
		return -ENOMEM;
	if (moat_cbuf_take(&ps->pending, &r->comments))
		return -ENOMEM;
	if (trailing) {
		r->trailing = strndup(trailing, trailing_len);
		if (!r->trailing)
			return -ENOMEM;
	}
	rs->rules[rs->nrules++] = *r;
	ps->names.slot[slot].rule = (uint32_t)rs->nrules;
	ps->names.slot[slot].hash = name_hash(r->name);
	ps->names.n++;
	return 0;
}

static int read_rule(struct parser *ps, const struct lex_tok *tok, size_t ntok,
		     const char *trailing, size_t trailing_len)
{
	struct moat_rule r;
	struct rule_fields f;
	size_t slot = 0, dup;
	int ret;

	memset(&r, 0, sizeof(r));
	if (ps->rs.nrules == MOAT_RULES_MAX) {
		/* one error is enough: every rule after this one is too many */
		ps->stop = true;
		return tok_error(ps->d, &tok[ntok > 1],
				 "too many rules, expected at most %u",
				 MOAT_RULES_MAX);
	}
	if (2 * (ps->names.n + 1) > ps->names.cap && names_grow(ps))
		return -ENOMEM;
	ret = moat_parse_rule(tok, ntok, &r, &f, ps->d);
	if (!ret) {
		dup = names_find(ps, r.name, name_hash(r.name), &slot);
		if (dup != SIZE_MAX)
			ret = tok_error(
				ps->d, &tok[1],
				"duplicate rule name (first on line %u)",
				ps->rs.rules[dup].line);
	}
	if (!ret)
		ret = moat_check_rule(&r, &f, ps->d);
	if (!ret)
		ret = count_ifaces(ps, &r, &f);
	if (!ret)
		ret = store_rule(ps, &r, slot, trailing, trailing_len);
	if (ret)
		moat_rule_free_lists(&r);
	return ret;
}

static int read_line(struct parser *ps, const char *trailing,
		     size_t trailing_len)
{
	const struct lex_tok *tok = ps->tv.v;
	size_t ntok = ps->tv.n;
	enum moat_kw kw;
	char lower[16];
	size_t i;

	if (tok_is(&tok[0], "policy"))
		return read_policy(ps, tok, ntok, trailing, trailing_len);
	if (tok_is(&tok[0], "mode"))
		return read_mode(ps, tok, ntok, trailing, trailing_len);
	if (ntok >= 2 && tok_is(&tok[1], "established") &&
	    (tok_is(&tok[0], "allow") || tok_is(&tok[0], "classify")))
		return read_established(ps, tok, ntok, trailing, trailing_len);
	if (tok_is(&tok[0], "allow") || tok_is(&tok[0], "drop"))
		return read_rule(ps, tok, ntok, trailing, trailing_len);
	for (i = 0; i < tok[0].len && i < sizeof(lower); i++) {
		lower[i] = tok[0].s[i];
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] += 'a' - 'A';
	}
	kw = i == tok[0].len ? moat_keyword(lower, i) : KW_NONE;
	if (kw == KW_POLICY || kw == KW_ALLOW || kw == KW_DROP)
		return tok_error(ps->d, &tok[0], "keywords are lower case");
	if (moat_keyword(tok[0].s, tok[0].len))
		return tok_error(ps->d, &tok[0],
				 "a line starts with allow, drop, policy, mode or classify established");
	return tok_error(ps->d, &tok[0],
			 "unknown keyword, expected allow, drop, policy, mode or classify established");
}

/*
 * Read the logical line that starts with @ln into ps->tv, and parse it.
 * Comments on its continued lines go to ps->inner: the canonical form has
 * one rule a line, so they move above it.
 */
static int read_logical(struct parser *ps, struct lex_line *ln, bool bad)
{
	const char *trailing = ln->comment;
	size_t tlen = ln->comment_len;
	struct lex_line next;
	const struct lex_tok *comma;
	size_t at;
	int ret;

	while (tok_comma(&ps->tv.v[ps->tv.n - 1])) {
		at = ps->tv.n - 1;
		ret = moat_lex_line(&ps->lx, &ps->tv, &next, ps->d);
		comma = &ps->tv.v[at]; /* the read may have moved the tokens */
		if (ret == -ENOMEM)
			return ret;
		if (ret == 0)
			return tok_error(
				ps->d, comma,
				"list goes on after ',', but the file ends");
		bad |= ret < 0;
		if (!next.ntok && !next.comment) {
			/* a blank line ends a rule, even after a ',' */
			ret = tok_error(
				ps->d, comma,
				"list goes on after ',', but the next line is blank");
			return moat_cbuf_add(&ps->pending, "", 0) ?: ret;
		}
		if (trailing && moat_cbuf_add(&ps->inner, trailing, tlen))
			return -ENOMEM;
		trailing = next.comment;
		tlen = next.comment_len;
	}
	if (bad)
		return -EINVAL;
	return read_line(ps, trailing, tlen);
}

static int read_all(struct parser *ps)
{
	struct lex_line ln;
	char *c;
	int ret;

	while (!ps->stop && ps->d->nerrors <= MOAT_DIAGS_MAX_ERRORS) {
		ps->tv.n = 0;
		ret = moat_lex_line(&ps->lx, &ps->tv, &ln, ps->d);
		if (ret == 0 || ret == -ENOMEM)
			return ret;
		if (!ln.ntok) {
			/* a bad character in a comment spoils nothing else */
			if (moat_cbuf_add(&ps->pending, ln.comment,
					  ln.comment_len))
				return -ENOMEM;
			continue;
		}
		ret = read_logical(ps, &ln, ret < 0);
		if (ret == -ENOMEM)
			return ret;
		if (ps->inner.any) {
			moat_cbuf_take(&ps->inner, &c);
			free(c);
		}
	}
	return 0;
}

int moat_ruleset_parse(const char *text, size_t len, struct moat_ruleset *out,
		       struct moat_diags *diags)
{
	struct moat_diags local = { 0 };
	struct moat_ruleset *rs;
	struct parser ps;
	size_t errors;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	rs = &ps.rs;
	ps.d = diags ? diags : &local;
	errors = ps.d->nerrors;
	moat_lex_init(&ps.lx, text, len);

	ret = read_all(&ps);
	if (!ret)
		ret = moat_cbuf_take(&ps.pending, &rs->tail_comments);
	if (!ret && ps.d->nerrors > errors)
		ret = -EINVAL;
	if (ret)
		goto out;

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct moat_rule *r = &rs->rules[i];

		if (r->audit && r->action == MOAT_ALLOW &&
		    !(r->limit.rate && !r->limit.over_allow))
			moat_diag_add(
				ps.d, MOAT_WARNING, r->line, r->col,
				"audit changes nothing here: the rule drops nothing (audit a drop rule, or a limit): '%s'",
				r->name);
	}
	for (size_t i = 0; i < rs->nrules && !rs->established_classify; i++) {
		const struct moat_rule *r = &rs->rules[i];

		if (r->ct && !(r->ct & (MOAT_CT_NEW | MOAT_CT_INVALID)))
			moat_diag_add(
				ps.d, MOAT_WARNING, r->line, r->col,
				"rule matches only established or related packets, which 'allow established' passes before any rule, so it can never match (add 'classify established' to send them through the rules): '%s'",
				r->name);
	}
	if (!rs->policy_given)
		moat_diag_add(
			ps.d, MOAT_WARNING, 0, 0,
			"no policy line, so the default policy is allow (add 'policy allow' or 'policy drop')");
	moat_strip_blank_edges(rs->policy_given	? &rs->policy_comments :
			       rs->mode_given	? &rs->mode_comments :
			       rs->established_given ? &rs->established_comments :
			       rs->nrules		? &rs->rules[0].comments :
							  &rs->tail_comments,
			       true, false);
	moat_strip_blank_edges(&rs->tail_comments, false, true);
	*out = *rs;
	memset(rs, 0, sizeof(*rs));
out:
	moat_ruleset_free(rs);
	free(ps.tv.v);
	free(ps.names.slot);
	free(ps.pending.s);
	free(ps.inner.s);
	moat_diags_free(&local);
	return ret;
}

/* The whole file, whatever it is (a pipe has no size to trust). */
static int read_file(const char *path, char **text, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	ssize_t got;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			break;
		}
		if (got == 0)
			break;
		n += got;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*text = buf;
	*len = n;
	return 0;
}

int moat_ruleset_parse_file(const char *path, struct moat_ruleset *out,
			    struct moat_diags *diags)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_file(path, &text, &len);
	if (ret)
		return ret;
	ret = moat_ruleset_parse(text, len, out, diags);
	free(text);
	return ret;
}

void moat_ruleset_free(struct moat_ruleset *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->nrules; i++)
		moat_rule_free_lists(&rs->rules[i]);
	free(rs->rules);
	free(rs->policy_comments);
	free(rs->policy_trailing);
	free(rs->established_comments);
	free(rs->established_trailing);
	free(rs->mode_comments);
	free(rs->mode_trailing);
	free(rs->tail_comments);
	memset(rs, 0, sizeof(*rs));
}
