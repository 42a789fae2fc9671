// SPDX-License-Identifier: GPL-2.0-only
/* moatctl detach IFACE: the one way enforcement ends on an interface. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moatctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl detach IFACE\n"
		"\n"
		"Remove moat's XDP program from IFACE.  Asks moatd; when moatd is not\n"
		"running, detaches directly through the pinned data plane.  While IFACE is\n"
		"in moatd's configuration, a reload or restart attaches it again.\n"
		"\n"
		"  -h, --help  show this help\n");
}

/* moatd is down: do it ourselves, through the same library call. */
static int detach_direct(struct moatctl *g, const char *iface)
{
	struct moat_dp_opts o;
	struct moat_dp *dp;
	char root[256];
	int ret;

	moatctl_dp_opts(g, &o);
	moatctl_pin_root(g, root, sizeof(root));
	/* open_pinned first: a plain open would create an instance */
	ret = moat_dp_open_pinned(&o, &dp);
	if ((ret == -ENOENT || ret == -EACCES || ret == -EPERM) && geteuid())
		return fail(
			"moatd does not answer on %s, and detaching directly needs root",
			g->socket);
	if (ret == -ENOENT)
		return fail("nothing pinned at %s: nothing to detach", root);
	if (ret < 0)
		return fail("cannot open the pinned data plane at %s: %s", root,
			    strerror(-ret));
	moat_dp_close(dp);

	fprintf(stderr,
		"moatctl: moatd is not running; detaching %s directly\n",
		iface);
	ret = moat_dp_open(&o, &dp);
	if (ret < 0)
		return fail("cannot open the data plane at %s: %s", root,
			    strerror(-ret));
	ret = moat_dp_detach(dp, iface);
	moat_dp_close(dp);
	if (ret == -ENOENT)
		return fail("moat is not attached to %s", iface);
	if (ret == -ENODEV)
		return fail(
			"no interface %s in this network namespace; run moatctl in the namespace moatd protects (nsenter --net=...)",
			iface);
	if (ret == -EBUSY)
		return fail(
			"%s carries another moat instance's program, not '%s''s",
			iface, g->instance);
	if (ret < 0)
		return fail("cannot detach from %s: %s", iface, strerror(-ret));
	printf("detached from %s\n", iface);
	return EXIT_OK;
}

int cmd_detach(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl_request req = { .type = CTL_DETACH };
	struct ctl_reply r = { 0 };
	struct wire_msg m;
	struct wire_err e;
	char *buf = NULL;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_hint("detach");
		}
	}
	if (optind + 1 != argc)
		return usage_error("detach", "expected one IFACE");
	if (snprintf(req.iface, sizeof(req.iface), "%s", argv[optind]) >=
		    (int)sizeof(req.iface) ||
	    !req.iface[0])
		return usage_error("detach",
				   "'%s' is not an interface name (1-15 bytes)",
				   argv[optind]);

	ret = client_call(g, &req, &m, &buf);
	if (client_down(ret)) {
		ret = detach_direct(g, req.iface);
		goto out;
	}
	if (ret < 0) {
		ret = client_fail(g, ret);
		goto out;
	}
	if (ctl_reply_decode(&m, CTL_DETACH, &r, &e) < 0) {
		ret = fail("bad reply from moatd: %s", e.msg);
		goto out;
	}
	if (!r.ok) {
		ret = fail("moatd: %s", r.msg);
		goto out;
	}
	printf("detached from %s\n", req.iface);
	ret = EXIT_OK;
out:
	ctl_reply_free(&r);
	wire_msg_free(&m);
	free(buf);
	return ret;
}
