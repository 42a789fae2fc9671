// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every control-plane command shares: the connection options, the
 * subcommand word, and sending the request its parser built.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cp.h"

bool cp_common_opt(struct moatctl *g, int ch, const char *arg)
{
	switch (ch) {
	case CP_OPT_SERVER:
		g->server = arg;
		return true;
	case CP_OPT_KEY_FILE:
		g->api_key_file = arg;
		return true;
	case CP_OPT_CACERT:
		g->cacert = arg;
		return true;
	case 'w':
		g->workspace = arg;
		return true;
	case 'j':
		g->json = true;
		return true;
	}
	return false;
}

void cp_usage_common(FILE *f)
{
	fprintf(f,
		"\n"
		"Connection (also before the command; else the environment, else\n"
		"~/.config/moat/moatctl.conf or /etc/moat/moatctl.conf):\n"
		"      --server URL         the control plane's API, https://HOST:PORT (MOAT_SERVER)\n"
		"      --api-key-file FILE  the API key (MOAT_API_KEY_FILE; MOAT_API_KEY: the key)\n"
		"      --cacert FILE        the control plane's CA certificate, PEM (MOAT_CACERT)\n"
		"  -w, --workspace NAME     the workspace, name or id (MOAT_WORKSPACE; \"default\")\n"
		"  -j, --json               the API's JSON reply, as it came\n"
		"  -h, --help               show this help\n");
}

int cp_subcommand(const char *cmd, const char *const *subs, int *argc,
		  char ***argv, void (*usage)(FILE *f), int *ret)
{
	const char *word = *argc > 1 ? (*argv)[1] : NULL;
	static char name[64];

	if (!word) {
		usage(stderr);
		*ret = EXIT_USAGE;
		return -1;
	}
	if (!strcmp(word, "-h") || !strcmp(word, "--help") ||
	    !strcmp(word, "help")) {
		usage(stdout);
		*ret = EXIT_OK;
		return -1;
	}
	for (int i = 0; subs[i]; i++) {
		if (strcmp(word, subs[i]))
			continue;
		(*argc)--;
		(*argv)++;
		/* getopt's messages then read "moatctl token create: ..." */
		snprintf(name, sizeof(name), "moatctl %s %s", cmd, subs[i]);
		(*argv)[0] = name;
		optind = 0;
		return i;
	}
	*ret = usage_error(cmd, "unknown %s command '%s'", cmd, word);
	return -1;
}

/* The options of a command that takes nothing but @nargs ID or NAME. */
int cp_parse_plain(struct moatctl *g, int argc, char **argv, const char *cmd,
		   int nargs, const char *words, void (*help)(FILE *f))
{
	static const struct option opts[] = { CP_OPTIONS, { 0 } };
	int ch, min = nargs < 0 ? -nargs : nargs;

	while ((ch = getopt_long(argc, argv, CP_SHORT, opts, NULL)) != -1) {
		if (ch == 'h') {
			help(stdout);
			return -1;
		}
		if (!cp_common_opt(g, ch, optarg))
			return usage_hint(cmd);
	}
	if (argc - optind < min)
		return usage_error(cmd, "expected %s %s", argv[0] + 8, words);
	if (nargs >= 0 && argc - optind > nargs)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind + nargs]);
	return EXIT_OK;
}

void cp_req_set(struct cp_req *r, const char *method, bool scoped,
		void (*print)(const struct cp_req *r, json_object *reply,
			      FILE *f, time_t now),
		const char *fmt, ...)
{
	va_list ap;

	r->method = method;
	r->scoped = scoped;
	r->print = print;
	va_start(ap, fmt);
	vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
}

void cp_req_free(struct cp_req *r)
{
	json_object_put(r->body);
	r->body = NULL;
}

int cp_run(struct moatctl *g, struct cp_req *r)
{
	struct cp_settings s;
	json_object *reply = NULL;
	char path[640];
	int ret;

	ret = cp_settings_load(g, &s);
	if (ret)
		return ret;
	snprintf(r->workspace, sizeof(r->workspace), "%s", s.workspace);
	if (r->prepare)
		ret = r->prepare(r, &s);
	if (ret) {
		explicit_bzero(s.api_key, sizeof(s.api_key));
		return ret;
	}
	snprintf(path, sizeof(path), "%s%s%s",
		 r->scoped ? "/v1/workspaces/" : "",
		 r->scoped ? s.workspace : "", r->path);
	ret = cp_call(&s, r->method, path, r->body, &reply);
	explicit_bzero(s.api_key, sizeof(s.api_key));
	if (ret)
		return ret;
	if (g->json) {
		if (reply)
			cp_print_json(reply, stdout);
	} else if (r->print) {
		r->print(r, reply, stdout, time(NULL));
	} else {
		printf("OK\n");
	}
	json_object_put(reply);
	return EXIT_OK;
}

int cp_command(struct moatctl *g, int argc, char **argv,
	       int (*parse)(struct moatctl *g, int argc, char **argv,
			    struct cp_req *r))
{
	struct cp_req r = { 0 };
	int ret = parse(g, argc, argv, &r);

	/* --help leaves no request */
	if (ret == EXIT_OK && r.method)
		ret = cp_run(g, &r);
	cp_req_free(&r);
	return ret;
}
