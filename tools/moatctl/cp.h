/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatctl's control-plane commands: each parses its arguments into one
 * operator API request (struct cp_req), cp_run() sends it over HTTPS and
 * the command's print function shows the reply.  Parsing and printing are
 * pure, so that the unit tests drive both without a control plane.
 */
#ifndef MOAT_CP_H
#define MOAT_CP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "moatctl.h"

#define CP_DEFAULT_WORKSPACE "default"
#define CP_USER_CONFIG ".config/moat/moatctl.conf" /* under $HOME */
#define CP_SYSTEM_CONFIG "/etc/moat/moatctl.conf"
#define CP_KEY_MAX 256 /* "moat-key-" + id + "-" + 43: far less */

/* Where to reach the control plane, from flags, environment and a file. */
struct cp_settings {
	char server[512]; /* "https://host:port", no trailing '/' */
	char api_key[CP_KEY_MAX]; /* the secret: never printed */
	/* "MOAT_API_KEY", or the file it was read from */
	char api_key_from[4200];
	char cacert[4096]; /* PEM file; "" uses the system's CAs */
	char workspace[64];
	char config[4096]; /* the config file read, "" for none */
};

/* One source of settings; NULL where it says nothing. */
struct cp_source {
	const char *server, *api_key, *api_key_file, *cacert, *workspace;
};

/*
 * cp-settings.c.  The config file's lines, each "KEY VALUE", '#' comments:
 * server, api-key-file, cacert, workspace.  Returns 0, or -EINVAL with
 * "FILE:LINE:COL: what: 'text'" in @err; -errno when it cannot be read.
 * The strings in @out are allocated: cp_source_free().
 */
int cp_config_parse(const char *path, const char *text, struct cp_source *out,
		    char *err, size_t errlen);
int cp_config_read(const char *path, struct cp_source *out, char *err,
		   size_t errlen);
void cp_source_free(struct cp_source *s);
/*
 * Flag over environment over file, then the defaults; reads the key file.
 * Returns 0, or EXIT_USER / EXIT_USAGE having said why on stderr.
 */
int cp_settings_merge(struct cp_settings *out, const struct cp_source *flags,
		      const struct cp_source *env, const struct cp_source *file,
		      const char *config);
/* The settings moatctl runs with: flags in @g, getenv(), the config file. */
int cp_settings_load(const struct moatctl *g, struct cp_settings *out);
/* $HOME's config when it exists, else the system's; "" when neither. */
void cp_config_path(char *buf, size_t size);
/*
 * Names: workspace `[a-z0-9][a-z0-9-]{0,62}`; users and roles
 * `[a-z0-9][a-z0-9._-]{0,62}`; ids `[a-z0-9]{1,64}`.
 */
bool cp_workspace_valid(const char *s);
bool cp_name_valid(const char *s);
bool cp_id_valid(const char *s);

/* One operator API request, and how its reply is shown. */
struct cp_req {
	const char *method; /* "GET", "POST", "PUT", "DELETE" */
	/* "/v1/...", or with @scoped what follows /v1/workspaces/WS */
	char path[512];
	bool scoped;
	json_object *body; /* NULL for none; cp_req_free() puts it */
	/* The reply for people; NULL prints "OK".  @now: for ages. */
	void (*print)(const struct cp_req *r, json_object *reply, FILE *f,
		      time_t now);
	/*
	 * Before sending, with the settings known (it may ask the API
	 * itself): NULL for nothing; EXIT_OK, or the exit status having
	 * said why.
	 */
	int (*prepare)(struct cp_req *r, const struct cp_settings *s);
	char arg[128]; /* the name or id the command acts on */
	unsigned timeout; /* --refresh: seconds to wait for the hosts */
	char workspace[64]; /* the workspace of the settings, set by cp_run() */
};

void cp_req_free(struct cp_req *r);
/* Fill @r: the path from @fmt. */
void cp_req_set(struct cp_req *r, const char *method, bool scoped,
		void (*print)(const struct cp_req *r, json_object *reply,
			      FILE *f, time_t now),
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Send @r, print its reply (--json: the API's JSON as it came). */
int cp_run(struct moatctl *g, struct cp_req *r);
/* @parse the command line, then cp_run() what it built. */
int cp_command(struct moatctl *g, int argc, char **argv,
	       int (*parse)(struct moatctl *g, int argc, char **argv,
			    struct cp_req *r));

/*
 * cp-client.c: one HTTPS request.  0 with *@reply (NULL for an empty
 * body, else json_object_put() it), or EXIT_USER having said why.
 */
int cp_call(const struct cp_settings *s, const char *method, const char *path,
	    json_object *body, json_object **reply);
/* GET /v1/workspaces/WS/@what/@id (for a prepare hook): as cp_call(). */
int cp_get_record(const struct cp_settings *s, const char *what,
		  const char *id, json_object **reply);

/*
 * The options every control-plane command takes, after its own: the
 * connection settings (also global options), --json and --help.
 */
enum {
	CP_OPT_SERVER = 0x100,
	CP_OPT_KEY_FILE,
	CP_OPT_CACERT,
};
/* clang-format off */
#define CP_OPTIONS \
	{ "server", required_argument, NULL, CP_OPT_SERVER }, \
	{ "api-key-file", required_argument, NULL, CP_OPT_KEY_FILE }, \
	{ "cacert", required_argument, NULL, CP_OPT_CACERT }, \
	{ "workspace", required_argument, NULL, 'w' }, \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }
/* clang-format on */
#define CP_SHORT "w:jh"
/* True when @ch was one of those (not --help), stored in @g. */
bool cp_common_opt(struct moatctl *g, int ch, const char *arg);
/* "Connection options" for the commands' --help. */
void cp_usage_common(FILE *f);

/*
 * The subcommand in @argv[1] of a command whose name is @cmd ("token"):
 * shifts it into argv[0] and returns its index in @subs, or -1 having
 * printed the usage (EXIT_OK in *@ret for --help) or the error.
 */
int cp_subcommand(const char *cmd, const char *const *subs, int *argc,
		  char ***argv, void (*usage)(FILE *f), int *ret);
/*
 * A subcommand that takes only the common options and @nargs words (-N:
 * N or more), @words for the message ("ID"): EXIT_OK with its words at
 * argv[optind...], -1 after --help, or EXIT_USAGE having said why.
 */
int cp_parse_plain(struct moatctl *g, int argc, char **argv, const char *cmd,
		   int nargs, const char *words, void (*help)(FILE *f));
/* Each command's parser: EXIT_OK with @r filled, or EXIT_USAGE said. */
int cp_parse_token(struct moatctl *g, int argc, char **argv, struct cp_req *r);
int cp_parse_host(struct moatctl *g, int argc, char **argv, struct cp_req *r);
/* cp-host-config.c: host label|restore|counters, the index in cp-host.c's
 * subcommands */
enum { CP_HOST_LABEL = 3, CP_HOST_RESTORE, CP_HOST_COUNTERS };
int cp_parse_host_config(struct moatctl *g, int sub, int argc, char **argv,
			 struct cp_req *r, void (*usage)(FILE *f));
void cp_host_config_usage(FILE *f);
/* config, generation, ruleset, apply error: lines of 'host show' */
void cp_print_host_config(json_object *o, FILE *f);
int cp_parse_ruleset(struct moatctl *g, int argc, char **argv,
		     struct cp_req *r);

/*
 * cp-refresh.c: 'counters NAME|ID [--refresh [--timeout SECONDS]]' of
 * ruleset and host (@cmd), @word "NAME" or "ID" for messages: EXIT_OK
 * with it at argv[optind], -1 after --help, or EXIT_USAGE said.  With
 * --refresh, r->prepare asks the hosts and waits for their answers.
 */
#define CP_REFRESH_TIMEOUT 5
int cp_parse_counters(struct moatctl *g, int argc, char **argv,
		      const char *cmd, const char *word, void (*help)(FILE *f),
		      struct cp_req *r);
int cp_refresh(struct cp_req *r, const struct cp_settings *s);
/*
 * The hosts of @asked whose report in @reply (a counters read: a
 * ruleset's "reports", or one host's) is pending or older than @since:
 * their count, and their ids appended to @left (may be NULL).
 */
size_t cp_refresh_waiting(json_object *reply, json_object *asked, int64_t since,
			  json_object *left);
int cp_parse_assign(struct moatctl *g, int argc, char **argv,
		    struct cp_req *r);
int cp_parse_role(struct moatctl *g, int argc, char **argv, struct cp_req *r);
int cp_parse_key(struct moatctl *g, int argc, char **argv, struct cp_req *r);
int cp_parse_workspace(struct moatctl *g, int argc, char **argv,
		       struct cp_req *r);
int cp_parse_whoami(struct moatctl *g, int argc, char **argv, struct cp_req *r);
/* audit list is a request; audit verify walks pages: *@verify. */
int cp_parse_audit(struct moatctl *g, int argc, char **argv, struct cp_req *r,
		   bool *verify);

/* --label K=V: key `[A-Za-z0-9][A-Za-z0-9._/-]{0,62}`, value <= 255 bytes */
int cp_label_parse(const char *text, char *key, size_t keysize,
		   const char **value, const char **why);

/* cp-show.c: reading replies for people. */
const char *cp_str(json_object *o, const char *key); /* "-" when absent */
int64_t cp_int(json_object *o, const char *key); /* 0 when absent */
bool cp_bool(json_object *o, const char *key);
/* "12s ago", "in 59m12s", "never" for 0. */
void cp_ago(char *buf, size_t size, int64_t t, time_t now);
/* "2026-11-29 01:02:03Z", "-" for 0. */
void cp_time(char *buf, size_t size, int64_t t);
/* "k=v,k2=v2", sorted by key; "-" when empty. */
void cp_labels(char *buf, size_t size, json_object *labels);
/* "ws:role,*:admin"; "-" when empty. */
void cp_bindings(char *buf, size_t size, json_object *bindings);
/* The reply is an array; else says so and returns false. */
bool cp_is_array(json_object *reply, FILE *f);
/*
 * A list reply as a table: @row adds the cells of one element; @empty, if
 * not NULL, is said instead of a table without rows.
 */
struct table;
void cp_print_table(json_object *reply, FILE *f, time_t now, const char *align,
		    const char *const *heads,
		    void (*row)(struct table *t, json_object *o, time_t now),
		    const char *empty);
void cp_print_json(json_object *o, FILE *f);
/* A secret shown once: on @f, with the warning on stderr. */
void cp_print_secret(FILE *f, const char *what, const char *secret);

int cmd_token(struct moatctl *g, int argc, char **argv);
int cmd_host(struct moatctl *g, int argc, char **argv);
int cmd_role(struct moatctl *g, int argc, char **argv);
int cmd_key(struct moatctl *g, int argc, char **argv);
int cmd_workspace(struct moatctl *g, int argc, char **argv);
int cmd_whoami(struct moatctl *g, int argc, char **argv);
int cmd_audit(struct moatctl *g, int argc, char **argv);
int cmd_cp_config(struct moatctl *g, int argc, char **argv);
int cmd_assign(struct moatctl *g, int argc, char **argv);

#endif /* MOAT_CP_H */
