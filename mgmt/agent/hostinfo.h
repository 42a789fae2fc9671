/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a heartbeat says of the host, read by the privileged moatd (the
 * session process reads no files): names, kernel, uptime, load, memory.
 */
#ifndef MOAT_AGENT_HOSTINFO_H
#define MOAT_AGENT_HOSTINFO_H

#include <stdint.h>

struct hostinfo {
	char hostname[256];
	char machine_id[65]; /* /etc/machine-id, 32 hex digits */
	char kernel[65]; /* uname -r */
	uint64_t uptime_s;
	int64_t boot_time; /* unix seconds */
	uint32_t load[3]; /* loadavg x 100 */
	uint64_t mem_total, mem_available; /* bytes */
};

/*
 * Fill @h.  A host without /etc/machine-id gets its boot id's digits
 * instead, and a warning: an identity that changes at boot re-enrolls
 * as a new host.  Returns 0 or a negative errno (no hostname, no uname).
 *
 * Instances other than "default" are agents of their own (the demo runs
 * several on one machine, one per network namespace): their machine id is
 * the first 32 hex digits of SHA-256 over "MACHINEID/INSTANCE", their
 * host name "HOSTNAME-INSTANCE".
 */
int hostinfo_read(struct hostinfo *h, const char *instance);

/* The changing part only: uptime, load, memory. */
void hostinfo_refresh(struct hostinfo *h);

#endif /* MOAT_AGENT_HOSTINFO_H */
