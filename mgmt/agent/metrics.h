/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd's Prometheus endpoint (docs/moatd.md, METRICS).
 *
 * The metrics process, forked and re-executed as the session process is
 * (privsep.h), is the only one that reads the scrapers' HTTP requests:
 * it accepts on the socket the parent bound for it, reads one request
 * line (metrics_http_parse()), and asks the parent for the text over
 * their socketpair.  The parent, which owns the pins, renders it
 * (metrics_render()) and sends it back in packets of at most
 * METRICS_CHUNK bytes, each led by one byte: 'c' more follows, 'e' the
 * last; or the one packet 'x': it cannot read the data plane.  The
 * metrics process asks with the one packet "metrics"; any other packet
 * from it ends it.
 *
 *   metrics-render.c  the text, from a snapshot (unit-tested)
 *   metrics-http.c    the request line (unit-tested, fuzzed)
 *   metrics-proc.c    the metrics process
 *   metrics.c         the parent's side: spawn, answer, restart
 */
#ifndef MOAT_AGENT_METRICS_H
#define MOAT_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dataplane.h"
#include "prom.h"

#define METRICS_ASK "metrics"
#define METRICS_CHUNK (60u << 10)
/* the most the metrics process takes from the parent for one scrape */
#define METRICS_TEXT_MAX (256u << 20)
/* a request's line and headers: more is refused (431) */
#define METRICS_REQ_MAX 8192

/* What one scrape shows; the parent fills it. */
struct metrics_snapshot {
	bool has_generation;
	uint64_t generation;
	uint32_t rules; /* in the generation */
	bool policy_drop;
	bool audit; /* the generation is in audit mode */
	const struct moat_dp_row *rows; /* moat_dp_rows(): rules, then fixed */
	int nrows;
	uint32_t capacity, slots_used;
	bool ct_enabled;
	uint64_t ct_entries, ct_evicted, ct_insert_failed;
	uint32_t ct_max;
	bool cp_configured, cp_connected;
};

/* The exposition text of @s into @b (b->err says whether it failed). */
void metrics_render(const struct metrics_snapshot *s, struct prom_buf *b);

/* What a scraper asked. */
enum metrics_req {
	METRICS_REQ_MORE = 0, /* the head is not complete yet */
	METRICS_REQ_METRICS, /* GET /metrics (a query is ignored) */
	METRICS_REQ_HEAD, /* HEAD /metrics */
	METRICS_REQ_NOT_FOUND, /* 404: another path */
	METRICS_REQ_BAD_METHOD, /* 405: not GET or HEAD */
	METRICS_REQ_BAD, /* 400: not an HTTP/1.x request line */
	METRICS_REQ_TOO_LONG, /* 431: no end of headers in METRICS_REQ_MAX */
	METRICS_REQ_UNAVAILABLE, /* 503: moatd cannot read the data plane */
};

/*
 * The first @len bytes a scraper sent: what it wants, or MORE.  Only the
 * request line is read; the headers are skipped up to the empty line.
 */
enum metrics_req metrics_http_parse(const char *buf, size_t len);

/* The response head for @r (not MORE); the body follows for METRICS. */
int metrics_http_head(enum metrics_req r, size_t body_len, char *buf,
		      size_t size);

/* main.c: "--metrics-fd 3 --uid U --gid G": never returns. */
int metrics_main(int fd, int listen_fd, uid_t uid, gid_t gid, bool debug);

struct agent;
struct metrics;

/*
 * With metrics-listen: bind it (as root: any port), start the metrics
 * process.  Nothing to do (0, *@m NULL) without.
 */
int metrics_start(struct metrics **m, struct agent *a);
void metrics_shutdown(struct metrics *m);
void metrics_free(struct metrics *m);

#endif /* MOAT_AGENT_METRICS_H */
