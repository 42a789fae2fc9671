// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatd.conf's keys of joining a fleet: where the control plane is, the
 * fingerprint of its CA, the install token, whom the session process
 * runs as, and how often it reports counters unasked.  docs/moatd.md "Joining a fleet".
 */
#include <arpa/inet.h>
#include <string.h>

#include "config-key.h"

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* A DNS name: labels of letters, digits and '-', not starting with '-'. */
static bool valid_name(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > CONFIG_CP_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch == '-' && label > 0) ||
		      ch == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 || n > 1;
}

/* "host", "host:port", "1.2.3.4:port", "[::1]:port" or "::1". */
void config_parse_controlplane(struct cursor *cur, const char *line,
			       const char *v, size_t n)
{
	struct agent_config *c = cur->c;
	const char *host = v, *colon = NULL;
	size_t hn = n;
	uint64_t port = CONFIG_CP_PORT;
	char buf[INET6_ADDRSTRLEN], v6[16];

	if (v[0] == '[') {
		const char *rb = memchr(v, ']', n);

		if (!rb) {
			config_bad(cur, line, v, n, "expected ']' after an IPv6 address");
			return;
		}
		host = v + 1;
		hn = (size_t)(rb - host);
		if (rb + 1 < v + n) {
			if (rb[1] != ':') {
				config_bad(cur, line, rb + 1, (size_t)(v + n - rb - 1),
					   "expected ':PORT' after ']'");
				return;
			}
			colon = rb + 1;
		}
		if (hn >= sizeof(buf) ||
		    (memcpy(buf, host, hn), buf[hn] = '\0',
		     inet_pton(AF_INET6, buf, v6) != 1)) {
			config_bad(cur, line, host, hn, "not an IPv6 address");
			return;
		}
	} else {
		colon = memchr(v, ':', n);
		/* two colons and no brackets: a bare IPv6 address */
		if (colon && memchr(colon + 1, ':', (size_t)(v + n - colon - 1)))
			colon = NULL;
		if (colon)
			hn = (size_t)(colon - v);
		if (!valid_name(host, hn)) {
			if (n < sizeof(buf) && !colon &&
			    (memcpy(buf, v, n), buf[n] = '\0',
			     inet_pton(AF_INET6, buf, v6) == 1))
				goto host_ok;
			config_bad(cur, line, host, hn,
				   "expected a host name or address, as HOST[:PORT] or [IPV6]:PORT");
			return;
		}
	}
host_ok:
	if (colon && !config_number_in(colon + 1, (size_t)(v + n - colon - 1),
				       1, 65535, &port)) {
		config_bad(cur, line, colon + 1, (size_t)(v + n - colon - 1),
			   "port is not a number from 1 to 65535");
		return;
	}
	config_set_str(c->cp_host, sizeof(c->cp_host), host, hn);
	c->cp_port = (uint16_t)port;
}

void config_parse_controlplane_ca(struct cursor *cur, const char *line,
				  const char *v, size_t n)
{
	static const char pre[] = "sha256:";
	size_t pl = sizeof(pre) - 1;
	size_t i;

	if (n != CONFIG_PIN_LEN || memcmp(v, pre, pl)) {
		config_bad(cur, line, v, n,
			   "expected sha256: and 64 hex digits, as moat-controlplane prints it");
		return;
	}
	for (i = pl; i < n && is_hex(v[i]); i++)
		;
	if (i != n) {
		config_bad(cur, line, v + i, 1,
			   "not a lowercase hex digit in the fingerprint");
		return;
	}
	config_set_str(cur->c->cp_pin, sizeof(cur->c->cp_pin), v, n);
}

void config_parse_token_file(struct cursor *cur, const char *line,
			     const char *v, size_t n)
{
	config_near_file(cur, line, v, n, cur->c->token_file,
			 sizeof(cur->c->token_file));
}

/* What useradd takes: [a-z_][a-z0-9_-]*, at most 32. */
void config_parse_user(struct cursor *cur, const char *line, const char *v,
		       size_t n)
{
	bool ok = n > 0 && n <= CONFIG_USER_MAX &&
		  ((v[0] >= 'a' && v[0] <= 'z') || v[0] == '_');

	for (size_t i = 1; ok && i < n; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') ||
		     (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-';
	if (!ok) {
		config_bad(cur, line, v, n,
			   "bad user name (1-32 of a-z 0-9 _ -, starting with a letter or _)");
		return;
	}
	config_set_str(cur->c->user, sizeof(cur->c->user), v, n);
}

/*
 * At least a second: a host's report costs the control plane a store
 * write; at most an hour, so that the sums are never older than that.
 */
void config_parse_counters_interval(struct cursor *cur, const char *line,
				    const char *v, size_t n)
{
	uint64_t x;

	if (!config_number_in(v, n, 1, CONFIG_COUNTERS_INTERVAL_MAX, &x)) {
		config_bad(cur, line, v, n,
			   "counters-interval is not a number of seconds from 1 to 3600");
		return;
	}
	cur->c->counters_interval = (uint32_t)x;
}
