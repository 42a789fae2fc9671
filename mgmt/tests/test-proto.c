// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent channel's codec: every message both ways, the names, frames
 * refused whatever their message, and the frame docs/protocol.md shows.
 * test-proto-keys.c has the keys and bounds of each message.
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

#include "proto-sample.h"

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
			assert_ptr_not_equal(out.enroll.csr.p, in.enroll.csr.p);
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
		cmocka_unit_test(test_documented_frame),
		cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
