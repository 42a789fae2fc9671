/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A ruleset as the operator wrote it: ordered rules, first match wins.
 * The parser (parse.c) builds it, the formatter (format.c) prints its
 * canonical text, the compiler (compile.c) turns it into maps, and the
 * reference matcher (reference.c) states what it means, naively.
 *
 * docs/ruleset.md is the language; this header is its data model.
 */
#ifndef MOAT_RULESET_H
#define MOAT_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "moat_kern_user.h" /* MOAT_NAME_MAX */

#define MOAT_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

enum moat_action {
	MOAT_ALLOW = 0,
	MOAT_DROP = 1,
};

struct moat_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len; /* 0..32 or 0..128 */
	uint8_t addr[16]; /* network order; IPv4 in addr[0..3]; host bits are zero */
};

struct moat_range {
	uint16_t lo, hi; /* inclusive, lo <= hi */
};

/*
 * A list field: n == 0 means the field was not given (matches anything).
 * Items are alternatives.
 */
#define MOAT_LIST(type) \
	struct {        \
		type *v;    \
		size_t n;   \
	}

struct moat_iface {
	char name[MOAT_IFNAME_MAX + 1];
};

struct moat_rule {
	char name[MOAT_NAME_MAX + 1];
	enum moat_action action;
	uint32_t line, col; /* where the rule starts */

	MOAT_LIST(uint8_t) protos; /* IP protocol numbers; empty: any */
	MOAT_LIST(struct moat_prefix) src;
	MOAT_LIST(struct moat_prefix) dst;
	MOAT_LIST(struct moat_range) sport; /* tcp, udp, sctp only */
	MOAT_LIST(struct moat_range) dport;
	MOAT_LIST(struct moat_range) icmp_type; /* icmp/icmpv6 only, 0..255 */
	MOAT_LIST(struct moat_range) icmp_code;
	uint8_t tcp_flags_mask; /* 0: not matched; tcp only */
	uint8_t tcp_flags_value; /* (flags & mask) == value */
	MOAT_LIST(struct moat_iface) ifaces; /* ingress interface names */
	uint8_t ct; /* MOAT_CT_* bits: conntrack states; 0: any */

	/* options: what happens to the packets the rule matches */
	struct moat_limit {
		uint64_t rate; /* per period; 0: no limit */
		uint32_t period_s; /* 1, 60 or 3600 */
		bool bytes; /* rate and burst count bytes, not packets */
		uint64_t burst; /* 0: one period's worth... see docs/ruleset.md */
		bool per_source;
		bool over_allow; /* over the limit: pass (default: drop) */
	} limit;
	bool audit; /* a drop that only counts (would-drop) */
	uint32_t log_every; /* 0: no log; N: log 1 packet in N */

	/*
	 * Kept for the formatter: the lines just above the rule ("# ..."
	 * comments, and "" for a blank line), joined by '\n', and the comment
	 * at the end of the rule's last line.  NULL when there are none.
	 */
	char *comments;
	char *trailing;
};

/*
 * Memory: rules is one malloc'd array; each list's v is malloc'd on its
 * own (NULL when n is 0); comment strings are malloc'd.  Whoever builds a
 * ruleset (parser, tests, generators) follows this, so that
 * moat_ruleset_free() releases any of them.
 */
struct moat_ruleset {
	enum moat_action policy;
	bool policy_given;
	/*
	 * "allow established" (the default): packets of established and
	 * related flows pass without the rules; "classify established":
	 * they go through the rules like any other.
	 */
	bool established_classify;
	bool established_given;
	uint32_t established_line;
	/* "mode audit": nothing is dropped, what would be is counted */
	bool audit;
	bool mode_given;
	uint32_t mode_line;
	struct moat_rule *rules;
	size_t nrules;

	/* as in struct moat_rule: around the policy line, and after the last rule */
	char *policy_comments;
	char *policy_trailing;
	char *established_comments;
	char *established_trailing;
	char *mode_comments;
	char *mode_trailing;
	char *tail_comments;
};

/* TCP flag bits as they sit in the TCP header's 14th byte. */
#define MOAT_TCP_FIN 0x01
#define MOAT_TCP_SYN 0x02
#define MOAT_TCP_RST 0x04
#define MOAT_TCP_PSH 0x08
#define MOAT_TCP_ACK 0x10
#define MOAT_TCP_URG 0x20
#define MOAT_TCP_ECE 0x40
#define MOAT_TCP_CWR 0x80

/* Diagnostics: "file:line:col: what is wrong: 'offending text'". */
enum moat_severity {
	MOAT_ERROR = 0,
	MOAT_WARNING = 1,
};

struct moat_diag {
	enum moat_severity severity;
	uint32_t line, col; /* 1-based; 0 when the message is about the whole file */
	char msg[320]; /* what is wrong: 'offending text' */
};

struct moat_diags {
	struct moat_diag *v;
	size_t n;
	size_t nerrors;
	size_t nwarnings; /* all of them: like errors, only the first few are kept */
};

/* Stop collecting after this many errors: the first few are what help. */
#define MOAT_DIAGS_MAX_ERRORS 20

/*
 * Parse @len bytes of @text.  Returns 0, or -EINVAL when @diags holds at
 * least one error, in which case @out is left empty.  Warnings may be
 * present either way.  @out must be released with moat_ruleset_free().
 */
int moat_ruleset_parse(const char *text, size_t len, struct moat_ruleset *out,
		       struct moat_diags *diags);

/* Read @path and parse it; errors reading the file are returned as -errno. */
int moat_ruleset_parse_file(const char *path, struct moat_ruleset *out,
			    struct moat_diags *diags);

void moat_ruleset_free(struct moat_ruleset *rs);

/*
 * The canonical text: one rule a line, fields in a fixed order, lists
 * sorted as written, names padded into a column.  Parsing it gives an
 * equal ruleset, and formatting that gives the same text.  Returns a
 * malloc'd string or NULL (errno set).
 */
char *moat_ruleset_format(const struct moat_ruleset *rs);

/* The same text written to @f; 0, or -EIO when writing failed. */
int moat_ruleset_write(const struct moat_ruleset *rs, FILE *f);

/* Print every diag as "@file:line:col: error: msg" on @f. */
void moat_diags_print(const struct moat_diags *d, const char *file, FILE *f);
void moat_diags_free(struct moat_diags *d);

/* Add a diag; returns -EINVAL for errors so callers can `return moat_diag_add(...)`. */
int moat_diag_add(struct moat_diags *d, enum moat_severity sev, uint32_t line,
		  uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Protocol numbers moat knows by name (ruleset text and output). */
#define MOAT_PROTO_ICMP 1
#define MOAT_PROTO_TCP 6
#define MOAT_PROTO_UDP 17
#define MOAT_PROTO_ICMPV6 58
#define MOAT_PROTO_SCTP 132

const char *moat_proto_name(uint8_t proto); /* NULL when it has no name */
const char *moat_ct_state_name(uint8_t bit); /* one MOAT_CT_* bit; NULL: none */
int moat_proto_lookup(const char *name); /* -1 when unknown */
bool moat_proto_has_ports(uint8_t proto);

/* ICMP (family AF_INET) and ICMPv6 (AF_INET6) type names of docs/ruleset.md. */
const char *moat_icmp_type_name(int family, uint8_t type); /* NULL: no name */
int moat_icmp_type_lookup(int family, const char *name); /* -1 when unknown */

#endif /* MOAT_RULESET_H */
