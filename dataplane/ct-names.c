// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conntrack's names and defaults, for the language half: moatd's config
 * file and moatctl read them without touching the kernel.
 */
#include "dataplane.h"

const uint32_t moat_ct_default_timeout[MOAT_CTT_MAX] = {
	[MOAT_CTT_TCP_SYN] = 60,
	[MOAT_CTT_TCP_ESTABLISHED] = 86400,
	[MOAT_CTT_TCP_FIN] = 120,
	[MOAT_CTT_TCP_CLOSE] = 10,
	[MOAT_CTT_UDP] = 30,
	[MOAT_CTT_UDP_REPLIED] = 180,
	[MOAT_CTT_ICMP] = 30,
	[MOAT_CTT_OTHER] = 600,
};

const char *const moat_ct_timeout_name[MOAT_CTT_MAX] = {
	[MOAT_CTT_TCP_SYN] = "tcp-syn",
	[MOAT_CTT_TCP_ESTABLISHED] = "tcp-established",
	[MOAT_CTT_TCP_FIN] = "tcp-fin",
	[MOAT_CTT_TCP_CLOSE] = "tcp-close",
	[MOAT_CTT_UDP] = "udp",
	[MOAT_CTT_UDP_REPLIED] = "udp-replied",
	[MOAT_CTT_ICMP] = "icmp",
	[MOAT_CTT_OTHER] = "other",
};

const char *moat_ct_flow_state_name(uint8_t state)
{
	static const char *const names[MOAT_CTS_MAX] = {
		[MOAT_CTS_NONE] = "none",
		[MOAT_CTS_SYN_SENT] = "syn-sent",
		[MOAT_CTS_SYN_RECV] = "syn-recv",
		[MOAT_CTS_ESTABLISHED] = "established",
		[MOAT_CTS_FIN_WAIT] = "fin-wait",
		[MOAT_CTS_TIME_WAIT] = "time-wait",
		[MOAT_CTS_CLOSE] = "close",
		[MOAT_CTS_OPEN] = "open",
		[MOAT_CTS_REPLIED] = "replied",
	};

	return state < MOAT_CTS_MAX ? names[state] : "?";
}
