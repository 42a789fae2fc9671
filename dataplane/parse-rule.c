// SPDX-License-Identifier: GPL-2.0-only
/*
 * One rule: ACTION NAME, then match fields in any order, each a keyword
 * and a comma-separated list.  The tokens of the whole logical line are at
 * hand (continuation lines already joined), so a field is read by walking
 * an array: word, comma, word, ...
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "parse.h"

/* Every keyword of the language, in one place, with its length. */
#define KW(w, k) { w, sizeof(w) - 1, k }
static const struct {
	const char *word;
	size_t len;
	enum moat_kw kw;
} keywords[] = {
	KW("policy", KW_POLICY),
	KW("allow", KW_ALLOW),
	KW("drop", KW_DROP),
	KW("tcp", KW_PROTO_NAME),
	KW("udp", KW_PROTO_NAME),
	KW("sctp", KW_PROTO_NAME),
	KW("icmp", KW_PROTO_NAME),
	KW("icmpv6", KW_PROTO_NAME),
	KW("any", KW_ANY),
	KW("proto", KW_PROTO),
	KW("from", KW_FROM),
	KW("to", KW_TO),
	KW("sport", KW_SPORT),
	KW("dport", KW_DPORT),
	KW("type", KW_TYPE),
	KW("code", KW_CODE),
	KW("flags", KW_FLAGS),
	KW("in", KW_IN),
	KW("ct", KW_CT),
	KW("established", KW_ESTABLISHED),
	KW("classify", KW_CLASSIFY),
	KW("mode", KW_MODE),
	KW("limit", KW_LIMIT),
	KW("burst", KW_BURST),
	KW("per-source", KW_PER_SOURCE),
	KW("over-limit", KW_OVER_LIMIT),
	KW("audit", KW_AUDIT),
	KW("log", KW_LOG),
};
#undef KW

enum moat_kw moat_keyword(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (keywords[i].len == len && keywords[i].word[0] == s[0] &&
		    !memcmp(keywords[i].word, s, len))
			return keywords[i].kw;
	return KW_NONE;
}

int moat_list_push(void **v, size_t *n, size_t size, const void *item)
{
	void *nv;

	if (*n == 0 || (*n & (*n - 1)) == 0) {
		nv = realloc(*v, (*n ? 2 * *n : 1) * size);
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	memcpy((char *)*v + *n * size, item, size);
	(*n)++;
	return 0;
}

void moat_rule_free_lists(struct moat_rule *r)
{
	free(r->protos.v);
	free(r->src.v);
	free(r->dst.v);
	free(r->sport.v);
	free(r->dport.v);
	free(r->icmp_type.v);
	free(r->icmp_code.v);
	free(r->ifaces.v);
	free(r->comments);
	free(r->trailing);
	memset(&r->protos, 0, sizeof(*r) - offsetof(struct moat_rule, protos));
}

static const char *const field_what[F_NUM] = {
	[F_PROTO] = "protocols", [F_FROM] = "addresses", [F_TO] = "addresses",
	[F_SPORT] = "ports",	 [F_DPORT] = "ports",	 [F_TYPE] = "types",
	[F_CODE] = "codes",	 [F_FLAGS] = "flags",	 [F_IN] = "interfaces",
	[F_CT] = "states",
};

/* The conntrack states a rule can match, as docs/ruleset.md names them. */
static const struct {
	const char *name;
	uint8_t bit;
} ct_states[] = {
	{ "new", MOAT_CT_NEW },
	{ "established", MOAT_CT_ESTABLISHED },
	{ "related", MOAT_CT_RELATED },
	{ "invalid", MOAT_CT_INVALID },
};

const char *moat_ct_state_name(uint8_t bit)
{
	for (size_t i = 0; i < sizeof(ct_states) / sizeof(ct_states[0]); i++)
		if (ct_states[i].bit == bit)
			return ct_states[i].name;
	return NULL;
}

static int read_ct(struct moat_rule *r, const struct rule_fields *f,
		   struct moat_diags *d)
{
	for (size_t j = 0; j < f->nitems[F_CT]; j++) {
		const struct lex_tok *t = &f->tok[f->first[F_CT] + 2 * j];
		uint8_t bit = 0;

		for (size_t i = 0; i < sizeof(ct_states) / sizeof(ct_states[0]); i++)
			if (tok_is(t, ct_states[i].name))
				bit = ct_states[i].bit;
		if (!bit)
			return tok_error(
				d, t,
				"unknown conntrack state, expected new, established, related or invalid");
		if (r->ct & bit)
			return tok_error(d, t, "state listed twice");
		r->ct |= bit;
	}
	return 0;
}

/*
 * The list starting at tok[*i]: word (',' word)*.  Records it in @f and
 * moves *i past it.  An empty item is an error at its ','.
 */
static int read_list(struct rule_fields *f, enum moat_field fld, size_t *i,
		     struct moat_diags *d)
{
	const struct lex_tok *tok = f->tok;
	size_t j = *i;

	if (j >= f->ntok)
		return tok_error(d, &tok[f->key[fld]],
				 "missing %s after the keyword",
				 field_what[fld]);
	f->first[fld] = j;
	for (;;) {
		if (tok_comma(&tok[j]))
			return tok_error(d, &tok[j], "empty list item");
		j++;
		if (j >= f->ntok || !tok_comma(&tok[j]))
			break;
		j++;
		if (j >= f->ntok)
			return tok_error(d, &tok[j - 1],
					 "list ends with ',', expected more %s",
					 field_what[fld]);
	}
	f->nitems[fld] = (j - f->first[fld] + 1) / 2;
	*i = j;
	return 0;
}

/* 'any' alone stands for the whole list: an empty list. */
static int any_alone(const struct rule_fields *f, enum moat_field fld,
		     const char *what, bool *any, struct moat_diags *d)
{
	size_t j, n = f->nitems[fld], at = SIZE_MAX;

	*any = false;
	for (j = 0; j < n; j++)
		if (tok_is(&f->tok[f->first[fld] + 2 * j], "any"))
			at = j;
	if (at == SIZE_MAX)
		return 0;
	if (n > 1)
		return tok_error(d, &f->tok[f->first[fld] + 2 * (at ? at : 1)],
				 "'any' cannot be mixed with %s", what);
	*any = true;
	return 0;
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int read_protos(struct moat_rule *r, const struct rule_fields *f,
		       bool bare, struct moat_diags *d)
{
	size_t j, n = f->nitems[F_PROTO];
	unsigned int num;
	uint8_t p;
	bool any;
	int v;

	any = false;
	if (bare && any_alone(f, F_PROTO, "protocols", &any, d))
		return -EINVAL;
	for (j = 0; j < n && !any; j++) {
		const struct lex_tok *t = &f->tok[f->first[F_PROTO] + 2 * j];
		char name[8] = "";

		if (t->len < sizeof(name)) {
			memcpy(name, t->s, t->len);
			name[t->len] = '\0';
		}
		v = moat_proto_lookup(name);
		if (v >= 0) {
			p = v;
		} else if (bare && t->s[0] >= '0' && t->s[0] <= '9') {
			return tok_error(
				d, t,
				"protocol numbers need 'proto' (as in 'proto 47')");
		} else if (bare) {
			return tok_error(
				d, t,
				"unknown protocol, expected tcp, udp, sctp, icmp, icmpv6 or any");
		} else if (t->s[0] >= '0' && t->s[0] <= '9') {
			if (moat_parse_number(t, 255, "protocol number", &num,
					      d))
				return -EINVAL;
			p = num;
		} else {
			return tok_error(
				d, t,
				"unknown protocol, expected tcp, udp, sctp, icmp, icmpv6 or a number 0-255");
		}
		if (LIST_PUSH(r->protos, p))
			return -ENOMEM;
	}
	return 0;
}

static int read_field(struct moat_rule *r, struct rule_fields *f,
		      enum moat_field fld, struct moat_diags *d)
{
	size_t j, n = f->nitems[fld];
	struct moat_prefix pfx;
	struct moat_range rg;
	struct moat_iface ifc;
	bool any;

	if (fld == F_PROTO)
		return read_protos(r, f, f->key[F_PROTO] == f->first[F_PROTO],
				   d);
	if (fld == F_CT)
		return read_ct(r, f, d);
	if (fld == F_FLAGS)
		return moat_parse_flags(f->tok, f->first[fld], n,
					&r->tcp_flags_value, &r->tcp_flags_mask,
					d);
	if ((fld == F_FROM || fld == F_TO) &&
	    any_alone(f, fld, "addresses", &any, d))
		return -EINVAL;
	if ((fld == F_FROM || fld == F_TO) && any)
		return 0;

	for (j = 0; j < n; j++) {
		const struct lex_tok *t = &f->tok[f->first[fld] + 2 * j];
		int ret = 0;

		switch (fld) {
		case F_FROM:
		case F_TO:
			if (moat_parse_prefix(t, &pfx, d))
				return -EINVAL;
			ret = fld == F_FROM ? LIST_PUSH(r->src, pfx) :
					      LIST_PUSH(r->dst, pfx);
			break;
		case F_SPORT:
		case F_DPORT:
			if (moat_parse_range(t, 65535, "port", &rg, d))
				return -EINVAL;
			ret = fld == F_SPORT ? LIST_PUSH(r->sport, rg) :
					       LIST_PUSH(r->dport, rg);
			break;
		case F_TYPE:
			/* names wait for moat_check_rule(): it knows the family */
			rg = (struct moat_range){ 0, 0 };
			if (!is_letter(t->s[0]) &&
			    moat_parse_range(t, 255, "type", &rg, d))
				return -EINVAL;
			ret = LIST_PUSH(r->icmp_type, rg);
			break;
		case F_CODE:
			if (moat_parse_range(t, 255, "code", &rg, d))
				return -EINVAL;
			ret = LIST_PUSH(r->icmp_code, rg);
			break;
		case F_IN:
			if (moat_check_ifname(t, d))
				return -EINVAL;
			memset(&ifc, 0, sizeof(ifc));
			memcpy(ifc.name, t->s, t->len);
			ret = LIST_PUSH(r->ifaces, ifc);
			break;
		default:
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static const enum moat_field kw_field[] = {
	[KW_PROTO_NAME] = F_PROTO, [KW_ANY] = F_PROTO, [KW_PROTO] = F_PROTO,
	[KW_FROM] = F_FROM,	   [KW_TO] = F_TO,     [KW_SPORT] = F_SPORT,
	[KW_DPORT] = F_DPORT,	   [KW_TYPE] = F_TYPE, [KW_CODE] = F_CODE,
	[KW_FLAGS] = F_FLAGS,	   [KW_IN] = F_IN,     [KW_CT] = F_CT,
};

/* Byte units of rates and bursts: decimal, as network people count. */
static const struct {
	const char *name;
	uint64_t mult;
} byte_units[] = {
	{ "bytes", 1 },
	{ "kbytes", 1000 },
	{ "mbytes", 1000000 },
	{ "gbytes", 1000000000 },
};

/*
 * "N" or "N<unit>" at the start of @s (@len bytes): the count in packets
 * (no unit) or bytes.  Returns the bytes it read, 0 when it is not one.
 */
static size_t read_amount(const char *s, size_t len, uint64_t *v, bool *bytes)
{
	size_t i = 0, u;

	*v = 0;
	*bytes = false;
	while (i < len && s[i] >= '0' && s[i] <= '9' && *v < (1ull << 40))
		*v = *v * 10 + (uint64_t)(s[i++] - '0');
	if (!i || (s[0] == '0' && i > 1) || (i < len && s[i] >= '0' && s[i] <= '9'))
		return 0;
	for (u = 0; u < sizeof(byte_units) / sizeof(byte_units[0]); u++) {
		size_t n = strlen(byte_units[u].name);

		if (len - i >= n && !memcmp(s + i, byte_units[u].name, n) &&
		    (i + n == len || s[i + n] == '/')) {
			*v *= byte_units[u].mult;
			*bytes = true;
			return i + n;
		}
	}
	return i;
}

/* "100/s", "2mbytes/s", "30/m", "1000/h" */
static int read_rate(const struct lex_tok *t, struct moat_limit *l,
		     struct moat_diags *d)
{
	size_t n = read_amount(t->s, t->len, &l->rate, &l->bytes);

	if (!n || n + 2 != t->len || t->s[n] != '/' ||
	    !strchr("smh", t->s[n + 1]))
		return tok_error(
			d, t,
			"bad rate, expected a number, optionally bytes, kbytes, mbytes or gbytes, then /s, /m or /h (as in 100/s or 2mbytes/s)");
	if (!l->rate)
		return tok_error(d, t, "a rate of 0 lets nothing through; drop instead");
	l->period_s = t->s[n + 1] == 's' ? 1 : t->s[n + 1] == 'm' ? 60 : 3600;
	return 0;
}

/* An option at tok[*i]: its keyword, and what follows it. */
static int read_option(struct moat_rule *r, const struct lex_tok *tok,
		       size_t ntok, size_t *i, enum moat_kw kw, size_t *seen,
		       struct moat_diags *d)
{
	const struct lex_tok *t = &tok[*i], *v = *i + 1 < ntok ? &tok[*i + 1] : NULL;
	size_t slot = (size_t)(kw - KW_LIMIT);
	uint64_t n;
	bool bytes;

	if (seen[slot] != SIZE_MAX)
		return tok_error(d, t, "option given twice (first at %u:%u)",
				 tok[seen[slot]].line, tok[seen[slot]].col);
	seen[slot] = *i;
	(*i)++;
	switch (kw) {
	case KW_LIMIT:
		if (!v)
			return tok_error(d, t, "missing a rate after the keyword (as in limit 100/s)");
		(*i)++;
		return read_rate(v, &r->limit, d);
	case KW_BURST:
		if (!v)
			return tok_error(d, t, "missing a number after the keyword");
		(*i)++;
		if (read_amount(v->s, v->len, &n, &bytes) != v->len || !n)
			return tok_error(d, v,
					 "bad burst, expected a number from 1, optionally bytes, kbytes, mbytes or gbytes");
		if (seen[0] == SIZE_MAX)
			return tok_error(d, t, "burst needs a limit before it");
		if (bytes != r->limit.bytes)
			return tok_error(d, v, bytes ? "burst in bytes for a limit in packets" :
						       "burst in packets for a limit in bytes");
		r->limit.burst = n;
		return 0;
	case KW_PER_SOURCE:
		if (seen[0] == SIZE_MAX)
			return tok_error(d, t, "per-source needs a limit before it");
		r->limit.per_source = true;
		return 0;
	case KW_OVER_LIMIT:
		if (!v || (!tok_is(v, "drop") && !tok_is(v, "allow")))
			return tok_error(d, v ? v : t, "expected drop or allow after over-limit");
		(*i)++;
		if (seen[0] == SIZE_MAX)
			return tok_error(d, t, "over-limit needs a limit before it");
		r->limit.over_allow = tok_is(v, "allow");
		return 0;
	case KW_AUDIT:
		r->audit = true;
		return 0;
	case KW_LOG:
		r->log_every = 1;
		if (v && v->len > 2 && v->s[0] == '1' && v->s[1] == '/') {
			struct lex_tok num = *v;
			unsigned int every;

			num.s += 2;
			num.len -= 2;
			num.col += 2;
			(*i)++;
			if (moat_parse_number(&num, 1000000, "sampling rate", &every, d))
				return -EINVAL;
			if (!every)
				return tok_error(d, v, "log 1/0 logs nothing; leave log out");
			r->log_every = every;
		}
		return 0;
	default:
		return 0;
	}
}

int moat_parse_rule(const struct lex_tok *tok, size_t ntok, struct moat_rule *r,
		    struct rule_fields *f, struct moat_diags *d)
{
	size_t seen[KW_LOG - KW_LIMIT + 1];
	enum moat_field fld;
	enum moat_kw kw;
	size_t i;
	int ret;

	memset(f, 0, sizeof(*f));
	f->tok = tok;
	f->ntok = ntok;
	for (i = 0; i < F_NUM; i++)
		f->key[i] = SIZE_MAX;
	for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		seen[i] = SIZE_MAX;

	r->action = tok_is(&tok[0], "drop") ? MOAT_DROP : MOAT_ALLOW;
	r->line = tok[0].line;
	r->col = tok[0].col;
	if (ntok < 2)
		return tok_error(d, &tok[0],
				 "missing rule name after the action");
	if (moat_check_rule_name(&tok[1], d))
		return -EINVAL;
	memcpy(r->name, tok[1].s, tok[1].len);
	r->name[tok[1].len] = '\0';

	for (i = 2; i < ntok;) {
		const struct lex_tok *t = &tok[i];

		kw = moat_keyword(t->s, t->len);
		if (kw >= KW_LIMIT && kw <= KW_LOG) {
			ret = read_option(r, tok, ntok, &i, kw, seen, d);
			if (ret)
				return ret;
			continue;
		}
		if (kw < KW_PROTO_NAME || kw > KW_CT)
			return tok_error(
				d, t,
				"unknown field, expected a protocol, proto, from, to, sport, dport, type, code, flags, in or ct, or an option: limit, burst, per-source, over-limit, audit, log");

		fld = kw_field[kw];
		if (f->key[fld] != SIZE_MAX)
			return tok_error(
				d, t, "%s given twice (first at %u:%u)",
				fld == F_PROTO ? "protocols" : "field",
				tok[f->key[fld]].line, tok[f->key[fld]].col);
		f->key[fld] = i;
		f->order[f->norder++] = fld;
		/* a bare protocol is its list's first item */
		if (kw != KW_PROTO_NAME && kw != KW_ANY)
			i++;
		ret = read_list(f, fld, &i, d);
		if (!ret)
			ret = read_field(r, f, fld, d);
		if (ret)
			return ret;
	}
	return 0;
}
