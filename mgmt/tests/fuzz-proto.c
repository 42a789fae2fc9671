// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the agent channel's decoder (mgmt/common/proto*.c):
 * the control plane runs it on whatever an anonymous TLS peer sends, and
 * moatd on whatever answers it.  The input is one frame's payload.
 *
 * What must hold:
 *   - proto_decode() returns 0, -EBADMSG, -EPROTONOSUPPORT or -ENOMEM,
 *     and a refusal says why (the reason goes back in an error frame);
 *   - whatever it accepts, proto_encode() can say again: the encoder
 *     holds messages to the same bounds, so a value the decoder lets
 *     through and the encoder refuses is a disagreement between the two;
 *   - the frame it writes decodes to the same message, field for field.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "%s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_msg m, again;
	struct wire_err e = { { 0 } };
	struct wire_writer w;
	const char *frame;
	size_t len;
	int ret;

	ret = proto_decode(data, size, &m, &e);
	if (ret) {
		check(ret == -EBADMSG || ret == -EPROTONOSUPPORT ||
			      ret == -ENOMEM,
		      "proto_decode() returned an unexpected error");
		check(ret == -ENOMEM || e.msg[0], "a refusal without a reason");
		proto_msg_free(&m);
		return 0;
	}

	wire_writer_init(&w);
	ret = proto_encode(&w, &m, &frame, &len, &e);
	if (ret) {
		fprintf(stderr,
			"the encoder cannot say what was decoded: %d %s\n", ret,
			e.msg);
		abort();
	}
	check(len >= WIRE_HDR_LEN &&
		      wire_frame_len(frame) == len - WIRE_HDR_LEN,
	      "the frame's length prefix is wrong");
	ret = proto_decode(frame + WIRE_HDR_LEN, len - WIRE_HDR_LEN, &again,
			   &e);
	if (ret) {
		fprintf(stderr, "encoded message does not decode: %s\n", e.msg);
		abort();
	}
	check(proto_msg_equal(&m, &again),
	      "decoded again, the message differs");
	proto_msg_free(&again);
	proto_msg_free(&m);
	wire_writer_free(&w);
	return 0;
}
