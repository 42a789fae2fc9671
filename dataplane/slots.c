// SPDX-License-Identifier: GPL-2.0-only
/* Counter slots by rule name, so counts follow names across generations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp-int.h"

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int slotmap_init(struct slotmap *m, uint32_t nslots)
{
	memset(m, 0, sizeof(*m));
	/* names are few next to slots, usually: the table grows with them */
	m->nv = 1024;
	m->v = calloc(m->nv, sizeof(*m->v));
	m->busy = calloc(nslots, 1);
	m->nslots = nslots;
	m->next = MOAT_SLOT_FIRST_RULE;
	if (!m->v || !m->busy) {
		slotmap_fini(m);
		return -ENOMEM;
	}
	return 0;
}

void slotmap_fini(struct slotmap *m)
{
	free(m->v);
	free(m->busy);
	memset(m, 0, sizeof(*m));
}

struct slotent *slotmap_find(const struct slotmap *m, const char *name)
{
	uint32_t i;

	if (!m->nv)
		return NULL;
	for (i = name_hash(name) & (m->nv - 1); m->v[i].slot;
	     i = (i + 1) & (m->nv - 1))
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

/* Double the name table, keeping the load factor at most one half. */
static int slotmap_grow(struct slotmap *m)
{
	uint32_t nv = m->nv * 2, i, j;
	struct slotent *v = calloc(nv, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (i = 0; i < m->nv; i++) {
		if (!m->v[i].slot)
			continue;
		for (j = name_hash(m->v[i].name) & (nv - 1); v[j].slot; j = (j + 1) & (nv - 1))
			;
		v[j] = m->v[i];
	}
	free(m->v);
	m->v = v;
	m->nv = nv;
	return 0;
}

int slotmap_add(struct slotmap *m, const char *name, uint32_t slot,
		uint64_t applied_ns)
{
	uint32_t i;
	int err;

	if (slot < MOAT_SLOT_FIRST_RULE || slot >= m->nslots || m->busy[slot])
		return -EINVAL;
	if (m->used * 2 >= m->nv) {
		err = slotmap_grow(m);
		if (err)
			return err;
	}
	for (i = name_hash(name) & (m->nv - 1); m->v[i].slot;
	     i = (i + 1) & (m->nv - 1))
		if (!strcmp(m->v[i].name, name))
			return -EEXIST;
	snprintf(m->v[i].name, sizeof(m->v[i].name), "%s", name);
	m->v[i].slot = slot;
	m->v[i].applied_ns = applied_ns;
	m->busy[slot] = 1;
	m->used++;
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
