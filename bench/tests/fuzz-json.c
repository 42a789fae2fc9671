// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the JSON reader of compare and plot, on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "compare.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plot_series s[PLOT_MAX_SERIES];
	struct json j;
	char err[128];

	if (json_parse((const char *)data, size, &j, err, sizeof(err)))
		return 0;
	/* what reads a parsed report must cope with any shape of it */
	plot_mpps_series(&j, s, PLOT_MAX_SERIES);
	plot_apply_series(&j, s, PLOT_MAX_SERIES);
	json_at(&j, "cases.0.ratio.median");
	json_free(&j);
	return 0;
}
