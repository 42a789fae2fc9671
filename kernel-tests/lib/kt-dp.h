/* SPDX-License-Identifier: GPL-2.0-only */
/* What the kernel tests that drive libmoat-dp directly share. */
#ifndef MOAT_KT_DP_H
#define MOAT_KT_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"

/*
 * Run @buf through XDP program @prog once (BPF_PROG_TEST_RUN), as if it
 * arrived on @ifindex; the program's return value in *retval.  -errno.
 */
int kt_xdp_run(int prog, const uint8_t *buf, size_t len, uint32_t ifindex,
	       uint32_t *retval);

/*
 * The start of a test that drives the data plane under
 * BPF_PROG_TEST_RUN: root and the kernel's features, output by lines, and
 * a network namespace of its own (entered) named after @base, which is
 * also the name of its moat instance, returned; both go when the test
 * ends.  Skips when the namespace cannot be made.
 */
const char *kt_dp_begin(const char *base);

/* Parse @text and apply it; diagnostics on stderr as "@label:line:col". */
int kt_apply_text(struct moat_dp *dp, const char *text, const char *label);

/* A rule's packets as the rows show them (moatctl rules); ~0 on error. */
uint64_t kt_row_packets(struct moat_dp *dp, const char *rule);

/*
 * The bytes of the pinned array map at @path (BPF_F_MMAPABLE), mapped,
 * writable when @write, its length in *@len; NULL when it cannot be.
 */
void *kt_map_pinned(const char *path, size_t *len, bool write);

#endif /* MOAT_KT_DP_H */
