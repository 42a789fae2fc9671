// SPDX-License-Identifier: GPL-2.0-only
/*
 * One list item of a rule: a number or range, an address or prefix, TCP
 * flags, a rule or interface name.  Strict on purpose: a firewall rule
 * that means something other than what it looks like is worse than one
 * that is refused, so there is no octal, no sign, no silent truncation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "parse.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Decimal, no sign, no leading zero, at most @max: -EINVAL when not a
 * number, -EDOM for a leading zero, -ERANGE above @max.
 */
static int read_uint(const char *s, size_t len, unsigned int max,
		     unsigned int *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return -EINVAL;
	if (len > 1 && s[0] == '0')
		return -EDOM;
	for (i = 0; i < len; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int moat_parse_number(const struct lex_tok *t, unsigned int max,
		      const char *what, unsigned int *out, struct moat_diags *d)
{
	switch (read_uint(t->s, t->len, max, out)) {
	case 0:
		return 0;
	case -EDOM:
		return tok_error(d, t,
				 "leading zero in %s, expected plain decimal",
				 what);
	case -ERANGE:
		return tok_error(d, t, "%s out of range, expected 0-%u", what,
				 max);
	default:
		return tok_error(d, t, "invalid %s, expected a number 0-%u",
				 what, max);
	}
}

int moat_parse_range(const struct lex_tok *t, unsigned int max,
		     const char *what, struct moat_range *out,
		     struct moat_diags *d)
{
	const char *dash = memchr(t->s, '-', t->len);
	size_t lolen = dash ? (size_t)(dash - t->s) : t->len;
	unsigned int lo, hi;
	int ret;

	ret = read_uint(t->s, lolen, max, &lo);
	hi = lo;
	if (!ret && dash)
		ret = read_uint(dash + 1, t->len - lolen - 1, max, &hi);
	switch (ret) {
	case 0:
		break;
	case -EDOM:
		return tok_error(d, t,
				 "leading zero in %s, expected plain decimal",
				 what);
	case -ERANGE:
		return tok_error(d, t, "%s out of range, expected 0-%u", what,
				 max);
	default:
		return tok_error(
			d, t,
			"invalid %s, expected a number 0-%u or a range lo-hi",
			what, max);
	}
	if (lo > hi)
		return tok_error(d, t, "backwards %s range, expected lo <= hi",
				 what);
	out->lo = lo;
	out->hi = hi;
	return 0;
}

/* "010.1.2.3": inet_aton would read octal, so it is refused outright. */
static bool ipv4_leading_zero(const char *s)
{
	const char *part = s;
	bool digits = true;

	for (;; s++) {
		if (*s == '.' || *s == '\0') {
			if (digits && s - part > 1 && part[0] == '0')
				return true;
			if (*s == '\0')
				return false;
			part = s + 1;
			digits = true;
		} else if (!is_digit(*s)) {
			digits = false;
		}
	}
}

int moat_parse_prefix(const struct lex_tok *t, struct moat_prefix *out,
		      struct moat_diags *d)
{
	const char *slash = memchr(t->s, '/', t->len);
	size_t alen = slash ? (size_t)(slash - t->s) : t->len;
	char buf[INET6_ADDRSTRLEN + 1], shown[INET6_ADDRSTRLEN];
	unsigned int len, max, i;
	uint8_t masked[16];
	int ret;

	memset(out, 0, sizeof(*out));
	out->family = memchr(t->s, ':', alen) ? AF_INET6 : AF_INET;
	max = out->family == AF_INET ? 32 : 128;
	if (alen == 0 || alen >= sizeof(buf))
		goto invalid;
	memcpy(buf, t->s, alen);
	buf[alen] = '\0';
	if (out->family == AF_INET && ipv4_leading_zero(buf))
		return tok_error(
			d, t,
			"leading zero in IPv4 address, expected plain decimal");
	if (inet_pton(out->family, buf, out->addr) != 1)
		goto invalid;

	len = max;
	if (slash) {
		ret = read_uint(slash + 1, t->len - alen - 1, max, &len);
		if (ret && alen + 1 == t->len)
			return tok_error(d, t,
					 "missing prefix length after '/'");
		if (ret == -EDOM)
			return tok_error(
				d, t,
				"leading zero in prefix length, expected plain decimal");
		if (ret == -ERANGE)
			return tok_error(
				d, t,
				"prefix length out of range, expected 0-%u",
				max);
		if (ret)
			return tok_error(
				d, t,
				"invalid prefix length, expected a number 0-%u",
				max);
	}
	out->len = len;

	memset(masked, 0, sizeof(masked));
	for (i = 0; i < max / 8; i++) {
		if (i < len / 8)
			masked[i] = out->addr[i];
		else if (i == len / 8 && len % 8)
			masked[i] = out->addr[i] & (0xff00 >> (len % 8));
	}
	if (memcmp(masked, out->addr, sizeof(masked))) {
		inet_ntop(out->family, masked, shown, sizeof(shown));
		return tok_error(
			d, t, "host bits set in prefix (did you mean %s/%u?)",
			shown, len);
	}
	return 0;

invalid:
	return tok_error(
		d, t,
		"invalid address, expected an IPv4 or IPv6 address or prefix");
}

static const char *const flag_names[8] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
};

/* Add the flag named by @t to @set; 0 or -EINVAL. */
static int add_flag(const struct lex_tok *t, uint8_t *set, struct moat_diags *d)
{
	unsigned int bit;

	for (bit = 0; bit < 8; bit++)
		if (tok_is(t, flag_names[bit]))
			break;
	if (bit == 8)
		return tok_error(
			d, t,
			"unknown TCP flag, expected fin, syn, rst, psh, ack, urg, ece or cwr");
	if (*set & (1u << bit))
		return tok_error(d, t, "TCP flag listed twice");
	*set |= 1u << bit;
	return 0;
}

static struct lex_tok sub_tok(const struct lex_tok *t, size_t off, size_t len)
{
	return (struct lex_tok){ t->s + off, len, t->line, t->col + off };
}

/*
 * "a,b/c,d": the items before the one holding '/' are flags that must be
 * set, those after it the flags examined.  Without '/', the flags
 * examined are the flags given.  "/rst" alone means "RST clear".
 */
int moat_parse_flags(const struct lex_tok *tok, size_t first, size_t n,
		     uint8_t *value, uint8_t *mask, struct moat_diags *d)
{
	struct lex_tok vtok[8], part;
	uint8_t v = 0, m = 0;
	size_t nv = 0, j, k;
	const char *slash;
	bool seen = false;

	for (j = 0; j < n; j++) {
		const struct lex_tok *t = &tok[first + 2 * j];

		slash = memchr(t->s, '/', t->len);
		if (!slash) {
			if (add_flag(t, seen ? &m : &v, d))
				return -EINVAL;
			if (!seen)
				vtok[nv++] = *t;
			continue;
		}
		k = slash - t->s;
		if (seen)
			return tok_error(d, t,
					 "more than one '/' in TCP flags");
		if (k == 0 && j > 0)
			return tok_error(d, t, "missing TCP flag before '/'");
		if (k == t->len - 1)
			return tok_error(d, t, "missing TCP flags after '/'");
		if (memchr(slash + 1, '/', t->len - k - 1))
			return tok_error(d, t,
					 "more than one '/' in TCP flags");
		if (k > 0) {
			part = sub_tok(t, 0, k);
			if (add_flag(&part, &v, d))
				return -EINVAL;
			vtok[nv++] = part;
		}
		part = sub_tok(t, k + 1, t->len - k - 1);
		if (add_flag(&part, &m, d))
			return -EINVAL;
		seen = true;
	}
	if (!seen)
		m = v;
	for (j = 0; j < nv; j++) {
		uint8_t bit = 0;

		add_flag(&vtok[j], &bit, NULL);
		if (!(bit & m))
			return tok_error(
				d, &vtok[j],
				"TCP flag is not among the flags examined after '/'");
	}
	*value = v;
	*mask = m;
	return 0;
}

int moat_check_rule_name(const struct lex_tok *t, struct moat_diags *d)
{
	size_t i;

	if (moat_keyword(t->s, t->len))
		return tok_error(
			d, t,
			"rule name is a keyword (the name comes right after allow or drop)");
	if (t->len > MOAT_NAME_MAX)
		return tok_error(
			d, t,
			"rule name too long, expected at most %d characters",
			MOAT_NAME_MAX);
	for (i = 0; i < t->len; i++) {
		char c = t->s[i];

		if (is_alnum(c) ||
		    (i > 0 && (c == '_' || c == '.' || c == '-')))
			continue;
		return tok_error(
			d, t,
			"invalid rule name, expected letters, digits, '_', '.' and '-', starting with a letter or digit");
	}
	return 0;
}

/* As the kernel's dev_valid_name(), but printable ASCII only. */
int moat_check_ifname(const struct lex_tok *t, struct moat_diags *d)
{
	size_t i;

	if (moat_keyword(t->s, t->len))
		return tok_error(d, t, "interface name is a keyword");
	if (t->len > MOAT_IFNAME_MAX)
		return tok_error(
			d, t,
			"interface name too long, expected at most %d characters",
			MOAT_IFNAME_MAX);
	for (i = 0; i < t->len; i++)
		if (t->s[i] == '/' || t->s[i] == ':' ||
		    (unsigned char)t->s[i] >= 0x7f)
			break;
	if (i < t->len || tok_is(t, ".") || tok_is(t, ".."))
		return tok_error(
			d, t,
			"invalid interface name, expected printable ASCII other than '/' and ':'");
	return 0;
}
