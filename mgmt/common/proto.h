/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent channel between moatd and moat-controlplane: one struct per
 * message, an encoder each, and one decoder.  docs/protocol.md is the
 * specification; the bounds below are the ones it states.
 *
 *   client                               server
 *   enroll (anonymous TLS)        ->
 *                                 <-     enrolled, then close
 *   hello (mutual TLS)            ->
 *                                 <-     welcome
 *   heartbeat                     ->
 *                                 <-     heartbeat_ack
 *   renew                         ->
 *                                 <-     renewed
 *                                 <-     desired (after welcome, on change)
 *   applied                       ->
 *                                 <-     counters_request
 *   counters (also every 60 s)    ->
 *   error                         <->    error, then the sender closes
 *
 * Decoding checks keys, types and bounds only; which message is valid in
 * which state is the caller's business (error code "unexpected").
 *
 * Lifetimes: a decoded struct proto_msg owns all it holds.  Strings are
 * copied into its fixed buffers; binaries, labels and interfaces are
 * copied into malloc'd memory that proto_msg_free() releases, so the
 * payload may be freed as soon as proto_decode() returns.  Structs given
 * to the encoders are only read, during the call.
 */
#ifndef MOAT_PROTO_H
#define MOAT_PROTO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define PROTO_PORT 7443

enum proto_type {
	PROTO_ENROLL,
	PROTO_ENROLLED,
	PROTO_HELLO,
	PROTO_WELCOME,
	PROTO_HEARTBEAT,
	PROTO_HEARTBEAT_ACK,
	PROTO_RENEW,
	PROTO_RENEWED,
	PROTO_ERROR,
	/* declared configuration (proto-reconcile.c) */
	PROTO_DESIRED,
	PROTO_APPLIED,
	PROTO_COUNTERS,
	PROTO_COUNTERS_REQUEST,
};

/* The codes of an error message, in the order docs/protocol.md lists them. */
enum proto_code {
	PROTO_E_BAD_FRAME,
	PROTO_E_BAD_VERSION,
	PROTO_E_UNEXPECTED,
	PROTO_E_TOKEN_UNKNOWN,
	PROTO_E_TOKEN_EXPIRED,
	PROTO_E_TOKEN_REVOKED,
	PROTO_E_TOKEN_EXHAUSTED,
	PROTO_E_BAD_CSR,
	PROTO_E_HOST_REMOVED,
	PROTO_E_CERT_REFUSED,
	PROTO_E_INTERNAL,
	PROTO_E_SHUTTING_DOWN,
	PROTO_E_OTHER, /* a code this end does not know; see code_name */
};

/* Bounds: the longest value in bytes, without a terminating NUL. */
#define PROTO_TOKEN_MAX 128
#define PROTO_HOSTNAME_MAX 255
#define PROTO_MACHINE_ID_MAX 64
#define PROTO_VERSION_MAX 64
#define PROTO_KERNEL_MAX 128
#define PROTO_ID_MAX 32
#define PROTO_WORKSPACE_MAX 63
#define PROTO_LABELS_MAX 64
#define PROTO_LABEL_KEY_MAX 63
#define PROTO_LABEL_VALUE_MAX 255
#define PROTO_IFACES_MAX 256
#define PROTO_IFNAME_MAX (IFNAMSIZ - 1)
#define PROTO_MODE_MAX 15
#define PROTO_INSTANCE_MAX 32
#define PROTO_HASH_LEN 64 /* sha256, lowercase hex */
#define PROTO_BLOB_MAX 16384 /* csr, cert, ca: DER */
#define PROTO_CODE_MAX 31
#define PROTO_MSG_MAX 1023
#define PROTO_INTERVAL_MAX 86400 /* heartbeat_interval, seconds */
/* a ruleset's name in the control plane: [a-z0-9][a-z0-9-]{0,62} */
#define PROTO_RULESET_NAME_MAX 63
/* a desired ruleset's text: with the other keys, well under a 1 MiB frame */
#define PROTO_TEXT_MAX 900000
/* a counter's name: a rule's (MOAT_NAME_MAX), or a fixed row's "(policy)" */
#define PROTO_RULE_NAME_MAX 65
/* counters' rows; the 1 MiB frame is the tighter bound for long names */
#define PROTO_COUNTERS_MAX 65536

/* DER bytes; malloc'd when decoded, only read when encoded. */
struct proto_blob {
	uint8_t *p;
	size_t n;
};

struct proto_label {
	char key[PROTO_LABEL_KEY_MAX + 1];
	char value[PROTO_LABEL_VALUE_MAX + 1];
};

struct proto_labels {
	struct proto_label *v; /* malloc'd when decoded */
	uint32_t n;
};

struct proto_enroll {
	char token[PROTO_TOKEN_MAX + 1];
	struct proto_blob csr; /* PKCS#10 */
	char hostname[PROTO_HOSTNAME_MAX + 1];
	char machine_id[PROTO_MACHINE_ID_MAX + 1];
	char agent_version[PROTO_VERSION_MAX + 1];
};

struct proto_enrolled {
	char host_id[PROTO_ID_MAX + 1];
	char workspace_id[PROTO_ID_MAX + 1];
	char workspace[PROTO_WORKSPACE_MAX + 1];
	struct proto_blob cert; /* the host's certificate */
	struct proto_blob ca; /* the workspace CA's certificate */
	struct proto_labels labels;
	int64_t not_after;
	uint32_t heartbeat_interval;
};

struct proto_hello {
	char agent_version[PROTO_VERSION_MAX + 1];
	char hostname[PROTO_HOSTNAME_MAX + 1];
	int64_t boot_time;
	/*
	 * Optional: the desired generation in force, 0 none.  A client that
	 * sends it (0 included) understands desired; absent, it may not.
	 */
	bool has_applied_generation;
	uint64_t applied_generation;
};

struct proto_welcome {
	char host_id[PROTO_ID_MAX + 1];
	char workspace_id[PROTO_ID_MAX + 1];
	uint32_t heartbeat_interval;
	int64_t server_time;
	int64_t renew_after;
};

enum proto_dp_state {
	PROTO_DP_ENFORCING,
	PROTO_DP_NONE,
	PROTO_DP_ERROR,
};

struct proto_iface {
	char name[PROTO_IFNAME_MAX + 1];
	char mode[PROTO_MODE_MAX + 1]; /* "native", "generic" */
};

struct proto_dataplane {
	char instance[PROTO_INSTANCE_MAX + 1];
	uint64_t generation;
	char ruleset_hash[PROTO_HASH_LEN + 1]; /* "" when absent */
	struct proto_iface *ifaces; /* malloc'd when decoded */
	uint32_t nifaces;
	uint64_t ct_entries, ct_max;
	enum proto_dp_state state;
};

struct proto_heartbeat {
	uint64_t seq;
	int64_t time;
	char agent_version[PROTO_VERSION_MAX + 1];
	uint64_t uptime;
	char kernel[PROTO_KERNEL_MAX + 1];
	uint32_t load[3]; /* 1, 5, 15 minutes, x100 */
	uint64_t mem_total, mem_available;
	struct proto_dataplane dataplane;
};

struct proto_heartbeat_ack {
	uint64_t seq;
	int64_t server_time;
};

struct proto_renew {
	struct proto_blob csr;
};

struct proto_renewed {
	struct proto_blob cert;
	int64_t not_after;
	int64_t renew_after;
};

struct proto_error {
	enum proto_code code;
	/* the code as sent; used by the encoder only for PROTO_E_OTHER */
	char code_name[PROTO_CODE_MAX + 1];
	char msg[PROTO_MSG_MAX + 1];
};

enum proto_rs_mode {
	PROTO_MODE_ENFORCE,
	PROTO_MODE_AUDIT,
};

/* The ruleset of a desired state. */
struct proto_desired_ruleset {
	char name[PROTO_RULESET_NAME_MAX + 1];
	uint64_t version;
	char *text; /* malloc'd when decoded, NUL-terminated; no NUL inside */
	size_t text_len;
	char sha256[PROTO_HASH_LEN + 1]; /* of the text */
	enum proto_rs_mode mode;
};

struct proto_desired {
	uint64_t generation;
	bool has_ruleset; /* false: keep what is in force */
	struct proto_desired_ruleset ruleset;
};

struct proto_applied {
	uint64_t generation; /* applied, or failed to */
	bool ok;
	char error[PROTO_MSG_MAX + 1]; /* when !ok, not empty */
	char ruleset_hash[PROTO_HASH_LEN + 1]; /* in force; "" when absent */
	bool drift; /* a local apply (--force) replaced it */
};

struct proto_counter {
	char name[PROTO_RULE_NAME_MAX + 1];
	uint64_t packets, bytes;
};

struct proto_counters {
	uint64_t generation;
	char ruleset_hash[PROTO_HASH_LEN + 1];
	struct proto_counter *rules; /* malloc'd when decoded */
	uint32_t nrules;
};

/* A decoded message: @type says which member holds it. */
struct proto_msg {
	enum proto_type type;
	union {
		struct proto_enroll enroll;
		struct proto_enrolled enrolled;
		struct proto_hello hello;
		struct proto_welcome welcome;
		struct proto_heartbeat heartbeat;
		struct proto_heartbeat_ack heartbeat_ack;
		struct proto_renew renew;
		struct proto_renewed renewed;
		struct proto_error error;
		struct proto_desired desired;
		struct proto_applied applied;
		struct proto_counters counters;
		/* counters_request has no keys */
	};
};

const char *proto_type_name(enum proto_type t);
/* True for the messages moatd sends, false for the control plane's. */
bool proto_from_client(enum proto_type t);
const char *proto_code_name(enum proto_code c);
/* PROTO_E_OTHER when @s is no code of this version. */
enum proto_code proto_code_parse(const char *s);
const char *proto_dp_state_name(enum proto_dp_state s);
const char *proto_rs_mode_name(enum proto_rs_mode m);
/* A ruleset name of the control plane: [a-z0-9][a-z0-9-]{0,62}. */
bool proto_ruleset_name_valid(const char *s, size_t n);

/* Shared with whoever accepts labels elsewhere (the operator API). */
bool proto_label_key_valid(const char *s, size_t n);
bool proto_label_value_valid(const char *s, size_t n);

/*
 * Decode one payload (the bytes after the length prefix).  Returns 0;
 * -EBADMSG with @e naming the message and key ("heartbeat: key 'seq' is
 * not an unsigned integer"); -EPROTONOSUPPORT when the frame is of
 * another protocol version; -ENOMEM.  @m needs proto_msg_free() either
 * way.
 */
int proto_decode(const void *payload, size_t len, struct proto_msg *m,
		 struct wire_err *e);
void proto_msg_free(struct proto_msg *m);

/* Same type and same values (an error's code_name only for PROTO_E_OTHER). */
bool proto_msg_equal(const struct proto_msg *a, const struct proto_msg *b);

/* The error code to answer a proto_decode() failure with. */
enum proto_code proto_decode_code(int ret);

/*
 * Encode a whole frame (length prefix included) into @w: 0 with
 * @frame/@len owned by @w until its next use; -EINVAL with @e saying
 * which value is out of bounds (the peer would refuse it); -EMSGSIZE;
 * -ENOMEM.  @e may be NULL.
 */
int proto_encode(struct wire_writer *w, const struct proto_msg *m,
		 const char **frame, size_t *len, struct wire_err *e);

int proto_encode_enroll(struct wire_writer *w, const struct proto_enroll *m,
			const char **frame, size_t *len, struct wire_err *e);
int proto_encode_enrolled(struct wire_writer *w, const struct proto_enrolled *m,
			  const char **frame, size_t *len, struct wire_err *e);
int proto_encode_hello(struct wire_writer *w, const struct proto_hello *m,
		       const char **frame, size_t *len, struct wire_err *e);
int proto_encode_welcome(struct wire_writer *w, const struct proto_welcome *m,
			 const char **frame, size_t *len, struct wire_err *e);
int proto_encode_heartbeat(struct wire_writer *w,
			   const struct proto_heartbeat *m, const char **frame,
			   size_t *len, struct wire_err *e);
int proto_encode_heartbeat_ack(struct wire_writer *w,
			       const struct proto_heartbeat_ack *m,
			       const char **frame, size_t *len,
			       struct wire_err *e);
int proto_encode_renew(struct wire_writer *w, const struct proto_renew *m,
		       const char **frame, size_t *len, struct wire_err *e);
int proto_encode_renewed(struct wire_writer *w, const struct proto_renewed *m,
			 const char **frame, size_t *len, struct wire_err *e);
int proto_encode_error(struct wire_writer *w, const struct proto_error *m,
		       const char **frame, size_t *len, struct wire_err *e);
int proto_encode_desired(struct wire_writer *w, const struct proto_desired *m,
			 const char **frame, size_t *len, struct wire_err *e);
int proto_encode_applied(struct wire_writer *w, const struct proto_applied *m,
			 const char **frame, size_t *len, struct wire_err *e);
int proto_encode_counters(struct wire_writer *w,
			  const struct proto_counters *m, const char **frame,
			  size_t *len, struct wire_err *e);

/*
 * An error frame with @code and a message from @fmt; a message longer
 * than PROTO_MSG_MAX is cut.  Returns as proto_encode().
 */
int proto_error_frame(struct wire_writer *w, enum proto_code code,
		      const char **frame, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif /* MOAT_PROTO_H */
