// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unified diff between two versions of a ruleset.  Lines common to
 * both ends are cut first (a new version usually changes a few rules of
 * many); the middle goes through Myers' O(ND) greedy search, which keeps
 * each round's frontier to walk back the edit script.  Those frontiers
 * take O(D^2) memory and the search O((N+M)D) time, so both are bounded:
 * past DIFF_MAX_EDITS edits or DIFF_MAX_WORK steps, the middle is shown
 * as removed and added whole, which is still a correct diff.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset-check.h"

/* (D+1)^2 ints of frontier at most: 4 MiB */
#define DIFF_MAX_EDITS 1000
/* diagonal steps and comparisons: well under a second */
#define DIFF_MAX_WORK (50 * 1000 * 1000)

struct line {
	const char *s;
	size_t len; /* with its '\n', when it has one */
	uint64_t hash;
};

enum { OP_EQ, OP_DEL, OP_INS };

static int split(const char *t, size_t n, struct line **out, size_t *count)
{
	size_t cap = 1, i = 0;
	struct line *v;

	for (size_t k = 0; k < n; k++)
		cap += t[k] == '\n';
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (n) {
		const char *nl = memchr(t, '\n', n);
		size_t len = nl ? (size_t)(nl - t) + 1 : n;
		uint64_t h = 1469598103934665603ULL; /* FNV-1a */

		for (size_t k = 0; k < len; k++)
			h = (h ^ (unsigned char)t[k]) * 1099511628211ULL;
		v[i++] = (struct line){ t, len, h };
		t += len;
		n -= len;
	}
	*out = v;
	*count = i;
	return 0;
}

static bool same(const struct line *x, const struct line *y)
{
	return x->hash == y->hash && x->len == y->len &&
	       !memcmp(x->s, y->s, x->len);
}

/*
 * The edit script of a[0..n) to b[0..m) into @ops (room for n + m), its
 * length in @nops; -E2BIG past the bounds, -ENOMEM.
 */
static int myers(const struct line *a, size_t n, const struct line *b, size_t m,
		 unsigned char *ops, size_t *nops)
{
	long max =
		(long)(n + m) < DIFF_MAX_EDITS ? (long)(n + m) : DIFF_MAX_EDITS;
	long *v = calloc((size_t)(2 * max + 3), sizeof(*v)), *trace, d, k;
	long x, y, off = max + 1, found = -1;
	size_t work = 0, w;

	/* round d keeps v[-(d+1)..d+1] as it was when the round began */
	trace = calloc((size_t)((max + 1) * (max + 1) + 2 * (max + 1)),
		       sizeof(*trace));
	if (!v || !trace) {
		free(v);
		free(trace);
		return -ENOMEM;
	}
	for (d = 0; d <= max && found < 0 && work <= DIFF_MAX_WORK; d++) {
		memcpy(&trace[d * d + 2 * d], &v[off - d - 1],
		       (size_t)(2 * d + 3) * sizeof(*v));
		for (k = -d; k <= d; k += 2) {
			if (k == -d ||
			    (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < (long)n && y < (long)m && same(&a[x], &b[y]))
				x++, y++, work++;
			v[off + k] = x;
			if (x >= (long)n && y >= (long)m) {
				found = d;
				break;
			}
		}
		work += (size_t)d + 1;
	}
	free(v);
	if (found < 0) {
		free(trace);
		return -E2BIG;
	}
	/* walk back from (n, m), writing the script from its end */
	w = n + m;
	x = (long)n;
	y = (long)m;
	for (d = found; d >= 0; d--) {
		long *t = &trace[d * d + 2 * d] + d +
			  1; /* t[k], k in -d-1..d+1 */
		long pk, px, py;

		k = x - y;
		pk = (k == -d || (k != d && t[k - 1] < t[k + 1])) ? k + 1 :
								    k - 1;
		px = t[pk];
		py = px - pk;
		while (x > px && y > py) {
			ops[--w] = OP_EQ;
			x--, y--;
		}
		if (d > 0)
			ops[--w] = x == px ? OP_INS : OP_DEL;
		x = px;
		y = py;
	}
	free(trace);
	*nops = n + m - w;
	memmove(ops, ops + w, *nops);
	return 0;
}

static void put_line(FILE *f, char c, const struct line *l)
{
	fputc(c, f);
	fwrite(l->s, 1, l->len, f);
	if (!l->len || l->s[l->len - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", f);
}

/* "A,N", or "A" when N is 1; an empty range names the line before it. */
static void put_range(FILE *f, size_t at, size_t n)
{
	if (n == 1)
		fprintf(f, "%zu", at + 1);
	else
		fprintf(f, "%zu,%zu", n ? at + 1 : at, n);
}

static void hunks(FILE *f, const unsigned char *ops, size_t nops,
		  const struct line *a, const struct line *b)
{
	size_t pos = 0, ia = 0, ib = 0, ctx = RULESET_DIFF_CONTEXT;

	for (;;) {
		size_t c = pos, s, e, q, end, na = 0, nb = 0;

		while (c < nops && ops[c] == OP_EQ)
			c++;
		if (c == nops)
			return;
		s = c >= pos + ctx ? c - ctx : pos;
		ia += s - pos;
		ib += s - pos;
		/* changes closer than twice the context share a hunk */
		for (e = c;;) {
			while (e < nops && ops[e] != OP_EQ)
				e++;
			for (q = e; q < nops && ops[q] == OP_EQ; q++)
				;
			if (q == nops || q - e > 2 * ctx)
				break;
			e = q;
		}
		end = e + ctx < nops ? e + ctx : nops;
		for (size_t i = s; i < end; i++) {
			na += ops[i] != OP_INS;
			nb += ops[i] != OP_DEL;
		}
		fputs("@@ -", f);
		put_range(f, ia, na);
		fputs(" +", f);
		put_range(f, ib, nb);
		fputs(" @@\n", f);
		for (size_t i = s, ja = ia, jb = ib; i < end; i++) {
			if (ops[i] == OP_EQ)
				put_line(f, ' ', &a[ja]);
			else if (ops[i] == OP_DEL)
				put_line(f, '-', &a[ja]);
			else
				put_line(f, '+', &b[jb]);
			ja += ops[i] != OP_INS;
			jb += ops[i] != OP_DEL;
		}
		ia += na;
		ib += nb;
		pos = end;
	}
}

int ruleset_diff(const char *a_label, const char *a, size_t alen,
		 const char *b_label, const char *b, size_t blen, char **out)
{
	struct line *la = NULL, *lb = NULL;
	size_t na = 0, nb = 0, pre = 0, suf = 0, nmid = 0, nops, len = 0;
	unsigned char *ops = NULL;
	FILE *f = NULL;
	int ret;

	*out = NULL;
	ret = split(a, alen, &la, &na);
	if (!ret)
		ret = split(b, blen, &lb, &nb);
	if (ret)
		goto out;
	while (pre < na && pre < nb && same(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       same(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	ops = malloc(na + nb + 1);
	if (!ops) {
		ret = -ENOMEM;
		goto out;
	}
	memset(ops, OP_EQ, pre);
	ret = myers(la + pre, na - pre - suf, lb + pre, nb - pre - suf,
		    ops + pre, &nmid);
	if (ret == -E2BIG) {
		/* too costly to compare: the middle changed whole */
		nmid = 0;
		for (size_t i = 0; i < na - pre - suf; i++)
			ops[pre + nmid++] = OP_DEL;
		for (size_t i = 0; i < nb - pre - suf; i++)
			ops[pre + nmid++] = OP_INS;
		ret = 0;
	}
	if (ret)
		goto out;
	memset(ops + pre + nmid, OP_EQ, suf);
	nops = pre + nmid + suf;
	f = open_memstream(out, &len);
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	if (nmid) {
		fprintf(f, "--- %s\n+++ %s\n", a_label, b_label);
		hunks(f, ops, nops, la, lb);
	}
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		ret = -ENOMEM;
	}
out:
	free(ops);
	free(la);
	free(lb);
	return ret;
}
