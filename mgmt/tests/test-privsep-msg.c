// SPDX-License-Identifier: GPL-2.0-only
/* The messages between moatd's two processes: round trips and refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privsep-msg.h"

static uint8_t key[] = "-----BEGIN PRIVATE KEY-----\nMIG...\n";
static uint8_t cert[] = { 0x30, 0x82, 0x01, 0x02 };
static uint8_t ca[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

static void fill_start(struct psmsg_start *m, bool with_id)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->host, "cp.example.net");
	m->port = 7443;
	strcpy(m->pin, "sha256:0123456789abcdef0123456789abcdef"
		       "0123456789abcdef0123456789abcdef");
	strcpy(m->token,
	       "moat-tok-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
	strcpy(m->hostname, "web-1");
	strcpy(m->machine_id, "0123456789abcdef0123456789abcdef");
	strcpy(m->agent_version, "0.1.0");
	m->boot_time = -5; /* a negative time survives as an int */
	m->applied_generation = with_id ? 12 : 0;
	m->counters_interval = 7;
	if (with_id) {
		m->id.key = (struct proto_blob){ key, sizeof(key) - 1 };
		m->id.cert = (struct proto_blob){ cert, sizeof(cert) };
		m->id.ca = (struct proto_blob){ ca, sizeof(ca) };
	}
}

static void test_start(void **state)
{
	struct psmsg_start in;
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	struct psmsg m;
	size_t len;

	(void)state;
	wire_writer_init(&w);
	for (int with_id = 0; with_id < 2; with_id++) {
		fill_start(&in, with_id);
		assert_int_equal(psmsg_encode_start(&w, &in, &frame, &len), 0);
		assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
		assert_int_equal(m.type, PSMSG_START);
		assert_string_equal(m.start.host, in.host);
		assert_int_equal(m.start.port, 7443);
		assert_string_equal(m.start.pin, in.pin);
		assert_string_equal(m.start.token, in.token);
		assert_string_equal(m.start.machine_id, in.machine_id);
		assert_int_equal(m.start.boot_time, -5);
		assert_int_equal(m.start.applied_generation, with_id ? 12 : 0);
		assert_int_equal(m.start.counters_interval, 7);
		assert_int_equal(psmsg_identity_present(&m.start.id), with_id);
		if (with_id) {
			assert_memory_equal(m.start.id.key.p, key,
					    sizeof(key) - 1);
			assert_int_equal(m.start.id.ca.n, sizeof(ca));
		}
		psmsg_free(&m);
	}
	/* no token: the key is absent, and the decoded one empty */
	fill_start(&in, false);
	in.token[0] = '\0';
	assert_int_equal(psmsg_encode_start(&w, &in, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_string_equal(m.start.token, "");
	psmsg_free(&m);
	/* counters every 0 s, or past an hour: the config never says so */
	in.counters_interval = 0;
	assert_int_equal(psmsg_encode_start(&w, &in, &frame, &len), 0);
	assert_int_not_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_non_null(strstr(e.msg, "'counters_interval' is out of range: 0"));
	in.counters_interval = CONFIG_COUNTERS_INTERVAL_MAX + 1;
	assert_int_equal(psmsg_encode_start(&w, &in, &frame, &len), 0);
	assert_int_not_equal(psmsg_decode(frame, len, &m, &e), 0);
	wire_writer_free(&w);
}

static void test_state_and_request(void **state)
{
	struct psmsg_state_msg in = {
		.state = PSMSG_BACKOFF,
		.host_id = "habcdefghij",
		.workspace_id = "wabcdefghij",
		.workspace = "default",
		.last_heartbeat = 1795900123,
		.last_error = "connect to port 7443: Connection refused",
	};
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	struct psmsg m;
	size_t len;

	(void)state;
	wire_writer_init(&w);
	assert_int_equal(psmsg_encode_state(&w, &in, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_int_equal(m.type, PSMSG_STATE);
	assert_int_equal(m.state.state, PSMSG_BACKOFF);
	assert_string_equal(m.state.host_id, in.host_id);
	assert_string_equal(m.state.workspace, "default");
	assert_int_equal(m.state.last_heartbeat, in.last_heartbeat);
	assert_string_equal(m.state.last_error, in.last_error);
	psmsg_free(&m);

	assert_int_equal(psmsg_encode_status_request(&w, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_int_equal(m.type, PSMSG_STATUS_REQUEST);
	psmsg_free(&m);

	for (int i = 0; i < PSMSG_NSTATES; i++)
		assert_int_equal(psmsg_state_parse(psmsg_state_name(i)), i);
	assert_int_equal(psmsg_state_parse("asleep"), -1);
	wire_writer_free(&w);
}

static void test_status(void **state)
{
	struct proto_iface ifs[] = { { "eth0", "native" },
				     { "veth-a", "generic" } };
	struct proto_heartbeat hb = {
		.seq = 9, /* written as 0: the session process numbers them */
		.time = 77,
		.agent_version = "0.1.0",
		.uptime = 86400,
		.kernel = "6.18.0",
		.load = { 12, 30, 5 },
		.mem_total = 8ull << 30,
		.mem_available = 5ull << 30,
		.dataplane = { .instance = "default",
			       .generation = 3,
			       .ifaces = ifs,
			       .nifaces = 2,
			       .ct_entries = 117,
			       .ct_max = 65536,
			       .state = PROTO_DP_ENFORCING },
	};
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	struct psmsg m;
	size_t len;

	(void)state;
	wire_writer_init(&w);
	assert_int_equal(psmsg_encode_status(&w, &hb, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_int_equal(m.type, PSMSG_STATUS);
	assert_int_equal(m.status.seq, 0);
	assert_int_equal(m.status.time, 0);
	assert_int_equal(m.status.uptime, 86400);
	assert_int_equal(m.status.dataplane.nifaces, 2);
	assert_string_equal(m.status.dataplane.ifaces[1].mode, "generic");
	assert_int_equal(m.status.dataplane.ct_entries, 117);
	psmsg_free(&m);

	/* what the agent channel refuses, the parent cannot send */
	strcpy(ifs[0].mode, "Native");
	assert_int_equal(psmsg_encode_status(&w, &hb, &frame, &len), -EINVAL);
	wire_writer_free(&w);
}

/* Packets a broken or hostile session process could send. */
static void test_refused(void **state)
{
	static const struct {
		const char *name;
		const char *key; /* the key to spoil, NULL: the type */
	} cases[] = {
		{ "unknown type", NULL },
		{ "state of no name", "state" },
		{ "a str where an int belongs", "last_heartbeat" },
	};
	struct psmsg_state_msg in = { .state = PSMSG_CONNECTED };
	struct psmsg_identity id = { 0 };
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	struct psmsg m;
	size_t len;
	char buf[256];

	(void)state;
	wire_writer_init(&w);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wire_begin(&w, cases[i].key ? "state" : "goodbye");
		wire_put_str(&w, "state",
			     strcmp(cases[i].name, "state of no name") ?
				     "connected" :
				     "asleep");
		wire_put_str(&w, "host_id", "");
		wire_put_str(&w, "workspace_id", "");
		wire_put_str(&w, "workspace", "");
		wire_put_str(&w, "last_heartbeat", "yesterday");
		wire_put_str(&w, "last_error", "");
		assert_int_equal(wire_end(&w, PSMSG_MAX, &frame, &len), 0);
		assert_int_equal(psmsg_decode(frame, len, &m, &e), -EBADMSG);
		psmsg_free(&m);
		print_message("%s: %s\n", cases[i].name, e.msg);
	}

	/* a packet cut short is not one frame */
	assert_int_equal(psmsg_encode_state(&w, &in, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len - 1, &m, &e), -EBADMSG);
	psmsg_free(&m);
	/* nor is one with a byte after it */
	memcpy(buf, frame, len);
	buf[len] = 0;
	assert_int_equal(psmsg_decode(buf, len + 1, &m, &e), -EBADMSG);
	psmsg_free(&m);

	/* an identity without its CA is no identity */
	id.key = (struct proto_blob){ key, sizeof(key) - 1 };
	id.cert = (struct proto_blob){ cert, sizeof(cert) };
	wire_begin(&w, "identity");
	wire_put_bin(&w, "key", id.key.p, id.key.n);
	wire_put_bin(&w, "cert", id.cert.p, id.cert.n);
	assert_int_equal(wire_end(&w, PSMSG_MAX, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), -EBADMSG);
	assert_string_equal(e.msg, "missing key 'ca'");
	psmsg_free(&m);
	wire_writer_free(&w);
}

/* @pm through the socketpair's encoder and decoder: the same message. */
static void round_trip(const struct proto_msg *pm, enum psmsg_type t)
{
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	struct psmsg m;
	size_t len;

	wire_writer_init(&w);
	assert_int_equal(psmsg_encode_proto(&w, pm, &frame, &len), 0);
	assert_true(len <= PSMSG_MAX);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_int_equal(m.type, t);
	assert_true(proto_msg_equal(pm, &m.proto));
	psmsg_free(&m);
	wire_writer_free(&w);
}

/*
 * desired, applied and counters pass between the processes as agent
 * channel messages; a desired of the largest text fits one packet.
 */
static void test_reconcile(void **state)
{
	static struct proto_counter rows[] = { { "ssh", 1, 60 },
					       { "(policy)", 2, 120 } };
	struct proto_msg pm = { .type = PROTO_DESIRED };
	struct proto_desired *d = &pm.desired;
	struct wire_writer w;
	struct wire_err e;
	const char *frame;
	struct psmsg m;
	size_t len;

	(void)state;
	d->generation = 9;
	d->has_ruleset = true;
	strcpy(d->ruleset.name, "web");
	d->ruleset.version = 2;
	d->ruleset.text_len = PROTO_TEXT_MAX;
	d->ruleset.text = malloc(PROTO_TEXT_MAX);
	assert_non_null(d->ruleset.text);
	memset(d->ruleset.text, '#', PROTO_TEXT_MAX);
	memset(d->ruleset.sha256, 'a', PROTO_HASH_LEN);
	d->ruleset.mode = PROTO_MODE_AUDIT;
	round_trip(&pm, PSMSG_DESIRED);
	free(d->ruleset.text);

	pm = (struct proto_msg){ .type = PROTO_APPLIED };
	pm.applied.generation = 9;
	strcpy(pm.applied.error, "web@v2:1:1: unknown keyword 'alow'");
	round_trip(&pm, PSMSG_APPLIED);

	pm = (struct proto_msg){ .type = PROTO_COUNTERS };
	pm.counters.generation = 9;
	memset(pm.counters.ruleset_hash, 'b', PROTO_HASH_LEN);
	pm.counters.rules = rows;
	pm.counters.nrules = 2;
	round_trip(&pm, PSMSG_COUNTERS);

	wire_writer_init(&w);
	assert_int_equal(psmsg_encode_counters_request(&w, &frame, &len), 0);
	assert_int_equal(psmsg_decode(frame, len, &m, &e), 0);
	assert_int_equal(m.type, PSMSG_COUNTERS_REQUEST);
	psmsg_free(&m);

	/* the other messages of the agent channel are not the parent's */
	pm = (struct proto_msg){ .type = PROTO_COUNTERS_REQUEST };
	assert_int_equal(psmsg_encode_proto(&w, &pm, &frame, &len), -EINVAL);
	wire_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_reconcile),
		cmocka_unit_test(test_state_and_request),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
