/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef MOAT_TEST_CP_PARSE_H
#define MOAT_TEST_CP_PARSE_H

#include "cp.h"

/*
 * Run "CMD ARGS..." (words split at spaces) through CMD's parser, with
 * @g and @r cleared first; its exit status.  'audit verify' comes back
 * with r->method "VERIFY".
 */
int cp_test_parse(const char *line, struct moatctl *g, struct cp_req *r);

#endif
