// SPDX-License-Identifier: GPL-2.0-only
/*
 * The canonical text of a ruleset (docs/ruleset.md, "Canonical form"):
 * the policy first, one rule a line, names padded into a column, fields
 * in the table's order, numbers as names where the language has names.
 * Its output parses to an equal ruleset and formats to itself; the
 * parser and this file agree on comments for that (see parse-comments.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ruleset.h"

/* Names longer than this stick out of the column rather than push it. */
#define NAME_COLUMN_MAX 24

struct out {
	FILE *f;
	bool started; /* something printed: a blank line may follow */
	bool blank; /* a blank line is due before the next line */
};

static void line_start(struct out *o)
{
	if (o->blank)
		fputc('\n', o->f);
	o->blank = false;
	o->started = true;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c < 0x20 || c == 0x7f;
}

/*
 * One comment's text, trimmed, with '#' in front if it lacks one.  Tabs
 * stay; other control characters (a hand-built ruleset may hold any) print
 * as spaces, so that the output always parses.
 */
static void put_comment(struct out *o, const char *s, size_t len)
{
	size_t i;

	while (len && is_space(*s))
		s++, len--;
	while (len && is_space(s[len - 1]))
		len--;
	if (s[0] != '#')
		fputs("# ", o->f);
	for (i = 0; i < len; i++)
		fputc(s[i] != '\t' && is_space(s[i]) ? ' ' : s[i], o->f);
}

/* Comment lines joined by '\n'; "" is a blank line.  Runs collapse. */
static void put_comments(struct out *o, const char *c)
{
	const char *nl;
	size_t len, i;

	while (c) {
		nl = strchr(c, '\n');
		len = nl ? (size_t)(nl - c) : strlen(c);
		for (i = 0; i < len && is_space(c[i]); i++)
			;
		if (i == len) {
			o->blank = o->started;
		} else {
			line_start(o);
			put_comment(o, c, len);
			fputc('\n', o->f);
		}
		c = nl ? nl + 1 : NULL;
	}
}

static void put_trailing(struct out *o, const char *c)
{
	size_t len = c ? strlen(c) : 0, i;

	for (i = 0; i < len && is_space(c[i]); i++)
		;
	if (i < len) {
		fputs("  ", o->f);
		put_comment(o, c, len);
	}
	fputc('\n', o->f);
}

static void put_range(FILE *f, const struct moat_range *rg)
{
	if (rg->lo == rg->hi)
		fprintf(f, "%u", rg->lo);
	else
		fprintf(f, "%u-%u", rg->lo, rg->hi);
}

static void put_ranges(FILE *f, const char *key, const struct moat_range *v,
		       size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, " %s ", key);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		put_range(f, &v[i]);
	}
}

static void put_prefixes(FILE *f, const char *key, const struct moat_prefix *v,
			 size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	if (!n)
		return;
	fprintf(f, " %s ", key);
	for (i = 0; i < n; i++) {
		if (!inet_ntop(v[i].family, v[i].addr, buf, sizeof(buf)))
			strcpy(buf, "?");
		fprintf(f, "%s%s", i ? ", " : "", buf);
		if (v[i].len != (v[i].family == AF_INET ? 32 : 128))
			fprintf(f, "/%u", v[i].len);
	}
}

static void put_protos(FILE *f, const struct moat_rule *r)
{
	bool named = true;
	const char *name;
	size_t i;

	if (!r->protos.n)
		return;
	for (i = 0; i < r->protos.n; i++)
		named &= moat_proto_name(r->protos.v[i]) != NULL;
	fputs(named ? " " : " proto ", f);
	for (i = 0; i < r->protos.n; i++) {
		name = moat_proto_name(r->protos.v[i]);
		fputs(i ? ", " : "", f);
		if (name)
			fputs(name, f);
		else
			fprintf(f, "%u", r->protos.v[i]);
	}
}

/* Type names need the family: the rule's protocols, all icmp or all icmpv6. */
static void put_types(FILE *f, const struct moat_rule *r)
{
	int family = 0;
	const char *name;
	size_t i;

	if (!r->icmp_type.n)
		return;
	for (i = 0; i < r->protos.n; i++) {
		int fam = r->protos.v[i] == MOAT_PROTO_ICMP   ? AF_INET :
			  r->protos.v[i] == MOAT_PROTO_ICMPV6 ? AF_INET6 :
								-1;

		family = i && fam != family ? -1 : fam;
	}
	fputs(" type ", f);
	for (i = 0; i < r->icmp_type.n; i++) {
		const struct moat_range *rg = &r->icmp_type.v[i];

		name = NULL;
		if (rg->lo == rg->hi && rg->lo <= 255 && family > 0)
			name = moat_icmp_type_name(family, rg->lo);
		fputs(i ? ", " : "", f);
		if (name)
			fputs(name, f);
		else
			put_range(f, rg);
	}
}

static void put_flag_set(FILE *f, uint8_t set)
{
	static const char *const names[8] = {
		"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
	};
	bool first = true;
	unsigned int bit;

	for (bit = 0; bit < 8; bit++) {
		if (!(set & (1u << bit)))
			continue;
		fprintf(f, "%s%s", first ? "" : ",", names[bit]);
		first = false;
	}
}

/* A count of packets, or of bytes in the largest unit that divides it. */
static void put_amount(FILE *f, uint64_t v, bool bytes)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = { { "gbytes", 1000000000 }, { "mbytes", 1000000 },
		      { "kbytes", 1000 },	{ "bytes", 1 } };
	size_t i = 0;

	if (!bytes) {
		fprintf(f, "%llu", (unsigned long long)v);
		return;
	}
	while (i + 1 < sizeof(units) / sizeof(units[0]) && v % units[i].mult)
		i++;
	fprintf(f, "%llu%s", (unsigned long long)(v / units[i].mult), units[i].name);
}

static void put_options(FILE *f, const struct moat_rule *r)
{
	const struct moat_limit *l = &r->limit;

	if (l->rate) {
		fputs(" limit ", f);
		put_amount(f, l->rate, l->bytes);
		fprintf(f, "/%c", l->period_s == 1 ? 's' : l->period_s == 60 ? 'm' : 'h');
		if (l->burst) {
			fputs(" burst ", f);
			put_amount(f, l->burst, l->bytes);
		}
		if (l->per_source)
			fputs(" per-source", f);
		if (l->over_allow)
			fputs(" over-limit allow", f);
	}
	if (r->audit)
		fputs(" audit", f);
	if (r->log_every == 1)
		fputs(" log", f);
	else if (r->log_every)
		fprintf(f, " log 1/%u", r->log_every);
}

static void put_rule(struct out *o, const struct moat_rule *r, int width)
{
	int pad = width - (int)strlen(r->name);
	FILE *f = o->f;
	size_t i;

	if (pad < 0)
		pad = 0;
	put_comments(o, r->comments);
	line_start(o);
	fprintf(f, "%-5s %s", r->action == MOAT_DROP ? "drop" : "allow",
		r->name);

	/* the fields, into a buffer first: the padding depends on them */
	if (r->protos.n || r->src.n || r->dst.n || r->sport.n || r->dport.n ||
	    r->icmp_type.n || r->icmp_code.n || r->tcp_flags_mask ||
	    r->ifaces.n || r->ct || r->limit.rate || r->audit || r->log_every)
		fprintf(f, "%*s", pad, "");

	put_protos(f, r);
	put_prefixes(f, "from", r->src.v, r->src.n);
	put_prefixes(f, "to", r->dst.v, r->dst.n);
	put_ranges(f, "sport", r->sport.v, r->sport.n);
	put_ranges(f, "dport", r->dport.v, r->dport.n);
	put_types(f, r);
	put_ranges(f, "code", r->icmp_code.v, r->icmp_code.n);
	if (r->tcp_flags_mask) {
		fputs(" flags ", f);
		put_flag_set(f, r->tcp_flags_value);
		if (r->tcp_flags_value != r->tcp_flags_mask) {
			fputc('/', f);
			put_flag_set(f, r->tcp_flags_mask);
		}
	}
	for (i = 0; i < r->ifaces.n; i++)
		fprintf(f, "%s%s", i ? ", " : " in ", r->ifaces.v[i].name);
	for (i = 0; i < 8; i++)
		if (r->ct & (1u << i))
			fprintf(f, "%s%s", r->ct & ((1u << i) - 1) ? ", " : " ct ",
				moat_ct_state_name((uint8_t)(1u << i)));
	put_options(f, r);
	put_trailing(o, r->trailing);
}

int moat_ruleset_write(const struct moat_ruleset *rs, FILE *f)
{
	struct out o = { .f = f };
	size_t i, len;
	int width = 0;

	for (i = 0; i < rs->nrules; i++) {
		len = strlen(rs->rules[i].name);
		if ((int)len > width)
			width = len > NAME_COLUMN_MAX ? NAME_COLUMN_MAX : len;
	}

	put_comments(&o, rs->policy_comments);
	if (rs->policy_given) {
		line_start(&o);
		fprintf(o.f, "policy %s",
			rs->policy == MOAT_DROP ? "drop" : "allow");
		put_trailing(&o, rs->policy_trailing);
	}
	put_comments(&o, rs->mode_comments);
	if (rs->mode_given) {
		line_start(&o);
		fprintf(o.f, "mode %s", rs->audit ? "audit" : "enforce");
		put_trailing(&o, rs->mode_trailing);
	}
	put_comments(&o, rs->established_comments);
	if (rs->established_given) {
		line_start(&o);
		fprintf(o.f, "%s established",
			rs->established_classify ? "classify" : "allow");
		put_trailing(&o, rs->established_trailing);
	}
	for (i = 0; i < rs->nrules; i++)
		put_rule(&o, &rs->rules[i], width);
	put_comments(&o, rs->tail_comments);
	return ferror(f) ? -EIO : 0;
}

char *moat_ruleset_format(const struct moat_ruleset *rs)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (moat_ruleset_write(rs, f)) {
		fclose(f);
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
