// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the wire codec (mgmt/common/wire*.c): the first code a
 * control-plane peer will reach, before anything is authenticated.
 *
 * The input is one control byte, then a byte stream as a socket would
 * deliver it:
 *
 *   bits 0-6  seed of the receive sizes for the third reassembly below
 *   bit 7     frame limit: set, 256 bytes; clear, WIRE_MAX_FRAME
 *
 * What must hold:
 *   - struct wire_inbuf hands out the same frames, in the same order,
 *     whether the stream arrives in one receive, a byte at a time or in
 *     seeded pieces, and they are the frames a plain walk over the
 *     length prefixes finds; an oversized prefix stops all of them at
 *     the same frame;
 *   - wire_parse() returns 0 or -EBADMSG, and a refusal says why (the
 *     callers print the reason, and moatd sends it back);
 *   - an accepted payload has a version and a type, its getters agree
 *     with the first key of each name, and the writer can say it again:
 *     encoding its values anew gives a frame that parses to the same
 *     values.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL_MAX 256

/* The frames of a stream, as a plain walk over the prefixes sees them. */
struct split {
	size_t *off, *len; /* room for size / WIRE_HDR_LEN + 1 frames */
	size_t n;
	bool oversize; /* frame n announces more than the limit */
	size_t pending; /* bytes of an incomplete last frame */
};

static void split_stream(const uint8_t *s, size_t len, size_t max,
			 struct split *sp)
{
	size_t off = 0;
	uint32_t plen;

	sp->n = 0;
	sp->oversize = false;
	while (len - off >= WIRE_HDR_LEN) {
		plen = wire_frame_len(s + off);
		if (plen > max) {
			sp->oversize = true;
			return;
		}
		if (len - off - WIRE_HDR_LEN < plen)
			break;
		sp->off[sp->n] = off + WIRE_HDR_LEN;
		sp->len[sp->n++] = plen;
		off += WIRE_HDR_LEN + plen;
	}
	sp->pending = len - off;
}

/* Receive sizes: 0, the whole stream at once; 1, a byte at a time; else seeded. */
static size_t next_chunk(unsigned mode, uint32_t *rng)
{
	if (mode == 0)
		return SIZE_MAX;
	if (mode == 1)
		return 1;
	*rng ^= *rng << 13;
	*rng ^= *rng >> 17;
	*rng ^= *rng << 5;
	/* mostly short receives, to cut prefixes; now and then a long one */
	return *rng % 8 ? 1 + *rng % 7 : 1 + *rng % 300;
}

static void reassemble(const uint8_t *s, size_t len, size_t max,
		       const struct split *sp, unsigned mode, uint32_t seed)
{
	struct wire_inbuf b;
	uint32_t rng = seed * 2654435761u + 1;
	size_t fed = 0, got = 0, room, n;
	const char *payload;
	void *p;
	int ret;

	wire_inbuf_init(&b, max);
	while (fed < len) {
		if (wire_inbuf_space(&b, &p, &room))
			abort();
		n = next_chunk(mode, &rng);
		if (n > len - fed)
			n = len - fed;
		if (n > room)
			n = room;
		memcpy(p, s + fed, n);
		wire_inbuf_commit(&b, n);
		fed += n;
		while ((ret = wire_inbuf_frame(&b, &payload, &n)) == 1) {
			if (got == sp->n || n != sp->len[got] ||
			    memcmp(payload, s + sp->off[got], n)) {
				fprintf(stderr,
					"receives of mode %u: frame %zu differs from the split's\n",
					mode, got);
				abort();
			}
			got++;
		}
		if (ret == -EMSGSIZE) {
			/* a reader drops the connection here */
			if (!sp->oversize || got != sp->n) {
				fprintf(stderr,
					"receives of mode %u: frame %zu is oversized, the split says not\n",
					mode, got);
				abort();
			}
			wire_inbuf_free(&b);
			return;
		}
		if (ret != 0)
			abort();
	}
	if (got != sp->n || sp->oversize ||
	    wire_inbuf_pending(&b) != sp->pending) {
		fprintf(stderr,
			"receives of mode %u: %zu frames, %zu pending; the split says %zu, %zu%s\n",
			mode, got, wire_inbuf_pending(&b), sp->n, sp->pending,
			sp->oversize ? ", oversized" : "");
		abort();
	}
	wire_inbuf_free(&b);
}

static bool str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	       !memcmp(wire_str_ptr(o), s, o->via.str.size);
}

/* A key the writer can write: a C string. */
static bool writable_key(const msgpack_object *k)
{
	return k->type == MSGPACK_OBJECT_STR &&
	       !memchr(wire_str_ptr(k), '\0', k->via.str.size);
}

/* Can the writer say @o with @depth containers open (the root's is 1)? */
static bool encodable(const msgpack_object *o, int depth)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		return true;
	case MSGPACK_OBJECT_ARRAY:
		if (depth == WIRE_MAX_DEPTH)
			return false;
		for (i = 0; i < o->via.array.size; i++)
			if (!encodable(&o->via.array.ptr[i], depth + 1))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		if (depth == WIRE_MAX_DEPTH)
			return false;
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];

			if (!writable_key(&kv->key) ||
			    !encodable(&kv->val, depth + 1))
				return false;
		}
		return true;
	default: /* nil, floats, ext: nothing in the protocol uses them */
		return false;
	}
}

static void put_key(struct wire_writer *w, const msgpack_object *k)
{
	char *s = strndup(wire_str_ptr(k), k->via.str.size);

	if (!s)
		abort();
	wire_key(w, s);
	free(s);
}

/* The root's entries other than the envelope, which the writer puts first. */
static bool is_envelope(const msgpack_object_kv *kv)
{
	return str_is(&kv->key, "v") || str_is(&kv->key, "type");
}

static void same_body(const msgpack_object *a, const msgpack_object *b)
{
	uint32_t i = 0, j = 0;

	for (;;) {
		while (i < a->via.map.size && is_envelope(&a->via.map.ptr[i]))
			i++;
		while (j < b->via.map.size && is_envelope(&b->via.map.ptr[j]))
			j++;
		if (i == a->via.map.size || j == b->via.map.size)
			break;
		if (!msgpack_object_equal(a->via.map.ptr[i].key,
					  b->via.map.ptr[j].key) ||
		    !msgpack_object_equal(a->via.map.ptr[i].val,
					  b->via.map.ptr[j].val)) {
			fprintf(stderr, "re-encoded entry %u differs\n", i);
			abort();
		}
		i++;
		j++;
	}
	if (i != a->via.map.size || j != b->via.map.size) {
		fprintf(stderr, "re-encoded message has other entries\n");
		abort();
	}
}

static void round_trip(const struct wire_msg *m)
{
	const msgpack_object *root = m->root;
	struct wire_writer w;
	struct wire_msg again;
	struct wire_err e = { { 0 } };
	const char *frame;
	size_t len;
	uint32_t i;

	/* the envelope is the writer's own; only the rest must be sayable */
	for (i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];

		if (!is_envelope(kv) &&
		    (!writable_key(&kv->key) || !encodable(&kv->val, 1)))
			return;
	}
	wire_writer_init(&w);
	wire_begin(&w, m->type);
	for (i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];

		if (is_envelope(kv))
			continue;
		put_key(&w, &kv->key);
		wire_object(&w, &kv->val);
	}
	if (wire_end(&w, WIRE_MAX_FRAME_LOCAL, &frame, &len)) {
		fprintf(stderr, "the writer cannot say what the reader read\n");
		abort();
	}
	if (len < WIRE_HDR_LEN || wire_frame_len(frame) != len - WIRE_HDR_LEN)
		abort();
	if (wire_parse(&again, frame + WIRE_HDR_LEN, len - WIRE_HDR_LEN, &e)) {
		fprintf(stderr, "re-encoded message does not parse: %s\n",
			e.msg);
		abort();
	}
	if (again.version != m->version || strcmp(again.type, m->type))
		abort();
	same_body(root, again.root);
	wire_msg_free(&again);
	wire_writer_free(&w);
}

/* Each getter against what the first key of that name holds. */
static void getters(const msgpack_object *map)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		const msgpack_object *first;
		struct wire_err e;
		char key[64], buf[32];
		const msgpack_object_array *a;
		const msgpack_object *sub;
		const void *p;
		const char *s;
		uint64_t u;
		uint32_t u32;
		size_t n;
		bool bv;
		int ok;

		if (!writable_key(&kv->key) ||
		    kv->key.via.str.size >= sizeof(key))
			continue;
		memcpy(key, wire_str_ptr(&kv->key), kv->key.via.str.size);
		key[kv->key.via.str.size] = '\0';
		first = wire_find(map, key);
		if (!first || first > &kv->val)
			abort(); /* the first one counts, and this one is there */

		ok = wire_get_uint(map, key, &u, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_POSITIVE_INTEGER) ||
		    (ok && u != first->via.u64))
			abort();
		ok = wire_get_u32(map, key, &u32, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
			   first->via.u64 <= UINT32_MAX))
			abort();
		ok = wire_get_bool(map, key, &bv, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_BOOLEAN))
			abort();
		if (wire_opt_bool(map, key, &bv, &e) != (ok ? 0 : -EBADMSG))
			abort();
		ok = wire_get_strv(map, key, &s, &n, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_STR))
			abort();
		if (!wire_get_str(map, key, buf, sizeof(buf), &e) &&
		    (!ok || strlen(buf) != n || memcmp(buf, s, n)))
			abort(); /* a copy is the whole string, without NULs */
		ok = wire_get_bin(map, key, &p, &n, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_BIN))
			abort();
		ok = wire_get_array(map, key, &a, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_ARRAY))
			abort();
		ok = wire_get_map(map, key, &sub, &e) == 0;
		if (ok != (first->type == MSGPACK_OBJECT_MAP))
			abort();
		/* once per map: duplicate keys must not multiply the work */
		if (ok && first == &kv->val)
			getters(sub);
	}
}

static void parse_payload(const uint8_t *p, size_t len)
{
	struct wire_err e = { { 0 } };
	struct wire_msg m;
	int ret = wire_parse(&m, p, len, &e);

	/* wire.h: 0, or -EBADMSG with @e saying why; callers print it */
	if (ret == -EBADMSG) {
		if (!e.msg[0] || !memchr(e.msg, '\0', sizeof(e.msg)))
			abort();
	} else if (ret == 0) {
		if (!m.root || m.root->type != MSGPACK_OBJECT_MAP ||
		    m.version != WIRE_VERSION || !memchr(m.type, '\0', 32))
			abort();
		getters(m.root);
		round_trip(&m);
	} else {
		fprintf(stderr, "wire_parse() returned %d, saying '%.*s'\n",
			ret, (int)sizeof(e.msg), e.msg);
		abort();
	}
	wire_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *s = data + 1;
	struct split sp = { 0 };
	size_t len, max;

	if (size < 1)
		return 0;
	len = size - 1;
	max = data[0] & 0x80 ? SMALL_MAX : WIRE_MAX_FRAME;
	sp.off = malloc((len / WIRE_HDR_LEN + 1) * sizeof(*sp.off));
	sp.len = malloc((len / WIRE_HDR_LEN + 1) * sizeof(*sp.len));
	if (!sp.off || !sp.len)
		abort();

	split_stream(s, len, max, &sp);
	reassemble(s, len, max, &sp, 0, 0);
	reassemble(s, len, max, &sp, 1, 0);
	reassemble(s, len, max, &sp, 2, data[0] & 0x7f);

	for (size_t i = 0; i < sp.n; i++)
		parse_payload(s + sp.off[i], sp.len[i]);
	free(sp.off);
	free(sp.len);
	return 0;
}
