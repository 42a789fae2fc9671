// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one HTTP request a scraper sends on a connection, read no further
 * than its request line: the metrics process needs the method and the
 * path, and the less it parses, the less there is to get wrong.  The
 * headers are skipped up to the empty line that ends them, so that the
 * answer never comes before the question is whole.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static bool token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The request line's target: printable, no space, origin-form. */
static bool target_ok(const char *s, size_t n)
{
	if (!n || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	}
	return true;
}

enum metrics_req metrics_http_parse(const char *buf, size_t len)
{
	const char *end = NULL, *eol, *sp1, *sp2, *path;
	size_t mlen, plen;

	/* the head ends with an empty line; a bare LF is tolerated too */
	for (size_t i = 0; i + 1 < len && !end; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			end = buf + i;
		else if (i + 3 < len && !memcmp(buf + i, "\r\n\r\n", 4))
			end = buf + i;
	}
	if (!end)
		return len >= METRICS_REQ_MAX ? METRICS_REQ_TOO_LONG :
						METRICS_REQ_MORE;
	if (end - buf >= METRICS_REQ_MAX)
		return METRICS_REQ_TOO_LONG;
	/* the head's end holds a newline: there is one */
	eol = memchr(buf, '\n', len);
	if (eol > buf && eol[-1] == '\r')
		eol--;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1)
		return METRICS_REQ_BAD;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return METRICS_REQ_BAD;
	mlen = (size_t)(sp1 - buf);
	for (size_t i = 0; i < mlen; i++) {
		if (!token_char(buf[i]))
			return METRICS_REQ_BAD;
	}
	path = sp1 + 1;
	plen = (size_t)(sp2 - path);
	if (!mlen || !target_ok(path, plen) || eol - sp2 - 1 != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) || sp2[8] < '0' || sp2[8] > '9')
		return METRICS_REQ_BAD;
	if (!(mlen == 3 && !memcmp(buf, "GET", 3)) &&
	    !(mlen == 4 && !memcmp(buf, "HEAD", 4)))
		return METRICS_REQ_BAD_METHOD;
	/* "/metrics" or "/metrics?...": Prometheus may add a query */
	if (plen < 8 || memcmp(path, "/metrics", 8) ||
	    (plen > 8 && path[8] != '?'))
		return METRICS_REQ_NOT_FOUND;
	return mlen == 4 ? METRICS_REQ_HEAD : METRICS_REQ_METRICS;
}

int metrics_http_head(enum metrics_req r, size_t body_len, char *buf,
		      size_t size)
{
	const char *status, *type = PROM_CONTENT_TYPE, *extra = "";

	switch (r) {
	case METRICS_REQ_METRICS:
	case METRICS_REQ_HEAD:
		status = "200 OK";
		break;
	case METRICS_REQ_NOT_FOUND:
		status = "404 Not Found";
		break;
	case METRICS_REQ_BAD_METHOD:
		status = "405 Method Not Allowed";
		extra = "Allow: GET, HEAD\r\n";
		break;
	case METRICS_REQ_TOO_LONG:
		status = "431 Request Header Fields Too Large";
		break;
	case METRICS_REQ_UNAVAILABLE:
		status = "503 Service Unavailable";
		break;
	default:
		status = "400 Bad Request";
		break;
	}
	if (r != METRICS_REQ_METRICS && r != METRICS_REQ_HEAD)
		type = "text/plain; charset=utf-8";
	return snprintf(
		buf, size,
		"HTTP/1.1 %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
		status, type, extra, body_len);
}
