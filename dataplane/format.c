// SPDX-License-Identifier: GPL-2.0-only
/*
 * The canonical text of a ruleset (docs/ruleset.md, "Canonical form"):
 * the policy first, one rule a line, names padded into a column, fields
 * in the table's order, numbers as names where the language has names.
 * Its output parses to an equal ruleset and formats to itself; the
 * parser and this file agree on comments for that (see parse-comments.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ruleset.h"

/* Names longer than this stick out of the column rather than push it. */
#define NAME_COLUMN_MAX 24

/*
 * The text goes into a buffer of our own and from there to the stream in
 * large writes, without printf: moatd formats every ruleset it applies,
 * to hash it beside the apply, and at 100,000 rules most of the time
 * went to parsing format strings and to stdio's handling of each small
 * piece (best of 5: 83-119 ms, now 35-51; docs/performance.md).
 */
struct out {
	FILE *f;
	bool started; /* something printed: a blank line may follow */
	bool blank; /* a blank line is due before the next line */
	size_t n;
	char buf[8192];
};

static void flush(struct out *o)
{
	fwrite(o->buf, 1, o->n, o->f);
	o->n = 0;
}

static void put_mem(struct out *o, const char *s, size_t len)
{
	while (len) {
		size_t k = sizeof(o->buf) - o->n < len ? sizeof(o->buf) - o->n : len;

		memcpy(o->buf + o->n, s, k);
		o->n += k;
		s += k;
		len -= k;
		if (o->n == sizeof(o->buf))
			flush(o);
	}
}

static void put(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void putch(struct out *o, char c)
{
	o->buf[o->n++] = c;
	if (o->n == sizeof(o->buf))
		flush(o);
}

static void put_u64(struct out *o, uint64_t v)
{
	char buf[20], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put_mem(o, p, (size_t)(buf + sizeof(buf) - p));
}

static void put_hex16(struct out *o, unsigned int v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[4], *p = buf + sizeof(buf);

	do
		*--p = digits[v & 15];
	while (v >>= 4);
	put_mem(o, p, (size_t)(buf + sizeof(buf) - p));
}

/* What inet_ntop() gives for IPv4, without its sprintf(). */
static void put_addr4(struct out *o, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			putch(o, '.');
		put_u64(o, a[i]);
	}
}

/*
 * What glibc's inet_ntop() gives for IPv6, without its sprintf(): groups
 * in lowercase hex, the first longest run of two or more zero groups as
 * "::", and the last 32 bits dotted in ::a.b.c.d and ::ffff:a.b.c.d.
 * test-format holds the two to each other.
 */
static void put_addr6(struct out *o, const uint8_t *a)
{
	int run = -1, runlen = 0, i, j;
	unsigned int w[8];

	for (i = 0; i < 8; i++)
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i = j + 1) {
		for (j = i; j < 8 && !w[j]; j++)
			;
		if (j - i > runlen && j - i >= 2) {
			run = i;
			runlen = j - i;
		}
	}
	for (i = 0; i < 8; i++) {
		if (run >= 0 && i >= run && i < run + runlen) {
			if (i == run)
				putch(o, ':');
			continue;
		}
		if (i)
			putch(o, ':');
		if (i == 6 && run == 0 &&
		    (runlen == 6 || (runlen == 5 && w[5] == 0xffff))) {
			put_addr4(o, a + 12);
			return;
		}
		put_hex16(o, w[i]);
	}
	if (run >= 0 && run + runlen == 8)
		putch(o, ':');
}

static void line_start(struct out *o)
{
	if (o->blank)
		putch(o, '\n');
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
		put(o, "# ");
	for (i = 0; i < len; i++)
		putch(o, s[i] != '\t' && is_space(s[i]) ? ' ' : s[i]);
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
			putch(o, '\n');
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
		put(o, "  ");
		put_comment(o, c, len);
	}
	putch(o, '\n');
}

static void put_range(struct out *o, const struct moat_range *rg)
{
	put_u64(o, rg->lo);
	if (rg->lo != rg->hi) {
		putch(o, '-');
		put_u64(o, rg->hi);
	}
}

static void put_ranges(struct out *o, const char *key, const struct moat_range *v,
		       size_t n)
{
	size_t i;

	if (!n)
		return;
	putch(o, ' ');
	put(o, key);
	putch(o, ' ');
	for (i = 0; i < n; i++) {
		put(o, i ? ", " : "");
		put_range(o, &v[i]);
	}
}

static void put_prefixes(struct out *o, const char *key, const struct moat_prefix *v,
			 size_t n)
{
	size_t i;

	if (!n)
		return;
	putch(o, ' ');
	put(o, key);
	putch(o, ' ');
	for (i = 0; i < n; i++) {
		put(o, i ? ", " : "");
		if (v[i].family == AF_INET)
			put_addr4(o, v[i].addr);
		else if (v[i].family == AF_INET6)
			put_addr6(o, v[i].addr);
		else
			putch(o, '?');
		if (v[i].len != (v[i].family == AF_INET ? 32 : 128)) {
			putch(o, '/');
			put_u64(o, v[i].len);
		}
	}
}

static void put_protos(struct out *o, const struct moat_rule *r)
{
	bool named = true;
	const char *name;
	size_t i;

	if (!r->protos.n)
		return;
	for (i = 0; i < r->protos.n; i++)
		named &= moat_proto_name(r->protos.v[i]) != NULL;
	put(o, named ? " " : " proto ");
	for (i = 0; i < r->protos.n; i++) {
		name = moat_proto_name(r->protos.v[i]);
		put(o, i ? ", " : "");
		if (name)
			put(o, name);
		else
			put_u64(o, r->protos.v[i]);
	}
}

/* Type names need the family: the rule's protocols, all icmp or all icmpv6. */
static void put_types(struct out *o, const struct moat_rule *r)
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
	put(o, " type ");
	for (i = 0; i < r->icmp_type.n; i++) {
		const struct moat_range *rg = &r->icmp_type.v[i];

		name = NULL;
		if (rg->lo == rg->hi && rg->lo <= 255 && family > 0)
			name = moat_icmp_type_name(family, rg->lo);
		put(o, i ? ", " : "");
		if (name)
			put(o, name);
		else
			put_range(o, rg);
	}
}

static void put_flag_set(struct out *o, uint8_t set)
{
	static const char *const names[8] = {
		"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
	};
	bool first = true;
	unsigned int bit;

	for (bit = 0; bit < 8; bit++) {
		if (!(set & (1u << bit)))
			continue;
		put(o, first ? "" : ",");
		put(o, names[bit]);
		first = false;
	}
}

/* A count of packets, or of bytes in the largest unit that divides it. */
static void put_amount(struct out *o, uint64_t v, bool bytes)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = { { "gbytes", 1000000000 }, { "mbytes", 1000000 },
		      { "kbytes", 1000 },	{ "bytes", 1 } };
	size_t i = 0;

	if (!bytes) {
		put_u64(o, v);
		return;
	}
	while (i + 1 < sizeof(units) / sizeof(units[0]) && v % units[i].mult)
		i++;
	put_u64(o, v / units[i].mult);
	put(o, units[i].name);
}

static void put_options(struct out *o, const struct moat_rule *r)
{
	const struct moat_limit *l = &r->limit;

	if (l->rate) {
		put(o, " limit ");
		put_amount(o, l->rate, l->bytes);
		putch(o, '/');
		putch(o, l->period_s == 1 ? 's' : l->period_s == 60 ? 'm' : 'h');
		if (l->burst) {
			put(o, " burst ");
			put_amount(o, l->burst, l->bytes);
		}
		if (l->per_source)
			put(o, " per-source");
		if (l->over_allow)
			put(o, " over-limit allow");
	}
	if (r->audit)
		put(o, " audit");
	if (r->log_every == 1) {
		put(o, " log");
	} else if (r->log_every) {
		put(o, " log 1/");
		put_u64(o, r->log_every);
	}
}

static void put_rule(struct out *o, const struct moat_rule *r, int width)
{
	int pad = width - (int)strlen(r->name);
	size_t i;

	if (pad < 0)
		pad = 0;
	put_comments(o, r->comments);
	line_start(o);
	put(o, r->action == MOAT_DROP ? "drop  " : "allow ");
	put(o, r->name);

	/* the name's column is padded only when fields follow it */
	if (r->protos.n || r->src.n || r->dst.n || r->sport.n || r->dport.n ||
	    r->icmp_type.n || r->icmp_code.n || r->tcp_flags_mask ||
	    r->ifaces.n || r->ct || r->limit.rate || r->audit || r->log_every)
		while (pad-- > 0)
			putch(o, ' ');

	put_protos(o, r);
	put_prefixes(o, "from", r->src.v, r->src.n);
	put_prefixes(o, "to", r->dst.v, r->dst.n);
	put_ranges(o, "sport", r->sport.v, r->sport.n);
	put_ranges(o, "dport", r->dport.v, r->dport.n);
	put_types(o, r);
	put_ranges(o, "code", r->icmp_code.v, r->icmp_code.n);
	if (r->tcp_flags_mask) {
		put(o, " flags ");
		put_flag_set(o, r->tcp_flags_value);
		if (r->tcp_flags_value != r->tcp_flags_mask) {
			putch(o, '/');
			put_flag_set(o, r->tcp_flags_mask);
		}
	}
	for (i = 0; i < r->ifaces.n; i++) {
		put(o, i ? ", " : " in ");
		put(o, r->ifaces.v[i].name);
	}
	for (i = 0; i < 8; i++) {
		if (r->ct & (1u << i)) {
			put(o, r->ct & ((1u << i) - 1) ? ", " : " ct ");
			put(o, moat_ct_state_name((uint8_t)(1u << i)));
		}
	}
	put_options(o, r);
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
		put(&o, rs->policy == MOAT_DROP ? "policy drop" : "policy allow");
		put_trailing(&o, rs->policy_trailing);
	}
	put_comments(&o, rs->mode_comments);
	if (rs->mode_given) {
		line_start(&o);
		put(&o, rs->audit ? "mode audit" : "mode enforce");
		put_trailing(&o, rs->mode_trailing);
	}
	put_comments(&o, rs->established_comments);
	if (rs->established_given) {
		line_start(&o);
		put(&o, rs->established_classify ? "classify established" :
						   "allow established");
		put_trailing(&o, rs->established_trailing);
	}
	for (i = 0; i < rs->nrules; i++)
		put_rule(&o, &rs->rules[i], width);
	put_comments(&o, rs->tail_comments);
	flush(&o);
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
