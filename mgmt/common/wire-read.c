// SPDX-License-Identifier: GPL-2.0-only
/* Reading frames: bounds first, then msgpack-c, then typed lookups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/*
 * Walk the msgpack encoding without building anything, so that no
 * count in it is trusted before it is known to fit: every item needs at
 * least one byte, so a container announcing more items than bytes remain
 * is rejected here, before msgpack-c allocates room for its items.  So is
 * nesting deeper than the writer's WIRE_MAX_DEPTH, which msgpack-c would
 * otherwise refuse as if it had run out of memory.
 */
static int walk(const uint8_t *p, size_t len, struct wire_err *e)
{
	uint64_t pending = 1; /* items still to read */
	uint64_t left[WIRE_MAX_DEPTH]; /* items still to read per open container */
	int depth = 0;
	size_t off = 0;

	while (pending) {
		size_t at = off, hl = 0; /* hl: bytes of the length/count field */
		uint64_t skip = 0, items = 0, n;
		uint8_t b;

		if (off == len)
			return wire_errf(e, "message is truncated");
		b = p[off++];
		pending--;
		if (depth)
			left[depth - 1]--;

		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			/* fixint, nil, false, true: the byte is the value */
		} else if (b <= 0x8f) {
			items = 2 * (uint64_t)(b & 0x0f);
		} else if (b <= 0x9f) {
			items = b & 0x0f;
		} else if (b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: /* bin 8/16/32 */
			case 0xd9: /* str 8/16/32 */
				hl = 1;
				break;
			case 0xc5:
			case 0xda:
				hl = 2;
				break;
			case 0xc6:
			case 0xdb:
				hl = 4;
				break;
			case 0xc7: /* ext 8/16/32: length, then a type byte */
				hl = 1;
				skip = 1;
				break;
			case 0xc8:
				hl = 2;
				skip = 1;
				break;
			case 0xc9:
				hl = 4;
				skip = 1;
				break;
			case 0xcc: /* uint8, int8 */
			case 0xd0:
				skip = 1;
				break;
			case 0xcd:
			case 0xd1:
				skip = 2;
				break;
			case 0xca: /* float32 */
			case 0xce:
			case 0xd2:
				skip = 4;
				break;
			case 0xcb:
			case 0xcf:
			case 0xd3:
				skip = 8;
				break;
			case 0xd4: /* fixext 1..16: type byte + data */
			case 0xd5:
			case 0xd6:
			case 0xd7:
			case 0xd8:
				skip = 1 + (1u << (b - 0xd4));
				break;
			case 0xdc:
			case 0xde:
				hl = 2;
				break;
			case 0xdd:
			case 0xdf:
				hl = 4;
				break;
			default: /* 0xc1 is never used */
				return wire_errf(
					e, "malformed msgpack at byte %zu",
					off - 1);
			}
		}

		if (hl) {
			if (len - off < hl)
				return wire_errf(e, "message is truncated");
			n = get_be(p + off, hl);
			off += hl;
			if (b == 0xdc || b == 0xdd)
				items = n;
			else if (b == 0xde || b == 0xdf)
				items = 2 * n;
			else
				skip += n;
		}
		if (skip > len - off)
			return wire_errf(e, "message is truncated");
		off += skip;
		pending += items;
		if (pending > len - off)
			return wire_errf(e, "message is truncated");
		if (items) {
			if (depth == WIRE_MAX_DEPTH)
				return wire_errf(
					e,
					"message nests deeper than %d levels at byte %zu",
					WIRE_MAX_DEPTH, at);
			left[depth++] = items;
		}
		while (depth && !left[depth - 1])
			depth--;
	}
	if (off != len)
		return wire_errf(e, "%zu bytes after the message's map",
				 len - off);
	return 0;
}

int wire_parse(struct wire_msg *m, const void *payload, size_t len,
	       struct wire_err *e)
{
	const uint8_t *p = payload;
	size_t off = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	msgpack_unpacked_init(&m->up);

	if (len == 0)
		return wire_errf(e, "empty message");
	if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
		return wire_errf(e, "message is not a map");
	ret = walk(p, len, e);
	if (ret < 0)
		return ret;

	switch (msgpack_unpack_next(&m->up, payload, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return -ENOMEM;
	default: /* e.g. nested deeper than msgpack-c's stack */
		return wire_errf(e, "malformed msgpack");
	}
	if (off != len) /* walk() agreed on the length; be sure anyway */
		return wire_errf(e, "%zu bytes after the message's map",
				 len - off);
	m->root = &m->up.data;

	ret = wire_get_uint(m->root, "v", &m->version, e);
	if (ret < 0)
		return ret;
	if (m->version != WIRE_VERSION)
		return wire_errf(
			e,
			"protocol version %llu is not supported (this end speaks %d)",
			(unsigned long long)m->version, WIRE_VERSION);
	return wire_get_str(m->root, "type", m->type, sizeof(m->type), e);
}

void wire_msg_free(struct wire_msg *m)
{
	msgpack_unpacked_destroy(&m->up);
	m->root = NULL;
}

const msgpack_object *wire_find(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == n &&
		    !memcmp(wire_str_ptr(&kv->key), key, n))
			return &kv->val;
	}
	return NULL;
}

static int lookup(const msgpack_object *map, const char *key,
		  msgpack_object_type type, const char *what,
		  const msgpack_object **o, struct wire_err *e)
{
	*o = wire_find(map, key);
	if (!*o)
		return wire_errf(e, "missing key '%s'", key);
	if ((*o)->type != type)
		return wire_errf(e, "key '%s' is not %s", key, what);
	return 0;
}

int wire_get_strv(const msgpack_object *map, const char *key, const char **s,
		  size_t *n, struct wire_err *e)
{
	const msgpack_object *o;
	int ret = lookup(map, key, MSGPACK_OBJECT_STR, "a string", &o, e);

	if (ret < 0)
		return ret;
	*s = wire_str_ptr(o);
	*n = o->via.str.size;
	return 0;
}

int wire_get_str(const msgpack_object *map, const char *key, char *buf,
		 size_t size, struct wire_err *e)
{
	const char *s;
	size_t n;
	int ret = wire_get_strv(map, key, &s, &n, e);

	if (ret < 0)
		return ret;
	if (n >= size)
		return wire_errf(e, "key '%s' is longer than %zu bytes", key,
				 size - 1);
	if (memchr(s, '\0', n))
		return wire_errf(e, "key '%s' holds a NUL byte", key);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int wire_get_uint(const msgpack_object *map, const char *key, uint64_t *v,
		  struct wire_err *e)
{
	const msgpack_object *o;
	int ret = lookup(map, key, MSGPACK_OBJECT_POSITIVE_INTEGER,
			 "an unsigned integer", &o, e);

	if (ret < 0)
		return ret;
	*v = o->via.u64;
	return 0;
}

int wire_get_int(const msgpack_object *map, const char *key, int64_t *v,
		 struct wire_err *e)
{
	const msgpack_object *o = wire_find(map, key);

	if (!o)
		return wire_errf(e, "missing key '%s'", key);
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return wire_errf(e, "key '%s' is not an integer", key);
	if (o->via.u64 > INT64_MAX)
		return wire_errf(e, "key '%s' is out of range: %llu", key,
				 (unsigned long long)o->via.u64);
	*v = (int64_t)o->via.u64;
	return 0;
}

int wire_get_u32(const msgpack_object *map, const char *key, uint32_t *v,
		 struct wire_err *e)
{
	uint64_t x;
	int ret = wire_get_uint(map, key, &x, e);

	if (ret < 0)
		return ret;
	if (x > UINT32_MAX)
		return wire_errf(e, "key '%s' is out of range: %llu", key,
				 (unsigned long long)x);
	*v = (uint32_t)x;
	return 0;
}

int wire_get_bool(const msgpack_object *map, const char *key, bool *v,
		  struct wire_err *e)
{
	const msgpack_object *o;
	int ret = lookup(map, key, MSGPACK_OBJECT_BOOLEAN, "a boolean", &o, e);

	if (ret < 0)
		return ret;
	*v = o->via.boolean;
	return 0;
}

int wire_get_bin(const msgpack_object *map, const char *key, const void **p,
		 size_t *n, struct wire_err *e)
{
	const msgpack_object *o;
	int ret = lookup(map, key, MSGPACK_OBJECT_BIN, "binary", &o, e);

	if (ret < 0)
		return ret;
	*p = o->via.bin.ptr;
	*n = o->via.bin.size;
	return 0;
}

int wire_get_array(const msgpack_object *map, const char *key,
		   const msgpack_object_array **a, struct wire_err *e)
{
	const msgpack_object *o;
	int ret = lookup(map, key, MSGPACK_OBJECT_ARRAY, "an array", &o, e);

	if (ret < 0)
		return ret;
	*a = &o->via.array;
	return 0;
}

int wire_get_map(const msgpack_object *map, const char *key,
		 const msgpack_object **sub, struct wire_err *e)
{
	return lookup(map, key, MSGPACK_OBJECT_MAP, "a map", sub, e);
}

int wire_opt_bool(const msgpack_object *map, const char *key, bool *v,
		  struct wire_err *e)
{
	if (!wire_find(map, key))
		return 0;
	return wire_get_bool(map, key, v, e);
}

void wire_inbuf_init(struct wire_inbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void wire_inbuf_free(struct wire_inbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->off = b->cap = 0;
}

/* Offer at least this much room per receive. */
#define INBUF_CHUNK 16384

int wire_inbuf_space(struct wire_inbuf *b, void **p, size_t *n)
{
	size_t cap;
	char *nd;

	/* frames handed out are done with: move what follows to the front */
	if (b->off) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < INBUF_CHUNK) {
		cap = b->cap ? b->cap : INBUF_CHUNK;
		while (cap - b->len < INBUF_CHUNK)
			cap *= 2;
		nd = realloc(b->data, cap);
		if (!nd)
			return -ENOMEM;
		b->data = nd;
		b->cap = cap;
	}
	*p = b->data + b->len;
	*n = b->cap - b->len;
	return 0;
}

void wire_inbuf_commit(struct wire_inbuf *b, size_t n)
{
	b->len += n;
}

int wire_inbuf_frame(struct wire_inbuf *b, const char **payload, size_t *len)
{
	size_t avail = b->len - b->off;
	uint32_t plen;

	if (avail < WIRE_HDR_LEN)
		return 0;
	plen = wire_frame_len(b->data + b->off);
	if (plen > b->max)
		return -EMSGSIZE;
	if (avail - WIRE_HDR_LEN < plen)
		return 0;
	*payload = b->data + b->off + WIRE_HDR_LEN;
	*len = plen;
	b->off += WIRE_HDR_LEN + plen;
	return 1;
}

size_t wire_inbuf_pending(const struct wire_inbuf *b)
{
	return b->len - b->off;
}
