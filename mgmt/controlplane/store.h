/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control plane's store: one SQLite file (WAL) holding the
 * organization, workspaces and their CAs, install tokens, hosts, users,
 * API keys, roles and the audit chain.
 *
 * Transactions: every mutating call below is one transaction that also
 * appends its audit record, so a crash leaves both or neither.  The
 * caller names who acts (struct store_who); the store writes result
 * "ok".  Refusals and denials that change nothing are recorded with
 * store_audit_append().  Reads and store_host_heartbeat() write no audit
 * record.  Calls are not thread-safe: one thread (the event loop) owns a
 * struct store.
 *
 * Returns are 0 or -errno: -ENOENT no such thing, -EEXIST name taken,
 * -EINVAL bad argument (a message is logged quoting it), -EPERM built-in
 * or refused, -EIO SQLite failed (logged).
 */
#ifndef MOAT_STORE_H
#define MOAT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"

struct store;

/* 'w', 'h', 't', 'k' or 'u' and 10 base32 characters */
#define STORE_ID_LEN 12
/* a SHA-256 in hex */
#define STORE_HASH_LEN AUDIT_HEX_LEN
/* "moat-tok-..." is 52 characters, "moat-key-KEYID-..." 64 */
#define STORE_SECRET_LEN 72
#define STORE_NAME_LEN 64
#define STORE_SERIAL_LEN 68

/* Who acts, for the audit record. */
struct store_who {
	const char *actor; /* "key:KEYID/USER", "host:HOSTID", "system" */
	const char *source; /* peer "ip:port", or "" */
};

/* Open (creating) @path and bring its schema up to date. */
int store_open(const char *path, struct store **out);
void store_close(struct store *st);

/* Fixes the store's clock (unix s) for tests; 0: the real clock again. */
void store_set_time(struct store *st, int64_t now);
int64_t store_now(const struct store *st);

/* ---- ids and secrets (store-id.c) ---- */

/* @prefix then 10 random base32 characters. */
int store_new_id(char prefix, char out[STORE_ID_LEN]);
/* SHA-256 of @s in lowercase hex. */
int store_sha256_hex(const void *s, size_t len, char out[STORE_HASH_LEN]);

/* ---- organization, bootstrap and workspaces (store-workspace.c) ---- */

struct store_blob {
	unsigned char *data; /* malloc'd */
	size_t len;
};
void store_blob_clear(struct store_blob *b);

struct store_bootstrap {
	const char *org; /* organization name */
	const char *ws_id; /* from store_new_id('w') */
	const char *ws_name;
	struct store_blob ws_ca; /* DER */
	struct store_blob ws_key; /* PEM */
	struct store_blob server_ca; /* DER */
	struct store_blob server_ca_key; /* PEM */
	struct store_blob server_cert; /* DER */
	struct store_blob server_key; /* PEM */
};

/* Whether bootstrap happened (so that the caller makes no CAs in vain). */
int store_bootstrapped(struct store *st, bool *done);

/*
 * Creates the organization, the first workspace with the built-in roles,
 * the server CA and certificate, user "admin" and an API key bound to role
 * admin on "*": its secret is written to @key_secret, the only copy.
 * -EALREADY, changing nothing, on a store already bootstrapped.
 */
int store_bootstrap(struct store *st, const struct store_bootstrap *b,
		    char key_id[STORE_ID_LEN],
		    char key_secret[STORE_SECRET_LEN]);

struct store_server {
	char org[STORE_NAME_LEN + 1];
	struct store_blob ca, ca_key, cert, key;
};
int store_server_get(struct store *st, struct store_server *out);
void store_server_clear(struct store_server *s);
/* A new server certificate and key (other SANs); audited as server.cert. */
int store_server_set_cert(struct store *st, const struct store_who *who,
			  const struct store_blob *cert,
			  const struct store_blob *key);

struct store_workspace {
	char id[STORE_ID_LEN];
	char name[STORE_NAME_LEN + 1];
	int64_t created;
	struct store_blob ca; /* DER, filled by the get calls only */
	struct store_blob ca_key; /* PEM, filled by the get calls only */
};
void store_workspace_clear(struct store_workspace *w);

bool store_name_valid(const char *name);

/* @id from store_new_id('w'), its CA made by the caller; roles built in. */
int store_workspace_create(struct store *st, const struct store_who *who,
			   const char *id, const char *name,
			   const struct store_blob *ca,
			   const struct store_blob *ca_key);
/* By id, else by name; with the CA blobs.  Clear @out after. */
int store_workspace_get(struct store *st, const char *id_or_name,
			struct store_workspace *out);
/* In name order, without blobs; a non-zero return of @cb stops and is
 * returned.  Also for the TLS trust store: with_ca fills the CA (DER). */
typedef int (*store_workspace_cb)(void *arg, const struct store_workspace *w);
int store_workspace_list(struct store *st, bool with_ca, store_workspace_cb cb,
			 void *arg);

/* ---- install tokens (store-token.c) ---- */

enum store_token_state {
	STORE_TOKEN_VALID,
	STORE_TOKEN_EXPIRED,
	STORE_TOKEN_EXHAUSTED,
	STORE_TOKEN_REVOKED,
};
const char *store_token_state_name(enum store_token_state s);

struct store_token {
	char id[STORE_ID_LEN];
	char workspace_id[STORE_ID_LEN];
	char created_by[STORE_NAME_LEN * 2];
	int64_t created;
	int64_t expires;
	int64_t uses;
	int64_t max_uses;
	int64_t revoked; /* unix s, 0: not revoked */
	char *labels; /* JSON object text, malloc'd */
	char *description; /* malloc'd */
	enum store_token_state state; /* at store_now() */
};
void store_token_clear(struct store_token *t);

/*
 * @labels: a JSON object (validated by the caller; NULL: "{}").  The
 * secret goes to @secret and is never stored: only its SHA-256.
 */
int store_token_create(struct store *st, const struct store_who *who,
		       const char *workspace_id, int64_t expires,
		       int64_t max_uses, const char *labels,
		       const char *description, struct store_token *out,
		       char secret[STORE_SECRET_LEN]);
typedef int (*store_token_cb)(void *arg, const struct store_token *t);
/* Newest first. */
int store_token_list(struct store *st, const char *workspace_id,
		     store_token_cb cb, void *arg);
int store_token_get(struct store *st, const char *workspace_id, const char *id,
		    struct store_token *out);
/* -EALREADY when revoked before (nothing recorded). */
int store_token_revoke(struct store *st, const struct store_who *who,
		       const char *workspace_id, const char *id,
		       struct store_token *out);

/* ---- hosts (store-host.c, store-enroll.c) ---- */

struct store_host {
	char id[STORE_ID_LEN];
	char workspace_id[STORE_ID_LEN];
	char hostname[256];
	char machine_id[128];
	char token_id[STORE_ID_LEN];
	char serial[STORE_SERIAL_LEN]; /* current certificate */
	char prev_serial[STORE_SERIAL_LEN]; /* the one before, or "" */
	int64_t enrolled; /* last (re-)enrollment */
	int64_t first_seen; /* first heartbeat, 0: never */
	int64_t last_seen; /* 0: never */
	int64_t cert_not_after;
	int64_t uptime;
	int64_t removed; /* unix s, 0: not removed */
	char agent_version[64];
	char kernel[128];
	char address[64];
	char *labels; /* JSON object text, malloc'd */
	char *dataplane; /* JSON object text, malloc'd */

	/* declared configuration (store-desired.c) */
	uint64_t desired_gen; /* 0: never had a desired state */
	char desired_ruleset[STORE_NAME_LEN + 1]; /* "": none */
	int64_t desired_version;
	char desired_mode[8]; /* "enforce" | "audit" | "" */
	uint64_t applied_gen; /* last generation applied: 0 none */
	uint64_t error_gen; /* last generation it failed to apply: 0 none */
	char *apply_error; /* of error_gen, malloc'd; "" */
	char applied_hash[STORE_HASH_LEN]; /* sha256 of the text in force */
	bool drift; /* a local apply --force since applied_gen */
	int64_t last_applied; /* time of the last report, 0: never */
};
void store_host_clear(struct store_host *h);

/*
 * The fleet view's status of @h: "unmanaged" (no desired state ever),
 * "drift", "failing" (its last report for the desired generation is an
 * error: h->apply_error), "converged" or "pending".
 */
const char *store_host_status(const struct store_host *h);

struct store_enroll_req {
	const char *token_hash; /* store_sha256_hex() of the token string */
	const char *hostname;
	const char *machine_id;
	const char *agent_version;
	const char *address; /* peer "ip:port" */
};

/*
 * Signs the host's certificate once the store knows which workspace and
 * host it is for (within the enrollment's transaction): writes the
 * certificate's serial (hex) and not-after.  Non-zero aborts enrollment.
 */
typedef int (*store_sign_fn)(void *arg, const char *workspace_id,
			     const char *host_id, char serial[STORE_SERIAL_LEN],
			     int64_t *not_after);

/*
 * Enrollment, in one transaction: find the token by hash and check it,
 * find the host by machine id in the token's workspace (re-enrollment:
 * same record, removed cleared, only the new serial accepted) or make a
 * new one, call @sign, count a use of the token, record host.enroll.
 * A refusal creates nothing and is recorded as enroll.refuse: -ENOKEY
 * unknown token, -EKEYEXPIRED, -EKEYREVOKED, -EDQUOT exhausted; @sign's
 * error is returned as it is.  On success @out is the host (clear it).
 */
int store_enroll(struct store *st, const struct store_who *who,
		 const struct store_enroll_req *req, store_sign_fn sign,
		 void *arg, struct store_host *out);
/* "token_unknown", "token_expired", ... for an error of store_enroll(). */
const char *store_enroll_error_code(int err);

int store_host_get(struct store *st, const char *workspace_id, const char *id,
		   struct store_host *out);
typedef int (*store_host_cb)(void *arg, const struct store_host *h);
/* In id order; removed hosts too (h->removed). */
int store_host_list(struct store *st, const char *workspace_id,
		    store_host_cb cb, void *arg);
/* Marks it removed: its certificates are refused from now on. */
int store_host_remove(struct store *st, const struct store_who *who,
		      const char *workspace_id, const char *id,
		      struct store_host *out);
/* The current serial becomes the previous one, @serial the current. */
int store_host_renew(struct store *st, const struct store_who *who,
		     const char *workspace_id, const char *id,
		     const char *serial, int64_t not_after);

struct store_heartbeat {
	int64_t time; /* server time of receipt */
	const char *agent_version;
	const char *kernel;
	int64_t uptime;
	const char *address;
	const char *dataplane; /* JSON object text */
};
/* One prepared UPDATE, no audit record; -ENOENT for an unknown or
 * removed host (its session should end). */
int store_host_heartbeat(struct store *st, const char *id,
			 const struct store_heartbeat *hb);

/*
 * Whether a client certificate may be used: 0 when @serial is the host's
 * current or previous serial and the host is not removed; -ENOENT unknown
 * host (or another workspace), -EKEYREVOKED removed, -EPERM other serial.
 */
int store_host_cert_ok(struct store *st, const char *workspace_id,
		       const char *host_id, const char *serial);

/* ---- declared configuration: rulesets, assignments, labels, desired
 * state (store-ruleset.c, store-assign.c, store-desired.c) ---- */

/*
 * Called after a mutating call has committed, with each host whose
 * desired generation moved: the caller pushes the new state to it.
 */
typedef void (*store_desired_fn)(void *arg, const char *host_id,
				 uint64_t generation);

/* The largest ruleset text: a `desired' message fits the 1 MiB frame. */
#define STORE_RULESET_TEXT_MAX 900000

struct store_ruleset_version {
	char workspace_id[STORE_ID_LEN];
	char name[STORE_NAME_LEN + 1];
	int64_t version; /* 1, 2, ... */
	char sha256[STORE_HASH_LEN]; /* of the text */
	char author[STORE_NAME_LEN * 2]; /* who->actor */
	int64_t created;
	int64_t rules; /* rule count */
	char *text; /* malloc'd by the get call; NULL in lists */
};
void store_ruleset_version_clear(struct store_ruleset_version *v);

/*
 * A new version of ruleset @name (created with version 1 when new) from
 * @text, validated by the caller (ruleset_check()); audited as
 * ruleset.version.  The hosts whose desired state it changes get a new
 * generation in the same transaction and are passed to @changed after
 * it.  -EALREADY when @text is the latest version's text: nothing is
 * written, @out is that version.  -EINVAL for a bad name, or a text
 * over STORE_RULESET_TEXT_MAX.
 */
int store_ruleset_add(struct store *st, const struct store_who *who,
		      const char *ws_id, const char *name, const char *text,
		      int64_t rules, struct store_ruleset_version *out,
		      store_desired_fn changed, void *arg);
/* Version @version of @name, 0: the latest; with its text (clear @out). */
int store_ruleset_get(struct store *st, const char *ws_id, const char *name,
		      int64_t version, struct store_ruleset_version *out);
typedef int (*store_ruleset_cb)(void *arg,
				const struct store_ruleset_version *v);
/* The rulesets of @ws_id by name, each as its latest version (no text). */
int store_ruleset_list(struct store *st, const char *ws_id,
		       store_ruleset_cb cb, void *arg);
/* The versions of @name, oldest first (no text); -ENOENT: no such ruleset. */
int store_ruleset_versions(struct store *st, const char *ws_id,
			   const char *name, store_ruleset_cb cb, void *arg);

#define STORE_SELECTOR_LEN 512

struct store_assignment {
	char id[STORE_ID_LEN]; /* 'a' + 10 */
	char workspace_id[STORE_ID_LEN];
	char ruleset[STORE_NAME_LEN + 1];
	int64_t version; /* 0: the latest */
	char selector[STORE_SELECTOR_LEN]; /* "k=v,k2=v2"; "": every host */
	int64_t priority; /* lower first; ties by id */
	char mode[8]; /* "enforce" | "audit" */
	/*
	 * Rollout: a host is in when the first 4 bytes of
	 * SHA-256("ASSIGNMENT-ID/HOST-ID"), big-endian, mod 100 are below
	 * percent (0-100), or when it is in @hosts.  percent 0: the listed
	 * hosts only.
	 */
	int64_t percent;
	char *hosts; /* JSON array of host ids; malloc'd when read */
	char author[STORE_NAME_LEN * 2];
	int64_t created; /* of this version of the assignment */
};
void store_assignment_clear(struct store_assignment *a);

/* Whether @sel is a selector: "" or "k=v" pairs joined by ','; k is not
 * empty and neither holds '=' or ','. */
bool store_selector_valid(const char *sel);
/* Whether the rollout of assignment @assignment_id includes @host_id by
 * its percentage. */
bool store_rollout_in(const char *assignment_id, const char *host_id,
		      int64_t percent);

/*
 * Creates (a->id "") or replaces (a->id of @ws_id) an assignment; audited
 * as assignment.put.  The ruleset (and version, when not 0) must exist:
 * -ENOENT; -EINVAL for a bad selector, mode, percent or hosts (NULL:
 * "[]").  @out (NULL, or another struct than @a) is what was stored.
 */
int store_assignment_put(struct store *st, const struct store_who *who,
			 const char *ws_id, const struct store_assignment *a,
			 struct store_assignment *out,
			 store_desired_fn changed, void *arg);
int store_assignment_delete(struct store *st, const struct store_who *who,
			    const char *ws_id, const char *id,
			    store_desired_fn changed, void *arg);
int store_assignment_get(struct store *st, const char *ws_id, const char *id,
			 struct store_assignment *out);
typedef int (*store_assignment_cb)(void *arg,
				   const struct store_assignment *a);
/* By priority, then id: the order in which they are tried. */
int store_assignment_list(struct store *st, const char *ws_id,
			  store_assignment_cb cb, void *arg);

/* An operator sets a host's labels (a JSON object of strings); audited
 * as host.labels.  -ENOENT for an unknown or removed host. */
int store_host_set_labels(struct store *st, const struct store_who *who,
			  const char *ws_id, const char *host_id,
			  const char *labels_json, store_desired_fn changed,
			  void *arg);

struct store_desired {
	uint64_t generation; /* 0: never had one */
	bool has_ruleset; /* false: "none", the host keeps what it has */
	char name[STORE_NAME_LEN + 1];
	int64_t version;
	char sha256[STORE_HASH_LEN];
	char mode[8]; /* "enforce" | "audit" */
	char *text; /* malloc'd when has_ruleset */
};
void store_desired_clear(struct store_desired *d);

/*
 * Recomputes the desired state of every host of @ws_id that is not
 * removed, or of @host_id only (not NULL): the first assignment by
 * priority (then id) whose selector matches the host's labels and whose
 * rollout includes it gives the ruleset (version 0: the latest), else
 * none.  A state that differs from the stored one is stored with
 * generation + 1.  Its own transaction; the mutating calls above do the
 * same inside theirs.  @changed (may be NULL) after the commit.
 */
int store_desired_recompute(struct store *st, const char *ws_id,
			    const char *host_id, store_desired_fn changed,
			    void *arg);
/* A host's desired state with its text; -ENOENT unknown or removed. */
int store_host_desired(struct store *st, const char *host_id,
		       struct store_desired *out);
/*
 * What a host reported: it applied @generation (@ok; @error NULL), or
 * failed to (!@ok: @error, its previous generation stays applied);
 * @ruleset_hash is the sha256 of the text in force; @drift a local
 * change.  No audit record, as for heartbeats.  -ENOENT unknown or
 * removed.
 */
int store_host_applied(struct store *st, const char *host_id,
		       uint64_t generation, bool ok, const char *error,
		       const char *ruleset_hash, bool drift);

/*
 * A host's last counters: @rules_json is a JSON array
 * [{"name":..,"packets":..,"bytes":..}] (-EINVAL when not JSON).  No
 * audit record.
 */
int store_host_counters_set(struct store *st, const char *host_id,
			    uint64_t generation, const char *ruleset_hash,
			    const char *rules_json);
struct store_counters {
	char host_id[STORE_ID_LEN];
	uint64_t generation;
	char ruleset_hash[STORE_HASH_LEN];
	int64_t time; /* of the report, 0: none */
	char *rules; /* the JSON array, malloc'd */
};
void store_counters_clear(struct store_counters *c);
int store_host_counters(struct store *st, const char *ws_id,
			const char *host_id, struct store_counters *out);
typedef int (*store_counters_cb)(void *arg, const struct store_counters *c);
/* The counters of each host (not removed) of @ws_id whose counters are
 * for a version of ruleset @name, in host id order. */
int store_ruleset_counters(struct store *st, const char *ws_id,
			   const char *name, store_counters_cb cb, void *arg);

/* ---- users, API keys, roles, permissions (store-auth.c, store-allow.c,
 * store-role.c) ---- */

/* The permissions, NULL-terminated. */
extern const char *const store_permissions[];
bool store_permission_valid(const char *perm);

struct store_binding {
	char workspace[STORE_ID_LEN]; /* a workspace id or "*" */
	char role[STORE_NAME_LEN + 1];
};
#define STORE_MAX_BINDINGS 32

struct store_key {
	char id[STORE_ID_LEN];
	char user[STORE_NAME_LEN + 1];
	int64_t created;
	int64_t revoked;
	size_t n_bindings;
	struct store_binding bindings[STORE_MAX_BINDINGS];
};

bool store_user_name_valid(const char *name);

/*
 * A key for @user (created when new) with @n bindings; a binding's
 * workspace must exist (or be "*") and its role exist there (on "*": be
 * a built-in role).  The secret goes to @secret, only there.
 */
int store_key_create(struct store *st, const struct store_who *who,
		     const char *user, const struct store_binding *bindings,
		     size_t n, struct store_key *out,
		     char secret[STORE_SECRET_LEN]);
typedef int (*store_key_cb)(void *arg, const struct store_key *k);
int store_key_list(struct store *st, store_key_cb cb, void *arg);
int store_key_get(struct store *st, const char *id, struct store_key *out);
/* -EALREADY when revoked before. */
int store_key_revoke(struct store *st, const struct store_who *who,
		     const char *id);
/*
 * The key a bearer secret names: -EACCES when malformed, unknown, revoked
 * or its hash differs (compared in constant time).
 */
int store_key_auth(struct store *st, const char *secret, struct store_key *out);

/*
 * 0 when a binding of @key grants @perm in @workspace_id (an id, or "*":
 * then only "*" bindings count); -EACCES when not; -EINVAL for an unknown
 * permission.  A "*" binding applies to every workspace, now and later.
 */
int store_allowed(struct store *st, const char *key_id,
		  const char *workspace_id, const char *perm);
/* 0 when @perm is granted in at least one workspace. */
int store_allowed_any(struct store *st, const char *key_id, const char *perm);

struct store_role {
	char name[STORE_NAME_LEN + 1];
	bool builtin;
	char permissions[512]; /* space-separated, in store_permissions order */
};
typedef int (*store_role_cb)(void *arg, const struct store_role *r);
int store_role_list(struct store *st, const char *workspace_id,
		    store_role_cb cb, void *arg);
int store_role_get(struct store *st, const char *workspace_id, const char *name,
		   struct store_role *out);
/* Create or replace; -EINVAL names an unknown permission, -EPERM for a
 * built-in role (they are the same everywhere, so "*" bindings mean one
 * thing). */
int store_role_put(struct store *st, const struct store_who *who,
		   const char *workspace_id, const char *name,
		   const char *const *perms, size_t n, struct store_role *out);
int store_role_delete(struct store *st, const struct store_who *who,
		      const char *workspace_id, const char *name);

/* ---- audit (store-audit.c) ---- */

/*
 * A record in its own transaction, for what changed nothing: denials,
 * refusals, logins.  @detail: JSON object text or NULL ("{}").
 */
int store_audit_append(struct store *st, const struct store_who *who,
		       const char *action, const char *workspace,
		       const char *target, const char *result,
		       const char *detail);
typedef int (*store_audit_cb)(void *arg, const struct audit_record *r);
/*
 * Records with seq > @after in order, at most @limit (0: all); @workspace
 * NULL for all, else only that workspace's.
 */
int store_audit_list(struct store *st, int64_t after, int64_t limit,
		     const char *workspace, store_audit_cb cb, void *arg);
/*
 * Verifies the whole chain: 0, or -EBADMSG with the first problem in
 * @why ("record 17: hash does not match its contents (edited?)").
 * @count: records checked.
 */
int store_audit_verify(struct store *st, int64_t *count, char *why,
		       size_t why_len);

/* {"k":"v",...} from NULL-terminated key/value pairs, JSON-escaped;
 * -ENOSPC when it does not fit @len. */
int store_json_detail(char *buf, size_t len, ...);

#endif /* MOAT_STORE_H */
