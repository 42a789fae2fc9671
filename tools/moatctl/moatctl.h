/* SPDX-License-Identifier: GPL-2.0-only */
/* moatctl: one file per command, dispatched from main.c's table. */
#ifndef MOAT_MOATCTL_H
#define MOAT_MOATCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "dataplane.h"
#include "wire.h"

/* Exit statuses, as every command uses them. */
#define EXIT_OK 0
#define EXIT_USER 1 /* bad input, refusal, nothing to act on */
#define EXIT_USAGE 2 /* bad command line */

/* The global options. */
struct moatctl {
	const char *instance;
	const char *bpffs;
	char socket[108];
	bool json;
	/* the control plane's, from the command line (cp.h) */
	const char *server, *api_key_file, *cacert, *workspace;
};

int cmd_ruleset(struct moatctl *g, int argc, char **argv);
/* cp-ruleset.c: the control plane's ruleset verbs (push, list, ...), which
 * cmd_ruleset() hands over */
bool cp_ruleset_verb(const char *word);
int cmd_cp_ruleset(struct moatctl *g, int argc, char **argv);
int cmd_rules(struct moatctl *g, int argc, char **argv);
int cmd_status(struct moatctl *g, int argc, char **argv);
int cmd_detach(struct moatctl *g, int argc, char **argv);
int cmd_reload(struct moatctl *g, int argc, char **argv);
int cmd_conntrack(struct moatctl *g, int argc, char **argv);
int cmd_log(struct moatctl *g, int argc, char **argv);

/* "error: ..." on stderr, prefixed "moatctl: "; returns EXIT_USER. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "... Try 'moatctl CMD --help'."; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Only the "Try" line, after getopt has said what was wrong. */
int usage_hint(const char *cmd);

/* A decimal number from @lo to @hi, all of @s: true and *out, or false. */
bool moatctl_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* The data plane options of the instance the global options name. */
void moatctl_dp_opts(const struct moatctl *g, struct moat_dp_opts *o);
/* "<bpffs>/moat/<instance>", for messages when nothing is pinned. */
void moatctl_pin_root(const struct moatctl *g, char *buf, size_t size);

/*
 * client.c: one request to moatd, one reply.  Returns 0 with the reply
 * in @m (whose strings point into *@buf: free both), or -errno:
 * -ENOENT/-ECONNREFUSED when moatd is not running.
 */
int client_call(const struct moatctl *g, const struct ctl_request *req,
		struct wire_msg *m, char **buf);
bool client_down(int err);
/* Say on stderr why moatd could not be reached; returns EXIT_USER. */
int client_fail(const struct moatctl *g, int err);

#endif /* MOAT_MOATCTL_H */
