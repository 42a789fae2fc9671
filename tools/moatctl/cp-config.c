// SPDX-License-Identifier: GPL-2.0-only
/*
 * moatctl cp-config check [FILE]: parse moatctl.conf, say "configuration
 * OK" or where it is wrong, and change nothing (as 'smtpd -n').
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl cp-config check [FILE]\n"
		"\n"
		"Check moatctl's control-plane configuration: FILE, or the file moatctl\n"
		"reads (~/.config/moat/moatctl.conf, else /etc/moat/moatctl.conf).\n"
		"One \"KEY VALUE\" a line, '#' comments; keys: server, api-key-file,\n"
		"cacert, workspace.  Prints \"configuration OK\" or FILE:LINE: what is\n"
		"wrong (exit 1).  Does not read the key or connect.\n"
		"\n"
		"  -j, --json  {\"file\", \"ok\", \"error\", \"server\", \"api_key_file\",\n"
		"              \"cacert\", \"workspace\"}\n"
		"  -h, --help  show this help\n");
}

static void kopt(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

static void print_json(const char *path, int ret, const char *err,
		       const struct cp_source *s)
{
	json_object *o = json_object_new_object();

	kopt(o, "file", path);
	json_object_object_add(o, "ok", json_object_new_boolean(ret == 0));
	if (ret) {
		kopt(o, "error", err);
	} else {
		kopt(o, "server", s->server);
		kopt(o, "api_key_file", s->api_key_file);
		kopt(o, "cacert", s->cacert);
		kopt(o, "workspace", s->workspace);
	}
	cp_print_json(o, stdout);
	json_object_put(o);
}

int cmd_cp_config(struct moatctl *g, int argc, char **argv)
{
	static const char *const subs[] = { "check", NULL };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cp_source s;
	char path[4096], err[600];
	int ret = EXIT_OK, ch;

	if (cp_subcommand("cp-config", subs, &argc, &argv, usage, &ret) < 0)
		return ret;
	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (ch == 'j') {
			g->json = true;
		} else if (ch == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			return usage_hint("cp-config");
		}
	}
	if (argc - optind > 1)
		return usage_error("cp-config", "unexpected argument '%s'",
				   argv[optind + 1]);
	if (optind < argc)
		snprintf(path, sizeof(path), "%s", argv[optind]);
	else
		cp_config_path(path, sizeof(path));
	if (!path[0])
		return fail("no configuration file: neither ~/%s nor %s exists",
			    CP_USER_CONFIG, CP_SYSTEM_CONFIG);

	ret = cp_config_read(path, &s, err, sizeof(err));
	if (g->json)
		print_json(path, ret, err, &s);
	else if (ret)
		fprintf(stderr, "%s\n", err);
	else
		printf("configuration OK\n");
	cp_source_free(&s);
	return ret ? EXIT_USER : EXIT_OK;
}
