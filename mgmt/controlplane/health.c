// SPDX-License-Identifier: GPL-2.0-only
/*
 * A host's health is read off its last heartbeat whenever someone asks:
 * no sweep to fall behind, no state to lose in a restart.
 */
#include "cp.h"

enum cp_health cp_host_health(const struct cp *cp, const struct store_host *h,
			      int64_t now)
{
	int64_t quiet = now - h->last_seen;

	if (h->removed)
		return CP_HEALTH_REMOVED;
	if (!h->last_seen)
		return CP_HEALTH_PENDING;
	if (quiet <= (int64_t)cp->opt.stale_after)
		return CP_HEALTH_HEALTHY;
	if (quiet <= (int64_t)cp->opt.offline_after)
		return CP_HEALTH_STALE;
	return CP_HEALTH_OFFLINE;
}

const char *cp_health_name(enum cp_health h)
{
	switch (h) {
	case CP_HEALTH_PENDING:
		return "pending";
	case CP_HEALTH_HEALTHY:
		return "healthy";
	case CP_HEALTH_STALE:
		return "stale";
	case CP_HEALTH_OFFLINE:
		return "offline";
	case CP_HEALTH_REMOVED:
		return "removed";
	}
	return "?";
}
