// SPDX-License-Identifier: GPL-2.0-only
/* moatctl reload: what SIGHUP does, with the outcome on this terminal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "moatctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl reload\n"
		"\n"
		"Have moatd re-read its configuration file and the ruleset file it names,\n"
		"and apply them, as on SIGHUP ('systemctl reload moatd').  When either has\n"
		"errors, the running generation stays and the errors are printed.\n"
		"\n"
		"  -h, --help  show this help\n");
}

int cmd_reload(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl_request req = { .type = CTL_RELOAD };
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
			return usage_hint("reload");
		}
	}
	if (optind < argc)
		return usage_error("reload", "unexpected argument '%s'",
				   argv[optind]);

	ret = client_call(g, &req, &m, &buf);
	if (ret < 0) {
		ret = client_fail(g, ret);
		goto out;
	}
	if (ctl_reply_decode(&m, CTL_RELOAD, &r, &e) < 0) {
		ret = fail("bad reply from moatd: %s", e.msg);
		goto out;
	}
	/* about the ruleset file moatd read, or the config (file "") */
	moat_diags_print(&r.diags, r.file[0] ? r.file : NULL, stderr);
	if (!r.ok) {
		ret = fail("moatd: %s", r.msg);
		goto out;
	}
	printf("reloaded: generation %llu applied in %.1f ms (%u rules)\n",
	       (unsigned long long)r.st.generation, (double)r.st.total_ns / 1e6,
	       r.st.nrules);
	ret = EXIT_OK;
out:
	ctl_reply_free(&r);
	wire_msg_free(&m);
	free(buf);
	return ret;
}
