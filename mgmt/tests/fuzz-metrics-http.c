// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the metrics process's request reader
 * (mgmt/agent/metrics-http.c): the bytes a scraper sent, as they came.
 *
 * What must hold:
 *   - no read past the input (ASan);
 *   - the answer for a prefix is MORE, or the same as for the whole: a
 *     verdict never changes as more bytes come, so answering at once is
 *     right;
 *   - past METRICS_REQ_MAX bytes the answer is never MORE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	enum metrics_req whole, part;
	char head[256];

	if (size > 2 * METRICS_REQ_MAX)
		return 0;
	whole = metrics_http_parse(buf, size);
	if (size >= METRICS_REQ_MAX && whole == METRICS_REQ_MORE)
		abort();
	/* the first prefix that is not MORE decides, as in the process */
	for (size_t n = 0; n <= size; n++) {
		part = metrics_http_parse(buf, n);
		if (part == METRICS_REQ_MORE)
			continue;
		if (part != whole)
			abort();
		break;
	}
	if (whole != METRICS_REQ_MORE &&
	    metrics_http_head(whole, size, head, sizeof(head)) >=
		    (int)sizeof(head))
		abort();
	return 0;
}
