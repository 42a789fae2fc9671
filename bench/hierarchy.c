// SPDX-License-Identifier: GPL-2.0-only
/* The address hierarchy of ClassBench-style rulesets (hierarchy.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hierarchy.h"

static unsigned int skewed(struct cb_rng *r, unsigned int n)
{
	double u = cb_rng_unit(r);

	return (unsigned int)(u * u * n);
}

int tree_init(struct tree *t, struct cb_rng *r, int family, size_t nrules)
{
	unsigned int step = family == AF_INET ? 1 : 2; /* bytes per level */
	unsigned int mid_at = family == AF_INET ? 1 : 4;
	unsigned int scale = 1;
	uint8_t root[16], mid[16];

	/* 4096 leaves up to 4000 rules, then about four per rule */
	while (scale < 8 && 4000u * (scale + 1) * (scale + 1) <= nrules * 4)
		scale++;
	t->mids = 16 * scale;
	t->leaves = 32 * scale;
	t->leaf = calloc((size_t)TREE_ROOTS * t->mids * t->leaves, 16);
	if (!t->leaf)
		return -ENOMEM;
	for (unsigned int i = 0; i < TREE_ROOTS; i++) {
		memset(root, 0, sizeof(root));
		if (family == AF_INET) {
			root[0] = (uint8_t)(1 + cb_rng_below(r, 223));
		} else {
			/* within 2000::/3, global unicast */
			root[0] = 0x20 | (uint8_t)cb_rng_below(r, 0x10);
			for (int b = 1; b < 4; b++)
				root[b] = (uint8_t)cb_rng_next(r);
		}
		for (unsigned int j = 0; j < t->mids; j++) {
			memcpy(mid, root, sizeof(mid));
			for (unsigned int b = 0; b < step; b++)
				mid[mid_at + b] = (uint8_t)cb_rng_next(r);
			for (unsigned int k = 0; k < t->leaves; k++) {
				uint8_t *leaf = t->leaf[((size_t)i * t->mids +
							 j) * t->leaves +
							k];

				memcpy(leaf, mid, 16);
				for (unsigned int b = 0; b < step; b++)
					leaf[mid_at + step + b] =
						(uint8_t)cb_rng_next(r);
			}
		}
	}
	return 0;
}

struct moat_prefix tree_prefix(const struct tree *t, struct cb_rng *r,
			       int family, unsigned int len)
{
	unsigned int leaf_bytes = family == AF_INET ? 3 : 8;
	unsigned int bytes = family == AF_INET ? 4 : 16;
	struct moat_prefix p = { .family = (uint8_t)family,
				 .len = (uint8_t)len };
	size_t i = skewed(r, TREE_ROOTS), j = skewed(r, t->mids),
	       k = cb_rng_below(r, t->leaves);

	memcpy(p.addr, t->leaf[(i * t->mids + j) * t->leaves + k], leaf_bytes);
	for (unsigned int b = leaf_bytes; b < bytes; b++)
		p.addr[b] = (uint8_t)cb_rng_next(r);
	/* clear the host bits: a prefix with them set is a parse error */
	for (unsigned int b = 0; b < 16; b++) {
		if (8 * b >= len)
			p.addr[b] = 0;
		else if (8 * b + 8 > len)
			p.addr[b] &= (uint8_t)(0xff << (8 * b + 8 - len));
	}
	return p;
}

void tree_free(struct tree *t)
{
	free(t->leaf);
	t->leaf = NULL;
}
