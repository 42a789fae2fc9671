// SPDX-License-Identifier: GPL-2.0-only
/* The frame codec: round trips, and every way a frame can be wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

/* A frame from the writer; returns its payload (after the prefix). */
static const char *finish(struct wire_writer *w, size_t *plen)
{
	const char *frame;
	size_t len;

	assert_int_equal(wire_end(w, WIRE_MAX_FRAME, &frame, &len), 0);
	assert_int_equal(wire_frame_len(frame), len - WIRE_HDR_LEN);
	*plen = len - WIRE_HDR_LEN;
	return frame + WIRE_HDR_LEN;
}

static void test_round_trip(void **state)
{
	static const uint8_t hash[32] = { 1, 2, 3, [31] = 0xff };
	struct wire_writer w;
	struct wire_msg m;
	struct wire_err e;
	const msgpack_object *sub;
	const msgpack_object_array *a;
	const char *payload, *s;
	const void *bin;
	char name[16];
	uint64_t u;
	uint32_t u32;
	bool b;
	size_t n;

	wire_writer_init(&w);
	wire_begin(&w, "apply");
	wire_put_str(&w, "text", "policy drop\n");
	wire_put_uint(&w, "generation", UINT64_MAX);
	wire_put_uint(&w, "small", 7);
	wire_put_bool(&w, "force", true);
	wire_put_bin(&w, "hash", hash, sizeof(hash));
	wire_key(&w, "stats");
	wire_map_open(&w);
	wire_put_uint(&w, "rules", 3);
	wire_map_close(&w);
	wire_key(&w, "list");
	wire_array_open(&w);
	/* more than 15 items: the count is patched, whatever its size */
	for (int i = 0; i < 20; i++)
		wire_uint(&w, (uint64_t)i);
	wire_array_close(&w);
	wire_key(&w, "neg");
	wire_int(&w, -5);
	payload = finish(&w, &n);

	assert_int_equal(wire_parse(&m, payload, n, &e), 0);
	assert_int_equal(m.version, WIRE_VERSION);
	assert_string_equal(m.type, "apply");
	assert_int_equal(wire_get_strv(m.root, "text", &s, &n, &e), 0);
	assert_int_equal(n, 12);
	assert_memory_equal(s, "policy drop\n", 12);
	assert_int_equal(wire_get_uint(m.root, "generation", &u, &e), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(wire_get_u32(m.root, "small", &u32, &e), 0);
	assert_int_equal(u32, 7);
	assert_int_equal(wire_get_bool(m.root, "force", &b, &e), 0);
	assert_true(b);
	assert_int_equal(wire_get_bin(m.root, "hash", &bin, &n, &e), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(bin, hash, 32);
	assert_int_equal(wire_get_map(m.root, "stats", &sub, &e), 0);
	assert_int_equal(wire_get_uint(sub, "rules", &u, &e), 0);
	assert_int_equal(u, 3);
	assert_int_equal(wire_get_array(m.root, "list", &a, &e), 0);
	assert_int_equal(a->size, 20);
	assert_int_equal(a->ptr[19].via.u64, 19);
	assert_int_equal(wire_get_str(m.root, "type", name, sizeof(name), &e),
			 0);
	assert_string_equal(name, "apply");
	wire_msg_free(&m);
	wire_writer_free(&w);
}

/* Frames built by hand, for what our own writer never produces. */
struct raw {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void raw_init(struct raw *r)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void raw_str(struct raw *r, const char *s)
{
	msgpack_pack_str(&r->pk, strlen(s));
	msgpack_pack_str_body(&r->pk, s, strlen(s));
}

/* A map of @n pairs starting with v=@v and type=@type. */
static void raw_head(struct raw *r, uint32_t n, uint64_t v, const char *type)
{
	msgpack_pack_map(&r->pk, n);
	raw_str(r, "v");
	msgpack_pack_uint64(&r->pk, v);
	raw_str(r, "type");
	raw_str(r, type);
}

static void expect_error(const void *p, size_t n, const char *want)
{
	struct wire_msg m;
	struct wire_err e = { "" };

	assert_int_equal(wire_parse(&m, p, n, &e), -EBADMSG);
	assert_string_equal(e.msg, want);
	wire_msg_free(&m);
}

static void test_missing_and_mistyped(void **state)
{
	struct wire_msg m;
	struct wire_err e;
	struct raw r;
	const char *s;
	uint64_t u;
	uint32_t u32;
	char buf[4];
	size_t n;
	bool b;

	raw_init(&r);
	raw_head(&r, 6, WIRE_VERSION, "apply");
	raw_str(&r, "generation");
	raw_str(&r, "7");
	raw_str(&r, "big");
	msgpack_pack_uint64(&r.pk, 1ull << 32);
	raw_str(&r, "long");
	raw_str(&r, "abcd");
	raw_str(&r, "nul");
	msgpack_pack_str(&r.pk, 3);
	msgpack_pack_str_body(&r.pk, "a\0b", 3);
	assert_int_equal(wire_parse(&m, r.sb.data, r.sb.size, &e), 0);

	assert_int_equal(wire_get_strv(m.root, "text", &s, &n, &e), -EBADMSG);
	assert_string_equal(e.msg, "missing key 'text'");
	assert_int_equal(wire_get_uint(m.root, "generation", &u, &e), -EBADMSG);
	assert_string_equal(e.msg,
			    "key 'generation' is not an unsigned integer");
	assert_int_equal(wire_get_bool(m.root, "generation", &b, &e), -EBADMSG);
	assert_string_equal(e.msg, "key 'generation' is not a boolean");
	assert_int_equal(wire_get_u32(m.root, "big", &u32, &e), -EBADMSG);
	assert_string_equal(e.msg, "key 'big' is out of range: 4294967296");
	assert_int_equal(wire_get_str(m.root, "long", buf, sizeof(buf), &e),
			 -EBADMSG);
	assert_string_equal(e.msg, "key 'long' is longer than 3 bytes");
	assert_int_equal(wire_get_str(m.root, "nul", buf, sizeof(buf), &e),
			 -EBADMSG);
	assert_string_equal(e.msg, "key 'nul' holds a NUL byte");
	/* optional and absent: untouched, no error */
	b = true;
	assert_int_equal(wire_opt_bool(m.root, "force", &b, &e), 0);
	assert_true(b);
	wire_msg_free(&m);
	msgpack_sbuffer_destroy(&r.sb);
}

static void test_unknown_keys_ignored(void **state)
{
	struct wire_msg m;
	struct wire_err e;
	struct raw r;
	char iface[16];

	raw_init(&r);
	raw_head(&r, 5, WIRE_VERSION, "detach");
	raw_str(&r, "from-the-future");
	msgpack_pack_array(&r.pk, 2);
	msgpack_pack_nil(&r.pk);
	msgpack_pack_double(&r.pk, 1.5);
	msgpack_pack_uint8(&r.pk, 1); /* a key that is not even a string */
	raw_str(&r, "x");
	raw_str(&r, "iface");
	raw_str(&r, "eth0");
	assert_int_equal(wire_parse(&m, r.sb.data, r.sb.size, &e), 0);
	assert_int_equal(
		wire_get_str(m.root, "iface", iface, sizeof(iface), &e), 0);
	assert_string_equal(iface, "eth0");
	wire_msg_free(&m);
	msgpack_sbuffer_destroy(&r.sb);
}

static void test_trailing_bytes(void **state)
{
	struct raw r;

	raw_init(&r);
	raw_head(&r, 2, WIRE_VERSION, "status");
	msgpack_pack_uint8(&r.pk, 200); /* two bytes: 0xcc 0xc8 */
	msgpack_pack_nil(&r.pk);
	expect_error(r.sb.data, r.sb.size, "3 bytes after the message's map");
	msgpack_sbuffer_destroy(&r.sb);
}

static void test_truncated(void **state)
{
	struct raw r;

	raw_init(&r);
	raw_head(&r, 3, WIRE_VERSION, "apply");
	raw_str(&r, "text");
	raw_str(&r, "policy drop");
	/* every cut short of the whole is truncated, never a crash */
	for (size_t n = 1; n < r.sb.size; n++)
		expect_error(r.sb.data, n, "message is truncated");
	msgpack_sbuffer_destroy(&r.sb);
}

static void test_hostile_counts(void **state)
{
	/* map32 of 2^32-1 pairs in six bytes: refused before any allocation */
	static const uint8_t map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0 };
	/* str32 of 4 GiB */
	static const uint8_t str[] = { 0x81, 0xa1, 'v',	 0xdb,
				       0xff, 0xff, 0xff, 0xff };
	/* 0xc1 is never used in msgpack */
	static const uint8_t never[] = { 0x81, 0xa1, 'v', 0xc1 };

	expect_error(map, sizeof(map), "message is truncated");
	expect_error(str, sizeof(str), "message is truncated");
	expect_error(never, sizeof(never), "malformed msgpack at byte 3");
}

/*
 * Containers nested as deep as the writer goes parse; one more level is
 * refused by name (msgpack-c alone would call it out of memory, at 32).
 */
static void test_nesting(void **state)
{
	for (int levels = WIRE_MAX_DEPTH; levels <= 40; levels += 32) {
		struct wire_msg m;
		struct wire_err e = { "" };
		struct raw r;
		int ret;

		raw_init(&r);
		raw_head(&r, 3, WIRE_VERSION, "status");
		raw_str(&r, "deep");
		for (int i = 1; i < levels; i++) /* the root map is level 1 */
			msgpack_pack_array(&r.pk, 1);
		msgpack_pack_nil(&r.pk);
		ret = wire_parse(&m, r.sb.data, r.sb.size, &e);
		if (levels == WIRE_MAX_DEPTH) {
			assert_int_equal(ret, 0);
			assert_string_equal(m.type, "status");
		} else {
			/* 21 bytes of map header and pairs, then an array
			 * per level from level 2: level 9 starts at byte 28 */
			assert_int_equal(ret, -EBADMSG);
			assert_string_equal(
				e.msg, "message nests deeper than 8 levels at byte 28");
		}
		wire_msg_free(&m);
		msgpack_sbuffer_destroy(&r.sb);
	}
}

/*
 * Empty strings and byte strings: read, copied and written again without
 * giving a mem*() function the pointer msgpack-c leaves in an empty
 * string, which is NULL when no string came before it (clang's UBSan: a
 * nonnull-attribute error; the wire fuzzer found one).  gcc's UBSan does
 * not check those calls, so the test asks wire_get_strv() for its
 * pointer: never NULL.
 */
static void test_empty_strings(void **state)
{
	struct wire_writer w;
	struct wire_msg m, back;
	struct wire_err e = { "" };
	const msgpack_object *copy;
	const char *payload, *s;
	char buf[16] = "x";
	struct raw r;
	size_t len, n;

	raw_init(&r);
	msgpack_pack_map(&r.pk, 5);
	raw_str(&r, ""); /* the first strings of all: NULL pointers */
	raw_str(&r, "");
	raw_str(&r, "v");
	msgpack_pack_uint64(&r.pk, WIRE_VERSION);
	raw_str(&r, "type");
	raw_str(&r, "status");
	raw_str(&r, "name");
	raw_str(&r, "the name");
	raw_str(&r, "blob");
	msgpack_pack_bin(&r.pk, 0);
	assert_int_equal(wire_parse(&m, r.sb.data, r.sb.size, &e), 0);

	assert_int_equal(wire_get_strv(m.root, "", &s, &n, &e), 0);
	assert_non_null(s);
	assert_int_equal(n, 0);
	assert_int_equal(wire_get_str(m.root, "", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "");

	/* the whole map written again, inside another, the empty key too */
	wire_writer_init(&w);
	wire_begin(&w, "status");
	wire_key(&w, "copy");
	wire_object(&w, m.root);
	payload = finish(&w, &len);
	assert_int_equal(wire_parse(&back, payload, len, &e), 0);
	copy = wire_find(back.root, "copy");
	assert_non_null(copy);
	assert_int_equal(wire_get_str(copy, "", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "");
	assert_int_equal(wire_get_str(copy, "name", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "the name");

	wire_msg_free(&back);
	wire_writer_free(&w);
	wire_msg_free(&m);
	msgpack_sbuffer_destroy(&r.sb);
}

static void test_envelope(void **state)
{
	static const uint8_t array[] = { 0x90 };
	struct raw r;

	expect_error("", 0, "empty message");
	expect_error(array, sizeof(array), "message is not a map");

	raw_init(&r);
	raw_head(&r, 2, WIRE_VERSION + 1, "status");
	expect_error(r.sb.data, r.sb.size,
		     "protocol version 2 is not supported (this end speaks 1)");
	msgpack_sbuffer_destroy(&r.sb);

	raw_init(&r);
	msgpack_pack_map(&r.pk, 1);
	raw_str(&r, "type");
	raw_str(&r, "status");
	expect_error(r.sb.data, r.sb.size, "missing key 'v'");
	msgpack_sbuffer_destroy(&r.sb);

	raw_init(&r);
	msgpack_pack_map(&r.pk, 2);
	raw_str(&r, "v");
	msgpack_pack_uint8(&r.pk, WIRE_VERSION);
	raw_str(&r, "type");
	msgpack_pack_uint8(&r.pk, 1);
	expect_error(r.sb.data, r.sb.size, "key 'type' is not a string");
	msgpack_sbuffer_destroy(&r.sb);
}

static void test_writer_misuse(void **state)
{
	struct wire_writer w;
	const char *f;
	size_t n;

	wire_writer_init(&w);
	wire_begin(&w, "x");
	wire_uint(&w, 1); /* a value where a key belongs */
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), -EINVAL);

	wire_begin(&w, "x");
	wire_key(&w, "a");
	wire_map_open(&w); /* left open */
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), -EINVAL);

	wire_begin(&w, "x");
	wire_key(&w, "a");
	wire_key(&w, "b"); /* two keys in a row */
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), -EINVAL);

	/* and the writer recovers at the next frame */
	wire_begin(&w, "x");
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &n), 0);
	wire_writer_free(&w);
}

static void test_oversize(void **state)
{
	char *big = malloc(2000);
	struct wire_writer w;
	struct wire_inbuf in;
	const char *f, *p;
	size_t n, room;
	void *space;

	memset(big, 'a', 2000);
	wire_writer_init(&w);
	for (int i = 0; i < 2; i++) {
		wire_begin(&w, "apply");
		wire_key(&w, "text");
		wire_strn(&w, big, 2000);
		/* too big for 1000 bytes, fine for 4000 */
		assert_int_equal(wire_end(&w, i ? 4000 : 1000, &f, &n),
				 i ? 0 : -EMSGSIZE);
	}

	/* a reader with a 1000-byte limit refuses it from the prefix alone */
	wire_inbuf_init(&in, 1000);
	assert_int_equal(wire_inbuf_space(&in, &space, &room), 0);
	memcpy(space, f, WIRE_HDR_LEN);
	wire_inbuf_commit(&in, WIRE_HDR_LEN);
	assert_int_equal(wire_inbuf_frame(&in, &p, &n), -EMSGSIZE);
	wire_inbuf_free(&in);
	wire_writer_free(&w);
	free(big);
}

static void test_inbuf_pieces(void **state)
{
	struct wire_writer w;
	struct wire_inbuf in;
	struct wire_msg m;
	struct wire_err e;
	const char *f, *p;
	char two[256];
	size_t n, flen, room;
	void *space;

	wire_writer_init(&w);
	wire_begin(&w, "status");
	assert_int_equal(wire_end(&w, WIRE_MAX_FRAME, &f, &flen), 0);
	assert_true(2 * flen <= sizeof(two));
	memcpy(two, f, flen);
	memcpy(two + flen, f, flen);

	/* two frames arriving a byte at a time */
	wire_inbuf_init(&in, WIRE_MAX_FRAME);
	for (size_t i = 0; i < 2 * flen; i++) {
		assert_int_equal(wire_inbuf_space(&in, &space, &room), 0);
		assert_true(room >= 1);
		memcpy(space, two + i, 1);
		wire_inbuf_commit(&in, 1);
		if (i + 1 == flen || i + 1 == 2 * flen) {
			assert_int_equal(wire_inbuf_frame(&in, &p, &n), 1);
			assert_int_equal(n, flen - WIRE_HDR_LEN);
			assert_int_equal(wire_parse(&m, p, n, &e), 0);
			assert_string_equal(m.type, "status");
			wire_msg_free(&m);
		} else {
			/* a partial frame is not a frame, nor an error */
			assert_int_equal(wire_inbuf_frame(&in, &p, &n), 0);
			assert_true(wire_inbuf_pending(&in) > 0);
		}
	}
	assert_int_equal(wire_inbuf_pending(&in), 0);

	/* two frames in one receive */
	assert_int_equal(wire_inbuf_space(&in, &space, &room), 0);
	memcpy(space, two, 2 * flen);
	wire_inbuf_commit(&in, 2 * flen);
	assert_int_equal(wire_inbuf_frame(&in, &p, &n), 1);
	assert_int_equal(wire_inbuf_frame(&in, &p, &n), 1);
	assert_int_equal(wire_inbuf_frame(&in, &p, &n), 0);

	/* end of stream inside a frame: pending says it was cut short */
	assert_int_equal(wire_inbuf_space(&in, &space, &room), 0);
	memcpy(space, two, flen - 1);
	wire_inbuf_commit(&in, flen - 1);
	assert_int_equal(wire_inbuf_frame(&in, &p, &n), 0);
	assert_int_equal(wire_inbuf_pending(&in), flen - 1);

	wire_inbuf_free(&in);
	wire_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing_and_mistyped),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hostile_counts),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_empty_strings),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_inbuf_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
