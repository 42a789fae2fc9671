// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define MSGPACK_MAP32 0xdf
#define MSGPACK_ARRAY32 0xdd

static void put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

uint32_t wire_frame_len(const void *prefix)
{
	const uint8_t *p = prefix;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* msgpack_packer's sink: append to the writer's buffer. */
static int writer_append(void *data, const char *p, size_t n)
{
	struct wire_writer *w = data;
	size_t cap;
	char *nb;

	if (w->err)
		return -1;
	if (!n) /* an empty string's or byte string's body, maybe NULL */
		return 0;
	if (n > w->cap - w->len) {
		cap = w->cap ? w->cap : 4096;
		while (cap - w->len < n) {
			if (cap > SIZE_MAX / 2) {
				w->err = -ENOMEM;
				return -1;
			}
			cap *= 2;
		}
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = -ENOMEM;
			return -1;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

void wire_writer_init(struct wire_writer *w)
{
	memset(w, 0, sizeof(*w));
	msgpack_packer_init(&w->pk, w, writer_append);
}

void wire_writer_free(struct wire_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/*
 * Account for a value about to be written: in a map it must follow a key,
 * in an array it adds an item.
 */
static bool writer_value(struct wire_writer *w)
{
	if (w->err)
		return false;
	if (w->depth == 0) {
		w->err = -EINVAL; /* only wire_begin() writes the root */
		return false;
	}
	if (w->open[w->depth - 1].map) {
		if (!w->open[w->depth - 1].key) {
			w->err = -EINVAL;
			return false;
		}
		w->open[w->depth - 1].key = false;
	} else {
		w->open[w->depth - 1].n++;
	}
	return true;
}

/* A 32-bit count is patched at close: sizes need not be known up front. */
static void writer_open(struct wire_writer *w, bool map)
{
	char hdr[5] = { (char)(map ? MSGPACK_MAP32 : MSGPACK_ARRAY32) };

	if (w->depth == WIRE_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	if (writer_append(w, hdr, sizeof(hdr)) < 0)
		return;
	w->open[w->depth].at = w->len - 4;
	w->open[w->depth].n = 0;
	w->open[w->depth].map = map;
	w->open[w->depth].key = false;
	w->depth++;
}

static void writer_close(struct wire_writer *w, bool map)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->open[w->depth - 1].map != map ||
	    w->open[w->depth - 1].key) {
		w->err = -EINVAL;
		return;
	}
	w->depth--;
	put_be32(w->buf + w->open[w->depth].at, w->open[w->depth].n);
}

void wire_begin(struct wire_writer *w, const char *type)
{
	static const char prefix[WIRE_HDR_LEN];

	w->len = 0;
	w->err = 0;
	w->depth = 0;
	writer_append(w, prefix, sizeof(prefix));
	writer_open(w, true);
	wire_put_uint(w, "v", WIRE_VERSION);
	wire_put_str(w, "type", type);
}

int wire_end(struct wire_writer *w, size_t max, const char **frame, size_t *len)
{
	size_t payload;

	writer_close(w, true);
	if (!w->err && w->depth != 0)
		w->err = -EINVAL;
	if (w->err)
		return w->err;
	payload = w->len - WIRE_HDR_LEN;
	if (payload > max || payload > UINT32_MAX)
		return -EMSGSIZE;
	put_be32(w->buf, (uint32_t)payload);
	*frame = w->buf;
	*len = w->len;
	return 0;
}

void wire_key(struct wire_writer *w, const char *key)
{
	size_t n = strlen(key);

	if (w->err)
		return;
	if (w->depth == 0 || !w->open[w->depth - 1].map ||
	    w->open[w->depth - 1].key) {
		w->err = -EINVAL;
		return;
	}
	w->open[w->depth - 1].n++;
	w->open[w->depth - 1].key = true;
	msgpack_pack_str(&w->pk, n);
	msgpack_pack_str_body(&w->pk, key, n);
}

void wire_strn(struct wire_writer *w, const char *s, size_t n)
{
	if (n > UINT32_MAX)
		w->err = -EMSGSIZE;
	if (!writer_value(w))
		return;
	msgpack_pack_str(&w->pk, n);
	msgpack_pack_str_body(&w->pk, s, n);
}

void wire_str(struct wire_writer *w, const char *s)
{
	wire_strn(w, s, strlen(s));
}

void wire_uint(struct wire_writer *w, uint64_t v)
{
	if (writer_value(w))
		msgpack_pack_uint64(&w->pk, v);
}

void wire_int(struct wire_writer *w, int64_t v)
{
	if (writer_value(w))
		msgpack_pack_int64(&w->pk, v);
}

void wire_bool(struct wire_writer *w, bool v)
{
	if (!writer_value(w))
		return;
	if (v)
		msgpack_pack_true(&w->pk);
	else
		msgpack_pack_false(&w->pk);
}

void wire_bin(struct wire_writer *w, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		w->err = -EMSGSIZE;
	if (!writer_value(w))
		return;
	msgpack_pack_bin(&w->pk, n);
	msgpack_pack_bin_body(&w->pk, p, n);
}

void wire_map_open(struct wire_writer *w)
{
	if (writer_value(w))
		writer_open(w, true);
}

void wire_map_close(struct wire_writer *w)
{
	writer_close(w, true);
}

void wire_array_open(struct wire_writer *w)
{
	if (writer_value(w))
		writer_open(w, false);
}

void wire_array_close(struct wire_writer *w)
{
	writer_close(w, false);
}

static void object_key(struct wire_writer *w, const msgpack_object *k)
{
	char *s;

	if (k->type != MSGPACK_OBJECT_STR ||
	    memchr(wire_str_ptr(k), '\0', k->via.str.size)) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	s = strndup(wire_str_ptr(k), k->via.str.size);
	if (!s) {
		w->err = w->err ? w->err : -ENOMEM;
		return;
	}
	wire_key(w, s);
	free(s);
}

void wire_object(struct wire_writer *w, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		wire_bool(w, o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		wire_uint(w, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		wire_int(w, o->via.i64);
		break;
	case MSGPACK_OBJECT_STR:
		wire_strn(w, wire_str_ptr(o), o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		wire_bin(w, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		wire_array_open(w);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			wire_object(w, &o->via.array.ptr[i]);
		wire_array_close(w);
		break;
	case MSGPACK_OBJECT_MAP:
		wire_map_open(w);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			object_key(w, &o->via.map.ptr[i].key);
			wire_object(w, &o->via.map.ptr[i].val);
		}
		wire_map_close(w);
		break;
	default: /* nil, floats, ext */
		w->err = w->err ? w->err : -EINVAL;
		break;
	}
}

void wire_put_str(struct wire_writer *w, const char *key, const char *s)
{
	wire_key(w, key);
	wire_str(w, s);
}

void wire_put_uint(struct wire_writer *w, const char *key, uint64_t v)
{
	wire_key(w, key);
	wire_uint(w, v);
}

void wire_put_bool(struct wire_writer *w, const char *key, bool v)
{
	wire_key(w, key);
	wire_bool(w, v);
}

void wire_put_bin(struct wire_writer *w, const char *key, const void *p,
		  size_t n)
{
	wire_key(w, key);
	wire_bin(w, p, n);
}

int wire_errf(struct wire_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}
