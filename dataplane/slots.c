// SPDX-License-Identifier: GPL-2.0-only
/* Counter slots by rule name, so counts follow names across generations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp-int.h"

/* Of the name as kept: its first MOAT_NAME_MAX bytes. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < MOAT_NAME_MAX && s[i]; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

int slotmap_init(struct slotmap *m, uint32_t nslots)
{
	memset(m, 0, sizeof(*m));
	m->busy = calloc(nslots, 1);
	m->nslots = nslots;
	m->next = MOAT_SLOT_FIRST_RULE;
	if (!m->busy || slotmap_reserve(m, 512)) {
		slotmap_fini(m);
		return -ENOMEM;
	}
	return 0;
}

void slotmap_fini(struct slotmap *m)
{
	free(m->v);
	free(m->ix);
	free(m->busy);
	memset(m, 0, sizeof(*m));
}

/* Where @name is in @m's index, or the empty place where it would go. */
static struct slotix *slot_place(const struct slotmap *m, const char *name,
				 uint32_t hash)
{
	uint32_t i;

	for (i = hash & (m->nix - 1); m->ix[i].at; i = (i + 1) & (m->nix - 1))
		if (m->ix[i].hash == hash &&
		    !strncmp(m->v[m->ix[i].at - 1].name, name, MOAT_NAME_MAX))
			break;
	return &m->ix[i];
}

int slotmap_reserve(struct slotmap *m, uint32_t n)
{
	uint32_t nix = 16, i, j;
	struct slotent *v;
	struct slotix *ix;

	if (n > m->cap) {
		v = realloc(m->v, (size_t)n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = n;
	}
	while (nix < 2 * n)
		nix *= 2;
	if (nix <= m->nix)
		return 0;
	ix = calloc(nix, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	for (i = 0; i < m->nix; i++) {
		if (!m->ix[i].at)
			continue;
		for (j = m->ix[i].hash & (nix - 1); ix[j].at; j = (j + 1) & (nix - 1))
			;
		ix[j] = m->ix[i];
	}
	free(m->ix);
	m->ix = ix;
	m->nix = nix;
	return 0;
}

struct slotent *slotmap_find(const struct slotmap *m, const char *name)
{
	const struct slotix *x;

	if (!m->nix)
		return NULL;
	x = slot_place(m, name, name_hash(name));
	return x->at ? &m->v[x->at - 1] : NULL;
}

int slotmap_add(struct slotmap *m, const char *name, uint32_t slot,
		uint64_t applied_ns)
{
	uint32_t hash = name_hash(name);
	struct slotix *x;
	struct slotent *e;
	size_t len;
	int err;

	if (slot < MOAT_SLOT_FIRST_RULE || slot >= m->nslots || m->busy[slot])
		return -EINVAL;
	if (m->used == m->cap) {
		err = slotmap_reserve(m, 2 * m->cap);
		if (err)
			return err;
	}
	x = slot_place(m, name, hash);
	if (x->at)
		return -EEXIST;
	e = &m->v[m->used];
	len = strnlen(name, MOAT_NAME_MAX);
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->slot = slot;
	e->applied_ns = applied_ns;
	*x = (struct slotix){ hash, ++m->used };
	m->busy[slot] = 1;
	return 0;
}

/*
 * A slot free in @m and not busy in @avoid (the running generation's map,
 * whose program may count into its slots until the switch).
 */
int slotmap_take_free(struct slotmap *m, const struct slotmap *avoid,
		      uint32_t *slot)
{
	uint32_t n = m->nslots - MOAT_SLOT_FIRST_RULE, i, s;

	for (i = 0; i < n; i++) {
		s = m->next + i;
		if (s >= m->nslots)
			s -= n;
		if (!m->busy[s] && !(avoid && s < avoid->nslots && avoid->busy[s])) {
			m->next = s + 1 >= m->nslots ? MOAT_SLOT_FIRST_RULE : s + 1;
			*slot = s;
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * The slot name of rule @name's over-limit counter: '!' never starts a
 * rule name, and a hash keeps it within MOAT_NAME_MAX.
 */
void dp_over_name(const char *name, char out[MOAT_NAME_MAX + 1])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull; /* FNV-1a */
	snprintf(out, MOAT_NAME_MAX + 1, "!over-%016llx", (unsigned long long)h);
}
