// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the agent-channel tests share: a valid sample of every message,
 * and bad frames made from good ones (decode_edited()): a sample is encoded,
 * parsed, and written again with one key dropped or its value replaced,
 * so that each case differs from a valid frame in exactly one place.
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

static uint8_t der_a[] = { 0x30, 0x82, 0x01, 0x0a, 0x02, 0x01, 0x00 };
static uint8_t der_b[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static struct proto_label labels[] = { { "env", "prod" },
				       { "team/owner", "net ops" } };
static char rs_text[] = "policy drop\nallow ssh tcp dport 22\n";
static struct proto_counter counters[] = { { "ssh", 12, 960 },
					   { "(policy)", 3, 180 } };
static struct proto_iface ifaces[] = { { "eth0", "native" },
				       { "veth-moat-a", "generic" } };

void sample(enum proto_type t, struct proto_msg *m)
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
	case PROTO_DESIRED:
		m->desired.generation = 7;
		m->desired.has_ruleset = true;
		strcpy(m->desired.ruleset.name, "web");
		m->desired.ruleset.version = 3;
		m->desired.ruleset.text = rs_text;
		m->desired.ruleset.text_len = strlen(rs_text);
		strcpy(m->desired.ruleset.sha256,
		       "0f4a1e0c8b6d4c2e9f7a5b3c1d0e2f4a"
		       "0f4a1e0c8b6d4c2e9f7a5b3c1d0e2f4a");
		m->desired.ruleset.mode = PROTO_MODE_AUDIT;
		break;
	case PROTO_APPLIED:
		m->applied.generation = 7;
		m->applied.ok = false;
		strcpy(m->applied.error,
		       "web@v3:2:7: unknown protocol 'tcpx'");
		strcpy(m->applied.ruleset_hash,
		       "e3b0c44298fc1c149afbf4c8996fb924"
		       "27ae41e4649b934ca495991b7852b855");
		m->applied.drift = true;
		break;
	case PROTO_COUNTERS:
		m->counters.generation = 7;
		strcpy(m->counters.ruleset_hash,
		       "e3b0c44298fc1c149afbf4c8996fb924"
		       "27ae41e4649b934ca495991b7852b855");
		m->counters.rules = counters;
		m->counters.nrules = 2;
		break;
	case PROTO_COUNTERS_REQUEST:
		break;
	}
}

/* Decode a whole frame: 0 or the decoder's error, its reason in @e. */
int decode_frame(const char *f, size_t n, struct proto_msg *m,
		 struct wire_err *e)
{
	assert_true(n >= WIRE_HDR_LEN);
	assert_int_equal(wire_frame_len(f), n - WIRE_HDR_LEN);
	return proto_decode(f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, m, e);
}

static bool key_is(const msgpack_object *k, const char *s)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
	       !memcmp(wire_str_ptr(k), s, k->via.str.size);
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
			wire_object(w, &kv->val);
		}
	}
	/* a key the sample lacks (optional, or made up) is added */
	if (here && ed->put && !wire_find(map, ed->key)) {
		wire_key(w, ed->key);
		ed->put(w, ed->arg);
	}
}

/* Sample @t with @ed applied, decoded: the decoder's return value. */
int decode_edited(enum proto_type t, const struct edit *ed,
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

void expect_refused(enum proto_type t, const struct edit *ed, const char *want)
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
void expect_accepted(enum proto_type t, const struct edit *ed)
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

void put_uint(struct wire_writer *w, const void *arg)
{
	wire_uint(w, *(const uint64_t *)arg);
}

void put_str(struct wire_writer *w, const void *arg)
{
	wire_str(w, arg);
}

void put_bool(struct wire_writer *w, const void *arg)
{
	(void)arg;
	wire_bool(w, true);
}
