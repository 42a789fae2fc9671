// SPDX-License-Identifier: GPL-2.0-only
/*
 * A port index: for one family, one direction and one protocol group, a
 * table of 65536 list refs.  The ranges of the terms cut the port space
 * into elementary intervals; every port of an interval gets the list of
 * the terms whose range covers it.  For ICMP the "ports" are the type
 * (source) and the code (destination).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile-int.h"

struct pevent {
	uint32_t at; /* 0..65536 */
	uint32_t id;
	bool start;
};

static int cmp_event(const void *pa, const void *pb)
{
	const struct pevent *a = pa, *b = pb;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return 0;
}

static int cmp_rule(const void *pa, const void *pb, void *arg)
{
	const struct cterm *T = arg;
	uint32_t a = T[*(const uint32_t *)pa].rule, b = T[*(const uint32_t *)pb].rule;

	if (a != b)
		return a < b ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 :
	       *(const uint32_t *)pa > *(const uint32_t *)pb;
}

int portidx_build(struct lstore *ls, int fam6, int home, int pgroup,
		  const uint32_t *ids, size_t n, uint32_t *table,
		  struct moat_diags *d)
{
	const struct cterm *T = ls->terms;
	struct moat_image *img = ls->img;
	struct pevent *ev = NULL;
	uint32_t *active = NULL, *list = NULL, ref, *tab;
	size_t nev = 0, nact = 0, i, j, k, m;
	uint32_t at;
	int err = -ENOMEM;

	ev = malloc(2 * n * sizeof(*ev));
	active = malloc(n * sizeof(*active));
	list = malloc(n * sizeof(*list));
	tab = realloc(img->ports, (img->nports + 65536) * sizeof(*tab));
	if (!ev || !active || !list || !tab)
		goto out;
	img->ports = tab;
	*table = (uint32_t)img->nports;
	tab += img->nports;
	img->nports += 65536;
	memset(tab, 0, 65536 * sizeof(*tab));

	for (i = 0; i < n; i++) {
		const struct cterm *t = &T[ids[i]];
		uint16_t lo = home == MOAT_HOME_DPORT ? t->dp_lo : t->sp_lo;
		uint16_t hi = home == MOAT_HOME_DPORT ? t->dp_hi : t->sp_hi;

		ev[nev++] = (struct pevent){ .at = lo, .id = ids[i], .start = true };
		ev[nev++] = (struct pevent){ .at = (uint32_t)hi + 1, .id = ids[i] };
	}
	qsort(ev, nev, sizeof(*ev), cmp_event);

	/*
	 * Sweep the boundaries: between two of them the set of covering
	 * terms is constant, and so is the list.
	 */
	for (i = 0; i < nev && ev[i].at < 65536; i = j) {
		at = ev[i].at;
		for (j = i; j < nev && ev[j].at == at; j++) {
			if (ev[j].start) {
				active[nact++] = ev[j].id;
				continue;
			}
			for (k = 0; k < nact; k++)
				if (active[k] == ev[j].id)
					break;
			active[k] = active[--nact];
		}
		qsort_r(active, nact, sizeof(*active), cmp_rule, (void *)T);
		memcpy(list, active, nact * sizeof(*list));
		m = lstore_prune(T, list, nact, home);
		err = lstore_put(ls, fam6, list, m, &ref);
		if (err) {
			moat_diag_add(d, MOAT_ERROR, 0, 0,
				      "over capacity: more than %u terms cover %s %s %u; at most %u may overlap at one value",
				      (unsigned)m - 1,
				      pgroup == MOAT_PG_ICMP ? "ICMP" : "port",
				      home == MOAT_HOME_DPORT ?
					      (pgroup == MOAT_PG_ICMP ? "code" : "dport") :
					      (pgroup == MOAT_PG_ICMP ? "type" : "sport"),
				      at, MOAT_LIST_MAX);
			goto out;
		}
		for (k = at; k < (j < nev ? ev[j].at : 65536) && k < 65536; k++)
			tab[k] = ref;
	}
	err = 0;
out:
	free(list);
	free(active);
	free(ev);
	return err;
}
