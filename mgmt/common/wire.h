/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The management wire format, shared by moatctl <-> moatd (a local unix
 * socket) and, later, moatd <-> moat-controlplane (TLS).
 *
 * A frame is a 4-byte big-endian payload length, then the payload: one
 * msgpack map that always carries
 *
 *   v     unsigned integer, WIRE_VERSION
 *   type  string, the message type
 *
 * and whatever keys that type defines.  Readers ignore keys they do not
 * know, reject a frame whose required key is missing or of the wrong
 * type, and reject bytes after the map.  When a map holds a key twice,
 * the first one counts.
 */
#ifndef MOAT_WIRE_H
#define MOAT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* One version for both ends; a frame of another version is rejected. */
#define WIRE_VERSION 1

#define WIRE_HDR_LEN 4

/* Frames from a network peer: bounded so that a peer cannot make us
 * buffer much before anything is authenticated or parsed. */
#define WIRE_MAX_FRAME (1u << 20)

/*
 * The root-only local socket carries whole ruleset texts: 1,048,576 rules
 * (MOAT_RULES_MAX) of about 60 bytes each.
 */
#define WIRE_MAX_FRAME_LOCAL (64u << 20)

#define WIRE_MAX_DEPTH 8

/* Messages of a failed read: "missing key 'text'". */
struct wire_err {
	char msg[200];
};

/*
 * Writer: msgpack into a growable buffer that starts with room for the
 * length prefix.  Maps and arrays are counted as they are written, so
 * callers need not know their sizes up front.  Errors stick: check once,
 * at wire_end().  A writer must not be copied while in use.
 */
struct wire_writer {
	char *buf;
	size_t len, cap;
	msgpack_packer pk;
	int err; /* first error, a negative errno */
	int depth;
	struct {
		size_t at; /* offset of the 32-bit count to patch */
		uint32_t n;
		bool map;
		bool key; /* a map key was written; its value is next */
	} open[WIRE_MAX_DEPTH];
};

void wire_writer_init(struct wire_writer *w);
void wire_writer_free(struct wire_writer *w);

/* Start a frame: resets @w, then writes the map with v and @type. */
void wire_begin(struct wire_writer *w, const char *type);

/*
 * Finish the frame.  Returns 0 with the whole frame (prefix included) in
 * @frame/@len, owned by @w until the next wire_begin(); -EMSGSIZE when the
 * payload is larger than @max; -EINVAL when maps or arrays are left open
 * or a value was written where a key belongs; -ENOMEM.
 */
int wire_end(struct wire_writer *w, size_t max, const char **frame,
	     size_t *len);

void wire_key(struct wire_writer *w, const char *key);
void wire_str(struct wire_writer *w, const char *s);
void wire_strn(struct wire_writer *w, const char *s, size_t n);
void wire_uint(struct wire_writer *w, uint64_t v);
void wire_int(struct wire_writer *w, int64_t v);
void wire_bool(struct wire_writer *w, bool v);
void wire_bin(struct wire_writer *w, const void *p, size_t n);
void wire_map_open(struct wire_writer *w);
void wire_map_close(struct wire_writer *w);
void wire_array_open(struct wire_writer *w);
void wire_array_close(struct wire_writer *w);

/*
 * Any value the reader can hand out, written again: strings, binaries,
 * integers, booleans, and arrays and maps of them with string keys.  nil,
 * floats, ext types and keys that are not C strings set the writer's
 * error (-EINVAL): the protocol never writes them.
 */
void wire_object(struct wire_writer *w, const msgpack_object *o);

/* A key and its value. */
void wire_put_str(struct wire_writer *w, const char *key, const char *s);
void wire_put_uint(struct wire_writer *w, const char *key, uint64_t v);
void wire_put_bool(struct wire_writer *w, const char *key, bool v);
void wire_put_bin(struct wire_writer *w, const char *key, const void *p,
		  size_t n);

/* Payload length announced by a 4-byte prefix. */
uint32_t wire_frame_len(const void *prefix);

/*
 * Reader of one payload.  msgpack-c does not copy strings and binaries:
 * what the getters hand out points into the payload (and into @m), so
 * both must outlive its use; wire_msg_free() releases @m.
 */
struct wire_msg {
	msgpack_unpacked up;
	const msgpack_object *root; /* the map */
	uint64_t version;
	char type[32];
};

/*
 * Parse a payload (the bytes after the prefix).  Checks that it is
 * exactly one map, bounded by its length, with v == WIRE_VERSION and a
 * type.  Returns 0 or -EBADMSG with @e saying why; @m needs
 * wire_msg_free() either way.
 */
int wire_parse(struct wire_msg *m, const void *payload, size_t len,
	       struct wire_err *e);
void wire_msg_free(struct wire_msg *m);

/*
 * A string object's bytes, never NULL: msgpack-c leaves an empty string's
 * pointer NULL, and no mem*() or str*() function may be given one, even
 * for no bytes.
 */
static inline const char *wire_str_ptr(const msgpack_object *o)
{
	return o->via.str.size ? o->via.str.ptr : "";
}

/* The value of @key in @map, NULL when absent (or @map is not a map). */
const msgpack_object *wire_find(const msgpack_object *map, const char *key);

/*
 * Required keys: 0, or -EBADMSG with "missing key 'K'" or "key 'K' is not
 * a string" in @e.
 */
int wire_get_strv(const msgpack_object *map, const char *key, const char **s,
		  size_t *n, struct wire_err *e);
/* A copy, NUL-terminated; rejects embedded NULs and strings that do not fit. */
int wire_get_str(const msgpack_object *map, const char *key, char *buf,
		 size_t size, struct wire_err *e);
int wire_get_uint(const msgpack_object *map, const char *key, uint64_t *v,
		  struct wire_err *e);
/* A signed 64-bit integer, in any msgpack integer format. */
int wire_get_int(const msgpack_object *map, const char *key, int64_t *v,
		 struct wire_err *e);
/* An unsigned integer that must fit 32 bits: wider is a broken peer. */
int wire_get_u32(const msgpack_object *map, const char *key, uint32_t *v,
		 struct wire_err *e);
int wire_get_bool(const msgpack_object *map, const char *key, bool *v,
		  struct wire_err *e);
int wire_get_bin(const msgpack_object *map, const char *key, const void **p,
		 size_t *n, struct wire_err *e);
int wire_get_array(const msgpack_object *map, const char *key,
		   const msgpack_object_array **a, struct wire_err *e);
int wire_get_map(const msgpack_object *map, const char *key,
		 const msgpack_object **sub, struct wire_err *e);

/* Optional keys: absent leaves *@v as it was. */
int wire_opt_bool(const msgpack_object *map, const char *key, bool *v,
		  struct wire_err *e);

int wire_errf(struct wire_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Inbound byte stream to frames, for readers that receive in pieces.
 * Holds at most one frame of up to @max payload bytes plus what follows.
 */
struct wire_inbuf {
	char *data;
	size_t len; /* bytes held */
	size_t off; /* start of the first frame not yet handed out */
	size_t cap;
	size_t max;
};

void wire_inbuf_init(struct wire_inbuf *b, size_t max);
void wire_inbuf_free(struct wire_inbuf *b);

/* Room for the next receive; -ENOMEM. */
int wire_inbuf_space(struct wire_inbuf *b, void **p, size_t *n);
void wire_inbuf_commit(struct wire_inbuf *b, size_t n);

/*
 * The next whole frame's payload: 1 and @payload/@len (valid until the
 * next call on @b), 0 when more bytes are needed, -EMSGSIZE when the
 * prefix announces more than @max.
 */
int wire_inbuf_frame(struct wire_inbuf *b, const char **payload, size_t *len);

/* Bytes of an incomplete frame: non-zero at EOF means it was cut short. */
size_t wire_inbuf_pending(const struct wire_inbuf *b);

#endif /* MOAT_WIRE_H */
