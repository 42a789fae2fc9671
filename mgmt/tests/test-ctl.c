// SPDX-License-Identifier: GPL-2.0-only
/* The local control protocol: each message both ways, and bad requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

/* Encode with @w, then parse what it wrote into @m. */
static void reparse(struct wire_writer *w, struct wire_msg *m)
{
	struct wire_err e = { "" };
	const char *f;
	size_t n;

	assert_int_equal(wire_end(w, WIRE_MAX_FRAME_LOCAL, &f, &n), 0);
	assert_int_equal(wire_parse(m, f + WIRE_HDR_LEN, n - WIRE_HDR_LEN, &e),
			 0);
}

static void test_requests(void **state)
{
	static const char text[] = "policy drop\nallow ssh tcp dport 22\n";
	struct ctl_request in[] = {
		{ .type = CTL_APPLY,
		  .text = text,
		  .text_len = sizeof(text) - 1,
		  .name = "/etc/moat/ruleset",
		  .force = true },
		{ .type = CTL_APPLY, .text = "", .name = "empty" },
		{ .type = CTL_APPLY,
		  .text = text,
		  .text_len = sizeof(text) - 1,
		  .name = "analyzed",
		  .analyzed = true },
		{ .type = CTL_STATUS },
		{ .type = CTL_DETACH, .iface = "veth-a" },
		{ .type = CTL_RELOAD },
	};
	struct wire_writer w;

	wire_writer_init(&w);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct ctl_request out;
		struct wire_msg m;
		struct wire_err e;

		ctl_request_encode(&w, &in[i]);
		reparse(&w, &m);
		assert_string_equal(m.type, ctl_type_name(in[i].type));
		assert_int_equal(ctl_request_decode(&m, &out, &e), 0);
		assert_int_equal(out.type, in[i].type);
		assert_int_equal(out.text_len, in[i].text_len);
		if (in[i].text_len)
			assert_memory_equal(out.text, in[i].text,
					    in[i].text_len);
		assert_string_equal(out.name, in[i].name);
		assert_int_equal(out.force, in[i].force);
		assert_int_equal(out.analyzed, in[i].analyzed);
		assert_string_equal(out.iface, in[i].iface);
		wire_msg_free(&m);
	}
	wire_writer_free(&w);
}

static void expect_refused(struct wire_writer *w, const char *want)
{
	struct ctl_request r;
	struct wire_msg m;
	struct wire_err e = { "" };

	reparse(w, &m);
	assert_int_equal(ctl_request_decode(&m, &r, &e), -EBADMSG);
	assert_string_equal(e.msg, want);
	wire_msg_free(&m);
}

static void test_bad_requests(void **state)
{
	struct wire_writer w;

	wire_writer_init(&w);
	wire_begin(&w, "apply");
	wire_put_str(&w, "name", "x");
	expect_refused(&w, "missing key 'text'");

	wire_begin(&w, "apply");
	wire_put_str(&w, "text", "");
	expect_refused(&w, "missing key 'name'");

	wire_begin(&w, "apply");
	wire_put_str(&w, "text", "");
	wire_put_str(&w, "name", "x");
	wire_put_str(&w, "force", "yes");
	expect_refused(&w, "key 'force' is not a boolean");

	wire_begin(&w, "apply");
	wire_put_str(&w, "text", "");
	wire_put_str(&w, "name", "x");
	wire_put_uint(&w, "analyzed", 1);
	expect_refused(&w, "key 'analyzed' is not a boolean");

	wire_begin(&w, "detach");
	wire_put_str(&w, "iface", "a-name-that-is-too-long");
	expect_refused(&w, "key 'iface' is longer than 15 bytes");

	wire_begin(&w, "detach");
	wire_put_uint(&w, "iface", 2);
	expect_refused(&w, "key 'iface' is not a string");

	wire_begin(&w, "shutdown");
	expect_refused(&w, "unknown request type 'shutdown'");
	wire_writer_free(&w);
}

static void test_applied_reply(void **state)
{
	struct moat_diag dv[] = {
		{ MOAT_WARNING, 3, 7,
		  "interface 'eth9' is not protected: 'eth9'" },
		{ MOAT_ERROR, 0, 0, "whole-file error" },
	};
	struct moat_diags d = { .v = dv, .n = 2, .nerrors = 1 };
	struct moat_apply_stats st = {
		.generation = 42,
		.parse_ns = 1,
		.compile_ns = 2,
		.load_ns = 3,
		.switch_ns = 4,
		.total_ns = 10,
		.enforce_ns = 9,
		.nrules = 5,
		.nterms = 6,
		.nlists = 7,
		.max_list = 8,
		.map_bytes = 1ull << 40,
	};
	struct wire_writer w;
	struct ctl_reply r;
	struct wire_msg m;
	struct wire_err e;

	wire_writer_init(&w);
	ctl_reply_applied(&w, &st, &d, "/etc/moat/ruleset");
	reparse(&w, &m);
	assert_int_equal(ctl_reply_decode(&m, CTL_APPLY, &r, &e), 0);
	assert_true(r.ok);
	assert_true(r.has_stats);
	assert_memory_equal(&r.st, &st, sizeof(st));
	assert_int_equal(r.diags.n, 2);
	assert_int_equal(r.diags.nerrors, 1);
	assert_int_equal(r.diags.v[0].severity, MOAT_WARNING);
	assert_int_equal(r.diags.v[0].line, 3);
	assert_int_equal(r.diags.v[0].col, 7);
	assert_string_equal(r.diags.v[0].msg, dv[0].msg);
	assert_int_equal(r.diags.v[1].severity, MOAT_ERROR);
	assert_string_equal(r.file, "/etc/moat/ruleset");
	ctl_reply_free(&r);
	wire_msg_free(&m);

	ctl_reply_error(&w, "the ruleset has errors", &d, NULL);
	reparse(&w, &m);
	assert_int_equal(ctl_reply_decode(&m, CTL_APPLY, &r, &e), 0);
	assert_false(r.ok);
	assert_string_equal(r.msg, "the ruleset has errors");
	assert_int_equal(r.diags.n, 2);
	assert_string_equal(r.file, ""); /* optional, and absent */
	ctl_reply_free(&r);
	wire_msg_free(&m);

	ctl_reply_detached(&w, "eth0");
	reparse(&w, &m);
	assert_int_equal(ctl_reply_decode(&m, CTL_DETACH, &r, &e), 0);
	assert_true(r.ok);
	ctl_reply_free(&r);
	wire_msg_free(&m);

	/* an ok to apply without its stats is a broken reply */
	ctl_reply_detached(&w, "eth0");
	reparse(&w, &m);
	assert_int_equal(ctl_reply_decode(&m, CTL_APPLY, &r, &e), -EBADMSG);
	assert_string_equal(e.msg, "missing key 'generation'");
	ctl_reply_free(&r);
	wire_msg_free(&m);
	wire_writer_free(&w);
}

static void test_status_reply(void **state)
{
	/* static: padding is zero, so whole structs compare */
	static struct moat_dp_iface ifaces[] = {
		{ "eth0", 2, true, false, true, 101 },
		{ "veth-b", 7, true, true, false, 102 },
		{ "eth9", 0, false, false, false, 0 },
	};
	static struct ctl_status in = {
		.moatd = { true, 1234, 5000000000ull, "0.1.0",
			   "/etc/moat/moatd.conf", "/etc/moat/ruleset",
			   "/run/moat/default.sock" },
		.instance = "default",
		.pin_root = "/sys/fs/bpf/moat/default",
		.dp = { .has_generation = true,
			.info = { .generation = 9,
				  .applied_ns = 17,
				  .hash = { 0xde, 0xad, [31] = 0xef },
				  .nrules = 3,
				  .nterms = 4,
				  .policy_drop = 1,
				  .prog_id = 55,
				  .compile_ns = 999 },
			.capacity = 65536,
			.slots_used = 11,
			.ifaces = ifaces,
			.nifaces = 3 },
		.features = { .btf = true, .xdp = true, .tail_calls = false,
			      .bpf_loop = true, .xdp_load_bytes = true,
			      .mmap_arrays = false, .dispatcher = false,
			      .dispatcher_error = "the kernel refuses freplace programs" },
	};
	struct ctl_status *out = calloc(1, sizeof(*out));
	struct wire_writer w;
	struct wire_msg m;
	struct wire_err e;

	wire_writer_init(&w);
	ctl_reply_status(&w, &in);
	reparse(&w, &m);
	assert_int_equal(ctl_status_decode(&m, out, &e), 0);
	assert_memory_equal(&out->moatd, &in.moatd, sizeof(in.moatd));
	assert_string_equal(out->instance, in.instance);
	assert_string_equal(out->pin_root, in.pin_root);
	assert_true(out->dp.has_generation);
	assert_memory_equal(&out->dp.info, &in.dp.info, sizeof(in.dp.info));
	assert_int_equal(out->dp.capacity, 65536);
	assert_int_equal(out->dp.slots_used, 11);
	assert_int_equal(out->dp.nifaces, 3);
	assert_memory_equal(out->dp.ifaces, ifaces, sizeof(ifaces));
	assert_memory_equal(&out->features, &in.features, sizeof(in.features));
	ctl_status_free(out);
	wire_msg_free(&m);

	/* no generation yet: the key is absent, not zero */
	in.dp.has_generation = false;
	in.dp.nifaces = 0;
	ctl_reply_status(&w, &in);
	reparse(&w, &m);
	assert_int_equal(ctl_status_decode(&m, out, &e), 0);
	assert_false(out->dp.has_generation);
	assert_int_equal(out->dp.nifaces, 0);
	ctl_status_free(out);
	wire_msg_free(&m);
	wire_writer_free(&w);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_applied_reply),
		cmocka_unit_test(test_status_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
