// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's codec: every message both ways, every required key
 * missing and mistyped, every bound at its limit and one past it.
 *
 * Bad frames are made from good ones: a sample message is encoded,
 * parsed, and written again with one key dropped or its value replaced
 * (rewrite()), so that each case differs from a valid frame in exactly
 * one place.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

static uint8_t der_a[] = { 0x30, 0x82, 0x01, 0x0a, 0x02, 0x01, 0x00 };
static uint8_t der_b[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static struct proto_label labels[] = { { "env", "prod" },
				       { "team/owner", "net ops" } };
static struct proto_iface ifaces[] = { { "eth0", "native" },
				       { "veth-moat-a", "generic" } };

static void sample(enum proto_type t, struct proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	switch (t) {
	case PROTO_ENROLL:
		strcpy(m->enroll.token,
		       "moat-tok-q2xmnbJ3Zq0tS6hJtQ3E6X1k8kMZ1lS3nUe5pWkK9aE");
		m->enroll.csr = (struct proto_blob){ der_a, sizeof(der_a) };
		strcpy(m->enroll.hostname, "web-1.example.com");
		strcpy(m->enroll.machine_id,
		       "0f4a1e0c8b6d4c2e9f7a5b3c1d0e2f4a");
		strcpy(m->enroll.agent_version, "0.2.0");
		break;
	case PROTO_ENROLLED:
		strcpy(m->enrolled.host_id, "habcdefghij");
		strcpy(m->enrolled.workspace_id, "w234567abcd");
		strcpy(m->enrolled.workspace, "default");
		m->enrolled.cert = (struct proto_blob){ der_a, sizeof(der_a) };
		m->enrolled.ca = (struct proto_blob){ der_b, sizeof(der_b) };
		m->enrolled.labels = (struct proto_labels){ labels, 2 };
		m->enrolled.not_after = 1796000000;
		m->enrolled.heartbeat_interval = 10;
		break;
	case PROTO_HELLO:
		strcpy(m->hello.agent_version, "0.2.0");
		strcpy(m->hello.hostname, "web-1");
		m->hello.boot_time = 1795000000;
		break;
	case PROTO_WELCOME:
		strcpy(m->welcome.host_id, "habcdefghij");
		strcpy(m->welcome.workspace_id, "w234567abcd");
		m->welcome.heartbeat_interval = 10;
		m->welcome.server_time = 1795900000;
		m->welcome.renew_after = 1795957600;
		break;
	case PROTO_HEARTBEAT:
		m->heartbeat.seq = 42;
		m->heartbeat.time = 1795900123;
		strcpy(m->heartbeat.agent_version, "0.2.0");
		m->heartbeat.uptime = 86400;
		strcpy(m->heartbeat.kernel, "6.8.0-45-generic");
		m->heartbeat.load[0] = 12;
		m->heartbeat.load[1] = 30;
		m->heartbeat.load[2] = 5;
		m->heartbeat.mem_total = 8ull << 30;
		m->heartbeat.mem_available = 5ull << 30;
		strcpy(m->heartbeat.dataplane.instance, "default");
		m->heartbeat.dataplane.generation = 3;
		/* sha256 of the empty text */
		strcpy(m->heartbeat.dataplane.ruleset_hash,
		       "e3b0c44298fc1c149afbf4c8996fb924"
		       "27ae41e4649b934ca495991b7852b855");
		m->heartbeat.dataplane.ifaces = ifaces;
		m->heartbeat.dataplane.nifaces = 2;
		m->heartbeat.dataplane.ct_entries = 117;
		m->heartbeat.dataplane.ct_max = 65536;
		m->heartbeat.dataplane.state = PROTO_DP_ENFORCING;
		break;
	case PROTO_HEARTBEAT_ACK:
		m->heartbeat_ack.seq = 42;
		m->heartbeat_ack.server_time =
			-1; /* before 1970: still valid */
		break;
	case PROTO_RENEW:
		m->renew.csr = (struct proto_blob){ der_b, sizeof(der_b) };
		break;
	case PROTO_RENEWED:
		m->renewed.cert = (struct proto_blob){ der_a, sizeof(der_a) };
		m->renewed.not_after = INT64_MAX;
		m->renewed.renew_after = INT64_MIN;
		break;
	case PROTO_ERROR:
		m->error.code = PROTO_E_TOKEN_EXPIRED;
		strcpy(m->error.msg,
		       "token 't234567abcd' expired at 1795000000");
		break;
	}
}

#define NTYPES (PROTO_ERROR + 1)

/* Decode a whole frame: 0 or the decoder's error, its reason in @e. */
static int decode_frame(const char *f, size_t n, struct proto_msg *m,
			struct wire_err *e)
{
	assert_true(n >= WIRE_HDR_LEN);
	assert_int_equal(wire_frame_len(f), n - WIRE_HDR_LEN);
	return proto_decode(f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, m, e);
}

static void test_round_trip(void **state)
{
	struct wire_writer w;

	wire_writer_init(&w);
	for (int t = 0; t < NTYPES; t++) {
		struct proto_msg in, out;
		struct wire_err e = { "" };
		const char *f;
		size_t n;

		sample((enum proto_type)t, &in);
		assert_int_equal(proto_encode(&w, &in, &f, &n, &e), 0);
		assert_int_equal(decode_frame(f, n, &out, &e), 0);
		assert_int_equal(out.type, t);
		assert_true(proto_msg_equal(&in, &out));
		/* the decoded blobs are copies, not pointers into the frame */
		if (t == PROTO_ENROLL)
			assert_ptr_not_equal(out.enroll.csr.p, der_a);
		proto_msg_free(&out);
	}
	wire_writer_free(&w);
}

static void test_typed_encoders(void **state)
{
	struct proto_msg in, out;
	struct wire_err e = { "" };
	struct wire_writer w;
	const char *f;
	size_t n;

	wire_writer_init(&w);
	sample(PROTO_HEARTBEAT, &in);
	assert_int_equal(proto_encode_heartbeat(&w, &in.heartbeat, &f, &n, &e),
			 0);
	assert_int_equal(decode_frame(f, n, &out, &e), 0);
	assert_true(proto_msg_equal(&in, &out));
	proto_msg_free(&out);

	assert_int_equal(proto_error_frame(&w, PROTO_E_BAD_FRAME, &f, &n,
					   "%s: key '%s' is %s", "hello", "v",
					   "odd"),
			 0);
	assert_int_equal(decode_frame(f, n, &out, &e), 0);
	assert_int_equal(out.type, PROTO_ERROR);
	assert_int_equal(out.error.code, PROTO_E_BAD_FRAME);
	assert_string_equal(out.error.code_name, "bad_frame");
	assert_string_equal(out.error.msg, "hello: key 'v' is odd");
	proto_msg_free(&out);

	/* the encoder refuses what the peer would refuse, and says why */
	sample(PROTO_HELLO, &in);
	strcpy(in.hello.hostname, "web 1");
	assert_int_equal(proto_encode_hello(&w, &in.hello, &f, &n, &e),
			 -EINVAL);
	assert_string_equal(
		e.msg,
		"hello: key 'hostname' is not 1 or more bytes of printable ASCII without spaces: 'web 1'");
	wire_writer_free(&w);
}

static void test_names(void **state)
{
	for (int c = 0; c < PROTO_E_OTHER; c++)
		assert_int_equal(proto_code_parse(proto_code_name(c)), c);
	assert_string_equal(proto_code_name(PROTO_E_SHUTTING_DOWN),
			    "shutting_down");
	assert_int_equal(proto_code_parse("teapot"), PROTO_E_OTHER);
	assert_string_equal(proto_type_name(PROTO_HEARTBEAT_ACK),
			    "heartbeat_ack");
	assert_true(proto_from_client(PROTO_RENEW));
	assert_false(proto_from_client(PROTO_RENEWED));
	assert_false(proto_from_client(PROTO_ERROR));
	assert_int_equal(proto_decode_code(-EPROTONOSUPPORT),
			 PROTO_E_BAD_VERSION);
	assert_int_equal(proto_decode_code(-EBADMSG), PROTO_E_BAD_FRAME);
	assert_int_equal(proto_decode_code(-ENOMEM), PROTO_E_INTERNAL);
}

/* Write any msgpack object again. */
static void emit(struct wire_writer *w, const msgpack_object *o)
{
	char k[256];

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		wire_strn(w, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		wire_bin(w, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		wire_uint(w, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		wire_int(w, o->via.i64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		wire_bool(w, o->via.boolean);
		break;
	case MSGPACK_OBJECT_ARRAY:
		wire_array_open(w);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			emit(w, &o->via.array.ptr[i]);
		wire_array_close(w);
		break;
	case MSGPACK_OBJECT_MAP:
		wire_map_open(w);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *key = &o->via.map.ptr[i].key;

			assert_int_equal(key->type, MSGPACK_OBJECT_STR);
			assert_true(key->via.str.size < sizeof(k));
			memcpy(k, key->via.str.ptr, key->via.str.size);
			k[key->via.str.size] = '\0';
			wire_key(w, k);
			emit(w, &o->via.map.ptr[i].val);
		}
		wire_map_close(w);
		break;
	default:
		fail_msg("the encoder wrote msgpack type %d", o->type);
	}
}

/* How to change one key: drop it (put == NULL) or write another value. */
struct edit {
	const char *sub; /* the key is in this map, or at the top */
	const char *key;
	void (*put)(struct wire_writer *w, const void *arg);
	const void *arg;
};

static bool key_is(const msgpack_object *k, const char *s)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
	       !memcmp(k->via.str.ptr, s, k->via.str.size);
}

static void emit_map(struct wire_writer *w, const msgpack_object *map,
		     const struct edit *ed, bool top)
{
	bool here = top == !ed->sub;

	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		char k[64];

		if (top && (key_is(&kv->key, "v") || key_is(&kv->key, "type")))
			continue; /* wire_begin() wrote them */
		snprintf(k, sizeof(k), "%.*s", (int)kv->key.via.str.size,
			 kv->key.via.str.ptr);
		if (here && !strcmp(k, ed->key)) {
			if (!ed->put)
				continue;
			wire_key(w, k);
			ed->put(w, ed->arg);
		} else if (top && ed->sub && !strcmp(k, ed->sub)) {
			wire_key(w, k);
			wire_map_open(w);
			emit_map(w, &kv->val, ed, false);
			wire_map_close(w);
		} else {
			wire_key(w, k);
			emit(w, &kv->val);
		}
	}
	/* a key the sample lacks (optional, or made up) is added */
	if (here && ed->put && !wire_find(map, ed->key)) {
		wire_key(w, ed->key);
		ed->put(w, ed->arg);
	}
}

/* Sample @t with @ed applied, decoded: the decoder's return value. */
static int decode_edited(enum proto_type t, const struct edit *ed,
			 struct proto_msg *out, struct wire_err *e)
{
	struct wire_writer w, w2;
	struct proto_msg in;
	struct wire_msg wm;
	const char *f;
	size_t n;
	int ret;

	wire_writer_init(&w);
	wire_writer_init(&w2);
	sample(t, &in);
	assert_int_equal(proto_encode(&w, &in, &f, &n, e), 0);
	assert_int_equal(wire_parse(&wm, f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, e),
			 0);
	wire_begin(&w2, proto_type_name(t));
	emit_map(&w2, wm.root, ed, true);
	assert_int_equal(wire_end(&w2, WIRE_MAX_FRAME, &f, &n), 0);
	ret = decode_frame(f, n, out, e);
	wire_msg_free(&wm);
	wire_writer_free(&w);
	wire_writer_free(&w2);
	return ret;
}

static void expect_refused(enum proto_type t, const struct edit *ed,
			   const char *want)
{
	struct wire_err e = { "" };
	struct proto_msg out;

	assert_int_equal(decode_edited(t, ed, &out, &e), -EBADMSG);
	if (strcmp(e.msg, want))
		fail_msg("%s with key '%s' changed: got \"%s\", want \"%s\"",
			 proto_type_name(t), ed->key, e.msg, want);
	proto_msg_free(&out);
}

/* Accepted, and what was decoded encodes again. */
static void expect_accepted(enum proto_type t, const struct edit *ed)
{
	struct wire_err e = { "" };
	struct proto_msg out, again;
	struct wire_writer w;
	const char *f;
	size_t n;
	int ret = decode_edited(t, ed, &out, &e);

	if (ret)
		fail_msg("%s with key '%s' changed: %d \"%s\"",
			 proto_type_name(t), ed->key, ret, e.msg);
	wire_writer_init(&w);
	assert_int_equal(proto_encode(&w, &out, &f, &n, &e), 0);
	assert_int_equal(decode_frame(f, n, &again, &e), 0);
	assert_true(proto_msg_equal(&out, &again));
	proto_msg_free(&again);
	proto_msg_free(&out);
	wire_writer_free(&w);
}

static void put_uint(struct wire_writer *w, const void *arg)
{
	wire_uint(w, *(const uint64_t *)arg);
}

static void put_str(struct wire_writer *w, const void *arg)
{
	wire_str(w, arg);
}

static void put_bool(struct wire_writer *w, const void *arg)
{
	(void)arg;
	wire_bool(w, true);
}

struct key {
	const char *name;
	const char *kind; /* as the refusal says it */
};

#define S "a string"
#define B "binary"
#define U "an unsigned integer"
#define I "an integer"

static const struct key enroll_keys[] = {
	{ "token", S },	     { "csr", B },	     { "hostname", S },
	{ "machine_id", S }, { "agent_version", S }, {}
};
static const struct key enrolled_keys[] = { { "host_id", S },
					    { "workspace_id", S },
					    { "workspace", S },
					    { "cert", B },
					    { "ca", B },
					    { "labels", "a map" },
					    { "not_after", I },
					    { "heartbeat_interval", U },
					    {} };
static const struct key hello_keys[] = { { "agent_version", S },
					 { "hostname", S },
					 { "boot_time", I },
					 {} };
static const struct key welcome_keys[] = { { "host_id", S },
					   { "workspace_id", S },
					   { "heartbeat_interval", U },
					   { "server_time", I },
					   { "renew_after", I },
					   {} };
static const struct key heartbeat_keys[] = { { "seq", U },
					     { "time", I },
					     { "agent_version", S },
					     { "uptime", U },
					     { "kernel", S },
					     { "load", "an array" },
					     { "mem_total", U },
					     { "mem_available", U },
					     { "dataplane", "a map" },
					     {} };
static const struct key dataplane_keys[] = { { "instance", S },
					     { "generation", U },
					     { "interfaces", "an array" },
					     { "ct_entries", U },
					     { "ct_max", U },
					     { "state", S },
					     {} };
static const struct key heartbeat_ack_keys[] = { { "seq", U },
						 { "server_time", I },
						 {} };
static const struct key renew_keys[] = { { "csr", B }, {} };
static const struct key renewed_keys[] = { { "cert", B },
					   { "not_after", I },
					   { "renew_after", I },
					   {} };
static const struct key error_keys[] = { { "code", S }, { "msg", S }, {} };

static const struct {
	enum proto_type type;
	const char *sub;
	const struct key *keys;
} required[] = {
	{ PROTO_ENROLL, NULL, enroll_keys },
	{ PROTO_ENROLLED, NULL, enrolled_keys },
	{ PROTO_HELLO, NULL, hello_keys },
	{ PROTO_WELCOME, NULL, welcome_keys },
	{ PROTO_HEARTBEAT, NULL, heartbeat_keys },
	{ PROTO_HEARTBEAT, "dataplane", dataplane_keys },
	{ PROTO_HEARTBEAT_ACK, NULL, heartbeat_ack_keys },
	{ PROTO_RENEW, NULL, renew_keys },
	{ PROTO_RENEWED, NULL, renewed_keys },
	{ PROTO_ERROR, NULL, error_keys },
};

static void test_required_keys(void **state)
{
	static const uint64_t one = 1;
	char want[200];

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		enum proto_type t = required[i].type;
		char where[64];

		snprintf(where, sizeof(where), "%s%s%s", proto_type_name(t),
			 required[i].sub ? ": " : "",
			 required[i].sub ? required[i].sub : "");
		for (const struct key *k = required[i].keys; k->name; k++) {
			struct edit drop = { required[i].sub, k->name };
			/* a string where it is not one, else a number */
			bool str = !strcmp(k->kind, S);
			struct edit mistype = { required[i].sub, k->name,
						str ? put_uint : put_str,
						str ? (const void *)&one :
						      "x" };

			snprintf(want, sizeof(want), "%s: missing key '%s'",
				 where, k->name);
			expect_refused(t, &drop, want);
			snprintf(want, sizeof(want), "%s: key '%s' is not %s",
				 where, k->name, k->kind);
			expect_refused(t, &mistype, want);
		}
	}
}

static void test_optional_and_unknown_keys(void **state)
{
	struct edit drop_hash = { "dataplane", "ruleset_hash" };
	struct edit bool_hash = { "dataplane", "ruleset_hash", put_bool };
	struct edit extra = { NULL, "zone", put_str, "eu-west" };
	struct edit extra_sub = { "dataplane", "xdp_drops", put_bool };
	struct wire_err e = { "" };
	struct proto_msg out;

	assert_int_equal(decode_edited(PROTO_HEARTBEAT, &drop_hash, &out, &e),
			 0);
	assert_string_equal(out.heartbeat.dataplane.ruleset_hash, "");
	proto_msg_free(&out);
	expect_refused(
		PROTO_HEARTBEAT, &bool_hash,
		"heartbeat: dataplane: key 'ruleset_hash' is not a string");

	/* keys of a later minor revision are ignored, at any depth */
	for (int t = 0; t < NTYPES; t++)
		expect_accepted((enum proto_type)t, &extra);
	expect_accepted(PROTO_HEARTBEAT, &extra_sub);
}

/* A string of @n times 'a', for the edits that test a bound. */
static char *repeat(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = '\0';
	return s;
}

static const struct {
	enum proto_type type;
	const char *sub;
	const char *key;
	size_t max;
} string_bounds[] = {
	{ PROTO_ENROLL, NULL, "token", PROTO_TOKEN_MAX },
	{ PROTO_ENROLL, NULL, "hostname", PROTO_HOSTNAME_MAX },
	{ PROTO_ENROLL, NULL, "machine_id", PROTO_MACHINE_ID_MAX },
	{ PROTO_ENROLL, NULL, "agent_version", PROTO_VERSION_MAX },
	{ PROTO_ENROLLED, NULL, "host_id", PROTO_ID_MAX },
	{ PROTO_ENROLLED, NULL, "workspace_id", PROTO_ID_MAX },
	{ PROTO_ENROLLED, NULL, "workspace", PROTO_WORKSPACE_MAX },
	{ PROTO_HELLO, NULL, "agent_version", PROTO_VERSION_MAX },
	{ PROTO_HELLO, NULL, "hostname", PROTO_HOSTNAME_MAX },
	{ PROTO_WELCOME, NULL, "host_id", PROTO_ID_MAX },
	{ PROTO_WELCOME, NULL, "workspace_id", PROTO_ID_MAX },
	{ PROTO_HEARTBEAT, NULL, "agent_version", PROTO_VERSION_MAX },
	{ PROTO_HEARTBEAT, NULL, "kernel", PROTO_KERNEL_MAX },
	{ PROTO_HEARTBEAT, "dataplane", "instance", PROTO_INSTANCE_MAX },
	{ PROTO_ERROR, NULL, "code", PROTO_CODE_MAX },
	{ PROTO_ERROR, NULL, "msg", PROTO_MSG_MAX },
};

static void test_string_bounds(void **state)
{
	for (size_t i = 0; i < sizeof(string_bounds) / sizeof(string_bounds[0]);
	     i++) {
		enum proto_type t = string_bounds[i].type;
		const char *sub = string_bounds[i].sub;
		char *at = repeat(string_bounds[i].max);
		char *over = repeat(string_bounds[i].max + 1);
		struct edit ok = { sub, string_bounds[i].key, put_str, at };
		struct edit bad = { sub, string_bounds[i].key, put_str, over };
		char want[200];

		expect_accepted(t, &ok);
		snprintf(want, sizeof(want),
			 "%s: %s%skey '%s' is longer than %zu bytes",
			 proto_type_name(t), sub ? sub : "", sub ? ": " : "",
			 string_bounds[i].key, string_bounds[i].max);
		expect_refused(t, &bad, want);
		free(at);
		free(over);
	}
}

static void put_bin(struct wire_writer *w, const void *arg)
{
	size_t n = *(const size_t *)arg;
	char *p = calloc(1, n + 1);

	assert_non_null(p);
	wire_bin(w, p, n);
	free(p);
}

static void test_blob_bounds(void **state)
{
	static const size_t at = PROTO_BLOB_MAX, over = PROTO_BLOB_MAX + 1,
			    none = 0;
	static const struct {
		enum proto_type type;
		const char *key;
	} blobs[] = {
		{ PROTO_ENROLL, "csr" },   { PROTO_ENROLLED, "cert" },
		{ PROTO_ENROLLED, "ca" },  { PROTO_RENEW, "csr" },
		{ PROTO_RENEWED, "cert" },
	};

	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		struct edit ok = { NULL, blobs[i].key, put_bin, &at };
		struct edit big = { NULL, blobs[i].key, put_bin, &over };
		struct edit empty = { NULL, blobs[i].key, put_bin, &none };
		const char *name = proto_type_name(blobs[i].type);
		char want[200];

		expect_accepted(blobs[i].type, &ok);
		snprintf(want, sizeof(want),
			 "%s: key '%s' is longer than 16384 bytes", name,
			 blobs[i].key);
		expect_refused(blobs[i].type, &big, want);
		snprintf(want, sizeof(want), "%s: key '%s' is empty", name,
			 blobs[i].key);
		expect_refused(blobs[i].type, &empty, want);
	}
}

struct labels_arg {
	uint32_t n;
	size_t key_len, value_len;
	const char *key0; /* the first key, instead of a made-up one */
};

static void put_labels(struct wire_writer *w, const void *arg)
{
	const struct labels_arg *a = arg;
	char *v = repeat(a->value_len);

	wire_map_open(w);
	for (uint32_t i = 0; i < a->n; i++) {
		char k[128];

		/* unique keys of key_len bytes: a number, padded with 'k' */
		snprintf(
			k, sizeof(k), "%u%s", i,
			"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
		k[a->key_len] = '\0';
		wire_put_str(w, i == 0 && a->key0 ? a->key0 : k, v);
	}
	wire_map_close(w);
	free(v);
}

static void test_label_bounds(void **state)
{
	static const struct labels_arg full = { 64, 63, 255 },
				       many = { 65, 8, 1 },
				       long_key = { 1, 64, 1 },
				       long_value = { 2, 8, 256 },
				       bad_key = { 1, 8, 1, "-x" },
				       none = { 0 };
	struct edit e_full = { NULL, "labels", put_labels, &full };
	struct edit e_none = { NULL, "labels", put_labels, &none };
	struct edit e_many = { NULL, "labels", put_labels, &many };
	struct edit e_long_key = { NULL, "labels", put_labels, &long_key };
	struct edit e_long_value = { NULL, "labels", put_labels, &long_value };
	struct edit e_bad_key = { NULL, "labels", put_labels, &bad_key };

	expect_accepted(PROTO_ENROLLED, &e_full);
	expect_accepted(PROTO_ENROLLED, &e_none);
	expect_refused(PROTO_ENROLLED, &e_many,
		       "enrolled: key 'labels' holds more than 64 pairs");
	expect_refused(PROTO_ENROLLED, &e_long_key,
		       "enrolled: label key 0 is longer than 63 bytes");
	expect_refused(PROTO_ENROLLED, &e_long_value,
		       "enrolled: label '0kkkkkkk' is longer than 255 bytes");
	expect_refused(
		PROTO_ENROLLED, &e_bad_key,
		"enrolled: label key '-x' is not 1-63 of A-Z a-z 0-9 . _ / - starting with a letter or digit");
}

static void put_dup_labels(struct wire_writer *w, const void *arg)
{
	wire_map_open(w);
	wire_put_str(w, "env", "prod");
	wire_put_str(w, "env", "dev");
	wire_map_close(w);
}

static void put_tab_label(struct wire_writer *w, const void *arg)
{
	wire_map_open(w);
	wire_put_str(w, "env", "pr\tod");
	wire_map_close(w);
}

static void test_label_values(void **state)
{
	struct edit dup = { NULL, "labels", put_dup_labels };
	struct edit tab = { NULL, "labels", put_tab_label };

	expect_refused(PROTO_ENROLLED, &dup,
		       "enrolled: label 'env' is given twice");
	expect_refused(
		PROTO_ENROLLED, &tab,
		"enrolled: label 'env' is not 0-255 bytes of printable ASCII");
	assert_true(proto_label_value_valid("", 0));
	assert_true(proto_label_key_valid("k8s.io/role", 11));
	assert_false(proto_label_key_valid("", 0));
	assert_false(proto_label_key_valid("a b", 3));
}

struct ifaces_arg {
	uint32_t n;
	const char *name; /* of the first */
};

static void put_ifaces(struct wire_writer *w, const void *arg)
{
	const struct ifaces_arg *a = arg;

	wire_array_open(w);
	for (uint32_t i = 0; i < a->n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "veth%u", i);
		wire_map_open(w);
		wire_put_str(w, "name", i == 0 && a->name ? a->name : name);
		wire_put_str(w, "mode", "generic");
		wire_map_close(w);
	}
	wire_array_close(w);
}

static void test_iface_bounds(void **state)
{
	static const struct ifaces_arg full = { 256 }, over = { 257 },
				       at15 = { 1, "abcdefghijklmno" },
				       at16 = { 1, "abcdefghijklmnop" },
				       slash = { 2, "a/b" };
	struct edit e_full = { "dataplane", "interfaces", put_ifaces, &full };
	struct edit e_over = { "dataplane", "interfaces", put_ifaces, &over };
	struct edit e_15 = { "dataplane", "interfaces", put_ifaces, &at15 };
	struct edit e_16 = { "dataplane", "interfaces", put_ifaces, &at16 };
	struct edit e_slash = { "dataplane", "interfaces", put_ifaces, &slash };
	struct edit e_item = { "dataplane", "interfaces", put_str, "eth0" };

	expect_accepted(PROTO_HEARTBEAT, &e_full);
	expect_refused(
		PROTO_HEARTBEAT, &e_over,
		"heartbeat: dataplane: key 'interfaces' holds more than 256 items");
	expect_accepted(PROTO_HEARTBEAT, &e_15);
	expect_refused(
		PROTO_HEARTBEAT, &e_16,
		"heartbeat: dataplane: interfaces item 0: key 'name' is longer than 15 bytes");
	expect_refused(
		PROTO_HEARTBEAT, &e_slash,
		"heartbeat: dataplane: interfaces item 0: key 'name' is not an interface name: 'a/b'");
	expect_refused(
		PROTO_HEARTBEAT, &e_item,
		"heartbeat: dataplane: key 'interfaces' is not an array");
}

struct load_arg {
	int n;
	uint64_t v;
};

static void put_load(struct wire_writer *w, const void *arg)
{
	const struct load_arg *a = arg;

	wire_array_open(w);
	for (int i = 0; i < a->n; i++)
		wire_uint(w, a->v);
	wire_array_close(w);
}

static void put_int(struct wire_writer *w, const void *arg)
{
	wire_int(w, *(const int64_t *)arg);
}

static void test_number_bounds(void **state)
{
	static const struct load_arg top = { 3, UINT32_MAX },
				     wide = { 3, UINT32_MAX + 1ull },
				     two = { 2, 1 };
	static const uint64_t interval_max = PROTO_INTERVAL_MAX,
			      interval_over = PROTO_INTERVAL_MAX + 1, zero = 0,
			      past_int64 = INT64_MAX + 1ull;
	static const int64_t negative = -5;
	struct edit load_top = { NULL, "load", put_load, &top };
	struct edit load_wide = { NULL, "load", put_load, &wide };
	struct edit load_two = { NULL, "load", put_load, &two };
	struct edit iv_max = { NULL, "heartbeat_interval", put_uint,
			       &interval_max };
	struct edit iv_over = { NULL, "heartbeat_interval", put_uint,
				&interval_over };
	struct edit iv_zero = { NULL, "heartbeat_interval", put_uint, &zero };
	struct edit time_wide = { NULL, "not_after", put_uint, &past_int64 };
	struct edit seq_negative = { NULL, "seq", put_int, &negative };

	expect_accepted(PROTO_HEARTBEAT, &load_top);
	expect_refused(
		PROTO_HEARTBEAT, &load_wide,
		"heartbeat: load item 0 is not an unsigned 32-bit integer");
	expect_refused(PROTO_HEARTBEAT, &load_two,
		       "heartbeat: key 'load' holds 2 items, not 3");
	expect_accepted(PROTO_WELCOME, &iv_max);
	expect_accepted(PROTO_ENROLLED, &iv_max);
	expect_refused(
		PROTO_WELCOME, &iv_over,
		"welcome: key 'heartbeat_interval' is not 1-86400 seconds: 86401");
	expect_refused(
		PROTO_ENROLLED, &iv_zero,
		"enrolled: key 'heartbeat_interval' is not 1-86400 seconds: 0");
	expect_refused(
		PROTO_RENEWED, &time_wide,
		"renewed: key 'not_after' is out of range: 9223372036854775808");
	expect_refused(PROTO_HEARTBEAT_ACK, &seq_negative,
		       "heartbeat_ack: key 'seq' is not an unsigned integer");
}

static void test_values(void **state)
{
	struct edit space = { NULL, "hostname", put_str, "web 1" };
	struct edit empty = { NULL, "machine_id", put_str, "" };
	struct edit ws = { NULL, "workspace", put_str, "-prod" };
	struct edit id = { NULL, "host_id", put_str, "H1" };
	struct edit hash = { "dataplane", "ruleset_hash", put_str, "ABCD" };
	struct edit st = { "dataplane", "state", put_str, "broken" };
	struct edit no_hash = { "dataplane", "ruleset_hash", put_str, "" };
	struct edit code = { NULL, "code", put_str, "teapot" };
	struct edit code_bad = { NULL, "code", put_str, "Tea pot" };
	struct edit ctl = { NULL, "kernel", put_str, "6.8\x1b[2J" };
	struct wire_err e = { "" };
	struct proto_msg out;

	expect_refused(
		PROTO_ENROLL, &space,
		"enroll: key 'hostname' is not 1 or more bytes of printable ASCII without spaces: 'web 1'");
	expect_refused(
		PROTO_ENROLL, &empty,
		"enroll: key 'machine_id' is not 1 or more bytes of printable ASCII without spaces: ''");
	expect_refused(
		PROTO_ENROLLED, &ws,
		"enrolled: key 'workspace' is not a workspace name: '-prod'");
	expect_refused(PROTO_WELCOME, &id,
		       "welcome: key 'host_id' is not 1-32 of a-z 0-9: 'H1'");
	expect_refused(
		PROTO_HEARTBEAT, &hash,
		"heartbeat: dataplane: key 'ruleset_hash' is not 64 lowercase hex digits: 'ABCD'");
	expect_refused(
		PROTO_HEARTBEAT, &no_hash,
		"heartbeat: dataplane: key 'ruleset_hash' is not 64 lowercase hex digits: ''");
	expect_refused(
		PROTO_HEARTBEAT, &st,
		"heartbeat: dataplane: key 'state' is not enforcing, none or error: 'broken'");
	/* control bytes are quoted, not passed on to a terminal */
	expect_refused(
		PROTO_HEARTBEAT, &ctl,
		"heartbeat: key 'kernel' is not 1 or more bytes of printable ASCII: '6.8\\x1b[2J'");
	expect_refused(PROTO_ERROR, &code_bad,
		       "error: key 'code' is not 1-31 of a-z _: 'Tea pot'");

	/* a code of a later revision is kept, and said again as it came */
	assert_int_equal(decode_edited(PROTO_ERROR, &code, &out, &e), 0);
	assert_int_equal(out.error.code, PROTO_E_OTHER);
	assert_string_equal(out.error.code_name, "teapot");
	proto_msg_free(&out);
	expect_accepted(PROTO_ERROR, &code);
}

/* docs/protocol.md's worked example, byte for byte. */
static const uint8_t heartbeat_frame[] = {
	0x00, 0x00, 0x01, 0x86, 0xdf, 0x00, 0x00, 0x00, 0x0b, 0xa1, 0x76, 0x01,
	0xa4, 0x74, 0x79, 0x70, 0x65, 0xa9, 0x68, 0x65, 0x61, 0x72, 0x74, 0x62,
	0x65, 0x61, 0x74, 0xa3, 0x73, 0x65, 0x71, 0x2a, 0xa4, 0x74, 0x69, 0x6d,
	0x65, 0xce, 0x6b, 0x0b, 0x42, 0xdb, 0xad, 0x61, 0x67, 0x65, 0x6e, 0x74,
	0x5f, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0xa5, 0x30, 0x2e, 0x32,
	0x2e, 0x30, 0xa6, 0x75, 0x70, 0x74, 0x69, 0x6d, 0x65, 0xce, 0x00, 0x01,
	0x51, 0x80, 0xa6, 0x6b, 0x65, 0x72, 0x6e, 0x65, 0x6c, 0xb0, 0x36, 0x2e,
	0x38, 0x2e, 0x30, 0x2d, 0x34, 0x35, 0x2d, 0x67, 0x65, 0x6e, 0x65, 0x72,
	0x69, 0x63, 0xa4, 0x6c, 0x6f, 0x61, 0x64, 0xdd, 0x00, 0x00, 0x00, 0x03,
	0x0c, 0x1e, 0x05, 0xa9, 0x6d, 0x65, 0x6d, 0x5f, 0x74, 0x6f, 0x74, 0x61,
	0x6c, 0xcf, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0xad, 0x6d,
	0x65, 0x6d, 0x5f, 0x61, 0x76, 0x61, 0x69, 0x6c, 0x61, 0x62, 0x6c, 0x65,
	0xcf, 0x00, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, 0xa9, 0x64, 0x61,
	0x74, 0x61, 0x70, 0x6c, 0x61, 0x6e, 0x65, 0xdf, 0x00, 0x00, 0x00, 0x07,
	0xa8, 0x69, 0x6e, 0x73, 0x74, 0x61, 0x6e, 0x63, 0x65, 0xa7, 0x64, 0x65,
	0x66, 0x61, 0x75, 0x6c, 0x74, 0xaa, 0x67, 0x65, 0x6e, 0x65, 0x72, 0x61,
	0x74, 0x69, 0x6f, 0x6e, 0x03, 0xac, 0x72, 0x75, 0x6c, 0x65, 0x73, 0x65,
	0x74, 0x5f, 0x68, 0x61, 0x73, 0x68, 0xd9, 0x40, 0x65, 0x33, 0x62, 0x30,
	0x63, 0x34, 0x34, 0x32, 0x39, 0x38, 0x66, 0x63, 0x31, 0x63, 0x31, 0x34,
	0x39, 0x61, 0x66, 0x62, 0x66, 0x34, 0x63, 0x38, 0x39, 0x39, 0x36, 0x66,
	0x62, 0x39, 0x32, 0x34, 0x32, 0x37, 0x61, 0x65, 0x34, 0x31, 0x65, 0x34,
	0x36, 0x34, 0x39, 0x62, 0x39, 0x33, 0x34, 0x63, 0x61, 0x34, 0x39, 0x35,
	0x39, 0x39, 0x31, 0x62, 0x37, 0x38, 0x35, 0x32, 0x62, 0x38, 0x35, 0x35,
	0xaa, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x73, 0xdd,
	0x00, 0x00, 0x00, 0x02, 0xdf, 0x00, 0x00, 0x00, 0x02, 0xa4, 0x6e, 0x61,
	0x6d, 0x65, 0xa4, 0x65, 0x74, 0x68, 0x30, 0xa4, 0x6d, 0x6f, 0x64, 0x65,
	0xa6, 0x6e, 0x61, 0x74, 0x69, 0x76, 0x65, 0xdf, 0x00, 0x00, 0x00, 0x02,
	0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xab, 0x76, 0x65, 0x74, 0x68, 0x2d, 0x6d,
	0x6f, 0x61, 0x74, 0x2d, 0x61, 0xa4, 0x6d, 0x6f, 0x64, 0x65, 0xa7, 0x67,
	0x65, 0x6e, 0x65, 0x72, 0x69, 0x63, 0xaa, 0x63, 0x74, 0x5f, 0x65, 0x6e,
	0x74, 0x72, 0x69, 0x65, 0x73, 0x75, 0xa6, 0x63, 0x74, 0x5f, 0x6d, 0x61,
	0x78, 0xce, 0x00, 0x01, 0x00, 0x00, 0xa5, 0x73, 0x74, 0x61, 0x74, 0x65,
	0xa9, 0x65, 0x6e, 0x66, 0x6f, 0x72, 0x63, 0x69, 0x6e, 0x67,
};

static void test_documented_frame(void **state)
{
	struct wire_err e = { "" };
	struct wire_writer w;
	struct proto_msg m;
	const char *f;
	size_t n;

	wire_writer_init(&w);
	sample(PROTO_HEARTBEAT, &m);
	assert_int_equal(proto_encode(&w, &m, &f, &n, &e), 0);
	assert_int_equal(n, sizeof(heartbeat_frame));
	assert_memory_equal(f, heartbeat_frame, n);
	wire_writer_free(&w);
}

/* Decode a payload that is not made from a sample. */
static void expect_payload(const void *p, size_t n, int want_ret,
			   const char *want)
{
	struct wire_err e = { "" };
	struct proto_msg m;

	assert_int_equal(proto_decode(p, n, &m, &e), want_ret);
	assert_string_equal(e.msg, want);
	proto_msg_free(&m);
}

static void test_frames(void **state)
{
	static const char v2[] = "\x82\xa1v\x02\xa4type\xa5hello";
	static const char no_map[] = "\x93\x01\x02\x03";
	struct wire_err e = { "" };
	struct wire_writer w;
	struct proto_msg m;
	const char *f;
	size_t n;
	char *copy;

	wire_writer_init(&w);
	wire_begin(&w, "goodbye");
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), 0);
	expect_payload(f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, -EBADMSG,
		       "unknown message type 'goodbye'");

	/* the name is quoted safely, whatever it holds */
	wire_begin(&w, "a\nb");
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), 0);
	expect_payload(f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, -EBADMSG,
		       "unknown message type 'a\\x0ab'");

	/* a version this end does not speak has its own error code */
	expect_payload(
		v2, sizeof(v2) - 1, -EPROTONOSUPPORT,
		"protocol version 2 is not supported (this end speaks 1)");
	expect_payload(no_map, sizeof(no_map) - 1, -EBADMSG,
		       "message is not a map");
	expect_payload("", 0, -EBADMSG, "empty message");

	/* a byte after the map */
	sample(PROTO_HELLO, &m);
	assert_int_equal(proto_encode(&w, &m, &f, &n, &e), 0);
	copy = malloc(n + 1);
	assert_non_null(copy);
	memcpy(copy, f, n);
	copy[n] = '\0';
	expect_payload(copy + WIRE_HDR_LEN, n + 1 - WIRE_HDR_LEN, -EBADMSG,
		       "1 bytes after the message's map");
	/* and one missing at the end */
	expect_payload(copy + WIRE_HDR_LEN, n - 1 - WIRE_HDR_LEN, -EBADMSG,
		       "message is truncated");
	free(copy);

	/* a key given twice: the first counts */
	wire_begin(&w, "heartbeat_ack");
	wire_put_uint(&w, "seq", 7);
	wire_put_uint(&w, "seq", 8);
	wire_put_str(&w, "server_time", "later");
	wire_key(&w, "server_time");
	wire_int(&w, -3);
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), 0);
	expect_payload(f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, -EBADMSG,
		       "heartbeat_ack: key 'server_time' is not an integer");
	wire_begin(&w, "heartbeat_ack");
	wire_put_uint(&w, "seq", 7);
	wire_put_uint(&w, "seq", 8);
	wire_key(&w, "server_time");
	wire_int(&w, -3);
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), 0);
	assert_int_equal(decode_frame(f, n, &m, &e), 0);
	assert_int_equal(m.heartbeat_ack.seq, 7);
	assert_int_equal(m.heartbeat_ack.server_time, -3);
	proto_msg_free(&m);
	wire_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_typed_encoders),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_optional_and_unknown_keys),
		cmocka_unit_test(test_string_bounds),
		cmocka_unit_test(test_blob_bounds),
		cmocka_unit_test(test_label_bounds),
		cmocka_unit_test(test_label_values),
		cmocka_unit_test(test_iface_bounds),
		cmocka_unit_test(test_number_bounds),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_documented_frame),
		cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
