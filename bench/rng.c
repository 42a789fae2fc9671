// SPDX-License-Identifier: GPL-2.0-only
/*
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64: the
 * same numbers from the same seed on every machine, which is what makes
 * a generated ruleset a function of its seed.
 */
#include "classbench.h"

void cb_rng_seed(struct cb_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		r->s[i] = z ^ (z >> 31);
	}
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t cb_rng_next(struct cb_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint32_t cb_rng_below(struct cb_rng *r, uint32_t n)
{
	/* multiply-shift: the bias is below 2^-32, irrelevant here */
	return (uint32_t)(((cb_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

double cb_rng_unit(struct cb_rng *r)
{
	return (double)(cb_rng_next(r) >> 11) * 0x1.0p-53;
}
