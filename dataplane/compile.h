/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The compiler: a ruleset in, an image out.  An image is the content of
 * one generation's maps (bpf/moat_kern_user.h), built in memory without
 * the kernel, so that `moatctl ruleset check` can compile, the loader can
 * copy it into maps, and tests can classify against it in C.
 */
#ifndef MOAT_COMPILE_H
#define MOAT_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "moat_kern_user.h"
#include "moat_parse.h" /* enum moat_kind, struct moat_key */
#include "ruleset.h"

struct moat_image {
	struct moat_layout layout;
	uint32_t *trie;
	size_t ntrie;
	uint32_t *ports;
	size_t nports;
	struct moat_term4 *term4;
	size_t nterm4;
	struct moat_term6 *term6;
	size_t nterm6;
	__u64 *filter;
	size_t nfilter;
	size_t nrules;
	struct moat_rule_ext *rulex; /* nrules of them, NULL when no rule has options */
	bool per_source; /* some limit is per source */
	bool limited; /* some rule has a limit */

	/* what the compiler saw, for `check`, the apply stats and the bench */
	uint32_t nterms; /* terms after expanding lists */
	uint32_t nterms_fam[2]; /* of them IPv4, IPv6 */
	uint32_t nlists; /* distinct lists stored */
	uint32_t max_list;
	uint32_t nhome[5]; /* terms homed in: dst, src, dport, sport, any */
};

struct moat_compile_opts {
	/* counter slot of each rule; NULL: MOAT_SLOT_FIRST_RULE + index */
	const uint32_t *slots;
	/*
	 * The interfaces the data plane protects, in order: interface id i+1
	 * is names[i] with ifindex[i].  A rule naming another interface can
	 * never match (a warning).  nifaces == -1: resolve nothing and accept
	 * every name (for `check`, which does not know the host).
	 */
	const char *const *ifnames;
	const uint32_t *ifindex;
	int nifaces;
	/*
	 * The data plane does not track flows: rules that match on ct state
	 * are refused.  Otherwise (and for `check`) the generation looks
	 * every packet up in the conntrack table.
	 */
	bool no_conntrack;
	/* counter slot of each rule's over-limit count; NULL: none (tests) */
	const uint32_t *over_slots;
	/* verdict log events a second at most (0: MOAT_LOG_RATE_DEFAULT) */
	uint32_t log_rate;
};


/* Does @r need its options looked up (MOAT_VERDICT_EXT)? */
bool moat_rule_has_ext(const struct moat_ruleset *rs, const struct moat_rule *r);

/*
 * Compile @rs.  Returns 0, or a negative errno with the reason in @d
 * (-E2BIG for a ruleset over capacity, -ENOMEM).  @img is filled only on
 * success and must be released with moat_image_free().
 */
int moat_compile(const struct moat_ruleset *rs,
		 const struct moat_compile_opts *o, struct moat_image *img,
		 struct moat_diags *d);

void moat_image_free(struct moat_image *img);

/* Bytes the image takes in maps. */
uint64_t moat_image_bytes(const struct moat_image *img);

/*
 * Read @frame and classify it as the XDP program does (the same code:
 * bpf/moat_parse.h and bpf/moat_classify.h).  Returns an enum moat_kind;
 * for MOAT_K_CLASSIFY, *match is the MOAT_MATCH() of the rule that
 * matched (rule index and verdict), or MOAT_NO_MATCH.
 * @ifindex is the ingress interface.
 */
int moat_image_classify(const struct moat_image *img, const uint8_t *frame,
			size_t len, uint32_t ifindex, uint64_t *match);

/* The same for a packet in conntrack state @ct (a MOAT_CT_* bit, 0: untracked). */
int moat_image_classify_ct(const struct moat_image *img, const uint8_t *frame,
			   size_t len, uint32_t ifindex, uint8_t ct,
			   uint64_t *match);

#endif /* MOAT_COMPILE_H */
