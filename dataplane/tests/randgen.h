/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Random rulesets and frames for the differential tests: the compiler's
 * (userspace) and the XDP program's (kernel-tests/) are both held to the
 * reference matcher on what this produces.  Everything follows from the
 * seed, so a failure is reproduced by its seed alone.
 */
#ifndef MOAT_RANDGEN_H
#define MOAT_RANDGEN_H

#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

#define RG_ANCHORS 256
#define RG_PORTS 64

struct rg {
	uint64_t state; /* xorshift64* */
	/*
	 * The shared pools: addresses that prefixes and frames start from,
	 * in clusters sharing leading bits so that prefixes drawn from them
	 * nest and overlap, and ports.  rg_ruleset() uses more of them for
	 * more rules, so that overlap stays alike at any size.
	 */
	uint8_t anchor4[RG_ANCHORS][4];
	uint8_t anchor6[RG_ANCHORS][16];
	uint16_t ports[RG_PORTS];
	unsigned int nanchors, nports; /* in use */
	/* copied from the options of the last rg_ruleset() */
	char ifaces[MOAT_IFACES_MAX][MOAT_IFNAME_MAX + 1];
	size_t nifaces;
	/* after rg_frame(): the rule the frame was built to match, or -1 */
	long aimed;
};

struct rg_ruleset_opts {
	size_t nrules; /* up to MOAT_RULES_MAX */
	unsigned int v6_pct; /* of the rules that have addresses, % IPv6 */
	/* % of addresses and ports drawn from the shared pools (nesting) */
	unsigned int overlap_pct;
	/* names `in` may use (up to MOAT_IFACES_MAX); none: no `in` */
	const char *const *ifaces;
	size_t nifaces;
};

void rg_init(struct rg *g, uint64_t seed);
uint64_t rg_u64(struct rg *g);
uint32_t rg_below(struct rg *g, uint32_t n); /* 0..n-1; 0 when n is 0 */

/*
 * A valid ruleset (docs/ruleset.md) of o->nrules rules named r0, r1, ...,
 * allocated as ruleset.h says, so that moat_ruleset_free() releases it.
 * As in rulesets people write, rules grow broader towards the end: short
 * prefixes and wide port ranges come in the second half, rules that take
 * a whole protocol in the last tenth, and no rule takes everything, so
 * that frames aimed at late rules still reach them.
 * Returns 0, -EINVAL for impossible options or -ENOMEM.
 */
int rg_ruleset(struct rg *g, const struct rg_ruleset_opts *o,
	       struct moat_ruleset *out);

/*
 * A random frame into @buf (MOAT_FRAME_MAX is always enough): about 80%
 * built to match a random rule of @rs (g->aimed says which), the rest
 * aimed at nothing, ARP, neighbour discovery, other ethertypes, and
 * malformed frames; some fragmented, some VLAN-tagged.  *@iface is the
 * interface it arrives on, one of the names given to rg_ruleset() or
 * NULL, valid as long as @g and @rs are.  Returns the length, 0 when
 * @cap is too small.
 *
 * A frame aimed at rule i matches it, so the reference gives rule i or
 * an earlier one; g->aimed is -1 for frames aimed at nothing, and for
 * those that turned out to be neighbour discovery (which no rule sees).
 */
size_t rg_frame(struct rg *g, const struct moat_ruleset *rs, uint8_t *buf,
		size_t cap, const char **iface);

/*
 * The reference's answer in the image's terms: returns the MOAT_K_* kind
 * moat_image_classify() must give, and sets *@rule to the rule that must
 * match (RG_NO_RULE for none).
 */
#define RG_NO_RULE 0xffffffffu
struct moat_ref_verdict;
int rg_expect_kind(const struct moat_ref_verdict *v, uint32_t *rule);

#endif /* MOAT_RANDGEN_H */
