// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatd.conf's metrics-listen: where the Prometheus endpoint listens,
 * an address and a port, both given: an endpoint on every address by
 * default would publish counters nobody meant to.  docs/moatd.md METRICS.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config-key.h"

/* "1.2.3.4:9100" or "[::1]:9100". */
void config_parse_metrics_listen(struct cursor *cur, const char *line,
				 const char *v, size_t n)
{
	const char *colon = NULL, *host = v;
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	uint64_t port;
	size_t hn;

	if (n && v[0] == '[') {
		const char *rb = memchr(v, ']', n);

		if (rb && rb + 1 < v + n && rb[1] == ':')
			colon = rb + 1;
		host = v + 1;
		hn = rb ? (size_t)(rb - host) : 0;
	} else {
		colon = memrchr(v, ':', n);
		hn = colon ? (size_t)(colon - v) : 0;
		/* an IPv6 address needs its brackets, for the port's sake */
		if (colon && memchr(v, ':', hn))
			colon = NULL;
	}
	if (!colon || !hn || hn >= sizeof(buf)) {
		config_bad(
			cur, line, v, n,
			"expected ADDRESS:PORT or [IPV6]:PORT, such as 127.0.0.1:9101");
		return;
	}
	memcpy(buf, host, hn);
	buf[hn] = '\0';
	if (inet_pton(v[0] == '[' ? AF_INET6 : AF_INET, buf, addr) != 1) {
		config_bad(
			cur, line, host, hn,
			v[0] == '[' ?
				"not an IPv6 address" :
				"not an IPv4 address (a name is not taken: give the address)");
		return;
	}
	if (!config_number_in(colon + 1, (size_t)(v + n - colon - 1), 1, 65535,
			      &port)) {
		config_bad(cur, line, colon + 1, (size_t)(v + n - colon - 1),
			   "port is not a number from 1 to 65535");
		return;
	}
	config_set_str(cur->c->metrics_host, sizeof(cur->c->metrics_host), buf,
		       hn);
	cur->c->metrics_port = (uint16_t)port;
	config_set_str(cur->c->metrics_listen, sizeof(cur->c->metrics_listen),
		       v, n);
}
