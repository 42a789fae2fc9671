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
		memset(m->heartbeat.dataplane.ruleset_hash, 'e',
		       PROTO_HASH_LEN);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_typed_encoders),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_optional_and_unknown_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
