// SPDX-License-Identifier: GPL-2.0-only
/*
 * Until the session side of declared configuration (session-desired.c,
 * branch reconcile) lands: the API's pushes go nowhere, and a host gets
 * its desired state when it next says hello.  Delete this file when
 * merging that branch.
 */
#include "cp.h"
#include "log.h"

void cp_push_desired(struct cp *cp, const char *host_id)
{
	(void)cp;
	log_debug("host %s: a new desired state (pushed at its next hello)",
		  host_id);
}
